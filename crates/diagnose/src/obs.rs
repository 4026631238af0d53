//! Observations: the facts about one DHCP packet that the rules need, owned
//! and compact, so the engine keeps no packet bytes.

use std::net::Ipv4Addr;

use capture::Timestamp;
use wire::dhcp::{code, value, Message, MessageType, Region};
use wire::plain::Plain;
use wire::{DhcpFrame, HwAddr, Op, UdpChecksum};

/// Where a packet came from: the capture (index into the run's file list) and
/// its 1-based frame number there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FrameRef {
    pub file: u16,
    pub frame: u64,
}

/// What the kernel said about a live frame's checksum (from `watch`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KernelChecksum {
    /// `TP_STATUS_CSUMNOTREADY`: left for transmit offload on this host.
    NotReady,
    Valid,
    Unknown,
}

/// A byte string of at most 32 bytes kept inline (client ids, agent info
/// summaries); longer values are cut and flagged.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Short {
    len: u8,
    cut: bool,
    bytes: [u8; 32],
}

impl Short {
    pub fn new(b: &[u8]) -> Short {
        let n = b.len().min(32);
        let mut bytes = [0; 32];
        bytes[..n].copy_from_slice(&b[..n]);
        Short {
            len: n as u8,
            cut: b.len() > 32,
            bytes,
        }
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }

    /// Whether the original value was longer than the 32 bytes kept.
    pub fn is_cut(&self) -> bool {
        self.cut
    }

    /// Hex with colons, e.g. `01:00:0b:82:01:fc:42`.
    pub fn hex(&self) -> String {
        let mut s: Vec<String> = self.as_bytes().iter().map(|b| format!("{b:02x}")).collect();
        if self.cut {
            s.push("…".into());
        }
        s.join(":")
    }
}

impl std::fmt::Debug for Short {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.hex())
    }
}

/// The PXE boot server's port (PXE 2.1 §2.2.4): ProxyDHCP REQUESTs and
/// their ACKs.
pub const PXE_BOOT_SERVER_PORT: u16 = 4011;

/// One DHCP packet as the rules see it.
#[derive(Debug, Clone, PartialEq)]
pub struct Obs {
    pub at: FrameRef,
    pub ts: Timestamp,
    pub op: Op,
    /// Option 53; `None` for plain BOOTP.
    pub kind: Option<MessageType>,
    pub xid: u32,
    pub secs: u16,
    pub flags: u16,
    pub hops: u8,
    pub ciaddr: Ipv4Addr,
    pub yiaddr: Ipv4Addr,
    pub siaddr: Ipv4Addr,
    pub giaddr: Ipv4Addr,
    pub chaddr: HwAddr,
    pub src_ip: Ipv4Addr,
    pub dst_ip: Ipv4Addr,
    pub src_port: u16,
    pub dst_port: u16,
    pub src_mac: Option<[u8; 6]>,
    pub dst_mac: Option<[u8; 6]>,
    pub vlan: Option<u16>,
    pub udp_checksum: UdpChecksum,
    pub kernel_checksum: Option<KernelChecksum>,
    /// Live capture only: the frame was leaving this host (`None` offline).
    pub outgoing: Option<bool>,
    /// Live capture only: the interface is virtual (veth, tap, bridge), so no
    /// NIC will fill a checksum left for offload (`None` when unknown).
    pub virtual_link: Option<bool>,
    /// The IPv4 header checksum is 0: the capture was taken on the sending
    /// host before offload filled it in.
    pub ip_checksum_offloaded: bool,
    /// The IPv4 header's identification: with the length, what tells one
    /// frame captured twice from a message sent twice.
    pub ip_id: u16,
    /// The IPv4 header's time to live: an initial value (64, 128, 255) says
    /// the frame comes from its sender's own link, not through a router.
    pub ttl: u8,
    /// The pcapng interface it was captured on (0 for pcap): a capture of
    /// several interfaces (mergecap of two hosts' captures, dumpcap -i a -i
    /// b) sees one message once on each, a copy as in another capture.
    pub iface: u16,
    /// DHCP payload length (UDP payload), as sent.
    pub length: usize,
    /// The capture kept only the start of the message: options past the cut
    /// are unknown, so none is judged missing.
    pub cut: bool,
    pub client_id: Option<Short>,
    pub requested_ip: Option<Ipv4Addr>,
    pub server_id: Option<Ipv4Addr>,
    pub lease: Option<u32>,
    pub t1: Option<u32>,
    pub t2: Option<u32>,
    pub subnet_mask: Option<Ipv4Addr>,
    pub router: Option<Ipv4Addr>,
    /// Options 121/249 present; `true` if they hold a default route (0/0).
    pub classless_routes: Option<bool>,
    /// Option 57.
    pub max_size: Option<u16>,
    /// Option 55 asks for the subnet mask (1) and router (3).
    pub asks_mask: bool,
    pub asks_router: bool,
    /// Option 77 says iPXE, or option 175 is present.
    pub ipxe: bool,
    /// A TFTP server is named: option 66, or `siaddr` set.
    pub tftp_server: bool,
    /// Option 53 is not the first option (some boot ROMs cannot parse that).
    pub type_not_first: bool,
    /// What few packets carry (NAK messages, relay information, PXE, boot
    /// files, anomalies), kept out of line: an observation is copied into
    /// its transaction and kept while that is open, so its size is what
    /// an open transaction costs.
    pub rare: Option<Box<Rare>>,
}

