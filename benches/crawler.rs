//! The crawler against the generated site: pages/s and the crawler's CPU time per page at
//! concurrency 1, 10, 100 and 1000, with latency per response (where concurrency pays) and
//! with none (where the crawler's own CPU cost shows), through each HTTP client: the
//! hand-written one and hyper's.
//!
//! The site runs on its own thread (its own weft runtime), so the CPU time measured on the
//! crawler's thread (CLOCK_THREAD_CPUTIME_ID) is the crawler's alone.
//! `cargo bench --bench crawler [-- --quick|--smoke]`.

#![allow(missing_docs)]

use std::rc::Rc;
use std::time::{Duration, Instant};

use demo_crawl::engine::{self, Config, Progress};
use demo_crawl::http::Backend;
use demo_site::{Site, SiteConfig};
use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
use rustix::time::{ClockId, clock_gettime};
use serde_json::json;
use weft::net::TcpListener;
use weft_benches::Mode;

fn thread_cpu() -> Duration {
    let t = clock_gettime(ClockId::ThreadCPUTime);
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

/// Starts the site on a thread of its own; returns its port. The listener has weft's backlog
/// of 1,024 so that a burst of a thousand connects fits: a SYN dropped from a full backlog is
/// retried only a second later, and the row would measure that.
fn start_site(pages: usize, latency: Duration) -> u16 {
    let (port_tx, port_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        weft::run(async move {
            let mut config = SiteConfig::new(pages);
            config.latency = latency;
            let listener = TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind the site");
            port_tx.send(listener.local_addr().unwrap().port()).unwrap();
            let _ = Site::new(config).serve(listener).await;
        })
    });
    port_rx.recv().expect("the site's port")
}

fn main() {
    let mode = Mode::from_env();
    // 1,000 connections each way live in this one process: lift the fd limit to the hard one.
    let limit = getrlimit(Resource::Nofile);
    setrlimit(
        Resource::Nofile,
        Rlimit {
            current: limit.maximum,
            maximum: limit.maximum,
        },
    )
    .ok();

    let pages = mode.pick(1000, 400, 60);
    let latency = Duration::from_millis(mode.pick(10, 10, 2));
    let mut rows = Vec::new();
    for latency in [latency, Duration::ZERO] {
        let port = start_site(pages, latency);
        let seed = demo_crawl::Url::parse(&format!("http://127.0.0.1:{port}/")).unwrap();
        for (client, backend) in [("native", Backend::Native), ("hyper", Backend::Hyper)] {
            for concurrency in [1, 10, 100, 1000] {
                let mut config = Config::new(seed.clone());
                config.backend = backend;
                config.concurrency = concurrency;
                config.per_host = concurrency;
                config.max_pages = Some(pages);
                let (wall, cpu, summary) = weft::run(async move {
                    let (started, cpu) = (Instant::now(), thread_cpu());
                    let summary = engine::crawl(config, Rc::new(Progress::default()), |_| {}).await;
                    (started.elapsed(), thread_cpu() - cpu, summary)
                });
                assert_eq!(summary.pages, pages, "every page crawled");
                assert!(summary.errors.is_empty(), "errors: {:?}", summary.errors);
                let row = json!({
                    "client": client,
                    "latency_ms": latency.as_millis() as u64,
                    "concurrency": concurrency,
                    "pages": pages,
                    "wall_s": wall.as_secs_f64(),
                    "pages_per_s": pages as f64 / wall.as_secs_f64(),
                    "cpu_us_per_page": cpu.as_secs_f64() * 1e6 / pages as f64,
                    "connections": summary.connections,
                });
                println!("{row}");
                rows.push(row);
            }
        }
    }
    weft_benches::save(
        "crawler",
        &json!({ "mode": format!("{mode:?}"), "rows": rows }),
    );
}
