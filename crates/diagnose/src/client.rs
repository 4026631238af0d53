//! Per-client summaries: compact, kept until the end of the capture.

use std::net::Ipv4Addr;

use capture::Timestamp;
use wire::dhcp::{Dotted, MessageType};
use wire::HwAddr;

use crate::finding::Finding;
use crate::obs::{FrameRef, Short};
use crate::transaction::{Outcome, State, Transaction, Verdict};

/// The lease a client holds, from its last ACK.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lease {
    pub address: Ipv4Addr,
    /// The server that gave it (the one the client chose when several answered).
    pub server: Option<Ipv4Addr>,
    /// The lease time in seconds (option 51).
    pub time: Option<u32>,
}

/// One arrow of a ladder diagram. Every failing client keeps one ladder to
/// the end of the capture, so a step is kept in one allocation: its label
/// and notes share one boxed text, and the xid is kept as a number.
#[derive(Debug, Clone)]
pub struct Step {
    /// Seconds since the ladder's first packet.
    pub t: f64,
    pub frame: FrameRef,
    /// Other frames holding the same message (another capture, another hop).
    pub copies: Box<[FrameRef]>,
    pub from_client: bool,
    /// The server sending or addressed (option 54 or IP).
    pub server: Option<Ipv4Addr>,
    /// Written `0x` and eight hex digits.
    pub xid: u32,
    /// The label, then each note after a [`NOTE_SEPARATOR`].
    text: Box<str>,
}

/// Between a step's label and its notes, and between notes. Neither can
/// hold it: labels are message names and addresses, and the one note that
/// quotes a packet (option 56) is escaped to printable ASCII.
const NOTE_SEPARATOR: char = '\u{1f}';

impl Step {
    /// The message and its address: `DISCOVER`, `OFFER 10.0.0.100`, …
    pub fn label(&self) -> &str {
        self.text.split(NOTE_SEPARATOR).next().unwrap_or_default()
    }

    /// `secs 0`, `retransmission`, `"address in use"`, …
    pub fn notes(&self) -> impl Iterator<Item = &str> + Clone {
        self.text.split(NOTE_SEPARATOR).skip(1)
    }

    pub fn has_notes(&self) -> bool {
        self.text.contains(NOTE_SEPARATOR)
    }

    /// Its JSON, as its `Serialize` writes it (a test holds the two to the
    /// same bytes), without serde.
    pub fn write_json(&self, w: &mut Vec<u8>) -> std::io::Result<()> {
        let mut o = crate::json::Object::new(w)?;
        o.opt_f64("t", Some(self.t))?;
        o.frame("frame", self.frame)?;
        if !self.copies.is_empty() {
            o.frames("copies", self.copies.iter().copied())?;
        }
        o.bool("from_client", self.from_client)?;
        o.ip("server", self.server)?;
        o.str("label", self.label())?;
        o.xid("xid", self.xid)?;
        if self.has_notes() {
            o.strs("notes", self.notes())?;
        }
        o.end()
    }
}

/// The same fields as [`Step::write_json`], through serde's own writers
/// (the test that holds the two together needs an independent one).
impl serde::Serialize for Step {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        struct Notes<'a>(&'a Step);
        impl serde::Serialize for Notes<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_seq(self.0.notes())
            }
        }
        let mut o = s.serialize_struct("Step", 8)?;
        o.serialize_field("t", &self.t)?;
        o.serialize_field("frame", &self.frame)?;
        if self.copies.is_empty() {
            o.skip_field("copies")?;
        } else {
            o.serialize_field("copies", &self.copies)?;
        }
        o.serialize_field("from_client", &self.from_client)?;
        o.serialize_field("server", &self.server)?;
        o.serialize_field("label", self.label())?;
        o.serialize_field("xid", wire::dhcp::HexBuf::xid(self.xid).as_str())?;
        if self.has_notes() {
            o.serialize_field("notes", &Notes(self))?;
        } else {
            o.skip_field("notes")?;
        }
        o.end()
    }
}

/// A run of DISCOVERs until the client gets a lease: what `secs` did.
#[derive(Debug, Clone)]
pub struct Cycle {
    pub start: Timestamp,
    pub last: Timestamp,
    pub discovers: u32,
    pub first_secs: u16,
    pub min_secs: u16,
    pub max_secs: u16,
    frames: [FrameRef; 12],
    n_frames: u8,
    pub got_offer: bool,
    pub bound: bool,
    xids: [u32; 8],
    n_xids: u8,
}

impl Cycle {
    /// A cycle starting with a DISCOVER at `ts` with `secs`.
    pub fn new(ts: Timestamp, secs: u16) -> Cycle {
        Cycle {
            start: ts,
            last: ts,
            discovers: 0,
            first_secs: secs,
            min_secs: secs,
            max_secs: secs,
            frames: [FrameRef { file: 0, frame: 0 }; 12],
            n_frames: 0,
            got_offer: false,
            bound: false,
            xids: [0; 8],
            n_xids: 0,
        }
    }

    /// Counts one DISCOVER.
    pub fn add(&mut self, o: &crate::Obs) {
        self.last = self.last.max(o.ts);
        self.discovers += 1;
        self.min_secs = self.min_secs.min(o.secs);
        self.max_secs = self.max_secs.max(o.secs);
        if usize::from(self.n_frames) < self.frames.len() {
            self.frames[usize::from(self.n_frames)] = o.at;
            self.n_frames += 1;
        }
        if !self.xids().contains(&o.xid) && usize::from(self.n_xids) < self.xids.len() {
            self.xids[usize::from(self.n_xids)] = o.xid;
            self.n_xids += 1;
        }
    }

    /// Evidence: the first twelve DISCOVERs.
    pub fn frames(&self) -> &[FrameRef] {
        &self.frames[..usize::from(self.n_frames)]
    }

    /// The xids used (at most eight).
    pub fn xids(&self) -> &[u32] {
        &self.xids[..usize::from(self.n_xids)]
    }

    /// Whether the cycle has enough DISCOVERs over enough time to judge `secs`.
    pub fn worth_checking(&self) -> bool {
        self.discovers >= 3 && self.last.0 - self.start.0 >= 3_000_000_000
    }
}

/// The xids of a client's open transactions: at most four, inline. A fifth
/// replaces the oldest (which still closes when it goes idle).
#[derive(Debug, Clone, Copy, Default)]
pub struct OpenXids {
    xids: [u32; 4],
    len: u8,
}

impl OpenXids {
    pub fn push(&mut self, xid: u32) {
        if usize::from(self.len) == self.xids.len() {
            self.xids.rotate_left(1);
            self.len -= 1;
        }
        self.xids[usize::from(self.len)] = xid;
        self.len += 1;
    }

    pub fn remove(&mut self, xid: u32) {
        if let Some(i) = self.as_slice().iter().position(|x| *x == xid) {
            self.xids.copy_within(i + 1..usize::from(self.len), i);
            self.len -= 1;
        }
    }

    pub fn as_slice(&self) -> &[u32] {
        &self.xids[..usize::from(self.len)]
    }

    /// Empties the set, returning what it held.
    pub fn take(&mut self) -> OpenXids {
        std::mem::take(self)
    }
}

/// The outcomes of a client's last transactions, oldest first (at most 16),
/// one to a nibble of a `u64`: the newest in the lowest nibble, each as its
/// [`Outcomes::code`]. Codes are never 0, so the empty nibbles above the
/// oldest give the length; a 17th outcome shifts the oldest out at the top.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub struct Outcomes(u64);

/// Each outcome at the index of its [`Outcomes::code`], less one.
const BY_CODE: [Outcome; 11] = [
    Outcome::Bound,
    Outcome::Renewed,
    Outcome::Nak,
    Outcome::NoOffer,
    Outcome::OfferIgnored,
    Outcome::NoAck,
    Outcome::Declined,
    Outcome::Released,
    Outcome::Informed,
    Outcome::Incomplete,
    Outcome::AckIgnored,
];

