//! What one log line says: [`Event`], with the [`Kind`] of line and the [`Fields`] it names.

use std::fmt;
use std::net::Ipv4Addr;

use serde::{Serialize, Serializer};
use wire::{HwAddr, MessageType};

use crate::catalogue::{Cause, Confidence, Severity};
use crate::framing::Framing;
use crate::time::TimeBasis;

/// The program that wrote the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Program {
    /// ISC dhcpd (3.x and 4.x).
    Dhcpd,
    /// ISC Kea `kea-dhcp4`.
    Kea,
    /// dnsmasq (its DHCP part, `dnsmasq-dhcp`).
    Dnsmasq,
    /// ISC dhclient.
    Dhclient,
    /// busybox udhcpc.
    Udhcpc,
    /// dhcpcd.
    Dhcpcd,
    /// `dhcplens serve`.
    Dhcplens,
}

impl Program {
    pub const ALL: [Program; 7] = [
        Program::Dhcpd,
        Program::Kea,
        Program::Dnsmasq,
        Program::Dhclient,
        Program::Udhcpc,
        Program::Dhcpcd,
        Program::Dhcplens,
    ];

    /// The conventional name: `dhcpd`, `kea`, `dnsmasq`, `dhclient`, `udhcpc`, `dhcpcd`, `dhcplens`.
    pub fn name(self) -> &'static str {
        match self {
            Program::Dhcpd => "dhcpd",
            Program::Kea => "kea",
            Program::Dnsmasq => "dnsmasq",
            Program::Dhclient => "dhclient",
            Program::Udhcpc => "udhcpc",
            Program::Dhcpcd => "dhcpcd",
            Program::Dhcplens => "dhcplens",
        }
    }

    /// Parses [`Program::name`] (also `kea-dhcp4`, `isc-dhcpd`, `busybox`).
    pub fn from_name(s: &str) -> Option<Program> {
        Some(match s.to_ascii_lowercase().as_str() {
            "dhcpd" | "isc-dhcpd" | "isc-dhcp-server" => Program::Dhcpd,
            "kea" | "kea-dhcp4" => Program::Kea,
            "dnsmasq" | "dnsmasq-dhcp" => Program::Dnsmasq,
            "dhclient" | "isc-dhclient" => Program::Dhclient,
            "udhcpc" | "busybox" => Program::Udhcpc,
            "dhcpcd" => Program::Dhcpcd,
            "dhcplens" | "dhcplens-serve" => Program::Dhcplens,
            _ => return None,
        })
    }

    /// The program a syslog tag (`SYSLOG_IDENTIFIER`, the `dhcpd` of `dhcpd[12]:`) names,
    /// or `None` for any other program (its lines are not DHCP lines).
    pub fn from_tag(tag: &str) -> Option<Program> {
        // A tag may be a path (`/usr/sbin/dhcpd`).
        let base = tag.rsplit('/').next().unwrap_or(tag);
        match base {
            "dhcpd" | "dhcpd3" => Some(Program::Dhcpd),
            "kea-dhcp4" => Some(Program::Kea),
            "dnsmasq-dhcp" | "dnsmasq" => Some(Program::Dnsmasq),
            "dhclient" | "dhclient3" => Some(Program::Dhclient),
            "udhcpc" => Some(Program::Udhcpc),
            "dhcpcd" => Some(Program::Dhcpcd),
            "dhcplens" => Some(Program::Dhcplens),
            _ => None,
        }
    }

    /// Whether the program is a server (as opposed to a client).
    pub fn is_server(self) -> bool {
        matches!(
            self,
            Program::Dhcpd | Program::Kea | Program::Dnsmasq | Program::Dhcplens
        )
    }
}

impl fmt::Display for Program {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Where a server says the message came from: its own interface, or a relay (giaddr).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Via {
    Interface(String),
    Relay(Ipv4Addr),
}

impl Via {
    /// `Relay` when `s` is an IPv4 address (ISC and dnsmasq print the giaddr there),
    /// `Interface` otherwise.
    pub fn parse(s: &str) -> Via {
        match s.parse::<Ipv4Addr>() {
            Ok(ip) => Via::Relay(ip),
            Err(_) => Via::Interface(s.to_string()),
        }
    }
}

impl fmt::Display for Via {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Via::Interface(i) => f.write_str(i),
            Via::Relay(ip) => write!(f, "relay {ip}"),
        }
    }
}

