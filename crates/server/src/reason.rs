//! Why a request was dropped or NAKed: a stable code, the values that
//! decided it, and what to change.

use std::fmt;
use std::net::Ipv4Addr;

use wire::{HwAddr, MessageType};

/// The reason for a drop or a NAK (and for ignoring a RELEASE or DECLINE).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// The message could not be read.
    Malformed(String),
    /// A BOOTREPLY (another server's, or a relay's copy) reached port 67.
    NotARequest,
    /// No option 53: a BOOTP client. This server leases only to DHCP clients.
    Bootp,
    /// A message type a client does not send to a server (OFFER, ACK, …).
    Unsupported(MessageType),
    /// `secs` below `min-secs` (ISC dhcpd's option).
    MinSecs { secs: u16, min: u16 },
    /// A client on the link (giaddr 0) but the interface's address is in
    /// no configured subnet.
    NoSubnetForInterface { iface: String, address: Ipv4Addr },
    /// A relayed request whose giaddr is in no configured subnet.
    UnknownNetworkSegment { giaddr: Ipv4Addr },
    /// Every address of the subnet is held.
    PoolExhausted { subnet: String, size: u64 },
    /// A REQUEST naming another server (option 54): the client took its
    /// offer. A client in INIT gave up its lease here too: `freed` is the
    /// bound address that was freed, if it had one.
    OtherServerChosen {
        server: Ipv4Addr,
        freed: Option<Ipv4Addr>,
    },
    /// A REQUEST with neither option 50 nor ciaddr.
    NoRequestedAddress,
    /// A DECLINE without option 50: which address is declined is unknown
    /// (RFC 2131 §4.4.4, table 5: it must carry it).
    DeclineWithoutAddress,
    /// The address is one a host on the network uses (the relay's, the
    /// server's), which a range may hold all the same.
    NotLeasable {
        address: Ipv4Addr,
        what: &'static str,
    },
    /// The address answered the ping check before an offer, and is kept
    /// out of use for now.
    PingHeld { address: Ipv4Addr },
    /// An IPv4 fragment of a request larger than the MTU: the server reads
    /// single packets and does not reassemble.
    Fragmented { first: bool },
    /// INIT-REBOOT or REBINDING for an address the server has no record of
    /// (RFC 2131 §4.3.2: it must stay silent).
    NoRecord { address: Ipv4Addr },
    /// The address is not on the network the request came from.
    WrongNetwork { address: Ipv4Addr, subnet: String },
    /// The address is held by another client.
    AddressTaken {
        address: Ipv4Addr,
        by: HwAddr,
        state: &'static str,
    },
    /// The address is on the network but in none of its ranges, and not the
    /// client's.
    OutsidePool { address: Ipv4Addr, subnet: String },
    /// A NAK this server would send but does not, being not authoritative.
    NotAuthoritative(Box<Reason>),
    /// A RELEASE or DECLINE of an address that is not the client's lease.
    NotItsLease { address: Ipv4Addr },
    /// An INIT-REBOOT for an address other than the one the server has on
    /// record for this client.
    NotItsAddress { address: Ipv4Addr, holds: Ipv4Addr },
    /// The client itself declined the address not long ago.
    DeclinedByClient { address: Ipv4Addr },
    /// An INFORM without ciaddr: nowhere to send the answer (RFC 2131 §4.3.5).
    InformWithoutCiaddr,
    /// An INFORM from an address that is not on the network it came from
    /// (the relay's, or this interface's): that network's options would not
    /// fit it.
    InformWrongNetwork { address: Ipv4Addr, subnet: String },
    /// The frame came with an 802.1Q tag: its client is on another VLAN than
    /// the one this interface serves.
    VlanTagged { vid: u16 },
    /// The UDP or IPv4 checksum does not verify: the kernel's own UDP stack
    /// would drop it too.
    BadChecksum { what: String },
    /// Sent to another host's address (seen while forwarding it).
    NotForThisServer { to: Ipv4Addr },
    /// The client is on the ignore list.
    ClientIgnored { chaddr: HwAddr },
    /// The server serves only clients with a reservation, and this one has
    /// none.
    UnknownClient { chaddr: HwAddr },
    /// The ping check before an OFFER got an answer: another host uses the
    /// address (RFC 2131 §4.3.1).
    PingAnswered { address: Ipv4Addr, hold_secs: u32 },
}

