//! pyos: a tiny operating system whose processes are generators, after David Beazley's
//! "A Curious Course on Coroutines and Concurrency" (pyos1–pyos8), on weft's `Gen`.
//!
//! A task is a generator that yields *system calls* and is sent their results. The scheduler
//! keeps a ready queue, runs one task until it traps into the kernel with a system call,
//! handles the call, and decides whether the task is ready again or waits (for another task
//! to exit, or for a socket to become readable or writable). When every task waits on I/O it
//! blocks in epoll; when some task is ready it only peeks at I/O (Beazley's `iotask`).

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::io;
use std::os::fd::RawFd;
use std::time::Duration;

use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};
use weft::generator::{Co, Gen, GenState, Interrupt};

/// A task id.
pub type Tid = u64;

/// A process: a generator that yields system calls and is sent their results.
pub type Task = Gen<SysCall, SysResult, (), Infallible>;

/// What a task asks the kernel for (pyos4–pyos7).
pub enum SysCall {
    /// pyos4: my task id.
    GetTid,
    /// pyos4: start a task; answers its id.
    NewTask(Task),
    /// pyos4: close a task's generator and drop it from every list.
    KillTask(Tid),
    /// pyos5: sleep until a task exits.
    WaitTask(Tid),
    /// pyos6: sleep until an fd is readable.
    ReadWait(RawFd),
    /// pyos6: sleep until an fd is writable.
    WriteWait(RawFd),
}

/// What the kernel answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SysResult {
    /// No value (the waits).
    Nothing,
    /// A task id (`GetTid`, `NewTask`).
    Tid(Tid),
    /// Whether the task existed (`KillTask`, `WaitTask`).
    Done(bool),
}

/// The task side of the system-call interface: each method traps into the kernel by yielding
/// a `SysCall`. A killed task sees `Err(Interrupt::Closed)` at its pending call; `?` ends it and
/// its sockets are dropped with it.
pub struct Sys(pub Co<SysCall, SysResult>);

type Trap<T> = Result<T, Interrupt<Infallible>>;

impl Sys {
    /// This task's id.
    pub async fn get_tid(&self) -> Trap<Tid> {
        match self.0.yield_(SysCall::GetTid).await? {
            SysResult::Tid(tid) => Ok(tid),
            other => unreachable!("GetTid answered {other:?}"),
        }
    }

    /// Starts `task` and returns its id.
    pub async fn new_task(&self, task: Task) -> Trap<Tid> {
        match self.0.yield_(SysCall::NewTask(task)).await? {
            SysResult::Tid(tid) => Ok(tid),
            other => unreachable!("NewTask answered {other:?}"),
        }
    }

    /// True if the task existed.
    pub async fn kill(&self, tid: Tid) -> Trap<bool> {
        Ok(self.0.yield_(SysCall::KillTask(tid)).await? == SysResult::Done(true))
    }

    /// Waits until `tid` exits; false at once if there is no such task.
    pub async fn wait(&self, tid: Tid) -> Trap<bool> {
        Ok(self.0.yield_(SysCall::WaitTask(tid)).await? == SysResult::Done(true))
    }

    /// Sleeps until `fd` is readable.
    pub async fn read_wait(&self, fd: RawFd) -> Trap<()> {
        self.0.yield_(SysCall::ReadWait(fd)).await.map(drop)
    }

    /// Sleeps until `fd` is writable.
    pub async fn write_wait(&self, fd: RawFd) -> Trap<()> {
        self.0.yield_(SysCall::WriteWait(fd)).await.map(drop)
    }
}

/// Makes a task from an async body that uses the system-call interface.
pub fn task<F, Fut>(body: F) -> Task
where
    F: FnOnce(Sys) -> Fut + 'static,
    Fut: Future<Output = Trap<()>> + 'static,
{
    Gen::new(move |co| body(Sys(co)))
}

struct Process {
    task: Task,
    /// What to send it when it next runs.
    sendval: SysResult,
    started: bool,
}

/// The kernel: tasks by id, the ready queue, and who waits for what.
pub struct Scheduler {
    tasks: HashMap<Tid, Process>,
    ready: VecDeque<Tid>,
    next_tid: Tid,
    exit_waiting: HashMap<Tid, Vec<Tid>>,
    /// Per file descriptor, the task waiting for it (one per fd and direction, as in pyos7).
    read_waiting: HashMap<RawFd, Tid>,
    write_waiting: HashMap<RawFd, Tid>,
    poll: Poll,
    events: Events,
}

impl Scheduler {
    /// A kernel with no tasks, and its epoll instance.
    pub fn new() -> io::Result<Scheduler> {
        Ok(Scheduler {
            tasks: HashMap::new(),
            ready: VecDeque::new(),
            next_tid: 1,
            exit_waiting: HashMap::new(),
            read_waiting: HashMap::new(),
            write_waiting: HashMap::new(),
            poll: Poll::new()?,
            events: Events::with_capacity(256),
        })
    }

    /// Adds a task; returns its id (pyos1's `new`).
    pub fn new_task(&mut self, task: Task) -> Tid {
        let tid = self.next_tid;
        self.next_tid += 1;
        self.tasks.insert(
            tid,
            Process {
                task,
                sendval: SysResult::Nothing,
                started: false,
            },
        );
        self.ready.push_back(tid);
        tid
    }

    /// How many tasks wait on I/O.
    pub fn io_waiters(&self) -> usize {
        self.read_waiting.len() + self.write_waiting.len()
    }

