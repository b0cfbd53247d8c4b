//! `JoinHandle`: the spawner's side of a task.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Mutex;
use std::task::{Context, Poll};

use super::raw::{JoinRef, panic_message};
use super::{TaskFailure, TaskId};

/// An owned permission to await a task's output, like an asyncio `Task` you keep a reference
/// to, or gevent's `Greenlet.get()`.
///
/// Awaiting it returns `Ok(output)`, or `Err(JoinError)` if the task was aborted or panicked.
/// Dropping it *detaches* the task: the task runs on, and its output is dropped when it ends.
///
/// ```
/// let answer = weft::run(async {
///     let handle = weft::spawn(async { 6 * 7 });
///     handle.await.unwrap()
/// });
/// assert_eq!(answer, 42);
/// ```
pub struct JoinHandle<T> {
    raw: JoinRef<T>,
    /// The task's name, if it has one: the task keeps it beside its cell, and the handle a
    /// copy of its own, to lend out. (An `Rc<String>`, one word, so a handle is two: a server
    /// keeps one per connection.)
    name: Option<Rc<String>>,
}

// A server keeps a handle per connection (StreamServer does): two words, deliberately.
#[cfg(target_pointer_width = "64")]
const _: () = assert!(std::mem::size_of::<JoinHandle<()>>() == 16);

impl<T> JoinHandle<T> {
    pub(crate) fn new(raw: JoinRef<T>, name: Option<Rc<String>>) -> JoinHandle<T> {
        JoinHandle { raw, name }
    }

    /// Asks the task to stop. Its future is dropped on the runtime's thread at the task's next
    /// turn (or right after its current poll, if it aborts itself), and awaiting this handle then
    /// returns a [`JoinError`] for which [`JoinError::is_cancelled`] is true. Aborting a finished
    /// task does nothing. Like asyncio's `Task.cancel()`, except that the task cannot refuse.
    ///
    /// ```
    /// weft::run(async {
    ///     let handle = weft::spawn(std::future::pending::<()>());
    ///     handle.abort();
    ///     assert!(handle.await.unwrap_err().is_cancelled());
    /// });
    /// ```
    pub fn abort(&self) {
        self.raw.abort();
    }

    /// True once the task's future is gone: it returned, panicked, or was cancelled.
    pub fn is_finished(&self) -> bool {
        self.raw.task().snapshot().is_complete()
    }

    /// The task's id.
    pub fn id(&self) -> TaskId {
        self.raw.task().id()
    }

    /// The name given with [`Builder::name`](crate::task::Builder::name), if any.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref().map(String::as_str)
    }
}

// The handle holds no `T`, only a pointer to the task: moving it is always fine.
impl<T> Unpin for JoinHandle<T> {}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let id = self.id();
        self.raw.poll_result(cx.waker()).map(|result| {
            result.map_err(|failure| JoinError {
                id: Some(id),
                kind: match failure {
                    TaskFailure::Cancelled => Kind::Cancelled,
                    TaskFailure::Panicked(payload) => Kind::Panicked(Mutex::new(*payload)),
                },
            })
        })
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("id", &self.id())
            .field("name", &self.name())
            .field("finished", &self.is_finished())
            .finish()
    }
}

/// Why awaiting a [`JoinHandle`] gave no output: the task was aborted, or it panicked. Also
/// what a [`spawn_blocking`](crate::task::spawn_blocking) job that panicked gives: the same
/// `Display`, `?` and [`try_into_panic`](JoinError::try_into_panic), with no task id.
pub struct JoinError {
    /// `None` for a blocking job, which is not a task.
    id: Option<TaskId>,
    kind: Kind,
}

enum Kind {
    Cancelled,
    /// In a `Mutex` only to make `JoinError` `Sync` (so that `?` turns it into a
    /// `Box<dyn Error + Send + Sync>`); nothing ever locks it but `try_into_panic` and
    /// `Display`, which own or borrow the error.
    Panicked(Mutex<Box<dyn Any + Send>>),
}

impl JoinError {
    /// A panic of task `id`, caught by code that drives the task's future (a `TaskGroup`).
    pub(crate) fn panicked(id: TaskId, payload: Box<dyn Any + Send>) -> JoinError {
        JoinError {
            id: Some(id),
            kind: Kind::Panicked(Mutex::new(payload)),
        }
    }

    /// A panic of a `spawn_blocking` job.
    #[cfg(feature = "blocking")]
    pub(crate) fn blocking_job_panicked(payload: Box<dyn Any + Send>) -> JoinError {
        JoinError {
            id: None,
            kind: Kind::Panicked(Mutex::new(payload)),
        }
    }

    /// Task `id` was dropped before it finished, by code that could not await its handle (a
    /// core that stopped before a task sent to it with `spawn_on` finished).
    #[cfg(feature = "cores")]
    pub(crate) fn cancelled(id: TaskId) -> JoinError {
        JoinError {
            id: Some(id),
            kind: Kind::Cancelled,
        }
    }

    /// The task was aborted, or dropped by the runtime's shutdown.
    pub fn is_cancelled(&self) -> bool {
        matches!(self.kind, Kind::Cancelled)
    }

    /// The task panicked.
    pub fn is_panic(&self) -> bool {
        matches!(self.kind, Kind::Panicked(_))
    }

    /// The id of the task that failed; `None` for a `spawn_blocking` job.
    pub fn id(&self) -> Option<TaskId> {
        self.id
    }

    /// The panic payload, to re-raise it with `std::panic::resume_unwind`; `Err(self)` if the
    /// task was cancelled instead.
    pub fn try_into_panic(self) -> Result<Box<dyn Any + Send>, JoinError> {
        match self.kind {
            Kind::Panicked(payload) => Ok(payload
                .into_inner()
                .unwrap_or_else(|poisoned| poisoned.into_inner())),
            Kind::Cancelled => Err(self),
        }
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.id {
            Some(id) => write!(f, "task {id}")?,
            None => f.write_str("the blocking job")?,
        }
        match &self.kind {
            Kind::Cancelled => f.write_str(" was cancelled"),
            Kind::Panicked(payload) => {
                let payload = payload.lock().unwrap_or_else(|p| p.into_inner());
                write!(f, " panicked: {}", panic_message(payload.as_ref()))
            }
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "JoinError({self})")
    }
}

impl std::error::Error for JoinError {}
