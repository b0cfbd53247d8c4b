//! DNS messages for fake nameservers in tests: the question of a query, and replies built
//! from a few records. Only what the tests need, and no validation: a fake server answers
//! queries weft itself wrote.

/// One answer record for a fake reply: a name, its data, its TTL.
pub enum Record<'a> {
    /// An IPv4 address.
    A(&'a str, [u8; 4], u32),
    /// An IPv6 address.
    Aaaa(&'a str, [u8; 16], u32),
    /// Another name for it.
    Cname(&'a str, &'a str, u32),
}

fn encode_name(out: &mut Vec<u8>, name: &str) {
    for label in name.split('.') {
        out.push(label.len() as u8);
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
}

/// A reply to `query` with `flags` (0x8180 = response, RD, RA, NOERROR) and `records`.
pub fn reply(query: &[u8], flags: u16, records: &[Record]) -> Vec<u8> {
    let mut out = query[..2].to_vec();
    out.extend_from_slice(&flags.to_be_bytes());
    out.extend_from_slice(&[0, 1]);
    out.extend_from_slice(&(records.len() as u16).to_be_bytes());
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(&query[12..]); // the question, echoed
    for record in records {
        let (name, rtype, ttl, rdata) = match record {
            Record::A(name, ip, ttl) => (name, 1u16, ttl, ip.to_vec()),
            Record::Aaaa(name, ip, ttl) => (name, 28, ttl, ip.to_vec()),
            Record::Cname(name, target, ttl) => {
                let mut rdata = Vec::new();
                encode_name(&mut rdata, target);
                (name, 5, ttl, rdata)
            }
        };
        encode_name(&mut out, name);
        out.extend_from_slice(&rtype.to_be_bytes());
        out.extend_from_slice(&[0, 1]);
        out.extend_from_slice(&ttl.to_be_bytes());
        out.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
        out.extend_from_slice(&rdata);
    }
    out
}

/// The question of `query`: (name, type).
pub fn question(query: &[u8]) -> (String, u16) {
    let mut at = 12;
    let mut labels = Vec::new();
    while query[at] != 0 {
        let len = usize::from(query[at]);
        labels.push(String::from_utf8_lossy(&query[at + 1..at + 1 + len]).into_owned());
        at += 1 + len;
    }
    (
        labels.join("."),
        u16::from_be_bytes([query[at + 1], query[at + 2]]),
    )
}

/// A reply with the address `last` for A queries and nothing for AAAA.
pub fn answers_a(query: &[u8], last: u8, ttl: u32) -> Vec<Vec<u8>> {
    let (name, rtype) = question(query);
    let records = if rtype == 1 {
        vec![Record::A(&name, [10, 0, 0, last], ttl)]
    } else {
        vec![]
    };
    vec![reply(query, 0x8180, &records)]
}
