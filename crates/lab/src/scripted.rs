//! Scripted clients, built with the project's wire library, for behaviour no
//! installed client has:
//! - a boot ROM (Etherboot 5.4-like) whose retransmitted DISCOVERs keep
//!   `secs` at 0 ([`Secs::Fixed`]);
//! - a strict client that drops every reply whose UDP checksum does not
//!   verify ([`ChecksumPolicy::Strict`]), as old raw-socket clients did, and so
//!   never REQUESTs an offer that arrives with a partial checksum;
//! - a client that reboots into another network with an old lease
//!   ([`Start::InitReboot`]: REQUEST with option 50, no option 54, ciaddr 0).
//!
//! The protocol logic ([`run`]) talks to a [`Transport`] and reads a
//! [`Clock`], so it is tested without a network and without sleeping;
//! [`run_on`] runs it on a host's interface through an `AF_PACKET` socket.
//! Every run is bounded: retransmissions by the schedule, transactions by
//! `max_transactions`, and everything by `deadline`.

use std::fmt;
use std::fs::OpenOptions;
use std::io::Write;
use std::net::Ipv4Addr;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use capture::live::{Direction, KernelChecksum, Options, PacketSocket};
use capture::Timestamp;
use wire::dhcp::code;
use wire::frame::{ChecksumMode, LinkType, UdpFrame};
use wire::{Message, MessageType, Op, UdpChecksum};

use crate::net::{HostId, Network};

/// What the `secs` field says on each transmission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Secs {
    /// Seconds since the client began (RFC 2131 §4.1).
    Elapsed,
    /// Always this value: Etherboot 5.4 sends 0 on every retransmission.
    Fixed(u16),
}

/// Which replies the client accepts, by their UDP checksum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChecksumPolicy {
    /// Accept every reply.
    Any,
    /// Accept only replies whose UDP checksum verifies or is zero, as computed
    /// by `wire` from the bytes (never from the kernel's
    /// `TP_STATUS_CSUMNOTREADY`): a partial checksum left by transmit offload
    /// is dropped.
    Strict,
}

/// Where the client starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// INIT: DISCOVER.
    Init,
    /// INIT-REBOOT with a remembered address: a broadcast REQUEST with option
    /// 50, no option 54 and ciaddr 0; INIT after a NAK or no answer.
    InitReboot(Ipv4Addr),
}

/// A scripted client's behaviour.
#[derive(Debug, Clone)]
pub struct Config {
    /// Client hardware address (also the frames' source MAC).
    pub chaddr: [u8; 6],
    /// xid of the first transaction; each new transaction adds 1.
    pub xid: u32,
    pub secs: Secs,
    /// How long to wait for a reply after each transmission of one message;
    /// its length is the number of transmissions before giving up on it.
    pub schedule: Vec<Duration>,
    /// Transactions (a fresh DISCOVER or INIT-REBOOT REQUEST with a new xid)
    /// allowed before giving up.
    pub max_transactions: u32,
    pub checksum: ChecksumPolicy,
    /// Set the BROADCAST flag.
    pub broadcast: bool,
    /// Options added to every message, after option 53 (and 50/54).
    pub options: Vec<(u8, Vec<u8>)>,
    pub start: Start,
    /// Stop after this long whatever the state.
    pub deadline: Duration,
}

impl Config {
    /// A plain INIT client: secs counting, any checksum, 1-2-4 s
    /// retransmissions, two transactions, 20 s in all.
    pub fn new(chaddr: [u8; 6], xid: u32) -> Config {
        Config {
            chaddr,
            xid,
            secs: Secs::Elapsed,
            schedule: [1, 2, 4].map(Duration::from_secs).to_vec(),
            max_transactions: 2,
            checksum: ChecksumPolicy::Any,
            broadcast: false,
            options: Vec::new(),
            start: Start::Init,
            deadline: Duration::from_secs(20),
        }
    }

    /// An Etherboot 5.4-like boot ROM: `secs` stuck at 0, vendor class
    /// `Etherboot-5.4`, a PXE-style parameter request list.
    pub fn etherboot(chaddr: [u8; 6], xid: u32) -> Config {
        Config {
            secs: Secs::Fixed(0),
            options: vec![
                (code::MAX_DHCP_MESSAGE_SIZE, 1500u16.to_be_bytes().to_vec()),
                (code::VENDOR_CLASS_IDENTIFIER, b"Etherboot-5.4".to_vec()),
                (
                    code::PARAMETER_REQUEST_LIST,
                    vec![1, 3, 6, 12, 15, 17, 43, 60, 66, 67],
                ),
            ],
            ..Config::new(chaddr, xid)
        }
    }
}

