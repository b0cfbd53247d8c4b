//! The task's state word: flags and a reference count in one `AtomicUsize`.
//!
//! Every transition is a method that returns what the caller must do next, so call sites
//! read as a state machine instead of bit twiddling (the shape of tokio's `Snapshot`).
//!
//! | flag          | set by                         | cleared by                         |
//! |---------------|--------------------------------|------------------------------------|
//! | `SCHEDULED`   | a wake or an abort (any thread)| the executor when it starts a run  |
//! | `RUNNING`     | the executor, before a poll    | the executor, after the poll       |
//! | `COMPLETE`    | the executor, once the future is gone (returned, panicked, cancelled) | never |
//! | `CANCELLED`   | `JoinHandle::abort`            | never                              |
//! | `JOIN_HANDLE` | spawn                          | dropping the `JoinHandle`          |
//! | `OUTPUT`      | the executor, at completion, when the future returned | never             |
//! | `PANICKED`    | the executor, at completion, when the future panicked | never              |
//! | `TAKEN`       | the `JoinHandle`, taking or dropping the result | never                    |
//! | `NAMED`       | spawn, for a task with a name  | never                              |
//!
//! `OUTPUT`, `PANICKED` and `TAKEN` say what the cell's stage holds once `COMPLETE` is set
//! (the stage is a union, and these are its tag): the output while `OUTPUT` is set and
//! `TAKEN` is not; otherwise nothing, with a panic's payload kept beside the cell until it is
//! taken, or nothing at all for a cancelled task.
//!
//! Only `SCHEDULED` and the reference count are touched from other threads (by wakers); every
//! other flag changes on the runtime's thread. All changes are atomic read-modify-writes on one
//! word, so the two kinds of writer never lose each other's updates.

use std::sync::atomic::{AtomicUsize, Ordering::AcqRel, Ordering::Acquire, Ordering::Relaxed};

const SCHEDULED: usize = 1 << 0;
const RUNNING: usize = 1 << 1;
const COMPLETE: usize = 1 << 2;
const CANCELLED: usize = 1 << 3;
const JOIN_HANDLE: usize = 1 << 4;
const OUTPUT: usize = 1 << 5;
const PANICKED: usize = 1 << 6;
const TAKEN: usize = 1 << 7;
const NAMED: usize = 1 << 8;
const REF_SHIFT: usize = 9;
const REF_ONE: usize = 1 << REF_SHIFT;
/// Past this many references something leaks wakers in a loop; abort as `Arc` does.
const REF_LIMIT: usize = isize::MAX as usize;

/// The state word of one task.
pub(crate) struct State(AtomicUsize);

/// A copy of the state word, read through named predicates.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Snapshot(usize);

impl Snapshot {
    pub(crate) fn is_scheduled(self) -> bool {
        self.0 & SCHEDULED != 0
    }
    pub(crate) fn is_complete(self) -> bool {
        self.0 & COMPLETE != 0
    }
    pub(crate) fn has_join_handle(self) -> bool {
        self.0 & JOIN_HANDLE != 0
    }
    /// Complete, and the stage holds the output (not taken yet).
    pub(crate) fn has_output(self) -> bool {
        self.0 & (OUTPUT | TAKEN) == OUTPUT
    }
    /// Complete because the future panicked.
    pub(crate) fn panicked(self) -> bool {
        self.0 & PANICKED != 0
    }
    /// The `JoinHandle` took (or dropped) the result.
    pub(crate) fn is_taken(self) -> bool {
        self.0 & TAKEN != 0
    }
    pub(crate) fn is_named(self) -> bool {
        self.0 & NAMED != 0
    }
    pub(crate) fn ref_count(self) -> usize {
        self.0 >> REF_SHIFT
    }
}

/// What a waker (or an abort) must do after flagging the task.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum WakeAction {
    /// The task was idle and is now `SCHEDULED`: push it onto a run queue.
    Push,
    /// Nothing to do: it is queued already, running (the executor re-queues it after the
    /// poll), or finished.
    Nothing,
}

/// How a task's future ended, as the state word records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Completion {
    /// It returned: the output is in the stage.
    Output,
    /// It panicked: the payload is beside the cell (if a `JoinHandle` may want it).
    Panicked,
    /// It was cancelled.
    Cancelled,
}

