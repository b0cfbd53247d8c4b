//! Property tests: queues, channels and semaphores under random interleavings of operations,
//! including waiting operations that are cancelled at random points, against a sequential
//! model (FIFO order, nothing lost, nothing duplicated, nobody left waiting while work is there).

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

use proptest::prelude::*;
use test_support::poll_once;
use weft::channel::mpsc;
use weft::queue::{LifoQueue, PriorityQueue, Queue};
use weft::sync::{Permit, Semaphore};

#[derive(Debug, Clone)]
enum Op {
    TryPut,
    TryGet,
    StartPut,
    StartGet,
    PollPut(usize),
    PollGet(usize),
    CancelPut(usize),
    CancelGet(usize),
}

fn ops() -> impl Strategy<Value = Vec<Op>> {
    prop::collection::vec(
        prop_oneof![
            Just(Op::TryPut),
            Just(Op::TryGet),
            Just(Op::StartPut),
            Just(Op::StartGet),
            (0..4usize).prop_map(Op::PollPut),
            (0..4usize).prop_map(Op::PollGet),
            (0..4usize).prop_map(Op::CancelPut),
            (0..4usize).prop_map(Op::CancelGet),
        ],
        0..60,
    )
}

type Pending<T> = Vec<Pin<Box<dyn Future<Output = T>>>>;
/// A send in progress: completes with its value if it was sent.
type PendingSend = Pin<Box<dyn Future<Output = Option<u32>>>>;
/// A pending `acquire_many` and how many permits it asked for.
type WaitingAcquire<'a> = (Pin<Box<dyn Future<Output = Permit> + 'a>>, usize);

/// Removes and returns the futures of `pending` that complete when polled now.
fn poll_all<T>(pending: &mut Pending<T>) -> Vec<T> {
    let mut done = Vec::new();
    pending.retain_mut(|f| match poll_once(f.as_mut()) {
        Poll::Ready(v) => {
            done.push(v);
            false
        }
        Poll::Pending => true,
    });
    done
}

