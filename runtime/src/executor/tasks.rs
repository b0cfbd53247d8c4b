//! The tasks a runtime owns: every task whose future is alive, by a key stored in its header,
//! so that shutdown can drop them and reports can list them (with where each was spawned and
//! by whom); and the order in which the watched ones complete (for `wait` and `as_completed`).
//!
//! The table is a slab of 16-byte entries of a layout of its own (`repr(C)`), published to
//! `weft-ps` (`attach/beacon.rs`), which reads it from outside to name a task whose poll
//! never returned.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::num::NonZeroU64;
use std::panic::Location;

use super::TaskReport;
use super::sites::Sites;
use crate::attach::Published;
use crate::task::raw::TaskRef;
use crate::task::{TaskId, TaskState};

/// An entry of the table: a live task, its spawn site's number and the low 32 bits of its
/// parent's id (0: spawned from outside any task); a free entry has no task and keeps the
/// key of the next free one in `link`.
#[repr(C)]
struct Entry {
    task: Option<TaskRef>,
    site: u32,
    link: u32,
}

// What a parked task costs counts on this (BENCHMARKS.md's memory figures), and `weft-ps`
// reads entries of this size.
#[cfg(target_pointer_width = "64")]
const _: () = assert!(std::mem::size_of::<Entry>() == 16);

/// No next free entry.
const NONE: u32 = u32::MAX;

/// A live task as the table describes it.
pub(crate) struct OwnedTask<'a> {
    task: &'a TaskRef,
    spawned_at: &'static Location<'static>,
    parent: u32,
}

