//! The task cell: one heap allocation per task holding its [`Header`] and its stage (the
//! future, later its output). Every raw pointer and every `unsafe` block of the task system is
//! in this module (this file and `joiner.rs`, the join waker's one-word slot); everything
//! outside it holds safe handles ([`TaskRef`], [`JoinRef`]) and `std::task::Waker`s.
//!
//! A parked task with a zero-sized future and a `()` output costs 64 bytes: a 40-byte cell
//! (a 48-byte glibc chunk) and its 16-byte entry in the runtime's owned-task table. What few
//! tasks have lives beside the cell (`beside.rs`: a name, a panic's payload), the join waker
//! is one word (`joiner.rs`), and the stage is a union whose tag is in the state word.
//!
//! # Rules (who may touch what)
//! 1. **The stage** (future or output) is read and written only on the runtime's thread: by the
//!    executor while the task is `RUNNING` or being cancelled, and by the task's `JoinHandle`
//!    (which is `!Send`, so it lives on that thread) only once `COMPLETE` is set, when the
//!    executor never touches the stage again. The stage is a union: the future while
//!    `COMPLETE` is clear, the output while `OUTPUT` is set, nothing otherwise. Only the
//!    executor's completion sets those flags, after writing the output.
//! 2. **The join waker** slot is touched only on the runtime's thread and never while a `&mut`
//!    to it is alive: by `JoinHandle::poll`/`drop`, by the executor at completion, and read by
//!    the deadlock proof and the task dump. It is one plain word, read and written whole;
//!    wakers are encoded before a write and dropped after it. Being on one thread is also
//!    what lets a word be decoded against the per-thread vtable table it was encoded with.
//! 3. **The state word** is the only field written by other threads (wakers set `SCHEDULED`
//!    and change the reference count). `id`, `runtime_id` and `owner_key` never change after
//!    allocation.
//! 4. **References.** Every `TaskRef`, `JoinRef` and `Waker` owns one reference. The cell is
//!    freed when the last one goes, which may happen on any thread. That is sound because of
//!    rule 5: by then the stage holds nothing that must stay on the runtime's thread.
//! 5. **The future and the output are dropped on the runtime's thread.** While the future is
//!    alive the runtime's owned-task list holds a reference, and it lets go only after the
//!    executor dropped the future. An output is dropped by the executor at completion (no
//!    `JoinHandle`) or by the `JoinHandle`, before each releases its reference; so is a
//!    panic's payload, and the task's name. Freeing the cell drops nothing but memory.
//! 6. **A cell's vtable knows its type.** The vtable is installed only by `allocate::<F>`, for
//!    the cell's own `F`, so a vtable function may cast the header pointer to `TaskCell<F>`
//!    (`repr(C)` puts the header first, at the same address), and a `JoinRef<T>` reads an
//!    output of the type `T` names.
//! 7. **A reference keeps the cell alive.** Whoever owns a reference (rule 4) may dereference
//!    the header for as long as it owns it. The cell is written in full before the first
//!    reference is handed out.
//! 8. **The future is pinned in its cell.** It is written into the heap cell once and dropped
//!    there in place; it never moves, so pinning it is sound.
//!
//! Every `unsafe` block below names the rules it relies on in its `// SAFETY:` comment. This is
//! the only module of weft allowed to contain `unsafe` (the crate denies `unsafe_code` and
//! allows it here alone).

mod beside;
mod joiner;
mod refs;
mod waker;

pub(crate) use refs::{JoinRef, Notified, TaskRef};
use waker::{borrowed_waker, task_waker_vtable};
pub(crate) use waker::{is_task_waker, task_waker_runtime, wake_into};

#[cfg(test)]
pub(crate) use beside::kept as kept_beside;

use std::any::Any;
use std::cell::UnsafeCell;
use std::future::Future;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::ptr::NonNull;
use std::rc::Rc;
use std::task::{Context, Poll};

use super::state::{Completion, EndAction, Snapshot, StartAction, State};
use super::{TaskFailure, TaskId};

/// The type-independent part of a task, at the start of every cell.
pub(crate) struct Header {
    state: State,
    vtable: &'static TaskVtable,
    id: TaskId,
    /// Which runtime owns the task, so a wake can find its run queue.
    runtime_id: u32,
    /// The task's key in its runtime's owned-task list.
    owner_key: u32,
    /// The waker of whoever awaits the `JoinHandle`, as one word (`joiner.rs`); 0 for none.
    joiner: UnsafeCell<usize>,
}

// ARCHITECTURE.md and BENCHMARKS.md's memory figures count on this size: with a zero-sized
// future and a `()` output the cell is the header alone, 40 bytes, a 48-byte glibc chunk. A
// change to the header should be a deliberate one.
#[cfg(target_pointer_width = "64")]
const _: () = assert!(std::mem::size_of::<Header>() == 40);

