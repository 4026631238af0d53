//! BOOTP/DHCPv4 messages (RFC 951, RFC 2131).
//!
//! [`Message`] is one representation for both directions: [`Message::parse_lenient`]
//! borrows from the packet bytes (no copy) and notes every [`Anomaly`];
//! [`Message::parse`] is the strict form for code that acts on what it reads;
//! [`Message::encode`] writes the same representation back.
//!
//! The options are an ordered list of raw TLVs ([`RawOption`]): pad, END,
//! duplicates, order and the options overloaded into `file` and `sname`
//! (option 52) are all kept, each with the byte offset it was found at. Typed
//! values are decoded on demand from the one table in [`options`].
//!
//! Round trips: `encode(&parse_lenient(b), b.len()) == b` for every message without
//! anomalies, and `parse_lenient(encode(m, n)) == m` for every message whose `sname`,
//! `file` and `trailer` do not end in zero bytes (those are padding) and whose
//! options are at most 255 bytes long (longer ones come back split, RFC 3396).

pub mod options;
pub mod parse;
mod table;
pub(crate) use table::length_allowed;
pub mod value;

use std::borrow::Cow;
use std::fmt;
use std::net::Ipv4Addr;

use crate::anomaly::{Anomaly, AnomalyKind};
pub use options::{RawOption, Region};
pub use table::{code, name, spec, Kind, OptionSpec, TABLE};
pub use value::Value;

/// The DHCP magic cookie, 99.130.83.99 (RFC 2131 §3).
pub const MAGIC_COOKIE: [u8; 4] = [99, 130, 83, 99];
/// Length of the fixed BOOTP header, up to and including `file`.
pub const FIXED_HEADER_LEN: usize = 236;
/// Offset of the first option, after the magic cookie.
pub const OPTIONS_OFFSET: usize = 240;
/// The BOOTP minimum message size (RFC 951's 64-byte `vend` field).
pub const BOOTP_MIN_LEN: usize = 300;
/// The broadcast bit of `flags` (RFC 2131 §2).
pub const FLAG_BROADCAST: u16 = 0x8000;

/// Byte ranges of the fixed fields (RFC 2131 figure 1).
pub mod field {
    use std::ops::Range;
    pub const OP: usize = 0;
    pub const HTYPE: usize = 1;
    pub const HLEN: usize = 2;
    pub const HOPS: usize = 3;
    pub const XID: Range<usize> = 4..8;
    pub const SECS: Range<usize> = 8..10;
    pub const FLAGS: Range<usize> = 10..12;
    pub const CIADDR: Range<usize> = 12..16;
    pub const YIADDR: Range<usize> = 16..20;
    pub const SIADDR: Range<usize> = 20..24;
    pub const GIADDR: Range<usize> = 24..28;
    pub const CHADDR: Range<usize> = 28..44;
    pub const SNAME: Range<usize> = 44..108;
    pub const FILE: Range<usize> = 108..236;
    pub const COOKIE: Range<usize> = 236..240;
}

/// BOOTP `op`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    BootRequest,
    BootReply,
    Unknown(u8),
}

impl From<u8> for Op {
    fn from(v: u8) -> Op {
        match v {
            1 => Op::BootRequest,
            2 => Op::BootReply,
            v => Op::Unknown(v),
        }
    }
}

impl From<Op> for u8 {
    fn from(op: Op) -> u8 {
        match op {
            Op::BootRequest => 1,
            Op::BootReply => 2,
            Op::Unknown(v) => v,
        }
    }
}

/// DHCP message type, option 53 (RFC 2132 §9.6, RFC 4388, RFC 6926, RFC 7724).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MessageType {
    Discover,
    Offer,
    Request,
    Decline,
    Ack,
    Nak,
    Release,
    Inform,
    ForceRenew,
    LeaseQuery,
    LeaseUnassigned,
    LeaseUnknown,
    LeaseActive,
    BulkLeaseQuery,
    LeaseQueryDone,
    ActiveLeaseQuery,
    LeaseQueryStatus,
    Tls,
    Unknown(u8),
}

impl From<u8> for MessageType {
    fn from(v: u8) -> MessageType {
        use MessageType::*;
        match v {
            1 => Discover,
            2 => Offer,
            3 => Request,
            4 => Decline,
            5 => Ack,
            6 => Nak,
            7 => Release,
            8 => Inform,
            9 => ForceRenew,
            10 => LeaseQuery,
            11 => LeaseUnassigned,
            12 => LeaseUnknown,
            13 => LeaseActive,
            14 => BulkLeaseQuery,
            15 => LeaseQueryDone,
            16 => ActiveLeaseQuery,
            17 => LeaseQueryStatus,
            18 => Tls,
            v => Unknown(v),
        }
    }
}

