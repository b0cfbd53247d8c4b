//! [`Executor`]: what a running runtime owns on its own thread (run queue, tasks, reactor,
//! timers, clock) and the verbs the loop and the rest of weft use on it.
//!
//! Its fields are private: other modules reach it through methods, so what the loop relies
//! on (the run queue's order, the owned-task table, when the clock may move) is kept here.

use std::cell::Cell;
use std::future::Future;
use std::num::NonZeroU64;
use std::panic::Location;
use std::rc::Rc;
use std::sync::Arc;
use std::task::Waker;

use super::TaskReport;
use super::debug::DebugMode;
use super::idle::IdleWaiters;
use super::instrument::Instruments;
use super::observe::{Observer, PollStats};
use super::remote::Remote;
use super::run_queue::RunQueue;
use super::shuffle::Shuffle;
use super::tasks::{OwnedTask, OwnedTasks};

mod paused;
mod poll;
mod shutdown;
use crate::attach::Attach;
use crate::reactor::{Reactor, Wait};
use crate::task::budget;
use crate::task::contexts::Contexts;
use crate::task::raw::{self, TaskMeta, TaskRef};
use crate::task::{JoinHandle, TaskId};
use crate::time::clock::Clock;
use crate::time::driver::TimerDriver;
use crate::trace::recorder::Recorder;
use crate::waiters::census::HeldWakers;

/// Everything a running runtime owns. Lives in an `Rc`: the `Runtime`, the thread-local
/// context and (through their own `Rc`s) sockets and timers point at parts of it.
pub(crate) struct Executor {
    id: u32,
    run_queue: RunQueue,
    tasks: OwnedTasks,
    /// Being looked at from outside (`weft-ps`). Its beacon keeps the task being polled
    /// (or the main future's id while it is), for `task::id()` too.
    attach: Attach,
    remote: Arc<Remote>,
    reactor: Rc<Reactor>,
    timers: Rc<TimerDriver>,
    /// The clock the timers run on: the system's, or a test's virtual one.
    clock: Clock,
    idle: IdleWaiters,
    /// Seeded scheduling, when a seed was given.
    shuffle: Option<Rc<Shuffle>>,
    event_interval: u32,
    budget: u32,
    /// The wakers of this runtime that weft's own primitives hold right now (`WakerSlot`).
    held_wakers: Rc<HeldWakers>,
    /// The main future's id while `block_on` runs, and where `block_on` was called.
    main_task: Cell<Option<(TaskId, &'static Location<'static>)>>,
    /// The tasks' context-variable values (only the tasks that have some).
    contexts: Contexts,
    /// The instrument hooks, the flight recorder and debug mode.
    observer: Observer,
    /// Tasks held back from polling (`ContextVar::pause_tasks`).
    paused: paused::Paused,
    /// Whether the loop takes its slow paths: something observes it, a seed shuffles it, or
    /// a pause holds tasks back.
    /// The one field the hot paths read for either (a `Cell`: `weft-ps --trace` turns the
    /// recorder on in a running loop).
    extras: Cell<bool>,
}

/// What a `Builder` decides about a new runtime.
pub(crate) struct Settings {
    pub(crate) event_interval: u32,
    pub(crate) budget: u32,
    pub(crate) debug: Option<DebugMode>,
    pub(crate) instruments: Instruments,
    pub(crate) trace: Option<Recorder>,
    pub(crate) clock: Clock,
    pub(crate) shuffle: Option<Shuffle>,
    pub(crate) attachable: bool,
}

