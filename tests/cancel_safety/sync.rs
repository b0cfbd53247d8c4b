//! The sync primitives, queues and channels: after a cancel, no lock is left taken, no
//! permit lost, no item or value lost.

use std::future::Future;
use std::time::Duration;

use weft::channel::{broadcast, mpsc, oneshot, pipe, watch};
use weft::queue::Queue;
use weft::sync::{Barrier, Condition, Event, Mutex, RLock, RwLock, Semaphore};
use weft::testing::Cancel;
use weft::time::timeout;
use weft::{spawn, yield_now};

use crate::{Checked, Row, paused};

pub(crate) fn rows() -> Vec<Row> {
    vec![
        paused(
            "`sync::Mutex::lock`",
            "the lock is free again once its holder is done",
            mutex_lock,
        ),
        paused(
            "`sync::Mutex::lock_owned`",
            "the lock is free again once its holder is done",
            mutex_lock_owned,
        ),
        paused(
            "`sync::RwLock::read`",
            "the lock is free again once the writer is done",
            rwlock_read,
        ),
        paused(
            "`sync::RwLock::write`",
            "the lock is free again once the reader is done",
            rwlock_write,
        ),
        paused(
            "`sync::RLock::acquire`",
            "the lock is free again once its holder is done",
            rlock_acquire,
        ),
        paused(
            "`sync::Condition` (a guard's `wait`)",
            "the lock is not left taken: the notifier gets it, and then it is free",
            condition_wait,
        ),
        paused(
            "`sync::Semaphore::acquire`",
            "no permit is lost or made",
            semaphore_acquire,
        ),
        paused(
            "`sync::Semaphore::acquire_many`",
            "no permit is lost or made",
            semaphore_acquire_many,
        ),
        paused(
            "`sync::Event::wait`",
            "the event stays set, and the next wait returns at once",
            event_wait,
        ),
        paused(
            "`sync::Barrier::wait`",
            "the other party is not left waiting: the cancel breaks the barrier (as a Python \
             thread's timed-out `wait` does), or the round had completed",
            barrier_wait,
        ),
        paused(
            "`queue::Queue::get`",
            "the item is either returned or still in the queue",
            queue_get,
        ),
        paused(
            "`queue::Queue::put`",
            "the queue holds the item exactly when `put` returned `Ok` (a cancelled put drops its item)",
            queue_put,
        ),
        paused(
            "`queue::Queue::join`",
            "the count of unfinished items is unchanged, and the next `join` returns once they are done",
            queue_join,
        ),
        paused(
            "`channel::mpsc::Receiver::recv`",
            "the value is either returned or still in the channel",
            mpsc_recv,
        ),
        paused(
            "`channel::mpsc::Sender::send`",
            "the receiver gets exactly the values whose `send` returned `Ok`",
            mpsc_send,
        ),
        paused(
            "`channel::oneshot::Receiver` (awaiting it)",
            "the value is either returned, or given back to the sender by `send`",
            oneshot_recv,
        ),
        paused(
            "`channel::broadcast::Receiver::recv`",
            "the value is either returned or the next one received",
            broadcast_recv,
        ),
        paused(
            "`channel::watch::Receiver::changed`",
            "a change not returned is still seen by the next `changed`",
            watch_changed,
        ),
        paused(
            "`channel::pipe` (a `Connection`'s `recv`)",
            "the value is either returned or received next",
            pipe_recv,
        ),
    ]
}

/// `op` (a wait for a lock) cancelled while `holder` (a task) holds the lock, for a turn;
/// once the holder is done, `free` must say the lock is free.
async fn freed_after(
    cancel: Cancel,
    holder: impl Future<Output = ()> + 'static,
    op: impl Future,
    free: impl Fn() -> bool,
) -> Result<(), String> {
    let holder = spawn(holder);
    yield_now().await;
    drop(cancel.at(op).await);
    holder.await.map_err(|e| e.to_string())?;
    if free() {
        Ok(())
    } else {
        Err("the lock stays taken by nobody".into())
    }
}

/// A task that takes `mutex` and holds it for a turn.
fn mutex_holder(mutex: &Mutex<()>) -> impl Future<Output = ()> + 'static {
    let held = mutex.clone();
    async move {
        let _guard = held.lock().await;
        yield_now().await;
    }
}

fn mutex_lock(cancel: Cancel) -> Checked {
    Box::pin(async move {
        let mutex = Mutex::new(());
        let holder = mutex_holder(&mutex);
        freed_after(cancel, holder, mutex.lock(), || mutex.try_lock().is_some()).await
    })
}

fn mutex_lock_owned(cancel: Cancel) -> Checked {
    Box::pin(async move {
        let mutex = Mutex::new(());
        let holder = mutex_holder(&mutex);
        freed_after(cancel, holder, mutex.lock_owned(), || {
            mutex.try_lock().is_some()
        })
        .await
    })
}

