//! Tasks and time: joins, gathers and waits over tasks, task groups and pools, generators,
//! sleeps, timeouts and intervals. After a cancel, no result is lost that the operation
//! promises to keep, no task or timer is left behind that it promises to end, and no
//! slot of a pool is lost.

use std::time::Duration;

use weft::generator::AsyncGen;
use weft::task::{
    Pool, ReturnWhen, TaskGroup, as_completed, gather, gather_or_fail, wait, wait_for,
};
use weft::testing::{Cancel, Leaks};
use weft::time::{Instant, interval, sleep, timeout};
use weft::{JoinHandle, spawn, yield_now};

use crate::{Checked, Row, paused, real};

pub(crate) fn rows() -> Vec<Row> {
    vec![
        paused(
            "`JoinHandle` (awaiting a task)",
            "the task goes on to its end (dropping a handle detaches it)",
            join,
        ),
        paused(
            "`task::gather`",
            "no task is left running: the cancel cancels those not finished (as asyncio's does)",
            gather_row,
        ),
        paused(
            "`task::gather_or_fail`",
            "no task is left running: the cancel cancels those not finished (as asyncio's does)",
            gather_or_fail_row,
        ),
        paused(
            "`task::wait`",
            "every task goes on to its end (it cancels nothing, as in asyncio)",
            wait_row,
        ),
        paused(
            "`task::as_completed` (the stream's `next`)",
            "every task's result comes out exactly once, from this `next` or a later one",
            as_completed_row,
        ),
        paused(
            "`task::wait_for`",
            "the task is aborted (as asyncio's `wait_for` cancels it), and nothing is left behind",
            wait_for_row,
        ),
        paused(
            "`task::TaskGroup::join`",
            "the children go on, and a failure not returned is returned by the next `join`",
            group_join,
        ),
        paused(
            "`task::Pool::spawn` (waiting for a slot)",
            "no slot is lost: all are free once the tasks end",
            pool_spawn,
        ),
        paused(
            "`task::Pool::apply`",
            "no slot is lost: all are free once the tasks end",
            pool_apply,
        ),
        paused(
            "`task::Pool::map`",
            "no slot is lost: all are free once the tasks end",
            pool_map,
        ),
        paused(
            "`task::Pool::join`",
            "no slot is lost, and the next `join` returns once the tasks end",
            pool_join,
        ),
        paused(
            "`generator::AsyncGen::next`",
            "every value comes out exactly once and in order, from this `next` or a later one",
            generator_next,
        ),
        real(
            "`task::spawn_blocking` (awaiting it)",
            "the job runs to its end on its thread (a thread cannot be stopped half way)",
            blocking,
        ),
        paused("`time::sleep`", "no timer is left armed", sleep_row),
        paused("`time::timeout`", "no timer is left armed", timeout_row),
        paused(
            "`time::Interval::tick`",
            "a tick not returned is returned by the next `tick`, on schedule",
            interval_tick,
        ),
    ]
}

/// A task that takes `turns` turns and returns `value`.
fn after_turns(turns: usize, value: u32) -> JoinHandle<u32> {
    spawn(async move {
        for _ in 0..turns {
            yield_now().await;
        }
        value
    })
}

/// Three tasks that end one, two and three turns from now.
fn three_tasks() -> Vec<JoinHandle<u32>> {
    (1..=3).map(|n| after_turns(n, n as u32)).collect()
}

fn join(cancel: Cancel) -> Checked {
    Box::pin(async move {
        let (tx, rx) = weft::channel::oneshot::channel();
        let task = spawn(async move {
            yield_now().await;
            yield_now().await;
            let _ = tx.send(());
        });
        let _ = cancel.at(task).await;
        timeout(Duration::from_secs(1), rx)
            .await
            .map_err(|_| "the task was stopped by the cancel".to_owned())?
            .map_err(|_| "the task was stopped by the cancel".to_owned())
    })
}

/// `op` over three tasks, cancelled; afterwards no task of them may be left.
async fn nothing_left<F: std::future::Future>(
    cancel: Cancel,
    op: impl FnOnce(Vec<JoinHandle<u32>>) -> F,
) -> Result<(), String> {
    let before = Leaks::snapshot();
    let _ = cancel.at(op(three_tasks())).await;
    yield_now().await;
    before.check()
}

fn gather_row(cancel: Cancel) -> Checked {
    Box::pin(nothing_left(cancel, gather))
}

fn gather_or_fail_row(cancel: Cancel) -> Checked {
    Box::pin(nothing_left(cancel, gather_or_fail))
}

fn wait_row(cancel: Cancel) -> Checked {
    Box::pin(async move {
        let (tx, mut rx) = weft::channel::mpsc::unbounded();
        let tasks: Vec<_> = (1..=3usize)
            .map(|n| {
                let tx = tx.clone();
                spawn(async move {
                    for _ in 0..n {
                        yield_now().await;
                    }
                    let _ = tx.send(n);
                })
            })
            .collect();
        drop(tx);
        let _ = cancel.at(wait(tasks, None, ReturnWhen::AllCompleted)).await;
        let mut ended = Vec::new();
        while let Ok(Some(n)) = timeout(Duration::from_secs(1), rx.recv()).await {
            ended.push(n);
        }
        if ended.len() == 3 {
            Ok(())
        } else {
            Err(format!("only tasks {ended:?} of 1, 2, 3 reached their end"))
        }
    })
}

