//! The machinery shared by `Gen` and `AsyncGen`: the body future with its bookkeeping, boxed
//! once, and one step of the protocol.
//!
//! A step is a single call into [`Step::step`], which is compiled for the body's own future
//! type — a dynamic call when the generator's type hides the body's, a direct one the compiler
//! may inline when it keeps it (`Gen::new_typed`). The checks, the hand-off through the slot
//! and the body's state machine are inlined into one function that reaches everything through
//! one pointer. (An earlier layout kept the bookkeeping in the caller and called the body's
//! `Future::poll` through the vtable; the call boundary in the middle of the step cost more
//! than the step itself.)

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use super::co::{Co, Interrupt, Slot};
use super::{Body, GenError, GenState};

/// Where the body stands between steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Not run yet: only `start` (or a throw, or a close) is allowed.
    Unstarted,
    /// Suspended at a yield, waiting to be resumed.
    Suspended,
    /// An `AsyncGen` body awaits something other than a yield (a timer, a socket); the step
    /// goes on when it is polled again.
    Awaiting,
    /// The same, in the middle of a close.
    AwaitingClose,
    /// A poll of the body panicked: the generator counts as finished, as a Python generator
    /// that raised does. The body is dropped at the next step, or with the generator.
    Panicked,
    /// Returned, failed, was closed or dropped its body.
    Finished,
}

/// What the caller asks one step to do: start the body, resume it from its yield with a value
/// or an interrupt, or (for an `AsyncGen` whose body awaits something) go on with the step
/// under way.
pub enum Request<S, E> {
    Start,
    Send(S),
    Interrupt(Interrupt<E>),
    Continue,
}

/// One step's outcome as it crosses the vtable: small enough (for a small `Y`) to come back in
/// registers. How the body ended is fetched with [`Step::take_ending`] only when it did.
pub enum Stepped<Y> {
    Yielded(Y),
    /// The body returned or failed, or the request was refused.
    Ended,
    /// The body awaits something other than a yield.
    Pending,
}

/// One step's outcome; `Pending` means the body awaits something other than a yield.
pub(crate) type StepResult<Y, R, E> = Poll<Result<GenState<Y, R>, GenError<E>>>;

