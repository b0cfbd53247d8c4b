//! weft::sim through the public API: hosts that talk through weft's own TCP types and
//! lookup_host, unchanged; latency that shows on the virtual clock; backpressure, half close,
//! refusal and resets; a partition that holds bytes back until it heals, and a connect across
//! one that times out; a server that crashes and restarts while a client retries; hyper and
//! TLS across hosts with no change to their code; the same seed giving the same run; and a
//! failing seed whose replay line reproduces the failure.

use demo_hyper::hyper;
use std::cell::Cell;
use std::convert::Infallible;
use std::io::ErrorKind;
use std::rc::Rc;
use std::time::Duration;

use demo_certs::TestCa;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::service::service_fn;
use hyper::{Request, Response};
use weft::io::{AsyncReadExt, AsyncWriteExt};
use weft::net::hyper::{HyperIo, HyperTimer};
use weft::net::tls::{TlsAcceptor, TlsConnector};
use weft::net::{TcpListener, TcpStream};
use weft::sim::{Sim, SimReport};
use weft::time::{Instant, sleep, timeout};

type Failure = Box<dyn std::error::Error>;

/// An echo server on port 7 of the host it runs on.
async fn echo_server() {
    let listener = TcpListener::bind("0.0.0.0:7").await.unwrap();
    loop {
        let (mut conn, _) = listener.accept().await.unwrap();
        weft::spawn(async move {
            let mut buf = [0; 1024];
            while let Ok(n @ 1..) = conn.read(&mut buf).await {
                if conn.write_all(&buf[..n]).await.is_err() {
                    break;
                }
            }
        });
    }
}

#[test]
fn a_crashed_server_answers_nothing() {
    let mut sim = Sim::new(7).latency(Duration::from_millis(50));
    sim.host("server", echo_server);
    sim.client("client", async {
        let mut conn = TcpStream::connect("server:7").await?;
        weft::sim::crash("server"); // or partition("client", "server"), heal, restart
        conn.write_all(b"ping").await?;
        let silent = timeout(Duration::from_secs(5), conn.read(&mut [0; 4])).await;
        assert!(silent.is_err(), "a crashed host answers nothing");
        Ok::<_, std::io::Error>(())
    });
    // A failure prints its seed and the command that replays it.
    sim.run().unwrap();
}

#[test]
fn the_readme_shows_the_crash_test_word_for_word() {
    let source = include_str!("sim.rs");
    let start = source
        .find("#[test]\nfn a_crashed_server_answers_nothing")
        .unwrap();
    let end = start + source[start..].find("\n}\n").unwrap() + 3;
    let readme = include_str!("../README.md");
    assert!(
        readme.contains(&source[start..end]),
        "README.md lacks, word for word:\n{}",
        &source[start..end]
    );
}

#[test]
fn latency_shows_on_the_virtual_clock_and_names_resolve_to_hosts() {
    let mut sim = Sim::new(1).latency(Duration::from_millis(40));
    sim.host("server", echo_server);
    sim.client("client", async {
        let addrs = weft::net::lookup_host(("server", 7)).await?;
        assert_eq!(addrs, vec!["10.0.0.1:7".parse()?]);
        let started = Instant::now();
        let mut conn = TcpStream::connect("server:7").await?;
        assert_eq!(
            started.elapsed(),
            Duration::from_millis(80),
            "SYN and SYN-ACK"
        );
        assert_eq!(conn.peer_addr()?, "10.0.0.1:7".parse()?);
        assert_eq!(conn.local_addr()?.ip(), weft::sim::ip("client").unwrap());
        conn.write_all(b"hello").await?;
        let mut reply = [0; 5];
        conn.read_exact(&mut reply).await?;
        assert_eq!(&reply, b"hello");
        assert_eq!(started.elapsed(), Duration::from_millis(160));
        let err = weft::net::lookup_host("nowhere:80").await.unwrap_err();
        assert!(err.to_string().contains("no simulated host"), "{err}");
        Ok::<_, Failure>(())
    });
    let report = sim.run().unwrap();
    assert_eq!(report.elapsed, Duration::from_millis(160));
}