/// A frame received by a [`Transport`].
#[derive(Debug, Clone)]
pub struct Frame {
    pub data: Vec<u8>,
    /// What the kernel said about its checksum, when it said anything.
    /// Recorded as evidence; never used to decide.
    pub kernel: Option<KernelChecksum>,
}

/// Sends and receives Ethernet frames.
pub trait Transport {
    fn send(&mut self, frame: &[u8]) -> Result<()>;
    /// The next frame addressed to this host within `timeout`, or `None`.
    fn recv(&mut self, timeout: Duration) -> Result<Option<Frame>>;
}

/// Time since an arbitrary origin.
pub trait Clock {
    fn now(&self) -> Duration;
}

/// The system's monotonic clock.
#[derive(Debug)]
pub struct RealClock(Instant);

impl RealClock {
    pub fn new() -> RealClock {
        RealClock(Instant::now())
    }
}

impl Default for RealClock {
    fn default() -> RealClock {
        RealClock::new()
    }
}

impl Clock for RealClock {
    fn now(&self) -> Duration {
        self.0.elapsed()
    }
}

/// What happened to one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Sent,
    /// Received and acted upon.
    Accepted,
    /// Received and dropped: its UDP checksum failed the policy.
    DroppedChecksum,
}

/// One message sent or received, with the time since the run began.
#[derive(Debug, Clone)]
pub struct Event {
    pub at: Duration,
    pub action: Action,
    pub kind: MessageType,
    pub xid: u32,
    pub secs: u16,
    pub yiaddr: Ipv4Addr,
    pub server_id: Option<Ipv4Addr>,
    pub requested: Option<Ipv4Addr>,
    /// For received messages: the UDP checksum as `wire` classifies it.
    pub checksum: Option<UdpChecksum>,
    pub kernel: Option<KernelChecksum>,
    /// Option 56, for NAKs.
    pub message: Option<String>,
}

impl fmt::Display for Event {
    /// `+1.002s sent DHCPDISCOVER xid=0x… secs=0`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verb = match self.action {
            Action::Sent => "sent",
            Action::Accepted | Action::DroppedChecksum => "received",
        };
        write!(
            f,
            "+{:.3}s {verb} {} xid={:#010x} secs={}",
            self.at.as_secs_f64(),
            self.kind,
            self.xid,
            self.secs
        )?;
        if self.yiaddr != Ipv4Addr::UNSPECIFIED {
            write!(f, " yiaddr={}", self.yiaddr)?;
        }
        if let Some(s) = self.requested {
            write!(f, " requested={s}")?;
        }
        if let Some(s) = self.server_id {
            write!(f, " server-id={s}")?;
        }
        if let Some(c) = self.checksum {
            write!(f, " udp-checksum={}", c.name())?;
        }
        if let Some(k) = self.kernel {
            write!(f, " kernel={k:?}")?;
        }
        if self.action == Action::DroppedChecksum {
            f.write_str(" -> dropped: its UDP checksum does not verify")?;
        }
        if let Some(m) = &self.message {
            write!(f, " message={m:?}")?;
        }
        Ok(())
    }
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Bound {
        addr: Ipv4Addr,
        server: Option<Ipv4Addr>,
        lease: Option<u32>,
    },
    /// Out of transactions or time without a lease.
    NoLease,
}

/// Everything a run did.
#[derive(Debug, Clone)]
pub struct Report {
    pub events: Vec<Event>,
    pub outcome: Outcome,
    /// How long the run took.
    pub duration: Duration,
}

impl Report {
    pub fn count(&self, action: Action, kind: MessageType) -> usize {
        self.events
            .iter()
            .filter(|e| e.action == action && e.kind == kind)
            .count()
    }

    pub fn sent(&self, kind: MessageType) -> usize {
        self.count(Action::Sent, kind)
    }

    /// Received and accepted.
    pub fn accepted(&self, kind: MessageType) -> usize {
        self.count(Action::Accepted, kind)
    }

    /// Received and dropped for their checksum.
    pub fn dropped(&self, kind: MessageType) -> usize {
        self.count(Action::DroppedChecksum, kind)
    }

