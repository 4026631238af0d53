//! The lease file: the leases that outlive a restart (bound and declined
//! ones), one per line, rewritten whole (to a temporary file, then renamed)
//! after every change.
//!
//! ```text
//! # dhcplens serve leases: address state expires(unix s) chaddr client
//! 10.0.0.100 bound 1796648400 02:00:00:0c:02:01 010200000c0201
//! ```
//!
//! Times in the table are milliseconds on the server's monotonic clock;
//! the file holds wall-clock seconds, converted with the two clocks' "now".

use std::io::{self, BufRead, Write};
use std::net::Ipv4Addr;
use std::path::Path;

use wire::HwAddr;

use crate::leases::{ClientKey, Lease, Leases, State};

const HEADER: &str = "# dhcplens serve leases: address state expires(unix s) chaddr client";

/// Both clocks at one moment.
#[derive(Debug, Clone, Copy)]
pub struct Now {
    pub ms: u64,
    pub unix_s: u64,
}

/// Writes the leases worth keeping to `w`.
pub fn write(leases: &Leases, now: Now, w: &mut impl Write) -> io::Result<()> {
    writeln!(w, "{HEADER}")?;
    for l in leases.iter() {
        if !l.kept(now.ms) {
            continue;
        }
        let expires = now.unix_s + (l.expires_ms - now.ms).div_ceil(1000);
        // An address the ping check found in use has no client: `-`.
        let mut client: String = l.client.0.iter().map(|b| format!("{b:02x}")).collect();
        if client.is_empty() {
            client.push('-');
        }
        let chaddr = match l.chaddr.hex().as_str() {
            "" => "-".to_string(),
            h => h.to_string(),
        };
        writeln!(
            w,
            "{} {} {expires} {chaddr} {client}",
            l.address,
            l.state.name()
        )?;
    }
    Ok(())
}

/// Replaces `path` with the leases, atomically.
pub fn save(leases: &Leases, now: Now, path: &Path) -> io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".new");
    let tmp = std::path::PathBuf::from(tmp);
    let mut w = io::BufWriter::new(std::fs::File::create(&tmp)?);
    write(leases, now, &mut w)?;
    w.into_inner()
        .map_err(io::IntoInnerError::into_error)?
        .sync_all()?;
    std::fs::rename(&tmp, path)?;
    // The rename itself, on disk (best effort: not every file system lets
    // a directory be opened and synced).
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

/// The longest a lease read back may still run: a wall clock that is now
/// behind the file's (a box without a real-time clock, before NTP) must not
/// stretch leases to decades.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub bound_secs: u32,
    pub declined_secs: u32,
}

/// Reads a lease file; leases already over at `now` are left out. An error
/// names the line.
pub fn read(r: impl BufRead, now: Now, limits: Limits) -> Result<Leases, String> {
    // Declined addresses go in first: a client may hold a declined address
    // and a bound one, and the bound one is the one it is found by.
    let mut lines: Vec<(Ipv4Addr, ClientKey, HwAddr, State, u64)> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, line) in r.lines().enumerate() {
        let line = line.map_err(|e| format!("line {}: {e}", i + 1))?;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let bad = || {
            format!(
                "line {}: {line:?} is not ADDRESS STATE EXPIRES CHADDR CLIENT",
                i + 1
            )
        };
        let f: Vec<&str> = line.split_whitespace().collect();
        let [address, state, expires, chaddr, client] = f[..] else {
            return Err(bad());
        };
        let address: Ipv4Addr = address.parse().map_err(|_| bad())?;
        let state = match state {
            "bound" => State::Bound,
            "declined" => State::Declined,
            _ => return Err(bad()),
        };
        let expires: u64 = expires.parse().map_err(|_| bad())?;
        let chaddr = match chaddr {
            "-" => HwAddr::new(&[]),
            c => HwAddr::parse(c).ok_or_else(bad)?,
        };
        let client: Vec<u8> = match client {
            "-" => Vec::new(),
            c if c.len() % 2 == 0 && c.bytes().all(|b| b.is_ascii_hexdigit()) => (0..c.len())
                .step_by(2)
                .map(|j| u8::from_str_radix(&c[j..j + 2], 16).unwrap_or_default())
                .collect(),
            _ => return Err(bad()),
        };
        // A lease is a client's; its chaddr may be empty (hlen 0, as
        // InfiniBand clients send: RFC 4390 names them by option 61).
        if client.is_empty() && state != State::Declined {
            return Err(bad());
        }
        if !seen.insert(address) {
            return Err(format!("line {}: {address} is listed twice", i + 1));
        }
        if expires <= now.unix_s {
            continue;
        }
        let most = match state {
            State::Declined => limits.declined_secs,
            _ => limits.bound_secs,
        };
        let left = (expires - now.unix_s).min(u64::from(most));
        let expires_ms = now.ms.saturating_add(left.saturating_mul(1000));
        lines.push((address, ClientKey(client), chaddr, state, expires_ms));
    }
    let mut leases = Leases::default();
    lines.sort_by_key(|l| l.3 != State::Declined);
    for (address, client, chaddr, state, expires_ms) in lines {
        leases.set(address, &client, chaddr, state, expires_ms);
    }
    Ok(leases)
}

