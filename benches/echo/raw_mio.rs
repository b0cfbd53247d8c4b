//! The "no runtime" limit: an echo server written directly on mio, the way a careful engineer
//! writes one by hand. One thread, one event loop, a slab of connections, no tasks, no wakers.
//!
//! Written the way weft's echo server is: a waiting connection holds no buffer. Every read
//! goes into the loop's one scratch buffer and is written back at once; only bytes the kernel
//! would not take are copied into the connection's own `unsent`, which is freed once they are
//! sent (and nothing more is read from that client meanwhile). It reads until `WouldBlock`
//! *or a short read* (a read that fills less than the buffer means the socket is drained, so
//! the extra `read` that would only return `WouldBlock` is skipped).

use std::io::{self, Read, Write};
use std::net::SocketAddr;

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};
use slab::Slab;

const LISTENER: Token = Token(usize::MAX);
const BUF: usize = 16 * 1024;

struct Conn {
    stream: TcpStream,
    /// Bytes read but not yet written back; empty (no allocation) while the client is
    /// keeping up.
    unsent: Vec<u8>,
    readable: bool,
}

/// Serves on `addr` forever; calls `ready` with the bound address first.
pub fn serve(addr: SocketAddr, ready: impl FnOnce(SocketAddr)) -> io::Result<()> {
    let mut poll = Poll::new()?;
    let mut listener = TcpListener::bind(addr)?;
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)?;
    ready(listener.local_addr()?);
    let mut conns: Slab<Conn> = Slab::new();
    let mut events = Events::with_capacity(1024);
    let mut scratch = vec![0; BUF];
    loop {
        match poll.poll(&mut events, None) {
            Ok(()) => {}
            // A signal (a profiler attaching, say) interrupted the wait: wait again.
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
        for event in events.iter() {
            if event.token() == LISTENER {
                accept_all(&listener, &poll, &mut conns)?;
                continue;
            }
            let key = event.token().0;
            let Some(conn) = conns.get_mut(key) else {
                continue;
            };
            if event.is_readable() || event.is_read_closed() || event.is_error() {
                conn.readable = true;
            }
            if !drive(conn, &mut scratch) {
                let mut conn = conns.remove(key);
                let _ = poll.registry().deregister(&mut conn.stream);
            }
        }
    }
}

fn accept_all(listener: &TcpListener, poll: &Poll, conns: &mut Slab<Conn>) -> io::Result<()> {
    loop {
        match listener.accept() {
            Ok((mut stream, _)) => {
                stream.set_nodelay(true)?;
                let entry = conns.vacant_entry();
                poll.registry().register(
                    &mut stream,
                    Token(entry.key()),
                    Interest::READABLE | Interest::WRITABLE,
                )?;
                entry.insert(Conn {
                    stream,
                    unsent: Vec::new(),
                    readable: false,
                });
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
            Err(e) => return Err(e),
        }
    }
}

/// Flushes pending bytes, then echoes while the socket has data. False when the connection
/// is finished.
fn drive(conn: &mut Conn, scratch: &mut [u8]) -> bool {
    while !conn.unsent.is_empty() {
        match conn.stream.write(&conn.unsent) {
            Ok(n) => drop(conn.unsent.drain(..n)),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return true,
            Err(_) => return false,
        }
    }
    conn.unsent = Vec::new();
    while conn.readable {
        let n = match conn.stream.read(scratch) {
            Ok(0) => return false,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                conn.readable = false;
                return true;
            }
            Err(_) => return false,
        };
        if n < scratch.len() {
            conn.readable = false; // short read: drained
        }
        let mut sent = 0;
        while sent < n {
            match conn.stream.write(&scratch[sent..n]) {
                Ok(written) => sent += written,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    conn.unsent.extend_from_slice(&scratch[sent..n]);
                    return true;
                }
                Err(_) => return false,
            }
        }
    }
    true
}
