//! Where `diagnose`'s time goes: the same capture read through ever more of
//! the pipeline, in this process, so each stage's cost is the difference
//! from the one before it.
//!
//! 1. `read`: the capture reader alone (pcap/pcapng records, no decoding).
//! 2. `decode`: plus Ethernet/VLAN/IPv4/UDP framing, the UDP checksum and
//!    the DHCP message's options: checked in place for a plain packet
//!    (`wire::plain::read`), listed with their anomalies for any other
//!    (`wire::packet::decode`).
//! 3. `observe`: plus the engine's compact per-packet record (`Obs`).
//! 4. `analyse`: plus transactions, rules and per-client summaries
//!    (`diagnose::Engine`), with no output.
//! 5. `report`: plus the JSON records of every transaction and client, as
//!    `diagnose --json` writes them (to nowhere).
//!
//! What remains between `report` and `dhcplens diagnose --json` (timed by
//! `run`) is the process, argument parsing and the write to stdout. Like
//! `diagnose`, which leaves its last report for the process exit to free, a
//! stage frees what it built after its clock stops.

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use anyhow::Context;

/// One stage's timing (medians over the runs).
#[derive(Debug, Clone)]
pub struct Stage {
    pub name: &'static str,
    pub wall_s: f64,
    pub cpu_s: f64,
    /// Frames read and DHCP packets seen (to check the stages saw the same).
    pub frames: u64,
    pub dhcp: u64,
}

const NAMES: [&str; 5] = ["read", "decode", "observe", "analyse", "report"];

/// Writes each transaction's JSON record into a buffer and drops it (the
/// records `diagnose --json` writes, without the output itself).
struct Records {
    /// Write records (stage `report`) or not (stage `analyse`).
    on: bool,
    record: Vec<u8>,
    bytes: u64,
}

impl diagnose::Sink for Records {
    fn wants_transactions(&self) -> bool {
        self.on
    }

    fn transaction(&mut self, s: &diagnose::transaction::Summary) {
        self.record.clear();
        s.write_json(&mut self.record).expect("writing to a Vec");
        self.bytes += self.record.len() as u64;
    }
}

/// What a run leaves to free: freed after the clock stops, as `diagnose`
/// leaves its last report to the process exit.
type Leftovers = Option<Box<dyn std::any::Any>>;

/// Runs stage `depth` (0 = read … 4 = report) once over `file`.
fn once(file: &str, depth: usize) -> anyhow::Result<(u64, u64, Leftovers)> {
    let mut reader = capture::open(file).with_context(|| format!("{file}: cannot open"))?;
    let mut engine = diagnose::Engine::new(
        diagnose::Config {
            files: vec![file.to_string()],
            ..diagnose::Config::default()
        },
        Records {
            on: depth == 4,
            record: Vec::with_capacity(1024),
            bytes: 0,
        },
    );
    let (mut frames, mut dhcp, mut bytes) = (0u64, 0u64, 0u64);
    let mut error = None;
    // The observations, to the engine's `push_all` as `diagnose` feeds them
    // (stages above `observe` stop short, and yield none).
    let observations = std::iter::from_fn(|| loop {
        let p = match reader.next_packet() {
            Ok(Some(p)) => p,
            Ok(None) => return None,
            Err(e) => {
                error = Some(e);
                return None;
            }
        };
        frames += 1;
        if depth == 0 {
            bytes += p.data.len() as u64;
            continue;
        }
        // As `diagnose` reads: the fast path, else the general decoder.
        let plain = wire::plain::read(p.link, p.data, p.orig_len);
        let decoded = match plain {
            Some(_) => None,
            None => match wire::packet::decode(p.link, p.data, p.orig_len) {
                Ok(Some(d)) => Some(d),
                _ => continue,
            },
        };
        if depth == 1 {
            dhcp += 1;
            bytes += match (&plain, &decoded) {
                (Some(p), _) => u64::from(p.first_code),
                (_, Some(d)) => d.message.as_ref().map_or(0, |m| u64::from(m.xid)),
                _ => 0,
            };
            continue;
        }
        let at = diagnose::FrameRef {
            file: 0,
            frame: p.number,
        };
        let o = match (&plain, &decoded) {
            (Some(plain), _) => diagnose::Obs::from_plain(at, p.timestamp, plain),
            (_, Some(d)) => match diagnose::Obs::new(at, p.timestamp, d, None) {
                Some(o) => o,
                None => continue,
            },
            _ => continue,
        };
        dhcp += 1;
        if depth == 2 {
            bytes += u64::from(o.xid);
            continue;
        }
        return Some(o);
    });
    engine.push_all(observations);
    if let Some(e) = error {
        return Err(e).with_context(|| format!("{file}: cannot read"));
    }
    let (report, mut records) = engine.finish();
    if depth == 4 {
        for c in &report.clients {
            records.record.clear();
            c.write_json(&mut records.record)?;
            records.bytes += records.record.len() as u64;
        }
    }
    // Keep the work observable so none of it is optimised away.
    std::hint::black_box((bytes, records.bytes, report.clients.len()));
    Ok((frames, dhcp, Some(Box::new((report, records)))))
}

