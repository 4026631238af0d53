//! `dhcplens decode`: one line (or JSON object) per DHCP packet.

use std::io::Write;

use capture::read::ErrorKind;
use wire::frame::Skip;
use wire::{DhcpFrame, LinkType};

use crate::args::DecodeArgs;
use crate::packet_json::PacketJson;
use crate::style::Style;
use crate::{inputs, packet_text, warn, Outcome};

/// What was seen in one file besides DHCP, for the closing summary.
#[derive(Default)]
struct Counts {
    frames: u64,
    dhcp: u64,
    shown: u64,
    unsupported: Option<LinkType>,
    truncated: u64,
    /// Packets shown with an anomaly of their own (not the capture's).
    malformed: u64,
    /// DHCP packets whose time was clamped.
    clamped: crate::feed::Clamped,
    /// DHCP packets with no time of their own.
    untimed: crate::feed::Untimed,
    /// Later fragments of DHCP messages' datagrams.
    fragments: crate::feed::Fragments,
}

fn matches(a: &DecodeArgs, p: &DhcpFrame<'_>) -> bool {
    // A message cut inside its header still has the ids its bytes reach.
    let (xid, chaddr) = match &p.message {
        Some(m) => (Some(m.xid), Some(m.chaddr())),
        None => wire::dhcp::header_ids(p.frame.payload),
    };
    if a.xid.is_some_and(|x| xid != Some(x)) {
        return false;
    }
    if let Some(mac) = a.mac {
        let b = mac.as_bytes();
        let chaddr = chaddr == Some(mac);
        let eth = [p.frame.link.src_mac, p.frame.link.dst_mac]
            .iter()
            .any(|m| m.is_some_and(|m| m.as_slice() == b));
        if !chaddr && !eth {
            return false;
        }
    }
    true
}

