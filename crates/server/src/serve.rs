//! The server on an interface: requests from an `AF_PACKET` socket (it sees
//! broadcasts from clients without an address, as ISC dhcpd's LPF does),
//! replies as raw Ethernet frames to clients without an address and
//! through a UDP socket on port 67 to relays and to clients with one.
//!
//! The UDP socket also keeps the kernel from answering unicast requests
//! (renewals, relayed requests) with ICMP port unreachable; what it
//! receives is discarded, since the packet socket saw it already.

use std::io::{self, Write as _};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use capture::live::{Direction, KernelChecksum, LivePacket, Options, PacketSocket};
use socket2::{Domain, Protocol, Socket, Type};
use wire::frame::UdpFrame;
use wire::LinkType;

use crate::handle::{Action, Arrival, Decision, Dest, Server};

/// An interface to serve on.
pub struct Listener {
    packets: PacketSocket,
    udp: Socket,
    iface: String,
    addr: Ipv4Addr,
    started: Instant,
    /// Where leases are saved after every change.
    store: Option<std::path::PathBuf>,
    /// The ping check, and how long it waits for an answer.
    ping: Option<(crate::ping::Pinger, Duration)>,
    /// The ping check has failed once (said once).
    ping_failed: bool,
    /// The datagrams whose first fragment was dropped as `fragmented`
    /// (the last few), with that decision: a later fragment that reaches
    /// the socket is told as that too. Live, none does: the kernel filter
    /// drops every later fragment (it cannot tell a later fragment's
    /// ports, and passing all would flood the socket on a busy link), so
    /// only the first fragment is seen.
    fragmented: Vec<(wire::frame::FragmentKey, Decision)>,
    /// Whether the interface is down (or deleted), to say once each.
    link: capture::live::LinkState,
}

/// How many fragmented requests are remembered for their later fragments.
const FRAGMENTED_KEPT: usize = 16;

/// At most this many addresses are probed for one request.
const MAX_PROBES: usize = 4;

