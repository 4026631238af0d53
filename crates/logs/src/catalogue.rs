//! What each [`Kind`] means: one table, read by [`Kind::meaning`] and friends.
//!
//! Causes are the public finding codes of the diagnose engine
//! (/work/shared/docs/failure-catalogue.md). A kind names a cause only when a line of
//! that kind is evidence for it; normal DORA steps name none.

use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};

use crate::event::Kind;

/// A finding code of the diagnose engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Cause {
    MinSecsDrop,
    PoolExhausted,
    UnknownNetworkSegment,
    NoSubnetForInterface,
    ClientIgnored,
    PeerHoldsFreeLeases,
    ForeignServerId,
    NotAuthoritative,
    Nak,
    AddressDeclined,
    ClientIdChanged,
    UdpChecksumInvalid,
    NoOffer,
    MalformedPacket,
    PingCheckConflict,
    OptionLeftOut,
    NoAck,
}

impl Cause {
    pub const ALL: [Cause; 17] = [
        Cause::MinSecsDrop,
        Cause::PoolExhausted,
        Cause::UnknownNetworkSegment,
        Cause::NoSubnetForInterface,
        Cause::ClientIgnored,
        Cause::PeerHoldsFreeLeases,
        Cause::ForeignServerId,
        Cause::NotAuthoritative,
        Cause::Nak,
        Cause::AddressDeclined,
        Cause::ClientIdChanged,
        Cause::UdpChecksumInvalid,
        Cause::NoOffer,
        Cause::MalformedPacket,
        Cause::PingCheckConflict,
        Cause::OptionLeftOut,
        Cause::NoAck,
    ];

    /// The finding code, e.g. `min-secs-drop`.
    pub fn code(self) -> &'static str {
        match self {
            Cause::MinSecsDrop => "min-secs-drop",
            Cause::PoolExhausted => "pool-exhausted",
            Cause::UnknownNetworkSegment => "unknown-network-segment",
            Cause::NoSubnetForInterface => "no-subnet-for-interface",
            Cause::ClientIgnored => "client-ignored",
            Cause::PeerHoldsFreeLeases => "peer-holds-free-leases",
            Cause::ForeignServerId => "foreign-server-id",
            Cause::NotAuthoritative => "not-authoritative",
            Cause::Nak => "nak",
            Cause::AddressDeclined => "address-declined",
            Cause::ClientIdChanged => "client-id-changed",
            Cause::UdpChecksumInvalid => "udp-checksum-invalid",
            Cause::NoOffer => "no-offer",
            Cause::MalformedPacket => "malformed-packet",
            Cause::PingCheckConflict => "ping-check-conflict",
            Cause::OptionLeftOut => "option-left-out",
            Cause::NoAck => "no-ack",
        }
    }

    pub fn from_code(code: &str) -> Option<Cause> {
        Cause::ALL.into_iter().find(|c| c.code() == code)
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Cause {
    type Err = String;
    fn from_str(s: &str) -> Result<Cause, String> {
        Cause::from_code(s).ok_or_else(|| format!("unknown cause code `{s}`"))
    }
}

impl Serialize for Cause {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// How sure it is that a line of a kind means its cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    /// The line can mean something else too; look for more evidence.
    Possible,
    /// The usual reading; other readings exist but are rare.
    Likely,
    /// The line says it in so many words.
    Certain,
}

impl fmt::Display for Confidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Confidence::Possible => "possible",
            Confidence::Likely => "likely",
            Confidence::Certain => "certain",
        })
    }
}

/// One row of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    pub kind: Kind,
    pub name: &'static str,
    pub meaning: &'static str,
    pub cause: Option<Cause>,
    pub severity: Severity,
    pub confidence: Confidence,
    pub fix: &'static str,
}

use Cause as C;
use Confidence::{Certain, Likely, Possible};
use Kind as K;
use Severity::{Error, Info, Warning};

const fn e(
    kind: Kind,
    name: &'static str,
    meaning: &'static str,
    cause: Option<Cause>,
    severity: Severity,
    confidence: Confidence,
    fix: &'static str,
) -> Entry {
    Entry {
        kind,
        name,
        meaning,
        cause,
        severity,
        confidence,
        fix,
    }
}

