//! The join handle's waker in one word, so that a parked task's cell fits a 48-byte
//! allocation (BENCHMARKS.md, "Memory per parked task").
//!
//! A `Waker` is two words: a data pointer and a vtable pointer. The vtable is one of very few
//! on a thread (weft's task waker, the main future's, a combinator's or two), and the data
//! pointer of nearly every waker is 8-byte aligned, leaving its low three bits free. So the
//! slot keeps the data pointer with a three-bit tag naming the vtable: tag 0 is weft's task
//! waker, tags 1 to 6 index a per-thread table of the other vtables seen (each entry written
//! once and never changed), and tag 7 marks a boxed `Waker` for anything else (an unaligned
//! or null data pointer, or a seventh vtable). A word of 0 is an empty slot.
//!
//! Rule 2 of the cell (see `raw`'s rules) makes this sound: the slot is only touched on the
//! runtime's thread, so a word is always decoded on the thread that encoded it, against the
//! same table.

use std::cell::Cell;
use std::mem::ManuallyDrop;
use std::task::{RawWaker, RawWakerVTable, Waker};

/// The tag of a boxed `Waker`.
const BOXED: usize = 7;
const TAG_MASK: usize = 7;
/// Vtables other than the task waker's that get a tag of their own, per thread.
const TABLE: usize = 6;

thread_local! {
    /// Tags 1 to 6: each entry is written once, the first time its vtable is seen, and then
    /// never changes, so a tag always decodes to the vtable it was encoded with.
    static VTABLES: [Cell<Option<&'static RawWakerVTable>>; TABLE] =
        const { [const { Cell::new(None) }; TABLE] };
}

/// The tag for `vtable`, if it has one (or gets one now).
fn tag_of(vtable: &'static RawWakerVTable) -> Option<usize> {
    if std::ptr::eq(vtable, super::task_waker_vtable()) {
        return Some(0);
    }
    VTABLES.with(|table| {
        for (i, entry) in table.iter().enumerate() {
            match entry.get() {
                Some(known) if std::ptr::eq(known, vtable) => return Some(i + 1),
                Some(_) => {}
                None => {
                    entry.set(Some(vtable));
                    return Some(i + 1);
                }
            }
        }
        None
    })
}

fn vtable_of(tag: usize) -> &'static RawWakerVTable {
    if tag == 0 {
        return super::task_waker_vtable();
    }
    VTABLES
        .with(|table| table[tag - 1].get())
        .expect("a tag is only decoded on the thread that gave it, where its entry is set")
}

/// Turns `waker` into one word (never 0), keeping its ownership.
pub(super) fn encode(waker: Waker) -> usize {
    let data = waker.data() as usize;
    if data != 0 && data & TAG_MASK == 0 {
        if let Some(tag) = tag_of(waker.vtable()) {
            // The word now owns what the waker owned.
            let _ = ManuallyDrop::new(waker);
            return data | tag;
        }
    }
    Box::into_raw(Box::new(waker)) as usize | BOXED
}

/// Takes the waker back out of a word from [`encode`].
///
/// # Safety
/// `word` came from `encode` on this thread and is decoded (taken) only once.
pub(super) unsafe fn decode(word: usize) -> Waker {
    let (ptr, tag) = (word & !TAG_MASK, word & TAG_MASK);
    if tag == BOXED {
        // SAFETY: rule 2: `encode` made this pointer with `Box::into_raw`, and this is the
        // one decode that takes it.
        return *unsafe { Box::from_raw(ptr as *mut Waker) };
    }
    // SAFETY: rule 2: `(ptr, vtable_of(tag))` is exactly the data and vtable of the waker
    // `encode` forgot, on this thread, where the tag's table entry has not changed; this
    // decode takes over what that waker owned.
    unsafe { Waker::from_raw(RawWaker::new(ptr as *const (), vtable_of(tag))) }
}

/// Looks at the waker in `word` without taking it.
///
/// # Safety
/// As for [`decode`], and the word stays in its slot (not decoded) while the result lives.
pub(super) unsafe fn peek(word: usize) -> ManuallyDrop<Waker> {
    // SAFETY: per this function's contract; `ManuallyDrop` keeps the slot's ownership.
    ManuallyDrop::new(unsafe { decode_shared(word) })
}

/// A `Waker` value sharing the word's ownership (never to be dropped).
///
/// # Safety
/// As for [`peek`].
unsafe fn decode_shared(word: usize) -> Waker {
    let (ptr, tag) = (word & !TAG_MASK, word & TAG_MASK);
    if tag == BOXED {
        // SAFETY: rule 2: the box is alive while the word is in its slot; the bitwise copy
        // is wrapped in `ManuallyDrop` by the caller, so ownership stays with the box.
        return unsafe { std::ptr::read(ptr as *const Waker) };
    }
    // SAFETY: as in `decode`; the caller never drops the result.
    unsafe { Waker::from_raw(RawWaker::new(ptr as *const (), vtable_of(tag))) }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake;

    use super::*;

    struct Counter(AtomicUsize);

    impl Wake for Counter {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn a_waker_survives_the_round_trip_and_keeps_its_reference() {
        let counter = Arc::new(Counter(AtomicUsize::new(0)));
        let word = encode(Waker::from(counter.clone()));
        assert_ne!(word, 0);
        assert_eq!(
            Arc::strong_count(&counter),
            2,
            "the word owns the waker's reference"
        );
        // SAFETY: encoded above on this thread; looked at, then taken once.
        assert!(unsafe { peek(word) }.will_wake(&Waker::from(counter.clone())));
        assert_eq!(Arc::strong_count(&counter), 2, "a peek takes nothing");
        // SAFETY: as above.
        unsafe { decode(word) }.wake();
        assert_eq!(counter.0.load(Ordering::SeqCst), 1);
        assert_eq!(
            Arc::strong_count(&counter),
            1,
            "waking consumed the reference"
        );
    }

    #[test]
    fn a_waker_with_an_unaligned_or_null_pointer_is_boxed() {
        static NOOP: RawWakerVTable =
            RawWakerVTable::new(|data| RawWaker::new(data, &NOOP), |_| {}, |_| {}, |_| {});
        for data in [0usize, 3] {
            // SAFETY: the vtable does nothing with the pointer.
            let waker = unsafe { Waker::from_raw(RawWaker::new(data as *const (), &NOOP)) };
            let word = encode(waker);
            assert_eq!(word & TAG_MASK, BOXED);
            // SAFETY: encoded above, taken once.
            let back = unsafe { decode(word) };
            assert_eq!(back.data() as usize, data);
        }
    }
}
