//! Tasks through the public API: spawn, join, abort, panics, detaching, wakes, fairness,
//! shutdown and the deadlock report.

use std::cell::{Cell, RefCell};
use std::future::{Future, pending, poll_fn};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::Duration;

use test_support::DropProbe;
use weft::task::{self, yield_now};
use weft::time::sleep;

#[test]
fn run_returns_the_main_futures_output() {
    assert_eq!(weft::run(async { 7 }), 7);
}

#[test]
fn spawned_tasks_return_outputs_and_start_in_spawn_order() {
    let order = Rc::new(RefCell::new(Vec::new()));
    let results = weft::run({
        let order = order.clone();
        async move {
            let handles: Vec<_> = (0..5)
                .map(|i| {
                    let order = order.clone();
                    weft::spawn(async move {
                        order.borrow_mut().push(i);
                        i * i
                    })
                })
                .collect();
            let mut results = Vec::new();
            for handle in handles {
                results.push(handle.await.unwrap());
            }
            results
        }
    });
    assert_eq!(results, vec![0, 1, 4, 9, 16]);
    assert_eq!(*order.borrow(), vec![0, 1, 2, 3, 4]);
}

#[test]
fn tasks_have_ids_and_names() {
    weft::run(async {
        let a = weft::spawn(async {});
        let b = task::Builder::new().name("worker").spawn(async {});
        assert_ne!(a.id(), b.id());
        assert_eq!(a.name(), None);
        assert_eq!(b.name(), Some("worker"));
        assert!(format!("{:?}", b).contains("worker"));
    });
}

#[weft::test(paused)]
async fn abort_of_a_sleeping_task_cancels_it_and_drops_its_future() {
    let drops = Rc::new(Cell::new(0));
    let probe = DropProbe::new(&drops);
    let handle = weft::spawn(async move {
        let _probe = probe;
        sleep(Duration::from_secs(3600)).await;
    });
    yield_now().await; // let it start sleeping
    assert!(!handle.is_finished());
    handle.abort();
    let err = handle.await.unwrap_err();
    assert!(err.is_cancelled());
    assert!(err.to_string().contains("cancelled"));
    assert_eq!(drops.get(), 1);
}

#[test]
fn a_task_can_abort_itself() {
    weft::run(async {
        let slot: Rc<RefCell<Option<weft::JoinHandle<()>>>> = Rc::default();
        let inner = slot.clone();
        let handle = weft::spawn(async move {
            loop {
                if let Some(me) = inner.borrow().as_ref() {
                    me.abort();
                }
                yield_now().await;
            }
        });
        let observer = weft::spawn(async {});
        *slot.borrow_mut() = Some(handle);
        observer.await.unwrap();
        let handle = slot.borrow_mut().take().unwrap();
        assert!(handle.await.unwrap_err().is_cancelled());
    });
}

#[test]
fn a_panicking_task_reports_the_panic_and_others_keep_running() {
    weft::run(async {
        let bad = weft::spawn(async {
            yield_now().await;
            panic!("boom");
        });
        let good = weft::spawn(async {
            yield_now().await;
            yield_now().await;
            "fine"
        });
        let err = bad.await.unwrap_err();
        assert!(err.is_panic());
        assert!(err.to_string().contains("boom"));
        let payload = err.try_into_panic().unwrap();
        assert_eq!(*payload.downcast::<&str>().unwrap(), "boom");
        assert_eq!(good.await.unwrap(), "fine");
    });
}

#[test]
fn dropping_the_handle_detaches_the_task() {
    let done = Rc::new(Cell::new(false));
    weft::run({
        let done = done.clone();
        async move {
            let (tx, rx) = oneshot();
            drop(weft::spawn(async move {
                yield_now().await;
                done.set(true);
                tx.send(());
            }));
            rx.await;
        }
    });
    assert!(done.get());
}

