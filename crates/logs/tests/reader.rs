//! The reader: refusing what is not a log, bounded lines, I/O errors, and no panic
//! whatever the bytes.

use std::io::{self, BufReader, Cursor, Read};

use logs::reader::{MAX_LINE, SNIFF_LEN};
use logs::{Error, Kind, LogReader, NotALog, Options, Outcome, Parser};
use proptest::prelude::*;

fn not_a_log(bytes: &[u8]) -> NotALog {
    match LogReader::new("input.bin", Cursor::new(bytes.to_vec()), Options::default()) {
        Err(Error::NotALog { name, reason }) => {
            assert_eq!(name, "input.bin");
            reason
        }
        Err(e) => panic!("unexpected error {e}"),
        Ok(_) => panic!("accepted as a log: {:?}", String::from_utf8_lossy(bytes)),
    }
}

fn accepted(bytes: &[u8]) -> (Vec<logs::Event>, logs::Stats) {
    let mut r = LogReader::new("in", Cursor::new(bytes.to_vec()), Options::default())
        .unwrap_or_else(|e| panic!("{e}"));
    let ev: Vec<_> = (&mut r).map(Result::unwrap).collect();
    (ev, *r.stats())
}

#[test]
fn captures_compressed_and_binary_files_are_refused_with_a_reason() {
    // A pcap global header (little-endian, microseconds, Ethernet), as tcpdump writes.
    let mut pcap = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0];
    pcap.extend_from_slice(&[0; 8]);
    pcap.extend_from_slice(&[0xff, 0xff, 0, 0, 1, 0, 0, 0]);
    assert_eq!(not_a_log(&pcap), NotALog::Pcap);
    assert_eq!(
        not_a_log(&[0x0a, 0x0d, 0x0d, 0x0a, 0x1c, 0, 0, 0]),
        NotALog::Pcapng
    );
    assert_eq!(not_a_log(&[0x1f, 0x8b, 8, 0]), NotALog::Compressed("gzip"));
    assert_eq!(not_a_log(b"LPKSHHRH\0\0\0\0"), NotALog::JournalFile);
    assert_eq!(not_a_log(b"\x7fELF\x02\x01\x01"), NotALog::Executable);
    assert_eq!(not_a_log(b"Nov 22 04:06:24 host a\0b\n"), NotALog::Binary);
    let noise: Vec<u8> = (0..2000u32)
        .map(|i| (i * 7919 % 251) as u8 | 0x80)
        .collect();
    assert_eq!(not_a_log(&noise), NotALog::Binary);
    let reason = not_a_log(&pcap).to_string();
    assert!(reason.contains("capture"), "{reason}");
}

#[test]
fn json_must_be_journald_export() {
    assert_eq!(
        not_a_log(b"{\"level\":\"info\",\"msg\":\"hello\"}\n"),
        NotALog::JsonNotJournal
    );
    assert_eq!(
        not_a_log(b"{\n\t\"__CURSOR\" : \"s=1\",\n\t\"MESSAGE\" : \"x\"\n}\n"),
        NotALog::JsonPretty
    );
    assert_eq!(not_a_log(b"[\n  {\"a\": 1}\n]\n"), NotALog::JsonArray);
    // journald's export is accepted; so is text that merely starts with a brace.
    let (ev, _) = accepted(
        b"{\"MESSAGE\":\"DHCPDISCOVER from 02:00:00:00:0b:01 via s0\",\"SYSLOG_IDENTIFIER\":\"dhcpd\"}\n",
    );
    assert_eq!(ev[0].kind, Kind::DiscoverReceived);
    let (_, stats) = accepted(b"{ this is not json }\nno DHCP here\n");
    assert_eq!(stats.unknown, 2);
}

