//! A TCP connection on the simulated network: two one-way pipes between two hosts. A write
//! takes what fits in the pipe's window (backpressure), and the bytes travel as a segment
//! that a courier task delivers in order at its virtual arrival time; a cut between the hosts
//! holds segments back (retransmitted every 200 ms until it heals); a crashed host drops what
//! reaches it, and in its next life answers with a reset. Listening and connecting are in
//! `listen.rs`.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::io;
use std::net::{Shutdown, SocketAddr};
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use weft_runtime::time::{Instant, sleep_until};

use super::world::{HOST, NETWORK, World};

/// What a pipe holds, sent and not yet read: the two socket buffers of a real connection.
const WINDOW: usize = 256 * 1024;
/// How long a segment held back by a cut waits before it is sent again.
const RETRANSMIT: Duration = Duration::from_millis(200);

enum Segment {
    Data(Vec<u8>),
    Fin,
    Reset,
}

/// One direction of a connection.
#[derive(Default)]
struct Pipe {
    /// Arrived and not yet read.
    readable: VecDeque<u8>,
    /// Sent, with the virtual time each arrives (never earlier than the one before).
    in_flight: VecDeque<(Instant, Segment)>,
    in_flight_bytes: usize,
    reader: Option<Waker>,
    writer: Option<Waker>,
    /// The sender shut its writing down (or closed).
    write_closed: bool,
    /// The receiver shut its reading down (or closed): what arrives is dropped.
    read_closed: bool,
    eof: bool,
    reset: bool,
    courier: bool,
}

/// One side of a connection: its host, the host's life, its address.
#[derive(Clone, Copy)]
pub(super) struct End {
    pub(super) host: usize,
    pub(super) generation: u32,
    pub(super) addr: SocketAddr,
}

pub(super) struct Conn {
    /// Reset already (by `weft::sim::reset`, or by a side): nothing more to reset.
    reset: Cell<bool>,
    ends: [End; 2],
    /// `pipes[s]` carries what side `s` writes to the other side.
    pipes: [RefCell<Pipe>; 2],
}

/// One side of a simulated TCP connection.
pub(crate) struct SimStream {
    conn: Rc<Conn>,
    side: usize,
}

impl Conn {
    /// A new connection between `ends`, and its two sides.
    pub(super) fn open(ends: [End; 2]) -> (Rc<Conn>, SimStream, SimStream) {
        let conn = Rc::new(Conn {
            reset: Cell::new(false),
            ends,
            pipes: [RefCell::default(), RefCell::default()],
        });
        let side = |side| SimStream {
            conn: conn.clone(),
            side,
        };
        let (a, b) = (side(0), side(1));
        (conn, a, b)
    }
}

impl SimStream {
    pub(crate) fn local_addr(&self) -> SocketAddr {
        self.conn.ends[self.side].addr
    }

    pub(crate) fn peer_addr(&self) -> SocketAddr {
        self.conn.ends[1 - self.side].addr
    }

    fn incoming(&self) -> &RefCell<Pipe> {
        &self.conn.pipes[1 - self.side]
    }

    fn outgoing(&self) -> &RefCell<Pipe> {
        &self.conn.pipes[self.side]
    }

    /// Ready when a read would not block: bytes, the end, or a reset.
    pub(crate) fn poll_readable(&self, cx: &mut Context<'_>) -> Poll<()> {
        let mut pipe = self.incoming().borrow_mut();
        if !pipe.readable.is_empty() || pipe.reset || pipe.eof || pipe.read_closed {
            return Poll::Ready(());
        }
        pipe.reader = Some(cx.waker().clone());
        Poll::Pending
    }

    /// Ready when a write would not block: room in the window, or an error to report.
    pub(crate) fn poll_writable(&self, cx: &mut Context<'_>) -> Poll<()> {
        if self.incoming().borrow().reset {
            return Poll::Ready(());
        }
        let mut pipe = self.outgoing().borrow_mut();
        if pipe.write_closed || pipe.readable.len() + pipe.in_flight_bytes < WINDOW {
            return Poll::Ready(());
        }
        pipe.writer = Some(cx.waker().clone());
        Poll::Pending
    }

