//! The ping check before an offer (RFC 2131 §4.3.1: a server SHOULD probe
//! an address before it allocates it): an ICMP echo request to the address,
//! from a raw socket on the serving interface, and a wait for its reply.

use std::io;
use std::io::Read;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, Socket, Type};

/// An ICMP socket on one interface.
pub struct Pinger {
    socket: Socket,
    id: u16,
    seq: u16,
}

impl Pinger {
    /// Needs `CAP_NET_RAW`.
    pub fn open(iface: &str) -> io::Result<Pinger> {
        let socket = Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::ICMPV4)).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("opening an ICMP socket for the ping check: {e}"),
            )
        })?;
        socket.bind_device(Some(iface.as_bytes())).map_err(|e| {
            io::Error::new(e.kind(), format!("binding the ICMP socket to {iface}: {e}"))
        })?;
        Ok(Pinger {
            socket,
            // The pid mixed with the clock: pids repeat across namespaces.
            id: {
                let t = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.subsec_nanos());
                ((std::process::id() ^ t ^ (t >> 16)) & 0xffff) as u16
            },
            seq: 0,
        })
    }

    /// Whether `a` answers an echo request within `wait`.
    pub fn answered(&mut self, a: Ipv4Addr, wait: Duration) -> io::Result<bool> {
        self.seq = self.seq.wrapping_add(1);
        // Replies that came late for earlier probes go first.
        self.socket.set_nonblocking(true)?;
        let mut stale = [0u8; 1500];
        while (&self.socket).read(&mut stale).is_ok_and(|n| n > 0) {}
        self.socket.set_nonblocking(false)?;
        let request = echo_request(self.id, self.seq);
        self.socket
            .send_to(&request, &SocketAddrV4::new(a, 0).into())?;
        let deadline = Instant::now() + wait;
        let mut buf = [0u8; 1500];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(false);
            }
            // Under a microsecond would read as no timeout at all.
            self.socket
                .set_read_timeout(Some(left.max(Duration::from_millis(1))))?;
            let n = match (&self.socket).read(&mut buf) {
                Ok(n) => n,
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    return Ok(false)
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            let got = &buf[..n];
            if is_reply(got, a, self.id, self.seq) {
                return Ok(true);
            }
        }
    }
}

/// An echo request: type 8, code 0, its checksum, id and sequence, and 8
/// bytes of data.
fn echo_request(id: u16, seq: u16) -> Vec<u8> {
    let mut m = vec![8, 0, 0, 0];
    m.extend_from_slice(&id.to_be_bytes());
    m.extend_from_slice(&seq.to_be_bytes());
    m.extend_from_slice(b"dhcplens");
    let c = !wire::checksum::fold(wire::checksum::add(0, &m));
    m[2..4].copy_from_slice(&c.to_be_bytes());
    m
}

/// Whether `packet` (an IPv4 packet, as a raw socket delivers it) is the
/// echo reply from `from` to request (`id`, `seq`).
fn is_reply(packet: &[u8], from: Ipv4Addr, id: u16, seq: u16) -> bool {
    let Some(&first) = packet.first() else {
        return false;
    };
    let ihl = usize::from(first & 0x0f) * 4;
    if first >> 4 != 4 || ihl < 20 || packet.len() < ihl + 8 {
        return false;
    }
    let src = Ipv4Addr::new(packet[12], packet[13], packet[14], packet[15]);
    let icmp = &packet[ihl..];
    src == from
        && icmp[0] == 0
        && u16::from_be_bytes([icmp[4], icmp[5]]) == id
        && u16::from_be_bytes([icmp[6], icmp[7]]) == seq
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_echo_request_checks_out_and_only_its_reply_matches() {
        let r = echo_request(0x1234, 7);
        assert_eq!(&r[..2], &[8, 0]);
        assert_eq!(
            wire::checksum::fold(wire::checksum::add(0, &r)),
            0xffff,
            "{r:02x?}"
        );
        // The reply as Linux sends it: IPv4 header from 10.0.0.100, then
        // type 0 with the same id, sequence and data.
        let mut reply = vec![
            0x45, 0, 0, 36, 0, 0, 0x40, 0, 64, 1, 0, 0, 10, 0, 0, 100, 10, 0, 0, 1,
        ];
        reply.extend_from_slice(&[0, 0, 0, 0, 0x12, 0x34, 0, 7]);
        reply.extend_from_slice(b"dhcplens");
        let a = Ipv4Addr::new(10, 0, 0, 100);
        assert!(is_reply(&reply, a, 0x1234, 7));
        assert!(!is_reply(&reply, Ipv4Addr::new(10, 0, 0, 101), 0x1234, 7));
        assert!(!is_reply(&reply, a, 0x1234, 8));
        let mut request_seen = reply.clone();
        request_seen[20] = 8;
        assert!(!is_reply(&request_seen, a, 0x1234, 7), "our own request");
        for n in 0..reply.len() {
            assert!(!is_reply(&reply[..n], a, 0x1234, 7) || n >= 28);
        }
    }
}
