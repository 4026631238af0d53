//! `dhcplens watch`: live diagnosis on one or more interfaces, with the same
//! engine as `diagnose`: a line per finished exchange, findings as soon as
//! they are settled, a summary at the end (Ctrl-C, --duration or --count).

use std::collections::{HashMap, HashSet, VecDeque};
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use capture::live::{
    Direction, KernelStats, LinkEvent, LinkState, LivePacket, Options, PacketSocket,
};
use capture::Timestamp;
use diagnose::{Code, Config, Engine, Finding, FrameRef, KernelChecksum, Obs, Sink, Summary};
use serde::Serialize;
use wire::HwAddr;

use crate::args::WatchArgs;
use crate::style::{printable, Paint, Style};
use crate::{diagnose_text, Outcome};

/// Whether `iface` is a virtual interface (no `device` in sysfs), if known.
fn is_virtual(iface: &str) -> Option<bool> {
    let base = std::path::Path::new("/sys/class/net").join(iface);
    base.exists().then(|| !base.join("device").exists())
}

/// Writes one JSON line `{"event":EVENT,"time":…, BODY's fields…}`.
///
/// BODY's fields are spliced in from its serialisation rather than through
/// `#[serde(flatten)]`, which cannot flatten records that serialise through
/// their own direct writer (a raw JSON value).
fn write_event(out: &mut impl Write, event: &str, body: &impl Serialize) -> std::io::Result<()> {
    let body = serde_json::to_vec(body)?;
    let fields = match body.as_slice() {
        [b'{', b'}'] => &[][..],
        [b'{', inner @ .., b'}'] => inner,
        _ => {
            return Err(std::io::Error::other(
                "an event body must serialise to a JSON object",
            ))
        }
    };
    write!(
        out,
        "{{\"event\":{},\"time\":\"{}\"",
        serde_json::to_string(event)?,
        Timestamp::now()
    )?;
    if !fields.is_empty() {
        out.write_all(b",")?;
        out.write_all(fields)?;
    }
    out.write_all(b"}\n")
}

/// Prints results as they settle; each (client, finding code) once, and
/// each finding that names no client once per first frame (each kind of
/// ICMP error that names no client is its own finding).
struct Live<W: Write> {
    out: W,
    json: bool,
    style: Style,
    files: Vec<String>,
    seen: HashSet<(Option<HwAddr>, Code, Option<FrameRef>)>,
    exchanges: u64,
    /// Findings per frame, for packet comments: one per finding code, the
    /// latest wording (a finding settled early is restated as it grows).
    notes: Notes,
    /// Whether notes are wanted (`-w`), and per interface the last frame
    /// already written (frame numbers only grow).
    keep_notes: bool,
    written_up_to: Vec<u64>,
    error: Option<std::io::Error>,
}

impl<W: Write> Live<W> {
    fn emit(&mut self, r: std::io::Result<()>) {
        if let Err(e) = r {
            self.error.get_or_insert(e);
        }
    }
}

impl<W: Write> Sink for Live<W> {
    fn wants_transactions(&self) -> bool {
        true
    }

    fn transaction(&mut self, s: &Summary) {
        self.exchanges += 1;
        let now = Timestamp::now();
        let r = if self.json {
            write_event(&mut self.out, "transaction", s)
        } else {
            let paint = if s.outcome.is_failure() {
                Paint::Red
            } else if s.outcome.is_success() {
                Paint::Green
            } else {
                Paint::Yellow
            };
            let lease = match (s.address, s.server) {
                (Some(a), Some(sv)) => format!("{a} from {sv}"),
                (Some(a), None) => a.to_string(),
                _ => String::new(),
            };
            let latency = s.reply_latency.map_or(String::new(), |l| {
                format!(", first reply in {:.1} ms", l * 1e3)
            });
            writeln!(
                self.out,
                "{}  {}  {} {lease}  ({}, {} request{}{latency})",
                now.time_of_day(),
                self.style.paint(Paint::Bold, s.chaddr),
                self.style.paint(paint, s.outcome.name()),
                s.state.name(),
                s.requests,
                if s.requests == 1 { "" } else { "s" }
            )
        };
        self.emit(r);
        let _ = self.out.flush();
    }