impl OwnedTask<'_> {
    pub(crate) fn task(&self) -> &TaskRef {
        self.task
    }

    pub(crate) fn spawned_at(&self) -> &'static Location<'static> {
        self.spawned_at
    }

    /// The low 32 bits of the id of the task that spawned it (0: none): enough to find it
    /// among the live tasks, as the newest one with those bits and a smaller id.
    pub(crate) fn parent_bits(&self) -> u32 {
        self.parent
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

/// A task taken out of the table at shutdown.
pub(crate) struct Drained {
    task: TaskRef,
    spawned_at: &'static Location<'static>,
}

impl Drained {
    pub(crate) fn task(&self) -> &TaskRef {
        &self.task
    }

    pub(crate) fn debug_report(&self) -> TaskReport {
        OwnedTask {
            task: &self.task,
            spawned_at: self.spawned_at,
            parent: 0,
        }
        .debug_report()
    }
}

/// A runtime's live tasks and the ids it hands out.
pub(crate) struct OwnedTasks {
    entries: RefCell<Vec<Entry>>,
    /// The first free entry's key, or `NONE`.
    free: Cell<u32>,
    /// Where `entries` is, for `weft-ps`.
    published: Published,
    sites: Sites,
    next_id: Cell<u64>,
    /// Completion order, for the tasks `wait` and `as_completed` watch: task id -> 0 while it
    /// runs, then its place among the completions seen. Empty (one untaken branch per
    /// completion) unless something watches.
    completions: RefCell<HashMap<TaskId, u64>>,
    /// Whether `completions` has entries or `emptied` a waker: the one load a completion
    /// pays otherwise.
    watching: Cell<bool>,
    /// How many tasks are alive.
    live: Cell<usize>,
    /// Woken when the last task completes (`Runtime::shutdown`'s grace period).
    emptied: RefCell<Option<std::task::Waker>>,
    completion_count: Cell<u64>,
}

impl OwnedTasks {
    pub(crate) fn new() -> OwnedTasks {
        OwnedTasks {
            entries: RefCell::new(Vec::new()),
            free: Cell::new(NONE),
            published: Published::default(),
            sites: Sites::new(),
            next_id: Cell::new(1),
            completions: RefCell::new(HashMap::new()),
            watching: Cell::new(false),
            live: Cell::new(0),
            emptied: RefCell::new(None),
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
        match self.free.get() {
            NONE => {
                u32::try_from(self.entries.borrow().len()).expect("fewer than 4 billion live tasks")
            }
            free => free,
        }
    }

    /// Files a new task under the key [`next_key`](OwnedTasks::next_key) gave, spawned at
    /// `spawned_at` by the task `parent` (if any).
    #[inline]
    pub(crate) fn insert(
        &self,
        task: TaskRef,
        spawned_at: &'static Location<'static>,
        parent: Option<TaskId>,
    ) {
        let key = task.owner_key();
        self.live.set(self.live.get() + 1);
        let site = self.sites.number(spawned_at);
        // Truncated on purpose: see `OwnedTask::parent_bits`.
        let parent = parent.map_or(0, |id| id.as_u64() as u32);
        let mut entries = self.entries.borrow_mut();
        if let Some(free) = entries.get_mut(key) {
            // A free entry (the common case once tasks come and go): its link is the next.
            self.free.set(free.link);
            free.site = site;
            free.link = parent;
            free.task = Some(task);
            return;
        }
        if entries.len() == entries.capacity() {
            let more = entries.len().max(256);
            entries.reserve(more);
            self.published
                .publish(entries.as_ptr() as usize, entries.capacity());
        }
        entries.push(Entry {
            task: Some(task),
            site,
            link: parent,
        });
    }

    /// Forgets `task`, which completed; its place in the completion order is noted if it
    /// is watched. The entry is dropped after the table is let go of.
    #[inline(always)]
    pub(crate) fn completed(&self, task: &TaskRef) {
        let key = task.owner_key();
        let mut entries = self.entries.borrow_mut();
        let removed = match entries.get_mut(key) {
            Some(entry) if entry.task.as_ref().is_some_and(|t| t.id() == task.id()) => {
                let removed = entry.task.take();
                entry.link = self.free.replace(key as u32);
                self.live.set(self.live.get() - 1);
                removed
            }
            _ => None,
        };
        drop(entries);
        if self.watching.get() {
            self.watched_completed(task.id());
        }
        drop(removed);
    }

    #[inline(never)]
    fn watched_completed(&self, id: TaskId) {
        let mut completions = self.completions.borrow_mut();
        if let Some(stamp) = completions.get_mut(&id) {
            let n = self.completion_count.get() + 1;
            self.completion_count.set(n);
            *stamp = n;
        }
        drop(completions);
        if self.live.get() == 0 {
            let waker = self.emptied.borrow_mut().take();
            self.rewatch();
            if let Some(waker) = waker {
                waker.wake();
            }
        }
    }

    fn rewatch(&self) {
        self.watching
            .set(!self.completions.borrow().is_empty() || self.emptied.borrow().is_some());
    }

    /// How many tasks are alive.
    pub(crate) fn live(&self) -> usize {
        self.live.get()
    }

    /// Ready once no task is alive; else wakes `cx` when the last one completes.
    pub(crate) fn poll_emptied(&self, cx: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        if self.live.get() == 0 {
            return std::task::Poll::Ready(());
        }
        *self.emptied.borrow_mut() = Some(cx.waker().clone());
        self.watching.set(true);
        std::task::Poll::Pending
    }

    /// Starts recording when task `id` completes (see [`OwnedTasks::completion_stamp`]).
    pub(crate) fn watch_completion(&self, id: TaskId) {
        self.completions.borrow_mut().entry(id).or_insert(0);
        self.watching.set(true);
    }

    /// Stops recording for task `id`.
    pub(crate) fn unwatch_completion(&self, id: TaskId) {
        self.completions.borrow_mut().remove(&id);
        self.rewatch();
    }

    /// A number that orders the watched tasks by when they completed: 0 for a task that had
    /// completed before it was watched (or is not watched), larger for later completions.
    pub(crate) fn completion_stamp(&self, id: TaskId) -> u64 {
        self.completions.borrow().get(&id).copied().unwrap_or(0)
    }

    /// Calls `f` with each live task.
    pub(crate) fn for_each(&self, mut f: impl FnMut(&OwnedTask<'_>)) {
        let entries = self.entries.borrow();
        for entry in entries.iter() {
            if let Some(task) = &entry.task {
                f(&self.describe(task, entry));
            }
        }
    }

    fn describe<'a>(&self, task: &'a TaskRef, entry: &Entry) -> OwnedTask<'a> {
        OwnedTask {
            task,
            spawned_at: self.sites.site(entry.site),
            parent: entry.link,
        }
    }

    /// The report of the live task `task`, if it is still in the table.
    pub(crate) fn debug_report(&self, task: &TaskRef) -> Option<TaskReport> {
        let entries = self.entries.borrow();
        let entry = entries.get(task.owner_key())?;
        let owned = entry.task.as_ref().filter(|t| t.id() == task.id())?;
        Some(self.describe(owned, entry).debug_report())
    }

    /// Takes every task out of the table (shutdown).
    pub(crate) fn drain(&self) -> Vec<Drained> {
        let mut entries = self.entries.borrow_mut();
        self.free.set(NONE);
        self.live.set(0);
        entries
            .drain(..)
            .filter_map(|entry| {
                let spawned_at = self.sites.site(entry.site);
                entry.task.map(|task| Drained { task, spawned_at })
            })
            .collect()
    }

    /// The tables `weft-ps` reads: the entries' and the sites'.
    pub(crate) fn published(&self) -> (&Published, &Published) {
        (&self.published, self.sites.published())
    }
}
