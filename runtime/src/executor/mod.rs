//! The executor: run queues and the event-loop turn.
//!
//! # One turn of the loop ([`Runtime::block_on`])
//! 1. Poll the main future if it was woken and its turn has come: woken on this thread, it
//!    takes its place in the run queue's order, after the tasks woken before it.
//! 2. Poll ready tasks from the FIFO run queue, at most `event_interval` (61 by default) per
//!    turn, stopping where the main future's turn comes.
//! 3. Move tasks woken from other threads onto the run queue.
//! 4. If nothing is ready, or `event_interval` polls have passed since the last look, poll
//!    the reactor: with timeout 0 if work is ready, else until the earliest timer, else forever
//!    (an idle runtime sleeps in `epoll_wait` and uses no CPU). Each I/O event wakes the
//!    registration's reader and/or writer. Just before, a run queue left mostly empty by a
//!    burst gives its memory back ([`Core::trim_run_queue`](self::local::Core::trim_run_queue)).
//! 5. Fire the timers whose deadline has passed, in deadline order.
//!
//! So I/O and timers are looked at after at most `event_interval` polls even if tasks keep
//! waking each other forever, while tasks handing work to each other do not pay a system call
//! per hand-off.

pub(crate) mod context;
mod deadlock;
mod debug;
mod dump;
mod instrument;
pub(crate) mod local;
mod remote;
mod shuffle;
mod time_limit;
mod trace_file;

use std::future::Future;
use std::io;
use std::pin::pin;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

pub(crate) use context::{expect_core, with_core};
pub use deadlock::{DeadlockError, TaskReport};
pub use debug::{DebugEvent, LARGE_FUTURE};
pub use instrument::Instrument;
use instrument::Instruments;
pub use time_limit::TimeLimitError;

use self::debug::{DebugHook, DebugMode};
pub(crate) use self::local::HeldWakers;
use self::local::{Core, CoreSettings};
use self::remote::Remote;
use self::shuffle::Shuffle;
use crate::reactor::{Reactor, Wait};
use crate::task::JoinHandle;
use crate::task::raw::TaskRef;
use crate::time::AutoAdvance;
use crate::time::clock::Clock;

/// Queues a woken task: on this thread's run queue if it belongs to the runtime running here,
/// otherwise through its runtime's remote queue.
pub(crate) fn schedule(task: TaskRef) {
    let task = with_core(|core| match core {
        Some(core) if core.id == task.runtime_id() => {
            core.push(task);
            None
        }
        _ => Some(task),
    });
    if let Some(task) = task {
        remote::schedule_remote(task.into_notified());
    }
}

/// The counter of weft-held wakers of the runtime that owns `waker`, if that runtime is the one
/// running on this thread (see `waiters/waker_slot.rs`).
pub(crate) fn local_waker_census(waker: &Waker) -> Option<Rc<HeldWakers>> {
    with_core(|core| {
        core.filter(|c| c.owns_waker(waker))
            .map(|c| c.held_wakers.clone())
    })
}

/// Configures a [`Runtime`].
///
/// ```
/// let rt = weft::runtime::Builder::new().event_interval(31).build().unwrap();
/// assert_eq!(rt.block_on(async { 1 + 1 }), 2);
/// ```
#[derive(Clone)]
pub struct Builder {
    event_interval: u32,
    budget: u32,
    events_capacity: usize,
    debug: bool,
    slow_poll: Duration,
    debug_hook: Option<DebugHook>,
    instruments: Instruments,
    flight_recorder: usize,
    trace_file: Option<std::path::PathBuf>,
    start_paused: bool,
    auto_advance: AutoAdvance,
    seed: Option<u64>,
    /// What was wrong with `WEFT_SEED`, for `build` to report (an explicit seed overrides it).
    bad_seed: Option<String>,
}

impl Default for Builder {
    fn default() -> Builder {
        Builder {
            event_interval: 61,
            budget: 128,
            events_capacity: 1024,
            debug: debug::wanted_by_env(),
            slow_poll: debug::DEFAULT_SLOW_POLL,
            debug_hook: None,
            instruments: Instruments::default(),
            flight_recorder: if trace_file::wanted().is_some() {
                trace_file::DEFAULT_EVENTS
            } else {
                0
            },
            trace_file: trace_file::wanted(),
            start_paused: false,
            auto_advance: AutoAdvance::default(),
            seed: seed_from_env().ok().flatten(),
            bad_seed: seed_from_env().err(),
        }
    }
}

