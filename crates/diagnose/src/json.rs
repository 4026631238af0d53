//! A direct JSON writer for the two records a report writes by the hundred
//! thousand (transactions and clients). Their strings are hex, digits,
//! addresses and fixed names, which never need escaping, so they are written
//! as they are. Ladders and findings, whose strings quote packets and logs,
//! are written with [`write_str`], which escapes as serde_json does. The
//! `Serialize` impls of transactions and clients write through this too, so
//! there is one definition of their JSON; for findings and ladder steps a
//! test holds this writer to their derived `Serialize`.

use std::io::{self, Write};
use std::net::Ipv4Addr;

use capture::Timestamp;
use wire::HwAddr;

/// Writes one JSON object field by field.
pub struct Object<'w> {
    w: &'w mut Vec<u8>,
    first: bool,
}

impl<'w> Object<'w> {
    pub fn new(w: &'w mut Vec<u8>) -> io::Result<Object<'w>> {
        w.write_all(b"{")?;
        Ok(Object { w, first: true })
    }

    /// Starts a field: `"key":`. (Always inlined: with the key a literal,
    /// its copy needs no `memcpy` call.)
    #[inline(always)]
    pub fn key(&mut self, k: &str) -> io::Result<&mut Vec<u8>> {
        let k = k.as_bytes();
        if k.len() <= 28 {
            // `,"key":` laid out in a fixed-size block and appended in one
            // copy of a known size (with `k` a literal, the block is mostly
            // constants), from the comma or from the quote after it.
            let mut buf = [b' '; 33];
            buf[0] = b',';
            buf[1] = b'"';
            buf[2..2 + k.len()].copy_from_slice(k);
            buf[2 + k.len()..4 + k.len()].copy_from_slice(b"\":");
            let comma = usize::from(!std::mem::replace(&mut self.first, false));
            let start = self.w.len();
            self.w.extend_from_slice(&buf[1 - comma..][..32]);
            self.w.truncate(start + comma + k.len() + 3);
            return Ok(self.w);
        }
        if !std::mem::replace(&mut self.first, false) {
            self.w.write_all(b",")?;
        }
        self.w.write_all(b"\"")?;
        self.w.write_all(k)?;
        self.w.write_all(b"\":")?;
        Ok(self.w)
    }

    /// A string known to need no escaping (ASCII letters, digits, `.:-_`).
    #[inline(always)]
    pub fn plain(&mut self, k: &str, v: &str) -> io::Result<()> {
        debug_assert!(
            v.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b".:-_+ ".contains(&b)),
            "{v}"
        );
        let w = self.key(k)?;
        w.write_all(b"\"")?;
        w.write_all(v.as_bytes())?;
        w.write_all(b"\"")
    }

    #[inline(always)]
    pub fn opt_plain(&mut self, k: &str, v: Option<&str>) -> io::Result<()> {
        match v {
            Some(v) => self.plain(k, v),
            None => self.key(k)?.write_all(b"null"),
        }
    }

    #[inline(always)]
    pub fn num(&mut self, k: &str, v: u64) -> io::Result<()> {
        write_u64(self.key(k)?, v);
        Ok(())
    }

    /// A float as serde_json writes it (shortest round-trip form), or null.
    #[inline(always)]
    pub fn opt_f64(&mut self, k: &str, v: Option<f64>) -> io::Result<()> {
        write_opt_f64(self.key(k)?, v)
    }

    /// `[a,b]` or null.
    #[inline(always)]
    pub fn opt_pair(&mut self, k: &str, v: Option<(u64, u64)>) -> io::Result<()> {
        let w = self.key(k)?;
        match v {
            Some((a, b)) => {
                w.write_all(b"[")?;
                write_u64(w, a);
                w.write_all(b",")?;
                write_u64(w, b);
                w.write_all(b"]")
            }
            None => w.write_all(b"null"),
        }
    }

    /// `[{"file":f,"frame":n},…]`
    #[inline(always)]
    pub fn frames(
        &mut self,
        k: &str,
        v: impl IntoIterator<Item = crate::FrameRef>,
    ) -> io::Result<()> {
        self.list(k, v, |f, w| {
            write_frame(w, f);
            Ok(())
        })
    }

