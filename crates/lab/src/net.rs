//! Topologies: hosts and links made of network namespaces.
//!
//! A *host* is a namespace with one interface (`eth0`, `eth1`, …) per link it
//! is on. A *link* is a Linux bridge `br0` in its own *switch* namespace; each
//! host interface is one end of a veth pair whose other end (the switch port,
//! named after the host) is enslaved to that bridge. Nothing is created in the
//! machine's own namespace, and every frame stays inside the lab's namespaces.
//! Captures can be taken on a host's interface, on its switch port, or on the
//! bridge (every frame of the link).

use std::fmt;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use capture::live::{Options, PacketSocket};

use crate::netns::Netns;
use crate::vlan::Trunk;
use crate::Lab;

/// An IPv4 address with its prefix length, e.g. `10.0.0.1/24`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv4Net {
    pub addr: Ipv4Addr,
    pub prefix: u8,
}

impl Ipv4Net {
    pub const fn new(addr: Ipv4Addr, prefix: u8) -> Ipv4Net {
        Ipv4Net { addr, prefix }
    }

    pub fn mask(&self) -> Ipv4Addr {
        let bits = if self.prefix == 0 {
            0
        } else {
            u32::MAX << (32 - u32::from(self.prefix))
        };
        Ipv4Addr::from(bits)
    }

    /// The network address (host bits cleared).
    pub fn network(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.addr) & u32::from(self.mask()))
    }

    pub fn broadcast(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.addr) | !u32::from(self.mask()))
    }

    pub fn contains(&self, a: Ipv4Addr) -> bool {
        u32::from(a) & u32::from(self.mask()) == u32::from(self.network())
    }
}

impl fmt::Display for Ipv4Net {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

impl FromStr for Ipv4Net {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> Result<Ipv4Net> {
        let (a, p) = s
            .split_once('/')
            .with_context(|| format!("{s:?} is not ADDRESS/PREFIX"))?;
        let prefix: u8 = p.parse().with_context(|| format!("bad prefix in {s:?}"))?;
        if prefix > 32 {
            bail!("bad prefix in {s:?}");
        }
        Ok(Ipv4Net {
            addr: a.parse().with_context(|| format!("bad address in {s:?}"))?,
            prefix,
        })
    }
}

/// Shorthand for `"10.0.0.1/24".parse::<Ipv4Net>().unwrap()` in fixed topologies.
pub fn net(s: &str) -> Ipv4Net {
    s.parse().expect("valid ADDRESS/PREFIX")
}

/// Which host, by position in its [`Network`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostId(pub usize);

/// Which link, by position in its [`Network`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkId(pub usize);

/// A host's interface on a link.
#[derive(Debug, Clone)]
pub struct Iface {
    /// Its name in the host's namespace: `eth0`, `eth1`, …
    pub name: String,
    pub mac: [u8; 6],
    pub addr: Option<Ipv4Net>,
    pub link: LinkId,
    /// The peer's name in the link's switch namespace.
    pub port: String,
}

/// Which side of a trunked link a host is plugged into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// `br0` (every host of an untrunked link).
    A,
    /// `br1`, across the trunk.
    B,
}

/// A segment: a bridge in its own namespace (two, joined by an 802.1Q trunk,
/// for a trunked link: see [`crate::vlan`]).
#[derive(Debug)]
pub struct Link {
    name: String,
    // Declared before `ns`: the taggers stop before the namespace goes.
    trunk: Option<Trunk>,
    ns: Netns,
}

impl Link {
    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn ns(&self) -> &Netns {
        &self.ns
    }
    /// The bridge's name in the switch namespace (side A's for a trunk).
    pub fn bridge(&self) -> &str {
        "br0"
    }
    /// The VLAN id on the trunk, if the link has one.
    pub fn vlan(&self) -> Option<u16> {
        self.trunk.as_ref().map(|t| t.vid)
    }
}

/// A machine: a namespace with interfaces.
#[derive(Debug)]
pub struct Host {
    name: String,
    ns: Netns,
    ifaces: Vec<Iface>,
    index: u8,
}

