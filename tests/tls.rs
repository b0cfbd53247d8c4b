//! weft::net::tls through the public API: a handshake and 10 MiB each way, ALPN and SNI,
//! close_notify against truncation, and every way a handshake fails, each with a clear error
//! within its timeout and without spinning. Certificates are made at test time; both ends run
//! on one thread, over loopback.

use std::time::{Duration, Instant};

use demo_certs::{Issued, TestCa};
use weft::io::{AsyncReadExt, AsyncWriteExt};
use weft::net::tls::{CertificateProblem, TlsAcceptor, TlsConnector};
use weft::net::{TcpListener, TcpStream};

/// A connector that trusts `ca` alone, through a PEM file as a user would give it.
fn connector_trusting(ca: &TestCa) -> TlsConnector {
    let path = std::env::temp_dir().join(format!(
        "weft-tls-test-{}-{:?}.pem",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::write(&path, ca.cert_pem()).unwrap();
    let connector = TlsConnector::with_ca_file(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    connector.handshake_timeout(Duration::from_secs(5))
}

fn acceptor(issued: &Issued) -> TlsAcceptor {
    TlsAcceptor::from_pem(issued.cert_pem.as_bytes(), issued.key_pem.as_bytes())
        .unwrap()
        .handshake_timeout(Duration::from_secs(5))
}

/// The CPU time this thread has used: a handshake that waits must not spin.
fn thread_cpu() -> Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

/// Serves one TLS connection with `acceptor`, echoing until the client closes.
fn spawn_echo_server(
    listener: TcpListener,
    acceptor: TlsAcceptor,
) -> weft::JoinHandle<std::io::Result<()>> {
    weft::spawn(async move {
        let (tcp, _) = listener.accept().await?;
        let mut tls = acceptor.accept(tcp).await?;
        let mut buf = vec![0; 64 * 1024];
        loop {
            let n = tls.read(&mut buf).await?;
            if n == 0 {
                tls.close().await?;
                return Ok(());
            }
            tls.write_all(&buf[..n]).await?;
        }
    })
}

#[test]
fn a_handshake_then_ten_mebibytes_each_way() {
    let ca = TestCa::new("test CA");
    let server = ca.issue(&["localhost"]);
    weft::run(async move {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let serving = spawn_echo_server(listener, acceptor(&server));
        let mut tls = connector_trusting(&ca)
            .connect_addr("localhost", addr)
            .await
            .unwrap();
        let mut echoed = vec![0; 256 * 1024];
        for round in 0..40u32 {
            let chunk: Vec<u8> = (0..256 * 1024u32)
                .map(|i| ((i + round) % 251) as u8)
                .collect();
            tls.write_all(&chunk).await.unwrap();
            tls.read_exact(&mut echoed).await.unwrap();
            assert!(echoed == chunk, "round {round} came back intact");
        }
        tls.close().await.unwrap();
        let mut rest = Vec::new();
        assert_eq!(
            tls.read_to_end(&mut rest).await.unwrap(),
            0,
            "a clean close_notify ends the stream without error"
        );
        serving.await.unwrap().unwrap();
    });
}

#[test]
fn alpn_is_negotiated_and_the_server_sees_the_name_the_client_asked_for() {
    let ca = TestCa::new("test CA");
    let server = ca.issue(&["localhost"]);
    weft::run(async move {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let acceptor = acceptor(&server).alpn(&[b"h2", b"http/1.1"]);
        let serving = weft::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let tls = acceptor.accept(tcp).await.unwrap();
            (
                tls.server_name().map(str::to_owned),
                tls.alpn_protocol().map(<[u8]>::to_vec),
            )
        });
        // The CA from memory this time (Python's cadata=).
        let tls = TlsConnector::with_ca_pem(ca.cert_pem().as_bytes())
            .unwrap()
            .alpn(&[b"http/1.1"])
            .connect_addr("localhost", addr)
            .await
            .unwrap();
        assert_eq!(tls.alpn_protocol(), Some(&b"http/1.1"[..]));
        let (sni, alpn) = serving.await.unwrap();
        assert_eq!(sni.as_deref(), Some("localhost"));
        assert_eq!(alpn.as_deref(), Some(&b"http/1.1"[..]));
    });
}

#[test]
fn a_peer_that_cuts_the_stream_without_close_notify_is_an_unexpected_eof() {
    let ca = TestCa::new("test CA");
    let server = ca.issue(&["localhost"]);
    weft::run(async move {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let acceptor = acceptor(&server);
        let serving = weft::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let mut tls = acceptor.accept(tcp).await.unwrap();
            tls.write_all(b"partial").await.unwrap();
            tls.flush().await.unwrap();
            // Dropped without close(): the TCP connection ends with no close_notify.
        });
        let mut tls = connector_trusting(&ca)
            .connect_addr("localhost", addr)
            .await
            .unwrap();
        serving.await.unwrap();
        let mut got = Vec::new();
        let err = tls.read_to_end(&mut got).await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::UnexpectedEof, "{err}");
        assert_eq!(got, b"partial", "what did arrive is kept");
    });
}

