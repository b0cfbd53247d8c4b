//! `Sleep`: a future that completes at a deadline.

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use super::driver::TimerDriver;
use super::instant::Instant;
use crate::executor::expect_core;

/// Waits for `duration`: asyncio's `await asyncio.sleep(s)`, gevent's `sleep(s)`.
///
/// The sleep never ends early; on an idle runtime it ends at most about a millisecond late
/// (epoll's timeout resolution). A zero duration completes without yielding; use
/// [`yield_now`](crate::task::yield_now) to let other tasks run.
///
/// ```
/// use std::time::Duration;
/// use weft::time::Instant;
/// weft::run(async {
///     let start = Instant::now();
///     weft::time::sleep(Duration::from_millis(5)).await;
///     assert!(start.elapsed() >= Duration::from_millis(5));
/// });
/// ```
pub fn sleep(duration: Duration) -> Sleep {
    sleep_until(deadline_after(duration))
}

/// Waits until `deadline`.
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep {
        deadline,
        timer: None,
    }
}

/// `now + duration` on the runtime's clock, or a deadline decades away if that overflows.
pub(crate) fn deadline_after(duration: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(duration)
        .unwrap_or_else(|| now + super::clock::FAR_FUTURE)
}

/// The future returned by [`sleep`] and [`sleep_until`]. It arms a timer when first polled and
/// disarms it when dropped, so a `Sleep` that loses a race costs nothing afterwards. It is
/// `Unpin`: `&mut sleep` can be awaited and [`reset`](Sleep::reset) in a loop.
#[derive(Debug)]
pub struct Sleep {
    deadline: Instant,
    timer: Option<ArmedTimer>,
}

#[derive(Debug)]
struct ArmedTimer {
    driver: Rc<TimerDriver>,
    key: usize,
}

impl Drop for ArmedTimer {
    fn drop(&mut self) {
        self.driver.remove(self.key);
    }
}

impl std::fmt::Debug for TimerDriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TimerDriver")
    }
}

impl Sleep {
    /// When the sleep ends.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// True once the deadline has passed.
    pub fn is_elapsed(&self) -> bool {
        Instant::now() >= self.deadline
    }

    /// Moves the deadline (earlier or later), even after the sleep completed, so one `Sleep`
    /// can serve a loop of waits.
    pub fn reset(&mut self, deadline: Instant) {
        self.deadline = deadline;
        if let Some(timer) = &self.timer {
            timer.driver.reset(timer.key, deadline.into_std());
        }
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if let Some(timer) = &self.timer {
            if !timer.driver.poll_fired(timer.key, cx.waker()) {
                return Poll::Pending;
            }
            self.timer = None;
            return Poll::Ready(());
        }
        if Instant::now() >= self.deadline {
            return Poll::Ready(());
        }
        let driver = expect_core("weft::time::sleep").timers().clone();
        let key = driver.insert(self.deadline.into_std(), cx.waker().clone());
        self.timer = Some(ArmedTimer { driver, key });
        Poll::Pending
    }
}
