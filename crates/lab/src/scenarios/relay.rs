//! Scenario 7: clients behind ISC dhcrelay. The relay joins two client links
//! (lan1 10.1.0.0/24, lan2 10.2.0.0/24) to the server's link (10.0.0.0/24)
//! and adds option 82 (`-a`). ISC dhcpd serves lan1; it has no subnet for
//! lan2, so the DISCOVERs relayed with giaddr 10.2.0.1 match no subnet and
//! are dropped ("unknown network segment").

use std::net::Ipv4Addr;

use anyhow::{ensure, Context, Result};
use wire::MessageType::{Ack, Discover, Offer};

use super::{dora, ensure_seen, mac, Recording, BOUND};
use crate::clients::{Dhclient, Udhcpc};
use crate::pcap::{of_kind, Seen};
use crate::relay::Dhcrelay;
use crate::servers::{Dhcpd, Subnet};
use crate::{net, Capture, Lab};

const GIADDR1: Ipv4Addr = Ipv4Addr::new(10, 1, 0, 1);
const GIADDR2: Ipv4Addr = Ipv4Addr::new(10, 2, 0, 1);

pub fn run(lab: &Lab) -> Result<Recording> {
    let mut rec = Recording::new(lab, "");
    let mut n = lab.network();
    let core = n.add_link("core")?;
    let lan1 = n.add_link("lan1")?;
    let lan2 = n.add_link("lan2")?;
    let server = n.add_host_on("server", core, Some(net("10.0.0.1/24")))?;
    let relay = n.add_host_on("relay", core, Some(net("10.0.0.254/24")))?;
    n.connect(relay, lan1, Some(net("10.1.0.1/24")))?;
    n.connect(relay, lan2, Some(net("10.2.0.1/24")))?;
    let client1 = n.add_host_on("client1", lan1, None)?;
    let client2 = n.add_host_on("client2", lan2, None)?;
    let (mac1, mac2) = (n.host(client1).iface(0).mac, n.host(client2).iface(0).mac);
    for dest in ["10.1.0.0/24", "10.2.0.0/24"] {
        n.host(server).route(dest, "10.0.0.254".parse()?)?;
    }
    let server_cap = Capture::on_host(&n, server, 0, "server.pcap")?;
    let cap1 = Capture::on_host(&n, client1, 0, "client1.pcap")?;
    let cap2 = Capture::on_host(&n, client2, 0, "client2.pcap")?;
    let mut srv = Dhcpd::new(vec![
        Subnet::declared("10.0.0.0/24"),
        Subnet::new("10.1.0.0/24", "10.1.0.100", "10.1.0.150").router("10.1.0.1"),
    ])
    .start(&n, server)?;
    let mut rly = Dhcrelay::new(vec![1, 2], vec![0], vec!["10.0.0.1".parse()?]).start(&n, relay)?;

    let mut dh = Dhclient::default().start(&n, client1)?;
    let mut ud = Udhcpc {
        discovers: 3,
        pause: 2,
        ..Udhcpc::default()
    }
    .start(&n, client2)?;
    let addr = dh.wait_bound(BOUND)?;
    rec.note(format!("dhclient: {}", dh.bound_line().unwrap_or_default()));
    let status = ud.wait_exit(BOUND)?;
    ensure!(!status.success(), "udhcpc on lan2 got a lease");
    let failed = ud
        .log()
        .find(&["no lease"])
        .context("udhcpc did not say it failed")?;
    rec.note(format!("udhcpc: {failed}"));

    let served = srv.wait_log(
        &[&format!("DHCPACK on {addr} to {} via {GIADDR1}", mac(mac1))],
        BOUND,
    )?;
    rec.note(format!("dhcpd: {served}"));
    let unknown = srv.log().matching(&[
        &format!("DHCPDISCOVER from {} via {GIADDR2}", mac(mac2)),
        "unknown network segment",
    ]);
    ensure!(
        unknown.len() >= 2,
        "dhcpd logged {} unknown-segment drops",
        unknown.len()
    );
    rec.note(format!("dhcpd: {}", unknown[0]));
    let forwarded = rly.log().matching(&["Forwarded BOOTREQUEST", &mac(mac2)]);
    if let Some(f) = forwarded.first() {
        rec.note(format!("dhcrelay: {f}"));
    }
    dh.stop()?;
    rly.process().stop()?;

    let seen = server_cap.stop_when("the relayed ACK", BOUND, |s| dora(s, mac1, addr).is_ok())?;
    let c1 = cap1.stop_when("the ACK", BOUND, |s| dora(s, mac1, addr).is_ok())?;
    let c2 = cap2.stop()?;
    // Server side: relayed, with giaddr, hops and option 82, echoed back.
    let relayed = |s: &&Seen| s.msg.giaddr != Ipv4Addr::UNSPECIFIED;
    let d1 = seen
        .iter()
        .find(|s| s.is(Discover) && s.chaddr_mac() == mac1)
        .context("no relayed DISCOVER from client1")?;
    ensure_seen(
        relayed(&d1) && d1.msg.giaddr == GIADDR1 && d1.msg.hops >= 1 && d1.option82().is_some(),
        "client1's DISCOVER reached the server without giaddr 10.1.0.1, hops and option 82",
        &seen,
    )?;
    rec.note(format!(
        "server.pcap: {d1} hops={} option82={:02x?}",
        d1.msg.hops,
        d1.option82().unwrap_or_default()
    ));
    let ack = dora(&seen, mac1, addr)?;
    ensure_seen(
        ack.option82() == d1.option82() && ack.dst.ip() == &GIADDR1,
        "the ACK does not go back to the relay with option 82 echoed",
        &seen,
    )?;
    rec.note(format!("server.pcap: {ack}"));
    let d2: Vec<&Seen> = of_kind(&seen, Discover)
        .into_iter()
        .filter(|s| s.chaddr_mac() == mac2)
        .collect();
    ensure_seen(
        d2.len() >= 2
            && d2
                .iter()
                .all(|d| d.msg.giaddr == GIADDR2 && d.option82().is_some()),
        "client2's DISCOVERs did not reach the server relayed with giaddr 10.2.0.1",
        &seen,
    )?;
    ensure_seen(
        !seen.iter().any(|s| s.is(Offer) && s.chaddr_mac() == mac2),
        "client2 was offered",
        &seen,
    )?;
    rec.note(format!("server.pcap: {}", d2[0]));
    // Client side: no giaddr and no option 82 left in what the clients see.
    let a1 = c1
        .iter()
        .find(|s| s.is(Ack))
        .context("no ACK in client1.pcap")?;
    ensure_seen(
        a1.option82().is_none() && a1.src.ip() == &GIADDR1,
        "client1's ACK carries option 82 or does not come from the relay",
        &c1,
    )?;
    rec.note(format!("client1.pcap: {a1}"));
    ensure_seen(
        c2.iter().all(|s| !s.is(Offer)) && of_kind(&c2, Discover).len() >= 2,
        "client2.pcap: expected DISCOVERs and no OFFER",
        &c2,
    )?;
    rec.description = format!(
        "Through ISC dhcrelay (-a, option 82), dhclient on lan1 gets {addr} from ISC dhcpd (giaddr {GIADDR1}); \
         udhcpc on lan2 gets nothing: dhcpd has no subnet for giaddr {GIADDR2} (\"unknown network segment\")"
    );
    rec.file("server.pcap")
        .file("client1.pcap")
        .file("client2.pcap")
        .file("dhcpd.log")
        .file("dhcrelay.log")
        .file("dhclient.log")
        .file("udhcpc.log");
    Ok(rec)
}
