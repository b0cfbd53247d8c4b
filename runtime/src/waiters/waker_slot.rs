//! `WakerSlot`: a stored waker that the deadlock detector counts as held by weft.
//!
//! When nothing is ready and no timer or socket is registered, weft proves a deadlock by
//! checking that every waker of its tasks is held inside weft itself (see
//! `executor/deadlock.rs`). Every primitive in this crate stores its wakers in a `WakerSlot`,
//! which tells the runtime that owns the waker "this one is mine" while it is stored: so a
//! task waiting on an `Event` that nothing can ever set is reported, instead of hanging.

use std::rc::Rc;
use std::task::Waker;

use super::WaitOn;
use super::census::{self, HeldWakers};

#[derive(Default)]
pub(crate) struct WakerSlot {
    waker: Option<Waker>,
    /// Where this waker is registered as held by weft (its runtime's table, and its key).
    census: Option<(Rc<HeldWakers>, usize)>,
}

impl WakerSlot {
    pub(crate) fn new(waker: Option<&Waker>, what: &WaitOn) -> WakerSlot {
        let mut slot = WakerSlot::default();
        if let Some(waker) = waker {
            slot.set(waker, what);
        }
        slot
    }

    /// Stores `waker`, which waits on `what` (keeping the current one if it wakes the same
    /// task).
    pub(crate) fn set(&mut self, waker: &Waker, what: &WaitOn) {
        if self.waker.as_ref().is_some_and(|w| w.will_wake(waker)) {
            return;
        }
        self.release();
        self.census = census::owning(waker).map(|held| {
            let key = held.insert(waker, what);
            (held, key)
        });
        self.waker = Some(waker.clone());
    }

    /// Wakes the stored waker, if any, and empties the slot.
    pub(crate) fn wake(&mut self) {
        let census = self.census.take();
        match (self.waker.take(), census) {
            (Some(waker), Some((held, key))) => held.wake(key, waker),
            (Some(waker), None) => waker.wake(),
            (None, Some((held, key))) => held.remove(key),
            (None, None) => {}
        }
    }

    /// Wakes the stored waker and keeps it, for a slot its owner re-arms every time it waits
    /// (then re-arming with the same waker costs nothing).
    pub(crate) fn wake_by_ref(&self) {
        if let Some(waker) = &self.waker {
            waker.wake_by_ref();
        }
    }

    fn release(&mut self) {
        if let Some((held, key)) = self.census.take() {
            held.remove(key);
        }
    }
}

impl Drop for WakerSlot {
    fn drop(&mut self) {
        self.release();
    }
}
