//! The echo server's logic, shared by `echo_server`, `echo_demo` and the echo benchmark.

use std::io;

use weft::io::{AsyncReadExt, AsyncWriteExt};
use weft::net::{StreamServer, TcpStream};

/// Echoes on every connection `server` accepts until it is stopped. With `log`, prints each
/// connect and disconnect.
pub async fn serve(server: StreamServer, log: bool) -> io::Result<()> {
    let stats = server.stop_handle();
    server
        .serve(move |conn, peer| {
            let stats = stats.clone();
            async move {
                if log {
                    println!("+ {peer} ({} open)", stats.active_connections());
                }
                let result = echo(conn).await;
                if log {
                    let open = stats.active_connections() - 1;
                    match result {
                        Ok(bytes) => println!("- {peer} after {bytes} bytes ({open} open)"),
                        Err(err) => println!("- {peer}: {err} ({open} open)"),
                    }
                }
            }
        })
        .await
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
