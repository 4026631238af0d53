//! The scenarios the lab reproduces for real. Each one builds its network,
//! runs real software, then checks what really happened from the logs and
//! captures (failing with the evidence when it did not), and returns a
//! [`Recording`]: which files make its example and what it showed.
//!
//! The tests in `crates/lab/tests/` run them; `record-examples` copies their
//! files into `examples/<name>/`.

use std::fmt::Display;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Result};

use crate::pcap::Seen;
use crate::{Lab, Tool};

mod ack_lost;
mod checksum;
mod exhausted;
mod healthy;
mod lifecycle;
mod min_secs;
pub mod pxe;
mod reboot;
mod relay;
mod rogue;
mod served;
mod stp;
mod vlan;

/// What a scenario produced.
#[derive(Debug, Clone)]
pub struct Recording {
    /// The example's directory name.
    pub name: String,
    /// The run directory holding every file.
    pub dir: PathBuf,
    /// One line: what happened.
    pub description: String,
    /// Files of the run directory that make the example (captures and logs).
    pub files: Vec<String>,
    /// The facts the checks relied on (log lines, packets), for humans.
    pub evidence: Vec<String>,
}

impl Recording {
    fn new(lab: &Lab, description: impl Into<String>) -> Recording {
        Recording {
            name: lab.scenario().to_string(),
            dir: lab.dir().to_path_buf(),
            description: description.into(),
            files: Vec::new(),
            evidence: Vec::new(),
        }
    }

    fn file(&mut self, f: &str) -> &mut Self {
        self.files.push(f.to_string());
        self
    }

    fn note(&mut self, what: impl Display) -> &mut Self {
        self.evidence.push(what.to_string());
        self
    }
}

/// A scenario: its name, what it needs, and how to run it.
#[derive(Debug, Clone, Copy)]
pub struct Scenario {
    pub name: &'static str,
    pub tools: &'static [Tool],
    pub run: fn(&Lab) -> Result<Recording>,
}

use Tool::*;

/// Every scenario, in the order of issue 3 (then the 802.1Q topology, the
/// lost ACKs, and a real PXE ROM's silent boot server).
pub const ALL: &[Scenario] = &[
    Scenario {
        name: "healthy-dhcpd",
        tools: &[Tcpdump, Dhcpd, Dhclient, Udhcpc, Dhcpcd],
        run: healthy::dhcpd,
    },
    Scenario {
        name: "healthy-kea",
        tools: &[Tcpdump, Kea, Dhclient, Udhcpc, Dhcpcd],
        run: healthy::kea,
    },
    Scenario {
        name: "healthy-dnsmasq",
        tools: &[Tcpdump, Dnsmasq, Dhclient, Udhcpc, Dhcpcd],
        run: healthy::dnsmasq,
    },
    Scenario {
        name: "min-secs",
        tools: &[Tcpdump, Dhcpd, Dhclient],
        run: min_secs::run,
    },
    Scenario {
        name: "partial-checksum",
        tools: &[Tcpdump, Dnsmasq, Ethtool],
        run: checksum::strict,
    },
    Scenario {
        name: "partial-checksum-fixed",
        tools: &[Tcpdump, Dnsmasq, Ethtool, Iptables],
        run: checksum::fixed,
    },
    Scenario {
        name: "partial-checksum-tolerant",
        tools: &[Tcpdump, Dnsmasq, Ethtool, Dhclient],
        run: checksum::tolerant,
    },
    Scenario {
        name: "pool-exhausted",
        tools: &[Tcpdump, Kea, Udhcpc, Dhclient],
        run: exhausted::run,
    },
    Scenario {
        name: "init-reboot-wrong-network",
        tools: &[Tcpdump, Dhcpd, Dhclient],
        run: reboot::run,
    },
    Scenario {
        name: "rogue-server",
        tools: &[Tcpdump, Dhcpd, Dnsmasq, Dhclient],
        run: rogue::run,
    },
    Scenario {
        name: "relay",
        tools: &[Tcpdump, Dhcpd, Dhcrelay, Dhclient, Udhcpc],
        run: relay::run,
    },
    Scenario {
        name: "renew-rebind-release",
        tools: &[Tcpdump, Dhcpd, Dhclient, Ebtables],
        run: lifecycle::renew_rebind_release,
    },
    Scenario {
        name: "decline",
        tools: &[Tcpdump, Kea, Dhcpcd],
        run: lifecycle::decline,
    },
    Scenario {
        name: "vlan-trunk",
        tools: &[Tcpdump, Dhcpd, Dhclient, Udhcpc],
        run: vlan::run,
    },
    Scenario {
        name: "ack-lost",
        tools: &[Tcpdump, Dnsmasq, Udhcpc, Ethtool, Nft],
        run: ack_lost::run,
    },
    Scenario {
        name: "pxe-boot-server-silent",
        tools: &[Tcpdump, Dhcpd, Qemu],
        run: pxe::boot_server_silent,
    },
    Scenario {
        name: "pxe-boot-menu-no-server",
        tools: &[Tcpdump, Dnsmasq, Qemu],
        run: pxe::boot_menu_no_server,
    },
    Scenario {
        name: "pxe-boot-search-plain-ack",
        tools: &[Tcpdump, Dhcpd, Qemu],
        run: pxe::boot_search_plain_ack,
    },
    Scenario {
        name: "stp-port-not-forwarding",
        tools: &[Tcpdump, Dhcpd, Dhclient],
        run: stp::run,
    },
    Scenario {
        name: "serve-min-secs",
        tools: &[Tcpdump, Dhclient],
        run: served::min_secs,
    },
];

