//! weft-runtime: the executor, task cell, reactor and timers of
//! [weft](https://docs.rs/weft), a single-threaded async runtime. Everything that is not a
//! socket lives here; sockets (`weft-net`) are built on [`io`]'s public registration API.
//!
//! Most users depend on the `weft` facade crate instead of this one.

// Unsafe code is confined to the task cell (task/raw/, which alone allows it).
#![deny(unsafe_code)]

pub mod attach;
pub mod channel;
#[cfg(feature = "cores")]
pub mod cores;
mod executor;
pub mod future;
pub mod generator;
pub mod io;
pub mod queue;
mod reactor;
pub mod sync;
pub mod task;
pub mod testing;
pub mod time;
pub mod trace;
mod waiters;

pub use executor::{DeadlockError, Runtime, TaskReport, run, try_run};

/// Configuring a [`Runtime`].
pub mod runtime {
    pub use crate::executor::{
        Builder, DeadlockError, DebugEvent, Instrument, LARGE_FUTURE, Runtime, ShutdownReport,
        TaskReport, TimeLimitError, seed,
    };
}
