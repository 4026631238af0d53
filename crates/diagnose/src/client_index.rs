//! The engine's index of client records by `chaddr`, a [`TagTable`] whose
//! record numbers are places in the engine's `Vec<Client>`.

use wire::HwAddr;

use crate::client::Client;
use crate::tag_table::{tag, TagTable};

#[derive(Debug, Default)]
pub(crate) struct ClientIndex {
    table: TagTable,
}

impl ClientIndex {
    /// The record of `chaddr`, if there is one.
    pub fn get(&self, chaddr: &HwAddr, clients: &[Client]) -> Option<u32> {
        self.find(tag(chaddr), chaddr, clients)
    }

    /// [`ClientIndex::get`] with the tag of `chaddr` at hand.
    fn find(&self, tag: u32, chaddr: &HwAddr, clients: &[Client]) -> Option<u32> {
        self.table.find(tag, |i| {
            clients.get(i as usize).map(|c| &c.chaddr) == Some(chaddr)
        })
    }

    /// The record of `chaddr`, made by `new` and pushed onto `clients` if
    /// there is none.
    pub fn get_or_insert(
        &mut self,
        chaddr: &HwAddr,
        clients: &mut Vec<Client>,
        new: impl FnOnce() -> Client,
    ) -> u32 {
        let tag = tag(chaddr);
        if let Some(i) = self.find(tag, chaddr, clients) {
            return i;
        }
        let i = u32::try_from(clients.len()).expect("fewer than 2^32 clients");
        clients.push(new());
        self.table.insert(tag, i);
        i
    }

    /// Asks the processor for the slot where the search for `chaddr`
    /// starts (a hint; it changes nothing).
    pub fn prefetch(&self, chaddr: &HwAddr) {
        self.table.prefetch(tag(chaddr));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use capture::Timestamp;

    fn mac(n: u32) -> HwAddr {
        let b = n.to_be_bytes();
        HwAddr::new(&[0x00, 0x90, b[0], b[1], b[2], b[3]])
    }

    #[test]
    fn finds_what_it_was_given_and_nothing_else_across_growth() {
        let mut index = ClientIndex::default();
        let mut clients = Vec::new();
        assert_eq!(index.get(&mac(0), &clients), None);
        index.prefetch(&mac(0)); // a hint, harmless on an empty table
        for n in 0..100_000 {
            index.prefetch(&mac(n * 7));
            let i = index.get_or_insert(&mac(n * 7), &mut clients, || {
                Client::new(mac(n * 7), Timestamp(0))
            });
            assert_eq!(i, n);
        }
        assert_eq!(clients.len(), 100_000);
        assert!(index.table.capacity() >= 200_000 && index.table.capacity() <= 262_144);
        for n in 0..100_000 {
            assert_eq!(index.get(&mac(n * 7), &clients), Some(n));
            // Asking again finds the record, and makes none.
            let again = index.get_or_insert(&mac(n * 7), &mut clients, || unreachable!());
            assert_eq!(again, n);
            assert_eq!(index.get(&mac(n * 7 + 1), &clients), None);
        }
        // Other lengths are other addresses.
        let long = HwAddr::new(&[0x00, 0x90, 0, 0, 0, 7, 0]);
        assert_eq!(index.get(&long, &clients), None);
        assert_eq!(clients.len(), 100_000);
    }
}
