//! Joining server and client log events to a capture's diagnosis.
//!
//! A server that refuses a DISCOVER stays silent on the wire; only its log says
//! why. Events are matched to clients by chaddr (or by xid, through events of
//! the same log that carry both) within the client's time span, and turn
//! symptoms into causes: a `no-offer` with an ISC min-secs line becomes
//! `min-secs-drop`; a NAK gets the server's own reason. A DISCOVER the server
//! never logged, while it logged other clients', is itself evidence
//! (`server-never-saw-request`); log causes for clients absent from the
//! capture are reported as well.

use std::collections::{HashMap, HashSet};

use wire::{HwAddr, MessageType};

use crate::finding::{Code, Confidence, Finding, LogEvidence, Severity, MAX_EVIDENCE_FRAMES};
use crate::report::Report;

/// What the logs say that the join to one report can use, gathered line by
/// line: the lines with a cause, the server's lines about clients whose
/// DISCOVERs went unanswered, the runs of ACKs, and a few facts per file,
/// per client and per xid. A busy server's log is mostly normal steps of
/// healthy clients, which no rule reads: they are not kept, so memory
/// follows the clients, the xids and the lines that matter, not the lines.
pub struct Logs {
    pub files: Vec<String>,
    /// The lines kept, each with the index of its file, in order (once
    /// [`Logs::settle`] has put the pending ones in).
    events: Vec<(usize, logs::Event)>,
    /// A server's lines that name only an xid no line has tied to a chaddr
    /// yet (dnsmasq's "available DHCP range" comes before its DISCOVER
    /// line): kept only if the line that ties them names a client whose
    /// DISCOVERs went unanswered, so that a long log of healthy exchanges
    /// costs no memory for them.
    pending: HashMap<u32, Vec<(usize, logs::Event)>>,
    /// xid → chaddr, from the lines that name both (the last one wins).
    by_xid: HashMap<u32, HwAddr>,
    /// The first line of each client the report does not hold, and of each
    /// xid named without a chaddr (the order of log-only findings).
    first_line: HashMap<HwAddr, (usize, u64)>,
    first_line_xid: HashMap<u32, (usize, u64)>,
    /// Per file: the span of its DISCOVER lines (which server logs record
    /// DISCOVERs at all, and over which time)…
    discovers: Vec<Option<(i64, i64)>>,
    /// …its runs of ACKs, found as it is read…
    runs: Vec<(usize, logs::RepeatedAcks)>,
    reading: Option<(usize, logs::AckRuns)>,
    /// …and its times against the captures'.
    clocks: Vec<Clock>,
    plan: Plan,
}

/// What the report tells before the logs are read.
struct Plan {
    /// The clients of the report.
    clients: HashSet<HwAddr>,
    /// Those whose DISCOVERs went unanswered: whether the server logged
    /// anything of theirs is evidence (`server-never-saw-request`)…
    no_offer: HashSet<HwAddr>,
    /// …and their time spans, padded by the join window, merged and in
    /// order (where a server line naming only an xid may be theirs).
    no_offer_spans: Vec<(i64, i64)>,
    /// The captures' time span padded by the window, if any client.
    span: Option<(i64, i64)>,
    /// The moves a log's times may get (none, or a capture clock's offset).
    shifts: Vec<i64>,
}

/// One log's times against the captures' span.
#[derive(Default)]
struct Clock {
    timed: usize,
    /// Earliest and latest time, moved by `shift`.
    range: Option<(i64, i64)>,
    /// For each of [`Plan::shifts`], whether a time moved by it falls
    /// within the captures' span.
    fits: Vec<bool>,
    /// How far its times are moved ([`shift_times`]).
    shift: i64,
}

impl Logs {
    /// Ready to gather logs for `report`, whose captures' clocks were
    /// found off by `offsets_ns` (a log written on such a host may be moved
    /// as its capture was).
    pub fn new(report: &Report, offsets_ns: &[i64]) -> Logs {
        let clients = report.clients.iter().map(|c| c.chaddr).collect();
        let failed: Vec<&crate::client::Client> = report
            .clients
            .iter()
            .filter(|c| c.details().iter().any(|d| d.code == Code::NoOffer))
            .collect();
        let mut no_offer_spans: Vec<(i64, i64)> = failed
            .iter()
            .map(|c| padded((c.first.0, c.last.0)))
            .collect();
        no_offer_spans.sort_unstable();
        let mut merged: Vec<(i64, i64)> = Vec::new();
        for (a, b) in no_offer_spans {
            match merged.last_mut() {
                Some(last) if a <= last.1 => last.1 = last.1.max(b),
                _ => merged.push((a, b)),
            }
        }
        let mut shifts = vec![0];
        shifts.extend(offsets_ns.iter().filter(|&&o| o != 0));
        Logs {
            files: Vec::new(),
            events: Vec::new(),
            pending: HashMap::new(),
            by_xid: HashMap::new(),
            first_line: HashMap::new(),
            first_line_xid: HashMap::new(),
            discovers: Vec::new(),
            runs: Vec::new(),
            reading: None,
            clocks: Vec::new(),
            plan: Plan {
                clients,
                no_offer: failed.iter().map(|c| c.chaddr).collect(),
                no_offer_spans: merged,
                span: captures_span(report).map(padded),
                shifts,
            },
        }
    }

    /// Starts log `name`; its lines are given to [`Logs::push`] with the
    /// index returned.
    pub fn add_file(&mut self, name: String) -> usize {
        self.end_file();
        self.files.push(name);
        self.discovers.push(None);
        self.clocks.push(Clock {
            fits: vec![false; self.plan.shifts.len()],
            ..Clock::default()
        });
        let f = self.files.len() - 1;
        self.reading = Some((f, logs::AckRuns::default()));
        f
    }

