//! Transactions: the packets of one client and one xid, classified by the
//! RFC 2131 state the client was in, with the outcome they reached.

use std::net::Ipv4Addr;

use capture::Timestamp;
use serde::Serialize;
use wire::dhcp::MessageType;
use wire::HwAddr;

use crate::obs::{FrameRef, Obs};

/// The client state a transaction starts from (RFC 2131 §4.4, table 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    /// DISCOVER → OFFER → REQUEST → ACK/NAK.
    Init,
    /// A REQUEST naming a server (option 54) without a DISCOVER seen first.
    Selecting,
    /// REQUEST with option 50, no 54, ciaddr 0: reboot with a remembered lease.
    InitReboot,
    /// Unicast REQUEST with ciaddr set, at T1.
    Renewing,
    /// Broadcast REQUEST with ciaddr set, at T2.
    Rebinding,
    Inform,
    Release,
    Decline,
    /// BOOTREQUEST without option 53.
    Bootp,
    /// Only server replies were seen.
    Unknown,
}

impl State {
    pub fn name(self) -> &'static str {
        match self {
            State::Init => "init",
            State::Selecting => "selecting",
            State::InitReboot => "init-reboot",
            State::Renewing => "renewing",
            State::Rebinding => "rebinding",
            State::Inform => "inform",
            State::Release => "release",
            State::Decline => "decline",
            State::Bootp => "bootp",
            State::Unknown => "unknown",
        }
    }

    /// Classifies the first client packet of a transaction.
    pub fn of(o: &Obs) -> State {
        match o.kind {
            None => State::Bootp,
            Some(MessageType::Discover) => State::Init,
            Some(MessageType::Inform) => State::Inform,
            Some(MessageType::Release) => State::Release,
            Some(MessageType::Decline) => State::Decline,
            Some(MessageType::Request) => {
                if !o.ciaddr.is_unspecified() {
                    if o.broadcast_dst() {
                        State::Rebinding
                    } else {
                        State::Renewing
                    }
                } else if o.server_id.is_some() {
                    State::Selecting
                } else {
                    State::InitReboot
                }
            }
            Some(_) => State::Unknown,
        }
    }
}

/// What a transaction (or a client) came to. A fixed vocabulary: public API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Bound,
    Renewed,
    Nak,
    NoOffer,
    /// An OFFER arrived but the client never requested it and started again.
    OfferIgnored,
    NoAck,
    /// An ACK was sent but the client did not take it: it asked again, or
    /// the capture at its side lacks the ACK.
    AckIgnored,
    Declined,
    Released,
    Informed,
    /// The capture ended mid-exchange.
    Incomplete,
}

impl Outcome {
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Bound => "bound",
            Outcome::Renewed => "renewed",
            Outcome::Nak => "nak",
            Outcome::NoOffer => "no-offer",
            Outcome::OfferIgnored => "offer-ignored",
            Outcome::NoAck => "no-ack",
            Outcome::AckIgnored => "ack-ignored",
            Outcome::Declined => "declined",
            Outcome::Released => "released",
            Outcome::Informed => "informed",
            Outcome::Incomplete => "incomplete",
        }
    }

    /// Whether the client got what it asked for.
    pub fn is_success(self) -> bool {
        matches!(
            self,
            Outcome::Bound | Outcome::Renewed | Outcome::Released | Outcome::Informed
        )
    }

    /// Whether the client failed to get or keep a lease.
    pub fn is_failure(self) -> bool {
        matches!(
            self,
            Outcome::Nak
                | Outcome::NoOffer
                | Outcome::OfferIgnored
                | Outcome::NoAck
                | Outcome::AckIgnored
                | Outcome::Declined
        )
    }
}

/// A packet in a transaction, with the other places it was seen (another
/// capture file, or another hop through a relay).
#[derive(Debug, Clone)]
pub struct Seen {
    pub obs: Obs,
    /// The packet seen again at other vantage points or hops (the first 8).
    pub copies: Vec<Sighting>,
    /// Bit `i` set if capture file `i` (< 64) holds this packet.
    pub files: u64,
}