impl Listener {
    /// Opens `iface` (whose address is `addr`): needs `CAP_NET_RAW` and
    /// `CAP_NET_BIND_SERVICE`.
    pub fn open(iface: &str, addr: Ipv4Addr) -> io::Result<Listener> {
        let packets = PacketSocket::open(
            iface,
            Options {
                promiscuous: false,
                unfiltered: false,
            },
        )?;
        let udp = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
        udp.set_broadcast(true)?;
        udp.bind_device(Some(iface.as_bytes()))
            .map_err(|e| io::Error::new(e.kind(), format!("binding to {iface}: {e}")))?;
        udp.bind(&SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 67).into())
            .map_err(|e| {
                let hint = if e.kind() == io::ErrorKind::AddrInUse {
                    " (another DHCP server or relay on this host holds it)"
                } else {
                    ""
                };
                io::Error::new(
                    e.kind(),
                    format!("binding UDP port 67 on {iface}: {e}{hint}"),
                )
            })?;
        udp.set_nonblocking(true)?;
        Ok(Listener {
            packets,
            udp,
            iface: iface.to_string(),
            addr,
            started: Instant::now(),
            store: None,
            ping: None,
            ping_failed: false,
            fragmented: Vec::new(),
            link: capture::live::LinkState::default(),
        })
    }

    /// Pings every address before offering it to a client it is new to,
    /// waiting `wait` for an answer; an address that answers is kept out
    /// of use and another is offered. At most four addresses are probed
    /// for one request; if all answer, it gets no offer. The wait holds up
    /// the loop (every other request waits too): a check for small networks,
    /// as ISC dhcpd's and dnsmasq's are in effect.
    pub fn ping_check(&mut self, wait: Duration) -> io::Result<()> {
        self.ping = Some((crate::ping::Pinger::open(&self.iface)?, wait));
        Ok(())
    }

    /// Saves the leases to `path` after every ACK, RELEASE and DECLINE (and
    /// address found in use), before the reply goes out.
    pub fn persist_to(&mut self, path: &std::path::Path) {
        self.store = Some(path.to_path_buf());
    }

    /// The server's clocks now (lease times are on the first).
    pub fn now(&self) -> crate::store::Now {
        let unix_s = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        crate::store::Now {
            ms: self.started.elapsed().as_millis() as u64,
            unix_s,
        }
    }

    /// Serves until `stop` is set or `until` passes; `on` hears of every
    /// request, with what became of it.
    pub fn run(
        &mut self,
        server: &mut Server,
        stop: &AtomicBool,
        until: Option<Instant>,
        mut on: impl FnMut(&Exchange<'_>),
    ) -> io::Result<()> {
        let mut scratch = [std::mem::MaybeUninit::<u8>::uninit(); 2048];
        while !stop.load(Ordering::Relaxed) {
            let now = Instant::now();
            if until.is_some_and(|u| now >= u) {
                break;
            }
            let wait = until.map_or(Duration::from_millis(200), |u| {
                u.saturating_duration_since(now)
                    .min(Duration::from_millis(200))
            });
            let got = match self.packets.recv(Some(wait)) {
                Ok(got) => got,
                // The interface went down: keep the leases and wait for it,
                // saying so (and, if it was deleted, that this socket will
                // not see it again).
                Err(e) if capture::live::is_link_down(&e) => {
                    let said = self
                        .link
                        .error(Instant::now(), || self.packets.interface_deleted());
                    for event in said {
                        self.say_link(event, Some(&e));
                    }
                    std::thread::sleep(Duration::from_millis(500));
                    continue;
                }
                Err(e) => return Err(e),
            };
            let event = match &got {
                Some(_) => self.link.received(),
                None => self
                    .link
                    .idle(Instant::now(), || self.packets.interface_deleted()),
            };
            if let Some(event) = event {
                self.say_link(event, None);
            }
            // What the UDP socket queued is a copy of what the packet socket saw.
            while self.udp.recv(&mut scratch).is_ok() {}
            let Some(p) = got else { continue };
            if p.direction == Direction::Outgoing {
                continue;
            }
            let f = match wire::frame::decode(LinkType::Ethernet, &p.data, p.orig_len) {
                Ok(f) => f,
                Err(wire::frame::Skip::Fragment) => {
                    // A later fragment of a request whose first was dropped:
                    // told as that request (its bytes hold no header). The
                    // kernel filter drops later fragments, so live this is
                    // not reached; kept for a socket that passes them.
                    let key = wire::frame::continued_datagram(LinkType::Ethernet, &p.data);
                    if let Some((_, first)) = self.fragmented.iter().find(|(k, _)| Some(*k) == key)
                    {
                        let d = later_fragment(first);
                        on(&Exchange {
                            earlier: &[],
                            decision: &d,
                            request: &p,
                            reply: None,
                            error: None,
                            store_error: None,
                            continues: true,
                        });
                    }
                    continue;
                }
                Err(_) => continue,
            };
            if f.udp.dst_port != 67 {
                continue;
            }
            let at = Arrival {
                iface: &self.iface,
                iface_addr: self.addr,
                broadcast: f.ip.dst == Ipv4Addr::BROADCAST || p.data.starts_with(&[0xff; 6]),
                now_ms: self.started.elapsed().as_millis() as u64,
            };
            let mut earlier = Vec::new();
            let mut d = match refusal(&f, &p, server.config().subnet_of(self.addr), self.addr) {
                Some(r) => server.refuse(f.payload, r),
                None => server.handle(f.payload, &at),
            };
            if let Some(key) = first_fragment_of(&f) {
                if self.fragmented.len() == FRAGMENTED_KEPT {
                    self.fragmented.remove(0);
                }
                self.fragmented.push((key, d.clone()));
            }
            if let Some((pinger, wait)) = &mut self.ping {
                while d.fresh && d.action == Action::Offer {
                    let Some(a) = d.address else { break };
                    // A ping that cannot be sent is no answer: the offer goes
                    // out unprobed, and the operator hears of it once.
                    let answered = pinger.answered(a, *wait).unwrap_or_else(|e| {
                        if !self.ping_failed {
                            self.ping_failed = true;
                            // (A closed stderr must not take the server down.)
                            let _ = writeln!(
                                std::io::stderr().lock(),
                                "dhcplens: the ping check failed ({e}); offering without it"
                            );
                        }
                        false
                    });
                    if !answered {
                        break;
                    }
                    let now_ms = self.started.elapsed().as_millis() as u64;
                    let conflict = server.ping_answered(&d, now_ms);
                    if earlier.len() + 1 == MAX_PROBES {
                        // Every address probed was in use: no offer.
                        d = conflict;
                        break;
                    }
                    earlier.push(conflict);
                    d = server.handle(f.payload, &Arrival { now_ms, ..at });
                }
            }
            // The lease is on disk before the client hears of it (as ISC
            // dhcpd commits before it ACKs).
            let changed = !earlier.is_empty()
                || matches!(d.action, Action::Ack | Action::Release | Action::Decline);
            let store_error = match &self.store {
                Some(path) if changed => {
                    crate::store::save(server.leases(), self.now(), path).err()
                }
                _ => None,
            };
            let (reply, error) = match &d.reply {
                Some((m, to)) => match self.send(m, *to, server) {
                    Ok(sent) => (Some(sent), None),
                    Err(e) => (None, Some(e)),
                },
                None => (None, None),
            };
            on(&Exchange {
                earlier: &earlier,
                decision: &d,
                request: &p,
                reply,
                error,
                store_error,
                continues: false,
            });
        }
        Ok(())
    }

    /// Says on stderr (once each) that the interface went down, was
    /// deleted, or receives again.
    fn say_link(&self, event: capture::live::LinkEvent, error: Option<&io::Error>) {
        let line = link_line(&self.iface, event, error);
        // (A closed stderr must not take the server down.)
        let _ = writeln!(std::io::stderr().lock(), "dhcplens: {line}");
    }

    /// Sends `m`; returns it as the frame that left (for a reply through
    /// the UDP socket, the IPv4 packet the kernel will have built).
    fn send(&self, m: &wire::Message<'_>, to: Dest, server: &Server) -> io::Result<Sent> {
        let payload = m.encode(wire::dhcp::BOOTP_MIN_LEN);
        let src = server.config().server_id;
        let (ip, mac) = match to {
            Dest::Relay(ip) | Dest::Unicast(ip) => {
                let port = if matches!(to, Dest::Relay(_)) { 67 } else { 68 };
                self.udp
                    .send_to(&payload, &SocketAddrV4::new(ip, port).into())?;
                let frame = UdpFrame::new((src, 67), (ip, port), &payload).ipv4_packet();
                return Ok(Sent::now(LinkType::Ipv4, frame));
            }
            Dest::Broadcast => (Ipv4Addr::BROADCAST, [0xff; 6]),
            Dest::Hardware { ip, mac } => (ip, mac),
        };
        let mut f = UdpFrame::new((src, 67), (ip, 68), &payload);
        f.src_mac = self.packets.mac();
        f.dst_mac = mac;
        let frame = f.ethernet_frame();
        self.packets.send(&frame)?;
        Ok(Sent::now(LinkType::Ethernet, frame))
    }
}

