//! `dhcplens diff` and `dhcplens bisect`: what differs between a working and a
//! failing request, and which difference makes the server answer.

use std::ffi::OsStr;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context as _};
use diagnose::diff::{self, Difference};
use diagnose::rules::frame_name;
use diagnose::{Config, Engine, FrameRef};
use probe::bisect::{self, Answer, Field, Oracle};
use probe::request::{fresh_xid, Kind, Spec};
use probe::session::{Limits, Session};
use probe::transport::Dest;
use serde::Serialize;
use wire::dhcp::MessageType;
use wire::Message;

use crate::args::{BisectArgs, DiffArgs};
use crate::feed::{Feed, InputProblem};
use crate::inputs::shown;
use crate::send::{finish_run, frame_ref, load_frame, load_frames, Loaded, RunFile};
use crate::style::{Paint, Style};
use crate::{warn, Outcome};

fn print_differences(
    out: &mut impl Write,
    d: &[Difference],
    left: &str,
    right: &str,
    style: Style,
) -> std::io::Result<()> {
    if d.is_empty() {
        return writeln!(out, "no differences (the xid is not compared)");
    }
    writeln!(
        out,
        "{:>4}  {:<40} {:<28} {:<28}",
        "rank", "field", left, right
    )?;
    for x in d {
        writeln!(
            out,
            "{:>4}  {:<40} {:<28} {:<28}",
            x.weight,
            style.paint(Paint::Bold, &x.field),
            truncate(&x.left, 28),
            truncate(&x.right, 28)
        )?;
        writeln!(out, "      {}", style.paint(Paint::Dim, x.why))?;
    }
    Ok(())
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n - 1).collect();
        t.push('…');
        t
    }
}

/// Exchanges listed per client in a two-client diff.
const MAX_EXCHANGES: usize = 16;

/// One client's side of a two-client diff: how it ended, and its exchanges.
#[derive(Serialize)]
struct ClientSide {
    chaddr: String,
    outcome: Option<&'static str>,
    address: Option<std::net::Ipv4Addr>,
    findings: Vec<&'static str>,
    exchanges: Vec<Exchange>,
    /// Exchanges after the first [`MAX_EXCHANGES`], not listed.
    more_exchanges: usize,
}

/// One transaction of a client, as a ladder.
#[derive(Serialize)]
struct Exchange {
    xid: String,
    state: &'static str,
    outcome: &'static str,
    start: String,
    steps: Vec<diagnose::client::Step>,
}

/// Collects the transactions of two clients as the engine closes them.
struct TwoClients {
    macs: [wire::HwAddr; 2],
    exchanges: [Vec<Exchange>; 2],
    more: [usize; 2],
}

impl diagnose::Sink for TwoClients {
    fn wants_transactions(&self) -> bool {
        true
    }

    fn transaction(&mut self, s: &diagnose::Summary) {
        for side in 0..2 {
            if s.chaddr != self.macs[side] {
                continue;
            }
            if self.exchanges[side].len() >= MAX_EXCHANGES {
                self.more[side] += 1;
                continue;
            }
            self.exchanges[side].push(Exchange {
                xid: format!("0x{:08x}", s.xid),
                state: s.state.name(),
                outcome: s.outcome.name(),
                start: s.start.to_string(),
                steps: s.ladder(),
            });
        }
    }
}

/// The message type a ladder step shows (`DISCOVER`, `OFFER`, …).
fn step_kind(s: &diagnose::client::Step) -> &str {
    s.label().split(' ').next().unwrap_or("")
}

/// A ladder step in one line: `+0.000s → DISCOVER (secs 0)`.
fn step_text(s: &diagnose::client::Step) -> String {
    let arrow = if s.from_client { "→" } else { "←" };
    let notes = if s.has_notes() {
        format!(" ({})", s.notes().collect::<Vec<_>>().join(", "))
    } else {
        String::new()
    };
    format!("{:+.3}s {arrow} {}{notes}", s.t, s.label())
}

