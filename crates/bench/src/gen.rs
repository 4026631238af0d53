//! The capture generator: many clients, overlapping in time, each following a
//! scenario (a healthy exchange or one of the failures dhcplens diagnoses),
//! written in time order to pcap or pcapng as they happen.
//!
//! Memory is bounded by the clients active at once (a heap of their next
//! packets and their short scripts), never by the number of clients or
//! packets: a client's script is planned when it arrives and dropped after its
//! last packet.
//!
//! Everything is derived from the seed: arrivals from one stream, each
//! client's kind, scenario, MAC and timing from a stream of its own (so they do
//! not depend on how clients interleave), xids from a bijection of a counter
//! (so they are unique), MAC suffixes from a bijection of the client index (so
//! they are unique up to 2^24 clients). With a `population`, arrivals cycle
//! through that many machines, each coming back as itself.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::{self, BufWriter, Write};
use std::net::Ipv4Addr;

use capture::write::{PcapWriter, PcapngWriter};
use wire::dhcp::{Message, Op};
use wire::frame::{ChecksumMode, UdpFrame};
use wire::LinkType;

use crate::profiles::{
    self, client_options, server_options, ClientKind, ClientMsg, Identity, Reply, ReplyTo, Server,
    Subnet,
};
use crate::rng::{self, Rng};

/// The capture file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Pcap,
    Pcapng,
}

/// What happens to a client: the generator's intent, to compare with what
/// dhcplens concludes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scenario {
    /// DISCOVER, OFFER, REQUEST, ACK.
    Dora,
    /// The first DISCOVER goes unanswered; the retransmission 4 s later is.
    DoraRetransmit,
    /// REQUEST with option 50 after a reboot (INIT-REBOOT), ACKed.
    InitReboot,
    /// Unicast REQUEST with ciaddr at T1 (RENEWING), ACKed.
    Renew,
    /// A second server (a stray libvirt dnsmasq) answers too; the client
    /// takes the first OFFER.
    MultipleServers,
    /// INIT-REBOOT for an address from another network: NAK, then a DORA.
    Nak,
    /// A Xen guest's PXE ROM: four DISCOVERs with secs frozen at 0, the
    /// server (min-secs) never answers.
    NoOffer,
    /// A cloud VM: every OFFER leaves the hypervisor with a partial UDP
    /// checksum, the VM's old dhclient drops it and retransmits.
    OfferIgnored,
}

