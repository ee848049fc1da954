//! Dates and date-times as microseconds since 1970-01-01T00:00:00Z.
//!
//! A `date` is stored as its midnight UTC, so dates and date-times compare
//! directly, as language.md requires.

use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use jiff::Timestamp;

pub const MICROS_PER_SECOND: i64 = 1_000_000;
pub const MICROS_PER_DAY: i64 = 86_400 * MICROS_PER_SECOND;

/// `2026-01-31` → its midnight UTC.
pub fn parse_date(s: &str) -> Option<i64> {
    let s = s.trim();
    if s.len() != 10 || s.as_bytes()[4] != b'-' || s.as_bytes()[7] != b'-' {
        return None;
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
        Some(dt.to_zoned(TimeZone::UTC).ok()?.timestamp().as_microsecond())
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