#[test]
fn refused_half_closed_reset_and_backpressure_behave_as_on_linux() {
    let mut sim = Sim::new(2).latency(Duration::from_millis(5));
    let sink_read = Rc::new(Cell::new(false));
    let server_sink_read = sink_read.clone();
    sim.host("server", move || {
        let sink_read = server_sink_read.clone();
        async move {
            let listener = TcpListener::bind("0.0.0.0:9").await.unwrap();
            // 1: reads to the end, then answers and closes (half close).
            let (mut conn, _) = listener.accept().await.unwrap();
            let mut all = Vec::new();
            conn.read_to_end(&mut all).await.unwrap();
            conn.write_all(format!("{} bytes", all.len()).as_bytes())
                .await
                .unwrap();
            drop(conn);
            // 2: never reads until told, so the client's writes back up.
            let (mut conn, _) = listener.accept().await.unwrap();
            sleep(Duration::from_secs(10)).await;
            sink_read.set(true);
            let mut buf = vec![0; 1 << 20];
            while conn.read(&mut buf).await.unwrap() > 0 {}
            // 3: closes with bytes unread: the client sees a reset.
            let (conn, _) = listener.accept().await.unwrap();
            sleep(Duration::from_secs(1)).await;
            drop(conn);
            std::future::pending::<()>().await;
        }
    });
    sim.client("client", async move {
        let err = TcpStream::connect("server:10").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "{err}");

        let mut conn = TcpStream::connect("server:9").await?;
        conn.write_all(&[1; 3000]).await?;
        conn.shutdown(std::net::Shutdown::Write)?;
        let mut answer = Vec::new();
        conn.read_to_end(&mut answer).await?;
        assert_eq!(answer, b"3000 bytes");

        let started = Instant::now();
        let mut conn = TcpStream::connect("server:9").await?;
        conn.write_all(&vec![2; 4 << 20]).await?;
        assert!(
            sink_read.get(),
            "4 MiB fit in no window: the writes waited for the reader"
        );
        assert!(started.elapsed() >= Duration::from_secs(10));
        drop(conn);

        let mut conn = TcpStream::connect("server:9").await?;
        conn.write_all(b"unread").await?;
        let mut buf = [0; 8];
        let err = conn.read(&mut buf).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionReset, "{err}");
        Ok::<_, Failure>(())
    });
    sim.run().unwrap();
}

#[test]
fn a_partition_holds_bytes_back_until_it_heals_and_a_connect_across_it_times_out() {
    let mut sim = Sim::new(3).latency(Duration::from_millis(10));
    sim.host("server", echo_server);
    sim.client("client", async {
        let mut conn = TcpStream::connect("server:7").await?;
        weft::sim::partition("client", "server");
        let cut_at = Instant::now();
        conn.write_all(b"held").await?;
        weft::spawn(async {
            sleep(Duration::from_secs(30)).await;
            weft::sim::heal("client", "server");
        });
        let mut reply = [0; 4];
        conn.read_exact(&mut reply).await?;
        assert_eq!(&reply, b"held");
        let waited = cut_at.elapsed();
        assert!(
            waited >= Duration::from_secs(30) && waited < Duration::from_secs(31),
            "delivered after the heal, within a retransmission: {waited:?}"
        );

        weft::sim::partition("client", "server");
        let started = Instant::now();
        let err = TcpStream::connect_timeout("server:7", Duration::from_secs(5))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TimedOut, "{err}");
        assert_eq!(started.elapsed(), Duration::from_secs(5));
        let started = Instant::now();
        let err = TcpStream::connect("server:7").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TimedOut, "{err}");
        assert_eq!(
            started.elapsed(),
            Duration::from_secs(127),
            "Linux's 7 SYNs"
        );
        Ok::<_, Failure>(())
    });
    sim.run().unwrap();
}

