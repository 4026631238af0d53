//! The diagnosis rules. Each looks at one finished transaction (with its
//! client's context), a client's DISCOVER cycle, a client at the end, or the
//! whole capture, and returns findings that quote the values they saw.
//!
//! The failure catalogue (`shared/docs/failure-catalogue.md`) is the source of
//! the signatures; the references name the RFC section or vendor behaviour.

use std::fmt::Write as _;
use std::net::Ipv4Addr;

use capture::Timestamp;
use wire::dhcp::MessageType::*;
use wire::{HwAddr, UdpChecksum};

use crate::client::{Client, Cycle};
use crate::finding::{Code, Confidence, Finding, Severity};
use crate::obs::{FrameRef, KernelChecksum, Obs, Short};
use crate::transaction::{Outcome, Seen, State, Transaction};

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

/// `host-name-invalid` (catalogue A.7): the client's option 12 is no DNS
/// name (an empty label, a space, a label over 63 bytes). In the lab, ISC
/// dhcpd 4.4 keeps such a name as it is, dnsmasq 2.90 drops it or keeps
/// what comes before the bad part, Kea 2.2 strips bad characters or
/// ignores the name, and all three answer: a risk for the name, not the
/// lease.
fn host_name_invalid(t: &Transaction, outcome: Outcome, ctx: &Context<'_>) -> Option<Finding> {
    let asked = t
        .client_packets()
        .map(|s| &s.obs)
        .find(|o| o.bad_host_name().is_some())?;
    let name = asked.bad_host_name()?;
    let severity = if outcome.is_success() {
        Severity::Info
    } else {
        Severity::Warning
    };
    Some(
        Finding::new(Code::HostNameInvalid, severity, Some(t.chaddr), Some(t.xid))
            .frames([asked.at])
            .summary(format!("the client's host name «{name}» (option 12) is not a valid DNS name"))
            .explanation(format!(
                "The {} ({}) names the host «{name}»: a DNS name is labels of letters, digits and hyphens (not first \
                 or last), 1 to 63 bytes each, between single dots. Servers differ: ISC dhcpd 4.4 keeps it as it is \
                 (and cannot register it in DNS), dnsmasq 2.90 drops it or keeps the part before the fault (\"bad..host\" \
                 becomes \"bad\"), Kea 2.2 removes characters outside its hostname-char-set (\"bad host\" becomes \"badhost\") \
                 and ignores a name it cannot repair (DHCP4_CLIENT_HOSTNAME_MALFORMED, at debug level). All three still \
                 lease an address, so this is about the name: the host will not be found under it.",
                asked.short_name(),
                ctx.frame(asked.at),
            ))
            .fix("Give the client a host name of letters, digits and hyphens (its OS or firmware setting), or have the server assign one (a host reservation with a name).")
            .references(&["RFC 1123 §2.1", "RFC 2132 §3.14"]),
    )
}

/// The PXE client's request: a boot ROM's (option 60 «PXEClient» or option
/// 93), iPXE's included. iPXE is the ROM of QEMU's and KVM's virtual NICs,
/// and a PXE client all the same: without a boot file it stops ("Nothing
/// to boot"), and after an OFFER that claims PXE service it asks on UDP 4011.
fn pxe_request(t: &Transaction) -> Option<&Obs> {
    t.client_packets().map(|s| &s.obs).find(|o| is_pxe(o))
}

