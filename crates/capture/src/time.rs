//! Timestamps: nanoseconds since the Unix epoch, shown in UTC.

use std::fmt;

/// A point in time, nanoseconds since 1970-01-01T00:00:00Z.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub fn from_secs(s: i64) -> Timestamp {
        Timestamp(s.saturating_mul(1_000_000_000))
    }

    pub fn nanos(self) -> i64 {
        self.0
    }

    /// Seconds as a float, for durations and JSON.
    pub fn secs_f64(self) -> f64 {
        self.0 as f64 / 1e9
    }

    /// Now, from the system clock.
    pub fn now() -> Timestamp {
        let d = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Timestamp(d.as_nanos() as i64)
    }

    /// `(year, month, day, hour, minute, second, nanosecond)` in UTC.
    pub fn civil(self) -> (i64, u32, u32, u32, u32, u32, u32) {
        let secs = self.0.div_euclid(1_000_000_000);
        let nanos = self.0.rem_euclid(1_000_000_000) as u32;
        let days = secs.div_euclid(86_400);
        let sod = secs.rem_euclid(86_400) as u32;
        let (y, m, d) = civil_from_days(days);
        (y, m, d, sod / 3600, sod / 60 % 60, sod % 60, nanos)
    }

    /// `HH:MM:SS.ffffff` (UTC), for compact listings.
    pub fn time_of_day(self) -> String {
        let (_, _, _, h, mi, s, ns) = self.civil();
        format!("{h:02}:{mi:02}:{s:02}.{:06}", ns / 1000)
    }

    /// Days since the epoch of a civil date (proleptic Gregorian).
    pub fn from_civil(y: i64, m: u32, d: u32, h: u32, mi: u32, s: u32, nanos: u32) -> Timestamp {
        let days = days_from_civil(y, m, d);
        Timestamp(
            (days * 86_400 + i64::from(h) * 3600 + i64::from(mi) * 60 + i64::from(s))
                * 1_000_000_000
                + i64::from(nanos),
        )
    }
}

/// Writes `v` as `n` decimal digits (zero-padded) into `out`.
fn digits(out: &mut [u8], mut v: u64) {
    for b in out.iter_mut().rev() {
        *b = b'0' + (v % 10) as u8;
        v /= 10;
    }
}

impl Timestamp {
    /// The latest (and, negated, the earliest) time a capture may carry:
    /// 2^62 - 1 ns from 1970, [`Timestamp::FIRST_DAY`] to
    /// [`Timestamp::LAST_DAY`]. Any two timestamps then differ by less than
    /// `i64::MAX`, so durations never overflow.
    pub const LIMIT: i64 = (1 << 62) - 1;

    /// The days of `-LIMIT` and `LIMIT`, for messages.
    pub const FIRST_DAY: &'static str = "1823-11-12";
    pub const LAST_DAY: &'static str = "2116-02-20";

    /// `ns` since 1970, clamped to ±[`Timestamp::LIMIT`] (a pcapng may
    /// declare any resolution and offset).
    pub fn clamped(ns: i128) -> Timestamp {
        let limit = i128::from(Timestamp::LIMIT);
        Timestamp(ns.clamp(-limit, limit) as i64)
    }

    /// RFC 3339 in UTC with microseconds, formatted without the `fmt`
    /// machinery (it is written for every transaction of a JSON report).
    /// Years outside 0..=9999 fall back to [`fmt::Display`].
    pub fn rfc3339(&self) -> Rfc3339 {
        let secs = self.0.div_euclid(1_000_000_000);
        let micros = (self.0.rem_euclid(1_000_000_000) / 1000) as u32;
        let Some(words) = seconds_text(secs) else {
            return Rfc3339 {
                buf: *b"0000-00-00T00:00:00.000000Z",
                len: 0,
                ts: *self,
            };
        };
        // Built in a 32-byte block: the second's three words of text, then
        // the fraction written over their unused end.
        let mut b = [0u8; 32];
        for (at, w) in words.into_iter().enumerate() {
            b[8 * at..8 * at + 8].copy_from_slice(&w.to_ne_bytes());
        }
        b[19] = b'.';
        pair(&mut b[20..22], micros / 10_000);
        pair(&mut b[22..24], micros / 100 % 100);
        pair(&mut b[24..26], micros % 100);
        b[26] = b'Z';
        let mut buf = [0u8; 27];
        buf.copy_from_slice(&b[..27]);
        Rfc3339 {
            buf,
            len: 27,
            ts: *self,
        }
    }
}

/// `YYYY-MM-DDTHH:MM:SS` of a second since the epoch, as the native-order
/// words of 24 bytes of text (the last five unused), `None` outside years
/// 0..=9999. The last second asked is remembered: a report writes several
/// timestamps of the same second in a row. (Words, because a cached byte
/// array was copied out byte by byte.)
fn seconds_text(secs: i64) -> Option<[u64; 3]> {
    use std::cell::Cell;
    thread_local! {
        static LAST: Cell<(i64, [u64; 3])> = const { Cell::new((i64::MIN, [0; 3])) };
    }
    LAST.with(|last| {
        let (second, words) = last.get();
        if second == secs {
            return Some(words);
        }
        let sod = secs.rem_euclid(86_400) as u32;
        let mut t = [0u8; 24];
        t[..19].copy_from_slice(b"0000-00-00T00:00:00");
        t[..10].copy_from_slice(&date_text(secs.div_euclid(86_400))?);
        pair(&mut t[11..13], sod / 3600);
        pair(&mut t[14..16], sod / 60 % 60);
        pair(&mut t[17..19], sod % 60);
        let word = |at: usize| {
            let mut w = [0u8; 8];
            w.copy_from_slice(&t[at..at + 8]);
            u64::from_ne_bytes(w)
        };
        let words = [word(0), word(8), word(16)];
        last.set((secs, words));
        Some(words)
    })
}