/// What the executor does with a task it popped from the run queue.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum StartAction {
    /// Poll the future.
    Poll,
    /// `abort` was called: drop the future instead of polling it.
    Cancel,
}

/// What the executor does after a poll that returned `Pending`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum EndAction {
    /// Nobody woke it: it waits for its waker.
    Idle,
    /// It was woken during its own poll: queue it again (behind the tasks already queued).
    Requeue,
    /// It was aborted during its own poll: drop the future now.
    Cancel,
}

impl State {
    /// A new task: queued once, with a `JoinHandle`, and `refs` references.
    pub(crate) fn new_spawned(refs: usize, named: bool) -> State {
        let named = if named { NAMED } else { 0 };
        State(AtomicUsize::new(
            SCHEDULED | JOIN_HANDLE | named | (refs * REF_ONE),
        ))
    }

    pub(crate) fn load(&self) -> Snapshot {
        Snapshot(self.0.load(Acquire))
    }

    /// Applies `f` until the compare-exchange succeeds; returns what `f` returned.
    fn update<R>(&self, mut f: impl FnMut(usize) -> (Option<usize>, R)) -> R {
        let mut current = self.0.load(Acquire);
        loop {
            let (next, result) = f(current);
            let Some(next) = next else { return result };
            match self.0.compare_exchange_weak(current, next, AcqRel, Acquire) {
                Ok(_) => return result,
                Err(actual) => current = actual,
            }
        }
    }

    /// A wake that consumes its reference. On `Push` the reference moves to the queue entry;
    /// on `Nothing` the caller drops it.
    pub(crate) fn wake_by_val(&self) -> WakeAction {
        self.update(|s| {
            if s & (COMPLETE | SCHEDULED) != 0 {
                (None, WakeAction::Nothing)
            } else if s & RUNNING != 0 {
                (Some(s | SCHEDULED), WakeAction::Nothing)
            } else {
                (Some(s | SCHEDULED), WakeAction::Push)
            }
        })
    }

    /// A wake that keeps its reference. On `Push` a new reference was taken for the queue entry.
    pub(crate) fn wake_by_ref(&self) -> WakeAction {
        let action = self.update(|s| {
            if s & (COMPLETE | SCHEDULED) != 0 {
                (None, WakeAction::Nothing)
            } else if s & RUNNING != 0 {
                (Some(s | SCHEDULED), WakeAction::Nothing)
            } else {
                (Some((s | SCHEDULED) + REF_ONE), WakeAction::Push)
            }
        });
        if action == WakeAction::Push {
            self.check_ref_limit();
        }
        action
    }

    /// `JoinHandle::abort`: flags the task and, if it is idle, queues it (taking a reference
    /// for the queue entry) so that the executor drops its future on its own thread.
    pub(crate) fn abort(&self) -> WakeAction {
        self.update(|s| {
            if s & (COMPLETE | CANCELLED) != 0 {
                (None, WakeAction::Nothing)
            } else if s & (RUNNING | SCHEDULED) != 0 {
                (Some(s | CANCELLED), WakeAction::Nothing)
            } else {
                (
                    Some((s | CANCELLED | SCHEDULED) + REF_ONE),
                    WakeAction::Push,
                )
            }
        })
    }

    /// The executor pops the task: `SCHEDULED` becomes `RUNNING`.
    pub(crate) fn start_run(&self) -> StartAction {
        self.update(|s| {
            debug_assert!(s & SCHEDULED != 0 && s & (RUNNING | COMPLETE) == 0);
            let action = if s & CANCELLED != 0 {
                StartAction::Cancel
            } else {
                StartAction::Poll
            };
            (Some((s & !SCHEDULED) | RUNNING), action)
        })
    }

    /// The poll returned `Pending`. If a wake arrived meanwhile, `SCHEDULED` stays set and the
    /// executor re-queues the reference it already holds.
    pub(crate) fn end_run(&self) -> EndAction {
        self.update(|s| {
            debug_assert!(s & RUNNING != 0);
            if s & CANCELLED != 0 {
                (None, EndAction::Cancel)
            } else if s & SCHEDULED != 0 {
                (Some(s & !RUNNING), EndAction::Requeue)
            } else {
                (Some(s & !RUNNING), EndAction::Idle)
            }
        })
    }

