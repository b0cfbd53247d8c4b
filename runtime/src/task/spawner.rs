//! `Spawner`: futures-task's `Spawn` and `LocalSpawn` for weft, so that libraries written
//! against "whoever is running me" can spawn tasks on a weft runtime.

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use futures_task::{FutureObj, LocalFutureObj, LocalSpawn, Spawn, SpawnError};

use std::rc::Rc;

use crate::executor::state::Executor as Core;
use crate::executor::{context, with_core};

/// A handle through which runtime-agnostic code spawns tasks on one weft runtime: it
/// implements [`futures_task::LocalSpawn`] (any future, on the runtime's thread) and
/// [`futures_task::Spawn`] (`Send` futures, from any thread), the traits behind futures-util's
/// `LocalSpawnExt` and `SpawnExt`. It is `Send + Sync` and cheap to clone.
///
/// Python has no counterpart: asyncio code finds its loop with `get_running_loop()`, which a
/// weft task does implicitly through [`spawn`](crate::task::spawn). Use a `Spawner` where a
/// library asks to be *given* a spawner, as Rust libraries that support every runtime do.
///
/// - On the runtime's thread, both traits spawn at once, as [`spawn`](crate::task::spawn)
///   does (the task is detached; its output is `()`).
/// - From another thread, [`Spawn`] hands the future to the runtime's thread through a queue
///   and the cross-thread wake path; it starts there at the next turn. [`LocalSpawn`] from
///   another thread is refused, since a `!Send` future cannot get there.
/// - Once the runtime has shut down, both report [`SpawnError::shutdown`], never a panic.
///
/// While any clone of a `Spawner` is alive, another thread might still spawn through it, so
/// the deadlock report counts it as a possible wake (as any waker held outside weft).
///
/// ```
/// use futures_task::{LocalFutureObj, LocalSpawn, SpawnError};
/// use std::cell::Cell;
/// use std::rc::Rc;
///
/// // A library function that knows nothing of weft: it only asks for a LocalSpawn.
/// fn start_workers(spawner: &impl LocalSpawn, done: &Rc<Cell<u32>>) -> Result<(), SpawnError> {
///     for _ in 0..3 {
///         let done = done.clone();
///         spawner.spawn_local_obj(LocalFutureObj::new(Box::new(async move {
///             done.set(done.get() + 1);
///         })))?;
///     }
///     Ok(())
/// }
///
/// weft::run(async {
///     let done = Rc::new(Cell::new(0));
///     start_workers(&weft::task::spawner(), &done).unwrap();
///     while done.get() < 3 {
///         weft::task::yield_now().await;
///     }
/// });
/// ```
pub struct Spawner {
    runtime_id: u32,
    inbox: Arc<Mutex<Inbox>>,
}

/// Futures sent from other threads, waiting for the runtime's intake task to spawn them.
struct Inbox {
    futures: VecDeque<FutureObj<'static, ()>>,
    /// The intake task's waker, while it waits for futures.
    intake: Option<Waker>,
    /// Live `Spawner` handles; the intake task ends when there are none.
    spawners: usize,
    /// The intake task is gone: its runtime has shut down.
    closed: bool,
}

/// A `Spawner` for the current runtime. Each call starts one small intake task, which spawns
/// what other threads send and ends when the last clone of the spawner is dropped; clone the
/// spawner rather than calling this again.
///
/// # Panics
/// Outside a runtime, as [`spawn`](crate::task::spawn) does.
#[track_caller]
pub fn spawner() -> Spawner {
    Spawner::new_on(&context::expect_core("weft::task::spawner"))
}

impl Spawner {
    /// A spawner for the runtime `core`, with its intake task.
    #[track_caller]
    pub(crate) fn new_on(core: &Rc<Core>) -> Spawner {
        let inbox = Arc::new(Mutex::new(Inbox {
            futures: VecDeque::new(),
            intake: None,
            spawners: 1,
            closed: false,
        }));
        let intake = Intake {
            inbox: inbox.clone(),
        };
        let location = std::panic::Location::caller();
        drop(core.spawn(intake, Some("weft spawner intake".to_owned()), location));
        Spawner {
            runtime_id: core.id(),
            inbox,
        }
    }
}

