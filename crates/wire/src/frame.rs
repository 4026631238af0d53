//! Link, IPv4 and UDP framing around DHCP messages.
//!
//! [`decode`] takes a captured frame of any supported [`LinkType`] and returns the
//! UDP datagram inside it, its addresses and its checksum state. The payload is
//! bounded by the IPv4 total length and the UDP length, never by the slice, so
//! Ethernet padding and FCS do not leak into the DHCP message. Everything odd is
//! an [`Anomaly`] with an offset from the start of the frame.
//!
//! [`UdpFrame`] builds frames for sending and for generated captures.

use std::fmt;
use std::net::Ipv4Addr;

use crate::anomaly::{Anomaly, AnomalyKind, Layer};
use crate::checksum::{self, UdpChecksum};

/// Link-layer header types (tcpdump.org's LINKTYPE_ values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LinkType {
    /// BSD loopback: a 4-byte address family in the writer's byte order.
    Null,
    Ethernet,
    /// Raw IP, version from the first nibble.
    Raw,
    /// OpenBSD loopback: a 4-byte address family in network byte order.
    Loop,
    /// Linux cooked capture v1.
    LinuxSll,
    /// Raw IPv4.
    Ipv4,
    /// Linux cooked capture v2.
    LinuxSll2,
    Other(u32),
}

impl LinkType {
    pub fn from_linktype(v: u32) -> LinkType {
        match v {
            0 => LinkType::Null,
            1 => LinkType::Ethernet,
            // 12 and 14 are DLT_RAW on some BSDs, found in old files.
            101 | 12 | 14 => LinkType::Raw,
            108 => LinkType::Loop,
            113 => LinkType::LinuxSll,
            228 => LinkType::Ipv4,
            276 => LinkType::LinuxSll2,
            v => LinkType::Other(v),
        }
    }

    pub fn to_linktype(self) -> u32 {
        match self {
            LinkType::Null => 0,
            LinkType::Ethernet => 1,
            LinkType::Raw => 101,
            LinkType::Loop => 108,
            LinkType::LinuxSll => 113,
            LinkType::Ipv4 => 228,
            LinkType::LinuxSll2 => 276,
            LinkType::Other(v) => v,
        }
    }

    /// Whether [`decode`] can read this link type.
    pub fn is_supported(self) -> bool {
        !matches!(self, LinkType::Other(_))
    }
}

impl fmt::Display for LinkType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LinkType::Null => f.write_str("NULL (BSD loopback)"),
            LinkType::Ethernet => f.write_str("Ethernet"),
            LinkType::Raw => f.write_str("raw IP"),
            LinkType::Loop => f.write_str("LOOP (OpenBSD loopback)"),
            LinkType::LinuxSll => f.write_str("Linux cooked v1"),
            LinkType::Ipv4 => f.write_str("raw IPv4"),
            LinkType::LinuxSll2 => f.write_str("Linux cooked v2"),
            LinkType::Other(v) => write!(f, "link type {v}"),
        }
    }
}

/// EtherTypes this module reads.
pub mod ethertype {
    pub const IPV4: u16 = 0x0800;
    pub const VLAN: u16 = 0x8100;
    pub const QINQ: u16 = 0x88a8;
    pub const QINQ_OLD: u16 = 0x9100;
}

/// Ethernet and VLAN details of a frame, where the link type has them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Link {
    /// Source MAC (Ethernet, or the cooked header's address when 6 bytes long).
    pub src_mac: Option<[u8; 6]>,
    pub dst_mac: Option<[u8; 6]>,
    /// 802.1Q/802.1ad VLAN IDs, outermost first.
    pub vlans: VlanStack,
}

/// The most VLAN tags [`decode`] reads in one frame. Real frames carry one
/// (802.1Q) or two (802.1ad Q-in-Q); a frame with more tags than this is
/// refused as [`Skip::NotIpv4`].
pub const MAX_VLAN_TAGS: usize = 7;

/// The VLAN IDs of a frame's tags, outermost first: at most [`MAX_VLAN_TAGS`],
/// held inline so that reading a tagged frame allocates nothing. Reads as a
/// `&[u16]` (it derefs to one).
#[derive(Clone, Copy, Default)]
pub struct VlanStack {
    len: u8,
    ids: [u16; MAX_VLAN_TAGS],
}

impl VlanStack {
    /// Adds the next inner tag's VLAN ID; `false` (and no change) when the
    /// stack already holds [`MAX_VLAN_TAGS`].
    #[must_use = "false means the tag was not added"]
    pub fn try_push(&mut self, vid: u16) -> bool {
        let Some(slot) = self.ids.get_mut(usize::from(self.len)) else {
            return false;
        };
        *slot = vid;
        self.len += 1;
        true
    }

    pub fn as_slice(&self) -> &[u16] {
        &self.ids[..usize::from(self.len)]
    }
}

