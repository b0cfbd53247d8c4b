//! The hyper server benchmark: the same hello-world hyper 1.x service on weft and on tokio's
//! current-thread runtime (through hyper-util's `TokioIo`), each in its own process, driven
//! in turn by one load generator with no runtime (the echo harness's, sending keep-alive GETs)
//! over 1, 10, 100 and 1000 connections. It reports requests per second and **server CPU
//! time per request**, medians over interleaved rounds, and the ratios. Last, what a
//! keep-alive connection that made one request and now waits costs each server
//! ([`weft_benches::idle`]).
//!
//! `cargo bench --bench http [-- --quick | --smoke]`; `scripts/bench` runs it with the rest.
//! `http serve weft|tokio` runs one server; `http -- idle` only the idle rows.

#![allow(missing_docs)]

use std::convert::Infallible;
use std::io::{Read, Write};
use std::net::SocketAddr;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use serde_json::json;
use weft_benches::Mode;
use weft_benches::load::{self, Exchange};
use weft_benches::server_process::{pin_self_to_core, with_server};

const SERVERS: [&str; 2] = ["weft", "tokio"];
/// The servers of the multicore table.
const MULTICORE: [&str; 3] = ["weft", "weft-2-cores", "tokio-2-workers"];
const REQUEST: &[u8] = b"GET / HTTP/1.1\r\nHost: bench\r\n\r\n";

async fn hello(_: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from_static(
        b"Hello, world!",
    ))))
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "serve") {
        serve(&args[i + 1]);
        return;
    }
    let mode = Mode::from_env();
    let pinned = pin_self_to_core(1);
    let plan = load::Plan::for_mode(mode);
    let mut rows = Vec::new();
    let tables = !args.iter().any(|a| a == "idle");
    for &connections in plan.connection_counts.iter().filter(|_| tables) {
        rows.extend(hello_round("hello", &SERVERS, pinned, connections, &plan));
    }
    // Beyond one core, as in the echo benchmark: no server pinned by taskset, the load on
    // core 1 sharing it with the servers; all the server's threads are counted.
    for &connections in plan
        .connection_counts
        .iter()
        .filter(|&&c| tables && c >= 10)
    {
        rows.extend(hello_round(
            "multicore",
            &MULTICORE,
            false,
            connections,
            &plan,
        ));
    }
    weft_benches::idle::raise_fd_limit();
    let (counts, idle_for) = weft_benches::idle::plan(mode);
    for &n in &counts {
        for server in SERVERS {
            let m = with_server(server, pinned, server == "weft", |addr, pid| {
                let len = response_len(addr)?;
                weft_benches::idle::hold(addr, pid, n, idle_for, |mut conn| {
                    conn.write_all(REQUEST)?;
                    let mut response = vec![0; len];
                    conn.read_exact(&mut response)?;
                    Ok(Box::new(conn))
                })
            });
            println!(
                "idle {n:>6} keep-alive conns {server:>5}: RSS +{:.0} B/conn, CPU while idle {:.2}%",
                m.rss_per_conn, m.idle_cpu_percent
            );
            let mut row = m.json(server, n, idle_for);
            row["test"] = json!("idle");
            rows.push(row);
        }
    }
    if !tables {
        weft_benches::update_rows("http", "idle", rows);
        return;
    }
    weft_benches::save(
        "http",
        &json!({ "mode": format!("{mode:?}"), "pinned": pinned, "rounds": plan.rounds,
                 "measure_ms": plan.measure.as_millis() as u64, "rows": rows }),
    );
}

