//! What the server hands out, and its policy.

use std::net::Ipv4Addr;

use wire::HwAddr;

/// One network the server serves: its address ranges and the options its
/// clients get.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subnet {
    pub network: Ipv4Addr,
    pub prefix: u8,
    /// Inclusive address ranges to lease from.
    pub ranges: Vec<(Ipv4Addr, Ipv4Addr)>,
    /// Option 3.
    pub router: Option<Ipv4Addr>,
    /// Option 6.
    pub dns: Vec<Ipv4Addr>,
    /// Option 15.
    pub domain: Option<String>,
    /// Fixed addresses by MAC (inside or outside the ranges; never leased
    /// to anyone else).
    pub hosts: Vec<(HwAddr, Ipv4Addr)>,
    /// Where a boot ROM fetches its file (siaddr, as ISC dhcpd's `next-server`).
    pub next_server: Option<Ipv4Addr>,
    /// The boot file (the `file` field, as ISC dhcpd's `filename`).
    pub boot_file: Option<String>,
    /// The boot file for iPXE itself (option 77 `iPXE` or option 175 in
    /// the request), so that an iPXE loaded by the ROM does not load
    /// itself again (catalogue E.32, the chainload loop).
    pub ipxe_file: Option<String>,
}

impl Subnet {
    /// Reads `NET/PREFIX,range=FIRST-LAST[,range=…][,router=IP][,dns=IP…][,domain=NAME][,host=MAC@IP…][,next-server=IP][,file=NAME][,ipxe-file=NAME]`,
    /// e.g. `10.0.0.0/24,range=10.0.0.100-10.0.0.199,router=10.0.0.1,host=02:00:00:00:00:01@10.0.0.50`.
    pub fn parse(spec: &str) -> Result<Subnet, String> {
        let mut parts = spec.split(',');
        let net = parts.next().unwrap_or_default();
        let (addr, prefix) = net
            .split_once('/')
            .ok_or_else(|| format!("{net:?}: expected NETWORK/PREFIX, e.g. 10.0.0.0/24"))?;
        let addr: Ipv4Addr = addr
            .parse()
            .map_err(|_| format!("{addr:?} is not an IPv4 address"))?;
        let prefix: u8 = prefix
            .parse()
            .ok()
            .filter(|p| *p <= 32)
            .ok_or_else(|| format!("{prefix:?} is not a prefix length (0 to 32)"))?;
        let mut s = Subnet {
            network: Ipv4Addr::from(u32::from(addr) & mask_bits(prefix)),
            prefix,
            ranges: Vec::new(),
            router: None,
            dns: Vec::new(),
            domain: None,
            hosts: Vec::new(),
            next_server: None,
            boot_file: None,
            ipxe_file: None,
        };
        let ip = |v: &str| -> Result<Ipv4Addr, String> {
            v.parse()
                .map_err(|_| format!("{v:?} is not an IPv4 address"))
        };
        for p in parts {
            let (k, v) = p
                .split_once('=')
                .ok_or_else(|| format!("{p:?}: expected KEY=VALUE (range, router, dns, domain)"))?;
            match k {
                "range" => {
                    let (a, b) = v
                        .split_once('-')
                        .ok_or_else(|| format!("range {v:?}: expected FIRST-LAST"))?;
                    let (a, b) = (ip(a)?, ip(b)?);
                    if a > b {
                        return Err(format!("range {v:?}: {a} comes after {b}"));
                    }
                    for x in [a, b] {
                        if !s.contains(x) {
                            return Err(format!("range {v:?}: {x} is not in {}", s.cidr()));
                        }
                    }
                    s.ranges.push((a, b));
                }
                "router" => s.router = Some(ip(v)?),
                "dns" => s.dns.push(ip(v)?),
                "domain" => {
                    // RFC 2132 §3.17: option 15 holds 1 to 255 bytes.
                    if v.is_empty() || v.len() > 255 {
                        return Err(format!("domain {v:?}: 1 to 255 bytes (option 15)"));
                    }
                    s.domain = Some(v.to_string());
                }
                "next-server" => s.next_server = Some(ip(v)?),
                "file" | "ipxe-file" => {
                    if v.is_empty() || v.len() > 127 {
                        return Err(format!("{k} {v:?}: 1 to 127 bytes (the file field holds 128)"));
                    }
                    let f = if k == "file" { &mut s.boot_file } else { &mut s.ipxe_file };
                    *f = Some(v.to_string());
                }
                "host" => {
                    let (mac, a) = v
                        .split_once('@')
                        .ok_or_else(|| format!("host {v:?}: expected MAC@IP"))?;
                    let mac = HwAddr::parse(mac)
                        .ok_or_else(|| format!("host {v:?}: {mac:?} is not a MAC address"))?;
                    // A reservation is matched against an Ethernet chaddr:
                    // five octets (a byte left out) would never match.
                    if mac.as_bytes().len() != 6 {
                        return Err(format!(
                            "host {v:?}: {mac} has {} octets: an Ethernet MAC has six",
                            mac.as_bytes().len()
                        ));
                    }
                    let a = ip(a)?;
                    if !s.contains(a) {
                        return Err(format!("host {v:?}: {a} is not in {}", s.cidr()));
                    }
                    if let Some((m, _)) = s.hosts.iter().find(|(m, b)| *m == mac || *b == a) {
                        return Err(format!("host {v:?}: {m} or {a} is already reserved"));
                    }
                    s.hosts.push((mac, a));
                }
                _ => {
                    return Err(format!(
                        "unknown key {k:?} (range, router, dns, domain, host, next-server, file, ipxe-file)"
                    ))
                }
            }
        }
        if s.ranges.is_empty() {
            return Err(format!(
                "{spec:?}: no range=FIRST-LAST: the server would have nothing to lease"
            ));
        }
        let mut reserved = vec![("the router", s.router)];
        if s.prefix <= 30 {
            reserved.push(("the network's own address", Some(s.network)));
            reserved.push(("the broadcast address", Some(s.broadcast())));
        }
        for (what, a) in reserved {
            if let Some(a) = a.filter(|a| s.in_ranges(*a) || s.reservation(*a).is_some()) {
                return Err(format!("{spec:?}: a range or host holds {a}, {what}"));
            }
        }
        // Clients reach their router on the link: one off the network is
        // no route (`ip route add default via` fails).
        if let Some(r) = s.router.filter(|r| !s.contains(*r)) {
            return Err(format!(
                "{spec:?}: router {r} is not on {}: clients could not reach it",
                s.cidr()
            ));
        }
        // A server inside a range would have its address leased to a client.
        let servers = s.dns.iter().map(|a| ("DNS server", *a));
        let servers = servers.chain(s.next_server.map(|a| ("next-server", a)));
        for (what, a) in servers {
            if s.in_pool(a) {
                return Err(format!(
                    "{spec:?}: a range holds {a}, the {what}: the server would lease its address to a client"
                ));
            }
        }
        Ok(s)
    }

