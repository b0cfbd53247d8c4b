//! A simulated network on the virtual clock (feature `sim`): named hosts that run their own
//! tasks and talk through weft's own [`TcpStream`](crate::TcpStream),
//! [`TcpListener`](crate::TcpListener) and [`lookup_host`](crate::lookup_host), unchanged,
//! over an in-memory network with latency, jitter, bandwidth, cuts between hosts, and hosts
//! that crash and restart. The run is one thread, a paused clock that jumps whenever every
//! task waits, and the runtime's seeded scheduling: the same seed gives the same run, event
//! for event, and a simulated hour passes in moments.
//!
//! ```
//! use std::time::Duration;
//! use weft::io::{AsyncReadExt, AsyncWriteExt};
//! use weft::net::{TcpListener, TcpStream};
//! use weft::sim::Sim;
//!
//! let mut sim = Sim::new(7).latency(Duration::from_millis(50));
//! sim.host("server", || async {
//!     let listener = TcpListener::bind("0.0.0.0:7").await.unwrap();
//!     loop {
//!         let (mut conn, _) = listener.accept().await.unwrap();
//!         weft::spawn(async move {
//!             let mut buf = [0; 64];
//!             while let Ok(n @ 1..) = conn.read(&mut buf).await {
//!                 conn.write_all(&buf[..n]).await.unwrap();
//!             }
//!         });
//!     }
//! });
//! sim.client("client", async {
//!     let started = weft::time::Instant::now();
//!     let mut conn = TcpStream::connect("server:7").await?;
//!     conn.write_all(b"ping").await?;
//!     let mut reply = [0; 4];
//!     conn.read_exact(&mut reply).await?;
//!     assert_eq!(&reply, b"ping");
//!     // Two round trips of 100 ms: the handshake and the ping.
//!     assert_eq!(started.elapsed(), Duration::from_millis(200));
//!     Ok::<_, std::io::Error>(())
//! });
//! let report = sim.run().unwrap();
//! assert!(report.events > 0);
//! ```
//!
//! What is simulated and what is not is in `docs/sim.md`.

mod listen;
mod tcp;
mod udp;
mod world;

use std::fmt;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::rc::Rc;
use std::time::Duration;

use weft_runtime::runtime::Builder;
use weft_runtime::time::AutoAdvance;

pub(crate) use listen::{SimListener, connect};
pub(crate) use tcp::SimStream;
pub(crate) use udp::SimUdp;
pub(crate) use world::World;
use world::{FNV_START, HOST, HostMain, Link, fnv};

type ClientMain = Pin<Box<dyn Future<Output = Result<(), String>>>>;

/// A simulation: its seed, the network's behaviour, and its hosts. Build it, then
/// [`run`](Sim::run) it.
pub struct Sim {
    seed: u64,
    link: Link,
    hosts: Vec<(String, HostMain)>,
    clients: Vec<(String, ClientMain)>,
}

impl Sim {
    /// A simulation with `seed`, or with the seed in `WEFT_SIM_SEED` if that is set (how a
    /// failing run is replayed). The network starts with 1 ms latency, no jitter, no
    /// bandwidth limit.
    pub fn new(seed: u64) -> Sim {
        let seed = std::env::var("WEFT_SIM_SEED")
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(seed);
        Sim {
            seed,
            link: Link {
                latency: Duration::from_millis(1),
                jitter: Duration::ZERO,
                bandwidth: 0,
                udp_loss: 0,
            },
            hosts: Vec::new(),
            clients: Vec::new(),
        }
    }

    /// The seed this simulation runs with.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// One-way latency between two hosts.
    pub fn latency(mut self, latency: Duration) -> Sim {
        self.link.latency = latency;
        self
    }

    /// How far each segment's latency strays, up or down, seeded.
    pub fn jitter(mut self, jitter: Duration) -> Sim {
        self.link.jitter = jitter;
        self
    }

    /// Bytes a second each way of a connection (0: no limit).
    pub fn bandwidth(mut self, bytes_per_second: u64) -> Sim {
        self.link.bandwidth = bytes_per_second;
        self
    }

    /// The chance (0.0 to 1.0) that a UDP datagram between two hosts is lost, seeded.
    pub fn udp_loss(mut self, chance: f64) -> Sim {
        self.link.udp_loss = (chance.clamp(0.0, 1.0) * 1_000_000.0).round() as u32;
        self
    }

    /// A server host: `main` runs when the simulation starts, and again after each
    /// [`restart`]. Hosts get addresses 10.0.0.1, 10.0.0.2, ... in the order they are added,
    /// and their names resolve to them.
    pub fn host<F, Fut>(&mut self, name: &str, main: F) -> &mut Sim
    where
        F: Fn() -> Fut + 'static,
        Fut: Future<Output = ()> + 'static,
    {
        self.check_name(name);
        let main: HostMain = Rc::new(move || Box::pin(main()));
        self.hosts.push((name.to_owned(), main));
        self
    }

