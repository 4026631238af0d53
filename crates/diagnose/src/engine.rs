//! The streaming engine: observations in time order in, transactions and
//! findings out through a [`Sink`], per-client summaries at the end.
//!
//! Memory is bounded by the open transactions and one compact summary per
//! client: a transaction is analysed and dropped as soon as it is over (its
//! end plus a grace period for late replies, a newer transaction of the same
//! client, or a long silence).

use rustc_hash::FxHashMap as HashMap;
use std::net::Ipv4Addr;

use capture::Timestamp;
use wire::dhcp::MessageType;
use wire::HwAddr;

use crate::client::{names_its_owner, Client, Cycle};
use crate::client_index::ClientIndex;
use crate::finding::Finding;
use crate::hint::{prefetch_bytes, prefetch_value};
use crate::obs::{Obs, Short};
use crate::open::{Due, Open};
use crate::report::{Report, ServerReport, Stats};
use crate::rules;
use crate::transaction::{Closed, Outcome, Seen, Summary, Transaction};

/// Receives results as they are settled.
pub trait Sink {
    /// Whether to build a [`Summary`] of every finished transaction (costly
    /// on large captures; off unless the sink needs them).
    fn wants_transactions(&self) -> bool {
        false
    }
    /// A transaction is over.
    fn transaction(&mut self, _summary: &Summary) {}
    /// A finding is settled (also kept for the report).
    fn finding(&mut self, _finding: &Finding) {}
}

/// A sink that ignores everything (results are still in the final report).
pub struct NoSink;

impl Sink for NoSink {}

/// Timing knobs and the names of the inputs.
#[derive(Debug, Clone)]
pub struct Config {
    /// Capture file names, indexed by [`crate::FrameRef::file`].
    pub files: Vec<String>,
    /// A transaction with no packet for this long is over.
    pub idle_ns: i64,
    /// After its last expected reply, a transaction waits this long for late
    /// or extra replies (e.g. a NAK from a second server).
    pub grace_ns: i64,
    /// Report findings to the sink as soon as they are certain, before the
    /// transaction is over (for live capture): `no-offer` after the third
    /// unanswered DISCOVER, `offer-ignored` when a DISCOVER follows an OFFER.
    /// They may reach the sink again when the transaction closes. A client's
    /// ICMP findings (`server-unreachable`, `reply-unreachable`) reach it as
    /// each of its transactions closes, and again at the end; ICMP errors
    /// that name no client, as the first of each kind arrives.
    pub early: bool,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            files: Vec::new(),
            idle_ns: 60_000_000_000,
            grace_ns: 2_000_000_000,
            early: false,
        }
    }
}

/// What a server did, across the capture.
#[derive(Debug, Clone, Default)]
pub struct ServerStats {
    pub mac: Option<[u8; 6]>,
    pub offers: u64,
    pub acks: u64,
    pub naks: u64,
    pub latency_sum: f64,
    pub latency_n: u64,
}

/// The diagnosis engine.
pub struct Engine<S: Sink> {
    cfg: Config,
    sink: S,
    open: Open,
    /// Clients in the order they appeared, found through `client_index`
    /// (so a growing index never moves the records themselves).
    clients: Vec<Client>,
    client_index: ClientIndex,
    /// The first client to use each client identifier, by a hash of the
    /// identifier, for identifiers that are not simply `01` + the client's
    /// own MAC (those need no entry: the identifier names its owner)…
    id_owner: HashMap<u64, u32>,
    /// …and every MAC of the identifiers that more than one MAC uses.
    shared_ids: HashMap<Short, Vec<HwAddr>>,
    servers: HashMap<Ipv4Addr, ServerStats>,
    start: Option<Timestamp>,
    clock: Timestamp,
    last_sweep: Timestamp,
    stats: Stats,
    global: Vec<Finding>,
    /// First and last timestamp seen in each capture file.
    file_spans: Vec<(Timestamp, Timestamp)>,
    /// Emptied packet buffers of closed transactions, for new ones.
    spare: Vec<Vec<Seen>>,
    /// The sweep's list of transactions to close, kept between sweeps.
    due: Vec<Due>,
    /// ICMP errors whose quotes name no client, by who refused what, and
    /// how many were of kinds past those kept.
    unnamed_refusals: Vec<rules::UnnamedRefusals>,
    unnamed_dropped: u64,
    /// When a PXE ROM last searched for a boot server to UDP 67: only
    /// shortly after one can a plain ACK answer a search (so that the
    /// replies of a capture with none are not looked up for it).
    last_search: Timestamp,
}