impl From<MessageType> for u8 {
    fn from(t: MessageType) -> u8 {
        use MessageType::*;
        match t {
            Discover => 1,
            Offer => 2,
            Request => 3,
            Decline => 4,
            Ack => 5,
            Nak => 6,
            Release => 7,
            Inform => 8,
            ForceRenew => 9,
            LeaseQuery => 10,
            LeaseUnassigned => 11,
            LeaseUnknown => 12,
            LeaseActive => 13,
            BulkLeaseQuery => 14,
            LeaseQueryDone => 15,
            ActiveLeaseQuery => 16,
            LeaseQueryStatus => 17,
            Tls => 18,
            Unknown(v) => v,
        }
    }
}

impl MessageType {
    /// The conventional upper-case name, e.g. `DHCPDISCOVER`.
    pub fn name(self) -> Cow<'static, str> {
        use MessageType::*;
        Cow::Borrowed(match self {
            Discover => "DHCPDISCOVER",
            Offer => "DHCPOFFER",
            Request => "DHCPREQUEST",
            Decline => "DHCPDECLINE",
            Ack => "DHCPACK",
            Nak => "DHCPNAK",
            Release => "DHCPRELEASE",
            Inform => "DHCPINFORM",
            ForceRenew => "DHCPFORCERENEW",
            LeaseQuery => "DHCPLEASEQUERY",
            LeaseUnassigned => "DHCPLEASEUNASSIGNED",
            LeaseUnknown => "DHCPLEASEUNKNOWN",
            LeaseActive => "DHCPLEASEACTIVE",
            BulkLeaseQuery => "DHCPBULKLEASEQUERY",
            LeaseQueryDone => "DHCPLEASEQUERYDONE",
            ActiveLeaseQuery => "DHCPACTIVELEASEQUERY",
            LeaseQueryStatus => "DHCPLEASEQUERYSTATUS",
            Tls => "DHCPTLS",
            Unknown(v) => return Cow::Owned(format!("DHCP-TYPE-{v}")),
        })
    }

    /// Whether a client sends this type (as opposed to a server).
    pub fn is_from_client(self) -> bool {
        use MessageType::*;
        matches!(self, Discover | Request | Decline | Release | Inform)
    }
}

impl fmt::Display for MessageType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// A client hardware address: `hlen` bytes of `chaddr`, at most 16.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct HwAddr {
    len: u8,
    /// The address, then zeros (so equal addresses have equal arrays).
    bytes: [u8; 16],
}

impl std::hash::Hash for HwAddr {
    /// Two words and the length: the engine hashes a chaddr for nearly every
    /// packet, and the derived hash of the 16-byte array adds a length
    /// prefix and a byte-slice hash (0.9 % of the analysis's instructions).
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        let (lo, hi) = self.bytes.split_at(8);
        let word = |b: &[u8]| u64::from_le_bytes(b.try_into().expect("8 bytes"));
        state.write_u64(word(lo));
        state.write_u64(word(hi) ^ u64::from(self.len));
    }
}

impl HwAddr {
    /// The first `len` bytes of `bytes` (clamped to 16).
    pub fn new(bytes: &[u8]) -> HwAddr {
        let len = bytes.len().min(16);
        let mut b = [0; 16];
        b[..len].copy_from_slice(&bytes[..len]);
        HwAddr {
            len: len as u8,
            bytes: b,
        }
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }

