//! The child's standard streams as async pipes: [`ChildStdin`] to write, [`ChildStdout`] and
//! [`ChildStderr`] to read. They work with `weft::io`'s `AsyncReadExt`/`AsyncWriteExt` and with
//! `BufReader` (lines of a child's output), as sockets do.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::pin::Pin;
use std::task::{Context, Poll};

use mio::unix::pipe::{Receiver, Sender};
use weft_runtime::io::Async;

/// The write end of a child's standard input. Closing it (`close().await`, or dropping it)
/// is how the child sees the end of its input.
#[derive(Debug)]
pub struct ChildStdin {
    /// `None` once closed.
    io: Option<Async<Sender>>,
}

/// The read end of a child's standard output.
#[derive(Debug)]
pub struct ChildStdout {
    io: Async<Receiver>,
}

/// The read end of a child's standard error.
#[derive(Debug)]
pub struct ChildStderr {
    io: Async<Receiver>,
}

impl ChildStdin {
    pub(crate) fn from_std(stdin: std::process::ChildStdin) -> io::Result<ChildStdin> {
        let sender = Sender::from(stdin);
        sender.set_nonblocking(true)?;
        Ok(ChildStdin {
            io: Some(Async::new(sender)?),
        })
    }

    fn open(&self) -> io::Result<&Async<Sender>> {
        self.io.as_ref().ok_or_else(|| {
            io::Error::new(io::ErrorKind::BrokenPipe, "the child's stdin was closed")
        })
    }
}

/// Makes an async reader of a child's output pipe.
fn receiver(pipe: impl Into<Receiver>) -> io::Result<Async<Receiver>> {
    let receiver = pipe.into();
    receiver.set_nonblocking(true)?;
    Async::new(receiver)
}

impl ChildStdout {
    pub(crate) fn from_std(stdout: std::process::ChildStdout) -> io::Result<ChildStdout> {
        Ok(ChildStdout {
            io: receiver(stdout)?,
        })
    }
}

impl ChildStderr {
    pub(crate) fn from_std(stderr: std::process::ChildStderr) -> io::Result<ChildStderr> {
        Ok(ChildStderr {
            io: receiver(stderr)?,
        })
    }
}

impl futures_io::AsyncWrite for ChildStdin {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.open() {
            Ok(io) => io.poll_write(cx, buf),
            Err(err) => Poll::Ready(Err(err)),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.open() {
            Ok(io) => io.poll_write_vectored(cx, bufs),
            Err(err) => Poll::Ready(Err(err)),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    /// Closes the pipe: the child reads end of file.
    fn poll_close(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io = None;
        Poll::Ready(Ok(()))
    }
}

/// `AsyncRead` for an output pipe, and its descriptor lent out.
macro_rules! impl_output_pipe {
    ($ty:ty) => {
        impl futures_io::AsyncRead for $ty {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut [u8],
            ) -> Poll<io::Result<usize>> {
                self.io.poll_read(cx, buf)
            }
        }

        /// The pipe's descriptor. weft keeps ownership: do not close it or make it blocking.
        impl AsFd for $ty {
            fn as_fd(&self) -> BorrowedFd<'_> {
                self.io.get_ref().as_fd()
            }
        }

        impl AsRawFd for $ty {
            fn as_raw_fd(&self) -> RawFd {
                self.io.get_ref().as_raw_fd()
            }
        }
    };
}

impl_output_pipe!(ChildStdout);
impl_output_pipe!(ChildStderr);
