//! hyper 1.x on weft, behind the cargo feature `hyper`: what hyper asks of a runtime.
//!
//! - [`HyperIo`] gives any weft stream (TCP, Unix, TLS) hyper's `rt::Read` and `rt::Write`.
//! - [`LocalExecutor`] runs the tasks hyper spawns (HTTP/2 streams, client connections) on
//!   weft; they need not be `Send`.
//! - [`HyperTimer`] gives hyper its timers, so `header_read_timeout` and HTTP/2 keep-alive
//!   work. hyper wants its sleeps `Send + Sync`; weft's are [`SendSleep`]s, which hold only
//!   plain data, so they are, without `unsafe` and without a type that panics when moved.
//!
//! A server, with hyper's own connection API, on one thread:
//!
//! ```
//! use http_body_util::Full;
//! use hyper::body::{Bytes, Incoming};
//! use hyper::{Request, Response};
//! use weft::net::TcpListener;
//! use weft::net::hyper::{HyperIo, HyperTimer};
//!
//! async fn hello(_: Request<Incoming>) -> Result<Response<Full<Bytes>>, std::convert::Infallible> {
//!     Ok(Response::new(Full::new(Bytes::from_static(b"hello from weft"))))
//! }
//!
//! weft::run(async {
//!     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
//!     let addr = listener.local_addr().unwrap();
//!     weft::spawn(async move {
//!         let (stream, _) = listener.accept().await.unwrap();
//!         hyper::server::conn::http1::Builder::new()
//!             .timer(HyperTimer)
//!             .serve_connection(HyperIo::new(stream), hyper::service::service_fn(hello))
//!             .await
//!             .unwrap();
//!     });
//!     let stream = weft::net::TcpStream::connect(addr).await.unwrap();
//!     let (mut sender, connection) =
//!         hyper::client::conn::http1::handshake(HyperIo::new(stream)).await.unwrap();
//!     weft::spawn(connection);
//!     let request = Request::get("/").header("host", "localhost").body(Full::<Bytes>::default()).unwrap();
//!     let response = sender.send_request(request).await.unwrap();
//!     assert_eq!(response.status(), 200);
//! });
//! ```

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use ::hyper::rt::{Read, ReadBufCursor, Sleep as HyperSleepTrait, Write};
use futures_io::{AsyncRead, AsyncWrite};
use weft_runtime::time::SendSleep;

/// The most a single read copies through [`HyperIo`]'s scratch buffer.
const MAX_READ: usize = 64 * 1024;

thread_local! {
    /// [`HyperIo`]'s scratch buffer: every connection on the thread reads into it, and it
    /// holds bytes only for the length of one `poll_read`.
    static SCRATCH: std::cell::Cell<Vec<u8>> = const { std::cell::Cell::new(Vec::new()) };
}

/// A weft stream (anything `futures-io`: `TcpStream`, `UnixStream`, a TLS stream) as hyper's
/// `rt::Read` and `rt::Write`.
///
/// hyper hands its reads an uninitialised buffer, which safe code may only fill by copying
/// into it. Rather than zero-filling hyper's buffer before every read, as adapters over
/// `futures-io` usually do, `HyperIo` reads into a scratch buffer, zeroed once, and copies
/// what arrived: one copy, no zeroing per read, and no `unsafe` outside weft's task cell.
/// The scratch buffer is the thread's, not the connection's (a read fills it and empties it
/// in one call), so a keep-alive connection waiting for its next request holds no buffer of
/// `HyperIo`'s: only hyper's own (BENCHMARKS.md, "Idle connections").
pub struct HyperIo<T> {
    inner: T,
}

impl<T> HyperIo<T> {
    /// Wraps `inner`.
    pub fn new(inner: T) -> HyperIo<T> {
        HyperIo { inner }
    }

    /// The stream inside.
    pub fn get_ref(&self) -> &T {
        &self.inner
    }

    /// The stream inside, mutably.
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.inner
    }

    /// The stream, unwrapped.
    pub fn into_inner(self) -> T {
        self.inner
    }
}

impl<T: AsyncRead + Unpin> Read for HyperIo<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        let want = buf.remaining().min(MAX_READ);
        if want == 0 {
            return Poll::Ready(Ok(()));
        }
        // Taken out of the thread's slot for the call, so a read that somehow reads through
        // another `HyperIo` finds the slot empty and makes its own instead of failing.
        let mut scratch = SCRATCH.take();
        if scratch.len() < want {
            scratch.resize(want, 0);
        }
        let read = Pin::new(&mut self.get_mut().inner).poll_read(cx, &mut scratch[..want]);
        if let Poll::Ready(Ok(n)) = read {
            buf.put_slice(&scratch[..n]);
        }
        SCRATCH.set(scratch);
        read.map_ok(drop)
    }
}

impl<T: AsyncWrite + Unpin> Write for HyperIo<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_close(cx)
    }
}

impl<T: fmt::Debug> fmt::Debug for HyperIo<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("HyperIo").field(&self.inner).finish()
    }
}

/// hyper's `rt::Executor` on weft: each future hyper hands over becomes a weft task on the
/// current runtime (so it need not be `Send`). HTTP/2 needs one, for its streams:
/// `hyper::server::conn::http2::Builder::new(LocalExecutor)`.
#[derive(Clone, Copy, Debug, Default)]
pub struct LocalExecutor;

impl<F> ::hyper::rt::Executor<F> for LocalExecutor
where
    F: Future + 'static,
    F::Output: 'static,
{
    fn execute(&self, future: F) {
        drop(weft_runtime::task::spawn(future));
    }
}

/// hyper's `rt::Timer` on weft's timer heap: give it to a connection builder
/// (`.timer(HyperTimer)`) for `header_read_timeout`, keep-alive pings and the like.
#[derive(Clone, Copy, Debug, Default)]
pub struct HyperTimer;

/// hyper asks the timer for the time ([`now`](::hyper::rt::Timer::now)) before it sets a
/// deadline, so the deadlines it hands back are on the runtime's clock, which a test may
/// have paused: a `header_read_timeout` of 200 ms then fires exactly 200 ms later in
/// virtual time.
impl ::hyper::rt::Timer for HyperTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn HyperSleepTrait>> {
        Box::pin(TimerSleep(SendSleep::after(duration)))
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn HyperSleepTrait>> {
        Box::pin(TimerSleep(SendSleep::until(deadline.into())))
    }

    fn now(&self) -> Instant {
        weft_runtime::time::Instant::now().into_std()
    }

    fn reset(&self, sleep: &mut Pin<Box<dyn HyperSleepTrait>>, new_deadline: Instant) {
        match sleep.as_mut().downcast_mut_pin::<TimerSleep>() {
            Some(mine) => mine.get_mut().0.reset(new_deadline.into()),
            None => *sleep = self.sleep_until(new_deadline),
        }
    }
}

/// A sleep as hyper wants it: `Send + Sync`, since a [`SendSleep`] is.
struct TimerSleep(SendSleep);

impl Future for TimerSleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.get_mut().0).poll(cx)
    }
}

impl HyperSleepTrait for TimerSleep {}
