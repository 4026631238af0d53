//! The lease table: which address is whose, in what state, until when.
//!
//! Times are milliseconds on the caller's clock (monotonic in `serve`, made
//! up in tests). Memory only.

use std::collections::{BTreeMap, HashMap};
use std::net::Ipv4Addr;

use wire::HwAddr;

use crate::config::Subnet;

/// Who a client is: its client identifier (option 61) if it sent one, else
/// its hardware type and address (RFC 2131 §4.2).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClientKey(pub Vec<u8>);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Offered, not yet requested.
    Offered,
    Bound,
    /// The client said the address is in use (DHCPDECLINE).
    Declined,
    /// The client gave it back (DHCPRELEASE).
    Released,
}

impl State {
    pub fn name(self) -> &'static str {
        match self {
            State::Offered => "offered",
            State::Bound => "bound",
            State::Declined => "declined",
            State::Released => "released",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub address: Ipv4Addr,
    pub client: ClientKey,
    pub chaddr: HwAddr,
    pub state: State,
    pub expires_ms: u64,
}

impl Lease {
    /// Whether it still keeps the address from others at `now_ms`.
    pub fn holds(&self, now_ms: u64) -> bool {
        self.state != State::Released && self.expires_ms > now_ms
    }
}

#[derive(Debug, Clone, Default)]
pub struct Leases {
    by_address: BTreeMap<Ipv4Addr, Lease>,
    by_client: HashMap<ClientKey, Ipv4Addr>,
}

impl Leases {
    pub fn get(&self, a: Ipv4Addr) -> Option<&Lease> {
        self.by_address.get(&a)
    }

    /// The client's lease (in any state), if it has one.
    pub fn of(&self, client: &ClientKey) -> Option<&Lease> {
        self.by_client
            .get(client)
            .and_then(|a| self.by_address.get(a))
            .filter(|l| &l.client == client)
    }

    /// Who else holds `a` at `now_ms`, if anyone.
    pub fn holder_other_than(
        &self,
        a: Ipv4Addr,
        client: &ClientKey,
        now_ms: u64,
    ) -> Option<&Lease> {
        self.get(a)
            .filter(|l| &l.client != client && l.holds(now_ms))
    }

    /// The first address of `subnet`'s ranges that nobody holds at `now_ms`,
    /// preferring those never leased (a released or expired address may
    /// still be in use by a client that did not say goodbye); never one of
    /// `avoid` (addresses hosts use: the relay's, the server's).
    pub fn free_in(&self, subnet: &Subnet, now_ms: u64, avoid: &[Ipv4Addr]) -> Option<Ipv4Addr> {
        let mut reusable = None;
        for (lo, hi) in &subnet.ranges {
            for a in u32::from(*lo)..=u32::from(*hi) {
                let a = Ipv4Addr::from(a);
                if subnet.reservation(a).is_some() || avoid.contains(&a) {
                    continue;
                }
                match self.by_address.get(&a) {
                    None => return Some(a),
                    Some(l) if !l.holds(now_ms) => {
                        reusable.get_or_insert(a);
                    }
                    Some(_) => {}
                }
            }
        }
        reusable
    }

    /// Records `a` as the client's, in `state`, until `expires_ms`; the
    /// client's other lease, if any, is given up.
    pub fn set(
        &mut self,
        a: Ipv4Addr,
        client: &ClientKey,
        chaddr: HwAddr,
        state: State,
        expires_ms: u64,
    ) {
        if let Some(old) = self.by_client.get(client).copied() {
            if old != a
                && self
                    .by_address
                    .get(&old)
                    .is_some_and(|l| &l.client == client)
            {
                // A declined address stays out of use under its old client.
                if self.by_address[&old].state != State::Declined {
                    self.by_address.remove(&old);
                }
            }
        }
        if let Some(prev) = self.by_address.get(&a) {
            if &prev.client != client && self.by_client.get(&prev.client) == Some(&a) {
                self.by_client.remove(&prev.client.clone());
            }
        }
        self.by_client.insert(client.clone(), a);
        self.by_address.insert(
            a,
            Lease {
                address: a,
                client: client.clone(),
                chaddr,
                state,
                expires_ms,
            },
        );
    }

