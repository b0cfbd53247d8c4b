//! The flight recorder: what the executor did, event by event, and two ways to look at it.
//!
//! A runtime built with [`Builder::flight_recorder`](crate::runtime::Builder::flight_recorder),
//! or run with `WEFT_TRACE=FILE` in the environment, keeps the last N events of its loop in a
//! ring: every spawn, every poll's start and end, every wake with its cause (which task,
//! which I/O source, a timer, another thread), every wait for I/O with its timeout and the
//! number of events it returned, every timer that fired, every task's exit.
//! [`Runtime::trace_snapshot`](crate::Runtime::trace_snapshot) copies the ring out as a
//! [`Trace`], which writes itself as
//! - Chrome trace-event JSON ([`Trace::write_chrome_json`]) for Perfetto UI
//!   (<https://ui.perfetto.dev>) or `chrome://tracing`: a track per task holding its polls,
//!   an arrow from each wake to the poll it caused, a reactor track with the waits for I/O
//!   and the readiness events, and a timer track;
//! - a self-contained SVG picture of the same ([`Trace::write_svg`]), with no script.
//!
//! With `WEFT_TRACE=out.json` (or `out.svg`) every runtime made with the default builder
//! records, and writes its trace to that file when it is dropped, so any weft program can be
//! watched without changing it:
//!
//! ```text
//! WEFT_TRACE=crawl.json cargo run --release --example crawler -- --demo --pages 30 --concurrency 4
//! ```
//!
//! The recorder is off by default: on, it reads the clock twice per poll, which costs the
//! micro benchmarks far more than the 3% a default may cost (BENCHMARKS.md has the numbers).
//!
//! ```
//! let rt = weft::runtime::Builder::new().flight_recorder(4096).build().unwrap();
//! rt.block_on(async {
//!     let task = weft::spawn(async { weft::task::yield_now().await });
//!     task.await.unwrap();
//! });
//! let trace = rt.trace_snapshot().unwrap();
//! let polls = trace
//!     .events()
//!     .iter()
//!     .filter(|e| matches!(e.event, weft::trace::Event::PollStarted { .. }))
//!     .count();
//! assert!(polls >= 3); // the task twice (before and after its yield), the main future
//! let mut json = Vec::new();
//! trace.write_chrome_json(&mut json).unwrap();
//! assert!(json.starts_with(b"{\"traceEvents\":["));
//! ```

mod chrome;
pub(crate) mod recorder;
mod svg;
mod timeline;

use std::panic::Location;
use std::time::Duration;

use crate::task::TaskId;

/// One thing the executor did, and when (since the recorder started).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceEvent {
    /// When it happened, counted from the recorder's start.
    pub at: Duration,
    /// What happened.
    pub event: Event,
}

/// What the executor did. The main future of `block_on` or `run` is recorded as a task too,
/// under its own id and the name "main".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// A task was spawned (its first wake follows).
    Spawned {
        /// The new task.
        task: TaskId,
    },
    /// A task became runnable, and why.
    Woken {
        /// The task that will be polled.
        task: TaskId,
        /// What woke it.
        by: WakeCause,
    },
    /// A poll of a task began.
    PollStarted {
        /// The task being polled.
        task: TaskId,
    },
    /// That poll returned.
    PollEnded {
        /// The task that was polled.
        task: TaskId,
    },
    /// A task finished: returned, panicked or was aborted.
    Exited {
        /// The task.
        task: TaskId,
    },
    /// The loop began to wait for I/O, for at most `timeout` (`None`: until something
    /// happens; zero: only a look).
    Parked {
        /// The longest it would wait.
        timeout: Option<Duration>,
    },
    /// The wait for I/O returned with `events` readiness events.
    Unparked {
        /// How many events the reactor took.
        events: usize,
    },
    /// The reactor found an I/O source ready.
    IoReady {
        /// The source (the key of its [`Registration`](crate::io::Registration)).
        source: usize,
        /// Ready to read (or closed for reading).
        readable: bool,
        /// Ready to write (or closed for writing).
        writable: bool,
    },
    /// A timer's deadline passed; its waker is woken next.
    TimerFired,
}

/// What woke a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum WakeCause {
    /// A poll of this task woke it (a task that yields wakes itself).
    Task(TaskId),
    /// Readiness of an I/O source, for reading or for writing.
    Io {
        /// The source (the key of its [`Registration`](crate::io::Registration)).
        source: usize,
        /// True for a writer's wake, false for a reader's.
        write: bool,
    },
    /// A timer's deadline.
    Timer,
    /// A waker used on another thread (a `spawn_blocking` job, a thread's channel send).
    OtherThread,
    /// Code outside any poll: a task spawned before `block_on`, a guard dropped by the
    /// runtime's shutdown.
    Outside,
}

/// A task as the trace names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TracedTask {
    /// Its id.
    pub id: TaskId,
    /// Its name: the one it was spawned with, "main" for the main future, else `None`.
    pub name: Option<String>,
    /// Where it was spawned (for the main future, where `run` or `block_on` was called).
    pub spawned_at: Option<&'static Location<'static>>,
    /// The task that spawned it, when the recorder saw that (`None` for the main future, a
    /// task spawned from outside any task, or one alive before recording began).
    pub parent: Option<TaskId>,
}

impl TracedTask {
    /// `#7 fetch (main.rs:12)`, as the timeline labels its track: id, name, and the file
    /// name and line it was spawned at.
    pub fn label(&self) -> String {
        let mut label = format!("#{}", self.id.as_u64());
        if let Some(name) = &self.name {
            label.push(' ');
            label.push_str(name);
        }
        if let Some(at) = self.spawned_at {
            let file = at.file().rsplit(['/', '\\']).next().unwrap_or(at.file());
            label.push_str(&format!(" ({file}:{})", at.line()));
        }
        label
    }
}

/// A copy of a runtime's flight recorder: its events, oldest first, and the tasks they name.
#[derive(Debug, Clone)]
pub struct Trace {
    events: Vec<TraceEvent>,
    tasks: Vec<TracedTask>,
    dropped: u64,
}

impl Trace {
    /// The events, oldest first.
    pub fn events(&self) -> &[TraceEvent] {
        &self.events
    }

    /// The tasks the events name whose spawn (or, for a main future, first poll) is still in
    /// the ring, in id order.
    pub fn tasks(&self) -> &[TracedTask] {
        &self.tasks
    }

    /// How many older events the ring let go to make room for these.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// The task called `id`, if the trace knows it.
    pub fn task(&self, id: TaskId) -> Option<&TracedTask> {
        self.tasks
            .binary_search_by_key(&id, |t| t.id)
            .ok()
            .map(|i| &self.tasks[i])
    }

    /// The track label of task `id`: its [`TracedTask::label`], or `#id` for a task spawned
    /// before the ring's oldest event.
    fn label(&self, id: TaskId) -> String {
        match self.task(id) {
            Some(task) => task.label(),
            None => format!("#{}", id.as_u64()),
        }
    }

    /// The group task `id` is drawn in: its nearest named ancestor other than the main
    /// future (a named task is its own group), so a named task and everything it spawned sit
    /// together (a simulated host and its tasks, a server and its connections). `None` for
    /// a task with no such ancestor the trace knows.
    pub fn group(&self, id: TaskId) -> Option<&TracedTask> {
        let mut at = self.task(id)?;
        // Bounded: ids of ancestors are smaller, so the walk cannot loop.
        for _ in 0..self.tasks.len() {
            if at.name.as_deref().is_some_and(|name| name != "main") {
                return Some(at);
            }
            at = self.task(at.parent?)?;
        }
        None
    }
}
