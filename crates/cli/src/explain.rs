//! `dhcplens explain`: what each log line that matters means, grouped per
//! client; and reading logs for `diagnose --log`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{BufRead, BufReader, Cursor, Read, Write};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use anyhow::Context as _;
use logs::{ClientKey, Event, LogReader, Options, TimeContext};
use serde::Serialize;
use wire::HwAddr;

use crate::args::{ExplainArgs, LogTime};
use crate::feed::InputProblem;
use crate::inputs::{is_stdin, shown, STDIN_NAME};
use crate::style::{printable, Paint, Style};
use crate::{warn, Outcome};

/// The time context for a log: the user's offsets, and a reference time
/// (for year-less stamps): the capture's start, else the file's mtime, else now.
pub fn time_context(t: &LogTime, path: &Path, capture_start: Option<i64>) -> TimeContext {
    let mtime = (!is_stdin(path))
        .then(|| std::fs::metadata(path).ok()?.modified().ok())
        .flatten()
        .and_then(|m| m.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_nanos() as i64);
    TimeContext {
        reference: capture_start
            .or(mtime)
            .or(Some(capture::Timestamp::now().0)),
        utc_offset_secs: t.log_utc_offset,
        clock_offset_ns: (t.log_clock_offset * 1e9) as i64,
        // Without a capture, the file's date (or now): the log's end.
        reference_is_end: capture_start.is_none(),
    }
}

/// Standard input, unless it is a terminal: a log is piped in, and waiting
/// for one to be typed would look like a hang.
fn stdin_log() -> anyhow::Result<std::io::Stdin> {
    let stdin = std::io::stdin();
    if std::io::IsTerminal::is_terminal(&stdin) {
        anyhow::bail!(
            "{STDIN_NAME}: cannot open: standard input is a terminal, not a log: pipe one in \
             (e.g. `journalctl -u isc-dhcp-server | dhcplens explain -`) or name a file"
        );
    }
    Ok(stdin)
}

/// Opens a log file (or stdin for `-`).
pub fn open(path: &Path, opts: Options) -> anyhow::Result<LogReader<Box<dyn std::io::BufRead>>> {
    let reader: Box<dyn std::io::BufRead> = if is_stdin(path) {
        Box::new(BufReader::new(stdin_log()?))
    } else {
        Box::new(BufReader::new(
            std::fs::File::open(path).with_context(|| format!("{}: cannot open", shown(path)))?,
        ))
    };
    LogReader::new(shown(path), reader, opts).map_err(|e| anyhow::anyhow!("{e}"))
}

/// The logs of a `diagnose` run, read for each case: the `--log` files join
/// every case, yet each problem with a log is said once per run, and
/// standard input is read once.
pub struct LogRun<'a> {
    /// The `--log` files.
    named: &'a [PathBuf],
    time: &'a LogTime,
    /// Warnings already said (each names its log).
    told: HashSet<String>,
    /// Whether several cases read the logs: then stdin is kept for each.
    shared: bool,
    /// Standard input, read whole the first time a case reads it (when shared).
    stdin: Option<Result<Rc<[u8]>, String>>,
}