    pub fn mask(&self) -> Ipv4Addr {
        Ipv4Addr::from(mask_bits(self.prefix))
    }

    pub fn broadcast(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.network) | !mask_bits(self.prefix))
    }

    pub fn contains(&self, a: Ipv4Addr) -> bool {
        u32::from(a) & mask_bits(self.prefix) == u32::from(self.network)
    }

    /// Whether `a` is in one of the ranges and reserved for nobody: an
    /// address any client may lease.
    pub fn in_pool(&self, a: Ipv4Addr) -> bool {
        self.in_ranges(a) && self.reservation(a).is_none()
    }

    fn in_ranges(&self, a: Ipv4Addr) -> bool {
        self.ranges.iter().any(|(lo, hi)| (*lo..=*hi).contains(&a))
    }

    /// The address reserved for `mac`.
    pub fn reserved_for(&self, mac: &HwAddr) -> Option<Ipv4Addr> {
        self.hosts.iter().find(|(m, _)| m == mac).map(|(_, a)| *a)
    }

    /// Whom `a` is reserved for.
    pub fn reservation(&self, a: Ipv4Addr) -> Option<HwAddr> {
        self.hosts.iter().find(|(_, b)| *b == a).map(|(m, _)| *m)
    }

    /// `10.0.0.0/24`.
    pub fn cidr(&self) -> String {
        format!("{}/{}", self.network, self.prefix)
    }

    /// The number of distinct addresses in the ranges (ranges that overlap
    /// count what they share once), reserved ones left out.
    pub fn pool_size(&self) -> u64 {
        let mut ranges: Vec<(u32, u32)> = self
            .ranges
            .iter()
            .map(|(a, b)| (u32::from(*a), u32::from(*b)))
            .collect();
        ranges.sort_unstable();
        let mut all = 0u64;
        let mut next = 0u64; // the first address not yet counted
        for (a, b) in ranges {
            let (a, b) = (u64::from(a).max(next), u64::from(b));
            if b >= a {
                all += b - a + 1;
                next = b + 1;
            }
        }
        let reserved = self
            .hosts
            .iter()
            .filter(|(_, a)| self.in_ranges(*a))
            .count();
        all - reserved as u64
    }
}

