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

/// Like [`join_all`] for futures returning `Result<T, E>`: all `Ok` outputs in order, or the
/// first error as soon as it happens — the other futures are dropped (cancelled) then.
///
/// ```
/// use weft::future::try_join_all;
///
/// weft::run(async {
///     let parsed = try_join_all(["1", "2", "x"].map(|s| async move { s.parse::<u8>() })).await;
///     assert!(parsed.is_err());
///     let parsed = try_join_all(["1", "2"].map(|s| async move { s.parse::<u8>() })).await;
///     assert_eq!(parsed, Ok(vec![1, 2]));
/// });
/// ```
pub async fn try_join_all<T, E, F>(futures: impl IntoIterator<Item = F>) -> Result<Vec<T>, E>
where
    F: Future<Output = Result<T, E>>,
{
    let mut pending: Vec<Option<Pin<Box<F>>>> =
        futures.into_iter().map(|f| Some(Box::pin(f))).collect();
    let mut outputs: Vec<Option<T>> = pending.iter().map(|_| None).collect();
    poll_fn(|cx| {
        let mut done = true;
        for (slot, output) in pending.iter_mut().zip(outputs.iter_mut()) {
            let Some(fut) = slot else { continue };
            match fut.as_mut().poll(cx) {
                Poll::Ready(Ok(value)) => {
                    *output = Some(value);
                    *slot = None;
                }
                Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
                Poll::Pending => done = false,
            }
        }
        if done {
            Poll::Ready(Ok(()))
        } else {
            Poll::Pending
        }
    })
    .await?;
    Ok(outputs
        .into_iter()
        .map(|o| o.expect("every future finished"))
        .collect())
}
