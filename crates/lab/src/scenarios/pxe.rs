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
use crate::pcap::{of_kind, Seen};
use crate::servers::{Dhcpd, Subnet};
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

pub fn boot_server_silent(lab: &Lab) -> Result<Recording> {
    let mut rec = Recording::new(lab, "");
    let mut n = lab.network();
    let lan = n.add_link("lan")?;
    let server = n.add_host_on("server", lan, Some(net("10.0.0.1/24")))?;
    let vm = n.add_host_on("vm", lan, None)?;
    let ipxe = Ipxe::default();
    let rom_mac = ipxe.mac(&n, vm);
    // With ICMP: the server's port unreachables say why it is silent.
    let server_cap = Capture::on_host_with_icmp(&n, server, 0, "server.pcap")?;
    let client_cap = Capture::on_host_with_icmp(&n, vm, 0, "client.pcap")?;
    let mut dhcpd = Dhcpd::new(vec![
        Subnet::new("10.0.0.0/24", "10.0.0.100", "10.0.0.150").router("10.0.0.1")
    ]);
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
