//! [`Ready`]: the future that `readable()` and `writable()` return.
//!
//! A named future rather than an `async fn`: the echo server awaits one per round trip, and
//! an `async fn` around `poll_fn` cost two state machines' worth of instructions on every
//! poll (callgrind).

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::Registration;

/// Waits until a source may be read (from [`Async::readable`](super::Async::readable), and
/// the sockets' `readable()`) or written (`writable()`). Cancel-safe: dropping it loses
/// nothing.
#[must_use = "a readiness future does nothing unless awaited"]
pub struct Ready<'a> {
    registration: &'a Registration,
    write: bool,
}

impl<'a> Ready<'a> {
    pub(crate) fn read(registration: &'a Registration) -> Ready<'a> {
        Ready {
            registration,
            write: false,
        }
    }

    pub(crate) fn write(registration: &'a Registration) -> Ready<'a> {
        Ready {
            registration,
            write: true,
        }
    }
}

impl Future for Ready<'_> {
    type Output = io::Result<()>;

    // Always inlined into the awaiting state machine: called out of line it cost an echo
    // round trip 40 instructions (callgrind).
    #[inline(always)]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.write {
            self.registration.poll_write_ready(cx)
        } else {
            self.registration.poll_read_ready(cx)
        }
    }
}

impl fmt::Debug for Ready<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.write {
            "Ready(writable)"
        } else {
            "Ready(readable)"
        })
    }
}