    /// A list of byte strings as colon-separated hex (client identifiers),
    /// `null` for absent ones.
    pub fn hex_list<'b>(
        &mut self,
        k: &str,
        v: impl IntoIterator<Item = Option<(&'b [u8], bool)>>,
    ) -> io::Result<()> {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let w = self.key(k)?;
        w.write_all(b"[")?;
        for (i, item) in v.into_iter().enumerate() {
            if i > 0 {
                w.write_all(b",")?;
            }
            let Some((bytes, cut)) = item else {
                w.write_all(b"null")?;
                continue;
            };
            let mut buf = [0u8; 3 * 32 + 8];
            let mut n = 0;
            buf[n] = b'"';
            n += 1;
            for (j, b) in bytes.iter().take(32).enumerate() {
                if j > 0 {
                    buf[n] = b':';
                    n += 1;
                }
                buf[n] = HEX[usize::from(b >> 4)];
                buf[n + 1] = HEX[usize::from(b & 0xf)];
                n += 2;
            }
            if cut {
                buf[n..n + 4].copy_from_slice(":\u{2026}".as_bytes());
                n += 4;
            }
            buf[n] = b'"';
            w.write_all(&buf[..=n])?;
        }
        w.write_all(b"]")
    }

    #[inline(always)]
    pub fn opt_num(&mut self, k: &str, v: Option<u64>) -> io::Result<()> {
        match v {
            Some(v) => self.num(k, v),
            None => self.key(k)?.write_all(b"null"),
        }
    }

    #[inline(always)]
    pub fn ip(&mut self, k: &str, v: Option<Ipv4Addr>) -> io::Result<()> {
        let w = self.key(k)?;
        match v {
            Some(a) => write_ip(w, a),
            None => w.write_all(b"null"),
        }
    }

    #[inline(always)]
    pub fn ips(&mut self, k: &str, v: impl IntoIterator<Item = Ipv4Addr>) -> io::Result<()> {
        let w = self.key(k)?;
        w.write_all(b"[")?;
        for (i, a) in v.into_iter().enumerate() {
            if i > 0 {
                w.write_all(b",")?;
            }
            write_ip(w, a)?;
        }
        w.write_all(b"]")
    }