/// The request of a PXE ROM that is not iPXE (some are not listening yet
/// when an instant OFFER arrives; iPXE is).
fn pxe_rom_request(t: &Transaction) -> Option<&Obs> {
    t.client_packets()
        .map(|s| &s.obs)
        .find(|o| boots_without_ipxe(o))
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
        for o in t.packets.iter().map(|s| &s.obs) {
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
                set(Self::BAD_CHECKSUM, to_client && bad_checksum(o));
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

fn bad_checksum(o: &Obs) -> bool {
    matches!(
        o.udp_checksum,
        UdpChecksum::Partial { .. } | UdpChecksum::Invalid { .. }
    )
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

fn no_offer(t: &Transaction, ctx: &Context<'_>) -> Finding {
    let d: Vec<&Obs> = t.of_kind(Discover).map(|s| &s.obs).collect();
    let requests: Vec<&Obs> = if d.is_empty() {
        t.client_packets().map(|s| &s.obs).collect()
    } else {
        d
    };
    let n = requests.len();
    let (first, last) = (
        requests.first().map_or(t.first, |o| o.ts),
        requests.last().map_or(t.last, |o| o.ts),
    );
    let secs: Vec<String> = requests.iter().map(|o| o.secs.to_string()).collect();
    let kind = if t.state == State::Bootp {
        "BOOTREQUEST"
    } else {
        "DISCOVER"
    };
    let mut e = format!(
        "The client sent {n} {kind}{} (xid {}, {}) over {}; no OFFER came back in this capture. secs went {}.",
        if n == 1 { "" } else { "s" },
        xid(t.xid),
        ctx.frames(requests.iter().map(|o| o.at)),
        secs_fmt(last.0 - first.0),
        secs.join(", ")
    );
    if let Some(r) = requests.iter().find(|o| !o.giaddr.is_unspecified()) {
        let _ = write!(
            e,
            " They were relayed by {} (giaddr {}, hops {}): a server with no subnet for the giaddr stays silent \
             (ISC: \"unknown network segment\", Kea: DHCP4_SUBNET_SELECTION_FAILED), and so does one the relay cannot reach.",
            r.src_ip, r.giaddr, r.hops
        );
    }
    if n >= 3 && requests.iter().all(|o| o.secs == requests[0].secs) {
        let _ = write!(
            e,
            " secs never grew: a server configured to wait for it (ISC dhcpd min-secs, failover load balancing) ignores such a client; see secs-not-incrementing."
        );
    }
    if let Some(o) = requests
        .iter()
        .find(|o| matches!(o.udp_checksum, UdpChecksum::Invalid { .. }))
    {
        let _ = write!(
            e,
            " The requests' UDP checksum does not verify ({}): servers drop them (ISC dhcpd counts them as bad UDP checksums).",
            o.udp_checksum
        );
    }
    // ICMP errors quoting these messages already say why (server-unreachable).
    let refused = ctx
        .client
        .refusals()
        .iter()
        .find(|r| !r.reply && r.xid == t.xid && r.port == 67);
    if let Some(r) = refused {
        let _ = write!(
            e,
            " ICMP errors from {} quote them ({}): see server-unreachable.",
            r.reporter,
            ctx.frame(r.at)
        );
    } else {
        if !ctx.any_server {
            e.push_str(" No server answered any client in this capture so far: is a server running, and does this capture see its side of the link?");
        }
        e.push_str(NO_OFFER_ASK_FOR_LOG);
    }
    Finding::new(Code::NoOffer, Severity::Error, Some(t.chaddr), Some(t.xid))
        .frames(requests.iter().map(|o| o.at))
        .summary(format!("{n} {kind}{} over {} got no OFFER", if n == 1 { "" } else { "s" }, secs_fmt(last.0 - first.0)))
        .explanation(e)
        .fix(format!(
            "{NO_OFFER_READ_LOG_FIX}Usual causes: min-secs, no subnet for the interface or relay (giaddr), pool \
             exhausted, the client denied by a class or host rule, a firewall or VLAN between client and server. \
             `dhcplens probe` and `dhcplens bisect` test the server directly."
        ))
        .references(&["RFC 2131 §3.1", "RFC 2131 §4.4.1"])
}

/// The sentence of `no-offer` that asks for the server's log, and the
/// opening of its fix; [`crate::logjoin`] replaces both once a log is read.
pub(crate) const NO_OFFER_ASK_FOR_LOG: &str =
    " A server that stays silent says why only in its log: give it with --log.";
pub(crate) const NO_OFFER_READ_LOG_FIX: &str =
    "Read the server's log for this MAC at that time (run `dhcplens diagnose CAPTURE --log LOG`). ";

fn offer_ignored(t: &Transaction, causes: &[Finding], ctx: &Context<'_>) -> Finding {
    let offers: Vec<&Obs> = t.of_kind(Offer).map(|s| &s.obs).collect();
    let servers = t.servers(Offer);
    let again: Vec<&Obs> = t
        .of_kind(Discover)
        .map(|s| &s.obs)
        .filter(|o| offers.first().is_some_and(|f| o.ts > f.ts))
        .chain(ctx.superseded_by.filter(|o| o.kind == Some(Discover)))
        .collect();
    let list: Vec<String> = servers.iter().map(|s| s.to_string()).collect();
    let mut e = format!(
        "{} OFFER{} from {} ({}) for xid {} got no REQUEST; the client sent {} DISCOVER{} after {} ({}).",
        offers.len(),
        if offers.len() == 1 { "" } else { "s" },
        list.join(", "),
        ctx.frames(offers.iter().map(|o| o.at)),
        xid(t.xid),
        again.len().max(1),
        if again.len() > 1 { "s" } else { "" },
        if offers.len() == 1 { "it" } else { "them" },
        if again.is_empty() { "in a new transaction".to_string() } else { ctx.frames(again.iter().map(|o| o.at)) },
    );
    match cause_sentence(causes) {
        Some(s) => e.push_str(&s),
        None if ctx.files.len() < 2 => e.push_str(
            " The packets do not show why. If this capture was taken at the server, the OFFER may never reach \
             the client: capture on the client's side too and give both files.",
        ),
        None => e.push_str(&offers_across_captures(t, ctx)),
    }
    Finding::new(Code::OfferIgnored, Severity::Error, Some(t.chaddr), Some(t.xid))
        .frames(offers.iter().map(|o| o.at).chain(again.iter().map(|o| o.at)))
        .summary(format!(
            "{} OFFER{} from {} ignored: the client started over",
            offers.len(),
            if offers.len() == 1 { "" } else { "s" },
            list.join(", ")
        ))
        .explanation(e)
        .fix("Fix the cause named above; otherwise check that the OFFER reaches the client unaltered (capture at the client).")
        .references(&["RFC 2131 §4.4.1"])
}

/// For `offer-ignored` with several captures and no cause found: which
/// captures hold the client's DISCOVERs but none of the OFFERs, though
/// running when they were sent. A broadcast OFFER missing there is
/// `reply-not-seen-by-client` (a cause); a unicast one reaches only the
/// client's port, so its absence is telling only if that capture was taken
/// on the client's side, which the packets cannot say.
fn offers_across_captures(t: &Transaction, ctx: &Context<'_>) -> String {
    let offers: Vec<&Seen> = t.of_kind(Offer).collect();
    let held = offers.iter().fold(0u64, |acc, s| acc | s.files);
    let lacking = offers.iter().fold(0u64, |acc, s| {
        acc | (asked_before(t.of_kind(Discover), s.obs.ts) & running_at(ctx.file_spans, s.obs.ts))
    }) & !held;
    let with_discovers = t.of_kind(Discover).fold(0u64, |acc, s| acc | s.files);
    if lacking == 0 && with_discovers & !held == 0 {
        return " The packets do not show why: every capture that holds the client's DISCOVERs holds the OFFERs \
                too. If one was taken on the client's host, the client received them and dropped them: read its log."
            .to_string();
    }
    if lacking == 0 {
        // The captures that lack the OFFERs were not running when they
        // were sent (one capture cut in parts, `tcpdump -C`): nothing to
        // compare.
        return " The packets do not show why. If these captures were taken at the server, the OFFER may never \
                reach the client: capture on the client's side too, at the same time."
            .to_string();
    }
    let names = file_names(ctx.files, lacking)
        .iter()
        .map(|n| short_name(n))
        .collect::<Vec<_>>()
        .join(", ");
    let unicast = offers.iter().find(|s| !s.obs.broadcast_dst());
    match unicast {
        Some(u) => format!(
            " The OFFERs went unicast (to {}) and {names} holds the client's DISCOVERs but none of them. If {names} \
             was taken on the client's side, they never reached the client: look for a switch, VLAN or firewall \
             between the server and the client (failure catalogue B.10). If it was taken at another host on the \
             segment, a switch does not send it frames unicast to the client, and the packets do not show why.",
            u.obs.dst_ip
        ),
        None => format!(
            " {names} holds the client's DISCOVERs but none of the OFFERs, though it was capturing: if it was taken \
             on the client's side, they never reached the client."
        ),
    }
}

fn no_ack(t: &Transaction, causes: &[Finding], ctx: &Context<'_>) -> Finding {
    let reqs: Vec<&Obs> = t
        .client_packets()
        .map(|s| &s.obs)
        .filter(|o| o.kind == Some(Request) || o.kind == Some(Inform))
        .collect();
    let n = reqs.len();
    let last = reqs
        .last()
        .copied()
        .or_else(|| t.client_packets().map(|s| &s.obs).last());
    let what = last.map_or("the client's request".to_string(), |o| o.ladder_label());
    let mut e = format!(
        "{n} {}REQUEST{} ({}, state {}) got neither ACK nor NAK.",
        if t.state == State::Inform {
            "INFORM/"
        } else {
            ""
        },
        if n == 1 { "" } else { "s" },
        ctx.frames(reqs.iter().map(|o| o.at)),
        t.state.name()
    );
    match t.state {
        State::InitReboot => e.push_str(
            " An INIT-REBOOT request is answered only by a server that knows the network: a server that is not \
             authoritative stays silent (ISC: \"ignored (not authoritative)\", Kea: DHCP4_NO_LEASE_INIT_REBOOT) \
             and the client waits before falling back to DISCOVER.",
        ),
        State::Renewing => e.push_str(
            " Renewal REQUESTs go unicast to the server: no answer usually means the unicast path (routing, \
             firewall) is blocked or the server is gone; the client will rebind by broadcast at T2.",
        ),
        _ => {}
    }
    if let Some(s) = cause_sentence(causes) {
        e.push_str(&s);
    }
    Finding::new(Code::NoAck, Severity::Error, Some(t.chaddr), Some(t.xid))
        .frames(reqs.iter().map(|o| o.at))
        .summary(format!("{what} got no ACK or NAK"))
        .explanation(e)
        .fix("Check the server's log for this request; for renewals check the unicast path from client to server.")
        .references(&["RFC 2131 §4.3.2", "RFC 2131 §4.4.5"])
}

/// Whether the client sent its REQUEST again after one of the ACKs (only
/// asked when it sent more than one).
fn ack_asked_again(t: &Transaction) -> bool {
    t.of_kind(Request).nth(1).is_some() && t.acks_asked_again().0 > 0
}

/// The client did not take an ACK: `failed` when that is how the exchange
/// ended ([`Outcome::AckIgnored`]); otherwise an earlier ACK under this xid
/// went untaken and this transaction's was the one the client took.
fn ack_ignored(t: &Transaction, failed: bool, causes: &[Finding], ctx: &Context<'_>) -> Finding {
    let acks: Vec<&Seen> = t.of_kind(Ack).collect();
    let again = |a: &Seen| {
        t.of_kind(Request)
            .map(|s| &s.obs)
            .find(|r| r.ts.0 - a.obs.ts.0 >= crate::transaction::ASKED_AGAIN_NS)
    };
    let asked: Vec<(&Obs, &Obs)> = acks
        .iter()
        .filter_map(|a| again(a).map(|r| (&a.obs, r)))
        .collect();
    // ACKs of earlier transactions under this xid that the client asked
    // again after (the engine closed them before the REQUEST came back).
    let earlier = usize::from(t.asked_after_ack);
    let first = t.client_packets().next().map(|s| &s.obs);
    let missing = ack_missing_at_client(t, ctx.files, ctx.file_spans);
    let servers: Vec<String> = t.servers(Ack).iter().map(|s| s.to_string()).collect();
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    let mut e = String::new();
    match first {
        Some(first) if earlier > 0 && first.kind == Some(Discover) => {
            let _ = write!(
                e,
                "The client started over with a DISCOVER ({}) soon after its exchange before, in which it had sent \
                 its REQUEST again after an ACK: it had not taken {} ACK{} in a row. ",
                ctx.frame(first.at),
                earlier,
                plural(earlier),
            );
        }
        Some(first) if earlier > 0 => {
            let _ = write!(
                e,
                "The client's REQUEST ({}) for xid {} came after an ACK to the same REQUEST in the exchange before: \
                 it had not taken it{}. ",
                ctx.frame(first.at),
                xid(t.xid),
                if earlier == 1 {
                    String::new()
                } else {
                    format!(", nor the {} before it", if earlier == 2 { "one".to_string() } else { (earlier - 1).to_string() })
                },
            );
        }
        _ => {}
    }
    let _ = write!(
        e,
        "{} ACK{} from {} ({}) for xid {}",
        acks.len(),
        plural(acks.len()),
        servers.join(", "),
        ctx.frames(acks.iter().map(|s| s.obs.at)),
        xid(t.xid),
    );
    if asked.is_empty() {
        e.push('.');
    } else {
        let pairs: Vec<String> = asked
            .iter()
            .map(|(a, r)| {
                format!(
                    "{} {:.1} s after {}",
                    ctx.frame(r.at),
                    (r.ts.0 - a.ts.0) as f64 / 1e9,
                    ctx.frame(a.at)
                )
            })
            .collect();
        let _ = write!(
            e,
            ": the client sent its REQUEST again after {} ({}).",
            if asked.len() == acks.len() && acks.len() > 1 {
                "each".to_string()
            } else if acks.len() == 1 {
                "it".to_string()
            } else {
                format!("{} of them", asked.len())
            },
            pairs.join("; "),
        );
    }
    let untaken = if failed {
        acks.len() + earlier
    } else {
        earlier.max(asked.len())
    };
    if !asked.is_empty() || earlier > 0 {
        let _ = write!(
            e,
            " A client that takes an ACK configures the address and never asks again under the same xid: {} \
             did not reach it, or it rejected {}.",
            if untaken == 1 { "that ACK" } else { "those ACKs" },
            if untaken == 1 { "it" } else { "them" },
        );
    }
    let all_asked = asked.len() == acks.len();
    if failed && !all_asked && missing.is_none() {
        e.push_str(
            " Whether it took the last one cannot be told from this capture: it asked no more, which a client \
             also does when it gives up; after so many ACKs went untaken, it most likely did not get that one either.",
        );
    }
    if !failed {
        e.push_str(
            " The last ACK ended the exchange: the client took that one, as far as this capture shows.",
        );
    }
    if let Some(missing) = &missing {
        let _ = write!(
            e,
            " None of them is in {}, which holds the client's REQUESTs: they did not reach the client.",
            missing.join(", ")
        );
    }
    match cause_sentence(causes) {
        Some(s) => e.push_str(&s),
        None if missing.is_none() => e.push_str(
            " The packets do not show why. If this capture was taken at the server, the ACKs may never reach the \
             client: capture on the client's side too and give both files, and read the client's log.",
        ),
        None => {}
    }
    let frames = first
        .filter(|_| earlier > 0)
        .map(|o| o.at)
        .into_iter()
        .chain(acks.iter().map(|s| s.obs.at))
        .chain(asked.iter().map(|(_, r)| r.at));
    let summary = if failed && asked.is_empty() && earlier == 0 {
        format!(
            "ACK{} from {} never reached the client's capture",
            plural(acks.len()),
            servers.join(", ")
        )
    } else if failed {
        format!(
            "ACK{} from {} not taken: the client asked again",
            plural(acks.len() + earlier),
            servers.join(", ")
        )
    } else {
        format!(
            "an earlier ACK from {} was not taken: the client asked again and took this one",
            servers.join(", ")
        )
    };
    let f = Finding::new(
        Code::AckIgnored,
        if failed { Severity::Error } else { Severity::Warning },
        Some(t.chaddr),
        Some(t.xid),
    )
    .frames(frames)
    .summary(summary)
    .explanation(e)
    .fix("Fix the cause named above; otherwise follow the ACK to the client (capture at its side) and read the client's log for why it did not take it.")
    .references(&["RFC 2131 §4.4.1", "failure catalogue B.10"]);
    if !failed {
        return f;
    }
    let confidence = if missing.is_some() || all_asked {
        Confidence::High
    } else {
        Confidence::Medium
    };
    f.cause(confidence)
}

/// The captures that would hold `reply`, a reply to the client, had it
/// reached them. A switch floods broadcasts to every port but sends unicast
/// only to the client's: a unicast reply can be missing only from a capture
/// that sees this server's unicast replies to this client at all (not from
/// a capture at another server, which sees only its own).
fn could_hold(t: &Transaction, reply: &Obs) -> u64 {
    if reply.broadcast_dst() {
        return u64::MAX;
    }
    to_client(t)
        .filter(|s| !s.obs.broadcast_dst() && s.obs.server() == reply.server())
        .fold(0u64, |acc, s| acc | s.files)
}

/// With several captures: the names of those that hold the client's
/// REQUESTs, were capturing when an ACK was sent, and hold none of the
/// transaction's ACKs (the client's side, where the ACKs never arrived).
pub(crate) fn ack_missing_at_client(
    t: &Transaction,
    files: &[String],
    spans: &[(Timestamp, Timestamp)],
) -> Option<Vec<String>> {
    if files.len() < 2 || !t.has(Ack) {
        return None;
    }
    // Captures that could have seen an ACK (the last one often comes after
    // a capture's last packet), and those that hold one.
    let (mut judged, mut present) = (0u64, 0u64);
    for a in t.of_kind(Ack) {
        let ts = a.obs.ts;
        judged |=
            asked_before(t.of_kind(Request), ts) & running_at(spans, ts) & could_hold(t, &a.obs);
        present |= a.files;
    }
    let lacking = judged & !present;
    (lacking != 0).then(|| file_names(files, lacking))
}

/// The captures holding one of `requests` sent in the 5 s up to `ts`.
fn asked_before<'t>(requests: impl Iterator<Item = &'t Seen>, ts: Timestamp) -> u64 {
    requests
        .filter(|r| r.obs.ts <= ts && ts.0 - r.obs.ts.0 < 5_000_000_000)
        .fold(0u64, |acc, r| acc | r.files)
}

/// The captures running at `ts` (between their first and last packet).
fn running_at(spans: &[(Timestamp, Timestamp)], ts: Timestamp) -> u64 {
    (0..spans.len().min(64))
        .filter(|&i| spans[i].0 <= ts && ts <= spans[i].1)
        .fold(0u64, |acc, i| acc | (1 << i))
}

/// The names of the captures whose bits are set in `bits`.
fn file_names(files: &[String], bits: u64) -> Vec<String> {
    files
        .iter()
        .enumerate()
        .filter(|(i, _)| *i < 64 && bits & (1 << i) != 0)
        .map(|(_, n)| n.clone())
        .collect()
}

fn nak(t: &Transaction, outcome: Outcome, ctx: &Context<'_>) -> Option<Finding> {
    let n = t.of_kind(Nak).next()?;
    let n = &n.obs;
    let req = t
        .of_kind(Request)
        .map(|s| &s.obs)
        .filter(|o| o.ts <= n.ts)
        .last();
    let text = n
        .message()
        .map_or(String::from("(without a message: no option 56)"), |m| {
            format!("\"{m}\"")
        });
    let chosen = req.and_then(|r| r.server_id);
    let acked = t.has(Ack);
    // A REQUEST that names no server (INIT-REBOOT, REBINDING) that one
    // server ACKed and another NAKed.
    let acked_by = t
        .of_kind(Ack)
        .map(|s| s.obs.server())
        .find(|a| *a != n.server());
    let (class, why) = if let Some(other) = acked_by.filter(|_| chosen.is_none()) {
        (
            "other-server",
            format!(
                "The REQUEST named no server; {other} ACKed it and {} NAKed it: two servers answer for this network \
                 and disagree about the address, and the client keeps whichever answer it reads first.",
                n.server(),
            ),
        )
    } else if chosen.is_some_and(|c| c != n.server()) {
        (
            "other-server",
            format!(
                "The REQUEST named server {} but the NAK came from {}: a server whose range also covers this \
                 network refused the address another server leases{}.",
                chosen.unwrap_or(Ipv4Addr::UNSPECIFIED),
                n.server(),
                if acked { ", while the chosen server ACKed it" } else { "" }
            ),
        )
    } else {
        match t.state {
            State::InitReboot => (
                "init-reboot-wrong-network",
                format!(
                    "The client rebooted asking to keep {} (INIT-REBOOT: option 50, no server id, ciaddr 0); \
                     the server, authoritative here, says that address is not valid on this network: the client \
                     moved networks (or VLANs) with an old lease. A NAK here is normal; the client should now DISCOVER.",
                    req.and_then(|r| r.requested_ip).map_or("its old address".into(), |a| a.to_string())
                ),
            ),
            State::Renewing | State::Rebinding => (
                "renewal-refused",
                format!(
                    "The server refused to extend {}: it no longer holds that lease (lost lease database, a different \
                     server, or the address was taken back).",
                    req.map_or(Ipv4Addr::UNSPECIFIED, |r| r.ciaddr)
                ),
            ),
            _ => ("refused", "The server refused the requested address.".to_string()),
        }
    };
    let severity = if outcome == Outcome::Nak {
        Severity::Error
    } else {
        Severity::Warning
    };
    let mut f = Finding::new(Code::Nak, severity, Some(t.chaddr), Some(t.xid))
        .frames(req.map(|r| r.at).into_iter().chain([n.at]))
        .summary(format!("server {} sent DHCPNAK ({class}): {text}", n.server()))
        .explanation(format!(
            "{} answers {}. Server's message: {text}. {why}",
            ctx.frame(n.at),
            req.map_or("a REQUEST this capture does not hold".to_string(), |r| format!("{} ({})", r.ladder_label(), ctx.frame(r.at))),
        ))
        .fix(match class {
            "other-server" => "Make only one server authoritative for this network (or give the servers disjoint ranges); a rogue or misconfigured server must go.",
            "init-reboot-wrong-network" => "Expected after a move: the client should restart with DISCOVER. If it does not, or if it did not move, check that the VLAN and the server's subnet for this link are right.",
            "renewal-refused" => "Check the server's lease database and failover state; the client will start over with DISCOVER.",
            _ => "Read the server's message and log for this MAC.",
        })
        .references(&["RFC 2131 §3.2", "RFC 2131 §4.3.2"]);
    if outcome == Outcome::Nak {
        f = f.cause(Confidence::High);
    }
    Some(f)
}

fn checksums(t: &Transaction, outcome: Outcome, ctx: &Context<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    // Most transactions have none: ask before collecting anything.
    if !to_client(t).any(|s| bad_checksum(&s.obs)) {
        return out;
    }
    let replies: Vec<&Seen> = to_client(t).collect();
    // The client ignored every OFFER. (In a no-ack it REQUESTed one, and
    // no ACK or NAK exists to have been dropped.)
    let restarted = outcome == Outcome::OfferIgnored;
    for partial in [true, false] {
        let bad: Vec<&Seen> = replies
            .iter()
            .copied()
            .filter(|s| match s.obs.udp_checksum {
                UdpChecksum::Partial { .. } => partial,
                UdpChecksum::Invalid { .. } => !partial,
                _ => false,
            })
            .collect();
        let Some(first) = bad.first() else { continue };
        let code = if partial {
            Code::UdpChecksumPartial
        } else {
            Code::UdpChecksumInvalid
        };
        let kinds = counted(bad.iter().map(|s| s.obs.short_name()));
        let at_client =
            bad.iter().any(|s| s.files & ctx.client.direct_files != 0) && ctx.files.len() > 1;
        let kernel = bad.iter().find_map(|s| s.obs.kernel_checksum);
        let mut e = format!(
            "{} ({}) from {} {} UDP checksum {}.",
            kinds,
            ctx.frames(bad.iter().map(|s| s.obs.at)),
            first.obs.server(),
            if bad.len() == 1 { "has" } else { "have" },
            first.obs.udp_checksum,
        );
        if partial {
            e.push_str(
                " That value is the pseudo-header sum the sender's kernel leaves for the NIC to finish \
                 (transmit checksum offload, CHECKSUM_PARTIAL).",
            );
            if kernel == Some(KernelChecksum::NotReady) {
                let iface = ctx
                    .files
                    .get(usize::from(first.obs.at.file))
                    .map_or("this interface", String::as_str);
                let _ = write!(
                    e,
                    " The kernel marked these frames on {iface} TP_STATUS_CSUMNOTREADY (certain: transmit offload on this host)."
                );
                e.push_str(match (first.obs.outgoing, first.obs.virtual_link) {
                    (Some(true), Some(false)) => {
                        " They were leaving through a physical NIC, which fills the checksum as it sends: the client should see it filled."
                    }
                    (_, Some(true)) => {
                        " The interface is virtual (veth, tap, bridge): no NIC fills the checksum, so the client receives it unfilled."
                    }
                    (Some(false), _) => {
                        " They arrived unfilled from a local sender (a virtual link): a client here receives them as they are."
                    }
                    _ => " On a virtual link (veth, tap, bridge to a VM) no NIC ever fills it in, so the client receives it as is.",
                });
            }
        }
        // Taken up only if every one of them was.
        let followed = bad
            .iter()
            .map(|s| answered_by(t, &s.obs))
            .collect::<Option<Vec<_>>>()
            .and_then(|r| r.first().copied());
        // A client that REQUESTed after them got them: they cannot be why it
        // then waited in vain for an ACK.
        let restarted = restarted && followed.is_none();
        // Or the client took the OFFER but asked again after every ACK, and
        // the ACKs alone are bad.
        let acks_dropped =
            explains_untaken_acks(t, outcome, |o| bad.iter().any(|b| b.obs.at == o.at));
        let restarted = restarted || acks_dropped;
        if bad.iter().any(|s| s.obs.ip_checksum_offloaded) {
            e.push_str(
                " Their IPv4 header checksum is 0 too: this capture was taken on the sending host, before the NIC \
                 filled both in.",
            );
        }
        let f = if restarted {
            let conf = if at_client || kernel == Some(KernelChecksum::NotReady) {
                Confidence::High
            } else {
                Confidence::Medium
            };
            e.push_str(if acks_dropped {
                " The client took the OFFER but sent its REQUEST again after these ACKs:"
            } else {
                " The client never answered these replies and started over:"
            });
            e.push_str(if partial {
                " a client that verifies UDP checksums without honouring the kernel's TP_STATUS_CSUMNOTREADY (old \
                 dhclient, Etherboot/PXE ROMs, some embedded stacks) drops them silently."
            } else {
                " a receiver that verifies checksums drops them."
            });
            if at_client {
                let seen = bad.iter().fold(0u64, |acc, s| acc | s.files);
                let names: Vec<&str> = ctx
                    .files
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| *i < 64 && seen & (1 << i) != 0)
                    .map(|(_, n)| short_name(n))
                    .collect();
                let _ = write!(
                    e,
                    " The checksum is unfilled in every capture that holds these replies ({}), including where the \
                     client's own packets are seen: it is still wrong when it reaches the client.",
                    names.join(", ")
                );
            }

            Finding::new(code, Severity::Error, Some(t.chaddr), Some(t.xid)).cause(conf)
        } else if outcome.is_success() {
            // An OFFER of these that the client did not take up, while it
            // took another server's: dropped for its checksum, or only not
            // chosen.
            let chosen = t
                .of_kind(Request)
                .map(|s| &s.obs)
                .find(|o| o.server_id.is_some());
            let passed_over = |r: &Obs| {
                bad.iter().any(|s| {
                    s.obs.kind == Some(Offer)
                        && Some(s.obs.server()) != r.server_id
                        && answered_by(t, &s.obs).is_none()
                })
            };
            match chosen.filter(|r| passed_over(r)) {
                Some(r) => {
                    let _ = write!(
                        e,
                        " The client took another server's OFFER instead (its REQUEST, {}, names {}): whether it \
                         dropped these for their checksum or only did not choose them cannot be told. The exchange \
                         succeeded without them, but clients of this network depend on the other server.",
                        ctx.frame(r.at),
                        r.server_id.map_or(String::new(), |a| a.to_string())
                    );
                    Finding::new(code, Severity::Warning, Some(t.chaddr), Some(t.xid))
                }
                None => {
                    e.push_str(
                        " Harmless here: the client accepted them (the exchange succeeded).",
                    );
                    Finding::new(code, Severity::Info, Some(t.chaddr), Some(t.xid))
                }
            }
        } else {
            match followed {
                Some(r) => {
                    let _ = write!(
                        e,
                        " Harmless here: the client accepted them and sent a REQUEST ({}). Such a capture is typically \
                         taken on the sending host before the NIC fills the checksum, or the client ignores it \
                         (dhclient 4.x honours TP_STATUS_CSUMNOTREADY).",
                        ctx.frame(r.at)
                    );
                    Finding::new(code, Severity::Info, Some(t.chaddr), Some(t.xid))
                }
                None => {
                    e.push_str(
                        " Whether the client dropped them cannot be told from this transaction.",
                    );
                    Finding::new(code, Severity::Warning, Some(t.chaddr), Some(t.xid))
                }
            }
        };
        let fix = if partial {
            "On the host that sends the replies (the server's own host, or the hypervisor when a virtual \
             network's DHCP server such as libvirt's dnsmasq answers): \
             `iptables -t mangle -A POSTROUTING -p udp --dport 68 -j CHECKSUM --checksum-fill`, or turn transmit \
             offload off on the interface (`ethtool -K IFACE tx off`), or use a client that honours TP_STATUS_CSUMNOTREADY."
        } else {
            "Find what corrupts or zeroes the checksum on the path (NIC offload on the sender, a middlebox rewriting \
             the packet without fixing the checksum)."
        };
        let harmless = f.severity == Severity::Info;
        out.push(
            f.frames(bad.iter().map(|s| s.obs.at))
                .summary(format!(
                    "{} {} UDP checksum{}",
                    kinds,
                    if partial {
                        "with partial (offloaded)"
                    } else {
                        "with invalid"
                    },
                    if restarted {
                        ", dropped by the client"
                    } else if harmless {
                        " (harmless here)"
                    } else {
                        ""
                    }
                ))
                .explanation(e)
                .fix(fix)
                .references(&[
                    "RFC 768",
                    "Linux CHECKSUM_PARTIAL / TP_STATUS_CSUMNOTREADY",
                    "iptables CHECKSUM target",
                ]),
        );
    }
    out
}

fn broadcast_flag_ignored(t: &Transaction, outcome: Outcome, ctx: &Context<'_>) -> Option<Finding> {
    let asked = t
        .client_packets()
        .map(|s| &s.obs)
        .find(|o| asks_broadcast(o))?;
    let unicast: Vec<&Obs> = to_client(t)
        .map(|s| &s.obs)
        .filter(|o| {
            matches!(o.kind, Some(Offer | Ack | Nak)) && !o.broadcast_dst() && o.dst_port == 68
        })
        .collect();
    let first = unicast.first()?;
    // Only when the client ignored every OFFER: in a no-ack it REQUESTed
    // one, so it received it. Or when it took a broadcast OFFER and asked
    // again after every unicast ACK.
    let unicast_to_it = |o: &Obs| !o.broadcast_dst() && o.dst_port == 68;
    let acks = explains_untaken_acks(t, outcome, unicast_to_it);
    let failed = outcome == Outcome::OfferIgnored || acks;
    let f = cause_or_risk(Code::BroadcastFlagIgnored, t, failed, Confidence::Medium);
    Some(
        f.frames([asked.at].into_iter().chain(unicast.iter().map(|o| o.at)))
            .summary(format!("{} sent unicast to {} although the client set the broadcast flag", first.short_name(), first.dst_ip))
            .explanation(format!(
                "The client's {} ({}) has flags 0x{:04x} (broadcast: it cannot receive unicast before it has an \
                 address), but {} ({}) went unicast to {}{}. RFC 2131 §4.1 says to broadcast such replies.{}",
                asked.short_name(),
                ctx.frame(asked.at),
                asked.flags,
                first.short_name(),
                ctx.frame(first.at),
                first.dst_ip,
                first.dst_mac.map_or(String::new(), |m| format!(" (MAC {})", wire::frame::mac_to_string(&m))),
                match (failed, acks) {
                    (true, true) => " The client took the broadcast OFFER but asked again after every unicast ACK.",
                    (true, false) => " The client never answered it.",
                    _ => " The client coped here.",
                }
            ))
            .fix("Make the server (or the relay, for relayed replies) honour the broadcast bit; on ISC dhcpd check `always-broadcast`, on relays check their broadcast handling.")
            .references(&["RFC 2131 §4.1", "RFC 1542 §5.4"]),
    )
}

fn option82_not_echoed(t: &Transaction, outcome: Outcome, ctx: &Context<'_>) -> Option<Finding> {
    let relayed = t
        .client_packets()
        .map(|s| &s.obs)
        .find(|o| relayed_with_option82(o))?;
    let bare: Vec<&Obs> = t
        .replies()
        .map(|s| &s.obs)
        .filter(|o| o.to_relay() && o.relay_info().is_none() && !o.cut)
        .collect();
    let first = bare.first()?;
    let failed = outcome.is_failure();
    let f = cause_or_risk(Code::Option82NotEchoed, t, failed, Confidence::Low);
    Some(
        f.frames([relayed.at, first.at])
            .summary(format!("server {} did not echo option 82 to relay {}", first.server(), first.dst_ip))
            .explanation(format!(
                "The relay added option 82 ({}) to {} ({}), but the server's {} to the relay ({}) lacks it. RFC 3046 §2.2 \
                 requires the server to echo it; relays that check it (e.g. `ip dhcp relay information check`) drop the reply.",
                relayed.relay_info().map_or(String::new(), agent_info),
                relayed.short_name(),
                ctx.frame(relayed.at),
                first.short_name(),
                ctx.frame(first.at),
            ))
            .fix("Make the server echo option 82 (most do by default; check option filtering), or stop the relay from checking it.")
            .references(&["RFC 3046 §2.2"]),
    )
}

/// `option82-without-giaddr` (catalogue B.12): a request carrying option 82
/// with giaddr 0.0.0.0. A relay sets giaddr when it adds option 82; a switch
/// doing DHCP snooping adds the option and leaves giaddr alone. Cisco IOS
/// relays and servers drop such requests unless told to trust them ("relay
/// information option exists, but giaddr is zero"); ISC dhcpd 4.4, Kea 2.2,
/// dnsmasq 2.90 and ISC dhcrelay 4.4 accept them (the lab checks this).
fn option82_without_giaddr(
    t: &Transaction,
    outcome: Outcome,
    ctx: &Context<'_>,
) -> Option<Finding> {
    let o = t
        .client_packets()
        .map(|s| &s.obs)
        .find(|o| o.relay_info().is_some() && o.giaddr.is_unspecified())?;
    let failed = matches!(outcome, Outcome::NoOffer);
    let severity = if failed {
        Severity::Warning
    } else {
        Severity::Info
    };
    let f = Finding::new(
        Code::Option82WithoutGiaddr,
        severity,
        Some(t.chaddr),
        Some(t.xid),
    );
    let f = if failed { f.cause(Confidence::Low) } else { f };
    let answered = if failed {
        "No server answered: if a Cisco device relays or serves this VLAN, this is the likely reason. If the server is \
         ISC dhcpd, Kea or dnsmasq, look elsewhere: they accept it."
    } else {
        "A server answered, so nothing on this path minds; a Cisco relay or server added later would drop it."
    };
    Some(
        f.frames([o.at])
            .summary(format!("{} carries option 82 with giaddr 0.0.0.0", o.short_name()))
            .explanation(format!(
                "The {} ({}) carries option 82 ({}) but giaddr is 0.0.0.0: a switch doing DHCP snooping added the \
                 option without relaying (a relay sets giaddr). Cisco IOS relays and DHCP servers drop such requests \
                 as untrusted (\"relay information option exists, but giaddr is zero\"). {answered}",
                o.short_name(),
                ctx.frame(o.at),
                o.relay_info().map_or(String::new(), agent_info),
            ))
            .fix("Stop the access switch inserting option 82 (Cisco `no ip dhcp snooping information option`), or trust it upstream (`ip dhcp relay information trusted` on the relay interface, `ip dhcp snooping information option allow-untrusted` on the aggregation switch).")
            .references(&["RFC 3046 §2.1", "failure catalogue B.12"]),
    )
}

/// Option 82 as its sub-options (`1(circuit-id)="Gi1/0/7"`), or in hex when
/// the value was cut.
fn agent_info(r: &Short) -> String {
    if r.is_cut() {
        return r.hex();
    }
    wire::dhcp::value::decode_slice(
        wire::dhcp::code::RELAY_AGENT_INFORMATION,
        r.as_bytes(),
        &wire::dhcp::value::Context::default(),
    )
    .to_string()
}

fn reply_size(t: &Transaction, outcome: Outcome, ctx: &Context<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    let failed = outcome == Outcome::OfferIgnored;
    let limit = t.client_packets().filter_map(|s| s.obs.max_size).last();
    let max_payload = limit.map_or(SMALLEST_PAYLOAD_LIMIT, |m| usize::from(m.max(576)) - 28);
    if let Some(short) = t.replies().map(|s| &s.obs).find(|o| o.length < 300) {
        let answered = answered_by(t, short);
        let failed =
            failed && answered.is_none() || explains_untaken_acks(t, outcome, |o| o.length < 300);
        let harmless = match answered {
            _ if outcome.is_success() => " Harmless here: this client accepted it.".to_string(),
            Some(r) => format!(
                " Harmless here: the client answered it with a REQUEST ({}).",
                ctx.frame(r.at)
            ),
            None => String::new(),
        };
        let severity = if failed {
            Severity::Error
        } else if !harmless.is_empty() {
            Severity::Info
        } else {
            Severity::Warning
        };
        let f = Finding::new(Code::ReplyTooShort, severity, Some(t.chaddr), Some(t.xid));
        let f = if failed { f.cause(Confidence::Low) } else { f };
        out.push(
            f.frames([short.at])
                .summary(format!(
                    "{} from {} is {} bytes, under the 300-byte BOOTP minimum{}",
                    short.short_name(),
                    short.server(),
                    short.length,
                    if harmless.is_empty() { "" } else { " (harmless here)" }
                ))
                .explanation(format!(
                    "{} ({}) carries a {}-byte DHCP message. BOOTP-era relays and clients expect at least 300 bytes and some \
                     discard shorter ones (\"Discarding packet with invalid size\").{}",
                    short.short_name(),
                    ctx.frame(short.at),
                    short.length,
                    harmless
                ))
                .fix("Pad replies to 300 bytes (most servers do; check the server's minimum-size setting).")
                .references(&["RFC 951", "RFC 1542 §2.1"]),
        );
    }
    if let Some(big) = to_client(t)
        .map(|s| &s.obs)
        .find(|o| o.length > max_payload)
    {
        let failed = failed && answered_by(t, big).is_none()
            || explains_untaken_acks(t, outcome, |o| o.length > max_payload);
        let f = cause_or_risk(Code::ReplyTooLarge, t, failed, Confidence::Medium);
        out.push(
            f.frames([big.at])
                .summary(format!("{} from {} is {} bytes, more than the client accepts ({max_payload})", big.short_name(), big.server(), big.length))
                .explanation(format!(
                    "{} ({}) carries a {}-byte DHCP message; the client {} so replies must stay within {max_payload} bytes \
                     of DHCP payload (576-byte IP datagrams).",
                    big.short_name(),
                    ctx.frame(big.at),
                    big.length,
                    limit.map_or("sent no option 57".to_string(), |m| format!("allows {m} bytes (option 57)"))
                ))
                .fix("Send fewer or shorter options to this client (only those in its parameter request list), or let it advertise a larger option 57.")
                .references(&["RFC 2131 §2", "RFC 2132 §9.10"]),
        );
    }
    out
}

fn server_id_mismatch(t: &Transaction, outcome: Outcome, ctx: &Context<'_>) -> Option<Finding> {
    if !t.has(Offer) {
        return None;
    }
    let offered_by = |id: Ipv4Addr| t.of_kind(Offer).any(|s| s.obs.server() == id);
    let req = t
        .of_kind(Request)
        .map(|s| &s.obs)
        .find(|o| o.server_id.is_some_and(|s| !offered_by(s)))?;
    let named = req.server_id.unwrap_or(Ipv4Addr::UNSPECIFIED);
    let offered = t.servers(Offer);
    let failed = outcome.is_failure();
    let f = cause_or_risk(Code::ServerIdMismatch, t, failed, Confidence::Medium);
    let list: Vec<String> = offered.iter().map(|s| s.to_string()).collect();
    // What came of it, before the client asked again: servers differ here
    // (each checked in the lab).
    let next = t.of_kind(Request).map(|s| s.obs.ts).find(|ts| *ts > req.ts);
    let answer = t.replies().map(|s| &s.obs).find(|o| {
        o.ts > req.ts && next.is_none_or(|n| o.ts <= n) && matches!(o.kind, Some(Ack | Nak))
    });
    let then = match answer {
        Some(a) => format!(
            " Server {} answered it anyway with {} ({}).",
            a.server(),
            a.short_name(),
            ctx.frame(a.at)
        ),
        None => " No server answered it.".to_string(),
    };
    Some(
        f.frames([req.at])
            .summary(format!("REQUEST names server {named} but the OFFERs came from {}", list.join(", ")))
            .explanation(format!(
                "The REQUEST ({}) carries server identifier {named}, which no OFFER of this transaction had ({}).{then} \
                 To a server, a REQUEST naming another server means the client declined its offer. Kea 2.2 drops it \
                 (DHCP4_PACKET_DROP_0003, at debug level), dnsmasq 2.90 stays silent, or NAKs it when \
                 authoritative (\"wrong server-ID\"), and ISC dhcpd 4.4 ACKs it when it holds the client's lease, \
                 except in a failover pair (\"not our server id\").",
                ctx.frame(req.at),
                list.join(", ")
            ))
            .fix("Check the server's configured server-identifier (it must be an address the client can reach, and the same one in OFFER and ACK), and NAT or relays rewriting it.")
            .references(&["RFC 2131 §4.3.2", "RFC 2132 §9.7"]),
    )
}

fn xid_changed(t: &Transaction, ctx: &Context<'_>) -> Option<Finding> {
    let next = ctx.superseded_by.filter(|o| o.kind == Some(Request))?;
    let offers: Vec<&Obs> = t.of_kind(Offer).map(|s| &s.obs).collect();
    let offer = offers
        .iter()
        .find(|o| next.server_id == Some(o.server()) || next.requested_ip == Some(o.yiaddr))?;
    if t.has(Request) {
        return None;
    }
    Some(
        Finding::new(Code::XidChanged, Severity::Warning, Some(t.chaddr), Some(next.xid))
            .frames([offer.at, next.at])
            .summary(format!("REQUEST uses xid {} but the OFFER it answers had {}", xid(next.xid), xid(t.xid)))
            .explanation(format!(
                "The OFFER ({}, xid {}) was answered by a REQUEST ({}) with xid {}. RFC 2131 says the REQUEST in \
                 SELECTING state keeps the DISCOVER's xid; servers and relays that match on xid may drop it.",
                ctx.frame(offer.at),
                xid(t.xid),
                ctx.frame(next.at),
                xid(next.xid)
            ))
            .fix("Update the client (a DHCP client must reuse the xid of the OFFER it accepts).")
            .references(&["RFC 2131 §4.4.1"]),
    )
}

fn is_pxe(o: &Obs) -> bool {
    o.vendor_class().is_some_and(|v| v.starts_with("PXEClient")) || o.arch().is_some()
}

fn pxe_boot_file_missing(t: &Transaction, outcome: Outcome, ctx: &Context<'_>) -> Option<Finding> {
    let asked = pxe_request(t)?;
    // An iPXE the client loaded as a boot file (a second stage) often runs
    // a script built into it, which needs no file from DHCP.
    let (ipxe_boots, rom_file) = ctx.client.boot_files();
    if asked.ipxe && (rom_file.is_some() || !ipxe_boots.is_empty()) {
        return None;
    }
    let replies: Vec<&Obs> = t
        .replies()
        .map(|s| &s.obs)
        .filter(|o| matches!(o.kind, Some(Offer | Ack)))
        .collect();
    // A boot file to come from the server's port 4011 is not missing
    // (`pxe-proxy-on-dhcp-server`).
    if replies.is_empty()
        || replies
            .iter()
            .any(|o| o.boot_file().is_some() || claims_pxe_service(o))
    {
        return None;
    }
    let r = replies[0];
    let failed = outcome.is_failure() || outcome == Outcome::Incomplete;
    let mut f = cause_or_risk(Code::PxeBootFileMissing, t, failed, Confidence::Medium);
    if asked.ipxe {
        // iPXE may carry a script of its own.
        f = f.confidence(Confidence::Low);
    }
    Some(
        f.frames([asked.at, r.at])
            .summary(format!("PXE client got {} from {} without a boot file", r.short_name(), r.server()))
            .explanation(format!(
                "The client is a PXE ROM ({}{}), but the {} ({}) names no boot file (file field or option 67){}. {}",
                asked.vendor_class().unwrap_or("option 93"),
                asked.arch().map_or(String::new(), |a| format!(", architecture {a}{}", wire::dhcp::value::architecture_name(a).map_or(String::new(), |n| format!(" {n}")))),
                r.short_name(),
                ctx.frame(r.at),
                if r.tftp_server { "" } else { " and no TFTP server (siaddr or option 66)" },
                if asked.ipxe {
                    "Without one iPXE stops (\"Nothing to boot\"), unless it was built with a script of its own."
                } else {
                    "Without one the ROM waits for a ProxyDHCP offer and gives up (PXE-E53: No boot filename received)."
                },
            ))
            .fix("Configure the boot file for this client's architecture (ISC: `filename`, `next-server`; dnsmasq: `dhcp-boot`, `pxe-service`; Kea: `boot-file-name`, `next-server`), or run a ProxyDHCP service.")
            .references(&["RFC 4578", "PXE specification 2.1"]),
    )
}

/// `pxe-proxy-on-dhcp-server`: an OFFER or ACK with an address and option
/// 60 «PXEClient» is a ProxyDHCP offer too, so the ROM then asks the same
/// server on UDP 4011 for its boot file (PXE 2.1). That
/// is how dnsmasq's `pxe-service` and WDS on the DHCP host work; with a boot
/// file in the reply as well, it is Microsoft KB 259670's misconfiguration:
/// option 60 set by hand on a DHCP server whose PXE service is elsewhere.
fn pxe_proxy_on_dhcp_server(t: &Transaction, ctx: &Context<'_>) -> Option<Finding> {
    let asked = pxe_request(t)?;
    let r = t
        .replies()
        .map(|s| &s.obs)
        .find(|o| claims_pxe_service(o))?;
    let server = r.server();
    let with_file = r.boot_file();
    let menu = r.boot_menu();
    // Where the ROM goes next: ProxyDHCP on 4011, or a boot menu's server.
    // A menu the ROM skips because the reply names a file (discovery
    // control bit 3) is no menu to it.
    let menu = menu.filter(|m| m.control & 8 == 0 || with_file.is_none());
    let route = match menu {
        None => format!(
            "the ROM takes it as a ProxyDHCP offer too and, after the ACK, sends a DHCPREQUEST to {server} on UDP port \
             4011 for its boot file."
        ),
        Some(m) if m.servers_named && m.broadcast_allowed() => format!(
            "it also carries a PXE boot menu (option 43 sub-option 9): after the ACK the ROM picks an item and asks a \
             boot server for it, by broadcast to UDP 67 (discovery control {:#04x}, sub-option 6, allows it) and at the \
             servers the menu names for that item (sub-option 8) on UDP 4011.",
            m.control
        ),
        Some(m) if m.servers_named => format!(
            "it also carries a PXE boot menu (option 43 sub-option 9): after the ACK the ROM picks an item and asks \
             the boot server the menu names for it (sub-option 8) on UDP port 4011 for its boot file (discovery control \
             {:#04x}: no broadcast).",
            m.control
        ),
        Some(m) if m.broadcast_allowed() => format!(
            "it also carries a PXE boot menu (option 43 sub-option 9) that names no boot server (no sub-option 8): \
             after the ACK the ROM picks an item and searches for a boot server by broadcast, a DHCPREQUEST to UDP 67 \
             naming the item (discovery control {:#04x}, sub-option 6, allows it).",
            m.control
        ),
        Some(m) if m.control & 2 == 0 => format!(
            "it also carries a PXE boot menu (option 43 sub-option 9) that names no boot server (no sub-option 8) and \
             forbids broadcast discovery (discovery control {:#04x}, sub-option 6): the ROM can search only by \
             multicast, to the group sub-option 7 names.",
            m.control
        ),
        Some(m) => format!(
            "it also carries a PXE boot menu (option 43 sub-option 9) that names no boot server (no sub-option 8) and \
             forbids broadcast and multicast discovery (discovery control {:#04x}, sub-option 6): only local boot \
             (type 0) can be chosen from it, as dnsmasq sends when every item is local boot; any other item leaves the \
             ROM nowhere to ask (PXE-E78).",
            m.control
        ),
    };
    let (severity, summary, what) = match with_file {
        // The ROM goes to the menu; the file is for ROMs that skip it.
        Some(file) if menu.is_some() => (
            Severity::Info,
            format!("{} from {server} names boot file {file} and carries a PXE boot menu", r.short_name()),
            format!(
                "It names a boot file («{file}») as well, which a ROM boots only when it skips the menu (discovery \
                 control bit 3)."
            ),
        ),
        // iPXE asks 4011 for a few seconds, then boots the file.
        Some(file) if asked.ipxe => (
            Severity::Info,
            format!("{} from {server} names boot file {file} and claims PXE service (option 60 PXEClient)", r.short_name()),
            format!(
                "It names a boot file («{file}») as well. iPXE asks {server} on port 4011 first and, when nothing \
                 answers there within a few seconds, boots that file: a delay, not a failure (a ROM that is not iPXE \
                 stops with PXE-E55 instead)."
            ),
        ),
        Some(file) => (
            Severity::Warning,
            format!("{} from {server} names boot file {file} and claims PXE service (option 60 PXEClient)", r.short_name()),
            format!(
                "It names a boot file («{file}») as well, as a DHCP server given options 60, 66 and 67 by hand does \
                 (Microsoft KB 259670): the ROM still asks {server} on port 4011 first, and when the PXE service runs \
                 on another host nothing answers there (PXE-E55: ProxyDHCP service did not reply to request on port 4011)."
            ),
        ),
        None if menu.is_some() => (
            Severity::Info,
            format!("PXE client is offered a boot menu by {server}; its boot file comes from a boot server (option 43)"),
            "It names no boot file: that comes from the boot server that answers for the chosen item, as a boot menu \
             intends (dnsmasq's `pxe-service`, or option 43 written by hand). If the boot stops after the menu (iPXE: \"PXEBS … Connection timed out\"; other \
             ROMs: PXE-E78, \"Could not locate boot server\"), no boot server answered: see \
             pxe-boot-server-unanswered."
                .to_string(),
        ),
        None => (
            Severity::Info,
            format!("PXE client is sent to {server} on UDP 4011 for its boot file (option 60 PXEClient)"),
            format!(
                "It names no boot file: that comes from {server}'s PXE service on port 4011, as dnsmasq's `pxe-service` \
                 and WDS on the DHCP server intend. If the boot stops with PXE-E55 (ProxyDHCP service did not reply to \
                 request on port 4011), nothing answers there."
            ),
        ),
    };
    Some(
        Finding::new(Code::PxeProxyOnDhcpServer, severity, Some(t.chaddr), Some(t.xid))
            .frames([asked.at, r.at])
            .summary(summary)
            .explanation(format!(
                "The {} ({}) gives the PXE client ({}) address {} and carries option 60 «PXEClient»: {route} {what} \
                 The ROM sends it from its port 68, so a capture of the DHCP ports holds it and any answer.",
                r.short_name(),
                ctx.frame(r.at),
                asked.vendor_class().unwrap_or("option 93"),
                r.yiaddr,
            ))
            .fix(match with_file {
                None if menu.is_some() => "Check that a boot server answers for each item of the menu (local boot, type \
                    0, needs none): dnsmasq answers \
                    for a `pxe-service` with a basename; one with only a boot service type needs another server for \
                    that type (WDS, a PXE server), or its address in the `pxe-service` line."
                    .to_string(),
                Some(_) if menu.is_some() => "If the menu is not meant, take it out of the replies (option 43 \
                    sub-option 9; dnsmasq `pxe-service`) so that ROMs boot the file; otherwise check that a boot server \
                    answers for each item."
                    .to_string(),
                Some(_) => format!(
                    "If the PXE service is on another host, remove option 60 from {server}'s replies and keep 66/67 (or \
                     an IP helper towards the PXE server); otherwise check that {server} answers on UDP 4011."
                ),
                None => format!(
                    "Check that {server} answers on UDP 4011 (`ss -ulnp 'sport = :4011'` there, its firewall, a capture of \
                     port 4011); if it runs no PXE service, option 60 was set by hand: remove it, or configure a boot \
                     file (ISC `filename`, dnsmasq `dhcp-boot`, Kea `boot-file-name`)."
                ),
            })
            .references(&["PXE specification 2.1 §2.2", "Microsoft KB 259670"]),
    )
}

/// An OFFER or ACK with an address that carries option 60 «PXEClient»: the
/// server claims PXE service on UDP 4011 (a pure ProxyDHCP offer has none).
fn claims_pxe_service(o: &Obs) -> bool {
    matches!(o.kind, Some(Offer | Ack))
        && !o.yiaddr.is_unspecified()
        && o.vendor_class().is_some_and(|v| v.starts_with("PXEClient"))
}

/// The PXE client's request and the OFFERs and ACKs that name a boot file.
fn pxe_boot_replies(t: &Transaction) -> Option<(&Obs, Vec<&Obs>)> {
    let asked = pxe_request(t)?;
    let replies: Vec<&Obs> = t
        .replies()
        .map(|s| &s.obs)
        .filter(|o| matches!(o.kind, Some(Offer | Ack)) && o.boot_file().is_some())
        .collect();
    (!replies.is_empty()).then_some((asked, replies))
}

/// `pxe-boot-server-missing`: a boot file, but `siaddr` 0.0.0.0 and no
/// option 66, so the ROM has no TFTP server to fetch it from (ISC dhcpd and
/// Kea leave `siaddr` 0 unless `next-server` is set). A URL names its server
/// itself.
fn pxe_boot_server_missing(t: &Transaction, ctx: &Context<'_>) -> Option<Finding> {
    let (asked, replies) = pxe_boot_replies(t)?;
    if replies.iter().any(|o| o.tftp_server) {
        return None;
    }
    let r = replies[0];
    let file = r.boot_file()?;
    if file.contains("://") {
        return None;
    }
    Some(
        Finding::new(Code::PxeBootServerMissing, Severity::Warning, Some(t.chaddr), Some(t.xid))
            .frames([asked.at, r.at])
            .summary(format!("PXE client told to boot {file} from no server"))
            .explanation(format!(
                "The {} ({}) from {} names the boot file «{file}» but no server to fetch it from: siaddr is 0.0.0.0 \
                 and there is no option 66. Most PXE ROMs then try TFTP towards nothing and give up (PXE-E32: TFTP \
                 open timeout); a few fall back to the DHCP server's address. The DHCP exchange itself succeeds, so \
                 the failure shows only on the client's console.",
                r.short_name(),
                ctx.frame(r.at),
                r.server(),
            ))
            .fix("Name the TFTP server: ISC `next-server 10.0.0.5;`, Kea `\"next-server\": \"10.0.0.5\"`, dnsmasq `dhcp-boot=file,,10.0.0.5` (or option 66).")
            .references(&["RFC 2131 §2 (siaddr)", "PXE specification 2.1"]),
    )
}

/// The firmware an option 93 architecture boots with, as far as a boot file's
/// name can contradict it.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Firmware {
    Bios,
    Uefi(Option<Machine>),
}

