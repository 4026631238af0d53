//! dhcplens's lab: small isolated networks of Linux network namespaces running
//! real DHCP servers, relays and clients, with captures and logs, for the test
//! suite and to record the bundled examples.
//!
//! Contract:
//! - [`require`] (or [`require!`]) is the entry point of every lab test: it
//!   returns a [`Lab`] (a run directory and a unique name prefix), or prints
//!   `SKIPPED <test>: <reason>` and returns `None` when not root or a program
//!   is missing; under `CI=true` it panics instead, so CI cannot skip.
//! - Everything lives in namespaces the lab creates (`dlab-<pid>.<start>-<seq>-…`,
//!   `<start>` the owning process's start time, so a reused pid is told apart), with
//!   veth pairs and bridges created directly inside them: the machine's own
//!   interfaces are never touched and DHCP never leaves the lab. Processes and
//!   namespaces are removed on drop (also on panic); namespaces left by a
//!   killed run are swept by the next one.
//! - Daemons and clients get explicit paths in the run directory for every
//!   file they write (config, leases, pid, log, hooks), so nothing is written
//!   to the host's `/etc`, `/var/lib` or `/run`.
//! - Synchronisation is on events (a log line, a lease, a packet in a capture)
//!   with deadlines, never on fixed sleeps.
//! - Each run keeps its directory `target/lab/<scenario>-<time>-<pid>-<n>/`
//!   (configs, logs, pcaps) so a failure can be inspected.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Once;

use anyhow::{Context, Result};

pub mod clients;
pub mod log;
pub mod net;
pub mod netns;
pub mod pcap;
pub mod process;
pub mod relay;
pub mod scenarios;
pub mod scratch;
pub mod scripted;
pub mod servers;
mod sys;
pub mod tcpdump;
pub mod vlan;

pub use log::Log;
pub use net::{net, HostId, Ipv4Net, LinkId, Network, Side};
pub use netns::Netns;
pub use process::{Output, Process};
pub use scratch::Scratch;
pub use tcpdump::Capture;

/// A program the lab runs, and the Debian package that has it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    Ip,
    Ethtool,
    Ebtables,
    Iptables,
    Nft,
    Tcpdump,
    Dhcpd,
    Kea,
    Dnsmasq,
    Dhcrelay,
    Dhclient,
    Udhcpc,
    Dhcpcd,
    Qemu,
}

impl Tool {
    pub const ALL: [Tool; 14] = [
        Tool::Ip,
        Tool::Ethtool,
        Tool::Ebtables,
        Tool::Iptables,
        Tool::Nft,
        Tool::Tcpdump,
        Tool::Dhcpd,
        Tool::Kea,
        Tool::Dnsmasq,
        Tool::Dhcrelay,
        Tool::Dhclient,
        Tool::Udhcpc,
        Tool::Dhcpcd,
        Tool::Qemu,
    ];

