//! The fast path: a DHCP packet with nothing wrong in it, read in place.
//!
//! Most packets of a capture are plain: an Ethernet frame (at most two VLAN
//! tags), one whole IPv4 datagram with a valid header checksum, a UDP length
//! that matches it, and a DHCP message whose options fit, end with END and
//! zeros, appear once each, have lengths their types allow, and include one
//! option 53 but no option 52. [`read`] recognises such a packet without
//! allocating or listing its options, and gives `None` for everything else,
//! which [`crate::packet::decode`] then reads with all its anomalies.
//!
//! The contract, tested against the general decoder: when [`read`] gives a
//! [`Plain`], [`crate::packet::decode`] finds the same fields, one TLV per
//! option, and no anomaly but a message shorter than the 300-byte BOOTP
//! minimum (a style, not an error).

use std::net::Ipv4Addr;

use crate::checksum::{self, UdpChecksum};
use crate::dhcp::{self, code, field, HwAddr, Op, MAGIC_COOKIE, OPTIONS_OFFSET};
use crate::frame::{ethertype, LinkType};

/// VLAN tags read on the fast path; a frame with more takes the general one.
const MAX_TAGS: usize = 2;

/// A plain DHCP packet's framing and message, borrowed from the frame.
/// Only [`read`] makes one (so the accessors' indexing is checked).
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct Plain<'a> {
    pub dst_mac: [u8; 6],
    pub src_mac: [u8; 6],
    /// The innermost VLAN tag's VID.
    pub vlan: Option<u16>,
    pub src_ip: Ipv4Addr,
    pub dst_ip: Ipv4Addr,
    /// The IPv4 header's identification.
    pub ip_id: u16,
    /// The IPv4 header's time to live.
    pub ttl: u8,
    pub src_port: u16,
    pub dst_port: u16,
    pub udp_checksum: UdpChecksum,
    /// The DHCP message: the whole UDP payload.
    pub message: &'a [u8],
    /// The code of the first option other than PAD.
    pub first_code: u8,
}

/// Reads `data`, a frame of link type `link` that was `orig_len` bytes long,
/// if it is a plain DHCP packet (see the module's contract).
pub fn read(link: LinkType, data: &[u8], orig_len: usize) -> Option<Plain<'_>> {
    if link != LinkType::Ethernet || data.len() < orig_len {
        return None;
    }
    let (ip_at, vlan) = ethernet(data)?;
    let h = data.get(ip_at..ip_at + 20)?;
    let header_len = usize::from(h[0] & 0x0f) * 4;
    // Version 4, UDP, and neither a fragment nor the first of several.
    if h[0] >> 4 != 4
        || header_len < 20
        || h[9] != checksum::PROTOCOL_UDP
        || h[6] & 0x3f != 0
        || h[7] != 0
    {
        return None;
    }
    let total_len = usize::from(u16::from_be_bytes([h[2], h[3]]));
    let header = data.get(ip_at..ip_at + header_len)?;
    if total_len < header_len
        || ip_at + total_len > data.len()
        || checksum::ipv4_header(header) != 0
    {
        return None;
    }
    let u = ip_at + header_len;
    let segment = &data[u..ip_at + total_len];
    if segment.len() < 8
        || usize::from(u16::from_be_bytes([segment[4], segment[5]])) != segment.len()
    {
        return None;
    }
    let src_port = u16::from_be_bytes([segment[0], segment[1]]);
    let dst_port = u16::from_be_bytes([segment[2], segment[3]]);
    if ![src_port, dst_port].iter().any(|p| *p == 67 || *p == 68) {
        return None;
    }
    let src_ip = Ipv4Addr::new(h[12], h[13], h[14], h[15]);
    let dst_ip = Ipv4Addr::new(h[16], h[17], h[18], h[19]);
    let message = &segment[8..];
    let first_code = options(message)?;
    Some(Plain {
        dst_mac: data[0..6].try_into().ok()?,
        src_mac: data[6..12].try_into().ok()?,
        vlan,
        src_ip,
        dst_ip,
        ip_id: u16::from_be_bytes([h[4], h[5]]),
        ttl: h[8],
        src_port,
        dst_port,
        udp_checksum: UdpChecksum::classify(src_ip, dst_ip, segment),
        message,
        first_code,
    })
}

