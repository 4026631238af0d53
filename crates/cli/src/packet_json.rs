//! The JSON form of one decoded DHCP packet (`decode --json`, `probe --json`).
//! Documented in the README; field names are public API.

use serde::Serialize;
use wire::dhcp::{self, value, Region};
use wire::{Anomaly, DhcpFrame, Message};

#[derive(Serialize)]
pub struct Endpoint {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mac: Option<String>,
    pub ip: String,
    pub port: u16,
}

#[derive(Serialize)]
pub struct OptionJson<'a> {
    pub code: u8,
    pub name: std::borrow::Cow<'static, str>,
    pub value: value::Value<'a>,
    /// Byte offset of the option's code byte in the frame.
    pub offset: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<&'static str>,
    /// The option's bytes in hex, when its value holds text that is not
    /// UTF-8, at the top or in a sub-option or user class (a JSON string
    /// cannot carry those bytes: `value` has U+FFFD for them).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hex: Option<String>,
}

#[derive(Serialize)]
pub struct AnomalyJson {
    pub offset: usize,
    pub code: &'static str,
    pub message: String,
}

impl From<&Anomaly> for AnomalyJson {
    fn from(a: &Anomaly) -> AnomalyJson {
        AnomalyJson {
            offset: a.offset,
            code: a.kind.code(),
            message: a.kind.to_string(),
        }
    }
}

#[derive(Serialize)]
pub struct PacketJson<'a> {
    /// The capture file it came from.
    pub capture: &'a str,
    /// 1-based frame number in that file.
    pub frame: u64,
    pub time: String,
    pub epoch: f64,
    pub src: Endpoint,
    pub dst: Endpoint,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub vlan: Vec<u16>,
    pub udp_checksum: &'static str,
    pub length: usize,
    #[serde(flatten)]
    pub message: Option<MessageJson<'a>>,
    /// Without a whole header (cut by the snap length, or by an ICMP
    /// error's quote): the xid and `chaddr` its bytes still hold.
    #[serde(flatten)]
    pub header_start: Option<HeaderStartJson>,
    pub anomalies: Vec<AnomalyJson>,
    /// Set when the frame is an ICMP destination unreachable and the rest
    /// describes the DHCP message it quotes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub icmp: Option<IcmpJson>,
}

/// The ids of a message cut inside its header, as far as its bytes reach.
#[derive(Serialize)]
pub struct HeaderStartJson {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub xid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chaddr: Option<String>,
}

/// An ICMP destination unreachable quoting the packet.
#[derive(Serialize)]
pub struct IcmpJson {
    /// Who sent the ICMP error.
    pub from: String,
    pub code: u8,
    pub name: &'static str,
}

#[derive(Serialize)]
pub struct MessageJson<'a> {
    pub op: String,
    pub htype: u8,
    pub hlen: u8,
    pub hops: u8,
    pub xid: String,
    pub secs: u16,
    pub flags: u16,
    pub broadcast: bool,
    pub ciaddr: String,
    pub yiaddr: String,
    pub siaddr: String,
    pub giaddr: String,
    pub chaddr: String,
    /// `null` when option 52 gives the field to options.
    pub sname: Option<String>,
    pub file: Option<String>,
    /// The bytes of `sname` and `file` up to the first NUL, in hex, when they
    /// are not UTF-8 (`sname` and `file` have U+FFFD for them).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sname_hex: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_hex: Option<String>,
    pub message_type: Option<String>,
    pub options: Vec<OptionJson<'a>>,
}

/// `b` in hex, if it is not UTF-8.
fn hex_unless_utf8(b: &[u8]) -> Option<String> {
    std::str::from_utf8(b).is_err().then(|| value::hex(b))
}

/// Whether `v` holds text that is not UTF-8: its own, a name's, a
/// sub-option's, an enterprise's or a user class's (the values JSON shows
/// as strings read from bytes).
fn has_text_not_utf8(v: &value::Value<'_>) -> bool {
    let bad = |b: &[u8]| std::str::from_utf8(b).is_err();
    match v {
        value::Value::Text(t) => bad(t),
        value::Value::UserClasses(c) => c.iter().any(|c| bad(c)),
        value::Value::SubOptions(subs) => subs.iter().any(|s| has_text_not_utf8(&s.value)),
        value::Value::Enterprises(e) => e.iter().any(|x| has_text_not_utf8(&x.value)),
        value::Value::Fqdn { name, .. } => bad(name),
        value::Value::Domains(names) => names.iter().any(|n| bad(n)),
        _ => false,
    }
}

pub fn op_name(op: wire::Op) -> String {
    match op {
        wire::Op::BootRequest => "BOOTREQUEST".into(),
        wire::Op::BootReply => "BOOTREPLY".into(),
        wire::Op::Unknown(v) => format!("op-{v}"),
    }
}

