//! The tasks a runtime owns: every task whose future is alive, by a key stored in its header,
//! so that shutdown can drop them and reports can list them; and the order in which the
//! watched ones complete (for `wait` and `as_completed`).

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::num::NonZeroU64;
use std::panic::Location;

use slab::Slab;

use super::TaskReport;
use crate::task::raw::TaskRef;
use crate::task::{TaskId, TaskState};

/// The runtime's reference to a live task, and where it was spawned (kept here rather than
/// in the task's header: this slab entry is 16 bytes either way, the header gets smaller).
pub(crate) struct OwnedTask {
    task: TaskRef,
    spawned_at: &'static Location<'static>,
}

impl OwnedTask {
    pub(crate) fn task(&self) -> &TaskRef {
        &self.task
    }

    pub(crate) fn spawned_at(&self) -> &'static Location<'static> {
        self.spawned_at
    }

    /// The task as reports describe it; `awaited` as the caller counts it.
    pub(crate) fn report(&self, awaited: bool) -> TaskReport {
        TaskReport {
            id: self.task.id(),
            name: self.task.name().map(|name| name.to_string()),
            spawned_at: self.spawned_at,
            awaited,
        }
    }

    /// Running if it is `current`, else ready if it is queued, else waiting.
    pub(crate) fn state(&self, current: Option<TaskId>) -> TaskState {
        if current == Some(self.task.id()) {
            TaskState::Running
        } else if self.task.snapshot().is_scheduled() {
            TaskState::Ready
        } else {
            TaskState::Waiting
        }
    }

    /// The report for a debug event, which counts any awaiter of the task's `JoinHandle`.
    pub(crate) fn debug_report(&self) -> TaskReport {
        self.report(self.task.waker_census(|_| true).joiner.is_some())
    }
}

/// A runtime's live tasks and the ids it hands out.
pub(crate) struct OwnedTasks {
    slab: RefCell<Slab<OwnedTask>>,
    next_id: Cell<u64>,
    /// Completion order, for the tasks `wait` and `as_completed` watch: task id -> 0 while it
    /// runs, then its place among the completions seen. Empty (one untaken branch per
    /// completion) unless something watches.
    completions: RefCell<HashMap<TaskId, u64>>,
    /// Whether `completions` has entries: the one load a completion pays otherwise.
    watching: Cell<bool>,
    completion_count: Cell<u64>,
}

impl OwnedTasks {
    pub(crate) fn new() -> OwnedTasks {
        OwnedTasks {
            slab: RefCell::new(Slab::with_capacity(256)),
            next_id: Cell::new(1),
            completions: RefCell::new(HashMap::new()),
            watching: Cell::new(false),
            completion_count: Cell::new(0),
        }
    }

    /// A fresh task id (the main future of each `block_on` gets one too).
    #[inline]
    pub(crate) fn next_id(&self) -> TaskId {
        let id = self.next_id.get();
        self.next_id.set(id + 1);
        TaskId::new(NonZeroU64::new(id).expect("task ids start at 1"))
    }

    /// The key the next [`insert`](OwnedTasks::insert) will file a task under: a new task
    /// stores it in its header, to be found again when it completes.
    #[inline]
    pub(crate) fn next_key(&self) -> u32 {
        let key = self.slab.borrow().vacant_key();
        u32::try_from(key).expect("more than 4 billion live tasks")
    }

    /// Files a new task under the key [`next_key`](OwnedTasks::next_key) gave.
    #[inline]
    pub(crate) fn insert(&self, task: TaskRef, spawned_at: &'static Location<'static>) {
        let filed_under = task.owner_key();
        let key = self
            .slab
            .borrow_mut()
            .insert(OwnedTask { task, spawned_at });
        debug_assert_eq!(
            key, filed_under,
            "a task is filed under the key it was given"
        );
    }

    /// Forgets `task`, which completed; its place in the completion order is noted if it
    /// is watched. The entry is dropped after the table is let go of.
    #[inline(always)]
    pub(crate) fn completed(&self, task: &TaskRef) {
        if self.watching.get() {
            self.stamp_watched(task.id());
        }
        let key = task.owner_key();
        let mut slab = self.slab.borrow_mut();
        let ours = slab.get(key).is_some_and(|o| o.task.id() == task.id());
        let removed = if ours { slab.try_remove(key) } else { None };
        drop(slab);
        drop(removed);
    }

    #[inline(never)]
    fn stamp_watched(&self, id: TaskId) {
        let mut completions = self.completions.borrow_mut();
        if let Some(stamp) = completions.get_mut(&id) {
            let n = self.completion_count.get() + 1;
            self.completion_count.set(n);
            *stamp = n;
        }
    }

    /// Starts recording when task `id` completes (see [`OwnedTasks::completion_stamp`]).
    pub(crate) fn watch_completion(&self, id: TaskId) {
        self.completions.borrow_mut().entry(id).or_insert(0);
        self.watching.set(true);
    }

    /// Stops recording for task `id`.
    pub(crate) fn unwatch_completion(&self, id: TaskId) {
        let mut completions = self.completions.borrow_mut();
        completions.remove(&id);
        self.watching.set(!completions.is_empty());
    }

    /// A number that orders the watched tasks by when they completed: 0 for a task that had
    /// completed before it was watched (or is not watched), larger for later completions.
    pub(crate) fn completion_stamp(&self, id: TaskId) -> u64 {
        self.completions.borrow().get(&id).copied().unwrap_or(0)
    }

    /// Calls `f` with each live task.
    pub(crate) fn for_each(&self, mut f: impl FnMut(&OwnedTask)) {
        for (_, owned) in self.slab.borrow().iter() {
            f(owned);
        }
    }

    /// The report of the live task `task`, if it is still in the table.
    pub(crate) fn debug_report(&self, task: &TaskRef) -> Option<TaskReport> {
        let slab = self.slab.borrow();
        slab.get(task.owner_key())
            .filter(|o| o.task.id() == task.id())
            .map(OwnedTask::debug_report)
    }

    /// Takes every task out of the table (shutdown).
    pub(crate) fn drain(&self) -> Vec<OwnedTask> {
        self.slab.borrow_mut().drain().collect()
    }
}