impl Scenario {
    /// Its MAC byte: its position in [`ALL`], from 1, so every example has
    /// its own stable addresses (`02:00:00:<id>:<host>:<n>`).
    pub fn mac_id(&self) -> u8 {
        ALL.iter()
            .position(|s| s.name == self.name)
            .map_or(0xff, |i| i as u8 + 1)
    }

    /// Runs it in `lab` (with this scenario's MAC byte).
    pub fn run_in(&self, lab: Lab) -> Result<Recording> {
        let lab = lab.with_mac_id(self.mac_id());
        (self.run)(&lab)
    }
}

/// The scenario called `name`.
pub fn find(name: &str) -> Option<&'static Scenario> {
    ALL.iter().find(|s| s.name == name)
}

/// Runs scenario `name` as a test: skips (or, under `CI=true`, fails) when
/// the lab cannot run, panics with the evidence when a check fails.
pub fn test(name: &str) {
    let s = find(name).unwrap_or_else(|| panic!("no scenario {name}"));
    let Some(lab) = crate::require(name, s.tools) else {
        return;
    };
    let dir = lab.dir().to_path_buf();
    match s.run_in(lab) {
        Ok(rec) => {
            eprintln!("{name}: {}", rec.description);
            for e in &rec.evidence {
                eprintln!("  {e}");
            }
            for f in &rec.files {
                let p = rec.dir.join(f);
                assert!(p.is_file(), "{name}: {} was not written", p.display());
            }
            eprintln!("  (files in {})", rec.dir.display());
        }
        Err(e) => panic!(
            "{name} did not reproduce: {e:#}\n(files in {})",
            dir.display()
        ),
    }
}

/// Fails with `what` and the listing of `seen` unless `cond`.
fn ensure_seen(cond: bool, what: &str, seen: &[Seen]) -> Result<()> {
    if !cond {
        bail!("{what}; the capture holds:\n{}", crate::pcap::listing(seen));
    }
    Ok(())
}

/// MAC as text, the way the servers log it.
fn mac(m: [u8; 6]) -> String {
    wire::frame::mac_to_string(&m)
}

/// Bounds for waits in scenarios: generous against a loaded machine, short
/// enough that a failure is quick.
const BOUND: Duration = Duration::from_secs(20);

/// Checks that `seen` holds, for client `chaddr`, a DISCOVER, an OFFER, a
/// REQUEST and an ACK of `addr`, in that order; returns the ACK.
fn dora(seen: &[Seen], chaddr: [u8; 6], addr: std::net::Ipv4Addr) -> Result<&Seen> {
    use wire::MessageType::*;
    let mut want = [Discover, Offer, Request, Ack].into_iter().peekable();
    let mut ack = None;
    for s in seen.iter().filter(|s| s.chaddr_mac() == chaddr) {
        let Some(&next) = want.peek() else { break };
        if s.is(next) && (!matches!(next, Offer | Ack) || s.msg.yiaddr == addr) {
            want.next();
            if next == Ack {
                ack = Some(s);
            }
        }
    }
    match ack {
        Some(a) => Ok(a),
        None => {
            ensure_seen(
                false,
                &format!(
                    "no DISCOVER/OFFER/REQUEST/ACK of {addr} for {}",
                    mac(chaddr)
                ),
                seen,
            )?;
            unreachable!()
        }
    }
}
