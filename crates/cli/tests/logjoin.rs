//! Issue 5: `diagnose --log` turns a silent server's symptom into its cause,
//! for the causes the lab scenarios do not reach. The logs are the real ones
//! the logs crate recorded from ISC dhcpd 4.4 (`crates/logs/tests/fixtures`,
//! plain lines without stamps, so they join on the client alone); the capture
//! is what those clients sent: requests that got no answer.

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::Command;

use capture::write::PcapWriter;
use lab::Scratch;
use probe::request::{Kind, Spec};
use serde_json::Value;
use wire::frame::UdpFrame;
use wire::{HwAddr, LinkType};

fn fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../logs/tests/fixtures")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

/// The repository's `examples/` directory.
fn examples_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

/// A log `{tag}.log` in the test's scratch directory, holding `text`.
fn temp_log(scratch: &Scratch, tag: &str, text: &str) -> PathBuf {
    scratch.file(&format!("{tag}.log"), text.as_bytes())
}

/// A capture of each client sending `kind` four times over 6 s, unanswered.
fn silence(scratch: &Scratch, name: &str, clients: &[(&str, Kind)]) -> String {
    silence_at(scratch, name, 1_700_000_000_000_000_000, clients)
}

/// [`silence`], the first client starting at `t0` (ns since the epoch) and
/// each next one 20 s later.
fn silence_at(scratch: &Scratch, name: &str, t0: i64, clients: &[(&str, Kind)]) -> String {
    let path = scratch.join(&format!("{name}.pcap"));
    let mut w = PcapWriter::new(
        std::fs::File::create(&path).unwrap(),
        LinkType::Ethernet,
        65535,
    )
    .unwrap();
    for (i, (mac, kind)) in clients.iter().enumerate() {
        let bytes: Vec<u8> = mac
            .split(':')
            .map(|b| u8::from_str_radix(b, 16).unwrap())
            .collect();
        let chaddr = HwAddr::new(&bytes);
        let mut spec = Spec::new(*kind, chaddr, 0x1000 + i as u32);
        spec.requested = Some(Ipv4Addr::new(10, 78, 0, 50));
        spec.server_id = Some(Ipv4Addr::new(10, 78, 0, 9));
        for (k, at) in [0i64, 1, 3, 6].iter().enumerate() {
            spec.secs = *at as u16;
            let m = spec.build().unwrap();
            let payload = m.encode(300);
            let mut f = UdpFrame::new(
                (Ipv4Addr::UNSPECIFIED, 68),
                (Ipv4Addr::BROADCAST, 67),
                &payload,
            );
            f.src_mac = chaddr.as_bytes().try_into().unwrap();
            f.dst_mac = [0xff; 6];
            let frame = f.ethernet_frame();
            let ts = t0 + (i as i64) * 20_000_000_000 + at * 1_000_000_000 + k as i64;
            w.write(ts, &frame, frame.len()).unwrap();
        }
    }
    w.flush().unwrap();
    path.to_string_lossy().into_owned()
}

fn diagnose(args: &[&str]) -> (i32, Value, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_dhcplens"))
        .arg("diagnose")
        .args(args)
        .arg("--json")
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stderr)));
    let text = Command::new(env!("CARGO_BIN_EXE_dhcplens"))
        .arg("diagnose")
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    (
        o.status.code().unwrap(),
        doc,
        String::from_utf8_lossy(&text.stdout).into_owned(),
    )
}

/// `(code, explains_failure)` of the findings of client `mac`.
fn findings(d: &Value, mac: &str) -> Vec<(String, bool)> {
    of(d, mac)
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap().to_string(),
                f["explains_failure"].as_bool().unwrap(),
            )
        })
        .collect()
}

/// The findings about client `mac`, whole.
fn of<'a>(d: &'a Value, mac: &str) -> Vec<&'a Value> {
    d["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["chaddr"] == mac)
        .collect()
}

