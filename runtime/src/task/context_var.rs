//! `ContextVar`: Python's `contextvars`, per task, inherited at spawn.
//!
//! Each task has a *context*: a map from context variables to values. A task starts with a
//! copy of its spawner's context, so it sees what its parent had set at that moment; what it
//! sets itself is invisible to its parent and its siblings. The copy is O(1): a context is an
//! `Rc` of an immutable map, and a `set` copies the map only if another task still shares it.
//!
//! The runtime keeps the contexts beside its tasks, keyed by task id, and only for tasks whose
//! context is not empty, so a program that never sets a context variable pays one untaken
//! branch per spawn and per completion, and nothing per poll.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use super::contexts::{Context, THREAD_CONTEXT, Value};
use crate::executor::with_core;
use crate::task::TaskId;

/// A context variable: Python's `contextvars.ContextVar`. Declare it as a `static`; its value
/// is per task.
///
/// Why a `static`: a variable is known by its address, which a `static` keeps for the whole
/// program (as a Python `ContextVar` is made once, at module level). A variable made on the
/// stack or in a `Box` would leave its values behind in every context under an address that a
/// later variable could reuse, and that one would then read them; the constructors are
/// `const fn` so that a `static` is the natural place. Python warns the same way: "context
/// variables should be created at the top module level and never in closures".
///
/// - [`get`](ContextVar::get) reads the current task's value (or the default).
/// - [`set`](ContextVar::set) changes it for the current task only, and returns a [`Token`]
///   that [`reset`](ContextVar::reset) uses to put the previous value back.
/// - [`scope`](ContextVar::scope) runs a future with the variable set, and
///   [`scoped`](ContextVar::scoped) a closure.
///
/// A spawned task starts with a copy of its spawner's context (as asyncio's tasks copy the
/// context when they are created), and so do `TaskGroup` and `Pool` children, which are
/// spawned tasks. A generator runs in the context of whoever drives it, as in Python.
/// `spawn_blocking` carries the values of variables made with [`ContextVar::new`] (whose type
/// is `Send + Sync`) to its thread; those made with [`ContextVar::new_local`] stay behind.
/// Outside a runtime, each thread has one context of its own.
///
/// tokio's `task_local!` is not inherited by spawned tasks: each task must be given its value
/// with an explicit scope. weft inherits, as Python does, because the common uses (a request
/// id in every log line, a deadline, a tracing span) want the children of a request's task to
/// carry them without every spawn site passing them on.
///
/// ```
/// use weft::task::ContextVar;
///
/// // request_id = contextvars.ContextVar("request_id", default=0)
/// static REQUEST_ID: ContextVar<u64> = ContextVar::with_default("request_id", || 0);
///
/// weft::run(async {
///     REQUEST_ID.set(7);
///     let child = weft::spawn(async {
///         let inherited = REQUEST_ID.get(); // the parent's value when it was spawned
///         REQUEST_ID.set(8); // the child's own, invisible to the parent
///         inherited
///     });
///     assert_eq!(child.await.unwrap(), Some(7));
///     assert_eq!(REQUEST_ID.get(), Some(7));
/// });
/// ```
pub struct ContextVar<T: 'static> {
    name: &'static str,
    /// Makes the default value (a function, so that the variable is `Sync` whatever `T` is,
    /// and can be a `static`).
    default: Option<fn() -> T>,
    /// Turns a value into one another thread may hold, for variables whose type allows it.
    share: Option<fn(T) -> Arc<dyn Any + Send + Sync>>,
}

impl<T: Send + Sync + 'static> ContextVar<T> {
    /// A variable with no default, named `name` (for debugging). `spawn_blocking` carries its
    /// value to its thread.
    pub const fn new(name: &'static str) -> ContextVar<T> {
        ContextVar {
            name,
            default: None,
            share: Some(share::<T>),
        }
    }

    /// A variable whose value is `default()` where nothing set it (Python's `default=`).
    pub const fn with_default(name: &'static str, default: fn() -> T) -> ContextVar<T> {
        ContextVar {
            name,
            default: Some(default),
            share: Some(share::<T>),
        }
    }
}