    /// A client host that runs `main` once. The simulation ends when every client has
    /// returned; an `Err` or a panic fails it.
    pub fn client<Fut, E>(&mut self, name: &str, main: Fut) -> &mut Sim
    where
        Fut: Future<Output = Result<(), E>> + 'static,
        E: fmt::Display,
    {
        self.check_name(name);
        let main: ClientMain = Box::pin(async move { main.await.map_err(|err| err.to_string()) });
        self.clients.push((name.to_owned(), main));
        self
    }

    fn check_name(&self, name: &str) {
        let taken = self.hosts.iter().map(|(n, _)| n);
        let taken = taken.chain(self.clients.iter().map(|(n, _)| n));
        assert!(
            !taken.into_iter().any(|n| n == name),
            "a simulation has one host named {name:?}"
        );
    }

    /// Runs the simulation to the end of its clients, on a fresh runtime with a paused clock
    /// that jumps to the next timer whenever every task waits, and the seed's schedule.
    pub fn run(self) -> Result<SimReport, SimError> {
        let Sim {
            seed,
            link,
            hosts,
            clients,
        } = self;
        let failed = |client: String, error: String| SimError {
            seed,
            client,
            error,
            test: std::thread::current().name().map(str::to_owned),
        };
        let runtime = Builder::new()
            .start_paused(true)
            .auto_advance(AutoAdvance::WhenIdle)
            .seed(seed)
            .build()
            .map_err(|err| failed(String::new(), format!("cannot build a runtime: {err}")))?;
        let outcome = runtime.try_block_on(async move {
            let world = Rc::new(World::new(seed, link));
            let _entered = World::enter(world.clone());
            for (name, main) in hosts {
                let host = world.add_host(&name);
                world.set_main(host, main);
                start(&world, host);
            }
            let mut running = Vec::new();
            for (name, main) in clients {
                let host = world.add_host(&name);
                let task = HOST.scoped((host, 0), || {
                    // Named, so a trace draws the client's tasks together.
                    weft_runtime::task::Builder::new()
                        .name(format!("client {name}"))
                        .spawn(main)
                });
                running.push((name, task));
            }
            for (name, task) in running {
                match task.await {
                    Ok(Ok(())) => {}
                    Ok(Err(error)) => return Err((name, error)),
                    Err(err) => return Err((name, err.to_string())),
                }
            }
            Ok(SimReport {
                seed,
                events: world.events(),
                hash: world.hash(),
                elapsed: weft_runtime::time::Instant::now() - world.started,
            })
        });
        match outcome {
            Ok(Ok(report)) => Ok(report),
            Ok(Err((client, error))) => Err(failed(client, error)),
            Err(stopped) => Err(failed(String::new(), stopped.to_string())),
        }
    }
}

impl fmt::Debug for Sim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sim")
            .field("seed", &self.seed)
            .field(
                "hosts",
                &self.hosts.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            )
            .field(
                "clients",
                &self.clients.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// Starts `host`'s main in its current life.
fn start(world: &World, host: usize) {
    let Some(main) = world.main(host) else {
        return;
    };
    let generation = world.up(host).unwrap_or(0);
    world.record("start", host, host, u64::from(generation));
    // Named, so a trace (`WEFT_TRACE`) draws the host's tasks together.
    let name = format!("host {}", world.name(host));
    drop(HOST.scoped((host, generation), || {
        weft_runtime::task::Builder::new()
            .name(name)
            .spawn(async move { main().await })
    }));
}

/// What a simulation that ran to its end did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimReport {
    /// The seed it ran with.
    pub seed: u64,
    /// How many network events happened (segments, connections, crashes ...).
    pub events: u64,
    /// A hash of every event, its hosts, its size and its virtual time: two runs with the
    /// same seed have the same.
    pub hash: u64,
    /// Virtual time from start to end.
    pub elapsed: Duration,
}

/// A simulation that failed: which client, why, and how to run it again.
#[derive(Debug, Clone)]
pub struct SimError {
    /// The seed it ran with.
    pub seed: u64,
    /// The client that failed (empty if the runtime stopped, e.g. on a deadlock).
    pub client: String,
    /// What it returned or panicked with.
    pub error: String,
    test: Option<String>,
}

impl SimError {
    /// The command that runs the same simulation again.
    pub fn replay(&self) -> String {
        match self.test.as_deref().filter(|t| *t != "main") {
            Some(test) => format!("WEFT_SIM_SEED={} cargo test -- --exact {test}", self.seed),
            None => format!("WEFT_SIM_SEED={} <the same command>", self.seed),
        }
    }
}

impl fmt::Display for SimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.client.is_empty() {
            write!(
                f,
                "the simulation with seed {} stopped: {}",
                self.seed, self.error
            )?;
        } else {
            write!(
                f,
                "the simulation with seed {} failed: client {:?}: {}",
                self.seed, self.client, self.error
            )?;
        }
        write!(f, "\nreplay it: {}", self.replay())
    }
}

