//! Combinators and introspection through the public API: ordering, cancellation, error paths.

use std::cell::Cell;
use std::future::pending;
use std::rc::Rc;
use std::time::Duration;

use test_support::DropProbe;
use weft::future::{join_all, race, shield};
use weft::sync::Event;
use weft::task::{self, TaskState, all_tasks, current_task, gather, gather_or_fail, yield_now};
use weft::time::{sleep, timeout};

#[test]
fn join_all_keeps_list_order_and_runs_concurrently() {
    weft::run(async {
        let order = Rc::new(std::cell::RefCell::new(Vec::new()));
        let futures = [3u8, 1, 2].map(|n| {
            let order = order.clone();
            async move {
                for _ in 0..n {
                    yield_now().await;
                }
                order.borrow_mut().push(n);
                n
            }
        });
        assert_eq!(join_all(futures).await, [3, 1, 2]);
        assert_eq!(
            *order.borrow(),
            [1, 2, 3],
            "they interleaved: the shortest finished first"
        );
        assert!(
            join_all(Vec::<std::future::Ready<u8>>::new())
                .await
                .is_empty()
        );
    });
}

#[weft::test(paused)]
async fn dropping_join_all_midway_drops_every_future() {
    let drops = Rc::new(Cell::new(0));
    let futures: Vec<_> = (0..3)
        .map(|_| {
            let probe = DropProbe::new(&drops);
            async move {
                let _probe = probe;
                pending::<()>().await
            }
        })
        .collect();
    assert!(
        timeout(Duration::from_millis(1), join_all(futures))
            .await
            .is_err()
    );
    assert_eq!(drops.get(), 3);
}

#[weft::test(paused)]
async fn race_returns_the_first_and_drops_the_rest() {
    let drops = Rc::new(Cell::new(0));
    let racers: Vec<_> = [50u64, 1, 30]
        .into_iter()
        .map(|ms| {
            let probe = DropProbe::new(&drops);
            async move {
                let _probe = probe;
                sleep(Duration::from_millis(ms)).await;
                ms
            }
        })
        .collect();
    assert_eq!(race(racers).await, (1, 1));
    assert_eq!(
        drops.get(),
        3,
        "the winner finished, the losers were dropped"
    );
}

#[test]
#[should_panic(expected = "at least one future")]
fn race_of_nothing_is_refused() {
    weft::run(race(Vec::<std::future::Ready<()>>::new()));
}

#[weft::test(paused)]
async fn shielded_work_survives_the_outer_cancel() {
    let (go, done) = (Event::new(), Event::new());
    let work = {
        let (go, done) = (go.clone(), done.clone());
        async move {
            go.wait().await;
            done.set();
            7
        }
    };
    // The work cannot finish before `go`, so the timeout is sure to win.
    assert!(
        timeout(Duration::from_millis(1), shield(work))
            .await
            .is_err()
    );
    assert!(!done.is_set());
    go.set();
    done.wait().await; // the shielded work went on after its waiter gave up
    // Awaited to the end, a shielded future gives the output.
    assert_eq!(shield(async { 5 }).await.unwrap(), 5);
}

#[test]
fn gather_returns_failures_as_values_in_order() {
    weft::run(async {
        let ok = weft::spawn(async { 1 });
        let panics = weft::spawn(async {
            yield_now().await;
            panic!("expected in this test")
        });
        let aborted = weft::spawn(pending::<i32>());
        aborted.abort();
        let results = gather([ok, panics, aborted]).await;
        assert_eq!(results[0].as_ref().ok(), Some(&1));
        assert!(results[1].as_ref().unwrap_err().is_panic());
        assert!(results[2].as_ref().unwrap_err().is_cancelled());
    });
}

#[test]
fn gather_or_fail_fails_fast_without_cancelling_the_others() {
    weft::run(async {
        let (release, survived) = (Event::new(), Event::new());
        let slow = weft::spawn({
            let (release, survived) = (release.clone(), survived.clone());
            async move {
                release.wait().await;
                survived.set();
            }
        });
        let bad = weft::spawn(async { panic!("expected in this test") });
        assert!(gather_or_fail([slow, bad]).await.unwrap_err().is_panic());
        assert!(!survived.is_set(), "reported before the slow task finished");
        release.set();
        survived.wait().await; // the sibling was not cancelled
        let all = gather_or_fail((1..=3).map(|n| weft::spawn(async move { n }))).await;
        assert_eq!(all.unwrap(), [1, 2, 3]);
    });
}

