//! weft::task::Spawner through futures-task's traits, as a runtime-agnostic library uses it.

use std::cell::RefCell;
use std::future::poll_fn;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};

use futures_task::{FutureObj, LocalFutureObj, LocalSpawn, Spawn, SpawnError};

/// What a library written against futures-task looks like: it spawns `n` jobs through
/// whatever `LocalSpawn` it is given and reports each result into `results`.
fn spawn_squares(
    spawner: &impl LocalSpawn,
    n: u64,
    results: &Rc<RefCell<Vec<u64>>>,
) -> Result<(), SpawnError> {
    for i in 0..n {
        let results = results.clone();
        spawner.spawn_local_obj(LocalFutureObj::new(Box::new(async move {
            weft::task::yield_now().await;
            results.borrow_mut().push(i * i);
        })))?;
    }
    Ok(())
}

#[test]
fn a_library_spawns_a_thousand_tasks_through_local_spawn() {
    let results = Rc::new(RefCell::new(Vec::new()));
    weft::run({
        let results = results.clone();
        async move {
            let spawner = weft::task::spawner();
            assert!(spawner.status_local().is_ok());
            spawn_squares(&spawner, 1000, &results).unwrap();
            while results.borrow().len() < 1000 {
                weft::task::yield_now().await;
            }
        }
    });
    let mut got = results.take();
    got.sort_unstable();
    assert_eq!(got, (0..1000u64).map(|i| i * i).collect::<Vec<_>>());
}

/// A flag another thread's future sets, with the waker of whoever waits for it.
#[derive(Default)]
struct Flag {
    set: AtomicBool,
    waiter: Mutex<Option<Waker>>,
}

impl Flag {
    fn set(&self) {
        self.set.store(true, Ordering::Release);
        if let Some(waker) = self.waiter.lock().unwrap().take() {
            waker.wake();
        }
    }

    async fn wait(&self) {
        poll_fn(|cx| {
            *self.waiter.lock().unwrap() = Some(cx.waker().clone());
            if self.set.load(Ordering::Acquire) {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        })
        .await
    }
}

#[test]
fn spawn_from_another_thread_runs_the_future_on_the_runtimes_thread() {
    let runtime_thread = std::thread::current().id();
    weft::run(async move {
        let spawner = weft::task::spawner();
        let ran = Arc::new(Flag::default());
        let sender = std::thread::spawn({
            let (spawner, ran) = (spawner.clone(), ran.clone());
            move || {
                spawner.spawn_obj(FutureObj::new(Box::new(async move {
                    assert_eq!(std::thread::current().id(), runtime_thread);
                    ran.set();
                })))
            }
        });
        ran.wait().await;
        sender.join().unwrap().unwrap();
    });
}

#[test]
fn after_shutdown_both_traits_report_the_shutdown_error() {
    let spawner = weft::run(async { weft::task::spawner() });
    // The runtime is gone: its intake task was dropped with it.
    assert!(spawner.status().is_err());
    let refused = spawner.spawn_obj(FutureObj::new(Box::new(async {})));
    assert!(refused.unwrap_err().is_shutdown());
    let refused_local = spawner.spawn_local_obj(LocalFutureObj::new(Box::new(async {})));
    assert!(refused_local.unwrap_err().is_shutdown());
    // From another thread too, and without a panic.
    let from_thread = std::thread::spawn(move || {
        spawner
            .spawn_obj(FutureObj::new(Box::new(async {})))
            .map_err(|e| e.is_shutdown())
    });
    assert_eq!(from_thread.join().unwrap(), Err(true));
}

#[test]
fn local_spawn_from_another_thread_is_refused() {
    weft::run(async {
        let spawner = weft::task::spawner();
        let elsewhere = std::thread::spawn(move || {
            spawner
                .spawn_local_obj(LocalFutureObj::new(Box::new(async {})))
                .map_err(|e| e.is_shutdown())
        });
        assert_eq!(elsewhere.join().unwrap(), Err(true));
    });
}

#[test]
fn once_every_spawner_is_dropped_a_deadlock_is_reported_again() {
    let report = weft::try_run(async {
        let spawner = weft::task::spawner();
        drop(spawner.clone());
        drop(spawner);
        weft::sync::Event::new().wait().await; // nothing can set it
    })
    .unwrap_err();
    let names: Vec<_> = report.tasks().iter().map(|t| t.name.as_deref()).collect();
    assert_eq!(names, [Some("main")], "the intake task ended: {report}");
}
