//! The task waker: its data pointer is the task's header, and each `Waker` owns one
//! reference. Part of the cell: its rules are at the top of `raw/mod.rs`.

use std::mem::ManuallyDrop;
use std::ptr::NonNull;
use std::task::{RawWaker, RawWakerVTable, Waker};

use super::{Header, TaskRef};
use crate::task::state::WakeAction;

static WAKER_VTABLE: RawWakerVTable =
    RawWakerVTable::new(waker_clone, waker_wake, waker_wake_by_ref, waker_drop);

/// The task waker's vtable, for the join waker slot's encoding.
pub(super) fn task_waker_vtable() -> &'static RawWakerVTable {
    &WAKER_VTABLE
}

/// Whether `waker` is a weft task waker (used by deadlock detection).
pub(crate) fn is_task_waker(waker: &Waker) -> bool {
    std::ptr::eq(waker.vtable(), &WAKER_VTABLE)
}

/// The runtime of the task `waker` wakes, if it is a weft task waker.
pub(crate) fn task_waker_runtime(waker: &Waker) -> Option<u32> {
    if !is_task_waker(waker) {
        return None;
    }
    // SAFETY: rules 3, 4 and 7: a waker with our vtable was made by `borrowed_waker` or `waker_clone`, so its data
    // pointer is a task header, alive because the waker owns (or borrows) a reference (rule 4);
    // `runtime_id` never changes after allocation (rule 3).
    Some(unsafe { header_ptr(waker.data()).as_ref() }.runtime_id)
}

/// A waker for a poll, borrowing the executor's reference (wrap it in `ManuallyDrop`).
pub(super) fn borrowed_waker(ptr: NonNull<Header>) -> Waker {
    // SAFETY: rules 3 and 4: the vtable functions below uphold the `RawWaker` contract: clone takes a
    // reference, drop releases one, and all of them are thread-safe (atomic state only).
    unsafe { Waker::from_raw(RawWaker::new(ptr.as_ptr() as *const (), &WAKER_VTABLE)) }
}

/// Wakes `waker`. A task of runtime `runtime_id` that this makes ready goes to `push`,
/// instead of through `schedule`'s look-up of the thread's runtime: the reactor and the
/// timers know whose they are. (That look-up was 54 instructions of an echo round trip's 674,
/// callgrind.)
#[inline]
pub(crate) fn wake_into(waker: Waker, runtime_id: u32, push: impl FnOnce(TaskRef)) {
    if !is_task_waker(&waker) {
        return waker.wake();
    }
    // The waker's own reference becomes this TaskRef.
    let task = TaskRef {
        ptr: header_ptr(ManuallyDrop::new(waker).data()),
    };
    if task.header().state.wake_by_val() == WakeAction::Push {
        if task.runtime_id() == runtime_id {
            push(task);
        } else {
            crate::executor::schedule(task);
        }
    }
}

fn header_ptr(data: *const ()) -> NonNull<Header> {
    NonNull::new(data as *mut Header).expect("a task waker never has a null pointer")
}

unsafe fn waker_clone(data: *const ()) -> RawWaker {
    let ptr = header_ptr(data);
    // SAFETY: rule 7: the waker being cloned owns (or borrows) a live reference.
    unsafe { ptr.as_ref() }.state.ref_inc();
    RawWaker::new(data, &WAKER_VTABLE)
}

unsafe fn waker_wake(data: *const ()) {
    // The waker's own reference becomes this TaskRef.
    let task = TaskRef {
        ptr: header_ptr(data),
    };
    if task.header().state.wake_by_val() == WakeAction::Push {
        crate::executor::schedule(task);
    }
}

unsafe fn waker_wake_by_ref(data: *const ()) {
    let ptr = header_ptr(data);
    // SAFETY: rule 7: the waker owns a live reference for the duration of this call.
    if unsafe { ptr.as_ref() }.state.wake_by_ref() == WakeAction::Push {
        // `wake_by_ref` took a reference for the queue entry.
        crate::executor::schedule(TaskRef { ptr });
    }
}

unsafe fn waker_drop(data: *const ()) {
    drop(TaskRef {
        ptr: header_ptr(data),
    });
}
