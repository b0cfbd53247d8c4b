//! The cancel-safety table of docs/cancel-safety.md, written by sweeping: each operation is
//! cancelled at each of its suspension points (`weft::testing::CancelSweep`), and what must
//! hold afterwards is checked. The page's table is this test's output; the test fails when
//! the two differ (`WEFT_BLESS=1 cargo test --test cancel_safety` writes the page's table
//! anew after a change that means it).

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use weft::channel::{broadcast, mpsc, oneshot, watch};
use weft::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use weft::net::{TcpListener, TcpStream, UdpSocket, UnixStream};
use weft::queue::Queue;
use weft::sync::{Condition, Event, Mutex, RLock, RwLock, Semaphore};
use weft::testing::{Cancel, CancelSweep, Leaks};
use weft::time::sleep;
use weft::{spawn, yield_now};

type Checked = Pin<Box<dyn Future<Output = Result<(), String>>>>;

/// One row: the operation, what its scenario checks after each cancel, and the scenario.
struct Row {
    operation: &'static str,
    checked: &'static str,
    scenario: fn(Cancel) -> Checked,
    /// On the real clock: a scenario that waits for the kernel (a loopback connection)
    /// must not see a paused clock jump past it.
    real_clock: bool,
}

fn rows() -> Vec<Row> {
    vec![
        Row {
            operation: "`sync::Mutex::lock`",
            checked: "the lock is free again once its holder is done",
            scenario: mutex_lock,
            real_clock: false,
        },
        Row {
            operation: "`sync::RwLock::read`",
            checked: "the lock is free again once the writer is done",
            scenario: rwlock_read,
            real_clock: false,
        },
        Row {
            operation: "`sync::RwLock::write`",
            checked: "the lock is free again once the reader is done",
            scenario: rwlock_write,
            real_clock: false,
        },
        Row {
            operation: "`sync::RLock::acquire`",
            checked: "the lock is free again once its holder is done",
            scenario: rlock_acquire,
            real_clock: false,
        },
        Row {
            operation: "`sync::Condition` (a guard's `wait`)",
            checked: "the lock is not left taken: the notifier gets it, and then it is free",
            scenario: condition_wait,
            real_clock: false,
        },
        Row {
            operation: "`sync::Semaphore::acquire`",
            checked: "no permit is lost or made",
            scenario: semaphore_acquire,
            real_clock: false,
        },
        Row {
            operation: "`sync::Event::wait`",
            checked: "the event stays set, and the next wait returns at once",
            scenario: event_wait,
            real_clock: false,
        },
        Row {
            operation: "`queue::Queue::get`",
            checked: "the item is either returned or still in the queue",
            scenario: queue_get,
            real_clock: false,
        },
        Row {
            operation: "`queue::Queue::put`",
            checked: "the queue holds the item exactly when `put` returned `Ok` (a cancelled put drops its item)",
            scenario: queue_put,
            real_clock: false,
        },
        Row {
            operation: "`channel::mpsc::Receiver::recv`",
            checked: "the value is either returned or still in the channel",
            scenario: mpsc_recv,
            real_clock: false,
        },
        Row {
            operation: "`channel::mpsc::Sender::send`",
            checked: "the receiver gets exactly the values whose `send` returned `Ok`",
            scenario: mpsc_send,
            real_clock: false,
        },
        Row {
            operation: "`channel::oneshot::Receiver` (awaiting it)",
            checked: "the value is either returned, or given back to the sender by `send`",
            scenario: oneshot_recv,
            real_clock: false,
        },
        Row {
            operation: "`channel::broadcast::Receiver::recv`",
            checked: "the value is either returned or the next one received",
            scenario: broadcast_recv,
            real_clock: false,
        },
        Row {
            operation: "`channel::watch::Receiver::changed`",
            checked: "a change not returned is still seen by the next `changed`",
            scenario: watch_changed,
            real_clock: false,
        },
        Row {
            operation: "`io::AsyncReadExt::read`",
            checked: "every byte is either returned or still in the stream",
            scenario: read,
            real_clock: false,
        },
        Row {
            operation: "`io::AsyncReadExt::read_exact`",
            checked: "every byte is either returned or still in the stream",
            scenario: read_exact,
            real_clock: false,
        },
        Row {
            operation: "`io::AsyncReadExt::read_to_end`",
            checked: "every byte is either in the caller's `Vec` or still in the stream",
            scenario: read_to_end,
            real_clock: false,
        },
        Row {
            operation: "`io::BufReader::read_line`",
            checked: "every byte is either in the caller's line, in the reader's buffer, or still in the stream",
            scenario: read_line,
            real_clock: false,
        },
        Row {
            operation: "`io::AsyncWriteExt::write_all`",
            checked: "the peer gets all of the buffer or none of it",
            scenario: write_all,
            real_clock: false,
        },
        Row {
            operation: "`net::TcpListener::accept`",
            checked: "a connection that arrived is either returned or accepted next",
            scenario: accept,
            real_clock: true,
        },
        Row {
            operation: "`net::UdpSocket::recv_from`",
            checked: "the datagram is either returned or received next",
            scenario: udp_recv_from,
            real_clock: true,
        },
        Row {
            operation: "`time::sleep`",
            checked: "no timer is left armed",
            scenario: sleep_row,
            real_clock: false,
        },
        Row {
            operation: "`time::timeout`",
            checked: "no timer is left armed",
            scenario: timeout,
            real_clock: false,
        },
        Row {
            operation: "`JoinHandle` (awaiting a task)",
            checked: "the task goes on to its end (dropping a handle detaches it)",
            scenario: join,
            real_clock: false,
        },
    ]
}