    #[inline(always)]
    pub fn plains<'s>(
        &mut self,
        k: &str,
        v: impl IntoIterator<Item = Option<&'s str>>,
    ) -> io::Result<()> {
        let w = self.key(k)?;
        w.write_all(b"[")?;
        for (i, s) in v.into_iter().enumerate() {
            if i > 0 {
                w.write_all(b",")?;
            }
            match s {
                Some(s) => {
                    w.write_all(b"\"")?;
                    w.write_all(s.as_bytes())?;
                    w.write_all(b"\"")?;
                }
                None => w.write_all(b"null")?,
            }
        }
        w.write_all(b"]")
    }

    #[inline(always)]
    pub fn hw(&mut self, k: &str, v: HwAddr) -> io::Result<()> {
        self.hex(k, &v.hex())
    }

    #[inline(always)]
    pub fn xid(&mut self, k: &str, v: u32) -> io::Result<()> {
        self.hex(k, &wire::dhcp::HexBuf::xid(v))
    }

    #[inline(always)]
    fn hex(&mut self, k: &str, v: &wire::dhcp::HexBuf) -> io::Result<()> {
        let w = self.key(k)?;
        let (text, n) = v.padded();
        let mut buf = [b'"'; 49];
        buf[1..48].copy_from_slice(text);
        buf[n + 1] = b'"';
        put(w, &buf, n + 2);
        Ok(())
    }

    #[inline(always)]
    pub fn time(&mut self, k: &str, v: Timestamp) -> io::Result<()> {
        let f = v.rfc3339();
        match f.as_array() {
            Some(b) => {
                let mut quoted = [b'"'; 29];
                quoted[1..28].copy_from_slice(b);
                self.key(k)?.extend_from_slice(&quoted);
                Ok(())
            }
            None => self.plain(k, &f.to_string()),
        }
    }

    /// A string, escaped as serde_json escapes it.
    #[inline(always)]
    pub fn str(&mut self, k: &str, v: &str) -> io::Result<()> {
        write_str(self.key(k)?, v);
        Ok(())
    }

    /// A list of strings, escaped.
    #[inline(always)]
    pub fn strs<'s>(&mut self, k: &str, v: impl IntoIterator<Item = &'s str>) -> io::Result<()> {
        self.list(k, v, |s, w| {
            write_str(w, s);
            Ok(())
        })
    }

    /// `null`.
    #[inline(always)]
    pub fn null(&mut self, k: &str) -> io::Result<()> {
        self.key(k)?.write_all(b"null")
    }

    #[inline(always)]
    pub fn bool(&mut self, k: &str, v: bool) -> io::Result<()> {
        self.key(k)?.write_all(if v { b"true" } else { b"false" })
    }

    /// A frame reference: `{"file":0,"frame":12}`.
    #[inline(always)]
    pub fn frame(&mut self, k: &str, f: crate::FrameRef) -> io::Result<()> {
        let w = self.key(k)?;
        write_frame(w, f);
        Ok(())
    }

    /// A list of records, each written by `each` into the list.
    #[inline(always)]
    pub fn list<T>(
        &mut self,
        k: &str,
        v: impl IntoIterator<Item = T>,
        mut each: impl FnMut(T, &mut Vec<u8>) -> io::Result<()>,
    ) -> io::Result<()> {
        let w = self.key(k)?;
        w.push(b'[');
        for (i, x) in v.into_iter().enumerate() {
            if i > 0 {
                w.push(b',');
            }
            each(x, w)?;
        }
        w.push(b']');
        Ok(())
    }

    #[inline(always)]
    pub fn end(self) -> io::Result<()> {
        self.w.write_all(b"}")
    }
}

/// A float as serde_json writes it (shortest round-trip form), or null.
fn write_opt_f64(w: &mut Vec<u8>, v: Option<f64>) -> io::Result<()> {
    match v {
        Some(f) if f.is_finite() => {
            let mut buf = [0u8; 32];
            match whole_nanoseconds(f, &mut buf) {
                Some(n) => {
                    put(w, &buf, n);
                    Ok(())
                }
                None => {
                    use serde_json::ser::Formatter;
                    serde_json::ser::CompactFormatter.write_f64(w, f)
                }
            }
        }
        _ => w.write_all(b"null"),
    }
}

/// `{"file":0,"frame":12}`.
fn write_frame(w: &mut Vec<u8>, f: crate::FrameRef) {
    if f.file < 10 {
        // One file digit (nearly always): the text up to the frame number
        // is one fixed copy with that digit set.
        let mut head = *b"{\"file\":0,\"frame\":";
        head[8] = b'0' + f.file as u8;
        w.extend_from_slice(&head);
    } else {
        w.extend_from_slice(b"{\"file\":");
        write_u64(w, u64::from(f.file));
        w.extend_from_slice(b",\"frame\":");
    }
    write_u64(w, f.frame);
    w.push(b'}');
}

/// `s` as a JSON string, escaped as serde_json escapes it: `"` and `\\`,
/// the control characters (`\n`, `\t`, … and `\u00xx`), nothing else.
/// Runs of plain bytes, found eight at a time, are copied whole.
pub fn write_str(w: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    // Whether any of the eight bytes is below 0x20, a quote or a backslash
    // (the classic "has a zero byte" tests, exact for "any").
    fn special(x: u64) -> bool {
        let below_space = x.wrapping_sub(ONES * 0x20) & !x;
        let quote = x ^ (ONES * u64::from(b'"'));
        let backslash = x ^ (ONES * u64::from(b'\\'));
        let zero = |v: u64| v.wrapping_sub(ONES) & !v;
        (below_space | zero(quote) | zero(backslash)) & HIGHS != 0
    }
    let b = s.as_bytes();
    w.reserve(b.len() + 2);
    w.push(b'"');
    let mut start = 0;
    let mut i = 0;
    while i < b.len() {
        if let Some(chunk) = b[i..].first_chunk::<8>() {
            if !special(u64::from_le_bytes(*chunk)) {
                i += 8;
                continue;
            }
        }
        let c = b[i];
        let unicode = [
            b'\\',
            b'u',
            b'0',
            b'0',
            HEX[usize::from(c >> 4)],
            HEX[usize::from(c & 15)],
        ];
        let escape: &[u8] = match c {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0..0x20 => &unicode,
            _ => {
                i += 1;
                continue;
            }
        };
        w.extend_from_slice(&b[start..i]);
        w.extend_from_slice(escape);
        i += 1;
        start = i;
    }
    w.extend_from_slice(&b[start..]);
    w.push(b'"');
}

