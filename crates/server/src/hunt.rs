//! Bug-hunt tests: each fails on the current build and names the defect.

use std::net::Ipv4Addr;

use wire::dhcp::code;
use wire::{Message, MessageType, Op};

use crate::config::{Config, Subnet};
use crate::handle::{Action, Arrival, Decision, Server};

const SERVER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const MAC_A: [u8; 6] = [2, 0, 0, 0, 0, 0xa];
const MAC_B: [u8; 6] = [2, 0, 0, 0, 0, 0xb];

fn lan() -> Subnet {
    Subnet::parse("10.0.0.0/24,range=10.0.0.100-10.0.0.109,router=10.0.0.254").unwrap()
}

fn server() -> Server {
    Server::new(Config::new(SERVER, vec![lan()]))
}

fn at(now_ms: u64, broadcast: bool) -> Arrival<'static> {
    Arrival {
        iface: "eth0",
        iface_addr: SERVER,
        broadcast,
        now_ms,
    }
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

fn show(d: &Decision) -> String {
    d.line("eth0")
}

/// RFC 2131 §4.4.5 wants T1 < T2 < lease; the project's own diagnose flags
/// T2 == T1 as lease-times-inconsistent. `--lease 2` sends T1 = T2 = 1,
/// `--lease 1` T1 = T2 = lease = 1.
#[test]
fn short_leases_keep_t1_before_t2_before_the_lease() {
    for secs in [1u32, 2] {
        let mut cfg = Config::new(SERVER, vec![lan()]);
        cfg.lease_secs = secs;
        let mut s = Server::new(cfg);
        let d = s.handle(&msg(MessageType::Discover, &MAC_A, |_| {}), &at(0, true));
        let m = &d.reply.as_ref().unwrap().0;
        let (t1, t2, lease) = (m.renewal_time(), m.rebinding_time(), m.lease_time());
        assert!(
            t1 < t2 && t2 < lease,
            "--lease {secs}: T1 {t1:?}, T2 {t2:?}, lease {lease:?}"
        );
    }
}

/// A DECLINE without option 50 is logged as "a REQUEST with neither option
/// 50 nor ciaddr" with a fix citing §4.3.2 and ciaddr; a DECLINE must carry
/// option 50 and have ciaddr 0 (RFC 2131 §4.4.4, table 5).
#[test]
fn a_decline_without_option_50_is_not_called_a_request() {
    let mut s = server();
    let d = s.handle(&msg(MessageType::Decline, &MAC_A, |_| {}), &at(0, true));
    let line = show(&d);
    assert!(
        !line.contains("a REQUEST") && !line.contains("or ciaddr"),
        "{line}"
    );
}

/// The holder of an address whose chaddr is empty (hlen 0: an IPoIB client
/// named by option 61, RFC 4390, which the lease file supports) is taken for
/// the ping check: the NAK's option 56 says "answered the ping check".
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
        s.handle(&ib(MessageType::Discover), &at(0, true)).action,
        Action::Offer
    );
    assert_eq!(
        s.handle(&ib(MessageType::Request), &at(1, true)).action,
        Action::Ack
    );
    let d = s.handle(
        &msg(MessageType::Request, &MAC_B, |m| {
            m.set_option(code::REQUESTED_IP_ADDRESS, ip(100).octets().to_vec());
        }),
        &at(2, true),
    );
    assert_eq!(d.action, Action::Nak);
    let text = d.reason.unwrap().to_string();
    assert!(!text.contains("ping"), "{text}");
}

/// Option 53 present but two bytes long: dropped as "no option 53: a BOOTP
/// request", with the fix "give the client a DHCP boot ROM".
#[test]
fn a_malformed_option_53_is_not_called_bootp() {
    let mut s = server();
    let d = s.handle(
        &msg(MessageType::Discover, &MAC_A, |m| {
            m.set_option(code::DHCP_MESSAGE_TYPE, vec![1, 0]);
        }),
        &at(0, true),
    );
    assert_ne!(d.reason.map(|r| r.code()), Some("bootp-not-served"));
}

/// A relayed DISCOVER tells the server the relay's own address on that
/// network (giaddr), and the server offers exactly that address to the
/// client when the range holds it (a range written over the router's
/// address, which `router=` would have refused): a guaranteed conflict.
#[test]
fn the_relays_own_address_is_never_offered() {
    let relayed = Subnet::parse("10.1.0.0/24,range=10.1.0.1-10.1.0.50").unwrap();
    let mut s = Server::new(Config::new(SERVER, vec![lan(), relayed]));
    let giaddr = Ipv4Addr::new(10, 1, 0, 1);
    let d = s.handle(
        &msg(MessageType::Discover, &MAC_A, |m| {
            m.giaddr = giaddr;
            m.hops = 1;
        }),
        &at(0, false),
    );
    assert_eq!(d.action, Action::Offer, "{:?}", d.reason);
    assert_ne!(d.address, Some(giaddr), "offered the relay's own address");
}

