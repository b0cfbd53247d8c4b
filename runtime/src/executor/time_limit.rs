//! `TimeLimitError`: a run that went over its real-time limit, with the task dump that shows
//! what it was waiting on.

use std::fmt;
use std::time::Duration;

use crate::task::TaskDump;

/// [`Runtime::block_on_within`](crate::Runtime::block_on_within) ran out of time. Its
/// `Display` says so and prints the task dump of that moment.
#[derive(Debug, Clone)]
pub struct TimeLimitError {
    limit: Duration,
    dump: TaskDump,
}

impl TimeLimitError {
    pub(crate) fn new(limit: Duration, dump: TaskDump) -> TimeLimitError {
        TimeLimitError { limit, dump }
    }

    /// The limit that was exceeded.
    pub fn limit(&self) -> Duration {
        self.limit
    }

    /// What each task (and the main future) waited on when the time ran out.
    pub fn dump(&self) -> &TaskDump {
        &self.dump
    }
}

impl fmt::Display for TimeLimitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "the run went over its time limit of {:?} (real time); what each task was \
             waiting on:",
            self.limit
        )?;
        write!(f, "{}", self.dump)
    }
}

impl std::error::Error for TimeLimitError {}
