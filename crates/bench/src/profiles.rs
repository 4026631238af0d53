//! Who talks: client and server profiles whose option sets (codes, order,
//! value shapes, padding, flags, TTL) are transcribed from real packets in the
//! shared corpus (`/work/shared/corpus`, see its README for provenance):
//!
//! | profile | corpus packet it follows |
//! |---|---|
//! | [`ClientKind::Windows`] | `suricata-verify/dhcp-eve-extended-option-60/input.pcap` (REQUEST from a "MSFT 5.0" client: 61, 50, 12, 81, 60, 55) |
//! | [`ClientKind::Dhclient`] | `zeek/dhcp_time_and_nameserver.pcap` (REQUEST from a Linux dhclient/NetworkManager host: 50, 12, 55 with 18 codes, TTL 128) |
//! | [`ClientKind::Dhcpcd`] | `tcpdump/dhcp-mud.pcap` (dhcpcd 6.11.5 on a Raspberry Pi: 61, 57, 60, 12, 145, 55) |
//! | [`ClientKind::Udhcpc`] | `suricata-verify/dhcp-option-52-overload/input.pcap` (BusyBox udhcpc 1.36.1 DISCOVER: 57, 55, 60, 61) |
//! | [`ClientKind::Pxe`] | an Intel PXE 2.1 ROM (RFC 4578: 57, 55, 97, 94, 93, 60 `PXEClient:Arch:00000:UNDI:002001`, 548-byte messages, broadcast flag) |
//! | [`Server::Isc`] | `zeek/dhcp.pcap` and `net-dhcp/DHCP-DISCOVER-OFFER-REQUEST-ACK.cap` (54, 51, 58, 59, 1, 3, 6, 28, 15; NAK with 54 and 56 "requested address not available", broadcast) |
//! | [`Server::Libvirt`] | `suricata-verify/dhcp-eve-extended/input.pcap` (dnsmasq order 54, 51, 58, 59, 1, 28, 6, 3; lease 3600 with T1 1800 and T2 3150 as in `net-dhcp`) |
//! | [`Server::Neutron`] | dnsmasq as OpenStack's DHCP agent runs it (same order, plus domain `openstacklocal`, option 121 with the metadata route, MTU 1450) |

use std::net::Ipv4Addr;

use wire::dhcp::{code, RawOption};

/// The client software, which decides the option set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClientKind {
    Windows,
    Dhclient,
    Dhcpcd,
    Udhcpc,
    Pxe,
}

impl ClientKind {
    pub const ALL: [ClientKind; 5] = [
        ClientKind::Windows,
        ClientKind::Dhclient,
        ClientKind::Dhcpcd,
        ClientKind::Udhcpc,
        ClientKind::Pxe,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ClientKind::Windows => "windows",
            ClientKind::Dhclient => "dhclient",
            ClientKind::Dhcpcd => "dhcpcd",
            ClientKind::Udhcpc => "udhcpc",
            ClientKind::Pxe => "pxe",
        }
    }

    /// IPv4 TTL of its packets (Windows and ISC dhclient use 128).
    pub fn ttl(self) -> u8 {
        match self {
            ClientKind::Windows | ClientKind::Dhclient => 128,
            _ => 64,
        }
    }

    /// The DHCP message is zero-padded to this size (BOOTP minimum, or 548
    /// for PXE ROMs).
    pub fn min_len(self) -> usize {
        match self {
            ClientKind::Pxe => 548,
            _ => 300,
        }
    }

    /// The `flags` field: PXE ROMs ask for broadcast replies.
    pub fn flags(self) -> u16 {
        match self {
            ClientKind::Pxe => wire::dhcp::FLAG_BROADCAST,
            _ => 0,
        }
    }

    /// Whether `secs` counts up (BusyBox udhcpc leaves it 0).
    pub fn counts_secs(self) -> bool {
        !matches!(self, ClientKind::Udhcpc)
    }

    /// Organisationally unique identifiers its MACs are drawn from.
    pub fn ouis(self) -> &'static [[u8; 3]] {
        match self {
            // Intel, Dell, Lenovo, HP laptops and desktops.
            ClientKind::Windows => &[
                [0x3c, 0xa9, 0xf4],
                [0x14, 0x18, 0x77],
                [0x54, 0xe1, 0xad],
                [0x28, 0xcf, 0xda],
            ],
            ClientKind::Dhclient => &[[0x00, 0x90, 0xf5], [0x90, 0xb1, 0x1c], [0x3c, 0x52, 0x82]],
            // Raspberry Pi Foundation and Raspberry Pi Trading.
            ClientKind::Dhcpcd => &[[0xb8, 0x27, 0xeb], [0xdc, 0xa6, 0x32]],
            // Espressif and other embedded boards.
            ClientKind::Udhcpc => &[[0x24, 0x0a, 0xc4], [0x30, 0xae, 0xa4]],
            // Intel server NICs, VMware guests.
            ClientKind::Pxe => &[[0x00, 0x1b, 0x21], [0x00, 0x50, 0x56]],
        }
    }
}

