//! `WaitList`: the queue of waiting futures behind every primitive in `weft::sync`,
//! `weft::queue` and `weft::channel`.
//!
//! Waiters are kept in arrival order (a doubly linked list threaded through a slab, so a
//! cancelled waiter leaves in O(1)). A primitive *notifies* waiters from the front: it marks
//! them and wakes them; the waiter's future sees the mark on its next poll and completes. A
//! waiter that is dropped after it was notified but before it ran reports that back through
//! [`WaitList::remove`], so the primitive can pass what it was given to the next waiter — this
//! is how every weft primitive stays consistent under cancellation.

use std::task::{Poll, Waker};

use slab::Slab;

use super::waker_slot::WakerSlot;
use super::{Resource, WaitOn};

struct Node<M> {
    waker: WakerSlot,
    prev: Option<usize>,
    next: Option<usize>,
    notified: bool,
    data: M,
}

/// A FIFO of waiters, each carrying a value `M` (how many permits it needs, say), all waiting
/// for one operation on one resource (`what`).
pub(crate) struct WaitList<M = ()> {
    nodes: Slab<Node<M>>,
    head: Option<usize>,
    tail: Option<usize>,
    notified: usize,
    what: WaitOn,
}

impl<M> WaitList<M> {
    /// An empty list of waiters for `op` on `resource` ("put" on a queue).
    pub(crate) fn new(resource: &std::rc::Rc<Resource>, op: &'static str) -> Self {
        WaitList {
            nodes: Slab::new(),
            head: None,
            tail: None,
            notified: 0,
            what: WaitOn::new(resource, op),
        }
    }

    /// Adds a waiter at the back; returns its key.
    pub(crate) fn push(&mut self, waker: Option<&Waker>, data: M) -> usize {
        let key = self.nodes.insert(Node {
            waker: WakerSlot::new(waker, &self.what),
            prev: self.tail,
            next: None,
            notified: false,
            data,
        });
        match self.tail {
            Some(tail) => self.nodes[tail].next = Some(key),
            None => self.head = Some(key),
        }
        self.tail = Some(key);
        key
    }

    /// Remembers the waker to wake for `key` (cloning only if it changed).
    pub(crate) fn set_waker(&mut self, key: usize, waker: &Waker) {
        self.nodes[key].waker.set(waker, &self.what);
    }

    pub(crate) fn is_notified(&self, key: usize) -> bool {
        self.nodes[key].notified
    }

    /// The poll of a waiter's future, whose key is in `key`: once notified, the waiter leaves
    /// the list, `*key` becomes `None` (the future is done with the list) and its value comes
    /// back; until then `waker` is the one to wake.
    pub(crate) fn poll_notified(&mut self, key: &mut Option<usize>, waker: &Waker) -> Poll<M> {
        let queued = key.expect("a waiter polled while in the list");
        if self.nodes[queued].notified {
            *key = None;
            Poll::Ready(self.remove(queued).1)
        } else {
            self.set_waker(queued, waker);
            Poll::Pending
        }
    }

    /// Removes a waiter; returns whether it had been notified, and its value.
    pub(crate) fn remove(&mut self, key: usize) -> (bool, M) {
        let node = self.nodes.remove(key);
        match node.prev {
            Some(prev) => self.nodes[prev].next = node.next,
            None => self.head = node.next,
        }
        match node.next {
            Some(next) => self.nodes[next].prev = node.prev,
            None => self.tail = node.prev,
        }
        if node.notified {
            self.notified -= 1;
        }
        (node.notified, node.data)
    }

    /// The first waiter that was not notified yet, with its value.
    pub(crate) fn first_waiting(&self) -> Option<(usize, &M)> {
        let mut cursor = self.head;
        while let Some(key) = cursor {
            let node = &self.nodes[key];
            if !node.notified {
                return Some((key, &node.data));
            }
            cursor = node.next;
        }
        None
    }

    /// Marks `key` notified and wakes it.
    pub(crate) fn notify(&mut self, key: usize) {
        let node = &mut self.nodes[key];
        if !node.notified {
            node.notified = true;
            self.notified += 1;
            node.waker.wake();
        }
    }

    /// Notifies the first waiting waiter, if any; true if there was one.
    pub(crate) fn notify_one(&mut self) -> bool {
        self.notify_one_with(|_| {})
    }

    /// Notifies the first waiting waiter, if any, first letting `f` update its value; true if
    /// there was one.
    pub(crate) fn notify_one_with(&mut self, f: impl FnOnce(&mut M)) -> bool {
        match self.first_waiting() {
            Some((key, _)) => {
                f(&mut self.nodes[key].data);
                self.notify(key);
                true
            }
            None => false,
        }
    }

    /// Notifies every waiting waiter, first letting `f` update each one's value.
    pub(crate) fn notify_all_with(&mut self, mut f: impl FnMut(&mut M)) {
        let mut cursor = self.head;
        while let Some(key) = cursor {
            cursor = self.nodes[key].next;
            if !self.nodes[key].notified {
                f(&mut self.nodes[key].data);
                self.notify(key);
            }
        }
    }

    /// Notifies every waiting waiter.
    pub(crate) fn notify_all(&mut self) {
        self.notify_all_with(|_| {});
    }

    /// How many waiters there are, notified or not.
    pub(crate) fn len(&self) -> usize {
        self.nodes.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// How many waiters have been notified but have not run yet.
    pub(crate) fn notified(&self) -> usize {
        self.notified
    }

    /// The values of the waiters notified but not yet run.
    pub(crate) fn notified_values(&self) -> impl Iterator<Item = &M> {
        self.nodes
            .iter()
            .filter(|(_, n)| n.notified)
            .map(|(_, n)| &n.data)
    }

    /// How many waiters still wait to be notified.
    pub(crate) fn waiting(&self) -> usize {
        self.nodes.len() - self.notified
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notifies_in_arrival_order_and_removes_from_the_middle() {
        let mut list = WaitList::new(&Resource::new("Test"), "wait");
        let keys: Vec<usize> = (0..5).map(|i| list.push(None, i)).collect();
        assert_eq!(list.remove(keys[2]), (false, 2));
        assert!(list.notify_one());
        assert!(list.is_notified(keys[0]));
        assert_eq!(list.first_waiting().map(|(_, d)| *d), Some(1));
        list.notify_all_with(|d| *d += 10);
        assert_eq!(list.notified(), 4);
        assert_eq!(list.remove(keys[4]), (true, 14));
        assert_eq!(list.remove(keys[0]), (true, 0));
        assert_eq!(list.waiting(), 0);
        assert_eq!(list.len(), 2);
    }
}
