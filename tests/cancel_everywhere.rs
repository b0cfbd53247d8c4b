//! Cancel everywhere: each waiting operation is cancelled at its N-th poll, for every N from 0
//! until it completes, while other tasks make progress around it; after each run the
//! primitive's invariants are checked: no permit, item or wake-up lost, no waiter left behind,
//! a cancelled read consumes nothing, and a cancelled `read_exact` or `write_all` keeps the
//! stream in order. A failure names the poll count where the bug lives.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use weft::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use weft::net::UnixStream;
use weft::queue::Queue;
use weft::sync::{Condition, Event, Mutex, Semaphore};
use weft::task::{spawn, yield_now};

/// Polls the operation at most `left` times, then drops it: `None` if it was cancelled.
struct CancelAt<F> {
    op: Option<Pin<Box<F>>>,
    left: usize,
}

impl<F: Future> Future for CancelAt<F> {
    type Output = Option<F::Output>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if self.left == 0 {
            self.op = None;
            return Poll::Ready(None);
        }
        self.left -= 1;
        let op = self.op.as_mut().expect("polled after it ended");
        op.as_mut().poll(cx).map(Some)
    }
}

fn cancel_at<F: Future>(polls: usize, op: F) -> CancelAt<F> {
    CancelAt {
        op: Some(Box::pin(op)),
        left: polls,
    }
}

/// Runs `scenario(n)` on a fresh runtime for n = 0, 1, 2... until the operation completes
/// (the scenario returns true); each run checks its own invariants.
fn sweep<Fut: Future<Output = bool> + 'static>(name: &str, scenario: impl Fn(usize) -> Fut) {
    sweep_on(name, weft::runtime::Builder::new, scenario);
}

/// [`sweep`] on a runtime whose clock starts paused (and advances itself when all is idle).
fn sweep_paused<Fut: Future<Output = bool> + 'static>(name: &str, scenario: impl Fn(usize) -> Fut) {
    sweep_on(
        name,
        || weft::runtime::Builder::new().start_paused(true),
        scenario,
    );
}

fn sweep_on<Fut: Future<Output = bool> + 'static>(
    name: &str,
    builder: impl Fn() -> weft::runtime::Builder,
    scenario: impl Fn(usize) -> Fut,
) {
    for polls in 0..100 {
        let runtime = builder().build().unwrap();
        // In a task, not the main future: tasks take turns in one queue, so the scenario's
        // `turns` interleave with its helpers as written.
        match runtime.block_on(runtime.spawn(scenario(polls))) {
            Ok(true) => {
                assert!(
                    polls >= 2,
                    "{name} completed at its first poll: the scenario never made it wait"
                );
                return;
            }
            Ok(false) => {}
            Err(err) => {
                eprintln!("{name}: an invariant broke when cancelled at poll {polls}");
                std::panic::resume_unwind(err.try_into_panic().expect("the scenario panicked"));
            }
        }
    }
    panic!("{name} never completed in 100 polls");
}

/// A task that puts `item` into `queue` once the others have had two turns.
fn put_after_two_turns(queue: &Rc<Queue<i32>>, item: i32) -> weft::JoinHandle<()> {
    let queue = queue.clone();
    spawn(async move {
        turns(2).await;
        queue.try_put(item).unwrap();
    })
}

/// Lets the other tasks run a few turns.
async fn turns(n: usize) {
    for _ in 0..n {
        yield_now().await;
    }
}

#[test]
fn mutex_lock() {
    sweep("Mutex::lock", |polls| async move {
        let mutex = Rc::new(Mutex::new(0));
        let held = Event::new();
        let holder = spawn({
            let (mutex, held) = (mutex.clone(), held.clone());
            async move {
                let mut guard = mutex.lock().await;
                held.set();
                turns(2).await;
                *guard += 1;
            }
        });
        held.wait().await;
        let ours = cancel_at(polls, {
            let mutex = mutex.clone();
            async move { *mutex.lock().await += 10 }
        });
        let behind = {
            let mutex = mutex.clone();
            spawn(async move { *mutex.lock().await += 100 })
        };
        let completed = ours.await.is_some();
        holder.await.unwrap();
        behind.await.unwrap();
        let value = *mutex.try_lock().expect("the lock was left held");
        assert_eq!(value, if completed { 111 } else { 101 });
        completed
    });
}

