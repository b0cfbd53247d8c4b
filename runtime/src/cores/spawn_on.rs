//! Running a future on another core, and awaiting its output from anywhere.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use async_channel::{Receiver, Sender};
use futures_core::Stream;

use super::error::CoreTaskError;
use crate::task::{JoinError, TaskId, spawn};

/// A closure a core's inbox task runs there.
pub(super) type Job = Box<dyn FnOnce() + Send>;

/// What the target core reports back: the task's id once it is spawned, then its result.
enum Report<T> {
    Started(TaskId),
    Finished(Result<T, JoinError>),
}

pub(super) fn spawn_on<F, Fut>(
    inbox: Option<&Sender<Job>>,
    core: usize,
    make: F,
) -> CoreJoinHandle<Fut::Output>
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future + 'static,
    Fut::Output: Send + 'static,
{
    // Two reports at most, so sends never wait.
    let (report, reports) = async_channel::bounded(2);
    let job: Job = Box::new(move || {
        // `make` is called in the task's first poll, so a panic in it is the task's panic.
        let task = spawn(async move { make().await });
        let _ = report.try_send(Report::Started(task.id()));
        spawn(async move {
            let _ = report.try_send(Report::Finished(task.await));
        });
    });
    if let Some(inbox) = inbox {
        // Fails only once the core has stopped: the job (and its sender) is dropped, and
        // the handle reports that the task never ran.
        let _ = inbox.try_send(job);
    }
    CoreJoinHandle {
        core,
        reports: Box::pin(reports),
        started: None,
    }
}

/// Awaits the output of a task sent to a core with
/// [`CoreHandle::spawn_on`](super::CoreHandle::spawn_on). It is `Send`: any core may await it.
#[must_use = "dropping a CoreJoinHandle detaches its task; await it for the output"]
pub struct CoreJoinHandle<T> {
    core: usize,
    reports: Pin<Box<Receiver<Report<T>>>>,
    started: Option<TaskId>,
}

impl<T> CoreJoinHandle<T> {
    /// The core the task runs on.
    pub fn core(&self) -> usize {
        self.core
    }
}

impl<T> Future for CoreJoinHandle<T> {
    type Output = Result<T, CoreTaskError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        loop {
            match self.reports.as_mut().poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Report::Started(id))) => self.started = Some(id),
                Poll::Ready(Some(Report::Finished(result))) => {
                    return Poll::Ready(result.map_err(CoreTaskError::Join));
                }
                // Both senders gone without a result: the target core stopped.
                Poll::Ready(None) => {
                    return Poll::Ready(Err(match self.started {
                        Some(id) => CoreTaskError::Join(JoinError::cancelled(id)),
                        None => CoreTaskError::NotRun { core: self.core },
                    }));
                }
            }
        }
    }
}

impl<T> std::fmt::Debug for CoreJoinHandle<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CoreJoinHandle")
            .field("core", &self.core)
            .field("started", &self.started)
            .finish()
    }
}

/// Each core's inbox task: runs the jobs other cores send, until the run ends.
pub(super) async fn serve_inbox(inbox: Receiver<Job>) {
    while let Ok(job) = inbox.recv().await {
        job();
    }
}

/// After a core's runtime is gone: refuse new jobs, and drop the queued ones, so that their
/// handles learn at once that their task will never run.
pub(super) fn close_inbox(inbox: &Receiver<Job>) {
    inbox.close();
    while inbox.try_recv().is_ok() {}
}
