//! The runtime's clock: the system's monotonic clock until a test pauses or moves it, then a
//! virtual clock.
//!
//! A virtual clock is a `base` moment plus, while it runs, the real time since `running_since`.
//! Pausing folds the elapsed time into `base`; moving it sets `base`. A runtime that never
//! pauses reads the system clock directly and pays one branch for the rest.

use std::cell::{Cell, RefCell};
use std::time::{Duration, Instant};

use slab::Slab;

use crate::reactor::Wait;

/// Thirty years: what a deadline that overflows becomes.
pub(crate) const FAR_FUTURE: Duration = Duration::from_secs(60 * 60 * 24 * 365 * 30);

/// When a paused clock moves by itself: trio's `MockClock.autojump_threshold`, tokio's
/// auto-advance. Set with [`Builder::auto_advance`](crate::runtime::Builder::auto_advance) or
/// [`set_auto_advance`](crate::time::set_auto_advance).
///
/// The runtime is **idle** when no task is ready, no [hold](crate::time::hold_auto_advance)
/// is taken (a blocking-pool job in flight takes one; a DNS query takes one that lapses
/// after the query's time limit, [`hold_auto_advance_for`](crate::time::hold_auto_advance_for))
/// and a look at the sockets, without waiting, finds nothing. A paused clock that may
/// move jumps then to the earliest timer's deadline, so the timers' effects happen in the
/// order of their deadlines.
///
/// Whatever the mode, when nothing at all can happen any more but a timer firing (no socket
/// registered, no waker outside the runtime), the clock jumps to that timer: a paused test
/// never hangs where time is all it waits for, and reports a deadlock only when no timer is
/// left.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AutoAdvance {
    /// The clock moves only by [`advance`](crate::time::advance) and friends (and when
    /// nothing but a timer is left, as above).
    Off,
    /// Jump to the next timer as soon as the runtime is idle (tokio's `start_paused`). Fast,
    /// but a timeout around real network I/O fires at once: the reply has not arrived in the
    /// instant the runtime looked. Use [`AfterIdle`](AutoAdvance::AfterIdle) for that.
    #[default]
    WhenIdle,
    /// Jump once the runtime has been idle for this much real time (trio's autojump
    /// threshold): a reply that is on its way arrives first.
    AfterIdle(Duration),
}

/// How the loop waits for the sockets, and whether a paused clock jumps afterwards.
pub(crate) struct WaitPlan {
    pub(crate) wait: Wait,
    jump: Option<Jump>,
}

/// A paused clock's jump to the next deadline, once a quiet wait reached `not_before`.
#[derive(Clone, Copy)]
struct Jump {
    to: Instant,
    not_before: Instant,
}

impl WaitPlan {
    /// Wait as `wait` says; the clock does not jump.
    pub(crate) fn just(wait: Wait) -> WaitPlan {
        WaitPlan { wait, jump: None }
    }

    fn until(real: Instant) -> WaitPlan {
        WaitPlan::just(Wait::Until(real))
    }

    fn until_woken() -> WaitPlan {
        WaitPlan::just(Wait::Forever)
    }
}

#[derive(Clone, Copy)]
struct Virtual {
    base: Instant,
    /// Set while the virtual clock runs; `None` while it is paused.
    running_since: Option<Instant>,
}

impl Virtual {
    fn now(&self) -> Instant {
        match self.running_since {
            None => self.base,
            Some(since) => self.base + since.elapsed(),
        }
    }
}

/// One runtime's clock.
pub(crate) struct Clock {
    /// `None`: the system clock.
    virtual_clock: Cell<Option<Virtual>>,
    auto: Cell<AutoAdvance>,
    /// How many holds on auto-advance are taken.
    holds: Cell<usize>,
    /// Holds that lapse at a moment of real time, by key.
    timed_holds: RefCell<Slab<Instant>>,
}

impl Clock {
    pub(crate) fn new(paused: bool, auto: AutoAdvance) -> Clock {
        let clock = Clock {
            virtual_clock: Cell::new(None),
            auto: Cell::new(auto),
            holds: Cell::new(0),
            timed_holds: RefCell::default(),
        };
        if paused {
            clock.pause();
        }
        clock
    }

    #[inline]
    pub(crate) fn now(&self) -> Instant {
        match self.virtual_clock.get() {
            None => Instant::now(),
            Some(clock) => clock.now(),
        }
    }

    pub(crate) fn pause(&self) {
        self.virtual_clock.set(Some(Virtual {
            base: self.now(),
            running_since: None,
        }));
    }