    /// Runs until no task is left.
    pub fn mainloop(&mut self) -> io::Result<()> {
        while !self.tasks.is_empty() {
            // Beazley's iotask: peek at I/O when tasks are ready, block when none is.
            let timeout = if self.ready.is_empty() {
                None
            } else {
                Some(Duration::ZERO)
            };
            self.iopoll(timeout)?;
            let Some(tid) = self.ready.pop_front() else {
                continue;
            };
            let Some(process) = self.tasks.get_mut(&tid) else {
                continue;
            };
            let step = if process.started {
                process.task.send(process.sendval)
            } else {
                process.started = true;
                process.task.start()
            };
            match step {
                Ok(GenState::Yielded(call)) => self.handle(tid, call)?,
                Ok(GenState::Complete(())) | Err(_) => self.exit(tid), // pyos3: a task that ends
            }
        }
        Ok(())
    }

    fn handle(&mut self, tid: Tid, call: SysCall) -> io::Result<()> {
        let answer = match call {
            SysCall::GetTid => SysResult::Tid(tid),
            SysCall::NewTask(task) => SysResult::Tid(self.new_task(task)),
            SysCall::KillTask(victim) => SysResult::Done(self.kill(victim)),
            SysCall::WaitTask(other) if self.tasks.contains_key(&other) => {
                self.exit_waiting.entry(other).or_default().push(tid);
                return Ok(()); // parked until `other` exits
            }
            SysCall::WaitTask(_) => SysResult::Done(false),
            SysCall::ReadWait(fd) => return self.io_wait(tid, fd, Interest::READABLE),
            SysCall::WriteWait(fd) => return self.io_wait(tid, fd, Interest::WRITABLE),
        };
        self.schedule(tid, answer);
        Ok(())
    }

    fn schedule(&mut self, tid: Tid, sendval: SysResult) {
        if let Some(process) = self.tasks.get_mut(&tid) {
            process.sendval = sendval;
            self.ready.push_back(tid);
        }
    }

    /// Parks `tid` until `fd` is ready. The fd is registered for this one wait: epoll reports
    /// it at once if it is ready already, which gives Beazley's select() semantics.
    fn io_wait(&mut self, tid: Tid, fd: RawFd, interest: Interest) -> io::Result<()> {
        let waiting = if interest == Interest::READABLE {
            &mut self.read_waiting
        } else {
            &mut self.write_waiting
        };
        waiting.insert(fd, tid);
        self.register(fd)
    }

    fn register(&mut self, fd: RawFd) -> io::Result<()> {
        let interest = match (
            self.read_waiting.contains_key(&fd),
            self.write_waiting.contains_key(&fd),
        ) {
            (true, true) => Interest::READABLE | Interest::WRITABLE,
            (true, false) => Interest::READABLE,
            (false, true) => Interest::WRITABLE,
            (false, false) => {
                let _ = self.poll.registry().deregister(&mut SourceFd(&fd));
                return Ok(());
            }
        };
        let registry = self.poll.registry();
        let token = Token(fd as usize);
        registry
            .reregister(&mut SourceFd(&fd), token, interest)
            .or_else(|_| registry.register(&mut SourceFd(&fd), token, interest))
    }

    fn iopoll(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        if self.io_waiters() == 0 && timeout.is_none() {
            return Ok(()); // nothing could ever wake us: do not block (echobad2's lock-up)
        }
        match self.poll.poll(&mut self.events, timeout) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(()),
            other => other?,
        }
        let ready: Vec<(RawFd, bool, bool)> = self
            .events
            .iter()
            .map(|e| {
                (
                    e.token().0 as RawFd,
                    e.is_readable() || e.is_read_closed() || e.is_error(),
                    e.is_writable() || e.is_write_closed() || e.is_error(),
                )
            })
            .collect();
        for (fd, readable, writable) in ready {
            if readable {
                if let Some(tid) = self.read_waiting.remove(&fd) {
                    self.schedule(tid, SysResult::Nothing);
                }
            }
            if writable {
                if let Some(tid) = self.write_waiting.remove(&fd) {
                    self.schedule(tid, SysResult::Nothing);
                }
            }
            self.register(fd)?;
        }
        Ok(())
    }

    /// pyos5's KillTask, without pyos's bug: the victim also leaves the I/O waiters, so no
    /// stale entry ever wakes a dead (or reused) task id.
    fn kill(&mut self, victim: Tid) -> bool {
        let Some(mut process) = self.tasks.remove(&victim) else {
            return false;
        };
        let _ = process.task.close(); // GeneratorExit: the victim runs its cleanup now
        self.ready.retain(|&t| t != victim);
        let fds: Vec<RawFd> = self
            .read_waiting
            .iter()
            .chain(self.write_waiting.iter())
            .filter(|&(_, &t)| t == victim)
            .map(|(&fd, _)| fd)
            .collect();
        for fd in fds {
            self.read_waiting.retain(|_, t| *t != victim);
            self.write_waiting.retain(|_, t| *t != victim);
            let _ = self.register(fd);
        }
        self.wake_exit_waiters(victim);
        true
    }

    /// pyos3/pyos6: a task ended; whoever waited for it runs again.
    fn exit(&mut self, tid: Tid) {
        self.tasks.remove(&tid);
        self.wake_exit_waiters(tid);
    }

    fn wake_exit_waiters(&mut self, tid: Tid) {
        for waiter in self.exit_waiting.remove(&tid).unwrap_or_default() {
            self.schedule(waiter, SysResult::Done(true));
        }
    }
}
