//! Framings: how a line wraps the program's message. Detected per line.
//!
//! | [`Framing`]   | Example                                                                      |
//! |---------------|------------------------------------------------------------------------------|
//! | `Plain`       | `DHCPDISCOVER from 02:00:00:00:0b:01 via s0` (`dhcpd -d`, dhclient, `udhcpc: ...`) |
//! | `KeaFile`     | `2026-11-22 04:05:39.166 INFO  [kea-dhcp4.leases/1234.1401] DHCP4_LEASE_ALLOC ...` |
//! | `Rfc3164`     | `Nov 22 04:12:14 vm daemon.info dhcpd[29275]: ...`, dnsmasq's own file `Nov 22 04:06:24 dnsmasq-dhcp[18505]: ...`, `journalctl -o short`, OpenWrt `Thu Nov 22 10:00:00 2026 daemon.info ...` |
//! | `Rfc5424`     | `<30>1 2026-11-22T04:12:29.030107+00:00 vm dhcpd 4242 - [sd] ...`           |
//! | `Iso8601`     | `journalctl -o short-iso`/`short-iso-precise`, rsyslog RFC 3339: `2026-11-22T04:12:21+0000 vm dhcpd[29658]: ...` |
//! | `JournalJson` | `journalctl -o json`: `{"MESSAGE": ..., "__REALTIME_TIMESTAMP": ..., "SYSLOG_IDENTIFIER": ..., "_PID": ...}` |
//!
//! After a syslog-style stamp come, in order and each optional: a host, a
//! `facility.priority` (busybox syslogd, OpenWrt logread), and the tag `prog[pid]:`.

use std::borrow::Cow;

use serde::Serialize;

use crate::time::{days_from_civil, utc_ns, Stamp};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Framing {
    Plain,
    KeaFile,
    Rfc3164,
    Rfc5424,
    Iso8601,
    JournalJson,
}

/// A line split into its framing and the program's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Framed<'a> {
    pub framing: Framing,
    pub stamp: Stamp,
    pub host: Option<Cow<'a, str>>,
    /// The syslog tag (`SYSLOG_IDENTIFIER`), without `[pid]`.
    pub tag: Option<Cow<'a, str>>,
    pub pid: Option<u32>,
    pub message: Cow<'a, str>,
}

impl<'a> Framed<'a> {
    fn plain(message: &'a str) -> Framed<'a> {
        Framed {
            framing: Framing::Plain,
            stamp: Stamp::None,
            host: None,
            tag: None,
            pid: None,
            message: Cow::Borrowed(message),
        }
    }
}

/// Splits `line` (no newline) into framing and message. Never fails: what matches
/// no framing is `Plain`.
pub(crate) fn frame(line: &str) -> Framed<'_> {
    let b = line.as_bytes();
    match b.first() {
        Some(b'{') => journal_json(line).unwrap_or_else(|| Framed::plain(line)),
        Some(b'<') => syslog_pri(line).unwrap_or_else(|| Framed::plain(line)),
        Some(c) if c.is_ascii_digit() => iso_or_kea(line).unwrap_or_else(|| Framed::plain(line)),
        Some(c) if c.is_ascii_uppercase() => rfc3164(line, Framing::Rfc3164)
            .or_else(|| ctime(line))
            .unwrap_or_else(|| Framed::plain(line)),
        _ => Framed::plain(line),
    }
}

// ---------------------------------------------------------------- journald JSON

fn journal_json(line: &str) -> Option<Framed<'_>> {
    let v: serde_json::Value = serde_json::from_str(line).ok()?;
    let o = v.as_object()?;
    let message = json_text(o.get("MESSAGE")?)?;
    let stamp = o
        .get("__REALTIME_TIMESTAMP")
        .and_then(json_text)
        .and_then(|s| s.trim().parse::<i64>().ok())
        .and_then(|us| us.checked_mul(1000))
        .map_or(Stamp::None, Stamp::Exact);
    let tag = o
        .get("SYSLOG_IDENTIFIER")
        .or_else(|| o.get("_COMM"))
        .and_then(json_text);
    let pid = o
        .get("_PID")
        .or_else(|| o.get("SYSLOG_PID"))
        .and_then(json_text)
        .and_then(|s| s.trim().parse().ok());
    let host = o.get("_HOSTNAME").and_then(json_text);
    Some(Framed {
        framing: Framing::JournalJson,
        stamp,
        host: host.map(Cow::Owned),
        tag: tag.map(Cow::Owned),
        pid,
        message: Cow::Owned(message),
    })
}

