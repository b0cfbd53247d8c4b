//! Proving that nothing can ever wake the runtime again, and reporting it.
//!
//! gevent raises `LoopExit` when its hub has nothing left to wait for; asyncio just hangs. weft
//! reports the same situation, but only when it can *prove* it:
//! - no task is ready and the main future was not woken,
//! - no timer is armed and no I/O source is registered,
//! - and no waker exists outside weft's own bookkeeping. Each task's reference count says how
//!   many wakers point at it; the ones weft itself holds (a task waiting on a `JoinHandle`, or
//!   stored in a weft primitive's `WakerSlot`: an `Event`, a `Queue`, a channel) are
//!   subtracted. Anything left over could be in another thread's hands, so weft waits.
//!
//! A waker kept by a foreign primitive (say, a `futures` channel) counts as "outside", so a
//! deadlock through one is not reported: weft then blocks like any other runtime would.

use std::collections::HashSet;
use std::fmt;
use std::panic::Location;
use std::task::Waker;

use super::state::Executor as Core;
use super::tasks::OwnedTask;
use crate::task::raw::is_task_waker;
use crate::task::{TaskDump, TaskId, TaskLabel};

/// `run` found that the main future waits for something that can never happen: no task can
/// run and nothing (timer, socket, other thread) can ever wake one. Lists every task.
#[derive(Debug, Clone)]
pub struct DeadlockError {
    tasks: Vec<TaskReport>,
    dump: TaskDump,
}

/// One task, as a [`DeadlockError`] report or a [`DebugEvent`](super::DebugEvent) describes it.
#[derive(Debug, Clone)]
pub struct TaskReport {
    /// The task's id.
    pub id: TaskId,
    /// Its name, if it was spawned with one.
    pub name: Option<String>,
    /// Where it was spawned.
    pub spawned_at: &'static Location<'static>,
    /// True if some task (or the main future) is awaiting its `JoinHandle`. (A
    /// [`DebugEvent`](super::DebugEvent) counts any awaiter, even one outside weft, as the
    /// slow poll left it: a task that finished in it is awaited no more.)
    pub awaited: bool,
}

impl DeadlockError {
    /// The tasks that were waiting, in spawn order, the main future (named "main") among
    /// them.
    pub fn tasks(&self) -> &[TaskReport] {
        &self.tasks
    }

    /// What each task (and the main future) waited on, who held it, and the wait-for
    /// cycles: the dump [`task::dump`](crate::task::dump) would have given at that moment.
    pub fn dump(&self) -> &TaskDump {
        &self.dump
    }
}

impl fmt::Display for DeadlockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "deadlock: the main future is waiting, but nothing can ever wake it: no task is \
             ready, no timer is armed, no socket is registered, and no waker is held outside \
             the runtime"
        )?;
        if self.tasks.len() <= 1 {
            writeln!(f, "  (there are no other tasks)")?;
        }
        write!(f, "{}", self.dump)
    }
}

impl std::error::Error for DeadlockError {}

/// `task #7 (fetch) spawned at src/main.rs:12:5`.
impl fmt::Display for TaskReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let task = TaskLabel(self.id, self.name.as_deref());
        write!(f, "{task} spawned at {}", self.spawned_at)
    }
}

/// `Some(report)` if the runtime provably can never make progress again. The caller has
/// checked that nothing is queued and the main future was not woken.
#[inline]
pub(crate) fn check(
    core: &Core,
    main_waker: &Waker,
    main_outside_refs: usize,
) -> Option<DeadlockError> {
    // What rules a deadlock out at a glance, checked inline before anything is gathered: a
    // server with a socket open asks this on every turn in which it blocks (out of line, the
    // question cost an echo round trip 32 instructions, callgrind).
    if outside_can_wake(core) || core.timers().armed() > 0 {
        return None;
    }
    gather(core, main_waker, main_outside_refs)
}

/// The deadlock proof proper, and the report if it holds.
#[cold]
#[inline(never)]
fn gather(core: &Core, main_waker: &Waker, main_outside_refs: usize) -> Option<DeadlockError> {
    let mut tasks = Vec::new();
    let stuck = census(
        core,
        main_waker,
        main_outside_refs,
        |owned, local_joiner| {
            tasks.push(owned.report(local_joiner));
        },
    );
    if !stuck {
        return None;
    }
    tasks.extend(core.main_report());
    tasks.sort_by_key(|t| t.id);
    Some(DeadlockError {
        tasks,
        dump: core.dump(),
    })
}

/// Whether nothing but a timer can ever wake the runtime again: no socket is registered, no
/// other thread has woken it, and no waker is held outside weft. A paused clock then jumps
/// to the next timer rather than wait for ever.
pub(crate) fn only_timers_can_wake(
    core: &Core,
    main_waker: &Waker,
    main_outside_refs: usize,
) -> bool {
    census(core, main_waker, main_outside_refs, |_, _| {})
}

/// Whether a socket or another thread may wake the runtime.
#[inline]
fn outside_can_wake(core: &Core) -> bool {
    core.reactor().registrations() > 0 || core.remote().is_notified()
}

/// Counts the wakers of the tasks and the main future that are held outside weft (a timer's
/// or a primitive's are weft's), calling `each_task` with every task and whether a local task
/// awaits it; true if none is held outside and nothing else can wake the runtime.
fn census(
    core: &Core,
    main_waker: &Waker,
    main_outside_refs: usize,
    mut each_task: impl FnMut(&OwnedTask, bool),
) -> bool {
    if outside_can_wake(core) {
        return false;
    }
    let is_local = |w: &Waker| is_task_waker(w) || w.will_wake(main_waker);
    let mut outside = main_outside_refs;
    let mut held_by_weft = 0;
    let mut live: HashSet<usize> = core.main_waker_target().into_iter().collect();
    core.for_each_task(|owned| {
        let task = owned.task();
        live.insert(task.addr());
        let census = task.waker_census(is_local);
        let (extra_refs, local_joiner) =
            (census.other_refs, census.joiner.is_some_and(|j| j.local));
        outside += extra_refs;
        held_by_weft += usize::from(local_joiner);
        each_task(owned, local_joiner);
    });
    // Wakers stored by weft's primitives (Event, Queue, channels...) are held by weft too;
    // only those of live tasks and of the main future are counted, as above. So are the
    // wakers of armed timers.
    held_by_weft += core.held_wakers().count_waking(&live);
    held_by_weft += core.timers().count_waking(&live);
    outside <= held_by_weft
}
