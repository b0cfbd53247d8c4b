//! weft::net::http's client against local servers: keep-alive reuse, HTTP/2 multiplexing
//! over TLS, redirects (a loop, the limit, 303's GET), each time limit naming its phase,
//! gzip and deflate, and the hostile cases (an endless body, a slow-loris head, a huge head,
//! a lying Content-Length, a reset), each a clear error within its limit.

use std::cell::{Cell, RefCell};
use std::convert::Infallible;
use std::io::Write as _;
use std::rc::Rc;
use std::time::Duration;

use demo_certs::TestCa;
use demo_hyper::hyper;
use http_body_util::Full;
use hyper::body::Bytes;
use weft::io::{AsyncReadExt, AsyncWriteExt};
use weft::net::http::{Client, ErrorKind, Phase, Version};
use weft::net::hyper::{HyperIo, HyperTimer, LocalExecutor};
use weft::net::tls::{TlsAcceptor, TlsConnector};
use weft::net::{TcpListener, TcpStream};
use weft::time::{Instant, sleep};

/// How a raw server answers one request.
enum Reply {
    /// These bytes, then the next request on the connection.
    Bytes(Vec<u8>),
    /// A chunked body that never ends.
    Endless,
    /// The head one byte at a time, 100 ms apart.
    SlowHead,
    /// The head and half the body, then nothing, the connection kept open.
    StallBody,
    /// These bytes, then the connection closed.
    Short(Vec<u8>),
    /// Nothing, the connection kept open.
    Hang,
    /// The connection closed at once.
    Close,
}

/// A complete response with `status`, extra `headers` and `body`.
fn response(status: &str, headers: &[&str], body: &[u8]) -> Reply {
    let mut out = format!("HTTP/1.1 {status}\r\ncontent-length: {}\r\n", body.len());
    for header in headers {
        out.push_str(header);
        out.push_str("\r\n");
    }
    out.push_str("\r\n");
    let mut out = out.into_bytes();
    out.extend_from_slice(body);
    Reply::Bytes(out)
}

/// What a raw server saw.
#[derive(Default)]
struct Seen {
    accepts: Cell<usize>,
    requests: RefCell<Vec<String>>,
}

/// A raw HTTP/1.1 server on loopback: each request gets `reply(method, path)`. Returns its
/// base URL and what it saw.
async fn raw_server(reply: impl Fn(&str, &str) -> Reply + 'static) -> (String, Rc<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let seen = Rc::new(Seen::default());
    let reply = Rc::new(reply);
    let seen_by_server = seen.clone();
    weft::spawn(async move {
        loop {
            let (conn, _) = listener.accept().await.unwrap();
            seen_by_server.accepts.set(seen_by_server.accepts.get() + 1);
            weft::spawn(serve_raw(conn, reply.clone(), seen_by_server.clone()));
        }
    });
    (base, seen)
}

async fn serve_raw(mut conn: TcpStream, reply: Rc<impl Fn(&str, &str) -> Reply>, seen: Rc<Seen>) {
    let mut buf = Vec::new();
    loop {
        let head_end = loop {
            if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break end + 4;
            }
            let mut chunk = [0; 4096];
            match conn.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
        let length: usize = head
            .lines()
            .find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("content-length:")
                    .map(|v| v.trim().to_owned())
            })
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        while buf.len() < head_end + length {
            let mut chunk = [0; 4096];
            match conn.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        buf.drain(..head_end + length);
        let mut words = head.split_whitespace();
        let (method, path) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
        seen.requests.borrow_mut().push(head.clone());
        match reply(method, path) {
            Reply::Bytes(bytes) => {
                if conn.write_all(&bytes).await.is_err() {
                    return;
                }
            }
            Reply::Endless => {
                let _ = conn
                    .write_all(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
                    .await;
                let chunk = format!("{:x}\r\n{}\r\n", 4096, "x".repeat(4096));
                while conn.write_all(chunk.as_bytes()).await.is_ok() {}
                return;
            }
            Reply::SlowHead => {
                for byte in b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok" {
                    sleep(Duration::from_millis(100)).await;
                    if conn.write_all(&[*byte]).await.is_err() {
                        return;
                    }
                }
            }
            Reply::StallBody => {
                let _ = conn
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nhalf")
                    .await;
                std::future::pending::<()>().await;
            }
            Reply::Short(bytes) => {
                let _ = conn.write_all(&bytes).await;
                return;
            }
            Reply::Hang => std::future::pending::<()>().await,
            Reply::Close => return,
        }
    }
}

