//! The resolver's answer cache: bounded, and every entry expires when its TTL says.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;

// The runtime's clock: a test that advances it past a TTL sees the entry expire.
use weft_runtime::time::Instant;

use super::wire::RecordType;

/// Entries kept at most; past it, expired entries go first, then arbitrary ones.
const CAPACITY: usize = 1024;
/// No answer is kept longer than a day, whatever its TTL claims.
const MAX_TTL: u32 = 86_400;

#[derive(Debug, Default)]
pub(crate) struct Cache {
    entries: HashMap<(String, RecordType), (Vec<IpAddr>, Instant)>,
}

impl Cache {
    pub fn get(&mut self, name: &str, rtype: RecordType) -> Option<Vec<IpAddr>> {
        let key = (name.to_owned(), rtype);
        match self.entries.get(&key) {
            Some((ips, expires)) if *expires > Instant::now() => Some(ips.clone()),
            Some(_) => {
                self.entries.remove(&key);
                None
            }
            None => None,
        }
    }

    /// Keeps `ips` for `ttl` seconds; a TTL of 0 means "do not cache" (RFC 1035).
    pub fn insert(&mut self, name: &str, rtype: RecordType, ips: &[IpAddr], ttl: u32) {
        if ttl == 0 || ips.is_empty() {
            return;
        }
        let now = Instant::now();
        if self.entries.len() >= CAPACITY {
            self.entries.retain(|_, (_, expires)| *expires > now);
        }
        if self.entries.len() >= CAPACITY {
            let victim = self.entries.keys().next().cloned();
            if let Some(victim) = victim {
                self.entries.remove(&victim);
            }
        }
        let expires = now + Duration::from_secs(u64::from(ttl.min(MAX_TTL)));
        self.entries
            .insert((name.to_owned(), rtype), (ips.to_vec(), expires));
    }

    pub fn clear(&mut self) {
        self.entries.clear();
    }
}
