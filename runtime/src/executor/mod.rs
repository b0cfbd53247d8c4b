//! The executor: the loop that polls tasks, waits for I/O and fires timers, and what it owns.
//!
//! One file per concept:
//! - [`run_loop`]: one turn of the loop, step by step (its module docs are the loop's
//!   description), and what holds while it runs.
//! - `state`: the [`Executor`](state::Executor), what a running runtime owns on its thread,
//!   with private fields and the verbs the loop and the rest of weft use.
//! - `run_queue`: the FIFO of woken tasks, and the main future's turn in it; `tasks`: the
//!   tasks a runtime owns; `main_task`: the main future as a task; `idle`: the tasks that
//!   wait for all others to block.
//! - `observe`: one fan-out to the instruments, the flight recorder and debug mode.
//! - `builder`, `runtime`: the public [`Builder`] and [`Runtime`], and [`run`].
//! - `remote`: wakes from other threads; `shuffle`: seeded scheduling; `deadlock` and `dump`: proving a deadlock and describing
//!   the tasks; `context`: this thread's current runtime.

mod builder;
pub(crate) mod context;
mod deadlock;
mod debug;
mod dump;
mod graceful;
mod idle;
mod instrument;
mod main_task;
mod observe;
mod remote;
mod run_loop;
mod run_queue;
mod runtime;
mod shuffle;
mod sites;
pub(crate) mod state;
mod tasks;
mod time_limit;
mod trace_file;

pub use builder::Builder;
pub(crate) use context::{expect_core, with_core};
pub use deadlock::{DeadlockError, TaskReport};
pub use debug::{DebugEvent, LARGE_FUTURE};
pub use graceful::ShutdownReport;
pub use instrument::Instrument;
pub use runtime::{Runtime, run, seed, try_run};
pub use time_limit::TimeLimitError;

pub(crate) use builder::seed_from_env;
pub(crate) use remote::notify_all;

use crate::task::raw::TaskRef;

/// Queues a woken task: on this thread's run queue if it belongs to the runtime running here,
/// otherwise through its runtime's remote queue. The task cell calls this, and it is the one
/// way up from the task cell into the executor.
#[inline]
pub(crate) fn schedule(task: TaskRef) {
    let task = with_core(|executor| match executor {
        Some(executor) if executor.id() == task.runtime_id() => {
            executor.push(task);
            None
        }
        _ => Some(task),
    });
    if let Some(task) = task {
        remote::schedule_remote(task.into_notified());
    }
}
