//! What only several lines together say.
//!
//! A server that ACKs one client's REQUEST again and again is answering a
//! client that did not take the ACKs: a client that takes its ACK
//! configures the address and never asks again under the same xid. Lost on
//! the way (a switch, DHCP snooping, a vSwitch), or rejected by the client:
//! the server's log shows only the repeats. ISC dhcpd 4.4, Kea 2.2 and
//! dnsmasq 2.90 all log one ACK per retransmitted REQUEST (the lab's
//! `ack-lost` runs).

use std::collections::{HashMap, HashSet};

use wire::HwAddr;

use crate::catalogue::Severity;
use crate::event::{Event, Kind};

/// One client's REQUEST ACKed again and again: the lines of the ACKs.
#[derive(Debug, Clone, PartialEq)]
pub struct RepeatedAcks {
    pub chaddr: HwAddr,
    /// Indexes, in the order the events were given, of the ACK lines (two
    /// or more).
    pub acks: Vec<usize>,
    /// Seconds from the first ACK to the last, when the lines have times.
    pub span_secs: Option<f64>,
}

/// What to make of captures at both ends, for a run of ACKs (`explain` and
/// `diagnose --log` each say how to take them).
pub const REPEATED_ACKS_FIX: &str =
    "ACKs missing at the client were lost on the way (a switch, DHCP snooping, \
     a vSwitch); ACKs that arrive were rejected (read the client's log).";

impl RepeatedAcks {
    /// Two ACKs: one lost, perhaps the next taken (a warning); more: the
    /// client is not getting them (an error).
    pub fn severity(&self) -> Severity {
        if self.acks.len() >= 3 {
            Severity::Error
        } else {
            Severity::Warning
        }
    }

    /// Why the run means the ACKs went untaken, as a sentence.
    pub fn meaning(&self) -> String {
        let two = self.acks.len() == 2;
        format!(
            "A client that takes its ACK configures the address and never asks again, so {} did not reach the \
             client, or it rejected {}.",
            if two { "the first" } else { "these ACKs" },
            if two { "it" } else { "them" },
        )
    }
}

/// A client retransmits its REQUEST within about a minute (the capture's
/// rule, `diagnose`'s `ack-ignored`, uses the same window).
const WINDOW_NS: i64 = 64_000_000_000;

/// Half a second at least between two ACKs of a run: closer, they answer
/// two REQUESTs that crossed on the wire. With whole-second stamps (syslog),
/// a second (udhcpc retransmits every second): copies of one REQUEST
/// relayed twice, which may straddle a second, come different ways (`via`).
const MIN_GAP_NS: i64 = 500_000_000;
const MIN_GAP_WHOLE_SECONDS_NS: i64 = 1_000_000_000;

/// What a client's lines since its last ACK say.
#[derive(Default)]
struct Client {
    /// The ACK lines of the run so far.
    run: Vec<usize>,
    /// A REQUEST came since the last ACK, and whether it named the server.
    request: Option<bool>,
    /// The log has REQUEST lines for this client (Kea logs them only at
    /// debug level).
    logs_requests: bool,
    /// An INFORM came: the next ACK answers it, and counts for nothing.
    inform: bool,
}