/// Runs random operations on a queue-like pair of `put`/`get` functions and returns the values
/// accepted (in acceptance order) and received (in receipt order), after checking liveness and
/// draining what is left.
macro_rules! exercise_queue {
    ($q:expr, $maxsize:expr, $ops:expr) => {{
        let q = $q;
        let mut next = 0u32;
        let (mut accepted, mut received) = (Vec::new(), Vec::new());
        let mut puts: Pending<Option<u32>> = Vec::new();
        let mut gets: Pending<u32> = Vec::new();
        for op in $ops {
            match op {
                Op::TryPut => {
                    next += 1;
                    if q.try_put(next).is_ok() {
                        accepted.push(next);
                    }
                }
                Op::TryGet => received.extend(q.try_get().ok()),
                Op::StartPut => {
                    next += 1;
                    let (q, v) = (q.clone(), next);
                    let mut f: Pin<Box<dyn Future<Output = Option<u32>>>> =
                        Box::pin(async move { q.put(v).await.ok().map(|()| v) });
                    match poll_once(f.as_mut()) {
                        Poll::Ready(v) => accepted.extend(v),
                        Poll::Pending => puts.push(f),
                    }
                }
                Op::StartGet => {
                    let q = q.clone();
                    let mut f: Pin<Box<dyn Future<Output = u32>>> =
                        Box::pin(async move { q.get().await.unwrap() });
                    match poll_once(f.as_mut()) {
                        Poll::Ready(v) => received.push(v),
                        Poll::Pending => gets.push(f),
                    }
                }
                Op::PollPut(i) if i < puts.len() => {
                    if let Poll::Ready(v) = poll_once(puts[i].as_mut()) {
                        accepted.extend(v);
                        drop(puts.remove(i));
                    }
                }
                Op::PollGet(i) if i < gets.len() => {
                    if let Poll::Ready(v) = poll_once(gets[i].as_mut()) {
                        received.push(v);
                        drop(gets.remove(i));
                    }
                }
                Op::CancelPut(i) if i < puts.len() => drop(puts.remove(i)),
                Op::CancelGet(i) if i < gets.len() => drop(gets.remove(i)),
                _ => {}
            }
            if $maxsize > 0 {
                prop_assert!(q.len() <= $maxsize);
            }
        }
        let (queued, waiting_getters) = (q.len(), gets.len());
        let got = poll_all(&mut gets);
        prop_assert!(
            got.len() >= queued.min(waiting_getters),
            "getters stuck beside {} items",
            queued
        );
        received.extend(got);
        let room = if $maxsize == 0 {
            usize::MAX
        } else {
            $maxsize - q.len()
        };
        let waiting_putters = puts.len();
        let put = poll_all(&mut puts);
        prop_assert!(
            put.len() >= room.min(waiting_putters),
            "putters stuck beside free slots"
        );
        accepted.extend(put.into_iter().flatten());
        drop((puts, gets));
        while let Ok(v) = q.try_get() {
            received.push(v);
        }
        (accepted, received)
    }};
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn queue_keeps_fifo_order_and_loses_nothing(maxsize in 0usize..4, ops in ops()) {
        let (accepted, received) = exercise_queue!(Queue::<u32>::new(maxsize), maxsize, ops);
        prop_assert_eq!(received, accepted);
    }

    #[test]
    fn bounded_channel_keeps_order_and_loses_nothing(capacity in 1usize..4, ops in ops()) {
        let (tx, mut rx) = mpsc::channel::<u32>(capacity);
        let tx = std::rc::Rc::new(tx);
        let mut next = 0u32;
        let (mut accepted, mut received) = (Vec::new(), Vec::new());
        let mut sends: Pending<Option<u32>> = Vec::new();
        for op in ops {
            match op {
                Op::TryPut => {
                    next += 1;
                    if tx.try_send(next).is_ok() {
                        accepted.push(next);
                    }
                }
                Op::TryGet | Op::StartGet | Op::PollGet(_) | Op::CancelGet(_) => received.extend(rx.try_recv().ok()),
                Op::StartPut => {
                    next += 1;
                    let (tx, v) = (tx.clone(), next);
                    let mut f: Pin<Box<dyn Future<Output = Option<u32>>>> =
                        Box::pin(async move { tx.send(v).await.ok().map(|()| v) });
                    match poll_once(f.as_mut()) {
                        Poll::Ready(v) => accepted.extend(v),
                        Poll::Pending => sends.push(f),
                    }
                }
                Op::PollPut(i) if i < sends.len() => {
                    if let Poll::Ready(v) = poll_once(sends[i].as_mut()) {
                        accepted.extend(v);
                        drop(sends.remove(i));
                    }
                }
                Op::CancelPut(i) if i < sends.len() => drop(sends.remove(i)),
                _ => {}
            }
            prop_assert!(rx.len() <= capacity);
        }
        let (room, waiting_senders) = (capacity - rx.len(), sends.len());
        let sent = poll_all(&mut sends);
        prop_assert!(sent.len() >= room.min(waiting_senders), "senders stuck beside {} free slots", room);
        accepted.extend(sent.into_iter().flatten());
        drop(sends);
        while let Ok(v) = rx.try_recv() {
            received.push(v);
        }
        prop_assert_eq!(received, accepted);
    }

    #[test]
    fn semaphore_conserves_permits_and_serves_in_order(
        initial in 0usize..5,
        ops in prop::collection::vec((0u8..4, 1usize..4), 0..60),
    ) {
        let sem = Semaphore::new(initial);
        let mut held: Vec<Permit> = Vec::new();
        let mut waiting: Vec<WaitingAcquire> = Vec::new();
        for (kind, n) in ops {
            match kind {
                0 => {
                    let mut f: Pin<Box<dyn Future<Output = Permit> + '_>> = Box::pin(sem.acquire_many(n));
                    match poll_once(f.as_mut()) {
                        Poll::Ready(p) => held.push(p),
                        Poll::Pending => waiting.push((f, n)),
                    }
                }
                1 if !held.is_empty() => drop(held.remove(n % held.len())),
                2 if !waiting.is_empty() => drop(waiting.remove(n % waiting.len())),
                _ => {
                    for p in poll_all_permits(&mut waiting) {
                        held.push(p);
                    }
                }
            }
            let in_hand: usize = held.iter().map(Permit::count).sum();
            prop_assert!(in_hand + sem.available_permits() <= initial);
        }
        // First come, first served: with the front request satisfiable, polling must grant it.
        if let Some((_, need)) = waiting.first() {
            let need = *need;
            let before = sem.available_permits();
            let granted = poll_all_permits(&mut waiting);
            if need <= before {
                prop_assert!(!granted.is_empty());
            }
            held.extend(granted);
        }
        drop(waiting);
        drop(held);
        prop_assert_eq!(sem.available_permits(), initial);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn lifo_and_priority_queues_lose_and_duplicate_nothing(maxsize in 0usize..4, ops in ops()) {
        let (mut accepted, mut received) = exercise_queue!(LifoQueue::<u32>::new(maxsize), maxsize, ops.clone());
        accepted.sort_unstable();
        received.sort_unstable();
        prop_assert_eq!(accepted, received);
        let (mut accepted, mut received) = exercise_queue!(PriorityQueue::<u32>::new(maxsize), maxsize, ops);
        accepted.sort_unstable();
        received.sort_unstable();
        prop_assert_eq!(accepted, received);
    }

    #[test]
    fn rendezvous_and_unbounded_channels_keep_order_and_lose_nothing(ops in ops()) {
        // Capacity 0: a send completes only once its value is taken, so every completed send
        // was received; a send cancelled before its value was taken delivers nothing, and one
        // cancelled just after may have delivered (it was received, it just never saw that).
        // Unbounded: sends never wait.
        let (tx, mut rx) = mpsc::channel::<u32>(0);
        let tx = std::rc::Rc::new(tx);
        let (utx, mut urx) = mpsc::unbounded::<u32>();
        let mut next = 0u32;
        let (mut completed, mut cancelled, mut received) = (Vec::new(), Vec::new(), Vec::new());
        let (mut u_sent, mut u_received) = (Vec::new(), Vec::new());
        let mut sends: Vec<(u32, PendingSend)> = Vec::new();
        for op in ops {
            next += 1;
            match op {
                Op::TryPut => {
                    if tx.try_send(next).is_ok() {
                        completed.push(next);
                    }
                    utx.send(next).unwrap();
                    u_sent.push(next);
                }
                Op::StartPut => {
                    let (tx, v) = (tx.clone(), next);
                    let mut f: Pin<Box<dyn Future<Output = Option<u32>>>> =
                        Box::pin(async move { tx.send(v).await.ok().map(|()| v) });
                    prop_assert!(poll_once(f.as_mut()).is_pending(), "a rendezvous send completed with nobody receiving");
                    sends.push((next, f));
                }
                Op::PollPut(i) | Op::CancelGet(i) if i < sends.len() => {
                    if let Poll::Ready(v) = poll_once(sends[i].1.as_mut()) {
                        completed.extend(v);
                        drop(sends.remove(i));
                    }
                }
                Op::CancelPut(i) if i < sends.len() => cancelled.push(sends.remove(i).0),
                _ => {
                    received.extend(rx.try_recv().ok());
                    u_received.extend(urx.try_recv().ok());
                }
            }
        }
        for (_, mut f) in sends {
            if let Poll::Ready(v) = poll_once(f.as_mut()) {
                completed.extend(v);
            }
        }
        prop_assert_eq!(rx.try_recv().ok(), None, "a cancelled rendezvous value was left behind");
        prop_assert!(received.windows(2).all(|w| w[0] < w[1]), "received out of order: {:?}", received);
        for v in &completed {
            prop_assert!(received.contains(v), "send of {} completed but nothing received it", v);
        }
        for v in &received {
            prop_assert!(completed.contains(v) || cancelled.contains(v), "{} received from nowhere", v);
        }
        while let Ok(v) = urx.try_recv() {
            u_received.push(v);
        }
        prop_assert_eq!(u_received, u_sent);
    }
}

fn poll_all_permits<'a>(waiting: &mut Vec<WaitingAcquire<'a>>) -> Vec<Permit> {
    let mut granted = Vec::new();
    waiting.retain_mut(|(f, _)| match poll_once(f.as_mut()) {
        Poll::Ready(p) => {
            granted.push(p);
            false
        }
        Poll::Pending => true,
    });
    granted
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    /// The shutdown contract (asyncio 3.13, non-immediate): every item put before the
    /// shutdown is taken exactly once, whether by a getter that was already
    /// handed it, by a waiting getter, or by a later `try_get`; every waiting getter ends
    /// (with an item or `ShutDownError`); nothing is lost to a cancelled getter.
    #[test]
    fn queue_shutdown_hands_out_every_item_once_and_ends_every_getter(ops in ops()) {
        let q = Queue::<u32>::new(0);
        let mut next = 0u32;
        let mut gets: Vec<Pin<Box<dyn Future<Output = Option<u32>>>>> = Vec::new();
        let mut received = Vec::new();
        for op in ops {
            match op {
                Op::TryPut | Op::StartPut => {
                    q.try_put(next).unwrap();
                    next += 1;
                }
                Op::TryGet => received.extend(q.try_get().ok()),
                Op::StartGet => {
                    let q = q.clone();
                    let mut f: Pin<Box<dyn Future<Output = Option<u32>>>> =
                        Box::pin(async move { q.get().await.ok() });
                    match poll_once(f.as_mut()) {
                        Poll::Ready(v) => received.extend(v),
                        Poll::Pending => gets.push(f),
                    }
                }
                Op::PollGet(i) | Op::PollPut(i) if i < gets.len() => {
                    if let Poll::Ready(v) = poll_once(gets[i].as_mut()) {
                        received.extend(v);
                        drop(gets.remove(i));
                    }
                }
                Op::CancelGet(i) | Op::CancelPut(i) if i < gets.len() => drop(gets.remove(i)),
                _ => {}
            }
        }
        q.shutdown(false);
        for mut get in gets {
            match poll_once(get.as_mut()) {
                Poll::Ready(v) => received.extend(v),
                Poll::Pending => prop_assert!(false, "a getter still waits after shutdown"),
            }
        }
        while let Ok(v) = q.try_get() {
            received.push(v);
        }
        received.sort_unstable(); // getters may finish in any order; each item exactly once
        prop_assert_eq!(received, (0..next).collect::<Vec<_>>());
    }
}
