//! What `weft-ps` prints: the report as a tree a person reads, and several runtimes' traces
//! as one Perfetto trace.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write;

use serde_json::{Value, json};

/// The report (`{"pid", "runtimes": [...]}`) as text: per runtime, its tasks as a tree
/// under the tasks that spawned them, then its wait-for cycles and chains.
pub fn text(report: &Value) -> String {
    let mut out = String::new();
    let runtimes = report["runtimes"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "process {}: {} weft runtime{}",
        report["pid"],
        runtimes.len(),
        if runtimes.len() == 1 { "" } else { "s" }
    );
    for runtime in runtimes {
        out.push('\n');
        runtime_text(&mut out, runtime);
    }
    out
}

fn runtime_text(out: &mut String, runtime: &Value) {
    let header = format!(
        "runtime {} (thread {})",
        runtime["runtime"], runtime["thread"]
    );
    if runtime["answered"] != true {
        if let Some(error) = runtime["error"].as_str() {
            let _ = writeln!(out, "{header}: did not answer ({error})");
            return;
        }
        let stuck = &runtime["stuck"];
        if stuck.is_null() {
            let _ = writeln!(out, "{header}: not running (no block_on under way)");
            return;
        }
        let doing = stuck["thread"].as_str().unwrap_or("");
        if stuck["task"].is_null() && doing.contains("epoll_wait") {
            // Not stuck: waiting for events, yet the signal did not wake it.
            let _ = writeln!(
                out,
                "{header}: did not answer, though its loop is idle in epoll_wait: is SIGURG \
                 blocked on that thread (pthread_sigmask), or ignored by the program?"
            );
            return;
        }
        let _ = writeln!(out, "{header}: NOT ANSWERING: its loop is stuck");
        let seconds = stuck["for_ms"].as_u64().unwrap_or(0) as f64 / 1000.0;
        match stuck["task"].as_u64() {
            Some(task) => {
                let _ = write!(out, "  in a poll of task #{task}");
                if let Some(site) = stuck["spawned_at"].as_str() {
                    let _ = write!(out, " spawned at {site}");
                }
                let _ = writeln!(out, ", for {seconds:.1} s");
            }
            None => {
                let _ = writeln!(out, "  outside any poll, for {seconds:.1} s");
            }
        }
        if let Some(doing) = stuck["thread"].as_str() {
            let _ = writeln!(out, "  its thread is {doing}");
        }
        let _ = writeln!(
            out,
            "  (a poll must return quickly: move blocking work to weft::task::spawn_blocking)"
        );
        return;
    }
    let dump = &runtime["answer"];
    let tasks = dump["tasks"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "{header}: {} task{}",
        tasks.len(),
        if tasks.len() == 1 { "" } else { "s" }
    );
    let cycles = dump["cycles"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let on_cycle: HashSet<u64> = cycles
        .iter()
        .flat_map(|c| c.as_array().into_iter().flatten())
        .filter_map(Value::as_u64)
        .collect();
    let ids: HashSet<u64> = tasks.iter().filter_map(|t| t["id"].as_u64()).collect();
    let mut children: BTreeMap<Option<u64>, Vec<&Value>> = BTreeMap::new();
    for task in tasks {
        let parent = task["parent"].as_u64().filter(|p| ids.contains(p));
        children.entry(parent).or_default().push(task);
    }
    let names: HashMap<u64, String> = tasks
        .iter()
        .filter_map(|t| Some((t["id"].as_u64()?, label(t))))
        .collect();
    let sites: Vec<&str> = dump["sites"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| s.as_str().unwrap_or("?"))
        .collect();
    let context = Context {
        children: &children,
        names: &names,
        on_cycle: &on_cycle,
        sites: &sites,
    };
    let roots = children.get(&None).cloned().unwrap_or_default();
    for (i, root) in roots.iter().enumerate() {
        tree(out, root, &context, "", i + 1 == roots.len(), true);
    }
    for cycle in cycles {
        let _ = writeln!(out, "  wait-for cycle: {}", path(cycle, &names, true));
    }
    for chain in dump["chains"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        let _ = writeln!(out, "  wait-for chain: {}", path(chain, &names, false));
    }
}

/// What every line of a runtime's tree looks things up in.
struct Context<'a> {
    children: &'a BTreeMap<Option<u64>, Vec<&'a Value>>,
    names: &'a HashMap<u64, String>,
    on_cycle: &'a HashSet<u64>,
    sites: &'a [&'a str],
}

fn tree(
    out: &mut String,
    task: &Value,
    context: &Context<'_>,
    indent: &str,
    last: bool,
    root: bool,
) {
    let Context {
        children,
        names,
        on_cycle,
        sites,
    } = context;
    let id = task["id"].as_u64();
    let branch = if root {
        ""
    } else if last {
        "└─ "
    } else {
        "├─ "
    };
    let _ = write!(
        out,
        "  {indent}{branch}{}  {}",
        label(task),
        task["state"].as_str().unwrap_or("?")
    );
    if let Some(at) = task["site"].as_u64().and_then(|i| sites.get(i as usize)) {
        let _ = write!(out, "  {at}");
    }
    if let (Some(polls), Some(busy)) = (task["polls"].as_u64(), task["busy_ns"].as_u64()) {
        let _ = write!(out, "  {polls} polls, busy {}", nanos(busy));
    }
    if let Some(idle) = task["idle_ns"].as_u64() {
        let _ = write!(out, ", idle {}", nanos(idle));
    }
    if id.is_some_and(|id| on_cycle.contains(&id)) {
        out.push_str("  [in a wait-for cycle]");
    }
    out.push('\n');
    let below = if root {
        String::new()
    } else {
        format!("{indent}{}", if last { "   " } else { "│  " })
    };
    let kids = id
        .and_then(|id| children.get(&Some(id)))
        .cloned()
        .unwrap_or_default();
    let bar = if kids.is_empty() { "   " } else { "│  " };
    for wait in task["waits_on"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        let _ = write!(
            out,
            "  {below}{bar}waits on {} {}",
            wait["resource"].as_str().unwrap_or("?"),
            wait["operation"].as_str().unwrap_or("?")
        );
        let holders: Vec<String> = wait["held_by"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_u64)
            .map(|h| names.get(&h).cloned().unwrap_or_else(|| format!("#{h}")))
            .collect();
        if !holders.is_empty() {
            let _ = write!(out, ", held by {}", holders.join(" and "));
        }
        out.push('\n');
    }
    for (i, kid) in kids.iter().enumerate() {
        tree(out, kid, context, &below, i + 1 == kids.len(), false);
    }
}

