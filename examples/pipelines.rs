//! Push pipelines built from generators, after David Beazley's "A Curious Course on Coroutines
//! and Concurrency": `cargo run --example pipelines`
//!
//! A source tails a growing log file (like `tail -f`) and *sends* each new line into a chain
//! of coroutines: `grep` stages filter, `broadcast` fans out to several sinks, and closing the
//! head of the pipeline closes every stage behind it, each running its own cleanup.
//!
//! | Beazley (Python) | here |
//! |---|---|
//! | `@coroutine` priming with `next()` | `Lines::new` (a [`Sink`]) starts the body |
//! | `line = (yield)` | `co.yield_(()).await` evaluates to the line sent |
//! | `target.send(line)` | `target.send(line)` |
//! | `except GeneratorExit: target.close()` | `Err(Interrupt::Closed) => target.close()` |
//! | one target shared by several stages | a clone of the `Sink` |

use std::cell::RefCell;
use std::io::{BufRead, BufReader, Seek, SeekFrom, Write};
use std::rc::Rc;
use std::time::Duration;

use weft::generator::{Interrupt, Sink};

/// A coroutine that is sent lines and yields nothing back. Naming the type once lets every
/// stage below write `Lines::new(move |co| ...)` with no annotation on the closure.
type Lines = Sink<String>;

/// Passes on the lines that contain `pattern`.
fn grep(pattern: &'static str, target: Lines) -> Lines {
    Lines::new(move |co| async move {
        loop {
            match co.yield_(()).await {
                Ok(line) if line.contains(pattern) => {
                    let _ = target.send(line);
                }
                Ok(_) => {}
                Err(Interrupt::Closed) => {
                    let _ = target.close(); // closing a stage closes what follows it
                    return Ok(());
                }
                Err(thrown) => return Err(thrown),
            }
        }
    })
}

/// Sends every line to each of `targets`.
fn broadcast(targets: Vec<Lines>) -> Lines {
    Lines::new(move |co| async move {
        loop {
            match co.yield_(()).await {
                Ok(line) => {
                    for t in &targets {
                        let _ = t.send(line.clone());
                    }
                }
                Err(Interrupt::Closed) => {
                    for t in &targets {
                        let _ = t.close();
                    }
                    return Ok(());
                }
                Err(thrown) => return Err(thrown),
            }
        }
    })
}

/// Collects lines under `name`; says goodbye when closed.
fn collector(name: &'static str, into: Rc<RefCell<Vec<String>>>) -> Lines {
    Lines::new(move |co| async move {
        loop {
            match co.yield_(()).await {
                Ok(line) => {
                    println!("  [{name}] {line}");
                    into.borrow_mut().push(line);
                }
                Err(Interrupt::Closed) => {
                    println!("  [{name}] closed after {} lines", into.borrow().len());
                    return Ok(());
                }
                Err(thrown) => return Err(thrown),
            }
        }
    })
}

/// `tail -f`: sends each new line of the file at `path` into `target`, checking for more every
/// 5 ms, until `lines` lines went through; then closes the pipeline. (Regular files are always
/// "ready" to epoll, so following one means polling it, as tail does.)
async fn follow(path: &std::path::Path, lines: usize, target: Lines) -> std::io::Result<()> {
    let mut file = BufReader::new(std::fs::File::open(path)?);
    let (mut sent, mut partial) = (0, String::new());
    while sent < lines {
        let position = file.stream_position()?;
        if file.read_line(&mut partial)? == 0 || !partial.ends_with('\n') {
            // Nothing new, or half a line: wait for the writer, then read it again whole.
            file.seek(SeekFrom::Start(position))?;
            partial.clear();
            weft::time::sleep(Duration::from_millis(5)).await;
            continue;
        }
        let _ = target.send(partial.trim_end().to_string());
        partial.clear();
        sent += 1;
    }
    let _ = target.close();
    Ok(())
}

/// Push pipelines built from generators (Beazley's coroutine course): it takes no options.
#[derive(clap::Parser)]
#[command(name = "pipelines")]
struct Args {}

fn main() -> std::io::Result<()> {
    let Args {} = clap::Parser::parse();
    let path = std::env::temp_dir().join(format!("weft-pipelines-{}.log", std::process::id()));
    std::fs::File::create(&path)?;
    let (errors, slow, alerts) = (
        Rc::new(RefCell::new(Vec::new())),
        Rc::new(RefCell::new(Vec::new())),
        Rc::new(RefCell::new(Vec::new())),
    );
    let result = weft::run({
        let (path, errors, slow, alerts) =
            (path.clone(), errors.clone(), slow.clone(), alerts.clone());
        async move {
            // A service writing its log, one line every couple of milliseconds.
            let writer = weft::spawn({
                let path = path.clone();
                async move {
                    let mut log = std::fs::OpenOptions::new().append(true).open(&path)?;
                    for i in 0..12 {
                        match i % 4 {
                            0 => writeln!(log, "ERROR request {i} failed: connection reset")?,
                            3 => writeln!(log, "INFO request {i} took 700 ms (slow)")?,
                            _ => writeln!(log, "INFO request {i} took 20 ms")?,
                        }
                        weft::time::sleep(Duration::from_millis(2)).await;
                    }
                    Ok::<(), std::io::Error>(())
                }
            });
            println!("following {} ...", path.display());
            // One alerts sink shared by both filters: a clone of a Sink is the same coroutine.
            let alerts = collector("alerts", alerts);
            let pipeline = broadcast(vec![
                grep(
                    "ERROR",
                    broadcast(vec![collector("errors", errors), alerts.clone()]),
                ),
                grep("slow", broadcast(vec![collector("slow", slow), alerts])),
            ]);
            follow(&path, 12, pipeline).await?;
            writer.await.expect("the writer task")?;
            Ok::<(), std::io::Error>(())
        }
    });
    std::fs::remove_file(&path)?;
    result?;
    println!(
        "{} error lines, {} slow lines, {} alerts",
        errors.borrow().len(),
        slow.borrow().len(),
        alerts.borrow().len()
    );
    Ok(())
}
