//! The diagnosis rules. Each looks at one finished transaction (with its
//! client's context), a client's DISCOVER cycle, a client at the end, or the
//! whole capture, and returns findings that quote the values they saw.
//!
//! The failure catalogue (`shared/docs/failure-catalogue.md`) is the source of
//! the signatures; the references name the RFC section or vendor behaviour.
//!
//! [`transaction`] runs the transaction rules, cheapest test first; the
//! rules themselves live by subject:
//! - `symptoms`: the outcome's finding (no OFFER, an OFFER or ACK passed
//!   over, no ACK, a NAK), naming the cause the other rules found;
//! - `packets`: faults in the messages and in how they travel;
//! - `lease`: lease times, routes, subnet, declines, renewals;
//! - `timing`: switch ports, slow and competing servers, `secs`;
//! - `pxe`: network boot;
//! - `refusals`: ICMP errors;
//! - `clients`: a client at its end, and identifiers shared by clients.

use std::fmt::Write as _;
use std::net::Ipv4Addr;

use capture::Timestamp;
use wire::dhcp::MessageType::*;
use wire::{HwAddr, UdpChecksum};

use crate::client::{Client, Cycle};
use crate::finding::{Code, Confidence, Finding, Severity};
use crate::obs::{FrameRef, KernelChecksum, Obs, Short};
use crate::transaction::{file_bit, Outcome, Seen, Sighting, State, Transaction};

mod clients;
mod lease;
mod packets;
mod pxe;
mod refusals;
mod symptoms;
mod timing;

use lease::*;
use packets::*;
use pxe::*;
use refusals::*;
use symptoms::*;
use timing::*;

pub use clients::{client_end, shared_client_ids};
pub use refusals::{
    refused, reply_unreachable, server_unreachable, unnamed_refusals, UnnamedRefusals,
};
pub(crate) use symptoms::{ack_missing_at_client, NO_OFFER_ASK_FOR_LOG, NO_OFFER_READ_LOG_FIX};
pub use timing::secs_cycle;

/// What the transaction rules may consult besides the transaction.
pub struct Context<'a> {
    pub capture_start: Timestamp,
    /// The client as it was before this transaction.
    pub client: &'a Client,
    /// The client packet that started a newer transaction and closed this one.
    pub superseded_by: Option<&'a Obs>,
    /// Names of the capture files (for frame references in text).
    pub files: &'a [String],
    /// First and last timestamp of each capture file.
    pub file_spans: &'a [(Timestamp, Timestamp)],
    /// Whether any server answered anyone in the capture so far.
    pub any_server: bool,
}

impl Context<'_> {
    /// `frame 12`, or `client.pcap:12` when several files are read.
    pub fn frame(&self, r: FrameRef) -> String {
        frame_name(self.files, r)
    }

    /// A list of frames, shortened after six.
    pub fn frames(&self, refs: impl IntoIterator<Item = FrameRef>) -> String {
        frame_list(self.files, refs)
    }
}

pub fn frame_name(files: &[String], r: FrameRef) -> String {
    let mut name = String::with_capacity(24);
    push_frame_name(&mut name, files, r);
    name
}

/// A capture's name without its directory.
fn short_name(path: &str) -> &str {
    std::path::Path::new(path)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or(path)
}

/// `frame 12` for one file, `client.pcap:12` (the file's name without its
/// directory) for several.
fn push_frame_name(out: &mut String, files: &[String], r: FrameRef) {
    if files.len() > 1 {
        let name = files.get(usize::from(r.file)).map_or("?", String::as_str);
        out.push_str(short_name(name));
        out.push(':');
    } else {
        out.push_str("frame ");
    }
    out.push_str(itoa::Buffer::new().format(r.frame));
}

pub fn frame_list(files: &[String], refs: impl IntoIterator<Item = FrameRef>) -> String {
    let refs: Vec<FrameRef> = refs.into_iter().collect();
    let mut list = String::with_capacity(16 + 12 * refs.len().min(6));
    let named = files.len() > 1;
    if !named {
        // "frames 1, 3, 5" rather than "frame 1, frame 3, frame 5"
        list.push_str(if refs.len() == 1 { "frame " } else { "frames " });
    }
    for (i, r) in refs.iter().take(6).enumerate() {
        if i > 0 {
            list.push_str(", ");
        }
        if named {
            push_frame_name(&mut list, files, *r);
        } else {
            list.push_str(itoa::Buffer::new().format(r.frame));
        }
    }
    if refs.len() > 6 {
        let _ = write!(list, ", … ({} in all)", refs.len());
    }
    list
}

