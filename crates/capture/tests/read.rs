//! The reader against files written by our writers, hand-made edge cases, and
//! the shared corpus (packet counts and lengths checked against tshark).

use std::io::Read;
use std::process::Command;

use capture::read::{ErrorKind, Reader};
use capture::write::{PcapWriter, PcapngWriter};
use capture::{Format, Timestamp};
use wire::LinkType;

#[path = "../../../tests/support/corpus.rs"]
mod corpus;

#[derive(Debug, PartialEq)]
struct Seen {
    number: u64,
    ts: i64,
    link: LinkType,
    len: usize,
    orig: usize,
    cut: bool,
}

/// Reads everything; returns the packets and the final error, if any.
fn read_all<R: Read>(r: R) -> (Vec<Seen>, Option<capture::Error>) {
    let mut reader = match Reader::new(r) {
        Ok(r) => r,
        Err(e) => return (Vec::new(), Some(e)),
    };
    let mut out = Vec::new();
    loop {
        match reader.next_packet() {
            Ok(Some(p)) => out.push(Seen {
                number: p.number,
                ts: p.timestamp.0,
                link: p.link,
                len: p.data.len(),
                orig: p.orig_len,
                cut: p.cut_short,
            }),
            Ok(None) => return (out, None),
            Err(e) => {
                // After an error the reader is done.
                assert!(matches!(reader.next_packet(), Ok(None)));
                return (out, Some(e));
            }
        }
    }
}

fn frames() -> Vec<(i64, Vec<u8>)> {
    (0..5)
        .map(|i| {
            (
                1_700_000_000_123_456_789 + i * 1_000_000_007,
                vec![i as u8; 60 + 37 * i as usize],
            )
        })
        .collect()
}

fn pcap_file() -> Vec<u8> {
    let mut w = PcapWriter::new(Vec::new(), LinkType::Ethernet, 65535).unwrap();
    for (ts, f) in frames() {
        w.write(ts, &f, f.len() + 4).unwrap();
    }
    w.into_inner()
}

fn pcapng_file() -> Vec<u8> {
    let mut w = PcapngWriter::new(Vec::new(), "test").unwrap();
    let eth = w.interface(LinkType::Ethernet, "eth0").unwrap();
    let raw = w.interface(LinkType::Raw, "tun0").unwrap();
    for (i, (ts, f)) in frames().into_iter().enumerate() {
        let iface = if i % 2 == 0 { eth } else { raw };
        let comments: &[&str] = if i == 1 { &["a comment"] } else { &[] };
        w.write(iface, ts, &f, f.len(), comments).unwrap();
    }
    w.into_inner()
}

#[test]
fn pcap_round_trip_keeps_nanoseconds() {
    let (seen, err) = read_all(&pcap_file()[..]);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(seen.len(), 5);
    for (s, (ts, f)) in seen.iter().zip(frames()) {
        assert_eq!(
            (s.ts, s.len, s.orig, s.link),
            (ts, f.len(), f.len() + 4, LinkType::Ethernet)
        );
    }
    assert_eq!(
        seen.iter().map(|s| s.number).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5]
    );
}

#[test]
fn pcapng_round_trip_with_two_interfaces() {
    let bytes = pcapng_file();
    let r = Reader::new(&bytes[..]).unwrap();
    assert_eq!(r.format(), Format::Pcapng);
    let (seen, err) = read_all(&bytes[..]);
    assert!(err.is_none(), "{err:?}");
    let links: Vec<LinkType> = seen.iter().map(|s| s.link).collect();
    assert_eq!(
        links,
        [
            LinkType::Ethernet,
            LinkType::Raw,
            LinkType::Ethernet,
            LinkType::Raw,
            LinkType::Ethernet
        ]
    );
    for (s, (ts, f)) in seen.iter().zip(frames()) {
        assert_eq!((s.ts, s.len), (ts, f.len()));
    }
}

/// Truncating a file anywhere yields a prefix of its packets and, unless the
/// cut falls on a record boundary, a cut-short error; never a panic or a loop.
#[test]
fn every_truncation_yields_a_prefix_then_an_error() {
    for full in [pcap_file(), pcapng_file()] {
        let (all, _) = read_all(&full[..]);
        for n in 0..full.len() {
            let (seen, err) = read_all(&full[..n]);
            assert!(seen.len() <= all.len(), "cut at {n}");
            for (s, a) in seen.iter().zip(&all) {
                if s.cut {
                    assert!(s.len < a.len, "cut at {n}");
                } else {
                    assert_eq!(s, a, "cut at {n}");
                }
            }
            if n == 0 {
                assert!(matches!(err.unwrap().kind, ErrorKind::Empty));
            } else if let Some(e) = err {
                assert!(e.is_cut_short(), "cut at {n}: {e}");
                assert!(e.to_string().contains("cut short at byte"), "{e}");
            }
        }
    }
}

