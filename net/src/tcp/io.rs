//! What a TCP stream is underneath: a socket of the OS, or, with the feature `sim` and inside
//! a running simulation, one on the simulated network. Without the feature it is the OS's
//! alone, as a type alias: nothing changes. With it, each operation first asks which (one
//! predictable branch; the stream types and their users do not change).

use std::future::Future;
use std::io;
use std::net::{Shutdown, SocketAddr};
use std::os::fd::{AsFd, BorrowedFd};
use std::rc::Rc;
use std::task::{Context, Poll};

use weft_runtime::io::Async;

/// A byte stream as the stream types' macros use it: the OS's sockets (TCP, Unix) through
/// `Async`, and the simulated network's.
pub(crate) trait StreamSocket {
    fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>>;
    fn try_recv(&self, buf: &mut [u8]) -> io::Result<usize>;
    fn poll_send(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>>;
    fn try_send(&self, buf: &[u8]) -> io::Result<usize>;
    fn poll_send_vectored(
        &self,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>>;
    fn readable(&self) -> impl Future<Output = io::Result<()>> + '_;
    fn writable(&self) -> impl Future<Output = io::Result<()>> + '_;
    fn shutdown(&self, how: Shutdown) -> io::Result<()>;
    fn fd(&self) -> BorrowedFd<'_>;
}

impl<S> StreamSocket for Async<S>
where
    S: AsFd + mio::event::Source + StreamShutdown,
    for<'a> &'a S: io::Write,
{
    fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.poll_read_bytes(cx, buf, super::recv)
    }

    fn try_recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.try_read_bytes(buf, super::recv)
    }

    fn poll_send(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.poll_write_with(cx, |io| super::send(io, buf))
    }

    fn try_send(&self, buf: &[u8]) -> io::Result<usize> {
        self.try_write_with(|io| super::send(io, buf))
    }

    fn poll_send_vectored(
        &self,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_vectored(cx, bufs)
    }

    fn readable(&self) -> impl Future<Output = io::Result<()>> + '_ {
        Async::readable(self)
    }

    fn writable(&self) -> impl Future<Output = io::Result<()>> + '_ {
        Async::writable(self)
    }

    fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.get_ref().shutdown_stream(how)
    }

    fn fd(&self) -> BorrowedFd<'_> {
        self.get_ref().as_fd()
    }
}

/// `shutdown` of mio's TCP and Unix streams, which have no trait in common for it.
pub(crate) trait StreamShutdown {
    fn shutdown_stream(&self, how: Shutdown) -> io::Result<()>;
}

impl StreamShutdown for mio::net::TcpStream {
    fn shutdown_stream(&self, how: Shutdown) -> io::Result<()> {
        self.shutdown(how)
    }
}

impl StreamShutdown for mio::net::UnixStream {
    fn shutdown_stream(&self, how: Shutdown) -> io::Result<()> {
        self.shutdown(how)
    }
}

impl<T: StreamSocket> StreamSocket for Rc<T> {
    fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        (**self).poll_recv(cx, buf)
    }

    fn try_recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        (**self).try_recv(buf)
    }

    fn poll_send(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        (**self).poll_send(cx, buf)
    }

    fn try_send(&self, buf: &[u8]) -> io::Result<usize> {
        (**self).try_send(buf)
    }

    fn poll_send_vectored(
        &self,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        (**self).poll_send_vectored(cx, bufs)
    }

    fn readable(&self) -> impl Future<Output = io::Result<()>> + '_ {
        (**self).readable()
    }

    fn writable(&self) -> impl Future<Output = io::Result<()>> + '_ {
        (**self).writable()
    }

    fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        (**self).shutdown(how)
    }

    fn fd(&self) -> BorrowedFd<'_> {
        (**self).fd()
    }
}

/// What a TCP stream has beyond a byte stream.
pub(crate) trait TcpIo {
    /// The OS's socket; an error for a simulated stream.
    fn os(&self) -> io::Result<&Async<mio::net::TcpStream>>;
    fn peer_addr(&self) -> io::Result<SocketAddr>;
    fn local_addr(&self) -> io::Result<SocketAddr>;
    fn nodelay(&self) -> io::Result<bool>;
    fn set_nodelay(&self, nodelay: bool) -> io::Result<()>;
    /// Reads without consuming.
    fn poll_peek(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>>;
}

impl TcpIo for Async<mio::net::TcpStream> {
    fn os(&self) -> io::Result<&Async<mio::net::TcpStream>> {
        Ok(self)
    }

    fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.get_ref().peer_addr()
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.get_ref().local_addr()
    }

    fn nodelay(&self) -> io::Result<bool> {
        self.get_ref().nodelay()
    }

    fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.get_ref().set_nodelay(nodelay)
    }

    fn poll_peek(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.poll_read_with(cx, |s| s.peek(buf))
    }
}

#[cfg(not(feature = "sim"))]
pub(crate) type StreamIo = Async<mio::net::TcpStream>;

/// The OS's stream as a [`StreamIo`].
#[cfg(not(feature = "sim"))]
pub(crate) fn os_stream(io: Async<mio::net::TcpStream>) -> StreamIo {
    io
}

#[cfg(feature = "sim")]
pub(crate) fn os_stream(io: Async<mio::net::TcpStream>) -> StreamIo {
    StreamIo::Os(io)
}

#[cfg(feature = "sim")]
pub(crate) use simulated::StreamIo;