/// A copy of a packet: where it was seen, and what its UDP checksum was
/// there (a checksum can be filled or broken on the way).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sighting {
    pub at: FrameRef,
    pub udp_checksum: wire::UdpChecksum,
}

impl Seen {
    pub fn frames(&self) -> impl Iterator<Item = FrameRef> + '_ {
        self.sightings().map(|s| s.at)
    }

    /// The packet where it was first seen, then its copies.
    pub fn sightings(&self) -> impl Iterator<Item = Sighting> + '_ {
        let first = Sighting {
            at: self.obs.at,
            udp_checksum: self.obs.udp_checksum,
        };
        std::iter::once(first).chain(self.copies.iter().copied())
    }
}

/// Why a transaction was closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closed {
    /// It reached its end (ACK, NAK, RELEASE, DECLINE) and the grace period passed.
    Completed,
    /// The client started a new transaction.
    Superseded,
    /// Nothing happened for a long time.
    Idle,
    /// The capture ended.
    EndOfCapture,
}

/// The packets of one (chaddr, xid).
#[derive(Debug, Clone)]
pub struct Transaction {
    pub chaddr: HwAddr,
    pub xid: u32,
    pub state: State,
    pub packets: Vec<Seen>,
    /// Packets beyond the kept ones, counted only.
    pub dropped: u32,
    pub first: Timestamp,
    pub last: Timestamp,
    /// When it reached its end (ACK/NAK/RELEASE/DECLINE).
    pub done_at: Option<Timestamp>,
    /// Where the engine keeps its client's record (saves a lookup per packet).
    pub(crate) client: Option<u32>,
    /// It began right after the client's last transaction with an ACK, in
    /// a way that shows the client did not take that ACK (the engine had
    /// closed that transaction; [`crate::Client`]'s `asks_again`): how many
    /// ACKs in a row the client had not taken by then, that one included.
    /// 0 for most.
    pub asked_after_ack: u8,
    /// An ACK has come, and a client REQUEST after it: whether
    /// [`Transaction::acks_asked_again`] has anything to count (nearly
    /// every transaction has not).
    acked: bool,
    requested_after_ack: bool,
}

/// At most this many packets are kept per transaction.
pub const MAX_PACKETS: usize = 64;

/// Two sightings of one message closer than this may be copies.
const COPY_WINDOW_NS: i64 = 2_000_000_000;

/// How close in time the same message, from the same sender and hop, must
/// be seen twice in one capture to be one frame captured twice.
pub(crate) const DUPLICATE_WINDOW_NS: i64 = 10_000_000;

impl Transaction {
    pub fn new(o: Obs) -> Transaction {
        Transaction::with_buffer(o, Vec::with_capacity(4))
    }

    /// A transaction whose packets go into `packets` (an empty buffer,
    /// perhaps reused from a closed transaction).
    pub fn with_buffer(o: Obs, mut packets: Vec<Seen>) -> Transaction {
        debug_assert!(packets.is_empty());
        let state = if o.from_client() {
            State::of(&o)
        } else {
            State::Unknown
        };
        let files = file_bit(o.at.file);
        let acked = o.kind == Some(MessageType::Ack);
        packets.reserve(4);
        let (chaddr, xid, ts) = (o.chaddr, o.xid, o.ts);
        packets.push(Seen {
            obs: o,
            copies: Vec::new(),
            files,
        });
        Transaction {
            chaddr,
            xid,
            state,
            first: ts,
            last: ts,
            done_at: None,
            dropped: 0,
            packets,
            client: None,
            asked_after_ack: 0,
            acked,
            requested_after_ack: false,
        }
    }

