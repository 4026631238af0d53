//! `dhcplens serve`: the server of `crates/server` on one interface, one
//! line (or JSON event) per request, each drop and NAK with its reason.

use std::io::Write;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use capture::write::{Direction, PcapngWriter};
use capture::Timestamp;
use serde_json::json;
use server::serve::Exchange;
use server::{Action, Config, Decision, Server};

use crate::args::ServeArgs;
use crate::style::{Paint, Style};
use crate::Outcome;

/// The configuration `a` asks for (the server's address left unspecified,
/// for the interface to give), refused if it is wrong whatever the
/// interface ([`Config::check_subnets`]).
fn config(a: &ServeArgs) -> Result<Config, String> {
    let mut cfg = Config::new(std::net::Ipv4Addr::UNSPECIFIED, a.subnet.clone());
    cfg.lease_secs = a.lease;
    cfg.min_secs = a.min_secs;
    cfg.authoritative = !a.not_authoritative;
    cfg.ignore = a.ignore.clone();
    cfg.known_only = a.known_only;
    cfg.check_subnets()?;
    if a.write.as_deref().is_some_and(|w| w.as_os_str() == "-") {
        return Err("-w -: the decisions go to standard output; give -w a file name".into());
    }
    if let (Some(w), Some(l)) = (&a.write, &a.leases) {
        if crate::inputs::same_file(w, l) {
            return Err(format!(
                "-w {} is the lease file (--leases {}): the capture would overwrite the leases, and the leases the capture; give the capture a file of its own",
                w.display(),
                l.display()
            ));
        }
    }
    Ok(cfg)
}

