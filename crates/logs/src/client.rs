//! Client messages: ISC dhclient (`client/dhclient.c`, `common/packet.c`), busybox
//! udhcpc (1.35 and the older capitalised phrasings) and dhcpcd 9. Checked against
//! dhclient 4.4.3, udhcpc 1.35.0 and dhcpcd 9.4.1 logs recorded in the lab.

use wire::{HwAddr, MessageType};

use crate::event::{Fields, Kind, Via};
use crate::scan::{hex_u32, ip, text, word, Parsed};

// ---------------------------------------------------------------- dhclient

pub(crate) fn dhclient(msg: &str) -> Option<Parsed> {
    let msg = msg.trim_end();
    let mut f = Fields::default();
    let (first, rest) = word(msg);
    let kind = match first {
        // `DHCPDISCOVER on c0 to 255.255.255.255 port 67 interval 2`
        "DHCPDISCOVER" => {
            f.message_type = Some(MessageType::Discover);
            f.via = on_interface(rest);
            if !(rest.starts_with("on ") || rest.starts_with("interval ")) {
                return None;
            }
            Kind::ClientDiscoverSent
        }
        // `DHCPOFFER of 10.77.0.50 from 10.77.0.1` (4.1 to 4.3: `DHCPOFFER
        // from 10.77.0.1`, without the address)
        "DHCPOFFER" => {
            let (addr, from) = of_from(rest)?;
            f.offered = addr;
            f.server_id = from;
            f.message_type = Some(MessageType::Offer);
            Kind::ClientOfferReceived
        }
        // `DHCPACK of 10.77.0.50 from 10.77.0.1` (older: `DHCPACK from S`)
        "DHCPACK" => {
            let (addr, from) = of_from(rest)?;
            f.leased = addr;
            f.server_id = from;
            f.message_type = Some(MessageType::Ack);
            Kind::ClientAckReceived
        }
        // `DHCPREQUEST for 10.77.0.50 on c0 to 255.255.255.255 port 67` (4.1
        // to 4.3: `DHCPREQUEST of 10.77.0.50 on …`; 3.x: `DHCPREQUEST on c0 to ...`)
        "DHCPREQUEST" => {
            let rest = match rest
                .strip_prefix("for ")
                .or_else(|| rest.strip_prefix("of "))
            {
                Some(r) => {
                    let (addr, r) = word(r);
                    f.requested = ip(addr);
                    r
                }
                None => rest,
            };
            if !rest.starts_with("on ") {
                return None;
            }
            f.via = on_interface(rest);
            f.message_type = Some(MessageType::Request);
            Kind::ClientRequestSent
        }
        // `DHCPDECLINE of X on c0 to ...`, `DHCPRELEASE of X on c0 to S port 67`
        "DHCPDECLINE" | "DHCPRELEASE" => {
            let rest = match rest.strip_prefix("of ") {
                Some(r) => {
                    let (addr, r) = word(r);
                    f.leased = ip(addr);
                    r
                }
                None => rest,
            };
            if !rest.starts_with("on ") {
                return None;
            }
            f.via = on_interface(rest);
            if first == "DHCPDECLINE" {
                f.message_type = Some(MessageType::Decline);
                Kind::ClientDeclineSent
            } else {
                f.message_type = Some(MessageType::Release);
                f.server_id = rest
                    .split_once(" to ")
                    .and_then(|(_, r)| ip(word(r).0))
                    .filter(|a| !a.is_broadcast());
                Kind::ClientReleaseSent
            }
        }
        // `Listening on LPF/eth0/02:00:00:04:03:01` (its `Sending on` twin
        // says the same again, and `Socket/fallback` names no interface).
        "Listening" => {
            let (kind, path) = rest.strip_prefix("on ")?.trim_start().split_once('/')?;
            let (iface, hw) = path.split_once('/')?;
            if !matches!(kind, "LPF" | "BPF" | "NIT" | "DLPI") || iface.is_empty() {
                return None;
            }
            f.chaddr = Some(HwAddr::parse(hw)?);
            f.via = Some(Via::Interface(iface.to_string()));
            Kind::ClientListening
        }
        // `DHCPNAK from 10.77.0.1`
        "DHCPNAK" => {
            f.server_id = ip(rest.strip_prefix("from ")?);
            f.message_type = Some(MessageType::Nak);
            Kind::ClientNakReceived
        }
        // `bound to 10.77.0.50 -- renewal in 240 seconds.`
        "bound" => {
            let r = rest.strip_prefix("to ")?;
            f.leased = Some(ip(word(r).0)?);
            f.detail = text(msg);
            Kind::ClientBound
        }
        "No" if msg == "No DHCPOFFERS received." => Kind::ClientNoOffer,
        "No" if msg.starts_with("No working leases in persistent database") => {
            f.detail = text(msg);
            Kind::ClientGaveUp
        }
        "Unable" if msg.starts_with("Unable to obtain a lease on first try") => {
            f.detail = text(msg);
            Kind::ClientGaveUp
        }
        // `5 bad udp checksums in 5 packets`, `5 bad IP checksums seen in 5 packets`
        n if n.bytes().all(|c| c.is_ascii_digit()) && !n.is_empty() => {
            if rest.starts_with("bad udp checksums in ") {
                f.detail = text(msg);
                Kind::ClientBadUdpChecksums
            } else if rest.starts_with("bad IP checksums seen in ") {
                f.detail = text(msg);
                Kind::ClientBadIpChecksums
            } else {
                return None;
            }
        }
        _ => return None,
    };
    f.xid = trailing_xid(msg);
    Some(Parsed::new(kind, f))
}

