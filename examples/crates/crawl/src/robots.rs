//! robots.txt (RFC 9309): the group for our user agent (or `*`), its Allow/Disallow rules
//! with `*` and `$` patterns, and the longest match deciding (Allow winning a tie).

/// The rules that apply to one crawler on one host.
#[derive(Clone, Debug, Default)]
pub struct Robots {
    /// (allow?, pattern)
    rules: Vec<(bool, String)>,
}

impl Robots {
    /// Everything allowed: no robots.txt (4xx), as RFC 9309 §2.3.1.3 says.
    pub fn allow_all() -> Robots {
        Robots::default()
    }

    /// Nothing allowed: robots.txt unreachable (5xx or no answer), RFC 9309 §2.3.1.4.
    pub fn disallow_all() -> Robots {
        Robots {
            rules: vec![(false, "/".to_owned())],
        }
    }

    /// The rules in `text` for `agent` (its product token, e.g. "weft-crawler").
    pub fn parse(text: &str, agent: &str) -> Robots {
        let agent = agent.to_ascii_lowercase();
        let mut ours: Vec<(bool, String)> = Vec::new();
        let mut star: Vec<(bool, String)> = Vec::new();
        let (mut found_ours, mut found_star) = (false, false);
        // The user agents of the group being read, and whether its rules started.
        let mut group: Vec<String> = Vec::new();
        let mut in_rules = false;
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or("").trim();
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            let (key, value) = (key.trim().to_ascii_lowercase(), value.trim());
            match key.as_str() {
                "user-agent" => {
                    if in_rules {
                        group.clear();
                        in_rules = false;
                    }
                    group.push(value.to_ascii_lowercase());
                }
                "allow" | "disallow" => {
                    in_rules = true;
                    let is_ours = group.iter().any(|g| g != "*" && agent.contains(g.as_str()));
                    let is_star = group.iter().any(|g| g == "*");
                    found_ours |= is_ours;
                    found_star |= is_star;
                    if value.is_empty() {
                        continue; // "Disallow:" with no path allows everything
                    }
                    let rule = (key == "allow", value.to_owned());
                    if is_ours {
                        ours.push(rule);
                    } else if is_star {
                        star.push(rule);
                    }
                }
                _ => {}
            }
        }
        let rules = if found_ours {
            ours
        } else if found_star {
            star
        } else {
            Vec::new()
        };
        Robots { rules }
    }

    /// Whether `path` (with its query) may be fetched.
    pub fn allows(&self, path: &str) -> bool {
        if path == "/robots.txt" {
            return true;
        }
        let mut best: Option<(usize, bool)> = None;
        for (allow, pattern) in &self.rules {
            if matches(pattern, path) {
                let better = match best {
                    None => true,
                    Some((len, was_allow)) => {
                        pattern.len() > len || (pattern.len() == len && *allow && !was_allow)
                    }
                };
                if better {
                    best = Some((pattern.len(), *allow));
                }
            }
        }
        best.is_none_or(|(_, allow)| allow)
    }
}

/// Whether `path` starts with `pattern`, where `*` matches any run and a final `$` anchors
/// the end. Greedy matching with one backtrack point: O(pattern × path) at worst, so a
/// hostile pattern like `*a*a*a*a*b` cannot make the crawler spin.
fn matches(pattern: &str, path: &str) -> bool {
    let (pattern, anchored) = match pattern.strip_suffix('$') {
        Some(p) => (p, true),
        None => (pattern, false),
    };
    let mut p: Vec<u8> = pattern.bytes().collect();
    if !anchored {
        p.push(b'*'); // a prefix match is a whole match of "pattern*"
    }
    let s = path.as_bytes();
    let (mut pi, mut si) = (0, 0);
    let mut backtrack: Option<(usize, usize)> = None; // (star position, path position)
    while si < s.len() {
        if pi < p.len() && p[pi] == b'*' {
            backtrack = Some((pi, si));
            pi += 1;
        } else if pi < p.len() && p[pi] == s[si] {
            pi += 1;
            si += 1;
        } else if let Some((star, at)) = backtrack {
            pi = star + 1;
            si = at + 1;
            backtrack = Some((star, at + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}
