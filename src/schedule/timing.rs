//! When does a job run next? The two policies, and daylight saving.
//!
//! A job's [`Spec`] says "every `interval` `unit`, on `weekday`, at `at`, in `zone`".
//! From it and the current time this file computes the job's next **slot**:
//!
//! * seconds, minutes, hours are **lengths of time**: the slot is an instant and a
//!   step adds 3,600 s per hour, also on the night the clocks change (an hourly job
//!   runs 23 times on the spring-forward day and 25 times on the fall-back day);
//! * days and weeks are **calendar steps**: the slot is a civil date-time
//!   ("2026-11-24 10:30") in the job's zone, a step adds days to the date, and the
//!   time of day stays 10:30 whether the day lasts 23, 24 or 25 hours.
//!
//! Python's `schedule` does all of this in one method, `Job._schedule_next_run`,
//! with naive `datetime`s. Here it is five small methods of a [`Spec`]:
//!
//! | step                     | when                                 | Python                   |
//! |--------------------------|--------------------------------------|--------------------------|
//! | [`Spec::fits`]           | at `do_`: the interval stays before the year 10000 | (an `OverflowError` later) |
//! | [`Spec::first_after`]    | the first run, and [`DriftPolicy::FromFinish`] | `_schedule_next_run` |
//! | [`Spec::next_on_grid`]   | after a run, [`DriftPolicy::Grid`]   | (none: Python drifts)    |
//! | [`Spec::next_slot`]      | after a run: picks one of the two    | `_schedule_next_run`     |
//! | [`Spec::resolve`]        | slot to instant, in the job's zone   | `datetime.astimezone`    |
//!
//! ## A civil time on the change day ([`Spec::resolve`])
//!
//! ```text
//!   spring forward (Paris, 2027-03-28)    fall back (Paris, 2027-10-31)
//!   01:59 CET -> 03:00 CEST               02:59 CEST -> 02:00 CET
//!   "02:30" does not exist                "02:30" happens twice
//!   -> runs at 03:30 CEST                 -> runs once, at the first 02:30 (CEST)
//!      (pushed forward by the gap)           the second 02:30 is not a new slot
//! ```
//!
//! This is jiff's `compatible` disambiguation (RFC 5545, and what Python's
//! `datetime` does with `fold=0`). The next day the job is back at 02:30, because
//! the slot stays the civil "02:30" and only its instant moved.
//!
//! ## Python's policy and the grid ([`DriftPolicy`])
//!
//! ```text
//!   every(10).minutes(), the job takes 2 s, run_pending called each second
//!   grid        09:10:00  09:20:00  09:30:00  ...   next = first slot of the grid after now
//!   from finish 09:10:00  09:20:02  09:30:04  ...   next = (end of the run) + 10 min
//! ```
//!
//! Both run a late job **once**: after a pause of an hour, a 10-minute job does not
//! run six times in a row (no catch-up storm), it runs now and its next slot is in
//! the future.

use jiff::civil::{DateTime, Weekday};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Span, Timestamp};

use super::at::AtTime;

/// How the next run is computed after a run.
///
/// The default is [`Grid`](DriftPolicy::Grid): a job described as "every 10
/// minutes" runs at the times that description names, however long each run takes
/// and however late `run_pending` is called. Python's behaviour stays one call away
/// ([`Scheduler::set_drift_policy`](super::Scheduler::set_drift_policy)) for whoever
/// wants to compare. The two differ only for jobs without `at()` whose runs take
/// time or start late; a job with `at()` lands on the same time of day either way.
/// A job with `to()` (a random interval) has no grid: it always uses `FromFinish`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DriftPolicy {
    /// Next run = the first slot of the job's original schedule (its first run plus
    /// whole intervals) that is after now. No drift; a late run does not shift the
    /// runs after it.
    #[default]
    Grid,
    /// Python's `schedule`: the next run is computed afresh from the moment the job
    /// finished (`now + interval`, then moved to the `at()` time). A 10-minute job
    /// that takes 2 s runs every 10 min 2 s.
    FromFinish,
}

