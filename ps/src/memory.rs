//! Reading a weft program's beacons from outside, through `/proc/PID/mem` (which the kernel
//! lets the same user or root read): the anchor found by its magic in the program's writable
//! data, the beacon of each runtime, and for a loop stuck in a poll, which task that is and
//! where it was spawned. The layouts read here are the ones `weft_runtime::attach::beacon`
//! defines; its magic carries their version.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

use weft_runtime::attach::{MAGIC, SLOTS};

/// A process whose memory can be read.
pub struct Process {
    pub pid: u32,
    mem: File,
}

/// One runtime's beacon, as read.
#[derive(Debug, Clone)]
pub struct Beacon {
    address: usize,
    pub runtime: u64,
    pub thread: u64,
    pub running: bool,
    /// The task being polled, 0 for none.
    pub polling: u64,
    polling_key: u64,
    /// The system time (nanoseconds since 1970) the loop last stamped a turn.
    pub turn_stamp: u64,
    tasks: usize,
    sites: usize,
    main_site: usize,
    sample: usize,
    sample_file: usize,
    sample_file_len: usize,
    sample_line: u64,
}

/// Words in a beacon (each field is one).
const BEACON_WORDS: usize = 13;
/// Bytes in an owned-task table entry.
const ENTRY: usize = 16;
/// Bytes of a `Location` (a `&str` and two `u32`s) on 64-bit targets.
const LOCATION: usize = 24;

impl Process {
    /// Opens `pid`'s memory; the error says what to do when the kernel refuses.
    pub fn open(pid: u32) -> Result<Process, String> {
        if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            return Err(format!("there is no process {pid}"));
        }
        match File::open(format!("/proc/{pid}/mem")) {
            Ok(mem) => Ok(Process { pid, mem }),
            Err(err) if err.kind() == io::ErrorKind::PermissionDenied => Err(format!(
                "cannot read the memory of process {pid}: run weft-ps as its user or as root \
                 (with kernel.yama.ptrace_scope = 1, only root can; see docs/weft-ps.md)"
            )),
            Err(err) => Err(format!("cannot read the memory of process {pid}: {err}")),
        }
    }

    fn read(&self, address: usize, len: usize) -> io::Result<Vec<u8>> {
        let mut buf = vec![0; len];
        self.mem.read_exact_at(&mut buf, address as u64)?;
        Ok(buf)
    }

    fn word(&self, address: usize) -> io::Result<u64> {
        let bytes = self.read(address, 8)?;
        Ok(u64::from_ne_bytes(bytes.try_into().expect("8 bytes")))
    }

    /// The addresses of the weft anchors in the process (one per copy of weft linked in).
    pub fn anchors(&self) -> io::Result<Vec<usize>> {
        let maps = std::fs::read_to_string(format!("/proc/{}/maps", self.pid))?;
        let mut found = Vec::new();
        for line in maps.lines() {
            let mut fields = line.split_whitespace();
            let (Some(range), Some(perms)) = (fields.next(), fields.next()) else {
                continue;
            };
            let path = fields.nth(3).unwrap_or("");
            // The anchor is initialised data: in a file-backed, writable mapping.
            if !perms.starts_with("rw") || !path.starts_with('/') {
                continue;
            }
            let Some((start, end)) = range.split_once('-') else {
                continue;
            };
            let (Ok(start), Ok(end)) = (
                usize::from_str_radix(start, 16),
                usize::from_str_radix(end, 16),
            ) else {
                continue;
            };
            let Ok(data) = self.read(start, end - start) else {
                continue;
            };
            let mut from = 0;
            while let Some(at) = find(&data[from..], &MAGIC) {
                let offset = from + at;
                let address = start + offset;
                if self.word(address + MAGIC.len()).ok() == Some(address as u64) {
                    found.push(address);
                }
                from = offset + 1;
            }
        }
        Ok(found)
    }

    /// The beacons listed in the anchor at `anchor`.
    pub fn beacons(&self, anchor: usize) -> io::Result<Vec<Beacon>> {
        let slots = self.read(anchor + MAGIC.len() + 8, SLOTS * 8)?;
        let mut beacons = Vec::new();
        for slot in slots.chunks_exact(8) {
            let address = u64::from_ne_bytes(slot.try_into().expect("8 bytes")) as usize;
            if address != 0 {
                if let Ok(beacon) = self.beacon(address) {
                    beacons.push(beacon);
                }
            }
        }
        beacons.sort_by_key(|b| b.runtime);
        Ok(beacons)
    }

    /// The beacon at `address`, read again.
    pub fn beacon(&self, address: usize) -> io::Result<Beacon> {
        let bytes = self.read(address, BEACON_WORDS * 8)?;
        let w: Vec<u64> = bytes
            .chunks_exact(8)
            .map(|c| u64::from_ne_bytes(c.try_into().expect("8 bytes")))
            .collect();
        Ok(Beacon {
            address,
            runtime: w[0],
            thread: w[1],
            running: w[2] != 0,
            polling: w[3],
            polling_key: w[4],
            turn_stamp: w[5],
            tasks: w[6] as usize,
            sites: w[7] as usize,
            main_site: w[8] as usize,
            sample: w[9] as usize,
            sample_file: w[10] as usize,
            sample_file_len: w[11] as usize,
            sample_line: w[12],
        })
    }

    /// Where the task `beacon` is polling was spawned (`file:line:column`), if it can be read.
    pub fn polling_site(&self, beacon: &Beacon) -> Option<String> {
        let location = if beacon.polling_key == u64::MAX {
            beacon.main_site
        } else {
            let (table, capacity) = self.published(beacon.tasks)?;
            let key = usize::try_from(beacon.polling_key).ok()?;
            if key >= capacity {
                return None;
            }
            let entry = self.read(table + key * ENTRY, ENTRY).ok()?;
            if entry[..8].iter().all(|&b| b == 0) {
                return None; // the task has completed meanwhile
            }
            let site = u32::from_ne_bytes(entry[8..12].try_into().ok()?) as usize;
            let (sites, count) = self.published(beacon.sites)?;
            if site >= count {
                return None;
            }
            self.word(sites + site * 8).ok()? as usize
        };
        self.location(beacon, location)
    }

    /// A table's address and capacity, from its `Published`.
    fn published(&self, at: usize) -> Option<(usize, usize)> {
        if at == 0 {
            return None;
        }
        let table = self.word(at).ok()? as usize;
        let capacity = self.word(at + 8).ok()? as usize;
        (table != 0).then_some((table, capacity))
    }

    /// The `Location` at `address` as `file:line:column`. Its field order is the compiler's:
    /// the beacon's sample, whose file and line are known, shows where each field is.
    fn location(&self, beacon: &Beacon, address: usize) -> Option<String> {
        let words = |at: usize| -> Option<[u64; 3]> {
            let bytes = self.read(at, LOCATION).ok()?;
            let mut w = [0u64; 3];
            for (i, c) in bytes.chunks_exact(8).enumerate() {
                w[i] = u64::from_ne_bytes(c.try_into().ok()?);
            }
            Some(w)
        };
        let sample = words(beacon.sample)?;
        let file_word = sample
            .iter()
            .position(|&w| w == beacon.sample_file as u64)?;
        let len_word = sample
            .iter()
            .position(|&w| w == beacon.sample_file_len as u64)?;
        let numbers_word = 3 - file_word - len_word;
        let low_is_line = sample[numbers_word] as u32 as u64 == beacon.sample_line;
        let target = words(address)?;
        let (file, len) = (target[file_word] as usize, target[len_word] as usize);
        if len == 0 || len > 4096 {
            return None;
        }
        let file = String::from_utf8(self.read(file, len).ok()?).ok()?;
        let numbers = target[numbers_word];
        let (line, column) = if low_is_line {
            (numbers as u32, (numbers >> 32) as u32)
        } else {
            ((numbers >> 32) as u32, numbers as u32)
        };
        Some(format!("{file}:{line}:{column}"))
    }
}

