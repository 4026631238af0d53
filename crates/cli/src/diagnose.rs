//! `dhcplens diagnose`: per client, what happened, and for every failure the
//! likely cause, its evidence and the fix.

use std::io::Write;
use std::path::PathBuf;

use diagnose::{Config, Engine, Finding, Sink, Summary};
use serde::Serialize;

use crate::args::{DiagnoseArgs, MAX_CLOCK_OFFSET_S};
use crate::feed::{Feed, InputProblem};
use crate::style::Style;
use crate::{diagnose_text, inputs, warn, Outcome};

/// A set of captures (and logs) diagnosed together.
pub struct Case {
    pub name: String,
    pub captures: Vec<PathBuf>,
    pub logs: Vec<PathBuf>,
    /// Files in its directory that look like captures but are not read
    /// (compressed, or misnamed), and why.
    pub skipped: Vec<InputProblem>,
    /// Why its directory gave no capture to read (it holds none, or cannot
    /// be listed): an input problem of the case, whose other inputs are
    /// still read.
    pub problems: Vec<InputProblem>,
}

/// Directories are cases of their own (with the logs inside them); files
/// given together form one case. `--log` files join every case.
pub fn cases(a: &DiagnoseArgs) -> anyhow::Result<Vec<Case>> {
    let stdin = |paths: &[PathBuf]| paths.iter().any(|p| inputs::is_stdin(p));
    if stdin(&a.inputs) && stdin(&a.logs) {
        anyhow::bail!(
            "standard input cannot be both a capture and a --log: save one of them to a file"
        );
    }
    inputs::stdin_once(a.inputs.iter().chain(&a.logs))?;
    let mut out = Vec::new();
    let mut loose = Vec::new();
    for i in &a.inputs {
        if inputs::is_dir(i) {
            let (captures, problems) = inputs::captures_or_problems(std::slice::from_ref(i));
            out.push(Case {
                name: inputs::shown(i).trim_end_matches('/').to_string(),
                captures,
                logs: with_named(inputs::logs_in_dirs(std::slice::from_ref(i)), &a.logs),
                skipped: inputs::skipped_in_dirs(std::slice::from_ref(i)),
                problems,
            });
        } else {
            loose.push(i.clone());
        }
    }
    if !loose.is_empty() {
        let shown: Vec<_> = loose.iter().map(|i| inputs::shown(i)).collect();
        let case = Case {
            name: shown.join(" + "),
            captures: loose,
            logs: with_named(Vec::new(), &a.logs),
            skipped: Vec::new(),
            problems: Vec::new(),
        };
        out.insert(0, case);
    }
    Ok(out)
}

/// A case's `logs` with the `--log` files, each once: one that is already
/// there (the same file, e.g. found in the case's directory) takes its
/// place, under the name it was given.
fn with_named(mut logs: Vec<PathBuf>, named: &[PathBuf]) -> Vec<PathBuf> {
    for l in named {
        match logs.iter().position(|d| inputs::same_file(d, l)) {
            Some(i) => l.clone_into(&mut logs[i]),
            None => logs.push(l.clone()),
        }
    }
    logs
}

/// What to try for a log `apart_s` seconds from the capture with offset
/// `given`: the whole offset (the times compared already carry the given
/// one, which it replaces), if an offset can reach that far.
fn clock_advice(given: f64, apart_s: i64) -> String {
    let offset = given + apart_s as f64;
    if offset.abs() > MAX_CLOCK_OFFSET_S {
        return format!(
            "They are too far apart for a clock offset (at most {MAX_CLOCK_OFFSET_S:e} s): are its stamps right?"
        );
    }
    let instead = if given != 0.0 {
        format!(" (in place of {given})")
    } else {
        String::new()
    };
    format!("Try --log-clock-offset {offset}{instead} or --log-utc-offset")
}

/// JSON records gathered in one buffer and written about 64 KiB at a time:
/// a write that large goes past the `BufWriter`'s own buffer, so each byte of
/// a report (hundreds of megabytes for a big capture) is copied once, not
/// twice; and dozens of small writes per record would cost more still.
struct Batch {
    buf: Vec<u8>,
}

