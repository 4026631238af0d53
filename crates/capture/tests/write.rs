//! Files the writers make must read back (in tshark and in our reader) as
//! what was written.

use capture::write::{Direction, PcapWriter, PcapngWriter};
use capture::Reader;
use wire::LinkType;

fn times(file: Vec<u8>) -> Vec<i64> {
    let mut r = Reader::new(std::io::Cursor::new(file)).unwrap();
    let mut out = Vec::new();
    while let Some(p) = r.next_packet().unwrap() {
        out.push(p.timestamp.0);
    }
    out
}

/// Guards classic pcap times: a record's seconds are 32 unsigned bits, so a
/// time before 1970 or from 2106 on cannot be written. `PcapWriter::write`
/// cast the seconds with `as u32`, so 1969-12-31T23:59:58.5Z was written as
/// 2106-02-07T06:28:14.5Z and 2106-02-07T06:28:16Z + 5 ns as 1970 + 5 ns,
/// silently. They are clamped now, as the pcapng writer clamps: never
/// wrapped to the other end of the range.
#[test]
fn pcap_times_outside_32_bit_seconds_are_clamped_not_wrapped() {
    let before_1970 = -1_500_000_000i64;
    let after_2106 = (1i64 << 32) * 1_000_000_000 + 5;
    let mut w = PcapWriter::new(Vec::new(), LinkType::Ethernet, 65535).unwrap();
    w.write(before_1970, &[0; 60], 60).unwrap();
    w.write(after_2106, &[0; 60], 60).unwrap();
    w.write(i64::MAX, &[0; 60], 60).unwrap();
    w.write(1_700_000_000_123_456_789, &[0; 60], 60).unwrap();
    let last = (1i64 << 32) * 1_000_000_000 - 1;
    assert_eq!(
        times(w.into_inner()),
        vec![0, last, last, 1_700_000_000_123_456_789]
    );
    // For comparison, the pcapng writer keeps 2106+ exactly.
    let mut w = PcapngWriter::new(Vec::new(), "t").unwrap();
    let i = w.interface(LinkType::Ethernet, "eth0").unwrap();
    w.write(i, after_2106, &[0; 60], 60, &[]).unwrap();
    assert_eq!(times(w.into_inner()), vec![after_2106]);
}

/// The whole blocks of a pcapng written in this host's byte order, as
/// (block type, the block's bytes).
fn blocks(file: &[u8]) -> Vec<(u32, &[u8])> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + 12 <= file.len() {
        let kind = u32::from_ne_bytes(file[at..at + 4].try_into().unwrap());
        let len = u32::from_ne_bytes(file[at + 4..at + 8].try_into().unwrap()) as usize;
        if len < 12 || at + len > file.len() {
            break;
        }
        out.push((kind, &file[at..at + len]));
        at += len;
    }
    out
}

/// The options of `block` from byte `from` to its trailing length, as
/// (code, value), up to opt_endofopt.
fn options(block: &[u8], from: usize) -> Vec<(u16, &[u8])> {
    let u16_at = |i: usize| u16::from_ne_bytes([block[i], block[i + 1]]);
    let mut out = Vec::new();
    let mut o = from;
    while o + 4 <= block.len() - 4 {
        let (code, n) = (u16_at(o), usize::from(u16_at(o + 2)));
        if code == 0 {
            break;
        }
        out.push((code, &block[o + 4..o + 4 + n]));
        o += 4 + n.div_ceil(4) * 4;
    }
    out
}

/// The epb_flags (option 2) of every Enhanced Packet Block of a pcapng
/// written in this host's byte order (`None`: the block has none), with
/// the block's comments.
fn epb_flags(file: &[u8]) -> Vec<(Option<u32>, Vec<String>)> {
    blocks(file)
        .into_iter()
        .filter(|(kind, _)| *kind == 6)
        .map(|(_, b)| {
            let caplen = u32::from_ne_bytes(b[20..24].try_into().unwrap()) as usize;
            let opts = options(b, 28 + caplen.div_ceil(4) * 4);
            let flags = opts
                .iter()
                .find(|(code, v)| *code == 2 && v.len() == 4)
                .map(|(_, v)| u32::from_ne_bytes((*v).try_into().unwrap()));
            let comments = opts
                .iter()
                .filter(|(code, _)| *code == 1)
                .map(|(_, v)| String::from_utf8(v.to_vec()).unwrap())
                .collect();
            (flags, comments)
        })
        .collect()
}

