//! A generated test site for the crawler, served by weft on one thread:
//! `cargo run --release --example site_server -- [--addr 127.0.0.1:8000] [--pages 1000] [--latency-ms 0] [--errors] [--other-host localhost] [--tls CA_OUT.pem]`
//!
//! Page 0 is `/`; every page links to its ten children, its parent and its next sibling.
//! `--errors` adds the failure cases a crawler meets (404, 500, redirect chains and a loop,
//! chunked, gzip and close-delimited bodies, a slow-loris response, a malformed header, huge
//! bodies, a reset, an image, an endless link trap, and a robots.txt that disallows
//! `/private/`). `--other-host NAME` links `/` to the same server under another host name.
//! `--tls CA_OUT.pem` serves the same site over https: it makes a throwaway CA and a
//! certificate for `localhost`, `127.0.0.1` (and the other host) at start-up, and writes the
//! CA to `CA_OUT.pem` for the crawler's `--ca-file`.

use std::net::SocketAddr;
use std::time::Duration;

use demo_site::{Site, SiteConfig};
use weft::net::TcpListener;
use weft::net::tls::TlsAcceptor;

/// A throwaway CA, written to `ca_out`, and an acceptor with a certificate it issued for the
/// names the site answers to.
fn make_certificate(ca_out: &str, other_host: Option<&str>) -> std::io::Result<TlsAcceptor> {
    let ca = demo_certs::TestCa::new("site_server throwaway CA");
    let mut names = vec!["localhost", "127.0.0.1"];
    names.extend(other_host);
    let issued = ca.issue(&names);
    std::fs::write(ca_out, ca.cert_pem())?;
    TlsAcceptor::from_pem(issued.cert_pem.as_bytes(), issued.key_pem.as_bytes())
}

fn main() {
    let addr: SocketAddr = demo_cli::flag("addr", "127.0.0.1:8000".parse().unwrap());
    let mut config = SiteConfig::new(demo_cli::flag("pages", 1000));
    config.latency = Duration::from_millis(demo_cli::flag("latency-ms", 0));
    config.errors = std::env::args().any(|a| a == "--errors");
    config.other_host = demo_cli::flag("other-host", String::new())
        .split(',')
        .find(|h| !h.is_empty())
        .map(str::to_owned);
    let ca_out: String = demo_cli::flag("tls", String::new());
    let tls = (!ca_out.is_empty()).then(|| {
        make_certificate(&ca_out, config.other_host.as_deref()).unwrap_or_else(|err| {
            eprintln!("site_server: {err}");
            std::process::exit(1)
        })
    });
    config.https = tls.is_some();
    let result = weft::run(async move {
        let listener = TcpListener::bind(addr).await?;
        println!(
            "site of {} pages on {}://{}/ (latency {:?}{}); Ctrl-C to stop",
            config.pages,
            config.scheme(),
            listener.local_addr()?,
            config.latency,
            if config.errors {
                ", with the error cases"
            } else {
                ""
            }
        );
        if tls.is_some() {
            println!("its CA certificate is in {ca_out}: crawl with --ca-file {ca_out}");
        }
        match tls {
            Some(acceptor) => Site::new(config).serve_tls(listener, acceptor).await,
            None => Site::new(config).serve(listener).await,
        }
    });
    if let Err(err) = result {
        eprintln!("site_server: {err}");
        std::process::exit(1);
    }
}
