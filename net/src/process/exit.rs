//! Knowing when a child exits, with no thread and without `waitpid(-1)` (which would reap
//! other libraries' children).
//!
//! The first choice is a pidfd per child, registered in the reactor: it becomes readable when
//! the child exits, and [`Child::try_wait`](super::Child::try_wait) then collects the status
//! of that one pid. A child that exited before its pidfd was opened is still seen: an unreaped
//! child keeps its pid, and a pidfd opened on it is readable at once.
//!
//! Where pidfds are refused (a kernel before 5.3, or a seccomp filter, which may answer `EPERM`
//! rather than `ENOSYS`), that is decided once per process, and each child is watched through
//! `SIGCHLD` instead ([`Signals`]), re-checking it on every signal, since signals coalesce.
//! `WEFT_CHILD_WATCH=sigchld` forces that path, to test it.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::OnceLock;
use std::task::Context;

use mio::unix::SourceFd;
use rustix::process::{Pid, PidfdFlags, pidfd_open, pidfd_send_signal};
use weft_runtime::io::Async;

use crate::signal::Signals;

/// The environment variable that picks how children are watched: `sigchld` forces the
/// fallback; anything else (or nothing) uses pidfds where the system allows them.
pub const CHILD_WATCH_ENV: &str = "WEFT_CHILD_WATCH";

/// How one child's exit is noticed.
pub(crate) enum ExitWatch {
    Pidfd(Async<PidFd>),
    Sigchld(Signals),
}

/// A pidfd, as a mio source.
#[derive(Debug)]
pub(crate) struct PidFd(OwnedFd);

impl mio::event::Source for PidFd {
    fn register(
        &mut self,
        registry: &mio::Registry,
        token: mio::Token,
        interests: mio::Interest,
    ) -> io::Result<()> {
        SourceFd(&self.0.as_raw_fd()).register(registry, token, interests)
    }

    fn reregister(
        &mut self,
        registry: &mio::Registry,
        token: mio::Token,
        interests: mio::Interest,
    ) -> io::Result<()> {
        SourceFd(&self.0.as_raw_fd()).reregister(registry, token, interests)
    }

    fn deregister(&mut self, registry: &mio::Registry) -> io::Result<()> {
        SourceFd(&self.0.as_raw_fd()).deregister(registry)
    }
}

/// Whether this process watches children through pidfds: decided once, by opening one on
/// itself, unless `WEFT_CHILD_WATCH=sigchld` says not to.
pub(crate) fn pidfds_work() -> bool {
    static DECIDED: OnceLock<bool> = OnceLock::new();
    *DECIDED.get_or_init(|| {
        if std::env::var(CHILD_WATCH_ENV).is_ok_and(|v| v.eq_ignore_ascii_case("sigchld")) {
            return false;
        }
        pidfd_open(rustix::process::getpid(), PidfdFlags::NONBLOCK).is_ok()
    })
}

impl ExitWatch {
    /// Starts watching child `pid`, which must not have been reaped yet.
    pub(crate) fn new(pid: u32, label: &str) -> io::Result<ExitWatch> {
        if pidfds_work() {
            let pid = i32::try_from(pid)
                .ok()
                .and_then(Pid::from_raw)
                .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a pid"))?;
            let fd = pidfd_open(pid, PidfdFlags::NONBLOCK)?;
            let watch = Async::with_interest(PidFd(fd), mio::Interest::READABLE)?;
            watch.registration().set_label(label.to_owned());
            return Ok(ExitWatch::Pidfd(watch));
        }
        let signals = Signals::new([crate::signal::SIGCHLD])?;
        signals.set_label(label.to_owned());
        Ok(ExitWatch::Sigchld(signals))
    }

    /// Waits until the child may have exited: its pidfd is readable, or a `SIGCHLD` came
    /// since the last call (for any child: the caller checks its own).
    pub(crate) async fn changed(&mut self) -> io::Result<()> {
        match self {
            ExitWatch::Pidfd(pidfd) => {
                std::future::poll_fn(|cx: &mut Context<'_>| {
                    pidfd.registration().poll_read_ready(cx)
                })
                .await
            }
            ExitWatch::Sigchld(signals) => signals.recv().await.map(drop),
        }
    }

    /// Whether `changed` reports an exit that happened before the watch began (a pidfd
    /// does; a `SIGCHLD` that came before is gone).
    pub(crate) fn tells_past_exits(&self) -> bool {
        matches!(self, ExitWatch::Pidfd(_))
    }

    /// The child was not done after all: the next `changed` waits for a new event.
    pub(crate) fn not_yet(&self) {
        if let ExitWatch::Pidfd(pidfd) = self {
            pidfd.registration().clear_read_ready();
        }
    }

    /// Sends `signal` through the pidfd, which cannot reach another process that reused the
    /// pid; `None` on the `SIGCHLD` path, where the caller sends it by pid.
    pub(crate) fn send_signal(&self, signal: rustix::process::Signal) -> Option<io::Result<()>> {
        match self {
            ExitWatch::Pidfd(pidfd) => {
                Some(pidfd_send_signal(&pidfd.get_ref().0, signal).map_err(io::Error::from))
            }
            ExitWatch::Sigchld(_) => None,
        }
    }

    /// Which path this is, for the `Debug` output and the tests.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            ExitWatch::Pidfd(_) => "pidfd",
            ExitWatch::Sigchld(_) => "SIGCHLD",
        }
    }
}

impl std::fmt::Debug for ExitWatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.kind())
    }
}
