//! One hot path of weft, run N times in one process, for callgrind to count its instructions:
//! `scripts/callgrind` runs each scenario at two sizes and reports the difference per
//! operation, so start-up and shutdown cancel out. Instruction counts do not move with the
//! neighbours of a shared VM, where wall-clock numbers move by several percent; this is how a
//! change to the executor is judged to cost nothing.
//!
//! `instructions SCENARIO N`, with SCENARIO one of `spawn_await`, `yield`, `lock`, `mpsc`,
//! `timer`, `echo`.

use std::pin::pin;
use std::task::{Context, Waker};
use std::time::Duration;

use weft::io::{AsyncReadExt, AsyncWriteExt};

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(scenario), Some(n)) = (args.next(), args.next().and_then(|n| n.parse().ok())) else {
        eprintln!("usage: instructions spawn_await|yield|lock|mpsc|timer|echo N");
        std::process::exit(2);
    };
    weft::run(async move {
        match scenario.as_str() {
            "spawn_await" => spawn_await(n).await,
            "yield" => yields(n).await,
            "lock" => lock(n).await,
            "mpsc" => mpsc(n).await,
            "timer" => timer(n).await,
            "echo" => echo(n).await,
            other => {
                eprintln!("no scenario {other:?}");
                std::process::exit(2);
            }
        }
    });
}

/// Spawn a task that does nothing, and await it.
async fn spawn_await(n: u64) {
    for _ in 0..n {
        weft::spawn(async {}).await.unwrap();
    }
}

/// A task yields: one wake, one trip through the run queue, one poll.
async fn yields(n: u64) {
    weft::spawn(async move {
        for _ in 0..n {
            weft::task::yield_now().await;
        }
    })
    .await
    .unwrap();
}

/// Lock and unlock a mutex nobody else wants.
async fn lock(n: u64) {
    let mutex = weft::sync::Mutex::new(0u64);
    for _ in 0..n {
        *mutex.lock().await += 1;
    }
}

/// Send a message from one task to another over a bounded channel.
async fn mpsc(n: u64) {
    let (tx, mut rx) = weft::channel::mpsc::channel(64);
    weft::spawn(async move {
        for i in 0..n {
            tx.send(i).await.unwrap();
        }
    });
    for _ in 0..n {
        rx.recv().await.unwrap();
    }
}

/// Arm a one-hour timer (one poll) and cancel it.
async fn timer(n: u64) {
    let waker = Waker::noop();
    for _ in 0..n {
        let sleep = pin!(weft::time::sleep(Duration::from_secs(3600)));
        assert!(sleep.poll(&mut Context::from_waker(waker)).is_pending());
    }
}

/// One byte to an echo task over loopback TCP and back: the wake by the reactor, the task
/// polls, the socket reads and writes.
async fn echo(n: u64) {
    let listener = weft::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    weft::spawn(async move {
        let (mut conn, _) = listener.accept().await.unwrap();
        let mut byte = [0];
        while let Ok(1) = conn.read(&mut byte).await {
            conn.write_all(&byte).await.unwrap();
        }
    });
    let mut stream = weft::net::TcpStream::connect(addr).await.unwrap();
    stream.set_nodelay(true).unwrap();
    let mut byte = [7];
    for _ in 0..n {
        stream.write_all(&byte).await.unwrap();
        stream.read_exact(&mut byte).await.unwrap();
    }
}
