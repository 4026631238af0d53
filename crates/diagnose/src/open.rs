//! The engine's open transactions: records in a slab, found by `(chaddr,
//! xid)` through a [`TagTable`], with each one's deadline in a dense array
//! of its own.
//!
//! A map holding the transactions themselves would do; this layout is for the
//! once-a-second sweep, which asks every open transaction whether it is over.
//! Reading that answer from 8-byte deadlines side by side touches a few
//! hundred cache lines for a few thousand transactions, where the records
//! (long out of cache by then: a second of a busy capture streams megabytes
//! through it) would cost a miss each. The index's slots are 8 bytes, and
//! the slot a key's search starts at can be asked for ahead
//! ([`Open::prefetch`]).
//!
//! Contract:
//! - A transaction is over at `now` when `now` is past its deadline: its
//!   last packet plus the idle time (longer for a renewal that no server
//!   answered yet), or, once it reached its end, that end plus the grace
//!   period, whichever comes first.
//! - Deadlines stay right because an open transaction changes only through
//!   [`Open::update`], which takes its deadline again ([`Open::at`] and
//!   [`Open::get`] lend it read-only); its key never changes.
//! - An open transaction is named by its *entry*, a number valid until it
//!   is taken; [`Open::over`] lists entries as they are when it is called.

use capture::Timestamp;
use wire::HwAddr;

use crate::hint::prefetch_value;
use crate::tag_table::{tag, TagTable};
use crate::transaction::Transaction;

/// An open transaction's key: its client's hardware address and its xid.
pub(crate) type Key = (HwAddr, u32);

/// A transaction that is over, as [`Open::over`] lists it: its first
/// packet's time, its key, and its entry.
pub(crate) type Due = (Timestamp, HwAddr, u32, u32);

/// The deadline of a free entry: never over.
const NEVER: i64 = i64::MAX;

#[derive(Debug)]
pub(crate) struct Open {
    index: TagTable,
    entries: Vec<Option<Transaction>>,
    /// `deadlines[i]` is entry `i`'s deadline in nanoseconds ([`NEVER`] when free).
    deadlines: Vec<i64>,
    free: Vec<u32>,
    idle_ns: i64,
    grace_ns: i64,
}

