//! `RLock`: a lock its holder may take again.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use crate::task::{self, TaskId};
use crate::waiters::{Resource, WaitList};

/// A re-entrant lock: Python's `threading.RLock`. The task that holds it may
/// [`acquire`](RLock::acquire) it again; each acquire gives an [`RLockGuard`], and the lock
/// is free when every guard is dropped. Ownership belongs to the *task* (or the main future),
/// the async counterpart of Python's thread.
///
/// Like [`Mutex`](super::Mutex), the lock is released by dropping its guard, so a release can
/// neither be forgotten nor done by a task that does not hold the lock. Python's
/// `with lock:` is a block that holds the guard; its `acquire()`/`release()` pair is
/// `let guard = lock.acquire().await;` ... `drop(guard);`.
///
/// Waiters are served first come, first served; the lock is handed directly to the next one.
/// A clone is another handle to the same lock, as with every weft primitive.
///
/// ```
/// use weft::sync::RLock;
///
/// // Python:                              weft:
/// //   def log_twice(lock):
/// //       with lock:                     let _held = lock.acquire().await;
/// //           log_once(lock)             log_once(lock).await;
/// async fn log_twice(lock: &RLock) {
///     let _held = lock.acquire().await;
///     log_once(lock).await; // takes the lock again: fine for the same task
/// }
///
/// async fn log_once(lock: &RLock) {
///     let _held = lock.acquire().await;
///     assert!(lock.is_owned());
/// }
///
/// weft::run(async {
///     let lock = RLock::new();
///     log_twice(&lock).await;
///     assert!(!lock.is_locked()); // both guards are gone
///     let other = weft::spawn({
///         let lock = lock.clone();
///         async move { lock.try_acquire().is_some() }
///     });
///     let held = lock.acquire().await;
///     assert!(!other.await.unwrap()); // another task cannot take it while we hold it
///     drop(held);
/// });
/// ```
#[derive(Clone)]
pub struct RLock {
    state: Rc<RefCell<State>>,
}

struct State {
    owner: Option<TaskId>,
    /// What the task dump calls this lock; its holder is `owner`.
    resource: Rc<Resource>,
    count: usize,
    /// Each waiter's value is its task, to hand the lock to.
    waiters: WaitList<TaskId>,
}

impl Default for RLock {
    #[track_caller]
    fn default() -> RLock {
        RLock::new()
    }
}

impl RLock {
    /// An unlocked re-entrant lock.
    #[track_caller]
    pub fn new() -> RLock {
        let resource = Resource::new("RLock");
        RLock {
            state: Rc::new(RefCell::new(State {
                owner: None,
                count: 0,
                waiters: WaitList::new(&resource, "acquire"),
                resource,
            })),
        }
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

    /// Like [`acquire`](RLock::acquire), but the guard owns a handle to the lock instead of
    /// borrowing it, so it can move into another task and be released there. The lock stays
    /// the acquiring task's (that task may take it again) until the guard drops.
    ///
    /// ```
    /// use weft::sync::RLock;
    ///
    /// weft::run(async {
    ///     let lock = RLock::new();
    ///     let held = lock.acquire_owned().await;
    ///     weft::spawn(async move { drop(held) }).await.unwrap(); // released by the child
    ///     assert!(!lock.is_locked());
    /// });
    /// ```
    ///
    /// # Panics
    /// Outside a runtime, as `acquire`.
    pub fn acquire_owned(&self) -> impl Future<Output = OwnedRLockGuard> + 'static {
        let (lock, me) = (self.clone(), task::id());
        async move {
            Acquire {
                lock: &lock,
                me,
                key: None,
            }
            .await
            .into_owned()
        }
    }

    /// Takes the lock now if it is free or ours; `None` otherwise.
    pub fn try_acquire(&self) -> Option<RLockGuard<'_>> {
        let me = task::id();
        let mut state = self.state.borrow_mut();
        match state.owner {
            Some(owner) if owner == me => state.count += 1,
            None if state.waiters.is_empty() => {
                state.set_owner(Some(me));
                state.count = 1;
            }
            _ => return None,
        }
        Some(RLockGuard { lock: self })
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
    /// Records the lock's owner, for the lock and for the task dump.
    fn set_owner(&mut self, owner: Option<TaskId>) {
        self.owner = owner;
        self.resource.set_holder(owner);
    }

    fn hand_over(&mut self) {
        self.set_owner(None);
        if let Some((key, &next)) = self.waiters.first_waiting() {
            self.set_owner(Some(next));
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

impl<'a> Future for Acquire<'a> {
    type Output = RLockGuard<'a>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<RLockGuard<'a>> {
        let (lock, me) = (self.lock, self.me);
        let mut state = lock.state.borrow_mut();
        if self.key.is_some() {
            return state
                .waiters
                .poll_notified(&mut self.key, cx.waker())
                .map(|_| RLockGuard { lock });
        }
        match state.owner {
            Some(owner) if owner == me => {
                state.count += 1;
                Poll::Ready(RLockGuard { lock })
            }
            None if state.waiters.is_empty() => {
                state.set_owner(Some(me));
                state.count = 1;
                Poll::Ready(RLockGuard { lock })
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

/// One level of an [`RLock`], held by the task that acquired it; dropping it releases that
/// level, and the last one frees the lock for the longest waiting task.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct RLockGuard<'a> {
    lock: &'a RLock,
}

impl RLockGuard<'_> {
    /// This level of the lock, held through a handle of its own rather than a borrow.
    fn into_owned(self) -> OwnedRLockGuard {
        let lock = self.lock.clone();
        std::mem::forget(self); // its level passes to the owned guard
        OwnedRLockGuard { lock }
    }
}

impl Drop for RLockGuard<'_> {
    fn drop(&mut self) {
        self.lock.release_level();
    }
}

impl RLock {
    /// Gives back one level; the last one frees the lock for the longest waiting task.
    fn release_level(&self) {
        let mut state = self.state.borrow_mut();
        state.count -= 1;
        if state.count == 0 {
            state.hand_over();
        }
    }
}

/// One level of an [`RLock`] that owns a handle to the lock: [`RLock::acquire_owned`]. It can
/// move into another task; dropping it there releases the level.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct OwnedRLockGuard {
    lock: RLock,
}

impl Drop for OwnedRLockGuard {
    fn drop(&mut self) {
        self.lock.release_level();
    }
}

impl fmt::Debug for OwnedRLockGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedRLockGuard").finish_non_exhaustive()
    }
}

impl fmt::Debug for RLockGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RLockGuard").finish_non_exhaustive()
    }
}
