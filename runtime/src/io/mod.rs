//! Registering your own I/O sources with the reactor.
//!
//! weft-net's sockets are built only on this module, and so can yours: wrap any
//! `mio::event::Source` in [`Async`] (or hold a [`Registration`] next to it) and get futures
//! that wait for readiness without blocking the thread.

mod async_io;
mod ready;
mod registration;

pub use async_io::Async;
pub use mio::Interest;
pub use ready::Ready;
pub use registration::Registration;
