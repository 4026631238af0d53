//! The fast path (`wire::plain` and `Obs::from_plain`) against the general
//! one (`wire::packet::decode` and `Obs::new`), on every packet of the
//! corpus and on mutations of its plain packets: where the fast path reads a
//! packet, both give the same observation and the decoder finds nothing
//! wrong; where the decoder finds nothing wrong in an Ethernet frame, the fast
//! path reads it.

use std::path::{Path, PathBuf};

use capture::Timestamp;
use diagnose::{FrameRef, Obs};
use wire::dhcp::code;
use wire::frame::LinkType;
use wire::AnomalyKind;

/// `$DHCPLENS_CORPUS`, or `shared/corpus` beside the workspace root (or
/// beside one of its parents), as the other corpus tests find it.
fn corpus() -> PathBuf {
    if let Some(p) = std::env::var_os("DHCPLENS_CORPUS") {
        return PathBuf::from(p);
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    root.ancestors()
        .skip(1)
        .map(|a| a.join("shared/corpus"))
        .find(|p| p.is_dir())
        .unwrap_or_else(|| root.join("../shared/corpus"))
}

fn captures(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("corpus directory") {
        let p = e.expect("entry").path();
        if p.is_dir() {
            captures(&p, out);
        } else if p
            .extension()
            .is_some_and(|x| ["pcap", "pcapng", "cap"].iter().any(|c| x == *c))
        {
            out.push(p);
        }
    }
}

/// Every frame of every corpus capture: (name, link, bytes, original length).
fn frames() -> Vec<(String, LinkType, Vec<u8>, usize)> {
    let mut files = Vec::new();
    captures(&corpus(), &mut files);
    files.sort();
    assert!(files.len() >= 20, "corpus not found at {:?}", corpus());
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
        let f = wire::frame::decode(*link, data, *orig_len).expect("a UDP frame");
        let (ip, udp) = (f.ip.offset, f.udp.offset);
        let mut m = data.clone();
        for i in 0..data.len() {
            for v in [0, 0xff, data[i] ^ 1, data[i] ^ 0x20, data[i] ^ 0x80, 52, 53] {
                m[i] = v;
                let path = check(
                    &format!("{what}, byte {i} = {v:#04x}"),
                    *link,
                    &m,
                    *orig_len,
                );
                *(if path == Path2::Fast {
                    &mut fast
                } else {
                    &mut slow
                }) += 1;
                // The same change with a header checksum that matches it,
                // so that the checks behind the checksum's are reached.
                if (ip..udp).contains(&i) {
                    fix_ipv4_checksum(&mut m[ip..udp]);
                    check(
                        &format!("{what}, byte {i} = {v:#04x}, checksum fixed"),
                        *link,
                        &m,
                        *orig_len,
                    );
                }
                m[i..].copy_from_slice(&data[i..]);
                m[ip..udp].copy_from_slice(&data[ip..udp]);
            }
        }
        for n in 0..data.len() {
            check(&format!("{what}, cut to {n}"), *link, &data[..n], *orig_len);
            check(&format!("{what}, sent as {n}"), *link, &data[..n], n);
            // Cut before sending: the IPv4 and UDP lengths say so.
            if n >= udp + 8 {
                let mut m = data[..n].to_vec();
                m[ip + 2..ip + 4].copy_from_slice(&((n - ip) as u16).to_be_bytes());
                m[udp + 4..udp + 6].copy_from_slice(&((n - udp) as u16).to_be_bytes());
                fix_ipv4_checksum(&mut m[ip..udp]);
                check(&format!("{what}, sent whole as {n}"), *link, &m, n);
            }
        }
    }
    eprintln!("mutations: {fast} fast, {slow} slow");
    assert!(fast > 0 && slow > 0);
}

/// Sets an IPv4 header's checksum field to match the rest of it.
fn fix_ipv4_checksum(header: &mut [u8]) {
    header[10..12].copy_from_slice(&[0, 0]);
    let sum = wire::checksum::ipv4_header(header);
    header[10..12].copy_from_slice(&sum.to_be_bytes());
}