    fn finding(&mut self, f: &Finding) {
        let text = format!("dhcplens {} {}: {}", f.severity.name(), f.code, f.summary);
        for fr in &f.frames {
            // Only for `-w`, and only for frames not yet written out.
            if !self.keep_notes
                || self
                    .written_up_to
                    .get(usize::from(fr.file))
                    .is_some_and(|n| fr.frame <= *n)
            {
                continue;
            }
            let v = self.notes.entry(*fr).or_default();
            match v.iter_mut().find(|(c, _)| *c == f.code) {
                Some((_, t)) => t.clone_from(&text),
                None => v.push((f.code, text.clone())),
            }
        }
        let first = f.chaddr.is_none().then(|| f.frames.first().copied());
        if !self.seen.insert((f.chaddr, f.code, first.flatten())) {
            return;
        }
        let now = Timestamp::now();
        let r = if self.json {
            write_event(&mut self.out, "finding", f)
        } else {
            let sev = match f.severity {
                diagnose::Severity::Error => self.style.paint(Paint::Red, "error"),
                diagnose::Severity::Warning => self.style.paint(Paint::Yellow, "warning"),
                diagnose::Severity::Info => self.style.paint(Paint::Dim, "info"),
            };
            writeln!(
                self.out,
                "{}  {sev} {}  {}  {}\n          {}\n          evidence: {}\n          fix: {}",
                now.time_of_day(),
                self.style.paint(Paint::Bold, f.code),
                f.chaddr.map_or(String::new(), |c| c.to_string()),
                printable(&f.summary),
                printable(&f.explanation),
                diagnose::rules::frame_list(&self.files, f.frames.iter().copied()),
                printable(&f.fix)
            )
        };
        self.emit(r);
        let _ = self.out.flush();
    }
}

/// Packet comments by frame.
type Notes = HashMap<FrameRef, Vec<(Code, String)>>;

/// Frames kept for `-w` a while before they are written, so that findings
/// settled after a frame came reach it as a packet comment. Bounded, so
/// that a watch killed (SIGKILL, OOM) loses little: a frame leaves once it
/// has been held [`HOLD`], or as the ring outgrows [`RING_BYTES`], with the
/// findings known by then; the file is flushed whenever frames leave.
#[derive(Default)]
struct Ring {
    /// Each frame with when it came.
    frames: VecDeque<(FrameRef, Instant, LivePacket)>,
    bytes: usize,
}

const RING_BYTES: usize = 64 * 1024 * 1024;
/// How long a frame is held for findings about it (findings settled later
/// are printed, but not written as its comments): an exchange closes after
/// 60 s without a packet, and its findings are settled then; a client that
/// gets no answer retries for about a minute (dhclient's timeout is 60 s),
/// so its first frames wait for the close 60 s after its last.
const HOLD: Duration = Duration::from_secs(130);

impl Ring {
    fn push(&mut self, at: FrameRef, came: Instant, p: LivePacket) {
        self.bytes += p.data.len();
        self.frames.push_back((at, came, p));
    }

    /// Writes out the frames due to leave by `now` (all of them with
    /// `all`), oldest first, with their notes, and flushes if any left.
    fn drain<W: Write>(
        &mut self,
        w: &mut Annotated,
        live: &mut Live<W>,
        now: Instant,
        all: bool,
    ) -> anyhow::Result<()> {
        let mut wrote = false;
        while let Some((_, came, _)) = self.frames.front() {
            let due =
                all || self.bytes > RING_BYTES || now.saturating_duration_since(*came) >= HOLD;
            if !due {
                break;
            }
            let (at, _, p) = self.frames.pop_front().expect("a front frame");
            self.bytes -= p.data.len();
            w.write(at, &p, &mut live.notes)?;
            live.written_up_to[usize::from(at.file)] = at.frame;
            wrote = true;
        }
        if wrote {
            w.flush()?;
        }
        Ok(())
    }
}