pub fn run(a: &ServeArgs, style: Style, out: &mut impl Write) -> anyhow::Result<Outcome> {
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, Arc::clone(&stop))
            .context("installing the Ctrl-C handler")?;
    }
    // What is wrong whatever the interface is refused before it is looked at.
    let mut cfg = config(a).map_err(|e| anyhow::anyhow!("cannot serve on {}: {e}", a.iface))?;
    let (addr, prefix) = capture::live::interface_ipv4(&a.iface)
        .with_context(|| format!("cannot serve on {}", a.iface))?;
    cfg.server_id = addr;
    cfg.check()
        .map_err(|e| anyhow::anyhow!("cannot serve on {}: {e}", a.iface))?;
    let mut listener = server::serve::Listener::open(&a.iface, addr)
        .with_context(|| format!("cannot serve on {}", a.iface))?;
    let own = cfg.subnet_of(addr).map(|s| s.cidr());
    let networks: Vec<String> = cfg
        .subnets
        .iter()
        .map(|s| format!("{} ({} addresses)", s.cidr(), s.pool_size()))
        .collect();
    if a.json {
        let started = json!({
            "event": "started",
            "iface": a.iface,
            "server_id": addr.to_string(),
            "subnets": cfg.subnets.iter().map(|s| s.cidr()).collect::<Vec<_>>(),
            "interface_subnet": own,
        });
        writeln!(out, "{started}")?;
    } else {
        writeln!(
            out,
            "serving DHCP on {} ({addr}/{prefix}) for {}; Ctrl-C stops",
            a.iface,
            networks.join(", ")
        )?;
        if let Some(s) = cfg.subnet_of(addr).filter(|s| s.prefix != prefix) {
            writeln!(
                out,
                "{} {} has prefix /{prefix} but --subnet says {}: clients get mask {}",
                style.paint(Paint::Yellow, "warning:"),
                a.iface,
                s.cidr(),
                s.mask()
            )?;
        }
        if own.is_none() {
            writeln!(
                out,
                "{} no subnet contains {addr}: clients on {} itself will be dropped (no-subnet-for-interface); relayed ones are served",
                style.paint(Paint::Yellow, "warning:"),
                a.iface
            )?;
        }
    }
    out.flush()?;
    let mut pcapng = match &a.write {
        Some(file) => {
            let path = file.display().to_string();
            let f = std::fs::File::create(file).with_context(|| format!("creating {path}"))?;
            let mut w = PcapngWriter::new(std::io::BufWriter::new(f), "dhcplens serve")
                .with_context(|| format!("writing {path}"))?;
            // On disk at once: a server killed before its first exchange
            // leaves a file Wireshark opens.
            w.flush().with_context(|| format!("writing {path}"))?;
            Some((path, w))
        }
        None => None,
    };
    if a.ping_check {
        listener
            .ping_check(std::time::Duration::from_millis(500))
            .with_context(|| format!("cannot serve on {}", a.iface))?;
    }
    let mut server = match &a.leases {
        Some(path) => {
            let limits = server::store::Limits {
                bound_secs: cfg.lease_secs,
                declined_secs: cfg.decline_secs,
            };
            let leases = server::store::load(path, listener.now(), limits)
                .map_err(|e| anyhow::anyhow!("cannot read the lease file {e}"))?;
            listener.persist_to(path);
            let (server, dropped) = Server::with_leases(cfg, leases);
            if !a.json {
                let n = server.leases().iter().count();
                writeln!(out, "{n} leases read back from {}", path.display())?;
            }
            if dropped > 0 {
                crate::warn(format_args!(
                    "{dropped} lease(s) of {} dropped: their addresses are now reserved for other hosts",
                    path.display()
                ));
            }
            server
        }
        None => Server::new(cfg),
    };
    let until = a.duration.map(|d| Instant::now() + d);
    let mut problems = 0u64;
    let mut tally = Tally::default();
    let mut failed: Option<anyhow::Error> = None;
    listener.run(&mut server, &stop, until, |x| {
        let d = x.decision;
        // A later fragment of a request counted already is only logged.
        if !x.continues {
            tally.requests += 1;
            for d in x.earlier.iter().chain([d]) {
                if d.is_problem() {
                    problems += 1;
                }
                tally.count(d);
            }
        }
        let err = x.error.as_ref();
        if let Some(e) = &x.store_error {
            // Serving goes on; the operator hears of it once per change.
            let path = a
                .leases
                .as_ref()
                .map_or(String::new(), |p| p.display().to_string());
            crate::warn(format_args!("lease file {path} not written: {e}"));
            problems += 1;
        }
        // Taken-back offers first (no reply went out for them), then the decision.
        let mut all = x.earlier.iter().map(|e| (e, None)).chain([(d, err)]);
        let written = all.try_for_each(|(d, err)| {
            if a.json {
                writeln!(out, "{}", event(d, &a.iface, err))
            } else {
                write_line(out, d, &a.iface, err, style)
            }
        });
        if let Err(e) = written.and_then(|()| out.flush()) {
            failed.get_or_insert(e.into());
        }
        if let Some((path, w)) = &mut pcapng {
            if let Err(e) = record(w, x, &a.iface) {
                failed.get_or_insert(anyhow::Error::from(e).context(format!("writing {path}")));
            }
        }
    })?;
    if let Some((path, mut w)) = pcapng {
        w.flush().with_context(|| format!("writing {path}"))?;
    }
    if a.json {
        writeln!(out, "{}", tally.json())?;
    } else {
        writeln!(out, "{}", tally.text())?;
    }
    if let Some(e) = failed {
        return Err(e);
    }
    Ok(if problems > 0 {
        Outcome::Problems
    } else {
        Outcome::Healthy
    })
}

fn write_line(
    out: &mut impl Write,
    d: &Decision,
    iface: &str,
    err: Option<&std::io::Error>,
    style: Style,
) -> std::io::Result<()> {
    let line = d.line(iface);
    let paint = match d.action {
        Action::Nak => Some(Paint::Red),
        Action::Drop if d.is_problem() => Some(Paint::Yellow),
        _ => None,
    };
    // Stamped and tagged as a syslog line (RFC 3339), so that `explain` and
    // `diagnose --log` read it back.
    let head = server::serve::log_head(Timestamp::now().rfc3339());
    match paint {
        Some(p) => write!(out, "{head} {}", style.paint(p, line))?,
        None => write!(out, "{head} {line}")?,
    }
    if let Some(e) = err {
        write!(
            out,
            " {}",
            style.paint(Paint::Red, format!("[not sent: {e}]"))
        )?;
    }
    writeln!(out)
}

