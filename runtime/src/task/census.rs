//! What the task cell tells of who refers to a task, for the deadlock proof, the task dump
//! and debug mode (`TaskRef::waker_census`): plain data, kept out of the cell's file.

/// Who refers to a task, beyond the owned-task table and its `JoinHandle`.
pub(crate) struct WakerCensus {
    /// References beyond those two: wakers, run-queue entries.
    pub(crate) other_refs: usize,
    /// Whoever awaits the task's `JoinHandle`, if anyone does.
    pub(crate) joiner: Option<Joiner>,
}

/// The waker of a task's awaiter, as the census sees it.
pub(crate) struct Joiner {
    /// What the waker points at (a task header, the main future's waker), compared only.
    pub(crate) address: usize,
    /// Whether it is one of the runtime's own wakers.
    pub(crate) local: bool,
}
