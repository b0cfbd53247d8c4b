//! [`Child`]: a running child process, its pipes, and waiting for it on the loop.

use std::io;
use std::process::{ExitStatus, Output};

use weft_runtime::time::hold_auto_advance;

use super::exit::ExitWatch;
use super::pipes::{ChildStderr, ChildStdin, ChildStdout};
use crate::io::{AsyncReadExt, AsyncWriteExt};
use crate::signal::{SIGKILL, Signal};

/// A child process started by [`Command::spawn`](super::Command::spawn).
///
/// Waiting never blocks the loop. A `Child` dropped before it was waited for is reaped by
/// the runtime when it exits (a task does it, no thread), so it leaves no zombie while the
/// runtime runs; with [`kill_on_drop`](super::Command::kill_on_drop) it is killed first.
#[derive(Debug)]
pub struct Child {
    /// `Some` until the `Child` is dropped, when a still running child is handed on to be
    /// reaped.
    process: Option<Process>,
    kill_on_drop: bool,
    /// The process group the child was put in (`Command::process_group`), if any.
    group: Option<u32>,
    /// The child's standard input, if it was piped ([`Stdio::piped`](super::Stdio::piped)).
    pub stdin: Option<ChildStdin>,
    /// The child's standard output, if it was piped.
    pub stdout: Option<ChildStdout>,
    /// The child's standard error, if it was piped.
    pub stderr: Option<ChildStderr>,
}

impl Child {
    /// Adopts a child std just started. If weft cannot watch it (out of file descriptors,
    /// say), the child is killed and reaped, and the error returned: nothing is left behind.
    pub(crate) fn adopt(
        mut std: std::process::Child,
        label: &str,
        kill_on_drop: bool,
        group: Option<i32>,
    ) -> io::Result<Child> {
        let pipes = (|| {
            let stdin = std.stdin.take().map(ChildStdin::from_std).transpose()?;
            let stdout = std.stdout.take().map(ChildStdout::from_std).transpose()?;
            let stderr = std.stderr.take().map(ChildStderr::from_std).transpose()?;
            let watch = ExitWatch::new(std.id(), label)?;
            Ok::<_, io::Error>((stdin, stdout, stderr, watch))
        })();
        match pipes {
            Ok((stdin, stdout, stderr, watch)) => Ok(Child {
                // Group 0 is a new one of the child's own, whose id is the child's pid.
                group: group.map(|pgid| match pgid {
                    0 => std.id(),
                    pgid => pgid.unsigned_abs(),
                }),
                process: Some(Process { std, watch }),
                kill_on_drop,
                stdin,
                stdout,
                stderr,
            }),
            Err(err) => {
                // A SIGKILL'd child exits at once: this wait is short, and leaves no zombie.
                let _ = std.kill();
                let _ = std.wait();
                Err(err)
            }
        }
    }

    /// The child's process id.
    pub fn id(&self) -> u32 {
        self.process_ref().std.id()
    }

