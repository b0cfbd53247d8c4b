//! How the executor polls a batch of ready tasks: the plain loop, and the same loop with
//! the observer and debug mode's lints around each poll. Each is its own copy of the loop,
//! chosen once per batch, so the plain one pays nothing for the other.

use super::Executor;
use crate::task::budget;
use crate::task::raw::{RunOutcome, TaskRef};

impl Executor {
    /// Polls up to `max` queued tasks, stopping early at the main future's turn; returns how
    /// many it polled.
    pub(crate) fn run_ready(&self, max: u32) -> u32 {
        // Looked at once per batch, not once per poll: each arm is its own copy of the loop.
        if !self.extras.get() {
            self.run_ready_with(max, None, Some, TaskRef::run)
        } else {
            let shuffle = self.shuffle.as_deref();
            let park = |task| self.paused.park(task, &self.contexts);
            self.run_ready_with(max, shuffle, park, |task| self.run_observed(task))
        }
    }

    /// `park` sets aside a task a pause holds (and gives back the others).
    #[inline(always)]
    fn run_ready_with(
        &self,
        max: u32,
        shuffle: Option<&super::Shuffle>,
        park: impl Fn(TaskRef) -> Option<TaskRef>,
        run: impl Fn(&TaskRef) -> RunOutcome,
    ) -> u32 {
        let start = self.run_queue.start_batch(max);
        while let Some(task) = self.run_queue.next_in_batch(shuffle) {
            if let Some(task) = park(task) {
                self.run_task(task, &run);
            }
        }
        self.run_queue.taken_since(start)
    }

    /// A task an I/O event woke while the reactor dispatches its events. If it is next
    /// anyway (`may_run`: the main future was not woken before the wait, and nothing has
    /// been queued or woken since) and nothing observes the runtime (a poll of this dispatch
    /// may have turned an observer on), it is polled now rather than queued: its event has
    /// just brought its reactor slot and header into the cache, and under load a queued
    /// task runs a whole queue later, when they are cold again (callgrind, echo at 1,000
    /// connections: see docs/profiles.md). The order is the queue's: first woken, first
    /// polled.
    #[inline(always)]
    pub(crate) fn run_woken(&self, task: TaskRef, may_run: bool) {
        if may_run && self.run_queue.is_idle() && !self.extras.get() {
            self.run_task(task, TaskRef::run);
        } else {
            self.push(task);
        }
    }

    #[inline(always)]
    fn run_task(&self, task: TaskRef, run: impl Fn(&TaskRef) -> RunOutcome) {
        budget::reset(self.budget);
        let beacon = self.attach.beacon();
        beacon.poll_starts(task.id().as_u64(), task.owner_key() as u64);
        match run(&task) {
            RunOutcome::Idle => {}
            // Still the current task: a recorder sees the task wake itself.
            RunOutcome::Requeue => self.push(task),
            RunOutcome::Complete => {
                if self.extras.get() {
                    self.observer.exited(task.id());
                }
                self.contexts.forget(task.id());
                self.tasks.completed(&task);
            }
        }
        beacon.poll_ended();
    }

    /// Runs `task` with the observer told of the poll, and debug mode's lints after it.
    #[inline(never)]
    fn run_observed(&self, task: &TaskRef) -> RunOutcome {
        if !self.observer.is_on() {
            return task.run(); // only a seed: nothing watches
        }
        let id = task.id();
        let report = || self.tasks.debug_report(task);
        let start = self.observer.poll_started(id);
        let outcome = task.run();
        self.observer.poll_ended(id, start, report);
        if self.observer.debug().is_some() {
            self.lint(task, &outcome);
        }
        outcome
    }

    /// Debug mode's lints of a poll's outcome: a task no waker can reach, a task that mostly
    /// wakes itself.
    #[cold]
    #[inline(never)]
    fn lint(&self, task: &TaskRef, outcome: &RunOutcome) {
        let report = || self.tasks.debug_report(task);
        match outcome {
            // Only `task` (the run queue's reference, held by the caller) beyond the owned
            // list and the JoinHandle, and not queued: no waker exists.
            RunOutcome::Idle
                if task.waker_census(|_| false).other_refs <= 1
                    && !task.snapshot().is_scheduled() =>
            {
                if let (Some(debug), Some(report)) = (self.observer.debug(), report()) {
                    debug.lost_waker(report);
                }
            }
            RunOutcome::Requeue => self.observer.self_woke(task.id(), report),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::io::Write;
    use std::rc::Rc;

    use crate::Runtime;
    use crate::io::Async;

    /// An event that wakes a task when nothing else is ready polls it in the dispatch: it
    /// runs, and the run queue never held it.
    #[test]
    fn a_task_woken_when_nothing_else_is_ready_is_polled_where_its_event_is_dispatched() {
        let rt = Runtime::new().unwrap();
        let executor = rt.executor().clone();
        let (ours, mut theirs) = mio::net::UnixStream::pair().unwrap();
        let woken_polls = Rc::new(Cell::new(0));
        rt.block_on(async {
            let task = crate::task::spawn({
                let woken_polls = woken_polls.clone();
                async move {
                    let ours = Async::new(ours).unwrap();
                    ours.readable().await.unwrap();
                    woken_polls.set(woken_polls.get() + 1);
                }
            });
            // The task has run once (through the queue) and waits for its socket.
            crate::task::wait_all_tasks_blocked().await;
            let taken = executor.run_queue().taken();
            theirs.write_all(b"x").unwrap();
            task.await.unwrap();
            assert_eq!(woken_polls.get(), 1);
            assert_eq!(
                executor.run_queue().taken(),
                taken,
                "the woken task went through the run queue"
            );
        });
    }
}