#[test]
fn semaphore_acquire() {
    sweep("Semaphore::acquire", |polls| async move {
        let semaphore = Semaphore::new(1);
        let held = semaphore.try_acquire().unwrap();
        let releaser = spawn(async move {
            turns(2).await;
            drop(held);
        });
        let ours = cancel_at(polls, {
            let semaphore = semaphore.clone();
            async move { drop(semaphore.acquire().await) }
        });
        let behind = spawn({
            let semaphore = semaphore.clone();
            async move { drop(semaphore.acquire().await) }
        });
        let completed = ours.await.is_some();
        releaser.await.unwrap();
        behind.await.unwrap();
        assert_eq!(semaphore.available_permits(), 1, "a permit was lost");
        completed
    });
}

#[test]
fn queue_get() {
    sweep("Queue::get", |polls| async move {
        let queue = Rc::new(Queue::new(0));
        let putter = put_after_two_turns(&queue, 7);
        let got = cancel_at(polls, {
            let queue = queue.clone();
            async move { queue.get().await.unwrap() }
        })
        .await;
        putter.await.unwrap();
        match got {
            Some(item) => {
                assert_eq!(item, 7);
                assert!(queue.is_empty());
            }
            None => assert_eq!(queue.try_get(), Ok(7), "the item was lost"),
        }
        got.is_some()
    });
}

#[test]
fn queue_put() {
    sweep("Queue::put", |polls| async move {
        let queue = Rc::new(Queue::new(1));
        queue.try_put(1).unwrap();
        let getter = spawn({
            let queue = queue.clone();
            async move {
                turns(2).await;
                queue.get().await.unwrap()
            }
        });
        let put = cancel_at(polls, {
            let queue = queue.clone();
            async move { queue.put(2).await.unwrap() }
        })
        .await;
        assert_eq!(getter.await.unwrap(), 1);
        let rest: Vec<i32> = std::iter::from_fn(|| queue.try_get().ok()).collect();
        assert_eq!(rest, if put.is_some() { vec![2] } else { vec![] });
        put.is_some()
    });
}

#[test]
fn mpsc_send_and_recv() {
    sweep("mpsc send", |polls| async move {
        let (tx, mut rx) = weft::channel::mpsc::channel(1);
        tx.try_send(1).unwrap();
        let receiver = spawn(async move {
            turns(2).await;
            let first = rx.recv().await;
            (first, rx)
        });
        let sent = cancel_at(polls, async { tx.send(2).await.unwrap() }).await;
        let (first, mut rx) = receiver.await.unwrap();
        assert_eq!(first, Some(1));
        drop(tx);
        let mut rest = Vec::new();
        while let Some(item) = rx.recv().await {
            rest.push(item);
        }
        assert_eq!(rest, if sent.is_some() { vec![2] } else { vec![] });
        sent.is_some()
    });
    sweep("mpsc recv", |polls| async move {
        let (tx, mut rx) = weft::channel::mpsc::channel(4);
        let sender = spawn(async move {
            turns(2).await;
            tx.send(5).await.unwrap();
        });
        let got = cancel_at(polls, rx.recv()).await;
        sender.await.unwrap();
        match got {
            Some(item) => assert_eq!(item, Some(5)),
            None => assert_eq!(rx.try_recv().ok(), Some(5), "the item was lost"),
        }
        got.is_some()
    });
}

#[test]
fn event_wait() {
    sweep("Event::wait", |polls| async move {
        let event = Event::new();
        let woken = Rc::new(Cell::new(0));
        let other = spawn({
            let (event, woken) = (event.clone(), woken.clone());
            async move {
                event.wait().await;
                woken.set(woken.get() + 1);
            }
        });
        let setter = spawn({
            let event = event.clone();
            async move {
                turns(2).await;
                event.set();
            }
        });
        let ours = cancel_at(polls, event.wait()).await;
        setter.await.unwrap();
        other.await.unwrap();
        assert_eq!(woken.get(), 1, "the other waiter was not woken");
        ours.is_some()
    });
}

