//! Scenario 5: clients that were moved to another network reboot with their
//! old lease (INIT-REBOOT: a broadcast REQUEST with option 50, no option 54,
//! ciaddr 0). The authoritative ISC dhcpd NAKs them ("wrong network"); they
//! fall back to INIT and get a lease on this network. One is a scripted
//! client, the other a real dhclient started with an old lease file.

use std::net::Ipv4Addr;
use std::time::Duration;

use anyhow::{Context, Result};
use wire::dhcp::code;
use wire::MessageType::{Nak, Request};

use super::{dora, ensure_seen, mac, Recording, BOUND};
use crate::clients::Dhclient;
use crate::pcap::Seen;
use crate::scripted::{self, Config, Start};
use crate::servers::{Dhcpd, Subnet};
use crate::{net, Capture, Lab};

/// Addresses from the network the clients came from.
const OLD_VM: Ipv4Addr = Ipv4Addr::new(192, 168, 77, 23);
const OLD_LAPTOP: Ipv4Addr = Ipv4Addr::new(192, 168, 77, 24);

/// A dhclient lease file holding a lease of `addr` from 192.168.77.1, valid
/// until 2036.
fn old_lease(addr: Ipv4Addr) -> String {
    format!(
        "lease {{\n  interface \"eth0\";\n  fixed-address {addr};\n  option subnet-mask 255.255.255.0;\n  \
         option routers 192.168.77.1;\n  option dhcp-lease-time 86400;\n  option dhcp-message-type 5;\n  \
         option dhcp-server-identifier 192.168.77.1;\n  renew 2 2036/01/01 00:00:00;\n  \
         rebind 2 2036/01/01 00:00:00;\n  expire 2 2036/01/01 00:00:00;\n}}\n"
    )
}

/// The INIT-REBOOT REQUEST for `old` from `chaddr`, and the NAK after it.
fn request_and_nak(seen: &[Seen], chaddr: [u8; 6], old: Ipv4Addr) -> Result<(Seen, Seen)> {
    let req = seen.iter().find(|s| {
        s.is(Request)
            && s.chaddr_mac() == chaddr
            && s.msg.requested_ip() == Some(old)
            && s.msg.server_id().is_none()
            && s.msg.ciaddr == Ipv4Addr::UNSPECIFIED
    });
    let nak = req.and_then(|r| {
        seen.iter()
            .find(|s| s.is(Nak) && s.chaddr_mac() == chaddr && s.msg.xid == r.msg.xid)
    });
    match (req, nak) {
        (Some(r), Some(n)) => Ok((r.clone(), n.clone())),
        _ => {
            ensure_seen(
                false,
                &format!(
                    "no INIT-REBOOT REQUEST for {old} answered by a NAK for {}",
                    mac(chaddr)
                ),
                seen,
            )?;
            unreachable!()
        }
    }
}

pub fn run(lab: &Lab) -> Result<Recording> {
    let mut rec = Recording::new(lab, "");
    let mut n = lab.network();
    let lan = n.add_link("lan")?;
    let server = n.add_host_on("server", lan, Some(net("10.0.0.1/24")))?;
    let vm = n.add_host_on("vm", lan, None)?;
    let laptop = n.add_host_on("laptop", lan, None)?;
    let (vm_mac, laptop_mac) = (n.host(vm).iface(0).mac, n.host(laptop).iface(0).mac);
    let server_cap = Capture::on_host(&n, server, 0, "server.pcap")?;
    let client_cap = Capture::on_host(&n, vm, 0, "client.pcap")?;
    let mut srv = Dhcpd::new(vec![
        Subnet::new("10.0.0.0/24", "10.0.0.100", "10.0.0.150").router("10.0.0.1")
    ])
    .start(&n, server)?;

    let mut dh = Dhclient {
        lease_file: Some(old_lease(OLD_LAPTOP)),
        ..Dhclient::default()
    }
    .start(&n, laptop)?;
    let cfg = Config {
        start: Start::InitReboot(OLD_VM),
        options: vec![(
            code::PARAMETER_REQUEST_LIST,
            vec![1, 3, 6, 15, 28, 51, 58, 59],
        )],
        schedule: [1, 2].map(Duration::from_secs).to_vec(),
        ..Config::new(vm_mac, 0x2eb0_0700)
    };
    let report = scripted::run_on(&n, vm, 0, "client", &cfg)?;
    rec.note(format!("client: {}", report.summary()));
    let nak = report
        .events
        .iter()
        .find(|e| e.kind == Nak)
        .context("the scripted client got no NAK")?;
    rec.note(format!("client: {nak}"));
    let vm_addr = report
        .bound_to()
        .context("the scripted client got no lease after the NAK")?;
    let laptop_addr = dh.wait_bound(BOUND)?;
    rec.note(format!("dhclient: {}", dh.bound_line().unwrap_or_default()));
    let dh_nak = dh
        .log()
        .find(&["DHCPNAK from"])
        .context("dhclient logged no NAK")?;
    rec.note(format!("dhclient: {dh_nak}"));
    dh.stop()?;

    for (m, old) in [(vm_mac, OLD_VM), (laptop_mac, OLD_LAPTOP)] {
        let wrong = srv.wait_log(
            &[
                &format!("DHCPREQUEST for {old} from {}", mac(m)),
                "wrong network",
            ],
            BOUND,
        )?;
        let naked = srv.wait_log(&[&format!("DHCPNAK on {old} to {}", mac(m))], BOUND)?;
        rec.note(format!("dhcpd: {wrong}"));
        rec.note(format!("dhcpd: {naked}"));
    }
    let seen = server_cap.stop_when("both ACKs", BOUND, |seen| {
        dora(seen, vm_mac, vm_addr).is_ok() && dora(seen, laptop_mac, laptop_addr).is_ok()
    })?;
    client_cap.stop()?;
    let mut messages = Vec::new();
    for (who, m, old, new) in [
        ("the scripted client", vm_mac, OLD_VM, vm_addr),
        ("dhclient", laptop_mac, OLD_LAPTOP, laptop_addr),
    ] {
        let (req, nak) = request_and_nak(&seen, m, old)?;
        messages.push(match nak.msg.option(code::MESSAGE) {
            Some(t) => format!(
                "to {who} with option 56 \"{}\"",
                String::from_utf8_lossy(&t)
            ),
            None => format!("to {who} without option 56"),
        });
        rec.note(format!("server.pcap: {req}"));
        rec.note(format!("server.pcap: {nak}"));
        let after: Vec<Seen> = seen
            .iter()
            .filter(|s| s.number > nak.number)
            .cloned()
            .collect();
        let ack = dora(&after, m, new)?;
        rec.note(format!("server.pcap: {who} then {ack}"));
    }
    let nak_msg = messages.join(", ");
    rec.description = format!(
        "Two clients reboot with leases from 192.168.77.0/24 (INIT-REBOOT: option 50, no server id, ciaddr 0); \
         the authoritative ISC dhcpd NAKs both ({nak_msg}), then they get {vm_addr} and {laptop_addr}"
    );
    rec.file("server.pcap")
        .file("client.pcap")
        .file("dhcpd.log")
        .file("client.log")
        .file("dhclient.log");
    Ok(rec)
}
