//! The DNS wire format (RFC 1035), only as much as a stub resolver needs: one question out,
//! A/AAAA/CNAME answers back. Every read is bounds-checked and name compression is followed
//! with a jump limit, so a malformed or hostile reply is an `InvalidData` error, never a panic
//! or a loop.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Record types the resolver asks for or follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum RecordType {
    A,
    Aaaa,
}

impl RecordType {
    fn code(self) -> u16 {
        match self {
            RecordType::A => 1,
            RecordType::Aaaa => 28,
        }
    }
}

const TYPE_CNAME: u16 = 5;
const CLASS_IN: u16 = 1;
const FLAG_RESPONSE: u16 = 0x8000;
const FLAG_TRUNCATED: u16 = 0x0200;
const FLAG_RECURSION_DESIRED: u16 = 0x0100;
const OPCODE_MASK: u16 = 0x7800;
const RCODE_MASK: u16 = 0x000f;
/// Longest name on the wire (RFC 1035 §2.3.4).
const MAX_NAME_LEN: usize = 255;
/// Compression pointers followed in one name before the reply is called malformed.
const MAX_POINTER_JUMPS: usize = 32;

/// Builds a query for `name` (no trailing dot needed) of type `rtype`.
pub(crate) fn encode_query(id: u16, name: &str, rtype: RecordType) -> io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(18 + name.len());
    for word in [id, FLAG_RECURSION_DESIRED, 1, 0, 0, 0] {
        out.extend_from_slice(&word.to_be_bytes());
    }
    let name = name.strip_suffix('.').unwrap_or(name);
    if name.is_empty() || name.len() > MAX_NAME_LEN - 2 {
        return Err(invalid_name(name));
    }
    for label in name.split('.') {
        if label.is_empty() || label.len() > 63 || !label.is_ascii() {
            return Err(invalid_name(name));
        }
        out.push(label.len() as u8);
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
    out.extend_from_slice(&rtype.code().to_be_bytes());
    out.extend_from_slice(&CLASS_IN.to_be_bytes());
    Ok(out)
}

fn invalid_name(name: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("{name:?} is not a valid DNS name"),
    )
}

/// What a reply says, once checked against the question it answers.
#[derive(Debug, Default)]
pub(crate) struct Reply {
    /// The TC bit: the answer did not fit in the datagram; ask again over TCP.
    pub truncated: bool,
    /// RCODE: 0 no error, 2 server failure, 3 no such name, 5 refused, ...
    pub rcode: u8,
    /// Addresses of the asked type, keyed by the owner name they belong to (lower case).
    pub addresses: Vec<(String, IpAddr, u32)>,
    /// CNAME records: (alias, canonical name, ttl), names in lower case.
    pub aliases: Vec<(String, String, u32)>,
}