    /// Which way weft learns of the child's exit: `"pidfd"`, or `"SIGCHLD"` where pidfds are
    /// refused (or `WEFT_CHILD_WATCH=sigchld` asks for it).
    pub fn exit_watch(&self) -> &'static str {
        self.process_ref().watch.kind()
    }

    /// The exit status if the child has exited (it is then reaped), without waiting.
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        self.process().std.try_wait()
    }

    /// Waits for the child to exit and returns its status. Closes the child's stdin first,
    /// as std does, so a child reading its input to the end is not left waiting for more.
    /// Cancel-safe: dropped early, it loses nothing, and waiting again works.
    ///
    /// While it waits, a paused test clock does not jump ahead (the child runs in real
    /// time), unless nothing else at all can happen.
    pub async fn wait(&mut self) -> io::Result<ExitStatus> {
        drop(self.stdin.take());
        let _hold = hold_auto_advance();
        self.process().wait().await
    }

    /// Sends `SIGKILL` (asyncio's `kill()`). Then [`wait`](Child::wait) for it. Does nothing
    /// if the child was already reaped.
    pub fn kill(&mut self) -> io::Result<()> {
        self.signal(SIGKILL)
    }

    /// Sends `signal` (`SIGTERM`: asyncio's `terminate()`; `send_signal`). Does nothing if
    /// the child was already reaped: its pid may belong to another process by now. Which
    /// signal ended a child: [`Signal::from_exit`].
    pub fn signal(&mut self, signal: Signal) -> io::Result<()> {
        let signal = signal.to_rustix();
        if self.process().std.try_wait()?.is_some() {
            return Ok(());
        }
        match self.process().watch.send_signal(signal) {
            Some(sent) => sent,
            None => {
                let pid = i32::try_from(self.id())
                    .ok()
                    .and_then(rustix::process::Pid::from_raw)
                    .ok_or_else(|| io::Error::other("the child's pid is out of range"))?;
                rustix::process::kill_process(pid, signal).map_err(io::Error::from)
            }
        }
    }

    /// Sends `signal` to the child's whole process group: the child and what it started,
    /// Python's `os.killpg(p.pid, sig)` for a child made with `process_group=0`. The child
    /// must have been put in a group of its own with
    /// [`Command::process_group`](super::Command::process_group)`(0)`; otherwise it shares
    /// this process's group, and signalling that would hit this process too, so it fails with
    /// `InvalidInput`. It works after the child itself exited, while others of its group live.
    ///
    /// ```
    /// use weft::process::Command;
    /// use weft::signal::{SIGTERM, Signal};
    ///
    /// weft::run(async {
    ///     // A shell that started a grandchild: both get the signal.
    ///     let mut child = Command::new("sh")
    ///         .args(["-c", "sleep 60 & wait"])
    ///         .process_group(0)
    ///         .spawn()?;
    ///     child.signal_group(SIGTERM)?;
    ///     assert_eq!(Signal::from_exit(&child.wait().await?), Some(SIGTERM));
    ///     std::io::Result::Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub fn signal_group(&mut self, signal: Signal) -> io::Result<()> {
        match self.group {
            Some(pgid) => super::killpg(pgid, signal),
            None => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "the child shares this process's group, and signalling that group would hit \
                 this process too: start the child with `Command::process_group(0)`",
            )),
        }
    }

    /// Waits for the child to exit while reading all of its stdout and stderr (those that
    /// are piped), so a child that fills a pipe is never stuck. Closes stdin first. Holds a
    /// paused clock as [`wait`](Child::wait) does.
    pub async fn wait_with_output(self) -> io::Result<Output> {
        self.communicate(&[]).await
    }

    /// Writes `input` to the child's stdin and closes it, while it reads all of its stdout
    /// and stderr, then waits for it: Python's `communicate(input)`. Feeding and draining at
    /// once, a large input and a large output never deadlock. A child that exits without
    /// reading all of its input is not an error (as in Python).
    ///
    /// While it feeds, drains and waits, a paused test clock does not jump ahead, as with
    /// [`wait`](Child::wait): the child runs in real time, so `timeout(d, child.communicate(..))`
    /// measures the child, not an idle loop. (Reading a child's pipe yourself is like reading
    /// a socket: no hold. Use `AutoAdvance::AfterIdle` or
    /// [`hold_auto_advance`](weft_runtime::time::hold_auto_advance) around it.)
    pub async fn communicate(mut self, input: &[u8]) -> io::Result<Output> {
        let _hold = hold_auto_advance();
        let stdin = self.stdin.take();
        let (stdout, stderr) = (self.stdout.take(), self.stderr.take());
        let feed = async move {
            let Some(mut stdin) = stdin else {
                return Ok(());
            };
            match stdin.write_all(input).await {
                Err(err) if err.kind() == io::ErrorKind::BrokenPipe => Ok(()),
                other => other,
            }
            // Dropping `stdin` here closes the pipe.
        };
        let (fed, stdout, stderr) = weft_runtime::join!(feed, drain(stdout), drain(stderr));
        fed?;
        let (stdout, stderr) = (stdout?, stderr?);
        let status = self.wait().await?;
        Ok(Output {
            status,
            stdout,
            stderr,
        })
    }
}

/// Everything a pipe gives until its end (nothing if it is not piped).
async fn drain(pipe: Option<impl AsyncReadExt>) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    if let Some(mut pipe) = pipe {
        pipe.read_to_end(&mut bytes).await?;
    }
    Ok(bytes)
}

impl Child {
    fn process(&mut self) -> &mut Process {
        self.process
            .as_mut()
            .expect("a Child has its process until it is dropped")
    }

    fn process_ref(&self) -> &Process {
        self.process
            .as_ref()
            .expect("a Child has its process until it is dropped")
    }
}

/// The child itself, apart from its pipes.
#[derive(Debug)]
struct Process {
    /// std's handle: the pid, and `waitpid` on that pid alone.
    std: std::process::Child,
    watch: ExitWatch,
}

impl Process {
    /// Waits for the exit, and reaps.
    async fn wait(&mut self) -> io::Result<ExitStatus> {
        // A pidfd is readable once the child has exited, even if that was before it was
        // opened: waiting for it first saves a `waitpid` that would find the child still
        // running (the profile of spawning `true` showed one in most spawns). A `SIGCHLD`
        // that came before the watch began is lost, so that path asks first.
        if self.watch.tells_past_exits() {
            self.watch.changed().await?;
        }
        loop {
            if let Some(status) = self.std.try_wait()? {
                return Ok(status);
            }
            self.watch.not_yet();
            self.watch.changed().await?;
        }
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        if self.kill_on_drop {
            let _ = self.kill();
        }
        let Some(mut process) = self.process.take() else {
            return;
        };
        if let Ok(Some(_)) = process.std.try_wait() {
            return;
        }
        // Still running: a task reaps it when it exits, its wake source (the pidfd, or the
        // SIGCHLD watch) going with it. With no runtime polling on this thread nothing can
        // wait without blocking, and the child is reaped when this process exits.
        if weft_runtime::task::try_id().is_some() {
            drop(weft_runtime::task::spawn(async move {
                let _ = process.wait().await;
            }));
        }
    }
}