#[test]
fn waking_twice_before_a_poll_polls_once() {
    weft::run(async {
        let polls = Rc::new(Cell::new(0));
        let waker: Rc<RefCell<Option<Waker>>> = Rc::default();
        let handle = weft::spawn({
            let (polls, waker) = (polls.clone(), waker.clone());
            poll_fn(move |cx| {
                polls.set(polls.get() + 1);
                *waker.borrow_mut() = Some(cx.waker().clone());
                if polls.get() == 2 {
                    Poll::Ready(())
                } else {
                    Poll::Pending
                }
            })
        });
        yield_now().await;
        assert_eq!(polls.get(), 1);
        let w = waker.borrow_mut().take().unwrap();
        w.wake_by_ref();
        w.wake_by_ref();
        w.wake();
        handle.await.unwrap();
        assert_eq!(polls.get(), 2);
    });
}

#[test]
fn a_wake_during_the_tasks_own_poll_runs_it_again_after_the_others() {
    let log = Rc::new(RefCell::new(Vec::new()));
    weft::run({
        let log = log.clone();
        async move {
            let mut polls = 0;
            let l = log.clone();
            let selfish = weft::spawn(poll_fn(move |cx| {
                polls += 1;
                l.borrow_mut().push(format!("selfish {polls}"));
                if polls == 3 {
                    return Poll::Ready(());
                }
                cx.waker().wake_by_ref();
                Poll::Pending
            }));
            let l = log.clone();
            let other = weft::spawn(async move { l.borrow_mut().push("other".to_string()) });
            selfish.await.unwrap();
            other.await.unwrap();
        }
    });
    assert_eq!(
        *log.borrow(),
        ["selfish 1", "other", "selfish 2", "selfish 3"]
    );
}

#[test]
fn a_wake_from_another_thread_reaches_a_parked_runtime() {
    weft::run(async {
        let flag = Arc::new(AtomicBool::new(false));
        let handle = weft::spawn({
            let flag = flag.clone();
            poll_fn(move |cx| {
                if flag.load(Ordering::Acquire) {
                    return Poll::Ready("woken");
                }
                let (flag, waker) = (flag.clone(), cx.waker().clone());
                thread::spawn(move || {
                    flag.store(true, Ordering::Release);
                    waker.wake();
                });
                Poll::Pending
            })
        });
        assert_eq!(handle.await.unwrap(), "woken");
    });
}

#[test]
fn a_wake_from_another_thread_reaches_the_main_future() {
    let flag = Arc::new(AtomicBool::new(false));
    let mut spawned = false;
    let out = weft::run(poll_fn(|cx| {
        if flag.load(Ordering::Acquire) {
            return Poll::Ready(1);
        }
        if !spawned {
            spawned = true;
            let (flag, waker) = (flag.clone(), cx.waker().clone());
            thread::spawn(move || {
                flag.store(true, Ordering::Release);
                waker.wake();
            });
        }
        Poll::Pending
    }));
    assert_eq!(out, 1);
}

#[test]
fn wakers_dropped_on_another_thread_after_shutdown_free_nothing_twice() {
    let (tx, rx) = std::sync::mpsc::channel::<Waker>();
    let drops = Rc::new(Cell::new(0));
    weft::run({
        let drops = drops.clone();
        async move {
            let probe = DropProbe::new(&drops);
            drop(weft::spawn(poll_fn(move |cx| {
                let _alive = &probe;
                tx.send(cx.waker().clone()).unwrap();
                Poll::<()>::Pending
            })));
            yield_now().await;
        }
    });
    assert_eq!(
        drops.get(),
        1,
        "shutdown dropped the future, on this thread"
    );
    let waker = rx.recv().unwrap();
    thread::spawn(move || {
        waker.wake_by_ref(); // the task is gone: a no-op
        waker.wake(); // the last reference: frees the cell, which holds no future any more
    })
    .join()
    .expect("waking a finished task from another thread must not panic");
    assert_eq!(
        drops.get(),
        1,
        "the future was dropped once, not again with the cell"
    );
}

