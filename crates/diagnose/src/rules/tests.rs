//! Every rule, from packets built with the wire library: a case where it fires
//! and one where it must not.

use std::net::Ipv4Addr;

use capture::Timestamp;
use wire::dhcp::{code, Message, MessageType, Op, FLAG_BROADCAST};
use wire::frame::{ChecksumMode, UdpFrame};

use crate::engine::{Config, Engine, NoSink};
use crate::finding::{Code, Severity};
use crate::obs::{FrameRef, Obs};
use crate::report::Report;
use crate::transaction::Outcome;

const CLIENT: [u8; 6] = [0x02, 0, 0, 0, 0, 0x01];
const SERVER: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 1);
const SERVER_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0xfe];
const ROGUE: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 66);
const ADDR: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 10);

/// A capture being written packet by packet, fed to an engine.
struct Cap {
    engine: Engine<NoSink>,
    frames: Vec<u64>,
    file: u16,
    /// Every observation pushed, in order.
    tape: Vec<Obs>,
}

impl Cap {
    fn new() -> Cap {
        Cap::files(1)
    }

    fn files(n: usize) -> Cap {
        let cfg = Config {
            files: (0..n).map(|i| format!("f{i}.pcap")).collect(),
            ..Config::default()
        };
        Cap {
            engine: Engine::new(cfg, NoSink),
            frames: vec![0; n],
            file: 0,
            tape: Vec::new(),
        }
    }

    fn frame(&mut self, t: f64, f: &UdpFrame<'_>) {
        self.frames[usize::from(self.file)] += 1;
        let at = FrameRef {
            file: self.file,
            frame: self.frames[usize::from(self.file)],
        };
        let o = observe(t, at, f);
        self.tape.push(o.clone());
        self.engine.push(o);
    }

    /// A client message, broadcast from 0.0.0.0:68.
    fn client(&mut self, t: f64, m: &Message<'_>) {
        let payload = m.encode(300);
        self.frame(t, &client_frame(m, &payload));
    }

    /// A server reply from `server`:67 to `dst`:68 with the given checksum.
    fn server(
        &mut self,
        t: f64,
        server: Ipv4Addr,
        m: &Message<'_>,
        dst: Ipv4Addr,
        csum: ChecksumMode,
    ) {
        let payload = m.encode(300);
        let mut f = UdpFrame::new((server, 67), (dst, 68), &payload);
        f.src_mac = SERVER_MAC;
        f.dst_mac = if dst == Ipv4Addr::BROADCAST {
            [0xff; 6]
        } else {
            m.chaddr_field[..6].try_into().unwrap()
        };
        f.checksum = csum;
        self.frame(t, &f);
    }

    /// A renewing REQUEST (ciaddr set) from the client's address: unicast
    /// to the server (RENEWING), or broadcast (REBINDING).
    fn renew(&mut self, t: f64, xid: u32, broadcast: bool) {
        let mut m = request_msg(MessageType::Request, xid, CLIENT);
        m.ciaddr = ADDR;
        let payload = m.encode(300);
        let dst = if broadcast {
            Ipv4Addr::BROADCAST
        } else {
            SERVER
        };
        let mut f = UdpFrame::new((ADDR, 68), (dst, 67), &payload);
        f.src_mac = CLIENT;
        if !broadcast {
            f.dst_mac = SERVER_MAC;
        }
        self.frame(t, &f);
    }

    fn reply(&mut self, t: f64, m: &Message<'_>) {
        self.server(t, SERVER, m, Ipv4Addr::BROADCAST, ChecksumMode::Full);
    }

    fn report(self) -> Report {
        self.engine.finish().0
    }
}

/// The observation of frame `f` captured `t` seconds into the capture.
fn observe(t: f64, at: FrameRef, f: &UdpFrame<'_>) -> Obs {
    let bytes = f.ethernet_frame();
    let d = wire::packet::decode(wire::LinkType::Ethernet, &bytes, bytes.len())
        .unwrap()
        .unwrap();
    Obs::new(at, Timestamp((t * 1e9) as i64), &d, None).unwrap()
}

/// A client's broadcast from 0.0.0.0:68, from its chaddr's MAC.
fn client_frame<'p>(m: &Message<'_>, payload: &'p [u8]) -> UdpFrame<'p> {
    let mut f = UdpFrame::new(
        (Ipv4Addr::UNSPECIFIED, 68),
        (Ipv4Addr::BROADCAST, 67),
        payload,
    );
    f.src_mac = m.chaddr_field[..6].try_into().unwrap();
    f
}

/// The `n`-th (1-based) frame of file 0: `m` sent by its client at `t` seconds.
fn client_obs(t: f64, n: u64, m: &Message<'_>) -> Obs {
    let payload = m.encode(300);
    observe(
        t,
        FrameRef { file: 0, frame: n },
        &client_frame(m, &payload),
    )
}

fn request_msg(kind: MessageType, xid: u32, mac: [u8; 6]) -> Message<'static> {
    let mut m = Message::new(Op::BootRequest, xid, &mac);
    m.set_option(code::DHCP_MESSAGE_TYPE, vec![u8::from(kind)]);
    m.set_option(code::PARAMETER_REQUEST_LIST, vec![1, 3, 6]);
    m
}

fn discover(xid: u32, secs: u16) -> Message<'static> {
    let mut m = request_msg(MessageType::Discover, xid, CLIENT);
    m.secs = secs;
    m
}

fn request(xid: u32, server: Ipv4Addr) -> Message<'static> {
    let mut m = request_msg(MessageType::Request, xid, CLIENT);
    m.set_option(code::REQUESTED_IP_ADDRESS, ADDR.octets().to_vec());
    m.set_option(code::SERVER_IDENTIFIER, server.octets().to_vec());
    m
}

fn reply_msg(kind: MessageType, xid: u32, server: Ipv4Addr, yiaddr: Ipv4Addr) -> Message<'static> {
    let mut m = Message::new(Op::BootReply, xid, &CLIENT);
    m.yiaddr = yiaddr;
    m.set_option(code::DHCP_MESSAGE_TYPE, vec![u8::from(kind)]);
    m.set_option(code::SERVER_IDENTIFIER, server.octets().to_vec());
    if kind != MessageType::Nak {
        m.set_option(code::SUBNET_MASK, vec![255, 255, 255, 0]);
        m.set_option(code::ROUTER, server.octets().to_vec());
        m.set_option(code::IP_ADDRESS_LEASE_TIME, 3600u32.to_be_bytes().to_vec());
    }
    m
}

fn offer(xid: u32) -> Message<'static> {
    reply_msg(MessageType::Offer, xid, SERVER, ADDR)
}

fn ack(xid: u32) -> Message<'static> {
    reply_msg(MessageType::Ack, xid, SERVER, ADDR)
}

/// A complete, healthy DORA at time `t`.
fn dora(c: &mut Cap, t: f64, xid: u32) {
    c.client(t, &discover(xid, 0));
    c.reply(t + 0.01, &offer(xid));
    c.client(t + 0.02, &request(xid, SERVER));
    c.reply(t + 0.03, &ack(xid));
}

fn codes(r: &Report) -> Vec<(Code, Severity)> {
    let mut v: Vec<(Code, Severity)> = r.findings().map(|f| (f.code, f.severity)).collect();
    v.sort();
    v
}

fn has(r: &Report, code: Code) -> bool {
    r.findings().any(|f| f.code == code)
}

fn finding(r: &Report, code: Code) -> &crate::Finding {
    r.findings()
        .find(|f| f.code == code)
        .unwrap_or_else(|| panic!("no {code}: {:?}", codes(r)))
}

#[test]
fn healthy_dora_has_no_findings() {
    let mut c = Cap::new();
    dora(&mut c, 1.0, 0x11);
    let r = c.report();
    assert_eq!(codes(&r), []);
    assert_eq!(r.clients.len(), 1);
    assert_eq!(r.clients[0].outcome(), Some(Outcome::Bound));
    assert_eq!(r.clients[0].address(), Some(ADDR));
    assert_eq!(r.clients[0].server(), Some(SERVER));
    assert!(r.healthy());
}

#[test]
fn no_offer_with_frozen_secs() {
    let mut c = Cap::new();
    for i in 0..5 {
        c.client(f64::from(i) * 4.0, &discover(0x22, 0));
    }
    // Another client is served, so a server is there.
    let other = [2, 0, 0, 0, 0, 0x77];
    c.client(30.0, &request_msg(MessageType::Discover, 0x99, other));
    let mut o = offer(0x99);
    o.set_chaddr(&other);
    c.reply(30.01, &o);
    let r = c.report();
    let no = finding(&r, Code::NoOffer);
    assert_eq!(no.severity, Severity::Error);
    assert!(
        no.summary.contains("5 DISCOVERs over 16.0 s"),
        "{}",
        no.summary
    );
    let secs = finding(&r, Code::SecsNotIncrementing);
    assert_eq!(secs.severity, Severity::Error);
    assert!(secs.explains_failure);
    assert!(
        secs.summary.contains("secs stayed 0 over 5 DISCOVERs"),
        "{}",
        secs.summary
    );
    assert!(!has(&r, Code::UdpChecksumPartial));
    assert!(!r.healthy());
    assert!(
        secs.explanation
            .contains("min-secs value (2) is greater than secs field (0)"),
        "{}",
        secs.explanation
    );

    // Stuck at 5: only a min-secs above 5 drops it, and the quoted line
    // says so.
    let mut c = Cap::new();
    for i in 0..4 {
        c.client(f64::from(i) * 2.0, &discover(0x23, 5));
    }
    let r = c.report();
    let e = &finding(&r, Code::SecsNotIncrementing).explanation;
    assert!(
        e.contains("min-secs value (6) is greater than secs field (5)")
            && e.contains("\"5 secs < 6\""),
        "{e}"
    );
}

#[test]
fn secs_that_count_up_are_fine() {
    let mut c = Cap::new();
    for i in 0..5u16 {
        c.client(f64::from(i) * 4.0, &discover(0x22, i * 4));
    }
    let r = c.report();
    assert!(has(&r, Code::NoOffer));
    assert!(!has(&r, Code::SecsNotIncrementing));
}

#[test]
fn frozen_secs_with_an_offer_is_a_warning() {
    let mut c = Cap::new();
    for i in 0..3 {
        c.client(f64::from(i) * 4.0, &discover(0x22, 0));
    }
    c.reply(8.1, &offer(0x22));
    c.client(8.2, &request(0x22, SERVER));
    c.reply(8.3, &ack(0x22));
    let r = c.report();
    assert_eq!(
        finding(&r, Code::SecsNotIncrementing).severity,
        Severity::Warning
    );
    assert_eq!(r.clients[0].outcome(), Some(Outcome::Bound));
}

#[test]
fn partial_checksums_dropped_by_the_client() {
    let mut c = Cap::new();
    for i in 0..4 {
        let t = f64::from(i) * 3.0;
        c.client(t, &discover(0x33, i as u16 * 3));
        c.server(
            t + 0.01,
            SERVER,
            &offer(0x33),
            Ipv4Addr::BROADCAST,
            ChecksumMode::Partial,
        );
    }
    let r = c.report();
    let p = finding(&r, Code::UdpChecksumPartial);
    assert_eq!(p.severity, Severity::Error);
    assert!(p.explains_failure);
    assert!(
        p.explanation.contains("pseudo-header sum"),
        "{}",
        p.explanation
    );
    assert!(has(&r, Code::OfferIgnored));
    assert_eq!(r.clients[0].outcome(), Some(Outcome::OfferIgnored));
    assert!(!has(&r, Code::UdpChecksumInvalid));
}

#[test]
fn partial_checksums_harmless_when_the_client_requests() {
    let mut c = Cap::new();
    c.client(0.0, &discover(0x34, 0));
    c.server(
        0.01,
        SERVER,
        &offer(0x34),
        Ipv4Addr::BROADCAST,
        ChecksumMode::Partial,
    );
    c.client(0.02, &request(0x34, SERVER));
    c.server(
        0.03,
        SERVER,
        &ack(0x34),
        Ipv4Addr::BROADCAST,
        ChecksumMode::Partial,
    );
    let r = c.report();
    let p = finding(&r, Code::UdpChecksumPartial);
    assert_eq!(p.severity, Severity::Info);
    assert!(!p.explains_failure);
    assert!(p.explanation.contains("Harmless here"));
    assert_eq!(r.clients[0].outcome(), Some(Outcome::Bound));
    assert!(r.healthy(), "info findings keep the capture healthy");

    // The partial OFFER passed over for another server's: not "accepted".
    let mut c = Cap::new();
    c.client(0.0, &discover(0x36, 0));
    c.server(
        0.01,
        SERVER,
        &offer(0x36),
        Ipv4Addr::BROADCAST,
        ChecksumMode::Partial,
    );
    let rogue = |kind| {
        let mut m = reply_msg(kind, 0x36, ROGUE, ADDR);
        m.set_option(code::SERVER_IDENTIFIER, ROGUE.octets().to_vec());
        m
    };
    c.server(
        0.02,
        ROGUE,
        &rogue(MessageType::Offer),
        Ipv4Addr::BROADCAST,
        ChecksumMode::Full,
    );
    c.client(0.03, &request(0x36, ROGUE));
    c.server(
        0.04,
        ROGUE,
        &rogue(MessageType::Ack),
        Ipv4Addr::BROADCAST,
        ChecksumMode::Full,
    );
    let r = c.report();
    assert_eq!(r.clients[0].outcome(), Some(Outcome::Bound));
    let p = finding(&r, Code::UdpChecksumPartial);
    assert_eq!(p.severity, Severity::Warning);
    assert!(!p.summary.contains("harmless"), "{}", p.summary);
    assert!(
        !p.explanation.contains("accepted them"),
        "{}",
        p.explanation
    );
    assert!(
        p.explanation.contains("took another server's OFFER"),
        "{}",
        p.explanation
    );

    // One server, every reply partial; a second OFFER (to a retransmitted
    // DISCOVER) comes after the REQUEST: no other server was taken.
    let mut c = Cap::new();
    let partial = |c: &mut Cap, t: f64, m: &Message<'_>| {
        c.server(t, SERVER, m, Ipv4Addr::BROADCAST, ChecksumMode::Partial)
    };
    c.client(0.0, &discover(0x37, 0));
    c.client(2.0, &discover(0x37, 2));
    partial(&mut c, 2.5, &offer(0x37));
    c.client(2.51, &request(0x37, SERVER));
    partial(&mut c, 2.52, &offer(0x37));
    partial(&mut c, 2.53, &ack(0x37));
    let r = c.report();
    let p = finding(&r, Code::UdpChecksumPartial);
    assert_eq!(p.severity, Severity::Info, "{}", p.explanation);

    // A REQUEST for the offered address that names a server no OFFER came
    // from (catalogue B.18): the OFFER reached the client all the same.
    let mut c = Cap::new();
    c.client(0.0, &discover(0x38, 0));
    partial(&mut c, 0.01, &offer(0x38));
    for i in 0..3 {
        c.client(
            0.02 + f64::from(i) * 3.0,
            &request(0x38, Ipv4Addr::new(10, 0, 0, 99)),
        );
    }
    let r = c.report();
    let p = finding(&r, Code::UdpChecksumPartial);
    assert_eq!(p.severity, Severity::Info, "{}", p.explanation);
    assert!(
        p.explanation.contains("accepted them and sent a REQUEST"),
        "{}",
        p.explanation
    );
}

#[test]
fn invalid_checksums() {
    let mut c = Cap::new();
    for i in 0..3 {
        let t = f64::from(i) * 3.0;
        c.client(t, &discover(0x35, i as u16 * 3));
        c.server(
            t + 0.01,
            SERVER,
            &offer(0x35),
            Ipv4Addr::BROADCAST,
            ChecksumMode::Fixed(0x1234),
        );
    }
    let r = c.report();
    assert_eq!(
        finding(&r, Code::UdpChecksumInvalid).severity,
        Severity::Error
    );
    assert!(!has(&r, Code::UdpChecksumPartial));
    let mut c = Cap::new();
    dora(&mut c, 0.0, 0x36);
    assert!(!has(&c.report(), Code::UdpChecksumInvalid));
}

/// The same replies in two captures of one segment, the client's (file 0)
/// and the server host's (file 1), with checksums that differ: what the
/// client received decides. Partial on the server's host but valid at the
/// client is the NIC filling it in (no finding, let alone a cause); valid
/// at the server but invalid at the client changed on the way (the cause,
/// quoting the client's copy). Found by a bug hunt: the verdict came from
/// whichever copy was seen first.
#[test]
fn checksums_seen_in_two_captures_are_judged_where_the_client_is() {
    let run = |server_side: ChecksumMode, client_side: ChecksumMode| {
        let mut c = Cap::files(2);
        for i in 0..3u16 {
            let t = f64::from(i) * 3.0;
            for file in [0, 1] {
                c.file = file;
                c.client(t + f64::from(file) * 0.0001, &discover(0x3a, i * 3));
            }
            c.file = 1;
            c.server(
                t + 0.01,
                SERVER,
                &offer(0x3a),
                Ipv4Addr::BROADCAST,
                server_side,
            );
            c.file = 0;
            c.server(
                t + 0.0101,
                SERVER,
                &offer(0x3a),
                Ipv4Addr::BROADCAST,
                client_side,
            );
        }
        c.report()
    };
    let r = run(ChecksumMode::Partial, ChecksumMode::Full);
    assert!(!has(&r, Code::UdpChecksumPartial), "{:?}", codes(&r));
    assert_eq!(r.clients[0].outcome(), Some(Outcome::OfferIgnored));

    let r = run(ChecksumMode::Full, ChecksumMode::Fixed(0x1234));
    let f = finding(&r, Code::UdpChecksumInvalid);
    assert!(f.explains_failure, "{f:?}");
    assert_eq!(f.severity, Severity::Error);
    assert!(
        f.frames.iter().all(|fr| fr.file == 0),
        "the client's copies: {:?}",
        f.frames
    );
    assert!(f.explanation.contains("0x1234"), "{}", f.explanation);
    assert!(
        f.explanation.contains("The same replies verify in f1.pcap")
            && f.explanation.contains(
                "The invalid copies are in the capture that holds the client's own packets"
            )
            && !f.explanation.contains("in every capture"),
        "{}",
        f.explanation
    );

    // Partial on the server's host, invalid at the client: what the client
    // got is the invalid one, one cause (a review found two).
    let r = run(ChecksumMode::Partial, ChecksumMode::Fixed(0x1234));
    assert!(!has(&r, Code::UdpChecksumPartial), "{:?}", codes(&r));
    assert!(finding(&r, Code::UdpChecksumInvalid).explains_failure);

    // Partial in both: unfilled where the client is too.
    let r = run(ChecksumMode::Partial, ChecksumMode::Partial);
    let f = finding(&r, Code::UdpChecksumPartial);
    assert!(f.explains_failure, "{f:?}");
    assert!(
        f.explanation
            .contains("unfilled in every capture that holds these replies (f0.pcap, f1.pcap)"),
        "{}",
        f.explanation
    );
}

/// The `servers` line's MAC is the server's own: a reply a relay passed
/// on to the client comes from the relay's MAC (and address), which is no
/// server's; the server's side of the relay, in a second capture, gives
/// the server's. Found by a bug hunt: the relay's MAC was shown.
#[test]
fn a_servers_mac_is_never_its_relays() {
    let relay = Ipv4Addr::new(10, 1, 0, 1);
    let relay_mac = [0x02, 0, 0, 0, 0x0b, 0x02];
    let mut m = offer(0x3b);
    m.giaddr = relay;
    let payload = m.encode(300);
    for with_server_side in [false, true] {
        let mut c = Cap::files(2);
        c.client(0.0, &discover(0x3b, 0));
        if with_server_side {
            c.file = 1;
            let mut f = UdpFrame::new((SERVER, 67), (relay, 67), &payload);
            f.src_mac = SERVER_MAC;
            c.frame(0.005, &f);
            c.file = 0;
        }
        let mut f = UdpFrame::new((relay, 67), (Ipv4Addr::BROADCAST, 68), &payload);
        f.src_mac = relay_mac;
        f.dst_mac = [0xff; 6];
        c.frame(0.006, &f);
        let r = c.report();
        let want = with_server_side.then(|| wire::frame::mac_to_string(&SERVER_MAC));
        assert_eq!(r.servers[0].mac, want, "{with_server_side}");
        assert_eq!(r.servers[0].offers, 1);
    }
}

/// `no-offer` says where no OFFER came back: in this capture, or in any
/// of the captures given (it said "this capture" of three).
#[test]
fn no_offer_names_the_captures_it_looked_in() {
    for (files, words) in [
        (1, "in this capture"),
        (2, "in either capture"),
        (3, "in any of the 3 captures"),
    ] {
        let mut c = Cap::files(files);
        for i in 0..3u16 {
            c.client(f64::from(i) * 4.0, &discover(0x3c, i * 4));
        }
        let r = c.report();
        let f = finding(&r, Code::NoOffer);
        assert!(
            f.explanation
                .contains(&format!("no OFFER came back {words}")),
            "{}",
            f.explanation
        );
    }
}

/// One message seen on two interfaces of one capture (mergecap of a
/// client's and a server's capture, or dumpcap on both sides of a bridge)
/// is one message seen twice, as in two captures, even 50 ms apart; a
/// retransmission on the same interface is still one. Found by a bug hunt:
/// every copy past 10 ms counted as a retransmission.
#[test]
fn one_message_on_two_interfaces_of_a_capture_is_a_copy() {
    #[derive(Default)]
    struct Sums(Vec<(usize, usize)>);
    impl crate::engine::Sink for Sums {
        fn wants_transactions(&self) -> bool {
            true
        }
        fn transaction(&mut self, s: &crate::transaction::Summary) {
            self.0.push((s.requests, s.retransmissions));
        }
    }
    let cfg = Config {
        files: vec!["merged.pcapng".into()],
        ..Config::default()
    };
    let mut e = Engine::new(cfg, Sums::default());
    let mut n = 0;
    for (t, secs) in [(0.0, 0), (4.0, 4)] {
        for iface in [0, 1] {
            n += 1;
            let mut o = client_obs(t + f64::from(iface) * 0.05, n, &discover(0x3f, secs));
            o.iface = iface;
            e.push(o);
        }
    }
    let (_, sums) = e.finish();
    assert_eq!(
        sums.0,
        [(2, 1)],
        "two DISCOVERs, each seen on both interfaces"
    );
}

