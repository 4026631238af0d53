//! Catalogue E.31's last case with a real PXE ROM: ISC dhcpd given option 60
//! «PXEClient» by hand (as in Microsoft KB 259670) and no boot file, on a
//! host with no PXE service. The ROM is iPXE in a QEMU virtual machine
//! ([`Ipxe`]): it takes the ACK, then, as option 60 told it, asks the
//! server on UDP 4011 for its boot file, gets no answer, and stops
//! ("Nothing to boot"). The DHCP exchange itself is healthy. The captures
//! hold ICMP too: the server's kernel answers each request to 4011 with a
//! port unreachable.

use std::time::Duration;

use anyhow::{ensure, Context, Result};
use wire::MessageType::{Ack, Request};

use super::{ensure_seen, mac, Recording};
use crate::clients::Ipxe;
use crate::net::{HostId, Network};
use crate::pcap::{of_kind, Seen};
use crate::servers::{Dhcpd, Dnsmasq, Server, Subnet};
use crate::{net, Capture, Lab};

/// How long the emulated machine may take to reach the end of its boot
/// (firmware, ROM, DHCP, the ROM's retries on UDP 4011): about 10 s here.
pub const ROM_BOOT: Duration = Duration::from_secs(90);

/// The ROM's requests to UDP 4011 in a capture, and any answer from there.
pub fn boot_server_packets(seen: &[Seen]) -> (Vec<&Seen>, Vec<&Seen>) {
    let asked = seen.iter().filter(|s| s.dst.port() == 4011).collect();
    let answered = seen.iter().filter(|s| s.src.port() == 4011).collect();
    (asked, answered)
}

/// A LAN with a server host (10.0.0.1) and a virtual machine's host, and
/// the iPXE ROM that boots there.
fn rom_lan(lab: &Lab) -> Result<(Network, HostId, HostId, Ipxe)> {
    let mut n = lab.network();
    let lan = n.add_link("lan")?;
    let server = n.add_host_on("server", lan, Some(net("10.0.0.1/24")))?;
    let vm = n.add_host_on("vm", lan, None)?;
    Ok((n, server, vm, Ipxe::default()))
}

/// The subnet its DHCP server serves.
fn lan_subnet() -> Subnet {
    Subnet::new("10.0.0.0/24", "10.0.0.100", "10.0.0.150").router("10.0.0.1")
}

pub fn boot_server_silent(lab: &Lab) -> Result<Recording> {
    let mut rec = Recording::new(lab, "");
    let (n, server, vm, ipxe) = rom_lan(lab)?;
    let rom_mac = ipxe.mac(&n, vm);
    // With ICMP: the server's port unreachables say why it is silent.
    let server_cap = Capture::on_host_with_icmp(&n, server, 0, "server.pcap")?;
    let client_cap = Capture::on_host_with_icmp(&n, vm, 0, "client.pcap")?;
    let mut dhcpd = Dhcpd::new(vec![lan_subnet()]);
    dhcpd.extra = vec!["option vendor-class-identifier \"PXEClient\";".into()];
    let mut srv = dhcpd.start(&n, server)?;
    let mut rom = ipxe.start(&n, vm)?;
    let stop = rom
        .wait_log(&["Nothing to boot"], ROM_BOOT)
        .with_context(|| format!("iPXE did not stop: {}", rom.log().tail(12)))?;
    let address = rom.bound_line().context("iPXE printed no address")?;
    rom.stop()?;
    let ack = srv.wait_log_count(&["DHCPACK on", &mac(rom_mac)], 1, ROM_BOOT)?;
    rec.note(format!("dhcpd: {}", ack[0].trim_end()));
    rec.note(format!("iPXE: {}", console_text(&address)));
    rec.note(format!("iPXE: {}", console_text(&stop)));
    let server_seen = server_cap.stop()?;
    let client_seen = client_cap.stop()?;
    for (vantage, seen) in [("server", &server_seen), ("client", &client_seen)] {
        let (asked, answered) = boot_server_packets(seen);
        ensure_seen(
            !asked.is_empty()
                && answered.is_empty()
                && !of_kind(seen, Ack).is_empty()
                && asked.iter().all(|s| s.is(Request) && s.chaddr_mac() == rom_mac),
            &format!("{vantage}.pcap: expected the ACK, then the ROM's REQUESTs to UDP 4011 and no answer"),
            seen,
        )?;
        rec.note(format!(
            "{vantage}.pcap: {} REQUEST(s) to {} from the ROM, none answered",
            asked.len(),
            asked[0].dst
        ));
    }
    ensure!(
        !srv.log().text().contains("4011"),
        "dhcpd said something about port 4011"
    );
    let refused = crate::pcap::unreachables(&lab.dir().join("server.pcap"))?;
    let asked = boot_server_packets(&server_seen).0.len();
    ensure!(
        refused.len() == asked
            && refused
                .iter()
                .all(|&(_, by, code, port)| by == net("10.0.0.1/24").addr && code == 3 && port == 4011),
        "server.pcap: expected an ICMP port unreachable from 10.0.0.1 for each of the {asked} requests: {refused:?}"
    );
    rec.note(format!(
        "server.pcap: {} ICMP port unreachable(s) from 10.0.0.1 quoting them",
        refused.len()
    ));
    rec.file("server.pcap")
        .file("client.pcap")
        .file("dhcpd.log");
    rec.description = format!(
        "ISC dhcpd, given option 60 PXEClient by hand, leases an address to a PXE ROM (iPXE in a QEMU virtual \
         machine), which then asks the server on UDP port 4011 for its boot file; nothing listens there, and the \
         ROM stops: {}",
        console_text(&stop)
    );
    Ok(rec)
}

