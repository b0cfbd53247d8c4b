//! The HTTP client benchmark: keep-alive GETs of a small page from a local server, over C
//! connections' worth of concurrent requests, with weft's client (`weft::net::http`), the
//! same requests through hyper-util's pooled client on tokio's current-thread runtime, and
//! reqwest on it. Each client runs in a process of its own (on core 1, the server on core 0);
//! reported: requests per second and **client CPU per request** (from /proc, all threads).
//!
//! `cargo bench --bench http_client --features hyper [-- --quick | --smoke]`;
//! `http_client serve` runs the server, `http_client client NAME ADDR C SECONDS` one client.

use std::net::SocketAddr;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::json;
use weft_benches::Mode;
use weft_benches::load::cpu_ns;
use weft_benches::server_process::{median, pin_self_to_core, with_server};

const CLIENTS: [&str; 3] = ["weft", "hyper-util", "reqwest"];
const WARMUP: Duration = Duration::from_millis(300);

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "serve") {
        serve();
        return;
    }
    if let Some(i) = args.iter().position(|a| a == "client") {
        let addr: SocketAddr = args[i + 2].parse().expect("client NAME ADDR C SECONDS");
        let c: usize = args[i + 3].parse().expect("C");
        let secs: f64 = args[i + 4].parse().expect("SECONDS");
        let (requests, cpu) = run_client(&args[i + 1], addr, c, Duration::from_secs_f64(secs));
        println!("{requests} {cpu}");
        return;
    }
    let mode = Mode::from_env();
    let pinned = pin_self_to_core(1);
    let counts = mode.pick(vec![1, 10, 100], vec![1, 10, 100], vec![1, 10]);
    let rounds = mode.pick(5, 1, 1);
    let seconds = mode.pick(2.0, 0.7, 0.15);
    let mut rows = Vec::new();
    for &c in &counts {
        let mut runs: Vec<(&str, f64, f64)> = Vec::new();
        for round in 0..rounds {
            for k in 0..CLIENTS.len() {
                let client = CLIENTS[(k + round) % CLIENTS.len()];
                let (requests, cpu) = with_server("server", pinned, true, |addr, _| {
                    let out = Command::new(std::env::current_exe()?)
                        .args(["client", client, &addr.to_string(), &c.to_string()])
                        .arg(seconds.to_string())
                        .output()?;
                    let text = String::from_utf8_lossy(&out.stdout);
                    let mut words = text.split_whitespace().map(|w| w.parse::<f64>().ok());
                    match (words.next().flatten(), words.next().flatten()) {
                        (Some(requests), Some(cpu)) => Ok((requests, cpu)),
                        _ => Err(std::io::Error::other(format!(
                            "the {client} client failed: {}",
                            String::from_utf8_lossy(&out.stderr)
                        ))),
                    }
                });
                runs.push((client, requests, cpu));
            }
        }
        for client in CLIENTS {
            let mine: Vec<_> = runs.iter().filter(|r| r.0 == client).collect();
            let rate = median(mine.iter().map(|r| r.1 / seconds));
            let cpu = median(mine.iter().map(|r| r.2 / r.1.max(1.0)));
            println!(
                "C = {c:>3} {client:>10}: {rate:>9.0} requests/s, client CPU {:.2} µs/request",
                cpu / 1000.0
            );
            rows.push(
                json!({ "client": client, "concurrency": c, "requests_per_sec": rate,
                              "client_cpu_ns_per_request": cpu }),
            );
        }
    }
    weft_benches::save(
        "http_client",
        &json!({ "mode": format!("{mode:?}"), "pinned": pinned, "rounds": rounds,
                 "measure_ms": (seconds * 1000.0) as u64, "rows": rows }),
    );
}

/// When the measured window starts and ends.
#[derive(Clone, Copy)]
struct Window {
    from: Instant,
    end: Instant,
}

impl Window {
    fn after_warmup(measure: Duration) -> Window {
        let from = Instant::now() + WARMUP;
        Window {
            from,
            end: from + measure,
        }
    }

    /// Runs `get` one request after another until the window is over; returns how many
    /// completed inside it.
    async fn requests<F: std::future::Future<Output = ()>>(self, get: impl Fn() -> F) -> u64 {
        let mut n = 0;
        loop {
            get().await;
            let now = Instant::now();
            if now >= self.end {
                return n;
            }
            if now >= self.from {
                n += 1;
            }
        }
    }