impl<'a> LogRun<'a> {
    /// For `cases` cases.
    pub fn new(named: &'a [PathBuf], time: &'a LogTime, cases: usize) -> LogRun<'a> {
        LogRun {
            named,
            time,
            told: HashSet::new(),
            shared: cases > 1,
            stdin: None,
        }
    }

    /// Opens log `path`; stdin, when shared, is read whole once and each
    /// case reads that copy.
    fn open(&mut self, path: &Path, opts: Options) -> anyhow::Result<LogReader<Box<dyn BufRead>>> {
        if !is_stdin(path) || !self.shared {
            return open(path, opts);
        }
        let bytes = self.stdin.get_or_insert_with(|| {
            let mut buf = Vec::new();
            let stdin = stdin_log().map_err(|e| e.to_string())?;
            match stdin.lock().read_to_end(&mut buf) {
                Ok(_) => Ok(buf.into()),
                Err(e) => Err(format!("{STDIN_NAME}: cannot read: {e}")),
            }
        });
        let bytes = Rc::clone(bytes.as_ref().map_err(|e| anyhow::anyhow!("{e}"))?);
        let input: Box<dyn BufRead> = Box::new(Cursor::new(bytes));
        LogReader::new(STDIN_NAME, input, opts).map_err(|e| anyhow::anyhow!("{e}"))
    }

    /// Says a warning about a log (it names the log), unless this run
    /// already said it.
    pub fn tell(&mut self, warning: impl std::fmt::Display) {
        let text = warning.to_string();
        if !self.told.contains(&text) {
            warn(&text);
            self.told.insert(text);
        }
    }

    /// Reads a case's logs into `logs`; a file that cannot be read is reported and
    /// skipped (an error), and so is one of the `--log` files (not found in
    /// a case's directory, where other programs' logs may sit as context) in
    /// which no line is recognised (no answer).
    ///
    /// Also returns the logs that could not be read, each with why (for a
    /// JSON report's `input_problems`), and those in which no line was
    /// recognised (its `input_warnings`): for this case, said or not.
    pub fn read(
        &mut self,
        paths: &[PathBuf],
        capture_start: Option<i64>,
        logs: &mut diagnose::logjoin::Logs,
    ) -> (Outcome, Vec<InputProblem>, Vec<InputProblem>) {
        let mut outcome = Outcome::Healthy;
        let mut problems = Vec::new();
        let mut warnings = Vec::new();
        for p in paths {
            let name = shown(p);
            let opts = Options {
                time: time_context(self.time, p, capture_start),
                program: self.time.program,
            };
            let mut r = match self.open(p, opts) {
                Ok(r) => r,
                Err(e) => {
                    let message = format!("{e:#}");
                    self.tell(&message);
                    problems.push(InputProblem::of(&name, &message));
                    outcome = Outcome::Error;
                    continue;
                }
            };
            let idx = logs.add_file(name.to_string());
            let mut failed = false;
            for e in &mut r {
                match e {
                    Ok(e) => logs.push(idx, e),
                    Err(e) => {
                        let message = e.to_string();
                        self.tell(&message);
                        problems.push(InputProblem::of(&name, &message));
                        outcome = Outcome::Error;
                        failed = true;
                        break;
                    }
                }
            }
            if !failed && r.stats().events == 0 && self.named.contains(p) {
                let message = unrecognised(p, r.stats(), self.time);
                self.tell(&message);
                warnings.push(InputProblem::of(&name, &message));
                outcome = outcome.and(Outcome::Problems);
            }
        }
        logs.end_file();
        (outcome, problems, warnings)
    }
}

impl InputProblem {
    /// A log's problem: `message` names the log first, as every warning
    /// does; the report's entry gives the name apart.
    fn of(name: &str, message: &str) -> InputProblem {
        let message = message
            .strip_prefix(name)
            .and_then(|m| m.strip_prefix(": "))
            .unwrap_or(message);
        InputProblem {
            file: name.to_string(),
            message: message.to_string(),
        }
    }
}

/// The warning that no line of log `path` was recognised.
fn unrecognised(path: &Path, stats: &logs::Stats, t: &LogTime) -> String {
    let path = shown(path);
    let lines = match stats.lines {
        0 => "it is empty, so no line is".to_string(),
        1 => "its one line is not".to_string(),
        n => format!("none of its {n} lines is"),
    };
    format!(
        "{path}: {lines} from a DHCP server or client this reads (ISC dhcpd, Kea, dnsmasq, dhclient, udhcpc, dhcpcd, dhcplens serve); is it the right log?{}",
        if t.program.is_none() { " For bare lines without a program name, give --program." } else { "" }
    )
}

fn key_text(k: &Option<ClientKey>) -> String {
    match k {
        Some(ClientKey::HwAddr(h)) => h.to_string(),
        Some(ClientKey::ClientId(c)) => format!(
            "client-id {}",
            c.iter()
                .map(|b| format!("{b:02x}"))
                .collect::<Vec<_>>()
                .join(":")
        ),
        Some(ClientKey::Xid(x)) => format!("xid 0x{x:08x}"),
        None => "(no client named: server-wide)".into(),
    }
}

#[derive(Serialize)]
struct Explained<'a> {
    #[serde(flatten)]
    event: &'a Event,
    meaning: &'static str,
    cause: Option<&'static str>,
    severity: String,
    confidence: String,
    fix: &'a str,
}

/// One log's document (`--json`), written straight from the events: a
/// `serde_json::Value` of it would take several times the events' memory.
#[derive(Serialize)]
struct LogJson<'a> {
    log: &'a str,
    /// Why the log could not be read, or where reading it stopped (what
    /// came before is in the document).
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    lines: u64,
    events: u64,
    unknown_lines: u64,
    clients: Vec<ClientJson<'a>>,
}

