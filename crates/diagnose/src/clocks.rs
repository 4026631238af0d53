//! Clock offsets between captures of the same traffic taken on different
//! hosts (a client's and a server's, or both ends of a relay).
//!
//! Two hosts' clocks rarely agree: a virtual machine without NTP, an
//! embedded box that boots at 1970, or a capture from another time zone's
//! machine replayed. Merged as they are, a capture whose clock runs seconds
//! off puts the server's replies before the requests they answer and the
//! other end's copies of a message outside the window in which they count
//! as copies, and the exchange reads as a different failure.
//!
//! The offset is measured on the messages both captures hold: the same
//! client message (chaddr, xid, type, `secs`, ciaddr) or the same reply
//! (also yiaddr and the server) seen once in each. A client message reaches
//! the far end a little later and a reply a little earlier, so halfway
//! between the two kinds' median differences is the clocks' offset,
//! whatever the path's delay. Offsets under [`MIN_OFFSET_NS`] are left
//! alone: that much is delay, not clock.
//!
//! A message seen more than once in a capture is matched hop by hop: a
//! capture at a relay (`tcpdump -i any`) holds each message on both legs,
//! and the copy on the client's leg is the one a client's capture holds.
//! Several sightings at one hop (retransmissions with `secs` stuck, as PXE
//! ROMs send them) are matched in order when both captures hold as many.

use std::collections::HashMap;
use std::net::Ipv4Addr;

use crate::obs::Obs;
use wire::dhcp::{MessageType, Op};
use wire::HwAddr;

/// Messages sampled per capture, from its start: enough for a median,
/// few enough that the first pass over a large capture costs little.
pub const SAMPLE: usize = 4096;

/// Offsets smaller than this are the path's delay, not the clocks'.
pub const MIN_OFFSET_NS: i64 = 100_000_000;

/// With one kind of message only (client messages, or replies), the median
/// difference holds the path's one-way delay too: it must be this large to
/// be the clocks'.
pub const MIN_ONE_KIND_OFFSET_NS: i64 = 1_000_000_000;

/// How far from the median a difference may be and still agree with it.
const AGREE_NS: i64 = 50_000_000;

/// What makes a message the same one in two captures (a relay's copy
/// changes giaddr and hops, so they are left out: they are its [`Hop`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    chaddr: HwAddr,
    xid: u32,
    op: Op,
    kind: Option<MessageType>,
    secs: u16,
    ciaddr: Ipv4Addr,
    yiaddr: Ipv4Addr,
    server: Option<Ipv4Addr>,
}

impl Key {
    fn of(o: &Obs) -> Key {
        Key {
            chaddr: o.chaddr,
            xid: o.xid,
            op: o.op,
            kind: o.kind,
            secs: o.secs,
            ciaddr: o.ciaddr,
            yiaddr: o.yiaddr,
            server: (!o.from_client()).then(|| o.server()),
        }
    }
}

/// Where on its way a message was seen: a relay's copy has a giaddr and
/// counts a hop; its reply goes to the relay (port 67), then on to the
/// client (port 68).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Hop {
    giaddr: Ipv4Addr,
    hops: u8,
    dst_port: u16,
}

impl Hop {
    fn of(o: &Obs) -> Hop {
        Hop {
            giaddr: o.giaddr,
            hops: o.hops,
            dst_port: o.dst_port,
        }
    }
}

/// Sightings of one message kept per capture; a message seen more often
/// (a storm of retransmissions) is not used.
const MAX_SIGHTINGS: usize = 16;

/// Each sighting of one message in one capture, in the order seen: when,
/// and at which hop. `None` once there were more than [`MAX_SIGHTINGS`].
type Sightings = Option<Vec<(Hop, i64)>>;

/// One capture's sampled messages.
#[derive(Debug, Default)]
struct Sample {
    seen: HashMap<Key, Sightings>,
    taken: usize,
}

impl Sample {
    fn note(&mut self, o: &Obs) {
        let e = self
            .seen
            .entry(Key::of(o))
            .or_insert_with(|| Some(Vec::new()));
        if let Some(v) = e {
            let hop = Hop::of(o);
            // The same frame captured twice (`-i any` on a bridge and its
            // port), as the engine takes it: one sighting.
            let again = v
                .iter()
                .rev()
                .find(|(h, _)| *h == hop)
                .is_some_and(|(_, t)| {
                    o.ts.0.saturating_sub(*t).abs() <= crate::transaction::DUPLICATE_WINDOW_NS
                });
            if again {
                return;
            }
            if v.len() < MAX_SIGHTINGS {
                v.push((hop, o.ts.0));
            } else {
                *e = None;
            }
        }
    }
}

