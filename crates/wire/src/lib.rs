//! dhcplens's wire library: DHCPv4/BOOTP messages and their framing. No I/O, no
//! clocks, no randomness.
//!
//! Contract:
//! - Lenient parsers ([`dhcp::Message::parse_lenient`], [`frame::decode`]) take any
//!   bytes, never panic, always terminate, and return what they could read plus
//!   every [`Anomaly`] with its byte offset and a sentence.
//! - The strict parser ([`dhcp::Message::parse`]) is for code that acts on what it
//!   reads: any anomaly but a short (< 300 bytes) message is an error.
//! - Options are an ordered list of raw TLVs with offsets ([`dhcp::RawOption`]);
//!   typed values come on demand from the one table ([`dhcp::TABLE`]).
//! - [`plain::read`] is the fast path for packets with nothing wrong in them:
//!   it gives what [`packet::decode`] would, without allocating, or `None`.
//! - All checksum arithmetic is in [`checksum`]; a UDP checksum is valid, zero,
//!   invalid, partial (transmit offload) or unchecked.
#![forbid(unsafe_code)]

pub mod anomaly;
pub mod checksum;
pub mod dhcp;
pub mod frame;
pub mod packet;
pub mod plain;

pub use anomaly::{Anomaly, AnomalyKind, Layer};
pub use checksum::UdpChecksum;
pub use dhcp::{HwAddr, Message, MessageType, Op};
pub use frame::{Frame, LinkType};
pub use packet::DhcpFrame;