/// The fields of an [`Obs`] that most packets do not have.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rare {
    /// Option 56, the server's message (NAK reason).
    pub message: Option<Box<str>>,
    /// Option 82 present, with its raw value.
    pub relay_info: Option<Short>,
    /// Option 60, kept only for PXE clients (`PXEClient…`).
    pub vendor_class: Option<Box<str>>,
    /// Option 93, first architecture.
    pub arch: Option<u16>,
    /// Option 43's PXE boot item (sub-option 71: type and layer), kept only
    /// with option 60 `PXEClient…`: a boot server discovery, or its answer.
    pub boot_item: Option<(u16, u16)>,
    /// Option 43's PXE boot menu, in a reply with option 60 `PXEClient…`.
    pub boot_menu: Option<BootMenu>,
    /// Boot file: option 67, else the `file` field (when not overloaded).
    pub boot_file: Option<Box<str>>,
    /// Option 12, kept only when it is not a valid DNS name ([`valid_host_name`]).
    pub bad_host_name: Option<Box<str>>,
    /// Anomalies other than the BOOTP minimum length: (frame offset, code, sentence).
    pub anomalies: Vec<(usize, &'static str, String)>,
    /// This message was not seen itself but quoted by an ICMP destination
    /// unreachable (the frame is the ICMP's): who sent that, and its code.
    pub unreachable: Option<(Ipv4Addr, u8)>,
    /// …and the quote stops before `chaddr`: it names no client (its
    /// sender kept only the headers, as RFC 792 asks).
    pub names_no_client: bool,
    /// …or even before `op`, between two ports 67: a relay's forwarded
    /// request or a server's reply to a relay, which `op` only tells.
    pub op_unknown: bool,
}

/// What a PXE server's option 43 says about its boot menu (PXE 2.1 §2.2.5):
/// where the ROM will look for the boot server of the item it picks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BootMenu {
    /// Sub-option 6, discovery control (0 when absent): bit 0 forbids
    /// broadcast discovery, bit 1 multicast, bit 3 skips the menu when the
    /// reply names a boot file.
    pub control: u8,
    /// Sub-option 8 names boot servers (by type and address).
    pub servers_named: bool,
}

impl BootMenu {
    /// The menu in `option_43`, if it has one (sub-option 9).
    pub fn of(option_43: &[u8]) -> Option<BootMenu> {
        use wire::dhcp::value::sub_option;
        sub_option(option_43, 9)?;
        Some(BootMenu {
            control: sub_option(option_43, 6)
                .and_then(|v| v.first().copied())
                .unwrap_or(0),
            servers_named: sub_option(option_43, 8).is_some_and(|v| !v.is_empty()),
        })
    }

    /// Whether the ROM may search for a boot server by broadcast.
    pub fn broadcast_allowed(&self) -> bool {
        self.control & 1 == 0
    }
}

impl Rare {
    fn is_empty(&self) -> bool {
        self.unreachable.is_none()
            && !self.names_no_client
            && !self.op_unknown
            && self.message.is_none()
            && self.relay_info.is_none()
            && self.vendor_class.is_none()
            && self.arch.is_none()
            && self.boot_item.is_none()
            && self.boot_menu.is_none()
            && self.boot_file.is_none()
            && self.bad_host_name.is_none()
            && self.anomalies.is_empty()
    }
}

