//! What every waiting operation is built on: the FIFO list of waiters that `sync`, `queue`
//! and `channel` primitives keep, and the single waker slot of the one-waiter cases. Both tell
//! the runtime about the wakers they hold, and what each waits on, so the deadlock report can
//! prove that nothing is left to wake a task and the task dump can say what every task waits
//! for.

pub(crate) mod census;
mod resource;
mod wait_list;
mod waker_slot;

pub(crate) use resource::{Resource, WaitOn, set_tracking};
pub(crate) use wait_list::WaitList;
pub(crate) use waker_slot::WakerSlot;
