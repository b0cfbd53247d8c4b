//! The network, child processes and signals: accepts and connects, datagrams, readiness,
//! DNS lookups, process waits and signal streams. After a cancel, what had arrived (a
//! connection, a datagram, an exit status, a signal) is either returned or still there for
//! the next call, and nothing is left half-open or unreaped.

use std::net::SocketAddr;
use std::time::Duration;

use weft::net::{
    Resolver, ResolverConfig, TcpListener, TcpStream, UdpSocket, UnixListener, UnixStream,
};
use weft::process::Command;
use weft::signal::{SIGUSR2, Signals};
use weft::testing::{Cancel, Leaks};
use weft::time::timeout;
use weft::{spawn, yield_now};

use crate::{Checked, Row, paused, real};

pub(crate) fn rows() -> Vec<Row> {
    vec![
        real(
            "`net::TcpListener::accept`",
            "a connection that arrived is either returned or accepted next",
            accept,
        ),
        real(
            "`net::UnixListener::accept`",
            "a connection that arrived is either returned or accepted next",
            unix_accept,
        ),
        real(
            "`net::TcpStream::connect`",
            "no connection is left half-open: the listener's end of a cancelled one sees it closed",
            connect,
        ),
        real(
            "`net::UnixStream::connect`",
            "no connection is left half-open: the listener's end of a cancelled one sees it closed",
            unix_connect,
        ),
        paused(
            "`net::TcpStream::peek`",
            "a peek takes nothing: every byte is still in the stream",
            peek,
        ),
        paused(
            "`net::TcpStream::readable`",
            "readiness not returned is seen by the next `readable`, at once",
            readable,
        ),
        real(
            "`net::UdpSocket::recv_from`",
            "the datagram is either returned or received next",
            udp_recv_from,
        ),
        real(
            "`net::UdpSocket::recv` (connected)",
            "the datagram is either returned or received next",
            udp_recv,
        ),
        real(
            "`net::UdpSocket::send_to`",
            "the datagram arrives exactly when `send_to` returned `Ok`",
            udp_send_to,
        ),
        paused(
            "`net::Resolver::lookup_ip` (and `lookup_host`)",
            "no task, timer or socket is left behind, and the next lookup answers",
            dns_lookup,
        ),
        real(
            "`process::Child::wait`",
            "the exit status is either returned or returned by the next `wait`",
            child_wait,
        ),
        real(
            "`process::Command::output` (and `status`)",
            "the child is reaped when it exits: no zombie is left",
            command_output,
        ),
        real(
            "`signal::Signals::recv`",
            "a signal not returned is returned by the next `recv`",
            signal_recv,
        ),
    ]
}

fn text(error: impl ToString) -> String {
    error.to_string()
}

/// A listener on loopback, and its address.
async fn listener() -> Result<(TcpListener, SocketAddr), String> {
    let listener = TcpListener::bind("127.0.0.1:0").await.map_err(text)?;
    let addr = listener.local_addr().map_err(text)?;
    Ok((listener, addr))
}

/// A connection that arrived while the cancelled `accept` waited was either returned, or
/// `next` (the next accept) returns it.
async fn accepted_or_next<T>(
    accepted: bool,
    next: impl std::future::Future<Output = std::io::Result<T>>,
) -> Result<(), String> {
    if accepted {
        return Ok(());
    }
    timeout(Duration::from_secs(5), next)
        .await
        .map_err(|_| "the connection was lost".to_owned())?
        .map(drop)
        .map_err(text)
}

fn accept(cancel: Cancel) -> Checked {
    Box::pin(async move {
        let (listener, addr) = listener().await?;
        let client = spawn(async move { TcpStream::connect(addr).await });
        let accepted = cancel.at(listener.accept()).await.is_some();
        let _client = client.await.map_err(text)?.map_err(text)?;
        accepted_or_next(accepted, listener.accept()).await
    })
}

/// A Unix socket path of its own for one run.
fn socket_path() -> std::path::PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    std::env::temp_dir().join(format!(
        "weft-cancel-safety-{}-{}.sock",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ))
}

fn unix_accept(cancel: Cancel) -> Checked {
    Box::pin(async move {
        let path = socket_path();
        let listener = UnixListener::bind(&path).map_err(text)?;
        let client = {
            let path = path.clone();
            spawn(async move { UnixStream::connect(path).await })
        };
        let accepted = cancel.at(listener.accept()).await.is_some();
        let _client = client.await.map_err(text)?.map_err(text)?;
        let _ = std::fs::remove_file(&path);
        accepted_or_next(accepted, listener.accept()).await
    })
}

