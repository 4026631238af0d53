//! Typed option values, decoded on demand from the table's [`Kind`].
//!
//! Decoding never fails: a value that does not fit its type becomes
//! [`Value::Invalid`] with the reason and the raw bytes; an unknown code
//! becomes [`Value::Bytes`].

use std::borrow::Cow;
use std::fmt;
use std::net::Ipv4Addr;

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

use super::table::{self, Kind};
use super::MessageType;

/// What decoding needs to know about the rest of the message.
#[derive(Debug, Clone, Copy, Default)]
pub struct Context {
    /// Option 60 starts with `PXEClient`: option 43 holds PXE sub-options.
    pub pxe: bool,
}

/// A classless static route (RFC 3442).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub destination: Ipv4Addr,
    pub prefix_len: u8,
    pub router: Ipv4Addr,
}

/// An encapsulated sub-option, with its decoded value when its code is known
/// in its space.
#[derive(Debug, Clone, PartialEq)]
pub struct SubOption<'a> {
    pub code: u8,
    pub name: Option<&'static str>,
    pub value: Value<'a>,
}

/// One enterprise's data in options 124/125 (RFC 3925).
#[derive(Debug, Clone, PartialEq)]
pub struct EnterpriseData<'a> {
    pub enterprise: u32,
    pub value: Value<'a>,
}

/// A decoded option value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    Empty,
    Ip(Ipv4Addr),
    Ips(Vec<Ipv4Addr>),
    IpPairs(Vec<(Ipv4Addr, Ipv4Addr)>),
    U8(u8),
    U16(u16),
    U32(u32),
    I32(i32),
    Seconds(u32),
    Bool(bool),
    U16s(Vec<u16>),
    /// Text as sent (NVT ASCII; other bytes are escaped when shown).
    Text(Cow<'a, [u8]>),
    MessageType(MessageType),
    /// Option codes, e.g. the parameter request list.
    Codes(Vec<u8>),
    /// Option 145's authentication algorithms (RFC 6704 §3.3; 1 is
    /// HMAC-MD5).
    Algorithms(Vec<u8>),
    /// Option 52: 1 = file, 2 = sname, 3 = both.
    Overload(u8),
    /// Option 61 with a hardware type: the type and address.
    ClientIdHw {
        htype: u8,
        addr: Cow<'a, [u8]>,
    },
    /// Option 61 of type 255 (RFC 4361): IAID and DUID.
    ClientIdDuid {
        iaid: u32,
        duid: Cow<'a, [u8]>,
    },
    /// Option 61 of another type: the type and opaque bytes.
    ClientIdOther {
        kind: u8,
        id: Cow<'a, [u8]>,
    },
    /// Option 81 (RFC 4702).
    Fqdn {
        flags: u8,
        rcode1: u8,
        rcode2: u8,
        /// The name's bytes (labels joined with dots in wire format), as
        /// sent: escaped when shown, as text is.
        name: Vec<u8>,
    },
    SubOptions(Vec<SubOption<'a>>),
    Routes(Vec<Route>),
    /// Names, each as its bytes (labels joined with dots).
    Domains(Vec<Vec<u8>>),
    Enterprises(Vec<EnterpriseData<'a>>),
    /// Option 97: type (0 = GUID) and identifier.
    Uuid {
        kind: u8,
        id: Cow<'a, [u8]>,
    },
    /// Option 93: architecture types.
    Architectures(Vec<u16>),
    /// Option 94: interface type (1 = UNDI) and version.
    Ndi {
        kind: u8,
        major: u8,
        minor: u8,
    },
    /// Option 90 (RFC 3118).
    Auth {
        protocol: u8,
        algorithm: u8,
        rdm: u8,
        replay: u64,
        info: Cow<'a, [u8]>,
    },
    /// RFC 3004 user classes: each an opaque string.
    UserClasses(Vec<Cow<'a, [u8]>>),
    Bytes(Cow<'a, [u8]>),
    /// The value does not fit its type.
    Invalid {
        reason: String,
        data: Cow<'a, [u8]>,
    },
}

fn ips(d: &[u8]) -> Vec<Ipv4Addr> {
    d.chunks_exact(4)
        .map(|c| Ipv4Addr::new(c[0], c[1], c[2], c[3]))
        .collect()
}

fn be16(d: &[u8]) -> u16 {
    u16::from_be_bytes([d[0], d[1]])
}

fn be32(d: &[u8]) -> u32 {
    u32::from_be_bytes([d[0], d[1], d[2], d[3]])
}

/// Decodes option `code`'s joined value.
pub fn decode<'a>(code: u8, data: Cow<'a, [u8]>, ctx: &Context) -> Value<'a> {
    match data {
        Cow::Borrowed(d) => decode_slice(code, d, ctx),
        Cow::Owned(v) => decode_slice(code, &v, ctx).into_owned(),
    }
}

/// Decodes option `code` from a borrowed value.
pub fn decode_slice<'a>(code: u8, d: &'a [u8], ctx: &Context) -> Value<'a> {
    let Some(spec) = table::spec(code) else {
        return Value::Bytes(d.into());
    };
    if let Err(reason) = spec.kind.check_length(d.len()) {
        return Value::Invalid {
            reason,
            data: d.into(),
        };
    }
    decode_kind(spec.kind, d, ctx)
}