/// A bound client renewing (unicast, ciaddr = its address) with an option 50
/// of 0.0.0.0 is NAKed for "0.0.0.0 is not on 10.0.0.0/24": 0.0.0.0 is
/// taken as the address asked for, ciaddr ignored, and the client loses a
/// good lease. RFC 2131 §4.3.2: a RENEWING client is named by ciaddr; 0.0.0.0
/// is no address to request.
#[test]
fn a_renewal_with_option_50_of_zero_is_decided_by_ciaddr() {
    let mut s = server();
    s.handle(&msg(MessageType::Discover, &MAC_A, |_| {}), &at(0, true));
    let d = s.handle(
        &msg(MessageType::Request, &MAC_A, |m| {
            m.set_option(code::SERVER_IDENTIFIER, SERVER.octets().to_vec());
            m.set_option(code::REQUESTED_IP_ADDRESS, ip(100).octets().to_vec());
        }),
        &at(1, true),
    );
    assert_eq!(d.action, Action::Ack);
    let d = s.handle(
        &msg(MessageType::Request, &MAC_A, |m| {
            m.ciaddr = ip(100);
            m.set_option(code::REQUESTED_IP_ADDRESS, vec![0, 0, 0, 0]);
        }),
        &at(2, false),
    );
    assert_eq!(d.action, Action::Ack, "{}", show(&d));
}

/// A bound client that starts over (DISCOVER) is offered its bound address;
/// when it then takes another server's offer, the log says "this server's
/// offer is withdrawn", but the address stays bound to it for the rest of
/// the lease (RFC 2131 §3.1.3: the REQUEST tells the other servers their
/// offer was declined; a client in INIT has given up its lease, §4.4.1).
#[test]
fn an_offer_withdrawn_from_a_client_that_chose_another_server_frees_the_address() {
    let mut s = server();
    s.handle(&msg(MessageType::Discover, &MAC_A, |_| {}), &at(0, true));
    s.handle(
        &msg(MessageType::Request, &MAC_A, |m| {
            m.set_option(code::SERVER_IDENTIFIER, SERVER.octets().to_vec());
            m.set_option(code::REQUESTED_IP_ADDRESS, ip(100).octets().to_vec());
        }),
        &at(1, true),
    );
    let d = s.handle(
        &msg(MessageType::Discover, &MAC_A, |_| {}),
        &at(10_000, true),
    );
    assert_eq!(d.address, Some(ip(100)));
    let d = s.handle(
        &msg(MessageType::Request, &MAC_A, |m| {
            m.set_option(code::SERVER_IDENTIFIER, vec![10, 0, 0, 2]);
            m.set_option(code::REQUESTED_IP_ADDRESS, vec![10, 0, 0, 200]);
        }),
        &at(10_001, true),
    );
    assert_eq!(
        d.reason.as_ref().map(|r| r.code()),
        Some("other-server-chosen")
    );
    let l = s.leases().get(ip(100)).unwrap();
    assert!(
        !l.holds(10_002),
        "{} -- yet {} stays {} until {} ms",
        show(&d),
        l.address,
        l.state.name(),
        l.expires_ms
    );
}

/// `Decision::line` is read back by `dhcplens logs` (crates/logs/src/
/// dhcplens.rs), which needs a hardware address after "from". A request
/// too short to read, and any client with hlen 0 (IPoIB behind a relay),
/// is logged as "… from  xid …": an empty token, so `logs` drops the
/// server's own drop line (see logs' hunt test for the same line).
#[test]
fn every_log_line_names_a_hardware_address_logs_can_read() {
    let mut s = server();
    let short = s.handle(&[1, 1, 6, 0, 0x12, 0x34], &at(0, true));
    let ib = s.handle(
        &msg(MessageType::Discover, &[], |m| {
            m.htype = 32;
            m.set_option(code::CLIENT_IDENTIFIER, vec![0xff, 0, 0, 0, 1, 0, 2]);
        }),
        &at(0, true),
    );
    for d in [short, ib] {
        let line = show(&d);
        println!("{line}");
        let head = line.split(": ").next().unwrap();
        assert!(
            head.split(' ').all(|w| !w.is_empty()),
            "an empty field in {line:?}"
        );
    }
}
