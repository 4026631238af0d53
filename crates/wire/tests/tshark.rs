//! Differential test: this crate's decoding against tshark's, packet by packet,
//! over every capture of the shared corpus (`../shared/corpus/` from the
//! workspace root; see its README).
//!
//! For each capture, one tshark run:
//!
//! ```text
//! tshark -n -r FILE -T json -x -Y dhcp -J "frame ip udp dhcp" \
//!        -o udp.check_checksum:TRUE -o ip.check_checksum:TRUE \
//!        -o "dhcp.uuid.endian:Big Endian"
//! ```
//!
//! - `-o udp.check_checksum:TRUE` makes tshark verify UDP checksums, so its
//!   `udp.checksum.status` (0 bad, 1 good, 2 unverified, 3 not present) can be
//!   compared with our [`UdpChecksum`]; `-o ip.check_checksum:TRUE` does the
//!   same for the IPv4 header checksum; `-o "dhcp.uuid.endian:Big Endian"`
//!   shows option 97's GUID in wire order, as we do. tshark 4.0 has no state of its own for
//!   a partial (offload) checksum: it calls it bad, and so the test checks that
//!   tshark says bad and that tshark's own IP addresses and UDP length give the
//!   pseudo-header sum found in the field.
//! - `-x` adds `FIELD_raw: [hex, offset, length, mask, type]` beside every
//!   field: options are matched by their byte offset in the frame, and their
//!   raw bytes are compared before their typed values.
//! - `-J` keeps only the layers compared (the output of the 10,000-packet
//!   flood is 100 MB as it is).
//! - tshark's JSON repeats keys (one `dhcp.option.type` per option), so it is
//!   read with an order-preserving parser, streamed packet by packet.
//!
//! Compared: whether a frame is DHCP at all; IPv4 addresses, UDP ports and
//! length; both checksums; every fixed field (op … cookie); for every option,
//! its presence at the same offset, its code and raw value; for the options
//! whose typed value both tools decode, that value normalised (addresses,
//! numbers, strings, lists, and the sub-fields of 33, 43 PXE, 61, 77, 81, 82,
//! 90, 97, 119, 120, 121/249, 124/125 …). Each difference names the file,
//! frame and field.
//!
//! Where the two only present the same thing differently, the test
//! normalises rather than allow-lists: `0x` numbers are compared as numbers;
//! a cookie that is not the DHCP magic is "BOOTP" on both sides (tshark then
//! shows `dhcp.bootp` and no cookie); an `hlen` of 0 is an empty `chaddr`;
//! strings are compared as tshark shows them (up to NUL, C escapes); an option
//! split over several TLVs (RFC 3396) is compared joined, against tshark's
//! per-TLV values taken in order; PAD is not compared (tshark shows runs). It must be fixed in the crate, or listed in [`ALLOWED`] with its
//! reason; an unlisted difference, or a listed one that no longer occurs,
//! fails the test.
//!
//! Without tshark the test prints `SKIPPED …` and passes, except under
//! `CI=true`, where it fails.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::{self, Write as _};
use std::io::BufReader;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use wire::checksum::{self, UdpChecksum};
use wire::dhcp::value::{Route, Value};
use wire::dhcp::{Message, RawOption};
use wire::{AnomalyKind, LinkType};

#[path = "../../../tests/support/corpus.rs"]
mod corpus;

// ---------------------------------------------------------------------------
// The allow-list.

/// A known, explained difference between us and tshark.
struct Allowed {
    /// Path under the corpus.
    file: &'static str,
    /// `None`: every frame of the file.
    frame: Option<u64>,
    /// The field as the test names it; a trailing `*` matches a prefix.
    field: &'static str,
    reason: &'static str,
}

const ALLOWED: &[Allowed] = &[
    Allowed {
        file: "net-dhcp/dhcpfo.pcapng",
        frame: None,
        field: "secs",
        reason: "the field holds 0x0a00: tshark guesses a little-endian sender and shows 10 \
                 (its note 'Seconds elapsed appears to be encoded as little-endian'); we show \
                 the field as sent, in network order (RFC 2131), i.e. 2560",
    },
    Allowed {
        file: "net-dhcp/dhcpfo.pcapng",
        frame: None,
        field: "opt77.valid",
        reason: "Windows Server's option 77 (two TLVs of its own user-class list format, \
                 starting with a 0 byte) is not RFC 3004: tshark reports 'UC_Len_0 isn't >= 1'; \
                 we fall back to showing it as text, by design (Kind::UserClass)",
    },
    Allowed {
        file: "tcpdump/dhcp-option-33.pcap",
        frame: Some(5),
        field: "opt33.valid",
        reason: "an empty option 33: tshark shows 'Value: <MISSING>' without an expert info; \
                 we flag it, RFC 2132 §5.8 requires at least one 8-byte route",
    },
    Allowed {
        file: "synthetic.pcapng",
        frame: None,
        field: "opt82.valid",
        reason: "sub-option 152: tshark reads Cisco's proprietary 'server ID override' (4 \
                 bytes) and flags the empty value; we read IANA's VSS-Control (RFC 6607 §3.2), \
                 which is empty",
    },
];

// ---------------------------------------------------------------------------
// tshark's JSON, read in order with repeated keys kept.

#[derive(Debug)]
enum Node {
    Null,
    Bool,
    Num(f64),
    Str(String),
    Arr(Vec<Node>),
    Obj(Vec<(String, Node)>),
}

