//! Bug-hunt tests: each fails on the current build and names the defect.

use std::net::Ipv4Addr;

use wire::dhcp::code;
use wire::{Message, MessageType, Op};

use crate::config::{Config, Subnet};
use crate::handle::{Arrival, Decision, Server};

const SERVER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);

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

fn show(d: &Decision) -> String {
    d.line("eth0")
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