#[test]
fn a_server_crashes_and_restarts_while_a_client_retries() {
    let mut sim = Sim::new(4).latency(Duration::from_millis(20));
    let starts = Rc::new(Cell::new(0));
    let counted = starts.clone();
    sim.host("server", move || {
        counted.set(counted.get() + 1);
        echo_server()
    });
    sim.client("chaos", async {
        sleep(Duration::from_secs(1)).await;
        let ended = weft::sim::crash("server");
        assert!(
            ended >= 2,
            "the listener's task and a connection's: {ended}"
        );
        sleep(Duration::from_secs(10)).await;
        weft::sim::restart("server");
        Ok::<_, Failure>(())
    });
    sim.client("client", async {
        let mut conn = TcpStream::connect("server:7").await?;
        conn.write_all(b"before").await?;
        let mut buf = [0; 6];
        conn.read_exact(&mut buf).await?;
        sleep(Duration::from_secs(2)).await;
        // Crashed: silence, not a FIN or a reset.
        conn.write_all(b"lost").await?;
        let silent = timeout(Duration::from_secs(3), conn.read(&mut buf)).await;
        assert!(
            silent.is_err(),
            "a crashed host answers nothing: {silent:?}"
        );
        // Restarted: the old connection is reset by the host's new life...
        sleep(Duration::from_secs(8)).await;
        conn.write_all(b"again").await?;
        let err = conn.read(&mut buf).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionReset, "{err}");
        // ... and a new one works.
        let mut conn = TcpStream::connect("server:7").await?;
        conn.write_all(b"after!").await?;
        conn.read_exact(&mut buf).await?;
        assert_eq!(&buf, b"after!");
        Ok::<_, Failure>(())
    });
    sim.run().unwrap();
    assert_eq!(starts.get(), 2, "main ran again on restart");
}

#[test]
fn a_live_connection_reset_on_demand_is_a_reset_on_both_sides() {
    let mut sim = Sim::new(9).latency(Duration::from_millis(5));
    sim.host("server", || async {
        let listener = TcpListener::bind("0.0.0.0:7").await.unwrap();
        let (mut conn, _) = listener.accept().await.unwrap();
        let mut buf = [0; 4];
        let err = conn.read(&mut buf).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionReset, "{err}");
        std::future::pending::<()>().await;
    });
    sim.client("client", async {
        let mut conn = TcpStream::connect("server:7").await?;
        let other = TcpStream::connect("server:7").await?;
        assert_eq!(weft::sim::reset("client", "server"), 2);
        let mut buf = [0; 4];
        let err = conn.read(&mut buf).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionReset, "{err}");
        let err = conn.write_all(b"more").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionReset, "{err}");
        drop(other);
        assert_eq!(
            weft::sim::reset("client", "server"),
            0,
            "none left to reset"
        );
        Ok::<_, Failure>(())
    });
    sim.run().unwrap();
}

#[test]
fn a_paused_server_does_nothing_until_resumed_while_bytes_wait_for_it() {
    let mut sim = Sim::new(8).latency(Duration::from_millis(10));
    let ticks = Rc::new(Cell::new(0));
    let counted = ticks.clone();
    sim.host("server", move || {
        let counted = counted.clone();
        async move {
            weft::spawn(async move {
                loop {
                    sleep(Duration::from_secs(1)).await;
                    counted.set(counted.get() + 1);
                }
            });
            echo_server().await;
        }
    });
    sim.client("client", async move {
        let mut conn = TcpStream::connect("server:7").await?;
        sleep(Duration::from_millis(500)).await;
        weft::sim::pause("server");
        let paused_at = Instant::now();
        let ticks_then = ticks.get();
        weft::spawn(async {
            sleep(Duration::from_secs(30)).await;
            weft::sim::resume("server");
        });
        conn.write_all(b"wake").await?;
        let mut reply = [0; 4];
        conn.read_exact(&mut reply).await?;
        assert_eq!(&reply, b"wake");
        let waited = paused_at.elapsed();
        assert!(
            waited >= Duration::from_secs(30) && waited < Duration::from_millis(30_100),
            "answered once resumed: {waited:?}"
        );
        assert!(
            ticks.get() <= ticks_then + 1,
            "no tick while paused, one late on resume: {} then {}",
            ticks_then,
            ticks.get()
        );
        Ok::<_, Failure>(())
    });
    sim.run().unwrap();
}