/// A generator body and its bookkeeping behind one object-safe interface, so that `Gen` and
/// `AsyncGen` can name their type without naming the body's. Public but unreachable from
/// outside the crate: it is the sealed half of [`Body`].
pub trait Step<Y, S, R, E> {
    /// Checks that `request` is allowed now, hands it to the body and runs the body until it
    /// yields, ends or awaits something else.
    fn step(self: Pin<&mut Self>, request: Request<S, E>, cx: &mut Context<'_>) -> Stepped<Y>;

    /// `step(Request::Send(value))` for a plain `Gen`, with the common case — a body
    /// suspended at a yield — tested first and alone. The (no-op) context is made here, where
    /// the compiler can see that the body never looks at it.
    fn send(self: Pin<&mut Self>, value: S) -> Stepped<Y>;

    /// After `Stepped::Ended`: the return value or the error.
    fn take_ending(self: Pin<&mut Self>) -> Result<R, GenError<E>>;

    /// Drops the body where it stands (its locals' destructors run); the generator is finished.
    fn abandon(self: Pin<&mut Self>);

    fn is_started(&self) -> bool;

    fn is_finished(&self) -> bool;
}

pin_project_lite::pin_project! {
    /// The boxed state of one generator.
    pub(crate) struct Machine<Y, S, R, E, F> {
        slot: Rc<Slot<Y, S, E>>,
        phase: Phase,
        // How the last step ended, until `take_ending`.
        ending: Option<Result<R, GenError<E>>>,
        // `None` once the body has finished: its destructors have run.
        #[pin]
        body: Option<F>,
    }
}

impl<Y, S, R, E, F> Machine<Y, S, R, E, F>
where
    F: Future<Output = Result<R, Interrupt<E>>>,
{
    /// Polls the body once the request has been handed over; `closing` if it was a close. A
    /// `send` to a suspended body passes `resumed: true`: if the body yields again its phase is
    /// still right, so that step stores nothing but the values it hands over.
    #[inline(always)]
    fn run(
        mut self: Pin<&mut Self>,
        closing: bool,
        resumed: bool,
        cx: &mut Context<'_>,
    ) -> Stepped<Y> {
        let this = self.as_mut().project();
        let Some(body) = this.body.as_pin_mut() else {
            return self.end(Err(GenError::Finished));
        };
        let polled = {
            let guard = PanicGuard(this.phase);
            let polled = body.poll(cx);
            std::mem::forget(guard);
            polled
        };
        let ending = match polled {
            Poll::Pending => match this.slot.yielded.take() {
                Some(y) if !closing => {
                    if !resumed {
                        *this.phase = Phase::Suspended;
                    }
                    return Stepped::Yielded(y);
                }
                Some(_) => Err(GenError::IgnoredClose), // the body is dropped below
                None => {
                    *this.phase = if closing {
                        Phase::AwaitingClose
                    } else {
                        Phase::Awaiting
                    };
                    return Stepped::Pending;
                }
            },
            Poll::Ready(Ok(r)) => Ok(r),
            Poll::Ready(Err(Interrupt::Thrown(e))) => Err(GenError::Thrown(e)),
            Poll::Ready(Err(Interrupt::Closed)) => Err(GenError::Closed),
        };
        self.as_mut().abandon();
        self.end(ending)
    }

    /// A send to a body that is not suspended at a yield: an error, kept out of `send` so
    /// that its common path needs no stack frame.
    #[cold]
    #[inline(never)]
    fn send_otherwise(self: Pin<&mut Self>, value: S) -> Stepped<Y> {
        self.step(
            Request::Send(value),
            &mut Context::from_waker(Waker::noop()),
        )
    }

    /// Keeps `ending` for `take_ending`.
    #[cold]
    fn end(self: Pin<&mut Self>, ending: Result<R, GenError<E>>) -> Stepped<Y> {
        *self.project().ending = Some(ending);
        Stepped::Ended
    }
}

impl<Y, S, R, E, F> Step<Y, S, R, E> for Machine<Y, S, R, E, F>
where
    F: Future<Output = Result<R, Interrupt<E>>>,
{
    fn step(mut self: Pin<&mut Self>, request: Request<S, E>, cx: &mut Context<'_>) -> Stepped<Y> {
        let closing = match (self.phase, request) {
            (Phase::Suspended, Request::Send(value)) => {
                self.slot.resume_with(Ok(value));
                false
            }
            (Phase::Suspended, Request::Interrupt(interrupt)) => {
                let closing = matches!(interrupt, Interrupt::Closed);
                self.slot.resume_with(Err(interrupt));
                closing
            }
            (Phase::Unstarted, Request::Start) | (Phase::Awaiting, _) => false,
            // Python's `send(None)` starts a fresh generator. A sent value that carries no
            // data (`()`, any zero-sized type) is that `None`; it has no yield to go to.
            (Phase::Unstarted, Request::Send(_)) if std::mem::size_of::<S>() == 0 => false,
            (Phase::AwaitingClose, _) => true,
            (Phase::Unstarted, Request::Interrupt(interrupt)) => {
                // Thrown before the first step: it surfaces at once (the body never runs).
                self.as_mut().abandon();
                return self.end(Err(match interrupt {
                    Interrupt::Thrown(e) => GenError::Thrown(e),
                    Interrupt::Closed => GenError::Closed,
                }));
            }
            (Phase::Unstarted, _) => return self.end(Err(GenError::NotStarted)),
            (Phase::Suspended, _) => return self.end(Err(GenError::AlreadyStarted)),
            (Phase::Panicked | Phase::Finished, _) => {
                self.as_mut().abandon();
                return self.end(Err(GenError::Finished));
            }
        };
        self.run(closing, false, cx)
    }

    #[inline(always)]
    fn send(self: Pin<&mut Self>, value: S) -> Stepped<Y> {
        if self.phase != Phase::Suspended {
            return self.send_otherwise(value);
        }
        self.slot.resume_with(Ok(value));
        self.run(false, true, &mut Context::from_waker(Waker::noop()))
    }

    fn take_ending(self: Pin<&mut Self>) -> Result<R, GenError<E>> {
        self.project()
            .ending
            .take()
            .unwrap_or(Err(GenError::Finished))
    }

    fn abandon(self: Pin<&mut Self>) {
        let mut this = self.project();
        *this.phase = Phase::Finished;
        this.body.set(None);
    }

    fn is_started(&self) -> bool {
        self.phase != Phase::Unstarted
    }

    fn is_finished(&self) -> bool {
        matches!(self.phase, Phase::Finished | Phase::Panicked)
    }
}

impl<Y, S, R, E, F> Body<Y, S, R, E> for Machine<Y, S, R, E, F> where
    F: Future<Output = Result<R, Interrupt<E>>>
{
}

/// Marks the generator `Panicked` if dropped, which only happens when a poll of the body
/// unwinds: on return it is forgotten, so the common path pays nothing for it.
struct PanicGuard<'a>(&'a mut Phase);

impl Drop for PanicGuard<'_> {
    fn drop(&mut self) {
        *self.0 = Phase::Panicked;
    }
}

/// A generator's body behind its [`Step`] interface: what `Gen` and `AsyncGen` hold. `M` is
/// the body's own [`Machine`] type, or `dyn Body` when the generator's type hides it.
pub(crate) struct GenCore<Y, S, R, E, M: ?Sized> {
    // `Y`, `S`, `R` and `E` appear only in `M`'s bounds; the machine holds values of them.
    types: PhantomData<(Y, S, R, E)>,
    machine: Pin<Box<M>>,
}