/// Xen's OUI, for the HVM guests whose Etherboot PXE ROM never counts secs.
pub const XEN_OUI: [u8; 3] = [0x00, 0x16, 0x3e];
/// OpenStack Neutron's default MAC prefix, for cloud VMs.
pub const OPENSTACK_OUI: [u8; 3] = [0xfa, 0x16, 0x3e];

/// What the client is sending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientMsg {
    Discover {
        /// The address it last had (option 50), if any.
        previous: Option<Ipv4Addr>,
    },
    /// REQUEST in SELECTING state: options 50 and 54.
    Select { address: Ipv4Addr, server: Ipv4Addr },
    /// REQUEST in INIT-REBOOT state: option 50, no 54, ciaddr 0.
    InitReboot { address: Ipv4Addr },
    /// REQUEST in RENEWING state: ciaddr set, neither 50 nor 54.
    Renew,
}

/// Per-client values that go into its options.
#[derive(Debug, Clone)]
pub struct Identity {
    pub mac: [u8; 6],
    pub hostname: Option<Box<[u8]>>,
    /// PXE client machine identifier (option 97 minus its type byte).
    pub guid: [u8; 16],
}

fn opt(code: u8, data: impl Into<std::borrow::Cow<'static, [u8]>>) -> RawOption<'static> {
    RawOption::new(code, data)
}

fn client_id(mac: &[u8; 6]) -> Vec<u8> {
    let mut v = Vec::with_capacity(7);
    v.push(1);
    v.extend_from_slice(mac);
    v
}

const SIZE_1472: [u8; 2] = 1472u16.to_be_bytes();
const SIZE_576: [u8; 2] = 576u16.to_be_bytes();
const SIZE_1464: [u8; 2] = 1464u16.to_be_bytes();
const SIZE_1450: [u8; 2] = 1450u16.to_be_bytes();
const MSG_DISCOVER: &[u8] = &[1];
const MSG_REQUEST: &[u8] = &[3];

const WINDOWS_PRL: &[u8] = &[1, 15, 3, 6, 44, 46, 47, 31, 33, 121, 249, 43];
const WINDOWS_VCI: &[u8] = b"MSFT 5.0";
const DHCLIENT_PRL: &[u8] = &[
    1, 28, 2, 3, 15, 6, 119, 12, 44, 47, 26, 121, 42, 4, 5, 249, 33, 252,
];
const DHCPCD_PRL: &[u8] = &[
    1, 121, 33, 3, 6, 12, 15, 28, 42, 51, 54, 58, 59, 100, 101, 119,
];
const DHCPCD_VCI: &[u8] = b"dhcpcd-6.11.5:Linux-4.1.18-v7+:armv7l:BCM2709";
const UDHCPC_PRL: &[u8] = &[1, 3, 6, 12, 15, 28, 42, 54, 66, 67, 119];
const UDHCPC_VCI: &[u8] = b"udhcp 1.36.1";
const PXE_PRL: &[u8] = &[
    1, 2, 3, 5, 6, 11, 12, 13, 15, 16, 17, 18, 22, 23, 28, 40, 41, 42, 43, 50, 51, 54, 58, 59, 60,
    66, 67, 97, 128, 129, 130, 131, 132, 133, 134, 135,
];
const PXE_VCI: &[u8] = b"PXEClient:Arch:00000:UNDI:002001";

/// The options (in wire order, END last) of a client message.
pub fn client_options(kind: ClientKind, msg: ClientMsg, id: &Identity) -> Vec<RawOption<'static>> {
    let kind_byte = match msg {
        ClientMsg::Discover { .. } => MSG_DISCOVER,
        _ => MSG_REQUEST,
    };
    let (requested, server) = match msg {
        ClientMsg::Discover { previous } => (previous, None),
        ClientMsg::Select { address, server } => (Some(address), Some(server)),
        ClientMsg::InitReboot { address } => (Some(address), None),
        ClientMsg::Renew => (None, None),
    };
    let ip = |a: Ipv4Addr| a.octets().to_vec();
    let hostname = id.hostname.as_ref().map(|h| h.to_vec());
    let mut o = Vec::with_capacity(12);
    o.push(opt(code::DHCP_MESSAGE_TYPE, kind_byte));
    match kind {
        ClientKind::Windows => {
            o.push(opt(code::CLIENT_IDENTIFIER, client_id(&id.mac)));
            if let Some(r) = requested {
                o.push(opt(code::REQUESTED_IP_ADDRESS, ip(r)));
            }
            if let Some(s) = server {
                o.push(opt(code::SERVER_IDENTIFIER, ip(s)));
            }
            if let Some(h) = &hostname {
                o.push(opt(code::HOST_NAME, h.clone()));
                if !matches!(msg, ClientMsg::Discover { .. }) {
                    // Client FQDN: flags 0, RCODE1/2 0, the name (ASCII form).
                    let mut f = vec![0, 0, 0];
                    f.extend_from_slice(h);
                    o.push(opt(code::CLIENT_FQDN, f));
                }
            }
            o.push(opt(code::VENDOR_CLASS_IDENTIFIER, WINDOWS_VCI));
            o.push(opt(code::PARAMETER_REQUEST_LIST, WINDOWS_PRL));
        }
        ClientKind::Dhclient => {
            if let Some(s) = server {
                o.push(opt(code::SERVER_IDENTIFIER, ip(s)));
            }
            if let Some(r) = requested {
                o.push(opt(code::REQUESTED_IP_ADDRESS, ip(r)));
            }
            if let Some(h) = hostname {
                o.push(opt(code::HOST_NAME, h));
            }
            o.push(opt(code::PARAMETER_REQUEST_LIST, DHCLIENT_PRL));
        }
        ClientKind::Dhcpcd => {
            o.push(opt(code::CLIENT_IDENTIFIER, client_id(&id.mac)));
            if let Some(r) = requested {
                o.push(opt(code::REQUESTED_IP_ADDRESS, ip(r)));
            }
            if let Some(s) = server {
                o.push(opt(code::SERVER_IDENTIFIER, ip(s)));
            }
            o.push(opt(code::MAX_DHCP_MESSAGE_SIZE, &SIZE_1472[..]));
            o.push(opt(code::VENDOR_CLASS_IDENTIFIER, DHCPCD_VCI));
            if let Some(h) = hostname {
                o.push(opt(code::HOST_NAME, h));
            }
            // FORCERENEW nonce capable (RFC 6704), as dhcpcd sends it.
            o.push(opt(145, &[1u8][..]));
            o.push(opt(code::PARAMETER_REQUEST_LIST, DHCPCD_PRL));
        }
        ClientKind::Udhcpc => {
            if let Some(r) = requested {
                o.push(opt(code::REQUESTED_IP_ADDRESS, ip(r)));
            }
            if let Some(s) = server {
                o.push(opt(code::SERVER_IDENTIFIER, ip(s)));
            }
            o.push(opt(code::MAX_DHCP_MESSAGE_SIZE, &SIZE_576[..]));
            o.push(opt(code::PARAMETER_REQUEST_LIST, UDHCPC_PRL));
            o.push(opt(code::VENDOR_CLASS_IDENTIFIER, UDHCPC_VCI));
            o.push(opt(code::CLIENT_IDENTIFIER, client_id(&id.mac)));
        }
        ClientKind::Pxe => {
            if let Some(r) = requested {
                o.push(opt(code::REQUESTED_IP_ADDRESS, ip(r)));
            }
            o.push(opt(code::MAX_DHCP_MESSAGE_SIZE, &SIZE_1464[..]));
            if let Some(s) = server {
                o.push(opt(code::SERVER_IDENTIFIER, ip(s)));
            }
            o.push(opt(code::PARAMETER_REQUEST_LIST, PXE_PRL));
            let mut guid = Vec::with_capacity(17);
            guid.push(0);
            guid.extend_from_slice(&id.guid);
            o.push(opt(code::CLIENT_MACHINE_IDENTIFIER, guid));
            // Network interface identifier: UNDI 2.1.
            o.push(opt(code::CLIENT_NETWORK_INTERFACE, &[1u8, 2, 1][..]));
            // Client system architecture: 0, x86 BIOS.
            o.push(opt(code::CLIENT_SYSTEM_ARCHITECTURE, &[0u8, 0][..]));
            o.push(opt(code::VENDOR_CLASS_IDENTIFIER, PXE_VCI));
        }
    }
    o.push(opt(code::END, &[][..]));
    o
}