#[test]
fn cut_record_is_lent_and_the_error_names_the_offset() {
    let full = pcap_file();
    let n = full.len() - 10;
    let (seen, err) = read_all(&full[..n]);
    assert_eq!(seen.len(), 5);
    assert!(seen[4].cut);
    let e = err.unwrap();
    assert_eq!(
        e.to_string()
            .split("byte ")
            .nth(1)
            .unwrap()
            .split(':')
            .next()
            .unwrap(),
        n.to_string()
    );
}

/// Reads through a `Read` that hands out one byte at a time.
struct Trickle<'a>(&'a [u8]);

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.0.is_empty() || buf.is_empty() {
            return Ok(0);
        }
        buf[0] = self.0[0];
        self.0 = &self.0[1..];
        Ok(1)
    }
}

#[test]
fn chunking_does_not_change_results() {
    for full in [pcap_file(), pcapng_file()] {
        let (a, ea) = read_all(&full[..]);
        let (b, eb) = read_all(Trickle(&full));
        assert_eq!(a, b);
        assert!(ea.is_none() && eb.is_none());
    }
}

/// Found by `cargo fuzz` (crates/capture/fuzz, target `reader`): the hint for
/// a file that is not a capture was sniffed from whatever the first read
/// returned, so a pipe handing out 24 bytes called this "text" while the same
/// bytes from a file did not (byte 0x77 is not text).
#[test]
fn not_a_capture_hint_does_not_depend_on_read_sizes() {
    let mut bytes = vec![0x58; 0x77];
    bytes.extend_from_slice(&[
        0x00, 0x00, 0x62, 0x36, 0x29, 0x00, 0x7e, 0x0d, 0x00, 0xff, 0x01, 0x00, 0xd4, 0x2e, 0x3a,
        0x00, 0x01, 0x2d,
    ]);
    let hint = |e: Option<capture::Error>| match e.unwrap().kind {
        ErrorKind::NotACapture { hint, .. } => hint,
        k => panic!("{k:?}"),
    };
    let whole = hint(read_all(&bytes[..]).1);
    assert_eq!(whole, None);
    assert_eq!(hint(read_all(Trickle(&bytes)).1), whole);
    // Text longer than what is sniffed is still text, either way.
    let text = vec![b'x'; 1000];
    let whole = hint(read_all(&text[..]).1);
    assert!(whole.is_some_and(|h| h.contains("text")));
    assert_eq!(hint(read_all(Trickle(&text)).1), whole);
}

#[test]
fn a_block_larger_than_the_buffer_is_read() {
    let big = vec![0xab; 3 * 1024 * 1024];
    let mut w = PcapngWriter::new(Vec::new(), "test").unwrap();
    let i = w.interface(LinkType::Ethernet, "").unwrap();
    w.write(i, 1, &big, big.len(), &[]).unwrap();
    w.write(i, 2, &[1, 2, 3], 3, &[]).unwrap();
    let (seen, err) = read_all(&w.into_inner()[..]);
    assert!(err.is_none());
    assert_eq!(
        seen.iter().map(|s| s.len).collect::<Vec<_>>(),
        [big.len(), 3]
    );
}

#[test]
fn garbage_and_impossible_lengths_are_errors_with_offsets() {
    let (_, e) = read_all(&b"Nov 22 10:00:00 host dhcpd[1]: DHCPDISCOVER from"[..]);
    let e = e.unwrap();
    assert!(e.to_string().contains("dhcplens explain"), "{e}");
    let (_, e) = read_all(&[0x1f, 0x8b, 8, 0][..]);
    assert!(e.unwrap().to_string().contains("gzip"));

    // pcap record claiming 4 GB.
    let mut f = pcap_file()[..24].to_vec();
    f.extend_from_slice(&[0; 8]);
    f.extend_from_slice(&u32::MAX.to_ne_bytes());
    f.extend_from_slice(&u32::MAX.to_ne_bytes());
    let (_, e) = read_all(&f[..]);
    let e = e.unwrap();
    assert_eq!(e.offset, 24);
    assert!(matches!(e.kind, ErrorKind::Corrupt(_)), "{e}");

    // pcapng blocks with length 0, 13 and 0xfffffffc after a valid section header.
    let shb_len = 28 + 12; // our writer's SHB with a 4-byte application name
    let shb = PcapngWriter::new(Vec::new(), "test").unwrap().into_inner();
    assert_eq!(shb.len(), shb_len);
    for bad in [0u32, 13, 0xffff_fffc] {
        let mut f = shb.clone();
        f.extend_from_slice(&6u32.to_ne_bytes());
        f.extend_from_slice(&bad.to_ne_bytes());
        f.extend_from_slice(&[0; 64]);
        let (seen, e) = read_all(&f[..]);
        assert!(seen.is_empty());
        let e = e.unwrap();
        assert_eq!(e.offset, shb_len as u64, "{e}");
    }

    // A packet for an interface that was never described: none was, or
    // only interface 0 was.
    let mut w = PcapngWriter::new(Vec::new(), "test").unwrap();
    w.write(3, 1, &[1, 2, 3, 4], 4, &[]).unwrap();
    let (_, e) = read_all(&w.into_inner()[..]);
    let e = e.unwrap().to_string();
    assert!(
        e.contains("refers to interface 3, but the section describes no interface"),
        "{e}"
    );
    let mut w = PcapngWriter::new(Vec::new(), "test").unwrap();
    let eth = w.interface(LinkType::Ethernet, "eth0").unwrap();
    w.write(eth, 1, &[1, 2, 3, 4], 4, &[]).unwrap();
    w.write(eth + 1, 2, &[1, 2, 3, 4], 4, &[]).unwrap();
    let (seen, e) = read_all(&w.into_inner()[..]);
    assert_eq!(seen.len(), 1);
    let e = e.unwrap().to_string();
    assert!(
        e.contains("refers to interface 1, but the section describes only interfaces 0 to 0"),
        "{e}"
    );
}

