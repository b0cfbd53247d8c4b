//! hyper 1.x on weft through the public API: HTTP/1.1 with keep-alive, chunked and streaming
//! bodies; HTTP/2 over TLS with ALPN; hyper's header_read_timeout firing on weft's timer
//! against a slow-loris client; and a client that drops mid-body. All on one thread, over
//! loopback.

use demo_hyper::hyper; // hyper with its client and server (see examples/crates/hyper)
use std::cell::Cell;
use std::convert::Infallible;
use std::rc::Rc;
use std::time::Duration;

use demo_certs::TestCa;
use http_body_util::{BodyExt, Either, Full, StreamBody};
use hyper::body::{Bytes, Frame, Incoming};
use hyper::service::service_fn;
use hyper::{Request, Response};
use weft::generator::AsyncGen;
use weft::io::{AsyncReadExt, AsyncWriteExt};
use weft::net::hyper::{HyperIo, HyperTimer, LocalExecutor};
use weft::net::tls::{TlsAcceptor, TlsConnector};
use weft::net::{TcpListener, TcpStream};

/// A body frame stream: a weft `AsyncGen`, which is a `futures_core::Stream`.
type Frames = AsyncGen<Result<Frame<Bytes>, Infallible>>;

/// Whole or streamed. (Not boxed: http-body-util's boxes want `Send`, and weft's bodies need
/// not be.)
type Body = Either<Full<Bytes>, StreamBody<Frames>>;

/// A body that arrives in `parts` pieces, a yield apart: weft's `AsyncGen` is a
/// `futures_core::Stream`, which http-body-util turns into a streaming body.
fn streamed(parts: u32) -> Body {
    let frames: Frames = AsyncGen::new(move |co| async move {
        for i in 0..parts {
            weft::task::yield_now().await;
            co.yield_(Ok::<_, Infallible>(Frame::data(Bytes::from(format!(
                "part{i};"
            )))))
            .await?;
        }
        Ok(())
    });
    Either::Right(StreamBody::new(frames))
}

fn full(text: impl Into<Bytes>) -> Body {
    Either::Left(Full::new(text.into()))
}

/// `/` answers a page, `/stream` a body in five parts (chunked), `POST /echo` echoes.
async fn app(request: Request<Incoming>) -> Result<Response<Body>, Infallible> {
    Ok(match request.uri().path() {
        "/stream" => Response::new(streamed(5)),
        "/echo" => {
            let body = request.into_body().collect().await.unwrap().to_bytes();
            Response::new(full(body))
        }
        _ => Response::new(full("hello from weft")),
    })
}

async fn get(
    sender: &mut hyper::client::conn::http1::SendRequest<Body>,
    path: &str,
) -> (Response<()>, Bytes) {
    let request = Request::get(path)
        .header("host", "localhost")
        .body(full(""))
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    let (parts, body) = response.into_parts();
    (
        Response::from_parts(parts, ()),
        body.collect().await.unwrap().to_bytes(),
    )
}

#[test]
fn http1_keep_alive_with_chunked_and_streaming_bodies() {
    weft::run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let connections = Rc::new(Cell::new(0));
        let server = weft::spawn({
            let connections = connections.clone();
            async move {
                loop {
                    let (stream, _) = listener.accept().await.unwrap();
                    connections.set(connections.get() + 1);
                    weft::spawn(async move {
                        hyper::server::conn::http1::Builder::new()
                            .timer(HyperTimer)
                            .serve_connection(HyperIo::new(stream), service_fn(app))
                            .await
                    });
                }
            }
        });
        let stream = TcpStream::connect(addr).await.unwrap();
        let (mut sender, connection) = hyper::client::conn::http1::handshake(HyperIo::new(stream))
            .await
            .unwrap();
        weft::spawn(connection);

        let (response, body) = get(&mut sender, "/").await;
        assert_eq!(response.status(), 200);
        assert_eq!(body, "hello from weft");

        let (response, body) = get(&mut sender, "/stream").await;
        assert_eq!(
            response
                .headers()
                .get("transfer-encoding")
                .map(|v| v.as_bytes()),
            Some(&b"chunked"[..]),
            "a body of unknown length goes out chunked"
        );
        assert_eq!(body, "part0;part1;part2;part3;part4;");

        let request = Request::post("/echo")
            .header("host", "localhost")
            .body(streamed(3))
            .unwrap();
        let response = sender.send_request(request).await.unwrap();
        let echoed = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(
            echoed, "part0;part1;part2;",
            "a streamed request body arrives whole"
        );

        assert_eq!(
            connections.get(),
            1,
            "every request went over one kept-alive connection"
        );
        server.abort();
    });
}

