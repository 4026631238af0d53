//! Captures of one exchange from hosts whose clocks disagree: every example
//! the lab recorded at two or more points (client and server, both ends of
//! a relay), with all its captures but the first moved in time as a host
//! with a wrong clock would have stamped them. The diagnosis must be the
//! one of the captures as recorded, and say by how much it moved each.

use std::path::{Path, PathBuf};
use std::process::Command;

use lab::Scratch;
use serde_json::Value;

fn examples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

/// The examples with two or more captures, and their captures (sorted, as
/// `diagnose` orders a directory's).
fn multi_capture_examples() -> Vec<(String, Vec<PathBuf>)> {
    let mut out = Vec::new();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(examples())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    for d in dirs {
        let mut caps: Vec<PathBuf> = std::fs::read_dir(&d)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "pcap"))
            .collect();
        caps.sort();
        if caps.len() >= 2 {
            out.push((d.file_name().unwrap().to_string_lossy().into_owned(), caps));
        }
    }
    out
}

/// Capture `from` rewritten with every timestamp moved by `shift_ns`.
fn shifted(from: &Path, shift_ns: i64) -> Vec<u8> {
    let mut r = capture::open(from.to_str().unwrap()).unwrap();
    let mut w = None;
    while let Some(p) = r.next_packet().unwrap() {
        let w = w.get_or_insert_with(|| {
            capture::write::PcapWriter::new(Vec::new(), p.link, 262_144).unwrap()
        });
        w.write(p.timestamp.0 + shift_ns, p.data, p.orig_len)
            .unwrap();
    }
    w.unwrap().into_inner()
}

fn diagnose(args: &[&str]) -> Value {
    let o = Command::new(env!("CARGO_BIN_EXE_dhcplens"))
        .arg("diagnose")
        .arg("--json")
        .args(args)
        .output()
        .unwrap();
    assert!(
        o.status.code().is_some_and(|c| c < 2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).unwrap()
}

/// What the diagnosis says: per client its outcome and transactions, and
/// every finding's code, severity, client and whether it explains the
/// failure.
fn verdict(d: &Value) -> (Vec<String>, Vec<String>) {
    let clients = d["clients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| format!("{} {} {}", c["chaddr"], c["outcome"], c["transactions"]))
        .collect();
    let mut findings: Vec<String> = d["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{} {} {} {}",
                f["chaddr"], f["code"], f["severity"], f["explains_failure"]
            )
        })
        .collect();
    findings.sort();
    (clients, findings)
}

#[test]
fn captures_whose_clocks_disagree_give_the_diagnosis_of_agreeing_ones() {
    let cases = multi_capture_examples();
    assert!(cases.len() >= 8, "{cases:?}");
    let s = 1_000_000_000i64;
    for (name, caps) in &cases {
        let dir = examples().join(name);
        let want = diagnose(&[dir.to_str().unwrap()]);
        assert_eq!(
            want["clock_offsets"],
            Value::Array(vec![]),
            "{name}: as recorded"
        );
        assert_eq!(
            want["clocks_unmeasured"],
            Value::Array(vec![]),
            "{name}: as recorded"
        );
        let want = verdict(&want);
        // A wrong clock by an hour (a time zone), by 40 s, 3 s and 0.25 s,
        // ahead and behind.
        for shift in [3600 * s, -40 * s, 3 * s, -s / 4] {
            let scratch = Scratch::new("clocks");
            // Named so that the directory lists them in the same order.
            let mut files = vec![scratch.file("0.pcap", &std::fs::read(&caps[0]).unwrap())];
            for (i, c) in caps.iter().enumerate().skip(1) {
                files.push(scratch.file(&format!("{i}.pcap"), &shifted(c, shift)));
            }
            // The logs too (on the first capture's clock, as recorded).
            for e in std::fs::read_dir(&dir).unwrap() {
                let p = e.unwrap().path();
                if p.extension().is_some_and(|e| e == "log") {
                    scratch.file(
                        p.file_name().unwrap().to_str().unwrap(),
                        &std::fs::read(&p).unwrap(),
                    );
                }
            }
            assert_eq!(files.len(), caps.len());
            let got = diagnose(&[scratch.path().to_str().unwrap()]);
            let offsets = got["clock_offsets"].as_array().unwrap();
            // A quarter of a second measured on one kind of message alone
            // could be the path's delay: it may be left alone (and is
            // harmless then).
            if shift.abs() >= s {
                assert_eq!(offsets.len(), caps.len() - 1, "{name} {shift}: {offsets:?}");
            }
            for o in offsets {
                let off = o["offset"].as_f64().unwrap();
                // Within a millisecond: the path's delay is not the clock's.
                assert!(
                    (off - shift as f64 / 1e9).abs() < 1e-3,
                    "{name} {shift}: {o}"
                );
                assert!(o["agreeing"].as_u64() >= Some(2), "{name}: {o}");
            }
            assert_eq!(verdict(&got), want, "{name}, moved {shift} ns");
        }
    }
}

