//! The Internet checksum (RFC 1071) and what a UDP checksum field says.
//!
//! All checksum arithmetic of the project lives here. A received UDP checksum is
//! classified as one of [`UdpChecksum`]'s states; the one that matters most for
//! DHCP is [`UdpChecksum::Partial`]: the sender's kernel handed the checksum to the
//! NIC (`CHECKSUM_PARTIAL`, transmit offload) and the field still holds the folded,
//! *uncomplemented* pseudo-header sum that the hardware was meant to finish. A
//! capture on the sending host always shows it; a client that receives it unfilled
//! (a virtual NIC that never fills it) and verifies checksums drops the reply.

use std::net::Ipv4Addr;

/// IP protocol number of UDP.
pub const PROTOCOL_UDP: u8 = 17;

/// Adds `data` to a running one's-complement sum of big-endian 16-bit words.
/// An odd trailing byte is padded with a zero byte, as RFC 768 says.
pub fn add(mut acc: u64, data: &[u8]) -> u64 {
    // 8 bytes at a time as two big-endian 32-bit halves: the one's-complement
    // sum of 32-bit words folds to the same 16-bit sum (RFC 1071 §2).
    let mut chunks = data.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_be_bytes(c.try_into().expect("8 bytes"));
        acc += (w >> 32) + (w & 0xffff_ffff);
    }
    let mut words = chunks.remainder().chunks_exact(2);

    for w in &mut words {
        acc += u64::from(u16::from_be_bytes([w[0], w[1]]));
    }
    if let [last] = words.remainder() {
        acc += u64::from(*last) << 8;
    }
    acc
}

/// Folds a running sum to 16 bits, without complementing it.
pub fn fold(mut acc: u64) -> u16 {
    while acc >> 16 != 0 {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    acc as u16
}

/// The unfolded sum of the IPv4 pseudo-header (RFC 768): addresses, protocol and
/// the transport length.
pub fn pseudo_header(src: Ipv4Addr, dst: Ipv4Addr, protocol: u8, length: u16) -> u64 {
    let mut acc = add(0, &src.octets());
    acc = add(acc, &dst.octets());
    acc + u64::from(protocol) + u64::from(length)
}

/// The checksum of an IPv4 header whose checksum field (bytes 10..12) is zero,
/// or the verification result (0 when valid) when it is filled.
pub fn ipv4_header(header: &[u8]) -> u16 {
    !fold(add(0, header))
}

/// The UDP checksum to put in the header of `segment` (header + payload, with the
/// checksum field's bytes ignored). A computed 0 is sent as 0xffff (RFC 768).
pub fn udp(src: Ipv4Addr, dst: Ipv4Addr, segment: &[u8]) -> u16 {
    let mut acc = pseudo_header(src, dst, PROTOCOL_UDP, segment.len() as u16);
    acc = add(acc, &segment[..segment.len().min(6)]);
    if segment.len() > 8 {
        acc = add(acc, &segment[8..]);
    }
    match !fold(acc) {
        0 => 0xffff,
        c => c,
    }
}

/// The value a Linux sender leaves in the UDP checksum field under transmit
/// offload: the folded, uncomplemented pseudo-header sum
/// (`~csum_tcpudp_magic(saddr, daddr, len, IPPROTO_UDP, 0)` in `udp4_hwcsum`).
pub fn udp_partial(src: Ipv4Addr, dst: Ipv4Addr, length: u16) -> u16 {
    fold(pseudo_header(src, dst, PROTOCOL_UDP, length))
}

/// What a received UDP checksum field says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UdpChecksum {
    /// The checksum verifies.
    Valid,
    /// The field is zero: the sender computed no checksum (allowed over IPv4).
    Zero,
    /// The field holds the pseudo-header sum a sender leaves for its NIC to
    /// finish (transmit checksum offload); the NIC never did, or the capture was
    /// taken before it did.
    Partial { found: u16 },
    /// The checksum does not verify and is not the offload signature.
    Invalid { found: u16, expected: u16 },
    /// The datagram is not complete in the capture (snap length, truncation), so
    /// the checksum could not be verified.
    Unchecked,
}

impl UdpChecksum {
    /// Classifies the checksum of a complete UDP `segment` (header + payload) sent
    /// from `src` to `dst`.
    pub fn classify(src: Ipv4Addr, dst: Ipv4Addr, segment: &[u8]) -> UdpChecksum {
        if segment.len() < 8 {
            return UdpChecksum::Unchecked;
        }
        let found = u16::from_be_bytes([segment[6], segment[7]]);
        if found == 0 {
            return UdpChecksum::Zero;
        }
        let length = segment.len() as u16;
        let total = add(pseudo_header(src, dst, PROTOCOL_UDP, length), segment);
        if fold(total) == 0xffff {
            return UdpChecksum::Valid;
        }
        if found == udp_partial(src, dst, length) {
            return UdpChecksum::Partial { found };
        }
        UdpChecksum::Invalid {
            found,
            expected: udp(src, dst, segment),
        }
    }

