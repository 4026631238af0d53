//! What the server hands out, and its policy.

use std::net::Ipv4Addr;

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
}

impl Subnet {
    /// Reads `NET/PREFIX,range=FIRST-LAST[,range=…][,router=IP][,dns=IP…][,domain=NAME]`,
    /// e.g. `10.0.0.0/24,range=10.0.0.100-10.0.0.199,router=10.0.0.1`.
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
                "domain" => s.domain = Some(v.to_string()),
                _ => return Err(format!("unknown key {k:?} (range, router, dns, domain)")),
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
            if let Some(a) = a.filter(|a| s.in_pool(*a)) {
                return Err(format!("{spec:?}: a range holds {a}, {what}"));
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

    /// Whether `a` is in one of the ranges.
    pub fn in_pool(&self, a: Ipv4Addr) -> bool {
        self.ranges.iter().any(|(lo, hi)| (*lo..=*hi).contains(&a))
    }

    /// `10.0.0.0/24`.
    pub fn cidr(&self) -> String {
        format!("{}/{}", self.network, self.prefix)
    }

    /// The number of addresses in the ranges.
    pub fn pool_size(&self) -> u64 {
        self.ranges
            .iter()
            .map(|(a, b)| u64::from(u32::from(*b) - u32::from(*a)) + 1)
            .sum()
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
    /// Option 51; T1 (58) and T2 (59) are half and seven eighths of it.
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
        }
    }

    /// Refuses what would hand out the server's own address.
    pub fn check(&self) -> Result<(), String> {
        match self.subnets.iter().find(|s| s.in_pool(self.server_id)) {
            Some(s) => Err(format!(
                "a range of {} holds {}, the server's own address",
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
                "10.0.0.0/24,range=10.0.0.1-10.0.0.9,gateway=1.2.3.4",
                "unknown key",
            ),
            (
                "10.0.0.0/24,range=10.0.0.0-10.0.0.9",
                "10.0.0.0, the network's own address",
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
        let all = Subnet::parse("0.0.0.0/0,range=1.0.0.0-1.0.0.1").unwrap();
        assert!(all.contains(Ipv4Addr::new(200, 1, 1, 1)));
        // A /31 (RFC 3021) has no network or broadcast address to keep.
        assert!(Subnet::parse("10.0.0.0/31,range=10.0.0.0-10.0.0.1").is_ok());
        let lan = Subnet::parse("10.0.0.0/24,range=10.0.0.1-10.0.0.9").unwrap();
        let c = Config::new(Ipv4Addr::new(10, 0, 0, 5), vec![lan.clone()]);
        assert_eq!(
            c.check().unwrap_err(),
            "a range of 10.0.0.0/24 holds 10.0.0.5, the server's own address"
        );
        assert!(Config::new(Ipv4Addr::new(10, 0, 0, 10), vec![lan])
            .check()
            .is_ok());
    }
}