/// The servers on the generated network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Server {
    /// The campus's ISC dhcpd, one interface (and server identifier) per VLAN.
    Isc,
    /// A stray libvirt dnsmasq (192.168.122.1) bridged onto the network by mistake.
    Libvirt,
    /// OpenStack Neutron's dnsmasq, whose replies leave with partial checksums.
    Neutron,
}

impl Server {
    pub fn mac(self) -> [u8; 6] {
        match self {
            Server::Isc => [0x00, 0x1b, 0x21, 0x3a, 0x4f, 0x10],
            Server::Libvirt => [0x52, 0x54, 0x00, 0x6b, 0x2e, 0x91],
            Server::Neutron => [0xfa, 0x16, 0x3e, 0x00, 0x00, 0x02],
        }
    }

    /// Lease, T1, T2 in seconds.
    pub fn times(self) -> (u32, u32, u32) {
        match self {
            Server::Isc => (28_800, 14_400, 25_200),
            Server::Libvirt => (3_600, 1_800, 3_150),
            Server::Neutron => (86_400, 43_200, 75_600),
        }
    }
}

/// One IPv4 subnet as a server sees it.
#[derive(Debug, Clone, Copy)]
pub struct Subnet {
    pub base: Ipv4Addr,
    pub prefix: u8,
    pub router: Ipv4Addr,
    pub server_id: Ipv4Addr,
}

