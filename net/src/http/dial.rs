//! Opening a connection for the client: the name resolved by weft's resolver, TCP with
//! Happy Eyeballs across the addresses (RFC 8305), `TCP_NODELAY`, TLS with ALPN, and hyper's
//! HTTP/1.1 or HTTP/2 handshake, whichever the server chose.

use std::future::{Future, poll_fn};
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper::client::conn::{http1, http2};
use weft_runtime::time::{Instant, sleep};

use super::Config;
use super::error::{Error, ErrorKind};
use super::pool::{Origin, Sender};
use crate::TcpStream;
use crate::hyper::{HyperIo, HyperTimer, LocalExecutor};
use crate::tls::MaybeTlsStream;

/// How long an attempt on one address runs alone before the next address is tried too
/// (RFC 8305's Connection Attempt Delay, its recommended value).
const ATTEMPT_DELAY: Duration = Duration::from_millis(250);

/// Resolves, connects and handshakes; the sender is ready for requests.
pub(crate) async fn dial(config: &Config, origin: &Origin) -> Result<Sender, Error> {
    let host = origin.host.trim_start_matches('[').trim_end_matches(']');
    let addrs = crate::lookup_host((host, origin.port))
        .await
        .map_err(|err| {
            Error::new(ErrorKind::Dns, format!("resolving {host}: {err}")).with_source(err)
        })?;
    let what = format!("{host}:{}", origin.port);
    let tcp = happy_eyeballs(addrs)
        .await
        .map_err(|err| Error::connect(&what, err))?;
    let _ = tcp.set_nodelay(true);
    if !origin.https {
        return handshake_http1(config, MaybeTlsStream::Plain(tcp)).await;
    }
    let tls = config.tls.connect(host, tcp).await.map_err(Error::tls)?;
    if tls.alpn_protocol() == Some(b"h2") {
        return handshake_http2(config, MaybeTlsStream::Tls(Box::new(tls))).await;
    }
    handshake_http1(config, MaybeTlsStream::Tls(Box::new(tls))).await
}

async fn handshake_http1(config: &Config, stream: MaybeTlsStream) -> Result<Sender, Error> {
    let (sender, connection) = http1::Builder::new()
        .max_buf_size(config.max_header_bytes.max(8192))
        .handshake(HyperIo::new(stream))
        .await
        .map_err(Error::hyper)?;
    // The connection's errors reach the request that meets them.
    drop(weft_runtime::task::spawn(async move {
        let _ = connection.await;
    }));
    Ok(Sender::Http1(sender))
}

async fn handshake_http2(config: &Config, stream: MaybeTlsStream) -> Result<Sender, Error> {
    let header_list = u32::try_from(config.max_header_bytes).unwrap_or(u32::MAX);
    let (sender, connection) = http2::Builder::new(LocalExecutor)
        .timer(HyperTimer)
        .max_header_list_size(header_list)
        .handshake(HyperIo::new(stream))
        .await
        .map_err(Error::hyper)?;
    drop(weft_runtime::task::spawn(async move {
        let _ = connection.await;
    }));
    Ok(Sender::Http2(sender))
}

/// Connects to the first of `addrs` that answers, RFC 8305's way: the families alternate
/// (IPv6 first if the resolver listed it first), and each attempt gets [`ATTEMPT_DELAY`]
/// alone before the next one starts beside it, or less if it fails sooner. The first
/// connection made wins; the others are dropped, closing their sockets.
async fn happy_eyeballs(addrs: Vec<SocketAddr>) -> io::Result<TcpStream> {
    type Attempt = Pin<Box<dyn Future<Output = io::Result<TcpStream>>>>;
    let order = interleave_families(addrs);
    let mut next = 0;
    let mut running: Vec<Attempt> = Vec::new();
    let mut last_error = None;
    let mut delay = sleep(Duration::ZERO);
    poll_fn(|cx: &mut Context<'_>| {
        loop {
            let due = running.is_empty() || Pin::new(&mut delay).poll(cx).is_ready();
            if due && next < order.len() {
                running.push(Box::pin(TcpStream::connect(order[next])));
                next += 1;
                delay.reset(Instant::now() + ATTEMPT_DELAY);
                continue;
            }
            let mut i = 0;
            while i < running.len() {
                match running[i].as_mut().poll(cx) {
                    Poll::Ready(Ok(stream)) => return Poll::Ready(Ok(stream)),
                    Poll::Ready(Err(err)) => {
                        last_error = Some(err);
                        drop(running.swap_remove(i));
                    }
                    Poll::Pending => i += 1,
                }
            }
            if !running.is_empty() {
                return Poll::Pending;
            }
            if next == order.len() {
                return Poll::Ready(Err(last_error.take().unwrap_or_else(|| {
                    io::Error::new(io::ErrorKind::NotFound, "the name has no address")
                })));
            }
            // Every attempt so far failed: the next one starts now.
        }
    })
    .await
}

