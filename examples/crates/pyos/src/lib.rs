//! David Beazley's pyos, an operating system whose processes are generators, on weft's `Gen`:
//! the kernel (`os`) and an echo server written for it (`echo`). Shared by the `pyos` example
//! and its test; not published.

pub mod echo;
pub mod os;
