//! Links from HTML, found by tokenizing it as a browser would (a small subset of the WHATWG
//! tokenizer), not by a regex: comments, `<script>`/`<style>` and other raw-text elements,
//! quoted and unquoted attributes and character references are all handled, so a link in a
//! comment or inside a script's string is not a link, and `href="/a?x=1&amp;y=2"` means
//! `/a?x=1&y=2`.

/// A start tag's name (lower case) and attributes (names lower case, values decoded).
#[derive(Debug, PartialEq, Eq)]
pub struct StartTag {
    /// The tag name, lower-cased.
    pub name: String,
    /// Its attributes: names lower-cased, values with character references decoded.
    pub attrs: Vec<(String, String)>,
}

impl StartTag {
    /// The first attribute called `name`.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Elements whose content is text up to their own end tag, never markup.
const RAW_TEXT: [&str; 8] = [
    "script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes",
];

/// Every start tag in `html`, in document order.
pub fn start_tags(html: &str) -> Vec<StartTag> {
    let mut tags = Vec::new();
    let mut t = Tokenizer {
        s: html.as_bytes(),
        i: 0,
    };
    while let Some(lt) = t.find(b'<') {
        t.i = lt + 1;
        match t.peek() {
            Some(b'!') if t.starts_with(b"!--") => t.skip_comment(),
            Some(b'!' | b'?') => t.skip_past(b'>'), // doctype, CDATA, processing instruction
            Some(b'/') => t.skip_past(b'>'),        // end tag
            Some(c) if c.is_ascii_alphabetic() => {
                let tag = t.start_tag();
                if RAW_TEXT.contains(&tag.name.as_str()) {
                    t.skip_raw_text(&tag.name);
                }
                tags.push(tag);
            }
            _ => {} // a lone '<' is text
        }
    }
    tags
}

struct Tokenizer<'a> {
    s: &'a [u8],
    i: usize,
}

impl Tokenizer<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn starts_with(&self, prefix: &[u8]) -> bool {
        self.s[self.i..].starts_with(prefix)
    }

    fn find(&self, byte: u8) -> Option<usize> {
        self.s[self.i..]
            .iter()
            .position(|&b| b == byte)
            .map(|p| self.i + p)
    }

    fn skip_past(&mut self, byte: u8) {
        self.i = self.find(byte).map_or(self.s.len(), |p| p + 1);
    }

    fn skip_comment(&mut self) {
        self.i += 3;
        // "<!-->" and "<!--->" are complete (empty) comments.
        for short in [&b">"[..], b"->"] {
            if self.starts_with(short) {
                self.i += short.len();
                return;
            }
        }
        self.i = match self.s[self.i..].windows(3).position(|w| w == b"-->") {
            Some(p) => self.i + p + 3,
            None => self.s.len(),
        };
    }

    fn skip_whitespace(&mut self) {
        while self.peek().is_some_and(|c| c.is_ascii_whitespace()) {
            self.i += 1;
        }
    }

    /// Reads a name up to whitespace, `/`, `>` or (for attributes) `=`.
    fn name(&mut self, stop_at_equals: bool) -> String {
        let start = self.i;
        while let Some(c) = self.peek() {
            if c.is_ascii_whitespace()
                || c == b'/'
                || c == b'>'
                || (stop_at_equals && c == b'=' && self.i > start)
            {
                break;
            }
            self.i += 1;
        }
        String::from_utf8_lossy(&self.s[start..self.i]).to_ascii_lowercase()
    }

    fn start_tag(&mut self) -> StartTag {
        let name = self.name(false);
        let mut attrs: Vec<(String, String)> = Vec::new();
        loop {
            self.skip_whitespace();
            match self.peek() {
                None => break,
                Some(b'>') => {
                    self.i += 1;
                    break;
                }
                Some(b'/') => self.i += 1,
                Some(_) => {
                    let attr = self.name(true);
                    self.skip_whitespace();
                    let value = if self.peek() == Some(b'=') {
                        self.i += 1;
                        self.skip_whitespace();
                        self.attr_value()
                    } else {
                        String::new()
                    };
                    // As in browsers, a repeated attribute is ignored.
                    if !attrs.iter().any(|(n, _)| *n == attr) {
                        attrs.push((attr, value));
                    }
                }
            }
        }
        StartTag { name, attrs }
    }

    fn attr_value(&mut self) -> String {
        let raw = match self.peek() {
            Some(quote @ (b'"' | b'\'')) => {
                self.i += 1;
                let start = self.i;
                let end = self.find(quote).unwrap_or(self.s.len());
                self.i = (end + 1).min(self.s.len());
                &self.s[start..end]
            }
            _ => {
                let start = self.i;
                while self
                    .peek()
                    .is_some_and(|c| !c.is_ascii_whitespace() && c != b'>')
                {
                    self.i += 1;
                }
                &self.s[start..self.i]
            }
        };
        decode_references(&String::from_utf8_lossy(raw))
    }

    /// Skips to the end tag `</name` (case-insensitive) that closes a raw-text element.
    fn skip_raw_text(&mut self, name: &str) {
        while let Some(lt) = self.find(b'<') {
            self.i = lt + 1;
            let rest = &self.s[self.i..];
            let closes = rest.first() == Some(&b'/')
                && rest.len() > name.len()
                && rest[1..=name.len()].eq_ignore_ascii_case(name.as_bytes())
                && rest
                    .get(name.len() + 1)
                    .is_none_or(|c| c.is_ascii_whitespace() || *c == b'>' || *c == b'/');
            if closes {
                self.skip_past(b'>');
                return;
            }
        }
        self.i = self.s.len();
    }
}

/// Decodes character references: numeric (`&#38;`, `&#x26;`) and the named ones that appear
/// in URLs. An unknown or unterminated reference stays as written, as browsers leave it.
pub fn decode_references(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let decoded = rest.find(';').filter(|&semi| semi <= 10).and_then(|semi| {
            let entity = &rest[1..semi];
            let ch = match entity {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some('\u{a0}'),
                _ => {
                    let code = match entity
                        .strip_prefix("#x")
                        .or_else(|| entity.strip_prefix("#X"))
                    {
                        Some(hex) => u32::from_str_radix(hex, 16).ok(),
                        None => entity.strip_prefix('#').and_then(|dec| dec.parse().ok()),
                    };
                    code.and_then(char::from_u32)
                }
            };
            ch.map(|ch| (ch, semi + 1))
        });
        match decoded {
            Some((ch, len)) => {
                out.push(ch);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The link targets in `html` as written (unresolved), and the `<base href>` if any: `href`
/// of `a` and `area`, `src` of `frame` and `iframe`.
pub fn links(html: &str) -> (Vec<String>, Option<String>) {
    let mut base = None;
    let mut found = Vec::new();
    for tag in start_tags(html) {
        let target = match tag.name.as_str() {
            "a" | "area" => tag.attr("href"),
            "frame" | "iframe" => tag.attr("src"),
            "base" => {
                if base.is_none() {
                    base = tag.attr("href").map(|h| h.trim().to_owned());
                }
                None
            }
            _ => None,
        };
        if let Some(target) = target {
            let target = target.trim();
            if !target.is_empty() {
                found.push(target.to_owned());
            }
        }
    }
    (found, base)
}