fn mask_bits(prefix: u8) -> u32 {
    u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0)
}

/// The server's configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Option 54, and the source address of replies.
    pub server_id: Ipv4Addr,
    pub subnets: Vec<Subnet>,
    /// Option 51; T1 (58) and T2 (59) are half and seven eighths of it
    /// (left out of a lease too short for T1 < T2 < lease).
    pub lease_secs: u32,
    /// How long an offered address is kept for the client that was offered it.
    pub offer_secs: u32,
    /// How long a declined address stays out of use.
    pub decline_secs: u32,
    /// DISCOVERs whose `secs` is below this are dropped (ISC dhcpd's
    /// `min-secs`; 0 = none).
    pub min_secs: u16,
    /// NAK requests for addresses that cannot be the client's (RFC 2131
    /// §4.3.2); when not, such requests are dropped, as ISC dhcpd does
    /// without `authoritative`.
    pub authoritative: bool,
    /// Clients never served (ISC dhcpd's `ignore booting`, dnsmasq's
    /// `dhcp-host=MAC,ignore`).
    pub ignore: Vec<HwAddr>,
    /// Serve only clients with a reservation (`host=`), as ISC dhcpd's
    /// `deny unknown-clients`.
    pub known_only: bool,
}

impl Config {
    /// A server at `server_id` for `subnets`, with a one-hour lease.
    pub fn new(server_id: Ipv4Addr, subnets: Vec<Subnet>) -> Config {
        Config {
            server_id,
            subnets,
            lease_secs: 3600,
            offer_secs: 60,
            decline_secs: 600,
            min_secs: 0,
            authoritative: true,
            ignore: Vec::new(),
            known_only: false,
        }
    }

    /// Refuses what is wrong whatever the server's address: subnets given
    /// twice or overlapping (the first listed would answer for both, as ISC
    /// dhcpd and Kea refuse them), and `known_only` with no reservation
    /// anywhere (nobody would ever be served).
    pub fn check_subnets(&self) -> Result<(), String> {
        for (i, a) in self.subnets.iter().enumerate() {
            for b in &self.subnets[..i] {
                if a.network == b.network && a.prefix == b.prefix {
                    return Err(format!(
                        "--subnet {} is given twice: the second's ranges and hosts would never be used",
                        a.cidr()
                    ));
                }
                if a.contains(b.network) || b.contains(a.network) {
                    return Err(format!(
                        "--subnet {} overlaps --subnet {}: one network cannot be served by both",
                        b.cidr(),
                        a.cidr()
                    ));
                }
            }
        }
        if self.known_only && self.subnets.iter().all(|s| s.hosts.is_empty()) {
            return Err(
                "--known-only serves only hosts with a reservation, and no --subnet has a host=MAC@IP: nobody would be served"
                    .to_string(),
            );
        }
        Ok(())
    }

