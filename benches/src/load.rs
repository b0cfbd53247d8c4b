//! The load generator: plain mio, no async runtime, one thread, so it sets the ceiling rather
//! than measuring another executor. Each connection sends a message, waits until every byte
//! of the reply has come back, checks it, and sends the next: an echo (the reply is the
//! message) or a request and its fixed-size response (HTTP keep-alive).

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};

/// What each round trip exchanges.
#[derive(Clone, Debug)]
pub enum Exchange {
    /// Messages echoed back whole and checked byte for byte.
    Echo {
        /// Bytes per message.
        size: usize,
    },
    /// The same request every time, answered by a response of fixed length (an HTTP
    /// keep-alive request).
    Request {
        /// What is sent.
        request: Vec<u8>,
        /// The length of each response.
        response_len: usize,
        /// What each response must start with.
        expect: &'static [u8],
    },
}

struct Client {
    stream: TcpStream,
    /// For an echo: 8 bytes of message number, then this connection's fixed pattern.
    message: Vec<u8>,
    reply: Vec<u8>,
    /// The prefix a request's response must start with (`None`: an echo).
    expect: Option<&'static [u8]>,
    sent: usize,
    received: usize,
    number: u64,
}

impl Client {
    fn new(stream: TcpStream, id: usize, exchange: &Exchange) -> Client {
        let (message, reply_len, expect) = match exchange {
            Exchange::Echo { size } => (
                (0..*size)
                    .map(|i| (id.wrapping_mul(131) ^ i.wrapping_mul(7)) as u8)
                    .collect(),
                *size,
                None,
            ),
            Exchange::Request {
                request,
                response_len,
                expect,
            } => (request.clone(), *response_len, Some(*expect)),
        };
        Client {
            stream,
            message,
            reply: vec![0; reply_len],
            expect,
            sent: 0,
            received: 0,
            number: 0,
        }
    }

    fn stamp(&mut self) {
        if self.expect.is_none() {
            let bytes = self.number.to_le_bytes();
            let n = bytes.len().min(self.message.len());
            self.message[..n].copy_from_slice(&bytes[..n]);
        }
        self.sent = 0;
        self.received = 0;
    }

    /// Whether a complete reply is the right one.
    fn reply_ok(&self) -> bool {
        match self.expect {
            None => self.reply == self.message,
            Some(prefix) => self.reply.starts_with(prefix),
        }
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
            let want = self.reply.len() - self.received;
            match self.stream.read(&mut self.reply[self.received..]) {
                Ok(0) => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "server closed",
                    ));
                }
                Ok(n) => {
                    self.received += n;
                    if self.received == self.reply.len() {
                        if !self.reply_ok() {
                            return Err(io::Error::new(
                                io::ErrorKind::InvalidData,
                                "the reply differs from what was expected",
                            ));
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

/// How long and how wide the load runs of a ping-pong harness are, by mode.
pub struct Plan {
    /// The connection counts to run at.
    pub connection_counts: Vec<usize>,
    /// Interleaved rounds per count (the medians are over these).
    pub rounds: usize,
    /// Load before the measured window.
    pub warmup: Duration,
    /// The measured window.
    pub measure: Duration,
}

impl Plan {
    /// The plan for `mode`: 1, 10, 100 and 1000 connections, five 2 s rounds in full.
    pub fn for_mode(mode: crate::Mode) -> Plan {
        Plan {
            connection_counts: mode.pick(
                vec![1, 10, 100, 1000],
                vec![1, 10, 100, 1000],
                vec![1, 10],
            ),
            rounds: mode.pick(5, 1, 1),
            warmup: mode.pick(
                Duration::from_millis(300),
                Duration::from_millis(200),
                Duration::from_millis(50),
            ),
            measure: mode.pick(
                Duration::from_secs(2),
                Duration::from_millis(700),
                Duration::from_millis(150),
            ),
        }
    }
}

/// What one load run measured.
pub struct Measured {
    /// Round trips completed in the measured window.
    pub round_trips: u64,
    /// The measured window's length.
    pub elapsed: Duration,
    /// Server CPU time during the measured window, in nanoseconds.
    pub server_cpu_ns: u64,
}

/// Runs `connections` ping-pong clients exchanging `exchange` with `addr`: `warmup` first,
/// then counts round trips for `measure`. `server_cpu` reads the server's CPU time.
pub fn ping_pong(
    addr: SocketAddr,
    connections: usize,
    exchange: &Exchange,
    warmup: Duration,
    measure: Duration,
    server_cpu: impl Fn() -> u64,
) -> io::Result<Measured> {
    if connections == 0 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "no connections",
        ));
    }
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
        let mut client = Client::new(stream, id, exchange);
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

/// One server's results over the rounds of [`interleaved`].
pub struct Rounds<'s> {
    /// The server's name.
    pub server: &'s str,
    /// Median round trips per second.
    pub rate: f64,
    /// Server CPU nanoseconds per round trip in each round, in round order: the runs of one
    /// round are back to back, so a ratio taken within a round sees the same machine.
    pub cpu_per_round: Vec<f64>,
}

