//! Load for an echo server, on one thread:
//! `cargo run --release --example echo_client -- --addr 127.0.0.1:7000 --connections 100 --messages 1000 --size 64`
//!
//! Every echoed byte is checked; prints round trips per second and latency percentiles.

use clap::Parser;
use demo_echo::client;
use std::net::SocketAddr;

/// Load for an echo server, on one thread: every echoed byte is checked.
#[derive(Parser)]
#[command(name = "echo_client")]
struct Args {
    /// The echo server's address.
    #[arg(long, default_value = "127.0.0.1:7000")]
    addr: SocketAddr,
    #[command(flatten)]
    load: demo_cli::Load,
}

fn main() {
    let Args { addr, load } = Args::parse();
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
    match weft::run(async { client::run(&load).await }) {
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
