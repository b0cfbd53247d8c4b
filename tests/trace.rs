//! The flight recorder and its two renderings, through the public API.

use std::time::Duration;

use serde_json::Value;
use weft::runtime::Builder;
use weft::trace::{Event, Trace, WakeCause};

/// A small program with every kind of wake: tasks waking each other through a queue, a
/// timer, a socket pair, a yield, and a thread.
fn traced_run() -> Trace {
    let rt = Builder::new().flight_recorder(100_000).build().unwrap();
    rt.block_on(async {
        let queue = weft::queue::Queue::new(1);
        let producer = weft::task::Builder::new().name("producer").spawn({
            let queue = queue.clone();
            async move {
                for i in 0..5 {
                    queue.put(i).await.unwrap();
                }
            }
        });
        let consumer = weft::task::Builder::new()
            .name("consumer")
            .spawn(async move {
                let mut sum = 0;
                for _ in 0..5 {
                    sum += queue.get().await.unwrap();
                    weft::task::yield_now().await;
                }
                sum
            });
        weft::time::sleep(Duration::from_millis(1)).await;
        let (mut a, mut b) = weft::net::UnixStream::pair().unwrap();
        let reader = weft::spawn(async move {
            use weft::io::AsyncReadExt;
            let mut buf = [0; 4];
            b.read_exact(&mut buf).await.unwrap();
            buf
        });
        weft::task::yield_now().await;
        use weft::io::AsyncWriteExt;
        a.write_all(b"ping").await.unwrap();
        assert_eq!(reader.await.unwrap(), *b"ping");
        // The thread finishes only once the main future waits for it: its wake comes from
        // the other thread.
        let (go, wait) = std::sync::mpsc::channel::<()>();
        let from_thread = weft::task::spawn_blocking(move || {
            wait.recv().unwrap();
            7
        });
        weft::spawn(async move { go.send(()).unwrap() });
        assert_eq!(from_thread.await.unwrap(), 7);
        producer.await.unwrap();
        assert_eq!(consumer.await.unwrap(), 10);
    });
    rt.trace_snapshot().unwrap()
}

#[test]
fn the_recorder_sees_every_kind_of_wake() {
    let trace = traced_run();
    let causes: Vec<WakeCause> = trace
        .events()
        .iter()
        .filter_map(|e| match e.event {
            Event::Woken { by, .. } => Some(by),
            _ => None,
        })
        .collect();
    assert!(causes.iter().any(|c| matches!(c, WakeCause::Task(_))));
    assert!(causes.contains(&WakeCause::Timer));
    assert!(
        causes
            .iter()
            .any(|c| matches!(c, WakeCause::Io { write: false, .. }))
    );
    assert!(causes.contains(&WakeCause::OtherThread));
    assert!(
        trace
            .events()
            .iter()
            .any(|e| matches!(e.event, Event::Parked { .. }))
    );
    assert!(
        trace
            .events()
            .iter()
            .any(|e| matches!(e.event, Event::IoReady { readable: true, .. }))
    );
    let names: Vec<_> = trace
        .tasks()
        .iter()
        .filter_map(|t| t.name.as_deref())
        .collect();
    assert!(names.contains(&"producer") && names.contains(&"consumer") && names.contains(&"main"));
    let times: Vec<_> = trace.events().iter().map(|e| e.at).collect();
    assert!(
        times.windows(2).all(|w| w[0] <= w[1]),
        "events are in time order"
    );
}

#[test]
fn a_yield_is_a_wake_of_the_task_by_itself() {
    let rt = Builder::new().flight_recorder(1000).build().unwrap();
    let id = rt.block_on(async {
        weft::spawn(async {
            weft::task::yield_now().await;
            weft::task::id()
        })
        .await
        .unwrap()
    });
    let trace = rt.trace_snapshot().unwrap();
    let self_wakes = trace
        .events()
        .iter()
        .filter(|e| {
            e.event
                == Event::Woken {
                    task: id,
                    by: WakeCause::Task(id),
                }
        })
        .count();
    assert_eq!(self_wakes, 1);
}

#[test]
fn the_chrome_json_parses_nests_and_pairs_every_flow() {
    let trace = traced_run();
    let mut json = Vec::new();
    trace.write_chrome_json(&mut json).unwrap();
    let doc = test_support::check_chrome_trace(&json);
    let events = doc["traceEvents"].as_array().unwrap();
    let starts = events.iter().filter(|e| e["ph"] == "s").count();

    // The poll slices and the wake arrows match the recorder's counts.
    let polls = trace
        .events()
        .iter()
        .filter(|e| matches!(e.event, Event::PollStarted { .. }))
        .count();
    let poll_slices = events
        .iter()
        .filter(|e| e["ph"] == "X" && e["name"] == "poll")
        .count();
    assert_eq!(poll_slices, polls);
    // Every poll but the first of a task spawned before the recording has the wake that
    // queued it; this trace starts with the runtime, so every poll has one.
    assert_eq!(starts, polls);

    // Each task's track is named after it.
    let names: Vec<&str> = events
        .iter()
        .filter(|e| e["name"] == "thread_name")
        .filter_map(|e| e["args"]["name"].as_str())
        .collect();
    assert!(
        names
            .iter()
            .any(|n| n.contains("producer") && n.contains("trace.rs:"))
    );
    assert!(names.contains(&"reactor: waits for I/O"));
}

#[test]
fn the_svg_is_one_self_contained_picture() {
    let trace = traced_run();
    let mut svg = Vec::new();
    trace.write_svg(&mut svg).unwrap();
    let svg = String::from_utf8(svg).unwrap();
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert!(svg.trim_end().ends_with("</svg>"));
    assert!(!svg.contains("<script") && !svg.contains("href"));
    assert!(svg.contains("consumer") && svg.contains("<line"));
    assert_eq!(svg.matches("<svg").count(), 1);
}

#[test]
fn the_ring_keeps_the_newest_events_and_counts_the_rest() {
    let rt = Builder::new().flight_recorder(64).build().unwrap();
    rt.block_on(async {
        for _ in 0..100 {
            weft::task::yield_now().await;
        }
    });
    let trace = rt.trace_snapshot().unwrap();
    assert_eq!(trace.events().len(), 64);
    assert!(trace.dropped() > 0);
    let mut json = Vec::new();
    trace.write_chrome_json(&mut json).unwrap();
    serde_json::from_slice::<Value>(&json).expect("a trace cut by the ring is still JSON");
}

#[test]
fn without_a_recorder_there_is_no_trace() {
    let rt = Builder::new().flight_recorder(0).build().unwrap();
    rt.block_on(async {});
    assert!(rt.trace_snapshot().is_none());
}
