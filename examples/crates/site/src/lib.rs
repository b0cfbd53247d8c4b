//! A generated web site with a known link graph, served by weft: the crawler's test ground.
//!
//! Page 0 is `/`, page `i` is `/page/i`. Page `i` links to its children `10i+1..=10i+10`,
//! its parent and its next sibling (those below `pages`), written in every form a real page
//! uses: absolute paths, relative paths, full URLs, unquoted values, character references,
//! fragments, and `<base href>`. Decoy links sit in comments, scripts and a PNG, where a
//! crawler must not see them.
//!
//! With `errors` on, `/` also links to one URL per failure a crawler meets in the wild (see
//! [`Special`]), and `/robots.txt` disallows `/private/`. [`Site::expected`] says what each
//! URL should give, for tests to compare a crawl with.

mod respond;

use std::collections::BTreeMap;
use std::io;
use std::rc::Rc;
use std::time::Duration;

use weft::net::tls::TlsAcceptor;
use weft::net::{StreamServer, TcpListener};

/// How the site is generated.
#[derive(Clone, Debug)]
pub struct SiteConfig {
    /// Pages in the link graph (at least 1).
    pub pages: usize,
    /// Delay before every response.
    pub latency: Duration,
    /// Whether `/` links to the failure cases and robots.txt disallows `/private/`.
    pub errors: bool,
    /// Another name for this server (e.g. "localhost"), linked from `/` as an off-site host;
    /// `/elsewhere` (linked from nowhere) redirects to `/` under that name.
    pub other_host: Option<String>,
    /// Whether it is served over TLS (its absolute links and redirects say `https`).
    pub https: bool,
}

impl SiteConfig {
    /// A site of `pages` pages, no latency, no failure cases, plain http.
    pub fn new(pages: usize) -> SiteConfig {
        SiteConfig {
            pages: pages.max(1),
            latency: Duration::ZERO,
            errors: false,
            other_host: None,
            https: false,
        }
    }

    /// The URL scheme the site is served with.
    pub fn scheme(&self) -> &'static str {
        if self.https { "https" } else { "http" }
    }
}

/// The failure cases linked from `/` when `errors` is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Special {
    /// 404.
    Missing,
    /// 500.
    ServerError,
    /// 308 → 303 (relative Location) → 301 → 302 (absolute URL) → 307 → `/landing` (which links
    /// to `/page/1`).
    RedirectChain,
    /// `/loop/a` ↔ `/loop/b`.
    RedirectLoop,
    /// A page sent with chunked transfer encoding (links to `/chunked-child`).
    Chunked,
    /// A gzip-encoded page (links to `/gzip-child`).
    Gzip,
    /// A deflate-encoded page (links to `/deflate-child`).
    Deflate,
    /// A page whose end is the connection's close (links to `/close-child`).
    CloseDelimited,
    /// Headers, then one byte every 200 ms: only the client's time limit ends it.
    SlowLoris,
    /// A header line without a colon.
    MalformedHeader,
    /// Content-Length of 64 MiB.
    Huge,
    /// A chunked body that never ends.
    HugeChunked,
    /// The connection reset (RST) instead of a response.
    Reset,
    /// A PNG whose bytes contain markup with a link.
    Binary,
    /// `/trap/1` → `/trap/2` → …, forever.
    Trap,
}

impl Special {
    /// Every failure case, in the order `/` links to them.
    pub const ALL: [Special; 15] = [
        Special::Missing,
        Special::ServerError,
        Special::RedirectChain,
        Special::RedirectLoop,
        Special::Chunked,
        Special::Gzip,
        Special::Deflate,
        Special::CloseDelimited,
        Special::SlowLoris,
        Special::MalformedHeader,
        Special::Huge,
        Special::HugeChunked,
        Special::Reset,
        Special::Binary,
        Special::Trap,
    ];

    /// The path `/` links to.
    pub fn path(self) -> &'static str {
        match self {
            Special::Missing => "/missing",
            Special::ServerError => "/error",
            Special::RedirectChain => "/redirect/5",
            Special::RedirectLoop => "/loop/a",
            Special::Chunked => "/chunked",
            Special::Gzip => "/gzip",
            Special::Deflate => "/deflate",
            Special::CloseDelimited => "/close",
            Special::SlowLoris => "/slow",
            Special::MalformedHeader => "/malformed",
            Special::Huge => "/huge",
            Special::HugeChunked => "/huge-chunked",
            Special::Reset => "/reset",
            Special::Binary => "/image.png",
            Special::Trap => "/trap/1",
        }
    }
}

/// What a URL of the site should give a crawler.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expected {
    /// The final status, when a response arrives.
    pub status: Option<u16>,
    /// The error kind, when it cannot be fetched ("robots" when robots.txt forbids it).
    pub error: Option<&'static str>,
    /// The path redirects end at.
    pub redirected_to: Option<String>,
    /// Paths (same host) and full URLs (other hosts) it links to, in order.
    pub links: Vec<String>,
}

/// A generated site.
#[derive(Clone, Debug)]
pub struct Site {
    config: Rc<SiteConfig>,
}

