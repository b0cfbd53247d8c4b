//! `RwLock<T>`: many readers or one writer.

use std::cell::{Ref, RefCell, RefMut};
use std::fmt;
use std::future::Future;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use super::semaphore::{Permits, SemaphoreCore};

/// Readers each take one permit; a writer takes them all.
const MAX_READERS: usize = u32::MAX as usize;

/// An async reader-writer lock: any number of readers at once, or one writer. Requests are
/// served first come, first served, so a waiting writer is not starved by a stream of new
/// readers (they queue behind it). Python has no counterpart in its standard library. A clone
/// is another handle to the same lock and value, as with every weft primitive.
///
/// ```
/// use weft::sync::RwLock;
///
/// weft::run(async {
///     let config = RwLock::new(String::from("v1"));
///     {
///         let (a, b) = (config.read().await, config.read().await); // readers share
///         assert_eq!((a.as_str(), b.as_str()), ("v1", "v1"));
///     }
///     config.write().await.push_str("-patched");
///     assert_eq!(*config.read().await, "v1-patched");
/// });
/// ```
pub struct RwLock<T: ?Sized> {
    inner: Rc<Shared<T>>,
}

/// The lock and its value, shared by every handle.
struct Shared<T: ?Sized> {
    semaphore: SemaphoreCore,
    value: RefCell<T>,
}

impl<T> RwLock<T> {
    /// An unlocked lock holding `value`.
    #[track_caller]
    pub fn new(value: T) -> RwLock<T> {
        RwLock {
            inner: Rc::new(Shared {
                semaphore: SemaphoreCore::new(
                    MAX_READERS,
                    crate::waiters::Resource::new("RwLock"),
                    "read or write",
                ),
                value: RefCell::new(value),
            }),
        }
    }

    /// The value, consuming the lock; gives the handle back while other handles exist.
    pub fn into_inner(self) -> Result<T, RwLock<T>> {
        Rc::try_unwrap(self.inner)
            .map(|shared| shared.value.into_inner())
            .map_err(|inner| RwLock { inner })
    }
}

impl<T: ?Sized> RwLock<T> {
    /// Waits for shared access.
    pub fn read(&self) -> Read<'_, T> {
        Read {
            lock: self,
            permits: self.inner.semaphore.acquire(1),
        }
    }

    /// Waits for exclusive access.
    pub fn write(&self) -> Write<'_, T> {
        Write {
            lock: self,
            permits: self.inner.semaphore.acquire(MAX_READERS),
        }
    }

    /// Shared access now, or `None`.
    pub fn try_read(&self) -> Option<ReadGuard<'_, T>> {
        self.inner.semaphore.try_acquire(1).then(|| ReadGuard {
            lock: self,
            value: self.inner.value.borrow(),
        })
    }

    /// Exclusive access now, or `None`.
    pub fn try_write(&self) -> Option<WriteGuard<'_, T>> {
        self.inner
            .semaphore
            .try_acquire(MAX_READERS)
            .then(|| WriteGuard {
                lock: self,
                value: self.inner.value.borrow_mut(),
            })
    }

    /// The value, through `&mut self`, if this is its only handle.
    pub fn get_mut(&mut self) -> Option<&mut T> {
        Rc::get_mut(&mut self.inner).map(|shared| shared.value.get_mut())
    }
}

impl<T: ?Sized> Clone for RwLock<T> {
    fn clone(&self) -> Self {
        RwLock {
            inner: self.inner.clone(),
        }
    }
}

impl<T: ?Sized> fmt::Debug for RwLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RwLock").finish_non_exhaustive()
    }
}

/// The future of [`RwLock::read`]. Dropping it before it completes gives back what it was
/// granted.
#[must_use = "futures do nothing unless awaited"]
pub struct Read<'a, T: ?Sized> {
    lock: &'a RwLock<T>,
    permits: Permits<'a>,
}

impl<'a, T: ?Sized> Future for Read<'a, T> {
    type Output = ReadGuard<'a, T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<ReadGuard<'a, T>> {
        let lock = self.lock;
        Pin::new(&mut self.permits).poll(cx).map(|()| ReadGuard {
            lock,
            value: lock.inner.value.borrow(),
        })
    }
}

/// The future of [`RwLock::write`]. Dropping it before it completes gives back what it was
/// granted, so a cancelled writer does not hold readers back.
#[must_use = "futures do nothing unless awaited"]
pub struct Write<'a, T: ?Sized> {
    lock: &'a RwLock<T>,
    permits: Permits<'a>,
}

impl<'a, T: ?Sized> Future for Write<'a, T> {
    type Output = WriteGuard<'a, T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<WriteGuard<'a, T>> {
        let lock = self.lock;
        Pin::new(&mut self.permits).poll(cx).map(|()| WriteGuard {
            lock,
            value: lock.inner.value.borrow_mut(),
        })
    }
}

/// Shared access to an [`RwLock`]'s value.
pub struct ReadGuard<'a, T: ?Sized> {
    lock: &'a RwLock<T>,
    value: Ref<'a, T>,
}

/// Exclusive access to an [`RwLock`]'s value.
pub struct WriteGuard<'a, T: ?Sized> {
    lock: &'a RwLock<T>,
    value: RefMut<'a, T>,
}

impl<T: ?Sized> Deref for ReadGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T: ?Sized> Deref for WriteGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T: ?Sized> DerefMut for WriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.value
    }
}

impl<T: ?Sized> Drop for ReadGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.inner.semaphore.release(1);
    }
}

impl<T: ?Sized> Drop for WriteGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.inner.semaphore.release(MAX_READERS);
    }
}
