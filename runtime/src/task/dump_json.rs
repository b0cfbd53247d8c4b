//! The task dump as JSON: what `weft-ps --json` prints for each runtime, and what any tool
//! can log or read. The schema is documented in `docs/weft-ps.md`; a field is added, never
//! renamed, and `"schema"` says which version a reader has.

use std::fmt::Write;
use std::panic::Location;

use super::{TaskDump, TaskId, TaskState};

/// The schema's version, written as `"schema"`.
pub const JSON_SCHEMA: u32 = 1;

impl TaskDump {
    /// The dump as one line of JSON: `{"schema":1,"tasks":[...],"cycles":[[2,3]],"chains":[...],
    /// "sites":[...]}`, each task with its id, name, parent, spawn site (an index into
    /// `sites`), state, poll counts and times and what it waits on; a field that has no value
    /// (no name, not counted) is left out. The layout is in `docs/weft-ps.md`.
    ///
    /// ```
    /// weft::run(async {
    ///     let dump = weft::task::dump();
    ///     let json = dump.to_json();
    ///     assert!(json.starts_with(r#"{"schema":1,"tasks":[{"id":"#));
    /// });
    /// ```
    pub fn to_json(&self) -> String {
        // About what a task takes (a waiting task with a site, a parent and one wait), so
        // that a large dump is written without growing the string again and again.
        let mut out = String::with_capacity(256 + self.tasks.len() * 160);
        let mut parts = self.json_parts();
        while parts.next_part(&mut out, usize::MAX) {}
        out
    }

    /// The same JSON a part at a time, for a writer that sends each part as it is made
    /// (`weft-ps` reads a large dump while the rest is written, and no copy of the whole
    /// is ever held).
    pub(crate) fn json_parts(&self) -> JsonParts<'_> {
        JsonParts {
            dump: self,
            written: 0,
            sites: Sites::default(),
            done: false,
        }
    }
}

/// Where [`TaskDump::json_parts`] is: the tasks written so far and the sites they named.
pub(crate) struct JsonParts<'a> {
    dump: &'a TaskDump,
    written: usize,
    // Spawn and creation sites, each written once at the end and named by its index: a
    // process of many tasks has few sites, and they were most of the dump's bytes.
    sites: Sites,
    done: bool,
}

