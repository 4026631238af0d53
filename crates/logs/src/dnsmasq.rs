//! dnsmasq's DHCP messages (phrasings from dnsmasq's `src/rfc2131.c` and
//! `src/dhcp.c`; checked against dnsmasq 2.90 logs recorded in the lab).
//!
//! With `--log-dhcp` every per-packet line starts with the xid in decimal:
//! `1204524841 DHCPDISCOVER(s0) 4e:7c:09:bc:73:40 `. Packet lines are
//! `TYPE(IFACE) [ADDR ]MAC[ STRING][ERROR]`: for DHCPACK the string is the host
//! name, for refusals the error is dnsmasq's reason (`no address available`,
//! `wrong network`, `wrong server-ID`, `ignored`, ...).

use wire::MessageType;

use crate::event::{Fields, Kind, Via};
use crate::scan::{ip, mac, text, word, Parsed};

pub(crate) fn parse(msg: &str) -> Option<Parsed> {
    let msg = msg.trim_end();
    let (xid, rest) = match word(msg) {
        (n, rest) if !n.is_empty() && n.len() <= 10 && n.bytes().all(|c| c.is_ascii_digit()) => {
            (n.parse::<u32>().ok(), rest)
        }
        _ => (None, msg),
    };
    let mut parsed = packet_line(rest).or_else(|| other_line(rest))?;
    if parsed.fields.xid.is_none() {
        parsed.fields.xid = xid;
    }
    Some(parsed)
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

/// `TYPE(IFACE) [ADDR ]MAC[ REASON]`.
fn packet_line(s: &str) -> Option<Parsed> {
    let open = s.find('(')?;
    let ty = &s[..open];
    if !matches!(
        ty,
        "DHCPDISCOVER"
            | "DHCPOFFER"
            | "DHCPREQUEST"
            | "DHCPACK"
            | "DHCPNAK"
            | "DHCPDECLINE"
            | "DHCPRELEASE"
            | "DHCPINFORM"
            | "BOOTP"
    ) {
        return None;
    }
    let close = s[open..]
        .find(") ")
        .map(|i| open + i)
        .or_else(|| s.ends_with(')').then(|| s.len() - 1))?;
    let iface = &s[open + 1..close];
    let rest = s.get(close + 2..).unwrap_or("");
    let mut f = Fields {
        message_type: message_type(ty),
        via: Some(Via::Interface(iface.to_string())),
        ..Fields::default()
    };
    let (first, after) = word(rest);
    let (addr, rest) = match ip(first) {
        Some(a) if first.contains('.') => (Some(a), after),
        _ => (None, rest),
    };
    let (hw, reason) = word(rest);
    f.chaddr = mac(hw);
    let reason = reason.trim();
    f.detail = text(reason);
    let kind = match ty {
        "DHCPDISCOVER" => {
            f.requested = addr;
            match reason {
                "" => Kind::DiscoverReceived,
                "no address available" => Kind::PoolExhausted,
                "ignored" | "disabled" => Kind::ClientIgnored,
                "no address configured" => Kind::NoPoolForClient,
                _ => Kind::DiscoverReceived,
            }
        }
        "DHCPOFFER" => {
            f.offered = addr;
            Kind::OfferSent
        }
        "DHCPREQUEST" => {
            f.requested = addr;
            match reason {
                "ignored" => Kind::ClientIgnored,
                _ => Kind::RequestReceived,
            }
        }
        "DHCPACK" => {
            // The remainder is the client's host name, not a reason.
            f.leased = addr;
            Kind::AckSent
        }
        "DHCPNAK" => {
            f.requested = addr;
            match reason {
                "wrong network" => Kind::NakWrongNetwork,
                "wrong server-ID" => Kind::ForeignServerId,
                "no leases left" => Kind::PoolExhausted,
                "wrong address"
                | "address not available"
                | "lease not found"
                | "address in use"
                | "static lease available"
                | "address reserved" => Kind::NakAddressUnavailable,
                _ => Kind::NakSent,
            }
        }
        "DHCPDECLINE" => {
            f.leased = addr;
            Kind::AddressDeclined
        }
        "DHCPRELEASE" => {
            f.leased = addr;
            Kind::ReleaseReceived
        }
        "DHCPINFORM" => {
            f.leased = addr;
            Kind::InformReceived
        }
        // BOOTP(IF) [ADDR ]MAC[ REASON]: logged when the reply goes out, or with why not.
        _ => match reason {
            "" => {
                f.leased = addr;
                Kind::AckSent
            }
            "ignored" | "disabled" => Kind::ClientIgnored,
            "no address configured" => Kind::NoPoolForClient,
            "no address available" => Kind::PoolExhausted,
            "wrong network" => Kind::NakWrongNetwork,
            _ => return None,
        },
    };
    Some(Parsed::new(kind, f))
}

fn other_line(s: &str) -> Option<Parsed> {
    let mut f = Fields::default();
    // `no address range available for DHCP request via 10.99.0.1` (relay) or `via s0`.
    if let Some(rest) = s.strip_prefix("no address range available for DHCP request ") {
        let (how, what) = word(rest);
        f.detail = text(s);
        let kind = match (how, ip(what)) {
            ("via", Some(relay)) => {
                f.via = Some(Via::Relay(relay));
                Kind::UnknownNetworkSegment
            }
            ("via", None) => {
                f.via = Some(Via::Interface(what.to_string()));
                Kind::NoSubnetForInterface
            }
            // `with subnet selector A` (option 118).
            _ => {
                f.network = text(word(what).0);
                Kind::UnknownNetworkSegment
            }
        };
        return Some(Parsed::new(kind, f));
    }
    // `DHCP packet received on s0 which has no address`
    if let Some(rest) = s.strip_prefix("DHCP packet received on ") {
        let iface = rest.strip_suffix(" which has no address")?;
        f.via = Some(Via::Interface(iface.to_string()));
        f.detail = text(s);
        return Some(Parsed::new(Kind::NoSubnetForInterface, f));
    }
    // `available DHCP range: A -- B` / `available DHCP subnet: A/M`
    if let Some(r) = s
        .strip_prefix("available DHCP range: ")
        .or_else(|| s.strip_prefix("available DHCP subnet: "))
    {
        f.network = text(r);
        return Some(Parsed::new(Kind::RangeSelected, f));
    }
    // `cannot send DHCP/BOOTP option 252: no space left in packet`, while
    // building the reply to the packet of the lines before (it names no
    // client: the reader gives it that packet's xid).
    if let Some(r) = s.strip_prefix("cannot send DHCP/BOOTP option ") {
        let (code, why) = r.split_once(':')?;
        if why.trim() != "no space left in packet" {
            return None;
        }
        let code: u8 = code.parse().ok()?;
        f.detail = Some(format!("option {code}"));
        return Some(Parsed::new(Kind::OptionNoSpace, f));
    }
    // `not using configured address X because it is leased to ID`
    if let Some(r) = s.strip_prefix("not using configured address ") {
        let (addr, why) = word(r);
        let id = why.strip_prefix("because it is leased to ")?;
        f.requested = ip(addr);
        f.detail = text(s);
        f.client_id = crate::scan::hex_bytes(id.trim());
        return Some(Parsed::new(Kind::ClientIdChanged, f));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    #[test]
    fn packet_lines() {
        let x =
            parse("168165377 DHCPNAK(s0) 10.77.0.50 02:00:00:00:0a:06 wrong server-ID").unwrap();
        assert_eq!(x.kind, Kind::ForeignServerId);
        assert_eq!(x.fields.xid, Some(168_165_377));
        assert_eq!(x.fields.requested, Some(Ipv4Addr::new(10, 77, 0, 50)));
        let x = parse("DHCPACK(br-lan) 192.168.1.5 aa:bb:cc:dd:ee:ff laptop").unwrap();
        assert_eq!((x.kind, x.fields.xid), (Kind::AckSent, None));
        assert_eq!(x.fields.detail.as_deref(), Some("laptop"));
        let x = parse("1 DHCPDISCOVER(eth0) 10.0.0.9 aa:bb:cc:dd:ee:ff ").unwrap();
        assert_eq!(x.fields.requested, Some(Ipv4Addr::new(10, 0, 0, 9)));
    }

    #[test]
    fn not_dnsmasq_lines() {
        for l in [
            "1204524841 tags: s0",
            "1204524841 sent size:  4 option: 54 server-identifier  10.77.0.1",
            "DHCPDISCOVER from 02:00:00:00:0b:01 via s0",
            "DHCPDISCOVER(",
            "",
        ] {
            assert_eq!(parse(l), None, "{l}");
        }
    }
}
