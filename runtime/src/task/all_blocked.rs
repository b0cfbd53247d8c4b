//! `wait_all_tasks_blocked`: run everything else until it waits.

use std::future::poll_fn;
use std::task::Poll;

use crate::executor::expect_core;

/// Waits until every other task is blocked: none is ready to run, and a look at the sockets
/// and timers, without waiting, finds nothing to wake one (trio's
/// `trio.testing.wait_all_tasks_blocked`). With a paused clock, this is the moment a test
/// checks what its tasks have done so far; time has not moved.
///
/// Tasks waiting for a thread (a [`spawn_blocking`](crate::task::spawn_blocking) job) count as
/// blocked. If several tasks wait for this, all of them are woken at that moment.
///
/// # Panics
/// Outside a runtime.
///
/// ```
/// use weft::task::{spawn, wait_all_tasks_blocked};
///
/// weft::run(async {
///     let (tx, rx) = weft::channel::oneshot::channel::<u32>();
///     let echo = spawn(async move { rx.await.map(|n| n * 2) });
///     let worker = spawn(async move {
///         for _ in 0..3 {
///             weft::task::yield_now().await;
///         }
///         tx.send(21).unwrap();
///     });
///     wait_all_tasks_blocked().await;
///     assert!(worker.is_finished() && echo.is_finished());
///     assert_eq!(echo.await.unwrap(), Ok(42));
/// });
/// ```
pub async fn wait_all_tasks_blocked() {
    let core = expect_core("weft::task::wait_all_tasks_blocked");
    let mut round = None;
    poll_fn(|cx| match round {
        Some(round) if core.idle().round_passed(round) => Poll::Ready(()),
        _ => {
            round = Some(core.idle().wait(cx.waker()));
            Poll::Pending
        }
    })
    .await
}