/// Catalogue E.31 by broadcast, with a real PXE ROM: dnsmasq's boot menu
/// (`pxe-service`) offers one item, of boot server type 1, with no server
/// for it, so its option 43 names no boot server (no sub-option 8) and
/// allows broadcast discovery (sub-option 6 = 2). iPXE takes its lease,
/// picks the item, and searches for a boot server with DHCPREQUESTs from its
/// new address to 255.255.255.255:67 that name the item (option 43
/// sub-option 71); nothing answers, and it stops.
pub fn boot_menu_no_server(lab: &Lab) -> Result<Recording> {
    let mut rec = Recording::new(lab, "");
    let (n, server, vm, ipxe) = rom_lan(lab)?;
    let rom_mac = ipxe.mac(&n, vm);
    let cap = Capture::on_host_with_icmp(&n, server, 0, "server.pcap")?;
    let mut dnsmasq = Dnsmasq::new(vec![lan_subnet()]);
    dnsmasq.extra = vec![
        "--pxe-service=x86PC,Find a boot server,1".into(),
        "--pxe-prompt=Booting,0".into(),
    ];
    let mut srv = dnsmasq.start(&n, server)?;
    let stop = search_until_it_stops(&mut rec, &n, vm, &ipxe, &mut srv, "DHCPACK(eth0)")?;
    let seen = cap.stop()?;
    let searches = searches_for_item_1(&seen);
    let acks = of_kind(&seen, Ack);
    ensure_seen(
        !searches.is_empty()
            && acks.len() == 1
            && searches.iter().all(|s| s.chaddr_mac() == rom_mac && s.time > acks[0].time)
            && !seen.iter().any(|s| s.src.port() == 4011 || s.dst.port() == 4011)
            && seen.last().is_some_and(|l| l.is(Request)),
        "server.pcap: expected the ACK, then the ROM's broadcast REQUESTs for boot item 1 and no answer",
        &seen,
    )?;
    rec.note(format!(
        "server.pcap: {} broadcast REQUEST(s) naming boot item 1 (option 43 sub-option 71) from {}, none answered",
        searches.len(),
        searches[0].src.ip()
    ));
    rec.file("server.pcap").file("dnsmasq.log");
    rec.description = format!(
        "dnsmasq offers a PXE ROM (iPXE in a QEMU virtual machine) a boot menu whose one item, of boot server type 1, \
         names no server; the ROM takes its lease, searches for a boot server for that item by broadcast to UDP 67, \
         gets no answer, and stops: {}",
        console_text(&stop)
    );
    Ok(rec)
}

/// Option 43 of a PXE boot menu: broadcast discovery only (sub-option 6 =
/// 0x02), one item of boot server type 1 (sub-option 9), no boot server
/// list (no sub-option 8), and a prompt that times out at once
/// (sub-option 10), as dnsmasq's `pxe-service` without a server writes it.
const MENU_43: &str = "06:01:02:\
                       09:15:00:01:12:46:69:6e:64:20:61:20:62:6f:6f:74:20:73:65:72:76:65:72:\
                       0a:08:00:42:6f:6f:74:69:6e:67:ff";

