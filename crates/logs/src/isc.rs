//! ISC dhcpd 3.x and 4.x messages (phrasings from ISC dhcp's `server/dhcp.c`,
//! `server/mdb.c`, `server/failover.c` and `common/discover.c`; checked against
//! dhcpd 4.4.3 logs recorded in the lab, the 3.x ones against the 3.0.6 source).
//!
//! The per-message lines are built as
//! `TYPE from ID [(HOST)] via VIA[: REASON]`,
//! `DHCPREQUEST for IP [(SID)] from ID [(HOST)] via VIA[: REASON]`,
//! `DHCPDECLINE of IP from ID ... via VIA: STATUS`,
//! `DHCPOFFER on IP to ID [(HOST)] via VIA`, where VIA is the interface or the
//! relay's giaddr. dhcpd never logs the xid.

use std::net::Ipv4Addr;

use wire::MessageType;

use crate::event::{Fields, Kind, Via};
use crate::scan::{ip, mac, text, word, Parsed};

pub(crate) fn parse(msg: &str) -> Option<Parsed> {
    let msg = msg.trim_end();
    // DHCPv4-over-DHCPv6 lines carry the same text after this prefix.
    let msg = msg.strip_prefix("DHCP4o6 ").unwrap_or(msg);
    let (first, rest) = word(msg);
    match first {
        "DHCPDISCOVER" | "BOOTREQUEST" => from_line(first, rest),
        "DHCPREQUEST" => request(rest),
        "DHCPDECLINE" => decline(rest),
        "DHCPRELEASE" => release(rest),
        "DHCPINFORM" => inform(rest),
        "DHCPOFFER" | "DHCPACK" | "BOOTREPLY" => reply(first, rest),
        "DHCPNAK" => nak(rest),
        "DHCPLEASEQUERY" => None,
        "Abandoning" => abandoning(rest),
        "uid" => uid_duplicate(rest),
        "client" => duplicate_leases(rest),
        "No" => no_subnet(rest),
        "Not" if msg.starts_with("Not configured to listen on any interfaces") => {
            Some(Parsed::new(Kind::NotListening, Fields::default()))
        }
        "ICMP" => icmp_reply(rest),
        "failover" => failover(rest),
        "peer" => peer(rest),
        "Packet" => packet_from_unknown_subnet(rest),
        // `type N from ID via VIA: unknown network segment` (no name for the type).
        "type" => from_line("", word(rest).1),
        _ => None,
    }
}

fn message_type(name: &str) -> Option<MessageType> {
    Some(match name {
        "DHCPDISCOVER" => MessageType::Discover,
        "DHCPOFFER" => MessageType::Offer,
        "DHCPREQUEST" => MessageType::Request,
        "DHCPDECLINE" => MessageType::Decline,
        "DHCPACK" => MessageType::Ack,
        "DHCPNAK" => MessageType::Nak,
        "DHCPRELEASE" => MessageType::Release,
        "DHCPINFORM" => MessageType::Inform,
        _ => return None,
    })
}

/// `ID [(HOST)] via VIA[: REASON]` after `from` or `to`: fills chaddr and via;
/// returns the reason (without its leading `: `).
fn client_via<'a>(s: &'a str, f: &mut Fields) -> Option<&'a str> {
    let (id, rest) = if s.starts_with('<') {
        // `<no identifier>`, `<no client hardware address>`
        let end = s.find("> ")?;
        (&s[..=end], &s[end + 2..])
    } else {
        word(s)
    };
    f.chaddr = mac(id);
    let rest = if rest.starts_with('(') {
        // A client-supplied host name; it ends at the `) via ` that follows it.
        let end = rest.find(") via ")?;
        &rest[end + 2..]
    } else {
        rest
    };
    let rest = rest.strip_prefix("via ")?;
    let (via, reason) = match rest.split_once(": ") {
        Some((v, r)) => (v, r),
        None => (rest.trim_end_matches(':'), ""),
    };
    let (via, tail) = word(via);
    // Infoblox's dhcpd names the interface, then the relay the reply goes
    // to: `via eth1 relay 172.26.63.252 lease-duration 30`.
    f.via = match tail.strip_prefix("relay ").and_then(|r| ip(word(r).0)) {
        Some(relay) => Some(Via::Relay(relay)),
        None => Some(Via::parse(via)),
    };
    // DHCPRELEASE's `(found)` follows the via with a space, not a colon.
    Some(if reason.is_empty() { tail } else { reason })
}

