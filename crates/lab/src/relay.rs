//! ISC dhcrelay 4.4 (`isc-dhcp-relay`): a real relay, so `giaddr`, `hops` and
//! option 82 are what real networks carry.

use std::net::Ipv4Addr;
use std::time::Duration;

use anyhow::Result;

use crate::log::Log;
use crate::net::{HostId, Network};
use crate::process::{Output, Process};
use crate::Tool;

/// How to run dhcrelay on a host.
#[derive(Debug, Clone)]
pub struct Dhcrelay {
    pub name: String,
    /// Interfaces (`eth<i>`) facing the clients: `-id`.
    pub downstream: Vec<usize>,
    /// Interfaces facing the servers: `-iu`.
    pub upstream: Vec<usize>,
    pub servers: Vec<Ipv4Addr>,
    /// `-a`: add a relay agent information option (82) with the circuit id.
    pub agent_options: bool,
}

impl Dhcrelay {
    pub fn new(downstream: Vec<usize>, upstream: Vec<usize>, servers: Vec<Ipv4Addr>) -> Dhcrelay {
        Dhcrelay {
            name: "dhcrelay".into(),
            downstream,
            upstream,
            servers,
            agent_options: true,
        }
    }

    pub fn start(&self, net: &Network, host: HostId) -> Result<Relay> {
        let h = net.host(host);
        let dir = net.dir();
        let mut cmd = h.ns().command(Tool::Dhcrelay.resolve()?);
        cmd.args(["-4", "-d"]);
        if self.agent_options {
            cmd.arg("-a");
        }
        cmd.arg("-pf").arg(dir.join(format!("{}.pid", self.name)));
        for i in &self.downstream {
            cmd.args(["-id", &h.iface(*i).name]);
        }
        for i in &self.upstream {
            cmd.args(["-iu", &h.iface(*i).name]);
        }
        for s in &self.servers {
            cmd.arg(s.to_string());
        }
        let mut process = Process::spawn(
            &self.name,
            cmd,
            Output::Stamped {
                path: dir.join(format!("{}.log", self.name)),
                host: h.name().into(),
                tag: "dhcrelay".into(),
            },
        )?;
        process.wait_for(&["Sending on   Socket/fallback"], Duration::from_secs(10))?;
        Ok(Relay { process })
    }
}

/// A running dhcrelay.
#[derive(Debug)]
pub struct Relay {
    process: Process,
}

impl Relay {
    pub fn log(&self) -> &Log {
        self.process.log()
    }
    pub fn process(&mut self) -> &mut Process {
        &mut self.process
    }
}
