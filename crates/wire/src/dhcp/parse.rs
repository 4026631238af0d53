//! Option values from text, typed by the table: the inverse of
//! [`super::value`], for people crafting packets (`--option 60=PXEClient`).
//!
//! Any value may be given as raw bytes with `hex:` or `0x` (`hex:0104c0a80001`,
//! colons allowed). Otherwise the option's [`Kind`] decides: addresses
//! (`10.0.0.1`, lists with commas), numbers, `true`/`false`, text as is, code
//! lists (`1,3,6` or names), classless routes (`10.0.0.0/8 via 10.0.0.1, …`),
//! domain lists (`a.example,b.example`), client identifiers
//! (`hw:aa:bb:cc:dd:ee:ff`, `duid:…`, or hex), relay agent sub-options
//! (`circuit-id=eth0,remote-id=0x0102`).

use std::net::Ipv4Addr;

use super::table::{self, Kind, TABLE};
use super::MessageType;

/// An option code from a number or a table name (`60`, `vendor-class-identifier`).
pub fn code(s: &str) -> Result<u8, String> {
    if let Ok(n) = s.parse::<u8>() {
        return Ok(n);
    }
    TABLE
        .iter()
        .find(|o| o.name.eq_ignore_ascii_case(s))
        .map(|o| o.code)
        .ok_or_else(|| format!("{s:?} is neither an option number (0-255) nor a known option name"))
}

/// Raw bytes from `hex:…`/`0x…` (colons, dashes and spaces ignored).
pub fn hex(s: &str) -> Option<Result<Vec<u8>, String>> {
    let body = s.strip_prefix("hex:").or_else(|| s.strip_prefix("0x"))?;
    // Digit by digit: any other character (one outside ASCII included) is
    // an error, never a cut through the middle of it.
    let digits: Option<Vec<u8>> = body
        .chars()
        .filter(|c| !matches!(c, ':' | '-' | ' '))
        .map(|c| c.to_digit(16).map(|d| d as u8))
        .collect();
    let Some(digits) = digits else {
        return Some(Err(format!("{s:?} is not hex")));
    };
    if digits.len() % 2 != 0 {
        return Some(Err(format!("{s:?}: odd number of hex digits")));
    }
    Some(Ok(digits.chunks(2).map(|p| p[0] << 4 | p[1]).collect()))
}

fn ip(s: &str) -> Result<Ipv4Addr, String> {
    s.trim()
        .parse()
        .map_err(|_| format!("{s:?} is not an IPv4 address"))
}

fn list(s: &str) -> impl Iterator<Item = &str> {
    s.split(',').map(str::trim).filter(|x| !x.is_empty())
}

fn int<T: std::str::FromStr>(s: &str, what: &str) -> Result<T, String> {
    s.trim().parse().map_err(|_| format!("{s:?} is not {what}"))
}

/// Encodes names as RFC 1035 labels, without compression.
pub fn dns_names(names: &[&str]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    for n in names {
        let start = out.len();
        for label in n.trim_end_matches('.').split('.') {
            if label.is_empty() || label.len() > 63 {
                return Err(format!("{n:?}: labels must be 1 to 63 characters"));
            }
            out.push(label.len() as u8);
            out.extend_from_slice(label.as_bytes());
        }
        out.push(0);
        if out.len() - start > 255 {
            return Err(format!(
                "{n:?}: a name is at most 255 bytes encoded (RFC 1035)"
            ));
        }
    }
    Ok(out)
}

/// Encodes a value for option `code` from text.
pub fn value(code: u8, s: &str) -> Result<Vec<u8>, String> {
    if let Some(h) = hex(s) {
        return h;
    }
    let Some(spec) = table::spec(code) else {
        return Ok(s.as_bytes().to_vec());
    };
    let v = encode(spec.kind, s).map_err(|e| format!("option {code} ({}): {e}", spec.name))?;
    spec.kind
        .check_length(v.len())
        .map_err(|e| format!("option {code} ({}): {e}", spec.name))?;
    Ok(v)
}

