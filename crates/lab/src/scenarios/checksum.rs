//! Scenario 3, the second founding bug: dnsmasq answers through a veth with
//! transmit checksum offload on, so its replies carry the partial UDP
//! checksum (the pseudo-header sum) to the client. A strict client that
//! verifies checksums from the bytes drops every OFFER and starts over:
//! DISCOVER/OFFER repeat, no REQUEST. dhclient 4.4, which honours
//! `TP_STATUS_CSUMNOTREADY`, takes the same replies and gets its lease.

use std::time::Duration;

use anyhow::{ensure, Context, Result};
use capture::live::KernelChecksum;
use wire::MessageType::{Ack, Discover, Offer, Request};
use wire::UdpChecksum;

use super::{dora, ensure_seen, mac, Recording, BOUND};
use crate::clients::Dhclient;
use crate::net::{HostId, Network};
use crate::pcap::{of_kind, Seen};
use crate::scripted::{self, Action, ChecksumPolicy, Config, Outcome};
use crate::servers::{Dnsmasq, Server, Subnet};
use crate::{net, Capture, Lab, Tool};

struct Setup {
    n: Network,
    server: HostId,
    client: HostId,
}

fn setup(lab: &Lab, rec: &mut Recording) -> Result<Setup> {
    let mut n = lab.network();
    let lan = n.add_link("lan")?;
    let server = n.add_host_on("server", lan, Some(net("10.0.0.1/24")))?;
    let client = n.add_host_on("client", lan, None)?;
    // Transmit checksum offload is on by default on a veth: the kernel leaves
    // the UDP checksum to a "NIC" that never fills it.
    let k = n.host(server).ns().run("ethtool", &["-k", "eth0"])?;
    let line = k
        .lines()
        .find(|l| l.trim_start().starts_with("tx-checksum-ip-generic:"))
        .context("ethtool -k shows no tx-checksum-ip-generic")?
        .trim()
        .to_string();
    ensure!(
        line == "tx-checksum-ip-generic: on",
        "offload is off: {line}"
    );
    rec.note(format!("server: ethtool -k eth0: {line}"));
    Ok(Setup { n, server, client })
}

fn start_dnsmasq(s: &Setup) -> Result<Server> {
    Dnsmasq::new(vec![Subnet::new("10.0.0.0/24", "10.0.0.100", "10.0.0.150")
        .router("10.0.0.1")
        .lease(600)])
    .start(&s.n, s.server)
}

/// Every OFFER and ACK in `seen` has a partial checksum; returns the count.
fn all_replies_partial(seen: &[Seen], vantage: &str) -> Result<usize> {
    let replies: Vec<&Seen> = seen.iter().filter(|s| s.is(Offer) || s.is(Ack)).collect();
    ensure_seen(
        !replies.is_empty()
            && replies
                .iter()
                .all(|r| matches!(r.checksum, UdpChecksum::Partial { .. })),
        &format!("{vantage}: expected only partial checksums on the replies"),
        seen,
    )?;
    Ok(replies.len())
}

pub fn strict(lab: &Lab) -> Result<Recording> {
    let mut rec = Recording::new(lab, "");
    let s = setup(lab, &mut rec)?;
    let client_mac = s.n.host(s.client).iface(0).mac;
    let client_cap = Capture::on_host(&s.n, s.client, 0, "client.pcap")?;
    let server_cap = Capture::on_host(&s.n, s.server, 0, "server.pcap")?;
    let mut srv = start_dnsmasq(&s)?;
    let cfg = Config {
        checksum: ChecksumPolicy::Strict,
        schedule: [1, 2, 2].map(Duration::from_secs).to_vec(),
        max_transactions: 2,
        ..Config::new(client_mac, 0xc5c5_0000)
    };
    let report = scripted::run_on(&s.n, s.client, 0, "client", &cfg)?;
    rec.note(format!("client: {}", report.summary()));
    ensure!(report.outcome == Outcome::NoLease, "{report:?}");
    ensure!(
        report.sent(Request) == 0,
        "the strict client sent a REQUEST"
    );
    ensure!(report.sent(Discover) == 6, "{}", report.summary());
    let dropped: Vec<_> = report
        .events
        .iter()
        .filter(|e| e.action == Action::DroppedChecksum && e.kind == Offer)
        .collect();
    ensure!(
        dropped.len() >= 2 && report.accepted(Offer) == 0,
        "{}",
        report.summary()
    );
    ensure!(
        dropped
            .iter()
            .all(|e| matches!(e.checksum, Some(UdpChecksum::Partial { .. }))),
        "{dropped:?}"
    );
    // What the kernel said (never used by the client to decide).
    ensure!(
        dropped
            .iter()
            .all(|e| e.kernel == Some(KernelChecksum::NotReady)),
        "{dropped:?}"
    );
    rec.note(format!("client: {}", dropped[0]));

    let offers =
        srv.wait_log_count(&["DHCPOFFER(eth0)", &mac(client_mac)], dropped.len(), BOUND)?;
    rec.note(format!("dnsmasq: {}", offers[0].trim_end()));
    ensure!(
        srv.log().find(&["DHCPREQUEST", &mac(client_mac)]).is_none(),
        "dnsmasq saw a REQUEST"
    );
    let client_seen = client_cap.stop()?;
    let server_seen = server_cap.stop()?;
    for (vantage, seen) in [("server", &server_seen), ("client", &client_seen)] {
        let n = all_replies_partial(seen, vantage)?;
        let discovers = of_kind(seen, Discover).len();
        ensure_seen(
            of_kind(seen, Request).is_empty() && discovers == 6 && n == dropped.len(),
            &format!(
                "{vantage}: expected 6 DISCOVERs, {} OFFERs, no REQUEST",
                dropped.len()
            ),
            seen,
        )?;
        let o = seen.iter().find(|s| s.is(Offer)).expect("an offer");
        rec.note(format!("{vantage}.pcap: {o}"));
    }
    rec.description = format!(
        "dnsmasq's OFFERs leave the server's veth with transmit checksum offload on and reach the client with \
         partial UDP checksums; a strict client drops all {} of them: DISCOVER/OFFER repeat, no REQUEST, no lease",
        dropped.len()
    );
    rec.file("client.pcap")
        .file("server.pcap")
        .file("dnsmasq.log")
        .file("client.log");
    Ok(rec)
}