    pub(crate) fn resume(&self) {
        if let Some(clock) = self.virtual_clock.get() {
            if clock.running_since.is_none() {
                self.virtual_clock.set(Some(Virtual {
                    base: clock.base,
                    running_since: Some(Instant::now()),
                }));
            }
        }
    }

    pub(crate) fn is_paused(&self) -> bool {
        self.virtual_clock
            .get()
            .is_some_and(|clock| clock.running_since.is_none())
    }

    /// Moves the clock forward to `to` (never back), paused or running.
    pub(crate) fn set_now(&self, to: Instant) {
        let clock = match self.virtual_clock.get() {
            Some(clock) => clock,
            None => Virtual {
                base: Instant::now(),
                running_since: Some(Instant::now()),
            },
        };
        if to <= clock.now() {
            return;
        }
        self.virtual_clock.set(Some(Virtual {
            base: to,
            running_since: clock.running_since.map(|_| Instant::now()),
        }));
    }

    /// The system-clock moment at which the clock will read `deadline`, or `None` while it
    /// is paused (it never reaches the deadline by itself).
    #[inline]
    pub(crate) fn real_instant(&self, deadline: Instant) -> Option<Instant> {
        match self.virtual_clock.get() {
            None => Some(deadline),
            Some(clock) => {
                let since = clock.running_since?;
                Some(since + deadline.saturating_duration_since(clock.base))
            }
        }
    }

    /// How the loop should wait when nothing is ready and `deadline` is the earliest timer:
    /// on a running clock, until the real moment the clock reads it; on a paused one, for
    /// the idle time auto-advance asks (then jump, if that wait was quiet), or not at all and
    /// jump at once when `only_timers_can_wake` says nothing else ever could, or else for
    /// as long as it takes. The loop tells [`after_wait`](Clock::after_wait) how it went.
    pub(crate) fn plan_wait(
        &self,
        deadline: Instant,
        only_timers_can_wake: impl FnOnce() -> bool,
    ) -> WaitPlan {
        if let Some(real) = self.real_instant(deadline) {
            return WaitPlan::until(real);
        }
        let now = Instant::now();
        let jump_after = |wait: Duration| WaitPlan {
            wait: if wait.is_zero() {
                Wait::No
            } else {
                Wait::Until(now + wait)
            },
            jump: Some(Jump {
                to: deadline,
                not_before: now + wait,
            }),
        };
        match self.idle_wait() {
            Some(idle) => jump_after(idle),
            None if only_timers_can_wake() => jump_after(Duration::ZERO),
            None => WaitPlan::until_woken(),
        }
    }

    /// The loop waited as `plan` said; `quiet` tells whether nothing at all happened
    /// meanwhile (no event, nothing ready, no wake from another thread). A planned jump
    /// happens then, once its real time has come. Asked only when a jump was planned.
    #[inline]
    pub(crate) fn after_wait(&self, plan: &WaitPlan, quiet: impl FnOnce() -> bool) {
        if let Some(jump) = plan.jump {
            if quiet() && Instant::now() >= jump.not_before {
                self.set_now(jump.to);
            }
        }
    }

    pub(crate) fn set_auto_advance(&self, mode: AutoAdvance) {
        self.auto.set(mode);
    }

    /// How long to look at the sockets before a paused clock may jump to the next timer
    /// (the idle threshold, or until the last timed hold lapses, whichever is later): `None`
    /// if it may not jump (auto-advance off, or held without a time limit).
    pub(crate) fn idle_wait(&self) -> Option<Duration> {
        if self.holds.get() > 0 {
            return None;
        }
        let threshold = match self.auto.get() {
            AutoAdvance::Off => return None,
            AutoAdvance::WhenIdle => Duration::ZERO,
            AutoAdvance::AfterIdle(threshold) => threshold,
        };
        let timed_holds = self.timed_holds.borrow();
        if timed_holds.is_empty() {
            return Some(threshold);
        }
        let now = Instant::now();
        let lapse = timed_holds
            .iter()
            .map(|(_, until)| until.saturating_duration_since(now))
            .max()
            .unwrap_or_default();
        Some(threshold.max(lapse))
    }

    pub(crate) fn hold(&self) {
        self.holds.set(self.holds.get() + 1);
    }

    pub(crate) fn release(&self) {
        self.holds.set(self.holds.get() - 1);
    }

    /// A hold that lapses after `real` of real time; returns its key.
    pub(crate) fn hold_for(&self, real: Duration) -> usize {
        let until = Instant::now()
            .checked_add(real)
            .unwrap_or_else(|| Instant::now() + FAR_FUTURE);
        self.timed_holds.borrow_mut().insert(until)
    }

    pub(crate) fn release_timed(&self, key: usize) {
        self.timed_holds.borrow_mut().remove(key);
    }
}