/// `of ADDR from SERVER`, or `from SERVER` alone (dhclient before 4.4).
fn of_from(s: &str) -> Option<(Option<std::net::Ipv4Addr>, Option<std::net::Ipv4Addr>)> {
    if let Some(r) = s.strip_prefix("from ") {
        return Some((None, Some(ip(word(r).0)?)));
    }
    let r = s.strip_prefix("of ")?;
    let (addr, r) = word(r);
    let addr = ip(addr)?;
    let from = r.strip_prefix("from ").and_then(|x| ip(word(x).0));
    Some((Some(addr), from))
}

/// The `(xid=0x6ad2d7)` that dhclient 4.1 to 4.3 end their lines with.
fn trailing_xid(msg: &str) -> Option<u32> {
    let (_, x) = msg.rsplit_once("(xid=")?;
    hex_u32(x.strip_suffix(')')?)
}

/// `on IF to ...` -> the interface.
fn on_interface(s: &str) -> Option<Via> {
    let r = s.strip_prefix("on ")?;
    let name = word(r).0;
    (!name.is_empty()).then(|| Via::Interface(name.to_string()))
}

// ---------------------------------------------------------------- udhcpc

pub(crate) fn udhcpc(msg: &str) -> Option<Parsed> {
    let msg = msg.trim_end();
    let msg = msg.strip_prefix("udhcpc: ").unwrap_or(msg);
    // Older busybox capitalises and ends with "...".
    let lower = msg.trim_end_matches("...").to_ascii_lowercase();
    let m = lower.as_str();
    let mut f = Fields::default();
    let kind = if m == "sending discover" || m == "broadcasting discover" {
        f.message_type = Some(MessageType::Discover);
        Kind::ClientDiscoverSent
    } else if let Some(r) = m
        .strip_prefix("broadcasting select for ")
        .or_else(|| m.strip_prefix("sending select for "))
    {
        // `broadcasting select for 10.77.0.50, server 10.77.0.1`
        let (addr, r) = word(r);
        f.requested = ip(addr);
        f.server_id = r.strip_prefix("server ").and_then(ip);
        f.message_type = Some(MessageType::Request);
        Kind::ClientRequestSent
    } else if m == "broadcasting renew"
        || m == "sending renew"
        || m.starts_with("sending renew to server ")
    {
        f.server_id = m.strip_prefix("sending renew to server ").and_then(ip);
        f.message_type = Some(MessageType::Request);
        Kind::ClientRequestSent
    } else if let Some(r) = m.strip_prefix("lease of ") {
        // `lease of 10.77.0.50 obtained from 10.77.0.1, lease time 600`
        let (addr, r) = word(r);
        f.leased = Some(ip(addr)?);
        let r = r.strip_prefix("obtained")?;
        f.server_id = r
            .strip_prefix(" from ")
            .and_then(|x| ip(x.split(',').next().unwrap_or(x)));
        f.detail = text(msg);
        Kind::ClientBound
    } else if m == "received dhcp nak" || m == "received nak" {
        f.message_type = Some(MessageType::Nak);
        Kind::ClientNakReceived
    } else if m == "no lease, failing" || m == "no lease, forking to background" {
        f.detail = text(msg);
        Kind::ClientNoOffer
    } else if m == "broadcasting decline" || m.starts_with("offered address is in use") {
        f.message_type = Some(MessageType::Decline);
        f.detail = text(msg);
        Kind::ClientDeclineSent
    } else if let Some(r) = m.strip_prefix("unicasting a release of ") {
        let (addr, r) = word(r);
        f.leased = ip(addr);
        f.server_id = r.strip_prefix("to ").and_then(ip);
        f.message_type = Some(MessageType::Release);
        Kind::ClientReleaseSent
    } else if m == "sending release" {
        f.message_type = Some(MessageType::Release);
        Kind::ClientReleaseSent
    } else {
        return None;
    };
    Some(Parsed::new(kind, f))
}