#[weft::test(paused)]
async fn sequential_requests_reuse_one_keep_alive_connection() {
    let (base, seen) = raw_server(|_, path| response("200 OK", &[], path.as_bytes())).await;
    let client = Client::new();
    for i in 0..5 {
        let url = format!("{base}/page{i}");
        let body = client.get(&url).send().await.unwrap().text().await.unwrap();
        assert_eq!(body, format!("/page{i}"));
    }
    assert_eq!(seen.accepts.get(), 1, "one connection for five requests");
    assert_eq!(client.connections_opened(), 1);
    let first = &seen.requests.borrow()[0];
    assert!(
        first.contains("host: 127.0.0.1:"),
        "the Host header is set: {first}"
    );
    assert!(
        first.contains("user-agent: weft/"),
        "a User-Agent is sent: {first}"
    );
}

#[weft::test(paused)]
async fn a_hundred_concurrent_requests_share_one_http2_connection() {
    let ca = TestCa::new("http test CA");
    let issued = ca.issue(&["localhost"]);
    let acceptor = TlsAcceptor::from_pem(issued.cert_pem.as_bytes(), issued.key_pem.as_bytes())
        .unwrap()
        .alpn(&[b"h2", b"http/1.1"]);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepts = Rc::new(Cell::new(0));
    let counted = accepts.clone();
    weft::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            counted.set(counted.get() + 1);
            let acceptor = acceptor.clone();
            weft::spawn(async move {
                let tls = acceptor.accept(tcp).await.unwrap();
                let service = hyper::service::service_fn(|request: hyper::Request<_>| async move {
                    let path = request.uri().path().to_owned();
                    Ok::<_, Infallible>(hyper::Response::new(Full::new(Bytes::from(path))))
                });
                let _ = hyper::server::conn::http2::Builder::new(LocalExecutor)
                    .timer(HyperTimer)
                    .serve_connection(HyperIo::new(tls), service)
                    .await;
            });
        }
    });
    let client = Client::builder()
        .tls(TlsConnector::with_ca_pem(ca.cert_pem().as_bytes()).unwrap())
        .build();
    let requests = (0..100).map(|i| {
        let client = client.clone();
        weft::spawn(async move {
            let response = client
                .get(format!("https://localhost:{port}/r{i}"))
                .send()
                .await
                .unwrap();
            assert_eq!(response.version(), Version::HTTP_2);
            response.text().await.unwrap()
        })
    });
    let bodies = weft::task::gather_or_fail(requests).await.unwrap();
    for (i, body) in bodies.iter().enumerate() {
        assert_eq!(body, &format!("/r{i}"));
    }
    assert_eq!(
        accepts.get(),
        1,
        "one TLS connection for a hundred requests"
    );
    assert_eq!(client.connections_opened(), 1);
}

#[weft::test(paused)]
async fn redirects_are_followed_and_a_loop_and_the_limit_refused() {
    let (base, seen) = raw_server(|method, path| match path {
        "/a" => response("302 Found", &["location: /b"], b""),
        "/b" => response("200 OK", &[], b"at b"),
        "/x" => response("301 Moved Permanently", &["location: /y"], b""),
        "/y" => response("307 Temporary Redirect", &["location: /x"], b""),
        "/post" => response("303 See Other", &["location: /landed"], b""),
        "/landed" => response("200 OK", &[], method.as_bytes()),
        chain if chain.starts_with("/r") => {
            let n: u32 = chain[2..].parse().unwrap();
            response("302 Found", &[&format!("location: /r{}", n + 1)], b"")
        }
        _ => response("404 Not Found", &[], b""),
    })
    .await;
    let client = Client::builder().max_redirects(3).build();

    let response = client.get(format!("{base}/a")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.url().path(), "/b");
    assert_eq!(response.redirects().len(), 1);
    assert_eq!(response.text().await.unwrap(), "at b");

    let err = client.get(format!("{base}/x")).send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RedirectLoop, "{err}");
    assert!(err.to_string().contains("redirect loop"), "{err}");

    let err = client.get(format!("{base}/r0")).send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TooManyRedirects, "{err}");
    assert!(err.to_string().contains("max_redirects"), "{err}");

    let response = client
        .post(format!("{base}/post"))
        .body("form=1")
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.text().await.unwrap(),
        "GET",
        "303 turns a POST into a GET"
    );
    assert!(
        seen.requests
            .borrow()
            .iter()
            .any(|r| r.starts_with("POST /post"))
    );
}

