//! The crawler's command line.

use std::time::Duration;

use url::Url;

use weft::net::tls::TlsConnector;

use crate::engine::{Config, Scope};
use crate::http::Backend;

/// The usage text printed with a command-line error.
pub const USAGE: &str = "\
usage: crawler URL [--concurrency 64] [--per-host 8] [--depth 16] [--max-pages 10000]
               [--timeout 10] [--same-host | --allow HOST...] [--ignore-robots]
               [--ca-file CA.pem] [--client native|hyper]
               [--output report.jsonl]
       crawler --demo [--pages 1000] [--latency-ms 50]";

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

/// Parses `args` (without the program name).
pub fn parse(args: &[String]) -> Result<Command, String> {
    if args.iter().any(|a| a == "--demo") {
        let pages = value(args, "--pages")?.unwrap_or(1000);
        let latency = Duration::from_millis(value(args, "--latency-ms")?.unwrap_or(50));
        return Ok(Command::Demo { pages, latency });
    }
    let seed = args
        .first()
        .filter(|a| !a.starts_with("--"))
        .ok_or("a URL to start from is required")?;
    let seed = Url::parse(seed).map_err(|err| format!("{seed:?} is not a URL: {err}"))?;
    if !matches!(seed.scheme(), "http" | "https") || seed.host_str().is_none() {
        return Err(format!("{seed} is not an http(s) URL"));
    }
    let mut config = Config::new(seed);
    config.concurrency = value(args, "--concurrency")?.unwrap_or(64).max(1);
    config.per_host = value(args, "--per-host")?.unwrap_or(8).max(1);
    config.max_depth = Some(value(args, "--depth")?.unwrap_or(16));
    config.max_pages = Some(value(args, "--max-pages")?.unwrap_or(10_000));
    let timeout: f64 = value(args, "--timeout")?.unwrap_or(10.0);
    if !(timeout > 0.0 && timeout < 1e6) {
        return Err("--timeout needs a positive number of seconds".into());
    }
    config.limits.timeout = Duration::from_secs_f64(timeout);
    config.obey_robots = !args.iter().any(|a| a == "--ignore-robots");
    config.backend = match value::<String>(args, "--client")?.as_deref() {
        None | Some("native") => Backend::Native,
        #[cfg(feature = "hyper")]
        Some("hyper") => Backend::Hyper,
        #[cfg(not(feature = "hyper"))]
        Some("hyper") => {
            return Err("--client hyper needs the crawler built with `--features hyper`".into());
        }
        Some(other) => return Err(format!("--client is native or hyper, not {other:?}")),
    };
    if let Some(ca_file) = value::<String>(args, "--ca-file")? {
        config.tls = TlsConnector::with_ca_file(&ca_file).map_err(|err| err.to_string())?;
    }
    if let Some(at) = args.iter().position(|a| a == "--allow") {
        let hosts: Vec<String> = args[at + 1..]
            .iter()
            .take_while(|a| !a.starts_with("--"))
            .cloned()
            .collect();
        if hosts.is_empty() {
            return Err("--allow needs at least one host".into());
        }
        if args.iter().any(|a| a == "--same-host") {
            return Err("--same-host and --allow exclude each other".into());
        }
        config.scope = Scope::Allow(hosts);
    }
    let output = value::<String>(args, "--output")?;
    let known = [
        "--concurrency",
        "--per-host",
        "--depth",
        "--max-pages",
        "--timeout",
        "--output",
        "--allow",
        "--same-host",
        "--ignore-robots",
        "--ca-file",
        "--client",
    ];
    if let Some(unknown) = args
        .iter()
        .find(|a| a.starts_with("--") && !known.contains(&a.as_str()))
    {
        return Err(format!("unknown option {unknown}"));
    }
    Ok(Command::Crawl { config, output })
}

/// The value after `flag`, parsed.
fn value<T: std::str::FromStr>(args: &[String], flag: &str) -> Result<Option<T>, String> {
    match args.iter().position(|a| a == flag) {
        None => Ok(None),
        Some(at) => match args.get(at + 1).map(|v| v.parse()) {
            Some(Ok(v)) => Ok(Some(v)),
            _ => Err(format!("{flag} needs a valid value")),
        },
    }
}
