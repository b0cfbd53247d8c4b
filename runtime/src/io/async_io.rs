//! `Async<T>`: a mio source and its registration, with async read/write helpers.

use std::future::poll_fn;
use std::io::{self, Read, Write};
use std::task::{Context, Poll, ready};

use super::{Ready, Registration};

/// A non-blocking I/O source registered with the runtime, like async-io's `Async` or tokio's
/// `PollEvented`. The helpers take `&self`, so one `Async` shared through an `Rc` can have a
/// reader task and a writer task at the same time.
///
/// ```
/// use weft::io::Async;
///
/// weft::run(async {
///     let (a, b) = mio::net::UnixStream::pair().unwrap();
///     let (a, b) = (Async::new(a).unwrap(), Async::new(b).unwrap());
///     std::future::poll_fn(|cx| a.poll_write(cx, b"ping")).await.unwrap();
///     let mut buf = [0; 8];
///     let n = std::future::poll_fn(|cx| b.poll_read(cx, &mut buf)).await.unwrap();
///     assert_eq!(&buf[..n], b"ping");
/// });
/// ```
pub struct Async<T: mio::event::Source> {
    io: T,
    registration: Registration,
}

impl<T: mio::event::Source> Async<T> {
    /// Registers `io` for both reading and writing.
    ///
    /// # Panics
    /// Outside a runtime.
    pub fn new(io: T) -> io::Result<Async<T>> {
        Async::with_interest(io, mio::Interest::READABLE | mio::Interest::WRITABLE)
    }

    /// Registers `io` for `interest` only.
    pub fn with_interest(mut io: T, interest: mio::Interest) -> io::Result<Async<T>> {
        let registration = Registration::new(&mut io, interest)?;
        Ok(Async { io, registration })
    }

    /// The source.
    pub fn get_ref(&self) -> &T {
        &self.io
    }

    /// The source, mutably. Do not replace or close it while it stays registered.
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.io
    }

    /// The registration, for custom operations.
    pub fn registration(&self) -> &Registration {
        &self.registration
    }

    /// Deregisters the source and gives it back.
    pub fn into_inner(self) -> io::Result<T> {
        let Async {
            mut io,
            registration,
        } = self;
        registration.deregister(&mut io)?;
        Ok(io)
    }

    /// Runs `op` on the source once it is readable, until it stops returning `WouldBlock`.
    pub fn poll_read_with<R>(
        &self,
        cx: &mut Context<'_>,
        mut op: impl FnMut(&T) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        self.registration.poll_read_io(cx, || op(&self.io))
    }

    /// Runs `op` on the source once it is writable, until it stops returning `WouldBlock`.
    pub fn poll_write_with<R>(
        &self,
        cx: &mut Context<'_>,
        mut op: impl FnMut(&T) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        self.registration.poll_write_io(cx, || op(&self.io))
    }

    /// Waits until the source may be readable (or is closed or failed, so a read returns at
    /// once): tokio's `readable()`, asyncio's `loop.add_reader`. Holds nothing while it waits,
    /// so a connection can wait with no buffer and take one only once bytes are there. It
    /// may return when a read would still block (another reader took the bytes); then
    /// [`try_read_with`](Async::try_read_with) says `WouldBlock`, and the next `readable()`
    /// waits for the kernel's next edge.
    pub fn readable(&self) -> Ready<'_> {
        Ready::read(&self.registration)
    }

    /// Waits until the source may be writable: tokio's `writable()`. See
    /// [`readable`](Async::readable).
    pub fn writable(&self) -> Ready<'_> {
        Ready::write(&self.registration)
    }

    /// Runs `op` once, now, without waiting. A `WouldBlock` clears read readiness, so the
    /// next [`readable`](Async::readable) waits for new bytes.
    pub fn try_read_with<R>(&self, op: impl FnOnce(&T) -> io::Result<R>) -> io::Result<R> {
        clear_on_would_block(op(&self.io), || self.registration.clear_read_ready())
    }

    /// Runs `op` once, now, without waiting. A `WouldBlock` clears write readiness.
    pub fn try_write_with<R>(&self, op: impl FnOnce(&T) -> io::Result<R>) -> io::Result<R> {
        clear_on_would_block(op(&self.io), || self.registration.clear_write_ready())
    }

    /// Awaits readability, then runs `op` (again after each `WouldBlock`).
    pub async fn read_with<R>(&self, mut op: impl FnMut(&T) -> io::Result<R>) -> io::Result<R> {
        poll_fn(|cx| self.poll_read_with(cx, &mut op)).await
    }

    /// Awaits writability, then runs `op` (again after each `WouldBlock`).
    pub async fn write_with<R>(&self, mut op: impl FnMut(&T) -> io::Result<R>) -> io::Result<R> {
        poll_fn(|cx| self.poll_write_with(cx, &mut op)).await
    }
}

