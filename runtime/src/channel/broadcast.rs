//! Every receiver gets every value.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, ready};

use super::SendError;
use crate::task::poll_budget;
use crate::waiters::WaitList;

/// A channel whose every receiver sees every value sent after it subscribed (publish and
/// subscribe; Python's standard library has no counterpart — its nearest is a list of queues). The channel keeps
/// the last `capacity` values (at least 1); a receiver that falls further behind than that
/// gets [`RecvError::Lagged`] with how many values it missed, then continues from the oldest
/// value still kept — so one slow receiver never blocks the sender or the others.
///
/// ```
/// use weft::channel::broadcast;
///
/// weft::run(async {
///     let (tx, mut a) = broadcast::channel(16);
///     let mut b = tx.subscribe();
///     tx.send("tick").unwrap();
///     assert_eq!(a.recv().await, Ok("tick"));
///     assert_eq!(b.recv().await, Ok("tick"));
/// });
/// ```
#[track_caller]
pub fn channel<T: Clone>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    let shared = Rc::new(RefCell::new(Shared {
        values: VecDeque::new(),
        first_seq: 0,
        capacity: capacity.max(1),
        senders: 1,
        receivers: 1,
        waiting: WaitList::new(&crate::waiters::Resource::new("broadcast"), "recv"),
    }));
    (
        Sender {
            shared: shared.clone(),
        },
        Receiver { shared, next: 0 },
    )
}

struct Shared<T> {
    values: VecDeque<T>,
    /// The sequence number of `values[0]`.
    first_seq: u64,
    capacity: usize,
    senders: usize,
    receivers: usize,
    waiting: WaitList,
}

impl<T> Shared<T> {
    fn end_seq(&self) -> u64 {
        self.first_seq + self.values.len() as u64
    }
}

/// Sends to every receiver. Clone it for more senders.
pub struct Sender<T> {
    shared: Rc<RefCell<Shared<T>>>,
}

/// Receives every value sent after it was created. Cloning it gives a receiver at the same
/// position.
pub struct Receiver<T> {
    shared: Rc<RefCell<Shared<T>>>,
    next: u64,
}

impl<T: Clone> Sender<T> {
    /// Sends `value` to every receiver; returns how many there are. Fails, giving the value
    /// back, if there are none.
    pub fn send(&self, value: T) -> Result<usize, SendError<T>> {
        let mut shared = self.shared.borrow_mut();
        if shared.receivers == 0 {
            return Err(SendError(value));
        }
        shared.values.push_back(value);
        if shared.values.len() > shared.capacity {
            shared.values.pop_front();
            shared.first_seq += 1;
        }
        shared.waiting.notify_all();
        Ok(shared.receivers)
    }

    /// A new receiver, which sees values sent from now on.
    pub fn subscribe(&self) -> Receiver<T> {
        let mut shared = self.shared.borrow_mut();
        shared.receivers += 1;
        Receiver {
            shared: self.shared.clone(),
            next: shared.end_seq(),
        }
    }

    /// How many receivers exist.
    pub fn receiver_count(&self) -> usize {
        self.shared.borrow().receivers
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.shared.borrow_mut().senders += 1;
        Sender {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let mut shared = self.shared.borrow_mut();
        shared.senders -= 1;
        if shared.senders == 0 {
            shared.waiting.notify_all();
        }
    }
}

impl<T: Clone> Receiver<T> {
    /// The next value; [`RecvError::Lagged`] if values were dropped before this receiver saw
    /// them; [`RecvError::Closed`] once every sender is gone and everything was received.
    pub fn recv(&mut self) -> Recv<'_, T> {
        Recv {
            receiver: self,
            key: None,
        }
    }

    fn poll_recv(
        &mut self,
        cx: &mut Context<'_>,
        key: &mut Option<usize>,
    ) -> Poll<Result<T, RecvError>> {
        let mut shared = self.shared.borrow_mut();
        if let Some(k) = key.take() {
            shared.waiting.remove(k);
        }
        if self.next < shared.first_seq {
            let missed = shared.first_seq - self.next;
            self.next = shared.first_seq;
            return Poll::Ready(Err(RecvError::Lagged(missed)));
        }
        if self.next < shared.end_seq() {
            drop(shared);
            ready!(poll_budget(cx));
            let shared = self.shared.borrow();
            let value = shared.values[(self.next - shared.first_seq) as usize].clone();
            self.next += 1;
            return Poll::Ready(Ok(value));
        }
        if shared.senders == 0 {
            return Poll::Ready(Err(RecvError::Closed));
        }
        *key = Some(shared.waiting.push(Some(cx.waker()), ()));
        Poll::Pending
    }
}

/// The future of [`Receiver::recv`].
#[must_use = "futures do nothing unless awaited"]
pub struct Recv<'a, T> {
    receiver: &'a mut Receiver<T>,
    key: Option<usize>,
}

impl<T: Clone> Future for Recv<'_, T> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        this.receiver.poll_recv(cx, &mut this.key)
    }
}

impl<T> Drop for Recv<'_, T> {
    fn drop(&mut self) {
        if let Some(key) = self.key {
            self.receiver.shared.borrow_mut().waiting.remove(key);
        }
    }
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Self {
        self.shared.borrow_mut().receivers += 1;
        Receiver {
            shared: self.shared.clone(),
            next: self.next,
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        self.shared.borrow_mut().receivers -= 1;
    }
}

/// Why [`Receiver::recv`] returned no value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecvError {
    /// The receiver fell behind; this many values were dropped before it saw them.
    Lagged(u64),
    /// Every sender is gone and every value was received.
    Closed,
}

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecvError::Lagged(n) => write!(f, "the receiver fell behind and missed {n} values"),
            RecvError::Closed => f.write_str("the channel is closed"),
        }
    }
}

impl std::error::Error for RecvError {}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("broadcast::Sender")
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("broadcast::Receiver")
    }
}
