//! The async DNS stub resolver: against fake servers that misbehave on purpose, and against a
//! real dnsmasq on loopback (started here; `.ci/run` installs it).

use std::cell::Cell;
use std::io::{BufRead, BufReader};
use std::net::{IpAddr, SocketAddr};
use std::process::{Child, Command, Stdio};
use std::rc::Rc;
use std::time::Duration;

use test_support::dns::{Record, answers_a, question, reply};
use weft::io::{AsyncReadExt, AsyncWriteExt};
use weft::net::{Resolver, ResolverConfig, TcpListener, TcpStream, UdpSocket};

/// A fake nameserver on loopback: `answer` maps each query to the datagrams sent back.
/// Returns its address and a counter of queries received.
async fn fake_server(
    answer: impl Fn(&[u8]) -> Vec<Vec<u8>> + 'static,
) -> (SocketAddr, Rc<Cell<usize>>) {
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = socket.local_addr().unwrap();
    (addr, serve_udp(socket, answer))
}

/// Like [`fake_server`], with a TCP listener on the same port for the caller to serve. The
/// kernel picks a free TCP port, which a UDP socket (another test's) may hold: then another.
async fn fake_server_and_listener(
    answer: impl Fn(&[u8]) -> Vec<Vec<u8>> + 'static,
) -> (SocketAddr, TcpListener) {
    for _ in 0..20 {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        if let Ok(socket) = UdpSocket::bind(addr).await {
            serve_udp(socket, answer);
            return (addr, listener);
        }
    }
    panic!("no loopback port was free for both TCP and UDP in 20 tries");
}

/// Answers each datagram on `socket` with `answer`'s datagrams; returns the query count.
fn serve_udp(
    socket: UdpSocket,
    answer: impl Fn(&[u8]) -> Vec<Vec<u8>> + 'static,
) -> Rc<Cell<usize>> {
    let queries = Rc::new(Cell::new(0));
    let counter = queries.clone();
    weft::spawn(async move {
        let mut buf = [0u8; 512];
        loop {
            let (n, from) = socket.recv_from(&mut buf).await.unwrap();
            counter.set(counter.get() + 1);
            for datagram in answer(&buf[..n]) {
                socket.send_to(&datagram, from).await.unwrap();
            }
        }
    });
    queries
}

fn resolver(servers: &[SocketAddr]) -> Resolver {
    let config = ResolverConfig::with_nameservers(servers.iter().copied())
        .timeout(Duration::from_millis(300))
        .attempts(2);
    Resolver::new(config)
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[test]
fn a_and_aaaa_are_both_returned_ipv4_first() {
    weft::run(async {
        let (server, _) = fake_server(|q| {
            let (name, rtype) = question(q);
            let mut v6 = [0u8; 16];
            v6[15] = 1;
            let record = if rtype == 1 {
                Record::A(&name, [10, 0, 0, 1], 60)
            } else {
                Record::Aaaa(&name, v6, 60)
            };
            vec![reply(q, 0x8180, &[record])]
        })
        .await;
        let ips = resolver(&[server])
            .lookup_ip("www.example.test")
            .await
            .unwrap();
        assert_eq!(ips, [ip("10.0.0.1"), ip("::1")]);
    });
}

#[test]
fn cname_chains_are_followed_within_a_reply_and_across_replies() {
    weft::run(async {
        let (server, _) = fake_server(|q| {
            let (name, rtype) = question(q);
            let records = match (name.as_str(), rtype) {
                // alias -> mid, with no address in this reply: the resolver asks for mid.
                ("alias.test", _) => vec![Record::Cname("alias.test", "mid.test", 60)],
                ("mid.test", 1) => vec![
                    Record::Cname("mid.test", "WWW.test", 60),
                    Record::A("www.test", [10, 0, 0, 9], 60),
                ],
                _ => vec![],
            };
            vec![reply(q, 0x8180, &records)]
        })
        .await;
        let ips = resolver(&[server]).lookup_ip("alias.test").await.unwrap();
        assert_eq!(ips, [ip("10.0.0.9")]);
    });
}

#[test]
fn a_cname_loop_is_an_error_not_a_hang() {
    weft::run(async {
        let (server, _) = fake_server(|q| {
            vec![reply(
                q,
                0x8180,
                &[
                    Record::Cname("a.test", "b.test", 60),
                    Record::Cname("b.test", "a.test", 60),
                ],
            )]
        })
        .await;
        let err = resolver(&[server]).lookup_ip("a.test").await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidData, "{err}");
    });
}