/// The processor a UEFI boot program is built for.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Machine {
    Ia32,
    X64,
    Arm64,
}

impl Machine {
    fn name(self) -> &'static str {
        match self {
            Machine::Ia32 => "32-bit x86",
            Machine::X64 => "x64",
            Machine::Arm64 => "64-bit ARM",
        }
    }
}

/// The firmware of an RFC 4578 / IANA processor architecture type.
fn firmware_of_arch(arch: u16) -> Option<Firmware> {
    Some(match arch {
        0 | 20 => Firmware::Bios,
        6 | 15 => Firmware::Uefi(Some(Machine::Ia32)),
        // 9 is EBC in the registry, but x64 firmware sends it (RFC 4578's
        // original table swapped 7 and 9).
        7 | 9 | 16 => Firmware::Uefi(Some(Machine::X64)),
        11 | 19 => Firmware::Uefi(Some(Machine::Arm64)),
        8 | 10 | 17 | 18 | 25..=28 => Firmware::Uefi(None),
        _ => return None,
    })
}

/// The firmware a boot program's file name says it is for: `.efi` is UEFI
/// (with `x64`, `ia32` or `aa64` in the name, for that processor), the
/// real-mode programs (`pxelinux.0`, `undionly.kpxe`, `.pxe`, `.com`) are
/// BIOS. Scripts and anything else say nothing.
fn firmware_of_file(file: &str) -> Option<Firmware> {
    let name = file.rsplit('/').next().unwrap_or(file).to_ascii_lowercase();
    if name.ends_with(".efi") {
        let machine = if ["aa64", "arm64", "aarch64"]
            .iter()
            .any(|m| name.contains(m))
        {
            Some(Machine::Arm64)
        } else if ["x64", "x86_64", "amd64"].iter().any(|m| name.contains(m)) {
            Some(Machine::X64)
        } else if ["ia32", "i386"].iter().any(|m| name.contains(m)) {
            Some(Machine::Ia32)
        } else {
            None
        };
        return Some(Firmware::Uefi(machine));
    }
    ([".0", ".kpxe", ".kkpxe", ".pxe", ".com"]
        .iter()
        .any(|x| name.ends_with(x))
        || name.starts_with("undionly"))
    .then_some(Firmware::Bios)
}