/// Parses `msg` as the reply to query `id` for `name`/`rtype`. A reply to some other question
/// (stale, spoofed or confused) is an error, as is anything malformed.
pub(crate) fn decode_reply(
    msg: &[u8],
    id: u16,
    name: &str,
    rtype: RecordType,
) -> io::Result<Reply> {
    let mut r = Reader { msg, pos: 0 };
    let got_id = r.u16()?;
    let flags = r.u16()?;
    let qdcount = r.u16()?;
    let ancount = r.u16()?;
    r.u16()?; // authority records: not needed
    r.u16()?; // additional records: not needed
    if got_id != id || flags & FLAG_RESPONSE == 0 || flags & OPCODE_MASK != 0 {
        return Err(malformed("the reply does not answer our query"));
    }
    let mut reply = Reply {
        truncated: flags & FLAG_TRUNCATED != 0,
        rcode: (flags & RCODE_MASK) as u8,
        ..Reply::default()
    };
    if reply.truncated {
        // A truncated message may be cut anywhere; its records are not to be trusted.
        return Ok(reply);
    }
    if qdcount != 1 {
        return Err(malformed("the reply does not carry exactly one question"));
    }
    let qname = r.name()?;
    let (qtype, qclass) = (r.u16()?, r.u16()?);
    let wanted = name.strip_suffix('.').unwrap_or(name);
    if !qname.eq_ignore_ascii_case(wanted) || qtype != rtype.code() || qclass != CLASS_IN {
        return Err(malformed("the reply is for a different question"));
    }
    for _ in 0..ancount {
        let owner = r.name()?.to_ascii_lowercase();
        let (rr_type, class, ttl) = (r.u16()?, r.u16()?, r.u32()?);
        let len = usize::from(r.u16()?);
        let end = r.pos.checked_add(len).filter(|&end| end <= msg.len());
        let end = end.ok_or_else(|| malformed("a record runs past the end of the reply"))?;
        if class == CLASS_IN {
            match rr_type {
                1 if rtype == RecordType::A && len == 4 => {
                    let b = r.bytes(4)?;
                    let ip = Ipv4Addr::new(b[0], b[1], b[2], b[3]);
                    reply.addresses.push((owner, IpAddr::V4(ip), ttl));
                }
                28 if rtype == RecordType::Aaaa && len == 16 => {
                    let b: [u8; 16] = r.bytes(16)?.try_into().expect("16 bytes");
                    reply
                        .addresses
                        .push((owner, IpAddr::V6(Ipv6Addr::from(b)), ttl));
                }
                1 | 28 => return Err(malformed("an address record has the wrong length")),
                TYPE_CNAME => {
                    let target = r.name()?.to_ascii_lowercase();
                    if r.pos != end {
                        return Err(malformed("a CNAME record's length is wrong"));
                    }
                    reply.aliases.push((owner, target, ttl));
                }
                _ => {}
            }
        }
        r.pos = end;
    }
    Ok(reply)
}

fn malformed(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("malformed DNS reply: {what}"),
    )
}

