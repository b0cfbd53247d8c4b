//! One fan-out for everything that watches the loop: the [`Instrument`] hooks, the flight
//! recorder, and debug mode with the poll statistics it and the task dump read. The loop
//! tells the [`Observer`] each event once (spawned, scheduled, poll started and ended,
//! exited, I/O wait, timers fired), and the observer tells each watcher that is on.
//!
//! Pay only when used: the loop calls the observer only behind one flag
//! (`Executor::extras`), and the event methods are `#[cold]` and out of line, so a runtime
//! that watches nothing pays one predictable branch per event and keeps its hot loops small
//! (a callgrind count of each micro benchmark is the check: `scripts/callgrind`).

use std::cell::{Cell, OnceCell, RefCell};
use std::panic::Location;
use std::time::{Duration, Instant};

use super::TaskReport;
use super::debug::DebugMode;
use super::instrument::{Instrument, Instruments};
use crate::reactor::{TurnObserver, Wait};
use crate::task::{IdMap, TaskId};
use crate::trace::recorder::Recorder;
use crate::trace::{Event, WakeCause};

/// A task's poll counts and times, kept in debug mode and with the flight recorder.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PollStats {
    pub(crate) polls: u64,
    pub(crate) busy: Duration,
    pub(crate) last_end: Instant,
    /// Polls that ended with the task waking itself (debug mode's self-waking lint).
    pub(crate) self_wakes: u64,
    pub(crate) self_waking_reported: bool,
}

/// What watches one runtime.
pub(crate) struct Observer {
    instruments: Instruments,
    /// The flight recorder, once made: by the builder, or by `weft-ps --trace` for a while
    /// (`start_recording`). It records while `recording` is up.
    trace: OnceCell<Recorder>,
    recording: Cell<bool>,
    debug: Option<DebugMode>,
    /// Each task's poll counts and times: kept in debug mode and while the recorder records
    /// (they time each poll anyway).
    stats: OnceCell<RefCell<IdMap<PollStats>>>,
}

/// A poll under way, as the observer timed it.
pub(crate) struct PollStart(Option<Instant>);

impl Observer {
    pub(crate) fn new(
        instruments: Instruments,
        trace: Option<Recorder>,
        debug: Option<DebugMode>,
    ) -> Observer {
        let keep_stats = debug.is_some() || trace.is_some();
        let observer = Observer {
            instruments,
            recording: Cell::new(trace.is_some()),
            trace: trace.map(OnceCell::from).unwrap_or_default(),
            debug,
            stats: OnceCell::new(),
        };
        if keep_stats {
            observer.stats.get_or_init(RefCell::default);
        }
        observer
    }

    /// The recorder, while it records.
    #[inline]
    fn trace(&self) -> Option<&Recorder> {
        self.trace.get().filter(|_| self.recording.get())
    }

    /// The poll counts, while they are kept.
    #[inline]
    fn stats(&self) -> Option<&RefCell<IdMap<PollStats>>> {
        self.stats
            .get()
            .filter(|_| self.recording.get() || self.debug.is_some())
    }

    /// Starts a flight recorder of `capacity` events on a runtime that has none recording;
    /// false if one records already (the builder's, which stays on).
    pub(crate) fn start_recording(&self, capacity: usize) -> bool {
        if self.recording.get() {
            return false;
        }
        let recorder = self.trace.get_or_init(|| Recorder::new(capacity));
        recorder.clear();
        self.stats.get_or_init(RefCell::default);
        self.recording.set(true);
        true
    }

    /// Stops the recorder `start_recording` started, and lets its events go.
    pub(crate) fn stop_recording(&self) {
        self.recording.set(false);
        if let Some(recorder) = self.trace.get() {
            recorder.clear();
        }
        if self.debug.is_none() {
            if let Some(stats) = self.stats.get() {
                stats.borrow_mut().clear();
            }
        }
    }