/// After a connect was cancelled: a connection the listener holds for it (if the kernel
/// finished it) must read as closed, not hang open. `accept` is the listener's accept.
async fn closed_if_accepted<S: weft::io::AsyncRead + Unpin, A>(
    connected: Option<std::io::Result<impl Sized>>,
    accept: impl std::future::Future<Output = std::io::Result<(S, A)>>,
) -> Result<(), String> {
    if let Some(connected) = connected {
        return connected.map(drop).map_err(text);
    }
    let Ok(accepted) = timeout(Duration::from_millis(200), accept).await else {
        return Ok(());
    };
    let (mut stream, _) = accepted.map_err(text)?;
    let mut byte = [0; 1];
    match timeout(
        Duration::from_secs(5),
        weft::io::AsyncReadExt::read(&mut stream, &mut byte),
    )
    .await
    {
        Ok(Ok(0) | Err(_)) => Ok(()),
        Ok(Ok(_)) => Err("bytes came on a connection nobody holds".into()),
        Err(_) => Err("a cancelled connect left the connection open".into()),
    }
}

fn connect(cancel: Cancel) -> Checked {
    Box::pin(async move {
        let (listener, addr) = listener().await?;
        let connected = cancel.at(TcpStream::connect(addr)).await;
        closed_if_accepted(connected, listener.accept()).await
    })
}

fn unix_connect(cancel: Cancel) -> Checked {
    Box::pin(async move {
        let path = socket_path();
        let listener = UnixListener::bind(&path).map_err(text)?;
        let connected = cancel.at(UnixStream::connect(&path)).await;
        let _ = std::fs::remove_file(&path);
        closed_if_accepted(connected, listener.accept()).await
    })
}

/// Both ends of a loopback TCP connection.
async fn tcp_pair() -> Result<(TcpStream, TcpStream), String> {
    let (listener, addr) = listener().await?;
    let client = TcpStream::connect(addr).await.map_err(text)?;
    let (server, _) = listener.accept().await.map_err(text)?;
    Ok((client, server))
}

/// Writes `abcd` after a turn.
fn abcd_after_a_turn(mut to: TcpStream) -> weft::JoinHandle<TcpStream> {
    spawn(async move {
        yield_now().await;
        weft::io::AsyncWriteExt::write_all(&mut to, b"abcd")
            .await
            .unwrap();
        to
    })
}

fn peek(cancel: Cancel) -> Checked {
    Box::pin(async move {
        let (mut client, server) = tcp_pair().await?;
        let writer = abcd_after_a_turn(server);
        let mut buf = [0; 4];
        let _ = cancel.at(client.peek(&mut buf)).await;
        let _server = writer.await.map_err(text)?;
        let mut all = [0; 4];
        weft::io::AsyncReadExt::read_exact(&mut client, &mut all)
            .await
            .map_err(text)?;
        if &all == b"abcd" {
            Ok(())
        } else {
            Err("the peeked bytes were taken".into())
        }
    })
}

fn readable(cancel: Cancel) -> Checked {
    Box::pin(async move {
        let (client, server) = tcp_pair().await?;
        let writer = abcd_after_a_turn(server);
        let _ = cancel.at(client.readable()).await;
        let _server = writer.await.map_err(text)?;
        // On the paused clock, a wait that is not ready at once sees the clock jump.
        let before = weft::time::Instant::now();
        timeout(Duration::from_secs(1), client.readable())
            .await
            .map_err(|_| "the readiness was lost".to_owned())?
            .map_err(text)?;
        if before.elapsed() < Duration::from_secs(1) {
            Ok(())
        } else {
            Err("the next readable waited".into())
        }
    })
}

/// A bound socket on loopback, and its address.
async fn udp() -> Result<(UdpSocket, SocketAddr), String> {
    let socket = UdpSocket::bind("127.0.0.1:0").await.map_err(text)?;
    let addr = socket.local_addr().map_err(text)?;
    Ok((socket, addr))
}

/// A datagram sent to `to` after a turn, from `from`.
fn datagram_after_a_turn(from: UdpSocket, to: SocketAddr) -> weft::JoinHandle<()> {
    spawn(async move {
        yield_now().await;
        from.send_to(b"dgram", to).await.unwrap();
    })
}

/// The datagram a cancelled receive did not return must come next.
async fn received_next(got: bool, socket: &UdpSocket) -> Result<(), String> {
    if got {
        return Ok(());
    }
    let mut buf = [0; 16];
    timeout(Duration::from_secs(5), socket.recv_from(&mut buf))
        .await
        .map_err(|_| "the datagram was lost".to_owned())?
        .map(drop)
        .map_err(text)
}

fn udp_recv_from(cancel: Cancel) -> Checked {
    Box::pin(async move {
        let (socket, to) = udp().await?;
        let (from, _) = udp().await?;
        let sender = datagram_after_a_turn(from, to);
        let mut buf = [0; 16];
        let got = cancel.at(socket.recv_from(&mut buf)).await.is_some();
        sender.await.map_err(text)?;
        received_next(got, &socket).await
    })
}

