//! The active side: craft a request, send it, collect every reply, and search
//! for the change that makes a server answer.
//!
//! Contract:
//! - Nothing is sent without a [`transport`] the caller opened on an explicit
//!   interface or towards an explicit server; every [`session::Session`] is
//!   bounded in packets and rate ([`session::Limits`]).
//! - Everything sent and received is kept as frames ([`session::Session::log`]),
//!   so a run can be written as pcapng and diagnosed by the same engine as a
//!   capture.
//! - [`bisect`] searches through an [`bisect::Oracle`], so the search logic is
//!   tested without a network.

pub mod bisect;
pub mod neighbour;
mod pktinfo;
pub mod request;
pub mod session;
pub mod transport;
