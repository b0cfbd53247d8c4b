//! `Co`: the generator body's handle for yielding.

use std::cell::Cell;
use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use super::{Body, Gen, GenError, GenState};

/// The hand-off between the caller and the body: the value the body yielded, and what the
/// caller resumed it with. Plain `Cell`s: each side only ever moves a value in or out. A sent
/// value and an interrupt have cells of their own so that the common case, a send, costs the
/// body a single test.
pub(crate) struct Slot<Y, S, E> {
    pub(crate) yielded: Cell<Option<Y>>,
    pub(crate) sent: Cell<Option<S>>,
    pub(crate) interrupt: Cell<Option<Interrupt<E>>>,
}

impl<Y, S, E> Slot<Y, S, E> {
    pub(crate) fn new() -> Self {
        Slot {
            yielded: Cell::new(None),
            sent: Cell::new(None),
            interrupt: Cell::new(None),
        }
    }
}

pub(crate) type Shared<Y, S, E> = Rc<Slot<Y, S, E>>;

/// What a suspended `yield` evaluates to instead of a sent value: the caller threw an error in
/// (Python's `gen.throw(exc)`) or is closing the generator (Python's `GeneratorExit`).
///
/// Let it propagate with `?` to end the generator, or match on it to handle it and go on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Interrupt<E> {
    /// The caller called [`Gen::throw`] with this error.
    Thrown(E),
    /// The caller called [`Gen::close`]: clean up and return; yielding again is an error.
    Closed,
}

impl<E: fmt::Display> fmt::Display for Interrupt<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Interrupt::Thrown(e) => write!(f, "{e}"),
            Interrupt::Closed => f.write_str("the generator is being closed"),
        }
    }
}

impl<E: fmt::Debug + fmt::Display> std::error::Error for Interrupt<E> {}

/// The body's side of a generator: [`yield_`](Co::yield_) hands a value to the caller and
/// evaluates to what the caller sends back — Python's `x = yield value`.
pub struct Co<Y, S = (), E = std::convert::Infallible> {
    shared: Shared<Y, S, E>,
}

impl<Y, S, E> Co<Y, S, E> {
    pub(crate) fn new(shared: Shared<Y, S, E>) -> Co<Y, S, E> {
        Co { shared }
    }

    /// Suspends the body, handing `value` to the caller; evaluates to the value the caller
    /// sends next, or to an [`Interrupt`] if the caller throws or closes instead.
    ///
    /// Await it: `co.yield_(v).await`. Nothing happens until then — the value is handed over
    /// when the yield is awaited (see [`Yield`]).
    #[inline]
    pub fn yield_(&self, value: Y) -> Yield<'_, Y, S, E> {
        Yield {
            slot: &self.shared,
            value,
        }
    }

    /// Delegates to `inner` until it returns (Python's `yield from`): its yields go to our
    /// caller, our caller's sends, throws and closes go to it, and this evaluates to its return
    /// value. An error thrown into `inner` that it does not handle comes out here as
    /// `Interrupt::Thrown`.
    ///
    /// ```
    /// use weft::generator::{Gen, GenState};
    ///
    /// // def inner():
    /// //     x = yield "inner asks"
    /// //     return x * 10
    /// //
    /// // def outer():
    /// //     r = yield from inner()
    /// //     yield f"inner returned {r}"
    /// let mut outer: Gen<String, u32> = Gen::new(|co| async move {
    ///     let mut inner: Gen<String, u32, u32> = Gen::new(|co| async move {
    ///         let x = co.yield_("inner asks".to_string()).await?;
    ///         Ok(x * 10)
    ///     });
    ///     let r = co.yield_from(&mut inner).await?;
    ///     co.yield_(format!("inner returned {r}")).await?;
    ///     Ok(())
    /// });
    /// assert_eq!(outer.start(), Ok(GenState::Yielded("inner asks".to_string())));
    /// assert_eq!(outer.send(4), Ok(GenState::Yielded("inner returned 40".to_string())));
    /// ```
    ///
    /// # Panics
    /// If `inner` fails for another reason (it was finished already, or awaited a foreign
    /// future), which is a bug in the program.
    pub async fn yield_from<R, B>(&self, inner: &mut Gen<Y, S, R, E, B>) -> Result<R, Interrupt<E>>
    where
        B: ?Sized + Body<Y, S, R, E>,
    {
        let mut step = inner.start();
        loop {
            let resumed = match step {
                Ok(GenState::Complete(r)) => return Ok(r),
                Ok(GenState::Yielded(y)) => self.yield_(y).await,
                Err(GenError::Thrown(e)) => return Err(Interrupt::Thrown(e)),
                Err(GenError::Closed) => return Err(Interrupt::Closed),
                Err(other) => panic!(
                    "yield_from: the inner generator failed: {}",
                    other.describe()
                ),
            };
            step = match resumed {
                Ok(s) => inner.send(s),
                Err(Interrupt::Thrown(e)) => inner.throw(e),
                Err(Interrupt::Closed) => {
                    let _ = inner.close();
                    return Err(Interrupt::Closed);
                }
            };
        }
    }
}

/// A yield, not yet awaited: what [`Co::yield_`] returns.
///
/// It is [`IntoFuture`], not a future: `.await` hands the value over and turns it into a
/// [`Resumed`], so a yield that is never awaited hands over nothing, and the value never has to
/// be kept in the body's own state. (Write `co.yield_(v).into_future()` where a combinator
/// wants a `Future`.)
#[must_use = "a yield does nothing unless awaited"]
pub struct Yield<'a, Y, S, E> {
    /// The slot itself rather than the `Co`: one pointer less to follow on every resume.
    slot: &'a Slot<Y, S, E>,
    value: Y,
}

impl<'a, Y, S, E> IntoFuture for Yield<'a, Y, S, E> {
    type Output = Result<S, Interrupt<E>>;
    type IntoFuture = Resumed<'a, Y, S, E>;

    #[inline]
    fn into_future(self) -> Resumed<'a, Y, S, E> {
        self.slot.yielded.set(Some(self.value));
        Resumed {
            slot: self.slot,
            suspended: false,
        }
    }
}

/// An awaited [`Yield`]: pending until the caller resumes the generator, then the value it
/// sent, or the [`Interrupt`] it threw in.
#[must_use = "a yield does nothing unless awaited"]
pub struct Resumed<'a, Y, S, E> {
    slot: &'a Slot<Y, S, E>,
    /// Set by the first poll, which only suspends: the value is already with the caller.
    suspended: bool,
}

impl<Y, S, E> Unpin for Resumed<'_, Y, S, E> {}

impl<Y, S, E> Future for Resumed<'_, Y, S, E> {
    type Output = Result<S, Interrupt<E>>;

    #[inline]
    fn poll(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Self::Output> {
        if !self.suspended {
            self.suspended = true;
            return Poll::Pending;
        }
        if let Some(s) = self.slot.sent.take() {
            return Poll::Ready(Ok(s));
        }
        match self.slot.interrupt.take() {
            Some(interrupt) => Poll::Ready(Err(interrupt)),
            // Polled again without being resumed (say, by a combinator): stay suspended.
            None => Poll::Pending,
        }
    }
}
