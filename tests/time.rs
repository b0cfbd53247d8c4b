//! Timers through the public API: sleep, timeout, interval.

use std::cell::RefCell;
use std::future::pending;
use std::rc::Rc;
use std::time::{Duration, Instant};

use weft::time::{self, MissedTickBehavior, sleep, sleep_until, timeout};

#[test]
fn sleep_never_ends_early() {
    weft::run(async {
        for ms in [0, 1, 3, 10] {
            let start = Instant::now();
            sleep(Duration::from_millis(ms)).await;
            assert!(start.elapsed() >= Duration::from_millis(ms));
        }
    });
}

#[test]
fn ten_thousand_sleeps_fire_in_deadline_order() {
    let fired = Rc::new(RefCell::new(Vec::new()));
    weft::run({
        let fired = fired.clone();
        async move {
            // Far enough ahead that every task has armed its timer before the first deadline,
            // even in a debug build on a loaded machine (a sleep whose deadline already passed
            // when first polled completes at once, in spawn order, proving nothing).
            let base = Instant::now() + Duration::from_millis(500);
            let handles: Vec<_> = (0..10_000u64)
                .map(|i| {
                    // A scrambled permutation of 0..10_000, 5 µs apart.
                    let slot = (i * 7919) % 10_000;
                    let deadline = base + Duration::from_micros(slot * 5);
                    let fired = fired.clone();
                    weft::spawn(async move {
                        sleep_until(deadline).await;
                        assert!(Instant::now() >= deadline);
                        fired.borrow_mut().push(slot);
                    })
                })
                .collect();
            for h in handles {
                h.await.unwrap();
            }
        }
    });
    let fired = fired.borrow();
    assert_eq!(fired.len(), 10_000);
    assert!(
        fired.windows(2).all(|w| w[0] < w[1]),
        "fired out of deadline order"
    );
}

#[test]
fn timeout_of_a_never_ready_future_elapses_after_the_deadline() {
    weft::run(async {
        let start = Instant::now();
        let result = timeout(Duration::from_millis(5), pending::<()>()).await;
        assert_eq!(result.unwrap_err().to_string(), "deadline has elapsed");
        assert!(start.elapsed() >= Duration::from_millis(5));
    });
}

#[test]
fn timeout_of_a_ready_future_returns_its_output() {
    weft::run(async {
        assert_eq!(timeout(Duration::ZERO, async { 5 }).await, Ok(5));
        let quick = async {
            sleep(Duration::from_millis(1)).await;
            "quick"
        };
        assert_eq!(timeout(Duration::from_secs(60), quick).await, Ok("quick"));
    });
}

#[test]
fn dropping_a_sleep_disarms_its_timer() {
    // With the hour-long timer disarmed nothing can wake the runtime, and the deadlock report
    // proves it at once instead of after an hour.
    let err = weft::try_run(async {
        let long = sleep(Duration::from_secs(3600));
        let _ = timeout(Duration::from_millis(1), long).await;
        pending::<()>().await;
    });
    assert!(err.is_err());
}

#[test]
fn a_sleep_can_be_reset_earlier_and_reused() {
    weft::run(async {
        let mut nap = sleep(Duration::from_secs(3600));
        assert!(timeout(Duration::from_millis(1), &mut nap).await.is_err());
        let start = Instant::now();
        nap.reset(start + Duration::from_millis(2));
        (&mut nap).await;
        assert!(nap.is_elapsed());
        nap.reset(Instant::now() + Duration::from_millis(1));
        (&mut nap).await;
        assert!(start.elapsed() >= Duration::from_millis(3));
    });
}

#[test]
fn interval_ticks_on_schedule() {
    weft::run(async {
        let period = Duration::from_millis(2);
        let mut every = time::interval(period);
        let first = every.tick().await;
        let second = every.tick().await;
        let third = every.tick().await;
        assert_eq!(second - first, period);
        assert_eq!(third - second, period);
        assert!(Instant::now() >= third);
    });
}

#[test]
fn missed_ticks_burst_skip_or_delay() {
    weft::run(async {
        let period = Duration::from_millis(10);
        let start = Instant::now() - period * 5; // five periods behind already

        let mut burst = time::interval_at(start, period);
        for k in 0..5 {
            assert_eq!(burst.tick().await, start + period * k); // back to back
        }

        let mut skip = time::interval_at(start, period);
        skip.set_missed_tick_behavior(MissedTickBehavior::Skip);
        assert_eq!(skip.tick().await, start);
        let next = skip.tick().await;
        assert!(next > start + period * 4, "the missed ticks were skipped");
        assert_eq!(
            (next - start).as_nanos() % period.as_nanos(),
            0,
            "on the old schedule"
        );

        let mut delay = time::interval_at(start, period);
        delay.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let before = Instant::now();
        assert_eq!(delay.tick().await, start);
        assert!(
            delay.tick().await >= before + period,
            "a new schedule from the late tick"
        );
    });
}

#[test]
#[should_panic(expected = "period above zero")]
fn a_zero_period_is_refused() {
    let _ = time::interval(Duration::ZERO);
}

#[test]
fn a_timeout_scope_can_be_moved_earlier_or_later_while_the_work_waits() {
    use weft::time::TimeoutScope;
    weft::run(async {
        // Later: the work outlives the first deadline.
        let scope = TimeoutScope::new(Duration::from_millis(2));
        let extend = scope.clone();
        let work = async move {
            extend.reschedule(Instant::now() + Duration::from_secs(60));
            sleep(Duration::from_millis(5)).await;
            1
        };
        assert_eq!(scope.run(work).await, Ok(1));
        assert!(!scope.expired());
        // Earlier: another task cuts a long deadline short while the work is parked.
        let scope = TimeoutScope::new(Duration::from_secs(3600));
        let cutter = scope.clone();
        weft::spawn(async move { cutter.reschedule(Instant::now()) });
        let start = Instant::now();
        assert!(scope.run(pending::<()>()).await.is_err());
        assert!(scope.expired());
        assert!(start.elapsed() < Duration::from_secs(3600));
    });
}

#[test]
fn a_send_sleep_may_cross_threads_between_polls_and_be_reset() {
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
        sleep
            .as_mut()
            .get_mut()
            .reset(std::time::Instant::now() + Duration::from_millis(1));
        let started = std::time::Instant::now();
        sleep.await;
        assert!(started.elapsed() < Duration::from_secs(60));
    });
}

#[test]
fn a_timer_behind_a_cancelled_earlier_one_fires_on_time() {
    // The reactor leaves its timerfd at the earlier (cancelled) deadline rather than re-arming
    // it later: the early wake must find nothing due, re-arm, and the later timer still fire.
    weft::run(async {
        let started = Instant::now();
        let mut early = Box::pin(sleep(Duration::from_millis(5)));
        let armed = std::future::poll_fn(|cx| {
            std::task::Poll::Ready(std::future::Future::poll(early.as_mut(), cx).is_pending())
        });
        assert!(armed.await);
        drop(early); // cancelled, like a timeout whose work finished first
        sleep(Duration::from_millis(20)).await;
        let waited = started.elapsed();
        assert!(waited >= Duration::from_millis(20), "early: {waited:?}");
        assert!(waited < Duration::from_secs(5), "late: {waited:?}");
    });
}