    /// Ends the file being read (its runs of ACKs are then known); adding
    /// a file, or the join, ends it too.
    pub fn end_file(&mut self) {
        if let Some((f, runs)) = self.reading.take() {
            self.runs.extend(runs.finish().into_iter().map(|r| (f, r)));
        }
    }

    /// Takes the next line of log `file` (the last one added; a line of
    /// any other file is ignored).
    pub fn push(&mut self, file: usize, e: logs::Event) {
        if file >= self.files.len() {
            return;
        }
        if let Some((f, runs)) = self.reading.as_mut() {
            if *f == file {
                runs.push(&e);
            }
        }
        if let Some(t) = e.time {
            let clock = &mut self.clocks[file];
            clock.timed += 1;
            widen(&mut clock.range, t);
            if let Some((lo, hi)) = self.plan.span {
                for (fits, s) in clock.fits.iter_mut().zip(&self.plan.shifts) {
                    *fits |= (lo..=hi).contains(&t.saturating_sub(*s));
                }
            }
            if e.kind == logs::Kind::DiscoverReceived {
                widen(&mut self.discovers[file], t);
            }
        }
        let at = (file, e.line);
        match (e.fields.chaddr, e.fields.xid) {
            (Some(h), xid) => {
                if let Some(x) = xid {
                    self.by_xid.insert(x, h);
                    // The lines that named only this xid are this client's.
                    if let Some(lines) = self.pending.remove(&x) {
                        if self.plan.no_offer.contains(&h) {
                            self.events.extend(lines);
                        }
                    }
                }
                if !self.plan.clients.contains(&h) {
                    self.first_line.entry(h).or_insert(at);
                }
            }
            (None, Some(x)) => {
                self.first_line_xid.entry(x).or_insert(at);
            }
            (None, None) => {}
        }
        if self.keeps(&e) {
            // The join quotes the program's text, never the line as read.
            let mut e = e;
            e.raw = String::new();
            match (e.fields.chaddr, e.fields.xid) {
                (None, Some(x)) if e.cause().is_none() => match self.by_xid.get(&x) {
                    Some(h) if !self.plan.no_offer.contains(h) => {}
                    Some(_) => self.events.push((file, e)),
                    None => self.pending.entry(x).or_default().push((file, e)),
                },
                _ => self.events.push((file, e)),
            }
        }
    }

    /// Puts the lines still pending (no line tied their xid to a client)
    /// with the others, and all in file and line order again (pending lines
    /// joined them after later ones; a sort of lines already in order costs
    /// one pass).
    fn settle(&mut self) {
        for (_, lines) in self.pending.drain() {
            self.events.extend(lines);
        }
        self.events.sort_by_key(|(f, e)| (*f, e.line));
    }

    /// Whether the join can use line `e` (beyond the facts [`Logs::push`]
    /// gathers): a line with a cause, or a server's line that may be about
    /// a client whose DISCOVERs went unanswered.
    fn keeps(&self, e: &logs::Event) -> bool {
        if e.cause().is_some() {
            return true;
        }
        if !e.program.is_server() {
            return false;
        }
        match (e.fields.chaddr, e.fields.xid) {
            (Some(h), _) => self.plan.no_offer.contains(&h),
            // Its client is known only at the end: kept when its time
            // (moved in any way the log may be) is near such a client's.
            (None, Some(_)) => e.time.is_none_or(|t| {
                self.plan.shifts.iter().any(|s| {
                    let t = t.saturating_sub(*s);
                    let i = self.plan.no_offer_spans.partition_point(|(_, b)| *b < t);
                    self.plan
                        .no_offer_spans
                        .get(i)
                        .is_some_and(|(a, _)| *a <= t)
                })
            }),
            (None, None) => false,
        }
    }

    /// The first line of each client the report does not hold, by file
    /// and line.
    fn first_lines(&self) -> HashMap<HwAddr, (usize, u64)> {
        let mut first = self.first_line.clone();
        for (x, at) in &self.first_line_xid {
            if let Some(h) = self.by_xid.get(x) {
                if !self.plan.clients.contains(h) {
                    let f = first.entry(*h).or_insert(*at);
                    *f = (*f).min(*at);
                }
            }
        }
        first
    }
}

/// The captures' time span: their clients' first and last packet (`None`
/// without a client).
fn captures_span(report: &Report) -> Option<(i64, i64)> {
    let first = report.clients.iter().map(|c| c.first.0).min()?;
    let last = report
        .clients
        .iter()
        .map(|c| c.last.0)
        .max()
        .unwrap_or(first);
    Some((first, last))
}

/// Widens `span` (earliest, latest) to take in `t`.
fn widen(span: &mut Option<(i64, i64)>, t: i64) {
    *span = Some(span.map_or((t, t), |(a, b)| (a.min(t), b.max(t))));
}

/// Span `(a, b)` padded by the join window on each side.
fn padded((a, b): (i64, i64)) -> (i64, i64) {
    (a.saturating_sub(WINDOW_NS), b.saturating_add(WINDOW_NS))
}

/// How far outside a client's first and last packet its log lines may be.
const WINDOW_NS: i64 = 120_000_000_000;

fn severity(s: logs::Severity) -> Severity {
    match s {
        logs::Severity::Error => Severity::Error,
        logs::Severity::Warning => Severity::Warning,
        logs::Severity::Info => Severity::Info,
    }
}