    /// Adds a packet: a copy of one already seen (another file or relay hop)
    /// is attached to it instead. Returns whether it was new (not a copy).
    pub fn push(&mut self, o: Obs) -> bool {
        self.last = self.last.max(o.ts);
        match o.kind {
            Some(MessageType::Ack) => self.acked = true,
            // The client asks again after an ACK: the exchange is not over
            // (the next ACK starts the grace period again), and a client
            // retransmitting every second or two stays in one transaction.
            Some(MessageType::Request) if self.acked => {
                self.requested_after_ack = true;
                self.done_at = None;
            }
            _ => {}
        }
        if self.state == State::Unknown && o.from_client() {
            self.state = State::of(&o);
        } else if self.state == State::Renewing
            && o.from_client()
            && State::of(&o) == State::Rebinding
        {
            // Unicast renewals went unanswered past T2: the client broadcasts
            // (RFC 2131 §4.4.5), and the exchange is now a rebinding.
            self.state = State::Rebinding;
        }
        if let Some(s) = self
            .packets
            .iter_mut()
            .rev()
            .find(|s| is_copy(&s.obs, &o, s.files))
        {
            s.files |= file_bit(o.at.file);
            if s.copies.len() < 8 {
                s.copies.push(Sighting {
                    at: o.at,
                    udp_checksum: o.udp_checksum,
                });
            }
            return false;
        }
        if self.packets.len() >= MAX_PACKETS {
            self.dropped += 1;
            return true;
        }
        let files = file_bit(o.at.file);
        self.packets.push(Seen {
            obs: o,
            copies: Vec::new(),
            files,
        });
        true
    }

    /// A RENEWING or REBINDING exchange that no server answered yet: its
    /// client retries a minute or more apart (RFC 2131 §4.4.5).
    pub fn renewal_unanswered(&self) -> bool {
        matches!(self.state, State::Renewing | State::Rebinding) && self.replies().next().is_none()
    }

    pub fn client_packets(&self) -> impl Iterator<Item = &Seen> {
        self.packets.iter().filter(|s| s.obs.from_client())
    }

    pub fn replies(&self) -> impl Iterator<Item = &Seen> {
        self.packets.iter().filter(|s| !s.obs.from_client())
    }

    pub fn of_kind(&self, k: MessageType) -> impl Iterator<Item = &Seen> {
        self.packets.iter().filter(move |s| s.obs.kind == Some(k))
    }

    pub fn has(&self, k: MessageType) -> bool {
        self.of_kind(k).next().is_some()
    }

    /// Distinct servers that sent replies of kind `k`, in order of first reply.
    pub fn servers(&self, k: MessageType) -> Vec<Ipv4Addr> {
        let mut v = Vec::new();
        for s in self.of_kind(k) {
            let id = s.obs.server();
            if !v.contains(&id) {
                v.push(id);
            }
        }
        v
    }

    /// The ACKs after which the client sent the REQUEST again (at least
    /// [`ASKED_AGAIN_NS`] later, so not one that crossed the ACK on the
    /// wire): how many, and whether the last ACK is one of them. A client
    /// that takes an ACK never REQUESTs again under its xid.
    pub fn acks_asked_again(&self) -> (usize, bool) {
        if !self.requested_after_ack {
            return (0, false);
        }
        let mut asked = 0;
        let mut last = false;
        for a in self.of_kind(MessageType::Ack) {
            let again = self
                .of_kind(MessageType::Request)
                .any(|r| r.obs.ts.0 - a.obs.ts.0 >= ASKED_AGAIN_NS);
            asked += usize::from(again);
            last = again;
        }
        (asked, last)
    }

