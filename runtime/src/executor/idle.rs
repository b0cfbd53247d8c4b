//! The tasks that wait for every other task to block (`wait_all_tasks_blocked`): the loop
//! wakes them when a turn ends with nothing ready after a look at the sockets.

use std::cell::{Cell, RefCell};
use std::task::Waker;

#[derive(Default)]
pub(crate) struct IdleWaiters {
    wakers: RefCell<Vec<Waker>>,
    /// How many times the waiters were woken, so each can tell its wake from others.
    rounds: Cell<u64>,
}

impl IdleWaiters {
    /// Registers `waker` to be woken once every task is blocked; returns the round to wait
    /// for (see [`IdleWaiters::round_passed`]).
    pub(crate) fn wait(&self, waker: &Waker) -> u64 {
        self.wakers.borrow_mut().push(waker.clone());
        self.rounds.get() + 1
    }

    /// Whether the waiters were woken for `round`.
    pub(crate) fn round_passed(&self, round: u64) -> bool {
        self.rounds.get() >= round
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.wakers.borrow().is_empty()
    }

    /// Every task is blocked: wakes the waiters.
    pub(crate) fn wake_all(&self) {
        self.rounds.set(self.rounds.get() + 1);
        for waker in self.take() {
            waker.wake();
        }
    }

    /// Forgets every waiter (shutdown).
    pub(crate) fn take(&self) -> Vec<Waker> {
        std::mem::take(&mut *self.wakers.borrow_mut())
    }
}