fn explained(f: &[(String, bool)], code: &str) -> bool {
    f.iter().any(|(c, e)| c == code && *e)
}

#[test]
fn deny_rules_and_failover_become_causes() {
    let scratch = Scratch::new("logjoin");
    let cap = silence(
        &scratch,
        "isc",
        &[
            ("02:00:00:00:0c:02", Kind::Discover),
            ("02:00:00:00:0f:01", Kind::Discover),
            ("02:00:00:00:0f:03", Kind::Request),
        ],
    );
    // Without the logs: only the symptom.
    let (code, d, _) = diagnose(&[&cap]);
    assert_eq!(code, 1);
    let f = findings(&d, "02:00:00:00:0c:02");
    assert!(f.iter().any(|(c, _)| c == "no-offer"), "{f:?}");
    assert!(!f.iter().any(|(c, _)| c == "client-ignored"), "{f:?}");

    let na = fixture("dhcpd-4.4-not-authoritative.log");
    let fo = fixture("dhcpd-4.4-failover-secondary.log");
    let (code, d, text) = diagnose(&[&cap, "--log", &na, "--log", &fo]);
    assert_eq!(code, 1);
    let f = findings(&d, "02:00:00:00:0c:02");
    assert!(explained(&f, "client-ignored"), "unknown client: {f:?}");
    let f = findings(&d, "02:00:00:00:0f:01");
    assert!(
        explained(&f, "peer-holds-free-leases"),
        "failover split: {f:?}"
    );
    let f = findings(&d, "02:00:00:00:0f:03");
    assert!(
        f.iter().any(|(c, _)| c == "foreign-server-id"),
        "a REQUEST for the peer's server id: {f:?}"
    );
    // The log line is quoted beside the frames, and `no-offer` no longer
    // asks for a log it was given.
    assert!(
        text.contains(
            "log dhcpd-4.4-not-authoritative.log:14: DHCPDISCOVER from 02:00:00:00:0c:02"
        ),
        "{text}"
    );
    assert!(!text.contains("give it with --log"), "{text}");
    // A client only the log knows (0c:01, not authoritative) is reported too,
    // in JSON and in text.
    let global: Vec<&str> = d["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["chaddr"] == "02:00:00:00:0c:01")
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert!(global.contains(&"not-authoritative"), "{global:?}");
    let only = of(&d, "02:00:00:00:0c:01");
    let summary = only[0]["summary"].as_str().unwrap();
    assert!(
        summary.starts_with("02:00:00:00:0c:01: ")
            && summary.ends_with("(server log only; no packet of this client in the captures)"),
        "{summary}"
    );
    assert_eq!(
        only[0]["log_lines"][0]["file"],
        "dhcpd-4.4-not-authoritative.log"
    );
    assert!(text.contains("from the logs alone:"), "{text}");
    assert!(text.contains("02:00:00:00:0c:01: "), "{text}");
}

/// ISC's "No subnet declaration for s0" names no client: it is given, with
/// medium confidence, to the client whose DISCOVERs went unanswered then.
#[test]
fn a_server_wide_line_explains_the_silence() {
    let scratch = Scratch::new("logjoin");
    let cap = silence(
        &scratch,
        "nosubnet",
        &[("02:00:00:00:0e:01", Kind::Discover)],
    );
    let log = fixture("dhcpd-4.4-no-subnet.log");
    let (code, d, text) = diagnose(&[&cap, "--log", &log]);
    assert_eq!(code, 1);
    let c = of(&d, "02:00:00:00:0e:01");
    let f = c
        .iter()
        .find(|f| f["code"] == "no-subnet-for-interface")
        .unwrap_or_else(|| panic!("{c:#?}"));
    assert_eq!(f["explains_failure"], true);
    assert_eq!(f["confidence"], "low", "the line has no time: {f}");
    assert_eq!(f["xid"], "0x00001000", "the unanswered exchange's xid");
    assert!(f["log_lines"][0]["text"]
        .as_str()
        .unwrap()
        .contains("No subnet declaration for s0"));
    assert!(text.contains("no-subnet-for-interface"), "{text}");
}

/// A `--log` file in which no line is recognised is named, and the exit code
/// says no answer came from it (1), while the capture is still diagnosed.
#[test]
fn a_log_with_nothing_recognised_is_named() {
    let scratch = Scratch::new("logjoin");
    let cap = examples_dir().join("healthy-dhcpd/server.pcap");
    let log = temp_log(&scratch, "notes", "hello world\nthis is not a DHCP log\n");
    let o = Command::new(env!("CARGO_BIN_EXE_dhcplens"))
        .arg("diagnose")
        .arg(&cap)
        .arg("--log")
        .arg(&log)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("notes.log: none of its 2 lines is from a DHCP server or client"),
        "{err}"
    );
    assert!(String::from_utf8_lossy(&o.stdout).contains("bound"));
    // The JSON report says it too: why a healthy case exits 1.
    let (code, d, _) = diagnose(&[&cap.to_string_lossy(), "--log", &log.to_string_lossy()]);
    assert_eq!(code, 1);
    let w = &d["input_warnings"];
    assert_eq!(w.as_array().map(Vec::len), Some(1), "{w}");
    assert_eq!(w[0]["file"], log.to_string_lossy().as_ref(), "{w}");
    let message = w[0]["message"].as_str().unwrap();
    assert!(
        message.starts_with("none of its 2 lines is from a DHCP server"),
        "{w}"
    );
}

