//! `weft-ps` against real programs, each started as a child process: the examples, as a
//! user runs them, with nothing prepared for being looked at.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// A child process, killed when the test ends however it ends.
struct Running {
    child: Child,
    /// Its first line of output.
    first_line: String,
}

impl Running {
    /// Starts `example` and waits for its first line (the servers print their address).
    fn start(example: &str, args: &[&str]) -> Running {
        let mut running = Running::start_quiet(example, args);
        BufReader::new(running.child.stdout.as_mut().unwrap())
            .read_line(&mut running.first_line)
            .unwrap();
        running
    }

    fn start_quiet(example: &str, args: &[&str]) -> Running {
        let child = Command::new(test_support::example_binary(example))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        Running {
            child,
            first_line: String::new(),
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The loopback address it printed it listens on.
    fn address(&self) -> String {
        let at = self
            .first_line
            .find("127.0.0.1:")
            .expect("an address on its first line");
        let rest = &self.first_line[at + "127.0.0.1:".len()..];
        let port: String = rest.chars().take_while(char::is_ascii_digit).collect();
        format!("127.0.0.1:{port}")
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn weft_ps(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_weft-ps"))
        .args(args)
        .output()
        .unwrap()
}

/// Runs `weft-ps` on `pid` until `ready` accepts its output (a program needs a moment to
/// reach the state a test looks at), for at most 10 s; returns that output.
fn weft_ps_until(pid: u32, extra: &[&str], ready: impl Fn(&str) -> bool) -> String {
    let pid = pid.to_string();
    let mut args = vec![pid.as_str()];
    args.extend_from_slice(extra);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let output = weft_ps(&args);
        let text = String::from_utf8_lossy(&output.stdout).into_owned();
        if output.status.success() && ready(&text) {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "weft-ps never showed what was expected; last output:\n{text}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

#[test]
fn a_deadlocked_program_shows_its_tasks_as_a_tree_and_the_lock_cycle() {
    let program = Running::start("stuck", &["--deadlock"]);
    let text = weft_ps_until(program.pid(), &[], |text| text.contains("wait-for cycle"));
    assert!(
        text.contains("wait-for cycle: #3 (transfer-a) → #4 (transfer-b) → #3 (transfer-a)"),
        "{text}"
    );
    // The tree: the workers under main, the two transfers under the workers, each waiting
    // on the lock the other holds.
    let lines: Vec<&str> = text.lines().collect();
    let at = |needle: &str| lines.iter().position(|l| l.contains(needle)).unwrap();
    assert!(lines[at("#1 (main)")].starts_with("  #1 (main)  waiting  examples/stuck.rs:"));
    assert!(
        lines[at("#2 (workers)")].starts_with("  └─ #2 (workers)"),
        "{text}"
    );
    assert!(
        lines[at("├─ #3")].starts_with("     ├─ #3 (transfer-a)"),
        "{text}"
    );
    assert!(
        lines[at("└─ #4")].starts_with("     └─ #4 (transfer-b)"),
        "{text}"
    );
    assert!(lines[at("├─ #3") + 1].contains("waits on Mutex#2 lock, held by #4 (transfer-b)"));
    assert!(lines[at("└─ #4") + 1].contains("waits on Mutex#1 lock, held by #3 (transfer-a)"));

    // The same as JSON, with parents and the cycle.
    let json = weft_ps(&[&program.pid().to_string(), "--json"]);
    let report: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(report["pid"], program.pid());
    let dump = &report["runtimes"][0]["answer"];
    assert_eq!(dump["schema"], 1);
    let parent_of = |name: &str| {
        dump["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == name)
            .map(|t| t["parent"].clone())
            .unwrap()
    };
    assert_eq!(parent_of("main"), Value::Null);
    assert_eq!(parent_of("workers"), 1);
    assert_eq!(parent_of("transfer-a"), 2);
    assert_eq!(dump["cycles"], serde_json::json!([[3, 4]]));
}

#[test]
fn a_task_that_blocks_the_thread_is_named_within_a_second() {
    let program = Running::start("stuck", &["--block", "5"]);
    let pid = program.pid().to_string();
    // The task blocks 50 ms after start; from then on the loop cannot answer.
    let deadline = Instant::now() + Duration::from_secs(4);
    loop {
        let started = Instant::now();
        let output = weft_ps(&[&pid]);
        let took = started.elapsed();
        let text = String::from_utf8_lossy(&output.stdout).into_owned();
        if text.contains("NOT ANSWERING") {
            assert!(took < Duration::from_secs(1), "weft-ps took {took:?}");
            assert!(
                text.contains("in a poll of task #2 spawned at examples/stuck.rs:"),
                "{text}"
            );
            assert!(text.contains("clock_nanosleep"), "{text}");
            let seconds: f64 = text
                .split(", for ")
                .nth(1)
                .and_then(|rest| rest.split(' ').next())
                .and_then(|n| n.parse().ok())
                .unwrap();
            assert!((0.0..5.5).contains(&seconds), "{text}");
            return;
        }
        assert!(
            Instant::now() < deadline,
            "never named the blocked task:\n{text}"
        );
    }
}

#[test]
fn each_core_of_a_cores_server_answers_with_its_own_tasks() {
    let program = Running::start(
        "echo_server",
        &["--addr", "127.0.0.1:0", "--threads", "2", "--quiet"],
    );
    let text = weft_ps_until(program.pid(), &[], |text| {
        text.contains("runtime 2")
            && !text.contains("did not answer")
            && !text.contains("NOT ANSWERING")
    });
    assert!(
        text.starts_with(&format!("process {}: 2 weft runtimes", program.pid())),
        "{text}"
    );
    let json = weft_ps(&[&program.pid().to_string(), "--json"]);
    let report: Value = serde_json::from_slice(&json.stdout).unwrap();
    let runtimes = report["runtimes"].as_array().unwrap();
    assert_eq!(runtimes.len(), 2);
    for runtime in runtimes {
        assert_eq!(runtime["answered"], true, "{runtime}");
        // Each core waits for connections on a listener of its own.
        let tasks = runtime["answer"]["tasks"].as_array().unwrap();
        assert!(
            tasks.iter().any(|t| t["waits_on"]
                .as_array()
                .unwrap()
                .iter()
                .any(|w| w["operation"] == "read")),
            "{runtime}"
        );
    }
    assert_ne!(runtimes[0]["thread"], runtimes[1]["thread"]);
}

#[test]
fn a_busy_crawler_shows_its_fetch_tasks_waiting_on_sockets() {
    // A site whose every answer takes 300 ms, so the crawler's fetches are caught waiting.
    let site = Running::start(
        "site_server",
        &[
            "--addr",
            "127.0.0.1:0",
            "--pages",
            "400",
            "--latency-ms",
            "300",
        ],
    );
    let url = format!("http://{}/", site.address());
    let crawler = Running::start_quiet(
        "crawler",
        &[&url, "--concurrency", "8", "--max-pages", "400"],
    );
    let json = weft_ps_until(crawler.pid(), &["--json"], |text| {
        let Ok(report) = serde_json::from_str::<Value>(text) else {
            return false;
        };
        waiting_on_sockets(&report) >= 4
    });
    let report: Value = serde_json::from_str(&json).unwrap();
    assert!(waiting_on_sockets(&report) >= 4, "{json}");
}

/// How many tasks of the report wait on a socket.
fn waiting_on_sockets(report: &Value) -> usize {
    report["runtimes"][0]["answer"]["tasks"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|t| {
            t["waits_on"].as_array().is_some_and(|waits| {
                waits.iter().any(|w| {
                    w["resource"]
                        .as_str()
                        .is_some_and(|r| r.starts_with("I/O source"))
                })
            })
        })
        .count()
}

#[test]
fn a_trace_of_an_echo_server_under_load_opens_in_perfetto() {
    let program = Running::start("echo_server", &["--addr", "127.0.0.1:0", "--quiet"]);
    let address = program.address();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let load = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut stream = TcpStream::connect(&address).unwrap();
            let mut buf = [0u8; 64];
            let mut round_trips = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                stream.write_all(&[7; 64]).unwrap();
                stream.read_exact(&mut buf).unwrap();
                round_trips += 1;
            }
            round_trips
        })
    };
    let output = weft_ps(&[&program.pid().to_string(), "--trace", "2s"]);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(load.join().unwrap() > 0);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let doc = test_support::check_chrome_trace(&output.stdout);
    let events = doc["traceEvents"].as_array().unwrap();
    let polls = events
        .iter()
        .filter(|e| e["ph"] == "X" && e["name"] == "poll")
        .count();
    assert!(
        polls > 100,
        "two seconds of ping-pong are many polls, saw {polls}"
    );
    assert!(
        events.iter().any(|e| e["ph"] == "s"),
        "the trace has wake arrows"
    );
    // Afterwards the recorder is off again: a plain dump answers, with no poll counts.
    let after = weft_ps(&[&program.pid().to_string(), "--json"]);
    let report: Value = serde_json::from_slice(&after.stdout).unwrap();
    let tasks = report["runtimes"][0]["answer"]["tasks"]
        .as_array()
        .unwrap()
        .clone();
    assert!(tasks.iter().all(|t| t["polls"].is_null()), "{report}");
}

#[test]
fn a_program_that_is_not_weft_or_has_it_off_gets_a_clear_error() {
    let mut sleeper = Command::new("sleep").arg("30").spawn().unwrap();
    let output = weft_ps(&[&sleeper.id().to_string()]);
    let _ = sleeper.kill();
    let _ = sleeper.wait();
    assert!(!output.status.success());
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(err.contains("is not a weft program"), "{err}");

    let mut off = Command::new(test_support::example_binary("stuck"))
        .env("WEFT_PS", "0")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    BufReader::new(off.stdout.as_mut().unwrap())
        .read_line(&mut String::new())
        .unwrap();
    let output = weft_ps(&[&off.id().to_string()]);
    let _ = off.kill();
    let _ = off.wait();
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(err.contains("attaching is off"), "{err}");

    let output = weft_ps(&["--trace", "forever", "1"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("not a duration"));
    let output = weft_ps(&["99999999999"]);
    assert!(String::from_utf8_lossy(&output.stderr).contains("not a process id"));
}
