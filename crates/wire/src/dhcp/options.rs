//! Options as raw TLVs: the source of truth for everything typed.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;

use super::code;
use super::table::Census;
use crate::anomaly::{Anomaly, AnomalyKind};

/// Where a TLV was found: the options field, or a field option 52 overloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Region {
    Options,
    File,
    Sname,
}

impl Region {
    pub fn name(self) -> &'static str {
        match self {
            Region::Options => "options",
            Region::File => "file",
            Region::Sname => "sname",
        }
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the {} field", self.name())
    }
}

/// One TLV as it was on the wire. PAD (0) and END (255) are TLVs too, with
/// empty data.
///
/// Equality compares what the option says (code, data, region), not where it
/// was found: `offset` is provenance.
#[derive(Debug, Clone, Eq)]
pub struct RawOption<'a> {
    pub code: u8,
    pub data: Cow<'a, [u8]>,
    pub region: Region,
    /// Offset of the code byte from the start of the DHCP message; 0 for an
    /// option built in code.
    pub offset: usize,
}

impl PartialEq for RawOption<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.code == other.code && self.region == other.region && self.data == other.data
    }
}

impl<'a> RawOption<'a> {
    /// An option for the options field.
    pub fn new(code: u8, data: impl Into<Cow<'a, [u8]>>) -> RawOption<'a> {
        RawOption {
            code,
            data: data.into(),
            region: Region::Options,
            offset: 0,
        }
    }

    /// Whether this is PAD or END, which carry no length byte.
    pub fn is_marker(&self) -> bool {
        self.code == code::PAD || self.code == code::END
    }

    /// Appends the TLV's wire form; data over 255 bytes becomes several TLVs of
    /// the same code (RFC 3396 §4).
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        if self.is_marker() {
            out.push(self.code);
            return;
        }
        if self.data.is_empty() {
            out.extend_from_slice(&[self.code, 0]);
            return;
        }
        for chunk in self.data.chunks(255) {
            out.push(self.code);
            out.push(chunk.len() as u8);
            out.extend_from_slice(chunk);
        }
    }

    pub fn into_owned(self) -> RawOption<'static> {
        RawOption {
            code: self.code,
            data: Cow::Owned(self.data.into_owned()),
            region: self.region,
            offset: self.offset,
        }
    }
}

/// How a scan of an option area ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanEnd {
    /// At the END option, at this offset.
    End(usize),
    /// The area ran out without END.
    Exhausted,
    /// An option's length ran past the area (already noted as an anomaly).
    Truncated,
}

/// Reads the TLVs of `bytes[range]` into `out` and `census`, noting
/// truncation. Never panics and always advances: each step consumes at least
/// one byte.
pub(crate) fn scan<'a>(
    bytes: &'a [u8],
    range: Range<usize>,
    region: Region,
    out: &mut Vec<RawOption<'a>>,
    census: &mut Census,
    anomalies: &mut Vec<Anomaly>,
) -> ScanEnd {
    let end = range.end.min(bytes.len());
    let mut at = range.start;
    while at < end {
        let c = bytes[at];
        match c {
            code::PAD | code::END => {
                out.push(RawOption {
                    code: c,
                    data: Cow::Borrowed(&[]),
                    region,
                    offset: at,
                });
                if c == code::END {
                    return ScanEnd::End(at);
                }
                at += 1;
            }
            _ => {
                let Some(&len) = bytes[..end].get(at + 1) else {
                    anomalies.push(Anomaly::new(
                        at,
                        AnomalyKind::TruncatedOption {
                            code: c,
                            declared: 0,
                            available: 0,
                            region,
                        },
                    ));
                    return ScanEnd::Truncated;
                };
                let len = usize::from(len);
                let start = at + 2;
                if start + len > end {
                    anomalies.push(Anomaly::new(
                        at,
                        AnomalyKind::TruncatedOption {
                            code: c,
                            declared: len,
                            available: end - start,
                            region,
                        },
                    ));
                    return ScanEnd::Truncated;
                }
                census.note(c, len, at, out.len());
                out.push(RawOption {
                    code: c,
                    data: Cow::Borrowed(&bytes[start..start + len]),
                    region,
                    offset: at,
                });
                at = start + len;
            }
        }
    }
    ScanEnd::Exhausted
}

/// All TLVs of `code` concatenated in list order (RFC 3396 §7), borrowed when
/// there is only one.
pub(crate) fn joined<'b>(options: &'b [RawOption<'_>], code: u8) -> Option<Cow<'b, [u8]>> {
    let mut found = options.iter().filter(|o| o.code == code);
    let first = found.next()?;
    match found.next() {
        None => Some(Cow::Borrowed(first.data.as_ref())),
        Some(second) => {
            let mut v = first.data.to_vec();
            v.extend_from_slice(&second.data);
            for o in found {
                v.extend_from_slice(&o.data);
            }
            Some(Cow::Owned(v))
        }
    }
}