impl std::fmt::Debug for Builder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Builder")
            .field("event_interval", &self.event_interval)
            .field("budget", &self.budget)
            .field("events_capacity", &self.events_capacity)
            .field("debug", &self.debug)
            .field("slow_poll_threshold", &self.slow_poll)
            .field(
                "debug_hook",
                &self.debug_hook.as_ref().map(|_| "Fn(&DebugEvent)"),
            )
            .field("instruments", &self.instruments)
            .field("flight_recorder", &self.flight_recorder)
            .field("trace_file", &self.trace_file)
            .field("start_paused", &self.start_paused)
            .field("auto_advance", &self.auto_advance)
            .field("seed", &self.seed)
            .finish()
    }
}

impl Builder {
    /// The defaults: `event_interval` 61, `budget` 128, 1024 events per reactor poll, debug
    /// mode off unless the `WEFT_DEBUG` environment variable is set (and not `0`), slow-poll
    /// threshold 100 ms, the system clock, and the FIFO scheduling order unless `WEFT_SEED`
    /// is set.
    pub fn new() -> Builder {
        Builder::default()
    }

    /// Debug mode, asyncio's `loop.set_debug(True)`: the runtime reports each poll that runs
    /// longer than the [slow-poll threshold](Builder::slow_poll_threshold), naming the task,
    /// and each task still pending when the runtime is dropped (see [`DebugEvent`]). Reports
    /// go to standard error, or to [`on_debug_event`](Builder::on_debug_event)'s hook.
    ///
    /// Also turned on by setting `WEFT_DEBUG=1` in the environment (weft's
    /// `PYTHONASYNCIODEBUG`), which reaches runtimes made by [`run`] too. Off, it costs a
    /// branch per poll.
    ///
    /// ```
    /// let rt = weft::runtime::Builder::new().debug(true).build().unwrap();
    /// rt.block_on(async {
    ///     weft::task::Builder::new()
    ///         .name("forgotten")
    ///         .spawn(std::future::pending::<()>());
    /// });
    /// // Prints: weft debug: task #2 (forgotten) spawned at <file:line:column> was still
    /// // pending when the runtime was dropped; its future was dropped unfinished
    /// drop(rt);
    /// ```
    pub fn debug(mut self, on: bool) -> Builder {
        self.debug = on;
        self
    }

    /// How long one poll may run before debug mode reports it: 100 ms by default, asyncio's
    /// `slow_callback_duration`.
    pub fn slow_poll_threshold(mut self, threshold: Duration) -> Builder {
        self.slow_poll = threshold;
        self
    }

    /// Sends debug mode's reports to `hook` instead of standard error, to log them your way or
    /// count them in a test; turns debug mode on. The hook runs on the runtime's thread, right
    /// after the slow poll or while the runtime is being dropped; a panic in it propagates.
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use std::time::Duration;
    /// use weft::runtime::{Builder, DebugEvent};
    ///
    /// let slow = Arc::new(Mutex::new(Vec::new()));
    /// let rt = Builder::new()
    ///     .slow_poll_threshold(Duration::from_millis(5))
    ///     .on_debug_event({
    ///         let slow = slow.clone();
    ///         move |event| {
    ///             if let DebugEvent::SlowPoll { task: Some(task), .. } = event {
    ///                 slow.lock().unwrap().push(task.name.clone());
    ///             }
    ///         }
    ///     })
    ///     .build()
    ///     .unwrap();
    /// rt.block_on(async {
    ///     weft::task::Builder::new()
    ///         .name("blocker")
    ///         // A blocking call where an await belongs: the whole thread stops.
    ///         .spawn(async { std::thread::sleep(Duration::from_millis(10)) })
    ///         .await
    ///         .unwrap();
    /// });
    /// assert_eq!(*slow.lock().unwrap(), [Some("blocker".to_string())]);
    /// ```
    pub fn on_debug_event(mut self, hook: impl Fn(&DebugEvent) + Send + Sync + 'static) -> Builder {
        self.debug = true;
        self.debug_hook = Some(Arc::new(hook));
        self
    }

