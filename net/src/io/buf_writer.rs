//! `BufWriter`: a buffer behind a byte stream, so that many small writes leave as few large
//! ones — asyncio's `StreamWriter.write` then `drain`.

use std::fmt;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use futures_io::{AsyncRead, AsyncWrite};

/// How much a writer holds before it writes to its stream, unless told otherwise.
const DEFAULT_CAPACITY: usize = 8 * 1024;

/// Collects writes in a buffer and sends them to the stream when it is full or flushed: for a
/// client that pipelines many small commands (a batch of Redis commands, a burst of lines),
/// one system call per batch instead of one per command. asyncio's `StreamWriter` buffers the
/// same way; tokio's `BufWriter` is this type.
///
/// | asyncio `StreamWriter` | weft `BufWriter` |
/// |---|---|
/// | `writer.write(data)` | `w.write_all(data).await?`: returns as soon as it is buffered |
/// | `await writer.drain()` | `w.flush().await?`: the buffer goes out, then the stream flushes |
/// | `writer.close(); await writer.wait_closed()` | `w.close().await?`: flushes first |
/// | `writer.transport.get_write_buffer_size()` | `w.buffer().len()` |
///
/// **Flush before you wait for a reply**: bytes in the buffer have not been sent. A write as
/// large as the buffer, with nothing buffered, goes straight to the stream. The buffer's
/// memory is taken at the first buffered write, so an idle connection holds none.
///
/// Reads pass straight through, and a [`BufReader`](super::BufReader) around a `BufWriter`
/// gives both: `BufReader::new(BufWriter::new(stream))` reads lines and buffers writes.
///
/// Cancel-safe: a `write` returns only once its bytes are in the buffer or the stream, and a
/// `flush` dropped halfway keeps what it had not sent yet in the buffer, for the next flush.
/// A `BufWriter` dropped with bytes in its buffer loses them (there is no async drop):
/// [`into_parts`](BufWriter::into_parts) hands them back.
///
/// ```
/// use weft::io::{AsyncWriteExt, BufReader, BufWriter};
/// use weft::net::UnixStream;
///
/// weft::run(async {
///     let (client, server) = UnixStream::pair()?;
///     let mut client = BufWriter::new(client);
///     // Three commands, one write to the socket.
///     for command in [&b"SET a 1\r\n"[..], b"SET b 2\r\n", b"GET a\r\n"] {
///         client.write_all(command).await?;
///     }
///     assert_eq!(client.buffer().len(), 25, "nothing sent yet");
///     client.flush().await?;
///     let mut server = BufReader::new(server);
///     assert_eq!(server.next_line().await?.as_deref(), Some("SET a 1"));
///     std::io::Result::Ok(())
/// })
/// .unwrap();
/// ```
pub struct BufWriter<W> {
    inner: W,
    /// Bytes not yet written to `inner` are `buf[written..]`.
    buf: Vec<u8>,
    written: usize,
    capacity: usize,
}

impl<W> BufWriter<W> {
    /// A writer to `inner` with an 8 KiB buffer.
    pub fn new(inner: W) -> Self {
        Self::with_capacity(DEFAULT_CAPACITY, inner)
    }

    /// A writer to `inner` that holds up to `capacity` bytes (at least one) before writing.
    pub fn with_capacity(capacity: usize, inner: W) -> Self {
        BufWriter {
            inner,
            buf: Vec::new(),
            written: 0,
            capacity: capacity.max(1),
        }
    }

    /// The bytes written to this writer and not yet to the stream.
    pub fn buffer(&self) -> &[u8] {
        &self.buf[self.written..]
    }

    /// How many bytes the writer holds before it writes to the stream.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The stream. Writing to it directly goes ahead of the buffered bytes.
    pub fn get_ref(&self) -> &W {
        &self.inner
    }

    /// The stream, mutably; see [`get_ref`](Self::get_ref).
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.inner
    }

    /// The stream, and the bytes that were buffered and not yet written to it.
    pub fn into_parts(self) -> (W, Vec<u8>) {
        let unsent = self.buffer().to_vec();
        (self.inner, unsent)
    }
}

impl<W: AsyncWrite + Unpin> BufWriter<W> {
    /// Writes the buffered bytes to the stream until none are left.
    fn poll_write_buffered(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.written < self.buf.len() {
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &self.buf[self.written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::WriteZero,
                    format!(
                        "the stream took none of the {} buffered bytes; they are still in the \
                         writer",
                        self.buf.len() - self.written
                    ),
                )));
            }
            self.written += n;
        }
        self.buf.clear();
        self.written = 0;
        Poll::Ready(Ok(()))
    }
}

impl<W: AsyncWrite + Unpin> AsyncWrite for BufWriter<W> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bytes: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.buf.len() + bytes.len() > this.capacity {
            ready!(this.poll_write_buffered(cx))?;
        }
        if bytes.len() >= this.capacity {
            return Pin::new(&mut this.inner).poll_write(cx, bytes);
        }
        if this.buf.capacity() == 0 {
            this.buf.reserve_exact(this.capacity);
        }
        this.buf.extend_from_slice(bytes);
        Poll::Ready(Ok(bytes.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_write_buffered(cx))?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_write_buffered(cx))?;
        Pin::new(&mut this.inner).poll_close(cx)
    }
}

/// Reads go straight to the stream.
impl<W: AsyncRead + Unpin> AsyncRead for BufWriter<W> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<W: fmt::Debug> fmt::Debug for BufWriter<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BufWriter")
            .field("inner", &self.inner)
            .field("buffered", &self.buffer().len())
            .field("capacity", &self.capacity)
            .finish()
    }
}
