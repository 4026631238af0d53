//! A captured frame read all the way to its DHCP message.

use crate::anomaly::Anomaly;
use crate::dhcp::{code, Message};
use crate::frame::{self, Frame, LinkType, Skip};

/// A DHCP packet as captured: its framing, its message (if the fixed header
/// was complete) and every anomaly of either, with offsets from the frame start.
#[derive(Debug, Clone)]
pub struct DhcpFrame<'a> {
    pub frame: Frame<'a>,
    pub message: Option<Message<'a>>,
    pub anomalies: Vec<Anomaly>,
}

/// Reads a frame of link type `link` down to its DHCP message. `Ok(None)` for
/// UDP that is not on port 67 or 68; `Err` for frames holding no UDP at all.
pub fn decode(link: LinkType, data: &[u8], orig_len: usize) -> Result<Option<DhcpFrame<'_>>, Skip> {
    let mut frame = frame::decode(link, data, orig_len)?;
    if !frame.is_dhcp() {
        return Ok(None);
    }
    // The message's anomalies go after the frame's, in the same list, then
    // move to frame offsets; a stable sort keeps the frame's first at a tie.
    let mut anomalies = std::mem::take(&mut frame.anomalies);
    let first = anomalies.len();
    let message = Message::parse_lenient_into(frame.payload, &mut anomalies);
    if let Some(sent) = sent_len(&frame, &anomalies[..first]) {
        // The capture kept only the start of the message (the frame's
        // SnapLengthCut says so): running out of bytes is not the sender's
        // doing, so it is not also a truncated option or a missing END, nor
        // a short message unless the length sent was short too, nor a
        // missing option 53 unless the options ended before the cut.
        use crate::anomaly::AnomalyKind::*;
        let ended = !anomalies[first..]
            .iter()
            .any(|a| matches!(a.kind, MissingEnd { .. } | TruncatedOption { .. }));
        anomalies.retain(|a| match a.kind {
            TruncatedOption { .. } | MissingEnd { .. } => false,
            MissingMessageType => ended,
            MessageTooShort { .. } => sent < crate::dhcp::FIXED_HEADER_LEN,
            BelowBootpMinimum { .. } => sent < crate::dhcp::BOOTP_MIN_LEN,
            _ => true,
        });
    }
    for a in &mut anomalies[first..] {
        a.offset += frame.payload_offset;
    }
    anomalies.sort_by_key(|a| a.offset);
    Ok(Some(DhcpFrame {
        frame,
        message,
        anomalies,
    }))
}

/// The DHCP message an ICMP destination unreachable quotes, decoded as
/// [`decode`] does. Where the ICMP message is whole in the capture, a quote
/// that ends before the datagram does was cut by the ICMP's sender, not by
/// the capture: [`crate::anomaly::AnomalyKind::QuoteCut`].
pub fn decode_quoted<'a>(u: &frame::Unreachable<'a>) -> Result<Option<DhcpFrame<'a>>, Skip> {
    let mut d = decode(LinkType::Ipv4, u.quoted, u.quoted_len)?;
    if let Some(d) = d.as_mut().filter(|_| u.whole) {
        for a in &mut d.anomalies {
            if let crate::anomaly::AnomalyKind::SnapLengthCut { captured, original } = a.kind {
                a.kind = crate::anomaly::AnomalyKind::QuoteCut {
                    quoted: captured,
                    original,
                };
            }
        }
    }
    Ok(d)
}

impl DhcpFrame<'_> {
    /// Adds an [`crate::anomaly::AnomalyKind::OptionValueInvalid`] for each
    /// option whose value has the right length for its type but does not
    /// parse as that type (a classless route with a prefix over 32, a domain
    /// search list pointing at itself, a relay agent sub-option running
    /// past its option, …), at the option's first TLV. [`decode`] checks
    /// only lengths, so that its contract with the fast path
    /// ([`crate::plain`]) holds without decoding every value; `dhcplens
    /// decode`, which shows every value anyway, asks for this too. Options
    /// cut by the capture are not judged.
    pub fn check_values(&mut self) {
        use crate::anomaly::AnomalyKind::OptionValueInvalid;
        use crate::dhcp::value::{self, Value};
        let Some(m) = &self.message else { return };
        if self.message_cut() {
            return;
        }
        let ctx = m.decode_context();
        let mut seen = [false; 256];
        let mut found = Vec::new();
        // Option 53 (repeated, its own anomaly: not one long value) and
        // option 52 (checked while parsing) are judged already.
        let judged = |c: u8| c == code::DHCP_MESSAGE_TYPE || c == code::OPTION_OVERLOAD;
        for o in m
            .options
            .iter()
            .filter(|o| !o.is_marker() && !judged(o.code))
        {
            if std::mem::replace(&mut seen[usize::from(o.code)], true) {
                continue;
            }
            let offset = o.offset + self.frame.payload_offset;
            let reported = self
                .anomalies
                .iter()
                .any(|a| matches!(a.kind, OptionValueInvalid { code, .. } if code == o.code));
            let Some(data) = m.option(o.code).filter(|_| !reported) else {
                continue;
            };
            if let Value::Invalid { reason, .. } = value::decode(o.code, data, &ctx) {
                found.push(Anomaly::new(
                    offset,
                    OptionValueInvalid {
                        code: o.code,
                        reason,
                    },
                ));
            }
        }
        if !found.is_empty() {
            self.anomalies.extend(found);
            self.anomalies.sort_by_key(|a| a.offset);
        }
    }

    /// Whether the capture kept only the start of the message (snap length,
    /// or a cut file): options past the cut are unknown.
    pub fn message_cut(&self) -> bool {
        sent_len(&self.frame, &self.anomalies).is_some()
    }

    /// The message's length as sent: when the capture cut it, the UDP
    /// payload length (bounded by the frame's original length, unless the
    /// frame is a first fragment); the bytes captured otherwise.
    pub fn message_len(&self) -> usize {
        sent_len(&self.frame, &self.anomalies).unwrap_or(self.frame.payload.len())
    }

    /// For the first IPv4 fragment of a datagram (more fragments follow,
    /// offset 0), which datagram it starts; `None` for a whole one.
    pub fn first_fragment_of(&self) -> Option<crate::frame::FragmentKey> {
        let f = &self.frame;
        self.anomalies
            .iter()
            .any(|a| matches!(a.kind, crate::anomaly::AnomalyKind::Ipv4Fragment { .. }))
            .then_some((f.ip.src, f.ip.dst, f.ip.identification))
    }
}

/// For a message the capture cut, or whose datagram was fragmented (a
/// first fragment holds only its start): its length as sent, from the UDP
/// header, no more than the original frame could hold unless the rest is
/// in other fragments. `None` if it was not cut.
fn sent_len(frame: &Frame<'_>, anomalies: &[Anomaly]) -> Option<usize> {
    use crate::anomaly::AnomalyKind::{Ipv4Fragment, QuoteCut, SnapLengthCut};
    let mut bound = None;
    for a in anomalies {
        match a.kind {
            SnapLengthCut { original, .. } | QuoteCut { original, .. } => {
                let held = original.saturating_sub(frame.payload_offset);
                bound = Some(bound.map_or(held, |b: usize| b.max(held)));
            }
            // Only a first fragment is decoded (later ones have no UDP
            // header), and its datagram goes on past it.
            Ipv4Fragment { .. } => bound = Some(usize::MAX),
            _ => {}
        }
    }
    let declared = usize::from(frame.udp.length).saturating_sub(8);
    let sent = declared.min(bound?);
    (sent > frame.payload.len()).then_some(sent)
}
