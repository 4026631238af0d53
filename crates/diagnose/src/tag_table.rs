//! The engine's indexes of records by key (clients by `chaddr`, open
//! transactions by `chaddr` and xid): open addressing with linear probing,
//! 8 bytes a slot, at most half full. The caller keeps the records; the
//! table only says which record numbers may hold a key.
//!
//! A general hash map would do; this one is smaller and can be asked ahead
//! for the memory a lookup will read. Its slots are a third of the size of a
//! map entry holding a 17-byte hardware address, so more of it stays in
//! cache: 250,000 clients take 4 MiB against 12.6 MiB (peak RSS of
//! `diagnose` on the bench's 1m.pcap: 87.5 → 78.9 MB, and about 3 % less
//! time). And since a key's first slot follows from the key alone,
//! [`Engine::push_all`](crate::Engine::push_all) asks for the next packet's
//! slots while it handles this one.
//!
//! A slot holds the upper 32 bits of the key's hash (its *tag*) and the
//! record's number + 1; 0 is empty. The slot a key starts at is its tag's top
//! bits, so the table grows, and closes the gap a removal leaves, without
//! reading the records. A key is found when the tag matches and the caller
//! says the record has the key.
//!
//! Contract: a record number is in the table at most once, under the tag of
//! its key, which does not change while it is there; record numbers are
//! below 2^32 − 1, and there are at most 2^31 of them (the table panics
//! beyond, at 16 GiB of slots); [`TagTable::prefetch`] is only a hint.

use std::hash::{Hash, Hasher};

/// The smallest table, in slots (a power of two).
const MIN_SLOTS: usize = 1024;

#[derive(Debug, Default)]
pub(crate) struct TagTable {
    slots: Vec<u64>,
    /// log2 of `slots.len()` (0 while there are no slots).
    bits: u32,
    len: usize,
}

impl TagTable {
    /// The record with tag `tag` for which `is_key` holds, if any.
    pub fn find(&self, tag: u32, is_key: impl Fn(u32) -> bool) -> Option<u32> {
        if self.len == 0 {
            return None;
        }
        let mask = self.slots.len() - 1;
        let mut at = self.start(tag);
        loop {
            let s = self.slots[at];
            if s == 0 {
                return None;
            }
            let i = (s as u32).wrapping_sub(1);
            if (s >> 32) as u32 == tag && is_key(i) {
                return Some(i);
            }
            at = (at + 1) & mask;
        }
    }

    /// Adds record `i` under `tag` (it must not be in the table).
    pub fn insert(&mut self, tag: u32, i: u32) {
        assert!(i < u32::MAX, "record numbers are below 2^32 - 1");
        if (self.len + 1) * 2 > self.slots.len() {
            self.grow();
        }
        self.put(tag, i);
        self.len += 1;
    }

    /// Removes record `i`, filed under `tag`, and moves the slots after it
    /// back into the gap where their search passes it (so that no search
    /// stops short of its key). Returns whether it was there.
    pub fn remove(&mut self, tag: u32, i: u32) -> bool {
        if self.len == 0 {
            return false;
        }
        let mask = self.slots.len() - 1;
        let wanted = slot(tag, i);
        let mut hole = self.start(tag);
        loop {
            match self.slots[hole] {
                s if s == wanted => break,
                0 => return false,
                _ => hole = (hole + 1) & mask,
            }
        }
        let mut at = hole;
        loop {
            at = (at + 1) & mask;
            let s = self.slots[at];
            if s == 0 {
                break;
            }
            // `s` may fill the hole if its search starts at or before it:
            // its start is at least as far back from `at` as the hole is.
            let start = self.start((s >> 32) as u32);
            if (at.wrapping_sub(start) & mask) >= (at.wrapping_sub(hole) & mask) {
                self.slots[hole] = s;
                hole = at;
            }
        }
        self.slots[hole] = 0;
        self.len -= 1;
        true
    }

    /// Asks the processor for the slot where the search for `tag` starts
    /// (a hint; it changes nothing).
    pub fn prefetch(&self, tag: u32) {
        if self.bits > 0 {
            crate::hint::prefetch(&self.slots[self.start(tag)]);
        }
    }

    /// Empties the table (keeping its size).
    pub fn clear(&mut self) {
        self.slots.fill(0);
        self.len = 0;
    }

