//! The timer structure: a binary min-heap of deadlines with lazy cancellation.
//!
//! Each timer owns a slab slot (its waker, and the sequence number of its live heap entry); the
//! heap holds `(deadline, sequence, slot)`, ordered by deadline and then by arming order, so
//! timers with equal deadlines fire first-armed first. Sifting touches only the heap's own
//! contiguous array, never the slots, which keeps a heap of 100,000 timers cache-friendly.
//!
//! Cancelling (dropping a `Sleep`) or moving a timer only frees or renumbers its slot; its old
//! heap entry becomes a tombstone, recognised by its sequence number when it reaches the top.
//! Once tombstones outnumber live entries (and there are more than a few hundred), the heap is
//! rebuilt without them in O(n), so cancelled timers cost O(1) amortized and never pile up.
//!
//! A fired timer keeps its slot until its `Sleep` sees it or is dropped, so a slot key is never
//! reused while a `Sleep` still refers to it.

use std::cell::{Cell, RefCell};
use std::task::Waker;
use std::time::{Duration, Instant};

use slab::Slab;

/// A timer awaited outside the runtime that armed it: a misuse, told plainly.
#[cold]
#[inline(never)]
fn foreign_timer() -> ! {
    panic!(
        "a weft timer (sleep, timeout, interval) armed in one runtime was awaited in another, \
         or after its runtime ended, where it would never fire: create the timer inside the \
         `weft::run` (or `block_on`) that awaits it"
    )
}

/// Rebuild the heap once it holds more tombstones than this and than live entries.
const TOMBSTONE_SLACK: usize = 512;

pub(crate) struct TimerDriver {
    /// Deadlines are kept as nanoseconds since this instant.
    base: Instant,
    timers: RefCell<Timers>,
    /// Reused buffer for the wakers of one `fire_expired` call.
    expired: RefCell<Vec<(u64, Waker)>>,
    /// Whether the owning runtime's loop runs (see `Reactor::set_running`).
    running: Cell<bool>,
}

#[derive(Default)]
struct Timers {
    heap: Vec<HeapEntry>,
    slots: Slab<Slot>,
    next_seq: u64,
    tombstones: usize,
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
    /// The sequence number of this timer's live heap entry; `None` once it fired.
    armed: Option<u64>,
    /// Which timer holds the slot, told apart from later ones that reuse it: a `SendSleep`
    /// keeps only plain numbers, and checks this before it touches the slot.
    tag: u64,
}

impl TimerDriver {
    pub(crate) fn new() -> TimerDriver {
        TimerDriver {
            base: Instant::now(),
            timers: RefCell::new(Timers::default()),
            expired: RefCell::new(Vec::new()),
            running: Cell::new(false),
        }
    }

    fn ticks(&self, deadline: Instant) -> u64 {
        let since = deadline.saturating_duration_since(self.base);
        u64::try_from(since.as_nanos()).unwrap_or(u64::MAX)
    }

    /// Arms a timer; returns its key.
    pub(crate) fn insert(&self, deadline: Instant, waker: Waker) -> usize {
        self.insert_tagged(deadline, waker).0
    }

    /// Arms a timer; returns its key and the tag that tells it apart from later timers in
    /// the same slot.
    pub(crate) fn insert_tagged(&self, deadline: Instant, waker: Waker) -> (usize, u64) {
        let when = self.ticks(deadline);
        let mut timers = self.timers.borrow_mut();
        let tag = timers.next_seq;
        let slot = timers.slots.insert(Slot {
            waker: Some(waker),
            armed: None,
            tag,
        });
        timers.push(when, slot);
        (slot, tag)
    }

    /// Whether the slot `key` still holds the timer tagged `tag`.
    pub(crate) fn holds(&self, key: usize, tag: u64) -> bool {
        self.timers
            .borrow()
            .slots
            .get(key)
            .is_some_and(|slot| slot.tag == tag)
    }

