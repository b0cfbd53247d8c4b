//! `Sink`: a push-style coroutine (Beazley's `@coroutine`) that several stages can share.

use std::cell::RefCell;
use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::rc::Rc;

use super::{Co, Gen, GenError, Interrupt};

/// A coroutine that is *sent* values and yields nothing back: a stage of David Beazley's push
/// pipelines. It is primed when made (his `@coroutine` decorator), and it is a handle: a clone
/// sends into the same coroutine, so several stages can share one target without
/// `Rc<RefCell<Gen>>`.
///
/// Name the sink's type once (an alias such as `type Lines = Sink<String>`) and make stages
/// through it: then the body's closure needs no type annotation.
///
/// ```
/// use std::cell::RefCell;
/// use std::rc::Rc;
/// use weft::generator::{Interrupt, Sink};
///
/// type Lines = Sink<String>;
///
/// // @coroutine
/// // def grep(pattern, target):
/// //     while True:
/// //         line = (yield)
/// //         if pattern in line:
/// //             target.send(line)
/// fn grep(pattern: &'static str, target: Lines) -> Lines {
///     Lines::new(move |co| async move {
///         loop {
///             let line = co.yield_(()).await?;
///             if line.contains(pattern) {
///                 let _ = target.send(line);
///             }
///         }
///     })
/// }
///
/// let seen = Rc::new(RefCell::new(Vec::new()));
/// let printer = Lines::new({
///     let seen = seen.clone();
///     move |co| async move {
///         loop {
///             let line = co.yield_(()).await?;
///             seen.borrow_mut().push(line);
///         }
///     }
/// });
/// // Two stages share one printer: a clone is the same coroutine.
/// let (errors, slow) = (grep("ERROR", printer.clone()), grep("slow", printer.clone()));
/// for line in ["ERROR disk", "ok", "slow query"] {
///     errors.send(line.to_string()).unwrap();
///     slow.send(line.to_string()).unwrap();
/// }
/// assert_eq!(*seen.borrow(), ["ERROR disk", "slow query"]);
/// printer.close().unwrap();
/// assert!(printer.is_finished());
/// ```
pub struct Sink<S, E = Infallible> {
    generator: Rc<RefCell<Gen<(), S, (), E>>>,
}

impl<S: 'static, E: 'static> Sink<S, E> {
    /// A sink running `body`, already started and waiting at its first `yield_`.
    pub fn new<F, Fut>(body: F) -> Sink<S, E>
    where
        F: FnOnce(Co<(), S, E>) -> Fut,
        Fut: Future<Output = Result<(), Interrupt<E>>> + 'static,
    {
        let mut generator = Gen::new(body);
        // A body that ends before its first yield is simply finished: sends report it.
        let _ = generator.start();
        Sink {
            generator: Rc::new(RefCell::new(generator)),
        }
    }

    /// Sends `value` into the coroutine and runs it to its next `yield_`. Fails if the
    /// coroutine has finished ([`GenError::Finished`]), if it did not handle an error, or if
    /// its own body sends into itself ([`GenError::AlreadyRunning`], Python's "generator
    /// already executing").
    pub fn send(&self, value: S) -> Result<(), GenError<E>> {
        self.with(|generator| generator.send(value).map(drop))
    }

    /// Throws `error` in at the coroutine's `yield_` (Python's `throw`).
    pub fn throw(&self, error: E) -> Result<(), GenError<E>> {
        self.with(|generator| generator.throw(error).map(drop))
    }

    /// Closes the coroutine (Python's `close`): its `yield_` evaluates to
    /// `Err(Interrupt::Closed)`, so it runs its cleanup. Closing a finished one does nothing.
    pub fn close(&self) -> Result<(), GenError<E>> {
        self.with(|generator| generator.close().map(drop))
    }

    /// Whether the coroutine has finished.
    pub fn is_finished(&self) -> bool {
        self.generator
            .try_borrow()
            .is_ok_and(|generator| generator.is_finished())
    }

    fn with(
        &self,
        step: impl FnOnce(&mut Gen<(), S, (), E>) -> Result<(), GenError<E>>,
    ) -> Result<(), GenError<E>> {
        let mut generator = self
            .generator
            .try_borrow_mut()
            .map_err(|_| GenError::AlreadyRunning)?;
        step(&mut generator)
    }
}

impl<S, E> Clone for Sink<S, E> {
    fn clone(&self) -> Self {
        Sink {
            generator: self.generator.clone(),
        }
    }
}

impl<S: 'static, E: 'static> fmt::Debug for Sink<S, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sink")
            .field("finished", &self.is_finished())
            .finish()
    }
}
