//! Running a server under test in a process of its own: the harness starts itself again as
//! `serve NAME`, pinned to core 0 when there are two, reads the `ready ADDR` line it prints,
//! and measures the process's CPU time from /proc while the load runs on core 1.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};

use crate::load;

/// Starts `server` in its own process, runs `f` with its address and pid, then stops it.
/// With `one_thread`, checks that the server ran on one thread.
pub fn with_server<T>(
    server: &str,
    pinned: bool,
    one_thread: bool,
    f: impl FnOnce(SocketAddr, u32) -> std::io::Result<T>,
) -> T {
    let mut child = start(server, pinned);
    let pid = child.id();
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("piped stdout"))
        .read_line(&mut line)
        .expect("server output");
    let addr: SocketAddr = line
        .trim()
        .strip_prefix("ready ")
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| {
            let _ = child.kill();
            panic!("{server} server did not start: {line:?}")
        });
    let threads = load::threads(pid);
    let result = f(addr, pid);
    let _ = child.kill();
    let _ = child.wait();
    match result {
        Ok(value) => {
            if one_thread {
                assert_eq!(threads, 1, "the {server} server should run on one thread");
            }
            value
        }
        Err(err) => panic!("load against the {server} server failed: {err}"),
    }
}

fn start(server: &str, pinned: bool) -> Child {
    let exe = std::env::current_exe().expect("own path");
    let mut command = if pinned {
        let mut c = Command::new("taskset");
        c.args(["-c", "0"]).arg(exe);
        c
    } else {
        Command::new(exe)
    };
    command
        .args(["serve", server])
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the server process")
}

/// Pins this process to `core` with taskset when the machine has more cores than `core`.
pub fn pin_self_to_core(core: usize) -> bool {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    cores > core
        && Command::new("taskset")
            .args(["-pc", &core.to_string(), &std::process::id().to_string()])
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
}

/// The median of `values` (0 for none).
pub fn median(values: impl Iterator<Item = f64>) -> f64 {
    let mut v: Vec<f64> = values.collect();
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}