fn rwlock_read(cancel: Cancel) -> Checked {
    Box::pin(async move {
        let lock = RwLock::new(0);
        let held = lock.clone();
        let writer = async move {
            let _guard = held.write().await;
            yield_now().await;
        };
        freed_after(cancel, writer, lock.read(), || lock.try_write().is_some()).await
    })
}

fn rwlock_write(cancel: Cancel) -> Checked {
    Box::pin(async move {
        let lock = RwLock::new(0);
        let held = lock.clone();
        let reader = async move {
            let _guard = held.read().await;
            yield_now().await;
        };
        freed_after(cancel, reader, lock.write(), || lock.try_write().is_some()).await
    })
}

fn rlock_acquire(cancel: Cancel) -> Checked {
    Box::pin(async move {
        let lock = RLock::new();
        let held = lock.clone();
        let holder = async move {
            let _guard = held.acquire().await;
            yield_now().await;
        };
        freed_after(cancel, holder, lock.acquire(), || !lock.is_locked()).await
    })
}

fn condition_wait(cancel: Cancel) -> Checked {
    Box::pin(async move {
        let condition = Condition::new(false);
        let guard = condition.lock().await;
        let notifier = {
            let condition = condition.clone();
            spawn(async move {
                yield_now().await;
                let mut guard = condition.lock().await;
                *guard = true;
                guard.notify_all();
            })
        };
        drop(cancel.at(guard.wait()).await);
        timeout(Duration::from_secs(1), notifier)
            .await
            .map_err(|_| "the lock stayed taken: the notifier never got it".to_owned())?
            .map_err(|e| e.to_string())?;
        match condition.try_lock() {
            Some(_) => Ok(()),
            None => Err("the lock stays taken by nobody".into()),
        }
    })
}

/// A semaphore of `permits`, all taken and given back by a task after a turn, while
/// `acquire` (cancelled) waits for `wanted` of them; afterwards all must be there.
async fn permits_kept(cancel: Cancel, permits: usize, wanted: usize) -> Result<(), String> {
    let semaphore = Semaphore::new(permits);
    let taken = semaphore.acquire_many(permits).await;
    let releaser = spawn(async move {
        yield_now().await;
        drop(taken);
    });
    drop(cancel.at(semaphore.acquire_many(wanted)).await);
    releaser.await.map_err(|e| e.to_string())?;
    match semaphore.available_permits() {
        n if n == permits => Ok(()),
        n => Err(format!("{n} permits where there were {permits}")),
    }
}

fn semaphore_acquire(cancel: Cancel) -> Checked {
    Box::pin(permits_kept(cancel, 1, 1))
}

fn semaphore_acquire_many(cancel: Cancel) -> Checked {
    Box::pin(permits_kept(cancel, 3, 2))
}

fn event_wait(cancel: Cancel) -> Checked {
    Box::pin(async move {
        let event = Event::new();
        let setter = {
            let event = event.clone();
            spawn(async move {
                yield_now().await;
                event.set();
            })
        };
        let _ = cancel.at(event.wait()).await;
        setter.await.map_err(|e| e.to_string())?;
        timeout(Duration::from_secs(1), event.wait())
            .await
            .map_err(|_| "a later wait does not see the set event".to_owned())
    })
}

fn barrier_wait(cancel: Cancel) -> Checked {
    Box::pin(async move {
        let barrier = Barrier::new(2);
        let other = {
            let barrier = barrier.clone();
            spawn(async move {
                yield_now().await;
                barrier.wait().await.is_ok()
            })
        };
        let ours = cancel.at(barrier.wait()).await;
        let released = timeout(Duration::from_secs(1), other)
            .await
            .map_err(|_| "the other party was left waiting for one that left".to_owned())?
            .map_err(|e| e.to_string())?;
        match (ours, released) {
            (Some(Ok(_)), true) | (None, false) => Ok(()),
            (ours, released) => Err(format!(
                "ours returned {ours:?}, the other was released: {released}"
            )),
        }
    })
}

fn queue_get(cancel: Cancel) -> Checked {
    Box::pin(async move {
        let queue = Queue::<u32>::new(1);
        let producer = {
            let queue = queue.clone();
            spawn(async move {
                yield_now().await;
                queue.put(7).await.unwrap();
            })
        };
        let got = cancel.at(queue.get()).await.map(Result::unwrap);
        producer.await.map_err(|e| e.to_string())?;
        match (got, queue.try_get().ok()) {
            (Some(7), None) | (None, Some(7)) => Ok(()),
            _ => Err("the item was lost".into()),
        }
    })
}