/// The pairs of times at which two captures saw the same message (`a`'s,
/// `b`'s): its one sighting in each, whatever their hops; else, hop by
/// hop, the sightings at a hop both hold as many times, in order.
fn pairs(a: &[(Hop, i64)], b: &[(Hop, i64)]) -> Vec<(i64, i64)> {
    if let ([(_, t)], [(_, u)]) = (a, b) {
        return vec![(*t, *u)];
    }
    let mut out = Vec::new();
    // Each hop `a` saw, once, in the order first seen.
    let mut hops: Vec<Hop> = Vec::new();
    for (h, _) in a {
        if !hops.contains(h) {
            hops.push(*h);
        }
    }
    for h in &hops {
        let at = |s: &[(Hop, i64)]| {
            s.iter()
                .filter(|(g, _)| g == h)
                .map(|(_, t)| *t)
                .collect::<Vec<_>>()
        };
        let (x, y) = (at(a), at(b));
        if x.len() == y.len() {
            out.extend(x.into_iter().zip(y));
        }
    }
    out
}

/// How far one capture's clock is from another's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClockOffset {
    /// The capture whose clock is off, and the first capture, whose clock
    /// it is put on (indexes as [`crate::FrameRef::file`]).
    pub file: usize,
    pub reference: usize,
    /// Its clock minus the reference's, in nanoseconds: subtract it from
    /// its times to put them on that clock.
    pub offset_ns: i64,
    /// The capture it was measured against: the reference, or one placed
    /// against the reference before it.
    pub measured_against: usize,
    /// Messages matched between it and `measured_against`, and how many of
    /// them agree with the offset (within 50 ms of their kind's median).
    pub matched: usize,
    pub agreeing: usize,
}

/// Messages sampled from the start of each of several captures.
#[derive(Debug)]
pub struct Samples {
    files: Vec<Sample>,
}

impl Samples {
    pub fn new(files: usize) -> Samples {
        Samples {
            files: (0..files).map(|_| Sample::default()).collect(),
        }
    }

    /// Takes message `o` of capture `file` into its sample; `false` once
    /// that capture's sample is full (read no further).
    pub fn add(&mut self, file: usize, o: &Obs) -> bool {
        let Some(s) = self.files.get_mut(file) else {
            return false;
        };
        if s.taken >= SAMPLE {
            return false;
        }
        // An ICMP error's time is the error's, not the message's; a lease
        // query is no client's.
        if o.unreachable().is_some() || o.is_lease_query() {
            return true;
        }
        s.taken += 1;
        s.note(o);
        true
    }

