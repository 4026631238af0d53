//! The binary as a user meets it: exit codes, messages, stdin, colour, JSON.

use lab::Scratch;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_dhcplens"));
    c.env_remove("NO_COLOR");
    c
}

#[path = "../../../tests/support/corpus.rs"]
mod shared_corpus;

fn corpus(rel: &str) -> String {
    shared_corpus::dir()
        .join(rel)
        .to_string_lossy()
        .into_owned()
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().unwrap()
}

/// Runs `dhcplens ARGS` for a command that sends or serves (`probe`,
/// `replay`, `bisect`, `serve`, `watch`) in a test outside the lab's
/// namespaces. Every such run goes through here.
///
/// Contract: these tests check refusals that come before any socket is
/// opened; this makes them unable to reach the host's network should the
/// refusal ever regress (CI runs the tests as root, where a socket would
/// open and send on the host's interfaces):
/// - as root, with `unshare --net` working here, the command runs under
///   it: in a fresh network namespace holding only a loopback that is
///   down, where no packet can leave and no host interface exists (an
///   interface named in the test is missing there as on the host);
/// - not root, it runs as it is: it cannot open a raw socket, nor bind
///   the DHCP ports;
/// - as root without a working `unshare` it runs as it is too, and says so
///   on stderr (shown with the test's output).
///
/// `unshare` execs the binary, so the exit code, stdout and stderr are the
/// command's own (`unshare` is checked once beforehand, so its own failure
/// is never taken for the command's).
fn run_sending(args: &[&str]) -> Output {
    use std::os::unix::fs::MetadataExt;
    use std::sync::OnceLock;
    static SANDBOX: OnceLock<bool> = OnceLock::new();
    let sandbox = *SANDBOX.get_or_init(|| {
        let root = std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0);
        if !root {
            return false;
        }
        let works = Command::new("unshare")
            .args(["--net", "true"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !works {
            // Under CI a sending command must not run unsandboxed as root.
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "run_sending: root under CI=true, but `unshare --net` does not work here"
            );
            eprintln!("run_sending: root, but `unshare --net` does not work here: not sandboxed");
        }
        works
    });
    if !sandbox {
        return run(args);
    }
    let mut c = Command::new("unshare");
    c.args(["--net", "--", env!("CARGO_BIN_EXE_dhcplens")]);
    c.env_remove("NO_COLOR");
    c.args(args).output().unwrap()
}

