//! Child processes through the public API. CI runs this file twice: as is (pidfds), and with
//! `WEFT_CHILD_WATCH=sigchld` (the fallback); `each_child_is_watched_the_way_the_environment_says`
//! checks which path ran.

use std::os::unix::process::ExitStatusExt;
use std::time::Duration;

use weft::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use weft::process::{CHILD_WATCH_ENV, Command, Stdio};
use weft::signal::{SIGKILL, SIGTERM, Signal};

/// Whether `pid` is gone from `/proc`: exited and reaped (a zombie still has its entry).
fn reaped(pid: u32) -> bool {
    !std::path::Path::new(&format!("/proc/{pid}")).exists()
}

/// Lets the loop run until `pid` is reaped; fails after 10 s. The runtime reaps on its own
/// (the child's exit arrives as an event); this only gives it the turns to do so.
async fn until_reaped(pid: u32) {
    let waited = weft::time::timeout(Duration::from_secs(10), async {
        while !reaped(pid) {
            weft::task::yield_now().await;
        }
    })
    .await;
    assert!(waited.is_ok(), "child {pid} is still in /proc: a zombie");
}

#[weft::test]
async fn each_child_is_watched_the_way_the_environment_says() {
    let mut child = Command::new("true").spawn().unwrap();
    // pidfds unless the environment forces SIGCHLD, or the system refuses them (an old
    // kernel, or a seccomp filter): then weft falls back on its own.
    let pidfds_allowed = rustix::process::pidfd_open(
        rustix::process::getpid(),
        rustix::process::PidfdFlags::empty(),
    )
    .is_ok();
    let expected = match std::env::var(CHILD_WATCH_ENV).as_deref() {
        Ok("sigchld") => "SIGCHLD",
        _ if pidfds_allowed => "pidfd",
        _ => "SIGCHLD",
    };
    assert_eq!(child.exit_watch(), expected);
    assert!(child.wait().await.unwrap().success());
}

#[weft::test]
async fn exit_codes_and_death_by_signal() {
    let status = Command::new("sh")
        .args(["-c", "exit 3"])
        .status()
        .await
        .unwrap();
    assert_eq!(status.code(), Some(3));
    let status = Command::new("sh")
        .args(["-c", "kill -TERM $$"])
        .status()
        .await
        .unwrap();
    assert_eq!((status.code(), status.signal()), (None, Some(15)));
}

#[weft::test]
async fn two_hundred_children_at_once() {
    let children: Vec<_> = (0..200)
        .map(|i| {
            let mut child = Command::new("sh")
                .args(["-c", &format!("exit {}", i % 7)])
                .spawn()
                .unwrap();
            weft::spawn(async move { child.wait().await.unwrap().code() })
        })
        .collect();
    for (i, child) in children.into_iter().enumerate() {
        assert_eq!(child.await.unwrap(), Some(i as i32 % 7));
    }
}

#[weft::test]
async fn ten_mebibytes_through_cat_in_and_out_at_once() {
    let input: Vec<u8> = (0..10 << 20).map(|i: u32| (i % 251) as u8).collect();
    let child = Command::new("cat")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // More than a pipe holds each way: feeding first and reading after would deadlock.
    let output = child.communicate(&input).await.unwrap();
    assert!(output.status.success());
    assert_eq!(output.stdout.len(), input.len());
    assert!(output.stdout == input, "cat gave back other bytes");
}

#[weft::test]
async fn stderr_is_kept_apart_from_stdout() {
    let output = Command::new("sh")
        .args(["-c", "echo out; echo err >&2; echo more out"])
        .output()
        .await
        .unwrap();
    assert_eq!(output.stdout, b"out\nmore out\n");
    assert_eq!(output.stderr, b"err\n");
}