/// What the log says about clients the captures do not hold counts only
/// from the captures' time: a week-old "no free leases" for another client
/// does not fail a healthy case, the same line in the capture's time does.
#[test]
fn log_only_findings_are_of_the_captures_time() {
    let scratch = Scratch::new("logjoin");
    let cap = examples_dir().join("healthy-dhcpd/server.pcap");
    let healthy = std::fs::read_to_string(examples_dir().join("healthy-dhcpd/dhcpd.log")).unwrap();
    let first = healthy.lines().next().unwrap();
    // The example log's own stamp format, a week earlier and then at its start.
    let stamp = &first[..first.find(' ').unwrap()];
    let line = |at: &str| {
        format!("{at} server dhcpd[1]: DHCPDISCOVER from 02:00:00:99:99:01 via eth0: network 10.0.0.0/24: no free leases\n")
    };
    let week = stamp.replacen("-22T", "-15T", 1);
    assert_ne!(week, stamp, "{first}");
    for (at, counts) in [(week.as_str(), false), (stamp, true)] {
        let log = temp_log(&scratch, "pool", &(line(at) + &healthy));
        let (code, d, _) = diagnose(&[&cap.to_string_lossy(), "--log", &log.to_string_lossy()]);
        let pool = (d["findings"].as_array().unwrap().iter())
            .any(|f| f["code"] == "pool-exhausted" && f["chaddr"] == "02:00:00:99:99:01");
        assert_eq!(
            (pool, code),
            (counts, if counts { 1 } else { 0 }),
            "{at}: {}",
            d["findings"]
        );
    }
}

