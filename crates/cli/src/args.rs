//! Command-line arguments: validation only; commands build the real objects.
//!
//! Files are `PathBuf`s, so that a name that is not UTF-8 reaches the
//! file system as it is; so are `CAPTURE:FRAME` arguments (`OsString`s, split
//! at their last `:` by `send::frame_ref`).

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::style::ColorChoice;

#[derive(Debug, Parser)]
#[command(
    name = "dhcplens",
    version,
    about = "Makes DHCPv4 failures explain themselves.",
    long_about = "Makes DHCPv4 failures explain themselves: decodes and diagnoses packet captures, \
                  reads DHCP server and client logs, and probes servers.\n\n\
                  Exit codes: 0 healthy, 1 problems found or no answer, 2 error."
)]
pub struct Cli {
    /// When to colour the output.
    #[arg(long, global = true, value_enum, default_value = "auto")]
    pub color: ColorChoice,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print every DHCP packet of captures, one line each.
    Decode(DecodeArgs),
    /// Explain every client that did not get a lease: outcome, cause, evidence, fix.
    Diagnose(DiagnoseArgs),
    /// Send a request (DISCOVER, REQUEST, …) and show every reply from every server.
    Probe(ProbeArgs),
    /// Resend a captured request, with changes and a fresh xid, and show the replies.
    Replay(ReplayArgs),
    /// Compare two requests (or two clients' exchanges) field by field and option by option.
    Diff(DiffArgs),
    /// Find the smallest change that makes a server answer (e.g. the secs threshold).
    Bisect(BisectArgs),
    /// Diagnose DHCP live on interfaces, as it happens (needs CAP_NET_RAW).
    Watch(WatchArgs),
    /// Explain DHCP server and client logs: what each line that matters means, and the fix.
    Explain(ExplainArgs),
    /// Serve DHCP on an interface, saying why for every drop and NAK (needs root).
    Serve(ServeArgs),
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The interface to serve on; its address is the server identifier.
    #[arg(short = 'i', long = "iface", value_name = "IFACE")]
    pub iface: String,
    /// A network to lease from: NET/PREFIX,range=FIRST-LAST[,range=…][,router=IP][,dns=IP…][,domain=NAME][,host=MAC@IP…][,next-server=IP][,file=NAME][,ipxe-file=NAME].
    /// Repeat for the networks behind relays (chosen by giaddr).
    #[arg(long, required = true, value_name = "SPEC", value_parser = parse_subnet)]
    pub subnet: Vec<server::Subnet>,
    /// Lease time (T1 and T2 are 1/2 and 7/8 of it; left out for 1 or 2 s,
    /// too short for T1 < T2 < lease).
    #[arg(long, default_value = "1h", value_parser = parse_lease, value_name = "TIME")]
    pub lease: u32,
    /// Drop DISCOVERs whose secs is below this (as ISC dhcpd's min-secs does).
    #[arg(long, default_value_t = 0, value_name = "SECS")]
    pub min_secs: u16,
    /// Stay silent instead of NAKing requests for addresses that cannot be
    /// the client's (as ISC dhcpd without `authoritative`).
    #[arg(long)]
    pub not_authoritative: bool,
    /// Stop after this long.
    #[arg(long, value_parser = crate::probe_args::parse_duration)]
    pub duration: Option<std::time::Duration>,
    /// NDJSON: a `started` event, one `decision` per request, and a `summary` at the end.
    #[arg(long)]
    pub json: bool,
    /// Never answer this client (repeat for more): an Ethernet MAC, six octets.
    #[arg(long, value_name = "MAC", value_parser = parse_mac48)]
    pub ignore: Vec<wire::HwAddr>,
    /// Serve only clients with a reservation (host=MAC@IP in a --subnet;
    /// refused without one).
    #[arg(long)]
    pub known_only: bool,
    /// Ping every address before offering it to a client it is new to
    /// (RFC 2131 §4.3.1); one that answers within 500 ms is kept out of use
    /// and another is offered.
    #[arg(long)]
    pub ping_check: bool,
    /// Keep bound and declined leases in this file, read at start and
    /// rewritten after every change, so that they outlive a restart.
    #[arg(long, value_name = "FILE")]
    pub leases: Option<PathBuf>,
    /// Also write every request and reply as pcapng, each request with its
    /// decision (and reason) as a packet comment.
    #[arg(short = 'w', long = "write", value_name = "FILE")]
    pub write: Option<PathBuf>,
}