/// The fix from the story: fill the checksum in software on the server
/// (`iptables -t mangle … -j CHECKSUM --checksum-fill`); the same strict
/// client then gets its lease.
pub fn fixed(lab: &Lab) -> Result<Recording> {
    let mut rec = Recording::new(lab, "");
    let s = setup(lab, &mut rec)?;
    let client_mac = s.n.host(s.client).iface(0).mac;
    let rule = [
        "-t",
        "mangle",
        "-A",
        "POSTROUTING",
        "-p",
        "udp",
        "--dport",
        "68",
        "-j",
        "CHECKSUM",
        "--checksum-fill",
    ];
    let iptables = Tool::Iptables.resolve()?;
    s.n.host(s.server)
        .ns()
        .run(&iptables.to_string_lossy(), &rule)?;
    rec.note(format!("server: iptables {}", rule.join(" ")));
    let client_cap = Capture::on_host(&s.n, s.client, 0, "client.pcap")?;
    let server_cap = Capture::on_host(&s.n, s.server, 0, "server.pcap")?;
    let mut srv = start_dnsmasq(&s)?;
    let cfg = Config {
        checksum: ChecksumPolicy::Strict,
        schedule: [1, 2, 2].map(Duration::from_secs).to_vec(),
        max_transactions: 2,
        ..Config::new(client_mac, 0xc5c5_f111)
    };
    let report = scripted::run_on(&s.n, s.client, 0, "client", &cfg)?;
    rec.note(format!("client: {}", report.summary()));
    let addr = report
        .bound_to()
        .context("the strict client got no lease")?;
    ensure!(report.dropped(Offer) == 0, "{}", report.summary());
    let ack = srv.wait_log(
        &["DHCPACK(eth0)", &addr.to_string(), &mac(client_mac)],
        BOUND,
    )?;
    rec.note(format!("dnsmasq: {}", ack.trim_end()));
    let done = |seen: &[Seen]| dora(seen, client_mac, addr).is_ok();
    for (vantage, cap) in [("server", server_cap), ("client", client_cap)] {
        let seen = cap.stop_when("the ACK", BOUND, done)?;
        ensure_seen(
            seen.iter()
                .filter(|p| p.is(Offer) || p.is(Ack))
                .all(|p| p.checksum == UdpChecksum::Valid),
            &format!("{vantage}: the replies should carry full checksums"),
            &seen,
        )?;
        rec.note(format!(
            "{vantage}.pcap: {}",
            dora(&seen, client_mac, addr)?
        ));
    }
    rec.description = format!(
        "With iptables -t mangle -A POSTROUTING -p udp --dport 68 -j CHECKSUM --checksum-fill on the server, \
         dnsmasq's replies carry full UDP checksums and the same strict client gets {addr}"
    );
    rec.file("client.pcap")
        .file("server.pcap")
        .file("dnsmasq.log")
        .file("client.log");
    Ok(rec)
}

pub fn tolerant(lab: &Lab) -> Result<Recording> {
    let mut rec = Recording::new(lab, "");
    let s = setup(lab, &mut rec)?;
    let client_mac = s.n.host(s.client).iface(0).mac;
    let client_cap = Capture::on_host(&s.n, s.client, 0, "client.pcap")?;
    let mut srv = start_dnsmasq(&s)?;
    let mut dh = Dhclient::default().start(&s.n, s.client)?;
    let addr = dh.wait_bound(BOUND)?;
    rec.note(format!("dhclient: {}", dh.bound_line().unwrap_or_default()));
    ensure!(
        dh.log().find(&["bad udp checksum"]).is_none(),
        "dhclient complained about checksums"
    );
    let ack = srv.wait_log(
        &["DHCPACK(eth0)", &addr.to_string(), &mac(client_mac)],
        BOUND,
    )?;
    rec.note(format!("dnsmasq: {}", ack.trim_end()));
    dh.stop()?;
    let seen = client_cap.stop_when("the ACK", BOUND, |seen| {
        dora(seen, client_mac, addr).is_ok()
    })?;
    let n = all_replies_partial(&seen, "client")?;
    let ack = dora(&seen, client_mac, addr)?;
    rec.note(format!("client.pcap: {ack}"));
    rec.description = format!(
        "dnsmasq's {n} replies reach the client with partial UDP checksums (transmit offload on the server's veth), \
         yet dhclient 4.4, which honours TP_STATUS_CSUMNOTREADY, takes {addr}: the partial checksums are harmless here"
    );
    rec.file("client.pcap")
        .file("dnsmasq.log")
        .file("dhclient.log");
    Ok(rec)
}
