//! Child processes per second: spawn `true` and wait for it, one after another, with weft
//! (its pidfd path, and its SIGCHLD fallback in a process of its own), `tokio::process` on
//! the current-thread runtime, and async-process on smol's executor.
//!
//! `cargo bench --bench process [-- --quick | --smoke]`

use std::process::Command as StdCommand;
use std::time::Instant;

use serde_json::json;
use weft_benches::Mode;

/// Spawns and waits for `true` `n` times on `peer`; returns the seconds it took.
fn measure(peer: &str, n: usize) -> f64 {
    let started = Instant::now();
    match peer {
        "weft" | "weft (SIGCHLD)" => weft::run(async move {
            for _ in 0..n {
                let status = weft::process::Command::new("true").status().await.unwrap();
                assert!(status.success());
            }
        }),
        "tokio::process" => {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_io()
                .build()
                .unwrap();
            rt.block_on(async {
                for _ in 0..n {
                    let status = tokio::process::Command::new("true").status().await.unwrap();
                    assert!(status.success());
                }
            })
        }
        "async-process" => futures_lite::future::block_on(async {
            for _ in 0..n {
                let status = async_process::Command::new("true").status().await.unwrap();
                assert!(status.success());
            }
        }),
        other => panic!("unknown peer {other}"),
    }
    started.elapsed().as_secs_f64()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mode = Mode::from_env();
    // Rounds in which the peers take turns, so a slow spell of the machine falls on all of
    // them alike; each peer's rate is its median round.
    let (rounds, n) = mode.pick((9, 200), (3, 100), (1, 20));
    if let Some(i) = args.iter().position(|a| a == "--child") {
        println!("{}", measure(&args[i + 1], n));
        return;
    }
    let peers = ["weft", "weft (SIGCHLD)", "tokio::process", "async-process"];
    let mut rates: Vec<Vec<f64>> = vec![Vec::new(); peers.len()];
    for _ in 0..rounds {
        for (peer, rates) in peers.iter().zip(&mut rates) {
            rates.push(n as f64 / run_child(peer, mode));
        }
    }
    let mut rows = Vec::new();
    for (peer, mut rates) in peers.into_iter().zip(rates) {
        rates.sort_by(f64::total_cmp);
        let median = rates[rates.len() / 2];
        println!("{peer:>15}: {median:.0} children per second (median of {rounds} rounds of {n})");
        rows.push(json!({ "runtime": peer, "children": n * rounds, "per_second": median }));
    }
    weft_benches::save(
        "process",
        &json!({ "mode": format!("{mode:?}"), "rows": rows }),
    );
}

/// Measures `peer` in a process of its own (weft decides its exit-watching path once per
/// process, and async-process starts threads that would stay for the next peer); returns
/// the seconds its children took.
fn run_child(peer: &str, mode: Mode) -> f64 {
    let mut child = StdCommand::new(std::env::current_exe().unwrap());
    child
        .args(["--child", peer])
        .env("WEFT_BENCH_MODE", format!("{mode:?}").to_lowercase());
    if peer == "weft (SIGCHLD)" {
        child.env(weft::process::CHILD_WATCH_ENV, "sigchld");
    }
    let output = child.output().expect("run the measuring child");
    assert!(output.status.success(), "{peer}: {output:?}");
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .expect("the child's number")
}
