//! A client's ladder diagram: the client and each server as lanes, every
//! message an arrow, transactions as bands; and the same packets as a table
//! (the text alternative, and what a screen reader reads).

use std::collections::HashMap;
use std::fmt::Write;
use std::net::Ipv4Addr;

use capture::Timestamp;
use diagnose::rules::frame_name;
use diagnose::FrameRef;
use wire::dhcp::MessageType;
use wire::HwAddr;

use super::collect::{Arrow, ClientPackets, FrameInfo};
use super::escape::Esc;
use super::{outcome_class, rel_time};

/// Width of the time column, x of the client lane, distance between lanes.
const TIME_W: f64 = 92.0;
const CLIENT_X: f64 = 150.0;
const HEAD_H: f64 = 58.0;
const BAND_H: f64 = 30.0;
const ROW_H: f64 = 50.0;

/// What the page needs from outside to draw a ladder.
pub struct Ctx<'a> {
    pub files: &'a [String],
    pub frames: &'a HashMap<FrameRef, FrameInfo>,
    /// Per frame: (field key, finding code) pairs to highlight.
    pub highlights: &'a HashMap<FrameRef, Vec<(&'static str, &'static str)>>,
    /// Frames that are evidence of an error or warning.
    pub evidence: &'a HashMap<FrameRef, &'static str>,
}

/// A drawn ladder.
pub struct Ladder {
    pub svg: String,
    pub table: String,
    pub arrows: usize,
    /// Natural width in pixels.
    pub width: f64,
}

/// A lane for a server.
struct Lane {
    addr: Ipv4Addr,
    mac: Option<String>,
    answered: bool,
}

/// Where an arrow goes.
enum Target {
    Lane(usize),
    /// Broadcast to every server lane.
    All,
}

fn lanes(packets: &ClientPackets) -> Vec<Lane> {
    let mut lanes: Vec<Lane> = Vec::new();
    let arrows = packets.bands.iter().flat_map(|b| &b.arrows);
    let mut order: Vec<&Arrow> = arrows.collect();
    order.sort_by_key(|a| a.obs.ts);
    for a in order {
        let o = &a.obs;
        let (addr, answered) = if toward_server(a) {
            match target_addr(a) {
                Some(addr) => (addr, false),
                None => continue,
            }
        } else {
            // Who refused a client's message has a lane, but answered nothing.
            (source_addr(a), o.unreachable().is_none())
        };
        match lanes.iter_mut().find(|l| l.addr == addr) {
            Some(l) => {
                l.answered |= answered;
                if answered && l.mac.is_none() {
                    l.mac = o.src_mac.as_ref().map(wire::frame::mac_to_string);
                }
            }
            None => lanes.push(Lane {
                addr,
                mac: answered
                    .then(|| o.src_mac.as_ref().map(wire::frame::mac_to_string))
                    .flatten(),
                answered,
            }),
        }
    }
    lanes
}

/// Whether the arrow goes from the client toward a server: a client's
/// message, or an ICMP error about a server's reply (sent back toward that
/// server by the client's side).
fn toward_server(a: &Arrow) -> bool {
    a.obs.from_client() != a.obs.unreachable().is_some()
}

/// Where an arrow toward the client comes from: a reply's server, or who
/// sent an ICMP error about the client's message.
fn source_addr(a: &Arrow) -> Ipv4Addr {
    match a.obs.unreachable() {
        Some((reporter, _)) if a.obs.from_client() => reporter,
        _ => a.obs.server(),
    }
}

/// The server a client message is for: the one it names (option 54), or the
/// one it is unicast to; `None` for a broadcast to any server. An ICMP
/// error about a reply is for the reply's server.
fn target_addr(a: &Arrow) -> Option<Ipv4Addr> {
    let o = &a.obs;
    if o.unreachable().is_some() {
        return Some(o.server());
    }
    o.server_id
        .or((!o.broadcast_dst() && !o.dst_ip.is_unspecified()).then_some(o.dst_ip))
}

