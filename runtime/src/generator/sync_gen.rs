//! `Gen`: a generator the caller drives directly, with no runtime.

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::task::{Context, Poll, Waker};

use super::co::{Co, Interrupt};
use super::machine::{self, GenCore, Request, StepResult, TypedCore};
use super::{Body, GenError, GenState};

/// A generator: Python's generator function and generator-based coroutine. It yields values of
/// type `Y`, is sent values of type `S`, returns `R`, and can have errors of type `E` thrown
/// into it. See the [module docs](crate::generator) for the protocol side by side with Python's.
///
/// A `Gen<Y, ()>` is an [`Iterator`] over its yields:
///
/// ```
/// use weft::generator::Gen;
///
/// // def countdown(n):
/// //     while n > 0:
/// //         yield n
/// //         n -= 1
/// fn countdown(mut n: u32) -> Gen<u32> {
///     Gen::new(move |co| async move {
///         while n > 0 {
///             co.yield_(n).await?;
///             n -= 1;
///         }
///         Ok(())
///     })
/// }
/// assert_eq!(countdown(3).collect::<Vec<_>>(), [3, 2, 1]);
/// ```
///
/// Dropping a suspended generator drops its body where it stands (its locals' destructors
/// run); [`close`](Gen::close) instead resumes it with [`Interrupt::Closed`] so the body can run
/// its own cleanup code first, like Python's `GeneratorExit`.
///
/// The last type parameter is the body's type. [`Gen::new`] leaves it at its default, `dyn
/// Body`, so the type can be written out (`Gen<u32>` above) and each step is one dynamic call;
/// [`Gen::new_typed`] keeps the body's own type, for steps the compiler can inline.
pub struct Gen<Y, S = (), R = (), E = Infallible, B: ?Sized = dyn Body<Y, S, R, E>> {
    core: GenCore<Y, S, R, E, B>,
    returned: Option<R>,
}

impl<Y: 'static, S: 'static, R: 'static, E: 'static> Gen<Y, S, R, E> {
    /// A generator running `body`, which has not started yet.
    #[inline]
    pub fn new<F, Fut>(body: F) -> Self
    where
        F: FnOnce(Co<Y, S, E>) -> Fut,
        Fut: Future<Output = Result<R, Interrupt<E>>> + 'static,
    {
        Gen {
            core: TypedCore::new(body).erase(),
            returned: None,
        }
    }
}

impl<Y, S, R, E> Gen<Y, S, R, E> {
    /// A generator running `body`, whose type keeps the body's: a function returns it as
    /// `Gen<Y, S, R, E, impl Body<Y, S, R, E>>`. Each step is then a direct call the compiler
    /// can inline into the caller's loop, where a [`Gen::new`] generator made out of the
    /// caller's sight costs a dynamic call; and the body may borrow, as it need not be
    /// `'static`. Otherwise the two behave the same.
    ///
    /// ```
    /// use std::convert::Infallible;
    /// use weft::generator::{Body, Gen};
    ///
    /// // def evens(numbers):
    /// //     for n in numbers:
    /// //         if n % 2 == 0:
    /// //             yield n
    /// fn evens(
    ///     numbers: &[u32],
    /// ) -> Gen<u32, (), (), Infallible, impl Body<u32, (), (), Infallible>> {
    ///     Gen::new_typed(move |co| async move {
    ///         for &n in numbers {
    ///             if n % 2 == 0 {
    ///                 co.yield_(n).await?;
    ///             }
    ///         }
    ///         Ok(())
    ///     })
    /// }
    /// let numbers = vec![1, 2, 3, 4, 6];
    /// assert_eq!(evens(&numbers).collect::<Vec<_>>(), [2, 4, 6]);
    /// ```
    #[inline]
    pub fn new_typed<F, Fut>(body: F) -> Gen<Y, S, R, E, impl Body<Y, S, R, E>>
    where
        F: FnOnce(Co<Y, S, E>) -> Fut,
        Fut: Future<Output = Result<R, Interrupt<E>>>,
    {
        Gen {
            core: TypedCore::new(body),
            returned: None,
        }
    }
}

impl<Y, S, R, E, B: ?Sized + Body<Y, S, R, E>> Gen<Y, S, R, E, B> {
    /// Runs the body to its first yield: Python's priming `next(g)`.
    pub fn start(&mut self) -> Result<GenState<Y, R>, GenError<E>> {
        self.step(Request::Start)
    }

    /// Resumes the body with `value` (the pending `yield_` evaluates to it) and runs it to
    /// its next yield or its end. On a generator that has not started, `send(())` starts it,
    /// as Python's `send(None)` does; any other value is refused with
    /// [`GenError::NotStarted`], as Python refuses a non-None value.
    ///
    /// ```
    /// use weft::generator::{Gen, GenState};
    ///
    /// let mut ticks: Gen<u32> = Gen::new(|co| async move {
    ///     for n in 1.. {
    ///         co.yield_(n).await?;
    ///     }
    ///     Ok(())
    /// });
    /// assert_eq!(ticks.send(()), Ok(GenState::Yielded(1))); // starts it, like send(None)
    /// assert_eq!(ticks.send(()), Ok(GenState::Yielded(2)));
    /// ```
    #[inline]
    pub fn send(&mut self, value: S) -> Result<GenState<Y, R>, GenError<E>> {
        self.core.send(value)
    }