#[test]
fn no_ack() {
    let mut c = Cap::new();
    c.client(0.0, &discover(0x44, 0));
    c.reply(0.01, &offer(0x44));
    for i in 0..3 {
        c.client(0.02 + f64::from(i) * 4.0, &request(0x44, SERVER));
    }
    let r = c.report();
    assert!(has(&r, Code::NoAck));
    assert_eq!(r.clients[0].outcome(), Some(Outcome::NoAck));
}

#[test]
fn multiple_servers_and_which_one_won() {
    let mut c = Cap::new();
    c.client(0.0, &discover(0x55, 0));
    c.server(
        0.002,
        ROGUE,
        &reply_msg(MessageType::Offer, 0x55, ROGUE, Ipv4Addr::new(10, 9, 9, 9)),
        Ipv4Addr::BROADCAST,
        ChecksumMode::Full,
    );
    c.reply(0.05, &offer(0x55));
    c.client(0.06, &request(0x55, ROGUE));
    c.server(
        0.07,
        ROGUE,
        &reply_msg(MessageType::Ack, 0x55, ROGUE, Ipv4Addr::new(10, 9, 9, 9)),
        Ipv4Addr::BROADCAST,
        ChecksumMode::Full,
    );
    let r = c.report();
    let m = finding(&r, Code::MultipleServers);
    assert!(
        m.summary.contains("the client took 192.168.1.66"),
        "{}",
        m.summary
    );
    assert!(
        m.explanation.contains("offered 10.9.9.9"),
        "{}",
        m.explanation
    );
    let mut c = Cap::new();
    dora(&mut c, 0.0, 0x56);
    assert!(!has(&c.report(), Code::MultipleServers));

    // After retransmissions, each OFFER's delay is from the DISCOVER it
    // answers (the last before it), not from the first.
    let mut c = Cap::new();
    for i in 0..3 {
        c.client(f64::from(i) * 4.0, &discover(0x57, 0));
    }
    c.server(
        8.01,
        ROGUE,
        &reply_msg(MessageType::Offer, 0x57, ROGUE, Ipv4Addr::new(10, 9, 9, 9)),
        Ipv4Addr::BROADCAST,
        ChecksumMode::Full,
    );
    c.reply(8.05, &offer(0x57));
    let r = c.report();
    let e = &finding(&r, Code::MultipleServers).explanation;
    assert!(e.contains("offered 10.9.9.9 after 10 ms"), "{e}");
    assert!(e.contains("after 50 ms"), "{e}");
}

#[test]
fn nak_after_init_reboot_on_the_wrong_network() {
    let mut c = Cap::new();
    let mut m = request_msg(MessageType::Request, 0x66, CLIENT);
    m.set_option(code::REQUESTED_IP_ADDRESS, vec![10, 1, 1, 5]);
    c.client(0.0, &m);
    let mut n = reply_msg(MessageType::Nak, 0x66, SERVER, Ipv4Addr::UNSPECIFIED);
    n.set_option(code::MESSAGE, b"wrong network".to_vec());
    c.reply(0.01, &n);
    let r = c.report();
    let f = finding(&r, Code::Nak);
    assert_eq!(f.severity, Severity::Error);
    assert!(
        f.summary.contains("init-reboot-wrong-network"),
        "{}",
        f.summary
    );
    assert!(f.summary.contains("\"wrong network\""), "{}", f.summary);
    assert!(f.explanation.contains("10.1.1.5"));
    assert_eq!(r.clients[0].outcome(), Some(Outcome::Nak));
}

#[test]
fn spurious_nak_from_another_server_is_a_warning_when_acked() {
    let mut c = Cap::new();
    c.client(0.0, &discover(0x67, 0));
    c.reply(0.01, &offer(0x67));
    c.client(0.02, &request(0x67, SERVER));
    c.reply(0.03, &ack(0x67));
    c.server(
        0.04,
        ROGUE,
        &reply_msg(MessageType::Nak, 0x67, ROGUE, Ipv4Addr::UNSPECIFIED),
        Ipv4Addr::BROADCAST,
        ChecksumMode::Full,
    );
    let r = c.report();
    let f = finding(&r, Code::Nak);
    assert_eq!(f.severity, Severity::Warning);
    assert!(f.summary.contains("other-server"));
    assert_eq!(r.clients[0].outcome(), Some(Outcome::Bound));

    // An INIT-REBOOT REQUEST names no server: one server ACKs it, another
    // NAKs it. The servers disagree; the client did not move networks.
    let mut c = Cap::new();
    let mut m = request_msg(MessageType::Request, 0x68, CLIENT);
    m.set_option(code::REQUESTED_IP_ADDRESS, ADDR.octets().to_vec());
    c.client(0.0, &m);
    c.reply(0.01, &ack(0x68));
    c.server(
        0.02,
        ROGUE,
        &reply_msg(MessageType::Nak, 0x68, ROGUE, Ipv4Addr::UNSPECIFIED),
        Ipv4Addr::BROADCAST,
        ChecksumMode::Full,
    );
    let r = c.report();
    let f = finding(&r, Code::Nak);
    assert!(f.summary.contains("other-server"), "{}", f.summary);
    assert!(
        f.explanation.contains("192.168.1.1 ACKed it"),
        "{}",
        f.explanation
    );
    assert!(
        !f.explanation.contains("moved networks"),
        "{}",
        f.explanation
    );
}

#[test]
fn broadcast_flag_ignored() {
    let mut c = Cap::new();
    for i in 0..3 {
        let mut d = discover(0x77, i * 3);
        d.flags = FLAG_BROADCAST;
        c.client(f64::from(i) * 3.0, &d);
        c.server(
            f64::from(i) * 3.0 + 0.01,
            SERVER,
            &offer(0x77),
            ADDR,
            ChecksumMode::Full,
        );
    }
    let r = c.report();
    let f = finding(&r, Code::BroadcastFlagIgnored);
    assert_eq!(f.severity, Severity::Error);
    assert!(f.summary.contains("unicast to 192.168.1.10"));
    // Unicast is fine when the client did not ask for broadcast.
    let mut c = Cap::new();
    c.client(0.0, &discover(0x78, 0));
    c.server(0.01, SERVER, &offer(0x78), ADDR, ChecksumMode::Full);
    c.client(0.02, &request(0x78, SERVER));
    c.server(0.03, SERVER, &ack(0x78), ADDR, ChecksumMode::Full);
    assert!(!has(&c.report(), Code::BroadcastFlagIgnored));
    // The client REQUESTed the unicast OFFER, then got no ACK: it did
    // receive the OFFER, so the unicast is a risk, not why.
    let mut c = Cap::new();
    let mut d = discover(0x79, 0);
    d.flags = FLAG_BROADCAST;
    c.client(0.0, &d);
    c.server(0.01, SERVER, &offer(0x79), ADDR, ChecksumMode::Full);
    for (i, t) in [0.02, 3.0].into_iter().enumerate() {
        let mut r = request(0x79, SERVER);
        r.flags = FLAG_BROADCAST;
        r.secs = i as u16 * 3;
        c.client(t, &r);
    }
    let r = c.report();
    assert_eq!(r.clients[0].outcome(), Some(Outcome::NoAck));
    let f = finding(&r, Code::BroadcastFlagIgnored);
    assert_eq!(f.severity, Severity::Warning);
    assert!(!f.explains_failure);
    assert!(f.explanation.contains("coped"), "{}", f.explanation);
}

/// A relay's copy of `m` (giaddr set, from port 67 to the server) and the
/// server's answer to the relay.
fn relayed(c: &mut Cap, t: f64, m: &Message<'_>, reply: &Message<'_>, echo: bool) {
    let relay = Ipv4Addr::new(10, 0, 5, 1);
    let mut r = m.clone();
    r.giaddr = relay;
    r.hops = 1;
    r.set_option(
        code::RELAY_AGENT_INFORMATION,
        vec![1, 4, b'p', b'o', b'r', b't'],
    );
    let payload = r.encode(300);
    c.frame(t, &UdpFrame::new((relay, 67), (SERVER, 67), &payload));
    let mut a = reply.clone();
    a.giaddr = relay;
    if echo {
        a.set_option(
            code::RELAY_AGENT_INFORMATION,
            vec![1, 4, b'p', b'o', b'r', b't'],
        );
    }
    let payload = a.encode(300);
    c.frame(
        t + 0.01,
        &UdpFrame::new((SERVER, 67), (relay, 67), &payload),
    );
}

#[test]
fn option82_not_echoed() {
    let mut c = Cap::new();
    relayed(&mut c, 0.0, &discover(0x88, 0), &offer(0x88), false);
    relayed(&mut c, 0.1, &request(0x88, SERVER), &ack(0x88), false);
    assert!(has(&c.report(), Code::Option82NotEchoed));
    let mut c = Cap::new();
    relayed(&mut c, 0.0, &discover(0x89, 0), &offer(0x89), true);
    relayed(&mut c, 0.1, &request(0x89, SERVER), &ack(0x89), true);
    let r = c.report();
    assert!(!has(&r, Code::Option82NotEchoed));
    assert_eq!(r.clients[0].outcome(), Some(Outcome::Bound));
}

#[test]
fn option82_without_giaddr() {
    let snooped = |xid: u32, secs: u16| {
        let mut d = discover(xid, secs);
        d.set_option(
            code::RELAY_AGENT_INFORMATION,
            vec![1, 7, b'G', b'i', b'1', b'/', b'0', b'/', b'7'],
        );
        d
    };
    // Unanswered: a possible cause, not a certain one.
    let mut c = Cap::new();
    for i in 0..3u16 {
        c.client(f64::from(i) * 4.0, &snooped(0x8c, i * 4));
    }
    let r = c.report();
    let f = finding(&r, Code::Option82WithoutGiaddr);
    assert_eq!(f.severity, Severity::Warning);
    assert!(f.explains_failure);
    assert_eq!(f.confidence, crate::Confidence::Low);
    assert!(
        f.explanation.contains("1(circuit-id)=\"Gi1/0/7\""),
        "{}",
        f.explanation
    );
    // Answered: only a note.
    let mut c = Cap::new();
    c.client(0.0, &snooped(0x8d, 0));
    c.reply(0.01, &offer(0x8d));
    c.client(0.02, &request(0x8d, SERVER));
    c.reply(0.03, &ack(0x8d));
    let r = c.report();
    let f = finding(&r, Code::Option82WithoutGiaddr);
    assert_eq!(f.severity, Severity::Info);
    assert!(!f.explains_failure);
    // A relay's option 82 comes with its giaddr.
    let mut c = Cap::new();
    relayed(&mut c, 0.0, &discover(0x8e, 0), &offer(0x8e), true);
    assert!(!has(&c.report(), Code::Option82WithoutGiaddr));
}

#[test]
fn relayed_discover_with_no_offer_mentions_the_relay() {
    let mut c = Cap::new();
    let relay = Ipv4Addr::new(10, 0, 5, 1);
    for i in 0..3u16 {
        let mut d = discover(0x8a, i * 4);
        d.giaddr = relay;
        d.hops = 1;
        let payload = d.encode(300);
        c.frame(
            f64::from(i) * 4.0,
            &UdpFrame::new((relay, 67), (SERVER, 67), &payload),
        );
    }
    let r = c.report();
    assert!(finding(&r, Code::NoOffer)
        .explanation
        .contains("giaddr 10.0.5.1"));
}

#[test]
fn reply_sizes() {
    let mut c = Cap::new();
    c.client(0.0, &discover(0x90, 0));
    let o = offer(0x90);
    let short = o.encode(0);
    assert!(short.len() < 300);
    let mut f = UdpFrame::new((SERVER, 67), (Ipv4Addr::BROADCAST, 68), &short);
    f.src_mac = SERVER_MAC;
    c.frame(0.01, &f);
    c.client(0.02, &request(0x90, SERVER));
    c.reply(0.03, &ack(0x90));
    let r = c.report();
    // The client accepted it and got its lease: harmless here.
    assert_eq!(finding(&r, Code::ReplyTooShort).severity, Severity::Info);
    assert!(finding(&r, Code::ReplyTooShort)
        .summary
        .contains("harmless here"));

    assert!(!has(&r, Code::ReplyTooLarge));

    let mut c = Cap::new();
    c.client(0.0, &discover(0x91, 0));
    let mut big = offer(0x91);
    big.set_option(code::VENDOR_SPECIFIC, vec![7; 250]);
    big.set_option(code::DOMAIN_SEARCH, vec![0; 250]);
    c.reply(0.01, &big);
    c.client(0.02, &request(0x91, SERVER));
    c.reply(0.03, &ack(0x91));
    let r = c.report();
    assert!(finding(&r, Code::ReplyTooLarge).summary.contains("(548)"));
    // A client that allows 1500 bytes (option 57) is fine with it.
    let mut c = Cap::new();
    let mut d = discover(0x92, 0);
    d.set_option(code::MAX_DHCP_MESSAGE_SIZE, 1500u16.to_be_bytes().to_vec());
    c.client(0.0, &d);
    let mut big = offer(0x92);
    big.set_option(code::VENDOR_SPECIFIC, vec![7; 250]);
    big.set_option(code::DOMAIN_SEARCH, vec![0; 250]);
    c.reply(0.01, &big);
    assert!(!has(&c.report(), Code::ReplyTooLarge));
}

#[test]
fn lease_times_inconsistent() {
    let mut c = Cap::new();
    c.client(0.0, &discover(0xa0, 0));
    c.reply(0.01, &offer(0xa0));
    c.client(0.02, &request(0xa0, SERVER));
    let mut a = ack(0xa0);
    a.set_option(code::RENEWAL_TIME, 3000u32.to_be_bytes().to_vec());
    a.set_option(code::REBINDING_TIME, 2000u32.to_be_bytes().to_vec());
    c.reply(0.03, &a);
    let r = c.report();
    assert!(finding(&r, Code::LeaseTimesInconsistent)
        .summary
        .contains("T1 (3000 s) is not before T2 (2000 s)"));
    let mut c = Cap::new();
    c.client(0.0, &discover(0xa1, 0));
    c.reply(0.01, &offer(0xa1));
    c.client(0.02, &request(0xa1, SERVER));
    let mut a = ack(0xa1);
    a.set_option(code::RENEWAL_TIME, 1800u32.to_be_bytes().to_vec());
    a.set_option(code::REBINDING_TIME, 3150u32.to_be_bytes().to_vec());
    c.reply(0.03, &a);
    assert!(!has(&c.report(), Code::LeaseTimesInconsistent));
    // One of T1 and T2 given: the other is its default (lease 3600: T1
    // 1800, T2 3150), and the order must still hold.
    let only = |option: u8, secs: u32| {
        let mut c = Cap::new();
        c.client(0.0, &discover(0xa2, 0));
        c.reply(0.01, &offer(0xa2));
        c.client(0.02, &request(0xa2, SERVER));
        let mut a = ack(0xa2);
        a.set_option(option, secs.to_be_bytes().to_vec());
        c.reply(0.03, &a);
        let r = c.report();
        let summary = (r.findings())
            .find(|f| f.code == Code::LeaseTimesInconsistent)
            .map(|f| f.summary.clone());
        summary
    };
    let t2 = only(code::REBINDING_TIME, 1000).unwrap();
    assert!(
        t2.contains("T2 (1000 s) is not after T1, absent and so half the lease (1800 s)"),
        "{t2}"
    );
    assert!(only(code::REBINDING_TIME, 1800).is_some());
    assert_eq!(only(code::REBINDING_TIME, 1801), None);
    let t1 = only(code::RENEWAL_TIME, 3300).unwrap();
    assert!(
        t1.contains("T1 (3300 s) is not before T2, absent and so 7/8 of the lease (3150 s)"),
        "{t1}"
    );
    assert!(only(code::RENEWAL_TIME, 3150).is_some());
    assert_eq!(only(code::RENEWAL_TIME, 3149), None);
    // An infinite lease with infinite T1 and T2 (never renew) is
    // consistent; an infinite T1 after a finite T2 is not, and says
    // "infinite".
    let infinite = |t1: u32, t2: u32| {
        let mut c = Cap::new();
        c.client(0.0, &discover(0xa3, 0));
        c.reply(0.01, &offer(0xa3));
        c.client(0.02, &request(0xa3, SERVER));
        let mut a = ack(0xa3);
        a.set_option(code::IP_ADDRESS_LEASE_TIME, u32::MAX.to_be_bytes().to_vec());
        a.set_option(code::RENEWAL_TIME, t1.to_be_bytes().to_vec());
        a.set_option(code::REBINDING_TIME, t2.to_be_bytes().to_vec());
        c.reply(0.03, &a);
        let r = c.report();
        let summary = (r.findings())
            .find(|f| f.code == Code::LeaseTimesInconsistent)
            .map(|f| f.summary.clone());
        summary
    };
    assert_eq!(infinite(u32::MAX, u32::MAX), None);
    assert_eq!(infinite(1000, u32::MAX), None);
    let s = infinite(u32::MAX, 1000).unwrap();
    assert!(s.contains("T1 (infinite) is not before T2 (1000 s)"), "{s}");
}

#[test]
fn classless_routes_without_default() {
    let run = |routes: Vec<u8>| {
        let mut c = Cap::new();
        c.client(0.0, &discover(0xb0, 0));
        c.reply(0.01, &offer(0xb0));
        c.client(0.02, &request(0xb0, SERVER));
        let mut a = ack(0xb0);
        a.set_option(code::CLASSLESS_STATIC_ROUTE, routes);
        c.reply(0.03, &a);
        c.report()
    };
    assert!(has(
        &run(vec![8, 10, 192, 168, 1, 254]),
        Code::ClasslessRoutesWithoutDefault
    ));
    assert!(!has(
        &run(vec![0, 192, 168, 1, 1, 8, 10, 192, 168, 1, 254]),
        Code::ClasslessRoutesWithoutDefault
    ));
}

#[test]
fn server_id_mismatch() {
    let mut c = Cap::new();
    c.client(0.0, &discover(0xc0, 0));
    c.reply(0.01, &offer(0xc0));
    for i in 0..3 {
        c.client(
            0.02 + f64::from(i) * 4.0,
            &request(0xc0, Ipv4Addr::new(172, 16, 0, 1)),
        );
    }
    let r = c.report();
    let f = finding(&r, Code::ServerIdMismatch);
    assert_eq!(f.severity, Severity::Error);
    assert!(f.summary.contains("172.16.0.1"));
    let mut c = Cap::new();
    dora(&mut c, 0.0, 0xc1);
    assert!(!has(&c.report(), Code::ServerIdMismatch));
}

#[test]
fn xid_changed_between_offer_and_request() {
    let mut c = Cap::new();
    c.client(0.0, &discover(0xd0, 0));
    c.reply(0.01, &offer(0xd0));
    c.client(0.02, &request(0xd1, SERVER));
    c.reply(0.03, &ack(0xd1));
    let r = c.report();
    assert!(finding(&r, Code::XidChanged).summary.contains("0x000000d1"));
    assert!(!has(&r, Code::OfferIgnored), "{:?}", codes(&r));
    assert_eq!(r.clients[0].outcome(), Some(Outcome::Bound));
    // The ladder shows what the finding cites: the OFFER's exchange too,
    // its times counted from the DISCOVER.
    let ladder: Vec<(u64, u32, u64)> = (r.clients[0].ladder().iter())
        .map(|s| (s.frame.frame, s.xid, (s.t * 1000.0).round() as u64))
        .collect();
    assert_eq!(
        ladder,
        [(1, 0xd0, 0), (2, 0xd0, 10), (3, 0xd1, 20), (4, 0xd1, 30)]
    );
}

#[test]
fn required_option_missing() {
    let mut c = Cap::new();
    c.client(0.0, &discover(0xe0, 0));
    c.reply(0.01, &offer(0xe0));
    c.client(0.02, &request(0xe0, SERVER));
    let mut a = ack(0xe0);
    a.remove_option(code::SUBNET_MASK);
    c.reply(0.03, &a);
    let r = c.report();
    assert!(finding(&r, Code::RequiredOptionMissing)
        .summary
        .contains("subnet mask"));
}

#[test]
fn client_ids_shared_and_changed() {
    let mut c = Cap::new();
    for (i, mac) in [[2, 0, 0, 0, 0, 0x0a], [2, 0, 0, 0, 0, 0x0b]]
        .into_iter()
        .enumerate()
    {
        let mut d = request_msg(MessageType::Discover, 0xf0 + i as u32, mac);
        d.set_option(
            code::CLIENT_IDENTIFIER,
            vec![255, 0, 0, 0, 1, 0, 4, 9, 9, 9],
        );
        c.client(f64::from(i as u32), &d);
    }
    let r = c.report();
    assert!(finding(&r, Code::ClientIdShared)
        .summary
        .contains("2 machines"));
    assert!(!has(&r, Code::ClientIdChanged));

    let mut c = Cap::new();
    let mut d = discover(0xf5, 0);
    d.set_option(code::CLIENT_IDENTIFIER, vec![1, 2, 0, 0, 0, 0, 1]);
    c.client(0.0, &d);
    dora(&mut c, 100.0, 0xf6);
    let r = c.report();
    assert!(finding(&r, Code::ClientIdChanged)
        .summary
        .contains("2 client identifiers"));
    assert!(!has(&r, Code::ClientIdShared));
}