fn confidence(c: logs::Confidence) -> Confidence {
    match c {
        logs::Confidence::Certain => Confidence::High,
        logs::Confidence::Likely => Confidence::Medium,
        logs::Confidence::Possible => Confidence::Low,
    }
}

/// A finding that only a log line shows: for a client the captures do not
/// hold (`chaddr`), or for no client at all (a server-wide line).
fn log_only(
    code: Code,
    chaddr: Option<HwAddr>,
    files: &[String],
    f: usize,
    e: &logs::Event,
) -> Finding {
    let meaning = e.meaning().trim_end_matches('.');
    let summary = match chaddr {
        Some(h) => {
            format!("{h}: {meaning} (server log only; no packet of this client in the captures)")
        }
        None => meaning.to_string(),
    };
    let mut g = Finding::new(code, severity(e.severity()), chaddr, e.fields.xid)
        .confidence(confidence(e.confidence()))
        .summary(summary)
        .explanation(format!(
            "The {} log says: «{}». {}",
            e.program.name(),
            e.message.trim(),
            e.meaning()
        ))
        .fix(e.fix().to_string())
        .references(&["server log"]);
    g.log_lines.push(evidence(files, f, e));
    g
}

fn evidence(files: &[String], f: usize, e: &logs::Event) -> LogEvidence {
    LogEvidence {
        file: short_name(files, f),
        line: e.line,
        text: e.message.trim_end().to_string(),
    }
}

/// Log `f`'s file name, without its directory.
fn short_name(files: &[String], f: usize) -> String {
    let name = files.get(f).map_or("", String::as_str);
    std::path::Path::new(name)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or(name)
        .to_string()
}