/// The IPv4 header's offset and the innermost VLAN ID of an Ethernet frame.
fn ethernet(data: &[u8]) -> Option<(usize, Option<u16>)> {
    let mut at = 12;
    let mut vlan = None;
    for _ in 0..=MAX_TAGS {
        let b = data.get(at..at + 2)?;
        match u16::from_be_bytes([b[0], b[1]]) {
            ethertype::IPV4 => return Some((at + 2, vlan)),
            ethertype::VLAN | ethertype::QINQ | ethertype::QINQ_OLD => {
                let tci = data.get(at + 2..at + 4)?;
                vlan = Some(u16::from_be_bytes([tci[0], tci[1]]) & 0x0fff);
                at += 4;
            }
            _ => return None,
        }
    }
    None
}

/// Checks a message's header and options; the code of its first option.
fn options(m: &[u8]) -> Option<u8> {
    if m.len() < OPTIONS_OFFSET
        || !matches!(m[field::OP], 1 | 2)
        || m[field::HLEN] > 16
        || m[field::COOKIE] != MAGIC_COOKIE
    {
        return None;
    }
    let o = &m[OPTIONS_OFFSET..];
    let mut seen = [0u64; 4];
    // The first option's code; 0 (PAD, never recorded) until there is one.
    let mut first = 0;
    let mut i = 0;
    let end = loop {
        let c = *o.get(i)?;
        if c == code::PAD {
            i += 1;
            continue;
        }
        if c == code::END {
            break i + 1;
        }
        let len = usize::from(*o.get(i + 1)?);
        let next = i + 2 + len;
        let (word, bit) = (usize::from(c / 64), 1u64 << (c % 64));
        if next > o.len()
            || seen[word] & bit != 0
            || c == code::OPTION_OVERLOAD
            || !dhcp::length_allowed(c, len)
        {
            return None;
        }
        seen[word] |= bit;
        if first == 0 {
            first = c;
        }
        i = next;
    };
    let mt = code::DHCP_MESSAGE_TYPE;
    let has_type = seen[usize::from(mt / 64)] & (1 << (mt % 64)) != 0;
    (has_type && first != 0 && dhcp::trim_zeros(&o[end..]).is_empty()).then_some(first)
}

impl<'a> Plain<'a> {
    pub fn op(&self) -> Op {
        Op::from(self.message[field::OP])
    }

    pub fn hops(&self) -> u8 {
        self.message[field::HOPS]
    }

    pub fn xid(&self) -> u32 {
        self.u32_at(field::XID.start)
    }

    pub fn secs(&self) -> u16 {
        u16::from_be_bytes([self.message[8], self.message[9]])
    }

    pub fn flags(&self) -> u16 {
        u16::from_be_bytes([self.message[10], self.message[11]])
    }

    pub fn ciaddr(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.u32_at(field::CIADDR.start))
    }

    pub fn yiaddr(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.u32_at(field::YIADDR.start))
    }

    pub fn siaddr(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.u32_at(field::SIADDR.start))
    }

    pub fn giaddr(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.u32_at(field::GIADDR.start))
    }

    /// `chaddr`, `hlen` bytes of it.
    pub fn chaddr(&self) -> HwAddr {
        let hlen = usize::from(self.message[field::HLEN]);
        HwAddr::new(&self.message[field::CHADDR][..hlen])
    }

    /// The `file` field, all 128 bytes (never overloaded in a plain message).
    pub fn file(&self) -> &'a [u8] {
        &self.message[field::FILE]
    }

    /// The options as `(code, value)`, in order, without PAD and END. Each
    /// code appears once, so a value is the option's whole value.
    pub fn options(&self) -> impl Iterator<Item = (u8, &'a [u8])> {
        // `read` checked that every TLV fits and that END comes.
        let mut rest = &self.message[OPTIONS_OFFSET..];
        std::iter::from_fn(move || loop {
            let (&c, tail) = rest.split_first()?;
            match c {
                code::PAD => rest = tail,
                code::END => return None,
                c => {
                    let (&len, tail) = tail.split_first()?;
                    let (value, after) = tail.split_at_checked(usize::from(len))?;
                    rest = after;
                    return Some((c, value));
                }
            }
        })
    }

    fn u32_at(&self, at: usize) -> u32 {
        let b = &self.message[at..at + 4];
        u32::from_be_bytes([b[0], b[1], b[2], b[3]])
    }
}
