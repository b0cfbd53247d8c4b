//! Turning "host:port" into socket addresses without blocking the loop.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

use crate::dns::Resolver;

/// What names a socket address: a `SocketAddr`, an `(ip, port)` pair, `"host:port"`,
/// `("host", port)`, or a slice of addresses. weft's counterpart of
/// [`std::net::ToSocketAddrs`], whose host-name form blocks the thread in `getaddrinfo`;
/// here host names go through weft's async [`Resolver`].
///
/// The trait is sealed: its method is weft's business, the implementations are the list.
pub trait ToSocketAddrs: sealed::Sealed {}

mod sealed {
    use std::io;
    use std::net::SocketAddr;

    /// An address already known, or a host name still to resolve.
    pub enum Target<'a> {
        Known(Vec<SocketAddr>),
        Host(&'a str, u16),
    }

    pub trait Sealed {
        fn target(&self) -> io::Result<Target<'_>>;

        /// The host, for a name given with no port at all (`"localhost"`, `"::1"`), which
        /// a lookup accepts (port 0) and a connect does not.
        fn bare_host(&self) -> Option<&str> {
            None
        }
    }
}

use sealed::{Sealed, Target};

macro_rules! known_addresses {
    ($($ty:ty),*) => {$(
        impl ToSocketAddrs for $ty {}
        impl Sealed for $ty {
            fn target(&self) -> io::Result<Target<'_>> {
                Ok(Target::Known(vec![SocketAddr::from(*self)]))
            }
        }
    )*};
}

known_addresses!(
    SocketAddr,
    SocketAddrV4,
    SocketAddrV6,
    (IpAddr, u16),
    (Ipv4Addr, u16),
    (Ipv6Addr, u16)
);

impl ToSocketAddrs for [SocketAddr] {}
impl Sealed for [SocketAddr] {
    fn target(&self) -> io::Result<Target<'_>> {
        Ok(Target::Known(self.to_vec()))
    }
}

impl ToSocketAddrs for str {}
impl Sealed for str {
    fn target(&self) -> io::Result<Target<'_>> {
        if let Ok(addr) = self.parse::<SocketAddr>() {
            return Ok(Target::Known(vec![addr]));
        }
        let (host, port) = self.rsplit_once(':').ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, format!("{self:?} has no port"))
        })?;
        let port = port.parse().map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{self:?} has an invalid port"),
            )
        })?;
        Ok(Target::Host(host, port))
    }

    fn bare_host(&self) -> Option<&str> {
        (!self.contains(':') || self.parse::<IpAddr>().is_ok()).then_some(self)
    }
}

impl ToSocketAddrs for String {}
impl Sealed for String {
    fn target(&self) -> io::Result<Target<'_>> {
        self.as_str().target()
    }

    fn bare_host(&self) -> Option<&str> {
        self.as_str().bare_host()
    }
}

impl ToSocketAddrs for (&str, u16) {}
impl Sealed for (&str, u16) {
    fn target(&self) -> io::Result<Target<'_>> {
        Ok(host_and_port(self.0, self.1))
    }
}

fn host_and_port(host: &str, port: u16) -> Target<'_> {
    match host.parse::<IpAddr>() {
        Ok(ip) => Target::Known(vec![SocketAddr::new(ip, port)]),
        Err(_) => Target::Host(host, port),
    }
}

impl ToSocketAddrs for (String, u16) {}
impl Sealed for (String, u16) {
    fn target(&self) -> io::Result<Target<'_>> {
        Ok(host_and_port(&self.0, self.1))
    }
}

impl<T: ToSocketAddrs + ?Sized> ToSocketAddrs for &T {}
impl<T: Sealed + ?Sized> Sealed for &T {
    fn target(&self) -> io::Result<Target<'_>> {
        (**self).target()
    }

    fn bare_host(&self) -> Option<&str> {
        (**self).bare_host()
    }
}

/// Resolves `addr` into every socket address it names, without blocking the loop: IP
/// literals directly, host names through `/etc/hosts` and then the nameservers of
/// `/etc/resolv.conf` (see [`Resolver`], whose per-thread instance this uses, cache
/// included). asyncio's `loop.getaddrinfo`; gevent's cooperative `getaddrinfo`.
///
/// A host name with no port (`"localhost"`), as `getaddrinfo(host, None)` takes it, gives its
/// addresses with port 0. (Connecting needs a port: `TcpStream::connect("localhost")` is an
/// `InvalidInput` error that says so.)
///
/// ```
/// weft::run(async {
///     let addrs = weft::net::lookup_host("127.0.0.1:80").await.unwrap();
///     assert_eq!(addrs, vec!["127.0.0.1:80".parse().unwrap()]);
///     let local = weft::net::lookup_host(("localhost", 8080)).await.unwrap();
///     assert!(local.iter().all(|a| a.ip().is_loopback() && a.port() == 8080));
///     let bare = weft::net::lookup_host("localhost").await.unwrap();
///     assert!(bare.iter().all(|a| a.ip().is_loopback() && a.port() == 0));
/// });
/// ```
pub async fn lookup_host(addr: impl ToSocketAddrs) -> io::Result<Vec<SocketAddr>> {
    lookup_with(None, &addr).await
}

/// [`lookup_host`]'s rules (a bare host gets port 0) with `resolver`, or the thread's.
pub(crate) async fn lookup_with(
    resolver: Option<&Resolver>,
    addr: &(impl ToSocketAddrs + ?Sized),
) -> io::Result<Vec<SocketAddr>> {
    match addr.bare_host() {
        Some(host) => resolve_with(resolver, &(host, 0)).await,
        None => resolve_with(resolver, addr).await,
    }
}

pub(crate) async fn resolve(addr: &(impl ToSocketAddrs + ?Sized)) -> io::Result<Vec<SocketAddr>> {
    resolve_with(None, addr).await
}

/// Resolves with `resolver`, or this thread's default one when `None`.
pub(crate) async fn resolve_with(
    resolver: Option<&Resolver>,
    addr: &(impl ToSocketAddrs + ?Sized),
) -> io::Result<Vec<SocketAddr>> {
    match addr.target()? {
        Target::Known(addrs) => non_empty(addrs),
        Target::Host(host, port) => {
            #[cfg(feature = "sim")]
            if let Some(resolved) = crate::sim::resolve(host, port) {
                return resolved;
            }
            let ips = match resolver {
                Some(resolver) => resolver.lookup_ip(host).await?,
                None => Resolver::thread_default().lookup_ip(host).await?,
            };
            non_empty(
                ips.into_iter()
                    .map(|ip| SocketAddr::new(ip, port))
                    .collect(),
            )
        }
    }
}

fn non_empty(addrs: Vec<SocketAddr>) -> io::Result<Vec<SocketAddr>> {
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
    for addr in resolve(&addr).await? {
        match attempt(addr).await {
            Ok(value) => return Ok(value),
            Err(err) => last_error = Some(err),
        }
    }
    Err(last_error.expect("resolve returns at least one address"))
}