impl Site {
    /// Generates the site: its pages and what each URL should give.
    pub fn new(config: SiteConfig) -> Site {
        Site {
            config: Rc::new(config),
        }
    }

    /// The pages page `i` links to, in order.
    pub fn page_links(&self, i: usize) -> Vec<usize> {
        let n = self.config.pages;
        let mut links: Vec<usize> = (10 * i + 1..=10 * i + 10).filter(|&c| c < n).collect();
        if i > 0 {
            links.push((i - 1) / 10);
        }
        if i + 1 < n {
            links.push(i + 1);
        }
        links
    }

    /// How the site was generated.
    pub fn config(&self) -> &SiteConfig {
        &self.config
    }

    /// What every path reachable from `/` should give, with `port` the server's port.
    /// Infinite parts (the trap) are listed to `trap_depth` pages.
    pub fn expected(&self, port: u16, trap_depth: usize) -> BTreeMap<String, Expected> {
        let mut map = BTreeMap::new();
        let ok = |links: Vec<String>| Expected {
            status: Some(200),
            error: None,
            redirected_to: None,
            links,
        };
        let fails = |kind| Expected {
            status: None,
            error: Some(kind),
            redirected_to: None,
            links: vec![],
        };
        let status = |code| Expected {
            status: Some(code),
            error: None,
            redirected_to: None,
            links: vec![],
        };
        for i in 0..self.config.pages {
            let links = self.page_links(i).into_iter().map(page_path).collect();
            map.insert(page_path(i), ok(links));
        }
        if !self.config.errors {
            return map;
        }
        let root = map.get_mut("/").expect("page 0");
        root.links
            .extend(Special::ALL.iter().map(|s| s.path().to_owned()));
        root.links
            .extend(["/private/secret".to_owned(), "/private/other".to_owned()]);
        if let Some(other) = &self.config.other_host {
            root.links
                .push(format!("{}://{other}:{port}/page/1", self.config.scheme()));
        }
        map.insert("/private/secret".into(), fails("robots"));
        map.insert("/private/other".into(), fails("robots"));
        for special in Special::ALL {
            let expected = match special {
                Special::Missing => status(404),
                Special::ServerError => status(500),
                Special::RedirectChain => Expected {
                    redirected_to: Some("/landing".into()),
                    ..ok(vec![page_path(1)])
                },
                Special::RedirectLoop => fails("redirect_loop"),
                Special::Chunked => ok(vec!["/chunked-child".into()]),
                Special::Gzip => ok(vec!["/gzip-child".into()]),
                Special::Deflate => ok(vec!["/deflate-child".into()]),
                Special::CloseDelimited => ok(vec!["/close-child".into()]),
                Special::SlowLoris => fails("timeout"),
                Special::MalformedHeader => fails("malformed"),
                Special::Huge | Special::HugeChunked => fails("too_large"),
                Special::Reset => fails("reset"),
                Special::Binary => status(200),
                Special::Trap => ok(vec!["/trap/2".into()]),
            };
            map.insert(special.path().to_owned(), expected);
        }
        for child in [
            "/chunked-child",
            "/gzip-child",
            "/deflate-child",
            "/close-child",
        ] {
            map.insert(child.into(), ok(vec![]));
        }
        for n in 2..=trap_depth.max(2) {
            map.insert(format!("/trap/{n}"), ok(vec![format!("/trap/{}", n + 1)]));
        }
        map
    }

    /// Serves the site on `listener` until the task is cancelled.
    pub async fn serve(self, listener: TcpListener) -> io::Result<()> {
        StreamServer::new(listener)
            .serve(move |conn, _| {
                let site = self.clone();
                async move {
                    let _ = respond::connection(site, conn).await;
                }
            })
            .await
    }

    /// Serves the site over TLS on `listener` until the task is cancelled; `acceptor` holds
    /// the certificate. (Set `config.https`, so the site's absolute links say `https`.)
    pub async fn serve_tls(self, listener: TcpListener, acceptor: TlsAcceptor) -> io::Result<()> {
        StreamServer::new(listener)
            .serve(move |conn, _| {
                let (site, acceptor) = (self.clone(), acceptor.clone());
                async move {
                    if let Ok(tls) = acceptor.accept(conn).await {
                        let _ = respond::connection(site, tls).await;
                    }
                }
            })
            .await
    }

    /// Binds `127.0.0.1:0`, serves the site there over TLS in a task, and returns its port.
    pub async fn spawn_local_tls(self, acceptor: TlsAcceptor) -> io::Result<u16> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        weft::spawn(self.serve_tls(listener, acceptor));
        Ok(port)
    }

    /// Binds `127.0.0.1:0`, serves the site there in a task, and returns its port.
    pub async fn spawn_local(self) -> io::Result<u16> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        weft::spawn(self.serve(listener));
        Ok(port)
    }
}

/// The path of page `i`.
pub fn page_path(i: usize) -> String {
    if i == 0 {
        "/".to_owned()
    } else {
        format!("/page/{i}")
    }
}