#[test]
fn introspection_names_tasks_and_their_states() {
    assert!(current_task().is_none());
    weft::run(async {
        assert_eq!(current_task().unwrap().name.as_deref(), Some("main"));
        let waiting = task::Builder::new().name("waiting").spawn(pending::<()>());
        yield_now().await; // it ran once and now waits
        let ready = task::Builder::new().name("ready").spawn(async {});
        let me_inside = task::Builder::new().name("self").spawn(async {
            let me = current_task().unwrap();
            (me.name, me.state)
        });
        let listed: Vec<_> = all_tasks()
            .into_iter()
            .map(|t| (t.name.unwrap_or_default(), t.state))
            .collect();
        assert_eq!(
            listed,
            [
                ("main".to_string(), TaskState::Running),
                ("waiting".to_string(), TaskState::Waiting),
                ("ready".to_string(), TaskState::Ready),
                ("self".to_string(), TaskState::Ready),
            ]
        );
        assert_eq!(
            me_inside.await.unwrap(),
            (Some("self".to_string()), TaskState::Running)
        );
        ready.await.unwrap();
        waiting.abort();
        assert!(
            all_tasks()
                .iter()
                .all(|t| t.name.as_deref() != Some("ready"))
        );
    });
}

mod task_group {
    use super::*;
    use weft::task::{Failure, GroupFinishedError, TaskGroup};

    #[test]
    fn children_of_different_types_hand_their_outputs_to_their_handles() {
        weft::run(async {
            let group: TaskGroup<()> = TaskGroup::new();
            let number = group.spawn(async {
                yield_now().await;
                Ok(3u32)
            });
            let text = group.spawn(async { Ok("three") });
            assert!(!number.is_refused() && !text.is_refused());
            group.join().await.unwrap();
            assert_eq!(number.await, Some(3));
            assert_eq!(text.await, Some("three"));
            assert_eq!(
                group.try_spawn(async { Ok(9) }).unwrap_err(),
                GroupFinishedError
            );
            // spawn on a joined group hands back a refused handle, no Result to unwrap.
            let late = group.spawn(async { Ok(9) });
            assert!(late.is_refused());
            assert_eq!(late.await, None);
        });
    }

    #[test]
    fn the_first_failure_cancels_the_siblings_and_failures_are_returned() {
        let drops = Rc::new(Cell::new(0));
        weft::run({
            let drops = drops.clone();
            async move {
                let group: TaskGroup<&str> = TaskGroup::new();
                let mut siblings = Vec::new();
                for _ in 0..3 {
                    let probe = DropProbe::new(&drops);
                    siblings.push(group.spawn(async move {
                        let _probe = probe;
                        pending::<()>().await;
                        Ok(())
                    }));
                }
                group.spawn(async { Err::<(), _>("first") });
                // Cancelled by the first failure before it ever runs, as in asyncio.
                group.spawn(async { Err::<(), _>("second") });
                let err = group.join().await.unwrap_err();
                assert_eq!(err.failed(), [&"first"]);
                assert_eq!(drops.get(), 3, "the siblings were cancelled");
                assert!(err.to_string().starts_with("1 task(s) of the group failed"));
                for sibling in siblings {
                    assert_eq!(sibling.await, None, "a cancelled child has no output");
                }
            }
        });
    }

    #[test]
    fn a_failure_cancels_the_siblings_at_once_even_while_nobody_joins() {
        // asyncio cancels the siblings when the failure happens, not when join next runs.
        let drops = Rc::new(Cell::new(0));
        weft::run({
            let drops = drops.clone();
            async move {
                let group: TaskGroup<&str> = TaskGroup::new();
                let probe = DropProbe::new(&drops);
                let ticks = Rc::new(Cell::new(0));
                group.spawn({
                    let ticks = ticks.clone();
                    async move {
                        let _probe = probe;
                        loop {
                            ticks.set(ticks.get() + 1);
                            yield_now().await;
                        }
                        #[allow(unreachable_code)]
                        Ok(())
                    }
                });
                group.spawn(async { Err::<(), _>("boom") });
                // The owner is busy elsewhere and does not poll join.
                yield_now().await;
                yield_now().await;
                assert_eq!(drops.get(), 1, "the sibling was cancelled without a join");
                let after_cancel = ticks.get();
                yield_now().await;
                assert_eq!(ticks.get(), after_cancel, "the sibling no longer runs");
                assert_eq!(
                    group.try_spawn(async { Ok(()) }).unwrap_err(),
                    GroupFinishedError,
                    "a failed group refuses new children"
                );
                assert_eq!(group.join().await.unwrap_err().failed(), [&"boom"]);
            }
        });
    }

