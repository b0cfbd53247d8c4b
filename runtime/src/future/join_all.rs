//! `join_all`: every future of a list, concurrently, outputs in order.

use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::task::Poll;

/// Runs every future in `futures` concurrently (in this task: they take turns at their await
/// points) and returns their outputs in the list's order once all have finished: asyncio's
/// `gather` over coroutines. Nothing is spawned; dropping the returned future drops them all.
///
/// ```
/// use std::time::Duration;
/// use weft::future::join_all;
///
/// weft::run(async {
///     let waits = [30u64, 10, 20].map(|ms| async move {
///         weft::time::sleep(Duration::from_millis(ms)).await;
///         ms
///     });
///     // All three wait at once (about 30 ms in all, not 60); the outputs come in list order,
///     // not in finishing order.
///     assert_eq!(join_all(waits).await, [30, 10, 20]);
/// });
/// ```
pub async fn join_all<F: Future>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output> {
    let mut pending: Vec<Option<Pin<Box<F>>>> =
        futures.into_iter().map(|f| Some(Box::pin(f))).collect();
    let mut outputs: Vec<Option<F::Output>> = pending.iter().map(|_| None).collect();
    let mut left = pending.len();
    poll_fn(|cx| {
        for (slot, output) in pending.iter_mut().zip(outputs.iter_mut()) {
            if let Some(fut) = slot {
                if let Poll::Ready(value) = fut.as_mut().poll(cx) {
                    *output = Some(value);
                    *slot = None; // dropped as soon as it is done
                    left -= 1;
                }
            }
        }
        if left == 0 {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await;
    outputs
        .into_iter()
        .map(|o| o.expect("every future finished"))
        .collect()
}
