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

use clap::Parser;

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

/// A generated test site for the crawler, served by weft on one thread. Ctrl-C stops it.
#[derive(Parser)]
#[command(name = "site_server")]
struct Args {
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1:8000")]
    addr: SocketAddr,
    /// Pages in the site.
    #[arg(long, default_value_t = 1000, value_parser = demo_cli::at_least_one)]
    pages: usize,
    /// The delay before each response, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Add the failure cases a crawler meets (404, 500, redirect loops, resets, ...).
    #[arg(long)]
    errors: bool,
    /// Link `/` to the same server under this other host name.
    #[arg(long, value_name = "NAME")]
    other_host: Option<String>,
    /// Serve https with a throwaway CA, written to this file for the crawler's --ca-file.
    #[arg(long, value_name = "CA_OUT.pem")]
    tls: Option<String>,
}

fn main() {
    let args = Args::parse();
    let addr = args.addr;
    let mut config = SiteConfig::new(args.pages);
    config.latency = Duration::from_millis(args.latency_ms);
    config.errors = args.errors;
    config.other_host = args.other_host.filter(|h| !h.is_empty());
    let ca_out = args.tls.unwrap_or_default();
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
