//! Writing capture files: classic pcap and pcapng (with packet comments).
//!
//! Both writers take frames with nanosecond timestamps. pcap files use the
//! nanosecond magic (0xa1b23c4d); pcapng files declare `if_tsresol` 9 on their
//! interface, so Wireshark and tshark read exact times from either.

use std::io::{self, Write};

use wire::LinkType;

/// Writes a classic pcap file (nanosecond resolution, native byte order).
pub struct PcapWriter<W: Write> {
    out: W,
    snaplen: u32,
}

impl<W: Write> PcapWriter<W> {
    /// Writes the file header.
    pub fn new(mut out: W, link: LinkType, snaplen: u32) -> io::Result<PcapWriter<W>> {
        let mut h = Vec::with_capacity(24);
        h.extend_from_slice(&0xa1b2_3c4du32.to_ne_bytes());
        h.extend_from_slice(&2u16.to_ne_bytes());
        h.extend_from_slice(&4u16.to_ne_bytes());
        h.extend_from_slice(&0i32.to_ne_bytes());
        h.extend_from_slice(&0u32.to_ne_bytes());
        h.extend_from_slice(&snaplen.to_ne_bytes());
        h.extend_from_slice(&link.to_linktype().to_ne_bytes());
        out.write_all(&h)?;
        Ok(PcapWriter { out, snaplen })
    }

    /// Writes one frame; `orig_len` is its length on the wire. Frames longer
    /// than the snap length are cut to it. A record's seconds are 32
    /// unsigned bits: a time before 1970 is written as 1970-01-01T00:00:00Z
    /// and one from 2106-02-07T06:28:16Z on as the last nanosecond before it
    /// (clamped, as the pcapng writer clamps, never wrapped to the other end).
    pub fn write(&mut self, timestamp_ns: i64, data: &[u8], orig_len: usize) -> io::Result<()> {
        let caplen = data.len().min(self.snaplen as usize);
        let (secs, nanos) = pcap_time(timestamp_ns);
        let mut h = [0u8; 16];
        h[0..4].copy_from_slice(&secs.to_ne_bytes());
        h[4..8].copy_from_slice(&nanos.to_ne_bytes());
        h[8..12].copy_from_slice(&(caplen as u32).to_ne_bytes());
        h[12..16].copy_from_slice(&(orig_len.max(caplen) as u32).to_ne_bytes());
        self.out.write_all(&h)?;
        self.out.write_all(&data[..caplen])
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}

/// `timestamp_ns` as a classic pcap record's (seconds, nanoseconds),
/// clamped to what 32 unsigned bits of seconds hold.
fn pcap_time(timestamp_ns: i64) -> (u32, u32) {
    let secs = timestamp_ns.div_euclid(1_000_000_000);
    let nanos = timestamp_ns.rem_euclid(1_000_000_000) as u32;
    match u32::try_from(secs) {
        Ok(s) => (s, nanos),
        Err(_) if secs < 0 => (0, 0),
        Err(_) => (u32::MAX, 999_999_999),
    }
}

/// Which way a packet went, as pcapng's `epb_flags` says it (bits 0-1:
/// 01 inbound, 10 outbound; draft-ietf-opsawg-pcapng §4.3.1), which
/// Wireshark shows as `frame.packet_flags_direction`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Received by the host that wrote the file.
    Inbound,
    /// Sent by it.
    Outbound,
}

impl Direction {
    /// The `epb_flags` value (bits 0-1).
    pub fn epb_flags(self) -> u32 {
        match self {
            Direction::Inbound => 1,
            Direction::Outbound => 2,
        }
    }

    /// The direction `epb_flags` says, if any.
    pub fn from_epb_flags(flags: u32) -> Option<Direction> {
        match flags & 3 {
            1 => Some(Direction::Inbound),
            2 => Some(Direction::Outbound),
            _ => None,
        }
    }
}

/// Writes a pcapng file: one section, interfaces added as needed, Enhanced
/// Packet Blocks with optional comments (`opt_comment`).
pub struct PcapngWriter<W: Write> {
    out: W,
    interfaces: Vec<(LinkType, String, String)>,
}

const SHB: u32 = 0x0a0d_0d0a;
const IDB: u32 = 0x0000_0001;
const EPB: u32 = 0x0000_0006;
const OPT_END: u16 = 0;
const OPT_COMMENT: u16 = 1;
const EPB_FLAGS: u16 = 2;
const IF_NAME: u16 = 2;
const IF_DESCRIPTION: u16 = 3;
const IF_TSRESOL: u16 = 9;
const SHB_USERAPPL: u16 = 4;

fn pad4(n: usize) -> usize {
    (4 - n % 4) % 4
}

fn option(buf: &mut Vec<u8>, code: u16, value: &[u8]) {
    buf.extend_from_slice(&code.to_ne_bytes());
    buf.extend_from_slice(&(value.len() as u16).to_ne_bytes());
    buf.extend_from_slice(value);
    buf.resize(buf.len() + pad4(value.len()), 0);
}

impl<W: Write> PcapngWriter<W> {
    /// Writes the section header, naming the writing application.
    pub fn new(mut out: W, application: &str) -> io::Result<PcapngWriter<W>> {
        let mut body = Vec::new();
        body.extend_from_slice(&0x1a2b_3c4du32.to_ne_bytes());
        body.extend_from_slice(&1u16.to_ne_bytes());
        body.extend_from_slice(&0u16.to_ne_bytes());
        body.extend_from_slice(&(-1i64).to_ne_bytes());
        option(&mut body, SHB_USERAPPL, application.as_bytes());
        option(&mut body, OPT_END, &[]);
        write_block(&mut out, SHB, &body)?;
        Ok(PcapngWriter {
            out,
            interfaces: Vec::new(),
        })
    }

