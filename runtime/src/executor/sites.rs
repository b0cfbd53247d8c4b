//! Spawn sites, each kept once: a task's entry in the owned-task table names its site by a
//! 4-byte number, which leaves room in that 16-byte entry for the task's parent (the tree
//! `weft-ps` and `task::dump` draw) without growing what a parked task costs.
//!
//! Interning is one compare on the spawn path: a direct-mapped cache of recent sites, the
//! table only on a miss (a program has as many sites as `spawn` calls in its source).

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::panic::Location;

use crate::attach::Published;

/// Slots of the cache of recent sites; a power of two.
const RECENT: usize = 16;

/// The spawn sites a runtime has seen, numbered from 0 in the order first seen.
pub(crate) struct Sites {
    list: RefCell<Vec<&'static Location<'static>>>,
    numbers: RefCell<HashMap<usize, u32>>,
    /// (site address, its number) of recently seen sites; address 0 is an empty slot.
    recent: [Cell<(usize, u32)>; RECENT],
    /// Where `list` is, for `weft-ps`.
    published: Published,
}

impl Sites {
    pub(crate) fn new() -> Sites {
        Sites {
            list: RefCell::default(),
            numbers: RefCell::default(),
            recent: std::array::from_fn(|_| Cell::new((0, 0))),
            published: Published::default(),
        }
    }

    /// The number of `site`.
    #[inline(always)]
    pub(crate) fn number(&self, site: &'static Location<'static>) -> u32 {
        let address = std::ptr::from_ref(site) as usize;
        let slot = &self.recent[(address >> 3) % RECENT];
        let (seen, number) = slot.get();
        if seen == address {
            return number;
        }
        let number = self.intern(site, address);
        slot.set((address, number));
        number
    }

    #[cold]
    #[inline(never)]
    fn intern(&self, site: &'static Location<'static>, address: usize) -> u32 {
        *self.numbers.borrow_mut().entry(address).or_insert_with(|| {
            let mut list = self.list.borrow_mut();
            list.push(site);
            self.published
                .publish(list.as_ptr() as usize, list.capacity());
            u32::try_from(list.len() - 1).expect("fewer than 4 billion spawn sites")
        })
    }

    /// The site numbered `number`.
    pub(crate) fn site(&self, number: u32) -> &'static Location<'static> {
        self.list.borrow()[number as usize]
    }

    /// Where the table of sites is, for `weft-ps` to read from outside the process.
    pub(crate) fn published(&self) -> &Published {
        &self.published
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn here() -> &'static Location<'static> {
        Location::caller()
    }

    #[test]
    fn a_site_keeps_its_number_and_others_get_new_ones() {
        let sites = Sites::new();
        let sites_seen: Vec<_> = (0..40).map(|_| here()).collect();
        let a = here();
        let b = here();
        let (na, nb) = (sites.number(a), sites.number(b));
        assert_ne!(na, nb);
        for site in &sites_seen {
            sites.number(site);
        }
        assert_eq!(sites.number(a), na);
        assert_eq!(sites.site(nb), b);
        assert_eq!(sites.site(sites.number(sites_seen[7])), sites_seen[7]);
    }
}
