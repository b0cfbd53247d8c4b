//! Memory per parked task: each runtime, in a process of its own, spawns 1,000,000 tasks that
//! wait on a future that is never ready, lets each one be polled once, and reports how much the
//! resident set grew per task (`/proc/self/statm`). The future is zero-sized, so everything
//! measured is the runtime's own overhead.
//!
//! `cargo bench --bench memory [-- --quick | --smoke]`

use std::future::pending;
use std::process::Command;

use serde_json::json;
use weft_benches::Mode;

const PEERS: [&str; 3] = ["weft", "tokio", "smol"];

fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("read /proc/self/statm");
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .expect("statm");
    pages * 4096
}

/// Spawns `n` parked tasks on `peer` and returns the RSS growth, measured while they live.
fn measure(peer: &str, n: usize) -> u64 {
    let before = rss_bytes();
    match peer {
        "weft" => weft::run(async move {
            for _ in 0..n {
                drop(weft::spawn(pending::<()>()));
            }
            // FIFO: once this task ran, every task before it has been polled once.
            weft::spawn(async {}).await.unwrap();
            rss_bytes() - before
        }),
        "tokio" => {
            let rt = tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap();
            tokio::task::LocalSet::new().block_on(&rt, async move {
                for _ in 0..n {
                    drop(tokio::task::spawn_local(pending::<()>()));
                }
                tokio::task::spawn_local(async {}).await.unwrap();
                rss_bytes() - before
            })
        }
        "smol" => {
            let ex = async_executor::LocalExecutor::new();
            futures_lite::future::block_on(ex.run(async {
                for _ in 0..n {
                    ex.spawn(pending::<()>()).detach();
                }
                ex.spawn(async {}).await;
                rss_bytes() - before
            }))
        }
        other => panic!("unknown runtime {other}"),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mode = Mode::from_env();
    let n = mode.pick(1_000_000, 1_000_000, 10_000);
    if let Some(i) = args.iter().position(|a| a == "--child") {
        println!("{}", measure(&args[i + 1], n));
        return;
    }
    let mut rows = Vec::new();
    for peer in PEERS {
        let output = Command::new(std::env::current_exe().unwrap())
            .args(["--child", peer])
            .env("WEFT_BENCH_MODE", format!("{mode:?}").to_lowercase())
            .output()
            .expect("run the measuring child");
        let grown: u64 = String::from_utf8_lossy(&output.stdout)
            .trim()
            .parse()
            .expect("child's number");
        let per_task = grown as f64 / n as f64;
        println!("{peer:>6}: {n} parked tasks, {per_task:.0} bytes of RSS each");
        rows.push(json!({ "runtime": peer, "tasks": n, "rss_bytes_per_task": per_task }));
    }
    weft_benches::save(
        "memory",
        &json!({ "mode": format!("{mode:?}"), "rows": rows }),
    );
}
