//! `dhcplens probe` and `dhcplens replay`: send a request, show every reply,
//! and flag replies that break the rules the diagnosis engine knows.

use std::ffi::OsStr;
use std::io::Write;
use std::net::Ipv4Addr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use diagnose::{Config, Engine, FrameRef, NoSink, Obs, Severity};
use probe::request::{fresh_xid, Kind, Spec};
use probe::session::{dora, DoraResult, Limits, Reply, Session};
use probe::transport::{Dest, Raw, Transport, Udp};
use serde::Serialize;
use wire::{DhcpFrame, Message};

use crate::args::{ProbeArgs, ReplayArgs};
use crate::inputs::shown;
use crate::packet_json::PacketJson;
use crate::probe_args::Transport as TransportArgs;
use crate::style::{Paint, Style};
use crate::{packet_text, Outcome};

/// An opened way out, with where requests go.
pub struct Opened {
    pub transport: Box<dyn Transport>,
    pub dest: Dest,
    /// giaddr to put in requests (relay mode).
    pub giaddr: Option<Ipv4Addr>,
}

/// The way out the arguments ask for, decided without opening anything:
/// every usage error is found before a socket is opened or an interface put
/// in promiscuous mode. Nothing is sent without an explicit interface or
/// server.
pub struct WayOut<'t> {
    t: &'t TransportArgs,
    /// Through a UDP socket (not raw frames).
    pub udp: bool,
}

impl<'t> WayOut<'t> {
    pub fn new(t: &'t TransportArgs) -> anyhow::Result<WayOut<'t>> {
        if !t.relay && t.iface.is_none() && t.server.is_none() {
            bail!("nothing is sent without an explicit --iface or --server");
        }
        Ok(WayOut {
            t,
            udp: t.relay || t.udp || t.iface.is_none(),
        })
    }

    /// The interface's MAC, when there is an interface and it has one.
    pub fn iface_mac(&self) -> Option<[u8; 6]> {
        self.t
            .iface
            .as_deref()
            .and_then(|i| capture::live::interface_mac(i).ok())
    }

    /// Sets the BROADCAST flag in `m` when the way out needs it: a UDP
    /// socket on port 68 hears the reply to a client without an address
    /// only if it is broadcast (a server would unicast it to yiaddr, which
    /// the host does not have). Not with `--flags` (the user's choice), not
    /// as a relay (replies come to it unicast), and not in a RELEASE or
    /// DECLINE (RFC 2131 table 5: flags 0; nothing answers them). Says
    /// whether it changed `m`.
    pub fn broadcast_replies(&self, m: &mut Message<'_>, flags_given: bool) -> bool {
        use wire::dhcp::MessageType::{Decline, Release};
        if !self.udp
            || self.t.relay
            || flags_given
            || m.broadcast()
            || matches!(m.message_type(), Some(Release | Decline))
        {
            return false;
        }
        m.flags |= wire::dhcp::FLAG_BROADCAST;
        true
    }

    /// Opens it.
    pub fn open(self) -> anyhow::Result<Opened> {
        let t = self.t;
        if t.relay {
            let server = t.server.expect("clap: --relay requires --server");
            // The relay's address: the one the kernel would use towards the server.
            let probe = std::net::UdpSocket::bind("0.0.0.0:0")?;
            probe
                .connect((server, 67))
                .with_context(|| format!("no route to {server}"))?;
            let local = match probe.local_addr()? {
                std::net::SocketAddr::V4(a) => *a.ip(),
                _ => bail!("no IPv4 address towards {server}"),
            };
            let transport = Udp::open(local, 67, t.iface.as_deref())?;
            return Ok(Opened {
                transport: Box::new(transport),
                dest: Dest::Unicast(server, None),
                giaddr: Some(local),
            });
        }
        let mut dest = t.server.map_or(Dest::Broadcast, |s| Dest::Unicast(s, None));
        let transport: Box<dyn Transport> = match &t.iface {
            Some(iface) if !self.udp => {
                if let Some(server) = t.server {
                    // A raw frame to a server needs the next hop's MAC: to the
                    // broadcast MAC, a router in between drops it.
                    match probe::neighbour::next_hop_mac(iface, server) {
                        Ok(mac) => dest = Dest::Unicast(server, Some(mac)),
                        Err(e) => crate::warn(format_args!(
                            "{e} towards {server} on {iface}: the unicast goes to the broadcast MAC, which only a \
                             server on the link receives (a router does not forward it; ping {server} first to fill \
                             the ARP cache)"
                        )),
                    }
                }
                Box::new(Raw::open(
                    iface,
                    t.src_mac.map(|m| m.as_bytes().try_into().unwrap_or([0; 6])),
                )?)
            }
            iface => Box::new(Udp::open(Ipv4Addr::UNSPECIFIED, 68, iface.as_deref())?),
        };
        Ok(Opened {
            transport,
            dest,
            giaddr: None,
        })
    }
}

/// The note for a captured request whose BROADCAST flag was set for a UDP
/// socket (see [`WayOut::broadcast_replies`]).
pub fn broadcast_note(what: &str) {
    crate::warn(format_args!(
        "{what}: the BROADCAST flag is set, as over a UDP socket a reply unicast to yiaddr never reaches it \
         (--flags 0 keeps it clear)"
    ));
}

/// Puts the relay's address in `m` (relay mode), unless `--giaddr` or
/// `--hops` say otherwise.
pub fn as_relay(m: &mut Message<'_>, giaddr: Option<Ipv4Addr>, o: &crate::probe_args::Overrides) {
    if let Some(g) = giaddr {
        if o.giaddr.is_none() {
            m.giaddr = g;
        }
        if o.hops.is_none() {
            m.hops = m.hops.max(1);
        }
    }
}

/// The `-w` file of `probe`, `replay` or `bisect`: opened for writing
/// before anything is opened or sent, so that a file that cannot be
/// written is told before the network is touched, but emptied (and its
/// section header written) only by [`RunFile::start`], once the way out is
/// open: a run refused before then (no way out, not root, the interface
/// gone) leaves a file the user already had at that path as it was, and
/// removes the empty one it created. The run's packets are written when it
/// ends, however it ends ([`finish_run`]).
pub struct RunFile {
    path: PathBuf,
    state: RunFileState,
}

enum RunFileState {
    /// Opened, not truncated; `created`: the file did not exist before.
    Opened {
        f: Option<std::fs::File>,
        created: bool,
    },
    Started(capture::write::PcapngWriter<std::io::BufWriter<std::fs::File>>),
}

impl RunFile {
    /// Refuses a `-w` `path` that is one of `inputs` (the captures requests
    /// are read from), which it would overwrite: told with the usage
    /// errors, before anything is created or opened.
    pub fn refuse_input(path: &Path, inputs: &[&Path]) -> anyhow::Result<()> {
        if let Some(i) = inputs.iter().find(|i| crate::inputs::same_file(path, i)) {
            bail!(
                "-w {}: that is an input ({}), which the capture would overwrite: give the capture a file of its own",
                shown(path),
                shown(i)
            );
        }
        Ok(())
    }