#[test]
fn a_file_that_cannot_be_opened_says_so_without_an_offset() {
    let e = capture::read::open("/nonexistent/dhcplens/x.pcap")
        .err()
        .expect("no such file");
    assert!(matches!(e.kind, ErrorKind::Open(_)), "{e}");
    let text = e.to_string();
    assert!(text.starts_with("cannot open: "), "{text}");
    assert!(!text.contains("byte"), "{text}");
    // A directory opens on Linux, and only its first read fails: said as
    // not opened too.
    let e = capture::read::open(env!("CARGO_MANIFEST_DIR"))
        .err()
        .expect("a directory");
    assert!(matches!(e.kind, ErrorKind::Open(_)), "{e}");
    assert!(e.to_string().starts_with("cannot open: "), "{e}");
}

/// Big-endian files, written by hand: pcap with microseconds, and a pcapng
/// section whose interface uses binary (2^-n) and decimal resolutions and an offset.
#[test]
fn big_endian_and_odd_resolutions() {
    let mut f = Vec::new();
    f.extend_from_slice(&0xa1b2_c3d4u32.to_be_bytes());
    f.extend_from_slice(&2u16.to_be_bytes());
    f.extend_from_slice(&4u16.to_be_bytes());
    f.extend_from_slice(&[0; 8]);
    f.extend_from_slice(&65535u32.to_be_bytes());
    f.extend_from_slice(&1u32.to_be_bytes());
    f.extend_from_slice(&10u32.to_be_bytes());
    f.extend_from_slice(&20u32.to_be_bytes());
    f.extend_from_slice(&2u32.to_be_bytes());
    f.extend_from_slice(&60u32.to_be_bytes());
    f.extend_from_slice(&[9, 9]);
    let (seen, e) = read_all(&f[..]);
    assert!(e.is_none());
    assert_eq!(
        (seen[0].ts, seen[0].len, seen[0].orig),
        (10_000_020_000, 2, 60)
    );
    assert_eq!(
        Reader::new(&f[..]).unwrap().format(),
        Format::Pcap {
            nanos: false,
            big_endian: true
        }
    );

    fn block(out: &mut Vec<u8>, kind: u32, body: &[u8]) {
        let len = (12 + body.len()) as u32;
        out.extend_from_slice(&kind.to_be_bytes());
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(&len.to_be_bytes());
    }
    let mut g = Vec::new();
    let mut shb = 0x1a2b_3c4du32.to_be_bytes().to_vec();
    shb.extend_from_slice(&[0, 1, 0, 0]);
    shb.extend_from_slice(&(-1i64).to_be_bytes());
    block(&mut g, 0x0a0d_0d0a, &shb);
    // Interface 0: 2^-10 s units, offset 100 s.
    let mut idb = vec![0, 1, 0, 0, 0, 0, 0, 0];
    idb.extend_from_slice(&[0, 9, 0, 1, 0x80 | 10, 0, 0, 0]);
    idb.extend_from_slice(&[0, 14, 0, 8]);
    idb.extend_from_slice(&100i64.to_be_bytes());
    idb.extend_from_slice(&[0, 0, 0, 0]);
    block(&mut g, 1, &idb);
    // Interface 1: 10^-3 s units (milliseconds).
    let mut idb = vec![0, 101, 0, 0, 0, 0, 0, 0];
    idb.extend_from_slice(&[0, 9, 0, 1, 3, 0, 0, 0, 0, 0, 0, 0]);
    block(&mut g, 1, &idb);
    for (iface, units) in [(0u32, 2048u64), (1, 1500)] {
        let mut epb = iface.to_be_bytes().to_vec();
        epb.extend_from_slice(&((units >> 32) as u32).to_be_bytes());
        epb.extend_from_slice(&(units as u32).to_be_bytes());
        epb.extend_from_slice(&4u32.to_be_bytes());
        epb.extend_from_slice(&4u32.to_be_bytes());
        epb.extend_from_slice(&[1, 2, 3, 4]);
        block(&mut g, 6, &epb);
    }
    // A Simple Packet Block: interface 0, no timestamp.
    let mut spb = 3u32.to_be_bytes().to_vec();
    spb.extend_from_slice(&[7, 7, 7, 0]);
    block(&mut g, 3, &spb);
    // An obsolete Packet Block (type 2): a 16-bit interface id and drops
    // count, then as an EPB: interface 1, 2500 ms.
    let mut opb = 1u16.to_be_bytes().to_vec();
    opb.extend_from_slice(&0u16.to_be_bytes());
    opb.extend_from_slice(&0u32.to_be_bytes());
    opb.extend_from_slice(&2500u32.to_be_bytes());
    opb.extend_from_slice(&2u32.to_be_bytes());
    opb.extend_from_slice(&9u32.to_be_bytes());
    opb.extend_from_slice(&[5, 6, 0, 0]);
    block(&mut g, 2, &opb);
    let (seen, e) = read_all(&g[..]);
    assert!(e.is_none(), "{e:?}");
    assert_eq!(seen[0].ts, 2 * 1_000_000_000 + 100 * 1_000_000_000);
    assert_eq!(seen[0].link, LinkType::Ethernet);
    assert_eq!(seen[1].ts, 1_500_000_000);
    assert_eq!(seen[1].link, LinkType::Raw);
    assert_eq!((seen[2].len, seen[2].orig), (3, 3));
    assert_eq!(
        (seen[3].ts, seen[3].link, seen[3].len, seen[3].orig),
        (2_500_000_000, LinkType::Raw, 2, 9)
    );

    // Big-endian nanosecond pcap (magic a1 b2 3c 4d).
    let mut n = Vec::new();
    n.extend_from_slice(&0xa1b2_3c4du32.to_be_bytes());
    n.extend_from_slice(&2u16.to_be_bytes());
    n.extend_from_slice(&4u16.to_be_bytes());
    n.extend_from_slice(&[0; 8]);
    n.extend_from_slice(&65535u32.to_be_bytes());
    n.extend_from_slice(&1u32.to_be_bytes());
    n.extend_from_slice(&10u32.to_be_bytes());
    n.extend_from_slice(&999_999_999u32.to_be_bytes());
    n.extend_from_slice(&1u32.to_be_bytes());
    n.extend_from_slice(&1u32.to_be_bytes());
    n.push(4);
    let (seen, e) = read_all(&n[..]);
    assert!(e.is_none(), "{e:?}");
    assert_eq!(seen[0].ts, 10_999_999_999);
    assert_eq!(
        Reader::new(&n[..]).unwrap().format(),
        Format::Pcap {
            nanos: true,
            big_endian: true
        }
    );
}