/// `v` in decimal, as serde_json writes it.
fn write_u64(w: &mut Vec<u8>, mut v: u64) {
    // Digits right-aligned at 20 in a 40-byte block, then one fixed-size
    // copy of the 20 bytes from the first digit (no digit count needed).
    let mut buf = [0u8; 40];
    let mut i = 20;
    while v >= 100 {
        i -= 2;
        buf[i..i + 2].copy_from_slice(pair((v % 100) as usize));
        v /= 100;
    }
    if v >= 10 {
        i -= 2;
        buf[i..i + 2].copy_from_slice(pair(v as usize));
    } else {
        i -= 1;
        buf[i] = b'0' + v as u8;
    }
    let at = w.len();
    w.extend_from_slice(&buf[i..][..20]);
    w.truncate(at + 20 - i);
}

/// `n` nanoseconds (10⁴ ≤ n < 10¹⁵) as seconds in plain decimal, as
/// serde_json writes them: `0.000220591`, `12.5`, `3.0`. Every place is
/// written where it goes (no copy of a run of unknown length).
fn point_nanoseconds(n: u64, out: &mut [u8; 32]) -> usize {
    debug_assert!((10_000..1_000_000_000_000_000).contains(&n), "{n}");
    let (whole, frac) = (n / 1_000_000_000, (n % 1_000_000_000) as usize);
    let len = whole.checked_ilog10().map_or(1, |l| l as usize + 1);
    let mut w = whole;
    for d in out[..len].iter_mut().rev() {
        *d = b'0' + (w % 10) as u8;
        w /= 10;
    }
    out[len] = b'.';
    let (high, low) = (frac / 100_000, frac % 100_000);
    let f = &mut out[len + 1..len + 10];
    f[0..2].copy_from_slice(pair(high / 100));
    f[2..4].copy_from_slice(pair(high % 100));
    f[4] = b'0' + (low / 10_000) as u8;
    f[5..7].copy_from_slice(pair(low / 100 % 100));
    f[7..9].copy_from_slice(pair(low % 100));
    // Trailing zeros dropped, down to one place (`3.0`).
    let mut end = len + 10;
    while end > len + 2 && out[end - 1] == b'0' {
        end -= 1;
    }
    end
}

/// The two digits of `v` (0..100).
fn pair(v: usize) -> &'static [u8] {
    &PAIRS[v * 2..v * 2 + 2]
}

const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
    2021222324252627282930313233343536373839\
    4041424344454647484950515253545556575859\
    6061626364656667686970717273747576777879\
    8081828384858687888990919293949596979899";

/// Appends `buf[..n]` by copying all of `buf`, whose size is fixed (so the
/// copy is a few moves, not a call to `memcpy`), then dropping the rest.
#[inline(always)]
fn put<const N: usize>(w: &mut Vec<u8>, buf: &[u8; N], n: usize) {
    let at = w.len();
    w.extend_from_slice(buf);
    w.truncate(at + n);
}