    #[test]
    fn a_panicking_child_counts_as_a_failure() {
        weft::run(async {
            let group: TaskGroup<()> = TaskGroup::new();
            let child: weft::task::GroupChild<()> =
                group.spawn(async { panic!("expected in this test") });
            let err = group.join().await.unwrap_err();
            assert!(matches!(err.failures(), [Failure::Panicked(e)] if e.is_panic()));
            assert_eq!(child.await, None);
        });
    }

    #[test]
    fn abort_ends_the_group_without_an_error() {
        weft::run(async {
            let group: TaskGroup<()> = TaskGroup::new();
            let done = group.spawn(async { Ok(1u8) });
            let stuck = group.spawn(async {
                pending::<()>().await;
                Ok(2u8)
            });
            yield_now().await; // the first child finishes
            let aborter = group.clone();
            weft::spawn(async move { aborter.abort() });
            group.join().await.unwrap();
            assert_eq!((done.await, stuck.await), (Some(1), None));
            assert_eq!(
                group.try_spawn(async { Ok(3) }).unwrap_err(),
                GroupFinishedError
            );
        });
    }

    #[test]
    fn children_may_spawn_siblings_and_join_waits_for_them() {
        weft::run(async {
            let group: TaskGroup<()> = TaskGroup::new();
            let inner = group.clone();
            let grandchild = Rc::new(Cell::new(false));
            group.spawn({
                let grandchild = grandchild.clone();
                async move {
                    let g = inner.spawn(async move {
                        yield_now().await;
                        yield_now().await;
                        grandchild.set(true);
                        Ok(())
                    });
                    drop(g);
                    Ok("child")
                }
            });
            group.join().await.unwrap();
            assert!(grandchild.get(), "join waited for the grandchild");
        });
    }

    #[test]
    fn dropping_an_unjoined_group_cancels_its_children() {
        let drops = Rc::new(Cell::new(0));
        weft::run({
            let drops = drops.clone();
            async move {
                let group: TaskGroup<()> = TaskGroup::new();
                let probe = DropProbe::new(&drops);
                drop(group.spawn(async move {
                    let _probe = probe;
                    pending::<()>().await;
                    Ok(())
                }));
                drop(group);
                yield_now().await;
                yield_now().await;
                assert_eq!(drops.get(), 1);
            }
        });
    }
}

mod pool {
    use super::*;
    use weft::task::Pool;

    #[weft::test(paused)]
    async fn a_pool_never_runs_more_than_its_size() {
        let pool = Pool::new(3);
        let (running, most) = (Rc::new(Cell::new(0)), Rc::new(Cell::new(0)));
        let mut handles = Vec::new();
        for i in 0..20u64 {
            let (running, most) = (running.clone(), most.clone());
            handles.push(
                pool.spawn(async move {
                    running.set(running.get() + 1);
                    most.set(most.get().max(running.get()));
                    sleep(Duration::from_millis(i % 3)).await;
                    running.set(running.get() - 1);
                })
                .await,
            );
            assert!(pool.free_count() <= 3);
        }
        for h in handles {
            h.await.unwrap();
        }
        assert_eq!(most.get(), 3);
        assert_eq!(pool.free_count(), 3);
    }

    #[test]
    fn a_panicking_or_aborted_task_gives_its_slot_back() {
        weft::run(async {
            let pool = Pool::new(1);
            assert!(
                pool.apply(async { panic!("expected in this test") })
                    .await
                    .unwrap_err()
                    .is_panic()
            );
            let stuck = pool.spawn(pending::<()>()).await;
            assert_eq!(pool.free_count(), 0);
            stuck.abort();
            pool.join().await;
            assert_eq!(pool.apply(async { 5 }).await.unwrap(), 5);
        });
    }