fn lock(inbox: &Mutex<Inbox>) -> MutexGuard<'_, Inbox> {
    // Nothing panics while holding the lock, but a poisoned one still holds a valid inbox.
    inbox.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Spawner {
    /// Whether this thread runs the spawner's runtime right now.
    fn on_runtime_thread(&self) -> bool {
        with_core(|core| core.is_some_and(|core| core.id() == self.runtime_id))
    }
}

impl LocalSpawn for Spawner {
    fn spawn_local_obj(&self, future: LocalFutureObj<'static, ()>) -> Result<(), SpawnError> {
        self.status_local()?;
        drop(crate::task::spawn(future));
        Ok(())
    }

    fn status_local(&self) -> Result<(), SpawnError> {
        if self.on_runtime_thread() {
            Ok(())
        } else {
            Err(SpawnError::shutdown())
        }
    }
}

impl Spawn for Spawner {
    fn spawn_obj(&self, future: FutureObj<'static, ()>) -> Result<(), SpawnError> {
        if self.on_runtime_thread() {
            drop(crate::task::spawn(future));
            return Ok(());
        }
        let mut inbox = lock(&self.inbox);
        if inbox.closed {
            return Err(SpawnError::shutdown());
        }
        inbox.futures.push_back(future);
        let intake = inbox.intake.take();
        drop(inbox);
        if let Some(intake) = intake {
            intake.wake();
        }
        Ok(())
    }

    fn status(&self) -> Result<(), SpawnError> {
        if lock(&self.inbox).closed {
            Err(SpawnError::shutdown())
        } else {
            Ok(())
        }
    }
}

impl Clone for Spawner {
    fn clone(&self) -> Spawner {
        lock(&self.inbox).spawners += 1;
        Spawner {
            runtime_id: self.runtime_id,
            inbox: self.inbox.clone(),
        }
    }
}

impl Drop for Spawner {
    fn drop(&mut self) {
        let mut inbox = lock(&self.inbox);
        inbox.spawners -= 1;
        // The last handle is gone: let the intake task see it and end.
        let intake = if inbox.spawners == 0 {
            inbox.intake.take()
        } else {
            None
        };
        drop(inbox);
        if let Some(intake) = intake {
            intake.wake();
        }
    }
}

impl fmt::Debug for Spawner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Spawner")
            .field("runtime", &self.runtime_id)
            .finish_non_exhaustive()
    }
}

/// The task that spawns, on the runtime's thread, what other threads sent to the inbox.
struct Intake {
    inbox: Arc<Mutex<Inbox>>,
}

impl Future for Intake {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut inbox = lock(&self.inbox);
        let arrived = std::mem::take(&mut inbox.futures);
        if inbox.spawners == 0 {
            inbox.closed = true; // nobody can send any more
        } else {
            inbox.intake = Some(cx.waker().clone());
        }
        let done = inbox.closed;
        drop(inbox);
        for future in arrived {
            drop(crate::task::spawn(future));
        }
        if done { Poll::Ready(()) } else { Poll::Pending }
    }
}

impl Drop for Intake {
    fn drop(&mut self) {
        // The runtime shut down (or the last spawner went): later spawns are refused, and
        // futures that arrived too late are dropped here, on the runtime's thread.
        let mut inbox = lock(&self.inbox);
        inbox.closed = true;
        inbox.intake = None;
        let unspawned = std::mem::take(&mut inbox.futures);
        drop(inbox);
        drop(unspawned);
    }
}

impl crate::Runtime {
    /// A [`Spawner`](crate::task::Spawner) for this runtime: futures-task's `Spawn` and
    /// `LocalSpawn`, for libraries that take a spawner instead of calling `weft::spawn`.
    #[track_caller]
    pub fn spawner(&self) -> Spawner {
        Spawner::new_on(self.executor())
    }
}
