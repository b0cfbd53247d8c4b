//! What the crawler tells its user: a progress line while it runs (on a terminal), one JSON
//! line per URL, and a summary at the end.

use std::collections::BTreeMap;
use std::io::Write;
use std::rc::Rc;
use std::time::{Duration, Instant};

use super::engine::{Progress, Record, Summary};

/// `record` as one line of JSON (no trailing newline).
pub fn json_line(record: &Record) -> String {
    let (error_kind, error) = match &record.error {
        Some((kind, message)) => (Some(kind.as_str()), Some(message.as_str())),
        None => (None, None),
    };
    serde_json::json!({
        "url": record.url,
        "status": record.status,
        "bytes": record.bytes,
        "content_type": record.content_type,
        "depth": record.depth,
        "referrer": record.referrer,
        "elapsed_ms": record.elapsed_ms,
        "redirected_to": record.redirected_to,
        "error_kind": error_kind,
        "error": error,
    })
    .to_string()
}

/// The progress line: pages done and queued, errors, and the rate so far.
pub fn progress_line(progress: &Progress, elapsed: Duration) -> String {
    let done = progress.done.get();
    let rate = done as f64 / elapsed.as_secs_f64().max(1e-9);
    format!(
        "{done} done, {} queued, {} errors, {rate:.1} pages/s",
        progress.queued.get(),
        progress.errors.get()
    )
}

/// Redraws the progress line on `out` (a terminal: it returns to the line's start and clears
/// it) now and every 200 ms, until the task is cancelled (dropped).
pub async fn show_progress(progress: Rc<Progress>, mut out: impl Write) {
    let started = Instant::now();
    let mut ticks = weft::time::interval(Duration::from_millis(200));
    loop {
        ticks.tick().await;
        let _ = write!(
            out,
            "\r\x1b[K{}",
            progress_line(&progress, started.elapsed())
        );
        let _ = out.flush();
    }
}

/// The end-of-crawl summary, as lines of text.
pub fn summary_text(summary: &Summary, threads: Option<usize>) -> String {
    let mut out = format!(
        "pages: {}\nbytes: {}\nelapsed: {:.2} s\npages/s: {:.1}\nconnections opened: {}\n",
        summary.pages,
        summary.bytes,
        summary.elapsed.as_secs_f64(),
        summary.pages_per_second(),
        summary.connections
    );
    out += &format!("status: {}\n", histogram(&summary.statuses, "-"));
    out += &format!("errors: {}\n", histogram(&summary.errors, "none"));
    if summary.off_scope_links > 0 {
        out += &format!(
            "links to other hosts not followed: {}\n",
            summary.off_scope_links
        );
    }
    if let Some(threads) = threads {
        out += &format!("threads in this process: {threads}\n");
    }
    out
}

/// "key: count, key: count", or `empty` when there is nothing.
fn histogram<K: std::fmt::Display>(counts: &BTreeMap<K, usize>, empty: &str) -> String {
    if counts.is_empty() {
        return empty.to_owned();
    }
    let parts: Vec<String> = counts.iter().map(|(k, n)| format!("{k}: {n}")).collect();
    parts.join(", ")
}