impl Host {
    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn ns(&self) -> &Netns {
        &self.ns
    }
    pub fn ifaces(&self) -> &[Iface] {
        &self.ifaces
    }
    /// Its interface number `i` (`eth<i>`).
    pub fn iface(&self, i: usize) -> &Iface {
        &self.ifaces[i]
    }
    /// Its interface on `link`.
    pub fn iface_on(&self, link: LinkId) -> Option<&Iface> {
        self.ifaces.iter().find(|i| i.link == link)
    }
    /// The address of `eth<i>`; panics if it has none (topologies are fixed).
    pub fn addr(&self, i: usize) -> Ipv4Addr {
        self.ifaces[i]
            .addr
            .unwrap_or_else(|| panic!("{}:eth{i} has no address", self.name))
            .addr
    }

    /// Opens an `AF_PACKET` socket on `iface` inside this host's namespace.
    pub fn packet_socket(&self, iface: &str, options: Options) -> Result<PacketSocket> {
        self.ns
            .enter(|| PacketSocket::open(iface, options))?
            .with_context(|| format!("packet socket on {}:{iface}", self.name))
    }

    /// Adds a route: `ip route add <dest> via <via>`.
    pub fn route(&self, dest: &str, via: Ipv4Addr) -> Result<()> {
        self.ns
            .ip(&["route", "add", dest, "via", &via.to_string()])
            .map(drop)
    }

    /// Adds (or, with `None`, flushes) the IPv4 address of `eth<i>`.
    pub fn set_addr(&mut self, i: usize, addr: Option<Ipv4Net>) -> Result<()> {
        let name = self.ifaces[i].name.clone();
        self.ns.ip(&["-4", "addr", "flush", "dev", &name])?;
        if let Some(a) = addr {
            self.ns.ip(&["addr", "add", &a.to_string(), "dev", &name])?;
        }
        self.ifaces[i].addr = addr;
        Ok(())
    }
}

/// For [`Network::drop_from`]: a server's DHCPACKs (to UDP port 68, the
/// first option 53 1 5: bytes 248 to 250 of the UDP datagram, after its
/// 8-byte header, BOOTP's 236 bytes and the magic cookie; ISC dhcpd, Kea
/// and dnsmasq all put option 53 first).
pub const DHCP_ACKS: &[&str] = &["udp", "dport", "68", "@th,1984,24", "0x350105"];

/// Hosts and links, torn down (processes killed, namespaces deleted) on drop.
#[derive(Debug)]
pub struct Network {
    // Hosts are declared first so they are dropped before the links.
    hosts: Vec<Host>,
    links: Vec<Link>,
    prefix: String,
    mac_id: u8,
    dir: PathBuf,
}

impl Network {
    pub fn new(lab: &Lab) -> Network {
        Network {
            hosts: Vec::new(),
            links: Vec::new(),
            prefix: lab.ns_prefix(),
            mac_id: lab.mac_id(),
            dir: lab.dir().to_path_buf(),
        }
    }

    /// The run directory of the lab that made it.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Adds a link (a bridge in a new switch namespace).
    pub fn add_link(&mut self, name: &str) -> Result<LinkId> {
        check_name(name)?;
        let ns = Netns::create(&format!("{}-sw-{name}", self.prefix))?;
        ns.ip(&["link", "add", "br0", "type", "bridge", "forward_delay", "0"])?;
        ns.ip(&["link", "set", "br0", "up"])?;
        self.links.push(Link {
            name: name.to_string(),
            trunk: None,
            ns,
        });
        Ok(LinkId(self.links.len() - 1))
    }

    /// Adds a link made of two bridges joined by a trunk on which frames
    /// carry the 802.1Q tag `vid` (capture `trunk-a` in the switch namespace
    /// to see them). Hosts go on side A or B with [`Network::connect_side`].
    pub fn add_trunk_link(&mut self, name: &str, vid: u16) -> Result<LinkId> {
        let id = self.add_link(name)?;
        let l = &mut self.links[id.0];
        l.trunk = Some(Trunk::build(&l.ns, vid)?);
        Ok(id)
    }