/// A log from another time (clock or zone off) joins nothing: say so, and
/// how far apart they are, instead of silently dropping its lines.
#[test]
fn a_log_from_another_time_is_named() {
    let scratch = Scratch::new("logjoin");
    let rom = examples_dir().join("min-secs/client.pcap");
    let log = temp_log(
        &scratch,
        "old",
        "2020-01-01T00:00:00.000000+00:00 server dhcpd[7]: DHCPDISCOVER from 02:00:00:04:02:01 via eth0: \
         configured min-secs value (2) is greater than secs field (0).  message dropped.\n",
    );
    let o = Command::new(env!("CARGO_BIN_EXE_dhcplens"))
        .arg("diagnose")
        .arg(&rom)
        .arg("--log")
        .arg(&log)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("none of its 1 timed lines"), "{err}");
    assert!(
        err.contains("before it") && err.contains("--log-clock-offset -"),
        "{err}"
    );
    assert!(!String::from_utf8_lossy(&o.stdout).contains("min-secs-drop"));
    let (_, d, _) = diagnose(&[&rom.to_string_lossy(), "--log", &log.to_string_lossy()]);
    let w = &d["input_warnings"];
    assert_eq!(w[0]["file"], log.to_string_lossy().as_ref(), "{w}");
    let message = w[0]["message"].as_str().unwrap();
    assert!(
        message.starts_with("none of its 1 timed lines falls within"),
        "{w}"
    );
    assert!(err.contains(message), "{err}");
    // With an offset given, the advice is still the whole offset, and says
    // that it replaces the one given.
    let advice = |err: &str| -> String {
        let at = err.find("Try --log-clock-offset ").expect("advice") + 23;
        err[at..].split(' ').next().unwrap_or_default().to_string()
    };
    let o = Command::new(env!("CARGO_BIN_EXE_dhcplens"))
        .arg("diagnose")
        .arg(&rom)
        .arg("--log")
        .arg(&log)
        .args(["--log-clock-offset", "-60"])
        .output()
        .unwrap();
    let err2 = String::from_utf8_lossy(&o.stderr);
    assert!(err2.contains("(in place of -60)"), "{err2}");
    assert_eq!(advice(&err2), advice(&err), "{err2}");
    // Two cases captured at other times: the log is told apart from each,
    // by name, with its own distance.
    let examples = examples_dir();
    let o = Command::new(env!("CARGO_BIN_EXE_dhcplens"))
        .arg("diagnose")
        .arg(examples.join("min-secs"))
        .arg(examples.join("decline"))
        .arg("--log")
        .arg(&log)
        .output()
        .unwrap();
    let err3 = String::from_utf8_lossy(&o.stderr);
    let told: Vec<&str> = err3
        .lines()
        .filter(|l| l.contains("none of its 1 timed lines"))
        .collect();
    assert_eq!(told.len(), 2, "{err3}");
    assert!(told[0].contains("min-secs (they are"), "{err3}");
    assert!(told[1].contains("decline (they are"), "{err3}");
}

/// A timed server-wide line joins the client failing at that time (medium
/// confidence), and not one an hour away.
#[test]
fn a_timed_server_wide_line_joins_only_its_time() {
    let scratch = Scratch::new("logjoin");
    let cap = silence(
        &scratch,
        "nosubnet-timed",
        &[("02:00:00:00:0e:01", Kind::Discover)],
    );
    // The capture starts at 1,700,000,000 s: 2023-11-14T22:13:20Z.
    let line = |stamp: &str| {
        let text = format!(
            "{stamp}.000000+00:00 server dhcpd[7]: No subnet declaration for s0 (10.77.0.1).\n"
        );
        temp_log(&scratch, &stamp.replace(':', ""), &text)
            .to_string_lossy()
            .into_owned()
    };
    let (_, d, _) = diagnose(&[&cap, "--log", &line("2023-11-14T22:13:22")]);
    let f: Vec<&Value> = of(&d, "02:00:00:00:0e:01")
        .into_iter()
        .filter(|f| f["code"] == "no-subnet-for-interface")
        .collect();
    assert_eq!(f.len(), 1, "{d}");
    assert_eq!(f[0]["confidence"], "medium", "{}", f[0]);
    let (_, d, text) = diagnose(&[&cap, "--log", &line("2023-11-14T23:13:22")]);
    assert!(
        !of(&d, "02:00:00:00:0e:01")
            .iter()
            .any(|f| f["code"] == "no-subnet-for-interface"),
        "an hour later is not this failure: {d}"
    );
    assert!(
        text.contains("from the logs alone:"),
        "still reported: {text}"
    );
}

