//! `BufReader`: a buffer in front of a byte stream, for protocols framed by lines or separators
//! — asyncio's `StreamReader`.

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use futures_io::{AsyncBufRead, AsyncRead, AsyncWrite, IoSlice};

/// How much a reader reads from its stream at a time, unless told otherwise.
const DEFAULT_CAPACITY: usize = 8 * 1024;

/// The longest record (line, or bytes up to a separator) a reader accepts unless told
/// otherwise: asyncio's default stream limit.
const DEFAULT_LIMIT: usize = 64 * 1024;

/// Reads a stream through a buffer, so that a protocol can take it a line or a record at a
/// time: asyncio's `StreamReader`, for any [`AsyncRead`] (a `TcpStream`, an `OwnedReadHalf`).
///
/// | asyncio `StreamReader` | weft `BufReader` |
/// |---|---|
/// | `open_connection(host, port)` | `BufReader::new(TcpStream::connect(addr).await?)` |
/// | `line = await r.readline()` | `r.read_line(&mut line).await?` |
/// | `async for line in r:` | `while let Some(line) = r.next_line().await? {` |
/// | `await r.readuntil(b"\r\n\r\n")` | `r.read_until(b"\r\n\r\n", &mut head).await?` |
/// | `await r.readexactly(n)` | `r.read_exact(&mut buf[..n]).await?` |
/// | `await r.read(n)` | `r.read(&mut buf[..n]).await?` |
/// | `open_connection(..., limit=2**16)` | `BufReader::new(stream).with_limit(1 << 16)` |
/// | `r.at_eof()` | `r.at_eof()` |
/// | `writer.write(data)` | `r.write_all(data).await?`: writes pass straight through |
///
/// (`read` comes from [`AsyncReadExt`](super::AsyncReadExt), as on any stream;
/// [`read_exact`](BufReader::read_exact) is the reader's own, cancel-safe one.)
///
/// A record longer than the limit (64 KiB unless set) is an error of kind `InvalidData`, so a
/// peer that never sends a newline cannot make the buffer grow without end.
///
/// The buffer stays while the stream waits: a `BufReader` reads through the generic
/// [`AsyncRead`], which needs memory to read into before it knows whether bytes are there.
/// Giving it back at every wait would cost an allocation per read. A connection that should
/// hold nothing while idle waits with the stream's own `readable()` and reads with `try_read`
/// into a buffer taken then (the echo server does; see `TcpStream::readable`).
///
/// Two differences from asyncio, on purpose, both so that bad input loses nothing:
/// - **An error consumes nothing.** When a line is too long or not UTF-8, or the stream fails
///   or ends in the middle of a record, its bytes stay in the reader, to be read again or
///   looked at with [`buffer`](BufReader::buffer). (asyncio's `readline` throws a too-long
///   line away.)
/// - **Cancelling a read consumes nothing either.** A read whose future is dropped — by a
///   `timeout`, or by losing a `select!` — leaves every byte it had read in the buffer, so the
///   next call starts where it would have. Which reads that holds for:
///
/// | read | dropped before it returns |
/// |---|---|
/// | [`read_line`](Self::read_line), [`next_line`](Self::next_line), [`read_until`](Self::read_until) | consumed nothing |
/// | [`read_exact`](Self::read_exact) (the reader's own) | consumed nothing |
/// | `read` ([`AsyncReadExt`](super::AsyncReadExt)), [`fill_buf`](Self::fill_buf), [`read_more`](Self::read_more) | consumed nothing |
/// | `read_to_end` ([`AsyncReadExt`](super::AsyncReadExt)) | the bytes it took are at the end of your `Vec` |
/// | `AsyncReadExt::read_exact(&mut reader, ..)`, called through the trait | not cancel-safe: use the reader's own |
///
/// ```
/// use weft::io::{AsyncWriteExt, BufReader};
/// use weft::net::{TcpListener, TcpStream};
///
/// weft::run(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await?;
///     let addr = listener.local_addr()?;
///     weft::spawn(async move {
///         let (mut conn, _) = listener.accept().await?;
///         conn.write_all(b"HELLO weft\r\nsecond line\nno newline at the end").await
///     });
///
///     let mut reader = BufReader::new(TcpStream::connect(addr).await?);
///     let mut lines = Vec::new();
///     while let Some(line) = reader.next_line().await? {
///         lines.push(line);
///     }
///     assert_eq!(lines, ["HELLO weft", "second line", "no newline at the end"]);
///     std::io::Result::Ok(())
/// })
/// .unwrap();
/// ```
pub struct BufReader<R> {
    inner: R,
    /// Bytes read from `inner` live in `buf[start..end]`. Its length is the capacity: it grows
    /// (up to `limit`) only when a record needs more room.
    buf: Vec<u8>,
    start: usize,
    end: usize,
    limit: usize,
    /// The last read from `inner` returned 0 bytes.
    eof: bool,
}