#[derive(Serialize)]
struct ClientJson<'a> {
    client: String,
    events: Vec<Explained<'a>>,
    /// What several lines say together (always written, often empty).
    runs: Vec<RunJson>,
}

/// A pattern of several lines ([`logs::runs`]), as `--json` writes it.
#[derive(Serialize)]
struct RunJson {
    cause: &'static str,
    severity: logs::Severity,
    confidence: &'static str,
    meaning: String,
    fix: String,
    lines: Vec<u64>,
    span_secs: Option<f64>,
    /// The first ACK line's text.
    message: String,
}

/// What a run of ACKs to one client's same REQUEST means.
fn repeated_acks_json(r: &logs::RepeatedAcks) -> RunJson {
    RunJson {
        cause: "ack-ignored",
        severity: r.severity(),
        confidence: "likely",
        meaning: format!(
            "The server ACKed the same REQUEST {} times{}. {}",
            r.acks.len(),
            r.span_secs
                .map_or(String::new(), |s| format!(" in {s:.1} s")),
            r.meaning()
        ),
        fix: format!(
            "Capture at the client and at the server (`dhcplens diagnose server.pcap client.pcap`): {}",
            logs::runs::REPEATED_ACKS_FIX
        ),
        lines: r.acks.iter().map(|a| a.line).collect(),
        span_secs: r.span_secs,
        message: r.acks[0].message.trim().to_string(),
    }
}

/// What `explain` keeps of one client's lines: those it prints, and how
/// many the others are (a server's log of a busy network has millions of
/// normal steps, which only `--all` shows).
#[derive(Default)]
struct Group {
    /// The lines shown (those with a cause; every line with `--all`), in
    /// order, as indexes in [`Gathered::shown`].
    shown: Vec<usize>,
    /// For the text, which quotes the first line of each kind and the
    /// numbers of the first [`SHOWN_LINES`]: how many more lines of each
    /// kind there are, not kept.
    more: Vec<(logs::Kind, usize)>,
    causes: usize,
    /// Lines without a cause (normal DHCP steps).
    normal: usize,
}

/// How many line numbers the text gives per kind.
const SHOWN_LINES: usize = 8;

impl Group {
    /// Counts line `e`.
    fn count(&mut self, e: &Event) {
        if e.cause().is_some() {
            self.causes += 1;
        } else {
            self.normal += 1;
        }
    }
}

/// One log read for `explain`: its lines grouped per client as they come,
/// with the runs of ACKs, keeping what is printed and no more.
struct Gathered {
    all: bool,
    /// Only the text is written (no `--json`): of each kind, a client's
    /// first [`SHOWN_LINES`] lines are all it shows.
    text: bool,
    /// The chaddr of each xid, from lines that name both.
    xid_owner: HashMap<u32, HwAddr>,
    /// The lines shown (those with a cause; every line with `--all`).
    shown: Vec<Event>,
    /// Those whose client is known only at the end (indexes in `shown`):
    /// the lines that name an xid but no chaddr (a line further on may name
    /// both); with `--all`, every line…
    unplaced: Vec<usize>,
    /// …and how many lines naming an xid but no chaddr are not shown
    /// (normal steps), by xid and client id (their key without a chaddr).
    xid_only_normal: HashMap<(u32, Option<Vec<u8>>), usize>,
    groups: BTreeMap<String, Group>,
    runs: logs::AckRuns,
    /// Lines with a cause, per cause.
    tally: BTreeMap<&'static str, usize>,
    /// Lines with a cause of warning severity or worse.
    problems: usize,
}

impl Gathered {
    fn new(all: bool, text: bool) -> Gathered {
        Gathered {
            all,
            text,
            xid_owner: HashMap::new(),
            shown: Vec::new(),
            unplaced: Vec::new(),
            xid_only_normal: HashMap::new(),
            groups: BTreeMap::new(),
            runs: logs::AckRuns::default(),
            tally: BTreeMap::new(),
            problems: 0,
        }
    }

