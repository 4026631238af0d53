//! Bug hunt: files the writers make must read back (in tshark and in our
//! reader) as what was written.

use capture::write::{PcapWriter, PcapngWriter};
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

/// A classic pcap record's seconds are 32 unsigned bits: a time before
/// 1970 or from 2106 on cannot be written. `PcapWriter::write` casts the
/// seconds with `as u32`, so 1969-12-31T23:59:58.5Z is written as
/// 2106-02-07T06:28:14.5Z and 2106-02-07T06:28:16Z + 5 ns as 1970 + 5 ns,
/// silently (tshark shows 4294967294.500000000 and 0.000000005). The
/// pcapng writer clamps instead; the pcap one should clamp (or fail), never
/// wrap to the other end of the range.
#[test]
fn pcap_times_outside_32_bit_seconds_do_not_wrap() {
    let before_1970 = -1_500_000_000i64;
    let after_2106 = (1i64 << 32) * 1_000_000_000 + 5;
    let mut w = PcapWriter::new(Vec::new(), LinkType::Ethernet, 65535).unwrap();
    w.write(before_1970, &[0; 60], 60).unwrap();
    w.write(after_2106, &[0; 60], 60).unwrap();
    let t = times(w.into_inner());
    assert!(t[0] <= 0, "a time before 1970 read back as {} s", t[0] / 1_000_000_000);
    assert!(
        t[1] >= after_2106 - 1_000_000_000,
        "a time after 2106 read back as {} ns",
        t[1]
    );
    // For comparison, the pcapng writer keeps 2106+ exactly.
    let mut w = PcapngWriter::new(Vec::new(), "t").unwrap();
    let i = w.interface(LinkType::Ethernet, "eth0").unwrap();
    w.write(i, after_2106, &[0; 60], 60, &[]).unwrap();
    assert_eq!(times(w.into_inner()), vec![after_2106]);
}