/// The same menu from ISC dhcpd, which is no PXE boot server: it reads the
/// ROM's boot server search (a broadcast DHCPREQUEST from the ROM's new
/// address, naming boot item 1 in option 43 sub-option 71) as a client
/// rebinding its lease, and answers each with a plain DHCPACK that names no
/// boot item. iPXE drops an ACK whose boot item is not the one it asked
/// for, searches again, and stops.
pub fn boot_search_plain_ack(lab: &Lab) -> Result<Recording> {
    let mut rec = Recording::new(lab, "");
    let (n, server, vm, ipxe) = rom_lan(lab)?;
    let rom_mac = ipxe.mac(&n, vm);
    let cap = Capture::on_host_with_icmp(&n, server, 0, "server.pcap")?;
    let mut dhcpd = Dhcpd::new(vec![lan_subnet()]);
    dhcpd.extra = vec![
        "option vendor-class-identifier \"PXEClient\";".into(),
        format!(
            "option vendor-encapsulated-options {};",
            MENU_43.split_whitespace().collect::<String>()
        ),
    ];
    let mut srv = dhcpd.start(&n, server)?;
    let stop = search_until_it_stops(&mut rec, &n, vm, &ipxe, &mut srv, "DHCPACK on")?;
    let seen = cap.stop()?;
    let searches = searches_for_item_1(&seen);
    let acks = of_kind(&seen, Ack);
    let plain: Vec<&&Seen> = acks
        .iter()
        .filter(|a| boot_item(a).is_none() && searches.iter().any(|s| s.msg.xid == a.msg.xid))
        .collect();
    ensure_seen(
        !searches.is_empty()
            && searches.iter().all(|s| s.chaddr_mac() == rom_mac)
            && plain.len() == searches.len()
            && plain.iter().all(|a| a.src.port() == 67)
            && !seen.iter().any(|s| s.src.port() == 4011 || s.dst.port() == 4011),
        "server.pcap: expected the ROM's broadcast REQUESTs for boot item 1, each answered by dhcpd with an ACK \
         that names no boot item",
        &seen,
    )?;
    rec.note(format!(
        "server.pcap: {} broadcast REQUEST(s) naming boot item 1 (option 43 sub-option 71) from {}, {} plain ACK(s) \
         from {} under their xids",
        searches.len(),
        searches[0].src.ip(),
        plain.len(),
        plain[0].src.ip()
    ));
    // dhcpd logs a search as a REQUEST naming no server, as a rebind, and
    // answers it with the same ACK line as the first.
    let log = srv.log();
    let rebinds = log.matching(&["DHCPREQUEST for 10.0.0.100 from", &mac(rom_mac)]);
    let acked = log.count(&["DHCPACK on 10.0.0.100 to", &mac(rom_mac)]);
    ensure!(
        !rebinds.is_empty() && acked == 1 + rebinds.len(),
        "dhcpd: expected one DHCPREQUEST naming no server per search and an ACK to each: {}",
        log.tail(12)
    );
    rec.note(format!("dhcpd: {}", rebinds[0].trim_end()));
    rec.file("server.pcap").file("dhcpd.log");
    rec.description = format!(
        "ISC dhcpd gives a PXE ROM (iPXE in a QEMU virtual machine) a boot menu whose one item, of boot server type 1, \
         names no server; the ROM searches for a boot server by broadcast to UDP 67, dhcpd answers each search as a \
         rebind with a plain ACK naming no boot item, the ROM ignores those, and stops: {}",
        console_text(&stop)
    );
    Ok(rec)
}

/// Boots iPXE on `vm`, waits until it gives up its boot server search
/// ("PXEBS … Connection timed out") and the server logged its ACK
/// (`ack`, then the ROM's MAC); notes the server's ACK line, the ROM's
/// address and its last words, which it returns.
fn search_until_it_stops(
    rec: &mut Recording,
    n: &Network,
    vm: HostId,
    ipxe: &Ipxe,
    srv: &mut Server,
    ack: &str,
) -> Result<String> {
    let rom_mac = ipxe.mac(n, vm);
    let mut rom = ipxe.start(n, vm)?;
    let stop = rom
        .wait_log(&["PXEBS", "Connection timed out"], ROM_BOOT)
        .with_context(|| format!("iPXE did not give up its search: {}", rom.log().tail(12)))?;
    let address = rom.bound_line().context("iPXE printed no address")?;
    rom.stop()?;
    let line = srv.wait_log_count(&[ack, &mac(rom_mac)], 1, ROM_BOOT)?;
    rec.note(format!("{}: {}", srv.name, line[0].trim_end()));
    rec.note(format!("iPXE: {}", console_text(&address)));
    rec.note(format!("iPXE: {}", console_text(&stop)));
    Ok(stop)
}

/// The boot item a message names (option 43 sub-option 71).
fn boot_item(s: &Seen) -> Option<(u16, u16)> {
    s.msg
        .option(wire::dhcp::code::VENDOR_SPECIFIC)
        .and_then(|v| wire::dhcp::value::pxe_boot_item(&v))
}

/// The ROM's searches for boot item 1 in `seen`: REQUESTs from its address,
/// broadcast to UDP 67, naming the item.
fn searches_for_item_1(seen: &[Seen]) -> Vec<&Seen> {
    seen.iter()
        .filter(|s| {
            s.is(Request)
                && s.dst.ip().is_broadcast()
                && s.dst.port() == 67
                && !s.msg.ciaddr.is_unspecified()
                && boot_item(s) == Some((1, 0))
        })
        .collect()
}

/// A console line without its stamp and terminal escapes.
fn console_text(line: &str) -> String {
    let text = line.split_once("]: ").map_or(line, |(_, t)| t);
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI: ESC [ parameters, ended by a letter.
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else if !c.is_control() {
            out.push(c);
        }
    }
    out.trim().to_string()
}
