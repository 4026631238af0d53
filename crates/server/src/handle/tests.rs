//! Decisions on real requests: packets the lab recorded from dhclient,
//! udhcpc, dhcpcd and dhcrelay (`examples/`).

use super::*;
use crate::config::Subnet;

/// The UDP payload of frame `n` (1-based) of `examples/CASE/FILE`.
fn payload(case_file: &str, n: u64) -> Vec<u8> {
    let path = format!("{}/../../examples/{case_file}", env!("CARGO_MANIFEST_DIR"));
    let mut r = capture::read::open(&path).unwrap();
    while let Some(p) = r.next_packet().unwrap() {
        if p.number == n {
            let f = wire::frame::decode(p.link, p.data, p.orig_len).unwrap();
            return f.payload.to_vec();
        }
    }
    panic!("{path} has no frame {n}");
}

const SERVER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);

fn server() -> Server {
    let mut lan = Subnet::parse("10.0.0.0/24,range=10.0.0.100-10.0.0.101,router=10.0.0.1").unwrap();
    lan.dns.push(Ipv4Addr::new(10, 0, 0, 53));
    let relayed = Subnet::parse("10.1.0.0/24,range=10.1.0.50-10.1.0.59").unwrap();
    Server::new(Config::new(SERVER, vec![lan, relayed]))
}

fn on_lan(now_ms: u64, broadcast: bool) -> Arrival<'static> {
    Arrival {
        iface: "eth0",
        iface_addr: SERVER,
        broadcast,
        now_ms,
    }
}

fn reply(d: &Decision) -> (&Message<'static>, Dest) {
    let (m, to) = d
        .reply
        .as_ref()
        .unwrap_or_else(|| panic!("no reply: {d:?}"));
    (m, *to)
}

/// dhclient (examples/renew-rebind-release): DISCOVER, REQUEST, a unicast
/// renewal, a broadcast rebind and a RELEASE.
const DHCLIENT: &str = "renew-rebind-release/client.pcap";

#[test]
fn dhclient_gets_offered_acked_renewed_rebound_and_released() {
    let mut s = server();
    let d = s.handle(&payload(DHCLIENT, 1), &on_lan(0, true));
    assert_eq!((d.action, d.reason.as_ref()), (Action::Offer, None));
    let (m, to) = reply(&d);
    assert_eq!(m.yiaddr, Ipv4Addr::new(10, 0, 0, 100));
    assert_eq!(m.xid, 0xb38e0f3c);
    assert_eq!(m.chaddr().hex().as_str(), "02:00:00:0c:02:01");
    assert_eq!(m.message_type(), Some(MessageType::Offer));
    assert_eq!(m.server_id(), Some(SERVER));
    assert_eq!(m.lease_time(), Some(3600));
    assert_eq!(m.renewal_time(), Some(1800));
    assert_eq!(m.rebinding_time(), Some(3150));
    assert_eq!(m.subnet_mask(), Some(Ipv4Addr::new(255, 255, 255, 0)));
    assert_eq!(m.option(code::ROUTER).as_deref(), Some(&[10, 0, 0, 1][..]));
    assert_eq!(
        m.option(code::DOMAIN_NAME_SERVER).as_deref(),
        Some(&[10, 0, 0, 53][..])
    );
    // dhclient asks without the broadcast flag: to yiaddr at its MAC.
    assert_eq!(
        to,
        Dest::Hardware {
            ip: Ipv4Addr::new(10, 0, 0, 100),
            mac: [2, 0, 0, 0x0c, 2, 1]
        }
    );
    // What goes on the wire reads back as the same message.
    let bytes = m.encode(wire::dhcp::BOOTP_MIN_LEN);
    assert_eq!(Message::parse(&bytes).unwrap(), *m);

    let d = s.handle(&payload(DHCLIENT, 3), &on_lan(100, true));
    assert_eq!(d.action, Action::Ack, "{:?}", d.reason);
    let (m, _) = reply(&d);
    assert_eq!(m.yiaddr, Ipv4Addr::new(10, 0, 0, 100));
    assert_eq!(m.ciaddr, Ipv4Addr::UNSPECIFIED);
    let lease = s.leases().get(Ipv4Addr::new(10, 0, 0, 100)).unwrap();
    assert_eq!(lease.state, crate::leases::State::Bound);
    assert_eq!(lease.expires_ms, 100 + 3_600_000);

    // Renewal, unicast from ciaddr: the ACK goes back to ciaddr.
    let d = s.handle(&payload(DHCLIENT, 5), &on_lan(4_000, false));
    assert_eq!(d.action, Action::Ack, "{:?}", d.reason);
    let (m, to) = reply(&d);
    assert_eq!(
        (m.ciaddr, to),
        (Ipv4Addr::new(10, 0, 0, 100), Dest::Unicast(m.ciaddr))
    );
    assert_eq!(
        s.leases().get(m.ciaddr).unwrap().expires_ms,
        4_000 + 3_600_000
    );
    // Rebinding, broadcast.
    let d = s.handle(&payload(DHCLIENT, 12), &on_lan(15_000, true));
    assert_eq!(d.action, Action::Ack, "{:?}", d.reason);
    // RELEASE frees it for the next client.
    let d = s.handle(&payload(DHCLIENT, 14), &on_lan(16_000, false));
    assert_eq!(
        (d.action, d.address),
        (Action::Release, Some(Ipv4Addr::new(10, 0, 0, 100)))
    );
    assert!(d.reply.is_none());
    assert!(!s
        .leases()
        .get(Ipv4Addr::new(10, 0, 0, 100))
        .unwrap()
        .holds(16_000));
}

#[test]
fn a_client_that_chose_another_server_is_dropped_and_its_offer_withdrawn() {
    let mut s = server();
    let cfg = Config::new(Ipv4Addr::new(10, 0, 0, 2), s.config().subnets.clone());
    s = Server::new(cfg);
    let d = s.handle(&payload(DHCLIENT, 1), &on_lan(0, true));
    assert_eq!(d.action, Action::Offer);
    // The REQUEST names 10.0.0.1, not this server (10.0.0.2).
    let d = s.handle(&payload(DHCLIENT, 3), &on_lan(10, true));
    assert_eq!(d.action, Action::Drop);
    let r = d.reason.unwrap();
    assert_eq!(r.code(), "other-server-chosen");
    assert!(r.to_string().contains("chose server 10.0.0.1"), "{r}");
    assert!(r.fix().is_none());
    assert!(!s
        .leases()
        .get(Ipv4Addr::new(10, 0, 0, 100))
        .unwrap()
        .holds(10));
}

#[test]
fn min_secs_drops_the_discover_of_a_rom_that_never_counts_secs() {
    // examples/min-secs: a ROM whose secs stays 0, and dhclient whose secs
    // reaches 2 on its second DISCOVER.
    let mut s = server();
    let mut cfg = s.config().clone();
    cfg.min_secs = 2;
    s = Server::new(cfg);
    let d = s.handle(&payload("min-secs/client.pcap", 1), &on_lan(0, true));
    assert_eq!(d.action, Action::Drop);
    let r = d.reason.unwrap();
    assert_eq!(r, Reason::MinSecs { secs: 0, min: 2 });
    assert!(
        r.to_string().starts_with("secs 0 is below min-secs 2"),
        "{r}"
    );
    assert!(r.fix().unwrap().contains("--min-secs"));
    let d = s.handle(&payload("min-secs/client.pcap", 2), &on_lan(50, true));
    assert_eq!(d.reason.map(|r| r.code()), Some("min-secs"));
    let d = s.handle(&payload("min-secs/client.pcap", 4), &on_lan(2_000, true));
    assert_eq!(d.action, Action::Offer, "{:?}", d.reason);
}

