//! The cancel-safety table of docs/cancel-safety.md, written by sweeping: each operation is
//! cancelled at each of its suspension points (`weft::testing::CancelSweep`), and what must
//! hold afterwards is checked. The page's table is this test's output; the test fails when
//! the two differ (`WEFT_BLESS=1 cargo test --test cancel_safety` writes the page's table
//! anew after a change that means it). The scenarios are grouped by what they wait on:
//! sync primitives, queues and channels (`sync.rs`), tasks and time (`tasks.rs`), byte
//! streams (`io.rs`), the network, processes and signals (`net.rs`), and the HTTP client
//! (`http.rs`).

mod http;
mod io;
mod net;
mod sync;
mod tasks;

use std::future::Future;
use std::pin::Pin;

use weft::testing::{Cancel, CancelSweep};

type Checked = Pin<Box<dyn Future<Output = Result<(), String>>>>;

/// One row: the operation, what its scenario checks after each cancel, and the scenario.
struct Row {
    operation: &'static str,
    checked: &'static str,
    scenario: fn(Cancel) -> Checked,
    /// On the real clock: a scenario that waits for the kernel (a loopback connection, a
    /// child process) must not see a paused clock jump past it.
    real_clock: bool,
}

/// A row swept on the paused clock.
const fn paused(
    operation: &'static str,
    checked: &'static str,
    scenario: fn(Cancel) -> Checked,
) -> Row {
    Row {
        operation,
        checked,
        scenario,
        real_clock: false,
    }
}

/// A row swept on the real clock.
const fn real(
    operation: &'static str,
    checked: &'static str,
    scenario: fn(Cancel) -> Checked,
) -> Row {
    Row {
        real_clock: true,
        ..paused(operation, checked, scenario)
    }
}

/// The table: one line per operation, its verdict from the sweep.
fn table() -> String {
    let mut out =
        String::from("| operation | cancel-safe | checked after each cancel |\n|---|---|---|\n");
    let rows = [
        sync::rows(),
        tasks::rows(),
        io::rows(),
        net::rows(),
        http::rows(),
    ];
    for row in rows.into_iter().flatten() {
        let verdict = match CancelSweep::new(row.operation)
            .paused(!row.real_clock)
            .run(row.scenario)
        {
            // Nothing to cancel: say so rather than pass it as tested.
            Ok(report) if report.points == 0 => "yes (it did not wait here)".to_owned(),
            Ok(_) => "yes".to_owned(),
            Err(failure) => format!("**no**: {}", failure.error),
        };
        out.push_str(&format!(
            "| {} | {verdict} | {} |\n",
            row.operation, row.checked
        ));
    }
    out
}

#[test]
fn the_cancel_safety_page_shows_what_the_sweeps_find() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/cancel-safety.md");
    let page = std::fs::read_to_string(path).unwrap();
    let (start, end) = (
        "<!-- table: tests/cancel_safety -->\n",
        "<!-- end of table -->",
    );
    let from = page.find(start).expect("the page marks its table") + start.len();
    let to = from
        + page[from..]
            .find(end)
            .expect("the page marks its table's end");
    let table = table();
    if std::env::var("WEFT_BLESS").is_ok() {
        std::fs::write(path, format!("{}{table}{}", &page[..from], &page[to..])).unwrap();
        return;
    }
    assert_eq!(
        page[from..to],
        table,
        "docs/cancel-safety.md disagrees with the sweeps: if the change means it, \
         `WEFT_BLESS=1 cargo test --test cancel_safety` writes the table anew"
    );
}