impl<'a> MessageJson<'a> {
    pub fn new(m: &'a Message<'a>, base: usize) -> MessageJson<'a> {
        let ctx = m.decode_context();
        let mut options = Vec::with_capacity(m.options.len());
        let mut seen = [false; 256];
        for o in m.options.iter().filter(|o| !o.is_marker()) {
            // A long option (RFC 3396) is shown once, joined, where it starts.
            if std::mem::replace(&mut seen[usize::from(o.code)], true) {
                continue;
            }
            let data = m.option(o.code).expect("present");
            let value = value::decode(o.code, data, &ctx);
            let hex = has_text_not_utf8(&value)
                .then(|| m.option(o.code).map(|d| value::hex(&d)))
                .flatten();
            options.push(OptionJson {
                code: o.code,
                name: dhcp::name(o.code),
                value,
                offset: base + o.offset,
                region: (o.region != Region::Options).then(|| o.region.name()),
                hex,
            });
        }
        MessageJson {
            op: op_name(m.op),
            htype: m.htype,
            hlen: m.hlen,
            hops: m.hops,
            xid: format!("0x{:08x}", m.xid),
            secs: m.secs,
            flags: m.flags,
            broadcast: m.broadcast(),
            ciaddr: m.ciaddr.to_string(),
            yiaddr: m.yiaddr.to_string(),
            siaddr: m.siaddr.to_string(),
            giaddr: m.giaddr.to_string(),
            chaddr: m.chaddr().to_string(),
            sname: m.server_name().map(|s| s.into_owned()),
            file: m.boot_file().map(|s| s.into_owned()),
            sname_hex: (!m.overloads(Region::Sname))
                .then(|| hex_unless_utf8(dhcp::until_nul(&m.sname)))
                .flatten(),
            file_hex: (!m.overloads(Region::File))
                .then(|| hex_unless_utf8(dhcp::until_nul(&m.file)))
                .flatten(),
            message_type: m.message_type().map(|t| t.name().into_owned()),
            options,
        }
    }
}

impl<'a> PacketJson<'a> {
    pub fn new(
        capture: &'a str,
        frame: u64,
        ts: capture::Timestamp,
        p: &'a DhcpFrame<'a>,
    ) -> PacketJson<'a> {
        let f = &p.frame;
        PacketJson {
            capture,
            frame,
            time: ts.to_string(),
            epoch: ts.secs_f64(),
            src: Endpoint {
                mac: f.link.src_mac.as_ref().map(wire::frame::mac_to_string),
                ip: f.ip.src.to_string(),
                port: f.udp.src_port,
            },
            dst: Endpoint {
                mac: f.link.dst_mac.as_ref().map(wire::frame::mac_to_string),
                ip: f.ip.dst.to_string(),
                port: f.udp.dst_port,
            },
            vlan: f.link.vlans.to_vec(),
            udp_checksum: f.udp.checksum.name(),
            length: f.payload.len(),
            message: p
                .message
                .as_ref()
                .map(|m| MessageJson::new(m, f.payload_offset)),
            header_start: p.message.is_none().then(|| {
                let (xid, chaddr) = wire::dhcp::header_ids(f.payload);
                HeaderStartJson {
                    xid: xid.map(|x| format!("0x{x:08x}")),
                    chaddr: chaddr.map(|c| c.to_string()),
                }
            }),
            anomalies: p.anomalies.iter().map(AnomalyJson::from).collect(),
            icmp: None,
        }
    }
}

/// A frame's DHCP message: its own, or the one an ICMP destination
/// unreachable quotes (with that error). `None` for any other frame.
pub fn dhcp_or_quoted(
    link: wire::LinkType,
    data: &[u8],
    orig_len: usize,
) -> Option<(DhcpFrame<'_>, Option<wire::frame::Unreachable<'_>>)> {
    match wire::packet::decode(link, data, orig_len) {
        Ok(Some(d)) => Some((d, None)),
        Err(wire::frame::Skip::NotUdp) => quoted(link, data).map(|(q, u)| (q, Some(u))),
        _ => None,
    }
}

/// The DHCP message an ICMP destination unreachable in `data` quotes (its
/// message absent when the quote stops inside its header, or before it),
/// and that error; `None` for any other frame.
pub fn quoted(
    link: wire::LinkType,
    data: &[u8],
) -> Option<(DhcpFrame<'_>, wire::frame::Unreachable<'_>)> {
    let u = wire::frame::unreachable(link, data)?;
    let q = wire::packet::decode_quoted(&u).ok()??;
    Some((q, u))
}

impl IcmpJson {
    pub fn of(u: &wire::frame::Unreachable<'_>) -> IcmpJson {
        IcmpJson {
            from: u.reporter.to_string(),
            code: u.code,
            name: u.name(),
        }
    }
}
