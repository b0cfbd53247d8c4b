//! `yield_now`: let the other ready tasks run.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Gives the other ready tasks a turn, then resumes: asyncio's `await asyncio.sleep(0)` or
/// gevent's `sleep(0)`. The task goes to the back of the run queue.
///
/// ```
/// weft::run(async {
///     let other = weft::spawn(async { "ran" });
///     weft::task::yield_now().await; // `other` runs here
///     assert!(other.is_finished());
/// });
/// ```
pub async fn yield_now() {
    YieldNow { yielded: false }.await
}

struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
