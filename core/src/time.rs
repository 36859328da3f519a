//! UTC civil time from epoch milliseconds, without `std` and without reading a clock.
//!
//! The caller passes the time in; this module only converts it. The conversion is the
//! proleptic Gregorian calendar in UTC (no leap seconds, as in Unix time) and is total: every
//! `u64` millisecond value maps to a date, years past 9999 included.
//!
//! ```
//! use icsfwd_core::time::Civil;
//!
//! let t = Civil::from_epoch_ms(1_557_059_334_123);
//! assert_eq!((t.year, t.month, t.day), (2019, 5, 5));
//! assert_eq!((t.hour, t.minute, t.second, t.millis), (12, 28, 54, 123));
//! assert_eq!(t.month_abbrev(), "May");
//! # use core::fmt::Write as _;
//! let mut s = heapless::String::<32>::new();
//! write!(s, "{}", t.rfc3339()).unwrap();
//! assert_eq!(s, "2019-05-05T12:28:54.123Z");
//! ```

use core::fmt;

use crate::stack_text::{MAX_U64_TEXT, StackText};

const MS_PER_DAY: u64 = 86_400_000;
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A UTC calendar date and time of day with millisecond precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Civil {
    /// The year (1970 or later).
    pub year: u64,
    /// The month, 1–12.
    pub month: u8,
    /// The day of the month, 1–31.
    pub day: u8,
    /// The hour, 0–23.
    pub hour: u8,
    /// The minute, 0–59.
    pub minute: u8,
    /// The second, 0–59.
    pub second: u8,
    /// The millisecond, 0–999.
    pub millis: u16,
}

impl Civil {
    /// Converts milliseconds since 1970-01-01T00:00:00Z to a UTC calendar time.
    pub const fn from_epoch_ms(ms: u64) -> Civil {
        let days = ms / MS_PER_DAY;
        let in_day = ms % MS_PER_DAY;
        // Days-from-civil inverse (H. Hinnant's algorithm), shifted so that eras start on
        // 0000-03-01; all arithmetic is unsigned because the epoch is after that start.
        let z = days + 719_468;
        let era = z / 146_097;
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
        let year = yoe + era * 400 + if month <= 2 { 1 } else { 0 };
        let secs = in_day / 1000;
        Civil {
            year,
            month,
            day,
            hour: (secs / 3600) as u8,
            minute: ((secs / 60) % 60) as u8,
            second: (secs % 60) as u8,
            millis: (in_day % 1000) as u16,
        }
    }

    /// The English three-letter month abbreviation, `Jan` … `Dec`.
    pub const fn month_abbrev(&self) -> &'static str {
        match self.month {
            1..=12 => match MONTHS.split_at((self.month - 1) as usize).1.first() {
                Some(name) => name,
                None => "???",
            },
            _ => "???",
        }
    }

    /// RFC 3339 with milliseconds and `Z`: `2019-05-05T12:28:54.123Z`.
    pub const fn rfc3339(self) -> Rfc3339 {
        Rfc3339(self)
    }

    /// The LEEF/CEF style `MMM dd yyyy HH:mm:ss.SSS`: `May 05 2019 12:28:54.123`.
    pub const fn legacy(self) -> Legacy {
        Legacy(self)
    }
}

/// Displays a [`Civil`] as RFC 3339 (`2019-05-05T12:28:54.123Z`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rfc3339(pub Civil);

impl fmt::Display for Rfc3339 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Assembled by hand: `core::fmt`'s zero-padded integers cost the firmware image
        // flash it has no room for.
        let mut text = StackText::<MAX_RFC3339>::new();
        text.push_rfc3339(self.0);
        f.write_str(text.as_str())
    }
}

/// Displays a [`Civil`] as `MMM dd yyyy HH:mm:ss.SSS` (`May 05 2019 12:28:54.123`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Legacy(pub Civil);

/// The Java `SimpleDateFormat` pattern that describes [`Legacy`], for LEEF's `devTimeFormat`.
pub const LEGACY_PATTERN: &str = "MMM dd yyyy HH:mm:ss.SSS";

impl fmt::Display for Legacy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut text = StackText::<MAX_LEGACY_TIME>::new();
        text.push_legacy_time(self.0);
        f.write_str(text.as_str())
    }
}

/// The longest [`Rfc3339`] rendering, for buffer sizing (a 20-digit year at most).
pub const MAX_RFC3339: usize = 20 + 20;

/// The longest [`Legacy`] rendering: `MMM dd `, a year of up to 20 digits, ` HH:mm:ss.SSS`.
pub(crate) const MAX_LEGACY_TIME: usize = "MMM dd ".len() + MAX_U64_TEXT + " HH:mm:ss.SSS".len();

