//! Building a [`TaskDump`] from what the runtime owns: its tasks, the wakers weft's
//! primitives hold, the join wakers, the timers and the reactor's waiting readers and writers.

use std::borrow::Cow;
use std::time::Instant;

use super::state::Executor as Core;
use crate::task::{DumpedTask, NumberMap, TaskDump, TaskId, TaskState, WaitsOn, push_number};

impl Core {
    /// Every task (and the main future, if `block_on` runs), with what each waits on.
    pub(crate) fn dump(&self) -> TaskDump {
        let current = self.current();
        let mut tasks = Vec::with_capacity(self.live_tasks() + 1);
        // Task addresses (what their wakers point at) to their places in `tasks`.
        let mut by_address: NumberMap<usize, usize> = NumberMap::default();
        by_address.reserve(self.live_tasks() + 1);
        // The task each join waker belongs to, by the task it waits for.
        let mut joins: Vec<(usize, TaskId)> = Vec::new();
        // Each task's parent, as the table keeps it (the low bits of its id).
        let mut parent_bits: Vec<(TaskId, u32)> = Vec::with_capacity(self.live_tasks());
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
        // A wait is described only if its waker is a task's.
        let mut add = |address: usize, wait: &mut dyn FnMut() -> WaitsOn| {
            if let Some(&at) = by_address.get(&address) {
                let wait = wait();
                let list: &mut Vec<WaitsOn> = &mut tasks[at].waits_on;
                if !list.contains(&wait) {
                    // Most tasks wait on one thing: room for one, not the four a first push
                    // makes (320 bytes a task, 32 MB for a dump of 100,000).
                    list.reserve_exact(1);
                    list.push(wait);
                }
            }
        };
        let owner_of = |address: usize| by_address.get(&address).map(|&at| ids[at]);
        // Each resource's label and holders, worked out once however many wait on it.
        let mut resources: NumberMap<usize, (String, Vec<TaskId>)> = NumberMap::default();
        self.held_wakers().for_each(|address, what| {
            add(address, &mut || {
                let resource = &what.resource;
                let (label, held_by) = resources
                    .entry(std::ptr::from_ref::<crate::waiters::Resource>(resource) as usize)
                    .or_insert_with(|| {
                        let mut held_by = resource.holders();
                        // A lock's owner, noted always (holders are tracked only when
                        // observed).
                        if let Some(owner) = owner_of(resource.owner()) {
                            if !held_by.contains(&owner) {
                                held_by.push(owner);
                            }
                        }
                        (resource.label(), held_by)
                    });
                WaitsOn {
                    resource: Cow::Owned(label.clone()),
                    operation: Cow::Borrowed(what.op),
                    created_at: Some(resource.created_at()),
                    held_by: held_by.clone(),
                }
            });
        });
        for (address, task) in joins {
            add(address, &mut || WaitsOn {
                resource: Cow::Owned(format!("task {task}")),
                operation: Cow::Borrowed("join (its JoinHandle)"),
                created_at: None,
                held_by: vec![task],
            });
        }
        let now = Instant::now();
        self.timers().for_each_waiting(|address, deadline| {
            add(address, &mut || WaitsOn {
                resource: Cow::Borrowed("sleep"),
                operation: Cow::Owned(until(deadline.saturating_duration_since(now))),
                created_at: None,
                held_by: Vec::new(),
            });
        });
        self.reactor()
            .for_each_waiting(|source, label, write, address| {
                add(address, &mut || WaitsOn {
                    resource: Cow::Owned(match label {
                        Some(label) => format!("I/O source #{source} ({label})"),
                        None => format!("I/O source #{source}"),
                    }),
                    operation: Cow::Borrowed(if write { "write" } else { "read" }),
                    created_at: None,
                    held_by: Vec::new(),
                });
            });
        tasks.sort_by_key(|t| t.id);
        let parents = resolve_parents(&tasks, parent_bits);
        for (task, parent) in tasks.iter_mut().zip(parents) {
            task.parent = parent;
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

/// `until 3598.0s from now`: the duration to a tenth of its unit, as `{:.1?}` writes it, in
/// integer arithmetic (a dump writes one per sleeping task).
fn until(duration: std::time::Duration) -> String {
    let nanos = u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX / 10);
    let (unit, size) = match nanos {
        1_000_000_000.. => ("s", 1_000_000_000),
        1_000_000.. => ("ms", 1_000_000),
        1_000.. => ("µs", 1_000),
        _ => ("ns", 1),
    };
    let tenths = (nanos * 10 + size / 2) / size;
    let mut text = String::with_capacity(24);
    text.push_str("until ");
    push_number(&mut text, tenths / 10);
    text.push('.');
    push_number(&mut text, tenths % 10);
    text.push_str(unit);
    text.push_str(" from now");
    text
}

/// Each task's parent among the live tasks (`tasks`, in id order): for a task whose parent's
/// id ends in the bits the table kept, the newest live task with those bits and a smaller id.
/// A parent that has completed is no parent: its children are listed at the top, as
/// asyncio's `pstree` lists orphans.
fn resolve_parents(tasks: &[DumpedTask], mut bits: Vec<(TaskId, u32)>) -> Vec<Option<TaskId>> {
    // Both in id order: each task's bits are found walking the two side by side (the main
    // future has none).
    bits.sort_unstable();
    let mut next = bits.iter().peekable();
    let bits: Vec<Option<u32>> = tasks
        .iter()
        .map(|t| {
            while next.next_if(|&&(id, _)| id < t.id).is_some() {}
            next.next_if(|&&(id, _)| id == t.id)
                .map(|&(_, bits)| bits)
                .filter(|&bits| bits != 0)
        })
        .collect();
    let newest = tasks.last().map_or(0, |t| t.id.as_u64());
    if newest <= u64::from(u32::MAX) {
        // No id has been cut short yet: the bits are the parent's id.
        let alive = |id: u64| {
            tasks
                .binary_search_by_key(&id, |t| t.id.as_u64())
                .ok()
                .map(|at| tasks[at].id)
        };
        return bits.iter().map(|bits| alive(u64::from((*bits)?))).collect();
    }
    // Ids repeat their low bits only after 2^32 spawns: one id per bits, the newest, is
    // nearly always the answer; a parent newer than its child is not, and counts as gone.
    let mut by_bits: NumberMap<u32, TaskId> = NumberMap::default();
    by_bits.reserve(tasks.len());
    for task in tasks {
        let newest = by_bits.entry(task.id.as_u64() as u32).or_insert(task.id);
        *newest = (*newest).max(task.id);
    }
    tasks
        .iter()
        .zip(bits)
        .map(|(t, bits)| {
            let parent = *by_bits.get(&bits?)?;
            (parent < t.id).then_some(parent)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    #[test]
    fn a_sleep_is_written_as_debug_with_one_decimal_writes_it() {
        for d in [
            Duration::from_secs(3598),
            Duration::from_millis(250),
            Duration::from_micros(12_549),
            Duration::from_nanos(12_500),
            Duration::from_nanos(999),
            Duration::from_millis(1_999),
        ] {
            assert_eq!(super::until(d), format!("until {d:.1?} from now"), "{d:?}");
        }
    }
}
