//! What can go wrong fetching a URL, sorted into kinds the crawler counts.

use std::fmt;
use std::io;

/// The kind of a failed fetch; `as_str` names it in reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ErrorKind {
    /// The host name did not resolve.
    Dns,
    /// No connection could be made (refused, unreachable).
    Connect,
    /// The request took longer than the time limit.
    Timeout,
    /// The peer reset or closed the connection before the response was complete.
    Reset,
    /// The response broke HTTP/1.1's grammar.
    Malformed,
    /// The headers or the body were larger than the limits allow.
    TooLarge,
    /// A redirect led back to a URL already visited in the same chain.
    RedirectLoop,
    /// More redirects than the limit allows.
    TooManyRedirects,
    /// The body's content encoding (gzip, deflate) could not be decoded.
    Decode,
    /// The TLS handshake failed: an untrusted or expired certificate, a wrong name, a peer
    /// that does not speak TLS.
    Tls,
    /// Something this client does not do: a scheme other than http and https.
    Unsupported,
}

impl ErrorKind {
    /// The kind's name in reports and summaries.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Dns => "dns",
            ErrorKind::Connect => "connect",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Reset => "reset",
            ErrorKind::Malformed => "malformed",
            ErrorKind::TooLarge => "too_large",
            ErrorKind::RedirectLoop => "redirect_loop",
            ErrorKind::TooManyRedirects => "too_many_redirects",
            ErrorKind::Decode => "decode",
            ErrorKind::Tls => "tls",
            ErrorKind::Unsupported => "unsupported",
        }
    }
}

/// A failed fetch: its kind, and a message saying what happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FetchError {
    /// What sort of failure.
    pub kind: ErrorKind,
    /// The details, for a person.
    pub message: String,
}

impl FetchError {
    /// An error of `kind` saying `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> FetchError {
        FetchError {
            kind,
            message: message.into(),
        }
    }

    /// Sorts an I/O error met while talking to the server.
    pub fn from_io(err: &io::Error) -> FetchError {
        let kind = match err.kind() {
            io::ErrorKind::TimedOut => ErrorKind::Timeout,
            io::ErrorKind::InvalidData => ErrorKind::Malformed,
            _ => ErrorKind::Reset,
        };
        FetchError::new(kind, err.to_string())
    }
}

impl fmt::Display for FetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.as_str(), self.message)
    }
}

impl std::error::Error for FetchError {}