    /// Opens `path` for writing, creating it if it does not exist, without
    /// truncating it (see [`RunFile::refuse_input`] for `inputs`). Nothing
    /// is written to it before [`RunFile::start`].
    pub fn create(path: &Path, inputs: &[&Path]) -> anyhow::Result<RunFile> {
        use std::fs::OpenOptions;
        RunFile::refuse_input(path, inputs)?;
        // `-` is standard input and output elsewhere; here the report goes
        // to standard output, so `-w -` would make a file named `-`.
        if path.as_os_str() == "-" {
            anyhow::bail!("-w -: the report goes to standard output; give -w a file name");
        }
        let context = || format!("creating {}", path.display());
        let (f, created) = match OpenOptions::new().write(true).create_new(true).open(path) {
            Ok(f) => (f, true),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => (
                OpenOptions::new()
                    .write(true)
                    .open(path)
                    .with_context(context)?,
                false,
            ),
            Err(e) => return Err(e).with_context(context),
        };
        Ok(RunFile {
            path: path.to_path_buf(),
            state: RunFileState::Opened {
                f: Some(f),
                created,
            },
        })
    }

    /// Empties the file (a regular one: a pipe or device is written as it
    /// is) and writes its section header, flushed: called once the way out
    /// is open, before anything is sent.
    pub fn start(mut self) -> anyhow::Result<RunFile> {
        let RunFileState::Opened { f, created } = &mut self.state else {
            return Ok(self);
        };
        let created = *created;
        let f = f.take().expect("a RunFile is started once");
        let path = self.path.clone();
        let w = (|| {
            if f.metadata()?.is_file() {
                f.set_len(0)?;
            }
            let mut w = capture::write::PcapngWriter::new(std::io::BufWriter::new(f), "dhcplens")?;
            w.flush()?;
            Ok::<_, std::io::Error>(w)
        })();
        let w = match w {
            Ok(w) => w,
            Err(e) => {
                // A file this run created and could not write (a full disk)
                // is not left behind, empty or cut.
                if created {
                    let _ = std::fs::remove_file(&path);
                }
                return Err(e).with_context(|| format!("writing {}", path.display()));
            }
        };
        self.state = RunFileState::Started(w);
        Ok(self)
    }

