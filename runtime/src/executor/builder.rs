//! [`Builder`]: what a new runtime is made with, from the defaults, the environment
//! (`WEFT_DEBUG`, `WEFT_TRACE`, `WEFT_SEED`, each read once) and the caller's settings.

use std::io;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use super::debug::{self, DebugEvent, DebugHook, DebugMode};
use super::instrument::{Instrument, Instruments};
use super::remote::Remote;
use super::runtime::Runtime;
use super::shuffle::Shuffle;
use super::state::{Executor, Settings};
use super::trace_file;
use crate::reactor::Reactor;
use crate::time::AutoAdvance;
use crate::time::clock::Clock;

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
    attachable: bool,
    /// What was wrong with `WEFT_SEED`, for `build` to report (an explicit seed overrides it).
    bad_seed: Option<String>,
}

impl Default for Builder {
    fn default() -> Builder {
        // Each environment variable is read once.
        let trace_file = trace_file::wanted();
        let (seed, bad_seed) = match seed_from_env() {
            Ok(seed) => (seed, None),
            Err(bad) => (None, Some(bad)),
        };
        Builder {
            event_interval: 61,
            budget: 128,
            events_capacity: 1024,
            debug: debug::wanted_by_env(),
            slow_poll: debug::DEFAULT_SLOW_POLL,
            debug_hook: None,
            instruments: Instruments::default(),
            flight_recorder: if trace_file.is_some() {
                trace_file::DEFAULT_EVENTS
            } else {
                0
            },
            trace_file,
            start_paused: false,
            auto_advance: AutoAdvance::default(),
            seed,
            bad_seed,
            attachable: crate::attach::allowed_by_env(),
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
            .field("attachable", &self.attachable)
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
    /// `PYTHONASYNCIODEBUG`), which reaches runtimes made by [`run`](crate::run) too. Off, it costs a
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

    /// How many task polls run, while tasks are ready, before the reactor and the timers are
    /// checked again (at least 1); the loop also lets every task queued at its last check
    /// have its turn first (asyncio's rule), since a task an event wakes would run behind
    /// them anyway. Lower means a look at the outside world sooner, higher fewer system
    /// calls.
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

    /// Whether `weft-ps PID` can look inside this runtime from outside (on by default; off
    /// also with the environment variable `WEFT_PS=0`). Nothing runs and nothing is open
    /// for it until `weft-ps` asks; what it costs the loop meanwhile is in `docs/weft-ps.md`.
    pub fn attachable(mut self, on: bool) -> Builder {
        self.attachable = on;
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
        let settings = Settings {
            event_interval: self.event_interval,
            budget: self.budget,
            debug,
            instruments: self.instruments,
            trace,
            clock: Clock::new(self.start_paused, self.auto_advance),
            shuffle: self.seed.map(Shuffle::new),
            attachable: self.attachable,
        };
        Ok(Runtime::from_parts(
            Executor::new(remote, reactor, settings),
            trace_file,
        ))
    }
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

impl Runtime {
    /// A runtime with the default [`Builder`] settings.
    pub fn new() -> io::Result<Runtime> {
        Builder::new().build()
    }

    /// A [`Builder`] to configure one.
    pub fn builder() -> Builder {
        Builder::new()
    }
}
