//! `Condition`: wait for a change made under its lock.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use super::mutex::{self, Mutex, MutexGuard};
use crate::time::Sleep;
use crate::waiters::WaitList;

/// A condition variable bound to its lock: Python's `threading.Condition` /
/// `asyncio.Condition`. Tasks that hold the lock wait for another task to change the protected
/// value and [`notify`](Condition::notify) them.
///
/// As in Python, the condition owns its lock: [`Condition::new`] makes one (Python's
/// `Condition()`), [`Condition::with_lock`] shares a [`Mutex`] you already have (Python's
/// `Condition(lock)`). [`lock`](Condition::lock) gives a [`ConditionGuard`], and the waits
/// are methods of that guard, so waiting with another lock's guard cannot be written. A wait
/// releases the lock while it waits and gives the guard back re-locked. Always re-check the
/// condition after waking; [`wait_for`](ConditionGuard::wait_for) does the loop for you.
/// Waiters are woken first come, first served. A clone is another handle to the same
/// condition, as with every weft primitive.
///
/// A bounded buffer, the classic example, next to its Python original:
///
/// ```
/// use std::collections::VecDeque;
/// use weft::sync::Condition;
///
/// // items = asyncio.Condition()          # and a deque beside it
/// // async with items:
/// //     await items.wait_for(lambda: len(queue) < 2)
/// //     queue.append(i)
/// //     items.notify_all()
/// weft::run(async {
///     let buffer = Condition::new(VecDeque::new());
///     let producer = weft::spawn({
///         let buffer = buffer.clone();
///         async move {
///             for i in 0..10 {
///                 let mut queue = buffer.lock().await.wait_for(|q| q.len() < 2).await;
///                 queue.push_back(i);
///                 queue.notify_all();
///             }
///         }
///     });
///     let mut received = Vec::new();
///     while received.len() < 10 {
///         let mut queue = buffer.lock().await.wait_for(|q| !q.is_empty()).await;
///         received.push(queue.pop_front().unwrap());
///         queue.notify_all();
///     }
///     producer.await.unwrap();
///     assert_eq!(received, (0..10).collect::<Vec<_>>());
/// });
/// ```
pub struct Condition<T> {
    lock: Mutex<T>,
    waiters: Rc<RefCell<WaitList>>,
}

impl<T> Condition<T> {
    /// A condition with a lock of its own around `value` (Python's `Condition()`).
    #[track_caller]
    pub fn new(value: T) -> Condition<T> {
        Condition::with_lock(Mutex::new(value))
    }
}

impl<T> Condition<T> {
    /// A condition bound to `lock`, which other code may keep using (Python's
    /// `Condition(lock)`).
    #[track_caller]
    pub fn with_lock(lock: Mutex<T>) -> Condition<T> {
        let resource = crate::waiters::Resource::new("Condition");
        Condition {
            lock,
            waiters: Rc::new(RefCell::new(WaitList::new(&resource, "wait"))),
        }
    }

    /// Waits for the condition's lock (Python's `async with cond:`).
    pub fn lock(&self) -> Lock<'_, T> {
        Lock {
            condition: self,
            lock: self.lock.lock(),
        }
    }

    /// The lock now, or `None` if it is held (or others wait for it).
    pub fn try_lock(&self) -> Option<ConditionGuard<'_, T>> {
        self.lock.try_lock().map(|guard| ConditionGuard {
            guard,
            condition: self,
        })
    }

    /// The lock this condition is bound to.
    pub fn mutex(&self) -> &Mutex<T> {
        &self.lock
    }

    /// Wakes up to `n` waiters, longest waiting first. (Python asks for the lock to be held;
    /// here it need not be, and [`ConditionGuard::notify`] is the same call under the lock.)
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
            waiters: &self.waiters,
            key: Some(key),
        }
    }
}

impl<T> Clone for Condition<T> {
    fn clone(&self) -> Self {
        Condition {
            lock: self.lock.clone(),
            waiters: self.waiters.clone(),
        }
    }
}

impl<T: Default> Default for Condition<T> {
    fn default() -> Self {
        Condition::new(T::default())
    }
}

impl<T> fmt::Debug for Condition<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condition")
            .field("locked", &self.lock.is_locked())
            .field("waiters", &self.waiters.borrow().len())
            .finish()
    }
}

