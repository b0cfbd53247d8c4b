//! One weft runtime per core: the runtime's `cores` module, plus [`run`], which also stops
//! every core on Ctrl-C. See the runtime's module docs for the design (shared nothing: tasks
//! never move between cores, only messages do).
//!
//! ```no_run
//! use weft::io::{AsyncReadExt, AsyncWriteExt};
//! use weft::net::StreamServer;
//!
//! // An echo server on two cores: one SO_REUSEPORT listener per core, so the kernel spreads
//! // the connections; Ctrl-C stops both.
//! weft::cores::run(2, |core| async move {
//!     let server = StreamServer::bind_per_core(&core, "127.0.0.1:7000".parse().unwrap())?;
//!     let stop = server.stop_handle();
//!     let serving = weft::spawn(server.serve(|mut conn, _peer| async move {
//!         let mut buf = vec![0; 16 * 1024];
//!         while let Ok(n @ 1..) = conn.read(&mut buf).await {
//!             if conn.write_all(&buf[..n]).await.is_err() {
//!                 break;
//!             }
//!         }
//!     }));
//!     core.stopping().await;
//!     stop.stop(std::time::Duration::from_secs(1));
//!     serving.await.expect("the server task")
//! })
//! .unwrap();
//! ```

pub use weft_runtime::cores::*;

/// Runs `main` on `cores` runtimes, as [`Builder::run`] does, and asks every core to stop
/// when Ctrl-C (`SIGINT`) arrives: each core's [`CoreHandle::stopping`] resolves, and its
/// `main` has 5 s to return. While it runs, Ctrl-C does not end the process.
pub fn run<F, Fut, T, E>(cores: usize, main: F) -> Result<Vec<T>, CoresError<E>>
where
    F: Fn(CoreHandle) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<T, E>> + 'static,
    T: Send + 'static,
    E: Send + 'static,
{
    Builder::new(cores).stop_when(ctrl_c_or_never).run(main)
}

/// Ctrl-C; never, if its handler could not be installed (rather than stopping at once).
async fn ctrl_c_or_never() {
    if crate::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}
