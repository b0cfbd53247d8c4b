//! Asking the runtimes: listen on the abstract socket `weft-ps.PID`, signal each runtime's
//! thread, and take each runtime's connection, hello and answer. A runtime that has not
//! connected when the wait is over is not answering: its loop is stuck, and the caller reads
//! its beacon instead.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixListener, UnixStream};
use std::time::{Duration, Instant};

use rustix::process::{Pid, PidfdFlags, Signal};

/// `PIDFD_THREAD` (Linux 6.9): a pidfd for one thread, whose signals go to that thread.
const PIDFD_THREAD: u32 = 0o200;

/// A listening `weft-ps` for one process.
pub struct Session {
    pid: u32,
    listener: UnixListener,
}

/// A runtime that connected.
pub struct Connected {
    pub runtime: u64,
    pub thread: u64,
    /// The runtime's answering task.
    pub task: u64,
    stream: BufReader<UnixStream>,
}

impl Session {
    /// Listens for `pid`'s runtimes.
    pub fn listen(pid: u32) -> Result<Session, String> {
        let name = format!("weft-ps.{pid}");
        let address = SocketAddr::from_abstract_name(name.as_bytes())
            .map_err(|err| format!("cannot name the socket {name}: {err}"))?;
        let listener = UnixListener::bind_addr(&address).map_err(|err| {
            if err.kind() == io::ErrorKind::AddrInUse {
                format!("another weft-ps is attached to process {pid}; wait for it to finish")
            } else {
                format!("cannot listen on the abstract socket {name}: {err}")
            }
        })?;
        listener
            .set_nonblocking(true)
            .map_err(|err| format!("cannot listen: {err}"))?;
        Ok(Session { pid, listener })
    }

    /// Sends `weft-ps`'s signal to each of `threads`; to the process if the kernel has no
    /// thread pidfds (before 6.9): the runtime it reaches wakes the others.
    pub fn signal(&self, threads: &[u64]) -> Result<(), String> {
        let signal = Signal::from_named_raw(weft_runtime::attach::SIGNAL)
            .ok_or("weft-ps's signal is not a named signal")?;
        for &thread in threads {
            let sent = Pid::from_raw(thread as i32)
                .ok_or_else(|| io::Error::from(io::ErrorKind::InvalidInput))
                .and_then(|tid| {
                    let fd = rustix::process::pidfd_open(
                        tid,
                        PidfdFlags::from_bits_retain(PIDFD_THREAD),
                    )?;
                    rustix::process::pidfd_send_signal(&fd, signal)?;
                    Ok(())
                });
            if sent.is_err() {
                let pid = Pid::from_raw(self.pid as i32).ok_or("bad pid")?;
                return rustix::process::kill_process(pid, signal)
                    .map_err(|err| format!("cannot signal process {}: {err}", self.pid));
            }
        }
        Ok(())
    }

    /// The runtimes that connect before `deadline`, until `expected` have.
    pub fn accept(&self, expected: usize, deadline: Instant) -> Vec<Connected> {
        let mut connected = Vec::new();
        while connected.len() < expected && Instant::now() < deadline {
            match self.listener.accept() {
                Ok((stream, _)) => {
                    if let Some(runtime) = hello(stream, deadline) {
                        connected.push(runtime);
                    }
                }
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                    std::thread::sleep(Duration::from_millis(2));
                }
                Err(_) => break,
            }
        }
        connected
    }
}

/// Reads a runtime's hello line.
fn hello(stream: UnixStream, deadline: Instant) -> Option<Connected> {
    stream.set_nonblocking(false).ok()?;
    let left = deadline
        .saturating_duration_since(Instant::now())
        .max(Duration::from_millis(100));
    stream.set_read_timeout(Some(left)).ok()?;
    let mut stream = BufReader::new(stream);
    let mut line = String::new();
    stream.read_line(&mut line).ok()?;
    let hello: serde_json::Value = serde_json::from_str(&line).ok()?;
    Some(Connected {
        runtime: hello.get("runtime")?.as_u64()?,
        thread: hello.get("thread")?.as_u64()?,
        task: hello.get("task")?.as_u64()?,
        stream,
    })
}

impl Connected {
    /// Sends `request` and reads the whole answer, waiting at most `limit`, and giving up
    /// early with [`Asked::Stuck`] if `stuck` says the loop is stuck (it is asked each time
    /// no byte came for a while: a loop may wedge after it connected).
    pub fn ask(
        mut self,
        request: &str,
        limit: Duration,
        mut stuck: impl FnMut() -> bool,
    ) -> io::Result<Asked> {
        let deadline = Instant::now() + limit;
        self.stream
            .get_ref()
            .set_read_timeout(Some(Duration::from_millis(100)))?;
        self.stream
            .get_mut()
            .write_all(format!("{request}\n").as_bytes())?;
        let mut answer = Vec::new();
        let mut buf = vec![0u8; 1 << 16];
        loop {
            match self.stream.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => answer.extend_from_slice(&buf[..n]),
                Err(err)
                    if matches!(
                        err.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    if Instant::now() >= deadline {
                        return Err(io::Error::new(
                            io::ErrorKind::TimedOut,
                            format!("no answer within {limit:?}"),
                        ));
                    }
                    if stuck() {
                        return Ok(Asked::Stuck);
                    }
                }
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => return Err(err),
            }
        }
        String::from_utf8(answer)
            .map(Asked::Answer)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "the answer is not UTF-8"))
    }
}

/// What asking a runtime gave.
pub enum Asked {
    Answer(String),
    /// Its loop got stuck in a poll of another task before it answered.
    Stuck,
}