#[test]
fn a_task_that_wakes_itself_forever_does_not_starve_timers_or_io() {
    weft::run(async {
        let spinning = Rc::new(Cell::new(true));
        let spins = Rc::new(Cell::new(0u64));
        let spinner = weft::spawn({
            let (spinning, spins) = (spinning.clone(), spins.clone());
            async move {
                while spinning.get() {
                    spins.set(spins.get() + 1);
                    yield_now().await;
                }
            }
        });
        // A timer fires and a socket is served while the spinner never sleeps.
        sleep(Duration::from_millis(5)).await;
        let socket = weft::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let peer = weft::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        peer.send_to(b"x", socket.local_addr().unwrap())
            .await
            .unwrap();
        let mut buf = [0; 1];
        socket.recv_from(&mut buf).await.unwrap();
        spinning.set(false);
        spinner.await.unwrap();
        assert!(spins.get() > 0);
    });
}

/// The loop looks at I/O once every task queued at its last look has had its turn: a task an
/// event wakes runs after at most two turns of each task that keeps itself ready (the rest
/// of the round under way, and the round its wake joins).
#[test]
fn a_task_woken_by_io_waits_at_most_two_rounds_behind_tasks_that_stay_ready() {
    weft::run(async {
        let (reader, writer) = weft::net::UnixStream::pair().unwrap();
        let spinning = Rc::new(Cell::new(true));
        let turns: Rc<Vec<Cell<u32>>> = Rc::new((0..300).map(|_| Cell::new(0)).collect());
        for i in 0..turns.len() {
            let (spinning, turns) = (spinning.clone(), turns.clone());
            weft::spawn(async move {
                while spinning.get() {
                    turns[i].set(turns[i].get() + 1);
                    yield_now().await;
                }
            });
        }
        let woken = weft::spawn({
            let (spinning, turns) = (spinning.clone(), turns.clone());
            async move {
                reader.readable().await.unwrap();
                spinning.set(false);
                turns.iter().map(Cell::get).collect::<Vec<_>>()
            }
        });
        for _ in 0..5 {
            yield_now().await; // the spinners are well under way
        }
        let before: Vec<u32> = turns.iter().map(Cell::get).collect();
        writer.try_write(b"x").unwrap();
        let after = woken.await.unwrap();
        let most = before.iter().zip(&after).map(|(b, a)| a - b).max().unwrap();
        assert!(
            most <= 2,
            "a spinner had {most} turns before the woken task ran"
        );
        assert!(most >= 1, "the spinners ran meanwhile");
    });
}

#[test]
fn an_always_ready_leaf_future_yields_when_its_budget_is_spent() {
    weft::run(async {
        let other_ran = Rc::new(Cell::new(false));
        let other = weft::spawn({
            let other_ran = other_ran.clone();
            async move { other_ran.set(true) }
        });
        let mut ops = 0;
        while !other_ran.get() {
            task::consume_budget().await;
            ops += 1;
            assert!(ops < 10_000, "the budget never made the task yield");
        }
        other.await.unwrap();
    });
}

#[test]
fn shutdown_drops_unfinished_tasks_on_the_runtime_thread() {
    let drops = Rc::new(Cell::new(0));
    let outlived = weft::run({
        let drops = drops.clone();
        async move {
            for _ in 0..3 {
                let probe = DropProbe::new(&drops);
                drop(weft::spawn(async move {
                    let _probe = probe;
                    pending::<()>().await;
                }));
            }
            let probe = DropProbe::new(&drops);
            let never_polled = weft::spawn(async move {
                let _probe = probe;
            });
            yield_now().await;
            assert_eq!(drops.get(), 1, "only the finished task dropped its probe");
            let probe = DropProbe::new(&drops);
            let kept = weft::spawn(async move {
                let _probe = probe;
                pending::<()>().await;
            });
            drop(never_polled);
            Some(kept) // wrapped: the handle outlives the runtime, it is not awaited here
        }
    })
    .unwrap();
    assert_eq!(drops.get(), 5);
    // The handle outlives its runtime: the task reads as cancelled.
    assert!(outlived.is_finished());
    let err = weft::run(outlived).unwrap_err();
    assert!(err.is_cancelled());
}

