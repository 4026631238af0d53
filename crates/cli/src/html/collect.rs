//! The second pass for the page: every packet of the clients shown, grouped
//! into the arrows of their ladders, and the decoded form of each frame.
//!
//! The engine keeps only a summary per client, so the page reads the
//! captures again: once merged in time order (the same [`Feed`] the
//! diagnosis used) to group packets per client and transaction, with the
//! engine's own transaction summaries for the outcome of each; then file by
//! file to serialise the frames kept as [`PacketJson`]. Memory is bounded by
//! the packets kept, which the caller caps.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use capture::Timestamp;
use diagnose::transaction::Transaction;
use diagnose::{Config, Engine, FrameRef, Obs, Outcome, Sink, State, Summary};
use wire::dhcp::MessageType;
use wire::HwAddr;

use crate::feed::Feed;
use crate::packet_json::PacketJson;

/// A bucket of one (chaddr, xid) with no packet for this long is closed; a
/// later packet with the same xid starts another.
const BUCKET_IDLE_NS: i64 = 60_000_000_000;
/// At most this many transactions per client are kept for its ladder.
const MAX_BANDS: usize = 400;

/// One message of a client's exchange: one arrow, possibly seen in several
/// frames (another capture, another relay hop).
pub struct Arrow {
    pub obs: Obs,
    /// The frame shown first, then the copies.
    pub frames: Vec<FrameRef>,
    /// The client already sent this kind of message in this transaction.
    pub retransmission: bool,
    /// A client message that expects an answer and got none before the
    /// client's next message.
    pub unanswered: bool,
    /// A reply to a PXE ROM's boot server search that names no boot item
    /// (a DHCP server that took the search for a rebind): the ROM drops it.
    pub dropped_by_rom: bool,
}

/// What the page shows of the engine's summary of one transaction (the
/// engine's [`Summary`] borrows the transaction, which is gone by then).
#[derive(Debug, Clone)]
pub struct Settled {
    pub xid: u32,
    pub state: State,
    pub outcome: Outcome,
    pub address: Option<std::net::Ipv4Addr>,
    pub server: Option<std::net::Ipv4Addr>,
    pub start: Timestamp,
    pub end: Timestamp,
    pub frames: Vec<FrameRef>,
}

impl Settled {
    fn of(s: &Summary<'_>) -> Settled {
        Settled {
            xid: s.xid,
            state: s.state,
            outcome: s.outcome,
            address: s.address,
            server: s.server,
            start: s.start,
            end: s.end,
            frames: s.frames().collect(),
        }
    }
}

/// One transaction of a client, as the engine summarised it.
pub struct Band {
    pub summary: Option<Settled>,
    pub xid: u32,
    pub arrows: Vec<Arrow>,
}

impl Band {
    pub fn start(&self) -> Timestamp {
        self.arrows.first().map_or(Timestamp(0), |a| a.obs.ts)
    }
}

/// Everything the page shows about one client.
#[derive(Default)]
pub struct ClientPackets {
    pub bands: Vec<Band>,
    /// Frames seen but not kept (over the cap).
    pub omitted: u64,
    /// Transactions as the engine summarised them (for the timeline).
    pub summaries: Vec<Settled>,
}

/// What one frame looks like decoded.
pub struct FrameInfo {
    /// `PacketJson`, serialised.
    pub json: String,
    pub checksum: &'static str,
    pub anomalies: usize,
}

/// The result of the second pass.
#[derive(Default)]
pub struct Collected {
    pub clients: HashMap<HwAddr, ClientPackets>,
    pub frames: HashMap<FrameRef, FrameInfo>,
    /// Inputs that could not be read again (standard input).
    pub unreadable: Vec<String>,
}

/// Collects the engine's transaction summaries for the wanted clients.
struct Summaries<'a> {
    wanted: &'a HashSet<HwAddr>,
    out: HashMap<HwAddr, Vec<Settled>>,
}

impl Sink for Summaries<'_> {
    fn wants_transactions(&self) -> bool {
        true
    }

    fn transaction(&mut self, s: &Summary) {
        if self.wanted.contains(&s.chaddr) {
            let v = self.out.entry(s.chaddr).or_default();
            if v.len() < MAX_BANDS {
                v.push(Settled::of(s));
            }
        }
    }
}

/// A client's open buckets and what it has used of its budget.
#[derive(Default)]
struct Grouping {
    open: HashMap<u32, Transaction>,
    closed: Vec<Transaction>,
    /// Messages that ICMP errors quote, at the errors' frames (the first,
    /// then copies of the same error in other captures).
    refusals: Vec<(Vec<FrameRef>, Obs)>,
    kept: usize,
    omitted: u64,
}

