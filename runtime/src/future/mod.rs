//! Combinators over plain futures: wait for all of them, for the first of them, or protect one
//! from cancellation.
//!
//! | Python | weft |
//! |---|---|
//! | `await asyncio.gather(*coros)` (coroutines, in order) | [`join_all`], [`join!`](crate::join) |
//! | the same, the first failure cancelling the rest | [`try_join_all`], [`try_join!`](crate::try_join) |
//! | the first of several to finish, the rest cancelled | [`race`], [`select!`](crate::select) |
//! | `await asyncio.shield(aw)` | [`shield`] |
//!
//! For tasks (spawned futures), see [`gather`](crate::task::gather).

mod join_all;
mod race;
mod select;
mod shield;
mod tuple;

pub use join_all::{join_all, try_join_all};
pub use race::race;
pub use select::{SelectTuple, Selected};
pub use shield::{Shielded, shield};
pub use tuple::{JoinTuple, TryJoinTuple};