/// Functions that know the future's type, called through the header.
struct TaskVtable {
    /// Runs the task once (poll or cancel). Runtime thread only.
    run: unsafe fn(NonNull<Header>) -> RunOutcome,
    /// Drops the future without polling it (shutdown). Runtime thread only.
    cancel: unsafe fn(NonNull<Header>),
    /// Moves the output into `*mut Option<Result<T, TaskFailure>>`. Only once `COMPLETE`.
    take_output: unsafe fn(NonNull<Header>, *mut ()),
    /// Drops an output nobody will read. Only once `COMPLETE`.
    drop_output: unsafe fn(NonNull<Header>),
    /// Frees the cell. Only when the last reference is gone.
    dealloc: unsafe fn(NonNull<Header>),
}

/// The cell. `repr(C)` puts the header first, so a `NonNull<Header>` is also a pointer to the
/// whole cell.
#[repr(C)]
struct TaskCell<F: Future> {
    header: Header,
    stage: UnsafeCell<Stage<F>>,
}

/// The future while it runs, then its output until the `JoinHandle` takes it (rule 1 says
/// which, by the state word's flags). A union, not an enum, so that its tag costs no byte of
/// its own: for a zero-sized future with a `()` output it is empty.
union Stage<F: Future> {
    future: ManuallyDrop<F>,
    output: ManuallyDrop<F::Output>,
}

/// What one run of a task ended with; tells the executor what to do with its queue reference.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum RunOutcome {
    /// Waiting for a wake: drop the queue reference.
    Idle,
    /// Woken during its own poll: put the same reference back on the run queue.
    Requeue,
    /// The future is gone: remove the task from the owned-task list.
    Complete,
}

/// What the executor needs to know about a spawned task.
pub(crate) struct SpawnParts<T> {
    /// Reference for the runtime's owned-task list.
    pub(crate) owned: TaskRef,
    /// Reference for the run queue (a new task starts scheduled).
    pub(crate) queued: TaskRef,
    pub(crate) join: JoinRef<T>,
    /// The task's name, if it has one, for its `JoinHandle` to lend out.
    pub(crate) name: Option<Rc<String>>,
}

/// Identity and bookkeeping given to a new task.
pub(crate) struct TaskMeta {
    pub(crate) id: TaskId,
    pub(crate) runtime_id: u32,
    pub(crate) owner_key: u32,
    pub(crate) name: Option<String>,
}

/// The cell's address, which keys what is kept beside it.
fn addr_of(ptr: NonNull<Header>) -> usize {
    ptr.as_ptr() as usize
}

/// Allocates a task running `future`, with three references: owned list, run queue, handle.
pub(crate) fn allocate<F>(future: F, meta: TaskMeta) -> SpawnParts<F::Output>
where
    F: Future + 'static,
{
    let mut cell = Box::<TaskCell<F>>::new_uninit();
    let uninit = cell.as_mut_ptr();
    // SAFETY: rule 7: `uninit` points into the box's allocation, valid for writes of a whole
    // `TaskCell<F>`, and each field is written once. Writing the fields in place, instead of
    // moving a finished cell into the box, saves a copy of the future.
    unsafe {
        (&raw mut (*uninit).header).write(Header {
            state: State::new_spawned(3, meta.name.is_some()),
            vtable: vtable::<F>(),
            id: meta.id,
            runtime_id: meta.runtime_id,
            owner_key: meta.owner_key,
            joiner: UnsafeCell::new(0),
        });
        (&raw mut (*uninit).stage).write(UnsafeCell::new(Stage {
            future: ManuallyDrop::new(future),
        }));
    }
    // SAFETY: rule 7: both fields were written above.
    let cell = unsafe { cell.assume_init() };
    let ptr = NonNull::from(Box::leak(cell)).cast::<Header>();
    let name = meta.name.map(Rc::new);
    if let Some(name) = &name {
        beside::set_name(addr_of(ptr), name.clone());
    }
    SpawnParts {
        owned: TaskRef { ptr },
        queued: TaskRef { ptr },
        join: JoinRef {
            task: TaskRef { ptr },
            _output: PhantomData,
        },
        name,
    }
}

fn vtable<F: Future + 'static>() -> &'static TaskVtable {
    &TaskVtable {
        run: run::<F>,
        cancel: cancel::<F>,
        take_output: take_output::<F>,
        drop_output: drop_output::<F>,
        dealloc: dealloc::<F>,
    }
}

