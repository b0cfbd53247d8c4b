//! An HTTP client (feature `http`): HTTP/1.1 and HTTP/2 on hyper, over weft's sockets, TLS
//! and resolver, for programs that fetch things. aiohttp's `ClientSession`, httpx, reqwest:
//!
//! ```no_run
//! use std::time::Duration;
//! use weft::net::http::Client;
//!
//! # weft::run(async {
//! let client = Client::builder().timeout(Duration::from_secs(5)).build();
//! let response = client.get("https://example.com/").send().await?;
//! println!("{} {}", response.status(), response.text().await?);
//! # Ok::<(), weft::net::http::Error>(())
//! # }).unwrap();
//! ```
//!
//! - **Connections are kept** per origin and reused: idle HTTP/1.1 connections (at most
//!   [`max_idle_per_host`](ClientBuilder::max_idle_per_host), each for
//!   [`idle_timeout`](ClientBuilder::idle_timeout)), and one HTTP/2 connection that every
//!   request to the origin shares, when the server picks HTTP/2 in the TLS handshake (ALPN).
//!   Clones of a [`Client`] share its pool.
//! - **Dialing**: weft's resolver, Happy Eyeballs across IPv6 and IPv4 (RFC 8305),
//!   `TCP_NODELAY`, TLS through [`weft::net::tls`](crate::tls) with the webpki roots or a
//!   private CA ([`ClientBuilder::tls`]).
//! - **Redirects** are followed, at most [`max_redirects`](ClientBuilder::max_redirects), and
//!   a loop is an error; `Host`, a `User-Agent` and `Accept-Encoding` are set; gzip and
//!   deflate bodies are decompressed ([`decompress`](ClientBuilder::decompress)).
//! - **Time limits** for connecting, for the response head and for the whole request; an
//!   [`Error`] says which ran out ([`Phase`]), and names the cause of every other failure.
//! - **A hostile server** cannot make it hold more than
//!   [`max_header_bytes`](ClientBuilder::max_header_bytes) of head or
//!   [`max_body_bytes`](ClientBuilder::max_body_bytes) of body.

mod dial;
mod error;
mod pool;
mod request;
mod response;

use std::rc::Rc;
use std::time::Duration;

use hyper::Method;
use hyper::header::HeaderValue;

pub use error::{Error, ErrorKind, Phase};
pub use hyper::{HeaderMap, StatusCode, Version};
pub use request::RequestBuilder;
pub use response::Response;
pub use url::Url;

use crate::tls::TlsConnector;
use pool::Pool;

/// An HTTP client with a connection pool. Cheap to clone: clones share the pool and the
/// settings. Made with [`Client::new`] or [`Client::builder`]; used on the runtime's thread.
#[derive(Clone)]
pub struct Client {
    config: Rc<Config>,
    pool: Rc<Pool>,
}

/// The settings a [`ClientBuilder`] makes.
pub(crate) struct Config {
    timeout: Option<Duration>,
    connect_timeout: Duration,
    response_timeout: Option<Duration>,
    max_redirects: usize,
    max_idle_per_host: usize,
    idle_timeout: Duration,
    max_header_bytes: usize,
    max_body_bytes: usize,
    decompress: bool,
    user_agent: HeaderValue,
    tls: TlsConnector,
}

impl Client {
    /// A client with the defaults of [`ClientBuilder`].
    pub fn new() -> Client {
        Client::builder().build()
    }

    /// Settings for a new client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder {
            config: Config {
                timeout: None,
                connect_timeout: Duration::from_secs(30),
                response_timeout: None,
                max_redirects: 10,
                max_idle_per_host: 32,
                idle_timeout: Duration::from_secs(90),
                max_header_bytes: 64 * 1024,
                max_body_bytes: 64 * 1024 * 1024,
                decompress: true,
                user_agent: HeaderValue::from_static(concat!("weft/", env!("CARGO_PKG_VERSION"))),
                tls: TlsConnector::new(),
            },
        }
    }

    /// A GET of `url`.
    pub fn get(&self, url: impl IntoUrl) -> RequestBuilder {
        self.request(Method::GET, url)
    }

    /// A HEAD of `url`.
    pub fn head(&self, url: impl IntoUrl) -> RequestBuilder {
        self.request(Method::HEAD, url)
    }

    /// A POST to `url` (give it a [`body`](RequestBuilder::body)).
    pub fn post(&self, url: impl IntoUrl) -> RequestBuilder {
        self.request(Method::POST, url)
    }

    /// A request with any method.
    pub fn request(&self, method: Method, url: impl IntoUrl) -> RequestBuilder {
        RequestBuilder::new(self.clone(), method, url.into_url())
    }

    /// How many connections this client (and its clones) has opened: few, when keep-alive
    /// and HTTP/2 do their work.
    pub fn connections_opened(&self) -> u64 {
        self.pool.opened()
    }
}

impl Default for Client {
    fn default() -> Client {
        Client::new()
    }
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("connections_opened", &self.connections_opened())
            .finish_non_exhaustive()
    }
}

