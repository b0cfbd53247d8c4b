//! weft::cores: one runtime per core, spawn_on, channels between cores, SO_REUSEPORT sharding,
//! and stopping (on request, on a failure, with messages in flight).

use std::cell::Cell;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::rc::Rc;
use std::time::Duration;

use weft::cores::{Builder, CoreHandle, CoreTaskError, CoresError, channel};
use weft::io::{AsyncReadExt, AsyncWriteExt};
use weft::net::{StreamServer, TcpStream};

type Error = Box<dyn std::error::Error + Send + Sync>;

fn two_cores() -> Builder {
    // Unpinned: the test harness runs tests side by side.
    Builder::new(2).pin(false)
}

#[test]
fn each_core_gets_its_index_and_outputs_come_back_in_order() {
    let outputs = Builder::new(3)
        .pin(false)
        .run(|core| async move {
            assert_eq!(core.count(), 3);
            Ok::<_, Error>((
                core.index(),
                std::thread::current().name().map(str::to_owned),
            ))
        })
        .unwrap();
    let indexes: Vec<usize> = outputs.iter().map(|(i, _)| *i).collect();
    assert_eq!(indexes, [0, 1, 2]);
    // Core 0 runs on the calling thread; the others on threads of their own.
    assert_eq!(outputs[1].1.as_deref(), Some("weft-core-1"));
    assert_eq!(outputs[2].1.as_deref(), Some("weft-core-2"));
    assert_ne!(outputs[0].1.as_deref(), Some("weft-core-0"));
}

#[test]
fn a_message_storm_between_cores_loses_nothing_and_wakes_every_receiver() {
    const RECEIVERS: usize = 16;
    const PER_RECEIVER: u64 = 5_000;
    // One channel per receiver task on each core; both cores send to the other's receivers.
    let lanes: Vec<Vec<_>> = (0..2)
        .map(|_| (0..RECEIVERS).map(|_| channel::bounded::<u64>(8)).collect())
        .collect();
    let totals = two_cores()
        .run(move |core| {
            let mine: Vec<_> = lanes[core.index()]
                .iter()
                .map(|(_, rx)| rx.clone())
                .collect();
            let theirs: Vec<_> = lanes[1 - core.index()]
                .iter()
                .map(|(tx, _)| tx.clone())
                .collect();
            async move {
                let receivers: Vec<_> = mine
                    .into_iter()
                    .map(|rx| {
                        weft::spawn(async move {
                            let (mut sum, mut count) = (0, 0);
                            while count < PER_RECEIVER {
                                sum += rx.recv().await.unwrap();
                                count += 1;
                            }
                            sum
                        })
                    })
                    .collect();
                // Interleaved over the lanes, so every receiver is woken again and again.
                for n in 0..PER_RECEIVER {
                    for tx in &theirs {
                        tx.send(n).await.unwrap();
                    }
                }
                let mut total = 0;
                for receiver in receivers {
                    total += receiver.await.unwrap();
                }
                Ok::<u64, Error>(total)
            }
        })
        .unwrap();
    let expected = RECEIVERS as u64 * (PER_RECEIVER * (PER_RECEIVER - 1) / 2);
    assert_eq!(totals, [expected, expected]);
}

#[test]
fn shutdown_with_messages_in_flight_stops_every_core_and_loses_none() {
    let (tx, rx) = channel::bounded::<u64>(64);
    let leftover = rx.clone();
    let outputs = two_cores()
        .run(move |core| {
            let (tx, rx) = (tx.clone(), rx.clone());
            async move {
                if core.index() == 0 {
                    // Sends until the stop, counting what the channel took.
                    let mut sent = 0;
                    loop {
                        weft::select! {
                            biased;
                            () = core.stopping() => break,
                            result = tx.send(sent) => { result.unwrap(); sent += 1; }
                        }
                    }
                    Ok::<_, Error>(sent)
                } else {
                    let mut received = 0;
                    while received < 1_000 {
                        assert_eq!(rx.recv().await.unwrap(), received, "out of order");
                        received += 1;
                    }
                    core.shutdown();
                    Ok(received)
                }
            }
        })
        .unwrap();
    // What core 0 sent is what core 1 took plus what is still queued.
    assert_eq!(outputs[0], outputs[1] + leftover.len() as u64);
    let queued: Vec<u64> = std::iter::from_fn(|| leftover.try_recv().ok()).collect();
    assert_eq!(queued, (outputs[1]..outputs[0]).collect::<Vec<_>>());
}

