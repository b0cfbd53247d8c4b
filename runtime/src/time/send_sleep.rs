//! `SendSleep`: a sleep that is `Send + Sync`, for libraries that demand it (hyper's `Timer`).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use super::instant::Instant;
use super::sleep::deadline_after;
use crate::executor::{expect_core, with_core};

/// A sleep that is `Send + Sync`: the same wait as [`Sleep`](super::Sleep), for APIs that
/// require those bounds even though the future never leaves the runtime's thread, such as
/// hyper's `rt::Timer`.
///
/// It holds only plain data: its deadline and, once armed, the number of its runtime and of
/// its timer slot, with a tag that tells it apart from a later timer in the same slot. Each
/// poll finds the runtime through the thread's current runtime; nothing that must stay on
/// one thread is inside, so moving it across threads is sound (and needs no `unsafe`).
///
/// It must be polled on the thread of the runtime that armed it. Dropped on another thread,
/// it cannot cancel its timer, which then fires once into nothing.
///
/// ```
/// use std::time::Duration;
///
/// fn assert_send_sync<T: Send + Sync>(_: &T) {}
///
/// weft::run(async {
///     let sleep = weft::time::SendSleep::after(Duration::from_millis(1));
///     assert_send_sync(&sleep);
///     sleep.await;
/// });
/// ```
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct SendSleep {
    deadline: Instant,
    timer: Option<TimerRef>,
}

/// An armed timer, named by numbers only.
#[derive(Debug, Clone, Copy)]
struct TimerRef {
    runtime: u32,
    key: usize,
    tag: u64,
}

impl SendSleep {
    /// A sleep until `deadline`.
    pub fn until(deadline: Instant) -> SendSleep {
        SendSleep {
            deadline,
            timer: None,
        }
    }

    /// A sleep for `duration` from now.
    pub fn after(duration: Duration) -> SendSleep {
        SendSleep::until(deadline_after(duration))
    }

    /// When the sleep ends.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Moves the deadline; the timer is armed again at the next poll.
    pub fn reset(&mut self, deadline: Instant) {
        self.cancel();
        self.deadline = deadline;
    }

    /// Frees the timer slot, if this thread runs the runtime that holds it.
    fn cancel(&mut self) {
        if let Some(timer) = self.timer.take() {
            with_core(|core| {
                if let Some(core) = core.filter(|core| core.id() == timer.runtime) {
                    if core.timers().holds(timer.key, timer.tag) {
                        core.timers().remove(timer.key);
                    }
                }
            });
        }
    }
}

impl Future for SendSleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if let Some(timer) = self.timer {
            let fired = with_core(|core| {
                let core = core.filter(|core| core.id() == timer.runtime).expect(
                    "a weft::time::SendSleep was polled on a thread that does not run the \
                     runtime it was armed on; poll it where it was first polled",
                );
                !core.timers().holds(timer.key, timer.tag)
                    || core.timers().poll_fired(timer.key, cx.waker())
            });
            if !fired {
                return Poll::Pending;
            }
            self.cancel();
            return Poll::Ready(());
        }
        if Instant::now() >= self.deadline {
            return Poll::Ready(());
        }
        let core = expect_core("weft::time::SendSleep");
        let (key, tag) = core
            .timers()
            .insert_tagged(self.deadline.into_std(), cx.waker().clone());
        self.timer = Some(TimerRef {
            runtime: core.id(),
            key,
            tag,
        });
        Poll::Pending
    }
}

impl Drop for SendSleep {
    fn drop(&mut self) {
        self.cancel();
    }
}