    /// One line: how it ended and what it took.
    pub fn summary(&self) -> String {
        use MessageType::*;
        let end = match self.outcome {
            Outcome::Bound { addr, server, .. } => format!(
                "bound to {addr} from {}",
                server.map_or("?".into(), |s| s.to_string())
            ),
            Outcome::NoLease => "gave up without a lease".into(),
        };
        format!(
            "{end} after {:.1} s: sent {} DISCOVER, {} REQUEST; accepted {} OFFER, {} ACK, {} NAK; \
             dropped {} reply(ies) for their UDP checksum",
            self.duration.as_secs_f64(),
            self.sent(Discover),
            self.sent(Request),
            self.accepted(Offer),
            self.accepted(Ack),
            self.accepted(Nak),
            self.events
                .iter()
                .filter(|e| e.action == Action::DroppedChecksum)
                .count()
        )
    }

    pub fn bound_to(&self) -> Option<Ipv4Addr> {
        match self.outcome {
            Outcome::Bound { addr, .. } => Some(addr),
            Outcome::NoLease => None,
        }
    }
}

/// The client's state machine, on any transport and clock.
pub fn run(cfg: &Config, net: &mut dyn Transport, clock: &dyn Clock) -> Result<Report> {
    Machine {
        cfg,
        net,
        clock,
        t0: clock.now(),
        events: Vec::new(),
    }
    .run()
}

struct Machine<'a> {
    cfg: &'a Config,
    net: &'a mut dyn Transport,
    clock: &'a dyn Clock,
    t0: Duration,
    events: Vec<Event>,
}

/// A reply the machine accepted.
struct Reply {
    kind: MessageType,
    yiaddr: Ipv4Addr,
    server_id: Option<Ipv4Addr>,
    lease: Option<u32>,
}

enum Step {
    Bound(Outcome),
    /// Go (back) to INIT with a new transaction.
    Init,
}

