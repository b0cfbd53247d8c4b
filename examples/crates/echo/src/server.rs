//! The echo server's logic, shared by `echo_server`, `echo_demo` and the echo benchmark.

use std::cell::Cell;
use std::io;
use std::rc::Rc;

use weft::io::{AsyncReadExt, AsyncWriteExt};
use weft::net::{StreamServer, TcpStream};

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

/// Echoes until the client closes; returns how many bytes went through.
async fn echo(mut conn: TcpStream) -> io::Result<u64> {
    conn.set_nodelay(true)?;
    let mut buf = vec![0; 16 * 1024];
    let mut total = 0;
    loop {
        let n = conn.read(&mut buf).await?;
        if n == 0 {
            return Ok(total);
        }
        conn.write_all(&buf[..n]).await?;
        total += n as u64;
    }
}