    /// How many task polls may run before the reactor and the timers are checked again
    /// (at least 1). Lower means fairer to I/O, higher means fewer system calls.
    pub fn event_interval(mut self, polls: u32) -> Builder {
        self.event_interval = polls.max(1);
        self
    }

    /// How many ready operations (socket reads, channel receives) one poll of a task may do
    /// before it is made to yield (at least 1). See [`poll_budget`](crate::task::poll_budget).
    pub fn budget(mut self, operations: u32) -> Builder {
        self.budget = operations.max(1);
        self
    }

    /// Registers an [`Instrument`], whose hooks the runtime calls as it schedules, runs and
    /// finishes tasks and waits for I/O (trio's instruments). Several may be registered;
    /// they are called in the order given.
    pub fn instrument(mut self, instrument: Rc<dyn Instrument>) -> Builder {
        self.instruments.push(instrument);
        self
    }

    /// Keeps the last `events` events of the loop in a flight recorder (0, the default,
    /// turns it off); [`Runtime::trace_snapshot`] copies them out. See [`crate::trace`].
    ///
    /// The default is 0 unless `WEFT_TRACE=FILE` is set in the environment: then it is
    /// 262,144 events (about 10 MiB), and the runtime writes its trace to `FILE` when it is
    /// dropped: an SVG picture if the name ends in `.svg`, else Chrome trace-event JSON
    /// for Perfetto UI. When several runtimes of one process trace, the second and later
    /// add `.N` to the name, N being the runtime's number.
    pub fn flight_recorder(mut self, events: usize) -> Builder {
        self.flight_recorder = events;
        self
    }

    /// Starts the runtime with its clock paused (tokio's `start_paused`, trio's `MockClock`):
    /// time moves only when the runtime is idle ([`auto_advance`](Builder::auto_advance)) or a
    /// task moves it ([`advance`](crate::time::advance)), so a test that sleeps for an hour
    /// finishes in microseconds, and its timers fire in deadline order every run. See
    /// [`weft::time::Instant`](crate::time::Instant): `std::time::Instant` does not pause.
    ///
    /// ```
    /// use std::time::Duration;
    /// use weft::time::{Instant, sleep, timeout};
    ///
    /// let rt = weft::runtime::Builder::new().start_paused(true).build().unwrap();
    /// let real = std::time::Instant::now();
    /// rt.block_on(async {
    ///     let start = Instant::now();
    ///     let slow = sleep(Duration::from_secs(3600));
    ///     assert!(timeout(Duration::from_secs(60), slow).await.is_err());
    ///     assert_eq!(start.elapsed(), Duration::from_secs(60));
    /// });
    /// assert!(real.elapsed() < Duration::from_secs(1));
    /// ```
    pub fn start_paused(mut self, paused: bool) -> Builder {
        self.start_paused = paused;
        self
    }

    /// When a paused clock moves by itself ([`AutoAdvance::WhenIdle`] by default).
    pub fn auto_advance(mut self, mode: AutoAdvance) -> Builder {
        self.auto_advance = mode;
        self
    }

    /// Runs the tasks woken in the same round in an order shuffled by `seed`, instead of the
    /// order they were woken in. No program may rely on that order; a test run under many
    /// seeds (see `#[weft::test(seeds = N)]`) finds the code that does, and the failing seed
    /// replays the failing order exactly, as long as the test's input is the same.
    ///
    /// The shuffle keeps every order weft documents: a primitive's waiters are served first
    /// come, first served (whatever order they then run in), and tasks woken by timers with
    /// the same deadline run in the order the timers were armed.
    ///
    /// The environment variable `WEFT_SEED=N` sets it for every runtime that is built without
    /// an explicit call (`0x`-prefixed hex is read too). Off (the default), it costs nothing.
    pub fn seed(mut self, seed: u64) -> Builder {
        self.seed = Some(seed);
        self.bad_seed = None;
        self
    }

    /// How many I/O events one reactor poll takes at most (at least 1).
    pub fn events_capacity(mut self, events: usize) -> Builder {
        self.events_capacity = events.max(1);
        self
    }