    pub(crate) fn poll_read(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        match self.read(buf, false) {
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                self.incoming().borrow_mut().reader = Some(cx.waker().clone());
                Poll::Pending
            }
            done => Poll::Ready(done),
        }
    }

    /// Reads (or peeks at) what has arrived; `WouldBlock` if nothing has.
    pub(crate) fn read(&self, buf: &mut [u8], peek: bool) -> io::Result<usize> {
        let mut pipe = self.incoming().borrow_mut();
        if !pipe.readable.is_empty() {
            let n = buf.len().min(pipe.readable.len());
            for (to, from) in buf.iter_mut().zip(pipe.readable.iter()) {
                *to = *from;
            }
            if !peek {
                pipe.readable.drain(..n);
                drop(pipe);
                // Room in the window: the peer may write again.
                if let Some(writer) = self.incoming().borrow_mut().writer.take() {
                    writer.wake();
                }
            }
            return Ok(n);
        }
        if pipe.reset {
            return Err(io::ErrorKind::ConnectionReset.into());
        }
        if pipe.eof || pipe.read_closed || buf.is_empty() {
            return Ok(0);
        }
        Err(io::ErrorKind::WouldBlock.into())
    }

    pub(crate) fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match self.write(buf) {
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                self.outgoing().borrow_mut().writer = Some(cx.waker().clone());
                Poll::Pending
            }
            done => Poll::Ready(done),
        }
    }

    /// Sends what the window takes of `buf`; `WouldBlock` if it is full.
    pub(crate) fn write(&self, buf: &[u8]) -> io::Result<usize> {
        let world = World::expect()?;
        if self.incoming().borrow().reset {
            return Err(io::ErrorKind::ConnectionReset.into());
        }
        let mut pipe = self.outgoing().borrow_mut();
        if pipe.write_closed {
            return Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "the connection's writing side was shut down",
            ));
        }
        if buf.is_empty() {
            return Ok(0);
        }
        let room = WINDOW - pipe.readable.len() - pipe.in_flight_bytes;
        if room == 0 {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let n = buf.len().min(room);
        pipe.in_flight_bytes += n;
        drop(pipe);
        self.send(&world, Segment::Data(buf[..n].to_vec()), n);
        Ok(n)
    }

    fn send(&self, world: &World, segment: Segment, bytes: usize) {
        send(&self.conn, self.side, world, segment, bytes);
    }

    pub(crate) fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        let world = World::expect()?;
        if matches!(how, Shutdown::Read | Shutdown::Both) {
            let mut incoming = self.incoming().borrow_mut();
            incoming.read_closed = true;
            incoming.readable.clear();
            if let Some(reader) = incoming.reader.take() {
                reader.wake();
            }
        }
        if matches!(how, Shutdown::Write | Shutdown::Both) {
            self.close_writing(&world);
        }
        Ok(())
    }

    fn close_writing(&self, world: &World) {
        let mut pipe = self.outgoing().borrow_mut();
        if pipe.write_closed {
            return;
        }
        pipe.write_closed = true;
        if let Some(writer) = pipe.writer.take() {
            writer.wake();
        }
        drop(pipe);
        self.send(world, Segment::Fin, 0);
    }
}

impl Drop for SimStream {
    fn drop(&mut self) {
        let Some(world) = World::current() else {
            return;
        };
        let me = self.conn.ends[self.side];
        if !world.alive(me.host, me.generation) {
            // A crashed host's sockets vanish without a word.
            return;
        }
        let unread = {
            let mut incoming = self.incoming().borrow_mut();
            incoming.read_closed = true;
            let unread = !incoming.readable.is_empty();
            incoming.readable.clear();
            unread
        };
        if unread && !self.incoming().borrow().reset {
            // Closing with bytes unread resets the connection, as Linux does.
            self.outgoing().borrow_mut().write_closed = true;
            self.send(&world, Segment::Reset, 0);
        } else {
            self.close_writing(&world);
        }
    }
}

impl std::fmt::Debug for SimStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimStream")
            .field("local", &self.local_addr())
            .field("peer", &self.peer_addr())
            .finish()
    }
}