    #[weft::test(paused)]
    async fn imap_is_ordered_and_imap_unordered_follows_completion() {
        let pool = Pool::new(4);
        let work = |ms: u64| async move {
            sleep(Duration::from_millis(ms)).await;
            ms
        };
        // On the paused clock a millisecond apart is as good as an hour: the order is exact.
        let start = weft::time::Instant::now();
        let mut ordered = pool.imap([3u64, 1, 2], work);
        let mut seen = Vec::new();
        while let Some(r) = ordered.next().await {
            seen.push(r.unwrap());
        }
        assert_eq!(seen, [3, 1, 2]);
        assert_eq!(start.elapsed(), Duration::from_millis(3), "all ran at once");
        let mut unordered = pool.imap_unordered([3u64, 1, 2], work);
        let mut seen = Vec::new();
        while let Some(r) = unordered.next().await {
            seen.push(r.unwrap());
        }
        assert_eq!(seen, [1, 2, 3]);
        let collected = pool.map_unordered([3u64, 1, 2], work).await;
        let collected: Vec<u64> = collected.into_iter().map(Result::unwrap).collect();
        assert_eq!(collected, [1, 2, 3]);
    }

    #[weft::test(paused)]
    async fn join_waits_until_the_pool_is_empty() {
        let pool = Pool::new(2);
        let done = Rc::new(Cell::new(0));
        for _ in 0..2 {
            let done = done.clone();
            drop(
                pool.spawn(async move {
                    sleep(Duration::from_millis(2)).await;
                    done.set(done.get() + 1);
                })
                .await,
            );
        }
        pool.join().await;
        assert_eq!(done.get(), 2);
    }
}

mod joins_and_waits {
    use super::*;
    use weft::future::try_join_all;
    use weft::task::{ReturnWhen, as_completed, wait};

    #[test]
    fn join_macro_runs_futures_of_different_types_concurrently() {
        weft::run(async {
            let order = Rc::new(std::cell::RefCell::new(Vec::new()));
            let (o1, o2) = (order.clone(), order.clone());
            let (a, b, c) = weft::join!(
                async move {
                    yield_now().await;
                    o1.borrow_mut().push("a");
                    1u8
                },
                async move {
                    o2.borrow_mut().push("b");
                    "b"
                },
                async { 3.5f32 },
            );
            assert_eq!((a, b, c), (1, "b", 3.5));
            assert_eq!(*order.borrow(), ["b", "a"]);
        });
    }

    #[test]
    fn join_macro_takes_one_to_eight_futures() {
        weft::run(async {
            let (one,) = weft::join!(async { 1 });
            assert_eq!(one, 1);
            let eight = weft::join!(
                async { 1u8 },
                async { 2u16 },
                async { 3u32 },
                async { 4u64 },
                async { '5' },
                async { "6" },
                async { 7.0f64 },
                async {
                    yield_now().await;
                    8i8
                },
            );
            assert_eq!(eight, (1, 2, 3, 4, '5', "6", 7.0, 8));
        });
    }

    #[test]
    fn try_join_macro_cancels_the_rest_on_the_first_error() {
        let drops = Rc::new(Cell::new(0));
        weft::run({
            let drops = drops.clone();
            async move {
                let probe = DropProbe::new(&drops);
                let slow = async move {
                    let _probe = probe;
                    pending::<Result<u8, &str>>().await
                };
                let failing = async {
                    yield_now().await;
                    Err::<u8, &str>("bad")
                };
                let result = weft::try_join!(slow, failing);
                assert_eq!(result, Err("bad"));
                assert_eq!(drops.get(), 1, "the pending sibling was dropped");
            }
        });
    }

    #[test]
    fn try_join_all_returns_outputs_or_the_first_error() {
        weft::run(async {
            let all: Result<Vec<u32>, String> =
                try_join_all((1..=3).map(|n| async move { Ok(n) })).await;
            assert_eq!(all, Ok(vec![1, 2, 3]));
            let failed: Result<Vec<u32>, &str> = try_join_all([
                Box::pin(async { pending::<Result<u32, &str>>().await })
                    as std::pin::Pin<Box<dyn std::future::Future<Output = _>>>,
                Box::pin(async { Err("first") }),
            ])
            .await;
            assert_eq!(failed, Err("first"));
        });
    }

