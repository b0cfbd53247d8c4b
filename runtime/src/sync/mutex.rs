//! `Mutex<T>`: Python's `Lock`, holding the data it protects.

use std::cell::{RefCell, RefMut};
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::rc::Rc;

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::semaphore::{Permits, SemaphoreCore};
use crate::waiters::Resource;

/// An async mutual-exclusion lock around a value: Python's `threading.Lock` /
/// `asyncio.Lock` (use `Mutex<()>` for a bare lock), gevent's `Semaphore(1)`.
///
/// [`lock`](Mutex::lock) waits, first come first served, and returns a guard; dropping the
/// guard releases the lock (Python's `async with lock:`). Releasing a lock you do not hold,
/// Python's `RuntimeError`, cannot be written: only the guard releases. Hold the guard across
/// an `.await` freely — that is what an async mutex is for.
///
/// Like every weft primitive, a `Mutex` is a handle: a clone is another name for the same lock
/// and its value, as a Python lock object is, so "make it, hand it to the workers" reads the
/// same as in Python, with no `Rc` around it.
///
/// A [`MutexGuard`] borrows its `Mutex`. To acquire in one task and release in another (as
/// `asyncio.Lock` allows), take an [`OwnedMutexGuard`] with
/// [`lock_owned`](Mutex::lock_owned) and move it into the other task (tokio's `lock_owned`).
///
/// ```
/// use weft::sync::Mutex;
///
/// weft::run(async {
///     let balance = Mutex::new(100);
///     let spenders: Vec<_> = (0..4)
///         .map(|_| {
///             let balance = balance.clone();
///             weft::spawn(async move {
///                 let mut b = balance.lock().await;
///                 let seen = *b;
///                 weft::task::yield_now().await; // others run, but cannot touch the balance
///                 *b = seen - 10;
///             })
///         })
///         .collect();
///     for s in spenders {
///         s.await.unwrap();
///     }
///     assert_eq!(*balance.lock().await, 60);
/// });
/// ```
pub struct Mutex<T> {
    inner: Rc<Shared<T>>,
}

/// The lock and its value, shared by every handle.
struct Shared<T> {
    semaphore: SemaphoreCore,
    /// `None` only while an [`OwnedMutexGuard`] has the value (it holds the lock then, so no
    /// one else looks).
    value: RefCell<Option<T>>,
}

/// The value's slot is empty while an owned guard has the value: never seen, since only the
/// lock's holder looks. Out of line, so that the lock's fast path stays small enough to
/// inline (with the panic's message inline, an uncontended lock cost half again as many
/// instructions: callgrind, scripts/callgrind lock).
#[cold]
#[inline(never)]
fn held_by_owned_guard() -> ! {
    panic!("the Mutex's value is with its OwnedMutexGuard")
}

impl<T> Mutex<T> {
    /// An unlocked mutex holding `value`.
    #[track_caller]
    pub fn new(value: T) -> Mutex<T> {
        Mutex {
            inner: Rc::new(Shared {
                semaphore: SemaphoreCore::new(1, Resource::new("Mutex"), "lock"),
                value: RefCell::new(Some(value)),
            }),
        }
    }

    /// The value, consuming the mutex; gives the handle back while other handles exist.
    pub fn into_inner(self) -> Result<T, Mutex<T>> {
        Rc::try_unwrap(self.inner)
            .map(|shared| {
                shared
                    .value
                    .into_inner()
                    .unwrap_or_else(|| held_by_owned_guard())
            })
            .map_err(|inner| Mutex { inner })
    }
}

