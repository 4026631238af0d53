//! The first founding bug again, with dhcplens's own server (`crates/server`,
//! run in this process on sockets opened in the server's namespace) in
//! place of ISC dhcpd: `min-secs 2`, an Etherboot-like ROM whose DISCOVERs
//! keep `secs` at 0, and dhclient on the same link. Where dhcpd logs one
//! easily missed line, this server's log says for each drop why, with the
//! deciding values and the fix; `diagnose --log` joins it to the captures.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{ensure, Context, Result};
use wire::MessageType::{Discover, Offer};

use super::min_secs::{rom_config, rom_unanswered};
use super::{Recording, BOUND};
use crate::clients::Dhclient;
use crate::scripted::{self, Outcome};
use crate::{net, Capture, Lab};

/// The longest the server thread serves, whatever happens to the test: a
/// backstop for a stop that never comes (the scenario needs well under a
/// minute).
const SERVE_AT_MOST: Duration = Duration::from_secs(120);

/// Sets the stop flag when dropped: on every way out of the scope (an early
/// `?` return or a panic included), so `thread::scope` never waits for a
/// server thread that nobody stops.
struct StopOnDrop<'a>(&'a AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

pub fn min_secs(lab: &Lab) -> Result<Recording> {
    let mut n = lab.network();
    let lan = n.add_link("lan")?;
    let server = n.add_host_on("server", lan, Some(net("10.0.0.1/24")))?;
    let rom = n.add_host_on("rom", lan, None)?;
    let pc = n.add_host_on("pc", lan, None)?;
    let rom_mac = n.host(rom).iface(0).mac;
    let pc_mac = n.host(pc).iface(0).mac;
    let client_cap = Capture::on_host(&n, rom, 0, "client.pcap")?;
    let server_cap = Capture::on_host(&n, server, 0, "server.pcap")?;

    let addr = net("10.0.0.1/24").addr;
    let mut listener = n
        .host(server)
        .ns()
        .enter(|| server::serve::Listener::open("eth0", addr))?
        .context("opening dhcplens's server on the server host")?;
    let subnet = server::Subnet::parse("10.0.0.0/24,range=10.0.0.100-10.0.0.150,router=10.0.0.1")
        .map_err(anyhow::Error::msg)?;
    let mut cfg = server::Config::new(addr, vec![subnet]);
    cfg.min_secs = 2;
    let mut srv = server::Server::new(cfg);
    let stop = AtomicBool::new(false);
    let log_path = lab.path("dhcplens.log");
    let mut log = std::fs::File::create(&log_path)?;

    let until = Instant::now() + SERVE_AT_MOST;
    let (report, pc_addr, lines) = std::thread::scope(|s| -> Result<_> {
        // Before the spawn: dropped (stopping the server) before the scope
        // joins its thread, however this closure ends.
        let stopper = StopOnDrop(&stop);
        let serving = s.spawn(|| -> Result<Vec<String>> {
            let mut lines = Vec::new();
            listener.run(&mut srv, &stop, Some(until), |x| {
                for d in x.earlier.iter().chain([x.decision]) {
                    let head = server::serve::log_head(capture::Timestamp::now().rfc3339());
                    lines.push(format!("{head} {}", d.line("eth0")));
                }
            })?;
            Ok(lines)
        });
        let mut pc_client = Dhclient::default().start(&n, pc)?;
        let report = scripted::run_on(&n, rom, 0, "rom", &rom_config(rom_mac, 0x5e1e_0000));
        let pc_addr = pc_client.wait_bound(BOUND);
        pc_client.stop()?;
        drop(stopper);
        let lines = serving
            .join()
            .map_err(|_| anyhow::anyhow!("the server thread panicked"))??;
        Ok((
            report?,
            pc_addr.context("the control client got no lease")?,
            lines,
        ))
    })?;
    for l in &lines {
        writeln!(log, "{l}")?;
    }

    let mut rec = Recording::new(lab, "");
    ensure!(
        report.outcome == Outcome::NoLease,
        "the ROM got a lease: {report:?}"
    );
    ensure!(report.sent(Discover) == 4, "{report:?}");
    ensure!(
        report.accepted(Offer) == 0,
        "the ROM got an OFFER: {report:?}"
    );
    // One line per DISCOVER of the ROM, each saying why.
    let rom_hex = wire::HwAddr::new(&rom_mac).to_string();
    let drops: Vec<&String> = lines
        .iter()
        .filter(|l| {
            l.contains(&rom_hex) && l.contains("dropped (min-secs): secs 0 is below min-secs 2")
        })
        .collect();
    ensure!(
        drops.len() == 4,
        "expected 4 min-secs drops of the ROM:\n{}",
        lines.join("\n")
    );
    rec.note(format!("dhcplens: {}", drops[0]));
    let pc_hex = wire::HwAddr::new(&pc_mac).to_string();
    let pc_offer = lines
        .iter()
        .find(|l| l.contains(&pc_hex) && l.contains(": OFFER "))
        .context("no offer to the control client")?;
    rec.note(format!("dhcplens: {pc_offer}"));

    let client_seen = client_cap.stop()?;
    let server_seen = server_cap.stop_when("the OFFER to dhclient", BOUND, |seen| {
        seen.iter().any(|s| s.is(Offer) && s.chaddr_mac() == pc_mac)
    })?;
    for (vantage, seen) in [("client", &client_seen), ("server", &server_seen)] {
        rom_unanswered(vantage, seen, rom_mac)?;
    }
    rec.description = format!(
        "dhcplens serve with --min-secs 2 drops an Etherboot-like ROM's 4 DISCOVERs whose secs stays 0, \
         and says why in its log each time; dhclient on the same link gets {pc_addr} once its secs reaches 2"
    );
    rec.file("client.pcap")
        .file("server.pcap")
        .file("dhcplens.log");
    Ok(rec)
}
