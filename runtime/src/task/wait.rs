//! `wait` and `as_completed`: concurrent.futures' ways to watch many tasks.

use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use super::{JoinError, JoinHandle};
use crate::generator::AsyncGen;

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
/// which tasks finished and which did not: concurrent.futures' `wait` (and asyncio's). It never
/// fails on timeout and cancels nothing.
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
    let mut pending: Vec<Option<JoinHandle<T>>> = handles.into_iter().map(Some).collect();
    let mut done = Vec::new();
    let watch = poll_fn(|cx| {
        for (index, slot) in pending.iter_mut().enumerate() {
            let Some(handle) = slot else { continue };
            if let Poll::Ready(result) = Pin::new(handle).poll(cx) {
                done.push((index, result));
                *slot = None;
            }
        }
        let all = pending.iter().all(Option::is_none);
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
            let _ = crate::time::timeout(limit, watch).await;
        }
        None => watch.await,
    }
    let pending = pending
        .into_iter()
        .enumerate()
        .filter_map(|(i, h)| h.map(|h| (i, h)))
        .collect();
    Waited { done, pending }
}

/// A stream of the tasks' results in the order they finish, each with its index in the list:
/// concurrent.futures' and asyncio's `as_completed`.
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
) -> AsyncGen<(usize, Result<T, JoinError>)> {
    let mut pending: Vec<Option<JoinHandle<T>>> = handles.into_iter().map(Some).collect();
    AsyncGen::new(move |co| async move {
        while pending.iter().any(Option::is_some) {
            let next = poll_fn(|cx| {
                for (index, slot) in pending.iter_mut().enumerate() {
                    let Some(handle) = slot else { continue };
                    if let Poll::Ready(result) = Pin::new(handle).poll(cx) {
                        *slot = None;
                        return Poll::Ready((index, result));
                    }
                }
                Poll::Pending
            })
            .await;
            co.yield_(next).await?;
        }
        Ok(())
    })
}
