//! A concurrent web crawler on one thread:
//! `cargo run --release --example crawler -- URL [--concurrency 64] [--per-host 8] [--depth 16]
//! [--max-pages 10000] [--timeout 10] [--same-host|--allow HOST...] [--ignore-robots]
//! [--ca-file CA.pem] [--client native|hyper] [--output report.jsonl]`, or `crawler --demo` for the lesson in one
//! command. (`--client hyper` needs `--features hyper`.)
//!
//! Breadth-first over normalized URLs, robots.txt obeyed, links from an HTML tokenizer. A
//! progress line on stderr when it is a terminal, a JSON Lines record per URL with
//! `--output` (`-` for stdout), and a summary at the end. Every failure (DNS, refused, reset,
//! timeout, malformed response, redirect loop, oversized body) is recorded for its URL and the
//! crawl goes on. https is fetched through `weft::net::tls`, trusting the webpki roots, or only
//! the CA in `--ca-file PEM` (as `site_server --tls` writes it).

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::rc::Rc;
use std::time::Duration;

use demo_crawl::engine::{self, Config, Progress, Summary};
use demo_crawl::report;
use demo_site::{Site, SiteConfig};

fn main() {
    let args: demo_crawl::args::Args = clap::Parser::parse();
    let command = match args.command() {
        Ok(command) => command,
        Err(message) => {
            eprintln!("crawler: {message}");
            std::process::exit(2);
        }
    };
    let result = weft::run(async move {
        match command {
            demo_crawl::args::Command::Crawl { config, output } => {
                crawl_to(config, output.as_deref()).await
            }
            demo_crawl::args::Command::Demo { pages, latency } => demo(pages, latency).await,
        }
    });
    if let Err(err) = result {
        eprintln!("crawler: {err}");
        std::process::exit(1);
    }
}

/// Crawls, writing JSON Lines to `output` (a file, or `-` for stdout), then the summary.
async fn crawl_to(config: Config, output: Option<&str>) -> io::Result<()> {
    let mut sink: Box<dyn Write> = match output {
        None => Box::new(io::sink()),
        Some("-") => Box::new(io::stdout()),
        Some(path) => Box::new(BufWriter::new(File::create(path)?)),
    };
    let mut write_error = None;
    let summary = run_with_progress(config, |record| {
        if let Err(err) = writeln!(sink, "{}", report::json_line(record)) {
            write_error.get_or_insert(err);
        }
    })
    .await;
    sink.flush()?;
    if let Some(err) = write_error {
        return Err(err);
    }
    // With the report on stdout, the summary goes to stderr so the JSON stays clean.
    let text = report::summary_text(&summary, demo_cli::thread_count());
    if output == Some("-") {
        eprint!("{text}")
    } else {
        print!("{text}")
    }
    Ok(())
}

/// Crawls with a progress line on stderr, when stderr is a terminal.
async fn run_with_progress(config: Config, sink: impl FnMut(&engine::Record)) -> Summary {
    let progress = Rc::new(Progress::default());
    let on_terminal = io::stderr().is_terminal();
    let ticker =
        on_terminal.then(|| weft::spawn(report::show_progress(progress.clone(), io::stderr())));
    let summary = engine::crawl(config, progress, sink).await;
    if let Some(ticker) = ticker {
        ticker.abort();
        eprint!("\r\x1b[K");
    }
    summary
}

/// Serves a generated site in this same thread, with `latency` per response, and crawls it at
/// concurrency 1 and then 100.
async fn demo(pages: usize, latency: Duration) -> io::Result<()> {
    let mut site = SiteConfig::new(pages);
    site.latency = latency;
    let port = Site::new(site).spawn_local().await?;
    let seed = demo_crawl::Url::parse(&format!("http://127.0.0.1:{port}/")).expect("a valid URL");
    println!(
        "Serving a {pages}-page site on {seed} with {latency:?} latency per response, in this thread."
    );
    let mut times = Vec::new();
    for concurrency in [1, 100] {
        let mut config = Config::new(seed.clone());
        config.concurrency = concurrency;
        config.per_host = concurrency;
        config.max_pages = Some(pages);
        println!("\nCrawling it at concurrency {concurrency}...");
        let summary = run_with_progress(config, |_| {}).await;
        println!(
            "concurrency {concurrency:>3}: {} pages in {:.2} s ({:.1} pages/s, {} errors, {} connections)",
            summary.pages,
            summary.elapsed.as_secs_f64(),
            summary.pages_per_second(),
            summary.errors.values().sum::<usize>(),
            summary.connections
        );
        times.push(summary.elapsed.as_secs_f64());
    }
    println!(
        "\nspeedup: {:.1}x from concurrency alone, on {} thread(s): the crawler spends its time waiting,\n\
         and one thread can wait for a hundred responses as cheaply as for one.",
        times[0] / times[1].max(1e-9),
        demo_cli::thread_count().unwrap_or(1)
    );
    Ok(())
}
