//! The main future of `block_on`, as a task: it has an id, a waker and a place in the run
//! queue's order, and every API that lists, orders, dumps, traces or instruments tasks sees
//! it as the task named "main" (asyncio's main task). It is not a task cell: it lives on
//! `block_on`'s stack and is polled by the loop itself, so it needs no `'static` and no
//! allocation.

use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Wake, Waker};

use super::context::with_core;
use super::remote::Remote;
use super::state::Executor;
use crate::task::TaskId;

/// The main future's identity and waker for one `block_on`; dropping it forgets both.
pub(crate) struct MainTask<'a> {
    executor: &'a Executor,
    id: TaskId,
    wake: Arc<MainWake>,
    waker: Waker,
}

impl<'a> MainTask<'a> {
    /// Makes the main future a task of `executor`: an id, the caller's context variables
    /// (as `asyncio.run` copies them), a waker, and the observer told of its spawn.
    pub(crate) fn start(executor: &'a Executor, at: &'static Location<'static>) -> MainTask<'a> {
        let id = executor.next_id();
        executor.contexts().inherit(None, id);
        executor.set_main_task(Some((id, at)));
        let wake = Arc::new(MainWake {
            woken: AtomicBool::new(true),
            woken_elsewhere: AtomicBool::new(false),
            remote: executor.remote().clone(),
            runtime_id: executor.id(),
            id,
        });
        let waker = Waker::from(wake.clone());
        executor.set_main_waker(Some(&waker));
        if executor.observed() {
            executor
                .observer()
                .spawned(id, Some("main"), Some(at), None);
        }
        MainTask {
            executor,
            id,
            wake,
            waker,
        }
    }

    /// Whether it was woken and its turn in the run queue's order has come; if so, its
    /// wake is taken.
    #[inline]
    pub(crate) fn is_due(&self) -> bool {
        let due = self.is_woken() && self.executor.run_queue().take_main_turn();
        if due {
            self.wake.woken.store(false, Ordering::Release);
        }
        due
    }

    /// Whether it was woken and not polled since.
    #[inline]
    pub(crate) fn is_woken(&self) -> bool {
        self.wake.woken.load(Ordering::Acquire)
    }

    /// Polls `future` as this task: the budget reset, `task::id()` set, the observer told.
    #[inline]
    pub(crate) fn poll<F: Future>(&self, future: Pin<&mut F>) -> Poll<F::Output> {
        let executor = self.executor;
        executor.reset_budget();
        let outer = executor.set_current(Some(self.id));
        let mut cx = Context::from_waker(&self.waker);
        let polled = if executor.observed() {
            self.poll_observed(future, &mut cx)
        } else {
            future.poll(&mut cx)
        };
        executor.set_current(outer);
        polled
    }

    #[inline(never)]
    fn poll_observed<F: Future>(
        &self,
        future: Pin<&mut F>,
        cx: &mut Context<'_>,
    ) -> Poll<F::Output> {
        let observer = self.executor.observer();
        if self.wake.woken_elsewhere.swap(false, Ordering::AcqRel) {
            observer.scheduled_from_elsewhere(self.id);
        }
        let start = observer.poll_started(self.id);
        let polled = future.poll(cx);
        observer.poll_ended(self.id, start, || None);
        if polled.is_ready() {
            observer.exited(self.id);
        }
        polled
    }

    pub(crate) fn waker(&self) -> &Waker {
        &self.waker
    }

    /// How many references to its waker exist beyond this object's two: wakers held
    /// somewhere, which the deadlock proof counts.
    pub(crate) fn wakers_held(&self) -> usize {
        Arc::strong_count(&self.wake).saturating_sub(2)
    }
}

impl Drop for MainTask<'_> {
    fn drop(&mut self) {
        self.executor.contexts().forget(self.id);
        self.executor.set_main_waker(None);
        self.executor.set_main_task(None);
    }
}

/// The main future's waker: a flag, plus an eventfd write when woken from another thread.
struct MainWake {
    woken: AtomicBool,
    /// Set with `woken` by a wake from another thread, for the observer.
    woken_elsewhere: AtomicBool,
    remote: Arc<Remote>,
    runtime_id: u32,
    id: TaskId,
}

impl Wake for MainWake {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let on_our_thread = with_core(|executor| match executor {
            Some(executor) if executor.id() == self.runtime_id => {
                // A stale waker of an earlier `block_on`'s main wakes nothing now.
                if !self.woken.swap(true, Ordering::AcqRel) && executor.is_main(self.id) {
                    executor.run_queue().queue_main();
                    if executor.observed() {
                        executor.observer().scheduled(self.id, executor.current());
                    }
                }
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