/// The span of a capture nothing has been seen of yet: it covers no time
/// (a capture with a higher index must not lend it its first packet's).
const NO_SPAN: (Timestamp, Timestamp) = (Timestamp(i64::MAX), Timestamp(i64::MIN));

/// Packet buffers kept for reuse: at least this many, and up to as many as
/// there are open transactions when one closes (a sweep closes a second's
/// worth at once, and the next second opens as many; as the sweep removes
/// what it closes, it keeps about half of them). Only buffers still at the
/// capacity `Transaction::with_buffer` reserves (four packets, the usual
/// DORA) are kept, so that the spares stay near 1 KiB each.
const SPARE_BUFFERS: usize = 256;

impl<S: Sink> Engine<S> {
    pub fn new(cfg: Config, sink: S) -> Engine<S> {
        Engine {
            open: Open::new(cfg.idle_ns, cfg.grace_ns),
            cfg,
            sink,
            clients: Vec::new(),
            client_index: ClientIndex::default(),
            id_owner: HashMap::default(),
            shared_ids: HashMap::default(),
            servers: HashMap::default(),
            start: None,
            clock: Timestamp(i64::MIN),
            last_sweep: Timestamp(i64::MIN),
            stats: Stats::default(),
            global: Vec::new(),
            file_spans: Vec::new(),
            spare: Vec::new(),
            due: Vec::new(),
            last_search: Timestamp(i64::MIN),
            unnamed_refusals: Vec::new(),
            unnamed_dropped: 0,
        }
    }

    pub fn sink(&mut self) -> &mut S {
        &mut self.sink
    }

    /// The number of transactions still open.
    pub fn open_transactions(&self) -> usize {
        self.open.len()
    }

    /// Tells when each capture's first frame of any kind was taken (indexed
    /// like [`crate::FrameRef::file`]; `None` for a capture with none): a
    /// capture was running from then, DHCP or not, which the rules read as
    /// how long it could have seen a client's earlier messages. Call it
    /// before the first [`Engine::push`].
    pub fn captures_start(&mut self, starts: &[Option<Timestamp>]) {
        for (f, t) in starts.iter().enumerate() {
            let Some(t) = *t else { continue };
            if self.file_spans.len() <= f {
                self.file_spans.resize(f + 1, NO_SPAN);
            }
            let span = &mut self.file_spans[f];
            *span = (span.0.min(t), span.1.max(t));
            self.start = Some(self.start.map_or(t, |s| s.min(t)));
        }
    }

    /// Feeds every observation of `obs` in turn, as [`Engine::push`] does,
    /// asking for the next one's slots in the client index and in the index
    /// of open transactions, and for the packet buffer a new transaction
    /// would take, while it handles this one. Among many clients these are
    /// rarely in cache (the client index of 250,000 takes 4 MiB), and every
    /// packet waits for them: about 12 % of `diagnose` on the bench's
    /// 1m.pcap. (The next observation is taken before this one is handled:
    /// for a live feed, use `push`.) Its effects are those of `push` on
    /// each in turn: only the iterator is advanced one item early.
    pub fn push_all(&mut self, obs: impl IntoIterator<Item = Obs>) {
        let mut obs = obs.into_iter();
        let mut next = obs.next();
        while let Some(o) = next {
            next = obs.next();
            if let Some(n) = &next {
                self.client_index.prefetch(&n.chaddr);
                self.open.prefetch(&(n.chaddr, n.xid));
                // Where a new transaction's first packet would go.
                if let Some(buf) = self.spare.last() {
                    prefetch_bytes(buf.as_ptr().cast::<u8>(), size_of::<Seen>());
                }
            }
            self.push(o);
        }
    }