fn secs_fmt(ns: i64) -> String {
    format!("{:.1} s", ns as f64 / 1e9)
}

fn xid(x: u32) -> wire::dhcp::HexBuf {
    wire::dhcp::HexBuf::xid(x)
}

/// Replies that reach (or are meant to reach) the client directly.
fn to_client(t: &Transaction) -> impl Iterator<Item = &Seen> {
    t.replies().filter(|s| !s.obs.to_relay())
}

/// The client's first REQUEST after `reply` that takes it up: naming its
/// server (option 54), or asking for the address it offered while naming
/// no other server that offered (a server id no OFFER came from is the
/// client's mistake, not a choice: it still asks for this address). The reply
/// reached the client and was taken, so whatever is odd about it did not
/// make the client start over.
fn answered_by<'t>(t: &'t Transaction, reply: &Obs) -> Option<&'t Obs> {
    t.of_kind(Request).map(|s| &s.obs).find(|o| {
        o.ts > reply.ts
            && match o.server_id {
                Some(id) if id == reply.server() => true,
                // Another server's OFFER, of the same address perhaps, was
                // the one taken.
                Some(id) if t.of_kind(Offer).any(|r| r.obs.server() == id) => false,
                _ => !reply.yiaddr.is_unspecified() && o.requested_ip == Some(reply.yiaddr),
            }
    })
}

/// In an ack-ignored exchange, whether what `odd` tells of a reply can be
/// why the client did not take its ACKs: every ACK has it, and an OFFER
/// without it was taken up (REQUESTed) in the same transaction. (A
/// transaction that began with the REQUEST again has no OFFER to compare:
/// the client may have taken one just as odd.)
fn explains_untaken_acks(t: &Transaction, outcome: Outcome, odd: impl Fn(&Obs) -> bool) -> bool {
    outcome == Outcome::AckIgnored
        && t.of_kind(Ack).all(|s| odd(&s.obs))
        && t.of_kind(Offer)
            .any(|s| !odd(&s.obs) && answered_by(t, &s.obs).is_some())
        && !t
            .of_kind(Offer)
            .any(|s| odd(&s.obs) && answered_by(t, &s.obs).is_some())
}

/// Runs every transaction rule.
pub fn transaction(t: &Transaction, outcome: Outcome, ctx: &Context<'_>) -> Vec<Finding> {
    use Triggers as T;
    // Rules that need a packet most transactions lack run only when one walk
    // over the packets saw it (each rule still looks for it itself).
    let seen = Triggers::of(t);
    let mut causes: Vec<Finding> = Vec::new();
    if seen.has(T::BAD_CHECKSUM) {
        causes.extend(checksums(t, outcome, ctx));
    }
    if seen.has(T::ASKS_BROADCAST) {
        add(&mut causes, broadcast_flag_ignored(t, outcome, ctx));
    }
    if seen.has(T::OPTION82) {
        add(&mut causes, option82_not_echoed(t, outcome, ctx));
        add(&mut causes, option82_without_giaddr(t, outcome, ctx));
    }
    if seen.has(T::ODD_SIZE) {
        causes.extend(reply_size(t, outcome, ctx));
    }
    add(&mut causes, server_id_mismatch(t, outcome, ctx));
    add(&mut causes, xid_changed(t, ctx));
    if seen.has(T::PXE) {
        add(&mut causes, pxe_boot_file_missing(t, outcome, ctx));
        add(&mut causes, pxe_boot_server_missing(t, ctx));
        add(&mut causes, pxe_boot_file_wrong_arch(t, ctx));
        add(&mut causes, pxe_proxy_on_dhcp_server(t, ctx));
    }
    if seen.has(T::ANOMALY) {
        add(&mut causes, malformed(t, outcome, ctx));
    }
    add(&mut causes, reply_not_seen_by_client(t, outcome, ctx));
    if seen.has(T::LEASE_PROBLEM) {
        add(&mut causes, lease_times(t, ctx));
    }
    if seen.has(T::CLASSLESS) {
        add(&mut causes, classless_routes(t, ctx));
    }
    add(&mut causes, required_options(t, ctx));
    if seen.has(T::SUBNET_PROBLEM) {
        add(&mut causes, lease_subnet(t, ctx));
    }
    if seen.has(T::DECLINE) {
        add(&mut causes, address_declined(t, ctx));
    }
    if seen.has(T::BAD_HOST_NAME) {
        add(&mut causes, host_name_invalid(t, outcome, ctx));
    }
    add(&mut causes, stp_delay(t, ctx));
    if seen.has(T::SOURCE_NOT_CHADDR) {
        add(&mut causes, chaddr_source(t, ctx));
    }
    if seen.has(T::MALFORMED_RENEWAL) {
        add(&mut causes, renew_malformed(t, ctx));
    }
    if seen.has(T::UNICAST_RENEWAL) {
        add(&mut causes, renew_unanswered(t, outcome, ctx));
    }
    if seen.has(T::TYPE_NOT_FIRST) {
        add(&mut causes, type_not_first(t, outcome, ctx));
    }
    add(&mut causes, slow_offer(t, ctx));
    add(&mut causes, multiple_servers(t, ctx));
    if seen.has(T::PXE) {
        let fast = pxe_reply_too_fast(t, outcome, &causes, ctx);
        add(&mut causes, fast);
    }
    let symptom = match outcome {
        Outcome::NoOffer => Some(no_offer(t, ctx)),
        Outcome::OfferIgnored => Some(offer_ignored(t, &causes, ctx)),
        Outcome::NoAck => Some(no_ack(t, &causes, ctx)),
        Outcome::AckIgnored => Some(ack_ignored(t, true, &causes, ctx)),
        o if o.is_success() && (t.asked_after_ack > 0 || ack_asked_again(t)) => {
            Some(ack_ignored(t, false, &causes, ctx))
        }
        _ => None,
    };
    if seen.has(T::NAK) {
        add(&mut causes, nak(t, outcome, ctx));
    }
    add(&mut causes, symptom);
    causes
}

