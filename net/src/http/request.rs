//! [`RequestBuilder`] and what sending a request does: the pool or a new connection, the
//! request as HTTP/1.1 or HTTP/2 wants it, the time limits, and redirects.

use std::collections::HashSet;
use std::rc::Rc;
use std::time::Duration;

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::header::{
    ACCEPT, ACCEPT_ENCODING, AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, COOKIE, HOST, HeaderName,
    HeaderValue, LOCATION, PROXY_AUTHORIZATION, USER_AGENT,
};
use hyper::{HeaderMap, Method, StatusCode};
use url::Url;
use weft_runtime::time::{Instant, timeout, timeout_at};

use super::error::{Error, ErrorKind, Phase};
use super::pool::{Checkout, Origin, Sender};
use super::response::Response;
use super::{Client, dial};

/// A request being built: [`Client::get`] and friends start one, [`send`](RequestBuilder::send)
/// sends it.
#[must_use = "a request does nothing until it is sent"]
pub struct RequestBuilder {
    client: Client,
    method: Method,
    url: Result<Url, Error>,
    headers: HeaderMap,
    body: Bytes,
    timeout: Option<Duration>,
    error: Option<Error>,
}

impl RequestBuilder {
    pub(crate) fn new(client: Client, method: Method, url: Result<Url, Error>) -> RequestBuilder {
        RequestBuilder {
            client,
            method,
            url,
            headers: HeaderMap::new(),
            body: Bytes::new(),
            timeout: None,
            error: None,
        }
    }

    /// Adds a header (one more value if the name is there already).
    pub fn header(mut self, name: &str, value: &str) -> RequestBuilder {
        match (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            (Ok(name), Ok(value)) => {
                self.headers.append(name, value);
            }
            _ => {
                self.error.get_or_insert(Error::new(
                    ErrorKind::Request,
                    format!("{name:?}: {value:?} is not a valid header"),
                ));
            }
        }
        self
    }

    /// The request's body.
    pub fn body(mut self, body: impl Into<Bytes>) -> RequestBuilder {
        self.body = body.into();
        self
    }

    /// A time limit for this request, redirects and body included, in place of the client's
    /// [`timeout`](super::ClientBuilder::timeout).
    pub fn timeout(mut self, limit: Duration) -> RequestBuilder {
        self.timeout = Some(limit);
        self
    }

    /// Sends the request and waits for the response's head, following redirects. The body
    /// is read by the response's [`bytes`](Response::bytes) or [`text`](Response::text),
    /// within the same time limit.
    pub async fn send(self) -> Result<Response, Error> {
        let RequestBuilder {
            client,
            method,
            url,
            headers,
            body,
            timeout: limit,
            error,
        } = self;
        if let Some(error) = error {
            return Err(error);
        }
        let url = url?;
        let limit = limit.or(client.config.timeout);
        let deadline = limit.map(|limit| (Instant::now() + limit, limit));
        let exchange = client.follow(method, url.clone(), headers, body);
        let mut response = match deadline {
            Some((at, limit)) => match timeout_at(at, exchange).await {
                Ok(result) => result?,
                Err(_) => return Err(Error::timeout(Phase::Total, limit).at(&url)),
            },
            None => exchange.await?,
        };
        response.deadline = deadline;
        Ok(response)
    }
}

