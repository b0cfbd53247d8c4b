//! weft::queue through the public API.

use std::task::Poll;

use test_support::poll_once;
use weft::queue::{
    GetError, LifoQueue, PriorityQueue, PutError, Queue, ShutDownError, TaskDoneError,
};
use weft::task::yield_now;

#[test]
fn the_three_orders() {
    let fifo = Queue::new(0);
    let lifo = LifoQueue::new(0);
    let prio = PriorityQueue::new(0);
    for n in [3, 1, 2] {
        fifo.try_put(n).unwrap();
        lifo.try_put(n).unwrap();
        prio.try_put(n).unwrap();
    }
    let drain =
        |f: &dyn Fn() -> Result<i32, GetError>| (0..3).map(|_| f().unwrap()).collect::<Vec<_>>();
    assert_eq!(drain(&|| fifo.try_get()), [3, 1, 2]);
    assert_eq!(drain(&|| lifo.try_get()), [2, 1, 3]);
    assert_eq!(drain(&|| prio.try_get()), [1, 2, 3]);
    assert_eq!(fifo.try_get(), Err(GetError::Empty));
}

#[test]
fn a_full_queue_makes_put_wait_and_try_put_fail() {
    weft::run(async {
        let q = Queue::new(2);
        q.put(1).await.unwrap();
        q.put(2).await.unwrap();
        assert!(q.is_full());
        assert_eq!(q.try_put(3), Err(PutError::Full(3)));
        let putter = weft::spawn({
            let q = q.clone();
            async move { q.put(3).await }
        });
        yield_now().await;
        assert!(!putter.is_finished());
        assert_eq!(q.get().await, Ok(1));
        putter.await.unwrap().unwrap();
        assert_eq!((q.try_get(), q.try_get()), (Ok(2), Ok(3)));
    });
}

#[test]
fn task_done_and_join() {
    weft::run(async {
        let q = Queue::new(0);
        q.join().await; // nothing unfinished: at once
        q.try_put("a").unwrap();
        q.try_put("b").unwrap();
        let joiner = weft::spawn({
            let q = q.clone();
            async move { q.join().await }
        });
        q.try_get().unwrap();
        q.task_done().unwrap();
        yield_now().await;
        assert!(!joiner.is_finished());
        q.try_get().unwrap();
        q.task_done().unwrap();
        joiner.await.unwrap();
        assert_eq!(q.task_done(), Err(TaskDoneError));
    });
}

#[test]
fn graceful_shutdown_drains_then_fails_and_wakes_putters() {
    weft::run(async {
        let q = Queue::new(1);
        q.try_put(1).unwrap();
        let blocked_putter = weft::spawn({
            let q = q.clone();
            async move { q.put(2).await }
        });
        yield_now().await;
        q.shutdown(false);
        assert_eq!(blocked_putter.await.unwrap(), Err(PutError::ShutDown(2)));
        assert_eq!(q.try_put(3), Err(PutError::ShutDown(3)));
        assert_eq!(q.get().await, Ok(1)); // still drains
        assert_eq!(q.get().await, Err(ShutDownError));
        assert_eq!(q.try_get(), Err(GetError::ShutDown));
    });
}

#[test]
fn immediate_shutdown_drops_items_and_unblocks_join() {
    weft::run(async {
        let q: Queue<u32> = Queue::new(0);
        for n in 1..=3 {
            q.try_put(n).unwrap();
        }
        q.try_get().unwrap();
        q.task_done().unwrap();
        let joiner = weft::spawn({
            let q = q.clone();
            async move { q.join().await }
        });
        yield_now().await;
        assert!(!joiner.is_finished());
        q.shutdown(true);
        assert_eq!(q.len(), 0);
        joiner.await.unwrap(); // the two dropped items no longer count
        assert_eq!(q.unfinished_tasks(), 0);
        assert_eq!(q.get().await, Err(ShutDownError));
    });
}

#[test]
fn immediate_shutdown_fails_waiting_getters() {
    weft::run(async {
        let q: Queue<u32> = Queue::new(0);
        let getter = weft::spawn({
            let q = q.clone();
            async move { q.get().await }
        });
        yield_now().await;
        q.shutdown(true);
        assert_eq!(getter.await.unwrap(), Err(ShutDownError));
    });
}

#[test]
fn a_getter_woken_for_an_item_and_then_cancelled_passes_the_item_on() {
    let q = Queue::new(0);
    let mut first = Box::pin(q.get());
    let mut second = Box::pin(q.get());
    assert!(poll_once(first.as_mut()).is_pending());
    assert!(poll_once(second.as_mut()).is_pending());
    q.try_put("item").unwrap(); // wakes `first`
    assert_eq!(
        q.try_get(),
        Err(GetError::Empty),
        "a newcomer must not take a reserved item"
    );
    drop(first);
    assert_eq!(poll_once(second.as_mut()), Poll::Ready(Ok("item")));
}

#[test]
fn a_putter_woken_for_a_slot_and_then_cancelled_passes_the_slot_on() {
    let q = Queue::new(1);
    q.try_put(0).unwrap();
    let mut first = Box::pin(q.put(1));
    let mut second = Box::pin(q.put(2));
    assert!(poll_once(first.as_mut()).is_pending());
    assert!(poll_once(second.as_mut()).is_pending());
    assert_eq!(q.try_get(), Ok(0)); // frees a slot for `first`
    drop(first);
    assert_eq!(poll_once(second.as_mut()), Poll::Ready(Ok(())));
    assert_eq!(q.try_get(), Ok(2));
}

#[test]
fn a_shutdown_leaves_an_item_to_the_getter_it_was_handed_to() {
    // asyncio 3.13: getters A and B wait; an item arrives and wakes A; then shutdown().
    // First come, first served: A gets the item, B gets ShutDown.
    weft::run(async {
        let q: Queue<&str> = Queue::new(0);
        let getter = |q: Queue<&'static str>| weft::spawn(async move { q.get().await });
        let (a, b) = (getter(q.clone()), getter(q.clone()));
        weft::task::yield_now().await; // both wait on the empty queue
        q.try_put("item").unwrap();
        q.shutdown(false);
        assert_eq!(b.await.unwrap(), Err(ShutDownError));
        assert_eq!(a.await.unwrap(), Ok("item"));
        assert_eq!(q.len(), 0);
    });
}

#[test]
fn a_granted_getter_that_is_cancelled_passes_its_item_to_the_next() {
    weft::run(async {
        let q: Queue<u8> = Queue::new(0);
        let mut first = Box::pin(q.get());
        assert!(test_support::poll_once(first.as_mut()).is_pending());
        let second = weft::spawn({
            let q = q.clone();
            async move { q.get().await }
        });
        weft::task::yield_now().await; // the second getter waits behind the first
        q.try_put(7).unwrap(); // granted to the first
        assert_eq!(
            q.try_get(),
            Err(GetError::Empty),
            "reserved for a waiting getter"
        );
        drop(first); // cancelled: the item goes on
        assert_eq!(second.await.unwrap(), Ok(7));
    });
}