    /// Writes `session`'s packets ([`write_packets`]) and flushes.
    /// Starts the file if that is still to do ([`RunFile::start`]).
    fn finish(self, iface: &str, session: &Session<'_>) -> anyhow::Result<()> {
        let mut started = self.start()?;
        let RunFileState::Started(w) = &mut started.state else {
            unreachable!("started above")
        };
        write_packets(w, iface, &session.log, |i| session.is_ours(i))
            .and_then(|()| w.flush())
            .with_context(|| format!("writing {}", started.path.display()))
    }
}

impl Drop for RunFile {
    /// A file created for a run that never started is removed (what the
    /// user had at that path, if anything, was never touched).
    fn drop(&mut self) {
        if let RunFileState::Opened {
            f: Some(_),
            created: true,
        } = &self.state
        {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// A run's `result`, once `file` (if any) holds what the run sent and
/// received, also when the run failed (a send refused past --max-packets,
/// a send error, the report's reader gone): then the run's error is the one
/// returned, and a failure to write the file is only warned of.
pub fn finish_run(
    result: anyhow::Result<Outcome>,
    file: Option<RunFile>,
    iface: &str,
    session: &Session<'_>,
) -> anyhow::Result<Outcome> {
    let Some(file) = file else { return result };
    let written = file.finish(iface, session);
    match (result, written) {
        (Ok(o), Ok(())) => Ok(o),
        (Err(e), Ok(())) | (Ok(_), Err(e)) => Err(e),
        (Err(e), Err(w)) => {
            crate::warn(format_args!("{w:#}"));
            Err(e)
        }
    }
}

/// Writes a run's packets as pcapng on interface `iface`, each with its
/// direction (sent: outbound, received: inbound) and a comment; those
/// `ours` says are not ours (no reply to a request of the run) are said to
/// be not decided on.
pub fn write_packets<W: Write>(
    w: &mut capture::write::PcapngWriter<W>,
    iface: &str,
    log: &[probe::transport::Packet],
    ours: impl Fn(usize) -> bool,
) -> std::io::Result<()> {
    use capture::write::Direction;
    let start = log.first().map(|p| p.at);
    for (n, p) in log.iter().enumerate() {
        // Without an interface, a UDP socket: no interface name, and the
        // packets are as dhcplens built them, not as they left.
        let i = if iface == "udp" {
            w.interface_described(
                p.link,
                "",
                "a UDP socket: packets as dhcplens built them (the kernel sets the source address)",
            )?
        } else {
            w.interface(p.link, iface)?
        };
        let mut comment = match (p.sent, start) {
            (true, _) => "sent by dhcplens".to_string(),
            (false, Some(s)) => format!(
                "received {:.1} ms into the run",
                p.at.saturating_duration_since(s).as_secs_f64() * 1e3
            ),
            (false, None) => "received".into(),
        };
        if !p.sent && !ours(n) {
            comment += "; no reply to a request of dhcplens's (not decided on)";
        }
        let direction = if p.sent {
            Direction::Outbound
        } else {
            Direction::Inbound
        };
        w.write_packet(
            i,
            p.ts.0,
            &p.frame,
            p.orig_len,
            Some(direction),
            &[&comment],
        )?;
    }
    Ok(())
}

/// Whether `p` is a reply rebuilt from a UDP socket (no link layer, and no
/// checksum as sent: see `probe::transport`).
fn via_udp_socket(p: &probe::transport::Packet) -> bool {
    !p.sent && p.link == wire::LinkType::Ipv4
}

/// The run's packets that `ours` keeps (by their index in `log`),
/// diagnosed by the engine: findings about the replies, naming `way_out`
/// (the interface, or the UDP socket) as where the frames were seen.
pub fn findings(
    log: &[probe::transport::Packet],
    ours: impl Fn(usize) -> bool,
    way_out: &str,
) -> Vec<diagnose::Finding> {
    let mut engine = Engine::new(
        Config {
            files: vec![way_out.into()],
            ..Config::default()
        },
        NoSink,
    );
    for (i, p) in log.iter().enumerate().filter(|(i, _)| ours(*i)) {
        let Ok(Some(d)) = wire::packet::decode(p.link, &p.frame, p.orig_len) else {
            continue;
        };
        let kernel = p.kernel;
        if let Some(o) = Obs::new(
            FrameRef {
                file: 0,
                frame: i as u64 + 1,
            },
            p.ts,
            &d,
            kernel,
        ) {
            engine.push(o);
        }
    }
    let report = engine.finish().0;
    report.findings().cloned().collect()
}

fn decoded(p: &probe::transport::Packet) -> Option<DhcpFrame<'_>> {
    wire::packet::decode(p.link, &p.frame, p.orig_len)
        .ok()
        .flatten()
}

#[derive(Serialize)]
struct ReplyJson<'a> {
    latency_ms: f64,
    #[serde(flatten)]
    packet: PacketJson<'a>,
}

#[derive(Serialize)]
struct RunJson<'a> {
    transport: String,
    sent: Vec<PacketJson<'a>>,
    replies: Vec<ReplyJson<'a>>,
    findings: Vec<diagnose::Finding>,
    #[serde(skip_serializing_if = "Option::is_none")]
    lease: Option<LeaseJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    result: Option<String>,
}

#[derive(Serialize)]
struct LeaseJson {
    address: Ipv4Addr,
    server: Ipv4Addr,
    lease_time: Option<u32>,
}

/// Prints a run: what was sent, every reply with its latency, findings.
fn report(
    out: &mut impl Write,
    json: bool,
    style: Style,
    session: &Session<'_>,
    replies: &[Reply],
    lease: Option<&probe::session::Lease>,
    result: Option<String>,
) -> anyhow::Result<()> {
    let way_out = session
        .interface()
        .unwrap_or_else(|| "the UDP socket".to_string());
    let found = findings(&session.log, |i| session.is_ours(i), &way_out);
    // Frames numbered as in the -w file, which holds the others too.
    let frames: Vec<(usize, DhcpFrame<'_>)> = session
        .log
        .iter()
        .enumerate()
        .filter(|(i, _)| session.is_ours(*i))
        .filter_map(|(i, p)| decoded(p).map(|d| (i, d)))
        .collect();
    if json {
        let sent = frames
            .iter()
            .filter(|(i, _)| session.log[*i].sent)
            .map(|(i, d)| PacketJson::new("probe", *i as u64 + 1, session.log[*i].ts, d))
            .collect();
        let reps = replies
            .iter()
            .filter_map(|r| {
                let (i, d) = frames.iter().find(|(i, _)| *i == r.packet)?;
                let mut packet = PacketJson::new("probe", *i as u64 + 1, session.log[*i].ts, d);
                if via_udp_socket(&session.log[*i]) {
                    packet.udp_checksum = "not-seen";
                }
                Some(ReplyJson {
                    latency_ms: r.latency.as_secs_f64() * 1e3,
                    packet,
                })
            })
            .collect();
        let doc = RunJson {
            transport: session.describe(),
            sent,
            replies: reps,
            findings: found,
            lease: lease.map(|l| LeaseJson {
                address: l.address,
                server: l.server,
                lease_time: l.lease_time,
            }),
            result,
        };
        serde_json::to_writer(&mut *out, &doc)?;
        writeln!(out)?;
        return Ok(());
    }
    writeln!(
        out,
        "{}",
        style.paint(Paint::Dim, format!("via {}", session.describe()))
    )?;
    for (i, d) in &frames {
        let p = &session.log[*i];
        let tag = if p.sent {
            style.paint(Paint::Cyan, "sent        ")
        } else {
            let r = replies.iter().find(|r| r.packet == *i);
            let ms = r.map_or(0.0, |r| r.latency.as_secs_f64() * 1e3);
            style.paint(Paint::Green, format!("+{ms:>8.1} ms "))
        };
        let mut line = packet_text::line(*i as u64 + 1, p.ts, d, style);
        if via_udp_socket(p) {
            line = line.replace("csum zero", "csum not seen (UDP socket)");
        }
        writeln!(out, "{tag}{line}")?;
    }
    let servers: Vec<Ipv4Addr> = {
        let mut v: Vec<Ipv4Addr> = replies.iter().map(Reply::server).collect();
        v.sort();
        v.dedup();
        v
    };
    writeln!(
        out,
        "{} repl{} from {} server{}.",
        replies.len(),
        if replies.len() == 1 { "y" } else { "ies" },
        servers.len(),
        if servers.len() == 1 { "" } else { "s" }
    )?;
    if let Some(r) = result {
        writeln!(out, "{r}")?;
    }
    for f in found
        .iter()
        .filter(|f| f.severity != Severity::Info || f.code == diagnose::Code::UdpChecksumPartial)
    {
        writeln!(
            out,
            "  {} {}  {}",
            style.paint(Paint::Yellow, f.severity.name()),
            style.paint(Paint::Bold, f.code),
            crate::style::printable(&f.summary)
        )?;
    }
    Ok(())
}

pub fn probe(a: &ProbeArgs, style: Style, out: &mut impl Write) -> anyhow::Result<Outcome> {
    let kind = Kind::parse(&a.kind).map_err(anyhow::Error::msg)?;
    if a.dora && kind != Kind::Discover {
        bail!(
            "--dora starts with a DISCOVER and sends its own REQUEST: drop `-t {}` (or send that request alone, without --dora)",
            a.kind
        );
    }
    // What the request needs is checked before the way out (its chaddr
    // plays no part in that).
    let mut spec = Spec::new(kind, wire::HwAddr::new(&[0; 6]), fresh_xid());
    a.overrides.apply_spec(&mut spec);
    spec.build().map_err(anyhow::Error::msg)?;
    let way = WayOut::new(&a.transport)?;
    if a.overrides.chaddr.is_none() {
        spec.chaddr = way
            .iface_mac()
            .map(|m| wire::HwAddr::new(&m))
            .context("give --chaddr (no interface to take a MAC from)")?;
    }
    let mut m = spec.build().map_err(anyhow::Error::msg)?;
    way.broadcast_replies(&mut m, a.overrides.flags.is_some());
    let file = a
        .transport
        .write
        .as_deref()
        .map(|w| RunFile::create(w, &[]))
        .transpose()?;
    let mut opened = way.open()?;
    let file = file.map(RunFile::start).transpose()?;
    as_relay(&mut m, opened.giaddr, &a.overrides);
    let dest = opened.dest;
    if kind.unicast() && dest == Dest::Broadcast {
        crate::warn("a real client sends this unicast to its server; without --server it goes out as a broadcast");
    }
    let limits = Limits {
        max_sends: a.transport.max_packets,
        min_interval: a.transport.interval,
    };
    let mut session = Session::new(opened.transport.as_mut(), limits);
    let iface = a.transport.iface.clone().unwrap_or_else(|| "udp".into());
    let result = probe_run(a, style, out, &mut session, &m, dest);
    finish_run(result, file, &iface, &session)
}

/// `probe`'s run once the way out is open: the request (or a DORA) sent,
/// the report printed.
fn probe_run(
    a: &ProbeArgs,
    style: Style,
    out: &mut impl Write,
    session: &mut Session<'_>,
    m: &Message<'static>,
    dest: Dest,
) -> anyhow::Result<Outcome> {
    if a.dora {
        let r = dora(
            session,
            m,
            dest,
            a.transport.timeout,
            std::time::Duration::from_millis(500),
            a.release,
        )?;
        let replies = session_replies(session, m);
        let (outcome, lease, text) = match &r {
            DoraResult::Bound(l) => (
                Outcome::Healthy,
                Some(l.clone()),
                format!(
                    "bound: {} from {}{}{}",
                    l.address,
                    l.server,
                    l.lease_time.map_or(String::new(), |t| format!(
                        ", lease {}",
                        wire::dhcp::value::Duration(t)
                    )),
                    if a.release { "; released" } else { "" }
                ),
            ),
            DoraResult::Nak { server, message } => (
                Outcome::Problems,
                None,
                format!(
                    "NAK from {server}: {}",
                    message.as_deref().unwrap_or("(no message)")
                ),
            ),
            DoraResult::NoOffer => (Outcome::Problems, None, "no OFFER".into()),
            DoraResult::NoAck { server } => {
                (Outcome::Problems, None, format!("no ACK from {server}"))
            }
        };
        let text = text + &other_servers_answers(&r, &replies);
        report(
            out,
            a.json,
            style,
            session,
            &replies,
            lease.as_ref(),
            Some(text),
        )?;
        return Ok(outcome);
    }
    let replies = session.ask(m, dest, a.transport.timeout)?;
    report(out, a.json, style, session, &replies, None, None)?;
    Ok(answered(&replies))
}

/// The ACKs and NAKs of servers other than the one a DORA chose, as a
/// note for its result ("; also NAK from …"): a rogue or misconfigured
/// server on the link is worth telling even when the chosen one answered.
fn other_servers_answers(r: &DoraResult, replies: &[Reply]) -> String {
    use wire::dhcp::MessageType::{Ack, Nak};
    let chosen = match r {
        DoraResult::Bound(l) => l.server,
        DoraResult::Nak { server, .. } | DoraResult::NoAck { server } => *server,
        DoraResult::NoOffer => return String::new(),
    };
    let mut seen: Vec<(&str, Ipv4Addr)> = Vec::new();
    for r in replies.iter().filter(|r| r.server() != chosen) {
        let kind = match r.kind() {
            Some(Ack) => "ACK",
            Some(Nak) => "NAK",
            _ => continue,
        };
        if !seen.contains(&(kind, r.server())) {
            seen.push((kind, r.server()));
        }
    }
    seen.iter()
        .map(|(kind, server)| format!("; also {kind} from {server} (not the server chosen)"))
        .collect()
}

/// Healthy when a server answered with something other than NAKs.
fn answered(replies: &[Reply]) -> Outcome {
    if replies
        .iter()
        .any(|r| r.kind() != Some(wire::dhcp::MessageType::Nak))
    {
        Outcome::Healthy
    } else {
        Outcome::Problems
    }
}

/// Re-reads the replies of a finished DORA from the session log: those to
/// `request` (its xid and chaddr), each with its latency from the request
/// it answers (the last one sent before it: the OFFER's from the
/// DISCOVER, the ACK's from the REQUEST).
fn session_replies(s: &Session<'_>, request: &Message<'_>) -> Vec<Reply> {
    use wire::dhcp::MessageType;
    // When the last message was sent, and the last DISCOVER: an OFFER
    // answers the DISCOVER even when it comes after the REQUEST (a slow
    // second server), anything else the last message sent.
    let mut asked = None;
    let mut discovered = None;
    let mut replies = Vec::new();
    for (i, p) in s.log.iter().enumerate().filter(|(i, _)| s.is_ours(*i)) {
        if p.sent {
            asked = Some(p.at);
            let kind = decoded(p).and_then(|d| d.message.as_ref()?.message_type());
            if kind == Some(MessageType::Discover) {
                discovered = Some(p.at);
            }
            continue;
        }
        let Some(d) = decoded(p) else { continue };
        let Some(m) = d.message.as_ref() else {
            continue;
        };
        if probe::session::answers(request, m) {
            let since = match m.message_type() {
                Some(MessageType::Offer) => discovered.or(asked),
                _ => asked,
            };
            replies.push(Reply {
                packet: i,
                message: m.clone().into_owned(),
                latency: since
                    .map_or_else(Default::default, |at| p.at.saturating_duration_since(at)),
                checksum: d.frame.udp.checksum,
                from: d.frame.ip.src,
                src_mac: d.frame.link.src_mac,
            });
        }
    }
    replies
}

/// A DHCP message read from a capture's frame.
pub struct Loaded {
    pub message: Message<'static>,
    /// When the capture kept only part of the frame (its snap length, or a
    /// file cut short): the bytes kept, and the frame's length. The message
    /// then lacks the options past the cut.
    pub cut: Option<(usize, usize)>,
    /// The message's length as sent (a cut one's from its UDP header).
    pub len: usize,
}

impl Loaded {
    /// The message, which must be whole (to be sent again, or varied).
    pub fn whole(self, file: &Path, n: u64) -> anyhow::Result<Message<'static>> {
        match self.cut {
            None => Ok(self.message),
            Some((kept, len)) => bail!(
                "{}: frame {n} was cut by the capture (it kept {kept} of the frame's {len} bytes): its options past the cut are unknown; take a frame captured whole (tcpdump -s 0)",
                shown(file)
            ),
        }
    }
}

/// Loads a request from `FILE` frame `n`.
pub fn load_frame(file: &Path, n: u64) -> anyhow::Result<Loaded> {
    let mut m = load_frames(file, &[n])?;
    m.remove(&n)
        .with_context(|| format!("{}: there is no frame {n}", shown(file)))
}

/// Loads the requests in frames `numbers` of `FILE`, reading it once; each
/// must hold at least a DHCP header.
pub fn load_frames(
    file: &Path,
    numbers: &[u64],
) -> anyhow::Result<std::collections::HashMap<u64, Loaded>> {
    let mut out = std::collections::HashMap::new();
    let Some(&last) = numbers.iter().max() else {
        return Ok(out);
    };
    let name = shown(file);
    let mut r = capture::open(file).map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
    while let Some(p) = r
        .next_packet()
        .map_err(|e| anyhow::anyhow!("{name}: {e}"))?
    {
        let n = p.number;
        if numbers.contains(&n) {
            let d = wire::packet::decode(p.link, p.data, p.orig_len)
                .ok()
                .flatten()
                .with_context(|| not_dhcp(&name, n, p.link, p.data))?;
            let message_cut = d.message_cut();
            let len = d.message_len();
            let m = d
                .message
                .with_context(|| format!("{name}: frame {n} has an incomplete DHCP header"))?;
            // Cut before its END (or with option 52 giving `file` or `sname`
            // to options): what was cut off could hold options. A cut in the
            // padding after END loses nothing.
            let ended = m.options.iter().any(|o| o.code == wire::dhcp::code::END)
                && m.option(wire::dhcp::code::OPTION_OVERLOAD).is_none();
            let cut = (message_cut && !ended).then_some((p.data.len(), p.orig_len));
            let message = m.into_owned();
            out.insert(n, Loaded { message, cut, len });
        }
        if n >= last {
            break;
        }
    }
    Ok(out)
}

/// Why frame `n` of capture `name` cannot be taken as a DHCP message. An
/// ICMP error quoting one (which `decode` shows as that message) is said as
/// such: its quote is what the ICMP's sender received, not a packet sent,
/// and may be cut.
fn not_dhcp(name: &str, n: u64, link: wire::LinkType, data: &[u8]) -> String {
    match crate::packet_json::quoted(link, data) {
        Some((q, u)) => format!(
            "{name}: frame {n} is an ICMP error ({} from {}) quoting a DHCP message{}, not a DHCP packet sent; \
             give the frame of the message itself",
            u.name(),
            u.reporter,
            q.message
                .map(|m| format!(" (xid 0x{:08x})", m.xid))
                .unwrap_or_default()
        ),
        None => format!("{name}: frame {n} is not a DHCP packet"),
    }
}

/// Refuses a BOOTREPLY where a request is to be sent: `why` says what the
/// command does with requests.
pub fn refuse_reply(m: &Message<'_>, file: &Path, n: u64, why: &str) -> anyhow::Result<()> {
    if m.op != wire::Op::BootRequest {
        bail!("{}: frame {n} is a reply; {why}", shown(file));
    }
    Ok(())
}

/// Parses `FILE:N` (a frame of a capture), split at the last `:` (or `#`):
/// the capture's name is taken byte for byte, UTF-8 or not.
pub fn frame_ref(s: &OsStr) -> anyhow::Result<(PathBuf, u64)> {
    let b = s.as_bytes();
    let shown = s.to_string_lossy();
    let at = b
        .iter()
        .rposition(|&c| c == b':' || c == b'#')
        .with_context(|| format!("{shown:?}: expected CAPTURE:FRAME, e.g. boot.pcap:12"))?;
    let n = String::from_utf8_lossy(&b[at + 1..]);
    let n: u64 = n
        .parse()
        .with_context(|| format!("{shown:?}: {n:?} is not a frame number"))?;
    Ok((PathBuf::from(OsStr::from_bytes(&b[..at])), n))
}

pub fn replay(a: &ReplayArgs, style: Style, out: &mut impl Write) -> anyhow::Result<Outcome> {
    let mut m = load_frame(&a.capture, a.frame)?.whole(&a.capture, a.frame)?;
    refuse_reply(&m, &a.capture, a.frame, "replay resends requests")?;
    if let Some(w) = &a.transport.write {
        RunFile::refuse_input(w, &[&a.capture])?;
    }
    let way = WayOut::new(&a.transport)?;
    if !a.same_xid {
        m.xid = fresh_xid();
    }
    a.overrides.apply_message(&mut m);
    if way.broadcast_replies(&mut m, a.overrides.flags.is_some()) {
        broadcast_note(&format!("{} frame {}", shown(&a.capture), a.frame));
    }
    let file = a
        .transport
        .write
        .as_deref()
        .map(|w| RunFile::create(w, &[&a.capture]))
        .transpose()?;
    let mut opened = way.open()?;
    let file = file.map(RunFile::start).transpose()?;
    as_relay(&mut m, opened.giaddr, &a.overrides);
    let dest = opened.dest;
    let limits = Limits {
        max_sends: a.transport.max_packets,
        min_interval: a.transport.interval,
    };
    let mut session = Session::new(opened.transport.as_mut(), limits);
    let result = session
        .ask(&m, dest, a.transport.timeout)
        .map_err(anyhow::Error::from)
        .and_then(|replies| {
            report(out, a.json, style, &session, &replies, None, None)?;
            Ok(answered(&replies))
        });
    let iface = a.transport.iface.as_deref().unwrap_or("udp");
    finish_run(result, file, iface, &session)
}

#[cfg(test)]
mod tests {
    //! Against a scripted transport and made-up replies: nothing is sent.
    use super::*;
    use probe::transport::Packet;
    use std::collections::VecDeque;
    use std::time::{Duration, Instant};
    use wire::dhcp::{code, MessageType, Op};
    use wire::frame::UdpFrame;