fn parse_subnet(s: &str) -> Result<server::Subnet, String> {
    server::Subnet::parse(s)
}

/// A lease time in seconds: `600`, `90s`, `10m`, `12h`, `7d`.
fn parse_lease(s: &str) -> Result<u32, String> {
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let unit_secs = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86400,
        _ => {
            return Err(format!(
                "{s:?}: a lease time is a number of s, m, h or d (e.g. 12h)"
            ))
        }
    };
    num.parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(unit_secs))
        // 0xffffffff means infinity in option 51 (RFC 2132 §9.2).
        .filter(|n| (1..u64::from(u32::MAX)).contains(n))
        .map(|n| n as u32)
        .ok_or_else(|| format!("{s:?}: a lease time from 1 s to 136 years"))
}

/// How to read log timestamps.
#[derive(Debug, Clone, Args)]
pub struct LogTime {
    /// How far the log's clock runs ahead, in seconds (may be negative): its times are moved
    /// back by it (with diagnose, onto the captures' clock).
    #[arg(
        long,
        default_value = "0",
        value_parser = parse_clock_offset,
        allow_negative_numbers = true,
        value_name = "SECONDS"
    )]
    pub log_clock_offset: f64,
    /// Time zone of log stamps that carry none, as +HH:MM or -HH:MM (default UTC).
    #[arg(long, default_value = "+00:00", value_parser = parse_utc_offset, allow_hyphen_values = true, value_name = "OFFSET")]
    pub log_utc_offset: i32,
    /// Whose log it is, for plain lines that do not say (dhcpd, kea, dnsmasq, dhclient, udhcpc,
    /// dhcpcd, dhcplens: serve's own log).
    #[arg(long, value_parser = parse_program)]
    pub program: Option<logs::Program>,
}

/// The largest clock offset taken: 4·10⁹ s (about 127 years) reaches a log
/// whose clock started at 1970 from any capture made before 2096, and keeps
/// every time in nanoseconds within 64 bits.
pub const MAX_CLOCK_OFFSET_S: f64 = 4e9;

fn parse_clock_offset(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v.abs() <= MAX_CLOCK_OFFSET_S => Ok(v),
        _ => Err(format!(
            "{s:?} is not a clock offset: seconds between -{MAX_CLOCK_OFFSET_S:e} and {MAX_CLOCK_OFFSET_S:e} (e.g. 3600, -2.5)"
        )),
    }
}

/// `+HH:MM`, `-HH:MM` or `±H`/`±HH`: one sign, one or two digits of hours
/// (at most 14), two of minutes (at most 59).
fn parse_utc_offset(s: &str) -> Result<i32, String> {
    let bad = || format!("{s:?} is not a UTC offset (e.g. +02:00, -05:30)");
    let (sign, rest) = match s.as_bytes().first() {
        Some(b'+') => (1, &s[1..]),
        Some(b'-') => (-1, &s[1..]),
        _ => return Err(bad()),
    };
    let (h, m) = rest.split_once(':').unwrap_or((rest, "00"));
    let digits = |t: &str, len: std::ops::RangeInclusive<usize>| {
        if len.contains(&t.len()) && t.bytes().all(|b| b.is_ascii_digit()) {
            t.parse::<i32>().ok()
        } else {
            None
        }
    };
    let (Some(h), Some(m)) = (digits(h, 1..=2), digits(m, 2..=2)) else {
        return Err(bad());
    };
    if h > 14 || m > 59 {
        return Err(bad());
    }
    Ok(sign * (h * 3600 + m * 60))
}

