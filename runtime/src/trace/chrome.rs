//! The trace as Chrome trace-event JSON, which Perfetto UI and chrome://tracing open.

use std::collections::HashMap;
use std::io::{self, Write};
use std::time::Duration;

use super::Trace;
use super::timeline::{Timeline, Track};
use crate::task::TaskId;

impl Trace {
    /// Writes the trace as Chrome trace-event JSON (the "JSON Array Format" with metadata),
    /// which <https://ui.perfetto.dev> and `chrome://tracing` open:
    /// - a track ("thread") per task, named with its id, name and spawn location, holding a
    ///   slice for each poll;
    /// - a flow arrow for each wake, from the slice that woke the task (a poll of another
    ///   task, a readiness event, a timer) to the poll it caused;
    /// - a "reactor: waits for I/O" track, and a "reactor: I/O events, ..." track with the readiness
    ///   events, the timers that fired and the wakes from other threads.
    pub fn write_chrome_json(&self, out: &mut impl Write) -> io::Result<()> {
        let timeline = Timeline::new(self);
        let mut first = true;
        let mut item = |out: &mut dyn Write, json: std::fmt::Arguments<'_>| -> io::Result<()> {
            if !std::mem::take(&mut first) {
                out.write_all(b",\n")?;
            }
            out.write_fmt(json)
        };
        out.write_all(b"{\"traceEvents\":[")?;
        item(
            out,
            format_args!(
                r#"{{"ph":"M","pid":1,"tid":0,"name":"process_name","args":{{"name":"weft runtime{}"}}}}"#,
                if self.dropped > 0 {
                    format!(" ({} older events dropped)", self.dropped)
                } else {
                    String::new()
                }
            ),
        )?;
        // Each named task's group (itself and what it spawned) drawn together, in the order
        // the groups' first tracks come; the loop's tracks and ungrouped tasks first.
        let group_of = |track: &Track| match track {
            Track::Task(task) => self.group(*task).map(|group| group.id),
            _ => None,
        };
        let mut first: HashMap<TaskId, usize> = HashMap::new();
        let mut sorted: Vec<(usize, usize, Option<TaskId>)> = Vec::new();
        for (index, track) in timeline.tracks.iter().enumerate() {
            let group = group_of(track);
            let key = group.map_or(index, |g| *first.entry(g).or_insert(index));
            sorted.push((key, index, group));
        }
        sorted.sort_unstable();
        for (sort_index, &(_, index, group)) in sorted.iter().enumerate() {
            let track = &timeline.tracks[index];
            let name = match track {
                Track::Reactor => "reactor: waits for I/O".to_owned(),
                Track::Wakers => "reactor: I/O events, timers, other threads".to_owned(),
                Track::Task(task) => {
                    let label = self.label(*task);
                    match group
                        .filter(|group| group != task)
                        .and_then(|g| self.task(g))
                    {
                        Some(group) => format!(
                            "{} \u{203a} task {label}",
                            group.name.as_deref().unwrap_or_default()
                        ),
                        None => format!("task {label}"),
                    }
                }
            };
            let tid = tid(*track);
            item(
                out,
                format_args!(
                    r#"{{"ph":"M","pid":1,"tid":{tid},"name":"thread_name","args":{{"name":"{}"}}}}"#,
                    Escaped(&name)
                ),
            )?;
            item(
                out,
                format_args!(
                    r#"{{"ph":"M","pid":1,"tid":{tid},"name":"thread_sort_index","args":{{"sort_index":{sort_index}}}}}"#
                ),
            )?;
        }
        for slice in &timeline.slices {
            item(
                out,
                format_args!(
                    r#"{{"ph":"X","pid":1,"tid":{},"ts":{},"dur":{},"name":"{}","cat":"weft"}}"#,
                    tid(slice.track),
                    Micros(slice.start),
                    Micros(slice.end.saturating_sub(slice.start)),
                    Escaped(&slice.name)
                ),
            )?;
        }
        for (id, flow) in timeline.flows.iter().enumerate() {
            item(
                out,
                format_args!(
                    r#"{{"ph":"s","pid":1,"tid":{},"ts":{},"id":{id},"name":"wake","cat":"wake"}}"#,
                    tid(flow.from),
                    Micros(flow.at)
                ),
            )?;
            item(
                out,
                format_args!(
                    r#"{{"ph":"f","bp":"e","pid":1,"tid":{},"ts":{},"id":{id},"name":"wake","cat":"wake"}}"#,
                    tid(flow.to),
                    Micros(flow.poll_starts)
                ),
            )?;
        }
        out.write_all(b"],\"displayTimeUnit\":\"ms\"}\n")
    }
}

/// The "thread id" of a track: 1 and 2 for the loop's own, 10 + id for a task.
fn tid(track: Track) -> u64 {
    match track {
        Track::Reactor => 1,
        Track::Wakers => 2,
        Track::Task(task) => 10 + task.as_u64(),
    }
}

/// A duration in microseconds with nanosecond digits, as trace-event JSON counts time.
struct Micros(Duration);

impl std::fmt::Display for Micros {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let nanos = self.0.as_nanos();
        write!(f, "{}.{:03}", nanos / 1000, nanos % 1000)
    }
}

/// A string's characters as a JSON string literal's contents.
pub(super) struct Escaped<'a>(pub(super) &'a str);

impl std::fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use std::fmt::Write as _;
        for c in self.0.chars() {
            match c {
                '"' => f.write_str("\\\"")?,
                '\\' => f.write_str("\\\\")?,
                c if (c as u32) < 0x20 => write!(f, "\\u{:04x}", c as u32)?,
                c => f.write_char(c)?,
            }
        }
        Ok(())
    }
}