    /// Adds a host with no interfaces.
    pub fn add_host(&mut self, name: &str) -> Result<HostId> {
        check_name(name)?;
        if self.hosts.iter().any(|h| h.name == name) {
            bail!("there is already a host named {name}");
        }
        let index = u8::try_from(self.hosts.len() + 1).context("too many hosts")?;
        let ns = Netns::create(&format!("{}-{name}", self.prefix))?;
        self.hosts.push(Host {
            name: name.to_string(),
            ns,
            ifaces: Vec::new(),
            index,
        });
        Ok(HostId(self.hosts.len() - 1))
    }

    /// Plugs `host` into `link` with a new interface `eth<n>` (MAC
    /// `02:00:00:<scenario>:<host>:<n+1>`, so recordings are stable), up, with
    /// `addr` if given. Returns the interface's name.
    pub fn connect(&mut self, host: HostId, link: LinkId, addr: Option<Ipv4Net>) -> Result<String> {
        self.connect_side(host, link, Side::A, addr)
    }

    /// [`Network::connect`] to one side of a trunked link.
    pub fn connect_side(
        &mut self,
        host: HostId,
        link: LinkId,
        side: Side,
        addr: Option<Ipv4Net>,
    ) -> Result<String> {
        let bridge = match side {
            Side::A => "br0",
            Side::B if self.links[link.0].trunk.is_some() => "br1",
            Side::B => bail!(
                "link {} has no trunk, so no side B",
                self.links[link.0].name
            ),
        };
        let h = &self.hosts[host.0];
        let l = &self.links[link.0];
        let n = h.ifaces.len();
        let name = format!("eth{n}");
        let port = format!("{}-{n}", h.name);
        let mac = [2, 0, 0, self.mac_id, h.index, n as u8 + 1];
        let mac_s = wire::frame::mac_to_string(&mac);
        // Both ends are created directly in their namespaces.
        crate::netns::ip_root(&[
            "link",
            "add",
            &name,
            "netns",
            h.ns.name(),
            "address",
            &mac_s,
            "type",
            "veth",
            "peer",
            "name",
            &port,
            "netns",
            l.ns.name(),
        ])?;
        l.ns.ip(&["link", "set", &port, "master", bridge])?;
        l.ns.ip(&["link", "set", &port, "up"])?;
        if let Some(a) = addr {
            h.ns.ip(&["addr", "add", &a.to_string(), "dev", &name])?;
        }
        h.ns.ip(&["link", "set", &name, "up"])?;
        self.hosts[host.0].ifaces.push(Iface {
            name: name.clone(),
            mac,
            addr,
            link,
            port,
        });
        Ok(name)
    }

    /// Makes the switch drop the frames from `host`'s `eth<i>` that match the
    /// nftables expression `matching` (e.g. [`DHCP_ACKS`]), where they enter
    /// its port: the host's own captures still show them leaving, the rest
    /// of the link never sees them. One such rule per port.
    pub fn drop_from(&self, host: HostId, i: usize, matching: &[&str]) -> Result<()> {
        let (ns, port) = self.port_of(host, i);
        let table = format!("drop_{port}");
        let chain = format!("{{ type filter hook ingress device \"{port}\" priority 0 ; }}");
        let nft = crate::Tool::Nft.resolve()?;
        let nft = nft.to_string_lossy();
        ns.run(&nft, &["add", "table", "netdev", &table])?;
        ns.run(&nft, &["add", "chain", "netdev", &table, "in", &chain])?;
        let rule = [
            &["add", "rule", "netdev", &table, "in"],
            matching,
            &["counter", "drop"],
        ]
        .concat();
        ns.run(&nft, &rule)?;
        Ok(())
    }

    /// How many frames [`Network::drop_from`]'s rule on that port dropped.
    pub fn dropped_from(&self, host: HostId, i: usize) -> Result<u64> {
        let (ns, port) = self.port_of(host, i);
        let nft = crate::Tool::Nft.resolve()?;
        let table = format!("drop_{port}");
        let listing = ns.run(
            &nft.to_string_lossy(),
            &["list", "chain", "netdev", &table, "in"],
        )?;
        listing
            .split_once("counter packets ")
            .and_then(|(_, rest)| rest.split_whitespace().next()?.parse().ok())
            .with_context(|| format!("no counter in: {listing}"))
    }

