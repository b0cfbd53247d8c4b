//! [`Signal`]: a signal number with a type, so that a signal is never confused with another
//! integer (an exit code, a pid), and prints by name.

use std::fmt;
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;

use signal_hook::consts::signal as raw;

/// A Unix signal. The constants in [`weft::signal`](crate::signal) (`SIGTERM`, `SIGKILL`, ...)
/// are of this type; [`from_raw`](Signal::from_raw) makes one from a number. It prints by
/// name (`SIGTERM`), and [`from_exit`](Signal::from_exit) says which signal ended a child.
///
/// Python's `signal.Signals` enum; asyncio's `send_signal(signal.SIGTERM)` is
/// `child.signal(SIGTERM)`.
///
/// ```
/// use weft::signal::{SIGTERM, Signal};
///
/// assert_eq!(Signal::from_raw(15), Some(SIGTERM));
/// assert_eq!(SIGTERM.as_raw(), 15);
/// assert_eq!(SIGTERM.to_string(), "SIGTERM");
/// assert_eq!(Signal::from_raw(12345), None);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Signal(i32);

impl Signal {
    /// The signal numbered `number`, if the system has one.
    pub fn from_raw(number: i32) -> Option<Signal> {
        rustix::process::Signal::from_named_raw(number).map(|_| Signal(number))
    }

    /// The signal's number.
    pub const fn as_raw(self) -> i32 {
        self.0
    }

    /// Its name, such as `"SIGTERM"`, where the system names it.
    pub fn name(self) -> Option<&'static str> {
        signal_hook::low_level::signal_name(self.0)
    }

    /// The signal that ended a child, if a signal did (Python's negative `returncode`),
    /// without importing std's `ExitStatusExt`.
    ///
    /// ```
    /// use weft::process::Command;
    /// use weft::signal::{SIGKILL, Signal};
    ///
    /// weft::run(async {
    ///     let mut child = Command::new("sleep").arg("60").spawn()?;
    ///     child.kill()?;
    ///     let status = child.wait().await?;
    ///     assert_eq!(Signal::from_exit(&status), Some(SIGKILL));
    ///     std::io::Result::Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub fn from_exit(status: &ExitStatus) -> Option<Signal> {
        status.signal().map(Signal)
    }

    /// The same signal as rustix names it.
    pub(crate) fn to_rustix(self) -> rustix::process::Signal {
        rustix::process::Signal::from_named_raw(self.0).expect("a Signal is a named signal")
    }
}

impl From<Signal> for i32 {
    fn from(signal: Signal) -> i32 {
        signal.0
    }
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "signal {}", self.0),
        }
    }
}

impl fmt::Debug for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Hangup: the terminal closed; daemons reload their configuration on it.
pub const SIGHUP: Signal = Signal(raw::SIGHUP);
/// Interrupt: Ctrl-C.
pub const SIGINT: Signal = Signal(raw::SIGINT);
/// Quit: Ctrl-\.
pub const SIGQUIT: Signal = Signal(raw::SIGQUIT);
/// Kill: cannot be caught or ignored (asyncio's `kill()`).
pub const SIGKILL: Signal = Signal(raw::SIGKILL);
/// User-defined signal 1 (`kill -USR1`, the usual trigger of a task dump).
pub const SIGUSR1: Signal = Signal(raw::SIGUSR1);
/// User-defined signal 2.
pub const SIGUSR2: Signal = Signal(raw::SIGUSR2);
/// Broken pipe: a write to a pipe or socket whose reader is gone.
pub const SIGPIPE: Signal = Signal(raw::SIGPIPE);
/// Alarm clock.
pub const SIGALRM: Signal = Signal(raw::SIGALRM);
/// Terminate: the polite request to stop (asyncio's `terminate()`).
pub const SIGTERM: Signal = Signal(raw::SIGTERM);
/// A child stopped or exited.
pub const SIGCHLD: Signal = Signal(raw::SIGCHLD);
/// Continue a stopped process.
pub const SIGCONT: Signal = Signal(raw::SIGCONT);
/// Stop: cannot be caught or ignored.
pub const SIGSTOP: Signal = Signal(raw::SIGSTOP);
/// The terminal window changed size.
pub const SIGWINCH: Signal = Signal(raw::SIGWINCH);
