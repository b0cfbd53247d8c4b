//! `RLock`: a lock its holder may take again.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::wait_list::WaitList;
use crate::task::{self, TaskId};

/// A re-entrant lock: Python's `threading.RLock`. The task that holds it may
/// [`acquire`](RLock::acquire) it again; each acquire needs one [`release`](RLock::release),
/// and the lock is free when the count is back to zero. Ownership belongs to the *task* (or
/// the main future) — the async counterpart of Python's thread. Releasing a lock the current
/// task does not hold is an error ([`RLockError::NotOwner`]), not a panic.
///
/// Waiters are served first come, first served; the lock is handed directly to the next one.
///
/// ```
/// use std::rc::Rc;
/// use weft::sync::RLock;
///
/// async fn log_twice(lock: &RLock) {
///     lock.acquire().await;
///     log_once(lock).await; // takes the lock again: fine for the same task
///     lock.release().unwrap();
/// }
///
/// async fn log_once(lock: &RLock) {
///     lock.acquire().await;
///     lock.release().unwrap();
/// }
///
/// weft::run(async {
///     let lock = Rc::new(RLock::new());
///     log_twice(&lock).await;
///     let other = weft::spawn({
///         let lock = lock.clone();
///         async move { lock.release() } // not the owner (nobody is)
///     });
///     assert!(other.await.unwrap().is_err());
/// });
/// ```
#[derive(Default)]
pub struct RLock {
    state: RefCell<State>,
}

#[derive(Default)]
struct State {
    owner: Option<TaskId>,
    count: usize,
    /// Each waiter's value is its task, to hand the lock to.
    waiters: WaitList<TaskId>,
}

impl RLock {
    /// An unlocked re-entrant lock.
    pub fn new() -> RLock {
        RLock::default()
    }

    /// Waits for the lock, or takes it again if this task holds it.
    ///
    /// # Panics
    /// Outside a runtime (ownership needs a current task).
    pub fn acquire(&self) -> Acquire<'_> {
        Acquire {
            lock: self,
            me: task::id(),
            key: None,
        }
    }

    /// Takes the lock now if it is free or ours; false otherwise.
    pub fn try_acquire(&self) -> bool {
        let me = task::id();
        let mut state = self.state.borrow_mut();
        match state.owner {
            Some(owner) if owner == me => state.count += 1,
            None if state.waiters.is_empty() => {
                state.owner = Some(me);
                state.count = 1;
            }
            _ => return false,
        }
        true
    }

    /// Releases one level; at zero the lock goes to the longest waiting task.
    pub fn release(&self) -> Result<(), RLockError> {
        let me = task::id();
        let mut state = self.state.borrow_mut();
        match state.owner {
            None => Err(RLockError::NotLocked),
            Some(owner) if owner != me => Err(RLockError::NotOwner),
            Some(_) => {
                state.count -= 1;
                if state.count == 0 {
                    state.hand_over();
                }
                Ok(())
            }
        }
    }

    /// Whether the current task holds the lock.
    pub fn is_owned(&self) -> bool {
        task::try_id().is_some_and(|me| self.state.borrow().owner == Some(me))
    }

    /// Whether any task holds the lock.
    pub fn is_locked(&self) -> bool {
        self.state.borrow().owner.is_some()
    }
}

impl State {
    fn hand_over(&mut self) {
        self.owner = None;
        if let Some((key, &next)) = self.waiters.first_waiting() {
            self.owner = Some(next);
            self.count = 1;
            self.waiters.notify(key);
        }
    }
}

impl fmt::Debug for RLock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.borrow();
        f.debug_struct("RLock")
            .field("owner", &state.owner)
            .field("count", &state.count)
            .finish()
    }
}

/// The future of [`RLock::acquire`]. Dropped after the lock was handed to it, it hands the
/// lock on.
#[must_use = "futures do nothing unless awaited"]
pub struct Acquire<'a> {
    lock: &'a RLock,
    me: TaskId,
    key: Option<usize>,
}

impl Future for Acquire<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let (lock, me) = (self.lock, self.me);
        let mut state = lock.state.borrow_mut();
        if self.key.is_some() {
            return state
                .waiters
                .poll_notified(&mut self.key, cx.waker())
                .map(drop);
        }
        match state.owner {
            Some(owner) if owner == me => {
                state.count += 1;
                Poll::Ready(())
            }
            None if state.waiters.is_empty() => {
                state.owner = Some(me);
                state.count = 1;
                Poll::Ready(())
            }
            _ => {
                self.key = Some(state.waiters.push(Some(cx.waker()), me));
                Poll::Pending
            }
        }
    }
}

impl Drop for Acquire<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key {
            let mut state = self.lock.state.borrow_mut();
            if state.waiters.remove(key).0 {
                state.hand_over(); // it was ours: pass it on
            }
        }
    }
}

/// Misuse of an [`RLock`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RLockError {
    /// Released while nobody holds it.
    NotLocked,
    /// Released by a task that does not hold it.
    NotOwner,
}

impl fmt::Display for RLockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RLockError::NotLocked => f.write_str("cannot release an RLock that is not locked"),
            RLockError::NotOwner => f.write_str("cannot release an RLock held by another task"),
        }
    }
}

impl std::error::Error for RLockError {}
