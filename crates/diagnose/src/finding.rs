//! Findings: a cause, a symptom or a risk, with the frames that show it.
//!
//! Every finding has a stable kebab-case [`Code`] (public API: documented in
//! the README, never renamed), a [`Severity`], the client and transaction it
//! concerns, the frames that show it, a one-line summary, an explanation that
//! quotes the values seen, a fix, references, whether it explains a failure,
//! and how sure the engine is.

use std::borrow::Cow;
use std::fmt;

use serde::Serialize;
use wire::HwAddr;

use crate::obs::FrameRef;

/// How bad it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Explains (or is) a failure.
    Error,
    /// A risk, or a problem that did not cause a failure here.
    Warning,
    /// Worth knowing; harmless here.
    Info,
}

impl Severity {
    pub fn name(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// How sure the engine is that the finding is right.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    /// Seen directly in the packets (or the server's own log line).
    High,
    /// A signature that fits, with other explanations possible.
    Medium,
    /// The most likely of several causes the packets cannot tell apart.
    Low,
}

impl Confidence {
    pub fn name(self) -> &'static str {
        match self {
            Confidence::High => "high",
            Confidence::Medium => "medium",
            Confidence::Low => "low",
        }
    }
}

macro_rules! codes {
    ($( $variant:ident $code:literal $title:literal; )*) => {
        /// A finding's stable identifier.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code { $( $variant, )* }

        impl Code {
            /// Every code, in catalogue order.
            pub const ALL: &'static [Code] = &[ $( Code::$variant, )* ];

            /// The kebab-case name: public API.
            pub fn as_str(self) -> &'static str {
                match self { $( Code::$variant => $code, )* }
            }

            /// A short title for listings.
            pub fn title(self) -> &'static str {
                match self { $( Code::$variant => $title, )* }
            }

            pub fn parse(s: &str) -> Option<Code> {
                match s { $( $code => Some(Code::$variant), )* _ => None }
            }
        }
    };
}

