//! Wakes that arrive from other threads.
//!
//! A `Waker` is `Send + Sync`, so a std thread may wake a task. That thread must not touch the
//! runtime's `!Send` run queue, so it pushes the task onto this mutex-protected queue and
//! interrupts `epoll_wait` through a `mio::Waker`. The runtime moves the tasks to its local
//! queue on its next turn. Runtimes are found by id through a small global registry, so a task
//! costs no `Arc` to reach its runtime, and a wake for a runtime that has shut down is dropped
//! (its tasks are complete by then, so such a wake would be a no-op anyway).

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::task::raw::Notified;

/// The part of a runtime other threads may reach.
pub(crate) struct Remote {
    pub(crate) id: u32,
    queue: Mutex<Vec<Notified>>,
    /// Set when the runtime has something to look at (queued tasks or a woken main future) and
    /// the `mio::Waker` was already fired for it; cleared by the runtime before it drains.
    notified: AtomicBool,
    waker: mio::Waker,
}

static REGISTRY: Mutex<Vec<Arc<Remote>>> = Mutex::new(Vec::new());
static NEXT_RUNTIME_ID: AtomicU32 = AtomicU32::new(1);

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding these locks cannot leave the data half-changed (push/take only).
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Remote {
    /// Creates and registers the remote side of a new runtime.
    pub(crate) fn register(waker: mio::Waker) -> Arc<Remote> {
        let remote = Arc::new(Remote {
            id: NEXT_RUNTIME_ID.fetch_add(1, Ordering::Relaxed),
            queue: Mutex::new(Vec::new()),
            notified: AtomicBool::new(false),
            waker,
        });
        lock(&REGISTRY).push(remote.clone());
        remote
    }

    /// Removes the runtime from the registry; later remote wakes for it are dropped.
    pub(crate) fn unregister(&self) {
        lock(&REGISTRY).retain(|r| r.id != self.id);
    }

    /// Interrupts the runtime's `epoll_wait` unless an interruption is already pending.
    pub(crate) fn notify(&self) {
        if !self.notified.swap(true, Ordering::AcqRel) {
            // Failing to write the eventfd means it is already full, i.e. already signalled.
            let _ = self.waker.wake();
        }
    }

    /// Whether a notification arrived since the last [`take`](Self::take).
    pub(crate) fn is_notified(&self) -> bool {
        self.notified.load(Ordering::Acquire)
    }

    /// Takes every task queued from other threads. Clearing the flag *before* taking the queue
    /// means a push that races with this call either lands in this batch or notifies again.
    pub(crate) fn take(&self) -> Vec<Notified> {
        // A plain load first: the loop asks every turn, and the answer is nearly always no,
        // which a read-modify-write would pay a locked instruction to learn.
        if !self.notified.load(Ordering::Acquire) || !self.notified.swap(false, Ordering::AcqRel) {
            return Vec::new();
        }
        std::mem::take(&mut *lock(&self.queue))
    }
}

/// Interrupts every runtime's `epoll_wait` (`weft-ps`'s signal reached one thread; each
/// runtime then looks at its own flag).
pub(crate) fn notify_all() {
    let remotes: Vec<Arc<Remote>> = lock(&REGISTRY).clone();
    for remote in remotes {
        remote.notify();
    }
}

/// Queues a task woken on a thread that is not its runtime's.
pub(crate) fn schedule_remote(task: Notified) {
    let runtime_id = task.runtime_id();
    let remote = lock(&REGISTRY).iter().find(|r| r.id == runtime_id).cloned();
    if let Some(remote) = remote {
        lock(&remote.queue).push(task);
        remote.notify();
    }
    // else: the runtime is gone; dropping the reference is all that is left to do.
}