/// `DHCPDISCOVER from ID [(HOST)] via VIA[: REASON]` (also BOOTREQUEST).
fn from_line(ty: &str, rest: &str) -> Option<Parsed> {
    let rest = rest.strip_prefix("from ")?;
    let mut f = Fields {
        message_type: message_type(ty),
        ..Fields::default()
    };
    let reason = client_via(rest, &mut f)?;
    let kind = discover_reason(reason, &mut f)?;
    Some(Parsed::new(kind, f))
}

fn discover_reason(reason: &str, f: &mut Fields) -> Option<Kind> {
    let r = reason.trim();
    if r.is_empty() {
        return Some(Kind::DiscoverReceived);
    }
    // 4.1 and later.
    if let Some(x) = r.strip_prefix("configured min-secs value (") {
        let (min, x) = x.split_once(')')?;
        let secs = x
            .split_once("secs field (")
            .and_then(|(_, s)| s.split_once(')'))
            .map(|(s, _)| s);
        f.min_secs = min.parse().ok();
        f.secs = secs.and_then(|s| s.parse().ok());
        f.detail = text(r);
        return Some(Kind::MinSecsDrop);
    }
    // 3.x: `0 secs < 2`.
    if let Some((secs, min)) = r.split_once(" secs < ") {
        if let (Ok(s), Ok(m)) = (secs.parse(), min.trim().parse()) {
            f.secs = Some(s);
            f.min_secs = Some(m);
            f.detail = text(r);
            return Some(Kind::MinSecsDrop);
        }
    }
    f.detail = text(r);
    if let Some(net) = r
        .strip_prefix("network ")
        .and_then(|n| n.strip_suffix(": no free leases"))
    {
        f.network = text(net);
        return Some(Kind::PoolExhausted);
    }
    Some(match r {
        "unknown network segment" => Kind::UnknownNetworkSegment,
        "peer holds all free leases" => Kind::PeerHoldsFreeLeases,
        "unknown client" | "bootp disallowed" | "booting disallowed" => Kind::ClientIgnored,
        _ if r.starts_with("load balance to peer") => Kind::LoadBalancedToPeer,
        _ if r.starts_with("not responding") => Kind::ServerNotResponding,
        // Lease limits of the client's classes: no address it may have.
        _ if r.starts_with("no available billing") => Kind::NoPoolForClient,
        // bootp.c's `BOOTP from dynamic client and no dynamic leases`: no
        // range gives addresses to BOOTP clients (`dynamic-bootp`), or none
        // is left in those that do; not a DHCP pool running out.
        _ if r.contains("no dynamic leases") => Kind::NoPoolForClient,
        _ => Kind::DiscoverReceived,
    })
}

/// `DHCPREQUEST for IP [(SID)] from ID [(HOST)] via VIA[: REASON]`.
fn request(rest: &str) -> Option<Parsed> {
    let mut f = Fields {
        message_type: Some(MessageType::Request),
        ..Fields::default()
    };
    let rest = rest.strip_prefix("for ")?;
    let (addr, mut rest) = word(rest);
    f.requested = ip(addr);
    if rest.starts_with('(') {
        let (sid, r) = word(rest);
        f.server_id = ip(sid);
        rest = r;
    }
    let rest = rest.strip_prefix("from ")?;
    let reason = client_via(rest, &mut f)?.trim();
    if reason.is_empty() {
        return Some(Parsed::new(Kind::RequestReceived, f));
    }
    f.detail = text(reason);
    let kind = match reason.trim_end_matches('.') {
        "wrong network" => Kind::NakWrongNetwork,
        "ignored (not authoritative)" => Kind::NotAuthoritative,
        "ignored (unknown subnet)" => Kind::UnknownNetworkSegment,
        "not our server id" => Kind::ForeignServerId,
        "lease owned by peer" => Kind::LoadBalancedToPeer,
        "lease reset by administrator" => Kind::NakAddressUnavailable,
        "unknown network segment" => Kind::UnknownNetworkSegment,
        r if r.starts_with("lease ") && r.ends_with(" unavailable") => Kind::NakAddressUnavailable,
        r if r.starts_with("not responding") => Kind::ServerNotResponding,
        _ => Kind::RequestReceived,
    };
    Some(Parsed::new(kind, f))
}

