//! Kea 2.2 `kea-dhcp4` messages, by message id (texts from Kea 2.2's
//! `src/bin/dhcp4/dhcp4_messages.mes`, `src/lib/dhcpsrv/alloc_engine_messages.mes`,
//! `dhcpsrv_messages.mes` and the HA hook's `ha_messages.mes`; checked against
//! kea-dhcp4 2.2.0 logs recorded in the lab).
//!
//! A message is `[SEVERITY [logger.tid]] MESSAGE_ID text`: the bracketed prefix is
//! there in syslog and journald (Kea's own files carry it in the framing). Most
//! per-packet messages start with the label
//! `[hwtype=1 aa:bb:cc:dd:ee:ff], cid=[01:aa:...], tid=0x1a2b3c4d`.

use std::net::Ipv4Addr;

use wire::MessageType;

use crate::event::{Fields, Kind, Via};
use crate::scan::{between, hex_bytes, hex_u32, ip, mac, text, word, Parsed};

pub(crate) fn parse(msg: &str) -> Option<Parsed> {
    let msg = strip_severity_and_logger(msg.trim());
    let (id, text_) = word(msg);
    if !is_message_id(id) {
        return None;
    }
    let mut f = Fields::default();
    label(text_, &mut f);
    let kind = classify(id, text_, &mut f)?;
    Some(Parsed {
        kind,
        fields: f,
        message_id: Some(id.to_string()),
    })
}

/// `INFO  [kea-dhcp4.leases.139668778189312] REST` -> `REST`.
fn strip_severity_and_logger(msg: &str) -> &str {
    let (sev, rest) = word(msg);
    if matches!(sev, "FATAL" | "ERROR" | "WARN" | "INFO" | "DEBUG") {
        let rest = rest.trim_start();
        if let Some(r) = rest.strip_prefix('[') {
            if let Some((_, after)) = r.split_once("] ") {
                return after;
            }
        }
    }
    msg
}

fn is_message_id(id: &str) -> bool {
    id.len() >= 4
        && id.contains('_')
        && id.as_bytes()[0].is_ascii_uppercase()
        && id
            .bytes()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == b'_')
}

/// Reads chaddr, client id and xid from the label wherever it is in the text, and
/// `transid=0x..` of packet dumps.
fn label(s: &str, f: &mut Fields) {
    if let Some((hw, _)) = between(s, "[hwtype=", "]") {
        // `1 aa:bb:cc:dd:ee:ff`
        f.chaddr = mac(word(hw).1);
    }
    if let Some((cid, _)) = between(s, "cid=[", "]") {
        f.client_id = hex_bytes(cid);
    }
    // `tid=0x...` of the label, or `transid=0x...` of a packet summary.
    if let Some((_, t)) = s.split_once("tid=").or_else(|| s.split_once("transid=")) {
        let end = t
            .find(|c: char| !(c.is_ascii_hexdigit() || c == 'x' || c == 'X'))
            .unwrap_or(t.len());
        f.xid = hex_u32(&t[..end]);
    }
}

/// The text after the label's `: ` (or the whole text when there is no label).
fn after_label(s: &str) -> &str {
    if s.starts_with('[') {
        if let Some((_, rest)) = s.split_once(": ") {
            return rest;
        }
    }
    s
}