/// The future of [`Condition::lock`].
#[must_use = "futures do nothing unless awaited"]
pub struct Lock<'a, T> {
    condition: &'a Condition<T>,
    lock: mutex::Lock<'a, T>,
}

impl<'a, T> Future for Lock<'a, T> {
    type Output = ConditionGuard<'a, T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<ConditionGuard<'a, T>> {
        let condition = self.condition;
        Pin::new(&mut self.lock)
            .poll(cx)
            .map(|guard| ConditionGuard { guard, condition })
    }
}

/// The lock of a [`Condition`], held: access to the value, and the waits, which release the
/// lock while they wait and return the guard re-locked. Dropping it releases the lock.
pub struct ConditionGuard<'a, T> {
    guard: MutexGuard<'a, T>,
    condition: &'a Condition<T>,
}

impl<'a, T> ConditionGuard<'a, T> {
    /// Releases the lock, waits for a notification, and re-locks (Python's `await
    /// cond.wait()`).
    pub fn wait(self) -> Wait<'a, T> {
        Wait {
            cycle: Cycle::new(self),
        }
    }

    /// Like [`wait`](ConditionGuard::wait), giving up after `timeout`: returns the re-locked
    /// guard and whether a notification came (Python's `wait(timeout)` returning `False`).
    pub fn wait_timeout(self, timeout: Duration) -> WaitTimeout<'a, T> {
        WaitTimeout {
            cycle: Cycle::new(self),
            timer: Deadline::after(timeout),
        }
    }

    /// Waits until `predicate` holds for the protected value; returns the guard with it true
    /// (Python's `await cond.wait_for(predicate)`). The predicate is checked first, under the
    /// lock, and again after every notification.
    pub fn wait_for<P: FnMut(&mut T) -> bool>(self, predicate: P) -> WaitFor<'a, T, P> {
        WaitFor {
            cycle: Cycle::new(self),
            predicate,
            timer: Deadline::Never,
        }
    }

    /// Like [`wait_for`](ConditionGuard::wait_for), giving up after `timeout`: returns the
    /// re-locked guard and the predicate's last value (Python's
    /// `threading.Condition.wait_for(predicate, timeout)`).
    pub fn wait_for_timeout<P: FnMut(&mut T) -> bool>(
        self,
        predicate: P,
        timeout: Duration,
    ) -> WaitForTimeout<'a, T, P> {
        WaitForTimeout {
            wait: WaitFor {
                cycle: Cycle::new(self),
                predicate,
                timer: Deadline::after(timeout),
            },
        }
    }

    /// Wakes up to `n` waiters of this condition (Python's `cond.notify(n)`).
    pub fn notify(&self, n: usize) {
        self.condition.notify(n);
    }

    /// Wakes every waiter of this condition (Python's `cond.notify_all()`).
    pub fn notify_all(&self) {
        self.condition.notify_all();
    }
}

impl<T> Deref for ConditionGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.guard
    }
}

impl<T> DerefMut for ConditionGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.guard
    }
}

impl<T: fmt::Debug> fmt::Debug for ConditionGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.guard, f)
    }
}

/// One round of a condition wait: release the lock, wait for a notification, re-lock.
struct Cycle<'a, T> {
    condition: &'a Condition<T>,
    phase: Phase<'a, T>,
}

