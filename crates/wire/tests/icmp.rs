//! ICMP destination unreachables that quote a DHCP message, from real
//! captures: the lab's `pxe-boot-server-silent` (ISC dhcpd's host answering
//! iPXE's requests to UDP 4011) and what tshark says of the same frames.

use std::net::Ipv4Addr;
use std::path::PathBuf;

use wire::frame::{unreachable, LinkType};

fn example(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(path)
}

/// What `unreachable` reads: reporter, code, bytes quoted, length quoted.
type Reading = Option<(Ipv4Addr, u8, usize, usize)>;

/// Every frame of the capture with `unreachable`'s reading of it.
fn read(path: &str) -> Vec<(u64, Reading)> {
    let p = example(path);
    let mut r = capture::open(p.to_str().unwrap()).unwrap();
    let mut out = Vec::new();
    while let Some(p) = r.next_packet().unwrap() {
        let u =
            unreachable(p.link, p.data).map(|u| (u.reporter, u.code, u.quoted.len(), u.quoted_len));
        out.push((p.number, u));
    }
    out
}

#[test]
fn port_unreachables_quoting_requests_to_4011() {
    let frames = read("pxe-boot-server-silent/server.pcap");
    let icmp: Vec<_> = frames
        .iter()
        .filter_map(|(n, u)| u.map(|u| (*n, u)))
        .collect();
    // tshark: frames 6, 8, 10 and 12 are "Destination unreachable (Port
    // unreachable)" from 10.0.0.1, each quoting a whole 419-byte datagram.
    assert_eq!(
        icmp.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
        [6, 8, 10, 12]
    );
    for (n, (reporter, code, len, wire_len)) in icmp {
        assert_eq!(
            (reporter, code),
            (Ipv4Addr::new(10, 0, 0, 1), 3),
            "frame {n}"
        );
        assert_eq!((len, wire_len), (411, 411), "frame {n}");
    }
    // The quoted datagram decodes as the ROM's DHCPREQUEST to port 4011.
    let p = example("pxe-boot-server-silent/server.pcap");
    let mut r = capture::open(p.to_str().unwrap()).unwrap();
    while let Some(p) = r.next_packet().unwrap() {
        if p.number != 6 {
            continue;
        }
        let u = unreachable(p.link, p.data).unwrap();
        let d = wire::packet::decode(LinkType::Ipv4, u.quoted, u.quoted_len)
            .unwrap()
            .unwrap();
        assert_eq!(d.frame.udp.dst_port, 4011);
        let m = d.message.unwrap();
        assert_eq!(m.message_type(), Some(wire::MessageType::Request));
        assert_eq!(m.ciaddr, Ipv4Addr::new(10, 0, 0, 100));
    }
}

#[test]
fn other_frames_and_cut_ones_are_not_unreachables() {
    // No DHCP packet reads as one.
    let frames = read("healthy-dhcpd/server.pcap");
    assert!(frames.iter().all(|(_, u)| u.is_none()));
    // A port unreachable cut inside the quoted header is not read.
    let p = example("pxe-boot-server-silent/server.pcap");
    let mut r = capture::open(p.to_str().unwrap()).unwrap();
    while let Some(p) = r.next_packet().unwrap() {
        if p.number == 6 {
            for cut in 0..14 + 20 + 8 + 28 {
                assert!(unreachable(p.link, &p.data[..cut]).is_none(), "{cut}");
            }
            assert!(unreachable(p.link, &p.data[..14 + 20 + 8 + 28]).is_some());
            // A whole message whose checksum fails, or that goes to another
            // host than the one that sent the quoted datagram, is not read.
            let mut bad = p.data.to_vec();
            let last = bad.len() - 1;
            bad[last] ^= 0x40;
            assert!(unreachable(p.link, &bad).is_none());
            let mut other = p.data.to_vec();
            other[14 + 19] ^= 1;
            assert!(unreachable(p.link, &other).is_none());
            // Bytes after the IPv4 datagram (a trailer) are not quoted.
            let mut trailer = p.data.to_vec();
            trailer.extend([0xde, 0xad, 0xbe, 0xef]);
            let u = unreachable(p.link, &trailer).unwrap();
            assert_eq!(u.quoted.len(), p.data.len() - 14 - 20 - 8);
        }
    }
}

/// An ICMP error may quote only the start of a long datagram (RFC 1812
/// §4.3.2.3: 576 bytes in all). Built from frame 6, as a host that quotes
/// less would send it: the quote ends 240 bytes into the DHCP message (at
/// the options: option 53 is past the cut), the
/// ICMP message is whole, its checksums hold. That cut is the sender's
/// (`quote-cut`), and the message counts as cut (no option is missing
/// past it); the same frame cut by a capture's snap length stays a
/// `snap-length-cut`.
#[test]
fn a_quote_its_sender_cut_is_not_a_snap_length_cut() {
    let p = example("pxe-boot-server-silent/server.pcap");
    let mut r = capture::open(p.to_str().unwrap()).unwrap();
    let frame = loop {
        let p = r.next_packet().unwrap().unwrap();
        if p.number == 6 {
            break p.data.to_vec();
        }
    };
    // Ethernet 14, IPv4 20, ICMP 8, then the quote: IPv4 20, UDP 8, DHCP.
    let keep = 14 + 20 + 8 + 20 + 8 + 240;
    let mut cut = frame[..keep].to_vec();
    let total = (keep - 14) as u16;
    cut[16..18].copy_from_slice(&total.to_be_bytes());
    cut[24..26].copy_from_slice(&[0, 0]);
    let sum = wire::checksum::ipv4_header(&cut[14..34]);
    cut[24..26].copy_from_slice(&sum.to_be_bytes());
    cut[36..38].copy_from_slice(&[0, 0]);
    let sum = wire::checksum::ipv4_header(&cut[34..]);
    cut[36..38].copy_from_slice(&sum.to_be_bytes());

    let u = unreachable(LinkType::Ethernet, &cut).expect("a whole ICMP message");
    assert!(u.whole);
    assert_eq!((u.quoted.len(), u.quoted_len), (268, 411));
    let d = wire::packet::decode_quoted(&u).unwrap().unwrap();
    let codes: Vec<&str> = d.anomalies.iter().map(|a| a.kind.code()).collect();
    // Not also a missing option 53: it may be past the cut.
    assert_eq!(codes, ["quote-cut"]);
    assert!(d.anomalies[0]
        .kind
        .to_string()
        .contains("quotes 268 of the datagram's 411 bytes"));
    assert!(d.message_cut());
    assert_eq!(d.message_len(), 411 - 28);

    // The whole error, cut by a capture at the same byte.
    let u = unreachable(LinkType::Ethernet, &frame[..keep]).unwrap();
    assert!(!u.whole);
    let d = wire::packet::decode_quoted(&u).unwrap().unwrap();
    let codes: Vec<&str> = d.anomalies.iter().map(|a| a.kind.code()).collect();
    assert_eq!(codes, ["snap-length-cut"]);
}
