//! Scenario 4: Kea with a one-address pool. The first client gets the
//! address; the second one's DISCOVERs (secs rising, so not min-secs) get no
//! OFFER, and Kea says why only in its log.

use anyhow::{ensure, Context, Result};
use wire::MessageType::{Discover, Offer};

use super::{dora, ensure_seen, mac, Recording, BOUND};
use crate::clients::{Dhclient, Udhcpc};
use crate::pcap::of_kind;
use crate::servers::{Kea, Subnet};
use crate::{net, Capture, Lab};

pub fn run(lab: &Lab) -> Result<Recording> {
    let mut rec = Recording::new(lab, "");
    let mut n = lab.network();
    let lan = n.add_link("lan")?;
    let server = n.add_host_on("server", lan, Some(net("10.0.0.1/24")))?;
    let first = n.add_host_on("first", lan, None)?;
    let second = n.add_host_on("second", lan, None)?;
    let (first_mac, second_mac) = (n.host(first).iface(0).mac, n.host(second).iface(0).mac);
    let server_cap = Capture::on_host(&n, server, 0, "server.pcap")?;
    let client_cap = Capture::on_host(&n, second, 0, "client.pcap")?;
    let mut kea = Kea::new(vec![Subnet::new("10.0.0.0/24", "10.0.0.100", "10.0.0.100")
        .router("10.0.0.1")
        .lease(600)])
    .start(&n, server)?;

    let mut u = Udhcpc::default().start(&n, first)?;
    let addr = u.wait_bound(BOUND)?;
    ensure!(addr.to_string() == "10.0.0.100", "first client got {addr}");
    rec.note(format!("udhcpc: {}", u.bound_line().unwrap_or_default()));

    // dhclient tries for 8 s, then gives up (-1).
    let mut d = Dhclient {
        oneshot: true,
        conf: vec![
            "initial-interval 1;".into(),
            "backoff-cutoff 2;".into(),
            "timeout 8;".into(),
        ],
        ..Dhclient::default()
    }
    .start(&n, second)?;
    let status = d.wait_exit(BOUND)?;
    ensure!(!status.success(), "dhclient succeeded");
    let gave_up = d
        .log()
        .find(&["No DHCPOFFERS received"])
        .context("dhclient did not say it got no offers")?;
    rec.note(format!("dhclient: {gave_up}"));

    let fails = kea
        .log()
        .matching(&["ALLOC_ENGINE_V4_ALLOC_FAIL ", &mac(second_mac)]);
    ensure!(
        fails.len() >= 3,
        "Kea logged {} allocation failures",
        fails.len()
    );
    rec.note(format!("kea: {}", fails[0]));
    let nak = kea
        .log()
        .find(&["DHCP4_PACKET_NAK_0003", &mac(second_mac)])
        .context("no DHCP4_PACKET_NAK_0003")?;
    rec.note(format!("kea: {nak}"));
    kea.stop()?;

    let server_seen = server_cap.stop_when("the first client's ACK", BOUND, |seen| {
        dora(seen, first_mac, addr).is_ok()
    })?;
    let client_seen = client_cap.stop()?;
    dora(&server_seen, first_mac, addr)?;
    for (vantage, seen) in [("server", &server_seen), ("client", &client_seen)] {
        let discovers: Vec<_> = of_kind(seen, Discover)
            .into_iter()
            .filter(|s| s.chaddr_mac() == second_mac)
            .collect();
        let secs: Vec<u16> = discovers.iter().map(|d| d.msg.secs).collect();
        ensure_seen(
            discovers.len() >= 3
                && secs.windows(2).all(|w| w[0] <= w[1])
                && secs.last() > secs.first(),
            &format!("{vantage}: expected 3+ DISCOVERs from the second client with secs rising"),
            seen,
        )?;
        ensure_seen(
            !seen
                .iter()
                .any(|s| s.is(Offer) && s.chaddr_mac() == second_mac),
            &format!("{vantage}: an OFFER to the second client"),
            seen,
        )?;
        rec.note(format!(
            "{vantage}.pcap: {} DISCOVERs from {} with secs {secs:?}, no OFFER",
            discovers.len(),
            mac(second_mac)
        ));
    }
    rec.description = format!(
        "Kea's one-address pool is taken by udhcpc ({addr}); dhclient's DISCOVERs (secs rising) get no OFFER \
         and Kea logs ALLOC_ENGINE_V4_ALLOC_FAIL for each"
    );
    rec.file("server.pcap")
        .file("client.pcap")
        .file("kea.log")
        .file("udhcpc.log")
        .file("dhclient.log");
    Ok(rec)
}