#[test]
fn hyper_client_and_server_across_two_hosts_with_latency() {
    let mut sim = Sim::new(5).latency(Duration::from_millis(25));
    sim.host("web", || async {
        let listener = TcpListener::bind("0.0.0.0:80").await.unwrap();
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            weft::spawn(async move {
                let service = service_fn(|request: Request<hyper::body::Incoming>| async move {
                    let body = format!("you asked for {}", request.uri().path());
                    Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(body))))
                });
                hyper::server::conn::http1::Builder::new()
                    .timer(HyperTimer)
                    .serve_connection(HyperIo::new(stream), service)
                    .await
            });
        }
    });
    sim.client("browser", async {
        let started = Instant::now();
        let stream = TcpStream::connect("web:80").await?;
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(HyperIo::new(stream)).await?;
        weft::spawn(connection);
        for path in ["/a", "/b"] {
            let request = Request::get(path)
                .header("host", "web")
                .body(Full::new(Bytes::new()))?;
            let response = sender.send_request(request).await?;
            assert_eq!(response.status(), 200);
            let body = response.into_body().collect().await?.to_bytes();
            assert_eq!(body, format!("you asked for {path}"));
        }
        assert_eq!(
            started.elapsed(),
            Duration::from_millis(150),
            "one round trip to connect, one per request, on one kept-alive connection"
        );
        Ok::<_, Failure>(())
    });
    sim.run().unwrap();
}

#[test]
fn tls_across_a_partition_that_heals() {
    let ca = TestCa::new("weft sim test CA");
    let issued = ca.issue(&["vault"]);
    let acceptor =
        TlsAcceptor::from_pem(issued.cert_pem.as_bytes(), issued.key_pem.as_bytes()).unwrap();
    let connector = TlsConnector::with_ca_pem(ca.cert_pem().as_bytes()).unwrap();
    let mut sim = Sim::new(6).latency(Duration::from_millis(15));
    sim.host("vault", move || {
        let acceptor = acceptor.clone();
        async move {
            let listener = TcpListener::bind("0.0.0.0:443").await.unwrap();
            loop {
                let (tcp, _) = listener.accept().await.unwrap();
                // A handshake cut off for too long times out; the next one is served.
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    continue;
                };
                let mut line = [0; 6];
                tls.read_exact(&mut line).await.unwrap();
                tls.write_all(&line).await.unwrap();
                tls.flush().await.unwrap();
            }
        }
    });
    sim.client("teller", async move {
        // Cut off for longer than a handshake may take: a clear time-out.
        let tcp = TcpStream::connect("vault:443").await?;
        weft::sim::partition("teller", "vault");
        let err = connector.connect("vault", tcp).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TimedOut, "{err}");
        assert!(
            err.to_string().contains("TLS handshake with vault"),
            "{err}"
        );
        weft::sim::heal("teller", "vault");
        // Cut off for a while: the handshake waits it out.
        let tcp = TcpStream::connect("vault:443").await?;
        weft::sim::partition("teller", "vault");
        weft::spawn(async {
            sleep(Duration::from_secs(5)).await;
            weft::sim::heal("teller", "vault");
        });
        let started = Instant::now();
        let mut tls = connector.connect("vault", tcp).await?;
        assert!(
            started.elapsed() >= Duration::from_secs(5),
            "the handshake waited"
        );
        tls.write_all(b"secret").await?;
        tls.flush().await?;
        let mut echoed = [0; 6];
        tls.read_exact(&mut echoed).await?;
        assert_eq!(&echoed, b"secret");
        Ok::<_, Failure>(())
    });
    sim.run().unwrap();
}

#[test]
fn udp_datagrams_are_lost_and_reordered_as_the_seed_says() {
    let run = |seed| {
        let mut sim = Sim::new(seed)
            .latency(Duration::from_millis(10))
            .jitter(Duration::from_millis(8))
            .udp_loss(0.2);
        let heard = Rc::new(std::cell::RefCell::new(Vec::new()));
        let server_heard = heard.clone();
        sim.host("sink", move || {
            let heard = server_heard.clone();
            async move {
                let socket = weft::net::UdpSocket::bind("0.0.0.0:53").await.unwrap();
                let mut buf = [0; 8];
                loop {
                    let (n, from) = socket.recv_from(&mut buf).await.unwrap();
                    assert_eq!(from.ip(), weft::sim::ip("source").unwrap());
                    heard.borrow_mut().push(buf[..n][0]);
                }
            }
        });
        sim.client("source", async {
            let socket = weft::net::UdpSocket::bind("0.0.0.0:0").await?;
            for i in 0..200u8 {
                assert_eq!(
                    socket.send_to(&[i], "sink:53").await?,
                    1,
                    "sending never waits"
                );
            }
            // No one listens on port 54: the datagram is dropped, not an error.
            socket.send_to(b"x", "sink:54").await?;
            sleep(Duration::from_secs(1)).await;
            Ok::<_, Failure>(())
        });
        let report = sim.run().unwrap();
        let heard = heard.borrow().clone();
        (heard, report)
    };
    let (heard, report) = run(21);
    let lost = 200 - heard.len();
    assert!((20..=60).contains(&lost), "about a fifth lost: {lost}");
    let mut sorted = heard.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), heard.len(), "none twice");
    assert_ne!(sorted, heard, "jitter reorders datagrams");
    assert_eq!(
        run(21),
        (heard, report),
        "the same seed loses and reorders the same ones"
    );
}