fn message_type_named(s: &str) -> Option<MessageType> {
    Some(match s {
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

/// The first IPv4 address after `key`.
fn ip_after(s: &str, key: &str) -> Option<Ipv4Addr> {
    let (_, rest) = s.split_once(key)?;
    ip(word(rest.trim_start()).0)
}

/// `... on interface IF` / `... over interface IF` / `from interface IF`.
fn interface(s: &str) -> Option<Via> {
    let (_, rest) = s
        .split_once("on interface ")
        .or_else(|| s.split_once("over interface "))
        .or_else(|| s.split_once("from interface "))?;
    let name = word(rest).0.trim_end_matches([',', ':', '.']);
    (!name.is_empty()).then(|| Via::Interface(name.to_string()))
}

fn classify(id: &str, t: &str, f: &mut Fields) -> Option<Kind> {
    let body = after_label(t);
    let kind = match id {
        // ---- normal steps
        "DHCP4_PACKET_RECEIVED" => {
            // `DHCPDISCOVER (type 1) received from 0.0.0.0 to 255.255.255.255 on interface s0`
            let ty = message_type_named(word(body).0)?;
            f.message_type = Some(ty);
            f.via = interface(body);
            match ty {
                MessageType::Discover => Kind::DiscoverReceived,
                MessageType::Request => Kind::RequestReceived,
                MessageType::Decline => Kind::DeclineReceived,
                MessageType::Release => Kind::ReleaseReceived,
                MessageType::Inform => Kind::InformReceived,
                _ => return None,
            }
        }
        "DHCP4_PACKET_SEND" => {
            // `trying to send packet DHCPOFFER (type 2) from 10.77.0.1:67 to 10.77.0.50:68 on interface s0`
            let rest = body.strip_prefix("trying to send packet ")?;
            let ty = message_type_named(word(rest).0)?;
            f.message_type = Some(ty);
            f.via = interface(rest);
            match ty {
                MessageType::Offer => Kind::OfferSent,
                MessageType::Ack => Kind::AckSent,
                MessageType::Nak => Kind::NakSent,
                _ => return None,
            }
        }
        "DHCP4_LEASE_ADVERT" => {
            f.offered = ip_after(body, "lease ");
            f.message_type = Some(MessageType::Offer);
            Kind::LeaseOffered
        }
        "DHCP4_LEASE_ALLOC" | "DHCP4_LEASE_REUSE" => {
            f.leased = ip_after(body, "lease ");
            f.message_type = Some(MessageType::Ack);
            Kind::LeaseGranted
        }
        "DHCP4_INIT_REBOOT" => {
            f.requested = ip_after(body, "requests address");
            f.message_type = Some(MessageType::Request);
            Kind::InitRebootRequest
        }
        "DHCP4_RELEASE" | "DHCP4_RELEASE_FAIL_NO_LEASE" | "DHCP4_RELEASE_FAIL_WRONG_CLIENT" => {
            f.leased = ip_after(body, "address ").or_else(|| ip_after(body, "lease "));
            f.message_type = Some(MessageType::Release);
            f.detail = text(body);
            if id == "DHCP4_RELEASE" {
                Kind::ReleaseReceived
            } else {
                Kind::ReleaseIgnored
            }
        }
        // Honoured (the lease is declined for a probation period), or not:
        // no lease of that address, or another client's (Kea ignores it).
        "DHCP4_DECLINE_LEASE"
        | "DHCP4_DECLINE_LEASE_NOT_FOUND"
        | "DHCP4_DECLINE_LEASE_MISMATCH" => {
            f.leased = ip_after(body, "for addr");
            f.message_type = Some(MessageType::Decline);
            f.detail = text(body);
            if id == "DHCP4_DECLINE_LEASE" {
                Kind::AddressDeclined
            } else {
                Kind::DeclineIgnored
            }
        }
        // ---- why a client gets nothing
        "DHCP4_PACKET_DROP_0001" | "HA_BUFFER4_RECEIVE_UNPACK_FAILED" => {
            // `failed to parse packet from A to B, received over interface I, reason: R`
            f.via = interface(body);
            f.detail = body.split_once("reason: ").and_then(|(_, r)| text(r));
            Kind::MalformedPacket
        }
        "DHCP4_PACKET_DROP_0002" => {
            f.via = interface(t);
            Kind::NoSubnetForInterface
        }
        "DHCP4_PACKET_DROP_0003" => {
            f.via = interface(t);
            Kind::ForeignServerId
        }
        "DHCP4_PACKET_DROP_0004" | "DHCP4_PACKET_DROP_0005" => {
            f.via = interface(t);
            f.detail = text(body);
            Kind::MalformedPacket
        }
        "DHCP4_PACKET_DROP_0009" => Kind::BootpIgnored,
        "DHCP4_PACKET_DROP_0008" => {
            f.detail = text(body);
            Kind::ServerNotResponding
        }
        "DHCP4_PACKET_DROP_0010" | "DHCP4_PACKET_DROP_0013" | "DHCP4_PACKET_DROP_0014" => {
            // The packet summary: `..., msg_type=DHCPDISCOVER (1), transid=0xa070001,`
            // (its xid was read with the label).
            if let Some((ty, _)) = between(t, "msg_type=", " (") {
                f.message_type = message_type_named(ty);
            }
            f.detail = Some("special class 'DROP'".to_string());
            Kind::ClientIgnored
        }
        "DHCP4_PACKET_NAK_0001" => {
            // `failed to select a subnet for incoming packet, src 10.77.0.2, type DHCPDISCOVER`
            f.detail = text(body);
            if let Some((_, ty)) = body.split_once("type ") {
                f.message_type = message_type_named(word(ty).0);
            }
            Kind::SubnetSelectionFailed
        }
        "DHCP4_SUBNET_SELECTION_FAILED" => Kind::SubnetSelectionFailed,
        "DHCPSRV_SUBNET4_SELECT_BY_RELAY_ADDRESS_NO_MATCH" => {
            f.via = Some(Via::Relay(ip_after(body, "relay address:")?));
            Kind::UnknownNetworkSegment
        }
        "DHCP4_PACKET_NAK_0002" => {
            f.requested = ip_after(body, "invalid address");
            f.message_type = Some(MessageType::Request);
            Kind::NakInitReboot
        }
        "DHCP4_PACKET_NAK_0003" => {
            // `failed to advertise a lease, client sent ciaddr A, requested-ip-address B`
            f.requested = ip_after(body, "requested-ip-address");
            f.message_type = Some(MessageType::Discover);
            Kind::AllocationFailed
        }
        "DHCP4_PACKET_NAK_0004" => {
            f.requested = ip_after(body, "requested-ip-address");
            f.message_type = Some(MessageType::Request);
            f.detail = text(body);
            Kind::NakAddressUnavailable
        }
        "DHCP4_NO_LEASE_INIT_REBOOT" => {
            f.requested = ip_after(body, "for address");
            f.message_type = Some(MessageType::Request);
            Kind::NotAuthoritative
        }
        "ALLOC_ENGINE_V4_ALLOC_FAIL_SUBNET" => {
            // `failed to allocate an IPv4 lease in the subnet S, subnet-id N, shared network X`
            f.network = body
                .split_once("in the subnet ")
                .map(|(_, s)| word(s).0.trim_end_matches(','))
                .and_then(text);
            f.detail = text(body);
            Kind::PoolExhausted
        }
        "ALLOC_ENGINE_V4_ALLOC_FAIL_SHARED_NETWORK" => {
            f.network = body
                .split_once("in the shared network ")
                .map(|(_, s)| s.split(':').next().unwrap_or(s))
                .and_then(text);
            f.detail = text(body);
            Kind::PoolExhausted
        }
        "ALLOC_ENGINE_V4_ALLOC_FAIL" | "ALLOC_ENGINE_V4_ALLOC_FAIL_CLASSES" => {
            f.detail = text(body);
            Kind::PoolExhausted
        }
        "ALLOC_ENGINE_V4_ALLOC_FAIL_NO_POOLS" => Kind::NoPoolForClient,
        "ALLOC_ENGINE_V4_ALLOC_ERROR" => {
            f.detail = text(body);
            Kind::AllocationFailed
        }
        "DHCP4_PACKET_OPTIONS_SKIPPED"
        | "DHCP4_PACKET_OPTION_UNPACK_FAIL"
        | "HA_BUFFER4_RECEIVE_PACKET_OPTIONS_SKIPPED"
        | "DHCP4_CLIENT_HOSTNAME_MALFORMED"
        | "DHCP4_CLIENT_NAME_PROC_FAIL" => {
            f.detail = text(body);
            Kind::MalformedOption
        }
        "DHCP4_BUFFER_RECEIVE_FAIL" => {
            // Also socket errors; only a packet that failed to parse is malformed.
            let lower = body.to_ascii_lowercase();
            if !(lower.contains("truncated")
                || lower.contains("malformed")
                || lower.contains("parse"))
            {
                return None;
            }
            f.detail = text(body);
            Kind::MalformedPacket
        }
        "DHCP4_NO_SOCKETS_OPEN" => Kind::NotListening,
        // ---- HA
        "HA_BUFFER4_RECEIVE_NOT_FOR_US" => Kind::LoadBalancedToPeer,
        "HA_STATE_TRANSITION" | "HA_STATE_TRANSITION_PASSIVE_BACKUP" | "HA_LOCAL_DHCP_ENABLE" => {
            f.detail = text(body);
            Kind::FailoverStateChange
        }
        "HA_LOCAL_DHCP_DISABLE" | "HA_TERMINATED" => {
            f.detail = text(body);
            Kind::ServerNotResponding
        }
        "HA_HEARTBEAT_COMMUNICATIONS_FAILED"
        | "HA_HEARTBEAT_FAILED"
        | "HA_COMMUNICATION_INTERRUPTED"
        | "HA_COMMUNICATION_INTERRUPTED_CLIENT4"
        | "HA_COMMUNICATION_INTERRUPTED_CLIENT4_UNACKED"
        | "HA_LEASE_UPDATE_COMMUNICATIONS_FAILED"
        | "HA_LEASE_UPDATE_FAILED"
        | "HA_SYNC_FAILED" => {
            f.detail = text(body);
            Kind::PeerUnreachable
        }
        _ => return None,
    };
    Some(kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_with_client_id_and_syslog_prefix() {
        let x = parse("INFO  [kea-dhcp4.leases.139668778189312] DHCP4_LEASE_ALLOC [hwtype=1 02:00:00:00:0a:09], cid=[01:02:00:00:00:0a:09], tid=0xa090001: lease 10.77.0.51 has been allocated for 600 seconds").unwrap();
        assert_eq!(x.kind, Kind::LeaseGranted);
        assert_eq!(x.message_id.as_deref(), Some("DHCP4_LEASE_ALLOC"));
        assert_eq!(x.fields.chaddr.unwrap().to_string(), "02:00:00:00:0a:09");
        assert_eq!(x.fields.client_id, Some(vec![1, 2, 0, 0, 0, 0x0a, 0x09]));
        assert_eq!(x.fields.xid, Some(0x0a09_0001));
        assert_eq!(x.fields.leased, Some(Ipv4Addr::new(10, 77, 0, 51)));
    }

    #[test]
    fn declines_and_releases_the_server_refused_are_told_apart() {
        let client = "[hwtype=1 02:00:00:0d:03:01], cid=[no info], tid=0xf531dc86";
        for (line, kind) in [
            (format!("DHCP4_DECLINE_LEASE Received DHCPDECLINE for addr 10.0.0.10 from client {client}. The lease will be unavailable for 86400 seconds."), Kind::AddressDeclined),
            (format!("DHCP4_DECLINE_LEASE_NOT_FOUND Received DHCPDECLINE for addr 10.0.0.10 from client {client}, but no such lease found."), Kind::DeclineIgnored),
            (format!("DHCP4_DECLINE_LEASE_MISMATCH Received DHCPDECLINE for addr 10.0.0.10 from client {client}, but the data doesn't match: received hwaddr: hwtype=1 02:00:00:0d:03:01, lease hwaddr: hwtype=1 02:00:00:0d:09:09, received client-id: no info, lease client-id: no info"), Kind::DeclineIgnored),
            (format!("DHCP4_RELEASE {client}: address 10.0.0.10 was released properly."), Kind::ReleaseReceived),
            (format!("DHCP4_RELEASE_FAIL_WRONG_CLIENT {client}: client is trying to release the lease 10.0.0.10 which belongs to a different client"), Kind::ReleaseIgnored),
            (format!("DHCP4_RELEASE_FAIL_NO_LEASE {client}: client is trying to release non-existing lease 10.0.0.10"), Kind::ReleaseIgnored),
        ] {
            let x = parse(&line).unwrap_or_else(|| panic!("{line}"));
            assert_eq!(x.kind, kind, "{line}");
            assert_eq!(x.fields.chaddr.unwrap().to_string(), "02:00:00:0d:03:01");
        }
        // What each means: only an honoured DECLINE takes the address out.
        assert!(Kind::DeclineIgnored
            .meaning()
            .contains("did not take it out of service"));
        assert!(Kind::ReleaseIgnored.cause().is_none());
    }

    #[test]
    fn unknown_ids_and_other_text_are_not_events() {
        assert_eq!(
            parse("DHCP4_STARTED Kea DHCPv4 server version 2.2.0 started"),
            None
        );
        assert_eq!(parse("DHCPDISCOVER from 02:00:00:00:0b:01 via s0"), None);
        assert_eq!(parse(""), None);
    }
}
