//! The `parallel_commands` example end to end: output streamed with its command's number,
//! exit codes, a command killed at its timeout, the summary, and one thread throughout.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn commands_run_side_by_side_with_their_output_prefixed_and_the_slow_one_killed() {
    let commands = "echo hello\n\
                    echo oops >&2; exit 3\n\
                    # a comment, skipped\n\
                    \n\
                    sleep 31.4159; echo never\n\
                    for i in 1 2 3; do echo line $i; done\n";
    let started = Instant::now();
    let mut child = Command::new(test_support::example_binary("parallel_commands"))
        .args(["--jobs", "2", "--timeout", "0.5"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(commands.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "the sleep was not killed at its timeout"
    );
    let text = String::from_utf8(output.stdout).unwrap();
    for expected in [
        "[0 out] hello",
        "[1 err] oops",
        "[3 out] line 1",
        "[3 out] line 2",
        "[3 out] line 3",
        "[1] exit 3",
        "[2] killed: timed out",
        "4 commands: 2 succeeded, 1 failed, 1 timed out",
        "threads in this process: 1",
    ] {
        assert!(text.contains(expected), "no {expected:?} in:\n{text}");
    }
    let line_order: Vec<_> = text.lines().filter(|l| l.starts_with("[3 out]")).collect();
    assert_eq!(
        line_order,
        ["[3 out] line 1", "[3 out] line 2", "[3 out] line 3"]
    );
    assert!(!text.contains("a comment"));
    // The timeout killed the shell's whole process group, its `sleep` too.
    let survivors: Vec<_> = std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|entry| std::fs::read(entry.ok()?.path().join("cmdline")).ok())
        .filter(|cmdline| cmdline.windows(7).any(|w| w == b"31.4159"))
        .collect();
    assert!(
        survivors.is_empty(),
        "the timed-out command's sleep survived"
    );
}
