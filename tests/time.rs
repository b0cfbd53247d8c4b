//! Timers through the public API: sleep, timeout, interval.
//!
//! Most of these run on a paused clock (`#[weft::test(paused)]`): time moves only when every
//! task waits, straight to the next deadline, so the assertions are exact and the tests take
//! no real time. A few stay on the real clock on purpose: they test the timerfd and the
//! system clock themselves.

use std::cell::RefCell;
use std::future::pending;
use std::rc::Rc;
use std::time::Duration;

use weft::time::{self, Instant, MissedTickBehavior, sleep, sleep_until, timeout};

const MS: Duration = Duration::from_millis(1);

#[test]
fn sleep_never_ends_early_on_the_real_clock() {
    weft::run(async {
        for ms in [0, 1, 3, 10] {
            let start = std::time::Instant::now();
            sleep(ms * MS).await;
            assert!(start.elapsed() >= ms * MS);
        }
    });
}

#[weft::test(paused)]
async fn a_sleep_ends_exactly_at_its_deadline() {
    for ms in [0, 1, 3, 10, 3_600_000] {
        let start = Instant::now();
        sleep(ms * MS).await;
        assert_eq!(start.elapsed(), ms * MS);
    }
}

#[weft::test(paused)]
async fn ten_thousand_sleeps_fire_in_deadline_order() {
    let fired = Rc::new(RefCell::new(Vec::new()));
    let base = Instant::now() + MS;
    let handles: Vec<_> = (0..10_000u64)
        .map(|i| {
            // A scrambled permutation of 0..10_000, 5 µs apart.
            let slot = (i * 7919) % 10_000;
            let deadline = base + Duration::from_micros(slot * 5);
            let fired = fired.clone();
            weft::spawn(async move {
                sleep_until(deadline).await;
                assert_eq!(Instant::now(), deadline);
                fired.borrow_mut().push(slot);
            })
        })
        .collect();
    for h in handles {
        h.await.unwrap();
    }
    let fired = fired.borrow();
    assert_eq!(*fired, (0..10_000).collect::<Vec<_>>(), "deadline order");
}

#[weft::test(paused)]
async fn timeout_of_a_never_ready_future_elapses_at_the_deadline() {
    let start = Instant::now();
    let result = timeout(5 * MS, pending::<()>()).await;
    assert_eq!(result.unwrap_err().to_string(), "deadline has elapsed");
    assert_eq!(start.elapsed(), 5 * MS);
}

#[weft::test(paused)]
async fn timeout_of_a_ready_future_returns_its_output() {
    assert_eq!(timeout(Duration::ZERO, async { 5 }).await, Ok(5));
    let start = Instant::now();
    let quick = async {
        sleep(MS).await;
        "quick"
    };
    assert_eq!(timeout(Duration::from_secs(60), quick).await, Ok("quick"));
    assert_eq!(start.elapsed(), MS);
}

#[test]
fn dropping_a_sleep_disarms_its_timer() {
    // With the hour-long timer disarmed nothing can wake the runtime, and the deadlock report
    // proves it at once instead of after an hour.
    let err = weft::try_run(async {
        let long = sleep(Duration::from_secs(3600));
        let _ = timeout(MS, long).await;
        pending::<()>().await;
    });
    assert!(err.is_err());
}

#[weft::test(paused)]
async fn a_sleep_can_be_reset_earlier_and_reused() {
    let mut nap = sleep(Duration::from_secs(3600));
    assert!(timeout(MS, &mut nap).await.is_err());
    let start = Instant::now();
    nap.reset(start + 2 * MS);
    (&mut nap).await;
    assert!(nap.is_elapsed());
    assert_eq!(start.elapsed(), 2 * MS);
    nap.reset(Instant::now() + MS);
    (&mut nap).await;
    assert_eq!(start.elapsed(), 3 * MS);
}

#[weft::test(paused)]
async fn interval_ticks_on_schedule() {
    let start = Instant::now();
    let period = 2 * MS;
    let mut every = time::interval(period);
    for k in 0..4 {
        assert_eq!(every.tick().await, start + period * k);
        assert_eq!(Instant::now(), start + period * k);
    }
}

#[weft::test(paused)]
async fn missed_ticks_burst_skip_or_delay() {
    let period = 10 * MS;
    let now = Instant::now();
    let start = now - period * 5; // five periods behind already

    let mut burst = time::interval_at(start, period);
    for k in 0..6 {
        assert_eq!(burst.tick().await, start + period * k); // back to back
    }
    assert_eq!(Instant::now(), now, "no waiting for a burst");
    assert_eq!(burst.tick().await, start + period * 6, "then on schedule");

    let now = Instant::now();
    let start = now - period * 5 - 3 * MS;
    let mut skip = time::interval_at(start, period);
    skip.set_missed_tick_behavior(MissedTickBehavior::Skip);
    assert_eq!(skip.tick().await, start);
    assert_eq!(
        skip.tick().await,
        start + period * 6,
        "the missed ticks were skipped; the next is on the old schedule"
    );

    let now = Instant::now();
    let start = now - period * 5 - 3 * MS;
    let mut delay = time::interval_at(start, period);
    delay.set_missed_tick_behavior(MissedTickBehavior::Delay);
    assert_eq!(delay.tick().await, start);
    assert_eq!(
        delay.tick().await,
        now + period,
        "a new schedule from the late tick"
    );
}