#[test]
fn runtime_keeps_tasks_between_block_on_calls() {
    let rt = weft::Runtime::new().unwrap();
    let (tx, rx) = oneshot();
    let waiter = rt.spawn(async move {
        rx.await;
        "got it"
    });
    rt.block_on(yield_now());
    assert!(!waiter.is_finished());
    tx.send(());
    assert_eq!(rt.block_on(waiter).unwrap(), "got it");
}

#[test]
fn the_deadlock_report_names_every_stuck_task() {
    let err = weft::try_run(async {
        let stuck = task::Builder::new().name("stuck").spawn(pending::<()>());
        let waiter = task::Builder::new().name("waiter").spawn(stuck);
        drop(weft::spawn(pending::<()>()));
        waiter.await.unwrap().unwrap();
    })
    .unwrap_err();
    let (main, tasks) = err.tasks().split_first().unwrap();
    assert_eq!(
        main.name.as_deref(),
        Some("main"),
        "the main future is a task too"
    );
    assert_eq!(tasks.len(), 3);
    assert_eq!(tasks[0].name.as_deref(), Some("stuck"));
    assert_eq!(tasks[1].name.as_deref(), Some("waiter"));
    assert!(tasks[0].awaited && tasks[1].awaited && !tasks[2].awaited);
    let text = err.to_string();
    assert!(text.starts_with("deadlock:"), "{text}");
    assert!(
        text.contains("(stuck) spawned at tests/tasks.rs:"),
        "{text}"
    );
}

#[test]
fn a_waker_held_by_a_foreign_primitive_is_never_called_a_deadlock() {
    // weft cannot see into this oneshot, so it must assume the waker may still be used: it
    // keeps waiting, and the timer below proves it was right to.
    weft::run(async {
        let (tx, rx) = oneshot();
        let waiter = weft::spawn(rx);
        weft::spawn(async move {
            sleep(Duration::from_millis(1)).await;
            tx.send(());
        });
        waiter.await.unwrap();
    });
}

#[test]
#[should_panic(expected = "deadlock")]
fn run_panics_with_the_deadlock_report() {
    weft::run(pending::<()>());
}

#[test]
fn no_deadlock_is_reported_while_another_thread_holds_a_waker() {
    let (tx, rx) = std::sync::mpsc::channel::<Waker>();
    let helper = thread::spawn(move || {
        let waker = rx.recv().unwrap();
        waker.wake();
    });
    let mut sent = false;
    weft::run(poll_fn(move |cx| {
        if sent {
            return Poll::Ready(());
        }
        sent = true;
        tx.send(cx.waker().clone()).unwrap();
        Poll::Pending
    }));
    helper.join().unwrap();
}

#[test]
#[should_panic(expected = "inside a running one")]
fn nested_run_panics_with_advice() {
    weft::run(async { weft::run(async {}) });
}

#[test]
#[should_panic(expected = "must be called from inside a weft runtime")]
fn spawn_outside_a_runtime_panics_with_advice() {
    drop(weft::spawn(async {}));
}

#[test]
fn many_tasks_at_once() {
    let done = Rc::new(Cell::new(0));
    weft::run({
        let done = done.clone();
        async move {
            let handles: Vec<_> = (0..10_000)
                .map(|_| {
                    let done = done.clone();
                    weft::spawn(async move {
                        yield_now().await;
                        done.set(done.get() + 1);
                    })
                })
                .collect();
            for h in handles {
                h.await.unwrap();
            }
        }
    });
    assert_eq!(done.get(), 10_000);
}

#[test]
fn panics_in_a_futures_destructor_are_contained() {
    struct PanicOnDrop;
    impl Drop for PanicOnDrop {
        fn drop(&mut self) {
            panic!("drop boom");
        }
    }
    weft::run(async {
        let handle = weft::spawn(async {
            let _guard = PanicOnDrop;
            pending::<()>().await;
        });
        yield_now().await;
        handle.abort();
        assert!(handle.await.unwrap_err().is_panic());
    });
}

