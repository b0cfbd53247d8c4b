#![allow(missing_docs)] // criterion_group! generates undocumented functions
//! Orchestration side by side: gathering many tasks (weft's `gather` beside tokio's `JoinSet`
//! and smol's tasks) and selecting between ready futures (weft's `select!` beside tokio's).
//!
//! `cargo bench --bench orchestrate`; `scripts/bench` runs it with the rest.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const TASKS: u64 = 1_000;
const SELECTS: u64 = 10_000;

fn gather(c: &mut Criterion) {
    let mut group = c.benchmark_group("gather_tasks");
    group.throughput(Throughput::Elements(TASKS));
    let weft = weft::Runtime::new().unwrap();
    group.bench_function("weft gather", |b| {
        b.iter(|| {
            weft.block_on(async {
                let handles: Vec<_> = (0..TASKS).map(|i| weft::spawn(async move { i })).collect();
                weft::task::gather(handles).await.len()
            })
        })
    });
    let tokio = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    group.bench_function("tokio JoinSet", |b| {
        b.iter(|| {
            tokio::task::LocalSet::new().block_on(&tokio, async {
                let mut set = tokio::task::JoinSet::new();
                for i in 0..TASKS {
                    set.spawn_local(async move { i });
                }
                let mut n = 0;
                while let Some(r) = set.join_next().await {
                    r.unwrap();
                    n += 1;
                }
                n
            })
        })
    });
    let smol = async_executor::LocalExecutor::new();
    group.bench_function("smol tasks", |b| {
        b.iter(|| {
            futures_lite::future::block_on(smol.run(async {
                let tasks: Vec<_> = (0..TASKS).map(|i| smol.spawn(async move { i })).collect();
                let mut n = 0;
                for t in tasks {
                    t.await;
                    n += 1;
                }
                n
            }))
        })
    });
    group.finish();
}

fn select(c: &mut Criterion) {
    let mut group = c.benchmark_group("select_ready");
    group.throughput(Throughput::Elements(SELECTS));
    let weft = weft::Runtime::new().unwrap();
    group.bench_function("weft select!", |b| {
        b.iter(|| {
            weft.block_on(async {
                let mut total = 0u64;
                for i in 0..SELECTS {
                    total += weft::select! {
                        a = async { i } => a,
                        b = async { i + 1 } => b,
                    };
                }
                total
            })
        })
    });
    let tokio = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    group.bench_function("tokio select!", |b| {
        b.iter(|| {
            tokio.block_on(async {
                let mut total = 0u64;
                for i in 0..SELECTS {
                    total += tokio::select! {
                        a = async { i } => a,
                        b = async { i + 1 } => b,
                    };
                }
                total
            })
        })
    });
    group.finish();
}

criterion_group!(benches, gather, select);
criterion_main!(benches);