codes! {
    // What happened to a transaction that failed.
    NoOffer "no-offer" "DISCOVERs got no OFFER";
    OfferIgnored "offer-ignored" "an OFFER arrived but the client started again";
    NoAck "no-ack" "a REQUEST got no ACK or NAK";
    AckIgnored "ack-ignored" "an ACK was sent but the client did not take it";
    Nak "nak" "a server refused the request with a NAK";
    // Causes and risks seen in packets.
    SecsNotIncrementing "secs-not-incrementing" "the client's secs field does not count up";
    UdpChecksumPartial "udp-checksum-partial" "replies carry a partial (offloaded) UDP checksum";
    UdpChecksumInvalid "udp-checksum-invalid" "replies carry a wrong UDP checksum";
    MultipleServers "multiple-servers" "more than one server answers";
    BroadcastFlagIgnored "broadcast-flag-ignored" "a reply is unicast to a client that asked for broadcast";
    Option82NotEchoed "option82-not-echoed" "the server drops the relay agent's option 82";
    Option82WithoutGiaddr "option82-without-giaddr" "a switch added option 82 but no giaddr (DHCP snooping)";
    ReplyTooShort "reply-too-short" "a reply is under the 300-byte BOOTP minimum";
    ReplyTooLarge "reply-too-large" "a reply is larger than the client accepts";
    LeaseTimesInconsistent "lease-times-inconsistent" "lease, T1 and T2 are not in order";
    ClasslessRoutesWithoutDefault "classless-routes-without-default" "option 121 without a default route hides option 3";
    ServerIdMismatch "server-id-mismatch" "the REQUEST names a server that did not offer";
    XidChanged "xid-changed" "the REQUEST's xid differs from the OFFER's";
    RequiredOptionMissing "required-option-missing" "the lease lacks a subnet mask or router";
    LeaseSubnetInconsistent "lease-subnet-inconsistent" "the leased address, mask and router do not form one subnet";
    ClientIdShared "client-id-shared" "several machines use one client identifier";
    ClientIdChanged "client-id-changed" "one machine uses several client identifiers";
    AddressDeclined "address-declined" "the client declined its address (in use)";
    PxeBootFileMissing "pxe-boot-file-missing" "a PXE client got no boot file";
    PxeBootServerMissing "pxe-boot-server-missing" "a PXE client got a boot file but no server to fetch it from";
    PxeBootFileWrongArch "pxe-boot-file-wrong-arch" "a PXE client got a boot file for another architecture";
    PxeProxyOnDhcpServer "pxe-proxy-on-dhcp-server" "option 60 PXEClient in a DHCP reply sends the ROM to that server's UDP 4011";
    PxeBootServerUnanswered "pxe-boot-server-unanswered" "the PXE ROM's requests to a boot server (UDP 4011, or a search by broadcast) got no answer";
    ServerUnreachable "server-unreachable" "an ICMP error says the DHCP server cannot be reached (port, host or firewall)";
    ReplyUnreachable "reply-unreachable" "an ICMP error says a server's reply could not be delivered (to the relay or the client)";
    PxeReplyTooFast "pxe-reply-too-fast" "a PXE ROM ignored OFFERs that came within milliseconds";
    IpxeChainloadLoop "ipxe-chainload-loop" "iPXE is handed the iPXE binary again and again";
    StpDelaySuspected "stp-delay-suspected" "early DISCOVERs were lost (spanning tree?)";
    ChaddrSourceMismatch "chaddr-source-mismatch" "chaddr differs from the Ethernet source";
    MalformedPacket "malformed-packet" "a packet breaks the DHCP format";
    HostNameInvalid "host-name-invalid" "the client's host name (option 12) is not a valid DNS name";
    RenewMalformed "renew-malformed" "a renewing REQUEST carries fields RFC 2131 forbids";
    RenewUnanswered "renew-unanswered" "unicast renewals got no answer; only the broadcast rebind worked";

    MessageTypeNotFirst "message-type-not-first" "option 53 is not the first option";
    SlowOffer "slow-offer" "the OFFER came a second or more after the DISCOVER";
    ReplyNotSeenByClient "reply-not-seen-by-client" "a reply left the server but never reached the client's capture";
    // Causes only a server log can tell (dhcplens diagnose --log, explain).
    MinSecsDrop "min-secs-drop" "the server dropped the DISCOVER: secs below min-secs";
    PoolExhausted "pool-exhausted" "the server has no free address for the client";
    UnknownNetworkSegment "unknown-network-segment" "no subnet matches the relay's giaddr or the client's network";
    NoSubnetForInterface "no-subnet-for-interface" "the server has no subnet for the receiving interface";
    ClientIgnored "client-ignored" "the server ignores the client on purpose (deny rule, DROP class)";
    PeerHoldsFreeLeases "peer-holds-free-leases" "the failover peer holds the free leases and should answer";
    ForeignServerId "foreign-server-id" "the REQUEST names another server";
    NotAuthoritative "not-authoritative" "the server is not authoritative and stays silent instead of NAKing";
    PingCheckConflict "ping-check-conflict" "the server found the address in use by pinging it";
    OptionLeftOut "option-left-out" "the server left an option out of its reply: no space left";
    ServerNeverSawRequest "server-never-saw-request" "the server's log has no trace of DISCOVERs seen on the wire";
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A line of a server or client log quoted as evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogEvidence {
    pub file: String,
    pub line: u64,
    pub text: String,
}

/// One finding.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub code: Code,
    pub severity: Severity,
    #[serde(serialize_with = "ser_hw")]
    pub chaddr: Option<HwAddr>,
    #[serde(serialize_with = "ser_xid")]
    pub xid: Option<u32>,
    /// The frames that show it, as `(file index, frame number)`.
    pub frames: Vec<FrameRef>,
    pub summary: String,
    pub explanation: String,
    /// Most fixes are the catalogue's own words: borrowed, not copied into
    /// every failing client's finding.
    pub fix: Cow<'static, str>,
    pub references: &'static [&'static str],
    /// Whether this finding explains why a client failed here (a cause), as
    /// opposed to a symptom, a risk or something harmless in this capture.
    pub explains_failure: bool,
    pub confidence: Confidence,
    /// Log lines that back it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub log_lines: Vec<LogEvidence>,
    /// How many times it was seen for this client (merged into one finding).
    pub occurrences: u32,
    /// It explained a failed exchange, and the client got a lease later
    /// (not in the JSON: its explanation says so).
    #[serde(skip)]
    pub recovered: bool,
}

fn ser_hw<S: serde::Serializer>(v: &Option<HwAddr>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(h) => s.serialize_str(h.hex().as_str()),
        None => s.serialize_none(),
    }
}

fn ser_xid<S: serde::Serializer>(v: &Option<u32>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(x) => s.serialize_str(wire::dhcp::HexBuf::xid(*x).as_str()),

        None => s.serialize_none(),
    }
}

impl Serialize for FrameRef {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("file", &self.file)?;
        m.serialize_entry("frame", &self.frame)?;
        m.end()
    }
}

