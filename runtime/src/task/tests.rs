//! Unit tests of the task cell: every path through the cell (`raw/`) that allocates, frees, moves an
//! output or counts a reference. CI runs them under valgrind memcheck.

use std::cell::Cell;
use std::future::{Future, pending, poll_fn};
use std::rc::Rc;
use std::sync::mpsc;
use std::task::{Poll, Waker};
use std::thread;

use crate::task::{Builder, spawn, yield_now};
use crate::{Runtime, run};

/// Counts drops, to prove every future and output is dropped exactly once.
struct Probe(Rc<Cell<usize>>);

impl Drop for Probe {
    fn drop(&mut self) {
        self.0.set(self.0.get() + 1);
    }
}

fn counter() -> Rc<Cell<usize>> {
    Rc::new(Cell::new(0))
}

#[test]
fn output_is_moved_out_once() {
    let drops = counter();
    let d = drops.clone();
    let out = run(async move { spawn(async move { Probe(d) }).await.unwrap() });
    assert_eq!(drops.get(), 0);
    drop(out);
    assert_eq!(drops.get(), 1);
}

#[test]
fn output_of_a_detached_task_is_dropped_at_completion() {
    let drops = counter();
    let d = drops.clone();
    run(async move {
        drop(spawn(async move { Probe(d) }));
        yield_now().await;
    });
    assert_eq!(drops.get(), 1);
}

#[test]
fn output_is_dropped_with_a_handle_dropped_after_completion() {
    let drops = counter();
    let d = drops.clone();
    run(async move {
        let handle = spawn(async move { Probe(d) });
        yield_now().await;
        assert!(handle.is_finished());
        drop(handle);
    });
    assert_eq!(drops.get(), 1);
}

#[test]
fn future_is_dropped_once_when_aborted_in_each_state() {
    let drops = counter();
    let d = drops.clone();
    run(async move {
        // Aborted before its first poll.
        let p = Probe(d.clone());
        let h = spawn(async move {
            let _p = p;
        });
        h.abort();
        assert!(h.await.unwrap_err().is_cancelled());
        // Aborted while parked.
        let p = Probe(d.clone());
        let h = spawn(async move {
            let _p = p;
            pending::<()>().await;
        });
        yield_now().await;
        h.abort();
        h.abort();
        assert!(h.await.unwrap_err().is_cancelled());
        // Aborted after finishing: nothing happens.
        let h = spawn(async { 3 });
        yield_now().await;
        h.abort();
        assert_eq!(h.await.unwrap(), 3);
    });
    assert_eq!(drops.get(), 2);
}

#[test]
fn wakers_cloned_and_dropped_everywhere_free_the_cell_once() {
    let (tx, rx) = mpsc::channel::<Waker>();
    let drops = counter();
    let d = drops.clone();
    run(async move {
        let p = Probe(d);
        let mut polls = 0;
        let h = spawn(poll_fn(move |cx| {
            let _keep = &p;
            polls += 1;
            if polls == 3 {
                return Poll::Ready(());
            }
            let w = cx.waker().clone();
            tx.send(w.clone()).unwrap();
            tx.send(w.clone()).unwrap();
            drop(w);
            cx.waker().wake_by_ref();
            Poll::Pending
        }));
        h.await.unwrap();
    });
    assert_eq!(drops.get(), 1);
    let wakers: Vec<Waker> = rx.try_iter().collect();
    assert_eq!(wakers.len(), 4);
    thread::spawn(move || {
        for w in wakers {
            w.wake_by_ref();
            #[allow(clippy::waker_clone_wake)] // on purpose: the clone-then-wake-by-value path
            w.clone().wake();
        }
    })
    .join()
    .unwrap();
}

#[test]
fn a_remote_wake_of_a_live_task_runs_it_on_the_runtime_thread() {
    let runtime_thread = thread::current().id();
    run(async move {
        let mut started = false;
        spawn(poll_fn(move |cx| {
            assert_eq!(thread::current().id(), runtime_thread);
            if started {
                return Poll::Ready(());
            }
            started = true;
            let w = cx.waker().clone();
            thread::spawn(move || w.wake());
            Poll::Pending
        }))
        .await
        .unwrap();
    });
}

#[test]
fn a_panic_is_stored_and_the_future_dropped() {
    let drops = counter();
    let d = drops.clone();
    run(async move {
        let p = Probe(d);
        let h = Builder::new().name("crasher").spawn(async move {
            let _p = p;
            panic!("expected in this test");
        });
        let err = h.await.unwrap_err();
        assert!(err.is_panic());
    });
    assert_eq!(drops.get(), 1);
}

