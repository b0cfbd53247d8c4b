//! `task::dump()` and the deadlock report: what each task waits on, and who holds it.

use std::time::Duration;

use weft::runtime::{Builder, Runtime};
use weft::sync::{Barrier, Condition, Event, Mutex, RLock, Semaphore};
use weft::task::{TaskDump, TaskId, WaitsOn};

/// A runtime in debug mode (so holders are tracked), with its reports kept quiet.
fn debug_runtime() -> Runtime {
    Builder::new().on_debug_event(|_| {}).build().unwrap()
}

/// The one wait of the task named `name`.
fn wait_of<'a>(dump: &'a TaskDump, name: &str) -> &'a WaitsOn {
    let task = dump
        .tasks
        .iter()
        .find(|t| t.name.as_deref() == Some(name))
        .unwrap_or_else(|| panic!("no task {name} in\n{dump}"));
    assert_eq!(task.waits_on.len(), 1, "{dump}");
    &task.waits_on[0]
}

/// Spawns `future` named `name`, lets it run until it waits, and returns the dump.
async fn dump_after_spawning(name: &str, future: impl Future<Output = ()> + 'static) -> TaskDump {
    weft::task::Builder::new().name(name).spawn(future);
    for _ in 0..3 {
        weft::task::yield_now().await;
    }
    weft::task::dump()
}

#[test]
fn the_dump_names_each_primitive_and_its_holder() {
    debug_runtime().block_on(async {
        let me: TaskId = weft::task::id();

        let mutex = Mutex::new(());
        let _held = mutex.lock().await;
        let dump = dump_after_spawning("m", {
            let mutex = mutex.clone();
            async move { drop(mutex.lock().await) }
        })
        .await;
        let wait = wait_of(&dump, "m");
        assert!(wait.resource.starts_with("Mutex#"), "{dump}");
        assert_eq!((&*wait.operation, &wait.held_by[..]), ("lock", &[me][..]));
        assert!(wait.created_at.unwrap().file().ends_with("dump.rs"));

        let rlock = RLock::new();
        let _owned = rlock.acquire().await;
        let dump = dump_after_spawning("r", {
            let rlock = rlock.clone();
            async move { drop(rlock.acquire().await) }
        })
        .await;
        let wait = wait_of(&dump, "r");
        assert!(wait.resource.starts_with("RLock#"));
        assert_eq!(wait.held_by, [me]);

        let semaphore = Semaphore::new(2);
        let (_a, _b) = (semaphore.acquire().await, semaphore.acquire().await);
        let dump = dump_after_spawning("s", {
            let semaphore = semaphore.clone();
            async move { drop(semaphore.acquire().await) }
        })
        .await;
        let wait = wait_of(&dump, "s");
        assert!(wait.resource.starts_with("Semaphore#"));
        assert_eq!(
            (&*wait.operation, &wait.held_by[..]),
            ("acquire", &[me, me][..])
        );

        let event = Event::new();
        let dump = dump_after_spawning("e", {
            let event = event.clone();
            async move { event.wait().await }
        })
        .await;
        assert!(wait_of(&dump, "e").resource.starts_with("Event#"));
        event.set();

        let condition = Condition::new(false);
        let dump = dump_after_spawning("c", {
            let condition = condition.clone();
            async move {
                let guard = condition.lock().await;
                drop(guard.wait().await);
            }
        })
        .await;
        assert!(
            wait_of(&dump, "c").resource.starts_with("Condition#"),
            "{dump}"
        );
        condition.lock().await.notify_all();

        let barrier = Barrier::new(2);
        let dump = dump_after_spawning("b", {
            let barrier = barrier.clone();
            async move {
                let _ = barrier.wait().await;
            }
        })
        .await;
        assert!(wait_of(&dump, "b").resource.starts_with("Barrier#"));
        barrier.wait().await.unwrap();

        let queue = weft::queue::Queue::<u8>::new(1);
        let dump = dump_after_spawning("get", {
            let queue = queue.clone();
            async move {
                let _ = queue.get().await;
            }
        })
        .await;
        let wait = wait_of(&dump, "get");
        assert!(wait.resource.starts_with("Queue#"));
        assert_eq!(wait.operation, "get (empty)");
        queue.put(1).await.unwrap();
        queue.put(2).await.unwrap();
        let dump = dump_after_spawning("put", {
            let queue = queue.clone();
            async move { drop(queue.put(3).await) }
        })
        .await;
        assert_eq!(wait_of(&dump, "put").operation, "put (full)");
        assert!(
            dump.to_string()
                .contains("put (full): no task is waiting to get"),
            "{dump}"
        );

        let (tx, mut rx) = weft::channel::mpsc::channel::<u8>(1);
        let dump = dump_after_spawning("recv", async move {
            let _ = rx.recv().await;
        })
        .await;
        assert!(wait_of(&dump, "recv").resource.starts_with("mpsc#"));
        assert_eq!(wait_of(&dump, "recv").operation, "recv");
        drop(tx);

        let (one_tx, one_rx) = weft::channel::oneshot::channel::<u8>();
        let dump = dump_after_spawning("oneshot", async move {
            let _ = one_rx.await;
        })
        .await;
        assert!(wait_of(&dump, "oneshot").resource.starts_with("oneshot#"));
        drop(one_tx);

        let sleeper = weft::task::Builder::new()
            .name("sleeper")
            .spawn(weft::time::sleep(Duration::from_secs(60)));
        let dump = dump_after_spawning("joiner", async move { drop(sleeper.await) }).await;
        let sleeper_id = dump
            .tasks
            .iter()
            .find(|t| t.name.as_deref() == Some("sleeper"))
            .unwrap()
            .id;
        let wait = wait_of(&dump, "joiner");
        assert_eq!(
            (&*wait.operation, &wait.held_by[..]),
            ("join (its JoinHandle)", &[sleeper_id][..])
        );
        assert_eq!(wait_of(&dump, "sleeper").resource, "sleep");

        let (mut a, b) = weft::net::UnixStream::pair().unwrap();
        let dump = dump_after_spawning("reader", async move {
            use weft::io::AsyncReadExt;
            let mut b = b;
            let _ = b.read(&mut [0; 8]).await;
        })
        .await;
        let wait = wait_of(&dump, "reader");
        assert!(
            wait.resource.starts_with("I/O source #") && wait.operation == "read",
            "{dump}"
        );
        // weft's TCP streams name their peer.
        let listener = weft::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let client = weft::net::TcpStream::connect(addr).await.unwrap();
        let (served, _) = listener.accept().await.unwrap();
        let dump = dump_after_spawning("tcp", async move {
            use weft::io::AsyncReadExt;
            let mut client = client;
            let _ = client.read(&mut [0; 8]).await;
        })
        .await;
        let wait = wait_of(&dump, "tcp");
        assert!(wait.resource.ends_with(&format!("(TCP {addr})")), "{dump}");
        drop(served);
        use weft::io::AsyncWriteExt;
        a.write_all(b"x").await.unwrap();

        let main = dump.task(me).unwrap();
        assert_eq!(main.name.as_deref(), Some("main"));
        assert!(main.polls.unwrap() >= 1 && main.busy.is_some());
    });
}

