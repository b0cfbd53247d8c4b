//! `Semaphore` and `BoundedSemaphore`, and the semaphore core that `Mutex` and `RwLock` are
//! built on.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use crate::waiters::{Resource, WaitList};

/// Permits and the FIFO of tasks waiting for them. The permit count and a "someone waits"
/// flag live in `Cell`s, so taking and returning permits while nobody waits touches no
/// `RefCell` at all.
pub(crate) struct SemaphoreCore {
    permits: Cell<usize>,
    /// Whether some waiter has not been granted its permits yet (mirrors the list).
    contended: Cell<bool>,
    /// Each waiter's value is how many permits it asked for.
    waiters: RefCell<WaitList<usize>>,
    /// What the task dump calls it, and who holds its permits.
    resource: Rc<Resource>,
}

impl SemaphoreCore {
    /// `permits` permits of the primitive `resource`, whose waiters wait for `op`.
    pub(crate) fn new(permits: usize, resource: Rc<Resource>, op: &'static str) -> SemaphoreCore {
        SemaphoreCore {
            permits: Cell::new(permits),
            contended: Cell::new(false),
            waiters: RefCell::new(WaitList::new(&resource, op)),
            resource,
        }
    }

    #[inline]
    pub(crate) fn available(&self) -> usize {
        self.permits.get()
    }

    /// Takes `n` permits now if that overtakes no waiter.
    #[inline]
    pub(crate) fn try_acquire(&self, n: usize) -> bool {
        let permits = self.permits.get();
        if self.contended.get() || permits < n {
            return false;
        }
        self.permits.set(permits - n);
        self.resource.taken();
        true
    }

    /// What its waiters wait on.
    pub(crate) fn resource(&self) -> &Resource {
        &self.resource
    }

    #[inline]
    pub(crate) fn acquire(&self, n: usize) -> Permits<'_> {
        Permits {
            core: self,
            need: n,
            key: None,
        }
    }

    /// Returns `n` permits and hands them to waiters, first come first served.
    #[inline]
    pub(crate) fn release(&self, n: usize) {
        self.resource.given_back();
        self.permits.set(self.permits.get() + n);
        if self.contended.get() {
            self.grant(&mut self.waiters.borrow_mut());
        }
    }

    /// Gives permits to the waiters at the front while there are enough for the first one (a
    /// large request at the front is not overtaken by smaller ones behind it).
    fn grant(&self, waiters: &mut WaitList<usize>) {
        while let Some((key, &need)) = waiters.first_waiting() {
            let permits = self.permits.get();
            if need > permits {
                break;
            }
            self.permits.set(permits - need);
            waiters.notify(key);
        }
        self.contended.set(waiters.waiting() > 0);
    }

    /// Permits granted to waiters that have not run yet.
    fn granted_unclaimed(&self) -> usize {
        self.waiters.borrow().notified_values().sum()
    }
}

/// Waits for permits. Dropping it gives back permits it was granted but did not report yet.
pub(crate) struct Permits<'a> {
    core: &'a SemaphoreCore,
    need: usize,
    key: Option<usize>,
}

impl Future for Permits<'_> {
    type Output = ();

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.key.is_none() && self.core.try_acquire(self.need) {
            return Poll::Ready(());
        }
        self.poll_waiting(cx)
    }
}

impl Permits<'_> {
    /// The rest of `poll`, when the permits were not free at once: join the queue, or see
    /// whether the turn came. Out of line, so that the free case (an uncontended lock) is a
    /// few instructions with no stack frame to set up for this one.
    #[inline(never)]
    fn poll_waiting(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let core = self.core;
        if self.key.is_none() {
            let key = core.waiters.borrow_mut().push(Some(cx.waker()), self.need);
            core.contended.set(true);
            self.key = Some(key);
            return Poll::Pending;
        }
        let mut waiters = core.waiters.borrow_mut();
        let granted = waiters.poll_notified(&mut self.key, cx.waker()).map(drop);
        if granted.is_ready() {
            core.resource.taken();
        }
        granted
    }
}