/// `pxe-boot-file-wrong-arch`: option 93 says BIOS and the file is an EFI
/// program, or UEFI and the file is a real-mode one (or an EFI program for
/// another processor). The firmware downloads it and cannot run it.
fn pxe_boot_file_wrong_arch(t: &Transaction, ctx: &Context<'_>) -> Option<Finding> {
    let (asked, replies) = pxe_boot_replies(t)?;
    let arch = asked.arch()?;
    let client = firmware_of_arch(arch)?;
    let (r, file, served) = replies.iter().find_map(|r| {
        let file = r.boot_file()?;
        let served = firmware_of_file(file)?;
        let wrong = match (client, served) {
            (Firmware::Bios, Firmware::Uefi(_)) | (Firmware::Uefi(_), Firmware::Bios) => true,
            (Firmware::Uefi(Some(a)), Firmware::Uefi(Some(b))) => a != b,
            _ => false,
        };
        wrong.then_some((*r, file, served))
    })?;
    let describe = |f: Firmware| match f {
        Firmware::Bios => "BIOS (real-mode) program".to_string(),
        Firmware::Uefi(Some(m)) => format!("{} UEFI program", m.name()),
        Firmware::Uefi(None) => "UEFI program".to_string(),
    };
    let arch_name = wire::dhcp::value::architecture_name(arch).unwrap_or("unknown");
    Some(
        Finding::new(Code::PxeBootFileWrongArch, Severity::Warning, Some(t.chaddr), Some(t.xid))
            .frames([asked.at, r.at])
            .summary(format!("{arch_name} PXE client given {file}"))
            .explanation(format!(
                "The client's {} ({}) says architecture {arch} ({arch_name}), but the {} ({}) from {} hands it \
                 «{file}», a {}. The firmware downloads it and cannot run it: the boot fails or falls through to the next \
                 boot device after a successful DHCP exchange.",
                asked.short_name(),
                ctx.frame(asked.at),
                r.short_name(),
                ctx.frame(r.at),
                r.server(),
                describe(served),
            ))
            .fix("Choose the boot file by option 93: ISC `option arch code 93 = unsigned integer 16;` then `if option arch = 00:07 { filename \"ipxe.efi\"; } else { filename \"undionly.kpxe\"; }`; dnsmasq `dhcp-match=set:efi-x64,option:client-arch,7` with `dhcp-boot=tag:efi-x64,…`; Kea client classes on `option[93].hex`.")
            .references(&["RFC 4578 §2.1", "IANA processor architecture types"]),
    )
}

fn malformed(t: &Transaction, outcome: Outcome, ctx: &Context<'_>) -> Option<Finding> {
    // A BOOTP exchange that a server answered (RFC 951, RFC 1542): no
    // option 53, or a vendor area without RFC 1048's cookie (all zeros in
    // RFC 951's own packets), is what BOOTP is, not a fault.
    let answered_bootp = t.state == State::Bootp && outcome.is_success();
    let counts = |a: &&(usize, &'static str, String)| {
        !(answered_bootp && matches!(a.1, "missing-message-type" | "bad-magic-cookie"))
    };
    let bad = t
        .packets
        .iter()
        .map(|s| &s.obs)
        .find(|o| o.anomalies().iter().any(|a| counts(&a)))?;
    let anomalies: Vec<_> = bad.anomalies().iter().filter(counts).collect();
    let failed = (bad.from_client() && matches!(outcome, Outcome::NoOffer | Outcome::NoAck))
        || (!bad.from_client() && matches!(outcome, Outcome::OfferIgnored | Outcome::NoAck))
        || (bad.kind == Some(Ack) && outcome == Outcome::AckIgnored);
    let f = cause_or_risk(Code::MalformedPacket, t, failed, Confidence::Medium);
    let list: Vec<String> = anomalies
        .iter()
        .take(4)
        .map(|(off, _, text)| format!("at byte {off}: {text}"))
        .collect();
    Some(
        f.frames([bad.at])
            .summary(format!("{} from {} is malformed: {}", bad.short_name(), if bad.from_client() { "the client".to_string() } else { bad.server().to_string() }, anomalies[0].2))
            .explanation(format!(
                "{} ({}): {}.{}",
                bad.short_name(),
                ctx.frame(bad.at),
                list.join("; "),
                if failed { " Receivers that parse strictly drop such packets (Kea: DHCP4_PACKET_DROP_0001), which fits the failure here." } else { "" }
            ))
            .fix("Fix the sender's encoder; `dhcplens decode -v` shows the packet byte by byte.")
            .references(&["RFC 2131 §3", "RFC 2132 §2"]),
    )
}

fn reply_not_seen_by_client(
    t: &Transaction,
    outcome: Outcome,
    ctx: &Context<'_>,
) -> Option<Finding> {
    if ctx.files.len() < 2 {
        return None;
    }
    // A reply to the client that is missing from a capture which holds the
    // request it answers, and was running at the time.
    // In an ack-ignored exchange, a missing ACK first: that is what the
    // client went without.
    let acks_first = outcome == Outcome::AckIgnored;
    let candidates = to_client(t)
        .filter(|r| !acks_first || r.obs.kind == Some(Ack))
        .chain(to_client(t).filter(|r| acks_first && r.obs.kind != Some(Ack)));
    let (reply, missing) = candidates.into_iter().find_map(|r| {
        let o = &r.obs;
        let missing = asked_before(t.client_packets(), o.ts)
            & running_at(ctx.file_spans, o.ts)
            & could_hold(t, o)
            & !r.files;
        (missing != 0).then_some((r, missing))
    })?;

    let o = &reply.obs;
    // The lost reply is why the client failed when it is the one the client
    // went without: the OFFER it never REQUESTed, the ACK it asked again for.
    // (In a no-ack the client REQUESTed an OFFER it got; no ACK was lost.)
    let failed = match outcome {
        Outcome::OfferIgnored => o.kind == Some(Offer),
        Outcome::AckIgnored => o.kind == Some(Ack),
        _ => false,
    };
    let f = cause_or_risk(Code::ReplyNotSeenByClient, t, failed, Confidence::High);
    let name = |bits: u64| file_names(ctx.files, bits);
    Some(
        f.frames(reply.frames())
            .summary(format!("{} from {} is missing from {}", o.short_name(), o.server(), name(missing).join(", ")))
            .explanation(format!(
                "{} ({}) is in {} but not in {}, which holds the client's request it answers and was capturing at the time:                  the reply was lost between the two points. If that capture is the client's side, something between them                  (a switch or vSwitch without MAC learning or promiscuous mode, a Wi-Fi bridge, DHCP snooping on an untrusted                  port, a firewall) drops the replies.",
                o.short_name(),
                ctx.frame(o.at),
                name(reply.files).join(", "),
                name(missing).join(", "),
            ))
            .fix("Follow the reply hop by hop between the two capture points; check DHCP snooping trust, vSwitch security settings and firewalls.")
            .references(&["failure catalogue B.10, B.12"]),
    )
}

fn lease_times(t: &Transaction, ctx: &Context<'_>) -> Option<Finding> {
    let o = t
        .replies()
        .map(|s| &s.obs)
        .find(|o| lease_offer_problem(o))?;
    let problem = lease_problem(o)?;
    Some(
        Finding::new(Code::LeaseTimesInconsistent, Severity::Warning, Some(t.chaddr), Some(t.xid))
            .frames([o.at])
            .summary(format!("{} from {}: {problem}", o.short_name(), o.server()))
            .explanation(format!(
                "{} ({}) gives lease {}, T1 {}, T2 {}: {problem}. RFC 2131 §4.4.5 expects 0 < T1 < T2 < lease; clients \
                 then renew at odd times, constantly, or never.",
                o.short_name(),
                ctx.frame(o.at),
                opt_secs(o.lease),
                opt_secs(o.t1),
                opt_secs(o.t2)
            ))
            .fix("Set the lease time, renew time (T1, default 0.5 × lease) and rebind time (T2, default 0.875 × lease) so that T1 < T2 < lease.")
            .references(&["RFC 2131 §4.4.5", "RFC 2132 §9.11"]),
    )
}

fn opt_secs(v: Option<u32>) -> String {
    v.map_or("absent".into(), |s| {
        if s == u32::MAX {
            "infinite".into()
        } else {
            format!("{s} s")
        }
    })
}