    /// Starts the second look at capture `big`, for the captures `small`
    /// that its sample shares nothing with (short captures taken in the
    /// middle of a long one): feed [`Extension::add`] every message of `big`
    /// from its start; those past its sample whose key one of the `small`
    /// samples holds join `big`'s sample (memory stays bounded by theirs).
    /// One look per capture: each message is counted once.
    pub fn extend(&mut self, big: usize, small: Vec<usize>) -> Extension<'_> {
        Extension {
            samples: self,
            big,
            small,
            seen: 0,
        }
    }

    /// Whether capture `file`'s sample holds any message.
    pub fn has_any(&self, file: usize) -> bool {
        self.files.get(file).is_some_and(|s| !s.seen.is_empty())
    }

    /// The offset of each capture's clock that is off by [`MIN_OFFSET_NS`]
    /// or more: against the first capture, or failing messages in common
    /// with it, against one already placed. A capture with fewer than two
    /// messages in common with any, or whose differences do not agree
    /// (fewer than half within 50 ms of their median), is left as it is.
    /// Captures that share nothing with the first's group are placed
    /// against each other: the first of them is their reference.
    pub fn offsets(&self) -> Vec<ClockOffset> {
        self.measured().0
    }

    /// [`Samples::offsets`] (with, for captures placed against another
    /// than the first, their offset however small: which clock they share),
    /// and the captures whose clocks could not be measured against the
    /// first (nothing in common that agrees, directly or through others):
    /// those that share nothing are taken as they are, and the others are
    /// put on their clock.
    pub fn measured(&self) -> (Vec<ClockOffset>, Vec<usize>) {
        let n = self.files.len();
        // Offsets of the captures placed so far, and their references.
        let mut placed: Vec<Option<(i64, usize)>> = vec![None; n];
        let mut out = Vec::new();
        let mut unmeasured = Vec::new();
        if n == 0 {
            return (out, unmeasured);
        }
        placed[0] = Some((0, 0));
        loop {
            // Each round places what it can against those placed before.
            let mut progress = false;
            for f in 1..n {
                if placed[f].is_some() {
                    continue;
                }
                let best = (0..n)
                    .filter_map(|r| Some((r, placed[r]?)))
                    .filter_map(|(r, base)| Some((r, base, self.measure(f, r)?)))
                    .max_by_key(|(_, _, m)| m.1);
                if let Some((r, (base, reference), (offset, matched, agreeing))) = best {
                    let total = base.saturating_add(offset);
                    placed[f] = Some((total, reference));
                    progress = true;
                    if total.abs() >= MIN_OFFSET_NS || reference != 0 {
                        out.push(ClockOffset {
                            file: f,
                            reference,
                            offset_ns: total,
                            measured_against: r,
                            matched,
                            agreeing,
                        });
                    }
                }
            }
            if progress {
                continue;
            }
            // The rest share nothing with those placed: the first of them
            // becomes the clock of those that share messages with it.
            match (1..n).find(|&f| placed[f].is_none()) {
                Some(f) => placed[f] = Some((0, f)),
                None => break,
            }
        }
        out.sort_by_key(|o| o.file);
        unmeasured.extend((1..n).filter(|&f| placed[f].is_some_and(|(_, r)| r != 0)));
        (out, unmeasured)
    }

    /// Capture `f`'s clock against capture `r`'s: the offset, the messages
    /// matched and those agreeing; `None` unless two or more, and half of
    /// those matched, agree. A client message arrives at the far end the path's
    /// delay later, a reply that much earlier: with both, the offset is
    /// halfway between the medians of each (the delay cancels); with one
    /// kind only, the median of those.
    fn measure(&self, f: usize, r: usize) -> Option<(i64, usize, usize)> {
        let (a, b) = (&self.files[f].seen, &self.files[r].seen);
        let mut requests = Vec::new();
        let mut replies = Vec::new();
        for (k, x) in a {
            let (Some(x), Some(Some(y))) = (x, b.get(k)) else {
                continue;
            };
            for (t, u) in pairs(x, y) {
                let d = t.saturating_sub(u);
                if k.op == Op::BootRequest {
                    requests.push(d);
                } else {
                    replies.push(d);
                }
            }
        }
        let matched = requests.len() + replies.len();
        if matched < 2 {
            return None;
        }
        let (q, p) = (median(&mut requests), median(&mut replies));
        let offset = match (q, p) {
            (Some(q), Some(p)) => q + (p - q) / 2,
            (Some(m), None) | (None, Some(m)) if m.abs() >= MIN_ONE_KIND_OFFSET_NS => m,
            // Under a second from one kind: the clocks agree as far as it
            // can tell (the rest may be the path's delay).
            (Some(_), None) | (None, Some(_)) => 0,
            (None, None) => return None,
        };
        // Each kind against its own median: they sit the path's delay on
        // either side of the offset.
        let near = |d: &[i64], m: Option<i64>| {
            m.map_or(0, |m| {
                d.iter()
                    .filter(|x| x.saturating_sub(m).unsigned_abs() <= AGREE_NS.unsigned_abs())
                    .count()
            })
        };
        let agreeing = near(&requests, q) + near(&replies, p);
        (agreeing >= 2 && 2 * agreeing >= matched).then_some((offset, matched, agreeing))
    }
}

/// A second look at one capture ([`Samples::extend`]).
pub struct Extension<'a> {
    samples: &'a mut Samples,
    big: usize,
    small: Vec<usize>,
    /// Messages of `big` read so far, counted as [`Samples::add`] counts.
    seen: usize,
}