impl Obs {
    /// Extracts the observation from a decoded frame; `None` if the DHCP
    /// header was incomplete. One pass over the options (this runs for every
    /// packet of a capture).
    pub fn new(
        at: FrameRef,
        ts: Timestamp,
        d: &DhcpFrame<'_>,
        kernel: Option<KernelChecksum>,
    ) -> Option<Obs> {
        let m = d.message.as_ref()?;
        let f = &d.frame;
        // As sent: more than was captured when the snap length cut it.
        let length = d.message_len();
        let idx = OptionIndex::new(m);
        let ip = |c: u8| {
            idx.get(m, c)
                .and_then(|v| <[u8; 4]>::try_from(v.as_ref()).ok())
                .map(Ipv4Addr::from)
        };
        let u32_of = |c: u8| {
            idx.get(m, c)
                .and_then(|v| <[u8; 4]>::try_from(v.as_ref()).ok())
                .map(u32::from_be_bytes)
        };
        let text = |c: u8| idx.get(m, c).map(|v| value::escape(&v).into_boxed_str());
        let params = idx.get(m, code::PARAMETER_REQUEST_LIST);
        let classless = [
            code::CLASSLESS_STATIC_ROUTE,
            code::MS_CLASSLESS_STATIC_ROUTE,
        ]
        .into_iter()
        .find_map(|c| idx.get(m, c))
        .map(|r| has_default_route(&r));
        let ipxe = idx.has(code::ETHERBOOT)
            || idx
                .get(m, code::USER_CLASS)
                .is_some_and(|u| u.windows(4).any(|w| w == b"iPXE"));
        let boot_file = text(code::BOOTFILE_NAME).or_else(|| {
            let file = m.file.as_ref();
            let end = file.iter().position(|&c| c == 0).unwrap_or(file.len());
            (end > 0 && !m.overloads(Region::File))
                .then(|| value::escape(&file[..end]).into_boxed_str())
        });
        let vendor_class = idx
            .get(m, code::VENDOR_CLASS_IDENTIFIER)
            .filter(|v| v.starts_with(b"PXEClient"))
            .map(|v| value::escape(&v).into_boxed_str());
        let pxe_43 = idx
            .get(m, code::VENDOR_SPECIFIC)
            .filter(|_| vendor_class.is_some());
        let boot_item = pxe_43.as_ref().and_then(|v| value::pxe_boot_item(v));
        let boot_menu = pxe_43
            .as_ref()
            .filter(|_| m.op == Op::BootReply)
            .and_then(|v| BootMenu::of(v));
        // The first option 53 counts (a repeated one is its own anomaly).
        let kind = m.message_type();
        let rare = Rare {
            unreachable: None,
            names_no_client: false,
            op_unknown: false,
            message: text(code::MESSAGE),
            relay_info: idx
                .get(m, code::RELAY_AGENT_INFORMATION)
                .map(|v| Short::new(&v)),
            vendor_class,
            boot_item,
            boot_menu,
            arch: idx.get(m, code::CLIENT_SYSTEM_ARCHITECTURE).and_then(|v| {
                let b = v.get(..2)?;
                Some(u16::from_be_bytes([b[0], b[1]]))
            }),
            boot_file,
            bad_host_name: idx
                .get(m, code::HOST_NAME)
                .filter(|v| !valid_host_name(v))
                .map(|v| value::escape(&v).into_boxed_str()),
            anomalies: d
                .anomalies
                .iter()
                .filter(|a| a.kind.is_malformation())
                .map(|a| (a.offset, a.kind.code(), a.kind.to_string()))
                .collect(),
        };
        Some(Obs {
            at,
            ts,
            op: m.op,
            kind,
            xid: m.xid,
            secs: m.secs,
            flags: m.flags,
            hops: m.hops,
            ciaddr: m.ciaddr,
            yiaddr: m.yiaddr,
            siaddr: m.siaddr,
            giaddr: m.giaddr,
            chaddr: m.chaddr(),
            src_ip: f.ip.src,
            dst_ip: f.ip.dst,
            src_port: f.udp.src_port,
            dst_port: f.udp.dst_port,
            src_mac: f.link.src_mac,
            dst_mac: f.link.dst_mac,
            vlan: f.link.vlans.last().copied(),
            udp_checksum: f.udp.checksum,
            kernel_checksum: kernel,
            outgoing: None,
            virtual_link: None,
            ip_checksum_offloaded: d
                .anomalies
                .iter()
                .any(|a| matches!(a.kind, wire::AnomalyKind::Ipv4ChecksumInvalid { found: 0 })),
            ip_id: f.ip.identification,
            ttl: f.ip.ttl,
            iface: 0,
            length,
            cut: length > f.payload.len(),
            client_id: idx.get(m, code::CLIENT_IDENTIFIER).map(|v| Short::new(&v)),
            requested_ip: ip(code::REQUESTED_IP_ADDRESS),
            server_id: ip(code::SERVER_IDENTIFIER),
            lease: u32_of(code::IP_ADDRESS_LEASE_TIME),
            t1: u32_of(code::RENEWAL_TIME),
            t2: u32_of(code::REBINDING_TIME),
            subnet_mask: ip(code::SUBNET_MASK),
            router: idx
                .get(m, code::ROUTER)
                .and_then(|v| v.get(..4).and_then(|b| <[u8; 4]>::try_from(b).ok()))
                .map(Ipv4Addr::from),
            classless_routes: classless,
            max_size: idx
                .get(m, code::MAX_DHCP_MESSAGE_SIZE)
                .and_then(|v| <[u8; 2]>::try_from(v.as_ref()).ok())
                .map(u16::from_be_bytes),
            asks_mask: params
                .as_ref()
                .is_some_and(|p| p.contains(&code::SUBNET_MASK)),
            asks_router: params.as_ref().is_some_and(|p| p.contains(&code::ROUTER)),
            ipxe,
            tftp_server: idx.has(code::TFTP_SERVER_NAME) || !m.siaddr.is_unspecified(),
            type_not_first: kind.is_some() && idx.first_code != Some(code::DHCP_MESSAGE_TYPE),
            rare: (!rare.is_empty()).then(|| Box::new(rare)),
        })
    }