impl Batch {
    const SIZE: usize = 64 * 1024;

    fn new() -> Batch {
        Batch {
            buf: Vec::with_capacity(Batch::SIZE + 4096),
        }
    }

    /// Appends `sep` and the record `write` writes; writes the batch out once
    /// it is full.
    fn record(
        &mut self,
        out: &mut impl Write,
        sep: &[u8],
        write: impl FnOnce(&mut Vec<u8>) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        self.buf.extend_from_slice(sep);
        write(&mut self.buf)?;
        if self.buf.len() >= Batch::SIZE {
            self.flush(out)?;
        }
        Ok(())
    }

    fn flush(&mut self, out: &mut impl Write) -> std::io::Result<()> {
        out.write_all(&self.buf)?;
        self.buf.clear();
        Ok(())
    }
}

/// Streams finished transactions into the JSON document as they settle.
struct JsonSink<'w, W: Write> {
    out: &'w mut W,
    first: bool,
    error: Option<std::io::Error>,
    batch: Batch,
}

impl<W: Write> Sink for JsonSink<'_, W> {
    fn wants_transactions(&self) -> bool {
        true
    }

    fn transaction(&mut self, s: &Summary) {
        if self.error.is_some() {
            return;
        }
        let sep: &[u8] = if self.first { b"\n" } else { b",\n" };
        self.first = false;
        if let Err(e) = self.batch.record(self.out, sep, |w| s.write_json(w)) {
            self.error = Some(e);
        }
    }
}

impl<W: Write> JsonSink<'_, W> {
    /// Writes what is still gathered; the first error of the stream, if any.
    fn finish(mut self) -> Option<std::io::Error> {
        match self.error {
            Some(e) => Some(e),
            None => self.batch.flush(self.out).err(),
        }
    }
}

/// Collects nothing while streaming; the report is printed at the end.
struct Quiet;

impl Sink for Quiet {
    fn finding(&mut self, _f: &Finding) {}
}

/// A capture whose clock was off (`clock_offsets` in the JSON report): its
/// times are moved by `offset` seconds onto `reference`'s clock.
#[derive(Serialize)]
struct ClockJson<'a> {
    file: &'a str,
    reference: &'a str,
    /// Its clock minus the reference's, in seconds.
    offset: f64,
    /// Messages seen in each, and those within 50 ms of the offset.
    matched: usize,
    agreeing: usize,
    /// The capture it was measured against, when not the reference (one
    /// placed against the reference before it).
    #[serde(skip_serializing_if = "Option::is_none")]
    placed_through: Option<&'a str>,
    /// For a part of a capture tcpdump rotated, which holds no message in
    /// common with the others: the part whose offset it takes.
    #[serde(skip_serializing_if = "Option::is_none")]
    part_of: Option<&'a str>,
}

/// Refuses an `--html` path that would overwrite an input (a capture or log
/// of a case, also one found in a case's directory) or any capture: the
/// usual slip is `--html` taking the next argument, a capture, as its file.
fn check_html_path(path: &std::path::Path, cases: &[Case]) -> anyhow::Result<()> {
    let shown = inputs::shown(path);
    let inputs = cases.iter().flat_map(|c| c.captures.iter().chain(&c.logs));
    if let Some(i) = inputs.into_iter().find(|i| inputs::same_file(path, i)) {
        anyhow::bail!(
            "--html {shown}: that is an input ({}), which the page would overwrite: give the page a file of its own, e.g. --html report.html",
            inputs::shown(i)
        );
    }
    // Only a regular file is looked into: reading a FIFO, a terminal or
    // `/dev/stdout` (a page sent on) would wait for input that never comes.
    let mut head = [0u8; 6];
    let read = std::fs::metadata(path).is_ok_and(|m| m.is_file())
        && std::fs::File::open(path)
            .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut head))
            .is_ok();
    let what = if !read {
        None
    } else if capture::read::is_capture_magic([head[0], head[1], head[2], head[3]]) {
        Some("a capture")
    } else {
        match capture::read::compression(&head) {
            Some("zip") => Some("a zip archive"),
            Some("gzip") => Some("a gzip-compressed file"),
            Some("zstd") => Some("a zstd-compressed file"),
            Some("xz") => Some("an xz-compressed file"),
            Some("bzip2") => Some("a bzip2-compressed file"),
            Some("lz4") => Some("an lz4-compressed file"),
            Some(_) => Some("a compressed file"),
            None => None,
        }
    };
    if let Some(what) = what {
        anyhow::bail!(
            "--html {shown}: that file is {what}, which the page would overwrite: give the page a file of its own, e.g. --html report.html"
        );
    }
    Ok(())
}