/// `addrs` with the two families alternating, starting with the first one's.
fn interleave_families(addrs: Vec<SocketAddr>) -> Vec<SocketAddr> {
    let Some(first) = addrs.first() else {
        return addrs;
    };
    let first_v6 = first.is_ipv6();
    let (mut same, mut other): (Vec<_>, Vec<_>) =
        addrs.into_iter().partition(|a| a.is_ipv6() == first_v6);
    let mut order = Vec::with_capacity(same.len() + other.len());
    same.reverse();
    other.reverse();
    loop {
        match (same.pop(), other.pop()) {
            (None, None) => return order,
            (a, b) => order.extend(a.into_iter().chain(b)),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{happy_eyeballs, interleave_families};
    use crate::{TcpListener, TcpStream};

    /// A first address whose SYNs go unanswered (a listener with a full backlog) holds the
    /// dial up for 250 ms, not for the kernel's connect timeout: then the next address is
    /// tried beside it, and it answers.
    #[test]
    fn an_unanswering_address_gives_way_to_the_next_after_the_attempt_delay() {
        weft::run(async {
            let stalled = TcpListener::builder()
                .backlog(0)
                .bind("127.0.0.1:0".parse().unwrap())
                .unwrap();
            let stalled_addr = stalled.local_addr().unwrap();
            // Fill its queue: later SYNs are dropped, and a connect to it waits.
            let mut fillers = Vec::new();
            for _ in 0..4 {
                let attempt = weft::time::timeout(
                    Duration::from_millis(50),
                    TcpStream::connect(stalled_addr),
                );
                if let Ok(Ok(stream)) = attempt.await {
                    fillers.push(stream);
                }
            }
            let probe =
                weft::time::timeout(Duration::from_millis(50), TcpStream::connect(stalled_addr));
            if let Ok(Ok(_)) = probe.await {
                eprintln!("skipped: this kernel answers SYNs past a full backlog (syncookies)");
                return;
            }
            let good = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let good_addr = good.local_addr().unwrap();
            let start = weft::time::Instant::now();
            let stream = happy_eyeballs(vec![stalled_addr, good_addr]).await.unwrap();
            let waited = start.elapsed();
            assert_eq!(stream.peer_addr().unwrap(), good_addr);
            assert!(
                waited >= Duration::from_millis(250) && waited < Duration::from_secs(2),
                "the second address was tried after {waited:?}"
            );
            drop(stalled);
        });
    }

    #[test]
    fn a_refused_address_gives_way_at_once() {
        weft::run(async {
            let refused = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let refused_addr = refused.local_addr().unwrap();
            drop(refused);
            let good = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let good_addr = good.local_addr().unwrap();
            let start = weft::time::Instant::now();
            let stream = happy_eyeballs(vec![refused_addr, good_addr]).await.unwrap();
            assert_eq!(stream.peer_addr().unwrap(), good_addr);
            assert!(start.elapsed() < Duration::from_millis(250));
            let err = happy_eyeballs(vec![refused_addr]).await.unwrap_err();
            assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
        });
    }

    #[test]
    fn families_alternate_starting_with_the_first() {
        let addrs = [
            "[::1]:1",
            "[::2]:1",
            "127.0.0.1:1",
            "[::3]:1",
            "127.0.0.2:1",
        ]
        .map(|a| a.parse().unwrap())
        .to_vec();
        let order: Vec<String> = interleave_families(addrs)
            .iter()
            .map(|a| a.to_string())
            .collect();
        assert_eq!(
            order,
            [
                "[::1]:1",
                "127.0.0.1:1",
                "[::2]:1",
                "127.0.0.2:1",
                "[::3]:1"
            ]
        );
    }
}
