//! TCP: listeners, streams, and owned stream halves.

mod listener;
mod split;
mod stream;

pub use listener::{ListenerBuilder, TcpListener};
pub use split::{OwnedReadHalf, OwnedWriteHalf, ReuniteError};
pub use stream::TcpStream;
pub(crate) use stream::connect_one;

/// Implements `futures_io::AsyncRead` for `$ty` and `&$ty`, whose `$io` field derefs to an
/// `Async` of a mio stream (TCP or Unix).
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
                self.$io.poll_read(cx, buf)
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
                self.$io.poll_write(cx, buf)
            }

            fn poll_write_vectored(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.$io.poll_write_vectored(cx, bufs)
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
                std::task::Poll::Ready(self.$io.get_ref().shutdown(std::net::Shutdown::Write))
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
                self.$io.get_ref().as_fd()
            }
        }

        impl std::os::fd::AsRawFd for $ty {
            fn as_raw_fd(&self) -> std::os::fd::RawFd {
                std::os::fd::AsRawFd::as_raw_fd(self.$io.get_ref())
            }
        }
    };
}

pub(crate) use {impl_as_fd, impl_async_read, impl_async_write};
