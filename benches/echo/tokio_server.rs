//! The tokio peer: the same echo server on tokio's current-thread runtime, or on its
//! multi-thread runtime for the multicore table.

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

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
) -> std::io::Result<()> {
    let rt = builder.enable_all().build()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        ready(listener.local_addr()?);
        loop {
            let (mut conn, _) = listener.accept().await?;
            tokio::spawn(async move {
                let _ = conn.set_nodelay(true);
                let mut buf = vec![0; 16 * 1024];
                loop {
                    match conn.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => {
                            if conn.write_all(&buf[..n]).await.is_err() {
                                return;
                            }
                        }
                    }
                }
            });
        }
    })
}