/// The first request of one kind on each side, compared: one copy of each
/// (see [`pick_copies`]), and which hop each copy was seen at.
#[derive(Serialize)]
struct RequestDiff {
    kind: String,
    left_frame: String,
    right_frame: String,
    left_hop: Hop,
    right_hop: Hop,
    differences: Vec<Difference>,
}

/// Where on its way a copy of a request was seen: as its client sent it
/// (no giaddr), or relayed (giaddr, hops).
#[derive(Serialize, Clone, Copy, PartialEq, Eq)]
struct Hop {
    hops: u8,
    relayed_via: Option<std::net::Ipv4Addr>,
}

impl Hop {
    fn of(m: &Message<'_>) -> Hop {
        Hop {
            hops: m.hops,
            relayed_via: (!m.giaddr.is_unspecified()).then_some(m.giaddr),
        }
    }

    /// Relays passed: a relay that set giaddr but left hops at 0 counts.
    fn level(self) -> u8 {
        if self.relayed_via.is_some() {
            self.hops.max(1)
        } else {
            self.hops
        }
    }

    fn text(self) -> String {
        match self.relayed_via {
            Some(g) => format!("relayed via {g}, hops {}", self.hops),
            None if self.hops == 0 => "as the client sent it".into(),
            None => format!("hops {}", self.hops),
        }
    }
}

/// A copy of a request: its frame, and its message.
type Seen<'a> = (FrameRef, &'a Loaded);

/// Of the copies of each side's request (the same message seen in several
/// captures, or at several hops), the pair to compare: copies at another hop
/// differ in giaddr, hops and option 82 by the relays' doing. Preferred: a
/// pair from one capture (seen at one place, as a server there received
/// them), at the same hop, neither cut, closest to the server (most relays
/// passed); then the earliest.
fn pick_copies<'a>(left: &[Seen<'a>], right: &[Seen<'a>]) -> Option<(Seen<'a>, Seen<'a>)> {
    let mut best = None;
    let mut best_key = None;
    for &(lf, l) in left {
        for &(rf, r) in right {
            let (lh, rh) = (Hop::of(&l.message).level(), Hop::of(&r.message).level());
            let key = (
                lf.file == rf.file,
                lh == rh,
                l.cut.is_none() && r.cut.is_none(),
                lh.min(rh),
                std::cmp::Reverse((lf.file, lf.frame, rf.file, rf.frame)),
            );
            if best_key.as_ref().is_none_or(|b| key > *b) {
                best_key = Some(key);
                best = Some(((lf, l), (rf, r)));
            }
        }
    }
    best
}

