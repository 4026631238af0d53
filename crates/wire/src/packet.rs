//! A captured frame read all the way to its DHCP message.

use crate::anomaly::Anomaly;
use crate::dhcp::Message;
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
        // a short message unless the length sent was short too.
        use crate::anomaly::AnomalyKind::*;
        anomalies.retain(|a| match a.kind {
            TruncatedOption { .. } | MissingEnd { .. } => false,
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

impl DhcpFrame<'_> {
    /// Whether the capture kept only the start of the message (snap length,
    /// or a cut file): options past the cut are unknown.
    pub fn message_cut(&self) -> bool {
        sent_len(&self.frame, &self.anomalies).is_some()
    }

    /// The message's length as sent: when the capture cut it, the UDP
    /// payload length (bounded by the frame's original length); the bytes
    /// captured otherwise.
    pub fn message_len(&self) -> usize {
        sent_len(&self.frame, &self.anomalies).unwrap_or(self.frame.payload.len())
    }
}

/// For a message the capture cut: its length as sent, from the UDP header,
/// no more than the original frame could hold. `None` if it was not cut.
fn sent_len(frame: &Frame<'_>, anomalies: &[Anomaly]) -> Option<usize> {
    let original = anomalies.iter().find_map(|a| match a.kind {
        crate::anomaly::AnomalyKind::SnapLengthCut { original, .. } => Some(original),
        _ => None,
    })?;
    let declared = usize::from(frame.udp.length).saturating_sub(8);
    let sent = declared.min(original.saturating_sub(frame.payload_offset));
    (sent > frame.payload.len()).then_some(sent)
}