    fn push(&mut self, e: Event) {
        if let Some(c) = e.cause() {
            *self.tally.entry(c.code()).or_default() += 1;
            if e.severity() >= logs::Severity::Warning {
                self.problems += 1;
            }
        }
        if let (Some(x), Some(h)) = (e.fields.xid, e.fields.chaddr) {
            self.xid_owner.insert(x, h);
        }
        if self.all {
            // Every line is kept, and grouped at the end.
            self.unplaced.push(self.shown.len());
            self.shown.push(e);
            return;
        }
        self.runs.push(&e);
        let shown = e.cause().is_some();
        let key = match (e.fields.chaddr, e.fields.xid) {
            (None, Some(_)) if shown => {
                self.unplaced.push(self.shown.len());
                self.shown.push(e);
                return;
            }
            (None, Some(x)) => {
                // Not shown: a normal step (a line with a cause is shown).
                let id = e.fields.client_id.clone();
                *self.xid_only_normal.entry((x, id)).or_default() += 1;
                return;
            }
            // A chaddr, or nothing to wait for.
            _ => key_text(&e.client_key()),
        };
        let g = self.groups.entry(key).or_default();
        g.count(&e);
        if !shown {
            return;
        }
        if self.text {
            let of_kind = g.shown.iter().filter(|&&i| self.shown[i].kind == e.kind);
            if of_kind.count() >= SHOWN_LINES {
                match g.more.iter_mut().find(|(k, _)| *k == e.kind) {
                    Some((_, n)) => *n += 1,
                    None => g.more.push((e.kind, 1)),
                }
                return;
            }
        }
        g.shown.push(self.shown.len());
        self.shown.push(e);
    }

    fn finish(mut self) -> Grouped {
        // A line's client: its chaddr, else the chaddr a line naming its
        // xid named, else its own key (`Event::client_key`).
        let owner = |x: Option<u32>| x.and_then(|x| self.xid_owner.get(&x).copied());
        let key = |h: Option<HwAddr>, x: Option<u32>, id: Option<&Vec<u8>>| {
            let k = h.or_else(|| owner(x)).map(ClientKey::HwAddr);
            let k = k.or_else(|| id.map(|id| ClientKey::ClientId(id.clone())));
            key_text(&k.or_else(|| x.map(ClientKey::Xid)))
        };
        for i in std::mem::take(&mut self.unplaced) {
            let f = &self.shown[i].fields;
            let g = (self.groups)
                .entry(key(f.chaddr, f.xid, f.client_id.as_ref()))
                .or_default();
            g.count(&self.shown[i]);
            g.shown.push(i);
        }
        for ((x, id), normal) in std::mem::take(&mut self.xid_only_normal) {
            let g = self.groups.entry(key(None, Some(x), id.as_ref()));
            g.or_default().normal += normal;
        }
        // Lines placed here may come before those placed as they came.
        let shown = &self.shown;
        for g in self.groups.values_mut() {
            g.shown.sort_by_key(|&i| shown[i].line);
        }
        let mut runs: BTreeMap<String, Vec<RunJson>> = BTreeMap::new();
        let found = if self.all {
            logs::repeated_acks(&self.shown)
        } else {
            std::mem::take(&mut self.runs).finish()
        };
        for r in found {
            let key = key_text(&Some(ClientKey::HwAddr(r.chaddr)));
            *self.tally.entry("ack-ignored").or_default() += 1;
            self.problems += 1;
            runs.entry(key.clone())
                .or_default()
                .push(repeated_acks_json(&r));
            self.groups.entry(key).or_default();
        }
        Grouped {
            shown: self.shown,
            groups: self.groups,
            runs,
            tally: self.tally,
            problems: self.problems,
        }
    }
}

/// One log's lines per client, as `explain` prints them.
struct Grouped {
    /// The lines shown, which the groups index.
    shown: Vec<Event>,
    groups: BTreeMap<String, Group>,
    runs: BTreeMap<String, Vec<RunJson>>,
    /// Lines with a cause and runs of lines, per cause.
    tally: BTreeMap<&'static str, usize>,
    /// Lines with a cause of warning severity or worse, and runs of lines.
    problems: usize,
}

