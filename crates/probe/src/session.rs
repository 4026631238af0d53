//! Sending within limits and collecting the replies to one transaction.

use std::io;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use wire::dhcp::{code, Message, MessageType, Op};
use wire::UdpChecksum;

use crate::transport::{Dest, Packet, Transport};

/// Bounds on every run: nothing floods a network by accident.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// At most this many packets are sent in one run.
    pub max_sends: u32,
    /// At least this long between two sends.
    pub min_interval: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_sends: 64,
            min_interval: Duration::from_millis(100),
        }
    }
}

/// The hard ceiling on `max_sends`, whatever the user asks for.
pub const MAX_SENDS_CEILING: u32 = 10_000;

/// A reply to one of our requests.
#[derive(Debug, Clone)]
pub struct Reply {
    /// Index of its packet in [`Session::log`].
    pub packet: usize,
    pub message: Message<'static>,
    /// Time since the request it answers was sent.
    pub latency: Duration,
    pub checksum: UdpChecksum,
    pub from: Ipv4Addr,
    pub src_mac: Option<[u8; 6]>,
}

impl Reply {
    pub fn kind(&self) -> Option<MessageType> {
        self.message.message_type()
    }

    /// Who answered: option 54, else the source address.
    pub fn server(&self) -> Ipv4Addr {
        self.message.server_id().unwrap_or(self.from)
    }
}

/// A run: its transport, limits and everything sent and received.
pub struct Session<'t> {
    transport: &'t mut dyn Transport,
    limits: Limits,
    sends: u32,
    last_send: Option<Instant>,
    /// Every packet of the run, in order: each one sent, and each one
    /// received, also those that answer none of our requests (ICMP errors,
    /// replies to other xids or clients, other clients' requests, replies
    /// come late). [`Session::is_ours`] tells which ones concern our
    /// transactions: only those are decided on.
    pub log: Vec<Packet>,
    /// For each packet of `log`: sent, or a reply to one of our requests.
    ours: Vec<bool>,
}