/// Without the correction the diagnosis is wrong (so the test above can
/// fail): the lost ACKs of `ack-lost`, with the server's capture 40 s
/// behind, read as a REQUEST that got no ACK.
#[test]
fn keep_clocks_takes_the_times_as_they_are() {
    let caps = &multi_capture_examples()
        .into_iter()
        .find(|(n, _)| n == "ack-lost")
        .unwrap()
        .1;
    let scratch = Scratch::new("clocks-kept");
    let client = scratch.file("client.pcap", &std::fs::read(&caps[0]).unwrap());
    let server = scratch.file("server.pcap", &shifted(&caps[1], -40_000_000_000));
    let files = [client.to_str().unwrap(), server.to_str().unwrap()];
    let aligned = diagnose(&files);
    let kept = diagnose(&[&["--keep-clocks"], &files[..]].concat());
    assert_eq!(kept["clock_offsets"], Value::Array(vec![]));
    let codes = |d: &Value| verdict(d).1.join("\n");
    assert!(
        codes(&aligned).contains("reply-not-seen-by-client"),
        "{}",
        codes(&aligned)
    );
    assert!(
        !codes(&kept).contains("reply-not-seen-by-client"),
        "{}",
        codes(&kept)
    );
    assert!(codes(&kept).contains("no-ack"), "{}", codes(&kept));
    // The text report says what it did.
    let o = Command::new(env!("CARGO_BIN_EXE_dhcplens"))
        .arg("diagnose")
        .args(files)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("server.pcap's clock runs 40.000 s behind")
            && text.contains("its times are moved 40.000 s later to match"),
        "{text}"
    );
}

/// `line` with its leading RFC 3339 stamp an hour later (the lab's logs
/// are stamped `2026-11-22T04:35:13.331562+00:00 host program[pid]: …`).
fn an_hour_later(line: &str) -> String {
    let hour: u32 = line[11..13].parse().unwrap();
    assert!(hour < 23, "{line}");
    format!("{}{:02}{}", &line[..11], hour + 1, &line[13..])
}