    /// The observation of a plain packet (see [`wire::plain`]), read in one
    /// pass over its options: the same as [`Obs::new`] gives for its decoded
    /// frame (a test holds them equal), at a fraction of the work.
    #[inline]
    pub fn from_plain(at: FrameRef, ts: Timestamp, p: &Plain<'_>) -> Obs {
        let ip = |v: &[u8]| <[u8; 4]>::try_from(v).ok().map(Ipv4Addr::from);
        let u32_of = |v: &[u8]| <[u8; 4]>::try_from(v).ok().map(u32::from_be_bytes);
        let text = |v: &[u8]| Some(value::escape(v).into_boxed_str());
        let siaddr = p.siaddr();
        let mut o = Obs {
            at,
            ts,
            op: p.op(),
            kind: None,
            xid: p.xid(),
            secs: p.secs(),
            flags: p.flags(),
            hops: p.hops(),
            ciaddr: p.ciaddr(),
            yiaddr: p.yiaddr(),
            siaddr,
            giaddr: p.giaddr(),
            chaddr: p.chaddr(),
            src_ip: p.src_ip,
            dst_ip: p.dst_ip,
            src_port: p.src_port,
            dst_port: p.dst_port,
            src_mac: Some(p.src_mac),
            dst_mac: Some(p.dst_mac),
            vlan: p.vlan,
            udp_checksum: p.udp_checksum,
            kernel_checksum: None,
            outgoing: None,
            virtual_link: None,
            ip_checksum_offloaded: false,
            ip_id: p.ip_id,
            ttl: p.ttl,
            iface: 0,
            length: p.message.len(),
            cut: false,
            client_id: None,
            requested_ip: None,
            server_id: None,
            lease: None,
            t1: None,
            t2: None,
            subnet_mask: None,
            router: None,
            classless_routes: None,
            max_size: None,
            asks_mask: false,
            asks_router: false,
            ipxe: false,
            tftp_server: !siaddr.is_unspecified(),
            type_not_first: p.first_code != code::DHCP_MESSAGE_TYPE,
            rare: None,
        };
        let mut rare = Rare::default();
        let mut ms_routes = None;
        let mut option_43 = None;
        for (c, v) in p.options() {
            match c {
                code::DHCP_MESSAGE_TYPE => {
                    o.kind = match v {
                        [t] => Some(MessageType::from(*t)),
                        _ => None,
                    }
                }
                code::CLIENT_IDENTIFIER => o.client_id = Some(Short::new(v)),
                code::REQUESTED_IP_ADDRESS => o.requested_ip = ip(v),
                code::SERVER_IDENTIFIER => o.server_id = ip(v),
                code::IP_ADDRESS_LEASE_TIME => o.lease = u32_of(v),
                code::RENEWAL_TIME => o.t1 = u32_of(v),
                code::REBINDING_TIME => o.t2 = u32_of(v),
                code::SUBNET_MASK => o.subnet_mask = ip(v),
                code::ROUTER => o.router = v.get(..4).and_then(ip),
                code::CLASSLESS_STATIC_ROUTE => o.classless_routes = Some(has_default_route(v)),
                code::MS_CLASSLESS_STATIC_ROUTE => ms_routes = Some(has_default_route(v)),
                code::MAX_DHCP_MESSAGE_SIZE => {
                    o.max_size = <[u8; 2]>::try_from(v).ok().map(u16::from_be_bytes)
                }
                code::PARAMETER_REQUEST_LIST => {
                    o.asks_mask = v.contains(&code::SUBNET_MASK);
                    o.asks_router = v.contains(&code::ROUTER);
                }
                code::ETHERBOOT => o.ipxe = true,
                code::USER_CLASS => o.ipxe |= v.windows(4).any(|w| w == b"iPXE"),
                code::TFTP_SERVER_NAME => o.tftp_server = true,
                code::MESSAGE => rare.message = text(v),
                code::RELAY_AGENT_INFORMATION => rare.relay_info = Some(Short::new(v)),
                code::VENDOR_CLASS_IDENTIFIER if v.starts_with(b"PXEClient") => {
                    rare.vendor_class = text(v)
                }
                code::CLIENT_SYSTEM_ARCHITECTURE => {
                    rare.arch = v.get(..2).map(|b| u16::from_be_bytes([b[0], b[1]]))
                }
                code::BOOTFILE_NAME => rare.boot_file = text(v),
                code::HOST_NAME if !valid_host_name(v) => rare.bad_host_name = text(v),
                code::VENDOR_SPECIFIC => option_43 = Some(v),
                _ => {}
            }
        }
        if let Some(v) = option_43.filter(|_| rare.vendor_class.is_some()) {
            rare.boot_item = value::pxe_boot_item(v);
            if o.op == Op::BootReply {
                rare.boot_menu = BootMenu::of(v);
            }
        }
        o.classless_routes = o.classless_routes.or(ms_routes);
        // A type that is not the first option only counts when there is a type.
        o.type_not_first &= o.kind.is_some();
        if rare.boot_file.is_none() {
            let file = p.file();
            let end = file.iter().position(|&c| c == 0).unwrap_or(file.len());
            if end > 0 {
                rare.boot_file = text(&file[..end]);
            }
        }
        if !rare.is_empty() {
            o.rare = Some(Box::new(rare));
        }
        o
    }