impl Scenario {
    pub const ALL: [Scenario; 8] = [
        Scenario::Dora,
        Scenario::DoraRetransmit,
        Scenario::InitReboot,
        Scenario::Renew,
        Scenario::MultipleServers,
        Scenario::Nak,
        Scenario::NoOffer,
        Scenario::OfferIgnored,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Scenario::Dora => "dora",
            Scenario::DoraRetransmit => "dora-retransmit",
            Scenario::InitReboot => "init-reboot",
            Scenario::Renew => "renew",
            Scenario::MultipleServers => "multiple-servers",
            Scenario::Nak => "nak",
            Scenario::NoOffer => "no-offer",
            Scenario::OfferIgnored => "offer-ignored",
        }
    }

    pub fn parse(s: &str) -> Option<Scenario> {
        Scenario::ALL.into_iter().find(|x| x.name() == s)
    }

    /// Packets the scenario writes.
    pub fn packets(self) -> u64 {
        match self {
            Scenario::Dora => 4,
            Scenario::DoraRetransmit => 5,
            Scenario::InitReboot | Scenario::Renew => 2,
            Scenario::MultipleServers => 5,
            Scenario::Nak => 6,
            Scenario::NoOffer => 4,
            Scenario::OfferIgnored => 8,
        }
    }

    /// Share of clients, given the share that is a failure kind.
    pub fn weight(self, failure_rate: f64) -> f64 {
        let healthy = 1.0 - failure_rate;
        let failure = failure_rate / 4.0;
        match self {
            Scenario::Dora => 0.80 * healthy,
            Scenario::DoraRetransmit => 0.08 * healthy,
            Scenario::InitReboot => 0.04 * healthy,
            Scenario::Renew => 0.08 * healthy,
            Scenario::MultipleServers
            | Scenario::Nak
            | Scenario::NoOffer
            | Scenario::OfferIgnored => failure,
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Mean packets per client for a failure rate.
pub fn packets_per_client(failure_rate: f64) -> f64 {
    Scenario::ALL
        .iter()
        .map(|s| s.weight(failure_rate) * s.packets() as f64)
        .sum()
}

/// The most clients a capture can have (MAC suffixes are unique below it).
pub const MAX_CLIENTS: u64 = 1 << 24;

/// The most campus VLANs (10.64.0.0/14 up to 10.252.0.0/14).
pub const MAX_VLANS: u16 = 48;

/// What to generate.
#[derive(Debug, Clone)]
pub struct Config {
    pub clients: u64,
    /// Stop after this many packets (the capture then ends mid-exchange for
    /// the clients still active, as a real capture does).
    pub max_packets: Option<u64>,
    pub format: Format,
    pub seed: u64,
    /// New clients per second (Poisson arrivals).
    pub rate: f64,
    /// Share of clients in a failure scenario (no-offer, NAK, offer-ignored,
    /// multiple servers, a quarter each).
    pub failure_rate: f64,
    /// Campus VLANs (one /14 subnet each); 0 for one untagged subnet.
    pub vlans: u16,
    /// Distinct machines: arrival `i` is machine `i % population`, which
    /// comes back with its MAC, kind and scenario (and new xids), as in a long
    /// capture of one network. `None`: every arrival is a new machine.
    pub population: Option<u64>,
    /// Timestamp of the first arrival, ns since the epoch.
    pub start_ns: i64,
}

impl Config {
    pub fn new(clients: u64) -> Config {
        Config {
            clients,
            max_packets: None,
            format: Format::Pcap,
            seed: 1,
            rate: 2500.0,
            failure_rate: 0.05,
            vlans: 16,
            population: None,
            // Monday 2024-03-04 08:00:00 UTC: the morning boot storm.
            start_ns: 1_709_539_200_000_000_000,
        }
    }

    /// Enough clients for `packets` packets at this failure rate (the
    /// capture is then cut at exactly `packets`).
    pub fn clients_for_packets(packets: u64, failure_rate: f64) -> u64 {
        let mean = packets_per_client(failure_rate);
        ((packets as f64 / mean) * 1.02).ceil() as u64 + 100
    }
}

/// What was written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    pub packets: u64,
    pub bytes: u64,
    pub clients: u64,
    /// Clients started, per [`Scenario`] (indexed like [`Scenario::ALL`]).
    pub scenarios: [u64; 8],
    /// The most clients in the middle of an exchange at one time.
    pub max_active: usize,
    pub first_ns: i64,
    pub last_ns: i64,
}

impl Stats {
    pub fn scenario(&self, s: Scenario) -> u64 {
        self.scenarios[s.index()]
    }
}

/// Which network a client is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Net {
    Campus(u16),
    Cloud,
}

/// One packet of a client's script.
#[derive(Debug, Clone, Copy)]
struct Step {
    at: i64,
    xid: u32,
    what: What,
}

#[derive(Debug, Clone, Copy)]
enum What {
    Client {
        msg: ClientMsg,
        secs: u16,
        ciaddr: Ipv4Addr,
    },
    Server {
        server: Server,
        reply: Reply,
        yiaddr: Ipv4Addr,
        ciaddr: Ipv4Addr,
        partial: bool,
    },
}

/// A client in the middle of its exchange.
struct Active {
    kind: ClientKind,
    id: Identity,
    net: Net,
    vlan: Option<u16>,
    ip_id: u16,
    steps: Vec<Step>,
    next: usize,
}

const CLOUD_VLAN: u16 = 4000;
const SEC: i64 = 1_000_000_000;
const MS: i64 = 1_000_000;
const US: i64 = 1_000;

fn campus_subnet(v: u16) -> Subnet {
    let second = 64 + 4 * (v % MAX_VLANS) as u8;
    Subnet {
        base: Ipv4Addr::new(10, second, 0, 0),
        prefix: 14,
        router: Ipv4Addr::new(10, second, 0, 1),
        server_id: Ipv4Addr::new(10, second, 0, 2),
    }
}

const LIBVIRT: Subnet = Subnet {
    base: Ipv4Addr::new(192, 168, 122, 0),
    prefix: 24,
    router: Ipv4Addr::new(192, 168, 122, 1),
    server_id: Ipv4Addr::new(192, 168, 122, 1),
};