impl Extension<'_> {
    pub fn add(&mut self, o: &Obs) {
        if o.unreachable().is_some() || o.is_lease_query() {
            return;
        }
        self.seen += 1;
        let Some(big) = self.samples.files.get(self.big) else {
            return;
        };
        // The first ones are in its sample already.
        if self.seen <= big.taken {
            return;
        }
        let key = Key::of(o);
        let known = self
            .small
            .iter()
            .filter_map(|&f| self.samples.files.get(f))
            .any(|s| s.seen.contains_key(&key));
        if known {
            self.samples.files[self.big].note(o);
        }
    }
}

/// The lower median (a value seen), or `None` for none.
fn median(d: &mut [i64]) -> Option<i64> {
    if d.is_empty() {
        return None;
    }
    d.sort_unstable();
    Some(d[(d.len() - 1) / 2])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::obs::FrameRef;
    use capture::Timestamp;
    use wire::dhcp::{code, Message};

    const S: i64 = 1_000_000_000;

    fn obs(file: u16, ts: i64, op: Op, kind: MessageType, xid: u32, secs: u16) -> Obs {
        let mut m = Message::new(op, xid, &[2, 0, 0, 0, 0, 1]);
        m.secs = secs;
        m.set_option(code::DHCP_MESSAGE_TYPE, vec![u8::from(kind)]);
        if op == Op::BootReply {
            m.yiaddr = Ipv4Addr::new(10, 0, 0, 100);
            m.set_option(code::SERVER_IDENTIFIER, vec![10, 0, 0, 1]);
        }
        let payload = m.encode(300);
        let (src, dst) = match op {
            Op::BootRequest => ((Ipv4Addr::UNSPECIFIED, 68), (Ipv4Addr::BROADCAST, 67)),
            _ => ((Ipv4Addr::new(10, 0, 0, 1), 67), (Ipv4Addr::BROADCAST, 68)),
        };
        let frame = wire::frame::UdpFrame::new(src, dst, &payload).ethernet_frame();
        let d = wire::packet::decode(wire::LinkType::Ethernet, &frame, frame.len())
            .unwrap()
            .unwrap();
        Obs::new(FrameRef { file, frame: 1 }, Timestamp(ts), &d, None).unwrap()
    }

    /// A DORA seen by the client at `t` and by the server `skew` later on
    /// its own clock, with the path's delay `delay` each way.
    fn dora(s: &mut Samples, t: i64, xid: u32, skew: i64, delay: i64) {
        use MessageType::*;
        let steps = [
            (Op::BootRequest, Discover, 0),
            (Op::BootReply, Offer, S / 100),
            (Op::BootRequest, Request, S / 50),
            (Op::BootReply, Ack, S / 50 + S / 100),
        ];
        for (op, kind, at) in steps {
            let (client, server) = if op == Op::BootRequest {
                (t + at, t + at + delay + skew)
            } else {
                (t + at + delay, t + at + skew)
            };
            s.add(0, &obs(0, client, op, kind, xid, 0));
            s.add(1, &obs(1, server, op, kind, xid, 0));
        }
    }

    #[test]
    fn the_clocks_offset_is_found_whatever_the_delay() {
        for skew in [40 * S, -3 * S, S / 5] {
            let mut s = Samples::new(2);
            for i in 0..5 {
                dora(&mut s, 100 * S + i * S, 0x100 + i as u32, skew, S / 200);
            }
            let o = s.offsets();
            assert_eq!(o.len(), 1, "{skew}");
            // The delay cancels out.
            assert_eq!(o[0].offset_ns, skew, "{o:?}");
            assert_eq!((o[0].file, o[0].reference, o[0].matched), (1, 0, 20));
        }
    }

    /// A long path (a WAN relay, 80 ms each way) does not hide the clocks'
    /// offset; a one-way delay alone, with client messages only, is no
    /// offset (the clocks agree as far as it tells); an offset of seconds
    /// from one kind alone is one.
    #[test]
    fn long_paths_and_one_kind_of_message() {
        let mut s = Samples::new(2);
        for i in 0..5 {
            dora(
                &mut s,
                100 * S + i * S,
                0x200 + i as u32,
                40 * S,
                80_000_000,
            );
        }
        let o = s.offsets();
        assert_eq!(
            (o.len(), o[0].offset_ns, o[0].agreeing),
            (1, 40 * S, 20),
            "{o:?}"
        );
        for (skew, found) in [(0, false), (3 * S, true)] {
            let mut s = Samples::new(2);
            for i in 0..5u16 {
                let t = 100 * S + i64::from(i) * S;
                s.add(0, &obs(0, t, Op::BootRequest, MessageType::Discover, 7, i));
                s.add(
                    1,
                    &obs(
                        1,
                        t + 150_000_000 + skew,
                        Op::BootRequest,
                        MessageType::Discover,
                        7,
                        i,
                    ),
                );
            }
            assert_eq!(s.offsets().len(), usize::from(found), "{skew}");
        }
    }

    /// A short capture from the middle of a long one: nothing in common
    /// with the long one's first messages, found on a second look at it.
    #[test]
    fn a_short_capture_in_a_long_one_is_found_on_a_second_look() {
        let all: Vec<(i64, u32)> = (0..6000).map(|i| (i64::from(i) * S, 0x1000 + i)).collect();
        let long = |s: &mut Samples| {
            for &(t, xid) in &all {
                if !s.add(
                    0,
                    &obs(0, t, Op::BootRequest, MessageType::Discover, xid, 0),
                ) {
                    break;
                }
            }
        };
        let mut s = Samples::new(2);
        long(&mut s);
        // The short one: 10 of the long one's last messages, 40 s ahead.
        for &(t, xid) in &all[5990..] {
            s.add(
                1,
                &obs(
                    1,
                    t + 40 * S + 1000,
                    Op::BootRequest,
                    MessageType::Discover,
                    xid,
                    0,
                ),
            );
        }
        let (o, unmeasured) = s.measured();
        assert_eq!((o.len(), unmeasured), (0, vec![1]));
        let mut e = s.extend(0, vec![1]);
        for &(t, xid) in &all {
            e.add(&obs(0, t, Op::BootRequest, MessageType::Discover, xid, 0));
        }
        let (o, unmeasured) = s.measured();
        assert!(unmeasured.is_empty());
        assert_eq!(
            (o[0].file, o[0].offset_ns, o[0].matched),
            (1, 40 * S + 1000, 10)
        );
    }

    #[test]
    fn small_offsets_and_unmatched_captures_are_left_alone() {
        // Delay only.
        let mut s = Samples::new(2);
        dora(&mut s, 100 * S, 1, 0, S / 100);
        assert_eq!(s.offsets(), []);
        // Nothing in common: another client in each.
        let mut s = Samples::new(2);
        s.add(
            0,
            &obs(0, 5 * S, Op::BootRequest, MessageType::Discover, 1, 0),
        );
        s.add(
            1,
            &obs(1, 9 * S, Op::BootRequest, MessageType::Discover, 2, 0),
        );
        assert_eq!(s.offsets(), []);
    }

    /// Retransmissions with `secs` stuck at 0 (PXE ROMs) are one message to
    /// the key: both captures hold each of them, so they match in order.
    /// When one capture holds fewer, which is which cannot be told.
    #[test]
    fn retransmissions_with_secs_stuck_match_in_order() {
        for (in_second, found) in [(3, true), (2, false)] {
            let mut s = Samples::new(2);
            for (i, t) in [0, 4 * S, 12 * S].into_iter().enumerate() {
                s.add(0, &obs(0, t, Op::BootRequest, MessageType::Discover, 1, 0));
                if i < in_second {
                    let o = obs(1, t + 30 * S, Op::BootRequest, MessageType::Discover, 1, 0);
                    s.add(1, &o);
                }
            }
            let o = s.offsets();
            assert_eq!(o.len(), usize::from(found), "{in_second}: {o:?}");
            if found {
                assert_eq!(
                    (o[0].offset_ns, o[0].matched, o[0].agreeing),
                    (30 * S, 3, 3)
                );
            }
        }
    }

    /// A capture at a relay (`tcpdump -i any`) holds each message twice,
    /// on the client's leg and relayed (giaddr set, one hop): matched hop by
    /// hop, against the client's capture and the server's.
    #[test]
    fn a_capture_at_a_relay_holds_both_legs() {
        let relayed = |mut o: Obs| {
            o.giaddr = Ipv4Addr::new(10, 1, 0, 1);
            o.hops = 1;
            o
        };
        let mut s = Samples::new(3);
        for i in 0..4u32 {
            let t = 100 * S + i64::from(i) * S;
            let discover = |file, ts| {
                obs(
                    file,
                    ts,
                    Op::BootRequest,
                    MessageType::Discover,
                    0x10 + i,
                    0,
                )
            };
            s.add(0, &discover(0, t));
            // The relay's clock runs 5 s ahead; the server's agrees with the client's.
            s.add(1, &discover(1, t + 5 * S + 1000));
            s.add(1, &relayed(discover(1, t + 5 * S + 2000)));
            s.add(2, &relayed(discover(2, t + 3000)));
        }
        let (o, unmeasured) = s.measured();
        assert!(unmeasured.is_empty(), "{unmeasured:?}");
        assert_eq!(o.len(), 1, "{o:?}");
        assert_eq!(
            (o[0].file, o[0].offset_ns / 1_000_000, o[0].matched),
            (1, 5000, 4)
        );
    }

    /// A first capture that shares nothing with the others (another
    /// network's): the others are still placed against each other, on the
    /// clock of the first of them; neither is measured against the first.
    #[test]
    fn captures_sharing_nothing_with_the_first_are_placed_among_themselves() {
        let mut s = Samples::new(3);
        s.add(
            0,
            &obs(0, 5 * S, Op::BootRequest, MessageType::Discover, 0x99, 0),
        );
        let mut t = Samples::new(2);
        for i in 0..5 {
            dora(&mut t, 100 * S + i * S, 0x300 + i as u32, 30 * S, S / 200);
        }
        s.files.truncate(1);
        s.files.extend(t.files);
        let (o, unmeasured) = s.measured();
        assert_eq!(unmeasured, [1, 2]);
        assert_eq!(o.len(), 1, "{o:?}");
        assert_eq!(
            (
                o[0].file,
                o[0].reference,
                o[0].measured_against,
                o[0].offset_ns
            ),
            (2, 1, 1, 30 * S)
        );
    }

    #[test]
    fn a_third_capture_is_placed_through_the_second() {
        let mut s = Samples::new(3);
        // 0 and 1 share client 1; 1 and 2 share client 2.
        dora(&mut s, 100 * S, 1, 5 * S, 0);
        let mut t = Samples::new(2);
        dora(&mut t, 200 * S, 2, 7 * S, 0);
        let moved = |v: &Sightings| {
            v.as_ref()
                .map(|v| v.iter().map(|(h, t)| (*h, t + 5 * S)).collect())
        };
        for (k, v) in &t.files[0].seen {
            s.files[1].seen.insert(*k, moved(v));
        }
        for (k, v) in &t.files[1].seen {
            s.files[2].seen.insert(*k, moved(v));
        }
        let o = s.offsets();
        assert_eq!(o.len(), 2, "{o:?}");
        assert_eq!(
            (
                o[1].file,
                o[1].reference,
                o[1].measured_against,
                o[1].offset_ns
            ),
            (2, 0, 1, 12 * S)
        );
    }

    /// Found in review: a server host capturing with `tcpdump -i any` on a bridge
    /// (virbr0 and its vnet port) holds every frame twice, at the same hop,
    /// microseconds apart; the client's capture holds each once. One frame
    /// captured twice is one sighting: the clocks are measured.
    #[test]
    fn frame_captured_twice_at_one_hop_is_one_sighting() {
        let mut s = Samples::new(2);
        for i in 0..5u32 {
            let t = 100 * S + i64::from(i) * S;
            s.add(
                0,
                &obs(0, t, Op::BootRequest, MessageType::Discover, 0x40 + i, 0),
            );
            s.add(
                0,
                &obs(
                    0,
                    t + S / 100,
                    Op::BootReply,
                    MessageType::Offer,
                    0x40 + i,
                    0,
                ),
            );
            for dup in [0, 20_000] {
                s.add(
                    1,
                    &obs(
                        1,
                        t + 30 * S + dup,
                        Op::BootRequest,
                        MessageType::Discover,
                        0x40 + i,
                        0,
                    ),
                );
                s.add(
                    1,
                    &obs(
                        1,
                        t + 30 * S + S / 100 + dup,
                        Op::BootReply,
                        MessageType::Offer,
                        0x40 + i,
                        0,
                    ),
                );
            }
        }
        let (o, unmeasured) = s.measured();
        assert!(unmeasured.is_empty(), "{unmeasured:?}");
        assert_eq!(o.len(), 1, "{o:?}");
    }
}
