//! TCP through the public API.

use std::cell::Cell;
use std::io::ErrorKind;
use std::net::{Shutdown, SocketAddr};
use std::rc::Rc;
use std::time::Duration;

use weft::io::{AsyncReadExt, AsyncWriteExt};
use weft::net::{TcpListener, TcpStream};
use weft::task::yield_now;

async fn echo(mut conn: TcpStream) {
    let mut buf = vec![0; 4096];
    loop {
        match conn.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if conn.write_all(&buf[..n]).await.is_err() {
                    return;
                }
            }
        }
    }
}

async fn echo_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    weft::spawn(async move {
        while let Ok((conn, _)) = listener.accept().await {
            weft::spawn(echo(conn));
        }
    });
    addr
}

#[test]
fn echo_over_500_concurrent_connections_checks_every_byte() {
    weft::run(async {
        let addr = echo_server().await;
        let clients: Vec<_> = (0..500u32)
            .map(|id| {
                weft::spawn(async move {
                    let mut stream = TcpStream::connect(addr).await.unwrap();
                    let mut reply = vec![0; 1000];
                    for round in 0..10u32 {
                        let message: Vec<u8> = (0..1000u32)
                            .map(|i| (id * 31 + round * 7 + i) as u8)
                            .collect();
                        stream.write_all(&message).await.unwrap();
                        stream.read_exact(&mut reply).await.unwrap();
                        assert_eq!(reply, message, "connection {id} round {round}");
                    }
                })
            })
            .collect();
        for client in clients {
            client.await.unwrap();
        }
    });
}

#[test]
fn half_close_lets_the_peer_finish_its_reply() {
    weft::run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = weft::spawn(async move {
            let (mut conn, _) = listener.accept().await.unwrap();
            let mut request = Vec::new();
            conn.read_to_end(&mut request).await.unwrap(); // ends at the client's FIN
            conn.write_all(format!("got {} bytes", request.len()).as_bytes())
                .await
                .unwrap();
        });
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream.write_all(&[7; 10_000]).await.unwrap();
        stream.shutdown(Shutdown::Write).unwrap();
        let mut reply = String::new();
        let mut buf = Vec::new();
        stream.read_to_end(&mut buf).await.unwrap();
        reply.push_str(std::str::from_utf8(&buf).unwrap());
        assert_eq!(reply, "got 10000 bytes");
        server.await.unwrap();
    });
}

#[test]
fn connecting_to_a_closed_port_is_refused() {
    weft::run(async {
        let port = {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            listener.local_addr().unwrap()
        };
        let err = TcpStream::connect(port).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
    });
}

#[test]
fn connect_timeout_gives_up_with_timed_out() {
    weft::run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        // The handshake cannot be seen to finish before the reactor runs, so a zero limit
        // always wins the race.
        let err = TcpStream::connect_timeout(addr, Duration::ZERO)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TimedOut);
        TcpStream::connect_timeout(addr, Duration::from_secs(10))
            .await
            .unwrap();
    });
}

#[test]
fn aborting_a_task_blocked_on_a_socket_closes_the_socket() {
    weft::run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut client = TcpStream::connect(addr).await.unwrap();
        let (conn, _) = listener.accept().await.unwrap();
        let reading = Rc::new(Cell::new(false));
        let reader = weft::spawn({
            let reading = reading.clone();
            async move {
                let mut conn = conn;
                let mut buf = [0; 16];
                reading.set(true);
                let _ = conn.read(&mut buf).await; // never gets data
                unreachable!("nothing was sent");
            }
        });
        while !reading.get() {
            yield_now().await;
        }
        reader.abort();
        assert!(reader.await.unwrap_err().is_cancelled());
        // The server side was dropped with the task: the client reads end of stream.
        let mut buf = [0; 1];
        assert_eq!(client.read(&mut buf).await.unwrap(), 0);
    });
}

#[test]
fn a_peer_reset_is_an_error_not_a_panic() {
    weft::run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let client = std::net::TcpStream::connect(addr).unwrap();
        let (mut conn, _) = listener.accept().await.unwrap();
        socket2::SockRef::from(&client)
            .set_linger(Some(Duration::ZERO))
            .unwrap();
        drop(client); // RST instead of FIN
        let mut buf = [0; 16];
        let err = conn.read(&mut buf).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionReset);
        // Writing after a reset fails too, without panicking.
        assert!(conn.write_all(b"late").await.is_err());
    });
}