fn parse_program(s: &str) -> Result<logs::Program, String> {
    logs::Program::from_name(s).ok_or_else(|| {
        format!("{s:?} is not one of dhcpd, kea, dnsmasq, dhclient, udhcpc, dhcpcd, dhcplens")
    })
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// Log files (plain, syslog, journalctl -o short-iso or -o json), or `-` for stdin.
    #[arg(required = true, value_name = "LOG")]
    pub logs: Vec<PathBuf>,
    /// Also show the normal DHCP steps, not only the lines that explain a problem.
    #[arg(long)]
    pub all: bool,
    /// One JSON document per log.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub time: LogTime,
}

#[derive(Debug, Args)]
pub struct WatchArgs {
    /// Interfaces to watch (e.g. br0 tap1).
    #[arg(required = true, value_name = "IFACE")]
    pub interfaces: Vec<String>,
    /// Put the interfaces in promiscuous mode (see traffic between other hosts).
    #[arg(long)]
    pub promisc: bool,
    /// Stop after this long.
    #[arg(long, value_parser = crate::probe_args::parse_duration)]
    pub duration: Option<std::time::Duration>,
    /// Stop after this many finished exchanges.
    #[arg(long)]
    pub count: Option<u64>,
    /// Also record what was seen as pcapng, with findings as packet comments.
    #[arg(short = 'w', long = "write", value_name = "FILE")]
    pub write: Option<PathBuf>,
    /// NDJSON events: started, then transaction, finding, interface (down, deleted, up), summary.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ProbeArgs {
    /// What to send: discover, request, init-reboot, renew, rebind, inform, release, decline, bootp.
    #[arg(
        long = "type",
        short = 't',
        default_value = "discover",
        value_name = "TYPE"
    )]
    pub kind: String,
    /// Run a full DISCOVER/OFFER/REQUEST/ACK exchange (without configuring the interface).
    #[arg(long)]
    pub dora: bool,
    /// With --dora: release the lease afterwards.
    #[arg(long, requires = "dora")]
    pub release: bool,
    #[command(flatten)]
    pub transport: crate::probe_args::Transport,
    #[command(flatten)]
    pub overrides: crate::probe_args::Overrides,
    /// One JSON document: what was sent, the replies with latency, findings.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// The capture holding the request.
    pub capture: PathBuf,
    /// The frame to resend (1-based, as Wireshark numbers them).
    #[arg(long)]
    pub frame: u64,
    /// Keep the captured xid instead of a fresh one.
    #[arg(long)]
    pub same_xid: bool,
    #[command(flatten)]
    pub transport: crate::probe_args::Transport,
    #[command(flatten)]
    pub overrides: crate::probe_args::Overrides,
    /// One JSON document: what was sent, the replies with latency, findings.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// A request as CAPTURE:FRAME (`-:N`: frame N of stdin); or, with --mac twice,
    /// a capture (file or directory) holding the clients.
    #[arg(value_name = "CAPTURE:FRAME", allow_hyphen_values = true)]
    first: OsString,
    /// The request to compare it with, as CAPTURE:FRAME; or, with --mac, another capture.
    #[arg(value_name = "CAPTURE:FRAME", allow_hyphen_values = true)]
    second: Option<OsString>,
    /// With --mac, more captures (all merged in time order).
    #[arg(value_name = "CAPTURE")]
    more: Vec<OsString>,
    /// Compare two clients' whole exchanges (give it twice).
    #[arg(long = "mac", value_name = "MAC", value_parser = parse_mac48)]
    pub macs: Vec<wire::HwAddr>,
    /// One JSON document: the differences; with --mac, also both clients'
    /// exchanges and the captures they refer to (`files`).
    #[arg(long)]
    pub json: bool,
}

