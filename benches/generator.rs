#![allow(missing_docs)] // criterion_group! generates undocumented functions
//! Generator resume/yield round trips: weft's `Gen` beside the `genawaiter` crate's
//! single-threaded (`rc`) generator, on the same work, in two settings:
//!
//! - `generator_send`: the generator is made where it is driven, so the compiler sees all of
//!   it and may inline the body into the loop;
//! - `generator_send_made_elsewhere`: it comes from a function that is not inlined, the way a
//!   generator function (`def countdown(n): ...`) is usually written and called.
//!
//! `cargo bench --bench generator`; `scripts/bench` runs it with the rest.

use std::future::Future;
use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const SENDS: u64 = 10_000;

/// Yields the running total of what it is sent.
#[inline(always)]
fn weft_totals() -> weft::generator::Gen<u64, u64> {
    weft::generator::Gen::new(|co| async move {
        let mut total = 0u64;
        loop {
            total += co.yield_(total).await?;
        }
    })
}

#[inline(always)]
fn genawaiter_totals() -> genawaiter::rc::Gen<u64, u64, impl Future<Output = ()>> {
    genawaiter::rc::Gen::new(|co| async move {
        let mut total = 0u64;
        loop {
            total += co.yield_(total).await;
        }
    })
}

#[inline(never)]
fn weft_totals_elsewhere() -> weft::generator::Gen<u64, u64> {
    weft_totals()
}

#[inline(never)]
fn genawaiter_totals_elsewhere() -> genawaiter::rc::Gen<u64, u64, impl Future<Output = ()>> {
    genawaiter_totals()
}

#[inline(always)]
fn drive_weft(mut g: weft::generator::Gen<u64, u64>) {
    g.start().unwrap();
    for i in 0..SENDS {
        let _ = black_box(g.send(i));
    }
}

#[inline(always)]
fn drive_genawaiter(mut g: genawaiter::rc::Gen<u64, u64, impl Future<Output = ()>>) {
    g.resume_with(0);
    for i in 0..SENDS {
        let _ = black_box(g.resume_with(i));
    }
}

fn round_trips(c: &mut Criterion) {
    let mut group = c.benchmark_group("generator_send");
    group.throughput(Throughput::Elements(SENDS));
    group.bench_function("weft Gen", |b| b.iter(|| drive_weft(weft_totals())));
    group.bench_function("genawaiter rc::Gen", |b| {
        b.iter(|| drive_genawaiter(genawaiter_totals()))
    });
    group.finish();

    let mut group = c.benchmark_group("generator_send_made_elsewhere");
    group.throughput(Throughput::Elements(SENDS));
    group.bench_function("weft Gen", |b| {
        b.iter(|| drive_weft(weft_totals_elsewhere()))
    });
    group.bench_function("genawaiter rc::Gen", |b| {
        b.iter(|| drive_genawaiter(genawaiter_totals_elsewhere()))
    });
    group.finish();
}

criterion_group!(benches, round_trips);
criterion_main!(benches);