impl Executor {
    pub(crate) fn new(remote: Arc<Remote>, reactor: Reactor, settings: Settings) -> Executor {
        let Settings {
            event_interval,
            budget,
            debug,
            instruments,
            trace,
            clock,
            shuffle,
            attachable,
        } = settings;
        let shuffle = shuffle.map(Rc::new);
        let observer = Observer::new(instruments, trace, debug);
        let id = remote.id;
        Executor {
            id,
            run_queue: RunQueue::new(),
            tasks: OwnedTasks::new(),
            attach: Attach::new(id, attachable),
            remote,
            reactor: Rc::new(reactor),
            timers: Rc::new(TimerDriver::new()),
            clock,
            idle: IdleWaiters::default(),
            event_interval,
            budget,
            held_wakers: Rc::new(HeldWakers::new(
                id,
                shuffle.clone().map(|shuffle| {
                    Rc::new(move |group, waker: Waker| shuffle.in_group(group, || waker.wake()))
                        as crate::waiters::census::GroupedWake
                }),
            )),
            main_task: Cell::new(None),
            contexts: Contexts::default(),
            extras: Cell::new(observer.is_on() || shuffle.is_some()),
            observer,
            paused: paused::Paused::default(),
            shuffle,
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
        let id = self.tasks.next_id();
        self.contexts.inherit(self.current(), id);
        if self.extras.get() {
            self.spawned_slow(id, name.as_deref(), location, std::mem::size_of::<F>());
        }
        let meta = TaskMeta {
            id,
            runtime_id: self.id,
            owner_key: self.tasks.next_key(),
            name,
        };
        let parts = raw::allocate(future, meta);
        self.tasks.insert(parts.owned, location, self.current());
        self.run_queue.push(parts.queued);
        JoinHandle::new(parts.join, parts.name)
    }

    /// A spawn seen by the observer, a seed, and debug mode's large-future lint.
    #[cold]
    #[inline(never)]
    fn spawned_slow(
        &self,
        id: TaskId,
        name: Option<&str>,
        at: &'static Location<'static>,
        size: usize,
    ) {
        if let Some(shuffle) = &self.shuffle {
            shuffle.pushed();
        }
        self.observer.spawned(id, name, Some(at), self.current());
        if let Some(debug) = self
            .observer
            .debug()
            .filter(|_| size > super::debug::LARGE_FUTURE)
        {
            debug.spawned_large(size, || TaskReport {
                id,
                name: name.map(str::to_owned),
                spawned_at: at,
                awaited: false,
            });
        }
    }

    /// The runtime's number.
    #[inline]
    pub(crate) fn id(&self) -> u32 {
        self.id
    }

    /// A fresh task id (the main future of each `block_on` gets one too).
    pub(crate) fn next_id(&self) -> TaskId {
        self.tasks.next_id()
    }

    /// The id of what is being polled right now.
    #[inline]
    pub(crate) fn current(&self) -> Option<TaskId> {
        NonZeroU64::new(self.attach.beacon().polling()).map(TaskId::new)
    }

    /// Records that the main future (or nothing) is being polled; returns what was before.
    pub(crate) fn set_current(&self, id: Option<TaskId>) -> Option<TaskId> {
        let before = self
            .attach
            .beacon()
            .swap_polling(id.map_or(0, TaskId::as_u64), u64::MAX);
        NonZeroU64::new(before).map(TaskId::new)
    }

    /// Being looked at from outside.
    #[inline(always)]
    pub(crate) fn attach(&self) -> &Attach {
        &self.attach
    }

    /// Lists the runtime for `weft-ps`, once it has its final address.
    pub(crate) fn list_for_attach(&self) {
        let (tasks, sites) = self.tasks.published();
        self.attach.list(tasks, sites);
    }

    /// Looks again at whether the slow paths are needed (the recorder was turned on or off,
    /// a pause began or ended).
    pub(crate) fn recheck_extras(&self) {
        self.extras
            .set(self.observer.is_on() || self.shuffle.is_some() || self.paused.any());
    }

    #[inline]
    pub(crate) fn reactor(&self) -> &Rc<Reactor> {
        &self.reactor
    }

    #[inline]
    pub(crate) fn timers(&self) -> &Rc<TimerDriver> {
        &self.timers
    }

    #[inline]
    pub(crate) fn clock(&self) -> &Clock {
        &self.clock
    }

    #[inline]
    pub(crate) fn contexts(&self) -> &Contexts {
        &self.contexts
    }

    #[inline]
    pub(crate) fn held_wakers(&self) -> &Rc<HeldWakers> {
        &self.held_wakers
    }

    #[inline]
    pub(crate) fn remote(&self) -> &Arc<Remote> {
        &self.remote
    }

    #[inline]
    pub(crate) fn observer(&self) -> &Observer {
        &self.observer
    }

    #[inline]
    pub(crate) fn run_queue(&self) -> &RunQueue {
        &self.run_queue
    }

    #[inline]
    pub(crate) fn tasks(&self) -> &OwnedTasks {
        &self.tasks
    }

    #[inline]
    pub(crate) fn idle(&self) -> &IdleWaiters {
        &self.idle
    }

    #[inline]
    pub(crate) fn event_interval(&self) -> u32 {
        self.event_interval
    }

    /// Whether the observer is on (the main future asks, to time its polls).
    #[inline]
    pub(crate) fn observed(&self) -> bool {
        self.extras.get() && self.observer.is_on()
    }

    /// The seed of the scheduling order, if one was given.
    pub(crate) fn seed(&self) -> Option<u64> {
        self.shuffle.as_ref().map(|shuffle| shuffle.seed())
    }

    /// The address the main future's waker points at, during `block_on`.
    pub(crate) fn main_waker_target(&self) -> Option<usize> {
        self.held_wakers.main_waker_target()
    }

    /// Remembers which waker is the main future's, or forgets it (`None`).
    pub(crate) fn set_main_waker(&self, waker: Option<&Waker>) {
        self.held_wakers.set_main_waker(waker);
    }

    /// Whether `id` is the main future of the `block_on` that runs now (a stale main
    /// waker, kept from an earlier `block_on`, is not).
    #[inline]
    pub(crate) fn is_main(&self, id: TaskId) -> bool {
        self.main_task.get().is_some_and(|(main, _)| main == id)
    }

    /// The main future as reports describe a task: named "main", spawned where `block_on`
    /// (or `run`) was called.
    pub(crate) fn main_report(&self) -> Option<TaskReport> {
        self.main_task.get().map(|(id, spawned_at)| TaskReport {
            id,
            name: Some("main".to_owned()),
            spawned_at,
            awaited: false,
        })
    }

    /// Records the main future's id and spawn site (`None` when `block_on` returns).
    pub(crate) fn set_main_task(&self, main: Option<(TaskId, &'static Location<'static>)>) {
        self.main_task.set(main);
        self.run_queue.forget_main();
        if main.is_none() {
            self.observer.forget_stats();
        }
    }

    /// Queues a task woken on this thread.
    #[inline]
    pub(crate) fn push(&self, task: TaskRef) {
        if self.extras.get() {
            self.scheduled_slow(task.id());
        }
        self.run_queue.push(task);
    }

    /// A wake seen by the observer, and the task's scheduling group under a seed.
    #[cold]
    #[inline(never)]
    fn scheduled_slow(&self, task: TaskId) {
        if let Some(shuffle) = &self.shuffle {
            shuffle.pushed();
        }
        if self.observer.is_on() {
            self.observer.scheduled(task, self.current());
        }
    }

    #[inline]
    pub(crate) fn has_ready_tasks(&self) -> bool {
        !self.run_queue.is_empty()
    }

    /// Waits for I/O as `wait` says, the observer told; returns how many events came from
    /// outside. The turn is stamped for `weft-ps` as the wait ends. With `may_run`, a task an
    /// event wakes when nothing else is ready is polled at once (`run_woken`).
    pub(crate) fn wait_for_io(&self, wait: Wait, may_run: bool) -> usize {
        self.run_queue.trim();
        let woke = || self.attach.after_wait(!matches!(wait, Wait::No));
        if !self.extras.get() {
            let mut wake =
                |waker| raw::wake_into(waker, self.id, |task| self.run_woken(task, may_run));
            return self.reactor.turn(wait, &(), woke, &mut wake);
        }
        // Observed or seeded: every woken task goes through the queue, where the observer
        // sees it scheduled and a seed picks its turn.
        let mut wake = |waker| raw::wake_into(waker, self.id, |task| self.push(task));
        self.observer.io_wait(wait, |observer| {
            self.reactor.turn(wait, observer, woke, &mut wake)
        })
    }

    /// Fires the timers whose deadline has passed on the runtime's clock; the observer sees
    /// each one, and a seeded runtime keeps the tasks of one deadline in arming order.
    #[inline]
    pub(crate) fn fire_timers(&self) {
        // No timer armed (a server between requests, say): no clock to read. Reading it was
        // a tenth of the instructions of an echo round trip (callgrind).
        if self.timers.is_empty() {
            return;
        }
        let now = self.clock.now();
        if !self.extras.get() {
            return self.timers.fire_expired(now, |_, waker| {
                raw::wake_into(waker, self.id, |task| self.push(task))
            });
        }
        self.observer.timers(|| {
            self.timers.fire_expired(now, |deadline, waker| {
                self.observer.timer_fired();
                match &self.shuffle {
                    // Deadlines count nanoseconds from the driver's start; +1 keeps 0 free.
                    Some(shuffle) => shuffle.in_group(deadline + 1, || waker.wake()),
                    None => waker.wake(),
                }
            })
        });
    }

    /// Resets the budget before polling the main future.
    pub(crate) fn reset_budget(&self) {
        budget::reset(self.budget);
    }

    /// Moves tasks woken from other threads onto the run queue. Always inlined: the loop
    /// asks every turn, and out of line its call cost 16 instructions per spawn and await
    /// (callgrind) once the loop grew past the inliner's budget.
    #[inline(always)]
    pub(crate) fn drain_remote(&self) {
        if self.extras.get() {
            return self.drain_remote_observed();
        }
        self.queue_remote_wakes();
    }

    #[cold]
    #[inline(never)]
    fn drain_remote_observed(&self) {
        self.observer.remote_wakes(|| self.queue_remote_wakes());
    }

    #[inline(always)]
    fn queue_remote_wakes(&self) {
        for notified in self.remote.take() {
            self.push(notified.into_local(self.id));
        }
    }

    /// Ready once every task (the main future aside) has completed.
    pub(crate) fn poll_tasks_done(&self, cx: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        self.tasks.poll_emptied(cx)
    }

    /// How many tasks are alive (the main future aside).
    pub(crate) fn live_tasks(&self) -> usize {
        self.tasks.live()
    }

    /// Calls `f` with each live task.
    pub(crate) fn for_each_task(&self, f: impl FnMut(&OwnedTask)) {
        self.tasks.for_each(f);
    }

    /// Cancels the tasks in `ids` (sorted) that are alive; returns how many.
    pub(crate) fn abort_tasks(&self, ids: &[TaskId]) -> usize {
        let mut aborted = 0;
        self.tasks.for_each(|owned| {
            if ids.binary_search(&owned.task().id()).is_ok() {
                owned.task().abort();
                aborted += 1;
            }
        });
        aborted
    }

    /// Task `id`'s poll counts and times, if they are kept.
    pub(crate) fn poll_stats(&self, id: TaskId) -> Option<PollStats> {
        self.observer.poll_stats(id)
    }
}
