//! Per-client summaries: compact, kept until the end of the capture.

use std::net::Ipv4Addr;

use capture::Timestamp;
use wire::dhcp::MessageType;
use wire::HwAddr;

use crate::finding::Finding;
use crate::obs::{FrameRef, Short};
use crate::transaction::{Outcome, State, Transaction, Verdict};

/// The lease a client holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lease {
    pub address: Ipv4Addr,
    pub server: Option<Ipv4Addr>,
    pub time: Option<u32>,
    pub at: Timestamp,
}

/// One arrow of a ladder diagram.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Step {
    /// Seconds since the transaction's first packet.
    pub t: f64,
    pub frame: FrameRef,
    /// Other frames holding the same message (another capture, another hop).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub copies: Vec<FrameRef>,
    pub from_client: bool,
    /// The server sending or addressed (option 54 or IP).
    pub server: Option<Ipv4Addr>,
    pub label: String,
    pub xid: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
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
    pub frames: Vec<FrameRef>,
    pub got_offer: bool,
    pub bound: bool,
    pub xids: Vec<u32>,
}

impl Cycle {
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

/// What the engine keeps per client.
#[derive(Debug, Clone)]
pub struct Client {
    pub chaddr: HwAddr,
    pub first: Timestamp,
    pub last: Timestamp,
    /// Distinct client identifiers seen (`None` = sent without option 61).
    pub client_ids: Vec<Option<Short>>,
    /// Open transactions' xids.
    pub open: OpenXids,
    pub transactions: u32,
    pub outcomes: Vec<Outcome>,
    pub lease: Option<Lease>,
    pub servers: Vec<Ipv4Addr>,
    pub findings: Vec<Finding>,
    /// The ladder of the most telling transaction (failures first).
    pub ladder: Vec<Step>,
    ladder_rank: u8,
    pub cycle: Option<Cycle>,
    /// Files in which the client's own packets (not relayed) appear.
    pub direct_files: u64,
    /// Boot files handed to this client while it said it was iPXE.
    pub ipxe_boots: Vec<(Box<str>, FrameRef)>,
    pub pxe_boot_file: Option<Box<str>>,
    /// The xid of the last transaction that succeeded.
    pub last_success_xid: Option<u32>,
}

/// At most this many outcomes are kept per client (the newest).
const MAX_OUTCOMES: usize = 16;

impl Client {
    pub fn new(chaddr: HwAddr, ts: Timestamp) -> Client {
        Client {
            chaddr,
            first: ts,
            last: ts,
            client_ids: Vec::new(),
            open: OpenXids::default(),
            transactions: 0,
            outcomes: Vec::new(),
            lease: None,
            servers: Vec::new(),
            findings: Vec::new(),
            ladder: Vec::new(),
            ladder_rank: 0,
            cycle: None,
            direct_files: 0,
            ipxe_boots: Vec::new(),
            pxe_boot_file: None,
            last_success_xid: None,
        }
    }

    pub fn note_client_id(&mut self, id: Option<Short>) {
        if !self.client_ids.contains(&id) && self.client_ids.len() < 4 {
            self.client_ids.push(id);
        }
    }

    /// The client's outcome: its last transaction that says something.
    pub fn outcome(&self) -> Option<Outcome> {
        crate::engine::client_outcome(&self.outcomes)
    }

    /// Records a finished transaction.
    pub fn record(&mut self, t: &Transaction, s: &Verdict, has_findings: bool) {
        self.transactions += 1;
        self.first = self.first.min(t.first);
        self.last = self.last.max(t.last);
        if self.outcomes.len() == MAX_OUTCOMES {
            self.outcomes.remove(0);
        }
        self.outcomes.push(s.outcome);
        if s.outcome.is_success() {
            self.last_success_xid = Some(t.xid);
        }

        for r in t.replies() {
            let ip = r.obs.server();
            if !self.servers.contains(&ip) && self.servers.len() < 8 {
                self.servers.push(ip);
            }
        }
        match s.outcome {
            Outcome::Bound | Outcome::Renewed => {
                if let Some(address) = s.address {
                    self.lease = Some(Lease {
                        address,
                        server: s.server,
                        time: s.lease_time,
                        at: t.last,
                    });
                }
            }
            Outcome::Released | Outcome::Nak => self.lease = None,
            _ => {}
        }
        // Boot files, for the iPXE loop rule.
        let asked_ipxe = t.client_packets().any(|p| p.obs.ipxe);
        if let Some(ack) = t.of_kind(MessageType::Ack).next() {
            if let Some(f) = &ack.obs.boot_file {
                if asked_ipxe {
                    if self.ipxe_boots.len() < 8 {
                        self.ipxe_boots.push((f.clone(), ack.obs.at));
                    }
                } else {
                    self.pxe_boot_file = Some(f.clone());
                }
            }
        }
        let rank = match s.outcome {
            o if o.is_failure() => 3,
            _ if has_findings => 2,
            Outcome::Incomplete => 1,
            _ => 0,
        };
        if rank > 0 && rank >= self.ladder_rank {
            self.ladder_rank = rank;
            self.ladder = ladder(t);
        }
    }

