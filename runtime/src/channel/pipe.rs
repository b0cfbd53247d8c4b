//! `pipe()`: two connected ends, like multiprocessing's duplex `Pipe`.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::mpsc::{self, Receiver, UnboundedSender};

/// Two connected ends, each able to send to and receive from the other: Python's
/// `multiprocessing.Pipe(duplex=True)`, between tasks. When one end is dropped (or
/// [`close`](Connection::close)d), the other end's [`recv`](Connection::recv) returns what
/// was already sent and then [`PipeClosedError`] — Python's `EOFError`. The two directions may carry
/// different types. (For Python's one-way `Pipe(duplex=False)`, use
/// [`mpsc::unbounded`](super::mpsc::unbounded).)
///
/// A ping-pong between two tasks:
///
/// ```
/// weft::run(async {
///     let (mut left, mut right) = weft::channel::pipe::<u32, u32>();
///     let player = weft::spawn(async move {
///         while let Ok(ball) = right.recv().await {
///             right.send(ball + 1).unwrap();
///         }
///     });
///     let mut ball = 0;
///     for _ in 0..3 {
///         left.send(ball).unwrap();
///         ball = left.recv().await.unwrap() + 1;
///     }
///     assert_eq!(ball, 6);
///     drop(left); // the player's recv() now ends
///     player.await.unwrap();
/// });
/// ```
pub fn pipe<A, B>() -> (Connection<A, B>, Connection<B, A>) {
    let (a_tx, a_rx) = mpsc::unbounded();
    let (b_tx, b_rx) = mpsc::unbounded();
    (
        Connection { tx: a_tx, rx: b_rx },
        Connection { tx: b_tx, rx: a_rx },
    )
}

/// One end of a [`pipe`]: sends `S`, receives `R`.
pub struct Connection<S, R = S> {
    tx: UnboundedSender<S>,
    rx: Receiver<R>,
}

impl<S, R> Connection<S, R> {
    /// Sends to the other end (never waits); gives the value back if it is closed.
    pub fn send(&self, value: S) -> Result<(), PipeClosedError<S>> {
        self.tx.send(value).map_err(|e| PipeClosedError(e.0))
    }

    /// The next value from the other end; [`PipeClosedError`] once it is closed and everything it
    /// sent was received.
    pub fn recv(&mut self) -> Recv<'_, R> {
        Recv {
            inner: self.rx.recv(),
        }
    }

    /// Whether a value is waiting: Python's `poll()` with no timeout (renamed, since every
    /// Rust reader takes `poll` for `Future::poll`). For `poll(timeout)`, wrap
    /// [`recv`](Connection::recv) in [`timeout`](crate::time::timeout).
    pub fn has_message(&self) -> bool {
        !self.rx.is_empty()
    }

    /// Closes this end; the other end sees end of stream once it has read what was sent.
    pub fn close(self) {}
}

impl<S, R> fmt::Debug for Connection<S, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("waiting", &self.rx.len())
            .finish()
    }
}

/// The other end of the pipe is closed. For a failed send, holds the value.
#[derive(PartialEq, Eq)]
pub struct PipeClosedError<T>(pub T);

impl<T> fmt::Debug for PipeClosedError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PipeClosedError")
    }
}

impl<T> fmt::Display for PipeClosedError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the other end of the pipe is closed")
    }
}

impl<T> std::error::Error for PipeClosedError<T> {}

/// The future of [`Connection::recv`]. Dropping it takes nothing from the pipe.
#[must_use = "futures do nothing unless awaited"]
#[derive(Debug)]
pub struct Recv<'a, R> {
    inner: mpsc::Recv<'a, R>,
}

impl<R> Future for Recv<'_, R> {
    type Output = Result<R, PipeClosedError<()>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.inner)
            .poll(cx)
            .map(|value| value.ok_or(PipeClosedError(())))
    }
}
