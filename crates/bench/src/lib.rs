//! dhcplens's benchmark harness.
//!
//! - [`gen`]: a generator of large, realistic DHCP captures (pcap or pcapng),
//!   streamed to disk with memory bounded by the clients active at once.
//! - [`profiles`]: the client and server option sets, taken from real packets.
//! - [`run`]: times `dhcplens diagnose`/`decode` against tshark and tcpdump.
//! - [`stages`]: where `diagnose`'s time goes, stage by stage, in process.
//! - [`rng`]: deterministic randomness (same seed, same bytes).

pub mod gen;
pub mod log;
pub mod profiles;
pub mod rng;
pub mod run;
pub mod stages;
