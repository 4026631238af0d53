//! The report: per-client verdicts, findings, servers and counts.

use std::net::Ipv4Addr;

use capture::Timestamp;
use serde::Serialize;

use crate::client::Client;
use crate::engine::ServerStats;
use crate::finding::{Finding, Severity};

// Formatted on the stack: these run for every transaction of a JSON report.

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

/// One client's verdict: the engine's per-client record itself.
pub type ClientReport = Client;

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
    /// Findings about no single client (an identifier several clients
    /// share, log lines that name no client). Each client's own findings are
    /// in its record; [`Report::findings`] lists both.
    pub global: Vec<Finding>,
    pub servers: Vec<ServerReport>,
    pub stats: Stats,
}

impl Report {
    /// Whether every client is healthy and nothing worse than info was found.
    pub fn healthy(&self) -> bool {
        self.clients.iter().all(ClientReport::healthy)
            && self.global.iter().all(|f| f.severity == Severity::Info)
    }

    /// Every finding: each client's, in client order, then the global ones.
    pub fn findings(&self) -> impl Iterator<Item = &Finding> + Clone + '_ {
        self.clients
            .iter()
            .flat_map(|c| c.details())
            .chain(&self.global)
    }

    /// [`Report::findings`] as one JSON list, serialised without collecting
    /// them (a report of a long capture holds many).
    pub fn findings_json(&self) -> FindingList<'_> {
        FindingList(self)
    }
}

/// See [`Report::findings_json`].
pub struct FindingList<'r>(&'r Report);

impl Serialize for FindingList<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.findings())
    }
}
