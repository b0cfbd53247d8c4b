//! The pyos example's kernel: its echo server serving concurrent clients, and killing a task
//! that waits on I/O (the case Beazley's pyos gets wrong).

use demo_pyos::{echo, os};
use std::io::Write;
use std::os::fd::AsRawFd;
use std::sync::mpsc;

use weft::io::{AsyncReadExt, AsyncWriteExt};

#[test]
fn the_pyos_echo_server_serves_concurrent_clients() {
    let (addr_tx, addr_rx) = mpsc::channel();
    let (signal, mut stop) = mio::net::UnixStream::pair().unwrap();
    let kernel = std::thread::spawn(move || {
        let mut kernel = os::Scheduler::new().unwrap();
        let listener = mio::net::TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let server = kernel.new_task(echo::server(listener, move |addr, _| {
            addr_tx.send(addr).unwrap()
        }));
        kernel.new_task(echo::stop_on(signal, server));
        kernel.mainloop().unwrap();
        kernel.io_waiters()
    });
    let addr = addr_rx.recv().unwrap();
    weft::run(async move {
        let clients: Vec<_> = (0..20u8)
            .map(|id| {
                weft::spawn(async move {
                    let mut stream = weft::net::TcpStream::connect(addr).await.unwrap();
                    for round in 0..20u8 {
                        let message = [id, round, id ^ round, 7];
                        stream.write_all(&message).await.unwrap();
                        let mut reply = [0; 4];
                        stream.read_exact(&mut reply).await.unwrap();
                        assert_eq!(reply, message);
                    }
                })
            })
            .collect();
        for c in clients {
            c.await.unwrap();
        }
    });
    stop.write_all(b"!").unwrap();
    let left = kernel.join().unwrap();
    assert_eq!(left, 0, "killing the server left it in the I/O waiters");
}

#[test]
fn killing_a_task_that_waits_on_io_removes_it_from_the_waiters() {
    let mut kernel = os::Scheduler::new().unwrap();
    let (quiet, _other_end) = mio::net::UnixStream::pair().unwrap();
    let victim = kernel.new_task(os::task(move |sys| async move {
        sys.read_wait(quiet.as_raw_fd()).await?;
        unreachable!("nothing is ever written");
    }));
    let (report_tx, report_rx) = mpsc::channel();
    kernel.new_task(os::task(move |sys| async move {
        let killed = sys.kill(victim).await?;
        let again = sys.kill(victim).await?; // no such task any more
        let waited = sys.wait(victim).await?; // returns at once
        report_tx.send((killed, again, waited)).unwrap();
        Ok(())
    }));
    kernel.mainloop().unwrap(); // ends: no task is left, and no stale I/O entry keeps it waiting
    assert_eq!(report_rx.recv().unwrap(), (true, false, false));
    assert_eq!(kernel.io_waiters(), 0);
}
