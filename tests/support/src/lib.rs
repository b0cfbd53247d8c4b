//! Helpers shared by weft's integration tests (`tests/*.rs`); not published.

pub mod dns;

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::thread::{self, ThreadId};

/// Polls `fut` once with a waker that does nothing; used to put a future into its waiting
/// state (registered with a primitive) without a runtime, then drop or poll it later.
pub fn poll_once<F: Future + ?Sized>(fut: Pin<&mut F>) -> Poll<F::Output> {
    fut.poll(&mut Context::from_waker(Waker::noop()))
}

/// Proves that something was dropped, how often, and where: each probe adds one to its
/// counter when dropped, and fails the test if that happens on another thread than the one
/// that made it (a task's future must be dropped on the runtime's thread).
///
/// Hold one in a future or a task, then assert on the counter.
pub struct DropProbe {
    drops: Rc<Cell<usize>>,
    thread: ThreadId,
}

impl DropProbe {
    /// A probe that counts into `drops`.
    pub fn new(drops: &Rc<Cell<usize>>) -> DropProbe {
        DropProbe {
            drops: drops.clone(),
            thread: thread::current().id(),
        }
    }
}

impl Drop for DropProbe {
    fn drop(&mut self) {
        assert_eq!(
            thread::current().id(),
            self.thread,
            "dropped on another thread"
        );
        self.drops.set(self.drops.get() + 1);
    }
}

/// Runs one `#[ignore]`d test of the current test binary in a child process, with
/// `WEFT_SEED` set to `weft_seed` (or unset), and returns whether it passed and its stderr:
/// for tests that fail on purpose, to check what the failure prints.
pub fn run_ignored_test(name: &str, weft_seed: Option<&str>) -> (bool, String) {
    let mut command = std::process::Command::new(std::env::current_exe().unwrap());
    command.args([
        name,
        "--exact",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ]);
    command.env_remove("WEFT_SEED").env("RUST_BACKTRACE", "0");
    if let Some(seed) = weft_seed {
        command.env("WEFT_SEED", seed);
    }
    let output = command.output().unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The binary of example `name`, which `cargo test` builds next to the test binaries.
pub fn example_binary(name: &str) -> std::path::PathBuf {
    let exe = std::env::current_exe().unwrap();
    let binary = exe
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("examples")
        .join(name);
    assert!(
        binary.exists(),
        "{} is missing: run `cargo test` (which builds the examples)",
        binary.display()
    );
    binary
}

/// Checks that `json` is a Chrome trace-event document that Perfetto opens as weft means it:
/// JSON; on each track, slices that nest (each ends before the next begins or contains it);
/// every wake arrow with its start and its end, each inside a slice of its track. Returns
/// the document.
pub fn check_chrome_trace(json: &[u8]) -> serde_json::Value {
    use serde_json::Value;
    let doc: Value = serde_json::from_slice(json).expect("the trace is JSON");
    let events = doc["traceEvents"].as_array().expect("traceEvents");
    // Slices per track (process and thread), sorted by start, longer first.
    let mut by_track: std::collections::BTreeMap<(u64, u64), Vec<(f64, f64)>> = Default::default();
    let track = |e: &Value| (e["pid"].as_u64().unwrap(), e["tid"].as_u64().unwrap());
    for e in events.iter().filter(|e| e["ph"] == "X") {
        let (ts, dur) = (e["ts"].as_f64().unwrap(), e["dur"].as_f64().unwrap());
        assert!(dur >= 0.0, "a slice of negative length: {e}");
        by_track.entry(track(e)).or_default().push((ts, ts + dur));
    }
    for (tid, slices) in &mut by_track {
        slices.sort_by(|a, b| {
            a.0.partial_cmp(&b.0)
                .unwrap()
                .then(b.1.partial_cmp(&a.1).unwrap())
        });
        let mut open: Vec<(f64, f64)> = Vec::new();
        for &slice in slices.iter() {
            while open.last().is_some_and(|parent| parent.1 <= slice.0 + 1e-9) {
                open.pop();
            }
            if let Some(parent) = open.last() {
                assert!(
                    slice.1 <= parent.1 + 1e-9,
                    "track {tid:?}: {slice:?} crosses {parent:?}"
                );
            }
            open.push(slice);
        }
    }
    let inside = |e: &Value| {
        let ts = e["ts"].as_f64().unwrap();
        by_track
            .get(&track(e))
            .into_iter()
            .flatten()
            .any(|&(start, end)| start - 1e-9 <= ts && ts <= end + 1e-9)
    };
    let starts: Vec<&Value> = events.iter().filter(|e| e["ph"] == "s").collect();
    let ends: Vec<&Value> = events.iter().filter(|e| e["ph"] == "f").collect();
    let mut start_ids: Vec<u64> = starts.iter().map(|e| e["id"].as_u64().unwrap()).collect();
    let mut end_ids: Vec<u64> = ends.iter().map(|e| e["id"].as_u64().unwrap()).collect();
    start_ids.sort();
    end_ids.sort();
    assert_eq!(
        start_ids, end_ids,
        "every wake arrow has a start and an end"
    );
    for e in &starts {
        assert!(inside(e), "flow {e} leaves no slice");
    }
    assert!(ends.iter().all(|e| inside(e)), "every flow lands on a poll");
    doc
}
