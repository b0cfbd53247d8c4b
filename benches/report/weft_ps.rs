//! The weft-ps section of BENCHMARKS.md (`cargo bench --bench weft_ps`).

use std::fmt::Write as _;

use serde_json::Value;

use super::Target;

pub(super) fn write(md: &mut String, results: Option<&Value>, targets: &mut Vec<Target>) {
    let Some(r) = results else {
        return;
    };
    let tasks = r["tasks"].as_u64().unwrap_or(0);
    let number = |key: &str| r[key].as_f64().unwrap_or(f64::NAN);
    let _ = writeln!(
        md,
        "## weft-ps on a large process\n\n\
         Command: `cargo build --release -p weft-ps && cargo bench --bench weft_ps`. A process \
         of {tasks} tasks (100 parents, each awaiting its children in turn; the children wait \
         on a lock, an event or a timer), looked at from outside by `weft-ps PID`, end to end \
         (signal, connection, the runtime's dump, the answer, the output), median of {} runs. \
         The runtime's own share is measured in the process on its first dump.\n",
        r["runs"]
    );
    let _ = writeln!(
        md,
        "| what | ms | output |\n|---|---:|---:|\n\
         | `weft-ps PID --json` | {:.1} | {:.1} MB |\n\
         | `weft-ps PID` (the tree) | {:.1} | {:.1} MB |\n\
         | in the runtime: `task::dump()` | {:.1} | |\n\
         | in the runtime: `TaskDump::to_json()` | {:.1} | |\n",
        number("json_ms"),
        number("json_bytes") / 1e6,
        number("text_ms"),
        number("text_bytes") / 1e6,
        number("runtime_dump_ms"),
        number("runtime_to_json_ms"),
    );
    let json_ms = number("json_ms");
    targets.push(Target {
        what: format!("weft-ps dumps a process of {tasks} tasks in under 100 ms"),
        measured: format!("{json_ms:.0} ms (`--json`)"),
        met: (tasks >= 100_000 && json_ms.is_finite()).then_some(json_ms < 100.0),
    });
}
