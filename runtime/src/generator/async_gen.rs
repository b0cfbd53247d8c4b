//! `AsyncGen`: a generator whose body may await anything the runtime drives.

use std::convert::Infallible;
use std::fmt;
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::task::{Context, Poll};

use super::co::{Co, Interrupt};
use super::machine::{self, GenCore, Request, TypedCore};
use super::{Body, GenError, GenState};

/// An async generator: Python's `async def` with `yield`. Same protocol as
/// [`Gen`](super::Gen), but the body may await sleeps, sockets and channels between yields, so
/// the caller awaits each step. An `AsyncGen<Y, ()>` is a `futures_core::Stream` of its yields.
///
/// ```
/// use std::time::Duration;
/// use weft::generator::AsyncGen;
///
/// weft::run(async {
///     // async def ticks(n):
///     //     for i in range(n):
///     //         await asyncio.sleep(0.001)
///     //         yield i
///     let mut ticks: AsyncGen<u32> = AsyncGen::new(|co| async move {
///         for i in 0..3 {
///             weft::time::sleep(Duration::from_millis(1)).await;
///             co.yield_(i).await?;
///         }
///         Ok(())
///     });
///     let mut seen = Vec::new();
///     while let Some(i) = ticks.next().await {
///         seen.push(i);
///     }
///     assert_eq!(seen, [0, 1, 2]);
/// });
/// ```
///
/// Cancelling a step (dropping its future while the body awaits something) leaves the body
/// where it stands; the next step continues from there, and a value sent with the cancelled
/// step may be lost.
pub struct AsyncGen<Y, S = (), R = (), E = Infallible> {
    core: GenCore<Y, S, R, E, dyn Body<Y, S, R, E>>,
}

impl<Y: 'static, S: 'static, R: 'static, E: 'static> AsyncGen<Y, S, R, E> {
    /// An async generator running `body`, which has not started yet.
    pub fn new<F, Fut>(body: F) -> Self
    where
        F: FnOnce(Co<Y, S, E>) -> Fut,
        Fut: Future<Output = Result<R, Interrupt<E>>> + 'static,
    {
        AsyncGen {
            core: TypedCore::new(body).erase(),
        }
    }
}

impl<Y, S, R, E> AsyncGen<Y, S, R, E> {
    /// Runs the body to its first yield.
    pub async fn start(&mut self) -> Result<GenState<Y, R>, GenError<E>> {
        self.step(Request::Start).await
    }

    /// Resumes the body with `value` and waits for its next yield or its end.
    pub async fn send(&mut self, value: S) -> Result<GenState<Y, R>, GenError<E>> {
        self.step(Request::Send(value)).await
    }

    /// Resumes the body with an error; see [`Gen::throw`](super::Gen::throw).
    pub async fn throw(&mut self, error: E) -> Result<GenState<Y, R>, GenError<E>> {
        self.step(Request::Interrupt(Interrupt::Thrown(error)))
            .await
    }

    /// Closes the generator; see [`Gen::close`](super::Gen::close).
    pub async fn close(&mut self) -> Result<Option<R>, GenError<E>> {
        if self.core.close_needs_no_step() {
            return Ok(None);
        }
        machine::close_outcome(self.step(Request::Interrupt(Interrupt::Closed)).await)
    }

    /// Whether the body has finished.
    pub fn is_finished(&self) -> bool {
        self.core.is_finished()
    }

    /// Makes `request` on the first poll and continues the step on later ones. If an earlier
    /// step was cancelled while the body awaited something, the body first finishes that one
    /// and `request` is dropped.
    async fn step(&mut self, request: Request<S, E>) -> Result<GenState<Y, R>, GenError<E>> {
        let mut request = Some(request);
        poll_fn(|cx| {
            let request = request.take().unwrap_or(Request::Continue);
            self.core.step(request, cx)
        })
        .await
    }
}

impl<Y, R, E> AsyncGen<Y, (), R, E> {
    /// The next yield, or `None` once the body has returned (or failed: see
    /// [`start`](AsyncGen::start)/[`send`](AsyncGen::send) to see errors).
    pub async fn next(&mut self) -> Option<Y> {
        poll_fn(|cx| self.poll_next_item(cx)).await
    }

    fn poll_next_item(&mut self, cx: &mut Context<'_>) -> Poll<Option<Y>> {
        let request = if self.core.is_started() {
            Request::Send(())
        } else {
            Request::Start
        };
        self.core.step(request, cx).map(|step| match step {
            Ok(GenState::Yielded(y)) => Some(y),
            _ => None,
        })
    }
}

impl<Y, R, E> futures_core::Stream for AsyncGen<Y, (), R, E> {
    type Item = Y;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Y>> {
        self.get_mut().poll_next_item(cx)
    }
}

// Nothing in an `AsyncGen` is pinned in place: the body lives in its own box.
impl<Y, S, R, E> Unpin for AsyncGen<Y, S, R, E> {}

impl<Y, S, R, E> fmt::Debug for AsyncGen<Y, S, R, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncGen")
            .field("started", &self.core.is_started())
            .field("finished", &self.core.is_finished())
            .finish()
    }
}
