//! `timeout`: give a future a deadline.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use super::instant::Instant;
use super::sleep::{Sleep, deadline_after, sleep_until};

/// Runs `future` for at most `duration`: `Ok(output)` if it finished in time, `Err(TimeoutError)`
/// if not, in which case the future is dropped (cancelled) at that point. asyncio's
/// `wait_for(aw, timeout)`; gevent's `with_timeout`.
///
/// The future is polled before the clock is checked, so a future that is ready right away
/// wins even with a zero timeout.
///
/// ```
/// use std::time::Duration;
/// use weft::time::{sleep, timeout};
/// weft::run(async {
///     assert_eq!(timeout(Duration::from_secs(5), async { 1 }).await, Ok(1));
///     let slow = sleep(Duration::from_secs(60));
///     assert!(timeout(Duration::from_millis(1), slow).await.is_err());
/// });
/// ```
pub fn timeout<F: Future>(duration: Duration, future: F) -> Timeout<F> {
    timeout_at(deadline_after(duration), future)
}

/// Like [`timeout`], with a deadline instead of a duration.
pub fn timeout_at<F: Future>(deadline: Instant, future: F) -> Timeout<F> {
    Timeout {
        future,
        sleep: sleep_until(deadline),
    }
}

pin_project_lite::pin_project! {
    /// The future returned by [`timeout`] and [`timeout_at`].
    #[derive(Debug)]
    #[must_use = "futures do nothing unless awaited"]
    pub struct Timeout<F> {
        #[pin]
        future: F,
        sleep: Sleep,
    }
}

impl<F> Timeout<F> {
    /// The deadline.
    pub fn deadline(&self) -> Instant {
        self.sleep.deadline()
    }

    /// Moves the deadline.
    pub fn reset(&mut self, deadline: Instant) {
        self.sleep.reset(deadline);
    }

    /// The wrapped future.
    pub fn into_inner(self) -> F {
        self.future
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, TimeoutError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Poll::Ready(output) = this.future.poll(cx) {
            return Poll::Ready(Ok(output));
        }
        Pin::new(this.sleep)
            .poll(cx)
            .map(|()| Err(TimeoutError(())))
    }
}

/// The error of a [`timeout`] whose deadline passed first: Python's `TimeoutError` (tokio
/// calls it `Elapsed`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TimeoutError(());

impl TimeoutError {
    /// The error, for code of your own that gives up on time.
    pub fn new() -> TimeoutError {
        TimeoutError(())
    }
}

impl fmt::Display for TimeoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline has elapsed")
    }
}

impl std::error::Error for TimeoutError {}

impl From<TimeoutError> for std::io::Error {
    fn from(_: TimeoutError) -> std::io::Error {
        std::io::Error::new(std::io::ErrorKind::TimedOut, "deadline has elapsed")
    }
}
