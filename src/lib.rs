//! # weft
//!
//! A single-threaded async runtime: what Python programmers get from asyncio, gevent,
//! `threading`, `queue` and generator coroutines, for Rust, on one thread. A hand-written
//! executor of cooperatively scheduled tasks runs on a reactor over `mio` (epoll); timers and
//! TCP/UDP sockets come with it.
//!
//! ```
//! use std::time::Duration;
//!
//! let total = weft::run(async {
//!     let workers: Vec<_> = (1..=3u64)
//!         .map(|i| {
//!             weft::spawn(async move {
//!                 weft::time::sleep(Duration::from_millis(i)).await;
//!                 i * 10
//!             })
//!         })
//!         .collect();
//!     let mut total = 0;
//!     for worker in workers {
//!         total += worker.await.unwrap();
//!     }
//!     total
//! });
//! assert_eq!(total, 60);
//! ```
//!
//! Everything runs on the thread that calls [`run`]: futures need not be `Send`, and no
//! locks or atomics sit on the paths between tasks. Wakers are still `Send + Sync`, so
//! another thread can wake a task; that wake goes through a queue and an eventfd.
//!
//! - [`spawn`], [`task`]: tasks, join handles, abort, `yield_now`, `gather`, `current_task`,
//!   `all_tasks`, and a `Spawner` for libraries that spawn through futures-task's traits.
//! - [`future`]: `join_all`, `race`, `shield`.
//! - [`time`]: `sleep`, `timeout`, `interval`, and the runtime's clock (`time::Instant`),
//!   which a test can pause and move (`pause`, `advance`).
//! - [`testing`], [`macro@test`], [`macro@main`]: `#[weft::test(paused, seeds = 100)]` runs a
//!   test on a paused clock, under many scheduling orders, and prints how to replay the one
//!   that failed.
//! - [`sync`]: `Mutex`, `RLock`, `Condition`, `Semaphore`, `BoundedSemaphore`, `Event`,
//!   `Barrier`, `RwLock` — Python's `threading` toolbox, async.
//! - [`queue`]: `Queue`, `LifoQueue`, `PriorityQueue` with `task_done`/`join`/`shutdown`.
//! - [`channel`]: `oneshot`, `mpsc` (bounded, unbounded, rendezvous), `broadcast`, `watch`,
//!   and `pipe()`.
//! - [`generator`]: `Gen` and `AsyncGen`, Python's generator protocol (`send`, `throw`,
//!   `close`, `yield from`) on async/await.
//! - [`net`]: `TcpListener`, `TcpStream`, `UdpSocket`, `UnixListener`, `UnixStream`, and
//!   `lookup_host`/`Resolver`: name resolution that never blocks the loop (hosts file, then an
//!   async DNS stub client).
//! - [`io`]: `AsyncReadExt`/`AsyncWriteExt`, `BufReader` (asyncio's `StreamReader`: lines
//!   and separators), `BufWriter` (its `StreamWriter`: `write`, then `drain`), and
//!   `Async`/`Registration` to plug in your own mio sources.
//! - [`process`]: child processes (`Command`, `Child`), asyncio's `create_subprocess_exec`,
//!   with no helper thread.
//! - [`signal`]: `ctrl_c` and `Signals`, Unix signals awaited like any event (asyncio's
//!   `add_signal_handler`).
//! - [`Runtime`]: hold a runtime yourself; [`run`] makes one per call.

#![forbid(unsafe_code)]

pub use weft_macros::{main, test};
pub use weft_net::buggify;
pub use weft_runtime::{DeadlockError, Runtime, join, run, select, try_join, try_run};
pub use weft_runtime::{
    channel, future, generator, queue, runtime, sync, task, testing, time, trace,
};

pub use weft_runtime::task::{JoinError, JoinHandle, spawn, yield_now};

/// Networking: TCP, UDP and Unix domain sockets and async name resolution (the `weft-net`
/// crate).
pub mod net {
    pub use weft_net::{
        Listener, ListenerBuilder, OwnedReadHalf, OwnedWriteHalf, Resolver, ResolverConfig,
        ReuniteError, StopHandle, StreamServer, TcpListener, TcpStream, ToSocketAddrs, UdpSocket,
        UnixListener, UnixStream, lookup_host,
    };

    /// An HTTP client with a connection pool (feature `http`): `Client`, `get`.
    #[cfg(feature = "http")]
    pub use weft_net::http;
    /// hyper 1.x on weft (feature `hyper`): `HyperIo`, `LocalExecutor`, `HyperTimer`.
    #[cfg(feature = "hyper")]
    pub use weft_net::hyper;
    /// TLS with rustls (feature `tls`): `TlsConnector`, `TlsAcceptor`.
    #[cfg(feature = "tls")]
    pub use weft_net::tls;
}

#[cfg(feature = "cores")]
pub use weft_net::cores;
pub use weft_net::process;
pub use weft_net::signal;
/// A simulated network of hosts on the virtual clock (feature `sim`).
#[cfg(feature = "sim")]
pub use weft_net::sim;

/// Async I/O: read/write extension traits, and the registration API for your own sources.
pub mod io {
    pub use weft_net::io::{
        AsyncBufRead, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader, BufWriter,
    };
    pub use weft_runtime::io::{Async, Interest, Registration};
}

/// The README's code examples, compiled and run as doctests so they stay true.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

/// The same for the guide's pages in docs/.
#[doc = include_str!("../docs/examples.md")]
#[cfg(doctest)]
pub struct ExamplesDoctests;

/// docs/testing.md's examples.
#[doc = include_str!("../docs/testing.md")]
#[cfg(doctest)]
pub struct TestingDoctests;

#[doc = include_str!("../docs/sim.md")]
#[cfg(all(doctest, feature = "sim"))]
pub struct SimDoctests;
