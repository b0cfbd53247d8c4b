//! Time: sleeping, timeouts and intervals, on the runtime's timer heap.
//!
//! Timers are armed when first polled and disarmed when dropped; a timer never fires before
//! its deadline, and on an idle runtime about a millisecond after it at most.

pub(crate) mod driver;
mod interval;
mod scope;
mod send_sleep;
mod sleep;
mod timeout;

pub use interval::{Interval, MissedTickBehavior, interval, interval_at};
pub use scope::{Scoped, TimeoutScope};
pub use send_sleep::SendSleep;
pub use sleep::{Sleep, sleep, sleep_until};
pub use std::time::{Duration, Instant};
pub use timeout::{Timeout, TimeoutError, timeout, timeout_at};
