//! Holding idle connections against a server in another process, and measuring what they
//! cost it: the echo, hyper and TLS harnesses' idle rows.

use std::any::Any;
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use crate::load::cpu_ns;

/// What `n` waiting connections cost the server.
#[derive(Clone, Copy, Debug)]
pub struct Idle {
    /// The server's resident-set growth per connection (user space), bytes.
    pub rss_per_conn: f64,
    /// The kernel's TCP socket buffers per connection (`/proc/net/sockstat`, both ends,
    /// system-wide), bytes.
    pub sockstat_per_conn: f64,
    /// The server's CPU while every connection waits, percent of one core.
    pub idle_cpu_percent: f64,
}

impl Idle {
    /// The row a harness saves, with the fields every idle table reads.
    pub fn json(&self, server: &str, connections: usize, idle_for: Duration) -> serde_json::Value {
        serde_json::json!({
            "server": server, "connections": connections,
            "rss_bytes_per_conn": self.rss_per_conn,
            "sockstat_bytes_per_conn": self.sockstat_per_conn,
            "idle_cpu_percent": self.idle_cpu_percent,
            "idle_seconds": idle_for.as_secs_f64(),
        })
    }
}

/// Opens `n` connections to the server at `addr` (process `pid`), runs `greet` on each (one
/// exchange, so the server's handler has run and now waits; it returns whatever must stay
/// alive to keep the connection open), lets them all wait, and measures.
pub fn hold(
    addr: SocketAddr,
    pid: u32,
    n: usize,
    idle_for: Duration,
    mut greet: impl FnMut(TcpStream) -> std::io::Result<Box<dyn Any>>,
) -> std::io::Result<Idle> {
    let (rss0, sock0) = (rss(pid)?, sockstat_bytes()?);
    let mut held = Vec::with_capacity(n);
    for _ in 0..n {
        let conn = TcpStream::connect(addr)?;
        conn.set_read_timeout(Some(Duration::from_secs(10)))?;
        held.push(greet(conn)?);
    }
    std::thread::sleep(Duration::from_millis(300)); // let the server settle before reading
    let (rss1, sock1) = (rss(pid)?, sockstat_bytes()?);
    let cpu0 = cpu_ns(pid);
    std::thread::sleep(idle_for);
    let cpu = cpu_ns(pid) - cpu0;
    let per = |a: u64, b: u64| (b as f64 - a as f64) / n as f64;
    Ok(Idle {
        rss_per_conn: per(rss0, rss1),
        sockstat_per_conn: per(sock0, sock1),
        idle_cpu_percent: cpu as f64 / idle_for.as_nanos() as f64 * 100.0,
    })
}

/// How many connections and for how long, by mode.
pub fn plan(mode: crate::Mode) -> (Vec<usize>, Duration) {
    (
        mode.pick(vec![1_000, 10_000, 19_000], vec![1_000, 10_000], vec![100]),
        mode.pick(
            Duration::from_secs(2),
            Duration::from_secs(1),
            Duration::from_millis(200),
        ),
    )
}

/// Holding 19,000 connections takes as many descriptors here, and as many in the server,
/// which inherits the limit: lifts the soft limit to the hard one.
pub fn raise_fd_limit() {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    let _ = setrlimit(
        Resource::Nofile,
        Rlimit {
            current: limit.maximum,
            maximum: limit.maximum,
        },
    );
}

/// The resident set of process `pid`, in bytes.
fn rss(pid: u32) -> std::io::Result<u64> {
    let statm = std::fs::read_to_string(format!("/proc/{pid}/statm"))?;
    Ok(field(&statm, 1) * 4096)
}

/// The pages of TCP socket buffers the kernel holds, system-wide, in bytes.
fn sockstat_bytes() -> std::io::Result<u64> {
    let text = std::fs::read_to_string("/proc/net/sockstat")?;
    let tcp = text.lines().find(|l| l.starts_with("TCP:")).unwrap_or("");
    let words: Vec<&str> = tcp.split_whitespace().collect();
    let pages = words
        .iter()
        .position(|w| *w == "mem")
        .and_then(|i| words.get(i + 1)?.parse::<u64>().ok())
        .unwrap_or(0);
    Ok(pages * 4096)
}

fn field(text: &str, i: usize) -> u64 {
    text.split_whitespace()
        .nth(i)
        .and_then(|w| w.parse().ok())
        .unwrap_or(0)
}