    const CLIENT: [u8; 6] = [2, 0, 0, 0, 0, 1];
    const A: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
    const ADDR: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 100);

    struct Fake {
        batches: VecDeque<Vec<MessageType>>,
        pending: VecDeque<Vec<u8>>,
    }

    fn packet(frame: Vec<u8>, sent: bool) -> Packet {
        Packet {
            at: Instant::now(),
            ts: capture::Timestamp::now(),
            link: wire::LinkType::Ethernet,
            orig_len: frame.len(),
            frame,
            sent,
            kernel: None,
        }
    }

    fn reply(xid: u32, t: MessageType) -> Vec<u8> {
        let mut m = Message::new(Op::BootReply, xid, &CLIENT);
        m.yiaddr = ADDR;
        m.set_option(code::DHCP_MESSAGE_TYPE, vec![u8::from(t)]);
        m.set_option(code::SERVER_IDENTIFIER, A.octets().to_vec());
        m.set_option(code::IP_ADDRESS_LEASE_TIME, 3600u32.to_be_bytes().to_vec());
        let payload = m.encode(300);
        let mut f = UdpFrame::new((A, 67), (Ipv4Addr::BROADCAST, 68), &payload);
        f.src_mac = [2, 0, 0, 0, 0, 0xaa];
        f.ethernet_frame()
    }