/// `DHCPDECLINE of IP from ID ... via VIA: abandoned|not found|ignored`.
fn decline(rest: &str) -> Option<Parsed> {
    let rest = rest.strip_prefix("of ")?;
    let (addr, rest) = word(rest);
    let mut f = Fields {
        message_type: Some(MessageType::Decline),
        leased: ip(addr),
        ..Fields::default()
    };
    let rest = rest.strip_prefix("from ")?;
    let status = client_via(rest, &mut f)?;
    f.detail = text(status);
    // dhcpd's status: `abandoned` (taken out of service), `not found` (no
    // lease of that address) or `ignored` (`deny declines`).
    let kind = match status.trim() {
        "not found" | "ignored" => Kind::DeclineIgnored,
        _ => Kind::AddressDeclined,
    };
    Some(Parsed::new(kind, f))
}

/// `DHCPRELEASE of IP from ID ... via VIA (found|not found)`.
fn release(rest: &str) -> Option<Parsed> {
    if let Some(r) = rest.strip_prefix("from ") {
        // `DHCPRELEASE from MAC specified requested-address.`
        let (hw, tail) = word(r);
        let f = Fields {
            message_type: Some(MessageType::Release),
            chaddr: mac(hw),
            detail: text(tail),
            ..Fields::default()
        };
        return Some(Parsed::new(Kind::ReleaseReceived, f));
    }
    let rest = rest.strip_prefix("of ")?;
    let (addr, rest) = word(rest);
    let mut f = Fields {
        message_type: Some(MessageType::Release),
        leased: ip(addr),
        ..Fields::default()
    };
    let rest = rest.strip_prefix("from ")?;
    let status = client_via(rest, &mut f)?;
    f.detail = text(status.trim_matches(|c| c == '(' || c == ')'));
    Some(Parsed::new(Kind::ReleaseReceived, f))
}

/// `DHCPINFORM from IP via VIA[: REASON]` (the client's address, not its MAC).
fn inform(rest: &str) -> Option<Parsed> {
    let rest = rest.strip_prefix("from ")?;
    let (addr, rest) = word(rest);
    let mut f = Fields {
        message_type: Some(MessageType::Inform),
        leased: ip(addr),
        ..Fields::default()
    };
    let rest = rest.strip_prefix("via ")?;
    let (via, reason) = rest.split_once(": ").unwrap_or((rest, ""));
    f.via = Some(Via::parse(via.trim()));
    f.detail = text(reason);
    let kind = if reason.starts_with("not authoritative for subnet") {
        f.network = text(reason.trim_start_matches("not authoritative for subnet"));
        Kind::NotAuthoritative
    } else if reason.starts_with("unknown subnet for") {
        Kind::UnknownNetworkSegment
    } else {
        Kind::InformReceived
    };
    Some(Parsed::new(kind, f))
}

/// `DHCPOFFER on IP to ID [(HOST)] via VIA`, `DHCPACK on ...`, `BOOTREPLY on ...`,
/// and the DHCPINFORM answer `DHCPACK to IP (MAC) via VIA`.
fn reply(ty: &str, rest: &str) -> Option<Parsed> {
    let mut f = Fields {
        message_type: message_type(ty),
        ..Fields::default()
    };
    if let Some(r) = rest.strip_prefix("to ") {
        let (addr, r) = word(r);
        f.leased = ip(addr);
        let (hw, r) = word(r);
        f.chaddr = mac(hw.trim_matches(|c| c == '(' || c == ')'));
        let via = r.strip_prefix("via ")?;
        f.via = Some(Via::parse(via.trim()));
        return Some(Parsed::new(Kind::AckSent, f));
    }
    // bootp.c: `BOOTREPLY for IP to HOST (MAC) via VIA`.
    if let Some(r) = rest.strip_prefix("for ").filter(|_| ty == "BOOTREPLY") {
        let (addr, r) = word(r);
        f.leased = ip(addr);
        let r = r.strip_prefix("to ")?;
        let open = r.find(" (")?;
        let close = open + r[open..].find(") via ")?;
        f.chaddr = mac(&r[open + 2..close]);
        f.via = Some(Via::parse(r[close + 6..].trim()));
        return Some(Parsed::new(Kind::AckSent, f));
    }
    let rest = rest.strip_prefix("on ")?;
    let (addr, rest) = word(rest);
    let rest = rest.strip_prefix("to ")?;
    client_via(rest, &mut f)?;
    let addr = ip(addr);
    let kind = if ty == "DHCPOFFER" {
        f.offered = addr;
        Kind::OfferSent
    } else {
        f.leased = addr;
        Kind::AckSent
    };
    Some(Parsed::new(kind, f))
}