/// A journald field: a string, an array of bytes (non-UTF-8 or binary data), or an
/// array of values (a field repeated; the first is taken).
fn json_text(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Array(a) if a.iter().all(|x| x.is_u64()) => {
            let bytes: Vec<u8> = a
                .iter()
                .filter_map(|x| x.as_u64())
                .map(|x| x.min(255) as u8)
                .collect();
            Some(String::from_utf8_lossy(&bytes).into_owned())
        }
        serde_json::Value::Array(a) => a.first().and_then(json_text),
        _ => None,
    }
}

// ---------------------------------------------------------------- syslog with <PRI>

fn syslog_pri(line: &str) -> Option<Framed<'_>> {
    let close = line.get(..6)?.find('>').or_else(|| line.find('>'))?;
    let pri = line.get(1..close)?;
    if pri.is_empty() || pri.len() > 3 || !pri.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let rest = &line[close + 1..];
    if let Some(r) = rest.strip_prefix("1 ") {
        return rfc5424(r);
    }
    rfc3164(rest, Framing::Rfc3164).or_else(|| ctime(rest))
}

fn rfc5424(rest: &str) -> Option<Framed<'_>> {
    let (ts, rest) = rest.split_once(' ')?;
    let (host, rest) = rest.split_once(' ')?;
    let (app, rest) = rest.split_once(' ')?;
    let (procid, rest) = rest.split_once(' ')?;
    let (_msgid, rest) = rest.split_once(' ').unwrap_or((rest, ""));
    let msg = skip_structured_data(rest)?;
    let msg = msg.strip_prefix('\u{feff}').unwrap_or(msg);
    let stamp = if ts == "-" {
        Stamp::None
    } else {
        iso_stamp(ts)?.0
    };
    fn nil(s: &str) -> Option<&str> {
        (s != "-").then_some(s)
    }
    Some(Framed {
        framing: Framing::Rfc5424,
        stamp,
        host: nil(host).map(Cow::Borrowed),
        tag: nil(app).map(Cow::Borrowed),
        pid: nil(procid).and_then(|p| p.parse().ok()),
        message: Cow::Borrowed(msg),
    })
}

/// Skips `-` or `[id k="v" ...][...]` and the space after it; returns the message.
fn skip_structured_data(s: &str) -> Option<&str> {
    if let Some(r) = s.strip_prefix('-') {
        return Some(r.strip_prefix(' ').unwrap_or(r));
    }
    let b = s.as_bytes();
    let mut i = 0;
    while b.get(i) == Some(&b'[') {
        let mut in_quotes = false;
        i += 1;
        loop {
            match *b.get(i)? {
                b'\\' if in_quotes => i += 1,
                b'"' => in_quotes = !in_quotes,
                b']' if !in_quotes => break,
                _ => {}
            }
            i += 1;
        }
        i += 1;
    }
    if i == 0 {
        return None;
    }
    let r = s.get(i..)?;
    Some(r.strip_prefix(' ').unwrap_or(r))
}

// ---------------------------------------------------------------- ISO 8601 and Kea files

fn iso_or_kea(line: &str) -> Option<Framed<'_>> {
    let b = line.as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    match b[10] {
        b'T' => {
            let (ts, rest) = line.split_once(' ')?;
            let (stamp, _) = iso_stamp(ts)?;
            let mut f = header(rest);
            f.framing = Framing::Iso8601;
            f.stamp = stamp;
            Some(f)
        }
        b' ' => kea_file(line),
        _ => None,
    }
}