impl<'de> de::Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Node, D::Error> {
        d.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JSON")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Node, E> {
        Ok(Node::Bool)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Node, E> {
        Ok(Node::Num(v as f64))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Num(v as f64))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Node, E> {
        Ok(Node::Num(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Node, E> {
        Ok(Node::Str(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Node, E> {
        Ok(Node::Str(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<Node, A::Error> {
        let mut v = Vec::new();
        while let Some(x) = s.next_element()? {
            v.push(x);
        }
        Ok(Node::Arr(v))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Node, A::Error> {
        let mut v = Vec::new();
        while let Some((k, x)) = m.next_entry::<String, Node>()? {
            v.push((k, x));
        }
        Ok(Node::Obj(v))
    }
}

/// Calls `f` on each element of the top-level array, one at a time.
struct EachPacket<F>(F);

impl<'de, F: FnMut(Node)> DeserializeSeed<'de> for EachPacket<F> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, F: FnMut(Node)> Visitor<'de> for EachPacket<F> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of packets")
    }
    fn visit_seq<A: SeqAccess<'de>>(mut self, mut s: A) -> Result<(), A::Error> {
        while let Some(p) = s.next_element::<Node>()? {
            (self.0)(p);
        }
        Ok(())
    }
}

impl Node {
    fn entries(&self) -> &[(String, Node)] {
        match self {
            Node::Obj(v) => v,
            _ => &[],
        }
    }

    /// The last value of `key` (tshark repeats keys; for layers the innermost
    /// one comes last).
    fn get(&self, key: &str) -> Option<&Node> {
        self.entries()
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    /// Every value of `key`, in order.
    fn all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.entries()
            .iter()
            .filter(move |(k, _)| k == key)
            .map(|(_, v)| v)
    }

    fn str(&self) -> Option<&str> {
        match self {
            Node::Str(s) => Some(s),
            _ => None,
        }
    }

    fn s(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(Node::str)
    }

    /// Every string value of `key`, in order.
    fn strs(&self, key: &str) -> Vec<String> {
        self.all(key)
            .filter_map(Node::str)
            .map(str::to_owned)
            .collect()
    }

    /// A `_raw` array: the bytes and their offset in the frame.
    fn raw(&self) -> Option<(Vec<u8>, usize)> {
        let Node::Arr(a) = self else { return None };
        let hex = a.first()?.str()?;
        let Some(Node::Num(off)) = a.get(1) else {
            return None;
        };
        Some((unhex(hex), *off as usize))
    }

    /// Whether tshark flags this tree's value as malformed: a wrong length,
    /// a malformed-packet exception, or an impossible field. (Other expert
    /// infos, e.g. "unknown tag" or "trailing stray characters", are notes
    /// about content, not about the option's form.)
    fn malformed(&self) -> bool {
        const MALFORMED: &[&str] = &[
            "_ws.malformed",
            "dhcp.bad_length",
            "dhcp.option.classless_static.route",
            "dhcp.option.sip_server_address.encoding",
        ];
        match self {
            Node::Obj(v) => v
                .iter()
                .any(|(k, x)| MALFORMED.contains(&k.as_str()) || x.malformed()),
            Node::Arr(v) => v.iter().any(Node::malformed),
            _ => false,
        }
    }
}

fn unhex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| c.is_ascii_hexdigit()).collect();
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).expect("hex"))
        .collect()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|c| format!("{c:02x}")).collect()
}

fn colon_hex(b: &[u8]) -> String {
    b.iter()
        .map(|c| format!("{c:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// `0x`-prefixed numbers as decimal; anything else unchanged. (Decimal
/// strings are left alone: a hex byte string such as `0012` must not equal
/// `12`.)
fn norm(s: &str) -> String {
    if let Some(h) = s.strip_prefix("0x") {
        if let Ok(v) = u128::from_str_radix(h, 16) {
            return v.to_string();
        }
    }
    s.to_owned()
}

/// Text as tshark shows a string field: printable ASCII as is, other bytes
/// as C escapes (`\n`, `\001`…), up to the first NUL.
fn tshark_text(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    let mut s = String::new();
    for &c in &b[..end] {
        match c {
            b'\\' => s.push_str("\\\\"),
            0x07 => s.push_str("\\a"),
            0x08 => s.push_str("\\b"),
            0x0c => s.push_str("\\f"),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            b'\t' => s.push_str("\\t"),
            0x0b => s.push_str("\\v"),
            0x20..=0x7e => s.push(char::from(c)),
            _ => {
                let _ = write!(s, "\\{c:03o}");
            }
        }
    }
    s
}

// ---------------------------------------------------------------------------
// Differences and counts.

struct Diff {
    file: String,
    frame: u64,
    field: String,
    ours: String,
    theirs: String,
}

impl fmt::Display for Diff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} frame {}: {}: ours {}, tshark {}",
            self.file, self.frame, self.field, self.ours, self.theirs
        )
    }
}

#[derive(Default)]
struct Stats {
    packets: usize,
    fixed: usize,
    options: usize,
    /// Typed values compared, by option code and field.
    typed: BTreeMap<String, usize>,
    checksums: BTreeMap<&'static str, usize>,
}

struct Ctx<'a> {
    file: &'a str,
    frame: u64,
    diffs: &'a mut Vec<Diff>,
    stats: &'a mut Stats,
}

impl Ctx<'_> {
    fn differ(
        &mut self,
        field: impl Into<String>,
        ours: impl fmt::Display,
        theirs: impl fmt::Display,
    ) {
        self.diffs.push(Diff {
            file: self.file.to_owned(),
            frame: self.frame,
            field: field.into(),
            ours: ours.to_string(),
            theirs: theirs.to_string(),
        });
    }

    /// Compares after [`norm`]; `None` on tshark's side is "tshark does not
    /// show it".
    fn check(&mut self, field: &str, ours: impl fmt::Display, theirs: Option<&str>) {
        let ours = ours.to_string();
        match theirs {
            Some(t) if norm(t) == norm(&ours) => {}
            Some(t) => self.differ(field, ours, t),
            None => self.differ(field, ours, "(absent)"),
        }
    }
}

// ---------------------------------------------------------------------------
// One frame.

/// A frame we read as DHCP, owned.
struct OurFrame {
    link: LinkType,
    data: Vec<u8>,
    orig_len: usize,
}

fn compare_packet(
    pkt: &Node,
    ours: &HashMap<u64, OurFrame>,
    seen: &mut HashSet<u64>,
    cx: &mut Ctx<'_>,
) {
    let layers = pkt
        .get("_source")
        .and_then(|s| s.get("layers"))
        .expect("tshark packet without layers");
    let frame: u64 = layers
        .get("frame")
        .and_then(|f| f.s("frame.number"))
        .and_then(|n| n.parse().ok())
        .expect("frame.number");
    cx.frame = frame;
    cx.stats.packets += 1;
    seen.insert(frame);
    let Some(of) = ours.get(&frame) else {
        cx.differ("dhcp", "(not a DHCP frame)", "DHCP");
        return;
    };
    let p = wire::packet::decode(of.link, &of.data, of.orig_len)
        .expect("decoded before")
        .expect("DHCP before");
    let f = &p.frame;

    // IPv4 and UDP.
    let ip = layers.get("ip");
    let udp = layers.get("udp");
    match (ip, udp) {
        (Some(ip), Some(udp)) => {
            cx.check("ip.src", f.ip.src, ip.s("ip.src"));
            cx.check("ip.dst", f.ip.dst, ip.s("ip.dst"));
            let ip_bad = p
                .anomalies
                .iter()
                .any(|a| matches!(a.kind, AnomalyKind::Ipv4ChecksumInvalid { .. }));
            cx.check(
                "ip.checksum.status",
                if ip_bad { 0 } else { 1 },
                ip.s("ip.checksum.status"),
            );
            cx.check("udp.srcport", f.udp.src_port, udp.s("udp.srcport"));
            cx.check("udp.dstport", f.udp.dst_port, udp.s("udp.dstport"));
            cx.check("udp.length", f.udp.length, udp.s("udp.length"));
            compare_checksum(f, &of.data, ip, udp, cx);
        }
        _ => cx.differ("ip/udp", "IPv4 and UDP", "(no ip or udp layer)"),
    }

    let dhcp = layers.get("dhcp");
    match (&p.message, dhcp) {
        (Some(m), Some(d @ Node::Obj(_))) => {
            compare_fixed(m, d, cx);
            compare_options(m, f.payload_offset, d, cx);
        }
        (Some(_), Some(_)) => cx.differ("dhcp", "a message", "(no fields: malformed)"),
        (None, Some(Node::Obj(_))) => cx.differ("dhcp", "(too short for a message)", "a message"),
        (_, None) => cx.differ("dhcp", "a message", "(no dhcp layer)"),
        (None, Some(_)) => {}
    }
}

