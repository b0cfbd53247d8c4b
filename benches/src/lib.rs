//! Where the custom benchmark harnesses leave their results for `benches/report/`, and the
//! run mode they all share.

use std::path::PathBuf;

pub mod idle;
pub mod load;
pub mod server_process;

/// How long and how big a run is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// The real numbers for BENCHMARKS.md.
    Full,
    /// A few minutes, for a look while developing.
    Quick,
    /// Seconds: proves the harness works (what CI runs); its numbers mean nothing.
    Smoke,
}

impl Mode {
    /// From the command line (`--quick`, `--smoke`) or `WEFT_BENCH_MODE`.
    pub fn from_env() -> Mode {
        let env = std::env::var("WEFT_BENCH_MODE").unwrap_or_default();
        let args: Vec<String> = std::env::args().collect();
        if env == "smoke" || args.iter().any(|a| a == "--smoke") {
            Mode::Smoke
        } else if env == "quick" || args.iter().any(|a| a == "--quick") {
            Mode::Quick
        } else {
            Mode::Full
        }
    }

    /// Picks one of three values by mode.
    pub fn pick<T>(self, full: T, quick: T, smoke: T) -> T {
        match self {
            Mode::Full => full,
            Mode::Quick => quick,
            Mode::Smoke => smoke,
        }
    }
}

/// The workspace's `target/` directory, where criterion and the harnesses leave their results
/// (this package sits one level below the workspace root).
pub fn target_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target")
}

/// `target/bench-results/<name>.json`, creating the directory.
pub fn path(name: &str) -> PathBuf {
    let dir = target_dir().join("bench-results");
    std::fs::create_dir_all(&dir).expect("create target/bench-results");
    dir.join(format!("{name}.json"))
}

/// Writes `value` as the named result file.
pub fn save(name: &str, value: &serde_json::Value) {
    let text = serde_json::to_string_pretty(value).expect("serialize results");
    std::fs::write(path(name), text).expect("write results");
}

/// Replaces the rows tagged `"test": test` in the named result file with `rows`, keeping
/// everything else (a harness run for one test only, like `http -- idle`).
pub fn update_rows(name: &str, test: &str, rows: Vec<serde_json::Value>) {
    let mut value: serde_json::Value = std::fs::read_to_string(path(name))
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_else(|| serde_json::json!({ "rows": [] }));
    let mut kept: Vec<serde_json::Value> = value["rows"]
        .as_array()
        .map(|rows| rows.iter().filter(|r| r["test"] != test).cloned().collect())
        .unwrap_or_default();
    kept.extend(rows);
    value["rows"] = serde_json::Value::Array(kept);
    save(name, &value);
}