impl Outcomes {
    /// The nibble of outcome `o`, 1 to 15 (a match, so that a new outcome
    /// needs a code here before it compiles).
    fn code(o: Outcome) -> u64 {
        match o {
            Outcome::Bound => 1,
            Outcome::Renewed => 2,
            Outcome::Nak => 3,
            Outcome::NoOffer => 4,
            Outcome::OfferIgnored => 5,
            Outcome::NoAck => 6,
            Outcome::Declined => 7,
            Outcome::Released => 8,
            Outcome::Informed => 9,
            Outcome::Incomplete => 10,
            Outcome::AckIgnored => 11,
        }
    }

    fn push(&mut self, o: Outcome) {
        self.0 = self.0 << 4 | Outcomes::code(o);
    }

    fn len(&self) -> usize {
        (64 - self.0.leading_zeros() as usize).div_ceil(4)
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = Outcome> + '_ {
        let nibbles = self.0;
        (0..self.len())
            .rev()
            .map(move |i| BY_CODE[(nibbles >> (4 * i) & 0xf) as usize - 1])
    }

    /// Rewrites the newest outcome as `o`.
    fn replace_newest(&mut self, o: Outcome) {
        if self.0 != 0 {
            self.0 = self.0 & !0xf | Outcomes::code(o);
        }
    }

    /// How many of the newest outcomes in a row are `o`.
    #[cfg(test)]
    fn trailing(&self, o: Outcome) -> usize {
        self.iter().rev().take_while(|x| *x == o).count()
    }

    /// The last one that says something (not `incomplete`), else the last.
    pub fn last_meaningful(&self) -> Option<Outcome> {
        self.iter()
            .rev()
            .find(|o| *o != Outcome::Incomplete)
            .or_else(|| self.iter().last())
    }
}

impl std::fmt::Debug for Outcomes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// How a client's first client identifier (option 61, RFC 2132 §9.14) is
/// kept: in this byte when it was absent or is `01` (Ethernet) + the
/// client's own chaddr, what most clients send; any other (RFC 4361's `ff` +
/// IAID + DUID, a name, …) is boxed beside it, in `Client::other_first_id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FirstId {
    /// No packet from the client yet.
    Unseen,
    /// Sent without option 61.
    Absent,
    /// `01` + the client's chaddr.
    OwnMac,
    /// Another identifier, boxed.
    Other,
}

/// Whether client identifier `id` is type 1 (Ethernet) and the client's own
/// MAC, the identifier most clients send (RFC 2132 §9.14).
pub(crate) fn names_its_owner(id: &Short, chaddr: HwAddr) -> bool {
    let (id, mac) = (id.as_bytes(), chaddr.as_bytes());
    // A 6-byte MAC (nearly every client) is compared at a fixed width,
    // without the call to `memcmp` that slices of any length take: this
    // runs for every client packet.
    match (<&[u8; 7]>::try_from(id), <&[u8; 6]>::try_from(mac)) {
        (Ok([1, id @ ..]), Ok(mac)) => id == mac,
        _ => id.strip_prefix(&[1]) == Some(mac),
    }
}

/// The identifier `01` + `chaddr`: byte for byte the one a client sent when
/// it [`names_its_owner`] (at most 17 bytes, so never cut).
fn own_mac_id(chaddr: HwAddr) -> Short {
    let mac = chaddr.as_bytes();
    let mut id = [1; 17];
    id[1..=mac.len()].copy_from_slice(mac);
    Short::new(&id[..=mac.len()])
}

/// A client's last transaction that got an ACK (bound, renewed, or
/// ack-ignored): its xid, how many ACKs in a row up to it the client did not
/// take, whether it took the last, which of the client's transactions it was
/// (its count, mod 256) and a digest of the client software that sent it
/// ([`stage`]). Eight bytes, as the `Option<u32>` it replaced.
#[derive(Debug, Clone, Copy, Default)]
struct LastAcked {
    xid: u32,
    not_taken: u8,
    /// [`LastAcked::SET`], [`LastAcked::SUCCESS`].
    flags: u8,
    ordinal: u8,
    stage: u8,
}

impl LastAcked {
    const SET: u8 = 1;
    const SUCCESS: u8 = 2;

    fn set(&self) -> bool {
        self.flags & LastAcked::SET != 0
    }

    fn success(&self) -> bool {
        self.flags & LastAcked::SUCCESS != 0
    }
}

/// A digest of what tells one boot stage's DHCP client from the next
/// (option 60, the architecture, iPXE's options): a PXE ROM, the iPXE it
/// loads and the OS after it differ; one client retrying does not.
fn stage(o: &crate::Obs) -> u8 {
    let mut h: u32 = 0x811c_9dc5;
    let mut mix = |b: u8| h = (h ^ u32::from(b)).wrapping_mul(0x0100_0193);
    for b in o.vendor_class().unwrap_or_default().bytes() {
        mix(b);
    }
    mix(u8::from(o.ipxe));
    for b in o.arch().unwrap_or(0xffff).to_be_bytes() {
        mix(b);
    }
    h.to_le_bytes().iter().fold(0, |acc, b| acc ^ b)
}

/// A REQUEST sent again under an ACKed xid this long after the client's
/// previous packet is a retransmission (clients back off to about a minute).
const ASK_AGAIN_WINDOW_NS: i64 = 64_000_000_000;

/// A ladder grows by the transaction before only up to this many steps.
const MAX_LADDER: usize = 64;

/// What only some clients need: kept out of line.
#[derive(Debug, Clone, Default)]
struct Rare {
    findings: Vec<Finding>,
    /// The ladder of the most telling transaction (failures first), with
    /// the one before it when its findings cite that one's frames (an xid
    /// changed between OFFER and REQUEST).
    ladder: Vec<Step>,
    ladder_rank: u8,
    /// The ladder's first packet's time (its steps' `t` count from it).
    ladder_first: Timestamp,
    /// The DISCOVER cycle in progress when it spans transactions: DISCOVERs
    /// unanswered or OFFERs ignored, so the client nearly always has a
    /// finding or a ladder here already. Boxed: it lives only until a lease.
    cycle: Option<Box<Cycle>>,
    /// Client identifiers beyond the first.
    more_ids: Vec<Option<Short>>,
    /// Servers beyond the first two.
    more_servers: Vec<Ipv4Addr>,
    /// Boot files handed to this client while it said it was iPXE.
    ipxe_boots: Vec<(Box<str>, FrameRef)>,
    pxe_boot_file: Option<Box<str>>,
    /// What it asked PXE boot servers on UDP 4011, one entry a server.
    boot_servers: Vec<BootServer>,
    /// Its messages to DHCP servers that ICMP destination unreachables
    /// quote (the first few).
    refusals: Vec<Refusal>,
}

/// A client's message that an ICMP destination unreachable quotes: the host
/// it went to (or a router on the way) refused it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    /// The ICMP error's sender.
    pub reporter: Ipv4Addr,
    /// Its code (RFC 792, 1812): 3 port unreachable, 1 host unreachable,
    /// 13 communication administratively prohibited, ….
    pub code: u8,
    /// The quoted message is a server's reply (to a relay or the client),
    /// not the client's.
    pub reply: bool,
    /// Where the quoted message went, and its xid.
    pub to: Ipv4Addr,
    pub port: u16,
    pub xid: u32,
    pub secs: u16,
    /// A server replied in the exchange it belongs to (by its xid).
    pub answered: bool,
    /// The ICMP error's frame.
    pub at: FrameRef,
    pub ts: Timestamp,
}

