//! Timestamps: what the line gives, and the rule for what it leaves out.
//!
//! Rule, applied to every line:
//! - A stamp with a zone (RFC 5424, `journalctl -o short-iso`, RFC 3339, journald's
//!   `__REALTIME_TIMESTAMP`) is exact: [`TimeBasis::Exact`].
//! - A stamp without a zone (RFC 3164 `Nov 22 10:00:00`, Kea's and dnsmasq's own files,
//!   `journalctl -o short`) is wall-clock time at [`TimeContext::utc_offset_secs`]
//!   east of UTC (default 0: the log is taken to be in UTC). No time-zone database is
//!   read and daylight saving is not followed: one fixed offset per log.
//! - A stamp without a year takes the year (reference year −1, 0 or +1) that puts it
//!   closest to [`TimeContext::reference`]; the reference is, e.g., the capture's first
//!   packet or the log file's mtime. Feb 29 takes the closest leap year, which is at most
//!   4 years away (reference year −4 to +4: 2100 is not one). Without a reference such
//!   lines get no time.
//! - Then the clock offset is applied: `time = log time − clock_offset_ns`, where
//!   [`TimeContext::clock_offset_ns`] is how far the log's clock is ahead of the
//!   capture's clock. A time it moves out of range is [`TimeBasis::OutOfRange`].

use serde::Serialize;

/// How an event's time was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TimeBasis {
    /// The line has no time (e.g. `dhcpd -d` on stderr).
    None,
    /// Date, time and zone are all in the line.
    Exact,
    /// The zone was assumed ([`TimeContext::utc_offset_secs`]).
    AssumedZone,
    /// The year was chosen from the reference and the zone assumed.
    AssumedYearAndZone,
    /// The line has a time without a year and there was no reference to choose one.
    Unresolved,
    /// The line has a time, but the clock offset moves it beyond what a time in
    /// nanoseconds holds (the years 1677 to 2262): it gets none.
    OutOfRange,
}

/// What the caller knows about the log's clock. See the module documentation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TimeContext {
    /// A UTC time (ns since the epoch) near the log's lines, for choosing the year of
    /// year-less stamps.
    pub reference: Option<i64>,
    /// The log's local time zone, in seconds east of UTC, for stamps without a zone.
    pub utc_offset_secs: i32,
    /// How far the log's clock is ahead of the capture's clock, in ns. Subtracted
    /// from every time.
    pub clock_offset_ns: i64,
    /// The reference is when the log was last written (its file's date, or
    /// now), not a time among its lines: no line is later, so a year-less
    /// stamp takes the latest year that keeps it no more than a day after
    /// it (a December line in a file written in February is from the year
    /// before, not the nearer December after).
    pub reference_is_end: bool,
}

/// A stamp as a framing found it, before [`TimeContext`] is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stamp {
    None,
    /// UTC ns since the epoch.
    Exact(i64),
    /// Wall-clock time without a zone; `year` may be missing.
    Local {
        year: Option<i32>,
        month: u32,
        day: u32,
        secs_of_day: u32,
        nanos: u32,
    },
}

const NS: i64 = 1_000_000_000;

impl TimeContext {
    /// Resolves a stamp into (UTC ns on the capture's clock, basis).
    pub(crate) fn resolve(&self, stamp: Stamp) -> (Option<i64>, TimeBasis) {
        let (t, basis) = match stamp {
            Stamp::None => return (None, TimeBasis::None),
            Stamp::Exact(t) => (t, TimeBasis::Exact),
            Stamp::Local {
                year: Some(y),
                month,
                day,
                secs_of_day,
                nanos,
            } => match self.local_to_utc(y, month, day, secs_of_day, nanos) {
                Some(t) => (t, TimeBasis::AssumedZone),
                None => return (None, TimeBasis::Unresolved),
            },
            Stamp::Local {
                year: None,
                month,
                day,
                secs_of_day,
                nanos,
            } => {
                let Some(reference) = self.reference else {
                    return (None, TimeBasis::Unresolved);
                };
                // The reference's local date; a reference at the edge of the range
                // stays there rather than wrapping.
                let ref_local = reference.saturating_add(i64::from(self.utc_offset_secs) * NS);
                let ref_year = civil_from_days(ref_local.div_euclid(NS * 86_400)).0;
                let reach = year_reach(month, day);
                let candidates = (ref_year.saturating_sub(reach)..=ref_year.saturating_add(reach))
                    .filter_map(|y| self.local_to_utc(y, month, day, secs_of_day, nanos));
                let not_after = reference.saturating_add(NS * 86_400);
                let best = (self.reference_is_end)
                    .then(|| candidates.clone().filter(|&t| t <= not_after).max())
                    .flatten()
                    .or_else(|| candidates.min_by_key(|t| t.abs_diff(reference)));
                match best {
                    Some(t) => (t, TimeBasis::AssumedYearAndZone),
                    None => return (None, TimeBasis::Unresolved),
                }
            }
        };
        match t.checked_sub(self.clock_offset_ns) {
            Some(t) => (Some(t), basis),
            None => (None, TimeBasis::OutOfRange),
        }
    }

