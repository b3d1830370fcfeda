//! ISO-8601 timer values as Zeebe reads them (`timeDuration`, `timeDate`).
//!
//! Durations follow Java's `Period` + `Duration` split that Zeebe's `Interval` uses:
//! `PnYnMnWnD` before `T`, `nHnMn.nS` after it, letters case-insensitive. Calendar parts are
//! added first (months clamp to the month's last day, like `ZonedDateTime.plus(Period)`), then
//! the exact time parts. Negative durations are refused rather than firing immediately.
//! Dates need an offset (`Z` or `+02:00`); a trailing `[Region/City]` zone id after the offset
//! is accepted and ignored, since the offset already fixes the instant.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Days, Duration, FixedOffset, Months, Utc};

/// Why a timer value is not usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimerError {
    /// Not an ISO-8601 duration Zeebe would accept.
    #[error("'{text}' is not an ISO-8601 duration (e.g. PT10S, P1D, P1Y2M3DT4H): {reason}")]
    InvalidDuration {
        /// The offending text.
        text: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Not an ISO-8601 date-time with offset.
    #[error("'{text}' is not an ISO-8601 date-time with offset (e.g. 2024-05-01T12:00:00Z)")]
    InvalidDateTime {
        /// The offending text.
        text: String,
    },
    /// Adding the duration leaves chrono's representable range.
    #[error("the due date of {duration} after {base} is out of range")]
    OutOfRange {
        /// The duration.
        duration: String,
        /// The base instant.
        base: DateTime<Utc>,
    },
}

/// A non-negative ISO-8601 duration, kept in its written parts because months and years have
/// no fixed length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct IsoDuration {
    years: u32,
    months: u32,
    days: u64,
    hours: u64,
    minutes: u64,
    seconds: u64,
    nanos: u32,
}

impl IsoDuration {
    /// The instant this duration after `base`, as Zeebe computes a timer's due date.
    pub fn after(&self, base: DateTime<Utc>) -> Result<DateTime<Utc>, TimerError> {
        let out_of_range = || TimerError::OutOfRange {
            duration: self.to_string(),
            base,
        };
        let months = u64::from(self.years) * 12 + u64::from(self.months);
        let months = u32::try_from(months).map_err(|_| out_of_range())?;
        let exact = i64::try_from(self.hours * 3600 + self.minutes * 60 + self.seconds)
            .map_err(|_| out_of_range())?;
        base.checked_add_months(Months::new(months))
            .and_then(|d| d.checked_add_days(Days::new(self.days)))
            .and_then(|d| d.checked_add_signed(Duration::try_seconds(exact)?))
            .and_then(|d| d.checked_add_signed(Duration::nanoseconds(i64::from(self.nanos))))
            .ok_or_else(out_of_range)
    }

    /// True for `PT0S` and friends: the timer is due immediately.
    pub fn is_zero(&self) -> bool {
        *self == Self::default()
    }
}

impl FromStr for IsoDuration {
    type Err = TimerError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let invalid = |reason| TimerError::InvalidDuration {
            text: text.to_owned(),
            reason,
        };
        let upper = text.trim().to_ascii_uppercase();
        if upper.starts_with('-') {
            return Err(invalid("negative durations are not supported"));
        }
        let body = upper
            .strip_prefix('P')
            .ok_or_else(|| invalid("it must start with P"))?;
        let (date_part, time_part) = match body.split_once('T') {
            Some((_, "")) => return Err(invalid("T must be followed by a time part")),
            Some((d, t)) => (d, Some(t)),
            None => (body, None),
        };
        if date_part.is_empty() && time_part.is_none() {
            return Err(invalid("it has no parts"));
        }
        let mut result = Self::default();
        for (number, unit) in components(date_part).map_err(invalid)? {
            let n: u64 = number
                .parse()
                .map_err(|_| invalid("date parts must be whole numbers"))?;
            let small = |n: u64| u32::try_from(n).map_err(|_| invalid("the number is too large"));
            match unit {
                'Y' => result.years = small(n)?,
                'M' => result.months = small(n)?,
                'W' => {
                    result.days += n
                        .checked_mul(7)
                        .ok_or_else(|| invalid("the number is too large"))?
                }
                'D' => result.days += n,
                _ => return Err(invalid("date units are Y, M, W and D")),
            }
        }
        for (number, unit) in components(time_part.unwrap_or("")).map_err(invalid)? {
            match unit {
                'H' => {
                    result.hours = number
                        .parse()
                        .map_err(|_| invalid("hours must be whole numbers"))?
                }
                'M' => {
                    result.minutes = number
                        .parse()
                        .map_err(|_| invalid("minutes must be whole numbers"))?
                }
                'S' => {
                    let (whole, fraction) = number.split_once(['.', ',']).unwrap_or((number, ""));
                    result.seconds = whole
                        .parse()
                        .map_err(|_| invalid("seconds must be numbers"))?;
                    if fraction.len() > 9 || !fraction.chars().all(|c| c.is_ascii_digit()) {
                        return Err(invalid("at most nine fractional digits are allowed"));
                    }
                    let padded = format!("{fraction:0<9}");
                    result.nanos = padded
                        .parse()
                        .map_err(|_| invalid("seconds must be numbers"))?;
                }
                _ => return Err(invalid("time units are H, M and S")),
            }
        }
        Ok(result)
    }
}