/// A PXE ROM's exchange with one boot server, or its search for one, after
/// its DHCP exchange (PXE 2.1 §2.2.4, §2.2.5): the ProxyDHCP REQUEST a ROM
/// sends to UDP 4011 for its boot file once it has an address, or its
/// request for a boot menu's item (to the server the menu names, on 4011,
/// or by broadcast to UDP 67), and the ACK that names the file. Kept with
/// the client, not a transaction: ROMs send it under the DHCP exchange's
/// xid (iPXE) or another (0, after dnsmasq's boot menu), up to seconds
/// after the ACK.
#[derive(Debug, Clone)]
pub struct BootServer {
    /// Where the requests went: a server, or the broadcast or multicast
    /// address of a search (a search to UDP 67 is kept as broadcast, also
    /// when a relay's copy of it went to a server).
    pub server: Ipv4Addr,
    /// The UDP port they went to: 4011, or 67 for a broadcast search.
    pub port: u16,
    /// The boot item asked for (option 43 sub-option 71: type, layer), if
    /// the requests named one.
    pub item: Option<(u16, u16)>,
    /// Requests and replies seen, each counted in one capture (the one that
    /// held the first request; the first reply's for replies): the others
    /// hold copies.
    pub requests: u32,
    pub replies: u32,
    /// The frames of the first requests and of the first replies.
    pub request_frames: Vec<FrameRef>,
    pub reply_frames: Vec<FrameRef>,
    /// Who gave the boot file (option 54, else the reply's source), and
    /// from which port: the first reply with a file, else the first reply.
    pub answered_by: Option<(Ipv4Addr, u16)>,
    /// The xids asked under, latest last (at most four), and the time of the
    /// latest request: kept through replies, to tell a boot server's later
    /// answers (a relay's copy, a second server) and a relay's copy of a
    /// request from new ones.
    pub asked_xids: Vec<u32>,
    pub last_asked: Timestamp,
    /// The boot file the first reply that names one names.
    pub boot_file: Option<Box<str>>,
    /// The requests since the last reply, the first of them kept: frame,
    /// time, xid. A reply clears them, so a later boot that goes
    /// unanswered is not hidden by an earlier one that was answered.
    pub unanswered: Vec<(FrameRef, Timestamp, u32)>,
    pub unanswered_count: u32,
    pub last_unanswered: Timestamp,
    /// The ROM said it is iPXE (iPXE gives up on a silent boot server after
    /// a few seconds and boots the DHCP ACK's file, if there is one).
    pub ipxe: bool,
    /// A DHCP server's replies to this search that name no boot item,
    /// since the last answer: a search to UDP 67 taken for the client's own
    /// DHCP message (ISC dhcpd ACKs a REQUEST with ciaddr as a rebind). The
    /// ROM drops them; they answer nothing.
    pub plain: PlainReplies,
}

impl BootServer {
    /// `{"server", "port", "boot_item", "requests", "replies", "boot_file",
    /// "frames"}`: the frames of the first requests, then of the first
    /// replies. `boot_item` is the item's type, or null.
    pub fn write_json(&self, w: &mut Vec<u8>) -> std::io::Result<()> {
        let mut o = crate::json::Object::new(w)?;
        o.ip("server", Some(self.server))?;
        o.num("port", u64::from(self.port))?;
        match self.item {
            Some((t, _)) => o.num("boot_item", u64::from(t))?,
            None => o.null("boot_item")?,
        }
        o.num("requests", u64::from(self.requests))?;
        o.num("replies", u64::from(self.replies))?;
        if self.plain.count > 0 {
            o.num("replies_without_item", u64::from(self.plain.count))?;
            o.ip("replied_without_item_by", self.plain.by)?;
        }
        match &self.boot_file {
            Some(f) => o.str("boot_file", f)?,
            None => o.null("boot_file")?,
        }
        let frames = self.request_frames.iter().chain(&self.reply_frames);
        let frames = frames.chain(&self.plain.frames);
        o.frames("frames", frames.copied())?;
        o.end()
    }
}

/// Two sightings of one refusal closer than this are copies (a client's
/// retransmissions, even with secs stuck at 0, are a second or more apart).
const REFUSAL_COPY_NS: i64 = 100_000_000;

/// A DHCP server's replies to a boot server search that name no boot item
/// (see [`BootServer::plain`]).
#[derive(Debug, Clone, Default)]
pub struct PlainReplies {
    /// Replies, each counted once (a relay's second hop and a second
    /// capture's copy are copies), and the searches that got one or more.
    pub count: u32,
    pub searches: u32,
    /// The first replies' frames.
    pub frames: Vec<FrameRef>,
    /// Who sent the first (option 54, else the source), and whether
    /// another server sent any.
    pub by: Option<Ipv4Addr>,
    pub others: bool,
    /// The last one counted (time, sender, xid), to tell copies, and the
    /// time of the last search that got one.
    last: Option<(Timestamp, Ipv4Addr, u32)>,
    last_search: Option<Timestamp>,
}

impl PlainReplies {
    /// Notes reply `o` to the search last asked at `asked`; whether it is
    /// new (not a copy of one seen).
    fn note(&mut self, o: &crate::Obs, asked: Timestamp) -> bool {
        let by = o.server_id.unwrap_or(o.src_ip);
        if self.last.is_some_and(|(ts, b, xid)| {
            (b, xid) == (by, o.xid) && (o.ts.0 - ts.0).abs() < REFUSAL_COPY_NS
        }) {
            return false;
        }
        self.last = Some((o.ts, by, o.xid));
        self.count += 1;
        if self.frames.len() < BOOT_SERVER_FRAMES {
            self.frames.push(o.at);
        }
        match self.by {
            None => self.by = Some(by),
            Some(b) => self.others |= b != by,
        }
        if self.last_search != Some(asked) {
            self.searches += 1;
            self.last_search = Some(asked);
        }
        true
    }
}

/// How long after a search a DHCP server's reply under its xid answers it
/// (servers answer in milliseconds; ROMs search again after 1 to 4 s).
pub const SEARCH_REPLY_NS: i64 = 4_000_000_000;

/// Frames kept per boot-server exchange, each way.
const BOOT_SERVER_FRAMES: usize = 8;

/// A new entry in a client's list of boot servers (at most four); its index.
fn new_boot_server(
    list: &mut Vec<BootServer>,
    server: Ipv4Addr,
    port: u16,
    item: Option<(u16, u16)>,
    ts: Timestamp,
) -> Option<usize> {
    if list.len() >= 4 {
        return None;
    }
    list.push(BootServer {
        server,
        port,
        item,
        requests: 0,
        replies: 0,
        request_frames: Vec::new(),
        reply_frames: Vec::new(),
        answered_by: None,
        asked_xids: Vec::new(),
        last_asked: ts,
        boot_file: None,
        unanswered: Vec::new(),
        unanswered_count: 0,
        last_unanswered: ts,
        ipxe: false,
        plain: PlainReplies::default(),
    });
    Some(list.len() - 1)
}

/// One client: what the engine keeps while reading, and the verdict it
/// reports. Compact (128 bytes; a healthy client allocates nothing beyond
/// its slot, or one small box when its client identifier is not `01` + its
/// MAC), because a capture can hold hundreds of thousands of them.
#[derive(Debug, Clone)]
pub struct Client {
    pub chaddr: HwAddr,
    pub first: Timestamp,
    pub last: Timestamp,
    /// The first client identifier seen, or where it is kept.
    first_id: FirstId,
    /// The first client identifier when it is [`FirstId::Other`].
    other_first_id: Option<Box<Short>>,
    /// Open transactions' xids.
    pub(crate) open: OpenXids,
    pub transactions: u32,
    outcomes: Outcomes,
    /// The lease it holds at the end.
    pub lease: Option<Lease>,
    servers: [Option<Ipv4Addr>; 2],
    /// Files in which the client's own packets (not relayed) appear.
    pub direct_files: u64,
    /// The last transaction that got an ACK.
    last_acked: LastAcked,
    rare: Option<Box<Rare>>,
}

static NO_FINDINGS: Vec<Finding> = Vec::new();

impl Client {
    pub fn new(chaddr: HwAddr, ts: Timestamp) -> Client {
        Client {
            chaddr,
            first: ts,
            last: ts,
            first_id: FirstId::Unseen,
            other_first_id: None,
            open: OpenXids::default(),
            transactions: 0,
            outcomes: Outcomes::default(),
            lease: None,
            servers: [None; 2],
            direct_files: 0,
            last_acked: LastAcked::default(),
            rare: None,
        }
    }

    fn rare(&mut self) -> &mut Rare {
        self.rare.get_or_insert_with(Default::default)
    }

