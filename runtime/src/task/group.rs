//! `TaskGroup`: structured concurrency.

use std::cell::RefCell;
use std::fmt;
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::rc::Rc;
use std::task::Poll;

use super::{JoinError, JoinHandle, spawn};

/// A scope for tasks that live and die together: asyncio's `TaskGroup`, trio's nursery.
///
/// Spawn children with [`spawn`](TaskGroup::spawn); [`join`](TaskGroup::join) waits for every
/// one of them. The first child that fails — returns `Err` or panics — cancels all the others,
/// and `join` then returns every failure together ([`GroupError`]). [`abort`](TaskGroup::abort)
/// ends the group early *without* an error. Once `join` has returned, spawning into the group is
/// an error, and dropping a group that was not joined cancels its children: no child outlives
/// its group. A clone is another handle to the same group (children may spawn siblings).
///
/// Unlike asyncio, failure cancels the children but not the code that awaits `join` — it simply
/// gets the error when it awaits.
///
/// ```
/// use std::time::Duration;
/// use weft::task::TaskGroup;
///
/// weft::run(async {
///     let group: TaskGroup<u32, String> = TaskGroup::new();
///     group.spawn(async { Ok(1) }).unwrap();
///     group.spawn(async {
///         weft::time::sleep(Duration::from_secs(3600)).await; // cancelled by the failure below
///         Ok(2)
///     }).unwrap();
///     group.spawn(async { Err("disk full".to_string()) }).unwrap();
///     let err = group.join().await.unwrap_err();
///     assert_eq!(err.failed(), [&"disk full".to_string()]);
/// });
/// ```
pub struct TaskGroup<T, E> {
    inner: Rc<RefCell<State<T, E>>>,
}

struct State<T, E> {
    children: Vec<Child<T, E>>,
    failures: Vec<Failure<E>>,
    cancelled: bool,
    finished: bool,
}

struct Child<T, E> {
    handle: Option<JoinHandle<Result<T, E>>>,
    output: Option<T>,
}

/// One failed child.
#[derive(Debug)]
pub enum Failure<E> {
    /// It returned this error.
    Failed(E),
    /// It panicked.
    Panicked(JoinError),
}

impl<T: 'static, E: 'static> TaskGroup<T, E> {
    /// An empty group.
    pub fn new() -> Self {
        TaskGroup {
            inner: Rc::new(RefCell::new(State {
                children: Vec::new(),
                failures: Vec::new(),
                cancelled: false,
                finished: false,
            })),
        }
    }

    /// Starts `child` in the group. Fails with [`GroupFinishedError`] once the group's `join` has
    /// returned (and after a failure or `cancel`, when new children would only be cancelled).
    #[track_caller]
    pub fn spawn<F>(&self, child: F) -> Result<(), GroupFinishedError>
    where
        F: Future<Output = Result<T, E>> + 'static,
    {
        let mut state = self.inner.borrow_mut();
        if state.finished || state.cancelled || !state.failures.is_empty() {
            return Err(GroupFinishedError);
        }
        state.children.push(Child {
            handle: Some(spawn(child)),
            output: None,
        });
        Ok(())
    }

    /// Ends the group early: every child still running is aborted (as
    /// [`JoinHandle::abort`](crate::task::JoinHandle::abort) does; trio's `cancel_scope.cancel()`),
    /// and `join` returns the outputs of those that had finished, with no error.
    pub fn abort(&self) {
        let mut state = self.inner.borrow_mut();
        state.cancelled = true;
        state.abort_all();
    }

    /// Waits until every child has finished (or been cancelled). `Ok` with the outputs of the
    /// children that succeeded, in spawn order; `Err` with every failure if any child failed.
    pub async fn join(&self) -> Result<Vec<T>, GroupError<E>> {
        poll_fn(|cx| {
            let mut state = self.inner.borrow_mut();
            let mut running = false;
            // Children may spawn siblings while we poll, so index instead of iterating.
            let mut i = 0;
            while i < state.children.len() {
                if let Some(handle) = state.children[i].handle.as_mut() {
                    match Pin::new(handle).poll(cx) {
                        Poll::Pending => running = true,
                        Poll::Ready(result) => {
                            state.children[i].handle = None;
                            match result {
                                Ok(Ok(value)) => state.children[i].output = Some(value),
                                Ok(Err(error)) => state.fail(Failure::Failed(error)),
                                Err(join_error) if join_error.is_panic() => {
                                    state.fail(Failure::Panicked(join_error))
                                }
                                Err(_) => {} // cancelled by the group: not a failure
                            }
                        }
                    }
                }
                i += 1;
            }
            if running {
                Poll::Pending
            } else {
                Poll::Ready(())
            }
        })
        .await;
        let mut state = self.inner.borrow_mut();
        state.finished = true;
        let failures = std::mem::take(&mut state.failures);
        let outputs = state.children.drain(..).filter_map(|c| c.output).collect();
        if failures.is_empty() {
            Ok(outputs)
        } else {
            Err(GroupError { failures })
        }
    }
}

impl<T, E> State<T, E> {
    fn fail(&mut self, failure: Failure<E>) {
        if self.failures.is_empty() {
            self.abort_all();
        }
        self.failures.push(failure);
    }

    fn abort_all(&self) {
        for child in &self.children {
            if let Some(handle) = &child.handle {
                handle.abort();
            }
        }
    }
}

impl<T: 'static, E: 'static> Default for TaskGroup<T, E> {
    fn default() -> Self {
        TaskGroup::new()
    }
}

impl<T, E> Clone for TaskGroup<T, E> {
    fn clone(&self) -> Self {
        TaskGroup {
            inner: self.inner.clone(),
        }
    }
}

impl<T, E> Drop for TaskGroup<T, E> {
    fn drop(&mut self) {
        // The last handle going away without a join: no child may outlive its group.
        if Rc::strong_count(&self.inner) == 1 {
            if let Ok(state) = self.inner.try_borrow() {
                state.abort_all();
            }
        }
    }
}

impl<T, E> fmt::Debug for TaskGroup<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.inner.borrow();
        f.debug_struct("TaskGroup")
            .field("children", &state.children.len())
            .field("failures", &state.failures.len())
            .field("cancelled", &state.cancelled)
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
