//! The task dump: every task, what it waits on, and who holds that; and the wait-for cycles.
//! What the executor fills in and [`dump`](crate::task::dump) returns, kept below both.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;
use std::panic::Location;
use std::time::Duration;

use super::{IdMap, TaskId, TaskLabel};

/// Every task of a runtime and what each one waits on: [`dump`](crate::task::dump)'s answer, and the heart of
/// a deadlock report. Its `Display` is the report a person reads: a line per task, then each
/// wait-for cycle.
#[derive(Debug, Clone, Default)]
pub struct TaskDump {
    /// The tasks, in id order; the main future of `block_on`/`run` is listed as "main".
    pub tasks: Vec<DumpedTask>,
}

/// One task in a [`TaskDump`].
#[derive(Debug, Clone)]
pub struct DumpedTask {
    /// Its id.
    pub id: TaskId,
    /// Its name ("main" for the main future).
    pub name: Option<String>,
    /// Where it was spawned (for the main future, where `run` or `block_on` was called).
    pub spawned_at: Option<&'static Location<'static>>,
    /// Running, ready, or waiting.
    pub state: TaskState,
    /// How many times it was polled; counted in debug mode and with the flight recorder.
    pub polls: Option<u64>,
    /// Time spent inside its polls; measured in debug mode and with the flight recorder.
    pub busy: Option<Duration>,
    /// Time since its last poll ended (how long it has been waiting); measured likewise.
    pub idle: Option<Duration>,
    /// The task that spawned it, if that one is still alive (`None` for the main future,
    /// for tasks spawned from outside any task, and for orphans).
    pub parent: Option<TaskId>,
    /// What its wakers wait on (usually one thing; `select!` and `join!` wait on several).
    pub waits_on: Vec<WaitsOn>,
}

/// Something a task waits on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitsOn {
    /// The resource: `Mutex#3`, `Queue#2`, `task #7` (a `JoinHandle`), `sleep`,
    /// `I/O source #4`. Primitives are numbered in the order they were created, per thread.
    pub resource: Cow<'static, str>,
    /// The operation waited for: `lock`, `put (full)`, `recv`, `join`, `read`, ...
    pub operation: Cow<'static, str>,
    /// Where the resource was created (primitives, numbered as they are created).
    pub created_at: Option<&'static Location<'static>>,
    /// The tasks that hold it: a `Mutex`'s or `RLock`'s owner, a semaphore's permit holders
    /// (tracked in debug mode and with the flight recorder), the task behind a `JoinHandle`.
    pub held_by: Vec<TaskId>,
}

impl TaskDump {
    /// The task called `id`.
    pub fn task(&self, id: TaskId) -> Option<&DumpedTask> {
        // A dump lists its tasks in id order; one put together by hand may not.
        match self.tasks.binary_search_by_key(&id, |t| t.id) {
            Ok(at) => Some(&self.tasks[at]),
            Err(_) => self.tasks.iter().find(|t| t.id == id),
        }
    }

    /// The wait-for cycles: each a list of tasks, every one waiting on something the next
    /// holds, the last on something the first holds. Each cycle is listed once, starting at
    /// its lowest id.
    pub fn cycles(&self) -> Vec<Vec<TaskId>> {
        // Only a task that holds something waited on, and waits on something held, can be on
        // a cycle: the graph is built on those alone (in a dump of many tasks, a handful).
        let holders: IdSet = self
            .tasks
            .iter()
            .flat_map(|t| t.waits_on.iter().flat_map(|w| w.held_by.iter().copied()))
            .collect();
        let mut edges: IdMap<Vec<TaskId>> = self
            .tasks
            .iter()
            .filter(|t| holders.contains(&t.id))
            .filter_map(|t| {
                let mut next: Vec<TaskId> = t
                    .waits_on
                    .iter()
                    .flat_map(|w| w.held_by.iter().copied())
                    .filter(|h| holders.contains(h))
                    .collect();
                next.sort();
                next.dedup();
                (!next.is_empty()).then_some((t.id, next))
            })
            .collect();
        peel(&mut edges);
        let mut cycles = Vec::new();
        let mut seen = HashSet::new();
        let mut starts: Vec<TaskId> = edges.keys().copied().collect();
        starts.sort();
        for start in starts {
            // Walk every simple path from `start` through higher ids only, so each cycle is
            // found once, from its lowest member.
            let mut stack = vec![(start, vec![start])];
            while let Some((at, path)) = stack.pop() {
                for &next in edges.get(&at).into_iter().flatten() {
                    if next == start {
                        if seen.insert(path.clone()) {
                            cycles.push(path.clone());
                        }
                    } else if next > start && !path.contains(&next) {
                        let mut longer = path.clone();
                        longer.push(next);
                        stack.push((next, longer));
                    }
                }
            }
        }
        cycles.sort();
        cycles
    }