fn queue_put(cancel: Cancel) -> Checked {
    Box::pin(async move {
        let queue = Queue::<u32>::new(1);
        queue.put(1).await.unwrap();
        let consumer = {
            let queue = queue.clone();
            spawn(async move {
                yield_now().await;
                queue.get().await.unwrap()
            })
        };
        let put = cancel.at(queue.put(2)).await;
        assert_eq!(consumer.await.map_err(|e| e.to_string())?, 1);
        match (put, queue.try_get().ok()) {
            (Some(Ok(())), Some(2)) | (None, None) => Ok(()),
            _ => Err("the queue holds what was not put, or lost what was".into()),
        }
    })
}

fn queue_join(cancel: Cancel) -> Checked {
    Box::pin(async move {
        let queue = Queue::<u32>::new(0);
        queue.put(1).await.unwrap();
        queue.put(2).await.unwrap();
        let worker = {
            let queue = queue.clone();
            spawn(async move {
                for _ in 0..2 {
                    queue.get().await.unwrap();
                    yield_now().await;
                    queue.task_done().unwrap();
                }
            })
        };
        let joined = cancel.at(queue.join()).await;
        if joined.is_some() && queue.unfinished_tasks() != 0 {
            return Err("join returned with items unfinished".into());
        }
        timeout(Duration::from_secs(1), queue.join())
            .await
            .map_err(|_| "the next join never returned".to_owned())?;
        worker.await.map_err(|e| e.to_string())
    })
}

fn mpsc_recv(cancel: Cancel) -> Checked {
    Box::pin(async move {
        let (tx, mut rx) = mpsc::channel::<u32>(1);
        spawn(async move {
            yield_now().await;
            tx.send(9).await.unwrap();
        });
        let got = cancel.at(rx.recv()).await.flatten();
        match (got, rx.recv().await) {
            (Some(9), None) | (None, Some(9)) => Ok(()),
            _ => Err("the value was lost".into()),
        }
    })
}

fn mpsc_send(cancel: Cancel) -> Checked {
    Box::pin(async move {
        let (tx, mut rx) = mpsc::channel::<u32>(1);
        tx.send(1).await.unwrap();
        let receiver = spawn(async move {
            yield_now().await;
            let mut got = Vec::new();
            while let Some(value) = rx.recv().await {
                got.push(value);
            }
            got
        });
        let sent = cancel.at(tx.send(2)).await;
        drop(tx);
        let got = receiver.await.map_err(|e| e.to_string())?;
        match (sent, got.as_slice()) {
            (Some(Ok(())), [1, 2]) | (None, [1]) => Ok(()),
            _ => Err("the receiver got what was not sent, or not what was".into()),
        }
    })
}

fn oneshot_recv(cancel: Cancel) -> Checked {
    Box::pin(async move {
        let (tx, rx) = oneshot::channel::<u32>();
        let sender = spawn(async move {
            yield_now().await;
            tx.send(3)
        });
        let got = cancel.at(rx).await;
        let sent = sender.await.map_err(|e| e.to_string())?;
        match (got, sent) {
            (Some(Ok(3)), Ok(())) | (None, Err(3)) => Ok(()),
            _ => Err("the value was lost".into()),
        }
    })
}

fn broadcast_recv(cancel: Cancel) -> Checked {
    Box::pin(async move {
        let (tx, mut rx) = broadcast::channel::<u32>(4);
        let sender = spawn(async move {
            yield_now().await;
            tx.send(5).map_err(|_| ()).unwrap();
            tx
        });
        let got = cancel.at(rx.recv()).await;
        let _tx = sender.await.map_err(|e| e.to_string())?;
        match got {
            Some(Ok(5)) => Ok(()),
            None => match rx.recv().await {
                Ok(5) => Ok(()),
                other => Err(format!("the value was lost: then {other:?}")),
            },
            other => Err(format!("received {other:?}")),
        }
    })
}

fn watch_changed(cancel: Cancel) -> Checked {
    Box::pin(async move {
        let (tx, mut rx) = watch::channel::<u32>(0);
        let sender = spawn(async move {
            yield_now().await;
            tx.send(1);
            tx
        });
        let got = cancel.at(rx.changed()).await;
        let _tx = sender.await.map_err(|e| e.to_string())?;
        if got.is_some() {
            return Ok(());
        }
        timeout(Duration::from_secs(1), rx.changed())
            .await
            .map_err(|_| "the change was lost".to_owned())?
            .map_err(|e| e.to_string())
    })
}

fn pipe_recv(cancel: Cancel) -> Checked {
    Box::pin(async move {
        let (here, there) = pipe::<u32, u32>();
        let mut here = here;
        let sender = spawn(async move {
            yield_now().await;
            there.send(4).map_err(|_| ()).unwrap();
            there
        });
        let got = cancel.at(here.recv()).await;
        let _there = sender.await.map_err(|e| e.to_string())?;
        match got {
            Some(Ok(4)) => Ok(()),
            None => match timeout(Duration::from_secs(1), here.recv()).await {
                Ok(Ok(4)) => Ok(()),
                _ => Err("the value was lost".into()),
            },
            other => Err(format!("received {other:?}")),
        }
    })
}
