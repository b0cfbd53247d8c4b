//! What a waiter waits on, for the task dump and the deadlock report: the resource's kind, a
//! number, where it was created, and (in debug mode) which tasks hold it.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::panic::Location;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::task::TaskId;

thread_local! {
    /// Numbers resources as they are created on this thread (`Mutex#3`).
    static NEXT_NUMBER: Cell<u64> = const { Cell::new(1) };
    /// Whether the runtime running on this thread records who holds locks and permits: in
    /// debug mode, or with the flight recorder on. Read on every acquire, so a `const` cell.
    static TRACK_HOLDERS: Cell<bool> = const { Cell::new(false) };
}

/// Whether any thread has ever turned holder tracking on. Every acquire and release reads
/// it first: a plain load of a global, where the thread-local takes a call to its accessor
/// whenever the inliner runs out of budget (an uncontended lock paid 40% for that call).
static TRACKING_ANYWHERE: AtomicBool = AtomicBool::new(false);

/// Turns holder tracking on or off for this thread; returns what it was.
pub(crate) fn set_tracking(on: bool) -> bool {
    if on {
        TRACKING_ANYWHERE.store(true, Ordering::Relaxed);
    }
    TRACK_HOLDERS.with(|track| track.replace(on))
}

/// Whether this thread's runtime records who holds locks and permits.
#[inline]
fn tracking() -> bool {
    TRACKING_ANYWHERE.load(Ordering::Relaxed) && TRACK_HOLDERS.with(Cell::get)
}

/// One lock, queue, channel or other thing tasks wait on.
pub(crate) struct Resource {
    kind: &'static str,
    number: u64,
    created_at: &'static Location<'static>,
    /// The tasks holding it (a lock's owner, a semaphore's permit holders), in the order they
    /// took it; kept only while holder tracking is on.
    holders: RefCell<Vec<TaskId>>,
    /// A lock's owner as its waker's data pointer (a task cell's address, which the dump
    /// turns into a task id), kept always: one store per acquire, so that `weft-ps` can show
    /// a lock cycle in a program nobody prepared. 0: free, or owner unknown.
    owner: Cell<usize>,
}

impl Resource {
    /// A new resource of `kind` ("Mutex", "Queue"), created where the caller was called.
    #[track_caller]
    pub(crate) fn new(kind: &'static str) -> Rc<Resource> {
        let number = NEXT_NUMBER.with(|next| next.replace(next.get() + 1));
        Rc::new(Resource {
            kind,
            number,
            created_at: Location::caller(),
            holders: RefCell::new(Vec::new()),
            owner: Cell::new(0),
        })
    }

    /// The current task took it (a lock, a permit), if holders are tracked.
    #[inline]
    pub(crate) fn taken(&self) {
        if tracking() {
            self.note_taken();
        }
    }

    #[cold]
    fn note_taken(&self) {
        if let Some(task) = crate::task::try_id() {
            self.holders.borrow_mut().push(task);
        }
    }

    /// It was given back (by the current task if it holds it, else by its oldest holder:
    /// permits can be handed from task to task).
    #[inline]
    pub(crate) fn given_back(&self) {
        if tracking() {
            self.note_given_back();
        }
    }

    #[cold]
    fn note_given_back(&self) {
        let mut holders = self.holders.borrow_mut();
        let current = crate::task::try_id();
        match holders.iter().position(|&h| Some(h) == current) {
            Some(i) => {
                holders.remove(i);
            }
            None if !holders.is_empty() => {
                holders.remove(0);
            }
            None => {}
        }
    }

    /// Records `holder` as the only holder (a lock that tracks its owner anyway).
    pub(crate) fn set_holder(&self, holder: Option<TaskId>) {
        let mut holders = self.holders.borrow_mut();
        holders.clear();
        holders.extend(holder);
    }

    /// Notes the lock's owner by its waker's data pointer (0: released, or unknown).
    #[inline]
    pub(crate) fn set_owner(&self, waker_data: usize) {
        self.owner.set(waker_data);
    }

    /// The owner `set_owner` noted.
    pub(crate) fn owner(&self) -> usize {
        self.owner.get()
    }

    /// `Mutex#3`.
    pub(crate) fn label(&self) -> String {
        format!("{}#{}", self.kind, self.number)
    }

    pub(crate) fn created_at(&self) -> &'static Location<'static> {
        self.created_at
    }

    pub(crate) fn holders(&self) -> Vec<TaskId> {
        self.holders.borrow().clone()
    }
}

impl fmt::Debug for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label())
    }
}

/// An operation on a resource that a waiter waits to complete: `Queue#3` and `put`.
#[derive(Clone, Debug)]
pub(crate) struct WaitOn {
    pub(crate) resource: Rc<Resource>,
    pub(crate) op: &'static str,
}

impl WaitOn {
    pub(crate) fn new(resource: &Rc<Resource>, op: &'static str) -> WaitOn {
        WaitOn {
            resource: resource.clone(),
            op,
        }
    }
}
