//! Shutdown: a dropped runtime drops every task's future on its own thread, as
//! `asyncio.run` cancels the tasks left at the end.

use super::Executor;
use crate::executor::TaskReport;
use crate::executor::tasks::Drained;

impl Executor {
    /// Drops every task's future, on this thread, until none is left (a dropped future may
    /// spawn or wake others). Called when the runtime is dropped.
    pub(crate) fn shutdown(&self) {
        loop {
            let tasks = self.tasks.drain();
            if tasks.is_empty() {
                break;
            }
            if let Some(debug) = self.observer.debug() {
                let mut reports: Vec<TaskReport> =
                    tasks.iter().map(Drained::debug_report).collect();
                reports.sort_by_key(|report| report.id);
                reports
                    .into_iter()
                    .for_each(|report| debug.dropped_pending(report));
            }
            for owned in &tasks {
                owned.task().cancel_now();
            }
        }
        let queued = self.run_queue.take_all();
        if let Some(shuffle) = &self.shuffle {
            shuffle.clear();
        }
        drop(queued);
        drop(self.idle.take());
        self.remote.unregister();
        drop(self.remote.take());
    }
}
