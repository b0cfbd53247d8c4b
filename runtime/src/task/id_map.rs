//! `IdMap`: a hash map keyed by task id, for the tables the executor updates per poll or per
//! spawn (poll counts, the flight recorder's task names). Task ids are unique counters, so
//! they need no protection against chosen keys; SipHash, std's default, was a seventh of the
//! flight recorder's cost in callgrind.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use super::TaskId;

/// A `HashMap` from task ids, hashed by one multiplication.
pub(crate) type IdMap<V> = HashMap<TaskId, V, BuildHasherDefault<IdHasher>>;

/// Fibonacci hashing of a task id: the multiplication spreads consecutive ids over the high
/// bits, which the map's probe groups use.
#[derive(Default)]
pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u64` is expected (a `TaskId` hashes its `NonZeroU64`); fold anything
        // else in byte by byte, correctly if slowly.
        for &byte in bytes {
            self.write_u64(u64::from(byte) ^ self.0.rotate_left(8));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}
