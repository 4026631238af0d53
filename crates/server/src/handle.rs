//! The decision: one request in, a reply and its destination, or a reason.

use std::net::Ipv4Addr;

use wire::dhcp::code;
use wire::{HwAddr, Message, MessageType, Op};

use crate::config::{Config, Subnet};
use crate::leases::{ClientKey, Leases, State};
use crate::reason::Reason;

/// Where and when a request arrived.
#[derive(Debug, Clone, Copy)]
pub struct Arrival<'a> {
    pub iface: &'a str,
    /// The interface's address: the network of clients on the link.
    pub iface_addr: Ipv4Addr,
    /// Sent to a broadcast address (a client without a server in mind).
    pub broadcast: bool,
    /// Milliseconds on the server's clock.
    pub now_ms: u64,
}

/// What the server did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Offer,
    Ack,
    Nak,
    /// Nothing sent.
    Drop,
    /// A RELEASE taken: the address is free again.
    Release,
    /// A DECLINE taken: the address is kept out of use.
    Decline,
    /// An INFORM answered with an ACK without a lease.
    Inform,
}

impl Action {
    pub fn name(self) -> &'static str {
        match self {
            Action::Offer => "offer",
            Action::Ack => "ack",
            Action::Nak => "nak",
            Action::Drop => "drop",
            Action::Release => "release",
            Action::Decline => "decline",
            Action::Inform => "inform",
        }
    }
}

/// Where a reply goes (RFC 2131 §4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dest {
    /// To the relay agent at giaddr, UDP port 67.
    Relay(Ipv4Addr),
    /// To a client that has an address (ciaddr), UDP port 68.
    Unicast(Ipv4Addr),
    /// To 255.255.255.255 and the Ethernet broadcast address.
    Broadcast,
    /// To yiaddr at the client's MAC (no ARP: the client has no address yet).
    Hardware { ip: Ipv4Addr, mac: [u8; 6] },
}

/// One request and what became of it.
#[derive(Debug, Clone)]
pub struct Decision {
    pub received: Option<MessageType>,
    pub chaddr: HwAddr,
    pub xid: u32,
    pub giaddr: Ipv4Addr,
    pub action: Action,
    /// The address offered, acknowledged, released or declined (or that a
    /// NAK or drop concerns).
    pub address: Option<Ipv4Addr>,
    /// Why, for every drop and NAK (and a RELEASE or DECLINE not taken).
    pub reason: Option<Reason>,
    pub reply: Option<(Message<'static>, Dest)>,
    /// An OFFER of an address that is neither the client's reservation nor
    /// a lease it still holds: what a ping check probes before it goes out.
    pub fresh: bool,
}

impl Dest {
    /// `broadcast`, `10.0.0.100 at 02:00:00:00:00:01`, `relay 10.1.0.1`, `unicast 10.0.0.100`.
    pub fn describe(&self) -> String {
        match self {
            Dest::Relay(a) => format!("relay {a}"),
            Dest::Unicast(a) => format!("unicast {a}"),
            Dest::Broadcast => "broadcast".to_string(),
            Dest::Hardware { ip, mac } => format!("{ip} at {}", HwAddr::new(mac).hex().as_str()),
        }
    }
}

impl Decision {
    /// Where the request came from: the relay (giaddr), else the interface.
    pub fn via(&self, iface: &str) -> String {
        if self.giaddr.is_unspecified() {
            iface.to_string()
        } else {
            self.giaddr.to_string()
        }
    }

    /// A drop or NAK for a reason that has a fix: a problem to act on.
    pub fn is_problem(&self) -> bool {
        self.reason.as_ref().is_some_and(|r| r.fix().is_some())
    }

