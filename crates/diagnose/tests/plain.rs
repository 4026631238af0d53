//! The fast path (`wire::plain` and `Obs::from_plain`) against the general
//! one (`wire::packet::decode` and `Obs::new`), on every packet of the
//! corpus and on mutations of its plain packets: where the fast path reads a
//! packet, both give the same observation and the decoder finds nothing
//! wrong; where the decoder finds nothing wrong in an Ethernet frame, the fast
//! path reads it.

use capture::Timestamp;
use diagnose::{FrameRef, Obs};
use wire::dhcp::code;
use wire::frame::LinkType;
use wire::AnomalyKind;

#[path = "../../../tests/support/corpus.rs"]
mod corpus;

/// Every frame of every corpus capture and of the lab's examples (PXE boot
/// menus and searches, ICMP errors): (name, link, bytes, original length).
fn frames() -> Vec<(String, LinkType, Vec<u8>, usize)> {
    let mut files = Vec::new();
    corpus::capture_files(&corpus::dir(), &mut files);
    assert!(files.len() >= 20, "corpus not found at {:?}", corpus::dir());
    let examples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let before = files.len();
    corpus::capture_files(&examples, &mut files);
    assert!(
        files.len() >= before + 17,
        "examples not found at {examples:?}"
    );
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let file = std::fs::File::open(&f).expect("open");
        let Ok(mut r) = capture::Reader::new(Box::new(file)) else {
            continue;
        };
        while let Ok(Some(p)) = r.next_packet() {
            let name = format!("{} frame {}", f.display(), p.number);
            out.push((name, p.link, p.data.to_vec(), p.orig_len));
        }
    }
    out
}

/// What the fast path made of a frame, checked against the general path.
#[derive(Debug, PartialEq)]
enum Path2 {
    Fast,
    Slow,
}

const AT: FrameRef = FrameRef { file: 0, frame: 1 };

/// Checks one frame; panics with `what` on a disagreement.
fn check(what: &str, link: LinkType, data: &[u8], orig_len: usize) -> Path2 {
    let ts = Timestamp(1_700_000_000_123_456_789);
    let slow = wire::packet::decode(link, data, orig_len);
    let Some(plain) = wire::plain::read(link, data, orig_len) else {
        // Not read fast: then the decoder must see something the fast path
        // leaves to it (or the link type is not Ethernet).
        if let Ok(Some(d)) = &slow {
            let clean = d
                .anomalies
                .iter()
                .all(|a| matches!(a.kind, AnomalyKind::BelowBootpMinimum { .. }));
            let one_each = d.message.as_ref().is_some_and(|m| {
                let codes: Vec<u8> = m
                    .options
                    .iter()
                    .filter(|o| !o.is_marker())
                    .map(|o| o.code)
                    .collect();
                let mut unique = codes.clone();
                unique.sort_unstable();
                unique.dedup();
                unique.len() == codes.len()
                    && !codes.contains(&code::OPTION_OVERLOAD)
                    && codes.contains(&code::DHCP_MESSAGE_TYPE)
            });
            let tags = d.frame.link.vlans.as_slice().len();
            assert!(
                !(link == LinkType::Ethernet && clean && one_each && tags <= 2),
                "{what}: the decoder finds nothing wrong, yet the fast path refused it"
            );
        }
        return Path2::Slow;
    };
    let d = match slow {
        Ok(Some(d)) => d,
        other => panic!("{what}: plain to the fast path, but the decoder says {other:?}"),
    };
    let wrong: Vec<_> = d
        .anomalies
        .iter()
        .filter(|a| !matches!(a.kind, AnomalyKind::BelowBootpMinimum { .. }))
        .collect();
    assert!(
        wrong.is_empty(),
        "{what}: plain, but the decoder finds {wrong:?}"
    );
    let fast = Obs::from_plain(AT, ts, &plain);
    let general = Obs::new(AT, ts, &d, None).expect("a whole header");
    assert_eq!(fast, general, "{what}");
    Path2::Fast
}

#[test]
fn the_fast_path_agrees_with_the_decoder_on_the_corpus() {
    let frames = frames();
    let mut fast = 0;
    let mut dhcp = 0;
    for (what, link, data, orig_len) in &frames {
        if check(what, *link, data, *orig_len) == Path2::Fast {
            fast += 1;
        }
        if matches!(wire::packet::decode(*link, data, *orig_len), Ok(Some(_))) {
            dhcp += 1;
        }
    }
    eprintln!(
        "{} frames, {dhcp} DHCP, {fast} read by the fast path",
        frames.len()
    );
    // Most of the corpus is plain Ethernet DHCP: a fast path that refused
    // everything would pass the checks above and be useless.
    assert!(
        fast * 2 > dhcp,
        "only {fast} of {dhcp} DHCP packets were plain"
    );
}

