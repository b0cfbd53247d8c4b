//! Checks many URLs at once, each within a time limit, on one thread:
//! `cargo run --features http --example health_check -- https://example.com/ http://localhost:8080/`
//!
//! Prints each URL's status, or why it is down (DNS, refused, TLS, timeout, reset...).

use std::time::Duration;

use weft::net::http::Client;

/// Checks URLs concurrently, each within `--timeout` seconds.
#[derive(clap::Parser)]
#[command(name = "health_check")]
struct Args {
    /// The http or https URLs to check.
    #[arg(required = true)]
    urls: Vec<String>,
    /// Seconds each check may take.
    #[arg(long, default_value = "1", value_parser = demo_cli::seconds)]
    timeout: Duration,
}

#[weft::main]
async fn main() {
    let Args { urls, timeout } = clap::Parser::parse();
    let client = Client::builder().timeout(timeout).build();
    let checks: Vec<_> = urls
        .into_iter()
        .map(|url| {
            let client = client.clone();
            weft::spawn(async move { (client.get(&url).send().await, url) })
        })
        .collect();
    for check in checks {
        match check.await.expect("a check task") {
            (Ok(response), url) => println!("{url}: {}", response.status()),
            (Err(err), url) => println!("{url}: DOWN: {err}"),
        }
    }
}
