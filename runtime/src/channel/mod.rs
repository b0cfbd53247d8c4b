//! Channels between tasks: [`oneshot`], [`mpsc`] (bounded, unbounded, and the capacity-0
//! rendezvous), [`broadcast`], [`watch`], and [`pipe`](pipe()) — multiprocessing's duplex
//! `Pipe`.
//!
//! All single-threaded (`Rc` inside, `!Send`), with no atomics and no locks: they connect tasks
//! of one runtime. Receiving consumes the task's [budget](crate::task::poll_budget), so a task
//! draining a busy channel still lets the others run.

pub mod broadcast;
pub mod mpsc;
pub mod oneshot;
mod pipe;
pub mod watch;

use std::fmt;

pub use pipe::{Connection, PipeClosedError, pipe};

/// The sending side is gone and nothing is left to receive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecvError;

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the channel is closed")
    }
}

impl std::error::Error for RecvError {}

/// Why a `try_recv` returned nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryRecvError {
    /// Nothing to receive right now.
    Empty,
    /// Nothing to receive ever again.
    Disconnected,
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("the channel is empty"),
            TryRecvError::Disconnected => f.write_str("the channel is closed"),
        }
    }
}

impl std::error::Error for TryRecvError {}

/// The receiving side is gone; the value comes back.
#[derive(PartialEq, Eq)]
pub struct SendError<T>(pub T);

impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SendError(..)")
    }
}

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the receiving side of the channel is gone")
    }
}

impl<T> std::error::Error for SendError<T> {}

/// Why a `try_send` did not send; the value comes back.
#[derive(PartialEq, Eq)]
pub enum TrySendError<T> {
    /// No room (or, for a rendezvous channel, no receiver waiting).
    Full(T),
    /// The receiving side is gone.
    Closed(T),
}

impl<T> fmt::Debug for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySendError::Full(_) => f.write_str("Full(..)"),
            TrySendError::Closed(_) => f.write_str("Closed(..)"),
        }
    }
}

impl<T> fmt::Display for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySendError::Full(_) => f.write_str("the channel is full"),
            TrySendError::Closed(_) => f.write_str("the receiving side of the channel is gone"),
        }
    }
}

impl<T> std::error::Error for TrySendError<T> {}
