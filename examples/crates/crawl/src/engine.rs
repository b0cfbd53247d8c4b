//! The crawl: breadth-first over normalized URLs, fetched concurrently, its results taken in
//! breadth-first order.
//!
//! Every URL taken into the crawl gets a place in one list, in the order it was found, and is
//! fetched at once (as the concurrency limits allow: `concurrency` in all, `per_host` per host).
//! Responses arrive in any order; like a CPU's reorder buffer, the engine takes them back in list
//! order, and only then adds the page's links to the list. So when page `i` at depth `d` is
//! taken, every page before it — all pages of depth below `d` among them — has been taken
//! already: a link first found here truly is at depth `d + 1`. Depths, referrers and the pages
//! kept within `max_pages` are exactly those of a one-at-a-time breadth-first crawl, the same on
//! every run, while the fetches overlap. A slow page holds back the links of the pages after
//! it in the list (not the fetches already under way) until it answers or times out.

use std::cell::Cell;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::future::Future;
use std::rc::Rc;
use std::time::{Duration, Instant};
use weft::net::tls::TlsConnector;

use crate::http::Backend;

use url::Url;
use weft::channel::mpsc;

use super::fetch::{Fetched, Pending, Worker};
use super::http::{Limits, without_fragment};

/// Which hosts the crawl may visit.
#[derive(Clone, Debug)]
pub enum Scope {
    /// Only the seeds' hosts.
    SameHost,
    /// The seeds' hosts and these.
    Allow(Vec<String>),
}

/// What to crawl and how hard.
#[derive(Clone, Debug)]
pub struct Config {
    /// Where the crawl starts (depth 0).
    pub seeds: Vec<Url>,
    /// Requests in flight at once, in all.
    pub concurrency: usize,
    /// Requests in flight at once to one host.
    pub per_host: usize,
    /// Links followed at most this far from a seed (a seed is depth 0).
    pub max_depth: Option<usize>,
    /// URLs taken into the crawl at most (records written, robots-refused ones included).
    pub max_pages: Option<usize>,
    /// Which hosts links may lead to.
    pub scope: Scope,
    /// Fetch and obey each host's robots.txt.
    pub obey_robots: bool,
    /// The `User-Agent` header, whose first word is also the robots.txt token.
    pub user_agent: String,
    /// The HTTP client's limits: sizes, times, idle connections.
    pub limits: Limits,
    /// How https servers are checked: the webpki roots, or a private CA (`--ca-file`).
    pub tls: TlsConnector,
    /// Which HTTP/1.1 code fetches: the hand-written client or hyper's (`--client`).
    pub backend: Backend,
}

impl Config {
    /// Defaults for crawling from `seed`: 64 at once, 8 per host, same host, robots obeyed.
    pub fn new(seed: Url) -> Config {
        Config {
            seeds: vec![seed],
            concurrency: 64,
            per_host: 8,
            max_depth: None,
            max_pages: None,
            scope: Scope::SameHost,
            obey_robots: true,
            user_agent: "weft-crawler/0.1 (+https://example.invalid/weft)".to_owned(),
            limits: Limits::default(),
            tls: TlsConnector::new(),
            backend: Backend::default(),
        }
    }
}

/// One URL's outcome: a line of the JSON Lines report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// The URL, normalized.
    pub url: String,
    /// Links from the nearest seed.
    pub depth: usize,
    /// The page it was first found on (none for a seed).
    pub referrer: Option<String>,
    /// The final response status, if a response came.
    pub status: Option<u16>,
    /// Body bytes, after decoding.
    pub bytes: usize,
    /// The `Content-Type` header, if any.
    pub content_type: Option<String>,
    /// Time from the first request to the last byte, redirects included.
    pub elapsed_ms: u64,
    /// Where redirects ended, if there were any.
    pub redirected_to: Option<String>,
    /// (kind, message) when the URL could not be fetched; kind is one of the fetch error
    /// kinds, "robots" for a URL robots.txt disallows, or "panic" for a fetch that panicked
    /// (a bug in the crawler).
    pub error: Option<(String, String)>,
}

/// Live counters for a progress line.
#[derive(Debug, Default)]
pub struct Progress {
    /// URLs whose record is written.
    pub done: Cell<usize>,
    /// URLs taken into the crawl so far.
    pub queued: Cell<usize>,
    /// Records with an error.
    pub errors: Cell<usize>,
}

/// Totals at the end of a crawl.
#[derive(Debug, Default)]
pub struct Summary {
    /// Records written.
    pub pages: usize,
    /// Body bytes, after decoding.
    pub bytes: usize,
    /// How many responses had each status.
    pub statuses: BTreeMap<u16, usize>,
    /// How many records had each error kind.
    pub errors: BTreeMap<String, usize>,
    /// Links not followed because their host is out of scope.
    pub off_scope_links: usize,
    /// TCP connections opened.
    pub connections: u64,
    /// Wall time of the whole crawl.
    pub elapsed: Duration,
}

