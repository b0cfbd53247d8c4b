//! `IdMap`: a hash map keyed by task id, for the tables the executor updates per poll or per
//! spawn (poll counts, the flight recorder's task names). Task ids are unique counters, so
//! they need no protection against chosen keys; SipHash, std's default, was a seventh of the
//! flight recorder's cost in callgrind.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use super::TaskId;

/// A `HashMap` from task ids, hashed by one multiplication.
pub(crate) type IdMap<V> = HashMap<TaskId, V, BuildHasherDefault<IdHasher>>;

/// A `HashMap` from addresses or other numbers weft makes itself, hashed the same way.
pub(crate) type NumberMap<K, V> = HashMap<K, V, BuildHasherDefault<IdHasher>>;

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

    // Addresses and truncated ids (the dump's tables) hash the same way.
    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }

    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }
}
