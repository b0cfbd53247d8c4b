//! `TaskGroup`: structured concurrency.

use std::cell::RefCell;
use std::fmt;
use std::future::{Future, poll_fn};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll, Waker};

use pin_project_lite::pin_project;

use super::{JoinError, JoinHandle, spawn};
use crate::channel::oneshot;

/// A scope for tasks that live and die together: asyncio's `TaskGroup`, trio's nursery.
///
/// Spawn children with [`spawn`](TaskGroup::spawn); [`join`](TaskGroup::join) waits for every
/// one of them. The first child that fails (returns `Err` or panics) cancels all the others
/// *at once*, as asyncio does, and from then on the group refuses new children; `join` then
/// returns every failure together ([`GroupError`]). [`abort`](TaskGroup::abort) ends the group
/// early *without* an error. Once `join` has returned, spawning into the group is an error, and
/// dropping a group that was not joined cancels its children: no child outlives its group. A
/// clone is another handle to the same group (children may spawn siblings).
///
/// Children may return different types, as asyncio's can: `spawn` gives a [`GroupChild`]
/// whose await yields that child's output (`None` if it failed or was cancelled), like
/// asyncio's `task.result()` after the `async with` block. They share the error type `E`.
///
/// Unlike asyncio, a failure cancels the children but not the code that awaits `join`: it
/// simply gets the error when it awaits.
///
/// ```
/// use std::time::Duration;
/// use weft::task::TaskGroup;
///
/// // Python:
/// //   async with asyncio.TaskGroup() as tg:
/// //       size = tg.create_task(fetch_size())
/// //       name = tg.create_task(fetch_name())
/// //   print(size.result(), name.result())
/// weft::run(async {
///     let group: TaskGroup<String> = TaskGroup::new();
///     let size = group.spawn(async { Ok(42u64) });
///     let name = group.spawn(async { Ok("index.html") });
///     group.join().await.unwrap();
///     assert_eq!((size.await, name.await), (Some(42), Some("index.html")));
///
///     let group: TaskGroup<String> = TaskGroup::new();
///     let slow = group.spawn(async {
///         weft::time::sleep(Duration::from_secs(3600)).await; // cancelled by the failure below
///         Ok(2)
///     });
///     group.spawn(async { Err::<(), _>("disk full".to_string()) });
///     let err = group.join().await.unwrap_err();
///     assert_eq!(err.failed(), [&"disk full".to_string()]);
///     assert_eq!(slow.await, None);
///     // The group failed: it takes no more children, and the handle says so.
///     let late = group.spawn(async { Ok(3) });
///     assert!(late.is_refused());
///     assert_eq!(late.await, None);
/// });
/// ```
pub struct TaskGroup<E> {
    inner: Rc<RefCell<State<E>>>,
}

struct State<E> {
    /// Every child's task, to cancel the ones still running.
    tasks: Vec<JoinHandle<()>>,
    /// Children whose task has not ended yet.
    live: usize,
    failures: Vec<Failure<E>>,
    aborted: bool,
    finished: bool,
    /// The task awaiting `join`.
    joiner: Option<Waker>,
}

/// One failed child.
#[derive(Debug)]
pub enum Failure<E> {
    /// It returned this error.
    Failed(E),
    /// It panicked.
    Panicked(JoinError),
}

