//! dhcplens's log reader: DHCP server and client logs in, one [`Event`] per line
//! that matters out, each with its meaning, cause, severity, fix and confidence.
//!
//! Programs: ISC dhcpd 3.x/4.x, Kea 2.2 `kea-dhcp4`, dnsmasq (`--log-dhcp` or not), `dhcplens serve`,
//! ISC dhclient, busybox udhcpc, dhcpcd. Framings (detected per line, see
//! [`framing`]): plain lines as each daemon writes them, Kea's own files, RFC 3164
//! (syslog files, dnsmasq's own file, `journalctl -o short`, busybox/OpenWrt),
//! RFC 5424, `journalctl -o short-iso` / RFC 3339, and `journalctl -o json`.
//!
//! # Contract
//! - [`LogReader`] streams any `BufRead`: memory is bounded (a line is cut at
//!   [`reader::MAX_LINE`] bytes), nothing panics whatever the bytes, and every line
//!   is accounted for in [`Stats`] (`lines = events + blank + other_program + unknown`).
//!   Unknown lines are counted and skipped, never an error.
//! - The only errors are I/O ([`Error::Io`]), input that is not a log
//!   ([`Error::NotALog`]: pcap/pcapng, compressed, binary journal, binary data, JSON that
//!   is not journald's export), decided from the first [`reader::SNIFF_LEN`] bytes,
//!   before any event, and a line whose time the clock offset moves out of range
//!   ([`Error::ClockOffset`], never a wrapped time). All name the input.
//! - Times follow one rule, documented in [`time`]: exact when the line has a zone;
//!   zone-less stamps are taken at [`TimeContext::utc_offset_secs`]; year-less stamps
//!   take the year closest to [`TimeContext::reference`]; then
//!   [`TimeContext::clock_offset_ns`] (log clock minus capture clock) is subtracted.
//! - A line may take its xid from the lines before it, and only this one:
//!   dnsmasq's "cannot send DHCP/BOOTP option N" names no packet, and
//!   [`LogReader`] gives it the xid of the same process's last line about a
//!   packet (the reply being built), none if that line had none.
//!   [`Parser::parse_line`], one line alone, leaves it without.
//! - What only several lines say together is in [`runs`]: a server ACKing
//!   one client's REQUEST again and again ([`repeated_acks`] over a slice,
//!   [`AckRuns`] line by line, keeping per client only its current run).
//! - [`Kind`] is a fixed list; [`catalogue::TABLE`] gives each kind its meaning,
//!   [`Cause`] (the diagnose engine's finding codes: `min-secs-drop`,
//!   `pool-exhausted`, ...), [`Severity`], fix and [`Confidence`].
//!
//! # For `dhcplens explain LOG...|-`
//! ```no_run
//! use logs::{open, Options, TimeContext};
//! # fn main() -> Result<(), logs::Error> {
//! let opts = Options {
//!     time: TimeContext { reference: Some(1_795_320_741_000_000_000), ..Default::default() },
//!     program: None,
//! };
//! let mut reader = open(std::path::Path::new("/var/log/syslog"), opts)?;
//! for event in &mut reader {
//!     let e = event?;
//!     if e.cause().is_some() {
//!         // Group with e.client_key(); print e.raw, e.meaning(), e.cause(), e.fix().
//!         println!("{} {:?} {} -> {:?}: {}", e.line, e.client_key(), e.meaning(), e.cause(), e.fix());
//!     }
//! }
//! eprintln!("{:?}", reader.stats()); // e.g. "N lines not understood"
//! # Ok(()) }
//! ```
//! Use the file's mtime (or the capture's first packet) as the reference so that
//! year-less syslog stamps get a year. Show [`Event::message`] (the program's text
//! without the framing; for journald JSON [`Event::raw`] is the whole object).
//! [`Event`] serialises to JSON for `--json`; [`Program::from_name`] parses a
//! `--program` flag into [`Options::program`] for plain lines that do not say who
//! wrote them. A few events carry only an xid (Kea's `DHCP4_PACKET_DROP_0010`, dnsmasq's
//! `available DHCP range`): group them with the events of the same program that carry
//! that xid and a chaddr.
//!
//! One line at a time (a follower, a test): [`Parser::parse_line`] gives an
//! [`Outcome`] for a `&str`.
//!
//! # For `dhcplens diagnose CAPTURE... --log LOG...`
//! Pass the capture's first packet time as [`TimeContext::reference`] and the user's
//! clock offset as [`TimeContext::clock_offset_ns`]; [`Event::time`] is then on the
//! capture's clock. Join on [`Fields::chaddr`] and [`Fields::xid`] within a time
//! window: Kea (`tid=`), dnsmasq with `--log-dhcp` (the number prefix) and dhcpcd
//! log the xid; ISC dhcpd never does (join by chaddr and time); dnsmasq's
//! `no address range available ...` line names neither (join by time and
//! [`Fields::via`]). [`Event::cause`] turns a capture's `no-offer` into the
//! server's reason; [`Kind::confidence`] says how much weight the line carries.
//! A server event of kind `DiscoverReceived` with no OFFER in the capture, or a
//! capture DISCOVER with no server event at all, is itself evidence (a log that shows
//! nothing for a DISCOVER seen on the wire points at a firewall or layer 2).
#![forbid(unsafe_code)]

pub mod catalogue;
mod client;
mod dhcplens;
mod dnsmasq;
pub mod event;
pub mod framing;
mod isc;
mod kea;
pub mod parser;
pub mod reader;
pub mod runs;
mod scan;
pub mod time;

pub use catalogue::{Cause, Confidence, Severity};
pub use event::{ClientKey, Event, Fields, Kind, Program, Via};
pub use framing::Framing;
pub use parser::{Options, Outcome, Parser};
pub use reader::{open, Error, LogReader, NotALog, Stats};
pub use runs::{repeated_acks, Ack, AckRuns, RepeatedAcks};
pub use time::{TimeBasis, TimeContext};