    #[cfg(test)]
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    fn start(&self, tag: u32) -> usize {
        // `bits` is at least 10 once there are slots.
        (tag >> (32 - self.bits)) as usize
    }

    /// Puts a slot for record `i` (not in the table) at its first free place.
    fn put(&mut self, tag: u32, i: u32) {
        let mask = self.slots.len() - 1;
        let mut at = self.start(tag);
        while self.slots[at] != 0 {
            at = (at + 1) & mask;
        }
        self.slots[at] = slot(tag, i);
    }

    /// Doubles the table (the first time, makes it).
    fn grow(&mut self) {
        let n = (self.slots.len() * 2).max(MIN_SLOTS);
        assert!(n <= 1 << 32, "at most 2^31 records");
        let old = std::mem::replace(&mut self.slots, vec![0; n]);
        self.bits = n.trailing_zeros();
        for s in old.into_iter().filter(|&s| s != 0) {
            self.put((s >> 32) as u32, (s as u32) - 1);
        }
    }
}

fn slot(tag: u32, i: u32) -> u64 {
    (u64::from(tag) << 32) | u64::from(i + 1)
}

/// The upper half of a well-mixed 64-bit hash of `key`.
pub(crate) fn tag(key: &impl Hash) -> u32 {
    let mut h = Mix(0);
    key.hash(&mut h);
    (h.finish() >> 32) as u32
}

/// A hasher for the tables: every input word multiplied in, then
/// MurmurHash3's finaliser, so that the top bits depend on every bit of the
/// key (a MAC's last byte varies most, and a plain multiplicative hash
/// leaves it out of the top bits).
struct Mix(u64);

impl Hasher for Mix {
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.write_u64(u64::from(*b));
        }
    }

    fn write_u32(&mut self, v: u32) {
        self.write_u64(u64::from(v));
    }

    fn write_u64(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(23) ^ v).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }

    fn finish(&self) -> u64 {
        let mut x = self.0;
        x ^= x >> 33;
        x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
        x ^= x >> 33;
        x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        x ^ (x >> 33)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Keys whose tags share their top bits, so that they start at the same
    /// slot and their runs wrap around the table's end.
    fn crowded(n: u32) -> u32 {
        0xffc0_0000 | (n << 4)
    }

    #[test]
    fn removals_leave_every_other_key_findable() {
        // A model: the records in the table, with their keys. Keys are
        // spread or crowded; records come and go in a fixed pseudo-random
        // order, across growth.
        let mut table = TagTable::default();
        let mut live: Vec<(u32, u32)> = Vec::new();
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        for step in 0..30_000u32 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            if x % 3 == 0 && !live.is_empty() {
                let (i, key) = live.swap_remove((x >> 8) as usize % live.len());
                assert!(table.remove(key, i));
                assert!(!table.remove(key, i), "removed twice");
                assert_eq!(table.find(key, |r| r == i), None);
            } else {
                let key = if step % 8 == 0 {
                    crowded(step % 64)
                } else {
                    (x >> 32) as u32
                };
                // Record numbers are unique; tags may repeat (the caller
                // tells records apart).
                table.insert(key, step);
                live.push((step, key));
            }
            if step % 499 == 0 || step > 29_950 {
                for &(i, key) in &live {
                    assert_eq!(
                        table.find(key, |r| r == i),
                        Some(i),
                        "step {step}: {i} lost"
                    );
                }
            }
        }
        assert_eq!(table.len, live.len());
        assert!(table.len > 5_000, "grew past its first size: {}", table.len);
        table.clear();
        assert_eq!(table.find(crowded(1), |_| true), None);
        assert!(!table.remove(crowded(1), 0));
        assert!(
            !TagTable::default().remove(7, 0),
            "an empty table has nothing"
        );
    }

    #[test]
    fn tags_spread_addresses_that_differ_in_their_last_byte() {
        // 256 MACs of one vendor that differ only in the last byte start at
        // nearly as many places in a table of 1024 slots.
        let mut starts: Vec<u32> = (0..=255u8)
            .map(|b| tag(&wire::HwAddr::new(&[0x00, 0x90, 0xf5, 0xd9, 0x08, b])) >> 22)
            .collect();
        starts.sort_unstable();
        starts.dedup();
        assert!(starts.len() > 200, "{} distinct starts", starts.len());
    }
}
