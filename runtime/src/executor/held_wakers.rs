//! The wakers weft's own primitives hold right now (`WakerSlot`), and what each waits on: the
//! census the deadlock proof and the task dump read, and the scheduling groups of a seeded
//! runtime.

use std::cell::RefCell;
use std::rc::Rc;
use std::task::Waker;

use slab::Slab;

use super::shuffle::Shuffle;
use crate::waiters::WaitOn;

/// The wakers held inside weft's primitives, by the address of what they wake (a task
/// header, or the main future's waker data). The addresses are only compared, never read; a
/// held waker keeps its task's cell alive, so an address cannot be reused while it is here.
pub(crate) struct HeldWakers {
    targets: RefCell<Slab<(usize, WaitOn)>>,
    /// A seeded runtime's shuffle, which keeps the waiters one resource wakes in one round
    /// in the order it woke them.
    shuffle: Option<Rc<Shuffle>>,
}

impl HeldWakers {
    pub(crate) fn new(shuffle: Option<Rc<Shuffle>>) -> HeldWakers {
        HeldWakers {
            targets: RefCell::default(),
            shuffle,
        }
    }

    /// Wakes `waker`, held under `key`, and forgets it. In a seeded runtime the tasks one
    /// resource wakes keep their order (the FIFO its waiters were served in): a resource's
    /// address, with the top bit set, is their scheduling group.
    pub(crate) fn wake(&self, key: usize, waker: Waker) {
        let (_, what) = self.targets.borrow_mut().remove(key);
        match &self.shuffle {
            None => waker.wake(),
            Some(shuffle) => wake_in_group(shuffle, &what, waker),
        }
    }

    /// Notes a held waker, which waits on `what`.
    pub(crate) fn insert(&self, waker: &Waker, what: &WaitOn) -> usize {
        self.targets
            .borrow_mut()
            .insert((waker.data() as usize, what.clone()))
    }

    /// Calls `f` with each held waker's target address and what it waits on.
    pub(crate) fn for_each(&self, mut f: impl FnMut(usize, &WaitOn)) {
        for (_, (target, what)) in self.targets.borrow().iter() {
            f(*target, what);
        }
    }

    pub(crate) fn remove(&self, key: usize) {
        self.targets.borrow_mut().remove(key);
    }

    /// How many held wakers wake one of `live` (task or main future addresses).
    pub(crate) fn count_waking(&self, live: &std::collections::HashSet<usize>) -> usize {
        self.targets
            .borrow()
            .iter()
            .filter(|(_, (target, _))| live.contains(target))
            .count()
    }
}

/// Wakes `waker` in the scheduling group of the resource it waited on. Out of line: only a
/// seeded runtime comes here, and inlined it would crowd the hot paths of every primitive
/// out of the inliner's budget (an uncontended lock then paid a call for its thread-local).
#[cold]
#[inline(never)]
fn wake_in_group(shuffle: &Shuffle, what: &WaitOn, waker: Waker) {
    let group = (Rc::as_ptr(&what.resource) as u64) | 1 << 63;
    shuffle.in_group(group, || waker.wake());
}