/// Where a record ends in the buffered bytes.
enum Record {
    /// It ends after this many bytes, its separator included.
    Complete(usize),
    /// The stream ended after this many bytes without a separator.
    Truncated(usize),
}

impl<R> BufReader<R> {
    /// A reader of `inner` with an 8 KiB buffer and a 64 KiB limit on records.
    pub fn new(inner: R) -> Self {
        Self::with_capacity(DEFAULT_CAPACITY, inner)
    }

    /// A reader of `inner` that reads up to `capacity` bytes at a time (at least one).
    pub fn with_capacity(capacity: usize, inner: R) -> Self {
        BufReader {
            inner,
            buf: vec![0; capacity.max(1)],
            start: 0,
            end: 0,
            limit: DEFAULT_LIMIT,
            eof: false,
        }
    }

    /// Sets the longest record [`read_line`](Self::read_line), [`next_line`](Self::next_line)
    /// and [`read_until`](Self::read_until) accept, separator included (at least one byte).
    /// The buffer grows up to this size when a record needs it.
    pub fn with_limit(mut self, limit: usize) -> Self {
        self.set_limit(limit);
        self
    }

    /// The longest record this reader accepts.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Changes the limit from now on: say, to allow longer lines in one part of a protocol
    /// than in another.
    pub fn set_limit(&mut self, limit: usize) {
        self.limit = limit.max(1);
    }

    /// The bytes read from the stream and not consumed yet.
    pub fn buffer(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    /// Marks `n` buffered bytes as read (at most all of them).
    pub fn consume(&mut self, n: usize) {
        self.start += n.min(self.end - self.start);
        if self.start == self.end {
            (self.start, self.end) = (0, 0);
        }
    }

    /// Whether the stream has ended and every byte of it has been consumed (asyncio's
    /// `at_eof`).
    pub fn at_eof(&self) -> bool {
        self.eof && self.start == self.end
    }

    /// The stream. Writing through it is fine; reading from it directly skips the buffered
    /// bytes.
    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    /// The stream, mutably; see [`get_ref`](Self::get_ref).
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.inner
    }

    /// The stream, and the bytes read from it that were not consumed.
    pub fn into_parts(self) -> (R, Vec<u8>) {
        let unread = self.buffer().to_vec();
        (self.inner, unread)
    }
}

