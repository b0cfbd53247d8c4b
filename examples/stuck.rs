//! A program that gets stuck, to look inside with `weft-ps`:
//! `cargo run --example stuck` then, from another terminal, `weft-ps PID`.
//!
//! `--deadlock` (the default): two workers take two locks in opposite orders and wait for
//! each other forever, while the server they belong to goes on accepting connections (so
//! weft's deadlock report cannot fire: a connection could still come). `--block SECONDS`: a
//! task calls `std::thread::sleep`, which blocks the whole loop, the mistake `weft-ps`
//! names even though the loop cannot answer.
//!
//! It prints its process id, then runs until it is killed (or, with `--block`, until the
//! sleep ends).

use std::rc::Rc;
use std::time::Duration;

use weft::sync::Mutex;

/// Gets stuck on purpose, in one of two ways.
#[derive(clap::Parser)]
#[command(name = "stuck")]
struct Args {
    /// Two tasks wait for each other's lock (the default).
    #[arg(long, conflicts_with = "block")]
    deadlock: bool,
    /// A task blocks the thread in `std::thread::sleep` for this many seconds.
    #[arg(long, value_parser = demo_cli::seconds)]
    block: Option<Duration>,
}

#[weft::main]
async fn main() -> std::io::Result<()> {
    let args: Args = clap::Parser::parse();
    let listener = weft::net::TcpListener::bind("127.0.0.1:0").await?;
    println!(
        "pid {} listening on {}",
        std::process::id(),
        listener.local_addr()?
    );
    match args.block {
        Some(duration) => {
            let blocker = weft::task::Builder::new()
                .name("blocker")
                .spawn(async move {
                    weft::time::sleep(Duration::from_millis(50)).await;
                    // The mistake: a blocking call inside a task stops every task of the loop.
                    std::thread::sleep(duration);
                });
            blocker.await.ok();
        }
        None => {
            let _workers = weft::task::Builder::new().name("workers").spawn(deadlock());
            loop {
                let (_connection, _) = listener.accept().await?;
            }
        }
    }
    Ok(())
}

/// Two workers, each holding one lock and waiting for the other's.
async fn deadlock() {
    let first = Rc::new(Mutex::new(()));
    let second = Rc::new(Mutex::new(()));
    // Both hold their first lock before either asks for its second.
    let ready = Rc::new(weft::sync::Barrier::new(2));
    let one = {
        let (first, second, ready) = (first.clone(), second.clone(), ready.clone());
        weft::task::Builder::new()
            .name("transfer-a")
            .spawn(async move {
                let _held = first.lock().await;
                ready.wait().await.ok();
                let _also = second.lock().await;
            })
    };
    let two = weft::task::Builder::new()
        .name("transfer-b")
        .spawn(async move {
            let _held = second.lock().await;
            ready.wait().await.ok();
            let _also = first.lock().await;
        });
    let _ = weft::join!(one, two);
}