    /// True if the timer fired; otherwise makes `waker` the one to wake.
    ///
    /// # Panics
    /// If the runtime that armed the timer is not running: the timer would never fire.
    pub(crate) fn poll_fired(&self, key: usize, waker: &Waker) -> bool {
        let mut timers = self.timers.borrow_mut();
        let slot = &mut timers.slots[key];
        if slot.armed.is_none() {
            return true;
        }
        if !self.running.get() {
            drop(timers);
            foreign_timer();
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

    /// Marks the owning runtime's loop as running (`true`) or not.
    pub(crate) fn set_running(&self, running: bool) {
        self.running.set(running);
    }

    /// Moves an armed or fired timer to a new deadline (it is armed afterwards).
    pub(crate) fn reset(&self, key: usize, deadline: Instant) {
        let when = self.ticks(deadline);
        let mut timers = self.timers.borrow_mut();
        if timers.slots[key].armed.is_some() {
            timers.tombstones += 1;
        }
        timers.push(when, key);
    }

    /// Cancels the timer and frees its slot.
    pub(crate) fn remove(&self, key: usize) {
        let mut timers = self.timers.borrow_mut();
        let slot = timers.slots.remove(key);
        if slot.armed.is_some() {
            timers.tombstones += 1;
            timers.compact_if_needed();
        }
        drop(timers);
        drop(slot);
    }

    /// Whether the heap holds nothing, not even a cancelled timer's entry.
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.timers.borrow().heap.is_empty()
    }

    /// How many timers are armed.
    #[inline]
    pub(crate) fn armed(&self) -> usize {
        let timers = self.timers.borrow();
        timers.heap.len() - timers.tombstones
    }

    /// The earliest armed deadline.
    #[inline]
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        let mut timers = self.timers.borrow_mut();
        if timers.heap.is_empty() {
            return None; // the loop asks every turn; a server between requests has no timer
        }
        timers.drop_tombstones_on_top();
        let when = timers.heap.first()?.when;
        Some(self.base + Duration::from_nanos(when))
    }

    /// How many armed timers hold a waker for one of `targets` (task or main future
    /// addresses, as in `HeldWakers`).
    pub(crate) fn count_waking(&self, targets: &std::collections::HashSet<usize>) -> usize {
        let timers = self.timers.borrow();
        timers
            .slots
            .iter()
            .filter(|(_, slot)| slot.armed.is_some())
            .filter_map(|(_, slot)| slot.waker.as_ref())
            .filter(|waker| targets.contains(&(waker.data() as usize)))
            .count()
    }

    /// Calls `f` with the target address of each armed timer's waker and its deadline.
    pub(crate) fn for_each_waiting(&self, mut f: impl FnMut(usize, Instant)) {
        let timers = self.timers.borrow();
        // Each live heap entry names its slot: no search per timer (which made a dump of
        // 100,000 sleeping tasks quadratic), and no table either.
        for entry in &timers.heap {
            if let Some(slot) = timers.slots.get(entry.slot) {
                if let (Some(waker), Some(seq)) = (&slot.waker, slot.armed) {
                    if seq == entry.seq {
                        f(
                            waker.data() as usize,
                            self.base + Duration::from_nanos(entry.when),
                        );
                    }
                }
            }
        }
    }

    /// Fires every timer whose deadline is not after `now`, earliest first (equal deadlines
    /// in arming order): calls `fire` with each one's deadline (in nanoseconds from the
    /// driver's start) and its waker, to wake.
    pub(crate) fn fire_expired(&self, now: Instant, mut fire: impl FnMut(u64, Waker)) {
        let now = self.ticks(now);
        let mut expired = self.expired.borrow_mut();
        {
            let mut timers = self.timers.borrow_mut();
            loop {
                timers.drop_tombstones_on_top();
                match timers.heap.first() {
                    Some(top) if top.when <= now => {}
                    _ => break,
                }
                let top = timers.pop();
                let slot = &mut timers.slots[top.slot];
                slot.armed = None;
                if let Some(waker) = slot.waker.take() {
                    expired.push((top.when, waker));
                }
            }
        }
        for (when, waker) in expired.drain(..) {
            fire(when, waker);
        }
    }
}

