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

use crate::catalogue::Severity;
use crate::event::{Event, Kind, Program, Via};

/// One client's REQUEST ACKed again and again: the lines of the ACKs.
#[derive(Debug, Clone, PartialEq)]
pub struct RepeatedAcks {
    pub chaddr: HwAddr,
    /// The ACK lines (two or more), in order.
    pub acks: Vec<Ack>,
    /// Seconds from the first ACK to the last, when the lines have times.
    pub span_secs: Option<f64>,
}

/// One ACK line of a run: what a report quotes of it, and what tells
/// whether the next ACK continues the run. (Every client's last ACK is
/// kept until the end of the log: it is small.)
#[derive(Debug, Clone, PartialEq)]
pub struct Ack {
    pub line: u64,
    pub time: Option<i64>,
    pub program: Program,
    pub xid: Option<u32>,
    /// The program's own text ([`Event::message`]).
    pub message: String,
    /// The way it came ([`crate::Fields::via`]), as its index among the
    /// ways the log names.
    via: u32,
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
    run: Vec<Ack>,
    /// A REQUEST came since the last ACK, and whether it named the server.
    request: Option<bool>,
    /// The log has REQUEST lines for this client (Kea logs them only at
    /// debug level).
    logs_requests: bool,
    /// An INFORM came: the next ACK answers it, and counts for nothing.
    inform: bool,
    /// A `lease-granted` line not yet known to be an ACK: it is one unless
    /// the client's next step line is the `ack-sent` of the same xid.
    granted: Option<Ack>,
    /// The xid of the client's last `ack-sent` line, if any.
    sent: Option<Option<u32>>,
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
/// The ACK lines are `ack-sent`, or `lease-granted` when it has no
/// `ack-sent` line of its own (Kea's `DHCP4_PACKET_SEND` is debug-level):
/// when neither the client's last `ack-sent` before it nor its next step
/// line after it (a line of the kinds above) is the `ack-sent` of the same
/// xid.
pub fn repeated_acks<'e>(events: impl IntoIterator<Item = &'e Event>) -> Vec<RepeatedAcks> {
    let mut runs = AckRuns::default();
    for e in events {
        runs.push(e);
    }
    runs.finish()
}

/// [`repeated_acks`] line by line, for a log read as a stream: it keeps,
/// per client, its current run (usually its last ACK) and what it sent
/// since, and the runs found; not the lines, and nothing per transaction.
#[derive(Default)]
pub struct AckRuns {
    clients: HashMap<HwAddr, Client>,
    done: Vec<(HwAddr, Vec<Ack>)>,
    /// The ways (`via`) the log names, each with its number in [`Ack`].
    ways: HashMap<Option<Via>, u32>,
    /// ACKs of runs that ended alone, to be written over (a healthy
    /// client's every ACK starts a run and ends its last).
    spare: Vec<Ack>,
}

/// At most this many [`AckRuns::spare`] ACKs.
const SPARE: usize = 64;

impl AckRuns {
    fn ack(&mut self, e: &Event) -> Ack {
        let n = self.ways.len() as u32;
        let via = match self.ways.get(&e.fields.via) {
            Some(&i) => i,
            None => *self.ways.entry(e.fields.via.clone()).or_insert(n),
        };
        // A spare ACK's text keeps its allocation.
        let mut message = self.spare.pop().map(|a| a.message).unwrap_or_default();
        message.clear();
        message.push_str(&e.message);
        Ack {
            line: e.line,
            time: e.time,
            program: e.program,
            xid: e.fields.xid,
            message,
            via,
        }
    }