#[test]
fn an_unobserved_panic_frees_everything() {
    run(async {
        drop(spawn(async { panic!("expected in this test") }));
        let h = spawn(async { panic!("expected in this test") });
        yield_now().await;
        drop(h);
    });
}

#[test]
fn shutdown_frees_parked_tasks_and_keeps_handles_valid() {
    let drops = counter();
    let rt = Runtime::new().unwrap();
    let handles: Vec<_> = (0..10)
        .map(|_| {
            let p = Probe(drops.clone());
            rt.spawn(async move {
                let _p = p;
                pending::<()>().await;
            })
        })
        .collect();
    rt.block_on(yield_now());
    drop(rt);
    assert_eq!(drops.get(), 10);
    for h in handles {
        assert!(h.is_finished());
    }
}

#[test]
fn the_joiner_waker_is_replaced_when_another_task_awaits() {
    run(async {
        let target = spawn(async {
            yield_now().await;
            yield_now().await;
            5
        });
        // Poll the handle from main once, then hand it to another task to finish the wait.
        let mut target = Box::pin(target);
        let polled_once = poll_fn(|cx| Poll::Ready(target.as_mut().poll(cx).is_pending())).await;
        assert!(polled_once);
        let relay = spawn(async move { target.await.unwrap() });
        assert_eq!(relay.await.unwrap(), 5);
    });
}

#[test]
fn names_and_panics_kept_beside_the_cell_go_with_the_result() {
    use crate::task::raw::kept_beside;
    run(async {
        // A named task: the handle lends its name, all_tasks sees it while it lives.
        let named = Builder::new().name("worker").spawn(async { 7 });
        assert_eq!(named.name(), Some("worker"));
        assert!(
            crate::task::all_tasks()
                .iter()
                .any(|t| t.name.as_deref() == Some("worker"))
        );
        assert_eq!(kept_beside(), (1, 0));
        assert_eq!((&mut Box::pin(named)).await.unwrap(), 7);
        // A detached named task that completes: its name goes at completion.
        drop(Builder::new().name("detached").spawn(async {}));
        yield_now().await;
        // A panic kept for its handle, then taken with the right payload.
        let crash = Builder::new()
            .name("crasher")
            .spawn(async { std::panic::panic_any(41_u32) });
        yield_now().await;
        assert_eq!(kept_beside(), (1, 1));
        let payload = crash.await.unwrap_err().try_into_panic().unwrap();
        assert_eq!(payload.downcast_ref::<u32>(), Some(&41));
        // A panic whose handle is dropped after completion, unread.
        let unread = spawn(async { panic!("expected in this test") });
        yield_now().await;
        assert_eq!(kept_beside(), (0, 1));
        drop(unread);
        assert_eq!(kept_beside(), (0, 0));
    });
    assert_eq!(kept_beside(), (0, 0));
}

#[test]
fn a_joiner_with_a_foreign_waker_is_woken_and_freed() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::{Context, Wake};

    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    run(async {
        // An `Arc` waker (a table tag), then the no-op waker (null data: boxed), then a task
        // waker: each replaces the last, and completion wakes the one left.
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let mut handle = Box::pin(spawn(async {
            yield_now().await;
            3
        }));
        let arc_waker = Waker::from(count.clone());
        assert!(
            handle
                .as_mut()
                .poll(&mut Context::from_waker(&arc_waker))
                .is_pending()
        );
        assert_eq!(Arc::strong_count(&count), 3, "the slot holds a clone");
        assert!(
            handle
                .as_mut()
                .poll(&mut Context::from_waker(Waker::noop()))
                .is_pending()
        );
        assert_eq!(
            Arc::strong_count(&count),
            2,
            "the replaced waker was dropped"
        );
        assert_eq!(handle.await.unwrap(), 3);
        assert_eq!(
            count.0.load(Ordering::SeqCst),
            0,
            "only the last waker is woken"
        );
        // A handle dropped while a boxed waker waits in its slot.
        let parked = spawn(pending::<()>());
        let mut parked = Box::pin(parked);
        assert!(
            parked
                .as_mut()
                .poll(&mut Context::from_waker(Waker::noop()))
                .is_pending()
        );
        drop(parked);
    });
}

#[test]
fn an_output_that_panics_when_dropped_is_contained() {
    struct Bomb;
    impl Drop for Bomb {
        fn drop(&mut self) {
            panic!("expected in this test");
        }
    }
    run(async {
        drop(spawn(async { Bomb }));
        yield_now().await;
        let kept = spawn(async { Bomb });
        yield_now().await;
        drop(kept);
    });
}