/// The server's host an hour ahead (a time zone set wrong): its capture
/// and its log both. The log moves with the capture, so its lines join
/// the packets as they did (`min-secs-drop` quotes dhcpd's log).
#[test]
fn a_log_moves_with_its_hosts_capture() {
    let dir = examples().join("min-secs");
    let scratch = Scratch::new("clocks-log");
    scratch.file(
        "client.pcap",
        &std::fs::read(dir.join("client.pcap")).unwrap(),
    );
    scratch.file(
        "server.pcap",
        &shifted(&dir.join("server.pcap"), 3_600_000_000_000),
    );
    let log = std::fs::read_to_string(dir.join("dhcpd.log")).unwrap();
    let moved: String = log.lines().map(|l| an_hour_later(l) + "\n").collect();
    scratch.file("dhcpd.log", moved.as_bytes());
    let lines = |d: &Value| -> usize {
        d["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["log_lines"].as_array().map_or(0, Vec::len))
            .sum()
    };
    let want = diagnose(&[
        dir.join("client.pcap").to_str().unwrap(),
        dir.join("server.pcap").to_str().unwrap(),
        "--log",
        dir.join("dhcpd.log").to_str().unwrap(),
    ]);
    let got = diagnose(&[scratch.path().to_str().unwrap()]);
    assert!(lines(&want) > 0);
    assert_eq!(lines(&got), lines(&want));
    assert_eq!(verdict(&got), verdict(&want));
    let o = Command::new(env!("CARGO_BIN_EXE_dhcplens"))
        .arg("diagnose")
        .arg(scratch.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("dhcpd.log's times are moved as") && text.contains("server.pcap's are"),
        "{text}"
    );
}

/// A pipe among the captures (`<(…)`, a FIFO) cannot be read twice: the
/// clocks are not measured, and every packet of it is read once.
#[test]
fn a_pipe_is_read_once() {
    let dir = examples().join("ack-lost");
    let scratch = Scratch::new("clocks-fifo");
    let fifo = scratch.path().join("server.fifo");
    let made = Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        lab::skip("a_pipe_is_read_once", "mkfifo is not available");
        return;
    }
    let server = std::fs::read(dir.join("server.pcap")).unwrap();
    let writer = {
        let fifo = fifo.clone();
        let server = server.clone();
        std::thread::spawn(move || std::fs::write(fifo, server).unwrap())
    };
    let got = diagnose(&[
        dir.join("client.pcap").to_str().unwrap(),
        fifo.to_str().unwrap(),
    ]);
    writer.join().unwrap();
    let want = diagnose(&[dir.to_str().unwrap()]);
    assert_eq!(got["clock_offsets"], Value::Array(vec![]));
    assert_eq!(got["stats"]["packets"], want["stats"]["packets"]);
    assert_eq!(verdict(&got), verdict(&want));
}

/// Captures of two unrelated networks share no message: the second's clock
/// cannot be measured, and the report says so rather than nothing.
#[test]
fn a_capture_with_nothing_in_common_is_said_to_be_unmeasured() {
    let a = examples().join("relay/client1.pcap");
    let b = examples().join("healthy-dhcpd/server.pcap");
    let d = diagnose(&[a.to_str().unwrap(), b.to_str().unwrap()]);
    assert_eq!(d["clock_offsets"], Value::Array(vec![]));
    assert_eq!(
        d["clocks_unmeasured"],
        Value::from(vec![b.to_str().unwrap()])
    );
}

/// Client `i`'s DISCOVER (`op` a request) or the OFFER of 10.1.x.y from
/// 10.0.0.1 (a reply), as an Ethernet frame: the clock tests' exchanges.
fn exchange_frame(i: u32, op: wire::dhcp::Op) -> Vec<u8> {
    use std::net::Ipv4Addr;
    use wire::dhcp::{code, Message, MessageType, Op};
    use wire::frame::UdpFrame;
    let mac = [2, 0, 0, (i >> 16) as u8, (i >> 8) as u8, i as u8];
    let mut m = Message::new(op, 0x5000_0000 + i, &mac);
    let kind = if op == Op::BootRequest {
        MessageType::Discover
    } else {
        m.yiaddr = Ipv4Addr::new(10, 1, (i >> 8) as u8, i as u8);
        m.set_option(code::SERVER_IDENTIFIER, vec![10, 0, 0, 1]);
        MessageType::Offer
    };
    m.set_option(code::DHCP_MESSAGE_TYPE, vec![u8::from(kind)]);
    let payload = m.encode(300);
    let (src, dst) = if op == Op::BootRequest {
        ((Ipv4Addr::UNSPECIFIED, 68), (Ipv4Addr::BROADCAST, 67))
    } else {
        ((Ipv4Addr::new(10, 0, 0, 1), 67), (Ipv4Addr::BROADCAST, 68))
    };
    let mut f = UdpFrame::new(src, dst, &payload);
    f.src_mac = mac;
    f.ethernet_frame()
}