/// `f` written as serde_json writes it, when `f` is a whole number of
/// nanoseconds in seconds (0 < f < 10^6 s), as every latency is; `None`
/// otherwise.
///
/// Why the nanoseconds' own digits are the shortest that round-trip (which
/// is what serde_json writes): `f` is the double nearest to
/// n·10⁻⁹, and n has at most 15 significant digits. Any other decimal with
/// as few digits differs from n·10⁻⁹ by at least one unit of its last
/// digit, over 10⁻¹⁵ relative, more than a double's spacing (2.2·10⁻¹⁶
/// relative): so none rounds to `f`, and n's digits are the shortest. Then
/// the digits are laid out as serde_json lays them out: in plain decimal
/// from 10⁻⁵ s ([`point_nanoseconds`]), with an exponent below; the tests
/// hold this to `serde_json::to_string`.
fn whole_nanoseconds(f: f64, out: &mut [u8; 32]) -> Option<usize> {
    if !(f > 0.0 && f < 1e6) {
        return None;
    }
    let rounded = (f * 1e9).round();
    if rounded / 1e9 != f {
        return None;
    }
    let mut n = rounded as u64;
    if n >= 10_000 {
        // 10⁻⁵ s and more (nearly every latency): whole seconds, the point,
        // the nine digits of the nanoseconds without their trailing zeros.
        return Some(point_nanoseconds(n, out));
    }
    // Under 10⁻⁵ s, serde_json writes an exponent: `d.ddde-6`.
    let mut exp: i32 = -9;
    while n % 10 == 0 {
        n /= 10;
        exp += 1;
    }
    let mut text = itoa::Buffer::new();
    let digits = text.format(n).as_bytes();
    let mut at = 0;
    let mut put = |b: &[u8]| {
        out[at..at + b.len()].copy_from_slice(b);
        at += b.len();
    };
    put(&digits[..1]);
    if digits.len() > 1 {
        put(b".");
        put(&digits[1..]);
    }
    put(b"e-");
    // f = d.ddd · 10^(len - 1 + exp), and len - 1 + exp is -6 or lower.
    put(itoa::Buffer::new()
        .format(1 - (digits.len() as i32 + exp))
        .as_bytes());
    Some(at)
}

/// `"a.b.c.d"`, copied as one fixed-size block.
fn write_ip(w: &mut Vec<u8>, a: Ipv4Addr) -> io::Result<()> {
    let text = wire::dhcp::Dotted::new(a);
    let (digits, n) = text.padded();
    let mut buf = [0u8; 21];
    buf[0] = b'"';
    buf[1..20].copy_from_slice(digits);
    buf[n + 1] = b'"';
    put(w, &buf, n + 2);
    Ok(())
}

