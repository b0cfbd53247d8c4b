//! The waker census: the wakers weft's own primitives hold right now (`WakerSlot`), and what
//! each waits on, which the deadlock proof and the task dump read; and the scheduling groups
//! of a seeded runtime.
//!
//! It lives below the executor: the running executor makes its census this thread's current
//! one ([`enter`]), and a `WakerSlot` finds it here, with no import of the executor.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::task::{RawWakerVTable, Waker};

use slab::Slab;

use super::WaitOn;
use crate::task::raw::task_waker_runtime;

/// Wakes a waker within a scheduling group (a seeded runtime's shuffle).
pub(crate) type GroupedWake = Rc<dyn Fn(u64, Waker)>;

thread_local! {
    /// The census of the runtime whose loop runs on this thread.
    static CURRENT: RefCell<Option<Rc<HeldWakers>>> = const { RefCell::new(None) };
}

/// Makes `census` this thread's current one until the guard drops.
pub(crate) fn enter(census: Rc<HeldWakers>) -> CensusGuard {
    CensusGuard(CURRENT.with(|current| current.replace(Some(census))))
}

/// Puts the census that was current before back.
pub(crate) struct CensusGuard(Option<Rc<HeldWakers>>);

impl Drop for CensusGuard {
    fn drop(&mut self) {
        let previous = self.0.take();
        let _ = CURRENT.try_with(|current| current.replace(previous));
    }
}

/// The census of the runtime running on this thread, if `waker` wakes one of its tasks or its
/// main future.
pub(crate) fn owning(waker: &Waker) -> Option<Rc<HeldWakers>> {
    CURRENT
        .try_with(|current| {
            current
                .borrow()
                .as_ref()
                .filter(|census| census.owns(waker))
                .cloned()
        })
        .ok()
        .flatten()
}

/// The wakers held inside weft's primitives, by the address of what they wake (a task
/// header, or the main future's waker data). The addresses are only compared, never read; a
/// held waker keeps its task's cell alive, so an address cannot be reused while it is here.
pub(crate) struct HeldWakers {
    targets: RefCell<Slab<(usize, WaitOn)>>,
    /// The runtime whose wakers these are.
    runtime_id: u32,
    /// The data and vtable pointers of the main future's waker during `block_on`, to
    /// recognise it (compared, never dereferenced).
    main_waker: Cell<Option<(*const (), *const RawWakerVTable)>>,
    /// A seeded runtime's grouped wake, which keeps the waiters one resource wakes in one
    /// round in the order it woke them.
    grouped: Option<GroupedWake>,
}

impl HeldWakers {
    pub(crate) fn new(runtime_id: u32, grouped: Option<GroupedWake>) -> HeldWakers {
        HeldWakers {
            targets: RefCell::default(),
            runtime_id,
            main_waker: Cell::new(None),
            grouped,
        }
    }

    /// Remembers which waker is the main future's, or forgets it (`None`).
    pub(crate) fn set_main_waker(&self, waker: Option<&Waker>) {
        self.main_waker
            .set(waker.map(|w| (w.data(), w.vtable() as *const RawWakerVTable)));
    }

    /// The address the main future's waker points at, during `block_on`.
    pub(crate) fn main_waker_target(&self) -> Option<usize> {
        self.main_waker.get().map(|(data, _)| data as usize)
    }

    /// Whether `waker` wakes one of this runtime's tasks or its main future.
    pub(crate) fn owns(&self, waker: &Waker) -> bool {
        task_waker_runtime(waker) == Some(self.runtime_id)
            || self.main_waker.get()
                == Some((waker.data(), waker.vtable() as *const RawWakerVTable))
    }

    /// Wakes `waker`, held under `key`, and forgets it. In a seeded runtime the tasks one
    /// resource wakes keep their order (the FIFO its waiters were served in): a resource's
    /// address, with the top bit set, is their scheduling group.
    pub(crate) fn wake(&self, key: usize, waker: Waker) {
        let (_, what) = self.targets.borrow_mut().remove(key);
        match &self.grouped {
            None => waker.wake(),
            Some(grouped) => wake_in_group(grouped, &what, waker),
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
fn wake_in_group(grouped: &GroupedWake, what: &WaitOn, waker: Waker) {
    let group = (Rc::as_ptr(&what.resource) as u64) | 1 << 63;
    grouped(group, waker);
}