impl Drop for Permits<'_> {
    #[inline]
    fn drop(&mut self) {
        if let Some(key) = self.key {
            let core = self.core;
            let mut waiters = core.waiters.borrow_mut();
            let (granted, need) = waiters.remove(key);
            if granted {
                core.permits.set(core.permits.get() + need);
            }
            // Also when not granted: leaving the front may unblock smaller requests behind.
            core.grant(&mut waiters);
        }
    }
}

/// A counter of permits: Python's `threading.Semaphore` / `asyncio.Semaphore`, gevent's
/// `Semaphore`. Acquiring waits while no permit is free; waiters are served first come, first
/// served. A clone is another handle to the same semaphore.
///
/// [`acquire`](Semaphore::acquire) returns a [`Permit`] that gives the permit back when dropped
/// (Python's `async with sem:`); [`Permit::forget`] and [`Semaphore::release`] are the
/// explicit `acquire()`/`release()` style.
///
/// ```
/// use std::cell::Cell;
/// use std::rc::Rc;
/// use weft::sync::Semaphore;
///
/// weft::run(async {
///     let limit = Semaphore::new(2); // at most two downloads at once
///     let (running, most) = (Rc::new(Cell::new(0)), Rc::new(Cell::new(0)));
///     let tasks: Vec<_> = (0..6)
///         .map(|_| {
///             let (limit, running, most) = (limit.clone(), running.clone(), most.clone());
///             weft::spawn(async move {
///                 let _permit = limit.acquire().await;
///                 running.set(running.get() + 1);
///                 most.set(most.get().max(running.get()));
///                 weft::task::yield_now().await; // the "download"
///                 running.set(running.get() - 1);
///             })
///         })
///         .collect();
///     for t in tasks {
///         t.await.unwrap();
///     }
///     assert_eq!(most.get(), 2);
/// });
/// ```
#[derive(Clone)]
pub struct Semaphore {
    core: Rc<SemaphoreCore>,
}

impl Semaphore {
    /// A semaphore with `permits` permits.
    #[track_caller]
    pub fn new(permits: usize) -> Semaphore {
        Semaphore {
            core: Rc::new(SemaphoreCore::new(
                permits,
                Resource::new("Semaphore"),
                "acquire",
            )),
        }
    }

    /// Waits for a permit.
    #[inline]
    pub fn acquire(&self) -> Acquire<'_> {
        self.acquire_many(1)
    }

    /// Waits for `n` permits at once (taken together, never piecemeal).
    #[inline]
    pub fn acquire_many(&self, n: usize) -> Acquire<'_> {
        Acquire {
            semaphore: self,
            acquire: self.core.acquire(n),
        }
    }

    /// A permit now, or `None` if none is free (or others are already waiting).
    #[inline]
    pub fn try_acquire(&self) -> Option<Permit> {
        self.try_acquire_many(1)
    }

    /// `n` permits now, or `None`.
    #[inline]
    pub fn try_acquire_many(&self, n: usize) -> Option<Permit> {
        self.core.try_acquire(n).then(|| Permit {
            semaphore: self.clone(),
            count: n,
        })
    }

    /// Adds `n` permits (Python's `release(n)`), waking waiters.
    pub fn release(&self, n: usize) {
        self.core.release(n);
    }

    /// How many permits are free.
    pub fn available_permits(&self) -> usize {
        self.core.available()
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Semaphore")
            .field("available", &self.available_permits())
            .finish()
    }
}

/// The future of [`Semaphore::acquire`] and [`Semaphore::acquire_many`]. Dropping it before it
/// completes gives back any permits it was granted.
#[must_use = "futures do nothing unless awaited"]
pub struct Acquire<'a> {
    semaphore: &'a Semaphore,
    acquire: Permits<'a>,
}

impl Future for Acquire<'_> {
    type Output = Permit;

    #[inline]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Permit> {
        let count = self.acquire.need;
        let semaphore = self.semaphore;
        Pin::new(&mut self.acquire).poll(cx).map(|()| Permit {
            semaphore: semaphore.clone(),
            count,
        })
    }
}