    /// The switch namespace and port name of `host`'s `eth<i>`.
    /// Turns on the kernel's spanning tree (IEEE 802.1D) on `link`'s
    /// bridge, with `forward_delay`: a port that comes up then listens for
    /// that long, learns for as long again, and only then forwards frames.
    pub fn enable_stp(&self, link: LinkId, forward_delay: Duration) -> Result<()> {
        let cs = (forward_delay.as_millis() / 10).to_string();
        let ns = self.link(link).ns();
        ns.ip(&[
            "link",
            "set",
            "br0",
            "type",
            "bridge",
            "forward_delay",
            &cs,
            "stp_state",
            "1",
        ])?;
        Ok(())
    }

    /// The spanning-tree state of `host`'s `eth<i>` port on its switch
    /// (`listening`, `learning`, `forwarding`, `blocking`, `disabled`).
    pub fn port_state(&self, host: HostId, i: usize) -> Result<String> {
        let (ns, port) = self.port_of(host, i);
        let out = ns.ip(&["-d", "link", "show", "dev", port])?;
        out.split_once("bridge_slave state ")
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .map(str::to_string)
            .with_context(|| format!("no bridge port state for {port}: {out}"))
    }

    /// Waits until `host`'s `eth<i>` port forwards; how long that took.
    pub fn wait_forwarding(&self, host: HostId, i: usize, timeout: Duration) -> Result<Duration> {
        let start = std::time::Instant::now();
        loop {
            let state = self.port_state(host, i)?;
            if state == "forwarding" {
                return Ok(start.elapsed());
            }
            if start.elapsed() > timeout {
                bail!(
                    "{}'s port is still {state} after {timeout:?}",
                    self.host(host).name()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn port_of(&self, host: HostId, i: usize) -> (&Netns, &str) {
        let iface = self.host(host).iface(i);
        (self.link(iface.link).ns(), &iface.port)
    }

    /// [`Network::add_host`] then [`Network::connect`] to one link.
    pub fn add_host_on(
        &mut self,
        name: &str,
        link: LinkId,
        addr: Option<Ipv4Net>,
    ) -> Result<HostId> {
        let h = self.add_host(name)?;
        self.connect(h, link, addr)?;
        Ok(h)
    }

    pub fn host(&self, id: HostId) -> &Host {
        &self.hosts[id.0]
    }

    pub fn host_mut(&mut self, id: HostId) -> &mut Host {
        &mut self.hosts[id.0]
    }

    pub fn link(&self, id: LinkId) -> &Link {
        &self.links[id.0]
    }

    pub fn hosts(&self) -> &[Host] {
        &self.hosts
    }
}

/// Names become parts of namespace and interface names: short, plain.
fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 10
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    if !ok {
        bail!("lab names are 1-10 characters of a-z0-9, not {name:?}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4net_parses_and_computes() {
        let n: Ipv4Net = "10.0.2.7/24".parse().unwrap();
        assert_eq!(n.mask(), Ipv4Addr::new(255, 255, 255, 0));
        assert_eq!(n.network(), Ipv4Addr::new(10, 0, 2, 0));
        assert_eq!(n.broadcast(), Ipv4Addr::new(10, 0, 2, 255));
        assert!(n.contains(Ipv4Addr::new(10, 0, 2, 200)));
        assert!(!n.contains(Ipv4Addr::new(10, 0, 3, 1)));
        assert_eq!(n.to_string(), "10.0.2.7/24");
        assert!("10.0.0.1".parse::<Ipv4Net>().is_err());
        assert!("10.0.0.1/33".parse::<Ipv4Net>().is_err());
        assert_eq!(net("0.0.0.0/0").mask(), Ipv4Addr::UNSPECIFIED);
    }

    #[test]
    fn names_are_checked() {
        assert!(check_name("client2").is_ok());
        assert!(check_name("").is_err());
        assert!(check_name("Client").is_err());
        assert!(check_name("averyverylongname").is_err());
        assert!(check_name("a-b").is_err());
    }
}