/// The core of a generator whose type names its body's.
pub(crate) type TypedCore<Y, S, R, E, F> = GenCore<Y, S, R, E, Machine<Y, S, R, E, F>>;

impl<Y, S, R, E, F> TypedCore<Y, S, R, E, F>
where
    F: Future<Output = Result<R, Interrupt<E>>>,
{
    /// Boxes `body`, handing it the `Co` that yields through a fresh slot. Inlined so that a
    /// caller that creates and drives a generator in one place can see the body's type and
    /// call it directly even once it is hidden behind `dyn Body`.
    #[inline]
    pub(crate) fn new<Make>(body: Make) -> Self
    where
        Make: FnOnce(Co<Y, S, E>) -> F,
    {
        let slot = Rc::new(Slot::new());
        let body = body(Co::new(slot.clone()));
        GenCore {
            types: PhantomData,
            machine: Box::pin(Machine {
                slot,
                phase: Phase::Unstarted,
                ending: None,
                body: Some(body),
            }),
        }
    }

    /// The same core behind `dyn Body`, so that its type no longer names the body's.
    #[inline]
    pub(crate) fn erase(self) -> GenCore<Y, S, R, E, dyn Body<Y, S, R, E>>
    where
        Y: 'static,
        S: 'static,
        R: 'static,
        E: 'static,
        F: 'static,
    {
        GenCore {
            types: PhantomData,
            machine: self.machine,
        }
    }
}

impl<Y, S, R, E, M: ?Sized + Step<Y, S, R, E>> GenCore<Y, S, R, E, M> {
    /// One step; see [`Request`].
    pub(crate) fn step(
        &mut self,
        request: Request<S, E>,
        cx: &mut Context<'_>,
    ) -> StepResult<Y, R, E> {
        let stepped = self.machine.as_mut().step(request, cx);
        self.outcome(stepped)
    }

    /// `step(Request::Send(value))` for a plain `Gen`, faster. A plain `Gen` has nothing to
    /// wait for, so the result is final: a body that awaited something else is abandoned.
    #[inline(always)]
    pub(crate) fn send(&mut self, value: S) -> Result<GenState<Y, R>, GenError<E>> {
        match self.machine.as_mut().send(value) {
            Stepped::Yielded(y) => Ok(GenState::Yielded(y)),
            Stepped::Ended => self.take_ending(),
            Stepped::Pending => self.foreign_await(),
        }
    }

    #[inline(always)]
    fn outcome(&mut self, stepped: Stepped<Y>) -> StepResult<Y, R, E> {
        match stepped {
            Stepped::Yielded(y) => Poll::Ready(Ok(GenState::Yielded(y))),
            Stepped::Ended => Poll::Ready(self.take_ending()),
            Stepped::Pending => Poll::Pending,
        }
    }

    /// Inlined, as is `foreign_await`, though rare: a call that returned the whole result
    /// would return it through memory, and the common path would then go through memory too.
    /// What they call out to is small or cold.
    #[inline(always)]
    fn take_ending(&mut self) -> Result<GenState<Y, R>, GenError<E>> {
        self.machine.as_mut().take_ending().map(GenState::Complete)
    }

    /// A plain `Gen`'s body awaited something that is not a yield: it is dropped.
    #[inline(always)]
    pub(crate) fn foreign_await(&mut self) -> Result<GenState<Y, R>, GenError<E>> {
        self.abandon();
        Err(GenError::ForeignAwait)
    }

    /// Drops the body now (a `Gen` awaited something foreign, or is closed unstarted).
    #[cold]
    pub(crate) fn abandon(&mut self) {
        self.machine.as_mut().abandon();
    }

    pub(crate) fn is_started(&self) -> bool {
        self.machine.is_started()
    }

    pub(crate) fn is_finished(&self) -> bool {
        self.machine.is_finished()
    }

    /// A finished generator closes as a no-op, and an unstarted one is simply dropped: true
    /// then. Otherwise the caller must step it with `Interrupt::Closed`.
    pub(crate) fn close_needs_no_step(&mut self) -> bool {
        if !self.is_finished() && !self.is_started() {
            self.abandon();
        }
        self.is_finished()
    }
}

/// What `close` returns after its step: the body's return value, nothing if it let the
/// interrupt propagate, or the error.
pub(crate) fn close_outcome<Y, R, E>(
    step: Result<GenState<Y, R>, GenError<E>>,
) -> Result<Option<R>, GenError<E>> {
    match step {
        Ok(GenState::Complete(r)) => Ok(Some(r)),
        Ok(GenState::Yielded(_)) => unreachable!("a yield while closing is IgnoredClose"),
        Err(GenError::Closed) => Ok(None),
        Err(other) => Err(other),
    }
}