fn decode_kind<'a>(kind: Kind, d: &'a [u8], ctx: &Context) -> Value<'a> {
    match kind {
        Kind::Empty => Value::Empty,
        Kind::Ip => Value::Ip(Ipv4Addr::new(d[0], d[1], d[2], d[3])),
        Kind::Ips | Kind::IpsOrNone => Value::Ips(ips(d)),
        Kind::IpPairs => {
            let v = ips(d);
            Value::IpPairs(v.chunks_exact(2).map(|p| (p[0], p[1])).collect())
        }
        Kind::U8 => Value::U8(d[0]),
        Kind::U16 => Value::U16(be16(d)),
        Kind::U32 => Value::U32(be32(d)),
        Kind::I32 => Value::I32(be32(d) as i32),
        Kind::Seconds => Value::Seconds(be32(d)),
        Kind::Bool => match d[0] {
            0 => Value::Bool(false),
            1 => Value::Bool(true),
            v => invalid(format!("boolean is {v}, expected 0 or 1"), d),
        },
        Kind::U16s => Value::U16s(d.chunks_exact(2).map(be16).collect()),
        Kind::Text => Value::Text(d.into()),
        Kind::MessageType => Value::MessageType(MessageType::from(d[0])),
        Kind::Codes => Value::Codes(d.to_vec()),
        Kind::Algorithms => Value::Algorithms(d.to_vec()),
        Kind::Overload => match d[0] {
            v @ 1..=3 => Value::Overload(v),
            v => invalid(format!("overload is {v}, expected 1, 2 or 3"), d),
        },
        Kind::ClientId => match d[0] {
            255 if d.len() >= 5 => Value::ClientIdDuid {
                iaid: be32(&d[1..5]),
                duid: d[5..].into(),
            },
            255 => invalid(
                "type 255 needs a 4-byte IAID and a DUID (RFC 4361)".into(),
                d,
            ),
            0 => Value::ClientIdOther {
                kind: 0,
                id: d[1..].into(),
            },
            htype => Value::ClientIdHw {
                htype,
                addr: d[1..].into(),
            },
        },
        Kind::Fqdn => {
            let (flags, name) = (d[0], &d[3..]);
            let name = if flags & 0x04 != 0 {
                match dns_names(name) {
                    // Zero bytes after the name (empty root names) pad it.
                    Ok(mut names) if names.iter().skip(1).all(Vec::is_empty) => {
                        names.truncate(1);
                        names.pop().unwrap_or_default()
                    }
                    Ok(_) => {
                        return invalid("more than one name in canonical wire format".into(), d)
                    }
                    Err(e) => return invalid(e, d),
                }
            } else {
                name.to_vec()
            };
            Value::Fqdn {
                flags,
                rcode1: d[1],
                rcode2: d[2],
                name,
            }
        }
        // RFC 3046 §2.0 defines no PAD or END among option 82's sub-options.
        Kind::RelayAgent => sub_options(d, false, relay_sub_option),
        // RFC 2132 §8.4: option 43's encapsulated options keep PAD and END.
        Kind::VendorSpecific if ctx.pxe => sub_options(d, true, pxe_sub_option),
        Kind::VendorSpecific => Value::Bytes(d.into()),
        Kind::Encapsulated => sub_options(d, true, |_, v| (None, Value::Bytes(v.into()))),
        Kind::ClasslessRoutes => classless_routes(d),
        Kind::Domains => match dns_names(d) {
            Ok(names) => Value::Domains(names),
            Err(e) => invalid(e, d),
        },
        Kind::SipServers => match d[0] {
            0 => match dns_names(&d[1..]) {
                Ok(names) => Value::Domains(names),
                Err(e) => invalid(e, d),
            },
            1 if (d.len() - 1) % 4 == 0 && d.len() > 1 => Value::Ips(ips(&d[1..])),
            e => invalid(
                format!("encoding {e} with {} bytes of data", d.len() - 1),
                d,
            ),
        },
        Kind::ViVendorClass | Kind::ViVendorSpecific => enterprises(kind, d),
        Kind::Uuid => Value::Uuid {
            kind: d[0],
            id: d[1..].into(),
        },
        Kind::Architectures => Value::Architectures(d.chunks_exact(2).map(be16).collect()),
        Kind::Ndi => Value::Ndi {
            kind: d[0],
            major: d[1],
            minor: d[2],
        },
        Kind::Auth => Value::Auth {
            protocol: d[0],
            algorithm: d[1],
            rdm: d[2],
            replay: u64::from_be_bytes(d[3..11].try_into().expect("8 bytes")),
            info: d[11..].into(),
        },
        Kind::UserClass => user_classes(d),
        Kind::Bytes => Value::Bytes(d.into()),
    }
}

fn invalid(reason: String, data: &[u8]) -> Value<'_> {
    Value::Invalid {
        reason,
        data: data.into(),
    }
}

