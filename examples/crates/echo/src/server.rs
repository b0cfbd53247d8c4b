//! The echo server's logic, shared by `echo_server`, `echo_demo` and the echo benchmark.

use std::cell::{Cell, RefCell};
use std::io;
use std::rc::Rc;

use std::time::Duration;

use std::net::SocketAddr;

use weft::net::{StopHandle, StreamServer, TcpStream};

/// Echoes on every connection `server` accepts until it is stopped, and returns how many it
/// served. With `log`, prints each connect and disconnect, each line starting with `log`'s
/// text (a core's name on a server with several cores).
pub async fn serve(server: StreamServer, log: Option<String>) -> io::Result<u64> {
    let shared = Rc::new(Shared {
        stats: server.stop_handle(),
        log,
        scratch: RefCell::new(vec![0; 16 * 1024]),
    });
    let served = Rc::new(Cell::new(0));
    server
        .serve({
            let served = served.clone();
            move |conn, peer| {
                served.set(served.get() + 1);
                connection(shared.clone(), conn, peer)
            }
        })
        .await?;
    Ok(served.get())
}

/// What every connection of one server shares, behind one `Rc`: a waiting connection's task
/// is a few hundred bytes (BENCHMARKS.md, "Idle connections"), and each word it captures
/// counts.
struct Shared {
    stats: StopHandle,
    log: Option<String>,
    /// The one read buffer of every connection of this server (of this thread, then): a
    /// connection waits for bytes holding no buffer, reads into this one once they are
    /// there, and writes them back before it waits again. (Shared through the `Rc` rather
    /// than a thread-local: reading a `thread_local!` cost an echo round trip about 30
    /// instructions, callgrind.)
    scratch: RefCell<Vec<u8>>,
}

/// One connection: logged when it opens and closes, if the server logs.
async fn connection(shared: Rc<Shared>, conn: TcpStream, peer: SocketAddr) {
    if let Some(prefix) = &shared.log {
        println!(
            "{prefix}+ {peer} ({} open)",
            shared.stats.active_connections()
        );
    }
    let result = echo(conn, &shared.scratch).await;
    if let Some(prefix) = &shared.log {
        let open = shared.stats.active_connections() - 1;
        match result {
            Ok(bytes) => println!("{prefix}- {peer} after {bytes} bytes ({open} open)"),
            Err(err) => println!("{prefix}- {peer}: {err} ({open} open)"),
        }
    }
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

/// Echoes until the client closes; returns how many bytes went through. A waiting
/// connection holds no buffer: it waits for readiness, reads into the server's `scratch`
/// buffer, and writes the bytes back at once; only what the kernel will not take right away
/// is copied into a buffer of the connection's own, until it is sent.
async fn echo(conn: TcpStream, scratch: &RefCell<Vec<u8>>) -> io::Result<u64> {
    conn.set_nodelay(true)?;
    let mut total = 0;
    loop {
        conn.readable().await?;
        let step = (|| -> io::Result<Step> {
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
        })()?;
        match step {
            Step::Closed => return Ok(total),
            Step::Echoed => {}
            Step::Unsent(mut rest) => {
                // Readiness again rather than `write_all`: its future would take 64 bytes of
                // every connection's state, waiting or not.
                while !rest.is_empty() {
                    conn.writable().await?;
                    match conn.try_write(&rest) {
                        Ok(n) => drop(rest.drain(..n)),
                        Err(err) if err.kind() == io::ErrorKind::WouldBlock => {}
                        Err(err) => return Err(err),
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::rc::Rc;

    use weft::net::{StreamServer, TcpListener, TcpStream};

    /// What a waiting connection costs is mostly its task's future: keep it small
    /// (BENCHMARKS.md, "Idle connections"). It was 576 bytes before the connection's shared
    /// parts moved behind one `Rc` and the unsent bytes were written with readiness.
    #[test]
    fn a_connections_future_stays_small() {
        weft::run(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let conn = TcpStream::connect(addr).await.unwrap();
            let shared = Rc::new(super::Shared {
                stats: StreamServer::new(listener).stop_handle(),
                log: None,
                scratch: RefCell::new(Vec::new()),
            });
            let future = super::connection(shared, conn, addr);
            let size = std::mem::size_of_val(&future);
            assert!(size <= 320, "a connection future grew to {size} bytes");
        });
    }
}
