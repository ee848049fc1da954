//! Dates and date-times as microseconds since 1970-01-01T00:00:00Z.
//!
//! A `date` is stored as its midnight UTC, so dates and date-times compare
//! directly, as language.md requires.

use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use jiff::Timestamp;

pub const MICROS_PER_SECOND: i64 = 1_000_000;
pub const MICROS_PER_DAY: i64 = 86_400 * MICROS_PER_SECOND;

/// Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `YYYY-MM-DD` with digits only, checked against the calendar: days since
/// the epoch. Anything else is left to jiff (`None`).
fn fast_days(b: &[u8]) -> Option<i64> {
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| {
        b[r].iter().try_fold(0i64, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + (c - b'0') as i64)
        })
    };
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    let days_in_month = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&m) || d < 1 || d > days_in_month[(m - 1) as usize] {
        return None;
    }
    Some(days_from_civil(y, m, d))
}

/// `2026-01-31` → its midnight UTC.
pub fn parse_date(s: &str) -> Option<i64> {
    let s = s.trim();
    if s.len() != 10 || s.as_bytes()[4] != b'-' || s.as_bytes()[7] != b'-' {
        return None;
    }
    if let Some(days) = fast_days(s.as_bytes()) {
        return Some(days * MICROS_PER_DAY);
    }
    let date: Date = s.parse().ok()?;
    Some(date_micros(date))
}

fn date_micros(date: Date) -> i64 {
    let days = date
        .since(Date::constant(1970, 1, 1))
        .map(|span| span.get_days() as i64)
        .unwrap_or(0);
    days * MICROS_PER_DAY
}

/// `2026-01-31T09:30:00Z`, `2026-01-31 09:30:00+02:00`, `2026-01-31T09:30`
/// (no offset means UTC) → microseconds.
pub fn parse_datetime(s: &str) -> Option<i64> {
    let s = s.trim();
    if s.len() < 16 || !s.as_bytes()[..4].iter().all(u8::is_ascii_digit) {
        return None;
    }
    // The common `YYYY-MM-DDTHH:MM:SSZ` without jiff.
    let b = s.as_bytes();
    if b.len() == 20 && b[10] == b'T' && b[13] == b':' && b[16] == b':' && b[19] == b'Z' {
        let two = |i: usize| {
            (b[i].is_ascii_digit() && b[i + 1].is_ascii_digit())
                .then(|| ((b[i] - b'0') * 10 + b[i + 1] - b'0') as i64)
        };
        if let (Some(days), Some(h), Some(m), Some(sec)) = (fast_days(b), two(11), two(14), two(17))
        {
            if h < 24 && m < 60 && sec < 60 {
                return Some(days * MICROS_PER_DAY + (h * 3600 + m * 60 + sec) * MICROS_PER_SECOND);
            }
        }
    }
    if let Ok(ts) = s.parse::<Timestamp>() {
        return Some(ts.as_microsecond());
    }
    let dt: DateTime = s.parse().ok()?;
    let ts = dt.to_zoned(TimeZone::UTC).ok()?.timestamp();
    Some(ts.as_microsecond())
}

/// A cell in a non-ISO format given in schema.toml (`%m/%d/%y`).
pub fn parse_with_format(s: &str, format: &str, with_time: bool) -> Option<i64> {
    let s = s.trim();
    let parsed = jiff::fmt::strtime::parse(format, s).ok()?;
    if with_time {
        if let Ok(ts) = parsed.to_timestamp() {
            return Some(ts.as_microsecond());
        }
        let dt = parsed.to_datetime().ok()?;
        Some(
            dt.to_zoned(TimeZone::UTC)
                .ok()?
                .timestamp()
                .as_microsecond(),
        )
    } else {
        Some(date_micros(parsed.to_date().ok()?))
    }
}

/// Microseconds → `2026-01-31`.
pub fn format_date(micros: i64) -> String {
    match Timestamp::from_microsecond(micros) {
        Ok(ts) => ts.to_zoned(TimeZone::UTC).date().to_string(),
        Err(_) => micros.to_string(),
    }
}

/// Microseconds → `2026-01-31T09:30:00Z` (fractional seconds when present).
pub fn format_datetime(micros: i64) -> String {
    match Timestamp::from_microsecond(micros) {
        Ok(ts) => ts.to_string(),
        Err(_) => micros.to_string(),
    }
}

/// The current time, or `--now` (a date means its midnight UTC).
pub fn parse_now(s: &str) -> Option<i64> {
    parse_date(s).or_else(|| parse_datetime(s))
}

pub fn now_micros() -> i64 {
    Timestamp::now().as_microsecond()
}

/// Midnight UTC of the day holding `micros`.
pub fn start_of_day(micros: i64) -> i64 {
    micros.div_euclid(MICROS_PER_DAY) * MICROS_PER_DAY
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_fast_paths_agree_with_jiff() {
        let jiff_date = |t: &str| t.parse::<Date>().ok().map(date_micros);
        let jiff_ts = |t: &str| t.parse::<Timestamp>().ok().map(|ts| ts.as_microsecond());
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let (y, m, d) = (x % 10_000, (x >> 16) % 14, (x >> 24) % 33);
            let t = format!("{y:04}-{m:02}-{d:02}");
            assert_eq!(
                fast_days(t.as_bytes()).map(|d| d * MICROS_PER_DAY),
                jiff_date(&t),
                "{t}"
            );
            let (h, mi, se) = ((x >> 32) % 26, (x >> 40) % 62, (x >> 48) % 62);
            let dt = format!("{t}T{h:02}:{mi:02}:{se:02}Z");
            if se < 60 {
                assert_eq!(parse_datetime(&dt), jiff_ts(&dt), "{dt}");
            }
        }
        assert_eq!(parse_date("2024-02-29"), jiff_date("2024-02-29"));
        assert_eq!(parse_date("2023-02-29"), None);
        assert_eq!(parse_date("1969-12-31"), Some(-MICROS_PER_DAY));
    }

    #[test]
    fn dates_are_midnight_utc() {
        assert_eq!(parse_date("1970-01-02"), Some(MICROS_PER_DAY));
        assert_eq!(parse_date("2026-02-30"), None);
        assert_eq!(parse_date("2026-1-3"), None);
        assert_eq!(format_date(parse_date("2026-01-31").unwrap()), "2026-01-31");
    }

    #[test]
    fn datetimes_accept_offsets_and_default_to_utc() {
        let z = parse_datetime("2026-01-31T09:30:00Z").unwrap();
        assert_eq!(parse_datetime("2026-01-31T10:30:00+01:00"), Some(z));
        assert_eq!(parse_datetime("2026-01-31 09:30:00"), Some(z));
        assert_eq!(format_datetime(z), "2026-01-31T09:30:00Z");
        assert_eq!(parse_datetime("2026-01-31"), None);
        assert_eq!(parse_datetime("nonsense-at-all"), None);
    }

    #[test]
    fn custom_formats_read_us_dates() {
        let d = parse_with_format("7/12/25", "%m/%d/%y", false).unwrap();
        assert_eq!(format_date(d), "2025-07-12");
        assert_eq!(parse_with_format("13/12/25", "%m/%d/%y", false), None);
    }
}
