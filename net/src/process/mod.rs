//! Child processes on the loop: asyncio's `create_subprocess_exec`, gevent's `subprocess`,
//! shaped like `std::process`.
//!
//! ```
//! use weft::process::{Command, Stdio};
//! use weft::io::BufReader;
//!
//! weft::run(async {
//!     // Run a command and collect what it printed (gevent's `check_output`).
//!     let output = Command::new("echo").arg("hello").output().await?;
//!     assert!(output.status.success());
//!     assert_eq!(output.stdout, b"hello\n");
//!
//!     // Feed it input and read its output at once (asyncio's `communicate`).
//!     let child = Command::new("tr")
//!         .args(["a-z", "A-Z"])
//!         .stdin(Stdio::piped())
//!         .stdout(Stdio::piped())
//!         .spawn()?;
//!     let output = child.communicate(b"shout").await?;
//!     assert_eq!(output.stdout, b"SHOUT");
//!
//!     // Read its output line by line while it runs.
//!     let mut child = Command::new("printf").arg("one\ntwo\n").stdout(Stdio::piped()).spawn()?;
//!     let mut lines = BufReader::new(child.stdout.take().unwrap());
//!     let mut line = String::new();
//!     lines.read_line(&mut line).await?;
//!     assert_eq!(line, "one\n");
//!     assert!(child.wait().await?.success());
//!     Ok::<(), std::io::Error>(())
//! })
//! .unwrap();
//! ```
//!
//! | Python | weft |
//! |---|---|
//! | `p = await asyncio.create_subprocess_exec("ls", "-l", stdout=PIPE)` | `let p = Command::new("ls").arg("-l").stdout(Stdio::piped()).spawn()?` |
//! | `out, err = await p.communicate(data)` | `let out = p.communicate(data).await?` (`out.stdout`, `out.stderr`, `out.status`) |
//! | `await p.wait()`, `p.returncode` | `p.wait().await?.code()` |
//! | `p.send_signal(s)`, `p.terminate()`, `p.kill()` | `p.signal(s)?`, `p.signal(SIGTERM)?`, `p.kill()?` |
//! | `os.killpg(p.pid, s)` (with `process_group=0`) | `p.signal_group(s)?` (with `process_group(0)`), or [`killpg`] |
//! | `p.returncode < 0`: killed by signal `-returncode` | [`Signal::from_exit(&status)`](crate::signal::Signal::from_exit) |
//! | `await p.stdout.readline()` | `BufReader::new(p.stdout.take().unwrap()).read_line(&mut line).await?` |
//! | gevent `subprocess.run(args, capture_output=True)` | `Command::new(..).args(..).output().await?` |
//! | gevent `subprocess.check_output(args)` | `output().await?`, then check `status.success()` |
//! | gevent `subprocess.call(args)` | `Command::new(..).status().await?` |
//! | `asyncio.wait_for(p.wait(), t)`, then `p.kill()` | `timeout(t, p.wait()).await`, then `p.kill()?` and `p.wait().await?` |
//!
//! No thread is started, and none is needed: each child's exit is seen through a pidfd in the
//! reactor or, where the system refuses pidfds, through `SIGCHLD` (see [`Child::exit_watch`]).
//! weft reaps only its own children, one pid at a time, never with `waitpid(-1)`, so other
//! libraries' children are left alone. A `Child` dropped while its process still runs is
//! reaped by the runtime once it exits: no zombie is left while the runtime runs.

mod child;
mod exit;
mod pipes;

use std::ffi::OsStr;
use std::io;
use std::os::unix::process::CommandExt;
use std::path::Path;

pub use child::Child;
pub use exit::CHILD_WATCH_ENV;
pub use pipes::{ChildStderr, ChildStdin, ChildStdout};
pub use std::process::{ExitStatus, Output, Stdio};

/// A process to start: `std::process::Command`, whose children weft waits for on the loop.
///
/// The builder methods are std's; [`spawn`](Command::spawn) gives a [`Child`] with async
/// pipes, and [`output`](Command::output) and [`status`](Command::status) wait without
/// blocking the loop.
#[derive(Debug)]
pub struct Command {
    std: std::process::Command,
    kill_on_drop: bool,
    /// What `process_group` asked for, for `Child::signal_group`.
    group: Option<i32>,
    /// Which of stdin, stdout and stderr the caller configured, so `output` and `status`
    /// can give the others their defaults.
    configured: [bool; 3],
}

impl Command {
    /// A command that runs `program` (looked up in `PATH` if it has no `/`).
    pub fn new(program: impl AsRef<OsStr>) -> Command {
        Command {
            std: std::process::Command::new(program),
            kill_on_drop: false,
            group: None,
            configured: [false; 3],
        }
    }

