//! weft::runtime::Instrument through the public API: which hooks run, and in what order.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use weft::runtime::{Builder, Instrument};
use weft::task::TaskId;

/// Writes down every hook call.
#[derive(Default)]
struct Log(RefCell<Vec<String>>);

impl Log {
    fn note(&self, what: String) {
        self.0.borrow_mut().push(what);
    }
}

impl Instrument for Log {
    fn task_spawned(&self, task: TaskId) {
        self.note(format!("spawned {task}"));
    }
    fn task_scheduled(&self, task: TaskId) {
        self.note(format!("scheduled {task}"));
    }
    fn before_task_step(&self, task: TaskId) {
        self.note(format!("before {task}"));
    }
    fn after_task_step(&self, task: TaskId) {
        self.note(format!("after {task}"));
    }
    fn task_exited(&self, task: TaskId) {
        self.note(format!("exited {task}"));
    }
    fn before_io_wait(&self, timeout: Option<Duration>) {
        self.note(format!(
            "io wait {}",
            if timeout.is_some() {
                "bounded"
            } else {
                "forever"
            }
        ));
    }
    fn after_io_wait(&self, _events: usize) {
        self.note("io done".to_owned());
    }
}

#[test]
fn the_hooks_follow_a_task_from_spawn_to_exit_in_order() {
    let log = Rc::new(Log::default());
    let rt = Builder::new().instrument(log.clone()).build().unwrap();
    let id = rt.block_on(async {
        let task = weft::spawn(async { weft::task::yield_now().await });
        let id = task.id();
        task.await.unwrap();
        id
    });
    let task_lines: Vec<String> = log
        .0
        .borrow()
        .iter()
        .filter(|l| l.ends_with(&format!(" {id}")))
        .cloned()
        .collect();
    let want = [
        "spawned",
        "scheduled", // spawn queues it
        "before",
        "after",     // first poll: it yields, waking itself...
        "scheduled", // ...and a wake during its own poll queues it once the poll is over
        "before",
        "after",
        "exited", // second poll: done
    ]
    .map(|what| format!("{what} {id}"));
    assert_eq!(task_lines, want);
}

#[test]
fn io_waits_are_bracketed_by_their_hooks() {
    let log = Rc::new(Log::default());
    let rt = Builder::new().instrument(log.clone()).build().unwrap();
    rt.block_on(weft::time::sleep(Duration::from_millis(1)));
    let lines = log.0.borrow();
    let waits: Vec<&String> = lines.iter().filter(|l| l.starts_with("io")).collect();
    assert!(waits.len() >= 2, "{waits:?}");
    assert_eq!(waits[0], "io wait bounded", "a sleep bounds the wait");
    for pair in waits.chunks(2) {
        assert_eq!(pair.len(), 2, "every wait ends: {waits:?}");
        assert!(
            pair[0].starts_with("io wait") && pair[1] == "io done",
            "{waits:?}"
        );
    }
}

#[test]
fn several_instruments_are_called_in_the_order_registered() {
    struct Tag(&'static str, Rc<RefCell<Vec<&'static str>>>);
    impl Instrument for Tag {
        fn task_exited(&self, _task: TaskId) {
            self.1.borrow_mut().push(self.0);
        }
    }
    let seen = Rc::new(RefCell::new(Vec::new()));
    let rt = Builder::new()
        .instrument(Rc::new(Tag("first", seen.clone())))
        .instrument(Rc::new(Tag("second", seen.clone())))
        .build()
        .unwrap();
    rt.block_on(async { weft::spawn(async {}).await.unwrap() });
    assert_eq!(*seen.borrow(), ["first", "second"]);
}