/// The table: one line per operation, its verdict from the sweep.
fn table() -> String {
    let mut out =
        String::from("| operation | cancel-safe | checked after each cancel |\n|---|---|---|\n");
    for row in rows() {
        let verdict = match CancelSweep::new(row.operation)
            .paused(!row.real_clock)
            .run(row.scenario)
        {
            Ok(_) => "yes".to_owned(),
            Err(failure) => format!("**no**: {}", failure.error),
        };
        out.push_str(&format!(
            "| {} | {verdict} | {} |\n",
            row.operation, row.checked
        ));
    }
    out
}

#[test]
fn the_cancel_safety_page_shows_what_the_sweeps_find() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/cancel-safety.md");
    let page = std::fs::read_to_string(path).unwrap();
    let (start, end) = (
        "<!-- table: tests/cancel_safety.rs -->\n",
        "<!-- end of table -->",
    );
    let from = page.find(start).expect("the page marks its table") + start.len();
    let to = from
        + page[from..]
            .find(end)
            .expect("the page marks its table's end");
    let table = table();
    if std::env::var("WEFT_BLESS").is_ok() {
        std::fs::write(path, format!("{}{table}{}", &page[..from], &page[to..])).unwrap();
        return;
    }
    assert_eq!(
        page[from..to],
        table,
        "docs/cancel-safety.md disagrees with the sweeps: if the change means it, \
         `WEFT_BLESS=1 cargo test --test cancel_safety` writes the table anew"
    );
}