impl DiffArgs {
    /// The requests (or captures) given, in order. The first two are
    /// arguments of their own so that they may start with `-` (`-:1`)
    /// without `--`: a list taking such values would also swallow the
    /// flags after it (`--json`, `--mac`).
    ///
    /// Of the values that start with `-`, only `-` and `-:N` (stdin) are
    /// inputs: any other (`--jsno`) is a mistyped flag, refused as clap
    /// refuses it elsewhere.
    pub fn items(&self) -> anyhow::Result<Vec<OsString>> {
        let items: Vec<OsString> = std::iter::once(&self.first)
            .chain(&self.second)
            .chain(&self.more)
            .cloned()
            .collect();
        if let Some(flag) = items.iter().find(|i| {
            let b = i.as_bytes();
            b.starts_with(b"-") && b != b"-" && !b.starts_with(b"-:")
        }) {
            anyhow::bail!(
                "unexpected argument '{}' (see dhcplens diff --help)",
                flag.to_string_lossy()
            );
        }
        Ok(items)
    }
}

#[derive(Debug, Args)]
pub struct BisectArgs {
    /// Vary one field over a range: secs=0..30, hops=0..16.
    #[arg(long, value_name = "NAME=LOW..HIGH")]
    pub field: Option<String>,
    /// The request to vary (CAPTURE:FRAME); default: a plain DISCOVER from the interface's MAC.
    #[arg(long, value_name = "CAPTURE:FRAME", requires = "field")]
    pub base: Option<OsString>,
    /// A request the server answers (CAPTURE:FRAME). The two requests are
    /// sent as captured (the request overrides, --chaddr, --secs, -o, …,
    /// are refused with them: they would hide or add differences).
    #[arg(
        long,
        value_name = "CAPTURE:FRAME",
        requires = "failing",
        conflicts_with = "field",
        conflicts_with_all = [
            "chaddr", "xid", "secs", "flags", "hops", "ciaddr", "giaddr",
            "requested", "server_id", "options", "no_options"
        ]
    )]
    pub working: Option<OsString>,
    /// A request it does not answer (CAPTURE:FRAME).
    #[arg(long, value_name = "CAPTURE:FRAME", requires = "working")]
    pub failing: Option<OsString>,
    /// Pause between tries.
    #[arg(long, default_value = "1s", value_parser = crate::probe_args::parse_duration)]
    pub pause: std::time::Duration,
    #[command(flatten)]
    pub transport: crate::probe_args::Transport,
    #[command(flatten)]
    pub overrides: crate::probe_args::Overrides,
    /// One JSON document: the conclusion, whether it found what makes the
    /// difference, and every try with its answer.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct DiagnoseArgs {
    /// Capture files (merged in time order), `-` for stdin, or directories:
    /// each directory is a case of its own (its captures merged).
    #[arg(required = true, value_name = "CAPTURE")]
    pub inputs: Vec<PathBuf>,
    /// One JSON document per case (see the README for its fields).
    #[arg(long)]
    pub json: bool,
    /// Show only clients with problems (and the summary).
    #[arg(short, long)]
    pub problems: bool,
    /// Server or client logs to join to the captures (logs inside a case's
    /// directory are joined to it without this).
    #[arg(long = "log", value_name = "LOG")]
    pub logs: Vec<PathBuf>,
    #[command(flatten)]
    pub time: LogTime,
    /// Also write the diagnosis as one self-contained HTML page: verdicts,
    /// a timeline, a ladder diagram per client, every packet decoded.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Take each capture's times as they are. By default, captures of the
    /// same traffic from hosts whose clocks disagree by 0.1 s or more are
    /// put on the first capture's clock, measured on the messages they
    /// both hold (`clock_offsets` in the JSON report says by how much).
    /// Measuring reads the captures twice: with standard input, a pipe or
    /// `<(…)` among them, nothing is measured and a warning says so (this
    /// flag silences it).
    #[arg(long)]
    pub keep_clocks: bool,
}

#[derive(Debug, Args)]
pub struct DecodeArgs {
    /// Capture files (pcap or pcapng), directories of them, or `-` for stdin.
    #[arg(required = true, value_name = "CAPTURE")]
    pub inputs: Vec<PathBuf>,
    /// Print every field and decoded option.
    #[arg(short, long)]
    pub verbose: bool,
    /// One JSON object per packet (NDJSON).
    #[arg(long)]
    pub json: bool,
    /// Only packets whose chaddr or Ethernet source/destination is this MAC.
    #[arg(long, value_name = "MAC", value_parser = parse_mac48)]
    pub mac: Option<wire::HwAddr>,
    /// Only packets with this transaction id (hex, with or without 0x).
    #[arg(long, value_name = "XID", value_parser = parse_xid)]
    pub xid: Option<u32>,
}