    /// The CPU time process `pid` spends in the window, slept through with `sleep_until`
    /// (each runtime's own).
    async fn cpu<F: std::future::Future<Output = ()>>(
        self,
        pid: u32,
        sleep_until: impl Fn(Instant) -> F,
    ) -> u64 {
        sleep_until(self.from).await;
        let start = cpu_ns(pid);
        sleep_until(self.end).await;
        cpu_ns(pid) - start
    }
}

/// Runs one client for `measure` after a warm-up; returns the requests completed in the
/// window and the process's CPU time over it.
fn run_client(name: &str, addr: SocketAddr, c: usize, measure: Duration) -> (u64, u64) {
    // Parsed once, as each peer is given it: a `Url`, a `Uri`.
    let url = url::Url::parse(&format!("http://{addr}/")).unwrap();
    let pid = std::process::id();
    match name {
        "weft" => weft::run(async move {
            let client = weft::net::http::Client::new();
            let window = Window::after_warmup(measure);
            let cpu = weft::spawn(window.cpu(pid, |at| weft::time::sleep_until(at.into())));
            let loops: Vec<_> = (0..c)
                .map(|_| {
                    let (client, url) = (client.clone(), url.clone());
                    weft::spawn(async move {
                        let get = || async {
                            let response = client.get(&url).send().await.expect("GET");
                            response.bytes().await.expect("body");
                        };
                        window.requests(get).await
                    })
                })
                .collect();
            let mut total = 0;
            for one in loops {
                total += one.await.unwrap();
            }
            (total, cpu.await.unwrap())
        }),
        "hyper-util" | "reqwest" => {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let window = Window::after_warmup(measure);
                let cpu = tokio::spawn(window.cpu(pid, |at| tokio::time::sleep_until(at.into())));
                let fetch = Fetch::new(name, &url);
                let loops: Vec<_> = (0..c)
                    .map(|_| {
                        let fetch = fetch.clone();
                        tokio::spawn(async move { window.requests(|| fetch.get()).await })
                    })
                    .collect();
                let mut total = 0;
                for one in loops {
                    total += one.await.unwrap();
                }
                (total, cpu.await.unwrap())
            })
        }
        other => panic!("unknown client {other}"),
    }
}

/// One of the tokio peers, sending a GET and reading the body.
#[derive(Clone)]
enum Fetch {
    HyperUtil(
        hyper_util::client::legacy::Client<
            hyper_util::client::legacy::connect::HttpConnector,
            http_body_util::Empty<hyper::body::Bytes>,
        >,
        hyper::Uri,
    ),
    Reqwest(reqwest::Client, url::Url),
}

impl Fetch {
    fn new(name: &str, url: &url::Url) -> Fetch {
        if name == "reqwest" {
            return Fetch::Reqwest(reqwest::Client::new(), url.clone());
        }
        let client =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build_http();
        Fetch::HyperUtil(client, url.as_str().parse().unwrap())
    }

    async fn get(&self) {
        use http_body_util::BodyExt;
        match self {
            Fetch::HyperUtil(client, uri) => {
                let response = client.get(uri.clone()).await.expect("GET");
                response.into_body().collect().await.expect("body");
            }
            Fetch::Reqwest(client, url) => {
                let response = client.get(url.clone()).send().await.expect("GET");
                response.bytes().await.expect("body");
            }
        }
    }
}

/// The server every client is measured against: the hello-world hyper server on weft.
fn serve() {
    use weft::net::hyper::{HyperIo, HyperTimer};
    let result: std::io::Result<()> = weft::run(async {
        let listener = weft::net::TcpListener::bind("127.0.0.1:0").await?;
        println!("ready {}", listener.local_addr()?);
        loop {
            let (stream, _) = listener.accept().await?;
            let _ = stream.set_nodelay(true);
            weft::spawn(async move {
                let service = hyper::service::service_fn(|_| async {
                    Ok::<_, std::convert::Infallible>(hyper::Response::new(
                        http_body_util::Full::new(hyper::body::Bytes::from_static(
                            b"Hello, world!",
                        )),
                    ))
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .timer(HyperTimer)
                    .serve_connection(HyperIo::new(stream), service)
                    .await;
            });
        }
    });
    if let Err(err) = result {
        eprintln!("server: {err}");
        std::process::exit(1);
    }
}
