//! The whole of `diagnose` on an arbitrary capture file: the reader, the
//! fast path or the general decoder, the observation, the engine and its
//! rules, and every JSON record the report is written from.
//!
//! Invariants: nothing panics (the fuzz build checks arithmetic overflow
//! too); every record is valid JSON; a finding's direct JSON is the one
//! serde derives; the engine counts every observation it was given; and
//! reporting findings early (as `watch` does) changes nothing in the final
//! report.
#![no_main]

use capture::read::Reader;
use diagnose::{Config, Engine, Finding, FrameRef, Obs, Report, Sink, Summary};
use libfuzzer_sys::fuzz_target;

/// Checks each record as the engine settles it.
struct Check {
    record: Vec<u8>,
    transactions: u64,
}

impl Sink for Check {
    fn wants_transactions(&self) -> bool {
        true
    }

    fn transaction(&mut self, s: &Summary) {
        self.record.clear();
        s.write_json(&mut self.record).expect("writing to a Vec");
        valid(&self.record, "transaction");
        self.transactions += 1;
    }

    fn finding(&mut self, f: &Finding) {
        same_as_serde(f);
    }
}

fn valid(json: &[u8], what: &str) {
    if let Err(e) = serde_json::from_slice::<serde_json::Value>(json) {
        panic!(
            "{what} record is not JSON ({e}): {}",
            String::from_utf8_lossy(json)
        );
    }
}

fn same_as_serde(f: &Finding) {
    let mut direct = Vec::new();
    f.write_json(&mut direct).expect("writing to a Vec");
    let derived = serde_json::to_vec(f).expect("a finding serialises");
    assert_eq!(
        String::from_utf8_lossy(&direct),
        String::from_utf8_lossy(&derived),
        "a finding's direct JSON differs from serde's"
    );
}

/// The observations of a capture, as `dhcplens diagnose` makes them.
fn observations(data: &[u8]) -> Vec<Obs> {
    let Ok(mut reader) = Reader::new(data) else {
        return Vec::new();
    };
    let mut obs = Vec::new();
    while let Ok(Some(p)) = reader.next_packet() {
        let at = FrameRef {
            file: 0,
            frame: p.number,
        };
        if let Some(plain) = wire::plain::read(p.link, p.data, p.orig_len) {
            obs.push(Obs::from_plain(at, p.timestamp, &plain));
        } else {
            match wire::packet::decode(p.link, p.data, p.orig_len) {
                Ok(Some(d)) => obs.extend(Obs::new(at, p.timestamp, &d, None)),
                // An ICMP error quoting (the start of) a DHCP message, as
                // the CLI's feed reads it.
                Err(wire::frame::Skip::NotUdp) => obs.extend(
                    wire::frame::unreachable(p.link, p.data)
                        .and_then(|u| Obs::quoted(at, p.timestamp, &u)),
                ),
                _ => {}
            }
        }
    }
    obs
}

/// The report as `diagnose --json` writes it, but for the transactions.
fn report_json(r: &Report) -> Vec<u8> {
    let mut out = Vec::new();
    for c in &r.clients {
        let at = out.len();
        c.write_json(&mut out).expect("writing to a Vec");
        valid(&out[at..], "client");
        out.push(b'\n');
    }
    for f in r.findings() {
        same_as_serde(f);
        f.write_json(&mut out).expect("writing to a Vec");
        out.push(b'\n');
    }
    serde_json::to_writer(&mut out, &r.servers).expect("servers serialise");
    serde_json::to_writer(&mut out, &r.stats).expect("stats serialise");
    out.extend_from_slice(if r.healthy() { b" healthy" } else { b" not" });
    out
}

fn run(obs: &[Obs], early: bool) -> (Vec<u8>, u64) {
    let cfg = Config {
        files: vec!["fuzz.pcap".into()],
        early,
        ..Config::default()
    };
    let mut engine = Engine::new(
        cfg,
        Check {
            record: Vec::new(),
            transactions: 0,
        },
    );
    engine.push_all(obs.iter().cloned());
    let (report, sink) = engine.finish();
    // Messages quoted by ICMP errors are evidence, not packets seen.
    let quoted = obs.iter().filter(|o| o.unreachable().is_some()).count();
    assert_eq!(report.stats.packets, (obs.len() - quoted) as u64);
    assert_eq!(report.stats.transactions, sink.transactions);
    (report_json(&report), sink.transactions)
}

fuzz_target!(|data: &[u8]| {
    let obs = observations(data);
    if obs.is_empty() {
        return;
    }
    let (late, n) = run(&obs, false);
    let (early, m) = run(&obs, true);
    assert_eq!(n, m);
    assert!(
        late == early,
        "reporting findings early changed the report:\n{}\n---\n{}",
        String::from_utf8_lossy(&late),
        String::from_utf8_lossy(&early)
    );
});
