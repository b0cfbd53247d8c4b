//! `WEFT_TRACE=FILE`: trace any weft program without changing it.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::trace::Trace;

/// The environment variable naming the file a runtime writes its trace to.
pub(crate) const ENV_VAR: &str = "WEFT_TRACE";

/// The flight recorder's size when `WEFT_TRACE` turns it on: 2^18 events, about 10 MiB.
pub(crate) const DEFAULT_EVENTS: usize = 1 << 18;

/// The file `WEFT_TRACE` names, if it is set and not empty.
pub(crate) fn wanted() -> Option<PathBuf> {
    std::env::var_os(ENV_VAR)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// The files this process has written, so a second runtime does not overwrite the first's.
static WRITTEN: Mutex<Option<HashSet<PathBuf>>> = Mutex::new(None);

/// Writes `trace` to `path` (SVG if it ends in `.svg`, else Chrome JSON), or to `path.N`
/// (before the extension) if an earlier runtime of this process wrote `path`. Failures are
/// reported on standard error: a trace is a diagnostic, never a reason to fail the program.
pub(crate) fn write(path: &Path, runtime_id: u32, trace: &Trace) {
    let path = {
        let mut written = WRITTEN
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let written = written.get_or_insert_with(HashSet::new);
        let path = if written.contains(path) {
            numbered(path, runtime_id)
        } else {
            path.to_owned()
        };
        written.insert(path.clone());
        path
    };
    let svg = path.extension().is_some_and(|ext| ext == "svg");
    let result = std::fs::File::create(&path).and_then(|file| {
        let mut out = std::io::BufWriter::new(file);
        if svg {
            trace.write_svg(&mut out)?;
        } else {
            trace.write_chrome_json(&mut out)?;
        }
        std::io::Write::flush(&mut out)
    });
    match result {
        Ok(()) => eprintln!(
            "weft: wrote {} events of runtime {runtime_id} to {}",
            trace.events().len(),
            path.display()
        ),
        Err(err) => eprintln!(
            "weft: could not write the trace to {}: {err}",
            path.display()
        ),
    }
}

/// `out.json` -> `out.3.json`.
fn numbered(path: &Path, n: u32) -> PathBuf {
    let stem = path.file_stem().unwrap_or_default().to_string_lossy();
    let name = match path.extension() {
        Some(ext) => format!("{stem}.{n}.{}", ext.to_string_lossy()),
        None => format!("{stem}.{n}"),
    };
    path.with_file_name(name)
}
