//! An echo server on one thread: `cargo run --release --example echo_server -- --addr 127.0.0.1:7000 [--max-connections N] [--quiet]`
//!
//! Serves clients concurrently on a `StreamServer` (at most `--max-connections` at once: more
//! wait in the backlog), logs connects and disconnects (`--quiet` to stop that), and on Ctrl-C
//! stops gracefully: the listener closes, open connections get a second to finish, the rest are
//! closed.

use demo_echo::server;
use std::net::SocketAddr;
use std::time::Duration;

use weft::net::{StreamServer, TcpListener};

fn main() {
    let addr: SocketAddr = demo_cli::flag("addr", "127.0.0.1:7000".parse().unwrap());
    let max_connections: usize = demo_cli::flag("max-connections", 10_000);
    let quiet = std::env::args().any(|a| a == "--quiet");
    let result = weft::run(async move {
        let listener = TcpListener::bind(addr).await?;
        println!(
            "echo server listening on {} (pid {}, {} thread, at most {max_connections} connections); Ctrl-C to stop",
            listener.local_addr()?,
            std::process::id(),
            demo_cli::thread_count().unwrap_or(1)
        );
        let server = StreamServer::new(listener).max_connections(max_connections);
        let stop = server.stop_handle();
        let serving = weft::spawn(server::serve(server, !quiet));
        weft::signal::ctrl_c().await?;
        println!(
            "\nCtrl-C: closing the listener; {} connection(s) get 1 s to finish",
            stop.active_connections()
        );
        stop.stop(Duration::from_secs(1));
        serving.await.expect("the server task")?;
        println!("stopped");
        Ok::<(), std::io::Error>(())
    });
    if let Err(err) = result {
        eprintln!("echo_server: {err}");
        std::process::exit(1);
    }
}