/// `DHCPNAK on IP to MAC via VIA`.
fn nak(rest: &str) -> Option<Parsed> {
    let rest = rest.strip_prefix("on ")?;
    let (addr, rest) = word(rest);
    let mut f = Fields {
        message_type: Some(MessageType::Nak),
        requested: ip(addr),
        ..Fields::default()
    };
    let rest = rest.strip_prefix("to ")?;
    client_via(rest, &mut f)?;
    Some(Parsed::new(Kind::NakSent, f))
}

/// `Abandoning IP address IP: REASON` (`declined.`, `pinged before offer`, ...).
fn abandoning(rest: &str) -> Option<Parsed> {
    let rest = rest.strip_prefix("IP address ")?;
    let (addr, reason) = rest.split_once(": ")?;
    let addr: Ipv4Addr = ip(addr)?;
    let reason = reason.trim();
    let mut f = Fields {
        detail: text(reason),
        ..Fields::default()
    };
    let kind = if reason.starts_with("pinged before offer") {
        f.offered = Some(addr);
        Kind::PingConflict
    } else if reason.starts_with("declined") {
        // The DECLINE's own line, just after, names the client.
        f.leased = Some(addr);
        Kind::AddressAbandoned
    } else {
        return None;
    };
    Some(Parsed::new(kind, f))
}

/// `ICMP Echo reply while lease IP valid.`: the ping check that precedes the abandon.
fn icmp_reply(rest: &str) -> Option<Parsed> {
    let rest = rest.strip_prefix("Echo reply while lease ")?;
    let (addr, _) = word(rest);
    let f = Fields {
        offered: Some(ip(addr)?),
        detail: text(&format!("ICMP Echo reply while lease {rest}")),
        ..Fields::default()
    };
    Some(Parsed::new(Kind::PingConflict, f))
}

/// `uid lease IP for client MAC is duplicate on NET`.
fn uid_duplicate(rest: &str) -> Option<Parsed> {
    let rest = rest.strip_prefix("lease ")?;
    let (addr, rest) = word(rest);
    let rest = rest.strip_prefix("for client ")?;
    let (hw, rest) = word(rest);
    let net = rest.strip_prefix("is duplicate on ")?;
    let f = Fields {
        leased: ip(addr),
        chaddr: mac(hw),
        network: text(net),
        ..Fields::default()
    };
    Some(Parsed::new(Kind::ClientIdChanged, f))
}

/// `client MAC has duplicate leases on NET`.
fn duplicate_leases(rest: &str) -> Option<Parsed> {
    let (hw, rest) = word(rest);
    let net = rest.strip_prefix("has duplicate leases on ")?;
    let f = Fields {
        chaddr: Some(mac(hw)?),
        network: text(net),
        ..Fields::default()
    };
    Some(Parsed::new(Kind::ClientIdChanged, f))
}

/// `No subnet declaration for IF (ADDR).`
fn no_subnet(rest: &str) -> Option<Parsed> {
    let rest = rest.strip_prefix("subnet declaration for ")?;
    let (iface, _) = word(rest);
    let f = Fields {
        via: Some(Via::Interface(iface.to_string())),
        detail: text(&format!("No subnet declaration for {rest}")),
        ..Fields::default()
    };
    Some(Parsed::new(Kind::NoSubnetForInterface, f))
}

/// `Packet from unknown subnet: GIADDR`.
fn packet_from_unknown_subnet(rest: &str) -> Option<Parsed> {
    let addr = rest.strip_prefix("from unknown subnet: ")?;
    let f = Fields {
        via: Some(Via::Relay(ip(addr)?)),
        ..Fields::default()
    };
    Some(Parsed::new(Kind::UnknownNetworkSegment, f))
}

/// `failover peer NAME: I move from A to B` / `peer moves from A to B`.
fn failover(rest: &str) -> Option<Parsed> {
    let rest = rest.strip_prefix("peer ")?;
    let (name, what) = rest.split_once(": ")?;
    if !(what.starts_with("I move from ") || what.starts_with("peer moves from ")) {
        return None;
    }
    let f = Fields {
        detail: text(&format!("{name}: {what}")),
        ..Fields::default()
    };
    Some(Parsed::new(Kind::FailoverStateChange, f))
}