    #[weft::test(paused)]
    async fn wait_returns_when_asked_and_cancels_nothing() {
        let spawn_sleep = |ms: u64| {
            weft::spawn(async move {
                sleep(Duration::from_millis(ms)).await;
                ms
            })
        };
        // The first task waits for an event that only the test sets, so the second is
        // sure to finish first, however loaded the machine.
        let go = Event::new();
        let held = weft::spawn({
            let go = go.clone();
            async move {
                go.wait().await;
                20
            }
        });
        let waited = wait([held, spawn_sleep(1)], None, ReturnWhen::FirstCompleted).await;
        assert_eq!(waited.done.len(), 1);
        assert_eq!(waited.done[0].0, 1);
        assert_eq!(waited.pending.len(), 1);
        let (index, still_running) = waited.pending.into_iter().next().unwrap();
        assert_eq!(index, 0);
        go.set();
        assert_eq!(still_running.await.unwrap(), 20, "not cancelled");

        let failing = weft::spawn(async { panic!("expected in this test") });
        let waited = wait(
            [spawn_sleep(3600), failing],
            None,
            ReturnWhen::FirstException,
        )
        .await;
        assert!(waited.done[0].1.as_ref().unwrap_err().is_panic());
        waited.pending[0].1.abort();

        let waited = wait(
            [spawn_sleep(3600)],
            Some(Duration::from_millis(2)),
            ReturnWhen::AllCompleted,
        )
        .await;
        assert!(
            waited.done.is_empty(),
            "a timeout is not an error: nothing finished"
        );
        waited.pending[0].1.abort();
    }

    #[weft::test(paused)]
    async fn as_completed_yields_in_finishing_order() {
        let tasks: Vec<_> = [60u64, 20, 40]
            .into_iter()
            .map(|ms| {
                weft::spawn(async move {
                    sleep(Duration::from_millis(ms)).await;
                    ms
                })
            })
            .collect();
        let mut stream = as_completed(tasks);
        let mut seen = Vec::new();
        while let Some((index, result)) = stream.next().await {
            seen.push((index, result.unwrap()));
        }
        assert_eq!(seen, [(1, 20), (2, 40), (0, 60)]);
    }
}

mod select_macro {
    use super::*;

    #[weft::test(paused)]
    async fn the_first_branch_to_finish_wins_and_the_others_are_dropped() {
        let drops = Rc::new(Cell::new(0));
        let probe = DropProbe::new(&drops);
        let slow = async move {
            let _probe = probe;
            sleep(Duration::from_secs(3600)).await;
            "slow"
        };
        let winner = weft::select! {
            s = slow => s.to_string(),
            n = async { yield_now().await; 7u8 } => format!("fast {n}"),
        };
        assert_eq!(winner, "fast 7");
        assert_eq!(drops.get(), 1, "the losing branch was dropped");
    }

    #[test]
    fn unbiased_select_is_fair_and_biased_select_is_in_order() {
        weft::run(async {
            let mut wins = [0u32; 2];
            for _ in 0..100 {
                let i = weft::select! {
                    a = async { 0usize } => a,
                    b = async { 1usize } => b,
                };
                wins[i] += 1;
            }
            assert!(
                wins[0] > 0 && wins[1] > 0,
                "one always-ready branch starved the other: {wins:?}"
            );
            for _ in 0..10 {
                let i = weft::select! {
                    biased;
                    a = async { 0usize } => a,
                    b = async { 1usize } => b,
                };
                assert_eq!(i, 0);
            }
        });
    }
}

/// Two tasks that finish in the same turn of the loop, the second in the list first.
fn finish_in_reverse_order_in_one_turn() -> (Vec<weft::JoinHandle<&'static str>>, Event, Event) {
    let (a_go, b_go) = (Event::new(), Event::new());
    let spawn_after = |go: &Event, name| {
        let go = go.clone();
        weft::spawn(async move {
            go.wait().await;
            name
        })
    };
    let tasks = vec![spawn_after(&a_go, "a"), spawn_after(&b_go, "b")];
    (tasks, a_go, b_go)
}

#[test]
fn as_completed_reports_tasks_finishing_in_one_turn_in_finishing_order() {
    weft::run(async {
        let (tasks, a_go, b_go) = finish_in_reverse_order_in_one_turn();
        let mut finished = task::as_completed(tasks);
        yield_now().await; // both wait
        b_go.set(); // b is woken, and so finishes, first
        a_go.set();
        let mut order = Vec::new();
        while let Some((index, result)) = finished.next().await {
            order.push((index, result.unwrap()));
        }
        assert_eq!(order, [(1, "b"), (0, "a")]);
    });
}