#[test]
fn init_reboot_on_the_wrong_network_is_naked_with_its_reason_in_option_56() {
    // examples/init-reboot-wrong-network: udhcpc asks for 192.168.77.23.
    let mut s = server();
    let req = payload("init-reboot-wrong-network/client.pcap", 1);
    let d = s.handle(&req, &on_lan(0, true));
    assert_eq!(d.action, Action::Nak);
    assert_eq!(d.address, Some(Ipv4Addr::new(192, 168, 77, 23)));
    let (m, to) = reply(&d);
    assert_eq!(to, Dest::Broadcast);
    assert_eq!(m.yiaddr, Ipv4Addr::UNSPECIFIED);
    assert_eq!(m.lease_time(), None);
    let text = String::from_utf8(m.option(code::MESSAGE).unwrap().into_owned()).unwrap();
    assert_eq!(
        text,
        "wrong-network: 192.168.77.23 is not on 10.0.0.0/24, the network the request came from"
    );
    // Not authoritative: silence, and the NAK it would have sent as reason.
    let mut cfg = s.config().clone();
    cfg.authoritative = false;
    let mut s = Server::new(cfg);
    let d = s.handle(&req, &on_lan(0, true));
    assert_eq!((d.action, d.reply.is_none()), (Action::Drop, true));
    let r = d.reason.unwrap();
    assert_eq!(r.code(), "not-authoritative");
    assert!(
        r.to_string()
            .starts_with("would NAK (wrong-network: 192.168.77.23 is not on"),
        "{r}"
    );
}

#[test]
fn init_reboot_for_an_address_of_the_network_without_a_record_gets_silence() {
    // The same udhcpc REQUEST, to a server for 192.168.77.0/24 that never
    // leased it: RFC 2131 §4.3.2, silence.
    let lan = Subnet::parse("192.168.77.0/24,range=192.168.77.10-192.168.77.30").unwrap();
    let mut s = Server::new(Config::new(Ipv4Addr::new(192, 168, 77, 1), vec![lan]));
    let at = Arrival {
        iface_addr: Ipv4Addr::new(192, 168, 77, 1),
        ..on_lan(0, true)
    };
    let d = s.handle(&payload("init-reboot-wrong-network/client.pcap", 1), &at);
    assert_eq!(d.action, Action::Drop);
    assert_eq!(
        d.reason,
        Some(Reason::NoRecord {
            address: Ipv4Addr::new(192, 168, 77, 23)
        })
    );
}

#[test]
fn a_second_client_asking_for_a_held_address_is_naked_and_the_pool_runs_out() {
    let mut s = server();
    // dhclient takes 10.0.0.100.
    s.handle(&payload(DHCLIENT, 1), &on_lan(0, true));
    assert_eq!(
        s.handle(&payload(DHCLIENT, 3), &on_lan(1, true)).action,
        Action::Ack
    );
    // udhcpc of examples/init-reboot-wrong-network, selecting 10.0.0.100.
    let other = payload("init-reboot-wrong-network/client.pcap", 5);
    let d = s.handle(&other, &on_lan(2, true));
    assert_eq!(d.action, Action::Nak);
    let r = d.reason.unwrap();
    assert_eq!(r.code(), "address-taken");
    assert_eq!(
        r.to_string(),
        "10.0.0.100 is bound to another client, 02:00:00:0c:02:01"
    );
    // Its DISCOVER gets the other address, the next client none.
    let discover = payload("init-reboot-wrong-network/client.pcap", 3);
    let d = s.handle(&discover, &on_lan(3, true));
    assert_eq!(d.address, Some(Ipv4Addr::new(10, 0, 0, 101)));
    let d = s.handle(&payload("min-secs/client.pcap", 1), &on_lan(4, true));
    assert_eq!(d.action, Action::Drop);
    assert_eq!(
        d.reason.map(|r| r.to_string()),
        Some("all 2 addresses of 10.0.0.0/24's ranges are held".into())
    );
    // The offer lapses after 60 s: then there is one again.
    let d = s.handle(&payload("min-secs/client.pcap", 1), &on_lan(61_000, true));
    assert_eq!(d.address, Some(Ipv4Addr::new(10, 0, 0, 101)));
}

#[test]
fn a_relayed_discover_is_served_from_the_relays_network_and_sent_back_to_it() {
    // examples/relay/server.pcap: dhcrelay's copy, giaddr 10.1.0.1, option 82.
    let mut s = server();
    let req = payload("relay/server.pcap", 1);
    let d = s.handle(&req, &on_lan(0, false));
    assert_eq!(d.action, Action::Offer, "{:?}", d.reason);
    let (m, to) = reply(&d);
    assert_eq!(to, Dest::Relay(Ipv4Addr::new(10, 1, 0, 1)));
    assert_eq!(m.yiaddr, Ipv4Addr::new(10, 1, 0, 50));
    assert_eq!(m.giaddr, Ipv4Addr::new(10, 1, 0, 1));
    let asked = Message::parse(&req).unwrap();
    assert_eq!(
        m.option(code::RELAY_AGENT_INFORMATION),
        asked.option(code::RELAY_AGENT_INFORMATION)
    );
    assert!(m.option(code::RELAY_AGENT_INFORMATION).is_some());
    // A server without that network: unknown network segment.
    let lan = s.config().subnets[0].clone();
    let mut s = Server::new(Config::new(SERVER, vec![lan]));
    let d = s.handle(&req, &on_lan(0, false));
    let r = d.reason.unwrap();
    assert_eq!(r.code(), "unknown-network-segment");
    assert_eq!(
        r.to_string(),
        "relayed with giaddr 10.1.0.1, and no subnet contains it"
    );
    assert!(r.fix().unwrap().contains("--subnet containing 10.1.0.1"));
}

#[test]
fn a_client_on_an_interface_of_no_subnet_is_dropped_with_the_address() {
    let mut s = server();
    let at = Arrival {
        iface: "eth9",
        iface_addr: Ipv4Addr::new(172, 16, 0, 1),
        ..on_lan(0, true)
    };
    let d = s.handle(&payload(DHCLIENT, 1), &at);
    assert_eq!(
        d.reason.map(|r| r.to_string()),
        Some("the request came on eth9 (172.16.0.1), and no subnet contains that address".into())
    );
}