impl<T: 'static> ContextVar<T> {
    /// A variable for a value that must stay on its thread (an `Rc`, say): it is inherited by
    /// spawned tasks, but `spawn_blocking` does not carry it.
    pub const fn new_local(name: &'static str) -> ContextVar<T> {
        ContextVar {
            name,
            default: None,
            share: None,
        }
    }

    /// The variable's name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The variable's identity in a context: its address, which a `static` keeps for good.
    fn key(&self) -> usize {
        self as *const ContextVar<T> as usize
    }
}

impl<T: Clone + 'static> ContextVar<T> {
    /// The current task's value, else the default; `None` if there is neither (Python raises
    /// `LookupError`).
    pub fn get(&self) -> Option<T> {
        with_current(|context| {
            context
                .get(self.key())
                .and_then(Value::downcast::<T>)
                .cloned()
        })
        .or_else(|| self.default.map(|default| default()))
    }

    /// The current task's value, else the variable's default, else `default`: Python's
    /// `var.get(default)`.
    ///
    /// ```
    /// use weft::task::ContextVar;
    ///
    /// static USER: ContextVar<&'static str> = ContextVar::new("user");
    /// weft::run(async {
    ///     assert_eq!(USER.get_or("anonymous"), "anonymous");
    ///     USER.set("ada");
    ///     assert_eq!(USER.get_or("anonymous"), "ada");
    /// });
    /// ```
    pub fn get_or(&self, default: T) -> T {
        self.get().unwrap_or(default)
    }

    /// Sets the current task's value; the task's children spawned from now on inherit it.
    /// The token puts the previous value back with [`reset`](ContextVar::reset).
    pub fn set(&self, value: T) -> Token<T> {
        let stored = self.store(value);
        let (owner, previous) = update_current(|context| context.insert(self.key(), stored));
        Token {
            var: self.key(),
            owner,
            previous,
            _value: PhantomData,
        }
    }

    /// Puts back the value the variable had before the `set` that made `token` (Python's
    /// `var.reset(token)`). A token made by another task, or for another variable, is refused
    /// and changes nothing (Python's `ValueError`).
    pub fn reset(&self, token: Token<T>) -> Result<(), ResetError> {
        if token.var != self.key() {
            return Err(ResetError::OtherVariable);
        }
        if token.owner != current_owner() {
            return Err(ResetError::OtherContext);
        }
        update_current(|context| match token.previous {
            Some(previous) => context.insert(self.key(), previous),
            None => context.remove(self.key()),
        });
        Ok(())
    }

    /// Runs `f` with the variable set to `value`, then puts the previous value back (also if
    /// `f` panics).
    pub fn scoped<R>(&self, value: T, f: impl FnOnce() -> R) -> R {
        let outer = self.swap(Some(self.store(value)));
        let _restore = Restore {
            var: self.key(),
            outer: Some(outer),
        };
        f()
    }

    /// A future that runs `future` with the variable set to `value`: on each poll the value
    /// goes in, and afterwards the task's own value comes back, so the scope covers exactly
    /// `future` (and the tasks it spawns), as tokio's `LocalKey::scope` does. What `future`
    /// sets is kept for its next poll.
    pub fn scope<F: Future>(&self, value: T, future: F) -> Scope<F> {
        Scope {
            var: self.key(),
            inner: Some(Some(self.store(value))),
            future,
        }
    }

    fn store(&self, value: T) -> Value {
        match self.share {
            Some(share) => Value::Shared(share(value)),
            None => Value::Local(Rc::new(value)),
        }
    }
}

