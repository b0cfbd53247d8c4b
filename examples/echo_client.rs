//! Load for an echo server, on one thread:
//! `cargo run --release --example echo_client -- --addr 127.0.0.1:7000 --connections 100 --messages 1000 --size 64`
//!
//! Every echoed byte is checked; prints round trips per second and latency percentiles.

#[path = "echo/args.rs"]
mod args;
#[path = "echo/client.rs"]
mod client;
#[path = "echo/threads.rs"]
mod threads;

use std::net::SocketAddr;

fn main() {
    let load = client::Load {
        addr: args::get("addr", "127.0.0.1:7000".parse::<SocketAddr>().unwrap()),
        connections: args::get("connections", 100),
        messages: args::get("messages", 1000),
        size: args::get("size", 64),
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
                threads::count().unwrap_or(1)
            );
        }
        Err(err) => {
            eprintln!("echo_client: {err}");
            std::process::exit(1);
        }
    }
}
