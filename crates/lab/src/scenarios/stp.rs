//! Catalogue E.30 with a real switch: the kernel's spanning tree on the
//! link's bridge. A port that comes up listens, then learns (the forward
//! delay each) before it forwards a frame, as an 802.1D switch port
//! without PortFast does. The client (dhclient) starts the moment its link
//! is up; its DISCOVERs are lost in the bridge until the port forwards, and
//! the first one to reach the server already says, in `secs`, how long the
//! client has been trying. The lease comes late, but it comes.

use std::time::Duration;

use anyhow::{ensure, Context, Result};
use wire::MessageType::Discover;

use super::{dora, ensure_seen, mac, Recording};
use crate::clients::Dhclient;
use crate::servers::{Dhcpd, Subnet};
use crate::{net, Capture, Lab};

/// The bridge's forward delay: 18 s from link-up to forwarding, more than
/// the 15 s of `secs` that `stp-delay-suspected` looks for.
pub const FORWARD_DELAY: Duration = Duration::from_secs(9);

pub fn run(lab: &Lab) -> Result<Recording> {
    let mut rec = Recording::new(lab, "");
    let mut n = lab.network();
    let lan = n.add_link("lan")?;
    n.enable_stp(lan, FORWARD_DELAY)?;
    let server = n.add_host_on("server", lan, Some(net("10.0.0.1/24")))?;
    let client = n.add_host("client")?;
    // With the bridge's BPDUs, which show the capture running long before
    // the client's first DISCOVER got through.
    let cap = Capture::on_host_with_stp(&n, server, 0, "server.pcap")?;
    // The server's own port goes through the same states first.
    let waited = n.wait_forwarding(server, 0, 4 * FORWARD_DELAY)?;
    rec.note(format!(
        "switch: the server's port forwards {:.1} s after it came up",
        waited.as_secs_f64()
    ));
    let subnet = Subnet::new("10.0.0.0/24", "10.0.0.100", "10.0.0.150").router("10.0.0.1");
    let mut srv = Dhcpd::new(vec![subnet]).start(&n, server)?;
    n.connect(client, lan, None)?;
    let client_cap = Capture::on_host(&n, client, 0, "client.pcap")?;
    let mut dhclient = Dhclient::default().start(&n, client)?;
    let first_state = n.port_state(client, 0)?;
    ensure!(
        first_state == "listening",
        "the client's new port is {first_state}, not listening"
    );
    let waited = n.wait_forwarding(client, 0, 4 * FORWARD_DELAY)?;
    rec.note(format!(
        "switch: the client's port was {first_state}, and forwards {:.1} s after it came up",
        waited.as_secs_f64()
    ));
    let addr = dhclient
        .wait_bound(FORWARD_DELAY * 2 + Duration::from_secs(20))
        .context("dhclient got no lease once the port forwarded")?;
    rec.note(format!(
        "dhclient: {}",
        dhclient.bound_line().unwrap_or_default()
    ));
    let ack = srv.wait_log(&["DHCPACK on", &addr.to_string()], super::BOUND)?;
    rec.note(format!("dhcpd: {}", ack.trim_end()));
    dhclient.stop()?;
    let seen = cap.stop()?;
    let client_seen = client_cap.stop()?;
    let m = n.host(client).iface(0).mac;
    dora(&seen, m, addr)?;
    let first = seen
        .iter()
        .find(|s| s.is(Discover) && s.chaddr_mac() == m)
        .context("no DISCOVER")?;
    ensure_seen(
        first.msg.secs >= 15,
        &format!(
            "server.pcap: the first DISCOVER from {} has secs {}, expected 15 or more",
            mac(m),
            first.msg.secs
        ),
        &seen,
    )?;
    // The capture was running long before: the bridge's BPDUs say so.
    let mut r = capture::open(n.dir().join("server.pcap").to_str().context("path")?)?;
    let first_frame = r.next_packet()?.context("server.pcap is empty")?.timestamp;
    let before = (first.time.0 - first_frame.0) as f64 / 1e9;
    ensure!(
        before >= f64::from(first.msg.secs),
        "server.pcap: its first frame is only {before:.1} s before the first DISCOVER (secs {})",
        first.msg.secs
    );
    rec.note(format!(
        "server.pcap: the first DISCOVER from {} (frame {}) has secs {}; the capture holds the bridge's BPDUs from \
         {before:.1} s before it",
        mac(m),
        first.number,
        first.msg.secs
    ));
    // The client's side: every DISCOVER it sent, the first ones unanswered.
    let sent: Vec<_> = client_seen
        .iter()
        .filter(|s| s.is(Discover) && s.msg.secs < first.msg.secs)
        .collect();
    ensure_seen(
        !sent.is_empty() && sent.iter().all(|s| s.time < first.time),
        "client.pcap: expected the DISCOVERs that the switch lost, before the first the server saw",
        &client_seen,
    )?;
    rec.note(format!(
        "client.pcap: {} DISCOVER(s) sent before it (secs {}), none in server.pcap",
        sent.len(),
        sent.iter()
            .map(|s| s.msg.secs.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    ));
    rec.file("client.pcap")
        .file("server.pcap")
        .file("dhcpd.log");
    rec.description = format!(
        "A switch port without PortFast (the kernel bridge's spanning tree, forward delay {} s) listens and learns \
         for {:.0} s after the link comes up: dhclient's DISCOVERs are lost until it forwards, and the first that \
         reaches ISC dhcpd says secs {}; the client gets its lease that late",
        FORWARD_DELAY.as_secs(),
        waited.as_secs_f64(),
        first.msg.secs
    );
    Ok(rec)
}
