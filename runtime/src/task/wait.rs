//! `wait` and `as_completed`: concurrent.futures' ways to watch many tasks.

use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use super::{JoinError, JoinHandle};
use crate::executor::state::Executor as Core;
use crate::executor::with_core;
use crate::generator::AsyncGen;
use crate::time::{Sleep, TimeoutError};

/// When [`wait`] returns (concurrent.futures' `return_when`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReturnWhen {
    /// As soon as any task finishes.
    FirstCompleted,
    /// As soon as any task fails (panics or is cancelled), or when all have finished.
    FirstException,
    /// When every task has finished.
    AllCompleted,
}

/// What [`wait`] saw: the finished tasks' results and the tasks still running, each with its
/// index in the list given to `wait`.
#[derive(Debug)]
pub struct Waited<T> {
    /// Finished tasks, in the order they finished.
    pub done: Vec<(usize, Result<T, JoinError>)>,
    /// Tasks still running (not cancelled: await or abort them as you like).
    pub pending: Vec<(usize, JoinHandle<T>)>,
}

/// Waits until `return_when` holds or `timeout` passes, whichever comes first, and returns
/// which tasks finished (in the order they finished, also within one turn of the loop) and
/// which did not: concurrent.futures' `wait` (and asyncio's). It never fails on timeout and
/// cancels nothing, as in asyncio: dropping it leaves every task running.
///
/// ```
/// use std::time::Duration;
/// use weft::task::{ReturnWhen, wait};
///
/// weft::run(async {
///     let tasks = [1u64, 3600].map(|s| {
///         weft::spawn(async move { weft::time::sleep(Duration::from_millis(s)).await; s })
///     });
///     let waited = wait(tasks, Some(Duration::from_millis(50)), ReturnWhen::AllCompleted).await;
///     assert_eq!(waited.done.len(), 1); // the hour-long one is still running
///     assert_eq!(waited.pending.len(), 1);
///     waited.pending[0].1.abort();
/// });
/// ```
pub async fn wait<T>(
    handles: impl IntoIterator<Item = JoinHandle<T>>,
    timeout: Option<Duration>,
    return_when: ReturnWhen,
) -> Waited<T> {
    let mut watch = Watch::new(handles);
    let mut done = Vec::new();
    let watching = poll_fn(|cx| {
        done.extend(watch.poll_finished(cx));
        let all = watch.is_empty();
        let finished = match return_when {
            ReturnWhen::FirstCompleted => !done.is_empty() || all,
            ReturnWhen::FirstException => all || done.iter().any(|(_, r)| r.is_err()),
            ReturnWhen::AllCompleted => all,
        };
        if finished {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    });
    match timeout {
        Some(limit) => {
            let _ = crate::time::timeout(limit, watching).await;
        }
        None => watching.await,
    }
    Waited {
        done,
        pending: watch.into_pending(),
    }
}

/// What [`as_completed`] yields: a task's index in the list, and its result.
pub type Completed<T> = (usize, Result<T, JoinError>);

/// A stream of the tasks' results in the order they finish, each with its index in the list:
/// concurrent.futures' and asyncio's `as_completed`. Tasks that finish in the same turn of the
/// loop come out in the order they finished, not in list order. Dropping the stream cancels
/// nothing (as in asyncio): the tasks not yet reported keep running, detached.
///
/// ```
/// use std::time::Duration;
/// weft::run(async {
///     let tasks = [30u64, 10, 20].map(|ms| {
///         weft::spawn(async move { weft::time::sleep(Duration::from_millis(ms)).await; ms })
///     });
///     let mut finished = weft::task::as_completed(tasks);
///     let mut order = Vec::new();
///     while let Some((_, result)) = finished.next().await {
///         order.push(result.unwrap());
///     }
///     assert_eq!(order, [10, 20, 30]);
/// });
/// ```
pub fn as_completed<T: 'static>(
    handles: impl IntoIterator<Item = JoinHandle<T>>,
) -> AsyncGen<Completed<T>> {
    let mut watch = Watch::new(handles);
    AsyncGen::new(move |co| async move {
        while !watch.is_empty() {
            for next in watch.next_finished(None).await.unwrap_or_default() {
                co.yield_(next).await?;
            }
        }
        Ok(())
    })
}

/// Like [`as_completed`], giving up at `timeout`: asyncio's `as_completed(aws, timeout=...)`.
/// Once the time is up, the stream yields one `Err(TimeoutError)` and ends; the tasks not
/// reported by then keep running (nothing is cancelled, as in asyncio).
///
/// ```
/// use std::time::Duration;
/// use weft::time::TimeoutError;
///
/// weft::run(async {
///     let quick = weft::spawn(async { "quick" });
///     let stuck = weft::spawn(std::future::pending::<&str>());
///     let mut finished = weft::task::as_completed_timeout([quick, stuck], Duration::from_millis(5));
///     assert_eq!(finished.next().await.unwrap().unwrap().1.unwrap(), "quick");
///     assert_eq!(finished.next().await.unwrap().unwrap_err(), TimeoutError::new());
///     assert!(finished.next().await.is_none());
/// });
/// ```
pub fn as_completed_timeout<T: 'static>(
    handles: impl IntoIterator<Item = JoinHandle<T>>,
    timeout: Duration,
) -> AsyncGen<Result<Completed<T>, TimeoutError>> {
    let mut watch = Watch::new(handles);
    let mut timer = crate::time::sleep(timeout);
    AsyncGen::new(move |co| async move {
        while !watch.is_empty() {
            let Some(finished) = watch.next_finished(Some(&mut timer)).await else {
                co.yield_(Err(TimeoutError::new())).await?;
                return Ok(());
            };
            for next in finished {
                co.yield_(Ok(next)).await?;
            }
        }
        Ok(())
    })
}