/// An identifier `01` + a MAC names that MAC's client, so the engine keeps
/// no table entry for it; another MAC sending it is still caught, whichever
/// of the two came first, and named in the order they came.
#[test]
fn client_id_naming_another_mac_is_shared() {
    let (x, y) = ([2, 0, 0, 0, 0, 0x1a], [2, 0, 0, 0, 0, 0x1b]);
    let id_of_x = vec![1, 2, 0, 0, 0, 0, 0x1a];
    for (order, first) in [([x, y], "02:00:00:00:00:1a"), ([y, x], "02:00:00:00:00:1b")] {
        let mut c = Cap::new();
        for (i, mac) in order.into_iter().enumerate() {
            let mut d = request_msg(MessageType::Discover, 0x1f0 + i as u32, mac);
            d.set_option(code::CLIENT_IDENTIFIER, id_of_x.clone());
            c.client(f64::from(i as u32), &d);
        }
        let r = c.report();
        let f = finding(&r, Code::ClientIdShared);
        assert!(f.summary.contains("2 machines"), "{}", f.summary);
        assert_eq!(f.chaddr.map(|m| m.to_string()).as_deref(), Some(first));
    }
    // The MAC the identifier names never sends it: nobody shares it.
    let mut c = Cap::new();
    c.client(0.0, &request_msg(MessageType::Discover, 0x1f5, x));
    let mut d = request_msg(MessageType::Discover, 0x1f6, y);
    d.set_option(code::CLIENT_IDENTIFIER, id_of_x);
    c.client(1.0, &d);
    assert!(!has(&c.report(), Code::ClientIdShared));
}

#[test]
fn address_declined() {
    let mut c = Cap::new();
    dora(&mut c, 0.0, 0x100);
    let mut d = request_msg(MessageType::Decline, 0x101, CLIENT);
    d.set_option(code::REQUESTED_IP_ADDRESS, ADDR.octets().to_vec());
    d.set_option(code::SERVER_IDENTIFIER, SERVER.octets().to_vec());
    c.client(1.0, &d);
    let r = c.report();
    let f = finding(&r, Code::AddressDeclined);
    assert!(f.summary.contains("192.168.1.10"));
    assert_eq!(r.clients[0].outcome(), Some(Outcome::Declined));
}

fn pxe_discover(xid: u32) -> Message<'static> {
    let mut d = discover(xid, 0);
    d.set_option(
        code::VENDOR_CLASS_IDENTIFIER,
        b"PXEClient:Arch:00000:UNDI:002001".to_vec(),
    );
    d.set_option(code::CLIENT_SYSTEM_ARCHITECTURE, vec![0, 0]);
    d
}

#[test]
fn pxe_boot_file_missing() {
    let mut c = Cap::new();
    for i in 0..3 {
        c.client(f64::from(i) * 4.0, &pxe_discover(0x110));
        c.reply(f64::from(i) * 4.0 + 0.01, &offer(0x110));
    }
    let r = c.report();
    assert_eq!(
        finding(&r, Code::PxeBootFileMissing).severity,
        Severity::Error
    );
    let mut c = Cap::new();
    c.client(0.0, &pxe_discover(0x111));
    let mut o = offer(0x111);
    o.set_option(code::BOOTFILE_NAME, b"pxelinux.0".to_vec());
    c.reply(0.01, &o);
    assert!(!has(&c.report(), Code::PxeBootFileMissing));
}

/// A PXE DISCOVER from firmware of architecture `arch` and an OFFER naming
/// `file`, from a server that sets siaddr (`next-server`) or not.
fn pxe_offered(arch: u16, file: &[u8], next_server: bool) -> Report {
    let mut c = Cap::new();
    let mut d = pxe_discover(0x115);
    d.set_option(
        code::CLIENT_SYSTEM_ARCHITECTURE,
        arch.to_be_bytes().to_vec(),
    );
    c.client(0.0, &d);
    let mut o = offer(0x115);
    o.file = std::borrow::Cow::Owned(file.to_vec());
    if next_server {
        o.siaddr = SERVER;
    }
    c.reply(0.01, &o);
    c.report()
}

#[test]
fn pxe_boot_server_missing() {
    let r = pxe_offered(0, b"pxelinux.0", false);
    let f = finding(&r, Code::PxeBootServerMissing);
    assert_eq!(f.severity, Severity::Warning);
    assert!(
        f.explanation.contains("siaddr is 0.0.0.0"),
        "{}",
        f.explanation
    );
    assert_eq!(f.frames.len(), 2);
    assert!(!has(&r, Code::PxeBootFileMissing));
    // next-server set, option 66 given, or a URL: a server is named.
    assert!(!has(
        &pxe_offered(0, b"pxelinux.0", true),
        Code::PxeBootServerMissing
    ));
    assert!(!has(
        &pxe_offered(0, b"http://10.0.0.5/boot.ipxe", false),
        Code::PxeBootServerMissing
    ));
    let mut c = Cap::new();
    c.client(0.0, &pxe_discover(0x116));
    let mut o = offer(0x116);
    o.set_option(code::BOOTFILE_NAME, b"pxelinux.0".to_vec());
    o.set_option(code::TFTP_SERVER_NAME, b"10.0.0.5".to_vec());
    c.reply(0.01, &o);
    assert!(!has(&c.report(), Code::PxeBootServerMissing));
}

#[test]
fn pxe_boot_file_wrong_arch() {
    // (architecture, file, wrong?)
    let cases: [(u16, &[u8], bool); 12] = [
        (0, b"pxelinux.0", false),
        (0, b"undionly.kpxe", false),
        (0, b"ipxe.efi", true),
        (0, b"EFI/BOOT/BOOTX64.EFI", true),
        (7, b"pxelinux.0", true),
        (7, b"undionly.kpxe", true),
        (7, b"grubx64.efi", false),
        (7, b"snponly.efi", false),
        (9, b"shimx64.efi", false),
        (11, b"grubx64.efi", true),
        (11, b"grubaa64.efi", false),
        // A script, or an architecture with nothing to compare: no judgement.
        (7, b"boot.ipxe", false),
    ];
    for (arch, file, wrong) in cases {
        let r = pxe_offered(arch, file, true);
        let name = String::from_utf8_lossy(file);
        assert_eq!(has(&r, Code::PxeBootFileWrongArch), wrong, "{arch} {name}");
        if wrong {
            let f = finding(&r, Code::PxeBootFileWrongArch);
            assert_eq!(f.severity, Severity::Warning);
            assert!(f.summary.contains(&*name), "{}", f.summary);
            assert!(f.explanation.contains(&format!("architecture {arch} (")));
        }
    }
    assert!(!has(
        &pxe_offered(12, b"pxelinux.0", true),
        Code::PxeBootFileWrongArch
    ));
}

#[test]
fn ipxe_chainload_loop() {
    let boots = |file: &[u8]| {
        let mut c = Cap::new();
        for i in 0..3u32 {
            let t = f64::from(i) * 20.0;
            let mut d = discover(0x140 + i, 0);
            d.set_option(code::USER_CLASS, b"iPXE".to_vec());
            let mut r = request(0x140 + i, SERVER);
            r.set_option(code::USER_CLASS, b"iPXE".to_vec());
            let mut a = ack(0x140 + i);
            a.file = std::borrow::Cow::Owned(file.to_vec());
            c.client(t, &d);
            c.reply(t + 0.01, &offer(0x140 + i));
            c.client(t + 0.02, &r);
            c.reply(t + 0.03, &a);
        }
        has(&c.report(), Code::IpxeChainloadLoop)
    };
    // The fix the finding recommends (a script over HTTP) is not a loop,
    // even from an address with ".0" in it.
    assert!(!boots(b"http://10.0.0.1/boot.ipxe"));
    assert!(!boots(b"tftp://10.0.0.1/menu.ipxe"));
    assert!(boots(b"tftp://10.0.0.1/ipxe.efi"));
    assert!(boots(b"pxelinux.0"));
    let mut c = Cap::new();
    for i in 0..3u32 {
        let t = f64::from(i) * 20.0;
        let mut d = discover(0x120 + i, 0);
        d.set_option(code::USER_CLASS, b"iPXE".to_vec());
        let mut r = request(0x120 + i, SERVER);
        r.set_option(code::USER_CLASS, b"iPXE".to_vec());
        let mut a = ack(0x120 + i);
        a.file = std::borrow::Cow::Owned(b"undionly.kpxe".to_vec());
        c.client(t, &d);
        c.reply(t + 0.01, &offer(0x120 + i));
        c.client(t + 0.02, &r);
        c.reply(t + 0.03, &a);
    }
    let r = c.report();
    assert!(finding(&r, Code::IpxeChainloadLoop)
        .summary
        .contains("undionly.kpxe 3 times"));
}

#[test]
fn stp_delay_suspected() {
    let mut c = Cap::new();
    dora(&mut c, 0.0, 0x130);
    let mut d = request_msg(MessageType::Discover, 0x131, [2, 0, 0, 0, 0, 0x33]);
    d.secs = 30;
    c.client(40.0, &d);
    let r = c.report();
    assert!(has(&r, Code::StpDelaySuspected));
    // At the start of a capture a large secs says nothing.
    let mut c = Cap::new();
    c.client(0.0, &d);
    assert!(!has(&c.report(), Code::StpDelaySuspected));
}

/// Catalogue E.30 from the client's side (the lab's
/// `stp-port-not-forwarding`): DISCOVERs unanswered for 8 s or more from
/// the client's first, then one answered at once. Alone, a client-side
/// capture cannot tell a lossy path from a silent server (low); a
/// server-side capture that was running and holds none of the early ones
/// says the path lost them (medium); one that holds them all says they
/// reached the server, unanswered: no finding. A short run, or a slow
/// answer, is no finding either.
#[test]
fn stp_delay_from_the_clients_side() {
    // Client side in file 0 (DISCOVERs every 2 s from 1.0), server side in
    // file 1 when `server` is set, running from `server_from`; the server
    // hears the DISCOVERs from `heard` on.
    let run = |last: f64, heard: f64, server: bool, server_from: f64, offer_after: f64| {
        let mut c = Cap::files(2);
        if server {
            // Something the server's capture saw first (another client).
            c.file = 1;
            let other = request_msg(MessageType::Discover, 0x999, [2, 0, 0, 0, 0, 0x77]);
            c.client(server_from, &other);
        }
        let mut t = 1.0;
        let mut secs = 0;
        while t <= last + 1e-9 {
            c.file = 0;
            c.client(t, &discover(0x5a, secs));
            if server && t >= heard {
                c.file = 1;
                c.client(t + 0.0001, &discover(0x5a, secs));
            }
            t += 2.0;
            secs += 2;
        }
        let t = last + offer_after;
        for file in [0, 1].into_iter().filter(|f| *f == 0 || server) {
            c.file = file;
            c.reply(t, &offer(0x5a));
            c.client(t + 0.01, &request(0x5a, SERVER));
            c.reply(t + 0.02, &ack(0x5a));
        }
        c.file = 0;
        let r = c.report();
        let found = r
            .findings()
            .find(|f| {
                f.code == Code::StpDelaySuspected && f.chaddr == Some(wire::HwAddr::new(&CLIENT))
            })
            .map(|f| (f.confidence, f.summary.clone(), f.explanation.clone()));
        found
    };
    // Client side only: 9 lost over 18 s, the 10th answered in 5 ms.
    let (conf, summary, text) = run(19.0, 19.0, false, 0.0, 0.005).expect("a finding");
    assert_eq!(conf, crate::Confidence::Low);
    assert!(
        summary.contains("first 9 DISCOVERs over 18.0 s got no answer"),
        "{summary}"
    );
    assert!(
        text.contains("a capture at the server's side tells which"),
        "{text}"
    );
    // One DISCOVER lost, however long before the answered one, is no run
    // of them; two are.
    let lost = |times: &[f64]| {
        let mut c = Cap::new();
        for &t in times {
            c.client(t, &discover(0x5a, 0));
        }
        c.reply(19.005, &offer(0x5a));
        c.client(19.01, &request(0x5a, SERVER));
        c.reply(19.02, &ack(0x5a));
        has(&c.report(), Code::StpDelaySuspected)
    };
    assert!(!lost(&[1.0, 19.0]));
    assert!(lost(&[1.0, 10.0, 19.0]));
    // Both sides, the server's running from the start and hearing from the
    // 10th: the path lost them.
    let (conf, _, text) = run(19.0, 19.0, true, 0.5, 0.005).expect("a finding");
    assert_eq!(conf, crate::Confidence::Medium);
    assert!(
        text.contains("None of the 9 reached f1.pcap, which was capturing then"),
        "{text}"
    );
    // The server's capture started after the first DISCOVER: it cannot say.
    let (conf, _, _) = run(19.0, 19.0, true, 5.0, 0.005).expect("a finding");
    assert_eq!(conf, crate::Confidence::Low);
    // The server heard them all and answered late (min-secs): not the path.
    assert_eq!(run(19.0, 0.0, true, 0.5, 0.005), None);
    // The client's capture (file 0) starts late, the server's (file 1)
    // holds them all: no capture on the far side of a loss was running,
    // so never medium (file 0 must not take file 1's start as its own).
    let mut c = Cap::files(2);
    let mut secs = 0;
    for t in (0..10).map(|i| 1.0 + 2.0 * f64::from(i)) {
        c.file = 1;
        c.client(t, &discover(0x5a, secs));
        if t >= 18.0 {
            c.file = 0;
            c.client(t + 0.0001, &discover(0x5a, secs));
        }
        secs += 2;
    }
    for file in [1, 0] {
        c.file = file;
        c.reply(19.005, &offer(0x5a));
    }
    let r = c.report();
    let f = r.findings().find(|f| f.code == Code::StpDelaySuspected);
    assert!(
        f.is_none_or(|f| f.confidence == crate::Confidence::Low),
        "{f:?}"
    );
    // Too short a run, or a slow answer.
    assert_eq!(run(7.0, 7.0, false, 0.0, 0.005), None);
    assert_eq!(run(19.0, 19.0, false, 0.0, 1.5), None);
}

#[test]
fn chaddr_source_mismatch() {
    let mut c = Cap::new();
    let d = discover(0x140, 0);
    let payload = d.encode(300);
    let mut f = UdpFrame::new(
        (Ipv4Addr::UNSPECIFIED, 68),
        (Ipv4Addr::BROADCAST, 67),
        &payload,
    );
    f.src_mac = [2, 0, 0, 0, 0, 0x99];
    c.frame(0.0, &f);
    assert!(finding(&c.report(), Code::ChaddrSourceMismatch)
        .summary
        .contains("02:00:00:00:00:99"));
}

#[test]
fn malformed_packet() {
    let mut c = Cap::new();
    let mut d = discover(0x150, 0);
    d.remove_option(code::END);
    d.trailer = std::borrow::Cow::Owned(vec![]);
    let mut payload = d.encode(0);
    payload.extend_from_slice(&[12, 40, b'x']); // a host name cut short
    let f = UdpFrame::new(
        (Ipv4Addr::UNSPECIFIED, 68),
        (Ipv4Addr::BROADCAST, 67),
        &payload,
    );
    let mut f = f;
    f.src_mac = CLIENT;
    for i in 0..3 {
        c.frame(f64::from(i) * 4.0, &f);
    }
    let r = c.report();
    let m = finding(&r, Code::MalformedPacket);
    assert_eq!(m.severity, Severity::Error);
    assert!(m.summary.contains("option 12"), "{}", m.summary);
}

/// Plain BOOTP (RFC 951) that a server answered is healthy: no option 53,
/// with RFC 1048's cookie or with RFC 951's all-zero vendor area. Not
/// answered, the missing option 53 is still said.
#[test]
fn answered_bootp_is_not_malformed() {
    let bootp = |zero_vendor_area: bool, answered: bool| {
        let mut c = Cap::new();
        let boot = Message::new(Op::BootRequest, 0x151, &CLIENT);
        let mut payload = boot.encode(300);
        if zero_vendor_area {
            payload[236..].fill(0);
        }
        let mut f = client_frame(&boot, &payload);
        f.src_mac = CLIENT;
        c.frame(0.0, &f);
        if answered {
            let mut r = Message::new(Op::BootReply, 0x151, &CLIENT);
            r.yiaddr = ADDR;
            c.reply(0.01, &r);
        }
        c.report()
    };
    for zero in [false, true] {
        let r = bootp(zero, true);
        assert_eq!(codes(&r), [], "zero vendor area: {zero}");
    }
    let r = bootp(false, false);
    let m = finding(&r, Code::MalformedPacket);
    assert!(m.summary.contains("option 53"), "{}", m.summary);
}

#[test]
fn renew_malformed() {
    let mut c = Cap::new();
    let mut m = request_msg(MessageType::Request, 0x160, CLIENT);
    m.ciaddr = ADDR;
    m.set_option(code::REQUESTED_IP_ADDRESS, ADDR.octets().to_vec());
    let payload = m.encode(300);
    c.frame(0.0, &UdpFrame::new((ADDR, 68), (SERVER, 67), &payload));
    c.server(0.01, SERVER, &ack(0x160), ADDR, ChecksumMode::Full);
    let r = c.report();
    assert!(has(&r, Code::RenewMalformed));
    assert_eq!(r.clients[0].outcome(), Some(Outcome::Renewed));
    let mut c = Cap::new();
    let mut m = request_msg(MessageType::Request, 0x161, CLIENT);
    m.ciaddr = ADDR;
    let payload = m.encode(300);
    c.frame(0.0, &UdpFrame::new((ADDR, 68), (SERVER, 67), &payload));
    c.server(0.01, SERVER, &ack(0x161), ADDR, ChecksumMode::Full);
    assert!(!has(&c.report(), Code::RenewMalformed));
}

#[test]
fn message_type_not_first() {
    let mut c = Cap::new();
    c.client(0.0, &pxe_discover(0x170));
    let mut o = offer(0x170);
    let t = o.options.remove(0);
    let end = o.options.len() - 1;
    o.options.insert(end, t);
    o.set_option(code::BOOTFILE_NAME, b"pxelinux.0".to_vec());
    c.reply(0.01, &o);
    let r = c.report();
    assert_eq!(
        finding(&r, Code::MessageTypeNotFirst).severity,
        Severity::Warning
    );
    let mut c = Cap::new();
    dora(&mut c, 0.0, 0x171);
    assert!(!has(&c.report(), Code::MessageTypeNotFirst));
}

#[test]
fn slow_offer() {
    let mut c = Cap::new();
    c.client(0.0, &discover(0x180, 0));
    c.reply(1.5, &offer(0x180));
    c.client(1.6, &request(0x180, SERVER));
    c.reply(1.7, &ack(0x180));
    let r = c.report();
    assert_eq!(finding(&r, Code::SlowOffer).severity, Severity::Info);
    assert!(r.healthy());
}

#[test]
fn reply_seen_at_the_server_but_not_at_the_client() {
    let mut c = Cap::files(2);
    // File 0 at the client, file 1 at the server; the OFFERs only in file 1.
    for i in 0..3 {
        let t = f64::from(i) * 4.0;
        c.file = 0;
        c.client(t, &discover(0x190, i as u16 * 4));
        c.file = 1;
        c.client(t + 0.001, &discover(0x190, i as u16 * 4));
        c.reply(t + 0.01, &offer(0x190));
    }
    c.file = 0;
    c.client(20.0, &discover(0x191, 0));
    let r = c.report();
    let f = finding(&r, Code::ReplyNotSeenByClient);
    assert_eq!(f.severity, Severity::Error);
    assert!(f.explanation.contains("f0.pcap"));
    assert!(
        !f.explanation.contains("  "),
        "runs of spaces: {}",
        f.explanation
    );
    // The copies are not retransmissions.
    let t = r.clients[0].outcomes().iter().collect::<Vec<_>>();
    assert_eq!(t[0], Outcome::OfferIgnored);
}

/// The outcomes of the report's only client.
fn outcomes(r: &Report) -> Vec<Outcome> {
    r.clients[0].outcomes().iter().collect()
}

#[test]
fn acks_the_client_asked_again_after_were_not_taken() {
    // udhcpc when its ACKs are lost: the REQUEST every second, each ACKed.
    let mut c = Cap::new();
    c.client(0.0, &discover(0x1b0, 0));
    c.reply(0.01, &offer(0x1b0));
    for i in 0..3 {
        let t = 0.02 + f64::from(i);
        c.client(t, &request(0x1b0, SERVER));
        c.reply(t + 0.001, &ack(0x1b0));
    }
    let r = c.report();
    assert_eq!(outcomes(&r), [Outcome::AckIgnored]);
    let f = finding(&r, Code::AckIgnored);
    assert_eq!(f.severity, Severity::Error);
    assert!(f.explains_failure);
    assert!(
        f.explanation.contains("after 2 of them"),
        "{}",
        f.explanation
    );
    assert!(
        f.explanation.contains("cannot be told"),
        "{}",
        f.explanation
    );
    assert!(!r.healthy());

    // The example's times: the third REQUEST 2.6 s after the first ACK.
    // Each REQUEST after an ACK holds the exchange open: one transaction.
    let mut c = Cap::new();
    c.client(0.0, &discover(0x1b3, 0));
    c.reply(0.001, &offer(0x1b3));
    for t in [0.032, 1.636, 2.664] {
        c.client(t, &request(0x1b3, SERVER));
        c.reply(t + 0.001, &ack(0x1b3));
    }
    let r = c.report();
    assert_eq!(outcomes(&r), [Outcome::AckIgnored]);
    assert_eq!(r.clients[0].transactions, 1);
    let e = &finding(&r, Code::AckIgnored).explanation;
    assert!(e.contains("after 2 of them"), "{e}");

    // One ACK lost, the next taken: bound, with a warning.
    let mut c = Cap::new();
    dora(&mut c, 0.0, 0x1b1);
    c.client(1.03, &request(0x1b1, SERVER));
    c.reply(1.04, &ack(0x1b1));
    let r = c.report();
    assert_eq!(outcomes(&r), [Outcome::Bound]);
    assert_eq!(codes(&r), [(Code::AckIgnored, Severity::Warning)]);

    // A REQUEST that crossed a slow ACK on the wire is no sign.
    let mut c = Cap::new();
    c.client(0.0, &discover(0x1b2, 0));
    c.reply(0.01, &offer(0x1b2));
    c.client(0.02, &request(0x1b2, SERVER));
    c.reply(1.0, &ack(0x1b2));
    c.client(1.05, &request(0x1b2, SERVER));
    c.reply(1.06, &ack(0x1b2));
    let r = c.report();
    assert_eq!(outcomes(&r), [Outcome::Bound]);
    assert_eq!(codes(&r), []);
}

