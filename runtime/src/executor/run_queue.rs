//! The run queue: tasks ready to be polled, first woken first polled, and where the main
//! future's turn falls among them.
//!
//! The main future is not in the queue (it is not a task cell: it lives on `block_on`'s
//! stack), but it takes its turn as if it were: woken on the runtime's thread, it is due once
//! the tasks queued before that wake have been taken. The queue counts the tasks it has given
//! out, and a wake of the main future notes the count at which its turn comes.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;

use super::shuffle::Shuffle;
use crate::task::raw::TaskRef;

/// The queue's capacity when a runtime starts, and the least it shrinks back to.
const INITIAL_CAPACITY: usize = 256;

pub(crate) struct RunQueue {
    queue: RefCell<VecDeque<TaskRef>>,
    /// How many tasks have been taken off the queue, ever: the clock the main future's turn
    /// is told by.
    taken: Cell<u64>,
    /// Where the running batch of polls stops (a count of `taken`).
    batch_end: Cell<u64>,
    /// When the main future was woken on this thread and not yet polled, the count of `taken`
    /// at which its turn comes; `None`: due at once.
    main_turn: Cell<Option<u64>>,
    /// The count of `taken` at which every task queued at the loop's last look at the
    /// reactor has had its turn (see `round_done`).
    round_end: Cell<u64>,
}

impl RunQueue {
    pub(crate) fn new() -> RunQueue {
        RunQueue {
            queue: RefCell::new(VecDeque::with_capacity(INITIAL_CAPACITY)),
            taken: Cell::new(0),
            batch_end: Cell::new(0),
            main_turn: Cell::new(None),
            round_end: Cell::new(0),
        }
    }

    #[inline]
    pub(crate) fn push(&self, task: TaskRef) {
        self.queue.borrow_mut().push_back(task);
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.queue.borrow().is_empty()
    }

    /// Nothing queued, and the main future not waiting for its turn: a task woken now would
    /// be the next to run.
    #[inline(always)]
    pub(crate) fn is_idle(&self) -> bool {
        self.main_turn.get().is_none() && self.is_empty()
    }

    /// The loop has looked at the reactor and fired the timers: the round of turns it owes
    /// the tasks queued now starts. Out of line, as is `round_done`: each is called at most
    /// once a look, and inlined into the loop they made it big enough that a main future's
    /// own calls stopped being inlined into it (the queue's put and get benchmark: 31% more
    /// instructions, callgrind).
    #[inline(never)]
    pub(crate) fn start_round(&self) {
        let queued = self.queue.borrow().len() as u64;
        self.round_end.set(self.taken.get() + queued);
    }

    /// Whether every task queued at the last look has had its turn (asyncio's rule: a turn
    /// of its loop runs the callbacks that were ready when it began). An empty queue has no
    /// round under way, however it was emptied.
    #[inline(never)]
    pub(crate) fn round_done(&self) -> bool {
        self.taken.get() >= self.round_end.get() || self.is_empty()
    }

    /// Starts a batch of at most `max` polls; it also ends at the main future's turn.
    #[inline(always)]
    pub(crate) fn start_batch(&self, max: u32) -> u64 {
        let start = self.taken.get();
        let end = start + u64::from(max);
        self.batch_end
            .set(self.main_turn.get().map_or(end, |turn| turn.min(end)));
        start
    }

    /// The batch's next task: the FIFO front, or a seed's pick; `None` when the batch is over
    /// or the queue is empty. (A `None` shuffle, given as a constant, leaves no branch.)
    #[inline(always)]
    pub(crate) fn next_in_batch(&self, shuffle: Option<&Shuffle>) -> Option<TaskRef> {
        let taken = self.taken.get();
        if taken >= self.batch_end.get() {
            return None;
        }
        let mut queue = self.queue.borrow_mut();
        let task = match shuffle {
            None => queue.pop_front(),
            Some(shuffle) => shuffle.pop(&mut queue),
        }?;
        self.taken.set(taken + 1);
        Some(task)
    }

