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
use capture::live::{Direction, LivePacket, Options, PacketSocket};
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

/// Frames kept for `-w`, bounded: the oldest are written out as they leave,
/// with the findings known by then.
struct Ring {
    frames: VecDeque<(FrameRef, LivePacket)>,
    bytes: usize,
}

const RING_BYTES: usize = 64 * 1024 * 1024;

pub fn run(a: &WatchArgs, style: Style, out: &mut impl Write) -> anyhow::Result<Outcome> {
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
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
    let virtual_links: Vec<Option<bool>> = a.interfaces.iter().map(|i| is_virtual(i)).collect();
    let (tx, rx) = mpsc::sync_channel::<(u16, LivePacket)>(4096);
    let mut threads = Vec::new();
    for (i, s) in sockets.into_iter().enumerate() {
        let tx = tx.clone();
        let stop = Arc::clone(&stop);
        threads.push(std::thread::spawn(move || -> std::io::Result<()> {
            while !stop.load(Ordering::Relaxed) {
                if let Some(p) = s.recv(Some(Duration::from_millis(200)))? {
                    if tx.send((i as u16, p)).is_err() {
                        break;
                    }
                }
            }
            Ok(())
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
    let mut ring = Ring {
        frames: VecDeque::new(),
        bytes: 0,
    };
    let mut pcapng = match &a.write {
        Some(path) => Some(Annotated::create(path, &a.interfaces)?),
        None => None,
    };
    let mut numbers = vec![0u64; a.interfaces.len()];
    let started = Instant::now();
    loop {
        if stop.load(Ordering::Relaxed)
            || a.duration.is_some_and(|d| started.elapsed() >= d)
            || a.count.is_some_and(|c| engine.sink().exchanges >= c)
        {
            break;
        }
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok((i, p)) => {
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
                        if let Some(o) = wire::frame::unreachable(wire::LinkType::Ethernet, &p.data)
                            .and_then(|u| Obs::quoted(at, ts, &u))
                        {
                            engine.push(o);
                        }
                    }
                    _ => {}
                }
                if let Some(w) = &mut pcapng {
                    ring.bytes += p.data.len();
                    ring.frames.push_back((at, p));
                    while ring.bytes > RING_BYTES {
                        let Some((at, p)) = ring.frames.pop_front() else {
                            break;
                        };
                        ring.bytes -= p.data.len();
                        let live = engine.sink();
                        w.write(at, &p, &mut live.notes)?;
                        live.written_up_to[usize::from(at.file)] = at.frame;
                    }
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => engine.sweep(Timestamp::now()),
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
        if let Some(e) = engine.sink().error.take() {
            return Err(e.into());
        }
    }
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        match t.join() {
            Ok(Err(e)) => crate::warn(format_args!("capture stopped: {e}")),
            Err(_) => crate::warn("a capture thread failed"),
            Ok(Ok(())) => {}
        }
    }
    let (report, mut live) = engine.finish();
    if let Some(mut w) = pcapng {
        for (at, p) in ring.frames {
            w.write(at, &p, &mut live.notes)?;
        }
        w.finish()?;
    }
    let out = live.out;
    if a.json {
        #[derive(Serialize)]
        struct Done<'r> {
            clients: &'r [diagnose::ClientReport],
            findings: diagnose::report::FindingList<'r>,
            servers: &'r [diagnose::report::ServerReport],
            stats: &'r diagnose::report::Stats,
            healthy: bool,
        }
        let done = Done {
            clients: &report.clients,
            findings: report.findings_json(),
            servers: &report.servers,
            stats: &report.stats,
            healthy: report.healthy(),
        };
        write_event(&mut *out, "summary", &done)?;
    } else {
        writeln!(out, "{}", style.paint(Paint::Dim, "---"))?;
        diagnose_text::print(out, &report, &a.interfaces, true, style)?;
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
    fn create(file: &Path, ifaces: &[String]) -> anyhow::Result<Annotated> {
        let path = file.display().to_string();
        let f = std::fs::File::create(file).with_context(|| format!("creating {path}"))?;
        let w = capture::write::PcapngWriter::new(std::io::BufWriter::new(f), "dhcplens watch")
            .with_context(|| format!("writing {path}"))?;
        Ok(Annotated {
            path,
            w,
            ifaces: ifaces.to_vec(),
        })
    }

    /// Writes one frame with its comments, which are then forgotten.
    fn write(&mut self, at: FrameRef, p: &LivePacket, notes: &mut Notes) -> anyhow::Result<()> {
        let i = self
            .w
            .interface(wire::LinkType::Ethernet, &self.ifaces[usize::from(at.file)])
            .with_context(|| format!("writing {}", self.path))?;
        let comments = notes.remove(&at).unwrap_or_default();
        let comments: Vec<&str> = comments.iter().map(|(_, t)| t.as_str()).collect();
        self.w
            .write(i, p.timestamp_ns, &p.data, p.orig_len, &comments)
            .with_context(|| format!("writing {}", self.path))?;
        Ok(())
    }

    fn finish(mut self) -> anyhow::Result<()> {
        self.w
            .flush()
            .with_context(|| format!("writing {}", self.path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