impl<T: 'static> ContextVar<T> {
    /// Cancels every task of this thread's runtime whose value of the variable satisfies
    /// `matches`, as [`JoinHandle::abort`](crate::task::JoinHandle::abort) would each;
    /// returns how many were alive. The tasks that share a value (a tenant, a request, a
    /// simulated host: whatever the variable was set to before they were spawned, since
    /// children inherit it) end together, however they were spawned and whoever holds their
    /// handles. The main future of `block_on` is not a task and is never cancelled; the
    /// calling task may be, and then ends at its next `await`.
    ///
    /// ```
    /// use weft::task::ContextVar;
    ///
    /// static TENANT: ContextVar<u32> = ContextVar::new("tenant");
    /// weft::run(async {
    ///     let spawn_for = |tenant| {
    ///         TENANT.scoped(tenant, || weft::spawn(std::future::pending::<()>()))
    ///     };
    ///     let (a, b, c) = (spawn_for(1), spawn_for(2), spawn_for(1));
    ///     assert_eq!(TENANT.abort_tasks(|&tenant| tenant == 1), 2);
    ///     assert!(a.await.unwrap_err().is_cancelled());
    ///     assert!(c.await.unwrap_err().is_cancelled());
    ///     assert!(!b.is_finished());
    /// });
    /// ```
    pub fn abort_tasks(&self, mut matches: impl FnMut(&T) -> bool) -> usize {
        with_core(|core| {
            let Some(core) = core else {
                return 0;
            };
            let ids = core.contexts().tasks_where(self.key(), |value| {
                value.downcast::<T>().is_some_and(&mut matches)
            });
            if ids.is_empty() {
                return 0;
            }
            core.abort_tasks(&ids)
        })
    }

    /// Stops polling every task of this thread's runtime whose value of the variable
    /// satisfies `matches` (tasks spawned later included), until the returned
    /// [`PausedTasks`] is resumed or dropped: what `SIGSTOP` does to a process. Their wakes
    /// are kept, their timers come due, and nothing of theirs runs; on resume they run in the
    /// order they were woken. The main future of `block_on` is never paused. Nothing is paid
    /// for this while no pause is in force.
    ///
    /// ```
    /// use std::cell::Cell;
    /// use std::rc::Rc;
    /// use weft::task::ContextVar;
    ///
    /// static WORKER: ContextVar<&'static str> = ContextVar::new("worker");
    /// weft::run(async {
    ///     let ticks = Rc::new(Cell::new(0));
    ///     let counted = ticks.clone();
    ///     WORKER.scoped("ticker", || {
    ///         weft::spawn(async move {
    ///             loop {
    ///                 counted.set(counted.get() + 1);
    ///                 weft::yield_now().await;
    ///             }
    ///         })
    ///     });
    ///     weft::yield_now().await;
    ///     let paused = WORKER.pause_tasks(|&name| name == "ticker");
    ///     let before = ticks.get();
    ///     for _ in 0..10 {
    ///         weft::yield_now().await;
    ///     }
    ///     assert_eq!(ticks.get(), before, "held back");
    ///     paused.resume();
    ///     weft::yield_now().await;
    ///     assert!(ticks.get() > before);
    /// });
    /// ```
    ///
    /// # Panics
    ///
    /// Outside a runtime.
    pub fn pause_tasks(&self, matches: impl Fn(&T) -> bool + 'static) -> PausedTasks {
        let core = crate::executor::expect_core("ContextVar::pause_tasks");
        let matches = Box::new(move |value: &Value| value.downcast::<T>().is_some_and(&matches));
        let id = core.pause_tasks(self.key(), matches);
        PausedTasks {
            core: Rc::downgrade(&core),
            id,
        }
    }

    /// Replaces the current value (`None`: unset); returns the one before.
    fn swap(&self, value: Option<Value>) -> Option<Value> {
        swap(self.key(), value)
    }
}

/// Replaces `var`'s current value (`None`: unset); returns the one before.
fn swap(var: usize, value: Option<Value>) -> Option<Value> {
    update_current(|context| match value {
        Some(value) => context.insert(var, value),
        None => context.remove(var),
    })
    .1
}

impl<T: 'static> fmt::Debug for ContextVar<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ContextVar")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// A pause of some tasks, from [`ContextVar::pause_tasks`]: they run again when it is
/// resumed or dropped.
#[must_use = "dropping it resumes the tasks at once"]
pub struct PausedTasks {
    core: std::rc::Weak<crate::executor::state::Executor>,
    id: u64,
}

impl PausedTasks {
    /// Lets the tasks run again (as dropping it does).
    pub fn resume(self) {}
}

impl Drop for PausedTasks {
    fn drop(&mut self) {
        if let Some(core) = self.core.upgrade() {
            core.resume_tasks(self.id);
        }
    }
}