fn as_completed_row(cancel: Cancel) -> Checked {
    Box::pin(async move {
        let mut finished = as_completed(three_tasks());
        let mut got = Vec::new();
        if let Some(Some((_, result))) = cancel.at(finished.next()).await {
            got.push(result.map_err(|e| e.to_string())?);
        }
        while let Ok(Some((_, result))) = timeout(Duration::from_secs(1), finished.next()).await {
            got.push(result.map_err(|e| e.to_string())?);
        }
        got.sort_unstable();
        if got == [1, 2, 3] {
            Ok(())
        } else {
            Err(format!("the results {got:?}, where 1, 2 and 3 were due"))
        }
    })
}

fn wait_for_row(cancel: Cancel) -> Checked {
    Box::pin(async move {
        let before = Leaks::snapshot();
        let task = spawn(sleep(Duration::from_secs(5)));
        let _ = cancel.at(wait_for(task, Duration::from_secs(1))).await;
        yield_now().await;
        before.check()
    })
}

fn group_join(cancel: Cancel) -> Checked {
    Box::pin(async move {
        let group: TaskGroup<&'static str> = TaskGroup::new();
        group.spawn(async {
            yield_now().await;
            Err::<(), _>("boom")
        });
        group.spawn(async {
            yield_now().await;
            yield_now().await;
            Ok(())
        });
        let joined = match cancel.at(group.join()).await {
            Some(joined) => joined,
            None => timeout(Duration::from_secs(1), group.join())
                .await
                .map_err(|_| "the next join never returned".to_owned())?,
        };
        match joined {
            Err(error) if error.failed() == [&"boom"] => Ok(()),
            Err(error) => Err(format!("the failures were {:?}", error.failed())),
            Ok(()) => Err("the failure was lost".into()),
        }
    })
}

/// A pool of one, its slot taken for a turn by another task; `op` cancelled on it; once
/// the tasks are done, the slot must be free.
async fn slot_kept<F: std::future::Future>(
    cancel: Cancel,
    op: impl FnOnce(Pool) -> F,
) -> Result<(), String> {
    let pool = Pool::new(1);
    let first = pool.spawn(async { yield_now().await }).await;
    let _ = cancel.at(op(pool.clone())).await;
    first.await.map_err(|e| e.to_string())?;
    timeout(Duration::from_secs(1), pool.join())
        .await
        .map_err(|_| "the pool's tasks never ended".to_owned())?;
    match pool.free_count() {
        1 => Ok(()),
        n => Err(format!("{n} free slots in a pool of 1")),
    }
}

fn pool_spawn(cancel: Cancel) -> Checked {
    // The handle is dropped: the task runs on, detached, and must give its slot back.
    Box::pin(slot_kept(cancel, |pool| async move {
        drop(pool.spawn(after_turns(2, 0)).await);
    }))
}

fn pool_apply(cancel: Cancel) -> Checked {
    Box::pin(slot_kept(cancel, |pool| async move {
        pool.apply(after_turns(2, 0)).await
    }))
}

fn pool_map(cancel: Cancel) -> Checked {
    Box::pin(slot_kept(cancel, |pool| async move {
        pool.map([1, 2, 3], |turns| after_turns(turns, 0)).await
    }))
}

fn pool_join(cancel: Cancel) -> Checked {
    Box::pin(slot_kept(cancel, |pool| async move { pool.join().await }))
}

fn generator_next(cancel: Cancel) -> Checked {
    Box::pin(async move {
        let mut numbers: AsyncGen<u32> = AsyncGen::new(|co| async move {
            for n in 1..=3u32 {
                sleep(Duration::from_millis(1)).await;
                co.yield_(n).await?;
            }
            Ok(())
        });
        let mut got: Vec<u32> = cancel
            .at(numbers.next())
            .await
            .flatten()
            .into_iter()
            .collect();
        while let Some(n) = numbers.next().await {
            got.push(n);
        }
        if got == [1, 2, 3] {
            Ok(())
        } else {
            Err(format!("the values came out as {got:?}"))
        }
    })
}

fn blocking(cancel: Cancel) -> Checked {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    Box::pin(async move {
        let ended = Arc::new(AtomicBool::new(false));
        let job = {
            let ended = ended.clone();
            weft::task::spawn_blocking(move || {
                std::thread::sleep(Duration::from_millis(5));
                ended.store(true, Ordering::Release);
            })
        };
        let _ = cancel.at(job).await;
        // The job is on another thread: look for its end for up to five seconds.
        for _ in 0..1_000 {
            if ended.load(Ordering::Acquire) {
                return Ok(());
            }
            sleep(Duration::from_millis(5)).await;
        }
        Err("the job was stopped half way".into())
    })
}

fn sleep_row(cancel: Cancel) -> Checked {
    Box::pin(async move {
        let before = Leaks::snapshot();
        let _ = cancel.at(sleep(Duration::from_secs(5))).await;
        before.check()
    })
}

fn timeout_row(cancel: Cancel) -> Checked {
    Box::pin(async move {
        let before = Leaks::snapshot();
        let limited = timeout(Duration::from_secs(1), sleep(Duration::from_secs(5)));
        let _ = cancel.at(limited).await;
        before.check()
    })
}

fn interval_tick(cancel: Cancel) -> Checked {
    Box::pin(async move {
        let start = Instant::now();
        let period = Duration::from_millis(10);
        let mut ticks = interval(period);
        ticks.tick().await;
        let tick = match cancel.at(ticks.tick()).await {
            Some(tick) => tick,
            None => ticks.tick().await,
        };
        if tick == start + period && start.elapsed() == period {
            Ok(())
        } else {
            Err(format!(
                "the second tick came at +{:?}, due at +{period:?}",
                tick - start
            ))
        }
    })
}