/// Every corpus file: our packet count and captured lengths equal tshark's.
#[test]
fn corpus_matches_tshark_frame_lengths() {
    let mut files = Vec::new();
    corpus::capture_files(&corpus::dir(), &mut files);
    files.sort();
    assert!(
        files.len() >= 30,
        "corpus not found at {}",
        corpus::dir().display()
    );
    let tshark = Command::new("tshark").arg("-v").output().is_ok();
    if !tshark {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "tshark is required in CI"
        );
        eprintln!("SKIPPED tshark comparison: tshark is not installed");
    }
    for f in files {
        let bytes = std::fs::read(&f).unwrap();
        let (seen, err) = read_all(&bytes[..]);
        assert!(err.is_none(), "{}: {err:?}", f.display());
        if !tshark {
            continue;
        }
        let out = Command::new("tshark")
            .args(["-n", "-r"])
            .arg(&f)
            .args(["-T", "fields", "-e", "frame.cap_len", "-e", "frame.len"])
            .output()
            .unwrap();
        let theirs: Vec<(usize, usize)> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| {
                let mut it = l.split('\t').map(|x| x.parse::<usize>().unwrap());
                (it.next().unwrap(), it.next().unwrap())
            })
            .collect();
        let ours: Vec<(usize, usize)> = seen.iter().map(|s| (s.len, s.orig)).collect();
        assert_eq!(ours, theirs, "{}", f.display());
    }
}

#[test]
fn timestamps_display_in_utc() {
    assert_eq!(
        Timestamp(1_102_274_163_123_456_000).to_string(),
        "2004-12-05T19:16:03.123456Z"
    );
}
