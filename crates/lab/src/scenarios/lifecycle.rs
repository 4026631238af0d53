//! Scenario 8: a lease's life after the first ACK.
//! - renew-rebind-release: ISC dhcpd hands dhclient a 30 s lease with T1 4 s
//!   and T2 10 s. The first renewal (unicast to the server) is ACKed; then the
//!   switch drops unicast DHCP towards the server (a broken unicast path), so
//!   the next renewals go unanswered until T2, when the broadcast REBIND is
//!   ACKed; finally `dhclient -r` sends a RELEASE.
//! - decline: Kea offers dhcpcd the first address of its pool, which another
//!   host already uses; dhcpcd's ARP probe is answered, so it DECLINEs it.

use std::net::Ipv4Addr;
use std::path::Path;
use std::time::Duration;

use anyhow::{ensure, Context, Result};
use wire::MessageType::{Ack, Decline, Release, Request};

use super::{dora, ensure_seen, mac, Recording, BOUND};
use crate::clients::{Dhclient, Dhcpcd};
use crate::pcap::Seen;
use crate::servers::{Dhcpd, Kea, Subnet};
use crate::tcpdump::DHCP_FILTER;
use crate::{net, Capture, Lab, Tool};

const SERVER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);

/// The ebtables rule (in the switch) that drops unicast DHCP to servers.
const BLOCK_UNICAST: [&str; 11] = [
    "FORWARD",
    "-p",
    "IPv4",
    "-d",
    "!",
    "ff:ff:ff:ff:ff:ff",
    "--ip-proto",
    "udp",
    "--ip-dport",
    "67",
    "-j",
];

fn is_renew(s: &Seen, chaddr: [u8; 6]) -> bool {
    s.is(Request)
        && s.chaddr_mac() == chaddr
        && s.msg.ciaddr != Ipv4Addr::UNSPECIFIED
        && s.dst.ip() == &SERVER
}

/// Whether the server ACKed `r` before the client sent anything else.
fn answered(seen: &[Seen], r: &Seen) -> bool {
    seen.iter()
        .filter(|s| s.number > r.number)
        .find(|s| s.msg.xid == r.msg.xid && (s.is(Ack) || s.msg.op == wire::Op::BootRequest))
        .is_some_and(|s| s.is(Ack))
}

fn is_rebind(s: &Seen, chaddr: [u8; 6]) -> bool {
    s.is(Request)
        && s.chaddr_mac() == chaddr
        && s.msg.ciaddr != Ipv4Addr::UNSPECIFIED
        && s.dst.ip().is_broadcast()
        && s.msg.server_id().is_none()
}