    /// The wait-for chains that end in a wait nobody holds: each a list of tasks, the first
    /// waiting on something no task holds (a full queue, an event never set), each next one
    /// waiting on something the one before holds. A chain is what a deadlock without a cycle
    /// looks like: "the producer waits on a full queue, and the consumer waits on the lock the
    /// producer holds". Tasks on a cycle are left out (`cycles` names them).
    pub fn chains(&self) -> Vec<Vec<TaskId>> {
        self.chains_beside(&self.cycles())
    }

    /// [`chains`](TaskDump::chains), given the [`cycles`](TaskDump::cycles) found already.
    pub(crate) fn chains_beside(&self, cycles: &[Vec<TaskId>]) -> Vec<Vec<TaskId>> {
        let on_cycles: HashSet<TaskId> = cycles.iter().flatten().copied().collect();
        // Who waits on what each task holds: (the wait is a join, the waiter), the first
        // wait of each waiter on that holder. Built once, so a dump of many tasks stays
        // linear in them.
        let mut waiters_of: IdMap<Vec<(bool, TaskId)>> = IdMap::default();
        for task in &self.tasks {
            let mut seen: Vec<TaskId> = Vec::new();
            for wait in &task.waits_on {
                for &holder in &wait.held_by {
                    if !seen.contains(&holder) {
                        seen.push(holder);
                        waiters_of
                            .entry(holder)
                            .or_default()
                            .push((wait.created_at.is_none(), task.id));
                    }
                }
            }
        }
        let mut chains = Vec::new();
        for root in &self.tasks {
            let stuck = root.waits_on.iter().any(|w| w.held_by.is_empty());
            // A chain needs a second link: somebody waiting on what the root holds.
            if !stuck || !waiters_of.contains_key(&root.id) || on_cycles.contains(&root.id) {
                continue;
            }
            let mut chain = vec![root.id];
            let mut at = root.id;
            // Follow the waiters on what `at` holds, preferring a real resource over a join
            // (the main future awaiting a task is the least interesting link).
            while let Some(&(_, next)) = waiters_of
                .get(&at)
                .into_iter()
                .flatten()
                .filter(|(_, t)| !chain.contains(t) && !on_cycles.contains(t))
                .min()
            {
                chain.push(next);
                at = next;
            }
            if chain.len() > 1 {
                chains.push(chain);
            }
        }
        chains
    }

    fn label(&self, id: TaskId) -> String {
        let name = self.task(id).and_then(|t| t.name.as_deref());
        TaskLabel(id, name).to_string()
    }

    /// `Queue#3 put (full; no task is waiting to get)`: the wait, and for a queue or channel
    /// wait that no task holds, whether any task waits on the other side.
    fn describe(&self, wait: &WaitsOn) -> String {
        let mut text = format!("{} {}", wait.resource, wait.operation);
        let other_side = match wait.operation.split(' ').next() {
            Some("put") => Some("get"),
            Some("get") => Some("put"),
            Some("send") => Some("recv"),
            Some("recv") => Some("send"),
            _ => None,
        };
        if let (Some(other), true) = (other_side, wait.held_by.is_empty()) {
            let waiting = self.tasks.iter().any(|t| {
                t.waits_on
                    .iter()
                    .any(|w| w.resource == wait.resource && w.operation.starts_with(other))
            });
            if !waiting {
                text.push_str(&format!(": no task is waiting to {other}"));
            }
        }
        if !wait.held_by.is_empty() {
            let holders: Vec<String> = wait.held_by.iter().map(|&h| self.label(h)).collect();
            text.push_str(&format!(", held by {}", holders.join(" and ")));
        }
        text
    }
}