impl Rounds<'_> {
    /// Median server CPU nanoseconds per round trip.
    pub fn cpu(&self) -> f64 {
        crate::server_process::median(self.cpu_per_round.iter().copied())
    }
}

/// Runs `measure` against each of `servers` for `rounds` rounds, rotating which goes first
/// each round (so a slow phase of the machine hits every server alike), and returns, per
/// server in the order given, the medians of round trips per second and of server CPU
/// nanoseconds per round trip, and the CPU of each round (for [`paired_ratio`]).
pub fn interleaved<'s>(
    servers: &[&'s str],
    rounds: usize,
    mut measure: impl FnMut(&'s str) -> Measured,
) -> Vec<Rounds<'s>> {
    let mut runs: Vec<(&str, Measured)> = Vec::new();
    for round in 0..rounds {
        for k in 0..servers.len() {
            let server = servers[(k + round) % servers.len()];
            runs.push((server, measure(server)));
        }
    }
    servers
        .iter()
        .map(|&server| {
            let mine: Vec<&Measured> = runs
                .iter()
                .filter(|r| r.0 == server)
                .map(|r| &r.1)
                .collect();
            let rate = crate::server_process::median(
                mine.iter()
                    .map(|m| m.round_trips as f64 / m.elapsed.as_secs_f64()),
            );
            let cpu_per_round: Vec<f64> = mine
                .iter()
                .map(|m| m.server_cpu_ns as f64 / m.round_trips.max(1) as f64)
                .collect();
            Rounds {
                server,
                rate,
                cpu_per_round,
            }
        })
        .collect()
}

/// `a ÷ b` for two servers of one [`interleaved`] run: the median of the ratios taken
/// within each round, where both ran minutes apart at most. This VM's neighbours move a
/// whole round by several percent; the ratio of two medians from different rounds carries
/// that drift, a ratio within a round mostly cancels it. Falls back to the ratio of the
/// medians when the rounds do not pair up (results saved before the rounds were).
pub fn paired_ratio(a: &[f64], b: &[f64], a_median: f64, b_median: f64) -> f64 {
    if a.is_empty() || a.len() != b.len() {
        return a_median / b_median.max(f64::MIN_POSITIVE);
    }
    crate::server_process::median(a.iter().zip(b).map(|(x, y)| x / y.max(f64::MIN_POSITIVE)))
}

/// [`paired_ratio`] of two saved result rows (`key` is the field of their medians, each row
/// keeping its rounds in `server_cpu_ns_per_round`).
pub fn row_cpu_ratio(a: &serde_json::Value, b: &serde_json::Value, key: &str) -> f64 {
    let rounds = |v: &serde_json::Value| -> Vec<f64> {
        v["server_cpu_ns_per_round"]
            .as_array()
            .map(|all| all.iter().filter_map(serde_json::Value::as_f64).collect())
            .unwrap_or_default()
    };
    let median = |v: &serde_json::Value| v[key].as_f64().unwrap_or(0.0);
    paired_ratio(&rounds(a), &rounds(b), median(a), median(b))
}