impl<T: mio::event::Source> Async<T> {
    /// Reads from a byte stream with `read` (a `recv` of your own, say), once readable.
    ///
    /// A read that fills less than `buf` means the kernel's receive buffer was empty when it
    /// returned, so read readiness is cleared right away instead of issuing one more `read`
    /// only to see `WouldBlock`: the kernel reports the next arrival as a new edge. (That saved
    /// system call is what separates a good hand-written event loop from a naive one.) Do not
    /// use this for datagram sockets, where a short read says nothing about the next datagram.
    #[inline]
    pub fn poll_read_bytes(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
        mut read: impl FnMut(&T, &mut [u8]) -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        let n = ready!(self.poll_read_with(cx, |io| read(io, buf)))?;
        self.clear_after_short_read(n, buf.len());
        Poll::Ready(Ok(n))
    }

    /// Reads what a byte stream has now with `read`, without waiting: `WouldBlock` if
    /// nothing, and a short read clears read readiness as in
    /// [`poll_read_bytes`](Async::poll_read_bytes).
    #[inline]
    pub fn try_read_bytes(
        &self,
        buf: &mut [u8],
        read: impl FnOnce(&T, &mut [u8]) -> io::Result<usize>,
    ) -> io::Result<usize> {
        let len = buf.len();
        let n = self.try_read_with(|io| read(io, buf))?;
        self.clear_after_short_read(n, len);
        Ok(n)
    }

    #[inline]
    fn clear_after_short_read(&self, n: usize, len: usize) {
        if n > 0 && n < len {
            self.registration.clear_read_ready();
        }
    }
}

impl<T: mio::event::Source> Async<T>
where
    for<'a> &'a T: Read,
{
    /// Reads from a byte stream through its `Read` implementation (see
    /// [`poll_read_bytes`](Async::poll_read_bytes) for the short-read rule).
    pub fn poll_read(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.poll_read_bytes(cx, buf, |mut io, buf| io.read(buf))
    }
}

impl<T: mio::event::Source> Async<T>
where
    for<'a> &'a T: Write,
{
    /// Writes to a byte stream.
    pub fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.poll_write_with(cx, |mut io| io.write(buf))
    }

    /// Writes several buffers with one `writev`.
    pub fn poll_write_vectored(
        &self,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_with(cx, |mut io| io.write_vectored(bufs))
    }
}

/// `result`, after `clear` forgot the readiness it relied on if it was `WouldBlock` (the next
/// wait is then for the kernel's next edge).
fn clear_on_would_block<R>(result: io::Result<R>, clear: impl FnOnce()) -> io::Result<R> {
    if result
        .as_ref()
        .is_err_and(|e| e.kind() == io::ErrorKind::WouldBlock)
    {
        clear();
    }
    result
}

impl<T: mio::event::Source + std::fmt::Debug> std::fmt::Debug for Async<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Async").field("io", &self.io).finish()
    }
}
