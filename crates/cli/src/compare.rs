//! `dhcplens diff` and `dhcplens bisect`: what differs between a working and a
//! failing request, and which difference makes the server answer.

use std::io::Write;
use std::time::Duration;

use anyhow::{bail, Context as _};
use diagnose::diff::{self, Difference};
use diagnose::{Config, Engine, NoSink};
use probe::bisect::{self, Answer, Field, Oracle};
use probe::request::{fresh_xid, Kind, Spec};
use probe::session::{Limits, Session};
use probe::transport::Dest;
use serde::Serialize;
use wire::dhcp::MessageType;
use wire::Message;

use crate::args::{BisectArgs, DiffArgs};
use crate::send::{frame_ref, load_frame, open, write_pcapng};
use crate::style::{Paint, Style};
use crate::Outcome;

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

#[derive(Serialize)]
struct ClientSide {
    chaddr: String,
    outcome: Option<&'static str>,
    address: Option<std::net::Ipv4Addr>,
    findings: Vec<&'static str>,
    request_frame: Option<u64>,
}

/// The first request a client sent, by frame number, and its outcome.
fn client_side(
    file: &str,
    mac: wire::HwAddr,
) -> anyhow::Result<(ClientSide, Option<Message<'static>>)> {
    let mut r = capture::open(file).map_err(|e| anyhow::anyhow!("{file}: {e}"))?;
    let mut engine = Engine::new(
        Config {
            files: vec![file.into()],
            ..Config::default()
        },
        NoSink,
    );
    let mut first: Option<(u64, Message<'static>)> = None;
    while let Some(p) = r
        .next_packet()
        .map_err(|e| anyhow::anyhow!("{file}: {e}"))?
    {
        let Ok(Some(d)) = wire::packet::decode(p.link, p.data, p.orig_len) else {
            continue;
        };
        if let Some(m) = &d.message {
            if first.is_none() && m.chaddr() == mac && m.op == wire::Op::BootRequest {
                first = Some((p.number, m.clone().into_owned()));
            }
        }
        if let Some(o) = diagnose::Obs::new(
            diagnose::FrameRef {
                file: 0,
                frame: p.number,
            },
            p.timestamp,
            &d,
            None,
        ) {
            engine.push(o);
        }
    }
    let report = engine.finish().0;
    let c = report
        .clients
        .iter()
        .find(|c| c.chaddr == mac)
        .with_context(|| format!("{file}: no packets for {mac}"))?;
    Ok((
        ClientSide {
            chaddr: mac.to_string(),
            outcome: c.outcome().map(|o| o.name()),
            address: c.address(),
            findings: c.finding_codes(),
            request_frame: first.as_ref().map(|(n, _)| *n),
        },
        first.map(|(_, m)| m),
    ))
}

pub fn diff_cmd(a: &DiffArgs, style: Style, out: &mut impl Write) -> anyhow::Result<Outcome> {
    if a.macs.len() == 2 {
        let file = a
            .items
            .first()
            .context("give the capture holding both clients")?;
        let (l, lm) = client_side(file, a.macs[0])?;
        let (r, rm) = client_side(file, a.macs[1])?;
        let d = match (&lm, &rm) {
            (Some(x), Some(y)) => diff::requests(x, y),
            _ => Vec::new(),
        };
        if a.json {
            serde_json::to_writer(
                &mut *out,
                &serde_json::json!({"left": l, "right": r, "differences": d}),
            )?;
            writeln!(out)?;
        } else {
            for (side, c) in [("left ", &l), ("right", &r)] {
                writeln!(
                    out,
                    "{side} {}  {}  {}  findings: {}",
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
            writeln!(
                out,
                "first requests (frames {} and {}):",
                l.request_frame.map_or("-".into(), |n| n.to_string()),
                r.request_frame.map_or("-".into(), |n| n.to_string())
            )?;
            print_differences(out, &d, "left", "right", style)?;
        }
        return Ok(if d.is_empty() {
            Outcome::Healthy
        } else {
            Outcome::Problems
        });
    }
    if a.items.len() != 2 || !a.macs.is_empty() {
        bail!("give two requests as CAPTURE:FRAME (e.g. good.pcap:1 bad.pcap:3), or one capture and --mac twice");
    }
    let (lf, ln) = frame_ref(&a.items[0])?;
    let (rf, rn) = frame_ref(&a.items[1])?;
    let l = load_frame(&lf, ln)?;
    let r = load_frame(&rf, rn)?;
    let d = diff::requests(&l, &r);
    if a.json {
        serde_json::to_writer(&mut *out, &d)?;
        writeln!(out)?;
    } else {
        print_differences(out, &d, &a.items[0], &a.items[1], style)?;
    }
    Ok(if d.is_empty() {
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

pub fn bisect_cmd(a: &BisectArgs, style: Style, out: &mut impl Write) -> anyhow::Result<Outcome> {
    let mut opened = open(&a.transport)?;
    let limits = Limits {
        max_sends: a.transport.max_packets,
        min_interval: a.transport.interval,
    };
    let giaddr = opened.giaddr;
    let iface_mac = opened.iface_mac;
    let udp = opened.udp;
    let dest = opened.dest;
    let mut session = Session::new(opened.transport.as_mut(), limits);
    let mut oracle = NetOracle {
        session: &mut session,
        dest,
        timeout: a.transport.timeout,
        pause: a.pause,
        asked: 0,
        giaddr,
        out: Vec::new(),
    };
    let (conclusion, found, tries) = match (&a.field, &a.working, &a.failing) {
        (Some(f), None, None) => {
            let (name, range) = f.split_once('=').context("--field takes NAME=LOW..HIGH, e.g. secs=0..30")?;
            let (lo, hi) = range.split_once("..").context("--field takes NAME=LOW..HIGH, e.g. secs=0..30")?;
            let field = Field::parse(name).map_err(anyhow::Error::msg)?;
            let (lo, hi): (u32, u32) = (lo.parse().context("LOW is not a number")?, hi.parse().context("HIGH is not a number")?);
            let base = match &a.base {
                Some(b) => {
                    let (file, n) = frame_ref(b)?;
                    let mut m = load_frame(&file, n)?;
                    a.overrides.apply_message(&mut m);
                    m
                }
                None => {
                    let chaddr = a
                        .overrides
                        .chaddr
                        .or_else(|| iface_mac.map(|m| wire::HwAddr::new(&m)))
                        .context("give --chaddr (no interface to take a MAC from)")?;
                    let mut spec = Spec::new(Kind::Discover, chaddr, 0);
                    if udp && giaddr.is_none() && a.overrides.flags.is_none() {
                        spec.flags = wire::dhcp::FLAG_BROADCAST;
                    }
                    a.overrides.apply_spec(&mut spec);
                    spec.build().map_err(anyhow::Error::msg)?
                }
            };
            let r = bisect::range(&base, field, lo, hi, &mut oracle).map_err(anyhow::Error::msg)?;
            (r.conclusion(), r.boundary.is_some(), r.tries)
        }
        (None, Some(w), Some(f)) => {
            let (wf, wn) = frame_ref(w)?;
            let (ff, fnum) = frame_ref(f)?;
            let working = load_frame(&wf, wn)?;
            let failing = load_frame(&ff, fnum)?;
            let r = bisect::between(&working, &failing, &mut oracle).map_err(anyhow::Error::msg)?;
            (r.conclusion(), !r.flips.is_empty(), r.tries)
        }
        _ => bail!("give either --field NAME=LOW..HIGH (with an optional --base CAPTURE:FRAME) or --working CAPTURE:FRAME --failing CAPTURE:FRAME"),
    };
    let sent = oracle.out.clone();
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
    if let Some(w) = &a.transport.write {
        write_pcapng(
            w,
            a.transport.iface.as_deref().unwrap_or("udp"),
            &session.log,
        )?;
    }
    Ok(if found {
        Outcome::Healthy
    } else {
        Outcome::Problems
    })
}
