//! The task dump as JSON: what `weft-ps --json` prints for each runtime, and what any tool
//! can log or read. The schema is documented in `docs/weft-ps.md`; a field is added, never
//! renamed, and `"schema"` says which version a reader has.

use std::fmt::Write;
use std::panic::Location;

use super::{TaskDump, TaskId, TaskState};

/// The schema's version, written as `"schema"`.
pub const JSON_SCHEMA: u32 = 1;

impl TaskDump {
    /// The dump as one line of JSON: `{"schema":1,"tasks":[...],"cycles":[[2,3]],"chains":[...]}`,
    /// each task with its id, name, parent, spawn site, state, poll counts and times and what
    /// it waits on; a field that has no value (no name, not counted) is left out. The layout
    /// is in `docs/weft-ps.md`.
    ///
    /// ```
    /// weft::run(async {
    ///     let dump = weft::task::dump();
    ///     let json = dump.to_json();
    ///     assert!(json.starts_with(r#"{"schema":1,"tasks":[{"id":"#));
    /// });
    /// ```
    pub fn to_json(&self) -> String {
        let mut out = String::with_capacity(64 + self.tasks.len() * 160);
        let _ = write!(out, r#"{{"schema":{JSON_SCHEMA},"tasks":["#);
        for (i, task) in self.tasks.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(out, r#"{{"id":{}"#, task.id.as_u64());
            if let Some(name) = &task.name {
                out.push_str(r#","name":"#);
                string(&mut out, name);
            }
            if let Some(parent) = task.parent {
                let _ = write!(out, r#","parent":{}"#, parent.as_u64());
            }
            if let Some(at) = task.spawned_at {
                out.push_str(r#","spawned_at":"#);
                site(&mut out, at);
            }
            let state = match task.state {
                TaskState::Running => "running",
                TaskState::Ready => "ready",
                TaskState::Waiting => "waiting",
            };
            let _ = write!(out, r#","state":"{state}""#);
            number(&mut out, "polls", task.polls);
            number(&mut out, "busy_ns", task.busy.map(|d| d.as_nanos() as u64));
            number(&mut out, "idle_ns", task.idle.map(|d| d.as_nanos() as u64));
            out.push_str(r#","waits_on":["#);
            for (j, wait) in task.waits_on.iter().enumerate() {
                if j > 0 {
                    out.push(',');
                }
                out.push_str(r#"{"resource":"#);
                string(&mut out, &wait.resource);
                out.push_str(r#","operation":"#);
                string(&mut out, &wait.operation);
                if let Some(at) = wait.created_at {
                    out.push_str(r#","created_at":"#);
                    site(&mut out, at);
                }
                out.push_str(r#","held_by":"#);
                ids(&mut out, &wait.held_by);
                out.push('}');
            }
            out.push_str("]}");
        }
        let cycles = self.cycles();
        out.push_str(r#"],"cycles":["#);
        lists(&mut out, &cycles);
        out.push_str(r#"],"chains":["#);
        lists(&mut out, &self.chains_beside(&cycles));
        out.push_str("]}");
        out
    }
}

fn lists(out: &mut String, lists: &[Vec<TaskId>]) {
    for (i, list) in lists.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        ids(out, list);
    }
}

fn ids(out: &mut String, ids: &[TaskId]) {
    out.push('[');
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(out, "{}", id.as_u64());
    }
    out.push(']');
}

fn site(out: &mut String, at: &'static Location<'static>) {
    out.push('"');
    escaped(out, at.file());
    let _ = write!(out, ":{}:{}\"", at.line(), at.column());
}

/// `,"key":n`, or nothing for `None`.
fn number(out: &mut String, key: &str, value: Option<u64>) {
    if let Some(n) = value {
        let _ = write!(out, r#","{key}":{n}"#);
    }
}

/// `text` as a JSON string.
pub(crate) fn string(out: &mut String, text: &str) {
    out.push('"');
    escaped(out, text);
    out.push('"');
}

/// `text` escaped for a JSON string, without the quotes.
fn escaped(out: &mut String, text: &str) {
    if !text.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\') {
        out.push_str(text);
        return;
    }
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped() {
        let mut out = String::new();
        string(&mut out, "a\"b\\c\nd\u{1}é");
        assert_eq!(out, r#""a\"b\\c\nd\u0001é""#);
    }
}
