//! A task's identity: its [`TaskId`], and the label reports name it by. Vocabulary the
//! executor and every report share; it depends on nothing of the runtime.

use std::fmt;
use std::num::NonZeroU64;

/// A task's id: unique among the tasks of one runtime, and shown as `#N`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TaskId(NonZeroU64);

impl TaskId {
    pub(crate) fn new(n: NonZeroU64) -> TaskId {
        TaskId(n)
    }

    /// The id as a number.
    pub fn as_u64(self) -> u64 {
        self.0.get()
    }
}

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// How reports name a task: `task #7 (fetch)`, or `task #7` if it has no name.
pub(crate) struct TaskLabel<'a>(pub(crate) TaskId, pub(crate) Option<&'a str>);

impl fmt::Display for TaskLabel<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "task {}", self.0)?;
        match self.1 {
            Some(name) => write!(f, " ({name})"),
            None => Ok(()),
        }
    }
}
