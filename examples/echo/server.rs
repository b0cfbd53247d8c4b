//! The echo server's logic, shared by `echo_server` and `echo_demo`.

use std::cell::Cell;
use std::io;
use std::rc::Rc;
use std::time::Duration;

use weft::io::{AsyncReadExt, AsyncWriteExt};
use weft::net::{TcpListener, TcpStream};

/// Accepts connections forever, one task per client. `open` counts the live connections.
pub async fn serve(listener: TcpListener, open: Rc<Cell<usize>>, log: bool) {
    loop {
        match listener.accept().await {
            Ok((conn, peer)) => {
                open.set(open.get() + 1);
                if log {
                    println!("+ {peer} ({} open)", open.get());
                }
                let open = open.clone();
                weft::spawn(async move {
                    let result = echo(conn).await;
                    open.set(open.get() - 1);
                    if log {
                        match result {
                            Ok(bytes) => {
                                println!("- {peer} after {bytes} bytes ({} open)", open.get())
                            }
                            Err(err) => println!("- {peer}: {err} ({} open)", open.get()),
                        }
                    }
                });
            }
            Err(err) => {
                // Out of file descriptors, say: retrying at once would spin the CPU.
                eprintln!("accept failed: {err}; retrying in 100 ms");
                weft::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
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