impl Open {
    pub fn new(idle_ns: i64, grace_ns: i64) -> Open {
        Open {
            index: TagTable::default(),
            entries: Vec::new(),
            deadlines: Vec::new(),
            free: Vec::new(),
            idle_ns,
            grace_ns,
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len() - self.free.len()
    }

    /// The entry of the transaction `key`, if it is open.
    pub fn find(&self, key: &Key) -> Option<u32> {
        self.index.find(tag(key), |i| {
            self.at(i)
                .is_some_and(|t| t.xid == key.1 && t.chaddr == key.0)
        })
    }

    /// Asks the processor for the index slot where the search for `key`
    /// starts (a hint; it changes nothing).
    pub fn prefetch(&self, key: &Key) {
        self.index.prefetch(tag(key));
    }

    pub fn get(&self, key: &Key) -> Option<&Transaction> {
        self.find(key).and_then(|i| self.at(i))
    }

    /// The transaction of entry `i`.
    pub fn at(&self, i: u32) -> Option<&Transaction> {
        self.entries.get(i as usize)?.as_ref()
    }

    /// Changes the transaction of entry `i` with `f`, then takes its
    /// deadline again (`f` may add packets or end it).
    pub fn update<R>(&mut self, i: u32, f: impl FnOnce(&mut Transaction) -> R) -> Option<R> {
        let t = self.entries.get_mut(i as usize)?.as_mut()?;
        let key = (t.chaddr, t.xid);
        let r = f(t);
        debug_assert_eq!(key, (t.chaddr, t.xid), "an open transaction's key changed");
        self.deadlines[i as usize] = deadline(t, self.idle_ns, self.grace_ns);
        Some(r)
    }

    /// Opens `t` (whose key must not be open).
    pub fn insert(&mut self, t: Transaction) {
        let d = deadline(&t, self.idle_ns, self.grace_ns);
        let key = (t.chaddr, t.xid);
        debug_assert!(self.find(&key).is_none(), "{key:?} was open twice");
        let i = match self.free.pop() {
            Some(i) => {
                self.entries[i as usize] = Some(t);
                self.deadlines[i as usize] = d;
                i
            }
            None => {
                self.entries.push(Some(t));
                self.deadlines.push(d);
                u32::try_from(self.entries.len() - 1).expect("fewer than 2^32 open transactions")
            }
        };
        self.index.insert(tag(&key), i);
    }

    pub fn remove(&mut self, key: &Key) -> Option<Transaction> {
        self.take(self.find(key)?)
    }

    /// Closes the transaction of entry `i`.
    pub fn take(&mut self, i: u32) -> Option<Transaction> {
        let t = self.entries.get_mut(i as usize)?.take()?;
        let indexed = self.index.remove(tag(&(t.chaddr, t.xid)), i);
        debug_assert!(indexed, "entry {i} was not in the index");
        self.deadlines[i as usize] = NEVER;
        self.free.push(i);
        Some(t)
    }

    /// Asks the processor for the record of entry `i` (a hint).
    pub fn prefetch_entry(&self, i: u32) {
        if let Some(e) = self.entries.get(i as usize) {
            prefetch_value(e);
        }
    }

    /// Puts in `over` (emptied first; the caller keeps it, so that a sweep
    /// a second allocates nothing) the transactions over at `now`, as
    /// `(first packet, chaddr, xid, entry)`, in that order (the order the
    /// engine closes them in, so that its output is the same from run to
    /// run). The entries are valid until the next change to the open
    /// transactions.
    pub fn over(&self, now: Timestamp, over: &mut Vec<Due>) {
        over.clear();
        over.extend(
            self.deadlines
                .iter()
                .enumerate()
                .filter(|&(_, &d)| now.0 > d)
                .filter_map(|(i, _)| Some((i as u32, self.entries[i].as_ref()?)))
                .map(|(i, t)| (t.first, t.chaddr, t.xid, i)),
        );
        // By time alone first (one number to compare instead of 33 bytes of
        // tuple), then any run of equal times by (chaddr, xid): the order of
        // the whole tuples, as keys are unique.
        over.sort_unstable_by_key(|d| d.0);
        for tied in over.chunk_by_mut(|a, b| a.0 == b.0) {
            if tied.len() > 1 {
                tied.sort_unstable();
            }
        }
    }

    /// Every open transaction, in no particular order; leaves none open.
    pub fn drain(&mut self) -> impl Iterator<Item = Transaction> + '_ {
        self.index.clear();
        self.deadlines.clear();
        self.free.clear();
        self.entries.drain(..).flatten()
    }
}

/// How many idle periods a renewal with no answer yet waits for its next
/// retry: RFC 2131 §4.4.5 spaces them by half the time left to T2, at
/// least 60 s (the first is 675 s for a one-hour lease), and dhclient backs
/// off to 2 minutes and more.
const RENEWAL_IDLE_FACTOR: i64 = 15;