fn compare_checksum(f: &wire::Frame<'_>, data: &[u8], ip: &Node, udp: &Node, cx: &mut Ctx<'_>) {
    // Nested under `udp.checksum_tree` when the field is zero.
    let status = udp.s("udp.checksum.status").or_else(|| {
        udp.get("udp.checksum_tree")
            .and_then(|t| t.s("udp.checksum.status"))
    });
    let (want, name) = match f.udp.checksum {
        UdpChecksum::Valid => ("1", "valid"),
        UdpChecksum::Invalid { .. } => ("0", "invalid"),
        UdpChecksum::Partial { .. } => ("0", "partial"),
        UdpChecksum::Zero => ("3", "zero"),
        UdpChecksum::Unchecked => ("2", "unchecked"),
    };
    *cx.stats.checksums.entry(name).or_default() += 1;
    cx.check("udp.checksum.status", want, status);
    let calculated = udp
        .get("udp.checksum_tree")
        .and_then(|t| t.s("udp.checksum_calculated"));
    match f.udp.checksum {
        UdpChecksum::Invalid { found, expected } => {
            cx.check(
                "udp.checksum",
                format!("0x{found:04x}"),
                udp.s("udp.checksum"),
            );
            cx.check(
                "udp.checksum_calculated",
                format!("0x{expected:04x}"),
                calculated,
            );
        }
        UdpChecksum::Partial { found } => {
            cx.check(
                "udp.checksum",
                format!("0x{found:04x}"),
                udp.s("udp.checksum"),
            );
            let seg = &data[f.udp.offset..f.udp.offset + usize::from(f.udp.length)];
            let expected = checksum::udp(f.ip.src, f.ip.dst, seg);
            cx.check(
                "udp.checksum_calculated",
                format!("0x{expected:04x}"),
                calculated,
            );
            // The offload signature, from tshark's own header fields.
            let theirs = (|| {
                let src: Ipv4Addr = ip.s("ip.src")?.parse().ok()?;
                let dst: Ipv4Addr = ip.s("ip.dst")?.parse().ok()?;
                let len: u16 = udp.s("udp.length")?.parse().ok()?;
                Some(format!("0x{:04x}", checksum::udp_partial(src, dst, len)))
            })();
            cx.check(
                "udp.checksum (partial)",
                theirs.as_deref().unwrap_or("?"),
                udp.s("udp.checksum"),
            );
        }
        _ => {}
    }
}

fn compare_fixed(m: &Message<'_>, d: &Node, cx: &mut Ctx<'_>) {
    cx.stats.fixed += 1;
    cx.check("op", u8::from(m.op), d.s("dhcp.type"));
    cx.check("htype", m.htype, d.s("dhcp.hw.type"));
    cx.check("hlen", m.hlen, d.s("dhcp.hw.len"));
    cx.check("hops", m.hops, d.s("dhcp.hops"));
    cx.check("xid", m.xid, d.s("dhcp.id"));
    cx.check("secs", m.secs, d.s("dhcp.secs"));
    cx.check("flags", m.flags, d.s("dhcp.flags"));
    cx.check("ciaddr", m.ciaddr, d.s("dhcp.ip.client"));
    cx.check("yiaddr", m.yiaddr, d.s("dhcp.ip.your"));
    cx.check("siaddr", m.siaddr, d.s("dhcp.ip.server"));
    cx.check("giaddr", m.giaddr, d.s("dhcp.ip.relay"));
    // chaddr: tshark shows an Ethernet address as `dhcp.hw.mac_addr` and any
    // other as `dhcp.hw.addr`; compare the bytes each covers.
    let theirs = d
        .get("dhcp.hw.mac_addr_raw")
        .or_else(|| d.get("dhcp.hw.addr_raw"))
        .and_then(Node::raw)
        .map(|(b, _)| hex(&b))
        // With hlen 0, tshark shows no address field.
        .or_else(|| (d.s("dhcp.hw.len") == Some("0")).then(String::new));
    cx.check("chaddr", hex(m.chaddr().as_bytes()), theirs.as_deref());
    let text = |b: Option<std::borrow::Cow<'_, str>>| match b {
        Some(s) => tshark_text(s.as_bytes()),
        None => "(overloaded)".to_owned(),
    };
    // sname/file: absent in tshark when option 52 gives the field to options.
    let sname = d.s("dhcp.server").map(str::to_owned).or_else(|| {
        d.get("Server name option overloaded by DHCP")
            .map(|_| "(overloaded)".to_owned())
    });
    cx.check(
        "sname",
        text(m.server_name().map(|_| c_str(&m.sname))),
        sname.as_deref(),
    );
    let file = d.s("dhcp.file").map(str::to_owned).or_else(|| {
        d.get("Boot file name option overloaded by DHCP")
            .map(|_| "(overloaded)".to_owned())
    });
    cx.check(
        "file",
        text(m.boot_file().map(|_| c_str(&m.file))),
        file.as_deref(),
    );
    // tshark shows `dhcp.cookie` only for the DHCP magic; anything else is
    // BOOTP to it (`dhcp.bootp`), and a bad cookie to us.
    let bootp = "(no DHCP magic cookie: BOOTP)";
    let cookie = match m.cookie {
        Some(c) if c == wire::dhcp::MAGIC_COOKIE => Ipv4Addr::from(c).to_string(),
        _ => bootp.to_owned(),
    };
    let theirs = d
        .s("dhcp.cookie")
        .or_else(|| d.get("dhcp.bootp").map(|_| bootp));
    cx.check("cookie", cookie, theirs);
    // What follows END in the options field (tshark: `dhcp.option.padding`).
    if m.cookie == Some(wire::dhcp::MAGIC_COOKIE) && m.has_option(255) {
        let theirs =
            d.get("dhcp.option.padding_raw")
                .and_then(Node::raw)
                .map_or(String::new(), |(b, _)| {
                    let end = b.iter().rposition(|&c| c != 0).map_or(0, |p| p + 1);
                    hex(&b[..end])
                });
        cx.check("trailer", hex(&m.trailer), Some(&theirs));
    }
}

/// The field up to its first NUL, as raw bytes (shown the way tshark does).
fn c_str<'b>(b: &'b [u8]) -> std::borrow::Cow<'b, str> {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    // Latin-1 so that every byte survives to `tshark_text`.
    std::borrow::Cow::Owned(b[..end].iter().map(|&c| char::from(c)).collect())
}

/// One option as tshark shows it.
struct TheirOption<'a> {
    code: u8,
    /// Frame offset of the code byte.
    offset: usize,
    tree: Option<&'a Node>,
}

/// Every `dhcp.option.type` in the tree, wherever it is (options overloaded
/// into `file` and `sname` are nested inside option 52's tree).
fn their_options<'a>(n: &'a Node, out: &mut Vec<TheirOption<'a>>) {
    for (k, v) in n.entries() {
        match k.as_str() {
            "dhcp.option.type_raw" => {
                if let Some((b, offset)) = v.raw() {
                    out.push(TheirOption {
                        code: b[0],
                        offset,
                        tree: None,
                    });
                }
            }
            "dhcp.option.type_tree" => {
                if let Some(last) = out.last_mut() {
                    last.tree = Some(v);
                }
                their_options(v, out);
            }
            _ if matches!(v, Node::Obj(_)) && !k.starts_with("dhcp.option.") => {
                their_options(v, out)
            }
            _ => {}
        }
    }
}