fn udp_recv(cancel: Cancel) -> Checked {
    Box::pin(async move {
        let (socket, to) = udp().await?;
        let (from, from_addr) = udp().await?;
        socket.connect(from_addr).await.map_err(text)?;
        let sender = datagram_after_a_turn(from, to);
        let mut buf = [0; 16];
        let got = cancel.at(socket.recv(&mut buf)).await.is_some();
        sender.await.map_err(text)?;
        received_next(got, &socket).await
    })
}

fn udp_send_to(cancel: Cancel) -> Checked {
    Box::pin(async move {
        let (socket, _) = udp().await?;
        let (peer, to) = udp().await?;
        let sent = matches!(cancel.at(socket.send_to(b"dgram", to)).await, Some(Ok(5)));
        let mut buf = [0; 16];
        let arrived = timeout(Duration::from_millis(200), peer.recv_from(&mut buf))
            .await
            .is_ok();
        if sent == arrived {
            Ok(())
        } else {
            Err(format!(
                "send_to returned Ok: {sent}; the datagram arrived: {arrived}"
            ))
        }
    })
}

fn dns_lookup(cancel: Cancel) -> Checked {
    Box::pin(async move {
        let (server, addr) = udp().await?;
        // A nameserver that answers each query after a turn.
        let serving = spawn(async move {
            let mut buf = [0u8; 512];
            loop {
                let (n, from) = server.recv_from(&mut buf).await.unwrap();
                yield_now().await;
                for reply in test_support::dns::answers_a(&buf[..n], 9, 0) {
                    server.send_to(&reply, from).await.unwrap();
                }
            }
        });
        let before = Leaks::snapshot();
        let resolver =
            Resolver::new(ResolverConfig::with_nameservers([addr]).timeout(Duration::from_secs(1)));
        let _ = cancel.at(resolver.lookup_ip("service.test")).await;
        yield_now().await;
        let left = before.check();
        let next = timeout(Duration::from_secs(5), resolver.lookup_ip("service.test")).await;
        serving.abort();
        left?;
        match next {
            Ok(Ok(ips)) if ips == ["10.0.0.9".parse::<std::net::IpAddr>().unwrap()] => Ok(()),
            other => Err(format!("the next lookup gave {other:?}")),
        }
    })
}

fn child_wait(cancel: Cancel) -> Checked {
    Box::pin(async move {
        let mut child = Command::new("sh")
            .args(["-c", "exit 3"])
            .spawn()
            .map_err(text)?;
        let status = match cancel.at(child.wait()).await {
            Some(status) => status,
            None => timeout(Duration::from_secs(5), child.wait())
                .await
                .map_err(|_| "the next wait never returned".to_owned())?,
        };
        match status.map_err(text)?.code() {
            Some(3) => Ok(()),
            other => Err(format!("the exit code came back as {other:?}")),
        }
    })
}

/// This process's children that have exited and not been reaped.
fn zombies() -> Vec<u32> {
    let me = std::process::id().to_string();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| {
            let pid: u32 = entry.ok()?.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            // After the command's closing parenthesis: state, then the parent's pid.
            let mut fields = stat.rsplit_once(')')?.1.split_whitespace();
            let (state, parent) = (fields.next()?, fields.next()?);
            (state == "Z" && parent == me).then_some(pid)
        })
        .collect()
}

fn command_output(cancel: Cancel) -> Checked {
    Box::pin(async move {
        let before = Leaks::snapshot();
        let _ = cancel
            .at(Command::new("sh").args(["-c", "sleep 0.02"]).output())
            .await;
        // The child exits 20 ms later; the runtime must reap it then (a task does, and ends).
        for _ in 0..200 {
            weft::time::sleep(Duration::from_millis(10)).await;
            if before.check().is_ok() {
                break;
            }
        }
        match zombies().as_slice() {
            [] => Ok(()),
            left => Err(format!("children {left:?} were left unreaped")),
        }
    })
}

fn signal_recv(cancel: Cancel) -> Checked {
    Box::pin(async move {
        let mut signals = Signals::new([SIGUSR2]).map_err(text)?;
        let raiser = spawn(async {
            yield_now().await;
            rustix::process::kill_process(rustix::process::getpid(), rustix::process::Signal::USR2)
        });
        let got = cancel.at(signals.recv()).await;
        raiser.await.map_err(text)?.map_err(text)?;
        if got.is_some() {
            return Ok(());
        }
        timeout(Duration::from_secs(5), signals.recv())
            .await
            .map_err(|_| "the signal was lost".to_owned())?
            .map(drop)
            .map_err(text)
    })
}
