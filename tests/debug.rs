//! Debug mode through the public API: slow polls and tasks dropped while pending are reported,
//! by hook or on standard error, and `WEFT_DEBUG` turns it on.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use weft::Runtime;
use weft::runtime::{Builder, DebugEvent};
use weft::task::yield_now;

/// A runtime in debug mode whose events land in the returned list.
fn recording(threshold: Duration) -> (Runtime, Arc<Mutex<Vec<DebugEvent>>>) {
    let events = Arc::new(Mutex::new(Vec::new()));
    let rt = Builder::new()
        .slow_poll_threshold(threshold)
        .on_debug_event({
            let events = events.clone();
            move |event| events.lock().unwrap().push(event.clone())
        })
        .build()
        .unwrap();
    (rt, events)
}

/// Blocks the thread the way a synchronous call in async code does. `sleep` waits at least
/// this long, so the poll is slow however the machine is loaded.
fn block_thread() {
    std::thread::sleep(Duration::from_millis(20));
}

#[test]
fn a_poll_that_blocks_the_thread_is_reported_with_the_task() {
    let (rt, events) = recording(Duration::from_millis(10));
    let line = line!() + 4;
    rt.block_on(async {
        weft::task::Builder::new()
            .name("blocker")
            .spawn(async {
                yield_now().await;
                block_thread();
                yield_now().await;
            })
            .await
            .unwrap();
    });
    let events = events.lock().unwrap();
    let slow: Vec<_> = events
        .iter()
        .filter_map(|event| match event {
            DebugEvent::SlowPoll {
                task: Some(task),
                took,
                threshold,
            } if task.name.as_deref() == Some("blocker") => Some((task.clone(), *took, *threshold)),
            _ => None,
        })
        .collect();
    // The blocking poll; on a loaded machine a quick poll may be caught out too.
    let blocking = slow
        .iter()
        .find(|(_, took, _)| *took >= Duration::from_millis(20));
    let (task, _, threshold) = blocking.unwrap_or_else(|| panic!("not reported: {events:?}"));
    assert_eq!(*threshold, Duration::from_millis(10));
    assert_eq!(task.spawned_at.file(), file!());
    assert_eq!(task.spawned_at.line(), line);
    assert!(task.awaited, "the main future awaits it");
    let shown = DebugEvent::SlowPoll {
        task: Some(task.clone()),
        took: Duration::from_millis(153),
        threshold: *threshold,
    }
    .to_string();
    assert!(
        shown.starts_with(&format!(
            "weft debug: task {} (blocker) spawned at {}: one poll ran 153.0ms (threshold 10ms)",
            task.id, task.spawned_at
        )),
        "{shown}"
    );
}

#[test]
fn a_slow_main_future_is_reported_as_such() {
    let (rt, events) = recording(Duration::from_millis(10));
    rt.block_on(async { block_thread() });
    let events = events.lock().unwrap();
    assert!(
        events
            .iter()
            .any(|e| matches!(e, DebugEvent::SlowPoll { task: None, .. })),
        "{events:?}"
    );
}

#[test]
fn polls_within_the_threshold_are_not_reported() {
    let (rt, events) = recording(Duration::from_secs(60));
    rt.block_on(async {
        let tasks: Vec<_> = (0..100)
            .map(|_| {
                weft::spawn(async {
                    for _ in 0..10 {
                        yield_now().await;
                    }
                })
            })
            .collect();
        weft::future::join_all(tasks).await;
    });
    assert!(events.lock().unwrap().is_empty());
}

#[test]
fn tasks_still_pending_at_drop_are_reported_in_spawn_order() {
    let (rt, events) = recording(Duration::from_secs(60));
    rt.block_on(async {
        weft::spawn(async {}).await.unwrap(); // finished: not reported
        weft::task::Builder::new()
            .name("waits-forever")
            .spawn(std::future::pending::<()>());
        weft::spawn(std::future::pending::<()>());
    });
    assert!(events.lock().unwrap().is_empty(), "nothing is dropped yet");
    drop(rt);
    let events = events.lock().unwrap();
    let dropped: Vec<_> = events
        .iter()
        .map(|event| match event {
            DebugEvent::DroppedPending { task } => task.name.clone(),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(dropped, [Some("waits-forever".to_string()), None]);
}

#[test]
fn without_debug_mode_nothing_is_reported() {
    let events = Arc::new(Mutex::new(Vec::new()));
    let rt = Builder::new()
        .slow_poll_threshold(Duration::ZERO)
        .on_debug_event({
            let events = events.clone();
            move |event: &DebugEvent| events.lock().unwrap().push(event.clone())
        })
        .debug(false)
        .build()
        .unwrap();
    rt.block_on(async {
        weft::spawn(std::future::pending::<()>());
        yield_now().await;
    });
    drop(rt);
    assert!(events.lock().unwrap().is_empty());
}

/// `WEFT_DEBUG=1` turns debug mode on for `weft::run`, reporting on standard error. Checked in
/// a child process (this test binary again), since the environment is the process's.
#[test]
fn weft_debug_in_the_environment_turns_it_on_for_run() {
    const CHILD: &str = "WEFT_TEST_DEBUG_CHILD";
    if std::env::var_os(CHILD).is_some() {
        weft::run(async {
            weft::task::Builder::new()
                .name("left-behind")
                .spawn(std::future::pending::<()>());
        });
        return;
    }
    let run_child = |debug: &str| {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "weft_debug_in_the_environment_turns_it_on_for_run",
            ])
            .args(["--nocapture", "--test-threads=1"])
            .env(CHILD, "1")
            .env("WEFT_DEBUG", debug)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8(out.stderr).unwrap()
    };
    let stderr = run_child("1");
    assert!(
        stderr.contains("(left-behind) spawned at tests/debug.rs:")
            && stderr.contains("was still pending when the runtime was dropped"),
        "{stderr}"
    );
    assert!(!run_child("0").contains("weft debug"));
}