fn lease_problem(o: &Obs) -> Option<String> {
    let lease = o.lease?;
    if lease == 0 {
        return Some("lease time is 0".into());
    }
    let finite = lease != u32::MAX;
    // 0xffffffff is infinity for T1 and T2 too (RFC 2132 §9.2): never
    // renew, never rebind.
    let time = |v: u32| {
        if v == u32::MAX {
            "infinite".to_string()
        } else {
            format!("{v} s")
        }
    };
    match (o.t1, o.t2) {
        (Some(0), _) => Some("T1 is 0".into()),
        (_, Some(0)) => Some("T2 is 0".into()),
        (Some(a), Some(b)) if a >= b && !(a == u32::MAX && b == u32::MAX) => {
            Some(format!("T1 ({}) is not before T2 ({})", time(a), time(b)))
        }
        (_, Some(b)) if finite && b >= lease => Some(format!(
            "T2 ({}) is not before the lease end ({lease} s)",
            time(b)
        )),
        (Some(a), _) if finite && a >= lease => Some(format!(
            "T1 ({}) is not before the lease end ({lease} s)",
            time(a)
        )),
        // One of the two given: the other is the RFC's default (§4.4.5),
        // which it must still come before or after.
        (None, Some(b)) if finite && u64::from(b) <= u64::from(lease) / 2 => Some(format!(
            "T2 ({b} s) is not after T1, absent and so half the lease ({} s)",
            lease / 2
        )),
        (Some(a), None) if finite && u64::from(a) * 8 >= u64::from(lease) * 7 => Some(format!(
            "T1 ({a} s) is not before T2, absent and so 7/8 of the lease ({} s)",
            u64::from(lease) * 7 / 8
        )),
        _ => None,
    }
}

fn classless_routes(t: &Transaction, ctx: &Context<'_>) -> Option<Finding> {
    let o = t
        .replies()
        .map(|s| &s.obs)
        .find(|o| classless_hides_router(o))?;
    Some(
        Finding::new(Code::ClasslessRoutesWithoutDefault, Severity::Warning, Some(t.chaddr), Some(t.xid))
            .frames([o.at])
            .summary(format!("{} from {} has option 121 without a default route, and option 3", o.short_name(), o.server()))
            .explanation(format!(
                "{} ({}) carries classless static routes (option 121/249) with no 0.0.0.0/0 entry, and a router {} in \
                 option 3. RFC 3442 says a client that uses option 121 ignores option 3, so such clients get no default route.",
                o.short_name(),
                ctx.frame(o.at),
                o.router.unwrap_or(Ipv4Addr::UNSPECIFIED)
            ))
            .fix(format!("Add 0.0.0.0/0 via {} to option 121 (and 249, for Windows).", o.router.unwrap_or(Ipv4Addr::UNSPECIFIED)))
            .references(&["RFC 3442 §2"]),
    )
}

fn required_options(t: &Transaction, ctx: &Context<'_>) -> Option<Finding> {
    let req = t
        .client_packets()
        .map(|s| &s.obs)
        .find(|o| o.kind.is_some())?;
    let o = t
        .of_kind(Ack)
        .chain(t.of_kind(Offer))
        .map(|s| &s.obs)
        .find(|o| !o.yiaddr.is_unspecified())?;
    if o.cut {
        return None;
    }
    let mut missing = Vec::new();
    let mut effects = Vec::new();
    if o.subnet_mask.is_none() {
        missing.push("subnet mask (option 1)");
        effects.push("clients guess a classful mask, and some refuse the lease (\"DHCP option Subnet Mask not found in DHCPACK\")");
    }
    if o.router.is_none() && req.asks_router && o.classless_routes != Some(true) {
        missing.push("router (option 3)");
        effects.push("the client asked for a router (option 55) and gets no default route");
    }
    if missing.is_empty() {
        return None;
    }
    Some(
        Finding::new(
            Code::RequiredOptionMissing,
            Severity::Warning,
            Some(t.chaddr),
            Some(t.xid),
        )
        .frames([o.at])
        .summary(format!(
            "{} from {} lacks {}",
            o.short_name(),
            o.server(),
            missing.join(" and ")
        ))
        .explanation(format!(
            "{} ({}) leases {} without {}: {}.",
            o.short_name(),
            ctx.frame(o.at),
            o.yiaddr,
            missing.join(" or "),
            effects.join("; ")
        ))
        .fix("Configure the subnet mask and routers for this subnet on the server.")
        .references(&["RFC 2132 §3.3", "RFC 2132 §3.5"]),
    )
}

/// What is wrong with a lease's address, mask and router.
enum SubnetFault {
    MaskHoles,
    /// The address is its subnet's network (`true`) or broadcast address.
    EdgeAddress {
        network: bool,
    },
    RouterIsSelf(Ipv4Addr),
    RouterOffLink(Ipv4Addr),
}

/// The fault of a reply whose mask has holes, whose address is its
/// subnet's network or broadcast address, or whose router is off-link or the
/// address itself; `None` when they agree or say too little. /31, /32 and
/// classless routes (which replace option 3) are left alone.
fn subnet_fault(o: &Obs) -> Option<SubnetFault> {
    let mask = u32::from(o.subnet_mask.filter(|_| !o.yiaddr.is_unspecified())?);
    let addr = u32::from(o.yiaddr);
    let prefix = mask.leading_ones();
    if mask.count_ones() != prefix {
        return Some(SubnetFault::MaskHoles);
    }
    if prefix <= 30 && (addr == addr & mask || addr == addr | !mask) {
        return Some(SubnetFault::EdgeAddress {
            network: addr == addr & mask,
        });
    }
    let router = o
        .router
        .filter(|_| o.classless_routes != Some(true) && prefix < 32)?;
    if router == o.yiaddr {
        Some(SubnetFault::RouterIsSelf(router))
    } else if u32::from(router) & mask != addr & mask {
        Some(SubnetFault::RouterOffLink(router))
    } else {
        None
    }
}

/// `lease-subnet-inconsistent` (catalogue E.33): the lease's address, mask
/// and router cannot all be right. A router outside the client's subnet is
/// unreachable (Linux refuses the default route: "Nexthop has invalid gateway"),
/// an address that is its subnet's network or broadcast address cannot be
/// used, and a mask with holes is no mask. Typically a scope copied from
/// another VLAN, or a client served from the wrong VLAN's scope.
fn lease_subnet(t: &Transaction, ctx: &Context<'_>) -> Option<Finding> {
    let o = t
        .of_kind(Ack)
        .chain(t.of_kind(Offer))
        .map(|s| &s.obs)
        .find(|o| !o.yiaddr.is_unspecified() && o.subnet_mask.is_some())?;
    let fault = subnet_fault(o)?;
    let mask = u32::from(o.subnet_mask?);
    let addr = u32::from(o.yiaddr);
    let subnet = format!("{}/{}", Ipv4Addr::from(addr & mask), mask.leading_ones());
    let (summary, detail) = match fault {
        SubnetFault::MaskHoles => (
            format!("subnet mask {} is not contiguous", Ipv4Addr::from(mask)),
            format!(
                "its subnet mask {} has holes (option 1 must be ones then zeros), so no client can build a route from it",
                Ipv4Addr::from(mask)
            ),
        ),
        SubnetFault::EdgeAddress { network } => {
            let which = if network { "network" } else { "broadcast" };
            (
                format!("{} is the {which} address of {subnet}", o.yiaddr),
                format!(
                    "{} is the {which} address of {subnet} itself, which no host can use: the pool reaches past the subnet's edge, \
                     or the mask belongs to another subnet",
                    o.yiaddr
                ),
            )
        }
        SubnetFault::RouterIsSelf(router) => (
            format!("router {router} is the client's own address"),
            format!("its router (option 3) is {router}, the very address it leases: the client would route through itself"),
        ),
        SubnetFault::RouterOffLink(router) => (
            format!("router {router} is outside {subnet}"),
            format!(
                "its router (option 3) {router} is not in the client's subnet {subnet} ({} with mask {}): the client \
                 cannot reach it on the link, so it gets no default route \
                 (Linux refuses it: \"Nexthop has invalid gateway\", older kernels \"Network is unreachable\")",
                o.yiaddr,
                Ipv4Addr::from(mask)
            ),
        ),
    };
    Some(
        Finding::new(Code::LeaseSubnetInconsistent, Severity::Warning, Some(t.chaddr), Some(t.xid))
            .frames([o.at])
            .summary(format!("{} from {}: {summary}", o.short_name(), o.server()))
            .explanation(format!(
                "The {} ({}) from {} leases {}, but {detail}. Address, mask and router come from one scope on the \
                 server; when they disagree, that scope was copied from another subnet or the client reached the \
                 scope of another VLAN (check the 802.1Q tag and the relay's giaddr).",
                o.short_name(),
                ctx.frame(o.at),
                o.server(),
                o.yiaddr,
            ))
            .fix("Make the scope's range, subnet mask (option 1) and routers (option 3) belong to the same subnet; if they do, find why the client is served from this scope (VLAN, giaddr).")
            .references(&["RFC 2132 §3.3", "RFC 2132 §3.5", "RFC 950"]),
    )
}

fn address_declined(t: &Transaction, ctx: &Context<'_>) -> Option<Finding> {
    let d = t.of_kind(Decline).next()?;
    let d = &d.obs;
    let Some(addr) = d
        .requested_ip
        .or((!d.ciaddr.is_unspecified()).then_some(d.ciaddr))
    else {
        return Some(
            Finding::new(Code::AddressDeclined, Severity::Warning, Some(t.chaddr), Some(t.xid))
                .frames([d.at])
                .summary("client sent DHCPDECLINE without naming the address".to_string())
                .explanation(format!(
                    "The DHCPDECLINE ({}) has no requested address (option 50) and no ciaddr, so the server cannot tell \
                     which address is in use; RFC 2131 table 5 requires option 50 and the server identifier.",
                    ctx.frame(d.at)
                ))
                .fix("Update the client; meanwhile look for address conflicts on the network.")
                .references(&["RFC 2131 §4.4.1", "RFC 2131 table 5"]),
        );
    };
    Some(
        Finding::new(Code::AddressDeclined, Severity::Error, Some(t.chaddr), Some(t.xid))
            .cause(Confidence::High)
            .frames([d.at])
            .summary(format!("client declined {addr}: the address is in use by another machine"))
            .explanation(format!(
                "The client sent DHCPDECLINE ({}) for {addr}{}: its ARP probe found another machine using that address \
                 (RFC 2131 §2.2). The server marks the address abandoned and the client starts over after at least 10 s.",
                ctx.frame(d.at),
                d.server_id.map_or(String::new(), |s| format!(" leased by {s}"))
            ))
            .fix(format!("Find the machine using {addr} (a static address inside the pool?) and exclude it from the pool or move it."))
            .references(&["RFC 2131 §2.2", "RFC 2131 §4.4.1"]),
    )
}

/// A run of unanswered DISCOVERs at least this long, at the start of a
/// client's first exchange, before one is answered at once: the shortest
/// spanning-tree delay (a forward delay of 4 s, listening then learning).
const STP_MIN_NS: i64 = 8_000_000_000;

/// `stp-delay-suspected` (catalogue E.30): a switch port without PortFast
/// drops every frame for twice its forward delay (30 s by default) after
/// the link comes up. Seen from the client's side: its first DISCOVERs go
/// unanswered for that long, then one is answered at once (and a capture
/// at the server's side, running then, holds none of the first). Seen from
/// the server's side alone: the client's first DISCOVER already says, in
/// `secs`, that it has been trying for longer than the capture shows.
fn stp_delay(t: &Transaction, ctx: &Context<'_>) -> Option<Finding> {
    if ctx.client.transactions > 0 || t.state != State::Init {
        return None;
    }
    if let Some(f) = early_discovers_lost(t, ctx) {
        return Some(f);
    }
    let first = t.of_kind(Discover).next().map(|s| &s.obs)?;
    let running = (first.ts.0 - ctx.capture_start.0) / 1_000_000_000;
    if first.secs < 15 || running < i64::from(first.secs) {
        return None;
    }
    Some(
        Finding::new(Code::StpDelaySuspected, Severity::Warning, Some(t.chaddr), Some(t.xid))
            .confidence(Confidence::Low)
            .frames([first.at])
            .summary(format!("the client's first DISCOVER seen already has secs {}", first.secs))
            .explanation(format!(
                "The first DISCOVER from this client ({}) says it had been trying for {} s, but the capture had been running \
                 for {running} s and saw none of its earlier attempts: they were lost before reaching this point, as \
                 happens while a switch port is still in spanning-tree listening/learning (up to 30 s after link-up).",
                ctx.frame(first.at),
                first.secs
            ))
            .fix(STP_FIX)
            .references(&["IEEE 802.1D", "failure catalogue E.30"]),
    )
}

const STP_FIX: &str = "Make the client's switch port an edge port, which forwards as soon as the link is up \
    (Cisco `spanning-tree portfast`, or `spanning-tree port type edge`; an edge port in RSTP or MSTP), or have the \
    client wait for the link before it asks (iPXE and most ROMs retry for about a minute).";

/// [`stp_delay`] from the client's side: DISCOVERs unanswered for
/// [`STP_MIN_NS`] or more from the client's first, then one answered within
/// a second. With a capture at the server's side that was running then and
/// holds the answered DISCOVER but none of the earlier ones, the path lost
/// them (medium confidence); from the client's side alone, the server may
/// also have been silent on purpose (low). When the server's side holds
/// them, the path did not lose them: no finding.
fn early_discovers_lost(t: &Transaction, ctx: &Context<'_>) -> Option<Finding> {
    let offer_seen = t.of_kind(Offer).next()?;
    let offer = &offer_seen.obs;
    // The DISCOVER answered is the last sent before the OFFER; two or more
    // before it are needed (counted first: most exchanges have one).
    let idx = (t.of_kind(Discover).enumerate())
        .filter(|(_, d)| d.obs.ts <= offer.ts)
        .last()?
        .0;
    if idx < 2 {
        return None;
    }
    let discovers: Vec<&Seen> = t.of_kind(Discover).take(idx + 1).collect();
    let (lost, answered_seen) = (&discovers[..idx], discovers[idx]);
    let answered = &answered_seen.obs;
    let first = &lost[0].obs;
    let span = answered.ts.0 - first.ts.0;
    let latency = offer.ts.0 - answered.ts.0;
    if span < STP_MIN_NS || latency >= 1_000_000_000 {
        return None;
    }
    let captures = ctx.files.len().min(64);
    let holds = |s: &Seen, f: usize| s.files & (1 << f) != 0;
    let running = |f: usize| ctx.file_spans.get(f).is_some_and(|s| s.0 <= first.ts);
    // A capture on the far side of the loss: running when the first was
    // sent, it holds the DISCOVER answered and the OFFER, and none of the
    // early ones.
    let far = (0..captures).find(|&f| {
        running(f)
            && holds(answered_seen, f)
            && holds(offer_seen, f)
            && !lost.iter().any(|d| holds(d, f))
    });
    // Two captures or more that hold the early ones and the OFFER saw them
    // cross the path: they reached the server's side, unanswered.
    let crossed = (0..captures)
        .filter(|&f| holds(offer_seen, f) && lost.iter().all(|d| holds(d, f)))
        .count();
    if far.is_none() && crossed >= 2 {
        return None;
    }
    let n = lost.len();
    let lost_frames = ctx.frames(lost.iter().map(|d| d.obs.at));
    let server = offer.server();
    let secs = format!(
        "secs {} to {}",
        first.secs,
        lost.last().map_or(first.secs, |d| d.obs.secs)
    );
    let head = format!(
        "The client's first {n} DISCOVERs ({lost_frames}, over {}, {secs}) got no answer, and {server} answered the \
         next one ({}, secs {}) {} later.",
        secs_fmt(span),
        ctx.frame(answered.at),
        answered.secs,
        ms_fmt(latency),
    );
    let (confidence, middle) = match far {
        Some(f) => (
            Confidence::Medium,
            format!(
                "None of the {n} reached {}, which was capturing then and holds the DISCOVER answered: the path \
                 dropped every frame from the client for its first {} and then forwarded them.",
                short_name(&ctx.files[f]),
                secs_fmt(span)
            ),
        ),
        None => (
            Confidence::Low,
            format!(
                "For {} the DISCOVERs did not reach {server}, or it did not answer them; a capture at the server's side \
                 tells which. A server that waits for secs (ISC dhcpd's min-secs) answers once it is high enough: the \
                 DISCOVER answered says {}.",
                secs_fmt(span),
                answered.secs
            ),
        ),
    };
    Some(
        Finding::new(Code::StpDelaySuspected, Severity::Warning, Some(t.chaddr), Some(t.xid))
            .confidence(confidence)
            .frames(lost.iter().map(|d| d.obs.at).chain([answered.at, offer.at]))
            .summary(format!(
                "the client's first {n} DISCOVERs over {} got no answer, then the next was answered in {}",
                secs_fmt(span),
                ms_fmt(latency)
            ))
            .explanation(format!(
                "{head} {middle} That is what a switch port without PortFast does when the link comes up: spanning \
                 tree keeps it listening, then learning, for the forward delay each (15 s each by default, 30 s in \
                 all) before it forwards a frame. The client got its lease late; a PXE ROM that gives up sooner \
                 never boots (PXE-E51, \"No DHCP or proxyDHCP offers were received\")."
            ))
            .fix(STP_FIX)
            .references(&["IEEE 802.1D §8.4", "failure catalogue E.30"]),
    )
}

fn ms_fmt(ns: i64) -> String {
    format!("{:.0} ms", ns as f64 / 1e6)
}

