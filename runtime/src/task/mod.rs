//! Tasks: spawning, joining, aborting, yielding.
//!
//! A task is a future the runtime drives to completion on its own, like an asyncio `Task` or a
//! gevent `Greenlet`. [`spawn`] starts one and returns a [`JoinHandle`]; awaiting the handle
//! gives the task's output, or a [`JoinError`] if it was aborted or panicked. Dropping the handle
//! detaches the task: it keeps running (a daemon) until it finishes or the runtime shuts down.
//!
//! # Life of a task
//! 1. `spawn` allocates one cell (header + future) and puts it on the run queue.
//! 2. The executor pops it and polls the future with a waker that points at the cell.
//! 3. `Pending`: the task sleeps until something calls `wake` on a clone of that waker, which
//!    sets `SCHEDULED` and pushes it on the run queue (once, however often it is woken).
//! 4. `Ready` (or a panic, or an abort): the future is dropped, the output is stored, and the
//!    task that awaits the `JoinHandle` is woken.
//!
//! The rules that make the unsafe cell sound are written at the top of `task/raw/mod.rs`; the flags
//! of the state word in `task/state.rs`.

mod all_blocked;
#[cfg(feature = "blocking")]
mod blocking;
pub(crate) mod budget;
pub(crate) mod census;
pub(crate) mod context_var;
pub(crate) mod contexts;
mod dump;
mod dump_json;
mod gather;
mod group;
mod id;
mod id_map;
mod introspect;
mod join;
mod pool;
// The one module allowed unsafe code: its rules are at its top.
#[allow(unsafe_code)]
pub(crate) mod raw;
mod spawn;
mod spawner;
pub(crate) mod state;
mod wait;
mod yield_now;

use std::any::Any;

pub use all_blocked::wait_all_tasks_blocked;
#[cfg(feature = "blocking")]
pub use blocking::{Blocking, IDLE_TIMEOUT, MAX_THREADS, spawn_blocking};
pub use budget::{consume_budget, poll_budget};
pub use context_var::{ContextVar, PausedTasks, ResetError, Scope, Token};
pub use dump::{DumpedTask, TaskDump, TaskState, WaitsOn};
pub use dump_json::JSON_SCHEMA;
pub(crate) use dump_json::{push_number, string as json_string};
pub use gather::{gather, gather_or_fail};
pub use group::{Failure, GroupChild, GroupError, GroupFinishedError, TaskGroup};
pub use id::TaskId;
pub(crate) use id::TaskLabel;
pub(crate) use id_map::{IdMap, NumberMap};
pub use introspect::{TaskInfo, all_tasks, current_task, dump, id, try_id};
pub use join::{JoinError, JoinHandle};
pub use pool::Pool;
pub use spawn::{Builder, spawn};
pub use spawner::{Spawner, spawner};
pub use wait::{
    Completed, ReturnWhen, WaitFor, Waited, as_completed, as_completed_timeout, wait, wait_for,
};
pub use yield_now::yield_now;

/// Why a task produced no output. Kept one word wide so it adds nothing to a task's size.
pub(crate) enum TaskFailure {
    Cancelled,
    Panicked(Box<Box<dyn Any + Send>>),
}

/// A task panicked and nobody will ever look at its `JoinHandle`: say so once, like asyncio's
/// "Task exception was never retrieved". (The panic message itself was already printed by the
/// panic hook.)
pub(crate) fn report_unobserved_panic(id: TaskId, name: Option<&str>) {
    let task = TaskLabel(id, name);
    eprintln!("weft: {task} panicked and its JoinHandle was dropped");
}

#[cfg(test)]
mod tests;