#[test]
fn spawning_a_very_large_future_is_reported_and_a_small_one_is_not() {
    let (rt, events) = recording(Duration::from_secs(60));
    let line = line!() + 3;
    rt.block_on(async {
        weft::spawn(async {}).await.unwrap();
        let big = weft::task::Builder::new().name("hoarder").spawn(async {
            let buffer = [1u8; 100 * 1024]; // held across the await: part of the future
            yield_now().await;
            std::hint::black_box(&buffer);
        });
        big.await.unwrap();
    });
    let events = events.lock().unwrap();
    assert_eq!(events.len(), 1, "{events:?}");
    match &events[0] {
        DebugEvent::LargeFuture { task, bytes } => {
            assert!(*bytes >= 100 * 1024);
            assert_eq!(task.name.as_deref(), Some("hoarder"));
            assert_eq!(task.spawned_at.line(), line);
        }
        other => panic!("{other:?}"),
    }
    let text = events[0].to_string();
    assert!(
        text.contains("task #") && text.contains("(over 64 KiB)"),
        "{text}"
    );
}

/// A future that returns `Pending` once without keeping the waker: the classic lost wake-up.
struct ForgetsItsWaker;

impl Future for ForgetsItsWaker {
    type Output = ();

    fn poll(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        std::task::Poll::Pending
    }
}

#[test]
fn a_poll_that_loses_its_waker_is_reported_and_a_real_wait_is_not() {
    let (rt, events) = recording(Duration::from_secs(60));
    rt.block_on(async {
        let event = weft::sync::Event::new();
        weft::task::Builder::new()
            .name("lost")
            .spawn(ForgetsItsWaker);
        let waiter = weft::task::Builder::new().name("waits").spawn({
            let event = event.clone();
            async move { event.wait().await }
        });
        let sleeper = weft::task::Builder::new()
            .name("sleeps")
            .spawn(weft::time::sleep(Duration::from_millis(1)));
        yield_now().await;
        event.set();
        waiter.await.unwrap();
        sleeper.await.unwrap();
    });
    let events = events.lock().unwrap();
    let lost: Vec<_> = events
        .iter()
        .filter_map(|event| match event {
            DebugEvent::LostWaker { task } => task.name.clone(),
            _ => None,
        })
        .collect();
    assert_eq!(lost, ["lost"], "{events:?}");
    let text = events
        .iter()
        .find(|e| matches!(e, DebugEvent::LostWaker { .. }))
        .unwrap()
        .to_string();
    assert!(text.contains("nothing can ever wake it"), "{text}");
}

#[test]
fn a_task_that_spins_on_yield_is_reported_once_and_a_few_yields_are_not() {
    let (rt, events) = recording(Duration::from_secs(60));
    rt.block_on(async {
        let spinner = weft::task::Builder::new().name("spinner").spawn(async {
            for _ in 0..3000 {
                yield_now().await;
            }
        });
        let polite = weft::task::Builder::new().name("polite").spawn(async {
            for _ in 0..10 {
                yield_now().await;
            }
        });
        spinner.await.unwrap();
        polite.await.unwrap();
    });
    let events = events.lock().unwrap();
    let spinning: Vec<_> = events
        .iter()
        .filter_map(|event| match event {
            DebugEvent::SelfWaking {
                task,
                polls,
                self_wakes,
            } => Some((task.name.clone(), *polls, *self_wakes)),
            _ => None,
        })
        .collect();
    assert_eq!(spinning.len(), 1, "{events:?}");
    let (name, polls, self_wakes) = &spinning[0];
    assert_eq!(name.as_deref(), Some("spinner"));
    assert!(*polls >= 1000 && self_wakes * 100 >= polls * 90);
}
