#![allow(missing_docs)] // criterion_group! generates undocumented functions
//! Micro-benchmarks: the same work on weft, tokio's current-thread runtime (tasks spawned from
//! `block_on`, and `spawn_local` on a `LocalSet`) and smol's `LocalExecutor`, in one group per
//! benchmark so criterion reports them side by side. Throughput is per element (task, yield,
//! round trip, timer), so criterion's "time" column reads as nanoseconds per element.
//!
//! Run with `cargo bench --bench micro`; `scripts/bench` runs it as part of the whole suite.

use std::cell::RefCell;
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use criterion::{
    BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main, measurement::WallTime,
};

/// The runtimes under comparison, each able to run a future that spawns local tasks.
trait Peer {
    const NAME: &'static str;
    fn block_on<F: Future + 'static>(&self, make: impl FnOnce(Spawner) -> F) -> F::Output;
}

/// How the benchmark body spawns a `'static` task on the peer it runs on, and how it awaits
/// the result (the join handle types differ; the body only needs "await completion").
#[derive(Clone)]
enum Spawner {
    Weft,
    TokioLocal,
    Smol(Rc<async_executor::LocalExecutor<'static>>),
}

type Joined = Pin<Box<dyn Future<Output = ()>>>;

impl Spawner {
    fn spawn(&self, fut: impl Future<Output = ()> + 'static) -> Joined {
        match self {
            Spawner::Weft => {
                let h = weft::spawn(fut);
                Box::pin(async move { h.await.unwrap() })
            }
            Spawner::TokioLocal => {
                let h = tokio::task::spawn_local(fut);
                Box::pin(async move { h.await.unwrap() })
            }
            Spawner::Smol(ex) => Box::pin(ex.spawn(fut)),
        }
    }

    async fn yield_now(&self) {
        match self {
            Spawner::Weft => weft::yield_now().await,
            Spawner::TokioLocal => tokio::task::yield_now().await,
            Spawner::Smol(_) => futures_lite::future::yield_now().await,
        }
    }
}

struct Weft(weft::Runtime);
struct TokioLocalSet(tokio::runtime::Runtime);
struct Smol;

impl Peer for Weft {
    const NAME: &'static str = "weft";
    fn block_on<F: Future + 'static>(&self, make: impl FnOnce(Spawner) -> F) -> F::Output {
        self.0.block_on(make(Spawner::Weft))
    }
}

impl Peer for TokioLocalSet {
    const NAME: &'static str = "tokio LocalSet";
    fn block_on<F: Future + 'static>(&self, make: impl FnOnce(Spawner) -> F) -> F::Output {
        tokio::task::LocalSet::new().block_on(&self.0, make(Spawner::TokioLocal))
    }
}

impl Peer for Smol {
    const NAME: &'static str = "smol LocalExecutor";
    fn block_on<F: Future + 'static>(&self, make: impl FnOnce(Spawner) -> F) -> F::Output {
        let ex = Rc::new(async_executor::LocalExecutor::new());
        let fut = make(Spawner::Smol(ex.clone()));
        futures_lite::future::block_on(ex.run(fut))
    }
}

fn tokio_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

const TASKS: u64 = 10_000;

fn spawn_await(c: &mut Criterion) {
    let mut group = c.benchmark_group("spawn_await");
    group.throughput(Throughput::Elements(TASKS));
    bench_all(&mut group, |s| async move {
        for _ in 0..TASKS {
            s.spawn(async {}).await;
        }
    });
    // tokio::spawn from block_on, without a LocalSet: needs Send futures, so it gets its own
    // body here.
    let rt = tokio_rt();
    group.bench_function("tokio spawn", |b| {
        b.iter(|| {
            rt.block_on(async {
                for _ in 0..TASKS {
                    tokio::spawn(async {}).await.unwrap();
                }
            })
        })
    });
    group.finish();

    let mut group = c.benchmark_group("spawn_all_then_await");
    group.throughput(Throughput::Elements(TASKS));
    bench_all(&mut group, |s| async move {
        let handles: Vec<Joined> = (0..TASKS).map(|_| s.spawn(async {})).collect();
        for h in handles {
            h.await;
        }
    });
    group.bench_function("tokio spawn", |b| {
        b.iter(|| {
            rt.block_on(async {
                let handles: Vec<_> = (0..TASKS).map(|_| tokio::spawn(async {})).collect();
                for h in handles {
                    h.await.unwrap();
                }
            })
        })
    });
    group.finish();
}

