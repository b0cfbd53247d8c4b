#![allow(missing_docs)] // criterion_group! generates undocumented functions
//! Generator resume/yield round trips: weft's `Gen` beside the `genawaiter` crate's
//! single-threaded (`rc`) generator, on the same work, in three settings:
//!
//! - `generator_send`: the generator is made where it is driven, so the compiler sees all of
//!   it and may inline the body into the loop;
//! - `generator_send_made_elsewhere`: it comes from a function that is not inlined, the way a
//!   generator function (`def countdown(n): ...`) is usually written and called, and its type
//!   names its body's: weft's `Gen::new_typed`, genawaiter's `Gen<Y, R, F>`;
//! - `generator_send_nameable`: the same, but with a type that can be written down without
//!   naming the body (a struct field, a trait's return type): weft's `Gen<Y, S>` from
//!   `Gen::new`, genawaiter's `Gen` over a boxed `dyn Future`. Each pays a dynamic call a step.
//!
//! `cargo bench --bench generator`; `scripts/bench` runs it with the rest.

use std::convert::Infallible;
use std::future::Future;
use std::hint::black_box;
use std::pin::Pin;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use weft::generator::{Body, Co, Gen, Interrupt};

const SENDS: u64 = 10_000;

/// Yields the running total of what it is sent.
async fn totals(co: Co<u64, u64>) -> Result<(), Interrupt<Infallible>> {
    let mut total = 0u64;
    loop {
        total += co.yield_(total).await?;
    }
}

#[inline(always)]
fn weft_totals() -> Gen<u64, u64> {
    Gen::new(totals)
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
fn weft_totals_elsewhere() -> Gen<u64, u64> {
    weft_totals()
}

#[inline(never)]
fn weft_typed_totals_elsewhere()
-> Gen<u64, u64, (), Infallible, impl Body<u64, u64, (), Infallible>> {
    Gen::new_typed(totals)
}

#[inline(never)]
fn genawaiter_totals_elsewhere() -> genawaiter::rc::Gen<u64, u64, impl Future<Output = ()>> {
    genawaiter_totals()
}

/// genawaiter's generator with a type that does not name the body's.
type BoxedBody = Pin<Box<dyn Future<Output = ()>>>;

#[inline(never)]
fn genawaiter_boxed_totals_elsewhere() -> genawaiter::rc::Gen<u64, u64, BoxedBody> {
    genawaiter::rc::Gen::new(|co| {
        let body: BoxedBody = Box::pin(async move {
            let mut total = 0u64;
            loop {
                total += co.yield_(total).await;
            }
        });
        body
    })
}

#[inline(always)]
fn drive_weft<B: ?Sized + Body<u64, u64, (), Infallible>>(mut g: Gen<u64, u64, (), Infallible, B>) {
    g.start().unwrap();
    for i in 0..SENDS {
        let _ = black_box(g.send(i));
    }
}

#[inline(always)]
fn drive_genawaiter<F: Future<Output = ()>>(mut g: genawaiter::rc::Gen<u64, u64, F>) {
    g.resume_with(0);
    for i in 0..SENDS {
        let _ = black_box(g.resume_with(i));
    }
}

// The groups are written out, not made by a helper that takes each run as a closure: through
// such a helper LLVM no longer inlined either body into criterion's loop, and every number
// changed with it.
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
    group.bench_function("weft Gen::new_typed", |b| {
        b.iter(|| drive_weft(weft_typed_totals_elsewhere()))
    });
    group.bench_function("genawaiter rc::Gen", |b| {
        b.iter(|| drive_genawaiter(genawaiter_totals_elsewhere()))
    });
    group.finish();

    let mut group = c.benchmark_group("generator_send_nameable");
    group.throughput(Throughput::Elements(SENDS));
    group.bench_function("weft Gen::new", |b| {
        b.iter(|| drive_weft(weft_totals_elsewhere()))
    });
    group.bench_function("genawaiter rc::Gen, boxed body", |b| {
        b.iter(|| drive_genawaiter(genawaiter_boxed_totals_elsewhere()))
    });
    group.finish();
}

criterion_group!(benches, round_trips);
criterion_main!(benches);