    /// The interface id for (`link`, `name`), writing its description block the
    /// first time it is used.
    pub fn interface(&mut self, link: LinkType, name: &str) -> io::Result<u32> {
        self.interface_described(link, name, "")
    }

    /// [`Self::interface`] with an `if_description` too: `name` is the
    /// system's name of the interface (`if_name`; none when empty), and
    /// `description` free text about it (none when empty), such as how its
    /// packets were sent.
    pub fn interface_described(
        &mut self,
        link: LinkType,
        name: &str,
        description: &str,
    ) -> io::Result<u32> {
        if let Some(i) = self
            .interfaces
            .iter()
            .position(|(l, n, d)| *l == link && n == name && d == description)
        {
            return Ok(i as u32);
        }
        let mut body = Vec::new();
        body.extend_from_slice(&(link.to_linktype() as u16).to_ne_bytes());
        body.extend_from_slice(&0u16.to_ne_bytes());
        body.extend_from_slice(&0u32.to_ne_bytes()); // no snap length limit
        if !name.is_empty() {
            option(&mut body, IF_NAME, name.as_bytes());
        }
        if !description.is_empty() {
            option(&mut body, IF_DESCRIPTION, description.as_bytes());
        }
        option(&mut body, IF_TSRESOL, &[9]);
        option(&mut body, OPT_END, &[]);
        write_block(&mut self.out, IDB, &body)?;
        self.interfaces
            .push((link, name.to_string(), description.to_string()));
        Ok((self.interfaces.len() - 1) as u32)
    }

    /// Writes one frame on interface `interface` (from [`Self::interface`]),
    /// with each of `comments` as an `opt_comment` and no direction.
    pub fn write(
        &mut self,
        interface: u32,
        timestamp_ns: i64,
        data: &[u8],
        orig_len: usize,
        comments: &[&str],
    ) -> io::Result<()> {
        self.write_packet(interface, timestamp_ns, data, orig_len, None, comments)
    }

    /// Writes one frame as [`Self::write`] does, with which way it went
    /// (`direction`) as its `epb_flags` when known.
    pub fn write_packet(
        &mut self,
        interface: u32,
        timestamp_ns: i64,
        data: &[u8],
        orig_len: usize,
        direction: Option<Direction>,
        comments: &[&str],
    ) -> io::Result<()> {
        let ts = timestamp_ns.max(0) as u64;
        let mut body = Vec::with_capacity(20 + data.len() + 8);
        body.extend_from_slice(&interface.to_ne_bytes());
        body.extend_from_slice(&((ts >> 32) as u32).to_ne_bytes());
        body.extend_from_slice(&(ts as u32).to_ne_bytes());
        body.extend_from_slice(&(data.len() as u32).to_ne_bytes());
        body.extend_from_slice(&(orig_len.max(data.len()) as u32).to_ne_bytes());
        body.extend_from_slice(data);
        body.resize(body.len() + pad4(data.len()), 0);
        for c in comments {
            option(&mut body, OPT_COMMENT, cut_utf8(c, 65_000).as_bytes());
        }
        if let Some(d) = direction {
            option(&mut body, EPB_FLAGS, &d.epb_flags().to_ne_bytes());
        }
        if !comments.is_empty() || direction.is_some() {
            option(&mut body, OPT_END, &[]);
        }
        write_block(&mut self.out, EPB, &body)
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}

/// `s` cut to at most `max` bytes, at a character boundary (an option
/// value is at most 65,535 bytes, and a comment must stay UTF-8).
fn cut_utf8(s: &str, max: usize) -> &str {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

fn write_block<W: Write>(out: &mut W, kind: u32, body: &[u8]) -> io::Result<()> {
    let total = (12 + body.len()) as u32;
    out.write_all(&kind.to_ne_bytes())?;
    out.write_all(&total.to_ne_bytes())?;
    out.write_all(body)?;
    out.write_all(&total.to_ne_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_are_cut_between_characters() {
        assert_eq!(cut_utf8("abc", 10), "abc");
        assert_eq!(cut_utf8("abc", 2), "ab");
        // 'é' is two bytes: a cut inside it drops it whole.
        assert_eq!(cut_utf8("aé", 2), "a");
        assert_eq!(cut_utf8("aé", 3), "aé");
        // Byte 65,000 falls inside an 'é'.
        let long = format!("a{}", "é".repeat(40_000));
        let mut w = PcapngWriter::new(Vec::new(), "test").unwrap();
        let i = w.interface(LinkType::Ethernet, "eth0").unwrap();
        w.write(i, 0, &[0; 60], 60, &[&long]).unwrap();
        let file = w.into_inner();
        // The last block is the EPB (its length ends the file); the comment
        // is its first option, after the 60 bytes of data.
        let total = u32::from_ne_bytes(file[file.len() - 4..].try_into().unwrap());
        let at = file.len() - total as usize + 8 + 20 + 60;
        let len = usize::from(u16::from_ne_bytes([file[at + 2], file[at + 3]]));
        assert_eq!(len, 64_999);
        assert!(std::str::from_utf8(&file[at + 4..at + 4 + len]).is_ok());
    }
}
