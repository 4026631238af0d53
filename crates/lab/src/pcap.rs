//! Reading the DHCP packets of a capture the lab wrote, for assertions.

use std::fmt;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::Path;

use anyhow::{Context, Result};
use capture::Timestamp;
use wire::{Message, MessageType, UdpChecksum};

/// One DHCP packet seen in a capture.
#[derive(Debug, Clone)]
pub struct Seen {
    /// 1-based frame number in its file.
    pub number: u64,
    pub time: Timestamp,
    pub src_mac: Option<[u8; 6]>,
    pub dst_mac: Option<[u8; 6]>,
    /// 802.1Q tags, outermost first.
    pub vlans: Vec<u16>,
    pub src: SocketAddrV4,
    pub dst: SocketAddrV4,
    pub checksum: UdpChecksum,
    pub msg: Message<'static>,
}

impl Seen {
    pub fn kind(&self) -> Option<MessageType> {
        self.msg.message_type()
    }

    pub fn is(&self, t: MessageType) -> bool {
        self.kind() == Some(t)
    }

    /// Option 82's value, if present.
    pub fn option82(&self) -> Option<Vec<u8>> {
        self.msg
            .option(wire::dhcp::code::RELAY_AGENT_INFORMATION)
            .map(|v| v.into_owned())
    }

    pub fn chaddr_mac(&self) -> [u8; 6] {
        let mut m = [0; 6];
        m.copy_from_slice(&self.msg.chaddr_field[..6]);
        m
    }
}

impl fmt::Display for Seen {
    /// `#3 DHCPOFFER xid=0x… secs=0 chaddr=… yiaddr=… 10.0.0.1:67 > 255.255.255.255:68 csum=partial`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = &self.msg;
        write!(
            f,
            "#{} {} xid={:#010x} secs={} chaddr={}",
            self.number,
            self.kind().map_or("BOOTP".into(), |k| k.name()),
            m.xid,
            m.secs,
            m.chaddr()
        )?;
        for (name, a) in [
            ("ciaddr", m.ciaddr),
            ("yiaddr", m.yiaddr),
            ("giaddr", m.giaddr),
        ] {
            if a != Ipv4Addr::UNSPECIFIED {
                write!(f, " {name}={a}")?;
            }
        }
        if let Some(s) = m.server_id() {
            write!(f, " server-id={s}")?;
        }
        if let Some(r) = m.requested_ip() {
            write!(f, " requested={r}")?;
        }
        if !self.vlans.is_empty() {
            write!(f, " vlan={:?}", self.vlans)?;
        }
        write!(
            f,
            " {} > {} csum={}",
            self.src,
            self.dst,
            self.checksum.name()
        )
    }
}

/// Calls `f` with every frame of the pcap or pcapng file at `path`. A file
/// without its header yet, or a last record cut short (tcpdump is still
/// writing it), ends the frames without an error.
fn each_frame(path: &Path, mut f: impl FnMut(capture::Packet<'_>)) -> Result<()> {
    let name = path.to_string_lossy();
    let mut reader = match capture::open(path) {
        Ok(r) => r,
        Err(e) if matches!(e.kind, capture::read::ErrorKind::Empty) || e.is_cut_short() => {
            return Ok(())
        }
        Err(e) => return Err(e).with_context(|| format!("reading {name}")),
    };
    loop {
        match reader.next_packet() {
            Ok(Some(p)) => f(p),
            Ok(None) => return Ok(()),
            Err(e) if e.is_cut_short() => return Ok(()),
            Err(e) => return Err(e).with_context(|| format!("reading {name}")),
        }
    }
}

/// Every DHCP packet in the pcap or pcapng file at `path` (see
/// [`each_frame`] for a file still being written).
pub fn read(path: &Path) -> Result<Vec<Seen>> {
    let mut out = Vec::new();
    each_frame(path, |p| {
        let Ok(Some(d)) = wire::packet::decode(p.link, p.data, p.orig_len) else {
            return;
        };
        let Some(msg) = d.message else { return };
        let fr = &d.frame;
        out.push(Seen {
            number: p.number,
            time: p.timestamp,
            src_mac: fr.link.src_mac,
            dst_mac: fr.link.dst_mac,
            vlans: fr.link.vlans.to_vec(),
            src: SocketAddrV4::new(fr.ip.src, fr.udp.src_port),
            dst: SocketAddrV4::new(fr.ip.dst, fr.udp.dst_port),
            checksum: fr.udp.checksum,
            msg: msg.into_owned(),
        });
    })?;
    Ok(out)
}

/// The packets of `kind` among `seen`.
pub fn of_kind(seen: &[Seen], kind: MessageType) -> Vec<&Seen> {
    seen.iter().filter(|s| s.is(kind)).collect()
}

/// One line per packet, for evidence and error messages.
pub fn listing(seen: &[Seen]) -> String {
    seen.iter().map(|s| format!("{s}\n")).collect::<String>()
}

/// The ICMP destination unreachables in the capture at `path` that quote a
/// UDP datagram: (frame number, who sent it, its code, the quoted
/// datagram's destination port).
pub fn unreachables(path: &Path) -> Result<Vec<(u64, std::net::Ipv4Addr, u8, u16)>> {
    let mut out = Vec::new();
    each_frame(path, |p| {
        if let Some(u) = wire::frame::unreachable(p.link, p.data) {
            let q = u.quoted;
            let at = usize::from(q[0] & 0x0f) * 4;
            let port = u16::from_be_bytes([q[at + 2], q[at + 3]]);
            out.push((p.number, u.reporter, u.code, port));
        }
    })?;
    Ok(out)
}

/// Writes the capture at `from` to `to` (classic pcap) with every ICMP
/// destination unreachable that quotes a UDP datagram cut to quote only its
/// first `keep` bytes, as a router that keeps less than Linux does would
/// have sent it (RFC 792 asks for the IP header and 8 bytes more: `keep`
/// 28); lengths and checksums are made right again. Returns how many were
/// cut. (Ethernet frames with a 20-byte IPv4 header only.)
pub fn cut_icmp_quotes(from: &Path, to: &Path, keep: usize) -> Result<usize> {
    let file = std::fs::File::create(to).with_context(|| format!("creating {}", to.display()))?;
    let mut w = capture::write::PcapWriter::new(
        std::io::BufWriter::new(file),
        wire::LinkType::Ethernet,
        65535,
    )?;
    let mut cut = 0;
    let mut failed = None;
    each_frame(from, |p| {
        let mut data = p.data.to_vec();
        let icmp_at = 14 + 20;
        if wire::frame::unreachable(p.link, p.data).is_some()
            && p.data[14] == 0x45
            && data.len() > icmp_at + 8 + keep
        {
            data.truncate(icmp_at + 8 + keep);
            let total = (data.len() - 14) as u16;
            data[16..18].copy_from_slice(&total.to_be_bytes());
            data[24..26].copy_from_slice(&[0, 0]);
            let sum = wire::checksum::ipv4_header(&data[14..34]);
            data[24..26].copy_from_slice(&sum.to_be_bytes());
            data[icmp_at + 2..icmp_at + 4].copy_from_slice(&[0, 0]);
            let sum = wire::checksum::ipv4_header(&data[icmp_at..]);
            data[icmp_at + 2..icmp_at + 4].copy_from_slice(&sum.to_be_bytes());
            cut += 1;
        }
        if failed.is_none() {
            failed = w.write(p.timestamp.0, &data, data.len()).err();
        }
    })?;
    if let Some(e) = failed {
        return Err(e).with_context(|| format!("writing {}", to.display()));
    }
    w.flush()?;
    Ok(cut)
}