#[test]
fn http2_over_tls_with_alpn() {
    let ca = TestCa::new("test CA");
    let issued = ca.issue(&["localhost"]);
    let ca_path = std::env::temp_dir().join(format!("weft-h2-ca-{}.pem", std::process::id()));
    std::fs::write(&ca_path, ca.cert_pem()).unwrap();
    let connector = TlsConnector::with_ca_file(&ca_path).unwrap().alpn(&[b"h2"]);
    std::fs::remove_file(&ca_path).unwrap();
    let acceptor = TlsAcceptor::from_pem(issued.cert_pem.as_bytes(), issued.key_pem.as_bytes())
        .unwrap()
        .alpn(&[b"h2", b"http/1.1"]);
    weft::run(async move {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = weft::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let tls = acceptor.accept(tcp).await.unwrap();
            assert_eq!(tls.alpn_protocol(), Some(&b"h2"[..]));
            hyper::server::conn::http2::Builder::new(LocalExecutor)
                .timer(HyperTimer)
                .serve_connection(HyperIo::new(tls), service_fn(app))
                .await
        });
        let tls = connector.connect_addr("localhost", addr).await.unwrap();
        let (sender, connection) =
            hyper::client::conn::http2::handshake(LocalExecutor, HyperIo::new(tls))
                .await
                .unwrap();
        weft::spawn(connection);
        // Three requests at once on one connection: HTTP/2 streams.
        let requests = ["/", "/stream", "/"].map(|path| {
            let mut sender = sender.clone();
            weft::spawn(async move {
                let request = Request::get(format!("https://localhost{path}"))
                    .body(full(""))
                    .unwrap();
                let response = sender.send_request(request).await.unwrap();
                assert_eq!(response.version(), hyper::Version::HTTP_2);
                response.into_body().collect().await.unwrap().to_bytes()
            })
        });
        let bodies = weft::task::gather_or_fail(requests).await.unwrap();
        assert_eq!(
            bodies,
            [
                "hello from weft",
                "part0;part1;part2;part3;part4;",
                "hello from weft"
            ]
        );
        drop(sender);
        server.await.unwrap().unwrap();
    });
}

#[weft::test(paused)]
async fn header_read_timeout_closes_a_slow_loris_connection() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = weft::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        hyper::server::conn::http1::Builder::new()
            .timer(HyperTimer)
            .header_read_timeout(Duration::from_millis(200))
            .serve_connection(HyperIo::new(stream), service_fn(app))
            .await
    });
    let started = weft::time::Instant::now();
    let mut client = TcpStream::connect(addr).await.unwrap();
    client
        .write_all(b"GET / HTTP/1.1\r\nHost: loris\r\n")
        .await
        .unwrap(); // never finished
    let mut rest = Vec::new();
    let read = weft::time::timeout(Duration::from_secs(5), client.read_to_end(&mut rest)).await;
    assert!(read.is_ok(), "the server closed the connection");
    // On the paused clock the timeout is exact: the clock jumped to hyper's deadline, not
    // to the test's own 5 s one.
    assert_eq!(started.elapsed(), Duration::from_millis(200));
    assert!(server.await.unwrap().is_err(), "hyper reports the timeout");
}

#[test]
fn a_client_that_drops_mid_body_ends_its_connection_cleanly() {
    weft::run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = weft::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            hyper::server::conn::http1::Builder::new()
                .serve_connection(
                    HyperIo::new(stream),
                    service_fn(|_| async { Ok::<_, Infallible>(Response::new(streamed(100_000))) }),
                )
                .await
        });
        let mut client = TcpStream::connect(addr).await.unwrap();
        client
            .write_all(b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let mut start = [0; 256];
        let n = client.read(&mut start).await.unwrap();
        assert!(start[..n].starts_with(b"HTTP/1.1 200"));
        drop(client); // gone in the middle of the body
        let outcome = weft::time::timeout(Duration::from_secs(5), server).await;
        let served = outcome.expect("the server noticed").expect("no panic");
        assert!(
            served.is_err(),
            "the connection ends with an error, not silently"
        );
    });
}