/// Each byte of a sample of plain packets set to values that matter to the
/// checks (zero, all ones, a flipped bit, PAD, END, option 52's and 53's
/// codes), and the frames cut at every length: every variant is checked.
#[test]
fn the_fast_path_agrees_with_the_decoder_on_mutations() {
    let frames = frames();
    // A spread of them: one per file and message kind.
    let mut kinds = std::collections::HashSet::new();
    let plain: Vec<_> = frames
        .iter()
        .filter(|(what, l, d, n)| {
            wire::plain::read(*l, d, *n).is_some_and(|p| {
                let file = what.split(" frame ").next().unwrap_or_default().to_string();
                kinds.insert((file, Obs::from_plain(AT, Timestamp(0), &p).kind))
            })
        })
        .collect();
    assert!(plain.len() >= 10, "{} plain packets to mutate", plain.len());
    let (mut fast, mut slow) = (0, 0);
    for (what, link, data, orig_len) in plain {
        mutate(what, *link, data, *orig_len, &mut fast, &mut slow);
    }
    eprintln!("mutations: {fast} fast, {slow} slow");
    assert!(fast > 0 && slow > 0);
}

/// Checks every variant of one plain frame: each byte set to values that
/// matter to the checks (with and without an IPv4 checksum fixed up to
/// match), and the frame cut at every length, as captured and as sent.
fn mutate(
    what: &str,
    link: LinkType,
    data: &[u8],
    orig_len: usize,
    fast: &mut usize,
    slow: &mut usize,
) {
    let f = wire::frame::decode(link, data, orig_len).expect("a UDP frame");
    let (ip, udp) = (f.ip.offset, f.udp.offset);
    let mut m = data.to_vec();
    for i in 0..data.len() {
        for v in [0, 0xff, data[i] ^ 1, data[i] ^ 0x20, data[i] ^ 0x80, 52, 53] {
            m[i] = v;
            let path = check(&format!("{what}, byte {i} = {v:#04x}"), link, &m, orig_len);
            *(if path == Path2::Fast {
                &mut *fast
            } else {
                &mut *slow
            }) += 1;
            // The same change with a header checksum that matches it,
            // so that the checks behind the checksum's are reached.
            if (ip..udp).contains(&i) {
                fix_ipv4_checksum(&mut m[ip..udp]);
                check(
                    &format!("{what}, byte {i} = {v:#04x}, checksum fixed"),
                    link,
                    &m,
                    orig_len,
                );
            }
            m[i..].copy_from_slice(&data[i..]);
            m[ip..udp].copy_from_slice(&data[ip..udp]);
        }
    }
    for n in 0..data.len() {
        check(&format!("{what}, cut to {n}"), link, &data[..n], orig_len);
        check(&format!("{what}, sent as {n}"), link, &data[..n], n);
        // Cut before sending: the IPv4 and UDP lengths say so.
        if n >= udp + 8 {
            let mut m = data[..n].to_vec();
            m[ip + 2..ip + 4].copy_from_slice(&((n - ip) as u16).to_be_bytes());
            m[udp + 4..udp + 6].copy_from_slice(&((n - udp) as u16).to_be_bytes());
            fix_ipv4_checksum(&mut m[ip..udp]);
            check(&format!("{what}, sent whole as {n}"), link, &m, n);
        }
    }
}