/// Adds what the logs say to the report (the one the logs were gathered
/// for).
pub fn attach(report: &mut Report, logs: &mut Logs) {
    logs.end_file();
    logs.settle();
    let by_xid = &logs.by_xid;
    let chaddr_of = |e: &logs::Event| {
        e.fields
            .chaddr
            .or_else(|| e.fields.xid.and_then(|x| by_xid.get(&x).copied()))
    };
    let mut by_client: HashMap<HwAddr, Vec<(usize, &logs::Event)>> = HashMap::new();
    let mut unattributed: Vec<(usize, &logs::Event)> = Vec::new();
    for (f, e) in &logs.events {
        match chaddr_of(e) {
            Some(h) => by_client.entry(h).or_default().push((*f, e)),
            None => unattributed.push((*f, e)),
        }
    }
    // Which server logs record DISCOVERs at all, and over which time, in
    // the order the logs were given.
    let discover_logs: Vec<(usize, (i64, i64))> = logs
        .discovers
        .iter()
        .enumerate()
        .filter_map(|(f, span)| span.map(|s| (f, s)))
        .collect();

    // Runs of ACKs to one client's same REQUEST (what only several lines
    // say together), per client.
    let mut runs: HashMap<HwAddr, Vec<AckRun>> = HashMap::new();
    for (f, run) in &logs.runs {
        runs.entry(run.chaddr).or_default().push(AckRun {
            log: *f,
            run: run.clone(),
        });
    }

    let mut global = Vec::new();
    for client in &mut report.clients {
        let (lo, hi) = padded((client.first.0, client.last.0));
        let evs: Vec<(usize, &logs::Event)> = by_client
            .remove(&client.chaddr)
            .unwrap_or_default()
            .into_iter()
            .filter(|(_, e)| e.time.is_none_or(|t| (lo..=hi).contains(&t)))
            .collect();
        let failed = client.outcome().is_some_and(|o| o.is_failure());
        let symptom = client
            .details()
            .iter()
            .find(|f| {
                matches!(
                    f.code,
                    Code::NoOffer | Code::NoAck | Code::OfferIgnored | Code::AckIgnored | Code::Nak
                )
            })
            .map(|f| (f.code, f.frames.clone(), f.xid));

        // Group the events that name a cause by their code.
        let mut causes: Vec<(Code, Vec<(usize, &logs::Event)>)> = Vec::new();
        for (f, e) in &evs {
            let Some(code) = e.cause().and_then(|c| Code::parse(c.code())) else {
                continue;
            };
            match causes.iter_mut().find(|(c, _)| *c == code) {
                Some((_, v)) => v.push((*f, e)),
                None => causes.push((code, vec![(*f, e)])),
            }
        }
        for (code, lines) in causes {
            let (_, e0) = lines[0];
            let log_lines: Vec<LogEvidence> = lines
                .iter()
                .take(MAX_EVIDENCE_FRAMES)
                .map(|(f, e)| evidence(&logs.files, *f, e))
                .collect();
            let quoted = format!(
                "«{}» ({}:{}{})",
                e0.message.trim(),
                log_lines[0].file,
                e0.line,
                if lines.len() > 1 {
                    format!(
                        ", and {} more line{}",
                        lines.len() - 1,
                        if lines.len() == 2 { "" } else { "s" }
                    )
                } else {
                    String::new()
                }
            );
            // A line about a NAK the server sent (dnsmasq's "wrong
            // server-ID") is the reason for the NAK the capture holds.
            let a_nak = e0.fields.message_type == Some(MessageType::Nak);
            let details = client.details();
            let confirmed = details
                .iter()
                .position(|d| confirms(code, d.code))
                .or_else(|| details.iter().position(|d| a_nak && d.code == Code::Nak));
            if let Some(existing) = confirmed.map(|i| &mut client.details_mut()[i]) {
                // The capture already saw it: the log confirms it.
                existing.log_lines.extend(log_lines);
                existing.log_lines.truncate(MAX_EVIDENCE_FRAMES);
                existing
                    .explanation
                    .push_str(&format!(" The log confirms it: {quoted}."));
                if e0.confidence() == logs::Confidence::Certain && existing.explains_failure {
                    existing.confidence = Confidence::High;
                }
                continue;
            }
            let sev = severity(e0.severity());
            // A server that was not chosen logs another server's id in the
            // REQUEST and stays silent (Kea always, ISC in failover):
            // expected when the named server made an OFFER, or when the
            // client got its lease. A NAK for it (dnsmasq when
            // authoritative) is never expected.
            let stays_out =
                code == Code::ForeignServerId && e0.fields.message_type != Some(MessageType::Nak);
            let chosen = stays_out
                .then(|| chose_an_offer(client, e0.fields.xid))
                .flatten();
            let leased = client.outcome().is_some_and(|o| o.is_success());
            let expected = stays_out && (leased || chosen.is_some());
            let sev = if expected { Severity::Info } else { sev };
            let explains = failed && !expected && sev <= Severity::Warning && code != Code::Nak;
            // A client that ended well was only delayed by it: a warning.
            let sev = if explains {
                Severity::Error
            } else if sev == Severity::Error {
                Severity::Warning
            } else {
                sev
            };
            // The transaction: the log's xid (dnsmasq, Kea), else that of the
            // exchange whose failure it explains (ISC names no xid).
            let xid = e0
                .fields
                .xid
                .or_else(|| symptom.as_ref().filter(|_| explains).and_then(|s| s.2));
            let mut f = Finding::new(code, sev, Some(client.chaddr), xid)
                .summary(format!(
                    "{} says: {}",
                    e0.program.name(),
                    shorten(e0.message.trim(), 110)
                ))
                .explanation(format!(
                    "The {} log says: {quoted}. {}{}",
                    e0.program.name(),
                    e0.meaning(),
                    match (&symptom, chosen) {
                        (_, Some(s)) => format!(
                            " Expected here: the client's REQUEST names server {s}, which offered it an \
                             address, so this server rightly stays out."
                        ),
                        _ if expected => " Expected here: the client got its lease from the server it named.".into(),
                        (Some((s, _, _)), _) if explains && code == Code::OptionLeftOut =>
                            format!(" This may be why the client's exchange ended in {s}, if the client needs that option."),
                        (Some((s, _, _)), _) if explains =>
                            format!(" This is why the client's exchange ended in {s}."),
                        _ => String::new(),
                    }
                ))
                .fix(e0.fix().to_string())
                .references(&["server log"]);
            f.log_lines = log_lines;
            f.occurrences = lines.len() as u32;
            if let Some((_, frames, _)) = &symptom {
                f = f.frames(frames.iter().copied());
            }
            if explains && code == Code::OptionLeftOut {
                // Certain that the option was left out; only a client that
                // needs it (a PXE ROM its boot file) ignores the reply for it.
                f = f.cause(Confidence::Low);
            } else if explains {
                f = f.cause(confidence(e0.confidence()));
            } else {
                f = f.confidence(confidence(e0.confidence()));
            }
            if code == Code::MinSecsDrop {
                if let Some(s) = client
                    .details_mut()
                    .iter_mut()
                    .find(|d| d.code == Code::SecsNotIncrementing)
                {
                    s.confidence = Confidence::High;
                    s.explanation
                        .push_str(" The server's log confirms the drop (see min-secs-drop).");
                }
            }
            client.details_mut().push(f);
        }
        // The server ACKing the client's REQUEST again and again.
        for r in runs.remove(&client.chaddr).unwrap_or_default() {
            if r.run.acks[0].time.is_some_and(|t| !(lo..=hi).contains(&t)) {
                continue;
            }
            let (log_lines, quoted) = r.evidence(&logs.files);
            if let Some(existing) = client
                .details_mut()
                .iter_mut()
                .find(|d| d.code == Code::AckIgnored)
            {
                existing.log_lines.extend(log_lines);
                existing.log_lines.truncate(MAX_EVIDENCE_FRAMES);
                existing
                    .explanation
                    .push_str(&format!(" The server's log shows the ACKs: {quoted}."));
                continue;
            }
            // The capture holds the REQUESTs but no ACK (the client's side):
            // the server sent them, and they were lost on the way.
            let lost = matches!(symptom, Some((Code::NoAck, _, _)));
            let mut g = r.finding(&quoted, lost || failed);
            g.log_lines = log_lines;
            if lost {
                g.explanation.push_str(
                    " The captures hold the client's REQUESTs but none of these ACKs: they were lost between \
                     the server and the capture point (a switch, DHCP snooping, a vSwitch, a firewall).",
                );
                if let Some((_, frames, xid)) = &symptom {
                    g = g.frames(frames.iter().copied());
                    g.xid = g.xid.or(*xid);
                }
                g = g.cause(Confidence::High);
            } else if failed {
                g = g.cause(Confidence::Medium);
            }
            client.details_mut().push(g);
        }
        // A NAK gets the server's own reason.
        if let Some(nak) = client
            .details_mut()
            .iter_mut()
            .find(|d| d.code == Code::Nak)
        {
            let reasons: Vec<(usize, &logs::Event)> = evs
                .iter()
                .copied()
                .filter(|(_, e)| e.cause() == Some(logs::Cause::Nak))
                .collect();
            if let Some((_, e)) = reasons.first() {
                if nak.log_lines.is_empty() {
                    nak.explanation.push_str(&format!(
                        " The server's log gives its reason: «{}».",
                        e.message.trim()
                    ));
                    nak.log_lines = reasons
                        .iter()
                        .take(MAX_EVIDENCE_FRAMES)
                        .map(|(f, e)| evidence(&logs.files, *f, e))
                        .collect();
                }
            }
        }
        // DISCOVERs on the wire that a server logging DISCOVERs never saw.
        if matches!(symptom, Some((Code::NoOffer, _, _)))
            && !evs.iter().any(|(_, e)| e.program.is_server())
        {
            let covering: Vec<usize> = discover_logs
                .iter()
                .filter(|(_, (a, b))| *a <= client.last.0 && *b >= client.first.0)
                .map(|(f, _)| *f)
                .collect();
            if let Some(f) = covering.first() {
                let name = logs.files.get(*f).cloned().unwrap_or_default();
                let frames = symptom
                    .as_ref()
                    .map(|(_, fr, _)| fr.clone())
                    .unwrap_or_default();
                let chaddr = client.chaddr;
                client.details_mut().push(
                    Finding::new(Code::ServerNeverSawRequest, Severity::Error, Some(chaddr), None)
                        .cause(Confidence::Medium)
                        .frames(frames)
                        .summary("the server's log shows no trace of this client's DISCOVERs".to_string())
                        .explanation(format!(
                            "{name} records DISCOVERs from other clients while this client was sending its own, but \
                             nothing from {}: its DISCOVERs never reached the server (or reached another one). Look \
                             between them: a firewall, a VLAN or trunk mismatch, a relay that does not forward, DHCP \
                             snooping.",
                            chaddr
                        ))
                        .fix("Capture at the server's interface: if the DISCOVERs are not there, follow the path hop by hop; if they are, check the server's interface and firewall.")
                        .references(&["failure catalogue A.6, B.10"]),
                );
            }
        }
        client.settle();
    }

    // What the logs say about clients the captures do not hold counts only
    // from the captures' time (padded by the join window; a line without a
    // time counts): a line from last week about another client is not this
    // case's finding. (Server-wide lines count whenever they were written:
    // a server says "no subnet declaration" as it starts, and it stands.)
    let span = captures_span(report).map(padded);
    let in_time =
        |t: Option<i64>| span.is_none_or(|(lo, hi)| t.is_none_or(|t| (lo..=hi).contains(&t)));

    // Log causes for clients the captures do not hold.
    // In the order the logs first name them (a hash map's order would change
    // from run to run).
    let first_lines = logs.first_lines();
    // One finding per client and code (a set: such clients may be many).
    let mut said: HashSet<(HwAddr, Code)> = HashSet::new();
    let mut rest: Vec<_> = by_client.into_iter().collect();
    rest.sort_by_key(|(h, evs)| {
        first_lines
            .get(h)
            .copied()
            .or_else(|| evs.first().map(|(f, e)| (*f, e.line)))
    });
    for (h, evs) in rest {
        for (f, e) in evs.into_iter().filter(|(_, e)| in_time(e.time)) {
            let Some(code) = e.cause().and_then(|c| Code::parse(c.code())) else {
                continue;
            };
            if !said.insert((h, code)) {
                continue;
            }
            global.push(log_only(code, Some(h), &logs.files, f, e));
        }
    }
    // Runs of ACKs for clients the captures do not hold.
    let mut rest: Vec<_> = runs.into_iter().collect();
    rest.sort_by_key(|(_, r)| r.first().map(|r| (r.log, r.run.acks[0].line)));
    for r in rest.into_iter().flat_map(|(_, r)| r) {
        if !r.run.acks.iter().any(|a| in_time(a.time)) {
            continue;
        }
        let (log_lines, quoted) = r.evidence(&logs.files);
        let mut g = r.finding(&quoted, r.run.severity() == logs::Severity::Error);
        g.summary
            .push_str(" (server log only; no packet of this client in the captures)");
        g.log_lines = log_lines;
        global.push(g);
    }
    // Lines that name no client: a client's own log (dhclient's "DHCPNAK
    // from S") belongs to the capture client with that finding at that
    // time; a server-wide line (no subnet for an interface) stands alone.
    // Only clients with findings can take such a line (a capture's clients
    // may be many, and so may these lines)…
    let with_findings: Vec<usize> = (report.clients.iter().enumerate())
        .filter(|(_, c)| !c.details().is_empty())
        .map(|(i, _)| i)
        .collect();
    // …and only a finding of no client can take it when none does.
    let mut wide: Vec<usize> = Vec::new();
    for (f, e) in unattributed {
        let Some(code) = e.cause().and_then(|c| Code::parse(c.code())) else {
            continue;
        };
        let in_window = |c: &crate::client::Client| {
            let (lo, hi) = padded((c.first.0, c.last.0));
            e.time.is_none_or(|t| (lo..=hi).contains(&t))
        };
        // The findings it confirms, as (client, finding) indexes.
        let owners: Vec<(usize, usize)> = with_findings
            .iter()
            .filter(|&&i| in_window(&report.clients[i]))
            .flat_map(|&i| {
                let details = report.clients[i].details().iter().enumerate();
                details
                    .filter(|(_, d)| confirms(code, d.code))
                    .map(move |(j, _)| (i, j))
            })
            .collect();
        if !owners.is_empty() {
            if let [(i, j)] = owners[..] {
                let only = &mut report.clients[i].details_mut()[j];
                if only.log_lines.is_empty() {
                    only.explanation.push_str(&format!(
                        " The {} log confirms it: «{}».",
                        e.program.name(),
                        e.message.trim()
                    ));
                    if e.confidence() == logs::Confidence::Certain && only.explains_failure {
                        only.confidence = Confidence::High;
                    }
                }
                if only.log_lines.len() < MAX_EVIDENCE_FRAMES {
                    only.log_lines.push(evidence(&logs.files, f, e));
                }
            }
            continue;
        }
        // A server-wide line (ISC's "No subnet declaration for eth0") at the
        // time a client's DISCOVERs went unanswered: the likely reason, though
        // the line cannot name the client.
        if e.program.is_server()
            && SILENCING.contains(&code)
            && explain_silence(report, &with_findings, &logs.files, f, e, code)
        {
            continue;
        }

        let same = wide.iter().copied().find(|&i| {
            let g = &global[i];
            g.code == code && g.summary.starts_with(e.meaning().trim_end_matches('.'))
        });
        if let Some(g) = same.map(|i| &mut global[i]) {
            g.occurrences += 1;
            if g.log_lines.len() < MAX_EVIDENCE_FRAMES {
                g.log_lines.push(evidence(&logs.files, f, e));
            }
            continue;
        }
        wide.push(global.len());
        global.push(log_only(code, None, &logs.files, f, e));
    }
    report.global.extend(global);
    // The logs were read: `no-offer` no longer asks for them.
    let read: Vec<&str> = logs.files.iter().map(String::as_str).collect();
    for c in &mut report.clients {
        for d in c
            .details_mut()
            .iter_mut()
            .filter(|d| d.code == Code::NoOffer)
        {
            d.explanation = d.explanation.replace(
                crate::rules::NO_OFFER_ASK_FOR_LOG,
                &format!(" The logs given were read ({}).", read.join(", ")),
            );
            d.fix = d
                .fix
                .replace(crate::rules::NO_OFFER_READ_LOG_FIX, "")
                .into();
        }
    }
}