impl Reason {
    /// The stable, kebab-case code.
    pub fn code(&self) -> &'static str {
        match self {
            Reason::Malformed(_) => "malformed",
            Reason::NotARequest => "not-a-request",
            Reason::Bootp => "bootp-not-served",
            Reason::Unsupported(_) => "unsupported-message",
            Reason::MinSecs { .. } => "min-secs",
            Reason::NoSubnetForInterface { .. } => "no-subnet-for-interface",
            Reason::UnknownNetworkSegment { .. } => "unknown-network-segment",
            Reason::PoolExhausted { .. } => "pool-exhausted",
            Reason::OtherServerChosen { .. } => "other-server-chosen",
            Reason::NoRequestedAddress => "no-requested-address",
            Reason::DeclineWithoutAddress => "decline-without-address",
            Reason::NotLeasable { .. } => "not-leasable",
            Reason::PingHeld { .. } => "address-taken",
            Reason::Fragmented { .. } => "fragmented",
            Reason::NoRecord { .. } => "no-record",
            Reason::WrongNetwork { .. } => "wrong-network",
            Reason::AddressTaken { .. } => "address-taken",
            Reason::OutsidePool { .. } => "outside-pool",
            Reason::NotAuthoritative(_) => "not-authoritative",
            Reason::NotItsLease { .. } => "not-its-lease",
            Reason::NotItsAddress { .. } => "not-its-address",
            Reason::DeclinedByClient { .. } => "declined-by-client",
            Reason::InformWithoutCiaddr => "inform-without-ciaddr",
            Reason::InformWrongNetwork { .. } => "inform-wrong-network",
            Reason::VlanTagged { .. } => "vlan-tagged",
            Reason::BadChecksum { .. } => "bad-checksum",
            Reason::NotForThisServer { .. } => "not-for-this-server",
            Reason::PingAnswered { .. } => "ping-answered",
            Reason::ClientIgnored { .. } => "client-ignored",
            Reason::UnknownClient { .. } => "unknown-client",
        }
    }

    /// What to change, when something should be (a client that chose another
    /// server needs nothing).
    pub fn fix(&self) -> Option<String> {
        Some(match self {
            Reason::Malformed(_) => "fix the client (a capture of it shows the bytes)".into(),
            Reason::NotARequest | Reason::OtherServerChosen { .. } => return None,
            Reason::Bootp => "give the client a DHCP boot ROM, or serve it from a BOOTP server".into(),
            Reason::Unsupported(_) => "find what sends it: no DHCP client should".into(),
            Reason::MinSecs { min, .. } => format!(
                "lower --min-secs below {min} (to 0), or give the client one that counts secs"
            ),
            Reason::NoSubnetForInterface { address, .. } => format!(
                "add a --subnet containing {address}, or serve on another interface"
            ),
            Reason::UnknownNetworkSegment { giaddr } => format!(
                "add a --subnet containing {giaddr}, or fix the relay's address (giaddr)"
            ),
            Reason::PoolExhausted { .. } => {
                "widen the range, shorten the lease, or find who holds the addresses".into()
            }
            Reason::NoRequestedAddress => "fix the client: RFC 2131 §4.3.2 needs option 50 or ciaddr".into(),
            Reason::DeclineWithoutAddress => {
                "fix the client: a DHCPDECLINE names the declined address in option 50 (RFC 2131 §4.4.4, table 5)".into()
            }
            Reason::NotLeasable { address, .. } => format!(
                "take {address} out of the range (the client starts over with DISCOVER and gets another address)"
            ),
            Reason::PingHeld { address } => format!(
                "none needed for the client (it starts over); find the host using {address} (it is inside a range)"
            ),
            Reason::Fragmented { .. } => {
                "make the request fit the MTU (fewer or shorter options: a relay's option 82, a client's long ones), or raise the MTU on the way: this server does not reassemble fragments".into()
            }
            Reason::NoRecord { .. } => {
                "none needed: the client falls back to DISCOVER (a server that must answer needs the lease's record)".into()
            }
            Reason::WrongNetwork { .. } => {
                "none needed: the client starts over with DISCOVER on this network".into()
            }
            Reason::AddressTaken { by, .. } => {
                let who = match by.as_bytes() {
                    [] => "the other client".to_string(),
                    _ => by.to_string(),
                };
                format!(
                    "none needed for the client (it starts over); if {who} is the same machine, give both the same client identifier"
                )
            }
            Reason::OutsidePool { .. } => "add the address to a range, or let the client start over".into(),
            Reason::NotAuthoritative(_) => {
                "run with authority (without --not-authoritative) if this server owns the network, so clients hear NAK at once".into()
            }
            // On purpose, or nothing wrong.
            Reason::NotItsLease { .. }
            | Reason::NotForThisServer { .. }
            | Reason::ClientIgnored { .. }
            | Reason::UnknownClient { .. } => return None,
            Reason::NotItsAddress { .. } | Reason::DeclinedByClient { .. } => {
                "none needed: the client starts over with DISCOVER".into()
            }
            Reason::InformWithoutCiaddr => "fix the client: an INFORM carries its address in ciaddr".into(),
            Reason::InformWrongNetwork { subnet, .. } => format!(
                "fix the client's static address: it is not on {subnet}, the network its INFORM came from (behind a relay, check the relay's giaddr)"
            ),
            Reason::VlanTagged { vid } => format!(
                "serve on the VLAN's own interface (e.g. a VLAN {vid} device), or fix the switch port's VLAN"
            ),

            Reason::PingAnswered { address, .. } => format!(
                "find the host using {address} (it is inside a range) and give it an address outside the ranges, or a reservation; if it is a client of this server from before a restart, run with --leases (its renewal takes the address back meanwhile)"
            ),
            Reason::BadChecksum { .. } => {
                "find what corrupts or leaves the checksum unfilled (transmit offload on a VM host or bridge: `ethtool -K IF tx off`)".into()
            }
        })
    }
}