/// Splits `1Y2M` into `[("1", 'Y'), ("2", 'M')]`, requiring every number to carry a unit.
fn components(text: &str) -> Result<Vec<(&str, char)>, &'static str> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, c) in text.char_indices() {
        if c.is_ascii_alphabetic() {
            let number = &text[start..i];
            if number.is_empty() {
                return Err("every unit needs a number before it");
            }
            out.push((number, c));
            start = i + c.len_utf8();
        } else if !(c.is_ascii_digit() || c == '.' || c == ',') {
            return Err("unexpected character");
        }
    }
    if start != text.len() {
        return Err("a number is missing its unit");
    }
    Ok(out)
}

impl fmt::Display for IsoDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("P")?;
        for (n, unit) in [
            (u64::from(self.years), 'Y'),
            (u64::from(self.months), 'M'),
            (self.days, 'D'),
        ] {
            if n > 0 {
                write!(f, "{n}{unit}")?;
            }
        }
        let has_time = self.hours > 0 || self.minutes > 0 || self.seconds > 0 || self.nanos > 0;
        if has_time || (self.years == 0 && self.months == 0 && self.days == 0) {
            f.write_str("T")?;
            if self.hours > 0 {
                write!(f, "{}H", self.hours)?;
            }
            if self.minutes > 0 {
                write!(f, "{}M", self.minutes)?;
            }
            if self.seconds > 0 || self.nanos > 0 || !has_time {
                write!(f, "{}", self.seconds)?;
                if self.nanos > 0 {
                    let fraction = format!("{:09}", self.nanos);
                    write!(f, ".{}", fraction.trim_end_matches('0'))?;
                }
                f.write_str("S")?;
            }
        }
        Ok(())
    }
}

/// Parses a `timeDate` value: RFC 3339 with an optional trailing `[zone id]`.
pub fn parse_date_time(text: &str) -> Result<DateTime<FixedOffset>, TimerError> {
    let trimmed = text.trim();
    let without_zone = match trimmed.find('[') {
        Some(i) if trimmed.ends_with(']') => &trimmed[..i],
        _ => trimmed,
    };
    DateTime::parse_from_rfc3339(without_zone).map_err(|_| TimerError::InvalidDateTime {
        text: text.to_owned(),
    })
}

/// When a timer fires, as parsed at deploy time from a static value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimerSchedule {
    /// `timeDuration`: relative to the moment the timer is created.
    Duration(IsoDuration),
    /// `timeDate`: an absolute instant.
    Date(DateTime<FixedOffset>),
}

impl TimerSchedule {
    /// The due instant for a timer created at `created`; a date in the past is due at once.
    pub fn due_at(&self, created: DateTime<Utc>) -> Result<DateTime<Utc>, TimerError> {
        match self {
            Self::Duration(d) => d.after(created),
            Self::Date(date) => Ok(date.with_timezone(&Utc)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::IsoDuration;

    #[test]
    fn display_is_canonical() {
        for (input, shown) in [
            ("PT10S", "PT10S"),
            ("P1W", "P7D"),
            ("p1dt2h", "P1DT2H"),
            ("PT0S", "PT0S"),
            ("PT1.500S", "PT1.5S"),
        ] {
            let parsed: IsoDuration = input.parse().unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(parsed.to_string(), shown);
        }
    }
}
