//! The runtime's state on its own thread: run queue, owned tasks, reactor, timers.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::num::NonZeroU64;
use std::panic::Location;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{RawWakerVTable, Waker};

use slab::Slab;

use super::TaskReport;
use super::debug::DebugMode;
use super::dump::PollStats;
use super::instrument::Instruments;
use super::remote::Remote;
use super::shuffle::Shuffle;
use crate::reactor::Reactor;
use crate::reactor::Wait;
use crate::task::budget;
use crate::task::context_var::Contexts;
use crate::task::raw::{self, RunOutcome, TaskMeta, TaskRef};
use crate::task::{IdMap, JoinHandle, TaskId};
use crate::time::clock::Clock;
use crate::time::driver::TimerDriver;
use crate::trace::recorder::Recorder;
use crate::trace::{Event, WakeCause};
use crate::waiters::WaitOn;
use std::time::{Duration, Instant};

/// The runtime's reference to a live task, and where it was spawned (kept here rather than
/// in the task's header: this slab entry is 16 bytes either way, the header gets smaller).
pub(crate) struct OwnedTask {
    pub(crate) task: TaskRef,
    pub(crate) spawned_at: &'static Location<'static>,
}

impl OwnedTask {
    /// The task as reports describe it; `awaited` as the caller counts it.
    pub(crate) fn report(&self, awaited: bool) -> TaskReport {
        TaskReport {
            id: self.task.id(),
            name: self.task.name().map(str::to_owned),
            spawned_at: self.spawned_at,
            awaited,
        }
    }

    /// Running if it is `current`, else ready if it is queued, else waiting.
    pub(crate) fn state(&self, current: Option<TaskId>) -> crate::task::TaskState {
        use crate::task::TaskState;
        if current == Some(self.task.id()) {
            TaskState::Running
        } else if self.task.snapshot().is_scheduled() {
            TaskState::Ready
        } else {
            TaskState::Waiting
        }
    }

    /// The report for a debug event, which counts any awaiter of the task's `JoinHandle`.
    fn debug_report(&self) -> TaskReport {
        self.report(self.task.waker_census(|_| true).1)
    }
}

/// The wakers held inside weft's primitives, by the address of what they wake (a task
/// header, or the main future's waker data). The addresses are only compared, never read; a
/// held waker keeps its task's cell alive, so an address cannot be reused while it is here.
pub(crate) struct HeldWakers {
    targets: RefCell<Slab<(usize, WaitOn)>>,
    /// A seeded runtime's shuffle, which keeps the waiters one resource wakes in one round
    /// in the order it woke them.
    shuffle: Option<Rc<Shuffle>>,
}

impl HeldWakers {
    fn new(shuffle: Option<Rc<Shuffle>>) -> HeldWakers {
        HeldWakers {
            targets: RefCell::default(),
            shuffle,
        }
    }

    /// Wakes `waker`, held under `key`, and forgets it. In a seeded runtime the tasks one
    /// resource wakes keep their order (the FIFO its waiters were served in): a resource's
    /// address, with the top bit set, is their scheduling group.
    pub(crate) fn wake(&self, key: usize, waker: Waker) {
        let (_, what) = self.targets.borrow_mut().remove(key);
        match &self.shuffle {
            None => waker.wake(),
            Some(shuffle) => wake_in_group(shuffle, &what, waker),
        }
    }

    /// Notes a held waker, which waits on `what`.
    pub(crate) fn insert(&self, waker: &Waker, what: &WaitOn) -> usize {
        self.targets
            .borrow_mut()
            .insert((waker.data() as usize, what.clone()))
    }

    /// Calls `f` with each held waker's target address and what it waits on.
    pub(crate) fn for_each(&self, mut f: impl FnMut(usize, &WaitOn)) {
        for (_, (target, what)) in self.targets.borrow().iter() {
            f(*target, what);
        }
    }

    pub(crate) fn remove(&self, key: usize) {
        self.targets.borrow_mut().remove(key);
    }

    /// How many held wakers wake one of `live` (task or main future addresses).
    pub(crate) fn count_waking(&self, live: &std::collections::HashSet<usize>) -> usize {
        self.targets
            .borrow()
            .iter()
            .filter(|(_, (target, _))| live.contains(target))
            .count()
    }
}

