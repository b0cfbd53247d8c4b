//! The idle-connection section of BENCHMARKS.md: the echo servers' rows
//! (`cargo bench --bench echo -- idle`), and the hyper and TLS servers' (the `idle` rows of
//! `cargo bench --bench http` and `--bench tls`).

use std::fmt::Write as _;

use serde_json::Value;

use super::{Target, rows};

pub(super) fn write(
    md: &mut String,
    idle: Option<&Value>,
    http: Option<&Value>,
    tls: Option<&Value>,
    targets: &mut Vec<Target>,
) {
    write_echo(md, idle, targets);
    write_hyper_and_tls(md, http, tls);
}

fn write_echo(md: &mut String, idle: Option<&Value>, targets: &mut Vec<Target>) {
    let rows = rows(idle);
    if rows.is_empty() {
        return;
    }
    let mut servers: Vec<&str> = Vec::new();
    let mut counts: Vec<u64> = Vec::new();
    for r in &rows {
        let server = r["server"].as_str().unwrap_or("?");
        if !servers.contains(&server) {
            servers.push(server);
        }
        let n = r["connections"].as_u64().unwrap_or(0);
        if !counts.contains(&n) {
            counts.push(n);
        }
    }
    let seconds = rows[0]["idle_seconds"].as_f64().unwrap_or(0.0);
    let _ = writeln!(
        md,
        "## Idle connections\n\nCommand: `cargo bench --bench echo -- idle`. Each echo server, in \
         a process of its own, accepts N connections; each makes one 1-byte round trip and then \
         waits. weft's is `echo_server`'s own code; tokio's and the raw mio loop are written the \
         same way (a waiting connection holds no buffer: readiness, then a read into one scratch \
         buffer); Go's is a goroutine per connection reading into a 1 KiB buffer of its own \
         (GOMAXPROCS=1; its row is missing where no Go toolchain is installed). The server's \
         resident-set growth per connection is user-space memory; the kernel's socket buffers \
         (`/proc/net/sockstat`, both ends, system-wide) are counted apart; CPU is the server's \
         while every connection waits, over {seconds:.0} s. The kernel's figure is \
         system-wide: a few tens of bytes either way are other sockets' buffers freed or \
         filled during the measurement.{}\n",
        if servers.contains(&"go") {
            ""
        } else {
            " Go was not installed for this run."
        }
    );
    let header: String = servers.iter().map(|s| format!(" {s} |")).collect();
    let rule: String = servers.iter().map(|_| "---:|").collect();
    let cell = |server: &str, n: u64, key: &str| {
        rows.iter()
            .find(|r| r["server"] == server && r["connections"].as_u64() == Some(n))
            .and_then(|r| r[key].as_f64())
    };
    for (title, key, unit) in [
        (
            "server RSS growth per connection",
            "rss_bytes_per_conn",
            " B",
        ),
        (
            "kernel socket buffers per connection",
            "sockstat_bytes_per_conn",
            " B",
        ),
        ("server CPU while idle", "idle_cpu_percent", "%"),
    ] {
        let _ = writeln!(md, "| {title}, connections |{header}\n|---:|{rule}");
        for &n in &counts {
            let values: String = servers
                .iter()
                .map(|s| match cell(s, n, key) {
                    Some(v) if unit == "%" => format!(" {v:.2}{unit} |"),
                    Some(v) => format!(" {v:.0}{unit} |"),
                    None => " |".to_string(),
                })
                .collect();
            let _ = writeln!(md, "| {n} |{values}");
        }
        let _ = writeln!(md);
    }
    let at = counts
        .iter()
        .copied()
        .find(|&n| n >= 10_000)
        .or(counts.last().copied());
    if let Some(n) = at {
        let rss = cell("weft", n, "rss_bytes_per_conn");
        let cpu = cell("weft", n, "idle_cpu_percent");
        targets.push(Target {
            what: format!("echo_server ≤ 1 KiB of RSS per idle connection at {n}, 0% CPU idle"),
            measured: rss
                .zip(cpu)
                .map(|(r, c)| format!("{r:.0} B, {c:.2}%"))
                .unwrap_or_default(),
            met: rss.zip(cpu).map(|(r, c)| r <= 1024.0 && c < 0.5),
        });
    }
}

/// The hyper and TLS servers' idle rows, weft beside tokio.
fn write_hyper_and_tls(md: &mut String, http: Option<&Value>, tls: Option<&Value>) {
    let idle = |v: Option<&Value>| -> Vec<Value> {
        rows(v)
            .into_iter()
            .filter(|r| r["test"] == "idle")
            .collect()
    };
    let (http, tls) = (idle(http), idle(tls));
    if http.is_empty() && tls.is_empty() {
        return;
    }
    let _ = writeln!(
        md,
        "### hyper and TLS connections that wait\n\nThe same measure for the hyper servers (`cargo \
         bench --bench http -- idle`: a keep-alive connection that made one GET) and the TLS \
         echo servers (`cargo bench --bench tls -- idle`: a handshake and one round trip, the \
         handler reading into a 1 KiB buffer of its own on both). weft's `HyperIo` and \
         `TlsStream` hold no buffer of their own while a connection waits (`HyperIo` reads \
         through a per-thread scratch buffer); the rest of a row is the runtime's task, hyper's \
         own connection state (mostly the read buffer it reserves before every read, 8 KiB, and \
         keeps) and rustls's (its record buffer and key schedule).\n"
    );
    let _ = writeln!(
        md,
        "| server, connections | weft RSS/conn | tokio RSS/conn | weft CPU idle | tokio CPU idle |\n|---|---:|---:|---:|---:|"
    );
    for (kind, rows) in [("hyper", &http), ("TLS", &tls)] {
        let mut counts: Vec<u64> = rows
            .iter()
            .filter_map(|r| r["connections"].as_u64())
            .collect();
        counts.dedup();
        for n in counts {
            let get = |server: &str, key: &str| {
                rows.iter()
                    .find(|r| r["server"] == server && r["connections"].as_u64() == Some(n))
                    .and_then(|r| r[key].as_f64())
                    .unwrap_or(f64::NAN)
            };
            let _ = writeln!(
                md,
                "| {kind}, {n} | {:.0} B | {:.0} B | {:.2}% | {:.2}% |",
                get("weft", "rss_bytes_per_conn"),
                get("tokio", "rss_bytes_per_conn"),
                get("weft", "idle_cpu_percent"),
                get("tokio", "idle_cpu_percent"),
            );
        }
    }
    let _ = writeln!(md);
}
