//! Pinning a core's thread to one CPU, where the system allows it.

use rustix::thread::{CpuSet, sched_getaffinity, sched_setaffinity};

/// The CPUs this thread may run on, in order (empty if the system would not say).
pub(super) fn allowed_cpus() -> Vec<usize> {
    match sched_getaffinity(None) {
        Ok(set) => (0..CpuSet::MAX_CPU)
            .filter(|&cpu| set.is_set(cpu))
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// The calling thread's CPU set, to give back when a pinned run ends.
pub(super) struct SavedAffinity(Option<CpuSet>);

impl SavedAffinity {
    pub(super) fn save() -> SavedAffinity {
        SavedAffinity(sched_getaffinity(None).ok())
    }

    pub(super) fn restore(self) {
        if let Some(set) = self.0 {
            let _ = sched_setaffinity(None, &set);
        }
    }
}

/// Pins the calling thread to `cpu`; false if the system refused (a container's CPU quota,
/// a seccomp filter), in which case the thread runs wherever the scheduler puts it.
pub(super) fn pin_to(cpu: usize) -> bool {
    let mut set = CpuSet::new();
    set.set(cpu);
    sched_setaffinity(None, &set).is_ok()
}
