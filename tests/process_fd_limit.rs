//! Spawning children with the fd table full (its own test binary: it lowers the process's fd
//! limit): every failure is an error, never a panic, and no child is left behind.

use rustix::process::{Resource, getrlimit, setrlimit};
use weft::process::{Command, Stdio};

/// The pids of this process's children that still exist (running or zombie).
fn our_children() -> Vec<u32> {
    let me = std::process::id().to_string();
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
                // pid (comm) state ppid ...: the fields after the last ')'.
                stat.rsplit(')')
                    .next()
                    .and_then(|rest| rest.split_whitespace().nth(1))
                    == Some(me.as_str())
            })
        })
        .collect()
}

#[weft::test]
async fn out_of_fds_spawn_fails_cleanly_at_every_step() {
    let old = getrlimit(Resource::Nofile);
    let mut failures = 0;
    // Each round leaves `free` descriptors: spawning needs its pipes, std's exec-error pipe,
    // and weft's pidfd or signal pipe, and runs out at each of those steps in turn (without
    // pipes, std needs only a transient pair, and weft's own watch is what runs out).
    for piped in [true, false] {
        for free in 0..14 {
            let open_fds = std::fs::read_dir("/proc/self/fd").unwrap().count() as u64;
            let mut limit = old;
            limit.current = Some(open_fds + free);
            setrlimit(Resource::Nofile, limit).unwrap();
            let stdio = || if piped { Stdio::piped() } else { Stdio::null() };
            let spawned = Command::new("cat")
                .stdin(stdio())
                .stdout(stdio())
                .stderr(stdio())
                .spawn();
            setrlimit(Resource::Nofile, old).unwrap();
            match spawned {
                Ok(child) => {
                    let output = child.communicate(b"x").await.unwrap();
                    assert!(output.status.success());
                    assert_eq!(output.stdout, if piped { &b"x"[..] } else { b"" });
                }
                Err(err) => {
                    failures += 1;
                    assert_eq!(err.raw_os_error(), Some(24), "EMFILE, not {err}");
                }
            }
            assert_eq!(our_children(), Vec::<u32>::new(), "with {free} fds free");
        }
    }
    assert!(failures > 0, "the limit never bit");
}
