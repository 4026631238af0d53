//! Catalogue B.10 for the ACK: the switch drops every DHCPACK on its way from
//! the server to the client (an nftables rule where the server's frames
//! enter its port; DHCP snooping or a broken vSwitch does the same). dnsmasq
//! ACKs each REQUEST; busybox udhcpc never sees an ACK, sends its REQUEST
//! three times and gives up. The server's capture holds the ACKs, the
//! client's none.

use anyhow::{ensure, Result};
use wire::MessageType::{Ack, Offer, Request};

use super::{ensure_seen, mac, Recording, BOUND};
use crate::clients::Udhcpc;
use crate::net::DHCP_ACKS;
use crate::pcap::of_kind;
use crate::servers::{Dnsmasq, Subnet};
use crate::{net, Capture, Lab};

pub fn run(lab: &Lab) -> Result<Recording> {
    let mut rec = Recording::new(lab, "");
    let mut n = lab.network();
    let lan = n.add_link("lan")?;
    let server = n.add_host_on("server", lan, Some(net("10.0.0.1/24")))?;
    let client = n.add_host_on("client", lan, None)?;
    let client_mac = n.host(client).iface(0).mac;
    // Checksums filled in by the server: only the loss is wrong here.
    n.host(server)
        .ns()
        .run("ethtool", &["-K", "eth0", "tx", "off"])?;
    n.drop_from(server, 0, DHCP_ACKS)?;
    rec.note(format!(
        "switch: nftables drops, from the server's port, {}",
        DHCP_ACKS.join(" ")
    ));
    let server_cap = Capture::on_host(&n, server, 0, "server.pcap")?;
    let client_cap = Capture::on_host(&n, client, 0, "client.pcap")?;
    let mut srv = Dnsmasq::new(vec![Subnet::new("10.0.0.0/24", "10.0.0.100", "10.0.0.150")
        .router("10.0.0.1")
        .lease(600)])
    .start(&n, server)?;
    let mut udhcpc = Udhcpc {
        discovers: 1,
        ..Udhcpc::default()
    }
    .start(&n, client)?;
    let status = udhcpc.wait_exit(BOUND)?;
    ensure!(
        !status.success() && udhcpc.bound_line().is_none(),
        "udhcpc got a lease: {}",
        udhcpc.log().tail(10)
    );
    let gave_up = udhcpc.log().find(&["no lease"]);
    rec.note(format!(
        "udhcpc: {}",
        gave_up.unwrap_or_default().trim_end()
    ));
    let acks = srv.wait_log_count(&["DHCPACK(eth0)", &mac(client_mac)], 3, BOUND)?;
    rec.note(format!("dnsmasq: {}", acks[0].trim_end()));
    let dropped = n.dropped_from(server, 0)?;
    rec.note(format!("switch: {dropped} frames dropped"));
    let server_seen = server_cap.stop()?;
    let client_seen = client_cap.stop()?;
    let (requests, server_acks) = (of_kind(&server_seen, Request), of_kind(&server_seen, Ack));
    ensure_seen(
        requests.len() == 3 && server_acks.len() == 3 && dropped == 3,
        "server.pcap: expected three REQUESTs each ACKed (and three ACKs dropped)",
        &server_seen,
    )?;
    ensure_seen(
        of_kind(&client_seen, Ack).is_empty()
            && of_kind(&client_seen, Request).len() == 3
            && of_kind(&client_seen, Offer).len() == 1,
        "client.pcap: expected the OFFER, three REQUESTs and no ACK",
        &client_seen,
    )?;
    for s in [requests[0], server_acks[0], requests[1], server_acks[1]] {
        rec.note(format!("server.pcap: {s}"));
    }
    rec.description = format!(
        "The switch drops dnsmasq's ACKs on their way to udhcpc: the client REQUESTs its offer three times, each \
         REQUEST is ACKed (server.pcap), no ACK arrives (client.pcap), and udhcpc gives up without a lease; \
         {dropped} ACKs dropped"
    );
    rec.file("server.pcap")
        .file("client.pcap")
        .file("dnsmasq.log")
        .file("udhcpc.log");
    Ok(rec)
}