/// Permits held from a [`Semaphore`] or [`BoundedSemaphore`]; dropping it releases them.
///
/// A permit owns a handle to its semaphore, so it can move: the Python idiom "acquire in the
/// parent, release in the child" is `let permit = sem.acquire().await;` then moving `permit`
/// into the spawned task, which releases it when it drops it.
///
/// ```
/// use weft::sync::Semaphore;
///
/// weft::run(async {
///     let downloads = Semaphore::new(2);
///     let mut workers = Vec::new();
///     for url in ["a", "b", "c", "d"] {
///         let permit = downloads.acquire().await; // waits while two run
///         workers.push(weft::spawn(async move {
///             weft::task::yield_now().await; // the download
///             drop(permit); // the child gives the slot back
///             url
///         }));
///     }
///     for worker in workers {
///         worker.await.unwrap();
///     }
///     assert_eq!(downloads.available_permits(), 2);
/// });
/// ```
pub struct Permit {
    semaphore: Semaphore,
    count: usize,
}

impl Permit {
    /// Keeps the permits taken: they are not given back on drop (call
    /// [`Semaphore::release`] later, Python style).
    pub fn forget(mut self) {
        self.count = 0;
    }

    /// How many permits this holds.
    pub fn count(&self) -> usize {
        self.count
    }
}

impl Drop for Permit {
    #[inline]
    fn drop(&mut self) {
        if self.count > 0 {
            self.semaphore.core.release(self.count);
        }
    }
}

impl fmt::Debug for Permit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Permit")
            .field("count", &self.count)
            .finish()
    }
}

/// A [`Semaphore`] that refuses to be released above its initial value: Python's
/// `BoundedSemaphore`, whose over-release raises `ValueError`. Here
/// [`release`](BoundedSemaphore::release) returns [`TooManyReleasesError`] and changes nothing.
///
/// The classic use is a pool of connections, where releasing more than was taken is a bug:
///
/// ```
/// use weft::sync::BoundedSemaphore;
///
/// weft::run(async {
///     let pool = BoundedSemaphore::new(3); // three connections
///     let conn = pool.acquire().await;
///     assert_eq!(pool.available_permits(), 2);
///     conn.forget(); // keep it checked out, Python style...
///     pool.release(1).unwrap(); // ...and check it back in
///     assert!(pool.release(1).is_err()); // a fourth connection never existed
/// });
/// ```
#[derive(Clone, Debug)]
pub struct BoundedSemaphore {
    semaphore: Semaphore,
    bound: usize,
}

impl BoundedSemaphore {
    /// A semaphore with `permits` permits, which is also the most it can ever hold.
    #[track_caller]
    pub fn new(permits: usize) -> BoundedSemaphore {
        BoundedSemaphore {
            semaphore: Semaphore::new(permits),
            bound: permits,
        }
    }

    /// Waits for a permit.
    #[inline]
    pub fn acquire(&self) -> Acquire<'_> {
        self.semaphore.acquire()
    }

    /// Waits for `n` permits at once.
    #[inline]
    pub fn acquire_many(&self, n: usize) -> Acquire<'_> {
        self.semaphore.acquire_many(n)
    }

    /// A permit now, or `None`.
    #[inline]
    pub fn try_acquire(&self) -> Option<Permit> {
        self.semaphore.try_acquire()
    }

    /// `n` permits now, or `None`.
    #[inline]
    pub fn try_acquire_many(&self, n: usize) -> Option<Permit> {
        self.semaphore.try_acquire_many(n)
    }

    /// Gives back `n` permits taken with [`Permit::forget`] (Python's `release(n)`); an error,
    /// and no change, if that would exceed the bound.
    pub fn release(&self, n: usize) -> Result<(), TooManyReleasesError> {
        let available = self.semaphore.available_permits();
        if available + n > self.bound - self.held_by_waiters() {
            return Err(TooManyReleasesError { bound: self.bound });
        }
        self.semaphore.release(n);
        Ok(())
    }

    /// Permits already granted to waiters that have not run yet (they count as taken).
    fn held_by_waiters(&self) -> usize {
        self.semaphore.core.granted_unclaimed()
    }

    /// How many permits are free.
    pub fn available_permits(&self) -> usize {
        self.semaphore.available_permits()
    }
}

/// [`BoundedSemaphore::release`] would have raised the count above its initial value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TooManyReleasesError {
    bound: usize,
}

impl fmt::Display for TooManyReleasesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "semaphore released too many times (it holds at most {} permits)",
            self.bound
        )
    }
}

impl std::error::Error for TooManyReleasesError {}
