//! The "no runtime" limit: an echo server written directly on mio, the way a careful engineer
//! writes one by hand. One thread, one event loop, a slab of connections, no tasks, no wakers.
//!
//! It reads until `WouldBlock` *or a short read* (a read that fills less than the buffer means
//! the socket is drained, so the extra `read` that would only return `WouldBlock` is skipped),
//! echoes what it read at once, and keeps unsent bytes until the socket is writable again
//! (reading nothing more from that client meanwhile).

use std::io::{self, Read, Write};
use std::net::SocketAddr;

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};
use slab::Slab;

const LISTENER: Token = Token(usize::MAX);
const BUF: usize = 16 * 1024;

struct Conn {
    stream: TcpStream,
    buf: Box<[u8; BUF]>,
    /// `buf[start..end]` still has to be written back.
    start: usize,
    end: usize,
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
    loop {
        poll.poll(&mut events, None)?;
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
            if !drive(conn) {
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
                    buf: Box::new([0; BUF]),
                    start: 0,
                    end: 0,
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
fn drive(conn: &mut Conn) -> bool {
    loop {
        while conn.start < conn.end {
            match conn.stream.write(&conn.buf[conn.start..conn.end]) {
                Ok(n) => conn.start += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return true,
                Err(_) => return false,
            }
        }
        if !conn.readable {
            return true;
        }
        match conn.stream.read(&mut conn.buf[..]) {
            Ok(0) => return false,
            Ok(n) => {
                (conn.start, conn.end) = (0, n);
                if n < BUF {
                    conn.readable = false; // short read: drained
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                conn.readable = false;
            }
            Err(_) => return false,
        }
    }
}