#[test]
fn a_declined_address_is_kept_out_of_use_and_the_client_gets_another() {
    // examples/decline: dhcpcd declines 10.0.0.10 and asks again.
    let lan = Subnet::parse("10.0.0.0/24,range=10.0.0.10-10.0.0.11").unwrap();
    let mut s = Server::new(Config::new(SERVER, vec![lan]));
    let file = "decline/client.pcap";
    assert_eq!(
        s.handle(&payload(file, 1), &on_lan(0, true)).address,
        Some(Ipv4Addr::new(10, 0, 0, 10))
    );
    assert_eq!(
        s.handle(&payload(file, 3), &on_lan(1, true)).action,
        Action::Ack
    );
    let d = s.handle(&payload(file, 7), &on_lan(12, true));
    assert_eq!(
        (d.action, d.address),
        (Action::Decline, Some(Ipv4Addr::new(10, 0, 0, 10)))
    );
    let d = s.handle(&payload(file, 8), &on_lan(1_000, true));
    assert_eq!(
        (d.action, d.address),
        (Action::Offer, Some(Ipv4Addr::new(10, 0, 0, 11)))
    );
    // A DECLINE by a client that does not hold the address changes nothing.
    let mut s = server();
    let d = s.handle(&payload(file, 7), &on_lan(0, true));
    assert_eq!(d.reason.map(|r| r.code()), Some("not-its-lease"));
}

#[test]
fn replies_bootp_and_garbage_are_dropped_with_reasons() {
    let mut s = server();
    // The server's own OFFER (examples/renew-rebind-release frame 2).
    let d = s.handle(&payload(DHCLIENT, 2), &on_lan(0, true));
    assert_eq!(d.reason.map(|r| r.code()), Some("not-a-request"));
    // The DISCOVER without option 53: BOOTP.
    let mut m = Message::parse(&payload(DHCLIENT, 1)).unwrap().into_owned();
    m.remove_option(code::DHCP_MESSAGE_TYPE);
    let d = s.handle(&m.encode(300), &on_lan(0, true));
    assert_eq!(d.reason.map(|r| r.code()), Some("bootp-not-served"));
    // Cut in the middle of its options.
    let d = s.handle(&payload(DHCLIENT, 1)[..250], &on_lan(0, true));
    assert_eq!(d.action, Action::Drop);
    let r = d.reason.unwrap();
    assert_eq!(r.code(), "malformed");
    assert_eq!(d.xid, 0xb38e0f3c, "read leniently for the log");
    for n in 0..300 {
        // Never a panic, whatever the length.
        let d = s.handle(&payload(DHCLIENT, 1)[..n], &on_lan(0, true));
        assert!(d.reason.is_some() || d.reply.is_some());
    }
}

#[test]
fn a_broadcast_flag_is_answered_by_broadcast_and_a_relayed_nak_sets_it() {
    let mut s = server();
    let mut m = Message::parse(&payload(DHCLIENT, 1)).unwrap().into_owned();
    m.flags = 0x8000;
    let d = s.handle(&m.encode(300), &on_lan(0, true));
    assert_eq!(reply(&d).1, Dest::Broadcast);
    // A relayed INIT-REBOOT for an address off the relay's network.
    let mut m = Message::parse(&payload("init-reboot-wrong-network/client.pcap", 1))
        .unwrap()
        .into_owned();
    m.giaddr = Ipv4Addr::new(10, 1, 0, 1);
    let d = s.handle(&m.encode(300), &on_lan(0, false));
    let (nak, to) = reply(&d);
    assert_eq!(
        (nak.message_type(), to),
        (Some(MessageType::Nak), Dest::Relay(m.giaddr))
    );
    assert!(nak.broadcast());
}

/// A relay delivers a reply without the broadcast bit to yiaddr (RFC 1542
/// §5.4, as dhcrelay does), which an INFORM's ACK leaves 0.0.0.0: relayed,
/// it is sent back with the bit set, and only for an address on the
/// relay's network.
#[test]
fn a_relayed_inform_is_acked_through_the_relay_with_the_broadcast_bit() {
    let mut s = server();
    let mut m = Message::parse(&payload("relay/server.pcap", 1))
        .unwrap()
        .into_owned();
    m.set_option(code::DHCP_MESSAGE_TYPE, vec![8]);
    m.flags = 0;
    m.ciaddr = Ipv4Addr::new(10, 1, 0, 7);
    let d = s.handle(&m.encode(300), &on_lan(0, false));
    let (ack, to) = reply(&d);
    assert_eq!(
        (d.action, ack.message_type(), to, ack.yiaddr),
        (
            Action::Inform,
            Some(MessageType::Ack),
            Dest::Relay(m.giaddr),
            Ipv4Addr::UNSPECIFIED
        )
    );
    assert!(ack.broadcast());
    assert_eq!(ack.lease_time(), None);
    // ciaddr 0 has no address for the relay to deliver to, either.
    m.ciaddr = Ipv4Addr::UNSPECIFIED;
    let d = s.handle(&m.encode(300), &on_lan(0, false));
    assert_eq!(d.reason.map(|r| r.code()), Some("inform-without-ciaddr"));
    // From an address off the relay's network.
    m.ciaddr = Ipv4Addr::new(10, 0, 0, 7);
    let d = s.handle(&m.encode(300), &on_lan(0, false));
    assert_eq!(d.reason.map(|r| r.code()), Some("inform-wrong-network"));
}

#[test]
fn log_lines_name_the_client_the_action_and_the_reason() {
    let mut s = server();
    let d = s.handle(&payload(DHCLIENT, 1), &on_lan(0, true));
    assert_eq!(
        d.line("eth0"),
        "DHCPDISCOVER from 02:00:00:0c:02:01 xid 0xb38e0f3c via eth0: OFFER 10.0.0.100 (to 10.0.0.100 at 02:00:00:0c:02:01)"
    );
    let d = s.handle(
        &payload("init-reboot-wrong-network/client.pcap", 1),
        &on_lan(0, true),
    );
    assert_eq!(
        d.line("eth0"),
        "DHCPREQUEST from 02:00:00:09:02:01 xid 0x2eb00700 via eth0: NAK 192.168.77.23 (wrong-network): 192.168.77.23 is not on 10.0.0.0/24, the network the request came from; fix: none needed: the client starts over with DISCOVER on this network (to broadcast)"
    );
    let d = s.handle(&payload("relay/server.pcap", 1), &on_lan(0, false));
    assert!(d.line("eth0").starts_with("DHCPDISCOVER from 02:00:00:0b:03:01 xid 0xc8c9ef08 via 10.1.0.1: OFFER 10.1.0.50 (to relay 10.1.0.1)"));
}

#[test]
fn init_reboot_for_another_address_than_the_one_on_record_is_naked() {
    let mut s = server();
    s.handle(&payload(DHCLIENT, 1), &on_lan(0, true));
    assert_eq!(
        s.handle(&payload(DHCLIENT, 3), &on_lan(1, true)).action,
        Action::Ack
    );
    // dhclient's chaddr, rebooting with a wish for 10.0.0.101.
    let mut m = Message::parse(&payload("init-reboot-wrong-network/client.pcap", 1))
        .unwrap()
        .into_owned();
    m.set_chaddr(&[2, 0, 0, 0x0c, 2, 1]);
    m.set_option(code::REQUESTED_IP_ADDRESS, vec![10, 0, 0, 101]);
    let d = s.handle(&m.encode(300), &on_lan(2, true));
    assert_eq!(d.action, Action::Nak);
    assert_eq!(
        d.reason.map(|r| r.to_string()),
        Some(
            "10.0.0.101 is not this client's address: the server has 10.0.0.100 on record for it"
                .into()
        )
    );
    // Asking for the one on record is ACKed.
    m.set_option(code::REQUESTED_IP_ADDRESS, vec![10, 0, 0, 100]);
    assert_eq!(
        s.handle(&m.encode(300), &on_lan(3, true)).action,
        Action::Ack
    );
}

