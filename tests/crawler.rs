//! The crawler example, end to end against the generated site: the discovered URLs, their
//! statuses, errors, depths and referrers must equal what the site's known link graph says.

use std::collections::{BTreeMap, HashSet};
use std::rc::Rc;
use std::time::Duration;

use demo_crawl::Url;
use demo_crawl::engine::{self, Config, Progress, Record, Scope, Summary};
use demo_crawl::fetch::{Fetched, Pending};
use demo_crawl::http::Backend;
use demo_site::{Site, SiteConfig};

/// What the tests compare per URL: status, error kind, depth, referrer, redirect target.
type Outcome = (
    Option<u16>,
    Option<String>,
    usize,
    Option<String>,
    Option<String>,
);

fn outcome(record: &Record) -> Outcome {
    (
        record.status,
        record.error.as_ref().map(|(kind, _)| kind.clone()),
        record.depth,
        record.referrer.clone(),
        record.redirected_to.clone(),
    )
}

/// Serves `site` in this thread (over TLS, with a certificate from a CA made here, if
/// `site.https`), crawls it with `configure`d settings, and returns the records by URL, the
/// summary and the port.
///
/// The runtime's clock is paused: when the site and the crawler both wait (on the site's
/// latency, a slow-loris page, the crawler's timeout), it jumps to the next deadline, so
/// timeouts cost no real time and fire in the order their deadlines say. Loopback I/O is
/// never idle time: a byte written is readable at the next look at the sockets.
fn crawl_site(
    site: SiteConfig,
    configure: impl FnOnce(&mut Config),
) -> (BTreeMap<String, Record>, Summary, u16) {
    let scheme = site.scheme();
    let tls = site.https.then(|| {
        let ca = demo_certs::TestCa::new("crawler test CA");
        let issued = ca.issue(&["127.0.0.1", "localhost"]);
        let ca_file =
            std::env::temp_dir().join(format!("weft-crawl-ca-{}.pem", std::process::id()));
        std::fs::write(&ca_file, ca.cert_pem()).unwrap();
        let connector = weft::net::tls::TlsConnector::with_ca_file(&ca_file).unwrap();
        std::fs::remove_file(&ca_file).unwrap();
        let acceptor = weft::net::tls::TlsAcceptor::from_pem(
            issued.cert_pem.as_bytes(),
            issued.key_pem.as_bytes(),
        )
        .unwrap();
        (connector, acceptor)
    });
    let runtime = weft::runtime::Builder::new()
        .start_paused(true)
        .build()
        .unwrap();
    runtime.block_on(async move {
        let (port, connector) = match tls {
            Some((connector, acceptor)) => (
                Site::new(site).spawn_local_tls(acceptor).await.unwrap(),
                Some(connector),
            ),
            None => (Site::new(site).spawn_local().await.unwrap(), None),
        };
        let seed = Url::parse(&format!("{scheme}://127.0.0.1:{port}/")).unwrap();
        let mut config = Config::new(seed);
        if let Some(connector) = connector {
            config.tls = connector;
        }
        config.concurrency = 16;
        config.per_host = 4;
        configure(&mut config);
        let mut records = BTreeMap::new();
        let summary = engine::crawl(config, Rc::new(Progress::default()), |record| {
            let earlier = records.insert(record.url.clone(), record.clone());
            assert!(earlier.is_none(), "{} was crawled twice", record.url);
        })
        .await;
        (records, summary, port)
    })
}

/// The crawl the site's graph predicts: breadth-first from `/`, links of the same host only,
/// to `max_depth`; a redirect's target counts as seen.
fn predicted(site: &Site, port: u16, max_depth: usize) -> BTreeMap<String, Outcome> {
    let expected = site.expected(port, max_depth + 2);
    let scheme = site.config().scheme();
    let full = |path: &str| format!("{scheme}://127.0.0.1:{port}{path}");
    let mut out = BTreeMap::new();
    let mut seen: HashSet<String> = HashSet::from(["/".to_owned()]);
    let mut level: Vec<(String, usize, Option<String>)> = vec![("/".to_owned(), 0, None)];
    while !level.is_empty() {
        let mut next = Vec::new();
        for (path, depth, referrer) in &level {
            let e = expected
                .get(path)
                .unwrap_or_else(|| panic!("the site has no {path}"));
            let redirected_to = e.redirected_to.as_deref().map(full);
            out.insert(
                full(path),
                (
                    e.status,
                    e.error.map(str::to_owned),
                    *depth,
                    referrer.as_deref().map(full),
                    redirected_to,
                ),
            );
            if let Some(target) = &e.redirected_to {
                seen.insert(target.clone());
            }
            if *depth >= max_depth {
                continue;
            }
            for link in e.links.iter().filter(|l| l.starts_with('/')) {
                if seen.insert(link.clone()) {
                    next.push((link.clone(), depth + 1, Some(path.clone())));
                }
            }
        }
        level = next;
    }
    out
}

