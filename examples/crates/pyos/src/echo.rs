//! Beazley's echo server (echogood2.py / echoserver2.py) as pyos tasks.

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::os::fd::AsRawFd;

use mio::net::{TcpListener, TcpStream};

use crate::os::{Task, Tid, task};

/// The server task: accept in a loop, one new task per client. `ready` hears the address and
/// the server's task id.
pub fn server(listener: TcpListener, ready: impl FnOnce(SocketAddr, Tid) + 'static) -> Task {
    task(move |sys| async move {
        let me = sys.get_tid().await?;
        if let Ok(addr) = listener.local_addr() {
            ready(addr, me);
        }
        loop {
            sys.read_wait(listener.as_raw_fd()).await?;
            match listener.accept() {
                Ok((stream, _peer)) => {
                    sys.new_task(client(stream)).await?;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => eprintln!("pyos: accept failed: {e}"),
            }
        }
    })
}

/// One client: wait to read, read, wait to write, write everything back, until it hangs up.
fn client(mut stream: TcpStream) -> Task {
    task(move |sys| async move {
        let fd = stream.as_raw_fd();
        let mut buf = [0u8; 4096];
        loop {
            sys.read_wait(fd).await?;
            let n = match stream.read(&mut buf) {
                Ok(0) => return Ok(()), // the client closed; dropping `stream` closes ours
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(_) => return Ok(()),
            };
            let mut sent = 0;
            while sent < n {
                sys.write_wait(fd).await?;
                match stream.write(&buf[sent..n]) {
                    Ok(k) => sent += k,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(_) => return Ok(()),
                }
            }
        }
    })
}

/// Waits until `signal` becomes readable (a byte from a signal handler, or from a test), then
/// kills `victim` — with the server gone and no task left, `mainloop` returns.
pub fn stop_on(signal: mio::net::UnixStream, victim: Tid) -> Task {
    task(move |sys| async move {
        sys.read_wait(signal.as_raw_fd()).await?;
        sys.kill(victim).await?;
        Ok(())
    })
}