/// Reads a code/length/value list; `Invalid` if it does not parse exactly.
/// With `pad_and_end`, codes 0 and 255 are one-byte PAD and END, as among
/// DHCP options; without, they are sub-options like any other.
fn sub_options<'a>(
    d: &'a [u8],
    pad_and_end: bool,
    known: impl Fn(u8, &'a [u8]) -> (Option<&'static str>, Value<'a>),
) -> Value<'a> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < d.len() {
        let code = d[at];
        if code == 0 && pad_and_end {
            at += 1;
            continue;
        }
        if code == 255 && pad_and_end {
            // END ends the encapsulated options (RFC 2132 §8.4), whatever
            // follows it.
            out.push(SubOption {
                code,
                name: Some("end"),
                value: Value::Empty,
            });
            break;
        }
        let Some(&len) = d.get(at + 1) else {
            return invalid(format!("sub-option {code} at byte {at} has no length"), d);
        };
        let end = at + 2 + usize::from(len);
        if end > d.len() {
            return invalid(
                format!(
                    "sub-option {code} at byte {at} declares {len} bytes, {} remain",
                    d.len() - at - 2
                ),
                d,
            );
        }
        let (name, value) = known(code, &d[at + 2..end]);
        out.push(SubOption { code, name, value });
        at = end;
    }
    Value::SubOptions(out)
}

/// Option 82 sub-options (RFC 3046, 3527, 3993, 4030, 5107, 6607, Cisco 150-152).
fn relay_sub_option(code: u8, v: &[u8]) -> (Option<&'static str>, Value<'_>) {
    fn ip(v: &[u8]) -> Value<'_> {
        match v {
            [a, b, c, d] => Value::Ip(Ipv4Addr::new(*a, *b, *c, *d)),
            _ => invalid(format!("{} bytes, expected 4", v.len()), v),
        }
    }
    match code {
        1 => (Some("circuit-id"), Value::Bytes(v.into())),
        2 => (Some("remote-id"), Value::Bytes(v.into())),
        4 => (Some("docsis-device-class"), Value::Bytes(v.into())),
        5 => (Some("link-selection"), ip(v)),
        6 => (Some("subscriber-id"), Value::Text(v.into())),
        7 => (Some("radius-attributes"), Value::Bytes(v.into())),
        8 => (Some("authentication"), Value::Bytes(v.into())),
        9 => (
            Some("vendor-specific"),
            enterprises(Kind::ViVendorSpecific, v),
        ),
        10 => (Some("flags"), Value::Bytes(v.into())),
        11 => (Some("server-id-override"), ip(v)),
        12 => (Some("relay-id"), Value::Bytes(v.into())),
        150 => (Some("link-selection-cisco"), ip(v)),
        151 => (Some("vss"), Value::Bytes(v.into())),
        152 => (Some("vss-control"), Value::Bytes(v.into())),
        _ => (None, Value::Bytes(v.into())),
    }
}

/// The value of sub-option `code` in `d`, an encapsulated option such as
/// option 43 (RFC 2132 §8.4: code, length, value; 0 pads, 255 ends); `None`
/// when it is absent or the sub-options before it are cut.
pub fn sub_option(d: &[u8], code: u8) -> Option<&[u8]> {
    let mut at = 0;
    while let Some(&c) = d.get(at) {
        match c {
            0 => at += 1,
            255 => return None,
            _ => {
                let len = usize::from(*d.get(at + 1)?);
                let v = d.get(at + 2..at + 2 + len)?;
                if c == code {
                    return Some(v);
                }
                at += 2 + len;
            }
        }
    }
    None
}

/// PXE's sub-option 71 of option 43, the boot item a ROM asks a boot
/// server for (PXE 2.1 §2.2.5), or that the server's ACK answers: its
/// type (0 is the PXE bootstrap server) and layer.
pub fn pxe_boot_item(option_43: &[u8]) -> Option<(u16, u16)> {
    match *sub_option(option_43, 71)? {
        [t0, t1, l0, l1] => Some((u16::from_be_bytes([t0, t1]), u16::from_be_bytes([l0, l1]))),
        _ => None,
    }
}

/// PXE sub-options of option 43 (PXE 2.1 specification).
fn pxe_sub_option(code: u8, v: &[u8]) -> (Option<&'static str>, Value<'_>) {
    let (name, kind) = match code {
        1 => ("pxe-mtftp-ip", Kind::Ip),
        2 => ("pxe-mtftp-cport", Kind::U16),
        3 => ("pxe-mtftp-sport", Kind::U16),
        4 => ("pxe-mtftp-tmout", Kind::U8),
        5 => ("pxe-mtftp-delay", Kind::U8),
        6 => ("pxe-discovery-control", Kind::U8),
        7 => ("pxe-discovery-mcast-addr", Kind::Ip),
        8 => ("pxe-boot-servers", Kind::Bytes),
        9 => ("pxe-boot-menu", Kind::Bytes),
        10 => ("pxe-menu-prompt", Kind::Bytes),
        71 => ("pxe-boot-item", Kind::Bytes),
        _ => return (None, Value::Bytes(v.into())),
    };
    let value = match kind.check_length(v.len()) {
        // The MTFTP ports are in Intel (little-endian) order, not network
        // order (Intel's PXE 2.1 sample pxe.h; EDK's PXE base code; tshark).
        Ok(()) if matches!(code, 2 | 3) => Value::U16(u16::from_le_bytes([v[0], v[1]])),
        Ok(()) => decode_kind(kind, v, &Context::default()),
        Err(reason) => invalid(reason, v),
    };
    (Some(name), value)
}