/// `peer NAME: disconnected`.
fn peer(rest: &str) -> Option<Parsed> {
    let (name, what) = rest.split_once(": ")?;
    if what.trim() != "disconnected" {
        return None;
    }
    let f = Fields {
        detail: text(&format!("{name}: disconnected")),
        ..Fields::default()
    };
    Some(Parsed::new(Kind::PeerUnreachable, f))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Parsed {
        parse(s).unwrap_or_else(|| panic!("not parsed: {s}"))
    }

    /// Infoblox's ACKs name the interface and then the relay; two relays
    /// forwarding one broadcast REQUEST get two ACKs, which are no run of
    /// ACKs the client ignored.
    #[test]
    fn infoblox_names_the_relay_after_the_interface() {
        let x = p("DHCPACK on 172.25.2.0 to cc:3a:61:bf:e0:e5 (android) via eth1 relay 172.26.63.252 lease-duration 30");
        assert_eq!(x.kind, Kind::AckSent);
        assert_eq!(
            x.fields.via,
            Some(Via::Relay(Ipv4Addr::new(172, 26, 63, 252)))
        );
        let x = p("DHCPACK on 10.0.0.5 to 00:11:22:33:44:55 via eth0");
        assert_eq!(x.fields.via, Some(Via::Interface("eth0".into())));
    }

    #[test]
    fn bootp_lines() {
        let x = p("BOOTREPLY for 10.0.0.5 to printer (00:11:22:33:44:55) via eth0");
        assert_eq!(x.kind, Kind::AckSent);
        assert_eq!(x.fields.leased, Some(Ipv4Addr::new(10, 0, 0, 5)));
        assert_eq!(x.fields.chaddr, mac("00:11:22:33:44:55"));
        assert_eq!(x.fields.via, Some(Via::Interface("eth0".into())));
        let x = p("BOOTREQUEST from 00:11:22:33:44:55 via eth0: BOOTP from dynamic client and no dynamic leases");
        assert_eq!(x.kind, Kind::NoPoolForClient);
        assert_eq!(x.kind.confidence(), crate::Confidence::Likely);
    }

    #[test]
    fn a_decline_is_honoured_only_when_abandoned() {
        // dhcpd's statuses (server/dhcp.c, dhcpdecline).
        for (status, kind) in [
            ("abandoned", Kind::AddressDeclined),
            ("not found", Kind::DeclineIgnored),
            ("ignored", Kind::DeclineIgnored),
        ] {
            let x = p(&format!(
                "DHCPDECLINE of 10.77.0.50 from 02:00:00:00:0a:02 via s0: {status}"
            ));
            assert_eq!(x.kind, kind, "{status}");
            assert_eq!(x.fields.leased, Some(Ipv4Addr::new(10, 77, 0, 50)));
        }
        // Its consequence, logged first, is no second decline.
        let x = p("Abandoning IP address 10.77.0.50: declined.");
        assert_eq!((x.kind, x.kind.cause()), (Kind::AddressAbandoned, None));
    }

    #[test]
    fn hostname_in_parentheses() {
        let x = p("DHCPREQUEST for 10.0.0.5 (10.0.0.1) from 00:11:22:33:44:55 (my host (2)) via eth0: wrong network.");
        assert_eq!(x.kind, Kind::NakWrongNetwork);
        assert_eq!(x.fields.server_id, Some(Ipv4Addr::new(10, 0, 0, 1)));
        assert_eq!(x.fields.via, Some(Via::Interface("eth0".into())));
        assert_eq!(x.fields.chaddr.unwrap().to_string(), "00:11:22:33:44:55");
    }

    #[test]
    fn min_secs_both_phrasings() {
        let x = p("DHCPDISCOVER from 00:16:3e:00:00:01 via eth0: configured min-secs value (2) is greater than secs field (0).  message dropped.");
        assert_eq!(
            (x.kind, x.fields.secs, x.fields.min_secs),
            (Kind::MinSecsDrop, Some(0), Some(2))
        );
        let x = p("DHCPDISCOVER from 00:16:3e:00:00:01 via 192.168.7.1: 0 secs < 2");
        assert_eq!(
            (x.kind, x.fields.secs, x.fields.min_secs),
            (Kind::MinSecsDrop, Some(0), Some(2))
        );
        assert_eq!(
            x.fields.via,
            Some(Via::Relay(Ipv4Addr::new(192, 168, 7, 1)))
        );
    }

    #[test]
    fn not_dhcpd_lines() {
        for l in [
            "DHCPDISCOVER on c0 to 255.255.255.255 port 67 interval 2",
            "DHCPOFFER of 10.77.0.50 from 10.77.0.1",
            "No DHCPOFFERS received.",
            "Abandoning IP address x: declined.",
            "",
        ] {
            assert_eq!(parse(l), None, "{l}");
        }
    }
}
