//! `Co`: the generator body's handle for yielding.

use std::cell::Cell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use super::{Gen, GenError, GenState};

/// How the caller resumed a generator suspended at a yield.
pub(crate) enum Resume<S, E> {
    Value(S),
    Throw(E),
    Close,
}

/// The hand-off between the caller and the body: the value the body yielded, and the way the
/// caller resumed it. Plain `Cell`s: each side only ever moves a value in or out.
pub(crate) struct Slot<Y, S, E> {
    pub(crate) yielded: Cell<Option<Y>>,
    pub(crate) resume: Cell<Option<Resume<S, E>>>,
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
    pub fn yield_(&self, value: Y) -> Yield<'_, Y, S, E> {
        Yield {
            slot: &self.shared,
            value: Some(value),
        }
    }

    /// Delegates to `inner` until it returns (Python's `yield from`): its yields go to our
    /// caller, our caller's sends, throws and closes go to it, and this evaluates to its return
    /// value. An error thrown into `inner` that it does not handle comes out here as
    /// `Interrupt::Thrown`.
    ///
    /// # Panics
    /// If `inner` fails for another reason (it was finished already, or awaited a foreign
    /// future), which is a bug in the program.
    pub async fn yield_from<R>(&self, inner: &mut Gen<Y, S, R, E>) -> Result<R, Interrupt<E>> {
        let mut step = inner.start();
        loop {
            let resume = match step {
                Ok(GenState::Complete(r)) => return Ok(r),
                Ok(GenState::Yielded(y)) => self.suspend(y).await,
                Err(GenError::Thrown(e)) => return Err(Interrupt::Thrown(e)),
                Err(GenError::Closed) => return Err(Interrupt::Closed),
                Err(other) => panic!(
                    "yield_from: the inner generator failed: {}",
                    other.describe()
                ),
            };
            step = match resume {
                Resume::Value(s) => inner.send(s),
                Resume::Throw(e) => inner.throw(e),
                Resume::Close => {
                    let _ = inner.close();
                    return Err(Interrupt::Closed);
                }
            };
        }
    }

    async fn suspend(&self, value: Y) -> Resume<S, E> {
        Suspend {
            slot: &self.shared,
            value: Some(value),
        }
        .await
    }
}

/// The future of [`Co::yield_`].
#[must_use = "a yield does nothing unless awaited"]
pub struct Yield<'a, Y, S, E> {
    /// The slot itself rather than the `Co`: one pointer less to follow on every resume.
    slot: &'a Slot<Y, S, E>,
    value: Option<Y>,
}

impl<Y, S, E> Unpin for Yield<'_, Y, S, E> {}

impl<Y, S, E> Future for Yield<'_, Y, S, E> {
    type Output = Result<S, Interrupt<E>>;

    fn poll(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Self::Output> {
        let slot = self.slot;
        let value = &mut self.value;
        poll_suspend(slot, value).map(|resume| match resume {
            Resume::Value(s) => Ok(s),
            Resume::Throw(e) => Err(Interrupt::Thrown(e)),
            Resume::Close => Err(Interrupt::Closed),
        })
    }
}

/// Like `Yield`, but hands back the raw resume (for `yield_from`).
struct Suspend<'a, Y, S, E> {
    slot: &'a Slot<Y, S, E>,
    value: Option<Y>,
}

impl<Y, S, E> Unpin for Suspend<'_, Y, S, E> {}

impl<Y, S, E> Future for Suspend<'_, Y, S, E> {
    type Output = Resume<S, E>;

    fn poll(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Resume<S, E>> {
        let slot = self.slot;
        poll_suspend(slot, &mut self.value)
    }
}

/// First poll: leave the value for the caller and suspend. Next poll (the caller resumed us):
/// take what the caller left.
fn poll_suspend<Y, S, E>(slot: &Slot<Y, S, E>, value: &mut Option<Y>) -> Poll<Resume<S, E>> {
    if let Some(v) = value.take() {
        slot.yielded.set(Some(v));
        return Poll::Pending;
    }
    match slot.resume.take() {
        Some(resume) => Poll::Ready(resume),
        // Polled again without being resumed (say, by a combinator): stay suspended.
        None => Poll::Pending,
    }
}