/// Reads `paths` again and collects the packets of `wanted`, at most
/// `per_client` frames each; `files` are their names, as the diagnosis
/// numbered them.
pub fn collect(
    files: &[String],
    paths: &[PathBuf],
    wanted: &[HwAddr],
    per_client: usize,
    clocks: &[diagnose::clocks::ClockOffset],
) -> Collected {
    let wanted_set: HashSet<HwAddr> = wanted.iter().copied().collect();
    let mut out = Collected::default();
    // Standard input cannot be read twice.
    let mut readable: Vec<&PathBuf> = Vec::new();
    for (name, path) in files.iter().zip(paths) {
        if crate::inputs::is_stdin(path) {
            out.unreadable.push(name.clone());
        } else {
            readable.push(path);
        }
    }

    let mut engine = Engine::new(
        Config {
            files: files.to_vec(),
            ..Config::default()
        },
        Summaries {
            wanted: &wanted_set,
            out: HashMap::new(),
        },
    );
    let mut groups: HashMap<HwAddr, Grouping> = HashMap::new();
    // The clocks as the diagnosis set them (never measured with stdin).
    let clocks = if readable.len() == files.len() {
        crate::feed::Clocks::Given(clocks)
    } else {
        crate::feed::Clocks::Keep
    };
    let feed = Feed::open_with(&readable, clocks);
    // The feed numbers the files it opened; the report numbers `files`.
    let index = original_indexes(paths, &feed.paths());
    let mut starts = vec![None; files.len()];
    for (i, t) in feed.first_frames().into_iter().enumerate() {
        if let Some(&f) = index.get(i) {
            starts[usize::from(f)] = t;
        }
    }
    engine.captures_start(&starts);
    for mut o in feed {
        let Some(&file) = index.get(usize::from(o.at.file)) else {
            continue;
        };
        o.at.file = file;
        if wanted_set.contains(&o.chaddr) && !o.is_lease_query() {
            let g = groups.entry(o.chaddr).or_default();
            if g.kept >= per_client {
                g.omitted += 1;
            } else if o.unreachable().is_some() {
                // An ICMP error is an arrow of its own, never a copy of the
                // message it quotes; the same error in another capture is
                // a copy of it.
                g.kept += 1;
                let copy = g.refusals.iter_mut().rev().find(|(frames, r)| {
                    frames.iter().all(|f| f.file != o.at.file) && same_refusal(r, &o)
                });
                match copy {
                    Some((frames, _)) => frames.push(o.at),
                    None => g.refusals.push((vec![o.at], o.clone())),
                }
            } else {
                g.kept += 1;
                push(g, o.clone());
            }
        }
        engine.push(o);
    }
    let (_, sink) = engine.finish();
    let mut summaries = sink.out;

    let mut keep: HashSet<FrameRef> = HashSet::new();
    for (chaddr, mut g) in groups {
        g.closed.extend(g.open.into_values());
        let sums = summaries.remove(&chaddr).unwrap_or_default();
        let mut omitted = g.omitted;
        let mut bands: Vec<Band> = Vec::new();
        let mut keys: Vec<(u32, Option<usize>)> = Vec::new();
        let mut messages: Vec<(Vec<FrameRef>, Obs)> = Vec::new();
        for t in g.closed {
            omitted += u64::from(t.dropped);
            messages.extend(t.packets.into_iter().map(|s| (s.frames().collect(), s.obs)));
        }
        // ICMP errors go in the band of the message they quote (its xid).
        messages.extend(g.refusals);
        for (frames, obs) in messages {
            keep.extend(frames.iter().copied());
            let arrow = Arrow {
                obs,
                frames,
                retransmission: false,
                unanswered: false,
                dropped_by_rom: false,
            };
            let key = (arrow.obs.xid, band_of(&sums, &arrow));
            match keys.iter().position(|k| *k == key) {
                Some(b) => bands[b].arrows.push(arrow),
                None => {
                    keys.push(key);
                    bands.push(Band {
                        summary: key.1.map(|i| sums[i].clone()),
                        xid: key.0,
                        arrows: vec![arrow],
                    });
                }
            }
        }
        for b in &mut bands {
            b.arrows.sort_by_key(|a| (a.obs.ts, a.frames[0]));
            mark(&mut b.arrows);
        }
        bands.sort_by_key(|b| (b.start(), b.xid));
        out.clients.insert(
            chaddr,
            ClientPackets {
                bands,
                omitted,
                summaries: sums,
            },
        );
    }
    out.frames = decode_frames(files, paths, &keep);
    out
}

/// For each file the feed opened (in order), its index in `files`.
fn original_indexes(files: &[PathBuf], opened: &[PathBuf]) -> Vec<u16> {
    let mut out = Vec::with_capacity(opened.len());
    let mut next = 0;
    for name in opened {
        match files[next..].iter().position(|f| f == name) {
            Some(k) => {
                out.push((next + k) as u16);
                next += k + 1;
            }
            None => break,
        }
    }
    out
}

/// Adds a packet to its client's bucket for (chaddr, xid); the bucket
/// attaches copies of a message to it.
fn push(g: &mut Grouping, o: Obs) {
    let xid = o.xid;
    if let Some(t) = g.open.get(&xid) {
        if o.ts.0 - t.last.0 > BUCKET_IDLE_NS {
            let t = g.open.remove(&xid).expect("present");
            g.closed.push(t);
        }
    }
    match g.open.get_mut(&xid) {
        Some(t) => {
            t.push(o);
        }
        None => {
            g.open.insert(xid, Transaction::new(o));
        }
    }
}