    /// Creates the runtime: an epoll instance and an eventfd for wakes from other threads.
    /// Fails with the OS error if the process is out of file descriptors, and with
    /// `InvalidInput` if `WEFT_SEED` is set to something that is not a number.
    pub fn build(self) -> io::Result<Runtime> {
        if let Some(bad) = self.bad_seed {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, bad));
        }
        let (reactor, waker) = Reactor::new(self.events_capacity)?;
        let remote = Remote::register(waker);
        let debug = self
            .debug
            .then(|| DebugMode::new(self.slow_poll, self.debug_hook));
        let trace = (self.flight_recorder > 0)
            .then(|| crate::trace::recorder::Recorder::new(self.flight_recorder));
        let trace_file = self.trace_file.filter(|_| trace.is_some());
        let settings = CoreSettings {
            event_interval: self.event_interval,
            budget: self.budget,
            debug,
            instruments: self.instruments,
            trace,
            clock: Clock::new(self.start_paused, self.auto_advance),
            shuffle: self.seed.map(Shuffle::new),
        };
        let core = Core::new(remote, reactor, settings);
        Ok(Runtime {
            core: Rc::new(core),
            trace_file,
        })
    }
}

/// A single-threaded runtime: an executor, a reactor and timers, driven by
/// [`block_on`](Runtime::block_on) on the thread that created it (it is `!Send`).
///
/// Dropping it drops every task that is still alive, on this thread, as `asyncio.run` cancels
/// leftover tasks. Most programs just call [`run`](crate::run).
///
/// ```
/// let rt = weft::Runtime::new().unwrap();
/// let handle = rt.spawn(async { "spawned before block_on" });
/// assert_eq!(rt.block_on(handle).unwrap(), "spawned before block_on");
/// ```
pub struct Runtime {
    core: Rc<Core>,
    /// Where `WEFT_TRACE` asked for the trace, written when the runtime is dropped.
    trace_file: Option<std::path::PathBuf>,
}

impl Runtime {
    /// A runtime with the default [`Builder`] settings.
    pub fn new() -> io::Result<Runtime> {
        Builder::new().build()
    }

    /// A [`Builder`] to configure one.
    pub fn builder() -> Builder {
        Builder::new()
    }