/// Eight bytes, sent in two halves a (virtual) millisecond apart, then the end.
fn halves(mut to: UnixStream, tail: &'static [u8]) -> weft::JoinHandle<()> {
    spawn(async move {
        to.write_all(b"abcd").await.unwrap();
        sleep(Duration::from_millis(1)).await;
        to.write_all(tail).await.unwrap();
    })
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

fn mutex_lock(cancel: Cancel) -> Checked {
    Box::pin(async move {
        let mutex = Mutex::new(());
        let held = mutex.clone();
        let holder = async move {
            let _guard = held.lock().await;
            yield_now().await;
        };
        freed_after(cancel, holder, mutex.lock(), || mutex.try_lock().is_some()).await
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

fn semaphore_acquire(cancel: Cancel) -> Checked {
    Box::pin(async move {
        let semaphore = Semaphore::new(1);
        let taken = semaphore.acquire().await;
        let releaser = spawn(async move {
            yield_now().await;
            drop(taken);
        });
        drop(cancel.at(semaphore.acquire()).await);
        releaser.await.map_err(|e| e.to_string())?;
        match semaphore.available_permits() {
            1 => Ok(()),
            n => Err(format!("{n} permits where there was 1")),
        }
    })
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
        weft::time::timeout(Duration::from_secs(1), event.wait())
            .await
            .map_err(|_| "a later wait does not see the set event".to_owned())
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

/// What the operation returned, then the rest of the stream, must be `sent`, in order.
async fn whole(mut from: UnixStream, mut returned: Vec<u8>, sent: &[u8]) -> Result<(), String> {
    from.read_to_end(&mut returned)
        .await
        .map_err(|e| e.to_string())?;
    if returned == sent {
        Ok(())
    } else if returned.len() < sent.len() {
        Err(format!("lost {} bytes", sent.len() - returned.len()))
    } else {
        Err(format!(
            "{} bytes that were never sent appeared",
            returned.len() - sent.len()
        ))
    }
}

fn read(cancel: Cancel) -> Checked {
    Box::pin(async move {
        let (a, mut b) = UnixStream::pair().map_err(|e| e.to_string())?;
        let writer = halves(a, b"efgh");
        let mut buf = [0; 8];
        let n = match cancel.at(b.read(&mut buf)).await {
            Some(read) => read.map_err(|e| e.to_string())?,
            None => 0,
        };
        writer.await.map_err(|e| e.to_string())?;
        whole(b, buf[..n].to_vec(), b"abcdefgh").await
    })
}

fn read_exact(cancel: Cancel) -> Checked {
    Box::pin(async move {
        let (a, mut b) = UnixStream::pair().map_err(|e| e.to_string())?;
        let writer = halves(a, b"efgh");
        let mut buf = [0; 8];
        let returned = match cancel.at(b.read_exact(&mut buf)).await {
            Some(read) => {
                read.map_err(|e| e.to_string())?;
                buf.to_vec()
            }
            None => Vec::new(),
        };
        writer.await.map_err(|e| e.to_string())?;
        whole(b, returned, b"abcdefgh").await
    })
}

fn read_to_end(cancel: Cancel) -> Checked {
    Box::pin(async move {
        let (a, mut b) = UnixStream::pair().map_err(|e| e.to_string())?;
        let writer = halves(a, b"efgh");
        let mut all = Vec::new();
        let _ = cancel.at(b.read_to_end(&mut all)).await;
        writer.await.map_err(|e| e.to_string())?;
        whole(b, all, b"abcdefgh").await
    })
}

fn read_line(cancel: Cancel) -> Checked {
    Box::pin(async move {
        let (a, b) = UnixStream::pair().map_err(|e| e.to_string())?;
        let writer = halves(a, b"ef\ngh");
        let mut reader = BufReader::new(b);
        let mut line = String::new();
        let _ = cancel.at(reader.read_line(&mut line)).await;
        writer.await.map_err(|e| e.to_string())?;
        let (b, buffered) = reader.into_parts();
        whole(b, [line.into_bytes(), buffered].concat(), b"abcdef\ngh").await
    })
}

fn write_all(cancel: Cancel) -> Checked {
    Box::pin(async move {
        let (mut a, mut b) = UnixStream::pair().map_err(|e| e.to_string())?;
        let reader = spawn(async move {
            let mut got = Vec::new();
            b.read_to_end(&mut got).await.map(|_| got.len())
        });
        // More than the socket buffers hold, so the write must wait for the reader.
        let buffer = vec![7u8; 4 << 20];
        let _ = cancel.at(a.write_all(&buffer)).await;
        drop(a);
        let got = reader
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
        if got == 0 || got == buffer.len() {
            Ok(())
        } else {
            Err("part of the buffer went out, and the caller cannot tell how much".into())
        }
    })
}

fn accept(cancel: Cancel) -> Checked {
    Box::pin(async move {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| e.to_string())?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let client = spawn(async move { TcpStream::connect(addr).await });
        let accepted = cancel.at(listener.accept()).await;
        let _client = client
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
        if accepted.is_some() {
            return Ok(());
        }
        weft::time::timeout(Duration::from_secs(5), listener.accept())
            .await
            .map_err(|_| "the connection was lost".to_owned())?
            .map(drop)
            .map_err(|e| e.to_string())
    })
}

fn timeout(cancel: Cancel) -> Checked {
    Box::pin(async move {
        let before = Leaks::snapshot();
        let limited = weft::time::timeout(Duration::from_secs(1), sleep(Duration::from_secs(5)));
        let _ = cancel.at(limited).await;
        before.check()
    })
}

fn join(cancel: Cancel) -> Checked {
    Box::pin(async move {
        let done = Event::new();
        let task = {
            let done = done.clone();
            spawn(async move {
                yield_now().await;
                yield_now().await;
                done.set();
            })
        };
        let _ = cancel.at(task).await;
        weft::time::timeout(Duration::from_secs(1), done.wait())
            .await
            .map_err(|_| "the task was stopped by the cancel".to_owned())
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
        weft::time::timeout(Duration::from_secs(1), rx.changed())
            .await
            .map_err(|_| "the change was lost".to_owned())?
            .map_err(|e| e.to_string())
    })
}

fn udp_recv_from(cancel: Cancel) -> Checked {
    Box::pin(async move {
        let socket = UdpSocket::bind("127.0.0.1:0")
            .await
            .map_err(|e| e.to_string())?;
        let to = socket.local_addr().map_err(|e| e.to_string())?;
        let sender = spawn(async move {
            let from = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            yield_now().await;
            from.send_to(b"dgram", to).await.unwrap();
        });
        let mut buf = [0; 16];
        let got = cancel.at(socket.recv_from(&mut buf)).await;
        sender.await.map_err(|e| e.to_string())?;
        if got.is_some() {
            return Ok(());
        }
        weft::time::timeout(Duration::from_secs(5), socket.recv_from(&mut buf))
            .await
            .map_err(|_| "the datagram was lost".to_owned())?
            .map(drop)
            .map_err(|e| e.to_string())
    })
}

fn sleep_row(cancel: Cancel) -> Checked {
    Box::pin(async move {
        let before = Leaks::snapshot();
        let _ = cancel.at(sleep(Duration::from_secs(5))).await;
        before.check()
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
        weft::time::timeout(Duration::from_secs(1), notifier)
            .await
            .map_err(|_| "the lock stayed taken: the notifier never got it".to_owned())?
            .map_err(|e| e.to_string())?;
        match condition.try_lock() {
            Some(_) => Ok(()),
            None => Err("the lock stays taken by nobody".into()),
        }
    })
}
