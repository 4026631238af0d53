//! An arbitrary server or client log, read with an arbitrary clock, and
//! joined to the report of a real capture (`examples/min-secs`): the log
//! reader, every program's parser, the time arithmetic and the join.
//!
//! Invariants: nothing panics (the fuzz build checks arithmetic overflow
//! too), the reader ends, its counts add up to the lines it read, and every
//! finding the join adds writes the JSON serde derives.
#![no_main]

use std::sync::OnceLock;

use capture::read::Reader;
use diagnose::logjoin::{self, Logs};
use diagnose::{Config, Engine, FrameRef, NoSink, Obs, Report};
use libfuzzer_sys::fuzz_target;
use logs::{LogReader, Options, Program, TimeContext};

const CAPTURE: &[u8] = include_bytes!("../../../../examples/min-secs/client.pcap");

/// The capture's report, made once.
fn report() -> &'static Report {
    static REPORT: OnceLock<Report> = OnceLock::new();
    REPORT.get_or_init(|| {
        let mut reader = Reader::new(CAPTURE).expect("a pcap");
        let mut engine = Engine::new(Config::default(), NoSink);
        while let Ok(Some(p)) = reader.next_packet() {
            let at = FrameRef {
                file: 0,
                frame: p.number,
            };
            if let Ok(Some(d)) = wire::packet::decode(p.link, p.data, p.orig_len) {
                if let Some(o) = Obs::new(at, p.timestamp, &d, None) {
                    engine.push(o);
                }
            }
        }
        let (report, _) = engine.finish();
        assert!(!report.clients.is_empty());
        report
    })
}

fuzz_target!(|input: &[u8]| {
    let [sel, rest @ ..] = input else {
        return;
    };
    // The clock: mostly the capture's own, sometimes an arbitrary one.
    let (time, text) = match rest.split_first_chunk::<12>() {
        Some((c, text)) if sel & 0x80 != 0 => {
            let offset = i64::from_le_bytes(c[..8].try_into().unwrap());
            let zone = i32::from_le_bytes(c[8..].try_into().unwrap());
            (
                TimeContext {
                    reference: Some(offset.wrapping_mul(31)),
                    utc_offset_secs: zone,
                    clock_offset_ns: offset,
                },
                text,
            )
        }
        _ => (
            TimeContext {
                reference: report().stats.first.map(|t| t.0),
                ..TimeContext::default()
            },
            rest,
        ),
    };
    let program = Program::ALL.get(usize::from(sel & 7)).copied();
    let Ok(reader) = LogReader::new("fuzz.log", text, Options { time, program }) else {
        return;
    };
    let mut reader = reader;
    let mut report = report().clone();
    let mut logs = Logs::new(&report, &[]);
    let f = logs.add_file("fuzz.log".into());
    for e in &mut reader {
        match e {
            Ok(e) => logs.push(f, e),
            Err(_) => break,
        }
    }
    let s = reader.stats();
    assert!(s.lines <= text.len() as u64 + 1);
    assert!(s.events + s.blank + s.other_program + s.unknown <= s.lines);
    logjoin::attach(&mut report, &mut logs);
    let _ = logjoin::clock_mismatches(&report, &logs);
    for f in report.findings() {
        let mut direct = Vec::new();
        f.write_json(&mut direct).expect("writing to a Vec");
        let derived = serde_json::to_vec(f).expect("a finding serialises");
        assert_eq!(
            String::from_utf8_lossy(&direct),
            String::from_utf8_lossy(&derived)
        );
    }
});
