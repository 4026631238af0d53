//! Scenario 2, the first founding bug: ISC dhcpd with `min-secs 2` and a boot
//! ROM whose retransmitted DISCOVERs keep `secs` at 0. The server never
//! offers; only its log says why. A dhclient on the same link, whose `secs`
//! counts, is served once it reaches 2.

use std::time::Duration;

use anyhow::{ensure, Context, Result};
use wire::MessageType::{Discover, Offer};

use super::{ensure_seen, mac, Recording, BOUND};
use crate::clients::Dhclient;
use crate::pcap::{of_kind, Seen};
use crate::scripted::{self, Config, Outcome};
use crate::servers::{Dhcpd, Subnet};
use crate::{net, Capture, Lab};

pub fn run(lab: &Lab) -> Result<Recording> {
    let mut n = lab.network();
    let lan = n.add_link("lan")?;
    let server = n.add_host_on("server", lan, Some(net("10.0.0.1/24")))?;
    let rom = n.add_host_on("rom", lan, None)?;
    let pc = n.add_host_on("pc", lan, None)?;
    let rom_mac = n.host(rom).iface(0).mac;
    let pc_mac = n.host(pc).iface(0).mac;
    let client_cap = Capture::on_host(&n, rom, 0, "client.pcap")?;
    let server_cap = Capture::on_host(&n, server, 0, "server.pcap")?;
    let mut dhcpd = Dhcpd::new(vec![
        Subnet::new("10.0.0.0/24", "10.0.0.100", "10.0.0.150").router("10.0.0.1")
    ]);
    dhcpd.min_secs = Some(2);
    let mut srv = dhcpd.start(&n, server)?;

    let mut pc_client = Dhclient::default().start(&n, pc)?;
    let report = scripted::run_on(&n, rom, 0, "rom", &rom_config(rom_mac, 0x5ec0_0000))?;
    let pc_addr = pc_client
        .wait_bound(BOUND)
        .context("the control client got no lease")?;
    pc_client.stop()?;

    let mut rec = Recording::new(lab, "");
    // The ROM: four DISCOVERs with secs 0, nothing back.
    ensure!(
        report.outcome == Outcome::NoLease,
        "the ROM got a lease: {report:?}"
    );
    ensure!(report.sent(Discover) == 4, "{report:?}");
    ensure!(
        report.accepted(Offer) == 0,
        "the ROM got an OFFER: {report:?}"
    );
    // The only trace of why: one drop line per DISCOVER in dhcpd's log.
    let drops = srv.wait_log_count(&[&mac(rom_mac), "min-secs", "message dropped"], 4, BOUND)?;
    rec.note(format!("dhcpd: {}", drops[0]));
    ensure!(
        drops
            .iter()
            .all(|l| l.contains("is greater than secs field (0)")),
        "{drops:?}"
    );
    ensure!(
        srv.log().find(&["DHCPOFFER", &mac(rom_mac)]).is_none(),
        "dhcpd offered to the ROM"
    );
    // The control: dhclient's DISCOVERs are dropped while its secs is below 2.
    let pc_offer = srv
        .log()
        .find(&["DHCPOFFER on", &mac(pc_mac)])
        .context("no offer to the control client")?;
    rec.note(format!("dhcpd: {pc_offer}"));
    let pc_drops = srv.log().count(&[&mac(pc_mac), "message dropped"]);
    rec.note(format!(
        "dhcpd dropped {pc_drops} DISCOVER(s) of dhclient before its secs reached 2"
    ));
    ensure!(
        pc_drops >= 1,
        "dhclient's first DISCOVER (secs 0) was not dropped"
    );

    let client_seen = client_cap.stop()?;
    let server_seen = server_cap.stop_when("the OFFER to dhclient", BOUND, |seen| {
        seen.iter().any(|s| s.is(Offer) && s.chaddr_mac() == pc_mac)
    })?;
    for (vantage, seen) in [("client", &client_seen), ("server", &server_seen)] {
        let discovers = rom_unanswered(vantage, seen, rom_mac)?;
        let span = discovers[3].time.secs_f64() - discovers[0].time.secs_f64();
        rec.note(format!(
            "{vantage}.pcap: 4 DISCOVERs from the ROM over {span:.1} s, secs 0 in each, no OFFER"
        ));
    }
    // The control's OFFER answered a DISCOVER with secs >= 2.
    let offer = server_seen
        .iter()
        .find(|s| s.is(Offer) && s.chaddr_mac() == pc_mac)
        .context("no OFFER to dhclient in server.pcap")?;
    let asked = server_seen
        .iter()
        .rfind(|s| s.is(Discover) && s.chaddr_mac() == pc_mac && s.number < offer.number)
        .context("no DISCOVER before dhclient's OFFER")?;
    ensure_seen(
        asked.msg.secs >= 2,
        "dhclient was offered below secs 2",
        &server_seen,
    )?;
    rec.note(format!("server.pcap: {asked}"));
    rec.note(format!("server.pcap: {offer}"));

    rec.description = format!(
        "ISC dhcpd with min-secs 2 silently drops an Etherboot-like ROM's 4 DISCOVERs whose secs stays 0 \
         (only dhcpd's log says why); dhclient on the same link gets {pc_addr} once its secs reaches {}",
        asked.msg.secs
    );
    rec.file("client.pcap")
        .file("server.pcap")
        .file("dhcpd.log")
        .file("rom.log")
        .file("dhclient.log");
    Ok(rec)
}

/// The ROM: four DISCOVERs, 1, 2, 3 and 4 s apart, secs always 0; one
/// transaction.
pub(super) fn rom_config(rom_mac: [u8; 6], xid: u32) -> Config {
    Config {
        schedule: [1, 2, 3, 4].map(Duration::from_secs).to_vec(),
        max_transactions: 1,
        ..Config::etherboot(rom_mac, xid)
    }
}

/// What a capture from `vantage` must show of the ROM: its four DISCOVERs,
/// secs 0 in each, and no OFFER to it. Returns the DISCOVERs.
pub(super) fn rom_unanswered<'s>(
    vantage: &str,
    seen: &'s [Seen],
    rom_mac: [u8; 6],
) -> Result<Vec<&'s Seen>> {
    let discovers: Vec<_> = of_kind(seen, Discover)
        .into_iter()
        .filter(|s| s.chaddr_mac() == rom_mac)
        .collect();
    ensure_seen(
        discovers.len() == 4 && discovers.iter().all(|d| d.msg.secs == 0),
        &format!("{vantage}: expected 4 DISCOVERs from the ROM, secs 0"),
        seen,
    )?;
    ensure_seen(
        !seen
            .iter()
            .any(|s| s.is(Offer) && s.chaddr_mac() == rom_mac),
        &format!("{vantage}: an OFFER to the ROM"),
        seen,
    )?;
    Ok(discovers)
}
