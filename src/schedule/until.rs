//! [`Until`]: the end of a job's life (Python's `Job.until`).
//!
//! Python's `until(until_time)` takes a `datetime`, a `time` (today), a `timedelta`
//! (from now) or a string, and raises `ScheduleValueError` for a moment already
//! past. Here the same five forms convert into [`Until`], and the moment is worked
//! out when the job is scheduled, in the job's zone:
//!
//! ```text
//!   until(zoned)               -> that instant
//!   until(civil date-time)     -> that date and time in the job's zone
//!   until(civil time)          -> that time today, in the job's zone
//!   until(Duration)            -> now + the duration
//!   until("2026-11-23 18:00")  -> parsed as one of the two above
//! ```
//!
//! The job is cancelled at the first run past it, unrun (`Report::Cancelled`).

use std::time::Duration;

use jiff::civil;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ZonedDateTime};

#[cfg(doc)]
use super::Every;
use super::ScheduleError;

/// The end of a job's life, for [`Every::until`]: a date-time, a time today, or a
/// length of time from now (Python's `until(datetime | time | timedelta | str)`).
#[derive(Clone, Debug)]
pub enum Until {
    /// This instant, in any zone.
    Zoned(ZonedDateTime),
    /// This date and time in the job's zone.
    Civil(civil::DateTime),
    /// This time, today, in the job's zone.
    TimeToday(civil::Time),
    /// This long after the job is scheduled.
    After(Duration),
    /// Text: `"YYYY-MM-DD HH:MM:SS"`, `"YYYY-MM-DD HH:MM"`, `"YYYY-MM-DD"`,
    /// `"HH:MM:SS"` or `"HH:MM"` (a time means today).
    Text(String),
}

impl From<ZonedDateTime> for Until {
    fn from(value: ZonedDateTime) -> Until {
        Until::Zoned(value)
    }
}
impl From<civil::DateTime> for Until {
    fn from(value: civil::DateTime) -> Until {
        Until::Civil(value)
    }
}
impl From<civil::Time> for Until {
    fn from(value: civil::Time) -> Until {
        Until::TimeToday(value)
    }
}
impl From<Duration> for Until {
    fn from(value: Duration) -> Until {
        Until::After(value)
    }
}
impl From<&str> for Until {
    fn from(value: &str) -> Until {
        Until::Text(value.to_owned())
    }
}

impl Until {
    /// The instant this names, seen from `now` in `zone`.
    pub(crate) fn resolve(
        &self,
        now: Timestamp,
        zone: &TimeZone,
    ) -> Result<Timestamp, ScheduleError> {
        let today = zone.to_datetime(now).date();
        let civil_in_zone = |dt: civil::DateTime| {
            zone.to_ambiguous_timestamp(dt)
                .compatible()
                .unwrap_or(Timestamp::MAX)
        };
        Ok(match self {
            Until::Zoned(z) => z.timestamp(),
            Until::Civil(dt) => civil_in_zone(*dt),
            Until::TimeToday(t) => civil_in_zone(today.to_datetime(*t)),
            Until::After(d) => jiff::SignedDuration::try_from(*d)
                .ok()
                .and_then(|d| now.checked_add(d).ok())
                .unwrap_or(Timestamp::MAX),
            Until::Text(text) => {
                let bad = || ScheduleError::UntilFormat { text: text.clone() };
                let t = text.trim();
                // A date-time has a '-' (the date), a time of day has none.
                if t.contains('-') {
                    let dt: civil::DateTime = t.parse().map_err(|_| bad())?;
                    civil_in_zone(dt)
                } else {
                    let time: civil::Time = t.parse().map_err(|_| bad())?;
                    civil_in_zone(today.to_datetime(time))
                }
            }
        })
    }
}
