//! Tasks held back from polling: `ContextVar::pause_tasks` names them by their value of a
//! context variable, and until it is resumed each of them that comes up in the run queue is
//! set aside with its queue entry instead of being polled, as a stopped process's threads
//! are (its timers come due and its sockets fill, and it does nothing about them). On resume
//! they go back to the queue in the order they were set aside.
//!
//! Paid only when used: while any pause is in force the loop takes its slow path
//! (`Executor::extras`), which asks here before each poll; otherwise nothing is asked.

use std::cell::{Cell, RefCell};

use super::Executor;
use crate::task::contexts::{Contexts, Value};
use crate::task::raw::TaskRef;

/// Which tasks one pause holds, and the ones it has set aside.
struct Rule {
    id: u64,
    var: usize,
    matches: Box<dyn Fn(&Value) -> bool>,
    parked: Vec<TaskRef>,
}

#[derive(Default)]
pub(crate) struct Paused {
    rules: RefCell<Vec<Rule>>,
    next: Cell<u64>,
}

impl Paused {
    pub(crate) fn any(&self) -> bool {
        !self.rules.borrow().is_empty()
    }

    /// Sets `task` aside if a pause holds it; else gives it back to be polled.
    pub(crate) fn park(&self, task: TaskRef, contexts: &Contexts) -> Option<TaskRef> {
        let mut rules = self.rules.borrow_mut();
        if rules.is_empty() {
            return Some(task);
        }
        let held = contexts.with(task.id(), |context| {
            rules
                .iter()
                .position(|rule| context.get(rule.var).is_some_and(|v| (rule.matches)(v)))
        });
        match held {
            Some(rule) => {
                rules[rule].parked.push(task);
                None
            }
            None => Some(task),
        }
    }
}

impl Executor {
    /// Holds back the tasks whose value of the variable `var` satisfies `matches`; returns
    /// the pause's number for [`resume_tasks`](Executor::resume_tasks).
    pub(crate) fn pause_tasks(&self, var: usize, matches: Box<dyn Fn(&Value) -> bool>) -> u64 {
        let id = self.paused.next.get() + 1;
        self.paused.next.set(id);
        self.paused.rules.borrow_mut().push(Rule {
            id,
            var,
            matches,
            parked: Vec::new(),
        });
        self.recheck_extras();
        id
    }

    /// Ends pause `id`: what it set aside is queued again, in order.
    pub(crate) fn resume_tasks(&self, id: u64) {
        let rule = {
            let mut rules = self.paused.rules.borrow_mut();
            let Some(at) = rules.iter().position(|rule| rule.id == id) else {
                return;
            };
            rules.remove(at)
        };
        self.recheck_extras();
        for task in rule.parked {
            self.push(task);
        }
    }
}