#[test]
#[should_panic(expected = "period above zero")]
fn a_zero_period_is_refused() {
    let _ = time::interval(Duration::ZERO);
}

#[weft::test(paused)]
async fn a_timeout_scope_can_be_moved_earlier_or_later_while_the_work_waits() {
    use weft::time::TimeoutScope;
    // Later: the work outlives the first deadline.
    let scope = TimeoutScope::new(2 * MS);
    let extend = scope.clone();
    let work = async move {
        extend.reschedule(Instant::now() + Duration::from_secs(60));
        sleep(5 * MS).await;
        1
    };
    assert_eq!(scope.run(work).await, Ok(1));
    assert!(!scope.expired());
    // Earlier: another task cuts a long deadline short while the work is parked.
    let scope = TimeoutScope::new(Duration::from_secs(3600));
    let cutter = scope.clone();
    let start = Instant::now();
    weft::spawn(async move {
        sleep(7 * MS).await;
        cutter.reschedule(Instant::now());
    });
    assert!(scope.run(pending::<()>()).await.is_err());
    assert!(scope.expired());
    assert_eq!(start.elapsed(), 7 * MS);
}

#[test]
fn a_send_sleep_may_cross_threads_between_polls_and_be_reset() {
    // Real clock: the thread crossing is the point.
    weft::run(async {
        let mut sleep = Box::pin(weft::time::SendSleep::after(Duration::from_secs(3600)));
        // Armed on this runtime...
        let pending = std::future::poll_fn(|cx| {
            std::task::Poll::Ready(std::future::Future::poll(sleep.as_mut(), cx).is_pending())
        });
        assert!(pending.await);
        // ...moved to another thread and back (hyper may require it to be Send)...
        let mut sleep = std::thread::spawn(move || sleep).join().unwrap();
        // ...and moved earlier: it now ends at the new deadline, not in an hour.
        sleep.as_mut().get_mut().reset(Instant::now() + MS);
        let started = std::time::Instant::now();
        sleep.await;
        assert!(started.elapsed() < Duration::from_secs(60));
    });
}

#[test]
fn a_timer_behind_a_cancelled_earlier_one_fires_on_time() {
    // Real clock on purpose: this is about the timerfd. The reactor leaves it at the earlier
    // (cancelled) deadline rather than re-arming it later: the early wake must find nothing
    // due, re-arm, and the later timer still fire.
    weft::run(async {
        let started = std::time::Instant::now();
        let mut early = Box::pin(sleep(5 * MS));
        let armed = std::future::poll_fn(|cx| {
            std::task::Poll::Ready(std::future::Future::poll(early.as_mut(), cx).is_pending())
        });
        assert!(armed.await);
        drop(early); // cancelled, like a timeout whose work finished first
        sleep(20 * MS).await;
        let waited = started.elapsed();
        assert!(waited >= 20 * MS, "early: {waited:?}");
        assert!(waited < Duration::from_secs(5), "late: {waited:?}");
    });
}

#[weft::test(paused)]
async fn timers_with_one_deadline_wake_main_and_tasks_in_arming_order() {
    // The task arms its timer first, main second: both fire in that order, and main, woken
    // second, runs second (as an asyncio main task would), not ahead of the queue.
    let log = Rc::new(RefCell::new(Vec::new()));
    let deadline = Instant::now() + 10 * MS;
    let task_log = log.clone();
    let task = weft::spawn(async move {
        sleep_until(deadline).await;
        task_log.borrow_mut().push("task");
    });
    weft::task::yield_now().await; // the task runs and arms its timer
    sleep_until(deadline).await;
    log.borrow_mut().push("main");
    task.await.unwrap();
    assert_eq!(*log.borrow(), ["task", "main"]);
}

#[weft::test(paused)]
async fn main_woken_by_a_task_runs_after_the_tasks_queued_before_its_wake() {
    let log = Rc::new(RefCell::new(Vec::new()));
    let (tx, rx) = weft::channel::oneshot::channel::<()>();
    let first = log.clone();
    weft::spawn(async move {
        first.borrow_mut().push("waker");
        // Wakes main; the next task was queued before this wake, so it runs first.
        tx.send(()).unwrap();
    });
    let second = log.clone();
    weft::spawn(async move { second.borrow_mut().push("queued before the wake") });
    rx.await.unwrap();
    log.borrow_mut().push("main");
    assert_eq!(*log.borrow(), ["waker", "queued before the wake", "main"]);
}
