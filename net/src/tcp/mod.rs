//! TCP: listeners, streams, and owned stream halves.

mod io;
mod listener;
mod split;
mod stream;

pub(crate) use io::{StreamIo, StreamSocket, TcpIo, os_stream};

pub use listener::{ListenerBuilder, TcpListener};
pub use split::{OwnedReadHalf, OwnedWriteHalf, ReuniteError};
pub use stream::TcpStream;
pub(crate) use stream::connect_one;

/// Implements `futures_io::AsyncRead` for `$ty` and `&$ty`, whose `$io` field is a
/// [`StreamSocket`] (an `Async` of a mio stream, TCP or Unix, or a simulated one).
macro_rules! impl_async_read {
    ($ty:ty, $io:ident) => {
        impl_async_read!(@one $ty, $io);
        impl_async_read!(@one &$ty, $io);
    };
    (@one $ty:ty, $io:ident) => {
        impl futures_io::AsyncRead for $ty {
            fn poll_read(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &mut [u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                $crate::tcp::StreamSocket::poll_recv(&self.$io, cx, buf)
            }
        }
    };
}

/// One `recv` on a stream socket, straight to the kernel: through `std`'s `Read` and mio's
/// wrapper it was 50 instructions of an echo round trip's 950 (callgrind), this is 10.
pub(crate) fn recv<S: std::os::fd::AsFd>(socket: &S, buf: &mut [u8]) -> std::io::Result<usize> {
    rustix::net::recv(socket, buf, rustix::net::RecvFlags::empty())
        .map(|(n, _)| n)
        .map_err(std::io::Error::from)
}

/// One `send` on a stream socket, straight to the kernel (see [`recv`]). `MSG_NOSIGNAL`: a
/// peer that has gone is an `EPIPE` error, never a `SIGPIPE` that kills the process.
pub(crate) fn send<S: std::os::fd::AsFd>(socket: &S, buf: &[u8]) -> std::io::Result<usize> {
    rustix::net::send(socket, buf, rustix::net::SendFlags::NOSIGNAL).map_err(std::io::Error::from)
}

/// Adds `readable()` and `try_read()` to `$ty`, whose `$io` field is a [`StreamSocket`]:
/// wait for bytes holding no buffer, then read into one taken only then.
macro_rules! impl_read_readiness {
    ($ty:ty, $io:ident) => {
        impl $ty {
            /// Waits until the stream has bytes to read, or has ended or failed (then
            /// `try_read` says so at once): tokio's `readable()`, asyncio's
            /// `loop.add_reader`. Nothing is held while it waits, so a connection can wait
            /// with no buffer of its own and read into one taken only once bytes are there.
            /// It may return when a read would still block; `try_read` then says
            /// `WouldBlock`, and the next `readable()` waits for new bytes. Cancel-safe.
            pub fn readable(&self) -> impl std::future::Future<Output = std::io::Result<()>> + '_ {
                $crate::tcp::StreamSocket::readable(&self.$io)
            }

            /// Reads what is there into `buf`, without waiting: `Ok(0)` at the end of the
            /// stream, `WouldBlock` if nothing has arrived (wait with `readable()`). A read
            /// that fills less than `buf` took everything there was, so the next
            /// `readable()` waits for new bytes instead of costing one more `read` that
            /// would only say `WouldBlock`.
            pub fn try_read(&self, buf: &mut [u8]) -> std::io::Result<usize> {
                $crate::tcp::StreamSocket::try_recv(&self.$io, buf)
            }
        }
    };
}

/// Adds `writable()` and `try_write()` to `$ty`, as `impl_read_readiness` adds reading.
macro_rules! impl_write_readiness {
    ($ty:ty, $io:ident) => {
        impl $ty {
            /// Waits until the stream can take bytes (or has failed): tokio's
            /// `writable()`. May return when a write would still block. Cancel-safe.
            pub fn writable(&self) -> impl std::future::Future<Output = std::io::Result<()>> + '_ {
                $crate::tcp::StreamSocket::writable(&self.$io)
            }

            /// Writes what the kernel takes of `buf` now, without waiting; `WouldBlock` if it
            /// takes nothing (wait with `writable()`).
            pub fn try_write(&self, buf: &[u8]) -> std::io::Result<usize> {
                $crate::tcp::StreamSocket::try_send(&self.$io, buf)
            }
        }
    };
}

/// Implements `futures_io::AsyncWrite` the same way; `poll_close` shuts down the write side.
macro_rules! impl_async_write {
    ($ty:ty, $io:ident) => {
        impl_async_write!(@one $ty, $io);
        impl_async_write!(@one &$ty, $io);
    };
    (@one $ty:ty, $io:ident) => {
        impl futures_io::AsyncWrite for $ty {
            fn poll_write(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                $crate::tcp::StreamSocket::poll_send(&self.$io, cx, buf)
            }

            fn poll_write_vectored(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                $crate::tcp::StreamSocket::poll_send_vectored(&self.$io, cx, bufs)
            }

            fn poll_flush(
                self: std::pin::Pin<&mut Self>,
                _: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::task::Poll::Ready(Ok(()))
            }

            fn poll_close(
                self: std::pin::Pin<&mut Self>,
                _: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::task::Poll::Ready($crate::tcp::StreamSocket::shutdown(
                    &self.$io,
                    std::net::Shutdown::Write,
                ))
            }
        }
    };
}

/// Implements `AsFd` and `AsRawFd` for `$ty`, lending its socket's descriptor for options
/// weft does not wrap. weft keeps ownership: the caller must not close the descriptor or
/// change its blocking mode.
macro_rules! impl_as_fd {
    ($ty:ty, $io:ident) => {
        /// The socket's descriptor, for options weft does not wrap. weft keeps ownership: do
        /// not close it or change its blocking mode.
        impl std::os::fd::AsFd for $ty {
            fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
                $crate::tcp::StreamSocket::fd(&self.$io)
            }
        }

        impl std::os::fd::AsRawFd for $ty {
            fn as_raw_fd(&self) -> std::os::fd::RawFd {
                std::os::fd::AsRawFd::as_raw_fd(&$crate::tcp::StreamSocket::fd(&self.$io))
            }
        }
    };
}

pub(crate) use {
    impl_as_fd, impl_async_read, impl_async_write, impl_read_readiness, impl_write_readiness,
};
