//! Load for an echo server, on one thread:
//! `cargo run --release --example echo_client -- --addr 127.0.0.1:7000 --connections 100 --messages 1000 --size 64`
//!
//! Every echoed byte is checked; prints round trips per second and latency percentiles.

use demo_echo::client;
use std::net::SocketAddr;

fn main() {
    let load = client::Load {
        addr: demo_cli::flag("addr", "127.0.0.1:7000".parse::<SocketAddr>().unwrap()),
        connections: demo_cli::flag("connections", 100),
        messages: demo_cli::flag("messages", 1000),
        size: demo_cli::flag("size", 64),
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
