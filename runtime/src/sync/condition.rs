//! `Condition`: wait for a change made under a `Mutex`.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use super::mutex::MutexGuard;
use super::wait_list::WaitList;

/// A condition variable: Python's `threading.Condition` / `asyncio.Condition`. Tasks holding
/// a [`Mutex`](super::Mutex) guard wait for another task to change the protected data and
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
    pub async fn wait<'a, T: ?Sized>(&self, guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
        let mutex = MutexGuard::mutex(&guard);
        // Registered before the lock is released, so a notify in between is not lost.
        let notified = self.register();
        drop(guard);
        notified.await;
        mutex.lock().await
    }

    /// Like [`wait`](Condition::wait), giving up after `timeout`: returns the re-locked guard
    /// and whether a notification came (Python's `wait(timeout)` returning `False`).
    pub async fn wait_timeout<'a, T: ?Sized>(
        &self,
        guard: MutexGuard<'a, T>,
        timeout: Duration,
    ) -> (MutexGuard<'a, T>, bool) {
        let mutex = MutexGuard::mutex(&guard);
        let notified = self.register();
        drop(guard);
        let in_time = crate::time::timeout(timeout, notified).await.is_ok();
        (mutex.lock().await, in_time)
    }

    /// Waits until `condition` holds for the protected value; returns the guard with it true.
    pub async fn wait_for<'a, T: ?Sized>(
        &self,
        mut guard: MutexGuard<'a, T>,
        mut condition: impl FnMut(&mut T) -> bool,
    ) -> MutexGuard<'a, T> {
        while !condition(&mut guard) {
            guard = self.wait(guard).await;
        }
        guard
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