impl Subnet {
    pub fn mask(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::MAX << (32 - u32::from(self.prefix)))
    }

    pub fn broadcast(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.base) | !(u32::MAX << (32 - u32::from(self.prefix))))
    }

    /// The `n`-th address of the pool (wrapping; the first 16 are kept for
    /// routers and servers).
    pub fn pool_address(&self, n: u64) -> Ipv4Addr {
        let size = (1u64 << (32 - u32::from(self.prefix))) - 32;
        Ipv4Addr::from(u32::from(self.base) + 16 + (n % size) as u32)
    }
}

/// What a server reply says, besides its options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    Offer,
    Ack,
    Nak,
}

/// Values a server puts in its reply.
#[derive(Debug, Clone, Copy)]
pub struct ReplyTo<'a> {
    pub subnet: &'a Subnet,
    /// The client is a PXE ROM: give it a boot file and a TFTP server.
    pub pxe: bool,
}

const ISC_DNS: [u8; 8] = [10, 0, 0, 53, 10, 0, 1, 53];
const ISC_DOMAIN: &[u8] = b"campus.example.org";
const NAK_MESSAGE: &[u8] = b"requested address not available";
/// The ISC server's TFTP server for PXE clients (siaddr).
pub const TFTP_SERVER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 20);
pub const PXE_BOOT_FILE: &[u8] = b"pxelinux.0";

