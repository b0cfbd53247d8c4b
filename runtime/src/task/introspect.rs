//! `current_task` and `all_tasks`: what is running, and what exists.

use std::fmt;
use std::panic::Location;

use super::{TaskId, TaskLabel};
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

/// Where a task is in its life (finished tasks are not listed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskState {
    /// Being polled right now.
    Running,
    /// On the run queue: woken, or never polled yet.
    Ready,
    /// Waiting for a waker.
    Waiting,
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
            let task = &owned.task;
            let state = owned.state(current);
            tasks.push(TaskInfo {
                id: task.id(),
                name: task.name().map(str::to_owned),
                spawned_at: Some(owned.spawned_at),
                state,
            });
        });
        tasks.sort_by_key(|t| t.id);
        tasks
    })
}
