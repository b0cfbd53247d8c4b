//! The TLS benchmark: a TLS echo server with weft's `TlsAcceptor` and the same with
//! tokio-rustls on tokio's current-thread runtime (both rustls with the ring provider), each
//! in its own process, against a load generator with no runtime (rustls's blocking
//! `StreamOwned` on plain threads). Two tests: streaming (10 connections, each writing 1 MiB
//! and reading it back, round after round) and handshakes per second (one connection at a
//! time: connect, handshake, close). It reports throughput, handshakes per second, and the
//! server's CPU time per MiB and per handshake. Last, what a connection that finished its
//! handshake costs each server while it waits ([`weft_benches::idle`]).
//!
//! `cargo bench --bench tls [-- --quick | --smoke]`; `scripts/bench` runs it with the rest;
//! `tls -- idle` runs only the idle rows.

#![allow(missing_docs)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use serde_json::json;
use weft_benches::Mode;
use weft_benches::load;
use weft_benches::server_process::{median, pin_self_to_core, with_server};

const SERVERS: [&str; 2] = ["weft", "tokio"];
const MIB: usize = 1 << 20;

/// Where the harness leaves the certificate for the server processes it starts.
fn cert_paths() -> (PathBuf, PathBuf, PathBuf) {
    let dir = weft_benches::target_dir().join("bench-results");
    std::fs::create_dir_all(&dir).expect("create target/bench-results");
    (
        dir.join("tls-ca.pem"),
        dir.join("tls-cert.pem"),
        dir.join("tls-key.pem"),
    )
}

/// ring, as weft::net::tls uses (see there why the deprecated constructor stays).
#[allow(deprecated)]
fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "serve") {
        serve(&args[i + 1]);
        return;
    }
    let mode = Mode::from_env();
    let pinned = pin_self_to_core(1);
    let (ca_path, cert_path, key_path) = cert_paths();
    let ca = demo_certs::TestCa::new("tls bench CA");
    let issued = ca.issue(&["localhost"]);
    std::fs::write(&ca_path, ca.cert_pem()).unwrap();
    std::fs::write(&cert_path, &issued.cert_pem).unwrap();
    std::fs::write(&key_path, &issued.key_pem).unwrap();
    let client = client_config(&ca_path);
    let rounds = mode.pick(3, 1, 1);
    let measure = mode.pick(
        Duration::from_secs(2),
        Duration::from_millis(700),
        Duration::from_millis(150),
    );
    let mut rows = Vec::new();
    let tables: &[(&str, Run)] = if args.iter().any(|a| a == "idle") {
        &[]
    } else {
        &[("stream", stream), ("handshake", handshakes)]
    };
    for &(test, run) in tables {
        let mut runs = Vec::new();
        for round in 0..rounds {
            for k in 0..SERVERS.len() {
                let server = SERVERS[(k + round) % SERVERS.len()];
                let (count, cpu, elapsed) =
                    with_server(server, pinned, server == "weft", |addr, pid| {
                        let cpu_start = load::cpu_ns(pid);
                        let started = Instant::now();
                        let count = run(addr, &client, measure);
                        Ok((count, load::cpu_ns(pid) - cpu_start, started.elapsed()))
                    });
                runs.push((server, count, cpu, elapsed));
            }
        }
        for server in SERVERS {
            let mine: Vec<_> = runs.iter().filter(|r| r.0 == server).collect();
            let rate = median(mine.iter().map(|r| r.1 as f64 / r.3.as_secs_f64()));
            let cpu = median(mine.iter().map(|r| r.2 as f64 / r.1.max(1) as f64));
            let unit = if test == "stream" { "MiB" } else { "handshake" };
            println!(
                "{test:>9} {server:>5}: {rate:>9.1} {unit}/s, server CPU {:.1} µs/{unit}",
                cpu / 1000.0
            );
            rows.push(json!({ "test": test, "server": server, "per_sec": rate,
                              "server_cpu_ns_per_unit": cpu }));
        }
    }
    // What a connection that finished its handshake and one round trip costs while it waits.
    // The echo handler's own buffer is 1 KiB here, the same on both, so what differs is the
    // runtime, the adapter (weft's `TlsStream`, tokio-rustls) and rustls's own state.
    weft_benches::idle::raise_fd_limit();
    let (counts, idle_for) = weft_benches::idle::plan(mode);
    for &n in counts.iter().filter(|&&n| n <= 10_000) {
        for server in SERVERS {
            let name = format!("{server}-idle");
            let m = with_server(&name, pinned, server == "weft", |addr, pid| {
                weft_benches::idle::hold(addr, pid, n, idle_for, |sock| {
                    let mut tls = handshake(sock, &client);
                    tls.write_all(b"x")?;
                    let mut byte = [0];
                    tls.read_exact(&mut byte)?;
                    Ok(Box::new(tls))
                })
            });
            println!(
                "idle {n:>6} TLS conns {server:>5}: RSS +{:.0} B/conn, CPU while idle {:.2}%",
                m.rss_per_conn, m.idle_cpu_percent
            );
            let mut row = m.json(server, n, idle_for);
            row["test"] = json!("idle");
            rows.push(row);
        }
    }
    if tables.is_empty() {
        weft_benches::update_rows("tls", "idle", rows);
        return;
    }
    weft_benches::save(
        "tls",
        &json!({ "mode": format!("{mode:?}"), "pinned": pinned, "rounds": rounds,
                 "measure_ms": measure.as_millis() as u64, "rows": rows }),
    );
}

