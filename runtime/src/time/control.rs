//! Controlling the runtime's clock from a test: pause, resume, advance, and auto-advance.

use std::marker::PhantomData;
use std::rc::Rc;
use std::time::Duration;

use super::clock::{AutoAdvance, FAR_FUTURE};
use super::instant::Instant;
use crate::executor::state::Executor as Core;
use crate::executor::{expect_core, with_core};
use crate::task::wait_all_tasks_blocked;

/// Stops the runtime's clock: from now on it moves only by [`advance`],
/// [`advance_to_next_timer`] and [auto-advance](AutoAdvance) (on by default, when idle). Does
/// nothing if it is paused already. Tests usually start paused instead, with
/// [`Builder::start_paused`](crate::runtime::Builder::start_paused) or
/// `#[weft::test(paused)]`.
///
/// `std::time::Instant` keeps running: see [`Instant`].
///
/// # Panics
/// Outside a runtime.
///
/// ```
/// use std::time::Duration;
/// use weft::time::{Instant, pause, sleep};
///
/// weft::run(async {
///     pause();
///     let start = Instant::now();
///     sleep(Duration::from_secs(86_400)).await; // a day, at once
///     assert_eq!(start.elapsed(), Duration::from_secs(86_400));
/// });
/// ```
pub fn pause() {
    expect_core("weft::time::pause").clock().pause();
}

/// Lets a paused clock run again at the system clock's pace, from where it stands. Does
/// nothing if it runs.
///
/// # Panics
/// Outside a runtime.
pub fn resume() {
    expect_core("weft::time::resume").clock().resume();
}

/// Whether the runtime's clock is paused.
///
/// # Panics
/// Outside a runtime.
pub fn is_paused() -> bool {
    expect_core("weft::time::is_paused").clock().is_paused()
}

/// Sets when a paused clock moves by itself (see [`AutoAdvance`]).
///
/// # Panics
/// Outside a runtime.
pub fn set_auto_advance(mode: AutoAdvance) {
    expect_core("weft::time::set_auto_advance")
        .clock()
        .set_auto_advance(mode);
}

/// Moves the clock forward by `duration`, one timer deadline at a time: it lets every task
/// run until all are blocked, sets the clock to the earliest deadline, fires the timers due
/// then (equal deadlines in the order they were armed), lets the tasks they woke run until all
/// are blocked again, and so on; the effects happen in the order of the deadlines. It ends
/// with the clock at exactly `now + duration`.
///
/// Works on a running clock too (it then jumps ahead); usually the clock is paused.
///
/// # Panics
/// Outside a runtime.
///
/// ```
/// use std::time::Duration;
/// use weft::time::{advance, sleep};
///
/// let rt = weft::runtime::Builder::new()
///     .start_paused(true)
///     .auto_advance(weft::time::AutoAdvance::Off)
///     .build()
///     .unwrap();
/// rt.block_on(async {
///     let log = weft::sync::Mutex::new(Vec::new());
///     for secs in [3, 1, 2] {
///         let log = log.clone();
///         weft::spawn(async move {
///             sleep(Duration::from_secs(secs)).await;
///             log.lock().await.push(secs);
///         });
///     }
///     advance(Duration::from_millis(2500)).await;
///     assert_eq!(*log.lock().await, [1, 2]); // the 3 s sleeper still sleeps
/// });
/// ```
pub async fn advance(duration: Duration) {
    let core = expect_core("weft::time::advance");
    let now = core.clock().now();
    let target = now.checked_add(duration).unwrap_or(now + FAR_FUTURE);
    while advance_one_deadline(&core, Some(target)).await.is_some() {}
    core.clock().set_now(target);
}

/// Lets every task run until all are blocked, then moves the clock to the earliest timer's
/// deadline, fires the timers due then, and lets the tasks they woke run until all are blocked
/// again. Returns the deadline, or `None` (and moves nothing) if no timer is armed.
///
/// # Panics
/// Outside a runtime.
///
/// ```
/// use std::time::Duration;
/// use weft::time::{Instant, advance_to_next_timer, sleep};
///
/// let rt = weft::runtime::Builder::new().start_paused(true).build().unwrap();
/// rt.block_on(async {
///     let start = Instant::now();
///     weft::spawn(sleep(Duration::from_secs(90)));
///     assert_eq!(advance_to_next_timer().await, Some(start + Duration::from_secs(90)));
///     assert_eq!(advance_to_next_timer().await, None);
/// });
/// ```
pub async fn advance_to_next_timer() -> Option<Instant> {
    let core = expect_core("weft::time::advance_to_next_timer");
    advance_one_deadline(&core, None).await
}

/// One step of [`advance`]: run until blocked, then fire the earliest deadline if it is not
/// after `limit`, and run until blocked again.
async fn advance_one_deadline(
    core: &Rc<Core>,
    limit: Option<std::time::Instant>,
) -> Option<Instant> {
    wait_all_tasks_blocked().await;
    let deadline = core
        .timers()
        .next_deadline()
        .filter(|deadline| limit.is_none_or(|limit| *deadline <= limit))?;
    core.clock().set_now(deadline);
    core.fire_timers();
    wait_all_tasks_blocked().await;
    Some(Instant::from_std(deadline))
}

