//! `race`: the first of several futures to finish.

use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::task::Poll;

/// Runs `futures` concurrently and returns the index and output of the first to finish; the
/// others are dropped (cancelled) at that moment. On a tie (several ready in the same poll) the
/// earliest in the list wins.
///
/// # Panics
/// If `futures` is empty: there would be nothing to wait for.
///
/// ```
/// use std::time::Duration;
/// use weft::future::race;
/// use weft::time::sleep;
///
/// weft::run(async {
///     let fast_or_slow = [60u64, 5].map(|ms| async move {
///         sleep(Duration::from_millis(ms)).await;
///         ms
///     });
///     assert_eq!(race(fast_or_slow).await, (1, 5));
/// });
/// ```
pub async fn race<F: Future>(futures: impl IntoIterator<Item = F>) -> (usize, F::Output) {
    let mut racers: Vec<Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    assert!(
        !racers.is_empty(),
        "weft::future::race needs at least one future"
    );
    poll_fn(|cx| {
        for (index, fut) in racers.iter_mut().enumerate() {
            if let Poll::Ready(output) = fut.as_mut().poll(cx) {
                return Poll::Ready((index, output));
            }
        }
        Poll::Pending
    })
    .await
}