#[test]
fn replies_echo_the_client_identifier_and_keep_option_82_last() {
    // udhcpc sends a client identifier (examples/ack-lost).
    let mut s = server();
    let req = payload("ack-lost/client.pcap", 1);
    let asked = Message::parse(&req).unwrap();
    let id = asked
        .option(code::CLIENT_IDENTIFIER)
        .expect("udhcpc sends option 61");
    let d = s.handle(&req, &on_lan(0, true));
    assert_eq!(reply(&d).0.option(code::CLIENT_IDENTIFIER), Some(id));
    // A relayed NAK: 53, 54, 56, then 82, then END.
    let mut m = Message::parse(&payload("relay/server.pcap", 3))
        .unwrap()
        .into_owned();
    m.remove_option(code::SERVER_IDENTIFIER);
    m.set_option(code::REQUESTED_IP_ADDRESS, vec![192, 168, 1, 1]);
    let d = s.handle(&m.encode(300), &on_lan(0, false));
    let (nak, _) = reply(&d);
    let codes: Vec<u8> = nak.options.iter().map(|o| o.code).collect();
    assert_eq!(codes, [53, 54, 56, 82, 255], "{:?}", d.reason);
}

#[test]
fn a_server_that_is_not_authoritative_still_naks_a_client_that_chose_it() {
    let mut cfg = server().config().clone();
    cfg.authoritative = false;
    let mut s = Server::new(cfg);
    // dhclient takes 10.0.0.100; udhcpc then selects it, naming this server.
    s.handle(&payload(DHCLIENT, 1), &on_lan(0, true));
    s.handle(&payload(DHCLIENT, 3), &on_lan(1, true));
    let d = s.handle(
        &payload("init-reboot-wrong-network/client.pcap", 5),
        &on_lan(2, true),
    );
    assert_eq!(d.action, Action::Nak, "{:?}", d.reason);
    assert_eq!(d.reason.map(|r| r.code()), Some("address-taken"));
}

#[test]
fn an_inform_without_ciaddr_is_dropped_and_times_never_overflow() {
    let mut s = server();
    let mut m = Message::parse(&payload(DHCLIENT, 1)).unwrap().into_owned();
    m.set_option(code::DHCP_MESSAGE_TYPE, vec![8]);
    let d = s.handle(&m.encode(300), &on_lan(0, true));
    assert_eq!(d.reason.map(|r| r.code()), Some("inform-without-ciaddr"));
    m.ciaddr = Ipv4Addr::new(10, 0, 0, 7);
    let d = s.handle(&m.encode(300), &on_lan(0, false));
    let (ack, to) = reply(&d);
    assert_eq!(
        (d.action, to, ack.lease_time()),
        (Action::Inform, Dest::Unicast(m.ciaddr), None)
    );
    // Broadcast from an address on another network than this link's.
    m.ciaddr = Ipv4Addr::new(192, 168, 5, 5);
    let d = s.handle(&m.encode(300), &on_lan(0, true));
    assert_eq!(
        (
            d.action,
            d.reason.as_ref().map(|r| r.code()),
            d.reply.is_some()
        ),
        (Action::Drop, Some("inform-wrong-network"), false)
    );
    assert_eq!(
        d.reason.unwrap().to_string(),
        "a DHCPINFORM from 192.168.5.5, which is not on 10.0.0.0/24, the network it came from: its options would not fit"
    );
    // Unicast from an address on no configured network: the same.
    let d = s.handle(&m.encode(300), &on_lan(0, false));
    assert_eq!(d.reason.map(|r| r.code()), Some("inform-wrong-network"));
    let late = on_lan(u64::MAX - 1, true);
    assert_eq!(s.handle(&payload(DHCLIENT, 1), &late).action, Action::Offer);
    assert_eq!(s.handle(&payload(DHCLIENT, 3), &late).action, Action::Ack);
}

#[test]
fn a_reserved_host_gets_its_address_and_nobody_else_does() {
    // dhclient (02:00:00:0c:02:01) has 10.0.0.50 reserved, outside the range;
    // udhcpc (02:00:00:09:02:01) has 10.0.0.100, inside it.
    let lan = Subnet::parse(
        "10.0.0.0/24,range=10.0.0.100-10.0.0.101,host=02:00:00:0c:02:01@10.0.0.50,host=02:00:00:09:02:01@10.0.0.100",
    )
    .unwrap();
    let mut s = Server::new(Config::new(SERVER, vec![lan]));
    let d = s.handle(&payload(DHCLIENT, 1), &on_lan(0, true));
    assert_eq!(
        (d.action, d.address),
        (Action::Offer, Some(Ipv4Addr::new(10, 0, 0, 50)))
    );
    // dhclient's REQUEST asks for 10.0.0.100 (what ISC dhcpd offered it):
    // not its address.
    let d = s.handle(&payload(DHCLIENT, 3), &on_lan(1, true));
    assert_eq!(d.action, Action::Nak);
    assert_eq!(
        d.reason.map(|r| r.to_string()),
        Some(
            "10.0.0.100 is not this client's address: the server has 10.0.0.50 on record for it"
                .into()
        )
    );
    // The min-secs ROM gets the one address of the range left, 10.0.0.101.
    let d = s.handle(&payload("min-secs/client.pcap", 1), &on_lan(2, true));
    assert_eq!(d.address, Some(Ipv4Addr::new(10, 0, 0, 101)));
    // udhcpc's INIT-REBOOT for 192.168.77.23 is off the network; its own
    // SELECTING REQUEST for 10.0.0.100 is ACKed without a record.
    let d = s.handle(
        &payload("init-reboot-wrong-network/client.pcap", 5),
        &on_lan(3, true),
    );
    assert_eq!(
        (d.action, d.address),
        (Action::Ack, Some(Ipv4Addr::new(10, 0, 0, 100)))
    );
    // dhcpcd (examples/decline) asking for 10.0.0.100: reserved for another.
    let mut m = Message::parse(&payload("decline/client.pcap", 3))
        .unwrap()
        .into_owned();
    m.set_option(code::REQUESTED_IP_ADDRESS, vec![10, 0, 0, 100]);
    let d = s.handle(&m.encode(300), &on_lan(4, true));
    assert_eq!(
        d.reason.map(|r| r.to_string()),
        Some("10.0.0.100 is reserved for another client, 02:00:00:09:02:01".into())
    );
}

#[test]
fn boot_options_go_in_siaddr_and_file_of_offers_and_acks() {
    let lan = Subnet::parse(
        "10.0.0.0/24,range=10.0.0.100-10.0.0.101,next-server=10.0.0.1,file=undionly.kpxe",
    )
    .unwrap();
    let mut s = Server::new(Config::new(SERVER, vec![lan]));
    for n in [1, 3] {
        let d = s.handle(&payload(DHCLIENT, n), &on_lan(n, true));
        let (m, _) = reply(&d);
        assert_eq!(m.siaddr, SERVER);
        assert_eq!(m.boot_file().as_deref(), Some("undionly.kpxe"));
        let bytes = m.encode(300);
        let back = Message::parse(&bytes).unwrap();
        assert_eq!(back.boot_file().as_deref(), Some("undionly.kpxe"));
    }
    let e = Subnet::parse(&format!(
        "10.0.0.0/24,range=10.0.0.100-10.0.0.101,file={}",
        "x".repeat(128)
    ))
    .unwrap_err();
    assert!(e.contains("1 to 127 bytes"), "{e}");
}

