//! Bad input never crashes: every capture of the corpus and the examples,
//! and every log fixture, damaged in seeded random ways (bits flipped, bytes
//! overwritten, inserted or cut out, the file truncated), goes through
//! `diagnose` and `decode` (and logs through `explain` and `diagnose --log`).
//! Each run must end with exit code 0, 1 or 2 and no panic; `diagnose --json`
//! must still print one JSON document (what could be read is reported), and
//! an error (exit 2) must name the file.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use lab::Scratch;

#[path = "../../../tests/support/corpus.rs"]
mod corpus;

/// Damaged copies made of each input.
const MUTANTS: usize = 10;

/// xorshift64*: a fixed seed gives the same mutants on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Damage of kind `TRUNCATE`: every input's first mutant is cut short.
const TRUNCATE: usize = 2;

/// The `n`th damaged copy of `data`: one kind of damage, a few times.
fn mutate(data: &[u8], n: usize, rng: &mut Rng, tokens: &[&[u8]]) -> Vec<u8> {
    let mut d = data.to_vec();
    let kind = if n == 0 { TRUNCATE } else { rng.below(6) };
    for _ in 0..1 + rng.below(8) {
        let at = rng.below(d.len());
        match kind {
            0 if !d.is_empty() => d[at] ^= 1 << rng.below(8),
            1 if !d.is_empty() => d[at] = [0, 0xff, 0x7f, 0x80, 1, rng.next() as u8][rng.below(6)],
            TRUNCATE => d.truncate(at),
            3 => {
                let extra: Vec<u8> = if tokens.is_empty() {
                    (0..1 + rng.below(64)).map(|_| rng.next() as u8).collect()
                } else {
                    tokens[rng.below(tokens.len())].to_vec()
                };
                d.splice(at..at, extra);
            }
            4 => {
                let end = (at + 1 + rng.below(200)).min(d.len());
                d.drain(at..end);
            }
            _ if d.len() >= 4 => {
                let at = rng.below(d.len() - 3);
                d[at..at + 4].copy_from_slice(&(rng.next() as u32).to_le_bytes());
            }
            _ => {}
        }
    }
    d
}

fn files_under(root: &Path, extensions: &[&str], out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            files_under(&p, extensions, out);
        } else if p
            .extension()
            .is_some_and(|x| extensions.iter().any(|e| x == *e))
        {
            out.push(p);
        }
    }
}

fn repo(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel)
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dhcplens"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

/// Exit 0, 1 or 2, no panic, and an error names `file`.
fn check(o: &Output, file: &str, what: &str) {
    let err = String::from_utf8_lossy(&o.stderr);
    let code = o.status.code();
    assert!(
        matches!(code, Some(0..=2)) && !err.contains("panicked"),
        "{what}: exit {code:?}: {err}"
    );
    if code == Some(2) {
        assert!(
            err.contains(file),
            "{what}: the error does not name {file}: {err}"
        );
    }
}

#[test]
fn damaged_captures_are_reported_never_fatal() {
    let mut inputs = Vec::new();
    corpus::capture_files(&corpus::dir(), &mut inputs);
    inputs.sort();
    let corpus = inputs.len();
    files_under(&repo("examples"), &["pcap", "pcapng"], &mut inputs);
    assert!(
        corpus >= 30,
        "{corpus} corpus captures under {}",
        corpus::dir().display()
    );
    let scratch = Scratch::new("robustness");
    let path = scratch.join("damaged.pcap");
    let shown = path.to_str().unwrap();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut codes = [0usize; 3];
    for input in &inputs {
        let data = std::fs::read(input).unwrap();
        for n in 0..MUTANTS {
            std::fs::write(&path, mutate(&data, n, &mut rng, &[])).unwrap();
            let what = format!("{} mutant {n}", input.display());
            let o = run(&["diagnose", "--json", shown]);
            check(&o, shown, &what);
            codes[o.status.code().unwrap() as usize] += 1;
            serde_json::from_slice::<serde_json::Value>(&o.stdout)
                .unwrap_or_else(|e| panic!("{what}: diagnose --json printed no document: {e}"));
            check(&run(&["decode", "-v", shown]), shown, &what);
        }
    }
    // The damage reaches every outcome: some mutants stay readable, some
    // are cut or malformed, some cannot be read at all.
    assert!(
        codes.iter().all(|&c| c > 0),
        "exit codes 0, 1, 2: {codes:?}"
    );
}

#[test]
fn damaged_logs_are_reported_never_fatal() {
    let mut inputs = Vec::new();
    files_under(&repo("crates/logs/tests/fixtures"), &["log"], &mut inputs);
    files_under(&repo("examples"), &["log"], &mut inputs);
    assert!(inputs.len() >= 20, "{} logs", inputs.len());
    let tokens: &[&[u8]] = &[
        b" ",
        b":",
        b"[",
        b"\n",
        b"\0",
        b"\xff\xfe",
        b"\xe2\x82",
        b"DHCPDISCOVER from ",
        b"via eth0",
        b"2026-02-29T25:61:61",
        b"Feb 29 ",
        b"999999999999999999999",
        b"{\"",
        b"ff:ff:",
        b"255.255.255.255",
    ];
    let scratch = Scratch::new("robustness");
    let path = scratch.join("damaged.log");
    let shown = path.to_str().unwrap();
    let capture = repo("examples/min-secs/client.pcap");
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    for input in &inputs {
        let data = std::fs::read(input).unwrap();
        for n in 0..MUTANTS {
            std::fs::write(&path, mutate(&data, n, &mut rng, tokens)).unwrap();
            let what = format!("{} mutant {n}", input.display());
            check(&run(&["explain", "--json", shown]), shown, &what);
            let o = run(&[
                "diagnose",
                "--json",
                capture.to_str().unwrap(),
                "--log",
                shown,
            ]);
            check(&o, shown, &what);
            serde_json::from_slice::<serde_json::Value>(&o.stdout)
                .unwrap_or_else(|e| panic!("{what}: diagnose --json printed no document: {e}"));
        }
    }
}