fn encode(kind: Kind, s: &str) -> Result<Vec<u8>, String> {
    Ok(match kind {
        Kind::Empty => Vec::new(),
        Kind::Ip => ip(s)?.octets().to_vec(),
        Kind::Ips | Kind::IpsOrNone => list(s)
            .map(ip)
            .collect::<Result<Vec<_>, _>>()?
            .iter()
            .flat_map(|a| a.octets())
            .collect(),
        Kind::IpPairs => {
            let mut out = Vec::new();
            for pair in list(s) {
                let (a, b) = pair
                    .split_once(['/', ' '])
                    .ok_or_else(|| format!("{pair:?}: expected ADDRESS/ADDRESS"))?;
                out.extend_from_slice(&ip(a)?.octets());
                out.extend_from_slice(&ip(b)?.octets());
            }
            out
        }
        Kind::U8 => vec![int::<u8>(s, "a number from 0 to 255")?],
        Kind::U16 => int::<u16>(s, "a number from 0 to 65535")?
            .to_be_bytes()
            .to_vec(),
        Kind::U32 | Kind::Seconds => {
            let v = if s.trim() == "infinite" {
                u32::MAX
            } else {
                int::<u32>(s, "a 32-bit number")?
            };
            v.to_be_bytes().to_vec()
        }
        Kind::I32 => int::<i32>(s, "a signed 32-bit number")?
            .to_be_bytes()
            .to_vec(),
        Kind::Bool => match s.trim() {
            "1" | "true" | "on" | "yes" => vec![1],
            "0" | "false" | "off" | "no" => vec![0],
            _ => return Err(format!("{s:?} is not true or false")),
        },
        Kind::U16s | Kind::Architectures => list(s)
            .map(|x| int::<u16>(x, "a number from 0 to 65535"))
            .collect::<Result<Vec<_>, _>>()?
            .iter()
            .flat_map(|v| v.to_be_bytes())
            .collect(),
        Kind::Text | Kind::UserClass | Kind::VendorSpecific | Kind::Bytes | Kind::Encapsulated => {
            s.as_bytes().to_vec()
        }
        Kind::MessageType => vec![message_type(s)?],
        Kind::Codes => list(s).map(code).collect::<Result<Vec<_>, _>>()?,
        Kind::Algorithms => list(s)
            .map(|x| int::<u8>(x, "a number from 0 to 255"))
            .collect::<Result<Vec<_>, _>>()?,
        Kind::Overload => match int::<u8>(s, "1, 2 or 3")? {
            v @ 1..=3 => vec![v],
            v => return Err(format!("{v} is not 1 (file), 2 (sname) or 3 (both)")),
        },

        Kind::ClientId => {
            if let Some(mac) = s.strip_prefix("hw:") {
                let mut v = vec![1];
                v.extend(hex(&format!("hex:{mac}")).unwrap_or_else(|| Err("bad MAC".into()))?);
                v
            } else if let Some(duid) = s.strip_prefix("duid:") {
                let mut v = vec![255, 0, 0, 0, 0];
                v.extend(hex(&format!("hex:{duid}")).unwrap_or_else(|| Err("bad DUID".into()))?);
                v
            } else {
                // Plain text identifier (type 0).
                let mut v = vec![0];
                v.extend_from_slice(s.as_bytes());
                v
            }
        }
        Kind::Fqdn => {
            // "name" (ASCII, flags S) or "FLAGS,name".
            let (flags, name) = match s.split_once(',') {
                Some((f, n)) if f.trim().parse::<u8>().is_ok() => {
                    (int::<u8>(f, "flags")?, n.trim())
                }
                _ => (0x01, s.trim()),
            };
            let mut v = vec![flags, 0, 0];
            if flags & 0x04 != 0 {
                v.extend(dns_names(&[name])?);
            } else {
                v.extend_from_slice(name.as_bytes());
            }
            v
        }
        Kind::RelayAgent => {
            let mut v = Vec::new();
            for part in list(s) {
                let (k, val) = part
                    .split_once('=')
                    .ok_or_else(|| format!("{part:?}: expected NAME=VALUE"))?;
                let sub: u8 = match k.trim() {
                    "circuit-id" => 1,
                    "remote-id" => 2,
                    "link-selection" => 5,
                    "subscriber-id" => 6,
                    "server-id-override" => 11,
                    n => match int(n, "a sub-option name or number")? {
                        // 0 and 255 read as PAD and END.
                        0 | 255 => return Err(format!("{n:?}: sub-options are 1 to 254")),
                        n => n,
                    },
                };
                let data = match (sub, hex(val.trim())) {
                    (_, Some(h)) => h?,
                    (5 | 11, None) => ip(val)?.octets().to_vec(),
                    (_, None) => val.trim().as_bytes().to_vec(),
                };
                if data.len() > 255 {
                    return Err(format!("sub-option {sub} is longer than 255 bytes"));
                }
                v.push(sub);
                v.push(data.len() as u8);
                v.extend(data);
            }
            v
        }
        Kind::ClasslessRoutes => {
            let mut v = Vec::new();
            for route in list(s) {
                let (net, via) = route
                    .split_once(" via ")
                    .ok_or_else(|| format!("{route:?}: expected NET/LEN via ROUTER"))?;
                let (addr, len) = net
                    .trim()
                    .split_once('/')
                    .ok_or_else(|| format!("{net:?}: expected NET/LEN"))?;
                let len: u8 = int(len, "a prefix length")?;
                if len > 32 {
                    return Err(format!("prefix length {len} exceeds 32"));
                }
                v.push(len);
                v.extend_from_slice(&ip(addr)?.octets()[..usize::from(len).div_ceil(8)]);
                v.extend_from_slice(&ip(via)?.octets());
            }
            v
        }
        Kind::Domains => dns_names(&list(s).collect::<Vec<_>>())?,
        Kind::SipServers if list(s).next().is_none() => {
            return Err("expected server addresses or names".into());
        }
        Kind::SipServers => match list(s).map(ip).collect::<Result<Vec<_>, _>>() {
            Ok(addrs) => std::iter::once(1)
                .chain(addrs.iter().flat_map(|a| a.octets()))
                .collect(),
            Err(_) => std::iter::once(0)
                .chain(dns_names(&list(s).collect::<Vec<_>>())?)
                .collect(),
        },
        Kind::Uuid => {
            let digits: String = s.chars().filter(|c| c.is_ascii_hexdigit()).collect();
            let mut v = vec![0];
            v.extend(hex(&format!("hex:{digits}")).unwrap_or_else(|| Err("bad GUID".into()))?);
            v
        }
        Kind::Ndi => {
            let v: Vec<u8> = list(s)
                .map(|x| int::<u8>(x, "a byte"))
                .collect::<Result<_, _>>()?;
            v
        }
        Kind::Auth | Kind::ViVendorClass | Kind::ViVendorSpecific => {
            return Err("give this option as hex (hex:…)".into());
        }
    })
}

