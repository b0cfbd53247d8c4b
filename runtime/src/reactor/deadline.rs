//! Waking `epoll_wait` at a timer's deadline to the microsecond.
//!
//! epoll's own timeout counts whole milliseconds (mio rounds up, so a timer is never early),
//! which makes a sleep up to a millisecond late. Instead, before blocking, the reactor arms a
//! timerfd at the earliest deadline and waits on it like on any socket; the kernel's
//! high-resolution timer then wakes the loop within tens of microseconds of the deadline.
//! Arming costs one `timerfd_settime`, made only when the earliest deadline moved *earlier*
//! than the one the timerfd is set to. When it moves later (the earliest timer was cancelled,
//! as timeouts usually are), the timerfd is left as it is: at worst it wakes the loop once
//! early, which finds nothing due and arms it again. Servers that arm a timeout per request
//! and cancel it when the response goes out would otherwise pay a system call per request.

use std::cell::Cell;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::{Duration, Instant};

use rustix::time::{
    Itimerspec, TimerfdClockId, TimerfdFlags, TimerfdTimerFlags, Timespec, timerfd_create,
    timerfd_settime,
};

pub(crate) struct DeadlineTimer {
    fd: OwnedFd,
    /// The deadline the timerfd is set to, if any.
    armed: Cell<Option<Instant>>,
}

impl DeadlineTimer {
    pub(crate) fn new(registry: &mio::Registry, token: mio::Token) -> io::Result<DeadlineTimer> {
        let fd = timerfd_create(
            TimerfdClockId::Monotonic,
            TimerfdFlags::NONBLOCK | TimerfdFlags::CLOEXEC,
        )?;
        registry.register(
            &mut mio::unix::SourceFd(&fd.as_raw_fd()),
            token,
            mio::Interest::READABLE,
        )?;
        Ok(DeadlineTimer {
            fd,
            armed: Cell::new(None),
        })
    }

    /// Makes the timerfd fire at `deadline` (at once if it has passed), or earlier; `now` is
    /// the caller's reading of the clock.
    pub(crate) fn arm(&self, deadline: Instant, now: Instant) -> io::Result<()> {
        if self.armed.get().is_some_and(|armed| armed <= deadline) {
            return Ok(()); // it fires no later than needed; an early wake re-arms it
        }
        // A zero `it_value` would disarm the timer, so "already due" becomes one nanosecond.
        let after = deadline
            .saturating_duration_since(now)
            .max(Duration::from_nanos(1));
        let value = Timespec {
            tv_sec: after.as_secs().try_into().unwrap_or(i64::MAX),
            tv_nsec: after.subsec_nanos().into(),
        };
        let zero = Timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        timerfd_settime(
            &self.fd,
            TimerfdTimerFlags::empty(),
            &Itimerspec {
                it_interval: zero,
                it_value: value,
            },
        )?;
        self.armed.set(Some(deadline));
        Ok(())
    }

    /// The timerfd fired: the next `arm` must set it again.
    pub(crate) fn fired(&self) {
        self.armed.set(None);
    }
}