#[test]
fn a_crawl_of_the_site_with_every_error_case_matches_its_link_graph_exactly() {
    crawl_matches_the_link_graph(false, Backend::Native);
}

#[test]
fn a_crawl_of_the_https_site_matches_its_link_graph_exactly_too() {
    crawl_matches_the_link_graph(true, Backend::Native);
}

#[cfg(feature = "hyper")]
#[test]
fn the_hyper_backend_crawls_both_sites_to_the_same_records() {
    crawl_matches_the_link_graph(false, Backend::Hyper);
    crawl_matches_the_link_graph(true, Backend::Hyper);
}

/// Crawls the site with every error case, over http or https, through `backend`, and
/// compares every URL's status, error, depth, referrer and redirect with what the site's
/// graph predicts.
fn crawl_matches_the_link_graph(https: bool, backend: Backend) {
    let mut site = SiteConfig::new(150);
    site.https = https;
    site.errors = true;
    site.other_host = Some("localhost".to_owned());
    let depth = 4;
    let (records, summary, port) = crawl_site(site.clone(), |config| {
        config.backend = backend;
        config.max_depth = Some(depth);
        config.limits.timeout = Duration::from_millis(800); // the slow-loris page's fate
    });
    let got: BTreeMap<String, Outcome> = records
        .iter()
        .map(|(url, r)| (url.clone(), outcome(r)))
        .collect();
    let want = predicted(&Site::new(site), port, depth);
    assert!(want.keys().all(|url| url.starts_with(site_scheme(https))));
    for (url, outcome) in &want {
        assert_eq!(got.get(url), Some(outcome), "{url}");
    }
    let extra: Vec<&String> = got.keys().filter(|url| !want.contains_key(*url)).collect();
    assert!(
        extra.is_empty(),
        "crawled URLs the graph does not have: {extra:?}"
    );
    // Spot checks that say what the comparison covers.
    let root = format!("{}://127.0.0.1:{port}", site_scheme(https));
    assert_eq!(records[&format!("{root}/trap/3")].depth, 3);
    assert!(
        !records.contains_key(&format!("{root}/trap/{}", depth + 1)),
        "the depth limit stops the trap"
    );
    assert_eq!(
        records[&format!("{root}/image.png")]
            .content_type
            .as_deref(),
        Some("image/png")
    );
    assert!(
        records.keys().all(|url| !url.contains("decoy")),
        "links in comments, scripts or images"
    );
    assert_eq!(
        summary.off_scope_links, 1,
        "the link to localhost is another host"
    );
    assert_eq!(summary.pages, records.len());
    for kind in [
        "robots",
        "redirect_loop",
        "timeout",
        "malformed",
        "too_large",
        "reset",
    ] {
        assert!(
            summary.errors.contains_key(kind),
            "{kind} missing from {:?}",
            summary.errors
        );
    }
}

fn site_scheme(https: bool) -> &'static str {
    if https { "https" } else { "http" }
}

#[test]
fn max_pages_takes_the_first_pages_in_breadth_first_order() {
    let (records, summary, port) =
        crawl_site(SiteConfig::new(1000), |config| config.max_pages = Some(57));
    assert_eq!(records.len(), 57);
    // Children of page i are 10i+1..=10i+10, so breadth-first order is numeric order.
    for i in 0..57 {
        let url = format!("http://127.0.0.1:{port}{}", demo_site::page_path(i));
        let depth = match i {
            0 => 0,
            1..=10 => 1,
            _ => 2,
        };
        assert_eq!(records[&url].depth, depth, "{url}");
        assert_eq!(records[&url].status, Some(200));
    }
    // Keep-alive: a handful of connections for 57 pages and robots.txt, not one per page.
    assert!(
        summary.connections <= 5,
        "{} connections",
        summary.connections
    );
}