#[weft::test]
async fn output_reads_lines_as_they_come_and_writes_to_stdin() {
    let mut child = Command::new("sh")
        .args(["-c", "while read line; do echo \"got $line\"; done"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut replies = BufReader::new(child.stdout.take().unwrap());
    for word in ["one", "two"] {
        stdin
            .write_all(format!("{word}\n").as_bytes())
            .await
            .unwrap();
        let mut line = String::new();
        replies.read_line(&mut line).await.unwrap();
        assert_eq!(
            line,
            format!("got {word}\n"),
            "an answer per line, while it runs"
        );
    }
    stdin.close().await.unwrap();
    let mut rest = Vec::new();
    replies.read_to_end(&mut rest).await.unwrap();
    assert!(rest.is_empty());
    assert!(child.wait().await.unwrap().success());
}

#[weft::test]
async fn kill_on_drop_kills_and_the_runtime_reaps() {
    let child = Command::new("sleep")
        .arg("1000")
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let pid = child.id();
    drop(child);
    until_reaped(pid).await;
}

#[weft::test]
async fn a_child_dropped_without_wait_leaves_no_zombie() {
    let child = Command::new("sh").args(["-c", "exit 0"]).spawn().unwrap();
    let pid = child.id();
    drop(child);
    until_reaped(pid).await;
}

#[weft::test]
async fn a_timeout_around_wait_then_kill() {
    let mut child = Command::new("sleep").arg("1000").spawn().unwrap();
    let waited = weft::time::timeout(Duration::from_millis(20), child.wait()).await;
    assert!(waited.is_err(), "sleep 1000 did not end in 20 ms");
    child.kill().unwrap();
    let status = child.wait().await.unwrap();
    assert_eq!(status.signal(), Some(9));
    // Reaped: further signals are no-ops, not errors (its pid may be another's now).
    child.kill().unwrap();
    assert!(reaped(child.id()));
}

#[weft::test]
async fn typed_signals_reach_the_child_and_say_what_ended_it() {
    let mut child = Command::new("sleep").arg("1000").spawn().unwrap();
    child.signal(SIGTERM).unwrap();
    let status = child.wait().await.unwrap();
    assert_eq!(Signal::from_exit(&status), Some(SIGTERM));
    assert_eq!(Signal::from_exit(&status).unwrap().to_string(), "SIGTERM");
    let exited = Command::new("true").status().await.unwrap();
    assert_eq!(
        Signal::from_exit(&exited),
        None,
        "it exited, no signal ended it"
    );
}

#[weft::test]
async fn a_process_group_signal_reaches_the_grandchildren() {
    // The shell starts a grandchild that prints its pid, then waits for it.
    let mut child = Command::new("sh")
        .args(["-c", "sleep 1000 & echo $!; wait"])
        .process_group(0)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap());
    let grandchild: u32 = lines.next_line().await.unwrap().unwrap().parse().unwrap();
    child.signal_group(SIGKILL).unwrap();
    assert_eq!(
        Signal::from_exit(&child.wait().await.unwrap()),
        Some(SIGKILL)
    );
    // The grandchild got it too; it was re-parented, so only its /proc entry can tell.
    let gone = weft::time::timeout(Duration::from_secs(10), async {
        loop {
            let status = std::fs::read_to_string(format!("/proc/{grandchild}/stat"));
            // Gone, or a zombie ("Z") waiting for whoever adopted it.
            if status.map_or(true, |stat| stat.contains(") Z ")) {
                return;
            }
            weft::task::yield_now().await;
        }
    })
    .await;
    assert!(
        gone.is_ok(),
        "the grandchild {grandchild} survived the group's SIGKILL"
    );

    // Without a group of its own, a group signal would hit this process too: refused.
    let mut shares_ours = Command::new("sleep")
        .arg("1000")
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let err = shares_ours.signal_group(SIGTERM).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert!(err.to_string().contains("process_group(0)"), "{err}");
    let err = weft::process::killpg(0, SIGTERM).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
}

#[weft::test]
async fn a_missing_program_is_not_found() {
    let err = Command::new("weft-no-such-program").spawn().unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    let err = Command::new("weft-no-such-program")
        .output()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
}

#[weft::test]
async fn the_builder_sets_arguments_environment_directory_and_group() {
    let dir = std::env::temp_dir();
    let output = Command::new("sh")
        .args(["-c", "echo \"$WEFT_A $WEFT_B\"; pwd; test -z \"$HOME\" && echo nohome; cut -d' ' -f5 /proc/$$/stat"])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap())
        .envs([("WEFT_A", "a"), ("WEFT_B", "b")])
        .env("HOME", "/nowhere")
        .env_remove("HOME")
        .current_dir(&dir)
        .process_group(0)
        .output()
        .await
        .unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "a b");
    assert_eq!(
        std::fs::canonicalize(lines[1]).unwrap(),
        std::fs::canonicalize(&dir).unwrap()
    );
    assert_eq!(lines[2], "nohome");
    let own_pid = std::process::id().to_string();
    assert_ne!(
        lines.get(3).map(|l| l.trim()),
        Some(own_pid.as_str()),
        "a group of its own"
    );
}

#[test]
fn a_paused_clock_waits_for_a_child_rather_than_jump() {
    // The child runs in real time: a paused clock must not jump to the timeout while it does.
    let runtime = weft::runtime::Builder::new()
        .start_paused(true)
        .build()
        .unwrap();
    runtime.block_on(async {
        let start = weft::time::Instant::now();
        let mut child = Command::new("sh").args(["-c", "exit 4"]).spawn().unwrap();
        let status = weft::time::timeout(Duration::from_secs(3600), child.wait())
            .await
            .expect("the clock held still while the child ran")
            .unwrap();
        assert_eq!(status.code(), Some(4));
        assert_eq!(start.elapsed(), Duration::ZERO);
    });
}

#[weft::test(paused)]
async fn output_and_communicate_hold_a_paused_clock_while_the_child_runs() {
    // The child prints, then exits 0.3 s later in real time. Were the clock free while the
    // pipes are read, it would jump to the timeout's deadline, and the output would be lost.
    let start = weft::time::Instant::now();
    let script = "echo out; sleep 0.3";
    let output = weft::time::timeout(
        Duration::from_secs(10),
        Command::new("sh").args(["-c", script]).output(),
    )
    .await
    .expect("the clock held still while the child ran")
    .unwrap();
    assert_eq!(output.stdout, b"out\n");
    assert_eq!(start.elapsed(), Duration::ZERO, "virtual +0 s");

    let child = Command::new("sh")
        .args(["-c", "cat; sleep 0.3"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let output = weft::time::timeout(Duration::from_secs(10), child.communicate(b"fed"))
        .await
        .expect("held by communicate too")
        .unwrap();
    assert_eq!(output.stdout, b"fed");
    assert_eq!(start.elapsed(), Duration::ZERO);
}

#[weft::test]
async fn a_task_dump_names_the_child_a_task_waits_for() {
    let mut child = Command::new("sleep").arg("1000").spawn().unwrap();
    let pid = child.id();
    let waiter = weft::task::Builder::new()
        .name("waiter")
        .spawn(async move { child.wait().await });
    weft::task::wait_all_tasks_blocked().await;
    let dump = weft::task::dump().to_string();
    assert!(
        dump.contains(&format!("child process {pid} (sleep)")),
        "{dump}"
    );
    // The wait is a live wake source: no deadlock is reported while it lasts.
    rustix::process::kill_process(
        rustix::process::Pid::from_raw(pid as i32).unwrap(),
        rustix::process::Signal::KILL,
    )
    .unwrap();
    let status = waiter.await.unwrap().unwrap();
    assert_eq!(status.signal(), Some(9));
}
