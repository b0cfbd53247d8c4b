//! What every waiting operation is built on: the FIFO list of waiters that `sync`, `queue`
//! and `channel` primitives keep, and the single waker slot of the one-waiter cases. Both tell
//! the runtime about the wakers they hold, so the deadlock report can prove that nothing is
//! left to wake a task.

mod wait_list;
mod waker_slot;

pub(crate) use wait_list::WaitList;
pub(crate) use waker_slot::WakerSlot;