    /// One log line (without a timestamp), in the manner of ISC dhcpd's:
    /// `DHCPDISCOVER from 02:00:00:00:00:01 xid 0x1234abcd via eth0: OFFER 10.0.0.100 (to broadcast)`,
    /// `…: dropped (min-secs): secs 0 is below min-secs 2 …; fix: …` or
    /// `…: NAK 192.168.77.23 (wrong-network): …`. `logs` reads it back.
    pub fn line(&self, iface: &str) -> String {
        let what = self
            .received
            .map_or("BOOTREQUEST".to_string(), |t| t.name().into_owned());
        let via = self.via(iface);
        // A client without a hardware address (hlen 0, or a message too
        // short to read) is `-`: every field of the line has a word.
        let hex = self.chaddr.hex();
        let chaddr = match hex.as_str() {
            "" => NO_CHADDR,
            h => h,
        };
        let mut l = format!(
            "{what} from {chaddr} xid {} via {via}: ",
            wire::dhcp::HexBuf::xid(self.xid).as_str()
        );
        let verb = match self.action {
            Action::Drop => "dropped",
            a => a.name(),
        };
        match &self.reason {
            Some(r) => {
                l += if self.action == Action::Nak {
                    "NAK"
                } else {
                    verb
                };
                if let Some(a) = self.address {
                    l += &format!(" {a}");
                }
                l += &format!(" ({}): {r}", r.code());
                if let Some(f) = r.fix() {
                    l += &format!("; fix: {f}");
                }
            }
            None => {
                l += &verb.to_uppercase();
                if let Some(a) = self.address {
                    l += &format!(" {a}");
                }
            }
        }
        if let Some((_, to)) = &self.reply {
            l += &format!(" (to {})", to.describe());
        }
        l
    }
}

/// What [`Decision::line`] writes for an empty chaddr (`logs` reads it back
/// as no hardware address).
pub const NO_CHADDR: &str = "-";

/// The server's state: its configuration and leases.
#[derive(Debug)]
pub struct Server {
    cfg: Config,
    leases: Leases,
    /// Set by `discover` for [`Decision::fresh`].
    fresh: bool,
}

type Outcome = (
    Action,
    Option<Ipv4Addr>,
    Option<Reason>,
    Option<(Message<'static>, Dest)>,
);

fn drop(address: Option<Ipv4Addr>, r: Reason) -> Outcome {
    (Action::Drop, address, Some(r), None)
}

impl Server {
    pub fn new(cfg: Config) -> Server {
        Server {
            cfg,
            leases: Leases::default(),
            fresh: false,
        }
    }

    /// A server that starts from `leases` (read back with [`crate::store`]);
    /// leases of addresses now reserved for another host are dropped (the
    /// reservation wins, as it would for a new client): how many.
    pub fn with_leases(cfg: Config, mut leases: Leases) -> (Server, usize) {
        let before = leases.iter().count();
        leases.retain(|l| {
            cfg.subnet_of(l.address)
                .and_then(|s| s.reservation(l.address))
                .is_none_or(|owner| owner == l.chaddr)
        });
        let dropped = before - leases.iter().count();
        let server = Server {
            cfg,
            leases,
            fresh: false,
        };
        (server, dropped)
    }

    /// Why the client is not served at all by policy (`--ignore`,
    /// `--known-only`), if it is not.
    fn denied_by_policy(&self, req: &Message<'_>) -> Option<Reason> {
        let chaddr = req.chaddr();
        if self.cfg.ignore.contains(&chaddr) {
            return Some(Reason::ClientIgnored { chaddr });
        }
        let known = || {
            self.cfg
                .subnets
                .iter()
                .any(|s| s.reserved_for(&chaddr).is_some())
        };
        (self.cfg.known_only && !known()).then_some(Reason::UnknownClient { chaddr })
    }

    /// Addresses of the request's network that hosts already use, which no
    /// client may lease even when a range holds them: the relay's own
    /// (giaddr), the server's, and the receiving interface's for a client
    /// on the link. Each with what it is.
    fn not_leasable(&self, req: &Message<'_>, at: &Arrival<'_>) -> Vec<(Ipv4Addr, &'static str)> {
        let mut v = vec![(self.cfg.server_id, "the server's own address")];
        if req.giaddr.is_unspecified() {
            v.push((
                at.iface_addr,
                "the address of the interface the request came on",
            ));
        } else {
            v.push((req.giaddr, "the relay's own address (giaddr)"));
        }
        v.retain(|(a, _)| !a.is_unspecified());
        v
    }

    /// Whether `a` is held as declined (by its client, or found in use by
    /// the ping check).
    fn declined_held(&self, a: Ipv4Addr, now: u64) -> bool {
        self.leases
            .get(a)
            .is_some_and(|l| l.state == State::Declined && l.holds(now))
    }

    pub fn config(&self) -> &Config {
        &self.cfg
    }

    pub fn leases(&self) -> &Leases {
        &self.leases
    }

    /// Decides one request (a UDP payload sent to port 67).
    pub fn handle(&mut self, bytes: &[u8], at: &Arrival<'_>) -> Decision {
        let lenient = Message::parse_lenient(bytes);
        // Read as real servers read: leniently. Only what leaves the
        // request's meaning unknown is refused.
        let fatal = lenient.anomalies.iter().find(|a| {
            use wire::AnomalyKind::*;
            matches!(
                a.kind,
                MessageTooShort { .. }
                    | UnknownOp { .. }
                    | HardwareLengthTooLarge { .. }
                    | BadMagicCookie { .. }
                    | TruncatedOption { .. }
                    | OverloadInvalid { .. }
                    | RepeatedMessageType { .. }
            )
        });
        let req = match (lenient.message, fatal) {
            (Some(m), None) => m,
            (_, fatal) => {
                let why = fatal.map_or("shorter than the 236-byte header".to_string(), |a| {
                    a.to_string()
                });
                return self.refuse(bytes, Reason::Malformed(why));
            }
        };
        self.fresh = false;
        let received = req.message_type();
        use MessageType::{Discover, Inform, Request};
        let asks = matches!(received, Some(Discover | Request | Inform));
        let (action, address, reason, mut reply) = if req.op != Op::BootRequest {
            drop(None, Reason::NotARequest)
        } else if let Some(r) = self.denied_by_policy(&req).filter(|_| asks) {
            drop(None, r)
        } else {
            match received {
                // Option 53 present but not one byte: not BOOTP, unreadable.
                None if req.has_option(code::DHCP_MESSAGE_TYPE) => {
                    let n = req.option(code::DHCP_MESSAGE_TYPE).map_or(0, |v| v.len());
                    let why = format!(
                        "option 53 (DHCP message type) is {n} bytes; it must be 1 (RFC 2132 §9.6)"
                    );
                    drop(None, Reason::Malformed(why))
                }
                None => drop(None, Reason::Bootp),
                Some(MessageType::Discover) => self.discover(&req, at),
                Some(MessageType::Request) => self.request(&req, at),
                Some(MessageType::Decline) => self.decline(&req, at),
                Some(MessageType::Release) => self.release(&req, at),
                Some(MessageType::Inform) => self.inform(&req, at),
                Some(t) => drop(None, Reason::Unsupported(t)),
            }
        };
        if let Some((m, _)) = &mut reply {
            fit(m, &req);
        }
        Decision {
            received,
            chaddr: req.chaddr(),
            xid: req.xid,
            giaddr: req.giaddr,
            action,
            address,
            reason,
            reply,
            fresh: std::mem::take(&mut self.fresh),
        }
    }

    /// The subnet a request is for: the relay's (giaddr), else that of a
    /// renewing client's address (unicast to the server, perhaps routed),
    /// else the receiving interface's.
    fn subnet_for(&self, req: &Message<'_>, at: &Arrival<'_>) -> Result<&Subnet, Reason> {
        if !req.giaddr.is_unspecified() {
            return self
                .cfg
                .subnet_of(req.giaddr)
                .ok_or(Reason::UnknownNetworkSegment { giaddr: req.giaddr });
        }
        if !req.ciaddr.is_unspecified() && !at.broadcast {
            if let Some(s) = self.cfg.subnet_of(req.ciaddr) {
                return Ok(s);
            }
        }
        self.cfg
            .subnet_of(at.iface_addr)
            .ok_or_else(|| Reason::NoSubnetForInterface {
                iface: at.iface.to_string(),
                address: at.iface_addr,
            })
    }

    fn discover(&mut self, req: &Message<'_>, at: &Arrival<'_>) -> Outcome {
        if req.secs < self.cfg.min_secs {
            return drop(
                None,
                Reason::MinSecs {
                    secs: req.secs,
                    min: self.cfg.min_secs,
                },
            );
        }
        let subnet = match self.subnet_for(req, at) {
            Ok(s) => s.clone(),
            Err(r) => return drop(None, r),
        };
        let key = client_key(req);
        let now = at.now_ms;
        // Addresses hosts on the network already use, which a range may
        // hold all the same: never offered.
        let taken = self.not_leasable(req, at);
        let taken: Vec<Ipv4Addr> = taken.iter().map(|(a, _)| *a).collect();
        let usable = |a: Ipv4Addr| {
            subnet.in_pool(a)
                && !taken.contains(&a)
                && self.leases.holder_other_than(a, &key, now).is_none()
                && !self
                    .leases
                    .get(a)
                    .is_some_and(|l| l.state == State::Declined && l.holds(now))
        };
        let reserved = subnet.reserved_for(&req.chaddr());
        if let Some(r) = reserved.filter(|r| self.declined_held(*r, now)) {
            return drop(Some(r), Reason::DeclinedByClient { address: r });
        }
        // Its lease, if the address may still be its (the ranges or the
        // reservations may have changed since).
        let mine = self
            .leases
            .of(&key)
            .filter(|l| l.state != State::Declined)
            .filter(|l| !taken.contains(&l.address))
            .filter(|l| subnet.in_pool(l.address) || reserved == Some(l.address))
            .map(|l| {
                (
                    l.address,
                    l.state == State::Bound && l.holds(now),
                    l.holds(now),
                )
            });
        let address = reserved
            .or(mine.map(|(a, _, _)| a))
            .or_else(|| req.requested_ip().filter(|a| usable(*a)))
            .or_else(|| self.leases.free_in(&subnet, now, &taken));
        let Some(address) = address else {
            return drop(
                None,
                Reason::PoolExhausted {
                    subnet: subnet.cidr(),
                    size: subnet.pool_size(),
                },
            );
        };
        // Probed unless it is the client's reservation or a lease it still
        // holds (an expired or released one may have been taken since).
        self.fresh =
            reserved != Some(address) && !mine.is_some_and(|(a, _, live)| a == address && live);
        // A bound client asking again keeps its lease as it is.
        if !mine.is_some_and(|(a, bound, _)| a == address && bound) {
            let until = now.saturating_add(u64::from(self.cfg.offer_secs) * 1000);
            self.leases
                .set(address, &key, req.chaddr(), State::Offered, until);
        }
        let m = self.reply(req, MessageType::Offer, address, Some(&subnet), true);
        let to = dest(req, &m);
        (Action::Offer, Some(address), None, Some((m, to)))
    }

    fn request(&mut self, req: &Message<'_>, at: &Arrival<'_>) -> Outcome {
        let key = client_key(req);
        let now = at.now_ms;
        let ciaddr = Some(req.ciaddr).filter(|a| !a.is_unspecified());
        if let Some(server) = req.server_id() {
            if server != self.cfg.server_id {
                // A client SELECTING another server's offer is in INIT: it
                // has given up any lease it had here too (RFC 2131 §3.1,
                // §4.4.1), not only this server's offer.
                let given_up = self
                    .leases
                    .of(&key)
                    .filter(|l| matches!(l.state, State::Offered | State::Bound) && l.holds(now))
                    .map(|l| (l.address, l.chaddr, l.state));
                if let Some((a, hw, _)) = given_up {
                    self.leases.set(a, &key, hw, State::Released, now);
                }
                let freed = given_up
                    .filter(|(.., st)| *st == State::Bound)
                    .map(|(a, ..)| a);
                return drop(requested(req), Reason::OtherServerChosen { server, freed });
            }
        }
        let Some(address) = requested(req).or(ciaddr) else {
            return drop(None, Reason::NoRequestedAddress);
        };
        let subnet = match self.subnet_for(req, at) {
            Ok(s) => s.clone(),
            Err(r) => return drop(Some(address), r),
        };
        if !subnet.contains(address) {
            return self.nak(
                req,
                address,
                Reason::WrongNetwork {
                    address,
                    subnet: subnet.cidr(),
                },
            );
        }
        if let Some((_, what)) = self
            .not_leasable(req, at)
            .into_iter()
            .find(|(a, _)| *a == address)
        {
            return self.nak(req, address, Reason::NotLeasable { address, what });
        }
        // A reservation decides alone: its host gets its address and no
        // other, nobody else gets it.
        if let Some(reserved) = subnet.reserved_for(&req.chaddr()) {
            if reserved != address {
                let r = Reason::NotItsAddress {
                    address,
                    holds: reserved,
                };
                return self.nak(req, address, r);
            }
            if self.declined_held(address, now) {
                return self.nak(req, address, Reason::DeclinedByClient { address });
            }
            return self.ack(req, address, &subnet, &key, now);
        }
        if let Some(by) = subnet.reservation(address) {
            let r = Reason::AddressTaken {
                address,
                by,
                state: "reserved",
            };
            return self.nak(req, address, r);
        }
        // An address held only because it answered the ping check, asked
        // for by a client that says it uses it (renewing, rebinding, or
        // INIT-REBOOT): that client was the host that answered. It is
        // given back (as ISC dhcpd reclaims an abandoned address).
        let claims = req.server_id().is_none();
        let ping_held = self
            .leases
            .get(address)
            .is_some_and(|l| l.client.0.is_empty() && l.state == State::Declined);
        if ping_held && claims {
            return self.ack(req, address, &subnet, &key, now);
        }
        if let Some(other) = self.leases.holder_other_than(address, &key, now) {
            // Held by nobody (an empty client key): the ping check's.
            let r = if other.client.0.is_empty() {
                Reason::PingHeld { address }
            } else {
                Reason::AddressTaken {
                    address,
                    by: other.chaddr,
                    state: other.state.name(),
                }
            };
            return self.nak(req, address, r);
        }
        let lease = self.leases.get(address).filter(|l| l.client == key);
        if lease.is_some_and(|l| l.state == State::Declined && l.holds(now)) {
            return self.nak(req, address, Reason::DeclinedByClient { address });
        }
        let selecting = req.server_id().is_some();
        if lease.is_some() && !subnet.in_pool(address) {
            // Its lease, of an address the ranges no longer hold.
            let r = Reason::OutsidePool {
                address,
                subnet: subnet.cidr(),
            };
            return self.nak(req, address, r);
        }
        if lease.is_none() {
            // No record of this address for the client. INIT-REBOOT: a NAK
            // if the server has another address on record for it, else
            // silence (RFC 2131 §4.3.2); a renewing or rebinding client
            // keeps a free address of the pool (the lease may have been
            // lost in a restart).
            if !selecting && ciaddr.is_none() {
                let holds = self
                    .leases
                    .of(&key)
                    .filter(|l| l.holds(now) && l.state != State::Declined)
                    .map(|l| l.address);
                return match holds {
                    Some(holds) => self.nak(req, address, Reason::NotItsAddress { address, holds }),
                    None => drop(Some(address), Reason::NoRecord { address }),
                };
            }
            if !subnet.in_pool(address) {
                if selecting {
                    let r = Reason::OutsidePool {
                        address,
                        subnet: subnet.cidr(),
                    };
                    return self.nak(req, address, r);
                }
                return drop(Some(address), Reason::NoRecord { address });
            }
        }
        self.ack(req, address, &subnet, &key, now)
    }

    /// Binds `address` to the client and ACKs it.
    fn ack(
        &mut self,
        req: &Message<'_>,
        address: Ipv4Addr,
        subnet: &Subnet,
        key: &ClientKey,
        now: u64,
    ) -> Outcome {
        let until = now.saturating_add(u64::from(self.cfg.lease_secs) * 1000);
        self.leases
            .set(address, key, req.chaddr(), State::Bound, until);
        let m = self.reply(req, MessageType::Ack, address, Some(subnet), true);
        let to = dest(req, &m);
        (Action::Ack, Some(address), None, Some((m, to)))
    }

    /// A NAK for `r`, or a drop saying so if the server is not authoritative
    /// and the client did not choose it (a client that named this server in
    /// option 54 gets its NAK either way, RFC 2131 §4.3.2).
    fn nak(&self, req: &Message<'_>, address: Ipv4Addr, r: Reason) -> Outcome {
        let chosen = req.server_id() == Some(self.cfg.server_id);
        if !self.cfg.authoritative && !chosen {
            return drop(Some(address), Reason::NotAuthoritative(Box::new(r)));
        }
        let mut m = self.reply(req, MessageType::Nak, Ipv4Addr::UNSPECIFIED, None, false);
        m.ciaddr = Ipv4Addr::UNSPECIFIED;
        let mut text = format!("{}: {r}", r.code());
        if text.len() > 255 {
            let mut end = 255;
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            text.truncate(end);
        }
        m.set_option(code::MESSAGE, text.into_bytes());
        // Option 82 stays last (RFC 3046 §2.2).
        if let Some(o82) = req.option(code::RELAY_AGENT_INFORMATION) {
            m.remove_option(code::RELAY_AGENT_INFORMATION);
            m.set_option(code::RELAY_AGENT_INFORMATION, o82.into_owned());
        }
        if !req.giaddr.is_unspecified() {
            // RFC 2131 §4.3.2: the relay must broadcast it to the client.
            m.flags |= 0x8000;
        }
        let to = dest(req, &m);
        (Action::Nak, Some(address), Some(r), Some((m, to)))
    }

    fn decline(&mut self, req: &Message<'_>, at: &Arrival<'_>) -> Outcome {
        let key = client_key(req);
        let Some(address) = requested(req) else {
            return drop(None, Reason::DeclineWithoutAddress);
        };
        if self.leases.get(address).is_none_or(|l| l.client != key) {
            return drop(Some(address), Reason::NotItsLease { address });
        }
        let until = at
            .now_ms
            .saturating_add(u64::from(self.cfg.decline_secs) * 1000);
        self.leases
            .set(address, &key, req.chaddr(), State::Declined, until);
        (Action::Decline, Some(address), None, None)
    }

    fn release(&mut self, req: &Message<'_>, at: &Arrival<'_>) -> Outcome {
        let key = client_key(req);
        let address = req.ciaddr;
        let theirs = self
            .leases
            .get(address)
            .is_some_and(|l| l.client == key && l.state == State::Bound);
        if !theirs {
            return drop(Some(address), Reason::NotItsLease { address });
        }
        self.leases
            .set(address, &key, req.chaddr(), State::Released, at.now_ms);
        (Action::Release, Some(address), None, None)
    }

    /// RFC 2131 §4.3.5: the options of the network the client's address
    /// (ciaddr) is on, without lease times. Relayed, the ACK goes back
    /// through the relay with the broadcast bit set: a relay delivers a
    /// reply without it to yiaddr (RFC 1542 §5.4), which an INFORM's ACK
    /// leaves 0.
    fn inform(&mut self, req: &Message<'_>, at: &Arrival<'_>) -> Outcome {
        let address = req.ciaddr;
        if address.is_unspecified() {
            return drop(None, Reason::InformWithoutCiaddr);
        }
        let subnet = match self.subnet_for(req, at) {
            Ok(s) => s.clone(),
            Err(r) => return drop(Some(address), r),
        };
        if !subnet.contains(address) {
            return drop(
                Some(address),
                Reason::InformWrongNetwork {
                    address,
                    subnet: subnet.cidr(),
                },
            );
        }
        let mut m = self.reply(
            req,
            MessageType::Ack,
            Ipv4Addr::UNSPECIFIED,
            Some(&subnet),
            false,
        );
        if !req.giaddr.is_unspecified() {
            m.flags |= 0x8000;
        }
        let to = dest(req, &m);
        (Action::Inform, Some(address), None, Some((m, to)))
    }

    /// A reply to `req` (RFC 2131 table 3): xid, flags, giaddr and chaddr
    /// copied, ciaddr copied for an ACK, options 53 and 54, the lease times
    /// when `lease`, the subnet's options when given, option 82 echoed
    /// (RFC 3046 §2.2).
    fn reply(
        &self,
        req: &Message<'_>,
        kind: MessageType,
        yiaddr: Ipv4Addr,
        subnet: Option<&Subnet>,
        lease: bool,
    ) -> Message<'static> {
        let mut m = Message::new(Op::BootReply, req.xid, &[]);
        m.htype = req.htype;
        m.hlen = req.hlen;
        m.chaddr_field = req.chaddr_field;
        m.flags = req.flags;
        m.giaddr = req.giaddr;
        m.yiaddr = yiaddr;
        if kind == MessageType::Ack {
            m.ciaddr = req.ciaddr;
        }
        m.set_option(code::DHCP_MESSAGE_TYPE, vec![u8::from(kind)]);
        m.set_option(
            code::SERVER_IDENTIFIER,
            self.cfg.server_id.octets().to_vec(),
        );
        if lease {
            let t = self.cfg.lease_secs;
            m.set_option(code::IP_ADDRESS_LEASE_TIME, t.to_be_bytes().to_vec());
            // RFC 2131 §4.4.5: T1 < T2 < lease. A lease too short for that
            // in whole seconds (1 or 2 s) goes without them: the client
            // takes 0.5 and 0.875 of the lease itself.
            if let Some((t1, t2)) = renewal_times(t) {
                m.set_option(code::RENEWAL_TIME, t1.to_be_bytes().to_vec());
                m.set_option(code::REBINDING_TIME, t2.to_be_bytes().to_vec());
            }
        }
        if let Some(s) = subnet {
            if let Some(a) = s.next_server {
                m.siaddr = a;
            }
            let ipxe = req.has_option(code::ETHERBOOT)
                || req
                    .option(code::USER_CLASS)
                    .is_some_and(|v| v.windows(4).any(|w| w == b"iPXE"));
            let file = match &s.ipxe_file {
                Some(f) if ipxe => Some(f),
                _ => s.boot_file.as_ref(),
            };
            if let Some(f) = file {
                m.file = f.as_bytes().to_vec().into();
            }
            m.set_option(code::SUBNET_MASK, s.mask().octets().to_vec());
            if let Some(r) = s.router {
                m.set_option(code::ROUTER, r.octets().to_vec());
            }
            if !s.dns.is_empty() {
                let v: Vec<u8> = s.dns.iter().flat_map(|a| a.octets()).collect();
                m.set_option(code::DOMAIN_NAME_SERVER, v);
            }
            if let Some(d) = &s.domain {
                m.set_option(code::DOMAIN_NAME, d.as_bytes().to_vec());
            }
        }
        // RFC 6842: the client identifier back, unaltered (when it is one:
        // RFC 2132 §9.14 asks for two bytes at least).
        if let Some(id) = req
            .option(code::CLIENT_IDENTIFIER)
            .filter(|id| id.len() >= 2)
        {
            m.set_option(code::CLIENT_IDENTIFIER, id.into_owned());
        }
        // Last, as RFC 3046 §2.2 asks.
        if let Some(o82) = req.option(code::RELAY_AGENT_INFORMATION) {
            m.set_option(code::RELAY_AGENT_INFORMATION, o82.into_owned());
        }
        m
    }

    /// A drop for a request `serve` refuses before deciding it (a VLAN tag,
    /// a bad checksum, another host's address), read leniently for the log.
    pub fn refuse(&self, bytes: &[u8], reason: Reason) -> Decision {
        let m = Message::parse_lenient(bytes).message;
        Decision {
            received: m.as_ref().and_then(Message::message_type),
            chaddr: m.as_ref().map_or(HwAddr::new(&[]), Message::chaddr),
            xid: m.as_ref().map_or(0, |m| m.xid),
            giaddr: m.as_ref().map_or(Ipv4Addr::UNSPECIFIED, |m| m.giaddr),
            action: Action::Drop,
            address: None,
            reason: Some(reason),
            reply: None,
            fresh: false,
        }
    }

    /// What a ping check found for `d`'s OFFER: its address answered, so it
    /// is kept out of use (as a declined one is) and the offer withdrawn;
    /// the decision to log. Deciding the request again offers another.
    pub fn ping_answered(&mut self, d: &Decision, now_ms: u64) -> Decision {
        let mut out = Decision {
            action: Action::Drop,
            reply: None,
            fresh: false,
            ..d.clone()
        };
        if let Some(address) = d.address {
            let until = now_ms.saturating_add(u64::from(self.cfg.decline_secs) * 1000);
            let nobody = ClientKey(Vec::new());
            self.leases
                .set(address, &nobody, HwAddr::new(&[]), State::Declined, until);
            out.reason = Some(Reason::PingAnswered {
                address,
                hold_secs: self.cfg.decline_secs,
            });
        }
        out
    }
}

/// T1 and T2 for a lease of `lease` seconds: a half and seven eighths of it
/// (RFC 2131 §4.4.5), kept in order (T1 < T2 < lease, T1 at least 1 s);
/// `None` for a lease too short for that.
pub fn renewal_times(lease: u32) -> Option<(u32, u32)> {
    let t1 = lease / 2;
    let t2 = ((u64::from(lease) * 7 / 8) as u32).max(t1 + 1);
    (t1 >= 1 && t2 < lease).then_some((t1, t2))
}

/// The address option 50 asks for; 0.0.0.0 asks for none (a renewing
/// client is then named by ciaddr).
fn requested(req: &Message<'_>) -> Option<Ipv4Addr> {
    req.requested_ip().filter(|a| !a.is_unspecified())
}

/// Who sent `req` (RFC 2131 §4.2: option 61, else hardware type and address).
pub fn client_key(req: &Message<'_>) -> ClientKey {
    match req.option(code::CLIENT_IDENTIFIER) {
        Some(id) if !id.is_empty() => ClientKey(id.into_owned()),
        _ => {
            let mut k = vec![req.htype];
            k.extend_from_slice(req.chaddr().as_bytes());
            ClientKey(k)
        }
    }
}

/// Keeps a reply within what the client can take (RFC 2131 §2: 576-byte
/// datagrams unless option 57 says more; RFC 2132 §9.10): past it, the
/// options a client can do without go first (domain name, then DNS
/// servers). What is left is sent whole: the options that remain are the
/// ones a client needs (53, 54, lease times, mask, router) and the ones the
/// server must echo (61, 82).
fn fit(m: &mut Message<'_>, req: &Message<'_>) {
    /// IPv4 and UDP headers.
    const HEADERS: usize = 20 + 8;
    let most = usize::from(req.max_message_size().unwrap_or(0).max(576)) - HEADERS;
    for optional in [code::DOMAIN_NAME, code::DOMAIN_NAME_SERVER] {
        if m.encode(wire::dhcp::BOOTP_MIN_LEN).len() <= most {
            return;
        }
        m.remove_option(optional);
    }
}

/// RFC 2131 §4.1: to the relay if there is one; a NAK to everyone; to a
/// client's address if it has one; broadcast if it asked; else to yiaddr at
/// its MAC.
fn dest(req: &Message<'_>, reply: &Message<'_>) -> Dest {
    let nak = reply.message_type() == Some(MessageType::Nak);
    if !req.giaddr.is_unspecified() {
        Dest::Relay(req.giaddr)
    } else if nak {
        Dest::Broadcast
    } else if !req.ciaddr.is_unspecified() {
        Dest::Unicast(req.ciaddr)
    } else if req.broadcast() || req.htype != 1 || req.hlen != 6 {
        Dest::Broadcast
    } else {
        let mut mac = [0; 6];
        mac.copy_from_slice(&req.chaddr_field[..6]);
        Dest::Hardware {
            ip: reply.yiaddr,
            mac,
        }
    }
}

#[cfg(test)]
mod tests;