#[test]
fn allow_lets_the_crawl_onto_another_host_with_its_own_robots() {
    let mut site = SiteConfig::new(30);
    site.errors = true;
    site.other_host = Some("localhost".to_owned());
    let (records, summary, port) = crawl_site(site, |config| {
        config.max_depth = Some(2);
        config.scope = Scope::Allow(vec!["localhost".to_owned()]);
        config.limits.timeout = Duration::from_millis(300);
    });
    let elsewhere = &records[&format!("http://localhost:{port}/page/1")];
    assert_eq!((elsewhere.status, elsewhere.depth), (Some(200), 1));
    // Page 1 on localhost links to its children with full URLs under localhost.
    assert_eq!(
        records[&format!("http://localhost:{port}/page/11")].depth,
        2
    );
    assert_eq!(summary.off_scope_links, 0);
}

#[test]
fn a_seed_that_redirects_to_another_host_brings_that_host_into_scope() {
    let mut site = SiteConfig::new(30);
    site.other_host = Some("localhost".to_owned());
    let (records, summary, port) = crawl_site(site, |config| {
        let seed = config.seeds[0].join("/elsewhere").unwrap();
        config.seeds = vec![seed];
        config.max_depth = Some(1);
    });
    let seed = &records[&format!("http://127.0.0.1:{port}/elsewhere")];
    assert_eq!(
        seed.redirected_to,
        Some(format!("http://localhost:{port}/"))
    );
    // The landing page's links (full URLs and paths under localhost) are followed.
    assert_eq!(records[&format!("http://localhost:{port}/page/3")].depth, 1);
    assert_eq!(records.len(), 1 + 10);
    assert_eq!(summary.off_scope_links, 0);
}

#[test]
fn robots_can_be_ignored() {
    let mut site = SiteConfig::new(5);
    site.errors = true;
    let (records, _, port) = crawl_site(site, |config| {
        config.max_depth = Some(1);
        config.obey_robots = false;
        config.limits.timeout = Duration::from_millis(300);
    });
    assert_eq!(
        records[&format!("http://127.0.0.1:{port}/private/secret")].status,
        Some(200)
    );
}

#[test]
fn the_command_line_writes_json_lines_and_a_summary_from_one_thread() {
    // The site runs on a thread of this test process; the crawler is its own process.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        weft::run(async move {
            let mut config = SiteConfig::new(40);
            config.errors = true;
            let listener = weft::net::TcpListener::from_std(listener).unwrap();
            let _ = Site::new(config).serve(listener).await;
        })
    });
    let output = std::process::Command::new(test_support::example_binary("crawler"))
        .arg(format!("http://127.0.0.1:{port}/"))
        .args([
            "--depth",
            "1",
            "--timeout",
            "0.5",
            "--concurrency",
            "8",
            "--output",
            "-",
        ])
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    assert!(output.status.success(), "{stderr}");
    let records: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // The root, its ten children, 15 failure cases and 2 private pages.
    assert_eq!(records.len(), 1 + 10 + 15 + 2, "{stdout}");
    for field in [
        "url",
        "status",
        "bytes",
        "content_type",
        "depth",
        "referrer",
        "elapsed_ms",
        "error",
    ] {
        assert!(
            records.iter().all(|r| r.get(field).is_some()),
            "{field} missing"
        );
    }
    let missing = records
        .iter()
        .find(|r| r["url"].as_str().unwrap().ends_with("/missing"))
        .unwrap();
    assert_eq!(
        (missing["status"].as_u64(), missing["depth"].as_u64()),
        (Some(404), Some(1))
    );
    assert!(stderr.contains("threads in this process: 1"), "{stderr}");
    let errors =
        "errors: malformed: 1, redirect_loop: 1, reset: 1, robots: 2, timeout: 1, too_large: 2";
    assert!(stderr.contains(errors), "{stderr}");

    let bad = std::process::Command::new(test_support::example_binary("crawler"))
        .arg("not a url")
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(
        stderr.contains("not a URL") && stderr.contains("--help"),
        "{stderr}"
    );
}