/// The first request of each kind both clients sent, compared field by field.
/// Also whether a request compared was cut by its capture (said on stderr).
fn compare_requests(
    files: &[String],
    paths: &[PathBuf],
    sides: &[Vec<Exchange>; 2],
) -> anyhow::Result<(Vec<RequestDiff>, bool)> {
    // Each kind's first request: its frame, then its copies.
    let firsts = |ex: &[Exchange]| {
        let mut v: Vec<(String, Vec<FrameRef>)> = Vec::new();
        for s in ex.iter().flat_map(|e| &e.steps).filter(|s| s.from_client) {
            if !v.iter().any(|(k, _)| k == step_kind(s)) {
                let frames = std::iter::once(s.frame).chain(s.copies.iter().copied());
                v.push((step_kind(s).to_string(), frames.collect()));
            }
        }
        v
    };
    let (left, right) = (firsts(&sides[0]), firsts(&sides[1]));
    let pairs: Vec<(&String, &[FrameRef], &[FrameRef])> = left
        .iter()
        .filter_map(|(kind, lf)| {
            let (_, rf) = right.iter().find(|(k, _)| k == kind)?;
            Some((kind, &lf[..], &rf[..]))
        })
        .collect();
    let wanted: Vec<FrameRef> = pairs.iter().flat_map(|(_, l, r)| [l[0], r[0]]).collect();
    let mut messages = load_frames_of(paths, &wanted)?;
    for f in &wanted {
        if !messages.contains_key(f) {
            bail!("{}: not a DHCP message", frame_name(files, *f));
        }
    }
    // The copies, where they can be read (a copy that cannot is not
    // compared; the frame the ladder shows still is).
    let copies: Vec<FrameRef> = pairs
        .iter()
        .flat_map(|(_, l, r)| l[1..].iter().chain(&r[1..]).copied())
        .filter(|f| !messages.contains_key(f))
        .collect();
    for (i, path) in paths.iter().enumerate() {
        if let Ok(read) = load_frames_of_file(path, i, &copies) {
            messages.extend(read);
        }
    }
    let loaded = |frames: &[FrameRef]| -> Vec<Seen<'_>> {
        frames
            .iter()
            .filter_map(|f| Some((*f, messages.get(f)?)))
            .collect()
    };
    let mut out = Vec::new();
    let mut cut = false;
    for (kind, lfs, rfs) in pairs {
        let Some(((lf, l), (rf, r))) = pick_copies(&loaded(lfs), &loaded(rfs)) else {
            continue;
        };
        for (f, m) in [(lf, l), (rf, r)] {
            warn_cut(&frame_name(files, f), m.cut);
        }
        cut |= l.cut.is_some() || r.cut.is_some();
        out.push(RequestDiff {
            kind: kind.clone(),
            left_frame: frame_name(files, lf),
            right_frame: frame_name(files, rf),
            left_hop: Hop::of(&l.message),
            right_hop: Hop::of(&r.message),
            differences: diff::captured(&l.message, &r.message, [wire(l), wire(r)]),
        });
    }
    Ok((out, cut))
}

/// What the capture shows of a loaded message beyond its parts.
fn wire(l: &Loaded) -> diff::Wire {
    diff::Wire {
        len: l.len,
        cut: l.cut.is_some(),
    }
}

/// The messages of `wanted` frames, reading each file once more.
fn load_frames_of(
    files: &[PathBuf],
    wanted: &[FrameRef],
) -> anyhow::Result<std::collections::HashMap<FrameRef, Loaded>> {
    let mut out = std::collections::HashMap::new();
    for (i, file) in files.iter().enumerate() {
        out.extend(load_frames_of_file(file, i, wanted)?);
    }
    Ok(out)
}

/// The messages of those of `wanted` frames in `file`, file `i` of the inputs.
fn load_frames_of_file(
    file: &Path,
    i: usize,
    wanted: &[FrameRef],
) -> anyhow::Result<Vec<(FrameRef, Loaded)>> {
    let numbers: Vec<u64> = wanted
        .iter()
        .filter(|r| usize::from(r.file) == i)
        .map(|r| r.frame)
        .collect();
    let file_ref = |frame| FrameRef {
        file: i as u16,
        frame,
    };
    Ok(load_frames(file, &numbers)?
        .into_iter()
        .map(|(frame, m)| (file_ref(frame), m))
        .collect())
}