/// The packets some rules start from, as seen in one walk over a
/// transaction. Each bit is a necessary condition for its rule's finding:
/// the test the rule starts with (the same function where it is more than a
/// field), or for `ODD_SIZE` a wider one, so a rule whose bit is clear would
/// have found nothing.
#[derive(Clone, Copy)]
struct Triggers(u32);

impl Triggers {
    /// A reply to the client with a partial or wrong UDP checksum.
    const BAD_CHECKSUM: u32 = 1 << 0;
    /// A client message asking for broadcast replies.
    const ASKS_BROADCAST: u32 = 1 << 1;
    /// A client message with option 82 (relayed or not).
    const OPTION82: u32 = 1 << 2;
    /// A reply under 300 bytes, or one to the client over the smallest
    /// limit a client can set (576-byte datagrams).
    const ODD_SIZE: u32 = 1 << 3;
    /// A PXE client (option 60 «PXEClient» or option 93), iPXE included.
    const PXE: u32 = 1 << 4;
    /// A packet with anomalies.
    const ANOMALY: u32 = 1 << 5;
    /// An OFFER or ACK whose lease times are out of order.
    const LEASE_PROBLEM: u32 = 1 << 6;
    /// An OFFER or ACK with option 121 but no default route, and option 3.
    const CLASSLESS: u32 = 1 << 7;
    /// A DHCPDECLINE.
    const DECLINE: u32 = 1 << 8;
    /// A client message whose Ethernet source is not its chaddr.
    const SOURCE_NOT_CHADDR: u32 = 1 << 9;
    /// A REQUEST breaking the renewal rules.
    const MALFORMED_RENEWAL: u32 = 1 << 10;
    /// A unicast renewal.
    const UNICAST_RENEWAL: u32 = 1 << 11;
    /// A reply to the client whose option 53 is not first.
    const TYPE_NOT_FIRST: u32 = 1 << 12;
    /// A DHCPNAK.
    const NAK: u32 = 1 << 13;
    /// An OFFER or ACK whose address, mask and router disagree.
    const SUBNET_PROBLEM: u32 = 1 << 14;
    /// A client's option 12 that is not a DNS name.
    const BAD_HOST_NAME: u32 = 1 << 15;

    fn of(t: &Transaction) -> Triggers {
        let mut bits = 0;
        let mut set = |bit: u32, seen: bool| {
            if seen {
                bits |= bit;
            }
        };
        for s in &t.packets {
            let o = &s.obs;
            if o.from_client() {
                set(Self::ASKS_BROADCAST, asks_broadcast(o));
                set(Self::OPTION82, o.relay_info().is_some());
                set(Self::PXE, is_pxe(o));
                set(Self::SOURCE_NOT_CHADDR, source_not_chaddr(o));
                set(Self::BAD_HOST_NAME, o.bad_host_name().is_some());
            } else {
                let to_client = !o.to_relay();
                set(
                    Self::ODD_SIZE,
                    o.length < 300 || to_client && o.length > SMALLEST_PAYLOAD_LIMIT,
                );
                set(Self::BAD_CHECKSUM, to_client && bad_checksum(s));
                set(Self::TYPE_NOT_FIRST, to_client && o.type_not_first);
                set(Self::LEASE_PROBLEM, lease_offer_problem(o));
                set(Self::CLASSLESS, classless_hides_router(o));
                set(Self::SUBNET_PROBLEM, subnet_fault(o).is_some());
            }
            match o.kind {
                Some(Decline) => set(Self::DECLINE, true),
                Some(Nak) => set(Self::NAK, true),
                Some(Request) => {
                    set(Self::MALFORMED_RENEWAL, malformed_renewal(o, t.state));
                    set(Self::UNICAST_RENEWAL, unicast_renewal(o));
                }
                _ => {}
            }
            set(Self::ANOMALY, !o.anomalies().is_empty());
        }
        Triggers(bits)
    }

