//! Reading the system's resolver configuration: `/etc/resolv.conf` and `/etc/hosts`.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

/// What `/etc/resolv.conf` says, with glibc's defaults for what it leaves out.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ResolvConf {
    pub nameservers: Vec<SocketAddr>,
    pub timeout: Duration,
    pub attempts: u32,
    /// Domains tried after (or before) a name, from `search` or `domain`.
    pub search: Vec<String>,
    /// Names with fewer dots than this are tried with the search domains first.
    pub ndots: u32,
}

/// glibc keeps at most six search domains.
const MAX_SEARCH: usize = 6;

/// glibc reads at most three `nameserver` lines.
const MAX_NAMESERVERS: usize = 3;

pub(crate) fn parse_resolv_conf(text: &str) -> ResolvConf {
    let mut conf = ResolvConf {
        nameservers: Vec::new(),
        timeout: Duration::from_secs(5),
        attempts: 2,
        search: Vec::new(),
        ndots: 1,
    };
    for line in text.lines() {
        let line = line.split(['#', ';']).next().unwrap_or("");
        let mut words = line.split_whitespace();
        match words.next() {
            Some("nameserver") => {
                // A scoped IPv6 address ("fe80::1%eth0") cannot be parsed by std; skip it.
                if let Some(ip) = words.next().and_then(|w| w.parse::<IpAddr>().ok()) {
                    if conf.nameservers.len() < MAX_NAMESERVERS {
                        conf.nameservers.push(SocketAddr::new(ip, 53));
                    }
                }
            }
            // The last of `search` and `domain` wins, as in glibc.
            Some("search") | Some("domain") => {
                conf.search = words
                    .map(|d| d.trim_end_matches('.').to_ascii_lowercase())
                    .filter(|d| !d.is_empty())
                    .take(MAX_SEARCH)
                    .collect();
            }
            Some("options") => {
                for option in words {
                    let (key, value) = option.split_once(':').unwrap_or((option, ""));
                    let value: Option<u64> = value.parse().ok();
                    match (key, value) {
                        ("timeout", Some(secs)) => {
                            conf.timeout = Duration::from_secs(secs.clamp(1, 30))
                        }
                        ("attempts", Some(n)) => conf.attempts = n.clamp(1, 5) as u32,
                        ("ndots", Some(n)) => conf.ndots = n.min(15) as u32,
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    if conf.nameservers.is_empty() {
        // As glibc: no nameserver line means a server on this machine.
        conf.nameservers
            .push(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 53));
    }
    conf
}

/// `/etc/hosts` as a map from lower-case name to its addresses, in file order.
pub(crate) fn parse_hosts(text: &str) -> HashMap<String, Vec<IpAddr>> {
    let mut hosts: HashMap<String, Vec<IpAddr>> = HashMap::new();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("");
        let mut words = line.split_whitespace();
        let Some(ip) = words.next().and_then(|w| w.parse::<IpAddr>().ok()) else {
            continue;
        };
        for name in words {
            let addrs = hosts.entry(name.to_ascii_lowercase()).or_default();
            if !addrs.contains(&ip) {
                addrs.push(ip);
            }
        }
    }
    hosts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolv_conf_lines_and_options() {
        let conf = parse_resolv_conf(
            "# comment\nnameserver 10.0.0.1\nnameserver ::1 ; trailing\nnameserver bogus\n\
             domain old.example\nnameserver 10.0.0.2\nnameserver 10.0.0.3\n\
             search Corp.Example. lab.example\noptions ndots:2 timeout:1 attempts:3\n",
        );
        let ns: Vec<String> = conf.nameservers.iter().map(|a| a.to_string()).collect();
        assert_eq!(ns, ["10.0.0.1:53", "[::1]:53", "10.0.0.2:53"]);
        assert_eq!((conf.timeout, conf.attempts), (Duration::from_secs(1), 3));
        assert_eq!(
            (conf.search.as_slice(), conf.ndots),
            (
                &["corp.example".to_owned(), "lab.example".to_owned()][..],
                2
            )
        );
    }

    #[test]
    fn empty_resolv_conf_means_localhost() {
        let conf = parse_resolv_conf("");
        assert_eq!(conf.nameservers, ["127.0.0.1:53".parse().unwrap()]);
        assert_eq!((conf.timeout, conf.attempts), (Duration::from_secs(5), 2));
    }

    #[test]
    fn hosts_names_are_case_insensitive_and_keep_order() {
        let hosts = parse_hosts("127.0.0.1 localhost Box # me\n::1 localhost\nnot-an-ip x\n");
        assert_eq!(hosts["box"], ["127.0.0.1".parse::<IpAddr>().unwrap()]);
        assert_eq!(hosts["localhost"].len(), 2);
        assert!(!hosts.contains_key("x"));
    }
}