#[test]
fn the_demo_runs_on_one_thread_and_shows_the_speedup() {
    let output = std::process::Command::new(test_support::example_binary("crawler"))
        .args(["--demo", "--pages", "150", "--latency-ms", "3"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("concurrency   1: 150 pages"), "{stdout}");
    assert!(stdout.contains("concurrency 100: 150 pages"), "{stdout}");
    assert!(stdout.contains("on 1 thread(s)"), "{stdout}");
    let speedup: f64 = stdout
        .split("speedup: ")
        .nth(1)
        .and_then(|rest| rest.split('x').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no speedup in {stdout}"));
    assert!(speedup > 1.0, "{stdout}");
}

#[test]
fn the_progress_line_counts_pages_queued_and_errors() {
    let progress = Progress::default();
    progress.done.set(150);
    progress.queued.set(20);
    progress.errors.set(3);
    let line = demo_crawl::report::progress_line(&progress, Duration::from_secs(3));
    assert_eq!(line, "150 done, 20 queued, 3 errors, 50.0 pages/s");

    // Drawn at once and then every 200 ms, each time from the start of the line.
    let drawn = weft::run(async {
        let screen = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
        let progress = Rc::new(Progress::default());
        let ticker = weft::spawn(demo_crawl::report::show_progress(
            progress.clone(),
            Screen(screen.clone()),
        ));
        weft::task::yield_now().await;
        ticker.abort();
        String::from_utf8(screen.borrow().clone()).unwrap()
    });
    assert!(
        drawn.starts_with("\r\x1b[K0 done, 0 queued, 0 errors"),
        "{drawn:?}"
    );
}

/// A terminal stand-in that keeps what is written to it.
struct Screen(std::rc::Rc<std::cell::RefCell<Vec<u8>>>);

impl std::io::Write for Screen {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_fetch_that_panics_gives_an_error_record_and_the_crawl_goes_on() {
    weft::run(async {
        let (done, mut results) = weft::channel::mpsc::unbounded();
        let pending = Pending {
            url: Url::parse("http://example.test/page").unwrap(),
            depth: 2,
            referrer: None,
        };
        let buggy = async { panic!("a bug in a parser") };
        engine::spawn_fetch(7, pending.record(), buggy, done.clone());
        let record = pending.record();
        let fine = async move { Fetched::failed(record, "reset", "gone".into()) };
        engine::spawn_fetch(8, pending.record(), fine, done);

        let (index, fetched) = results
            .recv()
            .await
            .expect("a result for the panicked fetch");
        assert_eq!(index, 7);
        let (kind, message) = fetched.record.error.expect("an error record");
        assert_eq!(kind, "panic");
        assert!(message.contains("a bug in a parser"), "{message}");
        assert_eq!(fetched.record.url, "http://example.test/page");
        assert_eq!(fetched.record.depth, 2);
        let (index, _) = results.recv().await.expect("the next fetch's result");
        assert_eq!(index, 8);
    });
}

#[test]
fn the_site_answers_a_bad_or_endless_request_head_with_400() {
    use weft::io::{AsyncReadExt, AsyncWriteExt};
    use weft::net::TcpStream;

    weft::run(async {
        let port = Site::new(SiteConfig::new(3)).spawn_local().await.unwrap();
        // A head that has not ended after the server's limit of 16 KiB. Exactly that much, so
        // the server reads all of it and closes with a FIN: bytes left unread would make the
        // close a reset, which may discard the reply before the test reads it.
        let mut endless = b"GET / HTTP/1.1\r\nX-Filler: ".to_vec();
        endless.resize(16 * 1024, b'a');
        for request in [b"NOT HTTP AT ALL\r\n\r\n".to_vec(), endless] {
            let mut conn = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
            conn.write_all(&request).await.unwrap();
            let mut reply = Vec::new();
            conn.read_to_end(&mut reply).await.unwrap();
            let reply = String::from_utf8_lossy(&reply);
            assert!(reply.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{reply}");
        }
    });
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2_000))]

    /// Whatever a page or a robots.txt holds — broken tags, stray `&`, cut-off comments,
    /// references to no character, multi-byte text — the crawler's parsers return, never panic.
    #[test]
    fn the_html_and_robots_parsers_survive_any_text(
        pieces in proptest::collection::vec(proptest::sample::select(TRICKY_PIECES), 0..30)
    ) {
        let text = pieces.concat();
        let _ = demo_crawl::html::links(&text);
        let _ = demo_crawl::html::decode_references(&text);
        let _ = demo_crawl::robots::Robots::parse(&text, "weft").allows(&text);
    }
}

/// The pieces that trip hand-written parsers.
#[rustfmt::skip]
const TRICKY_PIECES: &[&str] = &[
    "<", ">", "</", "<!--", "-->", "<![CDATA[", "&", "&amp", ";", "&#", "&#x", "&#xD800;",
    "&#1114112;", "&#99999999999;", "\"", "'", "=", "/", "!", "?", "#", " ", "\n", "a",
    "<a href=", "<base href=", "script", "é", "€", "😀", "Disallow:", "User-agent:", "*",
];
