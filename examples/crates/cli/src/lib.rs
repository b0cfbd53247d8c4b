//! What the demo programs share on the command line. Each demo derives its own clap `Args`,
//! so `--help`, unknown flags and bad values are answered the same way everywhere; here are
//! the value checks clap does not have, and the thread count the demos print to show that
//! weft runs on one thread.

use std::time::Duration;

/// The echo load's shape, shared by `echo_client` and `echo_demo` (`#[command(flatten)]`).
#[derive(clap::Args, Debug, Clone, Copy)]
pub struct Load {
    /// Connections open at once, one load client each.
    #[arg(long, default_value_t = 100, value_parser = at_least_one)]
    pub connections: usize,
    /// Round trips per connection.
    #[arg(long, default_value_t = 1000)]
    pub messages: usize,
    /// Bytes per message.
    #[arg(long, default_value_t = 64, value_parser = at_least_one)]
    pub size: usize,
}

/// A count of at least one (`--threads`, `--connections`, `--jobs`): zero is refused with a
/// message, not accepted and then ignored.
pub fn at_least_one(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) => Err("must be at least 1".to_owned()),
        Ok(n) => Ok(n),
        Err(err) => Err(format!("{err}: a whole number of at least 1")),
    }
}

/// A positive number of seconds, fractions allowed (`--timeout 2.5`).
pub fn seconds(text: &str) -> Result<Duration, String> {
    match text.parse::<f64>() {
        Ok(s) if s > 0.0 && s < 1e9 => Ok(Duration::from_secs_f64(s)),
        Ok(_) => Err("must be a positive number of seconds".to_owned()),
        Err(err) => Err(format!("{err}: a number of seconds, such as 10 or 0.5")),
    }
}

/// How many threads this process has: the `Threads:` line of /proc/self/status (Linux), or
/// `None` where that cannot be read.
pub fn thread_count() -> Option<usize> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("Threads:"))?;
    line["Threads:".len()..].trim().parse().ok()
}

/// This process's resident set in bytes: the `VmRSS:` line of /proc/self/status (Linux), or
/// `None` where that cannot be read.
pub fn rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line["VmRSS:".len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_seconds_refuse_what_makes_no_sense() {
        assert_eq!(at_least_one("3"), Ok(3));
        assert!(at_least_one("0").unwrap_err().contains("at least 1"));
        assert!(at_least_one("-1").is_err());
        assert_eq!(seconds("0.5"), Ok(Duration::from_millis(500)));
        assert!(seconds("0").is_err());
        assert!(seconds("NaN").is_err());
        assert!(seconds("soon").is_err());
    }
}