    /// How many tasks were taken since `start`.
    pub(crate) fn taken_since(&self, start: u64) -> u32 {
        (self.taken.get() - start) as u32
    }

    /// The main future was woken on this thread, and was not woken already: its turn comes
    /// after the tasks queued now, and a running batch stops there.
    pub(crate) fn queue_main(&self) {
        let turn = self.taken.get() + self.queue.borrow().len() as u64;
        self.main_turn.set(Some(turn));
        self.batch_end.set(self.batch_end.get().min(turn));
    }

    /// Whether the woken main future's turn has come; if so, it is taken.
    #[inline]
    pub(crate) fn take_main_turn(&self) -> bool {
        let due = self
            .main_turn
            .get()
            .is_none_or(|turn| self.taken.get() >= turn);
        if due {
            self.main_turn.set(None);
        }
        due
    }

    /// Forgets the main future's place (a `block_on` starts or ends).
    pub(crate) fn forget_main(&self) {
        self.main_turn.set(None);
    }

    /// Gives the queue's memory back after a burst: once fewer than a quarter of its slots
    /// are in use, it shrinks to twice what it holds (never below its initial size). Called
    /// before each look at the reactor, so a burst of a million wakes does not leave
    /// megabytes behind for the life of the runtime. Growing doubles and shrinking halves at
    /// most to twice the length, so a queue that hovers around one size does not reallocate
    /// back and forth.
    pub(crate) fn trim(&self) {
        let mut queue = self.queue.borrow_mut();
        if queue.capacity() > INITIAL_CAPACITY && queue.len() < queue.capacity() / 4 {
            let keep = (queue.len() * 2).max(INITIAL_CAPACITY);
            queue.shrink_to(keep);
        }
    }

    /// Empties the queue (shutdown).
    pub(crate) fn take_all(&self) -> VecDeque<TaskRef> {
        std::mem::take(&mut *self.queue.borrow_mut())
    }

    /// How many tasks have been taken off the queue, ever.
    #[cfg(test)]
    pub(crate) fn taken(&self) -> u64 {
        self.taken.get()
    }

    #[cfg(test)]
    pub(crate) fn capacity(&self) -> usize {
        self.queue.borrow().capacity()
    }

    #[cfg(test)]
    pub(crate) fn reserve_exact(&self, additional: usize) {
        self.queue.borrow_mut().reserve_exact(additional);
    }
}

#[cfg(test)]
mod tests {
    use crate::Runtime;

    #[test]
    fn the_run_queue_gives_its_memory_back_after_a_burst() {
        let rt = Runtime::new().unwrap();
        let executor = rt.executor().clone();
        rt.block_on(async move {
            let tasks: Vec<_> = (0..100_000).map(|_| crate::task::spawn(async {})).collect();
            let peak = executor.run_queue().capacity();
            assert!(peak >= 100_000, "all the spawned tasks are queued: {peak}");
            for task in tasks {
                task.await.unwrap();
            }
            let after = executor.run_queue().capacity();
            assert!(
                after <= 1024,
                "capacity {after} after the burst (peak {peak})"
            );
        });
    }

    #[test]
    fn a_queue_that_stays_busy_keeps_its_capacity() {
        let rt = Runtime::new().unwrap();
        let executor = rt.executor().clone();
        executor.run_queue().reserve_exact(8192);
        let capacity = executor.run_queue().capacity();
        // Half full is more than a quarter: trimming leaves it alone.
        let tasks: Vec<_> = (0..capacity / 2).map(|_| rt.spawn(async {})).collect();
        executor.run_queue().trim();
        assert_eq!(executor.run_queue().capacity(), capacity);
        rt.block_on(async move {
            for task in tasks {
                task.await.unwrap();
            }
        });
    }
}