    /// The stable name used in JSON output: `valid`, `zero`, `partial`,
    /// `invalid` or `unchecked`.
    pub fn name(&self) -> &'static str {
        match self {
            UdpChecksum::Valid => "valid",
            UdpChecksum::Zero => "zero",
            UdpChecksum::Partial { .. } => "partial",
            UdpChecksum::Invalid { .. } => "invalid",
            UdpChecksum::Unchecked => "unchecked",
        }
    }

    /// Whether a receiver that verifies checksums would accept the datagram.
    pub fn accepted_by_strict_receiver(&self) -> bool {
        matches!(self, UdpChecksum::Valid | UdpChecksum::Zero)
    }
}

impl std::fmt::Display for UdpChecksum {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UdpChecksum::Partial { found } => {
                write!(
                    f,
                    "partial 0x{found:04x} (pseudo-header sum left for offload)"
                )
            }
            UdpChecksum::Invalid { found, expected } => {
                write!(f, "invalid 0x{found:04x}, expected 0x{expected:04x}")
            }
            other => f.write_str(other.name()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real DHCPOFFER's UDP segment, shortened: RFC 1071's example words are
    /// too small to exercise folding, so use a sum that carries many times.
    #[test]
    fn fold_carries_until_16_bits() {
        assert_eq!(fold(0x0001_ffff), 0x0001);
        assert_eq!(fold(0xffff_ffff), 0xffff);
        assert_eq!(fold(0x1_0000_0000), 0x0001);
    }

    #[test]
    fn rfc1071_example() {
        // RFC 1071 §3: the words 0001 f203 f4f5 f6f7 sum to 0x2ddf0, folded 0xddf2.
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(fold(add(0, &data)), 0xddf2);
    }

    #[test]
    fn odd_length_pads_last_byte() {
        assert_eq!(fold(add(0, &[0x12, 0x34, 0x56])), 0x1234 + 0x5600);
    }

    fn segment(src: Ipv4Addr, dst: Ipv4Addr, payload: &[u8], check: Option<u16>) -> Vec<u8> {
        let len = (8 + payload.len()) as u16;
        let mut s = vec![0, 67, 0, 68];
        s.extend_from_slice(&len.to_be_bytes());
        s.extend_from_slice(&[0, 0]);
        s.extend_from_slice(payload);
        let c = check.unwrap_or_else(|| udp(src, dst, &s));
        s[6..8].copy_from_slice(&c.to_be_bytes());
        s
    }

    #[test]
    fn classifies_each_state() {
        let (src, dst) = (Ipv4Addr::new(192, 168, 1, 1), Ipv4Addr::BROADCAST);
        let payload = b"an offer, more or less";
        assert_eq!(
            UdpChecksum::classify(src, dst, &segment(src, dst, payload, None)),
            UdpChecksum::Valid
        );
        assert_eq!(
            UdpChecksum::classify(src, dst, &segment(src, dst, payload, Some(0))),
            UdpChecksum::Zero
        );
        let partial = udp_partial(src, dst, (8 + payload.len()) as u16);
        assert_eq!(
            UdpChecksum::classify(src, dst, &segment(src, dst, payload, Some(partial))),
            UdpChecksum::Partial { found: partial }
        );
        let good = udp(src, dst, &segment(src, dst, payload, None));
        let bad = good.wrapping_add(1);
        assert_eq!(
            UdpChecksum::classify(src, dst, &segment(src, dst, payload, Some(bad))),
            UdpChecksum::Invalid {
                found: bad,
                expected: good
            }
        );
        assert_eq!(
            UdpChecksum::classify(src, dst, &[0, 67, 0]),
            UdpChecksum::Unchecked
        );
    }

    #[test]
    fn partial_value_does_not_depend_on_payload() {
        // The offload signature covers only the pseudo-header: two payloads of
        // the same length leave the same value.
        let (src, dst) = (Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2));
        let a = segment(src, dst, &[1; 300], None);
        let b = segment(src, dst, &[2; 300], None);
        assert_ne!(a[6..8], b[6..8]);
        assert_eq!(udp_partial(src, dst, 308), udp_partial(src, dst, 308));
    }

    #[test]
    fn ipv4_header_checksum_verifies_to_zero() {
        // A real IPv4 header (from a DHCPOFFER in net-dhcp's capture).
        let mut h = [
            0x45, 0x00, 0x01, 0x48, 0x04, 0x45, 0x00, 0x00, 0x80, 0x11, 0x00, 0x00, 0xc0, 0xa8,
            0x00, 0x01, 0xc0, 0xa8, 0x00, 0x0a,
        ];
        let c = ipv4_header(&h);
        h[10..12].copy_from_slice(&c.to_be_bytes());
        assert_eq!(ipv4_header(&h), 0);
    }
}