impl Client {
    /// Sends a request and follows its redirects.
    async fn follow(
        &self,
        mut method: Method,
        mut url: Url,
        mut headers: HeaderMap,
        mut body: Bytes,
    ) -> Result<Response, Error> {
        let mut redirects = Vec::new();
        let mut visited = HashSet::from([url.clone()]);
        loop {
            let mut response = self
                .exchange(&method, &url, &headers, body.clone())
                .await
                .map_err(|err| err.at(&url))?;
            let location = is_redirect(response.status)
                .then(|| response.header(LOCATION.as_str()).map(str::to_owned))
                .flatten();
            let Some(location) = location.filter(|_| self.config.max_redirects > 0) else {
                response.redirects = redirects;
                return Ok(response);
            };
            let next = url.join(&location).map_err(|err| {
                Error::new(
                    ErrorKind::Protocol,
                    format!("the redirect's Location {location:?} is not a URL: {err}"),
                )
                .at(&url)
            })?;
            let mut next = next;
            next.set_fragment(None);
            if !matches!(next.scheme(), "http" | "https") {
                return Err(Error::new(
                    ErrorKind::InvalidUrl,
                    format!("redirected to {next}, which is not http or https"),
                )
                .at(&url));
            }
            if !visited.insert(next.clone()) {
                return Err(Error::new(
                    ErrorKind::RedirectLoop,
                    format!("redirected back to {next}"),
                )
                .at(&url));
            }
            if redirects.len() == self.config.max_redirects {
                return Err(Error::new(
                    ErrorKind::TooManyRedirects,
                    format!(
                        "more than {} redirects (max_redirects)",
                        self.config.max_redirects
                    ),
                )
                .at(&url));
            }
            // 303 always, and 301/302 after a POST, turn the request into a GET without a
            // body (what browsers do, and reqwest); 307 and 308 repeat it as it was.
            let to_get = response.status == StatusCode::SEE_OTHER && method != Method::HEAD
                || matches!(
                    response.status,
                    StatusCode::MOVED_PERMANENTLY | StatusCode::FOUND
                ) && method == Method::POST;
            if to_get {
                method = Method::GET;
                body = Bytes::new();
                headers.remove(CONTENT_TYPE);
                headers.remove(CONTENT_LENGTH);
            }
            if origin_of(&next).ok() != origin_of(&url).ok() {
                // Credentials are for the origin they were given to.
                headers.remove(AUTHORIZATION);
                headers.remove(PROXY_AUTHORIZATION);
                headers.remove(COOKIE);
            }
            drop(response); // its body is not wanted; its connection is closed
            redirects.push(std::mem::replace(&mut url, next));
        }
    }

    /// One request and its response head, over a pooled or a new connection. A pooled
    /// HTTP/1.1 connection the server closed while it sat idle is replaced, once.
    async fn exchange(
        &self,
        method: &Method,
        url: &Url,
        headers: &HeaderMap,
        body: Bytes,
    ) -> Result<Response, Error> {
        let origin = origin_of(url)?;
        let mut retried = false;
        loop {
            let (sender, reused) = self.connection(&origin).await?;
            let request = self.build_request(method, url, headers, body.clone(), &sender)?;
            let sent = self.send_on(sender, request, &origin, url);
            let result = match self.config.response_timeout {
                Some(limit) => match timeout(limit, sent).await {
                    Ok(result) => result,
                    Err(_) => Err(Error::timeout(Phase::ResponseHead, limit)),
                },
                None => sent.await,
            };
            match result {
                Err(err) if reused && !retried && err.kind() == ErrorKind::Reset => retried = true,
                result => return result,
            }
        }
    }

    /// A connection to `origin`: pooled (`true`) or newly dialed.
    async fn connection(&self, origin: &Origin) -> Result<(Sender, bool), Error> {
        loop {
            match self.pool.checkout(origin, &self.config) {
                Checkout::Ready(sender) => return Ok((sender, true)),
                Checkout::Wait(dialing) => {
                    let waited = timeout(self.config.connect_timeout, dialing.wait()).await;
                    if waited.is_err() {
                        return Err(Error::timeout(Phase::Connect, self.config.connect_timeout));
                    }
                }
                Checkout::Dial(guard) => {
                    let limit = self.config.connect_timeout;
                    // Boxed: dialing (DNS, Happy Eyeballs, TLS, the handshake) is a future of
                    // kilobytes, and every request's future would carry its size, and copy it,
                    // though most requests find a pooled connection (callgrind: memcpy was a
                    // tenth of a pooled request's instructions).
                    let dial = Box::pin(dial::dial(&self.config, origin));
                    let sender = match timeout(limit, dial).await {
                        Ok(result) => result?,
                        Err(_) => return Err(Error::timeout(Phase::Connect, limit)),
                    };
                    guard.connected(&sender);
                    return Ok((sender, false));
                }
            }
        }
    }

