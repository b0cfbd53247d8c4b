//! A small HTTP/1.1 client for the crawler: GET and HEAD over weft's `TcpStream`, or over TLS
//! for https (`weft::net::tls`), a pool of keep-alive connections per origin, Content-Length,
//! chunked and close-delimited bodies,
//! redirects (bounded, with loop detection), gzip/deflate, and limits on header size, body
//! size and time per request. Responses are parsed by httparse; URLs are the `url` crate's.
//!
//! It lives in the crawler demo rather than in weft-net on purpose: weft is a runtime, and for
//! HTTP as a library it offers hyper (`weft::net::hyper`); here it is a few hundred readable
//! lines next to its one user.

mod conn;
mod decode;
mod error;
#[cfg(feature = "hyper")]
mod weft_client;

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashSet};
use std::rc::Rc;
use std::time::Duration;

use url::Url;
use weft::net::TcpStream;
use weft::net::tls::TlsConnector;

use conn::{Conn, Failure, Head, Stream};
pub use error::{ErrorKind, FetchError};

/// Limits applied to every request.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Largest response head (status line and headers) accepted.
    pub max_header_bytes: usize,
    /// Largest body accepted, before and after decoding.
    pub max_body_bytes: usize,
    /// Time for one request and its response, each redirect hop counted on its own.
    pub timeout: Duration,
    /// Redirects followed before giving up.
    pub max_redirects: usize,
    /// Idle keep-alive connections kept per host.
    pub max_idle_per_host: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_header_bytes: 16 * 1024,
            max_body_bytes: 4 * 1024 * 1024,
            timeout: Duration::from_secs(10),
            max_redirects: 10,
            max_idle_per_host: 8,
        }
    }
}

/// A response, its body read whole and decoded.
#[derive(Debug)]
pub struct Response {
    /// The URL that answered, after redirects.
    pub url: Url,
    /// The status code.
    pub status: u16,
    /// The headers in the order received, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The body, decoded from its transfer and content encodings.
    pub body: Vec<u8>,
    /// Each URL redirected from, in order (empty when there was no redirect).
    pub redirects: Vec<Url>,
}

impl Response {
    /// The first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// The media type of Content-Type, lower case, without parameters.
    pub fn media_type(&self) -> Option<String> {
        let value = self.header("content-type")?;
        Some(
            value
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase(),
        )
    }
}

/// Where a connection goes: whether it is https, the host, the port.
type Origin = (bool, String, u16);

/// How requests go: the hand-written HTTP/1.1 code of `conn.rs` with this client's pool, or
/// weft's HTTP client (`weft::net::http`, hyper's HTTP/1.1 and HTTP/2 with its own pool).
/// Redirects, limits, decoding and error kinds are shared, so the two can be compared on the
/// same crawl.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Backend {
    /// `conn.rs`: httparse and weft's `BufReader`.
    #[default]
    Native,
    /// `weft::net::http::Client` (feature `hyper`).
    #[cfg(feature = "hyper")]
    Hyper,
}

/// A pooled connection of the native backend.
enum Pooled {
    Native(Conn),
}

/// An HTTP/1.1 client with a keep-alive pool. Cloning shares the pool.
#[derive(Clone)]
pub struct Client {
    limits: Rc<Limits>,
    tls: TlsConnector,
    backend: Backend,
    user_agent: Rc<str>,
    /// Ordered, so that the connections close in the same order every run (a `HashMap`
    /// drops its entries in an order that differs from process to process, which a
    /// simulation's seed cannot replay).
    idle: Rc<RefCell<BTreeMap<Origin, Vec<Pooled>>>>,
    connections_opened: Rc<Cell<u64>>,
    /// The hyper backend's client, made when the backend is chosen.
    #[cfg(feature = "hyper")]
    weft_client: Option<weft::net::http::Client>,
}

impl Client {
    /// A client that sends `user_agent` and keeps to `limits`, and trusts the webpki roots
    /// for https.
    pub fn new(user_agent: &str, limits: Limits) -> Client {
        Client::with_tls(user_agent, limits, TlsConnector::new())
    }

