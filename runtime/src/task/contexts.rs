//! The contexts of context variables, as the runtime stores them: a task's context is an
//! `Rc` of an immutable map from variables to values, copied only when written while shared;
//! a runtime keeps the non-empty ones by task id; a thread outside any task has one of its
//! own. The API that reads and writes them is `ContextVar` (`context_var.rs`).

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;

use crate::task::TaskId;

/// A context variable's value: on this thread only, or shareable with `spawn_blocking`.
#[derive(Clone)]
pub(crate) enum Value {
    Local(Rc<dyn Any>),
    Shared(Arc<dyn Any + Send + Sync>),
}

impl Value {
    pub(crate) fn downcast<T: 'static>(&self) -> Option<&T> {
        match self {
            Value::Local(value) => value.downcast_ref(),
            Value::Shared(value) => value.downcast_ref(),
        }
    }
}

/// A task's context: variable → value, shared by `Rc` until someone writes to it.
#[derive(Clone, Default)]
pub(crate) struct Context {
    values: Option<Rc<HashMap<usize, Value>>>,
}

impl Context {
    pub(crate) fn get(&self, var: usize) -> Option<&Value> {
        self.values.as_ref()?.get(&var)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.values.as_ref().is_none_or(|values| values.is_empty())
    }

    /// Sets `var`, copying the map if another context shares it; returns the old value.
    pub(crate) fn insert(&mut self, var: usize, value: Value) -> Option<Value> {
        Rc::make_mut(self.values.get_or_insert_with(Rc::default)).insert(var, value)
    }

    pub(crate) fn remove(&mut self, var: usize) -> Option<Value> {
        Rc::make_mut(self.values.as_mut()?).remove(&var)
    }

    /// The values another thread may hold, for `spawn_blocking`.
    #[cfg(feature = "blocking")]
    pub(crate) fn sendable(&self) -> SendContext {
        let values = self.values.iter().flat_map(|values| values.iter());
        SendContext(
            values
                .filter_map(|(var, value)| match value {
                    Value::Shared(value) => Some((*var, value.clone())),
                    Value::Local(_) => None,
                })
                .collect(),
        )
    }
}

/// The `Send` part of a context, carried to a `spawn_blocking` thread.
#[cfg(feature = "blocking")]
pub(crate) struct SendContext(Vec<(usize, Arc<dyn Any + Send + Sync>)>);

#[cfg(feature = "blocking")]
impl SendContext {
    /// Runs `f` (on a worker thread) in this context.
    pub(crate) fn run<R>(self, f: impl FnOnce() -> R) -> R {
        let mut context = Context::default();
        for (var, value) in self.0 {
            context.insert(var, Value::Shared(value));
        }
        let previous = THREAD_CONTEXT.with(|current| current.replace(context));
        let _restore = RestoreThreadContext(Some(previous));
        f()
    }
}

#[cfg(feature = "blocking")]
struct RestoreThreadContext(Option<Context>);

#[cfg(feature = "blocking")]
impl Drop for RestoreThreadContext {
    fn drop(&mut self) {
        if let Some(previous) = self.0.take() {
            let _ = THREAD_CONTEXT.try_with(|current| current.replace(previous));
        }
    }
}

thread_local! {
    /// The context of code that runs outside any task (no runtime, or a blocking job).
    pub(crate) static THREAD_CONTEXT: RefCell<Context> = RefCell::default();
}

/// The contexts of one runtime's tasks: only the non-empty ones are kept.
#[derive(Default)]
pub(crate) struct Contexts {
    /// Whether any task has a context: the one load that `spawn` and task completion pay
    /// when no context variable is in use.
    in_use: Cell<bool>,
    by_task: RefCell<HashMap<TaskId, Context>>,
}

impl Contexts {
    /// Gives `child` a copy of `parent`'s context (O(1)), if it has one; with no parent (the
    /// main future, or a task spawned from outside any task) a copy of the thread's context,
    /// as `asyncio.run` and `loop.create_task` copy the caller's.
    #[inline(always)]
    pub(crate) fn inherit(&self, parent: Option<TaskId>, child: TaskId) {
        match parent {
            Some(_) if !self.in_use.get() => {}
            Some(_) => self.inherit_in_use(parent, child),
            None => self.inherit_thread(child),
        }
    }

    #[inline(never)]
    fn inherit_thread(&self, child: TaskId) {
        let context = THREAD_CONTEXT
            .try_with(|context| context.borrow().clone())
            .unwrap_or_default();
        if !context.is_empty() {
            self.by_task.borrow_mut().insert(child, context);
            self.in_use.set(true);
        }
    }

    #[inline(never)]
    fn inherit_in_use(&self, parent: Option<TaskId>, child: TaskId) {
        let mut by_task = self.by_task.borrow_mut();
        if let Some(context) = parent.and_then(|parent| by_task.get(&parent)).cloned() {
            by_task.insert(child, context);
        }
    }

    /// Forgets a finished task's context.
    #[inline(always)]
    pub(crate) fn forget(&self, task: TaskId) {
        if self.in_use.get() {
            self.forget_in_use(task);
        }
    }

    #[inline(never)]
    fn forget_in_use(&self, task: TaskId) {
        let mut by_task = self.by_task.borrow_mut();
        by_task.remove(&task);
        self.in_use.set(!by_task.is_empty());
    }

    /// The context of `task` (for `spawn_blocking`).
    #[cfg(feature = "blocking")]
    pub(crate) fn of(&self, task: TaskId) -> Context {
        self.by_task
            .borrow()
            .get(&task)
            .cloned()
            .unwrap_or_default()
    }

    /// The tasks whose value of `var` satisfies `matches`.
    pub(crate) fn tasks_where(
        &self,
        var: usize,
        mut matches: impl FnMut(&Value) -> bool,
    ) -> Vec<TaskId> {
        let by_task = self.by_task.borrow();
        let mut tasks: Vec<TaskId> = by_task
            .iter()
            .filter(|(_, context)| context.get(var).is_some_and(&mut matches))
            .map(|(&task, _)| task)
            .collect();
        // In spawn order, whatever the map's: what happens next must not depend on hashing.
        tasks.sort_unstable();
        tasks
    }

    pub(crate) fn with<R>(&self, task: TaskId, f: impl FnOnce(&Context) -> R) -> R {
        let by_task = self.by_task.borrow();
        match by_task.get(&task) {
            Some(context) => f(context),
            None => f(&Context::default()),
        }
    }

    pub(crate) fn update<R>(&self, task: TaskId, f: impl FnOnce(&mut Context) -> R) -> R {
        let mut by_task = self.by_task.borrow_mut();
        let context = by_task.entry(task).or_default();
        let result = f(context);
        if context.is_empty() {
            by_task.remove(&task);
        }
        self.in_use.set(!by_task.is_empty());
        result
    }
}
