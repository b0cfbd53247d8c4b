//! `TimeoutScope`: a timeout whose deadline can move while the work runs.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use super::instant::Instant;
use super::sleep::{Sleep, deadline_after, sleep_until};
use super::timeout::TimeoutError;

/// A deadline for a piece of work that the work itself (or anyone holding a clone) can move:
/// asyncio's `async with asyncio.timeout(delay) as scope: ... scope.reschedule(when)`, gevent's
/// `Timeout`. Moving it earlier or later takes effect at once, even while the work waits.
///
/// ```
/// use std::time::Duration;
/// use weft::time::{Instant, TimeoutScope, sleep};
///
/// weft::run(async {
///     let scope = TimeoutScope::new(Duration::from_millis(5));
///     let handle = scope.clone();
///     let result = scope
///         .run(async move {
///             // Making progress: give ourselves more time, then finish.
///             handle.reschedule(Instant::now() + Duration::from_secs(60));
///             sleep(Duration::from_millis(10)).await;
///             "done"
///         })
///         .await;
///     assert_eq!(result, Ok("done"));
///     assert!(!scope.expired());
/// });
/// ```
#[derive(Clone)]
pub struct TimeoutScope {
    inner: Rc<Inner>,
}

struct Inner {
    when: Cell<Instant>,
    expired: Cell<bool>,
    /// The task running the work, to wake when the deadline moves.
    waker: RefCell<Option<Waker>>,
}

impl TimeoutScope {
    /// A scope whose deadline is `duration` from now.
    pub fn new(duration: Duration) -> TimeoutScope {
        TimeoutScope::at(deadline_after(duration))
    }

    /// A scope with an absolute deadline.
    pub fn at(when: Instant) -> TimeoutScope {
        TimeoutScope {
            inner: Rc::new(Inner {
                when: Cell::new(when),
                expired: Cell::new(false),
                waker: RefCell::new(None),
            }),
        }
    }

    /// The current deadline.
    pub fn when(&self) -> Instant {
        self.inner.when.get()
    }

    /// Moves the deadline (earlier or later).
    pub fn reschedule(&self, when: Instant) {
        self.inner.when.set(when);
        if let Some(waker) = self.inner.waker.borrow().as_ref() {
            waker.wake_by_ref();
        }
    }

    /// Whether the deadline passed while work ran under the scope.
    pub fn expired(&self) -> bool {
        self.inner.expired.get()
    }

    /// Runs `work` under this scope: its output, or [`TimeoutError`] (and `work` dropped) if the
    /// deadline passes first.
    pub fn run<F: Future>(&self, work: F) -> Scoped<F> {
        Scoped {
            work,
            sleep: sleep_until(self.when()),
            scope: self.clone(),
        }
    }
}

impl fmt::Debug for TimeoutScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TimeoutScope")
            .field("when", &self.when())
            .field("expired", &self.expired())
            .finish()
    }
}

pin_project_lite::pin_project! {
    /// The future of [`TimeoutScope::run`].
    #[must_use = "futures do nothing unless awaited"]
    pub struct Scoped<F> {
        #[pin]
        work: F,
        sleep: Sleep,
        scope: TimeoutScope,
    }
}

impl<F: Future> Future for Scoped<F> {
    type Output = Result<F::Output, TimeoutError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let inner = &this.scope.inner;
        {
            let mut waker = inner.waker.borrow_mut();
            if !waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                *waker = Some(cx.waker().clone());
            }
        }
        if let Poll::Ready(output) = this.work.poll(cx) {
            return Poll::Ready(Ok(output));
        }
        if this.sleep.deadline() != inner.when.get() {
            this.sleep.reset(inner.when.get());
        }
        match Pin::new(this.sleep).poll(cx) {
            Poll::Ready(()) => {
                inner.expired.set(true);
                Poll::Ready(Err(TimeoutError::new()))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}