impl Serialize for Via {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(1))?;
        match self {
            Via::Interface(i) => m.serialize_entry("interface", i)?,
            Via::Relay(ip) => m.serialize_entry("relay", ip)?,
        }
        m.end()
    }
}

/// The kind of line: a fixed list. Each kind has one meaning, cause, severity,
/// fix and confidence in [`crate::catalogue`].
///
/// `Client*` kinds come from clients (dhclient, udhcpc, dhcpcd); the others from
/// servers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    // Normal server steps.
    DiscoverReceived,
    RequestReceived,
    InitRebootRequest,
    DeclineReceived,
    ReleaseReceived,
    /// A RELEASE the server refused (no such lease, or another client's).
    ReleaseIgnored,
    InformReceived,
    LeaseOffered,
    OfferSent,
    LeaseGranted,
    AckSent,
    RangeSelected,
    // Why a server stays silent or refuses.
    MinSecsDrop,
    PoolExhausted,
    NoPoolForClient,
    AllocationFailed,
    UnknownNetworkSegment,
    SubnetSelectionFailed,
    NoSubnetForInterface,
    NotListening,
    ClientIgnored,
    BootpIgnored,
    PeerHoldsFreeLeases,
    LoadBalancedToPeer,
    ForeignServerId,
    NotAuthoritative,
    NakWrongNetwork,
    NakAddressUnavailable,
    NakInitReboot,
    NakSent,
    AddressDeclined,
    /// A DECLINE the server did not honour: it has no lease of that address
    /// (for this client), or declines are denied.
    DeclineIgnored,
    /// The server took a declined address out of service (ISC's
    /// "Abandoning IP address X: declined."), before the DECLINE's own line.
    AddressAbandoned,
    PingConflict,
    ClientIdChanged,
    OptionNoSpace,
    MalformedPacket,
    MalformedOption,
    ServerNotResponding,
    FailoverStateChange,
    PeerUnreachable,
    // Clients.
    /// dhclient opened an interface (`Listening on LPF/eth0/MAC`): the MAC
    /// its later lines of that process are about.
    ClientListening,
    ClientDiscoverSent,
    ClientOfferReceived,
    ClientRequestSent,
    ClientAckReceived,
    ClientNakReceived,
    ClientBound,
    ClientDeclineSent,
    ClientReleaseSent,
    ClientBadUdpChecksums,
    ClientBadIpChecksums,
    ClientNoOffer,
    ClientGaveUp,
    /// udhcpc's "no lease, failing" after its REQUESTs (the reader tells it
    /// from the same line after DISCOVERs by the lines before).
    ClientNoAck,
}

impl Kind {
    /// The kind's stable name, as in JSON: `min-secs-drop`, `client-no-offer`, ...
    pub fn name(self) -> &'static str {
        crate::catalogue::entry(self).name
    }

    /// One line saying what the line means.
    pub fn meaning(self) -> &'static str {
        crate::catalogue::entry(self).meaning
    }

    /// The finding code this kind is evidence for, if any (normal steps have none).
    pub fn cause(self) -> Option<Cause> {
        crate::catalogue::entry(self).cause
    }

    pub fn severity(self) -> Severity {
        crate::catalogue::entry(self).severity
    }

    /// How sure it is that a line of this kind means [`Kind::cause`].
    pub fn confidence(self) -> Confidence {
        crate::catalogue::entry(self).confidence
    }

    /// What to do about it (empty for normal steps).
    pub fn fix(self) -> &'static str {
        crate::catalogue::entry(self).fix
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The DHCP facts a line names. Every field is `None` unless the line says it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Fields {
    /// Client hardware address (chaddr).
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "ser_hw")]
    pub chaddr: Option<HwAddr>,
    /// Transaction id (Kea `tid=`, dnsmasq's number prefix, dhcpcd `xid`).
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "ser_xid")]
    pub xid: Option<u32>,
    /// Client identifier, option 61 (Kea `cid=[..]`), as bytes.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "ser_bytes")]
    pub client_id: Option<Vec<u8>>,
    /// The DHCP message type the line is about, when it names one.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "ser_type")]
    pub message_type: Option<MessageType>,
    /// The address a client asked for (option 50, `DHCPREQUEST for X`, INIT-REBOOT).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requested: Option<Ipv4Addr>,
    /// The address a server offered (yiaddr of an OFFER, a candidate it abandoned).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offered: Option<Ipv4Addr>,
    /// The address leased, acknowledged, bound, declined or released.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub leased: Option<Ipv4Addr>,
    /// The server identifier (option 54), or the server's address when the line
    /// only gives that (dhclient's `from S`, udhcpc's `server S`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_id: Option<Ipv4Addr>,
    /// The interface the message was seen on or sent from, or the relay (giaddr).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via: Option<Via>,
    /// The network, subnet, shared network or range the line names.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network: Option<String>,
    /// The `secs` field of the client's message (ISC min-secs lines).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secs: Option<u32>,
    /// The server's configured `min-secs` (ISC min-secs lines).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_secs: Option<u32>,
    /// The line's own reason or remainder, e.g. dnsmasq's `wrong server-ID`, a
    /// failover state change, Kea's parse error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

