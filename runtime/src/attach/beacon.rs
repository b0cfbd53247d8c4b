//! What `weft-ps` reads from outside the process, without the loop's help: a static anchor it
//! finds by its magic bytes in the program's writable memory, pointing at one beacon per
//! runtime, each saying which task its loop is polling, since when, and where that task's
//! spawn site can be looked up. Everything here is plain atomics in `repr(C)` structs, so a
//! reader in another process (through `/proc/PID/mem`, which the kernel allows only to the
//! same user or root) knows their layout; the layout is versioned by the magic.
//!
//! The loop's cost: the task id it stored for `task::id()` anyway, now in the beacon, one
//! more store per poll (the task's key in the owned-task table), and a clock read after each
//! wait that slept and after every 32nd that did not (`Attach::after_wait`).

use std::panic::Location;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};

/// The anchor's first bytes; the last digit is the layout's version. `weft-ps` has the same.
pub const MAGIC: [u8; 16] = *b"weft-ps anchor 1";

/// Runtimes a process can have attachable at once (each core of `weft::cores` is one).
pub const SLOTS: usize = 256;

/// The anchor: its magic, its own address (so a reader can tell it from a copy of the
/// bytes), and the addresses of the live runtimes' beacons (0 for a free slot).
#[repr(C)]
pub struct Anchor {
    magic: [u8; 16],
    at: AtomicUsize,
    beacons: [AtomicUsize; SLOTS],
}

static ANCHOR: Anchor = Anchor {
    magic: MAGIC,
    at: AtomicUsize::new(0),
    beacons: [const { AtomicUsize::new(0) }; SLOTS],
};

/// Serialises taking and freeing slots (the loop never takes it).
static SLOTS_LOCK: Mutex<()> = Mutex::new(());

/// A table another process can read: its address and capacity, republished when it moves.
#[repr(C)]
#[derive(Default)]
pub struct Published {
    at: AtomicUsize,
    capacity: AtomicUsize,
}

impl Published {
    /// Publishes a table that now lives at `at` with room for `capacity` entries.
    pub(crate) fn publish(&self, at: usize, capacity: usize) {
        self.at.store(at, Relaxed);
        self.capacity.store(capacity, Relaxed);
    }
}

/// One runtime as `weft-ps` sees it from outside. Fields are in the order `weft-ps` reads
/// them; every one is a 64-bit word.
#[repr(C)]
pub struct Beacon {
    /// The runtime's number.
    runtime: AtomicU64,
    /// The kernel's id of the runtime's thread, for `tgkill` and `/proc/PID/task/TID`.
    thread: AtomicU64,
    /// 1 while `block_on` runs the loop.
    running: AtomicU64,
    /// The id of the task being polled (the main future's too), 0 between polls.
    polling: AtomicU64,
    /// The polled task's key in the owned-task table; `u64::MAX` for the main future.
    polling_key: AtomicU64,
    /// The system time (nanoseconds since 1970) when the loop last stamped a turn (see
    /// `Attach::after_wait`): a poll under way started after it.
    turn_stamp: AtomicU64,
    /// The address of the owned-task table's `Published` (entries of 16 bytes: the task
    /// cell's address, its site number, its parent's id's low 32 bits).
    tasks: AtomicUsize,
    /// The address of the sites table's `Published` (entries: `&'static Location`).
    sites: AtomicUsize,
    /// Where `block_on` was called, for the main future.
    main_site: AtomicUsize,
    /// A `Location` whose file and line are known, so a reader can find where the fields of
    /// any `Location` are (their layout is the compiler's): its address, then its file's
    /// address, the file's length and the line.
    sample: AtomicUsize,
    sample_file: AtomicUsize,
    sample_file_len: AtomicUsize,
    sample_line: AtomicU64,
}

impl Beacon {
    pub(crate) fn new(runtime: u32) -> Beacon {
        let sample = Location::caller();
        Beacon {
            runtime: AtomicU64::new(u64::from(runtime)),
            thread: AtomicU64::new(
                u64::try_from(rustix::thread::gettid().as_raw_nonzero().get()).unwrap_or(0),
            ),
            running: AtomicU64::new(0),
            polling: AtomicU64::new(0),
            polling_key: AtomicU64::new(0),
            turn_stamp: AtomicU64::new(now_nanos()),
            tasks: AtomicUsize::new(0),
            sites: AtomicUsize::new(0),
            main_site: AtomicUsize::new(0),
            sample: AtomicUsize::new(std::ptr::from_ref(sample) as usize),
            sample_file: AtomicUsize::new(sample.file().as_ptr() as usize),
            sample_file_len: AtomicUsize::new(sample.file().len()),
            sample_line: AtomicU64::new(u64::from(sample.line())),
        }
    }

