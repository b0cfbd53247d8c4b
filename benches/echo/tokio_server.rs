//! The tokio peer: the same echo server on tokio's current-thread runtime, or on its
//! multi-thread runtime for the multicore table. Written the way weft's echo server is: a
//! waiting connection holds no buffer (`readable`, then `try_read` into the thread's scratch
//! buffer), so both tables compare runtimes, not buffer policies.

use std::cell::RefCell;
use std::io;
use std::net::SocketAddr;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

/// tokio's current-thread runtime.
pub fn current_thread() -> tokio::runtime::Builder {
    tokio::runtime::Builder::new_current_thread()
}

/// tokio's multi-thread (work-stealing) runtime with `workers` worker threads.
pub fn multi_thread(workers: usize) -> tokio::runtime::Builder {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder.worker_threads(workers);
    builder
}

/// Serves on `addr` forever on the runtime `builder` makes; calls `ready` with the bound
/// address first.
pub fn serve(
    mut builder: tokio::runtime::Builder,
    addr: SocketAddr,
    ready: impl FnOnce(SocketAddr),
) -> io::Result<()> {
    let rt = builder.enable_all().build()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        ready(listener.local_addr()?);
        loop {
            let (conn, _) = listener.accept().await?;
            tokio::spawn(async move {
                let _ = conn.set_nodelay(true);
                let _ = echo(conn).await;
            });
        }
    })
}

thread_local! {
    static SCRATCH: RefCell<Vec<u8>> = RefCell::new(vec![0; 16 * 1024]);
}

/// Echoes until the client closes, holding no buffer while it waits.
async fn echo(mut conn: TcpStream) -> io::Result<()> {
    loop {
        conn.readable().await?;
        let unsent = SCRATCH.with(|scratch| -> io::Result<Option<Vec<u8>>> {
            let mut buf = scratch.borrow_mut();
            let n = match conn.try_read(&mut buf) {
                Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(None),
                Err(e) => return Err(e),
            };
            let mut sent = 0;
            while sent < n {
                match conn.try_write(&buf[sent..n]) {
                    Ok(written) => sent += written,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        return Ok(Some(buf[sent..n].to_vec()));
                    }
                    Err(e) => return Err(e),
                }
            }
            Ok(None)
        })?;
        if let Some(rest) = unsent {
            conn.write_all(&rest).await?;
        }
    }
}
