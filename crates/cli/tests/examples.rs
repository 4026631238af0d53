//! The bundled examples (real servers and clients recorded by the lab) are
//! diagnosed with the right outcome and cause, and the healthy ones have no
//! error or warning.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

fn diagnose(example: &str) -> (i32, Value) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(example);
    assert!(
        dir.is_dir(),
        "{} is missing: re-record with `cargo run -p lab --bin record-examples`",
        dir.display()
    );
    let o = Command::new(env!("CARGO_BIN_EXE_dhcplens"))
        .args(["diagnose", "--json"])
        .arg(&dir)
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{example}: {e}: {}", String::from_utf8_lossy(&o.stderr)));
    (o.status.code().unwrap(), doc)
}

/// The client whose chaddr ends with `suffix` (the lab's host byte and index).
fn client<'a>(d: &'a Value, suffix: &str) -> &'a Value {
    d["clients"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["chaddr"].as_str().unwrap().ends_with(suffix))
        .unwrap_or_else(|| panic!("no client *{suffix}"))
}

/// `(code, severity, explains_failure)` of a client's findings.
fn findings(d: &Value, chaddr: &str) -> Vec<(String, String, bool)> {
    d["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["chaddr"] == chaddr)
        .map(|f| {
            (
                f["code"].as_str().unwrap().into(),
                f["severity"].as_str().unwrap().into(),
                f["explains_failure"].as_bool().unwrap(),
            )
        })
        .collect()
}

fn has(f: &[(String, String, bool)], code: &str, severity: &str) -> bool {
    f.iter().any(|(c, s, _)| c == code && s == severity)
}

#[test]
fn healthy_examples_are_healthy() {
    for e in [
        "healthy-dhcpd",
        "healthy-kea",
        "healthy-dnsmasq",
        "partial-checksum-tolerant",
        "partial-checksum-fixed",
        "vlan-trunk",
    ] {
        let (code, d) = diagnose(e);
        assert_eq!(code, 0, "{e}: {}", d["findings"]);
        for c in d["clients"].as_array().unwrap() {
            assert_eq!(c["outcome"], "bound", "{e}: {c}");
        }
        for f in d["findings"].as_array().unwrap() {
            assert_eq!(f["severity"], "info", "{e}: {f}");
        }
    }
}

#[test]
fn founding_bug_min_secs() {
    let (code, d) = diagnose("min-secs");
    assert_eq!(code, 1);
    let rom = client(&d, ":02:01");
    assert_eq!(rom["outcome"], "no-offer");
    let f = findings(&d, rom["chaddr"].as_str().unwrap());
    assert!(has(&f, "no-offer", "error"), "{f:?}");
    assert!(
        f.iter()
            .any(|(c, s, x)| c == "secs-not-incrementing" && s == "error" && *x),
        "{f:?}"
    );
    assert!(
        f.iter().any(|(c, _, x)| c == "min-secs-drop" && *x),
        "the server log names the cause: {f:?}"
    );
    assert!(
        !f.iter().any(|(c, ..)| c.starts_with("udp-checksum")),
        "{f:?}"
    );
    // The ISC line names no xid; the finding takes the exchange it explains.
    let drop = d["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["code"] == "min-secs-drop" && x["chaddr"] == rom["chaddr"])
        .unwrap();
    assert_eq!(drop["xid"], "0x5ec00000", "{drop}");
    // dhclient on the same link got through once its secs reached 2.
    assert_eq!(client(&d, ":03:01")["outcome"], "bound");
}

/// The same bug served by `dhcplens serve`: its log gives every drop with
/// the deciding values, and its own fix reaches the finding.
#[test]
fn founding_bug_min_secs_served_by_dhcplens() {
    let (code, d) = diagnose("serve-min-secs");
    assert_eq!(code, 1);
    let rom = client(&d, ":02:01");
    assert_eq!(rom["outcome"], "no-offer");
    let f = findings(&d, rom["chaddr"].as_str().unwrap());
    assert!(has(&f, "secs-not-incrementing", "error"), "{f:?}");
    let drop = d["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["code"] == "min-secs-drop" && x["chaddr"] == rom["chaddr"])
        .unwrap_or_else(|| panic!("no min-secs-drop for the ROM: {f:?}"));
    assert_eq!(
        (
            &drop["confidence"],
            &drop["explains_failure"],
            &drop["occurrences"]
        ),
        (&Value::from("high"), &Value::from(true), &Value::from(4)),
        "{drop}"
    );
    assert_eq!(drop["xid"], "0x5e1e0000", "{drop}");
    assert!(
        drop["fix"]
            .as_str()
            .unwrap()
            .starts_with("lower --min-secs below 2"),
        "{drop}"
    );
    assert!(
        drop["explanation"]
            .as_str()
            .unwrap()
            .contains("secs 0 is below min-secs 2"),
        "{drop}"
    );
    assert_eq!(client(&d, ":03:01")["outcome"], "bound");
}

#[test]
fn founding_bug_partial_checksum() {
    let (code, d) = diagnose("partial-checksum");
    assert_eq!(code, 1);
    let c = client(&d, ":02:01");
    assert_eq!(c["outcome"], "offer-ignored");
    let f = findings(&d, c["chaddr"].as_str().unwrap());
    assert!(
        f.iter()
            .any(|(c, s, x)| c == "udp-checksum-partial" && s == "error" && *x),
        "{f:?}"
    );
    assert!(has(&f, "offer-ignored", "error"), "{f:?}");
    let partial = d["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "udp-checksum-partial")
        .unwrap();
    assert_eq!(
        partial["confidence"], "high",
        "the client-side capture shows the checksum unfilled"
    );
    // The tolerant client: bound, and the partial checksums are harmless here.
    let (_, d) = diagnose("partial-checksum-tolerant");
    let partial = d["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "udp-checksum-partial")
        .expect("reported");
    assert_eq!(partial["severity"], "info");
    assert!(partial["summary"]
        .as_str()
        .unwrap()
        .contains("harmless here"));
}

#[test]
fn other_scenarios() {
    let (_, d) = diagnose("pool-exhausted");
    let c = client(&d, ":03:01");
    assert_eq!(c["outcome"], "no-offer");
    let f = findings(&d, c["chaddr"].as_str().unwrap());
    assert!(
        f.iter()
            .any(|(c, s, x)| c == "pool-exhausted" && s == "error" && *x),
        "{f:?}"
    );
    assert_eq!(client(&d, ":02:01")["outcome"], "bound");

    let (_, d) = diagnose("init-reboot-wrong-network");
    for c in d["clients"].as_array().unwrap() {
        assert_eq!(c["outcome"], "bound", "both recover after the NAK");
    }
    let naks: Vec<&Value> = d["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "nak")
        .collect();
    assert_eq!(naks.len(), 2);
    assert!(naks.iter().all(|n| n["summary"]
        .as_str()
        .unwrap()
        .contains("init-reboot-wrong-network")));
    assert!(d["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["state"] == "init-reboot" && t["outcome"] == "nak"));

    let (_, d) = diagnose("rogue-server");
    let f = findings(&d, client(&d, ":03:01")["chaddr"].as_str().unwrap());
    assert!(has(&f, "multiple-servers", "error"), "{f:?}");
    assert!(
        has(&f, "nak", "warning"),
        "the site's server NAKs the rogue's lease: {f:?}"
    );

    let (_, d) = diagnose("relay");
    let lost = d["clients"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["outcome"] == "no-offer")
        .expect("udhcpc on lan2");
    let f = findings(&d, lost["chaddr"].as_str().unwrap());
    assert!(
        f.iter()
            .any(|(c, _, x)| c == "unknown-network-segment" && *x),
        "{f:?}"
    );
    assert!(d["clients"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["outcome"] == "bound"));
    assert!(!d["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["code"] == "option82-not-echoed"));

    let (_, d) = diagnose("renew-rebind-release");
    let states: Vec<&str> = d["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["state"].as_str().unwrap())
        .collect();
    assert!(
        states.contains(&"renewing") && states.contains(&"release"),
        "{states:?}"
    );
    assert!(d["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["code"] == "renew-unanswered"));

    let (_, d) = diagnose("decline");
    let c = &d["clients"][0];
    assert_eq!(
        c["outcome"], "bound",
        "it got another address after declining"
    );
    let f = findings(&d, c["chaddr"].as_str().unwrap());
    assert!(has(&f, "address-declined", "warning"), "{f:?}");
}

fn dhcplens_in_examples(args: &[&str]) -> (i32, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_dhcplens"))
        .args(args)
        .current_dir(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples"))
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(
        o.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    (
        o.status.code().unwrap(),
        String::from_utf8(o.stdout).unwrap(),
    )
}

/// Issue 6: two clients' whole exchanges, from the client's and the server's
/// capture merged: the ROM that never got an OFFER against the client that
/// was bound, and their first DISCOVERs field by field.
#[test]
fn diff_of_two_clients_whole_exchanges() {
    let args = [
        "diff",
        "min-secs",
        "--mac",
        "02:00:00:04:02:01",
        "--mac",
        "02:00:00:04:03:01",
    ];
    let (code, text) = dhcplens_in_examples(&[&args[..], &["--json"]].concat());
    assert_eq!(code, 1, "the clients differ: {text}");
    let d: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(d["left"]["outcome"], "no-offer", "{d}");
    // Bound only when the server's capture (where the OFFER and ACK are) is merged in.
    assert_eq!(d["right"]["outcome"], "bound", "{d}");
    let kinds = |side: &str| -> Vec<String> {
        d[side]["exchanges"][0]["steps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                s["label"]
                    .as_str()
                    .unwrap()
                    .split(' ')
                    .next()
                    .unwrap()
                    .to_string()
            })
            .collect()
    };
    assert_eq!(kinds("left"), ["DISCOVER"; 4]);
    assert_eq!(
        kinds("right"),
        ["DISCOVER", "DISCOVER", "OFFER", "REQUEST", "ACK"]
    );
    let discover = &d["requests"][0];
    assert_eq!(discover["kind"], "DISCOVER", "{d}");
    let fields: Vec<&str> = discover["differences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["field"].as_str().unwrap())
        .collect();
    assert!(
        fields.iter().any(|f| f.starts_with("option 60")),
        "the vendor class differs: {fields:?}"
    );
    // The same in text: both sides of the ladder, marked where they part.
    let (code, text) = dhcplens_in_examples(&args);
    assert_eq!(code, 1);
    assert!(text.contains("left  02:00:00:04:02:01  no-offer"), "{text}");
    assert!(
        text.contains("right 02:00:00:04:03:01  bound  10.0.0.100"),
        "{text}"
    );
    assert!(text.contains("≠"), "{text}");
    assert!(text.contains("first DISCOVERs"), "{text}");
    // Replies that differ only in the address offered are not marked.
    let (_, text) = dhcplens_in_examples(&[
        "diff",
        "healthy-dhcpd",
        "--mac",
        "02:00:00:01:02:01",
        "--mac",
        "02:00:00:01:03:01",
    ]);
    let offer = text.lines().find(|l| l.contains("← OFFER")).unwrap();
    assert!(!offer.contains('≠'), "{text}");
    // stdin cannot be read twice: said, not a misleading read error.
    let o = Command::new(env!("CARGO_BIN_EXE_dhcplens"))
        .args([
            "diff",
            "-",
            "--mac",
            "02:00:00:01:02:01",
            "--mac",
            "02:00:00:01:03:01",
        ])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("stdin cannot be one"));
}

/// Issue 6: two frames; identical frames have no difference and exit 0.
#[test]
fn diff_of_two_frames() {
    let (code, text) =
        dhcplens_in_examples(&["diff", "min-secs/client.pcap:1", "min-secs/client.pcap:3"]);
    assert_eq!(
        code, 0,
        "retransmissions of a frozen-secs DISCOVER are identical: {text}"
    );
    assert!(text.contains("no differences"), "{text}");
    let (code, text) = dhcplens_in_examples(&[
        "diff",
        "--json",
        "min-secs/client.pcap:1",
        "healthy-dhcpd/server.pcap:1",
    ]);
    assert_eq!(code, 1, "{text}");
    let d: Value = serde_json::from_str(&text).unwrap();
    assert!(!d.as_array().unwrap().is_empty(), "{d}");
}

/// A capture taken with a 300-byte snap length (`tcpdump -s 300`) of a
/// healthy exchange: every message loses its end, which is the capture's
/// doing; nothing is judged missing or short, and no warning is raised.
#[test]
fn a_small_snap_length_is_not_a_malformed_packet() {
    let src =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/healthy-dhcpd/server.pcap");
    let scratch = lab::Scratch::new("snap300");
    let out = scratch.join("snap300.pcap");
    let mut r = capture::open(src.to_str().unwrap()).unwrap();
    let mut w = capture::write::PcapWriter::new(
        std::fs::File::create(&out).unwrap(),
        wire::LinkType::Ethernet,
        300,
    )
    .unwrap();
    let mut cut = 0;
    while let Some(p) = r.next_packet().unwrap() {
        let keep = p.data.len().min(300);
        cut += usize::from(keep < p.data.len());
        w.write(p.timestamp.0, &p.data[..keep], p.orig_len).unwrap();
    }
    w.flush().unwrap();
    drop(w);
    assert!(cut >= 4, "the example's frames are longer than 300 bytes");
    let path = out.to_str().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_dhcplens"))
        .args(["decode", "--json", path])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "a cut is not a malformed packet");
    let codes: Vec<String> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .flat_map(|p| {
            p["anomalies"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(|a| a["code"].as_str().unwrap_or("").to_string())
        })
        .collect();
    assert!(!codes.is_empty());
    assert!(codes.iter().all(|c| c == "snap-length-cut"), "{codes:?}");
    let o = Command::new(env!("CARGO_BIN_EXE_dhcplens"))
        .args(["diagnose", "--json", path])
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    let d: Value = serde_json::from_slice(&o.stdout).unwrap();
    for f in d["findings"].as_array().unwrap() {
        assert_eq!(f["severity"], "info", "{f}");
    }

    // Cut right where the options begin: option 53 is past the cut, so it
    // is not missing either.
    let out = scratch.join("snap282.pcap");
    let mut r = capture::open(src.to_str().unwrap()).unwrap();
    let mut w = capture::write::PcapWriter::new(Vec::new(), wire::LinkType::Ethernet, 282).unwrap();
    while let Some(p) = r.next_packet().unwrap() {
        w.write(p.timestamp.0, &p.data[..p.data.len().min(282)], p.orig_len)
            .unwrap();
    }
    std::fs::write(&out, w.into_inner()).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_dhcplens"))
        .args(["decode", "--json", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "a cut is not a malformed packet");
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("snap-length-cut") && !text.contains("missing-message-type"),
        "{text}"
    );
}

/// A reply captured on both sides (client.pcap and server.pcap) is one reply:
/// the server's counts are what it sent, not what the captures hold.
#[test]
fn server_counts_do_not_count_copies() {
    let (_, d) = diagnose("init-reboot-wrong-network");
    let s = &d["servers"][0];
    assert_eq!(
        (s["offers"].as_u64(), s["acks"].as_u64(), s["naks"].as_u64()),
        (Some(2), Some(2), Some(2)),
        "{s}"
    );
    let (_, d) = diagnose("partial-checksum");
    assert_eq!(d["servers"][0]["offers"], 6, "{}", d["servers"]);
}

/// `(state, outcome)` of each transaction, in order.
fn exchanges(d: &Value) -> Vec<(String, String)> {
    d["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["state"].as_str().unwrap().to_string(),
                t["outcome"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Issue 4's model on real clients: RFC 2131 states as the exchange moves
/// (a renewal that goes unanswered past T2 becomes a rebinding), outcomes
/// from the fixed vocabulary, and the server's latency per step.
#[test]
fn states_outcomes_and_step_latency() {
    let pairs = |v: &[(&str, &str)]| -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    };
    let (_, d) = diagnose("renew-rebind-release");
    assert_eq!(
        exchanges(&d),
        pairs(&[
            ("init", "bound"),
            ("renewing", "renewed"),
            ("rebinding", "renewed"),
            ("release", "released")
        ])
    );
    let t = &d["transactions"].as_array().unwrap();
    // The rebinding: five unanswered unicast renewals, then the broadcast
    // answered at once. The client waited seconds; the server took a moment.
    assert_eq!(t[2]["retransmissions"], 5);
    assert!(t[2]["reply_latency"].as_f64().unwrap() > 5.0, "{}", t[2]);
    assert!(t[2]["ack_latency"].as_f64().unwrap() < 0.5, "{}", t[2]);
    assert!(t[0]["offer_latency"].as_f64().unwrap() < 0.5, "{}", t[0]);
    assert!(t[0]["ack_latency"].as_f64().unwrap() < 0.5, "{}", t[0]);
    assert!(t[3]["ack_latency"].is_null(), "a RELEASE has no answer");
    // dhcpcd declines the ACKed address in the same exchange, then is bound.
    let (_, d) = diagnose("decline");
    assert_eq!(
        exchanges(&d),
        pairs(&[("init", "declined"), ("init", "bound")])
    );
    let (_, d) = diagnose("init-reboot-wrong-network");
    assert!(exchanges(&d).contains(&("init-reboot".to_string(), "nak".to_string())));
}

#[test]
fn acks_lost_at_the_switch() {
    let (code, d) = diagnose("ack-lost");
    assert_eq!(code, 1);
    let c = client(&d, ":02:01");
    assert_eq!(c["outcome"], "ack-ignored");
    assert_eq!(c["address"], serde_json::Value::Null, "no lease: {c}");
    let f = findings(&d, c["chaddr"].as_str().unwrap());
    assert!(
        f.iter()
            .any(|(c, s, x)| c == "reply-not-seen-by-client" && s == "error" && *x),
        "{f:?}"
    );
    assert!(has(&f, "ack-ignored", "error"), "{f:?}");
    // udhcpc's "no lease, failing" came after its REQUESTs: a no-ack, which
    // confirms the capture's ack-ignored rather than standing apart.
    let ack = d["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "ack-ignored")
        .unwrap();
    assert_eq!(ack["confidence"], "high", "{ack}");
    // The server's log shows the ACKs it sent, the client's that it gave up.
    let lines: Vec<&str> = ack["log_lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["text"].as_str().unwrap())
        .collect();
    assert!(
        lines.iter().any(|t| t.contains("no lease, failing")),
        "{ack}"
    );
    assert!(
        lines.iter().filter(|t| t.contains("DHCPACK")).count() >= 2,
        "{ack}"
    );
    assert!(
        !d["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["code"] == "no-offer"),
        "{}",
        d["findings"]
    );
}

/// A real PXE ROM (iPXE in QEMU) sent to a DHCP server's UDP 4011 by
/// option 60, where nothing listens: the lease is good, the boot stops.
/// The REQUESTs to 4011 are the evidence (tshark counts the same frames),
/// not renewals nor REQUESTs asked again after the ACK, as they were read
/// before the boot server exchange was told apart.
#[test]
fn a_pxe_rom_whose_boot_server_is_silent() {
    let (code, d) = diagnose("pxe-boot-server-silent");
    assert_eq!(code, 1);
    let c = client(&d, ":02:81");
    assert_eq!(c["outcome"], "bound", "{c}");
    assert_eq!(c["address"], "10.0.0.100", "{c}");
    let chaddr = c["chaddr"].as_str().unwrap();
    let f = findings(&d, chaddr);
    assert!(
        f.iter()
            .any(|(c, s, x)| c == "pxe-boot-server-unanswered" && s == "error" && *x),
        "{f:?}"
    );
    assert!(has(&f, "pxe-proxy-on-dhcp-server", "info"), "{f:?}");
    for wrong in [
        "ack-ignored",
        "renew-unanswered",
        "no-ack",
        "pxe-boot-file-missing",
    ] {
        assert!(!f.iter().any(|(c, _, _)| c == wrong), "{wrong}: {f:?}");
    }
    let silent = d["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "pxe-boot-server-unanswered")
        .unwrap();
    assert_eq!(silent["confidence"], "high", "{silent}");
    let b = &c["boot_servers"][0];
    assert_eq!(
        (&b["requests"], &b["replies"]),
        (&Value::from(4), &Value::from(0)),
        "{c}"
    );
    assert!(b["boot_file"].is_null(), "{c}");
    // The evidence is every request to 4011 in the first capture holding
    // them, then every ICMP port unreachable quoting one (in the capture
    // that held the first), as tshark reads the files.
    assert!(
        silent["explanation"]
            .as_str()
            .unwrap()
            .contains("answered with ICMP port unreachable"),
        "{silent}"
    );
    let frames: Vec<(u64, u64)> = silent["frames"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["file"].as_u64().unwrap(), f["frame"].as_u64().unwrap()))
        .collect();
    let files = d["files"].as_array().unwrap();
    let n = frames.len() / 2;
    assert_eq!(n, 4, "{frames:?}");
    for (part, filter) in [
        (&frames[..n], "udp.dstport == 4011 && !icmp"),
        (
            &frames[n..],
            "icmp.type == 3 && icmp.code == 3 && udp.dstport == 4011",
        ),
    ] {
        let file = files[part[0].0 as usize].as_str().unwrap();
        assert!(part.iter().all(|f| f.0 == part[0].0), "{frames:?}");
        let Some(tshark) = lab::tshark_frames(std::path::Path::new(file), filter) else {
            return;
        };
        assert_eq!(
            part.iter().map(|f| f.1).collect::<Vec<_>>(),
            tshark,
            "{file}: {filter}"
        );
    }
}

/// A real PXE ROM (iPXE in QEMU) that searched for a boot server by
/// broadcast: dnsmasq's boot menu offered an item of type 1 and named no
/// server for it, so the ROM broadcast DHCPREQUESTs naming the item
/// (option 43 sub-option 71) to UDP 67 from its new address. Nothing
/// answered, and the ROM stopped. Before, those REQUESTs were read as a
/// rebinding that got no ACK (`no-ack`); now they are the boot server
/// search, `pxe-boot-server-unanswered`, over the frames tshark finds
/// with a boot item. `pxe-proxy-on-dhcp-server` says where the menu sends
/// the ROM (by broadcast: discovery control 0x02, no sub-option 8).
#[test]
fn a_pxe_rom_searching_for_a_boot_server_by_broadcast() {
    let (code, d) = diagnose("pxe-boot-menu-no-server");
    assert_eq!(code, 1);
    let c = client(&d, ":02:81");
    assert_eq!(c["outcome"], "bound", "{c}");
    assert_eq!(c["transactions"], 1, "{c}");
    let f = findings(&d, c["chaddr"].as_str().unwrap());
    let problems: Vec<&str> = f
        .iter()
        .filter(|(_, s, _)| s != "info")
        .map(|(c, _, _)| c.as_str())
        .collect();
    assert_eq!(problems, ["pxe-boot-server-unanswered"], "{f:?}");
    let b = &c["boot_servers"][0];
    assert_eq!(
        (&b["server"], &b["port"], &b["boot_item"], &b["replies"]),
        (
            &Value::from("255.255.255.255"),
            &Value::from(67),
            &Value::from(1),
            &Value::from(0)
        ),
        "{b}"
    );
    let all = d["findings"].as_array().unwrap();
    let find = |code: &str| all.iter().find(|f| f["code"] == code).unwrap();
    let silent = find("pxe-boot-server-unanswered");
    assert_eq!(
        (&silent["explains_failure"], &silent["confidence"]),
        (&Value::from(true), &Value::from("high")),
        "{silent}"
    );
    let summary = silent["summary"].as_str().unwrap();
    assert!(
        summary.contains("boot item type 1 by broadcast to UDP 67"),
        "{summary}"
    );
    let menu = find("pxe-proxy-on-dhcp-server")["explanation"]
        .as_str()
        .unwrap();
    assert!(
        menu.contains("searches for a boot server by broadcast")
            && menu.contains("discovery control 0x02"),
        "{menu}"
    );
    let frames: Vec<u64> = silent["frames"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["frame"].as_u64().unwrap())
        .collect();
    assert!(!frames.is_empty());
    let file = d["files"][0].as_str().unwrap();
    if let Some(tshark) = lab::tshark_frames(
        std::path::Path::new(file),
        "dhcp.option.vendor.pxeclient.boot_item.type == 1 && udp.dstport == 67",
    ) {
        assert_eq!(frames, tshark);
    }
}

/// The same menu from ISC dhcpd, which is no boot server: it took each of
/// the ROM's broadcast searches for a rebind and answered with a plain ACK
/// under the search's xid, naming no boot item; iPXE dropped them and
/// stopped. Before, those ACKs opened a second, reply-only transaction and
/// the finding said nothing answered. Now they are the search's, and the
/// finding names who answered that way, over the frames tshark finds: the
/// searches for item 1 and the ACKs from 67 under their xid that name no
/// item.
#[test]
fn a_pxe_rom_whose_search_isc_dhcpd_took_for_a_rebind() {
    let (code, d) = diagnose("pxe-boot-search-plain-ack");
    assert_eq!(code, 1);
    let c = client(&d, ":02:81");
    assert_eq!(
        (&c["outcome"], &c["transactions"]),
        (&Value::from("bound"), &Value::from(1)),
        "{c}"
    );
    let f = findings(&d, c["chaddr"].as_str().unwrap());
    let problems: Vec<&str> = f
        .iter()
        .filter(|(_, s, _)| s != "info")
        .map(|(c, _, _)| c.as_str())
        .collect();
    assert_eq!(problems, ["pxe-boot-server-unanswered"], "{f:?}");
    let b = &c["boot_servers"][0];
    assert_eq!(
        (
            &b["boot_item"],
            &b["replies"],
            &b["replies_without_item"],
            &b["replied_without_item_by"]
        ),
        (
            &Value::from(1),
            &Value::from(0),
            &b["requests"],
            &Value::from("10.0.0.1")
        ),
        "{b}"
    );
    let all = d["findings"].as_array().unwrap();
    let silent = all
        .iter()
        .find(|f| f["code"] == "pxe-boot-server-unanswered")
        .unwrap();
    let summary = silent["summary"].as_str().unwrap();
    assert!(
        summary.contains("10.0.0.1 answered as if it were an ordinary DHCP request"),
        "{summary}"
    );
    // The dhcpd log next to the capture says the same: a REQUEST naming no
    // server (a rebind, to ISC) and an ACK, per search.
    let log = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../examples/pxe-boot-search-plain-ack/dhcpd.log"),
    )
    .unwrap();
    let rebinds = log
        .lines()
        .filter(|l| l.contains("DHCPREQUEST for 10.0.0.100 from"))
        .count();
    assert_eq!(Value::from(rebinds), b["requests"], "{log}");
    let frames: Vec<u64> = silent["frames"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["frame"].as_u64().unwrap())
        .collect();
    let file = d["files"][0].as_str().unwrap();
    let xid = silent["xid"].as_str().unwrap();
    if let Some(tshark) = lab::tshark_frames(
        std::path::Path::new(file),
        &format!(
            "(dhcp.option.vendor.pxeclient.boot_item.type == 1 && udp.dstport == 67) \
             || (udp.srcport == 67 && dhcp.option.dhcp == 5 && dhcp.id == {xid} \
             && !dhcp.option.vendor.pxeclient.boot_item.type)"
        ),
    ) {
        assert_eq!(frames, tshark);
    }
}

/// A switch port in spanning-tree listening and learning (the lab's
/// `stp-port-not-forwarding`: the kernel bridge, forward delay 9 s): with
/// the client's and the server's captures, the DISCOVERs the bridge lost
/// are the evidence, the frames of client.pcap that tshark finds with a
/// `secs` below the first DISCOVER server.pcap holds. From the server's
/// side alone, that first DISCOVER's `secs`, with the bridge's BPDUs in the
/// capture long before it, is the evidence.
#[test]
fn a_switch_port_that_does_not_forward_yet() {
    let (code, d) = diagnose("stp-port-not-forwarding");
    assert_eq!(code, 1);
    let c = client(&d, ":02:01");
    assert_eq!(c["outcome"], "bound", "{c}");
    let all = d["findings"].as_array().unwrap();
    let f = all
        .iter()
        .find(|f| f["code"] == "stp-delay-suspected")
        .unwrap_or_else(|| panic!("{all:?}"));
    assert_eq!(
        (&f["severity"], &f["confidence"]),
        (&Value::from("warning"), &Value::from("medium")),
        "{f}"
    );
    let text = f["explanation"].as_str().unwrap();
    assert!(
        text.contains("reached server.pcap, which was capturing then"),
        "{text}"
    );
    let files: Vec<&str> = d["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    let client_file = files
        .iter()
        .position(|f| f.ends_with("client.pcap"))
        .unwrap();
    let lost: Vec<u64> = f["frames"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["file"] == client_file)
        .map(|r| r["frame"].as_u64().unwrap())
        .collect();
    let Some(first) = lab::tshark_fields(
        std::path::Path::new(files[1 - client_file]),
        &["-Y", "dhcp.option.dhcp == 1", "-e", "dhcp.secs"],
    ) else {
        return;
    };
    let secs: u64 = first.lines().next().unwrap().trim().parse().unwrap();
    let tshark = lab::tshark_frames(
        std::path::Path::new(files[client_file]),
        &format!("dhcp.option.dhcp == 1 && dhcp.secs < {secs}"),
    )
    .unwrap();
    // The lost ones, then the one answered (and the OFFER, in the other file
    // or this one).
    assert_eq!(&lost[..tshark.len()], &tshark[..], "{f}");

    // The server's side alone.
    let server = std::path::Path::new(files[1 - client_file]);
    let o = Command::new(env!("CARGO_BIN_EXE_dhcplens"))
        .args(["diagnose", "--json"])
        .arg(server)
        .output()
        .unwrap();
    let d: Value = serde_json::from_slice(&o.stdout).unwrap();
    let f = d["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "stp-delay-suspected")
        .expect("the first DISCOVER's secs");
    assert!(
        f["summary"]
            .as_str()
            .unwrap()
            .contains(&format!("already has secs {secs}")),
        "{f}"
    );
}
