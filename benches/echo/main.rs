//! The echo load harness: weft's echo server, a tokio current-thread echo server and a raw
//! mio event loop (no runtime at all), each in its own process, driven in turn by one load
//! generator with no runtime. Servers and load are pinned to different cores when there are
//! two. It reports round trips per second, **server CPU time per round trip** (which does not
//! depend on the load generator), medians over interleaved rounds, and the ratios.
//!
//! Last, the idle-connection benchmark ([`idle`]): what each server holds per connection
//! that waits.
//!
//! `cargo bench --bench echo [-- --quick | --smoke]`; `scripts/bench` runs it with the rest;
//! `cargo bench --bench echo -- idle` runs only the idle benchmark, and
//! `cargo bench --bench echo -- compare SIZE CONNECTIONS ROUNDS` one cell of the round-trip
//! table with more rounds (it saves nothing).
//! `echo serve weft|tokio|mio|go` runs one server (the harness starts itself that way), and
//! `echo load ADDR CONNECTIONS SIZE SECONDS` runs only the load, for profiling a server
//! started by hand.

mod idle;
mod raw_mio;
mod tokio_server;

use std::net::SocketAddr;
use std::time::Duration;

use serde_json::json;
use weft_benches::Mode;
use weft_benches::load::{self, Exchange};
use weft_benches::server_process::{median, pin_self_to_core, with_server};