enum Phase<'a, T> {
    /// Holding the lock, not yet registered as a waiter.
    Holding(MutexGuard<'a, T>),
    /// Registered, lock released, waiting for a notification.
    Waiting(Notified<'a>),
    /// Notified (or given up): taking the lock again.
    Relocking(mutex::Lock<'a, T>),
    /// The guard went back to the caller.
    Done,
}

impl<'a, T> Cycle<'a, T> {
    fn new(guard: ConditionGuard<'a, T>) -> Self {
        Cycle {
            condition: guard.condition,
            phase: Phase::Holding(guard.guard),
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
                    self.phase = Phase::Relocking(self.condition.lock.lock());
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

    fn guard(&self, guard: MutexGuard<'a, T>) -> ConditionGuard<'a, T> {
        ConditionGuard {
            guard,
            condition: self.condition,
        }
    }
}

/// A wait's time limit, if it has one.
enum Deadline {
    Never,
    At(Sleep),
    Passed,
}

impl Deadline {
    fn after(timeout: Duration) -> Deadline {
        Deadline::At(crate::time::sleep(timeout))
    }

    /// Whether the time is up (registering for the timer's wake-up if not).
    fn expired(&mut self, cx: &mut Context<'_>) -> bool {
        match self {
            Deadline::Never => false,
            Deadline::Passed => true,
            Deadline::At(timer) => {
                let passed = Pin::new(timer).poll(cx).is_ready();
                if passed {
                    *self = Deadline::Passed;
                }
                passed
            }
        }
    }

    fn passed(&self) -> bool {
        matches!(self, Deadline::Passed)
    }
}

/// The future of [`ConditionGuard::wait`].
#[must_use = "futures do nothing unless awaited"]
pub struct Wait<'a, T> {
    cycle: Cycle<'a, T>,
}

impl<'a, T> Future for Wait<'a, T> {
    type Output = ConditionGuard<'a, T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<ConditionGuard<'a, T>> {
        let guard = ready!(self.cycle.poll(cx, |_| false));
        Poll::Ready(self.cycle.guard(guard))
    }
}

/// The future of [`ConditionGuard::wait_timeout`].
#[must_use = "futures do nothing unless awaited"]
pub struct WaitTimeout<'a, T> {
    cycle: Cycle<'a, T>,
    timer: Deadline,
}

impl<'a, T> Future for WaitTimeout<'a, T> {
    type Output = (ConditionGuard<'a, T>, bool);

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let timer = &mut this.timer;
        let guard = ready!(this.cycle.poll(cx, |cx| timer.expired(cx)));
        Poll::Ready((this.cycle.guard(guard), !this.timer.passed()))
    }
}

/// The future of [`ConditionGuard::wait_for`].
#[must_use = "futures do nothing unless awaited"]
pub struct WaitFor<'a, T, P> {
    cycle: Cycle<'a, T>,
    predicate: P,
    timer: Deadline,
}

impl<'a, T, P: FnMut(&mut T) -> bool> WaitFor<'a, T, P> {
    /// The guard and the predicate's value, once it holds or the time is up.
    fn poll_until(&mut self, cx: &mut Context<'_>) -> Poll<(ConditionGuard<'a, T>, bool)> {
        loop {
            if let Phase::Holding(guard) = &mut self.cycle.phase {
                let holds = (self.predicate)(guard);
                if holds || self.timer.passed() {
                    let Phase::Holding(guard) =
                        std::mem::replace(&mut self.cycle.phase, Phase::Done)
                    else {
                        unreachable!("the phase was just matched as Holding")
                    };
                    return Poll::Ready((self.cycle.guard(guard), holds));
                }
            }
            let timer = &mut self.timer;
            let guard = ready!(self.cycle.poll(cx, |cx| timer.expired(cx)));
            self.cycle.phase = Phase::Holding(guard);
        }
    }
}

impl<'a, T, P: FnMut(&mut T) -> bool> Future for WaitFor<'a, T, P> {
    type Output = ConditionGuard<'a, T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<ConditionGuard<'a, T>> {
        self.get_mut().poll_until(cx).map(|(guard, _)| guard)
    }
}

/// The future of [`ConditionGuard::wait_for_timeout`].
#[must_use = "futures do nothing unless awaited"]
pub struct WaitForTimeout<'a, T, P> {
    wait: WaitFor<'a, T, P>,
}

impl<'a, T, P: FnMut(&mut T) -> bool> Future for WaitForTimeout<'a, T, P> {
    type Output = (ConditionGuard<'a, T>, bool);

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.get_mut().wait.poll_until(cx)
    }
}

// Nothing in these futures is ever pinned: the predicate is called through `&mut`, so they
// may move whatever closure they hold.
impl<T, P> Unpin for WaitFor<'_, T, P> {}
impl<T, P> Unpin for WaitForTimeout<'_, T, P> {}

/// Waits for one notification. Dropped after being notified, it passes the notification on.
struct Notified<'a> {
    waiters: &'a RefCell<WaitList>,
    key: Option<usize>,
}

impl Future for Notified<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.key.is_none() {
            return Poll::Ready(());
        }
        let waiters = self.waiters;
        waiters
            .borrow_mut()
            .poll_notified(&mut self.key, cx.waker())
    }
}

impl Drop for Notified<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key {
            let mut waiters = self.waiters.borrow_mut();
            if waiters.remove(key).0 {
                waiters.notify_one();
            }
        }
    }
}