#[test]
fn a_panic_on_one_core_stops_the_others_and_is_reported() {
    let error = two_cores()
        .run(|core| async move {
            if core.index() == 1 {
                panic!("core 1 gives up");
            }
            core.stopping().await;
            Ok::<(), Error>(())
        })
        .unwrap_err();
    assert_eq!(error.core(), 1);
    assert_eq!(error.to_string(), "core 1 panicked: core 1 gives up");
    match error {
        CoresError::Panicked { payload, .. } => {
            assert_eq!(payload.downcast_ref::<&str>(), Some(&"core 1 gives up"));
        }
        other => panic!("expected a panic, got {other}"),
    }
}

#[test]
fn an_error_on_one_core_stops_the_others_and_is_reported() {
    let error = two_cores()
        .run(|core| async move {
            if core.index() == 0 {
                return Err("core 0 could not bind".to_string());
            }
            core.stopping().await;
            Ok(())
        })
        .unwrap_err();
    assert!(
        matches!(&error, CoresError::Failed { core: 0, error } if error == "core 0 could not bind")
    );
}

#[test]
fn run_each_keeps_the_outputs_of_the_cores_that_did_not_fail() {
    let outcomes = Builder::new(3).pin(false).run_each(|core| async move {
        match core.index() {
            1 => Err(format!("core {} failed", core.index())),
            _ => {
                core.stopping().await; // core 1's failure asks the others to stop
                Ok(core.index() * 10)
            }
        }
    });
    assert_eq!(outcomes.len(), 3);
    assert_eq!(outcomes[0].as_ref().ok(), Some(&0));
    assert!(
        matches!(&outcomes[1], Err(CoresError::Failed { core: 1, error }) if error == "core 1 failed")
    );
    assert_eq!(outcomes[2].as_ref().ok(), Some(&20));
}

#[test]
fn a_core_that_ignores_the_stop_is_dropped_after_the_grace_period() {
    let dropped = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let error = Builder::new(2)
        .pin(false)
        .grace(Duration::from_millis(50))
        .run({
            let dropped = dropped.clone();
            move |core| {
                let dropped = dropped.clone();
                async move {
                    if core.index() == 0 {
                        core.shutdown();
                        return Ok::<(), Error>(());
                    }
                    struct Flag(std::sync::Arc<std::sync::atomic::AtomicBool>);
                    impl Drop for Flag {
                        fn drop(&mut self) {
                            self.0.store(true, std::sync::atomic::Ordering::SeqCst);
                        }
                    }
                    let _flag = Flag(dropped);
                    std::future::pending::<()>().await;
                    Ok(())
                }
            }
        })
        .unwrap_err();
    assert!(
        matches!(error, CoresError::Cancelled { core: 1 }),
        "{error}"
    );
    assert!(dropped.load(std::sync::atomic::Ordering::SeqCst));
}

#[test]
fn spawn_on_builds_the_future_on_the_target_core_and_any_core_awaits_it() {
    let (handles, handed) = channel::bounded(1);
    two_cores()
        .run(move |core| {
            let (handles, handed) = (handles.clone(), handed.clone());
            async move {
                if core.index() == 0 {
                    // A !Send future, built and run on core 1, awaited here on core 0.
                    let there = core.spawn_on(1, || async {
                        let local = Rc::new(Cell::new(20));
                        weft::task::yield_now().await;
                        local.set(local.get() + 1);
                        (
                            local.get() * 2,
                            std::thread::current().name().map(str::to_owned),
                        )
                    });
                    assert_eq!(there.core(), 1);
                    let (value, thread) = there.await.unwrap();
                    assert_eq!((value, thread.as_deref()), (42, Some("weft-core-1")));
                    // A handle made here for a task on core 0, handed to core 1 to await.
                    let mine = core.spawn_on(0, || async { "made on core 0" });
                    handles.send(mine).await.unwrap();
                } else {
                    let handle = handed.recv().await.unwrap();
                    assert_eq!(handle.await.unwrap(), "made on core 0");
                    core.shutdown();
                }
                // Each core keeps serving its inbox until core 1 is done.
                core.stopping().await;
                Ok::<(), Error>(())
            }
        })
        .unwrap();
}

