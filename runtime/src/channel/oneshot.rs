//! A channel for exactly one value.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use super::{RecvError, TryRecvError};
use crate::waiters::{Resource, WaitOn, WakerSlot};

/// A channel that carries one value, from one task to another: the shape of an asyncio
/// `Future` you resolve with `set_result`, or gevent's `AsyncResult`.
///
/// ```
/// weft::run(async {
///     let (tx, rx) = weft::channel::oneshot::channel();
///     weft::spawn(async move { tx.send("result").unwrap() });
///     assert_eq!(rx.await, Ok("result"));
/// });
/// ```
#[track_caller]
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let shared = Rc::new(RefCell::new(Shared {
        value: None,
        waker: WakerSlot::default(),
        receiving: WaitOn::new(&Resource::new("oneshot"), "recv"),
        sender: true,
        receiver: true,
    }));
    (
        Sender {
            shared: shared.clone(),
        },
        Receiver { shared },
    )
}

struct Shared<T> {
    value: Option<T>,
    waker: WakerSlot,
    /// What the receiver's waker waits on, for the task dump.
    receiving: WaitOn,
    sender: bool,
    receiver: bool,
}

/// Sends the value; dropping it unsent makes the receiver fail with [`RecvError`].
pub struct Sender<T> {
    shared: Rc<RefCell<Shared<T>>>,
}

/// Awaits the value: `Ok(value)`, or `Err(RecvError)` if the sender was dropped unsent.
pub struct Receiver<T> {
    shared: Rc<RefCell<Shared<T>>>,
}

impl<T> Sender<T> {
    /// Sends the value; gives it back if the receiver is gone.
    pub fn send(self, value: T) -> Result<(), T> {
        let mut shared = self.shared.borrow_mut();
        if !shared.receiver {
            return Err(value);
        }
        shared.value = Some(value);
        shared.waker.wake();
        Ok(())
    }

    /// Whether the receiver was dropped.
    pub fn is_closed(&self) -> bool {
        !self.shared.borrow().receiver
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let mut shared = self.shared.borrow_mut();
        shared.sender = false;
        shared.waker.wake();
    }
}

impl<T> Receiver<T> {
    /// The value if it was sent; `Empty` if not yet, `Disconnected` if it never will be.
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let mut shared = self.shared.borrow_mut();
        match shared.value.take() {
            Some(value) => Ok(value),
            None if shared.sender => Err(TryRecvError::Empty),
            None => Err(TryRecvError::Disconnected),
        }
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut shared = self.shared.borrow_mut();
        if let Some(value) = shared.value.take() {
            return Poll::Ready(Ok(value));
        }
        if !shared.sender {
            return Poll::Ready(Err(RecvError));
        }
        let shared = &mut *shared;
        shared.waker.set(cx.waker(), &shared.receiving);
        Poll::Pending
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        self.shared.borrow_mut().receiver = false;
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("oneshot::Sender")
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("oneshot::Receiver")
    }
}