impl fmt::Debug for PausedTasks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PausedTasks").field("id", &self.id).finish()
    }
}

fn share<T: Send + Sync + 'static>(value: T) -> Arc<dyn Any + Send + Sync> {
    Arc::new(value)
}

/// What [`ContextVar::set`] returns: the way back to the previous value.
pub struct Token<T> {
    var: usize,
    owner: Owner,
    previous: Option<Value>,
    _value: PhantomData<fn() -> T>,
}

impl<T> fmt::Debug for Token<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token").finish_non_exhaustive()
    }
}

/// Why [`ContextVar::reset`] refused a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResetError {
    /// The token was made by another task (another context).
    OtherContext,
    /// The token belongs to another variable.
    OtherVariable,
}

impl fmt::Display for ResetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ResetError::OtherContext => "the token was created in another task's context",
            ResetError::OtherVariable => "the token was created by another context variable",
        })
    }
}

impl std::error::Error for ResetError {}

/// Puts the outer value back when `scoped`'s closure returns or unwinds.
struct Restore {
    var: usize,
    outer: Option<Option<Value>>,
}

impl Drop for Restore {
    fn drop(&mut self) {
        if let Some(outer) = self.outer.take() {
            swap(self.var, outer);
        }
    }
}

pin_project_lite::pin_project! {
    /// The future of [`ContextVar::scope`].
    #[must_use = "futures do nothing unless awaited"]
    pub struct Scope<F> {
        var: usize,
        // The scope's own value between polls (`Some(None)`: unset by the future).
        inner: Option<Option<Value>>,
        #[pin]
        future: F,
    }
}

impl<F: Future> Future for Scope<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<F::Output> {
        let this = self.project();
        let inner = this.inner.take().expect("Scope polled after it completed");
        let outer = swap(*this.var, inner);
        let _restore = Restore {
            var: *this.var,
            outer: Some(outer),
        };
        let polled = this.future.poll(cx);
        if polled.is_pending() {
            *this.inner = Some(current_value(*this.var));
        }
        polled
    }
}

/// The current value of `var`, for a scope to keep between polls.
fn current_value(var: usize) -> Option<Value> {
    with_current(|context| context.get(var).cloned())
}

// ---------------------------------------------------------------------------------------------
// Where the current context lives: the current task's, in its runtime, or the thread's.

/// Whose context the current code uses: a task of a runtime, or the thread.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Owner(Option<(u32, TaskId)>);

fn current_owner() -> Owner {
    Owner(with_core(|core| {
        core.and_then(|core| Some((core.id(), core.current()?)))
    }))
}

/// Runs `f` with the current context.
fn with_current<R>(f: impl FnOnce(&Context) -> R) -> R {
    let mut f = Some(f);
    let in_task = with_core(|core| {
        let core = core?;
        let task = core.current()?;
        let f = f.take().expect("called once");
        Some(core.contexts().with(task, f))
    });
    match in_task {
        Some(result) => result,
        None => THREAD_CONTEXT.with(|context| (f.take().expect("called once"))(&context.borrow())),
    }
}

/// Changes the current context with `f`; returns whose it was and `f`'s result.
fn update_current<R>(f: impl FnOnce(&mut Context) -> R) -> (Owner, R) {
    let mut f = Some(f);
    let in_task = with_core(|core| {
        let core = core?;
        let task = core.current()?;
        let f = f.take().expect("called once");
        Some((
            Owner(Some((core.id(), task))),
            core.contexts().update(task, f),
        ))
    });
    match in_task {
        Some(result) => result,
        None => THREAD_CONTEXT.with(|context| {
            let f = f.take().expect("called once");
            (Owner(None), f(&mut context.borrow_mut()))
        }),
    }
}

/// The current code's context, for `spawn_blocking` to carry.
#[cfg(feature = "blocking")]
pub(crate) fn current_context() -> Context {
    with_core(|core| {
        let core = core?;
        Some(core.contexts().of(core.current()?))
    })
    .unwrap_or_else(|| THREAD_CONTEXT.with(|context| context.borrow().clone()))
}
