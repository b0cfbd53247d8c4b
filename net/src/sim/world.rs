//! The simulated network's state: its hosts and their addresses, the listeners, which hosts
//! are cut off from which, the link's latency and bandwidth, a seeded random stream, and a
//! running hash of every event (what makes "same seed, same run" checkable). One world per
//! simulation, on the thread that runs it; the sockets find it through [`World::current`].

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::rc::Rc;
use std::time::Duration;

use weft_runtime::task::ContextVar;
use weft_runtime::time::Instant;

use std::any::Any;

/// The host a task runs on: its number and the life (generation) it was started in. Set on
/// a host's main task; every task it spawns inherits it.
pub(crate) static HOST: ContextVar<(usize, u32)> = ContextVar::new("weft::sim host");

/// The host of the network's own tasks (the couriers): none, so no host's crash ends them.
pub(crate) const NETWORK: (usize, u32) = (usize::MAX, 0);

thread_local! {
    static CURRENT: RefCell<Option<Rc<World>>> = const { RefCell::new(None) };
}

/// A bound socket's kind: TCP and UDP ports are separate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Protocol {
    Tcp,
    Udp,
}

/// A connection between two hosts, as the TCP module made it.
type Connection = (usize, usize, std::rc::Weak<dyn Any>);

/// A port of a host, for a protocol.
type Port = (Protocol, usize, u16);

/// How the network behaves between any two hosts.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Link {
    pub latency: Duration,
    /// The most a segment's latency varies, up or down (seeded).
    pub jitter: Duration,
    /// Bytes a second each way of each connection; 0: no limit.
    pub bandwidth: u64,
    /// The chance that a UDP datagram between two hosts is lost, in millionths.
    pub udp_loss: u32,
}

/// What a server host runs at each start.
pub(crate) type HostMain = Rc<dyn Fn() -> std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>>;

pub(crate) struct HostState {
    pub name: String,
    pub main: Option<HostMain>,
    /// Its tasks held back while it is paused.
    pub paused: Option<weft_runtime::task::PausedTasks>,
    pub ip: IpAddr,
    /// Bumped by each crash: sockets and tasks of an earlier life are dead.
    pub generation: u32,
    pub up: bool,
    pub next_port: u16,
}

pub(crate) struct World {
    pub seed: u64,
    pub link: Link,
    pub started: Instant,
    rng: Cell<u64>,
    pub hosts: RefCell<Vec<HostState>>,
    /// Bound sockets (TCP listeners, UDP sockets) by protocol, host and port, each its
    /// module's own state.
    bound: RefCell<BTreeMap<Port, Rc<dyn Any>>>,
    /// Every TCP connection made, between which hosts, as its module made it (for
    /// `weft::sim::reset`); the gone ones are swept out as new ones come.
    connections: RefCell<Vec<Connection>>,
    /// Pairs of hosts (smaller number first) that cannot reach each other.
    cut: RefCell<BTreeSet<(usize, usize)>>,
    hash: Cell<u64>,
    events: Cell<u64>,
}

impl World {
    pub(crate) fn new(seed: u64, link: Link) -> World {
        World {
            seed,
            link,
            started: Instant::now(),
            // splitmix64's state: any value works, a seed of 0 included.
            rng: Cell::new(seed ^ 0x9E37_79B9_7F4A_7C15),
            hosts: RefCell::new(Vec::new()),
            bound: RefCell::new(BTreeMap::new()),
            connections: RefCell::new(Vec::new()),
            cut: RefCell::new(BTreeSet::new()),
            hash: Cell::new(FNV_START),
            events: Cell::new(0),
        }
    }

    /// The simulation running on this thread, if any.
    #[inline]
    pub(crate) fn current() -> Option<Rc<World>> {
        CURRENT.with(|current| current.borrow().clone())
    }

    /// Makes `world` this thread's until the guard is dropped.
    pub(crate) fn enter(world: Rc<World>) -> Entered {
        CURRENT.with(|current| *current.borrow_mut() = Some(world));
        Entered(())
    }

