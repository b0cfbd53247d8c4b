//! `current_task` and `all_tasks`: what is running, and what exists.

use std::fmt;
use std::panic::Location;

use super::{TaskDump, TaskId, TaskLabel, TaskState};
use crate::executor::with_core;

/// What [`current_task`] and [`all_tasks`] tell about a task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskInfo {
    /// The task's id.
    pub id: TaskId,
    /// Its name, if it was spawned with one (the main future of `run` is called "main").
    pub name: Option<String>,
    /// Where it was spawned (for the main future, where `run` or `block_on` was called).
    pub spawned_at: Option<&'static Location<'static>>,
    /// Whether it is running, ready to run, or waiting.
    pub state: TaskState,
}

impl fmt::Display for TaskInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let task = TaskLabel(self.id, self.name.as_deref());
        write!(f, "{task}: {:?}", self.state)
    }
}

/// The task being polled right now: asyncio's `current_task()`. `None` outside a runtime.
///
/// ```
/// weft::run(async {
///     let me = weft::task::current_task().unwrap();
///     assert_eq!(me.name.as_deref(), Some("main"));
///     let worker = weft::task::Builder::new()
///         .name("worker")
///         .spawn(async { weft::task::current_task().unwrap().name });
///     assert_eq!(worker.await.unwrap().as_deref(), Some("worker"));
/// });
/// ```
pub fn current_task() -> Option<TaskInfo> {
    let id = super::try_id()?;
    all_tasks().into_iter().find(|t| t.id == id)
}

/// Every task of the current runtime that has not finished, in spawn order: asyncio's
/// `all_tasks()`. The main future of `run` (or `block_on`) is a task as in asyncio, listed
/// first as "main". Empty outside a runtime.
///
/// ```
/// weft::run(async {
///     let _idle = weft::task::Builder::new().name("idle").spawn(std::future::pending::<()>());
///     let names: Vec<_> = weft::task::all_tasks().into_iter().filter_map(|t| t.name).collect();
///     assert_eq!(names, ["main", "idle"]);
/// });
/// ```
pub fn all_tasks() -> Vec<TaskInfo> {
    with_core(|core| {
        let Some(core) = core else { return Vec::new() };
        let current = core.current();
        let mut tasks = Vec::new();
        if let Some(main) = core.main_report() {
            let state = if current == Some(main.id) {
                TaskState::Running
            } else {
                TaskState::Waiting
            };
            tasks.push(TaskInfo {
                id: main.id,
                name: main.name,
                spawned_at: Some(main.spawned_at),
                state,
            });
        }
        core.for_each_task(|owned| {
            let task = owned.task();
            let state = owned.state(current);
            tasks.push(TaskInfo {
                id: task.id(),
                name: task.name().map(|name| name.to_string()),
                spawned_at: Some(owned.spawned_at()),
                state,
            });
        });
        tasks.sort_by_key(|t| t.id);
        tasks
    })
}

/// Every task of the runtime running on this thread, what each waits on and who holds it:
/// the dump a person reads when a program hangs. Empty outside a runtime. In debug mode
/// (`WEFT_DEBUG=1`) or with the flight recorder on, it also counts polls and busy and idle
/// time, and names the holders of locks and permits.
///
/// ```
/// use weft::sync::Mutex;
///
/// let rt = weft::runtime::Builder::new().debug(true).build().unwrap();
/// rt.block_on(async {
///     let lock = Mutex::new(0);
///     let guard = lock.lock().await;
///     let waiter = weft::task::Builder::new().name("waiter").spawn({
///         let lock = lock.clone();
///         async move { *lock.lock().await += 1 }
///     });
///     weft::task::yield_now().await; // the waiter runs, and waits for the lock
///     let dump = weft::task::dump();
///     let waiter_id = dump.tasks.iter().find(|t| t.name.as_deref() == Some("waiter")).unwrap().id;
///     let wait = &dump.task(waiter_id).unwrap().waits_on[0];
///     assert!(wait.resource.starts_with("Mutex#"));
///     assert_eq!(wait.operation, "lock");
///     assert_eq!(wait.held_by, [weft::task::id()]); // the main future holds it
///     println!("{dump}");
///     drop(guard);
///     waiter.await.unwrap();
/// });
/// ```
pub fn dump() -> TaskDump {
    with_core(|core| core.map(|core| core.dump()).unwrap_or_default())
}

/// The id of the task being polled right now (the main future of `run` has one too).
///
/// ```
/// weft::run(async {
///     let main = weft::task::id();
///     let child = weft::spawn(async { weft::task::id() });
///     let child_id = child.id();
///     assert_eq!(child.await.unwrap(), child_id);
///     assert_ne!(child_id, main);
/// });
/// ```
///
/// # Panics
/// Outside a runtime; see [`try_id`].
pub fn id() -> TaskId {
    try_id()
        .expect("weft::task::id must be called from inside a task or the main future of weft::run")
}

/// The id of the task being polled right now, or `None` outside a runtime.
pub fn try_id() -> Option<TaskId> {
    with_core(|core| core.and_then(|c| c.current()))
}