/// How many of 100 calls of one fault point fire in a simulation with `seed`.
fn faults(seed: u64) -> usize {
    let fired = Rc::new(Cell::new(0));
    let counted = fired.clone();
    let mut sim = Sim::new(seed);
    sim.client("app", async move {
        for _ in 0..100 {
            if weft::buggify!() {
                counted.set(counted.get() + 1);
            }
        }
        Ok::<_, Failure>(())
    });
    sim.run().unwrap();
    fired.get()
}

#[test]
fn buggify_fires_at_armed_sites_as_the_seed_says_and_never_outside_a_simulation() {
    let runs: Vec<usize> = (0..40).map(faults).collect();
    let armed = runs.iter().filter(|&&n| n > 0).count();
    assert!(
        (4..=20).contains(&armed),
        "about a quarter of runs arm the site: {runs:?}"
    );
    for &n in runs.iter().filter(|&&n| n > 0) {
        assert!(
            (10..=45).contains(&n),
            "an armed site fires about 1 time in 4: {runs:?}"
        );
    }
    assert_eq!(
        runs,
        (0..40).map(faults).collect::<Vec<_>>(),
        "the same seeds, the same faults"
    );
    weft::run(async {
        assert!(
            (0..1000).all(|_| !weft::buggify!()),
            "outside a simulation: never"
        );
    });
}

/// Ten clients with jitter against an echo server, each sending a few messages.
fn busy(seed: u64) -> Result<SimReport, weft::sim::SimError> {
    let mut sim = Sim::new(seed)
        .latency(Duration::from_millis(30))
        .jitter(Duration::from_millis(20))
        .bandwidth(1_000_000);
    sim.host("server", echo_server);
    for c in 0..10 {
        sim.client(&format!("client{c}"), async move {
            let mut conn = TcpStream::connect("server:7").await?;
            for round in 0..5 {
                let message = vec![c as u8; 100 * (round + 1)];
                conn.write_all(&message).await?;
                let mut back = vec![0; message.len()];
                conn.read_exact(&mut back).await?;
                assert_eq!(back, message);
            }
            Ok::<_, Failure>(())
        });
    }
    sim.run()
}

#[test]
fn the_same_seed_gives_the_same_run_event_for_event() {
    let first = busy(11).unwrap();
    let second = busy(11).unwrap();
    assert_eq!(first, second);
    assert!(first.events > 100, "{first:?}");
    let other = busy(12).unwrap();
    assert_ne!(first.hash, other.hash, "another seed, another run");
}

/// Fails for the seeds whose jitter makes the first round trip slower than 130 ms.
fn picky(seed: u64) -> Result<SimReport, weft::sim::SimError> {
    let mut sim = Sim::new(seed)
        .latency(Duration::from_millis(30))
        .jitter(Duration::from_millis(20));
    sim.host("server", echo_server);
    sim.client("client", async {
        let started = Instant::now();
        let mut conn = TcpStream::connect("server:7").await?;
        conn.write_all(b"x").await?;
        let mut back = [0; 1];
        conn.read_exact(&mut back).await?;
        let took = started.elapsed();
        if took > Duration::from_millis(130) {
            return Err(format!("too slow: {took:?}").into());
        }
        Ok::<_, Failure>(())
    });
    sim.run()
}

/// Runs `picky` with the seed in `WEFT_SIM_SEED`; what the replay line runs.
#[test]
fn replayed() {
    if std::env::var("WEFT_SIM_SEED").is_err() {
        return;
    }
    match picky(0) {
        Ok(_) => println!("REPLAY passed"),
        Err(err) => println!("REPLAY failed: {}", err.error),
    }
}

