//! Scenario 6: two servers on one link. The site's ISC dhcpd pings an address
//! before offering it (`ping-check true`, about a second); a rogue dnsmasq
//! (a home router plugged into the wrong port, serving 192.168.1.0/24)
//! answers at once. dhclient takes the first OFFER: the rogue's. The
//! authoritative dhcpd NAKs the REQUEST for the rogue's address, a NAK that
//! dhclient logs and ignores.

use anyhow::{ensure, Context, Result};
use wire::MessageType::{Ack, Discover, Nak, Offer, Request};

use super::{ensure_seen, mac, Recording, BOUND};
use crate::clients::Dhclient;
use crate::servers::{Dhcpd, Dnsmasq, Subnet};
use crate::{net, Capture, Lab};

pub fn run(lab: &Lab) -> Result<Recording> {
    let mut rec = Recording::new(lab, "");
    let mut n = lab.network();
    let lan = n.add_link("lan")?;
    let server = n.add_host_on("server", lan, Some(net("10.0.0.1/24")))?;
    let rogue = n.add_host_on("rogue", lan, Some(net("192.168.1.1/24")))?;
    let client = n.add_host_on("client", lan, None)?;
    let client_mac = n.host(client).iface(0).mac;
    let rogue_mac = n.host(rogue).iface(0).mac;
    let cap = Capture::on_host(&n, client, 0, "client.pcap")?;
    let mut legit = Dhcpd {
        ping_check: true,
        ..Dhcpd::new(vec![
            Subnet::new("10.0.0.0/24", "10.0.0.100", "10.0.0.150").router("10.0.0.1")
        ])
    }
    .start(&n, server)?;
    let mut bad = Dnsmasq {
        name: "rogue".into(),
        ..Dnsmasq::new(vec![Subnet::new(
            "192.168.1.0/24",
            "192.168.1.100",
            "192.168.1.150",
        )
        .router("192.168.1.1")
        .lease(600)])
    }
    .start(&n, rogue)?;

    let mut dh = Dhclient::default().start(&n, client)?;
    let addr = dh.wait_bound(BOUND)?;
    rec.note(format!("dhclient: {}", dh.bound_line().unwrap_or_default()));
    ensure!(
        net("192.168.1.0/24").contains(addr),
        "dhclient took {addr}, not the rogue's offer"
    );
    let rogue_ack = bad.wait_log(
        &["DHCPACK(eth0)", &addr.to_string(), &mac(client_mac)],
        BOUND,
    )?;
    rec.note(format!("rogue dnsmasq: {}", rogue_ack.trim_end()));
    let legit_offer = legit.wait_log(&["DHCPOFFER on", &mac(client_mac)], BOUND)?;
    rec.note(format!("dhcpd: {legit_offer}"));
    let legit_request = legit.wait_log(
        &["DHCPREQUEST for", &addr.to_string(), &mac(client_mac)],
        BOUND,
    )?;
    rec.note(format!("dhcpd: {legit_request}"));
    let legit_nak = legit.wait_log(&["DHCPNAK on", &addr.to_string(), &mac(client_mac)], BOUND)?;
    rec.note(format!("dhcpd: {legit_nak}"));
    let ignored = dh
        .log()
        .find(&["DHCPNAK from 10.0.0.1"])
        .context("dhclient did not log dhcpd's NAK")?;
    rec.note(format!("dhclient: {ignored}"));
    dh.stop()?;
    let seen = cap.stop_when("two OFFERs, the NAK and the ACK", BOUND, |seen| {
        let count = |k| seen.iter().filter(|s| s.is(k)).count();
        count(Offer) >= 2 && count(Nak) >= 1 && count(Ack) >= 1
    })?;

    let discover = seen
        .iter()
        .find(|s| s.is(Discover) && s.chaddr_mac() == client_mac)
        .context("no DISCOVER in client.pcap")?;
    let offers: Vec<_> = seen
        .iter()
        .filter(|s| s.is(Offer) && s.msg.xid == discover.msg.xid)
        .collect();
    ensure_seen(
        offers.len() == 2,
        "expected two OFFERs for the DISCOVER",
        &seen,
    )?;
    let (first, second) = (offers[0], offers[1]);
    ensure_seen(
        first.src_mac == Some(rogue_mac) && first.msg.server_id() == Some("192.168.1.1".parse()?),
        "the rogue's OFFER did not come first",
        &seen,
    )?;
    ensure_seen(
        second.msg.server_id() == Some("10.0.0.1".parse()?),
        "the second OFFER is not dhcpd's",
        &seen,
    )?;
    let lag = second.time.secs_f64() - first.time.secs_f64();
    let request = seen
        .iter()
        .find(|s| s.is(Request) && s.chaddr_mac() == client_mac)
        .context("no REQUEST")?;
    ensure_seen(
        request.msg.server_id() == first.msg.server_id()
            && request.msg.requested_ip() == Some(addr),
        "the REQUEST does not name the rogue's offer",
        &seen,
    )?;
    let ack = seen
        .iter()
        .find(|s| s.is(Ack) && s.chaddr_mac() == client_mac)
        .context("no ACK")?;
    ensure_seen(
        ack.src_mac == Some(rogue_mac),
        "the ACK is not the rogue's",
        &seen,
    )?;
    let nak = seen
        .iter()
        .find(|s| s.is(Nak) && s.msg.xid == request.msg.xid)
        .context("no NAK from dhcpd in client.pcap")?;
    ensure_seen(
        nak.msg.server_id() == Some("10.0.0.1".parse()?),
        "the NAK is not dhcpd's",
        &seen,
    )?;
    for s in [discover, first, request, nak, ack, second] {
        rec.note(format!("client.pcap: {s}"));
    }
    rec.note(format!("dhcpd's OFFER came {lag:.3} s after the rogue's"));
    rec.description = format!(
        "A rogue dnsmasq (192.168.1.1) answers dhclient's DISCOVER at once and dhclient requests its offer; the site's \
         authoritative ISC dhcpd (10.0.0.1) NAKs that REQUEST (wrong network), which dhclient ignores; the rogue ACKs {addr}; dhcpd's own OFFER (ping-check) comes {lag:.1} s later, too late"
    );
    rec.file("client.pcap")
        .file("dhcpd.log")
        .file("rogue.log")
        .file("dhclient.log");
    Ok(rec)
}