/// Times every stage (or only the one named) `runs` times, alternating
/// (read, decode, … read, …).
pub fn stages(
    file: &Path,
    runs: usize,
    only: Option<&str>,
    log: &mut impl Write,
) -> anyhow::Result<Vec<Stage>> {
    let name = file.to_str().context("file name is not UTF-8")?;
    let mut samples: Vec<Vec<(f64, f64)>> = vec![Vec::new(); NAMES.len()];
    let mut counts = [(0, 0); NAMES.len()];
    for run in 0..runs.max(1) {
        for (depth, stage) in NAMES.iter().enumerate() {
            if only.is_some_and(|o| o != *stage) {
                continue;
            }
            let (c0, t0) = (crate::run::cpu_seconds(), Instant::now());
            let (frames, dhcp, leftovers) = once(name, depth)?;
            let (wall, cpu) = (t0.elapsed().as_secs_f64(), crate::run::cpu_seconds() - c0);
            drop(leftovers);
            counts[depth] = (frames, dhcp);
            writeln!(
                log,
                "run {}: {stage:8} {wall:.3} s wall, {cpu:.3} s CPU",
                run + 1
            )?;
            samples[depth].push((wall, cpu));
        }
    }
    Ok(NAMES
        .iter()
        .zip(samples)
        .zip(counts)
        .filter(|((_, s), _)| !s.is_empty())
        .map(|((name, s), (frames, dhcp))| Stage {
            name,
            wall_s: crate::run::median(&s.iter().map(|x| x.0).collect::<Vec<_>>()),
            cpu_s: crate::run::median(&s.iter().map(|x| x.1).collect::<Vec<_>>()),
            frames,
            dhcp,
        })
        .collect())
}

/// The table `dhcplens-bench stages` prints: each stage, its cumulative
/// time and rate, and the time it adds per packet.
pub fn print(stages: &[Stage], out: &mut impl Write) -> std::io::Result<()> {
    writeln!(
        out,
        "{:8}  {:>9}  {:>9}  {:>12}  {:>16}",
        "stage", "wall s", "CPU s", "packets/s", "adds ns/packet"
    )?;
    let mut before = 0.0;
    for s in stages {
        let frames = s.frames.max(1) as f64;
        writeln!(
            out,
            "{:8}  {:>9.3}  {:>9.3}  {:>12.0}  {:>16.0}",
            s.name,
            s.wall_s,
            s.cpu_s,
            frames / s.cpu_s.max(1e-9),
            (s.cpu_s - before) / frames * 1e9,
        )?;
        before = s.cpu_s;
    }
    Ok(())
}
