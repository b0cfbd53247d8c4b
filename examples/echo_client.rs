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
    /// Connections open at once.
    #[arg(long, default_value_t = 100, value_parser = demo_cli::at_least_one)]
    connections: usize,
    /// Round trips per connection.
    #[arg(long, default_value_t = 1000)]
    messages: usize,
    /// Bytes per message.
    #[arg(long, default_value_t = 64, value_parser = demo_cli::at_least_one)]
    size: usize,
}

fn main() {
    let args = Args::parse();
    let load = client::Load {
        addr: args.addr,
        connections: args.connections,
        messages: args.messages,
        size: args.size,
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