/// Options 124/125: enterprise number, length, data.
fn enterprises(kind: Kind, d: &[u8]) -> Value<'_> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < d.len() {
        if at + 5 > d.len() {
            return invalid(format!("enterprise entry at byte {at} is cut short"), d);
        }
        let enterprise = be32(&d[at..]);
        let len = usize::from(d[at + 4]);
        let end = at + 5 + len;
        if end > d.len() {
            return invalid(
                format!(
                    "enterprise {enterprise} declares {len} bytes, {} remain",
                    d.len() - at - 5
                ),
                d,
            );
        }
        let data = &d[at + 5..end];
        let value = if kind == Kind::ViVendorClass {
            user_classes(data)
        } else {
            // RFC 3925 §4 (and RFC 4243's relay sub-option 9): vendor
            // data as the vendor defines it, with no PAD or END.
            sub_options(data, false, |_, v| (None, Value::Bytes(v.into())))
        };
        out.push(EnterpriseData { enterprise, value });
        at = end;
    }
    Value::Enterprises(out)
}

/// RFC 3004 list of length-prefixed strings; plain text when it is not one.
fn user_classes(d: &[u8]) -> Value<'_> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < d.len() {
        let len = usize::from(d[at]);
        if len == 0 || at + 1 + len > d.len() {
            return Value::Text(d.into());
        }
        out.push(Cow::Borrowed(&d[at + 1..at + 1 + len]));
        at += 1 + len;
    }
    Value::UserClasses(out)
}

/// RFC 3442 classless routes.
fn classless_routes(d: &[u8]) -> Value<'_> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < d.len() {
        let width = d[at];
        if width > 32 {
            return invalid(format!("prefix length {width} at byte {at} exceeds 32"), d);
        }
        let significant = usize::from(width).div_ceil(8);
        let end = at + 1 + significant + 4;
        if end > d.len() {
            return invalid(format!("route at byte {at} is cut short"), d);
        }
        let mut dest = [0u8; 4];
        dest[..significant].copy_from_slice(&d[at + 1..at + 1 + significant]);
        let r = &d[at + 1 + significant..end];
        out.push(Route {
            destination: Ipv4Addr::from(dest),
            prefix_len: width,
            router: Ipv4Addr::new(r[0], r[1], r[2], r[3]),
        });
        at = end;
    }
    Value::Routes(out)
}

/// RFC 1035 names, one after another, each as its labels' bytes joined
/// with dots. Compression pointers (RFC 3397 §2) are offsets into `d` and
/// must point backwards, so they cannot loop. The last name may lack its
/// terminating zero (option 81's partial names, RFC 4702 §2.3.1).
pub fn dns_names(d: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let mut names = Vec::new();
    let mut at = 0;
    while at < d.len() {
        let (name, next) = dns_name(d, at)?;
        names.push(name);
        at = next;
    }
    Ok(names)
}

/// One name at `start`; returns it and the offset after it in the sequence.
fn dns_name(d: &[u8], start: usize) -> Result<(Vec<u8>, usize), String> {
    let mut name = Vec::new();
    let mut at = start;
    let mut resume = None;
    let mut limit = start; // pointers must go strictly before this
    loop {
        let Some(&len) = d.get(at) else {
            // A name without its terminating root label (option 81's partial names).
            return Ok((name, resume.unwrap_or(at)));
        };
        match len {
            0 => return Ok((name, resume.unwrap_or(at + 1))),
            l if l & 0xc0 == 0xc0 => {
                let Some(&lo) = d.get(at + 1) else {
                    return Err(format!("compression pointer at byte {at} is cut short"));
                };
                let target = (usize::from(l & 0x3f) << 8) | usize::from(lo);
                if target >= limit {
                    return Err(format!(
                        "compression pointer at byte {at} points forward to {target}"
                    ));
                }
                resume.get_or_insert(at + 2);
                limit = target;
                at = target;
            }
            l if l & 0xc0 != 0 => {
                return Err(format!(
                    "label type 0x{:02x} at byte {at} is not defined",
                    l & 0xc0
                ))
            }
            l => {
                let l = usize::from(l);
                let Some(label) = d.get(at + 1..at + 1 + l) else {
                    return Err(format!(
                        "label at byte {at} declares {l} bytes, {} remain",
                        d.len() - at - 1
                    ));
                };
                if !name.is_empty() {
                    name.push(b'.');
                }
                name.extend_from_slice(label);
                if name.len() > 1024 {
                    return Err("name longer than 1024 bytes".into());
                }
                at += 1 + l;
            }
        }
    }
}

/// Printable ASCII as is; anything else as `\xNN`, and so are `\` and `"`
/// (the text is shown between quotes, which must end it).
pub fn escape(b: &[u8]) -> String {
    let plain = |c: u8| (0x20..0x7f).contains(&c) && c != b'\\' && c != b'"';
    // Most values (boot files, vendor classes, messages) are plain: one copy.
    if b.iter().all(|&c| plain(c)) {
        // Printable ASCII is UTF-8 as it is (and `from_utf8` checks ASCII a
        // word at a time).
        return std::str::from_utf8(b)
            .map(str::to_owned)
            .unwrap_or_default();
    }
    let mut s = String::with_capacity(b.len());
    for &c in b {
        if plain(c) {
            s.push(char::from(c));
        } else {
            s.push_str(&format!("\\x{c:02x}"));
        }
    }
    s
}

/// `b` in hex, two digits a byte: how JSON shows opaque bytes.
pub fn hex(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len() * 2);
    for c in b {
        s.push_str(&format!("{c:02x}"));
    }
    s
}