/// A run of ACKs to one client's same REQUEST ([`logs::repeated_acks`]) in
/// log `log`, with its ACK lines.
struct AckRun {
    log: usize,
    run: logs::RepeatedAcks,
}

impl AckRun {
    /// Its lines as evidence, and as a quote: `«first ACK line»
    /// (file:line, and N more lines, over S s)`.
    fn evidence(&self, files: &[String]) -> (Vec<LogEvidence>, String) {
        let acks = &self.run.acks;
        let lines: Vec<LogEvidence> = acks
            .iter()
            .take(MAX_EVIDENCE_FRAMES)
            .map(|a| LogEvidence {
                file: short_name(files, self.log),
                line: a.line,
                text: a.message.trim_end().to_string(),
            })
            .collect();
        let quoted = format!(
            "«{}» ({}:{}, and {} more line{}{})",
            acks[0].message.trim(),
            lines[0].file,
            acks[0].line,
            acks.len() - 1,
            if acks.len() == 2 { "" } else { "s" },
            self.run
                .span_secs
                .map_or(String::new(), |s| format!(", over {s:.1} s"))
        );
        (lines, quoted)
    }

    /// Its finding: an error when `serious` (three ACKs or more, or a
    /// client that failed).
    fn finding(&self, quoted: &str, serious: bool) -> Finding {
        let n = self.run.acks.len();
        let program = self.run.acks[0].program.name();
        Finding::new(
            Code::AckIgnored,
            if serious {
                Severity::Error
            } else {
                Severity::Warning
            },
            Some(self.run.chaddr),
            self.run.acks[0].xid,
        )
        .confidence(Confidence::Medium)
        .summary(format!(
            "{program} ACKed this client's same REQUEST {n} times"
        ))
        .explanation(format!(
            "The {program} log shows {n} ACKs to this client's same REQUEST: {quoted}. {}",
            self.run.meaning()
        ))
        .fix(format!(
            "Capture at the client and at the server: {}",
            logs::runs::REPEATED_ACKS_FIX
        ))
        .references(&["server log", "failure catalogue B.10"])
    }
}