    fn local_to_utc(&self, y: i32, mo: u32, d: u32, secs: u32, nanos: u32) -> Option<i64> {
        let days = days_from_civil(y, mo, d)?;
        let local = days
            .checked_mul(86_400)?
            .checked_add(i64::from(secs))?
            .checked_mul(NS)?
            .checked_add(i64::from(nanos))?;
        local.checked_sub(i64::from(self.utc_offset_secs) * NS)
    }
}

/// How many years either side of the reference year a year-less date may fall: the
/// closest year with that date. Every year has it but Feb 29, and leap years are at
/// most 8 apart (2096, 2104), so the closest is at most 4 away.
fn year_reach(month: u32, day: u32) -> i32 {
    if (month, day) == (2, 29) {
        4
    } else {
        1
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date, `None` if the date is invalid.
pub(crate) fn days_from_civil(y: i32, m: u32, d: u32) -> Option<i64> {
    if !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
        return None;
    }
    // Shift the year to start in March, so that the leap day is last.
    let y = i64::from(y) - i64::from(m <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (i64::from(m) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

/// (year, month, day) of a day number since 1970-01-01.
pub(crate) fn civil_from_days(z: i64) -> (i32, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (
        y.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32,
        m,
        d,
    )
}

fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        _ => 0,
    }
}

/// UTC ns of a full date-time with an offset (seconds east of UTC).
pub(crate) fn utc_ns(
    y: i32,
    mo: u32,
    d: u32,
    secs_of_day: u32,
    nanos: u32,
    offset_secs: i32,
) -> Option<i64> {
    TimeContext {
        utc_offset_secs: offset_secs,
        ..TimeContext::default()
    }
    .local_to_utc(y, mo, d, secs_of_day, nanos)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> i64 {
        utc_ns(y, mo, d, h * 3600 + mi * 60 + s, 0, 0).unwrap()
    }

    #[test]
    fn civil_round_trip_and_known_dates() {
        assert_eq!(days_from_civil(1970, 1, 1), Some(0));
        assert_eq!(days_from_civil(2000, 3, 1), Some(11_017));
        assert_eq!(days_from_civil(2026, 11, 22), Some(20_779));
        assert_eq!(days_from_civil(2023, 2, 29), None);
        assert_eq!(days_from_civil(2024, 2, 29), Some(19_782));
        for z in [-800_000i64, -1, 0, 1, 19_782, 20_779, 2_000_000] {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), Some(z));
        }
        // journald's __REALTIME_TIMESTAMP 1795320741532166 µs is 2026-11-22 04:12:21 UTC
        // (recorded alongside `short-iso` 2026-11-22T04:12:21+0000).
        assert_eq!(1_795_320_741 * NS, at(2026, 11, 22, 4, 12, 21));
    }

    #[test]
    fn year_is_the_one_closest_to_the_reference() {
        let local = |month, day| Stamp::Local {
            year: None,
            month,
            day,
            secs_of_day: 10 * 3600,
            nanos: 0,
        };
        let ctx = TimeContext {
            reference: Some(at(2027, 1, 2, 0, 0, 0)),
            ..Default::default()
        };
        // A December line read in early January belongs to the year before.
        assert_eq!(
            ctx.resolve(local(12, 31)),
            (
                Some(at(2026, 12, 31, 10, 0, 0)),
                TimeBasis::AssumedYearAndZone
            )
        );
        assert_eq!(ctx.resolve(local(1, 1)).0, Some(at(2027, 1, 1, 10, 0, 0)));
        // Feb 29 only exists in 2028 among 2027±1.
        let ctx = TimeContext {
            reference: Some(at(2027, 6, 1, 0, 0, 0)),
            ..Default::default()
        };
        assert_eq!(ctx.resolve(local(2, 29)).0, Some(at(2028, 2, 29, 10, 0, 0)));
        // Feb 29 read in a year 2 from each leap year: the closer one, before or after.
        let in_2026 = |mo, d| TimeContext {
            reference: Some(at(2026, mo, d, 0, 0, 0)),
            ..Default::default()
        };
        assert_eq!(
            in_2026(6, 1).resolve(local(2, 29)),
            (
                Some(at(2028, 2, 29, 10, 0, 0)),
                TimeBasis::AssumedYearAndZone
            )
        );
        assert_eq!(
            in_2026(1, 10).resolve(local(2, 29)).0,
            Some(at(2024, 2, 29, 10, 0, 0))
        );
        // 2100 is not a leap year: 2096 and 2104 are both 4 years away.
        let in_2100 = |mo, d| TimeContext {
            reference: Some(at(2100, mo, d, 0, 0, 0)),
            ..Default::default()
        };
        assert_eq!(
            in_2100(1, 10).resolve(local(2, 29)).0,
            Some(at(2096, 2, 29, 10, 0, 0))
        );
        assert_eq!(
            in_2100(6, 1).resolve(local(2, 29)).0,
            Some(at(2104, 2, 29, 10, 0, 0))
        );
        // No reference: no time.
        assert_eq!(
            TimeContext::default().resolve(local(1, 1)),
            (None, TimeBasis::Unresolved)
        );
        // A file written on 2026-12-20 (its end): February is this year's,
        // not the nearer one after; so is a line on the day after (zones).
        let written = |reference_is_end| TimeContext {
            reference: Some(at(2026, 12, 20, 11, 0, 0)),
            reference_is_end,
            ..Default::default()
        };
        assert_eq!(
            written(false).resolve(local(2, 1)).0,
            Some(at(2027, 2, 1, 10, 0, 0))
        );
        assert_eq!(
            written(true).resolve(local(2, 1)).0,
            Some(at(2026, 2, 1, 10, 0, 0))
        );
        assert_eq!(
            written(true).resolve(local(12, 20)).0,
            Some(at(2026, 12, 20, 10, 0, 0))
        );
        assert_eq!(
            written(true).resolve(local(12, 21)).0,
            Some(at(2026, 12, 21, 10, 0, 0))
        );
        assert_eq!(
            written(true).resolve(local(12, 22)).0,
            Some(at(2025, 12, 22, 10, 0, 0))
        );
    }

    #[test]
    fn zone_and_clock_offset_are_applied() {
        let ctx = TimeContext {
            reference: None,
            utc_offset_secs: 3600,
            clock_offset_ns: 2 * NS,
            reference_is_end: false,
        };
        let stamp = Stamp::Local {
            year: Some(2026),
            month: 11,
            day: 22,
            secs_of_day: 11 * 3600,
            nanos: 5,
        };
        // 11:00 at UTC+1 is 10:00 UTC; the log clock runs 2 s ahead.
        assert_eq!(
            ctx.resolve(stamp),
            (
                Some(at(2026, 11, 22, 9, 59, 58) + 5),
                TimeBasis::AssumedZone
            )
        );
        assert_eq!(
            ctx.resolve(Stamp::Exact(10 * NS)),
            (Some(8 * NS), TimeBasis::Exact)
        );
        // A log clock 4·10⁹ s behind moves a line of 2200 past 2262: no time,
        // not a wrapped one, and said.
        let behind = TimeContext {
            clock_offset_ns: -4_000_000_000 * NS,
            ..Default::default()
        };
        assert_eq!(
            behind.resolve(Stamp::Exact(at(2200, 1, 1, 0, 0, 0))),
            (None, TimeBasis::OutOfRange)
        );
        assert_eq!(
            behind.resolve(Stamp::Exact(at(2026, 1, 1, 0, 0, 0))).1,
            TimeBasis::Exact
        );
    }

    #[test]
    fn a_reference_at_the_edge_of_the_range_still_chooses_a_year() {
        let local = |month, day| Stamp::Local {
            year: None,
            month,
            day,
            secs_of_day: 10 * 3600,
            nanos: 0,
        };
        // i64::MAX ns is 2262-04-11 23:47:16 UTC; at UTC+1 its local time is beyond it.
        let late = TimeContext {
            reference: Some(i64::MAX),
            utc_offset_secs: 3600,
            clock_offset_ns: 0,
            reference_is_end: false,
        };
        assert_eq!(
            late.resolve(local(1, 1)),
            (Some(at(2262, 1, 1, 9, 0, 0)), TimeBasis::AssumedYearAndZone)
        );
        // 2262-12-31 is beyond the range: the year before is the closest that is not.
        assert_eq!(
            late.resolve(local(12, 31)).0,
            Some(at(2261, 12, 31, 9, 0, 0))
        );
        let early = TimeContext {
            reference: Some(i64::MIN),
            utc_offset_secs: -3600,
            clock_offset_ns: 0,
            reference_is_end: false,
        };
        assert_eq!(
            early.resolve(local(12, 31)).0,
            Some(at(1677, 12, 31, 11, 0, 0))
        );
    }
}
