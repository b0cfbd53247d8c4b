//! Why a queue operation did not do what was asked: Python's `queue.Full`, `queue.Empty`,
//! `QueueShutDown`, and `task_done`'s `ValueError`, as values.

use std::fmt;

#[cfg(doc)]
use super::Queue;

/// Why [`Queue::try_put`] or [`Queue::put`] did not add the item (which comes back).
#[derive(PartialEq, Eq)]
pub enum PutError<T> {
    /// The queue is full (Python's `queue.Full`).
    Full(T),
    /// The queue was shut down (Python's `ShutDown`).
    ShutDown(T),
}

impl<T> PutError<T> {
    /// The item that was not added.
    pub fn into_inner(self) -> T {
        match self {
            PutError::Full(item) | PutError::ShutDown(item) => item,
        }
    }
}

impl<T> fmt::Debug for PutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PutError::Full(_) => f.write_str("Full(..)"),
            PutError::ShutDown(_) => f.write_str("ShutDown(..)"),
        }
    }
}

impl<T> fmt::Display for PutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PutError::Full(_) => f.write_str("the queue is full"),
            PutError::ShutDown(_) => f.write_str("the queue is shut down"),
        }
    }
}

impl<T> std::error::Error for PutError<T> {}

/// Why [`Queue::try_get`] returned no item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GetError {
    /// Nothing is queued (Python's `queue.Empty`).
    Empty,
    /// The queue was shut down and is empty.
    ShutDown,
}

impl fmt::Display for GetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GetError::Empty => f.write_str("the queue is empty"),
            GetError::ShutDown => f.write_str("the queue is shut down"),
        }
    }
}

impl std::error::Error for GetError {}

/// [`Queue::get`] after a shutdown left nothing to get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShutDownError;

impl fmt::Display for ShutDownError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the queue is shut down")
    }
}

impl std::error::Error for ShutDownError {}

/// [`Queue::task_done`] was called more times than items were put.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskDoneError;

impl fmt::Display for TaskDoneError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("task_done() called more times than there were items")
    }
}

impl std::error::Error for TaskDoneError {}
