//! Generators with Python's whole protocol — `send`, `throw`, `close`, `yield from` — on
//! stable Rust, built on async/await.
//!
//! The body of a generator is an async closure that receives a [`Co`]; `co.yield_(v).await`
//! hands `v` to the caller and evaluates to what the caller sends back:
//!
//! | Python | weft |
//! |---|---|
//! | `def gen(): ... x = yield v ... return r` | `Gen::new(\|co\| async move { let x = co.yield_(v).await?; ...; Ok(r) })` |
//! | a generator function over borrowed data, `def words(text): ...` | `fn words(text: &str) -> Gen<&str, (), (), Infallible, impl Body<...>>` made with [`Gen::new_typed`] |
//! | `next(g)` (priming) | [`g.start()`](Gen::start) (or iterate: a `Gen<Y, ()>` is an `Iterator`) |
//! | `g.send(x)` | [`g.send(x)`](Gen::send) |
//! | `g.throw(exc)` | [`g.throw(e)`](Gen::throw): the `yield_` evaluates to `Err(Interrupt::Thrown(e))` |
//! | `g.close()` / `GeneratorExit` | [`g.close()`](Gen::close): the `yield_` evaluates to `Err(Interrupt::Closed)` |
//! | `StopIteration(r).value` | `Ok(GenState::Complete(r))` |
//! | `yield from sub` | [`co.yield_from(&mut sub).await`](Co::yield_from) |
//! | `async def` generator | [`AsyncGen`]: the body may also await sleeps, sockets, channels |
//! | Beazley's `@coroutine` push stage, shared by several senders | [`Sink`]: primed when made, cloned to share |
//!
//! (The module is `generator`, not `gen`: `gen` is a reserved word in Rust 2024.)
//!
//! A `Gen` runs without any runtime: the caller drives it directly. Its body must await only
//! `yield_`s; awaiting anything else (a sleep, a socket) is reported as
//! [`GenError::ForeignAwait`] — use an [`AsyncGen`] for that. Re-entering a generator from its
//! own body cannot be written: every resuming method takes `&mut self`.
//!
//! Python's running-sum coroutine, primed and fed:
//!
//! ```
//! use weft::generator::{Gen, GenState};
//!
//! let mut averager: Gen<f64, f64> = Gen::new(|co| async move {
//!     let (mut total, mut count) = (0.0, 0.0);
//!     let mut average = 0.0;
//!     loop {
//!         let value = co.yield_(average).await?; // `?` ends the generator on close or throw
//!         total += value;
//!         count += 1.0;
//!         average = total / count;
//!     }
//! });
//! assert_eq!(averager.start(), Ok(GenState::Yielded(0.0))); // Python's priming next()
//! assert_eq!(averager.send(10.0), Ok(GenState::Yielded(10.0)));
//! assert_eq!(averager.send(20.0), Ok(GenState::Yielded(15.0)));
//! assert_eq!(averager.close(), Ok(None));
//! ```

mod async_gen;
mod co;
mod machine;
mod sink;
mod sync_gen;

use std::fmt;

pub use async_gen::AsyncGen;
pub use co::{Co, Interrupt, Resumed, Yield};
pub use sink::Sink;
pub use sync_gen::Gen;

/// A generator's body with its bookkeeping, as the last type parameter of [`Gen`] names it.
///
/// [`Gen::new`] hides the body behind `dyn Body`, so every generator with the same yield,
/// send, return and error types has the same type; [`Gen::new_typed`] keeps the body's own
/// type, written `impl Body<Y, S, R, E>` in a function's return type. Only weft implements it.
pub trait Body<Y, S, R, E>: machine::Step<Y, S, R, E> {}

/// What one step of a generator produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GenState<Y, R> {
    /// The body yielded this value and is suspended.
    Yielded(Y),
    /// The body returned this value (Python's `StopIteration.value`); the generator is finished.
    Complete(R),
}

/// Why a generator step failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GenError<E> {
    /// An error thrown in with `throw` was not handled by the body: it propagates, as in
    /// Python, and the generator is finished.
    Thrown(E),
    /// The body ended by propagating [`Interrupt::Closed`] outside of `close`.
    Closed,
    /// The generator already finished (Python: a finished generator raises `StopIteration`
    /// again).
    Finished,
    /// `send` of a value before the first step (Python: `TypeError: can't send non-None value
    /// to a just-started generator`); call `start` first. Sending `()` (Python's `None`)
    /// starts the generator instead.
    NotStarted,
    /// `start` on a generator that already started.
    AlreadyStarted,
    /// The body yielded again while being closed (Python: `RuntimeError: generator ignored
    /// GeneratorExit`). It was dropped anyway.
    IgnoredClose,
    /// A [`Sink`] was sent to by its own body, while it was running (Python: `ValueError:
    /// generator already executing`).
    AlreadyRunning,
    /// A plain [`Gen`]'s body awaited something that is not a `yield_`; use an [`AsyncGen`].
    /// The generator is finished.
    ForeignAwait,
}

impl<E> GenError<E> {
    /// What went wrong, for every kind but `Thrown` (which carries the error itself).
    pub(crate) fn describe(&self) -> &'static str {
        match self {
            GenError::Thrown(_) => "the generator did not handle the error thrown in",
            GenError::Closed => "the generator ended with a close interrupt",
            GenError::Finished => "the generator has already finished",
            GenError::NotStarted => {
                "cannot send a value to a generator that has not started; call start() first"
            }
            GenError::AlreadyStarted => "the generator has already started",
            GenError::IgnoredClose => "the generator yielded while being closed",
            GenError::AlreadyRunning => "the generator is already running (it sent to itself)",
            GenError::ForeignAwait => {
                "a Gen's body awaited something other than co.yield_(); use AsyncGen for bodies \
                 that await sleeps, sockets or channels"
            }
        }
    }
}

impl<E: fmt::Display> fmt::Display for GenError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GenError::Thrown(e) => write!(f, "{}: {e}", self.describe()),
            other => f.write_str(other.describe()),
        }
    }
}

impl<E: fmt::Debug + fmt::Display> std::error::Error for GenError<E> {}