/// Borrows the cell behind a header pointer.
///
/// # Safety
/// `ptr` must come from [`allocate`] with future type `F`, and the cell must still be alive
/// (the caller owns a reference).
unsafe fn cell<'a, F: Future>(ptr: NonNull<Header>) -> &'a TaskCell<F> {
    // SAFETY: rule 6: per this function's contract the pointer is a live `TaskCell<F>`; `repr(C)`
    // makes the header pointer and the cell pointer the same address.
    unsafe { ptr.cast::<TaskCell<F>>().as_ref() }
}

unsafe fn run<F: Future>(ptr: NonNull<Header>) -> RunOutcome {
    // SAFETY: rules 6 and 7: the vtable for `F` is only installed by `allocate::<F>`; the executor calls
    // `run` through a `TaskRef` it owns, so the cell is alive.
    let cell = unsafe { cell::<F>(ptr) };
    if cell.header.state.start_run() == StartAction::Cancel {
        // SAFETY: rule 1: runtime thread, and the task is RUNNING: no one else touches the stage.
        unsafe { finish(cell, Err(TaskFailure::Cancelled)) };
        return RunOutcome::Complete;
    }
    let waker = ManuallyDrop::new(borrowed_waker(ptr));
    let mut cx = Context::from_waker(&waker);
    let polled = panic::catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: rule 1: the executor is the only one touching the stage while RUNNING, and
        // this is the only live reference into it.
        // A task is only run while its future is alive (COMPLETE clear), so that is the
        // stage's live member.
        let future = unsafe { &mut (*cell.stage.get()).future };
        // SAFETY: rule 8: the future is never moved: it stays inside the heap cell until it is
        // dropped in place by `finish` or `cancel`.
        unsafe { Pin::new_unchecked(&mut **future) }.poll(&mut cx)
    }));
    match polled {
        Ok(Poll::Pending) => match cell.header.state.end_run() {
            EndAction::Idle => RunOutcome::Idle,
            EndAction::Requeue => RunOutcome::Requeue,
            EndAction::Cancel => {
                // SAFETY: rule 1: as above: runtime thread, still RUNNING.
                unsafe { finish(cell, Err(TaskFailure::Cancelled)) };
                RunOutcome::Complete
            }
        },
        Ok(Poll::Ready(output)) => {
            // SAFETY: rule 1: as above.
            unsafe { finish(cell, Ok(output)) };
            RunOutcome::Complete
        }
        Err(payload) => {
            // SAFETY: rule 1: as above.
            unsafe { finish(cell, Err(TaskFailure::Panicked(Box::new(payload)))) };
            RunOutcome::Complete
        }
    }
}

unsafe fn cancel<F: Future>(ptr: NonNull<Header>) {
    // SAFETY: rules 6 and 7: installed only by `allocate::<F>`; the caller owns a reference.
    let cell = unsafe { cell::<F>(ptr) };
    // SAFETY: rule 1: shutdown runs on the runtime thread and never while the task is running.
    unsafe { finish(cell, Err(TaskFailure::Cancelled)) };
}

/// Drops the future, stores the result, marks the task complete and either wakes the joiner
/// or drops the result nobody can read.
///
/// # Safety
/// Runtime thread only, with no other access to the stage in progress (rule 1), and the
/// future still alive (COMPLETE clear).
unsafe fn finish<F: Future>(cell: &TaskCell<F>, mut result: Result<F::Output, TaskFailure>) {
    let stage = cell.stage.get();
    // SAFETY: rules 1 and 5: exclusive access per this function's contract, and the future is
    // the live member; this drops it in place, on the runtime thread (rule 5). A panic in its
    // destructor is reported like a panic in poll.
    let dropped = panic::catch_unwind(AssertUnwindSafe(|| unsafe {
        ManuallyDrop::drop(&mut (*stage).future)
    }));
    if let Err(payload) = dropped {
        if !matches!(result, Err(TaskFailure::Panicked(_))) {
            result = Err(TaskFailure::Panicked(Box::new(payload)));
        }
    }
    let (how, payload) = match result {
        Ok(output) => {
            // SAFETY: rule 1: exclusive access; the future's bytes are dead, so the output
            // takes its place (OUTPUT, set below, says so).
            unsafe { (&raw mut (*stage).output).write(ManuallyDrop::new(output)) };
            (Completion::Output, None)
        }
        Err(TaskFailure::Panicked(payload)) => (Completion::Panicked, Some(*payload)),
        Err(TaskFailure::Cancelled) => (Completion::Cancelled, None),
    };
    let header = &cell.header;
    let ptr = NonNull::from(header);
    let snapshot = header.state.complete(how);
    if snapshot.has_join_handle() {
        if let Some(payload) = payload {
            beside::keep_panic(addr_of(ptr), payload);
        }
        // SAFETY: rule 2: runtime thread; the slot is read and cleared whole.
        let word = unsafe { header.joiner.get().replace(0) };
        if word != 0 {
            // SAFETY: rule 2: the word was encoded on this thread by `poll_result` and is
            // taken once (the slot is now empty).
            unsafe { joiner::decode(word) }.wake();
        }
    } else {
        if payload.is_some() {
            super::report_unobserved_panic(
                header.id,
                name_of(ptr, snapshot).as_deref().map(String::as_str),
            );
        }
        drop_quietly(payload);
        // SAFETY: rule 5: COMPLETE is set and there is no JoinHandle to read the output.
        unsafe { discard_result::<F>(ptr) };
    }
}

