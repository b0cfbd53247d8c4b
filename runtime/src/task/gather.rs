//! `gather`: await spawned tasks, results in order.

use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::task::Poll;

use crate::task::{JoinError, JoinHandle};

/// Waits for every task in `handles` and returns their results in the same order: asyncio's
/// `gather(*tasks, return_exceptions=True)`. Each task's failure (panic or cancellation) is a
/// value in the list, and no task is cancelled because another failed. For fail-fast, use
/// [`gather_or_fail`].
///
/// Cancelling the gather itself (dropping it, or a timeout around it) cancels the tasks not
/// finished yet, as asyncio's `gather` does. (`wait` and `as_completed` cancel nothing, as in
/// asyncio.)
///
/// ```
/// weft::run(async {
///     let tasks: Vec<_> = (1..=3).map(|n| weft::spawn(async move { n * 10 })).collect();
///     let results = weft::task::gather(tasks).await;
///     assert_eq!(results.into_iter().map(Result::unwrap).collect::<Vec<_>>(), [10, 20, 30]);
/// });
/// ```
pub async fn gather<T>(
    handles: impl IntoIterator<Item = JoinHandle<T>>,
) -> Vec<Result<T, JoinError>> {
    let mut children = Children::new(handles);
    // The tasks run on their own; awaiting them one after the other finds most already done,
    // and costs O(n) in all where polling every handle on every wake would cost O(n²).
    let mut results = Vec::with_capacity(children.handles.len());
    for slot in 0..children.handles.len() {
        let handle = children.handles[slot]
            .as_mut()
            .expect("each handle is awaited once");
        results.push(handle.await);
        children.handles[slot] = None;
    }
    results
}

/// Waits for every task in `handles`: all outputs in order, or the first failure as soon as
/// it happens (fail fast): asyncio's `gather` with `return_exceptions=False`. As there, a
/// failure does not cancel the other tasks (they keep running, detached), but cancelling the
/// gather itself cancels the tasks not finished yet.
///
/// ```
/// weft::run(async {
///     let slow = weft::spawn(std::future::pending::<u32>()); // never finishes
///     let bad = weft::spawn(async { panic!("expected in this example") });
///     let err = weft::task::gather_or_fail([slow, bad]).await.unwrap_err();
///     assert!(err.is_panic()); // reported without waiting for `slow`
/// });
/// ```
pub async fn gather_or_fail<T>(
    handles: impl IntoIterator<Item = JoinHandle<T>>,
) -> Result<Vec<T>, JoinError> {
    let mut children = Children::new(handles);
    let mut outputs: Vec<Option<T>> = children.handles.iter().map(|_| None).collect();
    poll_fn(|cx| {
        let mut running = false;
        for (slot, output) in children.handles.iter_mut().zip(&mut outputs) {
            let Some(handle) = slot else { continue };
            match Pin::new(handle).poll(cx) {
                Poll::Pending => running = true,
                Poll::Ready(Ok(value)) => {
                    *output = Some(value);
                    *slot = None;
                }
                Poll::Ready(Err(error)) => {
                    *slot = None;
                    children.detach_all();
                    return Poll::Ready(Err(error));
                }
            }
        }
        if running {
            Poll::Pending
        } else {
            Poll::Ready(Ok(()))
        }
    })
    .await?;
    Ok(outputs.into_iter().flatten().collect())
}

/// The handles a gather still waits on. Dropped with the gather, it aborts their tasks: a
/// cancelled gather cancels its children.
struct Children<T> {
    handles: Vec<Option<JoinHandle<T>>>,
}

impl<T> Children<T> {
    fn new(handles: impl IntoIterator<Item = JoinHandle<T>>) -> Children<T> {
        Children {
            handles: handles.into_iter().map(Some).collect(),
        }
    }

    /// Lets every remaining task run on, detached (a fail-fast gather that failed).
    fn detach_all(&mut self) {
        self.handles.clear();
    }
}

impl<T> Drop for Children<T> {
    fn drop(&mut self) {
        for handle in self.handles.iter().flatten() {
            handle.abort();
        }
    }
}
