//! Capture files and live capture.
//!
//! Contract:
//! - [`read::Reader`] streams pcap and pcapng from any `Read` (file or pipe),
//!   lending one packet at a time from a bounded buffer; it always advances,
//!   never panics, and reports a cut or corrupt file with its byte offset after
//!   yielding everything before it. Pipes are read ahead on a second thread
//!   (`ahead.rs`), with the same results.
//! - [`write`](mod@write) writes pcap and pcapng (with packet comments) that Wireshark reads.
//! - [`live::PacketSocket`] (Linux `AF_PACKET`) receives DHCP frames with the
//!   kernel's checksum status and sends raw frames.
#![deny(unsafe_code)]

mod ahead;
pub mod bpf;
#[cfg(target_os = "linux")]
pub mod live;
pub mod read;
pub mod time;
pub mod write;

pub use read::{open, Error, Format, Packet, Reader};
pub use time::Timestamp;
