//! Not one of issue 3's numbered scenarios, but its topology option: a
//! healthy exchange across an 802.1Q trunk. ISC dhcpd sits behind the trunk
//! (side B); dhclient and udhcpc on side A; every DHCP frame on the trunk
//! carries VLAN 100, none at the server.

use anyhow::Result;

use super::{dora, ensure_seen, Recording, BOUND};
use crate::clients::{Dhclient, Udhcpc};
use crate::servers::{Dhcpd, Subnet};
use crate::{net, Capture, Lab, Side};

const VID: u16 = 100;

pub fn run(lab: &Lab) -> Result<Recording> {
    let mut rec = Recording::new(lab, "");
    let mut n = lab.network();
    let lan = n.add_trunk_link("lan", VID)?;
    let server = n.add_host("server")?;
    n.connect_side(server, lan, Side::B, Some(net("10.0.100.1/24")))?;
    let c1 = n.add_host_on("client1", lan, None)?;
    let c2 = n.add_host_on("client2", lan, None)?;
    let (m1, m2) = (n.host(c1).iface(0).mac, n.host(c2).iface(0).mac);
    let trunk = Capture::on_trunk(&n, lan, "trunk.pcap")?;
    let at_server = Capture::on_host(&n, server, 0, "server.pcap")?;
    let _srv = Dhcpd::new(vec![Subnet::new(
        "10.0.100.0/24",
        "10.0.100.100",
        "10.0.100.150",
    )
    .router("10.0.100.1")])
    .start(&n, server)?;
    let mut dh = Dhclient::default().start(&n, c1)?;
    let mut ud = Udhcpc::default().start(&n, c2)?;
    let a1 = dh.wait_bound(BOUND)?;
    let a2 = ud.wait_bound(BOUND)?;
    rec.note(format!("dhclient: {}", dh.bound_line().unwrap_or_default()));
    rec.note(format!("udhcpc: {}", ud.bound_line().unwrap_or_default()));
    dh.stop()?;
    let both = |s: &[crate::pcap::Seen]| dora(s, m1, a1).is_ok() && dora(s, m2, a2).is_ok();
    let t = trunk.stop_when("both exchanges", BOUND, both)?;
    let s = at_server.stop_when("both exchanges", BOUND, both)?;
    ensure_seen(
        t.iter().all(|p| p.vlans == [VID]),
        &format!("every frame on the trunk should carry VLAN {VID}"),
        &t,
    )?;
    ensure_seen(
        s.iter().all(|p| p.vlans.is_empty()),
        "the server should see untagged frames",
        &s,
    )?;
    rec.note(format!("trunk.pcap: {}", dora(&t, m1, a1)?));
    rec.note(format!("server.pcap: {}", dora(&s, m1, a1)?));
    rec.description = format!(
        "ISC dhcpd behind an 802.1Q trunk leases {a1} to dhclient and {a2} to udhcpc; every DHCP frame on the trunk \
         carries VLAN {VID}, the server's side is untagged"
    );
    rec.file("trunk.pcap")
        .file("server.pcap")
        .file("dhcpd.log")
        .file("dhclient.log")
        .file("udhcpc.log");
    Ok(rec)
}
