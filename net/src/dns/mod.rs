//! Name resolution that never blocks the loop: IP literals, then `/etc/hosts`, then an async
//! DNS stub client asking the nameservers in `/etc/resolv.conf`.
//!
//! The stub client asks for A and AAAA records at once over UDP (each query on its own
//! connected socket, with a random id and the question checked in the reply), waits
//! `timeout` per try, tries every nameserver in turn for `attempts` rounds, repeats a
//! truncated answer's question over TCP, follows CNAME chains (in the reply, or by asking
//! again for the target) and caches answers for as long as their TTL says.
//!
//! A short name is tried in the `search` (or `domain`) domains as glibc does: before the name
//! itself when it has fewer than `ndots` dots, after it otherwise; only "no such name" moves on
//! to the next. Difference from glibc, on purpose: `localhost` and `*.localhost` always mean
//! the loopback addresses (RFC 6761) when `/etc/hosts` does not say otherwise.

mod cache;
mod config;
mod wire;

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::rc::Rc;
use std::time::{Duration, SystemTime};

use weft_runtime::time::{timeout, timeout_at};

use crate::UdpSocket;
use crate::io::{AsyncReadExt, AsyncWriteExt};
use cache::Cache;
use wire::{RecordType, Reply};

/// How many CNAME links one lookup follows before giving up.
const MAX_CNAME_HOPS: usize = 8;
/// RCODE "no such name".
const NXDOMAIN: u8 = 3;

/// Where and how a [`Resolver`] asks.
///
/// ```
/// use std::time::Duration;
/// use weft::net::ResolverConfig;
/// let config = ResolverConfig::with_nameservers(["127.0.0.1:5353".parse().unwrap()])
///     .timeout(Duration::from_millis(500))
///     .attempts(3)
///     .host("db.internal", "10.0.0.7".parse().unwrap());
/// assert_eq!(config.nameservers().len(), 1);
/// ```
#[derive(Clone, Debug)]
pub struct ResolverConfig {
    nameservers: Vec<SocketAddr>,
    timeout: Duration,
    attempts: u32,
    hosts: HashMap<String, Vec<IpAddr>>,
    search: Vec<String>,
    ndots: u32,
}

impl ResolverConfig {
    /// The machine's configuration: `/etc/resolv.conf` (nameservers, `search`/`domain`,
    /// `options timeout: attempts: ndots:`) and `/etc/hosts`. A missing file counts as an
    /// empty one, which means glibc's defaults: a nameserver on 127.0.0.1, no search domains,
    /// 5 s timeout, 2 attempts, ndots 1.
    pub fn system() -> ResolverConfig {
        let read = |path| std::fs::read_to_string(path).unwrap_or_default();
        let conf = config::parse_resolv_conf(&read("/etc/resolv.conf"));
        ResolverConfig {
            nameservers: conf.nameservers,
            timeout: conf.timeout,
            attempts: conf.attempts,
            hosts: config::parse_hosts(&read("/etc/hosts")),
            search: conf.search,
            ndots: conf.ndots,
        }
    }

    /// Asks exactly these nameservers (no hosts file), with a 2 s timeout and 2 attempts.
    pub fn with_nameservers(nameservers: impl IntoIterator<Item = SocketAddr>) -> ResolverConfig {
        ResolverConfig {
            nameservers: nameservers.into_iter().collect(),
            timeout: Duration::from_secs(2),
            attempts: 2,
            hosts: HashMap::new(),
            search: Vec::new(),
            ndots: 1,
        }
    }

    /// How long to wait for one server's reply to one try.
    pub fn timeout(mut self, timeout: Duration) -> ResolverConfig {
        self.timeout = timeout;
        self
    }

    /// How many rounds over all the nameservers before giving up (at least 1).
    pub fn attempts(mut self, attempts: u32) -> ResolverConfig {
        self.attempts = attempts.max(1);
        self
    }

    /// Adds a static entry, as a line of `/etc/hosts` would.
    pub fn host(mut self, name: &str, ip: IpAddr) -> ResolverConfig {
        self.hosts
            .entry(name.to_ascii_lowercase())
            .or_default()
            .push(ip);
        self
    }

