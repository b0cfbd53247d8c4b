//! Seeded scheduling: a seeded runtime runs the tasks woken in the same round in a shuffled
//! order, so a test swept over many seeds meets the orders a program may not rely on, and one
//! seed replays one order exactly.
//!
//! A *round* is what the run queue holds when the previous round has been run: the tasks
//! woken (or spawned) while it ran. At the start of each round the queue is permuted. The
//! permutation keeps the orders weft documents between tasks woken together: tasks woken by
//! timers with the same deadline run in the order the timers were armed, and the waiters one
//! primitive wakes run in the order it woke them, first come first served (a `Queue` wakes
//! its getters in order and each takes the next item as it runs, so their run order is who
//! gets what).
//!
//! Tasks that must keep their relative order share a nonzero *group*; the permutation is a
//! random interleaving of the groups' sequences and the ungrouped tasks.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};

/// The seeded runtime's scheduling state.
pub(crate) struct Shuffle {
    seed: u64,
    rng: Cell<u64>,
    /// The group of each queued task, in queue order.
    groups: RefCell<VecDeque<u64>>,
    /// How many tasks of the current round are still queued.
    round_left: Cell<usize>,
    /// The group of the wakes happening now (0: none).
    waking_group: Cell<u64>,
}

impl Shuffle {
    pub(crate) fn new(seed: u64) -> Shuffle {
        Shuffle {
            seed,
            rng: Cell::new(seed),
            groups: RefCell::default(),
            round_left: Cell::new(0),
            waking_group: Cell::new(0),
        }
    }

    pub(crate) fn seed(&self) -> u64 {
        self.seed
    }

    /// A task joins the back of the run queue.
    pub(crate) fn pushed(&self) {
        self.groups.borrow_mut().push_back(self.waking_group.get());
    }

    /// Runs `wake` with its wakes in group `group` (nonzero).
    pub(crate) fn in_group(&self, group: u64, wake: impl FnOnce()) {
        let outer = self.waking_group.replace(group);
        wake();
        self.waking_group.set(outer);
    }

    /// Takes the next task: the front of the queue, after permuting a new round.
    pub(crate) fn pop<T>(&self, queue: &mut VecDeque<T>) -> Option<T> {
        if self.round_left.get() == 0 {
            self.permute(queue);
            self.round_left.set(queue.len());
        }
        let task = queue.pop_front()?;
        self.groups.borrow_mut().pop_front();
        self.round_left.set(self.round_left.get() - 1);
        Some(task)
    }

    /// Forgets the queue (the runtime dropped it).
    pub(crate) fn clear(&self) {
        self.groups.borrow_mut().clear();
        self.round_left.set(0);
    }

    fn permute<T>(&self, queue: &mut VecDeque<T>) {
        let mut groups = self.groups.borrow_mut();
        debug_assert_eq!(groups.len(), queue.len());
        if queue.len() < 2 {
            return;
        }
        // Chains of queue positions that must stay in order: one per group, one per
        // ungrouped task.
        let mut chains: Vec<VecDeque<usize>> = Vec::new();
        let mut chain_of_group: HashMap<u64, usize> = HashMap::new();
        for (position, &group) in groups.iter().enumerate() {
            if group == 0 {
                chains.push(VecDeque::from([position]));
            } else {
                let chain = *chain_of_group.entry(group).or_insert_with(|| {
                    chains.push(VecDeque::new());
                    chains.len() - 1
                });
                chains[chain].push_back(position);
            }
        }
        let mut order = Vec::with_capacity(queue.len());
        while !chains.is_empty() {
            let pick = self.below(chains.len());
            let chain = &mut chains[pick];
            order.push(chain.pop_front().expect("chains are never empty"));
            if chain.is_empty() {
                chains.swap_remove(pick);
            }
        }
        let mut tasks: Vec<Option<T>> = queue.drain(..).map(Some).collect();
        let old_groups: Vec<u64> = groups.drain(..).collect();
        for position in order {
            queue.push_back(tasks[position].take().expect("each position once"));
            groups.push_back(old_groups[position]);
        }
    }

    /// A uniform random number below `n` (splitmix64; Lemire's reduction, its tiny bias is
    /// harmless here).
    fn below(&self, n: usize) -> usize {
        let mut z = self.rng.get().wrapping_add(0x9e37_79b9_7f4a_7c15);
        self.rng.set(z);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        ((u128::from(z) * n as u128) >> 64) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round(seed: u64, groups: &[u64]) -> Vec<usize> {
        let shuffle = Shuffle::new(seed);
        let mut queue = VecDeque::new();
        for (task, &group) in groups.iter().enumerate() {
            shuffle.in_group(group, || shuffle.pushed());
            queue.push_back(task);
        }
        std::iter::from_fn(|| shuffle.pop(&mut queue)).collect()
    }

    #[test]
    fn a_seed_gives_one_order_and_seeds_give_many() {
        let ungrouped = [0; 8];
        assert_eq!(round(7, &ungrouped), round(7, &ungrouped));
        let orders: std::collections::HashSet<_> =
            (0..50).map(|seed| round(seed, &ungrouped)).collect();
        assert!(orders.len() > 40, "{} distinct orders of 50", orders.len());
        let mut sorted = round(3, &ungrouped);
        sorted.sort();
        assert_eq!(sorted, (0..8).collect::<Vec<_>>());
    }

    #[test]
    fn a_group_keeps_its_order_among_the_others() {
        // Tasks 1, 3, 5 were woken by timers of one deadline; 2 and 4 by another.
        let groups = [0, 9, 4, 9, 4, 9, 0];
        for seed in 0..200 {
            let order = round(seed, &groups);
            let at = |task| order.iter().position(|&t| t == task).unwrap();
            assert!(at(1) < at(3) && at(3) < at(5), "seed {seed}: {order:?}");
            assert!(at(2) < at(4), "seed {seed}: {order:?}");
        }
    }
}