    impl Transport for Fake {
        fn send(&mut self, m: &Message<'_>, _dest: Dest) -> std::io::Result<Packet> {
            if let Some(b) = self.batches.pop_front() {
                for t in b {
                    self.pending.push_back(reply(m.xid, t));
                }
            }
            let payload = m.encode(300);
            let mut f = UdpFrame::new(
                (Ipv4Addr::UNSPECIFIED, 68),
                (Ipv4Addr::BROADCAST, 67),
                &payload,
            );
            f.src_mac = CLIENT;
            Ok(packet(f.ethernet_frame(), true))
        }
        fn recv(&mut self, _until: Instant) -> std::io::Result<Option<Packet>> {
            Ok(self.pending.pop_front().map(|f| packet(f, false)))
        }
        fn describe(&self) -> String {
            "fake".into()
        }
        fn interface(&self) -> Option<String> {
            None
        }
    }

    /// A session over `t` sending at most `max_sends`, 10 ms apart.
    fn session(t: &mut Fake, max_sends: u32) -> Session<'_> {
        let limits = Limits {
            max_sends,
            min_interval: Duration::from_millis(10),
        };
        Session::new(t, limits)
    }

    fn discover(xid: u32) -> Message<'static> {
        let mut d = Message::new(Op::BootRequest, xid, &CLIENT);
        d.set_option(
            code::DHCP_MESSAGE_TYPE,
            vec![u8::from(MessageType::Discover)],
        );
        d
    }

    /// Guards the direction of `probe`/`replay`/`bisect -w` packets: pcapng
    /// says which way a packet went in `epb_flags` bits 0-1
    /// (draft-ietf-opsawg-pcapng §4.3.1: 01 inbound, 10 outbound), which
    /// Wireshark shows as `frame.packet_flags_direction`. None was written,
    /// so dhcplens's own requests and the server's replies were told apart
    /// only by the free-text comment.
    #[test]
    fn probe_write_marks_which_way_each_packet_went() {
        let dir = crate::testutil::temp_dir("probe-direction");
        let path = dir.join("probe.pcapng");
        let mut t = Fake {
            batches: vec![vec![MessageType::Offer]].into(),
            pending: VecDeque::new(),
        };
        let file = RunFile::create(&path, &[]).unwrap();
        let mut s = session(&mut t, 10);
        let replies = s
            .ask(&discover(0x42), Dest::Broadcast, Duration::from_millis(50))
            .unwrap();
        assert_eq!(replies.len(), 1);
        finish_run(Ok(Outcome::Healthy), Some(file), "eth0", &s).unwrap();
        let packets = crate::testutil::epb_options(&std::fs::read(&path).unwrap());
        assert_eq!(packets.len(), 2);
        assert_eq!(
            packets[0].0,
            Some(2),
            "the request dhcplens sent is outbound"
        );
        assert_eq!(packets[0].1, ["sent by dhcplens"]);
        assert_eq!(packets[1].0, Some(1), "the reply it received is inbound");
        assert!(
            packets[1].1[0].starts_with("received "),
            "{:?}",
            packets[1].1
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Guards `-w` when a run ends in an error: the file was written only
    /// after a run that went well, so the `--max-packets` refusal (or a send
    /// error, or the report's reader gone) left no file at all. It is
    /// created before anything is sent and holds what was sent and received
    /// however the run ends; the run's error is still the one returned.
    /// Frames that answer none of the requests are in it too, said to be
    /// not decided on (`-w` writes "everything sent and received").
    #[test]
    fn the_write_file_holds_the_run_when_it_ends_in_an_error() {
        let dir = crate::testutil::temp_dir("probe-error");
        let path = dir.join("probe.pcapng");
        let file = RunFile::create(&path, &[]).unwrap().start().unwrap();
        let header = std::fs::read(&path).unwrap();
        assert!(
            !header.is_empty(),
            "the section header is written once started"
        );
        let mut t = Fake {
            batches: vec![vec![MessageType::Offer]].into(),
            pending: vec![reply(0x9999, MessageType::Offer)].into(),
        };
        let mut s = session(&mut t, 1);
        let d = discover(0x42);
        let result = s
            .ask(&d, Dest::Broadcast, Duration::from_millis(50))
            .and_then(|_| s.ask(&d, Dest::Broadcast, Duration::from_millis(50)))
            .map(|_| Outcome::Healthy)
            .map_err(anyhow::Error::from);
        let e = finish_run(result, Some(file), "eth0", &s).unwrap_err();
        assert!(e.to_string().contains("--max-packets"), "{e}");
        let packets = crate::testutil::epb_options(&std::fs::read(&path).unwrap());
        let comments: Vec<&str> = packets.iter().map(|(_, c)| c[0].as_str()).collect();
        assert_eq!(comments.len(), 3, "{comments:?}");
        assert_eq!(comments[0], "sent by dhcplens");
        assert!(
            comments[1].ends_with("no reply to a request of dhcplens's (not decided on)"),
            "the OFFER to xid 0x9999: {comments:?}"
        );
        assert!(!comments[2].contains("not decided on"), "{comments:?}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Guards a `-w` file the user already had when the run never starts:
    /// `RunFile::create` truncated it to a section header before the way
    /// out was opened, so a run that then failed to open it (not root, the
    /// interface gone) emptied the file. It is only opened now, emptied
    /// once started; a file the run created is removed. No socket is
    /// opened: the failing `way.open()` is played by dropping the unstarted
    /// file, as its `?` does (this part fails on the previous build); the
    /// commands run after it stop at "nothing is sent without …", before
    /// the file is even opened, and only check that such a refusal leaves
    /// the file alone too.
    #[test]
    fn an_existing_write_file_survives_a_run_that_never_starts() {
        let dir = crate::testutil::temp_dir("probe-kept");
        let kept = dir.join("kept.pcapng");
        std::fs::write(&kept, "the user's own capture").unwrap();
        let file = RunFile::create(&kept, &[]).unwrap();
        drop(file);
        assert_eq!(
            std::fs::read_to_string(&kept).unwrap(),
            "the user's own capture"
        );
        let new = dir.join("new.pcapng");
        drop(RunFile::create(&new, &[]).unwrap());
        assert!(!new.exists(), "the file the run created is removed");
        // Started (the way out is open): emptied to its header.
        let file = RunFile::create(&kept, &[]).unwrap().start().unwrap();
        drop(file);
        let header = std::fs::read(&kept).unwrap();
        assert!(
            header.starts_with(&[0x0a, 0x0d, 0x0d, 0x0a]),
            "a section header block: {header:?}"
        );
        // Through the commands, refused for having no way out.
        std::fs::write(&kept, "the user's own capture").unwrap();
        let k = kept.to_str().unwrap();
        let base = format!("{}:1", healthy());
        for args in [
            &["probe", "-w", k][..],
            &["replay", &healthy(), "--frame", "1", "-w", k],
            &["bisect", "--field", "secs=0..3", "--base", &base, "-w", k],
        ] {
            let e = run(args).unwrap_err().to_string();
            assert!(e.contains("nothing is sent without"), "{args:?}: {e}");
            assert_eq!(
                std::fs::read_to_string(&kept).unwrap(),
                "the user's own capture",
                "{args:?}"
            );
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Guards `replay -w` and `bisect -w` naming an input capture: the file
    /// was created over it (after the run). It is refused as a usage error
    /// (exit 2), before anything is created or the way out looked at (no
    /// --iface nor --server is given: reaching it would say "nothing is
    /// sent without …"), and the capture is left as it was.
    #[test]
    fn a_write_file_that_is_an_input_capture_is_refused() {
        let dir = crate::testutil::temp_dir("replay-input");
        let capture = dir.join("server.pcap");
        std::fs::copy(healthy(), &capture).unwrap();
        let before = std::fs::read(&capture).unwrap();
        let c = capture.to_str().unwrap();
        let other = format!("{}/./server.pcap", dir.display());
        let base = format!("{c}:1");
        for args in [
            &["replay", c, "--frame", "1", "-w", c][..],
            &["replay", c, "--frame", "1", "-w", &other],
            &["bisect", "--field", "secs=0..3", "--base", &base, "-w", c],
            &[
                "bisect",
                "--working",
                &base,
                "--failing",
                &base,
                "-w",
                &other,
            ],
        ] {
            let e = run(args).unwrap_err().to_string();
            assert!(e.contains("that is an input"), "{args:?}: {e}");
        }
        assert_eq!(std::fs::read(&capture).unwrap(), before);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// `-w -` is refused (the report is on standard output): it made a
    /// file named `-` in the current directory.
    #[test]
    fn a_write_file_named_dash_is_refused() {
        let e = RunFile::create(Path::new("-"), &[]).err().expect("refused");
        assert!(e.to_string().contains("give -w a file name"), "{e}");
        assert!(!Path::new("-").exists());
    }

    /// Guards `probe --dora`'s latencies: the ACK's is measured from the
    /// REQUEST it answers; it was measured from the DISCOVER.
    /// Found in review: a second server's OFFER that arrives after the REQUEST was
    /// sent (a slow backup server) answers the DISCOVER: its latency is
    /// from the DISCOVER (at least the 300 ms between the two sends), not
    /// from the REQUEST.
    #[test]
    fn late_offer_latency_is_from_the_discover() {
        let mut t = Fake {
            batches: vec![
                vec![MessageType::Offer],
                vec![MessageType::Offer, MessageType::Ack],
            ]
            .into(),
            pending: VecDeque::new(),
        };
        let limits = Limits {
            max_sends: 10,
            min_interval: Duration::from_millis(300),
        };
        let mut s = Session::new(&mut t, limits);
        let mut d = Message::new(Op::BootRequest, 0x43, &CLIENT);
        d.set_option(
            code::DHCP_MESSAGE_TYPE,
            vec![u8::from(MessageType::Discover)],
        );
        let r = dora(
            &mut s,
            &d,
            Dest::Broadcast,
            Duration::from_secs(1),
            Duration::from_millis(10),
            false,
        )
        .unwrap();
        assert!(matches!(r, DoraResult::Bound(_)), "{r:?}");
        let replies = session_replies(&s, &d);
        let offers: Vec<Duration> = replies
            .iter()
            .filter(|r| r.kind() == Some(MessageType::Offer))
            .map(|r| r.latency)
            .collect();
        assert_eq!(offers.len(), 2);
        assert!(
            offers[1] >= Duration::from_millis(300),
            "the late OFFER answers the DISCOVER sent 300 ms or more before, but its latency is {:?}",
            offers[1]
        );
    }

    #[test]
    fn dora_ack_latency_is_from_the_request() {
        let mut t = Fake {
            batches: vec![vec![MessageType::Offer], vec![MessageType::Ack]].into(),
            pending: VecDeque::new(),
        };
        let limits = Limits {
            max_sends: 10,
            min_interval: Duration::from_millis(300),
        };
        let mut s = Session::new(&mut t, limits);
        let mut d = Message::new(Op::BootRequest, 0x42, &CLIENT);
        d.set_option(
            code::DHCP_MESSAGE_TYPE,
            vec![u8::from(MessageType::Discover)],
        );
        let r = dora(
            &mut s,
            &d,
            Dest::Broadcast,
            Duration::from_secs(1),
            Duration::from_millis(10),
            false,
        )
        .unwrap();
        assert!(matches!(r, DoraResult::Bound(_)), "{r:?}");
        let replies = session_replies(&s, &d);
        let ack = replies
            .iter()
            .find(|r| r.kind() == Some(MessageType::Ack))
            .unwrap();
        assert!(
            ack.latency < Duration::from_millis(100),
            "the ACK came at once after the REQUEST, but its latency is reported as {:?}",
            ack.latency
        );
    }

    /// Guards the evidence a DORA keeps: another server's NAK (or ACK) to
    /// the REQUEST is named in the result even when the chosen one ACKed.
    #[test]
    fn dora_names_other_servers_answers_to_the_request() {
        let b = Ipv4Addr::new(10, 0, 0, 2);
        let answer = |t: MessageType, server: Ipv4Addr| {
            let mut m = Message::new(Op::BootReply, 1, &CLIENT);
            m.set_option(code::DHCP_MESSAGE_TYPE, vec![u8::from(t)]);
            m.set_option(code::SERVER_IDENTIFIER, server.octets().to_vec());
            Reply {
                packet: 0,
                message: m,
                latency: Duration::ZERO,
                checksum: wire::UdpChecksum::Valid,
                from: server,
                src_mac: None,
            }
        };
        let replies = [
            answer(MessageType::Offer, A),
            answer(MessageType::Offer, b),
            answer(MessageType::Nak, b),
            answer(MessageType::Ack, A),
        ];
        let bound = DoraResult::Bound(probe::session::Lease {
            address: ADDR,
            server: A,
            server_mac: None,
            lease_time: None,
        });
        assert_eq!(
            other_servers_answers(&bound, &replies),
            "; also NAK from 10.0.0.2 (not the server chosen)"
        );
        assert_eq!(other_servers_answers(&DoraResult::NoOffer, &replies), "");
    }

    /// Runs `dhcplens ARGS` as `main` would, up to the command's result, in
    /// an empty network namespace when root
    /// ([`crate::testutil::isolate_network`]): the tests only check
    /// refusals that come before any socket.
    fn run(args: &[&str]) -> anyhow::Result<Outcome> {
        use clap::Parser;
        let _ = crate::testutil::isolate_network();
        let cli = crate::args::Cli::try_parse_from([&["dhcplens"][..], args].concat())?;
        let style = Style::new(crate::style::ColorChoice::Never);
        let mut out = Vec::new();
        match &cli.command {
            crate::args::Command::Probe(a) => probe(a, style, &mut out),
            crate::args::Command::Replay(a) => replay(a, style, &mut out),
            crate::args::Command::Bisect(a) => crate::compare::bisect_cmd(a, style, &mut out),
            _ => unreachable!("a command that sends"),
        }
    }

    /// Guards `probe --dora -t TYPE`: a DORA starts with a DISCOVER, so any
    /// other type is a usage error (exit 2), refused before any socket (no
    /// --iface nor --server here: reaching the transport would say that).
    /// It used to be accepted and to report "no OFFER" to a REQUEST.
    #[test]
    fn dora_refuses_a_type_other_than_discover() {
        for t in [
            "request",
            "renew",
            "rebind",
            "init-reboot",
            "inform",
            "bootp",
        ] {
            let e = run(&["probe", "--dora", "-t", t, "--ciaddr", "10.0.0.5"]).unwrap_err();
            assert!(
                e.to_string().starts_with("--dora starts with a DISCOVER"),
                "{t}: {e}"
            );
        }
        let e = run(&["probe", "--dora", "-t", "discover"]).unwrap_err();
        assert!(e.to_string().contains("--iface"), "{e}");
    }

    /// A capture of the examples: DISCOVER, OFFER, REQUEST, ACK (frames 1-4).
    fn healthy() -> String {
        format!(
            "{}/../../examples/healthy-dhcpd/server.pcap",
            env!("CARGO_MANIFEST_DIR")
        )
    }

    /// Guards `bisect --working/--failing` against request overrides
    /// (`--chaddr`, `--secs`, `-o`, …): they were accepted and silently
    /// ignored; they are refused now, as a usage error (exit 2).
    #[test]
    fn bisect_working_failing_refuses_request_overrides() {
        use clap::Parser;
        let base = [
            "dhcplens",
            "bisect",
            "-i",
            "eth0",
            "--working",
            "a.pcap:1",
            "--failing",
            "b.pcap:2",
        ];
        for extra in [
            &["--chaddr", "02:00:00:00:00:09"][..],
            &["--secs", "5"],
            &["-o", "60=PXEClient"],
            &["--no-option", "61"],
            &["--flags", "0"],
            &["--requested", "10.0.0.5"],
        ] {
            let e = crate::args::Cli::try_parse_from([&base[..], extra].concat())
                .expect_err(&format!("{extra:?} accepted, and then ignored"));
            assert_eq!(
                e.kind(),
                clap::error::ErrorKind::ArgumentConflict,
                "{extra:?}: {e}"
            );
            assert_eq!(e.exit_code(), 2);
        }
        // --field takes them (they change the request it varies).
        assert!(crate::args::Cli::try_parse_from([
            "dhcplens",
            "bisect",
            "-i",
            "eth0",
            "--field",
            "secs=0..3",
            "--chaddr",
            "02:00:00:00:00:09"
        ])
        .is_ok());
    }

    /// Guards the order of checks: a usage error (a request missing what
    /// its type needs, a bad `--field`) is told before the way out is
    /// looked at, let alone opened (no --iface nor --server is given, so
    /// reaching the transport would say "nothing is sent without …"). The
    /// transport used to be opened first.
    #[test]
    fn usage_errors_come_before_the_way_out() {
        for (args, says) in [
            (&["probe", "-t", "request"][..], "needs --requested"),
            (
                &["probe", "-t", "release", "--ciaddr", "10.0.0.5"],
                "needs --server-id",
            ),
            (&["probe", "-t", "renew"], "needs --ciaddr"),
            (&["bisect", "--field", "secs"], "NAME=LOW..HIGH"),
            (&["bisect", "--field", "secs=x..3"], "LOW is not a number"),
            (&["bisect", "--field", "yiaddr=0..3"], "cannot be bisected"),
            (&["bisect", "--field", "hops=0..300"], "maximum 255"),
            (&["bisect", "--field", "secs=5..3"], "empty"),
        ] {
            let e = run(args).unwrap_err().to_string();
            assert!(e.contains(says), "{args:?}: {e}");
        }
    }

    /// Guards `bisect` against a BOOTREPLY given as the request to vary
    /// (`--base`) or to compare (`--working`, `--failing`): refused as
    /// `replay` refuses it, before the way out. It used to be sent.
    #[test]
    fn bisect_refuses_a_reply_as_a_request() {
        let (discover, offer) = (format!("{}:1", healthy()), format!("{}:2", healthy()));
        for args in [
            &["bisect", "--field", "secs=0..3", "--base", &offer][..],
            &["bisect", "--working", &offer, "--failing", &discover],
            &["bisect", "--working", &discover, "--failing", &offer],
        ] {
            let e = run(args).unwrap_err().to_string();
            assert!(
                e.ends_with("frame 2 is a reply; bisect varies requests"),
                "{args:?}: {e}"
            );
        }
        let e = run(&["replay", &healthy(), "--frame", "2"])
            .unwrap_err()
            .to_string();
        assert!(
            e.ends_with("frame 2 is a reply; replay resends requests"),
            "{e}"
        );
    }

    /// Guards the BROADCAST flag over a UDP socket (probe, replay, bisect):
    /// set where the reply to a client without an address must be broadcast
    /// for the socket to hear it; `replay` and `bisect` sent captured flags
    /// as they were, so the server unicast to yiaddr and nothing was heard.
    /// Not set in a RELEASE or DECLINE (RFC 2131 table 5: flags 0), which
    /// probe used to set it in; nor with --flags, as a relay, or in raw
    /// frames. Only arguments are parsed: nothing is opened.
    #[test]
    fn the_broadcast_flag_is_set_where_a_udp_socket_needs_it() {
        use clap::Parser;
        let transport = |args: &[&str]| {
            let cli = crate::args::Cli::try_parse_from(
                [&["dhcplens", "replay", "x.pcap", "--frame", "1"][..], args].concat(),
            )
            .unwrap();
            match cli.command {
                crate::args::Command::Replay(a) => a.transport,
                _ => unreachable!(),
            }
        };
        let message = |t: MessageType| {
            let mut m = Message::new(Op::BootRequest, 1, &CLIENT);
            m.set_option(code::DHCP_MESSAGE_TYPE, vec![u8::from(t)]);
            m
        };
        let udp = transport(&["--server", "10.0.0.1"]);
        let way = WayOut::new(&udp).unwrap();
        for t in [
            MessageType::Discover,
            MessageType::Request,
            MessageType::Inform,
        ] {
            let mut m = message(t);
            assert!(way.broadcast_replies(&mut m, false), "{t:?}");
            assert!(m.broadcast(), "{t:?}");
        }
        for t in [MessageType::Release, MessageType::Decline] {
            let mut m = message(t);
            assert!(!way.broadcast_replies(&mut m, false), "{t:?}");
            assert_eq!(m.flags, 0, "{t:?}");
        }
        let mut m = message(MessageType::Discover);
        assert!(!way.broadcast_replies(&mut m, true), "--flags given");
        assert_eq!(m.flags, 0);
        for args in [&["--relay", "--server", "10.0.0.1"][..], &["-i", "eth0"]] {
            let t = transport(args);
            let mut m = message(MessageType::Discover);
            assert!(
                !WayOut::new(&t).unwrap().broadcast_replies(&mut m, false),
                "{args:?}"
            );
            assert_eq!(m.flags, 0, "{args:?}");
        }
        let udp = transport(&["-i", "eth0", "--udp"]);
        let mut m = message(MessageType::Discover);
        assert!(WayOut::new(&udp).unwrap().broadcast_replies(&mut m, false));
    }
}