impl std::ops::Deref for VlanStack {
    type Target = [u16];

    fn deref(&self) -> &[u16] {
        self.as_slice()
    }
}

impl fmt::Debug for VlanStack {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.as_slice()).finish()
    }
}

/// Equal when the same IDs are stacked in the same order.
impl PartialEq for VlanStack {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for VlanStack {}

impl PartialEq<[u16]> for VlanStack {
    fn eq(&self, other: &[u16]) -> bool {
        self.as_slice() == other
    }
}

impl<const N: usize> PartialEq<[u16; N]> for VlanStack {
    fn eq(&self, other: &[u16; N]) -> bool {
        self.as_slice() == other
    }
}

/// The IPv4 header fields that matter here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv4 {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub ttl: u8,
    pub tos: u8,
    pub identification: u16,
    pub dont_fragment: bool,
    pub header_len: usize,
    pub total_len: usize,
    /// Offset of the IPv4 header in the frame.
    pub offset: usize,
}

/// The UDP header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Udp {
    pub src_port: u16,
    pub dst_port: u16,
    pub length: u16,
    pub checksum: UdpChecksum,
    /// Offset of the UDP header in the frame.
    pub offset: usize,
}

/// A UDP datagram found in a frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame<'a> {
    pub link: Link,
    pub ip: Ipv4,
    pub udp: Udp,
    /// The UDP payload, bounded by the IP and UDP lengths.
    pub payload: &'a [u8],
    /// Offset of the payload in the frame.
    pub payload_offset: usize,
    pub anomalies: Vec<Anomaly>,
}

impl Frame<'_> {
    /// Whether either port is a BOOTP/DHCP port (67 or 68).
    pub fn is_dhcp(&self) -> bool {
        [self.udp.src_port, self.udp.dst_port]
            .iter()
            .any(|p| *p == 67 || *p == 68)
    }
}

/// Why a frame holds no UDP datagram to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skip {
    /// The link type is not one this module reads.
    UnsupportedLinkType(LinkType),
    /// Not IPv4 (e.g. ARP, IPv6), or a link-layer protocol not carrying IP.
    NotIpv4,
    /// IPv4 but not UDP.
    NotUdp,
    /// A non-first IPv4 fragment: no UDP header to read.
    Fragment,
    /// The frame ends inside a header.
    Truncated(Anomaly),
}

/// Reads the UDP datagram in `data`, a frame of link type `link` that was
/// `orig_len` bytes long on the wire (more than `data.len()` when the capture's
/// snap length cut it).
pub fn decode(link: LinkType, data: &[u8], orig_len: usize) -> Result<Frame<'_>, Skip> {
    let (ip_start, info) = link_layer(link, data)?;
    decode_ipv4(data, ip_start, orig_len, info)
}

/// An ICMP destination unreachable message (RFC 792, type 3) and the start
/// of the datagram it quotes (RFC 1812 §4.3.2.3: as much as fits in 576
/// bytes, so a whole DHCP message from Linux).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unreachable<'a> {
    /// Who says it: the ICMP message's source.
    pub reporter: Ipv4Addr,
    /// 3: port unreachable; 1: host; 13: administratively prohibited; ….
    pub code: u8,
    /// The quoted IPv4 datagram (its length field may say more).
    pub quoted: &'a [u8],
    /// The quoted datagram's length on the wire, by its IPv4 header.
    pub quoted_len: usize,
    /// The ICMP message is whole in the capture: a quote shorter than the
    /// datagram was cut by its sender, not by the capture.
    pub whole: bool,
}

impl Unreachable<'_> {
    /// What its code says (RFC 792, RFC 1812 §5.2.7.1).
    pub fn name(&self) -> &'static str {
        unreachable_name(self.code)
    }
}

/// What an ICMP destination unreachable's code says (RFC 792, RFC 1812
/// §5.2.7.1).
pub fn unreachable_name(code: u8) -> &'static str {
    match code {
        0 => "net unreachable",
        1 => "host unreachable",
        2 => "protocol unreachable",
        3 => "port unreachable",
        4 => "fragmentation needed",
        9 | 10 | 13 => "administratively prohibited",
        _ => "destination unreachable",
    }
}

/// ICMP's protocol number.
const PROTOCOL_ICMP: u8 = 1;

/// Which datagram an IPv4 fragment belongs to (RFC 791: source,
/// destination and identification, for a protocol).
pub type FragmentKey = (Ipv4Addr, Ipv4Addr, u16);

/// For a later fragment of a UDP datagram (a fragment offset above 0, which
/// [`decode`] skips as [`Skip::Fragment`]), the datagram it continues;
/// `None` for anything else.
pub fn continued_datagram(link: LinkType, data: &[u8]) -> Option<FragmentKey> {
    let (at, _) = link_layer(link, data).ok()?;
    let h = data.get(at..at + 20)?;
    let offset = u16::from_be_bytes([h[6], h[7]]) & 0x1fff;
    if h[0] >> 4 != 4 || h[9] != checksum::PROTOCOL_UDP || offset == 0 {
        return None;
    }
    Some((
        Ipv4Addr::new(h[12], h[13], h[14], h[15]),
        Ipv4Addr::new(h[16], h[17], h[18], h[19]),
        u16::from_be_bytes([h[4], h[5]]),
    ))
}