impl Timers {
    fn is_live(&self, entry: &HeapEntry) -> bool {
        self.slots
            .get(entry.slot)
            .is_some_and(|s| s.armed == Some(entry.seq))
    }

    fn push(&mut self, when: u64, slot: usize) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.slots[slot].armed = Some(seq);
        self.heap.push(HeapEntry { when, seq, slot });
        self.sift_up(self.heap.len() - 1);
    }

    fn pop(&mut self) -> HeapEntry {
        let top = self.heap.swap_remove(0);
        if !self.heap.is_empty() {
            self.sift_down(0);
        }
        top
    }

    fn drop_tombstones_on_top(&mut self) {
        while let Some(top) = self.heap.first() {
            if self.is_live(top) {
                return;
            }
            self.pop();
            self.tombstones -= 1;
        }
    }

    /// Rebuilds the heap without tombstones once they dominate it.
    fn compact_if_needed(&mut self) {
        if self.tombstones <= TOMBSTONE_SLACK || self.tombstones <= self.heap.len() / 2 {
            return;
        }
        let mut heap = std::mem::take(&mut self.heap);
        heap.retain(|entry| self.is_live(entry));
        self.heap = heap;
        self.tombstones = 0;
        for i in (0..self.heap.len() / 2).rev() {
            self.sift_down(i);
        }
    }

    fn sift_up(&mut self, mut position: usize) {
        let entry = self.heap[position];
        while position > 0 {
            let parent = (position - 1) / 2;
            if !entry.before(&self.heap[parent]) {
                break;
            }
            self.heap[position] = self.heap[parent];
            position = parent;
        }
        self.heap[position] = entry;
    }

    fn sift_down(&mut self, mut position: usize) {
        let entry = self.heap[position];
        let len = self.heap.len();
        loop {
            let left = 2 * position + 1;
            if left >= len {
                break;
            }
            let right = left + 1;
            let child = if right < len && self.heap[right].before(&self.heap[left]) {
                right
            } else {
                left
            };
            if !self.heap[child].before(&entry) {
                break;
            }
            self.heap[position] = self.heap[child];
            position = child;
        }
        self.heap[position] = entry;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::task::Waker;

    #[test]
    fn holds_a_million_timers_and_cancels_them() {
        let driver = TimerDriver::new();
        let base = Instant::now() + Duration::from_secs(60);
        let keys: Vec<_> = (0..1_000_000u64)
            .map(|i| {
                driver.insert(
                    base + Duration::from_micros(i % 1000),
                    Waker::noop().clone(),
                )
            })
            .collect();
        assert_eq!(driver.armed(), 1_000_000);
        assert_eq!(driver.next_deadline(), Some(base));
        for key in keys {
            driver.remove(key);
        }
        assert_eq!(driver.armed(), 0);
        assert_eq!(driver.next_deadline(), None);
    }

    #[test]
    fn many_cancelled_timers_are_compacted_away() {
        let driver = TimerDriver::new();
        let far = Instant::now() + Duration::from_secs(3600);
        let keys: Vec<_> = (0..10_000)
            .map(|_| driver.insert(far, Waker::noop().clone()))
            .collect();
        let keep = driver.insert(far, Waker::noop().clone());
        for key in keys {
            driver.remove(key);
        }
        assert_eq!(driver.armed(), 1);
        assert!(
            driver.timers.borrow().heap.len() < 2 * TOMBSTONE_SLACK,
            "tombstones were not purged"
        );
        driver.reset(keep, Instant::now());
        driver.fire_expired(Instant::now(), |_, waker| waker.wake());
        assert!(driver.poll_fired(keep, Waker::noop()));
        assert_eq!(driver.armed(), 0);
    }

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
            driver.fire_expired(deadline, |_, waker| waker.wake());
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