    /// The outcome, given why the transaction was closed and, at the end of
    /// the capture, how long before the end its last packet was.
    pub fn outcome(&self, closed: Closed, quiet_ns: i64) -> Outcome {
        use MessageType::*;
        let recent = closed == Closed::EndOfCapture && quiet_ns < 4_000_000_000;
        match self.state {
            State::Release => return Outcome::Released,
            State::Decline => return Outcome::Declined,
            _ => {}
        }
        // An ACKed address the client then declined (its ARP probe found it
        // in use), in the same exchange: the lease was refused, unless a
        // later ACK gave it another.
        let last = |k: MessageType| self.of_kind(k).map(|s| s.obs.ts).max();
        if let Some(declined) = last(Decline) {
            if last(Ack).is_none_or(|acked| declined > acked) {
                return Outcome::Declined;
            }
        }
        let ack = self.has(Ack) || (self.state == State::Bootp && self.replies().next().is_some());
        if ack && self.state != State::Inform {
            let (asked_again, last_asked_again) = self.acks_asked_again();
            if last_asked_again || asked_again >= 2 {
                return Outcome::AckIgnored;
            }
        }
        if ack {
            return match self.state {
                State::Renewing | State::Rebinding => Outcome::Renewed,
                State::Inform => Outcome::Informed,
                _ => Outcome::Bound,
            };
        }
        if self.has(Nak) {
            return Outcome::Nak;
        }
        // Unanswered so far: a failure once the client had to retransmit or
        // start over, unless the capture ended before it had the chance.
        let sent = |k: MessageType| {
            self.client_packets()
                .filter(|s| s.obs.kind == Some(k))
                .count()
        };
        let waiting = |n: usize| {
            if recent && n <= 1 {
                Outcome::Incomplete
            } else {
                Outcome::NoAck
            }
        };
        match self.state {
            State::Init | State::Bootp => {
                if self.has(Request) {
                    waiting(sent(Request))
                } else if let Some(first_offer) = self.of_kind(Offer).map(|s| s.obs.ts).min() {
                    let asked_again = self.of_kind(Discover).any(|s| s.obs.ts > first_offer);
                    if asked_again || closed == Closed::Superseded || !recent {
                        Outcome::OfferIgnored
                    } else {
                        Outcome::Incomplete
                    }
                } else {
                    let n = self.client_packets().count();
                    if recent && n <= 1 {
                        Outcome::Incomplete
                    } else {
                        Outcome::NoOffer
                    }
                }
            }
            State::Unknown => Outcome::Incomplete,
            State::Inform => waiting(sent(Inform)),
            _ => waiting(sent(Request)),
        }
    }
}

/// How long after an ACK a REQUEST of the same xid must come to show that
/// the client did not take the ACK (a retransmission timer is a second or
/// more; a REQUEST that crossed the ACK on the wire comes within a round trip).
pub const ASKED_AGAIN_NS: i64 = 500_000_000;

pub(crate) fn file_bit(file: u16) -> u64 {
    1u64 << (file.min(63))
}

/// Whether `b` is `a` seen again at another vantage point or relay hop,
/// rather than a retransmission.
fn is_copy(a: &Obs, b: &Obs, a_files: u64) -> bool {
    if a.kind != b.kind || a.op != b.op || (b.ts.0 - a.ts.0).abs() > COPY_WINDOW_NS {
        return false;
    }
    let same_content = if a.from_client() {
        a.secs == b.secs && a.requested_ip == b.requested_ip && a.ciaddr == b.ciaddr
    } else {
        a.yiaddr == b.yiaddr && a.server() == b.server()
    };
    if !same_content {
        return false;
    }
    // Another capture, or another interface of one capture.
    let other_file = a_files & file_bit(b.at.file) == 0 || a.iface != b.iface;
    let other_hop = a.giaddr != b.giaddr
        || a.hops != b.hops
        || (a.src_port, a.dst_port) != (b.src_port, b.dst_port)
        || a.src_ip != b.src_ip
        || a.dst_ip != b.dst_ip;
    // The same frame twice in one capture, within a few milliseconds:
    // captured on two interfaces at once (`-i any` with a bridge and its
    // port, a SPAN of both directions). A message sent twice that fast
    // (some clients do) has an IP identification of its own.
    let same_frame_again = (b.ts.0 - a.ts.0).abs() <= DUPLICATE_WINDOW_NS
        && (a.ip_id, a.length, a.udp_checksum, a.src_mac)
            == (b.ip_id, b.length, b.udp_checksum, b.src_mac);
    other_file || other_hop || same_frame_again
}