/// Reads `data`, a frame of link type `link`, as an ICMP destination
/// unreachable that quotes a UDP datagram; `None` for anything else.
pub fn unreachable(link: LinkType, data: &[u8]) -> Option<Unreachable<'_>> {
    let (at, _) = link_layer(link, data).ok()?;
    let h = data.get(at..at + 20)?;
    let header_len = usize::from(h[0] & 0x0f) * 4;
    if h[0] >> 4 != 4 || header_len < 20 || h[9] != PROTOCOL_ICMP || h[6] & 0x3f != 0 || h[7] != 0 {
        return None;
    }
    // The ICMP message ends where the IPv4 datagram does (not at a frame's
    // padding or trailer), or where the capture cut it.
    let total_len = usize::from(u16::from_be_bytes([h[2], h[3]]));
    let whole = at + total_len <= data.len();
    let end = if whole { at + total_len } else { data.len() };
    let icmp = data.get(at + header_len..end)?;
    // Type 3, a code, a checksum, 4 unused bytes, then the quoted header.
    if icmp.len() < 8 + 28 || icmp[0] != 3 {
        return None;
    }
    // A whole message's checksum must hold (it is evidence about others).
    if whole && checksum::ipv4_header(icmp) != 0 {
        return None;
    }
    let quoted = &icmp[8..];
    let q_len = usize::from(quoted[0] & 0x0f) * 4;
    // It quotes a UDP datagram that the ICMP's destination sent.
    if quoted[0] >> 4 != 4
        || q_len < 20
        || quoted[9] != checksum::PROTOCOL_UDP
        || quoted.len() < q_len + 8
        || quoted[12..16] != h[16..20]
    {
        return None;
    }
    Some(Unreachable {
        reporter: Ipv4Addr::new(h[12], h[13], h[14], h[15]),
        code: icmp[1],
        quoted,
        quoted_len: usize::from(u16::from_be_bytes([quoted[2], quoted[3]])).max(quoted.len()),
        whole,
    })
}

/// The offset of the IPv4 header in a frame of link type `link`, and what
/// the link layer says (MACs, VLAN tags).
fn link_layer(link: LinkType, data: &[u8]) -> Result<(usize, Link), Skip> {
    let mut info = Link::default();
    let ip_start = match link {
        LinkType::Ethernet => {
            need(data, 0, 14, Layer::Link)?;
            info.dst_mac = Some(data[0..6].try_into().expect("6 bytes"));
            info.src_mac = Some(data[6..12].try_into().expect("6 bytes"));
            ethertype_payload(data, 12, &mut info)?
        }
        LinkType::LinuxSll => {
            need(data, 0, 16, Layer::Link)?;
            let alen = usize::from(u16::from_be_bytes([data[4], data[5]]));
            if alen == 6 {
                info.src_mac = Some(data[6..12].try_into().expect("6 bytes"));
            }
            ethertype_payload(data, 14, &mut info)?
        }
        LinkType::LinuxSll2 => {
            need(data, 0, 20, Layer::Link)?;
            if data[11] == 6 {
                info.src_mac = Some(data[12..18].try_into().expect("6 bytes"));
            }
            // The protocol field comes first in v2.
            let proto = u16::from_be_bytes([data[0], data[1]]);
            match proto {
                ethertype::IPV4 => 20,
                ethertype::VLAN | ethertype::QINQ | ethertype::QINQ_OLD => {
                    // Read as if the tag followed an EtherType at offset 18.
                    vlan_chain(data, 20, proto, &mut info.vlans)?
                }
                _ => return Err(Skip::NotIpv4),
            }
        }
        LinkType::Null | LinkType::Loop => {
            need(data, 0, 4, Layer::Link)?;
            let fam = [data[0], data[1], data[2], data[3]];
            // AF_INET is 2 everywhere; NULL uses the writer's byte order.
            if fam != [2, 0, 0, 0] && fam != [0, 0, 0, 2] {
                return Err(Skip::NotIpv4);
            }
            4
        }
        LinkType::Raw | LinkType::Ipv4 => 0,
        LinkType::Other(_) => return Err(Skip::UnsupportedLinkType(link)),
    };
    Ok((ip_start, info))
}

fn need(data: &[u8], at: usize, len: usize, layer: Layer) -> Result<(), Skip> {
    if data.len() < at + len {
        return Err(Skip::Truncated(Anomaly::new(
            at,
            AnomalyKind::TruncatedHeader {
                layer,
                needed: len,
                available: data.len().saturating_sub(at),
            },
        )));
    }
    Ok(())
}