/// When `t` is over: `idle_ns` after its last packet (15 times that for an
/// unanswered renewal), or `grace_ns` after its end if it reached one
/// sooner.
fn deadline(t: &Transaction, idle_ns: i64, grace_ns: i64) -> i64 {
    let idle_ns = if t.renewal_unanswered() {
        idle_ns.saturating_mul(RENEWAL_IDLE_FACTOR)
    } else {
        idle_ns
    };
    let idle = t.last.0.saturating_add(idle_ns);
    match t.done_at {
        Some(d) => idle.min(d.0.saturating_add(grace_ns)),
        None => idle,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::net::Ipv4Addr;

    use wire::dhcp::{code, Message, MessageType, Op};
    use wire::frame::UdpFrame;

    use crate::obs::{FrameRef, Obs};

    /// A transaction opened by a DISCOVER (encoded and decoded by the wire
    /// library) from 02:00:00:00:00:`mac` at `at_s` seconds.
    fn transaction(mac: u8, xid: u32, at_s: i64) -> Transaction {
        let mut m = Message::new(Op::BootRequest, xid, &[2, 0, 0, 0, 0, mac]);
        m.set_option(
            code::DHCP_MESSAGE_TYPE,
            vec![u8::from(MessageType::Discover)],
        );
        let payload = m.encode(300);
        let f = UdpFrame::new(
            (Ipv4Addr::UNSPECIFIED, 68),
            (Ipv4Addr::BROADCAST, 67),
            &payload,
        );
        let bytes = f.ethernet_frame();
        let d = wire::packet::decode(wire::LinkType::Ethernet, &bytes, bytes.len())
            .unwrap()
            .unwrap();
        let at = FrameRef { file: 0, frame: 1 };
        Transaction::new(Obs::new(at, Timestamp(at_s * 1_000_000_000), &d, None).unwrap())
    }

    /// What `open.over(now, …)` lists, given a list that holds a stale entry
    /// (which it must clear).
    fn over(open: &Open, now: Timestamp) -> Vec<Due> {
        let mut over = vec![(Timestamp(0), HwAddr::new(&[9]), 9, 9)];
        open.over(now, &mut over);
        over
    }

    #[test]
    fn a_transaction_is_over_after_its_deadline_and_not_at_it() {
        let mut open = Open::new(60_000_000_000, 2_000_000_000);
        open.insert(transaction(1, 7, 10));
        let s = |x: i64| Timestamp(x * 1_000_000_000);
        assert!(over(&open, s(70)).is_empty(), "exactly idle: not over yet");
        assert_eq!(over(&open, Timestamp(s(70).0 + 1)).len(), 1);
        // A packet at 50 s moves the deadline to 110 s.
        let i = open.find(&(HwAddr::new(&[2, 0, 0, 0, 0, 1]), 7)).unwrap();
        open.update(i, |t| t.last = s(50));
        assert!(
            over(&open, s(71)).is_empty(),
            "a later packet keeps it open"
        );
        assert!(over(&open, s(110)).is_empty());
        assert_eq!(over(&open, Timestamp(s(110).0 + 1)).len(), 1);
        // It reached its end at 12 s: over 2 s later, long before idling out.
        open.update(i, |t| t.done_at = Some(s(12)));
        assert!(over(&open, s(14)).is_empty());
        assert_eq!(over(&open, Timestamp(s(14).0 + 1)).len(), 1);
    }

    #[test]
    fn over_breaks_ties_on_time_by_chaddr_then_xid() {
        let mut open = Open::new(60_000_000_000, 2_000_000_000);
        // Times, macs and xids inserted out of order, with ties on time and,
        // within those, on chaddr.
        let opened = [
            (3, 50, 20),
            (1, 70, 20),
            (2, 90, 5),
            (3, 10, 20),
            (1, 30, 20),
            (2, 60, 20),
            (9, 40, 1),
        ];
        for (mac, xid, first) in opened {
            open.insert(transaction(mac, xid, first));
        }
        let mut want: Vec<Due> = open
            .entries
            .iter()
            .enumerate()
            .filter_map(|(i, t)| Some((t.as_ref()?, i as u32)))
            .map(|(t, i)| (t.first, t.chaddr, t.xid, i))
            .collect();
        want.sort_unstable();
        let got = over(&open, Timestamp(i64::MAX - 1));
        assert_eq!(got, want);
        let order: Vec<u32> = got.iter().map(|d| d.2).collect();
        assert_eq!(order, [40, 90, 30, 70, 60, 10, 50]);
    }

    #[test]
    fn entries_are_reused_and_over_lists_by_first_packet() {
        let mut open = Open::new(60_000_000_000, 2_000_000_000);
        for (mac, first) in [(1, 30), (2, 10), (3, 20)] {
            open.insert(transaction(mac, 100 + u32::from(mac), first));
        }
        let key2 = (HwAddr::new(&[2, 0, 0, 0, 0, 2]), 102);
        assert_eq!(open.remove(&key2).map(|t| t.xid), Some(102));
        assert!(open.get(&key2).is_none());
        assert_eq!(open.len(), 2);
        open.insert(transaction(4, 104, 5));
        assert_eq!(open.entries.len(), 3, "the freed entry was taken again");
        let due: Vec<u32> = over(&open, Timestamp(1_000_000_000_000))
            .iter()
            .map(|o| o.2)
            .collect();
        assert_eq!(due, [104, 103, 101]);
        let mut left: Vec<u32> = open.drain().map(|t| t.xid).collect();
        left.sort_unstable();
        assert_eq!(left, [101, 103, 104]);
        assert_eq!(open.len(), 0);
        assert!(over(&open, Timestamp(i64::MAX)).is_empty());
    }
}