    /// Spawns a task that starts running at the next `block_on`.
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let location = std::panic::Location::caller();
        self.core.spawn(future, None, location)
    }

    /// A [`Spawner`](crate::task::Spawner) for this runtime: futures-task's `Spawn` and
    /// `LocalSpawn`, for libraries that take a spawner instead of calling `weft::spawn`.
    #[track_caller]
    pub fn spawner(&self) -> crate::task::Spawner {
        crate::task::Spawner::new_on(&self.core)
    }

    /// The seed of the runtime's scheduling order, if it was given one ([`Builder::seed`] or
    /// `WEFT_SEED`).
    pub fn seed(&self) -> Option<u64> {
        self.core.shuffle.as_ref().map(|shuffle| shuffle.seed())
    }

    /// A copy of the flight recorder's events, or `None` if it is off (see
    /// [`Builder::flight_recorder`] and [`crate::trace`]).
    pub fn trace_snapshot(&self) -> Option<crate::trace::Trace> {
        self.core.trace.as_ref().map(|trace| trace.snapshot())
    }

    /// Runs `future` to completion on this thread, driving every task of this runtime
    /// meanwhile, and returns its output. Tasks still alive afterwards stay parked until the
    /// next `block_on` or until the runtime is dropped.
    ///
    /// # Panics
    /// - Inside a running runtime (use `.await` or `spawn` instead).
    /// - If the runtime deadlocks (see [`try_block_on`](Runtime::try_block_on) to get the
    ///   [`DeadlockError`] report as an error instead).
    /// - If `future` panics (the panic propagates).
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.try_block_on(future)
            .unwrap_or_else(|deadlock| panic!("{deadlock}"))
    }

    /// Like [`block_on`](Runtime::block_on), but a deadlock is returned as an error listing the
    /// waiting tasks instead of panicking.
    pub fn try_block_on<F: Future>(&self, future: F) -> Result<F::Output, DeadlockError> {
        match self.run_loop(future, None) {
            Ok(output) => Ok(output),
            Err(Stopped::Deadlock(report)) => Err(report),
            Err(Stopped::OverTime) => unreachable!("no time limit was set"),
        }
    }

    /// Like [`block_on`](Runtime::block_on), but gives up once `limit` of real time has
    /// passed, whatever the runtime's clock says: the error carries the
    /// [task dump](crate::task::dump) of that moment, to show what hung. The future and the
    /// tasks are left as they are (the runtime can be dropped, or run again).
    ///
    /// The limit is checked whenever the loop looks at its sockets: a task that never yields
    /// holds it off.
    ///
    /// # Panics
    /// As [`block_on`](Runtime::block_on), on deadlock among others.
    ///
    /// ```
    /// use std::time::Duration;
    /// use weft::io::AsyncReadExt;
    ///
    /// let rt = weft::Runtime::new().unwrap();
    /// let err = rt
    ///     .block_on_within(Duration::from_millis(10), async {
    ///         // A peer that never writes: weft cannot prove that no byte will come.
    ///         let (mut quiet, _peer) = weft::net::UnixStream::pair().unwrap();
    ///         let reader = weft::task::Builder::new().name("reader").spawn(async move {
    ///             quiet.read(&mut [0; 1]).await
    ///         });
    ///         let _ = reader.await;
    ///     })
    ///     .unwrap_err();
    /// assert!(err.to_string().contains("task #2 (reader)"), "{err}");
    /// ```
    pub fn block_on_within<F: Future>(
        &self,
        limit: Duration,
        future: F,
    ) -> Result<F::Output, TimeLimitError> {
        let deadline = std::time::Instant::now() + limit;
        match self.run_loop(future, Some(deadline)) {
            Ok(output) => Ok(output),
            Err(Stopped::Deadlock(report)) => panic!("{report}"),
            Err(Stopped::OverTime) => Err(TimeLimitError::new(limit, self.core.dump())),
        }
    }

    /// The event loop, until `future` completes, a deadlock, or the real-time `limit`.
    fn run_loop<F: Future>(
        &self,
        future: F,
        limit: Option<std::time::Instant>,
    ) -> Result<F::Output, Stopped> {
        let core = &self.core;
        let _enter = context::enter(core.clone());
        let _running = Running::start(core);
        let _budget = BudgetGuard;
        let main_id = core.next_id();
        core.contexts.inherit(None, main_id);
        core.note_main_started(main_id);
        core.set_main_task(Some(main_id));
        let _forget_main_task = MainTaskGuard(core);
        let main = Arc::new(MainWake {
            woken: AtomicBool::new(true),
            woken_elsewhere: AtomicBool::new(false),
            remote: core.remote.clone(),
            runtime_id: core.id,
            main_id,
        });
        let waker = Waker::from(main.clone());
        let mut cx = Context::from_waker(&waker);
        core.set_main_waker(Some(&waker));
        let _forget_main = MainWakerGuard(core);
        let _holders = HolderTracking(crate::waiters::set_tracking(
            core.debug.is_some() || core.trace.is_some(),
        ));
        let mut future = pin!(future);
        let mut polls_since_io = 0;
        // Debug mode and the flight recorder watch the main future's polls; one branch here
        // per poll when neither is on.
        let watched = core.debug.is_some() || core.trace.is_some();
        loop {
            if main.woken.load(Ordering::Acquire) && core.take_main_turn() {
                main.woken.store(false, Ordering::Release);
                core.reset_budget();
                let outer = core.set_current(Some(main_id));
                let polled = if watched {
                    poll_main_watched(core, &main, main_id, || future.as_mut().poll(&mut cx))
                } else {
                    future.as_mut().poll(&mut cx)
                };
                core.set_current(outer);
                if let Poll::Ready(output) = polled {
                    return Ok(output);
                }
                polls_since_io += 1;
            }
            polls_since_io += core.run_ready(core.event_interval);
            core.drain_remote();

            let ready = || core.has_ready_tasks() || main.woken.load(Ordering::Acquire);
            if ready() && polls_since_io < core.event_interval {
                continue;
            }
            polls_since_io = 0;
            // A paused clock's jump: to this deadline, once the real time has come.
            let mut jump_to = None;
            let wait = if ready() {
                Wait::No
            } else if core.has_idle_waiters() {
                // Tasks wait for all others to block: first a look at the sockets and timers.
                core.wait_for_io(Wait::No);
                core.fire_timers();
                core.drain_remote();
                if !ready() {
                    core.wake_idle_waiters();
                }
                continue;
            } else if let Some(deadline) = core.timers.next_deadline() {
                match core.clock.real_instant(deadline) {
                    Some(real) => Wait::Until(real),
                    None => {
                        // Paused: look at the sockets for as long as auto-advance says,
                        // then jump to the deadline if nothing happened.
                        let real_now = std::time::Instant::now();
                        match core.clock.idle_wait() {
                            Some(idle) if idle.is_zero() => {
                                jump_to = Some((deadline, real_now));
                                Wait::No
                            }
                            Some(idle) => {
                                jump_to = Some((deadline, real_now + idle));
                                Wait::Until(real_now + idle)
                            }
                            None if self.only_timers_left(&main, &waker) => {
                                jump_to = Some((deadline, real_now));
                                Wait::No
                            }
                            None => Wait::Forever,
                        }
                    }
                }
            } else {
                // Our own `waker` and `main` are the two expected references.
                let outside = Arc::strong_count(&main).saturating_sub(2);
                if let Some(report) = deadlock::check(core, &waker, outside) {
                    return Err(Stopped::Deadlock(report));
                }
                Wait::Forever
            };
            let wait = match (wait, limit) {
                (Wait::Forever, Some(limit)) => Wait::Until(limit),
                (Wait::Until(at), Some(limit)) => Wait::Until(at.min(limit)),
                (wait, _) => wait,
            };
            core.trim_run_queue();
            let events = core.wait_for_io(wait);
            if let Some((deadline, not_before)) = jump_to {
                let quiet = events == 0 && !ready() && !core.remote.is_notified();
                if quiet && std::time::Instant::now() >= not_before {
                    core.clock.set_now(deadline);
                }
            }
            core.fire_timers();
            if limit.is_some_and(|limit| std::time::Instant::now() >= limit) {
                return Err(Stopped::OverTime);
            }
        }
    }

    /// Whether nothing but a timer can wake the runtime any more (see
    /// `deadlock::only_timers_can_wake`).
    fn only_timers_left(&self, main: &Arc<MainWake>, waker: &Waker) -> bool {
        let outside = Arc::strong_count(main).saturating_sub(2);
        deadlock::only_timers_can_wake(&self.core, waker, outside)
    }
}

