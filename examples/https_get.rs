//! Fetches one URL with weft's HTTP client (hyper over rustls over weft's resolver and TCP),
//! on one thread: `cargo run --features http --example https_get -- URL [--ca-file CA.pem]`
//!
//! Prints the HTTP version, the status, the headers and the body's size. https URLs are
//! checked against the webpki roots, or only against the CA in `--ca-file` (for a private CA,
//! such as the one `site_server --tls` writes); HTTP/2 is used when the server offers it.

use weft::net::http::{Client, Error};
use weft::net::tls::TlsConnector;

/// Fetches one URL and prints the version, the status, the headers and the body's size.
#[derive(clap::Parser)]
#[command(name = "https_get")]
struct Args {
    /// The http or https URL to fetch.
    url: String,
    /// Trust only the CA in this PEM file, not the webpki roots.
    #[arg(long, value_name = "CA.pem")]
    ca_file: Option<String>,
}

async fn get(url: &str, ca_file: Option<&str>) -> Result<(), String> {
    let mut client = Client::builder();
    if let Some(path) = ca_file {
        client = client.tls(TlsConnector::with_ca_file(path).map_err(|e| e.to_string())?);
    }
    let response = client
        .build()
        .get(url)
        .send()
        .await
        .map_err(|e: Error| e.to_string())?;
    println!("{:?} {}", response.version(), response.status());
    for (name, value) in response.headers() {
        println!("{name}: {}", value.to_str().unwrap_or("<binary>"));
    }
    let body = response.bytes().await.map_err(|e| e.to_string())?;
    println!("\n{} bytes of body", body.len());
    Ok(())
}

fn main() {
    let Args { url, ca_file } = clap::Parser::parse();
    if let Err(err) = weft::run(async move { get(&url, ca_file.as_deref()).await }) {
        eprintln!("https_get: {err}");
        std::process::exit(1);
    }
}