#[weft::test(paused)]
async fn each_time_limit_names_its_phase() {
    // Connecting: a server that takes the TCP connection and never says a word of TLS.
    let silent = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = silent.local_addr().unwrap().port();
    weft::spawn(async move {
        let mut held = Vec::new();
        loop {
            held.push(silent.accept().await.unwrap());
        }
    });
    let client = Client::builder()
        .connect_timeout(Duration::from_secs(2))
        .response_timeout(Duration::from_secs(3))
        .build();
    let start = Instant::now();
    let err = client
        .get(format!("https://localhost:{port}/"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        (err.kind(), err.phase()),
        (ErrorKind::Timeout, Some(Phase::Connect)),
        "{err}"
    );
    assert_eq!(start.elapsed(), Duration::from_secs(2));
    assert!(err.to_string().contains("connecting"), "{err}");

    // The response head: a server that reads the request and never answers.
    let (base, _) = raw_server(|_, path| match path {
        "/stall" => Reply::StallBody,
        _ => Reply::Hang,
    })
    .await;
    let start = Instant::now();
    let err = client.get(format!("{base}/hang")).send().await.unwrap_err();
    assert_eq!(err.phase(), Some(Phase::ResponseHead), "{err}");
    assert_eq!(start.elapsed(), Duration::from_secs(3));
    assert!(
        err.to_string().contains("waiting for the response head"),
        "{err}"
    );

    // The whole request: the head comes, the body stops halfway.
    let start = Instant::now();
    let response = client
        .get(format!("{base}/stall"))
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .unwrap();
    let err = response.bytes().await.unwrap_err();
    assert_eq!(err.phase(), Some(Phase::Total), "{err}");
    assert_eq!(start.elapsed(), Duration::from_secs(5));
    assert!(
        err.to_string().contains("/stall"),
        "the error names the URL: {err}"
    );
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

#[weft::test(paused)]
async fn gzip_and_deflate_bodies_are_decompressed() {
    let text = "a body worth compressing, ".repeat(100);
    let (gz, zl) = (gzip(text.as_bytes()), zlib(text.as_bytes()));
    let (base, seen) = raw_server(move |_, path| match path {
        "/gzip" => response("200 OK", &["content-encoding: gzip"], &gz),
        "/deflate" => response("200 OK", &["content-encoding: deflate"], &zl),
        _ => response("200 OK", &["content-encoding: gzip"], b"not gzip at all"),
    })
    .await;
    let client = Client::new();
    for path in ["/gzip", "/deflate"] {
        let body = client.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(body.text().await.unwrap(), text, "{path}");
    }
    assert!(seen.requests.borrow()[0].contains("accept-encoding: gzip, deflate"));
    let err = client
        .get(format!("{base}/broken"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode, "{err}");
    // Asked not to, the client hands the bytes over as they came.
    let raw = Client::builder().decompress(false).build();
    let body = raw
        .get(format!("{base}/gzip"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(body, gzip(text.as_bytes()));
}

#[weft::test(paused)]
async fn a_hostile_server_gets_a_clear_error_within_each_limit() {
    let huge = format!("x-huge: {}", "h".repeat(100 * 1024));
    let (base, _) = raw_server(move |_, path| match path {
        "/endless" => Reply::Endless,
        "/slow" => Reply::SlowHead,
        "/huge" => response("200 OK", &[&huge], b""),
        "/liar" => {
            Reply::Short(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly ten b".to_vec())
        }
        _ => Reply::Close,
    })
    .await;
    let client = Client::builder()
        .max_body_bytes(64 * 1024)
        .max_header_bytes(16 * 1024)
        .response_timeout(Duration::from_secs(1))
        .build();

    let response = client.get(format!("{base}/endless")).send().await.unwrap();
    let err = response.bytes().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BodyTooLarge, "{err}");
    assert!(err.to_string().contains("max_body_bytes"), "{err}");

    let start = Instant::now();
    let err = client.get(format!("{base}/slow")).send().await.unwrap_err();
    assert_eq!(err.phase(), Some(Phase::ResponseHead), "{err}");
    assert_eq!(start.elapsed(), Duration::from_secs(1));

    let err = client.get(format!("{base}/huge")).send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::HeaderTooLarge, "{err}");

    // Ten bytes of the hundred its Content-Length promised, then the connection closed.
    let response = client.get(format!("{base}/liar")).send().await.unwrap();
    let err = response.bytes().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Reset, "{err}");
    assert!(err.to_string().contains("/liar"), "{err}");

    let err = client
        .get(format!("{base}/reset"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Reset, "{err}");
    assert!(err.to_string().contains("/reset"), "{err}");
}

#[weft::test]
async fn a_url_that_cannot_be_requested_is_refused_at_once() {
    let client = Client::new();
    for url in ["not a url", "ftp://example.com/", "http://"] {
        let err = client.get(url).send().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidUrl, "{url}: {err}");
    }
    let err = client
        .get("http://example.com/")
        .header("bad name", "v")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Request, "{err}");
}

#[weft::test(time_limit = "30s")]
async fn the_readme_health_checker_tells_up_from_down() {
    let (base, _) = raw_server(|_, path| match path {
        "/ok" => response("200 OK", &[], b"fine"),
        "/broken" => response("500 Internal Server Error", &[], b""),
        "/slow" => Reply::Hang,
        _ => Reply::Close,
    })
    .await;
    let refused = {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        format!("http://{}/", listener.local_addr().unwrap())
    };
    let mut urls: Vec<String> = ["/ok", "/broken", "/slow", "/reset"]
        .iter()
        .map(|path| format!("{base}{path}"))
        .collect();
    urls.push(refused.clone());
    let start = std::time::Instant::now();
    let output = weft::process::Command::new(test_support::example_binary("health_check"))
        .args(&urls)
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    let line = |url: &str| {
        stdout
            .lines()
            .find(|l| l.starts_with(&format!("{url}: ")))
            .unwrap_or_else(|| panic!("no line for {url} in:\n{stdout}"))
            .to_owned()
    };
    assert_eq!(line(&urls[0]), format!("{}: 200 OK", urls[0]));
    assert_eq!(
        line(&urls[1]),
        format!("{}: 500 Internal Server Error", urls[1])
    );
    assert!(
        line(&urls[2]).contains("DOWN: ") && line(&urls[2]).contains("timeout"),
        "{stdout}"
    );
    assert!(
        line(&urls[3]).contains("DOWN: ") && line(&urls[3]).contains("reset"),
        "{stdout}"
    );
    assert!(
        line(&refused).contains("DOWN: ") && line(&refused).contains("connect"),
        "{stdout}"
    );
    // All at once: the slow one's second is the whole run's, not one more per URL.
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "took {:?}",
        start.elapsed()
    );
}

#[test]
fn the_readme_shows_the_health_checkers_main_word_for_word() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let example = std::fs::read_to_string(root.join("examples/health_check.rs")).unwrap();
    let start = readme
        .find("#[weft::main]")
        .expect("the README shows a main");
    let shown = &readme[start..start + readme[start..].find("```").unwrap()];
    assert!(
        example.contains(shown.trim_end()),
        "README.md's health checker differs from examples/health_check.rs:\n{shown}"
    );
}

#[weft::test(paused)]
async fn a_refused_connection_and_an_untrusted_certificate_say_so() {
    let refused = {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        listener.local_addr().unwrap()
    };
    let client = Client::new();
    let err = client
        .get(format!("http://{refused}/"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Connect, "{err}");
    assert!(err.to_string().contains("refused"), "{err}");

    // A server whose certificate a private CA signed, and a client that trusts only the
    // webpki roots.
    let ca = TestCa::new("untrusted CA");
    let issued = ca.issue(&["localhost"]);
    let acceptor =
        TlsAcceptor::from_pem(issued.cert_pem.as_bytes(), issued.key_pem.as_bytes()).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    weft::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let _ = acceptor.accept(tcp).await;
    });
    let err = client
        .get(format!("https://localhost:{port}/"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Tls, "{err}");
    assert_eq!(
        err.certificate_problem(),
        Some(weft::net::tls::CertificateProblem::UnknownIssuer),
        "{err}"
    );
    assert!(
        err.to_string().contains("with_ca_file"),
        "the error says what to do: {err}"
    );
}