// How a time is written into stack text, kept beside the time so that `crate::stack_text`
// depends on no module of the crate. Assembled by hand: `core::fmt`'s zero-padded integers
// cost the firmware image flash it has no room for.
impl<const N: usize> StackText<N> {
    /// Appends `time` as RFC 3339 (`2019-05-05T12:28:54.123Z`).
    pub(crate) fn push_rfc3339(&mut self, time: Civil) {
        // Not on bare metal, whose flash budget has no room for a second path.
        #[cfg(not(target_os = "none"))]
        if time.year <= 9999 && time.millis <= 999 {
            // The common case, four-digit years: fixed positions in a fixed array, one copy.
            let two = |n: u8| [b'0' + n / 10 % 10, b'0' + n % 10];
            let year = time.year as u16;
            let [y1, y2] = two((year / 100) as u8);
            let [y3, y4] = two((year % 100) as u8);
            let [mo1, mo2] = two(time.month);
            let [d1, d2] = two(time.day);
            let [h1, h2] = two(time.hour);
            let [mi1, mi2] = two(time.minute);
            let [s1, s2] = two(time.second);
            let [ms1, ms2] = two((time.millis / 10) as u8);
            let ms3 = b'0' + (time.millis % 10) as u8;
            self.push_literal_bytes(&[
                y1, y2, y3, y4, b'-', mo1, mo2, b'-', d1, d2, b'T', h1, h2, b':', mi1, mi2, b':',
                s1, s2, b'.', ms1, ms2, ms3, b'Z',
            ]);
            return;
        }
        self.push_decimal(time.year, 4);
        self.push(b'-');
        self.push_two_digits(time.month);
        self.push(b'-');
        self.push_two_digits(time.day);
        self.push(b'T');
        self.push_clock(time);
        self.push(b'Z');
    }

    /// Appends `time` as `MMM dd yyyy HH:mm:ss.SSS` (`May 05 2019 12:28:54.123`).
    pub(crate) fn push_legacy_time(&mut self, time: Civil) {
        self.push_str(time.month_abbrev());
        self.push(b' ');
        self.push_two_digits(time.day);
        self.push(b' ');
        self.push_decimal(time.year, 4);
        self.push(b' ');
        self.push_clock(time);
    }

    /// Appends `HH:mm:ss.SSS`.
    fn push_clock(&mut self, time: Civil) {
        self.push_two_digits(time.hour);
        self.push(b':');
        self.push_two_digits(time.minute);
        self.push(b':');
        self.push_two_digits(time.second);
        self.push(b'.');
        self.push_decimal(u64::from(time.millis), 3);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::format;

    #[test]
    fn epoch_is_1970_01_01() {
        let t = Civil::from_epoch_ms(0);
        assert_eq!(format!("{}", t.rfc3339()), "1970-01-01T00:00:00.000Z");
    }

    #[test]
    fn leap_day_and_year_ends_convert() {
        // 2024-02-29T23:59:59.999Z
        assert_eq!(
            format!("{}", Civil::from_epoch_ms(1_709_251_199_999).rfc3339()),
            "2024-02-29T23:59:59.999Z"
        );
        // 2000-12-31T00:00:00Z (a 400-year leap year)
        assert_eq!(
            format!("{}", Civil::from_epoch_ms(978_220_800_000).rfc3339()),
            "2000-12-31T00:00:00.000Z"
        );
        assert_eq!(
            format!("{}", Civil::from_epoch_ms(4_102_444_800_000).legacy()),
            "Jan 01 2100 00:00:00.000"
        );
    }

    #[test]
    fn every_u64_converts_without_panic() {
        let t = Civil::from_epoch_ms(u64::MAX);
        assert!(t.month >= 1 && t.month <= 12);
        assert!(format!("{}", t.rfc3339()).len() <= MAX_RFC3339);
    }

    #[test]
    fn day_by_day_matches_a_naive_calendar_walk() {
        let mut year = 1970u64;
        let mut month = 1u8;
        let mut day = 1u8;
        for days in 0..(200 * 366) {
            let t = Civil::from_epoch_ms(days * MS_PER_DAY + 3_723_004);
            assert_eq!((t.year, t.month, t.day), (year, month, day), "day {days}");
            assert_eq!((t.hour, t.minute, t.second, t.millis), (1, 2, 3, 4));
            let leap =
                (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400);
            let len = match month {
                2 if leap => 29,
                2 => 28,
                4 | 6 | 9 | 11 => 30,
                _ => 31,
            };
            day += 1;
            if day > len {
                day = 1;
                month += 1;
                if month > 12 {
                    month = 1;
                    year += 1;
                }
            }
        }
    }
}
