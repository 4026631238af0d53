//! Arguments shared by the commands that send: how packets leave, and what
//! to change in the request.

use std::net::Ipv4Addr;
use std::time::Duration;

use clap::Args;
use probe::request::{Edit, Spec};

use crate::args::{parse_mac, parse_mac48, parse_xid};

/// The pause between two packets sent: at least 10 ms.
fn parse_interval(s: &str) -> Result<Duration, String> {
    let d = parse_duration(s)?;
    if d < Duration::from_millis(10) {
        return Err(format!(
            "{s:?} is below 10ms: the rate limit bounds every run"
        ));
    }
    Ok(d)
}

pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let (num, unit) = match s.find(|c: char| !c.is_ascii_digit() && c != '.') {
        Some(i) => s.split_at(i),
        None => (s, "s"),
    };
    let v: f64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a duration (e.g. 5s, 500ms)"))?;
    let secs = match unit {
        "s" | "" => v,
        "ms" => v / 1000.0,
        "m" | "min" => v * 60.0,
        _ => return Err(format!("{s:?}: use s, ms or m")),
    };
    if !(0.0..=3600.0).contains(&secs) {
        return Err(format!("{s:?} is out of range (0 to 1 hour)"));
    }
    Ok(Duration::from_secs_f64(secs))
}

fn parse_flags(s: &str) -> Result<u16, String> {
    match s {
        "broadcast" | "b" | "B" => Ok(0x8000),
        "0" | "none" | "unicast" => Ok(0),
        _ => parse_xid(s)
            .and_then(|v| u16::try_from(v).map_err(|_| format!("{s:?} does not fit in 16 bits"))),
    }
}

fn parse_option(s: &str) -> Result<(u8, Vec<u8>), String> {
    let (k, v) = s
        .split_once('=')
        .ok_or_else(|| format!("{s:?}: expected CODE=VALUE or NAME=VALUE"))?;
    let c = wire::dhcp::parse::code(k.trim())?;
    Ok((c, wire::dhcp::parse::value(c, v)?))
}

fn parse_code(s: &str) -> Result<u8, String> {
    wire::dhcp::parse::code(s.trim())
}

/// How packets leave and how long to wait.
#[derive(Debug, Clone, Args)]
pub struct Transport {
    /// Send raw Ethernet frames on this interface (any source MAC; the
    /// interface is put in promiscuous mode while listening).
    #[arg(long, short = 'i', value_name = "IFACE")]
    pub iface: Option<String>,
    /// Send to this server (unicast). With --iface, also unicast in raw frames.
    #[arg(long, value_name = "IP")]
    pub server: Option<Ipv4Addr>,
    /// Send as a relay agent: from port 67 with giaddr set, unicast to --server.
    #[arg(long, requires = "server")]
    pub relay: bool,
    /// Use a UDP socket on port 68 instead of raw frames (with --iface: bound
    /// to it; --server alone uses one too). Requests sent through it carry the
    /// BROADCAST flag, as a reply unicast to yiaddr never reaches the socket
    /// (not a RELEASE or DECLINE, not with --flags, nor as a relay: --server --relay).
    #[arg(long, conflicts_with = "relay")]
    pub udp: bool,
    /// Source MAC of raw frames (default: the request's chaddr).
    #[arg(long, value_name = "MAC", value_parser = parse_mac48)]
    pub src_mac: Option<wire::HwAddr>,
    /// How long to collect replies after each request.
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Refuse to send more than this many packets in one run (at most 10000).
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub max_packets: u32,
    /// At least this long between two packets sent (10ms at least: the rate
    /// limit cannot be switched off).
    #[arg(long, default_value = "100ms", value_parser = parse_interval)]
    pub interval: Duration,
    /// Write everything sent and received to this pcapng file.
    #[arg(short = 'w', long = "write", value_name = "FILE")]
    pub write: Option<std::path::PathBuf>,
}

/// Changes to the request's fields and options.
#[derive(Debug, Clone, Args, Default)]
pub struct Overrides {
    /// Client hardware address (default: the interface's MAC).
    #[arg(long, value_name = "MAC", value_parser = parse_mac)]
    pub chaddr: Option<wire::HwAddr>,
    /// Transaction id (hex; default: a fresh random one).
    #[arg(long, value_parser = parse_xid)]
    pub xid: Option<u32>,
    #[arg(long)]
    pub secs: Option<u16>,
    /// `broadcast`, `0`, or a hex value.
    #[arg(long, value_parser = parse_flags)]
    pub flags: Option<u16>,
    #[arg(long)]
    pub hops: Option<u8>,
    #[arg(long, value_name = "IP")]
    pub ciaddr: Option<Ipv4Addr>,
    #[arg(long, value_name = "IP")]
    pub giaddr: Option<Ipv4Addr>,
    /// Requested address (option 50).
    #[arg(long, value_name = "IP")]
    pub requested: Option<Ipv4Addr>,
    /// Server identifier (option 54).
    #[arg(long, value_name = "IP")]
    pub server_id: Option<Ipv4Addr>,
    /// Add or replace an option: CODE=VALUE or NAME=VALUE, typed by the
    /// option (e.g. 60=PXEClient:Arch:00000, 82=circuit-id=eth0, 55=1,3,6,
    /// 61=hw:aa:bb:cc:dd:ee:ff); hex:… for raw bytes.
    #[arg(long = "option", short = 'o', value_name = "CODE=VALUE", value_parser = parse_option)]
    pub options: Vec<(u8, Vec<u8>)>,
    /// Remove an option (number or name).
    #[arg(long = "no-option", value_name = "CODE", value_parser = parse_code)]
    pub no_options: Vec<u8>,
}