    /// The request as the connection's protocol wants it: HTTP/1.1 with a path and a `Host`
    /// header, HTTP/2 with the whole URL (its `:authority`).
    fn build_request(
        &self,
        method: &Method,
        url: &Url,
        headers: &HeaderMap,
        body: Bytes,
        sender: &Sender,
    ) -> Result<hyper::Request<Full<Bytes>>, Error> {
        let target = match sender {
            Sender::Http1(_) => &url[url::Position::BeforePath..url::Position::AfterQuery],
            Sender::Http2(_) => &url[..url::Position::AfterQuery],
        };
        let mut request = hyper::Request::builder()
            .method(method.clone())
            .uri(target)
            .body(Full::new(body))
            .map_err(|err| Error::new(ErrorKind::InvalidUrl, err.to_string()))?;
        *request.headers_mut() = headers.clone();
        let own = request.headers_mut();
        if let Sender::Http1(_) = sender {
            let host = &url[url::Position::BeforeHost..url::Position::BeforePath];
            own.insert(
                HOST,
                HeaderValue::try_from(host)
                    .map_err(|err| Error::new(ErrorKind::InvalidUrl, err.to_string()))?,
            );
        }
        if !own.contains_key(USER_AGENT) {
            own.insert(USER_AGENT, self.config.user_agent.clone());
        }
        if !own.contains_key(ACCEPT) {
            own.insert(ACCEPT, HeaderValue::from_static("*/*"));
        }
        if self.config.decompress && !own.contains_key(ACCEPT_ENCODING) {
            own.insert(ACCEPT_ENCODING, HeaderValue::from_static("gzip, deflate"));
        }
        Ok(request)
    }

    /// Sends `request` and waits for the response head.
    async fn send_on(
        &self,
        sender: Sender,
        request: hyper::Request<Full<Bytes>>,
        origin: &Origin,
        url: &Url,
    ) -> Result<Response, Error> {
        let (response, give_back) = match sender {
            Sender::Http1(mut sender) => {
                sender.ready().await.map_err(Error::hyper)?;
                let response = sender.send_request(request).await.map_err(Error::hyper)?;
                (response, Some((self.pool.clone(), origin.clone(), sender)))
            }
            Sender::Http2(mut sender) => {
                sender.ready().await.map_err(Error::hyper)?;
                (
                    sender.send_request(request).await.map_err(Error::hyper)?,
                    None,
                )
            }
        };
        let (parts, body) = response.into_parts();
        Ok(Response {
            status: parts.status,
            version: parts.version,
            headers: parts.headers,
            url: url.clone(),
            redirects: Vec::new(),
            body: Some(body),
            config: Rc::clone(&self.config),
            deadline: None,
            give_back,
        })
    }
}

fn is_redirect(status: StatusCode) -> bool {
    matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308)
}

/// The origin a URL's requests go to.
pub(crate) fn origin_of(url: &Url) -> Result<Origin, Error> {
    let https = match url.scheme() {
        "http" => false,
        "https" => true,
        other => {
            return Err(Error::new(
                ErrorKind::InvalidUrl,
                format!("{other}: is not http or https"),
            ));
        }
    };
    let host = url
        .host_str()
        .ok_or_else(|| Error::new(ErrorKind::InvalidUrl, "the URL has no host"))?;
    Ok(Origin {
        https,
        host: host.to_owned(),
        port: url
            .port_or_known_default()
            .unwrap_or(if https { 443 } else { 80 }),
    })
}
