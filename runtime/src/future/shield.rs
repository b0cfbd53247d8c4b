//! `shield`: keep work running when the one awaiting it is cancelled.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::task::{JoinError, JoinHandle, spawn};

/// Runs `future` as its own task and returns a future for its output that can be dropped
/// without stopping it: asyncio's `shield`. If the awaiting side is cancelled (say, by a
/// `timeout`), the work runs on to completion in the background.
///
/// The output is `Err` only if the task itself failed (panicked, or was aborted through the
/// runtime's shutdown).
///
/// ```
/// use std::cell::Cell;
/// use std::rc::Rc;
/// use std::time::Duration;
/// use weft::time::{sleep, timeout};
///
/// weft::run(async {
///     let saved = Rc::new(Cell::new(false));
///     let save = {
///         let saved = saved.clone();
///         async move {
///             sleep(Duration::from_millis(5)).await;
///             saved.set(true); // must not be interrupted halfway
///         }
///     };
///     // The caller gives up after 1 ms, but the save goes on.
///     assert!(timeout(Duration::from_millis(1), weft::future::shield(save)).await.is_err());
///     sleep(Duration::from_millis(10)).await;
///     assert!(saved.get());
/// });
/// ```
///
/// # Panics
/// Outside a runtime (it spawns a task).
#[track_caller]
pub fn shield<F>(future: F) -> Shielded<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    Shielded {
        handle: spawn(future),
    }
}

/// The future of [`shield`]; dropping it detaches the task instead of cancelling it.
#[must_use = "futures do nothing unless awaited (the shielded work runs anyway)"]
pub struct Shielded<T> {
    handle: JoinHandle<T>,
}

impl<T> Future for Shielded<T> {
    type Output = Result<T, JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.handle).poll(cx)
    }
}
