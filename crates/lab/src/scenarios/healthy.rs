//! Scenario 1: a healthy exchange with each server, for three different
//! clients (dhclient, udhcpc, dhcpcd) at once.

use anyhow::{Context, Result};

use super::{dora, mac, Recording, BOUND};
use crate::clients::{Dhclient, Dhcpcd, Udhcpc};
use crate::servers::{Dhcpd, Dnsmasq, Kea, Server, Subnet};
use crate::{net, Capture, Lab};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Which {
    Dhcpd,
    Kea,
    Dnsmasq,
}

pub fn dhcpd(lab: &Lab) -> Result<Recording> {
    run(lab, Which::Dhcpd)
}

pub fn kea(lab: &Lab) -> Result<Recording> {
    run(lab, Which::Kea)
}

pub fn dnsmasq(lab: &Lab) -> Result<Recording> {
    run(lab, Which::Dnsmasq)
}

fn run(lab: &Lab, which: Which) -> Result<Recording> {
    let mut n = lab.network();
    let lan = n.add_link("lan")?;
    let server = n.add_host_on("server", lan, Some(net("10.0.0.1/24")))?;
    let hosts = [
        n.add_host_on("client1", lan, None)?,
        n.add_host_on("client2", lan, None)?,
        n.add_host_on("client3", lan, None)?,
    ];
    let cap = Capture::on_host(&n, server, 0, "server.pcap")?;
    // dnsmasq will not lease for less than two minutes.
    let subnet = Subnet::new("10.0.0.0/24", "10.0.0.100", "10.0.0.150")
        .router("10.0.0.1")
        .lease(600);
    let (mut srv, server_name): (Server, &str) = match which {
        Which::Dhcpd => (Dhcpd::new(vec![subnet]).start(&n, server)?, "ISC dhcpd"),
        Which::Kea => (Kea::new(vec![subnet]).start(&n, server)?, "Kea"),
        Which::Dnsmasq => (Dnsmasq::new(vec![subnet]).start(&n, server)?, "dnsmasq"),
    };
    let mut clients = [
        Dhclient::default().start(&n, hosts[0])?,
        Udhcpc::default().start(&n, hosts[1])?,
        Dhcpcd {
            oneshot: true,
            ..Dhcpcd::default()
        }
        .start(&n, hosts[2])?,
    ];
    let mut rec = Recording::new(lab, "");
    let mut leases = Vec::new();
    for (c, h) in clients.iter_mut().zip(hosts) {
        let addr = c
            .wait_bound(BOUND)
            .with_context(|| format!("{} got no lease", c.name))?;
        let m = n.host(h).iface(0).mac;
        let line = c.bound_line().unwrap_or_default();
        rec.note(format!("{}: {}", c.name, line));
        leases.push((c.name.clone(), m, addr));
    }
    for (_, m, addr) in &leases {
        let (a, m) = (addr.to_string(), mac(*m));
        let needles: Vec<String> = match which {
            Which::Dhcpd => vec![format!("DHCPACK on {a} to {m}")],
            Which::Kea => vec![
                "DHCP4_LEASE_ALLOC".into(),
                m.clone(),
                format!("lease {a} has been allocated"),
            ],
            Which::Dnsmasq => vec![format!("DHCPACK(eth0) {a} {m}")],
        };
        let needles: Vec<&str> = needles.iter().map(String::as_str).collect();
        let line = srv.wait_log(&needles, BOUND)?;
        rec.note(format!("{}: {line}", srv.name));
        // And the lease database holds it.
        let lease = srv.wait_lease(&m, BOUND)?;
        rec.note(format!("{} leases: {}", srv.name, lease.trim()));
    }
    clients[0].stop()?;
    let seen = cap.stop_when("an ACK for every client", BOUND, |seen| {
        leases.iter().all(|(_, m, a)| dora(seen, *m, *a).is_ok())
    })?;
    for (name, m, addr) in &leases {
        let ack = dora(&seen, *m, *addr)?;
        rec.note(format!("{name}: {ack}"));
    }
    rec.description = format!(
        "{server_name} leases {} to dhclient, udhcpc and dhcpcd in full DISCOVER/OFFER/REQUEST/ACK exchanges",
        leases
            .iter()
            .map(|l| l.2.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    rec.file("server.pcap")
        .file(&format!("{}.log", srv.name))
        .file("dhclient.log")
        .file("udhcpc.log")
        .file("dhcpcd.log");
    Ok(rec)
}
