//! Captures at any vantage point with tcpdump, into pcap files.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Result};

use crate::net::{HostId, LinkId, Network};
use crate::netns::Netns;
use crate::pcap::{self, Seen};
use crate::process::{describe, Output, Process};
use crate::Tool;

/// The capture filter for DHCP.
pub const DHCP_FILTER: &str = "udp port 67 or udp port 68";

/// DHCP and the ICMP errors about it (ports unreachable, …).
pub const DHCP_AND_ICMP_FILTER: &str = "udp port 67 or udp port 68 or icmp";

/// DHCP and the switches' spanning-tree BPDUs (which show that the capture
/// was running while no DHCP packet came).
pub const DHCP_AND_STP_FILTER: &str = "udp port 67 or udp port 68 or stp";

/// A running tcpdump writing a pcap file.
#[derive(Debug)]
pub struct Capture {
    process: Process,
    path: PathBuf,
}

impl Capture {
    /// Starts tcpdump on `iface` in `ns`, writing `path` (packet-buffered, no
    /// snap length), and waits until it is listening.
    pub fn start(ns: &Netns, iface: &str, path: &Path, filter: &str) -> Result<Capture> {
        let tcpdump = Tool::Tcpdump.resolve()?;
        let mut cmd = ns.command(tcpdump);
        cmd.args(["-i", iface, "-n", "-U", "-s", "0", "--immediate-mode"])
            .args(["-Z", "root", "-w"])
            .arg(path)
            .arg(filter);
        let log = path.with_extension("tcpdump.log");
        let _ = std::fs::remove_file(&log);
        let mut process = Process::spawn(
            &format!("tcpdump {}:{iface}", ns.name()),
            cmd,
            Output::Raw(log),
        )?;
        process.wait_for(&["listening on"], Duration::from_secs(10))?;
        Ok(Capture {
            process,
            path: path.to_path_buf(),
        })
    }

    /// On a host's interface `eth<i>`: what that host's kernel sees and sends.
    pub fn on_host(net: &Network, host: HostId, i: usize, file: &str) -> Result<Capture> {
        let h = net.host(host);
        Capture::start(h.ns(), &h.iface(i).name, &net.dir().join(file), DHCP_FILTER)
    }

    /// [`Capture::on_host`] with ICMP too ([`DHCP_AND_ICMP_FILTER`]).
    pub fn on_host_with_icmp(net: &Network, host: HostId, i: usize, file: &str) -> Result<Capture> {
        let h = net.host(host);
        Capture::start(
            h.ns(),
            &h.iface(i).name,
            &net.dir().join(file),
            DHCP_AND_ICMP_FILTER,
        )
    }

    /// [`Capture::on_host`] with spanning-tree BPDUs too ([`DHCP_AND_STP_FILTER`]).
    pub fn on_host_with_stp(net: &Network, host: HostId, i: usize, file: &str) -> Result<Capture> {
        let h = net.host(host);
        Capture::start(
            h.ns(),
            &h.iface(i).name,
            &net.dir().join(file),
            DHCP_AND_STP_FILTER,
        )
    }

    /// On the switch port of a host's interface `eth<i>`: the wire next to it.
    pub fn on_port(net: &Network, host: HostId, i: usize, file: &str) -> Result<Capture> {
        let h = net.host(host);
        let iface = h.iface(i);
        let l = net.link(iface.link);
        Capture::start(l.ns(), &iface.port, &net.dir().join(file), DHCP_FILTER)
    }

    /// On a link's bridge: every frame on the segment.
    pub fn on_link(net: &Network, link: LinkId, file: &str) -> Result<Capture> {
        let l = net.link(link);
        Capture::start(l.ns(), l.bridge(), &net.dir().join(file), DHCP_FILTER)
    }

    /// On side A's end of a trunked link's trunk: tagged frames.
    pub fn on_trunk(net: &Network, link: LinkId, file: &str) -> Result<Capture> {
        let l = net.link(link);
        if l.vlan().is_none() {
            bail!("link {} has no trunk", l.name());
        }
        // `vlan` last: it shifts the offsets of what follows it.
        let filter = format!("{DHCP_FILTER} or (vlan and ({DHCP_FILTER}))");
        Capture::start(l.ns(), "trunk-a", &net.dir().join(file), &filter)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The DHCP packets written so far.
    pub fn packets(&self) -> Result<Vec<Seen>> {
        pcap::read(&self.path)
    }

    /// Waits until the packets written so far satisfy `done`; returns them.
    pub fn wait_for(
        &self,
        what: &str,
        timeout: Duration,
        done: impl Fn(&[Seen]) -> bool,
    ) -> Result<Vec<Seen>> {
        let mut last = Vec::new();
        let r = crate::log::wait_until(what, timeout, || {
            last = self.packets()?;
            Ok(done(&last).then(|| last.clone()))
        });
        r.map_err(|e| {
            anyhow::anyhow!(
                "{e} in {}; it holds:\n{}",
                self.path.display(),
                pcap::listing(&last)
            )
        })
    }

    /// Waits until the packets written satisfy `done` (so nothing still in
    /// flight is lost), then stops; returns the complete file's packets.
    pub fn stop_when(
        self,
        what: &str,
        timeout: Duration,
        done: impl Fn(&[Seen]) -> bool,
    ) -> Result<Vec<Seen>> {
        self.wait_for(what, timeout, done)?;
        self.stop()
    }

    /// Stops tcpdump (SIGINT, so it writes out what it has read) and returns
    /// the file's packets. Frames still queued in the kernel may be lost: to
    /// keep a frame just sent, wait for it first ([`Capture::stop_when`]).
    pub fn stop(mut self) -> Result<Vec<Seen>> {
        let s = self.process.interrupt(Duration::from_secs(5))?;
        if !s.success() && s.code().is_some() {
            bail!(
                "tcpdump on {} ended with {}: {}",
                self.path.display(),
                describe(s),
                self.process.log().tail(5)
            );
        }
        pcap::read(&self.path)
    }
}