/// Follows the EtherType at `at` (and any VLAN tags) to the IPv4 header.
fn ethertype_payload(data: &[u8], at: usize, info: &mut Link) -> Result<usize, Skip> {
    let proto = u16::from_be_bytes([data[at], data[at + 1]]);
    match proto {
        ethertype::IPV4 => Ok(at + 2),
        ethertype::VLAN | ethertype::QINQ | ethertype::QINQ_OLD => {
            vlan_chain(data, at + 2, proto, &mut info.vlans)
        }
        _ => Err(Skip::NotIpv4),
    }
}

/// Reads VLAN tags starting at `at` (just after a VLAN EtherType) into `vlans`.
/// A tag beyond [`MAX_VLAN_TAGS`] ends the read: not a frame to decode.
fn vlan_chain(
    data: &[u8],
    mut at: usize,
    mut proto: u16,
    vlans: &mut VlanStack,
) -> Result<usize, Skip> {
    // Bounded: each tag consumes 4 bytes and fills a slot of `vlans`.
    loop {
        match proto {
            ethertype::VLAN | ethertype::QINQ | ethertype::QINQ_OLD => {
                need(data, at, 4, Layer::Link)?;
                // The VID is the low 12 bits of the TCI (IEEE 802.1Q §9.6).
                let vid = u16::from_be_bytes([data[at], data[at + 1]]) & 0x0fff;
                if !vlans.try_push(vid) {
                    return Err(Skip::NotIpv4);
                }
                proto = u16::from_be_bytes([data[at + 2], data[at + 3]]);
                at += 4;
            }
            ethertype::IPV4 => return Ok(at),
            _ => return Err(Skip::NotIpv4),
        }
    }
}

fn decode_ipv4(data: &[u8], at: usize, orig_len: usize, link: Link) -> Result<Frame<'_>, Skip> {
    need(data, at, 20, Layer::Ipv4)?;
    let h = &data[at..];
    if h[0] >> 4 != 4 {
        return Err(Skip::NotIpv4);
    }
    let header_len = usize::from(h[0] & 0x0f) * 4;
    if header_len < 20 {
        return Err(Skip::NotIpv4);
    }
    need(data, at, header_len, Layer::Ipv4)?;
    let mut anomalies = Vec::new();
    let cut = data.len() < orig_len;
    if cut {
        anomalies.push(Anomaly::new(
            data.len(),
            AnomalyKind::SnapLengthCut {
                captured: data.len(),
                original: orig_len,
            },
        ));
    }
    let total_len = usize::from(u16::from_be_bytes([h[2], h[3]]));
    let frag = u16::from_be_bytes([h[6], h[7]]);
    let (more, offset) = (frag & 0x2000 != 0, usize::from(frag & 0x1fff) * 8);
    if h[9] != checksum::PROTOCOL_UDP {
        return Err(Skip::NotUdp);
    }
    if offset > 0 {
        return Err(Skip::Fragment);
    }
    if more {
        anomalies.push(Anomaly::new(
            at + 6,
            AnomalyKind::Ipv4Fragment {
                fragment_offset: offset,
                more_fragments: more,
            },
        ));
    }
    if checksum::ipv4_header(&h[..header_len]) != 0 {
        anomalies.push(Anomaly::new(
            at + 10,
            AnomalyKind::Ipv4ChecksumInvalid {
                found: u16::from_be_bytes([h[10], h[11]]),
            },
        ));
    }
    let available = data.len() - at;
    let ip_end = if total_len < header_len {
        anomalies.push(Anomaly::new(
            at + 2,
            AnomalyKind::Ipv4LengthTooShort {
                total_length: total_len,
                header_length: header_len,
            },
        ));
        data.len()
    } else if total_len > available {
        // Beyond the frame: expected when the snap length cut it.
        if !cut {
            anomalies.push(Anomaly::new(
                at + 2,
                AnomalyKind::Ipv4LengthBeyondFrame {
                    total_length: total_len,
                    available,
                },
            ));
        }
        data.len()
    } else {
        at + total_len
    };
    let ip = Ipv4 {
        src: Ipv4Addr::new(h[12], h[13], h[14], h[15]),
        dst: Ipv4Addr::new(h[16], h[17], h[18], h[19]),
        ttl: h[8],
        tos: h[1],
        identification: u16::from_be_bytes([h[4], h[5]]),
        dont_fragment: frag & 0x4000 != 0,
        header_len,
        total_len,
        offset: at,
    };
    let u = at + header_len;
    need(&data[..ip_end], u, 8, Layer::Udp)?;
    let udp_length = usize::from(u16::from_be_bytes([data[u + 4], data[u + 5]]));
    let ip_payload = ip_end - u;
    let whole_ip = !cut && total_len >= header_len && at + total_len <= data.len();
    let udp_end = if udp_length < 8 || udp_length > ip_payload {
        // A first fragment holds the start of the datagram the UDP length
        // measures (RFC 791): the rest is in the fragments after it.
        if whole_ip && !more || udp_length < 8 {
            anomalies.push(Anomaly::new(
                u + 4,
                AnomalyKind::UdpLengthMismatch {
                    udp_length,
                    ip_payload,
                },
            ));
        }
        ip_end
    } else {
        if udp_length < ip_payload && whole_ip {
            anomalies.push(Anomaly::new(
                u + 4,
                AnomalyKind::UdpLengthMismatch {
                    udp_length,
                    ip_payload,
                },
            ));
        }
        u + udp_length
    };
    let complete = whole_ip && !more && udp_length >= 8 && u + udp_length <= ip_end;
    let checksum = if complete {
        UdpChecksum::classify(ip.src, ip.dst, &data[u..u + udp_length])
    } else {
        UdpChecksum::Unchecked
    };
    Ok(Frame {
        link,
        ip,
        udp: Udp {
            src_port: u16::from_be_bytes([data[u], data[u + 1]]),
            dst_port: u16::from_be_bytes([data[u + 2], data[u + 3]]),
            length: udp_length as u16,
            checksum,
            offset: u,
        },
        payload: &data[u + 8..udp_end],
        payload_offset: u + 8,
        anomalies,
    })
}

