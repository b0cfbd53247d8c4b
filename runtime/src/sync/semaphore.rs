//! `Semaphore` and `BoundedSemaphore`, and the semaphore core that `Mutex` and `RwLock` are
//! built on.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use super::wait_list::WaitList;

/// Permits and the FIFO of tasks waiting for them.
pub(crate) struct SemaphoreCore {
    state: RefCell<State>,
}

struct State {
    permits: usize,
    /// Each waiter's value is how many permits it asked for.
    waiters: WaitList<usize>,
}

impl SemaphoreCore {
    pub(crate) fn new(permits: usize) -> SemaphoreCore {
        SemaphoreCore {
            state: RefCell::new(State {
                permits,
                waiters: WaitList::default(),
            }),
        }
    }

    pub(crate) fn available(&self) -> usize {
        self.state.borrow().permits
    }

    /// Takes `n` permits now if that overtakes no waiter.
    pub(crate) fn try_acquire(&self, n: usize) -> bool {
        let mut state = self.state.borrow_mut();
        if state.waiters.waiting() == 0 && state.permits >= n {
            state.permits -= n;
            true
        } else {
            false
        }
    }

    pub(crate) fn acquire(&self, n: usize) -> Acquire<'_> {
        Acquire {
            core: self,
            need: n,
            key: None,
        }
    }

    /// Returns `n` permits and hands them to waiters, first come first served.
    pub(crate) fn release(&self, n: usize) {
        let mut state = self.state.borrow_mut();
        state.permits += n;
        state.grant();
    }
}

impl State {
    /// Gives permits to the waiters at the front while there are enough for the first one (a
    /// large request at the front is not overtaken by smaller ones behind it).
    fn grant(&mut self) {
        while let Some((key, &need)) = self.waiters.first_waiting() {
            if need > self.permits {
                return;
            }
            self.permits -= need;
            self.waiters.notify(key);
        }
    }
}

/// Waits for permits. Dropping it gives back permits it was granted but did not report yet.
pub(crate) struct Acquire<'a> {
    core: &'a SemaphoreCore,
    need: usize,
    key: Option<usize>,
}

impl Future for Acquire<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let core = self.core;
        let mut state = core.state.borrow_mut();
        match self.key {
            None => {
                if state.waiters.waiting() == 0 && state.permits >= self.need {
                    state.permits -= self.need;
                    return Poll::Ready(());
                }
                let key = state.waiters.push(Some(cx.waker()), self.need);
                self.key = Some(key);
                Poll::Pending
            }
            Some(key) if state.waiters.is_notified(key) => {
                state.waiters.remove(key);
                self.key = None;
                Poll::Ready(())
            }
            Some(key) => {
                state.waiters.set_waker(key, cx.waker());
                Poll::Pending
            }
        }
    }
}

impl Drop for Acquire<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key {
            let mut state = self.core.state.borrow_mut();
            let (granted, need) = state.waiters.remove(key);
            if granted {
                state.permits += need;
            }
            // Also when not granted: leaving the front may unblock smaller requests behind.
            state.grant();
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
    pub fn new(permits: usize) -> Semaphore {
        Semaphore {
            core: Rc::new(SemaphoreCore::new(permits)),
        }
    }

    /// Waits for a permit.
    pub async fn acquire(&self) -> Permit {
        self.acquire_many(1).await
    }

    /// Waits for `n` permits at once (taken together, never piecemeal).
    pub async fn acquire_many(&self, n: usize) -> Permit {
        self.core.acquire(n).await;
        Permit {
            semaphore: self.clone(),
            count: n,
        }
    }

    /// A permit now, or `None` if none is free (or others are already waiting).
    pub fn try_acquire(&self) -> Option<Permit> {
        self.try_acquire_many(1)
    }

    /// `n` permits now, or `None`.
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

/// Permits held from a [`Semaphore`] or [`BoundedSemaphore`]; dropping it releases them.
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
/// [`release`](BoundedSemaphore::release) returns [`TooManyReleases`] and changes nothing.
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
///     pool.release().unwrap(); // ...and check it back in
///     assert!(pool.release().is_err()); // a fourth connection never existed
/// });
/// ```
#[derive(Clone, Debug)]
pub struct BoundedSemaphore {
    semaphore: Semaphore,
    bound: usize,
}

impl BoundedSemaphore {
    /// A semaphore with `permits` permits, which is also the most it can ever hold.
    pub fn new(permits: usize) -> BoundedSemaphore {
        BoundedSemaphore {
            semaphore: Semaphore::new(permits),
            bound: permits,
        }
    }

    /// Waits for a permit.
    pub async fn acquire(&self) -> Permit {
        self.semaphore.acquire().await
    }

    /// Waits for `n` permits at once.
    pub async fn acquire_many(&self, n: usize) -> Permit {
        self.semaphore.acquire_many(n).await
    }

    /// A permit now, or `None`.
    pub fn try_acquire(&self) -> Option<Permit> {
        self.semaphore.try_acquire()
    }

    /// Gives back one permit taken with [`Permit::forget`].
    pub fn release(&self) -> Result<(), TooManyReleases> {
        self.release_many(1)
    }

    /// Gives back `n` permits; an error (and no change) if that would exceed the bound.
    pub fn release_many(&self, n: usize) -> Result<(), TooManyReleases> {
        let available = self.semaphore.available_permits();
        if available + n > self.bound - self.held_by_waiters() {
            return Err(TooManyReleases { bound: self.bound });
        }
        self.semaphore.release(n);
        Ok(())
    }

    /// Permits already granted to waiters that have not run yet (they count as taken).
    fn held_by_waiters(&self) -> usize {
        self.semaphore
            .core
            .state
            .borrow()
            .waiters
            .notified_values()
            .sum()
    }

    /// How many permits are free.
    pub fn available_permits(&self) -> usize {
        self.semaphore.available_permits()
    }
}

/// [`BoundedSemaphore::release`] would have raised the count above its initial value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TooManyReleases {
    bound: usize,
}

impl fmt::Display for TooManyReleases {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "semaphore released too many times (it holds at most {} permits)",
            self.bound
        )
    }
}

impl std::error::Error for TooManyReleases {}