#[test]
fn an_address_that_answers_the_ping_check_is_kept_out_and_another_offered() {
    let mut s = server();
    let req = payload(DHCLIENT, 1);
    let d = s.handle(&req, &on_lan(0, true));
    assert!(d.fresh, "a new client's offer is probed");
    assert_eq!(d.address, Some(Ipv4Addr::new(10, 0, 0, 100)));
    let conflict = s.ping_answered(&d, 5);
    assert_eq!(
        (conflict.action, conflict.reply.is_none()),
        (Action::Drop, true)
    );
    assert_eq!(
        conflict.line("eth0"),
        "DHCPDISCOVER from 02:00:00:0c:02:01 xid 0xb38e0f3c via eth0: dropped 10.0.0.100 (ping-answered): 10.0.0.100 answered the ping before the offer: another host uses it; kept out of use for 600 s, another address is offered; fix: find the host using 10.0.0.100 (it is inside a range) and give it an address outside the ranges, or a reservation; if it is a client of this server from before a restart, run with --leases (its renewal takes the address back meanwhile)"
    );
    let d = s.handle(&req, &on_lan(6, true));
    assert_eq!(
        (d.action, d.address, d.fresh),
        (Action::Offer, Some(Ipv4Addr::new(10, 0, 0, 101)), true)
    );
    // Asked again, the same client's offer is its own: not probed again.
    let d = s.handle(&req, &on_lan(7, true));
    assert_eq!(
        (d.address, d.fresh),
        (Some(Ipv4Addr::new(10, 0, 0, 101)), false)
    );
    // The host that answered was a client of this server's from before a
    // restart: its renewal takes 10.0.0.100 back.
    let mut t = Server::new(s.config().clone());
    let d = t.handle(&req, &on_lan(0, true));
    let _ = t.ping_answered(&d, 1);
    let d = t.handle(&payload(DHCLIENT, 5), &on_lan(2, false));
    assert_eq!(
        (d.action, d.address),
        (Action::Ack, Some(Ipv4Addr::new(10, 0, 0, 100))),
        "{:?}",
        d.reason
    );
    // Another client selecting it meanwhile is told it is in use.
    let mut t = Server::new(s.config().clone());
    let d = t.handle(
        &payload("init-reboot-wrong-network/client.pcap", 3),
        &on_lan(0, true),
    );
    let _ = t.ping_answered(&d, 1);
    let d = t.handle(
        &payload("init-reboot-wrong-network/client.pcap", 5),
        &on_lan(2, true),
    );
    assert_eq!(
        d.reason.map(|r| r.to_string()),
        Some("10.0.0.100 answered the ping check: another host uses it".into())
    );
    // 10.0.0.100 comes back after the hold (600 s).
    assert!(s
        .leases()
        .get(Ipv4Addr::new(10, 0, 0, 100))
        .unwrap()
        .holds(600_004));
    assert!(!s
        .leases()
        .get(Ipv4Addr::new(10, 0, 0, 100))
        .unwrap()
        .holds(600_005));
}

#[test]
fn ipxe_gets_its_own_boot_file_and_a_plain_rom_the_other() {
    let lan = Subnet::parse(
        "10.0.0.0/24,range=10.0.0.100-10.0.0.101,next-server=10.0.0.1,file=undionly.kpxe,ipxe-file=boot.ipxe",
    )
    .unwrap();
    let mut s = Server::new(Config::new(SERVER, vec![lan]));
    // iPXE in QEMU (examples/pxe-boot-server-silent): options 77 "iPXE" and 175.
    let ipxe = payload("pxe-boot-server-silent/client.pcap", 1);
    let d = s.handle(&ipxe, &on_lan(0, true));
    assert_eq!(reply(&d).0.boot_file().as_deref(), Some("boot.ipxe"));
    // The same DISCOVER as a plain PXE ROM sends it.
    let mut plain = Message::parse(&ipxe).unwrap().into_owned();
    plain.remove_option(code::USER_CLASS);
    plain.remove_option(code::ETHERBOOT);
    let d = s.handle(&plain.encode(300), &on_lan(1, true));
    assert_eq!(reply(&d).0.boot_file().as_deref(), Some("undionly.kpxe"));
    // No boot options in a NAK.
    let d = s.handle(
        &payload("init-reboot-wrong-network/client.pcap", 1),
        &on_lan(2, true),
    );
    let (nak, _) = reply(&d);
    assert_eq!(
        (nak.siaddr, nak.file.is_empty()),
        (Ipv4Addr::UNSPECIFIED, true)
    );
}

#[test]
fn leases_read_back_yield_to_reservations_and_shrunk_ranges() {
    use crate::leases::{ClientKey, Leases, State};
    let dhclient = HwAddr::new(&[2, 0, 0, 0x0c, 2, 1]);
    let key = ClientKey(vec![1, 2, 0, 0, 0x0c, 2, 1]);
    let other = HwAddr::new(&[2, 0, 0, 0, 0, 9]);
    let mut leases = Leases::default();
    // dhclient had 10.0.0.150, since left out of the range; someone else
    // had 10.0.0.101, since reserved for dhclient.
    leases.set(
        Ipv4Addr::new(10, 0, 0, 150),
        &key,
        dhclient,
        State::Bound,
        3_600_000,
    );
    leases.set(
        Ipv4Addr::new(10, 0, 0, 101),
        &ClientKey(vec![1, 2, 0, 0, 0, 0, 9]),
        other,
        State::Bound,
        3_600_000,
    );
    let lan = Subnet::parse("10.0.0.0/24,range=10.0.0.100-10.0.0.101").unwrap();
    let (mut s, dropped) =
        Server::with_leases(Config::new(SERVER, vec![lan.clone()]), leases.clone());
    assert_eq!(dropped, 0);
    // Renewing its old address is NAKed: the range no longer holds it...
    let mut renew = Message::parse(&payload(DHCLIENT, 5)).unwrap().into_owned();
    renew.ciaddr = Ipv4Addr::new(10, 0, 0, 150);
    let d = s.handle(&renew.encode(300), &on_lan(0, false));
    assert_eq!(d.reason.map(|r| r.code()), Some("outside-pool"));
    // ...and it is not offered again (that made an OFFER/NAK loop).
    let d = s.handle(&payload(DHCLIENT, 1), &on_lan(1, true));
    assert_eq!(d.address, Some(Ipv4Addr::new(10, 0, 0, 100)));
    // With 10.0.0.101 reserved for dhclient, the other host's lease goes.
    let mut reserved = lan;
    reserved
        .hosts
        .push((dhclient, Ipv4Addr::new(10, 0, 0, 101)));
    let (mut s, dropped) = Server::with_leases(Config::new(SERVER, vec![reserved]), leases);
    assert_eq!(dropped, 1);
    let d = s.handle(&payload(DHCLIENT, 1), &on_lan(0, true));
    assert_eq!(d.address, Some(Ipv4Addr::new(10, 0, 0, 101)));
}