impl Beacon {
    /// Its address in the process, to read it again.
    pub fn address(&self) -> usize {
        self.address
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// What the kernel says thread `thread` of `pid` is doing: running on a CPU, or in which
/// system call it waits.
pub fn thread_doing(pid: u32, thread: u64) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/task/{thread}/stat")).ok()?;
    let state = stat
        .rsplit_once(')')?
        .1
        .split_whitespace()
        .next()?
        .to_owned();
    if state == "R" {
        return Some("running on a CPU (a busy loop?)".to_owned());
    }
    let syscall = std::fs::read_to_string(format!("/proc/{pid}/task/{thread}/syscall")).ok();
    let number = syscall
        .as_deref()
        .and_then(|s| s.split_whitespace().next())
        .and_then(|n| n.parse::<u64>().ok());
    Some(match number.and_then(syscall_name) {
        Some(name) => format!("blocked in the system call {name}"),
        None => format!("blocked in the kernel (state {state})"),
    })
}

/// Names of the system calls a stuck poll usually sits in (x86_64 numbers).
fn syscall_name(number: u64) -> Option<&'static str> {
    if !cfg!(target_arch = "x86_64") {
        return None;
    }
    Some(match number {
        0 => "read",
        1 => "write",
        7 => "poll",
        17 => "pread64",
        23 => "select",
        35 => "nanosleep",
        42 => "connect",
        43 => "accept",
        44 => "sendto",
        45 => "recvfrom",
        61 => "wait4",
        202 => "futex (a lock, or a thread join)",
        230 => "clock_nanosleep (std::thread::sleep)",
        232 => "epoll_wait",
        270 => "pselect6",
        271 => "ppoll",
        281 => "epoll_pwait",
        288 => "accept4",
        _ => return None,
    })
}