/// `2026-11-22 04:05:39.166 DEBUG [kea-dhcp4.alloc-engine/15500.139661796479488] MSG`
fn kea_file(line: &str) -> Option<Framed<'_>> {
    let (y, mo, d) = ymd(line.get(..10)?)?;
    let rest = line.get(11..)?;
    let (clock, rest) = rest.split_once(' ')?;
    let (secs_of_day, nanos) = hms(clock)?;
    let rest = rest.trim_start_matches(' ');
    let (sev, rest) = rest.split_once(' ')?;
    if !matches!(sev, "FATAL" | "ERROR" | "WARN" | "INFO" | "DEBUG") {
        return None;
    }
    let rest = rest.trim_start_matches(' ').strip_prefix('[')?;
    let (logger, msg) = rest
        .split_once("] ")
        .or_else(|| rest.strip_suffix(']').map(|l| (l, "")))?;
    let (name, pid) = match logger.split_once('/') {
        Some((name, p)) => (name, p.split('.').next().and_then(|p| p.parse().ok())),
        None => (logger, None),
    };
    let tag = name.split('.').next().unwrap_or(name);
    Some(Framed {
        framing: Framing::KeaFile,
        stamp: Stamp::Local {
            year: Some(y),
            month: mo,
            day: d,
            secs_of_day,
            nanos,
        },
        host: None,
        tag: Some(Cow::Borrowed(tag)),
        pid,
        message: Cow::Borrowed(msg),
    })
}

/// `2026-11-22T04:12:21+0000`, `...21.030107+00:00`, `...Z`, or without a zone.
fn iso_stamp(ts: &str) -> Option<(Stamp, bool)> {
    let (y, mo, d) = ymd(ts.get(..10)?)?;
    if ts.as_bytes().get(10) != Some(&b'T') {
        return None;
    }
    let t = ts.get(11..)?;
    let zone_at = t.find(['Z', 'z', '+', '-']);
    let (clock, zone) = match zone_at {
        Some(i) => (&t[..i], Some(&t[i..])),
        None => (t, None),
    };
    let (secs_of_day, nanos) = hms(clock)?;
    match zone {
        None => Some((
            Stamp::Local {
                year: Some(y),
                month: mo,
                day: d,
                secs_of_day,
                nanos,
            },
            false,
        )),
        Some(z) => {
            let off = zone_offset(z)?;
            Some((
                Stamp::Exact(utc_ns(y, mo, d, secs_of_day, nanos, off)?),
                true,
            ))
        }
    }
}

fn zone_offset(z: &str) -> Option<i32> {
    if z.eq_ignore_ascii_case("z") {
        return Some(0);
    }
    let sign = match z.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let digits: String = z[1..].chars().filter(|c| *c != ':').collect();
    if !digits.bytes().all(|c| c.is_ascii_digit()) || !matches!(digits.len(), 2 | 4) {
        return None;
    }
    let h: i32 = digits[..2].parse().ok()?;
    let m: i32 = if digits.len() == 4 {
        digits[2..].parse().ok()?
    } else {
        0
    };
    if h > 23 || m > 59 {
        return None;
    }
    Some(sign * (h * 3600 + m * 60))
}

fn ymd(s: &str) -> Option<(i32, u32, u32)> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let y = digits(&s[..4])? as i32;
    let mo = digits(&s[5..7])?;
    let d = digits(&s[8..10])?;
    days_from_civil(y, mo, d)?;
    Some((y, mo, d))
}

/// `HH:MM:SS` with an optional `.fraction`; (seconds of day, nanoseconds).
fn hms(s: &str) -> Option<(u32, u32)> {
    let (clock, frac) = match s.split_once(['.', ',']) {
        Some((c, f)) => (c, Some(f)),
        None => (s, None),
    };
    let b = clock.as_bytes();
    if b.len() != 8 || b[2] != b':' || b[5] != b':' {
        return None;
    }
    let h = digits(&clock[..2])?;
    let m = digits(&clock[3..5])?;
    let sec = digits(&clock[6..8])?;
    if h > 23 || m > 59 || sec > 60 {
        return None;
    }
    let nanos = match frac {
        None => 0,
        Some(f) if !f.is_empty() && f.len() <= 9 => digits(f)? * 10u32.pow(9 - f.len() as u32),
        Some(_) => return None,
    };
    Some((h * 3600 + m * 60 + sec.min(59), nanos))
}

