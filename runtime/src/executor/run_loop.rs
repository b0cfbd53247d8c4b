//! The event loop of [`Runtime::block_on`](super::Runtime::block_on): one turn, step by step.
//!
//! 1. Poll the main future if it was woken and its turn has come (woken on this thread, it
//!    runs after the tasks woken before it).
//! 2. Poll ready tasks from the FIFO run queue: at most `event_interval` (61 by default),
//!    stopping at the main future's turn.
//! 3. Move the wakes that came from other threads onto the run queue.
//! 4. While work is ready, go back to 1 (tasks handing work to each other pay no system
//!    call) until both: `event_interval` polls have run since the last look at the outside
//!    world, and every task queued at that look has had its turn (the round of step 8).
//! 5. Plan the wait for I/O: none if work is ready; a look, then a wake of the idle waiters,
//!    if tasks wait for all others to block; until the next timer as the clock plans it; else
//!    until something happens, once the deadlock proof has shown that something can. A
//!    real-time limit caps the wait.
//! 6. Wait for I/O, and note the time for `weft-ps`. Each event wakes its source's reader
//!    and/or writer; a woken task that is next anyway (nothing queued, the main future not
//!    woken) is polled there and then, while its event has its memory in the cache. Answer
//!    `weft-ps` if it asked (`attach/`).
//! 7. Tell the clock whether the wait was quiet (a paused clock may jump then), and fire the
//!    due timers in deadline order.
//! 8. Start a round: the tasks queued now each get their turn before the next look.
//! 9. Stop at the real-time limit, if one was set.
//!
//! So I/O and timers are looked at once a round, and no more often than every
//! `event_interval` polls, even when tasks keep waking each other; an idle runtime sleeps in
//! `epoll_wait` and uses no CPU. Why rounds rather than a look every `event_interval` polls:
//! under load the queue then never empties, a task runs a whole queue after its event, and
//! step 6 never finds a task that is next (docs/profiles.md). A task woken by a look ran
//! behind those queued before it anyway; now also behind those woken while the round ran,
//! so each other task has at most two turns before it.

use std::future::Future;
use std::panic::Location;
use std::pin::pin;
use std::rc::Rc;
use std::task::Poll;
use std::time::Instant;

use super::context;
use super::deadlock::{self, DeadlockError};
use super::main_task::MainTask;
use super::state::Executor;
use crate::reactor::Wait;
use crate::time::clock::WaitPlan;

/// Why the loop stopped before its future completed. (The report is boxed: a large
/// `Result` returned from step 5 every turn was a memcpy, 4% of an echo round trip in
/// callgrind.)
pub(crate) enum Stopped {
    Deadlock(Box<DeadlockError>),
    OverTime,
}

/// What the loop does after its wait, beyond the clock and the timers.
enum After {
    Nothing,
    /// Wake the tasks that wait for all others to block, if nothing became ready.
    WakeIdleWaiters,
}

/// Runs `future` to completion on `executor`, driving its tasks (see the steps above).
pub(crate) fn run<F: Future>(
    executor: &Rc<Executor>,
    future: F,
    limit: Option<Instant>,
    called_at: &'static Location<'static>,
) -> Result<F::Output, Stopped> {
    let _running = Running::enter(executor);
    executor.attach().beacon().set_main_site(called_at);
    let main = MainTask::start(executor, called_at);
    let mut future = pin!(future);
    let interval = executor.event_interval();
    let mut polls_since_io = 0;
    loop {
        if main.is_due() {
            if let Poll::Ready(output) = main.poll(future.as_mut()) {
                return Ok(output);
            }
            polls_since_io += 1;
        }
        polls_since_io += executor.run_ready(interval);
        executor.drain_remote();
        let ready = || executor.has_ready_tasks() || main.is_woken();
        if ready() && (polls_since_io < interval || !executor.run_queue().round_done()) {
            continue;
        }
        polls_since_io = 0;
        let (plan, after) = plan_wait(executor, &main, ready())?;
        let wait = plan.wait.at_most(limit);
        // A woken task may be polled as its event is dispatched if it is next anyway; not
        // when the idle waiters are to learn whether the look found anything.
        let may_run = !main.is_woken() && matches!(after, After::Nothing);
        let events = executor.wait_for_io(wait, may_run);
        if executor.attach().asked() {
            crate::attach::answer(executor);
        }
        let quiet = || events == 0 && !ready() && !executor.remote().is_notified();
        executor.clock().after_wait(&plan, quiet);
        executor.fire_timers();
        if let After::WakeIdleWaiters = after {
            executor.drain_remote();
            if !ready() {
                executor.idle().wake_all();
            }
        }
        executor.run_queue().start_round();
        if limit.is_some_and(|limit| Instant::now() >= limit) {
            return Err(Stopped::OverTime);
        }
    }
}

/// Step 5: how to wait, and what to do after; the deadlock report if nothing can ever
/// happen.
#[inline(always)]
fn plan_wait(
    executor: &Executor,
    main: &MainTask<'_>,
    ready: bool,
) -> Result<(WaitPlan, After), Stopped> {
    if ready {
        return Ok((WaitPlan::just(Wait::No), After::Nothing));
    }
    if !executor.idle().is_empty() {
        return Ok((WaitPlan::just(Wait::No), After::WakeIdleWaiters));
    }
    let only_timers = || deadlock::only_timers_can_wake(executor, main.waker(), main.wakers_held());
    if let Some(deadline) = executor.timers().next_deadline() {
        return Ok((
            executor.clock().plan_wait(deadline, only_timers),
            After::Nothing,
        ));
    }
    match deadlock::check(executor, main.waker(), main.wakers_held()) {
        Some(report) => Err(Stopped::Deadlock(Box::new(report))),
        None => Ok((WaitPlan::just(Wait::Forever), After::Nothing)),
    }
}

/// What holds while the loop runs, undone when it returns or unwinds: the runtime is this
/// thread's current one, and its waker census the current census; its reactor and timers are marked as polled (so a socket or timer
/// awaited in another runtime fails instead of waiting forever); holder tracking is on
/// when something observes it; the budget is unlimited again afterwards.
struct Running<'a> {
    executor: &'a Executor,
    _enter: context::EnterGuard,
    _census: crate::waiters::census::CensusGuard,
    tracked_holders: bool,
}

impl<'a> Running<'a> {
    fn enter(executor: &'a Rc<Executor>) -> Running<'a> {
        let enter = context::enter(executor.clone());
        let census = crate::waiters::census::enter(executor.held_wakers().clone());
        executor.reactor().set_running(true);
        executor.timers().set_running(true);
        executor.attach().beacon().set_running(true);
        let tracked_holders = crate::waiters::set_tracking(executor.observer().wants_holders());
        Running {
            executor,
            _enter: enter,
            _census: census,
            tracked_holders,
        }
    }
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.executor.reactor().set_running(false);
        self.executor.timers().set_running(false);
        self.executor.attach().beacon().set_running(false);
        crate::waiters::set_tracking(self.tracked_holders);
        crate::task::budget::reset(u32::MAX);
    }
}