/// `diff CAPTURES… --mac A --mac B`: two clients' whole exchanges side by
/// side, and their first requests of each kind compared field by field.
fn diff_clients(a: &DiffArgs, style: Style, out: &mut impl Write) -> anyhow::Result<Outcome> {
    let macs = [a.macs[0], a.macs[1]];
    if macs[0] == macs[1] {
        bail!("give two different clients (--mac {} twice)", macs[0]);
    }
    let items: Vec<PathBuf> = a.items()?.into_iter().map(PathBuf::from).collect();
    if items.iter().any(|i| crate::inputs::is_stdin(i)) {
        bail!("diff --mac reads its captures twice (the exchanges, then the requests to compare), so stdin cannot be one: save it to a file first");
    }
    let files = crate::inputs::captures(&items)?;
    let mut feed = Feed::open(&files);
    let names = feed.names();
    let mut engine = Engine::new(
        Config {
            files: names.clone(),
            ..Config::default()
        },
        TwoClients {
            macs,
            exchanges: [Vec::new(), Vec::new()],
            more: [0, 0],
        },
    );
    engine.captures_start(&feed.first_frames());
    engine.push_all(feed.by_ref());
    let unsupported = feed.unsupported_problems();
    // (Whether the exchanges compared are in doubt shows in them.)
    let (mut warnings, _) = feed.warnings(&names.join(" + "));
    warnings.extend(crate::inputs::skipped_in_dirs(&items));
    // A capture without DHCP is no answer about either client.
    let (no_dhcp, without_dhcp) = feed.without_dhcp_warnings();
    warnings.extend(no_dhcp);
    for p in feed.problems.iter().chain(&unsupported).chain(&warnings) {
        crate::warn(format_args!("{}: {}", p.file, p.message));
    }
    // As `diagnose --json` has them: what could not be read, and what the
    // comparison stands on.
    let problems: Vec<&InputProblem> = feed.problems.iter().chain(&unsupported).collect();
    let (report, sink) = engine.finish();
    let TwoClients {
        exchanges, more, ..
    } = sink;
    let read_error = if feed.problems.is_empty() && unsupported.is_empty() {
        Outcome::Healthy
    } else {
        Outcome::Error
    };
    let found: Vec<Option<ClientSide>> = macs
        .iter()
        .enumerate()
        .map(|(side, mac)| {
            let Some(c) = report.clients.iter().find(|c| c.chaddr == *mac) else {
                let given: Vec<_> = files.iter().map(|f| shown(f)).collect();
                warn(format_args!(
                    "no packets from {mac} in {}",
                    given.join(", ")
                ));
                return None;
            };
            Some(ClientSide {
                chaddr: mac.to_string(),
                outcome: c.outcome().map(|o| o.name()),
                address: c.address(),
                findings: c.finding_codes(),
                exchanges: Vec::new(),
                more_exchanges: more[side],
            })
        })
        .collect();
    let mut found = found;
    if found.iter().any(Option::is_none) {
        // Nothing to compare: no answer. A script still gets its document,
        // with the missing side null, and the found side's exchanges are
        // shown as they would be beside the other's.
        for (side, e) in found.iter_mut().zip(exchanges) {
            if let Some(side) = side {
                side.exchanges = e;
            }
        }
        if a.json {
            serde_json::to_writer(
                &mut *out,
                &serde_json::json!({"files": names, "left": found[0], "right": found[1], "requests": [],
                    "input_problems": problems, "input_warnings": warnings}),
            )?;
            writeln!(out)?;
        } else {
            print_clients(
                out,
                [found[0].as_ref(), found[1].as_ref()],
                &macs,
                &[],
                style,
            )?;
        }
        return Ok(Outcome::Problems.and(read_error));
    }
    let mut sides: Vec<ClientSide> = found.into_iter().flatten().collect();
    let (requests, cut) = compare_requests(&names, &feed.paths(), &exchanges)?;
    let [le, re] = exchanges;
    sides[0].exchanges = le;
    sides[1].exchanges = re;
    // Two clients always differ in chaddr: that alone is no difference.
    let differ = sides[0].outcome != sides[1].outcome
        || requests
            .iter()
            .any(|r| r.differences.iter().any(|d| d.field != "chaddr"));
    if a.json {
        serde_json::to_writer(
            &mut *out,
            &serde_json::json!({"files": names, "left": sides[0], "right": sides[1], "requests": requests,
                "input_problems": problems, "input_warnings": warnings}),
        )?;
        writeln!(out)?;
    } else {
        print_clients(
            out,
            [Some(&sides[0]), Some(&sides[1])],
            &macs,
            &requests,
            style,
        )?;
    }
    Ok(if differ || without_dhcp || cut {
        Outcome::Problems.and(read_error)
    } else {
        read_error
    })
}