impl<'t> Session<'t> {
    pub fn new(transport: &'t mut dyn Transport, limits: Limits) -> Session<'t> {
        let limits = Limits {
            max_sends: limits.max_sends.min(MAX_SENDS_CEILING),
            ..limits
        };
        Session {
            transport,
            limits,
            sends: 0,
            last_send: None,
            log: Vec::new(),
            ours: Vec::new(),
        }
    }

    /// Whether packet `i` of [`Session::log`] concerns our transactions: one
    /// we sent, or a reply to one of them (taken as one when it came).
    pub fn is_ours(&self, i: usize) -> bool {
        self.ours.get(i).copied().unwrap_or(false)
    }

    fn push(&mut self, p: Packet, ours: bool) {
        self.log.push(p);
        self.ours.push(ours);
    }

    /// The interface the transport sends on, when it has one.
    pub fn interface(&self) -> Option<String> {
        self.transport.interface()
    }

    pub fn describe(&self) -> String {
        self.transport.describe()
    }

    pub fn sends(&self) -> u32 {
        self.sends
    }

    /// Sends `m`, waiting for the minimum interval; refuses past the limit.
    pub fn send(&mut self, m: &Message<'_>, dest: Dest) -> io::Result<Instant> {
        if self.sends >= self.limits.max_sends {
            return Err(io::Error::other(format!(
                "refusing to send more than {} packets in one run (raise --max-packets, at most {MAX_SENDS_CEILING})",
                self.limits.max_sends
            )));
        }
        if let Some(last) = self.last_send {
            let wait = self.limits.min_interval.saturating_sub(last.elapsed());
            if !wait.is_zero() {
                std::thread::sleep(wait);
            }
        }
        let p = self.transport.send(m, dest)?;
        self.sends += 1;
        let at = p.at;
        self.last_send = Some(at);
        self.push(p, true);
        Ok(at)
    }

    /// Collects the replies to `request` (see [`answers`]) until `until`, or
    /// until `enough` says so. Every packet received meanwhile is kept in
    /// the log, the ones that are no reply to `request` too (not as ours).
    pub fn collect(
        &mut self,
        request: &Message<'_>,
        sent_at: Instant,
        until: Instant,
        mut enough: impl FnMut(&[Reply]) -> bool,
    ) -> io::Result<Vec<Reply>> {
        let mut replies = Vec::new();
        while let Some(p) = self.transport.recv(until)? {
            let reply = match wire::packet::decode(p.link, &p.frame, p.orig_len) {
                Ok(Some(d)) => d
                    .message
                    .as_ref()
                    .filter(|m| answers(request, m))
                    .map(|m| Reply {
                        packet: self.log.len(),
                        message: m.clone().into_owned(),
                        latency: p.at.saturating_duration_since(sent_at),
                        checksum: d.frame.udp.checksum,
                        from: d.frame.ip.src,
                        src_mac: d.frame.link.src_mac,
                    }),
                _ => None,
            };
            let Some(reply) = reply else {
                self.push(p, false);
                continue;
            };
            self.push(p, true);
            replies.push(reply);
            if enough(&replies) {
                break;
            }
        }
        Ok(replies)
    }

    /// Sends `m` and collects every reply until `timeout`.
    pub fn ask(
        &mut self,
        m: &Message<'_>,
        dest: Dest,
        timeout: Duration,
    ) -> io::Result<Vec<Reply>> {
        let at = self.send(m, dest)?;
        self.collect(m, at, at + timeout, |_| false)
    }

    /// Sends `m` and collects replies until the first one of a kind in
    /// `final_kinds` (plus `linger` for late ones from other servers), or
    /// `timeout`.
    pub fn ask_until(
        &mut self,
        m: &Message<'_>,
        dest: Dest,
        timeout: Duration,
        final_kinds: &[MessageType],
        linger: Duration,
    ) -> io::Result<Vec<Reply>> {
        let at = self.send(m, dest)?;
        let deadline = at + timeout;
        let mut replies = self.collect(m, at, deadline, |r| {
            r.iter()
                .any(|r| r.kind().is_some_and(|k| final_kinds.contains(&k)))
        })?;
        if !replies.is_empty() && !linger.is_zero() {
            let more_until = (Instant::now() + linger).min(deadline);
            replies.extend(self.collect(m, at, more_until, |_| false)?);
        }
        Ok(replies)
    }
}

/// Whether `reply` is a reply to `request`: a BOOTREPLY with its xid and
/// its client hardware address (as ISC dhclient checks: a server answering
/// another client with a colliding xid is not answering us).
pub fn answers(request: &Message<'_>, reply: &Message<'_>) -> bool {
    let n = usize::from(request.hlen.min(16));
    reply.op == Op::BootReply
        && reply.xid == request.xid
        && reply.chaddr_field[..n] == request.chaddr_field[..n]
}

/// What a full exchange came to.
#[derive(Debug, Clone)]
pub struct Lease {
    pub address: Ipv4Addr,
    pub server: Ipv4Addr,
    pub server_mac: Option<[u8; 6]>,
    pub lease_time: Option<u32>,
}

/// How a DORA ended.
#[derive(Debug, Clone)]
pub enum DoraResult {
    Bound(Lease),
    Nak {
        server: Ipv4Addr,
        message: Option<String>,
    },
    NoOffer,
    NoAck {
        server: Ipv4Addr,
    },
}

/// DISCOVER → OFFER → REQUEST → ACK, taking the first OFFER and waiting for
/// that server's ACK or NAK (other servers' answers to the REQUEST stay in
/// the session's log); optionally a RELEASE after. `discover` is the
/// DISCOVER to send (its xid is kept; any other message is refused, unsent);
/// it and the REQUEST go to `dest` (a broadcast, or the server a relay or a
/// `--server` names).
pub fn dora(
    s: &mut Session<'_>,
    discover: &Message<'static>,
    dest: Dest,
    timeout: Duration,
    offer_wait: Duration,
    release: bool,
) -> io::Result<DoraResult> {
    if discover.message_type() != Some(MessageType::Discover) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "a DORA starts with a DISCOVER",
        ));
    }
    let offers = s.ask_until(discover, dest, timeout, &[MessageType::Offer], offer_wait)?;
    let Some(offer) = offers.iter().find(|r| r.kind() == Some(MessageType::Offer)) else {
        return Ok(DoraResult::NoOffer);
    };
    let server = offer.server();
    let mut request = discover.clone();
    request.set_option(
        code::DHCP_MESSAGE_TYPE,
        vec![u8::from(MessageType::Request)],
    );
    request.set_option(
        code::REQUESTED_IP_ADDRESS,
        offer.message.yiaddr.octets().to_vec(),
    );
    request.set_option(code::SERVER_IDENTIFIER, server.octets().to_vec());
    // Other servers may answer the broadcast REQUEST too (a NAK from one
    // that does not know the address, an ACK from one that ignores option
    // 54): they are kept in the log, but only the chosen server's answer
    // ends the wait.
    let at = s.send(&request, dest)?;
    let answers = s.collect(&request, at, at + timeout, |r| {
        r.last().is_some_and(|r| {
            r.server() == server && matches!(r.kind(), Some(MessageType::Ack | MessageType::Nak))
        })
    })?;
    let from_chosen = |r: &&crate::session::Reply| r.server() == server;
    if let Some(nak) = answers
        .iter()
        .filter(from_chosen)
        .find(|r| r.kind() == Some(MessageType::Nak))
    {
        let message = nak
            .message
            .option(code::MESSAGE)
            .map(|m| String::from_utf8_lossy(&m).into_owned());
        return Ok(DoraResult::Nak { server, message });
    }
    let Some(ack) = answers
        .iter()
        .filter(from_chosen)
        .find(|r| r.kind() == Some(MessageType::Ack))
    else {
        return Ok(DoraResult::NoAck { server });
    };
    let lease = Lease {
        address: ack.message.yiaddr,
        server,
        server_mac: ack.src_mac.or(offer.src_mac),
        lease_time: ack.message.lease_time(),
    };
    if release {
        let mut rel = Message::new(
            Op::BootRequest,
            crate::request::fresh_xid(),
            discover.chaddr().as_bytes(),
        );
        rel.ciaddr = lease.address;
        rel.set_option(
            code::DHCP_MESSAGE_TYPE,
            vec![u8::from(MessageType::Release)],
        );
        rel.set_option(code::SERVER_IDENTIFIER, server.octets().to_vec());
        if let Some(cid) = discover.option(code::CLIENT_IDENTIFIER) {
            rel.set_option(code::CLIENT_IDENTIFIER, cid.into_owned());
        }
        s.send(&rel, Dest::Unicast(server, lease.server_mac))?;
    }
    Ok(DoraResult::Bound(lease))
}