/// The scheduling seed of the runtime this code runs on: `Some` under
/// [`Builder::seed`], `WEFT_SEED` or `#[weft::test(seed = N)]` / `seeds = N`, `None` with the
/// default wake order or outside a runtime. A test that makes its own random choices can
/// derive them from it, so one replayed seed replays them too.
///
/// ```
/// let rt = weft::runtime::Builder::new().seed(42).build().unwrap();
/// assert_eq!(rt.block_on(async { weft::runtime::seed() }), Some(42));
/// ```
pub fn seed() -> Option<u64> {
    with_core(|core| core?.shuffle.as_ref().map(|shuffle| shuffle.seed()))
}

/// Why [`Runtime::run_loop`] stopped before its future completed.
enum Stopped {
    Deadlock(DeadlockError),
    OverTime,
}

/// The seed `WEFT_SEED` asks for (decimal, or hex after `0x`), or what is wrong with it.
pub(crate) fn seed_from_env() -> Result<Option<u64>, String> {
    let Ok(text) = std::env::var("WEFT_SEED") else {
        return Ok(None);
    };
    let text = text.trim();
    let parsed = match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => text.parse(),
    };
    parsed
        .map(Some)
        .map_err(|_| format!("WEFT_SEED={text:?} is not a number (decimal, or hex after 0x)"))
}

impl Drop for Runtime {
    fn drop(&mut self) {
        let _enter = context::enter_any(self.core.clone());
        self.core.shutdown();
        if let (Some(path), Some(trace)) = (&self.trace_file, self.trace_snapshot()) {
            trace_file::write(path, self.core.id, &trace);
        }
    }
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("id", &self.core.id)
            .finish()
    }
}

/// One poll of the main future, timed for debug mode and the task dump and recorded by the
/// flight recorder (out of line: most runtimes have neither).
#[inline(never)]
fn poll_main_watched<T>(
    core: &Core,
    main: &MainWake,
    main_id: crate::task::TaskId,
    poll: impl FnOnce() -> Poll<T>,
) -> Poll<T> {
    if core.trace.is_some() && main.woken_elsewhere.swap(false, Ordering::AcqRel) {
        core.note_main_woken_elsewhere(main_id);
    }
    if let Some(debug) = &core.debug {
        debug.poll_starts();
    }
    let started = std::time::Instant::now();
    core.note_main_poll(main_id, true, false);
    let polled = poll();
    core.note_main_poll(main_id, false, polled.is_ready());
    core.count_poll(main_id, started, std::time::Instant::now());
    if let Some(debug) = &core.debug {
        debug.poll_ended(|| None);
    }
    polled
}

