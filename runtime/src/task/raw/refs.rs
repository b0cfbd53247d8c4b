//! The counted references to a task cell: the runtime's [`TaskRef`], the [`Notified`] that
//! carries a wake across threads, and the `JoinHandle`'s typed [`JoinRef`]. Part of the cell:
//! its rules are at the top of `raw/mod.rs`.

use std::marker::PhantomData;
use std::ptr::NonNull;
use std::rc::Rc;
use std::task::{Poll, Waker};

use super::{Header, RunOutcome, joiner, name_of};
use crate::task::state::{Snapshot, WakeAction};
use crate::task::{TaskFailure, TaskId};

/// One counted reference to a task. `!Send`: it may run and cancel the task.
pub(crate) struct TaskRef {
    pub(super) ptr: NonNull<Header>,
}

impl TaskRef {
    pub(super) fn header(&self) -> &Header {
        // SAFETY: rule 7: we own a reference, so the cell is alive.
        unsafe { self.ptr.as_ref() }
    }

    pub(crate) fn id(&self) -> TaskId {
        self.header().id
    }

    pub(crate) fn runtime_id(&self) -> u32 {
        self.header().runtime_id
    }

    pub(crate) fn owner_key(&self) -> usize {
        self.header().owner_key as usize
    }

    /// The name given at spawn, if any (kept beside the cell; looked up only if there is one).
    pub(crate) fn name(&self) -> Option<Rc<String>> {
        name_of(self.ptr, self.snapshot())
    }

    /// The cell's address, to recognise wakers of this task (compared, never dereferenced).
    pub(crate) fn addr(&self) -> usize {
        self.ptr.as_ptr() as usize
    }

    pub(crate) fn snapshot(&self) -> Snapshot {
        self.header().state.load()
    }

    /// Cancels the task: it is scheduled to drop its future, unless it has completed.
    pub(crate) fn abort(&self) {
        if self.header().state.abort() == WakeAction::Push {
            // The abort took a reference for the queue entry.
            crate::executor::schedule(TaskRef { ptr: self.ptr });
        }
    }

    /// Polls (or cancels) the task once. Called by the executor on the runtime thread with the
    /// reference it popped from the run queue.
    pub(crate) fn run(&self) -> RunOutcome {
        // SAFETY: rules 1, 6 and 7: the vtable matches the cell; we own a reference; the executor calls this
        // only on the runtime thread for a task it popped from its run queue (SCHEDULED).
        unsafe { (self.header().vtable.run)(self.ptr) }
    }

    /// Drops the future of a task that is not running (shutdown).
    pub(crate) fn cancel_now(&self) {
        if self.snapshot().is_complete() {
            return;
        }
        // SAFETY: rules 1 and 6: the vtable matches the cell; the runtime calls this on its own thread, and
        // never while the task is running.
        unsafe { (self.header().vtable.cancel)(self.ptr) }
    }

    /// Who refers to this task, for the deadlock proof, the task dump and debug mode;
    /// `is_local` says whether a joiner's waker is one of the runtime's own.
    pub(crate) fn waker_census(
        &self,
        is_local: impl Fn(&Waker) -> bool,
    ) -> crate::task::census::WakerCensus {
        let snapshot = self.snapshot();
        let baseline = 1 + usize::from(snapshot.has_join_handle());
        // SAFETY: rule 2: runtime thread; the word is read whole.
        let word = unsafe { *self.header().joiner.get() };
        crate::task::census::WakerCensus {
            other_refs: snapshot.ref_count().saturating_sub(baseline),
            joiner: (word != 0).then(|| {
                // SAFETY: rule 2: encoded on this thread, and it stays in its slot while the
                // peek lives (nothing else runs here but `is_local`, which only compares).
                let waker = unsafe { joiner::peek(word) };
                crate::task::census::Joiner {
                    address: waker.data() as usize,
                    local: is_local(&waker),
                }
            }),
        }
    }

    /// Wraps this reference so it may cross threads (for the remote run queue).
    pub(crate) fn into_notified(self) -> Notified {
        Notified(self)
    }
}

impl Clone for TaskRef {
    fn clone(&self) -> TaskRef {
        self.header().state.ref_inc();
        TaskRef { ptr: self.ptr }
    }
}