/// The notes of a step that can tell two clients apart: retransmission,
/// `secs`, a bad checksum. (Addresses differ between any two clients.)
fn telling_notes(s: &diagnose::client::Step) -> impl Iterator<Item = &str> {
    s.notes().filter(|n| {
        n.starts_with("retransmission") || n.starts_with("secs ") || n.starts_with("UDP checksum")
    })
}

fn steps_of(e: Option<&Exchange>) -> &[diagnose::client::Step] {
    e.map_or(&[], |e| &e.steps)
}

/// The two clients side by side; a client `None` is one the captures do
/// not hold (`macs` names it): its column is empty, and nothing is compared.
fn print_clients(
    out: &mut impl Write,
    sides: [Option<&ClientSide>; 2],
    macs: &[wire::HwAddr; 2],
    requests: &[RequestDiff],
    style: Style,
) -> std::io::Result<()> {
    const W: usize = 52;
    for ((name, c), mac) in ["left ", "right"].iter().zip(sides).zip(macs) {
        let Some(c) = c else {
            writeln!(
                out,
                "{name} {}  not in the captures",
                style.paint(Paint::Bold, mac.to_string())
            )?;
            continue;
        };
        writeln!(
            out,
            "{name} {}  {}  {}  findings: {}",
            style.paint(Paint::Bold, &c.chaddr),
            c.outcome.unwrap_or("?"),
            c.address.map_or("no lease".into(), |a| a.to_string()),
            if c.findings.is_empty() {
                "none".into()
            } else {
                c.findings.join(", ")
            }
        )?;
    }
    // With one client only, its steps are shown, not marked as differing.
    let comparing = sides.iter().all(Option::is_some);
    let exchanges = sides.map(|c| c.map_or(&[][..], |c| &c.exchanges[..]));
    let n = exchanges[0].len().max(exchanges[1].len());
    for i in 0..n {
        let (l, r) = (exchanges[0].get(i), exchanges[1].get(i));
        let head = |e: Option<&Exchange>| {
            e.map_or("-".to_string(), |e| {
                format!("xid {} {}: {}", e.xid, e.state, e.outcome)
            })
        };
        writeln!(out)?;
        writeln!(
            out,
            "  {}",
            style.paint(
                Paint::Dim,
                format!("exchange {}:  {:<W$} | {}", i + 1, head(l), head(r))
            )
        )?;
        let (ls, rs) = (steps_of(l), steps_of(r));
        for j in 0..ls.len().max(rs.len()) {
            let (a, b) = (ls.get(j), rs.get(j));
            let same = match (a, b) {
                (Some(a), Some(b)) => {
                    a.from_client == b.from_client
                        && step_kind(a) == step_kind(b)
                        && telling_notes(a).eq(telling_notes(b))
                }
                _ => false,
            };
            let same = same || !comparing;
            let mark = if same { " " } else { "≠" };
            let text = |s: Option<&diagnose::client::Step>| s.map_or(String::new(), step_text);
            let line = format!(
                "{mark}   {:<W$} | {}",
                truncate(&text(a), W),
                truncate(&text(b), W)
            );
            if same {
                writeln!(out, "  {line}")?;
            } else {
                writeln!(out, "  {}", style.paint(Paint::Yellow, line))?;
            }
        }
    }
    for (name, c) in ["left", "right"].iter().zip(sides) {
        let Some(c) = c else { continue };
        if c.more_exchanges > 0 {
            writeln!(
                out,
                "  … {} more exchanges of the {name} client not shown",
                c.more_exchanges
            )?;
        }
    }
    for r in requests {
        writeln!(out)?;
        writeln!(
            out,
            "first {}s ({}, {}; {}, {}):",
            r.kind,
            r.left_frame,
            r.left_hop.text(),
            r.right_frame,
            r.right_hop.text()
        )?;
        if r.left_hop.level() != r.right_hop.level() {
            writeln!(
                out,
                "{}",
                style.paint(
                    Paint::Dim,
                    "  (no capture holds both at the same hop: giaddr, hops and option 82 may differ by the relays' doing)"
                )
            )?;
        }
        print_differences(out, &r.differences, "left", "right", style)?;
    }
    if requests.is_empty() && sides.iter().all(Option::is_some) {
        writeln!(out)?;
        writeln!(out, "no request of the same kind on both sides to compare")?;
    }
    Ok(())
}

