//! What can go wrong with a run on several cores, or with a task sent to another core.

use std::any::Any;
use std::fmt;

use crate::DeadlockError;
use crate::task::JoinError;

/// Why [`Builder::run`](super::Builder::run) failed: the first core to fail, and how. The
/// other cores were asked to stop when it happened.
pub enum CoresError<E> {
    /// A core's `main` returned this error.
    Failed {
        /// The core's index.
        core: usize,
        /// What its `main` returned.
        error: E,
    },
    /// A core's `main` panicked; the payload can be re-raised with
    /// `std::panic::resume_unwind`.
    Panicked {
        /// The core's index.
        core: usize,
        /// The panic payload.
        payload: Box<dyn Any + Send>,
    },
    /// A core's runtime proved that its `main` waits for something nothing can ever do. Rare
    /// on a core: its inbox can always get work from another core, and the proof counts
    /// that as a possible wake-up.
    Deadlocked {
        /// The core's index.
        core: usize,
        /// The report, with the core's task dump.
        report: Box<DeadlockError>,
    },
    /// A core's `main` was still running when the grace period after a stop ran out, and was
    /// dropped.
    Cancelled {
        /// The core's index.
        core: usize,
    },
    /// A core could not start: no thread or no runtime (out of threads, memory or fds).
    Start {
        /// The core's index.
        core: usize,
        /// The system's error.
        error: std::io::Error,
    },
}

impl<E> CoresError<E> {
    /// The index of the core that failed.
    pub fn core(&self) -> usize {
        match self {
            CoresError::Failed { core, .. }
            | CoresError::Panicked { core, .. }
            | CoresError::Deadlocked { core, .. }
            | CoresError::Cancelled { core }
            | CoresError::Start { core, .. } => *core,
        }
    }
}

impl<E: fmt::Display> fmt::Display for CoresError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CoresError::Failed { core, error } => write!(f, "core {core} failed: {error}"),
            CoresError::Panicked { core, payload } => write!(
                f,
                "core {core} panicked: {}",
                crate::task::raw::panic_message(payload.as_ref())
            ),
            CoresError::Deadlocked { core, report } => write!(f, "core {core}: {report}"),
            CoresError::Cancelled { core } => write!(
                f,
                "core {core} was still running when the grace period after the stop ran out"
            ),
            CoresError::Start { core, error } => write!(f, "core {core} could not start: {error}"),
        }
    }
}

impl<E: fmt::Display> fmt::Debug for CoresError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CoresError({self})")
    }
}

impl<E: fmt::Display> std::error::Error for CoresError<E> {}

/// Why a [`CoreJoinHandle`](super::CoreJoinHandle) gave no output.
#[derive(Debug)]
pub enum CoreTaskError {
    /// The task ran on its core and panicked or was cancelled (that core stopped).
    Join(JoinError),
    /// The core stopped before it started the task, or there is no such core.
    NotRun {
        /// The core it was sent to.
        core: usize,
    },
}

impl CoreTaskError {
    /// The panic payload, if the task panicked.
    pub fn try_into_panic(self) -> Result<Box<dyn Any + Send>, CoreTaskError> {
        match self {
            CoreTaskError::Join(join) => join.try_into_panic().map_err(CoreTaskError::Join),
            other => Err(other),
        }
    }
}

impl fmt::Display for CoreTaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CoreTaskError::Join(join) => join.fmt(f),
            CoreTaskError::NotRun { core } => {
                write!(
                    f,
                    "core {core} stopped (or does not exist) before it ran the task"
                )
            }
        }
    }
}

impl std::error::Error for CoreTaskError {}