const SERVERS: [&str; 3] = ["weft", "tokio", "mio"];
/// The servers of the multicore table.
const MULTICORE: [&str; 3] = ["weft", "weft-2-cores", "tokio-2-workers"];

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "serve") {
        serve(&args[i + 1]);
        return;
    }
    if let Some(i) = args.iter().position(|a| a == "load") {
        let arg = |k: usize| {
            args.get(i + k)
                .and_then(|a| a.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        let addr: SocketAddr = args[i + 1]
            .parse()
            .expect("load ADDR CONNECTIONS SIZE SECONDS");
        let (conns, size, secs) = (
            arg(2) as usize,
            arg(3) as usize,
            Duration::from_secs_f64(arg(4)),
        );
        let m = load::ping_pong(
            addr,
            conns,
            &Exchange::Echo { size },
            Duration::ZERO,
            secs,
            || 0,
        )
        .expect("load");
        println!(
            "{:.0} round trips/s",
            m.round_trips as f64 / m.elapsed.as_secs_f64()
        );
        return;
    }
    let mode = Mode::from_env();
    let pinned = pin_self_to_core(1);
    if let Some(i) = args.iter().position(|a| a == "compare") {
        // One cell of the round-trip table again, with more rounds: `compare SIZE C ROUNDS`.
        let arg = |k: usize| args.get(i + k).and_then(|a| a.parse::<usize>().ok());
        let (Some(size), Some(connections), Some(rounds)) = (arg(1), arg(2), arg(3)) else {
            eprintln!("usage: echo compare SIZE CONNECTIONS ROUNDS");
            std::process::exit(2);
        };
        let plan = load::Plan {
            rounds,
            ..load::Plan::for_mode(mode)
        };
        let rows = ping_pong_round("compare", &SERVERS, pinned, size, connections, &plan);
        let row = |server: &str| rows.iter().find(|r| r["server"] == server);
        for peer in ["tokio", "mio"] {
            if let (Some(weft), Some(theirs)) = (row("weft"), row(peer)) {
                let ratio = load::row_cpu_ratio(weft, theirs, "server_cpu_ns_per_round_trip");
                println!(
                    "weft ÷ {peer} CPU per round trip (median of the ratios within a round): {ratio:.3}"
                );
            }
        }
        return;
    }
    if !args.iter().any(|a| a == "idle") {
        ping_pong_tables(mode, pinned);
    }
    let rows = idle::run(mode, pinned);
    weft_benches::save(
        "idle",
        &json!({ "mode": format!("{mode:?}"), "rows": rows }),
    );
}

/// The round-trip and streaming tables.
fn ping_pong_tables(mode: Mode, pinned: bool) {
    let ping_sizes = [64usize, 1024];
    let plan = load::Plan::for_mode(mode);
    let mut rows = Vec::new();
    for &size in &ping_sizes {
        for &connections in &plan.connection_counts {
            rows.extend(ping_pong_round(
                "ping_pong",
                &SERVERS,
                pinned,
                size,
                connections,
                &plan,
            ));
        }
    }

    // The flight recorder's cost where users see it: the same weft server with the recorder
    // off and on (`Builder::flight_recorder`, as `WEFT_TRACE` turns it on).
    for connections in [1, 100] {
        let servers = ["weft", "weft-recorder"];
        rows.extend(ping_pong_round(
            "recorder",
            &servers,
            pinned,
            64,
            connections,
            &plan,
        ));
    }

    // Beyond one core (`weft::cores`): weft on one runtime and on two (one SO_REUSEPORT
    // listener per core), and tokio's multi-thread runtime with two workers. No server is
    // pinned by taskset here, and the load generator stays on core 1: on a 2-core machine it
    // shares a core with the servers, so the rates say what one load thread gets, and the
    // CPU per round trip (all the server's threads) is the comparable figure.
    for &connections in plan.connection_counts.iter().filter(|&&c| c >= 10) {
        rows.extend(ping_pong_round(
            "multicore",
            &MULTICORE,
            false,
            64,
            connections,
            &plan,
        ));
    }

    let stream_size = mode.pick(1 << 20, 1 << 20, 64 << 10);
    let stream_measure = mode.pick(
        Duration::from_secs(3),
        Duration::from_secs(1),
        Duration::from_millis(150),
    );
    for server in SERVERS {
        let bytes_per_sec = median((0..plan.rounds).map(|_| {
            let m = with_server(server, pinned, one_thread(server), |addr, pid| {
                load::ping_pong(
                    addr,
                    10,
                    &Exchange::Echo { size: stream_size },
                    plan.warmup,
                    stream_measure,
                    || load::cpu_ns(pid),
                )
            });
            (m.round_trips as f64 * stream_size as f64) / m.elapsed.as_secs_f64()
        }));
        println!(
            "streaming 10 conns x {stream_size} B writes {server:>5}: {:.0} MB/s",
            bytes_per_sec / 1e6
        );
        rows.push(json!({ "test": "stream", "server": server, "write_size": stream_size, "connections": 10, "bytes_per_sec": bytes_per_sec }));
    }

    weft_benches::save(
        "echo",
        &json!({ "mode": format!("{mode:?}"), "pinned": pinned, "rounds": plan.rounds,
                 "measure_ms": plan.measure.as_millis() as u64, "rows": rows }),
    );
}

/// Whether `server` must run on one thread (tokio's runtimes start helper threads; the
/// multicore weft server runs one per core).
fn one_thread(server: &str) -> bool {
    !server.starts_with("tokio") && server != "weft-2-cores"
}

/// One measured round of `size`-byte ping-pong over `connections` against each of
/// `servers`, interleaved (each with its server pinned to core 0 when `pinned`); a row per
/// server, tagged `test`.
fn ping_pong_round(
    test: &str,
    servers: &[&str],
    pinned: bool,
    size: usize,
    connections: usize,
    plan: &load::Plan,
) -> Vec<serde_json::Value> {
    let results = load::interleaved(servers, plan.rounds, |server| {
        with_server(server, pinned, one_thread(server), |addr, pid| {
            load::ping_pong(
                addr,
                connections,
                &Exchange::Echo { size },
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
                "{test} {size:>5} B x {connections:>4} conns  {:>15}: {:>10.0} round trips/s, server CPU {:.2} µs/round trip",
                r.server,
                r.rate,
                r.cpu() / 1000.0
            );
            json!({
                "test": test, "server": r.server, "size": size, "connections": connections,
                "round_trips_per_sec": r.rate, "server_cpu_ns_per_round_trip": r.cpu(),
                "server_cpu_ns_per_round": r.cpu_per_round,
            })
        })
        .collect()
}

fn serve(server: &str) {
    let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let ready = |addr: SocketAddr| println!("ready {addr}");
    let result = match server {
        "weft" => serve_weft(weft::Runtime::new(), addr, ready),
        "weft-recorder" => serve_weft(
            weft::runtime::Builder::new()
                .flight_recorder(1 << 18)
                .build(),
            addr,
            ready,
        ),
        "weft-2-cores" => serve_weft_cores(2, addr),
        "tokio" => tokio_server::serve(tokio_server::current_thread(), addr, ready),
        "tokio-2-workers" => tokio_server::serve(tokio_server::multi_thread(2), addr, ready),
        "mio" => raw_mio::serve(addr, ready),
        "go" => Err(idle::exec_go()),
        other => panic!("unknown server {other}"),
    };
    if let Err(err) = result {
        eprintln!("{server} server: {err}");
        std::process::exit(1);
    }
}

/// The echo server on `cores` weft runtimes, one SO_REUSEPORT listener each.
fn serve_weft_cores(cores: usize, addr: SocketAddr) -> std::io::Result<()> {
    weft::cores::Builder::new(cores)
        .run(move |core| async move {
            let server = weft::net::StreamServer::bind_per_core(&core, addr)?;
            if core.index() == 0 {
                println!("ready {}", server.local_addr()?);
            }
            demo_echo::server::serve(server, None).await?;
            Ok::<(), std::io::Error>(())
        })
        .map(drop)
        .map_err(|err| std::io::Error::other(err.to_string()))
}

/// The echo server on `runtime`.
fn serve_weft(
    runtime: std::io::Result<weft::Runtime>,
    addr: SocketAddr,
    ready: impl Fn(SocketAddr),
) -> std::io::Result<()> {
    runtime?.block_on(async move {
        let listener = weft::net::TcpListener::bind(addr).await?;
        ready(listener.local_addr()?);
        demo_echo::server::serve(weft::net::StreamServer::new(listener), None).await?;
        Ok(())
    })
}
