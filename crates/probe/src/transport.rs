//! The three ways out: a raw socket on an interface (any source MAC), a UDP
//! socket on port 68, or a relay agent's socket on port 67 (giaddr set,
//! unicast to the server).
//!
//! Every packet sent or received is kept as a frame, so a run can be written
//! as pcapng and diagnosed like a capture. UDP and relay modes do not see the
//! link layer: their frames are rebuilt as raw IPv4 packets with the real
//! addresses (the destination from `IP_PKTINFO`), and received ones carry a
//! zero UDP checksum, since a UDP socket never shows the one that was sent.

use std::io;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::{Duration, Instant};

use capture::live::{Options, PacketSocket};
use capture::Timestamp;
use diagnose::KernelChecksum;
use socket2::{Domain, Protocol, Socket, Type};
use wire::frame::{ChecksumMode, UdpFrame};
use wire::{LinkType, Message};

/// Where a request goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dest {
    /// 255.255.255.255 (and the Ethernet broadcast address).
    Broadcast,
    /// This server, with its MAC when known (raw mode needs one to unicast).
    Unicast(Ipv4Addr, Option<[u8; 6]>),
}

/// A packet sent or received, as a frame.
#[derive(Debug, Clone)]
pub struct Packet {
    pub at: Instant,
    pub ts: Timestamp,
    pub link: LinkType,
    pub frame: Vec<u8>,
    pub orig_len: usize,
    pub sent: bool,
    pub kernel: Option<KernelChecksum>,
}

/// A way to send requests and receive replies.
pub trait Transport {
    /// Sends `m` (already built) towards `dest`.
    fn send(&mut self, m: &Message<'_>, dest: Dest) -> io::Result<Packet>;
    /// The next DHCP packet received before `until`.
    fn recv(&mut self, until: Instant) -> io::Result<Option<Packet>>;
    /// One line saying how packets leave.
    fn describe(&self) -> String;
    /// The interface packets leave by, when there is one.
    fn interface(&self) -> Option<String>;
}

/// Raw Ethernet frames on one interface.
pub struct Raw {
    socket: PacketSocket,
    /// Source MAC; `None` = the request's chaddr.
    pub src_mac: Option<[u8; 6]>,
    /// The last frames sent, which the packet socket hands back as
    /// outgoing: not received a second time.
    sent: std::collections::VecDeque<Vec<u8>>,
}

impl Raw {
    /// Opens `iface` in promiscuous mode: replies unicast to a chaddr that
    /// is not the interface's own MAC must still reach us.
    pub fn open(iface: &str, src_mac: Option<[u8; 6]>) -> io::Result<Raw> {
        let options = Options {
            promiscuous: true,
            unfiltered: false,
        };
        Ok(Raw {
            socket: PacketSocket::open(iface, options)?,
            src_mac,
            sent: std::collections::VecDeque::new(),
        })
    }
}

fn kernel(k: capture::live::KernelChecksum) -> KernelChecksum {
    match k {
        capture::live::KernelChecksum::NotReady => KernelChecksum::NotReady,
        capture::live::KernelChecksum::Valid => KernelChecksum::Valid,
        capture::live::KernelChecksum::Unknown => KernelChecksum::Unknown,
    }
}

impl Transport for Raw {
    fn send(&mut self, m: &Message<'_>, dest: Dest) -> io::Result<Packet> {
        let payload = m.encode(wire::dhcp::BOOTP_MIN_LEN);
        let src_ip = if m.ciaddr.is_unspecified() {
            Ipv4Addr::UNSPECIFIED
        } else {
            m.ciaddr
        };
        let (dst_ip, dst_mac) = match dest {
            Dest::Broadcast => (Ipv4Addr::BROADCAST, [0xff; 6]),
            Dest::Unicast(ip, mac) => (ip, mac.unwrap_or([0xff; 6])),
        };
        let mut f = UdpFrame::new((src_ip, 68), (dst_ip, 67), &payload);
        f.src_mac = self
            .src_mac
            .unwrap_or_else(|| m.chaddr_field[..6].try_into().expect("6 bytes"));
        f.dst_mac = dst_mac;
        f.ttl = 64;
        let frame = f.ethernet_frame();
        // Stamp before sending: a fast reply's kernel timestamp must not come first.
        let (at, ts) = (Instant::now(), Timestamp::now());
        self.socket.send(&frame)?;
        if self.sent.len() == 8 {
            self.sent.pop_front();
        }
        self.sent.push_back(frame.clone());
        Ok(Packet {
            at,
            ts,
            link: LinkType::Ethernet,
            orig_len: frame.len(),
            frame,
            sent: true,
            kernel: None,
        })
    }

    fn recv(&mut self, until: Instant) -> io::Result<Option<Packet>> {
        loop {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            let Some(p) = self.socket.recv(Some(left))? else {
                return Ok(None);
            };
            // A frame of ours coming back: logged already, as sent.
            if p.direction == capture::live::Direction::Outgoing {
                if let Some(i) = self.sent.iter().position(|f| *f == p.data) {
                    self.sent.remove(i);
                    continue;
                }
            }
            return Ok(Some(Packet {
                at: Instant::now(),
                ts: capture::Timestamp(p.timestamp_ns),
                link: LinkType::Ethernet,
                orig_len: p.orig_len,
                frame: p.data,
                sent: false,
                kernel: Some(kernel(p.checksum)),
            }));
        }
    }

