//! `async` read and write methods for every `futures_io::AsyncRead` / `AsyncWrite`,
//! [`BufReader`] for protocols read a line or a record at a time, and [`BufWriter`] for
//! many small writes sent as few.
//!
//! weft's streams implement the `futures-io` traits that the ecosystem shares; these extension
//! traits add the methods you await, as `tokio::io::AsyncReadExt` does:
//!
//! ```
//! use weft::io::{AsyncReadExt, AsyncWriteExt};
//! use weft::net::{TcpListener, TcpStream};
//!
//! weft::run(async {
//!     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
//!     let addr = listener.local_addr().unwrap();
//!     let client = weft::spawn(async move {
//!         let mut stream = TcpStream::connect(addr).await.unwrap();
//!         stream.write_all(b"hello").await.unwrap();
//!     });
//!     let (mut conn, _) = listener.accept().await.unwrap();
//!     let mut buf = [0; 5];
//!     conn.read_exact(&mut buf).await.unwrap();
//!     assert_eq!(&buf, b"hello");
//!     client.await.unwrap();
//! });
//! ```

mod buf_reader;
mod buf_writer;

pub use buf_reader::BufReader;
pub use buf_writer::BufWriter;

use std::future::{Future, poll_fn};
use std::io;
use std::pin::Pin;

pub use futures_io::{AsyncBufRead, AsyncRead, AsyncWrite};

/// Awaitable reads on any [`AsyncRead`].
pub trait AsyncReadExt: AsyncRead + Unpin {
    /// Reads some bytes into `buf`; `Ok(0)` means end of stream (or an empty `buf`).
    ///
    /// Cancel-safe: dropped before it returns, it has read nothing.
    fn read<'a>(&'a mut self, buf: &'a mut [u8]) -> impl Future<Output = io::Result<usize>> + 'a {
        poll_fn(move |cx| Pin::new(&mut *self).poll_read(cx, buf))
    }

    /// Fills `buf` completely; `UnexpectedEof` if the stream ends first.
    ///
    /// Not cancel-safe: dropped before it returns, it may have consumed the start of what
    /// `buf` asked for. Those bytes are at the start of `buf`, and the stream goes on right
    /// after them, but how many there were is not reported. Where a read may be cancelled (a
    /// `select!`, a timeout that is retried), read through a [`BufReader`]: its own
    /// [`read_exact`](BufReader::read_exact) consumes nothing when cancelled.
    fn read_exact<'a>(
        &'a mut self,
        buf: &'a mut [u8],
    ) -> impl Future<Output = io::Result<()>> + 'a {
        async move {
            let mut filled = 0;
            while filled < buf.len() {
                match self.read(&mut buf[filled..]).await? {
                    0 => {
                        return Err(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            format!("stream ended after {filled} of {} bytes", buf.len()),
                        ));
                    }
                    n => filled += n,
                }
            }
            Ok(())
        }
    }

    /// Reads until end of stream, appending to `buf`; returns how many bytes it added.
    fn read_to_end<'a>(
        &'a mut self,
        buf: &'a mut Vec<u8>,
    ) -> impl Future<Output = io::Result<usize>> + 'a {
        async move {
            let start = buf.len();
            loop {
                // Reads straight into `buf`'s tail. (A buffer on the stack would be held across
                // the await, and make this future, and every future awaiting it, 8 KiB larger.)
                let mut tail = Tail::new(buf, 8192);
                let read = self.read(tail.room()).await;
                tail.keep(*read.as_ref().unwrap_or(&0));
                drop(tail);
                if read? == 0 {
                    return Ok(buf.len() - start);
                }
            }
        }
    }
}

impl<R: AsyncRead + Unpin + ?Sized> AsyncReadExt for R {}

/// Zeroed room at the end of a `Vec` for a read to fill. Dropped (after the read, or with a
/// read cancelled while it waited), it cuts the `Vec` back to what was read into it: a
/// cancelled `read_to_end` leaves the caller's `Vec` holding exactly the bytes that came
/// (before, it left 8 KiB of zeros behind them; `tests/cancel_safety/` found it).
struct Tail<'a> {
    buf: &'a mut Vec<u8>,
    filled: usize,
    kept: usize,
}

impl<'a> Tail<'a> {
    fn new(buf: &'a mut Vec<u8>, room: usize) -> Tail<'a> {
        let filled = buf.len();
        buf.resize(filled + room, 0);
        Tail {
            buf,
            filled,
            kept: 0,
        }
    }

    fn room(&mut self) -> &mut [u8] {
        &mut self.buf[self.filled..]
    }

    /// The read put `n` bytes in the room.
    fn keep(&mut self, n: usize) {
        self.kept = n;
    }
}

impl Drop for Tail<'_> {
    fn drop(&mut self) {
        self.buf.truncate(self.filled + self.kept);
    }
}

/// Awaitable writes on any [`AsyncWrite`].
pub trait AsyncWriteExt: AsyncWrite + Unpin {
    /// Writes some of `buf`; returns how many bytes were written.
    fn write<'a>(&'a mut self, buf: &'a [u8]) -> impl Future<Output = io::Result<usize>> + 'a {
        poll_fn(move |cx| Pin::new(&mut *self).poll_write(cx, buf))
    }

    /// Writes all of `buf`; `WriteZero` if the stream stops accepting bytes.
    ///
    /// Not cancel-safe: dropped before it returns, it may have written the start of `buf`
    /// (how much is not reported). The peer never gets anything but a prefix of `buf`, and the
    /// next write follows it.
    fn write_all<'a>(&'a mut self, buf: &'a [u8]) -> impl Future<Output = io::Result<()>> + 'a {
        async move {
            let mut written = 0;
            while written < buf.len() {
                match self.write(&buf[written..]).await? {
                    0 => {
                        return Err(io::Error::new(
                            io::ErrorKind::WriteZero,
                            format!("stream accepted {written} of {} bytes", buf.len()),
                        ));
                    }
                    n => written += n,
                }
            }
            Ok(())
        }
    }

    /// Flushes buffered data (sockets have none; wrappers may).
    fn flush(&mut self) -> impl Future<Output = io::Result<()>> + '_ {
        poll_fn(move |cx| Pin::new(&mut *self).poll_flush(cx))
    }

    /// Closes the writing side (a TCP stream sends FIN: half-close).
    fn close(&mut self) -> impl Future<Output = io::Result<()>> + '_ {
        poll_fn(move |cx| Pin::new(&mut *self).poll_close(cx))
    }
}

impl<W: AsyncWrite + Unpin + ?Sized> AsyncWriteExt for W {}
