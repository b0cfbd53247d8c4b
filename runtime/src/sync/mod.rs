//! Python's synchronization toolbox, async, for tasks on one thread.
//!
//! | Python | weft |
//! |---|---|
//! | `Lock` | [`Mutex<T>`] (`Mutex<()>` for a bare lock) |
//! | `RLock` | [`RLock`] |
//! | `Condition` | [`Condition`], used with a [`Mutex`] guard |
//! | `Semaphore`, `BoundedSemaphore` | [`Semaphore`], [`BoundedSemaphore`] |
//! | `Event` | [`Event`] |
//! | `Barrier` | [`Barrier`] |
//! | — | [`RwLock<T>`] |
//!
//! Everything here is single-threaded by design: state lives in `Rc`/`RefCell`, no atomics
//! and no OS locks, and the types are `!Send` — they coordinate tasks of one runtime, the way
//! asyncio's primitives coordinate coroutines of one loop. Waiters are served first come,
//! first served. Every waiting operation can be cancelled by dropping its future (for example
//! through [`timeout`](crate::time::timeout)); whatever it had been granted is passed on, so
//! nothing is lost. Misuse (over-release, releasing a lock you do not hold) returns an error.

mod barrier;
mod condition;
mod event;
mod mutex;
mod rlock;
mod rwlock;
mod semaphore;
pub(crate) mod wait_list;
pub(crate) mod waker_slot;

pub use barrier::{Barrier, BrokenBarrier};
pub use condition::Condition;
pub use event::{Event, EventWait};
pub use mutex::{Lock, Mutex, MutexGuard};
pub use rlock::{Acquire as RLockAcquire, RLock, RLockError};
pub use rwlock::{ReadGuard, RwLock, WriteGuard};
pub use semaphore::{AcquirePermit, BoundedSemaphore, Permit, Semaphore, TooManyReleases};
