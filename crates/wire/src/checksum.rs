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
///
/// The running sum is unfolded: what it holds is only meaningful through
/// [`fold`]. `add` keeps two things [`fold`] needs: the value modulo 0xffff,
/// and being zero only when every word added was zero.
pub fn add(acc: u64, data: &[u8]) -> u64 {
    // The sum does not depend on byte order (RFC 1071 §2(B)): add the bytes as
    // native-endian 64-bit words, with the carry out of bit 63 added back in
    // (2^64 is 1 modulo 0xffff), fold, and read the folded bytes big-endian.
    let mut sum = 0;
    let mut words = data.chunks_exact(8);
    for w in &mut words {
        sum = add_carry(sum, u64::from_ne_bytes(w.try_into().expect("8 bytes")));
    }
    // The last 0 to 7 bytes: a 32-bit word, a 16-bit word, then an odd last
    // byte padded with a zero byte after it, each as far as there are bytes.
    let mut rest = words.remainder();
    if let Some((w, more)) = rest.split_first_chunk::<4>() {
        sum = add_carry(sum, u64::from(u32::from_ne_bytes(*w)));
        rest = more;
    }
    if let Some((w, more)) = rest.split_first_chunk::<2>() {
        sum = add_carry(sum, u64::from(u16::from_ne_bytes(*w)));
        rest = more;
    }
    if let [last] = rest {
        sum = add_carry(sum, u64::from(u16::from_ne_bytes([*last, 0])));
    }
    acc + u64::from(u16::from_be_bytes(fold(sum).to_ne_bytes()))
}

/// `a + b` with end-around carry.
fn add_carry(a: u64, b: u64) -> u64 {
    let (sum, carry) = a.overflowing_add(b);
    sum + u64::from(carry)
}

/// Folds a running sum to 16 bits, without complementing it.
pub fn fold(acc: u64) -> u16 {
    // Each step adds the high part to the low one (end-around carry), keeping
    // the value modulo 0xffff. Bounds: < 2^33, < 2^18, <= 0x10002, <= 0xffff.
    let acc = (acc & 0xffff_ffff) + (acc >> 32);
    let acc = (acc & 0xffff) + (acc >> 16);
    let acc = (acc & 0xffff) + (acc >> 16);
    let acc = (acc & 0xffff) + (acc >> 16);
    acc as u16
}

/// The unfolded sum of the IPv4 pseudo-header (RFC 768): addresses, protocol and
/// the transport length.
pub fn pseudo_header(src: Ipv4Addr, dst: Ipv4Addr, protocol: u8, length: u16) -> u64 {
    // An address as one big-endian 32-bit number: 2^16 is 1 modulo 0xffff, so
    // it sums like its two 16-bit words.
    u64::from(src.to_bits()) + u64::from(dst.to_bits()) + u64::from(protocol) + u64::from(length)
}

/// The checksum of an IPv4 header whose checksum field (bytes 10..12) is zero,
/// or the verification result (0 when valid) when it is filled.
pub fn ipv4_header(header: &[u8]) -> u16 {
    // The usual header, without options: its five 32-bit words summed as
    // numbers (2^16 is 1 modulo 0xffff, as in `pseudo_header`), which takes
    // a third of the work of the general sum.
    if let Ok(h) = <&[u8; 20]>::try_from(header) {
        let word = |i: usize| u64::from(u32::from_be_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]));
        return !fold(word(0) + word(4) + word(8) + word(12) + word(16));
    }
    !fold(add(0, header))
}

/// The UDP checksum to put in the header of `segment` (header + payload, with the
/// checksum field's bytes ignored). A computed 0 is sent as 0xffff (RFC 768).
pub fn udp(src: Ipv4Addr, dst: Ipv4Addr, segment: &[u8]) -> u16 {
    let pseudo = pseudo_header(src, dst, PROTOCOL_UDP, segment.len() as u16);
    udp_field(udp_covered(pseudo, segment))
}

/// The running sum of what a UDP checksum covers, less the checksum field
/// (bytes 6 and 7 of `segment`): the pseudo-header sum `pseudo`, then the rest
/// of the segment.
fn udp_covered(pseudo: u64, segment: &[u8]) -> u64 {
    let acc = add(pseudo, &segment[..segment.len().min(6)]);
    add(acc, segment.get(8..).unwrap_or_default())
}