/// Wakes `waker` in the scheduling group of the resource it waited on. Out of line: only a
/// seeded runtime comes here, and inlined it would crowd the hot paths of every primitive
/// out of the inliner's budget (an uncontended lock then paid a call for its thread-local).
#[cold]
#[inline(never)]
fn wake_in_group(shuffle: &Shuffle, what: &WaitOn, waker: Waker) {
    let group = (Rc::as_ptr(&what.resource) as u64) | 1 << 63;
    shuffle.in_group(group, || waker.wake());
}

/// The run queue's capacity when a runtime starts, and the least it shrinks back to.
const RUN_QUEUE_INITIAL: usize = 256;

/// Everything a running runtime owns. Lives in an `Rc`: the `Runtime`, the thread-local
/// context and (through their own `Rc`s) sockets and timers point at parts of it.
pub(crate) struct Core {
    pub(crate) id: u32,
    /// Tasks ready to be polled, in wake order (FIFO).
    run_queue: RefCell<VecDeque<TaskRef>>,
    /// Every task whose future is alive, so shutdown can drop them and deadlock reports can
    /// list them. A task's key here is stored in its header.
    owned: RefCell<Slab<OwnedTask>>,
    next_task_id: Cell<u64>,
    /// The task being polled (or the main future's id while it is), for `task::id()`.
    current: Cell<Option<TaskId>>,
    pub(crate) remote: Arc<Remote>,
    pub(crate) reactor: Rc<Reactor>,
    pub(crate) timers: Rc<TimerDriver>,
    /// The clock the timers run on: the system's, or a test's virtual one.
    pub(crate) clock: Clock,
    /// Tasks waiting for every other task to block (`wait_all_tasks_blocked`).
    idle_waiters: RefCell<Vec<Waker>>,
    /// How many times the idle waiters were woken, so each can tell its wake from others.
    idle_rounds: Cell<u64>,
    /// Seeded scheduling, when a seed was given.
    pub(crate) shuffle: Option<Rc<Shuffle>>,
    pub(crate) event_interval: u32,
    budget: u32,
    /// The wakers of this runtime that weft's own primitives hold right now (`WakerSlot`).
    pub(crate) held_wakers: Rc<HeldWakers>,
    /// The data and vtable pointers of the main future's waker during `block_on`, to
    /// recognise it (compared, never dereferenced).
    main_waker: Cell<Option<(*const (), *const RawWakerVTable)>>,
    /// `Some` in debug mode.
    pub(crate) debug: Option<DebugMode>,
    /// Completion order, for the tasks `wait` and `as_completed` watch: task id -> 0 while it
    /// runs, then its place among the completions seen. Empty (one untaken branch per
    /// completion) unless something watches.
    completions: RefCell<HashMap<TaskId, u64>>,
    /// Whether `completions` has entries: the one load a completion pays otherwise.
    watching: Cell<bool>,
    completion_count: Cell<u64>,
    /// The tasks' context-variable values (only the tasks that have some).
    pub(crate) contexts: Contexts,
    /// Hooks for metrics and tracing; empty unless the builder was given some.
    instruments: Instruments,
    /// The flight recorder, when it is on.
    pub(crate) trace: Option<Recorder>,
    /// Whether there are instruments, a recorder or a seed: the one field the hot paths read
    /// for them.
    observed: bool,
    /// Each task's poll counts and times, for the task dump: kept in debug mode and with the
    /// flight recorder (they time each poll anyway).
    stats: Option<RefCell<IdMap<PollStats>>>,
    /// The main future's id while `block_on` runs.
    main_task: Cell<Option<TaskId>>,
    /// How many tasks have been taken off the run queue, ever: the clock that the main
    /// future's turn is told by.
    popped: Cell<u64>,
    /// Where the running batch of polls stops (a count of `popped`).
    batch_end: Cell<u64>,
    /// When the main future was woken on this thread, the `popped` count at which its turn
    /// comes: after the tasks that were queued before it, as if it were queued too (asyncio,
    /// where main is a task, runs them in wake order). `None`: due at once.
    main_turn: Cell<Option<u64>>,
}