/// A `--log` file that is also in a case's directory is read once (whatever
/// its spelling), and what is wrong with a `--log` file is said once per
/// run, not once per case it joins.
#[test]
fn a_log_is_read_and_named_once() {
    let scratch = Scratch::new("logjoin");
    let examples = examples_dir();
    let dir = examples.join("min-secs");
    let log = examples.join("healthy-dhcpd/../min-secs/dhcpd.log");
    let (_, d, _) = diagnose(&[dir.to_str().unwrap(), "--log", log.to_str().unwrap()]);
    let drops: Vec<&Value> = of(&d, "02:00:00:04:02:01")
        .into_iter()
        .filter(|f| f["code"] == "min-secs-drop")
        .collect();
    assert_eq!(drops.len(), 1, "{d}");
    assert_eq!(drops[0]["occurrences"], 4, "{}", drops[0]);
    let logs = d["logs"].as_array().unwrap();
    assert_eq!(
        logs.iter()
            .filter(|l| l.as_str().unwrap().ends_with("dhcpd.log"))
            .count(),
        1,
        "{logs:?}"
    );

    let notes = temp_log(&scratch, "once", "hello world\n");
    let o = Command::new(env!("CARGO_BIN_EXE_dhcplens"))
        .arg("diagnose")
        .arg(&dir)
        .arg(examples.join("healthy-dhcpd"))
        .arg("--log")
        .arg(&notes)
        .args(["--log", "/nonexistent/dhcpd.log"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert_eq!(
        err.matches("once.log: its one line is not").count(),
        1,
        "{err}"
    );
    assert_eq!(
        err.matches("/nonexistent/dhcpd.log: cannot open").count(),
        1,
        "{err}"
    );
}

/// `--log -` joins every case: standard input is read once and each case
/// gets all its lines (the second case used to find it empty).
#[test]
fn a_log_from_stdin_joins_every_case() {
    use std::io::Write;
    let examples = examples_dir();
    // The min-secs client's capture alone, in a directory without its logs.
    let scratch = Scratch::new("logjoin");
    let dir = scratch.path();
    std::fs::copy(
        examples.join("min-secs/client.pcap"),
        dir.join("client.pcap"),
    )
    .unwrap();
    let log = std::fs::read(examples.join("min-secs/dhcpd.log")).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_dhcplens"))
        .arg("diagnose")
        .arg(examples.join("healthy-dhcpd"))
        .arg(dir)
        .args(["--log", "-", "--json"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&log).unwrap();
    let o = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!err.contains("<stdin>: it is empty"), "{err}");
    let docs: Vec<Value> = serde_json::Deserializer::from_slice(&o.stdout)
        .into_iter()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(docs.len(), 2, "{err}");
    for d in &docs {
        let logs = d["logs"].as_array().unwrap();
        assert_eq!(logs.last().unwrap(), "<stdin>", "{}", d["case"]);
    }
    let f = findings(&docs[1], "02:00:00:04:02:01");
    assert!(explained(&f, "min-secs-drop"), "{f:?}");
}

/// A log too far from the capture for any clock offset gets no offset to
/// try; and an offset that moves a line's time out of range is an error (2)
/// naming the line, not a line without a time that joins every client.
#[test]
fn offsets_out_of_range_are_neither_advised_nor_taken() {
    let scratch = Scratch::new("logjoin");
    let rom = examples_dir().join("min-secs/client.pcap");
    let log = temp_log(
        &scratch,
        "2250",
        "2250-01-01T00:00:00.000000+00:00 server dhcpd[7]: DHCPDISCOVER from 02:00:00:04:02:01 via eth0: \
         configured min-secs value (2) is greater than secs field (0).  message dropped.\n",
    );
    let run = |offset: &str| {
        Command::new(env!("CARGO_BIN_EXE_dhcplens"))
            .arg("diagnose")
            .arg(&rom)
            .arg("--log")
            .arg(&log)
            .args(["--log-clock-offset", offset])
            .output()
            .unwrap()
    };
    let o = run("0");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("none of its 1 timed lines"), "{err}");
    assert!(!err.contains("Try --log-clock-offset"), "{err}");
    assert!(err.contains("too far apart for a clock offset"), "{err}");

    let o = run("-4e9");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains(
            "2250.log: line 1: the clock offset moves its time beyond the years 1677 to 2262"
        ),
        "{err}"
    );
    assert!(
        !String::from_utf8_lossy(&o.stdout).contains("min-secs-drop"),
        "the line joins no client"
    );
    // explain stops there too: the line is not counted as read, the log is
    // not called unrecognised, and no "no failure" is claimed.
    let o = Command::new(env!("CARGO_BIN_EXE_dhcplens"))
        .arg("explain")
        .arg(&log)
        .args(["--log-clock-offset", "-4e9"])
        .output()
        .unwrap();
    let (out, err) = (
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
    );
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(out.contains("1 lines, 0 about DHCP"), "{out}");
    assert!(out.contains("none before the error above"), "{out}");
    assert!(!err.contains("is it the right log"), "{err}");
}

