//! A hyper server on weft, on one thread (or one per core):
//! `cargo run --release --features hyper,tls --example hyper_server -- [--addr 127.0.0.1:8080]
//! [--tls CERT.pem KEY.pem | --self-signed CA_OUT.pem] [--max-connections N] [--threads N]`
//!
//! `GET /` answers a small page; any `POST` echoes its body back. It is served through
//! `StreamServer`, so it gets the connection limit and the graceful Ctrl-C stop (the listener
//! closes, open connections get a second to finish). With `--tls` it speaks https, HTTP/2 or
//! HTTP/1.1 as the client's ALPN asks. `--self-signed CA_OUT.pem` makes a throwaway CA and a
//! certificate for `localhost` and `127.0.0.1` at start-up and writes the CA to `CA_OUT.pem`,
//! for clients to trust: `https_get https://localhost:8080/ --ca-file CA_OUT.pem`.
//!
//! `--threads N` runs one weft runtime per core (`weft::cores`), each with its own
//! `SO_REUSEPORT` listener on the same address; the connection limit is then per core.

use demo_hyper::hyper; // hyper with its client and server (see examples/crates/hyper)
use std::net::SocketAddr;
use std::time::Duration;

use clap::Parser;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper::{Method, Request, Response};
use weft::net::hyper::{HyperIo, HyperTimer, LocalExecutor};
use weft::net::tls::TlsAcceptor;
use weft::net::{StreamServer, TcpStream};

const PAGE: &str = "<!doctype html><title>weft</title><h1>Hello from hyper on weft</h1>\n\
<p>One thread serves every connection. POST anything here and it comes back.</p>\n";

async fn respond(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, hyper::Error> {
    if request.method() == Method::POST {
        let body = request.into_body().collect().await?.to_bytes();
        return Ok(Response::new(Full::new(body)));
    }
    let mut response = Response::new(Full::new(Bytes::from_static(PAGE.as_bytes())));
    response
        .headers_mut()
        .insert("content-type", "text/html; charset=utf-8".parse().unwrap());
    Ok(response)
}

/// Serves one connection, HTTP/1.1 or (when TLS negotiated it) HTTP/2.
async fn serve(stream: TcpStream, tls: Option<TlsAcceptor>) {
    let service = service_fn(respond);
    let result = match tls {
        None => {
            hyper::server::conn::http1::Builder::new()
                .timer(HyperTimer)
                .header_read_timeout(Duration::from_secs(10))
                .serve_connection(HyperIo::new(stream), service)
                .await
        }
        Some(acceptor) => {
            let tls = match acceptor.accept(stream).await {
                Ok(tls) => tls,
                Err(err) => return eprintln!("hyper_server: {err}"),
            };
            if tls.alpn_protocol() == Some(b"h2") {
                hyper::server::conn::http2::Builder::new(LocalExecutor)
                    .timer(HyperTimer)
                    .serve_connection(HyperIo::new(tls), service)
                    .await
            } else {
                hyper::server::conn::http1::Builder::new()
                    .timer(HyperTimer)
                    .header_read_timeout(Duration::from_secs(10))
                    .serve_connection(HyperIo::new(tls), service)
                    .await
            }
        }
    };
    if let Err(err) = result {
        if !err.is_incomplete_message() {
            eprintln!("hyper_server: {err}");
        }
    }
}

/// A throwaway CA and a certificate for this machine's names; the CA goes to `ca_out`.
fn self_signed(ca_out: &str) -> std::io::Result<TlsAcceptor> {
    let ca = demo_certs::TestCa::new("hyper_server throwaway CA");
    let issued = ca.issue(&["localhost", "127.0.0.1"]);
    std::fs::write(ca_out, ca.cert_pem())?;
    println!("wrote the CA certificate to {ca_out}: clients trust it with --ca-file {ca_out}");
    TlsAcceptor::from_pem(issued.cert_pem.as_bytes(), issued.key_pem.as_bytes())
}

/// A hyper server on weft: `GET /` answers a page, any `POST` echoes its body. Ctrl-C stops
/// it gracefully.
#[derive(Parser)]
#[command(name = "hyper_server")]
struct Args {
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// Serve https with this certificate chain and private key.
    #[arg(long, num_args = 2, value_names = ["CERT.pem", "KEY.pem"], conflicts_with = "self_signed")]
    tls: Option<Vec<String>>,
    /// Serve https with a throwaway CA, written to this file for clients to trust.
    #[arg(long, value_name = "CA_OUT.pem")]
    self_signed: Option<String>,
    /// At most this many connections at once (per core).
    #[arg(long, default_value_t = 10_000, value_parser = demo_cli::at_least_one)]
    max_connections: usize,
    /// Runtimes, one per core, each with its own SO_REUSEPORT listener.
    #[arg(long, default_value_t = 1, value_parser = demo_cli::at_least_one)]
    threads: usize,
}

fn main() {
    let Args {
        addr,
        tls,
        self_signed: self_signed_ca,
        max_connections,
        threads,
    } = Args::parse();
    let acceptor = match (tls.as_deref(), self_signed_ca) {
        (Some([cert, key]), _) => Some(TlsAcceptor::from_pem_files(cert, key)),
        (_, Some(ca_out)) => Some(self_signed(&ca_out)),
        _ => None,
    };
    let tls = acceptor.map(|made| match made {
        Ok(acceptor) => acceptor.alpn(&[b"h2", b"http/1.1"]),
        Err(err) => {
            eprintln!("hyper_server: {err}");
            std::process::exit(1)
        }
    });
    let result = weft::cores::run(threads, move |core| {
        let tls = tls.clone();
        async move {
            let server = StreamServer::bind_per_core(&core, addr)?.max_connections(max_connections);
            if core.index() == 0 {
                println!(
                    "hyper on weft listening on {}://{} (pid {}, {threads} thread{}); Ctrl-C to stop",
                    if tls.is_some() { "https" } else { "http" },
                    server.local_addr()?,
                    std::process::id(),
                    if threads == 1 { "" } else { "s" },
                );
            }
            let stop = server.stop_handle();
            let serving =
                weft::spawn(server.serve(move |stream, _peer| serve(stream, tls.clone())));
            core.stopping().await;
            if core.index() == 0 {
                println!("\nCtrl-C: closing the listener; open connections get 1 s to finish");
            }
            stop.stop(Duration::from_secs(1));
            serving.await.expect("the server task")?;
            if core.index() == 0 {
                println!("stopped");
            }
            Ok::<(), std::io::Error>(())
        }
    });
    if let Err(err) = result {
        eprintln!("hyper_server: {err}");
        std::process::exit(1);
    }
}
