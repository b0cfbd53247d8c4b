//! A guided tour of an executor: `cargo run --example tour`
//!
//! Each step prints what happens and why. Everything runs on one thread: "concurrently" means
//! the tasks take turns at their `.await` points.

use std::time::{Duration, Instant};

use weft::task::yield_now;
use weft::time::{sleep, timeout};

/// A guided tour of an executor, each step printed with what happens and why: it takes no
/// options.
#[derive(clap::Parser)]
#[command(name = "tour")]
struct Args {}

fn main() {
    let Args {} = clap::Parser::parse();
    weft::run(async {
        step("1. spawn: a task is a future the runtime drives on its own");
        let a = weft::spawn(async {
            for i in 0..3 {
                println!("   task A, step {i}");
                yield_now().await; // give the other tasks a turn
            }
            "A done"
        });
        let b = weft::spawn(async {
            for i in 0..3 {
                println!("   task B, step {i}");
                yield_now().await;
            }
            "B done"
        });
        println!("   spawned A and B; neither has run yet: spawn only queues them");

        step("2. join: awaiting a JoinHandle waits for the task and returns its output");
        println!(
            "   A returned {:?}, B returned {:?}",
            a.await.unwrap(),
            b.await.unwrap()
        );
        println!(
            "   the steps interleaved because each yield_now sent its task to the back of the queue"
        );

        step("3. sleep: while one task sleeps, the thread runs others");
        let start = Instant::now();
        let sleepers: Vec<_> = [30u64, 10, 20]
            .into_iter()
            .map(|ms| {
                weft::spawn(async move {
                    sleep(Duration::from_millis(ms)).await;
                    println!("   woke after {ms} ms");
                })
            })
            .collect();
        for s in sleepers {
            s.await.unwrap();
        }
        println!(
            "   three sleeps of 30, 10 and 20 ms took {} ms in all, not 60: they overlapped",
            start.elapsed().as_millis()
        );

        step("4. timeout: give any future a deadline");
        let slow = async {
            sleep(Duration::from_secs(10)).await;
            "finished"
        };
        match timeout(Duration::from_millis(15), slow).await {
            Ok(v) => println!("   got {v}"),
            Err(elapsed) => println!("   {elapsed}: the slow future was dropped, which cancels it"),
        }

        step("5. abort: cancel a task from outside");
        let forever = weft::spawn(async {
            loop {
                sleep(Duration::from_millis(5)).await;
            }
        });
        sleep(Duration::from_millis(12)).await;
        forever.abort();
        match forever.await {
            Ok(()) => println!("   it finished on its own?"),
            Err(err) => println!("   {err}: its future was dropped at its await point"),
        }

        step("6. panics stay inside their task");
        // A one-line panic hook, so the tour shows the message instead of a backtrace.
        std::panic::set_hook(Box::new(|info| {
            println!(
                "   panic hook: {}",
                info.payload()
                    .downcast_ref::<&str>()
                    .unwrap_or(&"(no message)")
            )
        }));
        let crashing = weft::spawn(async { panic!("something broke") });
        let err = crashing.await.unwrap_err();
        let _ = std::panic::take_hook();
        println!("   the handle reports: {err}; the runtime and the other tasks carry on");

        step("7. dump: what is every task waiting on right now?");
        let lock = weft::sync::Mutex::new(0);
        let guard = lock.lock().await;
        let jobs = weft::queue::Queue::<u32>::new(1);
        let _worker = weft::task::Builder::new().name("worker").spawn({
            let (lock, jobs) = (lock.clone(), jobs.clone());
            async move {
                while let Ok(job) = jobs.get().await {
                    *lock.lock().await += job;
                }
            }
        });
        let _counter = weft::task::Builder::new().name("counter").spawn({
            let lock = lock.clone();
            async move { *lock.lock().await += 1 }
        });
        let _ticker = weft::task::Builder::new()
            .name("ticker")
            .spawn(sleep(Duration::from_secs(60)));
        yield_now().await; // let them start and park
        println!("{}", weft::task::dump());
        println!(
            "   each waiter says what it waits on and where that was created; the lock's holder \
             is named in debug mode (WEFT_DEBUG=1)"
        );
        drop(guard);
    });

    step("8. deadlock: when nothing can ever wake anything, weft says so instead of hanging");
    // Debug mode, so that locks record their holders and the report can name the cycle.
    let runtime = weft::runtime::Builder::new()
        .debug(true)
        .on_debug_event(|_| {})
        .build()
        .unwrap();
    let report = runtime
        .try_block_on(async {
            let (first, second) = (weft::sync::Mutex::new(()), weft::sync::Mutex::new(()));
            let one = weft::task::Builder::new().name("one").spawn({
                let (first, second) = (first.clone(), second.clone());
                async move {
                    let _a = first.lock().await;
                    yield_now().await;
                    let _b = second.lock().await;
                }
            });
            let two = weft::task::Builder::new().name("two").spawn(async move {
                let _b = second.lock().await;
                yield_now().await;
                let _a = first.lock().await;
            });
            one.await.unwrap();
            two.await.unwrap();
        })
        .unwrap_err();
    println!("{report}");

    step(
        "that's the tour: spawn, join, sleep, timeout, abort, the dump, and the loop that runs \
         them; WEFT_TRACE=tour.json shows the loop itself in Perfetto",
    );
}

fn step(title: &str) {
    println!("\n{title}");
}