impl JsonParts<'_> {
    /// Appends the next part, of about `bytes` or a little more, to `out`; false once the
    /// JSON is complete and nothing was appended.
    pub(crate) fn next_part(&mut self, out: &mut String, bytes: usize) -> bool {
        if self.done {
            return false;
        }
        let tasks = &self.dump.tasks;
        if self.written == 0 {
            let _ = write!(out, r#"{{"schema":{JSON_SCHEMA},"tasks":["#);
        }
        let start = out.len();
        while self.written < tasks.len() && out.len() - start < bytes {
            if self.written > 0 {
                out.push(',');
            }
            task(out, &tasks[self.written], &mut self.sites);
            self.written += 1;
        }
        if self.written == tasks.len() {
            self.done = true;
            let cycles = self.dump.cycles();
            out.push_str(r#"],"cycles":["#);
            lists(out, &cycles);
            out.push_str(r#"],"chains":["#);
            lists(out, &self.dump.chains_beside(&cycles));
            out.push_str(r#"],"sites":["#);
            for (i, &at) in self.sites.list.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                site(out, at);
            }
            out.push_str("]}");
        }
        true
    }
}

/// One task's object.
fn task(out: &mut String, task: &super::DumpedTask, sites: &mut Sites) {
    out.push_str(r#"{"id":"#);
    push_number(out, task.id.as_u64());
    if let Some(name) = &task.name {
        out.push_str(r#","name":"#);
        string(out, name);
    }
    if let Some(parent) = task.parent {
        out.push_str(r#","parent":"#);
        push_number(out, parent.as_u64());
    }
    if let Some(at) = task.spawned_at {
        out.push_str(r#","site":"#);
        push_number(out, sites.index(at) as u64);
    }
    let state = match task.state {
        TaskState::Running => "running",
        TaskState::Ready => "ready",
        TaskState::Waiting => "waiting",
    };
    out.push_str(r#","state":""#);
    out.push_str(state);
    out.push('"');
    number(out, "polls", task.polls);
    number(out, "busy_ns", task.busy.map(|d| d.as_nanos() as u64));
    number(out, "idle_ns", task.idle.map(|d| d.as_nanos() as u64));
    out.push_str(r#","waits_on":["#);
    for (j, wait) in task.waits_on.iter().enumerate() {
        if j > 0 {
            out.push(',');
        }
        out.push_str(r#"{"resource":"#);
        string(out, &wait.resource);
        out.push_str(r#","operation":"#);
        string(out, &wait.operation);
        if let Some(at) = wait.created_at {
            out.push_str(r#","created_site":"#);
            push_number(out, sites.index(at) as u64);
        }
        out.push_str(r#","held_by":"#);
        ids(out, &wait.held_by);
        out.push('}');
    }
    out.push_str("]}");
}

/// The sites a JSON dump names, numbered in the order first written.
#[derive(Default)]
struct Sites {
    list: Vec<&'static Location<'static>>,
    numbers: super::NumberMap<usize, usize>,
}

impl Sites {
    fn index(&mut self, at: &'static Location<'static>) -> usize {
        let next = self.list.len();
        let number = *self
            .numbers
            .entry(std::ptr::from_ref(at) as usize)
            .or_insert(next);
        if number == next {
            self.list.push(at);
        }
        number
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
        push_number(out, id.as_u64());
    }
    out.push(']');
}

fn site(out: &mut String, at: &'static Location<'static>) {
    out.push('"');
    escaped(out, at.file());
    out.push(':');
    push_number(out, u64::from(at.line()));
    out.push(':');
    push_number(out, u64::from(at.column()));
    out.push('"');
}

/// `,"key":n`, or nothing for `None`.
fn number(out: &mut String, key: &str, value: Option<u64>) {
    if let Some(n) = value {
        out.push_str(",\"");
        out.push_str(key);
        out.push_str("\":");
        push_number(out, n);
    }
}

/// `n` in decimal, without the formatting machinery (a dump writes several per task, and
/// `write!` was half of the JSON's instructions in callgrind).
pub(crate) fn push_number(out: &mut String, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend(digits[at..].iter().map(|&digit| char::from(digit)));
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
    fn the_parts_make_the_whole() {
        crate::executor::run(async {
            let lock = crate::sync::Mutex::new(());
            let held = lock.lock().await;
            let waiters: Vec<_> = (0..50)
                .map(|_| {
                    let lock = lock.clone();
                    crate::task::spawn(async move { drop(lock.lock().await) })
                })
                .collect();
            crate::task::yield_now().await;
            let dump = crate::task::dump();
            let whole = dump.to_json();
            for bytes in [1, 100, 1000] {
                let (mut joined, mut parts, mut calls) = (String::new(), dump.json_parts(), 0);
                while parts.next_part(&mut joined, bytes) {
                    calls += 1;
                }
                assert_eq!(joined, whole, "parts of {bytes} bytes");
                assert!(
                    calls > whole.len() / (bytes + 200),
                    "{calls} parts of {bytes}"
                );
            }
            drop(held);
            for waiter in waiters {
                waiter.await.unwrap();
            }
        });
    }

    #[test]
    fn numbers_are_written_in_decimal() {
        for n in [0, 7, 10, 12_345, u64::MAX] {
            let mut out = String::new();
            push_number(&mut out, n);
            assert_eq!(out, n.to_string());
        }
    }

    #[test]
    fn strings_are_escaped() {
        let mut out = String::new();
        string(&mut out, "a\"b\\c\nd\u{1}é");
        assert_eq!(out, r#""a\"b\\c\nd\u0001é""#);
    }
}