/// The unit of an interval. Weekday jobs are weekly jobs with a start day, as in
/// Python (`every().monday` sets `unit = "weeks"`, `start_day = "monday"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Unit {
    /// `seconds()`: a length of time, 1 s.
    Seconds,
    /// `minutes()`: a length of time, 60 s.
    Minutes,
    /// `hours()`: a length of time, 3,600 s, also on the nights the clocks change.
    Hours,
    /// `days()`: a calendar step, the next date at the same time of day.
    Days,
    /// `weeks()` and the weekdays: a calendar step of seven dates.
    Weeks,
}

impl Unit {
    /// Python's name for the unit, plural.
    pub(crate) fn plural(self) -> &'static str {
        match self {
            Unit::Seconds => "seconds",
            Unit::Minutes => "minutes",
            Unit::Hours => "hours",
            Unit::Days => "days",
            Unit::Weeks => "weeks",
        }
    }

    /// The singular, for an interval of 1 (`Every 1 minute do ...`).
    pub(crate) fn singular(self) -> &'static str {
        let plural = self.plural();
        &plural[..plural.len() - 1]
    }

    fn is_calendar(self) -> bool {
        matches!(self, Unit::Days | Unit::Weeks)
    }
}

/// What `every(..)` described, checked and parsed. It does not change once the job
/// is scheduled.
#[derive(Clone, Debug)]
pub(crate) struct Spec {
    /// `every(interval)`: how many units between two runs.
    pub(crate) interval: u32,
    /// `to(latest)`: the interval is drawn in `interval..=latest` before each run.
    pub(crate) latest: Option<u32>,
    /// The unit the interval counts in.
    pub(crate) unit: Unit,
    /// `monday()` ... `sunday()`: the day a weekly job runs on.
    pub(crate) weekday: Option<Weekday>,
    /// `at(..)`: the time of day (or of the hour, or of the minute) it runs at.
    pub(crate) at: Option<AtTime>,
    /// The zone the `at()` time and the dates are counted in.
    pub(crate) zone: TimeZone,
    /// `until(..)`: no run after this instant.
    pub(crate) until: Option<Timestamp>,
}

/// A slot of a job's schedule: an instant for sub-day units, a civil date-time in
/// the job's zone for days and weeks (see the module doc).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Slot {
    /// Seconds, minutes, hours: an instant; a step adds a length of time.
    Instant(Timestamp),
    /// Days, weeks: a date and time in the job's zone; a step adds dates, and
    /// [`Spec::resolve`] finds the instant.
    Civil(DateTime),
}

impl Spec {
    /// The instant a slot stands for. A civil time in a DST gap moves forward by the
    /// gap; one that happens twice is the first of the two (jiff's `compatible`).
    pub(crate) fn resolve(&self, slot: Slot) -> Timestamp {
        match slot {
            Slot::Instant(t) => t,
            Slot::Civil(dt) => self
                .zone
                .to_ambiguous_timestamp(dt)
                .compatible()
                // Only past the year 9999: such a job never runs.
                .unwrap_or(Timestamp::MAX),
        }
    }

    /// Whether one step of `interval` units from `now` stays within the dates jiff
    /// can represent (up to 9999-12-31): checked by `do_`, so that no interval is
    /// clamped silently (`every(u32::MAX).weeks()` is 82 million years).
    pub(crate) fn fits(&self, now: Timestamp, interval: u32) -> bool {
        let n = i64::from(interval);
        if self.unit.is_calendar() {
            let days = if self.unit == Unit::Weeks { n * 7 } else { n };
            let civil = self.zone.to_datetime(now);
            Span::new()
                .try_days(days)
                .is_ok_and(|span| civil.checked_add(span).is_ok())
        } else {
            // In plain seconds: a second call site of `Timestamp::checked_add` made
            // LLVM stop inlining it into `step`, the hot path (measured: +15% of
            // instructions on the 10,000-job day).
            let seconds = n * self.seconds_per_unit();
            now.as_second() + seconds <= Timestamp::MAX.as_second()
        }
    }

