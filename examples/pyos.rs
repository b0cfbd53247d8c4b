//! pyos, Beazley's generator operating system, serving echo: `cargo run --example pyos -- --addr 127.0.0.1:7001`
//!
//! The whole OS is in `examples/crates/pyos/src/os.rs`; the echo server in `echo.rs` beside it. See the README's "pyos and weft
//! side by side" for how each part maps onto weft's real executor. Load it with
//! `cargo run --release --example echo_client -- --addr 127.0.0.1:7001`; Ctrl-C stops it.

use clap::Parser;
use demo_pyos::{echo, os};
use std::net::SocketAddr;
use std::os::fd::AsRawFd;

/// Beazley's generator operating system (pyos), serving echo. Ctrl-C stops it.
#[derive(Parser)]
#[command(name = "pyos")]
struct Args {
    /// The address the echo server listens on.
    #[arg(long, default_value = "127.0.0.1:7001")]
    addr: SocketAddr,
}

fn main() -> std::io::Result<()> {
    let Args { addr } = Args::parse();
    let mut kernel = os::Scheduler::new()?;

    // First, pyos5's KillTask on a task blocked on I/O — the case where Beazley's pyos leaves a
    // stale entry in its I/O table. Here the victim leaves every waiting list.
    let (quiet, _other_end) = mio::net::UnixStream::pair()?;
    let doomed = kernel.new_task(os::task(move |sys| async move {
        sys.read_wait(quiet.as_raw_fd()).await?; // nobody ever writes
        unreachable!("killed while waiting");
    }));
    kernel.new_task(os::task(move |sys| async move {
        let me = sys.get_tid().await?;
        let killed = sys.kill(doomed).await?;
        let still_there = sys.wait(doomed).await?;
        println!(
            "task {me} killed task {doomed} while it waited on a socket ({killed}); it is gone: {}",
            !still_there
        );
        Ok(())
    }));

    let listener = mio::net::TcpListener::bind(addr)?;
    let server = kernel.new_task(echo::server(listener, |addr, tid| {
        println!("pyos echo server (task {tid}) listening on {addr}; Ctrl-C to stop")
    }));
    // Ctrl-C writes a byte into a socket pair (no extra thread); a task waiting on the other
    // end kills the server, and with no task left the kernel's main loop returns.
    let (signal, on_signal) = mio::net::UnixStream::pair()?;
    signal_hook::low_level::pipe::register(signal_hook::consts::SIGINT, on_signal)?;
    kernel.new_task(echo::stop_on(signal, server));
    kernel.mainloop()?;
    println!(
        "\npyos: stopped; tasks still waiting on I/O: {}",
        kernel.io_waiters()
    );
    Ok(())
}