impl Summary {
    /// Records written per second of wall time.
    pub fn pages_per_second(&self) -> f64 {
        self.pages as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Crawls as `config` says, calling `sink` with each URL's record as it finishes.
pub async fn crawl(
    config: Config,
    progress: Rc<Progress>,
    mut sink: impl FnMut(&Record),
) -> Summary {
    let started = Instant::now();
    let worker = Rc::new(Worker::new(&config));
    let mut frontier = Frontier::new(&config);
    for seed in &config.seeds {
        frontier.admit(without_fragment(seed.clone()), 0, None);
    }
    let mut summary = Summary::default();
    let (done_tx, mut done_rx) = mpsc::unbounded::<(usize, Fetched)>();
    let mut arrived: HashMap<usize, Fetched> = HashMap::new();
    let (mut spawned, mut taken) = (0, 0);
    loop {
        // Everything admitted is fetching or waiting for the limiter's permission.
        while let Some(pending) = frontier.list.get(spawned) {
            let (worker, record, pending) = (worker.clone(), pending.record(), pending.clone());
            let fetch = async move { worker.fetch(pending).await };
            spawn_fetch(spawned, record, fetch, done_tx.clone());
            spawned += 1;
        }
        progress
            .queued
            .set(frontier.list.len() - progress.done.get());
        if taken == frontier.list.len() {
            break;
        }
        let (index, fetched) = done_rx.recv().await.expect("the engine holds a sender");
        count(&mut summary, &fetched.record);
        progress.done.set(progress.done.get() + 1);
        if fetched.record.error.is_some() {
            progress.errors.set(progress.errors.get() + 1);
        }
        sink(&fetched.record);
        arrived.insert(index, fetched);
        // Take results back in list order: that order is what makes the crawl breadth-first.
        while let Some(fetched) = arrived.remove(&taken) {
            frontier.take(taken, fetched, &mut summary);
            taken += 1;
        }
    }
    progress.queued.set(0);
    summary.connections = worker.connections_opened();
    summary.elapsed = started.elapsed();
    summary
}

/// Runs `fetch` in a task of its own and sends its result to `done` as number `index`. A
/// fetch that panics (a bug) still sends one, `record` with an error of kind "panic": the
/// crawl takes results back in order, and would otherwise wait forever for this one.
pub fn spawn_fetch(
    index: usize,
    record: Record,
    fetch: impl Future<Output = Fetched> + 'static,
    done: mpsc::UnboundedSender<(usize, Fetched)>,
) {
    // Named after the URL, so that a task dump or a trace (`WEFT_TRACE`) says which page a
    // task is fetching.
    let task = weft::task::Builder::new()
        .name(format!(
            "fetch /{}",
            record.url.splitn(4, '/').nth(3).unwrap_or("")
        ))
        .spawn(fetch);
    weft::task::Builder::new()
        .name("deliver")
        .spawn(async move {
            let fetched = match task.await {
                Ok(fetched) => fetched,
                Err(failure) => Fetched::failed(record, "panic", failure.to_string()),
            };
            done.send((index, fetched)).ok();
        });
}

/// The URLs taken into the crawl, in the order they were found, and the rules for taking more.
struct Frontier {
    list: Vec<Pending>,
    seen: HashSet<Url>,
    hosts: HashSet<String>,
    max_depth: Option<usize>,
    max_pages: Option<usize>,
}

impl Frontier {
    fn new(config: &Config) -> Frontier {
        let mut hosts: HashSet<String> = config
            .seeds
            .iter()
            .filter_map(|u| u.host_str().map(str::to_owned))
            .collect();
        if let Scope::Allow(extra) = &config.scope {
            hosts.extend(extra.iter().map(|h| h.to_ascii_lowercase()));
        }
        Frontier {
            list: Vec::new(),
            seen: HashSet::new(),
            hosts,
            max_depth: config.max_depth,
            max_pages: config.max_pages,
        }
    }

    fn full(&self) -> bool {
        self.max_pages.is_some_and(|max| self.list.len() >= max)
    }

    /// Adds `url` unless it was seen before or the crawl is full.
    fn admit(&mut self, url: Url, depth: usize, referrer: Option<Url>) {
        if !self.full() && self.seen.insert(url.clone()) {
            self.list.push(Pending {
                url,
                depth,
                referrer,
            });
        }
    }

    /// Takes the result of list entry `index`: its redirect target counts as seen, and its links
    /// within scope and depth join the list.
    fn take(&mut self, index: usize, fetched: Fetched, summary: &mut Summary) {
        let (depth, url) = (self.list[index].depth, self.list[index].url.clone());
        if let Some(final_url) = fetched.final_url {
            // A seed that redirects to another host (example.com to www.example.com) brings
            // that host into scope: it is the site the user asked for.
            if let (0, Some(host)) = (depth, final_url.host_str()) {
                self.hosts.insert(host.to_owned());
            }
            self.seen.insert(final_url);
        }
        if self.max_depth.is_some_and(|max| depth >= max) {
            return;
        }
        for link in fetched.links {
            if !link.host_str().is_some_and(|h| self.hosts.contains(h)) {
                summary.off_scope_links += 1;
            } else if self.full() {
                return;
            } else {
                self.admit(link, depth + 1, Some(url.clone()));
            }
        }
    }
}

fn count(summary: &mut Summary, record: &Record) {
    summary.pages += 1;
    summary.bytes += record.bytes;
    if let Some(status) = record.status {
        *summary.statuses.entry(status).or_default() += 1;
    }
    if let Some((kind, _)) = &record.error {
        *summary.errors.entry(kind.clone()).or_default() += 1;
    }
}