/// Puts `segment` on its way from side `side` to the other.
fn send(conn: &Rc<Conn>, side: usize, world: &World, segment: Segment, bytes: usize) {
    let (from, to) = (conn.ends[side], conn.ends[1 - side]);
    let kind = match segment {
        Segment::Data(_) => "data",
        Segment::Fin => "fin",
        Segment::Reset => "reset",
    };
    world.record(kind, from.host, to.host, bytes as u64);
    if matches!(segment, Segment::Reset) {
        conn.reset.set(true);
    }
    let arrives = Instant::now() + world.transit(from.host, to.host, bytes);
    let mut pipe = conn.pipes[side].borrow_mut();
    let arrives = pipe
        .in_flight
        .back()
        .map_or(arrives, |&(last, _)| last.max(arrives));
    pipe.in_flight.push_back((arrives, segment));
    if !pipe.courier {
        pipe.courier = true;
        drop(pipe);
        let conn = conn.clone();
        drop(HOST.scoped(NETWORK, || weft_runtime::task::spawn(courier(conn, side))));
    }
}

/// Resets every live connection between hosts `a` and `b`: each side gets a reset after the
/// latency, as when a middlebox drops the connection; returns how many.
pub(crate) fn reset_between(world: &World, a: usize, b: usize) -> usize {
    let connections: Vec<Rc<Conn>> = world.connections_between(a, b);
    let mut reset = 0;
    for conn in connections.iter().filter(|c| !c.reset.get()) {
        for side in 0..2 {
            send(conn, side, world, Segment::Reset, 0);
        }
        reset += 1;
    }
    reset
}

/// Delivers pipe `side`'s segments in order, each at its time.
async fn courier(conn: Rc<Conn>, side: usize) {
    let (from, to) = (conn.ends[side], conn.ends[1 - side]);
    loop {
        let next = conn.pipes[side]
            .borrow()
            .in_flight
            .front()
            .map(|&(at, _)| at);
        let Some(at) = next else {
            conn.pipes[side].borrow_mut().courier = false;
            return;
        };
        sleep_until(at).await;
        let Some(world) = World::current() else {
            return;
        };
        if !world.alive(to.host, to.generation) {
            // The receiver's host crashed: in its next life it answers with a reset, while
            // it is down nothing answers.
            let mut pipe = conn.pipes[side].borrow_mut();
            pipe.in_flight.clear();
            pipe.in_flight_bytes = 0;
            pipe.courier = false;
            drop(pipe);
            if world.up(to.host).is_some() && world.alive(from.host, from.generation) {
                send(&conn, 1 - side, &world, Segment::Reset, 0);
            }
            return;
        }
        if !world.reachable(from.host, to.host) {
            let later = Instant::now() + RETRANSMIT;
            let mut pipe = conn.pipes[side].borrow_mut();
            for (at, _) in pipe.in_flight.iter_mut() {
                *at = (*at).max(later);
            }
            continue;
        }
        let now = Instant::now();
        let mut pipe = conn.pipes[side].borrow_mut();
        while pipe.in_flight.front().is_some_and(|&(at, _)| at <= now) {
            let Some((_, segment)) = pipe.in_flight.pop_front() else {
                break;
            };
            match segment {
                Segment::Data(bytes) => {
                    pipe.in_flight_bytes -= bytes.len();
                    if !pipe.read_closed {
                        pipe.readable.extend(bytes);
                    }
                }
                Segment::Fin => pipe.eof = true,
                Segment::Reset => {
                    pipe.reset = true;
                    pipe.in_flight.clear();
                    pipe.in_flight_bytes = 0;
                    // The other direction is dead too: its writer learns at once.
                    drop(pipe);
                    let mut other = conn.pipes[1 - side].borrow_mut();
                    other.write_closed = true;
                    if let Some(writer) = other.writer.take() {
                        writer.wake();
                    }
                    drop(other);
                    pipe = conn.pipes[side].borrow_mut();
                }
            }
        }
        if let Some(reader) = pipe.reader.take() {
            reader.wake();
        }
        // A read-closed receiver dropped bytes: room for the writer.
        if pipe.read_closed {
            if let Some(writer) = pipe.writer.take() {
                writer.wake();
            }
        }
    }
}
