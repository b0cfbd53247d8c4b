#![allow(missing_docs)] // criterion_group! generates undocumented functions
//! Generator resume/yield round trips: weft's `Gen` beside the `genawaiter` crate's
//! single-threaded (`rc`) generator, on the same work, in one criterion group.
//!
//! `cargo bench --bench generator`; `scripts/bench` runs it with the rest.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const SENDS: u64 = 10_000;

fn round_trips(c: &mut Criterion) {
    let mut group = c.benchmark_group("generator_send");
    group.throughput(Throughput::Elements(SENDS));
    group.bench_function("weft Gen", |b| {
        b.iter(|| {
            let mut g: weft::generator::Gen<u64, u64> =
                weft::generator::Gen::new(|co| async move {
                    let mut total = 0u64;
                    loop {
                        total += co.yield_(total).await?;
                    }
                });
            g.start().unwrap();
            for i in 0..SENDS {
                let _ = std::hint::black_box(g.send(i));
            }
        })
    });
    group.bench_function("genawaiter rc::Gen", |b| {
        b.iter(|| {
            let mut g = genawaiter::rc::Gen::new(|co| async move {
                let mut total = 0u64;
                loop {
                    total += co.yield_(total).await;
                }
            });
            g.resume_with(0);
            for i in 0..SENDS {
                let _ = std::hint::black_box(g.resume_with(i));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, round_trips);
criterion_main!(benches);
