//! Bug hunt: what `-w` writes must read in Wireshark as what happened.

use std::time::{Duration, Instant};

use probe::transport::Packet;
use wire::frame::UdpFrame;

/// The epb_flags (option 2) of every Enhanced Packet Block of a pcapng
/// written in this host's byte order (`None`: the block has none).
fn epb_flags(file: &[u8]) -> Vec<Option<u32>> {
    let u32_at = |b: &[u8], i: usize| u32::from_ne_bytes(b[i..i + 4].try_into().unwrap());
    let u16_at = |b: &[u8], i: usize| u16::from_ne_bytes(b[i..i + 2].try_into().unwrap());
    let mut out = Vec::new();
    let mut at = 0;
    while at + 12 <= file.len() {
        let kind = u32_at(file, at);
        let len = u32_at(file, at + 4) as usize;
        if kind == 6 {
            let caplen = u32_at(file, at + 20) as usize;
            let mut o = at + 28 + caplen.div_ceil(4) * 4;
            let end = at + len - 4;
            let mut flags = None;
            while o + 4 <= end {
                let (code, l) = (u16_at(file, o), usize::from(u16_at(file, o + 2)));
                if code == 0 {
                    break;
                }
                if code == 2 && l == 4 {
                    flags = Some(u32_at(file, o + 4));
                }
                o += 4 + l.div_ceil(4) * 4;
            }
            out.push(flags);
        }
        at += len;
    }
    out
}

/// `probe`/`replay`/`bisect -w` writes the request dhcplens sent and the
/// reply it received; pcapng says which way a packet went in `epb_flags`
/// bits 0-1 (draft-ietf-opsawg-pcapng §4.3.1: 01 inbound, 10 outbound), which
/// Wireshark shows as `frame.packet_flags_direction`. dhcplens writes no
/// epb_flags at all: in Wireshark its own requests and the server's replies
/// are indistinguishable except by the free-text comment.
#[test]
fn probe_write_marks_which_way_each_packet_went() {
    let payload = vec![0u8; 300];
    let at = Instant::now();
    let sent = UdpFrame::new(
        (std::net::Ipv4Addr::UNSPECIFIED, 68),
        (std::net::Ipv4Addr::BROADCAST, 67),
        &payload,
    )
    .ethernet_frame();
    let got = UdpFrame::new(
        (std::net::Ipv4Addr::new(10, 0, 0, 1), 67),
        (std::net::Ipv4Addr::new(10, 0, 0, 100), 68),
        &payload,
    )
    .ethernet_frame();
    let log = vec![
        Packet {
            at,
            ts: capture::Timestamp(1_700_000_000_000_000_000),
            link: wire::LinkType::Ethernet,
            orig_len: sent.len(),
            frame: sent,
            sent: true,
            kernel: None,
        },
        Packet {
            at: at + Duration::from_millis(3),
            ts: capture::Timestamp(1_700_000_000_003_000_000),
            link: wire::LinkType::Ethernet,
            orig_len: got.len(),
            frame: got,
            sent: false,
            kernel: None,
        },
    ];
    let dir = std::env::temp_dir().join(format!("hunt-write-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("probe.pcapng");
    crate::send::write_pcapng(&path, "eth0", &log).unwrap();
    let file = std::fs::read(&path).unwrap();
    let flags = epb_flags(&file);
    assert_eq!(flags.len(), 2);
    assert_eq!(
        flags[0].map(|f| f & 3),
        Some(2),
        "the request dhcplens sent is marked outbound"
    );
    assert_eq!(
        flags[1].map(|f| f & 3),
        Some(1),
        "the reply it received is marked inbound"
    );
}