/// Runs two tasks, "one" and "two", that take two locks in opposite orders on `rt`, the
/// second lock by `lock_owned` if `owned`; returns the deadlock report and the names of the
/// one wait-for cycle it must name.
fn lock_order_deadlock(rt: &Runtime, owned: bool) -> (weft::runtime::DeadlockError, Vec<String>) {
    let err = rt
        .try_block_on(async {
            let (first, second) = (Mutex::new(()), Mutex::new(()));
            let one = weft::task::Builder::new().name("one").spawn({
                let (first, second) = (first.clone(), second.clone());
                async move {
                    let _a = first.lock().await;
                    weft::task::yield_now().await;
                    if owned {
                        let _b = second.lock_owned().await;
                    } else {
                        let _b = second.lock().await;
                    }
                }
            });
            let two = weft::task::Builder::new().name("two").spawn(async move {
                if owned {
                    let _b = second.lock_owned().await;
                    weft::task::yield_now().await;
                    let _a = first.lock().await;
                } else {
                    let _b = second.lock().await;
                    weft::task::yield_now().await;
                    let _a = first.lock().await;
                }
            });
            let _ = weft::join!(one, two);
        })
        .unwrap_err();
    let cycles = err.dump().cycles();
    assert_eq!(cycles.len(), 1, "{err}");
    let names = cycles[0]
        .iter()
        .map(|&id| err.dump().task(id).unwrap().name.clone().unwrap())
        .collect();
    (err, names)
}

#[test]
fn a_lock_order_deadlock_names_its_cycle() {
    let (err, names) = lock_order_deadlock(&debug_runtime(), false);
    assert_eq!(names, ["one", "two"]);
    let report = err.to_string();
    assert!(
        report.contains("wait-for cycle: task #2 (one) waits on Mutex#")
            && report.contains(", held by task #3 (two) ← task #3 (two) waits on Mutex#")
            && report.contains(", held by task #2 (one)"),
        "{report}"
    );
}

