//! Debug mode: what asyncio's debug mode (`PYTHONASYNCIODEBUG=1`) reports, for weft.
//!
//! - **Slow polls.** One poll of a task that runs for long holds up every other task, timer
//!   and socket of the thread: somewhere in it a blocking call (`std::thread::sleep`, a
//!   synchronous read, a long computation) runs where an `.await` or `spawn_blocking`
//!   belongs. asyncio logs `Executing <Task ...> took 0.153 seconds`; weft names the task and
//!   where it was spawned.
//! - **Tasks dropped while pending.** Dropping a runtime drops the tasks left in it, on
//!   purpose (as `asyncio.run` cancels them); asyncio's "Task was destroyed but it is
//!   pending!" says when that happened to a task nobody meant to leave behind.
//!
//! - **Very large futures.** A task's future lives in its cell for the task's whole life, and
//!   is copied once on its way in: a future of hundreds of kilobytes (a big array held across
//!   an `.await`) costs that much per task. Spawning one past [`LARGE_FUTURE`] is reported.
//!
//! - **Lost wakers.** A poll that returns `Pending` must leave its waker with whatever will
//!   complete it. weft counts every waker of a task, so right after such a poll it can prove
//!   that none exists and nothing queued the task: then nothing can ever wake it (a hand-written
//!   future that forgot `cx.waker().clone()`, or `std::future::pending`).
//! - **Self-waking tasks.** A task that wakes itself in almost every poll (a loop of
//!   `yield_now` around a check, a future that wakes itself instead of registering) keeps the
//!   CPU busy while it "waits". Reported once per task, past 1,000 polls with 90% of them
//!   self-woken.
//!
//! Off by default: a poll then costs one branch more, not a clock read.

use std::cell::Cell;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::TaskReport;

/// Something a runtime in debug mode noticed; see [`Builder::debug`](super::Builder::debug).
/// Its `Display` is the line weft prints when no hook was given.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum DebugEvent {
    /// One poll ran for `took`, more than the threshold: it kept the thread from everything
    /// else for that long. `task` is `None` for the main future (the one given to
    /// `block_on` or `run`).
    SlowPoll {
        /// The task whose poll it was, or `None` for the main future.
        task: Option<TaskReport>,
        /// How long the poll ran.
        took: Duration,
        /// The runtime's threshold ([`Builder::slow_poll_threshold`](super::Builder)).
        threshold: Duration,
    },
    /// The runtime was dropped while this task was still pending, so its future was dropped
    /// unfinished (asyncio's "Task was destroyed but it is pending!").
    DroppedPending {
        /// The task.
        task: TaskReport,
    },
    /// A task was spawned with a future larger than [`LARGE_FUTURE`] bytes: it occupies that
    /// much for as long as the task lives.
    LargeFuture {
        /// The task.
        task: TaskReport,
        /// The size of its future, in bytes.
        bytes: usize,
    },
    /// A poll of this task returned `Pending`, and afterwards no waker of the task existed
    /// anywhere and nothing had queued it: nothing can ever wake it again (it can only be
    /// aborted through its `JoinHandle`).
    LostWaker {
        /// The task.
        task: TaskReport,
    },
    /// This task woke itself in `self_wakes` of its `polls` polls: it spins instead of
    /// waiting. Reported once per task.
    SelfWaking {
        /// The task.
        task: TaskReport,
        /// Its polls so far.
        polls: u64,
        /// How many of them ended with the task waking itself.
        self_wakes: u64,
    },
}

/// Polls a task must have had before a self-waking rate is reported.
pub(crate) const SELF_WAKE_MIN_POLLS: u64 = 1000;

/// The share of self-woken polls, in percent, past which it is reported.
pub(crate) const SELF_WAKE_PERCENT: u64 = 90;

/// The future size, in bytes, above which debug mode reports a spawn
/// ([`DebugEvent::LargeFuture`]).
pub const LARGE_FUTURE: usize = 64 * 1024;

