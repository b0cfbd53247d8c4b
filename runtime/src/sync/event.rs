//! `Event`: a flag tasks can wait for.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use crate::waiters::WaitList;

/// A flag that tasks wait for: Python's `threading.Event` / `asyncio.Event`, gevent's
/// `Event`. [`set`](Event::set) wakes every waiter; [`wait`](Event::wait) returns at once
/// while the flag is set. A waiter that was woken by `set` returns even if the flag is cleared
/// again before it runs. A clone is another handle to the same event.
///
/// ```
/// use weft::sync::Event;
///
/// weft::run(async {
///     let ready = Event::new();
///     let waiter = weft::spawn({
///         let ready = ready.clone();
///         async move {
///             ready.wait().await;
///             "saw it"
///         }
///     });
///     weft::task::yield_now().await;
///     assert!(!ready.is_set());
///     ready.set();
///     assert_eq!(waiter.await.unwrap(), "saw it");
/// });
/// ```
#[derive(Clone)]
pub struct Event {
    inner: Rc<RefCell<State>>,
}

struct State {
    set: bool,
    waiters: WaitList,
}

impl Default for Event {
    #[track_caller]
    fn default() -> Event {
        Event::new()
    }
}

impl Event {
    /// A cleared event.
    #[track_caller]
    pub fn new() -> Event {
        Event {
            inner: Rc::new(RefCell::new(State {
                set: false,
                waiters: WaitList::new(&crate::waiters::Resource::new("Event"), "wait"),
            })),
        }
    }

    /// Sets the flag and wakes every waiter.
    pub fn set(&self) {
        let mut state = self.inner.borrow_mut();
        state.set = true;
        state.waiters.notify_all();
    }

    /// Clears the flag.
    pub fn clear(&self) {
        self.inner.borrow_mut().set = false;
    }

    /// Whether the flag is set.
    pub fn is_set(&self) -> bool {
        self.inner.borrow().set
    }

    /// Waits until the flag is set (at once if it is). Compose with
    /// [`timeout`](crate::time::timeout) for Python's `wait(timeout)`.
    pub fn wait(&self) -> Wait<'_> {
        Wait {
            event: self,
            key: None,
        }
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("set", &self.is_set())
            .finish()
    }
}

/// The future of [`Event::wait`].
#[must_use = "futures do nothing unless awaited"]
pub struct Wait<'a> {
    event: &'a Event,
    key: Option<usize>,
}

impl Future for Wait<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let event = self.event;
        let mut state = event.inner.borrow_mut();
        match self.key {
            Some(_) => state.waiters.poll_notified(&mut self.key, cx.waker()),
            None if state.set => Poll::Ready(()),
            None => {
                self.key = Some(state.waiters.push(Some(cx.waker()), ()));
                Poll::Pending
            }
        }
    }
}

impl Drop for Wait<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key {
            self.event.inner.borrow_mut().waiters.remove(key);
        }
    }
}
