//! Small helpers for reading the words of a message.

use std::net::Ipv4Addr;

use wire::HwAddr;

use crate::event::{Fields, Kind};

/// What a program parser made of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Parsed {
    pub kind: Kind,
    pub fields: Fields,
    /// Kea's message id.
    pub message_id: Option<String>,
}

impl Parsed {
    pub fn new(kind: Kind, fields: Fields) -> Parsed {
        Parsed {
            kind,
            fields,
            message_id: None,
        }
    }
}

/// A dotted-quad IPv4 address (surrounding punctuation `(),.:;` removed).
pub(crate) fn ip(s: &str) -> Option<Ipv4Addr> {
    s.trim_matches(|c| matches!(c, '(' | ')' | ',' | ':' | ';' | '[' | ']'))
        .trim_end_matches('.')
        .parse()
        .ok()
}

/// A hardware address written as 2..=16 hex bytes joined by `:` (or `-`), each of one
/// or two digits, e.g. `02:00:00:00:0a:01` or ISC's `0:c:29:1:2:3` (ISC prints every
/// byte with `%x`, whatever the address's length).
pub(crate) fn mac(s: &str) -> Option<HwAddr> {
    let sep = if s.contains(':') { ':' } else { '-' };
    let mut bytes = Vec::with_capacity(6);
    for part in s.split(sep) {
        if bytes.len() == 16 {
            return None;
        }
        bytes.push(hex_byte(part)?);
    }
    (bytes.len() >= 2).then(|| HwAddr::new(&bytes))
}

/// One or two hex digits (`from_str_radix` alone would also take a sign: `+a`).
fn hex_byte(s: &str) -> Option<u8> {
    let ok = matches!(s.len(), 1 | 2) && s.bytes().all(|c| c.is_ascii_hexdigit());
    ok.then(|| u8::from_str_radix(s, 16).ok()).flatten()
}

/// Hex bytes joined by `:` (Kea's `cid=[01:02:...]`), or a bare even run of hex digits.
pub(crate) fn hex_bytes(s: &str) -> Option<Vec<u8>> {
    if s.contains(':') {
        s.split(':').map(hex_byte).collect()
    } else if !s.is_empty() && s.len() % 2 == 0 && s.bytes().all(|c| c.is_ascii_hexdigit()) {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
            .collect()
    } else {
        None
    }
}

/// `0x1a2b` (or `1a2b`) as a u32.
pub(crate) fn hex_u32(s: &str) -> Option<u32> {
    let h = s
        .strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .unwrap_or(s);
    if h.is_empty() || h.len() > 8 || !h.bytes().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(h, 16).ok()
}

/// The first word and the rest after one space.
pub(crate) fn word(s: &str) -> (&str, &str) {
    s.split_once(' ').unwrap_or((s, ""))
}

/// The text between `open` and the next `close` after it, and what follows `close`.
pub(crate) fn between<'a>(s: &'a str, open: &str, close: &str) -> Option<(&'a str, &'a str)> {
    let start = s.find(open)? + open.len();
    let len = s[start..].find(close)?;
    Some((&s[start..start + len], &s[start + len + close.len()..]))
}

/// Some(text) unless empty.
pub(crate) fn text(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers() {
        assert_eq!(ip("(10.77.0.1)"), Some(Ipv4Addr::new(10, 77, 0, 1)));
        assert_eq!(ip("10.77.0.50."), Some(Ipv4Addr::new(10, 77, 0, 50)));
        assert_eq!(ip("10.77.0"), None);
        assert_eq!(
            mac("0:c:29:1:2:3").unwrap().to_string(),
            "00:0c:29:01:02:03"
        );
        assert_eq!(
            mac("aa-bb-cc-dd-ee-ff").unwrap().to_string(),
            "aa:bb:cc:dd:ee:ff"
        );
        assert_eq!(mac("s0"), None);
        assert_eq!(mac("123:4"), None);
        assert_eq!(mac("+a:+b:+c"), None);
        assert_eq!(mac("aa::bb"), None);
        assert_eq!(hex_bytes("+1:02"), None);
        assert_eq!(hex_bytes("01:02:0a"), Some(vec![1, 2, 10]));
        assert_eq!(hex_bytes("01020a"), Some(vec![1, 2, 10]));
        assert_eq!(hex_bytes("no info"), None);
        assert_eq!(hex_u32("0xa090001"), Some(0x0a09_0001));
        assert_eq!(hex_u32("0x123456789"), None);
        assert_eq!(hex_u32("0x+1"), None);
        assert_eq!(between("a [b] c", "[", "]"), Some(("b", " c")));
    }
}