/// What a `Builder` decides about a new core.
pub(crate) struct CoreSettings {
    pub(crate) event_interval: u32,
    pub(crate) budget: u32,
    pub(crate) debug: Option<DebugMode>,
    pub(crate) instruments: Instruments,
    pub(crate) trace: Option<Recorder>,
    pub(crate) clock: Clock,
    pub(crate) shuffle: Option<Shuffle>,
}

impl Core {
    pub(crate) fn new(remote: Arc<Remote>, reactor: Reactor, settings: CoreSettings) -> Core {
        let CoreSettings {
            event_interval,
            budget,
            debug,
            instruments,
            trace,
            clock,
            shuffle,
        } = settings;
        let shuffle = shuffle.map(Rc::new);
        let keep_stats = debug.is_some() || trace.is_some();
        Core {
            id: remote.id,
            run_queue: RefCell::new(VecDeque::with_capacity(RUN_QUEUE_INITIAL)),
            owned: RefCell::new(Slab::with_capacity(256)),
            next_task_id: Cell::new(1),
            current: Cell::new(None),
            remote,
            reactor: Rc::new(reactor),
            timers: Rc::new(TimerDriver::new()),
            clock,
            idle_waiters: RefCell::default(),
            idle_rounds: Cell::new(0),
            event_interval,
            budget,
            held_wakers: Rc::new(HeldWakers::new(shuffle.clone())),
            main_waker: Cell::new(None),
            debug,
            completions: RefCell::new(HashMap::new()),
            watching: Cell::new(false),
            completion_count: Cell::new(0),
            contexts: Contexts::default(),
            observed: !instruments.is_empty() || trace.is_some() || shuffle.is_some(),
            shuffle,
            stats: keep_stats.then(RefCell::default),
            main_task: Cell::new(None),
            popped: Cell::new(0),
            batch_end: Cell::new(0),
            main_turn: Cell::new(None),
            instruments,
            trace,
        }
    }

    pub(crate) fn spawn<F>(
        &self,
        future: F,
        name: Option<String>,
        location: &'static Location<'static>,
    ) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
    {
        let id = self.next_id();
        self.contexts.inherit(self.current(), id);
        if self.observed {
            self.note_spawned(id, name.as_deref(), location);
        }
        let mut owned = self.owned.borrow_mut();
        let entry = owned.vacant_entry();
        let owner_key = u32::try_from(entry.key()).expect("more than 4 billion live tasks");
        let meta = TaskMeta {
            id,
            runtime_id: self.id,
            owner_key,
            name,
        };
        if std::mem::size_of::<F>() > super::debug::LARGE_FUTURE {
            if let Some(debug) = &self.debug {
                let name = meta.name.clone();
                debug.spawned_large(std::mem::size_of::<F>(), || TaskReport {
                    id,
                    name,
                    spawned_at: location,
                    awaited: false,
                });
            }
        }
        let parts = raw::allocate(future, meta);
        entry.insert(OwnedTask {
            task: parts.owned,
            spawned_at: location,
        });
        drop(owned);
        self.run_queue.borrow_mut().push_back(parts.queued);
        JoinHandle::new(parts.join)
    }

    /// A fresh task id (the main future of each `block_on` gets one too).
    #[inline]
    pub(crate) fn next_id(&self) -> TaskId {
        let id = self.next_task_id.get();
        self.next_task_id.set(id + 1);
        TaskId::new(NonZeroU64::new(id).expect("task ids start at 1"))
    }

    /// The id of what is being polled right now.
    pub(crate) fn current(&self) -> Option<TaskId> {
        self.current.get()
    }

    /// Records what is being polled; returns what was before.
    pub(crate) fn set_current(&self, id: Option<TaskId>) -> Option<TaskId> {
        self.current.replace(id)
    }

    /// The address the main future's waker points at, during `block_on`.
    pub(crate) fn main_waker_target(&self) -> Option<usize> {
        self.main_waker.get().map(|(data, _)| data as usize)
    }

    /// Remembers which waker is the main future's, or forgets it (`None`).
    pub(crate) fn set_main_waker(&self, waker: Option<&Waker>) {
        self.main_waker
            .set(waker.map(|w| (w.data(), w.vtable() as *const RawWakerVTable)));
    }

    /// Whether `waker` wakes one of this runtime's tasks or its main future.
    pub(crate) fn owns_waker(&self, waker: &Waker) -> bool {
        raw::task_waker_runtime(waker) == Some(self.id)
            || self.main_waker.get()
                == Some((waker.data(), waker.vtable() as *const RawWakerVTable))
    }