fn compare_options(m: &Message<'_>, base: usize, d: &Node, cx: &mut Ctx<'_>) {
    let mut theirs = Vec::new();
    their_options(d, &mut theirs);
    // PAD is shown by tshark as runs, not per byte: compare the rest.
    theirs.retain(|t| t.code != 0);
    let ours: Vec<&RawOption<'_>> = m.options.iter().filter(|o| o.code != 0).collect();
    let by_offset: HashMap<usize, &TheirOption<'_>> =
        theirs.iter().map(|t| (t.offset, t)).collect();
    let our_offsets: HashSet<usize> = ours.iter().map(|o| base + o.offset).collect();
    for t in &theirs {
        if !our_offsets.contains(&t.offset) {
            cx.differ(
                format!("opt{}", t.code),
                "(absent)",
                format!("at byte {}", t.offset),
            );
        }
    }
    // Each TLV: at the same offset, same code, same raw value.
    let mut trees: BTreeMap<u8, Vec<&Node>> = BTreeMap::new();
    for o in &ours {
        let at = base + o.offset;
        let field = format!("opt{}", o.code);
        let Some(t) = by_offset.get(&at) else {
            cx.differ(field, format!("at byte {at}"), "(absent)");
            continue;
        };
        cx.stats.options += 1;
        if t.code != o.code {
            cx.differ(&field, o.code, t.code);
            continue;
        }
        if o.is_marker() {
            continue;
        }
        let Some(tree) = t.tree else {
            cx.differ(format!("{field}.raw"), hex(&o.data), "(no tree)");
            continue;
        };
        let raw = match tree.get("dhcp.option.value_raw").and_then(Node::raw) {
            Some((b, _)) => Some(hex(&b)),
            // An empty option has no value field.
            None if tree.s("dhcp.option.length") == Some("0") => Some(String::new()),
            None => None,
        };
        cx.check(&format!("{field}.raw"), hex(&o.data), raw.as_deref());
        trees.entry(o.code).or_default().push(tree);
    }

    // Typed: our value of each option, its TLVs joined (RFC 3396), against
    // tshark's values of its TLVs taken together.
    let ctx = m.decode_context();
    for (code, trees) in trees {
        let data = m.option(code).expect("present");
        let value = wire::dhcp::value::decode(code, data, &ctx);
        let ours_f = our_fields(&value);
        let mut theirs_f = Fields::new();
        for t in &trees {
            for (k, v) in their_fields(code, t) {
                let e = theirs_f.entry(k.clone()).or_default();
                if k == "valid" {
                    // Invalid if any piece is.
                    if e.is_empty() || v[0] == "invalid" {
                        *e = v;
                    }
                } else {
                    e.extend(v);
                }
            }
        }
        if trees.len() > 1 && matches!(value, Value::Text(_)) {
            // Text split over several TLVs reads as one string.
            if let Some(v) = theirs_f.get_mut("v") {
                *v = vec![v.concat()];
            }
        }
        for (k, v) in &ours_f {
            let Some(tv) = theirs_f.get(k) else { continue };
            if k != "valid" {
                *cx.stats.typed.entry(format!("{code}.{k}")).or_default() += 1;
            }
            let a: Vec<String> = v.iter().map(|x| norm(x)).collect();
            let b: Vec<String> = tv.iter().map(|x| norm(x)).collect();
            if a != b {
                cx.differ(format!("opt{code}.{k}"), a.join(","), b.join(","));
            }
        }
    }
}

type Fields = BTreeMap<String, Vec<String>>;

fn one(k: &str, v: impl fmt::Display) -> Fields {
    let mut f = Fields::new();
    f.insert(k.to_owned(), vec![v.to_string()]);
    f
}

fn many<T: fmt::Display>(k: &str, v: impl IntoIterator<Item = T>) -> Fields {
    let mut f = Fields::new();
    f.insert(k.to_owned(), v.into_iter().map(|x| x.to_string()).collect());
    f
}

/// Our typed value as named lists of strings.
fn our_fields(v: &Value<'_>) -> Fields {
    let mut f = match v {
        Value::Empty => Fields::new(),
        Value::Ip(a) => one("v", a),
        Value::Ips(v) => many("v", v),
        Value::IpPairs(p) => {
            let mut f = many("dst", p.iter().map(|x| x.0));
            f.extend(many("router", p.iter().map(|x| x.1)));
            f
        }
        Value::U8(x) => one("v", x),
        Value::U16(x) => one("v", x),
        Value::U32(x) | Value::Seconds(x) => one("v", x),
        Value::I32(x) => one("v", x),
        Value::Bool(x) => one("v", u8::from(*x)),
        Value::U16s(x) | Value::Architectures(x) => many("v", x),
        Value::Text(t) => one("v", tshark_text(t)),
        Value::MessageType(t) => one("v", u8::from(*t)),
        Value::Codes(c) => many("v", c),
        Value::Algorithms(a) => many("v", a),
        Value::Overload(x) => one("v", x),
        Value::ClientIdHw { htype, addr } => {
            let mut f = one("type", htype);
            f.extend(one("addr", colon_hex(addr)));
            f
        }
        Value::ClientIdDuid { iaid, duid } => {
            let mut f = one("type", 255);
            f.extend(one("iaid", format!("{iaid:08x}")));
            if duid.len() >= 2 {
                let kind = u16::from_be_bytes([duid[0], duid[1]]);
                f.extend(one("duid_type", kind));
                // DUID-LL (RFC 8415 §11.4) and DUID-LLT (§11.2).
                if kind == 3 && duid.len() >= 4 {
                    f.extend(one("duid_hw_type", u16::from_be_bytes([duid[2], duid[3]])));
                    f.extend(one("duid_lladdr", colon_hex(&duid[4..])));
                }
                if kind == 1 && duid.len() >= 8 {
                    f.extend(one("duid_hw_type", u16::from_be_bytes([duid[2], duid[3]])));
                    let time = u32::from_be_bytes([duid[4], duid[5], duid[6], duid[7]]);
                    f.extend(one("duid_time", time));
                    f.extend(one("duid_lladdr", colon_hex(&duid[8..])));
                }
            }
            f
        }
        Value::ClientIdOther { kind, id } => {
            let mut f = one("type", kind);
            f.extend(one("id", tshark_text(id)));
            f
        }
        Value::Fqdn {
            flags,
            rcode1,
            rcode2,
            name,
        } => {
            let mut f = one("flags", flags);
            f.extend(one("rcode1", rcode1));
            f.extend(one("rcode2", rcode2));
            f.extend(one("name", tshark_text(name)));
            f
        }
        Value::SubOptions(subs) => {
            let subs: Vec<_> = subs.iter().filter(|s| s.code != 255).collect();
            let mut f = many("codes", subs.iter().map(|s| s.code));
            for s in subs {
                for (k, v) in our_fields(&s.value) {
                    f.entry(format!("sub{}.{k}", s.code)).or_default().extend(v);
                }
            }
            f
        }
        Value::Routes(r) => many("routes", r.iter().map(route_hex)),
        Value::Domains(d) => many("names", d.iter().map(|n| tshark_text(n))),
        Value::Enterprises(e) => {
            let mut f = many("enterprises", e.iter().map(|x| x.enterprise));
            for x in e {
                for (k, v) in our_fields(&x.value) {
                    f.entry(format!("ent{}.{k}", x.enterprise))
                        .or_default()
                        .extend(v);
                }
            }
            f
        }
        Value::Uuid { kind, id } => {
            let mut f = one("type", kind);
            f.extend(one("id", hex(id)));
            f
        }
        Value::Ndi { kind, major, minor } => {
            let mut f = one("type", kind);
            f.extend(one("major", major));
            f.extend(one("minor", minor));
            f
        }
        Value::Auth {
            protocol,
            algorithm,
            rdm,
            replay,
            info,
        } => {
            let mut f = one("protocol", protocol);
            f.extend(one("algorithm", algorithm));
            f.extend(one("rdm", rdm));
            f.extend(one("replay", replay));
            f.extend(one("info", hex(info)));
            f
        }
        Value::UserClasses(c) => many("classes", c.iter().map(|c| hex(c))),
        Value::Bytes(b) => one("bytes", hex(b)),
        Value::Invalid { .. } => Fields::new(),
    };
    f.insert(
        "valid".into(),
        vec![if matches!(v, Value::Invalid { .. }) {
            "invalid"
        } else {
            "ok"
        }
        .into()],
    );
    f
}