#[test]
fn a_failing_seed_prints_a_replay_line_that_reproduces_the_failure() {
    let err = (0..100)
        .find_map(|seed| picky(seed).err())
        .expect("some seed's jitter is slow enough");
    let text = err.to_string();
    assert!(text.contains(&format!("seed {}", err.seed)), "{text}");
    assert!(text.contains("client \"client\": too slow"), "{text}");
    let replay = format!(
        "WEFT_SIM_SEED={} cargo test -- --exact a_failing_seed_prints_a_replay_line_that_reproduces_the_failure",
        err.seed
    );
    assert!(text.contains(&replay), "{text}");
    // The line's seed, given to the same simulation in a fresh process, fails the same way.
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "replayed", "--nocapture", "--test-threads=1"])
        .env("WEFT_SIM_SEED", err.seed.to_string())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains(&format!("REPLAY failed: {}", err.error)),
        "{stdout}"
    );
}

/// `sim_crawl`'s report, without its last line (the real time it took).
fn simulated_crawl(args: &[&str]) -> (Option<i32>, String, String) {
    let output = std::process::Command::new(test_support::example_binary("sim_crawl"))
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let report: Vec<&str> = stdout
        .lines()
        .filter(|line| !line.starts_with("real time"))
        .collect();
    (
        output.status.code(),
        report.join("\n"),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn the_simulated_crawl_prints_the_same_numbers_for_the_same_seed() {
    let args = |seed| ["--seed", seed, "--hosts", "40", "--minutes", "30"];
    let (code, first, stderr) = simulated_crawl(&args("5"));
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        first.contains("40 hosts (4 slow, 2 crashing, 2 cut off for a while)"),
        "{first}"
    );
    assert!(
        first.contains("3 rounds: "),
        "a crawl every ten minutes: {first}"
    );
    let (_, second, _) = simulated_crawl(&args("5"));
    assert_eq!(first, second, "the same seed, the same run");
    let (_, other, _) = simulated_crawl(&args("6"));
    assert_ne!(first, other, "another seed, another run");
    let (code, _, stderr) = simulated_crawl(&["--hosts", "0"]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("at least 1"), "{stderr}");
}

/// A small simulation, run by the test below in a process of its own with `WEFT_TRACE` set.
#[test]
fn traced() {
    if std::env::var("WEFT_TRACE").is_err() {
        return;
    }
    let mut sim = Sim::new(3).latency(Duration::from_millis(5));
    sim.host("server", echo_server);
    sim.client("client", async {
        let mut conn = TcpStream::connect("server:7").await?;
        conn.write_all(b"hi").await?;
        let mut back = [0; 2];
        conn.read_exact(&mut back).await?;
        Ok::<_, Failure>(())
    });
    sim.run().unwrap();
}

#[test]
fn weft_trace_inside_a_simulation_draws_each_host_s_tasks_together() {
    let path = std::env::temp_dir().join(format!("weft-sim-trace-{}.json", std::process::id()));
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "traced", "--test-threads=1"])
        .env("WEFT_TRACE", &path)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let json = std::fs::read(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    let doc = test_support::check_chrome_trace(&json);
    let mut tracks: Vec<(u64, String)> = doc["traceEvents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["name"] == "thread_name")
        .map(|e| {
            (
                e["tid"].as_u64().unwrap(),
                e["args"]["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let order: std::collections::HashMap<u64, u64> = doc["traceEvents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["name"] == "thread_sort_index")
        .map(|e| {
            (
                e["tid"].as_u64().unwrap(),
                e["args"]["sort_index"].as_u64().unwrap(),
            )
        })
        .collect();
    tracks.sort_by_key(|(tid, _)| order[tid]);
    let names: Vec<&str> = tracks.iter().map(|(_, name)| name.as_str()).collect();
    let host = names
        .iter()
        .position(|n| n.starts_with("task #") && n.contains(" host server "))
        .unwrap_or_else(|| panic!("a track for the server host's main task: {names:#?}"));
    let members = names[host + 1..]
        .iter()
        .take_while(|n| n.starts_with("host server \u{203a} task #"))
        .count();
    assert!(
        members >= 1,
        "the server's connection task drawn right under its host: {names:#?}"
    );
    assert!(
        names.iter().any(|n| n.contains(" client client ")),
        "the client host's track: {names:#?}"
    );
}
