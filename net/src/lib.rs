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