    /// Domains to try a name in, as resolv.conf's `search` line: a name with fewer than
    /// `ndots` dots (default 1) is tried in each of them first and then as it is; any other
    /// name as it is first. A name ending in `.` is only ever tried as it is.
    pub fn search(
        mut self,
        domains: impl IntoIterator<Item = impl Into<String>>,
        ndots: u32,
    ) -> ResolverConfig {
        self.search = domains
            .into_iter()
            .map(|d| d.into().trim_end_matches('.').to_ascii_lowercase())
            .collect();
        self.ndots = ndots;
        self
    }

    /// The names to ask for, in order, for `name` (lower case, as given).
    fn candidates(&self, name: &str) -> Vec<String> {
        if let Some(absolute) = name.strip_suffix('.') {
            return vec![absolute.to_owned()];
        }
        let searched = self.search.iter().map(|domain| format!("{name}.{domain}"));
        let dots = name.matches('.').count() as u32;
        if dots >= self.ndots {
            std::iter::once(name.to_owned()).chain(searched).collect()
        } else {
            searched.chain(std::iter::once(name.to_owned())).collect()
        }
    }

    /// The nameservers asked, in order.
    pub fn nameservers(&self) -> &[SocketAddr] {
        &self.nameservers
    }
}

/// An async DNS stub resolver with a TTL cache. Cloning is cheap and shares the cache.
///
/// [`lookup_host`](crate::lookup_host) and every `connect`/`bind` taking a host name use
/// a per-thread resolver built from [`ResolverConfig::system`]; make your own to ask other
/// servers.
///
/// ```
/// use weft::net::Resolver;
/// weft::run(async {
///     let resolver = Resolver::system();
///     let ips = resolver.lookup_ip("localhost").await.unwrap();
///     assert!(ips.iter().all(|ip| ip.is_loopback()));
/// });
/// ```
#[derive(Clone, Debug)]
pub struct Resolver {
    inner: Rc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: ResolverConfig,
    cache: RefCell<Cache>,
    rng: Cell<u64>,
}