/// Guards the direction of written packets: pcapng says which way a packet
/// went in `epb_flags` bits 0-1 (draft-ietf-opsawg-pcapng §4.3.1: 01
/// inbound, 10 outbound), which Wireshark shows as
/// `frame.packet_flags_direction`. The writer had no way to write it; it
/// is written with or without comments, and not at all when unknown.
#[test]
fn pcapng_packets_say_which_way_they_went() {
    let mut w = PcapngWriter::new(Vec::new(), "t").unwrap();
    let i = w.interface(LinkType::Ethernet, "eth0").unwrap();
    w.write_packet(i, 1, &[0; 60], 60, Some(Direction::Outbound), &[])
        .unwrap();
    w.write_packet(i, 2, &[0; 61], 61, Some(Direction::Inbound), &["a reply"])
        .unwrap();
    w.write(i, 3, &[0; 62], 62, &["unknown"]).unwrap();
    w.write(i, 4, &[0; 63], 63, &[]).unwrap();
    let file = w.into_inner();
    assert_eq!(
        epb_flags(&file),
        vec![
            (Some(2), vec![]),
            (Some(1), vec!["a reply".to_string()]),
            (None, vec!["unknown".to_string()]),
            (None, vec![]),
        ]
    );
    assert_eq!(times(file), vec![1, 2, 3, 4], "the file reads back whole");
    assert_eq!(Direction::from_epb_flags(0x0101), Some(Direction::Inbound));
    assert_eq!(Direction::from_epb_flags(2), Some(Direction::Outbound));
    assert_eq!(Direction::from_epb_flags(0), None);
}

/// The options of each Interface Description Block of `file` (a pcapng
/// written by the writer, native byte order): (code, value) pairs.
fn idb_options(file: &[u8]) -> Vec<Vec<(u16, Vec<u8>)>> {
    blocks(file)
        .into_iter()
        .filter(|(kind, _)| *kind == 1)
        .map(|(_, b)| {
            options(b, 16)
                .into_iter()
                .map(|(c, v)| (c, v.to_vec()))
                .collect()
        })
        .collect()
}

/// An interface is named by its system name (`if_name`) and described in
/// free text (`if_description`, option 3): `serve`'s replies sent through
/// the kernel and `probe`'s UDP socket said what they were in `if_name`
/// ("eth0 (through the kernel)", "udp"), which is no interface's name.
#[test]
fn an_interface_has_a_name_and_a_description_apart() {
    let mut w = PcapngWriter::new(Vec::new(), "test").unwrap();
    let a = w.interface(LinkType::Ethernet, "eth0").unwrap();
    let b = w
        .interface_described(LinkType::Ipv4, "eth0", "replies sent through the kernel")
        .unwrap();
    let c = w
        .interface_described(LinkType::Ethernet, "", "a UDP socket")
        .unwrap();
    assert_eq!((a, b, c), (0, 1, 2));
    assert_eq!(
        w.interface(LinkType::Ethernet, "eth0").unwrap(),
        0,
        "asked again"
    );
    let file = w.into_inner();
    let idbs = idb_options(&file);
    let text = |opts: &[(u16, Vec<u8>)], code| {
        opts.iter()
            .find(|(c, _)| *c == code)
            .map(|(_, v)| String::from_utf8(v.clone()).unwrap())
    };
    assert_eq!(idbs.len(), 3);
    assert_eq!(
        (text(&idbs[0], 2), text(&idbs[0], 3)),
        (Some("eth0".into()), None)
    );
    assert_eq!(
        (text(&idbs[1], 2), text(&idbs[1], 3)),
        (
            Some("eth0".into()),
            Some("replies sent through the kernel".into())
        )
    );
    assert_eq!(
        (text(&idbs[2], 2), text(&idbs[2], 3)),
        (None, Some("a UDP socket".into()))
    );
}