/// Runs a client handshake against `serve` (which gets the accepted TCP connection) and
/// returns the client's error, checking that it came within the 5 s handshake timeout and
/// without burning CPU.
fn handshake_error<F, Fut>(connector: TlsConnector, host: &str, serve: F) -> std::io::Error
where
    F: FnOnce(TcpStream) -> Fut + 'static,
    Fut: std::future::Future<Output = ()> + 'static,
{
    let host = host.to_owned();
    weft::run(async move {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let serving = weft::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            serve(tcp).await;
        });
        let (started, cpu) = (Instant::now(), thread_cpu());
        let err = connector.connect_addr(&host, addr).await.unwrap_err();
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "took {:?}",
            started.elapsed()
        );
        let spent = thread_cpu() - cpu;
        assert!(spent < Duration::from_millis(500), "spun: {spent:?} of CPU");
        serving.abort();
        err
    })
}

/// Serves a proper TLS handshake with `issued`, ignoring its outcome.
fn tls_server(
    issued: Issued,
) -> impl FnOnce(TcpStream) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()>>> {
    move |tcp| {
        Box::pin(async move {
            let _ = acceptor(&issued).accept(tcp).await;
        })
    }
}

#[test]
fn a_certificate_from_an_unknown_ca_is_refused_naming_the_cause() {
    let (trusted, other) = (TestCa::new("trusted"), TestCa::new("stranger"));
    let err = handshake_error(
        connector_trusting(&trusted),
        "localhost",
        tls_server(other.issue(&["localhost"])),
    );
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidData, "{err}");
    assert_eq!(
        CertificateProblem::of(&err),
        Some(CertificateProblem::UnknownIssuer)
    );
    let text = err.to_string();
    assert!(text.contains("a CA this side does not trust"), "{text}");
    assert!(
        text.contains("TlsConnector::with_ca_file"),
        "says what to do: {text}"
    );
    assert!(
        text.contains("UnknownIssuer"),
        "keeps rustls's word: {text}"
    );
}

#[test]
fn a_ca_certificate_presented_as_the_servers_own_is_explained_in_plain_words() {
    // What `openssl req -x509` makes and many test servers use: the client trusts the CA,
    // and the server presents that very CA certificate as its own.
    let ca = TestCa::new("self-signed test server");
    let err = handshake_error(
        connector_trusting(&ca),
        "localhost",
        tls_server(ca.as_server_certificate()),
    );
    assert_eq!(
        CertificateProblem::of(&err),
        Some(CertificateProblem::CaUsedAsServerCertificate),
        "{err}"
    );
    let text = err.to_string();
    assert!(
        text.contains("presented a CA certificate as its own"),
        "{text}"
    );
    assert!(
        text.contains("needs a leaf certificate signed by that CA"),
        "{text}"
    );
}

#[test]
fn a_certificate_for_another_name_is_refused_naming_the_cause() {
    let ca = TestCa::new("test CA");
    let err = handshake_error(
        connector_trusting(&ca),
        "localhost",
        tls_server(ca.issue(&["example.org"])),
    );
    assert!(
        err.to_string().contains("not valid for name \"localhost\""),
        "{err}"
    );
    assert_eq!(
        CertificateProblem::of(&err),
        Some(CertificateProblem::NameMismatch)
    );
}

#[test]
fn an_expired_certificate_is_refused_naming_the_cause() {
    let ca = TestCa::new("test CA");
    let err = handshake_error(
        connector_trusting(&ca),
        "localhost",
        tls_server(ca.issue_expired(&["localhost"])),
    );
    assert!(err.to_string().contains("certificate expired"), "{err}");
    assert_eq!(
        CertificateProblem::of(&err),
        Some(CertificateProblem::Expired)
    );
}