/// The server a client's REQUEST names that had made it an OFFER, from its
/// ladder (kept for clients that failed).
/// `xid`, when the log line gives one, picks the exchange.
fn chose_an_offer(client: &crate::client::Client, xid: Option<u32>) -> Option<std::net::Ipv4Addr> {
    let ladder = client.ladder();
    let of_xid = |s: &&crate::client::Step| xid.is_none_or(|x| s.xid == x);
    ladder
        .iter()
        .filter(of_xid)
        .filter(|s| s.from_client && s.label().starts_with("REQUEST"))
        .find_map(|r| {
            let named = r.server?;
            ladder
                .iter()
                .filter(of_xid)
                .any(|o| {
                    !o.from_client
                        && o.t <= r.t
                        && o.server == Some(named)
                        && o.label().starts_with("OFFER")
                })
                .then_some(named)
        })
}

/// Whether a capture's finding `found` is what a log line with cause `said`
/// reports. A client's log sees less than a capture: dhclient counts "bad udp
/// checksums" without telling a partial (offloaded) checksum from a wrong one,
/// and says "No DHCPOFFERS received." when it dropped every OFFER it was sent.
/// A server that finds another server's identifier in a REQUEST ("not our
/// server id", Kea's DHCP4_PACKET_DROP_0003) reports, from its side, the
/// capture's REQUEST naming a server that made no OFFER.
fn confirms(said: Code, found: Code) -> bool {
    said == found
        || matches!(
            (said, found),
            (Code::UdpChecksumInvalid, Code::UdpChecksumPartial)
                | (Code::NoOffer, Code::OfferIgnored)
                | (Code::NoAck, Code::AckIgnored)
                | (Code::ForeignServerId, Code::ServerIdMismatch)
        )
}