    /// Notes an identifier the client sent; whether it is one not noted
    /// before (also when it is not kept, past the first few).
    pub fn note_client_id(&mut self, id: Option<Short>) -> bool {
        if self.first_id == FirstId::Unseen {
            self.first_id = match id {
                None => FirstId::Absent,
                Some(id) if names_its_owner(&id, self.chaddr) => FirstId::OwnMac,
                Some(id) => {
                    self.other_first_id = Some(Box::new(id));
                    FirstId::Other
                }
            };
            return true;
        }
        if self.is_first_id(id.as_ref()) {
            return false;
        }
        let r = self.rare();
        if r.more_ids.contains(&id) {
            return false;
        }
        if r.more_ids.len() < 3 {
            r.more_ids.push(id);
        }
        true
    }

    /// Whether `id` (`None`: no option 61) is the first identifier it sent.
    fn is_first_id(&self, id: Option<&Short>) -> bool {
        match (self.first_id, id) {
            (FirstId::Absent, None) => true,
            (FirstId::OwnMac, Some(id)) => names_its_owner(id, self.chaddr),
            (FirstId::Other, Some(id)) => self.other_first_id.as_deref() == Some(id),
            _ => false,
        }
    }

    /// The first identifier it sent (`Some(None)`: without option 61), if
    /// it sent anything.
    fn first_client_id(&self) -> Option<Option<Short>> {
        match self.first_id {
            FirstId::Unseen => None,
            FirstId::Absent => Some(None),
            FirstId::OwnMac => Some(Some(own_mac_id(self.chaddr))),
            FirstId::Other => Some(self.other_first_id.as_deref().copied()),
        }
    }

    /// Whether the client sent identifier `id` (among the first few it used).
    pub fn uses_client_id(&self, id: &Short) -> bool {
        self.is_first_id(Some(id))
            || self
                .rare
                .as_ref()
                .is_some_and(|r| r.more_ids.contains(&Some(*id)))
    }

    /// How many distinct client identifiers it used (counting none as one).
    pub fn client_id_count(&self) -> usize {
        usize::from(self.first_id != FirstId::Unseen)
            + self.rare.as_ref().map_or(0, |r| r.more_ids.len())
    }

    /// Distinct client identifiers seen (`None`: without option 61).
    pub fn client_ids(&self) -> Vec<Option<Short>> {
        let mut v: Vec<Option<Short>> = self.first_client_id().into_iter().collect();
        if let Some(r) = &self.rare {
            v.extend(r.more_ids.iter().copied());
        }
        v
    }

    fn add_server(&mut self, ip: Ipv4Addr) {
        if self.servers.contains(&Some(ip)) {
            return;
        }
        if let Some(slot) = self.servers.iter_mut().find(|s| s.is_none()) {
            *slot = Some(ip);
            return;
        }
        let r = self.rare();
        if !r.more_servers.contains(&ip) && r.more_servers.len() < 6 {
            r.more_servers.push(ip);
        }
    }

    /// Every server that answered it (at most eight).
    pub fn servers(&self) -> Vec<Ipv4Addr> {
        let mut v: Vec<Ipv4Addr> = self.servers.iter().flatten().copied().collect();
        if let Some(r) = &self.rare {
            v.extend(r.more_servers.iter().copied());
        }
        v
    }

    /// Outcomes of its last transactions, oldest first.
    pub fn outcomes(&self) -> &Outcomes {
        &self.outcomes
    }

    /// The client's outcome: its last transaction that says something.
    pub fn outcome(&self) -> Option<Outcome> {
        self.outcomes.last_meaningful()
    }

    /// The address it holds at the end.
    pub fn address(&self) -> Option<Ipv4Addr> {
        self.lease.map(|l| l.address)
    }

    pub fn server(&self) -> Option<Ipv4Addr> {
        self.lease.and_then(|l| l.server)
    }

    pub fn lease_time(&self) -> Option<u32> {
        self.lease.and_then(|l| l.time)
    }

    /// Its findings, most serious first (after [`Client::settle`]).
    pub fn details(&self) -> &[Finding] {
        self.rare
            .as_ref()
            .map_or(&NO_FINDINGS[..], |r| &r.findings[..])
    }

    pub fn details_mut(&mut self) -> &mut Vec<Finding> {
        &mut self.rare().findings
    }

    /// The most serious severity among its findings.
    pub fn worst(&self) -> Option<crate::Severity> {
        self.details().iter().map(|f| f.severity).min()
    }

