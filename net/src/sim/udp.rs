//! UDP on the simulated network: each datagram travels on its own, after the latency and its
//! own seeded jitter (so datagrams can arrive out of order, as on a real network), and is
//! lost with the link's seeded chance, across a cut, to a host that is down, to a port
//! nobody has bound, or to a socket whose queue is full. Sending never waits.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use weft_runtime::time::sleep;

use super::world::{HOST, NETWORK, Protocol, World, own_addr};

/// Datagrams a socket holds unread before it drops new ones (a receive buffer).
const QUEUE: usize = 256;
/// The largest datagram: what fits in an IPv4 UDP packet.
const MAX_DATAGRAM: usize = 65_507;

struct UdpState {
    host: usize,
    generation: u32,
    addr: SocketAddr,
    queue: RefCell<VecDeque<(Vec<u8>, SocketAddr)>>,
    reader: RefCell<Option<Waker>>,
    peer: Cell<Option<SocketAddr>>,
}

/// A simulated UDP socket.
pub(crate) struct SimUdp {
    state: Rc<UdpState>,
}

impl SimUdp {
    pub(crate) fn bind(addr: SocketAddr) -> io::Result<SimUdp> {
        let world = World::expect()?;
        let (host, generation) = world.here()?;
        let state = world.bind(Protocol::Udp, host, addr, |port| {
            Rc::new(UdpState {
                host,
                generation,
                addr: own_addr(&world, host, SocketAddr::new(addr.ip(), port)),
                queue: RefCell::new(VecDeque::new()),
                reader: RefCell::new(None),
                peer: Cell::new(None),
            })
        })?;
        Ok(SimUdp { state })
    }

    pub(crate) fn local_addr(&self) -> SocketAddr {
        self.state.addr
    }

    pub(crate) fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.state
            .peer
            .get()
            .ok_or_else(|| io::ErrorKind::NotConnected.into())
    }

    pub(crate) fn connect(&self, peer: SocketAddr) {
        self.state.peer.set(Some(peer));
        // What came from others before is not for a connected socket.
        self.state
            .queue
            .borrow_mut()
            .retain(|&(_, from)| from == peer);
    }

    /// Sends one datagram to `target` (to the connected peer for `None`).
    pub(crate) fn send_to(&self, buf: &[u8], target: Option<SocketAddr>) -> io::Result<usize> {
        let world = World::expect()?;
        let target = match target.or(self.state.peer.get()) {
            Some(target) => target,
            None => return Err(io::ErrorKind::NotConnected.into()),
        };
        if buf.len() > MAX_DATAGRAM {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "a datagram of {} bytes is larger than UDP carries",
                    buf.len()
                ),
            ));
        }
        let from = self.state.host;
        let to = if world.is_own(from, target.ip()) {
            Some(from)
        } else {
            world.host_with_ip(target.ip())
        };
        let Some(to) = to else {
            world.record("udp nowhere", from, usize::MAX, buf.len() as u64);
            return Ok(buf.len());
        };
        if from != to && world.chance(world.link.udp_loss) {
            world.record("udp lost", from, to, buf.len() as u64);
            return Ok(buf.len());
        }
        world.record("udp", from, to, buf.len() as u64);
        let delay = world.transit(from, to, buf.len());
        let (datagram, sender) = (buf.to_vec(), self.state.addr);
        drop(HOST.scoped(NETWORK, || {
            weft_runtime::task::spawn(async move {
                sleep(delay).await;
                deliver(from, to, target.port(), datagram, sender);
            })
        }));
        Ok(buf.len())
    }

    /// Takes the next datagram, or says `WouldBlock`.
    pub(crate) fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        let Some((datagram, from)) = self.state.queue.borrow_mut().pop_front() else {
            return Err(io::ErrorKind::WouldBlock.into());
        };
        let n = datagram.len().min(buf.len());
        buf[..n].copy_from_slice(&datagram[..n]);
        Ok((n, from))
    }

    pub(crate) fn poll_recv_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<(usize, SocketAddr)>> {
        match self.recv_from(buf) {
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                *self.state.reader.borrow_mut() = Some(cx.waker().clone());
                Poll::Pending
            }
            done => Poll::Ready(done),
        }
    }

    pub(crate) fn poll_readable(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.state.queue.borrow().is_empty() {
            *self.state.reader.borrow_mut() = Some(cx.waker().clone());
            return Poll::Pending;
        }
        Poll::Ready(Ok(()))
    }
}

/// Puts a datagram that has arrived in the socket bound to `port` on host `to`, if it can.
fn deliver(from: usize, to: usize, port: u16, datagram: Vec<u8>, sender: SocketAddr) {
    let Some(world) = World::current() else {
        return;
    };
    let socket: Option<Rc<UdpState>> = world.bound(Protocol::Udp, to, port);
    let socket = socket.filter(|s| world.alive(s.host, s.generation));
    let Some(socket) = socket.filter(|_| world.reachable(from, to)) else {
        world.record("udp dropped", from, to, datagram.len() as u64);
        return;
    };
    if socket.peer.get().is_some_and(|peer| peer != sender) {
        return;
    }
    let mut queue = socket.queue.borrow_mut();
    if queue.len() >= QUEUE {
        world.record("udp overflow", from, to, datagram.len() as u64);
        return;
    }
    queue.push_back((datagram, sender));
    drop(queue);
    if let Some(reader) = socket.reader.borrow_mut().take() {
        reader.wake();
    }
}

impl Drop for SimUdp {
    fn drop(&mut self) {
        if let Some(world) = World::current() {
            let state = &self.state;
            world.unbind(Protocol::Udp, state.host, state.addr.port(), state);
        }
    }
}

impl std::fmt::Debug for SimUdp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimUdp")
            .field("addr", &self.state.addr)
            .finish()
    }
}
