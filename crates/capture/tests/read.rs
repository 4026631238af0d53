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
    clamped: bool,
    untimed: bool,
    interface: u32,
    offset: u64,
    data: Vec<u8>,
}

/// Reads everything; returns the packets and the final error, if any.
fn read_all<R: Read>(r: R) -> (Vec<Seen>, Option<capture::Error>) {
    read_from(Reader::new(r))
}

/// Reads everything from a reader just made (or the error making it).
fn read_from<R: Read>(
    reader: Result<Reader<R>, capture::Error>,
) -> (Vec<Seen>, Option<capture::Error>) {
    let mut reader = match reader {
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
                clamped: p.time_clamped,
                untimed: p.untimed,
                interface: p.interface,
                offset: p.offset,
                data: p.data.to_vec(),
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

/// Reads `bytes` directly, then read ahead on a second thread (as pipes
/// are) from an input handing out at most `max` bytes per read, for each
/// `max` of `sizes`: the packets and the error must be the same.
fn read_bytes_in(bytes: &[u8], sizes: &[usize]) -> (Vec<Seen>, Option<capture::Error>) {
    let direct = read_all(bytes);
    for &max in sizes {
        let ahead = read_from(Reader::ahead(Chunked::new(bytes, max)));
        assert_eq!(ahead.0, direct.0, "read ahead, at most {max} bytes a read");
        assert_eq!(
            ahead.1.as_ref().map(|e| (e.offset, e.to_string())),
            direct.1.as_ref().map(|e| (e.offset, e.to_string())),
            "read ahead, at most {max} bytes a read"
        );
    }
    direct
}

/// [`read_bytes_in`] with reads of 1, 7, 4096 and any number of bytes (not
/// 1 for inputs over 64 KiB: a piece for each byte would take long).
fn read_bytes(bytes: &[u8]) -> (Vec<Seen>, Option<capture::Error>) {
    let sizes: &[usize] = if bytes.len() <= 1 << 16 {
        &[1, 7, 4096, usize::MAX]
    } else {
        &[4096, 70_001, usize::MAX]
    };
    read_bytes_in(bytes, sizes)
}

/// An input handing out at most `max` bytes per read (1: a byte at a time),
/// and failing at its end if `fail`. Owned, as a second thread needs.
struct Chunked {
    data: Vec<u8>,
    at: usize,
    max: usize,
    fail: bool,
}

impl Chunked {
    fn new(bytes: &[u8], max: usize) -> Chunked {
        Chunked {
            data: bytes.to_vec(),
            at: 0,
            max,
            fail: false,
        }
    }
}

impl Read for Chunked {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.at == self.data.len() && self.fail {
            return Err(std::io::Error::other("the disk is on fire"));
        }
        let n = buf.len().min(self.max).min(self.data.len() - self.at);
        buf[..n].copy_from_slice(&self.data[self.at..self.at + n]);
        self.at += n;
        Ok(n)
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
    let (seen, err) = read_bytes(&pcap_file());
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
    let (seen, err) = read_bytes(&bytes);
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

/// Truncating a file anywhere yields a prefix of its packets (the one the
/// cut falls in lent as far as it goes, pcap or pcapng) and, unless the cut
/// falls on a record boundary, a cut-short error; never a panic or a loop.
#[test]
fn every_truncation_yields_a_prefix_then_an_error() {
    for full in [pcap_file(), pcapng_file()] {
        let (all, _) = read_bytes(&full);
        for n in 0..full.len() {
            // Read ahead too: whole, and in pieces of 7 bytes for some cuts
            // (a thread for each of thousands of cuts takes a while).
            let sizes: &[usize] = if n % 11 == 0 {
                &[7, usize::MAX]
            } else {
                &[usize::MAX]
            };
            let (seen, err) = read_bytes_in(&full[..n], sizes);
            assert!(seen.len() <= all.len(), "cut at {n}");
            for (s, a) in seen.iter().zip(&all) {
                if s.cut {
                    // What there was of it: a pcap record's or a pcapng
                    // packet block's data up to the cut (all of it when
                    // only the block's trailer is missing).
                    assert!(s.len <= a.len, "cut at {n}");
                    assert_eq!(
                        (s.number, s.ts, &s.data[..]),
                        (a.number, a.ts, &a.data[..s.len]),
                        "cut at {n}"
                    );
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
    let (seen, err) = read_bytes(&full[..n]);
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

/// A pcapng file that ends inside its last packet block: the packet is
/// lent as far as it goes (whole when only the block's trailer is
/// missing), then the cut is reported, as for a pcap record.
#[test]
fn cut_packet_block_is_lent_too() {
    let full = pcapng_file();
    let (all, _) = read_bytes(&full);
    for missing in [1, 4, 10] {
        let n = full.len() - missing;
        let (seen, err) = read_bytes(&full[..n]);
        assert_eq!(seen.len(), all.len(), "{missing} bytes missing");
        let last = seen.last().unwrap();
        assert!(last.cut, "{missing} bytes missing");
        let e = err.unwrap();
        assert!(e.is_cut_short(), "{e}");
        assert!(e.to_string().contains("a pcapng block"), "{e}");
    }
    // Only the trailer missing: the packet's data is all there.
    let (seen, _) = read_bytes(&full[..full.len() - 4]);
    assert_eq!(seen.last().unwrap().data, all.last().unwrap().data);
}

#[test]
fn chunking_does_not_change_results() {
    for full in [pcap_file(), pcapng_file()] {
        let (a, ea) = read_bytes(&full);
        let (b, eb) = read_all(Chunked::new(&full, 1));
        assert_eq!(a, b);
        assert!(ea.is_none() && eb.is_none());
    }
}

/// Read ahead, an input that fails gives every packet before the failure,
/// then the error at the offset where the input stopped, as read directly.
#[test]
fn an_input_error_read_ahead_comes_after_the_packets_before_it() {
    let full = pcap_file();
    for cut in [full.len(), full.len() - 10, 30] {
        let input = |max| Chunked {
            fail: true,
            ..Chunked::new(&full[..cut], max)
        };
        let (direct, de) = read_all(input(usize::MAX));
        let de = de.expect("an error");
        assert!(matches!(de.kind, ErrorKind::Io(_)), "{de}");
        assert_eq!(de.offset, cut as u64);
        for max in [1, 100, usize::MAX] {
            let (ahead, ae) = read_from(Reader::ahead(input(max)));
            assert_eq!(ahead, direct, "at most {max} bytes a read, cut at {cut}");
            let ae = ae.expect("an error");
            assert_eq!((ae.offset, ae.to_string()), (de.offset, de.to_string()));
        }
    }
}

/// A pipe whose bytes the test hands over as it goes, one `Vec` per `read`
/// at most (a live capture's writer).
struct Fed(std::sync::mpsc::Receiver<Vec<u8>>, Vec<u8>);

impl Read for Fed {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.1.is_empty() {
            match self.0.recv() {
                Ok(more) => self.1 = more,
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.1.len());
        buf[..n].copy_from_slice(&self.1[..n]);
        self.1.drain(..n);
        Ok(n)
    }
}

/// A pipe from a live capture (`tcpdump -U -w - | dhcplens …`): read ahead,
/// each packet is lent as soon as its bytes arrive, not when a piece fills,
/// and then the reader says it has caught up with the pipe.
#[test]
fn read_ahead_lends_a_packet_as_soon_as_it_arrives() {
    use std::sync::mpsc;
    use std::time::Duration;
    let full = pcap_file();
    // The file header and the first record (16 + 60 bytes).
    let first = 24 + 16 + 60;
    let (feed, fed) = mpsc::channel();
    let (lent, numbers) = mpsc::channel();
    let reading = std::thread::spawn(move || {
        let mut r = Reader::ahead(Fed(fed, Vec::new())).expect("a pcap header");
        while let Ok(Some(p)) = r.next_packet() {
            let n = p.number;
            lent.send((n, r.caught_up())).expect("the test waits");
        }
        assert!(!r.caught_up(), "at the end there is nothing to wait for");
    });
    feed.send(full[..first].to_vec()).unwrap();
    let wait = Duration::from_secs(20);
    // Nothing more has been written: the next packet waits for the pipe.
    assert_eq!(
        numbers.recv_timeout(wait),
        Ok((1, true)),
        "the first packet"
    );
    feed.send(full[first..].to_vec()).unwrap();
    drop(feed);
    for n in 2..=5 {
        assert_eq!(numbers.recv_timeout(wait).map(|(n, _)| n), Ok(n));
    }
    reading.join().unwrap();
}

/// A pipe whose writer is ahead: while the reader's buffer holds the next
/// packet whole, or once the next piece is waiting, the reader has not
/// caught up. A file read directly never says it has.
#[test]
fn a_reader_behind_its_pipe_has_not_caught_up() {
    use std::sync::mpsc;
    use std::time::{Duration, Instant};
    let full = pcap_file();
    let (feed, fed) = mpsc::channel();
    // The header alone in the first piece, the five records in the next.
    feed.send(full[..24].to_vec()).unwrap();
    feed.send(full[24..].to_vec()).unwrap();
    let mut r = Reader::ahead(Fed(fed, Vec::new())).expect("a pcap header");
    let since = Instant::now();
    while r.caught_up() {
        assert!(since.elapsed() < Duration::from_secs(20), "no piece came");
        std::thread::sleep(Duration::from_millis(1));
    }
    assert!(!r.caught_up(), "a piece stays waiting until it is read");
    for n in 1..=4 {
        assert_eq!(r.next_packet().unwrap().unwrap().number, n);
        assert!(!r.caught_up(), "packet {} is whole in the buffer", n + 1);
    }
    assert_eq!(r.next_packet().unwrap().unwrap().number, 5);
    // The pipe is still open, and nothing more was written.
    assert!(r.caught_up(), "after the last packet written");
    drop(feed);
    assert!(r.next_packet().unwrap().is_none());
    assert!(!r.caught_up(), "at the end there is nothing to wait for");

    let mut file = Reader::new(std::io::Cursor::new(full)).unwrap();
    while file.next_packet().unwrap().is_some() {
        assert!(!file.caught_up());
    }
}

/// A pipe that delivered a whole capture in one piece and stays open: while
/// a packet is left whole in the buffer, pcap or pcapng, the reader has not
/// caught up; after the last one of a pcap file it has (pcapng may end in
/// statistics blocks).
#[test]
fn a_packet_whole_in_the_buffer_is_not_waited_for() {
    use std::sync::mpsc;
    for (name, file) in [("pcap", pcap_file()), ("pcapng", pcapng_file())] {
        let (packets, error) = read_all(&file[..]);
        assert!(error.is_none() && packets.len() > 2, "{name}");
        let (feed, fed) = mpsc::channel();
        feed.send(file).unwrap();
        let mut r = Reader::ahead(Fed(fed, Vec::new())).expect("a header");
        for n in 1..=packets.len() {
            assert_eq!(r.next_packet().unwrap().unwrap().number, n as u64, "{name}");
            let last = n == packets.len();
            if !last {
                assert!(
                    !r.caught_up(),
                    "{name}: packet {} is whole in the buffer",
                    n + 1
                );
            } else if name == "pcap" {
                assert!(r.caught_up(), "{name}: nothing more was written");
            }
        }
        drop(feed);
        assert!(r.next_packet().unwrap().is_none(), "{name}");
        assert!(!r.caught_up(), "{name}: at the end");
    }
}

/// `open` reads a named pipe (read ahead) like the file it carries.
#[test]
fn a_named_pipe_is_read_like_a_file() {
    let dir = std::env::temp_dir().join(format!("dhcplens-fifo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let fifo = dir.join("capture.pcap");
    let made = Command::new("mkfifo").arg(&fifo).status();
    if !made.as_ref().is_ok_and(|s| s.success()) {
        std::fs::remove_dir_all(&dir).ok();
        panic!("mkfifo failed: {made:?}");
    }
    let full = pcapng_file();
    let writer = {
        let (fifo, full) = (fifo.clone(), full.clone());
        std::thread::spawn(move || std::fs::write(fifo, full))
    };
    let opened = capture::read::open(fifo.to_str().unwrap());
    let seen = opened.map(|r| read_from(Ok(r)));
    writer.join().unwrap().unwrap();
    std::fs::remove_dir_all(&dir).ok();
    let (seen, err) = seen.unwrap();
    assert!(err.is_none(), "{err:?}");
    assert_eq!((seen, err.map(|e| e.to_string())), {
        let (s, e) = read_all(&full[..]);
        (s, e.map(|e| e.to_string()))
    });
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
    let whole = hint(read_bytes(&bytes).1);
    assert_eq!(whole, None);
    assert_eq!(hint(read_all(Chunked::new(&bytes, 1)).1), whole);
    // Text longer than what is sniffed is still text, either way.
    let text = vec![b'x'; 1000];
    let whole = hint(read_bytes(&text).1);
    assert!(whole.is_some_and(|h| h.contains("text")));
    assert_eq!(hint(read_all(Chunked::new(&text, 1)).1), whole);
}

#[test]
fn a_block_larger_than_the_buffer_is_read() {
    let big = vec![0xab; 3 * 1024 * 1024];
    let mut w = PcapngWriter::new(Vec::new(), "test").unwrap();
    let i = w.interface(LinkType::Ethernet, "").unwrap();
    w.write(i, 1, &big, big.len(), &[]).unwrap();
    w.write(i, 2, &[1, 2, 3], 3, &[]).unwrap();
    let (seen, err) = read_bytes(&w.into_inner());
    assert!(err.is_none());
    assert_eq!(
        seen.iter().map(|s| s.len).collect::<Vec<_>>(),
        [big.len(), 3]
    );
}

#[test]
fn garbage_and_impossible_lengths_are_errors_with_offsets() {
    let (_, e) = read_bytes(b"Nov 22 10:00:00 host dhcpd[1]: DHCPDISCOVER from");
    let e = e.unwrap();
    assert!(e.to_string().contains("dhcplens explain"), "{e}");
    let (_, e) = read_bytes(&[0x1f, 0x8b, 8, 0]);
    assert!(e.unwrap().to_string().contains("gzip"));
    // The other compressors a capture is kept with, by their magic
    // (`xz`, `bzip2 -9`, `lz4` on a capture write these first bytes).
    for (head, name) in [
        (&[0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 0x00, 0x04][..], "xz"),
        (b"BZh91AY&SY", "bzip2"),
        (&[0x04, 0x22, 0x4d, 0x18, 0x64, 0x40, 0xa7], "lz4"),
    ] {
        let (_, e) = read_bytes(head);
        let e = e.unwrap().to_string();
        assert!(e.contains(&format!("{name}-compressed")), "{e}");
    }
    // "BZh" without a block size digit is no bzip2 stream.
    let (_, e) = read_bytes(b"BZhx\x01\x02");
    assert!(!e.unwrap().to_string().contains("bzip2"));

    // pcap record claiming 4 GB.
    let mut f = pcap_file()[..24].to_vec();
    f.extend_from_slice(&[0; 8]);
    f.extend_from_slice(&u32::MAX.to_ne_bytes());
    f.extend_from_slice(&u32::MAX.to_ne_bytes());
    let (_, e) = read_bytes(&f);
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
        let (seen, e) = read_bytes(&f);
        assert!(seen.is_empty());
        let e = e.unwrap();
        assert_eq!(e.offset, shb_len as u64, "{e}");
    }

    // A packet for an interface that was never described: none was, or
    // only interface 0 was.
    let mut w = PcapngWriter::new(Vec::new(), "test").unwrap();
    w.write(3, 1, &[1, 2, 3, 4], 4, &[]).unwrap();
    let (_, e) = read_bytes(&w.into_inner());
    let e = e.unwrap().to_string();
    assert!(
        e.contains("refers to interface 3, but the section describes no interface"),
        "{e}"
    );
    let mut w = PcapngWriter::new(Vec::new(), "test").unwrap();
    let eth = w.interface(LinkType::Ethernet, "eth0").unwrap();
    w.write(eth, 1, &[1, 2, 3, 4], 4, &[]).unwrap();
    w.write(eth + 1, 2, &[1, 2, 3, 4], 4, &[]).unwrap();
    let (seen, e) = read_bytes(&w.into_inner());
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
    let (seen, e) = read_bytes(&f);
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

    let mut g = big_endian_pcapng();
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
        block(&mut g, 6, &epb_body(iface, units));
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
    let (seen, e) = read_bytes(&g);
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
    let (seen, e) = read_bytes(&n);
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

/// Appends a big-endian pcapng block.
fn block(out: &mut Vec<u8>, kind: u32, body: &[u8]) {
    let len = (12 + body.len()) as u32;
    out.extend_from_slice(&kind.to_be_bytes());
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(body);
    out.extend_from_slice(&len.to_be_bytes());
}

/// The body of a big-endian Enhanced Packet Block: interface `iface`,
/// time `units`, 4 bytes of data.
fn epb_body(iface: u32, units: u64) -> Vec<u8> {
    let mut epb = iface.to_be_bytes().to_vec();
    epb.extend_from_slice(&((units >> 32) as u32).to_be_bytes());
    epb.extend_from_slice(&(units as u32).to_be_bytes());
    epb.extend_from_slice(&4u32.to_be_bytes());
    epb.extend_from_slice(&4u32.to_be_bytes());
    epb.extend_from_slice(&[1, 2, 3, 4]);
    epb
}

/// A big-endian pcapng section header, of unknown length.
fn big_endian_pcapng() -> Vec<u8> {
    let mut g = Vec::new();
    let mut shb = 0x1a2b_3c4du32.to_be_bytes().to_vec();
    shb.extend_from_slice(&[0, 1, 0, 0]);
    shb.extend_from_slice(&(-1i64).to_be_bytes());
    block(&mut g, 0x0a0d_0d0a, &shb);
    g
}

/// A pcapng time past what a capture may carry (a wrong resolution or
/// offset) is clamped to the limit, and the packet says so: readers can
/// tell the user rather than show the year 2116 as the packet's time.
#[test]
fn a_time_past_the_limit_is_clamped_and_said() {
    let mut g = big_endian_pcapng();
    // Interface 0: nanoseconds (if_tsresol 9); interface 1: seconds
    // (if_tsresol 0) and an offset (if_tsoffset) of -2^62 s.
    let mut idb = vec![0, 1, 0, 0, 0, 0, 0, 0];
    idb.extend_from_slice(&[0, 9, 0, 1, 9, 0, 0, 0, 0, 0, 0, 0]);
    block(&mut g, 1, &idb);
    let mut idb = vec![0, 1, 0, 0, 0, 0, 0, 0];
    idb.extend_from_slice(&[0, 9, 0, 1, 0, 0, 0, 0]);
    idb.extend_from_slice(&[0, 14, 0, 8]);
    idb.extend_from_slice(&(-(1i64 << 62)).to_be_bytes());
    idb.extend_from_slice(&[0, 0, 0, 0]);
    block(&mut g, 1, &idb);
    for (iface, units) in [(0u32, 1_700_000_000_000_000_000u64), (0, u64::MAX), (1, 5)] {
        block(&mut g, 6, &epb_body(iface, units));
    }
    let (seen, e) = read_bytes(&g);
    assert!(e.is_none(), "{e:?}");
    let times: Vec<(i64, bool)> = seen.iter().map(|s| (s.ts, s.clamped)).collect();
    assert_eq!(
        times,
        [
            (1_700_000_000_000_000_000, false),
            (Timestamp::LIMIT, true),
            (-Timestamp::LIMIT, true),
        ]
    );
}

/// A Simple Packet Block has no time: it is given the time of the packet
/// before it in its section, or of the first after it when it comes first,
/// and says the time is not its own, rather than 1970-01-01. Its captured
/// length is bounded by the interface's snap length, not by its padded
/// body.
#[test]
fn a_simple_packet_block_borrows_a_time_and_keeps_the_snap_length() {
    let spb = |orig: u32, data: &[u8]| {
        let mut b = orig.to_be_bytes().to_vec();
        b.extend_from_slice(data);
        b.resize(4 + data.len().div_ceil(4) * 4, 0);
        b
    };
    let mut g = big_endian_pcapng();
    // Interface 0: Ethernet, snap length 5, microseconds.
    block(&mut g, 1, &[0, 1, 0, 0, 0, 0, 0, 5]);
    // 10 bytes on the wire, 5 kept, 3 of padding.
    block(&mut g, 3, &spb(10, &[1, 2, 3, 4, 5]));
    let t = 1_700_000_000_000_000u64;
    block(&mut g, 6, &epb_body(0, t));
    block(&mut g, 3, &spb(3, &[6, 7, 8]));
    // A second section whose only packet has no time.
    g.extend_from_slice(&big_endian_pcapng());
    block(&mut g, 1, &[0, 1, 0, 0, 0, 0, 0, 0]);
    block(&mut g, 3, &spb(3, &[9, 9, 9]));
    let (seen, e) = read_bytes(&g);
    assert!(e.is_none(), "{e:?}");
    let got: Vec<_> = seen
        .iter()
        .map(|s| (s.ts, s.untimed, s.len, s.orig))
        .collect();
    let ns = t as i64 * 1000;
    assert_eq!(
        got,
        [
            (ns, true, 5, 10),
            (ns, false, 4, 4),
            (ns, true, 3, 3),
            (0, true, 3, 3)
        ]
    );
    assert_eq!(seen[0].data, [1, 2, 3, 4, 5]);
}

/// A big-endian section with an Ethernet interface (no snap length, no
/// `if_tsoffset`) and `n` Simple Packet Blocks of 4 bytes each.
fn untimed_section(n: u8) -> Vec<u8> {
    let mut g = big_endian_pcapng();
    block(&mut g, 1, &[0, 1, 0, 0, 0, 0, 0, 0]);
    for i in 0..n {
        block(&mut g, 3, &[0, 0, 0, 4, i, i, i, i]);
    }
    g
}

/// A section of Simple Packet Blocks only, from a pipe: the first looks
/// ahead for a time (64 blocks) and finds none; the next do not look ahead
/// again, so each is lent without waiting for 64 blocks more.
#[test]
fn simple_packet_blocks_look_ahead_once() {
    use std::sync::mpsc;
    use std::time::Duration;
    let g = untimed_section(65);
    let (feed, fed) = mpsc::channel();
    let (lent, numbers) = mpsc::channel();
    let reading = std::thread::spawn(move || {
        let mut r = Reader::ahead(Fed(fed, Vec::new())).expect("a pcapng header");
        while let Ok(Some(p)) = r.next_packet() {
            if lent.send((p.number, p.untimed)).is_err() {
                break;
            }
        }
    });
    feed.send(g).unwrap();
    let wait = Duration::from_secs(20);
    assert_eq!(numbers.recv_timeout(wait), Ok((1, true)));
    assert_eq!(
        numbers.recv_timeout(wait),
        Ok((2, true)),
        "the second waited for more input"
    );
    drop(feed);
    drop(numbers);
    reading.join().unwrap();
}

/// Simple Packet Blocks past what one look-ahead covers (64 blocks) look
/// again once they reach its end, and find the time of a packet further on.
#[test]
fn simple_packet_blocks_look_ahead_again_past_the_first_look() {
    let mut g = untimed_section(70);
    let t = 1_700_000_000_000_000u64;
    block(&mut g, 6, &epb_body(0, t));
    let (seen, e) = read_bytes(&g);
    assert!(e.is_none(), "{e:?}");
    let ns = t as i64 * 1000;
    let times: Vec<i64> = seen.iter().map(|s| s.ts).collect();
    // The first and the 64 it looked over: the interface's offset (none).
    assert_eq!(times[..65], [0; 65]);
    // The 66th looks again, and finds the Enhanced Packet Block's time.
    assert_eq!(times[65..], [ns; 6]);
}

/// An input that fails after 70 Simple Packet Blocks: the look-aheads
/// for a time meet the failure first, yet every packet before it is lent,
/// then the error, at the input's end, however the input is read.
#[test]
fn an_input_error_met_looking_ahead_comes_after_the_packets_before_it() {
    let g = untimed_section(70);
    let input = |max| Chunked {
        fail: true,
        ..Chunked::new(&g, max)
    };
    let (direct, de) = read_all(input(usize::MAX));
    assert_eq!(direct.len(), 70);
    let de = de.expect("an error");
    assert!(matches!(de.kind, ErrorKind::Io(_)), "{de}");
    assert_eq!(de.offset, g.len() as u64);
    for max in [1, 7, 100, usize::MAX] {
        let (ahead, ae) = read_from(Reader::ahead(input(max)));
        assert_eq!(ahead, direct, "at most {max} bytes a read");
        let ae = ae.expect("an error");
        assert_eq!((ae.offset, ae.to_string()), (de.offset, de.to_string()));
    }
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
        let (seen, err) = read_bytes(&bytes);
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