    /// The codes of its findings, most serious first.
    pub fn finding_codes(&self) -> Vec<&'static str> {
        self.details().iter().map(|f| f.code.as_str()).collect()
    }

    /// The ladder of its most telling transaction (only for clients with problems).
    pub fn ladder(&self) -> &[Step] {
        self.rare.as_ref().map_or(&[], |r| &r.ladder[..])
    }

    /// Boot files handed to it while it said it was iPXE, and the file it got
    /// as a plain PXE client.
    pub fn boot_files(&self) -> (&[(Box<str>, FrameRef)], Option<&str>) {
        match &self.rare {
            Some(r) => (&r.ipxe_boots, r.pxe_boot_file.as_deref()),
            None => (&[], None),
        }
    }

    /// Its exchanges with PXE boot servers on UDP 4011.
    pub fn boot_servers(&self) -> &[BootServer] {
        self.rare.as_ref().map_or(&[], |r| &r.boot_servers[..])
    }

    /// Its messages that ICMP destination unreachables quote.
    pub fn refusals(&self) -> &[Refusal] {
        self.rare.as_ref().map_or(&[], |r| &r.refusals[..])
    }

    /// Notes `o`, a message of this client's quoted by an ICMP destination
    /// unreachable from `reporter` with `code`.
    pub fn note_unreachable(&mut self, o: &crate::Obs, reporter: Ipv4Addr, code: u8) {
        let r = self.rare();
        // The same error in another capture (the same message: xid and
        // secs) is a copy.
        // The same error in another capture, or twice in one (a capture on
        // every interface), is a copy: the same message (xid and secs)
        // refused within moments.
        let reply = !o.from_client();
        let copy = r.refusals.iter().any(|f| {
            (f.reporter, f.code, f.reply, f.to, f.port, f.xid, f.secs)
                == (reporter, code, reply, o.dst_ip, o.dst_port, o.xid, o.secs)
                && (f.ts.0 - o.ts.0).abs() < REFUSAL_COPY_NS
        });
        if !copy && r.refusals.len() < 16 {
            r.refusals.push(Refusal {
                reply,
                secs: o.secs,
                answered: false,
                reporter,
                code,
                to: o.dst_ip,
                port: o.dst_port,
                xid: o.xid,
                at: o.at,
                ts: o.ts,
            });
        }
    }

    /// Notes a packet of a PXE ROM's exchange with a boot server: to or from
    /// UDP 4011, a search that names a boot item, or a boot server's answer
    /// to one ([`crate::Obs::boot_server_exchange`]), or a DHCP server's
    /// reply to a search that names no boot item ([`Client::search_for`]).
    ///
    /// Returns whether `o` is such a DHCP server's reply, seen for the first
    /// time (its server counts it).
    pub fn note_boot_server(&mut self, o: &crate::Obs) -> bool {
        let request = o.from_client();
        if request {
            self.last = self.last.max(o.ts);
        }
        let item = o.boot_item().map(|(t, _)| t);
        if !request && item.is_none() && o.src_port == 67 {
            let Some(i) = self.search_for(o.xid, o.ts) else {
                return false;
            };
            let b = &mut self.rare().boot_servers[i];
            return b.plain.note(o, b.last_asked);
        }
        let list = &mut self.rare().boot_servers;
        let i = if request {
            // A search to UDP 67 was broadcast, whether this copy is the
            // ROM's or a relay's (`ip helper-address` sends it to a server).
            let (server, port) = if o.boot_item().is_some() && o.dst_port == 67 {
                (Ipv4Addr::BROADCAST, 67)
            } else {
                (o.dst_ip, o.dst_port)
            };
            let i = list
                .iter()
                .position(|b| (b.server, b.port, b.item.map(|i| i.0)) == (server, port, item));
            // A relay's copy of the request just seen from the ROM (or the
            // ROM's, after the relay's from another capture).
            if i.is_some_and(|i| {
                let b = &list[i];
                b.asked_xids.last() == Some(&o.xid)
                    && (o.ts.0 - b.last_asked.0).abs() < REFUSAL_COPY_NS
            }) {
                return false;
            }
            i.or_else(|| new_boot_server(list, server, port, o.boot_item(), o.ts))
        } else {
            // A ROM takes an answer under the xid it asked with (for the item
            // it asked, and the latest such request's), from the server it
            // asked (or that names it in option 54), or to a request it
            // broadcast or multicast.
            let group = |a: Ipv4Addr| a.is_broadcast() || a.is_multicast();
            let same_item = |b: &BootServer| item.is_none() || b.item.map(|i| i.0) == item;
            let by_xid = list
                .iter()
                .enumerate()
                .filter(|(_, b)| b.asked_xids.contains(&o.xid))
                .max_by_key(|(_, b)| (same_item(b), b.last_asked))
                .map(|(i, _)| i);
            let i = by_xid
                .or_else(|| {
                    item.and_then(|t| list.iter().position(|b| b.item.map(|i| i.0) == Some(t)))
                })
                .or_else(|| {
                    list.iter()
                        .position(|b| b.server == o.src_ip || Some(b.server) == o.server_id)
                })
                .or_else(|| list.iter().position(|b| group(b.server)))
                .or_else(|| new_boot_server(list, o.src_ip, o.src_port, o.boot_item(), o.ts));
            // An answer for an item also ends that item's search at the other
            // places the ROM asked under the same xid (multicast, broadcast,
            // the menu's servers).
            if item.is_some() {
                for b in list.iter_mut() {
                    if b.item.map(|i| i.0) == item && b.asked_xids.contains(&o.xid) {
                        b.unanswered.clear();
                        b.unanswered_count = 0;
                        b.plain = PlainReplies::default();
                    }
                }
            }
            i
        };
        let Some(i) = i else { return false };
        let b = &mut list[i];
        if request {
            if b.request_frames
                .first()
                .is_some_and(|f| f.file != o.at.file)
            {
                return false;
            }
            b.ipxe |= o.ipxe;
            b.requests += 1;
            if b.request_frames.len() < BOOT_SERVER_FRAMES {
                b.request_frames.push(o.at);
            }
            if b.asked_xids.last() != Some(&o.xid) {
                if b.asked_xids.len() == 4 {
                    b.asked_xids.remove(0);
                }
                b.asked_xids.push(o.xid);
            }
            b.last_asked = o.ts;
            b.unanswered_count += 1;
            b.last_unanswered = o.ts;
            if b.unanswered.len() < BOOT_SERVER_FRAMES {
                b.unanswered.push((o.at, o.ts, o.xid));
            }
        } else {
            b.unanswered.clear();
            b.unanswered_count = 0;
            b.plain = PlainReplies::default();
            if b.reply_frames.first().is_some_and(|f| f.file != o.at.file) {
                return false;
            }
            b.replies += 1;
            if b.reply_frames.len() < BOOT_SERVER_FRAMES {
                b.reply_frames.push(o.at);
            }
            let by = (o.server_id.unwrap_or(o.src_ip), o.src_port);
            if b.boot_file.is_none() {
                if let Some(file) = o.boot_file() {
                    b.boot_file = Some(file.into());
                    b.answered_by = Some(by);
                }
            }
            b.answered_by.get_or_insert(by);
        }
        false
    }

    /// Whether the ROM asked a boot server under `xid`: a boot server's ACK
    /// from UDP 67 belongs to its exchange only then.
    pub fn asked_boot_server(&self, xid: u32) -> bool {
        self.boot_servers()
            .iter()
            .any(|b| b.asked_xids.contains(&xid))
    }

    /// The search to UDP 67 (its index in the boot server list) that a
    /// DHCP server's ACK or NAK under `xid` at `ts`, naming no boot item,
    /// answers: the latest the ROM made under that xid, within
    /// [`SEARCH_REPLY_NS`] before. Such a reply answers the search as if it
    /// were the client's own DHCP message (a REQUEST with ciaddr and no
    /// server identifier reads as a rebind, RFC 2131 §4.3.2), and is not a
    /// transaction of the client's.
    pub fn search_for(&self, xid: u32, ts: Timestamp) -> Option<usize> {
        self.boot_servers()
            .iter()
            .enumerate()
            .filter(|(_, b)| b.port == 67 && b.asked_xids.contains(&xid))
            .max_by_key(|(_, b)| b.last_asked)
            .filter(|(_, b)| (0..SEARCH_REPLY_NS).contains(&(ts.0 - b.last_asked.0)))
            .map(|(i, _)| i)
    }

    /// Healthy: no failure outcome and no error or warning.
    pub fn healthy(&self) -> bool {
        !self.outcome().is_some_and(Outcome::is_failure)
            && self.worst().is_none_or(|s| s == crate::Severity::Info)
    }

    /// The client sent again, under the same xid, the REQUEST its last
    /// transaction with an ACK was ACKed for: it did not take that ACK. That
    /// transaction, if it counted as a success, becomes `ack-ignored`, and
    /// its lease is not held.
    pub(crate) fn ack_not_taken(&mut self) {
        let newest = self.last_acked.ordinal == self.transactions as u8;
        if newest && self.last_acked.success() {
            self.outcomes.replace_newest(Outcome::AckIgnored);
            self.lease = None;
        }
        self.last_acked.flags &= !LastAcked::SUCCESS;
    }

    /// Whether `o`, opening a new transaction a short time after this
    /// client's last one with an ACK (`last`: when the client was heard of
    /// before `o`), shows that the client did not take that ACK: then how
    /// many ACKs in a row it has not taken, that one included. It did not
    /// when
    /// - `o` is the REQUEST it was ACKed for, again under the same xid
    ///   (ciaddr 0: not a renewal);
    /// - `o` is a DISCOVER from the same client software ([`stage`]) and
    ///   the client had already left an ACK untaken just before (a client
    ///   that took its ACK may well DISCOVER again soon, as a PXE ROM's next
    ///   stage does; one that is losing its ACKs starts over).
    pub(crate) fn asks_again(&self, o: &crate::Obs, last: Timestamp) -> Option<u8> {
        let s = self.last_acked;
        if !s.set() || o.ts.0 - last.0 >= ASK_AGAIN_WINDOW_NS {
            return None;
        }
        let again = match o.kind {
            Some(MessageType::Request) => s.xid == o.xid && o.ciaddr.is_unspecified(),
            Some(MessageType::Discover) => s.not_taken > 0 && s.stage == stage(o),
            _ => false,
        };
        again.then(|| s.not_taken.saturating_add(u8::from(s.success())))
    }

    /// The xid of the last transaction that succeeded, if it is the last
    /// that got an ACK.
    pub fn last_success_xid(&self) -> Option<u32> {
        (self.last_acked.set() && self.last_acked.success()).then_some(self.last_acked.xid)
    }

    /// Records a finished transaction, and what the rules found in it.
    pub fn record(&mut self, t: &Transaction, s: &Verdict, found: &[Finding]) {
        let telling = |f: &&Finding| f.severity != crate::Severity::Info;
        let has_findings = found.iter().any(|f| telling(&f));
        if let Some(r) = self.rare.as_mut().filter(|r| !r.refusals.is_empty()) {
            let replied = t.replies().next().is_some();
            for f in r.refusals.iter_mut().filter(|f| f.xid == t.xid) {
                f.answered |= replied;
            }
        }
        self.transactions += 1;
        self.first = self.first.min(t.first);
        self.last = self.last.max(t.last);
        self.outcomes.push(s.outcome);
        let untaken = match s.outcome {
            Outcome::Bound | Outcome::Renewed => Some(t.acks_asked_again().0),
            Outcome::AckIgnored => Some(t.of_kind(MessageType::Ack).count()),
            Outcome::Incomplete => None,
            // Another kind of exchange since: the run of ACKs is over.
            _ => {
                self.last_acked.flags = 0;
                None
            }
        };
        if let Some(n) = untaken {
            let success = s.outcome != Outcome::AckIgnored;
            let not_taken = t.asked_after_ack.saturating_add(n.min(255) as u8);
            self.last_acked = LastAcked {
                xid: t.xid,
                not_taken,
                flags: LastAcked::SET | if success { LastAcked::SUCCESS } else { 0 },
                ordinal: self.transactions as u8,
                // Compared only in a run of untaken ACKs (nearly no client
                // has one).
                stage: if not_taken > 0 {
                    t.client_packets().last().map_or(0, |c| stage(&c.obs))
                } else {
                    0
                },
            };
        }
        for r in t.replies() {
            self.add_server(r.obs.server());
        }
        match s.outcome {
            Outcome::Bound | Outcome::Renewed => {
                if let Some(address) = s.address {
                    self.lease = Some(Lease {
                        address,
                        server: s.server,
                        time: s.lease_time,
                    });
                }
            }
            Outcome::Released | Outcome::Nak => self.lease = None,
            // A DECLINE gives back the address it names (option 50),
            // whatever its xid: that lease is gone.
            Outcome::Declined => {
                let declined = t
                    .client_packets()
                    .filter(|p| p.obs.kind == Some(MessageType::Decline))
                    .find_map(|p| p.obs.requested_ip);
                if self
                    .lease
                    .as_ref()
                    .is_some_and(|l| declined.is_none_or(|d| d == l.address))
                {
                    self.lease = None;
                }
            }
            _ => {}
        }
        // Boot files, for the iPXE loop rule.
        if let Some(ack) = t.of_kind(MessageType::Ack).next() {
            if let Some(f) = ack.obs.boot_file() {
                let asked_ipxe = t.client_packets().any(|p| p.obs.ipxe);
                let r = self.rare();
                if asked_ipxe {
                    if r.ipxe_boots.len() < 8 {
                        r.ipxe_boots.push((f.into(), ack.obs.at));
                    }
                } else {
                    r.pxe_boot_file = Some(f.into());
                }
            }
        }
        let rank = match s.outcome {
            o if o.is_failure() => 3,
            _ if has_findings => 2,
            Outcome::Incomplete => 1,
            _ => 0,
        };
        let kept = self.rare.as_ref().map_or(0, |r| r.ladder_rank);
        let replaces = rank > 0 && rank >= kept;
        if !replaces && kept == 0 {
            return;
        }
        let r = self.rare();
        // A finding that cites both this transaction and the ladder kept
        // (`xid-changed`: the OFFER, and the REQUEST that answers it under
        // another xid) makes the two one ladder, this one after.
        let in_old = |fr: &FrameRef| r.ladder.iter().any(|s| s.frame == *fr);
        let in_new = |fr: &FrameRef| t.packets.iter().any(|p| p.obs.at == *fr);
        let spans = (r.findings.iter().chain(found))
            .filter(telling)
            .any(|f| f.frames.iter().any(in_old) && f.frames.iter().any(in_new));
        let joins =
            spans && r.ladder_first <= t.first && r.ladder.len() + t.packets.len() <= MAX_LADDER;
        if joins {
            r.ladder.append(&mut ladder(t, r.ladder_first));
            r.ladder_rank = r.ladder_rank.max(rank);
        } else if replaces {
            r.ladder_first = t.first;
            r.ladder_rank = rank;
            r.ladder = ladder(t, t.first);
        }
    }

    /// The DISCOVER cycle in progress, if it spans transactions.
    pub(crate) fn cycle(&self) -> Option<&Cycle> {
        self.rare.as_ref()?.cycle.as_deref()
    }

    /// Ends the DISCOVER cycle in progress, returning it.
    pub(crate) fn take_cycle(&mut self) -> Option<Box<Cycle>> {
        self.rare.as_mut()?.cycle.take()
    }

    /// Folds a transaction into the DISCOVER cycle; returns the cycle when it
    /// ended and is worth checking.
    pub fn update_cycle(&mut self, t: &Transaction, outcome: Outcome) -> Option<Box<Cycle>> {
        if !matches!(t.state, State::Init | State::Selecting | State::InitReboot) {
            return None;
        }
        // Worked on unboxed: a cycle that starts and ends in this one
        // transaction (a healthy DORA) is never boxed; one that stays open
        // (a client still without a lease) is boxed again at the end.
        let mut cycle = self.take_cycle().map(|c| *c);
        let mut ended = None;
        for d in t.of_kind(MessageType::Discover) {
            let o = &d.obs;
            let stale = cycle
                .as_ref()
                .is_some_and(|c| o.ts.0 - c.last.0 > 120_000_000_000 || c.bound);
            if stale {
                ended = cycle
                    .take()
                    .filter(Cycle::worth_checking)
                    .map(Box::new)
                    .or(ended);
            }
            cycle.get_or_insert_with(|| Cycle::new(o.ts, o.secs)).add(o);
        }
        if let Some(c) = &mut cycle {
            c.got_offer |= t.has(MessageType::Offer);
            if outcome == Outcome::Bound {
                c.bound = true;
                return cycle.filter(Cycle::worth_checking).map(Box::new).or(ended);
            }
        }
        if let Some(c) = cycle {
            self.rare().cycle = Some(Box::new(c));
        }
        ended
    }

    /// Adds a finding, merged into the client's finding of the same code.
    /// Kept until the end of the capture, so kept tight: a capture taken
    /// during an outage holds a finding or two for every client.
    pub fn add_finding(&mut self, f: Finding) {
        let findings = &mut self.rare().findings;
        let kept = match findings.iter().position(|o| o.code == f.code) {
            Some(i) => {
                findings[i].absorb(f);
                &mut findings[i]
            }
            None => {
                findings.reserve_exact(1);
                findings.push(f);
                findings.last_mut().expect("just pushed")
            }
        };
        kept.compact();
    }

    /// At the end of the capture: a client bound at the end had no failure,
    /// so what failed on the way (a NAK after a move, a declined address,
    /// DISCOVERs dropped before secs grew) becomes a warning — a delay, or a
    /// problem that will hit again. The transaction that gave the final lease
    /// is exempt: a lease from a rogue server is itself the problem. Then the
    /// findings are sorted, most serious first.
    pub fn settle(&mut self) {
        let recovered = self.outcome().is_some_and(Outcome::is_success);
        let last_success = self.last_success_xid();
        let Some(r) = self.rare.as_mut() else { return };
        if recovered {
            // A boot server's silence comes after the lease: the lease did
            // not recover the boot.
            // (A finding of a failed exchange is not the final lease's, even
            // under its xid: a client retrying a renewal keeps its xid.)
            for f in r.findings.iter_mut().filter(|f| {
                f.severity == crate::Severity::Error
                    && (f.xid.is_none()
                        || f.xid != last_success
                        || matches!(f.code, crate::Code::NoOffer | crate::Code::NoAck))
                    && f.code != crate::Code::PxeBootServerUnanswered
            }) {
                f.severity = crate::Severity::Warning;
                f.recovered = true;
                f.explanation
                    .push_str(" The client recovered: it got a lease later in the capture.");
                f.compact();
            }
        }
        r.findings
            .sort_by_key(|f| (f.severity, !f.explains_failure, f.code));
    }
}

