//! Unix signals as events a task awaits: asyncio's `loop.add_signal_handler`, gevent's
//! `signal_handler`, tokio's `signal`.
//!
//! No thread is involved. The handler that runs when a signal arrives (signal-hook's, which
//! only does async-signal-safe things) sets a flag and writes a byte into a socket pair; the
//! runtime waits on the other end of the pair like on any socket.
//!
//! While a [`Signals`] (or a pending [`ctrl_c`]) watches a signal, the signal no longer does
//! its default action (for `SIGINT` and `SIGTERM`: end the process); once none watches it, the
//! default action is back. Python's `remove_signal_handler` restores the default the same way.
//!
//! ```no_run
//! # weft::run(async {
//! // Serve until Ctrl-C, then stop gracefully.
//! let server = weft::spawn(async { /* accept and serve */ });
//! weft::signal::ctrl_c().await?;
//! server.abort();
//! # Ok::<(), std::io::Error>(())
//! # }).unwrap();
//! ```

use std::io::{self, Read};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use signal_hook::SigId;
use weft_runtime::io::Async;

mod number;

pub use number::{
    SIGALRM, SIGCHLD, SIGCONT, SIGHUP, SIGINT, SIGKILL, SIGPIPE, SIGQUIT, SIGSTOP, SIGTERM,
    SIGUSR1, SIGUSR2, SIGWINCH, Signal,
};

/// Resolves at the next Ctrl-C (`SIGINT`) from its first poll on (an `async fn`: nothing
/// happens before it is awaited or spawned); meanwhile Ctrl-C does not end the process.
/// tokio's `signal::ctrl_c`; in Python, a `KeyboardInterrupt` handler.
pub async fn ctrl_c() -> io::Result<()> {
    Signals::new([SIGINT])?.recv().await.map(drop)
}

/// Calls `report` with a [task dump](weft_runtime::task::dump) each time `signal` arrives,
/// from a task of its own, until that task's handle is aborted or dropped with the runtime:
/// the on-demand "what is everything waiting on?" of a program that seems stuck. `SIGUSR1`
/// is the usual choice (`kill -USR1 PID`); run with `WEFT_DEBUG=1` and the dump also counts
/// polls and names the holders of locks and permits.
///
/// While it runs, the runtime has a registered source, so a deadlock is no longer reported
/// as one (the signal could still arrive); the dump is how to see it then.
///
/// ```no_run
/// # weft::run(async {
/// let _dumper = weft::signal::dump_tasks_on(weft::signal::SIGUSR1, |dump| eprintln!("{dump}"))?;
/// // ... the program; `kill -USR1 <pid>` prints every task and what it waits on.
/// # Ok::<(), std::io::Error>(())
/// # }).unwrap();
/// ```
pub fn dump_tasks_on(
    signal: Signal,
    mut report: impl FnMut(weft_runtime::task::TaskDump) + 'static,
) -> io::Result<weft_runtime::task::JoinHandle<()>> {
    let mut signals = Signals::new([signal])?;
    Ok(weft_runtime::task::Builder::new()
        .name("task dump on signal")
        .spawn(async move {
            while signals.recv().await.is_ok() {
                report(weft_runtime::task::dump());
            }
        }))
}

/// A set of signals to wait for; [`recv`](Signals::recv) returns each as it arrives.
///
/// Waiting for a signal does not hold a paused test clock: a signal from outside is like a
/// reply on a socket, which the clock does not wait for either (a signal raised by the
/// program itself has arrived when `raise` returns). Use `AutoAdvance::AfterIdle` or
/// `hold_auto_advance` where a test waits for one from another process.
///
/// Several arrivals of one signal between two `recv` calls count once, as the OS itself
/// merges pending signals. Several `Signals` (in one runtime or in several) may watch the same
/// signal: each of them gets every arrival.
///
/// ```no_run
/// use weft::signal::{SIGHUP, SIGTERM, Signals};
///
/// # weft::run(async {
/// let mut signals = Signals::new([SIGHUP, SIGTERM])?;
/// loop {
///     match signals.recv().await? {
///         SIGHUP => println!("reloading the configuration"),
///         _ => break, // SIGTERM: shut down
///     }
/// }
/// # Ok::<(), std::io::Error>(())
/// # }).unwrap();
/// ```
pub struct Signals {
    /// Readable when a handler wrote its byte.
    woken: Async<mio::net::UnixStream>,
    watched: Vec<Watched>,
}

/// One signal a [`Signals`] watches.
struct Watched {
    signal: i32,
    /// Set by the signal handler, cleared by `recv`.
    arrived: Arc<AtomicBool>,
    /// The flag's and the byte's handler registrations, removed on drop.
    handlers: [SigId; 2],
}

