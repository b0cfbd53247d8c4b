//! The crawler's command line (clap): what it parses into, and the checks that need more
//! than one flag at a time.

use std::time::Duration;

use clap::{ArgGroup, Parser};
use url::Url;

use weft::net::tls::TlsConnector;

use crate::engine::{Config, Scope};
use crate::http::Backend;

/// A concurrent web crawler on one thread: breadth-first, robots.txt obeyed, every failure
/// recorded for its URL. `crawler --demo` serves a generated site and crawls it.
#[derive(Parser, Debug)]
#[command(name = "crawler", group(ArgGroup::new("start").required(true).args(["url", "demo"])))]
pub struct Args {
    /// Where to start: an http or https URL.
    #[arg(value_parser = parse_seed)]
    url: Option<Url>,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 64, value_parser = demo_cli::at_least_one)]
    concurrency: usize,
    /// Requests in flight at once to one host.
    #[arg(long, default_value_t = 8, value_parser = demo_cli::at_least_one)]
    per_host: usize,
    /// How many links deep to follow.
    #[arg(long, default_value_t = 16)]
    depth: usize,
    /// Stop after this many pages.
    #[arg(long, default_value_t = 10_000)]
    max_pages: usize,
    /// Give up on a request after this many seconds.
    #[arg(long, default_value = "10", value_parser = demo_cli::seconds)]
    timeout: Duration,
    /// Only follow links to the start URL's host (the default).
    #[arg(long, conflicts_with = "allow")]
    same_host: bool,
    /// Follow links to these hosts too.
    #[arg(long, num_args = 1.., value_name = "HOST")]
    allow: Vec<String>,
    /// Fetch what robots.txt disallows.
    #[arg(long)]
    ignore_robots: bool,
    /// Trust only the CA in this PEM file for https, not the webpki roots.
    #[arg(long, value_name = "CA.pem")]
    ca_file: Option<String>,
    /// The HTTP client: weft's own, or hyper (which needs `--features hyper`).
    #[arg(long, default_value = "native", value_parser = ["native", "hyper"])]
    client: String,
    /// Write a JSON Lines record per URL here (`-` for stdout).
    #[arg(long, value_name = "FILE")]
    output: Option<String>,
    /// Serve a generated site in this process and crawl it at concurrency 1, then 100.
    #[arg(long, conflicts_with_all = ["url", "same_host", "allow", "ca_file", "output"])]
    demo: bool,
    /// With --demo: pages in the generated site.
    #[arg(long, default_value_t = 1000, requires = "demo", value_parser = demo_cli::at_least_one)]
    pages: usize,
    /// With --demo: the site's delay before each response, in milliseconds.
    #[arg(long, default_value_t = 50, requires = "demo")]
    latency_ms: u64,
}

/// What the command line asks for.
pub enum Command {
    /// Crawl from a URL.
    Crawl {
        /// What to crawl and how hard.
        config: Config,
        /// Where the JSON Lines records go (`-` for stdout), if anywhere.
        output: Option<String>,
    },
    /// Serve a generated site in this process and crawl it at concurrency 1, then 100.
    Demo {
        /// Pages in the generated site.
        pages: usize,
        /// The delay before each of its responses.
        latency: Duration,
    },
}

/// An http(s) URL with a host.
fn parse_seed(text: &str) -> Result<Url, String> {
    let url = Url::parse(text).map_err(|err| format!("not a URL: {err}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err("not an http(s) URL".to_owned());
    }
    Ok(url)
}

impl Args {
    /// What to do; an error for what clap cannot check alone (a CA file that does not load,
    /// a backend this build lacks).
    pub fn command(self) -> Result<Command, String> {
        let Some(seed) = self.url.filter(|_| !self.demo) else {
            return Ok(Command::Demo {
                pages: self.pages,
                latency: Duration::from_millis(self.latency_ms),
            });
        };
        let mut config = Config::new(seed);
        config.concurrency = self.concurrency;
        config.per_host = self.per_host;
        config.max_depth = Some(self.depth);
        config.max_pages = Some(self.max_pages);
        config.limits.timeout = self.timeout;
        config.obey_robots = !self.ignore_robots;
        config.backend = match self.client.as_str() {
            #[cfg(feature = "hyper")]
            "hyper" => Backend::Hyper,
            #[cfg(not(feature = "hyper"))]
            "hyper" => {
                return Err(
                    "--client hyper needs the crawler built with `--features hyper`".into(),
                );
            }
            _ => Backend::Native,
        };
        if let Some(ca_file) = &self.ca_file {
            config.tls = TlsConnector::with_ca_file(ca_file).map_err(|err| err.to_string())?;
        }
        if !self.allow.is_empty() {
            config.scope = Scope::Allow(self.allow);
        }
        Ok(Command::Crawl {
            config,
            output: self.output,
        })
    }
}