struct Reader<'a> {
    msg: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn bytes(&mut self, n: usize) -> io::Result<&[u8]> {
        let end = self.pos.checked_add(n).filter(|&end| end <= self.msg.len());
        let end = end.ok_or_else(|| malformed("the reply ends too early"))?;
        let bytes = &self.msg[self.pos..end];
        self.pos = end;
        Ok(bytes)
    }

    fn u16(&mut self) -> io::Result<u16> {
        let b = self.bytes(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> io::Result<u32> {
        let b = self.bytes(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// Reads a (possibly compressed) name, leaving `pos` after its in-place part.
    fn name(&mut self) -> io::Result<String> {
        let mut name = String::new();
        let mut at = self.pos;
        let mut resume = None;
        let mut jumps = 0;
        loop {
            let len = *self
                .msg
                .get(at)
                .ok_or_else(|| malformed("a name runs past the end"))?;
            match len {
                0 => {
                    at += 1;
                    break;
                }
                len if len & 0xc0 == 0xc0 => {
                    let low = *self
                        .msg
                        .get(at + 1)
                        .ok_or_else(|| malformed("a cut pointer"))?;
                    jumps += 1;
                    if jumps > MAX_POINTER_JUMPS {
                        return Err(malformed("a name's compression pointers loop"));
                    }
                    resume.get_or_insert(at + 2);
                    at = usize::from(len & 0x3f) << 8 | usize::from(low);
                }
                len if len & 0xc0 != 0 => return Err(malformed("an unknown label type")),
                len => {
                    let len = usize::from(len);
                    let label = self
                        .msg
                        .get(at + 1..at + 1 + len)
                        .ok_or_else(|| malformed("a label runs past the end"))?;
                    if !name.is_empty() {
                        name.push('.');
                    }
                    // Labels are bytes; a non-ASCII one cannot match anything we asked for.
                    name.extend(label.iter().map(|&b| char::from(b)));
                    if name.len() > MAX_NAME_LEN {
                        return Err(malformed("a name is longer than 255 bytes"));
                    }
                    at += 1 + len;
                }
            }
        }
        self.pos = resume.unwrap_or(at);
        Ok(name)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn query_round_trips_through_the_name_reader() {
        let q = encode_query(7, "www.example.com.", RecordType::Aaaa).unwrap();
        let mut r = Reader { msg: &q, pos: 12 };
        assert_eq!(r.name().unwrap(), "www.example.com");
        assert_eq!(r.u16().unwrap(), 28);
    }

    #[test]
    fn bad_names_are_refused() {
        for name in ["", "a..b", &"x".repeat(64), &"a.".repeat(200)] {
            assert!(encode_query(1, name, RecordType::A).is_err(), "{name}");
        }
    }

    /// A reply to `encode_query(7, "www.example.com", A)`: a CNAME to `web.example.com` and
    /// that name's address, both owner names compressed against the question.
    fn sample_reply() -> Vec<u8> {
        let mut msg = encode_query(7, "www.example.com", RecordType::A).unwrap();
        msg[2..4].copy_from_slice(&(FLAG_RESPONSE | FLAG_RECURSION_DESIRED).to_be_bytes());
        msg[6..8].copy_from_slice(&2u16.to_be_bytes()); // two answers
        // www.example.com CNAME web.example.com: "web" then a pointer to "example.com".
        msg.extend_from_slice(&[0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 6]);
        msg.extend_from_slice(&[3, b'w', b'e', b'b', 0xc0, 16]);
        // web.example.com A 192.0.2.1, its owner a pointer to the CNAME's target.
        msg.extend_from_slice(&[0xc0, 45, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1]);
        msg
    }

    fn decode_sample(msg: &[u8]) -> io::Result<Reply> {
        decode_reply(msg, 7, "www.example.com", RecordType::A)
    }

    #[test]
    fn a_compressed_reply_decodes() {
        let reply = decode_sample(&sample_reply()).unwrap();
        let ip = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
        assert_eq!(reply.addresses, [("web.example.com".to_string(), ip, 60)]);
        let alias = (
            "www.example.com".to_string(),
            "web.example.com".to_string(),
            60,
        );
        assert_eq!(reply.aliases, [alias]);
    }

    #[test]
    fn every_cut_short_reply_is_malformed() {
        let msg = sample_reply();
        for len in 0..msg.len() {
            let err = decode_sample(&msg[..len]).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidData, "cut at {len}");
        }
    }

    /// One way to damage a reply: overwrite a byte (pointer bytes and small lengths are
    /// where the decoder's checks are), cut the end off, or append junk.
    #[derive(Debug, Clone)]
    enum Damage {
        Overwrite(prop::sample::Index, u8),
        Cut(prop::sample::Index),
        Append(Vec<u8>),
    }

    fn damage() -> impl Strategy<Value = Damage> {
        let byte = prop_oneof![
            Just(0xc0u8),
            Just(0x3f),
            Just(0),
            Just(1),
            Just(12),
            any::<u8>()
        ];
        prop_oneof![
            3 => (any::<prop::sample::Index>(), byte).prop_map(|(at, b)| Damage::Overwrite(at, b)),
            1 => any::<prop::sample::Index>().prop_map(Damage::Cut),
            1 => prop::collection::vec(any::<u8>(), 1..8).prop_map(Damage::Append),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2_000))]

        /// A damaged reply gives a reply or an error, never a panic, and nothing it returns
        /// breaks the limits.
        #[test]
        fn damaged_replies_never_panic(damages in prop::collection::vec(damage(), 1..5)) {
            let mut msg = sample_reply();
            for damage in damages {
                match damage {
                    Damage::Overwrite(at, byte) => {
                        if !msg.is_empty() {
                            let at = at.index(msg.len());
                            msg[at] = byte;
                        }
                    }
                    Damage::Cut(at) => msg.truncate(at.index(msg.len() + 1)),
                    Damage::Append(junk) => msg.extend(junk),
                }
            }
            if let Ok(reply) = decode_sample(&msg) {
                let names = reply.addresses.iter().map(|(name, ..)| name);
                let names = names.chain(reply.aliases.iter().flat_map(|(a, b, _)| [a, b]));
                for name in names {
                    prop_assert!(name.len() <= MAX_NAME_LEN, "{name:?}");
                }
            }
        }
    }

    #[test]
    fn pointer_loops_are_malformed() {
        let mut msg = vec![0u8; 12];
        msg.extend_from_slice(&[0xc0, 12]);
        let mut r = Reader { msg: &msg, pos: 12 };
        assert_eq!(r.name().unwrap_err().kind(), io::ErrorKind::InvalidData);
    }
}
