//! The runtime's virtual clock through the public API: pause, resume, advance, auto-advance
//! and its holds, the deadlock detector's jump, and the real-time limit.

use std::cell::RefCell;
use std::io::Write;
use std::rc::Rc;
use std::time::Duration;

use weft::io::AsyncReadExt;
use weft::runtime::Builder;
use weft::task::{spawn, wait_all_tasks_blocked};
use weft::time::{
    AutoAdvance, Instant, advance, advance_to_next_timer, hold_auto_advance, hold_auto_advance_for,
    sleep, timeout,
};

fn paused(mode: AutoAdvance) -> weft::Runtime {
    Builder::new()
        .start_paused(true)
        .auto_advance(mode)
        .build()
        .unwrap()
}

const SECOND: Duration = Duration::from_secs(1);

#[weft::test(paused)]
async fn an_hour_of_sleep_takes_no_real_time() {
    let real = std::time::Instant::now();
    let start = Instant::now();
    sleep(3600 * SECOND).await;
    assert_eq!(start.elapsed(), 3600 * SECOND, "exactly the deadline");
    // std's clock is not the runtime's: it saw only the real time.
    assert!(real.elapsed() < 60 * SECOND, "{:?}", real.elapsed());
}

#[weft::test(paused)]
async fn a_paused_clock_stands_still_until_moved() {
    let before = Instant::now();
    for _ in 0..1000 {
        weft::task::yield_now().await;
    }
    assert_eq!(Instant::now(), before);
    advance(5 * SECOND).await;
    assert_eq!(Instant::now(), before + 5 * SECOND);
    weft::time::resume();
    assert!(!weft::time::is_paused());
    let resumed = Instant::now();
    assert!(resumed >= before + 5 * SECOND);
    weft::time::pause();
    let frozen = Instant::now();
    assert!(frozen >= resumed);
    assert_eq!(Instant::now(), frozen);
}

#[test]
fn advance_fires_one_deadline_at_a_time_and_runs_what_each_wakes() {
    paused(AutoAdvance::Off).block_on(async {
        let start = Instant::now();
        let log = Rc::new(RefCell::new(Vec::new()));
        for ms in [3000u64, 1000, 2000] {
            let log = log.clone();
            spawn(async move {
                sleep(Duration::from_millis(ms)).await;
                log.borrow_mut().push((ms, Instant::now() - start));
                if ms == 1000 {
                    // Armed by a task the 1 s deadline woke: due before the 2 s one, so it
                    // must fire before it within the same advance.
                    let log = log.clone();
                    spawn(async move {
                        sleep(Duration::from_millis(500)).await;
                        log.borrow_mut().push((1500, Instant::now() - start));
                    });
                }
            });
        }
        advance(Duration::from_millis(2500)).await;
        let ms = |n| Duration::from_millis(n);
        assert_eq!(
            *log.borrow(),
            [(1000, ms(1000)), (1500, ms(1500)), (2000, ms(2000))],
            "each effect at its own deadline, in deadline order"
        );
        assert_eq!(Instant::now() - start, ms(2500));
        assert_eq!(advance_to_next_timer().await, Some(start + ms(3000)));
        assert_eq!(log.borrow().last(), Some(&(3000, ms(3000))));
        assert_eq!(advance_to_next_timer().await, None);
    });
}

#[weft::test(paused)]
async fn equal_deadlines_fire_in_arming_order() {
    let log = Rc::new(RefCell::new(Vec::new()));
    let deadline = Instant::now() + SECOND;
    for i in 0..20 {
        let log = log.clone();
        spawn(async move {
            weft::time::sleep_until(deadline).await;
            log.borrow_mut().push(i);
        });
    }
    sleep(2 * SECOND).await;
    assert_eq!(*log.borrow(), (0..20).collect::<Vec<_>>());
}

#[test]
fn with_auto_advance_off_time_waits_for_advance() {
    paused(AutoAdvance::Off).block_on(async {
        let sleeper = spawn(sleep(SECOND));
        wait_all_tasks_blocked().await;
        assert!(!sleeper.is_finished(), "nothing moved the clock");
        advance(SECOND).await;
        assert!(sleeper.is_finished());
    });
}

