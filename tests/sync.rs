//! weft::sync through the public API: fairness, cancellation, misuse errors.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::task::Poll;
use std::time::Duration;

use test_support::{DropProbe, poll_once};
use weft::sync::{
    Barrier, BoundedSemaphore, BrokenBarrierError, Condition, Event, Mutex, RLock, RwLock,
    Semaphore,
};
use weft::task::yield_now;
use weft::time::timeout;

#[test]
fn mutex_is_handed_over_first_come_first_served() {
    let order = Rc::new(RefCell::new(Vec::new()));
    weft::run({
        let order = order.clone();
        async move {
            let mutex = Mutex::new(());
            let held = mutex.lock().await;
            let waiters: Vec<_> = (0..5)
                .map(|i| {
                    let (mutex, order) = (mutex.clone(), order.clone());
                    weft::spawn(async move {
                        let _guard = mutex.lock().await;
                        order.borrow_mut().push(i);
                        yield_now().await;
                    })
                })
                .collect();
            yield_now().await; // all five are queued now
            assert!(mutex.try_lock().is_none());
            drop(held);
            for w in waiters {
                w.await.unwrap();
            }
        }
    });
    assert_eq!(*order.borrow(), [0, 1, 2, 3, 4]);
}

#[test]
fn a_mutex_waiter_granted_then_dropped_passes_the_lock_on() {
    let mutex = Mutex::new(0);
    let held = mutex.try_lock().unwrap();
    let mut first = Box::pin(mutex.lock());
    let mut second = Box::pin(mutex.lock());
    assert!(poll_once(first.as_mut()).is_pending());
    assert!(poll_once(second.as_mut()).is_pending());
    drop(held); // granted to `first`...
    drop(first); // ...which is cancelled before it runs
    let Poll::Ready(mut guard) = poll_once(second.as_mut()) else {
        panic!("the lock was lost")
    };
    *guard += 1;
    drop(guard);
    assert!(!mutex.is_locked());
}

#[weft::test(paused)]
async fn a_timed_out_lock_attempt_leaves_the_mutex_usable() {
    let mutex = Mutex::new(());
    let held = mutex.lock().await;
    assert!(
        timeout(Duration::from_millis(1), mutex.lock())
            .await
            .is_err()
    );
    drop(held);
    assert!(mutex.try_lock().is_some());
}

#[test]
fn semaphore_serves_a_large_request_before_later_small_ones() {
    let sem = Semaphore::new(0);
    let mut big = Box::pin(sem.acquire_many(3));
    let mut small = Box::pin(sem.acquire());
    assert!(poll_once(big.as_mut()).is_pending());
    assert!(poll_once(small.as_mut()).is_pending());
    sem.release(1);
    assert!(
        poll_once(small.as_mut()).is_pending(),
        "the small request barged ahead"
    );
    sem.release(2);
    let Poll::Ready(permit) = poll_once(big.as_mut()) else {
        panic!("the big request starved")
    };
    assert_eq!(permit.count(), 3);
    drop(permit);
    assert!(poll_once(small.as_mut()).is_ready());
}

#[test]
fn semaphore_permits_granted_to_a_cancelled_waiter_come_back() {
    let sem = Semaphore::new(0);
    let mut waiter = Box::pin(sem.acquire_many(2));
    assert!(poll_once(waiter.as_mut()).is_pending());
    sem.release(2);
    assert_eq!(sem.available_permits(), 0, "granted to the waiter");
    drop(waiter);
    assert_eq!(sem.available_permits(), 2);
}

#[test]
fn bounded_semaphore_refuses_over_release() {
    let sem = BoundedSemaphore::new(2);
    assert!(sem.release(1).is_err());
    let p = sem.try_acquire_many(2).unwrap();
    p.forget();
    assert!(sem.release(3).is_err(), "3 would exceed the bound of 2");
    assert_eq!(
        sem.available_permits(),
        0,
        "a refused release changes nothing"
    );
    assert!(sem.release(1).is_ok());
    assert!(sem.release(1).is_ok());
    let err = sem.release(1).unwrap_err();
    assert!(err.to_string().contains("released too many times"));
    assert_eq!(sem.available_permits(), 2);
}