#[test]
fn a_request_again_after_the_transaction_closed_takes_back_its_lease() {
    // dhclient's REQUESTs 4 and 6 s apart: each one opens a transaction,
    // the ACKed one before it having closed.
    let mut c = Cap::new();
    dora(&mut c, 0.0, 0x1c0);
    for t in [4.0, 10.0] {
        c.client(t, &request(0x1c0, SERVER));
        c.reply(t + 0.01, &ack(0x1c0));
    }
    let r = c.report();
    assert_eq!(
        outcomes(&r),
        [
            Outcome::AckIgnored,
            Outcome::AckIgnored,
            Outcome::AckIgnored
        ]
    );
    assert_eq!(r.clients[0].lease, None);
    let f = finding(&r, Code::AckIgnored);
    assert_eq!(f.severity, Severity::Error);
    assert!(
        f.explanation
            .contains("had not taken it, nor the one before it"),
        "{}",
        f.explanation
    );

    // Asked once more, then quiet: the second ACK was taken.
    let mut c = Cap::new();
    dora(&mut c, 0.0, 0x1c1);
    c.client(4.0, &request(0x1c1, SERVER));
    c.reply(4.01, &ack(0x1c1));
    let r = c.report();
    assert_eq!(outcomes(&r), [Outcome::AckIgnored, Outcome::Bound]);
    assert!(r.clients[0].lease.is_some());
    assert!(r.healthy() || codes(&r).iter().all(|(_, s)| *s != Severity::Error));
    assert_eq!(finding(&r, Code::AckIgnored).severity, Severity::Warning);

    // dhclient when its ACKs are lost: the REQUEST again 7 s later, then a
    // DISCOVER (a new xid) 14 s after that; the capture ends on its ACK.
    let mut c = Cap::new();
    dora(&mut c, 0.0, 0x1c3);
    c.client(7.0, &request(0x1c3, SERVER));
    c.reply(7.01, &ack(0x1c3));
    dora(&mut c, 21.0, 0x1c4);
    let r = c.report();
    assert_eq!(
        outcomes(&r),
        [
            Outcome::AckIgnored,
            Outcome::AckIgnored,
            Outcome::AckIgnored
        ]
    );
    let e = &finding(&r, Code::AckIgnored).explanation;
    assert!(e.contains("started over with a DISCOVER (frame 7)"), "{e}");
    assert!(e.contains("not taken 2 ACKs in a row"), "{e}");

    // A PXE ROM's ACK, then its next stage's DISCOVER seconds later: the
    // ROM took its ACK (it never asked again).
    let mut c = Cap::new();
    dora(&mut c, 0.0, 0x1c5);
    dora(&mut c, 5.0, 0x1c6);
    let r = c.report();
    assert_eq!(outcomes(&r), [Outcome::Bound, Outcome::Bound]);
    assert_eq!(codes(&r), []);

    // A PXE ROM loses one ACK and takes the next; its next stage (another
    // option 60) DISCOVERs 5 s later: the ROM's lease stands.
    let mut c = Cap::new();
    let rom = |m: Message<'static>| {
        let mut m = m;
        m.set_option(
            code::VENDOR_CLASS_IDENTIFIER,
            b"PXEClient:Arch:00000:UNDI:002001".to_vec(),
        );
        m
    };
    c.client(0.0, &rom(discover(0x1c7, 0)));
    c.reply(0.01, &offer(0x1c7));
    c.client(0.02, &rom(request(0x1c7, SERVER)));
    c.reply(0.03, &ack(0x1c7));
    c.client(4.0, &rom(request(0x1c7, SERVER)));
    c.reply(4.01, &ack(0x1c7));
    let mut next = discover(0x1c8, 0);
    next.set_option(code::VENDOR_CLASS_IDENTIFIER, b"Linux ipconfig".to_vec());
    c.client(9.0, &next);
    c.reply(9.01, &offer(0x1c8));
    let r = c.report();
    assert_eq!(
        outcomes(&r)[..2],
        [Outcome::AckIgnored, Outcome::Bound],
        "{:?}",
        outcomes(&r)
    );

    // After a run of untaken ACKs, a DORA 100 s later and a DISCOVER 1 s
    // after its ACK (a next stage): both fine.
    let mut c = Cap::new();
    dora(&mut c, 0.0, 0x1c9);
    for t in [4.0, 10.0] {
        c.client(t, &request(0x1c9, SERVER));
        c.reply(t + 0.01, &ack(0x1c9));
    }
    dora(&mut c, 110.0, 0x1ca);
    dora(&mut c, 111.03, 0x1cb);
    let r = c.report();
    assert_eq!(
        outcomes(&r)[3..],
        [Outcome::Bound, Outcome::Bound],
        "{:?}",
        outcomes(&r)
    );

    // An INFORM in between ends the run: a REQUEST under the old xid then
    // is not taken for a retransmission.
    let mut c = Cap::new();
    dora(&mut c, 0.0, 0x1cc);
    let mut inform = request_msg(MessageType::Inform, 0x1cd, CLIENT);
    inform.ciaddr = ADDR;
    c.client(3.0, &inform);
    c.reply(3.01, &ack(0x1cd));
    c.client(4.0, &request(0x1cc, SERVER));
    c.reply(4.01, &ack(0x1cc));
    let r = c.report();
    assert!(
        !outcomes(&r).contains(&Outcome::AckIgnored),
        "{:?}",
        outcomes(&r)
    );

    // A renewal under the same xid (ciaddr set) an hour later asks nothing again.
    let mut c = Cap::new();
    dora(&mut c, 0.0, 0x1c2);
    let mut renew = request_msg(MessageType::Request, 0x1c2, CLIENT);
    renew.ciaddr = ADDR;
    c.client(1800.0, &renew);
    c.reply(1800.01, &ack(0x1c2));
    let r = c.report();
    assert_eq!(outcomes(&r), [Outcome::Bound, Outcome::Renewed]);
    assert_eq!(codes(&r), []);
}

#[test]
fn acks_missing_at_the_client_s_side_were_not_taken() {
    // File 0 at the client, file 1 at the server; the ACKs only in file 1.
    let mut c = Cap::files(2);
    for (file, dt) in [(0, 0.0), (1, 0.0005)] {
        c.file = file;
        c.client(dt, &discover(0x1d0, 0));
        c.client(0.02 + dt, &request(0x1d0, SERVER));
    }
    c.file = 0;
    c.reply(0.01, &offer(0x1d0));
    c.file = 1;
    c.reply(0.0105, &offer(0x1d0));
    c.reply(0.021, &ack(0x1d0));
    c.file = 0;
    c.client(0.5, &discover(0x1d1, 0));
    c.file = 1;
    c.client(0.5005, &discover(0x1d1, 0));
    let r = c.report();
    assert_eq!(outcomes(&r)[0], Outcome::AckIgnored);
    let f = finding(&r, Code::AckIgnored);
    assert!(
        f.explanation.contains("None of them is in f0.pcap"),
        "{}",
        f.explanation
    );
    let lost = finding(&r, Code::ReplyNotSeenByClient);
    assert_eq!(lost.severity, Severity::Error);
    assert!(lost.explains_failure);
}

#[test]
fn what_only_the_acks_have_is_why_they_went_untaken() {
    // The OFFER with a full checksum, REQUESTed; each ACK partial, asked
    // again after.
    let mut c = Cap::new();
    c.client(0.0, &discover(0x1f0, 0));
    c.reply(0.01, &offer(0x1f0));
    for i in 0..3 {
        let t = 0.02 + f64::from(i);
        c.client(t, &request(0x1f0, SERVER));
        c.server(
            t + 0.001,
            SERVER,
            &ack(0x1f0),
            Ipv4Addr::BROADCAST,
            ChecksumMode::Partial,
        );
    }
    let r = c.report();
    assert_eq!(outcomes(&r), [Outcome::AckIgnored]);
    let f = finding(&r, Code::UdpChecksumPartial);
    assert_eq!(f.severity, Severity::Error);
    assert!(f.explains_failure);
    assert!(
        f.explanation
            .contains("took the OFFER but sent its REQUEST again"),
        "{}",
        f.explanation
    );
    assert!(finding(&r, Code::AckIgnored)
        .explanation
        .contains("udp-checksum-partial"));

    // The OFFER just as partial, and REQUESTed: the client takes partial
    // checksums, so they are not why.
    let mut c = Cap::new();
    c.client(0.0, &discover(0x1f1, 0));
    c.server(
        0.01,
        SERVER,
        &offer(0x1f1),
        Ipv4Addr::BROADCAST,
        ChecksumMode::Partial,
    );
    for i in 0..3 {
        let t = 0.02 + f64::from(i);
        c.client(t, &request(0x1f1, SERVER));
        c.server(
            t + 0.001,
            SERVER,
            &ack(0x1f1),
            Ipv4Addr::BROADCAST,
            ChecksumMode::Partial,
        );
    }
    let r = c.report();
    assert_eq!(outcomes(&r), [Outcome::AckIgnored]);
    assert!(!finding(&r, Code::UdpChecksumPartial).explains_failure);

    // A client asking for broadcast: the OFFER broadcast, every ACK unicast.
    let mut c = Cap::new();
    let mut d = discover(0x1f2, 0);
    d.flags = FLAG_BROADCAST;
    c.client(0.0, &d);
    c.reply(0.01, &offer(0x1f2));
    for i in 0..3 {
        let t = 0.02 + f64::from(i);
        let mut q = request(0x1f2, SERVER);
        q.flags = FLAG_BROADCAST;
        c.client(t, &q);
        c.server(t + 0.001, SERVER, &ack(0x1f2), ADDR, ChecksumMode::Full);
    }
    let r = c.report();
    assert_eq!(outcomes(&r), [Outcome::AckIgnored]);
    let f = finding(&r, Code::BroadcastFlagIgnored);
    assert_eq!(f.severity, Severity::Error);
    assert!(
        f.explanation
            .contains("asked again after every unicast ACK"),
        "{}",
        f.explanation
    );
}

#[test]
fn a_capture_at_another_server_lacks_this_server_s_unicast_ack_by_design() {
    // File 0 at the server that answers (SERVER), file 1 at a second server
    // (ROGUE) on the same segment: each sees the client's broadcasts and
    // its own unicast replies only.
    let mut c = Cap::files(2);
    let unicast = |c: &mut Cap, t: f64, server: Ipv4Addr, m: &Message<'_>| {
        c.server(t, server, m, ADDR, ChecksumMode::Full);
    };
    for (file, dt) in [(0, 0.0), (1, 0.0002)] {
        c.file = file;
        c.client(dt, &discover(0x1e0, 0));
        c.client(0.02 + dt, &request(0x1e0, SERVER));
    }
    c.file = 0;
    unicast(&mut c, 0.01, SERVER, &offer(0x1e0));
    unicast(&mut c, 0.03, SERVER, &ack(0x1e0));
    c.file = 1;
    let other = reply_msg(
        MessageType::Offer,
        0x1e0,
        ROGUE,
        Ipv4Addr::new(192, 168, 1, 77),
    );
    unicast(&mut c, 0.015, ROGUE, &other);
    c.client(3.0, &discover(0x1e1, 0));
    let r = c.report();
    assert_eq!(outcomes(&r)[0], Outcome::Bound);
    assert!(!has(&r, Code::AckIgnored), "{:?}", codes(&r));
    assert!(!has(&r, Code::ReplyNotSeenByClient), "{:?}", codes(&r));
}

#[test]
fn copies_across_files_are_not_retransmissions() {
    let mut c = Cap::files(2);
    for file in [0, 1] {
        c.file = file;
        dora(&mut c, 0.0 + f64::from(file) * 0.0001, 0x1a0);
    }
    let r = c.report();
    assert_eq!(codes(&r), []);
    assert_eq!(r.clients[0].transactions, 1);
}

/// Unicast OFFERs in the server's capture only, and the client's capture
/// given too: `offer-ignored` names the capture that lacks them and what
/// that means either way, not "capture on the client's side too".
#[test]
fn unicast_offers_missing_from_the_other_capture_are_said() {
    let mut c = Cap::files(2);
    for i in 0..3 {
        let t = f64::from(i) * 4.0;
        c.file = 0;
        c.client(t, &discover(0x1b0, 0));
        c.file = 1;
        c.client(t + 0.0001, &discover(0x1b0, 0));
        c.server(t + 0.01, SERVER, &offer(0x1b0), ADDR, ChecksumMode::Full);
    }
    c.file = 0;
    c.client(12.0, &discover(0x1b0, 0));
    let r = c.report();
    let e = &finding(&r, Code::OfferIgnored).explanation;
    assert!(
        e.contains("went unicast (to 192.168.1.10) and f0.pcap holds the client's DISCOVERs but none of them"),
        "{e}"
    );
    assert!(!e.contains("give both files"), "{e}");
}

/// One server-side capture cut in two (`tcpdump -C`): the part without
/// the OFFERs ended before they were sent, and proves nothing.
#[test]
fn offers_missing_from_a_capture_that_had_ended_prove_nothing() {
    let mut c = Cap::files(2);
    c.file = 0;
    c.client(0.0, &discover(0x1b1, 0));
    c.client(4.0, &discover(0x1b1, 0));
    c.file = 1;
    c.server(8.0, SERVER, &offer(0x1b1), ADDR, ChecksumMode::Full);
    c.client(12.0, &discover(0x1b1, 0));
    c.server(12.01, SERVER, &offer(0x1b1), ADDR, ChecksumMode::Full);
    c.client(16.0, &discover(0x1b1, 0));
    let r = c.report();
    let e = &finding(&r, Code::OfferIgnored).explanation;
    assert!(
        !e.contains("every capture that holds the client's DISCOVERs"),
        "{e}"
    );
    assert!(
        e.contains("capture on the client's side too, at the same time"),
        "{e}"
    );
}

/// The same frame twice in one capture, microseconds apart (`tcpdump -i
/// any` on a bridge and its port), is one message, not a retransmission.
#[test]
fn a_frame_captured_twice_is_not_a_retransmission() {
    // Another client is served later, so the capture outlasts the first.
    let later = |c: &mut Cap| {
        let other = [2, 0, 0, 0, 0, 0x77];
        c.client(30.0, &request_msg(MessageType::Discover, 0x1a9, other));
        let mut o = offer(0x1a9);
        o.set_chaddr(&other);
        c.reply(30.01, &o);
    };
    let mut c = Cap::new();
    for i in 0..2 {
        let t = f64::from(i) * 3.0;
        c.client(t, &discover(0x1a1, 0));
        c.client(t + 0.00002, &discover(0x1a1, 0));
    }
    later(&mut c);
    let r = c.report();
    let no = finding(&r, Code::NoOffer);
    assert!(no.summary.contains("2 DISCOVERs"), "{}", no.summary);
    assert!(!has(&r, Code::SecsNotIncrementing), "{:?}", codes(&r));
    // Retransmitted, they count: three DISCOVERs with frozen secs.
    let mut c = Cap::new();
    for i in 0..3 {
        c.client(f64::from(i) * 3.0, &discover(0x1a3, 0));
    }
    later(&mut c);
    assert!(has(&c.report(), Code::SecsNotIncrementing));
    // Sent twice as fast as a copy, but with IP identifications of their
    // own: two messages (the corpus' dhcpfo.pcapng has such INFORMs).
    let mut c = Cap::new();
    let d = discover(0x1a5, 0);
    let payload = d.encode(300);
    for (i, t) in [0.0, 0.0002, 3.0].into_iter().enumerate() {
        let mut f = client_frame(&d, &payload);
        f.identification = i as u16;
        c.frame(t, &f);
    }
    later(&mut c);
    let r = c.report();
    let no = finding(&r, Code::NoOffer);
    assert!(no.summary.contains("3 DISCOVERs"), "{}", no.summary);
}

/// Records what reaches the sink, and when (packets pushed so far).
#[derive(Default)]
struct Recorder {
    findings: Vec<(Code, usize)>,
    /// The codes of the findings told as the cause of a failure.
    causes: Vec<Code>,
    pushed: usize,
}

impl crate::engine::Sink for Recorder {
    fn finding(&mut self, f: &crate::Finding) {
        self.findings.push((f.code, self.pushed));
        if f.explains_failure {
            self.causes.push(f.code);
        }
    }
}

#[test]
fn live_mode_settles_no_offer_after_the_third_discover() {
    let cfg = Config {
        files: vec!["eth0".into()],
        early: true,
        ..Config::default()
    };
    let mut e = Engine::new(cfg, Recorder::default());
    for i in 0..4u32 {
        e.sink().pushed += 1;
        e.push(client_obs(
            f64::from(i) * 4.0,
            u64::from(i) + 1,
            &discover(0x1c0, 0),
        ));
    }
    let seen = &e.sink().findings;
    let first_no_offer = seen
        .iter()
        .find(|(c, _)| *c == Code::NoOffer)
        .map(|(_, n)| *n);
    assert_eq!(
        first_no_offer,
        Some(3),
        "no-offer as the third DISCOVER arrives: {seen:?}"
    );
    let first_secs = seen
        .iter()
        .find(|(c, _)| *c == Code::SecsNotIncrementing)
        .map(|(_, n)| *n);
    assert_eq!(first_secs, Some(3), "{seen:?}");
    let (report, _) = e.finish();
    assert_eq!(
        report
            .findings()
            .filter(|f| f.code == Code::NoOffer)
            .count(),
        1,
        "merged in the report"
    );
}

#[test]
fn offline_mode_reports_only_when_transactions_close() {
    let mut e = Engine::new(Config::default(), Recorder::default());
    for i in 0..4u32 {
        e.push(client_obs(
            f64::from(i) * 4.0,
            u64::from(i) + 1,
            &discover(0x1c1, 0),
        ));
    }
    assert!(e.sink().findings.is_empty());
    let (_, sink) = e.finish();
    assert!(sink.findings.iter().any(|(c, _)| *c == Code::NoOffer));
}

#[test]
fn a_client_that_recovers_has_warnings_not_errors() {
    // INIT-REBOOT NAKed, then a DORA: the NAK was a delay, not a failure.
    let mut c = Cap::new();
    let mut m = request_msg(MessageType::Request, 0x1d0, CLIENT);
    m.set_option(code::REQUESTED_IP_ADDRESS, vec![10, 1, 1, 5]);
    c.client(0.0, &m);
    c.reply(
        0.01,
        &reply_msg(MessageType::Nak, 0x1d0, SERVER, Ipv4Addr::UNSPECIFIED),
    );
    dora(&mut c, 1.0, 0x1d1);
    let r = c.report();
    let n = finding(&r, Code::Nak);
    assert_eq!(n.severity, Severity::Warning);
    assert!(n.explanation.contains("recovered"));
    assert!(
        r.findings().all(|f| f.severity != Severity::Error),
        "report.findings() agree with the clients'"
    );
    assert_eq!(r.clients[0].outcome(), Some(Outcome::Bound));
}

#[test]
fn renew_unanswered_then_rebind() {
    let mut c = Cap::new();
    for i in 0..3 {
        c.renew(f64::from(i), 0x1e0, false);
    }
    c.renew(5.0, 0x1e0, true);
    c.server(5.01, SERVER, &ack(0x1e0), ADDR, ChecksumMode::Full);
    let r = c.report();
    let f = finding(&r, Code::RenewUnanswered);
    assert_eq!(f.severity, Severity::Warning);
    assert!(f.summary.contains("3 unicast renewals"), "{}", f.summary);
    assert!(f
        .explanation
        .contains("survives only because rebinding at T2 works"));
    assert_eq!(r.clients[0].outcome(), Some(Outcome::Renewed));
    // No rebind in the capture: the finding does not say one worked.
    let mut c = Cap::new();
    for i in 0..3 {
        c.renew(f64::from(i), 0x1e0, false);
    }
    let r = c.report();
    let e = &finding(&r, Code::RenewUnanswered).explanation;
    assert!(!e.contains("rebinding at T2 works"), "{e}");
    assert!(
        e.contains("unless a broadcast REQUEST after T2 is answered"),
        "{e}"
    );
    // Three renewals lost, the fourth (unicast too) answered: that one is
    // not among the unanswered, and no rebind is claimed.
    let mut c = Cap::new();
    for i in 0..4 {
        c.renew(f64::from(i) * 60.0, 0x1e0, false);
    }
    c.server(180.005, SERVER, &ack(0x1e0), ADDR, ChecksumMode::Full);
    let r = c.report();
    let f = finding(&r, Code::RenewUnanswered);
    assert!(
        f.summary.contains("3 unicast renewals") && f.summary.contains("a later one was answered"),
        "{}",
        f.summary
    );
    assert!(
        !f.explanation.contains("rebinding at T2 works")
            && !f.explanation.contains("rests on rebinding"),
        "{}",
        f.explanation
    );
    // One answered renewal: nothing to say.
    let mut c = Cap::new();
    c.renew(0.0, 0x1e0, false);
    c.server(0.01, SERVER, &ack(0x1e0), ADDR, ChecksumMode::Full);
    assert!(!has(&c.report(), Code::RenewUnanswered));
}

/// A renewal retried as RFC 2131 §4.4.5 spaces it (half the time left to
/// T2, at least 60 s; here a one-hour lease from T1), then rebound: one
/// exchange, and a warning, not an error per retry. Retries 20 minutes
/// apart are two exchanges; the first one's no-ack is still only a warning,
/// as the client renewed in the end, though under the same xid.
#[test]
fn renewal_retries_a_minute_or_more_apart_are_one_exchange() {
    let mut c = Cap::new();
    for t in [0.0, 675.0, 1012.5, 1181.0, 1265.0, 1325.0] {
        c.renew(t, 0x1e1, false);
    }
    c.renew(1350.0, 0x1e1, true);
    c.server(1350.01, SERVER, &ack(0x1e1), ADDR, ChecksumMode::Full);
    let r = c.report();
    assert_eq!(r.clients[0].transactions, 1);
    assert_eq!(codes(&r), [(Code::RenewUnanswered, Severity::Warning)]);
    assert!(finding(&r, Code::RenewUnanswered)
        .summary
        .contains("6 unicast renewals"));

    let mut c = Cap::new();
    for t in [0.0, 60.0, 1260.0, 1320.0] {
        c.renew(t, 0x1e1, false);
    }
    c.renew(1350.0, 0x1e1, true);
    c.server(1350.01, SERVER, &ack(0x1e1), ADDR, ChecksumMode::Full);
    let r = c.report();
    assert_eq!(r.clients[0].transactions, 2);
    assert_eq!(r.clients[0].outcome(), Some(Outcome::Renewed));
    let no_ack = finding(&r, Code::NoAck);
    assert_eq!(no_ack.severity, Severity::Warning);
    assert!(no_ack.recovered);
}