/// A short capture (the client's, say) taken in the middle of a long one
/// (the server's, all day) shares nothing with the long one's first 4096
/// messages: the long one is read again for the short one's messages, and
/// the short one's clock is measured all the same.
#[test]
fn a_short_capture_from_the_middle_of_a_long_one_is_measured() {
    use wire::dhcp::Op;
    let write = |from: u32, to: u32, shift: i64| {
        let mut w =
            capture::write::PcapWriter::new(Vec::new(), wire::LinkType::Ethernet, 65535).unwrap();
        for i in from..to {
            let t = 1_700_000_000_000_000_000 + i64::from(i) * 1_000_000_000 + shift;
            for (op, dt) in [(Op::BootRequest, 0), (Op::BootReply, 5_000_000)] {
                let b = exchange_frame(i, op);
                w.write(t + dt, &b, b.len()).unwrap();
            }
        }
        w.into_inner()
    };
    let scratch = Scratch::new("clocks-middle");
    let long = scratch.file("long.pcap", &write(0, 6000, 0));
    let short = scratch.file("short.pcap", &write(5000, 5010, 40_000_000_000));
    let d = diagnose(&[long.to_str().unwrap(), short.to_str().unwrap()]);
    assert_eq!(
        d["clocks_unmeasured"],
        Value::Array(vec![]),
        "{}",
        d["clock_offsets"]
    );
    let o = &d["clock_offsets"][0];
    assert!((o["offset"].as_f64().unwrap() - 40.0).abs() < 1e-6, "{o}");
    assert_eq!(o["matched"], 20, "{o}");
    // Two short ones from the same stretch (a client's and a relay's), or
    // one given twice: the long one is looked at once for both, and each
    // message of it counted once.
    let same = scratch.file("same.pcap", &write(5000, 5010, 40_000_000_000));
    let other = scratch.file("other.pcap", &write(5000, 5010, 10_000_000_000));
    for third in [&same, &other, &short] {
        let d = diagnose(&[
            long.to_str().unwrap(),
            short.to_str().unwrap(),
            third.to_str().unwrap(),
        ]);
        assert_eq!(
            d["clocks_unmeasured"],
            Value::Array(vec![]),
            "{third:?}: {d}"
        );
        assert_eq!(d["clock_offsets"].as_array().unwrap().len(), 2, "{third:?}");
    }
}

/// Found in review: a long capture (the server's, all day), then a client's short
/// one that shares nothing with it (its requests never reached the server)
/// and a relay's short one that shares the client's messages and, in the
/// long one's middle, other clients' with the server. The relay's capture
/// is placed against the client's (the new root) in the first pass, so it
/// gets no second look against the long one: both end up "unmeasured".
/// Before the new-root change both were unmeasured after the first pass,
/// both were looked for in the long one, and both were placed.
#[test]
fn capture_placed_against_a_new_root_still_gets_a_second_look() {
    use wire::dhcp::Op;
    let write = |ranges: &[(u32, u32)], shift: i64| {
        let mut w =
            capture::write::PcapWriter::new(Vec::new(), wire::LinkType::Ethernet, 65535).unwrap();
        for &(from, to) in ranges {
            for i in from..to {
                let t = 1_700_000_000_000_000_000 + i64::from(i) * 1_000_000_000 + shift;
                for (op, dt) in [(Op::BootRequest, 0), (Op::BootReply, 5_000_000)] {
                    let b = exchange_frame(i, op);
                    w.write(t + dt, &b, b.len()).unwrap();
                }
            }
        }
        w.into_inner()
    };
    let scratch = Scratch::new("clocks-review-root");
    let long = scratch.file("long.pcap", &write(&[(0, 6000)], 0));
    // The client's: exchanges the long one does not hold, 40 s ahead.
    let client = scratch.file("client.pcap", &write(&[(7000, 7010)], 40_000_000_000));
    // The relay's: the client's, and others the long one holds, 10 s ahead.
    let relay = scratch.file(
        "relay.pcap",
        &write(&[(5000, 5010), (7000, 7010)], 10_000_000_000),
    );
    let d = diagnose(&[
        long.to_str().unwrap(),
        client.to_str().unwrap(),
        relay.to_str().unwrap(),
    ]);
    if std::env::var_os("REVIEW_KEEP").is_some() {
        for f in [&long, &client, &relay] {
            std::fs::copy(
                f,
                format!(
                    "/tmp/review-clk-{}",
                    f.file_name().unwrap().to_str().unwrap()
                ),
            )
            .unwrap();
        }
    }
    assert_eq!(
        d["clocks_unmeasured"],
        Value::Array(vec![]),
        "{}",
        d["clock_offsets"]
    );
    assert_eq!(d["clock_offsets"].as_array().unwrap().len(), 2, "{d}");
}