#[test]
fn a_reserved_host_that_declined_its_address_is_not_offered_it_meanwhile() {
    // dhcpcd (examples/decline) has 10.0.0.10 reserved and declines it.
    let lan =
        Subnet::parse("10.0.0.0/24,range=10.0.0.100-10.0.0.101,host=02:00:00:0d:03:01@10.0.0.10")
            .unwrap();
    let mut s = Server::new(Config::new(SERVER, vec![lan]));
    let file = "decline/client.pcap";
    assert_eq!(
        s.handle(&payload(file, 1), &on_lan(0, true)).address,
        Some(Ipv4Addr::new(10, 0, 0, 10))
    );
    assert_eq!(
        s.handle(&payload(file, 3), &on_lan(1, true)).action,
        Action::Ack
    );
    assert_eq!(
        s.handle(&payload(file, 7), &on_lan(2, true)).action,
        Action::Decline
    );
    let d = s.handle(&payload(file, 8), &on_lan(1_000, true));
    assert_eq!(d.action, Action::Drop);
    assert_eq!(d.reason.map(|r| r.code()), Some("declined-by-client"));
    let d = s.handle(&payload(file, 3), &on_lan(1_001, true));
    assert_eq!(
        (d.action, d.reason.map(|r| r.code())),
        (Action::Nak, Some("declined-by-client"))
    );
    // After the hold, it is offered again.
    let d = s.handle(&payload(file, 8), &on_lan(700_000, true));
    assert_eq!(d.address, Some(Ipv4Addr::new(10, 0, 0, 10)));
}

#[test]
fn ignored_and_unknown_clients_are_dropped_with_their_reason() {
    let mut cfg = server().config().clone();
    cfg.ignore.push(HwAddr::new(&[2, 0, 0, 0x0c, 2, 1]));
    let mut s = Server::new(cfg.clone());
    let d = s.handle(&payload(DHCLIENT, 1), &on_lan(0, true));
    assert_eq!(
        d.line("eth0"),
        "DHCPDISCOVER from 02:00:00:0c:02:01 xid 0xb38e0f3c via eth0: dropped (client-ignored): 02:00:00:0c:02:01 is on the ignore list: the server never answers it"
    );
    assert_eq!(
        s.handle(&payload(DHCLIENT, 3), &on_lan(1, true)).action,
        Action::Drop
    );
    // Its RELEASE is still taken (there is no lease to release here).
    let d = s.handle(&payload(DHCLIENT, 14), &on_lan(2, false));
    assert_eq!(d.reason.map(|r| r.code()), Some("not-its-lease"));
    // Known clients only: udhcpc has a reservation, dhclient none.
    cfg.ignore.clear();
    cfg.known_only = true;
    cfg.subnets[0].hosts.push((
        HwAddr::new(&[2, 0, 0, 9, 2, 1]),
        Ipv4Addr::new(10, 0, 0, 50),
    ));
    let mut s = Server::new(cfg);
    let d = s.handle(&payload(DHCLIENT, 1), &on_lan(0, true));
    assert_eq!(d.reason.map(|r| r.code()), Some("unknown-client"));
    let d = s.handle(
        &payload("init-reboot-wrong-network/client.pcap", 3),
        &on_lan(0, true),
    );
    assert_eq!(
        (d.action, d.address),
        (Action::Offer, Some(Ipv4Addr::new(10, 0, 0, 50)))
    );
}

/// Whatever arrives, `handle` decides without panicking, and every decision
/// says why or answers: a drop always has a reason, an OFFER, ACK, NAK or
/// INFORM answer always a reply, and a NAK both.
mod any_input {
    use super::*;
    use proptest::prelude::*;

    fn check(d: &Decision) {
        match d.action {
            Action::Drop => assert!(d.reason.is_some() && d.reply.is_none(), "{d:?}"),
            Action::Nak => assert!(d.reason.is_some() && d.reply.is_some(), "{d:?}"),
            Action::Offer | Action::Ack | Action::Inform => {
                assert!(d.reason.is_none() && d.reply.is_some(), "{d:?}")
            }
            Action::Release | Action::Decline => assert!(d.reply.is_none(), "{d:?}"),
        }
        if let Some((m, _)) = &d.reply {
            // What the server writes is well-formed; option 82 goes back as
            // the relay sent it (RFC 3046 §2.2), well-formed or not.
            let bytes = m.encode(300);
            let anomalies = Message::parse_lenient(&bytes).anomalies;
            let own = anomalies.iter().find(|a| {
                !matches!(
                    a.kind,
                    wire::AnomalyKind::OptionValueInvalid { code: 82, .. }
                )
            });
            assert!(own.is_none(), "{own:?} in {m:?}");
        }
    }

    /// Real requests of every kind the examples hold.
    fn real() -> Vec<Vec<u8>> {
        vec![
            payload(DHCLIENT, 1),
            payload(DHCLIENT, 3),
            payload(DHCLIENT, 5),
            payload(DHCLIENT, 14),
            payload("relay/server.pcap", 1),
            payload("decline/client.pcap", 7),
            payload("init-reboot-wrong-network/client.pcap", 1),
            payload("pxe-boot-server-silent/client.pcap", 1),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(5000))]

        #[test]
        fn random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let mut s = server();
            check(&s.handle(&bytes, &on_lan(0, true)));
        }

        #[test]
        fn real_requests_with_bytes_changed(
            which in 0usize..8,
            edits in proptest::collection::vec((0usize..600, any::<u8>()), 1..8),
            cut in 0usize..600,
            now in any::<u64>(),
        ) {
            let mut s = server();
            let mut bytes = real()[which].clone();
            for (at, b) in edits {
                if let Some(x) = bytes.get_mut(at) {
                    *x = b;
                }
            }
            bytes.truncate(cut.max(236));
            // Twice: the second sees the lease table the first left.
            for t in [now, now.saturating_add(1)] {
                check(&s.handle(&bytes, &on_lan(t, at_broadcast(t))));
            }
        }
    }

    fn at_broadcast(t: u64) -> bool {
        t % 2 == 0
    }
}

/// Without option 57 a client need take no more than a 576-byte datagram
/// (RFC 2131 §2): a reply that would be larger leaves out the domain name
/// first, then the DNS servers; with option 57 saying more, nothing is left
/// out.
#[test]
fn a_reply_fits_the_size_the_client_can_take() {
    let mut lan = Subnet::parse("10.0.0.0/24,range=10.0.0.100-10.0.0.101,router=10.0.0.1").unwrap();
    lan.dns.push(Ipv4Addr::new(10, 0, 0, 53));
    lan.domain = Some("a-rather-long-search-domain.lab.example.org".to_string());
    let mut m = Message::parse(&payload(DHCLIENT, 1)).unwrap().into_owned();
    m.remove_option(code::MAX_DHCP_MESSAGE_SIZE);
    // An identifier of 250 bytes, which the server must echo (RFC 6842).
    m.set_option(code::CLIENT_IDENTIFIER, vec![0; 250]);
    let offer = |m: &Message<'_>| {
        let mut s = Server::new(Config::new(SERVER, vec![lan.clone()]));
        let d = s.handle(&m.encode(300), &on_lan(0, true));
        reply(&d).0.clone()
    };
    let small = offer(&m);
    let len = small.encode(wire::dhcp::BOOTP_MIN_LEN).len();
    assert!(len <= 576 - 28, "{len} bytes");
    assert_eq!(small.option(code::DOMAIN_NAME), None);
    assert!(small.option(code::DOMAIN_NAME_SERVER).is_some());
    assert_eq!(
        small.option(code::CLIENT_IDENTIFIER).map(|o| o.len()),
        Some(250)
    );
    m.set_option(code::MAX_DHCP_MESSAGE_SIZE, 1500u16.to_be_bytes().to_vec());
    let big = offer(&m);
    assert!(big.encode(wire::dhcp::BOOTP_MIN_LEN).len() > 576 - 28);
    assert_eq!(
        big.option(code::DOMAIN_NAME).as_deref(),
        Some(&b"a-rather-long-search-domain.lab.example.org"[..])
    );
}