#[test]
fn the_deadlock_detector_jumps_to_the_next_timer_before_it_reports() {
    // Auto-advance off, and nothing but timers can wake the runtime: rather than hang, the
    // clock jumps from timer to timer...
    let start_and_end = paused(AutoAdvance::Off).block_on(async {
        let start = Instant::now();
        sleep(10 * SECOND).await;
        sleep(5 * SECOND).await;
        (start, Instant::now())
    });
    assert_eq!(start_and_end.1 - start_and_end.0, 15 * SECOND);
    // ...and reports a deadlock only once no timer is left.
    let err = paused(AutoAdvance::Off)
        .try_block_on(async {
            sleep(SECOND).await;
            std::future::pending::<()>().await;
        })
        .unwrap_err();
    assert!(err.to_string().contains("deadlock"), "{err}");
}

/// A socket pair whose far end another thread writes `reply` into at once.
fn answered_by_a_thread(
    reply: &'static [u8],
) -> (weft::net::UnixStream, std::thread::JoinHandle<()>) {
    let (ours, mut theirs) = std::os::unix::net::UnixStream::pair().unwrap();
    let ours = weft::net::UnixStream::from_std(ours).unwrap();
    let thread = std::thread::spawn(move || theirs.write_all(reply).unwrap());
    (ours, thread)
}

#[test]
fn a_hold_keeps_a_timeout_from_firing_while_a_reply_is_on_its_way() {
    paused(AutoAdvance::WhenIdle).block_on(async {
        let start = Instant::now();
        let (mut stream, thread) = answered_by_a_thread(b"pong");
        let hold = hold_auto_advance();
        let mut reply = [0; 4];
        timeout(SECOND, stream.read_exact(&mut reply))
            .await
            .expect("held: the clock cannot jump to the timeout")
            .unwrap();
        assert_eq!(&reply, b"pong");
        assert_eq!(Instant::now(), start, "the clock did not move");
        thread.join().unwrap();
        drop(hold);
        // Released: idle again, the clock jumps.
        sleep(SECOND).await;
        assert_eq!(Instant::now() - start, SECOND);
    });
}

#[test]
fn a_timed_hold_lets_a_reply_arrive_and_lapses_when_none_comes() {
    paused(AutoAdvance::WhenIdle).block_on(async {
        // A reply within the hold's real time: the clock waits for it.
        let start = Instant::now();
        let (mut stream, thread) = answered_by_a_thread(b"pong");
        let hold = hold_auto_advance_for(60 * SECOND);
        let mut reply = [0; 4];
        timeout(SECOND, stream.read_exact(&mut reply))
            .await
            .expect("held: the clock cannot jump to the timeout")
            .unwrap();
        assert_eq!(Instant::now(), start, "the clock did not move");
        thread.join().unwrap();
        drop(hold);
        // No reply: once the hold lapses the clock jumps, and the timeout fires on time.
        let (mut quiet, _peer) = weft::net::UnixStream::pair().unwrap();
        let real = std::time::Instant::now();
        let _hold = hold_auto_advance_for(Duration::from_millis(20));
        let read = timeout(SECOND, quiet.read(&mut reply)).await;
        assert!(read.is_err(), "nothing came");
        assert_eq!(Instant::now() - start, SECOND, "at the timeout's deadline");
        assert!(
            real.elapsed() >= Duration::from_millis(20),
            "not before the hold lapsed"
        );
    });
}

#[test]
fn auto_advance_after_an_idle_threshold_lets_a_reply_arrive_first() {
    // trio's autojump: the clock moves only after 10 s of real idleness, long after the
    // thread's reply arrived; a timeout around real I/O behaves as on the system clock.
    paused(AutoAdvance::AfterIdle(10 * SECOND)).block_on(a_reply_beats_the_timeout());
}

/// A thread's reply arrives within a one-second timeout, and the clock has not moved.
async fn a_reply_beats_the_timeout() {
    let start = Instant::now();
    let (mut stream, thread) = answered_by_a_thread(b"pong");
    let mut reply = [0; 4];
    timeout(SECOND, stream.read_exact(&mut reply))
        .await
        .expect("the reply came within the threshold")
        .unwrap();
    assert_eq!(Instant::now(), start);
    thread.join().unwrap();
}