impl Overrides {
    /// Applies the overrides to a spec (fields, then option edits).
    pub fn apply_spec(&self, s: &mut Spec) {
        if let Some(c) = self.chaddr {
            s.chaddr = c;
        }
        if let Some(x) = self.xid {
            s.xid = x;
        }
        if let Some(v) = self.secs {
            s.secs = v;
        }
        if let Some(v) = self.flags {
            s.flags = v;
        }
        if let Some(v) = self.hops {
            s.hops = v;
        }
        if let Some(v) = self.ciaddr {
            s.ciaddr = v;
        }
        if let Some(v) = self.giaddr {
            s.giaddr = v;
        }
        if self.requested.is_some() {
            s.requested = self.requested;
        }
        if self.server_id.is_some() {
            s.server_id = self.server_id;
        }
        s.edits
            .extend(self.options.iter().map(|(c, v)| Edit::Set(*c, v.clone())));
        s.edits
            .extend(self.no_options.iter().map(|c| Edit::Remove(*c)));
    }

    /// Applies the overrides to a captured message (for replay), keeping
    /// option 82 the last option.
    pub fn apply_message(&self, m: &mut wire::Message<'static>) {
        if let Some(c) = self.chaddr {
            m.set_chaddr(c.as_bytes());
        }
        if let Some(x) = self.xid {
            m.xid = x;
        }
        if let Some(v) = self.secs {
            m.secs = v;
        }
        if let Some(v) = self.flags {
            m.flags = v;
        }
        if let Some(v) = self.hops {
            m.hops = v;
        }
        if let Some(v) = self.ciaddr {
            m.ciaddr = v;
        }
        if let Some(v) = self.giaddr {
            m.giaddr = v;
        }
        if let Some(v) = self.requested {
            m.set_option(wire::dhcp::code::REQUESTED_IP_ADDRESS, v.octets().to_vec());
        }
        if let Some(v) = self.server_id {
            m.set_option(wire::dhcp::code::SERVER_IDENTIFIER, v.octets().to_vec());
        }
        for (c, v) in &self.options {
            m.set_option(*c, v.clone());
        }
        for c in &self.no_options {
            m.remove_option(*c);
        }
        probe::request::relay_agent_information_last(m);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_flags_and_options() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2"), Ok(Duration::from_secs(2)));
        assert!(parse_duration("2h").is_err());
        assert_eq!(parse_flags("broadcast"), Ok(0x8000));
        assert_eq!(parse_flags("0x8000"), Ok(0x8000));
        assert_eq!(
            parse_option("60=PXEClient:Arch:00000"),
            Ok((60, b"PXEClient:Arch:00000".to_vec()))
        );
        assert_eq!(
            parse_option("server-identifier=10.0.0.1"),
            Ok((54, vec![10, 0, 0, 1]))
        );
        assert!(parse_option("60").is_err());
    }

    /// Guards RFC 3046 §2.1 in `replay`: a captured relayed request (option
    /// 82 last) with `-o 60=…` added keeps option 82 the last option; the
    /// new option used to be put after it.
    #[test]
    fn replay_keeps_relay_agent_information_last() {
        use wire::dhcp::{code, MessageType, Op};
        let mut m = wire::Message::new(Op::BootRequest, 1, &[2, 0, 0, 0, 0, 1]);
        m.set_option(
            code::DHCP_MESSAGE_TYPE,
            vec![u8::from(MessageType::Discover)],
        );
        m.set_option(code::RELAY_AGENT_INFORMATION, vec![1, 1, b'x']);
        let o = Overrides {
            options: vec![(code::VENDOR_CLASS_IDENTIFIER, b"PXEClient".to_vec())],
            ..Overrides::default()
        };
        o.apply_message(&mut m);
        let codes: Vec<u8> = m.options.iter().map(|o| o.code).collect();
        assert_eq!(codes, [53, 60, 82, 255]);
    }
}
