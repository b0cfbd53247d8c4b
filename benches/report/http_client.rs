//! The HTTP client section of BENCHMARKS.md (`cargo bench --bench http_client`).

use std::fmt::Write as _;

use serde_json::Value;

use super::{Target, rows};

pub(super) fn write(md: &mut String, results: Option<&Value>, targets: &mut Vec<Target>) {
    let rows = rows(results);
    if rows.is_empty() {
        return;
    }
    let r = results.expect("rows came from it");
    let _ = writeln!(
        md,
        "## HTTP clients\n\nCommand: `cargo bench --bench http_client --features hyper`. \
         Keep-alive GETs of a 13-byte page from a local hyper server on weft, C requests in \
         flight at a time, each client in a process of its own ({}): `weft::net::http::Client` \
         on weft, hyper-util's pooled client (`client::legacy`) and reqwest, both on tokio's \
         current-thread runtime; each given the URL parsed once. {} ms per run, median of {} \
         interleaved rounds. Client CPU per request comes from /proc (all the client's \
         threads); the profile behind the ratios is in docs/profiles.md.\n",
        if r["pinned"] == true {
            "server on core 0, clients on core 1"
        } else {
            "not pinned"
        },
        r["measure_ms"],
        r["rounds"]
    );
    let _ = writeln!(
        md,
        "| C | weft req/s | hyper-util req/s | reqwest req/s | weft CPU µs/req | hyper-util | reqwest | weft ÷ hyper-util CPU |\n|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    let get = |client: &str, c: &Value, key: &str| {
        rows.iter()
            .find(|r| r["client"] == client && &r["concurrency"] == c)
            .and_then(|r| r[key].as_f64())
            .unwrap_or(f64::NAN)
    };
    let mut worst: f64 = 0.0;
    for row in rows.iter().filter(|r| r["client"] == "weft") {
        let c = &row["concurrency"];
        let cpu = |client| get(client, c, "client_cpu_ns_per_request");
        let ratio = cpu("weft") / cpu("hyper-util");
        worst = worst.max(ratio);
        let _ = writeln!(
            md,
            "| {c} | {:.0} | {:.0} | {:.0} | {:.2} | {:.2} | {:.2} | {ratio:.3} |",
            get("weft", c, "requests_per_sec"),
            get("hyper-util", c, "requests_per_sec"),
            get("reqwest", c, "requests_per_sec"),
            cpu("weft") / 1000.0,
            cpu("hyper-util") / 1000.0,
            cpu("reqwest") / 1000.0,
        );
    }
    let _ = writeln!(md);
    targets.push(Target {
        what: "HTTP client CPU per request ≤ 0.95× hyper-util's on tokio at every C".into(),
        measured: format!("worst {worst:.3}×"),
        met: Some(worst <= 0.95),
    });
}
