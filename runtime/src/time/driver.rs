//! The timer structure: an indexed binary min-heap of deadlines.
//!
//! Each armed timer owns a slab slot (its waker and its position in the heap); the heap holds
//! `(deadline, sequence, slot)` ordered by deadline, then by arming order, so timers with equal
//! deadlines fire first-armed first. Because every slot knows its heap position, cancelling
//! (dropping a `Sleep`) removes its entry in O(log n) instead of leaving a tombstone behind, so
//! a million armed-then-cancelled timers leave nothing behind.
//!
//! A fired timer keeps its slot (marked `FIRED`) until its `Sleep` sees it or is dropped, so a
//! slot key is never reused while a `Sleep` still refers to it.

use std::cell::RefCell;
use std::task::Waker;
use std::time::{Duration, Instant};

use slab::Slab;

/// `Slot::position` of a timer that is no longer in the heap.
const FIRED: usize = usize::MAX;

pub(crate) struct TimerDriver {
    /// Deadlines are kept as nanoseconds since this instant.
    base: Instant,
    timers: RefCell<Timers>,
    /// Reused buffer for the wakers of one `fire_expired` call.
    expired: RefCell<Vec<Waker>>,
}

#[derive(Default)]
struct Timers {
    heap: Vec<HeapEntry>,
    slots: Slab<Slot>,
    next_seq: u64,
}

#[derive(Clone, Copy)]
struct HeapEntry {
    when: u64,
    seq: u64,
    slot: usize,
}

impl HeapEntry {
    fn before(&self, other: &HeapEntry) -> bool {
        (self.when, self.seq) < (other.when, other.seq)
    }
}

struct Slot {
    waker: Option<Waker>,
    position: usize,
}

impl TimerDriver {
    pub(crate) fn new() -> TimerDriver {
        TimerDriver {
            base: Instant::now(),
            timers: RefCell::new(Timers::default()),
            expired: RefCell::new(Vec::new()),
        }
    }

    fn ticks(&self, deadline: Instant) -> u64 {
        let since = deadline.saturating_duration_since(self.base);
        u64::try_from(since.as_nanos()).unwrap_or(u64::MAX)
    }

    /// Arms a timer; returns its key.
    pub(crate) fn insert(&self, deadline: Instant, waker: Waker) -> usize {
        let when = self.ticks(deadline);
        let mut timers = self.timers.borrow_mut();
        let slot = timers.slots.insert(Slot {
            waker: Some(waker),
            position: FIRED,
        });
        timers.push(when, slot);
        slot
    }

    /// True if the timer fired; otherwise makes `waker` the one to wake.
    pub(crate) fn poll_fired(&self, key: usize, waker: &Waker) -> bool {
        let mut timers = self.timers.borrow_mut();
        let slot = &mut timers.slots[key];
        if slot.position == FIRED {
            return true;
        }
        match &slot.waker {
            Some(current) if current.will_wake(waker) => {}
            _ => {
                let old = slot.waker.replace(waker.clone());
                drop(timers);
                drop(old);
            }
        }
        false
    }

    /// Moves an armed or fired timer to a new deadline (it is armed afterwards).
    pub(crate) fn reset(&self, key: usize, deadline: Instant) {
        let when = self.ticks(deadline);
        let mut timers = self.timers.borrow_mut();
        let position = timers.slots[key].position;
        if position != FIRED {
            timers.remove_at(position);
        }
        timers.push(when, key);
    }

    /// Cancels the timer and frees its slot.
    pub(crate) fn remove(&self, key: usize) {
        let mut timers = self.timers.borrow_mut();
        let position = timers.slots[key].position;
        if position != FIRED {
            timers.remove_at(position);
        }
        let slot = timers.slots.remove(key);
        drop(timers);
        drop(slot);
    }

    /// How many timers are armed.
    pub(crate) fn armed(&self) -> usize {
        self.timers.borrow().heap.len()
    }

    /// The earliest armed deadline.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        let timers = self.timers.borrow();
        let when = timers.heap.first()?.when;
        Some(self.base + Duration::from_nanos(when))
    }

    /// Fires every timer whose deadline is not after `now`, earliest first.
    pub(crate) fn fire_expired(&self, now: Instant) {
        let now = self.ticks(now);
        let mut expired = self.expired.borrow_mut();
        {
            let mut timers = self.timers.borrow_mut();
            while let Some(top) = timers.heap.first().copied() {
                if top.when > now {
                    break;
                }
                timers.remove_at(0);
                if let Some(waker) = timers.slots[top.slot].waker.take() {
                    expired.push(waker);
                }
            }
        }
        for waker in expired.drain(..) {
            waker.wake();
        }
    }
}

impl Timers {
    fn push(&mut self, when: u64, slot: usize) {
        let seq = self.next_seq;
        self.next_seq += 1;
        let position = self.heap.len();
        self.heap.push(HeapEntry { when, seq, slot });
        self.slots[slot].position = position;
        self.sift_up(position);
    }

    /// Removes the entry at `position`, marking its slot `FIRED`.
    fn remove_at(&mut self, position: usize) {
        let removed = self.heap.swap_remove(position);
        self.slots[removed.slot].position = FIRED;
        if position < self.heap.len() {
            self.slots[self.heap[position].slot].position = position;
            let moved = self.sift_up(position);
            self.sift_down(moved);
        }
    }

    fn swap(&mut self, a: usize, b: usize) {
        self.heap.swap(a, b);
        self.slots[self.heap[a].slot].position = a;
        self.slots[self.heap[b].slot].position = b;
    }

    /// Returns the entry's final position.
    fn sift_up(&mut self, mut position: usize) -> usize {
        while position > 0 {
            let parent = (position - 1) / 2;
            if !self.heap[position].before(&self.heap[parent]) {
                break;
            }
            self.swap(position, parent);
            position = parent;
        }
        position
    }

    fn sift_down(&mut self, mut position: usize) {
        loop {
            let left = 2 * position + 1;
            if left >= self.heap.len() {
                return;
            }
            let right = left + 1;
            let child = if right < self.heap.len() && self.heap[right].before(&self.heap[left]) {
                right
            } else {
                left
            };
            if !self.heap[child].before(&self.heap[position]) {
                return;
            }
            self.swap(position, child);
            position = child;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::task::Waker;

    #[test]
    fn fires_in_deadline_order_and_cancel_removes() {
        let driver = TimerDriver::new();
        let base = Instant::now();
        let mut keys = Vec::new();
        // A scrambled order of deadlines 0..200 ms.
        for i in 0..200u64 {
            let ms = (i * 37) % 200;
            keys.push((
                ms,
                driver.insert(base + Duration::from_millis(ms), Waker::noop().clone()),
            ));
        }
        for &(ms, key) in &keys {
            if ms % 3 == 0 {
                driver.remove(key);
            }
        }
        let mut last = 0;
        let mut fired = 0;
        while let Some(deadline) = driver.next_deadline() {
            assert!(deadline >= base + Duration::from_millis(last));
            last = deadline.duration_since(base).as_millis() as u64;
            driver.fire_expired(deadline);
            fired += 1;
        }
        assert_eq!(
            fired,
            200 - keys.iter().filter(|(ms, _)| ms % 3 == 0).count()
        );
        for &(ms, key) in &keys {
            if ms % 3 != 0 {
                assert!(driver.poll_fired(key, Waker::noop()));
            }
        }
    }
}
