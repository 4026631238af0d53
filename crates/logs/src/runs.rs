//! What only several lines together say.
//!
//! A server that ACKs one client's REQUEST again and again is answering a
//! client that did not take the ACKs: a client that takes its ACK
//! configures the address and never asks again under the same xid. Lost on
//! the way (a switch, DHCP snooping, a vSwitch), or rejected by the client:
//! the server's log shows only the repeats. ISC dhcpd 4.4, Kea 2.2 and
//! dnsmasq 2.90 all log one ACK per retransmitted REQUEST (the lab's
//! `ack-lost` runs).

use std::collections::HashMap;

use wire::HwAddr;

use crate::event::{Event, Kind};

/// One client's REQUEST ACKed again and again: the lines of the ACKs.
#[derive(Debug, Clone, PartialEq)]
pub struct RepeatedAcks {
    pub chaddr: HwAddr,
    /// Indexes, into the events given, of the ACK lines (two or more).
    pub acks: Vec<usize>,
    /// Seconds from the first ACK to the last, when the lines have times.
    pub span_secs: Option<f64>,
}

/// A client retransmits its REQUEST within about a minute (the capture's
/// rule, `diagnose`'s `ack-ignored`, uses the same window).
const WINDOW_NS: i64 = 64_000_000_000;

/// Half a second at least between two ACKs of a run: closer, they answer
/// two REQUESTs that crossed on the wire.
const MIN_GAP_NS: i64 = 500_000_000;

/// The runs of ACKs to one client's same REQUEST in `events` (one log, in
/// order), in the order of their first ACK. Two ACKs are of one run when
/// they are at most [`WINDOW_NS`] apart (and half a second at least, when
/// the lines have times) and either name the same xid (dnsmasq with
/// `--log-dhcp`, Kea) or, without xids (ISC dhcpd), each answers a REQUEST
/// naming the server (SELECTING; renewals and INIT-REBOOT name none). The
/// ACK lines are `ack-sent`, or, in a Kea log without them (its
/// `DHCP4_PACKET_SEND` is debug-level), `lease-granted`.
pub fn repeated_acks(events: &[Event]) -> Vec<RepeatedAcks> {
    let ack_kind = if events.iter().any(|e| e.kind == Kind::AckSent) {
        Kind::AckSent
    } else {
        Kind::LeaseGranted
    };
    // Per client: whether its last REQUEST named a server, and the run so far.
    let mut selecting: HashMap<HwAddr, bool> = HashMap::new();
    let mut open: HashMap<HwAddr, Vec<usize>> = HashMap::new();
    let mut done = Vec::new();
    for (i, e) in events.iter().enumerate() {
        let Some(mac) = e.fields.chaddr else { continue };
        if e.kind == Kind::RequestReceived {
            selecting.insert(mac, e.fields.server_id.is_some());
            continue;
        }
        if e.kind != ack_kind {
            continue;
        }
        let run = open.entry(mac).or_default();
        let continues = run.last().is_some_and(|&j| {
            let before = &events[j];
            let gap = match (before.time, e.time) {
                (Some(a), Some(b)) => (MIN_GAP_NS..=WINDOW_NS).contains(&(b - a)),
                _ => true,
            };
            let same = match (before.fields.xid, e.fields.xid) {
                (Some(a), Some(b)) => a == b,
                (None, None) => {
                    selecting.get(&mac) == Some(&true) && before.time.is_some() && e.time.is_some()
                }
                _ => false,
            };
            gap && same
        });
        if !continues {
            let old = std::mem::take(run);
            if old.len() >= 2 {
                done.push((mac, old));
            }
        }
        run.push(i);
    }
    done.extend(open.into_iter().filter(|(_, run)| run.len() >= 2));
    done.sort_by_key(|(_, run)| run[0]);
    done.into_iter()
        .map(|(chaddr, acks)| {
            let span_secs = match (events[acks[0]].time, events[acks[acks.len() - 1]].time) {
                (Some(a), Some(b)) => Some((b - a) as f64 / 1e9),
                _ => None,
            };
            RepeatedAcks {
                chaddr,
                acks,
                span_secs,
            }
        })
        .collect()
}