/// Reads `path`; a missing file is an empty table.
pub fn load(path: &Path, now: Now, limits: Limits) -> Result<Leases, String> {
    match std::fs::File::open(path) {
        Ok(f) => {
            read(io::BufReader::new(f), now, limits).map_err(|e| format!("{}: {e}", path.display()))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Leases::default()),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

impl Lease {
    /// Whether the file keeps it.
    pub fn kept(&self, now_ms: u64) -> bool {
        matches!(self.state, State::Bound | State::Declined) && self.holds(now_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: Limits = Limits {
        bound_secs: 3600,
        declined_secs: 600,
    };

    #[test]
    fn a_client_with_a_declined_and_a_bound_address_keeps_both_whatever_the_order() {
        let now = Now {
            ms: 0,
            unix_s: 1_000,
        };
        for text in [
            "10.0.0.101 bound 2000 02:00:00:00:00:01 01020000000001\n10.0.0.105 declined 1500 02:00:00:00:00:01 01020000000001\n",
            "10.0.0.105 declined 1500 02:00:00:00:00:01 01020000000001\n10.0.0.101 bound 2000 02:00:00:00:00:01 01020000000001\n",
        ] {
            let l = read(text.as_bytes(), now, LIMITS).unwrap();
            let kept: Vec<(Ipv4Addr, State)> = l.iter().map(|l| (l.address, l.state)).collect();
            assert_eq!(
                kept,
                [
                    (Ipv4Addr::new(10, 0, 0, 101), State::Bound),
                    (Ipv4Addr::new(10, 0, 0, 105), State::Declined)
                ],
                "{text}"
            );
            let key = ClientKey(vec![1, 2, 0, 0, 0, 0, 1]);
            assert_eq!(l.of(&key).map(|l| l.address), Some(Ipv4Addr::new(10, 0, 0, 101)));
        }
    }

    #[test]
    fn a_wall_clock_behind_the_file_does_not_stretch_leases() {
        // Written in 2026, read by a box that believes it is 1970.
        let text = "10.0.0.101 bound 1796648400 02:00:00:00:00:01 01020000000001\n10.0.0.102 declined 1796648400 - -\n";
        let l = read(text.as_bytes(), Now { ms: 7, unix_s: 60 }, LIMITS).unwrap();
        let left: Vec<u64> = l.iter().map(|l| l.expires_ms).collect();
        assert_eq!(left, [7 + 3_600_000, 7 + 600_000]);
        // The ownerless one (found in use by the ping check) is written back as read.
        let mut out = Vec::new();
        write(&l, Now { ms: 7, unix_s: 60 }, &mut out).unwrap();
        assert!(String::from_utf8(out)
            .unwrap()
            .ends_with("10.0.0.102 declined 660 - -\n"));
    }

    #[test]
    fn a_lease_of_a_client_without_a_hardware_address_reads_back() {
        // hlen 0 (IP over InfiniBand, RFC 4390): the client is named by its
        // identifier alone, and its chaddr is written as `-`.
        let mut l = Leases::default();
        let key = ClientKey(vec![0xff, 1, 2, 3, 4, 5, 6, 7]);
        let address = Ipv4Addr::new(10, 0, 0, 100);
        l.set(address, &key, HwAddr::new(&[]), State::Bound, 3_600_000);
        let now = Now {
            ms: 0,
            unix_s: 1_000,
        };
        let mut out = Vec::new();
        write(&l, now, &mut out).unwrap();
        let text = String::from_utf8(out.clone()).unwrap();
        assert!(
            text.ends_with("10.0.0.100 bound 4600 - ff01020304050607\n"),
            "{text}"
        );
        let back = read(&out[..], now, LIMITS).unwrap();
        assert_eq!(
            back.of(&key).map(|l| (l.address, l.state)),
            Some((address, State::Bound))
        );
    }

    #[test]
    fn duplicates_and_odd_hex_are_refused() {
        let now = Now { ms: 0, unix_s: 1 };
        for (text, says) in [
            (
                "10.0.0.1 bound 9 02:00:00:00:00:01 01\n10.0.0.1 bound 9 02:00:00:00:00:02 02\n",
                "line 2: 10.0.0.1 is listed twice",
            ),
            ("10.0.0.1 bound 9 02:00:00:00:00:01 +f\n", "line 1: "),
            ("10.0.0.1 bound 9 02:00:00:00:00:01 012\n", "line 1: "),
            ("10.0.0.1 bound 9 - -\n", "line 1: "),
        ] {
            let e = read(text.as_bytes(), now, LIMITS).unwrap_err();
            assert!(e.starts_with(says), "{text}: {e}");
        }
    }

    #[test]
    fn bound_and_declined_leases_survive_a_restart_on_another_clock() {
        let mut l = Leases::default();
        let hw = HwAddr::new(&[2, 0, 0, 0x0c, 2, 1]);
        let key = |b: u8| ClientKey(vec![1, 2, 0, 0, 0x0c, 2, b]);
        l.set(
            Ipv4Addr::new(10, 0, 0, 100),
            &key(1),
            hw,
            State::Bound,
            3_600_500,
        );
        l.set(
            Ipv4Addr::new(10, 0, 0, 101),
            &key(2),
            hw,
            State::Declined,
            600_000,
        );
        l.set(
            Ipv4Addr::new(10, 0, 0, 102),
            &key(3),
            hw,
            State::Offered,
            60_000,
        );
        l.set(
            Ipv4Addr::new(10, 0, 0, 103),
            &key(4),
            hw,
            State::Released,
            10,
        );
        l.set(Ipv4Addr::new(10, 0, 0, 104), &key(5), hw, State::Bound, 400);
        let mut out = Vec::new();
        let now = Now {
            ms: 500,
            unix_s: 1_796_644_800,
        };
        write(&l, now, &mut out).unwrap();
        let text = String::from_utf8(out.clone()).unwrap();
        assert_eq!(
            text,
            format!(
                "{HEADER}\n10.0.0.100 bound 1796648400 02:00:00:0c:02:01 010200000c0201\n10.0.0.101 declined 1796645400 02:00:00:0c:02:01 010200000c0202\n"
            )
        );
        // A minute later, on a new monotonic clock that starts at 0.
        let later = Now {
            ms: 0,
            unix_s: 1_796_644_860,
        };
        let back = read(&out[..], later, LIMITS).unwrap();
        let kept: Vec<(Ipv4Addr, State, u64)> = back
            .iter()
            .map(|l| (l.address, l.state, l.expires_ms))
            .collect();
        assert_eq!(
            kept,
            [
                (Ipv4Addr::new(10, 0, 0, 100), State::Bound, 3_540_000),
                (Ipv4Addr::new(10, 0, 0, 101), State::Declined, 540_000),
            ]
        );
        assert_eq!(
            back.of(&key(1)).map(|l| l.address),
            Some(Ipv4Addr::new(10, 0, 0, 100))
        );
        // After the declined one's hold, only the bound one.
        let much_later = Now {
            ms: 0,
            unix_s: 1_796_645_400,
        };
        assert_eq!(
            read(&out[..], much_later, LIMITS).unwrap().iter().count(),
            1
        );
        for bad in [
            "10.0.0.1 bound",
            "10.0.0.1 offered 1 02:00:00:00:00:01 01",
            "x bound 1 02:00:00:00:00:01 01",
            "10.0.0.1 bound 1 02:00:00:00:00:01 0g",
        ] {
            let e = read(bad.as_bytes(), later, LIMITS).unwrap_err();
            assert!(e.starts_with("line 1: "), "{e}");
        }
    }
}
