//! Fetches one URL with hyper over rustls over weft's resolver and TCP, on one thread:
//! `cargo run --features hyper,tls --example https_get -- URL [--ca-file CA.pem]`
//!
//! Prints the status, the headers and the body's size. https URLs are checked against the
//! webpki roots, or only against the CA in `--ca-file` (for a private CA, such as the one
//! `site_server --tls` writes); HTTP/2 is used when the server offers it.

use demo_hyper::hyper; // hyper with its client and server (see examples/crates/hyper)
use http_body_util::{BodyExt, Empty};
use hyper::Uri;
use hyper::body::Bytes;
use weft::io::{AsyncRead, AsyncWrite};
use weft::net::TcpStream;
use weft::net::hyper::{HyperIo, LocalExecutor};
use weft::net::tls::TlsConnector;

type Fetched = (hyper::Response<()>, usize);

/// Sends `request` over `io` with HTTP/2 or HTTP/1.1, and reads the whole body.
async fn fetch<T>(
    io: T,
    http2: bool,
    request: hyper::Request<Empty<Bytes>>,
) -> Result<Fetched, String>
where
    T: AsyncRead + AsyncWrite + Unpin + 'static,
{
    let io = HyperIo::new(io);
    let response = if http2 {
        let (mut sender, connection) = hyper::client::conn::http2::handshake(LocalExecutor, io)
            .await
            .map_err(|e| e.to_string())?;
        weft::spawn(connection);
        sender.send_request(request).await
    } else {
        let (mut sender, connection) = hyper::client::conn::http1::handshake(io)
            .await
            .map_err(|e| e.to_string())?;
        weft::spawn(connection);
        sender.send_request(request).await
    }
    .map_err(|e| e.to_string())?;
    let (parts, body) = response.into_parts();
    let body = body.collect().await.map_err(|e| e.to_string())?.to_bytes();
    Ok((hyper::Response::from_parts(parts, ()), body.len()))
}

async fn get(url: &str, ca_file: Option<&str>) -> Result<Fetched, String> {
    let uri: Uri = url.parse().map_err(|e| format!("{url}: {e}"))?;
    let https = match uri.scheme_str() {
        Some("https") => true,
        Some("http") => false,
        _ => return Err(format!("{url}: only http and https URLs")),
    };
    let host = uri
        .host()
        .ok_or_else(|| format!("{url}: no host"))?
        .to_owned();
    let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
    let path = uri.path_and_query().map_or("/", |p| p.as_str()).to_owned();
    let authority = uri
        .authority()
        .map(|a| a.to_string())
        .unwrap_or_else(|| host.clone());
    let tcp = TcpStream::connect((host.as_str(), port))
        .await
        .map_err(|e| format!("connecting to {host}:{port}: {e}"))?;
    if !https {
        let request = hyper::Request::get(path)
            .header("host", authority)
            .body(Empty::new())
            .map_err(|e| e.to_string())?;
        return fetch(tcp, false, request).await;
    }
    let connector = match ca_file {
        Some(path) => TlsConnector::with_ca_file(path).map_err(|e| e.to_string())?,
        None => TlsConnector::new(),
    }
    .alpn(&[b"h2", b"http/1.1"]);
    let tls = connector
        .connect(&host, tcp)
        .await
        .map_err(|e| e.to_string())?;
    let http2 = tls.alpn_protocol() == Some(b"h2");
    let request = if http2 {
        hyper::Request::get(uri.clone()).body(Empty::new())
    } else {
        hyper::Request::get(path)
            .header("host", authority)
            .body(Empty::new())
    }
    .map_err(|e| e.to_string())?;
    fetch(tls, http2, request).await
}

/// Fetches one URL with hyper over rustls over weft, and prints the status, the headers and
/// the body's size.
#[derive(clap::Parser)]
#[command(name = "https_get")]
struct Args {
    /// The http or https URL to fetch.
    url: String,
    /// Trust only the CA in this PEM file, not the webpki roots.
    #[arg(long, value_name = "CA.pem")]
    ca_file: Option<String>,
}

fn main() {
    let Args { url, ca_file } = clap::Parser::parse();
    match weft::run(async move { get(&url, ca_file.as_deref()).await }) {
        Ok((response, size)) => {
            println!("{:?} {}", response.version(), response.status());
            for (name, value) in response.headers() {
                println!("{name}: {}", value.to_str().unwrap_or("<binary>"));
            }
            println!("\n{size} bytes of body");
        }
        Err(err) => {
            eprintln!("https_get: {err}");
            std::process::exit(1);
        }
    }
}