fn chaddr_source(t: &Transaction, ctx: &Context<'_>) -> Option<Finding> {
    let o = t
        .client_packets()
        .map(|s| &s.obs)
        .find(|o| source_not_chaddr(o))?;
    let src = wire::frame::mac_to_string(&o.src_mac.unwrap_or_default());
    Some(
        Finding::new(Code::ChaddrSourceMismatch, Severity::Warning, Some(t.chaddr), Some(t.xid))
            .frames([o.at])
            .summary(format!("{} has chaddr {} but Ethernet source {src}", o.short_name(), o.chaddr))
            .explanation(format!(
                "{} ({}) was sent from MAC {src} with chaddr {}. Switches with DHCP snooping and `verify mac-address` drop \
                 such packets; it is normal only behind a wireless bridge or a host relaying for a VM.",
                o.short_name(),
                ctx.frame(o.at),
                o.chaddr
            ))
            .fix("Check for a bridge or VM networking that rewrites source MACs; on snooping switches allow it or fix the client.")
            .references(&["RFC 2131 §2", "failure catalogue B.11"]),
    )
}

fn renew_malformed(t: &Transaction, ctx: &Context<'_>) -> Option<Finding> {
    let o = t
        .of_kind(Request)
        .map(|s| &s.obs)
        .find(|o| malformed_renewal(o, t.state))?;
    let why = if o.ciaddr.is_unspecified() {
        "it is unicast to the server but ciaddr is 0".to_string()
    } else {
        format!(
            "it has ciaddr {} and also {}",
            o.ciaddr,
            match (o.requested_ip, o.server_id) {
                (Some(r), Some(s)) => format!("option 50 ({r}) and option 54 ({s})"),
                (Some(r), None) => format!("option 50 ({r})"),
                (None, Some(s)) => format!("option 54 ({s})"),
                _ => String::new(),
            }
        )
    };
    Some(
        Finding::new(Code::RenewMalformed, Severity::Warning, Some(t.chaddr), Some(t.xid))
            .frames([o.at])
            .summary(format!("renewing REQUEST breaks RFC 2131: {why}"))
            .explanation(format!(
                "The REQUEST ({}) renews or rebinds a lease, but {why}. RFC 2131 §4.3.2 says a RENEWING or REBINDING \
                 REQUEST carries ciaddr and neither option 50 nor 54; servers may NAK or ignore it.",
                ctx.frame(o.at)
            ))
            .fix("Update the client's DHCP implementation.")
            .references(&["RFC 2131 §4.3.2", "RFC 2131 table 5"]),
    )
}

/// Unicast renewals (RENEWING, after T1) that got no answer, in a
/// transaction where a broadcast REQUEST (REBINDING, after T2) did.
/// ` ICMP errors from A quote them (frame N): see server-unreachable.`
/// when ICMP errors quote this transaction's requests to a server's UDP 67.
fn renewals_refused(t: &Transaction, ctx: &Context<'_>) -> String {
    ctx.client
        .refusals()
        .iter()
        .find(|r| !r.reply && r.xid == t.xid && r.port == 67)
        .map_or(String::new(), |r| {
            format!(
                " ICMP errors from {} quote them ({}): see server-unreachable.",
                r.reporter,
                ctx.frame(r.at)
            )
        })
}

fn renew_unanswered(t: &Transaction, outcome: Outcome, ctx: &Context<'_>) -> Option<Finding> {
    let unicast: Vec<&Obs> = t
        .of_kind(Request)
        .map(|s| &s.obs)
        .filter(|o| unicast_renewal(o))
        .collect();
    let first = unicast.first()?;
    let answered_at = t
        .of_kind(Ack)
        .chain(t.of_kind(Nak))
        .map(|s| s.obs.ts)
        .filter(|ts| *ts > first.ts)
        .min();
    // The REQUEST the answer answers: the last one before it.
    let answered = answered_at.and_then(|a| {
        t.of_kind(Request)
            .map(|s| &s.obs)
            .filter(|o| o.ts <= a)
            .last()
    });
    let unanswered: Vec<&&Obs> = unicast
        .iter()
        .filter(|o| answered_at.is_none_or(|a| o.ts < a))
        .filter(|o| answered.is_none_or(|r| r.at != o.at))
        .collect();
    if unanswered.len() < 2 {
        return None;
    }
    let dur = unanswered.last().map_or(0, |l| l.ts.0 - first.ts.0);
    let renewed = outcome == Outcome::Renewed;
    // Rescued by a broadcast REQUEST (REBINDING), or at last by one more
    // unicast renewal.
    let rescued = answered.filter(|r| renewed && r.broadcast_dst());
    let got_through = answered.filter(|r| renewed && !r.broadcast_dst());
    let severity = if outcome.is_failure() {
        Severity::Error
    } else {
        Severity::Warning
    };
    Some(
        Finding::new(Code::RenewUnanswered, severity, Some(t.chaddr), Some(t.xid))
            .frames(unanswered.iter().map(|o| o.at).chain(answered.filter(|_| renewed).map(|b| b.at)))
            .summary(format!(
                "{} unicast renewal{} to {} got no answer over {}{}",
                unanswered.len(),
                if unanswered.len() == 1 { "" } else { "s" },
                first.dst_ip,
                secs_fmt(dur),
                if rescued.is_some() {
                    "; the broadcast rebind was answered"
                } else if got_through.is_some() {
                    "; a later one was answered"
                } else {
                    ""
                }
            ))
            .explanation(format!(
                "After T1 the client renewed its lease of {} by unicast to {} ({}), and nobody answered{}. Unicast DHCP \
                 takes a different path from broadcasts (routing, firewalls, a server that listens only for broadcasts, a \
                 relay in between), so {}",
                first.ciaddr,
                first.dst_ip,
                ctx.frames(unanswered.iter().map(|o| o.at)),
                match (rescued, got_through) {
                    (Some(b), _) => format!("; its broadcast REQUEST after T2 ({}) was", ctx.frame(b.at)),
                    (_, Some(r)) => format!("; a later one ({}) was", ctx.frame(r.at)),
                    _ => String::new(),
                },
                if rescued.is_some() {
                    "the lease survives only because rebinding at T2 works; lose that too and the client drops its \
                     address when the lease ends."
                } else if got_through.is_some() {
                    "renewals were lost before one got through: a lossy path, or a server that answers unicast only \
                     some of the time. Leases renew late, and fall back on rebinding when every retry is lost."
                } else {
                    "the lease now rests on rebinding: unless a broadcast REQUEST after T2 is answered (this capture \
                     shows none), the client drops its address when the lease ends."
                }
            ) + &renewals_refused(t, ctx))
            .fix(format!(
                "Let unicast UDP from the clients to {}:67 through (firewall, routing, switch ACLs), and check that the \
                 server answers unicast on the address it gives as its server identifier.",
                first.dst_ip
            ))
            .references(&["RFC 2131 §4.4.5", "failure catalogue C.23"]),
    )
}

fn type_not_first(t: &Transaction, outcome: Outcome, ctx: &Context<'_>) -> Option<Finding> {
    let o = to_client(t).map(|s| &s.obs).find(|o| o.type_not_first)?;
    let boot = t.client_packets().any(|s| is_pxe(&s.obs));
    let failed = boot
        && (matches!(outcome, Outcome::OfferIgnored | Outcome::NoAck)
            || (o.kind == Some(Ack) && outcome == Outcome::AckIgnored));
    let severity = if failed {
        Severity::Error
    } else if boot {
        Severity::Warning
    } else {
        Severity::Info
    };
    let f = Finding::new(
        Code::MessageTypeNotFirst,
        severity,
        Some(t.chaddr),
        Some(t.xid),
    );
    let f = if failed { f.cause(Confidence::Low) } else { f };
    Some(
        f.frames([o.at])
            .summary(format!("{} from {} does not start with option 53", o.short_name(), o.server()))
            .explanation(format!(
                "In {} ({}) option 53 is not the first option. That is legal, but some boot firmware (Raspberry Pi 4 \
                 bootloader, old U-Boot) only looks for it first and ignores the reply.",
                o.short_name(),
                ctx.frame(o.at)
            ))
            .fix("If boot clients ignore the replies, make the server send option 53 first.")
            .references(&["RFC 2131 §3", "failure catalogue B.15"]),
    )
}

/// How soon after its DISCOVER an OFFER counts as instant for a PXE ROM.
const PXE_INSTANT_NS: i64 = 10_000_000;

/// `pxe-reply-too-fast` (catalogue B.17): a PXE ROM sends DISCOVER after
/// DISCOVER although each was answered within milliseconds, and nothing else
/// explains it. Some boot ROMs are not listening yet when an instant reply
/// arrives; dnsmasq has `dhcp-reply-delay` for exactly this.
fn pxe_reply_too_fast(
    t: &Transaction,
    outcome: Outcome,
    causes: &[Finding],
    ctx: &Context<'_>,
) -> Option<Finding> {
    if outcome != Outcome::OfferIgnored || causes.iter().any(|c| c.explains_failure) {
        return None;
    }
    let asked = pxe_rom_request(t)?;
    // Each OFFER with the latest DISCOVER before it, and how soon it came.
    let answered: Vec<(&Obs, i64)> = to_client(t)
        .map(|s| &s.obs)
        .filter(|o| o.kind == Some(Offer))
        .filter_map(|o| {
            let d = t
                .of_kind(Discover)
                .map(|s| s.obs.ts)
                .filter(|ts| *ts <= o.ts)
                .max()?;
            Some((o, o.ts.0 - d.0))
        })
        .collect();
    let discovers = t.of_kind(Discover).count();
    if discovers < 2 || answered.len() < 2 {
        return None;
    }
    let slowest = answered.iter().map(|(_, d)| *d).max()?;
    if slowest >= PXE_INSTANT_NS {
        return None;
    }
    let f = cause_or_risk(Code::PxeReplyTooFast, t, true, Confidence::Low);
    let fastest = answered.iter().map(|(_, d)| *d).min().unwrap_or(slowest);
    Some(
        f.frames(std::iter::once(asked.at).chain(answered.iter().map(|(o, _)| o.at)))
            .summary(format!(
                "PXE client ignored {} OFFERs that came {:.1}–{:.1} ms after its DISCOVERs",
                answered.len(),
                fastest as f64 / 1e6,
                slowest as f64 / 1e6
            ))
            .explanation(format!(
                "The client is a PXE ROM ({}) and sent {discovers} DISCOVERs; every OFFER came within {:.1} ms of the \
                 DISCOVER it answers (first: {}), and the client never requested one. Nothing else in the capture \
                 explains why: some boot ROMs are not yet listening when an instant reply arrives. A guess, from the \
                 timing alone.",
                asked.vendor_class().unwrap_or("option 93"),
                slowest as f64 / 1e6,
                ctx.frame(answered[0].0.at),
            ))
            .fix("Delay the replies to boot clients: dnsmasq `dhcp-reply-delay=tag:pxe,1` (with `dhcp-vendorclass=set:pxe,PXEClient`); ISC dhcpd and Kea have no such delay. Else update the NIC's boot ROM.")
            .references(&["dnsmasq(8) --dhcp-reply-delay", "failure catalogue B.17"]),
    )
}

fn slow_offer(t: &Transaction, ctx: &Context<'_>) -> Option<Finding> {
    let (offer, delay) = t.of_kind(Offer).map(|s| &s.obs).find_map(|o| {
        let asked = t
            .of_kind(Discover)
            .map(|s| s.obs.ts)
            .filter(|ts| *ts <= o.ts)
            .max()?;
        let d = o.ts.0 - asked.0;
        (d >= 1_000_000_000).then_some((o, d))
    })?;
    let pxe = t.client_packets().any(|s| is_pxe(&s.obs));
    Some(
        Finding::new(Code::SlowOffer, if pxe && delay >= 3_000_000_000 { Severity::Warning } else { Severity::Info }, Some(t.chaddr), Some(t.xid))
            .frames([offer.at])
            .summary(format!("OFFER from {} came {} after the DISCOVER", offer.server(), secs_fmt(delay)))
            .explanation(format!(
                "{} answered {} after the DISCOVER it answers ({}). Servers ping an address before offering it: ISC dhcpd \
                 (ping-check, about 1 s) and dnsmasq (up to 3 s for an address it has not leased before; --no-ping). \
                 dnsmasq's `dhcp-reply-delay` holds OFFERs back on purpose, for PXE ROMs that are not listening yet. \
                 Longer delays point to a loaded server or a slow back end. PXE ROMs wait only about 4 s per try.",
                offer.server(),
                secs_fmt(delay),
                ctx.frame(offer.at)
            ))
            .fix("Usually nothing; if boot clients time out, turn off the ping check (ISC `ping-check false;`, dnsmasq `--no-ping`) or speed up the server.")

            .references(&["ISC dhcpd.conf(5) ping-check"]),
    )
}

fn multiple_servers(t: &Transaction, ctx: &Context<'_>) -> Option<Finding> {
    // A second server among the OFFERs, found without collecting them (so
    // `servers` below holds two or more).
    let mut offers = t.of_kind(Offer).map(|s| s.obs.server());
    let first = offers.next()?;
    if offers.all(|id| id == first) {
        return None;
    }
    let servers = t.servers(Offer);
    let chosen = t.of_kind(Request).find_map(|s| s.obs.server_id);
    let mut rows = Vec::new();
    for s in &servers {
        let o = t
            .of_kind(Offer)
            .map(|x| &x.obs)
            .find(|o| o.server() == *s)?;
        // From the DISCOVER it answers: the last one sent before it (as
        // the transaction's offer latency is measured).
        let discover = t
            .of_kind(Discover)
            .map(|s| s.obs.ts)
            .filter(|d| *d <= o.ts)
            .max();
        let latency = discover.map_or(String::new(), |d| {
            format!(" after {:.0} ms", (o.ts.0 - d.0) as f64 / 1e6)
        });
        rows.push(format!(
            "{s}{} offered {}{latency} ({}){}",
            o.src_mac.map_or(String::new(), |m| format!(
                " [{}]",
                wire::frame::mac_to_string(&m)
            )),
            o.yiaddr,
            ctx.frame(o.at),
            if chosen == Some(*s) {
                " — the client took this one"
            } else {
                ""
            }
        ));
    }
    // Another server refusing the lease the client took: one of them does
    // not belong on this network.
    let refused_by = chosen.and_then(|c| t.of_kind(Nak).map(|s| &s.obs).find(|n| n.server() != c));
    let f = match refused_by {
        Some(n) => Finding::new(
            Code::MultipleServers,
            Severity::Error,
            Some(t.chaddr),
            Some(t.xid),
        )
        .cause(Confidence::Medium)
        .frames([n.at]),
        None => Finding::new(
            Code::MultipleServers,
            Severity::Warning,
            Some(t.chaddr),
            Some(t.xid),
        ),
    };
    let conflict = refused_by.map_or(String::new(), |n| {
        format!(
            " {} then NAKed the REQUEST for the address the client took ({}): the servers disagree about this network, \
             so the client holds an address the other server says is wrong — the faster one is likely a rogue.",
            n.server(),
            ctx.frame(n.at)
        )
    });
    Some(
        f.frames(t.of_kind(Offer).map(|s| s.obs.at))
            .summary(format!(
                "{} servers answered: {}{}",
                servers.len(),
                servers.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(", "),
                chosen.map_or(String::new(), |c| format!("; the client took {c}"))
            ))
            .explanation(format!(
                "For xid {}: {}. Clients usually take the first OFFER, so the fastest server wins; a server that should not \
                 be there (a home router, a test VM) hands out wrong addresses, gateways and DNS.{conflict}",
                xid(t.xid),
                rows.join("; ")
            ))

            .fix("If only one server should answer on this network, find the other by its MAC and switch port and disable it (or enable DHCP snooping); if it is a failover pair, this is expected.")
            .references(&["RFC 2131 §4.4.1", "failure catalogue E.34"]),
    )
}

/// `secs-not-incrementing`, judged over a DISCOVER cycle.
pub fn secs_cycle(chaddr: HwAddr, c: &Cycle) -> Option<Finding> {
    if !c.worth_checking() || c.min_secs != c.max_secs {
        return None;
    }
    let dur = c.last.0 - c.start.0;
    let v = c.first_secs;
    let failed = !c.got_offer;
    let f = Finding::new(
        Code::SecsNotIncrementing,
        if failed {
            Severity::Error
        } else {
            Severity::Warning
        },
        Some(chaddr),
        c.xids().first().copied(),
    );
    let f = if failed {
        f.cause(Confidence::Medium)
    } else {
        f
    };
    let xids: Vec<String> = c.xids().iter().map(|x| xid(*x).to_string()).collect();
    // The smallest `min-secs` that drops these DISCOVERs (ISC's is one
    // byte, so none drops secs of 255 or more).
    let min_secs = v.saturating_add(1).max(2);
    let isc = if min_secs <= 255 {
        format!(
            "ISC dhcpd with `min-secs` logs \"configured min-secs value ({min_secs}) is greater than secs field ({v}).  \
             message dropped.\" (3.x: \"{v} secs < {min_secs}\")"
        )
    } else {
        "ISC dhcpd's `min-secs` (at most 255) would not drop these".to_string()
    };
    Some(
        f.frames(c.frames().iter().copied())
            .summary(format!("secs stayed {v} over {} DISCOVERs in {}", c.discovers, secs_fmt(dur)))
            .explanation(format!(
                "RFC 2131 asks a client to put the seconds since it began acquiring a lease in secs; this client sent \
                 secs={v} in all {} DISCOVERs over {} (xid {}). Servers that wait for secs to grow ignore it: {isc}, and \
                 ISC failover load balancing and Kea HA failure detection misjudge it. \
                 Etherboot 5.4 (the Xen HVM PXE ROM) is a known offender.{}",
                c.discovers,
                secs_fmt(dur),
                xids.join(", "),
                if failed {
                    " No server answered, which fits a server with min-secs."
                } else {
                    " A server answered anyway here, but one configured with min-secs (e.g. a failover secondary) never would."
                }
            ))
            .fix("Set `min-secs 0;` for this network on ISC dhcpd (or remove min-secs), or boot with a client that counts secs (e.g. iPXE instead of Etherboot). `dhcplens bisect --field secs=0..30` confirms a threshold.")
            .references(&["RFC 2131 §2", "RFC 2131 §4.4.1", "ISC dhcpd.conf(5) min-secs"]),
    )
}