    /// Adds an argument.
    pub fn arg(&mut self, arg: impl AsRef<OsStr>) -> &mut Command {
        self.std.arg(arg);
        self
    }

    /// Adds arguments.
    pub fn args<I, S>(&mut self, args: I) -> &mut Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.std.args(args);
        self
    }

    /// Sets an environment variable for the child.
    pub fn env(&mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> &mut Command {
        self.std.env(key, value);
        self
    }

    /// Sets environment variables for the child.
    pub fn envs<I, K, V>(&mut self, vars: I) -> &mut Command
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        self.std.envs(vars);
        self
    }

    /// Removes an environment variable from the child's environment.
    pub fn env_remove(&mut self, key: impl AsRef<OsStr>) -> &mut Command {
        self.std.env_remove(key);
        self
    }

    /// Starts the child with an empty environment (then add to it with `env`).
    pub fn env_clear(&mut self) -> &mut Command {
        self.std.env_clear();
        self
    }

    /// The child's working directory.
    pub fn current_dir(&mut self, dir: impl AsRef<Path>) -> &mut Command {
        self.std.current_dir(dir);
        self
    }

    /// The child's standard input: `Stdio::piped()` gives [`Child::stdin`].
    pub fn stdin(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stdin(cfg);
        self.configured[0] = true;
        self
    }

    /// The child's standard output: `Stdio::piped()` gives [`Child::stdout`].
    pub fn stdout(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stdout(cfg);
        self.configured[1] = true;
        self
    }

    /// The child's standard error: `Stdio::piped()` gives [`Child::stderr`].
    pub fn stderr(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stderr(cfg);
        self.configured[2] = true;
        self
    }

    /// Kills the child (`SIGKILL`) when its [`Child`] is dropped before it exits. Off by
    /// default, as in std: a dropped child keeps running (and is reaped when it exits).
    pub fn kill_on_drop(&mut self, kill: bool) -> &mut Command {
        self.kill_on_drop = kill;
        self
    }

    /// Puts the child in process group `pgid` (`0`: a new group of its own, whose id is the
    /// child's pid), as `std::os::unix::process::CommandExt::process_group` does.
    pub fn process_group(&mut self, pgid: i32) -> &mut Command {
        self.std.process_group(pgid);
        self.group = Some(pgid);
        self
    }

    /// std's command, for what this type does not wrap (`uid`, `pre_exec`...).
    pub fn as_std_mut(&mut self) -> &mut std::process::Command {
        &mut self.std
    }

    /// Starts the child. Fails with `NotFound` for a program that does not exist, and with
    /// the OS error when the process is out of file descriptors or processes; nothing is
    /// left running then. Must be called inside a runtime.
    pub fn spawn(&mut self) -> io::Result<Child> {
        let std = self.std.spawn()?;
        let label = format!(
            "child process {} ({})",
            std.id(),
            self.std.get_program().to_string_lossy()
        );
        Child::adopt(std, &label, self.kill_on_drop, self.group)
    }

    /// Runs the child to its end and collects its output. Unless configured, stdout and
    /// stderr are piped and stdin is empty (std's defaults for `output`); those defaults
    /// stay set on this `Command`.
    pub async fn output(&mut self) -> io::Result<Output> {
        self.default_stdio([Stdio::null, Stdio::piped, Stdio::piped]);
        self.spawn()?.wait_with_output().await
    }

    /// Runs the child to its end with its standard streams inherited (unless configured),
    /// and returns its exit status.
    pub async fn status(&mut self) -> io::Result<ExitStatus> {
        self.default_stdio([Stdio::inherit, Stdio::inherit, Stdio::inherit]);
        let mut child = self.spawn()?;
        child.wait().await
    }

    /// Gives each stream the caller left alone its default from `defaults`.
    fn default_stdio(&mut self, defaults: [fn() -> Stdio; 3]) {
        let [stdin, stdout, stderr] = defaults;
        let configured = self.configured;
        if !configured[0] {
            self.stdin(stdin());
        }
        if !configured[1] {
            self.stdout(stdout());
        }
        if !configured[2] {
            self.stderr(stderr());
        }
        self.configured = configured;
    }
}

/// Sends `signal` to every process of group `pgid`: Python's `os.killpg`. A child made with
/// [`Command::process_group`]`(0)` leads a group whose id is its pid; see
/// [`Child::signal_group`]. Group 0, which would mean this process's own, is refused
/// (`InvalidInput`): name the group.
pub fn killpg(pgid: u32, signal: crate::signal::Signal) -> io::Result<()> {
    let group = i32::try_from(pgid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{pgid} is not a process group to signal (0 would be this process's own)"),
            )
        })?;
    rustix::process::kill_process_group(group, signal.to_rustix()).map_err(io::Error::from)
}