pub fn run(a: &DecodeArgs, style: Style, out: &mut impl Write) -> anyhow::Result<Outcome> {
    inputs::stdin_once(&a.inputs)?;
    // A directory with no capture in it is an error of its own: the other
    // inputs are still decoded.
    let (files, problems) = inputs::captures_or_problems(&a.inputs);
    for s in inputs::skipped_in_dirs(&a.inputs) {
        warn(format_args!("{}: {}", s.file, s.message));
    }
    let mut outcome = Outcome::Healthy;
    for p in &problems {
        warn(format_args!("{}: {}", p.file, p.message));
        outcome = Outcome::Error;
    }
    // DHCP packets read, and shown (those the filters let through).
    let (mut dhcp, mut matching) = (0u64, 0u64);
    for path in &files {
        let shown = inputs::shown(path);
        let mut reader = match capture::open(path) {
            Ok(r) => r,
            Err(e) => {
                warn(format_args!("{shown}: {e}"));
                outcome = Outcome::Error;
                continue;
            }
        };
        if files.len() > 1 && !a.json {
            writeln!(
                out,
                "{}",
                style.paint(crate::style::Paint::Cyan, format!("== {shown}"))
            )?;
        }
        let mut c = Counts::default();
        let mut failed = false;
        // Lines written since the last flush.
        let mut unflushed = false;
        loop {
            // A live pipe's packets show as they arrive; a fast input's
            // output goes out in large writes.
            if unflushed && reader.caught_up() {
                out.flush()?;
                unflushed = false;
            }
            let p = match reader.next_packet() {
                Ok(Some(p)) => p,
                Ok(None) => break,
                Err(e) => {
                    let hint = if matches!(e.kind, ErrorKind::CutShort { .. }) {
                        " (every packet before it is shown)"
                    } else {
                        ""
                    };
                    out.flush()?;
                    warn(format_args!("{shown}: {e}{hint}"));
                    outcome = Outcome::Error;
                    failed = true;
                    break;
                }
            };
            c.frames += 1;
            let mut icmp = None;
            let mut d = match wire::packet::decode(p.link, p.data, p.orig_len) {
                Ok(Some(d)) => d,
                Ok(None) => continue,
                // An ICMP error about a DHCP message: shown as that message,
                // quoted.
                Err(Skip::NotUdp) => match crate::packet_json::quoted(p.link, p.data) {
                    Some((q, u)) => {
                        icmp = Some(u);
                        q
                    }
                    None => continue,
                },
                Err(Skip::UnsupportedLinkType(l)) => {
                    c.unsupported = Some(l);
                    continue;
                }
                Err(Skip::Truncated(_)) => {
                    c.truncated += 1;
                    continue;
                }
                Err(Skip::Fragment) => {
                    c.fragments.note_later(p.link, p.data);
                    continue;
                }
                Err(_) => continue,
            };
            c.dhcp += 1;
            c.clamped.note(&p);
            c.untimed.note(&p);
            c.fragments.note_first(&d);
            d.check_values();
            if !matches(a, &d) {
                continue;
            }
            c.shown += 1;
            unflushed = true;
            if d.anomalies.iter().any(|x| x.kind.is_malformation()) {
                c.malformed += 1;
            }
            if a.json {
                let mut j = PacketJson::new(&shown, p.number, p.timestamp, &d);
                j.icmp = icmp.as_ref().map(crate::packet_json::IcmpJson::of);
                serde_json::to_writer(&mut *out, &j)?;
                out.write_all(b"\n")?;
            } else if let Some(u) = icmp {
                // `N  TIME  ICMP port unreachable from A, quoting: A:P > B:Q …`
                let quoted = packet_text::line(p.number, p.timestamp, &d, style);
                let head = format!("{:>6}  {}  ", p.number, p.timestamp.time_of_day());
                writeln!(
                    out,
                    "{head}ICMP {} from {}, quoting: {}",
                    u.name(),
                    u.reporter,
                    quoted.get(head.len()..).unwrap_or_default()
                )?;
            } else {
                writeln!(
                    out,
                    "{}",
                    packet_text::line(p.number, p.timestamp, &d, style)
                )?;
                if a.verbose {
                    write!(out, "{}", packet_text::details(&d))?;
                }
            }
        }
        // The file's warnings come after its packets.
        out.flush()?;
        if let Some(l) = c.unsupported {
            warn(format_args!(
                "{shown}: frames with {l} framing were skipped: dhcplens reads Ethernet, Linux cooked \
                 (v1, v2), raw IP and BSD loopback captures"
            ));
            outcome = Outcome::Error;
        }
        if c.truncated > 0 {
            warn(format_args!(
                "{shown}: {} frame(s) end inside their link or IP header and could not be read",
                c.truncated
            ));
        }
        if let Some(message) = c.clamped.message("shown") {
            warn(format_args!("{shown}: {message}"));
            if outcome == Outcome::Healthy {
                outcome = Outcome::Problems;
            }
        }
        if let Some(message) = c.untimed.message() {
            warn(format_args!("{shown}: {message}"));
        }
        if let Some(message) = c.fragments.message() {
            warn(format_args!("{shown}: {message}"));
        }
        // Problems found: malformed packets (not merely cut by the capture:
        // frames ending inside a header are snap-length cuts too).
        if c.malformed > 0 && outcome == Outcome::Healthy {
            outcome = Outcome::Problems;
        }
        dhcp += c.dhcp;
        matching += c.shown;
        // (After a read error, that error is the news.)
        if c.dhcp == 0 && c.unsupported.is_none() && !failed {
            warn(format_args!(
                "{shown}: no DHCP packets among its {} frame(s)",
                c.frames
            ));
            // No answer.
            outcome = outcome.and(Outcome::Problems);
        }
    }
    // Filters that let nothing through: no answer, said (not an empty
    // screen that looks like a client that never spoke).
    if dhcp > 0 && matching == 0 {
        let mut filters = Vec::new();
        if let Some(mac) = a.mac {
            filters.push(format!("--mac {mac}"));
        }
        if let Some(xid) = a.xid {
            filters.push(format!("--xid 0x{xid:08x}"));
        }
        warn(format_args!(
            "no DHCP packet matches {} (among {dhcp} read)",
            filters.join(" ")
        ));
        outcome = outcome.and(Outcome::Problems);
    }
    Ok(outcome)
}