    /// Option 56, the server's message (NAK reason).
    pub fn message(&self) -> Option<&str> {
        self.rare.as_ref()?.message.as_deref()
    }

    /// Option 82's raw value, if present.
    pub fn relay_info(&self) -> Option<&Short> {
        self.rare.as_ref()?.relay_info.as_ref()
    }

    /// When this is a message quoted by an ICMP destination unreachable:
    /// who refused it, and the ICMP code (3: port unreachable).
    pub fn unreachable(&self) -> Option<(Ipv4Addr, u8)> {
        self.rare.as_ref()?.unreachable
    }

    /// The observation of the datagram an ICMP destination unreachable
    /// quotes, at the ICMP's frame and time: the DHCP message, or as much of
    /// its header as the quote holds ([`Obs::header_start`]); `None` unless
    /// it quotes UDP to or from a DHCP port.
    pub fn quoted(at: FrameRef, ts: Timestamp, u: &wire::frame::Unreachable<'_>) -> Option<Obs> {
        let d = wire::packet::decode_quoted(u).ok()??;
        let mut o = Obs::new(at, ts, &d, None).unwrap_or_else(|| Obs::header_start(at, ts, &d));
        o.rare.get_or_insert_with(Default::default).unreachable = Some((u.reporter, u.code));
        Some(o)
    }

