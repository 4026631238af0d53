//! Capture files and live capture.
//!
//! Contract:
//! - [`live::PacketSocket`] (Linux `AF_PACKET`) receives DHCP frames with the
//!   kernel's checksum status and sends raw frames.
#![deny(unsafe_code)]

pub mod bpf;
#[cfg(target_os = "linux")]
pub mod live;