    /// The task being polled, if any.
    #[inline(always)]
    pub(crate) fn polling(&self) -> u64 {
        self.polling.load(Relaxed)
    }

    /// Notes that the task `id` with owned-table key `key` is being polled.
    #[inline(always)]
    pub(crate) fn poll_starts(&self, id: u64, key: u64) {
        self.polling_key.store(key, Relaxed);
        self.polling.store(id, Relaxed);
    }

    /// Notes that no task is being polled.
    #[inline(always)]
    pub(crate) fn poll_ended(&self) {
        self.polling.store(0, Relaxed);
    }

    /// Notes that `id` (0: none) is being polled, with key `key`; returns the id noted
    /// before (the main future's poll nests in `block_on`'s caller's).
    pub(crate) fn swap_polling(&self, id: u64, key: u64) -> u64 {
        // Only the loop's thread writes: a load and a store, no locked exchange.
        let before = self.polling.load(Relaxed);
        self.polling_key.store(key, Relaxed);
        self.polling.store(id, Relaxed);
        before
    }

    /// Notes the time of this turn. The system clock, through the C library (a read of the
    /// kernel's shared page, no system call; rustix's own reader of that page crashes under
    /// valgrind, which CI runs).
    #[inline(never)]
    pub(crate) fn stamp_turn(&self) {
        self.turn_stamp.store(now_nanos(), Relaxed);
    }

    pub(crate) fn set_running(&self, running: bool) {
        self.running.store(u64::from(running), Relaxed);
        if running {
            // Read where the loop runs (a `Runtime` is `!Send`, so this is its builder's
            // thread too; reading it here keeps that assumption out of the beacon).
            let thread = rustix::thread::gettid().as_raw_nonzero().get();
            self.thread
                .store(u64::try_from(thread).unwrap_or(0), Relaxed);
        }
    }

    pub(crate) fn set_main_site(&self, site: &'static Location<'static>) {
        self.main_site
            .store(std::ptr::from_ref(site) as usize, Relaxed);
    }

    /// Points the beacon at the tables it names.
    pub(crate) fn set_tables(&self, tasks: &Published, sites: &Published) {
        self.tasks
            .store(std::ptr::from_ref(tasks) as usize, Relaxed);
        self.sites
            .store(std::ptr::from_ref(sites) as usize, Relaxed);
    }

    /// Lists the beacon in the anchor until the returned guard is dropped; `None` if every
    /// slot is taken (the runtime then cannot be seen from outside, and says nothing).
    pub(crate) fn list(&self) -> Option<Listed> {
        let address = std::ptr::from_ref(self) as usize;
        let _lock = SLOTS_LOCK
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        ANCHOR
            .at
            .store(std::ptr::from_ref(&ANCHOR) as usize, Relaxed);
        let slot = ANCHOR
            .beacons
            .iter()
            .position(|slot| slot.load(Relaxed) == 0)?;
        ANCHOR.beacons[slot].store(address, Relaxed);
        Some(Listed { slot })
    }
}

/// Makes the anchor findable (its own address written after its magic): done by every
/// runtime, attachable or not, so that `weft-ps` can tell "a weft program with attaching
/// off" from "not a weft program".
pub(crate) fn mark_anchor() {
    ANCHOR
        .at
        .store(std::ptr::from_ref(&ANCHOR) as usize, Relaxed);
}

/// A beacon's place in the anchor, freed on drop.
pub(crate) struct Listed {
    slot: usize,
}

impl Drop for Listed {
    fn drop(&mut self) {
        let _lock = SLOTS_LOCK
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        ANCHOR.beacons[self.slot].store(0, Relaxed);
    }
}

/// The clock beacons stamp their turns with (the system time in nanoseconds since 1970):
/// what `weft-ps` compares a stamp with.
pub fn now_nanos() -> u64 {
    match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        Ok(since) => since.as_secs() * 1_000_000_000 + u64::from(since.subsec_nanos()),
        Err(_) => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_anchor_starts_with_its_magic_and_lists_beacons() {
        assert_eq!(ANCHOR.magic, MAGIC);
        mark_anchor();
        let beacon = Beacon::new(7);
        let listed = beacon.list().expect("a free slot");
        let address = std::ptr::from_ref(&beacon) as usize;
        assert!(
            ANCHOR
                .beacons
                .iter()
                .any(|slot| slot.load(Relaxed) == address)
        );
        assert_eq!(
            ANCHOR.at.load(Relaxed),
            std::ptr::from_ref(&ANCHOR) as usize
        );
        drop(listed);
        assert!(
            !ANCHOR
                .beacons
                .iter()
                .any(|slot| slot.load(Relaxed) == address)
        );
    }
}