impl Drop for TaskRef {
    fn drop(&mut self) {
        if self.header().state.ref_dec() {
            // SAFETY: rule 4: that was the last reference (rule 4).
            unsafe { (self.header().vtable.dealloc)(self.ptr) }
        }
    }
}

/// A scheduled task on its way to its runtime from another thread. It can only be counted,
/// dropped, or turned back into a [`TaskRef`] by the runtime that owns it.
pub(crate) struct Notified(TaskRef);

// SAFETY: rules 3, 4 and 5: a `Notified` exposes no way to run, cancel or read the task; it only carries a
// reference, and reference counting is atomic (rule 3). Dropping it may free the cell, which
// rule 5 allows on any thread.
unsafe impl Send for Notified {}

impl Notified {
    pub(crate) fn runtime_id(&self) -> u32 {
        self.0.runtime_id()
    }

    /// Back to a runnable reference. The caller must be the owning runtime, on its thread.
    pub(crate) fn into_local(self, runtime_id: u32) -> TaskRef {
        assert_eq!(
            self.0.runtime_id(),
            runtime_id,
            "a task reached the wrong runtime"
        );
        self.0
    }
}

/// The `JoinHandle`'s reference, typed with the task's output `T`.
///
/// Only [`allocate`] creates one, for a future whose output is `T`; that is what makes the
/// type-erased `take_output` call below sound.
pub(crate) struct JoinRef<T> {
    pub(super) task: TaskRef,
    pub(super) _output: PhantomData<T>,
}

impl<T> JoinRef<T> {
    pub(crate) fn task(&self) -> &TaskRef {
        &self.task
    }

    /// The task's result once it is complete; otherwise remembers `waker` to be woken then.
    pub(crate) fn poll_result(&self, waker: &Waker) -> Poll<Result<T, TaskFailure>> {
        let header = self.task.header();
        if !header.state.load().is_complete() {
            // SAFETY: rule 2: the JoinRef is on the runtime thread and not complete means the
            // executor is not touching the slot right now (it only does at completion).
            let current = unsafe { *header.joiner.get() };
            // SAFETY: rule 2: a word of this thread's, left in its slot while it is looked at
            // (`will_wake` runs no code of anyone's).
            let same = current != 0 && unsafe { joiner::peek(current) }.will_wake(waker);
            if !same {
                // Encoded before the slot is written and the old waker dropped after: a
                // waker's clone or drop may run any code (a task dump reading this slot, say).
                let new = joiner::encode(waker.clone());
                // SAFETY: rule 2, as above; the word is written whole.
                let old = unsafe { header.joiner.get().replace(new) };
                if old != 0 {
                    // SAFETY: rule 2: `old` was this slot's, now replaced: taken once.
                    drop(unsafe { joiner::decode(old) });
                }
            }
            return Poll::Pending;
        }
        let mut out: Option<Result<T, TaskFailure>> = None;
        // SAFETY: rules 1 and 6: COMPLETE is set; `T` is the future's output type (see the type's doc), so
        // the destination has the type `take_output::<F>` writes.
        unsafe { (header.vtable.take_output)(self.task.ptr, (&raw mut out).cast()) };
        Poll::Ready(out.expect("take_output always writes the result"))
    }

    pub(crate) fn abort(&self) {
        self.task.abort();
    }
}

impl<T> Drop for JoinRef<T> {
    fn drop(&mut self) {
        let header = self.task.header();
        let before = header.state.drop_join_handle();
        if before.is_complete() {
            // The usual case, a handle dropped after it returned an unnamed task's result,
            // has nothing left to drop.
            if !before.is_taken() || before.is_named() {
                // SAFETY: rules 1 and 5: COMPLETE: the result (if not taken) and the name are
                // ours to drop, on the runtime thread.
                unsafe { (header.vtable.drop_output)(self.task.ptr) };
            }
        } else {
            // SAFETY: rule 2, as in `poll_result`.
            let word = unsafe { header.joiner.get().replace(0) };
            if word != 0 {
                // SAFETY: rule 2: the slot's word, taken once.
                drop(unsafe { joiner::decode(word) });
            }
        }
        // `self.task` then releases the handle's reference.
    }
}