/// One measured round of keep-alive GETs over `connections` against each of `servers`,
/// interleaved (each pinned to core 0 when `pinned`); a row per server, tagged `test`. Only
/// the one-runtime weft server must have one thread.
fn hello_round(
    test: &str,
    servers: &[&str],
    pinned: bool,
    connections: usize,
    plan: &load::Plan,
) -> Vec<serde_json::Value> {
    let results = load::interleaved(servers, plan.rounds, |server| {
        with_server(server, pinned, server == "weft", |addr, pid| {
            let exchange = Exchange::Request {
                request: REQUEST.to_vec(),
                response_len: response_len(addr)?,
                expect: b"HTTP/1.1 200 OK\r\n",
            };
            load::ping_pong(
                addr,
                connections,
                &exchange,
                plan.warmup,
                plan.measure,
                || load::cpu_ns(pid),
            )
        })
    });
    results
        .into_iter()
        .map(|r| {
            println!(
                "{test} x {connections:>4} conns  {:>15}: {:>10.0} requests/s, server CPU {:.2} µs/request",
                r.server,
                r.rate,
                r.cpu() / 1000.0
            );
            json!({
                "test": test, "server": r.server, "connections": connections,
                "requests_per_sec": r.rate, "server_cpu_ns_per_request": r.cpu(),
                "server_cpu_ns_per_round": r.cpu_per_round,
            })
        })
        .collect()
}

/// The length of the server's response to `REQUEST`, asked once: head plus Content-Length.
/// (hyper's `date` header has a fixed width, so every response has this length.)
fn response_len(addr: SocketAddr) -> std::io::Result<usize> {
    let mut stream = std::net::TcpStream::connect(addr)?;
    stream.write_all(REQUEST)?;
    let mut got = Vec::new();
    let mut buf = [0; 4096];
    loop {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return Err(std::io::Error::other("the server closed before answering"));
        }
        got.extend_from_slice(&buf[..n]);
        let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&got[..end]).to_ascii_lowercase();
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .ok_or_else(|| std::io::Error::other("no content-length"))?;
        return Ok(end + 4 + length);
    }
}

fn serve(server: &str) {
    let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let result = match server {
        "weft" => serve_weft(addr),
        "weft-2-cores" => serve_weft_cores(2, addr),
        "tokio" => serve_tokio(tokio::runtime::Builder::new_current_thread(), addr),
        "tokio-2-workers" => {
            let mut builder = tokio::runtime::Builder::new_multi_thread();
            builder.worker_threads(2);
            serve_tokio(builder, addr)
        }
        other => panic!("unknown server {other}"),
    };
    if let Err(err) = result {
        eprintln!("{server} server: {err}");
        std::process::exit(1);
    }
}

fn serve_weft(addr: SocketAddr) -> std::io::Result<()> {
    weft::run(async move {
        let listener = weft::net::TcpListener::bind(addr).await?;
        println!("ready {}", listener.local_addr()?);
        accept_weft(listener).await
    })
}

/// The hyper server on `cores` weft runtimes, one SO_REUSEPORT listener each.
fn serve_weft_cores(cores: usize, addr: SocketAddr) -> std::io::Result<()> {
    weft::cores::Builder::new(cores)
        .run(move |core| async move {
            let listener =
                weft::net::TcpListener::builder()
                    .reuse_port(true)
                    .bind(core.get_or_try_init("addr", || {
                        let first = weft::net::TcpListener::builder()
                            .reuse_port(true)
                            .bind(addr)?;
                        first.local_addr()
                    })?)?;
            if core.index() == 0 {
                println!("ready {}", listener.local_addr()?);
            }
            accept_weft(listener).await
        })
        .map(drop)
        .map_err(|err| std::io::Error::other(err.to_string()))
}

async fn accept_weft(listener: weft::net::TcpListener) -> std::io::Result<()> {
    use weft::net::hyper::{HyperIo, HyperTimer};
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        weft::spawn(async move {
            let _ = hyper::server::conn::http1::Builder::new()
                .timer(HyperTimer)
                .serve_connection(HyperIo::new(stream), hyper::service::service_fn(hello))
                .await;
        });
    }
}

fn serve_tokio(mut builder: tokio::runtime::Builder, addr: SocketAddr) -> std::io::Result<()> {
    let rt = builder.enable_all().build()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        println!("ready {}", listener.local_addr()?);
        loop {
            let (stream, _) = listener.accept().await?;
            let _ = stream.set_nodelay(true);
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .timer(hyper_util::rt::TokioTimer::new())
                    .serve_connection(
                        hyper_util::rt::TokioIo::new(stream),
                        hyper::service::service_fn(hello),
                    )
                    .await;
            });
        }
    })
}
