#![allow(missing_docs)] // criterion_group! generates undocumented functions
//! Synchronization primitives side by side: weft's, tokio's (on its current-thread runtime with a
//! LocalSet) and smol's companions (async-lock, async-channel on a LocalExecutor), on the same
//! work in one criterion group each. Throughput is per operation.
//!
//! `cargo bench --bench sync`; `scripts/bench` runs it with the rest.

use std::future::Future;
use std::rc::Rc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const OPS: u64 = 10_000;

fn tokio_local<F: Future>(rt: &tokio::runtime::Runtime, f: F) -> F::Output {
    tokio::task::LocalSet::new().block_on(rt, f)
}

fn smol_local<F: Future>(ex: &async_executor::LocalExecutor<'_>, f: F) -> F::Output {
    futures_lite::future::block_on(ex.run(f))
}

fn runtimes() -> (
    weft::Runtime,
    tokio::runtime::Runtime,
    async_executor::LocalExecutor<'static>,
) {
    (
        weft::Runtime::new().unwrap(),
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap(),
        async_executor::LocalExecutor::new(),
    )
}

fn uncontended_lock(c: &mut Criterion) {
    let (weft_rt, tokio_rt, smol_ex) = runtimes();
    let mut group = c.benchmark_group("lock_uncontended");
    group.throughput(Throughput::Elements(OPS));
    group.bench_function("weft Mutex", |b| {
        let m = weft::sync::Mutex::new(0u64);
        b.iter(|| {
            weft_rt.block_on(async {
                for _ in 0..OPS {
                    *m.lock().await += 1
                }
            })
        })
    });
    group.bench_function("tokio Mutex", |b| {
        let m = tokio::sync::Mutex::new(0u64);
        b.iter(|| {
            tokio_local(&tokio_rt, async {
                for _ in 0..OPS {
                    *m.lock().await += 1
                }
            })
        })
    });
    group.bench_function("async-lock Mutex", |b| {
        let m = async_lock::Mutex::new(0u64);
        b.iter(|| {
            smol_local(&smol_ex, async {
                for _ in 0..OPS {
                    *m.lock().await += 1
                }
            })
        })
    });
    group.finish();
}

fn handed_lock(c: &mut Criterion) {
    let (weft_rt, tokio_rt, smol_ex) = runtimes();
    let mut group = c.benchmark_group("lock_handoff");
    group.throughput(Throughput::Elements(2 * OPS));
    group.bench_function("weft Mutex", |b| {
        b.iter(|| {
            weft_rt.block_on(async {
                let m = Rc::new(weft::sync::Mutex::new(0u64));
                let tasks: Vec<_> = (0..2)
                    .map(|_| {
                        let m = m.clone();
                        weft::spawn(async move {
                            for _ in 0..OPS {
                                let mut g = m.lock().await;
                                *g += 1;
                                weft::yield_now().await; // hold it across a yield: the other waits
                            }
                        })
                    })
                    .collect();
                for t in tasks {
                    t.await.unwrap();
                }
            })
        })
    });
    group.bench_function("tokio Mutex", |b| {
        b.iter(|| {
            tokio_local(&tokio_rt, async {
                let m = Rc::new(tokio::sync::Mutex::new(0u64));
                let tasks: Vec<_> = (0..2)
                    .map(|_| {
                        let m = m.clone();
                        tokio::task::spawn_local(async move {
                            for _ in 0..OPS {
                                let mut g = m.lock().await;
                                *g += 1;
                                tokio::task::yield_now().await;
                            }
                        })
                    })
                    .collect();
                for t in tasks {
                    t.await.unwrap();
                }
            })
        })
    });
    group.bench_function("async-lock Mutex", |b| {
        b.iter(|| {
            smol_local(&smol_ex, async {
                let m = Rc::new(async_lock::Mutex::new(0u64));
                let tasks: Vec<_> = (0..2)
                    .map(|_| {
                        let m = m.clone();
                        smol_ex.spawn(async move {
                            for _ in 0..OPS {
                                let mut g = m.lock().await;
                                *g += 1;
                                futures_lite::future::yield_now().await;
                            }
                        })
                    })
                    .collect();
                for t in tasks {
                    t.await;
                }
            })
        })
    });
    group.finish();
}

fn semaphore(c: &mut Criterion) {
    let (weft_rt, tokio_rt, smol_ex) = runtimes();
    let mut group = c.benchmark_group("semaphore_acquire_release");
    group.throughput(Throughput::Elements(OPS));
    group.bench_function("weft Semaphore", |b| {
        let s = weft::sync::Semaphore::new(4);
        b.iter(|| {
            weft_rt.block_on(async {
                for _ in 0..OPS {
                    drop(s.acquire().await)
                }
            })
        })
    });
    group.bench_function("tokio Semaphore", |b| {
        let s = tokio::sync::Semaphore::new(4);
        b.iter(|| {
            tokio_local(&tokio_rt, async {
                for _ in 0..OPS {
                    drop(s.acquire().await.unwrap())
                }
            })
        })
    });
    group.bench_function("async-lock Semaphore", |b| {
        let s = async_lock::Semaphore::new(4);
        b.iter(|| {
            smol_local(&smol_ex, async {
                for _ in 0..OPS {
                    drop(s.acquire().await)
                }
            })
        })
    });
    group.finish();
}

