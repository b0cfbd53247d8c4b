//! [`Runtime`]: a runtime you hold, and [`run`], which makes one per call.

use std::future::Future;
use std::panic::Location;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::Duration;

use super::context::{self, with_core};
use super::deadlock::DeadlockError;
use super::run_loop::{self, Stopped};
use super::state::Executor;
use super::time_limit::TimeLimitError;
use super::trace_file;
use crate::task::JoinHandle;

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
    executor: Rc<Executor>,
    /// Where `WEFT_TRACE` asked for the trace, written when the runtime is dropped.
    trace_file: Option<PathBuf>,
}

impl Runtime {
    pub(crate) fn from_parts(executor: Executor, trace_file: Option<PathBuf>) -> Runtime {
        let executor = Rc::new(executor);
        executor.list_for_attach();
        Runtime {
            executor,
            trace_file,
        }
    }

    /// The executor behind this runtime.
    pub(crate) fn executor(&self) -> &Rc<Executor> {
        &self.executor
    }

    /// Spawns a task that starts running at the next `block_on`.
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let location = std::panic::Location::caller();
        self.executor.spawn(future, None, location)
    }

    /// The seed of the runtime's scheduling order, if it was given one ([`Builder::seed`](crate::runtime::Builder::seed) or
    /// `WEFT_SEED`).
    pub fn seed(&self) -> Option<u64> {
        self.executor.seed()
    }

    /// A copy of the flight recorder's events, or `None` if it is off (see
    /// [`Builder::flight_recorder`](crate::runtime::Builder::flight_recorder) and [`crate::trace`]).
    pub fn trace_snapshot(&self) -> Option<crate::trace::Trace> {
        self.executor
            .observer()
            .recorder()
            .map(|trace| trace.snapshot())
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
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.try_block_on(future)
            .unwrap_or_else(|deadlock| panic!("{deadlock}"))
    }

    /// Like [`block_on`](Runtime::block_on), but a deadlock is returned as an error listing the
    /// waiting tasks instead of panicking.
    #[track_caller]
    pub fn try_block_on<F: Future>(&self, future: F) -> Result<F::Output, DeadlockError> {
        match run_loop::run(&self.executor, future, None, Location::caller()) {
            Ok(output) => Ok(output),
            Err(Stopped::Deadlock(report)) => Err(*report),
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
    #[track_caller]
    pub fn block_on_within<F: Future>(
        &self,
        limit: Duration,
        future: F,
    ) -> Result<F::Output, TimeLimitError> {
        let deadline = std::time::Instant::now() + limit;
        match run_loop::run(&self.executor, future, Some(deadline), Location::caller()) {
            Ok(output) => Ok(output),
            Err(Stopped::Deadlock(report)) => panic!("{report}"),
            Err(Stopped::OverTime) => Err(TimeLimitError::new(limit, self.executor.dump())),
        }
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        let _enter = context::enter_any(self.executor.clone());
        self.executor.shutdown();
        if let (Some(path), Some(trace)) = (&self.trace_file, self.trace_snapshot()) {
            trace_file::write(path, self.executor.id(), &trace);
        }
    }
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("id", &self.executor.id())
            .finish()
    }
}

/// The scheduling seed of the runtime this code runs on: `Some` under
/// [`Builder::seed`](crate::runtime::Builder::seed), `WEFT_SEED` or `#[weft::test(seed = N)]` / `seeds = N`, `None` with the
/// default wake order or outside a runtime. A test that makes its own random choices can
/// derive them from it, so one replayed seed replays them too.
///
/// ```
/// let rt = weft::runtime::Builder::new().seed(42).build().unwrap();
/// assert_eq!(rt.block_on(async { weft::runtime::seed() }), Some(42));
/// ```
pub fn seed() -> Option<u64> {
    with_core(|executor| executor?.seed())
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
#[track_caller]
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
/// let names: Vec<_> = err.tasks().iter().filter_map(|t| t.name.as_deref()).collect();
/// assert_eq!(names, ["main", "stuck"]); // the main future is a task too
/// ```
#[track_caller]
pub fn try_run<F: Future>(future: F) -> Result<F::Output, DeadlockError> {
    let runtime = Runtime::new()
        .unwrap_or_else(|err| panic!("weft::run could not create its runtime: {err}"));
    runtime.try_block_on(future)
}