    /// Feeds one observation (in time order; small disorder is tolerated).
    pub fn push(&mut self, o: Obs) {
        if let Some((reporter, code)) = o.unreachable() {
            if o.names_no_client() {
                let kinds = self.unnamed_refusals.len();
                if !rules::UnnamedRefusals::note(&mut self.unnamed_refusals, &o, reporter, code) {
                    self.unnamed_dropped += 1;
                } else if self.cfg.early && self.unnamed_refusals.len() > kinds {
                    // A kind not seen before: told now, as it arrives, unless
                    // it joins the finding of one told before (the findings
                    // group kinds from several senders); the count of each
                    // comes at the end.
                    let is_server = |a: Ipv4Addr| self.servers.contains_key(&a);
                    let (before, new) = self.unnamed_refusals.split_at(kinds);
                    let key = new[0].finding_key(is_server);
                    if !before.iter().any(|r| r.finding_key(is_server) == key) {
                        for f in &rules::unnamed_refusals(new, 0, &self.cfg.files, is_server) {
                            self.sink.finding(f);
                        }
                    }
                }
                return;
            }
            // A message that an ICMP error quotes (the client's, or a
            // server's reply to it): evidence kept with the client, neither
            // a DHCP packet seen nor one of its exchange.
            let i = client_of(&mut self.client_index, &mut self.clients, o.chaddr, o.ts);
            self.clients[i].note_unreachable(&o, reporter, code);
            if self.cfg.early {
                self.settle_refusal(i, (o.chaddr, o.xid), o.from_client());
            }
            return;
        }
        self.stats.packets += 1;
        if o.is_lease_query() {
            self.stats.lease_queries += 1;
            return;
        }
        self.start.get_or_insert(o.ts);
        // The earliest and latest times, whatever the order (a clock that
        // stepped back during the capture).
        self.stats.first = Some(self.stats.first.map_or(o.ts, |f| f.min(o.ts)));
        self.stats.last = Some(self.stats.last.map_or(o.ts, |l| l.max(o.ts)));
        if o.ts > self.clock {
            self.clock = o.ts;
        }
        let f = usize::from(o.at.file);
        if self.file_spans.len() <= f {
            self.file_spans.resize(f + 1, NO_SPAN);
        }
        let span = &mut self.file_spans[f];
        *span = (span.0.min(o.ts), span.1.max(o.ts));
        if self.clock.0.saturating_sub(self.last_sweep.0) > 1_000_000_000 {
            self.sweep(self.clock);
        }

        if o.boot_server_exchange() || self.boot_answer(&o) {
            // A PXE ROM and its boot server after the DHCP exchange: kept with
            // the client, never opening or extending a transaction (a ROM's
            // REQUESTs with ciaddr there are not renewals or rebinds). A DHCP
            // server that took a search for a rebind still sent a DHCP reply.
            if o.from_client() && o.dst_port == 67 {
                self.last_search = self.last_search.max(o.ts);
            }
            let i = client_of(&mut self.client_index, &mut self.clients, o.chaddr, o.ts);
            if self.clients[i].note_boot_server(&o) {
                self.note_server_packet((o.server(), o.src_mac, o.kind));
            }
            return;
        }
        let key = (o.chaddr, o.xid);
        let from_client = o.from_client();
        let finished = match o.kind {
            Some(MessageType::Ack | MessageType::Nak) => !from_client,
            Some(MessageType::Release | MessageType::Decline) => from_client,
            None => !from_client,
            _ => false,
        };
        let ts = o.ts;
        // The client's record, looked up once (a client packet always
        // touches it; a reply only when it starts a transaction).
        let open = self.open.find(&key);
        let mut client = open
            .and_then(|i| self.open.at(i))
            .and_then(|t| t.client)
            .map(|i| i as usize);
        // A reply is counted for its server unless it is a copy (the same
        // reply in a second capture or on another hop). Its source MAC is the
        // server's unless a relay passed it on (from the relay's address) or
        // a router forwarded it (a time to live below the usual initial
        // values: 64 on Linux, 128 on Windows, 255 on network gear).
        let sent_on_this_link = matches!(o.ttl, 32 | 64 | 128 | 255);
        let server_mac = o
            .src_mac
            .filter(|_| sent_on_this_link && (o.giaddr.is_unspecified() || o.src_ip == o.server()));
        let reply = (!from_client).then(|| (o.server(), server_mac, o.kind));
        // When the client was last heard of, before this packet.
        let mut before = None;
        if from_client {
            let (i, last) = self.note_client_packet(&o, client);
            client = Some(i);
            before = Some(last);
        }
        if let Some(i) = open {
            let new = self.open.update(i, |t| {
                let new = t.push(o);
                if finished {
                    t.done_at.get_or_insert(ts);
                }
                new
            });
            match (new, reply) {
                (Some(true), Some(r)) => self.note_server_packet(r),
                // A copy, perhaps from the server's side of a relay.
                (Some(false), Some((server, Some(mac), _))) => {
                    if let Some(s) = self.servers.get_mut(&server) {
                        s.mac.get_or_insert(mac);
                    }
                }
                _ => {}
            }
        } else {
            if let Some(r) = reply {
                self.note_server_packet(r);
            }
            // A new transaction of this client supersedes its older open ones.
            let i = client.unwrap_or_else(|| {
                client_of(&mut self.client_index, &mut self.clients, o.chaddr, ts)
            });
            let older = {
                let client = &mut self.clients[i];
                let older = if from_client {
                    client.open.take()
                } else {
                    Default::default()
                };
                client.open.push(key.1);
                older
            };
            for xid in older.as_slice() {
                if let Some(t) = self.open.remove(&(key.0, *xid)) {
                    self.close(t, Closed::Superseded, Some(&o));
                }
            }
            // Asked once the transactions it supersedes are recorded.
            let asks_again = before.and_then(|last| self.clients[i].asks_again(&o, last));
            let buf = self.spare.pop().unwrap_or_default();
            // A spare buffer was last used seconds ago: ask now for the
            // lines the transaction's next packets go into (the first
            // packet's were asked for a packet ahead, in `push_all`).
            let rest = buf.capacity().saturating_sub(1) * size_of::<Seen>();
            prefetch_bytes(
                buf.as_ptr().cast::<u8>().wrapping_add(size_of::<Seen>()),
                rest,
            );
            let mut t = Transaction::with_buffer(o, buf);
            t.client = Some(i as u32);
            if let Some(n) = asks_again {
                t.asked_after_ack = n;
                self.clients[i].ack_not_taken();
            }
            if finished {
                t.done_at = Some(ts);
            }
            self.open.insert(t);
        }
        if self.cfg.early {
            self.settle_early(key);
        }
    }

