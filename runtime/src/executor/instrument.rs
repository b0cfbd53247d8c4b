//! `Instrument`: hooks into the scheduler, trio's set, for metrics and tracing without forking
//! weft.

use std::fmt;
use std::rc::Rc;
use std::time::Duration;

use crate::task::TaskId;

/// Hooks the runtime calls as it schedules, runs and finishes tasks and waits for I/O:
/// trio's `Instrument` interface. Register one with
/// [`Builder::instrument`](crate::runtime::Builder::instrument); every method has an empty
/// default, so an instrument implements only what it watches. A runtime with none registered
/// pays one untaken branch where each hook would be called, and nothing per poll.
///
/// The hooks run on the runtime's thread, inside the loop: keep them short (count, record a
/// timestamp), and do not block. The main future of `block_on` is a task here as everywhere
/// (named "main" in [`all_tasks`](crate::task::all_tasks)): it is spawned when `block_on`
/// starts and exits when it returns.
///
/// ```
/// use std::cell::Cell;
/// use std::rc::Rc;
/// use weft::runtime::{Builder, Instrument};
/// use weft::task::TaskId;
///
/// #[derive(Default)]
/// struct Steps(Cell<u32>);
///
/// impl Instrument for Steps {
///     fn after_task_step(&self, _task: TaskId) {
///         self.0.set(self.0.get() + 1);
///     }
/// }
///
/// let steps = Rc::new(Steps::default());
/// let rt = Builder::new().instrument(steps.clone()).build().unwrap();
/// rt.block_on(async {
///     weft::spawn(async { weft::task::yield_now().await }).await.unwrap();
/// });
/// // The task ran twice (before and after its yield), and main twice (before and after
/// // the task finished).
/// assert_eq!(steps.0.get(), 4);
/// ```
pub trait Instrument {
    /// A task was spawned (it is scheduled too, right after).
    fn task_spawned(&self, _task: TaskId) {}
    /// A task became runnable: spawned, woken, or yielding.
    fn task_scheduled(&self, _task: TaskId) {}
    /// A task is about to be polled.
    fn before_task_step(&self, _task: TaskId) {}
    /// A task's poll returned.
    fn after_task_step(&self, _task: TaskId) {}
    /// A task finished: returned, panicked or was aborted.
    fn task_exited(&self, _task: TaskId) {}
    /// The loop is about to wait for I/O, at most `timeout` (`None`: until something
    /// happens; `Some(ZERO)`: only a look).
    fn before_io_wait(&self, _timeout: Option<Duration>) {}
    /// The wait for I/O returned, with `events` readiness events.
    fn after_io_wait(&self, _events: usize) {}
}

/// The instruments of a runtime.
#[derive(Clone, Default)]
pub(crate) struct Instruments(Vec<Rc<dyn Instrument>>);

impl Instruments {
    pub(crate) fn push(&mut self, instrument: Rc<dyn Instrument>) {
        self.0.push(instrument);
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Calls `hook` on each instrument, in the order they were registered.
    pub(crate) fn each(&self, hook: impl Fn(&dyn Instrument)) {
        for instrument in &self.0 {
            hook(&**instrument);
        }
    }
}

impl fmt::Debug for Instruments {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} instrument(s)", self.0.len())
    }
}