fn target(a: &Arrow, lanes: &[Lane]) -> Target {
    match target_addr(a).and_then(|t| lanes.iter().position(|l| l.addr == t)) {
        Some(i) => Target::Lane(i),
        None => Target::All,
    }
}

/// The arrow's text: message type and the address it carries; for an ICMP
/// error, what its code says.
fn label(a: &Arrow) -> String {
    match a.obs.unreachable() {
        Some((_, code)) => format!("ICMP {}", wire::frame::unreachable_name(code)),
        None => a.obs.ladder_label(),
    }
}

/// Short notes under an arrow, and whether each is a problem.
fn notes(a: &Arrow, ctx: &Ctx<'_>) -> Vec<(String, bool)> {
    let o = &a.obs;
    let mut v: Vec<(String, bool)> = Vec::new();
    if o.unreachable().is_some() {
        // An ICMP error: what it quotes (its DHCP fields are the quote's).
        v.push((format!("quoting {}", o.ladder_label()), true));
        if a.frames.len() > 1 {
            v.push((format!("seen {}×", a.frames.len()), false));
        }
        return v;
    }
    if o.from_client() {
        v.push((format!("secs {}", o.secs), false));
        if a.retransmission {
            v.push(("retransmission".into(), false));
        }
        if o.broadcast() {
            v.push(("broadcast flag".into(), false));
        }
        if o.relayed_request() {
            v.push((format!("via relay {}", o.giaddr), false));
        }
        if a.unanswered {
            v.push(("no answer".into(), true));
        }
    } else {
        if a.dropped_by_rom {
            v.push(("names no boot item: the ROM drops it".into(), true));
        }
        if let Some(l) = o.lease {
            v.push((format!("lease {}", wire::dhcp::value::Duration(l)), false));
        }
        if o.to_relay() {
            v.push((format!("to relay {}", o.dst_ip), false));
        } else if !o.broadcast_dst() {
            v.push((format!("unicast to {}", o.dst_ip), false));
        }
        if let Some(full) = o.message() {
            let mut m: String = full.chars().take(48).collect();
            if m.len() < full.len() {
                m.push('…');
            }
            v.push((format!("“{m}”"), true));
        }
    }
    for c in bad_checksums(a, ctx) {
        v.push((format!("UDP checksum {c}"), true));
    }
    let anomalies: usize = a
        .frames
        .iter()
        .filter_map(|f| ctx.frames.get(f))
        .map(|f| f.anomalies)
        .max()
        .unwrap_or(o.anomalies().len());
    if anomalies > 0 {
        v.push((
            format!(
                "{anomalies} anomal{}",
                if anomalies == 1 { "y" } else { "ies" }
            ),
            true,
        ));
    }
    if a.frames.len() > 1 {
        v.push((format!("seen {}×", a.frames.len()), false));
    }
    v
}

