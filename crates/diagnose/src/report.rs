//! The report: per-client verdicts, findings, servers and counts.

use std::net::Ipv4Addr;

use capture::Timestamp;
use serde::Serialize;
use wire::HwAddr;

use crate::client::{Client, Lease, Step};
use crate::engine::ServerStats;
use crate::finding::{Finding, Severity};
use crate::transaction::Outcome;

// Formatted on the stack: these run for every transaction of a JSON report.

pub(crate) fn ser_hw<S: serde::Serializer>(v: &HwAddr, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(v.hex().as_str())
}

pub(crate) fn ser_xid<S: serde::Serializer>(v: &u32, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(wire::dhcp::HexBuf::xid(*v).as_str())
}

pub(crate) fn ser_ts<S: serde::Serializer>(v: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
    match v.rfc3339().as_str() {
        Some(t) => s.serialize_str(t),
        None => s.collect_str(v),
    }
}

fn ser_opt_ts<S: serde::Serializer>(v: &Option<Timestamp>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(t) => ser_ts(t, s),
        None => s.serialize_none(),
    }
}

/// Counts over the whole run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Stats {
    /// DHCP packets analysed.
    pub packets: u64,
    /// Lease query messages (RFC 4388), counted but not client transactions.
    pub lease_queries: u64,
    pub transactions: u64,
    pub clients: u64,
    #[serde(serialize_with = "ser_opt_ts")]
    pub first: Option<Timestamp>,
    #[serde(serialize_with = "ser_opt_ts")]
    pub last: Option<Timestamp>,
}

/// One client's verdict.
#[derive(Debug, Clone, Serialize)]
pub struct ClientReport {
    #[serde(serialize_with = "ser_hw")]
    pub chaddr: HwAddr,
    /// Client identifiers seen (hex), `null` for messages without option 61.
    pub client_ids: Vec<Option<String>>,
    pub outcome: Option<Outcome>,
    /// The lease the client ended with.
    pub address: Option<Ipv4Addr>,
    pub server: Option<Ipv4Addr>,
    pub lease_time: Option<u32>,
    /// Every server that answered it.
    pub servers: Vec<Ipv4Addr>,
    pub transactions: u32,
    /// Outcomes of its last transactions, oldest first.
    pub outcomes: Vec<Outcome>,
    #[serde(serialize_with = "ser_ts")]
    pub first: Timestamp,
    #[serde(serialize_with = "ser_ts")]
    pub last: Timestamp,
    /// The most serious severity among its findings.
    pub worst: Option<Severity>,
    /// Codes of its findings, most serious first.
    pub findings: Vec<&'static str>,
    /// The ladder of its most telling transaction (only for clients with problems).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ladder: Vec<Step>,
    #[serde(skip)]
    pub details: Vec<Finding>,
}

impl ClientReport {
    /// Healthy: no failure outcome and no error or warning.
    pub fn healthy(&self) -> bool {
        !self.outcome.is_some_and(Outcome::is_failure)
            && self.worst.is_none_or(|s| s == Severity::Info)
    }
}

impl From<Client> for ClientReport {
    fn from(c: Client) -> ClientReport {
        let mut details = c.findings;
        // A client bound at the end had no failure: what failed on the way
        // (a NAK after a move, a declined address, dropped DISCOVERs) is a
        // warning now: a delay, or a problem that will hit again.
        // The transaction that gave the final lease is exempt: a lease from
        // a rogue server is itself the problem.
        let recovered = c
            .outcomes
            .iter()
            .rev()
            .find(|o| **o != Outcome::Incomplete)
            .is_some_and(|o| o.is_success());
        if recovered {
            for f in details.iter_mut().filter(|f| {
                f.severity == Severity::Error && (f.xid.is_none() || f.xid != c.last_success_xid)
            }) {
                f.severity = Severity::Warning;
                f.explanation
                    .push_str(" The client recovered: it got a lease later in the capture.");
            }
        }

        details.sort_by_key(|f| (f.severity, !f.explains_failure, f.code));
        let lease: Option<Lease> = c.lease;
        let outcome = c
            .outcomes
            .iter()
            .rev()
            .find(|o| **o != Outcome::Incomplete)
            .or(c.outcomes.last())
            .copied();
        ClientReport {
            chaddr: c.chaddr,
            client_ids: c.client_ids.iter().map(|i| i.map(|i| i.hex())).collect(),
            outcome,
            address: lease.map(|l| l.address),
            server: lease.and_then(|l| l.server),
            lease_time: lease.and_then(|l| l.time),
            servers: c.servers,
            transactions: c.transactions,
            outcomes: c.outcomes,
            first: c.first,
            last: c.last,
            worst: details.first().map(|f| f.severity),
            findings: details.iter().map(|f| f.code.as_str()).collect(),
            ladder: c.ladder,
            details,
        }
    }
}

/// What one server did.
#[derive(Debug, Clone, Serialize)]
pub struct ServerReport {
    pub address: Ipv4Addr,
    pub mac: Option<String>,
    pub offers: u64,
    pub acks: u64,
    pub naks: u64,
    /// Mean seconds from the client's message to this server's reply.
    pub mean_latency: Option<f64>,
}

impl ServerReport {
    pub fn new(address: Ipv4Addr, s: &ServerStats) -> ServerReport {
        ServerReport {
            address,
            mac: s.mac.as_ref().map(wire::frame::mac_to_string),
            offers: s.offers,
            acks: s.acks,
            naks: s.naks,
            mean_latency: (s.latency_n > 0).then(|| s.latency_sum / s.latency_n as f64),
        }
    }
}

/// Everything the engine concluded.
#[derive(Debug, Clone)]
pub struct Report {
    pub clients: Vec<ClientReport>,
    pub findings: Vec<Finding>,
    pub servers: Vec<ServerReport>,
    pub stats: Stats,
}

impl Report {
    /// Whether every client is healthy and nothing worse than info was found.
    pub fn healthy(&self) -> bool {
        self.clients.iter().all(ClientReport::healthy)
            && self.findings.iter().all(|f| f.severity == Severity::Info)
    }
}