/// The outcomes the examples do not reach: INFORM answered, plain BOOTP
/// answered, an exchange the capture ends in the middle of, and a REQUEST
/// (SELECTING) the server never answered.
#[test]
fn informed_bootp_incomplete_and_no_ack() {
    let outcome = |build: &dyn Fn(&mut Cap)| {
        let mut c = Cap::new();
        build(&mut c);
        let r = c.report();
        r.clients[0].outcomes().iter().collect::<Vec<_>>()
    };
    assert_eq!(
        outcome(&|c| {
            let mut inform = request_msg(MessageType::Inform, 0x200, CLIENT);
            inform.ciaddr = ADDR;
            c.client(0.0, &inform);
            let mut a = reply_msg(MessageType::Ack, 0x200, SERVER, Ipv4Addr::UNSPECIFIED);
            a.ciaddr = ADDR;
            c.reply(0.01, &a);
        }),
        [Outcome::Informed]
    );
    assert_eq!(
        outcome(&|c| {
            let boot = Message::new(Op::BootRequest, 0x201, &CLIENT);
            c.client(0.0, &boot);
            let mut r = Message::new(Op::BootReply, 0x201, &CLIENT);
            r.yiaddr = ADDR;
            c.reply(0.01, &r);
        }),
        [Outcome::Bound]
    );
    // One DISCOVER, and the capture ends a second later: too soon to judge.
    assert_eq!(
        outcome(&|c| c.client(0.0, &discover(0x202, 0))),
        [Outcome::Incomplete]
    );
    // A SELECTING REQUEST repeated with no answer.
    assert_eq!(
        outcome(&|c| {
            for i in 0..3 {
                c.client(f64::from(i) * 4.0, &request(0x203, SERVER));
            }
            c.client(30.0, &discover(0x204, 0));
        })[0],
        Outcome::NoAck
    );
}

/// A DECLINE after the ACK refuses the lease; a later ACK in the same
/// exchange (a client reusing its xid) gives another.
#[test]
fn declined_only_when_the_decline_comes_last() {
    let decline = |xid| {
        let mut d = request_msg(MessageType::Decline, xid, CLIENT);
        d.set_option(code::REQUESTED_IP_ADDRESS, ADDR.octets().to_vec());
        d.set_option(code::SERVER_IDENTIFIER, SERVER.octets().to_vec());
        d
    };
    let mut c = Cap::new();
    dora(&mut c, 0.0, 0x210);
    c.client(0.1, &decline(0x210));
    assert_eq!(c.report().clients[0].outcome(), Some(Outcome::Declined));
    let mut c = Cap::new();
    dora(&mut c, 0.0, 0x211);
    c.client(0.1, &decline(0x211));
    c.client(0.5, &request(0x211, SERVER));
    c.reply(0.51, &ack(0x211));
    assert_eq!(c.report().clients[0].outcome(), Some(Outcome::Bound));
    // A DECLINE with an xid of its own (as dhclient sends one) gives the
    // lease back too; one of another address leaves it.
    for (declined, kept) in [(ADDR, false), (Ipv4Addr::new(192, 168, 1, 99), true)] {
        let mut c = Cap::new();
        dora(&mut c, 0.0, 0x212);
        let mut d = decline(0x213);
        d.set_option(code::REQUESTED_IP_ADDRESS, declined.octets().to_vec());
        c.client(0.1, &d);
        let r = c.report();
        assert_eq!(r.clients[0].outcome(), Some(Outcome::Declined));
        assert_eq!(r.clients[0].lease.is_some(), kept, "{declined}");
    }
}

/// Seconds from the first reply of a kind in `answers` back to the last
/// client message of a kind in `asked` sent before it: the step latencies as
/// first written, a walk per question, kept as the oracle for
/// `Summary::new`, which answers them in two walks.
fn step_latency(
    t: &crate::transaction::Transaction,
    asked: &[MessageType],
    answers: &[MessageType],
) -> Option<f64> {
    let is = |o: &Obs, kinds: &[MessageType]| o.kind.is_some_and(|k| kinds.contains(&k));
    let answer = t
        .replies()
        .map(|s| &s.obs)
        .filter(|o| is(o, answers))
        .map(|o| o.ts)
        .min()?;
    let ask = t
        .client_packets()
        .map(|s| &s.obs)
        .filter(|o| is(o, asked) && o.ts <= answer)
        .map(|o| o.ts)
        .max()?;
    Some((answer.0 - ask.0) as f64 / 1e9)
}

#[test]
fn summary_latencies_are_those_of_a_walk_per_question() {
    use crate::transaction::{Summary, Transaction};
    use MessageType::*;
    let reply = |t: f64, n: u64, kind: MessageType| {
        let m = reply_msg(kind, 7, SERVER, ADDR);
        let payload = m.encode(300);
        let mut f = UdpFrame::new((SERVER, 67), (Ipv4Addr::BROADCAST, 68), &payload);
        f.src_mac = SERVER_MAC;
        observe(t, FrameRef { file: 0, frame: n }, &f)
    };
    let client = |t: f64, n: u64, kind: MessageType, secs: u16| {
        let mut m = request_msg(kind, 7, CLIENT);
        m.secs = secs;
        client_obs(t, n, &m)
    };
    // (seconds, from the client, type) in arrival order.
    let scenarios: &[&[(f64, bool, MessageType)]] = &[
        &[
            (0.0, true, Discover),
            (1.0, true, Discover),
            (1.2, false, Offer),
            (1.3, true, Request),
            (1.35, false, Ack),
        ],
        &[
            (0.0, true, Request),
            (0.1, false, Nak),
            (0.5, true, Request),
            (0.6, false, Ack),
        ],
        &[(0.0, false, Offer), (1.0, true, Discover)],
        &[
            (0.0, true, Discover),
            (0.5, false, Offer),
            (0.4, false, Offer),
            (0.45, true, Discover),
        ],
        &[
            (0.0, true, Discover),
            (2.0, true, Discover),
            (4.0, true, Discover),
        ],
        &[(0.0, true, Inform), (0.2, false, Ack)],
        &[
            (0.0, true, Request),
            (0.3, false, Ack),
            (0.2, true, Request),
            (0.25, false, Nak),
        ],
    ];
    for (i, sc) in scenarios.iter().enumerate() {
        let obs = |j: usize| {
            let (at, from_client, kind) = sc[j];
            let n = j as u64 + 1;
            if from_client {
                client(at, n, kind, j as u16)
            } else {
                reply(at, n, kind)
            }
        };
        let mut t = Transaction::new(obs(0));
        for j in 1..sc.len() {
            t.push(obs(j));
        }
        let s = Summary::new(&t, t.verdict(Outcome::Bound));
        assert_eq!(
            s.offer_latency,
            step_latency(&t, &[Discover], &[Offer]),
            "scenario {i}"
        );
        assert_eq!(
            s.ack_latency,
            step_latency(&t, &[Request], &[Ack, Nak]),
            "scenario {i}"
        );
        let first_client = t.client_packets().next().map(|p| p.obs.ts);
        let first_reply = t.replies().map(|p| p.obs.ts).min();
        let want = match (first_client, first_reply) {
            (Some(c), Some(r)) if r >= c => Some((r.0 - c.0) as f64 / 1e9),
            _ => None,
        };
        assert_eq!(s.reply_latency, want, "scenario {i}");
        assert_eq!(s.requests, t.client_packets().count(), "scenario {i}");
    }
}

/// A sink that writes down everything it is told, in order.
#[derive(Default)]
struct Log(Vec<String>);

impl crate::Sink for Log {
    fn wants_transactions(&self) -> bool {
        true
    }
    fn transaction(&mut self, s: &crate::Summary) {
        let mut w = Vec::new();
        s.write_json(&mut w).unwrap();
        self.0.push(String::from_utf8(w).unwrap());
    }
    fn finding(&mut self, f: &crate::Finding) {
        self.0.push(serde_json::to_string(f).unwrap());
    }
}

/// What an engine fed `feed` told its sink, then its clients' records.
fn log_of(feed: impl FnOnce(&mut Engine<Log>)) -> Vec<String> {
    let mut engine = Engine::new(Config::default(), Log::default());
    feed(&mut engine);
    let (report, Log(mut log)) = engine.finish();
    for c in &report.clients {
        let mut w = Vec::new();
        c.write_json(&mut w).unwrap();
        log.push(String::from_utf8(w).unwrap());
    }
    log
}

#[test]
fn push_all_has_the_effects_of_push_in_turn() {
    // Healthy exchanges, a NAK, a client that gets no offer with frozen
    // secs, an ignored offer and a long silence (sweeps and idle closes).
    let mut c = Cap::new();
    dora(&mut c, 0.0, 1);
    for i in 0..4 {
        c.client(1.0 + f64::from(i) * 4.0, &discover(2, 0));
    }
    c.client(20.0, &request(3, SERVER));
    c.reply(
        20.01,
        &reply_msg(MessageType::Nak, 3, SERVER, Ipv4Addr::UNSPECIFIED),
    );
    c.client(30.0, &discover(4, 0));
    c.reply(30.01, &offer(4));
    c.client(34.0, &discover(4, 4));
    dora(&mut c, 200.0, 5);
    c.client(201.0, &discover(6, 0));
    let tape = c.tape;
    assert_eq!(tape.len(), 18);
    let one_by_one = log_of(|e| {
        for o in tape.iter().cloned() {
            e.push(o);
        }
    });
    let all = log_of(|e| e.push_all(tape.iter().cloned()));
    assert!(one_by_one.len() > 8, "{one_by_one:#?}");
    assert_eq!(all, one_by_one);
}