/// A classless route's wire form: width, significant octets, router.
fn route_hex(r: &Route) -> String {
    let n = usize::from(r.prefix_len).div_ceil(8);
    let mut b = vec![r.prefix_len];
    b.extend_from_slice(&r.destination.octets()[..n]);
    b.extend_from_slice(&r.router.octets());
    hex(&b)
}

/// Keys of an option tree that are not its typed value.
fn is_frame_key(k: &str) -> bool {
    k.ends_with("_raw")
        || k.starts_with("_ws.")
        || matches!(k, "dhcp.option.length" | "dhcp.option.value")
}

/// tshark's typed value of option `code`, named as in [`our_fields`].
fn their_fields(code: u8, t: &Node) -> Fields {
    let mut f = Fields::new();
    let mut put = |k: &str, v: Vec<String>| {
        if !v.is_empty() {
            f.insert(k.to_owned(), v);
        }
    };
    match code {
        21 => {
            put("dst", t.strs("dhcp.option.policy_filter.ip"));
            put("router", t.strs("dhcp.option.policy_filter.subnet_mask"));
        }
        33 => {
            put("dst", t.strs("dhcp.option.static_route.ip"));
            put("router", t.strs("dhcp.option.static_route.router"));
        }
        43 => {
            put("codes", t.strs("dhcp.option.vendor.pxeclient.suboption"));
            sub_trees(t, "dhcp.option.vendor.pxeclient.suboption", &mut f, |st| {
                st.entries()
                    .iter()
                    .find(|(k, _)| {
                        k.starts_with("dhcp.option.vendor.pxeclient.")
                            && !k.ends_with("_raw")
                            && !k.ends_with("_tree")
                    })
                    .and_then(|(_, v)| v.str().map(|s| vec![("v".to_owned(), s.to_owned())]))
                    .unwrap_or_default()
            });
        }
        60 => put("v", t.strs("dhcp.option.vendor_class_id")),
        61 => {
            let mut kind = t.strs("dhcp.client_id.type");
            if kind.is_empty() {
                kind = t.strs("dhcp.hw.type");
            }
            put("type", kind);
            put("addr", t.strs("dhcp.hw.mac_addr"));
            put("id", t.strs("dhcp.client_id.undef"));
            put("iaid", t.strs("dhcp.client_id.iaid"));
            put("duid_type", t.strs("dhcp.client_id.duid_type"));
            let mut hw = t.strs("dhcp.client_id.duid_ll_hw_type");
            hw.extend(t.strs("dhcp.client_id.duid_llt_hw_type"));
            put("duid_hw_type", hw);
            put("duid_time", t.strs("dhcp.client_id.time"));
            put("duid_lladdr", t.strs("dhcp.client_id.link_layer_address"));
        }
        77 => {
            let data: Vec<String> = t
                .all("dhcp.option.user_class_tree")
                .map(|u| {
                    u.s("dhcp.option.user_class.data")
                        .map_or(String::new(), |d| hex(&unhex(d)))
                })
                .collect();
            put("classes", data);
        }
        81 => {
            put("flags", t.strs("dhcp.fqdn.flags"));
            put("rcode1", t.strs("dhcp.fqdn.rcode1"));
            put("rcode2", t.strs("dhcp.fqdn.rcode2"));
            put("name", t.strs("dhcp.fqdn.name"));
        }
        82 => {
            let key = "dhcp.option.agent_information_option.suboption";
            put("codes", t.strs(key));
            sub_trees(t, key, &mut f, |st| {
                let mut v = Vec::new();
                let p = "dhcp.option.agent_information_option.";
                for (k, x) in st.entries() {
                    let Some(name) = k.strip_prefix(p) else {
                        continue;
                    };
                    let Some(s) = x.str() else { continue };
                    match name {
                        "link_selection"
                        | "server_id_override"
                        | "link_selection_cisco"
                        | "server_id_override_cisco" => v.push(("v".to_owned(), s.to_owned())),
                        "subscriber_id" => v.push(("v".to_owned(), s.to_owned())),
                        "vi.enterprise" => v.push(("enterprises".to_owned(), s.to_owned())),
                        "value" => v.push(("bytes".to_owned(), hex(&unhex(s)))),
                        _ => {}
                    }
                }
                v
            });
        }
        90 => {
            put(
                "protocol",
                t.strs("dhcp.option.dhcp_authentication.protocol"),
            );
            put(
                "algorithm",
                t.strs("dhcp.option.dhcp_authentication.alg_delay"),
            );
            put("rdm", t.strs("dhcp.option.dhcp_authentication.rdm"));
            put(
                "replay",
                t.strs("dhcp.option.dhcp_authentication.rdm_replay_detection"),
            );
            let info: String = ["secret_id", "hmac_md5_hash"]
                .iter()
                .filter_map(|k| t.s(&format!("dhcp.option.dhcp_authentication.{k}")))
                .map(|s| hex(&unhex(s.trim_start_matches("0x"))))
                .collect();
            if !info.is_empty() {
                put("info", vec![info]);
            }
        }
        93 => put("v", t.strs("dhcp.option.client_system_architecture")),
        97 => {
            let ids: Vec<String> = t
                .strs("dhcp.client_id.uuid")
                .iter()
                .map(|u| u.replace('-', ""))
                .collect();
            put("id", ids);
        }
        94 => {
            put("type", t.strs("dhcp.client_network_id_type"));
            put("major", t.strs("dhcp.client_network_id_major"));
            put("minor", t.strs("dhcp.client_network_id_minor"));
        }
        119 => put(
            "names",
            t.strs("dhcp.option.dhcp_dns_domain_search_list_fqdn"),
        ),
        120 => {
            let names = t.strs("dhcp.option.sip_server.name");
            if names.is_empty() {
                put("v", t.strs("dhcp.option.sip_server.address"));
            } else {
                put("names", names);
            }
        }
        121 | 249 => {
            let routes: Vec<String> = t
                .all("dhcp.option.classless_static_route_raw")
                .filter_map(Node::raw)
                .map(|(b, _)| hex(&b))
                .collect();
            put("routes", routes);
        }
        122 => put("codes", t.strs("dhcp.vendor.pc.ietf_ccc.suboption")),
        124 => put("enterprises", t.strs("dhcp.option.vi_class.enterprise")),
        125 => {
            put("enterprises", t.strs("dhcp.option.vi.enterprise"));
            // Each enterprise's sub-options: codes and raw values.
            let mut ent = None;
            for (k, v) in t.entries() {
                match k.as_str() {
                    "dhcp.option.vi.enterprise" => ent = v.str().map(str::to_owned),
                    "dhcp.option.vi.enterprise_tree" => {
                        let Some(e) = ent.take() else { continue };
                        let codes: Vec<String> = v
                            .entries()
                            .iter()
                            .filter(|(k, _)| k.ends_with(".suboption"))
                            .filter_map(|(_, c)| c.str().map(str::to_owned))
                            .collect();
                        let values = v.strs("dhcp.option.vi.value");
                        if codes.len() == values.len() {
                            for (c, x) in codes.iter().zip(&values) {
                                put(&format!("ent{e}.sub{c}.bytes"), vec![hex(&unhex(x))]);
                            }
                        }
                        put(&format!("ent{e}.codes"), codes);
                    }
                    _ => {}
                }
            }
        }
        _ => {
            // One typed field beside length and value: a simple option.
            let keys: Vec<&str> = t
                .entries()
                .iter()
                .map(|(k, _)| k.as_str())
                .filter(|k| !is_frame_key(k) && k.starts_with("dhcp."))
                .collect();
            let mut distinct = keys.clone();
            distinct.dedup();
            if let [k] = distinct[..] {
                if !k.ends_with("_tree") {
                    put("v", t.strs(k));
                }
            }
        }
    }
    f.insert(
        "valid".into(),
        vec![if t.malformed() { "invalid" } else { "ok" }.into()],
    );
    f
}