/// Every kind, in [`Kind`] order.
pub static TABLE: [Entry; 55] = [
    e(K::DiscoverReceived, "discover-received", "The server received a DHCPDISCOVER.", None, Info, Certain, ""),
    e(K::RequestReceived, "request-received", "The server received a DHCPREQUEST.", None, Info, Certain, ""),
    e(K::InitRebootRequest, "init-reboot-request", "A client in INIT-REBOOT asked to keep an address it had before (REQUEST with option 50, no server id).", None, Info, Certain, ""),
    e(K::DeclineReceived, "decline-received", "The server received a DHCPDECLINE.", None, Info, Certain, ""),
    e(K::ReleaseReceived, "release-received", "The client released its lease.", None, Info, Certain, ""),
    e(K::ReleaseIgnored, "release-ignored",
        "The server refused a DHCPRELEASE: it has no lease of that address, or the lease is another client's. The lease, if any, stays.",
        None, Info, Certain, ""),
    e(K::InformReceived, "inform-received", "The server received a DHCPINFORM.", None, Info, Certain, ""),
    e(K::LeaseOffered, "lease-offered", "The server chose an address to offer.", None, Info, Certain, ""),
    e(K::OfferSent, "offer-sent", "The server sent a DHCPOFFER.", None, Info, Certain, ""),
    e(K::LeaseGranted, "lease-granted", "The server committed a lease to the client.", None, Info, Certain, ""),
    e(K::AckSent, "ack-sent", "The server sent a DHCPACK.", None, Info, Certain, ""),
    e(K::RangeSelected, "range-selected", "dnsmasq found a DHCP range for this transaction.", None, Info, Certain, ""),
    e(K::MinSecsDrop, "min-secs-drop",
        "The server dropped the DISCOVER because its secs field is below the configured min-secs; the client gets no OFFER until secs grows.",
        Some(C::MinSecsDrop), Error, Certain,
        "Set `min-secs 0;` for that network (or remove min-secs), or use a client that counts secs (Etherboot 5.4 and some PXE ROMs keep it at 0)."),
    e(K::PoolExhausted, "pool-exhausted",
        "The server has no free address for this client in the pools it may use.",
        Some(C::PoolExhausted), Error, Certain,
        "Enlarge the pool or shorten lease times, remove stale leases, or check that the client's class is allowed in a pool with free addresses."),
    e(K::NoPoolForClient, "no-pool-for-client",
        "No pool is open to this client (its classes, or a static-only range with no host entry for it; for a BOOTP client, no range with dynamic-bootp, or none left in it).",
        Some(C::PoolExhausted), Error, Likely,
        "Add a pool (or dhcp-host entry) the client is allowed in, or fix the class rules that exclude it."),
    e(K::AllocationFailed, "allocation-failed",
        "The server failed to find an address for the client; usually the pool is full, other messages around it say why.",
        Some(C::PoolExhausted), Error, Likely,
        "Read the allocation-engine lines just before it; if the pool is full, enlarge it or shorten lease times."),
    e(K::UnknownNetworkSegment, "unknown-network-segment",
        "The message came through a relay (giaddr) or from a network that matches no subnet the server knows; it is dropped.",
        Some(C::UnknownNetworkSegment), Error, Certain,
        "Declare a subnet containing the relay's giaddr (or the client's network), or fix the relay's address on that segment."),
    e(K::SubnetSelectionFailed, "subnet-selection-failed",
        "The server found no subnet for the message (relayed: no subnet contains the giaddr; direct: none contains the interface's address).",
        Some(C::UnknownNetworkSegment), Error, Possible,
        "If the message was relayed, declare a subnet containing its giaddr; if direct, one containing the receiving interface's address."),
    e(K::NoSubnetForInterface, "no-subnet-for-interface",
        "The server has no subnet for the interface the message arrived on, so it ignores directly connected clients there.",
        Some(C::NoSubnetForInterface), Error, Certain,
        "Declare a subnet (or dhcp-range) matching the interface's address, or give the interface an address inside a declared subnet."),
    e(K::NotListening, "not-listening",
        "The server listens on no interface (usually because none has a matching subnet).",
        Some(C::NoSubnetForInterface), Error, Likely,
        "Declare a subnet for each interface the server should serve, or name the right interfaces."),
    e(K::ClientIgnored, "client-ignored",
        "The server ignores this client on purpose (deny/ignore rule, unknown-clients, the DROP class).",
        Some(C::ClientIgnored), Warning, Certain,
        "If the client should be served, remove the rule that excludes it (deny unknown-clients, dhcp-host ignore, class DROP) or declare the host."),
    e(K::BootpIgnored, "bootp-ignored",
        "The server dropped a BOOTP request (no DHCP message type) because it does not serve BOOTP.",
        None, Warning, Certain,
        "Enable BOOTP (Kea: load libdhcp_bootp.so; ISC: allow bootp) or make the client speak DHCP."),
    e(K::PeerHoldsFreeLeases, "peer-holds-free-leases",
        "This failover server has no free lease of its own: its peer holds them, so only the peer can answer.",
        Some(C::PeerHoldsFreeLeases), Warning, Certain,
        "Check that the failover peer is up and answering; rebalance the pools (or fix the split) if one server holds all free leases."),
    e(K::LoadBalancedToPeer, "load-balanced-to-peer",
        "Load balancing gives this client to the peer server; this one stays silent. A problem only if the peer does not answer.",
        Some(C::PeerHoldsFreeLeases), Info, Possible,
        "If the client gets no answer, check the peer: it is the server that should reply (or the client's secs stays below `load balance max seconds`)."),
    e(K::ForeignServerId, "foreign-server-id",
        "The REQUEST names another server's identifier (option 54); this server ignores it or NAKs it.",
        Some(C::ForeignServerId), Warning, Certain,
        "Find the server whose id the client names (a second or rogue server, or a server id that changed); remove it or make the ids consistent."),
    e(K::NotAuthoritative, "not-authoritative",
        "The server is not authoritative for the client's network, so it ignores a request it cannot grant instead of NAKing it; the client waits.",
        Some(C::NotAuthoritative), Warning, Certain,
        "Declare the server `authoritative;` (Kea: \"authoritative\": true) for networks it owns, so clients from elsewhere get a NAK at once."),
    e(K::NakWrongNetwork, "nak-wrong-network",
        "The server NAKed a request for an address outside the client's network (typically INIT-REBOOT after a move).",
        Some(C::Nak), Warning, Certain,
        "Normal after a client moves: it should restart with a DISCOVER. If it loops, the client ignores NAKs or another server answers."),
    e(K::NakAddressUnavailable, "nak-address-unavailable",
        "The server NAKed a request for an address it cannot give this client (leased to another, reserved, unknown or not in a pool).",
        Some(C::Nak), Warning, Certain,
        "The client should start over with DISCOVER; if NAKs repeat, look for two servers sharing a range or a stale lease database."),
    e(K::NakInitReboot, "nak-init-reboot",
        "The server NAKed an INIT-REBOOT request: the address is not valid for this client on this network.",
        Some(C::Nak), Warning, Certain,
        "Normal after a move or lease loss: the client should restart with DISCOVER."),
    e(K::NakSent, "nak-sent",
        "The server sent a DHCPNAK.",
        Some(C::Nak), Warning, Certain,
        "Read the server's reason on the line before; the client must restart with DISCOVER."),
    e(K::AddressDeclined, "address-declined",
        "The client declined the address (it found it in use, usually by ARP); the server takes it out of service.",
        Some(C::AddressDeclined), Warning, Certain,
        "Find the host using that address without a lease (static configuration, another server) and remove it or exclude the address from the pool."),
    e(K::DeclineIgnored, "decline-ignored",
        "The client declined an address (it found it in use), but the server did not take it out of service: it has no lease of that address for this client (none, or another client's), or it is set to deny declines.",
        Some(C::AddressDeclined), Warning, Likely,
        "Find the host using that address without a lease and remove it or exclude the address from the pool; the server may offer it again. If the client declines an address this server never gave it, look for a second server on the network."),
    e(K::AddressAbandoned, "address-abandoned",
        "The server took the declined address out of service (abandoned): it gives it out again only when no other address is left.",
        None, Info, Certain, ""),
    e(K::PingConflict, "ping-conflict",
        "The address answered the server's ping before the offer, so the server abandoned it and looked for another.",
        Some(C::PingCheckConflict), Warning, Certain,
        "Find the host using that address without a lease and move it out of the pool (or reserve the address)."),
    e(K::ClientIdChanged, "client-id-changed",
        "The same machine came back with a different client identifier, so the server holds a second lease for it.",
        Some(C::ClientIdChanged), Warning, Certain,
        "Make the boot stages send the same client id (or none), or key leases on the MAC only (ISC ignore-client-uids, Kea match-client-id false)."),
    e(K::OptionNoSpace, "option-no-space",
        "The server left an option out of its reply because it did not fit: the reply may not exceed the client's maximum message size (option 57, else 576 bytes).",
        Some(C::OptionLeftOut), Warning, Certain,
        "Send the client only the options it asks for and shorten long values (URLs, domain lists, vendor data), or let the client advertise a larger maximum message size (option 57) if it can take one."),
    e(K::MalformedPacket, "malformed-packet",
        "The server could not parse the message (truncated, bad option, missing message type) and dropped it.",
        Some(C::MalformedPacket), Error, Certain,
        "Capture the client's packet and compare it with RFC 2131/2132; fix or update the client (or the relay that rewrites it)."),
    e(K::MalformedOption, "malformed-option",
        "The server found an option it cannot use (a malformed host name or FQDN, a bad option it skipped); it may still answer without it.",
        Some(C::MalformedPacket), Warning, Possible,
        "Check the option in a capture (host name: letters, digits and hyphens, no empty labels; FQDN flags); fix the client's configuration or firmware."),
    e(K::ServerNotResponding, "server-not-responding",
        "The server does not answer clients at the moment (failover/HA state, or DHCP service disabled).",
        None, Warning, Likely,
        "Check the failover or HA state of both servers and their connection; a server in startup/recover/waiting does not serve."),
    e(K::FailoverStateChange, "failover-state-change",
        "The failover or HA state changed.",
        None, Info, Certain, ""),
    e(K::PeerUnreachable, "peer-unreachable",
        "The server lost contact with its failover or HA peer.",
        None, Warning, Certain,
        "Check the peer is running and reachable on its failover/HA port, and that the clocks agree."),
    e(K::ClientListening, "client-listening",
        "The client opened an interface to send and receive DHCP on (its MAC address: the client its next lines are about).",
        None, Info, Certain, ""),
    e(K::ClientDiscoverSent, "client-discover-sent", "The client broadcast a DHCPDISCOVER.", None, Info, Certain, ""),
    e(K::ClientOfferReceived, "client-offer-received", "The client received an OFFER.", None, Info, Certain, ""),
    e(K::ClientRequestSent, "client-request-sent", "The client sent a DHCPREQUEST.", None, Info, Certain, ""),
    e(K::ClientAckReceived, "client-ack-received", "The client received a DHCPACK.", None, Info, Certain, ""),
    e(K::ClientNakReceived, "client-nak-received",
        "The client received a DHCPNAK and must start over.",
        Some(C::Nak), Warning, Certain,
        "Read the server's log for its reason; after a network move this is expected."),
    e(K::ClientBound, "client-bound", "The client bound to its leased address.", None, Info, Certain, ""),
    e(K::ClientDeclineSent, "client-decline-sent",
        "The client declined the address it was given (found in use).",
        Some(C::AddressDeclined), Warning, Certain,
        "Find the host using that address without a lease and remove it or exclude the address from the pool."),
    e(K::ClientReleaseSent, "client-release-sent", "The client released its lease.", None, Info, Certain, ""),
    e(K::ClientBadUdpChecksums, "client-bad-udp-checksums",
        "The client threw away replies whose UDP checksum did not verify; often offers sent with transmit checksum offload (a partial checksum) from a VM host or container.",
        Some(C::UdpChecksumInvalid), Error, Likely,
        "On the server's host: `iptables -t mangle -A POSTROUTING -p udp --dport 68 -j CHECKSUM --checksum-fill`, or `ethtool -K IF tx off`; or use a client that honours TP_STATUS_CSUMNOTREADY."),
    e(K::ClientBadIpChecksums, "client-bad-ip-checksums",
        "The client threw away replies whose IP header checksum did not verify.",
        None, Warning, Certain,
        "Capture at the client to see who mangles the replies (a NIC, a bridge or a middlebox)."),
    e(K::ClientNoOffer, "client-no-offer",
        "The client got no usable OFFER and gave up this attempt.",
        Some(C::NoOffer), Error, Certain,
        "Look at the server's log for why it stayed silent (min-secs, pool, subnet, ignore rules) or at a capture for offers lost on the way."),
    e(K::ClientGaveUp, "client-gave-up",
        "The client found no lease and stopped trying (or fell back to sleeping).",
        Some(C::NoOffer), Error, Certain,
        "Look at the server's log for why it stayed silent, or at a capture for offers lost on the way."),
    e(K::ClientNoAck, "client-no-ack",
        "The client REQUESTed an offer, got no ACK it could take, and gave up this attempt.",
        Some(C::NoAck), Error, Certain,
        "Capture at the server and at the client: an ACK the server sent may be lost on the way (or rejected by the client); otherwise look at the server's log for the REQUEST."),
];

