//! Python's synchronization toolbox, async, for tasks on one thread.
//!
//! | Python | weft |
//! |---|---|
//! | `Lock` | [`Mutex<T>`] (`Mutex<()>` for a bare lock) |
//! | `RLock` | [`RLock`] |
//! | `Condition()`, `Condition(lock)` | [`Condition::new`], [`Condition::with_lock`]: bound to its lock, the waits are methods of its guard |
//! | `Semaphore`, `BoundedSemaphore` | [`Semaphore`], [`BoundedSemaphore`] |
//! | `Event` | [`Event`] |
//! | `Barrier` | [`Barrier`] |
//! | — | [`RwLock<T>`] |
//!
//! **One sharing rule.** Every primitive is a handle: a clone is another name for the same
//! lock, semaphore, event, condition or barrier (and for the value a lock protects), as a
//! Python object is. "Make it, hand it to the workers" reads the same for all of them, with no
//! `Rc` around any. Guards borrow the handle they came from; a semaphore's [`Permit`] owns a
//! handle, so it can move into another task.
//!
//! Each primitive has its module, which also holds the futures its methods return, named after
//! the method: `mutex::Lock`, `semaphore::Acquire`, `event::Wait`, `condition::{Lock, Wait, WaitFor, ...}`,
//! `barrier::Wait`, `rwlock::{Read, Write}`, `rlock::Acquire`. The primitives, their guards and
//! errors are re-exported here.
//!
//! Everything here is single-threaded by design: state lives in `Rc`/`RefCell`, no atomics
//! and no OS locks, and the types are `!Send` — they coordinate tasks of one runtime, the way
//! asyncio's primitives coordinate coroutines of one loop. Waiters are served first come,
//! first served. Every waiting operation can be cancelled by dropping its future (for example
//! through [`timeout`](crate::time::timeout)); whatever it had been granted is passed on, so
//! nothing is lost. Misuse (over-release, releasing a lock you do not hold) returns an error.

pub mod barrier;
pub mod condition;
pub mod event;
pub mod mutex;
pub mod rlock;
pub mod rwlock;
pub mod semaphore;

pub use barrier::{Barrier, BrokenBarrierError};
pub use condition::{Condition, ConditionGuard};
pub use event::Event;
pub use mutex::{Mutex, MutexGuard, OwnedMutexGuard};
pub use rlock::{OwnedRLockGuard, RLock, RLockGuard};
pub use rwlock::{ReadGuard, RwLock, WriteGuard};
pub use semaphore::{BoundedSemaphore, Permit, Semaphore, TooManyReleasesError};
