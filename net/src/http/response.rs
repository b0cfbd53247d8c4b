//! [`Response`]: the status and headers as soon as they arrive, the body when asked for, read
//! within the request's limits and decompressed.

use std::io::Read;
use std::rc::Rc;

use http_body_util::{BodyExt, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::client::conn::http1;
use hyper::header::CONTENT_ENCODING;
use hyper::{HeaderMap, StatusCode, Version};
use url::Url;
use weft_runtime::time::{Instant, timeout_at};

use super::Config;
use super::error::{Error, ErrorKind, Phase};
use super::pool::{Origin, Pool};

/// A response: its status and headers, and its body, which [`bytes`](Response::bytes) or
/// [`text`](Response::text) read.
///
/// A response dropped before its body was read closes its HTTP/1.1 connection; one read to
/// the end gives the connection back to the client's pool.
pub struct Response {
    pub(crate) status: StatusCode,
    pub(crate) version: Version,
    pub(crate) headers: HeaderMap,
    pub(crate) url: Url,
    pub(crate) redirects: Vec<Url>,
    /// Taken once, by whichever of `bytes`, `text`, `into_body` reads it.
    pub(crate) body: Option<Incoming>,
    pub(crate) config: Rc<Config>,
    /// When the whole request must be done by, and the limit that set it.
    pub(crate) deadline: Option<(Instant, std::time::Duration)>,
    /// The HTTP/1.1 connection to give back once the body is read.
    pub(crate) give_back: Option<(
        Rc<Pool>,
        Origin,
        http1::SendRequest<http_body_util::Full<Bytes>>,
    )>,
}

impl Response {
    /// The status code.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The HTTP version the server answered with.
    pub fn version(&self) -> Version {
        self.version
    }

    /// The headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The first value of header `name`, if it is there and is text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)?.to_str().ok()
    }

    /// The URL that answered, after any redirects.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// Each URL redirected from, in order; empty when there was no redirect.
    pub fn redirects(&self) -> &[Url] {
        &self.redirects
    }

    /// Reads the whole body, decompressed if the server compressed it and the client was
    /// asked to decompress (the default). At most `max_body_bytes`, before and after
    /// decompression, within what is left of the request's time limit.
    pub async fn bytes(mut self) -> Result<Bytes, Error> {
        let body = self
            .body
            .take()
            .expect("the body is read once (bytes takes self)");
        let max = self.config.max_body_bytes;
        let read = Limited::new(body, max).collect();
        let collected = match self.deadline {
            Some((deadline, limit)) => match timeout_at(deadline, read).await {
                Ok(collected) => collected,
                Err(_) => return Err(Error::timeout(Phase::Total, limit).at(&self.url)),
            },
            None => read.await,
        };
        let body = collected
            .map_err(|err| {
                match err.downcast::<hyper::Error>() {
                    Ok(err) => Error::hyper(*err),
                    Err(err) if err.is::<http_body_util::LengthLimitError>() => Error::new(
                        ErrorKind::BodyTooLarge,
                        format!("the body is over {max} bytes (max_body_bytes)"),
                    ),
                    Err(err) => Error::new(ErrorKind::Protocol, err.to_string()),
                }
                .at(&self.url)
            })?
            .to_bytes();
        if let Some((pool, origin, sender)) = self.give_back.take() {
            pool.put_idle(origin, sender, &self.config);
        }
        if !self.config.decompress {
            return Ok(body);
        }
        let encoding = self
            .header(CONTENT_ENCODING.as_str())
            .map(str::to_ascii_lowercase);
        decode(body, encoding.as_deref(), max).map_err(|err| err.at(&self.url))
    }

    /// Reads the whole body (as [`bytes`](Response::bytes) does) as text; bytes that are
    /// not UTF-8 become U+FFFD.
    pub async fn text(self) -> Result<String, Error> {
        let bytes = self.bytes().await?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// The body as hyper's stream, to read it piece by piece (the client's body limit and
    /// decompression do not apply; the connection is not pooled again).
    pub fn into_body(mut self) -> Incoming {
        self.body
            .take()
            .expect("the body is read once (into_body takes self)")
    }
}

/// Decodes a gzip or deflate body, at most `max` bytes of it.
fn decode(body: Bytes, encoding: Option<&str>, max: usize) -> Result<Bytes, Error> {
    let mut out = Vec::new();
    let limit = max as u64 + 1;
    let read = match encoding {
        None | Some("identity") | Some("") => return Ok(body),
        Some("gzip") | Some("x-gzip") => flate2::read::MultiGzDecoder::new(&body[..])
            .take(limit)
            .read_to_end(&mut out),
        // HTTP's deflate is zlib-wrapped, but some servers send it raw.
        Some("deflate") => match flate2::read::ZlibDecoder::new(&body[..])
            .take(limit)
            .read_to_end(&mut out)
        {
            Ok(n) => Ok(n),
            Err(_) => {
                out.clear();
                flate2::read::DeflateDecoder::new(&body[..])
                    .take(limit)
                    .read_to_end(&mut out)
            }
        },
        // An encoding this client does not know: handed over as it came.
        Some(_) => return Ok(body),
    };
    match read {
        Ok(_) if out.len() > max => Err(Error::new(
            ErrorKind::BodyTooLarge,
            format!("the body decompresses to over {max} bytes (max_body_bytes)"),
        )),
        Ok(_) => Ok(Bytes::from(out)),
        Err(err) => Err(Error::new(
            ErrorKind::Decode,
            format!("the {} body does not decode: {err}", encoding.unwrap_or("")),
        )
        .with_source(err)),
    }
}

impl std::fmt::Debug for Response {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Response")
            .field("url", &self.url.as_str())
            .field("status", &self.status)
            .field("version", &self.version)
            .field("headers", &self.headers)
            .finish_non_exhaustive()
    }
}