/// The start of a log line as `dhcplens serve` writes it, before
/// [`Decision::line`]: `2026-12-07T12:15:10.871006Z dhcplens[31118]:` (an
/// RFC 3339 stamp and a syslog tag, so that `logs` reads it back as the
/// program `dhcplens`).
pub fn log_head(stamp: impl std::fmt::Display) -> String {
    format!("{stamp} dhcplens[{}]:", std::process::id())
}

/// What `serve` says on stderr when `iface` goes down, is found deleted,
/// or receives again.
fn link_line(iface: &str, event: capture::live::LinkEvent, error: Option<&io::Error>) -> String {
    use capture::live::LinkEvent;
    match event {
        LinkEvent::Down => format!(
            "{iface} is down{}; the leases are kept, waiting for it to come back",
            error.map_or(String::new(), |e| format!(" ({e})"))
        ),
        LinkEvent::Deleted => format!(
            "{iface} was deleted (or replaced by a new interface of its name): \
             this server will not receive on it again; restart dhcplens serve \
             once the interface is back"
        ),
        LinkEvent::Up => format!("{iface} receives again"),
    }
}

/// For the first IPv4 fragment of a datagram (More Fragments set, offset
/// 0), the datagram it starts.
fn first_fragment_of(f: &wire::Frame<'_>) -> Option<wire::frame::FragmentKey> {
    f.anomalies
        .iter()
        .any(|a| matches!(a.kind, wire::AnomalyKind::Ipv4Fragment { .. }))
        .then_some((f.ip.src, f.ip.dst, f.ip.identification))
}