fn digits(s: &str) -> Option<u32> {
    if s.is_empty() || s.len() > 9 || !s.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

// ---------------------------------------------------------------- RFC 3164

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

fn month(s: &str) -> Option<u32> {
    MONTHS.iter().position(|m| *m == s).map(|i| i as u32 + 1)
}

/// `Nov 22 04:12:14 ` (day space-padded or not, optional fraction), then the header.
fn rfc3164(line: &str, framing: Framing) -> Option<Framed<'_>> {
    let mo = month(line.get(..3)?)?;
    let rest = line.get(3..)?.strip_prefix(' ')?;
    let rest = rest.strip_prefix(' ').unwrap_or(rest);
    let (day, rest) = rest.split_once(' ')?;
    let d = digits(day).filter(|d| (1..=31).contains(d))?;
    let (clock, rest) = rest.split_once(' ').unwrap_or((rest, ""));
    let (secs_of_day, nanos) = hms(clock)?;
    let mut f = header(rest);
    f.framing = framing;
    f.stamp = Stamp::Local {
        year: None,
        month: mo,
        day: d,
        secs_of_day,
        nanos,
    };
    Some(f)
}

/// ctime with the year, as OpenWrt's logread writes: `Thu Nov 22 10:00:00 2026 ...`.
fn ctime(line: &str) -> Option<Framed<'_>> {
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    if !DAYS.contains(&line.get(..3)?) || line.as_bytes().get(3) != Some(&b' ') {
        return None;
    }
    let rest = &line[4..];
    let mo = month(rest.get(..3)?)?;
    let rest = rest.get(3..)?.trim_start_matches(' ');
    let (day, rest) = rest.split_once(' ')?;
    let d = digits(day)?;
    let (clock, rest) = rest.split_once(' ')?;
    let (secs_of_day, nanos) = hms(clock)?;
    let (year, rest) = rest.split_once(' ').unwrap_or((rest, ""));
    let y = digits(year).filter(|y| (1970..=9999).contains(y))? as i32;
    days_from_civil(y, mo, d)?;
    let mut f = header(rest);
    f.framing = Framing::Rfc3164;
    f.stamp = Stamp::Local {
        year: Some(y),
        month: mo,
        day: d,
        secs_of_day,
        nanos,
    };
    Some(f)
}

/// `[host] [facility.priority] tag[pid]: message`: the tag is the first of the first
/// three words that ends in `:`. Without one, the whole rest is the message.
fn header(rest: &str) -> Framed<'_> {
    let mut f = Framed::plain(rest);
    let mut words = Vec::with_capacity(3);
    let mut at = 0;
    for _ in 0..3 {
        let r = &rest[at..];
        let Some(w) = r.split(' ').next().filter(|w| !w.is_empty()) else {
            break;
        };
        words.push((at, w));
        at += w.len();
        if rest[at..].starts_with(' ') {
            at += 1;
        } else {
            break;
        }
    }
    for (i, &(start, w)) in words.iter().enumerate() {
        if let Some((tag, pid)) = w.strip_suffix(':').and_then(tag_and_pid) {
            f.host = (i >= 1).then(|| Cow::Borrowed(words[0].1));
            f.tag = Some(Cow::Borrowed(tag));
            f.pid = pid;
            let m = &rest[start + w.len()..];
            f.message = Cow::Borrowed(m.strip_prefix(' ').unwrap_or(m));
            return f;
        }
    }
    f
}