#[test]
fn condition_wait_passes_a_notification_on() {
    sweep("Condition::wait", |polls| async move {
        let cond = Condition::new(0u32);
        // Another waiter, queued after ours: one notify_one must wake one of the two.
        let ours = cancel_at(polls, {
            let cond = cond.clone();
            async move {
                let guard = cond.lock().await;
                drop(guard.wait().await);
            }
        });
        let other = spawn({
            let cond = cond.clone();
            async move {
                turns(1).await;
                let guard = cond.lock().await;
                drop(guard.wait().await);
            }
        });
        let notifier = spawn({
            let cond = cond.clone();
            async move {
                turns(4).await;
                cond.lock().await.notify(1);
            }
        });
        let completed = ours.await.is_some();
        notifier.await.unwrap();
        if !completed {
            // Ours was cancelled: if the notification was meant for it, it went to the other.
            let other = weft::time::timeout(std::time::Duration::from_secs(5), other).await;
            assert!(
                other.is_ok(),
                "a cancelled waiter swallowed the notification"
            );
        } else {
            cond.lock().await.notify(1);
            other.await.unwrap();
        }
        completed
    });
}

#[test]
fn buf_reader_read_line_consumes_nothing_when_cancelled() {
    sweep("BufReader::read_line", |polls| async move {
        let (ours, mut theirs) = UnixStream::pair().unwrap();
        let mut reader = BufReader::new(ours);
        let writer = spawn(async move {
            theirs.write_all(b"ab").await.unwrap();
            turns(3).await;
            theirs.write_all(b"c\n").await.unwrap();
            theirs
        });
        let mut line = String::new();
        let read = cancel_at(polls, reader.read_line(&mut line)).await;
        let _theirs = writer.await.unwrap();
        let completed = read.is_some();
        match read {
            Some(n) => assert_eq!((n.unwrap(), line.as_str()), (4, "abc\n")),
            None => {
                let mut again = String::new();
                reader.read_line(&mut again).await.unwrap();
                assert_eq!(again, "abc\n", "the cancelled read consumed bytes");
            }
        }
        completed
    });
}

#[test]
fn oneshot_recv() {
    sweep("oneshot recv", |polls| async move {
        let (tx, mut rx) = weft::channel::oneshot::channel();
        let sender = spawn(async move {
            turns(2).await;
            tx.send(9).unwrap();
        });
        let got = cancel_at(polls, &mut rx).await;
        sender.await.unwrap();
        match got {
            Some(value) => assert_eq!(value, Ok(9)),
            None => assert_eq!(rx.try_recv().ok(), Some(9), "the value was lost"),
        }
        got.is_some()
    });
}

#[test]
fn broadcast_recv() {
    sweep("broadcast recv", |polls| async move {
        let (tx, mut rx) = weft::channel::broadcast::channel(4);
        let sender = spawn(async move {
            turns(2).await;
            tx.send(3).unwrap();
            tx
        });
        let got = cancel_at(polls, rx.recv()).await;
        let _tx = sender.await.unwrap();
        match got {
            Some(value) => assert_eq!(value, Ok(3)),
            None => assert_eq!(rx.recv().await, Ok(3), "the message was lost"),
        }
        got.is_some()
    });
}

#[test]
fn watch_changed() {
    sweep("watch changed", |polls| async move {
        let (tx, mut rx) = weft::channel::watch::channel(0);
        let sender = spawn(async move {
            turns(2).await;
            tx.send(1);
            tx
        });
        let changed = cancel_at(polls, rx.changed()).await;
        let _tx = sender.await.unwrap();
        if changed.is_none() {
            // The change is still unseen: the next `changed` returns at once.
            rx.changed().await.unwrap();
        }
        assert_eq!(*rx.borrow(), 1);
        changed.is_some()
    });
}

#[test]
fn rlock_acquire() {
    sweep("RLock::acquire", |polls| async move {
        let lock = Rc::new(weft::sync::RLock::new());
        let held = Event::new();
        let holder = spawn({
            let (lock, held) = (lock.clone(), held.clone());
            async move {
                let _guard = lock.acquire().await;
                held.set();
                turns(2).await;
            }
        });
        held.wait().await;
        let ours = cancel_at(polls, {
            let lock = lock.clone();
            async move { drop(lock.acquire().await) }
        });
        let behind = spawn({
            let lock = lock.clone();
            async move { drop(lock.acquire().await) }
        });
        let completed = ours.await.is_some();
        holder.await.unwrap();
        behind.await.unwrap();
        assert!(!lock.is_locked(), "the lock was left held");
        completed
    });
}