/// What the corpus lacks, built by hand: VLAN tags (one, and 802.1ad over
/// 802.1Q), IPv4 header options, and the options the observation reads
/// that few corpus packets carry (121 and 249 alone and together, 175, an
/// iPXE user class, PXE vendor class and architecture, 66, 67, 82, 56, a
/// boot file in `file`, a message type that is not the first option).
#[test]
fn the_fast_path_agrees_with_the_decoder_on_hand_built_frames() {
    use std::net::Ipv4Addr;
    use wire::dhcp::{Message, MessageType, RawOption};
    use wire::frame::UdpFrame;
    use wire::Op;

    let route = |default: bool| -> Vec<u8> {
        if default {
            vec![24, 10, 1, 2, 10, 0, 0, 1, 0, 10, 0, 0, 1]
        } else {
            vec![24, 10, 1, 2, 10, 0, 0, 1]
        }
    };
    /// A name, and the options besides the message type.
    type Set = (&'static str, Vec<(u8, Vec<u8>)>);
    let sets: Vec<Set> = vec![
        ("121 with a default route", vec![(121, route(true))]),
        ("249 alone", vec![(249, route(true))]),
        (
            "121 without, 249 with a default route",
            vec![(121, route(false)), (249, route(true))],
        ),
        (
            "iPXE",
            vec![(77, b"\x04iPXE".to_vec()), (175, vec![1, 1, 1])],
        ),
        (
            "PXE",
            vec![
                (60, b"PXEClient:Arch:00007:UNDI:003016".to_vec()),
                (93, vec![0, 7]),
                (94, vec![1, 3, 16]),
                (97, vec![0; 17]),
            ],
        ),
        (
            "boot server",
            vec![(66, b"10.0.0.9".to_vec()), (67, b"pxelinux.0".to_vec())],
        ),
        (
            "relay",
            vec![(82, vec![1, 4, b'e', b't', b'h', b'0', 2, 2, 0xab, 0xcd])],
        ),
        (
            "NAK message",
            vec![(56, b"requested address not available".to_vec())],
        ),
        (
            "lease",
            vec![
                (1, vec![255, 255, 255, 0]),
                (3, vec![10, 0, 0, 1, 10, 0, 0, 2]),
                (51, vec![0, 0, 14, 16]),
                (58, vec![0, 0, 7, 8]),
                (59, vec![0, 0, 12, 78]),
                (57, vec![5, 220]),
                (55, vec![1, 3, 6, 15]),
                (61, [1u8].iter().chain(&[0x52; 40]).copied().collect()),
            ],
        ),
    ];
    let mut fast = 0;
    let mut slow = 0;
    for (name, options) in &sets {
        for type_first in [true, false] {
            let mut m = Message::new(Op::BootReply, 0x1234_5678, &[2, 0, 0, 0, 0, 9]);
            m.siaddr = Ipv4Addr::new(10, 0, 0, 9);
            if name.starts_with("boot") {
                m.file = b"undionly.kpxe"[..].into();
            }
            let mut list: Vec<RawOption<'_>> = options
                .iter()
                .map(|(c, v)| RawOption::new(*c, v.clone()))
                .collect();
            let kind = RawOption::new(53, vec![u8::from(MessageType::Ack)]);
            if type_first {
                list.insert(0, kind);
            } else {
                list.push(kind);
            }
            list.push(RawOption::new(0, Vec::new()));
            list.push(RawOption::new(255, Vec::new()));
            m.options = list;
            let payload = m.encode(300);
            for framing in ["untagged", "one tag", "802.1ad over 802.1Q", "IPv4 options"] {
                let mut udp = UdpFrame::new(
                    (Ipv4Addr::new(10, 0, 0, 1), 67),
                    (Ipv4Addr::new(10, 0, 0, 50), 68),
                    &payload,
                );
                udp.src_mac = [2, 0, 0, 0, 0, 1];
                match framing {
                    "one tag" => udp.vlans = vec![42],
                    "802.1ad over 802.1Q" => udp.vlans = vec![100, 42],
                    _ => {}
                }
                let mut frame = udp.ethernet_frame();
                if framing == "802.1ad over 802.1Q" {
                    frame[12..14].copy_from_slice(&0x88a8u16.to_be_bytes());
                }
                if framing == "IPv4 options" {
                    // Three NOPs and an end of list: a 24-byte header.
                    frame.splice(34..34, [1, 1, 1, 0]);
                    frame[14] = 0x46;
                    let total = u16::from_be_bytes([frame[16], frame[17]]) + 4;
                    frame[16..18].copy_from_slice(&total.to_be_bytes());
                    fix_ipv4_checksum(&mut frame[14..38]);
                }
                let what = format!("{name}, type first: {type_first}, {framing}");
                let n = frame.len();
                assert_eq!(
                    check(&what, LinkType::Ethernet, &frame, n),
                    Path2::Fast,
                    "{what}"
                );
                mutate(&what, LinkType::Ethernet, &frame, n, &mut fast, &mut slow);
            }
        }
    }
    eprintln!("hand-built mutations: {fast} fast, {slow} slow");
}

/// Sets an IPv4 header's checksum field to match the rest of it.
fn fix_ipv4_checksum(header: &mut [u8]) {
    header[10..12].copy_from_slice(&[0, 0]);
    let sum = wire::checksum::ipv4_header(header);
    header[10..12].copy_from_slice(&sum.to_be_bytes());
}