/// Regressions from the server bug hunt: requests built by hand.
mod built {
    use super::*;

    const MAC_A: [u8; 6] = [2, 0, 0, 0, 0, 0xa];
    const MAC_B: [u8; 6] = [2, 0, 0, 0, 0, 0xb];

    fn lan() -> Subnet {
        Subnet::parse("10.0.0.0/24,range=10.0.0.100-10.0.0.109,router=10.0.0.254").unwrap()
    }

    fn server() -> Server {
        Server::new(Config::new(SERVER, vec![lan()]))
    }

    /// A client message of type `t` from `mac`, changed by `f`.
    fn msg(t: MessageType, mac: &[u8], f: impl FnOnce(&mut Message<'static>)) -> Vec<u8> {
        let mut m = Message::new(Op::BootRequest, 0x1234_5678, mac);
        m.set_option(code::DHCP_MESSAGE_TYPE, vec![u8::from(t)]);
        f(&mut m);
        m.encode(300)
    }

    fn ip(a: u8) -> Ipv4Addr {
        Ipv4Addr::new(10, 0, 0, a)
    }

    /// DISCOVER and REQUEST: `mac` is bound to 10.0.0.100.
    fn bind(s: &mut Server, mac: &[u8]) {
        s.handle(&msg(MessageType::Discover, mac, |_| {}), &on_lan(0, true));
        let d = s.handle(
            &msg(MessageType::Request, mac, |m| {
                m.set_option(code::SERVER_IDENTIFIER, SERVER.octets().to_vec());
                m.set_option(code::REQUESTED_IP_ADDRESS, ip(100).octets().to_vec());
            }),
            &on_lan(1, true),
        );
        assert_eq!(d.action, Action::Ack, "{}", d.line("eth0"));
    }

    /// A relayed DISCOVER whose range holds the relay's own address
    /// (giaddr) was offered exactly that address: a guaranteed conflict.
    /// The relay's address, the server's and the interface's are never
    /// offered, and a REQUEST for one is NAKed. Fails on the previous build.
    #[test]
    fn the_relays_own_address_is_never_offered() {
        let relayed = Subnet::parse("10.1.0.0/24,range=10.1.0.1-10.1.0.50").unwrap();
        let mut s = Server::new(Config::new(SERVER, vec![lan(), relayed]));
        let giaddr = Ipv4Addr::new(10, 1, 0, 1);
        let relay = |m: &mut Message<'static>| {
            m.giaddr = giaddr;
            m.hops = 1;
        };
        let d = s.handle(
            &msg(MessageType::Discover, &MAC_A, relay),
            &on_lan(0, false),
        );
        assert_eq!(d.action, Action::Offer, "{:?}", d.reason);
        assert_eq!(d.address, Some(Ipv4Addr::new(10, 1, 0, 2)));
        // Asked for by name (option 50), it is not given either.
        let d = s.handle(
            &msg(MessageType::Discover, &MAC_B, |m| {
                relay(m);
                m.set_option(code::REQUESTED_IP_ADDRESS, giaddr.octets().to_vec());
            }),
            &on_lan(1, false),
        );
        assert_ne!(d.address, Some(giaddr));
        let d = s.handle(
            &msg(MessageType::Request, &MAC_B, |m| {
                relay(m);
                m.set_option(code::REQUESTED_IP_ADDRESS, giaddr.octets().to_vec());
            }),
            &on_lan(2, false),
        );
        assert_eq!(d.action, Action::Nak);
        assert_eq!(
            d.reason.unwrap().to_string(),
            "10.1.0.1 is the relay's own address (giaddr): a range holds it, but it is never leased"
        );
    }

    /// A bound client renewing (unicast, ciaddr = its address) with an
    /// option 50 of 0.0.0.0 was NAKed for "0.0.0.0 is not on 10.0.0.0/24".
    /// 0.0.0.0 requests nothing: ciaddr decides (RFC 2131 §4.3.2). Fails on
    /// the previous build.
    #[test]
    fn a_renewal_with_option_50_of_zero_is_decided_by_ciaddr() {
        let mut s = server();
        bind(&mut s, &MAC_A);
        let d = s.handle(
            &msg(MessageType::Request, &MAC_A, |m| {
                m.ciaddr = ip(100);
                m.set_option(code::REQUESTED_IP_ADDRESS, vec![0, 0, 0, 0]);
            }),
            &on_lan(2, false),
        );
        assert_eq!(
            (d.action, d.address),
            (Action::Ack, Some(ip(100))),
            "{}",
            d.line("eth0")
        );
    }

    /// A bound client that starts over (DISCOVER) and then takes another
    /// server's offer has given up its lease (RFC 2131 §3.1, §4.4.1): the
    /// address was left bound for the rest of the lease. It is freed, and
    /// the reason says so. Fails on the previous build.
    #[test]
    fn a_bound_client_that_chose_another_server_frees_its_address() {
        let mut s = server();
        bind(&mut s, &MAC_A);
        let d = s.handle(
            &msg(MessageType::Discover, &MAC_A, |_| {}),
            &on_lan(10_000, true),
        );
        assert_eq!(d.address, Some(ip(100)));
        let d = s.handle(
            &msg(MessageType::Request, &MAC_A, |m| {
                m.set_option(code::SERVER_IDENTIFIER, vec![10, 0, 0, 2]);
                m.set_option(code::REQUESTED_IP_ADDRESS, vec![10, 0, 0, 200]);
            }),
            &on_lan(10_001, true),
        );
        let r = d.reason.unwrap();
        assert_eq!(r.code(), "other-server-chosen");
        assert_eq!(
            r.to_string(),
            "the client chose server 10.0.0.2 (option 54); this server's offer is withdrawn, and its lease of 10.0.0.100 freed (a client that starts over with DISCOVER has given it up, RFC 2131 §4.4.1)"
        );
        assert!(!s.leases().get(ip(100)).unwrap().holds(10_002));
    }