/// Says that frame `name` was cut by its capture, if it was: its options
/// past the cut are not compared.
fn warn_cut(name: &str, cut: Option<(usize, usize)>) {
    if let Some((kept, len)) = cut {
        warn(format_args!(
            "{name}: the capture kept {kept} of the frame's {len} bytes (snap length, or a file cut short): \
             options past the cut are unknown, so an option missing from it is not counted as a difference"
        ));
    }
}

/// A `CAPTURE:FRAME` argument whose capture is `file`, as messages show it.
fn shown_ref(item: &OsStr, file: &Path) -> String {
    let frame = item.as_bytes().get(file.as_os_str().len()..);
    format!(
        "{}{}",
        shown(file),
        String::from_utf8_lossy(frame.unwrap_or_default())
    )
}

pub fn diff_cmd(a: &DiffArgs, style: Style, out: &mut impl Write) -> anyhow::Result<Outcome> {
    if a.macs.len() == 2 {
        return diff_clients(a, style, out);
    }
    let items = a.items()?;
    if items.len() != 2 || !a.macs.is_empty() {
        bail!("give two requests as CAPTURE:FRAME (e.g. good.pcap:1 bad.pcap:3), or one capture and --mac twice");
    }
    let (lf, ln) = frame_ref(&items[0])?;
    let (rf, rn) = frame_ref(&items[1])?;
    crate::inputs::stdin_once([&lf, &rf])?;
    let (l, r) = (load_frame(&lf, ln)?, load_frame(&rf, rn)?);
    // A request and a reply are not compared; an op that is neither is a
    // difference to show (it makes the packet invalid).
    use wire::Op::{BootReply, BootRequest};
    if let Some((request, reply)) = match (l.message.op, r.message.op) {
        (BootRequest, BootReply) => Some((&items[0], &items[1])),
        (BootReply, BootRequest) => Some((&items[1], &items[0])),
        _ => None,
    } {
        bail!(
            "{} is a reply and {} a request: diff compares two requests (or two replies)",
            reply.to_string_lossy(),
            request.to_string_lossy()
        );
    }
    for (item, file, side) in [(&items[0], &lf, &l), (&items[1], &rf, &r)] {
        warn_cut(&shown_ref(item, file), side.cut);
    }
    let d = diff::captured(&l.message, &r.message, [wire(&l), wire(&r)]);
    if a.json {
        serde_json::to_writer(&mut *out, &d)?;
        writeln!(out)?;
    } else {
        let (left, right) = (shown_ref(&items[0], &lf), shown_ref(&items[1], &rf));
        print_differences(out, &d, &left, &right, style)?;
    }
    // Differences, or a comparison that could not see all of both.
    Ok(if d.is_empty() && l.cut.is_none() && r.cut.is_none() {
        Outcome::Healthy
    } else {
        Outcome::Problems
    })
}

/// Asks the network: one request with a fresh xid, a pause between tries.
struct NetOracle<'s, 't> {
    session: &'s mut Session<'t>,
    dest: Dest,
    timeout: Duration,
    pause: Duration,
    asked: u32,
    giaddr: Option<std::net::Ipv4Addr>,
    out: Vec<String>,
}

