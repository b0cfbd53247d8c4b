//! `gather`: await spawned tasks, results in order.

use crate::future::try_join_all;
use crate::task::{JoinError, JoinHandle};

/// Waits for every task in `handles` and returns their results in the same order: asyncio's
/// `gather(*tasks, return_exceptions=True)` — each task's failure (panic or cancellation) is a
/// value in the list, and no task is cancelled because another failed. For fail-fast, use
/// [`gather_or_fail`].
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
    // The tasks run on their own; awaiting them one after the other finds most already done,
    // and costs O(n) in all where polling every handle on every wake would cost O(n²).
    let mut results = Vec::new();
    for handle in handles {
        results.push(handle.await);
    }
    results
}

/// Waits for every task in `handles`: all outputs in order, or the first failure as soon as
/// it happens (fail fast). Like asyncio's `gather`, the other tasks are not cancelled: they
/// keep running, detached.
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
    try_join_all(handles).await
}