    /// Whether anything watches: the loop calls no method of the observer otherwise.
    pub(crate) fn is_on(&self) -> bool {
        !self.instruments.is_empty() || self.recording.get() || self.debug.is_some()
    }

    /// Whether the waiter lists should note who holds what (for the dump's wait-for graph).
    pub(crate) fn wants_holders(&self) -> bool {
        self.debug.is_some() || self.recording.get()
    }

    pub(crate) fn recorder(&self) -> Option<&Recorder> {
        self.trace()
    }

    pub(crate) fn debug(&self) -> Option<&DebugMode> {
        self.debug.as_ref()
    }

    fn each(&self, hook: impl Fn(&dyn Instrument)) {
        self.instruments.each(hook);
    }

    /// A task was spawned (the main future is "started" as one), by the task `by`.
    #[cold]
    #[inline(never)]
    pub(crate) fn spawned(
        &self,
        task: TaskId,
        name: Option<&str>,
        at: Option<&'static Location<'static>>,
        by: Option<TaskId>,
    ) {
        self.each(|i| i.task_spawned(task));
        if let Some(trace) = self.trace() {
            trace.spawned(task, name.map(str::to_owned), at, by);
        }
        self.scheduled(task, by);
    }

    /// A task became runnable, woken by the task `by` (or by the recorder's current cause).
    #[cold]
    #[inline(never)]
    pub(crate) fn scheduled(&self, task: TaskId, by: Option<TaskId>) {
        self.each(|i| i.task_scheduled(task));
        if let Some(trace) = self.trace() {
            trace.woken(task, by);
        }
    }

    /// A task was woken from another thread (the main future, whose wake does not go
    /// through the remote queue).
    #[cold]
    #[inline(never)]
    pub(crate) fn scheduled_from_elsewhere(&self, task: TaskId) {
        match self.trace() {
            Some(trace) => trace.with_cause(WakeCause::OtherThread, || self.scheduled(task, None)),
            None => self.scheduled(task, None),
        }
    }

    /// A poll of `task` begins.
    #[cold]
    #[inline(never)]
    pub(crate) fn poll_started(&self, task: TaskId) -> PollStart {
        self.each(|i| i.before_task_step(task));
        // The recorder's timestamps double as the poll's times, when it runs.
        let started = match self.trace() {
            Some(trace) => Some(trace.record(Event::PollStarted { task })),
            None => self.stats().map(|_| Instant::now()),
        };
        if let Some(debug) = &self.debug {
            debug.poll_starts();
        }
        PollStart(started)
    }

    /// The poll of `task` that began at `start` returned; `report` describes the task for a
    /// slow-poll report (it runs only for one).
    #[cold]
    #[inline(never)]
    pub(crate) fn poll_ended(
        &self,
        task: TaskId,
        start: PollStart,
        report: impl FnOnce() -> Option<TaskReport>,
    ) {
        if let Some(debug) = &self.debug {
            debug.poll_ended(report);
        }
        let ended = match self.trace() {
            Some(trace) => Some(trace.record(Event::PollEnded { task })),
            None => start.0.map(|_| Instant::now()),
        };
        if let (Some(started), Some(ended)) = (start.0, ended) {
            self.count_poll(task, started, ended);
        }
        self.each(|i| i.after_task_step(task));
    }

    /// A task finished: returned, panicked or was aborted.
    #[cold]
    #[inline(never)]
    pub(crate) fn exited(&self, task: TaskId) {
        self.each(|i| i.task_exited(task));
        if let Some(trace) = self.trace() {
            trace.record(Event::Exited { task });
        }
        if let Some(stats) = self.stats() {
            stats.borrow_mut().remove(&task);
        }
    }

