//! The crawler's requests through weft's HTTP client (`weft::net::http`, this crate's feature
//! `hyper`): hyper's HTTP/1.1 or HTTP/2, and the client's pool and dialing. The crawler keeps
//! its own redirects, decoding, time limit and error kinds around it, as for the hand-written
//! connection, so the two backends can be compared on the same crawl.

use url::Url;
use weft::net::http::{self, Client, ErrorKind as HttpKind};
use weft::net::tls::TlsConnector;

use super::Limits;
use super::conn::Head;
use super::error::{ErrorKind, FetchError};

/// A client for the crawler: it hands redirects and compressed bodies back as they came
/// (the crawler follows and decodes them itself), within the crawler's size limits.
pub fn client(user_agent: &str, limits: &Limits, tls: &TlsConnector) -> Client {
    Client::builder()
        .max_redirects(0)
        .decompress(false)
        .max_header_bytes(limits.max_header_bytes)
        .max_body_bytes(limits.max_body_bytes)
        .max_idle_per_host(limits.max_idle_per_host)
        .user_agent(user_agent)
        .tls(tls.clone())
        .build()
}

/// One request and its whole (still encoded) body.
pub async fn exchange(
    client: &Client,
    method: &str,
    url: &Url,
) -> Result<(Head, Vec<u8>), FetchError> {
    let method = method
        .parse()
        .map_err(|_| FetchError::new(ErrorKind::Unsupported, format!("method {method}")))?;
    let response = client
        .request(method, url)
        .header("accept", "text/html,application/xhtml+xml,*/*;q=0.8")
        .header("accept-encoding", "gzip, deflate")
        .send()
        .await
        .map_err(kind_of)?;
    let head = Head {
        status: response.status().as_u16(),
        version: u8::from(response.version() != http::Version::HTTP_10),
        headers: response
            .headers()
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect(),
    };
    let body = response.bytes().await.map_err(kind_of)?;
    Ok((head, body.to_vec()))
}

/// Sorts the client's error into the crawler's kinds.
fn kind_of(err: http::Error) -> FetchError {
    let kind = match err.kind() {
        HttpKind::Dns => ErrorKind::Dns,
        HttpKind::Connect => ErrorKind::Connect,
        HttpKind::Tls => ErrorKind::Tls,
        HttpKind::Timeout => ErrorKind::Timeout,
        HttpKind::HeaderTooLarge | HttpKind::BodyTooLarge => ErrorKind::TooLarge,
        HttpKind::Decode => ErrorKind::Decode,
        HttpKind::RedirectLoop => ErrorKind::RedirectLoop,
        HttpKind::TooManyRedirects => ErrorKind::TooManyRedirects,
        HttpKind::InvalidUrl | HttpKind::Request => ErrorKind::Unsupported,
        HttpKind::Protocol => ErrorKind::Malformed,
        _ => ErrorKind::Reset,
    };
    FetchError::new(kind, err.to_string())
}
