//! `TcpStream`.

use std::future::poll_fn;
use std::io;
use std::net::{Shutdown, SocketAddr};
use std::rc::Rc;
use std::time::Duration;

use weft_runtime::io::Async;
use weft_runtime::time::timeout;

use super::split::{OwnedReadHalf, OwnedWriteHalf};
use super::{
    StreamIo, StreamSocket, TcpIo, impl_as_fd, impl_async_read, impl_async_write,
    impl_read_readiness, impl_write_readiness, os_stream,
};
use crate::addr::{ToSocketAddrs, try_each};

/// A TCP connection: asyncio's `StreamReader`/`StreamWriter` pair, gevent's cooperative
/// socket.
///
/// Reads and writes come from [`AsyncReadExt`](crate::io::AsyncReadExt) and
/// [`AsyncWriteExt`](crate::io::AsyncWriteExt). They are implemented for `&TcpStream` as well,
/// so one task may read and write the same stream concurrently (e.g. in a `select`); to read
/// and write from two *tasks*, use [`into_split`](TcpStream::into_split).
///
/// ```
/// use weft::io::{AsyncReadExt, AsyncWriteExt};
/// use weft::net::{TcpListener, TcpStream};
///
/// weft::run(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
///     let addr = listener.local_addr().unwrap();
///     weft::spawn(async move {
///         let (mut conn, _) = listener.accept().await.unwrap();
///         let mut buf = [0; 4];
///         conn.read_exact(&mut buf).await.unwrap();
///         conn.write_all(&buf).await.unwrap();
///     });
///     let mut stream = TcpStream::connect(addr).await.unwrap();
///     stream.write_all(b"ping").await.unwrap();
///     let mut reply = [0; 4];
///     stream.read_exact(&mut reply).await.unwrap();
///     assert_eq!(&reply, b"ping");
/// });
/// ```
#[derive(Debug)]
pub struct TcpStream {
    io: StreamIo,
}

impl TcpStream {
    pub(crate) fn from_mio(stream: mio::net::TcpStream) -> io::Result<TcpStream> {
        Ok(TcpStream::from_io(os_stream(Async::new(stream)?)))
    }

    pub(crate) fn from_io(io: StreamIo) -> TcpStream {
        TcpStream { io }
    }

    /// Names the connection by its peer in task dumps ("TCP 10.0.0.7:443").
    pub(crate) fn label_peer(&self, peer: SocketAddr) {
        if let Ok(io) = self.io.os() {
            io.registration().set_label(format!("TCP {peer}"));
        }
    }

    /// Connects to `addr`, trying each address it resolves to in turn; the error is the last
    /// address's (for example `ConnectionRefused` when nothing listens there).
    pub async fn connect(addr: impl ToSocketAddrs) -> io::Result<TcpStream> {
        try_each(addr, connect_one).await
    }

    /// Like [`connect`](TcpStream::connect), giving up with `TimedOut` after `limit` in all.
    pub async fn connect_timeout(
        addr: impl ToSocketAddrs,
        limit: Duration,
    ) -> io::Result<TcpStream> {
        timeout(limit, TcpStream::connect(addr)).await?
    }

    /// Adopts a connected std stream (it is switched to non-blocking mode).
    pub fn from_std(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        stream.set_nonblocking(true)?;
        TcpStream::from_mio(mio::net::TcpStream::from_std(stream))
    }

    /// The remote address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.peer_addr()
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.local_addr()
    }

    /// Shuts down the read side, the write side (half-close: the peer reads end of stream,
    /// and can still send), or both.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        StreamSocket::shutdown(&self.io, how)
    }

    /// Whether Nagle's algorithm is off.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.io.nodelay()
    }

    /// Turns Nagle's algorithm off (`true`) or on.
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.io.set_nodelay(nodelay)
    }

    /// Reads without consuming: the next read returns the same bytes.
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        poll_fn(|cx| self.io.poll_peek(cx, buf)).await
    }

    /// Splits the stream into a read half and a write half that two tasks can own. Dropping
    /// the write half shuts the write side down; [`OwnedReadHalf::reunite`] puts them back.
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        let shared = Rc::new(self.io);
        (
            OwnedReadHalf::new(shared.clone()),
            OwnedWriteHalf::new(shared),
        )
    }
}

pub(crate) async fn connect_one(addr: SocketAddr) -> io::Result<TcpStream> {
    #[cfg(feature = "sim")]
    if crate::sim::World::current().is_some() {
        let stream = crate::sim::connect(addr).await?;
        return Ok(TcpStream::from_io(crate::tcp::StreamIo::Sim(stream)));
    }
    let io = Async::new(mio::net::TcpStream::connect(addr)?)?;
    loop {
        poll_fn(|cx| io.registration().poll_write_ready(cx)).await?;
        // Writable means the handshake ended, one way or the other.
        if let Some(err) = io.get_ref().take_error()? {
            return Err(err);
        }
        match io.get_ref().peer_addr() {
            Ok(peer) => {
                let stream = TcpStream::from_io(os_stream(io));
                stream.label_peer(peer);
                return Ok(stream);
            }
            Err(err) if err.kind() == io::ErrorKind::NotConnected => {
                io.registration().clear_write_ready(); // spurious: still in progress
            }
            Err(err) => return Err(err),
        }
    }
}

impl_async_read!(TcpStream, io);
impl_async_write!(TcpStream, io);
impl_read_readiness!(TcpStream, io);
impl_write_readiness!(TcpStream, io);

// The descriptor, for options weft does not wrap (e.g. with socket2's `SockRef`).
impl_as_fd!(TcpStream, io);