/// The decision told for a later fragment of the request `first` was
/// decided for (dropped as the first fragment of a request too large).
fn later_fragment(first: &Decision) -> Decision {
    Decision {
        action: Action::Drop,
        address: None,
        reason: Some(crate::Reason::Fragmented { first: false }),
        reply: None,
        fresh: false,
        ..first.clone()
    }
}

/// Why a frame that reached port 67 is not decided at all: a VLAN tag
/// (its client is on a VLAN this interface does not serve untagged), an
/// IPv4 fragment (the first of a request larger than the MTU: only its
/// start is here, and nothing reassembles it), a checksum the kernel's UDP
/// stack would reject (a partial one is accepted when the kernel says it
/// is this host's own offload), or another host's address (a relay's
/// unicast passing through a forwarding host).
fn refusal(
    f: &wire::Frame<'_>,
    p: &LivePacket,
    own: Option<&crate::config::Subnet>,
    addr: Ipv4Addr,
) -> Option<crate::Reason> {
    use crate::Reason;
    use wire::UdpChecksum;
    if let Some(&vid) = f.link.vlans.as_slice().iter().find(|v| **v != 0) {
        return Some(Reason::VlanTagged { vid });
    }
    if first_fragment_of(f).is_some() {
        return Some(Reason::Fragmented { first: true });
    }
    let ip_bad = f
        .anomalies
        .iter()
        .any(|a| matches!(a.kind, wire::AnomalyKind::Ipv4ChecksumInvalid { .. }));
    if ip_bad {
        return Some(Reason::BadChecksum {
            what: "the IPv4 header checksum does not verify".into(),
        });
    }
    match f.udp.checksum {
        UdpChecksum::Invalid { found, expected } => {
            return Some(Reason::BadChecksum {
                what: format!("UDP checksum 0x{found:04x}, 0x{expected:04x} expected"),
            })
        }
        UdpChecksum::Partial { found } if p.checksum != KernelChecksum::NotReady => {
            return Some(Reason::BadChecksum {
                what: format!(
                    "UDP checksum 0x{found:04x} is only the pseudo-header sum (the sender's transmit offload never filled it)"
                ),
            })
        }
        _ => {}
    }
    let to = f.ip.dst;
    let ours = to == Ipv4Addr::BROADCAST || to == addr || own.is_some_and(|s| to == s.broadcast());
    (!ours).then_some(Reason::NotForThisServer { to })
}

/// One request and what became of it.
pub struct Exchange<'a> {
    /// Decisions taken back before the final one: offers whose address
    /// answered the ping check.
    pub earlier: &'a [Decision],
    pub decision: &'a Decision,
    /// The request as received (an Ethernet frame).
    pub request: &'a LivePacket,
    pub reply: Option<Sent>,
    /// Why the reply could not be sent.
    pub error: Option<io::Error>,
    /// Why the lease file could not be written.
    pub store_error: Option<io::Error>,
    /// A later fragment of a request already decided (`fragmented`): to
    /// log, not to count again.
    pub continues: bool,
}

/// A reply as it left.
pub struct Sent {
    pub timestamp_ns: i64,
    pub link: LinkType,
    pub frame: Vec<u8>,
}