/// Holds a paused clock's auto-advance off while it lives: for work the runtime cannot see
/// progressing, such as a thread or another process that will answer. weft's blocking pool
/// and DNS resolver hold one while a job or query is in flight. See [`hold_auto_advance`].
#[must_use = "auto-advance is held only while the hold lives"]
#[derive(Debug)]
pub struct AutoAdvanceHold {
    _hold: ClockHold,
    /// Released on the runtime's thread.
    _not_send: PhantomData<*const ()>,
}

/// A hold on auto-advance named by its runtime's number, so that a `Send` future (the
/// blocking pool's) can keep one; it is released when dropped on that runtime's thread.
#[derive(Debug)]
pub(crate) struct ClockHold {
    runtime: u32,
    /// The key of a hold that lapses by itself; `None` for one that lasts until dropped.
    timed: Option<usize>,
}

impl ClockHold {
    /// A hold on the current runtime's clock, if a runtime runs on this thread.
    pub(crate) fn take() -> Option<ClockHold> {
        with_core(|core| {
            core.map(|core| {
                core.clock().hold();
                ClockHold {
                    runtime: core.id(),
                    timed: None,
                }
            })
        })
    }

    /// A hold that lapses after `real` of real time, if a runtime runs on this thread.
    fn take_for(real: Duration) -> Option<ClockHold> {
        with_core(|core| {
            core.map(|core| ClockHold {
                runtime: core.id(),
                timed: Some(core.clock().hold_for(real)),
            })
        })
    }
}

impl Drop for ClockHold {
    fn drop(&mut self) {
        with_core(|core| {
            if let Some(core) = core.filter(|core| core.id() == self.runtime) {
                match self.timed {
                    None => core.clock().release(),
                    Some(key) => core.clock().release_timed(key),
                }
            }
        });
    }
}

/// Holds auto-advance off until the returned hold is dropped (holds nest). `advance` and the
/// deadlock detector still move the clock: the first is asked for, and the second moves it
/// only when nothing else can ever happen.
///
/// # Panics
/// Outside a runtime.
///
/// ```
/// use std::io::Write;
/// use std::time::Duration;
/// use weft::io::AsyncReadExt;
/// use weft::time::{hold_auto_advance, timeout};
///
/// let rt = weft::runtime::Builder::new().start_paused(true).build().unwrap();
/// rt.block_on(async {
///     let (ours, mut theirs) = std::os::unix::net::UnixStream::pair().unwrap();
///     let mut ours = weft::net::UnixStream::from_std(ours).unwrap();
///     // Another thread answers in a few real milliseconds: work the runtime cannot see.
///     let helper = std::thread::spawn(move || {
///         std::thread::sleep(Duration::from_millis(20));
///         theirs.write_all(b"pong").unwrap();
///     });
///     // Without the hold, the paused clock would jump to the timeout's deadline at once.
///     let _hold = hold_auto_advance();
///     let mut reply = [0; 4];
///     timeout(Duration::from_secs(1), ours.read_exact(&mut reply))
///         .await
///         .expect("the hold kept the 1 s timeout from firing")
///         .unwrap();
///     assert_eq!(&reply, b"pong");
///     helper.join().unwrap();
/// });
/// ```
pub fn hold_auto_advance() -> AutoAdvanceHold {
    expect_core("weft::time::hold_auto_advance");
    AutoAdvanceHold {
        _hold: ClockHold::take().expect("a runtime runs on this thread"),
        _not_send: PhantomData,
    }
}

/// Like [`hold_auto_advance`], but the hold lapses by itself after `real` of real time: for
/// a reply that should come soon but might not come at all. A paused clock then waits up
/// to `real` for it, and jumps on if it has not come, so a timeout around it fires (at its
/// own deadline on the runtime's clock) instead of the test hanging. weft's DNS resolver
/// holds the clock this way for each query, for as long as the query's own time limit.
///
/// # Panics
/// Outside a runtime.
///
/// ```
/// use std::time::Duration;
/// use weft::io::AsyncReadExt;
/// use weft::time::{Instant, hold_auto_advance_for, timeout};
///
/// let rt = weft::runtime::Builder::new().start_paused(true).build().unwrap();
/// rt.block_on(async {
///     let (mut quiet, _peer) = weft::net::UnixStream::pair().unwrap();
///     let start = Instant::now();
///     let _hold = hold_auto_advance_for(Duration::from_millis(10));
///     let read = timeout(Duration::from_secs(5), quiet.read(&mut [0; 1])).await;
///     assert!(read.is_err(), "nothing came");
///     assert_eq!(start.elapsed(), Duration::from_secs(5), "at the timeout's own deadline");
/// });
/// ```
pub fn hold_auto_advance_for(real: Duration) -> AutoAdvanceHold {
    expect_core("weft::time::hold_auto_advance_for");
    AutoAdvanceHold {
        _hold: ClockHold::take_for(real).expect("a runtime runs on this thread"),
        _not_send: PhantomData,
    }
}
