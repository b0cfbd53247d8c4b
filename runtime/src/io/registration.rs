//! `Registration`: a source's slot in the reactor.

use std::io;
use std::rc::Rc;
use std::task::{Context, Poll, ready};

use crate::executor::expect_core;
use crate::reactor::{Direction, Reactor};
use crate::task::budget;

/// A mio source registered with the current runtime's reactor, with one waiting reader and one
/// waiting writer (two tasks may wait at once, one per direction; a second reader replaces the
/// first one's waker).
///
/// The source itself stays with you. Closing it removes it from epoll; call
/// [`deregister`](Registration::deregister) if you keep using it elsewhere.
///
/// ```
/// use std::io::Read;
/// use weft::io::{Interest, Registration};
///
/// weft::run(async {
///     let (mut a, mut b) = mio::net::UnixStream::pair().unwrap();
///     let reg = Registration::new(&mut b, Interest::READABLE).unwrap();
///     std::io::Write::write_all(&mut a, b"hi").unwrap();
///     let mut buf = [0; 2];
///     let n = std::future::poll_fn(|cx| reg.poll_read_io(cx, || (&b).read(&mut buf))).await.unwrap();
///     assert_eq!(&buf[..n], b"hi");
/// });
/// ```
pub struct Registration {
    reactor: Rc<Reactor>,
    key: usize,
}

impl Registration {
    /// Registers `source` for `interest` with the current runtime.
    ///
    /// # Panics
    /// Outside a runtime.
    pub fn new(
        source: &mut (impl mio::event::Source + ?Sized),
        interest: mio::Interest,
    ) -> io::Result<Registration> {
        let reactor = expect_core("registering an I/O source").reactor().clone();
        let key = reactor.register(source, interest)?;
        Ok(Registration { reactor, key })
    }

    /// Names the source in a [task dump](crate::task::dump) (weft's sockets give their peer's
    /// address, "TCP 10.0.0.7:443"); without a name it is "I/O source #N".
    pub fn set_label(&self, label: impl Into<String>) {
        self.reactor
            .set_label(self.key, label.into().into_boxed_str());
    }

    /// `Ready` when the source may be readable (or is closed or failed, so a read returns at
    /// once). Takes one unit of the task's [budget](crate::task::poll_budget).
    #[inline]
    pub fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(budget::poll_budget(cx));
        self.reactor.poll_ready(self.key, Direction::Read, cx)
    }

    /// `Ready` when the source may be writable. Takes one unit of the budget.
    #[inline]
    pub fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(budget::poll_budget(cx));
        self.reactor.poll_ready(self.key, Direction::Write, cx)
    }

    /// Forgets read readiness: call it when a read returned `WouldBlock` (or read short on a
    /// byte stream), so the next poll waits for the kernel's next edge.
    #[inline]
    pub fn clear_read_ready(&self) {
        self.reactor.clear_ready(self.key, Direction::Read);
    }

    /// Forgets write readiness: call it when a write returned `WouldBlock`.
    #[inline]
    pub fn clear_write_ready(&self) {
        self.reactor.clear_ready(self.key, Direction::Write);
    }

    /// Waits for read readiness and runs `op` until it stops returning `WouldBlock`.
    #[inline]
    pub fn poll_read_io<R>(
        &self,
        cx: &mut Context<'_>,
        op: impl FnMut() -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        self.poll_io(cx, Direction::Read, op)
    }

    /// Waits for write readiness and runs `op` until it stops returning `WouldBlock`.
    #[inline]
    pub fn poll_write_io<R>(
        &self,
        cx: &mut Context<'_>,
        op: impl FnMut() -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        self.poll_io(cx, Direction::Write, op)
    }

    #[inline]
    fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
        mut op: impl FnMut() -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        ready!(budget::poll_budget(cx));
        loop {
            ready!(self.reactor.poll_ready(self.key, dir, cx))?;
            match op() {
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                    self.reactor.clear_ready(self.key, dir);
                }
                result => return Poll::Ready(result),
            }
        }
    }

    /// Removes `source` from epoll and frees the slot.
    pub fn deregister(self, source: &mut (impl mio::event::Source + ?Sized)) -> io::Result<()> {
        self.reactor.deregister(source)
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.reactor.remove(self.key);
    }
}

impl std::fmt::Debug for Registration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registration")
            .field("token", &self.key)
            .finish()
    }
}
