//! `Co`: the generator body's handle for yielding.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use super::{Body, Gen, GenError, GenState};

/// The hand-off between the caller and the body: the value the body yielded, and what the
/// caller resumed it with (a sent value, or an interrupt).
///
/// `resume` is a `RefCell` so that a yield can look at it without writing it: the first poll
/// of every yield finds it empty and suspends, and that look is a load, where taking from a
/// `Cell` would store `None` over `None`, and a first-poll flag in the yield would be written
/// twice. Neither side holds a borrow across code it does not control, so the borrows cannot
/// conflict.
pub(crate) struct Slot<Y, S, E> {
    pub(crate) yielded: Cell<Option<Y>>,
    resume: RefCell<Option<Result<S, Interrupt<E>>>>,
}

impl<Y, S, E> Slot<Y, S, E> {
    pub(crate) fn new() -> Self {
        Slot {
            yielded: Cell::new(None),
            resume: RefCell::new(None),
        }
    }

    /// The caller's half: what the pending yield will evaluate to.
    #[inline(always)]
    pub(crate) fn resume_with(&self, resumed: Result<S, Interrupt<E>>) {
        // Anything left over (from a yield a combinator never polled again) is dropped after
        // the borrow ends.
        drop(self.resume.replace(Some(resumed)));
    }

    /// The body's half: what the caller resumed the body with, if it has.
    #[inline(always)]
    fn take_resumed(&self) -> Option<Result<S, Interrupt<E>>> {
        if self.resume.borrow().is_none() {
            return None;
        }
        self.resume.take()
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
    /// `inner` may have started already: like Python's `yield from`, which begins with
    /// `send(None)`, this then resumes it where it stands with `S::default()` (`()` for the
    /// usual generator, Python's `None`), and its next yield goes to our caller.
    ///
    /// # Panics
    /// If `inner` fails for another reason (it was finished already, or awaited a foreign
    /// future), which is a bug in the program.
    pub async fn yield_from<R, B>(&self, inner: &mut Gen<Y, S, R, E, B>) -> Result<R, Interrupt<E>>
    where
        S: Default,
        B: ?Sized + Body<Y, S, R, E>,
    {
        let mut step = if inner.is_started() {
            inner.send(S::default())
        } else {
            inner.start()
        };
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
        Resumed { slot: self.slot }
    }
}

/// An awaited [`Yield`]: pending until the caller resumes the generator, then the value it
/// sent, or the [`Interrupt`] it threw in.
#[must_use = "a yield does nothing unless awaited"]
pub struct Resumed<'a, Y, S, E> {
    slot: &'a Slot<Y, S, E>,
}

impl<Y, S, E> Unpin for Resumed<'_, Y, S, E> {}

impl<Y, S, E> Future for Resumed<'_, Y, S, E> {
    type Output = Result<S, Interrupt<E>>;

    #[inline]
    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Self::Output> {
        // Empty on the first poll, which suspends: the value is already with the caller. Empty
        // also if polled again without being resumed (say, by a combinator): stay suspended.
        self.slot.take_resumed().map_or(Poll::Pending, Poll::Ready)
    }
}
