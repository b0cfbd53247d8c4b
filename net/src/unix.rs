//! Unix domain stream sockets: `UnixListener` and `UnixStream`, asyncio's
//! `start_unix_server` and `open_unix_connection`.

use std::future::poll_fn;
use std::io;
use std::net::Shutdown;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::os::unix::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::task::{Context, Poll, ready};

use weft_runtime::io::Async;

use crate::tcp::{
    impl_as_fd, impl_async_read, impl_async_write, impl_read_readiness, impl_write_readiness,
};

/// A connected Unix domain stream socket: the local counterpart of
/// [`TcpStream`](crate::TcpStream), read and written the same way. Reads and writes work
/// through `&UnixStream` too, so a reader task and a writer task can share one in an `Rc`
/// (it has no `into_split` yet).
///
/// ```
/// use weft::io::{AsyncReadExt, AsyncWriteExt};
/// use weft::net::UnixStream;
///
/// weft::run(async {
///     let (mut a, mut b) = UnixStream::pair().unwrap();
///     a.write_all(b"ping").await.unwrap();
///     let mut buf = [0; 4];
///     b.read_exact(&mut buf).await.unwrap();
///     assert_eq!(&buf, b"ping");
/// });
/// ```
#[derive(Debug)]
pub struct UnixStream {
    io: Async<mio::net::UnixStream>,
}

impl UnixStream {
    /// Connects to the socket at `path`. `WouldBlock` means the listener's backlog is full
    /// (the connection was not made; try again later). (A Unix domain connect never waits:
    /// it is `async` for the symmetry with `TcpStream::connect`.)
    pub async fn connect(path: impl AsRef<Path>) -> io::Result<UnixStream> {
        let path = path.as_ref();
        let stream = mio::net::UnixStream::connect(path).map_err(|err| {
            if err.kind() == io::ErrorKind::WouldBlock {
                let what = format!("the backlog of {} is full", path.display());
                io::Error::new(io::ErrorKind::WouldBlock, what)
            } else {
                err
            }
        })?;
        match stream.take_error()? {
            Some(err) => Err(err),
            None => UnixStream::from_mio(stream),
        }
    }

    /// Two streams connected to each other (`socketpair`): a duplex channel between tasks
    /// that reads and writes like a socket.
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let (a, b) = mio::net::UnixStream::pair()?;
        Ok((UnixStream::from_mio(a)?, UnixStream::from_mio(b)?))
    }

    /// Adopts a connected std stream (it is switched to non-blocking mode).
    pub fn from_std(stream: std::os::unix::net::UnixStream) -> io::Result<UnixStream> {
        stream.set_nonblocking(true)?;
        UnixStream::from_mio(mio::net::UnixStream::from_std(stream))
    }

    fn from_mio(stream: mio::net::UnixStream) -> io::Result<UnixStream> {
        Ok(UnixStream {
            io: Async::new(stream)?,
        })
    }

    /// The peer's address (unnamed for a client that did not bind).
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// The local address (unnamed unless bound).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// Shuts down the read side, the write side (the peer reads end of stream), or both.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
    }
}

impl_async_read!(UnixStream, io);
impl_async_write!(UnixStream, io);
impl_read_readiness!(UnixStream, io);
impl_write_readiness!(UnixStream, io);

// The descriptor, for options weft does not wrap (`SO_PEERCRED`, say).
impl_as_fd!(UnixStream, io);

/// A listening Unix domain socket at a path in the file system.
///
/// As asyncio's `start_unix_server` does, [`bind`](UnixListener::bind) first removes a socket
/// file left at the path by an earlier process (never any other kind of file), and dropping
/// the listener removes the socket file it made, unless something else has replaced it since.
/// Unlike asyncio, it leaves a socket that a live server still listens on alone, and fails
/// with `AddrInUse`.
///
/// ```
/// use weft::net::{UnixListener, UnixStream};
///
/// weft::run(async {
///     let path = std::env::temp_dir().join(format!("weft-doc-{}.sock", std::process::id()));
///     let listener = UnixListener::bind(&path).unwrap();
///     let client = weft::spawn({
///         let path = path.clone();
///         async move { UnixStream::connect(path).await.unwrap() }
///     });
///     let (_conn, _peer) = listener.accept().await.unwrap();
///     client.await.unwrap();
///     drop(listener);
///     assert!(!path.exists(), "the socket file goes with the listener");
/// });
/// ```
#[derive(Debug)]
pub struct UnixListener {
    io: Async<mio::net::UnixListener>,
    /// The socket file this listener made, and its identity (device, inode), to remove it on
    /// drop only if it is still the same file.
    made: Option<(PathBuf, (u64, u64))>,
}

impl UnixListener {
    /// Binds and listens at `path`, replacing a stale socket file there. Fails with
    /// `AddrInUse` if a server listens there, or if a file that is not a socket is in the
    /// way. Must run inside a runtime.
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixListener> {
        let path = path.as_ref();
        if std::fs::symlink_metadata(path).is_ok_and(|meta| meta.file_type().is_socket()) {
            // Stale only if nobody answers at it. The probe is non-blocking: a live server
            // with a full backlog answers `WouldBlock`, and counts as live.
            match mio::net::UnixStream::connect(path) {
                Err(err) if err.kind() == io::ErrorKind::ConnectionRefused => {
                    std::fs::remove_file(path)?
                }
                Err(err) if err.kind() != io::ErrorKind::WouldBlock => return Err(err),
                _ => {
                    let what = format!("a server is listening at {}", path.display());
                    return Err(io::Error::new(io::ErrorKind::AddrInUse, what));
                }
            }
        }
        let listener = mio::net::UnixListener::bind(path)?;
        let meta = std::fs::symlink_metadata(path)?;
        Ok(UnixListener {
            io: Async::new(listener)?,
            made: Some((path.to_owned(), (meta.dev(), meta.ino()))),
        })
    }

    /// Adopts a bound, listening std listener (it is switched to non-blocking mode). Its
    /// socket file is left alone on drop.
    pub fn from_std(listener: std::os::unix::net::UnixListener) -> io::Result<UnixListener> {
        listener.set_nonblocking(true)?;
        Ok(UnixListener {
            io: Async::new(mio::net::UnixListener::from_std(listener))?,
            made: None,
        })
    }

    /// Waits for a connection. As with [`TcpListener::accept`](crate::TcpListener::accept),
    /// an error (such as `EMFILE`) leaves the listener usable.
    pub async fn accept(&self) -> io::Result<(UnixStream, SocketAddr)> {
        poll_fn(|cx| self.poll_accept(cx)).await
    }

    /// Polls for a connection.
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(UnixStream, SocketAddr)>> {
        let (stream, peer) = ready!(self.io.poll_read_with(cx, |l| l.accept()))?;
        Poll::Ready(UnixStream::from_mio(stream).map(|s| (s, peer)))
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }
}

impl Drop for UnixListener {
    fn drop(&mut self) {
        if let Some((path, identity)) = &self.made {
            let still_ours = std::fs::symlink_metadata(path)
                .is_ok_and(|meta| (meta.dev(), meta.ino()) == *identity);
            if still_ours {
                let _ = std::fs::remove_file(path);
            }
        }
    }
}