fn colon_hex(b: &[u8]) -> String {
    b.iter()
        .map(|c| format!("{c:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Whether bytes read as text (printable ASCII, possibly NUL-terminated).
fn is_text(b: &[u8]) -> bool {
    let b = b.strip_suffix(&[0]).unwrap_or(b);
    !b.is_empty() && b.iter().all(|&c| (0x20..0x7f).contains(&c))
}

/// Name of a client system architecture type (RFC 4578, IANA registry).
pub fn architecture_name(t: u16) -> Option<&'static str> {
    Some(match t {
        0 => "x86 BIOS",
        1 => "NEC/PC98",
        2 => "Itanium",
        3 => "DEC Alpha",
        4 => "Arc x86",
        5 => "Intel Lean Client",
        6 => "x86 UEFI",
        7 => "x64 UEFI",
        8 => "EFI Xscale",
        9 => "EBC",
        10 => "ARM 32-bit UEFI",
        11 => "ARM 64-bit UEFI",
        12 => "PowerPC Open Firmware",
        13 => "PowerPC ePAPR",
        14 => "POWER OPAL v3",
        15 => "x86 UEFI HTTP",
        16 => "x64 UEFI HTTP",
        17 => "EBC HTTP",
        18 => "ARM 32-bit UEFI HTTP",
        19 => "ARM 64-bit UEFI HTTP",
        20 => "x86 BIOS HTTP",
        21 => "ARM 32-bit uboot",
        22 => "ARM 64-bit uboot",
        23 => "ARM 32-bit uboot HTTP",
        24 => "ARM 64-bit uboot HTTP",
        25 => "RISC-V 32-bit UEFI",
        26 => "RISC-V 32-bit UEFI HTTP",
        27 => "RISC-V 64-bit UEFI",
        28 => "RISC-V 64-bit UEFI HTTP",
        29 => "RISC-V 128-bit UEFI",
        30 => "RISC-V 128-bit UEFI HTTP",
        31 => "s390 Basic",
        32 => "s390 Extended",
        33 => "MIPS 32-bit UEFI",
        34 => "MIPS 64-bit UEFI",
        35 => "Sunway 32-bit UEFI",
        36 => "Sunway 64-bit UEFI",
        37 => "LoongArch 32-bit UEFI",
        38 => "LoongArch 32-bit UEFI HTTP",
        39 => "LoongArch 64-bit UEFI",
        40 => "LoongArch 64-bit UEFI HTTP",
        41 => "ARM rpiboot",
        _ => return None,
    })
}

impl Value<'_> {
    /// A copy that owns all its bytes.
    pub fn into_owned(self) -> Value<'static> {
        fn own(b: Cow<'_, [u8]>) -> Cow<'static, [u8]> {
            Cow::Owned(b.into_owned())
        }
        match self {
            Value::Empty => Value::Empty,
            Value::Ip(a) => Value::Ip(a),
            Value::Ips(v) => Value::Ips(v),
            Value::IpPairs(v) => Value::IpPairs(v),
            Value::U8(v) => Value::U8(v),
            Value::U16(v) => Value::U16(v),
            Value::U32(v) => Value::U32(v),
            Value::I32(v) => Value::I32(v),
            Value::Seconds(v) => Value::Seconds(v),
            Value::Bool(v) => Value::Bool(v),
            Value::U16s(v) => Value::U16s(v),
            Value::Text(t) => Value::Text(own(t)),
            Value::MessageType(t) => Value::MessageType(t),
            Value::Codes(c) => Value::Codes(c),
            Value::Algorithms(a) => Value::Algorithms(a),
            Value::Overload(v) => Value::Overload(v),
            Value::ClientIdHw { htype, addr } => Value::ClientIdHw {
                htype,
                addr: own(addr),
            },
            Value::ClientIdDuid { iaid, duid } => Value::ClientIdDuid {
                iaid,
                duid: own(duid),
            },
            Value::ClientIdOther { kind, id } => Value::ClientIdOther { kind, id: own(id) },
            Value::Fqdn {
                flags,
                rcode1,
                rcode2,
                name,
            } => Value::Fqdn {
                flags,
                rcode1,
                rcode2,
                name,
            },
            Value::SubOptions(subs) => Value::SubOptions(
                subs.into_iter()
                    .map(|s| SubOption {
                        code: s.code,
                        name: s.name,
                        value: s.value.into_owned(),
                    })
                    .collect(),
            ),
            Value::Routes(r) => Value::Routes(r),
            Value::Domains(d) => Value::Domains(d),
            Value::Enterprises(e) => Value::Enterprises(
                e.into_iter()
                    .map(|x| EnterpriseData {
                        enterprise: x.enterprise,
                        value: x.value.into_owned(),
                    })
                    .collect(),
            ),
            Value::Uuid { kind, id } => Value::Uuid { kind, id: own(id) },
            Value::Architectures(a) => Value::Architectures(a),
            Value::Ndi { kind, major, minor } => Value::Ndi { kind, major, minor },
            Value::Auth {
                protocol,
                algorithm,
                rdm,
                replay,
                info,
            } => Value::Auth {
                protocol,
                algorithm,
                rdm,
                replay,
                info: own(info),
            },
            Value::UserClasses(c) => Value::UserClasses(c.into_iter().map(own).collect()),
            Value::Bytes(b) => Value::Bytes(own(b)),
            Value::Invalid { reason, data } => Value::Invalid {
                reason,
                data: own(data),
            },
        }
    }
}

impl fmt::Display for Value<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn list<T: fmt::Display>(f: &mut fmt::Formatter<'_>, items: &[T]) -> fmt::Result {
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{x}")?;
            }
            Ok(())
        }
        match self {
            Value::Empty => f.write_str("(empty)"),
            Value::Ip(a) => write!(f, "{a}"),
            Value::Ips(v) => list(f, v),
            Value::IpPairs(v) => {
                let s: Vec<String> = v.iter().map(|(a, b)| format!("{a}/{b}")).collect();
                list(f, &s)
            }
            Value::U8(v) => write!(f, "{v}"),
            Value::U16(v) => write!(f, "{v}"),
            Value::U32(v) => write!(f, "{v}"),
            Value::I32(v) => write!(f, "{v}"),
            Value::Seconds(v) => write!(f, "{v}s ({})", Duration(*v)),
            Value::Bool(v) => write!(f, "{v}"),
            Value::U16s(v) => list(f, v),
            Value::Text(t) => write!(f, "\"{}\"", escape(t)),
            Value::MessageType(t) => write!(f, "{t}"),
            Value::Codes(c) => {
                let s: Vec<String> = c.iter().map(|c| format!("{c} {}", table::name(*c))).collect();
                list(f, &s)
            }
            Value::Algorithms(a) => {
                // The IANA registry of forcerenew nonce algorithms.
                let s: Vec<String> = a
                    .iter()
                    .map(|a| match a {
                        1 => "1 HMAC-MD5".to_string(),
                        a => a.to_string(),
                    })
                    .collect();
                list(f, &s)
            }
            Value::Overload(v) => f.write_str(match v {
                1 => "file holds options",
                2 => "sname holds options",
                _ => "file and sname hold options",
            }),
            Value::ClientIdHw { htype, addr } => write!(f, "hardware type {htype}, {}", colon_hex(addr)),
            Value::ClientIdDuid { iaid, duid } => write!(f, "IAID 0x{iaid:08x}, DUID {}", colon_hex(duid)),
            Value::ClientIdOther { kind, id } => {
                if is_text(id) {
                    write!(f, "type {kind}, \"{}\"", escape(id))
                } else {
                    write!(f, "type {kind}, {}", colon_hex(id))
                }
            }
            Value::Fqdn { flags, rcode1, rcode2, name } => {
                write!(f, "\"{}\" flags 0x{flags:02x} (", escape(name))?;
                let names = [(0x01, "S"), (0x02, "O"), (0x04, "E"), (0x08, "N")];
                let set: Vec<&str> = names.iter().filter(|(b, _)| flags & b != 0).map(|(_, n)| *n).collect();
                write!(f, "{}) rcode {rcode1}/{rcode2}", set.join(""))
            }
            Value::SubOptions(subs) => {
                for (i, s) in subs.iter().enumerate() {
                    if i > 0 {
                        f.write_str("; ")?;
                    }
                    match s.name {
                        Some(n) => write!(f, "{}({n})={}", s.code, SubValue(&s.value))?,
                        None => write!(f, "{}={}", s.code, SubValue(&s.value))?,
                    }
                }
                Ok(())
            }
            Value::Routes(r) => {
                let s: Vec<String> = r
                    .iter()
                    .map(|r| format!("{}/{} via {}", r.destination, r.prefix_len, r.router))
                    .collect();
                list(f, &s)
            }
            Value::Domains(d) => {
                let s: Vec<String> = d.iter().map(|n| escape(n)).collect();
                list(f, &s)
            }
            Value::Enterprises(e) => {
                for (i, x) in e.iter().enumerate() {
                    if i > 0 {
                        f.write_str("; ")?;
                    }
                    write!(f, "enterprise {}: {}", x.enterprise, SubValue(&x.value))?;
                }
                Ok(())
            }
            Value::Uuid { kind, id } => write!(f, "type {kind}, {}", guid(id)),
            Value::Architectures(a) => {
                let s: Vec<String> = a
                    .iter()
                    .map(|t| match architecture_name(*t) {
                        Some(n) => format!("{t} ({n})"),
                        None => t.to_string(),
                    })
                    .collect();
                list(f, &s)
            }
            Value::Ndi { kind, major, minor } => write!(f, "type {kind} version {major}.{minor}"),
            Value::Auth { protocol, algorithm, rdm, replay, info } => write!(
                f,
                "protocol {protocol}, algorithm {algorithm}, rdm {rdm}, replay 0x{replay:016x}, info {}",
                hex(info)
            ),
            Value::UserClasses(c) => {
                let s: Vec<String> = c.iter().map(|c| format!("\"{}\"", escape(c))).collect();
                list(f, &s)
            }
            Value::Bytes(b) => {
                if is_text(b) {
                    write!(f, "\"{}\"", escape(b.strip_suffix(&[0]).unwrap_or(b)))
                } else {
                    write!(f, "0x{}", hex(b))
                }
            }
            Value::Invalid { reason, data } => write!(f, "invalid ({reason}): 0x{}", hex(data)),
        }
    }
}