/// `#3 (worker)`, or `#3`.
fn label(task: &Value) -> String {
    let id = task["id"].as_u64().unwrap_or(0);
    match task["name"].as_str() {
        Some(name) => format!("#{id} ({name})"),
        None => format!("#{id}"),
    }
}

fn path(ids: &Value, names: &HashMap<u64, String>, cycle: bool) -> String {
    let mut parts: Vec<String> = ids
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_u64)
        .map(|id| names.get(&id).cloned().unwrap_or_else(|| format!("#{id}")))
        .collect();
    if cycle {
        if let Some(first) = parts.first().cloned() {
            parts.push(first);
        }
    }
    parts.join(" → ")
}

/// `1.2 s`, `340 ms`, `12 µs`.
fn nanos(ns: u64) -> String {
    match ns {
        0..1_000_000 => format!("{} µs", ns / 1000),
        1_000_000..1_000_000_000 => format!("{} ms", ns / 1_000_000),
        _ => format!("{:.1} s", ns as f64 / 1e9),
    }
}

/// The runtimes' traces as one: each runtime a process of its own in Perfetto (its number
/// as the process id), flow ids kept apart.
pub fn merge_traces(runtimes: &[Value]) -> Value {
    let mut events = Vec::new();
    for runtime in runtimes {
        let Some(number) = runtime["runtime"].as_u64() else {
            continue;
        };
        let list = runtime["answer"]["traceEvents"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for mut event in list {
            event["pid"] = json!(number);
            if let Some(id) = event["id"].as_u64() {
                event["id"] = json!(number << 40 | id);
            }
            if event["name"] == "process_name" {
                event["args"]["name"] = json!(format!("weft runtime {number}"));
            }
            events.push(event);
        }
    }
    json!({"traceEvents": events, "displayTimeUnit": "ms"})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tree_puts_children_under_their_parent_and_marks_cycles() {
        let report = json!({"pid": 9, "runtimes": [{"runtime": 1, "thread": 9, "answered": true, "answer": {
            "schema": 1,
            "tasks": [
                {"id": 1, "name": "main", "site": 0, "state": "waiting", "waits_on": []},
                {"id": 2, "name": "a", "parent": 1, "site": 1, "state": "waiting", "polls": 3, "busy_ns": 2000, "idle_ns": 5000000000u64,
                 "waits_on": [{"resource": "Mutex#1", "operation": "lock", "held_by": [3]}]},
                {"id": 3, "name": "b", "parent": 1, "site": 2, "state": "waiting",
                 "waits_on": [{"resource": "Mutex#2", "operation": "lock", "held_by": [2]}]},
                {"id": 4, "parent": 2, "site": 3, "state": "ready", "waits_on": []}
            ],
            "cycles": [[2, 3]], "chains": [],
            "sites": ["main.rs:1:1", "main.rs:2:1", "main.rs:3:1", "main.rs:4:1"]}}]});
        let text = text(&report);
        let expected = "\
process 9: 1 weft runtime

runtime 1 (thread 9): 4 tasks
  #1 (main)  waiting  main.rs:1:1
  ├─ #2 (a)  waiting  main.rs:2:1  3 polls, busy 2 µs, idle 5.0 s  [in a wait-for cycle]
  │  │  waits on Mutex#1 lock, held by #3 (b)
  │  └─ #4  ready  main.rs:4:1
  └─ #3 (b)  waiting  main.rs:3:1  [in a wait-for cycle]
        waits on Mutex#2 lock, held by #2 (a)
  wait-for cycle: #2 (a) → #3 (b) → #2 (a)
";
        assert_eq!(text, expected);
    }

    #[test]
    fn an_idle_loop_that_did_not_answer_is_not_called_stuck() {
        let report = json!({"pid": 9, "runtimes": [{"runtime": 1, "thread": 9, "answered": false, "running": true,
            "stuck": {"task": null, "for_ms": 9000, "thread": "blocked in the system call epoll_wait"}}]});
        let text = text(&report);
        assert!(!text.contains("NOT ANSWERING"), "{text}");
        assert!(
            text.contains("idle in epoll_wait: is SIGURG blocked"),
            "{text}"
        );
    }

    #[test]
    fn a_stuck_runtime_is_named_with_its_task_and_site() {
        let report = json!({"pid": 9, "runtimes": [{"runtime": 1, "thread": 9, "answered": false, "running": true,
            "stuck": {"task": 5, "spawned_at": "src/main.rs:20:5", "for_ms": 2500, "thread": "blocked in the system call nanosleep"}}]});
        let text = text(&report);
        assert!(text.contains("NOT ANSWERING"), "{text}");
        assert!(
            text.contains("in a poll of task #5 spawned at src/main.rs:20:5, for 2.5 s"),
            "{text}"
        );
        assert!(
            text.contains("blocked in the system call nanosleep"),
            "{text}"
        );
    }
}
