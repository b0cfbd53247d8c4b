//! The echo server's logic, shared by `echo_server`, `echo_demo` and the echo benchmark.

use std::cell::{Cell, RefCell};
use std::io;
use std::rc::Rc;

use std::time::Duration;
use weft::io::AsyncWriteExt;

use weft::net::{StopHandle, StreamServer, TcpStream};

/// Echoes on every connection `server` accepts until it is stopped, and returns how many it
/// served. With `log`, prints each connect and disconnect, each line starting with `log`'s
/// text (a core's name on a server with several cores).
pub async fn serve(server: StreamServer, log: Option<String>) -> io::Result<u64> {
    let stats = server.stop_handle();
    let served = Rc::new(Cell::new(0));
    let log: Option<Rc<str>> = log.map(Rc::from);
    server
        .serve({
            let served = served.clone();
            move |conn, peer| {
                let stats = stats.clone();
                let log = log.clone();
                served.set(served.get() + 1);
                async move {
                    if let Some(prefix) = &log {
                        println!("{prefix}+ {peer} ({} open)", stats.active_connections());
                    }
                    let result = echo(conn).await;
                    if let Some(prefix) = &log {
                        let open = stats.active_connections() - 1;
                        match result {
                            Ok(bytes) => {
                                println!("{prefix}- {peer} after {bytes} bytes ({open} open)")
                            }
                            Err(err) => println!("{prefix}- {peer}: {err} ({open} open)"),
                        }
                    }
                }
            }
        })
        .await?;
    Ok(served.get())
}

/// Prints, every `every`, how many connections `server` has open and this process's
/// resident memory, each line starting with `prefix`. With `per_connection`, also the growth
/// per open connection (right when this server is the process's only one).
pub async fn report_every(
    server: StopHandle,
    every: Duration,
    prefix: String,
    per_connection: bool,
) {
    let start = demo_cli::rss_bytes().unwrap_or(0);
    loop {
        weft::time::sleep(every).await;
        let open = server.active_connections();
        let rss = demo_cli::rss_bytes().unwrap_or(0);
        let grown = rss.saturating_sub(start);
        println!(
            "{prefix}{open} connections open; process memory {:.1} MiB, {:.1} MiB more than at start{}",
            rss as f64 / (1024.0 * 1024.0),
            grown as f64 / (1024.0 * 1024.0),
            match open {
                n if per_connection && n > 0 => {
                    format!(" ({} bytes per connection)", grown / n as u64)
                }
                _ => String::new(),
            }
        );
    }
}

/// Where one read left a connection.
enum Step {
    /// The client closed its side.
    Closed,
    /// Everything read was written back (or nothing was there after all).
    Echoed,
    /// The kernel would not take these bytes yet: they wait in the connection's own buffer.
    Unsent(Vec<u8>),
}

thread_local! {
    /// The one read buffer of every connection on this thread: a connection waits for
    /// bytes holding no buffer, reads into this one once they are there, and writes them
    /// back before it waits again.
    static SCRATCH: RefCell<Vec<u8>> = RefCell::new(vec![0; 16 * 1024]);
}

/// Echoes until the client closes; returns how many bytes went through. A waiting
/// connection holds no buffer: it waits for readiness, reads into the thread's scratch
/// buffer, and writes the bytes back at once; only what the kernel will not take right away
/// is copied into a buffer of the connection's own, until it is sent.
async fn echo(mut conn: TcpStream) -> io::Result<u64> {
    conn.set_nodelay(true)?;
    let mut total = 0;
    loop {
        conn.readable().await?;
        let step = SCRATCH.with(|scratch| -> io::Result<Step> {
            let mut buf = scratch.borrow_mut();
            let n = match conn.try_read(&mut buf) {
                Ok(0) => return Ok(Step::Closed),
                Ok(n) => n,
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => return Ok(Step::Echoed),
                Err(err) => return Err(err),
            };
            total += n as u64;
            let mut sent = 0;
            while sent < n {
                match conn.try_write(&buf[sent..n]) {
                    Ok(written) => sent += written,
                    Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                        return Ok(Step::Unsent(buf[sent..n].to_vec()));
                    }
                    Err(err) => return Err(err),
                }
            }
            Ok(Step::Echoed)
        })?;
        match step {
            Step::Closed => return Ok(total),
            Step::Echoed => {}
            Step::Unsent(rest) => conn.write_all(&rest).await?,
        }
    }
}