    /// The length of one unit, for sub-day units.
    fn seconds_per_unit(&self) -> i64 {
        match self.unit {
            Unit::Seconds => 1,
            Unit::Minutes => 60,
            _ => 3600,
        }
    }

    /// `slot` moved forward by `times` steps of `interval` units.
    fn step(&self, slot: Slot, interval: u32, times: i64) -> Slot {
        let n = i64::from(interval).saturating_mul(times);
        match slot {
            Slot::Instant(t) => {
                let length = SignedDuration::from_secs(n.saturating_mul(self.seconds_per_unit()));
                Slot::Instant(t.checked_add(length).unwrap_or(Timestamp::MAX))
            }
            Slot::Civil(dt) => {
                let days = if self.unit == Unit::Weeks { n * 7 } else { n };
                let moved = Span::new()
                    .try_days(days)
                    .and_then(|span| dt.checked_add(span))
                    .unwrap_or(DateTime::MAX);
                Slot::Civil(moved)
            }
        }
    }

    /// Python's `_schedule_next_run`, from `now`: move to the weekday, then to the
    /// `at()` time, add one interval if it is not 1, then whole intervals until the
    /// slot is after now. Used for the first run, and after each run under
    /// [`DriftPolicy::FromFinish`].
    pub(crate) fn first_after(&self, now: Timestamp, interval: u32) -> Slot {
        let mut civil = self.zone.to_datetime(now);
        if let Some(weekday) = self.weekday {
            // Today counts: a Wednesday job described on a Wednesday morning at 13:15
            // runs this afternoon.
            let ahead = weekday.since(civil.weekday());
            civil = Span::new()
                .try_days(i64::from(ahead))
                .and_then(|span| civil.checked_add(span))
                .unwrap_or(DateTime::MAX);
        }
        let mut slot = match (self.at, self.unit.is_calendar()) {
            // No `at()`, sub-day unit: count from this very instant. (Going through
            // the civil time would pick the wrong 02:30 during a fall-back hour.)
            (None, false) => Slot::Instant(now),
            (None, true) => Slot::Civil(civil),
            (Some(at), calendar) => {
                let moved = civil
                    .with()
                    .hour(at.hour.unwrap_or(civil.hour()))
                    .minute(at.minute.unwrap_or(civil.minute()))
                    .second(at.second)
                    .subsec_nanosecond(0)
                    .build()
                    .unwrap_or(civil);
                if calendar {
                    Slot::Civil(moved)
                } else {
                    Slot::Instant(self.resolve(Slot::Civil(moved)))
                }
            }
        };
        if interval != 1 {
            slot = self.step(slot, interval, 1);
        }
        while self.resolve(slot) <= now {
            slot = self.step(slot, interval, 1);
        }
        slot
    }

    /// The slot after a run that ended at `after`: on the grid, or afresh from
    /// `after` (Python's way, and always for a `to()` job, whose interval is drawn
    /// from `draw`, a random number).
    pub(crate) fn next_slot(
        &self,
        previous: Slot,
        drift: DriftPolicy,
        draw: u64,
        after: Timestamp,
    ) -> Slot {
        match (drift, self.latest) {
            (DriftPolicy::Grid, None) => self.next_on_grid(previous, after),
            (_, None) => self.first_after(after, self.interval),
            (_, Some(latest)) => {
                let span = u64::from(latest - self.interval) + 1;
                // `draw % span` < span <= u32::MAX + 1: it fits.
                let interval = self.interval + (draw % span) as u32;
                self.first_after(after, interval)
            }
        }
    }