/// How a built frame's UDP checksum is filled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ChecksumMode {
    /// The correct checksum.
    #[default]
    Full,
    /// Zero: no checksum.
    Zero,
    /// The pseudo-header sum, as transmit offload leaves it.
    Partial,
    /// This exact value.
    Fixed(u16),
}

/// A UDP datagram over IPv4, optionally in an Ethernet frame, to build.
#[derive(Debug, Clone)]
pub struct UdpFrame<'p> {
    pub src_mac: [u8; 6],
    pub dst_mac: [u8; 6],
    /// VLAN IDs to tag with, outermost first.
    pub vlans: Vec<u16>,
    pub src_ip: Ipv4Addr,
    pub dst_ip: Ipv4Addr,
    pub src_port: u16,
    pub dst_port: u16,
    pub ttl: u8,
    pub identification: u16,
    pub checksum: ChecksumMode,
    pub payload: &'p [u8],
}

impl<'p> UdpFrame<'p> {
    /// A datagram with TTL 64 and a full checksum.
    pub fn new(src: (Ipv4Addr, u16), dst: (Ipv4Addr, u16), payload: &'p [u8]) -> UdpFrame<'p> {
        UdpFrame {
            src_mac: [0; 6],
            dst_mac: [0xff; 6],
            vlans: Vec::new(),
            src_ip: src.0,
            dst_ip: dst.0,
            src_port: src.1,
            dst_port: dst.1,
            ttl: 64,
            identification: 0,
            checksum: ChecksumMode::Full,
            payload,
        }
    }

    /// The IPv4 packet (header, UDP header, payload).
    pub fn ipv4_packet(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(28 + self.payload.len());
        self.write_ipv4(&mut out);
        out
    }

    /// The IPv4 packet cut into fragments (RFC 791) of at most `data`
    /// bytes of the datagram each (rounded down to a multiple of 8), all but
    /// the last with More Fragments set, in order.
    pub fn ipv4_fragments(&self, data: usize) -> Vec<Vec<u8>> {
        let whole = self.ipv4_packet();
        let step = (data / 8).max(1) * 8;
        let body = &whole[20..];
        (0..body.len())
            .step_by(step)
            .map(|offset| {
                let end = (offset + step).min(body.len());
                let mut ip = whole[..20].to_vec();
                ip.extend_from_slice(&body[offset..end]);
                let total = ip.len() as u16;
                ip[2..4].copy_from_slice(&total.to_be_bytes());
                let more = if end < body.len() { 0x2000 } else { 0 };
                ip[6..8].copy_from_slice(&(more | (offset / 8) as u16).to_be_bytes());
                ip[10..12].copy_from_slice(&[0, 0]);
                let c = checksum::ipv4_header(&ip[..20]);
                ip[10..12].copy_from_slice(&c.to_be_bytes());
                ip
            })
            .collect()
    }

    /// The Ethernet frame (with VLAN tags), no FCS.
    pub fn ethernet_frame(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(14 + 4 * self.vlans.len() + 28 + self.payload.len());
        self.write_ethernet(&mut out);
        out
    }

    /// Appends the Ethernet frame to `out`.
    pub fn write_ethernet(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.dst_mac);
        out.extend_from_slice(&self.src_mac);
        for vid in &self.vlans {
            out.extend_from_slice(&ethertype::VLAN.to_be_bytes());
            out.extend_from_slice(&(vid & 0x0fff).to_be_bytes());
        }
        out.extend_from_slice(&ethertype::IPV4.to_be_bytes());
        self.write_ipv4(out);
    }

