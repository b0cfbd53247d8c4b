//! An echo server: `cargo run --release --example echo_server -- --addr 127.0.0.1:7000 [--threads N] [--max-connections N] [--quiet] [--report-every SECONDS]`
//!
//! Serves clients concurrently on a `StreamServer` (at most `--max-connections` at once per
//! core: more wait in the backlog), logs connects and disconnects (`--quiet` to stop that), and
//! on Ctrl-C stops gracefully: the listener closes, open connections get a second to finish,
//! the rest are closed.
//!
//! `--report-every SECONDS` prints the open connections and the process's memory, to see
//! what idle connections cost (`echo_client --hold`).
//!
//! `--threads N` runs one weft runtime per core on N threads (`weft::cores`), each with its
//! own `SO_REUSEPORT` listener on the same address, so the kernel spreads the connections; the
//! log lines then say which core served each one. One thread is the default.

use clap::Parser;
use demo_echo::server;
use std::net::SocketAddr;
use std::time::Duration;

use weft::net::StreamServer;

/// An echo server on weft: one thread, or one runtime per core. Ctrl-C stops it gracefully.
#[derive(Parser)]
#[command(name = "echo_server")]
struct Args {
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1:7000")]
    addr: SocketAddr,
    /// At most this many connections at once (per core); more wait in the backlog.
    #[arg(long, default_value_t = 10_000, value_parser = demo_cli::at_least_one)]
    max_connections: usize,
    /// Runtimes, one per core, each with its own SO_REUSEPORT listener.
    #[arg(long, default_value_t = 1, value_parser = demo_cli::at_least_one)]
    threads: usize,
    /// Do not log connects and disconnects.
    #[arg(long)]
    quiet: bool,
    /// Every this many seconds, print how many connections are open and this process's
    /// memory.
    #[arg(long, value_parser = demo_cli::seconds)]
    report_every: Option<std::time::Duration>,
}

fn main() {
    let Args {
        addr,
        max_connections,
        threads,
        quiet,
        report_every,
    } = Args::parse();
    let result = weft::cores::run(threads, move |core| async move {
        let server = StreamServer::bind_per_core(&core, addr)?.max_connections(max_connections);
        let name = if core.count() > 1 {
            format!("[core {}] ", core.index())
        } else {
            String::new()
        };
        if core.index() == 0 {
            println!(
                "echo server listening on {} (pid {}, {threads} thread{}, at most {max_connections} connections{}); Ctrl-C to stop",
                server.local_addr()?,
                std::process::id(),
                if threads == 1 { "" } else { "s" },
                if threads == 1 { "" } else { " per core" },
            );
        }
        let stop = server.stop_handle();
        let serving = weft::spawn(server::serve(server, (!quiet).then(|| name.clone())));
        if let Some(every) = report_every {
            weft::spawn(server::report_every(
                stop.clone(),
                every,
                name.clone(),
                threads == 1,
            ));
        }
        core.stopping().await;
        if core.index() == 0 {
            println!("\nCtrl-C: closing the listener; open connections get 1 s to finish");
        }
        stop.stop(Duration::from_secs(1));
        let served = serving.await.expect("the server task")?;
        println!("{name}stopped after serving {served} connection(s)");
        Ok::<(), std::io::Error>(())
    });
    if let Err(err) = result {
        eprintln!("echo_server: {err}");
        std::process::exit(1);
    }
}
