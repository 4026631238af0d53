//! A DHCPv4 server (RFC 2131) whose every drop and NAK carries a reason.
//!
//! Servers in the field stay silent for many reasons (ISC dhcpd's
//! `min-secs`, an unknown relay network, an exhausted pool, a lease it has
//! no record of) and say so, if at all, in a debug log line. This one
//! decides every request in one pure function, [`Server::handle`], which
//! returns a [`Decision`]: the reply and where it goes, or a [`Reason`] with
//! a stable code, the field values that decided it, and what to change.
//! NAKs carry the same text in option 56, so a capture shows it too.
//!
//! - [`config`]: subnets, pools and the server's policy (`min-secs`,
//!   authoritative or not).
//! - [`leases`]: the lease table; [`store`]: its file, so that bound and
//!   declined leases outlive a restart.
//! - [`handle`]: the decision, per message type and client state.
//! - [`ping`]: the ping check before an offer (RFC 2131 §4.3.1).
//! - [`serve`]: the I/O: requests from an `AF_PACKET` socket, replies as
//!   raw frames to clients without an address and through the kernel to
//!   relays and clients with one (RFC 2131 §4.1).
//!
//! I/O is in `serve`, `ping` and `store`'s `save`/`load`; the decision and
//! the lease table are pure, and tested with real packets from the lab's
//! captures (`examples/`) and with property tests.

pub mod config;
pub mod handle;
pub mod leases;
pub mod ping;
pub mod reason;
pub mod serve;
pub mod store;

pub use config::{Config, Subnet};
pub use handle::{Action, Arrival, Decision, Dest, Server};
pub use reason::Reason;
