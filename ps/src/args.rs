//! The command line.

use std::time::Duration;

pub const USAGE: &str = "\
usage: weft-ps PID [--json] [--trace DURATION]

Shows every weft runtime of process PID: its tasks as a tree (who spawned whom), each
task's state, spawn site, polls, busy and idle time, what it waits on and who holds that,
and the wait-for cycles. A runtime whose loop is stuck in one poll is named all the same:
the task, where it was spawned, for how long, and what its thread is doing.

  --json              the same as JSON (schema: docs/weft-ps.md)
  --trace DURATION    record the runtimes for DURATION (5s, 500ms, 1m) with the flight
                      recorder and print the Perfetto trace (ui.perfetto.dev opens it)
  -h, --help          this text

The program needs no preparation; WEFT_PS=0 in its environment turns this off.
";

/// What was asked.
#[derive(Debug, PartialEq)]
pub struct Args {
    pub pid: u32,
    pub json: bool,
    pub trace: Option<Duration>,
}

impl Args {
    /// The arguments, `None` for `--help`, or what is wrong with them.
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Option<Args>, String> {
        let mut pid = None;
        let mut json = false;
        let mut trace = None;
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "-h" | "--help" => return Ok(None),
                "--json" => json = true,
                "--trace" => {
                    let value = args.next().ok_or("--trace needs a duration, such as 5s")?;
                    trace = Some(duration(&value)?);
                }
                flag if flag.starts_with('-') => return Err(format!("unknown option {flag}")),
                number => {
                    if pid.is_some() {
                        return Err(format!("one PID only ({number} is a second)"));
                    }
                    pid = Some(number.parse::<u32>().map_err(|_| {
                        format!("{number:?} is not a process id (a number, as `pidof` prints)")
                    })?);
                }
            }
        }
        let pid = pid.ok_or("which process? give its PID")?;
        Ok(Some(Args { pid, json, trace }))
    }
}

/// `5s`, `500ms`, `1m`, or a bare number of seconds.
fn duration(text: &str) -> Result<Duration, String> {
    let bad = || format!("{text:?} is not a duration: write 5s, 500ms or 1m");
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit() && c != '.') {
        Some(at) => text.split_at(at),
        None => (text, "s"),
    };
    let number: f64 = number.parse().map_err(|_| bad())?;
    let seconds = match unit {
        "ms" => number / 1000.0,
        "s" => number,
        "m" => number * 60.0,
        _ => return Err(bad()),
    };
    if !(seconds > 0.0 && seconds <= 3600.0) {
        return Err(format!("{text:?}: a trace lasts between 1 ms and an hour"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Option<Args>, String> {
        Args::parse(args.iter().map(|s| s.to_string()))
    }

    #[test]
    fn flags_and_durations() {
        assert_eq!(
            parse(&["42", "--json"]).unwrap(),
            Some(Args {
                pid: 42,
                json: true,
                trace: None
            })
        );
        assert_eq!(
            parse(&["--trace", "500ms", "7"]).unwrap().unwrap().trace,
            Some(Duration::from_millis(500))
        );
        assert_eq!(
            parse(&["7", "--trace", "2"]).unwrap().unwrap().trace,
            Some(Duration::from_secs(2))
        );
        assert_eq!(parse(&["--help"]).unwrap(), None);
    }

    #[test]
    fn mistakes_say_what_to_write() {
        assert!(parse(&[]).unwrap_err().contains("PID"));
        assert!(parse(&["abc"]).unwrap_err().contains("not a process id"));
        assert!(
            parse(&["1", "--bogus"])
                .unwrap_err()
                .contains("unknown option --bogus")
        );
        assert!(
            parse(&["1", "--trace"])
                .unwrap_err()
                .contains("needs a duration")
        );
        assert!(
            parse(&["1", "--trace", "5 parsecs"])
                .unwrap_err()
                .contains("not a duration")
        );
        assert!(
            parse(&["1", "--trace", "0s"])
                .unwrap_err()
                .contains("between")
        );
        assert!(parse(&["1", "2"]).unwrap_err().contains("one PID"));
    }
}
