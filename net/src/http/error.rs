//! What can go wrong with a request, as a value a program matches on ([`ErrorKind`], and the
//! [`Phase`] a timeout hit) and a message that names the cause: hyper's own errors say only
//! "connection error", so the cause behind them is found and said.

use std::error::Error as StdError;
use std::fmt;
use std::io;
use std::time::Duration;

use crate::tls::CertificateProblem;

/// The kind of a failed request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The URL cannot be requested: not http or https, no host, or not a URL at all.
    InvalidUrl,
    /// The host name did not resolve.
    Dns,
    /// No TCP connection could be made: refused, unreachable.
    Connect,
    /// The TLS handshake failed; [`Error::certificate_problem`] says why a certificate was
    /// refused.
    Tls,
    /// A time limit passed; [`Error::phase`] says which.
    Timeout,
    /// The server closed or reset the connection before the response was complete.
    Reset,
    /// The response broke HTTP's grammar (including a body shorter or longer than its
    /// Content-Length).
    Protocol,
    /// The response head was larger than [`ClientBuilder::max_header_bytes`](super::ClientBuilder::max_header_bytes).
    HeaderTooLarge,
    /// The body was larger than [`ClientBuilder::max_body_bytes`](super::ClientBuilder::max_body_bytes)
    /// (before or after decompression).
    BodyTooLarge,
    /// A redirect led back to a URL already visited in the same chain.
    RedirectLoop,
    /// More redirects than [`ClientBuilder::max_redirects`](super::ClientBuilder::max_redirects).
    TooManyRedirects,
    /// The gzip or deflate body could not be decoded.
    Decode,
    /// The request could not be built (a bad header name or value).
    Request,
}

/// Where a request was when its time ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Phase {
    /// Resolving the name, connecting, the TLS handshake ([`ClientBuilder::connect_timeout`](super::ClientBuilder::connect_timeout)).
    Connect,
    /// Waiting for the response's status line and headers ([`ClientBuilder::response_timeout`](super::ClientBuilder::response_timeout)).
    ResponseHead,
    /// The whole request, redirects and body included ([`ClientBuilder::timeout`](super::ClientBuilder::timeout),
    /// or [`RequestBuilder::timeout`](super::RequestBuilder::timeout)).
    Total,
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Phase::Connect => "connecting",
            Phase::ResponseHead => "waiting for the response head",
            Phase::Total => "the whole request",
        })
    }
}