#[test]
fn barrier_wait() {
    sweep("Barrier::wait", |polls| async move {
        let barrier = weft::sync::Barrier::new(2);
        let other = spawn({
            let barrier = barrier.clone();
            async move {
                turns(2).await;
                barrier.wait().await.is_ok()
            }
        });
        let ours = cancel_at(polls, barrier.wait()).await;
        if polls == 0 {
            // Never polled, ours never arrived: the other party waits for a second one, as
            // it should.
            other.abort();
            return false;
        }
        let limit = std::time::Duration::from_secs(5);
        let other_passed = weft::time::timeout(limit, other)
            .await
            .expect("the other party hung")
            .unwrap();
        match ours {
            // Both passed the round together.
            Some(result) => assert!(result.is_ok() && other_passed),
            // Leaving before the round was complete breaks it, as in Python; leaving after
            // it was released takes nothing from the other party.
            None => assert!(other_passed || barrier.is_broken()),
        }
        ours.is_some()
    });
}

#[test]
fn gather_cancels_what_it_still_waits_for() {
    sweep("gather", |polls| async move {
        let baseline = weft::task::all_tasks().len();
        let go = Event::new();
        let quick = spawn(async { 1 });
        let slow = spawn({
            let go = go.clone();
            async move {
                go.wait().await;
                2
            }
        });
        let starter = spawn({
            let go = go.clone();
            async move {
                turns(2).await;
                go.set();
            }
        });
        let gathered = cancel_at(polls, weft::task::gather([quick, slow])).await;
        starter.await.unwrap();
        turns(1).await;
        if let Some(results) = &gathered {
            let outputs: Vec<_> = results.iter().map(|r| *r.as_ref().unwrap()).collect();
            assert_eq!(outputs, [1, 2]);
        }
        assert_eq!(
            weft::task::all_tasks().len(),
            baseline,
            "a child outlived its cancelled gather"
        );
        gathered.is_some()
    });
}

#[test]
fn task_group_join_can_be_cancelled_and_joined_again() {
    sweep("TaskGroup::join", |polls| async move {
        let group: weft::task::TaskGroup<()> = weft::task::TaskGroup::new();
        let ran = Rc::new(Cell::new(0));
        for n in 0..3 {
            let ran = ran.clone();
            drop(group.spawn(async move {
                turns(n).await;
                ran.set(ran.get() + 1);
                Ok(())
            }));
        }
        let joined = cancel_at(polls, group.join()).await;
        let completed = joined.is_some();
        match joined {
            Some(result) => result.unwrap(),
            None => group.join().await.unwrap(),
        }
        assert_eq!(ran.get(), 3, "a child was lost");
        completed
    });
}

#[test]
fn select_drops_its_losers_without_losing_an_item() {
    sweep("select!", |polls| async move {
        let queue = Rc::new(Queue::new(0));
        let never = Event::new();
        let putter = put_after_two_turns(&queue, 4);
        let selected = cancel_at(polls, async {
            weft::select! {
                item = queue.get() => item.ok(),
                _ = never.wait() => None,
            }
        })
        .await;
        putter.await.unwrap();
        match selected {
            Some(item) => assert_eq!(item, Some(4)),
            None => assert_eq!(queue.try_get(), Ok(4), "the item was lost"),
        }
        selected.is_some()
    });
}

#[test]
fn tcp_read_consumes_nothing_when_cancelled() {
    sweep("TcpStream read", |polls| async move {
        let listener = weft::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let writer = spawn(async move {
            let (mut conn, _) = listener.accept().await.unwrap();
            turns(3).await;
            conn.write_all(b"data").await.unwrap();
            conn
        });
        let mut stream = weft::net::TcpStream::connect(addr).await.unwrap();
        let mut buf = [0u8; 16];
        let read = cancel_at(polls, weft::io::AsyncReadExt::read(&mut stream, &mut buf)).await;
        let _conn = writer.await.unwrap();
        let completed = read.is_some();
        let n = match read {
            Some(n) => n.unwrap(),
            None => weft::io::AsyncReadExt::read(&mut stream, &mut buf)
                .await
                .unwrap(),
        };
        assert_eq!(&buf[..n], b"data", "the cancelled read consumed bytes");
        completed
    });
}