#[test]
fn answers_are_cached_for_their_ttl_and_ttl_zero_is_not_cached() {
    weft::run(async {
        let (cached, cached_queries) = fake_server(|q| answers_a(q, 1, 300)).await;
        let resolver_a = resolver(&[cached]);
        for _ in 0..3 {
            assert_eq!(
                resolver_a.lookup_ip("x.test").await.unwrap(),
                [ip("10.0.0.1")]
            );
        }
        // A and AAAA once each; AAAA had no records, so it is asked again each time.
        assert_eq!(cached_queries.get(), 4);
        resolver_a.clear_cache();
        resolver_a.lookup_ip("x.test").await.unwrap();
        assert_eq!(cached_queries.get(), 6);

        let (uncached, uncached_queries) = fake_server(|q| answers_a(q, 2, 0)).await;
        let resolver_b = resolver(&[uncached]);
        for _ in 0..3 {
            resolver_b.lookup_ip("x.test").await.unwrap();
        }
        assert_eq!(uncached_queries.get(), 6);
    });
}

#[test]
fn a_truncated_reply_is_asked_again_over_tcp() {
    weft::run(async {
        let (server, listener) = fake_server_and_listener(|q| vec![reply(q, 0x8380, &[])]).await; // TC set
        weft::spawn(async move {
            loop {
                let (mut conn, _) = listener.accept().await.unwrap();
                let mut len = [0u8; 2];
                conn.read_exact(&mut len).await.unwrap();
                let mut query = vec![0u8; usize::from(u16::from_be_bytes(len))];
                conn.read_exact(&mut query).await.unwrap();
                let (name, rtype) = question(&query);
                let records: Vec<Record> = if rtype == 1 {
                    (1..=40)
                        .map(|i| Record::A(&name, [10, 0, 1, i], 60))
                        .collect()
                } else {
                    vec![]
                };
                let body = reply(&query, 0x8180, &records);
                conn.write_all(&(body.len() as u16).to_be_bytes())
                    .await
                    .unwrap();
                conn.write_all(&body).await.unwrap();
            }
        });
        let ips = resolver(&[server]).lookup_ip("big.test").await.unwrap();
        assert_eq!(ips.len(), 40);
        assert_eq!(ips[39], ip("10.0.1.40"));
    });
}

#[test]
fn malformed_replies_move_on_to_the_next_server() {
    weft::run(async {
        // Claims five answers and carries none; then a record that runs past the end; then
        // a reply to some other question.
        let (bad1, _) = fake_server(|q| {
            let mut r = reply(q, 0x8180, &[]);
            r[7] = 5;
            vec![r]
        })
        .await;
        let (bad2, _) = fake_server(|q| {
            let mut r = reply(q, 0x8180, &[Record::A("x.test", [1, 2, 3, 4], 60)]);
            r.truncate(r.len() - 2);
            vec![r]
        })
        .await;
        let (bad3, _) = fake_server(|q| {
            let mut r = reply(q, 0x8180, &[]);
            r[13] ^= 0x20; // flips a letter of the question's first label
            r[14] = b'#';
            vec![r]
        })
        .await;
        let (good, _) = fake_server(|q| answers_a(q, 7, 60)).await;
        let ips = resolver(&[bad1, bad2, bad3, good])
            .lookup_ip("x.test")
            .await
            .unwrap();
        assert_eq!(ips, [ip("10.0.0.7")]);

        let err = resolver(&[bad1, bad2])
            .lookup_ip("x.test")
            .await
            .unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidData, "{err}");
        assert!(err.to_string().contains("malformed DNS reply"), "{err}");
    });
}

#[test]
fn replies_with_the_wrong_id_are_ignored() {
    weft::run(async {
        let (server, _) = fake_server(|q| {
            let mut spoofed = answers_a(q, 66, 60).remove(0);
            spoofed[0] ^= 0xff;
            vec![spoofed, answers_a(q, 1, 60).remove(0)]
        })
        .await;
        let ips = resolver(&[server]).lookup_ip("x.test").await.unwrap();
        assert_eq!(ips, [ip("10.0.0.1")]);
    });
}