#[test]
fn a_server_that_answers_with_garbage_is_an_error_not_a_hang() {
    let ca = TestCa::new("test CA");
    let err = handshake_error(connector_trusting(&ca), "localhost", |mut tcp| async move {
        let mut hello = [0; 512];
        let _ = tcp.read(&mut hello).await;
        let _ = tcp
            .write_all(b"HTTP/1.1 400 Bad Request\r\n\r\nnot TLS at all")
            .await;
        // Keep the connection open: the client must fail on the bytes, not on EOF.
        weft::time::sleep(Duration::from_secs(60)).await;
    });
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidData, "{err}");
    assert!(
        err.to_string()
            .contains("TLS handshake with localhost failed"),
        "{err}"
    );
}

#[test]
fn a_reset_in_the_middle_of_the_handshake_is_an_error() {
    let ca = TestCa::new("test CA");
    let err = handshake_error(connector_trusting(&ca), "localhost", |mut tcp| async move {
        let mut hello = [0; 512];
        let _ = tcp.read(&mut hello).await; // the ClientHello arrived...
        let socket = socket2::SockRef::from(&tcp);
        socket.set_linger(Some(Duration::ZERO)).unwrap(); // ...and we answer with a reset
    });
    assert!(
        matches!(
            err.kind(),
            std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::UnexpectedEof
        ),
        "{err}"
    );
}

#[test]
fn a_server_that_never_answers_times_out_without_spinning() {
    let ca = TestCa::new("test CA");
    let connector = connector_trusting(&ca).handshake_timeout(Duration::from_millis(200));
    let err = handshake_error(connector, "localhost", |tcp| async move {
        let _held = tcp; // holds the connection open and says nothing
        weft::time::sleep(Duration::from_secs(60)).await;
    });
    assert_eq!(err.kind(), std::io::ErrorKind::TimedOut, "{err}");
    assert!(err.to_string().contains("timed out after 200ms"), "{err}");
}

#[test]
fn bad_inputs_give_clear_errors() {
    let missing = TlsConnector::with_ca_file("/nonexistent/ca.pem").unwrap_err();
    assert!(
        missing.to_string().contains("/nonexistent/ca.pem"),
        "{missing}"
    );
    assert_eq!(missing.kind(), std::io::ErrorKind::NotFound, "{missing}");
    let empty = TlsConnector::with_ca_pem(b"no certificate here").unwrap_err();
    assert_eq!(empty.kind(), std::io::ErrorKind::InvalidInput, "{empty}");
    let not_pem = TlsAcceptor::from_pem(b"not a certificate", b"not a key").unwrap_err();
    assert_eq!(
        not_pem.kind(),
        std::io::ErrorKind::InvalidInput,
        "{not_pem}"
    );
    weft::run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let tcp = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let err = TlsConnector::new()
            .connect("not a host name!", tcp)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput, "{err}");
    });
}

#[test]
fn a_read_takes_every_record_that_has_arrived_not_just_one() {
    let ca = TestCa::new("test CA");
    let server = ca.issue(&["localhost"]);
    weft::run(async move {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let acceptor = acceptor(&server);
        let sent = weft::sync::Event::new();
        let serving = weft::spawn({
            let sent = sent.clone();
            async move {
                let (tcp, _) = listener.accept().await.unwrap();
                let mut tls = acceptor.accept(tcp).await.unwrap();
                tls.write_all(&[7; 64 * 1024]).await.unwrap(); // four 16 KiB records
                tls.flush().await.unwrap();
                sent.set();
                weft::time::sleep(Duration::from_secs(60)).await;
            }
        });
        let mut tls = connector_trusting(&ca)
            .connect_addr("localhost", addr)
            .await
            .unwrap();
        // Over loopback a write lands in the peer's receive queue before it returns, so once
        // the server has flushed, all four records are there to read.
        sent.wait().await;
        let mut buf = vec![0; 64 * 1024];
        let n = tls.read(&mut buf).await.unwrap();
        assert!(
            n > 16 * 1024,
            "one read took {n} bytes: more than one record"
        );
        serving.abort();
    });
}
