//! `dhcplens serve`'s lines (the server crate's `Decision::line`):
//!
//! ```text
//! DHCPDISCOVER from 02:00:00:0b:03:01 xid 0xc8c9ef08 via 10.1.0.1: dropped (min-secs): secs 0 is below min-secs 2: …; fix: …
//! DHCPDISCOVER from 02:00:00:0b:03:01 xid 0xc8c9ef08 via 10.1.0.1: OFFER 10.1.0.100 (to relay 10.1.0.1)
//! DHCPREQUEST from 02:00:00:09:02:01 xid 0x2eb00700 via eth0: NAK 192.168.77.23 (wrong-network): …
//! ```
//!
//! The reason code in parentheses decides the [`Kind`]; its sentence is kept
//! as the detail. A client without a hardware address is `from -`.

use wire::MessageType;

use crate::event::{Fields, Kind, Via};
use crate::scan::{hex_u32, ip, mac, text, word, Parsed};

pub(crate) fn parse(msg: &str) -> Option<Parsed> {
    let (head, rest) = msg.split_once(": ")?;
    let mut w = head.split(' ');
    let what = w.next()?;
    let message_type = (1..=18u8).map(MessageType::from).find(|t| t.name() == what);
    if message_type.is_none() && what != "BOOTREQUEST" {
        return None;
    }
    let ["from", hw, "xid", xid, "via", via] = [(); 6].map(|()| w.next().unwrap_or_default())
    else {
        return None;
    };
    if w.next().is_some() {
        return None;
    }
    // A client without a hardware address (hlen 0, or a request too short
    // to read): `-`, or an empty word in lines of servers before it.
    let chaddr = match hw {
        "-" | "" => None,
        hw => Some(mac(hw)?),
    };
    let mut f = Fields {
        chaddr,
        xid: Some(hex_u32(xid)?),
        message_type,
        via: Some(Via::parse(via)),
        ..Fields::default()
    };
    let (verb, after) = word(rest);
    let received = || -> Option<Kind> {
        Some(match message_type? {
            MessageType::Discover => Kind::DiscoverReceived,
            MessageType::Request => Kind::RequestReceived,
            MessageType::Decline => Kind::DeclineReceived,
            MessageType::Release => Kind::ReleaseReceived,
            MessageType::Inform => Kind::InformReceived,
            _ => return None,
        })
    };
    let kind = match verb {
        "OFFER" | "ACK" | "RELEASE" | "DECLINE" | "INFORM" => {
            let addr = ip(word(after).0);
            match verb {
                "OFFER" => {
                    f.offered = addr;
                    Kind::OfferSent
                }
                "ACK" => {
                    f.leased = addr;
                    Kind::AckSent
                }
                "RELEASE" => {
                    f.leased = addr;
                    Kind::ReleaseReceived
                }
                "DECLINE" => {
                    f.leased = addr;
                    Kind::AddressDeclined
                }
                _ => Kind::InformReceived,
            }
        }
        "dropped" | "NAK" => {
            let (addr, after) = match ip(word(after).0) {
                Some(a) => (Some(a), word(after).1),
                None => (None, after),
            };
            let (code, sentence) = after.strip_prefix('(')?.split_once("): ")?;
            let sentence = sentence.split_once("; fix: ").map_or(sentence, |(s, _)| s);
            f.requested = addr.filter(|_| message_type != Some(MessageType::Discover));
            f.detail = text(&format!("{code}: {sentence}"));
            match code {
                "min-secs" => {
                    // `secs 0 is below min-secs 2: …`
                    let mut n = sentence
                        .split([' ', ':'])
                        .filter_map(|x| x.parse::<u32>().ok());
                    f.secs = n.next();
                    f.min_secs = n.next();
                    Kind::MinSecsDrop
                }
                "pool-exhausted" => Kind::PoolExhausted,
                "unknown-network-segment" => Kind::UnknownNetworkSegment,
                "no-subnet-for-interface" => Kind::NoSubnetForInterface,
                "not-authoritative" => Kind::NotAuthoritative,
                "wrong-network" => Kind::NakWrongNetwork,
                "address-taken" | "outside-pool" | "not-its-address" | "declined-by-client"
                | "not-leasable" => Kind::NakAddressUnavailable,
                "other-server-chosen" => {
                    f.server_id = sentence
                        .strip_prefix("the client chose server ")
                        .and_then(|s| ip(word(s).0));
                    Kind::ForeignServerId
                }
                "bootp-not-served" => Kind::BootpIgnored,
                "client-ignored" | "unknown-client" => Kind::ClientIgnored,
                "ping-answered" => {
                    f.offered = addr;
                    f.requested = None;
                    Kind::PingConflict
                }
                "malformed" => Kind::MalformedPacket,
                // no-record, no-requested-address, not-its-lease, fragmented,
                // decline-without-address,
                // inform-without-ciaddr, inform-wrong-network, vlan-tagged, bad-checksum,
                // not-for-this-server, unsupported-message, not-a-request:
                // the request, with why.
                _ => received()?,
            }
        }
        _ => return None,
    };
    Some(Parsed::new(kind, f))
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;

    #[test]
    fn every_kind_of_line_is_read_with_its_fields() {
        let p = parse("DHCPDISCOVER from 02:00:00:0b:03:01 xid 0xc8c9ef08 via 10.1.0.1: dropped (min-secs): secs 0 is below min-secs 2: the client must have been trying for 2 s first (a client that never counts secs is never answered); fix: lower --min-secs below 2 (to 0), or give the client one that counts secs").unwrap();
        assert_eq!(p.kind, Kind::MinSecsDrop);
        assert_eq!((p.fields.secs, p.fields.min_secs), (Some(0), Some(2)));
        assert_eq!(p.fields.xid, Some(0xc8c9ef08));
        assert_eq!(p.fields.via, Some(Via::Relay(Ipv4Addr::new(10, 1, 0, 1))));
        assert_eq!(p.fields.message_type, Some(MessageType::Discover));
        assert!(p
            .fields
            .detail
            .unwrap()
            .starts_with("min-secs: secs 0 is below"));

        let p = parse("DHCPREQUEST from 02:00:00:09:02:01 xid 0x2eb00700 via eth0: NAK 192.168.77.23 (wrong-network): 192.168.77.23 is not on 10.0.0.0/24, the network the request came from; fix: none needed (to broadcast)").unwrap();
        assert_eq!(p.kind, Kind::NakWrongNetwork);
        assert_eq!(p.fields.requested, Some(Ipv4Addr::new(192, 168, 77, 23)));
        assert_eq!(p.fields.via, Some(Via::Interface("eth0".into())));

        let p = parse("DHCPDISCOVER from 02:00:00:0c:02:01 xid 0xb38e0f3c via eth0: OFFER 10.0.0.100 (to 10.0.0.100 at 02:00:00:0c:02:01)").unwrap();
        assert_eq!(
            (p.kind, p.fields.offered),
            (Kind::OfferSent, Some(Ipv4Addr::new(10, 0, 0, 100)))
        );
        let p = parse("DHCPREQUEST from 02:00:00:0c:02:01 xid 0xb38e0f3c via eth0: ACK 10.0.0.100 (to unicast 10.0.0.100)").unwrap();
        assert_eq!(
            (p.kind, p.fields.leased),
            (Kind::AckSent, Some(Ipv4Addr::new(10, 0, 0, 100)))
        );
        let p = parse("DHCPREQUEST from 02:00:00:0c:02:01 xid 0xb38e0f3c via eth0: dropped 10.0.0.100 (other-server-chosen): the client chose server 10.0.0.2 (option 54); this server's offer is withdrawn").unwrap();
        assert_eq!(
            (p.kind, p.fields.server_id),
            (Kind::ForeignServerId, Some(Ipv4Addr::new(10, 0, 0, 2)))
        );
        let p = parse("DHCPREQUEST from 02:00:00:09:02:01 xid 0x2eb00700 via eth0: dropped 192.168.77.23 (no-record): no record of a lease of 192.168.77.23 for this client; RFC 2131 §4.3.2 says to stay silent; fix: none needed").unwrap();
        assert_eq!(p.kind, Kind::RequestReceived);
        assert!(p
            .fields
            .detail
            .unwrap()
            .starts_with("no-record: no record of a lease"));
        for (line, kind) in [
            ("DHCPDISCOVER from 02:00:00:00:00:01 xid 0x00000001 via eth0: dropped (pool-exhausted): all 2 addresses of 10.0.0.0/24's ranges are held", Kind::PoolExhausted),
            ("DHCPDISCOVER from 02:00:00:00:00:01 xid 0x00000001 via eth0: dropped 10.0.0.100 (ping-answered): 10.0.0.100 answered the ping before the offer: another host uses it; kept out of use for 600 s, another address is offered", Kind::PingConflict),
            ("DHCPDISCOVER from 02:00:00:00:00:01 xid 0x00000001 via 10.9.0.1: dropped (unknown-network-segment): relayed with giaddr 10.9.0.1, and no subnet contains it", Kind::UnknownNetworkSegment),
            ("DHCPDISCOVER from 02:00:00:00:00:01 xid 0x00000001 via eth9: dropped (no-subnet-for-interface): the request came on eth9 (172.16.0.1), and no subnet contains that address", Kind::NoSubnetForInterface),
            ("DHCPREQUEST from 02:00:00:00:00:01 xid 0x00000001 via eth0: dropped 192.168.77.23 (not-authoritative): would NAK (wrong-network: …), but the server is not authoritative, so it stays silent", Kind::NotAuthoritative),
            ("DHCPREQUEST from 02:00:00:00:00:01 xid 0x00000001 via eth0: NAK 10.0.0.100 (address-taken): 10.0.0.100 is bound to another client, 02:00:00:0c:02:01", Kind::NakAddressUnavailable),
            ("DHCPREQUEST from 02:00:00:00:00:01 xid 0x00000001 via 10.1.0.1: NAK 10.1.0.1 (not-leasable): 10.1.0.1 is the relay's own address (giaddr): a range holds it, but it is never leased", Kind::NakAddressUnavailable),
            ("BOOTREQUEST from 02:00:00:00:00:01 xid 0x00000001 via eth0: dropped (bootp-not-served): no option 53", Kind::BootpIgnored),
            ("DHCPDISCOVER from 02:00:00:00:00:01 xid 0x00000001 via eth0: dropped (client-ignored): 02:00:00:00:00:01 is on the ignore list: the server never answers it", Kind::ClientIgnored),
            ("DHCPDISCOVER from 02:00:00:00:00:01 xid 0x00000001 via eth0: dropped (unknown-client): 02:00:00:00:00:01 has no reservation, and the server serves known clients only", Kind::ClientIgnored),
            ("DHCPDISCOVER from 02:00:00:00:00:01 xid 0x00000001 via eth0: dropped (malformed): the message cannot be read: …", Kind::MalformedPacket),
            ("DHCPRELEASE from 02:00:00:00:00:01 xid 0x00000001 via eth0: RELEASE 10.0.0.100", Kind::ReleaseReceived),
            ("DHCPDECLINE from 02:00:00:00:00:01 xid 0x00000001 via eth0: DECLINE 10.0.0.10", Kind::AddressDeclined),
            ("DHCPINFORM from 02:00:00:00:00:01 xid 0x00000001 via eth0: INFORM 10.0.0.7 (to unicast 10.0.0.7)", Kind::InformReceived),
        ] {
            assert_eq!(parse(line).map(|p| p.kind), Some(kind), "{line}");
        }
        // ISC dhcpd's phrasing is not this one's, nor is anything cut short.
        for line in [
            "DHCPDISCOVER from 02:00:00:00:0b:01 via s0",
            "DHCPDISCOVER from 02:00:00:00:0b:01 via s0: network 10.0.0.0/24: no free leases",
            "DHCPDISCOVER from 02:00:00:00:00:01 xid 0x00000001 via eth0: dropped (min-secs",
            "DHCPDISCOVER from 02:00:00:00:00:01 xid zz via eth0: OFFER 10.0.0.1",
            "DHCPDISCOVER from 02:00:00:00:00:01 xid 0x1 via eth0 extra: OFFER 10.0.0.1",
            "DHCPDISCOVER from xid 0x1 via eth0: OFFER 10.0.0.1",
        ] {
            assert!(parse(line).is_none(), "{line}");
        }
    }
}