#[test]
fn error_names_the_file() {
    let dir = std::env::temp_dir().join(format!("dltest-logs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("capture.pcap");
    std::fs::write(&p, [0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0]).unwrap();
    let err = logs::open(&p, Options::default())
        .err()
        .unwrap()
        .to_string();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(
        err.contains("capture.pcap") && err.contains("not a log"),
        "{err}"
    );
    let err = logs::open(&dir.join("missing.log"), Options::default())
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("missing.log") && err.contains("cannot read"),
        "{err}"
    );
}

#[test]
fn empty_input_and_crlf_lines() {
    let (ev, stats) = accepted(b"");
    assert!(ev.is_empty());
    assert_eq!(stats.lines, 0);
    let (ev, stats) = accepted(b"No DHCPOFFERS received.\r\n\r\nDHCPNAK from 10.0.0.1");
    assert_eq!(
        ev.iter().map(|e| e.kind).collect::<Vec<_>>(),
        [Kind::ClientNoOffer, Kind::ClientNakReceived]
    );
    assert_eq!((stats.lines, stats.blank), (3, 1));
    assert_eq!(ev[1].line, 3);
}

#[test]
fn overlong_lines_are_cut_and_the_next_line_is_read() {
    let mut input = vec![b'x'; MAX_LINE * 3];
    input.extend_from_slice(b"\nNo DHCPOFFERS received.\n");
    let (ev, stats) = accepted(&input);
    assert_eq!(stats.overlong, 1);
    assert_eq!(stats.lines, 2);
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0].line, 2);
    assert_eq!(ev[0].raw, "No DHCPOFFERS received.");
}

#[test]
fn invalid_utf8_is_read_lossily() {
    let (ev, stats) =
        accepted(b"DHCPNAK from 10.0.0.1\nbound to 10.0.0.5 \xff\xfe -- renewal in 5 seconds.\n");
    assert_eq!(stats.invalid_utf8, 1);
    assert_eq!(ev.len(), 2);
}

/// Fails after handing out `good` bytes.
struct Failing {
    good: Cursor<Vec<u8>>,
}

impl Read for Failing {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.good.read(buf)? {
            0 => Err(io::Error::other("disk on fire")),
            n => Ok(n),
        }
    }
}

#[test]
fn an_io_error_is_yielded_once_then_the_reader_ends() {
    let mut text = Vec::new();
    while text.len() < SNIFF_LEN * 2 {
        text.extend_from_slice(b"DHCPNAK from 10.0.0.1\n");
    }
    let n = text.len() / 22;
    let r = BufReader::with_capacity(
        64,
        Failing {
            good: Cursor::new(text),
        },
    );
    let mut reader = LogReader::new("flaky.log", r, Options::default()).unwrap();
    let items: Vec<_> = (&mut reader).collect();
    assert_eq!(items.len(), n + 1);
    assert!(items[..n].iter().all(|i| i.is_ok()));
    let err = items[n].as_ref().err().unwrap().to_string();
    assert!(
        err.contains("flaky.log") && err.contains("disk on fire"),
        "{err}"
    );
    assert!(reader.next().is_none());
}

/// Lines of every program and framing, to be cut and spliced by the property tests.
const SEEDS: &[&str] = &[
    "DHCPDISCOVER from 02:00:00:00:0b:01 via s0: configured min-secs value (2) is greater than secs field (0).  message dropped.",
    "DHCPREQUEST for 10.77.0.50 (10.77.0.1) from 32:18:50:af:9d:34 (host (x)) via 10.99.0.1: lease 10.77.0.50 unavailable.",
    "Nov 22 04:12:14 vm daemon.info dhcpd[29275]: DHCPDISCOVER from 02:00:00:00:1f:01 via s0: 0 secs < 2",
    "2026-11-22 04:05:39.166 WARN  [kea-dhcp4.alloc-engine/16513.140281532142080] ALLOC_ENGINE_V4_ALLOC_FAIL_SUBNET [hwtype=1 02:00:00:00:0a:09], cid=[01:02:00:00:00:0a:09], tid=0xa090001: failed to allocate an IPv4 lease in the subnet 10.77.0.0/24, subnet-id 1, shared network (none)",
    "Nov 22 04:06:32 dnsmasq-dhcp[18505]: 168165377 DHCPNAK(s0) 10.77.0.50 02:00:00:00:0a:06 wrong server-ID",
    "<30>1 2026-11-22T04:12:29.030107+00:00 vm dhcpd 4242 - [timeQuality tzKnown=\"1\"] DHCPOFFER on 10.77.0.50 to 02:00:00:00:0b:01 via s0",
    "2026-11-22T04:12:21+0000 vm dhcpd[29658]: uid lease 10.77.0.70 for client 02:00:00:00:0e:01 is duplicate on 10.77.0.0/24",
    "{\"MESSAGE\":\"5 bad udp checksums in 5 packets\",\"__REALTIME_TIMESTAMP\":\"1795320741532166\",\"SYSLOG_IDENTIFIER\":\"dhclient\",\"_PID\":\"7\"}",
    "udhcpc: lease of 10.77.0.50 obtained from 10.77.0.1, lease time 600",
    "c0: NAK: wrong network from 10.77.0.1",
    "Thu Nov 22 10:00:00 2026 daemon.info dnsmasq-dhcp[1234]: no address range available for DHCP request via 10.99.0.1",
];