    pub fn binary(self) -> &'static str {
        match self {
            Tool::Ip => "ip",
            Tool::Ethtool => "ethtool",
            Tool::Ebtables => "ebtables",
            Tool::Iptables => "iptables",
            Tool::Nft => "nft",
            Tool::Tcpdump => "tcpdump",
            Tool::Dhcpd => "dhcpd",
            Tool::Kea => "kea-dhcp4",
            Tool::Dnsmasq => "dnsmasq",
            Tool::Dhcrelay => "dhcrelay",
            Tool::Dhclient => "dhclient",
            Tool::Udhcpc => "udhcpc",
            Tool::Dhcpcd => "dhcpcd",
            Tool::Qemu => "qemu-system-x86_64",
        }
    }

    /// The Debian package (listed in `debian-packages.txt`).
    pub fn package(self) -> &'static str {
        match self {
            Tool::Ip => "iproute2",
            Tool::Ethtool => "ethtool",
            Tool::Ebtables | Tool::Iptables => "iptables",
            Tool::Nft => "nftables",
            Tool::Tcpdump => "tcpdump",
            Tool::Dhcpd => "isc-dhcp-server",
            Tool::Kea => "kea-dhcp4-server",
            Tool::Dnsmasq => "dnsmasq-base",
            Tool::Dhcrelay => "isc-dhcp-relay",
            Tool::Dhclient => "isc-dhcp-client",
            Tool::Udhcpc => "udhcpc",
            Tool::Dhcpcd => "dhcpcd-base",
            Tool::Qemu => "qemu-system-x86",
        }
    }

    /// Its absolute path, searched in `PATH` and the sbin directories (which a
    /// non-login root shell may lack).
    pub fn path(self) -> Option<PathBuf> {
        let path = std::env::var_os("PATH").unwrap_or_default();
        std::env::split_paths(&path)
            .chain(
                ["/usr/local/sbin", "/usr/sbin", "/sbin", "/usr/bin", "/bin"]
                    .iter()
                    .map(PathBuf::from),
            )
            .map(|d| d.join(self.binary()))
            .find(|p| is_executable(p))
    }

    /// [`Tool::path`], or an error naming the package to install.
    pub fn resolve(self) -> Result<PathBuf> {
        self.path().with_context(|| {
            format!(
                "{} not found (install the Debian package {})",
                self.binary(),
                self.package()
            )
        })
    }
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    p.metadata()
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// Why the lab cannot run here, if it cannot.
pub fn unavailable(tools: &[Tool]) -> Option<String> {
    if !sys::is_root() {
        return Some("needs root (network namespaces, raw sockets)".into());
    }
    let missing: Vec<String> = std::iter::once(Tool::Ip)
        .chain(tools.iter().copied())
        .filter(|t| t.path().is_none())
        .map(|t| format!("{} (package {})", t.binary(), t.package()))
        .collect();
    if !missing.is_empty() {
        return Some(format!("missing {}", missing.join(", ")));
    }
    if tools.contains(&Tool::Qemu) {
        // The virtual machine's boot ROM and its tap device.
        if !Path::new(clients::IPXE_E1000_ROM).is_file() {
            return Some(format!(
                "missing {} (package ipxe-qemu)",
                clients::IPXE_E1000_ROM
            ));
        }
        if !Path::new("/dev/net/tun").exists() {
            return Some("no /dev/net/tun (QEMU's tap device)".into());
        }
    }
    None
}

/// Whether skipping is forbidden (`CI=true`).
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// The entry point of a lab test: a [`Lab`] for `test` if it can run here.
/// Otherwise prints `SKIPPED <test>: <reason>` to stderr and returns `None`;
/// under `CI=true` it panics instead.
pub fn require(test: &str, tools: &[Tool]) -> Option<Lab> {
    if let Some(reason) = unavailable(tools) {
        let line = skip_message(test, &reason, in_ci());
        // Straight to the stderr descriptor: the test harness captures
        // `eprintln!` of passing tests, and a skip must be visible.
        let _ = writeln!(std::io::stderr(), "{line}");
        return None;
    }
    Some(Lab::new(test).unwrap_or_else(|e| panic!("{test}: setting up the lab: {e:#}")))
}