#[test]
fn owned_halves_work_from_two_tasks_and_reunite() {
    weft::run(async {
        let addr = echo_server().await;
        let stream = TcpStream::connect(addr).await.unwrap();
        stream.set_nodelay(true).unwrap();
        assert!(stream.nodelay().unwrap());
        let (mut read, mut write) = stream.into_split();
        let writer = weft::spawn(async move {
            for i in 0..100u8 {
                write.write_all(&[i; 100]).await.unwrap();
            }
            write
        });
        let mut all = vec![0; 100 * 100];
        read.read_exact(&mut all).await.unwrap();
        assert!(
            all.chunks(100)
                .enumerate()
                .all(|(i, c)| c.iter().all(|&b| b == i as u8))
        );
        let write = writer.await.unwrap();
        let stream = read.reunite(write).unwrap();
        assert_eq!(stream.peer_addr().unwrap(), addr);
    });
}

#[test]
fn dropping_the_write_half_sends_end_of_stream() {
    weft::run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let client = TcpStream::connect(addr).await.unwrap();
        let (mut conn, _) = listener.accept().await.unwrap();
        let (_read, write) = client.into_split();
        drop(write);
        let mut rest = Vec::new();
        assert_eq!(conn.read_to_end(&mut rest).await.unwrap(), 0);
    });
}

#[test]
fn listener_builder_sets_options_and_peek_keeps_bytes() {
    weft::run(async {
        let listener = TcpListener::builder()
            .backlog(16)
            .reuse_port(true)
            .bind("127.0.0.1:0".parse().unwrap())
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let mut client = TcpStream::connect(addr).await.unwrap();
        let (mut conn, peer) = listener.accept().await.unwrap();
        assert_eq!(peer, client.local_addr().unwrap());
        client.write_all(b"abc").await.unwrap();
        let mut buf = [0; 3];
        let n = conn.peek(&mut buf).await.unwrap();
        assert!(n > 0 && buf[..n] == b"abc"[..n]);
        conn.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"abc");
    });
}

#[test]
fn ipv6_loopback_works_when_available() {
    weft::run(async {
        let Ok(listener) = TcpListener::bind("[::1]:0").await else {
            return; // no IPv6 on this machine
        };
        let addr = listener.local_addr().unwrap();
        let (client, accepted) = (TcpStream::connect(addr).await, listener.accept().await);
        assert!(client.is_ok() && accepted.is_ok());
    });
}

#[test]
fn a_connect_future_stays_small_when_the_resolver_may_need_the_network() {
    // The DNS query behind a host name is a future of kilobytes; it is boxed only when a query
    // goes out, so that every future that connects (and every task awaiting one) does not carry
    // those kilobytes for addresses and hosts-file names.
    let connect = TcpStream::connect("example.com:80");
    let size = std::mem::size_of_val(&connect);
    assert!(size < 1024, "TcpStream::connect's future is {size} bytes");
}

#[test]
fn read_to_end_keeps_no_buffer_in_its_future() {
    weft::run(async {
        let addr = echo_server().await;
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let mut out = Vec::new();
        let reading = stream.read_to_end(&mut out);
        let size = std::mem::size_of_val(&reading);
        assert!(size < 256, "read_to_end's future is {size} bytes");
    });
}

#[test]
fn lookup_host_takes_a_bare_host_as_getaddrinfo_does_and_connect_asks_for_a_port() {
    weft::run(async {
        let bare = weft::net::lookup_host("localhost").await.unwrap();
        assert!(!bare.is_empty());
        assert!(
            bare.iter().all(|a| a.ip().is_loopback() && a.port() == 0),
            "{bare:?}"
        );
        let v6 = weft::net::lookup_host("::1").await.unwrap();
        assert_eq!(v6, ["[::1]:0".parse().unwrap()]);
        let err = weft::net::TcpStream::connect("localhost")
            .await
            .unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
        assert!(err.to_string().contains("has no port"), "{err}");
    });
}

#[test]
fn readable_then_try_read_reads_into_a_buffer_taken_only_when_bytes_are_there() {
    weft::run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (server, _) = listener.accept().await.unwrap();
        // Nothing there yet: no wait, just WouldBlock.
        let err = server.try_read(&mut [0; 8]).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::WouldBlock);
        client.writable().await.unwrap();
        assert_eq!(client.try_write(b"ping").unwrap(), 4);
        server.readable().await.unwrap();
        let mut buf = vec![0; 16];
        let n = server.try_read(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"ping");
        // The halves have the same pair of methods.
        let (read_half, write_half) = server.into_split();
        write_half.writable().await.unwrap();
        write_half.try_write(b"pong").unwrap();
        let mut reply = [0; 4];
        client.readable().await.unwrap();
        assert_eq!(client.try_read(&mut reply).unwrap(), 4);
        assert_eq!(&reply, b"pong");
        drop(client);
        read_half.readable().await.unwrap();
        assert_eq!(
            read_half.try_read(&mut buf).unwrap(),
            0,
            "the end of the stream"
        );
    });
}
