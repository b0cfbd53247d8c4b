//! `Instant`: a moment on the runtime's clock, which tests can pause and move.

use std::fmt;
use std::ops::{Add, AddAssign, Sub, SubAssign};
use std::time::Duration;

use crate::executor::with_core;

/// A moment on the **runtime's clock**, the clock every weft timer runs on: [`sleep`],
/// [`timeout`], [`interval`], [`TimeoutScope`] and the timers inside weft's sockets and
/// resolver.
///
/// The runtime's clock is the system's monotonic clock (what `std::time::Instant` reads) until
/// a test pauses it ([`pause`], or [`Builder::start_paused`]); from then on it moves only when
/// the test or the runtime moves it ([`advance`], [auto-advance](super::AutoAdvance)). So:
///
/// **`std::time::Instant::now()` does not see a paused clock.** Measure and compute deadlines
/// with `weft::time::Instant` in code that tests will run on a paused clock; a deadline taken
/// from `std::time::Instant` is wall-clock time, and a paused runtime's timers never reach it
/// by themselves. Outside a runtime, [`Instant::now`] is the system clock.
///
/// It converts to and from `std::time::Instant` (`from_std`, `into_std`, `From`), and has
/// `std::time::Instant`'s arithmetic.
///
/// ```
/// use std::time::Duration;
/// use weft::time::{Instant, sleep};
///
/// let rt = weft::runtime::Builder::new().start_paused(true).build().unwrap();
/// rt.block_on(async {
///     let start = Instant::now();
///     sleep(Duration::from_secs(3600)).await; // an hour of virtual time, at once
///     assert_eq!(start.elapsed(), Duration::from_secs(3600));
/// });
/// ```
///
/// [`sleep`]: crate::time::sleep
/// [`timeout`]: crate::time::timeout
/// [`interval`]: crate::time::interval
/// [`TimeoutScope`]: crate::time::TimeoutScope
/// [`pause`]: crate::time::pause
/// [`advance`]: crate::time::advance
/// [`AutoAdvance`]: crate::time::AutoAdvance
/// [`Builder::start_paused`]: crate::runtime::Builder::start_paused
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(std::time::Instant);

impl Instant {
    /// The runtime's clock now: virtual time while it is paused, the system clock otherwise
    /// (and outside a runtime).
    pub fn now() -> Instant {
        Instant(with_core(|core| match core {
            Some(core) => core.clock().now(),
            None => std::time::Instant::now(),
        }))
    }

    /// The same moment, as a `std::time::Instant` (the two clocks agree until a clock is
    /// paused or advanced).
    pub fn from_std(instant: std::time::Instant) -> Instant {
        Instant(instant)
    }

    /// This moment as a `std::time::Instant`.
    pub fn into_std(self) -> std::time::Instant {
        self.0
    }

    /// How long after `earlier` this is; zero if `earlier` is later.
    pub fn duration_since(&self, earlier: Instant) -> Duration {
        self.0.saturating_duration_since(earlier.0)
    }

    /// How long after `earlier` this is, or `None` if `earlier` is later.
    pub fn checked_duration_since(&self, earlier: Instant) -> Option<Duration> {
        self.0.checked_duration_since(earlier.0)
    }

    /// How long after `earlier` this is; zero if `earlier` is later.
    pub fn saturating_duration_since(&self, earlier: Instant) -> Duration {
        self.0.saturating_duration_since(earlier.0)
    }

    /// How much runtime-clock time has passed since this moment.
    pub fn elapsed(&self) -> Duration {
        Instant::now().duration_since(*self)
    }

    /// `self + duration`, or `None` if that cannot be represented.
    pub fn checked_add(&self, duration: Duration) -> Option<Instant> {
        self.0.checked_add(duration).map(Instant)
    }

    /// `self - duration`, or `None` if that cannot be represented.
    pub fn checked_sub(&self, duration: Duration) -> Option<Instant> {
        self.0.checked_sub(duration).map(Instant)
    }
}

impl From<std::time::Instant> for Instant {
    fn from(instant: std::time::Instant) -> Instant {
        Instant(instant)
    }
}

impl From<Instant> for std::time::Instant {
    fn from(instant: Instant) -> std::time::Instant {
        instant.0
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;

    fn add(self, duration: Duration) -> Instant {
        Instant(self.0 + duration)
    }
}

impl AddAssign<Duration> for Instant {
    fn add_assign(&mut self, duration: Duration) {
        self.0 += duration;
    }
}

impl Sub<Duration> for Instant {
    type Output = Instant;

    fn sub(self, duration: Duration) -> Instant {
        Instant(self.0 - duration)
    }
}

impl SubAssign<Duration> for Instant {
    fn sub_assign(&mut self, duration: Duration) {
        self.0 -= duration;
    }
}

/// The time between two moments (zero if `earlier` is the later one, as `std` does).
impl Sub<Instant> for Instant {
    type Output = Duration;

    fn sub(self, earlier: Instant) -> Duration {
        self.duration_since(earlier)
    }
}

impl fmt::Debug for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}