    /// Refuses what [`Config::check_subnets`] refuses, and what would hand
    /// out the server's own address.
    pub fn check(&self) -> Result<(), String> {
        self.check_subnets()?;
        let holds =
            |s: &&Subnet| s.in_ranges(self.server_id) || s.reservation(self.server_id).is_some();
        match self.subnets.iter().find(holds) {
            Some(s) => Err(format!(
                "a range or host of {} holds {}, the server's own address",
                s.cidr(),
                self.server_id
            )),
            None => Ok(()),
        }
    }

    /// The subnet containing `a`.
    pub fn subnet_of(&self, a: Ipv4Addr) -> Option<&Subnet> {
        self.subnets.iter().find(|s| s.contains(a))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subnet_spec_is_read_and_checked() {
        let s = Subnet::parse(
            "10.0.0.7/24,range=10.0.0.100-10.0.0.199,range=10.0.0.20-10.0.0.20,router=10.0.0.1,dns=10.0.0.2,dns=10.0.0.3,domain=lab.example",
        )
        .unwrap();
        assert_eq!(s.network, Ipv4Addr::new(10, 0, 0, 0));
        assert_eq!(s.mask(), Ipv4Addr::new(255, 255, 255, 0));
        assert_eq!(s.broadcast(), Ipv4Addr::new(10, 0, 0, 255));
        assert_eq!(s.pool_size(), 101);
        assert!(s.in_pool(Ipv4Addr::new(10, 0, 0, 20)));
        assert!(!s.in_pool(Ipv4Addr::new(10, 0, 0, 21)));
        assert_eq!(s.dns.len(), 2);
        assert_eq!(s.domain.as_deref(), Some("lab.example"));
        for (bad, says) in [
            ("10.0.0.0/24", "no range"),
            ("10.0.0.0", "NETWORK/PREFIX"),
            ("10.0.0.0/33", "prefix length"),
            ("10.0.0.0/24,range=10.0.1.1-10.0.1.9", "not in 10.0.0.0/24"),
            ("10.0.0.0/24,range=10.0.0.9-10.0.0.1", "comes after"),
            (
                "10.0.0.0/24,range=10.0.0.1-10.0.0.9,domain=",
                "1 to 255 bytes",
            ),
            (
                "10.0.0.0/24,range=10.0.0.1-10.0.0.9,gateway=1.2.3.4",
                "unknown key",
            ),
            (
                "10.0.0.0/24,range=10.0.0.0-10.0.0.9",
                "a range or host holds 10.0.0.0, the network's own address",
            ),
            (
                "10.0.0.0/24,range=10.0.0.9-10.0.0.255",
                "10.0.0.255, the broadcast address",
            ),
            (
                "10.0.0.0/24,range=10.0.0.1-10.0.0.9,router=10.0.0.1",
                "10.0.0.1, the router",
            ),
        ] {
            let e = Subnet::parse(bad).unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
        }
        let h = Subnet::parse(
            "10.0.0.0/24,range=10.0.0.100-10.0.0.109,host=02:00:00:00:00:01@10.0.0.50,host=02:00:00:00:00:02@10.0.0.105",
        )
        .unwrap();
        let (m1, m2) = (
            HwAddr::new(&[2, 0, 0, 0, 0, 1]),
            HwAddr::new(&[2, 0, 0, 0, 0, 2]),
        );
        assert_eq!(h.reserved_for(&m1), Some(Ipv4Addr::new(10, 0, 0, 50)));
        assert_eq!(h.reservation(Ipv4Addr::new(10, 0, 0, 105)), Some(m2));
        assert!(!h.in_pool(Ipv4Addr::new(10, 0, 0, 105)));
        assert_eq!(h.pool_size(), 9);
        for (bad, says) in [
            ("10.0.0.0/24,range=10.0.0.1-10.0.0.9,host=02:00:00:00:00:01", "expected MAC@IP"),
            ("10.0.0.0/24,range=10.0.0.1-10.0.0.9,host=zz@10.0.0.50", "not a MAC address"),
            ("10.0.0.0/24,range=10.0.0.1-10.0.0.9,host=02:00:00:00:00:01@10.0.1.50", "not in 10.0.0.0/24"),
            (
                "10.0.0.0/24,range=10.0.0.1-10.0.0.9,host=02:00:00:00:00:01@10.0.0.50,host=02:00:00:00:00:01@10.0.0.51",
                "already reserved",
            ),
            ("10.0.0.0/24,range=10.0.0.2-10.0.0.9,router=10.0.0.1,host=02:00:00:00:00:01@10.0.0.1", "10.0.0.1, the router"),
        ] {
            let e = Subnet::parse(bad).unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
        }
        let all = Subnet::parse("0.0.0.0/0,range=1.0.0.0-1.0.0.1").unwrap();
        assert!(all.contains(Ipv4Addr::new(200, 1, 1, 1)));
        // A /31 (RFC 3021) has no network or broadcast address to keep.
        assert!(Subnet::parse("10.0.0.0/31,range=10.0.0.0-10.0.0.1").is_ok());
        let lan = Subnet::parse("10.0.0.0/24,range=10.0.0.1-10.0.0.9").unwrap();
        let c = Config::new(Ipv4Addr::new(10, 0, 0, 5), vec![lan.clone()]);
        assert_eq!(
            c.check().unwrap_err(),
            "a range or host of 10.0.0.0/24 holds 10.0.0.5, the server's own address"
        );
        assert!(Config::new(Ipv4Addr::new(10, 0, 0, 10), vec![lan])
            .check()
            .is_ok());
    }

    fn spec(s: &str) -> Subnet {
        Subnet::parse(s).unwrap()
    }

    /// Two subnets for the same network, or for networks one inside the
    /// other, were taken silently and the first listed answered for both
    /// (a relay the /24 was written for served from the /16). They are
    /// refused, naming both (ISC dhcpd and Kea refuse them too). Fails on
    /// the previous build.
    #[test]
    fn subnets_given_twice_or_overlapping_are_refused() {
        let server = Ipv4Addr::new(192, 168, 0, 1);
        let wide = spec("10.0.0.0/16,range=10.0.5.100-10.0.5.109");
        let narrow = spec("10.0.1.0/24,range=10.0.1.100-10.0.1.109,router=10.0.1.1");
        let again =
            spec("10.0.1.0/24,range=10.0.1.200-10.0.1.209,host=02:00:00:00:00:0a@10.0.1.50");
        for (subnets, says) in [
            (
                vec![wide.clone(), narrow.clone()],
                "--subnet 10.0.0.0/16 overlaps --subnet 10.0.1.0/24",
            ),
            (
                vec![narrow.clone(), wide.clone()],
                "--subnet 10.0.1.0/24 overlaps --subnet 10.0.0.0/16",
            ),
            (
                vec![narrow.clone(), again],
                "--subnet 10.0.1.0/24 is given twice",
            ),
        ] {
            let e = Config::new(server, subnets).check().unwrap_err();
            assert!(e.contains(says), "{e}");
        }
        let other = spec("10.1.0.0/24,range=10.1.0.100-10.1.0.109");
        assert!(Config::new(server, vec![narrow, other]).check().is_ok());
    }

    /// `--known-only` with no `host=` in any subnet was accepted, and every
    /// client dropped as `unknown-client`, a reason with no fix (no problem
    /// counted) while nobody got an address. It is refused. Fails on the
    /// previous build.
    #[test]
    fn known_only_without_a_single_reservation_is_refused() {
        let server = Ipv4Addr::new(10, 0, 0, 1);
        let mut cfg = Config::new(
            server,
            vec![spec("10.0.0.0/24,range=10.0.0.100-10.0.0.109")],
        );
        cfg.known_only = true;
        let e = cfg.check_subnets().unwrap_err();
        assert!(e.contains("nobody would be served"), "{e}");
        assert_eq!(cfg.check().unwrap_err(), e);
        cfg.subnets.push(spec(
            "10.1.0.0/24,range=10.1.0.100-10.1.0.109,host=02:00:00:00:00:0a@10.1.0.50",
        ));
        assert!(cfg.check().is_ok());
    }

    /// `host=` took a 5-octet "MAC" (a byte left out by a slip): the
    /// reservation could never match an Ethernet chaddr. Six octets are
    /// required, as the CLI's `parse_mac48` does. Fails on the previous
    /// build.
    #[test]
    fn a_host_reservation_needs_a_six_octet_mac() {
        for (mac, n) in [("02:00:00:00:0a", 5), ("02:00:00:00:00:00:0a", 7)] {
            let e = Subnet::parse(&format!(
                "10.0.0.0/24,range=10.0.0.100-10.0.0.109,host={mac}@10.0.0.50"
            ))
            .unwrap_err();
            assert!(
                e.contains(&format!("has {n} octets: an Ethernet MAC has six")),
                "{e}"
            );
        }
    }

    /// Overlapping ranges were counted twice by `pool_size` (serve's start
    /// banner, the pool-exhausted reason): distinct addresses are counted.
    /// Fails on the previous build.
    #[test]
    fn overlapping_ranges_are_counted_once() {
        for (ranges, n) in [
            ("range=10.0.0.100-10.0.0.109,range=10.0.0.105-10.0.0.109,range=10.0.0.100-10.0.0.104", 10),
            ("range=10.0.0.100-10.0.0.109,range=10.0.0.105-10.0.0.119", 20),
            ("range=10.0.0.100-10.0.0.109,range=10.0.0.110-10.0.0.110", 11),
            ("range=10.0.0.100-10.0.0.109,range=10.0.0.102-10.0.0.103,host=02:00:00:00:00:01@10.0.0.102", 9),
        ] {
            assert_eq!(spec(&format!("10.0.0.0/24,{ranges}")).pool_size(), n, "{ranges}");
        }
        let all = spec("0.0.0.0/0,range=0.0.0.1-255.255.255.254,range=0.0.0.1-255.255.255.254");
        assert_eq!(all.pool_size(), (1 << 32) - 2);
    }

    /// The parser refused a range holding the router, but took a router
    /// outside the network (clients cannot reach it) and a DNS server or
    /// next-server inside a range (the server would lease that host's
    /// address to a client). Fails on the previous build.
    #[test]
    fn a_router_off_the_network_or_a_server_inside_a_range_is_refused() {
        for (bad, says) in [
            (
                "router=10.0.1.1",
                "router 10.0.1.1 is not on 10.0.0.0/24: clients could not reach it",
            ),
            ("dns=10.0.0.100", "a range holds 10.0.0.100, the DNS server"),
            (
                "next-server=10.0.0.109",
                "a range holds 10.0.0.109, the next-server",
            ),
        ] {
            let e = Subnet::parse(&format!("10.0.0.0/24,range=10.0.0.100-10.0.0.109,{bad}"))
                .unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
        }
        // Outside the ranges (a reservation included), or off the network
        // for a DNS server or next-server reached through the router: fine.
        assert!(Subnet::parse(
            "10.0.0.0/24,range=10.0.0.100-10.0.0.109,router=10.0.0.1,dns=10.0.0.53,dns=8.8.8.8,next-server=10.9.0.1,host=02:00:00:00:00:01@10.0.0.53"
        )
        .is_ok());
    }

    /// Found in review: a DNS server with a reservation of its own inside a range
    /// (`host=ITS-MAC@IP`) is leased to nobody else (`in_pool` leaves
    /// reserved addresses out), yet the check refuses it saying the server
    /// would lease its address to a client.
    #[test]
    fn dns_server_reserved_inside_a_range_is_not_leased_to_others() {
        let r = Subnet::parse(
            "10.0.0.0/24,range=10.0.0.100-10.0.0.109,dns=10.0.0.105,host=02:00:00:00:00:53@10.0.0.105",
        );
        assert!(r.is_ok(), "{r:?}");
    }
}
