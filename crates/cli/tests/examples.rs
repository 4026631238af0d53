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
    // dhclient on the same link got through once its secs reached 2.
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
