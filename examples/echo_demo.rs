//! The echo demo in one command: `cargo run --release --example echo_demo`
//!
//! Starts the echo server and 100 load clients as tasks of *one* runtime on *one* thread, sends
//! 1,000 messages over each connection, checks every byte, and shows that the process never
//! used a second thread. (`echo_server` and `echo_client` are the same code as two processes.)

use clap::Parser;
use demo_echo::{client, server};
use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

/// The echo server and its load clients as tasks of one runtime on one thread.
#[derive(Parser)]
#[command(name = "echo_demo")]
struct Args {
    #[command(flatten)]
    load: demo_cli::Load,
}

fn main() {
    let demo_cli::Load {
        connections,
        messages,
        size,
    } = Args::parse().load;
    let result = weft::run(async move {
        let listener = weft::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| e.to_string())?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let server = weft::net::StreamServer::new(listener);
        let open = server.stop_handle();
        weft::spawn(server::serve(server, None));
        println!(
            "echo server on {addr}; {connections} clients x {messages} messages of {size} bytes"
        );

        // Sample, while the load runs, how many connections are open and how many threads
        // the process has.
        let (peak_open, peak_threads) = (Rc::new(Cell::new(0)), Rc::new(Cell::new(0)));
        let sampler = weft::spawn({
            let (peak_open, peak_threads) = (peak_open.clone(), peak_threads.clone());
            async move {
                let mut every = weft::time::interval(Duration::from_millis(5));
                loop {
                    every.tick().await;
                    peak_open.set(peak_open.get().max(open.active_connections()));
                    peak_threads.set(
                        peak_threads
                            .get()
                            .max(demo_cli::thread_count().unwrap_or(1)),
                    );
                }
            }
        });
        let load = client::Load {
            addr,
            connections,
            messages,
            size,
        };
        let report = client::run(&load).await?;
        sampler.abort();
        Ok::<_, String>((report, peak_open.get(), peak_threads.get()))
    });
    match result {
        Ok((report, peak_open, peak_threads)) => {
            println!("{report}");
            println!(
                "  at the peak {peak_open} connections were open; threads in this process: {peak_threads}"
            );
        }
        Err(err) => {
            eprintln!("echo_demo: {err}");
            std::process::exit(1);
        }
    }
}
