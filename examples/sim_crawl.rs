//! The crawler against a simulated web, in one process, on the virtual clock:
//! `cargo run --release --features sim --example sim_crawl [-- --seed N --hosts 1000
//! --minutes 60]`.
//!
//! Each host serves site_server's generated site. One in ten answers slowly (two seconds
//! before every response), one in twenty crashes at a seeded moment and comes back minutes
//! later, one in twenty is cut off from the crawler for a while. The crawler is the crawl
//! demo's engine, unchanged: it resolves the hosts' names and connects with weft's own
//! sockets, which the simulation carries. It crawls every site, and again every ten minutes,
//! for the simulated time asked. The same seed prints the same numbers, every run; the last
//! line says how much real time the simulated time took.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;

use demo_crawl::Url;
use demo_crawl::engine::{self, Config, Progress};
use demo_site::{Site, SiteConfig};
use weft::net::TcpListener;
use weft::sim::Sim;
use weft::time::{Instant, sleep, sleep_until};

/// Crawls a simulated web of many hosts, some slow, some crashing, some cut off.
#[derive(clap::Parser)]
#[command(name = "sim_crawl")]
struct Args {
    /// The simulation's seed: the same seed, the same run.
    #[arg(long, default_value_t = 2026)]
    seed: u64,
    /// Hosts in the simulated web.
    #[arg(long, default_value_t = 1000, value_parser = demo_cli::at_least_one)]
    hosts: usize,
    /// Simulated minutes of crawling.
    #[arg(long, default_value_t = 60, value_parser = demo_cli::at_least_one)]
    minutes: usize,
}

const PAGES: usize = 8;
const RECRAWL: Duration = Duration::from_secs(600);

/// What each host is like, decided by the seed.
#[derive(Clone, Copy)]
struct Trouble {
    slow: bool,
    /// Crashes this far into the run, and is down this long.
    crash: Option<(Duration, Duration)>,
    /// Is cut off from the crawler this far into the run, for this long.
    cut: Option<(Duration, Duration)>,
}

/// splitmix64: the example's own seeded numbers, beside the simulation's.
fn numbers(seed: u64) -> impl FnMut() -> u64 {
    let mut state = seed;
    move || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

#[derive(Default)]
struct Totals {
    rounds: usize,
    pages: usize,
    bytes: usize,
    statuses: BTreeMap<u16, usize>,
    errors: BTreeMap<String, usize>,
    connections: u64,
}

fn add(totals: &mut Totals, summary: engine::Summary) {
    totals.rounds += 1;
    totals.pages += summary.pages;
    totals.bytes += summary.bytes;
    totals.connections += summary.connections;
    for (status, n) in summary.statuses {
        *totals.statuses.entry(status).or_default() += n;
    }
    for (kind, n) in summary.errors {
        *totals.errors.entry(kind).or_default() += n;
    }
}

fn main() {
    let args: Args = clap::Parser::parse();
    let real = std::time::Instant::now();
    let span = Duration::from_secs(60 * args.minutes as u64);
    let mut next = numbers(args.seed);
    let mut at = |limit: Duration| Duration::from_secs(next() % limit.as_secs().max(1));
    let troubles: Vec<Trouble> = (0..args.hosts)
        .map(|i| Trouble {
            slow: i % 10 == 3,
            // Over by the end of the run.
            crash: (i % 20 == 7)
                .then(|| (at(span * 3 / 4), Duration::from_secs(60) + at(span / 5))),
            cut: (i % 20 == 11).then(|| (at(span * 3 / 4), Duration::from_secs(30) + at(span / 5))),
        })
        .collect();

    let mut sim = Sim::new(args.seed)
        .latency(Duration::from_millis(20))
        .jitter(Duration::from_millis(10))
        .bandwidth(2_000_000);
    for (i, trouble) in troubles.iter().enumerate() {
        let slow = trouble.slow;
        sim.host(&format!("site{i}"), move || async move {
            let mut config = SiteConfig::new(PAGES);
            if slow {
                config.latency = Duration::from_secs(2);
            }
            let listener = TcpListener::bind("0.0.0.0:80")
                .await
                .expect("port 80 is free");
            let _ = Site::new(config).serve(listener).await;
        });
    }
    let chaos = troubles.clone();
    sim.client("chaos", async move {
        let start = Instant::now();
        let mut events = Vec::new();
        for (i, trouble) in chaos.iter().enumerate() {
            let host = format!("site{i}");
            if let Some((when, down)) = trouble.crash {
                events.push(weft::spawn({
                    let host = host.clone();
                    async move {
                        sleep_until(start + when).await;
                        weft::sim::crash(&host);
                        sleep(down).await;
                        weft::sim::restart(&host);
                    }
                }));
            }
            if let Some((when, cut)) = trouble.cut {
                events.push(weft::spawn(async move {
                    sleep_until(start + when).await;
                    weft::sim::partition("crawler", &host);
                    sleep(cut).await;
                    weft::sim::heal("crawler", &host);
                }));
            }
        }
        for event in events {
            event.await?;
        }
        Ok::<_, weft::JoinError>(())
    });
    let totals = Rc::new(RefCell::new(Totals::default()));
    let crawled = totals.clone();
    let hosts = args.hosts;
    sim.client("crawler", async move {
        let start = Instant::now();
        let seeds: Vec<Url> = (0..hosts)
            .map(|i| Url::parse(&format!("http://site{i}/")).expect("a valid URL"))
            .collect();
        while start.elapsed() < span {
            let round = Instant::now();
            let mut config = Config::new(seeds[0].clone());
            config.seeds = seeds.clone();
            config.concurrency = 256;
            config.per_host = 2;
            let summary = engine::crawl(config, Rc::new(Progress::default()), |_| {}).await;
            add(&mut crawled.borrow_mut(), summary);
            sleep_until(round + RECRAWL).await;
        }
        Ok::<_, std::io::Error>(())
    });
    let report = match sim.run() {
        Ok(report) => report,
        Err(err) => {
            eprintln!("sim_crawl: {err}");
            std::process::exit(1);
        }
    };
    let totals = totals.borrow();
    println!(
        "seed {}: {} hosts ({} slow, {} crashing, {} cut off for a while)",
        report.seed,
        args.hosts,
        troubles.iter().filter(|t| t.slow).count(),
        troubles.iter().filter(|t| t.crash.is_some()).count(),
        troubles.iter().filter(|t| t.cut.is_some()).count(),
    );
    println!(
        "{} rounds: {} pages, {} bytes, {} connections",
        totals.rounds, totals.pages, totals.bytes, totals.connections
    );
    println!("statuses: {:?}", totals.statuses);
    println!("errors: {:?}", totals.errors);
    println!(
        "network: {} events, hash {:016x}; simulated time {:.1} s",
        report.events,
        report.hash,
        report.elapsed.as_secs_f64()
    );
    println!("real time: {:.2} s", real.elapsed().as_secs_f64());
}
