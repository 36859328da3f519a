//! UTC civil time from and to epoch milliseconds, without `std` and without reading a clock.
//!
//! The caller passes the time in; this module only converts it. The conversion is the
//! proleptic Gregorian calendar in UTC (no leap seconds, as in Unix time) and is total: every
//! `u64` millisecond value maps to a date, years past 9999 included
//! ([`Civil::from_epoch_ms`]). The way back is checked: [`Civil::to_epoch_ms`] and
//! [`days_from_civil`] say `None` for a date or time that does not exist (or, for the
//! former, is before 1970 or past `u64::MAX` milliseconds) instead of panicking.
//!
//! ```
//! use icsfwd_core::time::{days_from_civil, Civil};
//!
//! let t = Civil::from_epoch_ms(1_557_059_334_123);
//! assert_eq!((t.year, t.month, t.day), (2019, 5, 5));
//! assert_eq!((t.hour, t.minute, t.second, t.millis), (12, 28, 54, 123));
//! assert_eq!(t.month_abbrev(), "May");
//! # use core::fmt::Write as _;
//! let mut s = heapless::String::<32>::new();
//! write!(s, "{}", t.rfc3339()).unwrap();
//! assert_eq!(s, "2019-05-05T12:28:54.123Z");
//!
//! // And back.
//! assert_eq!(t.to_epoch_ms(), Some(1_557_059_334_123));
//! assert_eq!(days_from_civil(2019, 5, 5), Some(18_021));
//! assert_eq!(days_from_civil(1969, 12, 31), Some(-1));
//! assert_eq!(days_from_civil(2019, 2, 29), None);
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

    /// Milliseconds since 1970-01-01T00:00:00Z: the inverse of [`Civil::from_epoch_ms`].
    ///
    /// `None` when a field is out of its documented range (month 1–12, a day of that month,
    /// hour 0–23, minute and second 0–59 — no leap second, as in Unix time — millisecond
    /// 0–999), or the time is before 1970 or past `u64::MAX` milliseconds.
    ///
    /// ```
    /// use icsfwd_core::time::Civil;
    ///
    /// let t = Civil::from_epoch_ms(1_709_251_199_999);
    /// assert_eq!((t.year, t.month, t.day), (2024, 2, 29));
    /// assert_eq!(t.to_epoch_ms(), Some(1_709_251_199_999));
    /// assert_eq!(Civil { day: 30, ..t }.to_epoch_ms(), None);
    /// assert_eq!(Civil { year: 1969, ..t }.to_epoch_ms(), None);
    /// ```
    pub const fn to_epoch_ms(self) -> Option<u64> {
        if self.hour > 23 || self.minute > 59 || self.second > 59 || self.millis > 999 {
            return None;
        }
        if self.year > i32::MAX as u64 {
            return None;
        }
        let Some(days) = days_from_civil(self.year as i32, self.month, self.day) else {
            return None;
        };
        if days < 0 {
            return None;
        }
        let seconds = (self.hour as u64 * 60 + self.minute as u64) * 60 + self.second as u64;
        let in_day = seconds * 1000 + self.millis as u64;
        match (days as u64).checked_mul(MS_PER_DAY) {
            Some(ms) => ms.checked_add(in_day),
            None => None,
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

/// Days from 1970-01-01 to the proleptic Gregorian date `year`-`month`-`day`, negative before
/// it; `None` unless `month` is 1–12 and `day` is a day of that month.
///
/// H. Hinnant's `days_from_civil` algorithm, the inverse of the date part of
/// [`Civil::from_epoch_ms`]. Total: every `i32` year converts without overflow (the year 0
/// is 1 BC, as in ISO 8601).
///
/// ```
/// use icsfwd_core::time::days_from_civil;
///
/// assert_eq!(days_from_civil(1970, 1, 1), Some(0));
/// assert_eq!(days_from_civil(2000, 3, 1), Some(11_017));
/// assert_eq!(days_from_civil(1900, 2, 29), None); // not a leap year
/// assert_eq!(days_from_civil(2024, 4, 31), None);
/// ```
pub const fn days_from_civil(year: i32, month: u8, day: u8) -> Option<i64> {
    if month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    // A year here starts on 1 March, so that the leap day is its last day: January and
    // February count with the year before. An era is 400 years (146 097 days).
    let year = year as i64 - if month <= 2 { 1 } else { 0 };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let march_based_month = (month as i64 + 9) % 12;
    let day_of_year = (153 * march_based_month + 2) / 5 + day as i64 - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    // 719 468 days from 0000-03-01 to 1970-01-01.
    Some(era * 146_097 + day_of_era - 719_468)
}

/// The number of days of `month` (1–12) in `year`.
const fn days_in_month(year: i32, month: u8) -> u8 {
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
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
    use proptest::prelude::*;
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

    /// The length of `month` in `year` by the Gregorian rule, written out for the walks.
    fn naive_month_len(year: i64, month: u8) -> u8 {
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        match month {
            2 if leap => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        }
    }

    #[test]
    fn days_before_1970_count_down_day_by_day_for_800_years() {
        let (mut year, mut month, mut day) = (1969i64, 12u8, 31u8);
        for days in 1..=(2 * 146_097) {
            assert_eq!(
                days_from_civil(year as i32, month, day),
                Some(-days),
                "{year}-{month}-{day}"
            );
            day -= 1;
            if day == 0 {
                month -= 1;
                if month == 0 {
                    month = 12;
                    year -= 1;
                }
                day = naive_month_len(year, month);
            }
        }
        assert_eq!((year, month, day), (1169, 12, 31));
        assert_eq!(days_from_civil(0, 3, 1), Some(-719_468));
        assert_eq!(days_from_civil(-1, 12, 31), Some(-719_529));
    }

    #[test]
    fn days_from_civil_refuses_dates_that_do_not_exist() {
        for (year, month, day) in [
            (2023, 2, 29),
            (1900, 2, 29),
            (2100, 2, 29),
            (2024, 2, 30),
            (2024, 4, 31),
            (2024, 6, 31),
            (2024, 9, 31),
            (2024, 11, 31),
            (2024, 1, 32),
            (2024, 1, 0),
            (2024, 0, 1),
            (2024, 13, 1),
            (2024, 255, 255),
        ] {
            assert_eq!(
                days_from_civil(year, month, day),
                None,
                "{year}-{month}-{day}"
            );
        }
        assert!(days_from_civil(2000, 2, 29).is_some());
        assert!(days_from_civil(2024, 2, 29).is_some());
    }

    #[test]
    fn days_from_civil_is_total_over_every_year() {
        // No overflow at the ends of i32 (a debug build would panic on one).
        let first = days_from_civil(i32::MIN, 1, 1).unwrap();
        let last = days_from_civil(i32::MAX, 12, 31).unwrap();
        assert!(first < 0 && last > 0);
        assert_eq!(days_from_civil(i32::MAX, 2, 29), None);
    }

    #[test]
    fn to_epoch_ms_refuses_fields_out_of_range_and_times_before_1970() {
        let t = Civil::from_epoch_ms(1_557_059_334_123);
        for bad in [
            Civil { hour: 24, ..t },
            Civil { minute: 60, ..t },
            Civil { second: 60, ..t },
            Civil { millis: 1000, ..t },
            Civil { month: 0, ..t },
            Civil { month: 13, ..t },
            Civil { day: 0, ..t },
            Civil { day: 32, ..t },
            Civil { year: 1969, ..t },
            Civil {
                year: u64::MAX,
                ..t
            },
            Civil {
                year: i32::MAX as u64,
                ..t
            },
        ] {
            assert_eq!(bad.to_epoch_ms(), None, "{bad:?}");
        }
        assert_eq!(Civil::from_epoch_ms(0).to_epoch_ms(), Some(0));
        assert_eq!(Civil::from_epoch_ms(u64::MAX).to_epoch_ms(), Some(u64::MAX));
        // One millisecond past u64::MAX is refused, not wrapped.
        let last = Civil::from_epoch_ms(u64::MAX);
        let past = if last.millis < 999 {
            Civil {
                millis: last.millis + 1,
                ..last
            }
        } else {
            Civil {
                second: last.second + 1,
                millis: 0,
                ..last
            }
        };
        assert_eq!(past.to_epoch_ms(), None);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn to_epoch_ms_inverts_from_epoch_ms(
            ms in prop_oneof![any::<u64>(), 0..=253_402_300_799_999u64]
        ) {
            prop_assert_eq!(Civil::from_epoch_ms(ms).to_epoch_ms(), Some(ms));
        }

        #[test]
        fn from_epoch_ms_inverts_to_epoch_ms(
            year in 1970u64..=9999,
            month in 1u8..=12,
            day in 1u8..=31,
            hour in 0u8..24,
            minute in 0u8..60,
            second in 0u8..60,
            millis in 0u16..1000,
        ) {
            let t = Civil { year, month, day, hour, minute, second, millis };
            let exists = day <= naive_month_len(year as i64, month);
            match t.to_epoch_ms() {
                Some(ms) => {
                    prop_assert!(exists, "{:?}", t);
                    prop_assert_eq!(Civil::from_epoch_ms(ms), t);
                }
                None => prop_assert!(!exists, "{:?}", t),
            }
        }

        #[test]
        fn consecutive_dates_are_one_day_apart(
            year in any::<i32>(),
            month in 1u8..=12,
            day in 1u8..=31,
        ) {
            let Some(days) = days_from_civil(year, month, day) else {
                prop_assert!(day > naive_month_len(i64::from(year), month));
                return Ok(());
            };
            let next = if day < naive_month_len(i64::from(year), month) {
                days_from_civil(year, month, day + 1)
            } else if month < 12 {
                days_from_civil(year, month + 1, 1)
            } else if year < i32::MAX {
                days_from_civil(year + 1, 1, 1)
            } else {
                Some(days + 1)
            };
            prop_assert_eq!(next, Some(days + 1));
        }
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
            assert_eq!(
                days_from_civil(year as i32, month, day),
                Some(days as i64),
                "{year}-{month}-{day}"
            );
            assert_eq!(t.to_epoch_ms(), Some(days * MS_PER_DAY + 3_723_004));
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