/// A hardware address of 1 to 16 octets (`chaddr` may hold any).
pub fn parse_mac(s: &str) -> Result<wire::HwAddr, String> {
    wire::HwAddr::parse(s)
        .ok_or_else(|| format!("{s:?} is not a MAC address (expected e.g. 00:0b:82:01:fc:42)"))
}

/// An Ethernet MAC: six octets (a filter given five by a slip would match
/// nothing, silently).
pub fn parse_mac48(s: &str) -> Result<wire::HwAddr, String> {
    let mac = parse_mac(s)?;
    if mac.as_bytes().len() != 6 {
        return Err(format!(
            "{s:?} has {} octets: an Ethernet MAC has six (e.g. 00:0b:82:01:fc:42)",
            mac.as_bytes().len()
        ));
    }
    Ok(mac)
}

pub fn parse_xid(s: &str) -> Result<u32, String> {
    let hex = s
        .strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .unwrap_or(s);
    // from_str_radix alone would also take a sign: `0x+1`.
    let digits = !hex.is_empty() && hex.bytes().all(|c| c.is_ascii_hexdigit());
    digits
        .then(|| u32::from_str_radix(hex, 16).ok())
        .flatten()
        .ok_or_else(|| format!("{s:?} is not a transaction id (expected hex, e.g. 0x3d1d)"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn utc_offsets_take_one_sign_and_two_digit_minutes() {
        assert_eq!(parse_utc_offset("+02:00"), Ok(7200));
        assert_eq!(parse_utc_offset("-05:30"), Ok(-19800));
        assert_eq!(parse_utc_offset("+1"), Ok(3600));
        assert_eq!(parse_utc_offset("-14:00"), Ok(-50400));
        for bad in [
            "+-1:00",
            "--1:00",
            "-+05:00",
            "+01:0",
            "+001:00",
            "+15:00",
            "+01:60",
            "01:00",
            "+",
            "+1:",
            "+ 1:00",
            "+01:00:00",
        ] {
            assert!(parse_utc_offset(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn clock_offsets_are_finite_and_bounded() {
        assert_eq!(parse_clock_offset("3600"), Ok(3600.0));
        assert_eq!(parse_clock_offset("-2.5"), Ok(-2.5));
        assert_eq!(parse_clock_offset("-1.77e9"), Ok(-1.77e9));
        for bad in [
            "nan",
            "inf",
            "-inf",
            "1e10",
            "-1e10",
            "4000000001",
            "1e300",
            "x",
            "",
        ] {
            let e = parse_clock_offset(bad).unwrap_err();
            assert!(e.contains("not a clock offset"), "{bad}: {e}");
        }
    }

    #[test]
    fn xid_and_mac_parsing() {
        assert_eq!(parse_xid("0x3d1d"), Ok(0x3d1d));
        assert_eq!(parse_xid("3D1D"), Ok(0x3d1d));
        assert!(parse_xid("xyz")
            .unwrap_err()
            .contains("not a transaction id"));
        assert!(parse_xid("0x+1").is_err());
        assert!(parse_xid("").is_err());
        assert!(parse_xid("0x123456789").is_err());
        assert_eq!(
            parse_mac("000b-8201-fc42").unwrap().to_string(),
            "00:0b:82:01:fc:42"
        );
        assert_eq!(
            parse_mac("00-0b-82-01-fc-42").unwrap().to_string(),
            "00:0b:82:01:fc:42"
        );
        assert!(parse_mac("00:0b:8").is_err());
        assert_eq!(parse_mac("02:00:00:04:02").unwrap().as_bytes().len(), 5);
        assert!(parse_mac48("02:00:00:04:02")
            .unwrap_err()
            .contains("has 5 octets"));
        assert!(parse_mac48("02:00:00:04:02:01:07").is_err());
        assert!(parse_mac48("02:00:00:04:02:01").is_ok());
    }
}