#[cfg(test)]
mod without_chaddr {
    use super::*;

    /// Lines `dhcplens serve` writes for a request too short to read and
    /// for a client with hlen 0 (IPoIB behind a relay) name no hardware
    /// address: `-` now, an empty word before. Both are read, with no
    /// chaddr, so the server's malformed drops and its IPoIB decisions no
    /// longer vanish from `dhcplens logs`. Fails on the previous build.
    #[test]
    fn the_servers_lines_without_a_hardware_address_are_read() {
        for line in [
            "BOOTREQUEST from - xid 0x00000000 via eth0: dropped (malformed): the message cannot be read: at byte 0: only 6 bytes: a BOOTP/DHCP message needs at least 236 for its fixed header; fix: fix the client (a capture of it shows the bytes)",
            "DHCPDISCOVER from - xid 0x12345678 via eth0: OFFER 10.0.0.100 (to broadcast)",
            "BOOTREQUEST from  xid 0x00000000 via eth0: dropped (malformed): the message cannot be read: at byte 0: only 6 bytes: a BOOTP/DHCP message needs at least 236 for its fixed header; fix: fix the client (a capture of it shows the bytes)",
            "DHCPDISCOVER from  xid 0x12345678 via eth0: OFFER 10.0.0.100 (to broadcast)",
        ] {
            let p = parse(line).unwrap_or_else(|| panic!("not read: {line}"));
            assert_eq!(p.fields.chaddr, None, "{line}");
        }
        assert!(parse("DHCPDISCOVER from -- xid 0x12345678 via eth0: OFFER 10.0.0.100").is_none());
    }
}

