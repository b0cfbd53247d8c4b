//! The echo load client's logic, shared by `echo_client` and `echo_demo`.

use std::fmt;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use weft::io::{AsyncReadExt, AsyncWriteExt};
use weft::net::TcpStream;

/// What load to put on the server.
pub struct Load {
    /// The echo server.
    pub addr: SocketAddr,
    /// Connections open at once, one task each.
    pub connections: usize,
    /// Round trips per connection.
    pub messages: usize,
    /// Bytes per message.
    pub size: usize,
}

/// What the load measured.
pub struct Report {
    round_trips: usize,
    bytes: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

/// Opens `connections` connections at once, each sending `messages` messages of `size` bytes
/// and checking that every echoed byte matches.
pub async fn run(load: &Load) -> Result<Report, String> {
    let start = Instant::now();
    let clients: Vec<_> = (0..load.connections)
        .map(|id| weft::spawn(client(load.addr, id, load.messages, load.size)))
        .collect();
    let mut latencies = Vec::with_capacity(load.connections * load.messages);
    for client in clients {
        latencies.extend(client.await.map_err(|e| e.to_string())??);
    }
    let elapsed = start.elapsed();
    latencies.sort_unstable();
    Ok(Report {
        round_trips: latencies.len(),
        bytes: latencies.len() * load.size,
        elapsed,
        latencies,
    })
}

async fn client(
    addr: SocketAddr,
    id: usize,
    messages: usize,
    size: usize,
) -> Result<Vec<Duration>, String> {
    let mut stream = TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connect to {addr}: {e}"))?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    let mut message = vec![0u8; size];
    let mut reply = vec![0u8; size];
    let mut latencies = Vec::with_capacity(messages);
    for m in 0..messages {
        for (i, byte) in message.iter_mut().enumerate() {
            *byte = (id.wrapping_mul(131) ^ m.wrapping_mul(31) ^ i) as u8;
        }
        let sent = Instant::now();
        let io = async {
            stream.write_all(&message).await?;
            stream.read_exact(&mut reply).await
        };
        io.await
            .map_err(|e| format!("connection {id}, message {m}: {e}"))?;
        latencies.push(sent.elapsed());
        if reply != message {
            let at = reply
                .iter()
                .zip(&message)
                .position(|(a, b)| a != b)
                .unwrap_or(0);
            return Err(format!(
                "connection {id}, message {m}: echoed byte {at} differs"
            ));
        }
    }
    Ok(latencies)
}

impl Report {
    fn percentile(&self, p: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        let index = ((self.latencies.len() - 1) as f64 * p).round() as usize;
        self.latencies[index]
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.elapsed.as_secs_f64();
        writeln!(
            f,
            "{} round trips ({} bytes each way, every byte verified) in {:.2} s",
            self.round_trips, self.bytes, secs
        )?;
        writeln!(f, "  {:.0} round trips/s", self.round_trips as f64 / secs)?;
        write!(
            f,
            "  latency p50 {:.1} µs, p99 {:.1} µs",
            self.percentile(0.50).as_secs_f64() * 1e6,
            self.percentile(0.99).as_secs_f64() * 1e6
        )
    }
}