fn run_stdin(args: &[&str], input: &[u8]) -> Output {
    let mut child = bin()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A command may stop reading once it has what it needs (one frame).
    let written = child.stdin.take().unwrap().write_all(input);
    assert!(
        written.is_ok() || written.as_ref().unwrap_err().kind() == std::io::ErrorKind::BrokenPipe,
        "{written:?}"
    );
    child.wait_with_output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A file holding `bytes` in the test's own scratch directory.
fn tmp(scratch: &Scratch, name: &str, bytes: &[u8]) -> String {
    scratch.file(name, bytes).to_string_lossy().into_owned()
}

/// An `input_warnings` entry as stderr says it: `FILE: MESSAGE`.
fn warning_line(w: &serde_json::Value) -> String {
    format!(
        "{}: {}",
        w["file"].as_str().unwrap(),
        w["message"].as_str().unwrap()
    )
}

const DORA: &str = "net-dhcp/DHCP-DISCOVER-OFFER-REQUEST-ACK.cap";

#[test]
fn decode_prints_one_line_per_packet() {
    let o = run(&["decode", &corpus(DORA)]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    let lines: Vec<&str> = out.lines().filter(|l| !l.starts_with("        ")).collect();
    assert_eq!(lines.len(), 4);
    assert!(lines[0].contains("DHCPDISCOVER") && lines[0].contains("xid 0x00003d1d"));
    assert!(lines[3].contains("DHCPACK") && lines[3].contains("yiaddr 192.168.0.10"));
    assert!(
        !out.contains('\x1b'),
        "no colour when stdout is not a terminal"
    );
}

#[test]
fn decode_json_has_the_documented_fields() {
    let o = run(&["decode", "--json", &corpus(DORA)]);
    let out = text(&o.stdout);
    let first: serde_json::Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    for k in [
        "frame",
        "time",
        "src",
        "dst",
        "udp_checksum",
        "op",
        "xid",
        "secs",
        "flags",
        "ciaddr",
        "yiaddr",
        "siaddr",
        "giaddr",
        "chaddr",
        "sname",
        "file",
        "message_type",
        "options",
        "anomalies",
    ] {
        assert!(first.get(k).is_some(), "missing {k} in {first}");
    }
    assert_eq!(first["frame"], 1);
    assert_eq!(first["xid"], "0x00003d1d");
    assert_eq!(first["message_type"], "DHCPDISCOVER");
    assert_eq!(first["src"]["mac"], "00:0b:82:01:fc:42");
    assert_eq!(first["options"][0]["name"], "dhcp-message-type");
    assert_eq!(first["options"][1]["value"]["address"], "00:0b:82:01:fc:42");
}

#[test]
fn filters_by_xid_and_mac() {
    let o = run(&["decode", "--json", "--xid", "3d1e", &corpus(DORA)]);
    assert_eq!(text(&o.stdout).lines().count(), 2);
    let o = run(&[
        "decode",
        "--json",
        "--mac",
        "00:08:74:ad:f1:9b",
        &corpus(DORA),
    ]);
    assert_eq!(
        text(&o.stdout).lines().count(),
        2,
        "the server's MAC is the Ethernet source of its two replies"
    );
    let o = run(&["decode", "--xid", "zz", &corpus(DORA)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("not a transaction id"));
    // A MAC with an octet left out is a slip, not a filter for nothing.
    let o = run(&["decode", "--mac", "00:08:74:ad:f1", &corpus(DORA)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("has 5 octets"),
        "{}",
        text(&o.stderr)
    );
    // Filters that let nothing through are no answer, said.
    let o = run(&[
        "decode",
        "--mac",
        "02:00:00:00:00:09",
        "--xid",
        "3d1e",
        &corpus(DORA),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(o.stdout.is_empty());
    assert!(
        text(&o.stderr).contains(
            "no DHCP packet matches --mac 02:00:00:00:00:09 --xid 0x00003d1e (among 4 read)"
        ),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn stdin_is_dash() {
    let bytes = std::fs::read(corpus(DORA)).unwrap();
    let o = run_stdin(&["decode", "-"], &bytes);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        text(&o.stdout),
        text(&run(&["decode", &corpus(DORA)]).stdout)
    );
}

#[test]
fn a_cut_capture_reports_what_it_read_and_where_it_was_cut() {
    let scratch = Scratch::new("cli");
    let bytes = std::fs::read(corpus(DORA)).unwrap();
    let cut = &bytes[..bytes.len() - 100];
    let f = tmp(&scratch, "cut.pcap", cut);
    let o = run(&["decode", &f]);
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    assert!(
        err.contains("cut.pcap") && err.contains(&format!("cut short at byte {}", cut.len())),
        "{err}"
    );
    let shown = text(&o.stdout);
    let packets: Vec<&str> = shown
        .lines()
        .filter(|l| !l.starts_with("        "))
        .collect();
    assert_eq!(packets.len(), 4, "the cut packet is still shown: {shown}");
    assert!(shown.contains("snap length"), "and flagged: {shown}");

    let o = run(&["diagnose", &f]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stdout).contains("summary:"),
        "the diagnosis of what was read is printed"
    );
    // Cut inside the last packet's DHCP header: the error says so, and the
    // snap length is not blamed.
    let mut last = 24;
    let mut at = 24;
    while at + 16 <= bytes.len() {
        last = at;
        at += 16 + u32::from_le_bytes(bytes[at + 8..at + 12].try_into().unwrap()) as usize;
    }
    let f = tmp(
        &scratch,
        "cut-header.pcap",
        &bytes[..last + 16 + 14 + 20 + 8 + 100],
    );
    let o = run(&["diagnose", &f]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("cut short at byte"), "{err}");
    assert!(!err.contains("snap length"), "{err}");
}

#[test]
fn garbage_and_missing_files_are_errors_naming_the_file() {
    let scratch = Scratch::new("cli");
    let f = tmp(
        &scratch,
        "notes.txt",
        b"Nov 22 10:00:00 host dhcpd[1]: DHCPDISCOVER from 00:11:22:33:44:55 via eth0\n",
    );
    let o = run(&["decode", &f]);
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    assert!(
        err.contains("notes.txt")
            && err.contains("not a pcap or pcapng file")
            && err.contains("explain"),
        "{err}"
    );
    let o = run(&["diagnose", "/nonexistent/x.pcap"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("/nonexistent/x.pcap"));
    let o = run(&["decode", &tmp(&scratch, "empty.pcap", b"")]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("empty"));
}

#[test]
fn malformed_packets_are_reported_not_fatal() {
    for f in ["tcpdump/bootp_asan.pcap", "tcpdump/bootp_asan-2.pcap"] {
        let o = run(&["decode", &corpus(f)]);
        assert_eq!(o.status.code(), Some(1), "{f}: problems found");
        let out = text(&o.stdout);
        // A fragment whose capture kept less than the DHCP header: said
        // once, as the capture's cut, not again as a too-short message.
        assert!(out.contains("(incomplete DHCP header: "), "{f}: {out}");
        assert!(out.contains("IPv4 fragment"), "{f}: {out}");
        assert!(
            !out.contains("a BOOTP/DHCP message needs at least 236"),
            "{f}: {out}"
        );
    }
}

/// A capture whose only DHCP-port packet is unreadable is not healthy.
#[test]
fn diagnose_names_packets_it_cannot_read() {
    let o = run(&["diagnose", &corpus("tcpdump/bootp_asan.pcap")]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    let err = text(&o.stderr);
    assert!(
        err.contains("1 packet(s) on the DHCP ports hold no readable DHCP message (first: frame 1: IPv4 fragment"),
        "{err}"
    );
}

#[test]
fn diagnose_exit_codes() {
    let o = run(&["diagnose", &corpus("net-dhcp/DHCP_Inter_VLAN.cap")]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stdout));
    let o = run(&["diagnose", &corpus("net-dhcp/DHCP-NAK-SMALL.cap")]);
    assert_eq!(o.status.code(), Some(1));
}

/// A pcap file header (Ethernet), without any frame.
fn pcap_header() -> Vec<u8> {
    let mut header = Vec::new();
    header.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    header.extend_from_slice(&[2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    header.extend_from_slice(&65535u32.to_le_bytes());
    header.extend_from_slice(&1u32.to_le_bytes());
    header
}

/// A DISCOVER, and an OFFER too large for one 1500-byte packet (eight
/// 200-byte options) sent in two IPv4 fragments, as a pcap.
fn fragmented_offer(last_first: bool) -> Vec<u8> {
    use std::net::Ipv4Addr;
    use wire::dhcp::{code, Message};
    let mac = [2, 0, 0, 0, 0, 1];
    let mut discover = Message::new(wire::Op::BootRequest, 0x99, &mac);
    discover.set_option(code::DHCP_MESSAGE_TYPE, vec![1]);
    let discover = discover.encode(300);
    let mut d = wire::frame::UdpFrame::new(
        (Ipv4Addr::UNSPECIFIED, 68),
        (Ipv4Addr::BROADCAST, 67),
        &discover,
    );
    d.src_mac = mac;
    let mut offer = Message::new(wire::Op::BootReply, 0x99, &mac);
    offer.yiaddr = Ipv4Addr::new(10, 0, 0, 50);
    offer.set_option(code::DHCP_MESSAGE_TYPE, vec![2]);
    offer.set_option(code::SERVER_IDENTIFIER, vec![10, 0, 0, 1]);
    for c in 224..232 {
        offer.set_option(c, vec![b'A'; 200]);
    }
    let offer = offer.encode(300);
    let mut o = wire::frame::UdpFrame::new(
        (Ipv4Addr::new(10, 0, 0, 1), 67),
        (Ipv4Addr::new(10, 0, 0, 50), 68),
        &offer,
    );
    o.identification = 0x4242;
    // RFC 791: 1480 bytes (a multiple of 8) with MF set, then the rest,
    // each in an Ethernet frame from the server.
    let fragment = |ip: Vec<u8>| [&mac[..], &[2, 0, 0, 0, 0, 0x99, 8, 0], &ip].concat();
    let mut w =
        capture::write::PcapWriter::new(Vec::new(), wire::LinkType::Ethernet, 65535).unwrap();
    let t = 1_700_000_000_000_000_000;
    let mut fragments: Vec<Vec<u8>> = o.ipv4_fragments(1480).into_iter().map(fragment).collect();
    assert_eq!(fragments.len(), 2);
    if last_first {
        // As some stacks send them (older Linux sent the last first).
        fragments.reverse();
    }
    for (i, f) in [d.ethernet_frame()]
        .into_iter()
        .chain(fragments)
        .collect::<Vec<_>>()
        .iter()
        .enumerate()
    {
        w.write(t + i as i64 * 1000, f, f.len()).unwrap();
    }
    w.into_inner()
}

/// The first fragment of a DHCP message is read as the start of the
/// message (as if the capture had cut it there), with its size from the
/// UDP length: no malformed packet for the sender's encoder to fix, and a
/// reply too large by its true size, not the fragment's. The fragment after
/// it, which has no UDP header, is counted and said.
#[test]
fn a_fragmented_message_is_read_as_cut_and_its_fragments_are_said() {
    let scratch = Scratch::new("fragments");
    // The last fragment before the first is counted too.
    let reversed = tmp(&scratch, "reversed.pcap", &fragmented_offer(true));
    let err = text(&run(&["diagnose", &reversed]).stderr);
    assert!(
        err.contains("reversed.pcap: 1 IPv4 fragment(s) that continue DHCP messages"),
        "{err}"
    );
    let p = tmp(&scratch, "frag.pcap", &fragmented_offer(false));
    let o = run(&["diagnose", "--json", &p]);
    let err = text(&o.stderr);
    let said = "frag.pcap: 1 IPv4 fragment(s) that continue DHCP messages were not reassembled";
    assert!(err.contains(said), "{err}");
    let d: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let findings = d["findings"].as_array().unwrap();
    let codes: Vec<&str> = findings
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["reply-too-large"], "{d}");
    assert!(
        // 240 bytes of header and cookie, options 53 and 54, eight of 202, END.
        findings[0]["summary"]
            .as_str()
            .unwrap()
            .contains("is 1866 bytes"),
        "{}",
        findings[0]
    );
    let w = d["input_warnings"].as_array().unwrap();
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!(w[0]["file"], p.as_str());
    let o = run(&["decode", &p]);
    assert!(text(&o.stderr).contains(said), "{}", text(&o.stderr));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
}

/// A directory holding tcpdump's rotated files (`tcpdump -C 1 -w
/// dump.pcap` writes dump.pcap, dump.pcap1, …) reads them all, in the order
/// they were written; files left out that look like captures (compressed,
/// or a capture by its first bytes under another name) are named on stderr
/// and in `input_warnings`, without changing the exit code.
#[test]
fn a_directory_reads_rotated_captures_and_names_the_ones_it_skips() {
    let scratch = Scratch::new("rotated");
    let dir = scratch.path().join("case");
    std::fs::create_dir(&dir).unwrap();
    let dora = std::fs::read(corpus(DORA)).unwrap();
    for name in ["dump.pcap", "dump.pcap1", "dump.pcap2", "dump.pcap10"] {
        std::fs::write(dir.join(name), &dora).unwrap();
    }
    let healthy = run(&["diagnose", &dir.to_string_lossy()]).status.code();
    // gzip's header (RFC 1952), and the capture under a name of its own.
    std::fs::write(
        dir.join("old.pcap.gz"),
        [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3],
    )
    .unwrap();
    std::fs::write(dir.join("capture.bin"), &dora).unwrap();
    std::fs::write(dir.join("notes.txt"), "not a capture\n").unwrap();
    let d = dir.to_string_lossy();
    let o = run(&["diagnose", "--json", &d]);
    let err = text(&o.stderr);
    let gz = format!("{d}/old.pcap.gz: skipped: it is gzip-compressed: decompress it first");
    let bin =
        format!("{d}/capture.bin: skipped: it is a capture, but its name does not end in .pcap");
    assert!(err.contains(&gz) && err.contains(&bin), "{err}");
    assert!(!err.contains("notes.txt"), "{err}");
    assert_eq!(o.status.code(), healthy, "{err}");
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let files: Vec<String> = (j["files"].as_array().unwrap().iter())
        .map(|f| f.as_str().unwrap().rsplit('/').next().unwrap().to_string())
        .collect();
    assert_eq!(
        files,
        ["dump.pcap", "dump.pcap1", "dump.pcap2", "dump.pcap10"]
    );
    let w: Vec<String> = (j["input_warnings"].as_array().unwrap().iter())
        .map(warning_line)
        .collect();
    assert!(w.iter().any(|w| w.starts_with(&gz)), "{w:?}");
    assert!(w.iter().any(|w| w.starts_with(&bin)), "{w:?}");
    let o = run(&["decode", &d]);
    assert!(text(&o.stderr).contains(&gz), "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains(&format!("== {d}/dump.pcap10")));

    // One capture cut in two parts holds no message twice: its parts share
    // a clock, and no clock note is said about them. Two captures so cut
    // under names of their own still get one.
    let records = |from: usize, to: usize| {
        let (mut at, mut out, mut n) = (24, dora[..24].to_vec(), 0);
        while at + 16 <= dora.len() {
            let caplen = u32::from_le_bytes(dora[at + 8..at + 12].try_into().unwrap()) as usize;
            if (from..to).contains(&n) {
                out.extend_from_slice(&dora[at..at + 16 + caplen]);
            }
            at += 16 + caplen;
            n += 1;
        }
        out
    };
    for (first, second, noted) in [
        ("dump.pcap", "dump.pcap1", false),
        ("a.pcap", "b.pcap", true),
    ] {
        let dir = scratch.path().join(format!("parts-{}", first.len()));
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join(first), records(0, 2)).unwrap();
        std::fs::write(dir.join(second), records(2, 4)).unwrap();
        let out = text(&run(&["diagnose", &dir.to_string_lossy()]).stdout);
        assert_eq!(
            out.contains("could not be measured"),
            noted,
            "{first}: {out}"
        );
    }

    // A server capture on a clock 5 s ahead, rotated in two, beside a
    // client capture of the first two messages only: the second part has
    // nothing in common with the client's, and is moved as the first is.
    let ahead = |mut b: Vec<u8>| {
        let mut at = 24;
        while at + 16 <= b.len() {
            let secs = u32::from_le_bytes(b[at..at + 4].try_into().unwrap()) + 5;
            b[at..at + 4].copy_from_slice(&secs.to_le_bytes());
            at += 16 + u32::from_le_bytes(b[at + 8..at + 12].try_into().unwrap()) as usize;
        }
        b
    };
    let dir = scratch.path().join("moved");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("client.pcap"), records(0, 2)).unwrap();
    std::fs::write(dir.join("server.pcap"), ahead(records(0, 2))).unwrap();
    std::fs::write(dir.join("server.pcap1"), ahead(records(2, 4))).unwrap();
    let o = run(&["diagnose", "--json", &dir.to_string_lossy()]);
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let moved: Vec<(String, f64)> = (j["clock_offsets"].as_array().unwrap().iter())
        .map(|o| {
            let file = o["file"].as_str().unwrap().rsplit('/').next().unwrap();
            (file.to_string(), o["offset"].as_f64().unwrap())
        })
        .collect();
    assert_eq!(
        moved,
        [("server.pcap".into(), 5.0), ("server.pcap1".into(), 5.0)],
        "{j}"
    );
    assert_eq!(j["clocks_unmeasured"], serde_json::json!([]));
    let part = &j["clock_offsets"][1];
    assert_eq!(
        (&part["matched"], &part["agreeing"]),
        (&0.into(), &0.into())
    );
    assert!(
        part["part_of"].as_str().unwrap().ends_with("/server.pcap"),
        "{part}"
    );
    let out = text(&run(&["diagnose", &dir.to_string_lossy()]).stdout);
    assert!(
        out.contains("server.pcap1's times are moved 5.000 s earlier as"),
        "{out}"
    );
    // The other way round: the client's capture holds the second part's
    // messages; the first part is moved as the second is.
    std::fs::write(dir.join("client.pcap"), records(2, 4)).unwrap();
    std::fs::write(dir.join("server.pcap"), ahead(records(0, 2))).unwrap();
    std::fs::write(dir.join("server.pcap1"), ahead(records(2, 4))).unwrap();
    let out = text(&run(&["diagnose", &dir.to_string_lossy()]).stdout);
    assert!(
        out.contains("server.pcap's times are moved 5.000 s earlier as")
            && !out.contains("could not be measured"),
        "{out}"
    );
}

/// Two clients that behave alike (their diff is healthy, 0) and a capture
/// without DHCP among the inputs: that capture is named, and is no answer (1).
#[test]
fn diff_names_a_capture_without_dhcp() {
    let scratch = Scratch::new("cli");
    let alike = corpus("zeek/dhcp-unique-xid-join-data-growth.pcapng");
    let clients = ["--mac", "02:00:00:00:00:00", "--mac", "02:00:00:00:00:01"];
    let o = run(&[&["diff", &alike][..], &clients].concat());
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stdout));
    let empty = tmp(&scratch, "diff-empty.pcap", &pcap_header());
    for json in [&[][..], &["--json"]] {
        let o = run(&[&["diff", &alike, &empty][..], &clients, json].concat());
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{err}");
        assert!(
            err.contains("diff-empty.pcap: no DHCP packets among 0 frame(s)"),
            "{err}"
        );
        assert!(
            text(&o.stdout).contains("02:00:00:00:00:01"),
            "still compared"
        );
    }
}

/// A little-endian pcap with every frame cut to at most `snap` bytes, as
/// `tcpdump -s` (or `editcap -s`) keeps them.
fn snapped(pcap: &[u8], snap: usize) -> Vec<u8> {
    let mut out = pcap[..24].to_vec();
    let mut at = 24;
    while at + 16 <= pcap.len() {
        let len = u32::from_le_bytes(pcap[at + 8..at + 12].try_into().unwrap()) as usize;
        let kept = len.min(snap);
        out.extend_from_slice(&pcap[at..at + 8]);
        out.extend_from_slice(&(kept as u32).to_le_bytes());
        out.extend_from_slice(&pcap[at + 12..at + 16]);
        out.extend_from_slice(&pcap[at + 16..at + 16 + kept]);
        at += 16 + len;
    }
    out
}

/// Where each frame's bytes start in a little-endian pcap.
fn frame_offsets(pcap: &[u8]) -> Vec<usize> {
    let mut out = Vec::new();
    let mut at = 24;
    while at + 16 <= pcap.len() {
        let kept = u32::from_le_bytes(pcap[at + 8..at + 12].try_into().unwrap()) as usize;
        out.push(at + 16);
        at += 16 + kept;
    }
    out
}

/// A frame the capture cut holds only the options before the cut: the
/// options past it are not "absent" differences; `diff` says so and, having
/// not seen all of both, exits 1. Sending or varying such a request is
/// refused. A reply is not compared with a request.
#[test]
fn diff_knows_what_a_cut_frame_cannot_show() {
    let scratch = Scratch::new("diff-cut");
    let whole = example("min-secs/client.pcap");
    let cut = tmp(
        &scratch,
        "cut.pcap",
        &snapped(&std::fs::read(&whole).unwrap(), 300),
    );
    // Cut inside the fixed header, a frame still shows its ids, and is
    // found by them.
    let header = tmp(
        &scratch,
        "header.pcap",
        &snapped(&std::fs::read(&whole).unwrap(), 100),
    );
    let o = run(&[
        "decode",
        "--json",
        "--xid",
        "5ec00000",
        "--mac",
        "02:00:00:04:02:01",
        &header,
    ]);
    let first: serde_json::Value =
        serde_json::from_str(text(&o.stdout).lines().next().unwrap()).unwrap();
    assert_eq!(
        (&first["frame"], &first["xid"], &first["chaddr"]),
        (&1.into(), &"0x5ec00000".into(), &"02:00:00:04:02:01".into()),
        "{first}"
    );
    assert!(first.get("op").is_none(), "{first}");
    let out = text(&run(&["decode", &header]).stdout);
    assert!(
        out.contains(
            "(incomplete DHCP header: 58 bytes)  xid 0x5ec00000  chaddr 02:00:00:04:02:01"
        ),
        "{out}"
    );
    // Frame 1 has options 53, 57, 60 and 55: only 53 and 57 are before byte 300.
    let o = run(&["diff", "--json", &format!("{cut}:1"), &format!("{whole}:1")]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!(
            "{cut}:1: the capture kept 300 of the frame's 342 bytes"
        )),
        "{err}"
    );
    assert_eq!(text(&o.stdout).trim(), "[]");
    // What the cut frame shows still counts: its option 57 against frame 2,
    // which has none (frame 2's option 60 past the cut is not compared).
    let o = run(&["diff", "--json", &format!("{cut}:1"), &format!("{whole}:2")]);
    let d: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let fields: Vec<&str> = (d.as_array().unwrap().iter())
        .map(|x| x["field"].as_str().unwrap())
        .collect();
    assert!(fields.contains(&"option 57 (max-dhcp-message-size)"), "{d}");
    assert!(!fields.iter().any(|f| f.starts_with("option 60")), "{d}");
    // Whole on both sides, option 60 differs.
    let o = run(&[
        "diff",
        "--json",
        &format!("{whole}:1"),
        &format!("{whole}:2"),
    ]);
    assert!(text(&o.stdout).contains("option 60"), "{}", text(&o.stdout));
    // `diff --mac` reads the requests it compares the same way.
    let macs = ["--mac", "02:00:00:04:02:01", "--mac", "02:00:00:04:03:01"];
    let o = run(&[&["diff", "--json", &cut][..], &macs].concat());
    assert!(
        text(&o.stderr).contains("the capture kept 300"),
        "{}",
        text(&o.stderr)
    );
    assert!(
        !text(&o.stdout).contains("option 60"),
        "{}",
        text(&o.stdout)
    );
    // A cut request is never sent again nor varied (refused before any socket).
    let o = run_sending(&["replay", &cut, "--frame", "1", "--server", "127.0.0.1"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("frame 1 was cut by the capture"),
        "{}",
        text(&o.stderr)
    );

    // Cut inside the magic cookie: the cookie is unknown, not different.
    let dora = corpus(DORA);
    let in_cookie = tmp(
        &scratch,
        "cookie.pcap",
        &snapped(&std::fs::read(&dora).unwrap(), 279),
    );
    let o = run(&[
        "diff",
        "--json",
        &format!("{dora}:1"),
        &format!("{in_cookie}:1"),
    ]);
    assert_eq!(text(&o.stdout).trim(), "[]", "{}", text(&o.stdout));
    // Cut after END (DORA's DISCOVER ends at frame byte 306): only padding
    // is lost, so the frame is whole.
    let padding = tmp(
        &scratch,
        "padding.pcap",
        &snapped(&std::fs::read(&dora).unwrap(), 310),
    );
    let o = run(&["diff", &format!("{dora}:1"), &format!("{padding}:1")]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(o.stderr.is_empty(), "{}", text(&o.stderr));

    // An op that is neither request nor reply is a difference, not a reply.
    let mut bad_op = std::fs::read(&whole).unwrap();
    let frame3 = frame_offsets(&bad_op)[2];
    assert_eq!(bad_op[frame3 + 42], 1);
    bad_op[frame3 + 42] = 0;
    let bad_op = tmp(&scratch, "op0.pcap", &bad_op);
    let o = run(&[
        "diff",
        "--json",
        &format!("{bad_op}:1"),
        &format!("{bad_op}:3"),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    assert!(
        text(&o.stdout).contains("\"field\":\"op\""),
        "{}",
        text(&o.stdout)
    );

    let rogue = example("rogue-server/client.pcap");
    let o = run(&["diff", &format!("{rogue}:2"), &format!("{rogue}:1")]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains(&format!("{rogue}:2 is a reply and {rogue}:1 a request")),
        "{}",
        text(&o.stderr)
    );
    assert!(o.stdout.is_empty());
}

/// An ICMP error quoting a DHCP message (`decode` shows it as the quoted
/// message) is no message sent: `diff` says what the frame is, and which
/// message it quotes, rather than "not a DHCP packet".
#[test]
fn diff_says_a_frame_is_an_icmp_error_quoting_a_message() {
    // Frame 6: ISC dhcpd's host answers iPXE's DHCPREQUEST to 4011 (frame 5).
    let cap = example("pxe-boot-server-silent/server.pcap");
    let o = run(&["diff", &format!("{cap}:6"), &format!("{cap}:5")]);
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    assert!(
        err.contains(
            "server.pcap: frame 6 is an ICMP error (port unreachable from 10.0.0.1) quoting a DHCP \
             message (xid 0xe18da769), not a DHCP packet sent"
        ),
        "{err}"
    );
}

/// `-:N` (frame N of stdin) is a request on either side of `diff` without
/// `--`, and the flags after it are still flags.
#[test]
fn diff_takes_a_frame_of_stdin_without_dashes() {
    let pcap = example("min-secs/client.pcap");
    let capture = std::fs::read(&pcap).unwrap();
    let other = example("healthy-dhcpd/server.pcap:1");
    for args in [["-:1", &other, "--json"], [&other, "-:1", "--json"]] {
        let o = run_stdin(&[&["diff"][..], &args].concat(), &capture);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {}", text(&o.stderr));
        let d: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(d[0]["field"], "chaddr", "{d}");
    }
    let o = run_stdin(&["diff", "-:1", &format!("{pcap}:3")], &capture);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("no differences"));
    // A mistyped flag is still refused, not taken for a request, wherever it is.
    let (one, three) = (format!("{pcap}:1"), format!("{pcap}:3"));
    for args in [
        [one.as_str(), &three, "--jsno"],
        ["--jsno", &one, &three],
        [&one, "--jsno", &three],
    ] {
        let o = run(&[&["diff"][..], &args].concat());
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(
            text(&o.stderr).contains("unexpected argument '--jsno'"),
            "{args:?}: {}",
            text(&o.stderr)
        );
    }
    // Standard input can be read once: two frames of it are refused.
    let o = run_stdin(&["diff", "-:1", "-:3"], &capture);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("can be read only once"),
        "{}",
        text(&o.stderr)
    );
    // --mac after the captures is still --mac.
    let o = run(&[
        "diff",
        &pcap,
        &example("min-secs/server.pcap"),
        "--mac",
        "02:00:00:04:02:01",
        "--mac",
        "02:00:00:04:03:01",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("first DISCOVERs"));
}

/// A client the captures never heard from is no answer (1), said by name;
/// the client that was found is still shown, its exchanges and all (in
/// the JSON and the text), on whichever side it was given.
#[test]
fn diff_of_a_client_without_packets_is_no_answer() {
    let pcap = example("min-secs/client.pcap");
    let absent = "02:00:00:09:09:09";
    let present = "02:00:00:04:02:01";
    for (found, missing, macs) in [
        ("left", "right", [present, absent]),
        ("right", "left", [absent, present]),
    ] {
        for json in [&[][..], &["--json"]] {
            let args = ["diff", &pcap, "--mac", macs[0], "--mac", macs[1]];
            let o = run(&[&args[..], json].concat());
            let err = text(&o.stderr);
            assert_eq!(o.status.code(), Some(1), "{err}");
            assert!(
                err.contains(&format!("dhcplens: no packets from {absent} in {pcap}")),
                "{err}"
            );
            assert!(!err.contains(present), "{err}");
            if !json.is_empty() {
                // The document is still there for scripts, the missing side null.
                let d: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
                assert_eq!(d[found]["chaddr"], present, "{d}");
                assert!(d[missing].is_null(), "{d}");
                assert_eq!(d["requests"], serde_json::json!([]), "{d}");
                let exchanges = d[found]["exchanges"].as_array().unwrap();
                assert_eq!(exchanges.len(), 1, "{d}");
                assert_eq!(exchanges[0]["xid"], "0x5ec00000", "{d}");
                assert_eq!(exchanges[0]["steps"].as_array().unwrap().len(), 4, "{d}");
            } else {
                let out = text(&o.stdout);
                assert!(
                    out.contains(&format!("{missing:<5} {absent}  not in the captures")),
                    "{out}"
                );
                assert!(out.contains("xid 0x5ec00000 init: no-offer"), "{out}");
                assert_eq!(out.matches("DISCOVER (").count(), 4, "{out}");
                assert!(!out.contains('≠'), "{out}");
            }
        }
    }
}

/// A capture with no DHCP in it is no answer (1), not a healthy network,
/// from `diagnose` and `decode`, in text and JSON: frames of another
/// protocol, or none at all.
#[test]
fn a_capture_without_dhcp_is_no_answer() {
    let scratch = Scratch::new("cli");
    let header = pcap_header();
    // One Ethernet frame carrying IPv6 (ethertype 0x86dd).
    let mut ipv6 = header.clone();
    let mut frame = vec![0xff; 12];
    frame.extend_from_slice(&[0x86, 0xdd]);
    frame.extend_from_slice(&[0x60; 40]);
    ipv6.extend_from_slice(&[0; 8]);
    ipv6.extend_from_slice(&(frame.len() as u32).to_le_bytes());
    ipv6.extend_from_slice(&(frame.len() as u32).to_le_bytes());
    ipv6.extend_from_slice(&frame);
    // One capture of a pair without DHCP (a wrong filter on one side) is
    // named, and the case is no answer though the other capture is healthy.
    let v6 = tmp(&scratch, "pair-ipv6.pcap", &ipv6);
    let o = run(&["diagnose", &corpus("net-dhcp/DHCP_Inter_VLAN.cap"), &v6]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("pair-ipv6.pcap: no DHCP packets among 1 frame(s)"),
        "{err}"
    );
    assert!(!err.contains("DHCP_Inter_VLAN.cap: no DHCP"), "{err}");
    // The JSON report does not call nothing healthy.
    let o = run(&["diagnose", "--json", &v6]);
    let d: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(d["healthy"], false);
    for (name, bytes, frames) in [("ipv6.pcap", ipv6, 1), ("header-only.pcap", header, 0)] {
        let f = tmp(&scratch, name, &bytes);
        // From standard input, named as every other message names it.
        for cmd in ["diagnose", "decode"] {
            let o = run_stdin(&[cmd, "-"], &bytes);
            let err = text(&o.stderr);
            assert_eq!(o.status.code(), Some(1), "{cmd} -: {err}");
            assert!(
                err.starts_with("dhcplens: <stdin>: no DHCP packets among"),
                "{cmd} -: {err}"
            );
        }
        for args in [
            vec!["diagnose", &f],
            vec!["diagnose", "--json", &f],
            vec!["decode", &f],
            vec!["decode", "--json", &f],
        ] {
            let o = run(&args);
            let err = text(&o.stderr);
            assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
            assert!(
                err.contains(&format!("no DHCP packets among {frames} frame(s)"))
                    || err.contains(&format!("no DHCP packets among its {frames} frame(s)")),
                "{args:?}: {err}"
            );
        }
    }
}

#[test]
fn diagnose_json_is_one_document() {
    let o = run(&["diagnose", "--json", &corpus("zeek/dhcp.pcap")]);
    let out = text(&o.stdout);
    let d: serde_json::Value = serde_json::from_str(&out).unwrap();
    for k in [
        "transactions",
        "clients",
        "findings",
        "servers",
        "stats",
        "files",
    ] {
        assert!(d.get(k).is_some(), "missing {k}");
    }
    let t = &d["transactions"][0];
    for k in [
        "xid", "chaddr", "state", "outcome", "address", "server", "frames",
    ] {
        assert!(t.get(k).is_some(), "transaction lacks {k}: {t}");
    }
    let f = &d["findings"][0];
    for k in [
        "code",
        "severity",
        "chaddr",
        "xid",
        "frames",
        "summary",
        "explanation",
        "fix",
        "references",
    ] {
        assert!(f.get(k).is_some(), "finding lacks {k}: {f}");
    }
}

/// The DORA capture's four frames, `copies` times over: a report of many
/// megabytes, larger than any pipe's buffer.
fn many_doras(scratch: &Scratch, copies: usize) -> String {
    let dora = std::fs::read(corpus(DORA)).unwrap();
    let (header, records) = dora.split_at(24);
    let mut big = header.to_vec();
    for _ in 0..copies {
        big.extend_from_slice(records);
    }
    tmp(scratch, &format!("doras-{copies}.pcap"), &big)
}

/// Decode and diagnose write their reports behind, on a thread of their
/// own, into a pipe or a file: the bytes are those written to a terminal's
/// way (`/dev/null` is written directly), and a reader that goes away early
/// (`| head`) ends the run quietly.
#[test]
fn large_reports_reach_a_pipe_and_a_file_whole() {
    let scratch = Scratch::new("cli");
    let big = many_doras(&scratch, 2_000);
    for args in [
        &["decode", "--json", big.as_str()][..],
        &["diagnose", "--json", big.as_str()][..],
    ] {
        let piped = run(args);
        // Decoded without a fault; diagnosed with findings (the same
        // exchange, two thousand times over).
        let code = piped.status.code();
        assert!(
            matches!(code, Some(0 | 1)),
            "{args:?}: {}",
            text(&piped.stderr)
        );
        assert!(
            piped.stdout.len() > 1 << 20,
            "{args:?}: {}",
            piped.stdout.len()
        );
        // Every frame, once and in order: 8,000 packet lines, or 4,000
        // transactions (DISCOVER-OFFER, REQUEST-ACK) naming them.
        let frames: Vec<u64> = if args[0] == "decode" {
            text(&piped.stdout)
                .lines()
                .map(|l| {
                    serde_json::from_str::<serde_json::Value>(l).unwrap()["frame"]
                        .as_u64()
                        .unwrap()
                })
                .collect()
        } else {
            let d: serde_json::Value = serde_json::from_slice(&piped.stdout).unwrap();
            d["transactions"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|t| t["frames"].as_array().unwrap().clone())
                .map(|f| f["frame"].as_u64().unwrap())
                .collect()
        };
        assert!(
            frames.iter().copied().eq(1..=8000),
            "{args:?}: frames out of order or missing"
        );
        let file = tmp(&scratch, "report.json", b"");
        let o = bin()
            .args(args)
            .stdout(std::fs::File::create(&file).unwrap())
            .output()
            .unwrap();
        assert_eq!(o.status.code(), code, "{args:?}: {}", text(&o.stderr));
        assert!(
            std::fs::read(&file).unwrap() == piped.stdout,
            "{args:?}: file and pipe differ"
        );
        let direct = bin().args(args).stdout(Stdio::null()).output().unwrap();
        assert_eq!(direct.status.code(), code, "{args:?}");

        let mut child = bin()
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut head = [0u8; 1000];
        std::io::Read::read_exact(child.stdout.as_mut().unwrap(), &mut head).unwrap();
        assert_eq!(&head[..], &piped.stdout[..1000], "{args:?}");
        drop(child.stdout.take());
        let o = child.wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", text(&o.stderr));
        assert!(o.stderr.is_empty(), "{args:?}: {}", text(&o.stderr));
    }
}

/// A warning about an input comes after the report's lines before it, and
/// before those after it, when both go into one pipe (`2>&1 | …`).
#[test]
fn warnings_come_in_their_place_among_the_output() {
    let scratch = Scratch::new("cli");
    let big = many_doras(&scratch, 2_000);
    let script = format!(
        "'{}' decode --json '{big}' /nonexistent.pcap '{big}' 2>&1 | cat",
        env!("CARGO_BIN_EXE_dhcplens")
    );
    let o = Command::new("sh").args(["-c", &script]).output().unwrap();
    let out = text(&o.stdout);
    let lines: Vec<&str> = out.lines().collect();
    let warning = lines
        .iter()
        .position(|l| l.starts_with("dhcplens: /nonexistent.pcap"))
        .unwrap_or_else(|| panic!("no warning in {} lines", lines.len()));
    assert_eq!(
        warning, 8000,
        "the warning after the first file's 8,000 packets"
    );
    assert_eq!(lines.len(), 16_001);
}

/// `tcpdump -U -w - | dhcplens decode -`: each packet's line comes out as
/// the packet comes in, though the output is a pipe (written behind, in
/// large writes when the input is fast).
#[test]
fn decode_of_a_live_pipe_shows_each_packet_as_it_comes() {
    use std::io::{BufRead, BufReader};
    use std::sync::mpsc;
    use std::time::Duration;
    let dora = std::fs::read(corpus(DORA)).unwrap();
    let little = dora[..4] == [0xd4, 0xc3, 0xb2, 0xa1];
    let caplen = |at: usize| {
        let b: [u8; 4] = dora[at + 8..at + 12].try_into().unwrap();
        (if little {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        }) as usize
    };
    let mut child = bin()
        .args(["decode", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, lines) = mpsc::channel();
    let reading = std::thread::spawn(move || {
        for l in BufReader::new(stdout).lines() {
            let _ = tx.send(l.unwrap());
        }
    });
    // The file header, then one record at a time: each one's line comes
    // before the next record is written.
    stdin.write_all(&dora[..24]).unwrap();
    let mut at = 24;
    for kind in ["DHCPDISCOVER", "DHCPOFFER", "DHCPREQUEST", "DHCPACK"] {
        let end = at + 16 + caplen(at);
        stdin.write_all(&dora[at..end]).unwrap();
        stdin.flush().unwrap();
        at = end;
        let line = loop {
            let line = lines.recv_timeout(Duration::from_secs(20));
            let line = line.unwrap_or_else(|_| panic!("no line for the {kind} while it was live"));
            // (Skipping the anomaly lines under a packet's line.)
            if !line.trim_start().starts_with('!') {
                break line;
            }
        };
        assert!(line.contains(kind), "{kind}: {line}");
    }
    assert_eq!(at, dora.len());
    drop(stdin);
    let o = child.wait_with_output().unwrap();
    reading.join().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
}

/// `dhcplens decode -` (or a log from `-`) typed at a prompt: refused at
/// once, not waited on (`script` gives the command a terminal as its
/// standard input).
#[test]
fn a_terminal_on_stdin_is_refused_not_read() {
    let client = from_crate("../../examples/ack-lost/client.pcap");
    let log_for = format!("diagnose --log - '{client}'");
    for (command, what) in [
        ("decode -", "capture"),
        ("diagnose -", "capture"),
        ("explain -", "log"),
        (log_for.as_str(), "log"),
    ] {
        let line = format!("'{}' {command}", env!("CARGO_BIN_EXE_dhcplens"));
        let o = match Command::new("script")
            .args(["-qec", &line, "/dev/null"])
            .stdin(Stdio::null())
            .output()
        {
            Ok(o) => o,
            // util-linux's `script` is in every Debian (bsdutils is essential).
            Err(e) => panic!("cannot run script(1): {e}"),
        };
        let out = text(&o.stdout);
        assert!(
            out.contains(&format!("standard input is a terminal, not a {what}")),
            "{command}: {out}"
        );
        assert_eq!(o.status.code(), Some(2), "{command}: {out}");
    }
}

#[test]
fn colour_only_when_forced_and_never_with_no_color() {
    let o = run(&["--color", "always", "decode", &corpus(DORA)]);
    assert!(text(&o.stdout).contains('\x1b'));
    let o = bin()
        .args(["decode", &corpus(DORA)])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(!text(&o.stdout).contains('\x1b'));
    let o = bin()
        .args(["--color", "always", "decode", &corpus(DORA)])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(!text(&o.stdout).contains('\x1b'), "NO_COLOR wins");
}

#[test]
fn unknown_link_type_is_named() {
    let scratch = Scratch::new("cli");
    // A pcap of link type 105 (802.11) with one frame.
    let mut f = Vec::new();
    f.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    f.extend_from_slice(&[2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    f.extend_from_slice(&65535u32.to_le_bytes());
    f.extend_from_slice(&105u32.to_le_bytes());
    f.extend_from_slice(&[0; 8]);
    f.extend_from_slice(&4u32.to_le_bytes());
    f.extend_from_slice(&4u32.to_le_bytes());
    f.extend_from_slice(&[1, 2, 3, 4]);
    let p = tmp(&scratch, "wifi.pcap", &f);
    let o = run(&["decode", &p]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("link type 105"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn readme_documents_every_finding_code() {
    let readme =
        std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../README.md"))
            .unwrap();
    for c in diagnose::Code::ALL {
        assert!(
            readme.contains(&format!("| `{}` |", c.as_str())),
            "README lacks {}",
            c.as_str()
        );
    }
}

/// A path relative to this crate's directory, as an argument.
fn from_crate(rel: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join(rel)
        .to_string_lossy()
        .into_owned()
}

fn fixture(name: &str) -> String {
    from_crate(&format!("../logs/tests/fixtures/{name}"))
}

#[test]
fn explain_groups_causes_per_client() {
    let o = run(&["explain", &fixture("dhcpd-4.4-min-secs.log")]);
    assert_eq!(o.status.code(), Some(1));
    let out = text(&o.stdout);
    assert!(out.contains("02:00:00:00:0b:01"), "{out}");
    assert!(out.contains("min-secs-drop ×3"), "{out}");
    assert!(
        out.contains("configured min-secs value (2) is greater than secs field (0)"),
        "{out}"
    );
    assert!(out.contains("fix: Set `min-secs 0;`"), "{out}");
    // The 3.x phrasing, written by hand from dhcpd 3.0.6's source.
    let out = text(&run(&["explain", &fixture("dhcpd-3.0-handwritten.log")]).stdout);
    assert!(
        out.contains("0 secs < 2") && out.contains("min-secs-drop"),
        "{out}"
    );
}

/// A server's log with the same REQUEST ACKed again and again (the lab's
/// switch dropping the ACKs): no line says so, the run of them does.
#[test]
fn explain_finds_acks_the_client_asked_again_after() {
    let o = run(&["explain", &fixture("dhcpd-4.4-acks-lost.log")]);
    assert_eq!(o.status.code(), Some(1));
    let out = text(&o.stdout);
    assert!(
        out.contains("error   ack-ignored  (likely, lines 16, 19, 22)"),
        "{out}"
    );
    assert!(
        out.contains("DHCPACK on 10.0.0.100 to 02:00:00:25:02:01"),
        "{out}"
    );
    assert!(
        out.contains("ACKed the same REQUEST 3 times in 2.1 s"),
        "{out}"
    );
    assert!(out.contains("causes: ack-ignored (1)"), "{out}");
    let o = run(&["explain", "--json", &fixture("kea-2.2-acks-lost.log")]);
    assert_eq!(o.status.code(), Some(1));
    let d: serde_json::Value = serde_json::from_str(text(&o.stdout).trim()).unwrap();
    let runs = &d["clients"][0]["runs"];
    assert_eq!(runs[0]["cause"], "ack-ignored", "{d}");
    assert_eq!(runs[0]["lines"].as_array().unwrap().len(), 3, "{d}");
    // A healthy server log has none, and stays healthy.
    let o = run(&["explain", &example("healthy-dhcpd/dhcpd.log")]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stdout));
}

/// The client's capture lacks the ACKs; the server's log shows them sent:
/// lost on the way, for certain.
#[test]
fn a_client_capture_without_acks_and_a_server_log_with_them() {
    let o = run(&[
        "diagnose",
        "--json",
        &example("ack-lost/client.pcap"),
        "--log",
        &example("ack-lost/dnsmasq.log"),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let d: serde_json::Value = serde_json::from_str(text(&o.stdout).trim()).unwrap();
    assert_eq!(d["clients"][0]["outcome"], "no-ack", "{d}");
    let f = d["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "ack-ignored")
        .unwrap_or_else(|| panic!("{d}"));
    assert_eq!(f["severity"], "error", "{f}");
    assert_eq!(f["explains_failure"], true, "{f}");
    assert_eq!(f["confidence"], "high", "{f}");
    assert_eq!(f["log_lines"].as_array().unwrap().len(), 3, "{f}");
    assert!(
        f["explanation"]
            .as_str()
            .unwrap()
            .contains("lost between the server and the capture point"),
        "{f}"
    );
}

#[test]
fn explain_json_and_stdin() {
    let bytes = std::fs::read(fixture("kea-2.2-no-pools.log")).unwrap();
    let o = run_stdin(&["explain", "--json", "-"], &bytes);
    let d: serde_json::Value = serde_json::from_str(text(&o.stdout).trim()).unwrap();
    let causes: Vec<String> = d["clients"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| {
            c["events"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|e| e["cause"].as_str().map(str::to_string))
        })
        .collect();
    assert!(causes.iter().any(|c| c == "pool-exhausted"), "{causes:?}");
}

fn example(rel: &str) -> String {
    from_crate(&format!("../../examples/{rel}"))
}

/// Standard input is `<stdin>` in every header, message and JSON field,
/// never the `-` it was given as.
#[test]
fn stdin_is_named_stdin_everywhere() {
    let log = std::fs::read(example("min-secs/dhcpd.log")).unwrap();
    let o = run_stdin(&["explain", "-"], &log);
    assert!(
        text(&o.stdout).starts_with("== <stdin>: 21 lines"),
        "{}",
        text(&o.stdout)
    );
    let o = run_stdin(&["explain", "--json", "-"], &log);
    let d: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(d["log"], "<stdin>");

    let capture = std::fs::read(example("min-secs/client.pcap")).unwrap();
    let o = run_stdin(&["diagnose", "--json", "-"], &capture);
    let d: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(d["case"], "<stdin>", "{d}");
    assert_eq!(d["files"][0], "<stdin>", "{d}");

    // A log from stdin: in the case's logs, and in the file of every log line.
    let pcap = example("min-secs/client.pcap");
    let o = run_stdin(&["diagnose", "--json", &pcap, "--log", "-"], &log);
    let d: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(d["logs"], serde_json::json!(["<stdin>"]), "{d}");
    let files: Vec<&serde_json::Value> = d["findings"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["log_lines"].as_array().into_iter().flatten())
        .map(|l| &l["file"])
        .collect();
    assert!(
        !files.is_empty() && files.iter().all(|f| *f == "<stdin>"),
        "{d}"
    );
    let o = run_stdin(&["diagnose", &pcap, "--log", "-"], &log);
    let out = text(&o.stdout);
    assert!(out.contains("log <stdin>:13: DHCPDISCOVER"), "{out}");
    // Standard input is read once: not twice as a capture or a log.
    for args in [
        &["diagnose", "-", "-"][..],
        &["decode", "-", "-"],
        &["explain", "-", "-"],
    ] {
        let o = run_stdin(args, &capture);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(
            text(&o.stderr).contains("standard input (-) can be read only once"),
            "{args:?}: {}",
            text(&o.stderr)
        );
    }
    // Standard input cannot be read as both.
    let o = run_stdin(&["diagnose", "-", "--log", "-"], &capture);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("standard input cannot be both a capture and a --log"),
        "{}",
        text(&o.stderr)
    );

    // diff: the column header and the errors.
    let o = run_stdin(
        &["diff", "--", "-:1", &example("healthy-dhcpd/server.pcap:1")],
        &capture,
    );
    assert!(
        text(&o.stdout).contains(" <stdin>:1 "),
        "{}",
        text(&o.stdout)
    );
    let o = run_stdin(&["diff", "--", "-:99", &format!("{pcap}:1")], &capture);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("<stdin>: there is no frame 99"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn explain_refuses_what_is_not_a_log() {
    let scratch = Scratch::new("cli");
    let o = run(&["explain", &corpus(DORA)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("not a log"), "{}", text(&o.stderr));
    let f = tmp(
        &scratch,
        "prose.txt",
        b"Dear diary,\nnothing about DHCP here.\n",
    );
    let o = run(&["explain", &f]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("is it the right log?"),
        "{}",
        text(&o.stderr)
    );
}

/// Issue 6 safety: nothing is sent without an explicit way out, and the rate
/// limit cannot be switched off. (Both refusals come before any socket.)
#[test]
fn probing_needs_a_way_out_and_keeps_a_rate_limit() {
    let rom = example("min-secs/client.pcap");
    let rom = rom.as_str();
    for cmd in [
        &["probe"][..],
        &["replay", rom, "--frame", "1"],
        &["bisect", "--field", "secs=0..3"],
    ] {
        let o = run_sending(cmd);
        assert_eq!(o.status.code(), Some(2), "{cmd:?}: {}", text(&o.stderr));
        assert!(o.stdout.is_empty(), "{cmd:?}");
        let err = text(&o.stderr);
        assert!(
            err.contains("--iface") && err.contains("--server"),
            "{cmd:?}: {err}"
        );
    }
    let o = run_sending(&["probe", "-i", "dhcplens-none0", "--interval", "0ms"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("below 10ms"),
        "{}",
        text(&o.stderr)
    );
    let o = run_sending(&["probe", "-i", "dhcplens-none0", "--max-packets", "20000"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(o.stdout.is_empty(), "nothing sent: {}", text(&o.stdout));
}

/// Issue 4: the real captures of the corpus raise an error only where the
/// capture shows a failure; every other one is free of errors.
#[test]
fn corpus_captures_raise_errors_only_where_something_failed() {
    let failing: &[(&str, &str)] = &[
        ("net-dhcp/DHCP-NAK-SMALL.cap", "nak"),
        ("suricata-verify/dhcp-request-flood/test.pcap", "no-offer"),
        ("tcpdump/dhcp-rfc4388.pcap", "malformed-packet no-offer"),
        (
            "zeek/dhcp_bad_cookie_option_retention.pcap",
            "malformed-packet no-offer",
        ),
    ];
    let root = shared_corpus::dir();
    let mut files = Vec::new();
    shared_corpus::capture_files(&root, &mut files);
    assert!(
        files.len() >= 30,
        "{} captures under {}",
        files.len(),
        root.display()
    );
    for f in files {
        let rel = f
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let o = run(&["diagnose", "--json", f.to_str().unwrap()]);
        let d: serde_json::Value = serde_json::from_slice(&o.stdout)
            .unwrap_or_else(|e| panic!("{rel}: {e}: {}", text(&o.stderr)));
        let mut errors: Vec<&str> = d["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|x| x["severity"] == "error")
            .map(|x| x["code"].as_str().unwrap())
            .collect();
        errors.sort_unstable();
        errors.dedup();
        let expected = failing
            .iter()
            .find(|(n, _)| *n == rel)
            .map_or("", |(_, e)| *e);
        assert_eq!(errors.join(" "), expected, "{rel}");
    }
}

/// `tshark -r FILE -T fields ARGS` ([`lab::tshark_fields`]), split into
/// rows of fields.
fn tshark_rows(file: &str, args: &[&str]) -> Option<Vec<Vec<String>>> {
    let out = lab::tshark_fields(std::path::Path::new(file), args)?;
    Some(
        out.lines()
            .map(|l| l.split('\t').map(str::to_string).collect())
            .collect(),
    )
}

/// The catalogue entries that real captures of the corpus hold, found with
/// the severity they deserve, and each fact behind them checked by tshark:
/// B.11 chaddr ≠ Ethernet source, B.14 a reply under 300 bytes, B.16 a
/// reply over the client's option 57, B.19 the xid changing between OFFER
/// and REQUEST, D.24 a DECLINE, D.25 an OFFER a second late.
#[test]
fn corpus_captures_show_the_catalogue_entries_they_hold() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "suricata-verify/dhcp-request-flood/test.pcap",
            "chaddr-source-mismatch",
            "warning",
        ),
        (
            "zeek/dhcp_discover_param_req_and_client_id.pcap",
            "chaddr-source-mismatch",
            "warning",
        ),
        ("net-dhcp/DHCP-NAK-SMALL.cap", "reply-too-short", "warning"),
        ("net-dhcp/dhcpfo.pcapng", "reply-too-large", "warning"),
        (
            "net-dhcp/DHCP-DISCOVER-OFFER-REQUEST-ACK.cap",
            "xid-changed",
            "warning",
        ),
        ("zeek/dhcp.pcap", "address-declined", "warning"),
        ("tcpdump/dhcp-rfc4388.pcap", "slow-offer", "info"),
    ];
    for (rel, code, severity) in cases {
        let file = corpus(rel);
        let o = run(&["diagnose", "--json", &file]);
        let d: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let f = d["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["code"] == *code)
            .unwrap_or_else(|| panic!("{rel}: no {code}: {}", d["findings"]));
        assert_eq!(f["severity"], *severity, "{rel}: {f}");
        assert!(!f["frames"].as_array().unwrap().is_empty(), "{rel}: {f}");

        // The second opinion, on the packets themselves.
        let fields: &[&str] = match *code {
            "chaddr-source-mismatch" => &["-e", "eth.src", "-e", "dhcp.hw.mac_addr"],
            "reply-too-short" | "reply-too-large" => &[
                "-e",
                "dhcp.option.dhcp",
                "-e",
                "udp.length",
                "-e",
                "dhcp.option.dhcp_max_message_size",
            ],
            _ => &[
                "-e",
                "dhcp.option.dhcp",
                "-e",
                "dhcp.id",
                "-e",
                "frame.time_relative",
            ],
        };
        let mut args = vec!["-Y", "dhcp"];
        args.extend(fields);
        let Some(rows) = tshark_rows(&file, &args) else {
            return;
        };
        let kind = |r: &Vec<String>, k: &str| r[0] == k;
        let seen = match *code {
            "chaddr-source-mismatch" => rows.iter().any(|r| r[0] != r[1]),
            // A DHCP message of udp.length - 8 bytes.
            "reply-too-short" => rows.iter().any(|r| {
                ["2", "5", "6"].contains(&r[0].as_str()) && r[1].parse::<u32>().unwrap() - 8 < 300
            }),
            // Over the client's option 57, or 576 bytes without one
            // (RFC 2131 §2), less 28 of IP and UDP headers.
            "reply-too-large" => {
                let limit: u32 = rows
                    .iter()
                    .find_map(|r| r[2].parse::<u32>().ok())
                    .unwrap_or(576);
                rows.iter()
                    .any(|r| r[0] == "5" && r[1].parse::<u32>().unwrap() - 8 > limit - 28)
            }
            "xid-changed" => {
                let xid = |k| rows.iter().find(|r| kind(r, k)).map(|r| r[1].clone());
                xid("2").is_some() && xid("2") != xid("3")
            }
            "address-declined" => rows.iter().any(|r| kind(r, "4")),
            _ => {
                let at = |k| {
                    rows.iter()
                        .find(|r| kind(r, k))
                        .map(|r| r[2].parse::<f64>().unwrap())
                };
                at("2").unwrap() - at("1").unwrap() >= 1.0
            }
        };
        assert!(
            seen,
            "{rel}: tshark does not see what {code} says: {rows:?}"
        );
    }
}

#[test]
fn serve_refuses_bad_subnets_lease_times_and_missing_interfaces_with_exit_2() {
    for (args, says) in [
        (
            vec!["--subnet", "10.0.0.0/24"],
            "no range=FIRST-LAST: the server would have nothing to lease",
        ),
        (
            vec!["--subnet", "10.0.0.0/24,range=10.0.1.1-10.0.1.9"],
            "10.0.1.1 is not in 10.0.0.0/24",
        ),
        (
            vec![
                "--subnet",
                "10.0.0.0/24,range=10.0.0.1-10.0.0.9",
                "--lease",
                "0",
            ],
            "a lease time from 1 s to 136 years",
        ),
        (
            vec![
                "--subnet",
                "10.0.0.0/24,range=10.0.0.1-10.0.0.9",
                "--lease",
                "3w",
            ],
            "a number of s, m, h or d",
        ),
        // No such interface: refused before any socket is opened.
        (
            vec!["--subnet", "10.0.0.0/24,range=10.0.0.1-10.0.0.9"],
            "cannot serve on dhcplens-none0",
        ),
    ] {
        let mut all = vec!["serve", "-i", "dhcplens-none0"];
        all.extend(args.iter().copied());
        let o = run_sending(&all);
        assert_eq!(o.status.code(), Some(2), "{all:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(says), "{all:?}: {err}");
        assert!(o.stdout.is_empty(), "{all:?}");
    }
}

/// `2>&1 | head -1` closes stderr while warnings are still to come: they
/// are lost, without a panic, and the exit code is the command's own.
#[test]
fn a_closed_stderr_is_no_panic() {
    let scratch = Scratch::new("closed-stderr");
    let garbage = tmp(&scratch, "garbage.pcap", &[0x5a; 1024]);
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let o = bin()
        .args(["decode", &garbage, &garbage])
        .stdout(Stdio::null())
        .stderr(writer)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{o:?}");
}

/// `--html` writes its page whatever becomes of standard output, and never
/// over an input or another capture (the usual slip: `--html` took the
/// capture that followed it as its file).
#[test]
fn the_html_page_is_written_and_never_over_a_capture() {
    let scratch = Scratch::new("html-guard");
    let case = scratch.path().join("case");
    std::fs::create_dir(&case).unwrap();
    let capture = case.join("client.pcap");
    std::fs::copy(example("min-secs/client.pcap"), &capture).unwrap();
    let original = std::fs::read(&capture).unwrap();
    let capture = capture.to_string_lossy().into_owned();
    let case = case.to_string_lossy().into_owned();
    let other = tmp(&scratch, "other.pcap", &original);
    // A capture kept compressed, as `gzip` writes it (gzip is essential on
    // Debian).
    let gzipped = Command::new("gzip")
        .args(["-c", &capture])
        .output()
        .unwrap();
    assert!(gzipped.status.success());
    let gzipped_path = tmp(&scratch, "other.pcap.gz", &gzipped.stdout);
    for (html, inputs, what) in [
        (&capture, vec![&case], "an input"),
        (&capture, vec![&capture], "an input"),
        (&other, vec![&case], "a capture"),
        (&gzipped_path, vec![&case], "a gzip-compressed file"),
    ] {
        let mut args = vec!["diagnose", "--html", html];
        args.extend(inputs.iter().map(|i| i.as_str()));
        let before = std::fs::read(html).unwrap();
        let o = run(&args);
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(what), "{err}");
        assert!(err.contains("which the page would overwrite"), "{err}");
        assert!(o.stdout.is_empty(), "{args:?}");
        assert_eq!(std::fs::read(html).unwrap(), before, "{args:?}");
    }

    // Standard output closed at once: the page is still written, and the
    // exit code is still the diagnosis's (the capture's client failed),
    // whether the text met the closed pipe as it went (a hundred cases,
    // more than the output's buffer) or only at the end (one).
    for cases in [1, 100] {
        let page = scratch.path().join(format!("report-{cases}.html"));
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let o = bin()
            .args(["diagnose", "--html", &page.to_string_lossy()])
            .args(std::iter::repeat_n(&case, cases))
            .stdout(writer)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
        let html = std::fs::read_to_string(&page).unwrap();
        assert!(html.contains("no-offer"), "{html:.300}");
    }

    // A page sent into a FIFO (or /dev/stdout) is not read first to see
    // whether it is a capture: that would wait for a writer forever.
    let fifo = scratch.path().join("page.fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
    };
    let mut child = bin()
        .args(["diagnose", "--html", &fifo.to_string_lossy(), &case])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            // Let the reader go.
            let _ = std::fs::OpenOptions::new().write(true).open(&fifo);
            panic!("diagnose --html FIFO hung");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(1));
    assert!(reader.join().unwrap().contains("no-offer"));
}

/// A log line (or a file name) carrying terminal controls reaches the
/// terminal with them written out: no retitling, clearing or recolouring by
/// whoever wrote a host name. Colour, when on, is still dhcplens's own.
#[test]
fn controls_from_inputs_never_reach_the_terminal() {
    let scratch = Scratch::new("controls");
    let hostile = "(x\u{1b}]0;pwned\u{7}\u{1b}[2J\u{9b}1m)";
    let line = format!(
        "Nov 22 04:35:14 vm dhcpd[1]: DHCPDISCOVER from 02:00:00:00:aa:01 {hostile} via eth0: network 10.0.0.0/24: no free leases\n"
    );
    let log = tmp(&scratch, "esc\u{1b}[31m.log", line.as_bytes());
    let min_secs = std::fs::read_to_string(example("min-secs/dhcpd.log")).unwrap();
    let joined = min_secs.replace(
        "from 02:00:00:04:02:01 via",
        &format!("from 02:00:00:04:02:01 {hostile} via"),
    );
    assert_ne!(joined, min_secs);
    let joined = tmp(&scratch, "joined.log", joined.as_bytes());
    let capture = example("min-secs/client.pcap");
    for color in ["never", "always"] {
        for args in [
            vec!["explain", &log],
            vec!["explain", "--all", &log],
            vec!["diagnose", &capture, "--log", &joined],
            vec!["diagnose", &capture, "--log", &log],
        ] {
            let o = run(&[&["--color", color][..], &args].concat());
            for (stream, bytes) in [("stdout", &o.stdout), ("stderr", &o.stderr)] {
                let t = text(bytes);
                // What remains of ESC is dhcplens's own SGR colour.
                let foreign = t.match_indices('\u{1b}').any(|(i, _)| {
                    !t[i..].starts_with("\u{1b}[")
                        || t[i..].starts_with("\u{1b}[2J")
                        || t[i..].starts_with("\u{1b}[31m.")
                });
                assert!(
                    !foreign && !t.contains('\u{7}') && !t.contains('\u{9b}'),
                    "{color} {args:?} {stream}: {t:?}"
                );
            }
            let out = text(&o.stdout);
            assert!(
                out.contains("\\x1b]0;pwned\\x07\\x1b[2J\\u{9b}1m"),
                "{color} {args:?}: {out}"
            );
        }
    }
}

/// `decode -v` shows `sname` and `file` as their bytes are: a byte that is
/// not UTF-8 as `\xNN` (not as U+FFFD's three), and a quote escaped so that
/// the quoted text ends where it seems to.
#[test]
fn sname_and_file_are_shown_byte_for_byte() {
    let scratch = Scratch::new("sname-bytes");
    let mut cap = std::fs::read(corpus(DORA)).unwrap();
    // The first frame's DHCP message starts after the pcap header (24), the
    // record's (16), Ethernet (14), IPv4 (20) and UDP (8).
    let dhcp = 24 + 16 + 14 + 20 + 8;
    assert_eq!(&cap[dhcp + 236..dhcp + 240], [99, 130, 83, 99]);
    cap[dhcp + 44..dhcp + 49].copy_from_slice(&[0x34, 1, 3, 0xff, 0]);
    cap[dhcp + 108..dhcp + 119].copy_from_slice(b"say \"hi\"\\\n\0");
    let p = tmp(&scratch, "sname.pcap", &cap);
    // `decode --json`'s first packet.
    let first_packet = |p: &str| -> serde_json::Value {
        let o = run(&["decode", "--json", p]);
        serde_json::from_str(text(&o.stdout).lines().next().unwrap()).unwrap()
    };
    let out = text(&run(&["decode", "-v", &p]).stdout);
    assert!(
        out.contains(r#"sname "4\x01\x03\xff"  file "say \x22hi\x22\x5c\x0a""#),
        "{out}"
    );
    // JSON strings cannot carry the stray byte: its hex comes beside them,
    // only where the text is not UTF-8.
    let first = first_packet(&p);
    assert_eq!(first["sname"], "4\u{1}\u{3}\u{fffd}");
    assert_eq!(first["sname_hex"], "340103ff");
    assert_eq!(first["file"], "say \"hi\"\\\n");
    assert!(first.get("file_hex").is_none(), "{first}");
    // So for a text option: option 50 (at frame offset 294) made option 12.
    let mut cap = std::fs::read(corpus(DORA)).unwrap();
    let at = 24 + 16 + 294;
    assert_eq!(&cap[at..at + 2], [50, 4]);
    cap[at..at + 6].copy_from_slice(&[12, 4, b'a', b'b', 0xff, b'c']);
    let p = tmp(&scratch, "host-name.pcap", &cap);
    let first = first_packet(&p);
    let options = first["options"].as_array().unwrap();
    let host = options.iter().find(|o| o["code"] == 12).unwrap();
    assert_eq!(
        (&host["value"], &host["hex"]),
        (&"ab\u{fffd}c".into(), &"6162ff63".into())
    );
    assert!(options
        .iter()
        .all(|o| o["code"] == 12 || o.get("hex").is_none()));
    // And for text inside a structure: option 82's subscriber-id (6).
    cap[at..at + 6].copy_from_slice(&[82, 4, 6, 2, 0xff, b'c']);
    let p = tmp(&scratch, "subscriber-id.pcap", &cap);
    let first = first_packet(&p);
    let options = first["options"].as_array().unwrap();
    let agent = options.iter().find(|o| o["code"] == 82).unwrap();
    assert_eq!(agent["value"][0]["value"], "\u{fffd}c");
    assert_eq!(agent["hex"], "0602ff63");

    // Names (options 119 and 81) are their bytes in JSON, not the text
    // display's `\xNN` escapes; a vendor class (124) that is not UTF-8 has
    // its hex. From option 61 on (byte 243 of the message, 29 bytes to its
    // end): 119 "é", 81 "é" (ASCII form), 124 for enterprise 4491 with a
    // class of one byte 0xff, END.
    let mut cap = std::fs::read(corpus(DORA)).unwrap();
    let at = dhcp + 243;
    assert_eq!(&cap[at..at + 2], [61, 7]);
    let options = [
        &[119, 4, 2, 0xc3, 0xa9, 0][..],
        &[81, 5, 0, 0, 0, 0xc3, 0xa9],
        &[124, 7, 0, 0, 0x11, 0x8b, 2, 1, 0xff],
        &[255, 0, 0, 0, 0, 0, 0],
    ]
    .concat();
    assert_eq!(options.len(), 29);
    cap[at..at + 29].copy_from_slice(&options);
    let p = tmp(&scratch, "names.pcap", &cap);
    let first = first_packet(&p);
    let option = |code: u8| {
        first["options"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["code"] == code)
            .unwrap()
            .clone()
    };
    assert_eq!(option(119)["value"], serde_json::json!(["é"]));
    assert!(option(119).get("hex").is_none());
    assert_eq!(option(81)["value"]["name"], "é");
    assert_eq!(option(124)["value"][0]["value"][0], "\u{fffd}");
    assert_eq!(option(124)["hex"], "0000118b0201ff");
    let out = text(&run(&["decode", "-v", &p]).stdout);
    // The text display writes the bytes out.
    assert!(out.contains(r#"domain-search (4): \xc3\xa9"#), "{out}");
    assert!(
        out.contains(r#"client-fqdn (5): "\xc3\xa9" flags"#),
        "{out}"
    );
}

/// A capture whose clock stepped back: `diagnose` says where, and the
/// capture's first time is its earliest, not its first frame's.
#[test]
fn a_clock_stepping_back_is_said_and_first_is_the_earliest() {
    let scratch = Scratch::new("clock-back");
    let mut cap = std::fs::read(corpus(DORA)).unwrap();
    // Frame 3's seconds, 100 s before frame 1's.
    let mut at = 24;
    for _ in 0..2 {
        at += 16 + u32::from_le_bytes(cap[at + 8..at + 12].try_into().unwrap()) as usize;
    }
    let first = u32::from_le_bytes(cap[24..28].try_into().unwrap());
    cap[at..at + 4].copy_from_slice(&(first - 100).to_le_bytes());
    let p = tmp(&scratch, "back.pcap", &cap);
    let o = run(&["diagnose", "--json", &p]);
    let err = text(&o.stderr);
    assert!(
        err.contains("back.pcap: frame 3 was taken 99.") && err.contains("stepped back"),
        "{err}"
    );
    let d: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let earliest = capture::Timestamp(i64::from(first - 100) * 1_000_000_000);
    assert!(
        d["stats"]["first"]
            .as_str()
            .unwrap()
            .starts_with(&earliest.rfc3339().to_string()[..19]),
        "{}",
        d["stats"]
    );
}

/// The DORA capture as a little-endian pcapng with nanosecond times, each
/// frame's time given by `ns` (frame number, time in the pcap), and an
/// `if_tsoffset` of `offset_s`; with the byte offset of each frame's block.
fn dora_pcapng(ns: impl Fn(u64, i64) -> u64, offset_s: i64) -> (Vec<u8>, Vec<usize>) {
    let mut reader = capture::open(corpus(DORA)).unwrap();
    let block = |out: &mut Vec<u8>, kind: u32, body: &[u8]| {
        let len = (12 + body.len()) as u32;
        out.extend_from_slice(&kind.to_le_bytes());
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(&len.to_le_bytes());
    };
    let mut f = Vec::new();
    let mut shb = 0x1a2b_3c4du32.to_le_bytes().to_vec();
    shb.extend_from_slice(&[1, 0, 0, 0]);
    shb.extend_from_slice(&(-1i64).to_le_bytes());
    block(&mut f, 0x0a0d_0d0a, &shb);
    // Ethernet; if_tsresol 9 (nanoseconds), if_tsoffset, end of options.
    let mut idb = vec![1, 0, 0, 0, 0, 0, 0, 0, 9, 0, 1, 0, 9, 0, 0, 0, 14, 0, 8, 0];
    idb.extend_from_slice(&offset_s.to_le_bytes());
    idb.extend_from_slice(&[0, 0, 0, 0]);
    block(&mut f, 1, &idb);
    let mut at = Vec::new();
    while let Some(p) = reader.next_packet().unwrap() {
        at.push(f.len());
        let ns = ns(p.number, p.timestamp.0);
        let mut epb = 0u32.to_le_bytes().to_vec();
        epb.extend_from_slice(&((ns >> 32) as u32).to_le_bytes());
        epb.extend_from_slice(&(ns as u32).to_le_bytes());
        epb.extend_from_slice(&(p.data.len() as u32).to_le_bytes());
        epb.extend_from_slice(&(p.orig_len as u32).to_le_bytes());
        epb.extend_from_slice(p.data);
        epb.resize(epb.len().next_multiple_of(4), 0);
        block(&mut f, 6, &epb);
    }
    (f, at)
}

/// A pcapng frame whose time is past what a capture may carry (here the
/// 64-bit maximum of nanoseconds): `decode` and `diagnose` say which
/// capture, how many of its DHCP packets, which frame first and where,
/// that the times were clamped, and exit 1; the JSON report lists it in
/// `input_warnings` (`diff --mac` says it too). Two captures clamped at the
/// two limits are analysed (their times are apart by less than `i64::MAX`),
/// each named with its own.
#[test]
fn a_time_out_of_range_is_said_with_its_frame_and_offset() {
    let scratch = Scratch::new("time-clamped");
    // The DISCOVER and OFFER (frames 1 and 2) far in the future.
    let (far, at) = dora_pcapng(|n, t| if n <= 2 { u64::MAX } else { t as u64 }, 0);
    let far = tmp(&scratch, "far.pcapng", &far);
    let said = format!(
        "far.pcapng: 2 DHCP packet(s) carry a time outside 1823-11-12 to 2116-02-20 (first: frame 1, at byte offset {})",
        at[0]
    );
    for args in [["decode", &far], ["diagnose", &far]] {
        let o = run(&args);
        let err = text(&o.stderr);
        assert!(err.contains(&said), "{args:?}: {err}");
        assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
    }
    let out = text(&run(&["decode", &far]).stdout);
    assert!(out.contains("REQUEST"), "{out}");
    let o = run(&["diagnose", "--json", &far]);
    let d: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    // (Frame 3, back in 2009, is also said to be taken before frame 2.)
    let w = d["input_warnings"].as_array().unwrap();
    let clamped: Vec<String> = (w.iter())
        .filter(|w| w["message"].as_str().unwrap().contains("carry a time"))
        .map(warning_line)
        .collect();
    assert_eq!(clamped.len(), 1, "{w:?}");
    assert!(clamped[0].starts_with(&format!("{far}: 2 DHCP")), "{w:?}");
    assert!(clamped[0].contains(&said), "{w:?}");
    assert_eq!(d["input_problems"], serde_json::json!([]));
    // `diff --mac` reads the captures as `diagnose` does, and says so too.
    let o = run(&[
        "diff",
        &far,
        "--mac",
        "00:0b:82:01:fc:42",
        "--mac",
        "02:00:00:00:00:01",
    ]);
    assert!(text(&o.stderr).contains(&said), "{}", text(&o.stderr));
    // …and its JSON, as `diagnose --json`'s does (here with one client
    // missing: the document with that side null).
    let o = run(&[
        "diff",
        "--json",
        &far,
        "--mac",
        "00:0b:82:01:fc:42",
        "--mac",
        "02:00:00:00:00:01",
    ]);
    let d: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(d["right"], serde_json::Value::Null, "{d}");
    assert_eq!(d["input_problems"], serde_json::json!([]), "{d}");
    let w = d["input_warnings"].as_array().unwrap();
    assert!(
        w.iter().any(|w| w["file"] == far.as_str()
            && w["message"]
                .as_str()
                .unwrap()
                .starts_with("2 DHCP packet(s) carry a time")),
        "{d}"
    );

    // Every frame 2^40 s before 1970 (if_tsoffset): at the earliest limit.
    let (early, _) = dora_pcapng(|_, t| t as u64, -(1 << 40));
    let early = tmp(&scratch, "early.pcapng", &early);
    for keep in [false, true] {
        let mut args = vec!["diagnose", &far, &early];
        if keep {
            args.push("--keep-clocks");
        }
        let o = run(&args);
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains("far.pcapng: 2 DHCP packet(s)"), "{err}");
        assert!(err.contains("early.pcapng: 4 DHCP packet(s)"), "{err}");
    }
}

/// A pcapng Simple Packet Block has no time: its packet is given the time
/// of the one before it and that is said once per capture, not taken as
/// 1970 (a clock that stepped back 30 years, a reply before its request).
#[test]
fn a_packet_without_a_time_borrows_the_one_before_and_is_said() {
    let scratch = Scratch::new("spb-time");
    let (mut f, at) = dora_pcapng(|_, t| t as u64, 0);
    // The OFFER (frame 2) as a Simple Packet Block: original length, data.
    let mut reader = capture::open(corpus(DORA)).unwrap();
    let _ = reader.next_packet().unwrap();
    let offer = reader.next_packet().unwrap().unwrap();
    let mut spb = (offer.orig_len as u32).to_le_bytes().to_vec();
    spb.extend_from_slice(offer.data);
    spb.resize(spb.len().next_multiple_of(4), 0);
    let len = (12 + spb.len()) as u32;
    let mut block = 3u32.to_le_bytes().to_vec();
    block.extend_from_slice(&len.to_le_bytes());
    block.extend_from_slice(&spb);
    block.extend_from_slice(&len.to_le_bytes());
    f.splice(at[1]..at[2], block);
    let p = tmp(&scratch, "spb.pcapng", &f);
    let said =
        "spb.pcapng: 1 DHCP packet(s) in Simple Packet Blocks carry no time (first: frame 2)";
    let o = run(&["diagnose", "--json", &p]);
    let err = text(&o.stderr);
    assert!(err.contains(said), "{err}");
    assert!(!err.contains("stepped back"), "{err}");
    // As the capture with the OFFER's own time: said, not a problem.
    let whole = tmp(&scratch, "epb.pcapng", &dora_pcapng(|_, t| t as u64, 0).0);
    let code = run(&["diagnose", &whole]).status.code();
    assert_eq!(o.status.code(), code, "{err}");
    let d: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(
        d["stats"]["first"].as_str().unwrap().starts_with("2004-"),
        "{}",
        d["stats"]
    );
    let w = d["input_warnings"].as_array().unwrap();
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!(w[0]["file"], p.as_str(), "{w:?}");
    let message = w[0]["message"].as_str().unwrap();
    assert!(message.starts_with(&said["spb.pcapng: ".len()..]), "{w:?}");
    let o = run(&["decode", &p]);
    assert!(text(&o.stderr).contains(said), "{}", text(&o.stderr));
    assert!(
        !text(&o.stdout).contains("00:00:00."),
        "{}",
        text(&o.stdout)
    );
}

/// A value of the right length that does not parse as its type (a
/// classless route with a /33) is an anomaly, and `decode` exits 1.
#[test]
fn a_structured_option_that_does_not_parse_is_an_anomaly() {
    let scratch = Scratch::new("bad-121");
    let mut cap = std::fs::read(corpus(DORA)).unwrap();
    let options = 24 + 16 + 14 + 20 + 8 + 240;
    // 53 1 1, then option 121 in place of the client identifier.
    assert_eq!(&cap[options..options + 3], [53, 1, 1]);
    let route = [121, 5, 33, 10, 0, 0, 1, 255, 0, 0, 0];
    cap[options + 3..options + 3 + route.len()].copy_from_slice(&route);
    let p = tmp(&scratch, "bad-121.pcap", &cap);
    let o = run(&["decode", &p]);
    let out = text(&o.stdout);
    assert!(out.contains("option 121: prefix length 33"), "{out}");
    assert_eq!(o.status.code(), Some(1), "{out}");
    let o = run(&["decode", "--json", &p]);
    assert!(
        text(&o.stdout).contains("\"option-value-invalid\""),
        "{}",
        text(&o.stdout)
    );
    // A repeated option 53 is its own anomaly, not also one 2-byte value.
    let mut twice = std::fs::read(corpus(DORA)).unwrap();
    twice[options + 3..options + 6].copy_from_slice(&[53, 1, 3]);
    let p = tmp(&scratch, "53-twice.pcap", &twice);
    let out = text(&run(&["decode", &p]).stdout);
    assert!(out.contains("appears 2 times"), "{out}");
    assert!(!out.contains("option 53: value is"), "{out}");
}

/// Logs that cannot be read are in the JSON too: `explain --json` writes
/// each its document with its `error`, and `diagnose --json` lists them in
/// `input_problems`, as it lists captures.
#[test]
fn unreadable_logs_are_in_the_json_reports() {
    let scratch = Scratch::new("bad-logs");
    let binary = tmp(&scratch, "binary.log", b"\x00\x01\x02 not text\n");
    let missing = scratch
        .path()
        .join("missing.log")
        .to_string_lossy()
        .into_owned();
    let good = from_crate("../../examples/min-secs/dhcpd.log");
    let o = run(&["explain", "--json", &good, &binary, &missing]);
    assert_eq!(o.status.code(), Some(2));
    let docs: Vec<serde_json::Value> = text(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(docs.len(), 3, "{docs:?}");
    assert!(docs[0].get("error").is_none(), "{}", docs[0]);
    assert_eq!(docs[1]["log"], binary.as_str());
    assert!(
        docs[1]["error"]
            .as_str()
            .unwrap()
            .starts_with("not a log: it holds binary data"),
        "{}",
        docs[1]
    );
    assert_eq!(docs[2]["log"], missing.as_str());
    assert!(
        docs[2]["error"]
            .as_str()
            .unwrap()
            .starts_with("cannot open"),
        "{}",
        docs[2]
    );

    let pcap = from_crate("../../examples/min-secs/server.pcap");
    let o = run(&[
        "diagnose", "--json", "--log", &binary, "--log", &missing, &pcap,
    ]);
    assert_eq!(o.status.code(), Some(2));
    let d: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let files: Vec<&str> = d["input_problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["file"].as_str().unwrap())
        .collect();
    assert_eq!(
        files,
        [binary.as_str(), missing.as_str()],
        "{}",
        d["input_problems"]
    );
}

/// A file name is bytes: a capture and a log whose names are not UTF-8 are
/// read, given by name or found in a directory, and named with U+FFFD.
#[test]
fn files_whose_names_are_not_utf8_are_read() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let scratch = Scratch::new("latin1");
    let dir = scratch.path().join("case");
    std::fs::create_dir(&dir).unwrap();
    let capture = dir.join(OsStr::from_bytes(b"caf\xe9.pcap"));
    let log = dir.join(OsStr::from_bytes(b"caf\xe9.log"));
    std::fs::copy(example("min-secs/client.pcap"), &capture).unwrap();
    std::fs::copy(example("min-secs/dhcpd.log"), &log).unwrap();
    let shown = |p: &std::path::Path| p.to_string_lossy().into_owned();
    let (capture_name, log_name) = (shown(&capture), shown(&log));
    assert!(capture_name.ends_with("caf\u{FFFD}.pcap"), "{capture_name}");
    let run_os = |args: &[&OsStr]| bin().args(args).output().unwrap();

    let o = run_os(&["decode".as_ref(), capture.as_os_str()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(text(&o.stdout).lines().count(), 7);
    let o = run_os(&["decode".as_ref(), "--json".as_ref(), dir.as_os_str()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let first: serde_json::Value =
        serde_json::from_str(text(&o.stdout).lines().next().unwrap()).unwrap();
    assert_eq!(first["capture"], capture_name.as_str(), "{first}");

    // Given by name, with --log; and as a directory holding both.
    let html = scratch.path().join(OsStr::from_bytes(b"caf\xe9.html"));
    let by_name = run_os(&[
        "diagnose".as_ref(),
        "--json".as_ref(),
        capture.as_os_str(),
        "--log".as_ref(),
        log.as_os_str(),
        "--html".as_ref(),
        html.as_os_str(),
    ]);
    let in_dir = run_os(&["diagnose".as_ref(), "--json".as_ref(), dir.as_os_str()]);
    for o in [by_name, in_dir] {
        assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
        let d: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(d["files"], serde_json::json!([capture_name]), "{d}");
        assert_eq!(d["logs"], serde_json::json!([log_name]), "{d}");
        let f = d["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["code"] == "min-secs-drop")
            .unwrap_or_else(|| panic!("{d}"));
        assert_eq!(f["log_lines"][0]["file"], "caf\u{FFFD}.log", "{f}");
    }
    // The page's packets were read again from the capture.
    let page = std::fs::read_to_string(&html).unwrap();
    let packets = &page[page.find("id=\"packets\">").unwrap()..];
    assert!(packets.contains("DHCPDISCOVER"), "{packets:.200}");

    // A request of it as CAPTURE:FRAME (split at the last `:`), named in
    // the comparison as the messages name the capture.
    let frame = |n: &str| {
        let mut r = capture.as_os_str().to_owned();
        r.push(n);
        r
    };
    let o = run_os(&["diff".as_ref(), &frame(":1"), &frame(":4")]);
    let out = text(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    assert!(out.contains(&format!("{capture_name}:4")), "{out}");
    assert!(out.contains("secs"), "{out}");
    // And two of its clients, whose requests are read again from it.
    let o = run_os(&[
        "diff".as_ref(),
        "--json".as_ref(),
        capture.as_os_str(),
        "--mac".as_ref(),
        "02:00:00:04:02:01".as_ref(),
        "--mac".as_ref(),
        "02:00:00:04:03:01".as_ref(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    let d: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let fields: Vec<&str> = (d["requests"][0]["differences"].as_array())
        .unwrap_or_else(|| panic!("{d}"))
        .iter()
        .map(|x| x["field"].as_str().unwrap())
        .collect();
    assert!(fields.iter().any(|f| f.starts_with("option 60")), "{d}");
    // The steps' frames refer to `files` by index, as in `diagnose --json`.
    assert_eq!(d["files"], serde_json::json!([capture_name]), "{d}");
    assert_eq!(d["left"]["exchanges"][0]["steps"][0]["frame"]["file"], 0);
    let o = run_os(&["diff".as_ref(), &frame(":1"), &frame(":99")]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains(&capture_name),
        "{}",
        text(&o.stderr)
    );

    let o = run_os(&["explain".as_ref(), log.as_os_str()]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(
        out.starts_with(&format!("== {log_name}: 21 lines")),
        "{out}"
    );
    assert!(out.contains("min-secs-drop"), "{out}");
}

/// A pcap of Ethernet frames, each a DHCP message in UDP from `src` to `dst`
/// sent by `mac`, a millisecond apart.
fn dhcp_pcap(frames: &[(std::net::Ipv4Addr, std::net::Ipv4Addr, [u8; 6], Vec<u8>)]) -> Vec<u8> {
    let mut w =
        capture::write::PcapWriter::new(Vec::new(), wire::LinkType::Ethernet, 65535).unwrap();
    let t = 1_700_000_000_000_000_000;
    for (i, (src, dst, mac, message)) in frames.iter().enumerate() {
        // A client's request from 68, a relayed one from the relay's 67.
        let (sport, dport) = match message[0] {
            1 if src.is_unspecified() => (68, 67),
            1 => (67, 67),
            _ => (67, 68),
        };
        let mut u = wire::frame::UdpFrame::new((*src, sport), (*dst, dport), message);
        u.src_mac = *mac;
        let f = u.ethernet_frame();
        w.write(t + i as i64 * 1_000_000, &f, f.len()).unwrap();
    }
    w.into_inner()
}

/// A 247-byte DISCOVER without END against the same one padded to 300 and
/// ended: the same parts, but some relays and clients discard the first
/// (RFC 1542 §2.1). `diff` used to find no differences.
#[test]
fn diff_counts_a_short_message_and_a_missing_end() {
    use std::net::Ipv4Addr;
    use wire::dhcp::{code, Message};
    let scratch = Scratch::new("diff-short");
    let mac = [2, 0, 0, 0, 0, 0x0a];
    let mut m = Message::new(wire::Op::BootRequest, 0x11, &mac);
    m.set_option(code::DHCP_MESSAGE_TYPE, vec![1]);
    m.set_option(code::PARAMETER_REQUEST_LIST, vec![1, 3]);
    let whole = m.encode(300);
    m.options.retain(|o| o.code != code::END);
    let short = m.encode(0);
    assert_eq!(short.len(), 247);
    let (any, all) = (Ipv4Addr::UNSPECIFIED, Ipv4Addr::BROADCAST);
    let pcap = tmp(
        &scratch,
        "short.pcap",
        &dhcp_pcap(&[(any, all, mac, short), (any, all, mac, whole)]),
    );
    let o = run(&["diff", "--json", &format!("{pcap}:1"), &format!("{pcap}:2")]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    let d: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let found: Vec<(&str, &str, &str)> = (d.as_array().unwrap().iter())
        .map(|x| {
            (
                x["field"].as_str().unwrap(),
                x["left"].as_str().unwrap(),
                x["right"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            ("END option", "missing", "present"),
            ("message length", "247 bytes", "300 bytes"),
        ],
        "{d}"
    );
    let out = text(&run(&["diff", &format!("{pcap}:1"), &format!("{pcap}:2")]).stdout);
    assert!(out.contains("300-byte BOOTP minimum"), "{out}");
    // The same frame twice: nothing.
    let o = run(&["diff", &format!("{pcap}:1"), &format!("{pcap}:1")]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stdout));
}

/// Two clients behind two relays: the client's capture of the first, and
/// the server's of both, relayed. `diff --mac` compares the copies the
/// server received (one capture, one hop), and says which; it used to take
/// the first client's own copy and report the relay's giaddr, hops and
/// option 82 as differences.
#[test]
fn diff_of_two_clients_compares_copies_at_the_same_hop() {
    use std::net::Ipv4Addr;
    use wire::dhcp::{code, Message};
    let scratch = Scratch::new("diff-hops");
    let (a, b) = ([2, 0, 0, 0x0b, 3, 1], [2, 0, 0, 0x0b, 4, 1]);
    let discover = |mac: [u8; 6], xid| {
        let mut m = Message::new(wire::Op::BootRequest, xid, &mac);
        m.set_option(code::DHCP_MESSAGE_TYPE, vec![1]);
        m
    };
    let relayed = |mut m: Message<'static>, giaddr: Ipv4Addr, port: &[u8]| {
        m.giaddr = giaddr;
        m.hops = 1;
        let mut o82 = vec![1, port.len() as u8];
        o82.extend_from_slice(port);
        let end = m.options.len() - 1;
        m.options.insert(
            end,
            wire::dhcp::RawOption::new(code::RELAY_AGENT_INFORMATION, o82),
        );
        m.encode(300)
    };
    let (relay1, relay2) = (Ipv4Addr::new(10, 1, 0, 1), Ipv4Addr::new(10, 2, 0, 1));
    let (server, any, all) = (
        Ipv4Addr::new(10, 0, 0, 1),
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::BROADCAST,
    );
    let client1 = tmp(
        &scratch,
        "client1.pcap",
        &dhcp_pcap(&[(any, all, a, discover(a, 0x11).encode(300))]),
    );
    let server_pcap = tmp(
        &scratch,
        "server.pcap",
        &dhcp_pcap(&[
            (
                relay1,
                server,
                [2, 0, 0, 0, 1, 1],
                relayed(discover(a, 0x11), relay1, b"eth1"),
            ),
            (
                relay2,
                server,
                [2, 0, 0, 0, 2, 1],
                relayed(discover(b, 0x22), relay2, b"eth2"),
            ),
        ]),
    );
    let macs = ["--mac", "02:00:00:0b:03:01", "--mac", "02:00:00:0b:04:01"];
    let o = run(&[&["diff", "--json", &client1, &server_pcap][..], &macs].concat());
    let d: serde_json::Value =
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&o.stderr)));
    let r = &d["requests"][0];
    assert_eq!(r["kind"], "DISCOVER", "{d}");
    assert_eq!(
        (&r["left_frame"], &r["right_frame"]),
        (&"server.pcap:1".into(), &"server.pcap:2".into()),
        "{d}"
    );
    assert_eq!(
        r["left_hop"],
        serde_json::json!({"hops": 1, "relayed_via": "10.1.0.1"}),
        "{d}"
    );
    let found: Vec<(&str, &str, &str)> = (r["differences"].as_array().unwrap().iter())
        .map(|x| {
            (
                x["field"].as_str().unwrap(),
                x["left"].as_str().unwrap(),
                x["right"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(found[0], ("giaddr", "10.1.0.1", "10.2.0.1"), "{d}");
    assert!(found.iter().all(|f| f.0 != "hops"), "{d}");
    // In text, which copy each side is.
    let out = text(&run(&[&["diff", &client1, &server_pcap][..], &macs].concat()).stdout);
    assert!(
        out.contains(
            "first DISCOVERs (server.pcap:1, relayed via 10.1.0.1, hops 1; \
             server.pcap:2, relayed via 10.2.0.1, hops 1):"
        ),
        "{out}"
    );
    // With no capture holding both at one hop, the sides are compared as
    // they were seen, and that is said.
    let server_b = tmp(
        &scratch,
        "server-b.pcap",
        &dhcp_pcap(&[(
            relay2,
            server,
            [2, 0, 0, 0, 2, 1],
            relayed(discover(b, 0x22), relay2, b"eth2"),
        )]),
    );
    let out = text(&run(&[&["diff", &client1, &server_b][..], &macs].concat()).stdout);
    assert!(
        out.contains(
            "client1.pcap:1, as the client sent it; server-b.pcap:1, relayed via 10.2.0.1, hops 1"
        ),
        "{out}"
    );
    assert!(
        out.contains("no capture holds both at the same hop"),
        "{out}"
    );
}

/// A directory given as a case that holds no capture to read (empty, only
/// logs, only a compressed capture) is an input problem of its own, named
/// on stderr and in the JSON: the other cases are still diagnosed (and
/// decoded), and the run ends with exit 2.
#[test]
fn a_directory_without_captures_is_a_problem_not_the_end_of_the_run() {
    let scratch = Scratch::new("cli");
    let dirs = ["empty", "only-logs", "only-gz"].map(|d| {
        let dir = scratch.path().join(d);
        std::fs::create_dir(&dir).unwrap();
        dir
    });
    std::fs::copy(example("min-secs/dhcpd.log"), dirs[1].join("dhcpd.log")).unwrap();
    std::fs::write(
        dirs[2].join("dump.pcap.gz"),
        [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3],
    )
    .unwrap();
    let good = example("min-secs");
    for dir in &dirs {
        let d = dir.to_string_lossy().into_owned();
        let problem = format!("dhcplens: {d}: the directory holds no capture files");
        let o = run(&["diagnose", &good, &d]);
        let (out, err) = (text(&o.stdout), text(&o.stderr));
        assert_eq!(o.status.code(), Some(2), "{d}: {err}");
        assert!(err.contains(&problem), "{d}: {err}");
        assert!(out.contains("secs-not-incrementing"), "{d}: {out}");
        assert!(out.contains(&format!("== {d}")), "{d}: {out}");

        let o = run(&["diagnose", "--json", &good, &d]);
        assert_eq!(o.status.code(), Some(2), "{d}: {}", text(&o.stderr));
        let docs: Vec<serde_json::Value> = serde_json::Deserializer::from_slice(&o.stdout)
            .into_iter()
            .map(Result::unwrap)
            .collect();
        assert_eq!(docs.len(), 2, "{d}: {}", text(&o.stdout));
        assert_eq!(docs[0]["input_problems"], serde_json::json!([]));
        assert!(!docs[0]["transactions"].as_array().unwrap().is_empty());
        let p = &docs[1]["input_problems"][0];
        assert_eq!(p["file"], d.as_str(), "{}", docs[1]);
        assert!(
            p["message"]
                .as_str()
                .unwrap()
                .starts_with("the directory holds no capture files"),
            "{p}"
        );
        assert_eq!(docs[1]["healthy"], false);

        let o = run(&["decode", &d, &example("min-secs/client.pcap")]);
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{d}: {err}");
        assert!(err.contains(&problem), "{d}: {err}");
        assert!(text(&o.stdout).contains("DHCPDISCOVER"), "{d}");
    }
}

/// `input_warnings` says what stderr does: a capture with no packets at
/// all, or none of DHCP, is named in both (and the exit code is 1).
#[test]
fn a_capture_without_dhcp_is_in_input_warnings_as_on_stderr() {
    let scratch = Scratch::new("cli");
    let header = tmp(&scratch, "hdr.pcap", &pcap_header());
    let dora = corpus(DORA);
    for args in [vec![header.as_str()], vec![dora.as_str(), header.as_str()]] {
        let o = run(&[&["diagnose", "--json"][..], &args].concat());
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
        let d: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let w: Vec<String> = (d["input_warnings"].as_array().unwrap().iter())
            .map(warning_line)
            .collect();
        assert_eq!(
            w,
            [format!("{header}: no DHCP packets among 0 frame(s)")],
            "{args:?}"
        );
        let said: Vec<&str> = err.lines().collect();
        assert_eq!(said, [format!("dhcplens: {}", w[0])], "{args:?}");
        assert_eq!(d["healthy"], false);
    }
}

/// JSON `healthy` is false whenever the exit code is not 0: a capture that
/// stopped being read (exit 2, `input_problems`) or a `--log` in which no
/// line is recognised (exit 1, `input_warnings`), though every DHCP
/// exchange read was healthy.
#[test]
fn healthy_is_false_whenever_the_exit_code_is_not_0() {
    let scratch = Scratch::new("cli");
    let good = example("healthy-dhcpd/server.pcap");
    let dora = std::fs::read(&good).unwrap();
    // The whole capture, then a record header that claims more bytes than
    // there are: every exchange is read, and then a read error.
    let mut corrupt = dora.clone();
    corrupt.extend_from_slice(&[0; 8]);
    corrupt.extend_from_slice(&100_000u32.to_le_bytes());
    corrupt.extend_from_slice(&100_000u32.to_le_bytes());
    corrupt.extend_from_slice(&[0xab; 40]);
    let corrupt = tmp(&scratch, "corrupt.pcap", &corrupt);
    let junk = tmp(&scratch, "junk.log", b"nothing a DHCP program wrote\n");
    for (args, code, healthy) in [
        (vec![good.as_str()], 0, true),
        (vec![corrupt.as_str()], 2, false),
        (vec![good.as_str(), "--log", junk.as_str()], 1, false),
    ] {
        let o = run(&[&["diagnose", "--json"][..], &args].concat());
        assert_eq!(o.status.code(), Some(code), "{args:?}: {}", text(&o.stderr));
        let d: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(d["healthy"], healthy, "{args:?}: {d}");
        assert_eq!(d["stats"]["packets"], 12, "{args:?}");
    }
}