#[test]
fn transactions_open_at_the_end_close_in_a_fixed_order() {
    // Eight clients whose DISCOVERs share an xid and a timestamp: the
    // capture ends with all eight open, and they close by chaddr, as a
    // sweep closes them, whatever order they were opened in.
    let mut c = Cap::new();
    for mac in [5u8, 3, 8, 1, 7, 2, 6, 4] {
        c.client(
            1.0,
            &request_msg(MessageType::Discover, 0x1234, [2, 0, 0, 0, 0, mac]),
        );
    }
    let tape = c.tape;
    let log = log_of(|e| e.push_all(tape.iter().cloned()));
    let order: Vec<&str> = log
        .iter()
        .filter_map(|l| l.strip_prefix(r#"{"chaddr":"02:00:00:00:00:"#))
        .filter(|l| l.contains(r#""state""#))
        .map(|l| &l[..2])
        .collect();
    assert_eq!(
        order,
        ["01", "02", "03", "04", "05", "06", "07", "08"],
        "{log:#?}"
    );
}

/// A DORA whose ACK leases `yiaddr` with `mask` and `router`.
fn leased(yiaddr: [u8; 4], mask: [u8; 4], router: [u8; 4]) -> Report {
    let mut c = Cap::new();
    c.client(0.0, &discover(0x1a0, 0));
    c.reply(0.01, &offer(0x1a0));
    c.client(0.02, &request(0x1a0, SERVER));
    let mut a = reply_msg(MessageType::Ack, 0x1a0, SERVER, Ipv4Addr::from(yiaddr));
    a.set_option(code::SUBNET_MASK, mask.to_vec());
    a.set_option(code::ROUTER, router.to_vec());
    c.reply(0.03, &a);
    c.report()
}

#[test]
fn lease_subnet_inconsistent() {
    let summary = |r: &Report| {
        has(r, Code::LeaseSubnetInconsistent)
            .then(|| finding(r, Code::LeaseSubnetInconsistent).summary.clone())
    };
    // Healthy: /24 with its router, a /31 (RFC 3021) and a /32 with the
    // router reached by an on-link route.
    for (y, m, g) in [
        ([192, 168, 1, 10], [255, 255, 255, 0], [192, 168, 1, 1]),
        ([10, 0, 0, 0], [255, 255, 255, 254], [10, 0, 0, 1]),
        ([10, 9, 9, 9], [255, 255, 255, 255], [10, 0, 0, 1]),
        ([172, 16, 3, 200], [255, 255, 252, 0], [172, 16, 0, 1]),
    ] {
        assert_eq!(summary(&leased(y, m, g)), None, "{y:?} {m:?} {g:?}");
    }
    let cases = [
        (
            [192, 168, 1, 10],
            [255, 255, 255, 0],
            [192, 168, 2, 1],
            "router 192.168.2.1 is outside 192.168.1.0/24",
        ),
        (
            [192, 168, 1, 255],
            [255, 255, 255, 0],
            [192, 168, 1, 1],
            "192.168.1.255 is the broadcast address of 192.168.1.0/24",
        ),
        (
            [192, 168, 1, 0],
            [255, 255, 255, 0],
            [192, 168, 1, 1],
            "192.168.1.0 is the network address of 192.168.1.0/24",
        ),
        (
            [192, 168, 1, 10],
            [255, 0, 255, 0],
            [192, 168, 1, 1],
            "subnet mask 255.0.255.0 is not contiguous",
        ),
        (
            [192, 168, 1, 10],
            [255, 255, 255, 0],
            [192, 168, 1, 10],
            "router 192.168.1.10 is the client's own address",
        ),
    ];
    for (y, m, g, want) in cases {
        let r = leased(y, m, g);
        let s = summary(&r).unwrap_or_default();
        assert!(s.contains(want), "{s:?} lacks {want:?}");
        let f = finding(&r, Code::LeaseSubnetInconsistent);
        assert_eq!(f.severity, Severity::Warning);
        assert!(!f.explains_failure);
    }
    // Classless routes (option 121) replace option 3: nothing to judge.
    let mut c = Cap::new();
    c.client(0.0, &discover(0x1a1, 0));
    let mut o = offer(0x1a1);
    o.set_option(code::ROUTER, vec![10, 1, 1, 1]);
    o.set_option(code::CLASSLESS_STATIC_ROUTE, vec![0, 192, 168, 1, 1]);
    c.reply(0.01, &o);
    assert!(!has(&c.report(), Code::LeaseSubnetInconsistent));
}

/// A PXE ROM sending three DISCOVERs, each answered `delay` s later, and
/// never a REQUEST; the OFFERs name a boot file and a TFTP server.
fn pxe_ignoring(delay: f64) -> Report {
    let mut c = Cap::new();
    for i in 0..3u32 {
        let t = f64::from(i) * 4.0;
        c.client(t, &pxe_discover(0x1b0));
        let mut o = offer(0x1b0);
        o.file = std::borrow::Cow::Owned(b"pxelinux.0".to_vec());
        o.siaddr = SERVER;
        c.reply(t + delay, &o);
    }
    c.report()
}

#[test]
fn pxe_reply_too_fast() {
    let r = pxe_ignoring(0.002);
    let f = finding(&r, Code::PxeReplyTooFast);
    assert!(f.explains_failure);
    assert_eq!(f.confidence, crate::Confidence::Low);
    assert!(f.summary.contains("3 OFFERs"), "{}", f.summary);
    assert_eq!(f.frames.len(), 4);
    // Answered after 200 ms: not instant, no guess.
    assert!(!has(&pxe_ignoring(0.2), Code::PxeReplyTooFast));
}

/// A short OFFER with a partial checksum from a second server, then the
/// client REQUESTs the first server's OFFER and gets no ACK: the odd OFFER
/// was not taken up, so it is no "harmless here" either; an OFFER the
/// client did REQUEST is harmless, and neither explains the no-ack.
#[test]
fn only_a_request_for_a_reply_takes_it_up() {
    let rogue_offer = || {
        reply_msg(
            MessageType::Offer,
            0x140,
            ROGUE,
            Ipv4Addr::new(192, 168, 1, 77),
        )
    };
    let run = |requested: Ipv4Addr| {
        let mut c = Cap::new();
        c.client(0.0, &discover(0x140, 0));
        let short = rogue_offer().encode(0);
        c.frame(0.01, &{
            let mut f = UdpFrame::new((ROGUE, 67), (Ipv4Addr::BROADCAST, 68), &short);
            f.checksum = ChecksumMode::Partial;
            f
        });
        c.reply(0.02, &offer(0x140));
        for (i, t) in [0.03, 3.0].into_iter().enumerate() {
            let mut r = request(0x140, requested);
            r.secs = i as u16 * 3;
            c.client(t, &r);
        }
        c.report()
    };
    let r = run(SERVER);
    assert_eq!(r.clients[0].outcome(), Some(Outcome::NoAck));
    for code in [Code::ReplyTooShort, Code::UdpChecksumPartial] {
        let f = finding(&r, code);
        assert!(
            !f.explanation.contains("Harmless here"),
            "{code}: {}",
            f.explanation
        );
        assert!(!f.explains_failure, "{code}: not what the no-ack is about");
    }
    let r = run(ROGUE);
    for code in [Code::ReplyTooShort, Code::UdpChecksumPartial] {
        let f = finding(&r, code);
        assert_eq!(f.severity, Severity::Info, "{code}: {}", f.explanation);
        assert!(
            f.explanation.contains("Harmless here"),
            "{code}: {}",
            f.explanation
        );
    }
}

/// Option 60 «PXEClient» in an OFFER with an address: the ROM asks that
/// server on UDP 4011. Without a boot file that is the plan (info, and no
/// `pxe-boot-file-missing`); with one, Microsoft KB 259670 (a warning); a
/// pure ProxyDHCP offer (no address) is neither.
#[test]
fn pxe_proxy_on_dhcp_server() {
    let offered = |file: Option<&[u8]>, yiaddr: Ipv4Addr| {
        let mut c = Cap::new();
        c.client(0.0, &pxe_discover(0x150));
        let mut o = reply_msg(MessageType::Offer, 0x150, SERVER, yiaddr);
        o.set_option(code::VENDOR_CLASS_IDENTIFIER, b"PXEClient".to_vec());
        if let Some(f) = file {
            o.set_option(code::BOOTFILE_NAME, f.to_vec());
        }
        c.reply(0.01, &o);
        c.report()
    };
    let r = offered(None, ADDR);
    assert_eq!(
        finding(&r, Code::PxeProxyOnDhcpServer).severity,
        Severity::Info
    );
    assert!(!has(&r, Code::PxeBootFileMissing));
    let r = offered(Some(b"pxelinux.0"), ADDR);
    let f = finding(&r, Code::PxeProxyOnDhcpServer);
    assert_eq!(f.severity, Severity::Warning);
    assert!(f.explanation.contains("KB 259670"), "{}", f.explanation);
    let r = offered(None, Ipv4Addr::UNSPECIFIED);
    assert!(!has(&r, Code::PxeProxyOnDhcpServer));
}

/// Option 12: what DNS can hold passes (a trailing dot or NUL, an
/// underscore); an empty label, a space, a hyphen at a label's edge or a
/// 64-byte label is `host-name-invalid`, as information when the client
/// got its lease.
#[test]
fn host_name_invalid() {
    use crate::obs::valid_host_name;
    for ok in [
        &b"pc1"[..],
        b"pop-os",
        b"btest.is.cool",
        b"host.",
        b"laptop\0",
        b"under_score",
    ] {
        assert!(valid_host_name(ok), "{:?}", String::from_utf8_lossy(ok));
    }
    let long = [b'a'; 64];
    for bad in [
        &b""[..],
        b"bad..host",
        b"bad host",
        b".lead",
        b"-x",
        b"x-",
        &long,
        b"\0",
    ] {
        assert!(!valid_host_name(bad), "{:?}", String::from_utf8_lossy(bad));
    }
    let with_name = |name: &[u8]| {
        let mut c = Cap::new();
        let mut d = discover(0x160, 0);
        d.set_option(code::HOST_NAME, name.to_vec());
        c.client(0.0, &d);
        c.reply(0.01, &offer(0x160));
        let mut r = request(0x160, SERVER);
        r.set_option(code::HOST_NAME, name.to_vec());
        c.client(0.02, &r);
        c.reply(0.03, &ack(0x160));
        c.report()
    };
    let r = with_name(b"bad..host");
    let f = finding(&r, Code::HostNameInvalid);
    assert_eq!(f.severity, Severity::Info);
    assert!(f.summary.contains("bad..host"), "{}", f.summary);
    assert!(!has(&with_name(b"good-host"), Code::HostNameInvalid));
}

/// A PXE ROM's ProxyDHCP REQUEST to `server`:4011 from its address's port
/// 68 (as iPXE sends it, secs counting), or the boot server's ACK back.
fn boot_server_frame(c: &mut Cap, t: f64, xid: u32, secs: u16, answer: Option<&[u8]>) {
    let m = match answer {
        None => {
            let mut r = request_msg(MessageType::Request, xid, CLIENT);
            r.ciaddr = ADDR;
            r.secs = secs;
            r.set_option(
                code::VENDOR_CLASS_IDENTIFIER,
                b"PXEClient:Arch:00000:UNDI:002001".to_vec(),
            );
            r
        }
        Some(file) => {
            let mut a = reply_msg(MessageType::Ack, xid, SERVER, Ipv4Addr::UNSPECIFIED);
            a.set_option(code::VENDOR_CLASS_IDENTIFIER, b"PXEClient".to_vec());
            a.file = std::borrow::Cow::Owned(file.to_vec());
            a
        }
    };
    let payload = m.encode(300);
    let mut f = if answer.is_none() {
        UdpFrame::new((ADDR, 68), (SERVER, 4011), &payload)
    } else {
        UdpFrame::new((SERVER, 4011), (ADDR, 68), &payload)
    };
    f.src_mac = if answer.is_none() { CLIENT } else { SERVER_MAC };
    c.frame(t, &f);
}

/// A PXE ROM's DORA whose OFFER and ACK claim PXE service (option 60
/// «PXEClient», no boot file), then `asks` REQUESTs to the server's UDP
/// 4011 under the same xid, as iPXE sends them (real timings: 3 ms after
/// the ACK, then 0.25, 0.55 and 1.04 s apart).
fn pxe_to_4011(c: &mut Cap, asks: usize) {
    c.client(0.0, &pxe_discover(0x4011));
    let mut o = offer(0x4011);
    o.set_option(code::VENDOR_CLASS_IDENTIFIER, b"PXEClient".to_vec());
    c.reply(0.01, &o);
    let mut r = request(0x4011, SERVER);
    r.set_option(
        code::VENDOR_CLASS_IDENTIFIER,
        b"PXEClient:Arch:00000:UNDI:002001".to_vec(),
    );
    c.client(1.0, &r);
    let mut a = ack(0x4011);
    a.set_option(code::VENDOR_CLASS_IDENTIFIER, b"PXEClient".to_vec());
    c.reply(1.001, &a);
    for (i, t) in [1.004, 1.25, 1.8, 2.84].into_iter().take(asks).enumerate() {
        boot_server_frame(c, t, 0x4011, 15 + 4 * i as u16, None);
    }
}

/// Catalogue E.31 after the lease: the ROM's REQUESTs to UDP 4011 that get
/// no answer are `pxe-boot-server-unanswered` (an error, high confidence
/// when the capture holds the server's replies), and neither a renewal
/// nor a REQUEST asked again after the ACK. Answered, or with the capture
/// ending before an answer could come, they are no finding.
#[test]
fn pxe_boot_server_unanswered() {
    let mut c = Cap::new();
    pxe_to_4011(&mut c, 4);
    c.client(20.0, &discover(0x99, 0)); // the capture goes on
    let r = c.report();
    let f = finding(&r, Code::PxeBootServerUnanswered);
    assert_eq!(f.severity, Severity::Error);
    assert!(f.explains_failure);
    assert_eq!(f.confidence, crate::Confidence::High);
    let frames: Vec<u64> = f.frames.iter().map(|r| r.frame).collect();
    assert_eq!(frames, [5, 6, 7, 8]);
    assert!(f.summary.contains("4 times"), "{}", f.summary);
    assert!(f.explanation.contains("over 1.8 s"), "{}", f.explanation);
    assert!(
        f.explanation
            .contains("it holds 192.168.1.10 from 192.168.1.1"),
        "{}",
        f.explanation
    );
    // The DHCP exchange is a lease, in one transaction of four packets.
    assert_eq!(r.clients[0].outcome(), Some(Outcome::Bound));
    assert_eq!(r.clients[0].transactions, 2);
    for wrong in [Code::AckIgnored, Code::RenewUnanswered, Code::NoAck] {
        assert!(!has(&r, wrong), "{wrong}: {:?}", codes(&r));
    }
    assert_eq!(
        finding(&r, Code::PxeProxyOnDhcpServer).severity,
        Severity::Info
    );

    // Answered by the boot server (under xid 0, as after a boot menu).
    let mut c = Cap::new();
    pxe_to_4011(&mut c, 1);
    boot_server_frame(&mut c, 16.0, 0, 30, None);
    boot_server_frame(&mut c, 16.001, 0, 0, Some(b"undionly.0"));
    c.client(30.0, &discover(0x99, 0));
    let r = c.report();
    assert!(!has(&r, Code::PxeBootServerUnanswered), "{:?}", codes(&r));
    let b = r.clients[0].boot_servers();
    assert_eq!((b.len(), b[0].requests, b[0].replies), (1, 2, 1));
    assert_eq!(b[0].boot_file.as_deref(), Some("undionly.0"));

    // The capture ends 0.4 s after the first request: too soon to tell.
    let mut c = Cap::new();
    pxe_to_4011(&mut c, 2);
    let r = c.report();
    assert!(!has(&r, Code::PxeBootServerUnanswered), "{:?}", codes(&r));
}

/// The same REQUESTs to UDP 4011 in a second capture are copies, counted
/// once; and a capture that holds none of the server's DHCP replies to the
/// client is less sure the answers did not come another way.
#[test]
fn pxe_boot_server_requests_in_two_captures_count_once() {
    let mut c = Cap::files(2);
    pxe_to_4011(&mut c, 4);
    c.file = 1;
    for (i, t) in [1.0041, 1.2501, 1.8001, 2.8401].into_iter().enumerate() {
        boot_server_frame(&mut c, t, 0x4011, 15 + 4 * i as u16, None);
    }
    c.client(20.0, &discover(0x99, 0));
    let r = c.report();
    let f = finding(&r, Code::PxeBootServerUnanswered);
    assert!(f.summary.contains("4 times"), "{}", f.summary);

    // Only the ROM's side of the boot server exchange.
    let mut c = Cap::new();
    for (i, t) in [1.0, 1.25, 1.8].into_iter().enumerate() {
        boot_server_frame(&mut c, t, 0x77, 15 + 4 * i as u16, None);
    }
    c.client(10.0, &discover(0x99, 0));
    let r = c.report();
    let f = finding(&r, Code::PxeBootServerUnanswered);
    assert_eq!(f.confidence, crate::Confidence::Medium);
    assert!(
        f.explanation.contains("capture at the client's side"),
        "{}",
        f.explanation
    );
}

/// Catalogue E.31 by broadcast: after a boot menu whose item names no
/// server, the ROM searches for a boot server with DHCPREQUESTs to
/// 255.255.255.255:67 that name the item (option 43 sub-option 71, the
/// bytes iPXE sent in the lab). Unanswered, that is
/// `pxe-boot-server-unanswered`, not a rebinding that got no ACK; a boot
/// server's ACK for the item (from 4011 or 67) answers it. Without option
/// 60 `PXEClient` option 43 is not PXE's, and the REQUEST stays a rebind.
#[test]
fn pxe_boot_server_discovery_by_broadcast() {
    let search = |c: &mut Cap, pxe: bool| {
        pxe_to_4011(c, 0);
        for (i, t) in [2.0, 3.03].into_iter().enumerate() {
            let mut r = boot_search(0, 1);
            r.secs = 4 + 4 * i as u16;
            if !pxe {
                r.set_option(code::VENDOR_CLASS_IDENTIFIER, b"MSFT 5.0".to_vec());
            }
            udp(c, t, (ADDR, 68), (Ipv4Addr::BROADCAST, 67), &r);
        }
    };
    let mut c = Cap::new();
    search(&mut c, true);
    c.client(20.0, &discover(0x99, 0));
    let r = c.report();
    let f = finding(&r, Code::PxeBootServerUnanswered);
    assert_eq!(
        (f.severity, f.confidence),
        (Severity::Error, crate::Confidence::High)
    );
    assert!(
        f.summary
            .contains("looked for a boot server for boot item type 1 by broadcast to UDP 67 twice"),
        "{}",
        f.summary
    );
    assert!(f.explanation.contains("PXE-E78"), "{}", f.explanation);
    let frames: Vec<u64> = f.frames.iter().map(|r| r.frame).collect();
    assert_eq!(frames, [5, 6]);
    for wrong in [Code::NoAck, Code::RenewUnanswered, Code::AckIgnored] {
        assert!(!has(&r, wrong), "{wrong}: {:?}", codes(&r));
    }
    assert_eq!(r.clients[0].outcome(), Some(Outcome::Bound));
    let b = &r.clients[0].boot_servers()[0];
    assert_eq!(
        (b.server, b.port, b.item),
        (Ipv4Addr::BROADCAST, 67, Some((1, 0)))
    );

    // A boot server answers the item.
    let mut c = Cap::new();
    search(&mut c, true);
    let a = item_ack(0, SERVER, 1, b"boot/x86/wdsnbp.com");
    udp(&mut c, 3.04, (SERVER, 4011), (ADDR, 68), &a);
    c.client(20.0, &discover(0x99, 0));
    let r = c.report();
    assert!(!has(&r, Code::PxeBootServerUnanswered), "{:?}", codes(&r));
    let b = &r.clients[0].boot_servers()[0];
    assert_eq!((b.requests, b.replies), (2, 1));
    assert_eq!(b.boot_file.as_deref(), Some("boot/x86/wdsnbp.com"));

    // Not a PXE client's option 43.
    let mut c = Cap::new();
    search(&mut c, false);
    c.client(20.0, &discover(0x99, 0));
    let r = c.report();
    assert!(r.clients[0].boot_servers().is_empty());
    assert!(!has(&r, Code::PxeBootServerUnanswered), "{:?}", codes(&r));
}

/// A PXE server's boot menu (option 43 sub-option 9) says where the ROM
/// goes after the ACK: to the server the menu names on UDP 4011, by
/// broadcast when it names none and discovery control allows it, or
/// nowhere but multicast. The menu is the one dnsmasq 2.90 sent in the
/// lab (type only: control 2, no sub-option 8); the others are built after
/// it, as dnsmasq sends a `pxe-service` with a basename (control 3, its
/// own address in sub-option 8; the lab test of iPXE against dnsmasq reads
/// the real one).
#[test]
fn pxe_boot_menu_says_where_the_rom_asks() {
    let menu = b"\x09\x15\x00\x01\x12Find a boot server\x0a\x08\x00Booting";
    let with_server = [
        &b"\x06\x01\x03\x08\x07\x00\x00\x01\xc0\xa8\x01\x01"[..],
        menu,
        b"\xff",
    ]
    .concat();
    let without = [&b"\x06\x01\x02"[..], menu, b"\xff"].concat();
    let forbidden = [&b"\x06\x01\x03"[..], menu, b"\xff"].concat();
    let multicast_only = [&b"\x06\x01\x01"[..], menu, b"\xff"].concat();
    let both = [
        &b"\x06\x01\x02\x08\x07\x00\x00\x01\xc0\xa8\x01\x01"[..],
        menu,
        b"\xff",
    ]
    .concat();
    for (o43, says) in [
        (
            with_server,
            "asks the boot server the menu names for it (sub-option 8) on UDP port 4011",
        ),
        (
            without,
            "searches for a boot server by broadcast, a DHCPREQUEST to UDP 67",
        ),
        (
            forbidden,
            "forbids broadcast and multicast discovery (discovery control 0x03",
        ),
        (multicast_only, "can search only by multicast"),
        (
            both,
            "by broadcast to UDP 67 (discovery control 0x02, sub-option 6, allows it) and at the servers",
        ),
    ] {
        let mut c = Cap::new();
        c.client(0.0, &pxe_discover(0x43));
        let mut o = offer(0x43);
        o.set_option(code::VENDOR_CLASS_IDENTIFIER, b"PXEClient".to_vec());
        o.set_option(code::VENDOR_SPECIFIC, o43);
        c.reply(0.01, &o);
        let r = c.report();
        let f = finding(&r, Code::PxeProxyOnDhcpServer);
        assert!(f.summary.contains("offered a boot menu"), "{}", f.summary);
        assert!(f.explanation.contains(says), "{says}: {}", f.explanation);
    }
}

/// What a review of the broadcast search found, each a case:
/// - a server that answered the ROM on 4011 before and answers its search
///   from UDP 67 answers the search (the reply goes by xid and item first);
/// - a relay's copy of the search, sent to a server's 67, is the same
///   search (counted once beside the ROM's broadcast, and a search when
///   only the copy was captured), not a request to 4011;
/// - iPXE stops when a menu item's search goes unanswered: an error even
///   if its ACK named a boot file;
/// - an OFFER and ACK of the DHCP exchange that carry sub-option 71 stay
///   in it.
#[test]
fn pxe_boot_server_search_cases() {
    let relay = Ipv4Addr::new(192, 168, 1, 254);

    // Answered on 4011, then a search answered from 67 by the same server.
    let mut c = Cap::new();
    pxe_to_4011(&mut c, 1);
    boot_server_frame(&mut c, 1.01, 0x4011, 0, Some(b"menu.0"));
    udp(
        &mut c,
        5.0,
        (ADDR, 68),
        (Ipv4Addr::BROADCAST, 67),
        &boot_search(0, 1),
    );
    let a = item_ack(0, SERVER, 1, b"item1.0");
    udp(&mut c, 5.01, (SERVER, 67), (ADDR, 68), &a);
    c.client(20.0, &discover(0x99, 0));
    let r = c.report();
    assert!(!has(&r, Code::PxeBootServerUnanswered), "{:?}", codes(&r));
    let b = r.clients[0].boot_servers();
    assert_eq!(b.len(), 2);
    assert_eq!((b[1].replies, b[1].answered_by), (1, Some((SERVER, 67))));

    // The ROM's broadcast and the relay's copy: one search, two requests.
    for (rom, copy) in [(true, true), (false, true)] {
        let mut c = Cap::new();
        pxe_to_4011(&mut c, 0);
        for (i, t) in [5.0, 6.0].into_iter().enumerate() {
            let mut r = boot_search(0, 1);
            r.secs = i as u16;
            if rom {
                udp(&mut c, t, (ADDR, 68), (Ipv4Addr::BROADCAST, 67), &r);
            }
            if copy {
                r.giaddr = relay;
                r.hops = 1;
                udp(&mut c, t + 0.001, (relay, 67), (SERVER, 67), &r);
            }
        }
        c.client(20.0, &discover(0x99, 0));
        let r = c.report();
        let f = finding(&r, Code::PxeBootServerUnanswered);
        assert!(
            f.summary.contains("by broadcast to UDP 67 twice"),
            "{rom}: {}",
            f.summary
        );
        let b = r.clients[0].boot_servers();
        assert_eq!((b.len(), b[0].requests), (1, 2), "{rom}");
    }

    // Two boot servers answer one search: both answers are the search's,
    // no DHCP transaction and no DHCP server more.
    let mut c = Cap::new();
    pxe_to_4011(&mut c, 0);
    udp(
        &mut c,
        5.0,
        (ADDR, 68),
        (Ipv4Addr::BROADCAST, 67),
        &boot_search(0, 1),
    );
    let other = Ipv4Addr::new(192, 168, 1, 7);
    for (t, by) in [(5.01, SERVER), (5.02, other)] {
        let a = item_ack(0, by, 1, b"item1.0");
        udp(&mut c, t, (by, 67), (ADDR, 68), &a);
    }
    c.client(20.0, &discover(0x99, 0));
    let r = c.report();
    assert_eq!(
        r.clients[0].transactions, 2,
        "the DORA and the last DISCOVER"
    );
    assert!(!r.servers.iter().any(|s| s.address == other));
    let b = r.clients[0].boot_servers();
    assert_eq!((b.len(), b[0].replies), (1, 2));
    assert!(!has(&r, Code::PxeBootServerUnanswered), "{:?}", codes(&r));

    // A relay's copy after a local boot server answered the broadcast.
    let mut c = Cap::new();
    pxe_to_4011(&mut c, 0);
    udp(
        &mut c,
        5.0,
        (ADDR, 68),
        (Ipv4Addr::BROADCAST, 67),
        &boot_search(0, 1),
    );
    let a = item_ack(0, SERVER, 1, b"item1.0");
    udp(&mut c, 5.0005, (SERVER, 67), (ADDR, 68), &a);
    let mut copy = boot_search(0, 1);
    (copy.giaddr, copy.hops) = (relay, 1);
    udp(
        &mut c,
        5.001,
        (relay, 67),
        (Ipv4Addr::new(10, 9, 9, 9), 67),
        &copy,
    );
    c.client(20.0, &discover(0x99, 0));
    let r = c.report();
    assert!(!has(&r, Code::PxeBootServerUnanswered), "{:?}", codes(&r));
    assert_eq!(r.clients[0].boot_servers()[0].requests, 1);

    // One search, by broadcast and then at the menu's server on 4011,
    // answered there: the broadcast is answered too.
    let mut c = Cap::new();
    pxe_to_4011(&mut c, 0);
    udp(
        &mut c,
        5.0,
        (ADDR, 68),
        (Ipv4Addr::BROADCAST, 67),
        &boot_search(0, 1),
    );
    udp(&mut c, 6.0, (ADDR, 68), (SERVER, 4011), &boot_search(0, 1));
    let a = item_ack(0, SERVER, 1, b"item1.0");
    udp(&mut c, 6.01, (SERVER, 4011), (ADDR, 68), &a);
    c.client(20.0, &discover(0x99, 0));
    let r = c.report();
    assert!(!has(&r, Code::PxeBootServerUnanswered), "{:?}", codes(&r));

    // xid 0 for item 1, then for item 2: a late answer for item 1 is item 1's.
    let mut c = Cap::new();
    pxe_to_4011(&mut c, 0);
    udp(
        &mut c,
        5.0,
        (ADDR, 68),
        (Ipv4Addr::BROADCAST, 67),
        &boot_search(0, 1),
    );
    let two = boot_search(0, 2);
    udp(&mut c, 5.5, (ADDR, 68), (Ipv4Addr::BROADCAST, 67), &two);
    let a = item_ack(0, SERVER, 1, b"item1.0");
    udp(&mut c, 5.6, (SERVER, 67), (ADDR, 68), &a);
    c.client(20.0, &discover(0x99, 0));
    let r = c.report();
    let b = r.clients[0].boot_servers();
    assert_eq!((b[0].item, b[0].replies), (Some((1, 0)), 1));
    assert_eq!(b[0].boot_file.as_deref(), Some("item1.0"));
    let f = finding(&r, Code::PxeBootServerUnanswered);
    assert!(f.summary.contains("boot item type 2"), "{}", f.summary);

    // iPXE, a boot file in its ACK, and a menu item's search unanswered.
    let mut c = Cap::new();
    pxe_to_4011(&mut c, 0);
    let mut d = pxe_discover(0x51);
    d.set_option(code::USER_CLASS, b"iPXE".to_vec());
    c.client(10.0, &d);
    c.reply(10.01, &offer(0x51));
    let mut q = request(0x51, SERVER);
    q.set_option(code::USER_CLASS, b"iPXE".to_vec());
    c.client(11.0, &q);
    let mut a = ack(0x51);
    a.file = std::borrow::Cow::Owned(b"undionly.kpxe".to_vec());
    c.reply(11.01, &a);
    for t in [12.0, 13.0] {
        let mut r = boot_search(0, 1);
        r.set_option(code::USER_CLASS, b"iPXE".to_vec());
        udp(&mut c, t, (ADDR, 68), (Ipv4Addr::BROADCAST, 67), &r);
    }
    c.client(30.0, &discover(0x99, 0));
    let r = c.report();
    let f = finding(&r, Code::PxeBootServerUnanswered);
    assert_eq!(f.severity, Severity::Error, "{}", f.summary);

    // Sub-option 71 in the DHCP exchange's own OFFER and ACK.
    let mut c = Cap::new();
    c.client(0.0, &pxe_discover(0x52));
    let mut o = offer(0x52);
    o.set_option(code::VENDOR_CLASS_IDENTIFIER, b"PXEClient".to_vec());
    o.set_option(code::VENDOR_SPECIFIC, boot_item_43(1));
    c.reply(0.01, &o);
    c.client(1.0, &request(0x52, SERVER));
    let mut a = ack(0x52);
    a.set_option(code::VENDOR_CLASS_IDENTIFIER, b"PXEClient".to_vec());
    a.set_option(code::VENDOR_SPECIFIC, boot_item_43(1));
    c.reply(1.01, &a);
    let r = c.report();
    assert_eq!(r.clients[0].outcome(), Some(Outcome::Bound));
    assert!(r.clients[0].boot_servers().is_empty());
}

/// iPXE is a PXE client too (the ROM of QEMU's and KVM's NICs): without a
/// boot file it stops, and says so.
#[test]
fn ipxe_rom_without_a_boot_file() {
    let mut c = Cap::new();
    let mut d = pxe_discover(0x1e);
    d.set_option(code::USER_CLASS, b"iPXE".to_vec());
    c.client(0.0, &d);
    c.reply(0.01, &offer(0x1e));
    let mut r = request(0x1e, SERVER);
    r.set_option(code::USER_CLASS, b"iPXE".to_vec());
    r.set_option(
        code::VENDOR_CLASS_IDENTIFIER,
        b"PXEClient:Arch:00000:UNDI:002001".to_vec(),
    );
    c.client(1.0, &r);
    c.reply(1.01, &ack(0x1e));
    let r = c.report();
    let f = finding(&r, Code::PxeBootFileMissing);
    assert_eq!(f.severity, Severity::Warning);
    assert!(
        f.explanation.contains("Nothing to boot"),
        "{}",
        f.explanation
    );
}

/// `m` sent from `from` to `to` (a boot server exchange on UDP 4011).
fn udp(c: &mut Cap, t: f64, from: (Ipv4Addr, u16), to: (Ipv4Addr, u16), m: &Message<'_>) {
    let payload = m.encode(300);
    let mut f = UdpFrame::new(from, to, &payload);
    f.src_mac = if m.op == Op::BootRequest {
        CLIENT
    } else {
        SERVER_MAC
    };
    c.frame(t, &f);
}

fn boot_request(xid: u32, ipxe: bool) -> Message<'static> {
    let mut r = request_msg(MessageType::Request, xid, CLIENT);
    r.ciaddr = ADDR;
    r.set_option(
        code::VENDOR_CLASS_IDENTIFIER,
        b"PXEClient:Arch:00000:UNDI:002001".to_vec(),
    );
    if ipxe {
        r.set_option(code::USER_CLASS, b"iPXE".to_vec());
    }
    r
}

/// ISC dhcpd serving a boot menu that names no server (the lab's
/// `pxe-boot-search-plain-ack`): it answers each broadcast search with a
/// plain ACK under the search's xid, as a rebind. Those ACKs are the
/// search's, not a transaction of the client's, and answer nothing: the
/// finding says who answered that way, with their frames. A plain ACK long
/// after the search, or under another xid, is the DHCP exchange's as
/// before.
#[test]
fn pxe_boot_search_answered_as_a_rebind() {
    for kind in [MessageType::Ack, MessageType::Nak] {
        let mut c = Cap::new();
        pxe_to_4011(&mut c, 0);
        for t in [16.0, 17.0] {
            search_67(&mut c, t, 0);
            plain_reply(&mut c, t + 0.001, 0, kind, SERVER);
        }
        c.client(40.0, &discover(0x99, 0));
        let r = c.report();
        assert_eq!(
            r.clients[0].transactions, 2,
            "{kind:?}: the DORA and the last DISCOVER"
        );
        let b = &r.clients[0].boot_servers()[0];
        assert_eq!(
            (
                b.requests,
                b.replies,
                b.plain.count,
                b.plain.searches,
                b.plain.by
            ),
            (2, 0, 2, 2, Some(SERVER)),
            "{kind:?}"
        );
        let f = finding(&r, Code::PxeBootServerUnanswered);
        assert_eq!(f.severity, Severity::Error);
        assert!(
            f.summary.contains(
                "twice: 192.168.1.1 answered as if it were an ordinary DHCP request, with replies that name no \
                 boot item"
            ),
            "{}",
            f.summary
        );
        assert!(
            f.explanation.contains(
                "192.168.1.1, the DHCP server that gave the ROM its address, answered each search with a DHCP \
                 reply that names no boot item (2 replies, frames 6, 8)"
            ) && f.explanation.contains("it searched again and stopped"),
            "{}",
            f.explanation
        );
        assert_eq!(
            f.frames.iter().map(|f| f.frame).collect::<Vec<_>>(),
            [5, 6, 7, 8]
        );
        let acks = r.servers[0].acks + r.servers[0].naks;
        assert_eq!(
            acks, 3,
            "{kind:?}: the DORA's ACK and the two sent to the searches"
        );
    }

    // Too late, or under another xid: the DHCP exchange's, as before.
    for (t, xid) in [(21.0, 0), (16.001, 0x77)] {
        let mut c = Cap::new();
        pxe_to_4011(&mut c, 0);
        search_67(&mut c, 16.0, 0);
        plain_reply(&mut c, t, xid, MessageType::Ack, SERVER);
        c.client(40.0, &discover(0x99, 0));
        let r = c.report();
        assert_eq!(r.clients[0].transactions, 3, "{t} {xid:#x}");
        assert_eq!(r.clients[0].boot_servers()[0].plain.count, 0);
        let f = finding(&r, Code::PxeBootServerUnanswered);
        assert!(!f.summary.contains("ordinary DHCP"), "{}", f.summary);
    }
}

/// What a review of the first cut found, each a case:
/// - a relay's two hops of one plain ACK, or the ACK in a client-side and a
///   server-side capture, count once (for the search and for the server);
/// - a boot server's answer ends the plain replies' story: a later silent
///   search is not blamed on the DHCP server;
/// - a ROM that reuses its DHCP xid for the search and starts a DHCP
///   exchange under it keeps that exchange's ACK (no false `no-ack`);
/// - two DHCP servers answering one search are both named, and one search
///   answered of two is said so.
#[test]
fn pxe_boot_search_answered_as_a_rebind_cases() {
    const RELAY: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 254);
    // A relay's two hops, captured on the relay.
    let mut c = Cap::new();
    pxe_to_4011(&mut c, 0);
    for t in [16.0, 17.0] {
        search_67(&mut c, t, 0);
        let mut s = boot_search(0, 1);
        s.giaddr = RELAY;
        s.hops = 1;
        udp(&mut c, t + 0.0005, (RELAY, 67), (SERVER, 67), &s);
        let mut a = reply_msg(MessageType::Ack, 0, SERVER, ADDR);
        a.giaddr = RELAY;
        udp(&mut c, t + 0.001, (SERVER, 67), (RELAY, 67), &a);
        udp(
            &mut c,
            t + 0.0015,
            (RELAY, 67),
            (Ipv4Addr::BROADCAST, 68),
            &a,
        );
    }
    c.client(40.0, &discover(0x99, 0));
    let r = c.report();
    let b = &r.clients[0].boot_servers()[0];
    assert_eq!((b.requests, b.plain.count), (2, 2));
    assert_eq!(r.servers[0].acks, 3);
    // Both ends of one link.
    let mut c = Cap::files(2);
    pxe_to_4011(&mut c, 0);
    for t in [16.0, 17.0] {
        for file in [0, 1] {
            c.file = file;
            search_67(&mut c, t + 0.0001 * f64::from(file), 0);
            plain_reply(
                &mut c,
                t + 0.001 + 0.0001 * f64::from(file),
                0,
                MessageType::Ack,
                SERVER,
            );
        }
    }
    c.file = 0;
    c.client(40.0, &discover(0x99, 0));
    let r = c.report();
    let b = &r.clients[0].boot_servers()[0];
    assert_eq!((b.requests, b.plain.count), (2, 2));

    // Answered by a boot server in between: a later silent search is only
    // silent.
    let mut c = Cap::new();
    pxe_to_4011(&mut c, 0);
    search_67(&mut c, 16.0, 0);
    plain_reply(&mut c, 16.001, 0, MessageType::Ack, SERVER);
    udp(
        &mut c,
        16.002,
        (ROGUE, 67),
        (ADDR, 68),
        &item_ack(0, ROGUE, 1, b"boot.0"),
    );
    search_67(&mut c, 30.0, 5);
    search_67(&mut c, 31.0, 5);
    c.client(40.0, &discover(0x99, 0));
    let r = c.report();
    let f = finding(&r, Code::PxeBootServerUnanswered);
    assert!(!f.summary.contains("ordinary DHCP"), "{}", f.summary);

    // The DHCP xid reused for the search, then a DHCP exchange under it.
    let mut c = Cap::new();
    dora(&mut c, 0.0, 0x77);
    search_67(&mut c, 10.0, 0x77);
    c.client(12.0, &discover(0x77, 0));
    c.reply(12.01, &offer(0x77));
    c.client(12.02, &request(0x77, SERVER));
    c.reply(12.03, &ack(0x77));
    c.client(40.0, &discover(0x99, 0));
    let r = c.report();
    assert!(!has(&r, Code::NoAck), "{:?}", codes(&r));

    // Two servers answer the first of two searches.
    let mut c = Cap::new();
    pxe_to_4011(&mut c, 0);
    search_67(&mut c, 16.0, 0);
    plain_reply(&mut c, 16.001, 0, MessageType::Ack, SERVER);
    plain_reply(&mut c, 16.002, 0, MessageType::Ack, ROGUE);
    search_67(&mut c, 17.0, 0);
    c.client(40.0, &discover(0x99, 0));
    let r = c.report();
    let f = finding(&r, Code::PxeBootServerUnanswered);
    assert!(
        f.summary
            .contains("192.168.1.1 and another DHCP server answered")
            && f.explanation
                .contains("answered 1 of the 2 searches with a DHCP reply"),
        "{}\n{}",
        f.summary,
        f.explanation
    );
    // One search, answered once.
    let mut c = Cap::new();
    pxe_to_4011(&mut c, 0);
    search_67(&mut c, 16.0, 0);
    plain_reply(&mut c, 16.001, 0, MessageType::Ack, SERVER);
    c.client(40.0, &discover(0x99, 0));
    let r = c.report();
    let f = finding(&r, Code::PxeBootServerUnanswered);
    assert!(
        f.explanation
            .contains("answered the search with a DHCP reply")
            && f.explanation.contains("so it stopped"),
        "{}",
        f.explanation
    );
}

/// A ROM's broadcast search for boot item 1 under `xid`, from its address.
fn search_67(c: &mut Cap, t: f64, xid: u32) {
    udp(
        c,
        t,
        (ADDR, 68),
        (Ipv4Addr::BROADCAST, 67),
        &boot_search(xid, 1),
    );
}

/// A DHCP server's reply of `kind` under `xid` that names no boot item,
/// broadcast from `server`.
fn plain_reply(c: &mut Cap, t: f64, xid: u32, kind: MessageType, server: Ipv4Addr) {
    let a = reply_msg(kind, xid, server, ADDR);
    udp(c, t, (server, 67), (Ipv4Addr::BROADCAST, 68), &a);
}

/// Option 43 with a PXE boot item of type `item`, layer 0 (sub-option 71),
/// as iPXE sent it in the lab.
fn boot_item_43(item: u8) -> Vec<u8> {
    vec![0x47, 0x04, 0x00, item, 0x00, 0x00, 0xff]
}

/// A ROM's search for a boot server for boot item `item` (a REQUEST with
/// ciaddr naming it in option 43).
fn boot_search(xid: u32, item: u8) -> Message<'static> {
    let mut r = boot_request(xid, false);
    r.set_option(code::VENDOR_SPECIFIC, boot_item_43(item));
    r
}

/// A boot server's ACK for boot item `item`, naming `file`.
fn item_ack(xid: u32, server_id: Ipv4Addr, item: u8, file: &[u8]) -> Message<'static> {
    let mut a = boot_ack(xid, server_id, file);
    a.set_option(code::VENDOR_SPECIFIC, boot_item_43(item));
    a
}

