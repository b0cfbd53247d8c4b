//! Owned halves of a `TcpStream`, for a reader task and a writer task.

use std::fmt;
use std::net::{Shutdown, SocketAddr};
use std::rc::Rc;
use std::{error, io};

use super::stream::TcpStream;
use super::{
    StreamIo, StreamSocket, TcpIo, impl_async_read, impl_async_write, impl_read_readiness,
    impl_write_readiness,
};

type Shared = Rc<StreamIo>;

/// The reading half of a [`TcpStream`], from [`TcpStream::into_split`].
#[derive(Debug)]
pub struct OwnedReadHalf {
    io: Shared,
}

/// The writing half of a [`TcpStream`], from [`TcpStream::into_split`]. Dropping it shuts the
/// write side down, so the peer reads end of stream.
#[derive(Debug)]
pub struct OwnedWriteHalf {
    io: Shared,
    shutdown_on_drop: bool,
}

impl OwnedReadHalf {
    pub(crate) fn new(io: Shared) -> OwnedReadHalf {
        OwnedReadHalf { io }
    }

    /// Puts the stream back together; fails (returning both halves) if they came from
    /// different streams.
    pub fn reunite(self, mut write: OwnedWriteHalf) -> Result<TcpStream, ReuniteError> {
        if !Rc::ptr_eq(&self.io, &write.io) {
            return Err(ReuniteError(self, write));
        }
        write.shutdown_on_drop = false;
        drop(write);
        let io = Rc::try_unwrap(self.io).expect("both halves were given back");
        Ok(TcpStream::from_io(io))
    }

    /// The remote address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.peer_addr()
    }
}

impl OwnedWriteHalf {
    pub(crate) fn new(io: Shared) -> OwnedWriteHalf {
        OwnedWriteHalf {
            io,
            shutdown_on_drop: true,
        }
    }

    /// The remote address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.peer_addr()
    }
}

impl Drop for OwnedWriteHalf {
    fn drop(&mut self) {
        if self.shutdown_on_drop {
            // The peer may already be gone; there is nobody to report that to.
            let _ = StreamSocket::shutdown(&*self.io, Shutdown::Write);
        }
    }
}

/// [`OwnedReadHalf::reunite`] was given halves of two different streams.
pub struct ReuniteError(pub OwnedReadHalf, pub OwnedWriteHalf);

impl fmt::Debug for ReuniteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ReuniteError(..)")
    }
}

impl fmt::Display for ReuniteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the two halves belong to different TCP streams")
    }
}

impl error::Error for ReuniteError {}

impl_async_read!(OwnedReadHalf, io);
impl_async_write!(OwnedWriteHalf, io);
impl_read_readiness!(OwnedReadHalf, io);
impl_write_readiness!(OwnedWriteHalf, io);