#[cfg(test)]
mod framed {
    use crate::event::Program;
    use crate::parser::{Outcome, Parser};

    /// As `dhcplens serve` writes it: an RFC 3339 stamp and its tag.
    #[test]
    fn a_serve_line_names_its_program_and_time() {
        let line = "2026-12-07T12:00:00.123456Z dhcplens[42]: DHCPDISCOVER from 02:00:00:0b:03:01 xid 0xc8c9ef08 via 10.1.0.1: dropped (min-secs): secs 0 is below min-secs 2: …";
        let Outcome::Event(e) = Parser::default().parse_line(7, line) else {
            panic!("not read: {line}");
        };
        assert_eq!((e.program, e.pid, e.line), (Program::Dhcplens, Some(42), 7));
        assert_eq!(e.time, Some(1_796_644_800_123_456_000));
        assert_eq!(e.cause().map(|c| c.code()), Some("min-secs-drop"));
        // Its own fix, not ISC dhcpd's `min-secs 0;`.
        let line = format!(
            "{line}; fix: lower --min-secs below 2 (to 0), or give the client one that counts secs"
        );
        let Outcome::Event(e) = Parser::default().parse_line(7, &line) else {
            panic!("not read: {line}");
        };
        assert_eq!(
            e.fix(),
            "lower --min-secs below 2 (to 0), or give the client one that counts secs"
        );
        let nak = "2026-12-07T12:00:00Z dhcplens[42]: DHCPREQUEST from 02:00:00:09:02:01 xid 0x2eb00700 via eth0: NAK 192.168.77.23 (wrong-network): 192.168.77.23 is not on 10.0.0.0/24, the network the request came from; fix: none needed: the client starts over with DISCOVER on this network (to broadcast)";
        let Outcome::Event(e) = Parser::default().parse_line(8, nak) else {
            panic!("not read: {nak}");
        };
        assert_eq!(
            e.fix(),
            "none needed: the client starts over with DISCOVER on this network"
        );
    }
}