    /// Keeps only the leases for which `keep` says so.
    pub fn retain(&mut self, mut keep: impl FnMut(&Lease) -> bool) {
        self.by_address.retain(|_, l| keep(l));
        let by_address = &self.by_address;
        self.by_client
            .retain(|c, a| by_address.get(a).is_some_and(|l| &l.client == c));
    }

    /// Every lease, by address.
    pub fn iter(&self) -> impl Iterator<Item = &Lease> {
        self.by_address.values()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(b: u8) -> ClientKey {
        ClientKey(vec![1, 2, 0, 0, 0, 0, b])
    }

    #[test]
    fn free_addresses_prefer_never_leased_and_skip_held_ones() {
        let s = Subnet::parse("10.0.0.0/24,range=10.0.0.10-10.0.0.12").unwrap();
        let mut l = Leases::default();
        let hw = HwAddr::new(&[2, 0, 0, 0, 0, 1]);
        assert_eq!(l.free_in(&s, 0, &[]), Some(Ipv4Addr::new(10, 0, 0, 10)));
        l.set(Ipv4Addr::new(10, 0, 0, 10), &key(1), hw, State::Bound, 1000);
        l.set(
            Ipv4Addr::new(10, 0, 0, 11),
            &key(2),
            hw,
            State::Released,
            1000,
        );
        assert_eq!(l.free_in(&s, 0, &[]), Some(Ipv4Addr::new(10, 0, 0, 12)));
        l.set(
            Ipv4Addr::new(10, 0, 0, 12),
            &key(3),
            hw,
            State::Offered,
            500,
        );
        // Only the released one is left; at 600 the offer has lapsed too.
        assert_eq!(l.free_in(&s, 0, &[]), Some(Ipv4Addr::new(10, 0, 0, 11)));
        assert_eq!(l.free_in(&s, 600, &[]), Some(Ipv4Addr::new(10, 0, 0, 11)));
        l.set(Ipv4Addr::new(10, 0, 0, 11), &key(4), hw, State::Bound, 2000);
        assert_eq!(l.free_in(&s, 600, &[]), Some(Ipv4Addr::new(10, 0, 0, 12)));
        l.set(Ipv4Addr::new(10, 0, 0, 12), &key(5), hw, State::Bound, 2000);
        assert_eq!(l.free_in(&s, 600, &[]), None);
        // Key 2 lost its address to key 4.
        assert!(l.of(&key(2)).is_none());
        assert_eq!(
            l.holder_other_than(Ipv4Addr::new(10, 0, 0, 10), &key(9), 999)
                .map(|l| &l.client),
            Some(&key(1))
        );
        assert!(l
            .holder_other_than(Ipv4Addr::new(10, 0, 0, 10), &key(9), 1000)
            .is_none());
    }

    #[test]
    fn a_client_moving_to_another_address_frees_the_old_one_unless_declined() {
        let mut l = Leases::default();
        let hw = HwAddr::new(&[2, 0, 0, 0, 0, 1]);
        let (a, b, c) = (
            Ipv4Addr::new(10, 0, 0, 1),
            Ipv4Addr::new(10, 0, 0, 2),
            Ipv4Addr::new(10, 0, 0, 3),
        );
        l.set(a, &key(1), hw, State::Offered, 10);
        l.set(b, &key(1), hw, State::Bound, 10);
        assert!(l.get(a).is_none());
        l.set(b, &key(1), hw, State::Declined, 10);
        l.set(c, &key(1), hw, State::Offered, 10);
        assert_eq!(l.get(b).map(|l| l.state), Some(State::Declined));
        assert_eq!(l.of(&key(1)).map(|l| l.address), Some(c));
    }
}