/// On a paused clock, too: each query holds the clock for its own time limit of real time,
/// so a reply on its way is not cut short, and a silent server times out at exactly its
/// deadline rather than hang the test.
#[weft::test(paused, time_limit = "30s")]
async fn a_silent_server_times_out_and_the_next_one_answers() {
    let silent = UdpSocket::bind("127.0.0.1:0").await.unwrap(); // never reads
    let (good, _) = fake_server(|q| answers_a(q, 3, 60)).await;
    let start = weft::time::Instant::now();
    let ips = resolver(&[silent.local_addr().unwrap(), good])
        .lookup_ip("x.test")
        .await;
    assert_eq!(ips.unwrap(), [ip("10.0.0.3")]);
    assert_eq!(
        start.elapsed(),
        Duration::from_millis(300),
        "one try timed out"
    );

    let start = weft::time::Instant::now();
    let err = resolver(&[silent.local_addr().unwrap()])
        .lookup_ip("x.test")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::TimedOut, "{err}");
    assert_eq!(
        start.elapsed(),
        Duration::from_millis(600),
        "two tries timed out"
    );
}

#[test]
fn servfail_tries_the_next_server_and_nxdomain_is_not_found() {
    weft::run(async {
        let (servfail, _) = fake_server(|q| vec![reply(q, 0x8182, &[])]).await;
        let (good, _) = fake_server(|q| answers_a(q, 4, 60)).await;
        let ips = resolver(&[servfail, good])
            .lookup_ip("x.test")
            .await
            .unwrap();
        assert_eq!(ips, [ip("10.0.0.4")]);

        let (nxdomain, _) = fake_server(|q| vec![reply(q, 0x8183, &[])]).await;
        let err = resolver(&[nxdomain])
            .lookup_ip("nope.test")
            .await
            .unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::NotFound, "{err}");
    });
}

#[test]
fn a_refused_port_is_an_error_quickly() {
    weft::run(async {
        let closed = std::net::UdpSocket::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let started = std::time::Instant::now();
        let err = resolver(&[closed]).lookup_ip("x.test").await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused, "{err}");
        // ICMP port-unreachable ends each try at once instead of waiting out the timeout.
        assert!(started.elapsed() < Duration::from_millis(300 * 4));
    });
}

#[test]
fn short_names_are_tried_in_the_search_domains_as_resolv_conf_says() {
    weft::run(async {
        let asked = Rc::new(std::cell::RefCell::new(Vec::new()));
        let log = asked.clone();
        let (server, _) = fake_server(move |q| {
            let (name, rtype) = question(q);
            if rtype == 1 {
                log.borrow_mut().push(name.clone());
            }
            match name.as_str() {
                "db.corp.test" | "db.lab.test" => answers_a(q, 5, 60),
                "x.y" => answers_a(q, 6, 60),
                _ => vec![reply(q, 0x8183, &[])], // NXDOMAIN
            }
        })
        .await;
        let config =
            ResolverConfig::with_nameservers([server]).search(["other.test", "corp.test"], 1);
        let resolver = Resolver::new(config);
        // No dot: the search domains first, in order; the first that exists answers.
        assert_eq!(resolver.lookup_ip("db").await.unwrap(), [ip("10.0.0.5")]);
        assert_eq!(*asked.borrow(), ["db.other.test", "db.corp.test"]);
        // Enough dots: the name as it is first.
        asked.borrow_mut().clear();
        assert_eq!(resolver.lookup_ip("x.y").await.unwrap(), [ip("10.0.0.6")]);
        assert_eq!(*asked.borrow(), ["x.y"]);
        // A trailing dot: only the name itself.
        asked.borrow_mut().clear();
        let err = resolver.lookup_ip("db.").await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::NotFound, "{err}");
        assert_eq!(*asked.borrow(), ["db"]);
        // Nowhere: NotFound after every candidate.
        asked.borrow_mut().clear();
        let err = resolver.lookup_ip("nothing").await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::NotFound, "{err}");
        assert_eq!(
            *asked.borrow(),
            ["nothing.other.test", "nothing.corp.test", "nothing"]
        );
    });
}

#[test]
fn literals_hosts_entries_and_localhost_need_no_server() {
    weft::run(async {
        let config = ResolverConfig::with_nameservers([]).host("db.internal", ip("10.9.9.9"));
        let resolver = Resolver::new(config);
        assert_eq!(
            resolver.lookup_ip("DB.internal.").await.unwrap(),
            [ip("10.9.9.9")]
        );
        assert_eq!(
            resolver.lookup_ip("192.0.2.1").await.unwrap(),
            [ip("192.0.2.1")]
        );
        assert_eq!(resolver.lookup_ip("[::1]").await.unwrap(), [ip("::1")]);
        let local = resolver.lookup_ip("app.localhost").await.unwrap();
        assert!(local.iter().all(IpAddr::is_loopback));
        let addrs = resolver.lookup_host(("db.internal", 5432)).await.unwrap();
        assert_eq!(addrs, ["10.9.9.9:5432".parse().unwrap()]);
        // A bare host is looked up as getaddrinfo(host, None) does: port 0.
        let bare = resolver.lookup_host("db.internal").await.unwrap();
        assert_eq!(bare, ["10.9.9.9:0".parse().unwrap()]);
        let err = resolver.lookup_host("no-such-host").await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    });
}

