//! spawn_blocking through the public API.

use std::sync::{Arc, Condvar, Mutex, mpsc};
use std::time::{Duration, Instant};

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
fn a_panicking_job_is_a_join_error_that_prints_and_converts() {
    weft::run(async {
        let err = spawn_blocking(|| -> u8 { panic!("expected in this test") })
            .await
            .unwrap_err();
        assert!(err.is_panic() && !err.is_cancelled());
        assert_eq!(err.id(), None, "a blocking job is not a task");
        assert_eq!(
            err.to_string(),
            "the blocking job panicked: expected in this test"
        );
        // `?` turns it into the usual boxed error, as a task's JoinError.
        let boxed: Box<dyn std::error::Error + Send + Sync> = err.into();
        let err: weft::JoinError = *boxed.downcast().unwrap();
        let payload = err.try_into_panic().unwrap();
        assert_eq!(
            payload.downcast_ref::<&str>(),
            Some(&"expected in this test")
        );
    });
}

#[test]
fn cancelling_the_await_does_not_stop_the_thread() {
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let (done_tx, done_rx) = mpsc::channel();
    weft::run(async move {
        // The job cannot finish before it is let go, so the timeout always wins.
        let job = spawn_blocking(move || {
            let _ = go_rx.recv();
            done_tx.send("finished anyway").unwrap();
        });
        assert!(
            weft::time::timeout(Duration::from_millis(1), job)
                .await
                .is_err()
        );
    });
    go_tx.send(()).unwrap();
    assert_eq!(
        done_rx.recv_timeout(Duration::from_secs(10)),
        Ok("finished anyway")
    );
}

/// Counts the jobs inside it and holds each until `MAX_THREADS` have been inside at once;
/// from then on it lets every job through.
struct FullHouse {
    inside: Mutex<(usize, usize)>, // (now, most)
    changed: Condvar,
    /// Only turns a pool that never runs `MAX_THREADS` jobs at once into a failed assertion
    /// instead of a hang.
    give_up_at: Instant,
}

impl FullHouse {
    fn new() -> FullHouse {
        FullHouse {
            inside: Mutex::new((0, 0)),
            changed: Condvar::new(),
            give_up_at: Instant::now() + Duration::from_secs(10),
        }
    }

    fn enter_and_wait(&self) {
        let mut inside = self.inside.lock().unwrap();
        inside.0 += 1;
        inside.1 = inside.1.max(inside.0);
        self.changed.notify_all();
        let patience = self.give_up_at.saturating_duration_since(Instant::now());
        let (mut inside, _) = self
            .changed
            .wait_timeout_while(inside, patience, |(_, most)| *most < MAX_THREADS)
            .unwrap();
        inside.0 -= 1;
    }

    fn most(&self) -> usize {
        self.inside.lock().unwrap().1
    }
}

#[test]
fn many_jobs_share_a_bounded_pool() {
    let house = Arc::new(FullHouse::new());
    weft::run({
        let house = house.clone();
        async move {
            // A worker left idle by an earlier job must not make the pool run the next burst
            // of jobs one at a time.
            spawn_blocking(|| ()).await.unwrap();
            let jobs: Vec<_> = (0..3 * MAX_THREADS)
                .map(|_| {
                    let house = house.clone();
                    spawn_blocking(move || house.enter_and_wait())
                })
                .collect();
            for job in weft::future::join_all(jobs).await {
                job.unwrap();
            }
        }
    });
    assert_eq!(house.most(), MAX_THREADS);
}
