//! Many idle connections with a rare ping (`echo_client --hold`): what a waiting connection
//! costs, shown from the client's side. Each connection is a task that sleeps between pings
//! and holds no buffer while it waits.

use std::fmt;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use weft::io::{AsyncReadExt, AsyncWriteExt};
use weft::net::TcpStream;
use weft::sync::Semaphore;
use weft::time::Instant;

/// How many connections to hold, for how long, pinging how often.
pub struct Hold {
    /// The echo server.
    pub addr: SocketAddr,
    /// Connections held open at once.
    pub connections: usize,
    /// How long to hold them.
    pub hold: Duration,
    /// Each connection sends an 8-byte ping this often (the first at a random point of the
    /// first period, so pings spread out).
    pub ping_every: Duration,
}

/// What holding them measured.
pub struct Held {
    connections: usize,
    connected_in: Duration,
    pings: u64,
    rss_growth: Option<u64>,
    hold: Duration,
}

/// Connects at most this many at once, so the server's backlog never overflows.
const CONNECTING_AT_ONCE: usize = 256;

/// Opens every connection, holds them for `hold.hold` with a ping each `ping_every`, checks
/// every echo, then closes them all.
pub async fn run(hold: &Hold) -> Result<Held, String> {
    let rss_before = demo_cli::rss_bytes();
    let started = Instant::now();
    let connecting = Rc::new(Semaphore::new(CONNECTING_AT_ONCE));
    let connected = Rc::new(Semaphore::new(0));
    let until = started + hold.hold;
    let tasks: Vec<_> = (0..hold.connections)
        .map(|id| {
            let (connecting, connected) = (connecting.clone(), connected.clone());
            let (addr, every) = (hold.addr, hold.ping_every);
            weft::spawn(async move {
                let permit = connecting.acquire().await;
                let stream = TcpStream::connect(addr).await;
                drop(permit);
                // Counted whether it worked or not, so the count below always completes; a
                // failure is reported when this task is awaited.
                connected.release(1);
                let stream = stream.map_err(|e| {
                    let hint = if e.raw_os_error() == Some(24) {
                        " (each connection takes a file: raise the limit with `ulimit -n`)"
                    } else {
                        ""
                    };
                    format!("connection {id}: connect to {addr}: {e}{hint}")
                })?;
                hold_one(stream, id, every, until).await
            })
        })
        .collect();
    // Measured once every connection is open and waiting.
    connected.acquire_many(hold.connections).await.forget();
    let connected_in = started.elapsed();
    weft::time::sleep(Duration::from_millis(200).min(hold.hold)).await;
    let rss_growth = rss_before
        .zip(demo_cli::rss_bytes())
        .map(|(before, after)| after.saturating_sub(before));
    let mut pings = 0;
    for task in tasks {
        pings += task.await.map_err(|e| e.to_string())??;
    }
    Ok(Held {
        connections: hold.connections,
        connected_in,
        pings,
        rss_growth,
        hold: hold.hold,
    })
}

/// Pings every `every` until `until`; returns how many pings were echoed.
async fn hold_one(
    mut stream: TcpStream,
    id: usize,
    every: Duration,
    until: Instant,
) -> Result<u64, String> {
    // A different first wait per connection, so the pings do not all go at once.
    let spread = every.mul_f64((id.wrapping_mul(2_654_435_761) % 1000) as f64 / 1000.0);
    let mut next = Instant::now() + spread;
    let mut pings = 0u64;
    while next < until {
        weft::time::sleep_until(next).await;
        let ping = (id as u64 ^ pings).to_le_bytes();
        let mut echo = [0u8; 8];
        stream
            .write_all(&ping)
            .await
            .map_err(|e| format!("connection {id}, ping {pings}: {e}"))?;
        stream
            .read_exact(&mut echo)
            .await
            .map_err(|e| format!("connection {id}, ping {pings}: {e}"))?;
        if echo != ping {
            return Err(format!("connection {id}, ping {pings}: the echo differs"));
        }
        pings += 1;
        next += every;
    }
    weft::time::sleep_until(until).await;
    Ok(pings)
}

impl Held {
    /// Connections held.
    pub fn connections(&self) -> usize {
        self.connections
    }

    /// Pings sent and echoed, over all connections.
    pub fn pings(&self) -> u64 {
        self.pings
    }
}

impl fmt::Display for Held {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "held {} connections for {:.0} s on one thread (all open after {:.2} s); {} pings, every echo checked",
            self.connections,
            self.hold.as_secs_f64(),
            self.connected_in.as_secs_f64(),
            self.pings
        )?;
        match self.rss_growth {
            Some(bytes) => write!(
                f,
                "  this process's memory grew by {:.1} MiB while they waited: {} bytes per connection",
                bytes as f64 / (1024.0 * 1024.0),
                bytes / self.connections as u64
            ),
            None => write!(
                f,
                "  (this system does not report memory in /proc/self/status)"
            ),
        }
    }
}
