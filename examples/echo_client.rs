//! Load for an echo server, on one thread:
//! `cargo run --release --example echo_client -- --addr 127.0.0.1:7000 --connections 100 --messages 1000 --size 64`
//!
//! Every echoed byte is checked; prints round trips per second and latency percentiles.
//!
//! With `--hold SECONDS` it holds the connections idle instead, each sending an 8-byte ping
//! every `--ping-every` seconds, and prints what they cost this process:
//! `cargo run --release --example echo_client -- --connections 10000 --hold 60`

use clap::Parser;
use demo_echo::{client, hold};
use std::net::SocketAddr;
use std::time::Duration;

/// Load for an echo server, on one thread: every echoed byte is checked.
#[derive(Parser)]
#[command(name = "echo_client")]
struct Args {
    /// The echo server's address.
    #[arg(long, default_value = "127.0.0.1:7000")]
    addr: SocketAddr,
    #[command(flatten)]
    load: demo_cli::Load,
    /// Hold the connections idle this many seconds, with a rare ping, instead of sending
    /// `--messages` (up to about 19,000 connections: this process needs a file each).
    #[arg(long, value_parser = demo_cli::seconds)]
    hold: Option<Duration>,
    /// With `--hold`: each connection pings every this many seconds.
    #[arg(long, default_value = "30", value_parser = demo_cli::seconds, requires = "hold")]
    ping_every: Duration,
}

fn main() {
    let Args {
        addr,
        load,
        hold,
        ping_every,
    } = Args::parse();
    if let Some(hold) = hold {
        let hold = hold::Hold {
            addr,
            connections: load.connections,
            hold,
            ping_every,
        };
        println!(
            "holding {} idle connections to {addr} for {:.0} s, a ping each every {:.0} s",
            hold.connections,
            hold.hold.as_secs_f64(),
            hold.ping_every.as_secs_f64()
        );
        report(weft::run(async { hold::run(&hold).await }));
        return;
    }
    let load = client::Load {
        addr,
        connections: load.connections,
        messages: load.messages,
        size: load.size,
    };
    println!(
        "{} connections x {} messages of {} bytes to {}",
        load.connections, load.messages, load.size, load.addr
    );
    report(weft::run(async { client::run(&load).await }));
}

fn report(result: Result<impl std::fmt::Display, String>) {
    match result {
        Ok(report) => {
            println!("{report}");
            println!(
                "  threads in this process: {}",
                demo_cli::thread_count().unwrap_or(1)
            );
        }
        Err(err) => {
            eprintln!("echo_client: {err}");
            std::process::exit(1);
        }
    }
}