impl Client {
    /// The documented `clients` entry of `diagnose --json`, written without
    /// allocating for a healthy client (there can be hundreds of thousands).
    pub fn write_json(&self, w: &mut Vec<u8>) -> std::io::Result<()> {
        let mut o = crate::json::Object::new(w)?;
        o.hw("chaddr", self.chaddr)?;
        let first = self.first_client_id();
        let more = self.rare.as_ref().map_or(&[][..], |r| &r.more_ids[..]);
        o.hex_list(
            "client_ids",
            first
                .iter()
                .chain(more)
                .map(|i| i.as_ref().map(|i| (i.as_bytes(), i.is_cut()))),
        )?;
        o.opt_plain("outcome", self.outcome().map(Outcome::name))?;
        o.ip("address", self.address())?;
        o.ip("server", self.server())?;
        o.opt_num("lease_time", self.lease_time().map(u64::from))?;
        let more = self.rare.as_ref().map_or(&[][..], |r| &r.more_servers[..]);
        o.ips(
            "servers",
            self.servers.iter().flatten().chain(more).copied(),
        )?;
        o.num("transactions", u64::from(self.transactions))?;
        o.plains("outcomes", self.outcomes.iter().map(|x| Some(x.name())))?;
        o.time("first", self.first)?;
        o.time("last", self.last)?;
        o.opt_plain("worst", self.worst().map(crate::Severity::name))?;
        o.plains(
            "findings",
            self.details().iter().map(|f| Some(f.code.as_str())),
        )?;
        if !self.ladder().is_empty() {
            o.list("ladder", self.ladder(), Step::write_json)?;
        }
        if !self.boot_servers().is_empty() {
            o.list("boot_servers", self.boot_servers(), BootServer::write_json)?;
        }
        o.end()
    }
}