    /// Parses a hardware address of 1 to 16 bytes, in the forms switches,
    /// servers and operating systems print:
    /// - `aa:bb:cc:dd:ee:ff`, or with `-` (Windows), two digits a byte; one
    ///   digit is taken only in a six-byte MAC (ISC dhcpd logs `0:c:29:1:2:3`),
    ///   elsewhere it is more likely a digit left out;
    /// - `aabb-ccdd-eeff` (Huawei, H3C) and `aabbcc-ddeeff` (HP ProCurve);
    /// - Cisco's `aabb.ccdd.eeff`, four digits a group, the last one possibly
    ///   two (a client identifier in `show ip dhcp binding`: `0100.0b82.01fc.42`);
    /// - bare digits, two a byte.
    ///
    /// Anything else is refused: `aa::bb`, separators mixed, a sign
    /// (`from_str_radix` would take `+1` for a byte), a character outside ASCII.
    pub fn parse(s: &str) -> Option<HwAddr> {
        let digit = |c: char| c.to_digit(16).map(|d| d as u8);
        let sep = [':', '-', '.'].into_iter().find(|&c| s.contains(c));
        let groups: Vec<&str> = match sep {
            Some(sep) => s.split(sep).collect(),
            None => vec![s],
        };
        let lens: Vec<usize> = groups.iter().map(|g| g.len()).collect();
        let all = |n: usize| lens.iter().all(|&l| l == n);
        let fits = match (sep, lens.as_slice()) {
            (None, [n]) => n % 2 == 0,
            (Some(':' | '-'), _) if all(2) => true,
            // ISC's one-digit bytes: a six-byte MAC only.
            (Some(':' | '-'), _) if lens.len() == 6 => lens.iter().all(|&l| l == 1 || l == 2),
            (Some('-'), _) if all(4) => true,
            (Some('-'), [6, 6]) => true,
            (Some('.'), [init @ .., last]) => {
                !init.is_empty() && init.iter().all(|&l| l == 4) && matches!(last, 2 | 4)
            }
            _ => false,
        };
        if !fits {
            return None;
        }
        let mut bytes = Vec::with_capacity(6);
        for g in &groups {
            let digits = g.chars().map(digit).collect::<Option<Vec<u8>>>()?;
            match digits[..] {
                [lo] => bytes.push(lo),
                _ => bytes.extend(digits.chunks(2).map(|p| p[0] << 4 | p[1])),
            }
        }
        (1..=16).contains(&bytes.len()).then(|| HwAddr::new(&bytes))
    }
}

/// Lower-case hexadecimal digits.
const HEX: &[u8; 16] = b"0123456789abcdef";

impl HwAddr {
    /// `aa:bb:…` formatted on the stack (no `fmt` machinery).
    pub fn hex(&self) -> HexBuf {
        // A MAC (nearly every chaddr): `aa:` five times and `ff`, each byte's
        // three characters from one table row.
        if let [a, b, c, d, e, f] = *self.as_bytes() {
            const ROWS: [[u8; 3]; 256] = {
                let mut t = [[b':'; 3]; 256];
                let mut i = 0;
                while i < 256 {
                    t[i][0] = HEX[i >> 4];
                    t[i][1] = HEX[i & 0xf];
                    i += 1;
                }
                t
            };
            let mut buf = [0u8; 47];
            for (i, x) in [a, b, c, d, e, f].into_iter().enumerate() {
                buf[3 * i..3 * i + 3].copy_from_slice(&ROWS[usize::from(x)]);
            }
            return HexBuf { buf, len: 17 };
        }
        self.hex_any_length()
    }

    /// [`HwAddr::hex`] for lengths other than six, kept out of line: inlined,
    /// its loop unrolled over 16 bytes made the MAC path several times
    /// longer.
    #[inline(never)]
    fn hex_any_length(&self) -> HexBuf {
        let mut buf = [0u8; 47];
        let mut len = 0;
        for (i, b) in self.as_bytes().iter().enumerate() {
            if i > 0 {
                buf[len] = b':';
                len += 1;
            }
            buf[len] = HEX[usize::from(b >> 4)];
            buf[len + 1] = HEX[usize::from(b & 0xf)];
            len += 2;
        }
        HexBuf { buf, len }
    }
}

/// An IPv4 address as dotted-decimal text held on the stack, written without
/// the `fmt` machinery (`Ipv4Addr`'s `Display` formats four integers).
#[derive(Clone, Copy)]
pub struct Dotted {
    buf: [u8; 19],
    len: usize,
}

/// Each octet's decimal digits, left-aligned, with their count last.
const OCTETS: [[u8; 4]; 256] = {
    let mut t = [[0u8; 4]; 256];
    let mut i = 0;
    while i < 256 {
        let o = i as u8;
        t[i] = if o >= 100 {
            [b'0' + o / 100, b'0' + o / 10 % 10, b'0' + o % 10, 3]
        } else if o >= 10 {
            [b'0' + o / 10, b'0' + o % 10, 0, 2]
        } else {
            [b'0' + o, 0, 0, 1]
        };
        i += 1;
    }
    t
};

impl Dotted {
    /// Each octet's digits are copied from a table four bytes at a time, the
    /// next write starting where its digits end.
    pub fn new(a: Ipv4Addr) -> Dotted {
        let mut buf = [0u8; 19];
        let mut n = 0;
        for (i, o) in a.octets().into_iter().enumerate() {
            let d = OCTETS[usize::from(o)];
            buf[n..n + 4].copy_from_slice(&d);
            n += usize::from(d[3]);
            if i < 3 {
                buf[n] = b'.';
                n += 1;
            }
        }
        Dotted { buf, len: n }
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.buf[..self.len]).expect("ASCII")
    }

    /// The whole buffer and how much of it is text, for writers that copy
    /// a fixed size.
    pub fn padded(&self) -> (&[u8; 19], usize) {
        (&self.buf, self.len)
    }
}