#[test]
fn connect_by_host_name_goes_through_the_system_resolver() {
    weft::run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        weft::spawn(async move {
            let _ = listener.accept().await;
        });
        let stream = TcpStream::connect(format!("localhost:{port}"))
            .await
            .unwrap();
        assert!(stream.peer_addr().unwrap().ip().is_loopback());
    });
}

/// dnsmasq on a free loopback port, serving a small zone; killed on drop.
struct Dnsmasq {
    child: Child,
    addr: SocketAddr,
}

impl Dnsmasq {
    /// `None` when dnsmasq is not installed, unless `WEFT_REQUIRE_DNSMASQ` is set (CI sets
    /// it after installing dnsmasq), in which case that is a failure.
    ///
    /// The port is one the kernel found free for UDP; dnsmasq binds TCP on it too, which
    /// another socket may hold. Then dnsmasq exits at once, and a fresh port is tried.
    fn start() -> Option<Dnsmasq> {
        let mut log = Vec::new();
        for _ in 0..10 {
            match Dnsmasq::start_on_a_free_port(&mut log) {
                Ok(started) => return started,
                Err(()) => continue,
            }
        }
        panic!(
            "dnsmasq exited before it started, ten times:\n{}",
            log.join("\n")
        );
    }

    /// `Err` when dnsmasq exited before it started (its log is added to `log`).
    fn start_on_a_free_port(log: &mut Vec<String>) -> Result<Option<Dnsmasq>, ()> {
        let port = std::net::UdpSocket::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let big: Vec<String> = (1..=60)
            .map(|i| format!("--host-record=big.weft.test,10.1.0.{i}"))
            .collect();
        let spawned = Command::new("dnsmasq")
            .args([
                "--keep-in-foreground",
                "--no-resolv",
                "--no-hosts",
                "--bind-interfaces",
                "--listen-address=127.0.0.1",
                "--user=root",
                "--pid-file=",
                "--log-facility=-",
                "--local-ttl=60",
                "--host-record=www.weft.test,127.0.0.5,::5",
                "--cname=alias.weft.test,www.weft.test",
                "--cname=alias2.weft.test,alias.weft.test",
                "--local=/weft.test/",
            ])
            .arg(format!("--port={port}"))
            .args(big)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn();
        let mut child = match spawned {
            Ok(child) => child,
            Err(err) if std::env::var_os("WEFT_REQUIRE_DNSMASQ").is_none() => {
                eprintln!("skipping the dnsmasq tests: cannot start dnsmasq ({err})");
                return Ok(None);
            }
            Err(err) => panic!("WEFT_REQUIRE_DNSMASQ is set but dnsmasq cannot start: {err}"),
        };
        // dnsmasq logs "started" once its sockets are bound: wait for that line, no sleeping.
        let stderr = child.stderr.take().unwrap();
        let mut lines = BufReader::new(stderr).lines();
        let started = lines
            .by_ref()
            .map_while(Result::ok)
            .inspect(|line| log.push(line.clone()))
            .any(|line| line.contains("started"));
        if !started {
            let _ = child.wait();
            return Err(());
        }
        std::thread::spawn(move || lines.for_each(drop)); // keep draining its log
        Ok(Some(Dnsmasq {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
        }))
    }
}

impl Drop for Dnsmasq {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_real_dnsmasq_answers_addresses_cnames_nxdomain_and_big_answers_over_tcp() {
    let Some(dnsmasq) = Dnsmasq::start() else {
        return;
    };
    weft::run(async move {
        let resolver = resolver(&[dnsmasq.addr]);
        assert_eq!(
            resolver.lookup_ip("www.weft.test").await.unwrap(),
            [ip("127.0.0.5"), ip("::5")]
        );
        assert_eq!(
            resolver.lookup_ip("alias2.weft.test").await.unwrap(),
            [ip("127.0.0.5"), ip("::5")]
        );
        let err = resolver.lookup_ip("missing.weft.test").await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::NotFound, "{err}");
        // 60 A records do not fit in 512 bytes: dnsmasq sets TC and TCP brings them all.
        let big = resolver.lookup_ip("big.weft.test").await.unwrap();
        assert_eq!(big.len(), 60, "{big:?}");
        let addrs = resolver.lookup_host("www.weft.test:8080").await.unwrap();
        assert_eq!(addrs[0], "127.0.0.5:8080".parse().unwrap());
    });
}
