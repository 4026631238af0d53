//! Command-line arguments: validation only; commands build the real objects.

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
}

#[derive(Debug, Args)]
pub struct DiagnoseArgs {
    /// Capture files (merged in time order), `-` for stdin, or directories:
    /// each directory is a case of its own (its captures merged).
    #[arg(required = true, value_name = "CAPTURE")]
    pub inputs: Vec<String>,
    /// One JSON document per case (see the README for its fields).
    #[arg(long)]
    pub json: bool,
    /// Show only clients with problems (and the summary).
    #[arg(short, long)]
    pub problems: bool,
}

#[derive(Debug, Args)]
pub struct DecodeArgs {
    /// Capture files (pcap or pcapng), directories of them, or `-` for stdin.
    #[arg(required = true, value_name = "CAPTURE")]
    pub inputs: Vec<String>,
    /// Print every field and decoded option.
    #[arg(short, long)]
    pub verbose: bool,
    /// One JSON object per packet (NDJSON).
    #[arg(long)]
    pub json: bool,
    /// Only packets whose chaddr or Ethernet source/destination is this MAC.
    #[arg(long, value_name = "MAC", value_parser = parse_mac)]
    pub mac: Option<wire::HwAddr>,
    /// Only packets with this transaction id (hex, with or without 0x).
    #[arg(long, value_name = "XID", value_parser = parse_xid)]
    pub xid: Option<u32>,
}

pub fn parse_mac(s: &str) -> Result<wire::HwAddr, String> {
    wire::HwAddr::parse(s)
        .ok_or_else(|| format!("{s:?} is not a MAC address (expected e.g. 00:0b:82:01:fc:42)"))
}

pub fn parse_xid(s: &str) -> Result<u32, String> {
    let hex = s
        .strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .unwrap_or(s);
    u32::from_str_radix(hex, 16)
        .map_err(|_| format!("{s:?} is not a transaction id (expected hex, e.g. 0x3d1d)"))
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
    fn xid_and_mac_parsing() {
        assert_eq!(parse_xid("0x3d1d"), Ok(0x3d1d));
        assert_eq!(parse_xid("3D1D"), Ok(0x3d1d));
        assert!(parse_xid("xyz")
            .unwrap_err()
            .contains("not a transaction id"));
        assert_eq!(
            parse_mac("00-0b-82-01-fc-42").unwrap().to_string(),
            "00:0b:82:01:fc:42"
        );
        assert!(parse_mac("00:0b:8").is_err());
    }
}