    /// The simulation's world, or an error that says a simulated socket outlived it.
    pub(crate) fn expect() -> io::Result<Rc<World>> {
        World::current().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotConnected,
                "the simulation this socket belonged to has ended",
            )
        })
    }

    pub(crate) fn add_host(&self, name: &str) -> usize {
        let mut hosts = self.hosts.borrow_mut();
        let number = hosts.len();
        // 10.0.0.1, 10.0.0.2, ... 10.0.1.0 ...: one private address per host.
        let n = u32::try_from(number + 1).unwrap_or(u32::MAX);
        let ip = IpAddr::V4(Ipv4Addr::from(0x0A00_0000 | n));
        hosts.push(HostState {
            name: name.to_owned(),
            main: None,
            paused: None,
            ip,
            generation: 0,
            up: true,
            next_port: 49152,
        });
        number
    }

    pub(crate) fn set_main(&self, host: usize, main: HostMain) {
        self.hosts.borrow_mut()[host].main = Some(main);
    }

    pub(crate) fn main(&self, host: usize) -> Option<HostMain> {
        self.hosts.borrow()[host].main.clone()
    }

    /// Ends `host`'s life: its sockets are dead from now on, its bound ones gone.
    pub(crate) fn bring_down(&self, host: usize) {
        {
            let mut hosts = self.hosts.borrow_mut();
            hosts[host].generation += 1;
            hosts[host].up = false;
        }
        self.bound.borrow_mut().retain(|&(_, h, _), _| h != host);
    }

    /// Starts `host`'s next life (after [`bring_down`](World::bring_down)).
    pub(crate) fn bring_up(&self, host: usize) {
        self.hosts.borrow_mut()[host].up = true;
        self.record("restart", host, host, 0);
    }

    pub(crate) fn host_named(&self, name: &str) -> Option<usize> {
        self.hosts.borrow().iter().position(|h| h.name == name)
    }

    pub(crate) fn host_with_ip(&self, ip: IpAddr) -> Option<usize> {
        self.hosts.borrow().iter().position(|h| h.ip == ip)
    }

    pub(crate) fn name(&self, host: usize) -> String {
        self.hosts.borrow()[host].name.clone()
    }

    pub(crate) fn ip(&self, host: usize) -> IpAddr {
        self.hosts.borrow()[host].ip
    }

    /// Whether `host` is up in life `generation`.
    pub(crate) fn alive(&self, host: usize, generation: u32) -> bool {
        let hosts = self.hosts.borrow();
        hosts[host].up && hosts[host].generation == generation
    }

    pub(crate) fn up(&self, host: usize) -> Option<u32> {
        let hosts = self.hosts.borrow();
        hosts[host].up.then_some(hosts[host].generation)
    }

    /// The host the calling task runs on, and its life; an error outside any host.
    pub(crate) fn here(&self) -> io::Result<(usize, u32)> {
        HOST.get().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::Unsupported,
                "a socket in a simulation is used from a task of a host (Sim::host or Sim::client)",
            )
        })
    }

    /// A free port on `host`, from 49152 up.
    pub(crate) fn ephemeral_port(&self, host: usize) -> u16 {
        let mut hosts = self.hosts.borrow_mut();
        let next = &mut hosts[host].next_port;
        let port = *next;
        *next = if *next == u16::MAX { 49152 } else { *next + 1 };
        port
    }

    /// Binds the socket `make` makes for its port to `addr` on `host`: its port, or a free
    /// one for port 0; an error for another host's address or a port taken.
    pub(crate) fn bind<T: 'static>(
        &self,
        protocol: Protocol,
        host: usize,
        addr: SocketAddr,
        make: impl FnOnce(u16) -> Rc<T>,
    ) -> io::Result<Rc<T>> {
        if !self.is_own(host, addr.ip()) {
            return Err(io::Error::new(
                io::ErrorKind::AddrNotAvailable,
                format!(
                    "{} is not an address of simulated host {:?} ({})",
                    addr.ip(),
                    self.name(host),
                    self.ip(host)
                ),
            ));
        }
        let port = match addr.port() {
            0 => self.ephemeral_port(host),
            port => port,
        };
        let mut bound = self.bound.borrow_mut();
        if bound.contains_key(&(protocol, host, port)) {
            return Err(io::Error::new(
                io::ErrorKind::AddrInUse,
                format!(
                    "{protocol:?} port {port} of simulated host {:?} is taken",
                    self.name(host)
                ),
            ));
        }
        let socket = make(port);
        bound.insert((protocol, host, port), socket.clone());
        drop(bound);
        self.record("bind", host, host, u64::from(port));
        Ok(socket)
    }

    /// The socket of `protocol` bound to `port` on `host`, as its module made it.
    pub(crate) fn bound<T: 'static>(
        &self,
        protocol: Protocol,
        host: usize,
        port: u16,
    ) -> Option<Rc<T>> {
        let socket = self.bound.borrow().get(&(protocol, host, port)).cloned()?;
        socket.downcast().ok()
    }

    /// Notes a connection between hosts `a` and `b`.
    pub(crate) fn connected(&self, a: usize, b: usize, connection: &Rc<dyn Any>) {
        let mut connections = self.connections.borrow_mut();
        // Amortized: the list is swept when it has doubled since the last sweep.
        if connections.len() >= 64 && connections.len().is_power_of_two() {
            connections.retain(|(_, _, c)| c.strong_count() > 0);
        }
        connections.push((a, b, Rc::downgrade(connection)));
    }

    /// The live connections between hosts `a` and `b`, in the order they were made.
    pub(crate) fn connections_between<T: 'static>(&self, a: usize, b: usize) -> Vec<Rc<T>> {
        self.connections
            .borrow()
            .iter()
            .filter(|&&(x, y, _)| (x, y) == (a, b) || (x, y) == (b, a))
            .filter_map(|(_, _, c)| c.upgrade()?.downcast().ok())
            .collect()
    }

    /// Frees `port` of `host`, if `socket` still holds it.
    pub(crate) fn unbind<T>(&self, protocol: Protocol, host: usize, port: u16, socket: &Rc<T>) {
        let mut bound = self.bound.borrow_mut();
        let key = (protocol, host, port);
        let ours = |s: &Rc<dyn Any>| std::ptr::addr_eq(Rc::as_ptr(s), Rc::as_ptr(socket));
        if bound.get(&key).is_some_and(ours) {
            bound.remove(&key);
        }
    }

    /// Whether a segment from `a` can reach `b` now.
    pub(crate) fn reachable(&self, a: usize, b: usize) -> bool {
        a == b || !self.cut.borrow().contains(&(a.min(b), a.max(b)))
    }

    pub(crate) fn cut(&self, a: usize, b: usize, cut: bool) {
        let pair = (a.min(b), a.max(b));
        if cut {
            self.cut.borrow_mut().insert(pair);
        } else {
            self.cut.borrow_mut().remove(&pair);
        }
    }

    /// How long a segment of `bytes` takes from `a` to `b`: none on one host, else the
    /// latency, the seeded jitter and the time to send it at the link's bandwidth.
    pub(crate) fn transit(&self, a: usize, b: usize, bytes: usize) -> Duration {
        if a == b {
            return Duration::ZERO;
        }
        let link = self.link;
        let mut time = link.latency;
        if !link.jitter.is_zero() {
            let span = link.jitter.as_nanos() as u64;
            let offset = self.random() % (2 * span + 1);
            time = (time + Duration::from_nanos(offset)).saturating_sub(link.jitter);
        }
        if let Some(nanos) = (bytes as u64 * 1_000_000_000).checked_div(link.bandwidth) {
            time += Duration::from_nanos(nanos);
        }
        time
    }

    /// The next number of the seeded stream (splitmix64).
    pub(crate) fn random(&self) -> u64 {
        let state = self.rng.get().wrapping_add(0x9E37_79B9_7F4A_7C15);
        self.rng.set(state);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Whether an event of chance `millionths` happens (seeded).
    pub(crate) fn chance(&self, millionths: u32) -> bool {
        millionths > 0 && self.random() % 1_000_000 < u64::from(millionths)
    }

    /// Adds an event to the run's hash: its kind, the hosts and a number, and the virtual
    /// time it happened at.
    pub(crate) fn record(&self, kind: &str, a: usize, b: usize, n: u64) {
        let at = Instant::now()
            .saturating_duration_since(self.started)
            .as_nanos() as u64;
        let mut hash = fnv(self.hash.get(), kind.as_bytes());
        for number in [a as u64, b as u64, n, at] {
            hash = fnv(hash, &number.to_le_bytes());
        }
        self.hash.set(hash);
        self.events.set(self.events.get() + 1);
    }

    pub(crate) fn hash(&self) -> u64 {
        self.hash.get()
    }

    pub(crate) fn events(&self) -> u64 {
        self.events.get()
    }

    /// The address `addr` names on `host`: its own address, or a loopback one.
    pub(crate) fn is_own(&self, host: usize, ip: IpAddr) -> bool {
        ip.is_unspecified() || ip.is_loopback() || ip == self.ip(host)
    }
}

/// FNV-1a's starting value.
pub(crate) const FNV_START: u64 = 0xcbf2_9ce4_8422_2325;

/// `hash` (FNV-1a) carried on over `bytes`.
pub(crate) fn fnv(mut hash: u64, bytes: &[u8]) -> u64 {
    for &byte in bytes {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// This thread's simulation until dropped.
pub(crate) struct Entered(());

impl Drop for Entered {
    fn drop(&mut self) {
        CURRENT.with(|current| current.borrow_mut().take());
    }
}

/// `addr` with the host's own address for an unspecified or loopback one.
pub(crate) fn own_addr(world: &World, host: usize, addr: SocketAddr) -> SocketAddr {
    if addr.ip().is_loopback() {
        addr
    } else {
        SocketAddr::new(world.ip(host), addr.port())
    }
}