/// Rules over a whole client, at the end of a capture that ends at `end`
/// (`files`: the capture files' names, for frame references).
pub fn client_end(c: &Client, end: Timestamp, files: &[String]) -> Vec<Finding> {
    let (ipxe_boots, pxe_boot_file) = c.boot_files();
    let mut out = Vec::new();
    for b in c.boot_servers() {
        out.extend(pxe_boot_server_unanswered(c, b, end, files));
    }
    out.extend(refused(c, files));
    if c.client_id_count() >= 2 {
        let ids: Vec<String> = c
            .client_ids()
            .iter()
            .map(|i| i.map_or("(none)".to_string(), |i| i.hex()))
            .collect();
        out.push(
            Finding::new(Code::ClientIdChanged, Severity::Warning, Some(c.chaddr), None)
                .summary(format!("one machine used {} client identifiers", ids.len()))
                .explanation(format!(
                    "MAC {} sent these client identifiers (option 61): {}. Servers key leases on option 61 when present, so each \
                     identity gets its own lease: typical of PXE firmware, then the installed OS (ISC logs \"uid lease … is duplicate\").",
                    c.chaddr,
                    ids.join(", ")
                ))
                .fix("Usually harmless; if the pool runs short, make the boot stages use the same client identifier or shorten PXE leases.")
                .references(&["RFC 2132 §9.14", "RFC 4361"]),
        );
    }
    if ipxe_boots.len() >= 2 {
        let file = &ipxe_boots[0].0;
        let same = ipxe_boots.iter().filter(|(f, _)| f == file).count();
        if same >= 2 && (is_boot_binary(file) || pxe_boot_file == Some(&**file)) {
            out.push(
                Finding::new(Code::IpxeChainloadLoop, Severity::Error, Some(c.chaddr), None)
                    .cause(Confidence::High)
                    .frames(ipxe_boots.iter().map(|(_, r)| *r))
                    .summary(format!("iPXE was handed {file} {same} times: it chainloads itself"))
                    .explanation(format!(
                        "The client identified itself as iPXE (option 77 \"iPXE\" or option 175) and was given the boot file \
                         {file} {same} times: the iPXE binary it is already running, so it loads itself again and again."
                    ))
                    .fix("Give iPXE clients a script or URL instead: ISC `if exists user-class and option user-class = \"iPXE\" { filename \"http://…/boot.ipxe\"; } else { filename \"undionly.kpxe\"; }`; dnsmasq `dhcp-userclass=set:ipxe,iPXE` with `dhcp-boot=tag:ipxe,…`.")
                    .references(&["iPXE documentation: chainloading", "failure catalogue E.32"]),
            );
        }
    }
    out
}

/// A ROM that asked a boot server on UDP 4011 more than once, with no
/// answer while the capture went on this long after the first request, has
/// been left unanswered (iPXE retries after 0.25, 0.55 and 1 s, other ROMs
/// after 1 to 4 s); a single request needs the capture to go on twice as
/// long after it.
const BOOT_SERVER_WAIT_NS: i64 = 1_000_000_000;

/// `pxe-boot-server-unanswered`: the ROM asked a boot server on UDP 4011
/// for its boot file and nothing came back from that port. The boot stops
/// there (an error), though the DHCP exchange before it succeeded; iPXE
/// with a boot file in its DHCP ACK gives up on the boot server after a few
/// seconds and boots that file (a warning).
fn pxe_boot_server_unanswered(
    c: &Client,
    b: &crate::client::BootServer,
    end: Timestamp,
    files: &[String],
) -> Option<Finding> {
    let &(_, first, asked_xid) = b.unanswered.first()?;
    let last = b.last_unanswered;
    let n = b.unanswered_count;
    let waited = if n >= 2 {
        end.0 - first.0 >= BOOT_SERVER_WAIT_NS
    } else {
        end.0 - last.0 >= 2 * BOOT_SERVER_WAIT_NS
    };
    if !waited {
        return None;
    }
    let (server, port) = (b.server, b.port);
    let mut frames: Vec<FrameRef> = b.unanswered.iter().map(|r| r.0).collect();
    // ICMP errors quoting these requests: the server's own port
    // unreachable (nothing listens), or a firewall's on the way.
    let refusals: Vec<&crate::client::Refusal> = c
        .refusals()
        .iter()
        .filter(|r| !r.reply && r.port == b.port && r.to == server && r.ts >= first)
        .collect();
    let refused: Vec<FrameRef> = refusals.iter().map(|r| r.at).collect();
    frames.extend(&refused);
    frames.extend(&b.plain.frames);
    // A search by broadcast or multicast (to UDP 67 with a boot item,
    // PXE 2.1 §2.2.5) rather than a question to one server.
    let discovery = b.port == 67 || server.is_broadcast() || server.is_multicast();
    // The capture holds this server's DHCP replies to the client: it sees
    // the way back from that server, where an answer from 4011 would come.
    // For a search, any server's: it sees the client's side.
    let seen_replies = if discovery {
        !c.servers().is_empty()
    } else {
        c.servers().contains(&server)
    };
    let confidence = if seen_replies || !refused.is_empty() {
        Confidence::High
    } else {
        Confidence::Medium
    };
    // iPXE falls back to the ACK's own boot file.
    let (ipxe_boots, _) = c.boot_files();
    // Not from a boot menu's item (its requests name the item): iPXE then
    // stops with the menu.
    let fallback = ipxe_boots
        .last()
        .filter(|_| b.ipxe && b.item.is_none())
        .map(|(f, _)| f);
    let requests = if n == 1 {
        "a request".to_string()
    } else {
        format!("{n} requests")
    };
    let span = if n > 1 {
        format!(", over {:.1} s", (last.0 - first.0) as f64 / 1e9)
    } else {
        String::new()
    };
    let after = match (
        c.outcome().is_some_and(Outcome::is_success),
        c.address(),
        c.server(),
    ) {
        (true, Some(a), Some(s)) => format!("After its DHCP exchange (it holds {a} from {s}), the"),
        (true, Some(a), None) => format!("After its DHCP exchange (it holds {a}), the"),
        _ => "The".to_string(),
    };
    let vantage = if let Some(r) = refusals.first() {
        let listed = frame_list(files, refused.iter().copied());
        if r.reporter == server && r.code == 3 {
            format!(
                "{server} answered with ICMP port unreachable ({listed}): nothing listens on UDP {} there.",
                b.port
            )
        } else {
            format!(
                "{} answered with ICMP destination unreachable, code {} ({listed}): a firewall or router rejects UDP \
                 {} to {server}.",
                r.reporter, r.code, b.port
            )
        }
    } else if discovery && seen_replies {
        "The capture holds DHCP replies to this client, so it sees the client's side, where a boot server's answer \
         would arrive."
            .to_string()
    } else if discovery {
        "The capture holds no DHCP reply to this client, so an answer may have taken a path it does not see: \
         capture at the client's side to be sure."
            .to_string()
    } else if seen_replies {
        format!(
            "The capture holds {server}'s DHCP replies to this client, so it sees the way an answer from port 4011 \
             would take."
        )
    } else {
        format!(
            "The capture holds no DHCP reply from {server} to this client, so an answer may have taken a path it \
             does not see: capture at the client's side to be sure."
        )
    };
    let (severity, what, consequence) = match fallback {
        Some(file) => (
            Severity::Warning,
            "no answer, iPXE falls back to the ACK's boot file",
            format!(
                "iPXE gives up on the boot server after a few seconds and boots the file its DHCP ACK named ({file}), so \
                 the boot is only delayed here; a ROM that is not iPXE stops instead (PXE-E55)."
            ),
        ),
        // A boot menu's item (a search, or a request that names the item).
        None if discovery || b.item.is_some() => (
            Severity::Error,
            "no answer, the boot stops",
            "Without an answer the boot stops here (iPXE: \"PXEBS … Connection timed out\"; Intel and other PXE \
             ROMs: PXE-E78, \"Could not locate boot server\")."
                .to_string(),
        ),
        None => (
            Severity::Error,
            "no answer, the boot stops",
            "Without an answer the boot stops here (iPXE: \"Nothing to boot\"; Intel and other PXE ROMs: PXE-E55, \
             \"ProxyDHCP service did not reply to request on port 4011\", or after a boot menu PXE-E78, \"Could not \
             locate boot server\")."
                .to_string(),
        ),
    };
    let f = Finding::new(
        Code::PxeBootServerUnanswered,
        severity,
        Some(c.chaddr),
        Some(asked_xid),
    );
    let f = if severity == Severity::Error {
        f.cause(confidence)
    } else {
        f.confidence(confidence)
    };
    let times = match n {
        1 => "once".to_string(),
        2 => "twice".to_string(),
        _ => format!("{n} times"),
    };
    let asked = frame_list(files, b.unanswered.iter().map(|r| r.0));
    let f = f.frames(frames.iter().copied());
    if discovery {
        let item = b.item.map_or("a boot item".to_string(), |(t, _)| {
            format!("boot item type {t}")
        });
        let how = if server.is_multicast() {
            format!("by multicast to {server}:{}", b.port)
        } else {
            format!("by broadcast to UDP {}", b.port)
        };
        if let Some(by) = b.plain.by {
            return Some(search_taken_for_rebind(
                f,
                c,
                b,
                by,
                SearchText {
                    item,
                    how,
                    times,
                    requests,
                    asked,
                    span,
                    after,
                },
                files,
            ));
        }
        return Some(
            f.summary(format!("the PXE ROM looked for a boot server for {item} {how} {times}: {what}"))
                .explanation(format!(
                    "{after} PXE ROM sent {requests} to find a boot server for {item} {how} ({asked}{span}, xid {}: a \
                     DHCPREQUEST naming the item in option 43 sub-option 71), and no boot server answered. A ROM searches \
                     this way when it picks an item of a PXE boot menu (option 43 sub-option 9) whose server the menu \
                     does not name (sub-option 8) and discovery control (sub-option 6) allows it: dnsmasq offers this for \
                     a `pxe-service` with a boot service type and no server address. {consequence} {vantage}",
                    xid(asked_xid),
                ))
                .fix(format!(
                    "Run a boot server that answers for {item} on this network (WDS, a PXE server), or name its address \
                     in the boot menu (option 43 sub-option 8; dnsmasq `pxe-service=x86PC,\"…\",<type>,<server \
                     address>`). With dnsmasq and no such server, give the menu item a basename instead of a type \
                     (`pxe-service=x86PC,\"…\",<basename>`): dnsmasq then answers for it itself, on UDP 4011."
                ))
                .references(&["PXE specification 2.1 §2.2.5", "failure catalogue E.31"]),
        );
    }
    Some(
        f.summary(format!(
            "the PXE ROM asked {server} for its boot file on UDP {} {times}: {what}",
            b.port
        ))
        .explanation(format!(
            "{after} PXE ROM sent {requests} for its boot file{} to {server} on UDP port {} ({asked}{span}, xid {}), and \
             nothing came back from that port. A ROM asks there when an OFFER carried option 60 «PXEClient»: a \
             ProxyDHCP offer, a DHCP server claiming PXE service itself, or a boot menu's server. {consequence} \
             {vantage}",
            b.item.map_or(String::new(), |(t, _)| format!(" (boot item type {t}, option 43 sub-option 71)")),
            b.port,
            xid(asked_xid),
        ))
        .fix(format!(
            "Start the PXE service on {server}, or let UDP {port} through to it (`ss -ulnp 'sport = :{port}'` there; an \
             ICMP port unreachable from it in a capture says nothing listens). If {server} runs no PXE service, take \
             option 60 «PXEClient» out of the DHCP replies (ISC `option vendor-class-identifier`, dnsmasq \
             `dhcp-option=60,…`, Kea `vendor-class-identifier`) and name the boot file in them instead (ISC \
             `filename` and `next-server`, dnsmasq `dhcp-boot`, Kea `boot-file-name`)."
        ))
        .references(&["PXE specification 2.1 §2.2", "failure catalogue E.31"]),
    )
}

/// The words of a boot server search that [`pxe_boot_server_unanswered`]
/// has already put together.
struct SearchText {
    item: String,
    how: String,
    times: String,
    requests: String,
    asked: String,
    span: String,
    after: String,
}

/// `pxe-boot-server-unanswered` for a search that a DHCP server answered as
/// an ordinary DHCP message: an ACK (or NAK) under the search's xid that
/// names no boot item. The ROM takes only an ACK that names the item it
/// asked for (iPXE drops any other), so it searches again and stops. Seen
/// with ISC dhcpd serving a boot menu written by hand in option 43: it
/// reads the search, a REQUEST with ciaddr and no server identifier, as a
/// rebind.
fn search_taken_for_rebind(
    f: Finding,
    c: &Client,
    b: &crate::client::BootServer,
    by: std::net::Ipv4Addr,
    t: SearchText,
    files: &[String],
) -> Finding {
    let SearchText {
        item,
        how,
        times,
        requests,
        asked,
        span,
        after,
    } = t;
    let p = &b.plain;
    let asked_n = b.unanswered_count;
    let which = match (asked_n, p.searches) {
        (1, _) => "the search".to_string(),
        (n, m) if m >= n => "each search".to_string(),
        (n, m) => format!("{m} of the {n} searches"),
    };
    let who = if c.server() == Some(by) {
        format!("{by}, the DHCP server that gave the ROM its address,")
    } else {
        format!("{by}, a DHCP server,")
    };
    let who = if p.others {
        format!("{who} and another DHCP server")
    } else {
        who
    };
    let short_who = if p.others {
        format!("{by} and another DHCP server")
    } else {
        by.to_string()
    };
    let replies = if p.count == 1 { "reply" } else { "replies" };
    let again = if asked_n >= 2 {
        "it searched again and stopped"
    } else {
        "it stopped"
    };
    f.summary(format!(
        "the PXE ROM looked for a boot server for {item} {how} {times}: {short_who} answered as if it were an \
         ordinary DHCP request, with {} no boot item, and the boot stops",
        if p.count == 1 { "a reply that names" } else { "replies that name" }
    ))
    .explanation(format!(
        "{after} PXE ROM sent {requests} to find a boot server for {item} {how} ({asked}{span}, xid {}: a message \
         from its new address naming the item in option 43 sub-option 71), as a PXE boot menu (option 43 \
         sub-option 9) that names no server for the item (no sub-option 8) has it do. No boot server answered. {who} \
         answered {which} with a DHCP reply that names no boot item ({} {replies}, {}): it took the search for the \
         client's own DHCP message. ISC dhcpd reads a REQUEST with ciaddr and no server identifier as a rebind \
         (RFC 2131 §4.3.2) and ACKs it, logging \"DHCPREQUEST for <address> from <MAC>\" with no server in \
         parentheses. A PXE ROM takes only an ACK that names the boot item it asked for (iPXE drops any other), so \
         {again} (iPXE: \"PXEBS … Connection timed out\"; Intel and other PXE ROMs: PXE-E78, \"Could not locate \
         boot server\").",
        xid(b.unanswered[0].2),
        p.count,
        frame_list(files, p.frames.iter().copied()),
    ))
    .fix(format!(
        "A DHCP server is no boot server. Either run one that answers for {item} (WDS, a PXE server) and name its \
         address in the menu (option 43 sub-option 8), or take the boot menu out of the DHCP replies that carry it \
         (ISC: the `vendor-encapsulated-options` or PXE option space that holds sub-options 6 to 10; Windows: \
         option 43) and name the boot file in them instead (ISC `filename` and `next-server`). dnsmasq can serve \
         the menu and the file itself: `pxe-service=x86PC,\"…\",<basename>`."
    ))
    .references(&[
        "PXE specification 2.1 §2.2.5",
        "RFC 2131 §4.3.2",
        "failure catalogue E.31",
    ])
}

/// What makes refusals one group: who refused what, where, and how.
fn refusal_key(r: &crate::client::Refusal) -> (Ipv4Addr, u8, Ipv4Addr, u16) {
    (r.reporter, r.code, r.to, r.port)
}

/// The first refusal of `c` that `pick` selects, and every other it
/// selects with the same [`refusal_key`].
fn refusal_group(
    c: &Client,
    pick: impl Fn(&crate::client::Refusal) -> bool,
) -> Option<Vec<&crate::client::Refusal>> {
    let first = c.refusals().iter().find(|r| pick(r))?;
    Some(
        c.refusals()
            .iter()
            .filter(|r| pick(r) && refusal_key(r) == refusal_key(first))
            .collect(),
    )
}

/// An ICMP destination unreachable's code in a finding's words.
fn icmp_words(code: u8) -> &'static str {
    match code {
        3 => "port unreachable",
        9 | 10 | 13 => "communication administratively prohibited",
        0 | 1 | 6 | 7 => "host or network unreachable",
        _ => "destination unreachable",
    }
}

/// The client's messages, or a server's replies to it, that ICMP errors say
/// were refused (`server-unreachable`, `reply-unreachable`), judged against
/// the client's outcome. Part of [`client_end`]; a live watch asks it as each
/// exchange closes, and each rule itself for an exchange still open.
pub fn refused(c: &Client, files: &[String]) -> Vec<Finding> {
    if c.refusals().is_empty() {
        return Vec::new();
    }
    let outcome = c.outcome();
    server_unreachable(c, outcome, files)
        .into_iter()
        .chain(reply_unreachable(c, outcome, files))
        .collect()
}