/// The checksum field for the running sum `covered`: its complement, with a
/// computed 0 sent as 0xffff (RFC 768).
fn udp_field(covered: u64) -> u16 {
    match !fold(covered) {
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
        let pseudo = pseudo_header(src, dst, PROTOCOL_UDP, segment.len() as u16);
        let total = add(pseudo, segment);
        if fold(total) == 0xffff {
            return UdpChecksum::Valid;
        }
        // What udp_partial computes, from the sum at hand.
        if found == fold(pseudo) {
            return UdpChecksum::Partial { found };
        }
        // The sum without the field, as the sender computes it: adding the
        // complement of a word takes it away (modulo 0xffff), and udp_field
        // sends either zero of one's complement as 0xffff.
        UdpChecksum::Invalid {
            found,
            expected: udp_field(total + u64::from(!found)),
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
        // Zero stays zero; any other multiple of 0xffff is 0xffff.
        assert_eq!(fold(0), 0);
        assert_eq!(fold(0xffff * 0x1_0001), 0xffff);
        assert_eq!(fold(u64::MAX), 0xffff);
        assert_eq!(fold(0xffff_fffe_ffff_ffff), 0xfffe);
        assert_eq!(fold(0x8000_0000_0000_0000), 0x8000);
    }

    proptest::proptest! {
        /// The value modulo 0xffff, in 1..=0xffff for anything but 0.
        #[test]
        fn fold_is_the_residue(acc in proptest::prelude::any::<u64>()) {
            let want = if acc == 0 { 0 } else { (acc - 1) % 0xffff + 1 };
            proptest::prop_assert_eq!(u64::from(fold(acc)), want);
        }
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

    /// RFC 1071 as written: big-endian 16-bit words one by one, an odd last
    /// byte padded with zero, in a sum too wide to wrap.
    fn add_reference(acc: u64, data: &[u8]) -> u64 {
        let words = data.chunks(2).map(|w| match *w {
            [hi, lo] => u64::from(u16::from_be_bytes([hi, lo])),
            [hi] => u64::from(hi) << 8,
            _ => unreachable!("chunks of 1 or 2"),
        });
        acc + words.sum::<u64>()
    }

    #[test]
    fn add_folds_like_the_reference_at_every_length() {
        // All ones and all zeros are the edge cases of end-around carry (and
        // the zero/0xffff ambiguity of one's complement); then mixed bytes.
        let mixed: Vec<u8> = (0..700u32).map(|i| (i * 151 + 7) as u8).collect();
        for bytes in [vec![0xff; 700], vec![0; 700], mixed] {
            for start in 0..3 {
                for end in start..bytes.len() {
                    let d = &bytes[start..end];
                    for acc in [0, 1, 0xffff, 0x1_2345_6789] {
                        assert_eq!(
                            fold(add(acc, d)),
                            fold(add_reference(acc, d)),
                            "bytes {start}..{end}, acc {acc:#x}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn pseudo_header_folds_like_its_words() {
        let (src, dst) = (
            Ipv4Addr::new(255, 255, 1, 2),
            Ipv4Addr::new(10, 0, 255, 255),
        );
        let mut words = src.octets().to_vec();
        words.extend_from_slice(&dst.octets());
        words.extend_from_slice(&[0, PROTOCOL_UDP, 0x01, 0x2c]);
        assert_eq!(
            fold(pseudo_header(src, dst, PROTOCOL_UDP, 300)),
            fold(add_reference(0, &words))
        );
    }

    proptest::proptest! {
        /// classify agrees with the definitions: valid when the whole segment
        /// with the pseudo-header folds to all ones, partial when the field is
        /// the pseudo-header sum, otherwise invalid with what a sender puts.
        #[test]
        fn classify_agrees_with_rfc1071(
            src in proptest::prelude::any::<u32>(),
            dst in proptest::prelude::any::<u32>(),
            payload in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600),
            field in 0u8..4,
            other in proptest::prelude::any::<u16>(),
        ) {
            let (src, dst) = (Ipv4Addr::from(src), Ipv4Addr::from(dst));
            let len = (8 + payload.len()) as u16;
            let mut words = src.octets().to_vec();
            words.extend_from_slice(&dst.octets());
            words.extend_from_slice(&[0, PROTOCOL_UDP]);
            words.extend_from_slice(&len.to_be_bytes());
            let mut seg = segment(src, dst, &payload, Some(0));
            let expected = match !fold(add_reference(0, &[&words[..], &seg].concat())) {
                0 => 0xffff,
                c => c,
            };
            let partial = fold(add_reference(0, &words));
            let found = [expected, partial, 0, other][usize::from(field)];
            seg[6..8].copy_from_slice(&found.to_be_bytes());
            let want = if found == 0 {
                UdpChecksum::Zero
            } else if fold(add_reference(0, &[&words[..], &seg].concat())) == 0xffff {
                UdpChecksum::Valid
            } else if found == partial {
                UdpChecksum::Partial { found }
            } else {
                UdpChecksum::Invalid { found, expected }
            };
            proptest::prop_assert_eq!(UdpChecksum::classify(src, dst, &seg), want);
            proptest::prop_assert_eq!(udp(src, dst, &seg), expected);
        }
    }

    proptest::proptest! {
        /// A 20-byte header (summed by 32-bit words) and longer ones (by the
        /// general sum) give what RFC 1071's word-by-word sum gives.
        #[test]
        fn ipv4_header_agrees_with_rfc1071(
            header in proptest::collection::vec(proptest::prelude::any::<u8>(), 20..=60),
            zeros in proptest::prelude::any::<bool>(),
        ) {
            let header = if zeros { vec![0; header.len()] } else { header };
            for h in [&header[..20], &header[..]] {
                proptest::prop_assert_eq!(ipv4_header(h), !fold(add_reference(0, h)));
            }
        }
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