#[test]
fn a_full_queue_deadlock_names_the_queue_and_the_lock() {
    let rt = debug_runtime();
    let err = rt
        .try_block_on(async {
            let queue = weft::queue::Queue::new(1);
            let lock = Mutex::new(());
            let producer = weft::task::Builder::new().name("producer").spawn({
                let (queue, lock) = (queue.clone(), lock.clone());
                async move {
                    let _held = lock.lock().await;
                    for i in 0..2 {
                        queue.put(i).await.unwrap();
                    }
                }
            });
            let consumer = weft::task::Builder::new()
                .name("consumer")
                .spawn(async move {
                    weft::task::yield_now().await;
                    let _held = lock.lock().await;
                    queue.get().await.unwrap();
                });
            producer.await.unwrap();
            consumer.await.unwrap();
        })
        .unwrap_err();
    let report = err.to_string();
    assert!(
        report.contains("task #2 (producer)")
            && report.contains("waits on Queue#")
            && report.contains("put (full): no task is waiting to get"),
        "{report}"
    );
    assert!(
        report.contains(
            "wait-for chain: task #2 (producer) waits on Queue#1 put (full): no task is \
             waiting to get ← task #3 (consumer) waits on Mutex#2 lock, held by task #2 (producer)"
        ),
        "{report}"
    );
    assert_eq!(err.dump().chains().len(), 1, "{report}");
    let consumer = err
        .dump()
        .tasks
        .iter()
        .find(|t| t.name.as_deref() == Some("consumer"))
        .unwrap();
    assert!(consumer.waits_on[0].resource.starts_with("Mutex#"));
}

#[test]
fn outside_a_runtime_the_dump_is_empty() {
    assert!(weft::task::dump().tasks.is_empty());
}

#[test]
fn a_lock_cycle_is_named_without_debug_mode() {
    // Mutexes note their owner always: the deadlock report of a program nobody prepared
    // (and weft-ps's view of it) shows the cycle. Before, only debug mode tracked holders.
    let rt = Builder::new().debug(false).build().unwrap();
    let (_, names) = lock_order_deadlock(&rt, true);
    assert_eq!(names, ["one", "two"]);
}

#[test]
fn a_lock_released_has_no_owner_left() {
    weft::run(async {
        let lock = Mutex::new(());
        drop(lock.lock().await);
        let waiter = weft::spawn({
            let lock = lock.clone();
            async move {
                let _held = lock.lock().await;
            }
        });
        let _held = lock.lock().await;
        weft::task::yield_now().await;
        let dump = weft::task::dump();
        let main = weft::task::id();
        let waits = &dump.task(waiter.id()).unwrap().waits_on;
        assert_eq!(waits[0].held_by, [main], "{dump}");
    });
}

#[test]
fn the_dump_knows_who_spawned_whom_while_the_parent_lives() {
    weft::run(async {
        let main = weft::task::id();
        let parent = weft::spawn(async { weft::spawn(std::future::pending::<()>()).id() });
        let child = parent.await.unwrap();
        let long_lived = weft::spawn(async {
            let _kid = weft::spawn(std::future::pending::<()>());
            std::future::pending::<()>().await;
        });
        weft::task::yield_now().await;
        let dump = weft::task::dump();
        // The parent completed: its child is an orphan, listed without one.
        assert_eq!(dump.task(child).unwrap().parent, None);
        assert_eq!(dump.task(long_lived.id()).unwrap().parent, Some(main));
        let kid = dump
            .tasks
            .iter()
            .find(|t| t.parent == Some(long_lived.id()))
            .expect("the long-lived task's child");
        assert!(kid.id > long_lived.id());
        assert_eq!(dump.task(main).unwrap().parent, None);
    });
}

#[test]
fn the_dump_as_json_has_every_field_of_the_schema() {
    weft::run(async {
        let lock = Mutex::new(());
        let _held = lock.lock().await;
        let waiter = weft::task::Builder::new()
            .name("a \"quoted\"\nname")
            .spawn({
                let lock = lock.clone();
                async move {
                    let _held = lock.lock().await;
                }
            });
        weft::task::yield_now().await;
        let json: serde_json::Value = serde_json::from_str(&weft::task::dump().to_json()).unwrap();
        assert_eq!(json["schema"], weft::task::JSON_SCHEMA);
        let tasks = json["tasks"].as_array().unwrap();
        let main = &tasks[0];
        assert_eq!(main["name"], "main");
        assert_eq!(main["state"], "running");
        assert_eq!(main["parent"], serde_json::Value::Null);
        let site = |index: &serde_json::Value| {
            json["sites"][index.as_u64().unwrap() as usize]
                .as_str()
                .unwrap()
                .to_owned()
        };
        assert!(site(&main["site"]).starts_with("tests/dump.rs:"));
        let task = tasks
            .iter()
            .find(|t| t["id"] == waiter.id().as_u64())
            .unwrap();
        assert_eq!(task["name"], "a \"quoted\"\nname");
        assert_eq!(task["parent"], main["id"]);
        assert_eq!(task["state"], "waiting");
        for field in ["polls", "busy_ns", "idle_ns"] {
            assert_eq!(
                task[field],
                serde_json::Value::Null,
                "not counted outside debug mode"
            );
        }
        let wait = &task["waits_on"][0];
        assert!(wait["resource"].as_str().unwrap().starts_with("Mutex#"));
        assert_eq!(wait["operation"], "lock");
        assert!(site(&wait["created_site"]).starts_with("tests/dump.rs:"));
        assert_eq!(wait["held_by"], serde_json::json!([main["id"]]));
        assert_eq!(json["cycles"], serde_json::json!([]));
    });
}