/// A sub-value, shown without repeating `(empty)` noise.
struct SubValue<'v, 'a>(&'v Value<'a>);

impl fmt::Display for SubValue<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Value::Empty => Ok(()),
            v => write!(f, "{v}"),
        }
    }
}

/// RFC 4122 text form of a 16-byte GUID, hex otherwise.
fn guid(id: &[u8]) -> String {
    if id.len() != 16 {
        return hex(id);
    }
    format!(
        "{}-{}-{}-{}-{}",
        hex(&id[0..4]),
        hex(&id[4..6]),
        hex(&id[6..8]),
        hex(&id[8..10]),
        hex(&id[10..16])
    )
}

/// Seconds as `1d2h3m4s`; 0xffffffff is "infinite" (RFC 2131 §3.3).
pub struct Duration(pub u32);

impl fmt::Display for Duration {
    /// Written on the stack and handed over once (a report shows one per
    /// client): at most 15 bytes, as in `49709d23h59m59s`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0;
        if s == u32::MAX {
            return f.write_str("infinite");
        }
        let (d, h, m, sec) = (s / 86400, s / 3600 % 24, s / 60 % 60, s % 60);
        let mut buf = [0u8; 16];
        let mut n = 0;
        for (v, u) in [(d, b'd'), (h, b'h'), (m, b'm'), (sec, b's')] {
            if v > 0 || (n == 0 && u == b's') {
                // The digits, most significant first (at most five).
                let mut digits = [0u8; 5];
                let mut k = digits.len();
                let mut v = v;
                loop {
                    k -= 1;
                    digits[k] = b'0' + (v % 10) as u8;
                    v /= 10;
                    if v == 0 {
                        break;
                    }
                }
                let len = digits.len() - k;
                buf[n..n + len].copy_from_slice(&digits[k..]);
                buf[n + len] = u;
                n += len + 1;
            }
        }
        f.write_str(std::str::from_utf8(&buf[..n]).map_err(|_| fmt::Error)?)
    }
}