/// Two captures' sightings of one ICMP error: the same reporter, code and
/// quoted message, less than 100 ms apart.
fn same_refusal(a: &Obs, b: &Obs) -> bool {
    a.unreachable() == b.unreachable()
        && (a.xid, a.kind, a.secs, a.op) == (b.xid, b.kind, b.secs, b.op)
        && (a.ts.0 - b.ts.0).abs() < 100_000_000
}

/// The engine's transaction holding this arrow: the one listing its frame,
/// else the one of its xid that spans its time, else the nearest of its xid.
fn band_of(sums: &[Settled], a: &Arrow) -> Option<usize> {
    let at = a.frames[0];
    let ts = a.obs.ts;
    sums.iter()
        .position(|s| s.frames.contains(&at))
        .or_else(|| {
            sums.iter()
                .position(|s| s.xid == a.obs.xid && s.start <= ts && ts <= s.end)
        })
        .or_else(|| {
            sums.iter()
                .enumerate()
                .filter(|(_, s)| s.xid == a.obs.xid)
                .min_by_key(|(_, s)| (s.start.0 - ts.0).abs().min((s.end.0 - ts.0).abs()))
                .map(|(i, _)| i)
        })
}

/// Whether a client message of this kind expects an answer.
fn expects_answer(o: &Obs) -> bool {
    matches!(
        o.kind,
        None | Some(MessageType::Discover | MessageType::Request | MessageType::Inform)
    )
}

/// Whether `reply`, after the boot server search `asked`, is a DHCP
/// server's ACK or NAK for it that names no boot item, as the engine reads
/// one (`diagnose::Client::search_for`): from UDP 67, under its xid, within
/// 4 s. A PXE ROM takes only an ACK naming the item it asked for.
fn item_less_answer(asked: &Obs, reply: &Obs) -> bool {
    asked.boot_server_search()
        && asked.dst_port == 67
        && matches!(reply.kind, Some(MessageType::Ack | MessageType::Nak))
        && reply.src_port == 67
        && reply.xid == asked.xid
        && reply.boot_item().is_none()
        && (0..diagnose::client::SEARCH_REPLY_NS).contains(&(reply.ts.0 - asked.ts.0))
}

/// Marks retransmissions, requests that got no answer, and replies a ROM
/// drops, within a band.
fn mark(arrows: &mut [Arrow]) {
    let mut kinds = Vec::new();
    let mut asked: Option<usize> = None;
    for i in 0..arrows.len() {
        // An ICMP error about a message neither asks nor answers.
        if arrows[i].obs.unreachable().is_some() {
            continue;
        }
        if !arrows[i].obs.from_client() {
            arrows[i].dropped_by_rom =
                asked.is_some_and(|q| item_less_answer(&arrows[q].obs, &arrows[i].obs));
            continue;
        }
        asked = Some(i);
        // A request to the boot server is not the DHCP REQUEST again.
        let kind = (arrows[i].obs.kind, arrows[i].obs.boot_server_exchange());
        arrows[i].retransmission = kinds.contains(&kind);
        kinds.push(kind);
        if expects_answer(&arrows[i].obs) {
            // Answered by any reply the client keeps before its next message.
            let replies = arrows[i + 1..]
                .iter()
                .filter(|a| a.obs.unreachable().is_none())
                .take_while(|a| !a.obs.from_client());
            arrows[i].unanswered = !replies
                .clone()
                .any(|a| !item_less_answer(&arrows[i].obs, &a.obs));
        }
    }
}

/// Serialises the frames in `keep`, reading each file of `paths` once;
/// `names` are how the packets name them.
fn decode_frames(
    names: &[String],
    paths: &[PathBuf],
    keep: &HashSet<FrameRef>,
) -> HashMap<FrameRef, FrameInfo> {
    let mut out = HashMap::with_capacity(keep.len());
    for (i, path) in paths.iter().enumerate() {
        let wanted: HashSet<u64> = keep
            .iter()
            .filter(|r| usize::from(r.file) == i)
            .map(|r| r.frame)
            .collect();
        if wanted.is_empty() {
            continue;
        }
        if crate::inputs::is_stdin(path) {
            continue;
        }
        let Ok(mut reader) = capture::open(path) else {
            continue;
        };
        let mut left = wanted.len();
        while left > 0 {
            let Ok(Some(p)) = reader.next_packet() else {
                break;
            };
            if !wanted.contains(&p.number) {
                continue;
            }
            left -= 1;
            let Some((d, icmp)) = crate::packet_json::dhcp_or_quoted(p.link, p.data, p.orig_len)
            else {
                continue;
            };
            let mut json = PacketJson::new(&names[i], p.number, p.timestamp, &d);
            json.icmp = icmp.as_ref().map(crate::packet_json::IcmpJson::of);
            let info = FrameInfo {
                checksum: json.udp_checksum,
                anomalies: json.anomalies.len(),
                json: serde_json::to_string(&json).unwrap_or_else(|_| "null".into()),
            };
            out.insert(
                FrameRef {
                    file: i as u16,
                    frame: p.number,
                },
                info,
            );
        }
    }
    out
}
