//! weft-net: TCP and UDP sockets for [weft](https://docs.rs/weft), built only on
//! `weft_runtime::io`'s public registration API (the same one you can use for your own
//! sources). Network failures are `io::Error`s carrying the OS cause; nothing here panics on
//! bad input from the network.
//!
//! Sockets are `!Send`: they belong to the runtime of the thread that created them.

#![forbid(unsafe_code)]

mod addr;
#[cfg(feature = "cores")]
pub mod cores;
mod dns;
#[cfg(feature = "http")]
pub mod http;
#[cfg(feature = "hyper")]
pub mod hyper;
pub mod io;
pub mod process;
mod server;
pub mod signal;
#[cfg(feature = "sim")]
pub mod sim;

/// A fault point, FoundationDB's `BUGGIFY`: `if buggify!() { ... }` runs the block (a
/// delay, an error, a dropped connection: the rare path a test should meet) only inside a
/// running `weft::sim` simulation, where each site is armed for the run by the seed (1 in
/// 4) and an armed site fires 1 time in 4. Outside a simulation it is `false`, and without
/// the feature `sim` it is the constant `false` that the compiler removes with its block.
///
/// ```
/// async fn write_log(line: &str) -> std::io::Result<()> {
///     if weft::buggify!() {
///         return Err(std::io::Error::other("injected: the disk is full"));
///     }
///     // ... the real write ...
///     Ok(())
/// }
/// ```
#[cfg(feature = "sim")]
#[macro_export]
macro_rules! buggify {
    () => {
        $crate::sim::buggify_at(concat!(file!(), ":", line!(), ":", column!()))
    };
}

/// A fault point: the constant `false` without the feature `sim` (see the feature's docs).
#[cfg(not(feature = "sim"))]
#[macro_export]
macro_rules! buggify {
    () => {
        false
    };
}
mod tcp;
#[cfg(feature = "tls")]
pub mod tls;
mod udp;
mod unix;

pub use addr::{ToSocketAddrs, lookup_host};
pub use dns::{Resolver, ResolverConfig};
pub use server::{Listener, StopHandle, StreamServer};
pub use tcp::{
    ListenerBuilder, OwnedReadHalf, OwnedWriteHalf, ReuniteError, TcpListener, TcpStream,
};
pub use udp::UdpSocket;
pub use unix::{UnixListener, UnixStream};