fn ser_hw<S: Serializer>(v: &Option<HwAddr>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(h) => s.collect_str(h),
        None => s.serialize_none(),
    }
}

fn ser_xid<S: Serializer>(v: &Option<u32>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(x) => s.collect_str(&format_args!("0x{x:08x}")),
        None => s.serialize_none(),
    }
}

fn ser_bytes<S: Serializer>(v: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(b) => s.collect_str(&HexColon(b)),
        None => s.serialize_none(),
    }
}

fn ser_type<S: Serializer>(v: &Option<MessageType>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(t) => s.collect_str(t),
        None => s.serialize_none(),
    }
}

/// Bytes as `01:02:0a`.
pub struct HexColon<'a>(pub &'a [u8]);

impl fmt::Display for HexColon<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(":")?;
            }
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

/// Who a line is about, for grouping events per client.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ClientKey {
    HwAddr(HwAddr),
    ClientId(Vec<u8>),
    Xid(u32),
}

impl fmt::Display for ClientKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientKey::HwAddr(h) => write!(f, "{h}"),
            ClientKey::ClientId(c) => write!(f, "client-id {}", HexColon(c)),
            ClientKey::Xid(x) => write!(f, "xid 0x{x:08x}"),
        }
    }
}

/// One line that matters, with its meaning.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Event {
    /// 1-based line number in the input.
    pub line: u64,
    /// When, in UTC nanoseconds since the Unix epoch, on the capture's clock (the
    /// [`crate::TimeContext`] offset applied); `None` when the line has no time or
    /// its year could not be chosen.
    pub time: Option<i64>,
    /// How much of `time` was in the line and how much was assumed.
    pub time_basis: TimeBasis,
    pub program: Program,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    pub framing: Framing,
    pub kind: Kind,
    /// Kea's message id (`DHCP4_PACKET_NAK_0001`), when the line has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    #[serde(flatten)]
    pub fields: Fields,
    /// The program's own text: the line without its framing (stamp, host, tag).
    pub message: String,
    /// The line as read (journald: the whole JSON object), without its newline.
    pub raw: String,
}

impl Event {
    pub fn meaning(&self) -> &'static str {
        self.kind.meaning()
    }

    pub fn cause(&self) -> Option<Cause> {
        self.kind.cause()
    }

    pub fn severity(&self) -> Severity {
        self.kind.severity()
    }

    pub fn confidence(&self) -> Confidence {
        self.kind.confidence()
    }

    /// What to do about it: the line's own fix when it gives one (`dhcplens
    /// serve` does, after `; fix: `), else the kind's.
    pub fn fix(&self) -> &str {
        if self.program == Program::Dhcplens {
            if let Some((_, fix)) = self.message.split_once("; fix: ") {
                // A NAK's line (only a NAK has a reply and a fix) ends with
                // where it went.
                let nak = self.message.contains(": NAK ");
                let fix = match fix.rfind(" (to ") {
                    Some(i) if nak => &fix[..i],
                    _ => fix,
                };
                return fix.trim();
            }
        }
        self.kind.fix()
    }

    /// The client the line is about: its chaddr, else its client id, else the xid.
    pub fn client_key(&self) -> Option<ClientKey> {
        let f = &self.fields;
        if let Some(h) = f.chaddr {
            Some(ClientKey::HwAddr(h))
        } else if let Some(c) = &f.client_id {
            Some(ClientKey::ClientId(c.clone()))
        } else {
            f.xid.map(ClientKey::Xid)
        }
    }
}
