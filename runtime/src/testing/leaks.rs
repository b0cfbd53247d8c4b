//! What a cancel can leave behind that no check of the data would see: a task still alive
//! (spawned by the operation and never ended) or a timer still armed (a sleep or timeout
//! that outlived its future). [`Leaks`] notes the runtime's tasks and timers at one moment
//! and says, later, what is there beyond them.

use std::collections::BTreeSet;

use crate::executor::with_core;
use crate::task::{TaskId, all_tasks};

/// The tasks and armed timers of the current runtime at one moment, to compare with later.
///
/// ```
/// use std::time::Duration;
/// use weft::testing::Leaks;
///
/// weft::run(async {
///     let before = Leaks::snapshot();
///     let stray = weft::spawn(weft::time::sleep(Duration::from_secs(60)));
///     weft::yield_now().await;
///     let left = before.check().unwrap_err();
///     assert!(left.contains("1 task") && left.contains("1 timer"), "{left}");
///     stray.abort();
///     let _ = stray.await;
///     before.check().unwrap();
/// });
/// ```
#[derive(Debug, Clone)]
pub struct Leaks {
    tasks: BTreeSet<TaskId>,
    timers: usize,
}

impl Leaks {
    /// The current runtime's tasks and armed timers now (none outside a runtime).
    pub fn snapshot() -> Leaks {
        Leaks {
            tasks: all_tasks().into_iter().map(|task| task.id).collect(),
            timers: armed_timers(),
        }
    }

    /// `Err` naming the tasks alive now that were not at the snapshot, and how many more
    /// timers are armed; `Ok` if there are none.
    pub fn check(&self) -> Result<(), String> {
        let new: Vec<String> = all_tasks()
            .into_iter()
            .filter(|task| !self.tasks.contains(&task.id))
            .map(|task| task.to_string())
            .collect();
        let timers = armed_timers().saturating_sub(self.timers);
        if new.is_empty() && timers == 0 {
            return Ok(());
        }
        let plural = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
        let mut text = format!(
            "left behind: {} and {} more than before",
            plural(new.len(), "task"),
            plural(timers, "timer")
        );
        if !new.is_empty() {
            text.push_str(" (");
            text.push_str(&new.join(", "));
            text.push(')');
        }
        Err(text)
    }
}

fn armed_timers() -> usize {
    with_core(|core| core.map_or(0, |core| core.timers().armed()))
}
