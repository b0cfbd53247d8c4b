//! Timer lateness: 100,000 tasks each sleep until a random deadline 0–100 ms after a common
//! start, on weft, tokio (current-thread, LocalSet) and smol (LocalExecutor with async-io
//! timers). The start lies far enough ahead (`SETUP`) that every task has armed its timer by
//! then, so what is measured is the timers, not the spawning. Reports the wall time from the
//! start and how late the tasks woke (p50, p99, max): a timer must never fire early, and
//! should fire as soon after its deadline as the OS allows.
//!
//! `cargo bench --bench timers [-- --quick | --smoke]`

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use serde_json::json;
use weft_benches::Mode;

/// Deterministic pseudo-random deadlines, the same for every runtime.
fn offsets(n: usize) -> Vec<Duration> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            Duration::from_micros(x % 100_000)
        })
        .collect()
}

/// Time allowed for spawning the tasks and arming their timers before the first deadline.
const SETUP: Duration = Duration::from_millis(300);

struct Outcome {
    wall: Duration,
    lateness: Vec<Duration>,
}

fn weft_run(offsets: &[Duration]) -> Outcome {
    let late = Rc::new(RefCell::new(Vec::with_capacity(offsets.len())));
    let start = Instant::now() + SETUP;
    weft::run({
        let late = late.clone();
        let offsets = offsets.to_vec();
        async move {
            let handles: Vec<_> = offsets
                .into_iter()
                .map(|o| {
                    let late = late.clone();
                    weft::spawn(async move {
                        let deadline = start + o;
                        weft::time::sleep_until(deadline.into()).await; // std and weft agree: not paused
                        late.borrow_mut().push(deadline.elapsed());
                    })
                })
                .collect();
            for h in handles {
                h.await.unwrap();
            }
        }
    });
    finish(start, late)
}

fn tokio_run(offsets: &[Duration]) -> Outcome {
    let late = Rc::new(RefCell::new(Vec::with_capacity(offsets.len())));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let start = Instant::now() + SETUP;
    tokio::task::LocalSet::new().block_on(&rt, {
        let late = late.clone();
        let offsets = offsets.to_vec();
        async move {
            let handles: Vec<_> = offsets
                .into_iter()
                .map(|o| {
                    let late = late.clone();
                    tokio::task::spawn_local(async move {
                        let deadline = start + o;
                        tokio::time::sleep_until(deadline.into()).await;
                        late.borrow_mut().push(deadline.elapsed());
                    })
                })
                .collect();
            for h in handles {
                h.await.unwrap();
            }
        }
    });
    finish(start, late)
}

fn smol_run(offsets: &[Duration]) -> Outcome {
    let late = Rc::new(RefCell::new(Vec::with_capacity(offsets.len())));
    let ex = async_executor::LocalExecutor::new();
    let start = Instant::now() + SETUP;
    futures_lite::future::block_on(ex.run({
        let late = late.clone();
        let offsets = offsets.to_vec();
        let ex = &ex;
        async move {
            let handles: Vec<_> = offsets
                .into_iter()
                .map(|o| {
                    let late = late.clone();
                    ex.spawn(async move {
                        let deadline = start + o;
                        async_io::Timer::at(deadline).await;
                        late.borrow_mut().push(deadline.elapsed());
                    })
                })
                .collect();
            for h in handles {
                h.await;
            }
        }
    }));
    finish(start, late)
}

fn finish(start: Instant, late: Rc<RefCell<Vec<Duration>>>) -> Outcome {
    let wall = start.elapsed();
    let mut lateness = late.take();
    lateness.sort_unstable();
    Outcome { wall, lateness }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    let mode = Mode::from_env();
    let n = mode.pick(100_000, 100_000, 2_000);
    let offsets = offsets(n);
    type Run = fn(&[Duration]) -> Outcome;
    let peers: [(&str, Run); 3] = [("weft", weft_run), ("tokio", tokio_run), ("smol", smol_run)];
    let mut rows = Vec::new();
    for (name, run) in peers {
        let out = run(&offsets);
        assert_eq!(out.lateness.len(), n);
        let (p50, p99, max) = (
            percentile(&out.lateness, 0.5),
            percentile(&out.lateness, 0.99),
            out.lateness[n - 1],
        );
        println!(
            "{name:>6}: {n} sleeps in {:.1} ms; lateness p50 {:.0} µs, p99 {:.0} µs, max {:.0} µs",
            out.wall.as_secs_f64() * 1e3,
            p50.as_secs_f64() * 1e6,
            p99.as_secs_f64() * 1e6,
            max.as_secs_f64() * 1e6
        );
        rows.push(json!({
            "runtime": name, "sleeps": n, "wall_ms": out.wall.as_secs_f64() * 1e3,
            "p50_us": p50.as_secs_f64() * 1e6, "p99_us": p99.as_secs_f64() * 1e6,
            "max_us": max.as_secs_f64() * 1e6,
        }));
    }
    weft_benches::save(
        "timers",
        &json!({ "mode": format!("{mode:?}"), "rows": rows }),
    );
}