    fn has(self, bit: u32) -> bool {
        self.0 & bit != 0
    }
}

/// The DHCP payload a client can always take: a 576-byte IP datagram less
/// the IP and UDP headers (RFC 2131 §2; option 57 can only raise it).
const SMALLEST_PAYLOAD_LIMIT: usize = 576 - 28;

/// Whether any capture holds `s` with a partial or invalid UDP checksum.
fn bad_checksum(s: &Seen) -> bool {
    s.sightings().any(|c| {
        matches!(
            c.udp_checksum,
            UdpChecksum::Partial { .. } | UdpChecksum::Invalid { .. }
        )
    })
}

fn asks_broadcast(o: &Obs) -> bool {
    o.broadcast() && o.ciaddr.is_unspecified()
}

fn relayed_with_option82(o: &Obs) -> bool {
    o.relay_info().is_some() && !o.giaddr.is_unspecified()
}

fn boots_without_ipxe(o: &Obs) -> bool {
    is_pxe(o) && !o.ipxe
}

fn lease_offer_problem(o: &Obs) -> bool {
    matches!(o.kind, Some(Offer | Ack)) && lease_problem(o).is_some()
}

fn classless_hides_router(o: &Obs) -> bool {
    matches!(o.kind, Some(Ack | Offer)) && o.classless_routes == Some(false) && o.router.is_some()
}

/// A client without an address must send its own frames: anything unicast
/// may come through a router, whose MAC is the source.
fn source_not_chaddr(o: &Obs) -> bool {
    o.src_port == 68
        && o.src_ip.is_unspecified()
        && o.giaddr.is_unspecified()
        && o.chaddr.as_bytes().len() == 6
        && o.src_mac
            .is_some_and(|m| m.as_slice() != o.chaddr.as_bytes())
}

/// A REQUEST that renews with option 50 or 54, or is unicast without ciaddr.
fn malformed_renewal(o: &Obs, state: State) -> bool {
    let renewing = matches!(state, State::Renewing | State::Rebinding)
        && (o.requested_ip.is_some() || o.server_id.is_some());
    let unicast_no_ciaddr = o.ciaddr.is_unspecified()
        && !o.broadcast_dst()
        && o.giaddr.is_unspecified()
        && o.src_port == 68;
    renewing || unicast_no_ciaddr
}

fn unicast_renewal(o: &Obs) -> bool {
    !o.ciaddr.is_unspecified() && !o.broadcast_dst() && o.giaddr.is_unspecified()
}

/// Keeps a rule's finding, if it made one. (Not `Vec::extend`: that moves
/// the `Option<Finding>` twice even when it is `None`, for each rule and
/// each transaction.)
#[inline(always)]
fn add(causes: &mut Vec<Finding>, f: Option<Finding>) {
    if let Some(f) = f {
        causes.push(f);
    }
}

/// A finding that explains the failure (an error, with `confidence`) when the
/// exchange failed, and is a risk (a warning) when it did not.
fn cause_or_risk(code: Code, t: &Transaction, failed: bool, confidence: Confidence) -> Finding {
    let severity = if failed {
        Severity::Error
    } else {
        Severity::Warning
    };
    let f = Finding::new(code, severity, Some(t.chaddr), Some(t.xid));
    if failed {
        f.cause(confidence)
    } else {
        f
    }
}

/// The causes already found that explain the failure, as a sentence.
fn cause_sentence(causes: &[Finding]) -> Option<String> {
    let names: Vec<&str> = causes
        .iter()
        .filter(|c| c.explains_failure)
        .map(|c| c.code.as_str())
        .collect();
    (!names.is_empty()).then(|| {
        format!(
            " Likely cause, shown in its own finding: {}.",
            names.join(", ")
        )
    })
}

#[cfg(test)]
mod tests;
