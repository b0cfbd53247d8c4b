//! `weft-ps PID`: every weft runtime in a running process, its tasks as a tree, what each
//! waits on and who holds that, wait-for cycles marked; a loop stuck in one poll named all
//! the same. `--trace DURATION` records a Perfetto trace of the live process; `--json` gives
//! either as JSON. Python 3.14's `python -m asyncio pstree PID`, for weft, and further.
//!
//! How it works without preparation in the program: docs/weft-ps.md.

mod args;
mod memory;
mod render;
mod session;

use std::io::Write;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use args::Args;
use memory::Process;
use serde_json::{Value, json};
use session::{Asked, Session};

/// How long a runtime has to connect before it counts as stuck.
const ANSWER_WITHIN: Duration = Duration::from_millis(500);
/// How long a connected runtime has to send its dump.
const DUMP_WITHIN: Duration = Duration::from_secs(30);

fn main() -> ExitCode {
    let args = match Args::parse(std::env::args().skip(1)) {
        Ok(Some(args)) => args,
        Ok(None) => {
            print!("{}", args::USAGE);
            return ExitCode::SUCCESS;
        }
        Err(err) => {
            eprintln!("weft-ps: {err}\n\n{}", args::USAGE);
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("weft-ps: {err}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> Result<(), String> {
    let process = Process::open(args.pid)?;
    let anchors = process
        .anchors()
        .map_err(|err| format!("cannot read the memory map of process {}: {err}", args.pid))?;
    if anchors.is_empty() {
        return Err(format!(
            "process {} is not a weft program, or has built no runtime yet (no weft-ps anchor in its memory)",
            args.pid
        ));
    }
    let mut beacons = Vec::new();
    for anchor in anchors {
        beacons.extend(process.beacons(anchor).map_err(|err| err.to_string())?);
    }
    if beacons.is_empty() {
        return Err(format!(
            "process {} has no runtime that can be attached to: none is alive, or attaching is off (WEFT_PS=0 or Builder::attachable(false))",
            args.pid
        ));
    }
    let session = Session::listen(args.pid)?;
    let running: Vec<_> = beacons.iter().filter(|b| b.running).collect();
    let threads: Vec<u64> = running.iter().map(|b| b.thread).collect();
    session.signal(&threads)?;
    let connected = session.accept(running.len(), Instant::now() + ANSWER_WITHIN);
    let request = match args.trace {
        Some(duration) => format!("trace {}", duration.as_millis()),
        None => "dump".to_owned(),
    };
    let limit = args.trace.unwrap_or_default() + DUMP_WITHIN;
    // Ask every runtime at once: a trace runs for the same time in each.
    // `Ok(None)`: the runtime connected, then its loop got stuck in another task's poll.
    let mut answers: Vec<(u64, u64, Result<Option<String>, String>)> =
        std::thread::scope(|scope| {
            let asks: Vec<_> = connected
                .into_iter()
                .map(|runtime| {
                    let request = request.clone();
                    let (id, thread) = (runtime.runtime, runtime.thread);
                    let beacon = beacons
                        .iter()
                        .find(|b| b.runtime == id)
                        .map(|b| b.address());
                    let stuck = stuck_watch(&process, beacon, runtime.task);
                    let ask = scope.spawn(move || match runtime.ask(&request, limit, stuck) {
                        Ok(Asked::Answer(text)) => Ok(Some(text)),
                        Ok(Asked::Stuck) => Ok(None),
                        Err(err) => Err(err.to_string()),
                    });
                    (id, thread, ask)
                })
                .collect();
            asks.into_iter()
                .map(|(id, thread, ask)| {
                    (
                        id,
                        thread,
                        ask.join().unwrap_or_else(|_| Err("panicked".into())),
                    )
                })
                .collect()
        });
    let mut runtimes = Vec::new();
    for beacon in &beacons {
        let answer = answers.iter_mut().find(|(id, ..)| *id == beacon.runtime);
        runtimes.push(match answer {
            Some((_, _, Ok(None))) => Runtime::Unanswered(json!({
                "runtime": beacon.runtime, "thread": beacon.thread, "answered": false,
                "running": true,
                "stuck": stuck(&process, beacon),
            })),
            Some((_, thread, Ok(Some(text)))) => {
                // Moved, not copied: a large process's dump is megabytes.
                let mut text = std::mem::take(text);
                text.truncate(text.trim_end().len());
                if text.starts_with(r#"{"error":"#) {
                    let error: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                    let error = error["error"].as_str().unwrap_or(&text).to_owned();
                    return Err(format!("runtime {}: {error}", beacon.runtime));
                }
                if !text.starts_with('{') {
                    return Err(format!(
                        "runtime {} sent something that is not a JSON object: {:.80}",
                        beacon.runtime, text
                    ));
                }
                Runtime::Answered {
                    runtime: beacon.runtime,
                    thread: *thread,
                    answer: text,
                }
            }
            Some((_, thread, Err(err))) => Runtime::Unanswered(json!({
                "runtime": beacon.runtime, "thread": thread, "answered": false,
                "error": format!("it connected, then: {err}"),
            })),
            None => Runtime::Unanswered(json!({
                "runtime": beacon.runtime, "thread": beacon.thread, "answered": false,
                "running": beacon.running,
                "stuck": stuck(&process, beacon),
            })),
        });
    }
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let written = if args.trace.is_some() {
        let runtimes: Result<Vec<Value>, String> = runtimes.iter().map(Runtime::parsed).collect();
        writeln!(out, "{}", render::merge_traces(&runtimes?))
    } else if args.json {
        // The runtimes' answers go out as they came: JSON already, and large.
        write!(out, r#"{{"pid":{},"runtimes":["#, args.pid).and_then(|()| {
            for (i, runtime) in runtimes.iter().enumerate() {
                if i > 0 {
                    out.write_all(b",")?;
                }
                runtime.write_json(&mut out)?;
            }
            out.write_all(b"]}\n")
        })
    } else {
        let runtimes: Result<Vec<Value>, String> = runtimes.iter().map(Runtime::parsed).collect();
        // Moved in, not converted: `json!` would serialize the whole dump into a copy.
        let mut report = serde_json::Map::new();
        report.insert("pid".to_owned(), json!(args.pid));
        report.insert("runtimes".to_owned(), Value::Array(runtimes?));
        let report = Value::Object(report);
        let text = render::text(&report);
        // A dump of many tasks is millions of small values: the process ends right after,
        // and freeing them one by one took longer than reading them.
        std::mem::forget(report);
        out.write_all(text.as_bytes())
    };
    written
        .and_then(|()| out.flush())
        .map_err(|err| format!("cannot write the report: {err}"))
}

/// One runtime's part of the report.
enum Runtime {
    /// Its dump (or trace), as the JSON text it sent.
    Answered {
        runtime: u64,
        thread: u64,
        answer: String,
    },
    Unanswered(Value),
}

impl Runtime {
    fn write_json(&self, out: &mut impl Write) -> std::io::Result<()> {
        match self {
            Runtime::Answered {
                runtime,
                thread,
                answer,
            } => write!(
                out,
                r#"{{"runtime":{runtime},"thread":{thread},"answered":true,"answer":{answer}}}"#
            ),
            Runtime::Unanswered(value) => write!(out, "{value}"),
        }
    }

    /// As a JSON value, its answer parsed.
    fn parsed(&self) -> Result<Value, String> {
        match self {
            Runtime::Answered {
                runtime,
                thread,
                answer,
            } => {
                let answer: Value = serde_json::from_str(answer).map_err(|err| {
                    format!("runtime {runtime} sent JSON that does not parse: {err}")
                })?;
                let mut entry = serde_json::Map::new();
                entry.insert("runtime".to_owned(), json!(runtime));
                entry.insert("thread".to_owned(), json!(thread));
                entry.insert("answered".to_owned(), Value::Bool(true));
                entry.insert("answer".to_owned(), answer);
                Ok(Value::Object(entry))
            }
            Runtime::Unanswered(value) => Ok(value.clone()),
        }
    }
}

/// Whether the runtime whose beacon is at `beacon` is stuck, asked again and again while
/// its answer is awaited: true once the same poll of a task other than the answering one
/// (`responder`; a large dump is one long poll of it) has run with no new turn for as long
/// as a runtime has to connect.
fn stuck_watch<'a>(
    process: &'a Process,
    beacon: Option<usize>,
    responder: u64,
) -> impl FnMut() -> bool + Send + 'a {
    let mut seen: Option<(u64, u64, Instant)> = None;
    move || {
        let Some(now) = beacon.and_then(|at| process.beacon(at).ok()) else {
            return false;
        };
        if !now.running || now.polling == 0 || now.polling == responder {
            seen = None;
            return false;
        }
        match seen {
            Some((polling, stamp, since)) if (polling, stamp) == (now.polling, now.turn_stamp) => {
                since.elapsed() >= ANSWER_WITHIN
            }
            _ => {
                seen = Some((now.polling, now.turn_stamp, Instant::now()));
                false
            }
        }
    }
}

/// What a runtime that did not answer is doing, from its beacon and the kernel.
fn stuck(process: &Process, beacon: &memory::Beacon) -> Value {
    // Read again: the first read was before the signal.
    let beacon = process
        .beacon(beacon.address())
        .unwrap_or_else(|_| beacon.clone());
    if !beacon.running {
        return Value::Null;
    }
    let for_ms = weft_runtime::attach::now_nanos().saturating_sub(beacon.turn_stamp) / 1_000_000;
    let doing = memory::thread_doing(process.pid, beacon.thread);
    if beacon.polling == 0 {
        return json!({"task": null, "for_ms": for_ms, "thread": doing});
    }
    json!({
        "task": beacon.polling,
        "spawned_at": process.polling_site(&beacon),
        "for_ms": for_ms,
        "thread": doing,
    })
}
