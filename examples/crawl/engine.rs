//! The crawl: breadth-first, level by level, over normalized URLs.
//!
//! Each level (all URLs at one depth) is fetched concurrently, at most `concurrency` at once
//! and `per_host` per host; its links become the next level once the whole level is done.
//! Waiting for the level costs a little overlap, and buys exactness: every URL's depth is its
//! true shortest-link distance from the seeds, and its referrer and the set of pages within
//! `max_pages` are the same on every run, whatever order responses arrive in.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::rc::Rc;
use std::time::{Duration, Instant};

use url::Url;
use weft::channel::mpsc;
use weft::sync::Semaphore;

use super::html;
use super::http::{Client, FetchError, Limits, Response, without_fragment};
use super::robots::Robots;

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
    pub seeds: Vec<Url>,
    /// Requests in flight at once, in all.
    pub concurrency: usize,
    /// Requests in flight at once to one host.
    pub per_host: usize,
    /// Links followed at most this far from a seed (a seed is depth 0).
    pub max_depth: Option<usize>,
    /// URLs taken into the crawl at most (records written, robots-refused ones included).
    pub max_pages: Option<usize>,
    pub scope: Scope,
    /// Fetch and obey each host's robots.txt.
    pub obey_robots: bool,
    pub user_agent: String,
    pub limits: Limits,
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
        }
    }
}

/// One URL's outcome: a line of the JSON Lines report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub url: String,
    pub depth: usize,
    pub referrer: Option<String>,
    pub status: Option<u16>,
    /// Body bytes, after decoding.
    pub bytes: usize,
    pub content_type: Option<String>,
    pub elapsed_ms: u64,
    /// Where redirects ended, if there were any.
    pub redirected_to: Option<String>,
    /// (kind, message) when the URL could not be fetched; kind is one of the fetch error
    /// kinds, or "robots" for a URL robots.txt disallows.
    pub error: Option<(String, String)>,
}

/// Live counters for a progress line.
#[derive(Debug, Default)]
pub struct Progress {
    pub done: Cell<usize>,
    pub queued: Cell<usize>,
    pub errors: Cell<usize>,
}

/// Totals at the end of a crawl.
#[derive(Debug, Default)]
pub struct Summary {
    pub pages: usize,
    pub bytes: usize,
    pub statuses: BTreeMap<u16, usize>,
    pub errors: BTreeMap<String, usize>,
    /// Links not followed because their host is out of scope.
    pub off_scope_links: usize,
    pub connections: u64,
    pub elapsed: Duration,
}