#[test]
fn event_wakes_every_waiter_even_if_cleared_before_they_run() {
    weft::run(async {
        let event = Event::new();
        let waiters: Vec<_> = (0..3)
            .map(|_| {
                let event = event.clone();
                weft::spawn(async move { event.wait().await })
            })
            .collect();
        yield_now().await;
        event.set();
        event.clear();
        for w in waiters {
            w.await.unwrap();
        }
        assert!(!event.is_set());
        event.set();
        event.wait().await; // returns at once while set
    });
}

#[test]
fn condition_notify_wakes_that_many_and_a_cancelled_notified_waiter_passes_it_on() {
    let cond = Condition::new(0);
    let mut a = Box::pin(cond.try_lock().unwrap().wait());
    assert!(poll_once(a.as_mut()).is_pending()); // waiting, and the lock released
    let mut b = Box::pin(cond.try_lock().unwrap().wait());
    assert!(poll_once(b.as_mut()).is_pending());
    cond.notify(1); // goes to `a`
    drop(a); // cancelled before it ran: `b` gets the notification
    assert!(poll_once(b.as_mut()).is_ready());
}

#[weft::test(paused)]
async fn condition_wait_timeout_reports_whether_it_was_notified() {
    let cond = Condition::new(false);
    let (guard, notified) = cond
        .lock()
        .await
        .wait_timeout(Duration::from_millis(1))
        .await;
    assert!(!notified);
    assert!(!*guard);
}

#[weft::test(paused)]
async fn condition_wait_for_timeout_returns_the_predicates_last_value() {
    let cond = Condition::new(0u32);
    // Nobody changes the value: the predicate still fails when the time is up.
    let (guard, held) = cond
        .lock()
        .await
        .wait_for_timeout(|n| *n > 0, Duration::from_millis(1))
        .await;
    assert!(!held);
    drop(guard);
    // A producer makes it true before the limit.
    let producer = weft::spawn({
        let cond = cond.clone();
        async move {
            let mut n = cond.lock().await;
            *n = 7;
            n.notify_all();
        }
    });
    let (guard, held) = cond
        .lock()
        .await
        .wait_for_timeout(|n| *n > 0, Duration::from_secs(60))
        .await;
    assert!(held);
    assert_eq!(*guard, 7);
    drop(guard);
    producer.await.unwrap();
}

#[test]
fn a_condition_shares_a_lock_it_was_given_with_the_code_that_uses_it() {
    weft::run(async {
        let lock = Mutex::new(Vec::new());
        let cond = Condition::with_lock(lock.clone());
        assert!(cond.mutex().same_as(&lock));
        let waiter = weft::spawn({
            let cond = cond.clone();
            async move { cond.lock().await.wait_for(|v| !v.is_empty()).await.len() }
        });
        yield_now().await;
        lock.lock().await.push(1); // changed through the plain mutex...
        cond.notify_all(); // ...and announced through the condition
        assert_eq!(waiter.await.unwrap(), 1);
    });
}

#[test]
fn barrier_gives_distinct_indices_and_runs_its_action_once_per_round() {
    weft::run(async {
        let rounds = Rc::new(RefCell::new(0));
        let barrier = Barrier::with_action(3, {
            let rounds = rounds.clone();
            move || *rounds.borrow_mut() += 1
        });
        for _ in 0..2 {
            let parties: Vec<_> = (0..3)
                .map(|_| {
                    let b = barrier.clone();
                    weft::spawn(async move { b.wait().await.unwrap() })
                })
                .collect();
            let mut indices = Vec::new();
            for p in parties {
                indices.push(p.await.unwrap());
            }
            indices.sort();
            assert_eq!(indices, [0, 1, 2]);
        }
        assert_eq!(*rounds.borrow(), 2);
    });
}

#[test]
fn barrier_abort_breaks_waiters_until_reset() {
    weft::run(async {
        let barrier = Barrier::new(3);
        let waiter = weft::spawn({
            let b = barrier.clone();
            async move { b.wait().await }
        });
        yield_now().await;
        assert_eq!(barrier.n_waiting(), 1);
        barrier.abort();
        assert_eq!(waiter.await.unwrap(), Err(BrokenBarrierError));
        assert!(barrier.is_broken());
        assert_eq!(barrier.wait().await, Err(BrokenBarrierError));
        barrier.reset();
        assert!(!barrier.is_broken());
        let parties: Vec<_> = (0..3)
            .map(|_| {
                let b = barrier.clone();
                weft::spawn(async move { b.wait().await.is_ok() })
            })
            .collect();
        for p in parties {
            assert!(p.await.unwrap());
        }
    });
}

