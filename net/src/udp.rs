//! `UdpSocket`.

use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::task::{Context, Poll};

use weft_runtime::io::Async;

use crate::addr::{ToSocketAddrs, resolve, try_each};

/// A UDP socket: datagrams to and from any peer, or one peer after
/// [`connect`](UdpSocket::connect).
///
/// ```
/// use weft::net::UdpSocket;
/// weft::run(async {
///     let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
///     let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
///     a.send_to(b"hi", b.local_addr().unwrap()).await.unwrap();
///     let mut buf = [0; 16];
///     let (n, from) = b.recv_from(&mut buf).await.unwrap();
///     assert_eq!((&buf[..n], from), (&b"hi"[..], a.local_addr().unwrap()));
/// });
/// ```
#[derive(Debug)]
pub struct UdpSocket {
    io: UdpIo,
}

#[cfg(not(feature = "sim"))]
type UdpIo = Async<mio::net::UdpSocket>;

/// A UDP socket of the OS, or of the simulated network (feature `sim`).
#[cfg(feature = "sim")]
#[derive(Debug)]
enum UdpIo {
    Os(Async<mio::net::UdpSocket>),
    Sim(crate::sim::SimUdp),
}

/// Which kind of socket a `UdpSocket` is.
enum Kind<'a> {
    Os(&'a Async<mio::net::UdpSocket>),
    #[cfg(feature = "sim")]
    Sim(&'a crate::sim::SimUdp),
}

#[cfg(not(feature = "sim"))]
fn os_udp(io: Async<mio::net::UdpSocket>) -> UdpIo {
    io
}

#[cfg(feature = "sim")]
fn os_udp(io: Async<mio::net::UdpSocket>) -> UdpIo {
    UdpIo::Os(io)
}

impl UdpSocket {
    /// Binds to `addr` (trying each address it resolves to).
    /// Binds to `addr` (trying each address it resolves to). In a simulation (feature
    /// `sim`), on the simulated host the calling task runs on.
    pub async fn bind(addr: impl ToSocketAddrs) -> io::Result<UdpSocket> {
        try_each(addr, |addr| async move {
            #[cfg(feature = "sim")]
            if crate::sim::World::current().is_some() {
                let io = UdpIo::Sim(crate::sim::SimUdp::bind(addr)?);
                return Ok(UdpSocket { io });
            }
            UdpSocket::bind_addr(addr)
        })
        .await
    }

    /// Binds to exactly `addr`, which needs no resolving (the resolver's own sockets).
    pub(crate) fn bind_addr(addr: SocketAddr) -> io::Result<UdpSocket> {
        Ok(UdpSocket {
            io: os_udp(Async::new(mio::net::UdpSocket::bind(addr)?)?),
        })
    }

    fn kind(&self) -> Kind<'_> {
        #[cfg(feature = "sim")]
        return match &self.io {
            UdpIo::Os(io) => Kind::Os(io),
            UdpIo::Sim(socket) => Kind::Sim(socket),
        };
        #[cfg(not(feature = "sim"))]
        Kind::Os(&self.io)
    }

    /// Connects to exactly `addr`, which needs no resolving.
    pub(crate) fn connect_addr(&self, addr: SocketAddr) -> io::Result<()> {
        match self.kind() {
            Kind::Os(io) => io.get_ref().connect(addr),
            #[cfg(feature = "sim")]
            Kind::Sim(socket) => {
                socket.connect(addr);
                Ok(())
            }
        }
    }

    /// Adopts a bound std socket (it is switched to non-blocking mode).
    pub fn from_std(socket: std::net::UdpSocket) -> io::Result<UdpSocket> {
        socket.set_nonblocking(true)?;
        Ok(UdpSocket {
            io: os_udp(Async::new(mio::net::UdpSocket::from_std(socket))?),
        })
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        match self.kind() {
            Kind::Os(io) => io.get_ref().local_addr(),
            #[cfg(feature = "sim")]
            Kind::Sim(socket) => Ok(socket.local_addr()),
        }
    }

    /// The connected peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        match self.kind() {
            Kind::Os(io) => io.get_ref().peer_addr(),
            #[cfg(feature = "sim")]
            Kind::Sim(socket) => socket.peer_addr(),
        }
    }

    /// Sends one datagram to `target` (its first resolved address); returns the bytes sent.
    pub async fn send_to(&self, buf: &[u8], target: impl ToSocketAddrs) -> io::Result<usize> {
        let target = resolve(&target).await?[0];
        poll_fn(|cx| self.poll_send_to(cx, buf, target)).await
    }

    /// Receives one datagram; returns its length and sender. A datagram longer than `buf` is
    /// truncated.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        poll_fn(|cx| self.poll_recv_from(cx, buf)).await
    }

    /// Polls [`send_to`](UdpSocket::send_to).
    pub fn poll_send_to(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
        target: SocketAddr,
    ) -> Poll<io::Result<usize>> {
        match self.kind() {
            Kind::Os(io) => io.poll_write_with(cx, |s| s.send_to(buf, target)),
            #[cfg(feature = "sim")]
            Kind::Sim(socket) => Poll::Ready(socket.send_to(buf, Some(target))),
        }
    }

    /// Polls [`recv_from`](UdpSocket::recv_from).
    pub fn poll_recv_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<(usize, SocketAddr)>> {
        match self.kind() {
            Kind::Os(io) => io.poll_read_with(cx, |s| s.recv_from(buf)),
            #[cfg(feature = "sim")]
            Kind::Sim(socket) => socket.poll_recv_from(cx, buf),
        }
    }

    /// Sets the default peer (trying each resolved address): `send` goes there and `recv`
    /// only takes datagrams from it.
    pub async fn connect(&self, addr: impl ToSocketAddrs) -> io::Result<()> {
        try_each(addr, |addr| async move { self.connect_addr(addr) }).await
    }

    /// Sends to the connected peer.
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        match self.kind() {
            Kind::Os(io) => poll_fn(|cx| io.poll_write_with(cx, |s| s.send(buf))).await,
            #[cfg(feature = "sim")]
            Kind::Sim(socket) => socket.send_to(buf, None),
        }
    }

    /// Receives from the connected peer. A refused earlier send may surface here as
    /// `ConnectionRefused`.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        match self.kind() {
            Kind::Os(io) => poll_fn(|cx| io.poll_read_with(cx, |s| s.recv(buf))).await,
            #[cfg(feature = "sim")]
            Kind::Sim(socket) => Ok(poll_fn(|cx| socket.poll_recv_from(cx, buf)).await?.0),
        }
    }

    /// Waits until a datagram may be waiting (tokio's `readable()`); then
    /// [`try_recv`](UdpSocket::try_recv) or [`try_recv_from`](UdpSocket::try_recv_from) takes
    /// it into a buffer taken only then. May return with nothing there (`WouldBlock`).
    pub async fn readable(&self) -> io::Result<()> {
        match self.kind() {
            Kind::Os(io) => io.readable().await,
            #[cfg(feature = "sim")]
            Kind::Sim(socket) => poll_fn(|cx| socket.poll_readable(cx)).await,
        }
    }

    /// Waits until a datagram may be sent (tokio's `writable()`).
    pub async fn writable(&self) -> io::Result<()> {
        match self.kind() {
            Kind::Os(io) => io.writable().await,
            // A simulated send never waits.
            #[cfg(feature = "sim")]
            Kind::Sim(_) => Ok(()),
        }
    }

    /// Receives a datagram from the connected peer if one is there, without waiting.
    pub fn try_recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        match self.kind() {
            Kind::Os(io) => io.try_read_with(|s| s.recv(buf)),
            #[cfg(feature = "sim")]
            Kind::Sim(socket) => Ok(socket.recv_from(buf)?.0),
        }
    }

    /// Receives a datagram and its sender if one is there, without waiting.
    pub fn try_recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        match self.kind() {
            Kind::Os(io) => io.try_read_with(|s| s.recv_from(buf)),
            #[cfg(feature = "sim")]
            Kind::Sim(socket) => socket.recv_from(buf),
        }
    }

    /// Sends to the connected peer now, or fails with `WouldBlock`.
    pub fn try_send(&self, buf: &[u8]) -> io::Result<usize> {
        match self.kind() {
            Kind::Os(io) => io.try_write_with(|s| s.send(buf)),
            #[cfg(feature = "sim")]
            Kind::Sim(socket) => socket.send_to(buf, None),
        }
    }

    /// Sends to `target` (an address, not a name: no lookup here) now, or fails with
    /// `WouldBlock`.
    pub fn try_send_to(&self, buf: &[u8], target: SocketAddr) -> io::Result<usize> {
        match self.kind() {
            Kind::Os(io) => io.try_write_with(|s| s.send_to(buf, target)),
            #[cfg(feature = "sim")]
            Kind::Sim(socket) => socket.send_to(buf, Some(target)),
        }
    }

    /// Allows sending to broadcast addresses (in a simulation, a no-op: it has none).
    pub fn set_broadcast(&self, on: bool) -> io::Result<()> {
        match self.kind() {
            Kind::Os(io) => io.get_ref().set_broadcast(on),
            #[cfg(feature = "sim")]
            Kind::Sim(_) => Ok(()),
        }
    }
}