impl Oracle for NetOracle<'_, '_> {
    fn ask(&mut self, m: &Message<'static>) -> Result<Answer, String> {
        if self.asked > 0 {
            std::thread::sleep(self.pause);
        }
        self.asked += 1;
        let mut m = m.clone();
        m.xid = fresh_xid();
        if let Some(g) = self.giaddr {
            m.giaddr = g;
            m.hops = m.hops.max(1);
        }
        let replies = self
            .session
            .ask_until(
                &m,
                self.dest,
                self.timeout,
                &[MessageType::Offer, MessageType::Ack, MessageType::Nak],
                Duration::ZERO,
            )
            .map_err(|e| e.to_string())?;
        let a = if replies.iter().any(|r| {
            matches!(r.kind(), Some(MessageType::Offer | MessageType::Ack)) || r.kind().is_none()
        }) {
            Answer::Answered
        } else if replies.iter().any(|r| r.kind() == Some(MessageType::Nak)) {
            Answer::Nak
        } else {
            Answer::Silent
        };
        self.out
            .push(format!("xid 0x{:08x} secs {} → {a}", m.xid, m.secs));
        Ok(a)
    }
}

/// What `bisect` was asked to do, checked before anything is opened.
enum BisectJob {
    Range {
        base: Message<'static>,
        field: Field,
        lo: u32,
        hi: u32,
    },
    Between {
        working: Message<'static>,
        failing: Message<'static>,
    },
}

/// Loads a request to vary from `CAPTURE:FRAME`: whole, and not a reply.
fn bisect_request(item: &OsStr) -> anyhow::Result<(Message<'static>, String)> {
    let (file, n) = frame_ref(item)?;
    let m = load_frame(&file, n)?.whole(&file, n)?;
    crate::send::refuse_reply(&m, &file, n, "bisect varies requests")?;
    Ok((m, shown_ref(item, &file)))
}

pub fn bisect_cmd(a: &BisectArgs, style: Style, out: &mut impl Write) -> anyhow::Result<Outcome> {
    // Every argument is checked (and every capture read) before the way out
    // is opened.
    let mut captured = Vec::new();
    let mut job = match (&a.field, &a.working, &a.failing) {
        (Some(f), None, None) => {
            let (name, range) = f.split_once('=').context("--field takes NAME=LOW..HIGH, e.g. secs=0..30")?;
            let (lo, hi) = range.split_once("..").context("--field takes NAME=LOW..HIGH, e.g. secs=0..30")?;
            let field = Field::parse(name).map_err(anyhow::Error::msg)?;
            let (lo, hi): (u32, u32) = (lo.parse().context("LOW is not a number")?, hi.parse().context("HIGH is not a number")?);
            if lo > hi || hi > field.max() {
                bail!("--field {f}: the range is empty or beyond {}'s maximum {}", field.name(), field.max());
            }
            let base = match &a.base {
                Some(b) => {
                    let (mut m, name) = bisect_request(b)?;
                    a.overrides.apply_message(&mut m);
                    captured.push(name);
                    m
                }
                None => {
                    let mut spec = Spec::new(Kind::Discover, wire::HwAddr::new(&[0; 6]), 0);
                    a.overrides.apply_spec(&mut spec);
                    spec.build().map_err(anyhow::Error::msg)?
                }
            };
            BisectJob::Range { base, field, lo, hi }
        }
        (None, Some(w), Some(f)) => {
            let (working, wname) = bisect_request(w)?;
            let (failing, fname) = bisect_request(f)?;
            captured.extend([wname, fname]);
            BisectJob::Between { working, failing }
        }
        _ => bail!("give either --field NAME=LOW..HIGH (with an optional --base CAPTURE:FRAME) or --working CAPTURE:FRAME --failing CAPTURE:FRAME"),
    };
    // The captures requests were read from, which -w must not overwrite.
    let inputs = [&a.base, &a.working, &a.failing]
        .into_iter()
        .flatten()
        .map(|r| frame_ref(r).map(|(file, _)| file))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let inputs: Vec<&Path> = inputs.iter().map(PathBuf::as_path).collect();
    if let Some(w) = &a.transport.write {
        RunFile::refuse_input(w, &inputs)?;
    }
    let way = crate::send::WayOut::new(&a.transport)?;
    let flags_given = a.overrides.flags.is_some();
    match &mut job {
        // Varying the flags themselves: they are the user's.
        BisectJob::Range {
            field: Field::Flags,
            ..
        } => {}
        BisectJob::Range { base, .. } if a.base.is_none() => {
            // The plain DISCOVER: from the interface's MAC unless --chaddr.
            if a.overrides.chaddr.is_none() {
                let mac = way
                    .iface_mac()
                    .context("give --chaddr (no interface to take a MAC from)")?;
                let mut spec = Spec::new(Kind::Discover, wire::HwAddr::new(&mac), 0);
                a.overrides.apply_spec(&mut spec);
                *base = spec.build().map_err(anyhow::Error::msg)?;
            }
            way.broadcast_replies(base, flags_given);
        }
        BisectJob::Range { base, .. } => {
            if way.broadcast_replies(base, flags_given) {
                crate::send::broadcast_note(&captured[0]);
            }
        }
        BisectJob::Between { working, failing } => {
            for (m, name) in [working, failing].into_iter().zip(&captured) {
                if way.broadcast_replies(m, false) {
                    crate::send::broadcast_note(name);
                }
            }
        }
    }
    let file = a
        .transport
        .write
        .as_deref()
        .map(|w| RunFile::create(w, &inputs))
        .transpose()?;
    let mut opened = way.open()?;
    let file = file.map(RunFile::start).transpose()?;
    let limits = Limits {
        max_sends: a.transport.max_packets,
        min_interval: a.transport.interval,
    };
    let giaddr = opened.giaddr;
    let dest = opened.dest;
    let mut session = Session::new(opened.transport.as_mut(), limits);
    let result = bisect_run(a, style, out, &job, &mut session, dest, giaddr);
    let iface = a.transport.iface.as_deref().unwrap_or("udp");
    finish_run(result, file, iface, &session)
}