/// Found in review: tcpdump's rotated parts of the server's capture (5 s ahead of
/// the client's), the second part sharing nothing with the client's
/// capture, and a later client capture (20 s ahead) sharing messages with
/// that second part only. The late capture is placed against the second
/// part (15 s ahead of it); the second part is then moved 5 s as its first
/// part was, but the late capture, placed against it, is not: its times
/// end up 5 s off the part it was measured against.
#[test]
fn capture_placed_against_a_rotated_part_moves_with_it() {
    use wire::dhcp::Op;
    let write = |from: u32, to: u32, shift: i64| {
        let mut w =
            capture::write::PcapWriter::new(Vec::new(), wire::LinkType::Ethernet, 65535).unwrap();
        for i in from..to {
            let t = 1_700_000_000_000_000_000 + i64::from(i) * 1_000_000_000 + shift;
            for (op, dt) in [(Op::BootRequest, 0), (Op::BootReply, 5_000_000)] {
                let b = exchange_frame(i, op);
                w.write(t + dt, &b, b.len()).unwrap();
            }
        }
        w.into_inner()
    };
    let scratch = Scratch::new("clocks-review-parts");
    let client = scratch.file("a-client.pcap", &write(0, 10, 0));
    let part0 = scratch.file("b-server.pcap", &write(0, 10, 5_000_000_000));
    let part1 = scratch.file("b-server.pcap1", &write(100, 110, 5_000_000_000));
    let late = scratch.file("c-late.pcap", &write(100, 110, 20_000_000_000));
    let d = diagnose(&[
        client.to_str().unwrap(),
        part0.to_str().unwrap(),
        part1.to_str().unwrap(),
        late.to_str().unwrap(),
    ]);
    eprintln!("{}", d["clock_offsets"]);
    let offsets = d["clock_offsets"].as_array().unwrap();
    let of = |name: &str| {
        offsets
            .iter()
            .find(|o| o["file"].as_str().unwrap().ends_with(name))
            .unwrap_or_else(|| panic!("{name}: {offsets:?}"))
    };
    assert!((of("b-server.pcap1")["offset"].as_f64().unwrap() - 5.0).abs() < 1e-6);
    // The late capture's times must end up on the same clock as the part
    // it was measured against: 20 s from the client's, or 15 s from a part
    // that is itself left where it is.
    let late_o = of("c-late.pcap");
    let total = late_o["offset"].as_f64().unwrap()
        + if late_o["reference"]
            .as_str()
            .unwrap()
            .ends_with("b-server.pcap1")
        {
            5.0
        } else {
            0.0
        };
    // Moved by its own offset only: 15 s, not 20 s.
    assert!(
        (late_o["offset"].as_f64().unwrap() - 20.0).abs() < 1e-6,
        "late moved {} s (reference {}), should be 20 s on the client's clock; total on that clock {total}",
        late_o["offset"],
        late_o["reference"]
    );
}