fn event(d: &Decision, iface: &str, err: Option<&std::io::Error>) -> serde_json::Value {
    json!({
        "event": "decision",
        "ts": Timestamp::now().rfc3339().to_string(),
        "received": d.received.map(|t| t.name().into_owned()),
        "chaddr": d.chaddr.hex().as_str(),
        "xid": wire::dhcp::HexBuf::xid(d.xid).as_str(),
        "via": d.via(iface),
        "action": d.action.name(),
        "address": d.address.map(|a| a.to_string()),
        "reason": d.reason.as_ref().map(|r| json!({
            "code": r.code(),
            "text": r.to_string(),
            "fix": r.fix(),
        })),
        "to": d.reply.as_ref().map(|(_, to)| to.describe()),
        "send_error": err.map(|e| e.to_string()),
        "line": d.line(iface),
    })
}

/// Writes the request (inbound) with its decision as a comment, and the
/// reply (outbound: an Ethernet frame, or for one sent through the kernel
/// its IPv4 packet, on an interface of its own) with where it went; then
/// flushes, so that a server killed or cut off leaves a capture of all it
/// decided.
fn record(
    w: &mut PcapngWriter<std::io::BufWriter<std::fs::File>>,
    x: &Exchange<'_>,
    iface: &str,
) -> std::io::Result<()> {
    let d = x.decision;
    let i = w.interface(wire::LinkType::Ethernet, iface)?;
    let mut comments: Vec<String> = x.earlier.iter().map(|e| e.line(iface)).collect();
    let mut last = d.line(iface);
    if let Some(e) = &x.error {
        last += &format!(" [not sent: {e}]");
    }
    comments.push(last);
    let comments: Vec<&str> = comments.iter().map(String::as_str).collect();
    let r = x.request;
    w.write_packet(
        i,
        r.timestamp_ns,
        &r.data,
        r.orig_len,
        Some(Direction::Inbound),
        &comments,
    )?;
    if let Some(sent) = &x.reply {
        let description = if sent.link == wire::LinkType::Ethernet {
            ""
        } else {
            "replies sent through the kernel: their IPv4 packets as built"
        };
        let i = w.interface_described(sent.link, iface, description)?;
        let to = d
            .reply
            .as_ref()
            .map_or(String::new(), |(_, to)| to.describe());
        let what = d.action.name().to_uppercase();
        let comment = format!("{what} to {to}");
        w.write_packet(
            i,
            sent.timestamp_ns,
            &sent.frame,
            sent.frame.len(),
            Some(Direction::Outbound),
            &[&comment],
        )?;
    }
    w.flush()
}

/// What the server did, counted for the summary at the end.
#[derive(Default)]
struct Tally {
    requests: u64,
    /// By action (`offer`, `ack`, `nak`, `drop`, …), in first-seen order.
    actions: Vec<(&'static str, u64)>,
    /// Drops and NAKs by reason code.
    reasons: std::collections::BTreeMap<&'static str, u64>,
}

impl Tally {
    /// One decision (a request decided again after a ping check has several).
    fn count(&mut self, d: &Decision) {
        let name = d.action.name();
        match self.actions.iter_mut().find(|(a, _)| *a == name) {
            Some((_, n)) => *n += 1,
            None => self.actions.push((name, 1)),
        }
        if let Some(r) = &d.reason {
            *self.reasons.entry(r.code()).or_default() += 1;
        }
    }

    /// `served 12 requests: offer 4, ack 4, nak 1, drop 3; reasons: min-secs 2, wrong-network 1`
    fn text(&self) -> String {
        let mut t = format!("served {} requests", self.requests);
        let actions: Vec<String> = self
            .actions
            .iter()
            .map(|(a, n)| format!("{a} {n}"))
            .collect();
        if !actions.is_empty() {
            t += &format!(": {}", actions.join(", "));
        }
        let reasons: Vec<String> = self
            .reasons
            .iter()
            .map(|(r, n)| format!("{r} {n}"))
            .collect();
        if !reasons.is_empty() {
            t += &format!("; reasons: {}", reasons.join(", "));
        }
        t
    }