    /// What the start of a DHCP message (cut inside its header, or absent)
    /// and its framing say: the fixed fields the bytes hold, zero past them;
    /// no option. Its direction is its `op`, or, without one, its
    /// destination port's (67: a request). Marked as naming no client when
    /// `chaddr` is not whole (ICMP errors that quote only the headers).
    pub fn header_start(at: FrameRef, ts: Timestamp, d: &DhcpFrame<'_>) -> Obs {
        let f = &d.frame;
        let b = f.payload;
        let mut h = [0u8; 28];
        let n = b.len().min(h.len());
        h[..n].copy_from_slice(&b[..n]);
        let u16_at = |i: usize| u16::from_be_bytes([h[i], h[i + 1]]);
        let u32_at = |i: usize| u32::from_be_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]);
        // Without `op`, to UDP 68 is a reply, to 67 from 68 a request; from
        // 67 to 67 is either (taken as a request, and said to be unknown).
        let op = match b.first() {
            Some(&op) => Op::from(op),
            None if f.udp.dst_port == 67 => Op::BootRequest,
            None => Op::BootReply,
        };
        let op_unknown = b.is_empty() && f.udp.src_port == 67 && f.udp.dst_port == 67;
        let (_, chaddr) = wire::dhcp::header_ids(b);
        let rare = Rare {
            names_no_client: chaddr.is_none(),
            op_unknown,
            ..Rare::default()
        };
        Obs {
            at,
            ts,
            op,
            kind: None,
            xid: u32_at(4),
            secs: u16_at(8),
            flags: u16_at(10),
            hops: h[3],
            ciaddr: Ipv4Addr::from(u32_at(12)),
            yiaddr: Ipv4Addr::from(u32_at(16)),
            siaddr: Ipv4Addr::from(u32_at(20)),
            giaddr: Ipv4Addr::from(u32_at(24)),
            chaddr: chaddr.unwrap_or_else(|| HwAddr::new(&[])),
            src_ip: f.ip.src,
            dst_ip: f.ip.dst,
            src_port: f.udp.src_port,
            dst_port: f.udp.dst_port,
            src_mac: f.link.src_mac,
            dst_mac: f.link.dst_mac,
            vlan: f.link.vlans.last().copied(),
            udp_checksum: f.udp.checksum,
            kernel_checksum: None,
            outgoing: None,
            virtual_link: None,
            ip_checksum_offloaded: false,
            ip_id: f.ip.identification,
            ttl: f.ip.ttl,
            iface: 0,
            length: d.message_len(),
            cut: true,
            client_id: None,
            requested_ip: None,
            server_id: None,
            lease: None,
            t1: None,
            t2: None,
            subnet_mask: None,
            router: None,
            classless_routes: None,
            max_size: None,
            asks_mask: false,
            asks_router: false,
            ipxe: false,
            tftp_server: false,
            type_not_first: false,
            rare: Some(Box::new(rare)),
        }
    }

    /// A message quoted by an ICMP error whose quote stops before `chaddr`.
    pub fn names_no_client(&self) -> bool {
        self.rare.as_ref().is_some_and(|r| r.names_no_client)
    }

    /// A message quoted by an ICMP error whose quote stops before `op`,
    /// between two ports 67 (a request or a reply: [`Rare::op_unknown`]).
    pub fn op_unknown(&self) -> bool {
        self.rare.as_ref().is_some_and(|r| r.op_unknown)
    }

    /// Option 60, kept only for PXE clients (`PXEClient…`).
    pub fn vendor_class(&self) -> Option<&str> {
        self.rare.as_ref()?.vendor_class.as_deref()
    }

    /// Option 12 when it is not a valid DNS name.
    pub fn bad_host_name(&self) -> Option<&str> {
        self.rare.as_ref()?.bad_host_name.as_deref()
    }

    /// Option 93, first architecture.
    pub fn arch(&self) -> Option<u16> {
        self.rare.as_ref()?.arch
    }

    /// Option 43's PXE boot item (type, layer), in a PXE message.
    pub fn boot_item(&self) -> Option<(u16, u16)> {
        self.rare.as_ref()?.boot_item
    }

    /// Option 43's PXE boot menu, in a PXE server's reply.
    pub fn boot_menu(&self) -> Option<BootMenu> {
        self.rare.as_ref()?.boot_menu
    }

    /// Boot file: option 67, else the `file` field (when not overloaded).
    pub fn boot_file(&self) -> Option<&str> {
        self.rare.as_ref()?.boot_file.as_deref()
    }

    /// Anomalies other than the BOOTP minimum length: (frame offset, code, sentence).
    pub fn anomalies(&self) -> &[(usize, &'static str, String)] {
        self.rare.as_ref().map_or(&[], |r| &r.anomalies)
    }

    /// Whether the broadcast flag is set.
    pub fn broadcast(&self) -> bool {
        self.flags & wire::dhcp::FLAG_BROADCAST != 0
    }

    /// A lease query message (RFC 4388, 6926), exchanged between a relay or
    /// requester and a server, not part of any client's transaction.
    pub fn is_lease_query(&self) -> bool {
        use MessageType::*;
        matches!(
            self.kind,
            Some(
                LeaseQuery
                    | LeaseUnassigned
                    | LeaseUnknown
                    | LeaseActive
                    | BulkLeaseQuery
                    | LeaseQueryDone
                    | ActiveLeaseQuery
                    | LeaseQueryStatus
                    | Tls
            )
        )
    }

    /// Whether it goes to or comes from a PXE boot server's UDP port 4011
    /// (PXE 2.1 §2.2.4; ProxyDHCP): a ROM that has its address asks there
    /// for its boot file, from its port 68. Not part of the DHCP exchange.
    pub fn boot_server_port(&self) -> bool {
        self.dst_port == PXE_BOOT_SERVER_PORT || self.src_port == PXE_BOOT_SERVER_PORT
    }

    /// Whether a PXE ROM that holds an address sent it to search for a boot
    /// server (PXE 2.1 §2.2.5): a REQUEST or INFORM with ciaddr that names a
    /// boot item (option 43 sub-option 71), broadcast to UDP 67 (or a
    /// relay's copy of that), multicast, or to a server's 4011. Not a
    /// renewal or a rebind.
    pub fn boot_server_search(&self) -> bool {
        self.from_client()
            && matches!(self.kind, Some(MessageType::Request | MessageType::Inform))
            && !self.ciaddr.is_unspecified()
            && self.boot_item().is_some()
    }

    /// Whether it is part of a PXE ROM's exchange with a boot server, as far
    /// as the message alone tells: [`Obs::boot_server_port`] or
    /// [`Obs::boot_server_search`]. (A boot server's ACK from UDP 67 is one
    /// only if it answers a search the client made: the engine asks.)
    pub fn boot_server_exchange(&self) -> bool {
        self.boot_server_port() || self.boot_server_search()
    }

    /// Whether a client sent it (BOOTREQUEST).
    pub fn from_client(&self) -> bool {
        self.op == Op::BootRequest
    }

    /// The message type's name, or `BOOTREQUEST`/`BOOTREPLY` for BOOTP.
    pub fn kind_name(&self) -> String {
        self.kind_name_cow().into_owned()
    }

    fn kind_name_cow(&self) -> std::borrow::Cow<'static, str> {
        match self.kind {
            Some(k) => k.name(),
            None if self.from_client() => "BOOTREQUEST".into(),
            None => "BOOTREPLY".into(),
        }
    }

    /// The short name used in ladders: DISCOVER, OFFER, …
    pub fn short_name(&self) -> String {
        self.short_name_cow().into_owned()
    }

    fn short_name_cow(&self) -> std::borrow::Cow<'static, str> {
        use std::borrow::Cow;
        match self.kind_name_cow() {
            Cow::Borrowed(n) => Cow::Borrowed(n.strip_prefix("DHCP").unwrap_or(n)),
            Cow::Owned(n) => Cow::Owned(n.strip_prefix("DHCP").unwrap_or(&n).to_string()),
        }
    }

    /// Who answered: option 54, else the source address.
    pub fn server(&self) -> Ipv4Addr {
        self.server_id.unwrap_or(self.src_ip)
    }

    /// Sent to the client through a relay leg (to port 67) rather than to it.
    pub fn to_relay(&self) -> bool {
        !self.from_client() && self.dst_port == 67
    }

    /// Relayed on its way to the server (a relay's copy of a request).
    pub fn relayed_request(&self) -> bool {
        self.from_client()
            && (self.src_port == 67 || !self.giaddr.is_unspecified() && self.hops > 0)
    }

    /// Whether the reply goes to the broadcast address.
    pub fn broadcast_dst(&self) -> bool {
        self.dst_ip == Ipv4Addr::BROADCAST || self.dst_mac == Some([0xff; 6])
    }

    /// The message's view useful for ladders: `OFFER 10.0.0.5` etc.
    pub fn ladder_label(&self) -> String {
        let mut s = String::with_capacity(32);
        s.push_str(&self.short_name_cow());
        let (words, address) = match self.kind {
            Some(MessageType::Offer | MessageType::Ack) if !self.yiaddr.is_unspecified() => {
                (" ", Some(self.yiaddr))
            }
            Some(MessageType::Request | MessageType::Decline) => match self.requested_ip {
                Some(r) => (" ", Some(r)),
                None if !self.ciaddr.is_unspecified() => (" ciaddr ", Some(self.ciaddr)),
                None => ("", None),
            },
            _ => ("", None),
        };
        if let Some(a) = address {
            s.push_str(words);
            s.push_str(wire::dhcp::Dotted::new(a).as_str());
        }
        if self.boot_server_port() {
            s.push_str(" (boot server, UDP 4011)");
        } else if let Some((item, _)) = self.boot_item() {
            s.push_str(" (boot server discovery, item ");
            s.push_str(&item.to_string());
            s.push(')');
        }
        s
    }
}