impl Finding {
    /// Its JSON, as its `Serialize` writes it (a test holds the two to the
    /// same bytes), without serde: a report writes a finding for each
    /// failing client, and their long texts dominate the escaping.
    pub fn write_json(&self, w: &mut Vec<u8>) -> std::io::Result<()> {
        let mut o = crate::json::Object::new(w)?;
        o.plain("code", self.code.as_str())?;
        o.plain("severity", self.severity.name())?;
        match self.chaddr {
            Some(h) => o.hw("chaddr", h)?,
            None => o.null("chaddr")?,
        }
        match self.xid {
            Some(x) => o.xid("xid", x)?,
            None => o.null("xid")?,
        }
        o.frames("frames", self.frames.iter().copied())?;
        o.str("summary", &self.summary)?;
        o.str("explanation", &self.explanation)?;
        o.str("fix", &self.fix)?;
        o.strs("references", self.references.iter().copied())?;
        o.bool("explains_failure", self.explains_failure)?;
        o.plain("confidence", self.confidence.name())?;
        if !self.log_lines.is_empty() {
            o.list("log_lines", &self.log_lines, |l, w| {
                let mut e = crate::json::Object::new(w)?;
                e.str("file", &l.file)?;
                e.num("line", l.line)?;
                e.str("text", &l.text)?;
                e.end()
            })?;
        }
        o.num("occurrences", u64::from(self.occurrences))?;
        o.end()
    }
}

/// At most this many frames are kept as a finding's evidence.
pub const MAX_EVIDENCE_FRAMES: usize = 16;

impl Finding {
    /// A finding with the catalogue's defaults; rules fill in the rest.
    pub fn new(
        code: Code,
        severity: Severity,
        chaddr: Option<HwAddr>,
        xid: Option<u32>,
    ) -> Finding {
        Finding {
            code,
            severity,
            chaddr,
            xid,
            frames: Vec::new(),
            summary: String::new(),
            explanation: String::new(),
            fix: Cow::Borrowed(""),
            references: &[],
            explains_failure: false,
            confidence: Confidence::High,
            log_lines: Vec::new(),
            occurrences: 1,
            recovered: false,
        }
    }

    /// Merges another finding of the same code: the more serious one's words
    /// win, evidence frames are pooled.
    pub fn absorb(&mut self, other: Finding) {
        let occurrences = self.occurrences + other.occurrences;
        let more_serious = (other.severity, !other.explains_failure, other.confidence)
            < (self.severity, !self.explains_failure, self.confidence);
        let mut frames = std::mem::take(&mut self.frames);
        let mut logs = std::mem::take(&mut self.log_lines);
        if more_serious {
            frames.extend(other.frames.iter().copied());
            logs.extend(other.log_lines.iter().cloned());
            *self = other;
        } else {
            frames.extend(other.frames);
            logs.extend(other.log_lines);
        }
        self.frames = frames;
        self.frames.sort();
        self.frames.dedup();
        self.frames.truncate(MAX_EVIDENCE_FRAMES);
        logs.dedup();
        logs.truncate(MAX_EVIDENCE_FRAMES);
        self.log_lines = logs;
        self.occurrences = occurrences;
    }

    /// Gives back the spare capacity its texts and frames were built with.
    pub fn compact(&mut self) {
        self.summary.shrink_to_fit();
        self.explanation.shrink_to_fit();
        if let Cow::Owned(fix) = &mut self.fix {
            fix.shrink_to_fit();
        }
        self.frames.shrink_to_fit();
    }

    pub fn frames(mut self, frames: impl IntoIterator<Item = FrameRef>) -> Finding {
        self.frames.extend(frames);
        self.frames.sort();
        self.frames.dedup();
        self.frames.truncate(MAX_EVIDENCE_FRAMES);
        self
    }

    pub fn summary(mut self, s: impl Into<String>) -> Finding {
        self.summary = s.into();
        self
    }

    pub fn explanation(mut self, s: impl Into<String>) -> Finding {
        self.explanation = s.into();
        self
    }

    pub fn fix(mut self, s: impl Into<Cow<'static, str>>) -> Finding {
        self.fix = s.into();
        self
    }

    /// Its references (a rule names them once, all together).
    pub fn references(mut self, r: &'static [&'static str]) -> Finding {
        debug_assert!(self.references.is_empty(), "references set twice");
        self.references = r;
        self
    }

    pub fn cause(mut self, confidence: Confidence) -> Finding {
        self.explains_failure = true;
        self.confidence = confidence;
        self
    }

    pub fn confidence(mut self, c: Confidence) -> Finding {
        self.confidence = c;
        self
    }
}