    /// Takes the log's next line.
    pub fn push(&mut self, e: &Event) {
        let Some(mac) = e.fields.chaddr else { return };
        let is_step = matches!(
            e.kind,
            Kind::AckSent
                | Kind::LeaseGranted
                | Kind::RequestReceived
                | Kind::DiscoverReceived
                | Kind::InitRebootRequest
                | Kind::InformReceived
                | Kind::DeclineReceived
                | Kind::ReleaseReceived
        );
        if !is_step {
            return;
        }
        let a = matches!(e.kind, Kind::AckSent | Kind::LeaseGranted).then(|| self.ack(e));
        let c = self.clients.entry(mac).or_default();
        if e.kind == Kind::AckSent {
            c.sent = Some(e.fields.xid);
        }
        let mut ended = Ended {
            done: &mut self.done,
            spare: &mut self.spare,
        };
        if let Some(g) = c.granted.take() {
            if c.sent != Some(g.xid) {
                ack(c, mac, g, &mut ended);
            }
        }
        match (e.kind, a) {
            (Kind::AckSent, Some(a)) => ack(c, mac, a, &mut ended),
            (Kind::LeaseGranted, Some(a)) => {
                if c.sent != Some(e.fields.xid) {
                    c.granted = Some(a);
                }
            }
            (Kind::RequestReceived, _) => {
                c.request = Some(e.fields.server_id.is_some());
                c.logs_requests = true;
            }
            _ => {
                end_run(c, mac, &mut ended);
                c.request = None;
                c.inform = e.kind == Kind::InformReceived;
            }
        }
    }

    /// The runs, in the order of their first ACK.
    pub fn finish(mut self) -> Vec<RepeatedAcks> {
        let mut ended = Ended {
            done: &mut self.done,
            spare: &mut self.spare,
        };
        for (mac, mut c) in self.clients {
            if let Some(g) = c.granted.take() {
                ack(&mut c, mac, g, &mut ended);
            }
            end_run(&mut c, mac, &mut ended);
        }
        self.done.sort_by_key(|(_, run)| run[0].line);
        self.done
            .into_iter()
            .map(|(chaddr, acks)| {
                let span_secs = match (acks[0].time, acks[acks.len() - 1].time) {
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
}

/// ACK `a` to client `c`: it continues the client's run or starts one.
fn ack(c: &mut Client, mac: HwAddr, a: Ack, ended: &mut Ended) {
    if std::mem::take(&mut c.inform) {
        return;
    }
    let continues = c.run.last().is_some_and(|before| continues(before, &a, c));
    if !continues {
        end_run(c, mac, ended);
    }
    c.run.push(a);
    c.request = None;
}

/// Whether ACK `e` answers the same REQUEST again as ACK `before`, with
/// what client `c` sent between them.
fn continues(before: &Ack, e: &Ack, c: &Client) -> bool {
    let (Some(a), Some(b)) = (before.time, e.time) else {
        return false;
    };
    let whole = a % 1_000_000_000 == 0 && b % 1_000_000_000 == 0;
    let min = if whole {
        MIN_GAP_WHOLE_SECONDS_NS
    } else {
        MIN_GAP_NS
    };
    let same = match (before.xid, e.xid) {
        (Some(x), Some(y)) => x == y,
        (None, None) => c.request == Some(true),
        _ => false,
    };
    (min..=WINDOW_NS).contains(&(b - a))
        && same
        && (!c.logs_requests || c.request.is_some())
        && before.via == e.via
}

/// Ends client `c`'s run, keeping it when it has two ACKs or more.
fn end_run(c: &mut Client, mac: HwAddr, ended: &mut Ended) {
    if c.run.len() >= 2 {
        ended.done.push((mac, std::mem::take(&mut c.run)));
    } else if let Some(a) = c.run.pop() {
        if ended.spare.len() < SPARE {
            ended.spare.push(a);
        }
    }
}

/// Where ended runs go: kept (two ACKs or more), or their ACK spared.
struct Ended<'a> {
    done: &'a mut Vec<(HwAddr, Vec<Ack>)>,
    spare: &'a mut Vec<Ack>,
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

    /// Infoblox: one broadcast REQUEST forwarded by two relays is ACKed
    /// through each; its ACK lines name the relay after the interface.
    #[test]
    fn infoblox_acks_through_two_relays_are_no_run() {
        let mut log = String::new();
        for (t, relay) in [("00.10", 252), ("01.10", 253)] {
            log += &isc(
                t,
                &format!("DHCPREQUEST for 10.0.0.5 (10.0.0.1) from {M} via 172.26.63.{relay}"),
            );
            log += &isc(
                t,
                &format!(
                    "DHCPACK on 10.0.0.5 to {M} via eth1 relay 172.26.63.{relay} lease-duration 30"
                ),
            );
        }
        assert_eq!(runs(&log), Vec::<usize>::new());
        // Through the same relay twice, it is one.
        let log = log.replace("172.26.63.253", "172.26.63.252");
        assert_eq!(runs(&log), [2]);
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
