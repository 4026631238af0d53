//! The example of `crates/lab/README.md`, kept compiling and passing.

use std::time::Duration;

use lab::clients::Dhclient;
use lab::servers::{Dhcpd, Subnet};
use lab::{net, Capture, Lab, Tool};

#[test]
fn my_test() {
    // Skips (or, under CI=true, fails) when not root or a program is missing.
    let lab = lab::require!("my-test", Tool::Dhcpd, Tool::Dhclient, Tool::Tcpdump);
    run(&lab).unwrap();
}

fn run(lab: &Lab) -> anyhow::Result<()> {
    let mut n = lab.network();
    let lan = n.add_link("lan")?; // a bridge in its own namespace
    let server = n.add_host_on("server", lan, Some(net("10.0.0.1/24")))?;
    let client = n.add_host_on("client", lan, None)?; // eth0, MAC 02:00:00:<id>:<host>:01
    let cap = Capture::on_host(&n, client, 0, "client.pcap")?; // waits for "listening on"
    let mut dhcpd = Dhcpd::new(vec![Subnet::new("10.0.0.0/24", "10.0.0.100", "10.0.0.150")]);
    dhcpd.min_secs = Some(2);
    let mut srv = dhcpd.start(&n, server)?; // waits for "Server starting service."
    let mut dh = Dhclient::default().start(&n, client)?;
    let addr = dh.wait_bound(Duration::from_secs(20))?;
    srv.wait_log(&["DHCPACK on", &addr.to_string()], Duration::from_secs(5))?;
    // Waits until the ACK is in the file (nothing in flight is lost), then stops.
    let seen = cap.stop_when("the ACK", Duration::from_secs(5), |seen| {
        seen.iter().any(|s| s.is(wire::MessageType::Ack)) // pcap::Seen, decoded with wire
    })?;
    assert!(seen.iter().any(|s| s.msg.yiaddr == addr));
    Ok(())
    // Dropping `n` kills every process in its namespaces and deletes them.
}