    /// Folds a transaction into the DISCOVER cycle; returns the cycle when it
    /// ended and is worth checking.
    pub fn update_cycle(&mut self, t: &Transaction, outcome: Outcome) -> Option<Cycle> {
        if !matches!(t.state, State::Init | State::Selecting | State::InitReboot) {
            return None;
        }
        let mut ended = None;
        for d in t.of_kind(MessageType::Discover) {
            let o = &d.obs;
            let stale = self
                .cycle
                .as_ref()
                .is_some_and(|c| o.ts.0 - c.last.0 > 120_000_000_000 || c.bound);
            if stale {
                ended = self.cycle.take().filter(Cycle::worth_checking).or(ended);
            }
            let c = self.cycle.get_or_insert_with(|| Cycle {
                start: o.ts,
                last: o.ts,
                discovers: 0,
                first_secs: o.secs,
                min_secs: o.secs,
                max_secs: o.secs,
                frames: Vec::new(),
                got_offer: false,
                bound: false,
                xids: Vec::new(),
            });
            c.last = c.last.max(o.ts);
            c.discovers += 1;
            c.min_secs = c.min_secs.min(o.secs);
            c.max_secs = c.max_secs.max(o.secs);
            if c.frames.len() < 12 {
                c.frames.push(o.at);
            }
            if !c.xids.contains(&o.xid) && c.xids.len() < 8 {
                c.xids.push(o.xid);
            }
        }
        if let Some(c) = &mut self.cycle {
            c.got_offer |= t.has(MessageType::Offer);
            if outcome == Outcome::Bound {
                c.bound = true;
                return self.cycle.take().filter(Cycle::worth_checking).or(ended);
            }
        }
        ended
    }

    /// Adds a finding, merged into the client's finding of the same code.
    pub fn add_finding(&mut self, f: Finding) {
        match self.findings.iter_mut().find(|o| o.code == f.code) {
            Some(old) => old.absorb(f),
            None => self.findings.push(f),
        }
    }
}

/// The ladder of a transaction: one step per packet seen.
pub fn ladder(t: &Transaction) -> Vec<Step> {
    let mut seen_kinds: Vec<Option<MessageType>> = Vec::new();
    t.packets
        .iter()
        .map(|s| {
            let o = &s.obs;
            let mut notes = Vec::new();
            if o.from_client() {
                if seen_kinds.contains(&o.kind) {
                    notes.push("retransmission".to_string());
                }
                seen_kinds.push(o.kind);
                notes.push(format!("secs {}", o.secs));
                if o.relayed_request() {
                    notes.push(format!("relayed via {}", o.giaddr));
                }
            } else {
                if !o.udp_checksum.accepted_by_strict_receiver()
                    && o.udp_checksum != wire::UdpChecksum::Unchecked
                {
                    notes.push(format!("UDP checksum {}", o.udp_checksum.name()));
                }
                if o.to_relay() {
                    notes.push(format!("to relay {}", o.dst_ip));
                } else if !o.broadcast_dst() {
                    notes.push(format!("unicast to {}", o.dst_ip));
                }
                if let Some(m) = &o.message {
                    notes.push(format!("\"{m}\""));
                }
            }
            if !o.anomalies.is_empty() {
                notes.push(format!(
                    "{} anomal{}",
                    o.anomalies.len(),
                    if o.anomalies.len() == 1 { "y" } else { "ies" }
                ));
            }
            Step {
                t: (o.ts.0 - t.first.0) as f64 / 1e9,
                frame: o.at,
                copies: s.copies.clone(),
                from_client: o.from_client(),
                server: if o.from_client() {
                    o.server_id.or((!o.broadcast_dst()).then_some(o.dst_ip))
                } else {
                    Some(o.server())
                },
                label: o.ladder_label(),
                xid: format!("0x{:08x}", o.xid),
                notes,
            }
        })
        .collect()
}
