//! What the demo programs share on the command line: a tiny `--flag value` parser, and the
//! thread count they print to show that weft runs on one thread.

use std::str::FromStr;

/// The value after `--name` in this process's arguments, parsed, or `default` when the flag is
/// absent. Exits with a message (status 2) when the value is missing or does not parse.
pub fn flag<T: FromStr>(name: &str, default: T) -> T {
    let args: Vec<String> = std::env::args().collect();
    let flag = format!("--{name}");
    match args.iter().position(|a| *a == flag) {
        None => default,
        Some(i) => match args.get(i + 1).map(|v| v.parse()) {
            Some(Ok(value)) => value,
            _ => {
                eprintln!("{flag} needs a valid value");
                std::process::exit(2);
            }
        },
    }
}

/// How many threads this process has: the `Threads:` line of /proc/self/status (Linux), or
/// `None` where that cannot be read.
pub fn thread_count() -> Option<usize> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("Threads:"))?;
    line["Threads:".len()..].trim().parse().ok()
}