impl Machine<'_> {
    fn elapsed(&self) -> Duration {
        self.clock.now().saturating_sub(self.t0)
    }

    fn out_of_time(&self) -> bool {
        self.elapsed() >= self.cfg.deadline
    }

    fn run(mut self) -> Result<Report> {
        let mut xid = self.cfg.xid;
        let mut start = self.cfg.start;
        let mut outcome = Outcome::NoLease;
        for _ in 0..self.cfg.max_transactions {
            if self.out_of_time() {
                break;
            }
            let step = match start {
                Start::Init => self.init(xid)?,
                Start::InitReboot(addr) => self.init_reboot(xid, addr)?,
            };
            match step {
                Step::Bound(o) => {
                    outcome = o;
                    break;
                }
                Step::Init => {
                    start = Start::Init;
                    xid = xid.wrapping_add(1);
                }
            }
        }
        Ok(Report {
            duration: self.elapsed(),
            events: self.events,
            outcome,
        })
    }

    /// DISCOVER until an acceptable OFFER, then REQUEST it.
    fn init(&mut self, xid: u32) -> Result<Step> {
        let Some(offer) = self.exchange(xid, MessageType::Discover, None, &[MessageType::Offer])?
        else {
            return Ok(Step::Init);
        };
        let Some(reply) = self.exchange(
            xid,
            MessageType::Request,
            Some((offer.yiaddr, offer.server_id)),
            &[MessageType::Ack, MessageType::Nak],
        )?
        else {
            return Ok(Step::Init);
        };
        Ok(self.bound_or_init(reply))
    }

    fn init_reboot(&mut self, xid: u32, addr: Ipv4Addr) -> Result<Step> {
        let reply = self.exchange(
            xid,
            MessageType::Request,
            Some((addr, None)),
            &[MessageType::Ack, MessageType::Nak],
        )?;
        Ok(reply.map_or(Step::Init, |r| self.bound_or_init(r)))
    }

    fn bound_or_init(&self, reply: Reply) -> Step {
        if reply.kind == MessageType::Ack {
            Step::Bound(Outcome::Bound {
                addr: reply.yiaddr,
                server: reply.server_id,
                lease: reply.lease,
            })
        } else {
            Step::Init
        }
    }

    /// Sends `kind` on the schedule until an accepted reply of one of `want`.
    fn exchange(
        &mut self,
        xid: u32,
        kind: MessageType,
        request: Option<(Ipv4Addr, Option<Ipv4Addr>)>,
        want: &[MessageType],
    ) -> Result<Option<Reply>> {
        for wait in self.cfg.schedule.clone() {
            if self.out_of_time() {
                return Ok(None);
            }
            self.send(xid, kind, request)?;
            let until = (self.elapsed() + wait).min(self.cfg.deadline);
            if let Some(r) = self.await_reply(xid, want, until)? {
                return Ok(Some(r));
            }
        }
        Ok(None)
    }

    fn secs(&self) -> u16 {
        match self.cfg.secs {
            Secs::Elapsed => self.elapsed().as_secs().min(u64::from(u16::MAX)) as u16,
            Secs::Fixed(v) => v,
        }
    }

    fn send(
        &mut self,
        xid: u32,
        kind: MessageType,
        request: Option<(Ipv4Addr, Option<Ipv4Addr>)>,
    ) -> Result<()> {
        let secs = self.secs();
        let bytes = build(self.cfg, xid, secs, kind, request);
        let mut f = UdpFrame::new(
            (Ipv4Addr::UNSPECIFIED, 68),
            (Ipv4Addr::BROADCAST, 67),
            &bytes,
        );
        f.src_mac = self.cfg.chaddr;
        f.checksum = ChecksumMode::Full;
        self.net.send(&f.ethernet_frame())?;
        self.events.push(Event {
            at: self.elapsed(),
            action: Action::Sent,
            kind,
            xid,
            secs,
            yiaddr: Ipv4Addr::UNSPECIFIED,
            server_id: request.and_then(|r| r.1),
            requested: request.map(|r| r.0),
            checksum: None,
            kernel: None,
            message: None,
        });
        Ok(())
    }

    /// Receives until `until` (time since start) for a reply to `xid`.
    fn await_reply(
        &mut self,
        xid: u32,
        want: &[MessageType],
        until: Duration,
    ) -> Result<Option<Reply>> {
        loop {
            let now = self.elapsed();
            if now >= until {
                return Ok(None);
            }
            let Some(frame) = self.net.recv(until - now)? else {
                continue;
            };
            let Some((reply, checksum, event)) = self.read_reply(&frame, xid) else {
                continue;
            };
            let accepted = match self.cfg.checksum {
                ChecksumPolicy::Any => true,
                ChecksumPolicy::Strict => checksum.accepted_by_strict_receiver(),
            };
            let mut event = event;
            event.action = if accepted {
                Action::Accepted
            } else {
                Action::DroppedChecksum
            };
            self.events.push(event);
            if accepted && want.contains(&reply.kind) {
                return Ok(Some(reply));
            }
        }
    }

    /// A BOOTREPLY to us (our chaddr, this xid, UDP to port 68), decoded.
    fn read_reply(&self, frame: &Frame, xid: u32) -> Option<(Reply, UdpChecksum, Event)> {
        let d = wire::packet::decode(LinkType::Ethernet, &frame.data, frame.data.len())
            .ok()
            .flatten()?;
        if d.frame.udp.dst_port != 68 {
            return None;
        }
        let m = d.message?;
        if m.op != Op::BootReply || m.xid != xid || m.chaddr().as_bytes() != self.cfg.chaddr {
            return None;
        }
        let kind = m.message_type()?;
        let checksum = d.frame.udp.checksum;
        let reply = Reply {
            kind,
            yiaddr: m.yiaddr,
            server_id: m.server_id(),
            lease: m.lease_time(),
        };
        let event = Event {
            at: self.elapsed(),
            action: Action::Accepted,
            kind,
            xid,
            secs: m.secs,
            yiaddr: m.yiaddr,
            server_id: m.server_id(),
            requested: None,
            checksum: Some(checksum),
            kernel: frame.kernel,
            message: m
                .option(code::MESSAGE)
                .map(|v| String::from_utf8_lossy(&v).into_owned()),
        };
        Some((reply, checksum, event))
    }
}

/// The DHCP message a scripted client sends.
fn build(
    cfg: &Config,
    xid: u32,
    secs: u16,
    kind: MessageType,
    request: Option<(Ipv4Addr, Option<Ipv4Addr>)>,
) -> Vec<u8> {
    let mut m = Message::new(Op::BootRequest, xid, &cfg.chaddr);
    m.secs = secs;
    if cfg.broadcast {
        m.flags = wire::dhcp::FLAG_BROADCAST;
    }
    m.set_option(code::DHCP_MESSAGE_TYPE, vec![u8::from(kind)]);
    if let Some((addr, server)) = request {
        m.set_option(code::REQUESTED_IP_ADDRESS, addr.octets().to_vec());
        if let Some(s) = server {
            m.set_option(code::SERVER_IDENTIFIER, s.octets().to_vec());
        }
    }
    for (c, v) in &cfg.options {
        m.set_option(*c, v.clone());
    }
    m.encode(wire::dhcp::BOOTP_MIN_LEN)
}