pub fn run(a: &ExplainArgs, style: Style, out: &mut impl Write) -> anyhow::Result<Outcome> {
    crate::inputs::stdin_once(&a.logs)?;
    let mut outcome = Outcome::Healthy;
    for path in &a.logs {
        let name = shown(path);
        let opts = Options {
            time: time_context(&a.time, path, None),
            program: a.time.program,
        };
        let mut r = match open(path, opts) {
            Ok(r) => r,
            Err(e) => {
                let message = format!("{e:#}");
                warn(&message);
                outcome = Outcome::Error;
                if a.json {
                    // Every log named has its document, this one its error.
                    let doc = LogJson {
                        log: &name,
                        error: Some(InputProblem::of(&name, &message).message),
                        lines: 0,
                        events: 0,
                        unknown_lines: 0,
                        clients: Vec::new(),
                    };
                    serde_json::to_writer(&mut *out, &doc)?;
                    writeln!(out)?;
                }
                continue;
            }
        };
        let mut gathered = Gathered::new(a.all, !a.json);
        // Reading stops at an error: what came before is still explained.
        let mut stopped = None;
        for e in &mut r {
            match e {
                Ok(e) => gathered.push(e),
                Err(e) => {
                    let message = e.to_string();
                    warn(&message);
                    outcome = Outcome::Error;
                    stopped = Some(InputProblem::of(&name, &message).message);
                    break;
                }
            }
        }
        let stats = *r.stats();
        let Grouped {
            shown,
            groups,
            mut runs,
            tally,
            problems,
        } = gathered.finish();
        if problems > 0 {
            outcome = outcome.and(Outcome::Problems);
        }
        if stats.events == 0 && stopped.is_none() {
            warn(unrecognised(path, &stats, &a.time));
            outcome = outcome.and(Outcome::Problems);
        }

        if a.json {
            let clients: Vec<ClientJson<'_>> = groups
                .iter()
                .map(|(k, g)| ClientJson {
                    runs: runs.remove(k).unwrap_or_default(),
                    client: k.clone(),
                    events: g
                        .shown
                        .iter()
                        .map(|&i| &shown[i])
                        .map(|e| Explained {
                            event: e,
                            meaning: e.meaning(),
                            cause: e.cause().map(|c| c.code()),
                            severity: e.severity().to_string(),
                            confidence: e.confidence().to_string(),
                            fix: e.fix(),
                        })
                        .collect(),
                })
                .filter(|c| !c.events.is_empty() || !c.runs.is_empty())
                .collect();
            serde_json::to_writer(
                &mut *out,
                &LogJson {
                    log: &name,
                    error: stopped,
                    lines: stats.lines,
                    events: stats.events,
                    unknown_lines: stats.unknown,
                    clients,
                },
            )?;
            writeln!(out)?;
            continue;
        }
        writeln!(
            out,
            "{}",
            style.paint(
                Paint::Cyan,
                format!(
                    "== {}: {} lines, {} about DHCP, {} not understood (skipped)",
                    printable(&name),
                    stats.lines,
                    stats.events,
                    stats.unknown
                )
            )
        )?;
        for (key, g) in &groups {
            let client_runs = runs.get(key).map_or(&[][..], Vec::as_slice);
            if g.causes == 0 && client_runs.is_empty() && !a.all {
                continue;
            }
            writeln!(out, "{}", style.paint(Paint::Bold, printable(key)))?;
            for r in client_runs {
                let sev = if r.severity == logs::Severity::Error {
                    style.paint(Paint::Red, "error  ")
                } else {
                    style.paint(Paint::Yellow, "warning")
                };
                let lines: Vec<String> = r.lines.iter().take(8).map(u64::to_string).collect();
                writeln!(
                    out,
                    "  {sev} {}  ({}, lines {}{})",
                    style.paint(Paint::Bold, r.cause),
                    r.confidence,
                    lines.join(", "),
                    if r.lines.len() > 8 { ", …" } else { "" }
                )?;
                writeln!(out, "          {}", printable(&r.message))?;
                writeln!(out, "          means: {}", r.meaning)?;
                writeln!(out, "          fix: {}", r.fix)?;
            }
            // One entry per kind, with its count and line numbers.
            let mut kinds: Vec<(logs::Kind, Vec<&Event>)> = Vec::new();
            for e in g.shown.iter().map(|&i| &shown[i]) {
                match kinds.iter_mut().find(|(k, _)| *k == e.kind) {
                    Some((_, v)) => v.push(e),
                    None => kinds.push((e.kind, vec![e])),
                }
            }
            for (kind, v) in kinds {
                let first = v[0];
                let more = g.more.iter().find(|(k, _)| *k == kind).map_or(0, |m| m.1);
                let count = v.len() + more;
                let lines: Vec<String> = v
                    .iter()
                    .take(SHOWN_LINES)
                    .map(|e| e.line.to_string())
                    .collect();
                let sev = match first.severity() {
                    logs::Severity::Error => style.paint(Paint::Red, "error  "),
                    logs::Severity::Warning => style.paint(Paint::Yellow, "warning"),
                    logs::Severity::Info => style.paint(Paint::Dim, "info   "),
                };
                writeln!(
                    out,
                    "  {sev} {}{}  ({}, line{} {}{})",
                    style.paint(Paint::Bold, first.cause().map_or(kind.name(), |c| c.code())),
                    if count > 1 {
                        format!(" ×{count}")
                    } else {
                        String::new()
                    },
                    first.confidence(),
                    if count > 1 { "s" } else { "" },
                    lines.join(", "),
                    if count > SHOWN_LINES { ", …" } else { "" }
                )?;
                // Lines are shown as read, but for their controls (the
                // meaning is the catalogue's; a fix may be the line's own).
                writeln!(out, "          {}", printable(first.message.trim()))?;
                writeln!(out, "          means: {}", first.meaning())?;
                if !first.fix().is_empty() {
                    writeln!(out, "          fix: {}", printable(first.fix()))?;
                }
            }
            if g.normal > 0 && !a.all {
                writeln!(
                    out,
                    "  {}",
                    style.paint(
                        Paint::Dim,
                        format!(
                            "and {} normal DHCP step{} (--all shows them)",
                            g.normal,
                            if g.normal == 1 { "" } else { "s" }
                        )
                    )
                )?;
            }
        }
        let t: Vec<String> = tally.iter().map(|(c, n)| format!("{c} ({n})")).collect();
        writeln!(
            out,
            "{} {}",
            style.paint(Paint::Bold, "causes:"),
            if t.is_empty() && stopped.is_some() {
                "none before the error above".into()
            } else if t.is_empty() {
                "none: the log shows no failure".into()
            } else {
                t.join(", ")
            }
        )?;
    }
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(log: &str) -> Vec<Event> {
        let r = LogReader::new(
            "t",
            Cursor::new(log.as_bytes().to_vec()),
            Options::default(),
        )
        .unwrap();
        r.map(|e| e.unwrap()).collect()
    }

    /// A busy server's log is mostly normal steps: `explain` counts them
    /// per client and keeps only the lines it prints, so its memory follows
    /// the clients, not the lines. A line naming only an xid joins the
    /// client a later line names with it (dnsmasq's "available DHCP range"
    /// comes before its DISCOVER).
    #[test]
    fn explain_keeps_what_it_prints_not_every_line() {
        let mut log = String::new();
        for i in 0..2000 {
            let mac = format!("02:00:00:00:00:{:02x}", i % 10);
            log += &format!("Dec  6 20:47:38 dnsmasq-dhcp[1]: {i} available DHCP range: 10.9.0.100 -- 10.9.0.150\n");
            log += &format!("Dec  6 20:47:38 dnsmasq-dhcp[1]: {i} DHCPDISCOVER(v1) {mac}\n");
        }
        log += "Dec  6 20:47:39 dnsmasq-dhcp[1]: 7 DHCPNAK(v1) 10.9.0.101 02:00:00:00:00:07 wrong server-ID\n";
        let mut g = Gathered::new(false, false);
        for e in events(&log) {
            g.push(e);
        }
        assert!(g.unplaced.is_empty(), "a normal step is counted, not kept");
        let grouped = g.finish();
        assert_eq!(grouped.groups.len(), 10);
        assert_eq!(grouped.shown.len(), 1, "only the NAK's line is kept");
        let seven = &grouped.groups["02:00:00:00:00:07"];
        assert_eq!((seven.causes, seven.normal), (1, 400));
        assert_eq!(grouped.problems, 1);

        // The text quotes the first line of each kind and numbers the
        // first eight: of 20 NAKs to one client it keeps eight, and counts
        // the rest.
        let naks: String = (0..20)
            .map(|i| format!("Dec  6 20:47:40 dnsmasq-dhcp[1]: {i} DHCPNAK(v1) 10.9.0.101 02:00:00:00:00:07 wrong server-ID\n"))
            .collect();
        let mut g = Gathered::new(false, true);
        for e in events(&naks) {
            g.push(e);
        }
        let grouped = g.finish();
        assert_eq!(grouped.shown.len(), SHOWN_LINES);
        let seven = &grouped.groups["02:00:00:00:00:07"];
        assert_eq!(
            (seven.causes, seven.more.as_slice()),
            (20, &[(logs::Kind::ForeignServerId, 12)][..])
        );

        // With --all every line is shown, and the xid-only lines are in
        // their client's, in order.
        let mut g = Gathered::new(true, false);
        for e in events(&log) {
            g.push(e);
        }
        let grouped = g.finish();
        let seven = &grouped.groups["02:00:00:00:00:07"];
        let lines: Vec<&Event> = seven.shown.iter().map(|&i| &grouped.shown[i]).collect();
        assert_eq!(lines.len(), 401);
        assert!(lines.windows(2).all(|w| w[0].line < w[1].line));
        assert_eq!(lines[0].kind, logs::Kind::RangeSelected);
    }
}
