//! Helpers shared by weft's integration tests (`tests/*.rs`); not published.

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