/// The two ways to spawn on weft: `weft::spawn`, and futures-task's `LocalSpawn` through a
/// `weft::task::Spawner`, which a runtime-agnostic library would use. Both spawn 10,000 tasks
/// that count themselves, then wait for the count, so the difference is the `LocalFutureObj`
/// box the trait takes.
fn spawn_via_local_spawn(c: &mut Criterion) {
    use futures_task::{LocalFutureObj, LocalSpawn};
    let mut group = c.benchmark_group("spawn_via_local_spawn");
    group.throughput(Throughput::Elements(TASKS));
    let rt = weft::Runtime::new().unwrap();
    let wait_for = |done: Rc<std::cell::Cell<u64>>| async move {
        while done.get() < TASKS {
            weft::task::yield_now().await;
        }
    };
    group.bench_function("weft spawn", |b| {
        b.iter(|| {
            rt.block_on(async {
                let done = Rc::new(std::cell::Cell::new(0));
                for _ in 0..TASKS {
                    let done = done.clone();
                    drop(weft::spawn(async move { done.set(done.get() + 1) }));
                }
                wait_for(done).await;
            })
        })
    });
    group.bench_function("LocalSpawn (weft Spawner)", |b| {
        b.iter(|| {
            rt.block_on(async {
                let spawner = weft::task::spawner();
                let done = Rc::new(std::cell::Cell::new(0));
                for _ in 0..TASKS {
                    let done = done.clone();
                    let task = async move { done.set(done.get() + 1) };
                    spawner
                        .spawn_local_obj(LocalFutureObj::new(Box::new(task)))
                        .unwrap();
                }
                wait_for(done).await;
            })
        })
    });
    group.finish();
}

const LARGE_TASKS: u64 = 1_000;

/// A task whose state is 16 KiB: a buffer it keeps across an await, as a task that reads into
/// a stack buffer does. Spawning and joining it costs what a trivial task costs plus moving
/// those bytes, as many times as the runtime moves the future and its result.
async fn large_task() {
    let buffer = [7u8; 16 * 1024];
    std::future::ready(()).await;
    std::hint::black_box(&buffer);
}

fn spawn_await_large(c: &mut Criterion) {
    let mut group = c.benchmark_group("spawn_await_large");
    group.throughput(Throughput::Elements(LARGE_TASKS));
    bench_all(&mut group, |s| async move {
        for _ in 0..LARGE_TASKS {
            s.spawn(large_task()).await;
        }
    });
    group.finish();
}

