//! `spawn_blocking`: the one place weft uses threads.
//!
//! A blocking call (a synchronous file read, a compression, a DNS lookup through libc) would
//! stall every task on the runtime's thread. `spawn_blocking` runs it on a small pool of worker
//! threads instead and hands the result back through the task's waker, which reaches the
//! runtime through its eventfd like any wake from another thread. Workers start lazily (none
//! exist until the first call), at most [`MAX_THREADS`] run at once, and an idle worker exits
//! after [`IDLE_TIMEOUT`]. Build weft with `--no-default-features` to leave all of this out.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

/// The most worker threads that run at once; further jobs queue.
pub const MAX_THREADS: usize = 16;

/// How long an idle worker waits for a job before it exits.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(10);

type Job = Box<dyn FnOnce() + Send>;

struct Pool {
    state: Mutex<PoolState>,
    job_ready: Condvar,
}

#[derive(Default)]
struct PoolState {
    jobs: VecDeque<Job>,
    threads: usize,
    idle: usize,
}

impl PoolState {
    /// Whether the queue holds more jobs than the idle workers will take, and the pool may
    /// grow. An idle worker counts as idle until it wakes, so a burst of jobs while one worker
    /// sleeps starts new workers instead of leaving the burst to that one.
    fn wants_worker(&self) -> bool {
        self.jobs.len() > self.idle && self.threads < MAX_THREADS
    }
}

fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| Pool {
        state: Mutex::new(PoolState::default()),
        job_ready: Condvar::new(),
    })
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Jobs run outside the lock and are caught, so a poisoned lock holds consistent data.
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

impl Pool {
    fn submit(&'static self, job: Job) {
        let mut state = lock(&self.state);
        state.jobs.push_back(job);
        if state.idle > 0 {
            self.job_ready.notify_one();
        }
        if state.wants_worker() {
            state.threads += 1;
            let spawned = std::thread::Builder::new()
                .name("weft-blocking".into())
                .spawn(move || self.work());
            if spawned.is_err() {
                // Out of threads: the job stays queued for a worker that exists (if none does,
                // the awaiting task waits until one can be made on a later call).
                state.threads -= 1;
            }
        }
    }

    fn work(&'static self) {
        let mut state = lock(&self.state);
        loop {
            if let Some(job) = state.jobs.pop_front() {
                drop(state);
                job();
                state = lock(&self.state);
                continue;
            }
            state.idle += 1;
            let (next, timeout) = self
                .job_ready
                .wait_timeout(state, IDLE_TIMEOUT)
                .unwrap_or_else(|p| p.into_inner());
            state = next;
            state.idle -= 1;
            if timeout.timed_out() && state.jobs.is_empty() {
                state.threads -= 1;
                return;
            }
        }
    }
}

/// Runs `f` on a worker thread and returns a future for its result: tokio's `spawn_blocking`,
/// asyncio's `to_thread` / `run_in_executor`, gevent's `threadpool.spawn`. The result is
/// `Err` with a [`JoinError`](crate::task::JoinError) if `f` panicked, as for a task: it
/// prints the panic's message, converts with `?`, and gives the payload back with
/// `try_into_panic`.
///
/// `f` sees the caller's values of the context variables made with
/// [`ContextVar::new`](crate::task::ContextVar::new) (asyncio's `to_thread` copies the context
/// too); those made with `new_local` do not cross threads.
///
/// **Cancelling the await does not stop the thread**: dropping the returned future only
/// discards the result; `f` runs to its end regardless, as a Python thread does.
///
/// ```
/// weft::run(async {
///     let total = weft::task::spawn_blocking(|| {
///         (1..=1_000u64).sum::<u64>() // work that would stall the runtime's thread
///     });
///     assert_eq!(total.await.unwrap(), 500_500);
///
///     // A job that panics is an error like a task's: it prints, and `?` converts it.
///     let err = weft::task::spawn_blocking(|| -> u64 { panic!("disk on fire") })
///         .await
///         .unwrap_err();
///     assert_eq!(err.to_string(), "the blocking job panicked: disk on fire");
/// });
/// ```
pub fn spawn_blocking<F, T>(f: F) -> Blocking<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let shared = Arc::new(Mutex::new(Shared {
        result: None,
        waker: None,
    }));
    let worker_side = shared.clone();
    // The caller's context-variable values that may cross threads go along (contextvars).
    let context = super::context_var::current_context().sendable();
    pool().submit(Box::new(move || {
        let result = context.run(|| std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)));
        let waker = {
            let mut shared = lock(&worker_side);
            shared.result = Some(result);
            shared.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }));
    Blocking {
        shared,
        _hold: crate::time::ClockHold::take(),
    }
}

struct Shared<T> {
    result: Option<std::thread::Result<T>>,
    waker: Option<Waker>,
}

/// The future of [`spawn_blocking`]; see there for what dropping it does (and does not) do.
///
/// While it waits, a paused clock does not auto-advance (the job is work the runtime cannot
/// see; see [`hold_auto_advance`](crate::time::hold_auto_advance)).
#[must_use = "the work runs anyway; await this to get its result"]
pub struct Blocking<T> {
    shared: Arc<Mutex<Shared<T>>>,
    /// Released when the future is dropped.
    _hold: Option<crate::time::ClockHold>,
}

impl<T> Future for Blocking<T> {
    type Output = Result<T, crate::task::JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut shared = lock(&self.shared);
        if let Some(result) = shared.result.take() {
            return Poll::Ready(result.map_err(crate::task::JoinError::blocking_job_panicked));
        }
        match &shared.waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => shared.waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(queued: usize, idle: usize, threads: usize) -> PoolState {
        PoolState {
            jobs: (0..queued).map(|_| Box::new(|| ()) as Job).collect(),
            threads,
            idle,
        }
    }

    #[test]
    fn a_burst_beyond_the_idle_workers_starts_more() {
        assert!(state(2, 1, 1).wants_worker());
        assert!(!state(1, 1, 1).wants_worker(), "the idle worker takes it");
        assert!(!state(3, 0, MAX_THREADS).wants_worker(), "the pool is full");
    }
}