    /// Appends the IPv4 packet to `out`.
    pub fn write_ipv4(&self, out: &mut Vec<u8>) {
        let udp_len = (8 + self.payload.len()) as u16;
        let total = 20 + udp_len;
        let ip = out.len();
        out.extend_from_slice(&[0x45, 0]);
        out.extend_from_slice(&total.to_be_bytes());
        out.extend_from_slice(&self.identification.to_be_bytes());
        out.extend_from_slice(&[0, 0, self.ttl, checksum::PROTOCOL_UDP, 0, 0]);
        out.extend_from_slice(&self.src_ip.octets());
        out.extend_from_slice(&self.dst_ip.octets());
        let hc = checksum::ipv4_header(&out[ip..ip + 20]);
        out[ip + 10..ip + 12].copy_from_slice(&hc.to_be_bytes());
        let u = out.len();
        out.extend_from_slice(&self.src_port.to_be_bytes());
        out.extend_from_slice(&self.dst_port.to_be_bytes());
        out.extend_from_slice(&udp_len.to_be_bytes());
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(self.payload);
        let c = match self.checksum {
            ChecksumMode::Full => checksum::udp(self.src_ip, self.dst_ip, &out[u..]),
            ChecksumMode::Zero => 0,
            ChecksumMode::Partial => checksum::udp_partial(self.src_ip, self.dst_ip, udp_len),
            ChecksumMode::Fixed(v) => v,
        };
        out[u + 6..u + 8].copy_from_slice(&c.to_be_bytes());
    }
}