/// `YYYY-MM-DD` of a day since the epoch, `None` outside years 0..=9999.
/// (Asked once per new second: [`seconds_text`] remembers the last.)
fn date_text(days: i64) -> Option<[u8; 10]> {
    let (y, mo, d) = civil_from_days(days);
    if !(0..=9999).contains(&y) {
        return None;
    }
    let mut t = *b"0000-00-00";
    digits(&mut t[0..4], y as u64);
    pair(&mut t[5..7], mo);
    pair(&mut t[8..10], d);
    Some(t)
}

/// Writes `v` (< 100) as two digits into `out[..2]`.
fn pair(out: &mut [u8], v: u32) {
    const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
        2021222324252627282930313233343536373839\
        4041424344454647484950515253545556575859\
        6061626364656667686970717273747576777879\
        8081828384858687888990919293949596979899";
    let i = (v as usize % 100) * 2;
    out[..2].copy_from_slice(&PAIRS[i..i + 2]);
}

/// A formatted timestamp held on the stack.
pub struct Rfc3339 {
    buf: [u8; 27],
    len: usize,
    ts: Timestamp,
}

impl Rfc3339 {
    /// The text, or `None` for years that need [`fmt::Display`].
    pub fn as_str(&self) -> Option<&str> {
        (self.len > 0).then(|| std::str::from_utf8(&self.buf[..self.len]).expect("ASCII"))
    }

    /// The text's bytes as an array (a fixed size to copy), or `None` for
    /// years that need [`fmt::Display`].
    pub fn as_array(&self) -> Option<&[u8; 27]> {
        (self.len == self.buf.len()).then_some(&self.buf)
    }
}

impl fmt::Display for Rfc3339 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.as_str() {
            Some(s) => f.write_str(s),
            None => write!(f, "{}", self.ts),
        }
    }
}

impl fmt::Display for Timestamp {
    /// RFC 3339 in UTC with microseconds: `2026-11-22T10:00:00.123456Z`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, mo, d, h, mi, s, ns) = self.civil();
        write!(
            f,
            "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{:06}Z",
            ns / 1000
        )
    }
}

// Howard Hinnant's algorithms (public domain descriptions of the calendar).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates() {
        assert_eq!(Timestamp(0).to_string(), "1970-01-01T00:00:00.000000Z");
        // 2004-12-05 19:16:03.123456 UTC (a frame of net-dhcp's capture).
        assert_eq!(
            Timestamp(1_102_274_163_123_456_000).to_string(),
            "2004-12-05T19:16:03.123456Z"
        );
        assert_eq!(
            Timestamp(-1_000_000_000).to_string(),
            "1969-12-31T23:59:59.000000Z"
        );
        assert_eq!(
            Timestamp::from_civil(2024, 2, 29, 12, 0, 0, 0).to_string(),
            "2024-02-29T12:00:00.000000Z"
        );
    }

    #[test]
    fn fast_format_matches_display() {
        for ns in [
            0i64,
            1_102_274_163_123_456_789,
            -1_000_000_000,
            4_102_444_799_999_999_000,
            1_795_320_741_000_001_000,
        ] {
            let t = Timestamp(ns);
            assert_eq!(t.rfc3339().to_string(), t.to_string());
        }
        // Every second and microsecond digit, across day and year ends (the
        // remembered date must not leak into the next day).
        let mut ns = 1_704_067_190_999_990_000i64; // 2023-12-31T23:59:50.99999Z
        for _ in 0..3000 {
            let t = Timestamp(ns);
            assert_eq!(t.rfc3339().to_string(), t.to_string());
            ns += 3_333_337_001;
        }
        // Several in one second (the remembered second), then the next,
        // across a day's end, before 1970 too.
        for start in [1_704_067_197_000_000_000i64, -86_400_000_000_000] {
            let mut ns = start;
            for _ in 0..100 {
                let t = Timestamp(ns);
                assert_eq!(t.rfc3339().to_string(), t.to_string());
                ns += 299_999_937;
            }
        }
        // i64 nanoseconds span 1677..2262: the fast path covers them all.
        for t in [Timestamp(i64::MAX), Timestamp(i64::MIN)] {
            assert_eq!(t.rfc3339().to_string(), t.to_string());
        }
    }

    #[test]
    fn the_limits_days_are_the_limits() {
        let day = |ns: i64| Timestamp(ns).rfc3339().to_string()[..10].to_string();
        assert_eq!(day(-Timestamp::LIMIT), Timestamp::FIRST_DAY);
        assert_eq!(day(Timestamp::LIMIT), Timestamp::LAST_DAY);
        // Two times at the two limits are apart by less than i64::MAX.
        assert!(Timestamp::LIMIT.checked_sub(-Timestamp::LIMIT).is_some());
    }

    #[test]
    fn civil_round_trip() {
        for days in [-800_000i64, -1, 0, 1, 11_016, 19_782, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }
}