/// Why `by` refused a message to UDP 67 at `to` with ICMP `code`, and the
/// fix (`server-unreachable`).
fn server_refusal(by: Ipv4Addr, to: Ipv4Addr, code: u8) -> (String, String) {
    match code {
        3 if by == to => (
            format!(
                "nothing listens on UDP 67 at {to}: no DHCP server runs there, or it listens on other addresses or \
                 interfaces, or its own firewall rejects the messages"
            ),
            format!(
                "Start the DHCP server on {to} (`ss -ulnp 'sport = :67'` there shows what listens; an iptables REJECT \
                 rule on it answers port unreachable too), or point the relay (`ip helper-address`, dhcrelay's server \
                 list) at the address the server does listen on. A client's unicast renewals go to the server \
                 identifier its lease named."
            ),
        ),
        3 => (
            format!(
                "{by} is on the way to {to}: a firewall or router there rejects DHCP to it (an iptables REJECT rule \
                 answers port unreachable)"
            ),
            format!("Find the rule at {by} that rejects UDP 67 to {to}, and let DHCP through (UDP 68 back too)."),
        ),
        9 | 10 | 13 => (
            format!("a firewall at {by} rejects DHCP to {to}"),
            format!("Let UDP 67 to {to} through the firewall at {by} (and UDP 68 back)."),
        ),
        0 | 1 | 6 | 7 => (
            format!("{by} cannot reach {to} (no route, or no answer to its ARP)"),
            format!("Check the route from {by} to {to} and that {to} is up; a relay's server address may be wrong."),
        ),
        _ => (
            format!("{by} could not deliver it to {to} (ICMP code {code})"),
            format!("Check the path from {by} to {to}."),
        ),
    }
}

/// `server-unreachable`: the client's DHCP messages to a server (a relay's
/// forwarded requests, unicast renewals) came back as ICMP destination
/// unreachable: nothing listens on UDP 67 there, a firewall rejects them,
/// or a router cannot reach the server. The ICMP error names the cause the
/// silence alone cannot.
pub fn server_unreachable(
    c: &Client,
    outcome: Option<Outcome>,
    files: &[String],
) -> Option<Finding> {
    let same = refusal_group(c, |r| !r.reply && r.port == 67)?;
    let first = same[0];
    let mut others: Vec<String> = Vec::new();
    for r in c
        .refusals()
        .iter()
        .filter(|r| !r.reply && r.port == 67 && refusal_key(r) != refusal_key(first))
    {
        let s = format!("{} for {}", r.reporter, r.to);
        if !others.contains(&s) {
            others.push(s);
        }
    }
    let (by, to, code) = (first.reporter, first.to, first.code);
    let icmp = icmp_words(code);
    let (why, fix) = server_refusal(by, to, code);
    // The cause of a failure only when nothing answered the refused
    // exchanges, the client failed, and the capture holds its exchanges.
    let answered = same.iter().all(|r| r.answered);
    let (severity, cause, outcome_note) = match outcome {
        None => (
            Severity::Warning,
            false,
            " The capture holds none of the client's own messages, only the ICMP errors quoting them.",
        ),
        Some(o) if o.is_success() => (
            Severity::Warning,
            false,
            " The client got its lease another way (a broadcast, another server).",
        ),
        Some(_) if answered => (
            Severity::Warning,
            false,
            " Another server answered those exchanges, so this one is not why the client failed.",
        ),
        Some(_) => (Severity::Error, true, ""),
    };
    let f = Finding::new(
        Code::ServerUnreachable,
        severity,
        Some(c.chaddr),
        Some(first.xid),
    );
    let f = if cause { f.cause(Confidence::High) } else { f };
    let n = same.len();
    Some(
        f.frames(same.iter().map(|r| r.at))
            .summary(format!(
                "{by} answered {} to {to}:67 with ICMP {icmp}",
                if n == 1 {
                    "a DHCP message".to_string()
                } else {
                    format!("{n} DHCP messages")
                }
            ))
            .explanation(format!(
                "{} of this client's DHCP messages to {to}:67 (xid {}) came back quoted in ICMP destination unreachable \
                 ({icmp}) from {by} ({}): {why}. The messages that go to a server's address rather than to everyone \
                 are a relay's forwarded requests and a client's unicast renewals.{outcome_note}{}",
                if n == 1 { "One".to_string() } else { n.to_string() },
                xid(first.xid),
                frame_list(files, same.iter().map(|r| r.at)),
                if others.is_empty() {
                    String::new()
                } else {
                    format!(" Other ICMP errors quote its messages too: from {}.", others.join(", "))
                },
            ))
            .fix(fix)
            .references(&["RFC 792", "RFC 1812 §4.3.2.3", "RFC 2131 §4.4.5"]),
    )
}

/// Why `by` refused a server's reply to UDP `port` at `to` with ICMP
/// `code`, and the fix (`reply-unreachable`).
fn reply_refusal(by: Ipv4Addr, to: Ipv4Addr, port: u16, code: u8) -> (String, String) {
    let relay = port == 67;
    match code {
        3 if by == to && relay => (
            format!(
                "nothing listens on UDP 67 at {to}, the relay address (giaddr) of the request: the relay stopped, or it \
                 does not listen on that address"
            ),
            format!(
                "Check the relay at {to}: that it runs, and listens on its client-facing address {to} (dhcrelay's \
                 interfaces; `ip helper-address` on that interface); a server answers a relayed request at its giaddr."
            ),
        ),
        3 if by == to => (
            format!(
                "nothing listens on UDP 68 at {to}: the host there is not a DHCP client waiting for this reply (another \
                 host holds that address, or the client gave up)"
            ),
            format!(
                "If another machine holds {to} (a static address, a stale lease elsewhere), take it out of the pool or \
                 reserve it; a server unicasts its replies to yiaddr or ciaddr unless the client asks for broadcast."
            ),
        ),
        3 => (
            format!("{by} is on the way to {to}: a firewall or router there rejects the reply"),
            format!("Find the rule at {by} that rejects UDP {port} to {to}, and let DHCP replies through."),
        ),
        9 | 10 | 13 => (
            format!("a firewall at {by} rejects the server's replies to {to}"),
            format!("Let UDP {port} to {to} through the firewall at {by}."),
        ),
        0 | 1 | 6 | 7 => (
            format!("{by} cannot reach {to} (no route, or no answer to its ARP)"),
            format!("Check the route from the server to {to} (a relay's giaddr must be routable from the server)."),
        ),
        _ => (
            format!("{by} could not deliver it to {to} (ICMP code {code})"),
            format!("Check the path from the server to {to}."),
        ),
    }
}

/// ICMP destination unreachables of one kind (who, about what, which code)
/// whose quotes stop before `chaddr`: the sender kept only the headers (RFC
/// 792 asks for 8 bytes past the IP header; some routers still keep no
/// more). They name no client, so they make one server-wide finding
/// (`server-unreachable` or `reply-unreachable`, without a client).
#[derive(Debug, Clone)]
pub struct UnnamedRefusals {
    pub reporter: Ipv4Addr,
    pub code: u8,
    /// The quoted datagram is a server's (from UDP 67 to a relay or client);
    /// `None` when the quote stops before `op` and both ports are 67: then
    /// a reply if its sender is a server that replied in the capture
    /// ([`unnamed_refusals`]).
    pub reply: Option<bool>,
    /// The quoted datagram's sender (the host the capture was taken on).
    pub from: Ipv4Addr,
    pub to: Ipv4Addr,
    pub port: u16,
    pub count: u64,
    /// The first eight ICMP errors' frames.
    pub frames: Vec<FrameRef>,
}

/// Kinds of refusals kept (each with its count): the ICMP errors of more
/// are only counted.
const UNNAMED_REFUSAL_KINDS: usize = 16;

impl UnnamedRefusals {
    /// Counts the ICMP error quoting `o` (a quote that names no client)
    /// from `reporter` with `code` among `all`; `false` if it is of a kind
    /// past the first [`UNNAMED_REFUSAL_KINDS`] (then only counted apart).
    pub fn note(all: &mut Vec<UnnamedRefusals>, o: &Obs, reporter: Ipv4Addr, code: u8) -> bool {
        let reply = (!o.op_unknown()).then(|| !o.from_client());
        let key = (reporter, code, reply, o.src_ip, o.dst_ip, o.dst_port);
        let at = match all
            .iter()
            .position(|r| (r.reporter, r.code, r.reply, r.from, r.to, r.port) == key)
        {
            Some(i) => i,
            None if all.len() < UNNAMED_REFUSAL_KINDS => {
                all.push(UnnamedRefusals {
                    reporter,
                    code,
                    reply,
                    from: o.src_ip,
                    to: o.dst_ip,
                    port: o.dst_port,
                    count: 0,
                    frames: Vec::new(),
                });
                all.len() - 1
            }
            None => return false,
        };
        let r = &mut all[at];
        r.count += 1;
        if r.frames.len() < 8 {
            r.frames.push(o.at);
        }
        true
    }
}

/// The server-wide findings of ICMP errors whose quotes name no client: one
/// warning per reporter, code, direction and destination (which clients it
/// cost is not known), with the errors as evidence. A quote that stops
/// before `op` between two ports 67 is taken for a reply when its sender
/// answered clients in the capture (`is_server`), else for a relay's
/// request, and then counts with the others of that direction. `dropped`
/// errors of further kinds are said in the last finding.
pub fn unnamed_refusals(
    all: &[UnnamedRefusals],
    dropped: u64,
    files: &[String],
    is_server: impl Fn(Ipv4Addr) -> bool,
) -> Vec<Finding> {
    /// The errors of one (reporter, code, reply, to, port), and those of
    /// them whose direction was guessed, with their sender.
    struct Group {
        key: (Ipv4Addr, u8, bool, Ipv4Addr, u16),
        count: u64,
        frames: Vec<FrameRef>,
        guessed: Option<(u64, Ipv4Addr)>,
    }
    let mut groups: Vec<Group> = Vec::new();
    for r in all {
        let reply = r.reply.unwrap_or_else(|| is_server(r.from));
        let key = (r.reporter, r.code, reply, r.to, r.port);
        let i = match groups.iter().position(|g| g.key == key) {
            Some(i) => i,
            None => {
                groups.push(Group {
                    key,
                    count: 0,
                    frames: Vec::new(),
                    guessed: None,
                });
                groups.len() - 1
            }
        };
        let g = &mut groups[i];
        g.count += r.count;
        g.frames.extend(&r.frames);
        if r.reply.is_none() {
            let (n, _) = g.guessed.get_or_insert((0, r.from));
            *n += r.count;
        }
    }
    let mut out: Vec<Finding> = groups
        .into_iter()
        .map(|g| {
            let ((by, icmp_code, reply, to, port), n, mut frames, guessed) =
                (g.key, g.count, g.frames, g.guessed);
            frames.sort_unstable();
            frames.truncate(8);
            let icmp = icmp_words(icmp_code);
            let (code, one, many, (why, fix)) = if reply {
                (
                    Code::ReplyUnreachable,
                    "a server's reply",
                    "server replies",
                    reply_refusal(by, to, port, icmp_code),
                )
            } else {
                (
                    Code::ServerUnreachable,
                    "a DHCP message",
                    "DHCP messages",
                    server_refusal(by, to, icmp_code),
                )
            };
            let what = if n == 1 {
                one.to_string()
            } else {
                format!("{n} {many}")
            };
            let guess = match guessed {
                None => String::new(),
                Some((k, from)) if reply => format!(
                    " ({k} of them quote even less, not `op`: taken for replies because their sender, {from}, \
                     answered clients in this capture.)"
                ),
                Some((k, _)) => format!(
                    " ({k} of them quote even less, not `op`: taken for a relay's requests because their sender \
                     sent no DHCP reply in this capture.)"
                ),
            };
            Finding::new(code, Severity::Warning, None, None)
                .frames(frames.iter().copied())
                .summary(format!(
                    "{by} answered {what} to {to}:{port} with ICMP {icmp} (quoting only the headers: no client named)"
                ))
                .explanation(format!(
                    "ICMP destination unreachable ({icmp}) from {by} ({}) quoted {what} to {to}:{port}: {why}. Its \
                     quotes stop before the client's hardware address (RFC 792 asks for only 8 bytes past the IP \
                     header), so which clients it cost cannot be told from them; clients whose messages went that \
                     way got no answer by it.{guess}",
                    frame_list(files, frames.iter().copied()),
                ))
                .fix(fix)
                .references(&["RFC 792", "RFC 1812 §4.3.2.3"])
        })
        .collect();
    if let Some(last) = out.last_mut().filter(|_| dropped > 0) {
        last.explanation.push_str(&format!(
            " {dropped} more such ICMP error(s), from other reporters or to other destinations, are not listed (the \
             first {UNNAMED_REFUSAL_KINDS} kinds are)."
        ));
    }
    out
}

/// `reply-unreachable`: a server's replies for this client came back as
/// ICMP destination unreachable: sent to a relay's giaddr where no relay
/// listens, or unicast to an address where no DHCP client waits (another
/// host holds it).
pub fn reply_unreachable(
    c: &Client,
    outcome: Option<Outcome>,
    files: &[String],
) -> Option<Finding> {
    let same = refusal_group(c, |r| r.reply)?;
    let first = same[0];
    let (by, to, port, code) = (first.reporter, first.to, first.port, first.code);
    let icmp = icmp_words(code);
    let (why, fix) = reply_refusal(by, to, port, code);
    let failed = outcome.is_some_and(Outcome::is_failure);
    let severity = if failed {
        Severity::Error
    } else {
        Severity::Warning
    };
    let f = Finding::new(
        Code::ReplyUnreachable,
        severity,
        Some(c.chaddr),
        Some(first.xid),
    );
    let f = if failed { f.cause(Confidence::High) } else { f };
    let n = same.len();
    Some(
        f.frames(same.iter().map(|r| r.at))
            .summary(format!(
                "{by} answered {} to {to}:{port} with ICMP {icmp}",
                if n == 1 {
                    "a server's reply".to_string()
                } else {
                    format!("{n} server replies")
                }
            ))
            .explanation(format!(
                "{} for this client (xid {}) to {to}:{port} came back quoted in ICMP destination unreachable ({icmp}) \
                 from {by} ({}): {why}.{}",
                if n == 1 { "A server's reply".to_string() } else { format!("{n} server replies") },
                xid(first.xid),
                frame_list(files, same.iter().map(|r| r.at)),
                if failed {
                    " The client never got them."
                } else {
                    ""
                },
            ))
            .fix(fix)
            .references(&["RFC 792", "RFC 2131 §4.1"]),
    )
}

/// Message names counted in order of first appearance: `3 OFFERs and ACK`.
fn counted(names: impl Iterator<Item = String>) -> String {
    let mut seen: Vec<(String, usize)> = Vec::new();
    for n in names {
        match seen.iter_mut().find(|(m, _)| *m == n) {
            Some((_, k)) => *k += 1,
            None => seen.push((n, 1)),
        }
    }
    let parts: Vec<String> = seen
        .into_iter()
        .map(|(n, k)| if k == 1 { n } else { format!("{k} {n}s") })
        .collect();
    parts.join(" and ")
}

/// Whether a boot file names a network boot program (`undionly.kpxe`,
/// `ipxe.efi`, `pxelinux.0`) rather than a script or URL iPXE should get
/// (`http://10.0.0.1/boot.ipxe`): judged by the last path component only.
fn is_boot_binary(file: &str) -> bool {
    let name = file.rsplit('/').next().unwrap_or(file).to_ascii_lowercase();
    [".kpxe", ".kkpxe", ".pxe", ".efi", ".0", ".lkrn"]
        .iter()
        .any(|x| name.ends_with(x))
        || name.starts_with("undionly")
}

/// `client-id-shared`: one client identifier used by several MACs.
pub fn shared_client_ids(
    ids: &rustc_hash::FxHashMap<Short, Vec<HwAddr>>,
    clients: &[Client],
) -> Vec<Finding> {
    // The leases of the MACs named, in one pass over the clients.
    let mut leased: rustc_hash::FxHashMap<HwAddr, Option<Ipv4Addr>> = ids
        .values()
        .filter(|macs| macs.len() >= 2)
        .flatten()
        .map(|m| (*m, None))
        .collect();
    if !leased.is_empty() {
        for c in clients {
            if let Some(l) = leased.get_mut(&c.chaddr) {
                *l = c.lease.map(|l| l.address);
            }
        }
    }
    let mut out: Vec<Finding> = ids
        .iter()
        .filter(|(_, macs)| macs.len() >= 2)
        .map(|(id, macs)| {
            let leases: Vec<String> = macs
                .iter()
                .map(|m| {
                    let lease = leased.get(m).copied().flatten();
                    format!("{m}{}", lease.map_or(String::new(), |a| format!(" (leased {a})")))
                })
                .collect();
            Finding::new(Code::ClientIdShared, Severity::Warning, macs.first().copied(), None)
                .summary(format!("client identifier {} is used by {} machines", id.hex(), macs.len()))
                .explanation(format!(
                    "These MACs all send client identifier {}: {}. Servers treat them as one client and give them one \
                     lease between them, which they take from each other: cloned VMs or images with the same DUID or machine-id.",
                    id.hex(),
                    leases.join(", ")
                ))
                .fix("Regenerate the machine-id / DUID on cloned machines (e.g. `systemd-machine-id-setup` after clearing /etc/machine-id).")
                .references(&["RFC 4361", "failure catalogue D.26"])
        })
        .collect();
    out.sort_by(|a, b| a.summary.cmp(&b.summary));
    out
}

#[cfg(test)]
mod tests;