/// A [`Transport`] over an `AF_PACKET` socket. Frames the host sent itself
/// are skipped.
#[derive(Debug)]
pub struct SocketTransport(pub PacketSocket);

impl Transport for SocketTransport {
    fn send(&mut self, frame: &[u8]) -> Result<()> {
        Ok(self.0.send(frame)?)
    }

    fn recv(&mut self, timeout: Duration) -> Result<Option<Frame>> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let Some(p) = self.0.recv(Some(left))? else {
                return Ok(None);
            };
            if p.direction != Direction::Outgoing {
                return Ok(Some(Frame {
                    data: p.data,
                    kernel: Some(p.checksum),
                }));
            }
            if left.is_zero() {
                return Ok(None);
            }
        }
    }
}

/// Runs a scripted client on `eth<iface>` of `host`, writing what it does to
/// `<name>.log` in the run directory (stamped like syslog).
pub fn run_on(
    net: &Network,
    host: HostId,
    iface: usize,
    name: &str,
    cfg: &Config,
) -> Result<Report> {
    let h = net.host(host);
    let sock = h.packet_socket(&h.iface(iface).name, Options::default())?;
    let wall0 = Timestamp::now();
    let report = run(cfg, &mut SocketTransport(sock), &RealClock::new())?;
    let path = net.dir().join(format!("{name}.log"));
    write_log(&path, h.name(), name, wall0, &report)?;
    Ok(report)
}