    /// [`DriftPolicy::Grid`]: the first slot `previous + k × interval` (k ≥ 0) that
    /// is after `now`. (k = 0 when the job ran early, from `run_all`: its slot is
    /// still to come.) Skips whole missed periods in one jump, so a job paused for a
    /// month costs a division, not a loop over every missed slot.
    pub(crate) fn next_on_grid(&self, previous: Slot, now: Timestamp) -> Slot {
        if self.resolve(previous) > now {
            return previous;
        }
        let behind = match previous {
            Slot::Instant(t) => {
                let unit_secs = self.resolve(self.step(Slot::Instant(t), 1, 1));
                let unit_secs = unit_secs.duration_since(t).as_secs().max(1);
                now.duration_since(t).as_secs() / unit_secs
            }
            Slot::Civil(dt) => {
                let days = self.zone.to_datetime(now).date().duration_since(dt.date());
                let unit_days = if self.unit == Unit::Weeks { 7 } else { 1 };
                days.as_secs() / 86_400 / unit_days
            }
        };
        let interval = self.interval.max(1);
        // One step less than the estimate, so that rounding (and an hour of DST)
        // never makes us jump past the slot we want; the loop does the rest.
        let mut times = (behind / i64::from(interval) - 1).max(1);
        let mut slot = self.step(previous, interval, times);
        while self.resolve(slot) <= now {
            times += 1;
            slot = self.step(previous, interval, times);
        }
        slot
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::at::{AtKind, parse};
    use jiff::civil::datetime;

    fn paris() -> TimeZone {
        TimeZone::get("Europe/Paris").unwrap()
    }

    fn spec(interval: u32, unit: Unit, at: Option<(&str, AtKind)>) -> Spec {
        Spec {
            interval,
            latest: None,
            unit,
            weekday: None,
            at: at.map(|(text, kind)| parse(text, kind).unwrap()),
            zone: paris(),
            until: None,
        }
    }

    fn ts(dt: DateTime) -> Timestamp {
        paris().to_timestamp(dt).unwrap()
    }

    fn civil(s: &Spec, slot: Slot) -> DateTime {
        s.zone.to_datetime(s.resolve(slot))
    }

    #[test]
    fn grid_jumps_over_missed_slots() {
        // Every 10 minutes from 09:00; called at 11:35 -> next slot 11:40.
        let s = spec(10, Unit::Minutes, None);
        let previous = Slot::Instant(ts(datetime(2026, 11, 23, 9, 10, 0, 0)));
        for (now, expected) in [
            (
                datetime(2026, 11, 23, 9, 10, 0, 0),
                datetime(2026, 11, 23, 9, 20, 0, 0),
            ),
            (
                datetime(2026, 11, 23, 11, 35, 0, 0),
                datetime(2026, 11, 23, 11, 40, 0, 0),
            ),
            (
                datetime(2026, 11, 23, 11, 40, 0, 0),
                datetime(2026, 11, 23, 11, 50, 0, 0),
            ),
            (
                datetime(2026, 12, 25, 0, 0, 1, 0),
                datetime(2026, 12, 25, 0, 10, 0, 0),
            ),
        ] {
            let next = s.next_on_grid(previous, ts(now));
            assert_eq!(civil(&s, next), expected, "now = {now}");
        }
    }

    #[test]
    fn grid_of_days_keeps_the_time_of_day() {
        let s = spec(2, Unit::Days, Some(("10:30", AtKind::Daily)));
        let previous = Slot::Civil(datetime(2026, 11, 23, 10, 30, 0, 0));
        for (now, expected) in [
            (
                datetime(2026, 11, 23, 10, 30, 0, 0),
                datetime(2026, 11, 25, 10, 30, 0, 0),
            ),
            (
                datetime(2026, 11, 30, 9, 0, 0, 0),
                datetime(2026, 12, 1, 10, 30, 0, 0),
            ),
            // 128 days after the first slot, across the spring-forward night.
            (
                datetime(2027, 3, 29, 11, 0, 0, 0),
                datetime(2027, 3, 31, 10, 30, 0, 0),
            ),
        ] {
            let next = s.next_on_grid(previous, ts(now));
            assert_eq!(civil(&s, next), expected, "now = {now}");
        }
    }
}