#[test]
fn auto_advance_after_idle_jumps_once_the_runtime_was_idle_that_long() {
    // The wait for the threshold ends on the timerfd; that wake-up is no event from outside,
    // so the turn was quiet and the clock jumps (it never did while the wake-up counted).
    paused(AutoAdvance::AfterIdle(Duration::from_millis(20))).block_on(async {
        let start = Instant::now();
        let real = std::time::Instant::now();
        sleep(5 * SECOND).await;
        assert_eq!(Instant::now() - start, 5 * SECOND, "exactly the deadline");
        let waited = real.elapsed();
        assert!(
            waited >= Duration::from_millis(20),
            "not before the threshold: {waited:?}"
        );
        assert!(
            waited < 5 * SECOND,
            "the clock jumped, it did not run: {waited:?}"
        );

        // A silent peer: the timeout fires after the threshold of real time, at its own
        // deadline on the runtime's clock.
        let (mut quiet, _peer) = weft::net::UnixStream::pair().unwrap();
        let (start, real) = (Instant::now(), std::time::Instant::now());
        let read = timeout(10 * SECOND, quiet.read(&mut [0; 1])).await;
        assert!(read.is_err(), "nothing came, the timeout fired");
        assert_eq!(Instant::now() - start, 10 * SECOND);
        let waited = real.elapsed();
        assert!(
            waited >= Duration::from_millis(20),
            "not before the threshold: {waited:?}"
        );
        assert!(waited < 10 * SECOND, "the clock jumped: {waited:?}");
    });
}

#[cfg(feature = "blocking")]
#[test]
fn a_blocking_job_in_flight_holds_auto_advance() {
    paused(AutoAdvance::WhenIdle).block_on(async {
        let start = Instant::now();
        // Slow work on a thread (it stands for a long computation): the runtime is idle
        // meanwhile, and must not take that for "nothing will happen before the timeout".
        let job = weft::task::spawn_blocking(|| {
            std::thread::sleep(Duration::from_millis(20));
            7
        });
        let out = timeout(SECOND, job)
            .await
            .expect("the job beat the timeout");
        assert_eq!(out.unwrap(), 7);
        assert_eq!(Instant::now(), start);
    });
}

#[test]
fn a_run_over_its_time_limit_fails_with_the_task_dump() {
    // Paused, auto-advance off, and a socket that never speaks: nothing will happen, yet
    // nothing proves it (the socket could). The real-time limit ends it.
    let rt = paused(AutoAdvance::Off);
    let (ours, _theirs) = std::os::unix::net::UnixStream::pair().unwrap();
    let err = rt
        .block_on_within(Duration::from_millis(50), async move {
            let mut ours = weft::net::UnixStream::from_std(ours).unwrap();
            let reader = weft::task::Builder::new().name("reader").spawn(async move {
                let mut byte = [0];
                ours.read_exact(&mut byte).await
            });
            let _ = reader.await;
        })
        .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("time limit of 50ms"), "{text}");
    assert!(text.contains("(reader)") && text.contains("read"), "{text}");
    assert_eq!(err.limit(), Duration::from_millis(50));
}

#[test]
fn wait_all_tasks_blocked_runs_everything_that_can_run() {
    weft::run(async {
        let counter = Rc::new(RefCell::new(0));
        for _ in 0..10 {
            let counter = counter.clone();
            spawn(async move {
                for _ in 0..5 {
                    weft::task::yield_now().await;
                    *counter.borrow_mut() += 1;
                }
            });
        }
        wait_all_tasks_blocked().await;
        assert_eq!(*counter.borrow(), 50);
    });
}

#[test]
fn advance_works_on_a_running_clock_too() {
    weft::run(async {
        let start = Instant::now();
        let sleeper = spawn(sleep(3600 * SECOND));
        advance(3600 * SECOND).await;
        assert!(sleeper.is_finished());
        assert!(Instant::now() - start >= 3600 * SECOND);
    });
}

#[test]
fn outside_a_runtime_instant_is_the_system_clock() {
    let before = std::time::Instant::now();
    let now = Instant::now().into_std();
    assert!(now >= before && now <= std::time::Instant::now());
}

#[weft::test(paused, auto_advance = "after_idle(20ms)")]
async fn the_test_macro_sets_the_auto_advance_mode() {
    // After 20 ms of real idleness the clock jumps: the reply from a thread that answers at
    // once comes first, and a sleep still ends at its exact deadline.
    let start = Instant::now();
    a_reply_beats_the_timeout().await;
    let real = std::time::Instant::now();
    sleep(60 * SECOND).await;
    assert_eq!(Instant::now() - start, 60 * SECOND);
    assert!(
        real.elapsed() >= Duration::from_millis(20),
        "after the idle threshold"
    );
}

#[weft::test(seed = 77)]
async fn a_task_reads_the_seed_of_its_runtime() {
    assert_eq!(weft::runtime::seed(), Some(77));
    let child = weft::spawn(async { weft::runtime::seed() });
    assert_eq!(child.await.unwrap(), Some(77));
}
