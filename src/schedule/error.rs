//! What can go wrong when a job is described: [`ScheduleError`].
//!
//! Python's `schedule` raises `IntervalError` (`every(2).monday`, `every(10).minute`)
//! and `ScheduleValueError` (a bad `at()` text, a unit that takes no `at()`, an
//! `until` in the past) at the line that went wrong. Here the builder keeps the
//! first mistake and [`do_`](super::Every::do_) returns it, so a whole description
//! reads as one sentence with a single `?` at its end. Each message names the call
//! that went wrong and what to write instead.

use std::fmt;

/// Why a job could not be scheduled. Returned by [`do_`](super::Every::do_) and
/// [`do_async`](super::Every::do_async); nothing is added to the scheduler then.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScheduleError {
    /// Python's `IntervalError`: an interval that does not fit the unit
    /// (`every(2).monday()`, `every(10).minute()`, `every(0)`), two units, or an
    /// interval so long that the next run would be after the year 9999
    /// (`every(u32::MAX).weeks()`).
    Interval(String),
    /// `every(n)` was never given a unit (`.minutes()`, `.monday()`, ...).
    NoUnit {
        /// The interval given to `every`.
        interval: u32,
    },
    /// `at()` on a unit that does not take it (seconds, or plain weeks).
    AtNotAllowed {
        /// The unit, as Python names it (`seconds`, `weeks`).
        unit: &'static str,
    },
    /// `at()` text that does not match the unit's format.
    AtFormat {
        /// The text given to `at()`.
        text: String,
        /// The kind of job: `daily`, `hourly`, `minutely`.
        job: &'static str,
        /// The formats this kind of job accepts, e.g. `"HH:MM:SS" or "HH:MM"`.
        expected: &'static str,
        /// What exactly is wrong, e.g. `hour 25 is not in 00-23`.
        reason: String,
    },
    /// A time-zone name jiff does not know (`in_zone("Europe/Pariss")`).
    UnknownTimeZone {
        /// The name given.
        name: String,
    },
    /// `to(m)` with `m` smaller than the interval of `every(n)`.
    ToBelowInterval {
        /// `n`.
        interval: u32,
        /// `m`.
        latest: u32,
    },
    /// `until(...)` names a moment that has already passed.
    UntilInPast {
        /// The deadline, as `YYYY-MM-DD HH:MM:SS` in the job's zone.
        until: String,
        /// The time it was checked at, in the same format.
        now: String,
    },
    /// `until("...")` text that is not a date-time or a time of day.
    UntilFormat {
        /// The text given.
        text: String,
    },
}

impl fmt::Display for ScheduleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScheduleError::Interval(message) => write!(f, "interval error: {message}"),
            ScheduleError::NoUnit { interval } => write!(
                f,
                "every({interval}) has no unit: say every({interval}).minutes(), .hours(), \
                 .days(), ... before do_()"
            ),
            ScheduleError::AtNotAllowed { unit } => write!(
                f,
                "at() cannot be used with every(..).{unit}(): it is for days, hours, \
                 minutes and weekdays (e.g. every(1).day().at(\"10:30\"))"
            ),
            ScheduleError::AtFormat {
                text,
                job,
                expected,
                reason,
            } => write!(
                f,
                "invalid time {text:?} for {} {job} job ({reason}): expected {expected}",
                // "an hourly job": the h is silent.
                if *job == "hourly" { "an" } else { "a" }
            ),
            ScheduleError::UnknownTimeZone { name } => write!(
                f,
                "unknown time zone {name:?}: use an IANA name such as \"Europe/Paris\" \
                 or \"America/New_York\""
            ),
            ScheduleError::ToBelowInterval { interval, latest } => write!(
                f,
                "every({interval}).to({latest}): the upper bound must be at least the \
                 interval ({latest} < {interval})"
            ),
            ScheduleError::UntilInPast { until, now } => write!(
                f,
                "cannot schedule a job to run until a time in the past: until {until}, \
                 but it is already {now}"
            ),
            ScheduleError::UntilFormat { text } => write!(
                f,
                "invalid until({text:?}): expected \"YYYY-MM-DD HH:MM:SS\", \
                 \"YYYY-MM-DD HH:MM\", \"YYYY-MM-DD\", \"HH:MM:SS\" or \"HH:MM\""
            ),
        }
    }
}

impl std::error::Error for ScheduleError {}