fn arb_line() -> impl Strategy<Value = String> {
    let seed = proptest::sample::select(SEEDS);
    (
        seed.clone(),
        seed,
        any::<usize>(),
        any::<usize>(),
        any::<u8>(),
    )
        .prop_map(|(a, b, i, j, byte)| {
            // Splice a prefix of one seed onto a suffix of another, with a stray char.
            let a: Vec<char> = a.chars().collect();
            let b: Vec<char> = b.chars().collect();
            let i = i % (a.len() + 1);
            let j = j % (b.len() + 1);
            let mut s: String = a[..i].iter().collect();
            s.push(char::from(byte));
            s.extend(&b[j..]);
            s
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn any_bytes_never_panic_and_every_line_is_counted(bytes in proptest::collection::vec(any::<u8>(), 0..3000)) {
        if let Ok(mut r) = LogReader::new("fuzz", Cursor::new(bytes), Options::default()) {
            let n = (&mut r).count() as u64;
            let s = *r.stats();
            prop_assert_eq!(s.events, n);
            prop_assert_eq!(s.lines, s.events + s.blank + s.other_program + s.unknown);
        }
    }

    #[test]
    fn spliced_real_lines_never_panic(line in arb_line(), reference in any::<Option<i64>>(), offset in any::<i64>(), zone in -50_400i32..50_400) {
        let p = Parser::new(Options {
            time: logs::TimeContext { reference, utc_offset_secs: zone, clock_offset_ns: offset, reference_is_end: false },
            program: None,
        });
        if let Outcome::Event(e) = p.parse_line(1, &line) {
            let _ = serde_json::to_string(&*e).unwrap();
            prop_assert_eq!(e.raw, line);
        }
    }

    #[test]
    fn any_text_with_each_program_hint_never_panics(line in "\\PC{0,200}", hint in 0usize..7) {
        let program = logs::Program::ALL.get(hint).copied();
        let _ = Parser::new(Options { program, ..Options::default() }).parse_line(1, &line);
    }
}

/// dnsmasq's "cannot send DHCP/BOOTP option N" takes the xid of the same
/// process's last line about a packet, and none when that line had none
/// (dnsmasq without --log-dhcp) or came from another process.
#[test]
fn an_option_left_out_belongs_to_the_last_packet_of_its_process() {
    let xid_of_left_out = |text: &str| -> Vec<Option<u32>> {
        accepted(text.as_bytes())
            .0
            .iter()
            .filter(|e| e.kind == Kind::OptionNoSpace)
            .map(|e| e.fields.xid)
            .collect()
    };
    let tail = "dnsmasq-dhcp[7]: cannot send DHCP/BOOTP option 252: no space left in packet\n";
    let offer =
        "Dec  6 20:47:38 dnsmasq-dhcp[7]: 1115474590 DHCPOFFER(v1) 10.9.0.112 1e:00:01:e0:0c:9c\n";
    let stamp = "Dec  6 20:47:38 ";
    assert_eq!(
        xid_of_left_out(&format!("{offer}{stamp}{tail}")),
        [Some(1_115_474_590)]
    );
    // The packet line before it gave no xid: not the older packet's.
    let unlogged = "Dec  6 20:47:39 dnsmasq-dhcp[7]: DHCPOFFER(v1) 10.9.0.113 02:00:00:00:00:02\n";
    assert_eq!(
        xid_of_left_out(&format!("{offer}{unlogged}{stamp}{tail}")),
        [None]
    );
    // Another dnsmasq process's packet.
    let other = tail.replace("[7]", "[8]");
    assert_eq!(xid_of_left_out(&format!("{offer}{stamp}{other}")), [None]);
}

/// udhcpc says "no lease, failing" after DISCOVERs that got no OFFER and
/// after REQUESTs that got no ACK alike; the message it sent last tells
/// which (lines from the lab's `ack-lost` example, where the switch dropped
/// the ACKs, and from a run where no server answered).
#[test]
fn udhcpc_giving_up_after_its_requests_is_a_no_ack() {
    let after_requests = b"\
2026-12-06T22:56:01.929767+00:00 client udhcpc[2142]: udhcpc: started, v1.35.0
2026-12-06T22:56:01.950469+00:00 client udhcpc[2142]: udhcpc: broadcasting discover
2026-12-06T22:56:01.975747+00:00 client udhcpc[2142]: udhcpc: broadcasting select for 10.0.0.141, server 10.0.0.1
2026-12-06T22:56:03.589315+00:00 client udhcpc[2142]: udhcpc: broadcasting select for 10.0.0.141, server 10.0.0.1
2026-12-06T22:56:05.656674+00:00 client udhcpc[2142]: udhcpc: no lease, failing
";
    let (ev, _) = accepted(after_requests);
    let last = ev.last().unwrap();
    assert_eq!(last.kind, Kind::ClientNoAck);
    assert_eq!(last.cause().map(|c| c.code()), Some("no-ack"));

    let after_discovers = b"\
2026-12-06T22:56:01.950469+00:00 client udhcpc[2142]: udhcpc: broadcasting discover
2026-12-06T22:56:03.950469+00:00 client udhcpc[2142]: udhcpc: broadcasting discover
2026-12-06T22:56:05.656674+00:00 client udhcpc[2142]: udhcpc: no lease, failing
";
    let (ev, _) = accepted(after_discovers);
    assert_eq!(ev.last().unwrap().kind, Kind::ClientNoOffer);

    // Another udhcpc's REQUEST does not count.
    let other_pid = b"\
2026-12-06T22:56:01.975747+00:00 client udhcpc[7]: udhcpc: broadcasting select for 10.0.0.141, server 10.0.0.1
2026-12-06T22:56:05.656674+00:00 client udhcpc[2142]: udhcpc: no lease, failing
";
    let (ev, _) = accepted(other_pid);
    assert_eq!(ev.last().unwrap().kind, Kind::ClientNoOffer);
}

/// Two udhcpc processes (one per interface) interleaved: each one's "no
/// lease, failing" is read by what that one sent last.
#[test]
fn two_udhcpc_processes_are_followed_apart() {
    let log = b"\
2026-12-06T22:56:01.950469+00:00 client udhcpc[1]: udhcpc: broadcasting discover
2026-12-06T22:56:01.960469+00:00 client udhcpc[2]: udhcpc: broadcasting discover
2026-12-06T22:56:01.975747+00:00 client udhcpc[1]: udhcpc: broadcasting select for 10.0.0.141, server 10.0.0.1
2026-12-06T22:56:03.950469+00:00 client udhcpc[2]: udhcpc: broadcasting discover
2026-12-06T22:56:05.656674+00:00 client udhcpc[1]: udhcpc: no lease, failing
2026-12-06T22:56:05.756674+00:00 client udhcpc[2]: udhcpc: no lease, failing
";
    let (ev, _) = accepted(log);
    let kinds: Vec<Kind> = ev.iter().rev().take(2).map(|e| e.kind).collect();
    assert_eq!(kinds, [Kind::ClientNoOffer, Kind::ClientNoAck]);
}
