//! An echo server on one thread: `cargo run --release --example echo_server -- --addr 127.0.0.1:7000`
//!
//! Serves any number of clients at once, logs connects and disconnects (`--quiet` to stop
//! that), and exits cleanly on Ctrl-C.

#[path = "echo/args.rs"]
mod args;
#[path = "echo/ctrl_c.rs"]
mod ctrl_c;
#[path = "echo/server.rs"]
mod server;
#[path = "echo/threads.rs"]
mod threads;

use std::cell::Cell;
use std::net::SocketAddr;
use std::rc::Rc;

fn main() {
    let addr: SocketAddr = args::get("addr", "127.0.0.1:7000".parse().unwrap());
    let quiet = std::env::args().any(|a| a == "--quiet");
    let result = weft::run(async move {
        let listener = weft::net::TcpListener::bind(addr).await?;
        println!(
            "echo server listening on {} (pid {}, {} thread); Ctrl-C to stop",
            listener.local_addr()?,
            std::process::id(),
            threads::count().unwrap_or(1)
        );
        let open = Rc::new(Cell::new(0));
        weft::spawn(server::serve(listener, open.clone(), !quiet));
        ctrl_c::ctrl_c().await?;
        println!(
            "\nCtrl-C: closing {} open connection(s) and exiting",
            open.get()
        );
        Ok::<(), std::io::Error>(())
    });
    if let Err(err) = result {
        eprintln!("echo_server: {err}");
        std::process::exit(1);
    }
}
