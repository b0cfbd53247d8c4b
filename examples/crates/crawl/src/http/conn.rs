//! One HTTP/1.1 connection: TCP or TLS, read through a `weft::io::BufReader`, and reading a
//! response from it (head with httparse, then the body framed by Content-Length, chunked
//! encoding, or close).

use std::io;

use weft::io::{AsyncWriteExt, BufReader};

use super::error::{ErrorKind, FetchError};

/// Headers parsed at most; more is `TooLarge`.
const MAX_HEADERS: usize = 64;
/// Longest chunk-size or trailer line accepted.
const MAX_LINE: usize = 4096;

/// A connection, read through a buffer.
pub struct Conn {
    reader: BufReader<Stream>,
}

/// What a connection runs over: plain TCP for http, TLS over TCP for https.
pub use weft::net::tls::MaybeTlsStream as Stream;

/// A response's status line and headers.
#[derive(Debug)]
pub struct Head {
    /// The status code.
    pub status: u16,
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub version: u8,
    /// The headers in the order received, names lower-cased.
    pub headers: Vec<(String, String)>,
}

impl Head {
    /// The first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        super::find_header(&self.headers, name)
    }

    /// Whether `Connection:` lists `token`.
    fn connection_has(&self, token: &str) -> bool {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("connection"))
            .flat_map(|(_, v)| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    }
}

/// How the body's end is known.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// No body (HEAD, 1xx, 204, 304).
    Empty,
    Length(u64),
    Chunked,
    /// Until the server closes the connection.
    Close,
}

/// Whether a failed exchange may be retried on a fresh connection: only when a reused
/// connection turned out closed before a single byte of the response came.
pub struct Failure {
    pub error: FetchError,
    pub stale: bool,
}

impl From<FetchError> for Failure {
    fn from(error: FetchError) -> Failure {
        Failure {
            error,
            stale: false,
        }
    }
}

fn malformed(message: impl Into<String>) -> FetchError {
    FetchError::new(ErrorKind::Malformed, message)
}

fn too_large(message: impl Into<String>) -> FetchError {
    FetchError::new(ErrorKind::TooLarge, message)
}

impl Conn {
    pub fn new(stream: Stream) -> Conn {
        Conn {
            reader: BufReader::with_capacity(16 * 1024, stream),
        }
    }

    fn available(&self) -> &[u8] {
        self.reader.buffer()
    }

    fn consume(&mut self, n: usize) {
        self.reader.consume(n);
    }

    /// Reads more bytes into the buffer; `Ok(0)` at end of stream.
    async fn fill(&mut self) -> Result<usize, FetchError> {
        self.reader
            .read_more()
            .await
            .map_err(|err| FetchError::from_io(&err))
    }

    pub async fn send(&mut self, request: &[u8]) -> Result<(), Failure> {
        self.reader.write_all(request).await.map_err(|err| Failure {
            error: FetchError::from_io(&err),
            stale: true,
        })
    }

    /// Reads the response head, skipping 1xx interim responses.
    pub async fn read_head(&mut self, max_bytes: usize) -> Result<Head, Failure> {
        // A head is refused once more than `max_bytes` of it are buffered; until then the
        // reader must be able to read more.
        self.reader.set_limit(max_bytes.saturating_add(1));
        let mut first_byte_seen = false;
        loop {
            if let Some((head, len)) = parse_head(self.available(), max_bytes)? {
                self.consume(len);
                if (100..200).contains(&head.status) {
                    continue;
                }
                return Ok(head);
            }
            let fill = self.fill().await;
            let stale = !first_byte_seen && self.available().is_empty();
            match fill {
                Ok(0) if stale => {
                    let error = FetchError::new(
                        ErrorKind::Reset,
                        "the server closed the connection without a response",
                    );
                    return Err(Failure { error, stale });
                }
                Ok(0) => {
                    return Err(
                        malformed("the connection closed inside the response headers").into(),
                    );
                }
                Ok(_) => first_byte_seen = true,
                Err(error) => return Err(Failure { error, stale }),
            }
        }
    }

    /// Reads a body framed as `framing`, refusing more than `max` bytes.
    pub async fn read_body(&mut self, framing: Framing, max: usize) -> Result<Vec<u8>, FetchError> {
        match framing {
            Framing::Empty => Ok(Vec::new()),
            Framing::Length(len) => {
                if len > max as u64 {
                    return Err(too_large(format!(
                        "Content-Length {len} exceeds the {max}-byte limit"
                    )));
                }
                let mut body = Vec::with_capacity(len as usize);
                self.read_exactly(&mut body, len as usize).await?;
                Ok(body)
            }
            Framing::Chunked => self.read_chunked(max).await,
            Framing::Close => {
                let mut body = Vec::new();
                loop {
                    body.extend_from_slice(self.available());
                    self.consume(usize::MAX);
                    if body.len() > max {
                        return Err(too_large(format!("body exceeds the {max}-byte limit")));
                    }
                    if self.fill().await? == 0 {
                        return Ok(body);
                    }
                }
            }
        }
    }

