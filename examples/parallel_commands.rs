//! `xargs -P` on one thread: runs shell commands, at most `--jobs` at once, streaming each
//! one's output line by line with its number in front, and kills any command that runs past
//! `--timeout` seconds.
//!
//! `cargo run --example parallel_commands -- --jobs 4 --timeout 10 --file commands.txt`
//! (one command per line; blank lines and `#` comments are skipped; without `--file` the
//! commands come from stdin). It ends with a summary: exit codes, the wall time, and the sum of
//! the commands' own times, which is what running them one after another would have cost.

use std::io::Read;
use std::process::ExitStatus;
use std::time::{Duration, Instant};

use weft::io::BufReader;
use weft::process::{Command, Stdio};
use weft::sync::Semaphore;

/// How one command ended.
enum Ended {
    Exited(ExitStatus),
    TimedOut,
    /// It could not be started, or waited for.
    Failed(std::io::Error),
}

/// `xargs -P` on one thread: runs shell commands, one per line, at most --jobs at once.
#[derive(clap::Parser)]
#[command(name = "parallel_commands")]
struct Args {
    /// Commands running at once.
    #[arg(long, default_value_t = 4, value_parser = demo_cli::at_least_one)]
    jobs: usize,
    /// Kill a command that runs longer than this many seconds.
    #[arg(long, default_value = "60", value_parser = demo_cli::seconds)]
    timeout: Duration,
    /// Read the commands from this file; `-` reads them from stdin.
    #[arg(long, default_value = "-")]
    file: String,
}

fn main() {
    let Args {
        jobs,
        timeout,
        file,
    } = clap::Parser::parse();
    let text = if file == "-" {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text).map(|_| text)
    } else {
        std::fs::read_to_string(&file)
    };
    let text = text.unwrap_or_else(|err| {
        eprintln!("parallel_commands: cannot read {file}: {err}");
        std::process::exit(2);
    });
    let commands: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(str::to_owned)
        .collect();

    let started = Instant::now();
    let results = weft::run(async move {
        let slots = Semaphore::new(jobs);
        let runs: Vec<_> = commands
            .into_iter()
            .enumerate()
            .map(|(index, command)| {
                let slots = slots.clone();
                weft::spawn(async move {
                    let _slot = slots.acquire().await;
                    let began = Instant::now();
                    let ended = run(index, &command, timeout).await;
                    (index, command, ended, began.elapsed())
                })
            })
            .collect();
        let mut results = Vec::new();
        for run in runs {
            results.push(run.await.expect("a command's task never panics"));
        }
        results
    });
    summarize(&results, started.elapsed());
}

/// Runs `command` with `sh -c`, printing its output as it comes; kills it after `timeout`.
async fn run(index: usize, command: &str, timeout: Duration) -> Ended {
    println!("[{index}] $ {command}");
    let spawned = Command::new("sh")
        .args(["-c", command])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own process group, so a timeout kills what the shell started too.
        .process_group(0)
        .kill_on_drop(true)
        .spawn();
    let mut child = match spawned {
        Ok(child) => child,
        Err(err) => return Ended::Failed(err),
    };
    let stdout = child.stdout.take().map(BufReader::new);
    let stderr = child.stderr.take().map(BufReader::new);
    let finished = async {
        weft::join!(relay(index, "out", stdout), relay(index, "err", stderr));
        child.wait().await
    };
    match weft::time::timeout(timeout, finished).await {
        Ok(Ok(status)) => Ended::Exited(status),
        Ok(Err(err)) => Ended::Failed(err),
        Err(_) => {
            kill_group(child.id());
            let _ = child.kill();
            let _ = child.wait().await;
            Ended::TimedOut
        }
    }
}

/// Sends `SIGKILL` to the process group led by `leader`: the shell and all it started.
fn kill_group(leader: u32) {
    let group = i32::try_from(leader)
        .ok()
        .and_then(rustix::process::Pid::from_raw);
    if let Some(group) = group {
        let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
    }
}

/// Prints each line of `pipe` as `[index stream] line` until it ends.
async fn relay<R>(index: usize, stream: &str, pipe: Option<BufReader<R>>)
where
    R: weft::io::AsyncRead + Unpin,
{
    let Some(mut pipe) = pipe else { return };
    let mut line = Vec::new();
    loop {
        line.clear();
        match pipe.read_until(b"\n", &mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {
                let text = String::from_utf8_lossy(&line);
                println!("[{index} {stream}] {}", text.trim_end_matches('\n'));
            }
        }
    }
}

fn summarize(results: &[(usize, String, Ended, Duration)], wall: Duration) {
    println!();
    let mut sum = Duration::ZERO;
    let (mut ok, mut failed, mut timed_out) = (0, 0, 0);
    for (index, command, ended, took) in results {
        sum += *took;
        let how = match ended {
            Ended::Exited(status) if status.success() => {
                ok += 1;
                "exit 0".to_owned()
            }
            Ended::Exited(status) => {
                failed += 1;
                match status.code() {
                    Some(code) => format!("exit {code}"),
                    None => format!("{status}"),
                }
            }
            Ended::TimedOut => {
                timed_out += 1;
                "killed: timed out".to_owned()
            }
            Ended::Failed(err) => {
                failed += 1;
                format!("could not run: {err}")
            }
        };
        println!(
            "[{index}] {how:<18} {:>8.2} s  {command}",
            took.as_secs_f64()
        );
    }
    println!(
        "{} commands: {ok} succeeded, {failed} failed, {timed_out} timed out",
        results.len()
    );
    println!(
        "wall time {:.2} s; one after another they took {:.2} s ({:.1}x)",
        wall.as_secs_f64(),
        sum.as_secs_f64(),
        sum.as_secs_f64() / wall.as_secs_f64().max(1e-9)
    );
    println!(
        "threads in this process: {}",
        demo_cli::thread_count().unwrap_or(1)
    );
}