/// Checksum classes of the arrow's frames that a strict receiver drops.
fn bad_checksums(a: &Arrow, ctx: &Ctx<'_>) -> Vec<&'static str> {
    let mut v: Vec<&'static str> = a
        .frames
        .iter()
        .filter_map(|f| ctx.frames.get(f))
        .map(|f| f.checksum)
        .filter(|c| matches!(*c, "partial" | "invalid"))
        .collect();
    if ctx.frames.get(&a.frames[0]).is_none() {
        let c = a.obs.udp_checksum;
        if !c.accepted_by_strict_receiver() && c != wire::UdpChecksum::Unchecked {
            v.push(c.name());
        }
    }
    v.sort_unstable();
    v.dedup();
    v
}

fn kind_class(a: &Arrow, ctx: &Ctx<'_>) -> &'static str {
    let o = &a.obs;
    if o.unreachable().is_some() {
        "icmp"
    } else if o.kind == Some(MessageType::Nak) {
        "nak"
    } else if !bad_checksums(a, ctx).is_empty() {
        "bad"
    } else if o.from_client() {
        "req"
    } else {
        "rep"
    }
}

fn direction(a: &Arrow, lanes: &[Lane]) -> String {
    if toward_server(a) {
        match target(a, lanes) {
            Target::Lane(i) => format!("client → {}", lanes[i].addr),
            Target::All => "client → all servers (broadcast)".into(),
        }
    } else {
        format!("{} → client", source_addr(a))
    }
}

/// Assigns ids to arrows (`{prefix}p{n}`), draws the ladder and its table,
/// and appends each arrow's packet data (`"id": {…}`) to `data`.
pub fn render(
    chaddr: &HwAddr,
    packets: &ClientPackets,
    ctx: &Ctx<'_>,
    next_id: &mut usize,
    prefix: &str,
    data: &mut Vec<(String, String)>,
    frame_ids: &mut HashMap<FrameRef, String>,
) -> Ladder {
    let lanes = lanes(packets);
    let n_lanes = lanes.len().max(1);
    let gap = match n_lanes {
        1 => 330.0,
        2 | 3 => 280.0,
        _ => 230.0,
    };
    let lane_x = |i: usize| CLIENT_X + gap * (i as f64 + 1.0);
    let width = lane_x(n_lanes - 1) + 130.0;
    let n_arrows: usize = packets.bands.iter().map(|b| b.arrows.len()).sum();
    let height = HEAD_H + packets.bands.len() as f64 * BAND_H + n_arrows as f64 * ROW_H + 16.0;
    let t0 = packets
        .bands
        .iter()
        .flat_map(|b| b.arrows.first())
        .map(|a| a.obs.ts)
        .min()
        .unwrap_or(Timestamp(0));

    let mut svg = String::with_capacity(4096 + n_arrows * 900);
    // One ladder per client in a case: its MAC keeps the ids unique.
    let who: String = chaddr
        .to_string()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect();
    let title_id = format!("{prefix}-{who}-title");
    let desc_id = format!("{prefix}-{who}-desc");
    let servers: Vec<String> = lanes.iter().map(|l| l.addr.to_string()).collect();
    let _ = write!(
        svg,
        "<svg class=\"ladder\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} {height}\" \
         width=\"{width}\" height=\"{height}\" role=\"group\" aria-labelledby=\"{title_id} {desc_id}\">\
         <title id=\"{title_id}\">Ladder diagram of {}: {n_arrows} message{} in {} transaction{}</title>\
         <desc id=\"{desc_id}\">The client on the left{}; time runs downwards. Each arrow is a message; \
         select one (Enter) to see the decoded packet. The table after the diagram lists the same messages.</desc>",
        Esc(&chaddr.to_string()),
        plural(n_arrows),
        packets.bands.len(),
        plural(packets.bands.len()),
        if servers.is_empty() {
            ", no server answered".to_string()
        } else {
            format!(
                ", server{} {} to the right",
                plural(servers.len()),
                servers.join(", ")
            )
        },
    );

    // Lane heads and lines.
    let bottom = height - 8.0;
    lane_head(
        &mut svg,
        CLIENT_X,
        "client",
        &chaddr.to_string(),
        "lane-client",
    );
    let _ = write!(
        svg,
        "<line class=\"lane-line\" x1=\"{CLIENT_X}\" y1=\"{HEAD_H}\" x2=\"{CLIENT_X}\" y2=\"{bottom}\"/>"
    );
    if lanes.is_empty() {
        lane_head(
            &mut svg,
            lane_x(0),
            "any server",
            "none answered",
            "lane-none",
        );
    }
    for (i, l) in lanes.iter().enumerate() {
        let sub = match (&l.mac, l.answered) {
            (Some(m), _) => m.clone(),
            (None, true) => "server".into(),
            (None, false) => "named, never answered".into(),
        };
        lane_head(
            &mut svg,
            lane_x(i),
            &l.addr.to_string(),
            &sub,
            if l.answered {
                "lane-server"
            } else {
                "lane-none"
            },
        );
    }
    for i in 0..n_lanes {
        let x = lane_x(i);
        let _ = write!(
            svg,
            "<line class=\"lane-line\" x1=\"{x}\" y1=\"{HEAD_H}\" x2=\"{x}\" y2=\"{bottom}\"/>"
        );
    }

    let mut table = String::with_capacity(1024 + n_arrows * 400);
    table.push_str(
        "<table class=\"steps\"><thead><tr><th scope=\"col\">time</th><th scope=\"col\">direction</th>\
         <th scope=\"col\">message</th><th scope=\"col\">xid</th><th scope=\"col\">notes</th>\
         <th scope=\"col\">frame</th></tr></thead><tbody>",
    );

    let mut y = HEAD_H;
    for band in &packets.bands {
        let (outcome, state, what) = match &band.summary {
            Some(s) => {
                let what = match (s.address, s.server) {
                    (Some(a), Some(sv)) => format!(" · {a} from {sv}"),
                    (Some(a), None) => format!(" · {a}"),
                    _ => String::new(),
                };
                (s.outcome.name(), s.state.name(), what)
            }
            // A PXE ROM's exchange with boot servers, after its lease.
            None if band.arrows.iter().any(|a| a.obs.boot_server_exchange()) => {
                let answered = band.arrows.iter().any(|a| {
                    !a.obs.from_client() && !a.dropped_by_rom && a.obs.unreachable().is_none()
                });
                (
                    if answered { "answered" } else { "no answer" },
                    "PXE boot server",
                    String::new(),
                )
            }
            None => ("unknown", "unknown", String::new()),
        };
        let class = outcome_class(band.summary.as_ref().map(|s| s.outcome));
        let _ = write!(
            svg,
            "<g class=\"band {class}\"><rect class=\"band-bg\" x=\"0\" y=\"{y}\" width=\"{width}\" height=\"{BAND_H}\"/>\
             <rect class=\"band-mark\" x=\"0\" y=\"{y}\" width=\"5\" height=\"{BAND_H}\"/>\
             <text x=\"14\" y=\"{}\"><tspan class=\"band-xid\">xid 0x{:08x}</tspan>  {} · <tspan class=\"band-outcome\">{}</tspan>{}</text></g>",
            y + 19.0,
            band.xid,
            Esc(state),
            Esc(outcome),
            Esc(&what)
        );
        let _ = write!(
            table,
            "<tr class=\"band-row {class}\"><th colspan=\"6\" scope=\"rowgroup\">xid 0x{:08x} · {} · {}{}</th></tr>",
            band.xid,
            Esc(state),
            Esc(outcome),
            Esc(&what)
        );
        y += BAND_H;
        for a in &band.arrows {
            *next_id += 1;
            let id = format!("{prefix}p{}", *next_id);
            for f in &a.frames {
                frame_ids.entry(*f).or_insert_with(|| id.clone());
            }
            draw_arrow(
                &mut svg, a, &id, y, width, t0, &lanes, n_lanes, &lane_x, ctx,
            );
            table_row(&mut table, a, &id, t0, &lanes, ctx);
            data.push((id, packet_data(a, t0, ctx)));
            y += ROW_H;
        }
    }
    svg.push_str("</svg>");
    table.push_str("</tbody></table>");
    Ladder {
        svg,
        table,
        arrows: n_arrows,
        width,
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn lane_head(svg: &mut String, x: f64, top: &str, sub: &str, class: &str) {
    let _ = write!(
        svg,
        "<g class=\"lane-head {class}\"><rect x=\"{}\" y=\"6\" width=\"170\" height=\"42\" rx=\"6\"/>\
         <text x=\"{x}\" y=\"24\" text-anchor=\"middle\" class=\"lane-name\">{}</text>\
         <text x=\"{x}\" y=\"40\" text-anchor=\"middle\" class=\"lane-sub\">{}</text></g>",
        x - 85.0,
        Esc(top),
        Esc(sub)
    );
}

#[allow(clippy::too_many_arguments)]
fn draw_arrow(
    svg: &mut String,
    a: &Arrow,
    id: &str,
    y: f64,
    width: f64,
    t0: Timestamp,
    lanes: &[Lane],
    n_lanes: usize,
    lane_x: &dyn Fn(usize) -> f64,
    ctx: &Ctx<'_>,
) {
    let o = &a.obs;
    let kind = kind_class(a, ctx);
    let (x1, x2, label_end, stops): (f64, f64, f64, Vec<f64>) = if toward_server(a) {
        match target(a, lanes) {
            Target::Lane(i) => (CLIENT_X, lane_x(i), lane_x(i), Vec::new()),
            Target::All => (
                CLIENT_X,
                lane_x(n_lanes - 1),
                lane_x(0),
                (0..n_lanes.saturating_sub(1)).map(lane_x).collect(),
            ),
        }
    } else {
        let from = source_addr(a);
        let i = lanes.iter().position(|l| l.addr == from).unwrap_or(0);
        (lane_x(i), CLIENT_X, CLIENT_X, Vec::new())
    };
    let ly = y + 27.0;
    let mut classes = format!("arrow {kind}");
    if a.retransmission {
        classes.push_str(" retx");
    }
    if a.unanswered {
        classes.push_str(" unanswered");
    }
    let ev = a.frames.iter().find_map(|f| ctx.evidence.get(f));
    if let Some(sev) = ev {
        let _ = write!(classes, " evidence ev-{sev}");
    }
    let frames_attr: Vec<String> = a
        .frames
        .iter()
        .map(|f| format!("{}:{}", f.file, f.frame))
        .collect();
    let notes = notes(a, ctx);
    let rel = rel_time(t0, o.ts);
    let spoken = format!(
        "{rel}: {} {} xid 0x{:08x}{}; {}",
        direction(a, lanes),
        label(a),
        o.xid,
        if notes.is_empty() {
            String::new()
        } else {
            format!(
                " ({})",
                notes
                    .iter()
                    .map(|(n, _)| n.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        },
        frame_name(ctx.files, a.frames[0]),
    );
    let _ = write!(
        svg,
        "<g class=\"{classes}\" id=\"{id}\" data-p=\"{id}\" data-frames=\"{}\" tabindex=\"0\" role=\"button\" aria-label=\"{}\">\
         <title>{}</title>\
         <rect class=\"hit\" x=\"2\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"4\"/>\
         <text class=\"time\" x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
        frames_attr.join(" "),
        Esc(&spoken),
        Esc(&spoken),
        y + 2.0,
        width - 4.0,
        ROW_H - 4.0,
        TIME_W,
        ly + 4.0,
        Esc(&rel)
    );
    let dir = if x2 > x1 { 1.0 } else { -1.0 };
    let tip = x2 - dir * 2.0;
    let _ = write!(
        svg,
        "<line class=\"shaft\" x1=\"{x1}\" y1=\"{ly}\" x2=\"{}\" y2=\"{ly}\"/>\
         <polygon class=\"head\" points=\"{tip},{ly} {},{} {},{}\"/>",
        tip - dir * 8.0,
        tip - dir * 11.0,
        ly - 5.5,
        tip - dir * 11.0,
        ly + 5.5,
    );
    for s in stops {
        let _ = write!(
            svg,
            "<circle class=\"stop\" cx=\"{s}\" cy=\"{ly}\" r=\"3.5\"/>"
        );
    }
    if a.unanswered {
        let _ = write!(
            svg,
            "<g class=\"lost\"><circle cx=\"{}\" cy=\"{ly}\" r=\"8\"/>\
             <path d=\"M{} {} l7 7 M{} {} l-7 7\"/></g>",
            x2 + 14.0,
            x2 + 10.5,
            ly - 3.5,
            x2 + 17.5,
            ly - 3.5
        );
    }
    // The label sits over the first segment of the arrow.
    let (lx_a, lx_b) = (x1.min(label_end), x1.max(label_end));
    let mid = (lx_a + lx_b) / 2.0;
    let _ = write!(
        svg,
        "<text class=\"label\" x=\"{mid}\" y=\"{}\" text-anchor=\"middle\"><tspan class=\"msg\">{}</tspan> \
         <tspan class=\"xid\">0x{:08x}</tspan></text>",
        ly - 7.0,
        Esc(&label(a)),
        o.xid
    );
    if !notes.is_empty() {
        let _ = write!(
            svg,
            "<text class=\"notes\" x=\"{}\" y=\"{}\">",
            lx_a + 6.0,
            ly + 16.0
        );
        for (i, (n, bad)) in notes.iter().enumerate() {
            let _ = write!(
                svg,
                "{}<tspan class=\"{}\">{}</tspan>",
                if i > 0 { " · " } else { "" },
                if *bad { "note-bad" } else { "note" },
                Esc(n)
            );
        }
        svg.push_str("</text>");
    }
    svg.push_str("</g>");
}

fn table_row(
    table: &mut String,
    a: &Arrow,
    id: &str,
    t0: Timestamp,
    lanes: &[Lane],
    ctx: &Ctx<'_>,
) {
    let notes: Vec<String> = notes(a, ctx).into_iter().map(|(n, _)| n).collect();
    let frames: Vec<String> = a.frames.iter().map(|f| frame_name(ctx.files, *f)).collect();
    let _ = write!(
        table,
        "<tr class=\"{}\"><td class=\"num\">{}</td><td>{}</td><td>{}</td><td class=\"mono\">0x{:08x}</td><td>{}</td>\
         <td><button type=\"button\" class=\"open\" data-p=\"{id}\">{}</button></td></tr>",
        kind_class(a, ctx),
        Esc(&rel_time(t0, a.obs.ts)),
        Esc(&direction(a, lanes)),
        Esc(&label(a)),
        a.obs.xid,
        Esc(&notes.join(", ")),
        Esc(&frames.join(", "))
    );
}

/// The packet data the script shows when the arrow is opened:
/// `{"title", "time", "frames": [{"name", "pkt", "hl"}]}` where `pkt` is the
/// frame's `PacketJson` and `hl` the fields to highlight.
fn packet_data(a: &Arrow, t0: Timestamp, ctx: &Ctx<'_>) -> String {
    let mut s = String::with_capacity(2048 * a.frames.len());
    let title = match a.obs.unreachable() {
        Some(_) => format!(
            "{} · quoting {} · xid 0x{:08x}",
            label(a),
            a.obs.kind_name(),
            a.obs.xid
        ),
        None => format!("{} · xid 0x{:08x}", a.obs.kind_name(), a.obs.xid),
    };
    let _ = write!(
        s,
        "{{\"title\":{},\"rel\":{},\"frames\":[",
        serde_json::to_string(&title).unwrap_or_default(),
        serde_json::to_string(&rel_time(t0, a.obs.ts)).unwrap_or_default()
    );
    for (i, f) in a.frames.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        let pkt = ctx.frames.get(f).map_or("null", |i| i.json.as_str());
        let mut hl: Vec<serde_json::Value> = Vec::new();
        let mut keys: Vec<&'static str> = Vec::new();
        let list = ctx.highlights.get(f).map_or(&[][..], Vec::as_slice);
        for (k, _) in list {
            if !keys.contains(k) {
                keys.push(k);
            }
        }
        for k in keys {
            let why: Vec<&str> = list
                .iter()
                .filter(|(kk, _)| *kk == k)
                .map(|(_, w)| *w)
                .collect();
            hl.push(serde_json::json!({
                "k": k,
                "why": why,
                "name": super::highlight::option_name(k),
            }));
        }
        let _ = write!(
            s,
            "{{\"name\":{},\"pkt\":{pkt},\"hl\":{}}}",
            serde_json::to_string(&frame_name(ctx.files, *f)).unwrap_or_default(),
            serde_json::Value::Array(hl)
        );
    }
    s.push_str("]}");
    s
}
