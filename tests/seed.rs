//! Seeded scheduling through the public API: what a seed shuffles, what it keeps, and an
//! ordering bug found by a sweep of seeds and replayed from the seed that found it.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use weft::channel::broadcast;
use weft::runtime::Builder;
use weft::sync::Mutex;
use weft::task::{spawn, wait_all_tasks_blocked, yield_now};
use weft::time::{Instant, sleep_until};

fn seeded(seed: u64) -> weft::Runtime {
    Builder::new().seed(seed).build().unwrap()
}

/// Spawns `count` tasks that each note their number after one yield, and returns the order
/// in which they noted it.
async fn who_runs_first(count: usize) -> Vec<usize> {
    let order = Rc::new(RefCell::new(Vec::new()));
    let tasks: Vec<_> = (0..count)
        .map(|n| {
            let order = order.clone();
            spawn(async move {
                yield_now().await;
                order.borrow_mut().push(n);
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    order.take()
}

#[test]
fn without_a_seed_tasks_run_in_wake_order() {
    let runtime = weft::Runtime::new().unwrap();
    assert_eq!(runtime.seed(), None);
    assert_eq!(
        runtime.block_on(who_runs_first(8)),
        (0..8).collect::<Vec<_>>()
    );
}

#[test]
fn seeds_shuffle_tasks_woken_together_and_each_seed_replays_its_order() {
    let orders: Vec<Vec<usize>> = (0..20)
        .map(|seed| seeded(seed).block_on(who_runs_first(8)))
        .collect();
    let mut distinct = orders.clone();
    distinct.sort();
    distinct.dedup();
    assert!(
        distinct.len() > 10,
        "20 seeds gave only {} orders",
        distinct.len()
    );
    for (seed, order) in (0..20).zip(&orders) {
        assert_eq!(
            &seeded(seed).block_on(who_runs_first(8)),
            order,
            "seed {seed} replays"
        );
    }
}

#[test]
fn a_seed_keeps_equal_deadlines_in_arming_order() {
    for seed in 0..50 {
        let runtime = Builder::new()
            .seed(seed)
            .start_paused(true)
            .build()
            .unwrap();
        let fired = runtime.block_on(async {
            let fired = Rc::new(RefCell::new(Vec::new()));
            let deadline = Instant::now() + Duration::from_secs(1);
            let mut tasks = Vec::new();
            for n in 0..6 {
                let fired = fired.clone();
                tasks.push(spawn(async move {
                    sleep_until(deadline).await;
                    fired.borrow_mut().push(n);
                }));
                // Task n arms its timer before task n + 1 starts.
                wait_all_tasks_blocked().await;
            }
            for task in tasks {
                task.await.unwrap();
            }
            fired.take()
        });
        assert_eq!(fired, (0..6).collect::<Vec<_>>(), "seed {seed}");
    }
}

#[test]
fn a_seed_keeps_a_mutex_first_come_first_served() {
    for seed in 0..50 {
        let served = seeded(seed).block_on(async {
            let mutex = Rc::new(Mutex::new(Vec::new()));
            let held = mutex.lock().await;
            let mut tasks = Vec::new();
            for n in 0..6 {
                let mutex = mutex.clone();
                tasks.push(spawn(async move { mutex.lock().await.push(n) }));
                // Task n queues on the lock before task n + 1 starts.
                wait_all_tasks_blocked().await;
            }
            drop(held);
            for task in tasks {
                task.await.unwrap();
            }
            Rc::try_unwrap(mutex).unwrap().into_inner().unwrap()
        });
        assert_eq!(served, (0..6).collect::<Vec<_>>(), "seed {seed}");
    }
}

#[test]
fn a_seed_keeps_queue_getters_and_semaphore_acquirers_first_come_first_served() {
    for seed in 0..50 {
        let (got, acquired) = seeded(seed).block_on(async {
            let queue = Rc::new(weft::queue::Queue::new(0));
            let semaphore = weft::sync::Semaphore::new(0);
            let acquired = Rc::new(RefCell::new(Vec::new()));
            let mut getters = Vec::new();
            for n in 0..4 {
                let queue = queue.clone();
                getters.push(spawn(async move { (n, queue.get().await.unwrap()) }));
                let (semaphore, acquired) = (semaphore.clone(), acquired.clone());
                spawn(async move {
                    let _permit = semaphore.acquire().await;
                    acquired.borrow_mut().push(n);
                    std::future::pending::<()>().await;
                });
                // Getter and acquirer n queue up before n + 1 start.
                wait_all_tasks_blocked().await;
            }
            // Released at once: four items for four getters, two permits for four acquirers.
            for item in 10..14 {
                queue.try_put(item).unwrap();
            }
            semaphore.release(2);
            let mut got = Vec::new();
            for getter in getters {
                got.push(getter.await.unwrap());
            }
            wait_all_tasks_blocked().await;
            let mut acquired = acquired.take();
            acquired.sort();
            (got, acquired)
        });
        assert_eq!(got, [(0, 10), (1, 11), (2, 12), (3, 13)], "seed {seed}");
        assert_eq!(
            acquired,
            [0, 1],
            "seed {seed}: the first two acquirers got the permits"
        );
    }
}

/// A real ordering bug: the subscriber is spawned before the publisher, so in wake order it
/// subscribes before anything is sent, and the test "works". Nothing guarantees that order:
/// when the publisher runs first, its message goes to nobody and the subscriber sees the
/// channel close instead.
async fn subscribe_then_publish() -> Result<&'static str, broadcast::RecvError> {
    let (tx, rx) = broadcast::channel(8);
    drop(rx);
    let subscribe_with = tx.clone();
    let subscriber = spawn(async move {
        let mut rx = subscribe_with.subscribe();
        drop(subscribe_with);
        rx.recv().await
    });
    let publisher = spawn(async move {
        let _ = tx.send("hello");
    });
    publisher.await.unwrap();
    subscriber.await.unwrap()
}

#[test]
fn an_ordering_bug_that_passes_in_wake_order_is_found_by_a_sweep_and_replayed() {
    let unseeded = weft::Runtime::new().unwrap();
    assert_eq!(unseeded.block_on(subscribe_then_publish()), Ok("hello"));

    let failing: Vec<u64> = (0..100)
        .filter(|&seed| seeded(seed).block_on(subscribe_then_publish()).is_err())
        .collect();
    assert!(
        !failing.is_empty(),
        "no seed of 100 ran the publisher first"
    );
    assert!(failing.len() < 100, "every seed ran the publisher first");
    for &seed in &failing {
        for _ in 0..3 {
            assert!(
                seeded(seed).block_on(subscribe_then_publish()).is_err(),
                "seed {seed} replays the failure"
            );
        }
    }
}

/// The bug above in a `#[weft::test]` sweep, as a user would write it. Ignored: it fails on
/// purpose, and the test below runs it in a child process.
#[weft::test(seeds = 50)]
#[ignore = "fails on purpose; run by the_sweep_of_a_failing_test_prints_a_seed_that_replays_it"]
async fn a_test_with_an_ordering_bug() {
    assert_eq!(subscribe_then_publish().await, Ok("hello"));
}

fn run_the_buggy_test(seed: Option<&str>) -> (bool, String) {
    test_support::run_ignored_test("a_test_with_an_ordering_bug", seed)
}

#[test]
fn the_sweep_of_a_failing_test_prints_a_seed_that_replays_it() {
    let (passed, stderr) = run_the_buggy_test(None);
    assert!(!passed, "the sweep found no failing seed:\n{stderr}");
    let seed = stderr
        .lines()
        .find_map(|line| line.trim().strip_prefix("WEFT_SEED="))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no replay line in:\n{stderr}"))
        .to_owned();
    assert!(
        stderr.contains(&format!(
            "seed::a_test_with_an_ordering_bug failed under scheduling seed {seed}"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "WEFT_SEED={seed} cargo test a_test_with_an_ordering_bug"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("#[weft::test(seed = {seed})]")),
        "{stderr}"
    );

    // The replay runs that one seed, and fails the same way.
    let (passed, replayed) = run_the_buggy_test(Some(&seed));
    assert!(!passed, "WEFT_SEED={seed} passed:\n{replayed}");
    assert!(
        replayed.contains(&format!("failed under scheduling seed {seed}")),
        "{replayed}"
    );
    assert!(
        replayed.contains("Err(Closed)"),
        "the same failure: {replayed}"
    );
}