impl fmt::Display for DebugEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DebugEvent::SlowPoll {
                task,
                took,
                threshold,
            } => {
                match task {
                    Some(task) => write!(f, "weft debug: {task}")?,
                    None => write!(f, "weft debug: the main future")?,
                }
                write!(
                    f,
                    ": one poll ran {took:.1?} (threshold {threshold:?}), and no other task, \
                     timer or socket was served meanwhile; a blocking call belongs in \
                     spawn_blocking"
                )
            }
            DebugEvent::LargeFuture { task, bytes } => write!(
                f,
                "weft debug: {task}: its future is {} KiB (over {} KiB), held for the task's \
                 whole life; keep large buffers in a Vec or a Box instead of across an await",
                bytes / 1024,
                LARGE_FUTURE / 1024
            ),
            DebugEvent::LostWaker { task } => write!(
                f,
                "weft debug: {task}: a poll returned Pending but left no waker anywhere, and \
                 nothing queued it: nothing can ever wake it (did a future return Pending \
                 without storing cx.waker()?)"
            ),
            DebugEvent::SelfWaking {
                task,
                polls,
                self_wakes,
            } => write!(
                f,
                "weft debug: {task} woke itself in {self_wakes} of its {polls} polls: it spins \
                 instead of waiting (a loop of yield_now around a check?); wait on an Event, \
                 a Condition or a channel instead"
            ),
            DebugEvent::DroppedPending { task } => write!(
                f,
                "weft debug: {task} was still pending when the runtime was dropped; its future \
                 was dropped unfinished"
            ),
        }
    }
}

/// Where a debug-mode runtime sends its [`DebugEvent`]s.
pub(crate) type DebugHook = Arc<dyn Fn(&DebugEvent) + Send + Sync>;

/// asyncio's `slow_callback_duration` default.
pub(crate) const DEFAULT_SLOW_POLL: Duration = Duration::from_millis(100);

/// The environment variable that turns debug mode on for runtimes built with the defaults:
/// weft's `PYTHONASYNCIODEBUG`.
pub(crate) const ENV_VAR: &str = "WEFT_DEBUG";

/// Whether [`ENV_VAR`] asks for debug mode: set, and neither empty nor `0`.
pub(crate) fn wanted_by_env() -> bool {
    std::env::var_os(ENV_VAR).is_some_and(|v| !v.is_empty() && v != "0")
}

/// A runtime's debug settings, present only when debug mode is on.
pub(crate) struct DebugMode {
    slow_poll: Duration,
    hook: Option<DebugHook>,
    /// When the poll under way started.
    poll_started: Cell<Option<Instant>>,
}

impl DebugMode {
    pub(crate) fn new(slow_poll: Duration, hook: Option<DebugHook>) -> DebugMode {
        DebugMode {
            slow_poll,
            hook,
            poll_started: Cell::new(None),
        }
    }

    /// Notes the time a poll starts. Out of line, as is `poll_ended`: nothing of debug mode
    /// stays live across the poll in the caller, which pays two branches when it is off.
    #[cold]
    pub(crate) fn poll_starts(&self) {
        self.poll_started.set(Some(Instant::now()));
    }

    /// Reports the poll since [`poll_starts`](Self::poll_starts) if it ran too long. `task`
    /// builds the report of what was polled (`None` for the main future); it runs only for a
    /// slow poll.
    #[cold]
    pub(crate) fn poll_ended(&self, task: impl FnOnce() -> Option<TaskReport>) {
        let Some(started) = self.poll_started.take() else {
            return;
        };
        let took = started.elapsed();
        if took > self.slow_poll {
            self.emit(&DebugEvent::SlowPoll {
                task: task(),
                took,
                threshold: self.slow_poll,
            });
        }
    }

    /// Reports a spawn of a future over [`LARGE_FUTURE`] bytes; `task` builds the report.
    #[cold]
    pub(crate) fn spawned_large(&self, bytes: usize, task: impl FnOnce() -> TaskReport) {
        self.emit(&DebugEvent::LargeFuture {
            task: task(),
            bytes,
        });
    }

    /// Reports a task that can never be woken.
    #[cold]
    pub(crate) fn lost_waker(&self, task: TaskReport) {
        self.emit(&DebugEvent::LostWaker { task });
    }

    /// Reports a task that mostly wakes itself.
    #[cold]
    pub(crate) fn self_waking(&self, task: TaskReport, polls: u64, self_wakes: u64) {
        self.emit(&DebugEvent::SelfWaking {
            task,
            polls,
            self_wakes,
        });
    }

    /// Reports a task dropped unfinished at shutdown. Not while the thread unwinds: a hook
    /// that panicked then would abort the process.
    pub(crate) fn dropped_pending(&self, task: TaskReport) {
        if !std::thread::panicking() {
            self.emit(&DebugEvent::DroppedPending { task });
        }
    }

    fn emit(&self, event: &DebugEvent) {
        match &self.hook {
            Some(hook) => hook(event),
            None => eprintln!("{event}"),
        }
    }
}