    fn json(&self) -> serde_json::Value {
        json!({
            "event": "summary",
            "requests": self.requests,
            "actions": self.actions.iter().map(|(a, n)| (a.to_string(), json!(n))).collect::<serde_json::Map<_, _>>(),
            "reasons": self.reasons,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::{Cli, Command};
    use clap::Parser as _;

    /// `dhcplens serve ARGS…` as parsed (nothing is opened or sent).
    fn serve_args(args: &[&str]) -> Result<ServeArgs, String> {
        let mut all = vec!["dhcplens", "serve", "-i", "eth0"];
        all.extend_from_slice(args);
        match Cli::try_parse_from(all).map_err(|e| e.to_string())?.command {
            Command::Serve(a) => Ok(a),
            _ => unreachable!(),
        }
    }

    /// Guards `serve -w FILE --leases FILE` (the same file, by the same
    /// name or another): `run` created the pcapng with `File::create`,
    /// truncating the lease file, before it read the leases, so every lease
    /// was forgotten, and the first lease saved renamed a new file over the
    /// capture being written. It is refused (exit 2) before anything is
    /// opened, as `diagnose --html` refuses a page that would overwrite an
    /// input.
    #[test]
    fn a_write_file_that_is_the_lease_file_is_refused() {
        let dir = crate::testutil::temp_dir("serve-leases");
        let leases = dir.join("leases");
        std::fs::write(&leases, "kept").unwrap();
        let other = format!(
            "{}/../{}/leases",
            dir.display(),
            dir.file_name().unwrap().to_string_lossy()
        );
        let subnet = ["--subnet", "10.0.0.0/24,range=10.0.0.100-10.0.0.109"];
        for w in [leases.to_str().unwrap(), &other] {
            let a = serve_args(
                &[
                    &subnet[..],
                    &["--leases", leases.to_str().unwrap(), "-w", w],
                ]
                .concat(),
            )
            .unwrap();
            let e = config(&a).expect_err("-w and --leases name the same file");
            assert!(e.contains("is the lease file"), "{e}");
        }
        assert_eq!(std::fs::read_to_string(&leases).unwrap(), "kept");
        let a = serve_args(
            &[
                &subnet[..],
                &[
                    "--leases",
                    leases.to_str().unwrap(),
                    "-w",
                    dir.join("serve.pcapng").to_str().unwrap(),
                ],
            ]
            .concat(),
        )
        .unwrap();
        assert!(config(&a).is_ok());
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// `-w -` is refused: it made a file named `-` (the decisions are on
    /// standard output).
    #[test]
    fn a_write_file_named_dash_is_refused() {
        let a = serve_args(&[
            "--subnet",
            "10.0.0.0/24,range=10.0.0.100-10.0.0.109",
            "-w",
            "-",
        ])
        .unwrap();
        let e = config(&a).expect_err("-w - refused");
        assert!(e.contains("give -w a file name"), "{e}");
    }

    /// A lease file that does not exist yet (a first run) named another way
    /// (`dir/./leases`) is still the same file as `-w`: refused (the
    /// capture, created first, was read as an empty lease file, and the
    /// first lease save renamed over it). Found in review.
    #[test]
    fn a_write_file_that_is_the_future_lease_file_is_refused() {
        let dir = crate::testutil::temp_dir("serve-leases-new");
        let leases = dir.join("leases");
        let other = format!("{}/./leases", dir.display());
        let subnet = ["--subnet", "10.0.0.0/24,range=10.0.0.100-10.0.0.109"];
        let a = serve_args(
            &[
                &subnet[..],
                &["--leases", leases.to_str().unwrap(), "-w", &other],
            ]
            .concat(),
        )
        .unwrap();
        let r = config(&a);
        let _ = std::fs::remove_dir_all(&dir);
        assert!(
            r.is_err(),
            "-w {other} and --leases {} are one file",
            leases.display()
        );
    }

    /// Guards what `serve -w` leaves when the server is killed: each
    /// exchange is on disk once recorded (it sat in a `BufWriter` flushed
    /// only at a normal exit, so SIGKILL left a header at most), the
    /// request marked inbound and the reply outbound (`epb_flags`; nothing
    /// told them apart but the comments).
    #[test]
    fn each_exchange_is_on_disk_with_its_direction_once_recorded() {
        use server::handle::Dest as To;
        let dir = crate::testutil::temp_dir("serve-record");
        let path = dir.join("serve.pcapng");
        let f = std::fs::File::create(&path).unwrap();
        let mut w = PcapngWriter::new(std::io::BufWriter::new(f), "dhcplens serve").unwrap();
        let chaddr = [2, 0, 0, 0, 0, 1];
        let mut reply = wire::Message::new(wire::Op::BootReply, 7, &chaddr);
        reply.yiaddr = std::net::Ipv4Addr::new(10, 0, 0, 100);
        let decision = Decision {
            received: Some(wire::dhcp::MessageType::Discover),
            chaddr: wire::HwAddr::new(&chaddr),
            xid: 7,
            giaddr: std::net::Ipv4Addr::UNSPECIFIED,
            action: Action::Offer,
            address: Some(reply.yiaddr),
            reason: None,
            reply: Some((reply, To::Broadcast)),
            fresh: true,
        };
        let request = capture::live::LivePacket {
            timestamp_ns: 1_700_000_000_000_000_000,
            data: vec![0; 342],
            orig_len: 342,
            checksum: capture::live::KernelChecksum::Valid,
            direction: capture::live::Direction::Incoming,
        };
        let x = Exchange {
            earlier: &[],
            decision: &decision,
            request: &request,
            reply: Some(server::serve::Sent {
                timestamp_ns: 1_700_000_000_001_000_000,
                link: wire::LinkType::Ethernet,
                frame: vec![0; 342],
            }),
            error: None,
            store_error: None,
            continues: false,
        };
        record(&mut w, &x, "eth0").unwrap();
        // Still open, as when the server is killed now.
        let file = std::fs::read(&path).unwrap();
        let packets = crate::testutil::epb_options(&file);
        assert_eq!(packets.len(), 2, "both packets are on disk");
        assert_eq!(packets[0].0, Some(1), "the request is inbound");
        assert!(packets[0].1[0].contains("OFFER"), "{:?}", packets[0].1);
        assert_eq!(packets[1].0, Some(2), "the reply is outbound");
        assert_eq!(packets[1].1, ["OFFER to broadcast"]);
        drop(w);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Two `--subnet`s for the same or overlapping networks, and
    /// `--known-only` with no `host=` anywhere, are refused before the
    /// interface is looked at (`run` turns the error into exit 2): the
    /// first listed subnet used to answer for both, and `--known-only`
    /// used to serve nobody without a word. Fails on the previous build.
    #[test]
    fn overlapping_subnets_and_known_only_without_hosts_are_refused() {
        for (args, says) in [
            (
                vec![
                    "--subnet",
                    "10.0.0.0/16,range=10.0.5.100-10.0.5.109",
                    "--subnet",
                    "10.0.1.0/24,range=10.0.1.100-10.0.1.109",
                ],
                "--subnet 10.0.0.0/16 overlaps --subnet 10.0.1.0/24",
            ),
            (
                vec![
                    "--subnet",
                    "10.0.0.0/24,range=10.0.0.100-10.0.0.109",
                    "--subnet",
                    "10.0.0.0/24,range=10.0.0.200-10.0.0.209",
                ],
                "--subnet 10.0.0.0/24 is given twice",
            ),
            (
                vec![
                    "--subnet",
                    "10.0.0.0/24,range=10.0.0.100-10.0.0.109",
                    "--known-only",
                ],
                "no --subnet has a host=MAC@IP",
            ),
        ] {
            let e = config(&serve_args(&args).unwrap()).unwrap_err();
            assert!(e.contains(says), "{args:?}: {e}");
        }
        let ok = serve_args(&[
            "--subnet",
            "10.0.0.0/24,range=10.0.0.100-10.0.0.109,host=02:00:00:00:00:01@10.0.0.50",
            "--subnet",
            "10.0.1.0/24,range=10.0.1.100-10.0.1.109",
            "--known-only",
        ])
        .unwrap();
        assert!(config(&ok).is_ok());
    }

    /// `--ignore` takes an Ethernet MAC, six octets, as `host=` does: five
    /// (a byte left out) would match nobody. Fails on the previous build.
    #[test]
    fn ignore_takes_a_six_octet_mac() {
        let subnet = ["--subnet", "10.0.0.0/24,range=10.0.0.100-10.0.0.109"];
        let e = serve_args(&[subnet[0], subnet[1], "--ignore", "02:00:00:00:0a"]).unwrap_err();
        assert!(e.contains("has 5 octets"), "{e}");
        let a = serve_args(&[subnet[0], subnet[1], "--ignore", "02:00:00:00:00:0a"]).unwrap();
        assert_eq!(a.ignore.len(), 1);
    }
}