impl Signals {
    /// Starts watching `signals`. Fails with `InvalidInput` for an empty set (a `recv` would
    /// wait forever), a number that is not a signal,
    /// a signal that cannot be caught (`SIGKILL`, `SIGSTOP`), or one after which a program
    /// cannot soundly go on (`SIGSEGV`, `SIGILL`, `SIGFPE`); with the OS error if the process
    /// is out of file descriptors.
    pub fn new(signals: impl IntoIterator<Item = Signal>) -> io::Result<Signals> {
        let (reader, writer) = UnixStream::pair()?;
        reader.set_nonblocking(true)?;
        writer.set_nonblocking(true)?;
        let woken = Async::new(mio::net::UnixStream::from_std(reader))?;
        let mut this = Signals {
            woken,
            watched: Vec::new(),
        };
        for signal in signals {
            if this.watched.iter().any(|w| w.signal == signal.as_raw()) {
                continue;
            }
            // Dropping `this` on an error undoes the signals watched so far.
            this.watched.push(Watched::start(signal.as_raw(), &writer)?);
        }
        if this.watched.is_empty() {
            let none = "Signals::new was given no signal to watch";
            return Err(io::Error::new(io::ErrorKind::InvalidInput, none));
        }
        Ok(this)
    }

    /// The next signal that arrived: one that arrived since the last call (or since `new`),
    /// at once, or else the next to come. Cancel-safe: a `recv` dropped before it returned
    /// loses no signal.
    pub async fn recv(&mut self) -> io::Result<Signal> {
        loop {
            if let Some(w) = self
                .watched
                .iter()
                .find(|w| w.arrived.swap(false, Ordering::AcqRel))
            {
                return Ok(Signal::from_raw(w.signal).expect("a watched signal is a signal"));
            }
            // Each handler sets its flag before it writes, so once a byte is read, its flag
            // is seen above; bytes of arrivals already returned are read and let go.
            let mut bytes = [0u8; 64];
            if self.woken.read_with(|mut r| r.read(&mut bytes)).await? == 0 {
                // Only if every handler were gone, which `Signals` never lets happen; an error,
                // not a loop that spins.
                return Err(io::Error::other("the signal handlers' socket closed"));
            }
        }
    }
}

impl Signals {
    /// Names what these signals stand for in a task dump ("child process 12 (git)").
    pub(crate) fn set_label(&self, label: String) {
        self.woken.registration().set_label(label);
    }
}

impl Drop for Signals {
    fn drop(&mut self) {
        for watched in &self.watched {
            for handler in watched.handlers {
                signal_hook::low_level::unregister(handler);
            }
            defaults().stop_listening(watched.signal);
        }
    }
}

impl std::fmt::Debug for Signals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let signals: Vec<i32> = self.watched.iter().map(|w| w.signal).collect();
        f.debug_struct("Signals")
            .field("signals", &signals)
            .finish()
    }
}

impl Watched {
    /// Installs the handlers that set the flag and then write a byte into `writer`.
    fn start(signal: i32, writer: &UnixStream) -> io::Result<Watched> {
        if signal_hook::consts::FORBIDDEN.contains(&signal)
            || signal_hook::low_level::signal_name(signal).is_none()
        {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("signal {signal} cannot be watched"),
            ));
        }
        defaults().start_listening(signal)?;
        let arrived = Arc::new(AtomicBool::new(false));
        // Handlers run in the order they were registered: the flag first, then the byte.
        let flag = signal_hook::flag::register(signal, arrived.clone());
        let byte = flag.and_then(|flag| {
            let byte = writer
                .try_clone()
                .and_then(|w| signal_hook::low_level::pipe::register(signal, w));
            if byte.is_err() {
                signal_hook::low_level::unregister(flag);
            }
            byte.map(|byte| [flag, byte])
        });
        match byte {
            Ok(handlers) => Ok(Watched {
                signal,
                arrived,
                handlers,
            }),
            Err(err) => {
                defaults().stop_listening(signal);
                Err(err)
            }
        }
    }
}

/// Per signal, how many `Watched` listen for it, and the flag that runs the signal's default
/// action while none does. Process-wide, as signal dispositions are.
#[derive(Default)]
struct Defaults {
    signals: Vec<Listened>,
}

struct Listened {
    signal: i32,
    listeners: usize,
    /// Read by the handler registered once per signal: when set, it runs the default action.
    nobody_listens: Arc<AtomicBool>,
}

fn defaults() -> MutexGuard<'static, Defaults> {
    static DEFAULTS: Mutex<Defaults> = Mutex::new(Defaults {
        signals: Vec::new(),
    });
    // Every change is a counter and a flag, left consistent at each step.
    DEFAULTS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Defaults {
    fn start_listening(&mut self, signal: i32) -> io::Result<()> {
        let listened = match self.signals.iter_mut().position(|l| l.signal == signal) {
            Some(at) => &mut self.signals[at],
            None => {
                // The first time weft watches this signal: from now on the signal has a
                // handler, and this one does what the signal did before, while nobody listens.
                let nobody_listens = Arc::new(AtomicBool::new(true));
                signal_hook::flag::register_conditional_default(signal, nobody_listens.clone())?;
                self.signals.push(Listened {
                    signal,
                    listeners: 0,
                    nobody_listens,
                });
                self.signals.last_mut().expect("just pushed")
            }
        };
        listened.listeners += 1;
        listened.nobody_listens.store(false, Ordering::SeqCst);
        Ok(())
    }

    fn stop_listening(&mut self, signal: i32) {
        if let Some(listened) = self.signals.iter_mut().find(|l| l.signal == signal) {
            listened.listeners -= 1;
            if listened.listeners == 0 {
                listened.nobody_listens.store(true, Ordering::SeqCst);
            }
        }
    }
}