/// Runs `body` on weft, tokio's LocalSet and smol's LocalExecutor as three entries of `group`.
fn bench_all<F, Fut>(group: &mut BenchmarkGroup<'_, WallTime>, body: F)
where
    F: Fn(Spawner) -> Fut + Copy + 'static,
    Fut: Future<Output = ()> + 'static,
{
    let weft = Weft(weft::Runtime::new().unwrap());
    group.bench_function(Weft::NAME, |b| b.iter(|| weft.block_on(body)));
    let tokio = TokioLocalSet(tokio_rt());
    group.bench_function(TokioLocalSet::NAME, |b| b.iter(|| tokio.block_on(body)));
    group.bench_function(Smol::NAME, |b| b.iter(|| Smol.block_on(body)));
}

const YIELDS: u64 = 10_000;

fn yields(c: &mut Criterion) {
    let mut group = c.benchmark_group("yield_one_task");
    group.throughput(Throughput::Elements(YIELDS));
    bench_all(&mut group, |s| async move {
        let inner = s.clone();
        s.spawn(async move {
            for _ in 0..YIELDS {
                inner.yield_now().await;
            }
        })
        .await;
    });
    group.finish();

    let mut group = c.benchmark_group("yield_1000_tasks");
    group.throughput(Throughput::Elements(1000 * 10));
    bench_all(&mut group, |s| async move {
        let handles: Vec<Joined> = (0..1000)
            .map(|_| {
                let inner = s.clone();
                s.spawn(async move {
                    for _ in 0..10 {
                        inner.yield_now().await;
                    }
                })
            })
            .collect();
        for h in handles {
            h.await;
        }
    });
    group.finish();
}

/// What the flight recorder costs when it is on (`Builder::flight_recorder`, or `WEFT_TRACE`):
/// the same spawns and yields on weft with the recorder off and on.
fn flight_recorder(c: &mut Criterion) {
    let runtimes = [
        ("weft (recorder off)", weft::Runtime::new().unwrap()),
        (
            "weft with the flight recorder on",
            weft::runtime::Builder::new()
                .flight_recorder(1 << 16)
                .build()
                .unwrap(),
        ),
    ];
    let mut group = c.benchmark_group("recorder_spawn_await");
    group.throughput(Throughput::Elements(TASKS));
    for (name, rt) in &runtimes {
        group.bench_function(*name, |b| {
            b.iter(|| {
                rt.block_on(async {
                    for _ in 0..TASKS {
                        weft::spawn(async {}).await.unwrap();
                    }
                })
            })
        });
    }
    group.finish();
    let mut group = c.benchmark_group("recorder_yield");
    group.throughput(Throughput::Elements(YIELDS));
    for (name, rt) in &runtimes {
        group.bench_function(*name, |b| {
            b.iter(|| {
                rt.block_on(async {
                    for _ in 0..YIELDS {
                        weft::task::yield_now().await;
                    }
                })
            })
        });
    }
    group.finish();
}

/// The smallest possible single-threaded hand-off: one slot and one waiting waker. The same
/// code runs on every peer, so this measures each executor's wake-and-poll path.
struct Handoff<T> {
    slot: RefCell<(Option<T>, Option<Waker>)>,
}

impl<T> Handoff<T> {
    fn new() -> Rc<Handoff<T>> {
        Rc::new(Handoff {
            slot: RefCell::new((None, None)),
        })
    }

    fn send(&self, value: T) {
        let mut slot = self.slot.borrow_mut();
        slot.0 = Some(value);
        if let Some(w) = slot.1.take() {
            w.wake();
        }
    }

    async fn recv(&self) -> T {
        poll_fn(|cx: &mut Context<'_>| {
            let mut slot = self.slot.borrow_mut();
            match slot.0.take() {
                Some(v) => Poll::Ready(v),
                None => {
                    slot.1 = Some(cx.waker().clone());
                    Poll::Pending
                }
            }
        })
        .await
    }
}

const ROUND_TRIPS: u64 = 10_000;