    /// Queues a task woken on this thread.
    pub(crate) fn push(&self, task: TaskRef) {
        if self.observed {
            self.note_scheduled(task.id());
        }
        self.run_queue.borrow_mut().push_back(task);
    }

    /// The instruments' `task_spawned` and `task_scheduled`, and the recorder's spawn and
    /// first wake (kept out of line, as the other `note_` functions: most runtimes have
    /// neither).
    #[cold]
    #[inline(never)]
    fn note_spawned(&self, task: TaskId, name: Option<&str>, at: &'static Location<'static>) {
        self.instruments.each(|i| i.task_spawned(task));
        if let Some(trace) = &self.trace {
            trace.spawned(task, name.map(str::to_owned), Some(at));
        }
        self.note_scheduled(task);
    }

    /// The instruments' `task_scheduled`, the recorder's wake with its cause, and the
    /// task's scheduling group in a seeded runtime.
    #[cold]
    #[inline(never)]
    fn note_scheduled(&self, task: TaskId) {
        if let Some(shuffle) = &self.shuffle {
            shuffle.pushed();
        }
        self.instruments.each(|i| i.task_scheduled(task));
        if let Some(trace) = &self.trace {
            trace.woken(task, self.current());
        }
    }

    /// The instruments' `task_exited`, and the recorder's exit.
    #[cold]
    #[inline(never)]
    fn note_exited(&self, task: TaskId) {
        self.instruments.each(|i| i.task_exited(task));
        if let Some(trace) = &self.trace {
            trace.record(Event::Exited { task });
        }
    }

    /// Records the start of a `block_on`'s main future, which the trace shows as a task.
    pub(crate) fn note_main_started(&self, main: TaskId) {
        if let Some(trace) = &self.trace {
            trace.spawned(main, Some("main".to_owned()), None);
            trace.woken(main, None);
        }
    }

    /// Records a wake of the main future, `main`, on this thread.
    #[inline]
    pub(crate) fn note_main_woken(&self, main: TaskId) {
        if let Some(trace) = &self.trace {
            trace.woken(main, self.current());
        }
    }