/// Formats a MAC address as `aa:bb:cc:dd:ee:ff`.
pub fn mac_to_string(mac: &[u8; 6]) -> String {
    crate::HwAddr::new(mac).hex().as_str().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offer_frame(checksum: ChecksumMode) -> Vec<u8> {
        let payload = [0x5a; 300];
        let mut f = UdpFrame::new(
            (Ipv4Addr::new(192, 168, 0, 1), 67),
            (Ipv4Addr::new(192, 168, 0, 10), 68),
            &payload,
        );
        f.checksum = checksum;
        f.src_mac = [2, 0, 0, 0, 0, 1];
        f.ethernet_frame()
    }

    #[test]
    fn round_trip_ethernet() {
        let bytes = offer_frame(ChecksumMode::Full);
        let f = decode(LinkType::Ethernet, &bytes, bytes.len()).unwrap();
        assert_eq!(f.ip.src, Ipv4Addr::new(192, 168, 0, 1));
        assert_eq!((f.udp.src_port, f.udp.dst_port), (67, 68));
        assert_eq!(f.udp.checksum, UdpChecksum::Valid);
        assert_eq!(f.payload, &[0x5a; 300][..]);
        assert_eq!(f.payload_offset, 42);
        assert!(f.anomalies.is_empty(), "{:?}", f.anomalies);
        assert!(f.is_dhcp());
    }

    #[test]
    fn padding_and_fcs_do_not_leak_into_payload() {
        let mut bytes = offer_frame(ChecksumMode::Full);
        bytes.extend_from_slice(&[0, 0, 0xde, 0xad, 0xbe, 0xef]);
        let f = decode(LinkType::Ethernet, &bytes, bytes.len()).unwrap();
        assert_eq!(f.payload.len(), 300);
        assert_eq!(f.udp.checksum, UdpChecksum::Valid);
        assert!(f.anomalies.is_empty());
    }

    #[test]
    fn partial_checksum_is_recognised() {
        let bytes = offer_frame(ChecksumMode::Partial);
        let f = decode(LinkType::Ethernet, &bytes, bytes.len()).unwrap();
        assert!(matches!(f.udp.checksum, UdpChecksum::Partial { .. }));
    }

    #[test]
    fn vlan_and_qinq_tags_are_read() {
        let payload = [1u8; 10];
        let mut f = UdpFrame::new(
            (Ipv4Addr::UNSPECIFIED, 68),
            (Ipv4Addr::BROADCAST, 67),
            &payload,
        );
        f.vlans = vec![100, 200];
        let bytes = f.ethernet_frame();
        let d = decode(LinkType::Ethernet, &bytes, bytes.len()).unwrap();
        assert_eq!(d.link.vlans, [100, 200]);
        assert_eq!(d.payload, &payload);
    }

    /// An Ethernet frame with `tags` 802.1Q tags of VIDs 1, 2, …, outermost first.
    fn tagged_frame(tags: u16) -> Vec<u8> {
        let payload = [1u8; 10];
        let mut f = UdpFrame::new(
            (Ipv4Addr::UNSPECIFIED, 68),
            (Ipv4Addr::BROADCAST, 67),
            &payload,
        );
        f.vlans = (1..=tags).collect();
        f.ethernet_frame()
    }

    #[test]
    fn vlan_stack_up_to_the_cap_is_read_deeper_is_refused() {
        for tags in 0..=MAX_VLAN_TAGS as u16 {
            let bytes = tagged_frame(tags);
            let d = decode(LinkType::Ethernet, &bytes, bytes.len()).unwrap();
            let want: Vec<u16> = (1..=tags).collect();
            assert_eq!(d.link.vlans, want[..], "{tags} tags");
            assert_eq!(d.payload, &[1u8; 10]);
        }
        // One tag more than the stack holds: refused, as before the stack was
        // inline (the reader always stopped at the eighth tag).
        let bytes = tagged_frame(MAX_VLAN_TAGS as u16 + 1);
        assert_eq!(
            decode(LinkType::Ethernet, &bytes, bytes.len()),
            Err(Skip::NotIpv4)
        );
        // ... unless the frame ends inside that tag: truncation is said first.
        let cut = 14 + 4 * MAX_VLAN_TAGS + 2;
        assert!(matches!(
            decode(LinkType::Ethernet, &bytes[..cut], bytes.len()),
            Err(Skip::Truncated(_))
        ));
    }

    #[test]
    fn vlan_tags_in_linux_cooked_v2() {
        // SLL2 with protocol 0x8100: the tag (TCI, then the inner EtherType)
        // follows the 20-byte header.
        let payload = [7u8; 8];
        let ip = UdpFrame::new(
            (Ipv4Addr::LOCALHOST, 67),
            (Ipv4Addr::LOCALHOST, 68),
            &payload,
        )
        .ipv4_packet();
        let mut sll2 = vec![
            0x81, 0x00, 0, 0, 0, 0, 0, 3, 0, 1, 0, 6, 2, 0, 0, 0, 0, 9, 0, 0,
        ];
        sll2.extend_from_slice(&[0x20, 0x2a, 0x08, 0x00]); // PCP 1, VID 42, IPv4
        sll2.extend_from_slice(&ip);
        let d = decode(LinkType::LinuxSll2, &sll2, sll2.len()).unwrap();
        assert_eq!(d.link.vlans, [42]);
        assert_eq!(d.payload, &payload);
    }

    #[test]
    fn vlan_stack_as_a_slice() {
        let mut s = VlanStack::default();
        assert!(s.is_empty());
        for vid in 1..=MAX_VLAN_TAGS as u16 {
            assert!(s.try_push(vid));
        }
        assert!(!s.try_push(99), "full");
        assert_eq!(s.len(), MAX_VLAN_TAGS);
        assert_eq!(s.last(), Some(&(MAX_VLAN_TAGS as u16)));
        let mut two = VlanStack::default();
        assert!(two.try_push(5) && two.try_push(6));
        assert_eq!(format!("{two:?}"), "[5, 6]");
        assert_eq!(two, [5, 6]);
        assert_ne!(two, s);
    }

    #[test]
    fn snap_length_cut_is_flagged_and_unchecked() {
        let bytes = offer_frame(ChecksumMode::Full);
        let d = decode(LinkType::Ethernet, &bytes[..200], bytes.len()).unwrap();
        assert_eq!(d.udp.checksum, UdpChecksum::Unchecked);
        assert_eq!(d.payload.len(), 200 - 42);
        assert_eq!(d.anomalies.len(), 1);
        assert_eq!(d.anomalies[0].kind.code(), "snap-length-cut");
    }

    #[test]
    fn every_truncation_is_an_error_or_a_frame_never_a_panic() {
        let bytes = offer_frame(ChecksumMode::Full);
        for n in 0..bytes.len() {
            let _ = decode(LinkType::Ethernet, &bytes[..n], n);
            let _ = decode(LinkType::LinuxSll, &bytes[..n], n);
            let _ = decode(LinkType::LinuxSll2, &bytes[..n], n);
            let _ = decode(LinkType::Null, &bytes[..n], n);
            let _ = decode(LinkType::Raw, &bytes[14..n.max(14)], n);
        }
    }

    #[test]
    fn cooked_and_loopback_headers() {
        let payload = [7u8; 8];
        let ip = UdpFrame::new(
            (Ipv4Addr::LOCALHOST, 67),
            (Ipv4Addr::LOCALHOST, 68),
            &payload,
        )
        .ipv4_packet();
        // Linux cooked v1: packet type, ARPHRD_ETHER, address length 6, address, protocol.
        let mut sll = vec![0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 9, 0, 0, 0x08, 0x00];
        sll.extend_from_slice(&ip);
        let d = decode(LinkType::LinuxSll, &sll, sll.len()).unwrap();
        assert_eq!(d.link.src_mac, Some([2, 0, 0, 0, 0, 9]));
        assert_eq!(d.payload, &payload);
        // Linux cooked v2: protocol, reserved, ifindex, ARPHRD, type, address length, address.
        let mut sll2 = vec![
            0x08, 0x00, 0, 0, 0, 0, 0, 3, 0, 1, 0, 6, 2, 0, 0, 0, 0, 9, 0, 0,
        ];
        sll2.extend_from_slice(&ip);
        let d = decode(LinkType::LinuxSll2, &sll2, sll2.len()).unwrap();
        assert_eq!(d.link.src_mac, Some([2, 0, 0, 0, 0, 9]));
        assert_eq!(d.payload, &payload);
        // BSD loopback, little-endian writer.
        let mut null = vec![2, 0, 0, 0];
        null.extend_from_slice(&ip);
        assert_eq!(
            decode(LinkType::Null, &null, null.len()).unwrap().payload,
            &payload
        );
        let mut lo = vec![0, 0, 0, 2];
        lo.extend_from_slice(&ip);
        assert_eq!(
            decode(LinkType::Loop, &lo, lo.len()).unwrap().payload,
            &payload
        );
        assert_eq!(
            decode(LinkType::Raw, &ip, ip.len()).unwrap().payload,
            &payload
        );
    }

    #[test]
    fn non_ip_and_non_udp_are_skipped() {
        let mut arp = vec![0xff; 12];
        arp.extend_from_slice(&[0x08, 0x06]);
        arp.extend_from_slice(&[0; 28]);
        assert_eq!(
            decode(LinkType::Ethernet, &arp, arp.len()),
            Err(Skip::NotIpv4)
        );
        let mut ip =
            UdpFrame::new((Ipv4Addr::LOCALHOST, 1), (Ipv4Addr::LOCALHOST, 2), &[]).ipv4_packet();
        ip[9] = 6;
        assert_eq!(decode(LinkType::Raw, &ip, ip.len()), Err(Skip::NotUdp));
        assert_eq!(
            decode(LinkType::Other(147), &ip, ip.len()),
            Err(Skip::UnsupportedLinkType(LinkType::Other(147)))
        );
    }

    #[test]
    fn first_fragment_is_flagged_later_ones_skipped() {
        let payload = [3u8; 40];
        let mut ip = UdpFrame::new(
            (Ipv4Addr::LOCALHOST, 67),
            (Ipv4Addr::LOCALHOST, 68),
            &payload,
        )
        .ipv4_packet();
        ip[6] = 0x20; // MF
        ip[10] = 0;
        ip[11] = 0;
        let c = checksum::ipv4_header(&ip[..20]);
        ip[10..12].copy_from_slice(&c.to_be_bytes());
        let d = decode(LinkType::Raw, &ip, ip.len()).unwrap();
        assert_eq!(d.anomalies[0].kind.code(), "ipv4-fragment");
        assert_eq!(d.udp.checksum, UdpChecksum::Unchecked);
        ip[7] = 1; // offset 8
        assert_eq!(decode(LinkType::Raw, &ip, ip.len()), Err(Skip::Fragment));
    }

    /// The first fragment of a DHCP reply too large for one 1500-byte
    /// packet (an OFFER with eight 200-byte options, as a server with a
    /// long vendor list sends): read like a message the capture cut, its
    /// size from the UDP length. Not a UDP length that disagrees with the
    /// IP payload, an option running past the message or a malformation.
    /// The later fragment is known to continue it.
    #[test]
    fn a_first_fragment_is_read_as_the_start_of_its_message() {
        let mut m = crate::dhcp::Message::new(crate::Op::BootReply, 0x99, &[2, 0, 0, 0, 0, 1]);
        m.set_option(crate::dhcp::code::DHCP_MESSAGE_TYPE, vec![2]);
        for c in 224..232 {
            m.set_option(c, vec![b'A'; 200]);
        }
        let message = m.encode(300);
        let mut f = UdpFrame::new(
            (Ipv4Addr::new(10, 0, 0, 1), 67),
            (Ipv4Addr::new(10, 0, 0, 50), 68),
            &message,
        );
        f.identification = 0x4242;
        // RFC 791: the first fragment carries 1480 bytes of the datagram
        // (a multiple of 8), MF set; the second the rest, at offset 1480.
        let [first, second] = <[Vec<u8>; 2]>::try_from(f.ipv4_fragments(1480)).unwrap();
        let d = crate::packet::decode(LinkType::Raw, &first, first.len())
            .unwrap()
            .unwrap();
        let codes: Vec<_> = d.anomalies.iter().map(|a| a.kind.code()).collect();
        assert_eq!(codes, ["ipv4-fragment"]);
        assert!(!d.anomalies[0].kind.is_malformation());
        assert!(d.message_cut());
        assert_eq!(d.message_len(), message.len());
        assert_eq!(d.first_fragment_of(), Some((f.src_ip, f.dst_ip, 0x4242)));
        assert_eq!(
            decode(LinkType::Raw, &second, second.len()),
            Err(Skip::Fragment)
        );
        assert_eq!(
            continued_datagram(LinkType::Raw, &second),
            d.first_fragment_of()
        );
        assert_eq!(continued_datagram(LinkType::Raw, &first), None);
    }
}
