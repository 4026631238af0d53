//! Diagnosis: DHCP packets in, per-client verdicts and findings out.
//!
//! Contract:
//! - Feed [`Obs`]ervations (built from decoded frames with [`Obs::new`]) to an
//!   [`Engine`] in time order; it groups them into transactions per client and
//!   xid, classifies each by RFC 2131 state and outcome, runs the rules when a
//!   transaction is over, and passes results to a [`Sink`] as they settle.
//! - Memory is bounded by open transactions and one compact summary per client.
//! - [`Engine::finish`] closes what is open and returns the [`Report`].
//! - Finding codes ([`Code`]) and outcomes ([`Outcome`]) are public API.

pub mod client;
mod client_index;
pub mod clocks;
pub mod diff;
pub mod engine;
pub mod finding;
mod hint;
mod json;
pub mod logjoin;
mod open;

pub mod obs;
pub mod report;
pub mod rules;
mod tag_table;
pub mod transaction;

pub use engine::{Config, Engine, NoSink, Sink};
pub use finding::{Code, Confidence, Finding, Severity};
/// A JSON string escaped as serde_json escapes it (for printers that write
/// JSON directly).
pub use json::write_str as write_json_str;
pub use obs::{FrameRef, KernelChecksum, Obs};
pub use report::{ClientReport, Report};
pub use transaction::{Outcome, State, Summary};