impl<T> Mutex<T> {
    /// Waits for the lock.
    pub fn lock(&self) -> Lock<'_, T> {
        Lock {
            mutex: self,
            acquire: self.inner.semaphore.acquire(1),
        }
    }

    /// The lock now, or `None` if it is held (or others wait for it).
    pub fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
        self.inner.semaphore.try_acquire(1).then(|| {
            // No waker here to name the owner by.
            self.inner.semaphore.resource().set_owner(0);
            self.guard()
        })
    }

    /// Whether some guard holds the lock.
    pub fn is_locked(&self) -> bool {
        self.inner.semaphore.available() == 0
    }

    /// The value, through `&mut self` (no locking needed), if this is its only handle.
    pub fn get_mut(&mut self) -> Option<&mut T> {
        Rc::get_mut(&mut self.inner).map(|shared| {
            shared
                .value
                .get_mut()
                .as_mut()
                .unwrap_or_else(|| held_by_owned_guard())
        })
    }

    /// Whether `self` and `other` are handles to the same mutex.
    pub fn same_as(&self, other: &Mutex<T>) -> bool {
        Rc::ptr_eq(&self.inner, &other.inner)
    }

    /// Waits for the lock, and returns a guard that owns a handle to the mutex rather than
    /// borrowing it: it can move into another task, which then releases the lock when it
    /// drops the guard (`asyncio.Lock` lets any task release). tokio's `lock_owned`.
    ///
    /// ```
    /// use weft::sync::Mutex;
    ///
    /// weft::run(async {
    ///     let log = Mutex::new(Vec::new());
    ///     let mut held = log.lock_owned().await;
    ///     held.push("taken by main");
    ///     // The child finishes the work and releases the lock.
    ///     let child = weft::spawn(async move {
    ///         held.push("released by the child");
    ///     });
    ///     child.await.unwrap();
    ///     assert_eq!(*log.lock().await, ["taken by main", "released by the child"]);
    /// });
    /// ```
    pub fn lock_owned(&self) -> impl Future<Output = OwnedMutexGuard<T>> + 'static
    where
        T: 'static,
    {
        let mutex = self.clone();
        async move {
            mutex.inner.semaphore.acquire(1).await;
            std::future::poll_fn(|cx| {
                mutex.owned_by(cx);
                Poll::Ready(())
            })
            .await;
            mutex.owned_guard()
        }
    }

    /// The lock now as an [`OwnedMutexGuard`], or `None` if it is held (or others wait).
    pub fn try_lock_owned(&self) -> Option<OwnedMutexGuard<T>> {
        self.inner.semaphore.try_acquire(1).then(|| {
            self.inner.semaphore.resource().set_owner(0);
            self.clone().owned_guard()
        })
    }

    #[inline]
    fn guard(&self) -> MutexGuard<'_, T> {
        MutexGuard {
            mutex: self,
            value: RefMut::map(self.inner.value.borrow_mut(), |value| {
                value.as_mut().unwrap_or_else(|| held_by_owned_guard())
            }),
        }
    }

    /// Takes the value out for an owned guard; the lock is held.
    /// Notes the task polling `cx` as the owner, for task dumps (`Resource::set_owner`).
    #[inline]
    fn owned_by(&self, cx: &Context<'_>) {
        self.inner
            .semaphore
            .resource()
            .set_owner(cx.waker().data() as usize);
    }

    /// Gives the lock back. The owner noted stays: nobody can wait on a free lock (the next
    /// waiter gets it and notes itself), and `try_lock` notes "unknown".
    fn released(&self) {
        self.inner.semaphore.release(1);
    }

    fn owned_guard(self) -> OwnedMutexGuard<T> {
        let value = self.inner.value.borrow_mut().take();
        OwnedMutexGuard { mutex: self, value }
    }
}

impl<T> Clone for Mutex<T> {
    fn clone(&self) -> Self {
        Mutex {
            inner: self.inner.clone(),
        }
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Self {
        Mutex::new(T::default())
    }
}

impl<T> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mutex")
            .field("locked", &self.is_locked())
            .finish_non_exhaustive()
    }
}

/// The future of [`Mutex::lock`]. Dropping it before it completes passes the lock on if it had
/// been handed to it.
#[must_use = "futures do nothing unless awaited"]
pub struct Lock<'a, T> {
    mutex: &'a Mutex<T>,
    acquire: Permits<'a>,
}

impl<'a, T> Future for Lock<'a, T> {
    type Output = MutexGuard<'a, T>;

    #[inline]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<MutexGuard<'a, T>> {
        let mutex = self.mutex;
        Pin::new(&mut self.acquire).poll(cx).map(|()| {
            mutex.owned_by(cx);
            mutex.guard()
        })
    }
}

/// Access to a [`Mutex`]'s value; the lock is released when it drops.
pub struct MutexGuard<'a, T> {
    mutex: &'a Mutex<T>,
    value: RefMut<'a, T>,
}

impl<T> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.value
    }
}

impl<T> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        // The `RefMut` field is dropped right after this, before any woken waiter can run.
        self.mutex.released();
    }
}

impl<T: fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.value, f)
    }
}

/// Access to a [`Mutex`]'s value that owns a handle to the mutex, so it can move into another
/// task: [`Mutex::lock_owned`]. The lock is released when it drops, wherever that is.
pub struct OwnedMutexGuard<T> {
    mutex: Mutex<T>,
    /// The value, taken out of the mutex while the lock is held; `None` only in `drop`.
    value: Option<T>,
}

impl<T> Deref for OwnedMutexGuard<T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.value.as_ref().unwrap_or_else(|| held_by_owned_guard())
    }
}

impl<T> DerefMut for OwnedMutexGuard<T> {
    fn deref_mut(&mut self) -> &mut T {
        self.value.as_mut().unwrap_or_else(|| held_by_owned_guard())
    }
}

impl<T> Drop for OwnedMutexGuard<T> {
    fn drop(&mut self) {
        // The value goes back before the next holder is woken.
        *self.mutex.inner.value.borrow_mut() = self.value.take();
        self.mutex.released();
    }
}

impl<T: fmt::Debug> fmt::Debug for OwnedMutexGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}