#[weft::test(paused)]
async fn a_cancelled_barrier_waiter_breaks_the_barrier() {
    let barrier = Barrier::new(2);
    assert!(
        timeout(Duration::from_millis(1), barrier.wait())
            .await
            .is_err()
    );
    assert!(barrier.is_broken());
}

#[test]
fn rlock_is_reentrant_for_its_owner_and_released_by_its_guards() {
    weft::run(async {
        let lock = RLock::new();
        let outer = lock.acquire().await;
        let inner = lock.acquire().await;
        assert!(lock.is_owned());
        let other = weft::spawn({
            let lock = lock.clone();
            async move {
                let locked_out = lock.try_acquire().is_none();
                let held = lock.acquire().await; // waits for main to drop both guards
                let owned = lock.is_owned();
                drop(held);
                (locked_out, owned)
            }
        });
        yield_now().await;
        drop(inner);
        yield_now().await;
        assert!(
            !other.is_finished(),
            "dropping one guard must not free a twice-acquired lock"
        );
        assert!(lock.is_locked() && lock.is_owned());
        drop(outer);
        let (locked_out, owned) = other.await.unwrap();
        assert!(locked_out, "another task cannot take a held lock");
        assert!(owned, "the lock was handed to the waiting task");
        assert!(!lock.is_locked());
    });
}

#[test]
fn rwlock_readers_share_and_a_waiting_writer_is_not_starved() {
    let lock = RwLock::new(1);
    let r1 = lock.try_read().unwrap();
    let r2 = lock.try_read().unwrap();
    let mut writer = Box::pin(lock.write());
    assert!(poll_once(writer.as_mut()).is_pending());
    assert!(
        lock.try_read().is_none(),
        "a new reader must queue behind the writer"
    );
    drop((r1, r2));
    let Poll::Ready(mut w) = poll_once(writer.as_mut()) else {
        panic!("writer starved")
    };
    *w = 2;
    drop(w);
    assert_eq!(*lock.try_read().unwrap(), 2);
}

#[test]
fn runtime_shutdown_drops_tasks_waiting_on_primitives_once_each_on_its_thread() {
    let drops = Rc::new(Cell::new(0));
    weft::run({
        let drops = drops.clone();
        async move {
            let mutex = Mutex::new(());
            let held = mutex.lock().await;
            let event = Event::new();
            let sem = Semaphore::new(0);
            for _ in 0..3 {
                let (m, e, s) = (mutex.clone(), event.clone(), sem.clone());
                let probe = DropProbe::new(&drops);
                drop(weft::spawn(async move {
                    let _probe = probe;
                    let _g = m.lock().await;
                    e.wait().await;
                    s.acquire().await.forget();
                }));
            }
            yield_now().await;
            assert_eq!(drops.get(), 0, "the tasks are parked, not dropped");
            std::mem::forget(held); // the tasks stay parked: shutdown must drop them cleanly
        }
    });
    // Each probe checks that it was dropped on the runtime's thread.
    assert_eq!(
        drops.get(),
        3,
        "shutdown drops every parked task exactly once"
    );
}

#[test]
fn waiting_on_an_event_nobody_can_set_is_reported_as_a_deadlock() {
    let report = weft::try_run(async {
        let never = Event::new();
        let waiter = weft::task::Builder::new().name("waiter").spawn({
            let never = never.clone();
            async move { never.wait().await }
        });
        waiter.await.unwrap();
    })
    .unwrap_err();
    let names: Vec<_> = report.tasks().iter().map(|t| t.name.as_deref()).collect();
    assert_eq!(names, [Some("main"), Some("waiter")]);
}

#[test]
fn a_queue_join_that_can_never_finish_is_reported_not_hung() {
    // An item was taken but never marked done: Python's join() would hang forever.
    let report = weft::try_run(async {
        let q = weft::queue::Queue::new(0);
        q.try_put(1).unwrap();
        q.try_get().unwrap();
        q.join().await;
    });
    assert!(report.is_err());
}

#[weft::test(paused)]
async fn a_primitive_that_another_task_will_signal_is_not_a_deadlock() {
    let event = Event::new();
    let (tx, rx) = weft::channel::oneshot::channel();
    weft::spawn({
        let event = event.clone();
        async move {
            event.wait().await;
            tx.send("relayed").unwrap();
        }
    });
    weft::spawn({
        let event = event.clone();
        async move {
            weft::time::sleep(Duration::from_millis(1)).await;
            event.set();
        }
    });
    assert_eq!(rx.await, Ok("relayed"));
}