fn ping_pong(c: &mut Criterion) {
    let mut group = c.benchmark_group("ping_pong_handoff");
    group.throughput(Throughput::Elements(ROUND_TRIPS));
    bench_all(&mut group, |s| async move {
        let (ping, pong) = (Handoff::new(), Handoff::new());
        let (ping2, pong2) = (ping.clone(), pong.clone());
        let echo = s.spawn(async move {
            for _ in 0..ROUND_TRIPS {
                let v: u64 = ping2.recv().await;
                pong2.send(v);
            }
        });
        let driver = s.spawn(async move {
            for i in 0..ROUND_TRIPS {
                ping.send(i);
                assert_eq!(pong.recv().await, i);
            }
        });
        driver.await;
        echo.await;
    });
    group.finish();

    let mut group = c.benchmark_group("ping_pong_channel");
    group.throughput(Throughput::Elements(ROUND_TRIPS));
    let weft = Weft(weft::Runtime::new().unwrap());
    group.bench_function("weft mpsc", |b| {
        b.iter(|| {
            weft.block_on(|_| async move {
                let (ping_tx, mut ping_rx) = weft::channel::mpsc::channel::<u64>(1);
                let (pong_tx, mut pong_rx) = weft::channel::mpsc::channel::<u64>(1);
                let echo = weft::spawn(async move {
                    while let Some(v) = ping_rx.recv().await {
                        pong_tx.send(v).await.unwrap();
                    }
                });
                for i in 0..ROUND_TRIPS {
                    ping_tx.send(i).await.unwrap();
                    assert_eq!(pong_rx.recv().await, Some(i));
                }
                drop(ping_tx);
                echo.await.unwrap();
            })
        })
    });
    let tokio = TokioLocalSet(tokio_rt());
    group.bench_function("tokio mpsc (LocalSet)", |b| {
        b.iter(|| {
            tokio.block_on(|_| async move {
                let (ping_tx, mut ping_rx) = tokio::sync::mpsc::channel::<u64>(1);
                let (pong_tx, mut pong_rx) = tokio::sync::mpsc::channel::<u64>(1);
                let echo = tokio::task::spawn_local(async move {
                    while let Some(v) = ping_rx.recv().await {
                        pong_tx.send(v).await.unwrap();
                    }
                });
                for i in 0..ROUND_TRIPS {
                    ping_tx.send(i).await.unwrap();
                    assert_eq!(pong_rx.recv().await, Some(i));
                }
                drop(ping_tx);
                echo.await.unwrap();
            })
        })
    });
    group.bench_function("smol async-channel", |b| {
        b.iter(|| {
            Smol.block_on(|s| async move {
                let (ping_tx, ping_rx) = async_channel::bounded::<u64>(1);
                let (pong_tx, pong_rx) = async_channel::bounded::<u64>(1);
                let echo = s.spawn(async move {
                    while let Ok(v) = ping_rx.recv().await {
                        pong_tx.send(v).await.unwrap();
                    }
                });
                for i in 0..ROUND_TRIPS {
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

const TIMERS: u64 = 1_000;

/// Polls `fut` once, so a timer future arms itself.
fn poll_once<F: Future>(fut: Pin<&mut F>) {
    let _ = fut.poll(&mut Context::from_waker(Waker::noop()));
}

fn timers(c: &mut Criterion) {
    let mut group = c.benchmark_group("timer_arm_cancel");
    group.throughput(Throughput::Elements(TIMERS));
    let far = Duration::from_secs(3600);
    let weft = weft::Runtime::new().unwrap();
    group.bench_function("weft", |b| {
        b.iter(|| {
            weft.block_on(async {
                let mut sleeps: Vec<_> = (0..TIMERS).map(|_| weft::time::sleep(far)).collect();
                for s in &mut sleeps {
                    poll_once(Pin::new(s));
                }
            })
        })
    });
    let tokio = tokio_rt();
    group.bench_function("tokio", |b| {
        b.iter(|| {
            tokio.block_on(async {
                let mut sleeps: Vec<_> = (0..TIMERS)
                    .map(|_| Box::pin(tokio::time::sleep(far)))
                    .collect();
                for s in &mut sleeps {
                    poll_once(s.as_mut());
                }
            })
        })
    });
    group.bench_function("smol (async-io Timer)", |b| {
        b.iter(|| {
            futures_lite::future::block_on(async {
                let mut timers: Vec<_> = (0..TIMERS).map(|_| async_io::Timer::after(far)).collect();
                for t in &mut timers {
                    poll_once(Pin::new(t));
                }
            })
        })
    });
    group.finish();
}

criterion_group!(
    benches,
    spawn_await,
    spawn_via_local_spawn,
    spawn_await_large,
    yields,
    flight_recorder,
    ping_pong,
    timers
);
criterion_main!(benches);
