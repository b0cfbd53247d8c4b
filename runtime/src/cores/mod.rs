//! Beyond one core: one weft runtime per core, shared nothing, and messages between them.
//!
//! weft runs a runtime on one thread, and its tasks are `!Send`. To use more cores, weft does
//! what glommio, monoio and seastar do, and Python's `multiprocessing` does with processes:
//! start one runtime per core, each with its own tasks, timers and sockets, and let them talk
//! only through messages. No task ever moves between cores, so the single-core path keeps its
//! speed (no atomics are added to it); only the messages cross threads.
//!
//! - `weft::cores::run` (or a [`Builder`]) starts N runtimes, core 0 on the calling thread
//!   and the others on threads of their own, each pinned to a CPU where the system allows,
//!   and calls `main` on each with a [`CoreHandle`] that knows its index.
//! - [`CoreHandle::spawn_on`] runs a closure's future on another core and gives back a
//!   [`CoreJoinHandle`] that any core can await.
//! - [`channel`] carries messages between cores: it is the `async-channel` crate, which works
//!   with any runtime and wakes a weft task on another core through weft's cross-thread wake.
//! - A server shards its connections with one `SO_REUSEPORT` listener per core
//!   (`weft::net::StreamServer::bind_per_core`): the kernel spreads new connections.
//!
//! # Stopping
//! [`CoreHandle::shutdown`] (or a `stop_when` future, which `weft::cores::run` sets to
//! Ctrl-C) asks every core to stop: [`CoreHandle::stopping`] resolves on each, and each
//! `main` has the grace period ([`Builder::grace`], 5 s by default) to return before it is
//! dropped. If a core's `main` returns an error, panics or deadlocks, the other cores are
//! asked to stop the same way, and the first failure is what [`Builder::run`] returns;
//! [`Builder::run_each`] returns every core's outcome instead, so the others' outputs are
//! kept.
//!
//! ```
//! use weft::cores::{self, CoreHandle};
//!
//! // Each core sums its share; core 0 also asks core 1 for a word.
//! let sums = weft::cores::Builder::new(2)
//!     .run(|core: CoreHandle| async move {
//!         let share: u64 = (0..1000).filter(|n| n % 2 == core.index() as u64).sum();
//!         if core.index() == 0 {
//!             let word = core.spawn_on(1, || async { "hello from core 1" }).await.unwrap();
//!             assert_eq!(word, "hello from core 1");
//!             core.shutdown();
//!         }
//!         // A core whose `main` has returned runs no more tasks: core 1 waits for the stop.
//!         core.stopping().await;
//!         Ok::<u64, std::io::Error>(share)
//!     })
//!     .unwrap();
//! assert_eq!(sums.iter().sum::<u64>(), 499_500);
//! # let _ = cores::channel::unbounded::<()>;
//! ```

mod affinity;
mod builder;
mod error;
mod handle;
mod spawn_on;

pub use builder::Builder;
pub use error::{CoreTaskError, CoresError};
pub use handle::CoreHandle;
pub use spawn_on::CoreJoinHandle;

/// Channels between cores: the `async-channel` crate, re-exported. Its `Sender` and
/// `Receiver` are `Send` and `Clone`, and a task on any core may await them; a send from
/// another core wakes the receiver through weft's cross-thread wake (an eventfd write).
pub mod channel {
    pub use async_channel::{
        Receiver, RecvError, SendError, Sender, TryRecvError, TrySendError, bounded, unbounded,
    };
}