impl<E: 'static> TaskGroup<E> {
    /// An empty group.
    pub fn new() -> Self {
        TaskGroup {
            inner: Rc::new(RefCell::new(State {
                tasks: Vec::new(),
                live: 0,
                failures: Vec::new(),
                aborted: false,
                finished: false,
                joiner: None,
            })),
        }
    }

    /// Starts `child` in the group and returns a handle to its output: asyncio's
    /// `tg.create_task`. Once the group's `join` has returned, or after a failure or an
    /// `abort`, a new child would only be cancelled: it is not started, and its handle says so
    /// ([`GroupChild::is_refused`], and it awaits to `None`). Use
    /// [`try_spawn`](TaskGroup::try_spawn) to get that as an error instead.
    ///
    /// A child's success type comes from its body. One that never returns `Ok` (it only
    /// fails, or loops until cancelled) has none to infer it from: name it where the error is
    /// made, `Err::<(), _>(error)`. Rust infers an `async` block's output from its body alone,
    /// never from the `spawn` it is passed to, so no signature of `spawn` can spare that.
    #[track_caller]
    pub fn spawn<T, F>(&self, child: F) -> GroupChild<T>
    where
        T: 'static,
        F: Future<Output = Result<T, E>> + 'static,
    {
        self.try_spawn(child).unwrap_or_else(|GroupFinishedError| {
            let (_, receiver) = oneshot::channel();
            GroupChild {
                receiver,
                refused: true,
            }
        })
    }

    /// Like [`spawn`](TaskGroup::spawn), but a group that takes no more children is a
    /// [`GroupFinishedError`].
    #[track_caller]
    pub fn try_spawn<T, F>(&self, child: F) -> Result<GroupChild<T>, GroupFinishedError>
    where
        T: 'static,
        F: Future<Output = Result<T, E>> + 'static,
    {
        let mut state = self.inner.borrow_mut();
        if state.finished || state.aborted || !state.failures.is_empty() {
            return Err(GroupFinishedError);
        }
        let (output, receiver) = oneshot::channel();
        state.live += 1;
        state.tasks.push(spawn(Member {
            child,
            output: Some(output),
            group: Rc::downgrade(&self.inner),
        }));
        Ok(GroupChild {
            receiver,
            refused: false,
        })
    }

    /// Ends the group early: every child still running is aborted (as
    /// [`JoinHandle::abort`] does; trio's `cancel_scope.cancel()`), and `join` returns with no
    /// error unless a child had failed before.
    pub fn abort(&self) {
        let mut state = self.inner.borrow_mut();
        state.aborted = true;
        state.abort_all();
    }

    /// Waits until every child has ended. `Ok` if none failed; `Err` with every failure, in
    /// the order they happened, if any did.
    pub async fn join(&self) -> Result<(), GroupError<E>> {
        poll_fn(|cx| {
            let mut state = self.inner.borrow_mut();
            if state.live == 0 {
                Poll::Ready(())
            } else {
                state.joiner = Some(cx.waker().clone());
                Poll::Pending
            }
        })
        .await;
        let mut state = self.inner.borrow_mut();
        state.finished = true;
        state.joiner = None;
        state.tasks.clear();
        let failures = std::mem::take(&mut state.failures);
        if failures.is_empty() {
            Ok(())
        } else {
            Err(GroupError { failures })
        }
    }
}

impl<E> State<E> {
    /// Records a failure; the first one cancels every other child at once.
    fn fail(&mut self, failure: Failure<E>) {
        if self.failures.is_empty() {
            self.abort_all();
        }
        self.failures.push(failure);
    }

    fn abort_all(&self) {
        let current = super::try_id();
        for task in &self.tasks {
            // The failing child is finishing on its own; the others are dropped at their
            // await points at the next turn.
            if Some(task.id()) != current {
                task.abort();
            }
        }
    }
}

pin_project! {
    /// A child's future, as its task runs it: reports a failure to the group the moment it
    /// happens, hands a success to the child's handle, and counts itself out when it ends,
    /// however it ends (a cancelled child is dropped).
    struct Member<F, T, E> {
        #[pin]
        child: F,
        output: Option<oneshot::Sender<T>>,
        group: Weak<RefCell<State<E>>>,
    }

    impl<F, T, E> PinnedDrop for Member<F, T, E> {
        fn drop(this: Pin<&mut Self>) {
            if let Some(group) = this.group.upgrade() {
                let mut state = group.borrow_mut();
                state.live -= 1;
                if state.live == 0 {
                    if let Some(joiner) = state.joiner.take() {
                        joiner.wake();
                    }
                }
            }
        }
    }
}