/// Runs once per process: the last case's report is left for the exit to free.
///
/// With `--html`, the page is written whatever becomes of standard output:
/// once it is closed (`| head`), the rest of the text is dropped, the cases
/// are still diagnosed, and the outcome is theirs.
pub fn run(a: &DiagnoseArgs, style: Style, out: &mut impl Write) -> anyhow::Result<Outcome> {
    let cases = cases(a)?;
    match &a.html {
        Some(path) => {
            check_html_path(path, &cases)?;
            run_cases(a, &cases, style, &mut UntilClosed { out, closed: false })
        }
        None => run_cases(a, &cases, style, out),
    }
}

/// A writer that drops what comes after its reader went away (a broken
/// pipe), instead of failing.
struct UntilClosed<'w, W: Write> {
    out: &'w mut W,
    closed: bool,
}

impl<W: Write> UntilClosed<'_, W> {
    fn tolerate(&mut self, r: std::io::Result<()>) -> std::io::Result<()> {
        match r {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(())
            }
            r => r,
        }
    }
}

impl<W: Write> Write for UntilClosed<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if !self.closed {
            let r = self.out.write_all(buf);
            self.tolerate(r)?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.closed {
            return Ok(());
        }
        let r = self.out.flush();
        self.tolerate(r)
    }
}

