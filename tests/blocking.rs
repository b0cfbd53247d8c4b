//! spawn_blocking through the public API.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use weft::task::{MAX_THREADS, spawn_blocking};

#[test]
fn a_blocking_result_wakes_a_parked_runtime() {
    // The runtime has nothing else to do: it parks in epoll until the worker's wake arrives.
    let value = weft::run(async {
        spawn_blocking(|| {
            std::thread::sleep(Duration::from_millis(5)); // the blocking work itself
            std::thread::current().name().map(str::to_owned)
        })
        .await
        .unwrap()
    });
    assert_eq!(value.as_deref(), Some("weft-blocking"));
}

#[test]
fn a_panicking_job_is_an_error_value() {
    weft::run(async {
        let err = spawn_blocking(|| -> u8 { panic!("expected in this test") })
            .await
            .unwrap_err();
        assert_eq!(err.downcast_ref::<&str>(), Some(&"expected in this test"));
    });
}

#[test]
fn cancelling_the_await_does_not_stop_the_thread() {
    let (done_tx, done_rx) = mpsc::channel();
    weft::run(async move {
        let job = spawn_blocking(move || {
            std::thread::sleep(Duration::from_millis(20));
            done_tx.send("finished anyway").unwrap();
        });
        assert!(
            weft::time::timeout(Duration::from_millis(1), job)
                .await
                .is_err()
        );
    });
    assert_eq!(
        done_rx.recv_timeout(Duration::from_secs(10)),
        Ok("finished anyway")
    );
}

#[test]
fn many_jobs_share_a_bounded_pool() {
    let running = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let overlapped = Arc::new(AtomicBool::new(false));
    weft::run({
        let (running, most, overlapped) = (running.clone(), most.clone(), overlapped.clone());
        async move {
            let jobs: Vec<_> = (0..3 * MAX_THREADS)
                .map(|_| {
                    let (running, most, overlapped) =
                        (running.clone(), most.clone(), overlapped.clone());
                    spawn_blocking(move || {
                        let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(now, Ordering::SeqCst);
                        if now > 1 {
                            overlapped.store(true, Ordering::SeqCst);
                        }
                        std::thread::sleep(Duration::from_millis(2));
                        running.fetch_sub(1, Ordering::SeqCst);
                    })
                })
                .collect();
            for job in weft::future::join_all(jobs).await {
                job.unwrap();
            }
        }
    });
    assert!(most.load(Ordering::SeqCst) <= MAX_THREADS);
    assert!(
        overlapped.load(Ordering::SeqCst),
        "jobs ran on several threads at once"
    );
}