// ---------------------------------------------------------------- dhcpcd

pub(crate) fn dhcpcd(msg: &str) -> Option<Parsed> {
    let msg = msg.trim_end();
    if msg == "timed out" {
        return Some(Parsed::new(
            Kind::ClientNoOffer,
            Fields {
                detail: text(msg),
                ..Fields::default()
            },
        ));
    }
    let (iface, m) = msg.split_once(": ")?;
    if iface.is_empty() || iface.contains(' ') {
        return None;
    }
    let mut f = Fields {
        via: Some(Via::Interface(iface.to_string())),
        ..Fields::default()
    };
    let (first, rest) = word(m);
    let kind = match first {
        // `soliciting a DHCP lease`
        "soliciting" if rest.starts_with("a DHCP lease") => {
            f.message_type = Some(MessageType::Discover);
            Kind::ClientDiscoverSent
        }
        // `sending DISCOVER (xid 0x36cd658d), next in 3.8 seconds` / `sending REQUEST with xid 0x..`
        "sending" => {
            let (ty, r) = word(rest);
            f.xid = r
                .split_once("xid ")
                .and_then(|(_, x)| hex_u32(x.split([')', ',', ' ']).next().unwrap_or(x)));
            match ty {
                "DISCOVER" => {
                    f.message_type = Some(MessageType::Discover);
                    Kind::ClientDiscoverSent
                }
                "REQUEST" => {
                    f.message_type = Some(MessageType::Request);
                    Kind::ClientRequestSent
                }
                "DECLINE" => {
                    f.message_type = Some(MessageType::Decline);
                    Kind::ClientDeclineSent
                }
                "RELEASE" => {
                    f.message_type = Some(MessageType::Release);
                    Kind::ClientReleaseSent
                }
                _ => return None,
            }
        }
        // `offered 10.77.0.50 from 10.77.0.1`, `acknowledged 10.77.0.50 from 10.77.0.1`
        "offered" | "acknowledged" => {
            let (addr, r) = word(rest);
            let addr = ip(addr)?;
            f.server_id = r.strip_prefix("from ").and_then(|x| ip(word(x).0));
            if first == "offered" {
                f.offered = Some(addr);
                f.message_type = Some(MessageType::Offer);
                Kind::ClientOfferReceived
            } else {
                f.leased = Some(addr);
                f.message_type = Some(MessageType::Ack);
                Kind::ClientAckReceived
            }
        }
        // `NAK: wrong network from 10.77.0.1`
        "NAK:" => {
            if let Some((reason, from)) = rest.rsplit_once(" from ") {
                f.server_id = ip(from);
                f.detail = text(reason);
            } else {
                f.detail = text(rest);
            }
            f.message_type = Some(MessageType::Nak);
            Kind::ClientNakReceived
        }
        // `leased 10.77.0.50 for 600 seconds`
        "leased" => {
            f.leased = Some(ip(word(rest).0)?);
            f.detail = text(m);
            Kind::ClientBound
        }
        // `renewing lease of X`, `rebinding lease of X`
        "renewing" | "rebinding" => {
            f.leased = rest.strip_prefix("lease of ").and_then(ip);
            f.message_type = Some(MessageType::Request);
            Kind::ClientRequestSent
        }
        "releasing" => {
            f.leased = rest.strip_prefix("lease of ").and_then(ip);
            f.message_type = Some(MessageType::Release);
            Kind::ClientReleaseSent
        }
        // `DAD detected 10.77.0.50`
        "DAD" if rest.starts_with("detected ") => {
            f.leased = ip(word(&rest[9..]).0);
            f.detail = text(m);
            Kind::ClientDeclineSent
        }
        // `checksum failure from 10.77.0.1`
        "checksum" if rest.starts_with("failure from ") => {
            f.server_id = ip(&rest[13..]);
            f.detail = text(m);
            Kind::ClientBadUdpChecksums
        }
        _ => return None,
    };
    Some(Parsed::new(kind, f))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_phrasings_are_disjoint_from_the_server_ones() {
        for l in [
            "DHCPDISCOVER from 02:00:00:00:0b:01 via s0",
            "DHCPREQUEST for 10.77.0.50 (10.77.0.1) from 32:18:50:af:9d:34 via s0",
            "DHCPRELEASE of 10.77.0.50 from 32:18:50:af:9d:34 via s0 (found)",
            "DHCPACK on 10.77.0.50 to 32:18:50:af:9d:34 via s0",
        ] {
            assert_eq!(dhclient(l), None, "{l}");
        }
    }

    #[test]
    fn dhclient_before_4_4() {
        // RHEL 7, Ubuntu 18.04 and older: `of` for REQUEST, no address in
        // OFFER and ACK, the xid at the end.
        let x = dhclient(
            "DHCPREQUEST of 192.168.1.64 on eth0 to 255.255.255.255 port 67 (xid=0x6ad2d7)",
        )
        .unwrap();
        assert_eq!(x.kind, Kind::ClientRequestSent);
        assert_eq!(x.fields.requested, Some("192.168.1.64".parse().unwrap()));
        assert_eq!(x.fields.xid, Some(0x6ad2d7));
        let x = dhclient("DHCPOFFER from 10.5.2.11").unwrap();
        assert_eq!(
            (x.kind, x.fields.offered),
            (Kind::ClientOfferReceived, None)
        );
        assert_eq!(x.fields.server_id, Some("10.5.2.11".parse().unwrap()));
        let x = dhclient("DHCPACK from 10.5.2.11 (xid=0x6ad2d7)").unwrap();
        assert_eq!(x.kind, Kind::ClientAckReceived);
        assert_eq!(
            (x.fields.server_id, x.fields.xid),
            (Some("10.5.2.11".parse().unwrap()), Some(0x6ad2d7))
        );
        let x =
            dhclient("DHCPDISCOVER on eth0 to 255.255.255.255 port 67 interval 3 (xid=0x1c3d5e)")
                .unwrap();
        assert_eq!(
            (x.kind, x.fields.xid),
            (Kind::ClientDiscoverSent, Some(0x1c3d5e))
        );
        assert_eq!(dhclient("DHCPOFFER from"), None);
    }

    #[test]
    fn old_udhcpc_phrasing() {
        assert_eq!(
            udhcpc("Sending discover...").unwrap().kind,
            Kind::ClientDiscoverSent
        );
        let x = udhcpc("Lease of 192.168.0.7 obtained, lease time 86400").unwrap();
        assert_eq!(x.kind, Kind::ClientBound);
        assert_eq!(x.fields.leased, Some("192.168.0.7".parse().unwrap()));
        assert_eq!(
            udhcpc("No lease, failing").unwrap().kind,
            Kind::ClientNoOffer
        );
        assert_eq!(
            udhcpc("Received DHCP NAK").unwrap().kind,
            Kind::ClientNakReceived
        );
    }

    #[test]
    fn dhcpcd_nak_with_reason() {
        let x = dhcpcd("eth0: NAK: wrong network from 10.0.0.1").unwrap();
        assert_eq!(x.kind, Kind::ClientNakReceived);
        assert_eq!(x.fields.detail.as_deref(), Some("wrong network"));
        assert_eq!(x.fields.server_id, Some("10.0.0.1".parse().unwrap()));
    }
}
