//! `Condition`: wait for a change made under a `Mutex`.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use super::mutex::{Lock, Mutex, MutexGuard};
use crate::time::Sleep;
use crate::waiters::WaitList;

/// A condition variable: Python's `threading.Condition` / `asyncio.Condition`. Tasks holding
/// a [`Mutex`] guard wait for another task to change the protected data and
/// [`notify`](Condition::notify) them.
///
/// Python binds the lock at construction and requires holding it to wait; here
/// [`wait`](Condition::wait) takes the guard (so holding the lock is proven by the types),
/// releases the lock while waiting, and returns the guard re-locked. Always re-check the
/// condition after waking — [`wait_for`](Condition::wait_for) does the loop for you. Waiters
/// are woken first come, first served. Use one condition with one mutex.
///
/// A bounded buffer, the classic example:
///
/// ```
/// use std::collections::VecDeque;
/// use std::rc::Rc;
/// use weft::sync::{Condition, Mutex};
///
/// struct Buffer {
///     items: Mutex<VecDeque<u32>>,
///     changed: Condition,
/// }
///
/// weft::run(async {
///     let buf = Rc::new(Buffer { items: Mutex::new(VecDeque::new()), changed: Condition::new() });
///     let producer = weft::spawn({
///         let buf = buf.clone();
///         async move {
///             for i in 0..10 {
///                 let guard = buf.items.lock().await;
///                 let mut guard = buf.changed.wait_for(guard, |q| q.len() < 2).await; // capacity 2
///                 guard.push_back(i);
///                 buf.changed.notify_all();
///             }
///         }
///     });
///     let mut received = Vec::new();
///     while received.len() < 10 {
///         let guard = buf.items.lock().await;
///         let mut guard = buf.changed.wait_for(guard, |q| !q.is_empty()).await;
///         received.push(guard.pop_front().unwrap());
///         buf.changed.notify_all();
///     }
///     producer.await.unwrap();
///     assert_eq!(received, (0..10).collect::<Vec<_>>());
/// });
/// ```
#[derive(Default)]
pub struct Condition {
    waiters: RefCell<WaitList>,
}

impl Condition {
    /// A condition with no waiters.
    pub fn new() -> Condition {
        Condition::default()
    }

    /// Releases the guard's lock, waits for a notification, and re-locks.
    pub fn wait<'c, 'a, T: ?Sized>(&'c self, guard: MutexGuard<'a, T>) -> Wait<'c, 'a, T> {
        Wait {
            cycle: Cycle::new(self, guard),
        }
    }

    /// Like [`wait`](Condition::wait), giving up after `timeout`: returns the re-locked guard
    /// and whether a notification came (Python's `wait(timeout)` returning `False`).
    pub fn wait_timeout<'c, 'a, T: ?Sized>(
        &'c self,
        guard: MutexGuard<'a, T>,
        timeout: Duration,
    ) -> WaitTimeout<'c, 'a, T> {
        WaitTimeout {
            cycle: Cycle::new(self, guard),
            timer: Some(crate::time::sleep(timeout)),
            in_time: true,
        }
    }

    /// Waits until `condition` holds for the protected value; returns the guard with it true.
    /// The condition is checked first, under the lock, and again after every notification.
    pub fn wait_for<'c, 'a, T: ?Sized, P: FnMut(&mut T) -> bool>(
        &'c self,
        guard: MutexGuard<'a, T>,
        condition: P,
    ) -> WaitFor<'c, 'a, T, P> {
        WaitFor {
            cycle: Cycle::new(self, guard),
            condition,
        }
    }

    /// Wakes up to `n` waiters, longest waiting first.
    pub fn notify(&self, n: usize) {
        let mut waiters = self.waiters.borrow_mut();
        for _ in 0..n {
            if !waiters.notify_one() {
                break;
            }
        }
    }

    /// Wakes every waiter.
    pub fn notify_all(&self) {
        self.waiters.borrow_mut().notify_all();
    }

    fn register(&self) -> Notified<'_> {
        let key = self.waiters.borrow_mut().push(None, ());
        Notified {
            condition: self,
            key: Some(key),
        }
    }
}

impl fmt::Debug for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condition")
            .field("waiters", &self.waiters.borrow().len())
            .finish()
    }
}

/// One round of a condition wait: release the lock, wait for a notification, re-lock.
struct Cycle<'c, 'a, T: ?Sized> {
    condition: &'c Condition,
    mutex: &'a Mutex<T>,
    phase: Phase<'c, 'a, T>,
}