/// Where each option code first appears in a message, and which appear more
/// than once (RFC 3396: those are joined).
struct OptionIndex {
    first: [u32; 256],
    repeated: [u64; 4],
    first_code: Option<u8>,
}

impl OptionIndex {
    fn new(m: &Message<'_>) -> OptionIndex {
        let mut idx = OptionIndex {
            first: [0; 256],
            repeated: [0; 4],
            first_code: None,
        };
        for (i, o) in m.options.iter().enumerate() {
            if o.is_marker() {
                continue;
            }
            if o.region == Region::Options && idx.first_code.is_none() {
                idx.first_code = Some(o.code);
            }
            let c = usize::from(o.code);
            if idx.first[c] == 0 {
                // A frame holds fewer than 2^32 TLVs (one byte each at least).
                idx.first[c] = i as u32 + 1;
            } else {
                idx.repeated[c / 64] |= 1 << (c % 64);
            }
        }
        idx
    }

    fn has(&self, code: u8) -> bool {
        self.first[usize::from(code)] != 0
    }

    /// The option's (joined) value.
    fn get<'m>(&self, m: &'m Message<'_>, code: u8) -> Option<std::borrow::Cow<'m, [u8]>> {
        let c = usize::from(code);
        match self.first[c] {
            0 => None,
            _ if self.repeated[c / 64] & (1 << (c % 64)) != 0 => m.option(code),
            i => Some(std::borrow::Cow::Borrowed(
                m.options[i as usize - 1].data.as_ref(),
            )),
        }
    }
}

