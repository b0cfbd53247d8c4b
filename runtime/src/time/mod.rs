//! Time: sleeping, timeouts and intervals, on the runtime's timer heap and its clock.
//!
//! Timers are armed when first polled and disarmed when dropped; a timer never fires before
//! its deadline, and on an idle runtime tens of microseconds after it at most.
//!
//! # Tests that control time
//! Every timer runs on the runtime's clock, read by [`Instant::now`]. A test can pause it
//! ([`Builder::start_paused`](crate::runtime::Builder::start_paused), [`pause`],
//! `#[weft::test(paused)]`): then a sleep of an hour ends as soon as the runtime has nothing
//! else to do, in microseconds, and timers fire in the order of their deadlines on every run.
//! [`advance`] and [`advance_to_next_timer`] move the clock by hand, [`AutoAdvance`] says
//! when it moves by itself, and [`hold_auto_advance`] holds it still while work the runtime
//! cannot see is under way. [`wait_all_tasks_blocked`](crate::task::wait_all_tasks_blocked)
//! runs every task until all of them wait.
//!
//! **`std::time::Instant` is not the runtime's clock** and never pauses: code that takes
//! deadlines or measures time from it sees real time in a paused test.
//!
//! ```
//! use std::time::Duration;
//! use weft::time::{Instant, sleep};
//!
//! let rt = weft::runtime::Builder::new().start_paused(true).build().unwrap();
//! rt.block_on(async {
//!     let start = Instant::now();
//!     sleep(Duration::from_secs(3600)).await;
//!     assert_eq!(start.elapsed(), Duration::from_secs(3600));
//! });
//! ```

pub(crate) mod clock;
mod control;
pub(crate) mod driver;
mod instant;
mod interval;
mod scope;
mod send_sleep;
mod sleep;
mod timeout;

pub use clock::AutoAdvance;
#[cfg(feature = "blocking")]
pub(crate) use control::ClockHold;
pub use control::{
    AutoAdvanceHold, advance, advance_to_next_timer, hold_auto_advance, hold_auto_advance_for,
    is_paused, pause, resume, set_auto_advance,
};
pub use instant::Instant;

pub use interval::{Interval, MissedTickBehavior, interval, interval_at};
pub use scope::{Scoped, TimeoutScope};
pub use send_sleep::SendSleep;
pub use sleep::{Sleep, sleep, sleep_until};
pub use std::time::Duration;
pub use timeout::{Timeout, TimeoutError, timeout, timeout_at};
