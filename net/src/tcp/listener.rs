//! `TcpListener` and its socket-option builder.

use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::task::{Context, Poll, ready};

use socket2::{Domain, Protocol, Socket, Type};
use weft_runtime::io::Async;

use super::stream::TcpStream;
use crate::addr::{ToSocketAddrs, try_each};

/// A listening TCP socket: what asyncio's `start_server` and gevent's `StreamServer` listen
/// on.
///
/// [`bind`](TcpListener::bind) sets `SO_REUSEADDR` (so a restarted server can bind while old
/// connections linger in `TIME_WAIT`) and a backlog of 1024; use [`TcpListener::builder`] for
/// other options.
///
/// ```
/// use weft::net::{TcpListener, TcpStream};
/// weft::run(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
///     let addr = listener.local_addr().unwrap();
///     let client = weft::spawn(async move { TcpStream::connect(addr).await.unwrap() });
///     let (_conn, peer) = listener.accept().await.unwrap();
///     assert_eq!(peer, client.await.unwrap().local_addr().unwrap());
/// });
/// ```
#[derive(Debug)]
pub struct TcpListener {
    io: ListenerIo,
}

#[cfg(not(feature = "sim"))]
type ListenerIo = Async<mio::net::TcpListener>;

/// A listening socket of the OS, or of the simulated network (feature `sim`).
#[cfg(feature = "sim")]
#[derive(Debug)]
enum ListenerIo {
    Os(Async<mio::net::TcpListener>),
    Sim(crate::sim::SimListener),
}

#[cfg(not(feature = "sim"))]
fn os_listener(io: Async<mio::net::TcpListener>) -> ListenerIo {
    io
}

#[cfg(feature = "sim")]
fn os_listener(io: Async<mio::net::TcpListener>) -> ListenerIo {
    ListenerIo::Os(io)
}

impl TcpListener {
    /// Binds to `addr` (trying each address it resolves to) with the default options.
    pub async fn bind(addr: impl ToSocketAddrs) -> io::Result<TcpListener> {
        try_each(
            addr,
            |addr| async move { ListenerBuilder::new().bind(addr) },
        )
        .await
    }

    /// Options for the listening socket: backlog, `SO_REUSEPORT`, `IPV6_V6ONLY`.
    pub fn builder() -> ListenerBuilder {
        ListenerBuilder::new()
    }

    /// Adopts a bound, listening std listener (it is switched to non-blocking mode).
    pub fn from_std(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        listener.set_nonblocking(true)?;
        Ok(TcpListener {
            io: os_listener(Async::new(mio::net::TcpListener::from_std(listener))?),
        })
    }

    /// Waits for a connection. An error (for example `EMFILE` when the process is out of file
    /// descriptors) is returned as is and the listener stays usable; a server should log it
    /// and wait a moment before accepting again, since the condition may persist.
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        poll_fn(|cx| self.poll_accept(cx)).await
    }

    /// Polls for a connection.
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        #[cfg(feature = "sim")]
        let io = match &self.io {
            ListenerIo::Os(io) => io,
            ListenerIo::Sim(listener) => {
                let (stream, peer) = ready!(listener.poll_accept(cx))?;
                let stream = TcpStream::from_io(crate::tcp::StreamIo::Sim(stream));
                return Poll::Ready(Ok((stream, peer)));
            }
        };
        #[cfg(not(feature = "sim"))]
        let io = &self.io;
        let (stream, peer) = ready!(io.poll_read_with(cx, |l| l.accept()))?;
        Poll::Ready(TcpStream::from_mio(stream).map(|s| {
            s.label_peer(peer);
            (s, peer)
        }))
    }

    /// The address it listens on (with the real port after binding port 0).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        #[cfg(feature = "sim")]
        return match &self.io {
            ListenerIo::Os(io) => io.get_ref().local_addr(),
            ListenerIo::Sim(listener) => Ok(listener.local_addr()),
        };
        #[cfg(not(feature = "sim"))]
        self.io.get_ref().local_addr()
    }
}

/// Builds a [`TcpListener`] with socket options, on socket2.
///
/// ```
/// weft::run(async {
///     let listener = weft::net::TcpListener::builder()
///         .backlog(128)
///         .reuse_port(true)
///         .bind("127.0.0.1:0".parse().unwrap())
///         .unwrap();
///     assert!(listener.local_addr().unwrap().port() > 0);
/// });
/// ```
#[derive(Debug, Clone)]
pub struct ListenerBuilder {
    backlog: i32,
    reuse_address: bool,
    reuse_port: bool,
    only_v6: Option<bool>,
}

impl Default for ListenerBuilder {
    fn default() -> ListenerBuilder {
        ListenerBuilder {
            backlog: 1024,
            reuse_address: true,
            reuse_port: false,
            only_v6: None,
        }
    }
}

impl ListenerBuilder {
    /// `SO_REUSEADDR` on, no `SO_REUSEPORT`, backlog 1024, the OS default for `IPV6_V6ONLY`.
    pub fn new() -> ListenerBuilder {
        ListenerBuilder::default()
    }

    /// How many connections the kernel queues before `accept` (capped by `somaxconn`).
    pub fn backlog(mut self, backlog: i32) -> ListenerBuilder {
        self.backlog = backlog;
        self
    }

    /// `SO_REUSEADDR`.
    pub fn reuse_address(mut self, on: bool) -> ListenerBuilder {
        self.reuse_address = on;
        self
    }

    /// `SO_REUSEPORT`: several sockets (processes) share one port, the kernel spreads
    /// connections across them.
    pub fn reuse_port(mut self, on: bool) -> ListenerBuilder {
        self.reuse_port = on;
        self
    }

    /// `IPV6_V6ONLY` for an IPv6 address: `false` also accepts IPv4 connections.
    pub fn only_v6(mut self, on: bool) -> ListenerBuilder {
        self.only_v6 = Some(on);
        self
    }

    /// Creates, binds and listens. Must run inside a runtime. In a simulation (feature
    /// `sim`), on the simulated host the calling task runs on (the socket options are the
    /// OS's and do not apply).
    pub fn bind(&self, addr: SocketAddr) -> io::Result<TcpListener> {
        #[cfg(feature = "sim")]
        if crate::sim::World::current().is_some() {
            let backlog = usize::try_from(self.backlog).unwrap_or(1);
            let listener = crate::sim::SimListener::bind(addr, backlog)?;
            return Ok(TcpListener {
                io: ListenerIo::Sim(listener),
            });
        }
        let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
        socket.set_nonblocking(true)?;
        socket.set_reuse_address(self.reuse_address)?;
        if self.reuse_port {
            socket.set_reuse_port(true)?;
        }
        if let (Some(only_v6), SocketAddr::V6(_)) = (self.only_v6, addr) {
            socket.set_only_v6(only_v6)?;
        }
        socket.bind(&addr.into())?;
        socket.listen(self.backlog)?;
        TcpListener::from_std(socket.into())
    }
}