#[test]
fn wakes_from_many_threads_at_once_schedule_each_task() {
    let woken = Arc::new(AtomicUsize::new(0));
    weft::run(async {
        let handles: Vec<_> = (0..16)
            .map(|_| {
                let woken = woken.clone();
                let mut started = false;
                weft::spawn(poll_fn(move |cx| {
                    if started {
                        return Poll::Ready(());
                    }
                    started = true;
                    let (waker, woken) = (cx.waker().clone(), woken.clone());
                    thread::spawn(move || {
                        woken.fetch_add(1, Ordering::SeqCst);
                        for _ in 0..100 {
                            waker.wake_by_ref();
                        }
                    });
                    Poll::Pending
                }))
            })
            .collect();
        for h in handles {
            h.await.unwrap();
        }
    });
    assert_eq!(woken.load(Ordering::SeqCst), 16);
}

// A minimal single-threaded oneshot for these tests, independent of weft's own channels.
struct Slot {
    sent: bool,
    waker: Option<Waker>,
}
struct Sender(Rc<RefCell<Slot>>);
struct Receiver(Rc<RefCell<Slot>>);

fn oneshot() -> (Sender, Receiver) {
    let slot = Rc::new(RefCell::new(Slot {
        sent: false,
        waker: None,
    }));
    (Sender(slot.clone()), Receiver(slot))
}

impl Sender {
    fn send(self, (): ()) {
        let mut slot = self.0.borrow_mut();
        slot.sent = true;
        if let Some(w) = slot.waker.take() {
            w.wake();
        }
    }
}

impl Future for Receiver {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut slot = self.0.borrow_mut();
        if slot.sent {
            Poll::Ready(())
        } else {
            slot.waker = Some(cx.waker().clone());
            Poll::Pending
        }
    }
}

#[test]
fn shutdown_lets_tasks_finish_within_the_grace_period() {
    let rt = weft::runtime::Builder::new()
        .start_paused(true)
        .build()
        .unwrap();
    let finished = Rc::new(Cell::new(0));
    for seconds in [1, 2, 3] {
        let finished = finished.clone();
        rt.spawn(async move {
            sleep(Duration::from_secs(seconds)).await;
            // A cleanup step may spawn: it counts too.
            weft::spawn(async move { finished.set(finished.get() + 1) });
        });
    }
    let report = rt.shutdown(Duration::from_secs(5));
    assert!(report.all_finished(), "{report}");
    assert_eq!(finished.get(), 3);
    assert_eq!(
        report.to_string(),
        "shutdown: every task finished within 5s"
    );
}

#[test]
fn shutdown_reports_the_tasks_left_and_what_each_waited_on_then_drops_them() {
    let real = std::time::Instant::now();
    let rt = weft::runtime::Builder::new()
        .start_paused(true)
        .build()
        .unwrap();
    let drops = Rc::new(Cell::new(0));
    let never = weft::sync::Event::new();
    let probe = DropProbe::new(&drops);
    rt.spawn(async {
        sleep(Duration::from_secs(1)).await;
    });
    rt.spawn({
        let never = never.clone();
        async move {
            task::Builder::new()
                .name("waits-forever")
                .spawn(async move {
                    let _probe = probe;
                    never.wait().await;
                });
        }
    });
    let report = rt.shutdown(Duration::from_secs(3600));
    // An hour of grace on the paused clock: it jumped, no real hour passed.
    assert!(real.elapsed() < Duration::from_secs(10));
    assert!(!report.all_finished());
    assert_eq!(report.unfinished.tasks.len(), 1, "{report}");
    assert_eq!(drops.get(), 1, "the task left was dropped");
    let text = report.to_string();
    assert!(
        text.starts_with(
            "shutdown: 1 task did not finish within 3600s and was dropped; each was waiting on:\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("task #") && text.contains("(waits-forever)"),
        "{text}"
    );
    assert!(text.contains("waits on Event#"), "{text}");
}
