//! The ring the executor records into, when its flight recorder is on.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::panic::Location;
use std::time::Instant;

use super::{Event, Trace, TraceEvent, TracedTask, WakeCause};
use crate::task::{IdMap, TaskId};

/// An event as the ring keeps it: with the clock's reading, turned into a time since the
/// start only when a snapshot is taken (subtracting `Instant`s per event cost as much as
/// reading the clock, in callgrind).
#[derive(Clone, Copy)]
struct Entry {
    at: Instant,
    event: Event,
}

/// The flight recorder of one runtime: the last `capacity` events, and the names of the
/// tasks whose spawn is among them.
pub(crate) struct Recorder {
    started: Cell<Instant>,
    capacity: usize,
    events: RefCell<VecDeque<Entry>>,
    dropped: Cell<u64>,
    /// What is waking tasks right now when no task is being polled: set around the reactor's
    /// dispatch, the timers' firing and the drain of wakes from other threads.
    cause: Cell<WakeCause>,
    /// Name and spawn location of each task whose `Spawned` event is in the ring; an entry
    /// goes when that event leaves the ring, so this stays as small as the ring.
    tasks: RefCell<IdMap<TracedTask>>,
}

impl Recorder {
    /// A recorder keeping the last `capacity` events (at least one).
    pub(crate) fn new(capacity: usize) -> Recorder {
        let capacity = capacity.max(1);
        Recorder {
            started: Cell::new(Instant::now()),
            capacity,
            events: RefCell::new(VecDeque::with_capacity(capacity.min(1 << 16))),
            dropped: Cell::new(0),
            cause: Cell::new(WakeCause::Outside),
            tasks: RefCell::default(),
        }
    }

    /// Appends `event`, stamped now, letting the oldest go if the ring is full; returns the
    /// time it was stamped with.
    pub(crate) fn record(&self, event: Event) -> Instant {
        let at = Instant::now();
        let mut events = self.events.borrow_mut();
        if events.len() == self.capacity {
            if let Some(Entry {
                event: Event::Spawned { task },
                ..
            }) = events.pop_front()
            {
                self.tasks.borrow_mut().remove(&task);
            }
            self.dropped.set(self.dropped.get() + 1);
        }
        events.push_back(Entry { at, event });
        at
    }

    /// Records a spawn (or the start of a main future) with the task's name and location.
    pub(crate) fn spawned(
        &self,
        task: TaskId,
        name: Option<String>,
        at: Option<&'static Location<'static>>,
        parent: Option<TaskId>,
    ) {
        self.know(task, name, at, parent);
        self.record(Event::Spawned { task });
    }

    /// Names a task that was alive before recording started (it has no `Spawned` event).
    pub(crate) fn know(
        &self,
        task: TaskId,
        name: Option<String>,
        at: Option<&'static Location<'static>>,
        parent: Option<TaskId>,
    ) {
        let traced = TracedTask {
            id: task,
            name,
            spawned_at: at,
            parent,
        };
        self.tasks.borrow_mut().insert(task, traced);
    }

    /// Forgets every event and task, and starts the clock again (`weft-ps --trace`
    /// reuses one recorder).
    pub(crate) fn clear(&self) {
        let mut events = self.events.borrow_mut();
        events.clear();
        events.shrink_to(0);
        self.tasks.borrow_mut().clear();
        self.dropped.set(0);
        self.started.set(Instant::now());
    }

    /// Records that `task` was woken: by `current` if a task is being polled, else by
    /// whatever the loop is doing (see [`Recorder::with_cause`]).
    pub(crate) fn woken(&self, task: TaskId, current: Option<TaskId>) {
        let by = current.map_or_else(|| self.cause.get(), WakeCause::Task);
        self.record(Event::Woken { task, by });
    }

    /// Runs `f` with `cause` as the cause of the wakes outside a poll.
    pub(crate) fn with_cause<R>(&self, cause: WakeCause, f: impl FnOnce() -> R) -> R {
        let outer = self.cause.replace(cause);
        let result = f();
        self.cause.set(outer);
        result
    }

    /// Sets the cause of the wakes that follow, until [`Recorder::with_cause`]'s scope ends.
    pub(crate) fn set_cause(&self, cause: WakeCause) {
        self.cause.set(cause);
    }

    /// A copy of the ring.
    pub(crate) fn snapshot(&self) -> Trace {
        let events: Vec<TraceEvent> = self
            .events
            .borrow()
            .iter()
            .map(|entry| TraceEvent {
                at: entry.at.saturating_duration_since(self.started.get()),
                event: entry.event,
            })
            .collect();
        let mut tasks: Vec<TracedTask> = self.tasks.borrow().values().cloned().collect();
        tasks.sort_by_key(|t| t.id);
        Trace {
            events,
            tasks,
            dropped: self.dropped.get(),
        }
    }
}