/// `tshark -r FILE -T fields ARGS`: what it printed, the second opinion on a
/// capture. `None` when tshark cannot run here, after a visible `SKIPPED`
/// line (under `CI=true` it panics instead, as [`require`] does).
pub fn tshark_fields(file: &Path, args: &[&str]) -> Option<String> {
    let out = match std::process::Command::new("tshark")
        .arg("-r")
        .arg(file)
        .args(["-T", "fields"])
        .args(args)
        .output()
    {
        Ok(out) => out,
        Err(e) => {
            let what = format!("the tshark check of {}", file.display());
            let line = skip_message(&what, &format!("tshark cannot run: {e}"), in_ci());
            let _ = writeln!(std::io::stderr(), "{line}");
            return None;
        }
    };
    assert!(
        out.status.success(),
        "tshark -r {}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The numbers of the frames of `file` that tshark's display `filter`
/// selects, in order; `None` as [`tshark_fields`] (not under CI).
pub fn tshark_frames(file: &Path, filter: &str) -> Option<Vec<u64>> {
    let rows = tshark_fields(file, &["-Y", filter, "-e", "frame.number"])?;
    Some(
        rows.lines()
            .map(|l| l.trim().parse().expect("a frame number"))
            .collect(),
    )
}

/// Skips the calling test visibly: prints `SKIPPED <test>: <reason>` to the
/// stderr descriptor (seen even when the harness captures output); under
/// `CI=true` it panics instead, as [`require`] does. The caller returns.
pub fn skip(test: &str, reason: &str) {
    let line = skip_message(test, reason, in_ci());
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// The line a skipped test prints; panics instead when `ci` forbids skipping.
fn skip_message(test: &str, reason: &str, ci: bool) -> String {
    if ci {
        panic!("{test} cannot run and CI=true forbids skipping: {reason}");
    }
    format!("SKIPPED {test}: {reason}")
}

/// `let lab = lab::require!("name", Tool::Dhcpd, …);` returns from the
/// calling test (after printing `SKIPPED …`) when the lab cannot run.
#[macro_export]
macro_rules! require {
    ($test:expr $(, $tool:expr)* $(,)?) => {
        match $crate::require($test, &[$($tool),*]) {
            Some(lab) => lab,
            None => return,
        }
    };
}

static SEQ: AtomicU32 = AtomicU32::new(0);
static SWEEP: Once = Once::new();

/// One scenario's context: its run directory and its unique name prefix.
#[derive(Debug)]
pub struct Lab {
    scenario: String,
    dir: PathBuf,
    prefix: String,
    mac_id: u8,
}

impl Lab {
    /// A lab for `scenario` (kebab-case), with a fresh run directory. Does
    /// not check for root or programs: see [`require`]. The first call in a
    /// process removes namespaces left by killed runs.
    pub fn new(scenario: &str) -> Result<Lab> {
        SWEEP.call_once(|| {
            for n in netns::sweep_stale() {
                eprintln!("lab: removed stale namespace {n}");
            }
        });
        let seq = SEQ.fetch_add(1, Ordering::Relaxed);
        let pid = std::process::id();
        let now = capture::Timestamp::now();
        let (y, mo, d, h, mi, s, _) = now.civil();
        let dir = runs_dir().join(format!(
            "{scenario}-{y:04}{mo:02}{d:02}T{h:02}{mi:02}{s:02}-{pid}-{seq}"
        ));
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        Ok(Lab {
            scenario: scenario.to_string(),
            dir,
            prefix: format!("{}-{seq}", netns::own_prefix()),
            mac_id: mac_id(scenario),
        })
    }

    pub fn scenario(&self) -> &str {
        &self.scenario
    }

    /// The run directory (kept after the run).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A file in the run directory.
    pub fn path(&self, file: &str) -> PathBuf {
        self.dir.join(file)
    }

    /// `dlab-<pid>.<start>-<seq>`: what this lab's namespace names start with.
    pub fn ns_prefix(&self) -> String {
        self.prefix.clone()
    }

    /// The scenario's byte in MAC addresses (`02:00:00:<id>:<host>:<n>`).
    pub fn mac_id(&self) -> u8 {
        self.mac_id
    }

    /// The same lab with another MAC byte (by default a hash of the name).
    pub fn with_mac_id(mut self, id: u8) -> Lab {
        self.mac_id = id;
        self
    }

    /// A new, empty network for this lab.
    pub fn network(&self) -> Network {
        Network::new(self)
    }
}

/// `<workspace>/target/lab` (or `$CARGO_TARGET_DIR/lab`).
pub fn runs_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"));
    let target = if target.is_relative() {
        workspace_root().join(target)
    } else {
        target
    };
    target.join("lab")
}

/// The workspace root (two levels above this crate).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/lab is two levels deep")
        .to_path_buf()
}

/// A stable byte per scenario name (FNV-1a folded), never 0.
fn mac_id(scenario: &str) -> u8 {
    let mut h: u32 = 0x811c_9dc5;
    for b in scenario.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    let b = (h ^ (h >> 8) ^ (h >> 16) ^ (h >> 24)) as u8;
    b.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tool_package_is_listed() {
        let list = include_str!("../debian-packages.txt");
        let pkgs: Vec<&str> = list.lines().map(str::trim).collect();
        for t in Tool::ALL {
            assert!(pkgs.contains(&t.package()), "{} missing", t.package());
        }
    }

    #[test]
    fn a_skip_says_which_test_and_why() {
        assert_eq!(
            skip_message("min-secs", "needs root", false),
            "SKIPPED min-secs: needs root"
        );
    }

    #[test]
    #[should_panic(expected = "CI=true forbids skipping: missing dhcpd")]
    fn ci_forbids_skipping() {
        skip_message("min-secs", "missing dhcpd", true);
    }

    #[test]
    fn mac_ids_are_stable_and_nonzero() {
        assert_eq!(mac_id("min-secs"), mac_id("min-secs"));
        assert_ne!(mac_id(""), 0);
    }

    #[test]
    fn runs_dir_is_under_target() {
        assert!(runs_dir().ends_with("lab"));
    }
}
