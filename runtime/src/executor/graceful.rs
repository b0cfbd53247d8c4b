//! [`Runtime::shutdown`]: a grace period for the tasks, then a report of those that did not
//! finish and what each was waiting on: the dump `weft-ps` shows, at the moment a program
//! stops. asyncio's `run` cancels leftovers without a word; tokio's `shutdown_timeout`
//! says nothing of them.

use std::fmt;
use std::future::poll_fn;
use std::time::Duration;

use super::Runtime;
use crate::task::TaskDump;

/// What [`Runtime::shutdown`] found: the tasks still alive when the grace period ended
/// (dropped since), each with what it was waiting on. Its `Display` is the message to log.
#[derive(Debug, Clone)]
pub struct ShutdownReport {
    /// The grace period the tasks had.
    pub grace: Duration,
    /// The tasks that had not finished, as a [task dump](crate::task::dump) taken when the
    /// grace period ended (empty if every task finished).
    pub unfinished: TaskDump,
}

impl ShutdownReport {
    /// Whether every task finished within the grace period.
    pub fn all_finished(&self) -> bool {
        self.unfinished.tasks.is_empty()
    }
}

impl fmt::Display for ShutdownReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let left = self.unfinished.tasks.len();
        if left == 0 {
            return write!(f, "shutdown: every task finished within {:?}", self.grace);
        }
        write!(
            f,
            "shutdown: {left} task{} did not finish within {:?} and {} dropped; each was waiting on:\n{}",
            if left == 1 { "" } else { "s" },
            self.grace,
            if left == 1 { "was" } else { "were" },
            self.unfinished
        )
    }
}

impl Runtime {
    /// Shuts the runtime down gracefully: runs it until every task has finished or `grace`
    /// has passed on its clock, then drops the tasks still alive (as dropping the runtime
    /// does) and reports which they were and what each was waiting on.
    ///
    /// Tasks may still spawn others during the grace period (a cleanup step, a final
    /// flush). New work stops where the program stops taking it: a `StreamServer`'s stop
    /// handle, a closed queue. With Ctrl-C:
    ///
    /// ```no_run
    /// # use std::time::Duration;
    /// let rt = weft::Runtime::new().unwrap();
    /// rt.spawn(async { /* serve */ });
    /// rt.block_on(weft::signal::ctrl_c()).unwrap();
    /// let report = rt.shutdown(Duration::from_secs(5));
    /// if !report.all_finished() {
    ///     eprintln!("{report}");
    /// }
    /// ```
    ///
    /// # Panics
    /// Inside a running runtime, as [`block_on`](Runtime::block_on).
    #[track_caller]
    pub fn shutdown(self, grace: Duration) -> ShutdownReport {
        let executor = self.executor().clone();
        let finished = self.block_on(async {
            crate::time::timeout(grace, poll_fn(|cx| executor.poll_tasks_done(cx)))
                .await
                .is_ok()
        });
        let unfinished = if finished {
            TaskDump::default()
        } else {
            executor.dump()
        };
        drop(self);
        ShutdownReport { grace, unfinished }
    }
}