#[test]
fn spawn_on_reports_a_panic_and_a_core_that_does_not_exist() {
    two_cores()
        .run(|core| async move {
            if core.index() == 0 {
                let panicked = core
                    .spawn_on(1, || async { panic!("boom on core 1") })
                    .await
                    .unwrap_err();
                assert_eq!(
                    panicked.try_into_panic().unwrap().downcast_ref::<&str>(),
                    Some(&"boom on core 1")
                );
                let nowhere = core.spawn_on(7, || async {}).await.unwrap_err();
                assert!(
                    matches!(nowhere, CoreTaskError::NotRun { core: 7 }),
                    "{nowhere}"
                );
                // The panic did not take core 1's inbox down with it.
                assert_eq!(core.spawn_on(1, || async { 5 }).await.unwrap(), 5);
                core.shutdown();
            }
            // Core 1 serves its inbox until then.
            core.stopping().await;
            Ok::<(), Error>(())
        })
        .unwrap();
}

#[test]
fn spawn_on_a_core_that_has_stopped_says_the_task_never_ran() {
    let (done, core1_done) = channel::bounded::<()>(1);
    two_cores()
        .run(move |core| {
            let (done, core1_done) = (done.clone(), core1_done.clone());
            async move {
                if core.index() == 1 {
                    done.send(()).await?; // and core 1 ends at once
                    return Ok::<(), Error>(());
                }
                // Core 1's main is returning; its runtime is gone soon after.
                core1_done.recv().await?;
                let mut tries = 0;
                loop {
                    tries += 1;
                    match core.spawn_on(1, || async { 1 }).await {
                        Err(CoreTaskError::NotRun { core: 1 }) => break,
                        // Sent before core 1's runtime closed its inbox: it ran, or it was
                        // cancelled with the runtime.
                        Ok(1) | Err(CoreTaskError::Join(_)) => {
                            assert!(tries < 1_000_000, "core 1 never refused a task");
                            weft::task::yield_now().await;
                        }
                        Ok(other) => panic!("unexpected {other}"),
                        Err(other) => panic!("unexpected {other}"),
                    }
                }
                Ok(())
            }
        })
        .unwrap();
}

#[test]
fn reuse_port_listeners_on_every_core_each_accept_connections() {
    const CLIENTS: usize = 64;
    let (bound, all_bound) = channel::bounded::<std::net::SocketAddr>(2);
    let served = two_cores()
        .run(move |core: CoreHandle| {
            let (bound, all_bound) = (bound.clone(), all_bound.clone());
            async move {
                let server = StreamServer::bind_per_core(&core, "127.0.0.1:0".parse().unwrap())?;
                bound.send(server.local_addr()?).await?;
                let index = core.index() as u8;
                let stop = server.stop_handle();
                let serving = weft::spawn(server.serve(move |mut conn, _| async move {
                    let _ = conn.write_all(&[index]).await;
                }));
                let mut counts = [0; 2];
                if core.index() == 0 {
                    let first = all_bound.recv().await?;
                    let second = all_bound.recv().await?;
                    assert_eq!(first, second, "the cores listen on different addresses");
                    for _ in 0..CLIENTS {
                        let mut conn = TcpStream::connect(first).await?;
                        let mut who = [0];
                        conn.read_exact(&mut who).await?;
                        counts[who[0] as usize] += 1;
                    }
                    core.shutdown();
                }
                core.stopping().await;
                stop.stop(Duration::ZERO);
                serving.await.unwrap()?;
                Ok::<_, Error>(counts)
            }
        })
        .unwrap();
    let [on_0, on_1] = served[0];
    assert_eq!(on_0 + on_1, CLIENTS);
    // The kernel hashes each connection's addresses: with 64 connections, a core with none
    // would mean the listeners are not sharing the port (odds 2^-63 otherwise).
    assert!(on_0 > 0 && on_1 > 0, "core 0 served {on_0}, core 1 {on_1}");
}

