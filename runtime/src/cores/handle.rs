//! `CoreHandle`: what each core's `main` gets; shared by all cores of one run.

use std::any::Any;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};

use async_channel::{Receiver, Sender};

use super::spawn_on::{self, CoreJoinHandle, Job};

/// What the cores of one run share.
pub(super) struct Shared {
    /// One inbox per core: closures to run there ([`CoreHandle::spawn_on`]).
    pub(super) inboxes: Vec<Sender<Job>>,
    /// Dropped (closing the channel) to ask every core to stop; nothing is ever sent on it.
    stop: Mutex<Option<Sender<()>>>,
    stopped: Receiver<()>,
    /// Values set once per run ([`CoreHandle::get_or_try_init`]).
    values: Mutex<HashMap<String, Box<dyn Any + Send + Sync>>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Nothing is left half-changed by a panic under these locks (a take, an insert).
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Shared {
    pub(super) fn new(inboxes: Vec<Sender<Job>>) -> Shared {
        let (stop, stopped) = async_channel::bounded(1);
        Shared {
            inboxes,
            stop: Mutex::new(Some(stop)),
            stopped,
            values: Mutex::new(HashMap::new()),
        }
    }

    pub(super) fn shutdown(&self) {
        drop(lock(&self.stop).take());
    }
}

/// One core of a multi-core run: its index, and the way to the others. `Clone` and `Send`, so
/// a task may keep one, and a closure sent to another core may carry it.
#[derive(Clone)]
pub struct CoreHandle {
    pub(super) index: usize,
    pub(super) shared: Arc<Shared>,
}

impl CoreHandle {
    /// This core's index, from 0 to [`count`](CoreHandle::count) − 1. Core 0 runs on the thread
    /// that started the run.
    pub fn index(&self) -> usize {
        self.index
    }

    /// How many cores the run has.
    pub fn count(&self) -> usize {
        self.shared.inboxes.len()
    }

    /// Runs the future `make` returns as a task on core `core` (this core too, if asked),
    /// and returns a handle that any core may await for its output.
    ///
    /// `make` is `Send`, and is called on the target core, so the future itself need not be:
    /// it may hold `Rc`s and weft's `!Send` primitives of that core. Only the output crosses
    /// back. Dropping the handle detaches the task, as with [`spawn`](crate::task::spawn).
    ///
    /// The task runs while its core runs: once that core's `main` has returned, its runtime
    /// is gone, and the handle says so ([`CoreTaskError::NotRun`](super::CoreTaskError), or
    /// a cancelled `Join` if the task had started).
    ///
    /// ```
    /// weft::cores::Builder::new(2)
    ///     .run(|core| async move {
    ///         if core.index() == 0 {
    ///             let from = core.spawn_on(1, || async { std::rc::Rc::new(1).as_ref() + 1 });
    ///             assert_eq!(from.await.unwrap(), 2);
    ///             core.shutdown();
    ///         }
    ///         core.stopping().await;
    ///         Ok::<(), std::io::Error>(())
    ///     })
    ///     .unwrap();
    /// ```
    pub fn spawn_on<F, Fut>(&self, core: usize, make: F) -> CoreJoinHandle<Fut::Output>
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future + 'static,
        Fut::Output: Send + 'static,
    {
        spawn_on::spawn_on(self.shared.inboxes.get(core), core, make)
    }

    /// Asks every core to stop: [`stopping`](CoreHandle::stopping) resolves on each, and each
    /// core's `main` then has the run's grace period to return before it is dropped.
    pub fn shutdown(&self) {
        self.shared.shutdown();
    }

    /// Whether a stop was asked for.
    pub fn is_stopping(&self) -> bool {
        self.shared.stopped.is_closed()
    }

    /// Resolves once a stop is asked for (by [`shutdown`](CoreHandle::shutdown) on any core,
    /// the run's `stop_when` future, such as Ctrl-C, or a core that failed).
    pub async fn stopping(&self) {
        // Nothing is ever sent: `recv` returns when the last sender is dropped.
        let _ = self.shared.stopped.recv().await;
    }

    /// The value stored under `key` for this run; the first core to ask stores what `init`
    /// returns (a failed `init` stores nothing, and the next caller tries again). Cores use it
    /// to agree on something only one of them should decide, such as the port a server bound
    /// when asked for port 0. `init` runs under a lock that every core's call takes: keep it
    /// short (a `bind`, not a network round trip).
    ///
    /// # Panics
    /// If `key` already holds a value of another type.
    pub fn get_or_try_init<T, E>(
        &self,
        key: &str,
        init: impl FnOnce() -> Result<T, E>,
    ) -> Result<T, E>
    where
        T: Clone + Send + Sync + 'static,
    {
        let mut values = lock(&self.shared.values);
        if let Some(value) = values.get(key) {
            return Ok(value
                .downcast_ref::<T>()
                .unwrap_or_else(|| {
                    panic!("CoreHandle::get_or_try_init: {key:?} holds another type")
                })
                .clone());
        }
        let value = init()?;
        values.insert(key.to_owned(), Box::new(value.clone()));
        Ok(value)
    }
}

impl std::fmt::Debug for CoreHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CoreHandle")
            .field("index", &self.index)
            .field("count", &self.count())
            .finish()
    }
}