impl std::fmt::Display for Dotted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

/// Hex text held on the stack: a MAC address, an xid.
pub struct HexBuf {
    buf: [u8; 47],
    len: usize,
}

impl std::fmt::Display for HexBuf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

impl HexBuf {
    /// `0x` and eight hex digits.
    pub fn xid(x: u32) -> HexBuf {
        let mut buf = [0u8; 47];
        buf[..2].copy_from_slice(b"0x");
        for i in 0..8 {
            buf[2 + i] = HEX[((x >> (28 - 4 * i)) & 0xf) as usize];
        }
        HexBuf { buf, len: 10 }
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.buf[..self.len]).expect("ASCII")
    }

    /// The whole buffer and how much of it is text, for writers that copy
    /// a fixed size.
    pub fn padded(&self) -> (&[u8; 47], usize) {
        (&self.buf, self.len)
    }
}

impl fmt::Display for HwAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.as_bytes().iter().enumerate() {
            if i > 0 {
                f.write_str(":")?;
            }
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for HwAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HwAddr({self})")
    }
}

/// A BOOTP/DHCP message.
///
/// `sname`, `file` and `trailer` are kept without their trailing zero bytes
/// (zeros there are padding; [`Message::encode`] writes them back).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message<'a> {
    pub op: Op,
    /// Hardware type (1 = Ethernet).
    pub htype: u8,
    /// Hardware address length as sent; may exceed 16 (see [`Message::chaddr`]).
    pub hlen: u8,
    pub hops: u8,
    pub xid: u32,
    pub secs: u16,
    pub flags: u16,
    pub ciaddr: Ipv4Addr,
    pub yiaddr: Ipv4Addr,
    pub siaddr: Ipv4Addr,
    pub giaddr: Ipv4Addr,
    /// All 16 bytes of the field, including what lies beyond `hlen`.
    pub chaddr_field: [u8; 16],
    /// The 64-byte `sname` field, raw (it may hold options, see option 52).
    pub sname: Cow<'a, [u8]>,
    /// The 128-byte `file` field, raw (it may hold options, see option 52).
    pub file: Cow<'a, [u8]>,
    /// The four bytes after `file`, if the message has them. Options are read
    /// only when they are [`MAGIC_COOKIE`].
    pub cookie: Option<[u8; 4]>,
    /// Every TLV in wire order: the options field first, then `file` and `sname`
    /// when option 52 says they hold options.
    pub options: Vec<RawOption<'a>>,
    /// Bytes after the options field's END (or, after a bad cookie, the whole
    /// vendor area), without trailing zeros.
    pub trailer: Cow<'a, [u8]>,
}

/// What a lenient parse read, and what it noticed.
#[derive(Debug, Clone)]
pub struct Lenient<'a> {
    /// `None` only when fewer than the 236 bytes of the fixed header were given.
    pub message: Option<Message<'a>>,
    pub anomalies: Vec<Anomaly>,
}

/// Why a strict parse refused a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError(pub Anomaly);

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "malformed DHCP message {}", self.0)
    }
}

impl std::error::Error for ParseError {}

fn ip(b: &[u8], r: std::ops::Range<usize>) -> Ipv4Addr {
    let o: [u8; 4] = b[r].try_into().expect("field is 4 bytes");
    Ipv4Addr::from(o)
}

/// `b` without its trailing zeros.
pub(crate) fn trim_zeros(b: &[u8]) -> &[u8] {
    // 16 bytes at a time first: `sname` and `file` are most often all zeros.
    let mut end = b.len();
    while end >= 16 && u128::from_ne_bytes(b[end - 16..end].try_into().expect("16 bytes")) == 0 {
        end -= 16;
    }
    let end = b[..end].iter().rposition(|&x| x != 0).map_or(0, |p| p + 1);
    &b[..end]
}