    /// A client whose https connections are checked by `tls` (a private CA, say).
    pub fn with_tls(user_agent: &str, limits: Limits, tls: TlsConnector) -> Client {
        Client {
            limits: Rc::new(limits),
            tls,
            backend: Backend::Native,
            user_agent: user_agent.into(),
            idle: Rc::default(),
            connections_opened: Rc::default(),
            #[cfg(feature = "hyper")]
            weft_client: None,
        }
    }

    /// Sends requests through `backend` from now on (new connections only).
    pub fn with_backend(mut self, backend: Backend) -> Client {
        self.backend = backend;
        #[cfg(feature = "hyper")]
        if backend == Backend::Hyper {
            self.weft_client = Some(weft_client::client(
                &self.user_agent,
                &self.limits,
                &self.tls,
            ));
        }
        self
    }

    /// How many TCP connections this client has opened (keep-alive keeps this low).
    pub fn connections_opened(&self) -> u64 {
        #[cfg(feature = "hyper")]
        if let Some(client) = &self.weft_client {
            return client.connections_opened();
        }
        self.connections_opened.get()
    }

    /// GETs `url`, following redirects.
    pub async fn get(&self, url: &Url) -> Result<Response, FetchError> {
        self.fetch("GET", url).await
    }

    /// HEADs `url`, following redirects.
    pub async fn head(&self, url: &Url) -> Result<Response, FetchError> {
        self.fetch("HEAD", url).await
    }

    async fn fetch(&self, method: &str, url: &Url) -> Result<Response, FetchError> {
        let mut url = url.clone();
        let mut redirects = Vec::new();
        let mut visited = HashSet::from([url.clone()]);
        loop {
            let (head, body) = self.exchange(method, &url).await?;
            let location = head.header("location").filter(|_| is_redirect(head.status));
            let Some(location) = location else {
                return Ok(Response {
                    url,
                    status: head.status,
                    headers: head.headers,
                    body,
                    redirects,
                });
            };
            let next = url.join(location).map_err(|err| {
                FetchError::new(
                    ErrorKind::Malformed,
                    format!("bad redirect Location {location:?}: {err}"),
                )
            })?;
            let next = without_fragment(next);
            if !matches!(next.scheme(), "http" | "https") {
                return Err(FetchError::new(
                    ErrorKind::Unsupported,
                    format!("redirect to {next}"),
                ));
            }
            if !visited.insert(next.clone()) {
                return Err(FetchError::new(
                    ErrorKind::RedirectLoop,
                    format!("{url} redirects back to {next}"),
                ));
            }
            if redirects.len() == self.limits.max_redirects {
                return Err(FetchError::new(
                    ErrorKind::TooManyRedirects,
                    format!("more than {} redirects", self.limits.max_redirects),
                ));
            }
            redirects.push(std::mem::replace(&mut url, next));
        }
    }

    /// One request and its response, within the time limit. A pooled connection that turns
    /// out to have been closed by the server is replaced by a new one, once.
    async fn exchange(&self, method: &str, url: &Url) -> Result<(Head, Vec<u8>), FetchError> {
        let https = match url.scheme() {
            "http" => false,
            "https" => true,
            other => {
                return Err(FetchError::new(
                    ErrorKind::Unsupported,
                    format!("{other} is not supported"),
                ));
            }
        };
        let host = url
            .host_str()
            .ok_or_else(|| FetchError::new(ErrorKind::Malformed, "URL without a host"))?;
        let port = url
            .port_or_known_default()
            .unwrap_or(if https { 443 } else { 80 });
        let origin: Origin = (https, host.to_owned(), port);
        let request = self.request_bytes(method, url, host);
        let limit = self.limits.timeout;
        #[cfg(feature = "hyper")]
        if let Some(client) = &self.weft_client {
            let exchange = async {
                let (head, body) = weft_client::exchange(client, method, url).await?;
                let max = self.limits.max_body_bytes;
                let body = decode::decode(body, head.header("content-encoding"), max)
                    .map_err(|failure| Failure::from(failure).error)?;
                Ok((head, body))
            };
            return match weft::time::timeout(limit, exchange).await {
                Ok(result) => result,
                Err(_) => Err(FetchError::new(
                    ErrorKind::Timeout,
                    format!("no complete response within {limit:?}"),
                )),
            };
        }
        let attempt = async {
            loop {
                let pooled = self.take_idle(&origin);
                let reused = pooled.is_some();
                let mut conn = match pooled {
                    Some(conn) => conn,
                    None => self.connect(&origin).await?,
                };
                let outcome = match &mut conn {
                    Pooled::Native(native) => {
                        self.round_trip(native, &request, method == "HEAD").await
                    }
                };
                match outcome {
                    Ok((head, body, keep)) => {
                        if keep {
                            self.put_idle(origin.clone(), conn);
                        }
                        return Ok((head, body));
                    }
                    Err(failure) if failure.stale && reused => continue,
                    Err(failure) => return Err(failure.error),
                }
            }
        };
        match weft::time::timeout(limit, attempt).await {
            Ok(result) => result,
            Err(_) => Err(FetchError::new(
                ErrorKind::Timeout,
                format!("no complete response within {limit:?}"),
            )),
        }
    }