impl Serialize for Value<'_> {
    /// JSON: addresses and text as strings, numbers as numbers, lists as
    /// arrays, structures as objects, opaque bytes as hex strings.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Empty => s.serialize_none(),
            Value::Ip(a) => s.collect_str(a),
            Value::Ips(v) => s.collect_seq(v.iter().map(|a| a.to_string())),
            Value::IpPairs(v) => {
                s.collect_seq(v.iter().map(|(a, b)| [a.to_string(), b.to_string()]))
            }
            Value::U8(v) => s.serialize_u8(*v),
            Value::U16(v) => s.serialize_u16(*v),
            Value::U32(v) | Value::Seconds(v) => s.serialize_u32(*v),
            Value::I32(v) => s.serialize_i32(*v),
            Value::Bool(v) => s.serialize_bool(*v),
            Value::U16s(v) | Value::Architectures(v) => s.collect_seq(v),
            Value::Text(t) => s.serialize_str(&String::from_utf8_lossy(t)),
            Value::MessageType(t) => s.serialize_str(&t.name()),
            Value::Codes(c) | Value::Algorithms(c) => s.collect_seq(c),
            Value::Overload(v) => s.serialize_u8(*v),
            Value::ClientIdHw { htype, addr } => {
                let mut m = s.serialize_map(Some(2))?;
                m.serialize_entry("htype", htype)?;
                m.serialize_entry("address", &colon_hex(addr))?;
                m.end()
            }
            Value::ClientIdDuid { iaid, duid } => {
                let mut m = s.serialize_map(Some(3))?;
                m.serialize_entry("type", &255)?;
                m.serialize_entry("iaid", iaid)?;
                m.serialize_entry("duid", &hex(duid))?;
                m.end()
            }
            Value::ClientIdOther { kind, id } => {
                let mut m = s.serialize_map(Some(2))?;
                m.serialize_entry("type", kind)?;
                m.serialize_entry("id", &hex(id))?;
                m.end()
            }
            Value::Fqdn {
                flags,
                rcode1,
                rcode2,
                name,
            } => {
                let mut m = s.serialize_map(Some(4))?;
                m.serialize_entry("flags", flags)?;
                m.serialize_entry("rcode1", rcode1)?;
                m.serialize_entry("rcode2", rcode2)?;
                m.serialize_entry("name", &String::from_utf8_lossy(name))?;
                m.end()
            }
            Value::SubOptions(subs) => {
                let mut seq = s.serialize_seq(Some(subs.len()))?;
                for sub in subs {
                    seq.serialize_element(&SubJson(sub))?;
                }
                seq.end()
            }
            Value::Routes(r) => s.collect_seq(r.iter().map(|r| {
                [
                    format!("{}/{}", r.destination, r.prefix_len),
                    r.router.to_string(),
                ]
            })),
            Value::Domains(d) => s.collect_seq(d.iter().map(|n| String::from_utf8_lossy(n))),
            Value::Enterprises(e) => {
                let mut seq = s.serialize_seq(Some(e.len()))?;
                for x in e {
                    seq.serialize_element(&EnterpriseJson(x))?;
                }
                seq.end()
            }
            Value::Uuid { kind, id } => {
                let mut m = s.serialize_map(Some(2))?;
                m.serialize_entry("type", kind)?;
                m.serialize_entry("id", &guid(id))?;
                m.end()
            }
            Value::Ndi { kind, major, minor } => {
                let mut m = s.serialize_map(Some(3))?;
                m.serialize_entry("type", kind)?;
                m.serialize_entry("major", major)?;
                m.serialize_entry("minor", minor)?;
                m.end()
            }
            Value::Auth {
                protocol,
                algorithm,
                rdm,
                replay,
                info,
            } => {
                let mut m = s.serialize_map(Some(5))?;
                m.serialize_entry("protocol", protocol)?;
                m.serialize_entry("algorithm", algorithm)?;
                m.serialize_entry("rdm", rdm)?;
                m.serialize_entry("replay", replay)?;
                m.serialize_entry("info", &hex(info))?;
                m.end()
            }
            Value::UserClasses(c) => s.collect_seq(c.iter().map(|c| String::from_utf8_lossy(c))),
            Value::Bytes(b) => s.serialize_str(&hex(b)),
            Value::Invalid { reason, data } => {
                let mut m = s.serialize_map(Some(2))?;
                m.serialize_entry("invalid", reason)?;
                m.serialize_entry("data", &hex(data))?;
                m.end()
            }
        }
    }
}