impl Resolver {
    /// A resolver asking as `config` says.
    pub fn new(config: ResolverConfig) -> Resolver {
        let seed = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0x9e37_79b9, |d| d.as_nanos() as u64);
        Resolver {
            inner: Rc::new(Inner {
                config,
                cache: RefCell::new(Cache::default()),
                rng: Cell::new(seed | 1),
            }),
        }
    }

    /// A resolver for the machine's configuration ([`ResolverConfig::system`]).
    pub fn system() -> Resolver {
        Resolver::new(ResolverConfig::system())
    }

    /// This thread's shared system resolver, made on first use.
    pub(crate) fn thread_default() -> Resolver {
        thread_local! {
            static DEFAULT: Resolver = Resolver::system();
        }
        DEFAULT.with(Resolver::clone)
    }

    /// Every address of `name`: IPv4 first, then IPv6. A name that does not exist is
    /// `NotFound`; no reply from any nameserver is `TimedOut`; a malformed reply from every
    /// server is `InvalidData`.
    pub async fn lookup_ip(&self, name: &str) -> io::Result<Vec<IpAddr>> {
        if let Ok(ip) = name
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
        {
            return Ok(vec![ip]);
        }
        let name = name.to_ascii_lowercase();
        let bare = name.strip_suffix('.').unwrap_or(&name);
        if let Some(ips) = self.inner.config.hosts.get(bare) {
            return Ok(ips.clone());
        }
        if bare == "localhost" || bare.ends_with(".localhost") {
            return Ok(vec![Ipv4Addr::LOCALHOST.into(), Ipv6Addr::LOCALHOST.into()]);
        }
        // Each candidate from the search list in turn; only "no such name" moves on (a
        // timeout or a broken server would fail the next candidate just the same).
        let mut not_found = None;
        for candidate in self.inner.config.candidates(&name) {
            // Boxed: a query's future is kilobytes (two questions at once, each with its
            // buffers, timers and TCP fallback), and every future that may resolve a name —
            // each `TcpStream::connect` — would otherwise be that large even when the name is
            // an address or in the hosts file. The allocation is paid only when a query goes
            // out on the network.
            match Box::pin(self.lookup_name(&candidate)).await {
                Err(err) if err.kind() == io::ErrorKind::NotFound => not_found = Some(err),
                other => return other,
            }
        }
        Err(not_found.unwrap_or_else(|| {
            io::Error::new(io::ErrorKind::NotFound, format!("no such host: {bare}"))
        }))
    }

    /// A and AAAA records of one fully qualified `name`.
    async fn lookup_name(&self, name: &str) -> io::Result<Vec<IpAddr>> {
        let (v4, v6) = weft_runtime::join!(
            self.lookup_type(name, RecordType::A),
            self.lookup_type(name, RecordType::Aaaa)
        );
        match (v4, v6) {
            (Ok(mut v4), Ok(v6)) if !(v4.is_empty() && v6.is_empty()) => {
                v4.extend(v6);
                Ok(v4)
            }
            (Ok(_), Ok(_)) => Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("{name} has no address records"),
            )),
            (Ok(ips), Err(_)) | (Err(_), Ok(ips)) if !ips.is_empty() => Ok(ips),
            (Err(err), _) | (_, Err(err)) => Err(err),
        }
    }

    /// Resolves `host:port` forms (see [`ToSocketAddrs`](crate::ToSocketAddrs)), or a bare
    /// host (port 0), with this resolver, as [`lookup_host`](crate::lookup_host) does.
    pub async fn lookup_host(
        &self,
        addr: impl crate::ToSocketAddrs,
    ) -> io::Result<Vec<SocketAddr>> {
        crate::addr::lookup_with(Some(self), &addr).await
    }

    /// Forgets every cached answer.
    pub fn clear_cache(&self) {
        self.inner.cache.borrow_mut().clear();
    }

    /// The addresses of one type, from the cache or by asking, following CNAMEs.
    async fn lookup_type(&self, name: &str, rtype: RecordType) -> io::Result<Vec<IpAddr>> {
        if let Some(ips) = self.inner.cache.borrow_mut().get(name, rtype) {
            return Ok(ips);
        }
        let mut asking = name.to_owned();
        let mut ttl = u32::MAX;
        for _ in 0..MAX_CNAME_HOPS {
            let reply = self.exchange(&asking, rtype).await?;
            if reply.rcode == NXDOMAIN {
                return Err(io::Error::new(
                    io::ErrorKind::NotFound,
                    format!("no such host: {name}"),
                ));
            }
            let (target, ips, chain_ttl) = follow_chain(&reply, &asking)?;
            ttl = ttl.min(chain_ttl);
            if !ips.is_empty() || target == asking {
                self.inner.cache.borrow_mut().insert(name, rtype, &ips, ttl);
                return Ok(ips);
            }
            // The chain leaves this reply without an address: ask for where it points.
            asking = target;
        }
        Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{name}: CNAME chain longer than {MAX_CNAME_HOPS} links"),
        ))
    }

    /// One question, answered with NOERROR or NXDOMAIN by some server, or the last failure.
    async fn exchange(&self, name: &str, rtype: RecordType) -> io::Result<Reply> {
        let config = &self.inner.config;
        let mut last_error = io::Error::new(io::ErrorKind::NotFound, "no nameservers configured");
        for _ in 0..config.attempts {
            for &server in &config.nameservers {
                let id = self.next_id();
                let query = wire::encode_query(id, name, rtype)?;
                let question = Question {
                    query: &query,
                    id,
                    name,
                    rtype,
                };
                let mut answer = ask_udp(server, &question, config.timeout).await;
                if matches!(&answer, Ok(reply) if reply.truncated) {
                    answer = ask_tcp(server, &question, config.timeout).await;
                }
                match answer {
                    Ok(reply) if reply.rcode == 0 || reply.rcode == NXDOMAIN => return Ok(reply),
                    Ok(reply) => {
                        last_error = io::Error::other(format!(
                            "nameserver {server} answered {name} with error code {}",
                            reply.rcode
                        ));
                    }
                    Err(err) => {
                        last_error = io::Error::new(
                            err.kind(),
                            format!("nameserver {server}, asking for {name}: {err}"),
                        );
                    }
                }
            }
        }
        Err(last_error)
    }

    /// A query id no one on the path can guess (xorshift64*, seeded from the clock).
    fn next_id(&self) -> u16 {
        let mut x = self.inner.rng.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.inner.rng.set(x);
        (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 48) as u16
    }
}