    /// Whether reply `o` answers a PXE ROM's boot server request rather than
    /// a DHCP exchange: a boot server's ACK from UDP 67 that names a boot
    /// item, if the client asked a boot server under its xid, or a DHCP
    /// server's ACK or NAK that names none right after a search (checked
    /// only when some ROM searched lately).
    #[inline]
    fn boot_answer(&self, o: &Obs) -> bool {
        !o.from_client()
            && matches!(o.kind, Some(MessageType::Ack | MessageType::Nak))
            && match o.boot_item() {
                Some(_) => o.kind == Some(MessageType::Ack) && self.asked_boot_server(o),
                None => {
                    o.ts.0.saturating_sub(self.last_search.0) < crate::client::SEARCH_REPLY_NS
                        && self.answers_search(o)
                }
            }
    }

    #[inline(never)]
    fn asked_boot_server(&self, o: &Obs) -> bool {
        self.client_index
            .get(&o.chaddr, &self.clients)
            .is_some_and(|i| self.clients[i as usize].asked_boot_server(o.xid))
    }

    /// Whether ACK or NAK `o` is a DHCP server's, from UDP 67, under the xid
    /// of the client's search just before ([`Client::search_for`]), unless
    /// the client began a DHCP exchange under that xid since (a ROM that
    /// reuses its DHCP xid).
    #[inline(never)]
    fn answers_search(&self, o: &Obs) -> bool {
        if o.src_port != 67 {
            return false;
        }
        let Some(c) = self
            .client_index
            .get(&o.chaddr, &self.clients)
            .map(|i| &self.clients[i as usize])
        else {
            return false;
        };
        let Some(i) = c.search_for(o.xid, o.ts) else {
            return false;
        };
        let asked = c.boot_servers()[i].last_asked;
        self.open.get(&(o.chaddr, o.xid)).is_none_or(|t| {
            !t.packets
                .iter()
                .any(|s| s.obs.from_client() && s.obs.ts > asked)
        })
    }