    /// `Decision::line` is read back by `dhcplens logs`, which needs a word
    /// after "from": a request too short to read, and a client with hlen 0
    /// (IPoIB behind a relay), were logged as "… from  xid …". They are
    /// `-` now; a line with a hardware address is unchanged. Fails on the
    /// previous build.
    #[test]
    fn a_log_line_without_a_hardware_address_says_dash() {
        let mut s = server();
        let short = s.handle(&[1, 1, 6, 0, 0x12, 0x34], &on_lan(0, true));
        assert!(
            short
                .line("eth0")
                .starts_with("BOOTREQUEST from - xid 0x00000000 via eth0: dropped (malformed): "),
            "{}",
            short.line("eth0")
        );
        let ib = s.handle(
            &msg(MessageType::Discover, &[], |m| {
                m.htype = 32;
                m.set_option(code::CLIENT_IDENTIFIER, vec![0xff, 0, 0, 0, 1, 0, 2]);
            }),
            &on_lan(0, true),
        );
        assert_eq!(
            ib.line("eth0"),
            "DHCPDISCOVER from - xid 0x12345678 via eth0: OFFER 10.0.0.100 (to broadcast)"
        );
        let d = s.handle(
            &msg(MessageType::Discover, &MAC_A, |_| {}),
            &on_lan(0, true),
        );
        assert_eq!(
            d.line("eth0"),
            "DHCPDISCOVER from 02:00:00:00:00:0a xid 0x12345678 via eth0: OFFER 10.0.0.101 (to 10.0.0.101 at 02:00:00:00:00:0a)"
        );
    }

    /// RFC 2131 §4.4.5 wants T1 < T2 < lease; `--lease 2` sent T1 = T2 = 1
    /// and `--lease 1` T1 = T2 = lease = 1. A lease too short for ordered
    /// times in whole seconds goes without T1 and T2 (the client takes 0.5
    /// and 0.875 of it); longer ones keep them in order. Fails on the
    /// previous build.
    #[test]
    fn short_leases_keep_t1_before_t2_before_the_lease_or_omit_them() {
        for secs in [1u32, 2, 3, 4, 5, 8, 3600, u32::MAX] {
            let mut cfg = Config::new(SERVER, vec![lan()]);
            cfg.lease_secs = secs;
            let mut s = Server::new(cfg);
            let d = s.handle(
                &msg(MessageType::Discover, &MAC_A, |_| {}),
                &on_lan(0, true),
            );
            let m = &d.reply.as_ref().unwrap().0;
            let (t1, t2, lease) = (m.renewal_time(), m.rebinding_time(), m.lease_time());
            assert_eq!(lease, Some(secs));
            match (t1, t2) {
                (None, None) => assert!(secs < 3, "--lease {secs}: no T1, T2"),
                (Some(t1), Some(t2)) => assert!(
                    0 < t1 && t1 < t2 && t2 < secs,
                    "--lease {secs}: T1 {t1}, T2 {t2}"
                ),
                _ => panic!("--lease {secs}: T1 {t1:?}, T2 {t2:?}"),
            }
        }
        assert_eq!(renewal_times(3), Some((1, 2)));
        assert_eq!(renewal_times(3600), Some((1800, 3150)));
    }

    /// A DECLINE without option 50 was logged as "a REQUEST with neither
    /// option 50 nor ciaddr" with a fix citing §4.3.2; a DECLINE must carry
    /// option 50 (RFC 2131 §4.4.4, table 5). Fails on the previous build.
    #[test]
    fn a_decline_without_option_50_has_its_own_reason() {
        let mut s = server();
        let d = s.handle(&msg(MessageType::Decline, &MAC_A, |_| {}), &on_lan(0, true));
        assert_eq!(
            d.line("eth0"),
            "DHCPDECLINE from 02:00:00:00:00:0a xid 0x12345678 via eth0: dropped (decline-without-address): a DHCPDECLINE without option 50: which address is declined is unknown; fix: fix the client: a DHCPDECLINE names the declined address in option 50 (RFC 2131 §4.4.4, table 5)"
        );
    }

    /// The holder of an address whose chaddr is empty (hlen 0: an IPoIB
    /// client named by option 61, RFC 4390) was taken for the ping check:
    /// the NAK said "answered the ping check". Fails on the previous build.
    #[test]
    fn an_address_held_by_a_client_without_chaddr_is_not_said_to_answer_a_ping() {
        let mut s = server();
        let ib = |t: MessageType| {
            msg(t, &[], |m| {
                m.htype = 32;
                m.set_option(
                    code::CLIENT_IDENTIFIER,
                    vec![0xff, 0, 0, 0, 1, 0, 2, 0, 0, 0, 0, 0, 1],
                );
                if t == MessageType::Request {
                    m.set_option(code::SERVER_IDENTIFIER, SERVER.octets().to_vec());
                    m.set_option(code::REQUESTED_IP_ADDRESS, ip(100).octets().to_vec());
                }
            })
        };
        assert_eq!(
            s.handle(&ib(MessageType::Discover), &on_lan(0, true))
                .action,
            Action::Offer
        );
        assert_eq!(
            s.handle(&ib(MessageType::Request), &on_lan(1, true)).action,
            Action::Ack
        );
        let d = s.handle(
            &msg(MessageType::Request, &MAC_B, |m| {
                m.set_option(code::REQUESTED_IP_ADDRESS, ip(100).octets().to_vec());
            }),
            &on_lan(2, true),
        );
        assert_eq!(d.action, Action::Nak);
        let r = d.reason.unwrap();
        assert_eq!(
            (r.code(), r.to_string()),
            (
                "address-taken",
                "10.0.0.100 is bound to another client (one without a hardware address)"
                    .to_string()
            )
        );
        assert!(r
            .fix()
            .unwrap()
            .contains("if the other client is the same machine"));
    }

    /// Option 53 present but two bytes long was dropped as "no option 53: a
    /// BOOTP request" (`bootp-not-served`); it is a malformed message (RFC
    /// 2132 §9.6: one byte). Fails on the previous build.
    #[test]
    fn an_option_53_of_the_wrong_length_is_malformed_not_bootp() {
        let mut s = server();
        let d = s.handle(
            &msg(MessageType::Discover, &MAC_A, |m| {
                m.set_option(code::DHCP_MESSAGE_TYPE, vec![1, 0]);
            }),
            &on_lan(0, true),
        );
        let r = d.reason.unwrap();
        assert_eq!(
            (r.code(), r.to_string()),
            (
                "malformed",
                "the message cannot be read: option 53 (DHCP message type) is 2 bytes; it must be 1 (RFC 2132 §9.6)".to_string()
            )
        );
    }

    /// Overlapping ranges were counted twice: the pool-exhausted reason (and
    /// serve's start banner, from `pool_size`) said 20 addresses where
    /// there are 10. Distinct addresses are counted. Fails on the previous
    /// build.
    #[test]
    fn overlapping_ranges_are_counted_once_when_the_pool_runs_out() {
        let s = Subnet::parse(
            "10.0.0.0/24,range=10.0.0.100-10.0.0.109,range=10.0.0.105-10.0.0.109,range=10.0.0.100-10.0.0.104",
        )
        .unwrap();
        let mut srv = Server::new(Config::new(SERVER, vec![s.clone()]));
        let mut last = None;
        for i in 0..11u8 {
            let d = srv.handle(
                &msg(MessageType::Discover, &[2, 0, 0, 0, 1, i], |_| {}),
                &on_lan(0, true),
            );
            last = d.reason.map(|r| r.to_string());
        }
        assert_eq!(
            (s.pool_size(), last.as_deref()),
            (
                10,
                Some("all 10 addresses of 10.0.0.0/24's ranges are held")
            )
        );
    }
}
