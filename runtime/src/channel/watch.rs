//! One value that changes; receivers see the latest.

use std::cell::{Ref, RefCell};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use super::RecvError;
use crate::waiters::WaitList;

/// A channel holding one value that the sender replaces; receivers read the latest and can
/// wait for the next change (configuration, status, "shutting down" flags). Receivers that
/// miss intermediate values only ever see the newest one. Python has no counterpart; think of
/// an `Event` that carries a value.
///
/// ```
/// use weft::channel::watch;
///
/// weft::run(async {
///     let (tx, mut rx) = watch::channel("starting");
///     let watcher = weft::spawn(async move {
///         rx.changed().await.unwrap();
///         *rx.borrow_and_update()
///     });
///     weft::task::yield_now().await;
///     tx.send("running");
///     assert_eq!(watcher.await.unwrap(), "running");
/// });
/// ```
#[track_caller]
pub fn channel<T>(initial: T) -> (Sender<T>, Receiver<T>) {
    let shared = Rc::new(Shared {
        value: RefCell::new(initial),
        state: RefCell::new(State {
            version: 0,
            sender_alive: true,
            waiting: WaitList::new(&crate::waiters::Resource::new("watch"), "changed"),
        }),
    });
    (
        Sender {
            shared: shared.clone(),
        },
        Receiver { shared, seen: 0 },
    )
}

struct Shared<T> {
    value: RefCell<T>,
    state: RefCell<State>,
}

struct State {
    version: u64,
    sender_alive: bool,
    waiting: WaitList,
}

/// Replaces the value. Dropping it closes the channel.
pub struct Sender<T> {
    shared: Rc<Shared<T>>,
}

/// Reads the latest value and waits for changes. Clone it for more receivers.
pub struct Receiver<T> {
    shared: Rc<Shared<T>>,
    seen: u64,
}

impl<T> Sender<T> {
    /// Replaces the value and wakes every receiver waiting in [`Receiver::changed`].
    pub fn send(&self, value: T) {
        self.send_replace(value);
    }

    /// Replaces the value, returning the old one.
    pub fn send_replace(&self, value: T) -> T {
        let old = self.shared.value.replace(value);
        let mut state = self.shared.state.borrow_mut();
        state.version += 1;
        state.waiting.notify_all();
        old
    }

    /// The current value.
    pub fn borrow(&self) -> Ref<'_, T> {
        self.shared.value.borrow()
    }

    /// A new receiver that has seen the current value.
    pub fn subscribe(&self) -> Receiver<T> {
        Receiver {
            shared: self.shared.clone(),
            seen: self.shared.state.borrow().version,
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let mut state = self.shared.state.borrow_mut();
        state.sender_alive = false;
        state.waiting.notify_all();
    }
}

impl<T> Receiver<T> {
    /// The current value (without marking it seen).
    pub fn borrow(&self) -> Ref<'_, T> {
        self.shared.value.borrow()
    }

    /// The current value, marking it seen.
    pub fn borrow_and_update(&mut self) -> Ref<'_, T> {
        self.seen = self.shared.state.borrow().version;
        self.shared.value.borrow()
    }

    /// Whether a value was sent since this receiver last marked one seen.
    pub fn has_changed(&self) -> bool {
        self.shared.state.borrow().version != self.seen
    }

    /// Waits until a value newer than the last one seen is sent, and marks it seen; fails once
    /// the sender is gone.
    pub fn changed(&mut self) -> Changed<'_, T> {
        Changed {
            receiver: self,
            key: None,
        }
    }
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Self {
        Receiver {
            shared: self.shared.clone(),
            seen: self.seen,
        }
    }
}

/// The future of [`Receiver::changed`].
#[must_use = "futures do nothing unless awaited"]
pub struct Changed<'a, T> {
    receiver: &'a mut Receiver<T>,
    key: Option<usize>,
}

impl<T> Future for Changed<'_, T> {
    type Output = Result<(), RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let mut state = this.receiver.shared.state.borrow_mut();
        if let Some(key) = this.key.take() {
            state.waiting.remove(key);
        }
        if state.version != this.receiver.seen {
            this.receiver.seen = state.version;
            return Poll::Ready(Ok(()));
        }
        if !state.sender_alive {
            return Poll::Ready(Err(RecvError));
        }
        this.key = Some(state.waiting.push(Some(cx.waker()), ()));
        Poll::Pending
    }
}

impl<T> Drop for Changed<'_, T> {
    fn drop(&mut self) {
        if let Some(key) = self.key {
            self.receiver.shared.state.borrow_mut().waiting.remove(key);
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("watch::Sender")
            .field(&*self.borrow())
            .finish()
    }
}

impl<T: fmt::Debug> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("watch::Receiver")
            .field(&*self.borrow())
            .finish()
    }
}