/// The options (in wire order, END last) of a server reply.
pub fn server_options(server: Server, reply: Reply, to: &ReplyTo<'_>) -> Vec<RawOption<'static>> {
    let s = to.subnet;
    let ip = |a: Ipv4Addr| a.octets().to_vec();
    let u32b = |v: u32| v.to_be_bytes().to_vec();
    let kind: &'static [u8] = match reply {
        Reply::Offer => &[2],
        Reply::Ack => &[5],
        Reply::Nak => &[6],
    };
    let mut o = Vec::with_capacity(14);
    o.push(opt(code::DHCP_MESSAGE_TYPE, kind));
    o.push(opt(code::SERVER_IDENTIFIER, ip(s.server_id)));
    if reply == Reply::Nak {
        o.push(opt(code::MESSAGE, NAK_MESSAGE));
        o.push(opt(code::END, &[][..]));
        return o;
    }
    let (lease, t1, t2) = server.times();
    o.push(opt(code::IP_ADDRESS_LEASE_TIME, u32b(lease)));
    o.push(opt(code::RENEWAL_TIME, u32b(t1)));
    o.push(opt(code::REBINDING_TIME, u32b(t2)));
    o.push(opt(code::SUBNET_MASK, ip(s.mask())));
    match server {
        Server::Isc => {
            o.push(opt(code::ROUTER, ip(s.router)));
            o.push(opt(code::DOMAIN_NAME_SERVER, &ISC_DNS[..]));
            o.push(opt(code::BROADCAST_ADDRESS, ip(s.broadcast())));
            o.push(opt(code::DOMAIN_NAME, ISC_DOMAIN));
        }
        Server::Libvirt => {
            o.push(opt(code::BROADCAST_ADDRESS, ip(s.broadcast())));
            o.push(opt(code::DOMAIN_NAME_SERVER, ip(s.server_id)));
            o.push(opt(code::ROUTER, ip(s.router)));
        }
        Server::Neutron => {
            o.push(opt(code::BROADCAST_ADDRESS, ip(s.broadcast())));
            o.push(opt(code::DOMAIN_NAME_SERVER, ip(s.server_id)));
            o.push(opt(code::DOMAIN_NAME, &b"openstacklocal"[..]));
            o.push(opt(code::ROUTER, ip(s.router)));
            // 169.254.169.254/32 via the DHCP port (metadata), 0/0 via the router.
            let mut routes = vec![32, 169, 254, 169, 254];
            routes.extend_from_slice(&s.server_id.octets());
            routes.push(0);
            routes.extend_from_slice(&s.router.octets());
            o.push(opt(code::CLASSLESS_STATIC_ROUTE, routes));
            o.push(opt(code::INTERFACE_MTU, &SIZE_1450[..]));
        }
    }
    o.push(opt(code::END, &[][..]));
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subnet_arithmetic() {
        let s = Subnet {
            base: Ipv4Addr::new(10, 64, 0, 0),
            prefix: 14,
            router: Ipv4Addr::new(10, 64, 0, 1),
            server_id: Ipv4Addr::new(10, 64, 0, 2),
        };
        assert_eq!(s.mask(), Ipv4Addr::new(255, 252, 0, 0));
        assert_eq!(s.broadcast(), Ipv4Addr::new(10, 67, 255, 255));
        assert_eq!(s.pool_address(0), Ipv4Addr::new(10, 64, 0, 16));
        assert_eq!(s.pool_address((1 << 18) - 32), s.pool_address(0));
    }

    #[test]
    fn every_option_set_ends_with_end_and_starts_with_type() {
        let id = Identity {
            mac: [2, 0, 0, 0, 0, 1],
            hostname: Some(b"host".to_vec().into_boxed_slice()),
            guid: [7; 16],
        };
        let addr = Ipv4Addr::new(10, 64, 0, 20);
        let srv = Ipv4Addr::new(10, 64, 0, 2);
        for k in ClientKind::ALL {
            for m in [
                ClientMsg::Discover { previous: None },
                ClientMsg::Select {
                    address: addr,
                    server: srv,
                },
                ClientMsg::InitReboot { address: addr },
                ClientMsg::Renew,
            ] {
                let o = client_options(k, m, &id);
                assert_eq!(o[0].code, code::DHCP_MESSAGE_TYPE);
                assert_eq!(o.last().map(|o| o.code), Some(code::END));
                let has = |c| o.iter().any(|x| x.code == c);
                assert_eq!(
                    has(code::SERVER_IDENTIFIER),
                    matches!(m, ClientMsg::Select { .. })
                );
                assert_eq!(
                    has(code::REQUESTED_IP_ADDRESS),
                    matches!(m, ClientMsg::Select { .. } | ClientMsg::InitReboot { .. })
                );
            }
        }
    }
}