const CLOUD: Subnet = Subnet {
    base: Ipv4Addr::new(172, 16, 0, 0),
    prefix: 16,
    router: Ipv4Addr::new(172, 16, 0, 1),
    server_id: Ipv4Addr::new(172, 16, 0, 2),
};

/// Where the capture goes.
enum Out<W: Write> {
    Pcap(PcapWriter<W>),
    Pcapng(PcapngWriter<W>, u32),
}

/// Counts the bytes written through it.
struct Counting<W> {
    inner: W,
    bytes: u64,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(b)?;
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Plans clients and turns their steps into frames.
struct Planner {
    seed: u64,
    failure_rate: f64,
    vlans: u16,
    population: Option<u64>,
    xid_counter: u32,
    xid_salt: u32,
    mac_salt: u32,
    /// Next pool address per campus subnet, the libvirt and the cloud pools.
    pools: Vec<u64>,
    libvirt_pool: u64,
    cloud_pool: u64,
}

impl Planner {
    fn new(cfg: &Config) -> Planner {
        let salt = rng::mix64(cfg.seed ^ 0x5eed);
        Planner {
            seed: cfg.seed,
            failure_rate: cfg.failure_rate,
            vlans: cfg.vlans,
            population: cfg.population.filter(|p| *p > 0),
            xid_counter: 0,
            xid_salt: salt as u32,
            mac_salt: (salt >> 32) as u32,
            pools: vec![0; usize::from(cfg.vlans.max(1))],
            libvirt_pool: 0,
            cloud_pool: 0,
        }
    }

    fn xid(&mut self) -> u32 {
        let x = rng::permute32(self.xid_counter ^ self.xid_salt);
        self.xid_counter = self.xid_counter.wrapping_add(1);
        x
    }

    fn campus_address(&mut self, v: u16) -> Ipv4Addr {
        let p = &mut self.pools[usize::from(v)];
        *p += 1;
        campus_subnet(v).pool_address(*p)
    }

    /// Plans client `index`, arriving at `t0`.
    fn plan(&mut self, index: u64, t0: i64) -> (Active, Scenario) {
        // The machine arriving: its MAC, kind, scenario and timing follow
        // from it alone; its xids come from the shared counter.
        let index = self.population.map_or(index, |p| index % p);
        let mut r = Rng::derive(self.seed, 1, index);
        let weights: Vec<f64> = Scenario::ALL
            .iter()
            .map(|s| s.weight(self.failure_rate))
            .collect();
        let scenario = Scenario::ALL[r.weighted(&weights)];
        let kind = match scenario {
            Scenario::NoOffer => ClientKind::Pxe,
            Scenario::OfferIgnored => ClientKind::Dhclient,
            Scenario::Nak => [ClientKind::Windows, ClientKind::Dhclient][r.weighted(&[0.6, 0.4])],
            Scenario::InitReboot | Scenario::Renew | Scenario::MultipleServers => {
                ClientKind::ALL[r.weighted(&[0.45, 0.25, 0.12, 0.10, 0.0])]
            }
            Scenario::Dora | Scenario::DoraRetransmit => {
                ClientKind::ALL[r.weighted(&[0.45, 0.25, 0.12, 0.10, 0.08])]
            }
        };
        let oui = match scenario {
            Scenario::NoOffer => profiles::XEN_OUI,
            Scenario::OfferIgnored => profiles::OPENSTACK_OUI,
            _ => {
                let ouis = kind.ouis();
                ouis[r.below(ouis.len() as u64) as usize]
            }
        };
        let suffix = rng::permute24((index as u32).wrapping_add(self.mac_salt));
        let mac = [
            oui[0],
            oui[1],
            oui[2],
            (suffix >> 16) as u8,
            (suffix >> 8) as u8,
            suffix as u8,
        ];
        let hostname: Option<Box<[u8]>> = match (scenario, kind) {
            (Scenario::OfferIgnored, _) => Some(b"ubuntu".to_vec().into()),
            (_, ClientKind::Windows) => {
                const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
                let mut h = b"DESKTOP-".to_vec();
                h.extend((0..7).map(|_| A[r.below(A.len() as u64) as usize]));
                Some(h.into())
            }
            (_, ClientKind::Dhclient) => Some(format!("lin-{:06x}", suffix).into_bytes().into()),
            (_, ClientKind::Dhcpcd) => Some(b"raspberrypi".to_vec().into()),
            _ => None,
        };
        let mut guid = [0u8; 16];
        guid[..8].copy_from_slice(&r.next_u64().to_be_bytes());
        guid[8..].copy_from_slice(&r.next_u64().to_be_bytes());
        let (net, vlan) = match scenario {
            Scenario::OfferIgnored => (Net::Cloud, (self.vlans > 0).then_some(CLOUD_VLAN)),
            _ => {
                let v = r.below(u64::from(self.vlans.max(1))) as u16;
                (Net::Campus(v), (self.vlans > 0).then_some(100 + v))
            }
        };
        let id = Identity {
            mac,
            hostname,
            guid,
        };
        let mut steps = Vec::with_capacity(scenario.packets() as usize);
        self.script(scenario, kind, net, t0, &mut r, &mut steps);
        steps.sort_by_key(|s| s.at);
        let active = Active {
            kind,
            id,
            net,
            vlan,
            ip_id: r.next_u64() as u16,
            steps,
            next: 0,
        };
        (active, scenario)
    }