/// Causes of a server staying silent towards clients, which a line naming
/// no client can explain.
const SILENCING: [Code; 5] = [
    Code::NoSubnetForInterface,
    Code::PoolExhausted,
    Code::ClientIgnored,
    Code::PeerHoldsFreeLeases,
    Code::UnknownNetworkSegment,
];

/// Gives a server-wide log line `e` (cause `code`) to every client that
/// failed with DISCOVERs unanswered: as the likely cause (medium confidence
/// at most: the line names no client) when the line's time falls within the
/// client's packets; as a possible one (low) when the line has no time.
/// Returns whether any took it.
fn explain_silence(
    report: &mut Report,
    with_findings: &[usize],
    files: &[String],
    f: usize,
    e: &logs::Event,
    code: Code,
) -> bool {
    let mut taken = false;
    for &i in with_findings {
        let c = &mut report.clients[i];
        let (lo, hi) = padded((c.first.0, c.last.0));
        let in_window = e.time.is_none_or(|t| (lo..=hi).contains(&t));
        let Some((frames, xid)) = c
            .details()
            .iter()
            .find(|d| d.code == Code::NoOffer)
            .map(|d| (d.frames.clone(), d.xid))
        else {
            continue;
        };
        if !in_window || !c.outcome().is_some_and(|o| o.is_failure()) {
            continue;
        }
        taken = true;
        if let Some(existing) = c.details_mut().iter_mut().find(|d| d.code == code) {
            existing.occurrences += 1;
            if existing.log_lines.len() < MAX_EVIDENCE_FRAMES {
                existing.log_lines.push(evidence(files, f, e));
            }
            continue;
        }
        let chaddr = c.chaddr;
        let (sure, when) = match e.time {
            Some(_) => (
                // Confidence orders High < Medium < Low: at most medium.
                confidence(e.confidence()).max(Confidence::Medium),
                format!(
                    "The line names no client, but it was logged while {chaddr} was failing to get an OFFER: \
                     this is the likely reason."
                ),
            ),
            None => (
                Confidence::Low,
                format!(
                    "The line names no client and carries no time, so it may come from another moment; if it \
                     covers this capture, it is why {chaddr}'s DISCOVERs went unanswered."
                ),
            ),
        };
        let mut g = Finding::new(code, Severity::Error, Some(chaddr), xid)
            .cause(sure)
            .frames(frames)
            .summary(format!(
                "{} says: {}",
                e.program.name(),
                shorten(e.message.trim(), 110)
            ))
            .explanation(format!(
                "The {} log says: «{}» ({}:{}). {} {when}",
                e.program.name(),
                e.message.trim(),
                files.get(f).map_or("?", String::as_str),
                e.line,
                e.meaning()
            ))
            .fix(e.fix().to_string())
            .references(&["server log"]);
        g.log_lines.push(evidence(files, f, e));
        c.details_mut().push(g);
        c.settle();
    }
    taken
}

/// A log none of whose timed lines falls within the captures' time: its
/// clock (or time zone) is probably off, and nothing of it can join.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClockMismatch {
    pub file: String,
    pub timed_lines: usize,
    /// Seconds from the capture's middle to the log's middle.
    pub apart_s: i64,
}

/// Moves the times of log `file` (its index in `logs.files`) `by_ns`
/// earlier: onto the clock of the first capture, for a log written on the
/// host of a capture whose clock was off by that much.
pub fn shift_times(logs: &mut Logs, file: usize, by_ns: i64) {
    let earlier = |t: &mut i64| *t = t.saturating_sub(by_ns);
    let kept = logs.events.iter_mut().filter(|(f, _)| *f == file);
    let acks = logs
        .runs
        .iter_mut()
        .filter(|(f, _)| *f == file)
        .flat_map(|(_, r)| r.acks.iter_mut());
    for t in kept
        .filter_map(|(_, e)| e.time.as_mut())
        .chain(acks.filter_map(|a| a.time.as_mut()))
    {
        earlier(t);
    }
    if let Some((a, b)) = logs.discovers.get_mut(file).and_then(Option::as_mut) {
        earlier(a);
        earlier(b);
    }
    if let Some(c) = logs.clocks.get_mut(file) {
        c.shift = c.shift.saturating_add(by_ns);
        if let Some((a, b)) = c.range.as_mut() {
            earlier(a);
            earlier(b);
        }
    }
}

/// The logs whose timed lines all miss the captures' time span (padded by
/// the join window), with how far apart they are. Whether a line falls
/// within is known for each move given to [`Logs::new`] (none, or a
/// capture's clock offset); after any other [`shift_times`], a log counts
/// as falling within when its earliest and latest times straddle any of
/// the span.
pub fn clock_mismatches(report: &Report, logs: &Logs) -> Vec<ClockMismatch> {
    let Some((first, last)) = captures_span(report) else {
        return Vec::new();
    };
    let (lo, hi) = padded((first, last));
    let mut out = Vec::new();
    for (file, c) in logs.files.iter().zip(&logs.clocks) {
        let Some((a, b)) = c.range else { continue };
        // Whether a time falls within the captures': known for each move
        // the log may get; for any other, from its earliest and latest.
        let fits = match logs.plan.shifts.iter().position(|s| *s == c.shift) {
            Some(i) => c.fits[i],
            None => a <= hi && b >= lo,
        };
        if fits {
            continue;
        }
        let mid_log = (i128::from(a) + i128::from(b)) / 2;
        let mid_cap = (i128::from(first) + i128::from(last)) / 2;
        let apart = (mid_log - mid_cap) / 1_000_000_000;
        out.push(ClockMismatch {
            file: file.clone(),
            timed_lines: c.timed,
            apart_s: i64::try_from(apart).unwrap_or(if apart > 0 { i64::MAX } else { i64::MIN }),
        });
    }
    out
}