    /// Reports what an open DISCOVER transaction already shows for certain.
    fn settle_early(&mut self, key: (HwAddr, u32)) {
        let Some(t) = self.open.get(&key) else { return };
        let Some(outcome) = early_outcome(t) else {
            return;
        };
        let discovers: Vec<&Obs> = t.of_kind(MessageType::Discover).map(|s| &s.obs).collect();
        let first_offer = t.of_kind(MessageType::Offer).map(|s| s.obs.ts).min();
        let Some(i) = self.client_index.get(&key.0, &self.clients) else {
            return;
        };
        let client = &self.clients[i as usize];
        let ctx = rules::Context {
            capture_start: self.start.unwrap_or(t.first),
            client,
            superseded_by: None,
            files: &self.cfg.files,
            file_spans: &self.file_spans,
            any_server: !self.servers.is_empty(),
        };
        let mut found = rules::transaction(t, outcome, &ctx);
        // secs over the DISCOVERs so far, this transaction's and earlier ones'.
        let mut cycle = client
            .cycle()
            .cloned()
            .unwrap_or(Cycle::new(discovers[0].ts, discovers[0].secs));
        for d in &discovers {
            cycle.add(d);
        }
        cycle.got_offer |= first_offer.is_some();
        found.extend(rules::secs_cycle(key.0, &cycle));
        for f in &found {
            self.sink.finding(f);
        }
    }

    /// Live: reports what the ICMP errors about client `i` show once the
    /// exchange they refused (`key`; a client message if `asked`, else a
    /// reply) has failed, whether it is over or, still open, certain to fail.
    /// Otherwise they are reported as it closes.
    fn settle_refusal(&mut self, i: usize, key: (HwAddr, u32), asked: bool) {
        let client = &self.clients[i];
        let outcome = match self.open.get(&key) {
            // A refused request counts once nothing answered it (its
            // refusals are marked answered only when the exchange closes).
            Some(t) => early_outcome(t).filter(|o| !asked || *o == Outcome::NoOffer),
            None => client.outcome().filter(|o| o.is_failure()),
        };
        if outcome.is_none() {
            return;
        }
        // Only the kind of refusal that arrived: the other kind's answers
        // are not known yet.
        let rule = if asked {
            rules::server_unreachable
        } else {
            rules::reply_unreachable
        };
        if let Some(f) = rule(client, outcome, &self.cfg.files) {
            self.sink.finding(&f);
        }
    }

