//! Fetching one URL for the crawl: robots.txt first (once per host), then the concurrency
//! limits, then the request, then the page's links.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Instant;

use url::Url;
use weft::sync::{Event, Semaphore};

use super::engine::{Config, Record};
use super::html;
use super::http::{Client, FetchError, Response, without_fragment};
use super::robots::Robots;

/// A URL taken into the crawl.
#[derive(Clone, Debug)]
pub struct Pending {
    /// The URL to fetch.
    pub url: Url,
    /// Links from the nearest seed.
    pub depth: usize,
    /// The page it was first found on.
    pub referrer: Option<Url>,
}

impl Pending {
    /// Its record before anything is known of the fetch.
    pub fn record(&self) -> Record {
        Record {
            url: self.url.to_string(),
            depth: self.depth,
            referrer: self.referrer.as_ref().map(Url::to_string),
            status: None,
            bytes: 0,
            content_type: None,
            elapsed_ms: 0,
            redirected_to: None,
            error: None,
        }
    }
}

/// What fetching one URL gave: its record, where redirects ended, and the page's links.
pub struct Fetched {
    /// The URL's line of the report.
    pub record: Record,
    /// Where redirects ended, if there were any.
    pub final_url: Option<Url>,
    /// The page's links, resolved, in document order.
    pub links: Vec<Url>,
}

impl Fetched {
    /// A URL that could not be fetched: `kind` and `message` go into its record.
    pub fn failed(mut record: Record, kind: &str, message: String) -> Fetched {
        record.error = Some((kind.to_owned(), message));
        Fetched {
            record,
            final_url: None,
            links: Vec::new(),
        }
    }
}

/// Path endings of files that have no links: asked for with HEAD, not downloaded.
const NOT_HTML: [&str; 12] = [
    ".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg", ".ico", ".pdf", ".zip", ".gz", ".mp4", ".mp3",
];

/// What every fetch of a crawl shares: the HTTP client, the limits, the robots rules.
pub struct Worker {
    client: Client,
    limiter: Limiter,
    robots: Option<RobotsCache>,
}

impl Worker {
    /// A worker with the crawl's client, limits and robots.txt cache.
    pub fn new(config: &Config) -> Worker {
        // Keep as many idle connections per host as may be busy at once, so none is thrown away.
        let mut limits = config.limits.clone();
        limits.max_idle_per_host = limits.max_idle_per_host.max(config.per_host);
        let token = config
            .user_agent
            .split('/')
            .next()
            .unwrap_or(&config.user_agent)
            .to_owned();
        Worker {
            client: Client::with_tls(&config.user_agent, limits, config.tls.clone())
                .with_backend(config.backend),
            limiter: Limiter::new(config.concurrency, config.per_host),
            robots: config.obey_robots.then(|| RobotsCache::new(token)),
        }
    }

    /// TCP connections its client has opened so far.
    pub fn connections_opened(&self) -> u64 {
        self.client.connections_opened()
    }

    /// Fetches `pending.url` when robots.txt and the limits allow.
    pub async fn fetch(&self, pending: Pending) -> Fetched {
        let record = pending.record();
        if let Some(robots) = &self.robots {
            let path = &pending.url[url::Position::BeforePath..url::Position::AfterQuery];
            if !robots
                .rules_for(&self.client, &pending.url)
                .await
                .allows(path)
            {
                return Fetched::failed(record, "robots", "disallowed by robots.txt".to_owned());
            }
        }
        self.limiter
            .run(&pending.url, fetch_one(&self.client, &pending.url, record))
            .await
    }
}

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
            Fetched {
                record,
                final_url: Some(response.url),
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

/// Each host's robots.txt rules, fetched once: the first URL of a host fetches them, the others
/// of that host wait for that.
struct RobotsCache {
    token: String,
    hosts: RefCell<HashMap<String, RobotsState>>,
}

#[derive(Clone)]
enum RobotsState {
    Fetching(Rc<Event>),
    Ready(Rc<Robots>),
}

impl RobotsCache {
    fn new(token: String) -> RobotsCache {
        RobotsCache {
            token,
            hosts: RefCell::default(),
        }
    }

    async fn rules_for(&self, client: &Client, url: &Url) -> Rc<Robots> {
        let key = url[..url::Position::BeforePath].to_owned(); // scheme://host:port
        loop {
            let state = self.hosts.borrow().get(&key).cloned();
            match state {
                Some(RobotsState::Ready(rules)) => return rules,
                Some(RobotsState::Fetching(done)) => done.wait().await,
                None => {
                    let done = Rc::new(Event::new());
                    self.hosts
                        .borrow_mut()
                        .insert(key.clone(), RobotsState::Fetching(done.clone()));
                    let rules = Rc::new(self.fetch(client, url).await);
                    self.hosts
                        .borrow_mut()
                        .insert(key, RobotsState::Ready(rules.clone()));
                    done.set();
                    return rules;
                }
            }
        }
    }

    /// RFC 9309: 2xx → the rules; 4xx → no rules; 5xx or unreachable → everything disallowed.
    async fn fetch(&self, client: &Client, url: &Url) -> Robots {
        let Ok(robots_url) = url.join("/robots.txt") else {
            return Robots::allow_all();
        };
        match client.get(&robots_url).await {
            Ok(r) if (200..300).contains(&r.status) => {
                Robots::parse(&String::from_utf8_lossy(&r.body), &self.token)
            }
            Ok(r) if (400..500).contains(&r.status) => Robots::allow_all(),
            _ => Robots::disallow_all(),
        }
    }
}

/// The concurrency limits: one semaphore for all requests, one per host.
struct Limiter {
    all: Semaphore,
    per_host: usize,
    hosts: RefCell<HashMap<String, Rc<Semaphore>>>,
}

impl Limiter {
    fn new(all: usize, per_host: usize) -> Limiter {
        Limiter {
            all: Semaphore::new(all.max(1)),
            per_host: per_host.max(1),
            hosts: RefCell::default(),
        }
    }

    /// Runs `work` once the host's and then the global limit allow: a host with a backlog
    /// waits on its own semaphore without holding global permits other hosts could use.
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