impl Summary {
    pub fn pages_per_second(&self) -> f64 {
        self.pages as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// A URL waiting in the current level.
struct Pending {
    url: Url,
    depth: usize,
    referrer: Option<Url>,
}

/// What fetching one URL gave: its record, the URL its links are relative to, and the links.
struct Fetched {
    record: Record,
    final_url: Option<Url>,
    links: Vec<Url>,
}

/// Crawls as `config` says, calling `sink` with each URL's record as it finishes.
pub async fn crawl(
    config: Config,
    progress: Rc<Progress>,
    mut sink: impl FnMut(&Record),
) -> Summary {
    let started = Instant::now();
    // Keep as many idle connections per host as may be busy at once, so none is thrown away.
    let mut limits = config.limits.clone();
    limits.max_idle_per_host = limits.max_idle_per_host.max(config.per_host);
    let client = Client::new(&config.user_agent, limits);
    let limiter = Limiter::new(config.concurrency, config.per_host);
    let mut hosts: HashSet<String> = config
        .seeds
        .iter()
        .filter_map(|u| u.host_str().map(str::to_owned))
        .collect();
    if let Scope::Allow(extra) = &config.scope {
        hosts.extend(extra.iter().map(|h| h.to_ascii_lowercase()));
    }
    let mut robots: HashMap<String, Rc<Robots>> = HashMap::new();
    let mut summary = Summary::default();
    let mut seen: HashSet<Url> = HashSet::new();
    let mut admitted = 0;
    let mut level: Vec<Pending> = Vec::new();
    for seed in &config.seeds {
        let url = without_fragment(seed.clone());
        if seen.insert(url.clone()) && config.max_pages.is_none_or(|max| admitted < max) {
            admitted += 1;
            level.push(Pending {
                url,
                depth: 0,
                referrer: None,
            });
        }
    }
    while !level.is_empty() {
        progress.queued.set(level.len());
        if config.obey_robots {
            fetch_missing_robots(&client, &config.user_agent, &level, &mut robots).await;
        }
        let results = fetch_level(
            &client,
            &limiter,
            &level,
            &robots,
            &progress,
            &mut sink,
            &mut summary,
        )
        .await;
        let mut next = Vec::new();
        for (pending, fetched) in level.iter().zip(results) {
            if let Some(final_url) = fetched.final_url {
                seen.insert(final_url);
            }
            if config.max_depth.is_some_and(|max| pending.depth >= max) {
                continue;
            }
            for link in fetched.links {
                if !link.host_str().is_some_and(|h| hosts.contains(h)) {
                    summary.off_scope_links += 1;
                    continue;
                }
                if config.max_pages.is_some_and(|max| admitted >= max) {
                    break;
                }
                if seen.insert(link.clone()) {
                    admitted += 1;
                    next.push(Pending {
                        url: link,
                        depth: pending.depth + 1,
                        referrer: Some(pending.url.clone()),
                    });
                }
            }
        }
        level = next;
    }
    progress.queued.set(0);
    summary.connections = client.connections_opened();
    summary.elapsed = started.elapsed();
    summary
}

/// Fetches every URL of a level, at most as many at once as the limiter lets through, and
/// returns what each gave, in the level's order.
async fn fetch_level(
    client: &Client,
    limiter: &Limiter,
    level: &[Pending],
    robots: &HashMap<String, Rc<Robots>>,
    progress: &Progress,
    sink: &mut impl FnMut(&Record),
    summary: &mut Summary,
) -> Vec<Fetched> {
    let (done_tx, mut done_rx) = mpsc::unbounded();
    let mut results: Vec<Option<Fetched>> = (0..level.len()).map(|_| None).collect();
    for (index, pending) in level.iter().enumerate() {
        let allowed = robots
            .get(&robot_key(&pending.url))
            .is_none_or(|r| r.allows(path_and_query(&pending.url)));
        if !allowed {
            let mut record = new_record(pending);
            record.error = Some(("robots".to_owned(), "disallowed by robots.txt".to_owned()));
            done_tx
                .send((
                    index,
                    Fetched {
                        record,
                        final_url: None,
                        links: Vec::new(),
                    },
                ))
                .ok();
            continue;
        }
        let (client, limiter, done_tx) = (client.clone(), limiter.clone(), done_tx.clone());
        let record = new_record(pending);
        let url = pending.url.clone();
        weft::spawn(async move {
            let fetched = limiter.run(&url, fetch_one(&client, &url, record)).await;
            done_tx.send((index, fetched)).ok();
        });
    }
    drop(done_tx);
    while let Some((index, fetched)) = done_rx.recv().await {
        count(summary, &fetched.record);
        progress.done.set(progress.done.get() + 1);
        progress.queued.set(progress.queued.get().saturating_sub(1));
        if fetched.record.error.is_some() {
            progress.errors.set(progress.errors.get() + 1);
        }
        sink(&fetched.record);
        results[index] = Some(fetched);
    }
    results
        .into_iter()
        .map(|r| r.expect("every URL of the level reports"))
        .collect()
}

fn new_record(pending: &Pending) -> Record {
    Record {
        url: pending.url.to_string(),
        depth: pending.depth,
        referrer: pending.referrer.as_ref().map(Url::to_string),
        status: None,
        bytes: 0,
        content_type: None,
        elapsed_ms: 0,
        redirected_to: None,
        error: None,
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

/// Path endings of files that have no links: asked for with HEAD, not downloaded.
const NOT_HTML: [&str; 12] = [
    ".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg", ".ico", ".pdf", ".zip", ".gz", ".mp4", ".mp3",
];

async fn fetch_one(client: &Client, url: &Url, mut record: Record) -> Fetched {
    let started = Instant::now();
    let path = url.path().to_ascii_lowercase();
    let head_only = NOT_HTML.iter().any(|ext| path.ends_with(ext));
    let result = if head_only {
        client.head(url).await
    } else {
        client.get(url).await
    };
    record.elapsed_ms = started.elapsed().as_millis() as u64;
    match result {
        Ok(response) => {
            record.status = Some(response.status);
            record.bytes = match head_only {
                true => response
                    .header("content-length")
                    .and_then(|l| l.trim().parse().ok())
                    .unwrap_or(0),
                false => response.body.len(),
            };
            record.content_type = response.header("content-type").map(str::to_owned);
            record.redirected_to =
                (!response.redirects.is_empty()).then(|| response.url.to_string());
            let links = page_links(&response);
            let final_url = Some(response.url);
            Fetched {
                record,
                final_url,
                links,
            }
        }
        Err(FetchError { kind, message }) => {
            record.error = Some((kind.as_str().to_owned(), message));
            Fetched {
                record,
                final_url: None,
                links: Vec::new(),
            }
        }
    }
}

/// The http(s) links of an HTML page, resolved against its `<base>` and without fragments.
/// Other bodies (images, PDFs, JSON) have no links to follow.
fn page_links(response: &Response) -> Vec<Url> {
    let is_html = matches!(
        response.media_type().as_deref(),
        Some("text/html" | "application/xhtml+xml")
    );
    if !is_html || !(200..300).contains(&response.status) {
        return Vec::new();
    }
    let text = String::from_utf8_lossy(&response.body);
    let (targets, base) = html::links(&text);
    let base = base
        .and_then(|b| response.url.join(&b).ok())
        .unwrap_or_else(|| response.url.clone());
    targets
        .iter()
        .filter_map(|t| base.join(t).ok())
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
        .map(without_fragment)
        .collect()
}

fn robot_key(url: &Url) -> String {
    format!(
        "{}://{}:{}",
        url.scheme(),
        url.host_str().unwrap_or(""),
        url.port_or_known_default().unwrap_or(0)
    )
}

fn path_and_query(url: &Url) -> &str {
    &url[url::Position::BeforePath..url::Position::AfterQuery]
}

/// Fetches robots.txt for each host of `level` not yet known, all at once.
async fn fetch_missing_robots(
    client: &Client,
    agent: &str,
    level: &[Pending],
    robots: &mut HashMap<String, Rc<Robots>>,
) {
    let mut wanted: Vec<(String, Url)> = Vec::new();
    for pending in level {
        let key = robot_key(&pending.url);
        if !robots.contains_key(&key) && !wanted.iter().any(|(k, _)| *k == key) {
            if let Ok(url) = pending.url.join("/robots.txt") {
                wanted.push((key, url));
            }
        }
    }
    let token = agent.split('/').next().unwrap_or(agent).to_owned();
    let fetches = wanted.iter().map(|(_, url)| async {
        match client.get(url).await {
            Ok(r) if (200..300).contains(&r.status) => {
                Robots::parse(&String::from_utf8_lossy(&r.body), &token)
            }
            Ok(r) if (400..500).contains(&r.status) => Robots::allow_all(),
            _ => Robots::disallow_all(),
        }
    });
    let rules = weft::future::join_all(fetches).await;
    for ((key, _), rules) in wanted.into_iter().zip(rules) {
        robots.insert(key, Rc::new(rules));
    }
}

/// The concurrency limits: one semaphore for all requests, one per host.
#[derive(Clone)]
struct Limiter {
    all: Rc<Semaphore>,
    per_host: usize,
    hosts: Rc<RefCell<HashMap<String, Rc<Semaphore>>>>,
}

impl Limiter {
    fn new(all: usize, per_host: usize) -> Limiter {
        Limiter {
            all: Rc::new(Semaphore::new(all.max(1))),
            per_host: per_host.max(1),
            hosts: Rc::default(),
        }
    }

    /// Runs `work` once both the host's and the global limit allow.
    async fn run<T>(&self, url: &Url, work: impl Future<Output = T>) -> T {
        let host = self
            .hosts
            .borrow_mut()
            .entry(url.host_str().unwrap_or("").to_owned())
            .or_insert_with(|| Rc::new(Semaphore::new(self.per_host)))
            .clone();
        let _host_permit = host.acquire().await;
        let _permit = self.all.acquire().await;
        work.await
    }
}
