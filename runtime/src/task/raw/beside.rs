//! What a few tasks have and most do not, kept beside their cells instead of in them: the
//! name given with `task::Builder::name`, and the payload of a panic until the `JoinHandle`
//! takes it. A cell has a state flag for each (`NAMED`, `PANICKED`), so a task without them
//! never looks here; with them, one hash lookup by the cell's address.
//!
//! Both tables are per thread: a task's name and payload are only read and written on its
//! runtime's thread (the cell's rules 1 and 2), and both entries are removed there before
//! the cell can be freed (its name and payload go with its output: when the executor drops
//! an output nobody can read, or when the `JoinHandle` takes or drops it), so an address is
//! never reused while an entry for it is left.

use std::any::Any;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

thread_local! {
    static NAMES: RefCell<HashMap<usize, Rc<String>>> = RefCell::new(HashMap::new());
    static PANICS: RefCell<HashMap<usize, Box<dyn Any + Send>>> = RefCell::new(HashMap::new());
}

// Every access is a `try_with`: a runtime dropped while its thread exits (one kept in a
// thread-local of its own) may finish its tasks after these tables are gone; a name is then
// simply not found, and a payload not kept.

pub(super) fn set_name(cell: usize, name: Rc<String>) {
    let _ = NAMES.try_with(|names| names.borrow_mut().insert(cell, name));
}

pub(super) fn name(cell: usize) -> Option<Rc<String>> {
    NAMES
        .try_with(|names| names.borrow().get(&cell).cloned())
        .ok()
        .flatten()
}

pub(super) fn forget_name(cell: usize) {
    // Dropped after the table is let go of: nothing runs while it is borrowed.
    let name = NAMES.try_with(|names| names.borrow_mut().remove(&cell));
    drop(name);
}

pub(super) fn keep_panic(cell: usize, payload: Box<dyn Any + Send>) {
    let kept = PANICS.try_with(|panics| panics.borrow_mut().insert(cell, payload));
    debug_assert!(kept.is_ok_and(|old| old.is_none()), "one payload per cell");
}

/// Takes the payload kept for `cell`, if it is still there.
pub(super) fn take_panic(cell: usize) -> Option<Box<dyn Any + Send>> {
    PANICS
        .try_with(|panics| panics.borrow_mut().remove(&cell))
        .ok()
        .flatten()
}

/// How many names and payloads this thread keeps (for the cell's tests: none may be left).
#[cfg(test)]
pub(crate) fn kept() -> (usize, usize) {
    (
        NAMES.with(|names| names.borrow().len()),
        PANICS.with(|panics| panics.borrow().len()),
    )
}
