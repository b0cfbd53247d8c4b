//! A generated test site for the crawler, served by weft on one thread:
//! `cargo run --release --example site_server -- [--addr 127.0.0.1:8000] [--pages 1000] [--latency-ms 0] [--errors] [--other-host localhost]`
//!
//! Page 0 is `/`; every page links to its ten children, its parent and its next sibling.
//! `--errors` adds the failure cases a crawler meets (404, 500, redirect chains and a loop,
//! chunked, gzip and close-delimited bodies, a slow-loris response, a malformed header, huge
//! bodies, a reset, an image, an endless link trap, and a robots.txt that disallows
//! `/private/`). `--other-host NAME` links `/` to the same server under another host name.

use std::net::SocketAddr;
use std::time::Duration;

use demo_site::{Site, SiteConfig};
use weft::net::TcpListener;

fn main() {
    let addr: SocketAddr = demo_cli::flag("addr", "127.0.0.1:8000".parse().unwrap());
    let mut config = SiteConfig::new(demo_cli::flag("pages", 1000));
    config.latency = Duration::from_millis(demo_cli::flag("latency-ms", 0));
    config.errors = std::env::args().any(|a| a == "--errors");
    config.other_host = demo_cli::flag("other-host", String::new())
        .split(',')
        .find(|h| !h.is_empty())
        .map(str::to_owned);
    let result = weft::run(async move {
        let listener = TcpListener::bind(addr).await?;
        println!(
            "site of {} pages on http://{}/ (latency {:?}{}); Ctrl-C to stop",
            config.pages,
            listener.local_addr()?,
            config.latency,
            if config.errors {
                ", with the error cases"
            } else {
                ""
            }
        );
        Site::new(config).serve(listener).await
    });
    if let Err(err) = result {
        eprintln!("site_server: {err}");
        std::process::exit(1);
    }
}