#[cfg(feature = "sim")]
mod simulated {
    use std::future::Future;
    use std::io;
    use std::net::{Shutdown, SocketAddr};
    use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
    use std::pin::Pin;
    use std::sync::OnceLock;
    use std::task::{Context, Poll, ready};

    use weft_runtime::io::{Async, Ready};

    use super::{StreamSocket, TcpIo};
    use crate::sim::SimStream;

    /// A TCP stream of the OS or of the simulated network.
    #[derive(Debug)]
    pub(crate) enum StreamIo {
        Os(Async<mio::net::TcpStream>),
        Sim(SimStream),
    }

    impl TcpIo for StreamIo {
        fn os(&self) -> io::Result<&Async<mio::net::TcpStream>> {
            match self {
                StreamIo::Os(io) => Ok(io),
                StreamIo::Sim(_) => Err(io::Error::new(
                    io::ErrorKind::Unsupported,
                    "a simulated TCP stream has no socket of the OS",
                )),
            }
        }

        fn peer_addr(&self) -> io::Result<SocketAddr> {
            match self {
                StreamIo::Os(io) => io.get_ref().peer_addr(),
                StreamIo::Sim(s) => Ok(s.peer_addr()),
            }
        }

        fn local_addr(&self) -> io::Result<SocketAddr> {
            match self {
                StreamIo::Os(io) => io.get_ref().local_addr(),
                StreamIo::Sim(s) => Ok(s.local_addr()),
            }
        }

        /// A simulated stream sends every write at once: it has no Nagle to turn off.
        fn nodelay(&self) -> io::Result<bool> {
            match self {
                StreamIo::Os(io) => io.get_ref().nodelay(),
                StreamIo::Sim(_) => Ok(true),
            }
        }

        fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
            match self {
                StreamIo::Os(io) => io.get_ref().set_nodelay(nodelay),
                StreamIo::Sim(_) => Ok(()),
            }
        }

        fn poll_peek(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
            match self {
                StreamIo::Os(io) => io.poll_peek(cx, buf),
                StreamIo::Sim(s) => {
                    ready!(s.poll_readable(cx));
                    Poll::Ready(s.read(buf, true))
                }
            }
        }
    }

    /// `readable()` or `writable()` of either kind of stream.
    pub(crate) enum Readiness<'a> {
        Os(Ready<'a>),
        /// The stream, and whether it is writability that is awaited.
        Sim(&'a SimStream, bool),
    }

    impl Future for Readiness<'_> {
        type Output = io::Result<()>;

        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            match self.get_mut() {
                Readiness::Os(ready) => Pin::new(ready).poll(cx),
                Readiness::Sim(s, false) => s.poll_readable(cx).map(Ok),
                Readiness::Sim(s, true) => s.poll_writable(cx).map(Ok),
            }
        }
    }

    impl StreamSocket for StreamIo {
        fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
            match self {
                StreamIo::Os(io) => io.poll_recv(cx, buf),
                StreamIo::Sim(s) => s.poll_read(cx, buf),
            }
        }

        fn try_recv(&self, buf: &mut [u8]) -> io::Result<usize> {
            match self {
                StreamIo::Os(io) => io.try_recv(buf),
                StreamIo::Sim(s) => s.read(buf, false),
            }
        }

        fn poll_send(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
            match self {
                StreamIo::Os(io) => io.poll_send(cx, buf),
                StreamIo::Sim(s) => s.poll_write(cx, buf),
            }
        }

        fn try_send(&self, buf: &[u8]) -> io::Result<usize> {
            match self {
                StreamIo::Os(io) => io.try_send(buf),
                StreamIo::Sim(s) => s.write(buf),
            }
        }

        fn poll_send_vectored(
            &self,
            cx: &mut Context<'_>,
            bufs: &[io::IoSlice<'_>],
        ) -> Poll<io::Result<usize>> {
            match self {
                StreamIo::Os(io) => io.poll_send_vectored(cx, bufs),
                StreamIo::Sim(s) => {
                    let first = bufs.iter().find(|b| !b.is_empty()).map_or(&[][..], |b| b);
                    s.poll_write(cx, first)
                }
            }
        }

        fn readable(&self) -> impl Future<Output = io::Result<()>> + '_ {
            match self {
                StreamIo::Os(io) => Readiness::Os(io.readable()),
                StreamIo::Sim(s) => Readiness::Sim(s, false),
            }
        }

        fn writable(&self) -> impl Future<Output = io::Result<()>> + '_ {
            match self {
                StreamIo::Os(io) => Readiness::Os(io.writable()),
                StreamIo::Sim(s) => Readiness::Sim(s, true),
            }
        }

        fn shutdown(&self, how: Shutdown) -> io::Result<()> {
            match self {
                StreamIo::Os(io) => io.get_ref().shutdown(how),
                StreamIo::Sim(s) => s.shutdown(how),
            }
        }

        fn fd(&self) -> BorrowedFd<'_> {
            match self {
                StreamIo::Os(io) => io.get_ref().as_fd(),
                StreamIo::Sim(_) => placeholder(),
            }
        }
    }

    /// What a simulated stream lends as its descriptor: `/dev/null`, not a socket, so that
    /// an option set through it fails (`ENOTSOCK`) instead of reaching a real socket.
    fn placeholder() -> BorrowedFd<'static> {
        static PLACEHOLDER: OnceLock<OwnedFd> = OnceLock::new();
        PLACEHOLDER
            .get_or_init(|| {
                std::fs::File::open("/dev/null")
                    .expect("/dev/null opens")
                    .into()
            })
            .as_fd()
    }
}