    /// Notes a client packet in its client's record; returns the record's
    /// index, and when the client was last heard of before.
    fn note_client_packet(&mut self, o: &Obs, known: Option<usize>) -> (usize, Timestamp) {
        let i = known.unwrap_or_else(|| {
            client_of(&mut self.client_index, &mut self.clients, o.chaddr, o.ts)
        });
        let c = &mut self.clients[i];
        let before = c.last;
        c.last = c.last.max(o.ts);
        let new_id = c.note_client_id(o.client_id);
        if o.src_port == 68 && o.giaddr.is_unspecified() {
            c.direct_files |= 1u64 << o.at.file.min(63);
        }
        // Who else uses the identifier needs asking only when this client
        // starts using it (its later packets would find the same answer).
        if let Some(id) = o.client_id.filter(|_| new_id) {
            if let Some(owner) = self.id_user(&id).filter(|&owner| owner != i) {
                let owner = self.clients[owner].chaddr;
                let v = self.shared_ids.entry(id).or_insert_with(|| vec![owner]);
                if !v.contains(&o.chaddr) && v.len() < 8 {
                    v.push(o.chaddr);
                }
            } else if !names_its_owner(&id, o.chaddr) {
                self.id_owner.entry(id_hash(&id)).or_insert(i as u32);
            }
        }
        (i, before)
    }

    /// The first client seen using client identifier `id`, if any.
    ///
    /// A hash collision between two identifiers (odds about 10^-7 among a
    /// million of them) is caught by asking the client found whether it uses
    /// `id`; it can hide a shared identifier, never invent one.
    fn id_user(&self, id: &Short) -> Option<usize> {
        let registered = self
            .id_owner
            .get(&id_hash(id))
            .map(|&i| i as usize)
            .filter(|&i| self.clients[i].uses_client_id(id));
        // `01` + a MAC names that MAC's client, if it uses it.
        registered.or_else(|| {
            let mac = id.as_bytes().strip_prefix(&[1])?;
            (mac.len() == 6)
                .then(|| self.client_index.get(&HwAddr::new(mac), &self.clients))
                .flatten()
                .map(|i| i as usize)
                .filter(|&i| self.clients[i].uses_client_id(id))
        })
    }

    fn note_server_packet(
        &mut self,
        (server, mac, kind): (Ipv4Addr, Option<[u8; 6]>, Option<MessageType>),
    ) {
        let s = self.servers.entry(server).or_default();
        if s.mac.is_none() {
            s.mac = mac;
        }
        match kind {
            Some(MessageType::Offer) => s.offers += 1,
            Some(MessageType::Ack) => s.acks += 1,
            Some(MessageType::Nak) => s.naks += 1,
            _ => {}
        }
    }

    /// Closes transactions that are over by `now`.
    pub fn sweep(&mut self, now: Timestamp) {
        self.last_sweep = now;
        // Closed in a fixed order, so the output is the same from run to run.
        let mut over = std::mem::take(&mut self.due);
        self.open.over(now, &mut over);
        for (n, &(_, chaddr, xid, i)) in over.iter().enumerate() {
            // What closing reads, asked for ahead: the index slot and the
            // record two ahead, and what the record points to one ahead.
            if let Some(&(_, c, x, j)) = over.get(n + 2) {
                self.open.prefetch(&(c, x));
                self.open.prefetch_entry(j);
            }
            if let Some(t) = over.get(n + 1).and_then(|o| self.open.at(o.3)) {
                prefetch_for_close(t, &self.clients);
            }
            if let Some(t) = self.open.take(i) {
                // Closing never opens or takes another, so the entries
                // listed stay those of the same transactions.
                debug_assert_eq!((t.chaddr, t.xid), (chaddr, xid));
                let how = if t.done_at.is_some() {
                    Closed::Completed
                } else {
                    Closed::Idle
                };
                self.close(t, how, None);
            }
        }
        self.due = over;
    }