fn mpsc_ping_pong(c: &mut Criterion) {
    let (weft_rt, tokio_rt, smol_ex) = runtimes();
    let mut group = c.benchmark_group("mpsc_ping_pong");
    group.throughput(Throughput::Elements(OPS));
    group.bench_function("weft mpsc", |b| {
        b.iter(|| {
            weft_rt.block_on(async {
                let (ping_tx, mut ping_rx) = weft::channel::mpsc::channel::<u64>(1);
                let (pong_tx, mut pong_rx) = weft::channel::mpsc::channel::<u64>(1);
                let echo = weft::spawn(async move {
                    while let Some(v) = ping_rx.recv().await {
                        pong_tx.send(v).await.unwrap();
                    }
                });
                for i in 0..OPS {
                    ping_tx.send(i).await.unwrap();
                    assert_eq!(pong_rx.recv().await, Some(i));
                }
                drop(ping_tx);
                echo.await.unwrap();
            })
        })
    });
    group.bench_function("tokio mpsc", |b| {
        b.iter(|| {
            tokio_local(&tokio_rt, async {
                let (ping_tx, mut ping_rx) = tokio::sync::mpsc::channel::<u64>(1);
                let (pong_tx, mut pong_rx) = tokio::sync::mpsc::channel::<u64>(1);
                let echo = tokio::task::spawn_local(async move {
                    while let Some(v) = ping_rx.recv().await {
                        pong_tx.send(v).await.unwrap();
                    }
                });
                for i in 0..OPS {
                    ping_tx.send(i).await.unwrap();
                    assert_eq!(pong_rx.recv().await, Some(i));
                }
                drop(ping_tx);
                echo.await.unwrap();
            })
        })
    });
    group.bench_function("async-channel", |b| {
        b.iter(|| {
            smol_local(&smol_ex, async {
                let (ping_tx, ping_rx) = async_channel::bounded::<u64>(1);
                let (pong_tx, pong_rx) = async_channel::bounded::<u64>(1);
                let echo = smol_ex.spawn(async move {
                    while let Ok(v) = ping_rx.recv().await {
                        pong_tx.send(v).await.unwrap();
                    }
                });
                for i in 0..OPS {
                    ping_tx.send(i).await.unwrap();
                    assert_eq!(pong_rx.recv().await, Ok(i));
                }
                drop(ping_tx);
                echo.await;
            })
        })
    });
    group.finish();
}

fn oneshot_ping_pong(c: &mut Criterion) {
    let (weft_rt, tokio_rt, smol_ex) = runtimes();
    let mut group = c.benchmark_group("oneshot_ping_pong");
    group.throughput(Throughput::Elements(OPS));
    group.bench_function("weft oneshot", |b| {
        b.iter(|| {
            weft_rt.block_on(async {
                for i in 0..OPS {
                    let (tx, rx) = weft::channel::oneshot::channel();
                    let (back_tx, back_rx) = weft::channel::oneshot::channel();
                    let echo = weft::spawn(async move { back_tx.send(rx.await.unwrap()).unwrap() });
                    tx.send(i).unwrap();
                    assert_eq!(back_rx.await, Ok(i));
                    echo.await.unwrap();
                }
            })
        })
    });
    group.bench_function("tokio oneshot", |b| {
        b.iter(|| {
            tokio_local(&tokio_rt, async {
                for i in 0..OPS {
                    let (tx, rx) = tokio::sync::oneshot::channel();
                    let (back_tx, back_rx) = tokio::sync::oneshot::channel();
                    let echo = tokio::task::spawn_local(async move {
                        back_tx.send(rx.await.unwrap()).unwrap()
                    });
                    tx.send(i).unwrap();
                    assert_eq!(back_rx.await, Ok(i));
                    echo.await.unwrap();
                }
            })
        })
    });
    group.bench_function("async-channel bounded(1)", |b| {
        b.iter(|| {
            smol_local(&smol_ex, async {
                for i in 0..OPS {
                    let (tx, rx) = async_channel::bounded(1);
                    let (back_tx, back_rx) = async_channel::bounded(1);
                    let echo = smol_ex.spawn(async move {
                        back_tx.send(rx.recv().await.unwrap()).await.unwrap()
                    });
                    tx.send(i).await.unwrap();
                    assert_eq!(back_rx.recv().await, Ok(i));
                    echo.await;
                }
            })
        })
    });
    group.finish();
}

fn queue_put_get(c: &mut Criterion) {
    let (weft_rt, tokio_rt, smol_ex) = runtimes();
    let mut group = c.benchmark_group("queue_put_get");
    group.throughput(Throughput::Elements(OPS));
    group.bench_function("weft Queue", |b| {
        let q = weft::queue::Queue::new(16);
        b.iter(|| {
            weft_rt.block_on(async {
                for i in 0..OPS {
                    q.put(i).await.unwrap();
                    assert_eq!(q.get().await, Ok(i));
                }
            })
        })
    });
    group.bench_function("tokio mpsc", |b| {
        let (tx, mut rx) = tokio::sync::mpsc::channel(16);
        b.iter(|| {
            tokio_local(&tokio_rt, async {
                for i in 0..OPS {
                    tx.send(i).await.unwrap();
                    assert_eq!(rx.recv().await, Some(i));
                }
            })
        })
    });
    group.bench_function("async-channel", |b| {
        let (tx, rx) = async_channel::bounded(16);
        b.iter(|| {
            smol_local(&smol_ex, async {
                for i in 0..OPS {
                    tx.send(i).await.unwrap();
                    assert_eq!(rx.recv().await, Ok(i));
                }
            })
        })
    });
    group.finish();
}

criterion_group!(
    benches,
    uncontended_lock,
    handed_lock,
    semaphore,
    mpsc_ping_pong,
    oneshot_ping_pong,
    queue_put_get
);
criterion_main!(benches);