impl Sent {
    fn now(link: LinkType, frame: Vec<u8>) -> Sent {
        Sent {
            timestamp_ns: capture::Timestamp::now().0,
            link,
            frame,
        }
    }
}

#[cfg(test)]
mod tests {

    /// An interface going down no longer stops the server (its ENETDOWN was
    /// matched by errno on an error that had lost it) nor leaves it waiting
    /// in silence: it says the interface is down, that it was deleted (a
    /// socket on a deleted interface never receives again), and when it
    /// receives again.
    #[test]
    fn an_interface_down_or_deleted_is_said() {
        use capture::live::LinkEvent;
        let e = io::Error::new(
            io::ErrorKind::NetworkDown,
            "receiving on eth0: Network is down",
        );
        assert!(capture::live::is_link_down(&e));
        assert_eq!(
            link_line("eth0", LinkEvent::Down, Some(&e)),
            "eth0 is down (receiving on eth0: Network is down); the leases are kept, waiting for it to come back"
        );
        let deleted = link_line("eth0", LinkEvent::Deleted, None);
        assert!(deleted.starts_with("eth0 was deleted"), "{deleted}");
        assert!(deleted.contains("restart dhcplens serve"), "{deleted}");
        assert_eq!(
            link_line("eth0", LinkEvent::Up, None),
            "eth0 receives again"
        );
    }
    use super::*;
    use capture::live::KernelChecksum;
    use wire::frame::ChecksumMode;

