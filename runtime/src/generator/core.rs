//! The machinery shared by `Gen` and `AsyncGen`: the body future, the slot, and one step.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use super::co::{Co, Interrupt, Resume, Slot};
use super::{GenError, GenState};

type Body<R, E> = Pin<Box<dyn Future<Output = Result<R, Interrupt<E>>>>>;

pub(crate) struct GenCore<Y, S, R, E> {
    slot: Rc<Slot<Y, S, E>>,
    /// `None` once the body has finished (returned, failed, panicked or was closed).
    body: Option<Body<R, E>>,
    started: bool,
    /// The caller asked to close and the body has not finished yet.
    closing: bool,
    /// Set while the body is being polled; still set afterwards means it panicked.
    poisoned: bool,
}

impl<Y: 'static, S: 'static, R: 'static, E: 'static> GenCore<Y, S, R, E> {
    pub(crate) fn new<F, Fut>(body: F) -> Self
    where
        F: FnOnce(Co<Y, S, E>) -> Fut,
        Fut: Future<Output = Result<R, Interrupt<E>>> + 'static,
    {
        let slot = Rc::new(Slot {
            yielded: Cell::new(None),
            resume: Cell::new(None),
        });
        let body = body(Co::new(slot.clone()));
        GenCore {
            slot,
            body: Some(Box::pin(body)),
            started: false,
            closing: false,
            poisoned: false,
        }
    }
}

impl<Y, S, R, E> GenCore<Y, S, R, E> {
    pub(crate) fn is_finished(&self) -> bool {
        self.body.is_none() || self.poisoned
    }

    pub(crate) fn is_started(&self) -> bool {
        self.started
    }

    /// Checks that `resume` is allowed now and leaves it for the body; `None` starts it.
    #[inline(always)]
    pub(crate) fn prepare(&mut self, resume: Option<Resume<S, E>>) -> Result<(), GenError<E>> {
        if self.body.is_none() {
            return Err(GenError::Finished);
        }
        match (&resume, self.started) {
            (None, true) => return Err(GenError::AlreadyStarted),
            (Some(Resume::Value(_)), false) => return Err(GenError::NotStarted),
            (Some(Resume::Throw(_)), false) => {
                // Thrown before the first step: it surfaces at once (the body never runs).
                self.body = None;
                let Some(Resume::Throw(e)) = resume else {
                    unreachable!()
                };
                return Err(GenError::Thrown(e));
            }
            _ => {}
        }
        self.started = true;
        if matches!(resume, Some(Resume::Close)) {
            self.closing = true;
        }
        self.slot.resume.set(resume);
        Ok(())
    }

    /// Runs the body until it yields or ends. `Pending` means it awaits something other than a
    /// yield (for `AsyncGen`, a timer or a socket; for `Gen`, an error).
    #[inline(always)]
    pub(crate) fn poll_step(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Result<GenState<Y, R>, GenError<E>>> {
        if self.poisoned {
            self.abandon();
        }
        let Some(body) = self.body.as_mut() else {
            return Poll::Ready(Err(GenError::Finished));
        };
        // Stays set if the body panics: the generator then counts as finished, as in Python.
        self.poisoned = true;
        let polled = body.as_mut().poll(cx);
        self.poisoned = false;
        let closing = std::mem::take(&mut self.closing);
        let result = match polled {
            Poll::Ready(Ok(r)) => Ok(GenState::Complete(r)),
            Poll::Ready(Err(Interrupt::Thrown(e))) => Err(GenError::Thrown(e)),
            Poll::Ready(Err(Interrupt::Closed)) => Err(GenError::Closed),
            Poll::Pending => match self.slot.yielded.take() {
                Some(y) if !closing => return Poll::Ready(Ok(GenState::Yielded(y))),
                Some(_) => Err(GenError::IgnoredClose), // the body is dropped below
                None => {
                    self.closing = closing;
                    return Poll::Pending;
                }
            },
        };
        self.body = None;
        Poll::Ready(result)
    }

    /// A finished generator closes as a no-op, and an unstarted one is simply dropped: true
    /// then. Otherwise the caller must step it with `Resume::Close`.
    pub(crate) fn close_needs_no_step(&mut self) -> bool {
        if !self.is_finished() && !self.started {
            self.abandon();
        }
        self.is_finished()
    }

    /// What `close` returns after its step: the body's return value, nothing if it let the
    /// interrupt propagate, or the error.
    pub(crate) fn close_outcome(
        step: Result<GenState<Y, R>, GenError<E>>,
    ) -> Result<Option<R>, GenError<E>> {
        match step {
            Ok(GenState::Complete(r)) => Ok(Some(r)),
            Ok(GenState::Yielded(_)) => unreachable!("a yield while closing is IgnoredClose"),
            Err(GenError::Closed) => Ok(None),
            Err(other) => Err(other),
        }
    }

    /// Drops the body now (a `Gen` awaited something foreign).
    pub(crate) fn abandon(&mut self) {
        self.body = None;
        self.poisoned = false;
    }
}