/// For sub-option lists shown as `KEY` (code) + `KEY_tree` pairs: records
/// each sub-option's typed value as `sub{code}.{name}`.
fn sub_trees(t: &Node, key: &str, f: &mut Fields, typed: impl Fn(&Node) -> Vec<(String, String)>) {
    let tree_key = format!("{key}_tree");
    let mut code = None;
    for (k, v) in t.entries() {
        if k == key {
            code = v.str().map(str::to_owned);
        } else if *k == tree_key {
            let Some(c) = code.take() else { continue };
            for (name, value) in typed(v) {
                f.entry(format!("sub{c}.{name}")).or_default().push(value);
            }
        }
    }
}

// ---------------------------------------------------------------------------
// One file, and the corpus.

/// The settings that make tshark decode what we decode (see the module doc).
const TSHARK_ARGS: &[&str] = &[
    "-n",
    "-T",
    "json",
    "-x",
    "-Y",
    "dhcp",
    "-J",
    "frame ip udp dhcp",
    "-o",
    "udp.check_checksum:TRUE",
    "-o",
    "ip.check_checksum:TRUE",
    "-o",
    "dhcp.uuid.endian:Big Endian",
];

fn compare_file(path: &Path, name: &str, diffs: &mut Vec<Diff>, stats: &mut Stats) {
    // Ours: every frame that reads as DHCP (UDP port 67 or 68).
    let mut ours = HashMap::new();
    let mut r = capture::open(path.to_str().expect("UTF-8 path")).expect("capture opens");
    loop {
        match r.next_packet() {
            Ok(Some(p)) => {
                if let Ok(Some(_)) = wire::packet::decode(p.link, p.data, p.orig_len) {
                    ours.insert(
                        p.number,
                        OurFrame {
                            link: p.link,
                            data: p.data.to_vec(),
                            orig_len: p.orig_len,
                        },
                    );
                }
            }
            Ok(None) => break,
            Err(e) => {
                eprintln!("{name}: {e} (compared up to there)");
                break;
            }
        }
    }

    let mut child = Command::new("tshark")
        .arg("-r")
        .arg(path)
        .args(TSHARK_ARGS)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("tshark runs");
    let stdout = child.stdout.take().expect("piped");
    let mut seen = HashSet::new();
    let mut cx = Ctx {
        file: name,
        frame: 0,
        diffs,
        stats,
    };
    let mut de = serde_json::Deserializer::from_reader(BufReader::with_capacity(1 << 20, stdout));
    EachPacket(|pkt: Node| compare_packet(&pkt, &ours, &mut seen, &mut cx))
        .deserialize(&mut de)
        .unwrap_or_else(|e| panic!("{name}: tshark's JSON: {e}"));
    let status = child.wait().expect("tshark exits");
    assert!(status.success(), "{name}: tshark failed: {status}");
    let mut missing: Vec<u64> = ours.keys().filter(|n| !seen.contains(n)).copied().collect();
    missing.sort_unstable();
    for n in missing {
        cx.frame = n;
        cx.differ("dhcp", "DHCP", "(not shown as DHCP)");
    }
}