impl TaskDump {
    /// One link of a cycle or a chain: `task #2 (one) waits on Mutex#4 lock, held by ...`,
    /// after a `←` unless it is the first.
    fn write_link(
        &self,
        f: &mut fmt::Formatter<'_>,
        index: usize,
        id: TaskId,
        wait: Option<&WaitsOn>,
    ) -> fmt::Result {
        if index > 0 {
            write!(f, " ← ")?;
        }
        write!(f, "{}", self.label(id))?;
        match wait {
            Some(wait) => write!(f, " waits on {}", self.describe(wait)),
            None => Ok(()),
        }
    }
}

impl fmt::Display for TaskDump {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, task) in self.tasks.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "  {}", TaskLabel(task.id, task.name.as_deref()))?;
            if let Some(at) = task.spawned_at {
                write!(f, " spawned at {at}")?;
            }
            write!(f, ": {:?}", task.state)?;
            if let (Some(polls), Some(busy)) = (task.polls, task.busy) {
                write!(f, ", {polls} polls, busy {busy:.1?}")?;
            }
            if let Some(idle) = task.idle {
                write!(f, ", idle {idle:.1?}")?;
            }
            for wait in &task.waits_on {
                write!(f, "\n      waits on {}", self.describe(wait))?;
                if let Some(at) = wait.created_at {
                    write!(f, " (created at {at})")?;
                }
            }
            if task.waits_on.is_empty() && task.state == TaskState::Waiting {
                write!(
                    f,
                    "\n      waits on nothing weft knows of (a waker held outside weft)"
                )?;
            }
        }
        for cycle in self.cycles() {
            write!(f, "\n  wait-for cycle: ")?;
            for (i, &id) in cycle.iter().enumerate() {
                let next = cycle[(i + 1) % cycle.len()];
                let wait = self
                    .task(id)
                    .and_then(|t| t.waits_on.iter().find(|w| w.held_by.contains(&next)));
                self.write_link(f, i, id, wait)?;
            }
        }
        for chain in self.chains() {
            write!(f, "\n  wait-for chain: ")?;
            for (i, &id) in chain.iter().enumerate() {
                let task = self.task(id);
                let wait = match i {
                    // The root: its wait that nobody holds.
                    0 => task.and_then(|t| t.waits_on.iter().find(|w| w.held_by.is_empty())),
                    _ => task.and_then(|t| {
                        t.waits_on
                            .iter()
                            .find(|w| w.held_by.contains(&chain[i - 1]))
                    }),
                };
                self.write_link(f, i, id, wait)?;
            }
        }
        Ok(())
    }
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

/// A set of task ids, hashed as `IdMap` hashes them.
type IdSet = HashSet<TaskId, std::hash::BuildHasherDefault<super::id_map::IdHasher>>;

/// Removes from the wait-for graph `edges` every task that cannot be on a cycle: one whose
/// waits all lead to tasks that wait on nothing (peeled again and again, as Kahn's algorithm
/// does), so that finding the cycles walks only what is left. In a dump of many tasks that
/// wait on one holder who waits on nothing held, nothing is left.
fn peel(edges: &mut IdMap<Vec<TaskId>>) {
    // Who points at each task, and how many of each task's targets are still in the graph.
    let mut pointed_at_by: IdMap<Vec<TaskId>> = IdMap::default();
    let mut alive: IdMap<usize> = IdMap::default();
    for (&from, targets) in edges.iter() {
        alive.insert(
            from,
            targets.iter().filter(|t| edges.contains_key(t)).count(),
        );
        for &to in targets {
            pointed_at_by.entry(to).or_default().push(from);
        }
    }
    let mut dead: Vec<TaskId> = alive
        .iter()
        .filter(|&(_, &count)| count == 0)
        .map(|(&task, _)| task)
        .collect();
    while let Some(task) = dead.pop() {
        edges.remove(&task);
        for from in pointed_at_by.remove(&task).unwrap_or_default() {
            if let Some(count) = alive.get_mut(&from) {
                *count -= 1;
                if *count == 0 {
                    dead.push(from);
                }
            }
        }
    }
}
