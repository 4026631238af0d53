//! `wire::packet::decode` over every link type, with invariants on what it
//! returns, and a rebuild of what it found checked by decoding it again.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wire::checksum::UdpChecksum;
use wire::frame::{self, ChecksumMode, LinkType, UdpFrame};
use wire::packet;

const LINKS: [LinkType; 8] = [
    LinkType::Null,
    LinkType::Ethernet,
    LinkType::Raw,
    LinkType::Loop,
    LinkType::LinuxSll,
    LinkType::Ipv4,
    LinkType::LinuxSll2,
    LinkType::Other(147),
];

fuzz_target!(|input: &[u8]| {
    let [sel, hi, lo, data @ ..] = input else {
        return;
    };
    let link = LINKS[usize::from(sel & 7)];
    let extra = usize::from(u16::from_be_bytes([*hi, *lo]));
    // Mostly the frame's own length or more (snap length), sometimes less.
    let orig_len = if sel & 0x80 != 0 {
        extra
    } else {
        data.len() + extra % 64
    };
    let Ok(Some(p)) = packet::decode(link, data, orig_len) else {
        return;
    };
    let f = &p.frame;
    assert!(link.is_supported());
    assert!(f.ip.offset + f.ip.header_len == f.udp.offset);
    assert_eq!(f.udp.offset + 8, f.payload_offset);
    let end = f.payload_offset + f.payload.len();
    assert!(end <= data.len());
    assert_eq!(f.payload, &data[f.payload_offset..end]);
    if f.ip.total_len >= f.ip.header_len {
        assert!(
            end <= f.ip.offset + f.ip.total_len,
            "payload beyond the IP length"
        );
    }
    if f.udp.length >= 8 {
        assert!(
            end <= f.udp.offset + usize::from(f.udp.length),
            "payload beyond the UDP length"
        );
    }
    for a in &p.anomalies {
        assert!(a.offset <= data.len(), "anomaly past the frame: {a}");
        let _ = a.to_string();
    }
    if !matches!(f.udp.checksum, UdpChecksum::Unchecked) {
        // Only a complete datagram is classified, and classifying it again
        // gives the same answer.
        let seg = f.udp.offset..f.udp.offset + usize::from(f.udp.length);
        assert!(seg.end <= data.len() && seg.end == end);
        assert_eq!(
            UdpChecksum::classify(f.ip.src, f.ip.dst, &data[seg]),
            f.udp.checksum
        );
    }
    let _ = f.udp.checksum.to_string();

    // Rebuild the datagram and read it back: same addresses, ports, payload,
    // and the checksum state that was asked for.
    for (mode, ok) in [
        (
            ChecksumMode::Full,
            &(|c: UdpChecksum| c == UdpChecksum::Valid) as &dyn Fn(UdpChecksum) -> bool,
        ),
        (ChecksumMode::Zero, &|c| c == UdpChecksum::Zero),
        // A partial sum that happens to verify is a valid checksum.
        (ChecksumMode::Partial, &|c| {
            matches!(c, UdpChecksum::Partial { .. } | UdpChecksum::Valid)
        }),
    ] {
        if f.payload.len() > 1400 {
            break;
        }
        let mut b = UdpFrame::new(
            (f.ip.src, f.udp.src_port),
            (f.ip.dst, f.udp.dst_port),
            f.payload,
        );
        b.checksum = mode;
        b.vlans = f.link.vlans.to_vec();
        let bytes = b.ethernet_frame();
        let back =
            frame::decode(LinkType::Ethernet, &bytes, bytes.len()).expect("a frame we built");
        assert!(
            ok(back.udp.checksum),
            "{mode:?} read back as {:?}",
            back.udp.checksum
        );
        assert_eq!(back.payload, f.payload);
        assert_eq!((back.ip.src, back.ip.dst), (f.ip.src, f.ip.dst));
        assert_eq!(
            (back.udp.src_port, back.udp.dst_port),
            (f.udp.src_port, f.udp.dst_port)
        );
        assert_eq!(back.link.vlans, f.link.vlans);
        assert!(back.anomalies.is_empty(), "{:?}", back.anomalies);
    }
});