#[test]
fn a_stale_waker_left_by_a_finished_task_does_not_fake_a_deadlock() {
    use std::future::{Future, poll_fn};
    use std::pin::Pin;
    use std::task::Waker;
    // The helper holds the main future's waker while the runtime parks. The pause only opens
    // the window in which the runtime looks for a deadlock; the test's outcome does not depend
    // on how the two threads interleave.
    let (tx, rx) = std::sync::mpsc::channel::<Waker>();
    let helper = std::thread::spawn(move || {
        let waker = rx.recv().unwrap();
        std::thread::sleep(Duration::from_millis(20));
        waker.wake();
    });
    weft::run(async move {
        let (_sender, receiver) = weft::channel::oneshot::channel::<()>();
        let receiver = Rc::new(RefCell::new(receiver));
        // A task leaves its waker in the channel and finishes: that waker can wake nothing.
        weft::spawn({
            let receiver = receiver.clone();
            async move {
                let _ =
                    poll_fn(|cx| Poll::Ready(Pin::new(&mut *receiver.borrow_mut()).poll(cx))).await;
            }
        })
        .await
        .unwrap();
        let mut sent = false;
        poll_fn(move |cx| {
            if sent {
                return Poll::Ready(());
            }
            sent = true;
            tx.send(cx.waker().clone()).unwrap();
            Poll::Pending
        })
        .await;
    });
    helper.join().unwrap();
}

#[test]
fn a_barrier_whose_action_panics_is_broken_for_every_party() {
    weft::run(async {
        let barrier = Barrier::with_action(2, || panic!("the action failed"));
        let first = weft::spawn({
            let barrier = barrier.clone();
            async move { barrier.wait().await }
        });
        yield_now().await; // the first party waits
        assert_eq!(barrier.n_waiting(), 1);
        let last = weft::spawn({
            let barrier = barrier.clone();
            async move { barrier.wait().await }
        });
        let last = last.await.unwrap_err();
        assert!(
            last.is_panic(),
            "the action's panic goes on in the last party's task"
        );
        assert_eq!(first.await.unwrap(), Err(BrokenBarrierError));
        assert!(barrier.is_broken());
        assert_eq!(barrier.n_waiting(), 0);
        assert_eq!(barrier.wait().await, Err(BrokenBarrierError));
    });
}

#[test]
fn an_owned_mutex_guard_moves_into_another_task_which_releases_it() {
    weft::run(async {
        let counter = Mutex::new(0);
        let mut held = counter.lock_owned().await;
        *held += 1;
        assert!(counter.is_locked());
        assert!(counter.try_lock().is_none(), "held while the guard lives");
        let waiter = weft::spawn({
            let counter = counter.clone();
            async move { *counter.lock().await }
        });
        let releaser = weft::spawn(async move {
            weft::task::yield_now().await;
            *held += 1; // still exclusive: the waiter has not run past its lock
        });
        releaser.await.unwrap();
        assert_eq!(waiter.await.unwrap(), 2, "the waiter saw both increments");
        assert!(!counter.is_locked());
        let again = counter.try_lock_owned().expect("free again");
        assert_eq!(*again, 2);
        drop(again);
        assert_eq!(counter.into_inner().ok(), Some(2), "the value went back");
    });
}

#[test]
fn a_cancelled_lock_owned_passes_the_lock_on() {
    weft::run(async {
        let lock = Mutex::new(());
        let first = lock.lock().await;
        let mut cancelled = Box::pin(lock.lock_owned());
        assert!(test_support::poll_once(cancelled.as_mut()).is_pending());
        let next = weft::spawn({
            let lock = lock.clone();
            async move { drop(lock.lock().await) }
        });
        weft::task::yield_now().await; // `next` queues behind the cancelled waiter
        drop(first); // hands the lock to the cancelled waiter...
        drop(cancelled); // ...which passes it on
        next.await.unwrap();
        assert!(!lock.is_locked());
    });
}

#[test]
fn an_owned_rlock_guard_is_released_by_the_task_it_moved_to() {
    weft::run(async {
        let lock = RLock::new();
        let outer = lock.acquire_owned().await;
        let inner = lock.acquire().await; // re-entrant: still the main task's lock
        drop(inner);
        assert!(lock.is_owned());
        weft::spawn(async move { drop(outer) }).await.unwrap();
        assert!(!lock.is_locked());
    });
}
