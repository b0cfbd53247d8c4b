//! weft-ps on a process with many tasks: how long `weft-ps PID` takes to show a process of
//! 100,000 tasks, end to end (the signal, the connection, the runtime's dump as JSON, weft-ps
//! reading it and printing the tree or the JSON). The tasks wait on a mix of things: a lock
//! one of them holds, an event, a timer, and each other's `JoinHandle`s, spawned by 100
//! parents, so the tree has depth and the wait-for graph has edges.
//!
//! `cargo build --release -p weft-ps && cargo bench --bench weft_ps [-- --quick | --smoke]`

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use weft_benches::Mode;

/// The program looked at: `tasks` tasks, then waits to be killed.
fn child(tasks: usize) {
    weft::run(async move {
        let lock = weft::sync::Mutex::new(());
        let _held = lock.lock().await;
        let event = weft::sync::Event::new();
        let parents = 100;
        for _ in 0..parents {
            let (lock, event) = (lock.clone(), event.clone());
            weft::spawn(async move {
                let mut children = Vec::new();
                for i in 0..tasks / parents - 1 {
                    let (lock, event) = (lock.clone(), event.clone());
                    children.push(weft::spawn(async move {
                        match i % 3 {
                            0 => drop(lock.lock().await),
                            1 => event.wait().await,
                            _ => weft::time::sleep(Duration::from_secs(3600)).await,
                        }
                    }));
                }
                for child in children {
                    let _ = child.await;
                }
            });
        }
        weft::task::yield_now().await;
        weft::task::yield_now().await;
        // The runtime's share, measured in place: the dump, then its JSON.
        let started = Instant::now();
        let dump = weft::task::dump();
        let dumped = started.elapsed();
        let json = dump.to_json();
        let written = started.elapsed() - dumped;
        println!(
            "ready {} {} {}",
            dumped.as_secs_f64() * 1000.0,
            written.as_secs_f64() * 1000.0,
            json.len()
        );
        event.wait().await;
    });
}

fn weft_ps_binary() -> std::path::PathBuf {
    let exe = std::env::current_exe().unwrap();
    let binary = exe.parent().unwrap().parent().unwrap().join("weft-ps");
    assert!(
        binary.exists(),
        "{} is missing: `cargo build --release -p weft-ps` first (scripts/bench does)",
        binary.display()
    );
    binary
}

/// The median of `runs` timings of `weft-ps PID ARGS`, in milliseconds, and its output's size.
fn time_weft_ps(pid: u32, args: &[&str], runs: usize) -> (f64, usize) {
    let binary = weft_ps_binary();
    let mut times = Vec::new();
    let mut size = 0;
    for _ in 0..runs {
        let started = Instant::now();
        let output = Command::new(&binary)
            .arg(pid.to_string())
            .args(args)
            .output()
            .unwrap();
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        size = output.stdout.len();
    }
    times.sort_by(|a, b| a.partial_cmp(b).unwrap());
    (times[times.len() / 2], size)
}

fn main() {
    let mode = Mode::from_env();
    let tasks = mode.pick(100_000, 100_000, 2_000);
    if let Some(n) = std::env::var("WEFT_PS_BENCH_CHILD")
        .ok()
        .and_then(|n| n.parse().ok())
    {
        child(n);
        return;
    }
    let mut program = Command::new(std::env::current_exe().unwrap())
        .env("WEFT_PS_BENCH_CHILD", tasks.to_string())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(program.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    let fields: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(fields[0], "ready", "{line}");
    let (dump_ms, to_json_ms): (f64, f64) =
        (fields[1].parse().unwrap(), fields[2].parse().unwrap());
    let runs = mode.pick(11, 5, 1);
    let (json_ms, json_bytes) = time_weft_ps(program.id(), &["--json"], runs);
    let (text_ms, text_bytes) = time_weft_ps(program.id(), &[], runs);
    let _ = program.kill();
    let _ = program.wait();
    println!(
        "weft-ps on {tasks} tasks: --json {json_ms:.1} ms ({json_bytes} bytes), the tree {text_ms:.1} ms ({text_bytes} bytes), median of {runs}; in the runtime, the dump {dump_ms:.1} ms and its JSON {to_json_ms:.1} ms"
    );
    weft_benches::save(
        "weft_ps",
        &json!({
            "mode": format!("{mode:?}"),
            "tasks": tasks,
            "runs": runs,
            "json_ms": json_ms,
            "runtime_dump_ms": dump_ms,
            "runtime_to_json_ms": to_json_ms,
            "text_ms": text_ms,
            "json_bytes": json_bytes,
            "text_bytes": text_bytes,
        }),
    );
}