fn run_cases(
    a: &DiagnoseArgs,
    cases: &[Case],
    style: Style,
    out: &mut impl Write,
) -> anyhow::Result<Outcome> {
    let mut log_run = crate::explain::LogRun::new(&a.logs, &a.time, cases.len());
    let mut outcome = Outcome::Healthy;
    let mut page = a.html.as_ref().map(|_| crate::html::Page::default());
    for (n, case) in cases.iter().enumerate() {
        // What this case adds to the exit code.
        let mut case_outcome = Outcome::Healthy;
        let clocks = if a.keep_clocks {
            crate::feed::Clocks::Keep
        } else {
            crate::feed::Clocks::Measure
        };
        let feed = Feed::open_with(&case.captures, clocks);
        let names = feed.names();
        let log_names: Vec<String> = case
            .logs
            .iter()
            .map(|l| inputs::shown(l).into_owned())
            .collect();
        let start = feed.first_timestamp().map(|t| t.0);
        let cfg = Config {
            files: names.clone(),
            ..Config::default()
        };
        let feed_clocks = feed.clock_offsets.clone();
        let unmeasured: Vec<&str> = feed
            .clocks_unmeasured
            .iter()
            .map(|&f| names[f].as_str())
            .collect();
        let mut clock_notes = feed.clock_notes();
        let clocks: Vec<ClockJson<'_>> = feed
            .clock_offsets
            .iter()
            .map(|o| ClockJson {
                file: &names[o.file],
                reference: &names[o.reference],
                offset: o.offset_ns as f64 / 1e9,
                matched: o.matched,
                agreeing: o.agreeing,
                placed_through: (o.measured_against != o.reference)
                    .then(|| names[o.measured_against].as_str()),
                part_of: (feed.clock_parts.iter())
                    .find(|p| p.0 == o.file)
                    .map(|p| names[p.1].as_str()),
            })
            .collect();
        let (report, feed, error) = if a.json {
            write!(
                out,
                "{{\"case\":{},\"files\":{},\"clock_offsets\":{},\"clocks_unmeasured\":{},\"transactions\":[",
                serde_json::to_string(&case.name)?,
                serde_json::to_string(&names)?,
                serde_json::to_string(&clocks)?,
                serde_json::to_string(&unmeasured)?
            )?;
            let mut engine = Engine::new(
                cfg,
                JsonSink {
                    out: &mut *out,
                    first: true,
                    error: None,
                    batch: Batch::new(),
                },
            );
            let mut feed = feed;
            engine.captures_start(&feed.first_frames());
            engine.push_all(feed.by_ref());
            let (report, sink) = engine.finish();
            let error = sink.finish();
            (report, feed, error)
        } else {
            let mut engine = Engine::new(cfg, Quiet);
            let mut feed = feed;
            engine.captures_start(&feed.first_frames());
            engine.push_all(feed.by_ref());
            (engine.finish().0, feed, None)
        };
        if let Some(e) = error {
            return Err(e.into());
        }
        // The warnings below come after the transactions written so far.
        out.flush()?;
        let mut report = report;
        let mut log_problems = Vec::new();
        let mut log_warnings = Vec::new();
        if !case.logs.is_empty() {
            let offsets: Vec<i64> = feed_clocks.iter().map(|o| o.offset_ns).collect();
            let mut logs = diagnose::logjoin::Logs::new(&report, &offsets);
            let (read, problems, warnings) = log_run.read(&case.logs, start, &mut logs);
            case_outcome = case_outcome.and(read);
            log_problems = problems;
            log_warnings = warnings;
            // A log whose times fall outside the captures' may be on the
            // clock of a capture that was moved: it moves the same way.
            for m in diagnose::logjoin::clock_mismatches(&report, &logs) {
                let Some(i) = logs.files.iter().position(|f| *f == m.file) else {
                    continue;
                };
                for o in &feed_clocks {
                    diagnose::logjoin::shift_times(&mut logs, i, o.offset_ns);
                    let fits = !diagnose::logjoin::clock_mismatches(&report, &logs)
                        .iter()
                        .any(|x| x.file == m.file);
                    if fits {
                        let note = format!(
                            "{}'s times are moved as {}'s are: it was written on that host's clock",
                            m.file, names[o.file]
                        );
                        // The JSON report has no clock notes: said on
                        // stderr and in `input_warnings`, as a warning.
                        if a.json {
                            let message = format!(
                                "its times are moved as {}'s are: it was written on that host's clock",
                                names[o.file]
                            );
                            log_run.tell(format_args!("{}: {message}", m.file));
                            log_warnings.push(InputProblem {
                                file: m.file.clone(),
                                message,
                            });
                        }
                        clock_notes.push(note);
                        break;
                    }
                    diagnose::logjoin::shift_times(&mut logs, i, -o.offset_ns);
                }
            }
            for m in diagnose::logjoin::clock_mismatches(&report, &logs) {
                // Cases may be captured at other times: each is named.
                let capture = if cases.len() > 1 {
                    format!("the time of {}", case.name)
                } else {
                    "the capture's time".to_string()
                };
                let message = format!(
                    "none of its {} timed lines falls within {capture} (they are {} s {} it): \
                     is the log's clock or time zone off? {}",
                    m.timed_lines,
                    m.apart_s.unsigned_abs(),
                    if m.apart_s > 0 { "after" } else { "before" },
                    clock_advice(a.time.log_clock_offset, m.apart_s)
                );
                log_run.tell(format_args!("{}: {message}", m.file));
                log_warnings.push(InputProblem {
                    file: m.file.clone(),
                    message,
                });
            }
            diagnose::logjoin::attach(&mut report, &mut logs);
        }
        for p in case.problems.iter().chain(&feed.problems) {
            warn(format_args!("{}: {}", p.file, p.message));
            case_outcome = Outcome::Error;
        }
        // What was wrong with the inputs, said on stderr and in the JSON:
        // frames of a link type dhcplens does not read (an error, as a file
        // that cannot be read is), and what the rest of the report stands on.
        let unsupported = feed.unsupported_problems();
        if !unsupported.is_empty() {
            case_outcome = Outcome::Error;
        }
        let (mut warnings, doubtful) = feed.warnings(&case.name);
        // Said, as what the report stands on; not a problem found (a
        // directory is read for the captures it is named as holding).
        warnings.extend(case.skipped.iter().cloned());
        // A capture with nothing to diagnose is no answer, not a healthy
        // network (and in a client + server pair, maybe the wrong filter).
        let (no_dhcp, without_dhcp) = feed.without_dhcp_warnings();
        warnings.extend(no_dhcp);
        if without_dhcp {
            case_outcome = case_outcome.and(Outcome::Problems);
        }
        if doubtful {
            case_outcome = case_outcome.and(Outcome::Problems);
        }
        for p in unsupported.iter().chain(&warnings) {
            warn(format_args!("{}: {}", p.file, p.message));
        }
        if a.json {
            let problems: Vec<&InputProblem> = (case.problems.iter())
                .chain(&feed.problems)
                .chain(&unsupported)
                .chain(&log_problems)
                .collect();
            // Streamed field by field: the clients of a big capture would
            // make a string of tens of megabytes.
            out.write_all(b"\n],\"logs\":")?;
            serde_json::to_writer(&mut *out, &log_names)?;
            out.write_all(b",\"clients\":")?;
            out.write_all(b"[")?;
            let mut batch = Batch::new();
            for (i, c) in report.clients.iter().enumerate() {
                let sep: &[u8] = if i == 0 { b"\n" } else { b",\n" };
                batch.record(out, sep, |w| c.write_json(w))?;
            }
            batch.flush(out)?;
            out.write_all(b"\n]")?;

            out.write_all(b",\"findings\":[")?;
            for (i, f) in report.findings().enumerate() {
                let sep: &[u8] = if i > 0 { b"," } else { b"" };
                batch.record(out, sep, |w| f.write_json(w))?;
            }
            batch.flush(out)?;
            out.write_all(b"]")?;
            out.write_all(b",\"servers\":")?;
            serde_json::to_writer(&mut *out, &report.servers)?;
            out.write_all(b",\"stats\":")?;
            serde_json::to_writer(&mut *out, &report.stats)?;
            out.write_all(b",\"input_problems\":")?;
            serde_json::to_writer(&mut *out, &problems)?;
            out.write_all(b",\"input_warnings\":")?;
            let warnings: Vec<&InputProblem> = warnings.iter().chain(&log_warnings).collect();
            serde_json::to_writer(&mut *out, &warnings)?;
            // Not healthy either when no DHCP packet was read at all, nor
            // when the case's inputs make the exit code other than 0 (an
            // input problem, an unusable log, a capture with no DHCP).
            let healthy = report.healthy() && feed.dhcp() > 0 && case_outcome == Outcome::Healthy;
            writeln!(out, ",\"healthy\":{healthy}}}")?;
        } else {
            if cases.len() > 1 || n > 0 {
                writeln!(
                    out,
                    "{}",
                    style.paint(
                        crate::style::Paint::Cyan,
                        format!("== {}", crate::style::printable(&case.name))
                    )
                )?;
            }
            for note in &clock_notes {
                writeln!(
                    out,
                    "{} {}",
                    style.paint(crate::style::Paint::Bold, "clocks:"),
                    crate::style::printable(note)
                )?;
            }
            diagnose_text::print(out, &report, &names, a.problems, style)?;
            if cases.len() > 1 {
                writeln!(out)?;
            }
        }
        if let Some(p) = page.as_mut() {
            p.add_case(&case.name, &names, &log_names, &report, &feed);
        }
        if !report.healthy() {
            case_outcome = case_outcome.and(Outcome::Problems);
        }
        outcome = outcome.and(case_outcome);
        if n + 1 == cases.len() {
            // The process ends with this case: freeing every client's
            // record one by one (cold memory for a big capture) would only
            // delay the exit.
            std::mem::forget(report);
        }
    }
    if let (Some(p), Some(path)) = (page, &a.html) {
        p.write(path)?;
    }
    Ok(outcome)
}