/// A finished transaction, as reported: a view of the transaction that
/// serialises without allocating (it is written for every transaction of a
/// JSON report).
#[derive(Debug, Clone, Copy)]
pub struct Summary<'t> {
    t: &'t Transaction,
    pub chaddr: HwAddr,
    pub xid: u32,
    pub state: State,
    pub outcome: Outcome,
    /// The address leased or offered.
    pub address: Option<Ipv4Addr>,
    /// The server that answered (the chosen one when several did).
    pub server: Option<Ipv4Addr>,
    pub start: Timestamp,
    pub end: Timestamp,
    /// Client messages sent, counting retransmissions (not copies).
    pub requests: usize,
    pub retransmissions: usize,
    /// Seconds from the first client message to the first reply.
    pub reply_latency: Option<f64>,
    /// Per step, how fast the server answered (seconds): the first OFFER
    /// after the DISCOVER just before it; the first ACK or NAK after the
    /// REQUEST just before it. (`reply_latency` is the client's wait.)
    pub offer_latency: Option<f64>,
    pub ack_latency: Option<f64>,
    /// `secs` of the first and last client message.
    pub secs: Option<(u16, u16)>,
    pub lease_time: Option<u32>,
}

impl Summary<'_> {
    /// Every server that answered.
    pub fn servers(&self) -> Vec<Ipv4Addr> {
        self.t.all_servers()
    }

    /// The frames of its packets (and their copies), at most 64.
    pub fn frames(&self) -> impl Iterator<Item = FrameRef> + '_ {
        self.t.packets.iter().flat_map(|s| s.frames()).take(64)
    }

    /// Its ladder: one step per packet seen (copies folded).
    pub fn ladder(&self) -> Vec<crate::client::Step> {
        crate::client::ladder(self.t, self.t.first)
    }
}

impl Summary<'_> {
    /// The documented `transactions` entry of `diagnose --json`.
    pub fn write_json(&self, w: &mut Vec<u8>) -> std::io::Result<()> {
        let mut o = crate::json::Object::new(w)?;
        o.hw("chaddr", self.chaddr)?;
        o.xid("xid", self.xid)?;
        o.plain("state", self.state.name())?;
        o.plain("outcome", self.outcome.name())?;
        o.ip("address", self.address)?;
        o.ip("server", self.server)?;
        let mut seen: [Option<Ipv4Addr>; 8] = [None; 8];
        let mut n = 0;
        for r in self.t.replies() {
            let id = Some(r.obs.server());
            if n < seen.len() && !seen[..n].contains(&id) {
                seen[n] = id;
                n += 1;
            }
        }
        o.ips("servers", seen[..n].iter().flatten().copied())?;
        o.time("start", self.start)?;
        o.time("end", self.end)?;
        o.num("requests", self.requests as u64)?;
        o.num("retransmissions", self.retransmissions as u64)?;
        o.opt_f64("reply_latency", self.reply_latency)?;
        o.opt_f64("offer_latency", self.offer_latency)?;
        o.opt_f64("ack_latency", self.ack_latency)?;
        o.opt_pair("secs", self.secs.map(|(a, b)| (u64::from(a), u64::from(b))))?;
        o.opt_num("lease_time", self.lease_time.map(u64::from))?;
        o.frames("frames", self.frames())?;
        o.end()
    }
}

impl Serialize for Summary<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        crate::json::via_writer(s, |w| self.write_json(w))
    }
}

/// What a finished transaction gave the client: computed for every
/// transaction, without allocating.
#[derive(Debug, Clone, Copy)]
pub struct Verdict {
    pub outcome: Outcome,
    /// The address leased or offered.
    pub address: Option<Ipv4Addr>,
    /// The server that answered (the chosen one when several did).
    pub server: Option<Ipv4Addr>,
    pub lease_time: Option<u32>,
}

impl Transaction {
    /// The reply that decided the transaction: ACK or NAK, else an OFFER,
    /// else any reply.
    fn final_reply(&self) -> Option<&Obs> {
        self.of_kind(MessageType::Ack)
            .chain(self.of_kind(MessageType::Nak))
            .next()
            .or_else(|| self.of_kind(MessageType::Offer).next())
            .or_else(|| self.replies().next())
            .map(|s| &s.obs)
    }

