//! Answering `weft-ps`: the runtime connects to the socket it listens on, says who it is,
//! and answers one request from a task of its own, so the loop goes on serving its own
//! tasks meanwhile.
//!
//! The exchange, one line each way, then the answer:
//! - the runtime: `{"weft":"0.1.0","pid":P,"runtime":R,"thread":T,"task":ID}` (its
//!   answering task)
//! - `weft-ps`: `dump`, or `trace MILLISECONDS`
//! - the runtime: the dump as JSON (`TaskDump::to_json`, sent as it is written), or the flight recorder's trace
//!   of that long as Perfetto JSON; `{"error":"..."}` if it cannot; then it closes.

use std::future::poll_fn;
use std::io;
use std::os::fd::OwnedFd;
use std::panic::Location;
use std::rc::{Rc, Weak};
use std::time::Duration;

use rustix::net::{AddressFamily, SocketAddrUnix, SocketFlags, SocketType};

use crate::executor::state::Executor;
use crate::io::Async;

/// Called by the loop when `weft-ps`'s signal arrived: connects and starts the answering
/// task, unless one is at work or nobody listens (a `SIGURG` from elsewhere).
#[cold]
#[inline(never)]
pub(crate) fn answer(executor: &Rc<Executor>) {
    // The signal may have reached this thread only (a kernel without thread pidfds makes
    // `weft-ps` signal the process): the handler raised every runtime's flag, and this
    // wakes them to look.
    crate::executor::notify_all();
    if executor.attach().serving().get() {
        return;
    }
    let Ok(stream) = connect() else {
        return;
    };
    let Ok(stream) = Async::new(stream) else {
        return;
    };
    executor.attach().serving().set(true);
    let serving = Serving(Rc::downgrade(executor));
    let (runtime, thread) = (executor.id(), rustix::thread::gettid().as_raw_nonzero());
    drop(executor.spawn(
        async move {
            let _serving = serving;
            // The answering task's id too: weft-ps, waiting for the answer, tells this task's
            // own long poll (a large dump) from a loop stuck in another.
            let hello = format!(
                r#"{{"weft":"{}","pid":{},"runtime":{runtime},"thread":{thread},"task":{}}}"#,
                env!("CARGO_PKG_VERSION"),
                std::process::id(),
                crate::task::id().as_u64(),
            );
            // An error means `weft-ps` went away; there is nobody to tell.
            let _ = respond(&stream, hello).await;
        },
        Some("weft-ps".to_owned()),
        Location::caller(),
    ));
}

/// Marks the runtime as free to answer again when the answering task ends or is dropped.
struct Serving(Weak<Executor>);

impl Drop for Serving {
    fn drop(&mut self) {
        if let Some(executor) = self.0.upgrade() {
            executor.attach().serving().set(false);
        }
    }
}

/// Connects to `weft-ps`'s abstract socket, without blocking, and checks that it runs as
/// this process's user or as root.
fn connect() -> io::Result<mio::net::UnixStream> {
    let name = format!("weft-ps.{}", std::process::id());
    let address = SocketAddrUnix::new_abstract_name(name.as_bytes())?;
    let socket: OwnedFd = rustix::net::socket_with(
        AddressFamily::UNIX,
        SocketType::STREAM,
        SocketFlags::NONBLOCK | SocketFlags::CLOEXEC,
        None,
    )?;
    rustix::net::connect(&socket, &address)?;
    let peer = rustix::net::sockopt::socket_peercred(&socket)?;
    let me = rustix::process::geteuid();
    if peer.uid != me && !peer.uid.is_root() {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            "weft-ps runs as another user",
        ));
    }
    Ok(mio::net::UnixStream::from_std(
        std::os::unix::net::UnixStream::from(socket),
    ))
}

async fn respond(stream: &Async<mio::net::UnixStream>, hello: String) -> io::Result<()> {
    write_line(stream, hello.as_bytes()).await?;
    let request = read_line(stream).await?;
    let answer = match request.split_once(' ').unwrap_or((request.as_str(), "")) {
        ("dump", _) => return send_dump(stream).await,
        ("trace", millis) => match millis.trim().parse::<u64>() {
            Ok(millis) => super::trace::record(Duration::from_millis(millis)).await,
            Err(_) => error(&format!("bad trace length {millis:?}: milliseconds")),
        },
        _ => error(&format!("unknown request {request:?}")),
    };
    write_line(stream, answer.as_bytes()).await
}

/// The dump, sent a part at a time as it is written: `weft-ps` reads one part while the
/// next is made, and the whole (14 MB for 100,000 tasks) is never held. The answer ends
/// before the dump is freed, which for a large one takes milliseconds nobody waits for.
async fn send_dump(stream: &Async<mio::net::UnixStream>) -> io::Result<()> {
    const PART: usize = 1 << 16;
    let mut dump = crate::task::dump();
    let me = crate::task::id();
    dump.tasks.retain(|task| task.id != me);
    let mut parts = dump.json_parts();
    let mut part = String::with_capacity(PART + 4096);
    while parts.next_part(&mut part, PART) {
        write_all(stream, part.as_bytes()).await?;
        part.clear();
    }
    write_all(stream, b"\n").await?;
    stream.get_ref().shutdown(std::net::Shutdown::Write)
}

/// `{"error":"..."}`.
pub(crate) fn error(text: &str) -> String {
    let mut out = String::from(r#"{"error":"#);
    crate::task::json_string(&mut out, text);
    out.push('}');
    out
}

async fn write_line(stream: &Async<mio::net::UnixStream>, line: &[u8]) -> io::Result<()> {
    write_all(stream, line).await?;
    write_all(stream, b"\n").await
}

async fn write_all(stream: &Async<mio::net::UnixStream>, mut rest: &[u8]) -> io::Result<()> {
    while !rest.is_empty() {
        let n = poll_fn(|cx| stream.poll_write(cx, rest)).await?;
        if n == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        rest = &rest[n..];
    }
    Ok(())
}

/// One line of at most 4 KiB, without its newline.
async fn read_line(stream: &Async<mio::net::UnixStream>) -> io::Result<String> {
    let mut line = Vec::new();
    let mut buf = [0u8; 256];
    loop {
        let n = poll_fn(|cx| stream.poll_read(cx, &mut buf)).await?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        line.extend_from_slice(&buf[..n]);
        if let Some(end) = line.iter().position(|&b| b == b'\n') {
            line.truncate(end);
            return String::from_utf8(line)
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "not UTF-8"));
        }
        if line.len() > 4096 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "request too long",
            ));
        }
    }
}