/// `bisect`'s run once the way out is open: the tries, the report.
fn bisect_run(
    a: &BisectArgs,
    style: Style,
    out: &mut impl Write,
    job: &BisectJob,
    session: &mut Session<'_>,
    dest: Dest,
    giaddr: Option<std::net::Ipv4Addr>,
) -> anyhow::Result<Outcome> {
    let mut oracle = NetOracle {
        session,
        dest,
        timeout: a.transport.timeout,
        pause: a.pause,
        asked: 0,
        giaddr,
        out: Vec::new(),
    };
    let (conclusion, found, tries) = match job {
        BisectJob::Range {
            base,
            field,
            lo,
            hi,
        } => {
            let r =
                bisect::range(base, *field, *lo, *hi, &mut oracle).map_err(anyhow::Error::msg)?;
            (r.conclusion(), r.boundary.is_some(), r.tries)
        }
        BisectJob::Between { working, failing } => {
            let r = bisect::between(working, failing, &mut oracle).map_err(anyhow::Error::msg)?;
            (r.conclusion(), !r.flips.is_empty(), r.tries)
        }
    };
    let sent = std::mem::take(&mut oracle.out);
    let session = oracle.session;
    if a.json {
        let tries: Vec<serde_json::Value> = tries
            .iter()
            .map(|t| serde_json::json!({"request": t.what, "answer": t.answer.to_string()}))
            .collect();
        serde_json::to_writer(
            &mut *out,
            &serde_json::json!({"conclusion": conclusion, "found": found, "tries": tries}),
        )?;
        writeln!(out)?;
    } else {
        writeln!(
            out,
            "{}",
            style.paint(Paint::Dim, format!("via {}", session.describe()))
        )?;
        for (t, s) in tries
            .iter()
            .zip(sent.iter().chain(std::iter::repeat(&String::new())))
        {
            writeln!(
                out,
                "  {:<60} {}  {}",
                t.what,
                t.answer,
                style.paint(Paint::Dim, s)
            )?;
        }
        writeln!(out, "{}", style.paint(Paint::Bold, &conclusion))?;
    }
    Ok(if found {
        Outcome::Healthy
    } else {
        Outcome::Problems
    })
}