/// Waits for the task behind `handle` for at most `timeout`, and **aborts it** if the time
/// runs out: asyncio's `wait_for(task, timeout)`. (Plain [`timeout`](crate::time::timeout)
/// around a handle only stops waiting and leaves the task running.) Cancelling the
/// `wait_for` itself aborts the task too, as in asyncio.
///
/// ```
/// use std::time::Duration;
///
/// weft::run(async {
///     let slow = weft::spawn(weft::time::sleep(Duration::from_secs(3600)));
///     let id = slow.id();
///     let result = weft::task::wait_for(slow, Duration::from_millis(1)).await;
///     assert!(result.is_err()); // timed out...
///     weft::task::yield_now().await;
///     assert!(weft::task::all_tasks().iter().all(|t| t.id != id)); // ...and cancelled
/// });
/// ```
pub fn wait_for<T>(handle: JoinHandle<T>, timeout: Duration) -> WaitFor<T> {
    WaitFor {
        handle: Some(handle),
        timer: crate::time::sleep(timeout),
    }
}

/// The future of [`wait_for`]. It owns the task's handle from the moment it is made, so
/// dropping it, even unpolled, aborts the task unless it finished.
#[must_use = "futures do nothing unless awaited; dropping this one aborts the task"]
pub struct WaitFor<T> {
    handle: Option<JoinHandle<T>>,
    timer: Sleep,
}

impl<T> Future for WaitFor<T> {
    type Output = Result<Result<T, JoinError>, TimeoutError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let handle = self
            .handle
            .as_mut()
            .expect("WaitFor polled after it completed");
        if let Poll::Ready(result) = Pin::new(handle).poll(cx) {
            self.handle = None; // finished: nothing to abort
            return Poll::Ready(Ok(result));
        }
        // Out of time: `drop` aborts the task.
        Pin::new(&mut self.timer)
            .poll(cx)
            .map(|()| Err(TimeoutError::new()))
    }
}

impl<T> Drop for WaitFor<T> {
    fn drop(&mut self) {
        if let Some(handle) = &self.handle {
            handle.abort();
        }
    }
}

impl<T> std::fmt::Debug for WaitFor<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WaitFor").finish_non_exhaustive()
    }
}

/// Tasks being watched for completion, reported in the order they completed (the runtime
/// stamps each watched task when it completes: see `Core::watch_completion`).
struct Watch<T> {
    handles: Vec<Option<JoinHandle<T>>>,
    /// The runtime that stamps completions, if the handles were made inside one.
    core: Option<Rc<Core>>,
}

impl<T> Watch<T> {
    fn new(handles: impl IntoIterator<Item = JoinHandle<T>>) -> Watch<T> {
        let handles: Vec<_> = handles.into_iter().map(Some).collect();
        let core = with_core(|core| core.cloned());
        if let Some(core) = &core {
            for handle in handles.iter().flatten() {
                core.tasks().watch_completion(handle.id());
            }
        }
        Watch { handles, core }
    }

    fn is_empty(&self) -> bool {
        self.handles.iter().all(Option::is_none)
    }

    /// The tasks found finished by this poll, each with its index, in the order they
    /// completed. Every one still running will wake the current task when it does.
    fn poll_finished(&mut self, cx: &mut Context<'_>) -> Vec<Completed<T>> {
        let mut finished = Vec::new();
        for (index, slot) in self.handles.iter_mut().enumerate() {
            let Some(handle) = slot else { continue };
            if let Poll::Ready(result) = Pin::new(&mut *handle).poll(cx) {
                let id = handle.id();
                let stamp = self
                    .core
                    .as_ref()
                    .map_or(0, |core| core.tasks().completion_stamp(id));
                if let Some(core) = &self.core {
                    core.tasks().unwatch_completion(id);
                }
                finished.push((stamp, index, result));
                *slot = None;
            }
        }
        finished.sort_by_key(|&(stamp, index, _)| (stamp, index));
        finished
            .into_iter()
            .map(|(_, index, result)| (index, result))
            .collect()
    }

    /// The next tasks to finish, in the order they did; `None` if `timer` fires first.
    async fn next_finished(&mut self, mut timer: Option<&mut Sleep>) -> Option<Vec<Completed<T>>> {
        poll_fn(|cx| match self.poll_finished(cx) {
            finished if !finished.is_empty() => Poll::Ready(Some(finished)),
            _ => match timer.as_deref_mut() {
                Some(timer) => Pin::new(timer).poll(cx).map(|()| None),
                None => Poll::Pending,
            },
        })
        .await
    }

    /// The handles of the tasks not reported yet, with their indexes.
    fn into_pending(mut self) -> Vec<(usize, JoinHandle<T>)> {
        std::mem::take(&mut self.handles)
            .into_iter()
            .enumerate()
            .filter_map(|(i, h)| h.map(|h| (i, h)))
            .collect()
    }
}

impl<T> Drop for Watch<T> {
    fn drop(&mut self) {
        if let Some(core) = &self.core {
            for handle in self.handles.iter().flatten() {
                core.tasks().unwatch_completion(handle.id());
            }
        }
    }
}