impl<F, T, E> Future for Member<F, T, E>
where
    F: Future<Output = Result<T, E>>,
{
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.project();
        let child = this.child;
        let failure = match catch_unwind(AssertUnwindSafe(|| child.poll(cx))) {
            Ok(Poll::Pending) => return Poll::Pending,
            Ok(Poll::Ready(Ok(value))) => {
                if let Some(output) = this.output.take() {
                    let _ = output.send(value); // the handle may have been dropped
                }
                return Poll::Ready(());
            }
            Ok(Poll::Ready(Err(error))) => Failure::Failed(error),
            Err(panic) => Failure::Panicked(JoinError::panicked(super::id(), panic)),
        };
        if let Some(group) = this.group.upgrade() {
            group.borrow_mut().fail(failure);
        }
        Poll::Ready(())
    }
}

/// A child of a [`TaskGroup`]: await it for the child's output, `Some` if it succeeded and
/// `None` if it failed, panicked, was cancelled (the group's [`GroupError`] says why) or was
/// never started ([`is_refused`](GroupChild::is_refused)). Dropping it does not cancel the
/// child.
pub struct GroupChild<T> {
    receiver: oneshot::Receiver<T>,
    refused: bool,
}

impl<T> GroupChild<T> {
    /// Whether the group refused the child, because it had finished, failed or been aborted
    /// when `spawn` was called: the child never ran.
    pub fn is_refused(&self) -> bool {
        self.refused
    }
}

impl<T> Future for GroupChild<T> {
    type Output = Option<T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        Pin::new(&mut self.receiver).poll(cx).map(Result::ok)
    }
}

impl<T> fmt::Debug for GroupChild<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GroupChild")
            .field("refused", &self.refused)
            .finish_non_exhaustive()
    }
}

impl<E: 'static> Default for TaskGroup<E> {
    fn default() -> Self {
        TaskGroup::new()
    }
}

impl<E> Clone for TaskGroup<E> {
    fn clone(&self) -> Self {
        TaskGroup {
            inner: self.inner.clone(),
        }
    }
}

impl<E> Drop for TaskGroup<E> {
    fn drop(&mut self) {
        // The last handle going away without a join: no child may outlive its group.
        if Rc::strong_count(&self.inner) == 1 {
            if let Ok(state) = self.inner.try_borrow() {
                state.abort_all();
            }
        }
    }
}

impl<E> fmt::Debug for TaskGroup<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.inner.borrow();
        f.debug_struct("TaskGroup")
            .field("running", &state.live)
            .field("failures", &state.failures.len())
            .field("aborted", &state.aborted)
            .finish()
    }
}
/// Every failure of a [`TaskGroup`]'s children (asyncio's `ExceptionGroup`).
#[derive(Debug)]
pub struct GroupError<E> {
    failures: Vec<Failure<E>>,
}

impl<E> GroupError<E> {
    /// All failures, in the order they were seen.
    pub fn failures(&self) -> &[Failure<E>] {
        &self.failures
    }

    /// The errors children returned (panics left out).
    pub fn failed(&self) -> Vec<&E> {
        self.failures
            .iter()
            .filter_map(|f| match f {
                Failure::Failed(e) => Some(e),
                _ => None,
            })
            .collect()
    }

    /// The failures, by value.
    pub fn into_failures(self) -> Vec<Failure<E>> {
        self.failures
    }
}

impl<E: fmt::Display> fmt::Display for GroupError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} task(s) of the group failed", self.failures.len())?;
        for failure in &self.failures {
            match failure {
                Failure::Failed(e) => write!(f, "; {e}")?,
                Failure::Panicked(e) => write!(f, "; {e}")?,
            }
        }
        Ok(())
    }
}

impl<E: fmt::Debug + fmt::Display> std::error::Error for GroupError<E> {}

/// [`TaskGroup::spawn`] on a group that has finished, failed or been cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupFinishedError;

impl fmt::Display for GroupFinishedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the task group has finished; it takes no new tasks")
    }
}

impl std::error::Error for GroupFinishedError {}