#[test]
fn join_handle_can_be_cancelled_and_awaited_again() {
    sweep("JoinHandle", |polls| async move {
        let mut handle = spawn(async {
            turns(2).await;
            5
        });
        let joined = cancel_at(polls, &mut handle).await;
        let completed = joined.is_some();
        let output = match joined {
            Some(output) => output.unwrap(),
            None => handle
                .await
                .expect("the output was lost with the cancelled await"),
        };
        assert_eq!(output, 5);
        completed
    });
}

#[test]
fn timeout_drops_its_timer_and_loses_no_item() {
    sweep_paused("timeout", |polls| async move {
        let queue = Rc::new(Queue::new(0));
        let putter = put_after_two_turns(&queue, 7);
        let got = cancel_at(
            polls,
            weft::time::timeout(Duration::from_secs(5), queue.get()),
        )
        .await;
        putter.await.unwrap();
        match &got {
            Some(result) => {
                assert_eq!(result.as_ref().ok().and_then(|r| r.as_ref().ok()), Some(&7))
            }
            None => assert_eq!(queue.try_get(), Ok(7), "the item was lost"),
        }
        assert_eq!(
            weft::time::advance_to_next_timer().await,
            None,
            "the timeout left its timer armed"
        );
        got.is_some()
    });
}

#[test]
fn timeout_that_fires_is_exact_and_one_cancelled_leaves_no_timer() {
    sweep_paused("timeout (elapsing)", |polls| async move {
        let never = Event::new();
        let start = weft::time::Instant::now();
        let ticker = spawn(turns(2));
        let got = cancel_at(polls, async {
            // Two polls before the deadline: the first arms it, the second comes from the
            // ticker's turns, so the sweep cancels it both before and after it waited.
            weft::time::timeout(Duration::from_secs(5), async {
                yield_now().await;
                never.wait().await
            })
            .await
        })
        .await;
        ticker.await.unwrap();
        match &got {
            Some(result) => {
                assert!(result.is_err(), "the timeout did not fire");
                assert_eq!(start.elapsed(), Duration::from_secs(5));
            }
            // Cancelled before the deadline, or at the poll the deadline's wake-up brought.
            None => assert!([Duration::ZERO, Duration::from_secs(5)].contains(&start.elapsed())),
        }
        assert_eq!(weft::time::advance_to_next_timer().await, None);
        got.is_some()
    });
}

#[test]
fn read_exact_keeps_what_it_consumed_in_the_buffer() {
    sweep("read_exact", |polls| async move {
        let sent = b"abcdef";
        let (mut ours, mut theirs) = UnixStream::pair().unwrap();
        let writer = spawn(async move {
            for chunk in sent.chunks(2) {
                theirs.write_all(chunk).await.unwrap();
                turns(2).await;
            }
        });
        let mut buf = [0u8; 4];
        let read = cancel_at(polls, ours.read_exact(&mut buf)).await;
        writer.await.unwrap();
        let mut rest = Vec::new();
        ours.read_to_end(&mut rest).await.unwrap();
        let consumed = sent.len() - rest.len();
        assert_eq!(rest, sent[consumed..], "the stream lost or reordered bytes");
        assert!(consumed <= buf.len(), "read_exact read past its buffer");
        assert_eq!(
            buf[..consumed],
            sent[..consumed],
            "bytes the cancelled read_exact consumed are not in the buffer"
        );
        if let Some(result) = &read {
            result.as_ref().unwrap();
            assert_eq!(consumed, buf.len());
        }
        read.is_some()
    });
}

#[test]
fn write_all_sends_a_prefix_and_leaves_the_stream_usable() {
    sweep("write_all", |polls| async move {
        let data: Vec<u8> = (0..1 << 20).map(|i| (i % 251) as u8).collect();
        let (mut ours, mut theirs) = UnixStream::pair().unwrap();
        let reader = spawn(async move {
            let mut got = Vec::new();
            theirs.read_to_end(&mut got).await.unwrap();
            got
        });
        let wrote = cancel_at(polls, ours.write_all(&data)).await;
        ours.write_all(b"END").await.unwrap();
        drop(ours);
        let got = reader.await.unwrap();
        let sent = got.len() - 3;
        assert_eq!(&got[sent..], b"END", "the next write did not follow");
        assert_eq!(
            got[..sent],
            data[..sent],
            "the peer got something else than a prefix"
        );
        if wrote.is_some() {
            assert_eq!(sent, data.len());
        }
        wrote.is_some()
    });
}