/// Serialises a record through its direct writer, for serde users.
pub fn via_writer<S: serde::Serializer>(
    s: S,
    write: impl FnOnce(&mut Vec<u8>) -> io::Result<()>,
) -> Result<S::Ok, S::Error> {
    use serde::ser::Error;
    let mut buf = Vec::with_capacity(256);
    write(&mut buf).map_err(S::Error::custom)?;
    let text = String::from_utf8(buf).map_err(S::Error::custom)?;
    let raw = serde_json::value::RawValue::from_string(text).map_err(S::Error::custom)?;
    serde::Serialize::serialize(&raw, s)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What serde_json writes for `f`.
    fn serde(f: f64) -> String {
        serde_json::to_string(&f).unwrap()
    }

    fn fast(f: f64) -> Option<String> {
        let mut buf = [0u8; 32];
        whole_nanoseconds(f, &mut buf).map(|n| String::from_utf8(buf[..n].to_vec()).unwrap())
    }

    #[test]
    fn latencies_are_written_as_serde_json_writes_them() {
        // Every layout: exponent, 0.0000d, point inside, whole seconds.
        for ns in [
            1u64,
            7,
            10,
            100,
            12_345,
            99_999,
            100_000,
            220_591,
            1_000_000_000,
            1_500_000_000,
            2_000_000_000,
            999_999_999_999_999,
        ] {
            let f = ns as f64 / 1e9;
            assert_eq!(fast(f).as_deref(), Some(serde(f).as_str()), "{ns} ns");
        }
        // Every latency up to 0.2 ms, and a stride through larger ones.
        for ns in (1..=200_000u64).chain((1..200_000).map(|i| i * 4_999_999_937)) {
            let f = ns as f64 / 1e9;
            assert_eq!(fast(f).as_deref(), Some(serde(f).as_str()), "{ns} ns");
        }
        // Not whole nanoseconds, or out of range: left to serde_json.
        for f in [0.0, -0.001, 1e-10, 0.1 + 0.2, 1e6, 1.0 / 3.0] {
            assert_eq!(fast(f), None, "{f}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_nanoseconds_as_serde_json(ns in 1u64..1_000_000_000_000_000) {
            let f = ns as f64 / 1e9;
            proptest::prop_assert_eq!(fast(f), Some(serde(f)));
        }

        #[test]
        fn any_double_as_serde_json_or_declined(bits in proptest::prelude::any::<u64>()) {
            let f = f64::from_bits(bits);
            if let Some(text) = fast(f) {
                proptest::prop_assert_eq!(text, serde(f));
            }
        }

        #[test]
        fn any_number_as_serde(v in proptest::prelude::any::<u64>(), shift in 0u32..64) {
            for v in [v, v >> shift, 10u64.saturating_pow(shift % 20), 10u64.saturating_pow(shift % 20) - 1] {
                let mut b = vec![b'x'];
                write_u64(&mut b, v);
                let want = serde_json::to_string(&v).unwrap();
                proptest::prop_assert_eq!(&b[1..], want.as_bytes());
            }
        }

        #[test]
        fn any_address_as_serde(a in proptest::prelude::any::<u32>()) {
            let ip = Ipv4Addr::from(a);
            let mut b = Vec::new();
            write_ip(&mut b, ip).unwrap();
            proptest::prop_assert_eq!(String::from_utf8(b).unwrap(), serde_json::to_string(&ip).unwrap());
        }

        #[test]
        fn small_doubles_as_serde_json_or_declined(f in 1e-9f64..10.0) {
            if let Some(text) = fast(f) {
                proptest::prop_assert_eq!(text, serde(f));
            }
        }
    }

    #[test]
    fn frame_references_match_serde() {
        for file in [0u16, 1, 9, 10, 11, 99, 100, u16::MAX] {
            for frame in [0u64, 1, 9, 10, 12_345, u64::MAX] {
                let f = crate::FrameRef { file, frame };
                let mut b = Vec::new();
                write_frame(&mut b, f);
                assert_eq!(
                    String::from_utf8(b).unwrap(),
                    serde_json::to_string(&f).unwrap()
                );
            }
        }
    }

    #[test]
    fn keys_of_every_length_match_serde() {
        // Short keys take the fixed-block path, long ones the byte-by-byte
        // one; first and later fields differ by the comma.
        let letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
        for n in 0..=40 {
            let (k1, k2) = (&letters[..n], &letters[52 - n..]);
            let mut b = Vec::new();
            let mut o = Object::new(&mut b).unwrap();
            o.num(k1, 1).unwrap();
            o.num(k2, 2).unwrap();
            o.end().unwrap();
            let key = |k: &str| serde_json::to_string(k).unwrap();
            let want = format!("{{{}:1,{}:2}}", key(k1), key(k2));
            assert_eq!(String::from_utf8(b).unwrap(), want, "key length {n}");
        }
    }

    #[test]
    fn numbers_and_addresses_match_serde() {
        for v in [0u64, 9, 10, 99, 100, 12345, u64::MAX] {
            let mut b = Vec::new();
            write_u64(&mut b, v);
            assert_eq!(
                String::from_utf8(b).unwrap(),
                serde_json::to_string(&v).unwrap()
            );
        }
        for a in [
            "0.0.0.0",
            "10.0.0.1",
            "192.168.100.255",
            "255.255.255.255",
            "1.20.200.9",
        ] {
            let ip: Ipv4Addr = a.parse().unwrap();
            let mut b = Vec::new();
            write_ip(&mut b, ip).unwrap();
            assert_eq!(
                String::from_utf8(b).unwrap(),
                serde_json::to_string(&ip).unwrap()
            );
        }
    }
}