/// Whether RFC 3442 classless routes hold a default route (0.0.0.0/0), read
/// without decoding them.
fn has_default_route(mut r: &[u8]) -> bool {
    while let Some((&width, rest)) = r.split_first() {
        if width == 0 {
            return true;
        }
        let skip = usize::from(width.min(32)).div_ceil(8) + 4;
        if rest.len() < skip {
            return false;
        }
        r = &rest[skip..];
    }
    false
}

/// Whether option 12 is a host name DNS can hold: labels of letters,
/// digits, `-` (not first or last) and `_` (common, and kept by servers),
/// 1 to 63 bytes each, separated by single dots, one trailing dot allowed.
/// Trailing NULs are dropped first (RFC 2132 §2 tells receivers to). Most
/// client messages carry one, nearly always a single label: that is one
/// table lookup a byte.
pub fn valid_host_name(v: &[u8]) -> bool {
    /// Letters, digits, `-` and `_`: what a label holds.
    const LABEL: [bool; 256] = {
        let mut t = [false; 256];
        let mut b = 0;
        while b < 256 {
            let c = b as u8;
            t[b] = c.is_ascii_alphanumeric() || c == b'-' || c == b'_';
            b += 1;
        }
        t
    };
    let label = |l: &[u8]| {
        (1..=63).contains(&l.len())
            && l[0] != b'-'
            && l[l.len() - 1] != b'-'
            && l.iter().all(|&b| LABEL[usize::from(b)])
    };
    if label(v) {
        return true;
    }
    let end = v.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    let v = &v[..end];
    let v = v.strip_suffix(b".").unwrap_or(v);
    !v.is_empty() && v.split(|&b| b == b'.').all(label)
}

#[cfg(test)]
mod tests {
    /// An observation is copied into its transaction and kept while it is
    /// open: four of them (a DORA) fit a 1 KiB allocation.
    #[test]
    fn observations_stay_small() {
        let seen = std::mem::size_of::<crate::transaction::Seen>();
        assert!(seen <= 256, "Seen is {seen} bytes");
    }
}