    fn script(
        &mut self,
        scenario: Scenario,
        kind: ClientKind,
        net: Net,
        t0: i64,
        r: &mut Rng,
        steps: &mut Vec<Step>,
    ) {
        let v = match net {
            Net::Campus(v) => v,
            Net::Cloud => 0,
        };
        let secs = |at: i64, start: i64| -> u16 {
            if kind.counts_secs() {
                ((at - start) / SEC).clamp(0, i64::from(u16::MAX)) as u16
            } else {
                0
            }
        };
        let client = |at: i64, xid: u32, msg: ClientMsg, secs: u16, ciaddr: Ipv4Addr| Step {
            at,
            xid,
            what: What::Client { msg, secs, ciaddr },
        };
        let reply = |at: i64, xid: u32, server: Server, reply: Reply, yiaddr: Ipv4Addr| Step {
            at,
            xid,
            what: What::Server {
                server,
                reply,
                yiaddr,
                ciaddr: Ipv4Addr::UNSPECIFIED,
                partial: false,
            },
        };
        let zero = Ipv4Addr::UNSPECIFIED;
        // Server answer time, client think time between OFFER and REQUEST,
        // retransmission delay (RFC 2131 §4.1: 4 s, doubling, ±1 s).
        let serve = |r: &mut Rng| r.log_uniform_ns(200 * US, 4 * MS);
        let think = |r: &mut Rng| match kind {
            ClientKind::Windows => r.log_uniform_ns(2 * MS, 150 * MS),
            ClientKind::Dhclient | ClientKind::Dhcpcd => r.log_uniform_ns(MS, 30 * MS),
            ClientKind::Udhcpc | ClientKind::Pxe => r.log_uniform_ns(MS, 10 * MS),
        };
        let backoff = |r: &mut Rng, k: u32| ((4 * SEC) << k) + r.range(-SEC, SEC);
        let server_id = campus_subnet(v).server_id;

        // DISCOVER(s) at `times`, then OFFER, REQUEST, ACK from the campus server.
        let dora = |this: &mut Planner, r: &mut Rng, steps: &mut Vec<Step>, times: &[i64]| {
            let xid = this.xid();
            let start = times[0];
            for &t in times {
                steps.push(client(
                    t,
                    xid,
                    ClientMsg::Discover { previous: None },
                    secs(t, start),
                    zero,
                ));
            }
            let address = this.campus_address(v);
            let last = *times.last().expect("at least one DISCOVER");
            let offer = last + serve(r);
            steps.push(reply(offer, xid, Server::Isc, Reply::Offer, address));
            let req = offer + think(r);
            steps.push(client(
                req,
                xid,
                ClientMsg::Select {
                    address,
                    server: server_id,
                },
                secs(req, start),
                zero,
            ));
            steps.push(reply(req + serve(r), xid, Server::Isc, Reply::Ack, address));
        };

        match scenario {
            Scenario::Dora => dora(self, r, steps, &[t0]),
            Scenario::DoraRetransmit => {
                let again = t0 + backoff(r, 0);
                dora(self, r, steps, &[t0, again]);
            }
            Scenario::InitReboot => {
                let xid = self.xid();
                let address = self.campus_address(v);
                steps.push(client(t0, xid, ClientMsg::InitReboot { address }, 0, zero));
                steps.push(reply(t0 + serve(r), xid, Server::Isc, Reply::Ack, address));
            }
            Scenario::Renew => {
                let xid = self.xid();
                let address = self.campus_address(v);
                steps.push(client(t0, xid, ClientMsg::Renew, 0, address));
                steps.push(Step {
                    at: t0 + serve(r),
                    xid,
                    what: What::Server {
                        server: Server::Isc,
                        reply: Reply::Ack,
                        yiaddr: address,
                        ciaddr: address,
                        partial: false,
                    },
                });
            }
            Scenario::MultipleServers => {
                let xid = self.xid();
                steps.push(client(
                    t0,
                    xid,
                    ClientMsg::Discover { previous: None },
                    0,
                    zero,
                ));
                let ours = self.campus_address(v);
                self.libvirt_pool += 1;
                let stray = LIBVIRT.pool_address(self.libvirt_pool % 200);
                let t_ours = t0 + serve(r);
                let t_stray = t0 + r.log_uniform_ns(300 * US, 30 * MS);
                steps.push(reply(t_ours, xid, Server::Isc, Reply::Offer, ours));
                steps.push(reply(t_stray, xid, Server::Libvirt, Reply::Offer, stray));
                // The client takes the first OFFER.
                let (first, server, sid, address) = if t_ours <= t_stray {
                    (t_ours, Server::Isc, server_id, ours)
                } else {
                    (t_stray, Server::Libvirt, LIBVIRT.server_id, stray)
                };
                let req = first + think(r);
                steps.push(client(
                    req,
                    xid,
                    ClientMsg::Select {
                        address,
                        server: sid,
                    },
                    secs(req, t0),
                    zero,
                ));
                steps.push(reply(req + serve(r), xid, server, Reply::Ack, address));
            }
            Scenario::Nak => {
                let xid = self.xid();
                // The lease it remembers is from a home network.
                let home = Ipv4Addr::new(192, 168, 1, 2 + r.below(250) as u8);
                steps.push(client(
                    t0,
                    xid,
                    ClientMsg::InitReboot { address: home },
                    0,
                    zero,
                ));
                let nak = t0 + serve(r);
                steps.push(reply(nak, xid, Server::Isc, Reply::Nak, zero));
                let again = nak + r.log_uniform_ns(2 * MS, 500 * MS);
                dora(self, r, steps, &[again]);
            }
            Scenario::NoOffer => {
                // PXE 2.1: four DISCOVERs, timeouts 4, 8, 16 s; secs stays 0.
                let xid = self.xid();
                for t in [0, 4 * SEC, 12 * SEC, 28 * SEC] {
                    let at = t0 + t + r.range(0, 20 * MS);
                    steps.push(client(
                        at,
                        xid,
                        ClientMsg::Discover { previous: None },
                        0,
                        zero,
                    ));
                }
            }
            Scenario::OfferIgnored => {
                let xid = self.xid();
                self.cloud_pool += 1;
                let address = CLOUD.pool_address(self.cloud_pool);
                let mut t = t0;
                for k in 0..4 {
                    steps.push(client(
                        t,
                        xid,
                        ClientMsg::Discover { previous: None },
                        secs(t, t0),
                        zero,
                    ));
                    steps.push(Step {
                        at: t + r.log_uniform_ns(100 * US, MS),
                        xid,
                        what: What::Server {
                            server: Server::Neutron,
                            reply: Reply::Offer,
                            yiaddr: address,
                            ciaddr: zero,
                            partial: true,
                        },
                    });
                    t += backoff(r, k);
                }
            }
        }
    }
}

/// Reusable buffers for building frames.
#[derive(Default)]
struct Bufs {
    payload: Vec<u8>,
    frame: Vec<u8>,
}

/// Builds the Ethernet frame of `step` of client `c` into `b.frame`.
fn build(c: &mut Active, step: &Step, server_ip_ids: &mut [u16; 3], b: &mut Bufs) {
    let broadcast = Ipv4Addr::BROADCAST;
    let bcast_mac = [0xff; 6];
    let campus = match c.net {
        Net::Campus(v) => campus_subnet(v),
        Net::Cloud => CLOUD,
    };
    b.payload.clear();
    b.frame.clear();
    let vlans: Vec<u16> = c.vlan.into_iter().collect();
    match step.what {
        What::Client { msg, secs, ciaddr } => {
            let mut m = Message::new(Op::BootRequest, step.xid, &c.id.mac);
            m.secs = secs;
            m.flags = c.kind.flags();
            m.ciaddr = ciaddr;
            m.options = client_options(c.kind, msg, &c.id);
            m.encode_into(&mut b.payload, c.kind.min_len());
            let renew = matches!(msg, ClientMsg::Renew);
            let (dst_ip, dst_mac) = if renew {
                (campus.server_id, Server::Isc.mac())
            } else {
                (broadcast, bcast_mac)
            };
            let src_ip = if renew { ciaddr } else { Ipv4Addr::UNSPECIFIED };
            let mut f = UdpFrame::new((src_ip, 68), (dst_ip, 67), &b.payload);
            f.src_mac = c.id.mac;
            f.dst_mac = dst_mac;
            f.vlans = vlans;
            f.ttl = c.kind.ttl();
            // Windows numbers its IP datagrams; dhclient and the rest send id 0.
            if c.kind == ClientKind::Windows {
                f.identification = c.ip_id;
                c.ip_id = c.ip_id.wrapping_add(1);
            }
            f.write_ethernet(&mut b.frame);
        }
        What::Server {
            server,
            reply,
            yiaddr,
            ciaddr,
            partial,
        } => {
            let subnet = match server {
                Server::Isc => campus,
                Server::Libvirt => LIBVIRT,
                Server::Neutron => CLOUD,
            };
            let pxe = c.kind == ClientKind::Pxe && server == Server::Isc;
            let mut m = Message::new(Op::BootReply, step.xid, &c.id.mac);
            m.yiaddr = yiaddr;
            m.ciaddr = ciaddr;
            m.flags = c.kind.flags();
            match server {
                Server::Isc if pxe && reply != Reply::Nak => {
                    m.siaddr = profiles::TFTP_SERVER;
                    m.file = std::borrow::Cow::Borrowed(profiles::PXE_BOOT_FILE);
                }
                Server::Isc => {}
                // dnsmasq puts its own address in siaddr; ISC's NAK does too.
                Server::Libvirt | Server::Neutron => m.siaddr = subnet.server_id,
            }
            if reply == Reply::Nak {
                m.siaddr = subnet.server_id;
                m.flags = wire::dhcp::FLAG_BROADCAST;
            }
            m.options = server_options(
                server,
                reply,
                &ReplyTo {
                    subnet: &subnet,
                    pxe,
                },
            );
            m.encode_into(&mut b.payload, 300);
            let to_broadcast = m.flags & wire::dhcp::FLAG_BROADCAST != 0 || reply == Reply::Nak;
            let (dst_ip, dst_mac) = if to_broadcast {
                (broadcast, bcast_mac)
            } else {
                (yiaddr, c.id.mac)
            };
            let mut f = UdpFrame::new((subnet.server_id, 67), (dst_ip, 68), &b.payload);
            f.src_mac = server.mac();
            f.dst_mac = dst_mac;
            f.vlans = vlans;
            f.ttl = 64;
            let slot = &mut server_ip_ids[server as usize];
            f.identification = *slot;
            *slot = slot.wrapping_add(1);
            f.checksum = if partial {
                ChecksumMode::Partial
            } else {
                ChecksumMode::Full
            };
            f.write_ethernet(&mut b.frame);
        }
    }
}

/// Writes the capture described by `cfg` to `out`; if `manifest` is given,
/// writes one CSV line per client there: `mac,scenario,kind,vlan`.
pub fn generate<W: Write>(
    cfg: &Config,
    out: W,
    mut manifest: Option<&mut dyn Write>,
) -> io::Result<Stats> {
    if cfg.clients > MAX_CLIENTS {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("at most {MAX_CLIENTS} clients (unique MAC suffixes)"),
        ));
    }
    if cfg.vlans > MAX_VLANS {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("at most {MAX_VLANS} VLANs"),
        ));
    }
    if !cfg.rate.is_finite() || cfg.rate <= 0.0 || !(0.0..=1.0).contains(&cfg.failure_rate) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the rate must be positive and the failure rate between 0 and 1",
        ));
    }
    let counting = Counting {
        inner: BufWriter::with_capacity(1 << 20, out),
        bytes: 0,
    };
    let mut out = match cfg.format {
        Format::Pcap => Out::Pcap(PcapWriter::new(counting, LinkType::Ethernet, 65_535)?),
        Format::Pcapng => {
            let mut w = PcapngWriter::new(counting, "dhcplens-bench")?;
            let i = w.interface(LinkType::Ethernet, "trunk0")?;
            Out::Pcapng(w, i)
        }
    };
    if let Some(m) = manifest.as_deref_mut() {
        writeln!(m, "mac,scenario,kind,vlan")?;
    }
    let mut planner = Planner::new(cfg);
    let mut arrivals = Rng::derive(cfg.seed, 0, 0);
    let mean_gap = 1e9 / cfg.rate;
    let mut next_arrival = cfg.start_ns;
    let mut stats = Stats {
        first_ns: cfg.start_ns,
        last_ns: cfg.start_ns,
        ..Stats::default()
    };
    let mut slab: Vec<Option<Active>> = Vec::new();
    let mut free: Vec<u32> = Vec::new();
    let mut heap: BinaryHeap<Reverse<(i64, u64, u32)>> = BinaryHeap::new();
    let mut seq = 0u64;
    let mut active = 0usize;
    let mut server_ip_ids = [0u16; 3];
    let mut bufs = Bufs::default();
    let cap = cfg.max_packets.unwrap_or(u64::MAX);
    while stats.packets < cap {
        let arrival_due = stats.clients < cfg.clients
            && heap
                .peek()
                .is_none_or(|Reverse((t, _, _))| next_arrival <= *t);
        if arrival_due {
            let (a, scenario) = planner.plan(stats.clients, next_arrival);
            stats.scenarios[scenario.index()] += 1;
            if let Some(m) = manifest.as_deref_mut() {
                let mac = wire::frame::mac_to_string(&a.id.mac);
                let vlan = a.vlan.map_or(String::new(), |v| v.to_string());
                writeln!(m, "{mac},{},{},{vlan}", scenario.name(), a.kind.name())?;
            }
            let first = a.steps[0].at;
            let slot = match free.pop() {
                Some(s) => {
                    slab[s as usize] = Some(a);
                    s
                }
                None => {
                    slab.push(Some(a));
                    (slab.len() - 1) as u32
                }
            };
            heap.push(Reverse((first, seq, slot)));
            seq += 1;
            active += 1;
            stats.max_active = stats.max_active.max(active);
            stats.clients += 1;
            next_arrival += (arrivals.exponential(mean_gap) as i64).max(1);
            continue;
        }
        let Some(Reverse((at, _, slot))) = heap.pop() else {
            break;
        };
        let c = slab[slot as usize].as_mut().expect("scheduled client");
        let step = c.steps[c.next];
        build(c, &step, &mut server_ip_ids, &mut bufs);
        let data = &bufs.frame;
        match &mut out {
            Out::Pcap(w) => w.write(at, data, data.len())?,
            Out::Pcapng(w, i) => w.write(*i, at, data, data.len(), &[])?,
        }
        stats.packets += 1;
        stats.last_ns = at;
        c.next += 1;
        if c.next < c.steps.len() {
            heap.push(Reverse((c.steps[c.next].at, seq, slot)));
            seq += 1;
        } else {
            slab[slot as usize] = None;
            free.push(slot);
            active -= 1;
        }
    }
    let counting = match out {
        Out::Pcap(mut w) => {
            w.flush()?;
            w.into_inner()
        }
        Out::Pcapng(mut w, _) => {
            w.flush()?;
            w.into_inner()
        }
    };
    stats.bytes = counting.bytes;
    if let Some(m) = manifest {
        m.flush()?;
    }
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_mix_gives_about_four_packets_per_client() {
        let p = packets_per_client(0.05);
        assert!((3.8..4.1).contains(&p), "{p}");
        let total: f64 = Scenario::ALL.iter().map(|s| s.weight(0.05)).sum();
        assert!((total - 1.0).abs() < 1e-9);
    }

    #[test]
    fn packet_cap_is_exact_and_counts_match_the_mix() {
        let mut cfg = Config::new(2_000);
        cfg.max_packets = Some(3_000);
        let mut v = Vec::new();
        let s = generate(&cfg, &mut v, None).unwrap();
        assert_eq!(s.packets, 3_000);
        assert_eq!(s.bytes, v.len() as u64);

        cfg.max_packets = None;
        let mut v = Vec::new();
        let s = generate(&cfg, &mut v, None).unwrap();
        let expected: u64 = Scenario::ALL
            .iter()
            .map(|x| s.scenario(*x) * x.packets())
            .sum();
        assert_eq!(s.packets, expected);
        assert_eq!(s.clients, 2_000);
    }
}
