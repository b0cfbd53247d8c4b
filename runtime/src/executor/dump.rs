//! Building a [`TaskDump`] from what the runtime owns: its tasks, the wakers weft's
//! primitives hold, the join wakers, the timers and the reactor's waiting readers and writers.

use std::time::Instant;

use super::state::Executor as Core;
use crate::task::{DumpedTask, IdMap, NumberMap, TaskDump, TaskId, TaskState, WaitsOn};

impl Core {
    /// Every task (and the main future, if `block_on` runs), with what each waits on.
    pub(crate) fn dump(&self) -> TaskDump {
        let current = self.current();
        let mut tasks = Vec::new();
        // Task addresses (what their wakers point at) to their places in `tasks`.
        let mut by_address: NumberMap<usize, usize> = NumberMap::default();
        // The task each join waker belongs to, by the task it waits for.
        let mut joins: Vec<(usize, TaskId)> = Vec::new();
        // Each task's parent, as the table keeps it (the low bits of its id).
        let mut parent_bits: Vec<(TaskId, u32)> = Vec::new();
        self.for_each_task(|owned| {
            parent_bits.push((owned.task().id(), owned.parent_bits()));
            let task = owned.task();
            by_address.insert(task.addr(), tasks.len());
            if let Some(joiner) = task.waker_census(|_| false).joiner {
                joins.push((joiner.address, task.id()));
            }
            let state = owned.state(current);
            tasks.push(self.dumped(
                task.id(),
                task.name().map(|name| name.to_string()),
                Some(owned.spawned_at()),
                state,
            ));
        });
        if let (Some(main), Some(address)) = (self.main_report(), self.main_waker_target()) {
            by_address.insert(address, tasks.len());
            let state = if current == Some(main.id) {
                TaskState::Running
            } else {
                TaskState::Waiting
            };
            tasks.push(self.dumped(main.id, main.name, Some(main.spawned_at), state));
        }
        let ids: Vec<TaskId> = tasks.iter().map(|t| t.id).collect();
        let mut add = |address: usize, wait: WaitsOn| {
            if let Some(&at) = by_address.get(&address) {
                let list: &mut Vec<WaitsOn> = &mut tasks[at].waits_on;
                if !list.contains(&wait) {
                    list.push(wait);
                }
            }
        };
        let owner_of = |address: usize| by_address.get(&address).map(|&at| ids[at]);
        self.held_wakers().for_each(|address, what| {
            let mut held_by = what.resource.holders();
            // A lock's owner, noted always (holders are tracked only when observed).
            if let Some(owner) = owner_of(what.resource.owner()) {
                if !held_by.contains(&owner) {
                    held_by.push(owner);
                }
            }
            add(
                address,
                WaitsOn {
                    resource: what.resource.label(),
                    operation: what.op.to_owned(),
                    created_at: Some(what.resource.created_at()),
                    held_by,
                },
            );
        });
        for (address, task) in joins {
            add(
                address,
                WaitsOn {
                    resource: format!("task {task}"),
                    operation: "join (its JoinHandle)".to_owned(),
                    created_at: None,
                    held_by: vec![task],
                },
            );
        }
        let now = Instant::now();
        self.timers().for_each_waiting(|address, deadline| {
            add(
                address,
                WaitsOn {
                    resource: "sleep".to_owned(),
                    operation: format!(
                        "until {:.1?} from now",
                        deadline.saturating_duration_since(now)
                    ),
                    created_at: None,
                    held_by: Vec::new(),
                },
            );
        });
        self.reactor()
            .for_each_waiting(|source, label, write, address| {
                add(
                    address,
                    WaitsOn {
                        resource: match label {
                            Some(label) => format!("I/O source #{source} ({label})"),
                            None => format!("I/O source #{source}"),
                        },
                        operation: if write { "write" } else { "read" }.to_owned(),
                        created_at: None,
                        held_by: Vec::new(),
                    },
                );
            });
        tasks.sort_by_key(|t| t.id);
        let parents = resolve_parents(&tasks, &parent_bits);
        for task in &mut tasks {
            task.parent = parents.get(&task.id).copied();
        }
        TaskDump { tasks }
    }

    fn dumped(
        &self,
        id: TaskId,
        name: Option<String>,
        spawned_at: Option<&'static std::panic::Location<'static>>,
        state: TaskState,
    ) -> DumpedTask {
        let stats = self.poll_stats(id);
        DumpedTask {
            id,
            name,
            spawned_at,
            state,
            polls: stats.map(|s| s.polls),
            busy: stats.map(|s| s.busy),
            idle: stats.map(|s| s.last_end.elapsed()),
            parent: None,
            waits_on: Vec::new(),
        }
    }
}

/// Each task's parent among the live tasks (`tasks`, in id order): for a task whose parent's
/// id ends in the bits the table kept, the newest live task with those bits and a smaller id.
/// A parent that has completed is no parent: its children are listed at the top, as
/// asyncio's `pstree` lists orphans.
fn resolve_parents(tasks: &[DumpedTask], bits: &[(TaskId, u32)]) -> IdMap<TaskId> {
    // Ids repeat their low bits only after 2^32 spawns: one id per bits, the newest, is
    // nearly always the answer; a parent newer than its child is not, and counts as gone.
    let mut by_bits: NumberMap<u32, TaskId> = NumberMap::default();
    by_bits.reserve(tasks.len());
    for task in tasks {
        let newest = by_bits.entry(task.id.as_u64() as u32).or_insert(task.id);
        *newest = (*newest).max(task.id);
    }
    bits.iter()
        .filter(|&&(_, bits)| bits != 0)
        .filter_map(|&(child, bits)| {
            let parent = *by_bits.get(&bits)?;
            (parent < child).then_some((child, parent))
        })
        .collect()
}