impl std::error::Error for SimError {}

fn with_world<R>(what: &str, f: impl FnOnce(&World) -> R) -> R {
    let world = World::current().unwrap_or_else(|| {
        panic!("weft::sim::{what} is called from a task of a running simulation")
    });
    f(&world)
}

fn host_number(world: &World, name: &str) -> usize {
    world
        .host_named(name)
        .unwrap_or_else(|| panic!("the simulation has no host named {name:?}"))
}

/// Cuts `a` off from `b` (both ways): segments between them are held back and SYNs lost
/// until [`heal`].
pub fn partition(a: &str, b: &str) {
    with_world("partition", |world| {
        let (a, b) = (host_number(world, a), host_number(world, b));
        world.record("partition", a, b, 0);
        world.cut(a, b, true);
    });
}

/// Ends a [`partition`] between `a` and `b`; what was held back is delivered.
pub fn heal(a: &str, b: &str) {
    with_world("heal", |world| {
        let (a, b) = (host_number(world, a), host_number(world, b));
        world.record("heal", a, b, 0);
        world.cut(a, b, false);
    });
}

/// Crashes host `name`: every task of it and every socket it had are gone at once, with no
/// FIN and no reset; its peers see silence, and a reset once it is back and they send to
/// it. Returns how many tasks ended.
pub fn crash(name: &str) -> usize {
    with_world("crash", |world| {
        let host = host_number(world, name);
        world.record("crash", host, host, 0);
        world.bring_down(host);
        let ended = HOST.abort_tasks(|&(h, _)| h == host);
        // A paused host that crashes: its tasks are let go, to end.
        let paused = world.hosts.borrow_mut()[host].paused.take();
        drop(paused);
        ended
    })
}

/// Resets every live TCP connection between hosts `a` and `b` (a middlebox forgetting
/// them): both sides read `ConnectionReset` once the reset reaches them. Returns how many.
pub fn reset(a: &str, b: &str) -> usize {
    with_world("reset", |world| {
        let (a, b) = (host_number(world, a), host_number(world, b));
        world.record("reset connections", a, b, 0);
        tcp::reset_between(world, a, b)
    })
}

/// Pauses host `name`, as `SIGSTOP` stops a process: none of its tasks runs until
/// [`resume`], though its timers come due and its sockets keep receiving (up to their
/// windows, so its peers' writes wait). Its peers see a host that has gone quiet.
pub fn pause(name: &str) {
    with_world("pause", |world| {
        let host = host_number(world, name);
        world.record("pause", host, host, 0);
        let paused = HOST.pause_tasks(move |&(h, _)| h == host);
        world.hosts.borrow_mut()[host].paused = Some(paused);
    });
}

/// Lets a [`pause`]d host run again: what came due meanwhile happens now, late.
pub fn resume(name: &str) {
    with_world("resume", |world| {
        let host = host_number(world, name);
        world.record("resume", host, host, 0);
        let paused = world.hosts.borrow_mut()[host].paused.take();
        drop(paused);
    });
}

/// Starts a crashed host again, in a new life: its `main` runs again.
pub fn restart(name: &str) {
    with_world("restart", |world| {
        let host = host_number(world, name);
        world.bring_up(host);
        start(world, host);
    });
}

/// What [`buggify!`](crate::buggify) asks: in a running simulation, whether the fault at
/// `site` happens this time. A site is armed for the whole run with a chance of 1 in 4,
/// decided by the seed and the site; an armed site fires 1 time in 4. Outside a simulation,
/// never.
#[doc(hidden)]
pub fn buggify_at(site: &'static str) -> bool {
    let Some(world) = World::current() else {
        return false;
    };
    let armed = fnv(FNV_START ^ world.seed, site.as_bytes()) % 4 == 0;
    let fires = armed && world.random() % 4 == 0;
    if fires {
        world.record("buggify", 0, 0, fnv(FNV_START, site.as_bytes()));
    }
    fires
}

/// The address of simulated host `name`, if there is one.
pub fn ip(name: &str) -> Option<IpAddr> {
    World::current().and_then(|world| world.host_named(name).map(|h| world.ip(h)))
}

/// Resolves `host` in the running simulation: a host's name gives its address, `localhost`
/// a loopback one; `None` when no simulation runs.
pub(crate) fn resolve(host: &str, port: u16) -> Option<std::io::Result<Vec<SocketAddr>>> {
    let world = World::current()?;
    if host.eq_ignore_ascii_case("localhost") {
        return Some(Ok(vec![SocketAddr::from(([127, 0, 0, 1], port))]));
    }
    Some(match world.host_named(host) {
        Some(h) => Ok(vec![SocketAddr::new(world.ip(h), port)]),
        None => Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("failed to look up {host:?}: no simulated host has that name"),
        )),
    })
}