/// Walks `reply`'s CNAMEs from `name`: the last name reached, its addresses, and the lowest
/// TTL on the way.
fn follow_chain(reply: &Reply, name: &str) -> io::Result<(String, Vec<IpAddr>, u32)> {
    let mut at = name.to_owned();
    let mut ttl = u32::MAX;
    for _ in 0..=MAX_CNAME_HOPS {
        let ips: Vec<IpAddr> = reply
            .addresses
            .iter()
            .filter(|(owner, _, _)| *owner == at)
            .map(|&(_, ip, record_ttl)| {
                ttl = ttl.min(record_ttl);
                ip
            })
            .collect();
        if !ips.is_empty() {
            return Ok((at, ips, ttl));
        }
        match reply.aliases.iter().find(|(alias, _, _)| *alias == at) {
            Some((_, target, record_ttl)) => {
                ttl = ttl.min(*record_ttl);
                at = target.clone();
            }
            None => return Ok((at, Vec::new(), ttl)),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::InvalidData,
        format!("{name}: the reply's CNAME records loop"),
    ))
}

/// One query on the wire, and what its reply must answer.
struct Question<'a> {
    query: &'a [u8],
    id: u16,
    name: &'a str,
    rtype: RecordType,
}

impl Question<'_> {
    fn decode(&self, reply: &[u8]) -> io::Result<Reply> {
        wire::decode_reply(reply, self.id, self.name, self.rtype)
    }
}

/// Asks `server` over UDP and waits `limit` for the reply. Datagrams that are not the reply
/// to this query (wrong id) are ignored, as a spoofing attempt or a late answer would be.
async fn ask_udp(
    server: SocketAddr,
    question: &Question<'_>,
    limit: Duration,
) -> io::Result<Reply> {
    let local: SocketAddr = match server {
        SocketAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
        SocketAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    let socket = UdpSocket::bind_addr(local)?;
    socket.connect_addr(server)?;
    // The reply is on its way from outside: a paused test clock must not jump to the
    // deadline in the meantime, unless the real time is up too (a silent server).
    let _hold = weft_runtime::time::hold_auto_advance_for(limit);
    let deadline = weft_runtime::time::Instant::now() + limit;
    socket.send(question.query).await?;
    let mut buf = [0u8; 512];
    loop {
        let n = timeout_at(deadline, socket.recv(&mut buf)).await??;
        if n >= 2 && buf[..2] == question.id.to_be_bytes() {
            return question.decode(&buf[..n]);
        }
    }
}

/// Asks `server` over TCP (two-byte length prefix, RFC 1035 §4.2.2), all within `limit`.
async fn ask_tcp(
    server: SocketAddr,
    question: &Question<'_>,
    limit: Duration,
) -> io::Result<Reply> {
    let _hold = weft_runtime::time::hold_auto_advance_for(limit);
    timeout(limit, async {
        let mut stream = crate::tcp::connect_one(server).await?;
        let mut framed = (question.query.len() as u16).to_be_bytes().to_vec();
        framed.extend_from_slice(question.query);
        stream.write_all(&framed).await?;
        let mut len = [0u8; 2];
        stream.read_exact(&mut len).await?;
        let mut reply = vec![0u8; usize::from(u16::from_be_bytes(len))];
        stream.read_exact(&mut reply).await?;
        let reply = question.decode(&reply)?;
        if reply.truncated {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "malformed DNS reply: truncated over TCP",
            ));
        }
        Ok(reply)
    })
    .await?
}