    /// The loop waits for I/O as `wait` says, by `turn`, which dispatches the events to the
    /// observer it is given; returns how many events came.
    #[cold]
    #[inline(never)]
    pub(crate) fn io_wait(
        &self,
        wait: Wait,
        turn: impl FnOnce(&dyn TurnObserver) -> usize,
    ) -> usize {
        let timeout = match wait {
            Wait::No => Some(Duration::ZERO),
            Wait::Forever => None,
            Wait::Until(deadline) => Some(deadline.saturating_duration_since(Instant::now())),
        };
        self.each(|i| i.before_io_wait(timeout));
        let events = match self.trace() {
            Some(trace) => {
                trace.record(Event::Parked { timeout });
                let events = trace.with_cause(WakeCause::Outside, || turn(&IoRecorder(trace)));
                trace.record(Event::Unparked { events });
                events
            }
            None => turn(&()),
        };
        self.each(|i| i.after_io_wait(events));
        events
    }

    /// Runs `fire`, which fires the due timers, as the wakes' cause.
    pub(crate) fn timers<R>(&self, fire: impl FnOnce() -> R) -> R {
        match self.trace() {
            Some(trace) => trace.with_cause(WakeCause::Timer, fire),
            None => fire(),
        }
    }

    /// One timer fired.
    pub(crate) fn timer_fired(&self) {
        if let Some(trace) = self.trace() {
            trace.record(Event::TimerFired);
        }
    }

    /// Runs `drain`, which queues the tasks woken from other threads, as the wakes' cause.
    pub(crate) fn remote_wakes<R>(&self, drain: impl FnOnce() -> R) -> R {
        match self.trace() {
            Some(trace) => trace.with_cause(WakeCause::OtherThread, drain),
            None => drain(),
        }
    }

    fn count_poll(&self, id: TaskId, started: Instant, now: Instant) {
        if let Some(stats) = self.stats() {
            let mut stats = stats.borrow_mut();
            let entry = stats.entry(id).or_insert(PollStats {
                polls: 0,
                busy: Duration::ZERO,
                last_end: now,
                self_wakes: 0,
                self_waking_reported: false,
            });
            entry.polls += 1;
            entry.busy += now - started;
            entry.last_end = now;
        }
    }

    /// Task `id`'s poll counts and times, if they are kept.
    pub(crate) fn poll_stats(&self, id: TaskId) -> Option<PollStats> {
        self.stats()?.borrow().get(&id).copied()
    }

    /// Forgets every task's counts (a `block_on` returned: its main future is gone).
    pub(crate) fn forget_stats(&self) {
        if let Some(stats) = self.stats() {
            stats.borrow_mut().clear();
        }
    }

    /// Debug mode: a poll of `id` ended with the task waking itself. Reports the task once
    /// if it mostly does that.
    pub(crate) fn self_woke(&self, id: TaskId, report: impl FnOnce() -> Option<TaskReport>) {
        let (Some(debug), Some(stats)) = (&self.debug, self.stats()) else {
            return;
        };
        let mut stats = stats.borrow_mut();
        let Some(entry) = stats.get_mut(&id) else {
            return;
        };
        entry.self_wakes += 1;
        // The poll being counted is not in `polls` yet.
        let polls = entry.polls + 1;
        if !entry.self_waking_reported
            && polls >= super::debug::SELF_WAKE_MIN_POLLS
            && entry.self_wakes * 100 >= polls * super::debug::SELF_WAKE_PERCENT
        {
            entry.self_waking_reported = true;
            let self_wakes = entry.self_wakes;
            drop(stats);
            if let Some(report) = report() {
                debug.self_waking(report, polls, self_wakes);
            }
        }
    }
}

/// The recorder's view of the reactor's dispatch: each ready source, and the cause of each
/// wake that follows.
struct IoRecorder<'a>(&'a Recorder);

impl TurnObserver for IoRecorder<'_> {
    fn ready(&self, source: usize, readable: bool, writable: bool) {
        self.0.record(Event::IoReady {
            source,
            readable,
            writable,
        });
    }

    fn waking(&self, source: usize, write: bool) {
        self.0.set_cause(WakeCause::Io { source, write });
    }
}
