//! The server on an interface: requests from an `AF_PACKET` socket (it sees
//! broadcasts from clients without an address, as ISC dhcpd's LPF does),
//! replies as raw Ethernet frames to clients without an address and
//! through a UDP socket on port 67 to relays and to clients with one.
//!
//! The UDP socket also keeps the kernel from answering unicast requests
//! (renewals, relayed requests) with ICMP port unreachable; what it
//! receives is discarded, since the packet socket saw it already.

use std::io;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use capture::live::{Direction, Options, PacketSocket};
use socket2::{Domain, Protocol, Socket, Type};
use wire::frame::UdpFrame;
use wire::LinkType;

use crate::handle::{Arrival, Decision, Dest, Server};

/// An interface to serve on.
pub struct Listener {
    packets: PacketSocket,
    udp: Socket,
    iface: String,
    addr: Ipv4Addr,
    started: Instant,
}

impl Listener {
    /// Opens `iface` (whose address is `addr`): needs `CAP_NET_RAW` and
    /// `CAP_NET_BIND_SERVICE`.
    pub fn open(iface: &str, addr: Ipv4Addr) -> io::Result<Listener> {
        let packets = PacketSocket::open(
            iface,
            Options {
                promiscuous: false,
                unfiltered: false,
            },
        )?;
        let udp = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
        udp.set_reuse_address(true)?;
        udp.set_broadcast(true)?;
        udp.bind_device(Some(iface.as_bytes()))
            .map_err(|e| io::Error::new(e.kind(), format!("binding to {iface}: {e}")))?;
        udp.bind(&SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 67).into())
            .map_err(|e| {
                let hint = if e.kind() == io::ErrorKind::AddrInUse {
                    " (another DHCP server or relay on this host holds it)"
                } else {
                    ""
                };
                io::Error::new(
                    e.kind(),
                    format!("binding UDP port 67 on {iface}: {e}{hint}"),
                )
            })?;
        udp.set_nonblocking(true)?;
        Ok(Listener {
            packets,
            udp,
            iface: iface.to_string(),
            addr,
            started: Instant::now(),
        })
    }

    /// Serves until `stop` is set or `until` passes; `on` hears every
    /// decision, with the error if its reply could not be sent.
    pub fn run(
        &mut self,
        server: &mut Server,
        stop: &AtomicBool,
        until: Option<Instant>,
        mut on: impl FnMut(&Decision, Option<&io::Error>),
    ) -> io::Result<()> {
        let mut scratch = [std::mem::MaybeUninit::<u8>::uninit(); 2048];
        while !stop.load(Ordering::Relaxed) {
            let now = Instant::now();
            if until.is_some_and(|u| now >= u) {
                break;
            }
            let wait = until.map_or(Duration::from_millis(200), |u| {
                u.saturating_duration_since(now)
                    .min(Duration::from_millis(200))
            });
            let got = self.packets.recv(Some(wait))?;
            // What the UDP socket queued is a copy of what the packet socket saw.
            while self.udp.recv(&mut scratch).is_ok() {}
            let Some(p) = got else { continue };
            if p.direction == Direction::Outgoing {
                continue;
            }
            let Ok(f) = wire::frame::decode(LinkType::Ethernet, &p.data, p.orig_len) else {
                continue;
            };
            if f.udp.dst_port != 67 {
                continue;
            }
            let at = Arrival {
                iface: &self.iface,
                iface_addr: self.addr,
                broadcast: f.ip.dst == Ipv4Addr::BROADCAST || p.data.starts_with(&[0xff; 6]),
                now_ms: self.started.elapsed().as_millis() as u64,
            };
            let d = server.handle(f.payload, &at);
            let err = d
                .reply
                .as_ref()
                .and_then(|(m, to)| self.send(m, *to, server).err());
            on(&d, err.as_ref());
        }
        Ok(())
    }

    fn send(&self, m: &wire::Message<'_>, to: Dest, server: &Server) -> io::Result<()> {
        let payload = m.encode(wire::dhcp::BOOTP_MIN_LEN);
        let src = server.config().server_id;
        let (ip, mac) = match to {
            Dest::Relay(ip) => return self.send_udp(&payload, ip, 67),
            Dest::Unicast(ip) => return self.send_udp(&payload, ip, 68),
            Dest::Broadcast => (Ipv4Addr::BROADCAST, [0xff; 6]),
            Dest::Hardware { ip, mac } => (ip, mac),
        };
        let mut f = UdpFrame::new((src, 67), (ip, 68), &payload);
        f.src_mac = self.packets.mac();
        f.dst_mac = mac;
        self.packets.send(&f.ethernet_frame())
    }

    fn send_udp(&self, payload: &[u8], ip: Ipv4Addr, port: u16) -> io::Result<()> {
        self.udp
            .send_to(payload, &SocketAddrV4::new(ip, port).into())
            .map(|_| ())
    }
}