    /// Analyses a finished transaction, updates its client, reports it.
    fn close(&mut self, t: Transaction, how: Closed, superseded_by: Option<&Obs>) {
        let end = self.stats.last.unwrap_or(t.last);
        let mut outcome = t.outcome(how, end.0 - t.last.0);
        // Every ACK missing from the capture at the client's side: the
        // client never got one, whatever the server's side shows.
        if outcome.is_success()
            && self.cfg.files.len() > 1
            && t.state != crate::State::Inform
            && rules::ack_missing_at_client(&t, &self.cfg.files, &self.file_spans).is_some()
        {
            outcome = Outcome::AckIgnored;
        }
        // The client went on with a REQUEST under another xid: not ignored.
        if outcome == Outcome::OfferIgnored
            && superseded_by.is_some_and(|o| o.kind == Some(MessageType::Request))
        {
            outcome = Outcome::Incomplete;
        }
        // An INFORM with an empty chaddr is a Windows DHCP server looking for
        // other servers (rogue detection), not a client waiting for an answer.
        if t.state == crate::State::Inform
            && t.chaddr.as_bytes().iter().all(|b| *b == 0)
            && outcome == Outcome::NoAck
        {
            outcome = Outcome::Incomplete;
        }
        let i = match t.client {
            Some(i) => i as usize,
            None => client_of(&mut self.client_index, &mut self.clients, t.chaddr, t.first),
        };
        // It asked again for an ACK an earlier transaction got, and its own
        // last ACK ended it: taken, unless two or more ACKs under this xid
        // went untaken (then the client more likely gave up).
        if t.asked_after_ack > 0
            && outcome.is_success()
            && usize::from(t.asked_after_ack) + t.acks_asked_again().0 >= 2
        {
            outcome = Outcome::AckIgnored;
        }
        let verdict = t.verdict(outcome);
        self.stats.transactions += 1;
        for s in t.replies() {
            if let Some(latency) = reply_latency(&t, &s.obs) {
                let st = self.servers.entry(s.obs.server()).or_default();
                st.latency_sum += latency;
                st.latency_n += 1;
            }
        }
        let start = self.start.unwrap_or(t.first);
        let client = &mut self.clients[i];
        client.open.remove(t.xid);
        let ctx = rules::Context {
            capture_start: start,
            client: &*client,
            superseded_by,
            files: &self.cfg.files,
            file_spans: &self.file_spans,
            any_server: !self.servers.is_empty(),
        };
        let mut found = rules::transaction(&t, outcome, &ctx);
        client.record(&t, &verdict, &found);
        // The DISCOVER cycle (for secs) spans transactions until a lease.
        if let Some(cycle) = client.update_cycle(&t, outcome) {
            found.extend(rules::secs_cycle(t.chaddr, &cycle));
        }
        for f in found {
            self.sink.finding(&f);
            client.add_finding(f);
        }
        // Live, what ICMP errors say is told as soon as the exchange they
        // refused is over; the report gets it at the end, with the rest of
        // the client's findings.
        if self.cfg.early {
            for f in rules::refused(client, &self.cfg.files) {
                self.sink.finding(&f);
            }
        }
        if self.sink.wants_transactions() {
            self.sink.transaction(&Summary::new(&t, verdict));
        }
        // Its packet buffer serves the next transaction (most need no more
        // than they held, and allocating one per transaction shows).
        if self.spare.len() < SPARE_BUFFERS.max(self.open.len()) && t.packets.capacity() <= 4 {
            let mut buf = t.packets;
            buf.clear();
            self.spare.push(buf);
        }
    }