    /// Appends exactly `len` bytes to `out`.
    async fn read_exactly(&mut self, out: &mut Vec<u8>, mut len: usize) -> Result<(), FetchError> {
        while len > 0 {
            if self.available().is_empty() && self.fill().await? == 0 {
                return Err(FetchError::new(
                    ErrorKind::Reset,
                    "the connection closed in the middle of the body",
                ));
            }
            let take = len.min(self.available().len());
            out.extend_from_slice(&self.available()[..take]);
            self.consume(take);
            len -= take;
        }
        Ok(())
    }

    /// One CRLF-terminated line, without the CRLF.
    async fn read_line(&mut self) -> Result<String, FetchError> {
        let closed = || {
            FetchError::new(
                ErrorKind::Reset,
                "the connection closed in the middle of a chunked body",
            )
        };
        self.reader.set_limit(MAX_LINE);
        let mut line = Vec::new();
        match self.reader.read_until(b"\r\n", &mut line).await {
            Ok(0) => Err(closed()),
            Ok(len) => Ok(String::from_utf8_lossy(&line[..len - 2]).into_owned()),
            Err(err) if err.kind() == io::ErrorKind::InvalidData => {
                Err(malformed("a chunk line is too long"))
            }
            Err(err) if err.kind() == io::ErrorKind::UnexpectedEof => Err(closed()),
            Err(err) => Err(FetchError::from_io(&err)),
        }
    }

    async fn read_chunked(&mut self, max: usize) -> Result<Vec<u8>, FetchError> {
        let mut body = Vec::new();
        loop {
            let line = self.read_line().await?;
            let size = line.split(';').next().unwrap_or("").trim();
            let size = usize::from_str_radix(size, 16)
                .map_err(|_| malformed(format!("invalid chunk size {size:?}")))?;
            if size == 0 {
                // Trailer fields, up to the empty line.
                while !self.read_line().await?.is_empty() {}
                return Ok(body);
            }
            if body.len().saturating_add(size) > max {
                return Err(too_large(format!(
                    "chunked body exceeds the {max}-byte limit"
                )));
            }
            self.read_exactly(&mut body, size).await?;
            if !self.read_line().await?.is_empty() {
                return Err(malformed("a chunk is longer than its size says"));
            }
        }
    }
}

/// The response head at the start of `bytes` and its length, or `None` if it has not all
/// arrived. A plain function, not part of `read_head`'s future: its 2 KiB of parsed-header
/// slots are then never held across an await, and so are not part of every fetch's state.
fn parse_head(bytes: &[u8], max_bytes: usize) -> Result<Option<(Head, usize)>, FetchError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut headers);
    match response.parse(bytes) {
        Ok(httparse::Status::Complete(len)) if len > max_bytes => Err(too_large(format!(
            "response headers exceed {max_bytes} bytes"
        ))),
        Ok(httparse::Status::Complete(len)) => {
            let head = Head {
                status: response.code.unwrap_or(0),
                version: response.version.unwrap_or(1),
                headers: response
                    .headers
                    .iter()
                    .map(|h| {
                        (
                            h.name.to_owned(),
                            String::from_utf8_lossy(h.value).into_owned(),
                        )
                    })
                    .collect(),
            };
            Ok(Some((head, len)))
        }
        Ok(httparse::Status::Partial) if bytes.len() > max_bytes => Err(too_large(format!(
            "response headers exceed {max_bytes} bytes"
        ))),
        Ok(httparse::Status::Partial) => Ok(None),
        Err(httparse::Error::TooManyHeaders) => Err(too_large(format!(
            "more than {MAX_HEADERS} response headers"
        ))),
        Err(err) => Err(malformed(format!("invalid response head: {err}"))),
    }
}

/// How `head`'s body is framed, for a request that was HEAD or not (RFC 9112 §6.3).
pub fn framing(head: &Head, is_head: bool) -> Result<Framing, FetchError> {
    if is_head || head.status == 204 || head.status == 304 {
        return Ok(Framing::Empty);
    }
    if let Some(te) = head.header("transfer-encoding") {
        let last = te.rsplit(',').next().unwrap_or("").trim();
        return if last.eq_ignore_ascii_case("chunked") {
            Ok(Framing::Chunked)
        } else {
            Ok(Framing::Close)
        };
    }
    let mut lengths = head
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .flat_map(|(_, v)| v.split(','))
        .map(|v| v.trim().parse::<u64>());
    match lengths.next() {
        None => Ok(Framing::Close),
        Some(Ok(len)) if lengths.all(|other| other == Ok(len)) => Ok(Framing::Length(len)),
        Some(_) => Err(malformed("invalid or conflicting Content-Length")),
    }
}

/// Whether the connection can carry another request after this response.
pub fn reusable(head: &Head, framing: Framing) -> bool {
    let persistent = match head.version {
        1 => !head.connection_has("close"),
        _ => head.connection_has("keep-alive"),
    };
    persistent && framing != Framing::Close
}