fn write_log(path: &Path, host: &str, name: &str, wall0: Timestamp, r: &Report) -> Result<()> {
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("opening {}", path.display()))?;
    let pid = std::process::id();
    for e in &r.events {
        let t = Timestamp(wall0.0 + e.at.as_nanos() as i64);
        writeln!(
            f,
            "{} {host} {name}[{pid}]: {e}",
            crate::process::syslog_time(t)
        )?;
    }
    let t = Timestamp(wall0.0 + r.duration.as_nanos() as i64);
    writeln!(
        f,
        "{} {host} {name}[{pid}]: {}",
        crate::process::syslog_time(t),
        r.summary()
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;
    use std::rc::Rc;

    const MAC: [u8; 6] = [2, 0, 0, 0x42, 1, 1];
    const SERVER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
    const ADDR: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 100);

    /// A clock the fake network moves.
    #[derive(Clone, Default)]
    struct FakeClock(Rc<Cell<Duration>>);

    impl Clock for FakeClock {
        fn now(&self) -> Duration {
            self.0.get()
        }
    }

    type Responder = Box<dyn FnMut(&Message) -> Option<(MessageType, ChecksumMode)>>;

    /// A fake server: answers each client message (decoded) with frames
    /// after a delay, or stays silent.
    struct FakeNet {
        clock: FakeClock,
        server: Responder,
        queue: Vec<(Duration, Frame)>,
        sent: Vec<Message<'static>>,
    }

    impl FakeNet {
        fn new(
            server: impl FnMut(&Message) -> Option<(MessageType, ChecksumMode)> + 'static,
        ) -> FakeNet {
            FakeNet {
                clock: FakeClock::default(),
                server: Box::new(server),
                queue: Vec::new(),
                sent: Vec::new(),
            }
        }
    }

    fn reply(to: &Message, kind: MessageType, mode: ChecksumMode) -> Vec<u8> {
        let mut m = Message::new(Op::BootReply, to.xid, to.chaddr().as_bytes());
        m.yiaddr = if kind == MessageType::Nak {
            Ipv4Addr::UNSPECIFIED
        } else {
            ADDR
        };
        m.set_option(code::DHCP_MESSAGE_TYPE, vec![u8::from(kind)]);
        m.set_option(code::SERVER_IDENTIFIER, SERVER.octets().to_vec());
        if kind == MessageType::Nak {
            m.set_option(code::MESSAGE, b"wrong network".to_vec());
        } else {
            m.set_option(code::IP_ADDRESS_LEASE_TIME, 60u32.to_be_bytes().to_vec());
        }
        let bytes = m.encode(300);
        let mut f = UdpFrame::new((SERVER, 67), (ADDR, 68), &bytes);
        f.dst_mac = MAC;
        f.checksum = mode;
        f.ethernet_frame()
    }

    impl Transport for FakeNet {
        fn send(&mut self, frame: &[u8]) -> Result<()> {
            let d = wire::packet::decode(LinkType::Ethernet, frame, frame.len())
                .unwrap()
                .unwrap();
            assert_eq!(d.frame.udp.checksum, UdpChecksum::Valid);
            assert_eq!(d.frame.link.src_mac, Some(MAC));
            let m = d.message.unwrap().into_owned();
            if let Some((kind, mode)) = (self.server)(&m) {
                let at = self.clock.0.get() + Duration::from_millis(5);
                self.queue.push((
                    at,
                    Frame {
                        data: reply(&m, kind, mode),
                        kernel: None,
                    },
                ));
            }
            self.sent.push(m);
            Ok(())
        }

        fn recv(&mut self, timeout: Duration) -> Result<Option<Frame>> {
            let now = self.clock.0.get();
            if let Some(i) = self.queue.iter().position(|(at, _)| *at <= now + timeout) {
                let (at, f) = self.queue.remove(i);
                self.clock.0.set(at.max(now));
                return Ok(Some(f));
            }
            self.clock.0.set(now + timeout);
            Ok(None)
        }
    }

    fn kind(m: &Message) -> MessageType {
        m.message_type().unwrap()
    }

    #[test]
    fn a_plain_client_binds_with_secs_counting() {
        let mut net = FakeNet::new(|m| match kind(m) {
            MessageType::Discover if m.secs >= 2 => Some((MessageType::Offer, ChecksumMode::Full)),
            MessageType::Request => Some((MessageType::Ack, ChecksumMode::Full)),
            _ => None,
        });
        let clock = net.clock.clone();
        let r = run(&Config::new(MAC, 7), &mut net, &clock).unwrap();
        assert_eq!(r.bound_to(), Some(ADDR));
        let secs: Vec<u16> = net.sent.iter().map(|m| m.secs).collect();
        // DISCOVER at 0 s and 1 s ignored (min-secs 2), answered at 3 s; REQUEST.
        assert_eq!(secs, vec![0, 1, 3, 3]);
        assert!(net.sent.iter().all(|m| m.xid == 7));
        let req = &net.sent[3];
        assert_eq!(req.requested_ip(), Some(ADDR));
        assert_eq!(req.server_id(), Some(SERVER));
    }

    #[test]
    fn the_rom_keeps_secs_at_zero_and_gets_nothing_from_min_secs() {
        let mut net =
            FakeNet::new(|m| (m.secs >= 2).then_some((MessageType::Offer, ChecksumMode::Full)));
        let clock = net.clock.clone();
        let r = run(&Config::etherboot(MAC, 1), &mut net, &clock).unwrap();
        assert_eq!(r.outcome, Outcome::NoLease);
        assert_eq!(
            r.sent(MessageType::Discover),
            6,
            "3 per transaction, 2 transactions"
        );
        assert!(net.sent.iter().all(|m| m.secs == 0));
        assert_eq!(net.sent[3].xid, 2, "the second transaction has a new xid");
        assert_eq!(
            net.sent[0].option(code::VENDOR_CLASS_IDENTIFIER).as_deref(),
            Some(&b"Etherboot-5.4"[..])
        );
        // Bounded in time: 1 + 2 + 4 s per transaction.
        assert_eq!(clock.now(), Duration::from_secs(14));
    }

    #[test]
    fn the_strict_client_drops_partial_checksums_and_never_requests() {
        let mut net = FakeNet::new(|m| match kind(m) {
            MessageType::Discover => Some((MessageType::Offer, ChecksumMode::Partial)),
            _ => Some((MessageType::Ack, ChecksumMode::Partial)),
        });
        let clock = net.clock.clone();
        let cfg = Config {
            checksum: ChecksumPolicy::Strict,
            ..Config::new(MAC, 1)
        };
        let r = run(&cfg, &mut net, &clock).unwrap();
        assert_eq!(r.outcome, Outcome::NoLease);
        assert_eq!(r.sent(MessageType::Request), 0);
        assert_eq!(r.sent(MessageType::Discover), 6);
        assert_eq!(r.dropped(MessageType::Offer), 6);
        let e = r
            .events
            .iter()
            .find(|e| e.action == Action::DroppedChecksum)
            .unwrap();
        assert!(matches!(e.checksum, Some(UdpChecksum::Partial { .. })));
    }

    #[test]
    fn the_strict_client_accepts_full_and_zero_checksums() {
        for mode in [ChecksumMode::Full, ChecksumMode::Zero] {
            let mut net = FakeNet::new(move |m| match kind(m) {
                MessageType::Discover => Some((MessageType::Offer, mode)),
                _ => Some((MessageType::Ack, mode)),
            });
            let clock = net.clock.clone();
            let cfg = Config {
                checksum: ChecksumPolicy::Strict,
                ..Config::new(MAC, 1)
            };
            assert_eq!(run(&cfg, &mut net, &clock).unwrap().bound_to(), Some(ADDR));
        }
    }

    #[test]
    fn a_tolerant_client_takes_partial_checksums() {
        let mut net = FakeNet::new(|m| match kind(m) {
            MessageType::Discover => Some((MessageType::Offer, ChecksumMode::Partial)),
            _ => Some((MessageType::Ack, ChecksumMode::Partial)),
        });
        let clock = net.clock.clone();
        let r = run(&Config::new(MAC, 1), &mut net, &clock).unwrap();
        assert_eq!(r.bound_to(), Some(ADDR));
        assert_eq!(r.dropped(MessageType::Offer), 0);
    }

    #[test]
    fn init_reboot_sends_option_50_only_and_falls_back_to_init_after_a_nak() {
        let old = Ipv4Addr::new(192, 168, 77, 23);
        let mut net = FakeNet::new(move |m| match kind(m) {
            MessageType::Request if m.requested_ip() == Some(old) => {
                Some((MessageType::Nak, ChecksumMode::Full))
            }
            MessageType::Discover => Some((MessageType::Offer, ChecksumMode::Full)),
            MessageType::Request => Some((MessageType::Ack, ChecksumMode::Full)),
            _ => None,
        });
        let clock = net.clock.clone();
        let cfg = Config {
            start: Start::InitReboot(old),
            broadcast: true,
            ..Config::new(MAC, 9)
        };
        let r = run(&cfg, &mut net, &clock).unwrap();
        let first = &net.sent[0];
        assert_eq!(kind(first), MessageType::Request);
        assert_eq!(first.requested_ip(), Some(old));
        assert_eq!(first.server_id(), None);
        assert_eq!(first.ciaddr, Ipv4Addr::UNSPECIFIED);
        assert!(first.broadcast());
        assert_eq!(r.accepted(MessageType::Nak), 1);
        let nak = r
            .events
            .iter()
            .find(|e| e.kind == MessageType::Nak)
            .unwrap();
        assert_eq!(nak.message.as_deref(), Some("wrong network"));
        assert_eq!(kind(&net.sent[1]), MessageType::Discover);
        assert_eq!(net.sent[1].xid, 10);
        assert_eq!(r.bound_to(), Some(ADDR));
    }

    #[test]
    fn replies_to_other_clients_and_other_xids_are_ignored() {
        let mut net = FakeNet::new(|_| None);
        let clock = net.clock.clone();
        let mut other = Message::new(Op::BootRequest, 1, &[2, 0, 0, 0x42, 9, 9]);
        other.set_option(code::DHCP_MESSAGE_TYPE, vec![1]);
        net.queue.push((
            Duration::ZERO,
            Frame {
                data: reply(&other, MessageType::Offer, ChecksumMode::Full),
                kernel: None,
            },
        ));
        let cfg = Config {
            max_transactions: 1,
            schedule: vec![Duration::from_secs(1)],
            ..Config::new(MAC, 1)
        };
        let r = run(&cfg, &mut net, &clock).unwrap();
        assert_eq!(r.outcome, Outcome::NoLease);
        assert_eq!(r.events.len(), 1, "{:?}", r.events);
    }

    #[test]
    fn the_deadline_bounds_everything() {
        let mut net = FakeNet::new(|_| None);
        let clock = net.clock.clone();
        let cfg = Config {
            max_transactions: 1000,
            deadline: Duration::from_secs(5),
            ..Config::new(MAC, 1)
        };
        let r = run(&cfg, &mut net, &clock).unwrap();
        assert_eq!(r.outcome, Outcome::NoLease);
        assert!(clock.now() <= Duration::from_secs(5));
        assert!(r.sent(MessageType::Discover) <= 4);
    }
}