/// Forgets the main future's id when `block_on` returns or unwinds.
struct MainTaskGuard<'a>(&'a Core);

impl Drop for MainTaskGuard<'_> {
    fn drop(&mut self) {
        if let Some(main) = self.0.main_task() {
            self.0.contexts.forget(main);
        }
        self.0.set_main_task(None);
    }
}

/// Forgets the main future's waker when `block_on` returns or unwinds.
struct MainWakerGuard<'a>(&'a Core);

impl Drop for MainWakerGuard<'_> {
    fn drop(&mut self) {
        self.0.set_main_waker(None);
    }
}

/// Restores this thread's holder tracking (on in debug mode and with the flight recorder,
/// for the task dump) when `block_on` returns or unwinds.
struct HolderTracking(bool);

impl Drop for HolderTracking {
    fn drop(&mut self) {
        crate::waiters::set_tracking(self.0);
    }
}

/// Marks the reactor and the timers as polled while `block_on` runs, so that a socket or
/// timer awaited in another runtime fails instead of waiting forever.
struct Running<'a>(&'a Core);

impl Running<'_> {
    fn start(core: &Core) -> Running<'_> {
        core.reactor.set_running(true);
        core.timers.set_running(true);
        Running(core)
    }
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.reactor.set_running(false);
        self.0.timers.set_running(false);
    }
}

/// Restores the unlimited budget when `block_on` returns or unwinds.
struct BudgetGuard;

impl Drop for BudgetGuard {
    fn drop(&mut self) {
        crate::task::budget::reset(u32::MAX);
    }
}

/// The main future's waker: a flag, plus an eventfd write when woken from another thread.
struct MainWake {
    woken: AtomicBool,
    /// Set with `woken` by a wake from another thread, for the flight recorder.
    woken_elsewhere: AtomicBool,
    remote: Arc<Remote>,
    runtime_id: u32,
    main_id: crate::task::TaskId,
}

impl Wake for MainWake {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let on_our_thread = with_core(|core| match core {
            Some(core) if core.id == self.runtime_id => {
                if !self.woken.swap(true, Ordering::AcqRel) {
                    core.queue_main();
                }
                core.note_main_woken(self.main_id);
                true
            }
            _ => false,
        });
        if !on_our_thread {
            // Before `woken`, so that the loop that sees `woken` sees this too. A wake from
            // elsewhere has no place in the run queue's order: main is due at once.
            self.woken_elsewhere.store(true, Ordering::Release);
            self.woken.store(true, Ordering::Release);
            self.remote.notify();
        }
    }
}

/// Runs `future` on a new [`Runtime`] and returns its output; every task still alive at the
/// end is dropped. The counterpart of `asyncio.run(main())`.
///
/// ```
/// let n = weft::run(async {
///     weft::time::sleep(std::time::Duration::from_millis(1)).await;
///     42
/// });
/// assert_eq!(n, 42);
/// ```
///
/// # Panics
/// If the OS refuses the runtime's epoll instance or eventfd (out of file descriptors: use
/// [`Runtime::new`] to handle that as an error), inside a running runtime, on deadlock (see
/// [`try_run`]), or if `future` panics.
pub fn run<F: Future>(future: F) -> F::Output {
    try_run(future).unwrap_or_else(|deadlock| panic!("{deadlock}"))
}

/// Like [`run`], but returns a [`DeadlockError`] report as an error instead of panicking.
///
/// ```
/// let err = weft::try_run(async {
///     let stuck = weft::task::Builder::new()
///         .name("stuck")
///         .spawn(std::future::pending::<()>());
///     stuck.await
/// })
/// .unwrap_err();
/// assert_eq!(err.tasks()[0].name.as_deref(), Some("stuck"));
/// ```
pub fn try_run<F: Future>(future: F) -> Result<F::Output, DeadlockError> {
    let runtime = Runtime::new()
        .unwrap_or_else(|err| panic!("weft::run could not create its runtime: {err}"));
    runtime.try_block_on(future)
}
