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
    if message_cut(&frame, &anomalies[..first]) {
        // The capture kept only the start of the message (the frame's
        // SnapLengthCut says so): running out of bytes is not the sender's
        // doing, so it is not also a short message or a truncated option.
        use crate::anomaly::AnomalyKind::*;
        let mut i = first;
        while i < anomalies.len() {
            if matches!(
                anomalies[i].kind,
                MessageTooShort { .. }
                    | BelowBootpMinimum { .. }
                    | TruncatedOption { .. }
                    | MissingEnd { .. }
            ) {
                anomalies.remove(i);
            } else {
                i += 1;
            }
        }
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
    /// or a cut file): options past the cut are unknown, and the message's
    /// length is the UDP header's, not the bytes captured.
    pub fn message_cut(&self) -> bool {
        message_cut(&self.frame, &self.anomalies)
    }

    /// The message's length as sent: the UDP payload length when the capture
    /// cut it, the bytes captured otherwise.
    pub fn message_len(&self) -> usize {
        if self.message_cut() {
            usize::from(self.frame.udp.length).saturating_sub(8)
        } else {
            self.frame.payload.len()
        }
    }
}

fn message_cut(frame: &Frame<'_>, anomalies: &[Anomaly]) -> bool {
    usize::from(frame.udp.length).saturating_sub(8) > frame.payload.len()
        && anomalies
            .iter()
            .any(|a| matches!(a.kind, crate::anomaly::AnomalyKind::SnapLengthCut { .. }))
}
