//! Bug-hunt tests: reply matching, DORA and bisect against fakes (no network).

use std::collections::VecDeque;
use std::io;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use probe::session::{dora, DoraResult, Limits, Session};
use probe::transport::{Dest, Packet, Transport};
use wire::dhcp::{code, MessageType, Op};
use wire::frame::UdpFrame;
use wire::{LinkType, Message};

const CLIENT: [u8; 6] = [2, 0, 0, 0, 0, 1];

/// A transport that answers each send with a scripted batch of frames.
struct Fake {
    script: VecDeque<Box<dyn FnMut(&Message<'_>) -> Vec<Vec<u8>>>>,
    pending: VecDeque<Vec<u8>>,
    sent: Vec<Message<'static>>,
}

impl Fake {
    fn new(script: Vec<Box<dyn FnMut(&Message<'_>) -> Vec<Vec<u8>>>>) -> Fake {
        Fake {
            script: script.into(),
            pending: VecDeque::new(),
            sent: Vec::new(),
        }
    }
}

fn packet(frame: Vec<u8>, sent: bool) -> Packet {
    Packet {
        at: Instant::now(),
        ts: capture::Timestamp::now(),
        link: LinkType::Ethernet,
        orig_len: frame.len(),
        frame,
        sent,
        kernel: None,
    }
}

impl Transport for Fake {
    fn send(&mut self, m: &Message<'_>, _dest: Dest) -> io::Result<Packet> {
        self.sent.push(m.clone().into_owned());
        if let Some(mut f) = self.script.pop_front() {
            self.pending.extend(f(m));
        }
        let payload = m.encode(300);
        let mut f = UdpFrame::new(
            (Ipv4Addr::UNSPECIFIED, 68),
            (Ipv4Addr::BROADCAST, 67),
            &payload,
        );
        f.src_mac = CLIENT;
        Ok(packet(f.ethernet_frame(), true))
    }
    fn recv(&mut self, _until: Instant) -> io::Result<Option<Packet>> {
        Ok(self.pending.pop_front().map(|f| packet(f, false)))
    }
    fn describe(&self) -> String {
        "fake".into()
    }
    fn interface(&self) -> Option<String> {
        None
    }
}

/// A reply frame from `server` (option 54 = `server`).
fn reply(xid: u32, chaddr: &[u8], t: MessageType, server: Ipv4Addr, yiaddr: Ipv4Addr) -> Vec<u8> {
    let mut m = Message::new(Op::BootReply, xid, chaddr);
    m.yiaddr = yiaddr;
    m.set_option(code::DHCP_MESSAGE_TYPE, vec![u8::from(t)]);
    m.set_option(code::SERVER_IDENTIFIER, server.octets().to_vec());
    if t == MessageType::Ack || t == MessageType::Offer {
        m.set_option(code::IP_ADDRESS_LEASE_TIME, 3600u32.to_be_bytes().to_vec());
    }
    let payload = m.encode(300);
    let mut f = UdpFrame::new((server, 67), (Ipv4Addr::BROADCAST, 68), &payload);
    f.src_mac = [2, 0, 0, 0, 0, server.octets()[3]];
    f.ethernet_frame()
}

fn discover(xid: u32) -> Message<'static> {
    let mut m = Message::new(Op::BootRequest, xid, &CLIENT);
    m.set_option(
        code::DHCP_MESSAGE_TYPE,
        vec![u8::from(MessageType::Discover)],
    );
    m
}

fn limits() -> Limits {
    Limits {
        max_sends: 10,
        min_interval: Duration::from_millis(10),
    }
}

const A: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const ADDR: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 100);

/// `dhcplens probe --dora -t request …` (or renew, rebind, init-reboot) is
/// accepted (send.rs checks no kind) and hands a REQUEST to `dora` as its
/// "DISCOVER": the server's ACK is ignored while waiting for an OFFER, and
/// the run reports "no OFFER" (exit 1) although the server answered.
#[test]
fn dora_given_a_request_does_not_report_no_offer_for_an_ack() {
    use probe::request::{Kind, Spec};
    let mut t = Fake::new(vec![Box::new(|m: &Message<'_>| {
        vec![reply(m.xid, &CLIENT, MessageType::Ack, A, ADDR)]
    })]);
    let mut spec = Spec::new(Kind::Renew, wire::HwAddr::new(&CLIENT), 9);
    spec.ciaddr = ADDR;
    let renew = spec.build().unwrap();
    let mut s = Session::new(&mut t, limits());
    let r = dora(
        &mut s,
        &renew,
        Dest::Broadcast,
        Duration::from_millis(50),
        Duration::from_millis(10),
        false,
    );
    assert!(
        !matches!(r, Ok(DoraResult::NoOffer)),
        "the server ACKed the RENEW, dora says {r:?}"
    );
}
