//! The direct JSON writers of findings and ladder steps against their derived
//! `Serialize` (serde_json): the same bytes for every finding and ladder the
//! corpus and the bundled examples give, and for strings of any content.

use diagnose::finding::LogEvidence;
use diagnose::{Code, Config, Engine, Finding, NoSink, Obs, Severity};
use proptest::prelude::*;

#[path = "../../../tests/support/corpus.rs"]
mod corpus;

/// Diagnoses `files` together, as `dhcplens diagnose` reads one case.
fn diagnose(files: &[std::path::PathBuf]) -> diagnose::Report {
    let mut obs: Vec<Obs> = Vec::new();
    for (i, f) in files.iter().enumerate() {
        let Ok(mut r) = capture::Reader::new(Box::new(std::fs::File::open(f).expect("open")))
        else {
            continue;
        };
        while let Ok(Some(p)) = r.next_packet() {
            let at = diagnose::FrameRef {
                file: i as u16,
                frame: p.number,
            };
            if let Ok(Some(d)) = wire::packet::decode(p.link, p.data, p.orig_len) {
                obs.extend(Obs::new(at, p.timestamp, &d, None));
            }
        }
    }
    obs.sort_by_key(|o| (o.ts, o.at));
    let cfg = Config {
        files: files.iter().map(|f| f.display().to_string()).collect(),
        ..Config::default()
    };
    let mut engine = Engine::new(cfg, NoSink);
    for o in obs {
        engine.push(o);
    }
    engine.finish().0
}

/// What `write` writes for `value` is what serde_json writes for it.
fn assert_written_as_serde<T: serde::Serialize>(
    value: &T,
    write: impl FnOnce(&T, &mut Vec<u8>) -> std::io::Result<()>,
) {
    let mut direct = Vec::new();
    write(value, &mut direct).unwrap();
    let serde = serde_json::to_vec(value).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&direct),
        String::from_utf8_lossy(&serde)
    );
}

fn same_as_serde(report: &diagnose::Report, findings: &mut usize, steps: &mut usize) {
    for f in report.findings() {
        assert_written_as_serde(f, Finding::write_json);
        *findings += 1;
    }
    for c in &report.clients {
        for s in c.ladder() {
            assert_written_as_serde(s, diagnose::client::Step::write_json);
            *steps += 1;
        }
    }
}

#[test]
fn findings_and_ladders_of_the_corpus_and_examples_are_written_as_serde_writes_them() {
    let (mut findings, mut steps) = (0, 0);
    let mut files = Vec::new();
    corpus::capture_files(&corpus::dir(), &mut files);
    files.sort();
    assert!(files.len() >= 20, "corpus not found at {:?}", corpus::dir());
    for f in files {
        same_as_serde(&diagnose(&[f]), &mut findings, &mut steps);
    }
    let examples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let mut cases: Vec<_> = std::fs::read_dir(&examples)
        .expect("examples")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(cases.len() >= 10, "examples not found at {examples:?}");
    for case in cases {
        let mut files = Vec::new();
        corpus::capture_files(&case, &mut files);
        files.sort();
        same_as_serde(&diagnose(&files), &mut findings, &mut steps);
    }
    // Enough of both that the comparison means something.
    assert!(findings >= 30, "only {findings} findings");
    assert!(steps >= 100, "only {steps} ladder steps");
}

/// Strings with everything a writer can get wrong: quotes, backslashes,
/// every control character, DEL, multi-byte UTF-8, at every offset of the
/// eight-byte scan.
fn awkward() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("\"".to_string()),
        Just("\\".to_string()),
        Just("\u{7f}".to_string()),
        Just("é€𝄞".to_string()),
        (0u32..0x20).prop_map(|c| char::from_u32(c).unwrap().to_string()),
        "[ -~]{0,12}",
        any::<char>().prop_map(|c| c.to_string()),
    ];
    proptest::collection::vec(piece, 0..24).prop_map(|v| v.concat())
}

proptest! {
    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them(s in awkward()) {
        let mut direct = Vec::new();
        diagnose::write_json_str(&mut direct, &s);
        prop_assert_eq!(String::from_utf8(direct).unwrap(), serde_json::to_string(&s).unwrap());
    }

    #[test]
    fn a_finding_with_any_texts_is_written_as_serde_writes_it(
        summary in awkward(),
        explanation in awkward(),
        line in awkward(),
        xid in proptest::option::of(any::<u32>()),
        chaddr in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..=16)),
        frames in proptest::collection::vec((any::<u16>(), any::<u64>()), 0..4),
        occurrences in any::<u32>(),
    ) {
        let chaddr = chaddr.map(|b| wire::HwAddr::new(&b));
        let mut f = Finding::new(Code::NoOffer, Severity::Error, chaddr, xid);
        f.frames = frames
            .into_iter()
            .map(|(file, frame)| diagnose::FrameRef { file, frame })
            .collect();
        f.summary = summary;
        f.explanation = explanation;
        f.fix = "quote \"this\"".into();
        f.references = &["RFC 2131 §4.1", "a \\ b"];
        f.occurrences = occurrences;
        f.log_lines = vec![LogEvidence { file: "dhcpd.log".into(), line: 7, text: line }];
        let mut direct = Vec::new();
        f.write_json(&mut direct).unwrap();
        prop_assert_eq!(String::from_utf8(direct).unwrap(), serde_json::to_string(&f).unwrap());
    }
}
