//! Anomalies: what the lenient parsers noticed, where, and in a sentence.
//!
//! A lenient parse never stops silently: everything it could not take at face
//! value becomes an [`Anomaly`] with the byte offset it concerns (counted from the
//! start of the bytes handed to the parser: the frame for [`crate::frame`], the
//! DHCP message for [`crate::dhcp`]) and a [`AnomalyKind`] whose `Display` is a
//! sentence a person can act on and whose [`AnomalyKind::code`] is a stable
//! kebab-case name for scripts.

use std::fmt;

use crate::dhcp::Region;

/// Something a lenient parse noticed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anomaly {
    /// Byte offset it concerns, from the start of the parsed bytes.
    pub offset: usize,
    pub kind: AnomalyKind,
}

impl Anomaly {
    pub fn new(offset: usize, kind: AnomalyKind) -> Anomaly {
        Anomaly { offset, kind }
    }

    /// The same anomaly with its offset moved by `base` bytes, for lifting a
    /// DHCP-relative offset to a frame-relative one.
    pub fn shifted(mut self, base: usize) -> Anomaly {
        self.offset += base;
        self
    }
}

impl fmt::Display for Anomaly {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at byte {}: {}", self.offset, self.kind)
    }
}

/// The protocol layer a framing anomaly belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layer {
    Link,
    Ipv4,
    Udp,
    Dhcp,
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Layer::Link => "link layer",
            Layer::Ipv4 => "IPv4",
            Layer::Udp => "UDP",
            Layer::Dhcp => "DHCP",
        })
    }
}

/// What was wrong. Each variant's `code()` is public API: never renamed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AnomalyKind {
    // Framing.
    /// A header does not fit in the captured bytes.
    TruncatedHeader {
        layer: Layer,
        needed: usize,
        available: usize,
    },
    /// The frame was cut by the capture's snap length: `captured` of `original`.
    SnapLengthCut { captured: usize, original: usize },
    /// An ICMP error quotes only the start of the datagram: `quoted` of its
    /// `original` bytes (its sender cut the quote; RFC 1812 §4.3.2.3 keeps
    /// at most 576 bytes in all).
    QuoteCut { quoted: usize, original: usize },
    /// IPv4 total length says more bytes than the frame holds.
    Ipv4LengthBeyondFrame {
        total_length: usize,
        available: usize,
    },
    /// IPv4 total length is shorter than its own header.
    Ipv4LengthTooShort {
        total_length: usize,
        header_length: usize,
    },
    /// The IPv4 header checksum does not verify.
    Ipv4ChecksumInvalid { found: u16 },
    /// The datagram is an IP fragment; the DHCP message is incomplete here.
    Ipv4Fragment {
        fragment_offset: usize,
        more_fragments: bool,
    },
    /// UDP length disagrees with the IP payload length.
    UdpLengthMismatch {
        udp_length: usize,
        ip_payload: usize,
    },

    // DHCP fixed header.
    /// Fewer than the 236 bytes of the fixed BOOTP header.
    MessageTooShort { length: usize },
    /// Shorter than the 300-byte BOOTP minimum (RFC 951, RFC 1542 §2.1).
    BelowBootpMinimum { length: usize },
    /// `op` is neither BOOTREQUEST (1) nor BOOTREPLY (2).
    UnknownOp { op: u8 },
    /// `hlen` exceeds the 16 bytes of `chaddr`; it was clamped to 16.
    HardwareLengthTooLarge { hlen: u8 },
    /// The message ends right after the fixed header, with no vendor area.
    NoMagicCookie,
    /// The four bytes after `file` are not 99.130.83.99, so no options were read.
    BadMagicCookie { found: [u8; 4] },

    // Options.
    /// An option's length runs past the end of its area.
    TruncatedOption {
        code: u8,
        declared: usize,
        available: usize,
        region: Region,
    },
    /// An option area ends without the END option (255).
    MissingEnd { region: Region },
    /// Bytes that are not pad follow the END option.
    BytesAfterEnd { region: Region, count: usize },
    /// Option 52 names a field that holds no END option.
    OverloadWithoutEnd { region: Region },
    /// Option 52 has a value other than 1, 2 or 3, or a length other than 1.
    OverloadInvalid { value: Vec<u8> },
    /// A DHCP-looking message (magic cookie present) without option 53.
    MissingMessageType,
    /// Option 53 appears more than once.
    RepeatedMessageType { count: usize },
    /// An option's value does not have the length or form its definition needs.
    OptionValueInvalid { code: u8, reason: String },
}

impl AnomalyKind {
    /// Whether it describes the capture rather than the packet on the wire:
    /// the snap length (or a cut file), or an IPv4 header checksum of 0 that
    /// transmit offload had yet to fill on the capturing host.
    pub fn is_capture_artefact(&self) -> bool {
        matches!(
            self,
            AnomalyKind::SnapLengthCut { .. }
                | AnomalyKind::QuoteCut { .. }
                | AnomalyKind::Ipv4ChecksumInvalid { found: 0 }
        )
    }

    /// Whether it makes the packet malformed: neither the capture's doing nor
    /// a message merely under the 300-byte BOOTP minimum (legal, if unwise,
    /// and judged on its own by diagnosis), nor a datagram the IP layer
    /// fragmented (RFC 791 allows it; the sender's encoder is not at fault,
    /// and a reply's size is judged on its own by diagnosis).
    pub fn is_malformation(&self) -> bool {
        !self.is_capture_artefact()
            && !matches!(
                self,
                AnomalyKind::BelowBootpMinimum { .. } | AnomalyKind::Ipv4Fragment { .. }
            )
    }