impl<R: AsyncRead + Unpin> BufReader<R> {
    /// Waits until there are buffered bytes, reading once if there are none, and returns them;
    /// empty at the end of the stream. Mark what you use with [`consume`](Self::consume).
    pub async fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.start == self.end {
            poll_fn(|cx| self.poll_read_more(cx)).await?;
        }
        Ok(self.buffer())
    }

    /// Reads once more from the stream and adds what came to the buffered bytes, where
    /// [`fill_buf`](Self::fill_buf) reads only when nothing is buffered: for an incremental
    /// parser that cannot consume anything until it has seen more. Returns how many bytes
    /// came; 0 at the end of the stream. With [`limit`](Self::limit) bytes buffered already it
    /// reads nothing and fails with `InvalidData`, so the buffer stays bounded.
    ///
    /// ```
    /// use weft::io::{AsyncWriteExt, BufReader};
    /// use weft::net::{TcpListener, TcpStream};
    ///
    /// /// The length-prefixed message at the front of `bytes`, once it is all there.
    /// fn parse(bytes: &[u8]) -> Option<&[u8]> {
    ///     let (&len, rest) = bytes.split_first()?;
    ///     rest.get(..usize::from(len))
    /// }
    ///
    /// weft::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let addr = listener.local_addr()?;
    ///     weft::spawn(async move {
    ///         let (mut conn, _) = listener.accept().await?;
    ///         conn.write_all(&[5]).await?;
    ///         conn.write_all(b"hello").await
    ///     });
    ///     let mut reader = BufReader::new(TcpStream::connect(addr).await?);
    ///     let message = loop {
    ///         if let Some(message) = parse(reader.buffer()) {
    ///             break message.to_vec();
    ///         }
    ///         if reader.read_more().await? == 0 {
    ///             panic!("the stream ended inside a message");
    ///         }
    ///     };
    ///     reader.consume(1 + message.len());
    ///     assert_eq!(message, b"hello");
    ///     std::io::Result::Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn read_more(&mut self) -> io::Result<usize> {
        if self.end - self.start >= self.limit {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "the reader already holds its limit of {} bytes (with_limit or set_limit \
                     raises it)",
                    self.limit
                ),
            ));
        }
        poll_fn(|cx| self.poll_read_more(cx)).await
    }

    /// Fills `buf` completely: asyncio's `readexactly(len(buf))`. If the stream ends first it
    /// fails with `UnexpectedEof` (asyncio's `IncompleteReadError`), and the bytes that did
    /// come stay in the reader.
    ///
    /// Cancel-safe, unlike [`AsyncReadExt::read_exact`](super::AsyncReadExt::read_exact):
    /// it consumes nothing until all of `buf` is there, so a `timeout` around it that fires
    /// after part of a record came loses nothing, and the next call starts at the record's
    /// first byte. The buffer grows to `buf.len()` if it is smaller.
    ///
    /// ```
    /// use std::time::Duration;
    /// use weft::io::{AsyncWriteExt, BufReader};
    /// use weft::net::UnixStream;
    /// use weft::time::timeout;
    ///
    /// weft::run(async {
    ///     let (ours, mut theirs) = UnixStream::pair()?;
    ///     let mut reader = BufReader::new(ours);
    ///     theirs.write_all(b"abc").await?;
    ///     let mut record = [0; 5];
    ///     let early = timeout(Duration::from_millis(10), reader.read_exact(&mut record)).await;
    ///     assert!(early.is_err(), "only 3 of 5 bytes came");
    ///     assert_eq!(reader.buffer(), b"abc", "kept, not lost");
    ///     theirs.write_all(b"de").await?;
    ///     reader.read_exact(&mut record).await?;
    ///     assert_eq!(&record, b"abcde");
    ///     std::io::Result::Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn read_exact(&mut self, buf: &mut [u8]) -> io::Result<()> {
        let want = buf.len();
        if self.buf.len() < want {
            self.buf.resize(want, 0);
        }
        while self.end - self.start < want {
            // There is room: the buffer holds `want`, and fewer are buffered.
            if poll_fn(|cx| self.poll_read_more(cx)).await? == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!(
                        "the stream ended after {} of {want} bytes; they are still in the reader",
                        self.end - self.start
                    ),
                ));
            }
        }
        buf.copy_from_slice(&self.buffer()[..want]);
        self.consume(want);
        Ok(())
    }

    /// Reads a line, up to and including `\n`, and appends it to `line`; returns its length in
    /// bytes. At the end of the stream the line is what is left (asyncio's `readline` does the
    /// same), and 0 means nothing was.
    ///
    /// A line longer than [`limit`](Self::limit), or not UTF-8, is an `InvalidData` error that
    /// leaves its bytes in the reader and `line` as it was.
    pub async fn read_line(&mut self, line: &mut String) -> io::Result<usize> {
        let len = match self.record(b"\n").await? {
            Record::Complete(len) | Record::Truncated(len) => len,
        };
        let text = std::str::from_utf8(&self.buffer()[..len]).map_err(|err| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("the line is not UTF-8 ({err}); its bytes are still in the reader"),
            )
        })?;
        line.push_str(text);
        self.consume(len);
        Ok(len)
    }

    /// The next line without its `\n` or `\r\n`; `None` at the end of the stream. Errors as
    /// [`read_line`](Self::read_line).
    pub async fn next_line(&mut self) -> io::Result<Option<String>> {
        let mut line = String::new();
        if self.read_line(&mut line).await? == 0 {
            return Ok(None);
        }
        if line.ends_with('\n') {
            line.pop();
            if line.ends_with('\r') {
                line.pop();
            }
        }
        Ok(Some(line))
    }

    /// Reads up to and including `separator` (one byte or more: `b"\n"`, `b"\r\n\r\n"`) and
    /// appends it to `buf`; returns how many bytes it appended. 0 means the stream had ended
    /// with nothing left to read.
    ///
    /// As asyncio's `readuntil`, it fails if the stream ends in the middle of a record
    /// (`UnexpectedEof`, asyncio's `IncompleteReadError`) or finds no separator within
    /// [`limit`](Self::limit) bytes (`InvalidData`, asyncio's `LimitOverrunError`). Either way
    /// the bytes stay in the reader. An empty separator is an `InvalidInput` error.
    pub async fn read_until(&mut self, separator: &[u8], buf: &mut Vec<u8>) -> io::Result<usize> {
        match self.record(separator).await? {
            Record::Complete(len) | Record::Truncated(len @ 0) => {
                buf.extend_from_slice(&self.buffer()[..len]);
                self.consume(len);
                Ok(len)
            }
            Record::Truncated(len) => Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "the stream ended {len} bytes into a record, before its separator; the \
                     bytes are still in the reader"
                ),
            )),
        }
    }

    /// Reads until the buffered bytes hold a record ending in `separator` within the first
    /// `limit` bytes, or the stream ends. Consumes nothing, so that an error or a cancellation
    /// loses no bytes.
    async fn record(&mut self, separator: &[u8]) -> io::Result<Record> {
        if separator.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "the separator is empty",
            ));
        }
        // Bytes before `searched` hold no separator that ends inside the window seen so far.
        let mut searched = 0;
        loop {
            let buffered = self.buffer();
            let window = &buffered[..buffered.len().min(self.limit)];
            if let Some(at) = find(&window[searched..], separator) {
                return Ok(Record::Complete(searched + at + separator.len()));
            }
            if window.len() == self.limit {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "no separator within the reader's limit of {} bytes; the bytes are \
                         still in the reader (with_limit or set_limit raises the limit)",
                        self.limit
                    ),
                ));
            }
            // A separator may straddle what is buffered and what comes next.
            searched = window.len().saturating_sub(separator.len() - 1);
            if poll_fn(|cx| self.poll_read_more(cx)).await? == 0 {
                return Ok(Record::Truncated(self.end - self.start));
            }
        }
    }

    /// Reads once from the stream into the room after the buffered bytes. The buffered bytes
    /// move to the front first, so the read gets all the room there is (a read into a sliver
    /// left at the end would cost a system call for a few bytes); a full buffer grows, up to
    /// `limit`. Callers read more only while fewer than `limit` bytes are buffered (or none,
    /// whatever the limit), so there is always room to make.
    fn poll_read_more(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            (self.start, self.end) = (0, self.end - self.start);
        }
        if self.end == self.buf.len() {
            let grown = (self.buf.len() * 2).min(self.limit.max(self.buf.len() + 1));
            self.buf.resize(grown, 0);
        }
        let n = ready!(Pin::new(&mut self.inner).poll_read(cx, &mut self.buf[self.end..]))?;
        self.end += n;
        self.eof = n == 0;
        Poll::Ready(Ok(n))
    }
}