    /// Adds a poll from `started` to `now` to task `id`'s counts.
    pub(crate) fn count_poll(&self, id: TaskId, started: Instant, now: Instant) {
        if let Some(stats) = &self.stats {
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
        self.stats.as_ref()?.borrow().get(&id).copied()
    }

    /// The main future's id while `block_on` runs.
    pub(crate) fn main_task(&self) -> Option<TaskId> {
        self.main_task.get()
    }

    /// Records the main future's id (`None` when `block_on` returns).
    pub(crate) fn set_main_task(&self, id: Option<TaskId>) {
        self.main_task.set(id);
        self.main_turn.set(None);
        if let (None, Some(stats)) = (id, &self.stats) {
            stats.borrow_mut().clear();
        }
    }

    /// Records a wake of the main future, `main`, from another thread.
    pub(crate) fn note_main_woken_elsewhere(&self, main: TaskId) {
        if let Some(trace) = &self.trace {
            trace.with_cause(WakeCause::OtherThread, || trace.woken(main, None));
        }
    }

    /// Records the start (`true`) or end of a poll of the main future, `main`.
    pub(crate) fn note_main_poll(&self, main: TaskId, starts: bool, finished: bool) {
        if let Some(trace) = &self.trace {
            if starts {
                trace.record(Event::PollStarted { task: main });
            } else {
                trace.record(Event::PollEnded { task: main });
                if finished {
                    trace.record(Event::Exited { task: main });
                }
            }
        }
    }

    /// Gives the run queue's memory back after a burst: once fewer than a quarter of its slots
    /// are in use, it shrinks to twice what it holds (never below its initial size). Called
    /// before each look at the reactor, so a burst of a million wakes does not leave megabytes
    /// behind for the life of the runtime. Growing doubles and shrinking halves at most to
    /// twice the length, so a queue that hovers around one size does not reallocate back and
    /// forth.
    pub(crate) fn trim_run_queue(&self) {
        let mut queue = self.run_queue.borrow_mut();
        if queue.capacity() > RUN_QUEUE_INITIAL && queue.len() < queue.capacity() / 4 {
            let keep = (queue.len() * 2).max(RUN_QUEUE_INITIAL);
            queue.shrink_to(keep);
        }
    }

    pub(crate) fn has_ready_tasks(&self) -> bool {
        !self.run_queue.borrow().is_empty()
    }

    /// Polls up to `max` queued tasks; returns how many it polled.
    pub(crate) fn run_ready(&self, max: u32) -> u32 {
        // Debug mode is looked at once per batch, not once per poll: each arm is its own
        // copy of the loop.
        if self.debug.is_none() && !self.observed {
            self.run_ready_with(max, VecDeque::pop_front, TaskRef::run)
        } else {
            let pop = |queue: &mut VecDeque<TaskRef>| match &self.shuffle {
                Some(shuffle) => shuffle.pop(queue),
                None => queue.pop_front(),
            };
            self.run_ready_with(max, pop, |task| {
                self.run_observed(self.debug.as_ref(), task)
            })
        }
    }

    /// Polls queued tasks until `max` were polled, the queue is empty, or the main future's
    /// turn has come (a wake of main during the batch can bring that forward).
    #[inline(always)]
    fn run_ready_with(
        &self,
        max: u32,
        pop: impl Fn(&mut VecDeque<TaskRef>) -> Option<TaskRef>,
        run: impl Fn(&TaskRef) -> RunOutcome,
    ) -> u32 {
        let start = self.popped.get();
        let end = start + u64::from(max);
        self.batch_end
            .set(self.main_turn.get().map_or(end, |turn| turn.min(end)));
        loop {
            let popped = self.popped.get();
            if popped >= self.batch_end.get() {
                break;
            }
            let Some(task) = pop(&mut self.run_queue.borrow_mut()) else {
                break;
            };
            self.popped.set(popped + 1);
            self.run_task(task, &run);
        }
        (self.popped.get() - start) as u32
    }

    /// The main future was woken on this thread, and was not woken already: its turn comes
    /// after the tasks queued now, and a running batch stops there.
    pub(crate) fn queue_main(&self) {
        let turn = self.popped.get() + self.run_queue.borrow().len() as u64;
        self.main_turn.set(Some(turn));
        self.batch_end.set(self.batch_end.get().min(turn));
    }

    /// Whether the woken main future's turn has come; if so, it is taken.
    pub(crate) fn take_main_turn(&self) -> bool {
        let due = self
            .main_turn
            .get()
            .is_none_or(|turn| self.popped.get() >= turn);
        if due {
            self.main_turn.set(None);
        }
        due
    }

    #[inline(always)]
    fn run_task(&self, task: TaskRef, run: impl Fn(&TaskRef) -> RunOutcome) {
        budget::reset(self.budget);
        self.current.set(Some(task.id()));
        let outcome = run(&task);
        match outcome {
            RunOutcome::Idle => {}
            // Still the current task: a recorder sees the task wake itself.
            RunOutcome::Requeue => self.push(task),
            RunOutcome::Complete => {
                if self.observed {
                    self.note_exited(task.id());
                }
                self.stamp_completion(task.id());
                self.contexts.forget(task.id());
                if let Some(stats) = &self.stats {
                    stats.borrow_mut().remove(&task.id());
                }
                let key = task.owner_key();
                let mut owned = self.owned.borrow_mut();
                let ours = owned.get(key).is_some_and(|o| o.task.id() == task.id());
                let removed = if ours { owned.try_remove(key) } else { None };
                drop(owned);
                drop(removed);
            }
        }
        self.current.set(None);
    }

    /// Records `id`'s place in the order of completions, if someone watches it.
    #[inline(always)]
    fn stamp_completion(&self, id: TaskId) {
        if self.watching.get() {
            self.stamp_watched(id);
        }
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

    /// Starts recording when task `id` completes (see [`Core::completion_stamp`]).
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

    /// Runs `task` with the instruments' step hooks around it, and in debug mode timed.
    #[inline(never)]
    fn run_observed(&self, debug: Option<&DebugMode>, task: &TaskRef) -> RunOutcome {
        let id = task.id();
        self.instruments.each(|i| i.before_task_step(id));
        // The recorder's timestamps double as the poll's times, when it runs.
        let started = match &self.trace {
            Some(trace) => Some(trace.record(Event::PollStarted { task: id })),
            None => self.stats.as_ref().map(|_| Instant::now()),
        };
        let outcome = match debug {
            Some(debug) => self.run_timed(debug, task),
            None => task.run(),
        };
        let ended = match &self.trace {
            Some(trace) => Some(trace.record(Event::PollEnded { task: id })),
            None => started.map(|_| Instant::now()),
        };
        if let (Some(started), Some(ended)) = (started, ended) {
            self.count_poll(id, started, ended);
        }
        self.instruments.each(|i| i.after_task_step(id));
        outcome
    }

    /// Waits for I/O as `wait` says, with the instruments' hooks around the wait; returns
    /// how many I/O events there were.
    pub(crate) fn wait_for_io(&self, wait: Wait) -> usize {
        if !self.observed {
            return self.reactor.turn(wait, &());
        }
        let timeout = match wait {
            Wait::No => Some(Duration::ZERO),
            Wait::Forever => None,
            Wait::Until(deadline) => Some(deadline.saturating_duration_since(Instant::now())),
        };
        self.instruments.each(|i| i.before_io_wait(timeout));
        let events = match &self.trace {
            Some(trace) => {
                trace.record(Event::Parked { timeout });
                let events = trace.with_cause(WakeCause::Outside, || {
                    self.reactor.turn(wait, &IoRecorder(trace))
                });
                trace.record(Event::Unparked { events });
                events
            }
            None => self.reactor.turn(wait, &()),
        };
        self.instruments.each(|i| i.after_io_wait(events));
        events
    }

    /// Fires the timers whose deadline has passed on the runtime's clock; the recorder sees
    /// each one, and a seeded runtime keeps the tasks of one deadline in arming order.
    pub(crate) fn fire_timers(&self) {
        // No timer armed (a server between requests, say): no clock to read. Reading it was
        // a tenth of the instructions of an echo round trip (callgrind).
        if self.timers.is_empty() {
            return;
        }
        let now = self.clock.now();
        if !self.observed {
            return self.timers.fire_expired(now, |_, waker| waker.wake());
        }
        let record = || {
            if let Some(trace) = &self.trace {
                trace.record(Event::TimerFired);
            }
        };
        let fire = || {
            self.timers.fire_expired(now, |deadline, waker| {
                record();
                match &self.shuffle {
                    // Deadlines count nanoseconds from the driver's start; +1 keeps 0 free.
                    Some(shuffle) => shuffle.in_group(deadline + 1, || waker.wake()),
                    None => waker.wake(),
                }
            })
        };
        match &self.trace {
            None => fire(),
            Some(trace) => trace.with_cause(WakeCause::Timer, fire),
        }
    }

    /// Registers `waker` to be woken once every task is blocked; returns the round to wait
    /// for (see [`Core::idle_round_passed`]).
    pub(crate) fn wait_idle(&self, waker: &Waker) -> u64 {
        self.idle_waiters.borrow_mut().push(waker.clone());
        self.idle_rounds.get() + 1
    }

    /// Whether the idle waiters were woken for `round`.
    pub(crate) fn idle_round_passed(&self, round: u64) -> bool {
        self.idle_rounds.get() >= round
    }

    pub(crate) fn has_idle_waiters(&self) -> bool {
        !self.idle_waiters.borrow().is_empty()
    }

    /// Every task is blocked: wakes the tasks waiting for that.
    pub(crate) fn wake_idle_waiters(&self) {
        self.idle_rounds.set(self.idle_rounds.get() + 1);
        let waiters = std::mem::take(&mut *self.idle_waiters.borrow_mut());
        for waker in waiters {
            waker.wake();
        }
    }

    /// Runs `task` in debug mode: timed, and reported if slow.
    #[inline(never)]
    fn run_timed(&self, debug: &DebugMode, task: &TaskRef) -> RunOutcome {
        debug.poll_starts();
        let outcome = task.run();
        let report = || {
            let owned = self.owned.borrow();
            let entry = owned.get(task.owner_key());
            entry
                .filter(|o| o.task.id() == task.id())
                .map(OwnedTask::debug_report)
        };
        debug.poll_ended(report);
        match outcome {
            // Only `task` (the run queue's reference, held by the caller) beyond the owned
            // list and the JoinHandle, and not queued: no waker exists.
            RunOutcome::Idle
                if task.waker_census(|_| false).0 <= 1 && !task.snapshot().is_scheduled() =>
            {
                if let Some(report) = report() {
                    debug.lost_waker(report);
                }
            }
            RunOutcome::Requeue => self.count_self_wake(debug, task.id(), report),
            _ => {}
        }
        outcome
    }

    /// Counts a poll that ended with the task waking itself, and reports the task once if it
    /// mostly does that.
    fn count_self_wake(
        &self,
        debug: &DebugMode,
        id: TaskId,
        report: impl FnOnce() -> Option<TaskReport>,
    ) {
        let Some(stats) = &self.stats else { return };
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

    /// Resets the budget before polling the main future.
    pub(crate) fn reset_budget(&self) {
        budget::reset(self.budget);
    }

    /// Moves tasks woken from other threads onto the run queue.
    #[inline]
    pub(crate) fn drain_remote(&self) {
        if let Some(trace) = &self.trace {
            trace.set_cause(WakeCause::OtherThread);
        }
        for notified in self.remote.take() {
            self.push(notified.into_local(self.id));
        }
        if let Some(trace) = &self.trace {
            trace.set_cause(WakeCause::Outside);
        }
    }

    /// Calls `f` with each live task.
    pub(crate) fn for_each_task(&self, mut f: impl FnMut(&OwnedTask)) {
        for (_, owned) in self.owned.borrow().iter() {
            f(owned);
        }
    }

    /// Drops every task's future, on this thread, until none is left (a dropped future may
    /// spawn or wake others). Called when the runtime is dropped.
    pub(crate) fn shutdown(&self) {
        loop {
            let tasks: Vec<OwnedTask> = self.owned.borrow_mut().drain().collect();
            if tasks.is_empty() {
                break;
            }
            if let Some(debug) = &self.debug {
                let mut reports: Vec<TaskReport> =
                    tasks.iter().map(OwnedTask::debug_report).collect();
                reports.sort_by_key(|report| report.id);
                reports
                    .into_iter()
                    .for_each(|report| debug.dropped_pending(report));
            }
            for owned in &tasks {
                owned.task.cancel_now();
            }
        }
        let queued = std::mem::take(&mut *self.run_queue.borrow_mut());
        if let Some(shuffle) = &self.shuffle {
            shuffle.clear();
        }
        drop(queued);
        let idle_waiters = std::mem::take(&mut *self.idle_waiters.borrow_mut());
        drop(idle_waiters);
        self.remote.unregister();
        drop(self.remote.take());
    }
}

/// The recorder's view of the reactor's dispatch: each ready source, and the cause of each
/// wake that follows.
struct IoRecorder<'a>(&'a Recorder);

impl crate::reactor::TurnObserver for IoRecorder<'_> {
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

#[cfg(test)]
mod tests {
    use crate::Runtime;

    #[test]
    fn the_run_queue_gives_its_memory_back_after_a_burst() {
        let rt = Runtime::new().unwrap();
        let core = rt.core.clone();
        rt.block_on(async move {
            let tasks: Vec<_> = (0..100_000).map(|_| crate::task::spawn(async {})).collect();
            let peak = core.run_queue.borrow().capacity();
            assert!(peak >= 100_000, "all the spawned tasks are queued: {peak}");
            for task in tasks {
                task.await.unwrap();
            }
            let after = core.run_queue.borrow().capacity();
            assert!(
                after <= 1024,
                "capacity {after} after the burst (peak {peak})"
            );
        });
    }

    #[test]
    fn a_queue_that_stays_busy_keeps_its_capacity() {
        let rt = Runtime::new().unwrap();
        let core = rt.core.clone();
        core.run_queue.borrow_mut().reserve_exact(8192);
        let capacity = core.run_queue.borrow().capacity();
        // Half full is more than a quarter: trimming leaves it alone.
        let tasks: Vec<_> = (0..capacity / 2).map(|_| rt.spawn(async {})).collect();
        core.trim_run_queue();
        assert_eq!(core.run_queue.borrow().capacity(), capacity);
        rt.block_on(async move {
            for task in tasks {
                task.await.unwrap();
            }
        });
    }
}