enum Phase<'c, 'a, T: ?Sized> {
    /// Holding the lock, not yet registered as a waiter.
    Holding(MutexGuard<'a, T>),
    /// Registered, lock released, waiting for a notification.
    Waiting(Notified<'c>),
    /// Notified (or given up): taking the lock again.
    Relocking(Lock<'a, T>),
    /// The guard went back to the caller.
    Done,
}

impl<'c, 'a, T: ?Sized> Cycle<'c, 'a, T> {
    fn new(condition: &'c Condition, guard: MutexGuard<'a, T>) -> Self {
        Cycle {
            condition,
            mutex: MutexGuard::mutex(&guard),
            phase: Phase::Holding(guard),
        }
    }

    /// Drives the round; `give_up` is asked while waiting, and `true` stops waiting early.
    fn poll(
        &mut self,
        cx: &mut Context<'_>,
        mut give_up: impl FnMut(&mut Context<'_>) -> bool,
    ) -> Poll<MutexGuard<'a, T>> {
        loop {
            match &mut self.phase {
                Phase::Holding(_) => {
                    // Registered before the lock is released, so a notify in between is not
                    // lost; replacing the phase drops the guard.
                    self.phase = Phase::Waiting(self.condition.register());
                }
                Phase::Waiting(notified) => {
                    if Pin::new(notified).poll(cx).is_pending() && !give_up(cx) {
                        return Poll::Pending;
                    }
                    self.phase = Phase::Relocking(self.mutex.lock());
                }
                Phase::Relocking(lock) => {
                    let guard = ready!(Pin::new(lock).poll(cx));
                    self.phase = Phase::Done;
                    return Poll::Ready(guard);
                }
                Phase::Done => panic!("a condition wait polled after it completed"),
            }
        }
    }
}

/// The future of [`Condition::wait`].
#[must_use = "futures do nothing unless awaited"]
pub struct Wait<'c, 'a, T: ?Sized> {
    cycle: Cycle<'c, 'a, T>,
}

impl<'a, T: ?Sized> Future for Wait<'_, 'a, T> {
    type Output = MutexGuard<'a, T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<MutexGuard<'a, T>> {
        self.cycle.poll(cx, |_| false)
    }
}

/// The future of [`Condition::wait_timeout`].
#[must_use = "futures do nothing unless awaited"]
pub struct WaitTimeout<'c, 'a, T: ?Sized> {
    cycle: Cycle<'c, 'a, T>,
    timer: Option<Sleep>,
    in_time: bool,
}

impl<'a, T: ?Sized> Future for WaitTimeout<'_, 'a, T> {
    type Output = (MutexGuard<'a, T>, bool);

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let (timer, in_time) = (&mut this.timer, &mut this.in_time);
        let guard = ready!(this.cycle.poll(cx, |cx| {
            let expired = timer
                .as_mut()
                .is_some_and(|t| Pin::new(t).poll(cx).is_ready());
            if expired {
                *timer = None;
                *in_time = false;
            }
            expired
        }));
        Poll::Ready((guard, *in_time))
    }
}

/// The future of [`Condition::wait_for`].
#[must_use = "futures do nothing unless awaited"]
pub struct WaitFor<'c, 'a, T: ?Sized, P> {
    cycle: Cycle<'c, 'a, T>,
    condition: P,
}

impl<'a, T: ?Sized, P: FnMut(&mut T) -> bool> Future for WaitFor<'_, 'a, T, P> {
    type Output = MutexGuard<'a, T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<MutexGuard<'a, T>> {
        let this = self.get_mut();
        loop {
            if let Phase::Holding(guard) = &mut this.cycle.phase {
                if (this.condition)(guard) {
                    let Phase::Holding(guard) =
                        std::mem::replace(&mut this.cycle.phase, Phase::Done)
                    else {
                        unreachable!("the phase was just matched as Holding")
                    };
                    return Poll::Ready(guard);
                }
            }
            let guard = ready!(this.cycle.poll(cx, |_| false));
            this.cycle.phase = Phase::Holding(guard);
        }
    }
}

// Nothing in a `WaitFor` is ever pinned: the condition is called through `&mut`, so the
// future may move whatever closure it holds.
impl<T: ?Sized, P> Unpin for WaitFor<'_, '_, T, P> {}

/// Waits for one notification. Dropped after being notified, it passes the notification on.
struct Notified<'a> {
    condition: &'a Condition,
    key: Option<usize>,
}

impl Future for Notified<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.key.is_none() {
            return Poll::Ready(());
        }
        let condition = self.condition;
        let mut waiters = condition.waiters.borrow_mut();
        waiters.poll_notified(&mut self.key, cx.waker())
    }
}

impl Drop for Notified<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key {
            let mut waiters = self.condition.waiters.borrow_mut();
            if waiters.remove(key).0 {
                waiters.notify_one();
            }
        }
    }
}