    /// Ends the capture: closes everything, runs the client and global
    /// rules, and returns the report.
    pub fn finish(mut self) -> (Report, S) {
        let end = self.stats.last.unwrap_or_default();
        let mut open: Vec<Transaction> = self.open.drain().collect();
        // The order a sweep closes in (chaddr breaks ties the slab's order
        // would otherwise decide).
        open.sort_unstable_by_key(|t| (t.first, t.chaddr, t.xid));
        for t in open {
            let how = if t.done_at.is_some() {
                Closed::Completed
            } else {
                Closed::EndOfCapture
            };
            self.close(t, how, None);
        }
        drop(std::mem::take(&mut self.client_index));
        drop(std::mem::take(&mut self.id_owner));
        let mut clients = std::mem::take(&mut self.clients);
        // Unstable (no scratch copy of millions of records), and as
        // deterministic: no two clients share a chaddr.
        clients.sort_unstable_by_key(|c| (c.first, c.chaddr));
        for c in &mut clients {
            let mut extra = Vec::new();
            if let Some(cycle) = c.take_cycle().filter(|c| c.worth_checking()) {
                extra.extend(rules::secs_cycle(c.chaddr, &cycle));
            }
            extra.extend(rules::client_end(c, end, &self.cfg.files));
            for f in extra {
                self.sink.finding(&f);
                c.add_finding(f);
            }
            c.settle();
        }
        let mut global = std::mem::take(&mut self.global);
        global.extend(rules::shared_client_ids(&self.shared_ids, &clients));
        let is_server = |a: Ipv4Addr| self.servers.contains_key(&a);
        global.extend(rules::unnamed_refusals(
            &self.unnamed_refusals,
            self.unnamed_dropped,
            &self.cfg.files,
            is_server,
        ));
        for f in &global {
            self.sink.finding(f);
        }
        let reports = clients;

        self.stats.clients = reports.len() as u64;
        let mut servers: Vec<ServerReport> = self
            .servers
            .into_iter()
            .filter(|(_, s)| s.offers + s.acks + s.naks > 0)
            .map(|(ip, s)| ServerReport::new(ip, &s))
            .collect();
        servers.sort_by_key(|s| s.address);
        (
            Report {
                clients: reports,
                global,
                servers,
                stats: self.stats,
            },
            self.sink,
        )
    }
}

/// What an open DISCOVER transaction already shows for certain: no OFFER to
/// three DISCOVERs, or a DISCOVER after an OFFER.
fn early_outcome(t: &Transaction) -> Option<Outcome> {
    if t.state != crate::State::Init || t.has(MessageType::Request) {
        return None;
    }
    let first_offer = t.of_kind(MessageType::Offer).map(|s| s.obs.ts).min();
    match first_offer {
        Some(o) if t.of_kind(MessageType::Discover).any(|d| d.obs.ts > o) => {
            Some(Outcome::OfferIgnored)
        }
        None if t.of_kind(MessageType::Discover).count() >= 3 => Some(Outcome::NoOffer),
        _ => None,
    }
}

/// Seconds from the client message a reply answers to the reply.
fn reply_latency(t: &Transaction, reply: &Obs) -> Option<f64> {
    let want = match reply.kind {
        Some(MessageType::Offer) => MessageType::Discover,
        Some(MessageType::Ack | MessageType::Nak) => MessageType::Request,
        _ => return None,
    };
    let asked = t
        .of_kind(want)
        .map(|s| s.obs.ts)
        .filter(|ts| *ts <= reply.ts)
        .max()?;
    Some((reply.ts.0 - asked.0) as f64 / 1e9)
}

/// A client's outcome from its transactions: the last one that says anything.
pub fn client_outcome(outcomes: &[Outcome]) -> Option<Outcome> {
    outcomes
        .iter()
        .rev()
        .find(|o| **o != Outcome::Incomplete)
        .or(outcomes.last())
        .copied()
}

/// The index of `chaddr`'s record, created at `ts` if new.
fn client_of(
    index: &mut ClientIndex,
    clients: &mut Vec<Client>,
    chaddr: HwAddr,
    ts: Timestamp,
) -> usize {
    index.get_or_insert(&chaddr, clients, || Client::new(chaddr, ts)) as usize
}

fn id_hash(id: &Short) -> u64 {
    use std::hash::BuildHasher;
    rustc_hash::FxBuildHasher.hash_one(id)
}

/// Asks the processor for the memory that closing `t` reads: the first
/// 1 KiB of its packets and its client's record. A sweep closes transactions
/// seconds after their last packet, when that memory has left the cache;
/// asking for the next one's while closing this one hides the wait (2–6 %
/// of `diagnose` on the 1M-packet bench capture).
fn prefetch_for_close(t: &Transaction, clients: &[Client]) {
    let packets = size_of_val(t.packets.as_slice());
    prefetch_bytes(t.packets.as_ptr().cast::<u8>(), packets.min(1024));
    if let Some(c) = t.client.and_then(|i| clients.get(i as usize)) {
        prefetch_value(c);
    }
}