impl<'a> Message<'a> {
    /// A message with the given fixed fields zeroed, the magic cookie and an
    /// options list holding only END: the start of anything a client or server
    /// sends. `chaddr` sets `hlen`; `htype` is 1 (Ethernet).
    pub fn new(op: Op, xid: u32, chaddr: &[u8]) -> Message<'static> {
        let hw = HwAddr::new(chaddr);
        let mut field = [0; 16];
        field[..hw.as_bytes().len()].copy_from_slice(hw.as_bytes());
        Message {
            op,
            htype: 1,
            hlen: hw.len,
            hops: 0,
            xid,
            secs: 0,
            flags: 0,
            ciaddr: Ipv4Addr::UNSPECIFIED,
            yiaddr: Ipv4Addr::UNSPECIFIED,
            siaddr: Ipv4Addr::UNSPECIFIED,
            giaddr: Ipv4Addr::UNSPECIFIED,
            chaddr_field: field,
            sname: Cow::Borrowed(&[]),
            file: Cow::Borrowed(&[]),
            cookie: Some(MAGIC_COOKIE),
            options: vec![RawOption::new(code::END, Vec::new())],
            trailer: Cow::Borrowed(&[]),
        }
    }

    /// Reads as much of `bytes` as can be read and notes every anomaly. Never
    /// panics; offsets in anomalies are from the start of `bytes`.
    pub fn parse_lenient(bytes: &'a [u8]) -> Lenient<'a> {
        let mut anomalies = Vec::new();
        let message = Message::parse_lenient_into(bytes, &mut anomalies);
        Lenient { message, anomalies }
    }

    /// [`Message::parse_lenient`] appending its anomalies to `anomalies` (offsets
    /// still from the start of `bytes`): for a caller that gathers the
    /// anomalies of several layers in one list.
    pub(crate) fn parse_lenient_into(
        bytes: &'a [u8],
        anomalies: &mut Vec<Anomaly>,
    ) -> Option<Message<'a>> {
        if bytes.len() < FIXED_HEADER_LEN {
            anomalies.push(Anomaly::new(
                0,
                AnomalyKind::MessageTooShort {
                    length: bytes.len(),
                },
            ));
            return None;
        }
        if bytes.len() < BOOTP_MIN_LEN {
            anomalies.push(Anomaly::new(
                0,
                AnomalyKind::BelowBootpMinimum {
                    length: bytes.len(),
                },
            ));
        }
        let op = Op::from(bytes[field::OP]);
        if let Op::Unknown(op) = op {
            anomalies.push(Anomaly::new(field::OP, AnomalyKind::UnknownOp { op }));
        }
        let hlen = bytes[field::HLEN];
        if hlen > 16 {
            anomalies.push(Anomaly::new(
                field::HLEN,
                AnomalyKind::HardwareLengthTooLarge { hlen },
            ));
        }
        let mut m = Message {
            op,
            htype: bytes[field::HTYPE],
            hlen,
            hops: bytes[field::HOPS],
            xid: u32::from_be_bytes(bytes[field::XID].try_into().expect("4 bytes")),
            secs: u16::from_be_bytes([bytes[8], bytes[9]]),
            flags: u16::from_be_bytes([bytes[10], bytes[11]]),
            ciaddr: ip(bytes, field::CIADDR),
            yiaddr: ip(bytes, field::YIADDR),
            siaddr: ip(bytes, field::SIADDR),
            giaddr: ip(bytes, field::GIADDR),
            chaddr_field: bytes[field::CHADDR].try_into().expect("16 bytes"),
            sname: Cow::Borrowed(trim_zeros(&bytes[field::SNAME])),
            file: Cow::Borrowed(trim_zeros(&bytes[field::FILE])),
            cookie: None,
            // Most messages carry fewer than 24 TLVs: one allocation.
            options: Vec::with_capacity(24),
            trailer: Cow::Borrowed(&[]),
        };
        if bytes.len() < OPTIONS_OFFSET {
            anomalies.push(Anomaly::new(FIXED_HEADER_LEN, AnomalyKind::NoMagicCookie));
            m.trailer = Cow::Borrowed(trim_zeros(&bytes[FIXED_HEADER_LEN..]));
            return Some(m);
        }
        let cookie: [u8; 4] = bytes[field::COOKIE].try_into().expect("4 bytes");
        m.cookie = Some(cookie);
        if cookie != MAGIC_COOKIE {
            anomalies.push(Anomaly::new(
                field::COOKIE.start,
                AnomalyKind::BadMagicCookie { found: cookie },
            ));
            m.trailer = Cow::Borrowed(trim_zeros(&bytes[OPTIONS_OFFSET..]));
            return Some(m);
        }

        let mut census = table::Census::new();
        match options::scan(
            bytes,
            OPTIONS_OFFSET..bytes.len(),
            Region::Options,
            &mut m.options,
            &mut census,
            anomalies,
        ) {
            options::ScanEnd::End(end) => {
                // Zeros after END are padding; anything else is a trailer.
                let trailer = trim_zeros(&bytes[end + 1..]);
                if let Some(first) = trailer.iter().position(|&b| b != 0) {
                    let count = trailer.iter().filter(|&&b| b != 0).count();
                    anomalies.push(Anomaly::new(
                        end + 1 + first,
                        AnomalyKind::BytesAfterEnd {
                            region: Region::Options,
                            count,
                        },
                    ));
                }
                m.trailer = Cow::Borrowed(trailer);
            }
            options::ScanEnd::Exhausted => anomalies.push(Anomaly::new(
                bytes.len(),
                AnomalyKind::MissingEnd {
                    region: Region::Options,
                },
            )),
            options::ScanEnd::Truncated => {}
        }

        // Option 52: options continue in `file`, then in `sname` (RFC 2131 §4.1).
        // Only the options field is read so far: the first 52 is there.
        if let Some(overload) = census.first_overload.map(|i| &m.options[i]) {
            let value = match overload.data.as_ref() {
                [v @ 1..=3] => Some(*v),
                other => {
                    anomalies.push(Anomaly::new(
                        overload.offset,
                        AnomalyKind::OverloadInvalid {
                            value: other.to_vec(),
                        },
                    ));
                    None
                }
            };
            if let Some(v) = value {
                for (bit, region, range) in [
                    (1, Region::File, field::FILE),
                    (2, Region::Sname, field::SNAME),
                ] {
                    if v & bit == 0 {
                        continue;
                    }
                    let start = range.start;
                    match options::scan(
                        bytes,
                        range.clone(),
                        region,
                        &mut m.options,
                        &mut census,
                        anomalies,
                    ) {
                        options::ScanEnd::End(end) => {
                            let after = &bytes[end + 1..range.end];
                            if let Some(first) = after.iter().position(|&b| b != 0) {
                                let count = after.iter().filter(|&&b| b != 0).count();
                                anomalies.push(Anomaly::new(
                                    end + 1 + first,
                                    AnomalyKind::BytesAfterEnd { region, count },
                                ));
                            }
                        }
                        options::ScanEnd::Exhausted => anomalies.push(Anomaly::new(
                            start,
                            AnomalyKind::OverloadWithoutEnd { region },
                        )),
                        options::ScanEnd::Truncated => {}
                    }
                }
            }
        }

        table::check_options(&m.options, &census, anomalies);
        Some(m)
    }

    /// Parses a message, refusing anything malformed. A message shorter than the
    /// 300-byte BOOTP minimum is accepted (many real senders omit the padding).
    pub fn parse(bytes: &'a [u8]) -> Result<Message<'a>, ParseError> {
        let Lenient { message, anomalies } = Message::parse_lenient(bytes);
        if let Some(a) = anomalies
            .into_iter()
            .find(|a| !matches!(a.kind, AnomalyKind::BelowBootpMinimum { .. }))
        {
            return Err(ParseError(a));
        }
        Ok(message.expect("a message without anomalies has its header"))
    }

    /// Writes the message: the fixed header, options in list order (Options-region
    /// TLVs after the cookie; File/Sname-region TLVs written over those fields,
    /// which are zeros around them when option 52 gives them to options),
    /// values longer than 255 bytes split into several TLVs (RFC 3396), then the
    /// trailer and zero padding up to `min_len` bytes. Fields longer than their
    /// wire size are cut to it.
    pub fn encode(&self, min_len: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(min_len.max(OPTIONS_OFFSET + 64));
        self.encode_into(&mut out, min_len);
        out
    }

    /// [`Message::encode`] appending to `out`.
    pub fn encode_into(&self, out: &mut Vec<u8>, min_len: usize) {
        let base = out.len();
        out.extend_from_slice(&[u8::from(self.op), self.htype, self.hlen, self.hops]);
        out.extend_from_slice(&self.xid.to_be_bytes());
        out.extend_from_slice(&self.secs.to_be_bytes());
        out.extend_from_slice(&self.flags.to_be_bytes());
        for a in [self.ciaddr, self.yiaddr, self.siaddr, self.giaddr] {
            out.extend_from_slice(&a.octets());
        }
        out.extend_from_slice(&self.chaddr_field);
        for (field, len) in [(&self.sname, 64), (&self.file, 128)] {
            let n = field.len().min(len);
            out.extend_from_slice(&field[..n]);
            out.resize(out.len() + len - n, 0);
        }
        for (region, range) in [(Region::File, field::FILE), (Region::Sname, field::SNAME)] {
            let mut area = Vec::new();
            for o in self.options.iter().filter(|o| o.region == region) {
                o.encode_into(&mut area);
            }
            let field = &mut out[base + range.start..base + range.end];
            // A field option 52 gives to options holds its TLVs and zeros,
            // not what it held when read (options since removed or moved),
            // unless it still holds exactly them: then it is written as read,
            // with any bytes after its END (replay resends what was captured).
            if self.overloads(region) && !holds_exactly(field, region, &self.options) {
                field.fill(0);
            }
            let n = area.len().min(field.len());
            field[..n].copy_from_slice(&area[..n]);
        }
        if let Some(cookie) = self.cookie {
            out.extend_from_slice(&cookie);
            for o in self.options.iter().filter(|o| o.region == Region::Options) {
                o.encode_into(out);
            }
        }
        out.extend_from_slice(&self.trailer);
        if out.len() - base < min_len {
            out.resize(base + min_len, 0);
        }
    }

    /// The client hardware address: the first `hlen` bytes of `chaddr` (at most 16).
    pub fn chaddr(&self) -> HwAddr {
        HwAddr::new(&self.chaddr_field[..usize::from(self.hlen.min(16))])
    }

    /// Sets `chaddr` and `hlen` from `addr`.
    pub fn set_chaddr(&mut self, addr: &[u8]) {
        let hw = HwAddr::new(addr);
        self.chaddr_field = [0; 16];
        self.chaddr_field[..hw.as_bytes().len()].copy_from_slice(hw.as_bytes());
        self.hlen = hw.len;
    }

    pub fn broadcast(&self) -> bool {
        self.flags & FLAG_BROADCAST != 0
    }

    /// The joined value of option `code` (RFC 3396: all its TLVs concatenated in
    /// order), or `None` if absent. Borrowed when there is a single TLV.
    pub fn option(&self, code: u8) -> Option<Cow<'_, [u8]>> {
        options::joined(&self.options, code)
    }

    pub fn has_option(&self, code: u8) -> bool {
        self.options.iter().any(|o| o.code == code)
    }

    /// The option's value decoded by its type in the table (PXE sub-options of
    /// option 43 when this message's option 60 starts with `PXEClient`).
    pub fn value(&self, code: u8) -> Option<Value<'_>> {
        let data = self.option(code)?;
        Some(value::decode(code, data, &self.decode_context()))
    }

    /// What typed decoding of this message's options needs to know.
    pub fn decode_context(&self) -> value::Context {
        value::Context {
            pxe: self
                .option(code::VENDOR_CLASS_IDENTIFIER)
                .is_some_and(|v| v.starts_with(b"PXEClient")),
        }
    }

    /// Option 53, if present with a one-byte value (the first one, if repeated).
    pub fn message_type(&self) -> Option<MessageType> {
        self.options
            .iter()
            .find(|o| o.code == code::DHCP_MESSAGE_TYPE)
            .and_then(|o| match o.data.as_ref() {
                [t] => Some(MessageType::from(*t)),
                _ => None,
            })
    }

    fn option_ip(&self, code: u8) -> Option<Ipv4Addr> {
        let d = self.option(code)?;
        let o: [u8; 4] = d.as_ref().try_into().ok()?;
        Some(Ipv4Addr::from(o))
    }

    fn option_u32(&self, code: u8) -> Option<u32> {
        let d = self.option(code)?;
        Some(u32::from_be_bytes(d.as_ref().try_into().ok()?))
    }

    /// Option 54.
    pub fn server_id(&self) -> Option<Ipv4Addr> {
        self.option_ip(code::SERVER_IDENTIFIER)
    }
    /// Option 50.
    pub fn requested_ip(&self) -> Option<Ipv4Addr> {
        self.option_ip(code::REQUESTED_IP_ADDRESS)
    }
    /// Option 1.
    pub fn subnet_mask(&self) -> Option<Ipv4Addr> {
        self.option_ip(code::SUBNET_MASK)
    }
    /// Option 51, seconds.
    pub fn lease_time(&self) -> Option<u32> {
        self.option_u32(code::IP_ADDRESS_LEASE_TIME)
    }
    /// Option 58, seconds.
    pub fn renewal_time(&self) -> Option<u32> {
        self.option_u32(code::RENEWAL_TIME)
    }
    /// Option 59, seconds.
    pub fn rebinding_time(&self) -> Option<u32> {
        self.option_u32(code::REBINDING_TIME)
    }
    /// Option 57.
    pub fn max_message_size(&self) -> Option<u16> {
        let d = self.option(code::MAX_DHCP_MESSAGE_SIZE)?;
        Some(u16::from_be_bytes(d.as_ref().try_into().ok()?))
    }

    /// `sname` as text up to its first NUL, unless option 52 gives it to options.
    pub fn server_name(&self) -> Option<Cow<'_, str>> {
        (!self.overloads(Region::Sname)).then(|| c_string(&self.sname))
    }

    /// `file` as text up to its first NUL, unless option 52 gives it to options.
    pub fn boot_file(&self) -> Option<Cow<'_, str>> {
        (!self.overloads(Region::File)).then(|| c_string(&self.file))
    }

    /// Whether option 52 names `region` as holding options. As when parsing,
    /// only the first option 52 in the options field counts (RFC 2131 §4.1:
    /// one found in `file` or `sname` cannot say where options continue).
    pub fn overloads(&self, region: Region) -> bool {
        let bit = match region {
            Region::File => 1,
            Region::Sname => 2,
            Region::Options => return false,
        };
        let first = self
            .options
            .iter()
            .find(|o| o.code == code::OPTION_OVERLOAD && o.region == Region::Options);
        matches!(first.map(|o| o.data.as_ref()), Some([v @ 1..=3]) if v & bit != 0)
    }

    /// Replaces option `code` in the options field (all its TLVs, wherever they
    /// are) by one carrying `data`, at the place of the first one if that is in
    /// the options field, else before its END.
    pub fn set_option(&mut self, code: u8, data: impl Into<Cow<'a, [u8]>>) {
        let new = RawOption::new(code, data);
        let first = self.options.iter().position(|o| o.code == code);
        match first.filter(|&i| self.options[i].region == Region::Options) {
            Some(i) => {
                self.options[i] = new;
                let mut seen = 0;
                self.options.retain(|o| {
                    if o.code == code {
                        seen += 1;
                        seen == 1
                    } else {
                        true
                    }
                });
            }
            None => {
                // Absent, or only overloaded into `file` or `sname` (placed
                // there, it would be written after END, as trailer).
                self.remove_option(code);
                let at = self
                    .options
                    .iter()
                    .position(|o| o.code == code::END && o.region == Region::Options)
                    .unwrap_or(self.options.len());
                self.options.insert(at, new);
            }
        }
    }

    /// Removes every TLV of option `code`; returns whether there was one.
    pub fn remove_option(&mut self, code: u8) -> bool {
        let before = self.options.len();
        self.options.retain(|o| o.code != code);
        before != self.options.len()
    }

    /// A copy that owns all its bytes.
    pub fn into_owned(self) -> Message<'static> {
        Message {
            sname: Cow::Owned(self.sname.into_owned()),
            file: Cow::Owned(self.file.into_owned()),
            options: self
                .options
                .into_iter()
                .map(RawOption::into_owned)
                .collect(),
            trailer: Cow::Owned(self.trailer.into_owned()),
            ..self
        }
    }
}