    pub fn verdict(&self, outcome: Outcome) -> Verdict {
        let reply = self.final_reply();
        let chosen = self.client_packets().filter_map(|s| s.obs.server_id).last();
        Verdict {
            outcome,
            address: reply.map(|o| o.yiaddr).filter(|a| !a.is_unspecified()),
            server: chosen.or_else(|| reply.map(Obs::server)),
            lease_time: reply.and_then(|o| o.lease),
        }
    }

    /// Every server that replied, in order of first reply (at most eight).
    pub fn all_servers(&self) -> Vec<Ipv4Addr> {
        let mut v = Vec::new();
        for s in self.replies() {
            let id = s.obs.server();
            if !v.contains(&id) && v.len() < 8 {
                v.push(id);
            }
        }
        v
    }
}

impl<'t> Summary<'t> {
    /// Built in two walks over the packets (it is built for every
    /// transaction of a JSON report): one for the counts, the first and last
    /// client message and the first replies, one for the requests they answer.
    pub fn new(t: &'t Transaction, v: Verdict) -> Summary<'t> {
        use MessageType::*;
        let mut first_client: Option<&Obs> = None;
        let mut last_client: Option<&Obs> = None;
        let mut first_reply: Option<Timestamp> = None;
        let (mut first_offer, mut first_ack_or_nak) = (None::<Timestamp>, None::<Timestamp>);
        // Retransmissions: client messages beyond the first of each type.
        let mut kinds = [0usize; 20];
        let mut requests = 0;
        for o in t.packets.iter().map(|s| &s.obs) {
            if o.from_client() {
                first_client.get_or_insert(o);
                last_client = Some(o);
                requests += 1;
                kinds[o.kind.map_or(19, |k| usize::from(u8::from(k)).min(18))] += 1;
            } else {
                let earliest = |e: Option<Timestamp>| Some(e.map_or(o.ts, |e| e.min(o.ts)));
                first_reply = earliest(first_reply);
                match o.kind {
                    Some(Offer) => first_offer = earliest(first_offer),
                    Some(Ack | Nak) => first_ack_or_nak = earliest(first_ack_or_nak),
                    _ => {}
                }
            }
        }
        // The last DISCOVER before the first OFFER, the last REQUEST before
        // the first ACK or NAK.
        let (mut discover, mut request) = (None::<Timestamp>, None::<Timestamp>);
        if first_offer.is_some() || first_ack_or_nak.is_some() {
            for o in t.packets.iter().map(|s| &s.obs).filter(|o| o.from_client()) {
                let latest = |l: Option<Timestamp>| Some(l.map_or(o.ts, |l| l.max(o.ts)));
                match (o.kind, first_offer, first_ack_or_nak) {
                    (Some(Discover), Some(answer), _) if o.ts <= answer => {
                        discover = latest(discover)
                    }
                    (Some(Request), _, Some(answer)) if o.ts <= answer => request = latest(request),
                    _ => {}
                }
            }
        }
        let seconds = |from: Timestamp, to: Timestamp| (to.0 - from.0) as f64 / 1e9;
        Summary {
            t,
            chaddr: t.chaddr,
            xid: t.xid,
            state: t.state,
            outcome: v.outcome,
            address: v.address,
            server: v.server,
            start: t.first,
            end: t.last,
            requests,
            retransmissions: kinds.iter().map(|n| n.saturating_sub(1)).sum(),
            reply_latency: match (first_client, first_reply) {
                (Some(c), Some(r)) if r >= c.ts => Some(seconds(c.ts, r)),
                _ => None,
            },
            offer_latency: discover.zip(first_offer).map(|(a, b)| seconds(a, b)),
            ack_latency: request.zip(first_ack_or_nak).map(|(a, b)| seconds(a, b)),
            secs: first_client.zip(last_client).map(|(a, b)| (a.secs, b.secs)),
            lease_time: v.lease_time,
        }
    }
}