#[test]
fn a_core_waiting_on_another_core_is_not_reported_as_deadlocked() {
    let (blocked, core1_blocked) = channel::bounded::<()>(1);
    let (message, incoming) = channel::bounded::<&str>(1);
    let outputs = two_cores()
        .run(move |core| {
            let (blocked, core1_blocked) = (blocked.clone(), core1_blocked.clone());
            let (message, incoming) = (message.clone(), incoming.clone());
            async move {
                if core.index() == 1 {
                    weft::spawn(async move {
                        weft::task::wait_all_tasks_blocked().await;
                        blocked.send(()).await.unwrap();
                    });
                    // Only core 0 can end this wait: a deadlock check that counted the
                    // channel's waker as weft's own would fail the run here.
                    return Ok::<_, Error>(incoming.recv().await?);
                }
                core1_blocked.recv().await?;
                // One more round trip through core 1's loop, so it has been idle with only
                // the cross-core waker left, and checked for a deadlock, before the message.
                core.spawn_on(1, weft::task::wait_all_tasks_blocked)
                    .await
                    .unwrap();
                message.send("from core 0").await?;
                Ok("sent")
            }
        })
        .unwrap();
    assert_eq!(outputs, ["sent", "from core 0"]);
}

#[test]
fn echo_server_with_two_threads_serves_from_both_cores_and_stops_on_ctrl_c() {
    let mut server = Command::new(test_support::example_binary("echo_server"))
        .args(["--addr", "127.0.0.1:0", "--threads", "2"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = server.id();
    let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
    let banner = lines.next().unwrap().unwrap();
    assert!(banner.contains("2 threads"), "{banner}");
    let addr: std::net::SocketAddr = banner
        .split_whitespace()
        .nth(4)
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("no address in {banner:?}"));
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    assert!(status.contains("\nThreads:\t2\n"), "{status}");
    for n in 0..64u8 {
        let mut conn = std::net::TcpStream::connect(addr).unwrap();
        std::io::Write::write_all(&mut conn, &[n]).unwrap();
        let mut echo = [0];
        std::io::Read::read_exact(&mut conn, &mut echo).unwrap();
        assert_eq!(echo, [n]);
    }
    rustix::process::kill_process(
        rustix::process::Pid::from_raw(pid as i32).unwrap(),
        rustix::process::Signal::INT,
    )
    .unwrap();
    let rest: Vec<String> = lines.map(Result::unwrap).collect();
    assert!(server.wait().unwrap().success());
    let served = |core: usize| -> usize {
        let prefix = format!("[core {core}] stopped after serving ");
        let line = rest
            .iter()
            .find_map(|l| l.strip_prefix(&prefix))
            .unwrap_or_else(|| panic!("no summary for core {core} in {rest:#?}"));
        line.split_whitespace().next().unwrap().parse().unwrap()
    };
    let (on_0, on_1) = (served(0), served(1));
    assert_eq!(on_0 + on_1, 64);
    assert!(on_0 > 0 && on_1 > 0, "core 0 served {on_0}, core 1 {on_1}");
    assert!(rest.iter().any(|l| l.starts_with("[core 1] + ")));
}

/// The CPUs the calling thread may run on, as /proc says.
fn allowed_cpus_of_this_thread() -> String {
    std::fs::read_to_string("/proc/thread-self/status")
        .unwrap()
        .lines()
        .find(|l| l.starts_with("Cpus_allowed_list:"))
        .unwrap()
        .to_owned()
}

#[test]
fn pinned_cores_run_on_one_cpu_each_and_the_caller_gets_its_cpus_back() {
    let before = allowed_cpus_of_this_thread();
    let cpus = std::thread::available_parallelism().unwrap().get();
    let seen = Builder::per_cpu()
        .run(|core| async move { Ok::<_, Error>((core.count(), allowed_cpus_of_this_thread())) })
        .unwrap();
    assert_eq!(seen.len(), cpus);
    for (index, (count, allowed)) in seen.iter().enumerate() {
        assert_eq!(*count, cpus);
        // Pinned to one CPU (where the system allows pinning at all: then the list is one
        // number).
        let list = allowed.split_whitespace().last().unwrap();
        if cpus > 1 {
            assert!(
                !list.contains(['-', ',']),
                "core {index} is not pinned: {allowed}"
            );
        }
    }
    assert_eq!(
        allowed_cpus_of_this_thread(),
        before,
        "the caller's CPU set was not restored"
    );
}