/// Where `needle` (not empty) first occurs in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    match needle {
        [byte] => haystack.iter().position(|b| b == byte),
        _ => haystack.windows(needle.len()).position(|w| w == needle),
    }
}

/// Reads come from the buffer first; a read at least as large as the buffer, with nothing
/// buffered, goes straight to the stream.
impl<R: AsyncRead + Unpin> AsyncRead for BufReader<R> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if out.is_empty() {
            return Poll::Ready(Ok(0));
        }
        if this.start == this.end {
            if out.len() >= this.buf.len() {
                let n = ready!(Pin::new(&mut this.inner).poll_read(cx, out))?;
                this.eof = n == 0;
                return Poll::Ready(Ok(n));
            }
            ready!(this.poll_read_more(cx))?;
        }
        let n = out.len().min(this.end - this.start);
        out[..n].copy_from_slice(&this.buffer()[..n]);
        this.consume(n);
        Poll::Ready(Ok(n))
    }
}

impl<R: AsyncRead + Unpin> AsyncBufRead for BufReader<R> {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        let this = self.get_mut();
        if this.start == this.end {
            ready!(this.poll_read_more(cx))?;
        }
        Poll::Ready(Ok(this.buffer()))
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        self.get_mut().consume(amt);
    }
}

/// Writes go straight to the stream, so one `BufReader<TcpStream>` serves both directions.
impl<R: AsyncWrite + Unpin> AsyncWrite for BufReader<R> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_close(cx)
    }
}

impl<R: fmt::Debug> fmt::Debug for BufReader<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BufReader")
            .field("inner", &self.inner)
            .field("buffered", &(self.end - self.start))
            .field("capacity", &self.buf.len())
            .field("limit", &self.limit)
            .finish()
    }
}