/// The runs of ACKs to one client's same REQUEST in `events` (one log, in
/// order), in the order of their first ACK. An ACK continues the run of the
/// ACK before it (same client) when
/// - both lines have times, at most [`WINDOW_NS`] apart and at least
///   [`MIN_GAP_NS`] ([`MIN_GAP_WHOLE_SECONDS_NS`] with whole-second stamps);
/// - both name the same xid (dnsmasq with `--log-dhcp`, Kea), or neither
///   does (ISC dhcpd) and a REQUEST naming the server (SELECTING; renewals
///   and INIT-REBOOT name none) came between them;
/// - when the log shows this client's REQUESTs at all, one came between
///   them, and nothing else from the client did (a DISCOVER, an INFORM, a
///   DECLINE or a RELEASE ends the run);
/// - both came the same way (`via`: the interface or relay).
///
/// The ACK lines are `ack-sent`, or `lease-granted` for a client and xid
/// that has no `ack-sent` line (Kea's `DHCP4_PACKET_SEND` is debug-level).
pub fn repeated_acks<'e>(events: impl IntoIterator<Item = &'e Event>) -> Vec<RepeatedAcks> {
    let events: Vec<&Event> = events.into_iter().collect();
    let sent: HashSet<(HwAddr, Option<u32>)> = events
        .iter()
        .filter(|e| e.kind == Kind::AckSent)
        .filter_map(|e| Some((e.fields.chaddr?, e.fields.xid)))
        .collect();
    let mut clients: HashMap<HwAddr, Client> = HashMap::new();
    let mut done = Vec::new();
    for (i, e) in events.iter().enumerate() {
        let Some(mac) = e.fields.chaddr else { continue };
        let c = clients.entry(mac).or_default();
        let ack = match e.kind {
            Kind::AckSent => true,
            Kind::LeaseGranted => !sent.contains(&(mac, e.fields.xid)),
            Kind::RequestReceived => {
                c.request = Some(e.fields.server_id.is_some());
                c.logs_requests = true;
                false
            }
            Kind::DiscoverReceived
            | Kind::InitRebootRequest
            | Kind::InformReceived
            | Kind::DeclineReceived
            | Kind::ReleaseReceived => {
                end_run(c, mac, &mut done);
                c.request = None;
                c.inform = e.kind == Kind::InformReceived;
                false
            }
            _ => false,
        };
        if !ack {
            continue;
        }
        if std::mem::take(&mut c.inform) {
            continue;
        }
        let continues = c.run.last().is_some_and(|&j| continues(events[j], e, c));
        if !continues {
            end_run(c, mac, &mut done);
        }
        c.run.push(i);
        c.request = None;
    }
    for (mac, mut c) in clients {
        end_run(&mut c, mac, &mut done);
    }
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

/// Whether ACK `e` answers the same REQUEST again as ACK `before`, with
/// what client `c` sent between them.
fn continues(before: &Event, e: &Event, c: &Client) -> bool {
    let (Some(a), Some(b)) = (before.time, e.time) else {
        return false;
    };
    let whole = a % 1_000_000_000 == 0 && b % 1_000_000_000 == 0;
    let min = if whole {
        MIN_GAP_WHOLE_SECONDS_NS
    } else {
        MIN_GAP_NS
    };
    let same = match (before.fields.xid, e.fields.xid) {
        (Some(x), Some(y)) => x == y,
        (None, None) => c.request == Some(true),
        _ => false,
    };
    (min..=WINDOW_NS).contains(&(b - a))
        && same
        && (!c.logs_requests || c.request.is_some())
        && before.fields.via == e.fields.via
}

/// Ends client `c`'s run, keeping it when it has two ACKs or more.
fn end_run(c: &mut Client, mac: HwAddr, done: &mut Vec<(HwAddr, Vec<usize>)>) {
    let run = std::mem::take(&mut c.run);
    if run.len() >= 2 {
        done.push((mac, run));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{LogReader, Options};

    fn runs(log: &str) -> Vec<usize> {
        let r = LogReader::new(
            "t",
            std::io::Cursor::new(log.as_bytes().to_vec()),
            Options::default(),
        )
        .unwrap();
        let events: Vec<Event> = r.map(|e| e.unwrap()).collect();
        repeated_acks(&events)
            .iter()
            .map(|r| r.acks.len())
            .collect()
    }

    const M: &str = "02:00:00:00:00:01";

    fn isc(t: &str, msg: &str) -> String {
        format!("2026-12-06T10:00:{t}+00:00 server dhcpd[1]: {msg}\n")
    }

    #[test]
    fn selecting_requests_acked_again_are_a_run() {
        let mut log = String::new();
        for t in ["00.10", "01.10", "02.10"] {
            log += &isc(
                t,
                &format!("DHCPREQUEST for 10.0.0.5 (10.0.0.1) from {M} via eth0"),
            );
            log += &isc(t, &format!("DHCPACK on 10.0.0.5 to {M} via eth0"));
        }
        assert_eq!(runs(&log), [3]);
    }

    /// Healthy sequences found by review to look like runs: a PXE chain's
    /// DORAs, INFORMs after a DORA, a DORA after a DECLINE, and one REQUEST
    /// relayed twice.
    #[test]
    fn new_exchanges_informs_and_relayed_copies_are_no_run() {
        let mut chain = String::new();
        for t in ["00.10", "10.10", "20.10"] {
            chain += &isc(t, &format!("DHCPDISCOVER from {M} via eth0"));
            chain += &isc(t, &format!("DHCPOFFER on 10.0.0.5 to {M} via eth0"));
            chain += &isc(
                t,
                &format!("DHCPREQUEST for 10.0.0.5 (10.0.0.1) from {M} via eth0"),
            );
            chain += &isc(t, &format!("DHCPACK on 10.0.0.5 to {M} via eth0"));
        }
        assert_eq!(runs(&chain), [0usize; 0]);

        let mut inform = String::new();
        inform += &isc(
            "00.10",
            &format!("DHCPREQUEST for 10.0.0.5 (10.0.0.1) from {M} via eth0"),
        );
        inform += &isc("00.10", &format!("DHCPACK on 10.0.0.5 to {M} via eth0"));
        for t in ["05.10", "10.10"] {
            inform += &isc(t, "DHCPINFORM from 10.0.0.5 via eth0");
            inform += &isc(t, &format!("DHCPACK to 10.0.0.5 ({M}) via eth0"));
        }
        assert_eq!(runs(&inform), [0usize; 0]);

        let mut relayed = String::new();
        for via in ["10.9.0.1", "10.9.0.2"] {
            relayed += &format!("Dec  6 10:00:00 server dhcpd[1]: DHCPREQUEST for 10.0.0.5 (10.0.0.1) from {M} via {via}\n");
            relayed +=
                &format!("Dec  6 10:00:01 server dhcpd[1]: DHCPACK on 10.0.0.5 to {M} via {via}\n");
        }
        assert_eq!(runs(&relayed), [0usize; 0]);
    }

    /// Without times, nothing can be said about retransmissions.
    #[test]
    fn lines_without_times_make_no_run() {
        let mut log = String::new();
        for _ in 0..3 {
            log += &format!("dnsmasq-dhcp[1]: 123 DHCPREQUEST(eth0) 10.0.0.5 {M}\n");
            log += &format!("dnsmasq-dhcp[1]: 123 DHCPACK(eth0) 10.0.0.5 {M}\n");
        }
        assert_eq!(runs(&log), [0usize; 0]);
    }
}