fn boot_ack(xid: u32, server_id: Ipv4Addr, file: &[u8]) -> Message<'static> {
    let mut a = reply_msg(MessageType::Ack, xid, server_id, Ipv4Addr::UNSPECIFIED);
    a.set_option(code::VENDOR_CLASS_IDENTIFIER, b"PXEClient".to_vec());
    a.file = std::borrow::Cow::Owned(file.to_vec());
    a
}

/// What a review of the first cut found, each a case:
/// - the silence is not "recovered" by the lease before it, whatever the
///   xid of the requests (0 after dnsmasq's boot menu);
/// - an answer from another address of the server that names it (option
///   54), or to a request multicast to 4011, is an answer;
/// - iPXE with a boot file in its ACK falls back to it: a warning;
/// - a client seen only on 4011 is not said to have a lease;
/// - more than eight requests in two captures are counted once each;
/// - one request needs the capture to go on 2 s after it;
/// - an answered boot does not hide a later one left unanswered.
#[test]
fn pxe_boot_server_cases() {
    let silent = |feed: &dyn Fn(&mut Cap)| {
        let mut c = Cap::files(2);
        feed(&mut c);
        c.file = 0;
        c.client(40.0, &discover(0x99, 0));
        c.report()
    };
    // Under xid 0: still the error and the cause.
    let r = silent(&|c| {
        pxe_to_4011(c, 0);
        for t in [16.0, 17.0, 19.0] {
            udp(c, t, (ADDR, 68), (SERVER, 4011), &boot_request(0, false));
        }
    });
    let f = finding(&r, Code::PxeBootServerUnanswered);
    assert_eq!(
        (f.severity, f.explains_failure, f.recovered),
        (Severity::Error, true, false)
    );
    assert!(!f.explanation.contains("recovered"), "{}", f.explanation);
    assert_eq!(f.xid, Some(0));

    // Answers from another address of the server, naming it, and to a
    // request multicast to 4011.
    let other = Ipv4Addr::new(192, 168, 1, 2);
    let r = silent(&|c| {
        pxe_to_4011(c, 1);
        // (Under another xid: option 54 alone ties it to the request.)
        udp(
            c,
            1.01,
            (other, 4011),
            (ADDR, 68),
            &boot_ack(0x9999, SERVER, b"a.0"),
        );
    });
    assert!(!has(&r, Code::PxeBootServerUnanswered), "{:?}", codes(&r));
    let group = Ipv4Addr::new(224, 0, 1, 2);
    let r = silent(&|c| {
        udp(c, 1.0, (ADDR, 68), (group, 4011), &boot_request(7, false));
        udp(
            c,
            1.01,
            (other, 4011),
            (ADDR, 68),
            &boot_ack(7, other, b"a.0"),
        );
    });
    assert!(!has(&r, Code::PxeBootServerUnanswered), "{:?}", codes(&r));

    // iPXE whose ACK named a boot file: it boots that file after a while.
    let r = silent(&|c| {
        let mut d = pxe_discover(0x1e);
        d.set_option(code::USER_CLASS, b"iPXE".to_vec());
        c.client(0.0, &d);
        let mut o = offer(0x1e);
        o.set_option(code::VENDOR_CLASS_IDENTIFIER, b"PXEClient".to_vec());
        c.reply(0.01, &o);
        let mut r = request(0x1e, SERVER);
        r.set_option(code::USER_CLASS, b"iPXE".to_vec());
        c.client(1.0, &r);
        let mut a = ack(0x1e);
        a.set_option(code::VENDOR_CLASS_IDENTIFIER, b"PXEClient".to_vec());
        a.file = std::borrow::Cow::Owned(b"http://192.168.1.1/boot.ipxe".to_vec());
        c.reply(1.01, &a);
        for t in [1.02, 1.27, 1.8, 2.9] {
            udp(c, t, (ADDR, 68), (SERVER, 4011), &boot_request(0x1e, true));
        }
    });
    let f = finding(&r, Code::PxeBootServerUnanswered);
    assert_eq!((f.severity, f.explains_failure), (Severity::Warning, false));
    assert!(f.explanation.contains("boot.ipxe"), "{}", f.explanation);
    // And option 60 with that file is only information for iPXE.
    assert_eq!(
        finding(&r, Code::PxeProxyOnDhcpServer).severity,
        Severity::Info
    );

    // Seen only on 4011: no lease is claimed.
    let r = silent(&|c| {
        for t in [1.0, 2.0, 4.0] {
            udp(c, t, (ADDR, 68), (SERVER, 4011), &boot_request(5, false));
        }
    });
    let f = finding(&r, Code::PxeBootServerUnanswered);
    assert!(
        f.explanation.starts_with("The PXE ROM sent 3 requests"),
        "{}",
        f.explanation
    );
    assert_eq!(f.confidence, crate::Confidence::Medium);

    // Twelve requests, in both captures.
    let r = silent(&|c| {
        pxe_to_4011(c, 0);
        for file in [0, 1] {
            c.file = file;
            for i in 0..12 {
                let t = 2.0 + f64::from(i) + f64::from(file) * 0.0001;
                udp(
                    c,
                    t,
                    (ADDR, 68),
                    (SERVER, 4011),
                    &boot_request(0x4011, false),
                );
            }
        }
    });
    let f = finding(&r, Code::PxeBootServerUnanswered);
    assert!(f.summary.contains("12 times"), "{}", f.summary);
    assert_eq!(f.frames.len(), 8, "the first eight are the evidence");

    // One request: 1 s of capture after it is too little, 2 s enough.
    for (end, fires) in [(2.0, false), (3.5, true)] {
        let mut c = Cap::new();
        pxe_to_4011(&mut c, 1);
        c.client(end, &discover(0x99, 0));
        assert_eq!(
            has(&c.report(), Code::PxeBootServerUnanswered),
            fires,
            "{end}"
        );
    }

    // Answered at one boot, unanswered at the next.
    let r = silent(&|c| {
        pxe_to_4011(c, 1);
        udp(
            c,
            1.01,
            (SERVER, 4011),
            (ADDR, 68),
            &boot_ack(0x4011, SERVER, b"a.0"),
        );
        for t in [30.0, 31.0, 33.0] {
            udp(c, t, (ADDR, 68), (SERVER, 4011), &boot_request(0x55, false));
        }
    });
    let f = finding(&r, Code::PxeBootServerUnanswered);
    assert_eq!(f.frames.len(), 3, "{:?}", f.frames);
    let b = &r.clients[0].boot_servers()[0];
    assert_eq!((b.requests, b.replies), (4, 1));
}

/// A second-stage iPXE (the ROM booted a file, then iPXE asked again) with
/// no boot file from DHCP may run a script of its own: no
/// `pxe-boot-file-missing`.
#[test]
fn chainloaded_ipxe_without_a_boot_file_is_not_a_missing_file() {
    let mut c = Cap::new();
    c.client(0.0, &pxe_discover(0x30));
    c.reply(0.01, &offer(0x30));
    c.client(1.0, &request(0x30, SERVER));
    let mut a = ack(0x30);
    a.file = std::borrow::Cow::Owned(b"undionly.kpxe".to_vec());
    a.siaddr = SERVER;
    c.reply(1.01, &a);
    let mut d = pxe_discover(0x31);
    d.set_option(code::USER_CLASS, b"iPXE".to_vec());
    c.client(5.0, &d);
    c.reply(5.01, &offer(0x31));
    let mut r = request(0x31, SERVER);
    r.set_option(code::USER_CLASS, b"iPXE".to_vec());
    c.client(6.0, &r);
    c.reply(6.01, &ack(0x31));
    let r = c.report();
    assert!(!has(&r, Code::PxeBootFileMissing), "{:?}", codes(&r));
}

impl Cap {
    /// An ICMP destination unreachable with `code` from `reporter`,
    /// quoting the datagram of `f`.
    fn icmp(&mut self, t: f64, reporter: Ipv4Addr, code: u8, f: &UdpFrame<'_>) {
        self.icmp_quoting(t, reporter, code, f, usize::MAX);
    }

    /// The same, quoting only the first `keep` bytes of the datagram.
    fn icmp_quoting(
        &mut self,
        t: f64,
        reporter: Ipv4Addr,
        code: u8,
        f: &UdpFrame<'_>,
        keep: usize,
    ) {
        let datagram = &f.ethernet_frame()[14..];
        let quoted = datagram[..keep.min(datagram.len())].to_vec();
        let mut b = vec![0x02, 0, 0, 0, 0, 0x77, 0x02, 0, 0, 0, 0, 0xfe, 0x08, 0x00];
        let total = (20 + 8 + quoted.len()) as u16;
        b.extend([
            0x45,
            0,
            (total >> 8) as u8,
            total as u8,
            0,
            0,
            0,
            0,
            64,
            1,
            0,
            0,
        ]);
        b.extend(reporter.octets());
        b.extend(f.src_ip.octets());
        let mut icmp = vec![3, code, 0, 0, 0, 0, 0, 0];
        icmp.extend(&quoted);
        let sum = wire::checksum::ipv4_header(&icmp);
        icmp[2..4].copy_from_slice(&sum.to_be_bytes());
        b.extend(&icmp);
        self.frames[usize::from(self.file)] += 1;
        let at = FrameRef {
            file: self.file,
            frame: self.frames[usize::from(self.file)],
        };
        let u = wire::frame::unreachable(wire::LinkType::Ethernet, &b).expect("an unreachable");
        let o = Obs::quoted(at, Timestamp((t * 1e9) as i64), &u).expect("quotes DHCP");
        self.tape.push(o.clone());
        self.engine.push(o);
    }
}

/// Live (`watch`), an ICMP error whose quote names no client is told as
/// the first of its kind arrives (a router refusing a relay's messages to
/// a dead server address), not only when the capture stops; a second kind
/// (another reporter) is told as it arrives too, and repeats of a kind are
/// only counted, in the findings at the end.
#[test]
fn live_mode_tells_unnamed_refusals_as_they_arrive() {
    let relay = Ipv4Addr::new(10, 0, 0, 254);
    let dead = Ipv4Addr::new(10, 0, 0, 9);
    let router = Ipv4Addr::new(10, 0, 0, 1);
    let mut c = Cap::new();
    for (i, t) in [0.0, 1.0, 3.0].into_iter().enumerate() {
        let (_, payload) = relayed_discover(0x74, i as u16);
        let f = UdpFrame::new((relay, 67), (dead, 67), &payload);
        c.frame(t, &f);
        c.icmp_quoting(t + 0.0001, dead, 3, &f, 28);
        if i == 2 {
            c.icmp_quoting(t + 0.0002, router, 1, &f, 28);
        }
    }
    let cfg = Config {
        files: vec!["eth0".into()],
        early: true,
        ..Config::default()
    };
    let mut e = Engine::new(cfg, Recorder::default());
    for o in c.tape.clone() {
        e.sink().pushed += 1;
        e.push(o);
    }
    let told: Vec<(Code, usize)> = e.sink().findings.clone();
    // The first error is the tape's second observation, the router's its
    // seventh (`no-offer` is told with the third DISCOVER, the fifth).
    assert_eq!(
        told,
        [
            (Code::ServerUnreachable, 2),
            (Code::NoOffer, 5),
            (Code::ServerUnreachable, 7)
        ],
        "{told:?}"
    );
    let (report, _) = e.finish();
    let summaries: Vec<&str> = report.global.iter().map(|f| f.summary.as_str()).collect();
    assert_eq!(summaries.len(), 2, "{summaries:?}");
    assert!(
        summaries[0].contains("answered 3 DHCP messages to 10.0.0.9:67 with ICMP port unreachable"),
        "{summaries:?}"
    );
    // Not live: nothing before the end.
    let mut quiet = Engine::new(
        Config {
            files: vec!["eth0".into()],
            ..Config::default()
        },
        Recorder::default(),
    );
    for o in c.tape.clone() {
        quiet.push(o);
    }
    assert!(quiet.sink().findings.is_empty());
}