    /// dhclient's DISCOVER (examples/renew-rebind-release, frame 1) in a
    /// frame built with `change`, and what `refusal` says of it.
    fn refused(change: impl Fn(&mut UdpFrame<'_>), kernel: KernelChecksum) -> Option<String> {
        let path = format!(
            "{}/../../examples/renew-rebind-release/client.pcap",
            env!("CARGO_MANIFEST_DIR")
        );
        let mut r = capture::read::open(&path).unwrap();
        let p = r.next_packet().unwrap().unwrap();
        let payload = wire::frame::decode(p.link, p.data, p.orig_len)
            .unwrap()
            .payload
            .to_vec();
        let mut f = UdpFrame::new(
            (Ipv4Addr::UNSPECIFIED, 68),
            (Ipv4Addr::BROADCAST, 67),
            &payload,
        );
        change(&mut f);
        let data = f.ethernet_frame();
        let live = LivePacket {
            timestamp_ns: 0,
            orig_len: data.len(),
            data,
            checksum: kernel,
            direction: Direction::Incoming,
        };
        let frame = wire::frame::decode(LinkType::Ethernet, &live.data, live.orig_len).unwrap();
        let own = crate::Subnet::parse("10.0.0.0/24,range=10.0.0.100-10.0.0.109").unwrap();
        refusal(&frame, &live, Some(&own), Ipv4Addr::new(10, 0, 0, 1))
            .map(|r| format!("{}: {r}", r.code()))
    }

    /// The first IPv4 fragment of a request larger than the MTU (a relay's
    /// long option 82, a client's long option list) decodes with the
    /// datagram's start only; it was let through (its UDP checksum cannot
    /// be checked) and decided as the whole request. It is refused as
    /// `fragmented`. A later fragment, were it to reach the socket, would be
    /// told as that too; live the kernel filter drops it (see
    /// `capture::bpf`'s `later_fragments_are_dropped_on_purpose`).
    #[test]
    fn a_fragmented_request_is_dropped_as_fragmented_not_decided() {
        let mut m = wire::Message::new(wire::Op::BootRequest, 0x1234_5678, &[2, 0, 0, 0, 0, 0xa]);
        m.set_option(wire::dhcp::code::DHCP_MESSAGE_TYPE, vec![1]);
        // 1,700 bytes of options a client may send (RFC 3396 long option).
        m.set_option(wire::dhcp::code::USER_CLASS, vec![b'x'; 1700]);
        let payload = m.encode(300);
        let f = UdpFrame::new(
            (Ipv4Addr::UNSPECIFIED, 68),
            (Ipv4Addr::BROADCAST, 67),
            &payload,
        );
        let ethernet = |ip: &[u8]| {
            let mut data = vec![0xff; 6];
            data.extend_from_slice(&[2, 0, 0, 0, 0, 0xa, 0x08, 0x00]);
            data.extend_from_slice(ip);
            data
        };
        let [first, second] = <[Vec<u8>; 2]>::try_from(f.ipv4_fragments(1480)).unwrap();
        let data = ethernet(&first);
        let live = LivePacket {
            timestamp_ns: 0,
            orig_len: data.len(),
            data,
            checksum: KernelChecksum::Unknown,
            direction: Direction::Incoming,
        };
        let frame = wire::frame::decode(LinkType::Ethernet, &live.data, live.orig_len).unwrap();
        let own = crate::Subnet::parse("10.0.0.0/24,range=10.0.0.100-10.0.0.109").unwrap();
        let r = refusal(&frame, &live, Some(&own), Ipv4Addr::new(10, 0, 0, 1)).unwrap();
        assert_eq!(r.code(), "fragmented");
        assert!(r.fix().unwrap().contains("does not reassemble"), "{r:?}");
        let s = crate::Server::new(crate::Config::new(Ipv4Addr::new(10, 0, 0, 1), vec![own]));
        let d = s.refuse(frame.payload, r);
        assert_eq!(
            d.line("eth0"),
            "DHCPDISCOVER from 02:00:00:00:00:0a xid 0x12345678 via eth0: dropped (fragmented): the first IPv4 fragment of a request larger than the MTU: only its start is here, and this server does not reassemble; fix: make the request fit the MTU (fewer or shorter options: a relay's option 82, a client's long ones), or raise the MTU on the way: this server does not reassemble fragments"
        );
        // The later fragment: known to continue the first, told as it.
        let key = first_fragment_of(&frame);
        assert!(key.is_some());
        assert_eq!(
            wire::frame::continued_datagram(LinkType::Ethernet, &ethernet(&second)),
            key
        );
        let later = later_fragment(&d);
        assert_eq!(
            (later.action, later.is_problem(), later.chaddr, later.xid),
            (Action::Drop, true, d.chaddr, d.xid)
        );
        assert!(later
            .line("eth0")
            .contains("dropped (fragmented): a later IPv4 fragment of a request larger than the MTU, whose first fragment was dropped"));
    }

    #[test]
    fn tagged_corrupt_and_passing_frames_are_refused_with_reasons() {
        let unknown = KernelChecksum::Unknown;
        assert_eq!(refused(|_| {}, unknown), None);
        assert_eq!(
            refused(|f| f.vlans = vec![0], unknown),
            None,
            "a priority tag"
        );
        assert_eq!(
            refused(|f| f.vlans = vec![20], unknown).unwrap(),
            "vlan-tagged: the request came tagged for VLAN 20, which this interface does not serve untagged"
        );
        assert!(
            refused(|f| f.checksum = ChecksumMode::Fixed(0x1234), unknown)
                .unwrap()
                .starts_with("bad-checksum: UDP checksum 0x1234, 0x")
        );
        assert!(refused(|f| f.checksum = ChecksumMode::Partial, unknown)
            .unwrap()
            .contains("only the pseudo-header sum"));
        // This host's own offload (a local veth or VM): accepted.
        assert_eq!(
            refused(
                |f| f.checksum = ChecksumMode::Partial,
                KernelChecksum::NotReady
            ),
            None
        );
        assert_eq!(refused(|f| f.checksum = ChecksumMode::Zero, unknown), None);
        for to in [[10, 0, 0, 1], [10, 0, 0, 255]] {
            assert_eq!(refused(|f| f.dst_ip = Ipv4Addr::from(to), unknown), None);
        }
        assert_eq!(
            refused(|f| f.dst_ip = Ipv4Addr::new(10, 0, 0, 9), unknown).unwrap(),
            "not-for-this-server: sent to 10.0.0.9, another host: this server answers broadcasts and its own address"
        );
    }
}