fn client_config(ca_path: &PathBuf) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca_path).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    Arc::new(
        rustls::ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

/// 10 connections, each on its own thread, write 1 MiB and read it back until `measure` is
/// up; returns the MiB echoed.
fn stream(addr: SocketAddr, client: &Arc<rustls::ClientConfig>, measure: Duration) -> u64 {
    let (done, stop) = (
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicBool::new(false)),
    );
    let threads: Vec<_> = (0..10)
        .map(|_| {
            let (client, done, stop) = (client.clone(), done.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut tls = connect(addr, &client);
                let data = vec![0x5a; MIB];
                let mut back = vec![0; MIB];
                while !stop.load(Ordering::Relaxed) {
                    tls.write_all(&data).unwrap();
                    tls.read_exact(&mut back).unwrap();
                    assert!(back == data, "the echo differs");
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    std::thread::sleep(measure);
    stop.store(true, Ordering::Relaxed);
    for thread in threads {
        thread.join().unwrap();
    }
    done.load(Ordering::Relaxed)
}

/// One connection at a time: connect, handshake, close; returns how many in `measure`.
fn handshakes(addr: SocketAddr, client: &Arc<rustls::ClientConfig>, measure: Duration) -> u64 {
    let end = Instant::now() + measure;
    let mut count = 0;
    while Instant::now() < end {
        let mut tls = connect(addr, client);
        tls.conn.send_close_notify();
        let _ = tls.conn.complete_io(&mut tls.sock);
        count += 1;
    }
    count
}

/// A client connection with its handshake done.
fn connect(
    addr: SocketAddr,
    client: &Arc<rustls::ClientConfig>,
) -> rustls::StreamOwned<rustls::ClientConnection, TcpStream> {
    handshake(TcpStream::connect(addr).unwrap(), client)
}

/// Runs a client handshake over `sock`.
fn handshake(
    sock: TcpStream,
    client: &Arc<rustls::ClientConfig>,
) -> rustls::StreamOwned<rustls::ClientConnection, TcpStream> {
    sock.set_nodelay(true).unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    let conn = rustls::ClientConnection::new(client.clone(), name).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, sock);
    while tls.conn.is_handshaking() {
        tls.conn.complete_io(&mut tls.sock).unwrap();
    }
    tls
}

/// A measured test: what it counts in the given time against the server at an address.
type Run = fn(SocketAddr, &Arc<rustls::ClientConfig>, Duration) -> u64;

/// The echo handler's buffer in the streaming and handshake tables.
const STREAM_BUF: usize = 64 * 1024;
/// The echo handler's buffer in the idle rows.
const IDLE_BUF: usize = 1024;

fn serve(server: &str) {
    let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let (_, cert, key) = cert_paths();
    let result = match server {
        "weft" => serve_weft(addr, &cert, &key, STREAM_BUF),
        "tokio" => serve_tokio(addr, &cert, &key, STREAM_BUF),
        "weft-idle" => serve_weft(addr, &cert, &key, IDLE_BUF),
        "tokio-idle" => serve_tokio(addr, &cert, &key, IDLE_BUF),
        other => panic!("unknown server {other}"),
    };
    if let Err(err) = result {
        eprintln!("{server} server: {err}");
        std::process::exit(1);
    }
}

fn serve_weft(addr: SocketAddr, cert: &PathBuf, key: &PathBuf, buf: usize) -> std::io::Result<()> {
    use weft::io::{AsyncReadExt, AsyncWriteExt};
    let acceptor = weft::net::tls::TlsAcceptor::from_pem_files(cert, key)?;
    weft::run(async move {
        let listener = weft::net::TcpListener::bind(addr).await?;
        println!("ready {}", listener.local_addr()?);
        loop {
            let (tcp, _) = listener.accept().await?;
            let _ = tcp.set_nodelay(true);
            let acceptor = acceptor.clone();
            weft::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut buf = vec![0; buf];
                while let Ok(n @ 1..) = tls.read(&mut buf).await {
                    if tls.write_all(&buf[..n]).await.is_err() {
                        return;
                    }
                }
                let _ = tls.close().await;
            });
        }
    })
}

fn serve_tokio(addr: SocketAddr, cert: &PathBuf, key: &PathBuf, buf: usize) -> std::io::Result<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let chain: Vec<_> = CertificateDer::pem_file_iter(cert)
        .map_err(std::io::Error::other)?
        .collect::<Result<_, _>>()
        .map_err(std::io::Error::other)?;
    let key = PrivateKeyDer::from_pem_file(key).map_err(std::io::Error::other)?;
    let config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(std::io::Error::other)?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(std::io::Error::other)?;
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        println!("ready {}", listener.local_addr()?);
        loop {
            let (tcp, _) = listener.accept().await?;
            let _ = tcp.set_nodelay(true);
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut buf = vec![0; buf];
                while let Ok(n @ 1..) = tls.read(&mut buf).await {
                    if tls.write_all(&buf[..n]).await.is_err() {
                        return;
                    }
                }
                let _ = tls.shutdown().await;
            });
        }
    })
}