/// A failed request: its kind, the URL, and what happened.
pub struct Error {
    kind: ErrorKind,
    phase: Option<Phase>,
    url: Option<String>,
    message: String,
    source: Option<Box<dyn StdError + Send + Sync>>,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error {
            kind,
            phase: None,
            url: None,
            message: message.into(),
            source: None,
        }
    }

    pub(crate) fn timeout(phase: Phase, limit: Duration) -> Error {
        let mut error = Error::new(
            ErrorKind::Timeout,
            format!("timed out after {limit:?} ({phase})"),
        );
        error.phase = Some(phase);
        error
    }

    pub(crate) fn with_source(mut self, source: impl StdError + Send + Sync + 'static) -> Error {
        self.source = Some(Box::new(source));
        self
    }

    /// Names the URL, unless an earlier step did.
    pub(crate) fn at(mut self, url: &url::Url) -> Error {
        if self.url.is_none() {
            self.url = Some(url.to_string());
        }
        self
    }

    /// An I/O error met while connecting to `what`.
    pub(crate) fn connect(what: &str, err: io::Error) -> Error {
        let kind = match err.kind() {
            io::ErrorKind::TimedOut => ErrorKind::Timeout,
            _ => ErrorKind::Connect,
        };
        let mut error = Error::new(kind, format!("connecting to {what}: {err}"));
        if kind == ErrorKind::Timeout {
            error.phase = Some(Phase::Connect);
        }
        error.with_source(err)
    }

    /// A TLS handshake's error with `host`.
    pub(crate) fn tls(err: io::Error) -> Error {
        let kind = match err.kind() {
            io::ErrorKind::TimedOut => ErrorKind::Timeout,
            io::ErrorKind::ConnectionReset | io::ErrorKind::UnexpectedEof => ErrorKind::Reset,
            _ => ErrorKind::Tls,
        };
        let mut error = Error::new(kind, err.to_string());
        if kind == ErrorKind::Timeout {
            error.phase = Some(Phase::Connect);
        }
        error.with_source(err)
    }

    /// hyper's error, sorted, with the cause it wraps said in the message.
    pub(crate) fn hyper(err: hyper::Error) -> Error {
        // hyper tells a head over its limit apart only with its `server` feature
        // (`is_parse_too_large`); its message says it ("message head is too large"), and
        // tests/http.rs's huge-header case pins that.
        let kind = if err.is_parse() && err.to_string().contains("too large") {
            ErrorKind::HeaderTooLarge
        } else if err.is_parse() || err.is_parse_status() || err.is_user() {
            ErrorKind::Protocol
        } else if err.is_timeout() {
            ErrorKind::Timeout
        } else if err.is_incomplete_message() || err.is_canceled() || err.is_closed() {
            ErrorKind::Reset
        } else {
            io_cause(&err).map_or(ErrorKind::Protocol, |io| match io.kind() {
                io::ErrorKind::InvalidData => ErrorKind::Protocol,
                io::ErrorKind::TimedOut => ErrorKind::Timeout,
                _ => ErrorKind::Reset,
            })
        };
        let mut message = err.to_string();
        let mut source = err.source();
        while let Some(cause) = source {
            message = format!("{message}: {cause}");
            source = cause.source();
        }
        Error::new(kind, message).with_source(err)
    }

    /// What sort of failure this is.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// For a timeout, which limit ran out.
    pub fn phase(&self) -> Option<Phase> {
        self.phase
    }

    /// True for a timeout of any phase.
    pub fn is_timeout(&self) -> bool {
        self.kind == ErrorKind::Timeout
    }

    /// The URL the failing request went to (after any redirects), when there was one.
    pub fn url(&self) -> Option<&str> {
        self.url.as_deref()
    }

    /// Why the server's certificate was refused, for a TLS error.
    pub fn certificate_problem(&self) -> Option<CertificateProblem> {
        let mut source: Option<&(dyn StdError + 'static)> = self.source.as_deref().map(|s| s as _);
        while let Some(cause) = source {
            if let Some(io) = cause.downcast_ref::<io::Error>() {
                if let Some(problem) = CertificateProblem::of(io) {
                    return Some(problem);
                }
            }
            source = cause.source();
        }
        None
    }
}

/// The first I/O error in `err`'s chain of causes.
fn io_cause<'a>(err: &'a (dyn StdError + 'static)) -> Option<&'a io::Error> {
    let mut source = err.source();
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<io::Error>() {
            return Some(io);
        }
        source = cause.source();
    }
    None
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            ErrorKind::InvalidUrl => "invalid URL",
            ErrorKind::Dns => "DNS",
            ErrorKind::Connect => "connect",
            ErrorKind::Tls => "TLS",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Reset => "connection reset",
            ErrorKind::Protocol => "protocol",
            ErrorKind::HeaderTooLarge => "response head too large",
            ErrorKind::BodyTooLarge => "body too large",
            ErrorKind::RedirectLoop => "redirect loop",
            ErrorKind::TooManyRedirects => "too many redirects",
            ErrorKind::Decode => "decode",
            ErrorKind::Request => "request",
        };
        match &self.url {
            Some(url) => write!(f, "{url}: {kind} error: {}", self.message),
            None => write!(f, "{kind} error: {}", self.message),
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "http::Error({self})")
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source.as_deref().map(|s| s as _)
    }
}