/// `dhcpd[123]` or `dhcpd`; `None` if it does not look like a program name.
fn tag_and_pid(w: &str) -> Option<(&str, Option<u32>)> {
    let (name, pid) = match w.split_once('[') {
        Some((n, p)) => (n, Some(p.strip_suffix(']')?.parse::<u32>().ok()?)),
        None => (w, None),
    };
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b'/'))
        && name.bytes().any(|c| c.is_ascii_alphabetic());
    ok.then_some((name, pid))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exact(f: &Framed) -> i64 {
        match f.stamp {
            Stamp::Exact(t) => t,
            s => panic!("not exact: {s:?}"),
        }
    }

    #[test]
    fn busybox_syslogd_line_with_facility() {
        let f = frame("Nov 22 04:12:14 vm daemon.info dhcpd[29275]: DHCPDISCOVER from 02:00:00:00:1f:01 via s0");
        assert_eq!(f.framing, Framing::Rfc3164);
        assert_eq!(f.host.as_deref(), Some("vm"));
        assert_eq!(f.tag.as_deref(), Some("dhcpd"));
        assert_eq!(f.pid, Some(29275));
        assert_eq!(f.message, "DHCPDISCOVER from 02:00:00:00:1f:01 via s0");
        assert_eq!(
            f.stamp,
            Stamp::Local {
                year: None,
                month: 11,
                day: 22,
                secs_of_day: 4 * 3600 + 12 * 60 + 14,
                nanos: 0
            }
        );
    }

    #[test]
    fn dnsmasq_file_line_without_host_and_padded_day() {
        let f = frame(
            "Nov  2 04:06:24 dnsmasq-dhcp[18505]: 1204524841 DHCPDISCOVER(s0) 4e:7c:09:bc:73:40 ",
        );
        assert_eq!(f.host, None);
        assert_eq!(f.tag.as_deref(), Some("dnsmasq-dhcp"));
        assert_eq!(f.message, "1204524841 DHCPDISCOVER(s0) 4e:7c:09:bc:73:40 ");
    }

    #[test]
    fn short_iso_and_rfc5424() {
        let f = frame("2026-11-22T04:12:21+0000 vm dhcpd[29658]: Server starting service.");
        assert_eq!(f.framing, Framing::Iso8601);
        assert_eq!(exact(&f), 1_795_320_741_000_000_000);
        let f = frame("2026-11-22T05:12:21.5+01:00 vm dhcpd: x");
        assert_eq!(exact(&f), 1_795_320_741_500_000_000);
        let f = frame("<30>1 2026-11-22T04:12:29.030107+00:00 vm dhcpd 4242 - [timeQuality tzKnown=\"1\" isSynced=\"0\"] DHCPDISCOVER from 02:00:00:00:0b:01 via s0");
        assert_eq!(f.framing, Framing::Rfc5424);
        assert_eq!(f.tag.as_deref(), Some("dhcpd"));
        assert_eq!(f.pid, Some(4242));
        assert_eq!(f.message, "DHCPDISCOVER from 02:00:00:00:0b:01 via s0");
        assert_eq!(exact(&f), 1_795_320_749_030_107_000);
        let f = frame("<14>1 - - - - - - hello");
        assert_eq!((f.stamp, f.message.as_ref()), (Stamp::None, "hello"));
    }

    #[test]
    fn kea_file_line() {
        let f = frame("2026-11-22 04:05:39.166 INFO  [kea-dhcp4.leases/16513.140281532142080] DHCP4_LEASE_ALLOC x");
        assert_eq!(f.framing, Framing::KeaFile);
        assert_eq!(f.tag.as_deref(), Some("kea-dhcp4"));
        assert_eq!(f.pid, Some(16513));
        assert_eq!(f.message, "DHCP4_LEASE_ALLOC x");
        assert!(matches!(
            f.stamp,
            Stamp::Local {
                year: Some(2026),
                nanos: 166_000_000,
                ..
            }
        ));
    }

    #[test]
    fn journal_json_with_byte_array_message() {
        let f = frame(
            r#"{"MESSAGE":[104,105,255],"__REALTIME_TIMESTAMP":"1795320741532166","SYSLOG_IDENTIFIER":"dhcpd","_PID":"7"}"#,
        );
        assert_eq!(f.framing, Framing::JournalJson);
        assert_eq!(f.message, "hi\u{fffd}");
        assert_eq!(f.pid, Some(7));
        assert_eq!(exact(&f), 1_795_320_741_532_166_000);
    }

    #[test]
    fn openwrt_logread_ctime_with_year() {
        let f = frame("Thu Nov 22 10:00:00 2026 daemon.info dnsmasq-dhcp[1234]: DHCPACK(br-lan) 192.168.1.5 aa:bb:cc:dd:ee:ff");
        assert_eq!(f.tag.as_deref(), Some("dnsmasq-dhcp"));
        assert!(matches!(
            f.stamp,
            Stamp::Local {
                year: Some(2026),
                month: 11,
                day: 22,
                ..
            }
        ));
        assert_eq!(f.message, "DHCPACK(br-lan) 192.168.1.5 aa:bb:cc:dd:ee:ff");
    }

    #[test]
    fn plain_lines_stay_plain() {
        for l in [
            "DHCPDISCOVER from 02:00:00:00:0b:01 via s0",
            "udhcpc: lease of 10.77.0.50 obtained from 10.77.0.1, lease time 600",
            "2026 was a year",
            "{not json",
            "<abc> hi",
            "",
        ] {
            let f = frame(l);
            assert_eq!(f.framing, Framing::Plain, "{l}");
            assert_eq!(f.message, l);
        }
    }
}