pub fn renew_rebind_release(lab: &Lab) -> Result<Recording> {
    let mut rec = Recording::new(lab, "");
    let mut n = lab.network();
    let lan = n.add_link("lan")?;
    let server = n.add_host_on("server", lan, Some(net("10.0.0.1/24")))?;
    let client = n.add_host_on("client", lan, None)?;
    let cmac = n.host(client).iface(0).mac;
    let client_cap = Capture::on_host(&n, client, 0, "client.pcap")?;
    let server_cap = Capture::on_host(&n, server, 0, "server.pcap")?;
    let mut srv = Dhcpd::new(vec![Subnet::new("10.0.0.0/24", "10.0.0.100", "10.0.0.150")
        .router("10.0.0.1")
        .lease(30)
        .timers(4, 10)])
    .start(&n, server)?;
    let dhclient = Dhclient::default();
    let mut dh = dhclient.start(&n, client)?;
    let addr = dh.wait_bound(BOUND)?;
    rec.note(format!("dhclient: {}", dh.bound_line().unwrap_or_default()));

    // T1: a unicast REQUEST to the server, ACKed.
    let renew = dh
        .hooks()
        .wait_for(&["reason=RENEW", &format!("ip={addr}")], BOUND)?;
    rec.note(format!("dhclient hook: {renew}"));
    let ebtables = Tool::Ebtables.resolve()?;
    let ebtables = ebtables.to_string_lossy();
    let switch = n.link(lan).ns();
    let mut rule = vec!["-A"];
    rule.extend(BLOCK_UNICAST);
    rule.push("DROP");
    switch.run(&ebtables, &rule)?;
    rec.note("switch: ebtables -A FORWARD -p IPv4 -d ! ff:ff:ff:ff:ff:ff --ip-proto udp --ip-dport 67 -j DROP");

    // The next renewals are lost; at T2 the broadcast rebind is ACKed.
    let seen = client_cap.wait_for(
        "an ACKed broadcast rebind",
        Duration::from_secs(30),
        |seen| seen.iter().any(|r| is_rebind(r, cmac) && answered(seen, r)),
    )?;
    let rebind = seen
        .iter()
        .find(|r| is_rebind(r, cmac) && answered(&seen, r))
        .expect("found");
    // dhclient 4.4 stays in RENEWING and only switches to broadcast after
    // T2, so its hook says RENEW, never REBIND.
    let hooks = dh.hooks().wait_count(&["reason=RENEW"], 2, BOUND)?;
    rec.note(format!(
        "dhclient hook after the rebind: {}",
        hooks[hooks.len() - 1]
    ));
    ensure!(
        dh.hooks().find(&["reason=REBIND"]).is_none(),
        "dhclient's hook said REBIND after all"
    );
    let dh_line = dh
        .log()
        .matching(&[&format!(
            "DHCPREQUEST for {addr} on eth0 to 255.255.255.255"
        )])
        .pop()
        .context("dhclient did not log a broadcast renewal")?;
    rec.note(format!("dhclient: {dh_line}"));
    let rebind_number = rebind.number;
    rule[0] = "-D";
    switch.run(&ebtables, &rule)?;

    dhclient.release(&n, client)?;
    let released = srv.wait_log(
        &[&format!("DHCPRELEASE of {addr} from {}", mac(cmac))],
        BOUND,
    )?;
    rec.note(format!("dhcpd: {released}"));
    for l in srv
        .log()
        .matching(&[&format!("DHCPREQUEST for {addr} from {}", mac(cmac))])
    {
        rec.note(format!("dhcpd: {l}"));
    }

    let cs = client_cap.stop_when("the RELEASE", BOUND, |s| s.iter().any(|p| p.is(Release)))?;
    let ss = server_cap.stop_when("the RELEASE", BOUND, |s| s.iter().any(|p| p.is(Release)))?;
    dora(&cs, cmac, addr)?;
    let renews: Vec<&Seen> = cs.iter().filter(|s| is_renew(s, cmac)).collect();
    let lost = renews.iter().filter(|r| !answered(&cs, r)).count();
    ensure_seen(
        renews.first().is_some_and(|r| answered(&cs, r)) && lost >= 1,
        "expected an ACKed renewal, then unanswered ones",
        &cs,
    )?;
    let rebinds: Vec<&Seen> = cs
        .iter()
        .filter(|s| is_rebind(s, cmac) && s.number == rebind_number)
        .collect();
    ensure_seen(
        rebinds.len() == 1,
        "the rebind is gone from client.pcap",
        &cs,
    )?;
    let release = cs.iter().find(|s| s.is(Release)).context("no RELEASE")?;
    ensure_seen(
        release.msg.ciaddr == addr && release.dst.ip() == &SERVER,
        "the RELEASE is not unicast from the lease",
        &cs,
    )?;
    rec.note(format!("client.pcap: renewal {}", renews[0]));
    let a_lost = renews.iter().find(|r| !answered(&cs, r)).expect("one");
    rec.note(format!(
        "client.pcap: {lost} unicast renewal(s) unanswered, e.g. {a_lost}"
    ));
    rec.note(format!("client.pcap: rebind {}", rebinds[0]));
    rec.note(format!("client.pcap: {release}"));
    // The server never saw the lost renewals.
    let server_renews = ss.iter().filter(|s| is_renew(s, cmac)).count();
    ensure_seen(
        server_renews + lost == renews.len(),
        &format!(
            "server.pcap should hold {} of the {} renewals",
            renews.len() - lost,
            renews.len()
        ),
        &ss,
    )?;
    rec.note(format!(
        "server.pcap: {server_renews} of the client's {} unicast renewals arrived",
        renews.len()
    ));
    rec.description = format!(
        "dhclient holds {addr} from ISC dhcpd (lease 30 s, T1 4 s, T2 10 s): the first unicast renewal is ACKed; then \
         the switch drops unicast DHCP to the server, {lost} unicast renewal(s) go unanswered and the broadcast \
         REQUEST after T2 (rebinding) is ACKed; dhclient -r then RELEASEs the address"
    );
    rec.file("client.pcap")
        .file("server.pcap")
        .file("dhcpd.log")
        .file("dhclient.log");
    Ok(rec)
}

/// An ARP frame: (operation, sender IP, target IP, sender MAC).
type Arp = (u16, Ipv4Addr, Ipv4Addr, [u8; 6]);