impl fmt::Display for Reason {
    /// One sentence with the deciding values.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Malformed(e) => write!(f, "the message cannot be read: {e}"),
            Reason::NotARequest => write!(f, "a BOOTREPLY reached port 67; servers answer only requests"),
            Reason::Bootp => write!(f, "no option 53: a BOOTP request, and this server leases only to DHCP clients"),
            Reason::Unsupported(t) => write!(f, "a client does not send {} to a server", t.name()),
            Reason::MinSecs { secs, min } => write!(
                f,
                "secs {secs} is below min-secs {min}: the client must have been trying for {min} s first (a client that never counts secs is never answered)"
            ),
            Reason::NoSubnetForInterface { iface, address } => write!(
                f,
                "the request came on {iface} ({address}), and no subnet contains that address"
            ),
            Reason::UnknownNetworkSegment { giaddr } => write!(
                f,
                "relayed with giaddr {giaddr}, and no subnet contains it"
            ),
            Reason::PoolExhausted { subnet, size } => write!(
                f,
                "all {size} addresses of {subnet}'s ranges are held"
            ),
            Reason::OtherServerChosen { server, freed } => {
                write!(
                    f,
                    "the client chose server {server} (option 54); this server's offer is withdrawn"
                )?;
                match freed {
                    Some(a) => write!(
                        f,
                        ", and its lease of {a} freed (a client that starts over with DISCOVER has given it up, RFC 2131 §4.4.1)"
                    ),
                    None => Ok(()),
                }
            }
            Reason::NoRequestedAddress => write!(f, "a REQUEST with neither option 50 nor ciaddr"),
            Reason::DeclineWithoutAddress => {
                write!(f, "a DHCPDECLINE without option 50: which address is declined is unknown")
            }
            Reason::NotLeasable { address, what } => write!(
                f,
                "{address} is {what}: a range holds it, but it is never leased"
            ),
            Reason::PingHeld { address } => write!(
                f,
                "{address} answered the ping check: another host uses it"
            ),
            Reason::Fragmented { first: true } => write!(
                f,
                "the first IPv4 fragment of a request larger than the MTU: only its start is here, and this server does not reassemble"
            ),
            Reason::Fragmented { first: false } => write!(
                f,
                "a later IPv4 fragment of a request larger than the MTU, whose first fragment was dropped: this server does not reassemble"
            ),
            Reason::NoRecord { address } => write!(
                f,
                "no record of a lease of {address} for this client; RFC 2131 §4.3.2 says to stay silent"
            ),
            Reason::WrongNetwork { address, subnet } => write!(
                f,
                "{address} is not on {subnet}, the network the request came from"
            ),
            Reason::AddressTaken { address, by, state } => {
                let to = if *state == "reserved" { "for" } else { "to" };
                if by.as_bytes().is_empty() {
                    // hlen 0 (an IPoIB client, RFC 4390): named by option 61.
                    write!(f, "{address} is {state} {to} another client (one without a hardware address)")
                } else {
                    write!(f, "{address} is {state} {to} another client, {by}")
                }
            }
            Reason::OutsidePool { address, subnet } => write!(
                f,
                "{address} is on {subnet} but in none of its ranges, and not this client's"
            ),
            Reason::NotAuthoritative(r) => write!(
                f,
                "would NAK ({}: {r}), but the server is not authoritative, so it stays silent",
                r.code()
            ),
            Reason::NotItsLease { address } => write!(
                f,
                "{address} is not this client's lease; nothing changes"
            ),
            Reason::NotItsAddress { address, holds } => write!(
                f,
                "{address} is not this client's address: the server has {holds} on record for it"
            ),
            Reason::DeclinedByClient { address } => write!(
                f,
                "this client declined {address} (DHCPDECLINE: in use by another host), so it is kept out of use for now"
            ),
            Reason::InformWithoutCiaddr => write!(f, "a DHCPINFORM with ciaddr 0.0.0.0"),
            Reason::InformWrongNetwork { address, subnet } => write!(
                f,
                "a DHCPINFORM from {address}, which is not on {subnet}, the network it came from: its options would not fit"
            ),
            Reason::VlanTagged { vid } => write!(
                f,
                "the request came tagged for VLAN {vid}, which this interface does not serve untagged"
            ),
            Reason::BadChecksum { what } => write!(f, "{what}"),
            Reason::ClientIgnored { chaddr } => {
                write!(f, "{chaddr} is on the ignore list: the server never answers it")
            }
            Reason::UnknownClient { chaddr } => write!(
                f,
                "{chaddr} has no reservation, and the server serves known clients only"
            ),
            Reason::PingAnswered { address, hold_secs } => write!(
                f,
                "{address} answered the ping before the offer: another host uses it; kept out of use for {hold_secs} s, another address is offered"
            ),
            Reason::NotForThisServer { to } => write!(
                f,
                "sent to {to}, another host: this server answers broadcasts and its own address"
            ),
        }
    }
}