/// What a capture thread hands the loop, for interface `.0`.
enum Got {
    Packet(u16, LivePacket),
    /// The interface went down, was found deleted, or receives again.
    Link(u16, LinkEvent),
    /// The kernel's counts on the socket so far, when they changed.
    Counts(u16, KernelStats),
}

/// How often a capture thread reads the kernel's counts.
const COUNTS_EVERY: Duration = Duration::from_secs(1);

/// Receives on `s` (interface `i`) until `stop`, handing the loop what it
/// gets; an interface that goes down is waited for, not an end. Returns
/// the kernel's counts at the end.
fn receive_loop(
    i: u16,
    s: &PacketSocket,
    tx: &mpsc::SyncSender<Got>,
    stop: &AtomicBool,
) -> std::io::Result<KernelStats> {
    let mut link = LinkState::default();
    let mut counts = KernelStats::default();
    let mut counted = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        let mut said = Vec::new();
        let got = match s.recv(Some(Duration::from_millis(200))) {
            Ok(got) => got,
            Err(e) if capture::live::is_link_down(&e) => {
                said = link.error(Instant::now(), || s.interface_deleted());
                None
            }
            Err(e) => return Err(e),
        };
        said.extend(match &got {
            Some(_) => link.received(),
            None => link.idle(Instant::now(), || s.interface_deleted()),
        });
        let mut out: Vec<Got> = said.into_iter().map(|e| Got::Link(i, e)).collect();
        out.extend(got.map(|p| Got::Packet(i, p)));
        if counted.elapsed() >= COUNTS_EVERY {
            counted = Instant::now();
            if let Ok(now) = s.statistics() {
                if now != counts {
                    counts = now;
                    out.push(Got::Counts(i, now));
                }
            }
        }
        for g in out {
            if tx.send(g).is_err() {
                return Ok(s.statistics().unwrap_or(counts));
            }
        }
    }
    Ok(s.statistics().unwrap_or(counts))
}

/// How often, at most, frames the kernel dropped are warned of.
const DROPS_WARNED_EVERY: Duration = Duration::from_secs(5);

/// Warns of the frames the kernel dropped on one interface, at most every
/// [`DROPS_WARNED_EVERY`].
#[derive(Debug, Default)]
struct DropWarning {
    /// Dropped frames already warned of.
    warned: u64,
    last: Option<Instant>,
}

impl DropWarning {
    /// With `dropped` in all so far: how many are new to warn of now, if
    /// it is time.
    fn due(&mut self, now: Instant, dropped: u64) -> Option<u64> {
        let time = self
            .last
            .is_none_or(|l| now.saturating_duration_since(l) >= DROPS_WARNED_EVERY);
        if dropped <= self.warned || !time {
            return None;
        }
        let new = dropped - self.warned;
        self.warned = dropped;
        self.last = Some(now);
        Some(new)
    }
}

/// The warning for `new` frames the kernel dropped on `iface`.
fn drops_warning(iface: &str, new: u64) -> String {
    format!(
        "the kernel dropped {new} DHCP frame{} on {iface}: its receive buffer was full \
         (watch reading too slowly); findings may miss them",
        if new == 1 { "" } else { "s" }
    )
}

/// The kernel's counts on one interface, as the JSON summary has them.
#[derive(Debug, Serialize)]
struct KernelCounts<'a> {
    interface: &'a str,
    /// Frames the filter passed, the dropped ones included.
    frames: u64,
    /// Of them, those the kernel dropped.
    dropped: u64,
}

/// The text summary's lines on frames the kernel dropped (none if it
/// dropped none).
fn drops_summary(ifaces: &[String], counts: &[KernelStats]) -> Vec<String> {
    ifaces
        .iter()
        .zip(counts)
        .filter(|(_, c)| c.dropped > 0)
        .map(|(i, c)| {
            format!(
                "the kernel dropped {} of {} DHCP frames on {i} (its receive buffer was full): \
                 the diagnosis may miss them",
                c.dropped, c.frames
            )
        })
        .collect()
}