/// Drops `value`, containing a panic of its destructor.
fn drop_quietly<T>(value: T) {
    if panic::catch_unwind(AssertUnwindSafe(|| drop(value))).is_err() {
        eprintln!("weft: a task's result panicked while being dropped; the panic was contained");
    }
}

/// The task's name, looked up beside the cell only if it has one.
fn name_of(ptr: NonNull<Header>, snapshot: Snapshot) -> Option<Rc<String>> {
    snapshot
        .is_named()
        .then(|| beside::name(addr_of(ptr)))
        .flatten()
}

/// Drops the result nobody will take (the output, a panic's payload) and the name: the
/// executor's completion of a task without a `JoinHandle`, or a `JoinHandle`'s drop.
///
/// # Safety
/// Runtime thread; COMPLETE is set and nobody else will touch the stage (rules 1 and 5).
unsafe fn discard_result<F: Future>(ptr: NonNull<Header>) {
    // SAFETY: rules 6 and 7: the caller's reference keeps the `TaskCell<F>` alive.
    let cell = unsafe { cell::<F>(ptr) };
    let before = cell.header.state.take_result();
    if before.has_output() {
        // SAFETY: rule 1: the output was there (OUTPUT without TAKEN), and `take_result` has
        // set TAKEN: nobody reads it again.
        let output = unsafe { ManuallyDrop::take(&mut (*cell.stage.get()).output) };
        drop_quietly(output);
    }
    if before.panicked() && !before.is_taken() {
        if let Some(payload) = beside::take_panic(addr_of(ptr)) {
            super::report_unobserved_panic(
                cell.header.id,
                name_of(ptr, before).as_deref().map(String::as_str),
            );
            drop_quietly(payload);
        }
    }
    if before.is_named() {
        beside::forget_name(addr_of(ptr));
    }
}

unsafe fn take_output<F: Future>(ptr: NonNull<Header>, dst: *mut ()) {
    // SAFETY: rules 6 and 7: installed only by `allocate::<F>`; the JoinRef owns a reference.
    let cell = unsafe { cell::<F>(ptr) };
    let before = cell.header.state.take_result();
    if before.is_taken() {
        panic!("a JoinHandle was polled again after it returned its task's result");
    }
    let result = if before.has_output() {
        // SAFETY: rule 1: COMPLETE is set (checked by the caller) so the executor is done
        // with the stage, the JoinRef is on the runtime thread, and OUTPUT without TAKEN says
        // the output is the live member; `take_result` set TAKEN, so it is read once.
        Ok(unsafe { ManuallyDrop::take(&mut (*cell.stage.get()).output) })
    } else if before.panicked() {
        let payload = beside::take_panic(addr_of(ptr))
            .unwrap_or_else(|| Box::new("(the panic's payload was lost as its thread exited)"));
        Err(TaskFailure::Panicked(Box::new(payload)))
    } else {
        Err(TaskFailure::Cancelled)
    };
    // SAFETY: rule 6: `JoinRef<F::Output>` passes a `*mut Option<Result<F::Output, TaskFailure>>`.
    unsafe { *dst.cast::<Option<Result<F::Output, TaskFailure>>>() = Some(result) };
}

unsafe fn drop_output<F: Future>(ptr: NonNull<Header>) {
    // SAFETY: rule 5: the JoinHandle, on the runtime thread, lets go of a complete task's
    // result before it releases its reference.
    unsafe { discard_result::<F>(ptr) };
}

unsafe fn dealloc<F: Future>(ptr: NonNull<Header>) {
    // SAFETY: rules 4 and 5: the last reference is gone, so nothing else points at the cell; it was made by
    // `Box::leak` in `allocate::<F>`. By rule 5 the stage holds nothing by now (the union
    // drops nothing anyway) and the join waker slot is empty.
    let cell = unsafe { Box::from_raw(ptr.cast::<TaskCell<F>>().as_ptr()) };
    debug_assert!({
        let state = cell.header.state.load();
        state.is_complete() && !state.has_output()
    });
    // SAFETY: rule 4: we own the box.
    debug_assert_eq!(unsafe { *cell.header.joiner.get() }, 0);
    drop(cell);
}

/// The panic payload of a failed task, if any, as readable text.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> &str {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s
    } else {
        "(non-string panic payload)"
    }
}