impl serde::Serialize for Client {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        crate::json::via_writer(s, |w| self.write_json(w))
    }
}

/// The ladder of a transaction: one step per packet seen, its time counted
/// from `origin` (the transaction's first packet, or an earlier ladder's).
pub fn ladder(t: &Transaction, origin: Timestamp) -> Vec<Step> {
    let mut seen_kinds: Vec<Option<MessageType>> = Vec::new();
    t.packets
        .iter()
        .map(|s| {
            let o = &s.obs;
            let mut text = o.ladder_label();
            let mut note = |parts: &[&str]| {
                text.push(NOTE_SEPARATOR);
                parts.iter().for_each(|p| text.push_str(p));
            };
            if o.from_client() {
                if seen_kinds.contains(&o.kind) {
                    note(&["retransmission"]);
                }
                seen_kinds.push(o.kind);
                note(&["secs ", itoa::Buffer::new().format(o.secs)]);
                if o.relayed_request() {
                    note(&["relayed via ", Dotted::new(o.giaddr).as_str()]);
                }
            } else {
                if !o.udp_checksum.accepted_by_strict_receiver()
                    && o.udp_checksum != wire::UdpChecksum::Unchecked
                {
                    note(&["UDP checksum ", o.udp_checksum.name()]);
                }
                if o.to_relay() {
                    note(&["to relay ", Dotted::new(o.dst_ip).as_str()]);
                } else if !o.broadcast_dst() {
                    note(&["unicast to ", Dotted::new(o.dst_ip).as_str()]);
                }
                if let Some(m) = o.message() {
                    note(&["\"", m, "\""]);
                }
            }
            let anomalies = o.anomalies().len();
            if anomalies > 0 {
                let word = if anomalies == 1 {
                    " anomaly"
                } else {
                    " anomalies"
                };
                note(&[itoa::Buffer::new().format(anomalies), word]);
            }
            debug_assert!(
                !o.ladder_label().contains(NOTE_SEPARATOR)
                    && !o.message().is_some_and(|m| m.contains(NOTE_SEPARATOR)),
                "a label or note holds the separator: {text:?}"
            );
            Step {
                t: (o.ts.0 - origin.0) as f64 / 1e9,
                frame: o.at,
                copies: s.copies.iter().map(|c| c.at).collect(),
                from_client: o.from_client(),
                server: if o.from_client() {
                    o.server_id.or((!o.broadcast_dst()).then_some(o.dst_ip))
                } else {
                    Some(o.server())
                },
                xid: o.xid,
                text: text.into_boxed_str(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{Code, Severity};
    use std::borrow::Cow;

    /// A finding as a rule builds it: texts grown in steps, with spare room.
    fn built(code: Code, fix: impl Into<Cow<'static, str>>) -> Finding {
        let mut explanation = String::with_capacity(8);
        for part in [
            "RFC 2131 asks a client to put the seconds since it began ",
            "acquiring a lease in secs; this client sent secs=0 ",
            "in all 4 DISCOVERs over 28.0 s.",
        ] {
            explanation.push_str(part);
        }
        Finding::new(code, Severity::Error, None, Some(7))
            .summary(format!("{} DISCOVERs", 4))
            .explanation(explanation)
            .fix(fix)
            .frames([
                FrameRef { file: 0, frame: 3 },
                FrameRef { file: 0, frame: 9 },
            ])
    }

    #[test]
    fn a_steps_label_and_notes_share_one_text_and_read_back_whole() {
        let step = |text: &str| Step {
            t: 1.5,
            frame: FrameRef { file: 0, frame: 4 },
            copies: Box::new([]),
            from_client: false,
            server: Some(Ipv4Addr::new(10, 0, 0, 1)),
            xid: 0x5ec0_0000,
            text: text.into(),
        };
        let s = step("NAK\u{1f}unicast to 10.0.0.9\u{1f}\"wrong network\"\u{1f}1 anomaly");
        assert_eq!(s.label(), "NAK");
        assert!(s.has_notes());
        let notes: Vec<&str> = s.notes().collect();
        assert_eq!(
            notes,
            ["unicast to 10.0.0.9", "\"wrong network\"", "1 anomaly"]
        );
        let mut json = Vec::new();
        s.write_json(&mut json).unwrap();
        assert_eq!(
            String::from_utf8(json).unwrap(),
            r#"{"t":1.5,"frame":{"file":0,"frame":4},"from_client":false,"server":"10.0.0.1","label":"NAK","xid":"0x5ec00000","notes":["unicast to 10.0.0.9","\"wrong network\"","1 anomaly"]}"#
        );
        assert_eq!(
            serde_json::to_string(&s).unwrap(),
            r#"{"t":1.5,"frame":{"file":0,"frame":4},"from_client":false,"server":"10.0.0.1","label":"NAK","xid":"0x5ec00000","notes":["unicast to 10.0.0.9","\"wrong network\"","1 anomaly"]}"#
        );
        let bare = step("OFFER 10.0.0.100");
        assert_eq!(bare.label(), "OFFER 10.0.0.100");
        assert!(!bare.has_notes());
        assert_eq!(bare.notes().count(), 0);
        let mut json = Vec::new();
        bare.write_json(&mut json).unwrap();
        assert!(!String::from_utf8(json).unwrap().contains("notes"));
    }

    #[test]
    fn kept_findings_hold_no_spare_room_and_borrow_fixed_texts() {
        let mut c = Client::new(HwAddr::new(&[2, 0, 0, 0, 0, 1]), Timestamp(0));
        c.add_finding(built(Code::NoOffer, "Read the server's log."));
        c.add_finding(built(
            Code::SecsNotIncrementing,
            format!("Set `min-secs {};`", 0),
        ));
        // The same code again is merged, and stays tight.
        c.add_finding(built(Code::NoOffer, "Read the server's log."));
        let found = c.details();
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].occurrences, 2);
        for f in found {
            assert_eq!(f.summary.capacity(), f.summary.len());
            assert_eq!(f.explanation.capacity(), f.explanation.len());
            assert_eq!(f.frames.capacity(), f.frames.len());
            if let Cow::Owned(fix) = &f.fix {
                assert_eq!(fix.capacity(), fix.len());
            }
        }
        assert!(matches!(found[0].fix, Cow::Borrowed(_)));
        let r = c.rare.as_ref().expect("findings are kept out of line");
        assert_eq!(r.findings.capacity(), 2);
        // A recovered client's findings are reworded, and stay tight.
        c.outcomes.push(Outcome::Bound);
        c.settle();
        for f in c.details() {
            assert!(f.explanation.ends_with("later in the capture."));
            assert_eq!(f.explanation.capacity(), f.explanation.len());
        }
    }

    /// The engine keeps one client per MAC for the whole capture, and a
    /// large capture has hundreds of thousands: two cache lines each.
    #[test]
    fn a_client_fits_two_cache_lines() {
        let client = std::mem::size_of::<Client>();
        assert!(client <= 128, "Client is {client} bytes");
    }

    #[test]
    fn an_ack_not_taken_rewrites_the_newest_outcome_only() {
        let mut o = Outcomes::default();
        o.replace_newest(Outcome::AckIgnored);
        assert_eq!(o.iter().count(), 0, "nothing to rewrite");
        for x in [Outcome::NoOffer, Outcome::Bound, Outcome::Bound] {
            o.push(x);
        }
        o.replace_newest(Outcome::AckIgnored);
        assert_eq!(
            o.iter().collect::<Vec<_>>(),
            [Outcome::NoOffer, Outcome::Bound, Outcome::AckIgnored]
        );
        assert_eq!(o.trailing(Outcome::AckIgnored), 1);
        o.push(Outcome::AckIgnored);
        assert_eq!(o.trailing(Outcome::AckIgnored), 2);
        assert_eq!(o.trailing(Outcome::Bound), 0);
    }

    #[test]
    fn every_outcome_has_its_own_nibble_and_reads_back() {
        // Each outcome's code leads back to it through the table.
        let codes: Vec<u64> = BY_CODE.iter().map(|o| Outcomes::code(*o)).collect();
        assert_eq!(codes, (1..=BY_CODE.len() as u64).collect::<Vec<_>>());
        assert!(BY_CODE.len() <= 15, "codes are nibbles, and 0 is empty");
        for o in BY_CODE {
            let mut one = Outcomes::default();
            one.push(o);
            assert_eq!(one.iter().collect::<Vec<_>>(), [o]);
        }
        let mut all = Outcomes::default();
        BY_CODE.iter().for_each(|o| all.push(*o));
        assert_eq!(all.iter().collect::<Vec<_>>(), BY_CODE);
        assert_eq!(all.iter().next_back(), Some(Outcome::AckIgnored));
        all.push(Outcome::Incomplete);
        assert_eq!(all.last_meaningful(), Some(Outcome::AckIgnored));
        assert_eq!(Outcomes::default().iter().count(), 0);
        assert_eq!(Outcomes::default().last_meaningful(), None);
    }

    #[test]
    fn the_seventeenth_outcome_pushes_out_the_oldest() {
        let mut ring = Outcomes::default();
        let pushed: Vec<Outcome> = (0..40).map(|i| BY_CODE[i * 7 % BY_CODE.len()]).collect();
        for (n, o) in pushed.iter().enumerate() {
            ring.push(*o);
            let kept = &pushed[(n + 1).saturating_sub(16)..=n];
            assert_eq!(
                ring.iter().collect::<Vec<_>>(),
                kept,
                "after {} pushes",
                n + 1
            );
        }
        // Only incomplete ones: the last of them.
        let mut incomplete = Outcomes::default();
        (0..17).for_each(|_| incomplete.push(Outcome::Incomplete));
        assert_eq!(incomplete.iter().count(), 16);
        assert_eq!(incomplete.last_meaningful(), Some(Outcome::Incomplete));
        let mut two = Outcomes::default();
        two.push(Outcome::Nak);
        two.push(Outcome::Bound);
        assert_eq!(format!("{two:?}"), "[Nak, Bound]");
    }

    const MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x01];

    fn ids_json(c: &Client) -> String {
        let mut w = Vec::new();
        c.write_json(&mut w).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&w).unwrap();
        v["client_ids"].to_string()
    }

    #[test]
    fn an_identifier_naming_the_client_is_kept_without_allocating() {
        let mut c = Client::new(HwAddr::new(&MAC), Timestamp(0));
        assert_eq!(c.client_id_count(), 0);
        assert!(c.client_ids().is_empty());
        assert_eq!(ids_json(&c), "[]");
        let own = Short::new(&[1, 2, 0, 0, 0, 0, 1]);
        assert!(c.note_client_id(Some(own)));
        assert!(!c.note_client_id(Some(own)));
        assert_eq!(c.first_id, FirstId::OwnMac);
        assert!(c.other_first_id.is_none() && c.rare.is_none());
        assert!(c.uses_client_id(&own));
        assert!(!c.uses_client_id(&Short::new(&[1, 2, 0, 0, 0, 0, 2])));
        assert_eq!(c.client_ids(), [Some(own)]);
        assert_eq!(c.client_id_count(), 1);
        assert_eq!(ids_json(&c), r#"["01:02:00:00:00:00:01"]"#);
    }

    #[test]
    fn other_first_identifiers_are_boxed_and_read_back_whole() {
        // RFC 4361: ff, IAID, DUID-LL; `01` + another MAC; `01` alone; a
        // name; one cut at 32 bytes.
        let long: Vec<u8> = (0..40).collect();
        for id in [
            &[0xff, 0, 0, 0, 1, 0, 3, 0, 1, 2, 0, 0, 0, 0, 1][..],
            &[1, 2, 0, 0, 0, 0, 2],
            &[1],
            &[1, 2, 0, 0, 0, 0, 1, 0],
            b"\0host-1",
            &long,
        ] {
            let id = Short::new(id);
            let mut c = Client::new(HwAddr::new(&MAC), Timestamp(0));
            assert!(c.note_client_id(Some(id)));
            assert!(!c.note_client_id(Some(id)));
            assert_eq!(c.first_id, FirstId::Other, "{id:?}");
            assert!(c.rare.is_none(), "{id:?} allocates its box only");
            assert!(c.uses_client_id(&id));
            assert_eq!(c.client_ids(), [Some(id)]);
            assert_eq!(c.client_id_count(), 1);
        }
        let mut c = Client::new(HwAddr::new(&MAC), Timestamp(0));
        c.note_client_id(Some(Short::new(&long)));
        assert!(ids_json(&c).ends_with(r#":1f:…"]"#), "{}", ids_json(&c));
        // An empty chaddr is named by `01` alone.
        let mut c = Client::new(HwAddr::new(&[]), Timestamp(0));
        c.note_client_id(Some(Short::new(&[1])));
        assert_eq!(c.first_id, FirstId::OwnMac);
        assert_eq!(c.client_ids(), [Some(Short::new(&[1]))]);
    }

    #[test]
    fn an_absent_identifier_then_others_are_counted_in_order_up_to_four() {
        let mut c = Client::new(HwAddr::new(&MAC), Timestamp(0));
        assert!(c.note_client_id(None));
        assert!(!c.note_client_id(None));
        assert_eq!(c.first_id, FirstId::Absent);
        assert!(c.rare.is_none());
        assert_eq!(c.client_ids(), [None]);
        assert_eq!(ids_json(&c), "[null]");
        let own = Short::new(&[1, 2, 0, 0, 0, 0, 1]);
        let duid = Short::new(&[0xff, 0, 0, 0, 1, 0, 3, 0, 1, 2, 0, 0, 0, 0, 1]);
        // A second identifier (here the client's own MAC, not first) and a
        // third go out of line, in order.
        assert!(c.note_client_id(Some(own)));
        assert!(!c.note_client_id(Some(own)));
        assert!(c.note_client_id(Some(duid)));
        assert!(!c.note_client_id(None));
        assert!(!c.note_client_id(Some(duid)));
        assert_eq!(c.client_ids(), [None, Some(own), Some(duid)]);
        assert_eq!(c.client_id_count(), 3);
        assert!(c.uses_client_id(&own) && c.uses_client_id(&duid));
        assert_eq!(
            ids_json(&c),
            r#"[null,"01:02:00:00:00:00:01","ff:00:00:00:01:00:03:00:01:02:00:00:00:00:01"]"#
        );
        // A fourth is kept; a fifth is new but not kept.
        let fourth = Short::new(b"four");
        let fifth = Short::new(b"five");
        assert!(c.note_client_id(Some(fourth)));
        assert!(c.note_client_id(Some(fifth)));
        assert_eq!(c.client_id_count(), 4);
        assert!(!c.uses_client_id(&fifth));
        // Boxed first, then `01` + its MAC second.
        let mut c = Client::new(HwAddr::new(&MAC), Timestamp(0));
        c.note_client_id(Some(duid));
        assert!(c.note_client_id(Some(own)));
        assert!(c.note_client_id(None));
        assert_eq!(c.client_ids(), [Some(duid), Some(own), None]);
    }
}
