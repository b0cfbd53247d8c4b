//! The same exchange through hyper's HTTP/1.1 client connection API on weft
//! (`hyper::client::conn::http1` over `weft::net::hyper::HyperIo`): one `SendRequest` per
//! pooled connection, its connection driven by a weft task. The client around it (pool,
//! redirects, limits, decoding, error kinds) is the same as for the hand-written connection.

use http_body_util::{BodyExt, Empty, LengthLimitError, Limited};
use hyper::body::Bytes;
use hyper::client::conn::http1;
use weft::net::hyper::HyperIo;

use super::conn::{Failure, Head, Stream};
use super::error::{ErrorKind, FetchError};

/// A request as hyper sends it: this client's requests have no body.
pub type Request = hyper::Request<Empty<Bytes>>;

/// One connection, spoken to through hyper.
pub struct HyperConn {
    sender: http1::SendRequest<Empty<Bytes>>,
}

impl HyperConn {
    /// Runs hyper's HTTP/1.1 handshake over `stream`, refusing response heads larger than
    /// `max_header_bytes` (hyper's floor is 8 KiB).
    pub async fn handshake(
        stream: Stream,
        max_header_bytes: usize,
    ) -> Result<HyperConn, FetchError> {
        let (sender, connection) = http1::Builder::new()
            .max_buf_size(max_header_bytes.max(8192))
            .handshake(HyperIo::new(stream))
            .await
            .map_err(|err| error_kind(&err))?;
        weft::spawn(async move {
            let _ = connection.await; // its errors reach the request that meets them
        });
        Ok(HyperConn { sender })
    }

    /// Sends `request` and reads the whole response, its body at most `max` bytes; returns
    /// the head, the (still encoded) body, and whether the connection can serve another.
    pub async fn round_trip(
        &mut self,
        request: Request,
        max: usize,
    ) -> Result<(Head, Vec<u8>, bool), Failure> {
        // A pooled connection that the server closed while it was idle fails here, before a
        // byte of the request went out: the caller may retry it on a fresh one.
        if self.sender.ready().await.is_err() {
            return Err(Failure {
                error: FetchError::new(ErrorKind::Reset, "the server closed the connection"),
                stale: true,
            });
        }
        let response = self
            .sender
            .send_request(request)
            .await
            .map_err(|err| Failure {
                stale: err.is_canceled() || err.is_incomplete_message(),
                error: error_kind(&err),
            })?;
        let (parts, body) = response.into_parts();
        let head = Head {
            status: parts.status.as_u16(),
            version: u8::from(parts.version != hyper::Version::HTTP_10),
            headers: parts
                .headers
                .iter()
                .map(|(name, value)| {
                    (
                        name.as_str().to_owned(),
                        String::from_utf8_lossy(value.as_bytes()).into_owned(),
                    )
                })
                .collect(),
        };
        let body = Limited::new(body, max)
            .collect()
            .await
            .map_err(|err| {
                if err.downcast_ref::<LengthLimitError>().is_some() {
                    FetchError::new(ErrorKind::TooLarge, format!("a body over {max} bytes"))
                } else if let Some(err) = err.downcast_ref::<hyper::Error>() {
                    error_kind(err)
                } else {
                    FetchError::new(ErrorKind::Reset, err.to_string())
                }
            })?
            .to_bytes()
            .to_vec();
        Ok((head, body, !self.sender.is_closed()))
    }
}

/// Sorts a hyper error into the crawler's kinds, as the hand-written connection does.
fn error_kind(err: &hyper::Error) -> FetchError {
    let message = err.to_string();
    if err.is_parse_too_large() {
        return FetchError::new(ErrorKind::TooLarge, message);
    }
    if err.is_parse() || err.is_parse_status() {
        return FetchError::new(ErrorKind::Malformed, message);
    }
    if err.is_timeout() {
        return FetchError::new(ErrorKind::Timeout, message);
    }
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            return FetchError::from_io(io);
        }
        source = cause.source();
    }
    FetchError::new(ErrorKind::Reset, message)
}