#[test]
fn wait_reports_done_tasks_in_finishing_order() {
    weft::run(async {
        let (tasks, a_go, b_go) = finish_in_reverse_order_in_one_turn();
        yield_now().await;
        b_go.set();
        a_go.set();
        let waited = task::wait(tasks, None, task::ReturnWhen::AllCompleted).await;
        let done: Vec<_> = waited
            .done
            .into_iter()
            .map(|(i, r)| (i, r.unwrap()))
            .collect();
        assert_eq!(done, [(1, "b"), (0, "a")]);
    });
}

#[weft::test(paused)]
async fn cancelling_a_gather_cancels_the_children_it_still_waits_for() {
    for fail_fast in [false, true] {
        let drops = Rc::new(Cell::new(0));
        let done = weft::spawn(async { 1 });
        let probe = DropProbe::new(&drops);
        let stuck = weft::spawn(async move {
            let _probe = probe;
            pending::<u32>().await
        });
        yield_now().await; // `done` finishes, `stuck` waits forever
        let tasks = [done, stuck];
        let timed_out = if fail_fast {
            timeout(Duration::from_millis(1), gather_or_fail(tasks))
                .await
                .is_err()
        } else {
            timeout(Duration::from_millis(1), gather(tasks))
                .await
                .is_err()
        };
        assert!(timed_out);
        yield_now().await;
        assert_eq!(
            drops.get(),
            1,
            "the unfinished child was cancelled (fail_fast: {fail_fast})"
        );
    }
}

#[weft::test(paused)]
async fn wait_and_as_completed_cancel_nothing_when_dropped() {
    let go = Event::new();
    let spawn_waiter = || {
        let go = go.clone();
        weft::spawn(async move { go.wait().await })
    };
    let (a, b) = (spawn_waiter(), spawn_waiter());
    let (a_id, b_id) = (a.id(), b.id());
    drop(task::as_completed([a]));
    let waited = timeout(
        Duration::from_millis(1),
        task::wait([b], None, task::ReturnWhen::AllCompleted),
    )
    .await;
    assert!(waited.is_err());
    yield_now().await;
    let alive: Vec<_> = all_tasks().iter().map(|t| t.id).collect();
    assert!(
        alive.contains(&a_id) && alive.contains(&b_id),
        "both still run"
    );
    go.set();
}

#[weft::test(paused)]
async fn wait_for_aborts_the_task_on_timeout_and_when_cancelled_but_not_on_success() {
    let drops = Rc::new(Cell::new(0));
    let quick = weft::spawn(async { 5 });
    assert_eq!(
        task::wait_for(quick, Duration::from_secs(60))
            .await
            .unwrap()
            .unwrap(),
        5
    );

    let probe = DropProbe::new(&drops);
    let stuck = weft::spawn(async move {
        let _probe = probe;
        pending::<()>().await
    });
    let waited = task::wait_for(stuck, Duration::from_millis(1)).await;
    assert_eq!(waited.unwrap_err(), weft::time::TimeoutError::new());
    yield_now().await;
    assert_eq!(drops.get(), 1, "the timed-out task was aborted");

    let probe = DropProbe::new(&drops);
    let stuck = weft::spawn(async move {
        let _probe = probe;
        pending::<()>().await
    });
    drop(task::wait_for(stuck, Duration::from_secs(60)));
    yield_now().await;
    assert_eq!(drops.get(), 2, "cancelling wait_for aborted its task");
}

#[weft::test(paused)]
async fn as_completed_timeout_reports_what_finished_then_the_timeout() {
    let go = Event::new();
    let quick = weft::spawn(async { "quick" });
    let held = weft::spawn({
        let go = go.clone();
        async move {
            go.wait().await;
            "held"
        }
    });
    let held_id = held.id();
    let mut finished = task::as_completed_timeout([held, quick], Duration::from_millis(2));
    let (index, result) = finished.next().await.unwrap().unwrap();
    assert_eq!((index, result.unwrap()), (1, "quick"));
    assert!(finished.next().await.unwrap().is_err(), "then the timeout");
    assert!(finished.next().await.is_none(), "and the end");
    assert!(
        all_tasks().iter().any(|t| t.id == held_id),
        "nothing was cancelled"
    );
    go.set();
}