/// The ARP frames in a pcap file.
fn arps(path: &Path) -> Result<Vec<Arp>> {
    let mut r = capture::open(path)?;
    let mut out = Vec::new();
    while let Ok(Some(p)) = r.next_packet() {
        let d = p.data;
        if d.len() >= 42 && d[12..14] == [0x08, 0x06] {
            let a = &d[14..];
            let ip = |o: usize| Ipv4Addr::new(a[o], a[o + 1], a[o + 2], a[o + 3]);
            let mut m = [0; 6];
            m.copy_from_slice(&a[8..14]);
            out.push((u16::from_be_bytes([a[6], a[7]]), ip(14), ip(24), m));
        }
    }
    Ok(out)
}

pub fn decline(lab: &Lab) -> Result<Recording> {
    let mut rec = Recording::new(lab, "");
    let mut n = lab.network();
    let lan = n.add_link("lan")?;
    let server = n.add_host_on("server", lan, Some(net("10.0.0.1/24")))?;
    // A host configured by hand with the pool's first address.
    let squatter = n.add_host_on("squatter", lan, Some(net("10.0.0.10/24")))?;
    let client = n.add_host_on("client", lan, None)?;
    let cmac = n.host(client).iface(0).mac;
    let smac = n.host(squatter).iface(0).mac;
    let taken: Ipv4Addr = "10.0.0.10".parse()?;
    let filter = format!("{DHCP_FILTER} or arp");
    let cap = Capture::start(
        n.host(client).ns(),
        "eth0",
        &n.dir().join("client.pcap"),
        &filter,
    )?;
    let mut kea = Kea::new(vec![Subnet::new("10.0.0.0/24", "10.0.0.10", "10.0.0.11")
        .router("10.0.0.1")
        .lease(600)])
    .start(&n, server)?;
    let mut dc = Dhcpcd {
        arp: true,
        ..Dhcpcd::default()
    }
    .start(&n, client)?;
    let declined = kea.wait_log(&["DHCP4_DECLINE_LEASE", &mac(cmac)], BOUND)?;
    rec.note(format!("kea: {declined}"));
    ensure!(declined.contains(&taken.to_string()), "{declined}");
    let in_use = dc
        .log()
        .find(&["claims", &taken.to_string()])
        .or_else(|| dc.log().find(&["DAD detected", &taken.to_string()]))
        .context("dhcpcd did not say the address is in use")?;
    rec.note(format!("dhcpcd: {in_use}"));
    // After the DECLINE it starts over and gets the other address.
    let addr = dc.wait_bound(Duration::from_secs(40))?;
    rec.note(format!("dhcpcd: {}", dc.bound_line().unwrap_or_default()));
    ensure!(addr != taken, "dhcpcd kept {taken}");
    dc.stop()?;
    kea.stop()?;
    let seen = cap.stop_when("the second ACK", BOUND, |s| dora(s, cmac, addr).is_ok())?;

    let first_ack = seen
        .iter()
        .find(|s| s.is(Ack) && s.msg.yiaddr == taken)
        .context("no ACK of the taken address")?;
    let dec = seen
        .iter()
        .find(|s| s.is(Decline) && s.chaddr_mac() == cmac)
        .context("no DECLINE")?;
    ensure_seen(
        dec.msg.requested_ip() == Some(taken) && dec.number > first_ack.number,
        "the DECLINE does not name the ACKed address",
        &seen,
    )?;
    let second = dora(&seen, cmac, addr)?;
    let wait = second.time.secs_f64() - dec.time.secs_f64();
    rec.note(format!("client.pcap: {first_ack}"));
    let arp = arps(&n.dir().join("client.pcap"))?;
    let probe = arp
        .iter()
        .find(|a| a.0 == 1 && a.1 == Ipv4Addr::UNSPECIFIED && a.2 == taken && a.3 == cmac)
        .context("no ARP probe for the address")?;
    let reply = arp
        .iter()
        .find(|a| a.0 == 2 && a.1 == taken && a.3 == smac)
        .context("no ARP reply from the squatter")?;
    rec.note(format!(
        "client.pcap: ARP probe who-has {} tell {}",
        probe.2, probe.1
    ));
    rec.note(format!(
        "client.pcap: ARP reply {} is-at {}",
        reply.1,
        mac(reply.3)
    ));
    rec.note(format!("client.pcap: {dec}"));
    rec.note(format!(
        "client.pcap: {second} ({wait:.1} s after the DECLINE)"
    ));
    rec.description = format!(
        "Kea ACKs {taken} to dhcpcd, whose ARP probe is answered by a host already using it: dhcpcd DECLINEs it \
         (Kea logs DHCP4_DECLINE_LEASE) and {wait:.0} s later gets {addr}"
    );
    rec.file("client.pcap").file("kea.log").file("dhcpcd.log");
    Ok(rec)
}