/// The table row of `kind`.
pub fn entry(kind: Kind) -> &'static Entry {
    let e = &TABLE[kind as usize];
    debug_assert_eq!(e.kind, kind, "catalogue TABLE is out of Kind order");
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_in_kind_order_and_names_are_unique() {
        let mut names = std::collections::HashSet::new();
        for (i, e) in TABLE.iter().enumerate() {
            assert_eq!(e.kind as usize, i, "{:?}", e.kind);
            assert!(names.insert(e.name), "duplicate name {}", e.name);
            // The serde name and the table name agree.
            let json = serde_json::to_string(&e.kind).unwrap();
            assert_eq!(json, format!("\"{}\"", e.name));
            assert!(e.meaning.ends_with('.'), "{}", e.name);
            if e.cause.is_some() {
                assert!(!e.fix.is_empty(), "{} has a cause but no fix", e.name);
            }
        }
    }

    #[test]
    fn every_cause_has_a_kind_and_round_trips() {
        for c in Cause::ALL {
            assert_eq!(Cause::from_code(c.code()), Some(c));
            assert!(
                TABLE.iter().any(|e| e.cause == Some(c)),
                "no kind gives {c}"
            );
        }
        assert_eq!("nak".parse::<Cause>(), Ok(Cause::Nak));
        assert!("nope".parse::<Cause>().is_err());
    }
}
