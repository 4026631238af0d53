//! The next hop's MAC for a unicast sent as a raw frame, read from the
//! kernel's routing table and ARP cache (`/proc/net/route`,
//! `/proc/net/arp`): nothing is asked on the wire. A frame to the broadcast
//! MAC reaches a server on the link, but a router does not forward it (Linux
//! forwards only frames addressed to itself, `PACKET_HOST`), so a unicast
//! to a server behind one needs the router's MAC.

use std::net::Ipv4Addr;

/// Why no MAC was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoNeighbour {
    /// No route to the destination through the interface.
    NoRoute,
    /// The next hop (the destination, or its gateway) has no complete
    /// entry in the ARP cache.
    NotCached(Ipv4Addr),
    /// The kernel's tables could not be read.
    Unreadable(String),
}

impl std::fmt::Display for NoNeighbour {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NoNeighbour::NoRoute => write!(f, "no route through the interface"),
            NoNeighbour::NotCached(hop) => write!(f, "no ARP entry for the next hop {hop}"),
            NoNeighbour::Unreadable(e) => write!(f, "the kernel's tables could not be read: {e}"),
        }
    }
}

/// The MAC to send a frame for `dst` to through `iface`: the next hop's,
/// as the kernel's tables have it.
pub fn next_hop_mac(iface: &str, dst: Ipv4Addr) -> Result<[u8; 6], NoNeighbour> {
    let read = |p: &str| {
        std::fs::read_to_string(p).map_err(|e| NoNeighbour::Unreadable(format!("{p}: {e}")))
    };
    let hop = next_hop(&read("/proc/net/route")?, iface, dst).ok_or(NoNeighbour::NoRoute)?;
    arp_entry(&read("/proc/net/arp")?, iface, hop).ok_or(NoNeighbour::NotCached(hop))
}

/// The next hop towards `dst` through `iface` in `routes` (the text of
/// `/proc/net/route`): the gateway of the longest matching route that is
/// up, or `dst` itself on a route without one.
pub fn next_hop(routes: &str, iface: &str, dst: Ipv4Addr) -> Option<Ipv4Addr> {
    const UP: u32 = 0x1;
    const GATEWAY: u32 = 0x2;
    // The kernel prints each address as its in-memory (network order) u32.
    let addr = |s: &str| {
        u32::from_str_radix(s, 16)
            .ok()
            .map(|v| Ipv4Addr::from(v.to_ne_bytes()))
    };
    let mut best: Option<(u32, Ipv4Addr)> = None;
    for line in routes.lines().skip(1) {
        let f: Vec<&str> = line.split_whitespace().collect();
        let [name, dest, gw, flags, _, _, _, mask, ..] = f[..] else {
            continue;
        };
        let (Some(dest), Some(gw), Some(mask), Ok(flags)) = (
            addr(dest),
            addr(gw),
            addr(mask),
            u32::from_str_radix(flags, 16),
        ) else {
            continue;
        };
        let mask = u32::from(mask);
        if name != iface || flags & UP == 0 || u32::from(dst) & mask != u32::from(dest) & mask {
            continue;
        }
        let hop = if flags & GATEWAY != 0 { gw } else { dst };
        if best.is_none_or(|(m, _)| mask.count_ones() > m.count_ones()) {
            best = Some((mask, hop));
        }
    }
    best.map(|(_, hop)| hop)
}

/// `ip`'s MAC on `iface` in `arp` (the text of `/proc/net/arp`), if its
/// entry is complete.
pub fn arp_entry(arp: &str, iface: &str, ip: Ipv4Addr) -> Option<[u8; 6]> {
    const COMPLETE: u32 = 0x2;
    arp.lines().skip(1).find_map(|line| {
        let f: Vec<&str> = line.split_whitespace().collect();
        let [addr, _, flags, mac, _, dev] = f[..] else {
            return None;
        };
        let flags = u32::from_str_radix(flags.trim_start_matches("0x"), 16).ok()?;
        if dev != iface || addr.parse::<Ipv4Addr>().ok()? != ip || flags & COMPLETE == 0 {
            return None;
        }
        let mut out = [0u8; 6];
        let mut parts = mac.split(':');
        for b in &mut out {
            *b = u8::from_str_radix(parts.next()?, 16).ok()?;
        }
        (parts.next().is_none() && out != [0; 6]).then_some(out)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // As read on a host with eth0 (192.0.2.0/24, default via 192.0.2.1)
    // and eth1 (10.0.0.0/24, 10.1.0.0/16 via 10.0.0.254); the host is
    // little-endian, as the addresses' byte order shows.
    const ROUTES: &str =
        "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0
eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0
eth1\t0000000A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0
eth1\t0000010A\tFE00000A\t0003\t0\t0\t0\t0000FFFF\t0\t0\t0
";
    const ARP: &str =
        "IP address       HW type     Flags       HW address            Mask     Device
192.0.2.1        0x1         0x2         02:fc:00:00:00:05     *        eth0
10.0.0.254       0x1         0x2         02:00:00:0b:02:01     *        eth1
10.0.0.7         0x1         0x0         00:00:00:00:00:00     *        eth1
";

    #[test]
    fn the_next_hop_is_the_longest_routes_gateway_or_the_address_on_the_link() {
        if cfg!(target_endian = "big") {
            return;
        }
        let ip = Ipv4Addr::new;
        assert_eq!(
            next_hop(ROUTES, "eth1", ip(10, 1, 3, 4)),
            Some(ip(10, 0, 0, 254))
        );
        assert_eq!(
            next_hop(ROUTES, "eth1", ip(10, 0, 0, 7)),
            Some(ip(10, 0, 0, 7))
        );
        assert_eq!(
            next_hop(ROUTES, "eth0", ip(198, 51, 100, 1)),
            Some(ip(192, 0, 2, 1))
        );
        assert_eq!(
            next_hop(ROUTES, "eth0", ip(192, 0, 2, 9)),
            Some(ip(192, 0, 2, 9))
        );
        // No default route through eth1.
        assert_eq!(next_hop(ROUTES, "eth1", ip(198, 51, 100, 1)), None);
        assert_eq!(next_hop(ROUTES, "eth9", ip(10, 0, 0, 7)), None);
    }

    #[test]
    fn only_complete_arp_entries_on_the_interface_count() {
        let ip = Ipv4Addr::new;
        assert_eq!(
            arp_entry(ARP, "eth1", ip(10, 0, 0, 254)),
            Some([2, 0, 0, 0x0b, 2, 1])
        );
        assert_eq!(arp_entry(ARP, "eth0", ip(10, 0, 0, 254)), None);
        assert_eq!(arp_entry(ARP, "eth1", ip(10, 0, 0, 7)), None, "incomplete");
        assert_eq!(arp_entry(ARP, "eth1", ip(10, 0, 0, 8)), None);
    }
}