    async fn round_trip(
        &self,
        conn: &mut Conn,
        request: &[u8],
        is_head: bool,
    ) -> Result<(Head, Vec<u8>, bool), Failure> {
        conn.send(request).await?;
        let head = conn.read_head(self.limits.max_header_bytes).await?;
        let framing = conn::framing(&head, is_head)?;
        let max = self.limits.max_body_bytes;
        let body = conn.read_body(framing, max).await?;
        let body = decode::decode(body, head.header("content-encoding"), max)?;
        let keep = conn::reusable(&head, framing);
        Ok((head, body, keep))
    }

    fn request_bytes(&self, method: &str, url: &Url, host: &str) -> Vec<u8> {
        let target = &url[url::Position::BeforePath..url::Position::AfterQuery];
        let host_header = match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        };
        format!(
            "{method} {target} HTTP/1.1\r\nHost: {host_header}\r\nUser-Agent: {}\r\n\
             Accept: text/html,application/xhtml+xml,*/*;q=0.8\r\nAccept-Encoding: gzip, deflate\r\n\
             Connection: keep-alive\r\n\r\n",
            self.user_agent
        )
        .into_bytes()
    }

    /// Resolves (without blocking: weft's async resolver), connects, and for https runs the
    /// TLS handshake.
    async fn connect(&self, origin: &Origin) -> Result<Pooled, FetchError> {
        let stream = self.open(origin).await?;
        Ok(Pooled::Native(Conn::new(stream)))
    }

    /// The TCP (or TLS over TCP) connection for `origin`.
    async fn open(&self, (https, host, port): &Origin) -> Result<Stream, FetchError> {
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        let addrs = weft::net::lookup_host((bare, *port))
            .await
            .map_err(|err| FetchError::new(ErrorKind::Dns, format!("{host}: {err}")))?;
        let stream = TcpStream::connect(&addrs[..]).await.map_err(|err| {
            let kind = if err.kind() == std::io::ErrorKind::TimedOut {
                ErrorKind::Timeout
            } else {
                ErrorKind::Connect
            };
            FetchError::new(kind, format!("{host}:{port}: {err}"))
        })?;
        let _ = stream.set_nodelay(true);
        self.connections_opened
            .set(self.connections_opened.get() + 1);
        if !https {
            return Ok(Stream::Plain(stream));
        }
        let tls = self.tls.connect(bare, stream).await.map_err(|err| {
            let kind = match err.kind() {
                std::io::ErrorKind::TimedOut => ErrorKind::Timeout,
                std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::UnexpectedEof => {
                    ErrorKind::Reset
                }
                _ => ErrorKind::Tls,
            };
            FetchError::new(kind, err.to_string())
        })?;
        Ok(Stream::Tls(Box::new(tls)))
    }

    fn take_idle(&self, origin: &Origin) -> Option<Pooled> {
        self.idle.borrow_mut().get_mut(origin)?.pop()
    }

    fn put_idle(&self, origin: Origin, conn: Pooled) {
        let mut idle = self.idle.borrow_mut();
        let conns = idle.entry(origin).or_default();
        if conns.len() < self.limits.max_idle_per_host {
            conns.push(conn);
        }
    }
}

fn is_redirect(status: u16) -> bool {
    matches!(status, 301 | 302 | 303 | 307 | 308)
}

/// The first of `headers` called `name` (case-insensitive).
fn find_header<'h>(headers: &'h [(String, String)], name: &str) -> Option<&'h str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// `url` without its `#fragment`, which never reaches the server.
pub fn without_fragment(mut url: Url) -> Url {
    url.set_fragment(None);
    url
}