fn tshark_available() -> bool {
    Command::new("tshark")
        .arg("-v")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Fails on any difference not in [`ALLOWED`] and on any entry of
/// [`ALLOWED`] for `files` that did not occur.
fn judge(files: &[String], diffs: &[Diff], stats: &Stats) {
    let allowed: Vec<&Allowed> = ALLOWED
        .iter()
        .filter(|a| files.iter().any(|f| f == a.file))
        .collect();
    let mut used = vec![false; allowed.len()];
    let mut unexplained = Vec::new();
    for d in diffs {
        let hit = allowed.iter().position(|a| {
            a.file == d.file
                && a.frame.is_none_or(|n| n == d.frame)
                && match a.field.strip_suffix('*') {
                    Some(prefix) => d.field.starts_with(prefix),
                    None => a.field == d.field,
                }
        });
        match hit {
            Some(i) => used[i] = true,
            None => unexplained.push(d),
        }
    }
    eprintln!(
        "compared {} packets of {} files: {} fixed headers, {} options, checksums {:?}, \
         typed values {:?}; {} known differences",
        stats.packets,
        files.len(),
        stats.fixed,
        stats.options,
        stats.checksums,
        stats.typed,
        diffs.len() - unexplained.len()
    );
    let stale: Vec<String> = allowed
        .iter()
        .zip(&used)
        .filter(|(_, u)| !**u)
        .map(|(a, _)| format!("{} {:?} {} ({})", a.file, a.frame, a.field, a.reason))
        .collect();
    let mut report = String::new();
    for d in &unexplained {
        let _ = writeln!(report, "  {d}");
    }
    assert!(
        unexplained.is_empty(),
        "{} differences with tshark that are neither fixed nor in ALLOWED:\n{report}",
        unexplained.len()
    );
    assert!(
        stale.is_empty(),
        "ALLOWED entries that no longer occur:\n  {}",
        stale.join("\n  ")
    );
}

fn require_tshark(test: &str) -> bool {
    if tshark_available() {
        return true;
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "tshark is required under CI=true"
    );
    eprintln!("SKIPPED {test}: tshark is not installed");
    false
}

#[test]
fn corpus_agrees_with_tshark() {
    if !require_tshark("corpus_agrees_with_tshark") {
        return;
    }
    let root = corpus::dir();
    let mut files = Vec::new();
    corpus::capture_files(&root, &mut files);
    files.sort();
    assert!(files.len() >= 30, "corpus not found at {}", root.display());

    let mut diffs = Vec::new();
    let mut stats = Stats::default();
    let mut names = Vec::new();
    for f in &files {
        let name = f
            .strip_prefix(&root)
            .expect("under the corpus")
            .to_string_lossy()
            .into_owned();
        compare_file(f, &name, &mut diffs, &mut stats);
        names.push(name);
    }
    judge(&names, &diffs, &stats);

    // The comparison must not be vacuous: the corpus has these options, and
    // both tools decode them.
    for key in [
        "1.v",
        "3.v",
        "6.v",
        "12.v",
        "15.v",
        "33.dst",
        "33.router",
        "51.v",
        "53.v",
        "54.v",
        "55.v",
        "57.v",
        "60.v",
        "61.type",
        "61.addr",
        "61.iaid",
        "61.duid_lladdr",
        "61.id",
        "77.classes",
        "81.flags",
        "81.name",
        "82.codes",
        "82.sub1.bytes",
        "82.sub9.enterprises",
        "90.replay",
        "90.info",
        "120.v",
    ] {
        assert!(
            stats.typed.get(key).is_some_and(|n| *n > 0),
            "option field {key} was never compared"
        );
    }
    for state in ["valid", "partial", "zero"] {
        assert!(
            stats.checksums.contains_key(state),
            "no {state} checksum in the corpus"
        );
    }
}

// ---------------------------------------------------------------------------
// Options and framings the corpus lacks, in a capture written here.

/// Removes the file when dropped (also on panic).
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// A DHCP message of type `mt` with `opts` (code, value) in this order,
/// duplicates kept, then END; padded to 300 bytes.
fn dhcp(op: wire::Op, mt: u8, opts: &[(u8, &[u8])]) -> Vec<u8> {
    let mut m = Message::new(op, 0x3903_f326, &[0x00, 0x0c, 0x29, 0x12, 0x34, 0x56]);
    m.secs = 4;
    m.set_option(53, vec![mt]);
    for (c, d) in opts {
        let end = m.options.len() - 1;
        m.options.insert(end, RawOption::new(*c, d.to_vec()));
    }
    m.encode(300)
}

/// A DISCOVER from a PXE ROM (values as in the PXE 2.1 specification and
/// RFC 4578).
fn pxe_discover() -> Vec<u8> {
    // Type 0, then an SMBIOS UUID.
    #[rustfmt::skip]
    let guid = [
        0x00,
        0x4c, 0x4c, 0x45, 0x44, 0x00, 0x10, 0x34, 0x80, 0x35, 0xb4, 0xc0, 0x4f, 0x4e, 0x43, 0x32, 0x31,
    ];
    #[rustfmt::skip]
    let pxe43 = [
        1, 4, 224, 1, 1, 1,   // mtftp ip
        2, 2, 0xd2, 0x04,     // mtftp client port 1234 (little-endian)
        3, 2, 0xd3, 0x04,     // mtftp server port 1235 (little-endian)
        4, 1, 5,              // mtftp timeout
        5, 1, 10,             // mtftp delay
        6, 1, 0x08,           // discovery control
        7, 4, 239, 1, 2, 3,   // multicast discovery address
        255,
    ];
    dhcp(
        wire::Op::BootRequest,
        1,
        &[
            (57, &[0x04, 0xec]),
            (93, &[0x00, 0x07]),
            (94, &[0x01, 0x02, 0x01]),
            (97, &guid),
            (60, b"PXEClient:Arch:00007:UNDI:003016"),
            (43, &pxe43),
            (55, &[1, 3, 6, 43, 60, 66, 67, 128]),
        ],
    )
}

/// An OFFER with the structured options of RFC 3397, 3442, 3361, 4702, 4361,
/// 3925, 3046 and 3004.
fn structured_offer() -> Vec<u8> {
    // RFC 3397 §3's example: eng.apple.com, marketing.apple.com (pointer).
    #[rustfmt::skip]
    let search = [
        3, b'e', b'n', b'g', 5, b'a', b'p', b'p', b'l', b'e', 3, b'c', b'o', b'm', 0,
        9, b'm', b'a', b'r', b'k', b'e', b't', b'i', b'n', b'g', 0xc0, 4,
    ];
    #[rustfmt::skip]
    let routes = [
        24, 192, 168, 1, 10, 0, 0, 1,
        0, 10, 0, 0, 254,
        8, 10, 10, 0, 0, 2,
        32, 10, 1, 2, 3, 10, 0, 0, 3,
        17, 172, 16, 128, 10, 0, 0, 4,
    ];
    let mut sip = vec![0u8];
    sip.extend_from_slice(b"\x03sip\x07example\x03com\x00");
    // Flags S and E (canonical wire format), rcodes 0.
    let mut fqdn = vec![0x05u8, 0, 0];
    fqdn.extend_from_slice(b"\x04host\x07example\x03com\x00");
    #[rustfmt::skip]
    let duid = [
        255, 0x12, 0x34, 0x56, 0x78,                 // IAID
        0x00, 0x01, 0x00, 0x01, 0x2a, 0x6b, 0x3c, 0x4d, // DUID-LLT, Ethernet, time
        0x00, 0x0c, 0x29, 0x12, 0x34, 0x56,
    ];
    #[rustfmt::skip]
    let vivc = [0x00, 0x00, 0x11, 0x8b, 7, 6, b'd', b'o', b'c', b's', b'i', b's'];
    #[rustfmt::skip]
    let vivso = [0x00, 0x00, 0x0d, 0xe9, 9, 1, 3, b'a', b'b', b'c', 2, 2, b'x', b'y'];
    #[rustfmt::skip]
    let relay = [
        1, 4, 0x00, 0x01, 0x00, 0x2a,        // circuit id
        2, 6, 0x00, 0x0c, 0x29, 0xaa, 0xbb, 0xcc, // remote id
        5, 4, 10, 20, 0, 0,                  // link selection
        6, 5, b's', b'u', b'b', b'-', b'1',  // subscriber id
        11, 4, 10, 20, 0, 1,                 // server id override
        150, 4, 10, 30, 0, 0,                // link selection (Cisco)
        152, 0,                              // VSS control
    ];
    dhcp(
        wire::Op::BootReply,
        2,
        &[
            (54, &[192, 168, 0, 1]),
            (51, &[0, 0, 0x0e, 0x10]),
            (1, &[255, 255, 255, 0]),
            (21, &[10, 0, 0, 0, 255, 0, 0, 0]),
            (119, &search),
            (121, &routes),
            (249, &routes[..13]),
            (120, &sip),
            (81, &fqdn),
            (61, &duid),
            (124, &vivc),
            (125, &vivso),
            (77, &[4, b'a', b'b', b'c', b'd', 3, b'x', b'y', b'z']),
            (82, &relay),
        ],
    )
}

/// A REQUEST whose options continue in `file` and `sname` (option 52), with a
/// long option split in two (RFC 3396).
fn overloaded_request() -> Vec<u8> {
    let mut m = Message::new(wire::Op::BootRequest, 7, &[2, 0, 0, 0, 0, 7]);
    m.set_option(53, vec![3]);
    m.set_option(52, vec![3]);
    let end = m.options.len() - 1;
    m.options.insert(end, RawOption::new(6, vec![10, 0, 0, 1]));
    m.options
        .insert(end + 1, RawOption::new(12, b"split-".to_vec()));
    let mut in_file = RawOption::new(6, vec![10, 0, 0, 2, 10, 0, 0, 3]);
    in_file.region = wire::dhcp::Region::File;
    let mut file_end = RawOption::new(255, Vec::new());
    file_end.region = wire::dhcp::Region::File;
    let mut in_sname = RawOption::new(12, b"host".to_vec());
    in_sname.region = wire::dhcp::Region::Sname;
    let mut sname_end = RawOption::new(255, Vec::new());
    sname_end.region = wire::dhcp::Region::Sname;
    m.options.extend([in_file, file_end, in_sname, sname_end]);
    m.encode(300)
}

/// Linux cooked capture v1 and v2 headers for an Ethernet sender.
fn sll(v2: bool, ip: &[u8]) -> Vec<u8> {
    let mac = [0x00, 0x0c, 0x29, 0x12, 0x34, 0x56, 0, 0];
    let mut f = Vec::new();
    if v2 {
        f.extend_from_slice(&[0x08, 0x00, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6]);
    } else {
        f.extend_from_slice(&[0, 0, 0, 1, 0, 6]);
    }
    f.extend_from_slice(&mac);
    if !v2 {
        f.extend_from_slice(&[0x08, 0x00]);
    }
    f.extend_from_slice(ip);
    f
}

/// Writes the frames the corpus lacks and compares them like the corpus.
#[test]
fn synthetic_captures_agree_with_tshark() {
    use capture::write::PcapngWriter;
    use wire::frame::{ChecksumMode, UdpFrame};
    if !require_tshark("synthetic_captures_agree_with_tshark") {
        return;
    }
    let client = (Ipv4Addr::UNSPECIFIED, 68);
    let server = (Ipv4Addr::new(192, 168, 0, 1), 67);
    let bcast = (Ipv4Addr::BROADCAST, 67);
    let (pxe, offer, overload) = (pxe_discover(), structured_offer(), overloaded_request());
    let mut w = PcapngWriter::new(Vec::new(), "dhcplens tshark test").expect("writer");
    let eth = w.interface(LinkType::Ethernet, "eth").expect("idb");
    let mut frames: Vec<(u32, Vec<u8>)> = Vec::new();

    // 1-3: the three messages, plain Ethernet.
    frames.push((eth, UdpFrame::new(client, bcast, &pxe).ethernet_frame()));
    frames.push((
        eth,
        UdpFrame::new(server, (Ipv4Addr::new(192, 168, 0, 10), 68), &offer).ethernet_frame(),
    ));
    frames.push((
        eth,
        UdpFrame::new(client, bcast, &overload).ethernet_frame(),
    ));
    // 4-6: checksum states: partial (offload), zero, invalid.
    for mode in [
        ChecksumMode::Partial,
        ChecksumMode::Zero,
        ChecksumMode::Fixed(0x1234),
    ] {
        let mut f = UdpFrame::new(server, (Ipv4Addr::new(192, 168, 0, 10), 68), &offer);
        f.checksum = mode;
        frames.push((eth, f.ethernet_frame()));
    }
    // 7: an IPv4 header checksum that does not verify.
    let mut bad_ip = UdpFrame::new(client, bcast, &pxe).ethernet_frame();
    bad_ip[14 + 10] ^= 0xff;
    frames.push((eth, bad_ip));
    // 8: 802.1Q and QinQ-tagged.
    let mut tagged = UdpFrame::new(client, bcast, &pxe);
    tagged.vlans = vec![100];
    frames.push((eth, tagged.ethernet_frame()));
    tagged.vlans = vec![200, 100];
    frames.push((eth, tagged.ethernet_frame()));
    // 10-13: other link types.
    let ip = UdpFrame::new(client, bcast, &pxe).ipv4_packet();
    let raw = w.interface(LinkType::Raw, "raw").expect("idb");
    frames.push((raw, ip.clone()));
    let sll1 = w.interface(LinkType::LinuxSll, "any").expect("idb");
    frames.push((sll1, sll(false, &ip)));
    let sll2 = w.interface(LinkType::LinuxSll2, "any2").expect("idb");
    frames.push((sll2, sll(true, &ip)));
    let null = w.interface(LinkType::Null, "lo0").expect("idb");
    let mut lo = 2u32.to_le_bytes().to_vec();
    lo.extend_from_slice(&ip);
    frames.push((null, lo));
    // 14: a PXE client asking a boot server on port 4011 (from port 68).
    frames.push((
        eth,
        UdpFrame::new(
            (Ipv4Addr::new(192, 168, 0, 10), 68),
            (Ipv4Addr::new(192, 168, 0, 2), 4011),
            &pxe,
        )
        .ethernet_frame(),
    ));

    for (i, (iface, f)) in frames.iter().enumerate() {
        w.write(*iface, (i as i64 + 1) * 1_000_000_000, f, f.len(), &[])
            .expect("write");
    }
    let path = std::env::temp_dir().join(format!("dhcplens-tshark-{}.pcapng", std::process::id()));
    let _guard = (std::env::var_os("KEEP_SYNTHETIC").is_none()).then(|| TempFile(path.clone()));
    std::fs::write(&path, w.into_inner()).expect("temporary capture");

    let name = "synthetic.pcapng".to_owned();
    let mut diffs = Vec::new();
    let mut stats = Stats::default();
    compare_file(&path, &name, &mut diffs, &mut stats);
    judge(&[name], &diffs, &stats);
    assert_eq!(
        stats.packets,
        frames.len(),
        "tshark shows every frame as DHCP"
    );
    for key in [
        "43.codes",
        "43.sub1.v",
        "43.sub2.v",
        "43.sub6.v",
        "93.v",
        "94.major",
        "97.id",
        "61.duid_time",
        "125.ent3561.codes",
        "125.ent3561.sub1.bytes",
        "119.names",
        "121.routes",
        "249.routes",
        "120.names",
        "81.name",
        "81.flags",
        "61.iaid",
        "61.duid_type",
        "61.duid_lladdr",
        "124.enterprises",
        "125.enterprises",
        "77.classes",
        "82.sub5.v",
        "82.sub11.v",
        "82.sub6.v",
        "82.sub150.v",
        "21.dst",
        "6.v",
        "12.v",
    ] {
        assert!(
            stats.typed.get(key).is_some_and(|n| *n > 0),
            "option field {key} was never compared"
        );
    }
    for state in ["valid", "partial", "zero", "invalid"] {
        assert!(stats.checksums.contains_key(state), "no {state} checksum");
    }
}