    fn interface(&self) -> Option<String> {
        Some(self.socket.interface().to_string())
    }

    fn describe(&self) -> String {
        format!(
            "raw Ethernet frames on {} (source MAC {})",
            self.socket.interface(),
            self.src_mac
                .map_or("= chaddr".to_string(), |m| wire::frame::mac_to_string(&m))
        )
    }
}

/// A UDP socket, as a client (port 68) or as a relay agent (port 67).
pub struct Udp {
    socket: std::net::UdpSocket,
    local: Ipv4Addr,
    port: u16,
    iface: Option<String>,
}

impl Udp {
    /// Binds `local`:`port` (0.0.0.0:68 for a client, GIADDR:67 for a relay),
    /// optionally to one interface.
    pub fn open(local: Ipv4Addr, port: u16, iface: Option<&str>) -> io::Result<Udp> {
        let socket = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
        socket.set_reuse_address(true)?;
        socket.set_broadcast(true)?;
        if let Some(i) = iface {
            socket.bind_device(Some(i.as_bytes())).map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!("binding to interface {i}: {e} (needs CAP_NET_RAW or root)"),
                )
            })?;
        }
        socket
            .bind(&SocketAddrV4::new(local, port).into())
            .map_err(|e| {
                let hint = if e.kind() == io::ErrorKind::PermissionDenied {
                    " (ports below 1024 need root or CAP_NET_BIND_SERVICE)"
                } else if e.kind() == io::ErrorKind::AddrInUse {
                    " (a DHCP client or server on this host already holds it)"
                } else {
                    ""
                };
                io::Error::new(e.kind(), format!("binding UDP {local}:{port}: {e}{hint}"))
            })?;
        use std::os::fd::AsRawFd;
        // Without IP_PKTINFO, replies show the bound address as their
        // destination; everything else still works.
        let _ = crate::pktinfo::enable(socket.as_raw_fd());
        Ok(Udp {
            socket: socket.into(),
            local,
            port,
            iface: iface.map(str::to_string),
        })
    }

    fn frame(&self, src: (Ipv4Addr, u16), dst: (Ipv4Addr, u16), payload: &[u8]) -> Vec<u8> {
        UdpFrame::new(src, dst, payload).ipv4_packet()
    }

    /// A received datagram as an IPv4 packet. Its UDP checksum field is zero:
    /// a UDP socket delivers only what the kernel accepted, and never the
    /// checksum the server sent, so none is claimed.
    fn received_frame(src: SocketAddrV4, dst: (Ipv4Addr, u16), payload: &[u8]) -> Vec<u8> {
        let mut f = UdpFrame::new((*src.ip(), src.port()), dst, payload);
        f.checksum = ChecksumMode::Zero;
        f.ipv4_packet()
    }
}

impl Transport for Udp {
    fn send(&mut self, m: &Message<'_>, dest: Dest) -> io::Result<Packet> {
        let payload = m.encode(wire::dhcp::BOOTP_MIN_LEN);
        let to = match dest {
            Dest::Broadcast => Ipv4Addr::BROADCAST,
            Dest::Unicast(ip, _) => ip,
        };
        let (at, ts) = (Instant::now(), Timestamp::now());
        self.socket.send_to(&payload, SocketAddrV4::new(to, 67))?;
        let frame = self.frame((self.local, self.port), (to, 67), &payload);
        Ok(Packet {
            at,
            ts,
            link: LinkType::Ipv4,
            orig_len: frame.len(),
            frame,
            sent: true,
            kernel: None,
        })
    }

    fn recv(&mut self, until: Instant) -> io::Result<Option<Packet>> {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(None);
        }
        self.socket
            .set_read_timeout(Some(left.max(Duration::from_millis(1))))?;
        let mut buf = vec![0u8; 65536];
        use std::os::fd::AsRawFd;
        match crate::pktinfo::recv(self.socket.as_raw_fd(), &mut buf) {
            Ok((n, from, to)) => {
                // The IP header's destination (broadcast or unicast), as the
                // kernel saw it; the bound address only if it did not say.
                let to = to.unwrap_or(self.local);
                let frame = Self::received_frame(from, (to, self.port), &buf[..n]);
                Ok(Some(Packet {
                    at: Instant::now(),
                    ts: Timestamp::now(),
                    link: LinkType::Ipv4,
                    orig_len: frame.len(),
                    frame,
                    sent: false,
                    kernel: None,
                }))
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::Interrupted
                ) =>
            {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    fn interface(&self) -> Option<String> {
        self.iface.clone()
    }

    fn describe(&self) -> String {
        format!(
            "UDP from {}:{}{}",
            self.local,
            self.port,
            self.iface
                .as_ref()
                .map_or(String::new(), |i| format!(" on {i}"))
        )
    }
}