/// A message type from its name (`discover`, `DHCPDISCOVER`) or number.
pub fn message_type(s: &str) -> Result<u8, String> {
    if let Ok(n) = s.parse::<u8>() {
        return Ok(n);
    }
    let up = s.trim().to_ascii_uppercase();
    let up = up.strip_prefix("DHCP").unwrap_or(&up);
    (1..=18u8)
        .find(|t| MessageType::from(*t).name().trim_start_matches("DHCP") == up)
        .ok_or_else(|| format!("{s:?} is not a DHCP message type"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dhcp::value::{decode_slice, Context};

    fn round(code: u8, s: &str) -> String {
        let v = value(code, s).unwrap();
        decode_slice(code, &v, &Context::default()).to_string()
    }

    #[test]
    fn typed_values_round_trip_through_the_decoder() {
        assert_eq!(
            round(60, "PXEClient:Arch:00000"),
            "\"PXEClient:Arch:00000\""
        );
        assert_eq!(round(3, "10.0.0.1, 10.0.0.2"), "10.0.0.1, 10.0.0.2");
        assert_eq!(round(51, "3600"), "3600s (1h)");
        assert_eq!(
            round(55, "1,3,router,dhcp-message-type"),
            "1 subnet-mask, 3 router, 3 router, 53 dhcp-message-type"
        );
        assert_eq!(round(53, "request"), "DHCPREQUEST");
        assert_eq!(
            round(121, "0.0.0.0/0 via 10.0.0.1, 10.1.0.0/16 via 10.0.0.2"),
            "0.0.0.0/0 via 10.0.0.1, 10.1.0.0/16 via 10.0.0.2"
        );
        assert_eq!(round(119, "eng.example,example"), "eng.example, example");
        assert_eq!(
            round(61, "hw:00:0b:82:01:fc:42"),
            "hardware type 1, 00:0b:82:01:fc:42"
        );
        assert_eq!(
            round(82, "circuit-id=eth0,remote-id=0xabcd"),
            "1(circuit-id)=\"eth0\"; 2(remote-id)=0xabcd"
        );
        assert_eq!(
            round(81, "5,host.example"),
            "\"host.example\" flags 0x05 (SE) rcode 0/0"
        );
        assert_eq!(round(93, "7"), "7 (x64 UEFI)");
        assert_eq!(round(12, "hex:6869"), "\"hi\"");
    }

    #[test]
    fn errors_name_the_option() {
        assert!(value(54, "10.0.0")
            .unwrap_err()
            .contains("server-identifier"));
        assert!(value(1, "1.2.3.4,5.6.7.8")
            .unwrap_err()
            .contains("subnet-mask"));
        assert!(value(57, "70000").unwrap_err().contains("0 to 65535"));

        assert!(code("no-such-option").is_err());
        assert_eq!(code("vendor-class-identifier"), Ok(60));
        assert!(hex("0x123").unwrap().is_err());
    }

    /// Typed text never makes a value the decoder calls invalid (each case
    /// found by the option_text fuzz target); raw bytes still can, as hex.
    #[test]
    fn typed_text_gives_values_the_decoder_reads() {
        // An empty list would be encoding byte 1 alone.
        assert!(value(120, "").unwrap_err().contains("sip-server"));
        assert!(value(120, " , ").is_err());
        assert_eq!(value(52, "3"), Ok(vec![3]));
        assert!(value(52, "6").unwrap_err().contains("option-overload"));
        assert!(value(82, "0=x").is_err());
        assert!(value(82, "255=x").is_err());
        assert_eq!(value(82, "254=x"), Ok(vec![254, 1, b'x']));
        // 4 labels of 62 bytes: 253 bytes encoded; a fifth label is too many.
        let long = vec!["a".repeat(62); 4].join(".");
        assert_eq!(dns_names(&[&long]).map(|v| v.len()), Ok(253));
        assert!(dns_names(&[&format!("{long}.bc")]).is_err());
        assert!(value(81, &format!("5,{long}.bc")).is_err());
        assert_eq!(value(52, "hex:06"), Ok(vec![6]));
    }

    #[test]
    fn hex_takes_digits_and_separators_only() {
        assert_eq!(hex("hex:01:0a-FF 7c"), Some(Ok(vec![1, 10, 255, 124])));
        assert_eq!(hex("0x"), Some(Ok(vec![])));
        assert_eq!(hex("60"), None);
        // A character outside ASCII is an error, not a panic (it used to
        // cut `aéb` inside `é`).
        for bad in ["hex:aéb", "0xé0", "hex:0g", "hex:+1", "0x٣٣"] {
            assert!(hex(bad).unwrap().is_err(), "{bad}");
            assert!(value(60, bad).is_err(), "{bad}");
        }
    }
}