    /// The future is gone, for the reason `how`. Later wakes are no-ops.
    pub(crate) fn complete(&self, how: Completion) -> Snapshot {
        let flags = COMPLETE
            | match how {
                Completion::Output => OUTPUT,
                Completion::Panicked => PANICKED,
                Completion::Cancelled => 0,
            };
        let prev = self.update(|s| (Some((s & !(RUNNING | SCHEDULED)) | flags), s));
        Snapshot((prev & !(RUNNING | SCHEDULED)) | flags)
    }

    /// The result leaves the stage (taken by the `JoinHandle`, or dropped): `TAKEN` is set.
    /// Returns the state from just before, which says what was there.
    pub(crate) fn take_result(&self) -> Snapshot {
        Snapshot(self.0.fetch_or(TAKEN, AcqRel))
    }

    /// The `JoinHandle` is dropped; returns the state from just before.
    pub(crate) fn drop_join_handle(&self) -> Snapshot {
        Snapshot(self.0.fetch_and(!JOIN_HANDLE, AcqRel))
    }

    pub(crate) fn ref_inc(&self) {
        self.0.fetch_add(REF_ONE, Relaxed);
        self.check_ref_limit();
    }

    /// Drops one reference; true if it was the last one and the cell must be freed.
    pub(crate) fn ref_dec(&self) -> bool {
        let prev = self.0.fetch_sub(REF_ONE, AcqRel);
        debug_assert!(prev >> REF_SHIFT >= 1, "task reference count underflow");
        prev >> REF_SHIFT == 1
    }

    fn check_ref_limit(&self) {
        if self.0.load(Relaxed) >> REF_SHIFT > REF_LIMIT >> REF_SHIFT {
            std::process::abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wake_twice_before_poll_pushes_once() {
        let state = State::new_spawned(1, false);
        assert_eq!(state.start_run(), StartAction::Poll);
        assert_eq!(state.end_run(), EndAction::Idle);
        assert_eq!(state.wake_by_ref(), WakeAction::Push);
        assert_eq!(state.wake_by_ref(), WakeAction::Nothing);
        assert_eq!(state.load().ref_count(), 2);
    }

    #[test]
    fn wake_during_poll_requeues_after_it() {
        let state = State::new_spawned(1, false);
        state.start_run();
        assert_eq!(state.wake_by_ref(), WakeAction::Nothing);
        assert_eq!(state.end_run(), EndAction::Requeue);
        assert!(state.load().is_scheduled());
    }

    #[test]
    fn wake_after_complete_is_a_no_op() {
        let state = State::new_spawned(1, false);
        state.start_run();
        state.complete(Completion::Output);
        assert_eq!(state.wake_by_ref(), WakeAction::Nothing);
        assert_eq!(state.wake_by_val(), WakeAction::Nothing);
        assert!(!state.load().is_scheduled());
    }

    #[test]
    fn abort_of_idle_task_queues_it_for_cancellation() {
        let state = State::new_spawned(1, false);
        state.start_run();
        state.end_run();
        assert_eq!(state.abort(), WakeAction::Push);
        assert_eq!(state.abort(), WakeAction::Nothing);
        assert_eq!(state.start_run(), StartAction::Cancel);
    }

    #[test]
    fn abort_during_poll_cancels_after_it() {
        let state = State::new_spawned(1, false);
        state.start_run();
        assert_eq!(state.abort(), WakeAction::Nothing);
        assert_eq!(state.end_run(), EndAction::Cancel);
    }

    #[test]
    fn the_result_is_taken_once_and_says_what_it_was() {
        let state = State::new_spawned(1, true);
        state.start_run();
        let done = state.complete(Completion::Output);
        assert!(done.is_complete() && done.has_output() && !done.panicked() && done.is_named());
        let before = state.take_result();
        assert!(before.has_output() && !before.is_taken());
        let again = state.take_result();
        assert!(again.is_taken() && !again.has_output());
        assert_eq!(state.load().ref_count(), 1, "flags leave the count alone");
    }

    #[test]
    fn last_reference_is_reported_once() {
        let state = State::new_spawned(2, false);
        assert!(!state.ref_dec());
        assert!(state.ref_dec());
    }
}
