//! Listening and connecting on the simulated network. Connecting sends a SYN that can be
//! refused (nothing listens: `ConnectionRefused` after a round trip), lost (a cut, a host
//! that is down, a full backlog: sent again after 1, 2, 4 ... 64 s, as Linux does, then
//! `TimedOut`) or accepted (the connection waits in the listener's queue for `accept`).

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use weft_runtime::time::{Instant, sleep, sleep_until};

use super::tcp::{Conn, End, SimStream};
use super::world::{Protocol, World, own_addr};

/// Linux's `tcp_syn_retries`.
const SYN_RETRIES: u32 = 6;

/// A listening socket on a simulated host.
struct ListenerState {
    host: usize,
    generation: u32,
    addr: SocketAddr,
    backlog: usize,
    queue: RefCell<VecDeque<SimStream>>,
    acceptor: RefCell<Option<Waker>>,
}

pub(crate) struct SimListener {
    state: Rc<ListenerState>,
}

impl SimListener {
    pub(crate) fn bind(addr: SocketAddr, backlog: usize) -> io::Result<SimListener> {
        let world = World::expect()?;
        let (host, generation) = world.here()?;
        let state = world.bind(Protocol::Tcp, host, addr, |port| {
            Rc::new(ListenerState {
                host,
                generation,
                addr: own_addr(&world, host, SocketAddr::new(addr.ip(), port)),
                backlog: backlog.max(1),
                queue: RefCell::new(VecDeque::new()),
                acceptor: RefCell::new(None),
            })
        })?;
        Ok(SimListener { state })
    }

    pub(crate) fn local_addr(&self) -> SocketAddr {
        self.state.addr
    }

    pub(crate) fn poll_accept(
        &self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<(SimStream, SocketAddr)>> {
        if let Some(stream) = self.state.queue.borrow_mut().pop_front() {
            let peer = stream.peer_addr();
            return Poll::Ready(Ok((stream, peer)));
        }
        *self.state.acceptor.borrow_mut() = Some(cx.waker().clone());
        Poll::Pending
    }
}

impl Drop for SimListener {
    fn drop(&mut self) {
        if let Some(world) = World::current() {
            let state = &self.state;
            world.unbind(Protocol::Tcp, state.host, state.addr.port(), state);
        }
    }
}

impl std::fmt::Debug for SimListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimListener")
            .field("addr", &self.state.addr)
            .finish()
    }
}

/// Connects from the calling task's host to `addr` on the simulated network.
pub(crate) async fn connect(addr: SocketAddr) -> io::Result<SimStream> {
    let world = World::expect()?;
    let (host, generation) = world.here()?;
    let target = if world.is_own(host, addr.ip()) {
        Some(host)
    } else {
        world.host_with_ip(addr.ip())
    };
    let local_ip = if addr.ip().is_loopback() {
        addr.ip()
    } else {
        world.ip(host)
    };
    let local = SocketAddr::new(local_ip, world.ephemeral_port(host));
    let mut backoff = Duration::from_secs(1);
    for _ in 0..=SYN_RETRIES {
        let started = Instant::now();
        if let Some(target) = target {
            sleep(world.transit(host, target, 0)).await;
            if let Some(target_generation) =
                world.up(target).filter(|_| world.reachable(host, target))
            {
                let listener: Option<Rc<ListenerState>> =
                    world.bound(Protocol::Tcp, target, addr.port());
                let listener = listener.filter(|l| l.generation == target_generation);
                let Some(listener) = listener else {
                    sleep(world.transit(target, host, 0)).await;
                    world.record("refused", host, target, u64::from(addr.port()));
                    return Err(io::Error::new(
                        io::ErrorKind::ConnectionRefused,
                        format!(
                            "connection refused: nothing listens on {addr} (simulated host {:?})",
                            world.name(target)
                        ),
                    ));
                };
                if listener.queue.borrow().len() < listener.backlog {
                    let (conn, stream, accepted) = Conn::open([
                        End {
                            host,
                            generation,
                            addr: local,
                        },
                        End {
                            host: target,
                            generation: target_generation,
                            addr: listener.addr,
                        },
                    ]);
                    world.record("connect", host, target, u64::from(addr.port()));
                    let made: Rc<dyn std::any::Any> = conn;
                    world.connected(host, target, &made);
                    listener.queue.borrow_mut().push_back(accepted);
                    if let Some(acceptor) = listener.acceptor.borrow_mut().take() {
                        acceptor.wake();
                    }
                    sleep(world.transit(target, host, 0)).await;
                    return Ok(stream);
                }
                // A full backlog drops the SYN, as Linux does: the client tries again.
            }
        }
        world.record("syn lost", host, target.unwrap_or(usize::MAX), 0);
        sleep_until(started + backoff).await;
        backoff *= 2;
    }
    Err(io::Error::new(
        io::ErrorKind::TimedOut,
        format!("connecting to {addr} timed out (simulated: no answer to 7 SYNs over 127 s)"),
    ))
}
