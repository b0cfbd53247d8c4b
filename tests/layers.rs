//! The runtime's layering: what the executor is built on does not reach back up into it.
//!
//! The executor (runtime/src/executor) imports the task cell, the vocabulary of tasks (ids,
//! the dump), the context store, the clock and timer heap, the recorder, the reactor and the
//! waiter lists. None of those may import the executor, except the task cell's one call to
//! `executor::schedule` (a woken task has to be queued somewhere). This test reads the
//! sources, so an import that goes back up fails it.

use std::path::Path;

/// The files below the executor: everything it is built on.
const BELOW: &[&str] = &[
    "task/raw/mod.rs",
    "task/raw/joiner.rs",
    "task/raw/beside.rs",
    "task/raw/refs.rs",
    "task/raw/waker.rs",
    "task/state.rs",
    "task/id.rs",
    "task/dump.rs",
    "task/join.rs",
    "task/contexts.rs",
    "task/budget.rs",
    "task/id_map.rs",
    "time/clock.rs",
    "time/driver.rs",
    "trace/mod.rs",
    "trace/recorder.rs",
    "reactor/mod.rs",
    "reactor/deadline.rs",
    "waiters/mod.rs",
    "waiters/census.rs",
    "waiters/resource.rs",
    "waiters/wait_list.rs",
    "waiters/waker_slot.rs",
];

#[test]
fn nothing_the_executor_is_built_on_imports_it_but_the_task_cells_schedule() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("runtime/src");
    let mut found = Vec::new();
    for file in BELOW {
        let text = std::fs::read_to_string(src.join(file)).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            if code.contains("executor::") || code.contains("use crate::executor") {
                let allowed =
                    file.starts_with("task/raw/") && code.contains("crate::executor::schedule(");
                if !allowed {
                    found.push(format!("{file}:{}: {}", n + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "imports back up into the executor:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_executor_imports_only_what_is_below_it_from_those_folders() {
    // Every `crate::task::x`, `crate::time::x`, ... module the executor names must be one of
    // the files above (or a name those files define, reached through the folder's face).
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("runtime/src");
    let modules_below: Vec<String> = BELOW
        .iter()
        .map(|f| {
            f.trim_end_matches(".rs")
                .trim_end_matches("/mod")
                .replace('/', "::")
        })
        .collect();
    let mut stray = Vec::new();
    for entry in walk(&src.join("executor")) {
        let text = std::fs::read_to_string(&entry).unwrap();
        for line in text.lines().filter(|l| !l.trim_start().starts_with("//")) {
            for module in ["task::", "time::", "trace::", "reactor::", "waiters::"] {
                for (at, _) in line.match_indices(&format!("crate::{module}")) {
                    let path = &line[at + "crate::".len()..];
                    let segments: Vec<&str> = path
                        .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                        .next()
                        .unwrap_or("")
                        .split("::")
                        .collect();
                    // `crate::task::raw::X` names module `task::raw`; `crate::task::TaskId`
                    // names a type through the folder's face, checked by the test above.
                    if let [folder, sub, ..] = segments[..] {
                        let lower = sub.chars().next().is_some_and(char::is_lowercase);
                        let module = format!("{folder}::{sub}");
                        if lower && segments.len() > 2 && !modules_below.contains(&module) {
                            stray.push(format!("{}: {}", entry.display(), line.trim()));
                        }
                    }
                }
            }
        }
    }
    assert!(
        stray.is_empty(),
        "the executor reaches a module not below it:\n{}",
        stray.join("\n")
    );
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}
