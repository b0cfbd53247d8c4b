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
    // The task's exit, then main's.
    assert_eq!(*seen.borrow(), ["first", "second", "first", "second"]);
}

#[test]
fn every_view_of_the_runtime_agrees_that_main_is_a_task() {
    // Instruments, all_tasks, the dump, the trace and the deadlock report: one answer.
    #[derive(Default)]
    struct Spawned(RefCell<Vec<TaskId>>);
    impl Instrument for Spawned {
        fn task_spawned(&self, task: TaskId) {
            self.0.borrow_mut().push(task);
        }
    }
    let spawned = Rc::new(Spawned::default());
    let rt = Builder::new()
        .instrument(spawned.clone())
        .flight_recorder(1024)
        .build()
        .unwrap();
    let line = line!() + 1;
    let err = rt.try_block_on(async {
        let main = weft::task::current_task().unwrap();
        assert_eq!(main.name.as_deref(), Some("main"));
        let listed = weft::task::all_tasks();
        assert_eq!(listed[0].id, main.id, "all_tasks lists main first");
        let dumped = weft::task::dump();
        assert_eq!(dumped.tasks[0].id, main.id, "so does the dump");
        for spawned_at in [main.spawned_at, dumped.tasks[0].spawned_at] {
            let at = spawned_at.expect("main's spawn site is where block_on was called");
            assert_eq!((at.file(), at.line()), (file!(), line));
        }
        let _stuck = weft::task::Builder::new()
            .name("stuck")
            .spawn(std::future::pending::<()>());
        std::future::pending::<()>().await;
    });
    let err = err.unwrap_err();
    let reported: Vec<_> = err.tasks().iter().map(|t| t.name.as_deref()).collect();
    assert_eq!(reported, [Some("main"), Some("stuck")], "{err}");
    let main = err.tasks()[0].id;
    assert_eq!(
        spawned.0.borrow()[0],
        main,
        "the instruments saw main spawned first"
    );
    let trace = rt.trace_snapshot().unwrap();
    assert_eq!(trace.task(main).unwrap().name.as_deref(), Some("main"));
}
