//! The human form of one decoded DHCP packet: a summary line, and with
//! `-v` every field and option.

use std::fmt::Write as _;

use wire::dhcp::{self, code, value, MessageType, Region};
use wire::{DhcpFrame, Message, UdpChecksum};

use crate::packet_json::op_name;
use crate::style::{Paint, Style};

/// `   12  19:16:03.123456  0.0.0.0:68 > 255.255.255.255:67  DHCPDISCOVER  xid 0x00003d1d  chaddr …`
pub fn line(number: u64, ts: capture::Timestamp, p: &DhcpFrame<'_>, style: Style) -> String {
    let f = &p.frame;
    let mut s = format!(
        "{number:>6}  {}  {}:{} > {}:{}",
        ts.time_of_day(),
        f.ip.src,
        f.udp.src_port,
        f.ip.dst,
        f.udp.dst_port
    );
    if !f.link.vlans.is_empty() {
        let v: Vec<String> = f.link.vlans.iter().map(|v| v.to_string()).collect();
        let _ = write!(s, " vlan {}", v.join("."));
    }
    match &p.message {
        Some(m) => {
            let kind = m
                .message_type()
                .map_or_else(|| op_name(m.op), |t| t.name().into_owned());
            let paint = match m.message_type() {
                Some(MessageType::Nak | MessageType::Decline) => Paint::Red,
                Some(MessageType::Ack) => Paint::Green,
                _ => Paint::Bold,
            };
            let _ = write!(
                s,
                "  {}  xid 0x{:08x}  chaddr {}",
                style.paint(paint, kind),
                m.xid,
                m.chaddr()
            );
            key_fields(&mut s, m);
        }
        None => {
            // What the bytes there are still tell.
            let _ = write!(s, "  (incomplete DHCP header: {} bytes)", f.payload.len());
            let (xid, chaddr) = wire::dhcp::header_ids(f.payload);
            if let Some(xid) = xid {
                let _ = write!(s, "  xid 0x{xid:08x}");
            }
            if let Some(chaddr) = chaddr.filter(|c| !c.as_bytes().is_empty()) {
                let _ = write!(s, "  chaddr {chaddr}");
            }
        }
    }
    let csum = f.udp.checksum;
    let text = format!("csum {}", csum.name());
    let _ = write!(
        s,
        "  {}",
        match csum {
            UdpChecksum::Valid | UdpChecksum::Zero | UdpChecksum::Unchecked =>
                style.paint(Paint::Dim, text),
            UdpChecksum::Partial { .. } => style.paint(Paint::Yellow, text),
            UdpChecksum::Invalid { .. } => style.paint(Paint::Red, text),
        }
    );
    for a in &p.anomalies {
        let _ = write!(
            s,
            "\n        {} at byte {}: {}",
            style.paint(Paint::Yellow, "!"),
            a.offset,
            a.kind
        );
    }
    s
}

/// The fields that matter for the message's type, `name value` pairs.
fn key_fields(s: &mut String, m: &Message<'_>) {
    let mut kv = |k: &str, v: String| {
        let _ = write!(s, "  {k} {v}");
    };
    if m.secs != 0 || m.message_type().is_some_and(MessageType::is_from_client) {
        kv("secs", m.secs.to_string());
    }
    if m.broadcast() {
        kv("flags", "B".into());
    }
    if m.hops != 0 {
        kv("hops", m.hops.to_string());
    }
    for (name, a) in [
        ("ciaddr", m.ciaddr),
        ("yiaddr", m.yiaddr),
        ("siaddr", m.siaddr),
        ("giaddr", m.giaddr),
    ] {
        if !a.is_unspecified() {
            kv(name, a.to_string());
        }
    }
    if let Some(ip) = m.requested_ip() {
        kv("requested", ip.to_string());
    }
    if let Some(ip) = m.server_id() {
        kv("server-id", ip.to_string());
    }
    if let Some(t) = m.lease_time() {
        kv("lease", value::Duration(t).to_string());
    }
    if let Some(msg) = m.option(code::MESSAGE) {
        kv("message", format!("\"{}\"", value::escape(&msg)));
    }
    if m.has_option(code::RELAY_AGENT_INFORMATION) {
        kv("option82", "yes".into());
    }
}

/// Every field and option, indented under the line.
pub fn details(p: &DhcpFrame<'_>) -> String {
    let mut s = String::new();
    let f = &p.frame;
    let mac = |m: &Option<[u8; 6]>| {
        m.as_ref()
            .map_or_else(|| "-".to_string(), wire::frame::mac_to_string)
    };
    let _ = writeln!(
        s,
        "        ether {} > {}  ip ttl {} id 0x{:04x}  udp length {} checksum {}",
        mac(&f.link.src_mac),
        mac(&f.link.dst_mac),
        f.ip.ttl,
        f.ip.identification,
        f.udp.length,
        f.udp.checksum
    );
    let Some(m) = &p.message else { return s };
    let _ = writeln!(
        s,
        "        op {}  htype {}  hlen {}  hops {}  xid 0x{:08x}  secs {}  flags 0x{:04x}{}",
        op_name(m.op),
        m.htype,
        m.hlen,
        m.hops,
        m.xid,
        m.secs,
        m.flags,
        if m.broadcast() { " (broadcast)" } else { "" }
    );
    let _ = writeln!(
        s,
        "        ciaddr {}  yiaddr {}  siaddr {}  giaddr {}  chaddr {}",
        m.ciaddr,
        m.yiaddr,
        m.siaddr,
        m.giaddr,
        m.chaddr()
    );
    // The field's own bytes up to its first NUL (not the lossy text of
    // `server_name`, which would show a stray byte as U+FFFD).
    let show = |field: &[u8], region: Region| {
        if m.overloads(region) {
            return "(holds options)".to_string();
        }
        let end = field.iter().position(|&c| c == 0).unwrap_or(field.len());
        format!("\"{}\"", value::escape(&field[..end]))
    };
    let _ = writeln!(
        s,
        "        sname {}  file {}",
        show(&m.sname, Region::Sname),
        show(&m.file, Region::File)
    );
    let ctx = m.decode_context();
    let mut seen = [false; 256];
    for o in m.options.iter().filter(|o| !o.is_marker()) {
        if std::mem::replace(&mut seen[usize::from(o.code)], true) {
            continue;
        }
        let data = m.option(o.code).expect("present");
        let len = data.len();
        let v = value::decode(o.code, data, &ctx);
        let region = match o.region {
            Region::Options => String::new(),
            r => format!(" [in {}]", r.name()),
        };
        let _ = writeln!(
            s,
            "        option {:>3} {} ({len}){region}: {v}",
            o.code,
            dhcp::name(o.code)
        );
    }
    s
}