/// ICMP errors that quote only part of the datagram (routers keep as little
/// as its headers, RFC 792): a quote that reaches `chaddr` names the client
/// as a whole one does; a shorter one names none, and makes one server-wide
/// finding per reporter, destination and code, never a client's.
#[test]
fn short_icmp_quotes_count_as_far_as_they_reach() {
    let relay = Ipv4Addr::new(10, 0, 0, 254);
    let dead = Ipv4Addr::new(10, 0, 0, 9);
    // IPv4 20 + UDP 8, then the DHCP header: chaddr ends at 28 + 6.
    for (keep, names) in [
        (28 + 34, true),
        (28 + 33, false),
        (28, false),
        (28 + 100, true),
    ] {
        let mut c = Cap::new();
        for (i, t) in [0.0, 1.0, 3.0].into_iter().enumerate() {
            let (_, payload) = relayed_discover(0x72, i as u16);
            let f = UdpFrame::new((relay, 67), (dead, 67), &payload);
            c.frame(t, &f);
            c.icmp_quoting(t + 0.0001, dead, 3, &f, keep);
        }
        let r = c.report();
        let f = finding(&r, Code::ServerUnreachable);
        assert_eq!(f.chaddr.is_some(), names, "{keep}: {}", f.summary);
        if names {
            assert_eq!(
                (f.severity, f.explains_failure),
                (Severity::Error, true),
                "{keep}"
            );
            assert!(
                f.summary
                    .contains("answered 3 DHCP messages to 10.0.0.9:67"),
                "{}",
                f.summary
            );
        } else {
            assert_eq!(
                (f.severity, f.explains_failure),
                (Severity::Warning, false),
                "{keep}"
            );
            assert_eq!(f.xid, None);
            assert_eq!(f.frames.len(), 3, "{:?}", f.frames);
            assert!(
                f.summary.contains("answered 3 DHCP messages to 10.0.0.9:67 with ICMP port unreachable (quoting only the headers"),
                "{}",
                f.summary
            );
            assert_eq!(r.global.len(), 1, "{:?}", codes(&r));
        }
        // The ICMP errors are not DHCP packets seen.
        assert_eq!(r.stats.packets, 3, "{keep}");
    }
    // A server's reply to a relay quoted without its chaddr: with its `op`,
    // reply-unreachable, server-wide.
    let mut offer_to_relay = reply_msg(MessageType::Offer, 0x73, SERVER, ADDR);
    offer_to_relay.giaddr = relay;
    let payload = offer_to_relay.encode(300);
    let f = UdpFrame::new((SERVER, 67), (relay, 67), &payload);
    let mut c = Cap::new();
    c.icmp_quoting(0.0, relay, 3, &f, 28 + 1);
    let r = c.report();
    let f1 = finding(&r, Code::ReplyUnreachable);
    assert_eq!((f1.chaddr, f1.severity), (None, Severity::Warning));
    assert!(
        f1.summary
            .contains("answered a server's reply to 10.0.0.254:67"),
        "{}",
        f1.summary
    );
    // Without its `op`, from 67 to 67: a reply when its sender answered
    // clients in the capture, else taken for a relay's request.
    for server_replied in [true, false] {
        let mut c = Cap::new();
        if server_replied {
            dora(&mut c, 0.0, 0x74);
        }
        c.icmp_quoting(1.0, relay, 3, &f, 28);
        let r = c.report();
        let (code, taken) = if server_replied {
            (
                Code::ReplyUnreachable,
                "taken for replies because their sender, 192.168.1.1, answered",
            )
        } else {
            (Code::ServerUnreachable, "taken for a relay's requests")
        };
        let f = finding(&r, code);
        assert!(f.explanation.contains(taken), "{}", f.explanation);
        assert_eq!(f.chaddr, None);
    }
    // A request quoted with and without its `op`: one finding, once the
    // direction is settled.
    let mut c = Cap::new();
    let (_, payload) = relayed_discover(0x75, 0);
    let f = UdpFrame::new((relay, 67), (dead, 67), &payload);
    c.icmp_quoting(0.0, dead, 3, &f, 28);
    c.icmp_quoting(1.0, dead, 3, &f, 28 + 8);
    let r = c.report();
    assert_eq!(r.global.len(), 1, "{:?}", r.global);
    assert!(
        r.global[0].summary.contains("answered 2 DHCP messages"),
        "{}",
        r.global[0].summary
    );
    assert!(
        r.global[0]
            .explanation
            .contains("(1 of them quote even less"),
        "{}",
        r.global[0].explanation
    );
    // Past sixteen kinds, the rest are counted, and said.
    let mut c = Cap::new();
    for i in 0..20u8 {
        let server = Ipv4Addr::new(10, 0, 1, i);
        let f = UdpFrame::new((relay, 67), (server, 67), &payload);
        c.icmp_quoting(f64::from(i), server, 3, &f, 28 + 8);
    }
    let r = c.report();
    assert_eq!(r.global.len(), 16);
    let last = &r.global[15].explanation;
    assert!(last.contains("4 more such ICMP error(s)"), "{last}");
}

/// Live (`watch`), `server-unreachable` is told as the ICMP error about the
/// third unanswered DISCOVER arrives (when the failure is certain and all
/// three refusals are in), as the cause, not a minute later when the
/// exchange closes. When an OFFER came, it waits for the close, which
/// knows the refusals were answered.
#[test]
fn live_mode_settles_server_unreachable_once_the_exchange_has_failed() {
    let relay = Ipv4Addr::new(10, 0, 0, 254);
    for offered in [false, true] {
        let mut c = Cap::new();
        for (i, t) in [0.0, 1.0, 3.0].into_iter().enumerate() {
            let (_, payload) = relayed_discover(0x68, i as u16);
            let f = UdpFrame::new((relay, 67), (SERVER, 67), &payload);
            c.frame(t, &f);
            c.icmp(t + 0.0001, SERVER, 3, &f);
            if offered && i == 0 {
                c.server(
                    0.01,
                    Ipv4Addr::new(192, 168, 1, 2),
                    &offer(0x68),
                    relay,
                    ChecksumMode::Full,
                );
            }
        }
        let cfg = Config {
            files: vec!["f0.pcap".into()],
            early: true,
            ..Config::default()
        };
        let mut e = Engine::new(cfg, Recorder::default());
        for o in c.tape.clone() {
            e.sink().pushed += 1;
            e.push(o);
        }
        let seen = e.sink().findings.clone();
        let told = seen
            .iter()
            .find(|(c, _)| *c == Code::ServerUnreachable)
            .map(|(_, n)| *n);
        let pushed = c.tape.len();
        if offered {
            assert_eq!(told, None, "{seen:?}");
        } else {
            assert_eq!(
                told,
                Some(pushed),
                "as the third ICMP error arrives: {seen:?}"
            );
            assert!(e.sink().causes.contains(&Code::ServerUnreachable));
        }
        let (report, rec) = e.finish();
        let f = finding(&report, Code::ServerUnreachable);
        assert_eq!(f.explains_failure, !offered, "{f:?}");
        assert!(rec
            .findings
            .iter()
            .any(|(c, _)| *c == Code::ServerUnreachable));
    }
}

/// Live, a refused reply says nothing yet about the requests' refusals: a
/// relay's DISCOVERs refused by a dead server A while server B's OFFERs
/// to the giaddr are refused too. `server-unreachable` is not told as the
/// cause (B answered); `reply-unreachable` is told as the exchange fails.
#[test]
fn live_mode_tells_only_the_refusal_that_arrived() {
    let relay = Ipv4Addr::new(10, 1, 0, 1);
    let b = Ipv4Addr::new(192, 168, 1, 2);
    let mut c = Cap::new();
    for (i, t) in [0.0, 1.0, 3.0].into_iter().enumerate() {
        let (_, payload) = relayed_discover(0x69, i as u16);
        let f = UdpFrame::new((Ipv4Addr::new(10, 0, 0, 254), 67), (SERVER, 67), &payload);
        c.frame(t, &f);
        c.icmp(t + 0.0001, SERVER, 3, &f);
        let o = offer(0x69).encode(300);
        let f = UdpFrame::new((b, 67), (relay, 67), &o);
        c.frame(t + 0.01, &f);
        c.icmp(t + 0.011, relay, 3, &f);
    }
    let cfg = Config {
        files: vec!["f0.pcap".into()],
        early: true,
        ..Config::default()
    };
    let mut e = Engine::new(cfg, Recorder::default());
    for o in c.tape.clone() {
        e.push(o);
    }
    let causes = e.sink().causes.clone();
    assert!(!causes.contains(&Code::ServerUnreachable), "{causes:?}");
    assert!(causes.contains(&Code::ReplyUnreachable), "{causes:?}");
    let (report, _) = e.finish();
    assert!(!finding(&report, Code::ServerUnreachable).explains_failure);
}

/// A relay's DISCOVER (giaddr 10.1.0.1) forwarded to `server`:67.
fn relayed_discover(xid: u32, secs: u16) -> (Message<'static>, Vec<u8>) {
    let mut d = discover(xid, secs);
    d.giaddr = Ipv4Addr::new(10, 1, 0, 1);
    d.hops = 1;
    let payload = d.encode(300);
    (d, payload)
}

/// ICMP errors quoting a client's DHCP messages to a server's port 67 are
/// `server-unreachable`, the cause of the silence (high confidence), one
/// finding for the client; a copy of the error in a second capture is not
/// counted again; the quoted messages open no transaction of their own.
/// Other codes say a firewall or a router; a client that got its lease
/// anyway has a warning.
#[test]
fn server_unreachable() {
    let relay = Ipv4Addr::new(10, 0, 0, 254);
    let mut c = Cap::files(2);
    for (i, t) in [0.0, 1.0, 3.0].into_iter().enumerate() {
        let (_, payload) = relayed_discover(0x67, i as u16);
        let f = UdpFrame::new((relay, 67), (SERVER, 67), &payload);
        c.file = 0;
        c.frame(t, &f);
        c.icmp(t + 0.0001, SERVER, 3, &f);
        c.file = 1;
        c.icmp(t + 0.0002, SERVER, 3, &f);
    }
    c.file = 0;
    c.client(20.0, &discover(0x99, 0));
    let r = c.report();
    let f = finding(&r, Code::ServerUnreachable);
    assert_eq!((f.severity, f.explains_failure), (Severity::Error, true));
    assert_eq!(f.confidence, crate::Confidence::High);
    assert_eq!(f.frames.len(), 3, "{:?}", f.frames);
    assert!(
        f.summary
            .contains("answered 3 DHCP messages to 192.168.1.1:67 with ICMP port unreachable"),
        "{}",
        f.summary
    );
    assert!(
        f.explanation
            .contains("nothing listens on UDP 67 at 192.168.1.1"),
        "{}",
        f.explanation
    );
    assert_eq!(
        r.clients[0].transactions, 2,
        "the relayed DISCOVERs, then the last one"
    );
    assert_eq!(
        r.clients[0].outcomes().iter().next(),
        Some(Outcome::NoOffer)
    );

    // A firewall's and a router's words.
    for (code, says) in [
        (13, "a firewall at 10.0.0.254 rejects"),
        (1, "10.0.0.254 cannot reach 192.168.1.1"),
    ] {
        let mut c = Cap::new();
        let (_, payload) = relayed_discover(0x68, 0);
        let f = UdpFrame::new((relay, 67), (SERVER, 67), &payload);
        c.frame(0.0, &f);
        c.icmp(0.001, relay, code, &f);
        c.client(20.0, &discover(0x99, 0));
        let r = c.report();
        let f = finding(&r, Code::ServerUnreachable);
        assert!(f.explanation.contains(says), "{code}: {}", f.explanation);
    }

    // A unicast renewal refused, then the broadcast rebind answered.
    let mut c = Cap::new();
    dora(&mut c, 0.0, 0x69);
    let mut renew = request_msg(MessageType::Request, 0x6a, CLIENT);
    renew.ciaddr = ADDR;
    let payload = renew.encode(300);
    let mut f = UdpFrame::new((ADDR, 68), (SERVER, 67), &payload);
    (f.src_mac, f.dst_mac) = (CLIENT, SERVER_MAC);
    c.frame(1800.0, &f);
    c.icmp(1800.001, SERVER, 3, &f);
    c.frame(1810.0, &f);
    c.icmp(1810.001, SERVER, 3, &f);
    let mut rebind = request_msg(MessageType::Request, 0x6b, CLIENT);
    rebind.ciaddr = ADDR;
    c.client(3150.0, &rebind);
    c.reply(3150.01, &ack(0x6b));
    let r = c.report();
    let f = finding(&r, Code::ServerUnreachable);
    assert_eq!((f.severity, f.explains_failure), (Severity::Warning, false));
    assert!(
        f.explanation.contains("got its lease another way"),
        "{}",
        f.explanation
    );
    // The unanswered renewals say where their answer is.
    let f = finding(&r, Code::RenewUnanswered);
    assert!(
        f.explanation
            .contains("ICMP errors from 192.168.1.1 quote them (frame 6): see server-unreachable."),
        "{}",
        f.explanation
    );
}

/// The boot server's ICMP port unreachables are the evidence of its
/// silence, and make it certain whatever the capture's vantage.
#[test]
fn pxe_boot_server_refused() {
    let mut c = Cap::new();
    for (i, t) in [1.0, 1.25, 1.8].into_iter().enumerate() {
        let mut r = request_msg(MessageType::Request, 0x4012, CLIENT);
        r.ciaddr = ADDR;
        r.secs = 15 + 4 * i as u16;
        let payload = r.encode(300);
        let f = UdpFrame::new((ADDR, 68), (SERVER, 4011), &payload);
        c.frame(t, &f);
        c.icmp(t + 0.0001, SERVER, 3, &f);
    }
    c.client(10.0, &discover(0x99, 0));
    let r = c.report();
    let f = finding(&r, Code::PxeBootServerUnanswered);
    assert_eq!(f.confidence, crate::Confidence::High);
    assert_eq!(f.frames.len(), 6);
    assert!(
        f.explanation
            .contains("answered with ICMP port unreachable (frames 2, 4, 6)"),
        "{}",
        f.explanation
    );
    assert!(!has(&r, Code::ServerUnreachable));
}

/// What a review of `server-unreachable` found, each a case: a refusal by
/// one of two servers the relay forwards to, when the other answered, is
/// no cause; a capture with only the ICMP errors says so; a copy in the
/// same capture (every interface) counts once; a firewall on the way to a
/// boot server is named as one.
#[test]
fn server_unreachable_is_a_cause_only_when_nothing_answered() {
    let relay = Ipv4Addr::new(10, 0, 0, 254);
    let dead = Ipv4Addr::new(10, 0, 0, 9);
    // Forwarded to a dead server and to SERVER, which NAKs.
    let mut c = Cap::new();
    let mut r = request_msg(MessageType::Request, 0x70, CLIENT);
    r.giaddr = Ipv4Addr::new(10, 1, 0, 1);
    r.set_option(code::REQUESTED_IP_ADDRESS, ADDR.octets().to_vec());
    let payload = r.encode(300);
    let to_dead = UdpFrame::new((relay, 67), (dead, 67), &payload);
    c.frame(0.0, &to_dead);
    c.icmp(0.0001, dead, 3, &to_dead);
    c.icmp(0.0002, dead, 3, &to_dead); // the same error again
    c.frame(0.0003, &UdpFrame::new((relay, 67), (SERVER, 67), &payload));
    let nak = reply_msg(MessageType::Nak, 0x70, SERVER, Ipv4Addr::UNSPECIFIED);
    c.reply(0.01, &nak);
    c.client(20.0, &discover(0x99, 0));
    let r = c.report();
    let f = finding(&r, Code::ServerUnreachable);
    assert_eq!((f.severity, f.explains_failure), (Severity::Warning, false));
    assert_eq!(f.frames.len(), 1, "the copy counts once");
    assert!(
        f.explanation.contains("Another server answered"),
        "{}",
        f.explanation
    );
    assert!(
        f.summary.contains("answered a DHCP message to 10.0.0.9:67"),
        "{}",
        f.summary
    );

    // Only the ICMP errors.
    let mut c = Cap::new();
    let (_, payload) = relayed_discover(0x71, 0);
    let f = UdpFrame::new((relay, 67), (dead, 67), &payload);
    c.icmp(0.0, dead, 3, &f);
    c.icmp(1.0, dead, 3, &f);
    let r = c.report();
    let f = finding(&r, Code::ServerUnreachable);
    assert_eq!((f.severity, f.explains_failure), (Severity::Warning, false));
    assert!(
        f.explanation.contains("none of the client's own messages"),
        "{}",
        f.explanation
    );

    // A router's port unreachable on the way to a boot server.
    let mut c = Cap::new();
    let router = Ipv4Addr::new(192, 168, 1, 254);
    for t in [1.0, 1.25, 1.8] {
        let mut q = request_msg(MessageType::Request, 0x72, CLIENT);
        q.ciaddr = ADDR;
        let payload = q.encode(300);
        let f = UdpFrame::new((ADDR, 68), (SERVER, 4011), &payload);
        c.frame(t, &f);
        c.icmp(t + 0.001, router, 13, &f);
    }
    c.client(10.0, &discover(0x99, 0));
    let r = c.report();
    let f = finding(&r, Code::PxeBootServerUnanswered);
    assert!(
        f.explanation
            .contains("192.168.1.254 answered with ICMP destination unreachable, code 13")
            && f.explanation
                .contains("a firewall or router rejects UDP 4011 to 192.168.1.1"),
        "{}",
        f.explanation
    );
}

/// A server's OFFER unicast to the address it offers, refused by the host
/// that already holds it (port unreachable on 68): `reply-unreachable`, the
/// cause of the ignored OFFERs; quoted replies open no transaction.
#[test]
fn reply_unreachable() {
    let mut c = Cap::new();
    for (i, t) in [0.0, 4.0].into_iter().enumerate() {
        c.client(t, &discover(0x80, i as u16 * 4));
        let o = offer(0x80);
        let payload = o.encode(300);
        let f = UdpFrame::new((SERVER, 67), (ADDR, 68), &payload);
        c.frame(t + 0.01, &f);
        c.icmp(t + 0.011, ADDR, 3, &f);
    }
    c.client(30.0, &discover(0x99, 0));
    let r = c.report();
    let f = finding(&r, Code::ReplyUnreachable);
    assert_eq!((f.severity, f.explains_failure), (Severity::Error, true));
    assert_eq!(f.frames.len(), 2);
    assert!(
        f.explanation.contains("another host holds that address"),
        "{}",
        f.explanation
    );
    assert!(!has(&r, Code::ServerUnreachable), "{:?}", codes(&r));
    assert_eq!(r.clients[0].transactions, 2);
}

/// Found in review: partial in both captures, the server's capture (file 1) not
/// holding the client's own packets (a relayed client, or a capture
/// filtered to the server's replies). The client's copy is unfilled too,
/// so this is certain where the client is: before the Sighting change,
/// `at_client` looked at every capture holding the reply (High, "unfilled
/// in every capture"); now it looks only at the first Partial sighting,
/// which is the server's.
#[test]
fn partial_in_both_captures_counts_the_clients_copy() {
    let mut c = Cap::files(2);
    for i in 0..3u16 {
        let t = f64::from(i) * 3.0;
        c.file = 0;
        c.client(t, &discover(0x3d, i * 3));
        c.file = 1;
        c.server(
            t + 0.01,
            SERVER,
            &offer(0x3d),
            Ipv4Addr::BROADCAST,
            ChecksumMode::Partial,
        );
        c.file = 0;
        c.server(
            t + 0.0101,
            SERVER,
            &offer(0x3d),
            Ipv4Addr::BROADCAST,
            ChecksumMode::Partial,
        );
    }
    let r = c.report();
    let f = finding(&r, Code::UdpChecksumPartial);
    assert!(f.explains_failure, "{f:?}");
    assert_eq!(f.confidence, crate::Confidence::High, "{}", f.explanation);
    assert!(
        f.explanation.contains("unfilled in every capture"),
        "{}",
        f.explanation
    );
}

/// Found in review: a client renews by unicast with a server on another subnet
/// (RFC 2131 §4.4.5: RENEWING goes straight to the server, through the
/// client's router). The ACK comes from the server's address, giaddr 0,
/// but from the router's MAC: the servers line gives the router's MAC as
/// the server's.
#[test]
fn routed_renewals_ack_gives_no_server_mac() {
    let server = Ipv4Addr::new(10, 9, 0, 5);
    let router_mac = [0x02, 0, 0, 0, 0x0c, 0x01];
    let client_ip = ADDR;
    let mut c = Cap::new();
    let mut req = request_msg(MessageType::Request, 0x3e, CLIENT);
    req.ciaddr = client_ip;
    let payload = req.encode(300);
    let mut f = UdpFrame::new((client_ip, 68), (server, 67), &payload);
    f.src_mac = CLIENT;
    f.dst_mac = router_mac;
    c.frame(0.0, &f);
    let mut a = reply_msg(MessageType::Ack, 0x3e, server, client_ip);
    a.ciaddr = client_ip;
    let payload = a.encode(300);
    let mut f = UdpFrame::new((server, 67), (client_ip, 68), &payload);
    f.src_mac = router_mac;
    f.dst_mac = CLIENT;
    // Sent with 64, one router on the way.
    f.ttl = 63;
    c.frame(0.02, &f);
    let r = c.report();
    let s = r
        .servers
        .iter()
        .find(|s| s.address == server)
        .expect("server listed");
    assert_ne!(
        s.mac,
        Some(wire::frame::mac_to_string(&router_mac)),
        "the router's MAC is given as the server's"
    );
}

/// Found in review: live, one router refusing a relay's DISCOVERs to a dead server
/// address, the relay sourcing them from two addresses (ISC dhcrelay sends
/// from the giaddr of each client network). At the end that is one finding
/// (reporter, code, direction, destination); live, each source was a new
/// "kind" and told on its own: the same warning twice as it arrives.
#[test]
fn unnamed_refusals_told_live_once_per_finding() {
    let dead = Ipv4Addr::new(10, 9, 9, 9);
    let router = Ipv4Addr::new(10, 0, 0, 1);
    let mut c = Cap::new();
    for (i, src) in [Ipv4Addr::new(10, 1, 0, 1), Ipv4Addr::new(10, 2, 0, 1)]
        .into_iter()
        .enumerate()
    {
        let (_, payload) = relayed_discover(0x80 + i as u32, 0);
        let f = UdpFrame::new((src, 67), (dead, 67), &payload);
        c.frame(i as f64, &f);
        c.icmp_quoting(i as f64 + 0.0001, router, 1, &f, 28);
    }
    let cfg = Config {
        files: vec!["eth0".into()],
        early: true,
        ..Config::default()
    };
    let mut e = Engine::new(cfg, Recorder::default());
    for o in c.tape.clone() {
        e.sink().pushed += 1;
        e.push(o);
    }
    let told: Vec<(Code, usize)> = e
        .sink()
        .findings
        .iter()
        .copied()
        .filter(|(c, _)| *c == Code::ServerUnreachable)
        .collect();
    let (report, _) = e.finish();
    let at_end: Vec<&str> = report
        .global
        .iter()
        .filter(|f| f.code == Code::ServerUnreachable)
        .map(|f| f.summary.as_str())
        .collect();
    assert_eq!(at_end.len(), 1, "{at_end:?}");
    assert_eq!(told.len(), 1, "told live: {told:?}; at the end: {at_end:?}");
}