    /// Stable kebab-case name, used in JSON output.
    pub fn code(&self) -> &'static str {
        use AnomalyKind::*;
        match self {
            TruncatedHeader { .. } => "truncated-header",
            SnapLengthCut { .. } => "snap-length-cut",
            QuoteCut { .. } => "quote-cut",
            Ipv4LengthBeyondFrame { .. } => "ipv4-length-beyond-frame",
            Ipv4LengthTooShort { .. } => "ipv4-length-too-short",
            Ipv4ChecksumInvalid { .. } => "ipv4-checksum-invalid",
            Ipv4Fragment { .. } => "ipv4-fragment",
            UdpLengthMismatch { .. } => "udp-length-mismatch",
            MessageTooShort { .. } => "message-too-short",
            BelowBootpMinimum { .. } => "below-bootp-minimum",
            UnknownOp { .. } => "unknown-op",
            HardwareLengthTooLarge { .. } => "hlen-too-large",
            NoMagicCookie => "no-magic-cookie",
            BadMagicCookie { .. } => "bad-magic-cookie",
            TruncatedOption { .. } => "truncated-option",
            MissingEnd { .. } => "missing-end",
            BytesAfterEnd { .. } => "bytes-after-end",
            OverloadWithoutEnd { .. } => "overload-without-end",
            OverloadInvalid { .. } => "overload-invalid",
            MissingMessageType => "missing-message-type",
            RepeatedMessageType { .. } => "repeated-message-type",
            OptionValueInvalid { .. } => "option-value-invalid",
        }
    }
}

impl fmt::Display for AnomalyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use AnomalyKind::*;
        match self {
            TruncatedHeader { layer, needed, available } => write!(
                f,
                "{layer} header needs {needed} bytes but only {available} were captured"
            ),
            QuoteCut { quoted, original } => write!(
                f,
                "the ICMP error quotes {quoted} of the datagram's {original} bytes (its sender cut the quote: \
                 RFC 1812 keeps at most 576 bytes in all); the end of the message is missing and its checksum \
                 cannot be verified"
            ),
            SnapLengthCut { captured, original } => write!(
                f,
                "the capture kept {captured} of the frame's {original} bytes (snap length, or a cut file); \
                 the end of the message is missing and its checksum cannot be verified"
            ),
            Ipv4LengthBeyondFrame { total_length, available } => write!(
                f,
                "IPv4 total length is {total_length} but the frame holds only {available} bytes from the IP header on"
            ),
            Ipv4LengthTooShort { total_length, header_length } => write!(
                f,
                "IPv4 total length {total_length} is shorter than the {header_length}-byte header"
            ),
            Ipv4ChecksumInvalid { found } => {
                write!(f, "IPv4 header checksum 0x{found:04x} does not verify")
            }
            Ipv4Fragment { fragment_offset, more_fragments } => write!(
                f,
                "IPv4 fragment (offset {fragment_offset}, more fragments: {more_fragments}); \
                 the DHCP message is split and only this piece is decoded"
            ),
            UdpLengthMismatch { udp_length, ip_payload } => write!(
                f,
                "UDP length {udp_length} disagrees with the {ip_payload}-byte IP payload; \
                 the shorter one bounds the message"
            ),
            MessageTooShort { length } => write!(
                f,
                "only {length} bytes: a BOOTP/DHCP message needs at least 236 for its fixed header"
            ),
            BelowBootpMinimum { length } => write!(
                f,
                "message is {length} bytes, under the 300-byte BOOTP minimum; some relays and \
                 clients discard such packets"
            ),
            UnknownOp { op } => write!(f, "op is {op}, neither BOOTREQUEST (1) nor BOOTREPLY (2)"),
            HardwareLengthTooLarge { hlen } => write!(
                f,
                "hlen is {hlen}, more than the 16 bytes of chaddr; read as 16"
            ),
            NoMagicCookie => f.write_str(
                "message ends after the fixed header: no magic cookie and no options (plain BOOTP)",
            ),
            BadMagicCookie { found } => write!(
                f,
                "magic cookie is {}.{}.{}.{}, not 99.130.83.99; options were not read",
                found[0], found[1], found[2], found[3]
            ),
            TruncatedOption { code, declared, available, region } => write!(
                f,
                "option {code} in {region} declares {declared} bytes but only {available} remain"
            ),
            MissingEnd { region } => write!(f, "{region} has no END option (255)"),
            BytesAfterEnd { region, count } => write!(
                f,
                "{count} non-zero byte(s) after the END option in {region}"
            ),
            OverloadWithoutEnd { region } => write!(
                f,
                "option 52 says {region} holds options, but it has no END option"
            ),
            OverloadInvalid { value } => write!(
                f,
                "option 52 (overload) has value {value:02x?}; only a single byte 1, 2 or 3 is defined"
            ),
            MissingMessageType => f.write_str(
                "no DHCP message type (option 53): read as plain BOOTP",
            ),
            RepeatedMessageType { count } => write!(
                f,
                "option 53 (message type) appears {count} times; receivers disagree on which counts"
            ),
            OptionValueInvalid { code, reason } => write!(f, "option {code}: {reason}"),
        }
    }
}