    /// Resumes the body with an error: the pending `yield_` evaluates to
    /// `Err(Interrupt::Thrown(error))`. If the body handles it, this returns its next yield; if
    /// it lets it propagate, this returns `Err(GenError::Thrown(error))` and the generator is
    /// finished. Thrown into a generator that has not started, the error comes straight back.
    ///
    /// ```
    /// use weft::generator::{Gen, GenError, GenState, Interrupt};
    ///
    /// // def worker():
    /// //     while True:
    /// //         try:
    /// //             yield "ready"
    /// //         except ValueError as e:
    /// //             if str(e) == "fatal":
    /// //                 raise
    /// //             yield f"recovered from {e}"
    /// let mut worker: Gen<String, (), (), &str> = Gen::new(|co| async move {
    ///     loop {
    ///         match co.yield_("ready".to_string()).await {
    ///             Err(Interrupt::Thrown(e)) if e != "fatal" => {
    ///                 co.yield_(format!("recovered from {e}")).await?;
    ///             }
    ///             other => other?,
    ///         }
    ///     }
    /// });
    /// assert_eq!(worker.start(), Ok(GenState::Yielded("ready".to_string())));
    /// assert_eq!(
    ///     worker.throw("bad input"),
    ///     Ok(GenState::Yielded("recovered from bad input".to_string()))
    /// );
    /// assert_eq!(worker.throw("fatal"), Err(GenError::Thrown("fatal")));
    /// assert!(worker.is_finished());
    /// ```
    pub fn throw(&mut self, error: E) -> Result<GenState<Y, R>, GenError<E>> {
        self.step(Request::Interrupt(Interrupt::Thrown(error)))
    }

    /// Closes the generator: the pending `yield_` evaluates to `Err(Interrupt::Closed)`, the
    /// body cleans up and returns. Returns the body's return value if it returned one (Python
    /// 3.13's `close()`), `Ok(None)` if it let the interrupt propagate or had not started, and
    /// [`GenError::IgnoredClose`] if it yielded again (it is dropped anyway). Closing a
    /// finished generator does nothing.
    ///
    /// ```
    /// use weft::generator::{Gen, GenState, Interrupt};
    ///
    /// // def numbers():
    /// //     try:
    /// //         n = 0
    /// //         while True:
    /// //             yield n
    /// //             n += 1
    /// //     except GeneratorExit:
    /// //         return "stopped"        # close() returns this, as in Python 3.13
    /// let mut numbers: Gen<u32, (), &str> = Gen::new(|co| async move {
    ///     let mut n = 0;
    ///     loop {
    ///         match co.yield_(n).await {
    ///             Err(Interrupt::Closed) => return Ok("stopped"),
    ///             other => other?,
    ///         }
    ///         n += 1;
    ///     }
    /// });
    /// assert_eq!(numbers.start(), Ok(GenState::Yielded(0)));
    /// assert_eq!(numbers.send(()), Ok(GenState::Yielded(1)));
    /// assert_eq!(numbers.close(), Ok(Some("stopped")));
    /// assert_eq!(numbers.close(), Ok(None)); // closing twice is fine
    /// ```
    pub fn close(&mut self) -> Result<Option<R>, GenError<E>> {
        if self.core.close_needs_no_step() {
            return Ok(None);
        }
        machine::close_outcome(self.step(Request::Interrupt(Interrupt::Closed)))
    }

    /// Whether the body has started running (Python: `inspect.getgeneratorstate(g)` is no
    /// longer `GEN_CREATED`).
    pub fn is_started(&self) -> bool {
        self.core.is_started()
    }

    /// Whether the body has finished.
    pub fn is_finished(&self) -> bool {
        self.core.is_finished()
    }

    /// The value the body returned, once, after iteration ended (Python's
    /// `StopIteration.value`).
    pub fn take_return_value(&mut self) -> Option<R> {
        self.returned.take()
    }

    fn step(&mut self, request: Request<S, E>) -> Result<GenState<Y, R>, GenError<E>> {
        let polled = self
            .core
            .step(request, &mut Context::from_waker(Waker::noop()));
        self.settle(polled)
    }

    /// A plain `Gen` has nothing to wait for: a step that did not yield or end is an error.
    #[inline(always)]
    fn settle(&mut self, polled: StepResult<Y, R, E>) -> Result<GenState<Y, R>, GenError<E>> {
        match polled {
            Poll::Ready(result) => result,
            Poll::Pending => self.core.foreign_await(),
        }
    }
}

impl<Y, R, E, B: ?Sized + Body<Y, (), R, E>> Gen<Y, (), R, E, B> {
    /// The next step of a generator that is sent nothing: `start` the first time, then
    /// `send(())` — Python's `next(g)`.
    pub fn resume(&mut self) -> Result<GenState<Y, R>, GenError<E>> {
        if self.core.is_started() {
            self.send(())
        } else {
            self.start()
        }
    }
}

/// Iterates over the yields; the return value is kept for [`Gen::take_return_value`].
///
/// # Panics
/// If the body awaits something other than a yield (see [`GenError::ForeignAwait`]).
impl<Y, R, E: fmt::Display, B: ?Sized + Body<Y, (), R, E>> Iterator for Gen<Y, (), R, E, B> {
    type Item = Y;

    fn next(&mut self) -> Option<Y> {
        match self.resume() {
            Ok(GenState::Yielded(y)) => Some(y),
            Ok(GenState::Complete(r)) => {
                self.returned = Some(r);
                None
            }
            Err(GenError::Finished) => None,
            Err(err) => panic!("generator failed during iteration: {err}"),
        }
    }
}

impl<Y, S, R, E, B: ?Sized + Body<Y, S, R, E>> fmt::Debug for Gen<Y, S, R, E, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Gen")
            .field("started", &self.core.is_started())
            .field("finished", &self.core.is_finished())
            .finish()
    }
}