struct SubJson<'v, 'a>(&'v SubOption<'a>);

impl Serialize for SubJson<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(3))?;
        m.serialize_entry("code", &self.0.code)?;
        m.serialize_entry("name", &self.0.name)?;
        m.serialize_entry("value", &self.0.value)?;
        m.end()
    }
}

struct EnterpriseJson<'v, 'a>(&'v EnterpriseData<'a>);

impl Serialize for EnterpriseJson<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("enterprise", &self.0.enterprise)?;
        m.serialize_entry("value", &self.0.value)?;
        m.end()
    }
}

#[cfg(test)]
mod tests {
    use super::Duration;

    /// Option 43 as dnsmasq 2.90 sent it to iPXE with a boot menu item of
    /// type 1 and no server for it, and as iPXE then asked for that item
    /// by broadcast (the lab's capture).
    #[test]
    fn pxe_sub_options_are_found_in_real_option_43_values() {
        let offer = b"\x06\x01\x02\x09\x15\x00\x01\x12Find a boot server\x0a\x08\x00Booting\xff";
        assert_eq!(super::sub_option(offer, 6), Some(&[2u8][..]));
        assert_eq!(super::sub_option(offer, 10), Some(&b"\x00Booting"[..]));
        assert_eq!(super::pxe_boot_item(offer), None);
        let request = [0x47, 0x04, 0x00, 0x01, 0x00, 0x00, 0xff];
        assert_eq!(super::pxe_boot_item(&request), Some((1, 0)));
        // Pads before it; nothing after the end; a cut value; a wrong length.
        assert_eq!(
            super::pxe_boot_item(&[0, 0, 0x47, 4, 0x80, 0, 0, 1]),
            Some((0x8000, 1))
        );
        assert_eq!(super::pxe_boot_item(&[0xff, 0x47, 4, 0, 1, 0, 0]), None);
        assert_eq!(super::pxe_boot_item(&[0x06, 1, 3, 0x47, 4, 0, 1, 0]), None);
        assert_eq!(super::pxe_boot_item(&[0x47, 2, 0, 1]), None);
        assert_eq!(super::sub_option(&[0x06, 9, 1], 71), None);
    }

    #[test]
    fn escape_keeps_printable_ascii_and_writes_every_other_byte_in_hex() {
        fn reference(b: &[u8]) -> String {
            b.iter()
                .map(|&c| match c {
                    0x20..=0x7e if c != b'\\' && c != b'"' => char::from(c).to_string(),
                    _ => format!("\\x{c:02x}"),
                })
                .collect()
        }
        assert_eq!(super::escape(b""), "");
        assert_eq!(super::escape(b"pxelinux.0"), "pxelinux.0");
        assert_eq!(
            super::escape("a\\b\0\x7f\u{e9}".as_bytes()),
            "a\\x5cb\\x00\\x7f\\xc3\\xa9"
        );
        assert_eq!(super::escape(b"say \"hi\""), "say \\x22hi\\x22");
        for c in 0..=255u8 {
            for v in [
                vec![c],
                vec![b'a', c, b'z'],
                b"PXEClient:Arch:00000:UNDI:002001"
                    .iter()
                    .copied()
                    .chain([c])
                    .collect(),
            ] {
                assert_eq!(super::escape(&v), reference(&v), "{v:?}");
            }
        }
    }

    #[test]
    fn durations_read_as_days_hours_minutes_seconds() {
        // What it was written as first: `write!` per unit.
        fn reference(s: u32) -> String {
            if s == u32::MAX {
                return "infinite".into();
            }
            let (d, h, m, sec) = (s / 86400, s / 3600 % 24, s / 60 % 60, s % 60);
            let mut out = String::new();
            for (v, u) in [(d, "d"), (h, "h"), (m, "m"), (sec, "s")] {
                if v > 0 || (out.is_empty() && u == "s") {
                    out.push_str(&format!("{v}{u}"));
                }
            }
            out
        }
        let mut cases = vec![
            0, 1, 9, 10, 59, 60, 61, 3599, 3600, 3661, 86399, 86400, 90061,
        ];
        cases.extend([28800, 43200, 604800, 999_999_999, u32::MAX - 1, u32::MAX]);
        cases.extend((0..2000u32).map(|i| i.wrapping_mul(2_654_435_761)));
        for s in cases {
            assert_eq!(Duration(s).to_string(), reference(s), "{s}");
        }
        assert_eq!(Duration(90061).to_string(), "1d1h1m1s");
        assert_eq!(Duration(u32::MAX - 1).to_string(), "49710d6h28m14s");
    }
}