/// Whether `field`, read as options, gives exactly the TLVs `options` has in
/// `region` (in order, PAD and END included).
fn holds_exactly(field: &[u8], region: Region, options: &[RawOption<'_>]) -> bool {
    let mut read = Vec::new();
    options::scan(
        field,
        0..field.len(),
        region,
        &mut read,
        &mut table::Census::new(),
        &mut Vec::new(),
    );
    read.iter()
        .eq(options.iter().filter(|o| o.region == region))
}

/// What the start of a message cut inside its fixed header (by a snap
/// length, or an ICMP error's quote) still tells: its xid, once the bytes
/// reach past it, and its `chaddr`, once they hold the `hlen` bytes of it
/// (at most 16, as [`Message::chaddr`] reads it: none for an hlen of 0).
pub fn header_ids(start: &[u8]) -> (Option<u32>, Option<HwAddr>) {
    let xid = start
        .get(4..8)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
    let chaddr = start.get(2).and_then(|&hlen| {
        let hlen = usize::from(hlen.min(16));
        start.get(28..28 + hlen).map(HwAddr::new)
    });
    (xid, chaddr)
}

/// The bytes of a NUL-terminated field (`sname`, `file`) before the first NUL.
pub fn until_nul(b: &[u8]) -> &[u8] {
    &b[..b.iter().position(|&c| c == 0).unwrap_or(b.len())]
}

/// Text up to the first NUL, invalid UTF-8 replaced.
fn c_string(b: &[u8]) -> Cow<'_, str> {
    String::from_utf8_lossy(until_nul(b))
}

#[cfg(test)]
mod tests;
