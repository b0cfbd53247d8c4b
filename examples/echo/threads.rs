//! How many threads this process has, to show that weft runs on one.

/// The `Threads:` line of /proc/self/status (Linux).
pub fn count() -> Option<usize> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("Threads:"))?;
    line["Threads:".len()..].trim().parse().ok()
}