/// GETs `url` with this thread's default client (one [`Client::new`] per thread, so
/// repeated calls share its pool) and reads the body as text: Python's
/// `urllib.request.urlopen(url).read()`, reqwest's `get`.
pub async fn get(url: impl IntoUrl) -> Result<String, Error> {
    thread_local! {
        static DEFAULT: Client = Client::new();
    }
    let client = DEFAULT.with(Client::clone);
    client.get(url).send().await?.text().await
}

/// Settings for a [`Client`]; every one has a default.
#[must_use = "a builder does nothing until build() is called"]
pub struct ClientBuilder {
    config: Config,
}

impl ClientBuilder {
    /// A time limit for each whole request: connecting, redirects, and reading the body.
    /// None by default.
    pub fn timeout(mut self, limit: Duration) -> ClientBuilder {
        self.config.timeout = Some(limit);
        self
    }

    /// A time limit for resolving, connecting and the TLS handshake; 30 s by default.
    pub fn connect_timeout(mut self, limit: Duration) -> ClientBuilder {
        self.config.connect_timeout = limit;
        self
    }

    /// A time limit from sending a request to receiving its status line and headers. None
    /// by default.
    pub fn response_timeout(mut self, limit: Duration) -> ClientBuilder {
        self.config.response_timeout = Some(limit);
        self
    }

    /// Redirects followed before [`ErrorKind::TooManyRedirects`]; 10 by default, 0 to hand
    /// redirects back as responses.
    pub fn max_redirects(mut self, n: usize) -> ClientBuilder {
        self.config.max_redirects = n;
        self
    }

    /// Idle HTTP/1.1 connections kept per origin; 32 by default, 0 to keep none.
    pub fn max_idle_per_host(mut self, n: usize) -> ClientBuilder {
        self.config.max_idle_per_host = n;
        self
    }

    /// How long an idle connection is kept; 90 s by default.
    pub fn idle_timeout(mut self, limit: Duration) -> ClientBuilder {
        self.config.idle_timeout = limit;
        self
    }

    /// The largest response head accepted (status line and headers); 64 KiB by default
    /// (hyper's HTTP/1.1 floor is 8 KiB).
    pub fn max_header_bytes(mut self, n: usize) -> ClientBuilder {
        self.config.max_header_bytes = n;
        self
    }

    /// The largest body [`Response::bytes`] reads, before and after decompression; 64 MiB
    /// by default.
    pub fn max_body_bytes(mut self, n: usize) -> ClientBuilder {
        self.config.max_body_bytes = n;
        self
    }

    /// Whether to ask for gzip and deflate and decompress what comes; on by default.
    pub fn decompress(mut self, on: bool) -> ClientBuilder {
        self.config.decompress = on;
        self
    }

    /// The `User-Agent` sent when a request sets none; `weft/VERSION` by default. A value
    /// that is not a valid header is ignored.
    pub fn user_agent(mut self, agent: &str) -> ClientBuilder {
        if let Ok(value) = HeaderValue::try_from(agent) {
            self.config.user_agent = value;
        }
        self
    }

    /// How https connections are checked: a [`TlsConnector`] with a private CA, say. Its
    /// ALPN list is replaced with `h2` and `http/1.1`.
    pub fn tls(mut self, connector: TlsConnector) -> ClientBuilder {
        self.config.tls = connector;
        self
    }

    /// The client.
    pub fn build(self) -> Client {
        let mut config = self.config;
        config.tls = config.tls.alpn(&[b"h2", b"http/1.1"]);
        Client {
            config: Rc::new(config),
            pool: Rc::default(),
        }
    }
}

/// What a request can be sent to: a `&str` or `String` to parse, or a parsed [`Url`].
pub trait IntoUrl: sealed::Sealed {
    /// The URL, or why it is not one.
    fn into_url(self) -> Result<Url, Error>;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for &str {}
    impl Sealed for String {}
    impl Sealed for &String {}
    impl Sealed for url::Url {}
    impl Sealed for &url::Url {}
}

fn parse(text: &str) -> Result<Url, Error> {
    let url = Url::parse(text).map_err(|err| {
        Error::new(
            ErrorKind::InvalidUrl,
            format!("{text:?} is not a URL: {err}"),
        )
    })?;
    request::origin_of(&url)?;
    Ok(url)
}

impl IntoUrl for &str {
    fn into_url(self) -> Result<Url, Error> {
        parse(self)
    }
}

impl IntoUrl for String {
    fn into_url(self) -> Result<Url, Error> {
        parse(&self)
    }
}

impl IntoUrl for &String {
    fn into_url(self) -> Result<Url, Error> {
        parse(self)
    }
}

impl IntoUrl for Url {
    fn into_url(self) -> Result<Url, Error> {
        request::origin_of(&self)?;
        Ok(self)
    }
}

impl IntoUrl for &Url {
    fn into_url(self) -> Result<Url, Error> {
        self.clone().into_url()
    }
}
