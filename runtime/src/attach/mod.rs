//! Being looked at from outside: what lets `weft-ps PID` show a running program's tasks
//! with no preparation in the program (Python 3.14's `python -m asyncio pstree PID`).
//!
//! Nothing runs and nothing is open until someone asks. Each runtime, when built:
//! - lists its beacon (`beacon.rs`) in a static anchor that `weft-ps` finds in the process's
//!   memory, so that a loop stuck in one poll is still named (`weft-ps` reads the beacon
//!   through `/proc/PID/mem`; the loop does nothing);
//! - asks signal-hook to set a flag of its own when `SIGURG` arrives. Its default action is
//!   to do nothing, so a stray one is harmless, and `weft-ps` sends it to each runtime's
//!   thread (`tgkill`): it ends that thread's `epoll_wait` early.
//!
//! The loop looks at the flag once per look at I/O. When it is up, the runtime connects to
//! the abstract Unix socket `weft-ps.PID` that `weft-ps` listens on, checks that its peer is
//! the same user or root, and answers from a task of its own (`serve.rs`). Turned off by
//! `Builder::attachable(false)` or `WEFT_PS=0`.

mod beacon;
mod serve;
mod trace;

use std::cell::{Cell, RefCell};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};

pub(crate) use beacon::{Beacon, Published};
pub use beacon::{MAGIC, SLOTS, now_nanos};
pub(crate) use serve::answer;

use beacon::Listed;

/// The signal `weft-ps` sends to ask a runtime to connect.
pub const SIGNAL: i32 = signal_hook::consts::SIGURG;

/// Whether `WEFT_PS` allows attaching (anything but `0`, `off` or `false`).
pub(crate) fn allowed_by_env() -> bool {
    match std::env::var("WEFT_PS") {
        Ok(value) => !matches!(value.trim(), "0" | "off" | "false"),
        Err(_) => true,
    }
}

/// One runtime's side of attaching.
pub(crate) struct Attach {
    beacon: Beacon,
    /// The flag signal-hook sets, and its registration; `None` when attaching is off.
    asked: Option<(Arc<AtomicBool>, signal_hook::SigId)>,
    listed: RefCell<Option<Listed>>,
    /// Whether a `weft-ps` session is being answered (one at a time).
    serving: Cell<bool>,
    /// Waits that did not sleep since the last stamp.
    busy_turns: Cell<u32>,
}

impl Attach {
    pub(crate) fn new(runtime: u32, on: bool) -> Attach {
        beacon::mark_anchor();
        let asked = on
            .then(|| {
                let flag = Arc::new(AtomicBool::new(false));
                let id = signal_hook::flag::register(SIGNAL, flag.clone()).ok()?;
                Some((flag, id))
            })
            .flatten();
        Attach {
            beacon: Beacon::new(runtime),
            asked,
            listed: RefCell::new(None),
            serving: Cell::new(false),
            busy_turns: Cell::new(0),
        }
    }

    /// After the loop's wait for I/O, before the events are dispatched (which may poll
    /// tasks): stamps the turn's time in the beacon (after a wait that slept, whose system
    /// call dwarfs the clock read; else every 32nd turn, so a busy loop's stamp is at most 32
    /// turns old).
    #[inline(always)]
    pub(crate) fn after_wait(&self, slept: bool) {
        let busy = self.busy_turns.get().wrapping_add(1);
        if slept || busy >= 32 {
            self.busy_turns.set(0);
            self.beacon.stamp_turn();
        } else {
            self.busy_turns.set(busy);
        }
    }

    /// Lists the beacon, now that it has its final address (the executor is in its `Rc`).
    pub(crate) fn list(&self, tasks: &Published, sites: &Published) {
        if self.asked.is_some() {
            self.beacon.set_tables(tasks, sites);
            *self.listed.borrow_mut() = self.beacon.list();
        }
    }

    #[inline(always)]
    pub(crate) fn beacon(&self) -> &Beacon {
        &self.beacon
    }

    /// Whether `weft-ps` asked since the last look; lowers the flag.
    #[inline(always)]
    pub(crate) fn asked(&self) -> bool {
        match &self.asked {
            Some((flag, _)) => flag.load(Relaxed) && flag.swap(false, Relaxed),
            None => false,
        }
    }

    pub(crate) fn serving(&self) -> &Cell<bool> {
        &self.serving
    }
}

impl Drop for Attach {
    fn drop(&mut self) {
        if let Some((_, id)) = self.asked.take() {
            signal_hook::low_level::unregister(id);
        }
    }
}