/// What is said when interface `iface` goes down, is found deleted, or
/// receives again (on stderr; in `--json` also as an `interface` event
/// with this `state`).
fn link_said(iface: &str, event: LinkEvent) -> (&'static str, String) {
    match event {
        LinkEvent::Down => ("down", format!("{iface} is down; waiting for it")),
        LinkEvent::Deleted => (
            "deleted",
            format!(
                "{iface} was deleted (or replaced by a new interface of its name): \
                 watch will not see it again; restart watch once it is back"
            ),
        ),
        LinkEvent::Up => ("up", format!("{iface} receives again")),
    }
}

pub fn run(a: &WatchArgs, style: Style, out: &mut impl Write) -> anyhow::Result<Outcome> {
    if a.write.as_deref().is_some_and(|w| w.as_os_str() == "-") {
        anyhow::bail!("-w -: what watch says goes to standard output; give -w a file name");
    }
    let stop = Arc::new(AtomicBool::new(false));
    // A hang-up (the terminal or SSH session gone) stops it as Ctrl-C
    // does: the summary is printed (where it can be) and -w written out;
    // unless hang-ups are ignored (`nohup`), which is left as it is.
    let mut signals = vec![signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM];
    if !capture::live::signal_ignored(signal_hook::consts::SIGHUP) {
        signals.push(signal_hook::consts::SIGHUP);
    }
    for sig in signals {
        signal_hook::flag::register(sig, Arc::clone(&stop))
            .context("installing the Ctrl-C handler")?;
    }
    let mut sockets = Vec::new();
    for iface in &a.interfaces {
        let s = PacketSocket::open(
            iface,
            Options {
                promiscuous: a.promisc,
                unfiltered: false,
            },
        )
        .with_context(|| format!("cannot watch {iface}"))?;
        sockets.push(s);
    }
    // The file is made (its header and interfaces written out) before the
    // first frame is read: what a watch stopped any way leaves is a capture.
    let mut pcapng = match &a.write {
        Some(path) => Some(Annotated::create(path, &a.interfaces)?),
        None => None,
    };
    let virtual_links: Vec<Option<bool>> = a.interfaces.iter().map(|i| is_virtual(i)).collect();
    let (tx, rx) = mpsc::sync_channel::<Got>(4096);
    let mut threads = Vec::new();
    for (i, s) in sockets.into_iter().enumerate() {
        let tx = tx.clone();
        let stop = Arc::clone(&stop);
        threads.push(std::thread::spawn(move || {
            receive_loop(i as u16, &s, &tx, &stop)
        }));
    }
    drop(tx);
    if a.json {
        let started = serde_json::json!({"event": "started", "time": Timestamp::now().to_string(), "interfaces": a.interfaces});
        writeln!(out, "{started}")?;
        out.flush()?;
    } else {
        writeln!(
            out,
            "{}",
            style.paint(
                Paint::Dim,
                format!(
                    "watching {} for DHCP (Ctrl-C to stop)",
                    a.interfaces.join(", ")
                )
            )
        )?;
        out.flush()?;
    }
    let cfg = Config {
        files: a.interfaces.clone(),
        early: true,
        ..Config::default()
    };
    let live = Live {
        out: &mut *out,
        json: a.json,
        style,
        files: a.interfaces.clone(),
        seen: HashSet::new(),
        exchanges: 0,
        notes: HashMap::new(),
        keep_notes: a.write.is_some(),
        written_up_to: vec![0; a.interfaces.len()],
        error: None,
    };
    let mut engine = Engine::new(cfg, live);
    let mut ring = Ring::default();
    let mut numbers = vec![0u64; a.interfaces.len()];
    let mut counts = vec![KernelStats::default(); a.interfaces.len()];
    let mut drop_warnings: Vec<DropWarning> = a
        .interfaces
        .iter()
        .map(|_| DropWarning::default())
        .collect();
    let started = Instant::now();
    // However the loop ends (an error too: the report's reader gone, the
    // file not written), the capture threads are stopped and what the ring
    // holds is written out.
    let looped = (|| -> anyhow::Result<()> {
        loop {
            if stop.load(Ordering::Relaxed)
                || a.duration.is_some_and(|d| started.elapsed() >= d)
                || a.count.is_some_and(|c| engine.sink().exchanges >= c)
            {
                return Ok(());
            }
            match rx.recv_timeout(Duration::from_millis(200)) {
                Ok(Got::Link(i, event)) => {
                    let iface = &a.interfaces[usize::from(i)];
                    let (state, text) = link_said(iface, event);
                    crate::warn(&text);
                    if a.json {
                        let body = serde_json::json!({"interface": iface, "state": state});
                        let r = write_event(&mut engine.sink().out, "interface", &body);
                        engine.sink().emit(r);
                        let _ = engine.sink().out.flush();
                    }
                }
                Ok(Got::Counts(i, c)) => counts[usize::from(i)] = c,
                Ok(Got::Packet(i, p)) => {
                    numbers[usize::from(i)] += 1;
                    let at = FrameRef {
                        file: i,
                        frame: numbers[usize::from(i)],
                    };
                    let ts = Timestamp(p.timestamp_ns);
                    match wire::packet::decode(wire::LinkType::Ethernet, &p.data, p.orig_len) {
                        Ok(Some(d)) => {
                            let kernel = Some(match p.checksum {
                                capture::live::KernelChecksum::NotReady => KernelChecksum::NotReady,
                                capture::live::KernelChecksum::Valid => KernelChecksum::Valid,
                                capture::live::KernelChecksum::Unknown => KernelChecksum::Unknown,
                            });
                            if let Some(mut o) = Obs::new(at, ts, &d, kernel) {
                                o.outgoing = Some(p.direction == Direction::Outgoing);
                                o.virtual_link = virtual_links[usize::from(i)];
                                engine.push(o);
                            }
                        }
                        // An ICMP error quoting a DHCP message, as in a capture
                        // file: evidence that a server or relay is not there.
                        Err(wire::frame::Skip::NotUdp) => {
                            if let Some(o) =
                                wire::frame::unreachable(wire::LinkType::Ethernet, &p.data)
                                    .and_then(|u| Obs::quoted(at, ts, &u))
                            {
                                engine.push(o);
                            }
                        }
                        _ => {}
                    }
                    if pcapng.is_some() {
                        ring.push(at, Instant::now(), p);
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => engine.sweep(Timestamp::now()),
                Err(mpsc::RecvTimeoutError::Disconnected) => return Ok(()),
            }
            let now = Instant::now();
            for ((iface, c), w) in a.interfaces.iter().zip(&counts).zip(&mut drop_warnings) {
                if let Some(new) = w.due(now, c.dropped) {
                    crate::warn(drops_warning(iface, new));
                }
            }
            if let Some(w) = &mut pcapng {
                ring.drain(w, engine.sink(), Instant::now(), false)?;
            }
            if let Some(e) = engine.sink().error.take() {
                return Err(e.into());
            }
        }
    })();
    stop.store(true, Ordering::Relaxed);
    drop(rx);
    for (i, t) in threads.into_iter().enumerate() {
        match t.join() {
            Ok(Err(e)) => crate::warn(format_args!("capture stopped: {e}")),
            Err(_) => crate::warn("a capture thread failed"),
            Ok(Ok(c)) => counts[i] = c,
        }
    }
    let (report, mut live) = engine.finish();
    if let Some(mut w) = pcapng {
        let written = ring.drain(&mut w, &mut live, Instant::now(), true);
        match (&looped, written) {
            (_, Ok(())) => {}
            (Ok(()), Err(e)) => return Err(e),
            (Err(_), Err(e)) => crate::warn(format_args!("{e:#}")),
        }
    }
    looped?;
    let out = live.out;
    if a.json {
        #[derive(Serialize)]
        struct Done<'r> {
            clients: &'r [diagnose::ClientReport],
            findings: diagnose::report::FindingList<'r>,
            servers: &'r [diagnose::report::ServerReport],
            stats: &'r diagnose::report::Stats,
            healthy: bool,
            /// Per interface, frames the filter passed and those the kernel
            /// dropped.
            kernel: Vec<KernelCounts<'r>>,
        }
        let done = Done {
            clients: &report.clients,
            findings: report.findings_json(),
            servers: &report.servers,
            stats: &report.stats,
            healthy: report.healthy(),
            kernel: a
                .interfaces
                .iter()
                .zip(&counts)
                .map(|(i, c)| KernelCounts {
                    interface: i,
                    frames: c.frames,
                    dropped: c.dropped,
                })
                .collect(),
        };
        write_event(&mut *out, "summary", &done)?;
    } else {
        writeln!(out, "{}", style.paint(Paint::Dim, "---"))?;
        diagnose_text::print(out, &report, &a.interfaces, true, style)?;
        for line in drops_summary(&a.interfaces, &counts) {
            writeln!(out, "{}", style.paint(Paint::Yellow, line))?;
        }
    }
    Ok(if report.healthy() {
        Outcome::Healthy
    } else {
        Outcome::Problems
    })
}

/// The `-w` pcapng: frames with the findings about them as comments.
struct Annotated {
    /// The file's name, as messages show it.
    path: String,
    w: capture::write::PcapngWriter<std::io::BufWriter<std::fs::File>>,
    ifaces: Vec<String>,
}

impl Annotated {
    /// Creates `file` with the section header and an interface for each of
    /// `ifaces`, flushed.
    fn create(file: &Path, ifaces: &[String]) -> anyhow::Result<Annotated> {
        let path = file.display().to_string();
        let f = std::fs::File::create(file).with_context(|| format!("creating {path}"))?;
        let mut w = capture::write::PcapngWriter::new(std::io::BufWriter::new(f), "dhcplens watch")
            .with_context(|| format!("writing {path}"))?;
        for iface in ifaces {
            w.interface(wire::LinkType::Ethernet, iface)
                .with_context(|| format!("writing {path}"))?;
        }
        let mut a = Annotated {
            path,
            w,
            ifaces: ifaces.to_vec(),
        };
        a.flush()?;
        Ok(a)
    }

    /// Writes one frame with its direction and comments, which are then
    /// forgotten.
    fn write(&mut self, at: FrameRef, p: &LivePacket, notes: &mut Notes) -> anyhow::Result<()> {
        let i = self
            .w
            .interface(wire::LinkType::Ethernet, &self.ifaces[usize::from(at.file)])
            .with_context(|| format!("writing {}", self.path))?;
        let comments = notes.remove(&at).unwrap_or_default();
        let comments: Vec<&str> = comments.iter().map(|(_, t)| t.as_str()).collect();
        // As libpcap says it: what the host sent is outbound, anything else
        // it saw (to it, or to another host in promiscuous mode) inbound.
        let direction = match p.direction {
            Direction::Outgoing => capture::write::Direction::Outbound,
            Direction::Incoming | Direction::OtherHost => capture::write::Direction::Inbound,
        };
        self.w
            .write_packet(
                i,
                p.timestamp_ns,
                &p.data,
                p.orig_len,
                Some(direction),
                &comments,
            )
            .with_context(|| format!("writing {}", self.path))?;
        Ok(())
    }

    fn flush(&mut self) -> anyhow::Result<()> {
        self.w
            .flush()
            .with_context(|| format!("writing {}", self.path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Frames the kernel dropped (its receive buffer full) were never
    /// reported. A warning says how many were dropped since the last one,
    /// at most every [`DROPS_WARNED_EVERY`]; none while none are new.
    #[test]
    fn kernel_drops_are_warned_of_at_most_every_few_seconds() {
        let t0 = Instant::now();
        let mut w = DropWarning::default();
        assert_eq!(w.due(t0, 0), None, "nothing dropped");
        assert_eq!(w.due(t0, 3), Some(3));
        assert_eq!(w.due(t0 + Duration::from_secs(1), 10), None, "too soon");
        assert_eq!(w.due(t0 + DROPS_WARNED_EVERY, 12), Some(9), "the 9 since");
        assert_eq!(w.due(t0 + 3 * DROPS_WARNED_EVERY, 12), None, "none new");
        assert_eq!(
            drops_warning("eth0", 9),
            "the kernel dropped 9 DHCP frames on eth0: its receive buffer was full \
             (watch reading too slowly); findings may miss them"
        );
        assert!(drops_warning("eth0", 1).contains("dropped 1 DHCP frame on"));
    }

    /// The summary says, per interface, how many frames the kernel dropped
    /// (text: only where it dropped some; JSON: `kernel`, every interface
    /// with `frames` and `dropped`).
    #[test]
    fn the_summary_says_what_the_kernel_dropped() {
        let ifaces = vec!["eth0".to_string(), "br0".to_string()];
        let mut counts = vec![KernelStats::default(); 2];
        assert!(drops_summary(&ifaces, &counts).is_empty());
        counts[0].add(3400, 12);
        counts[1].add(20, 0);
        assert_eq!(
            drops_summary(&ifaces, &counts),
            [
                "the kernel dropped 12 of 3400 DHCP frames on eth0 (its receive buffer was full): \
              the diagnosis may miss them"
            ]
        );
        let json = serde_json::to_value(KernelCounts {
            interface: "eth0",
            frames: counts[0].frames,
            dropped: counts[0].dropped,
        })
        .unwrap();
        assert_eq!(
            json,
            serde_json::json!({"interface": "eth0", "frames": 3400, "dropped": 12})
        );
    }

    /// An interface going down ended its capture thread, and a watch of it
    /// alone stopped: it is now waited for, and what became of it said.
    #[test]
    fn an_interface_going_down_is_said_not_an_end() {
        assert_eq!(
            link_said("eth0", LinkEvent::Down),
            ("down", "eth0 is down; waiting for it".to_string())
        );
        let (state, text) = link_said("eth0", LinkEvent::Deleted);
        assert_eq!(state, "deleted");
        assert!(text.contains("will not see it again"), "{text}");
        assert_eq!(
            link_said("eth0", LinkEvent::Up),
            ("up", "eth0 receives again".to_string())
        );
    }

    fn live(out: &mut Vec<u8>) -> Live<&mut Vec<u8>> {
        Live {
            out,
            json: false,
            style: Style::new(crate::style::ColorChoice::Never),
            files: vec!["eth0".into()],
            seen: HashSet::new(),
            exchanges: 0,
            notes: HashMap::new(),
            keep_notes: false,
            written_up_to: vec![0],
            error: None,
        }
    }

    fn frame(n: u64, direction: Direction) -> (FrameRef, LivePacket) {
        let at = FrameRef { file: 0, frame: n };
        let p = LivePacket {
            timestamp_ns: 1_700_000_000_000_000_000 + n as i64,
            data: vec![n as u8; 342],
            orig_len: 342,
            checksum: capture::live::KernelChecksum::Valid,
            direction,
        };
        (at, p)
    }

    /// Guards what `watch -w` leaves however it stops (SIGKILL, OOM, an
    /// error return): the file held nothing, not even its header, until the
    /// 64 MB ring overflowed or the run ended normally. The section header
    /// and an interface per watched interface are on disk at once.
    #[test]
    fn the_write_file_has_its_header_and_interfaces_at_once() {
        let dir = crate::testutil::temp_dir("watch-header");
        let path = dir.join("watch.pcapng");
        let w = Annotated::create(&path, &["eth0".into(), "eth1".into()]).unwrap();
        // Still open, as when watch is killed now.
        let file = std::fs::read(&path).unwrap();
        let mut r = capture::Reader::new(std::io::Cursor::new(&file)).unwrap();
        assert!(r.next_packet().unwrap().is_none());
        let out = std::process::Command::new("tshark")
            .args([
                "-r",
                path.to_str().unwrap(),
                "-T",
                "fields",
                "-e",
                "frame.number",
            ])
            .output();
        if let Ok(out) = out {
            assert!(out.status.success(), "tshark reads it: {out:?}");
        }
        let blocks = {
            let mut kinds = Vec::new();
            let mut at = 0;
            while at + 8 <= file.len() {
                kinds.push(u32::from_ne_bytes(file[at..at + 4].try_into().unwrap()));
                at += u32::from_ne_bytes(file[at + 4..at + 8].try_into().unwrap()) as usize;
            }
            kinds
        };
        assert_eq!(
            blocks,
            [0x0a0d_0d0a, 1, 1],
            "a section header, two interfaces"
        );
        drop(w);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Guards how much a killed `watch -w` loses: frames sat in the ring
    /// (up to 64 MB) until it overflowed or the run ended normally. A frame
    /// now leaves once held [`HOLD`], with the findings known by then as
    /// comments, and is on disk at once (flushed); a finding about it
    /// settled later is not kept for it. Each frame says which way it went
    /// (`epb_flags`: what the host sent outbound, the rest inbound).
    #[test]
    fn frames_held_too_long_are_on_disk_with_their_direction() {
        let dir = crate::testutil::temp_dir("watch-ring");
        let path = dir.join("watch.pcapng");
        let mut w = Annotated::create(&path, &["eth0".into()]).unwrap();
        let mut out = Vec::new();
        let mut l = live(&mut out);
        l.keep_notes = true;
        let mut ring = Ring::default();
        let came = Instant::now();
        let (a1, p1) = frame(1, Direction::Incoming);
        let (a2, p2) = frame(2, Direction::Outgoing);
        ring.push(a1, came, p1);
        ring.push(a2, came + HOLD, p2);
        l.finding(&unnamed(1, "about frame 1"));
        let on_disk = || crate::testutil::epb_options(&std::fs::read(&path).unwrap());
        ring.drain(&mut w, &mut l, came + HOLD / 2, false).unwrap();
        assert!(on_disk().is_empty(), "no frame has been held {HOLD:?} yet");
        ring.drain(&mut w, &mut l, came + HOLD, false).unwrap();
        let packets = on_disk();
        assert_eq!(packets.len(), 1, "frame 1, held {HOLD:?}, is on disk");
        assert_eq!(packets[0].0, Some(1), "frame 1 came in");
        assert_eq!(packets[0].1.len(), 1);
        assert!(packets[0].1[0].contains("about frame 1"), "{packets:?}");
        // Settled too late for frame 1, in time for frame 2.
        l.finding(&unnamed(1, "later about frame 1").frames([a1, a2]));
        ring.drain(&mut w, &mut l, came + HOLD, true).unwrap();
        let packets = on_disk();
        assert_eq!(packets.len(), 2);
        assert_eq!(packets[0].1.len(), 1, "{packets:?}");
        assert_eq!(packets[1].0, Some(2), "frame 2 went out");
        assert!(
            packets[1].1[0].contains("later about frame 1"),
            "{packets:?}"
        );
        assert!(l.notes.is_empty(), "no note is kept for a frame written");
        drop(w);
        let _ = std::fs::remove_dir_all(&dir);
    }

    fn unnamed(first: u64, summary: &str) -> Finding {
        Finding::new(
            Code::ServerUnreachable,
            diagnose::Severity::Warning,
            None,
            None,
        )
        .frames([FrameRef {
            file: 0,
            frame: first,
        }])
        .summary(summary.to_string())
    }

    /// Two kinds of ICMP error that name no client (two reporters) are both
    /// printed; the first kind restated at the end, with its count, is not.
    /// A client's finding is printed once per code, however it grows.
    #[test]
    fn findings_naming_no_client_are_told_once_per_kind() {
        let mut out = Vec::new();
        let mut l = live(&mut out);
        l.finding(&unnamed(2, "10.0.0.9 answered a DHCP message"));
        l.finding(&unnamed(7, "10.0.0.1 answered a DHCP message"));
        l.finding(&unnamed(2, "10.0.0.9 answered 3 DHCP messages"));
        let chaddr = HwAddr::new(&[2, 0, 0, 0, 0, 1]);
        for n in [1, 3] {
            let f = Finding::new(
                Code::NoOffer,
                diagnose::Severity::Error,
                Some(chaddr),
                Some(1),
            )
            .frames([FrameRef { file: 0, frame: n }])
            .summary(format!("{n} DISCOVERs"));
            l.finding(&f);
        }
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("10.0.0.9 answered a DHCP message"), "{text}");
        assert!(text.contains("10.0.0.1 answered a DHCP message"), "{text}");
        assert!(!text.contains("answered 3 DHCP messages"), "{text}");
        assert!(
            text.contains("1 DISCOVERs") && !text.contains("3 DISCOVERs"),
            "{text}"
        );
    }
}
