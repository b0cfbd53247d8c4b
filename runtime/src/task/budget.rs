//! The cooperative budget: how many ready operations one poll of a task may perform.
//!
//! A task whose socket or channel is always ready would otherwise never return `Pending`, and
//! on one thread that starves every other task, timer and socket. Leaf futures call
//! [`poll_budget`] before doing work that is ready; when the poll's budget (128 by default, see
//! [`Builder::budget`](crate::runtime::Builder::budget)) is spent it wakes the task and returns
//! `Pending`, so the task goes to the back of the run queue. Outside a runtime the budget is
//! unlimited.

use std::cell::Cell;
use std::task::{Context, Poll};

thread_local! {
    static BUDGET: Cell<u32> = const { Cell::new(u32::MAX) };
}

/// Gives the current poll `n` operations (the executor calls this before each poll).
/// Inlined: once the executor's poll loop moved to a file of its own, the compiler stopped
/// inlining it, and the call cost each task poll 5 instructions (callgrind, yield).
#[inline(always)]
pub(crate) fn reset(n: u32) {
    BUDGET.with(|b| b.set(n));
}

/// Takes one unit of the current task's budget. `Pending` (after waking the task, so it runs
/// again soon) once the budget of this poll is spent.
///
/// Call it at the top of your own leaf future's `poll`, as weft's sockets do:
///
/// ```
/// use std::task::{Context, Poll};
/// fn poll_next_item(cx: &mut Context<'_>) -> Poll<u32> {
///     std::task::ready!(weft::task::poll_budget(cx));
///     Poll::Ready(7) // the work that was ready
/// }
/// # let _ = poll_next_item;
/// ```
#[inline]
pub fn poll_budget(cx: &mut Context<'_>) -> Poll<()> {
    BUDGET.with(|budget| {
        let left = budget.get();
        if left == 0 {
            cx.waker().wake_by_ref();
            Poll::Pending
        } else {
            budget.set(left - 1);
            Poll::Ready(())
        }
    })
}

/// Takes one unit of the budget, yielding first if it is spent: put it in a loop that does
/// CPU work between awaits on always-ready futures.
pub async fn consume_budget() {
    std::future::poll_fn(poll_budget).await
}