/// Standard input among several captures cannot be read twice, so no clock
/// is measured: said on stderr and in `input_warnings`, and the capture is
/// in `clocks_unmeasured`, not a silently wrong diagnosis. `--keep-clocks`
/// silences it, and a lone capture from stdin has nothing to measure.
#[test]
fn stdin_among_captures_says_its_clock_was_not_measured() {
    let caps = &multi_capture_examples()
        .into_iter()
        .find(|(n, _)| n == "ack-lost")
        .unwrap()
        .1;
    let scratch = Scratch::new("clocks-stdin");
    let client = std::fs::read(&caps[0]).unwrap();
    let server = scratch.file("server.pcap", &shifted(&caps[1], -40_000_000_000));
    let server = server.to_str().unwrap();
    let warning = "<stdin>: clocks not measured: <stdin> cannot be read twice; give it as a file, \
                   or use --keep-clocks to silence this";
    let run = |args: &[&str]| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_dhcplens"))
            .arg("diagnose")
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        let _ = child.stdin.take().unwrap().write_all(&client);
        let o = child.wait_with_output().unwrap();
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    let (_, out, err) = run(&["--json", "-", server]);
    assert!(err.contains(&format!("dhcplens: {warning}")), "{err}");
    let d: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(d["clock_offsets"], Value::Array(vec![]));
    assert_eq!(d["clocks_unmeasured"], serde_json::json!(["<stdin>"]));
    let said = d["input_warnings"].as_array().unwrap().iter().any(|w| {
        w["file"] == "<stdin>" && format!("<stdin>: {}", w["message"].as_str().unwrap()) == warning
    });
    assert!(said, "{}", d["input_warnings"]);
    // The text report says it once, on stderr (no clock note about it).
    let (_, out, err) = run(&["-", server]);
    assert!(err.contains(&format!("dhcplens: {warning}")), "{err}");
    assert!(!out.contains("could not be measured"), "{out}");
    // Silenced by --keep-clocks; nothing to say of a lone capture.
    for args in [
        &["--json", "--keep-clocks", "-", server][..],
        &["--json", "-"],
    ] {
        let (_, out, err) = run(args);
        assert!(!err.contains("clocks not measured"), "{args:?}: {err}");
        let d: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(d["clocks_unmeasured"], Value::Array(vec![]), "{args:?}");
        assert_eq!(d["input_warnings"], Value::Array(vec![]), "{args:?}");
    }
}

/// In the JSON report, a log moved with its host's capture is said on
/// stderr and in `input_warnings` alike (the report has no clock notes).
#[test]
fn a_log_moved_with_its_capture_is_in_input_warnings() {
    let dir = examples().join("min-secs");
    let scratch = Scratch::new("clocks-log-json");
    scratch.file(
        "client.pcap",
        &std::fs::read(dir.join("client.pcap")).unwrap(),
    );
    scratch.file(
        "server.pcap",
        &shifted(&dir.join("server.pcap"), 3_600_000_000_000),
    );
    let log = std::fs::read_to_string(dir.join("dhcpd.log")).unwrap();
    let moved: String = log.lines().map(|l| an_hour_later(l) + "\n").collect();
    scratch.file("dhcpd.log", moved.as_bytes());
    let o = Command::new(env!("CARGO_BIN_EXE_dhcplens"))
        .args(["diagnose", "--json"])
        .arg(scratch.path())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    let d: Value = serde_json::from_slice(&o.stdout).unwrap();
    let warnings: Vec<String> = (d["input_warnings"].as_array().unwrap().iter())
        .map(|w| {
            format!(
                "dhcplens: {}: {}",
                w["file"].as_str().unwrap(),
                w["message"].as_str().unwrap()
            )
        })
        .collect();
    assert!(
        warnings.iter().any(|w| w.contains("times are moved as")),
        "{warnings:?}"
    );
    assert_eq!(err.lines().collect::<Vec<_>>(), warnings, "{err}");
}
