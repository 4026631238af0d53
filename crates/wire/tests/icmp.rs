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