/// At most `n` characters, with an ellipsis when cut.
fn shorten(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        return s.to_string();
    }
    let mut t: String = s.chars().take(n - 1).collect();
    t.push('…');
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Config, Engine, FrameRef, NoSink, Obs};

    /// The report of `examples/min-secs`' server capture: a PXE ROM whose
    /// DISCOVERs dhcpd ignored (min-secs), and a client that got its lease.
    fn min_secs_report() -> Report {
        let pcap = include_bytes!("../../../examples/min-secs/server.pcap");
        let mut reader = capture::read::Reader::new(&pcap[..]).unwrap();
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
        engine.finish().0
    }

    /// The join with the lines of `files` (name, text): the report's
    /// findings as JSON, and how many lines were kept.
    fn join_all(files: &[(&str, &str)]) -> (String, usize) {
        let mut report = min_secs_report();
        let mut logs = Logs::new(&report, &[]);
        for (name, log) in files {
            let f = logs.add_file(name.to_string());
            let reader = logs::LogReader::new(
                *name,
                std::io::Cursor::new(log.as_bytes().to_vec()),
                logs::Options::default(),
            )
            .unwrap();
            for e in reader {
                logs.push(f, e.unwrap());
            }
        }
        let kept = logs.events.len() + logs.pending.values().map(Vec::len).sum::<usize>();
        attach(&mut report, &mut logs);
        let mut json = Vec::new();
        for f in report.findings() {
            f.write_json(&mut json).unwrap();
        }
        (String::from_utf8(json).unwrap(), kept)
    }

    fn join(log: &str) -> (String, usize) {
        join_all(&[("dhcpd.log", log)])
    }

    /// Two server logs that record other clients' DISCOVERs but none of the
    /// ROM's: `server-never-saw-request` names the first one given, every
    /// time (it named either, from a hash map's order).
    #[test]
    fn server_never_saw_request_names_the_first_log() {
        let other = |mac: &str| {
            let p = "2026-11-22T04:35:15.000000+00:00 server dhcpd[1]:";
            format!("{p} DHCPDISCOVER from {mac} via eth0\n{p} DHCPOFFER on 10.0.0.9 to {mac} via eth0\n")
        };
        let (a, b) = (other("02:00:00:77:00:01"), other("02:00:00:77:00:02"));
        for _ in 0..8 {
            let (json, _) = join_all(&[("a.log", &a), ("b.log", &b)]);
            assert!(
                json.contains("server-never-saw-request")
                    && json.contains("a.log records DISCOVERs"),
                "{json}"
            );
        }
    }

    /// A busy server's log is mostly other clients' normal steps: the join
    /// counts them and keeps only the lines a rule can use, so its memory
    /// follows those lines, not the log's length, and its findings are
    /// the same.
    #[test]
    fn the_join_keeps_the_lines_it_can_use_not_every_line() {
        let log = include_str!("../../../examples/min-secs/dhcpd.log");
        let (alone, kept) = join(log);
        assert!(alone.contains("min-secs-drop"), "{alone}");
        // The five min-secs lines of the ROM (its only lines).
        assert_eq!(kept, 5);

        let mut busy = log.to_string();
        for i in 0..2500u32 {
            let [_, _, a, b] = i.to_be_bytes();
            let mac = format!("02:00:00:99:{a:02x}:{b:02x}");
            let p = "2026-11-22T04:35:20.000000+00:00 server dhcpd[21721]:";
            busy += &format!("{p} DHCPDISCOVER from {mac} via eth0\n");
            busy += &format!("{p} DHCPOFFER on 10.0.0.{} to {mac} via eth0\n", i % 250);
            busy += &format!(
                "{p} DHCPREQUEST for 10.0.0.{} (10.0.0.1) from {mac} via eth0\n",
                i % 250
            );
            busy += &format!("{p} DHCPACK on 10.0.0.{} to {mac} via eth0\n", i % 250);
        }
        let (with_others, kept) = join(&busy);
        assert_eq!(kept, 5, "10,000 normal lines more, none kept");
        assert_eq!(with_others, alone);

        // dnsmasq with --log-dhcp and no stamps: each exchange's first line
        // names only its xid, the next ties it to a healthy client.
        let mut dnsmasq = log.to_string();
        for i in 0..2500u32 {
            let [_, _, a, b] = i.to_be_bytes();
            let (mac, xid) = (format!("02:00:00:98:{a:02x}:{b:02x}"), 5_000_000 + i);
            let p = format!("dnsmasq-dhcp[7]: {xid}");
            dnsmasq += &format!("{p} available DHCP range: 10.0.0.10 -- 10.0.0.250\n");
            dnsmasq += &format!("{p} DHCPDISCOVER(eth0) {mac} \n");
            dnsmasq += &format!("{p} DHCPOFFER(eth0) 10.0.0.{} {mac} \n", i % 250);
        }
        let (with_dnsmasq, kept) = join(&dnsmasq);
        assert_eq!(kept, 5, "7,500 lines more, none kept");
        assert_eq!(with_dnsmasq, alone);
    }
}
