//! Turning "host:port" into socket addresses.

use std::io;
use std::net::{SocketAddr, ToSocketAddrs};

/// Resolves `addr` into every socket address it names.
///
/// IP literals are parsed directly. Host names currently go through the system resolver
/// (`getaddrinfo`), which blocks the thread while it runs; use IP addresses on a hot path.
///
/// ```
/// weft::run(async {
///     let addrs = weft::net::lookup_host("127.0.0.1:80").await.unwrap();
///     assert_eq!(addrs, vec!["127.0.0.1:80".parse().unwrap()]);
/// });
/// ```
pub async fn lookup_host(addr: impl ToSocketAddrs) -> io::Result<Vec<SocketAddr>> {
    resolve(addr)
}

pub(crate) fn resolve(addr: impl ToSocketAddrs) -> io::Result<Vec<SocketAddr>> {
    let addrs: Vec<SocketAddr> = addr.to_socket_addrs()?.collect();
    if addrs.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the address did not resolve to any socket address",
        ));
    }
    Ok(addrs)
}

/// Runs `attempt` on each address in turn and returns the first success, or the last error.
pub(crate) async fn try_each<T, F, Fut>(addr: impl ToSocketAddrs, mut attempt: F) -> io::Result<T>
where
    F: FnMut(SocketAddr) -> Fut,
    Fut: Future<Output = io::Result<T>>,
{
    let mut last_error = None;
    for addr in resolve(addr)? {
        match attempt(addr).await {
            Ok(value) => return Ok(value),
            Err(err) => last_error = Some(err),
        }
    }
    Err(last_error.expect("resolve returns at least one address"))
}
