//! The load generator: plain mio, no async runtime, one thread, so it sets the ceiling rather
//! than measuring another executor. Each connection sends a message, waits until every byte
//! has come back, checks it, and sends the next.

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};

struct Client {
    stream: TcpStream,
    /// The message: 8 bytes of message number, then this connection's fixed pattern.
    message: Vec<u8>,
    reply: Vec<u8>,
    sent: usize,
    received: usize,
    number: u64,
}

impl Client {
    fn new(stream: TcpStream, id: usize, size: usize) -> Client {
        let message = (0..size)
            .map(|i| (id.wrapping_mul(131) ^ i.wrapping_mul(7)) as u8)
            .collect();
        Client {
            stream,
            message,
            reply: vec![0; size],
            sent: 0,
            received: 0,
            number: 0,
        }
    }

    fn stamp(&mut self) {
        let bytes = self.number.to_le_bytes();
        let n = bytes.len().min(self.message.len());
        self.message[..n].copy_from_slice(&bytes[..n]);
        self.sent = 0;
        self.received = 0;
    }

    /// Writes what the socket takes; reads what has come back. Returns how many messages
    /// completed (and were verified) during this call.
    fn drive(&mut self) -> io::Result<u64> {
        let mut completed = 0;
        loop {
            while self.sent < self.message.len() {
                match self.stream.write(&self.message[self.sent..]) {
                    Ok(n) => self.sent += n,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) => return Err(e),
                }
            }
            let want = self.message.len() - self.received;
            match self.stream.read(&mut self.reply[self.received..]) {
                Ok(0) => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "server closed",
                    ));
                }
                Ok(n) => {
                    self.received += n;
                    if self.received == self.message.len() {
                        if self.reply != self.message {
                            return Err(io::Error::new(io::ErrorKind::InvalidData, "echo differs"));
                        }
                        completed += 1;
                        self.number += 1;
                        self.stamp();
                        continue; // send the next one at once
                    }
                    if n < want {
                        return Ok(completed); // drained for now
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(completed),
                Err(e) => return Err(e),
            }
        }
    }
}

/// What one load run measured.
pub struct Measured {
    pub round_trips: u64,
    pub elapsed: Duration,
    /// Server CPU time during the measured window, in nanoseconds.
    pub server_cpu_ns: u64,
}

/// Runs `connections` ping-pong clients of `size`-byte messages against `addr`: `warmup`
/// first, then counts round trips for `measure`. `server_cpu` reads the server's CPU time.
pub fn ping_pong(
    addr: SocketAddr,
    connections: usize,
    size: usize,
    warmup: Duration,
    measure: Duration,
    server_cpu: impl Fn() -> u64,
) -> io::Result<Measured> {
    let mut poll = Poll::new()?;
    let mut clients = Vec::with_capacity(connections);
    for id in 0..connections {
        let std = std::net::TcpStream::connect(addr)?;
        std.set_nodelay(true)?;
        std.set_nonblocking(true)?;
        let mut stream = TcpStream::from_std(std);
        poll.registry().register(
            &mut stream,
            Token(id),
            Interest::READABLE | Interest::WRITABLE,
        )?;
        let mut client = Client::new(stream, id, size);
        client.stamp();
        clients.push(client);
    }
    let mut events = Events::with_capacity(1024);
    let start = Instant::now();
    let window_start = start + warmup;
    let end = window_start + measure;
    let (mut counting, mut round_trips, mut cpu_start) = (false, 0, 0);
    loop {
        let now = Instant::now();
        if !counting && now >= window_start {
            counting = true;
            cpu_start = server_cpu();
        }
        if now >= end {
            let server_cpu_ns = server_cpu().saturating_sub(cpu_start);
            return Ok(Measured {
                round_trips,
                elapsed: now - window_start,
                server_cpu_ns,
            });
        }
        poll.poll(&mut events, Some(Duration::from_millis(10)))?;
        for event in events.iter() {
            let done = clients[event.token().0].drive()?;
            if counting {
                round_trips += done;
            }
        }
    }
}

/// CPU time (on-CPU nanoseconds, all threads) of process `pid`, from /proc.
pub fn cpu_ns(pid: u32) -> u64 {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return 0;
    };
    tasks
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .sum()
}

/// How many threads process `pid` has.
pub fn threads(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .map(|d| d.count())
        .unwrap_or(0)
}