/// Clients only the log knows are reported in the order the log first names
/// them, the same on every run.
#[test]
fn clients_only_the_log_knows_come_in_log_order() {
    let root = examples_dir();
    let case = root.join("healthy-dhcpd");
    let log = root.join("min-secs/dhcpd.log");
    for _ in 0..10 {
        let (_, d, _) = diagnose(&[case.to_str().unwrap(), "--log", log.to_str().unwrap()]);
        let order: Vec<&str> = d["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["summary"].as_str().unwrap().contains("server log only"))
            .map(|f| f["chaddr"].as_str().unwrap())
            .collect();
        assert_eq!(order, ["02:00:00:04:02:01", "02:00:00:04:03:01"]);
    }
}

/// The second founding bug with the client's own log: dhclient 4.4's real
/// lines ("5 bad udp checksums in 5 packets", "No DHCPOFFERS received.")
/// name no client and cannot tell a partial checksum from a wrong one. They
/// confirm the capture's `udp-checksum-partial` and `offer-ignored` instead
/// of standing beside them as two more errors (`udp-checksum-invalid` and
/// `no-offer` from the log alone) that contradict them.
#[test]
fn a_client_log_confirms_the_partial_checksum() {
    let scratch = Scratch::new("logjoin");
    let case = examples_dir().join("partial-checksum");
    let pcaps = [case.join("client.pcap"), case.join("server.pcap")];
    let pcaps: Vec<&str> = pcaps.iter().map(|p| p.to_str().unwrap()).collect();
    // The real log (dhclient's stdout) of a client whose MAC was another:
    // its MAC made the example client's, as if it were that client's log.
    let real = std::fs::read_to_string(fixture("dhclient-4.4-bad-checksums.log")).unwrap();
    assert!(real.contains("Listening on LPF/c0/9e:3b:f6:ca:ee:05"));
    let real = temp_log(
        &scratch,
        "real",
        &real.replace("9e:3b:f6:ca:ee:05", "02:00:00:05:02:01"),
    );
    // The same lines as syslog has them, stamped within the example's run.
    let timed = temp_log(
        &scratch,
        "csum",
        "2026-11-22T04:35:16.100000+00:00 client dhclient[4242]: 5 bad udp checksums in 5 packets\n\
         2026-11-22T04:35:22.100000+00:00 client dhclient[4242]: No DHCPOFFERS received.\n",
    );
    for log in [real.to_str().unwrap(), timed.to_str().unwrap()] {
        let mut args = pcaps.clone();
        args.extend(["--log", log]);
        let (code, d, text) = diagnose(&args);
        assert_eq!(code, 1);
        let mac = "02:00:00:05:02:01";
        let f = findings(&d, mac);
        assert!(explained(&f, "udp-checksum-partial"), "{f:?}");
        assert_eq!(
            f.iter().map(|(c, _)| c.as_str()).collect::<Vec<_>>(),
            ["udp-checksum-partial", "offer-ignored"],
            "{text}"
        );
        let partial = of(&d, mac)[0];
        assert_eq!(partial["confidence"], "high");
        assert!(partial["log_lines"][0]["text"]
            .as_str()
            .unwrap()
            .contains("bad udp checksums"));
        // (Named by its MAC, or taken for want of one: either way, confirmed.)
        assert!(text.contains("log confirms it"), "{text}");
        let global: Vec<&Value> = d["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["chaddr"].is_null())
            .collect();
        assert!(global.is_empty(), "{global:?}");
    }
    // As it was written, the log names another MAC (`Listening on LPF/c0/…`):
    // it confirms nothing of this client.
    let mut args = pcaps.clone();
    let other = fixture("dhclient-4.4-bad-checksums.log");
    args.extend(["--log", &other]);
    let (_, d, text) = diagnose(&args);
    assert!(!text.contains("log confirms it"), "{text}");
    assert_eq!(
        of(&d, "02:00:00:05:02:01")[0]["log_lines"],
        Value::Null,
        "{text}"
    );
    assert!(
        (d["findings"].as_array().unwrap().iter()).any(|f| f["chaddr"] == "9e:3b:f6:ca:ee:05"),
        "{text}"
    );
}

/// Catalogue A.6: a server that logs DISCOVERs (the real journal of ISC dhcpd
/// 4.4 and dnsmasq 2.90, `journalctl -o short-iso`) has none from a client
/// that was sending them at that very time: its DISCOVERs never reached the
/// server. A client the log does name is explained by its own line instead,
/// and the same capture an hour later is not compared with the log at all.
#[test]
fn discovers_the_server_never_logged() {
    let scratch = Scratch::new("logjoin");
    let log = fixture("journalctl-short-iso.log");
    // 2026-11-22T04:14:54Z, a second after the log's first DISCOVER; the
    // unseen client's six seconds overlap the log's.
    let t0 = 1_795_320_894_000_000_000;
    let unseen = "02:00:00:00:77:01";
    let cap = silence_at(&scratch, "unseen", t0, &[(unseen, Kind::Discover)]);
    let (code, d, text) = diagnose(&[&cap, "--log", &log]);
    assert_eq!(code, 1);
    let f = findings(&d, unseen);
    assert!(explained(&f, "server-never-saw-request"), "{f:?}\n{text}");
    let never = of(&d, unseen)
        .into_iter()
        .find(|f| f["code"] == "server-never-saw-request")
        .unwrap();
    assert_eq!(never["confidence"], "medium");
    assert_eq!(never["severity"], "error");
    assert!(
        never["explanation"]
            .as_str()
            .unwrap()
            .contains("journalctl-short-iso.log"),
        "{never}"
    );
    assert!(!never["frames"].as_array().unwrap().is_empty(), "{never}");
    assert!(text.contains("server-never-saw-request"), "{text}");

    // A client the log names (dnsmasq: "no address available") is not
    // "never seen": the log says why it got nothing.
    let named = "02:00:00:00:1f:03";
    let cap = silence_at(&scratch, "named", t0, &[(named, Kind::Discover)]);
    let (_, d, text) = diagnose(&[&cap, "--log", &log]);
    let f = findings(&d, named);
    assert!(
        !f.iter().any(|(c, _)| c == "server-never-saw-request"),
        "{f:?}\n{text}"
    );
    assert!(explained(&f, "pool-exhausted"), "{f:?}\n{text}");

    // An hour later the log no longer covers the client's time.
    let cap = silence_at(
        &scratch,
        "later",
        t0 + 3_600_000_000_000,
        &[(unseen, Kind::Discover)],
    );
    let (_, d, _) = diagnose(&[&cap, "--log", &log]);
    let f = findings(&d, unseen);
    assert!(
        !f.iter().any(|(c, _)| c == "server-never-saw-request"),
        "{f:?}"
    );
}
