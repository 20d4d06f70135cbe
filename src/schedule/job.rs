//! Describing a job: `every(10).minutes().do_(job)`, and the [`Job`] it returns.
//!
//! Python builds the sentence on a `Job` object: `every(10)` creates it, `.minutes`
//! sets its unit, `.do(job)` adds it to the scheduler. [`Every`] is that sentence
//! before `do_`: each word returns it, the first mistake is kept, and
//! [`do_`](Every::do_) either schedules the job or returns the mistake.
//!
//! ```text
//!   every(1) ──.wednesday()──> Every{weeks, Wed} ──.at("13:15")──> Every{.., 13:15}
//!                                                      │
//!        .do_(job) ── checks, parses, first next run ──┴──> Ok(Job) in the scheduler
//!                                                           or Err(ScheduleError)
//! ```
//!
//! `do` is a Rust keyword, so the method is `do_`: Python's own convention for a
//! name that clashes with a keyword (`class_`, `from_`). `r#do` would also compile,
//! but reads worse.

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use jiff::civil::Weekday;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ZonedDateTime};

use super::ScheduleError;
use super::at::{self, AtKind, AtTime};
use super::scheduler::Scheduler;
use super::timing::{Spec, Unit};
use super::until::Until;

/// What a job returns: `()` to keep running, [`CancelJob`] to be removed after this
/// run (Python's `return schedule.CancelJob`), or `Option<CancelJob>` to decide at
/// each run.
pub trait JobOutcome {
    /// Whether the job asks to be cancelled.
    fn cancels(&self) -> bool;
}

impl JobOutcome for () {
    fn cancels(&self) -> bool {
        false
    }
}

/// Return this from a job to run it one last time (Python's `schedule.CancelJob`).
///
/// ```
/// use clearloop::clock::Clock;
/// use clearloop::schedule::{CancelJob, Scheduler};
/// let s = Scheduler::with_clock(Clock::manual(std::time::SystemTime::UNIX_EPOCH));
/// s.every(1).second().do_(|| CancelJob).unwrap();
/// s.run_all(std::time::Duration::ZERO);
/// assert!(s.get_jobs().is_empty());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CancelJob;

impl JobOutcome for CancelJob {
    fn cancels(&self) -> bool {
        true
    }
}

/// `Some(CancelJob)` to stop, `None` to go on: Python's `return schedule.CancelJob`
/// in one branch and nothing in the other.
impl JobOutcome for Option<CancelJob> {
    fn cancels(&self) -> bool {
        self.is_some()
    }
}

/// A sync job, boxed: every closure has its own type.
pub(crate) type SyncAction = Box<dyn FnMut() -> bool + Send>;
/// An async job: each call makes a new future, spawned as a task when due.
pub(crate) type AsyncAction = Box<dyn FnMut() -> Pin<Box<dyn Future<Output = ()> + Send>> + Send>;

/// The code a job runs.
pub(crate) enum Action {
    /// Called on the thread that runs `run_pending`; returns "cancel me".
    Sync(SyncAction),
    /// Spawned on the runtime given to `run_pending_on`.
    Async(AsyncAction),
}

/// A job being described: what `every(n)` returns, before [`do_`](Every::do_).
///
/// Each method takes and returns the description, so it reads as one sentence.
/// A mistake (`every(2).monday()`) is kept and returned by `do_`.
#[must_use = "nothing is scheduled until .do_(job) is called"]
pub struct Every {
    scheduler: Scheduler,
    interval: u32,
    latest: Option<u32>,
    unit: Option<Unit>,
    weekday: Option<Weekday>,
    at: Option<String>,
    zone: Option<String>,
    until: Option<Until>,
    tags: Vec<String>,
    /// The first mistake made in the sentence, returned by `do_`.
    error: Option<ScheduleError>,
}

impl Every {
    pub(crate) fn new(scheduler: Scheduler, interval: u32) -> Every {
        let error = (interval == 0).then(|| {
            ScheduleError::Interval("every(0): the interval must be at least 1".to_owned())
        });
        Every {
            scheduler,
            interval,
            latest: None,
            unit: None,
            weekday: None,
            at: None,
            zone: None,
            until: None,
            tags: Vec::new(),
            error,
        }
    }

    fn fail(mut self, error: ScheduleError) -> Every {
        self.error.get_or_insert(error);
        self
    }

    fn unit(mut self, unit: Unit, singular: bool) -> Every {
        if let Some(previous) = self.unit {
            let message = format!(
                "every({}) already has a unit ({}); give it one unit only",
                self.interval,
                previous.plural()
            );
            return self.fail(ScheduleError::Interval(message));
        }
        if singular && self.interval != 1 {
            // Python: "Use minutes instead of minute".
            let message = format!(
                "every({n}).{one}(): use {many}() instead of {one}() for an interval \
                 other than 1",
                n = self.interval,
                one = unit.singular(),
                many = unit.plural()
            );
            return self.fail(ScheduleError::Interval(message));
        }
        self.unit = Some(unit);
        self
    }

    fn weekday(mut self, day: Weekday, name: &str) -> Every {
        if self.interval != 1 {
            // Python's IntervalError for `every(2).monday`.
            let message = format!(
                "every({}).{name}(): weekday jobs run every week; scheduling them every \
                 2 weeks or more is not supported (write every(1).{name}())",
                self.interval
            );
            return self.fail(ScheduleError::Interval(message));
        }
        self = self.unit(Unit::Weeks, true);
        self.weekday = Some(day);
        self
    }

    /// Every second (`every(1)` only).
    pub fn second(self) -> Every {
        self.unit(Unit::Seconds, true)
    }
    /// Every `n` seconds.
    pub fn seconds(self) -> Every {
        self.unit(Unit::Seconds, false)
    }
    /// Every minute (`every(1)` only).
    pub fn minute(self) -> Every {
        self.unit(Unit::Minutes, true)
    }
    /// Every `n` minutes.
    pub fn minutes(self) -> Every {
        self.unit(Unit::Minutes, false)
    }
    /// Every hour (`every(1)` only).
    pub fn hour(self) -> Every {
        self.unit(Unit::Hours, true)
    }
    /// Every `n` hours.
    pub fn hours(self) -> Every {
        self.unit(Unit::Hours, false)
    }
    /// Every day (`every(1)` only).
    pub fn day(self) -> Every {
        self.unit(Unit::Days, true)
    }
    /// Every `n` days.
    pub fn days(self) -> Every {
        self.unit(Unit::Days, false)
    }
    /// Every week (`every(1)` only).
    pub fn week(self) -> Every {
        self.unit(Unit::Weeks, true)
    }
    /// Every `n` weeks.
    pub fn weeks(self) -> Every {
        self.unit(Unit::Weeks, false)
    }
    /// Every Monday (`every(1)` only).
    pub fn monday(self) -> Every {
        self.weekday(Weekday::Monday, "monday")
    }
    /// Every Tuesday (`every(1)` only).
    pub fn tuesday(self) -> Every {
        self.weekday(Weekday::Tuesday, "tuesday")
    }
    /// Every Wednesday (`every(1)` only).
    pub fn wednesday(self) -> Every {
        self.weekday(Weekday::Wednesday, "wednesday")
    }
    /// Every Thursday (`every(1)` only).
    pub fn thursday(self) -> Every {
        self.weekday(Weekday::Thursday, "thursday")
    }
    /// Every Friday (`every(1)` only).
    pub fn friday(self) -> Every {
        self.weekday(Weekday::Friday, "friday")
    }
    /// Every Saturday (`every(1)` only).
    pub fn saturday(self) -> Every {
        self.weekday(Weekday::Saturday, "saturday")
    }
    /// Every Sunday (`every(1)` only).
    pub fn sunday(self) -> Every {
        self.weekday(Weekday::Sunday, "sunday")
    }

    /// At this time: `"HH:MM:SS"` or `"HH:MM"` for days and weekdays, `"MM:SS"` or
    /// `":MM"` for hours, `":SS"` for minutes (Python's `at(time_str)`). Checked by
    /// [`do_`](Every::do_), whose error shows the expected format.
    pub fn at(mut self, time: &str) -> Every {
        self.at = Some(time.to_owned());
        self
    }

    /// The time zone the `at()` time and the days are counted in, by IANA name
    /// (Python's `at(time_str, tz)`). Without it, the scheduler clock's zone.
    pub fn in_zone(mut self, name: &str) -> Every {
        self.zone = Some(name.to_owned());
        self
    }

    /// A random interval between `every(n)` and `to(latest)`, drawn again before
    /// each run (Python's `to(latest)`). Such a job has no grid: its next run always
    /// counts from the end of the previous one.
    pub fn to(mut self, latest: u32) -> Every {
        self.latest = Some(latest);
        self
    }

    /// Stop running the job after this moment: the job is cancelled at the first
    /// `run_pending` past it (Python's `until`). A moment already past is an error.
    pub fn until(mut self, until: impl Into<Until>) -> Every {
        self.until = Some(until.into());
        self
    }

    /// Marks the job with a tag, for [`get_jobs_tagged`](Scheduler::get_jobs_tagged)
    /// and [`clear_tagged`](Scheduler::clear_tagged) (Python's `tag(*tags)`).
    pub fn tag(mut self, tag: &str) -> Every {
        if !self.tags.iter().any(|t| t == tag) {
            self.tags.push(tag.to_owned());
        }
        self
    }

    /// Schedules `job` (Python's `do(job_func)`): it will run on the thread that
    /// calls `run_pending`. The job returns `()`, or [`CancelJob`] to stop after
    /// this run.
    ///
    /// The job shows as its function's name (`job()`); a closure shows as
    /// `closure()`: give it a name with [`do_named`](Every::do_named).
    ///
    /// # Errors
    ///
    /// The first mistake of the description: see [`ScheduleError`].
    pub fn do_<F, R>(self, job: F) -> Result<Job, ScheduleError>
    where
        F: FnMut() -> R + Send + 'static,
        R: JobOutcome,
    {
        let name = short_name(std::any::type_name::<F>());
        self.do_named(&name, job)
    }

    /// Like [`do_`](Every::do_), with the name the job shows as.
    ///
    /// # Errors
    ///
    /// As [`do_`](Every::do_).
    pub fn do_named<F, R>(self, name: &str, mut job: F) -> Result<Job, ScheduleError>
    where
        F: FnMut() -> R + Send + 'static,
        R: JobOutcome,
    {
        self.schedule(name, Action::Sync(Box::new(move || job().cancels())))
    }

    /// Schedules an async job: when due, `job()` is spawned as a task on the runtime
    /// given to [`run_pending_on`](Scheduler::run_pending_on). While that task is
    /// still running, the job is not started again: the run is skipped and the log
    /// says so. A panic of the task is reported like a sync job's.
    ///
    /// # Errors
    ///
    /// As [`do_`](Every::do_).
    pub fn do_async<F, Fut>(self, mut job: F) -> Result<Job, ScheduleError>
    where
        F: FnMut() -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let name = short_name(std::any::type_name::<F>());
        let action: AsyncAction = Box::new(move || Box::pin(job()));
        self.schedule(&name, Action::Async(action))
    }

    fn schedule(self, name: &str, action: Action) -> Result<Job, ScheduleError> {
        if let Some(error) = self.error {
            return Err(error);
        }
        let unit = self.unit.ok_or(ScheduleError::NoUnit {
            interval: self.interval,
        })?;
        let zone = match &self.zone {
            None => self.scheduler.clock().time_zone(),
            Some(name) => TimeZone::get(name)
                .map_err(|_| ScheduleError::UnknownTimeZone { name: name.clone() })?,
        };
        let at = self.at_time(unit)?;
        if let Some(latest) = self.latest
            && latest < self.interval
        {
            return Err(ScheduleError::ToBelowInterval {
                interval: self.interval,
                latest,
            });
        }
        let now = self.scheduler.clock().timestamp_now();
        let until = self.deadline(now, &zone)?;
        let spec = Spec {
            interval: self.interval,
            latest: self.latest,
            unit,
            weekday: self.weekday,
            at,
            zone,
            until,
        };
        let longest = self.latest.unwrap_or(self.interval);
        if !spec.fits(now, longest) {
            // Only intervals of thousands of years get here (1 is never too long).
            let message = format!(
                "every({}).{unit}(): {longest} {unit} from now is after 9999-12-31, the \
                 last date clearloop can count to; give a shorter interval",
                self.interval,
                unit = unit.plural(),
            );
            return Err(ScheduleError::Interval(message));
        }
        Ok(self.scheduler.add(spec, name.to_owned(), self.tags, action))
    }
}

impl Every {
    /// The `at()` text, checked against the unit's format.
    fn at_time(&self, unit: Unit) -> Result<Option<AtTime>, ScheduleError> {
        let Some(text) = &self.at else {
            return Ok(None);
        };
        let kind = match (unit, self.weekday) {
            (Unit::Days, _) | (Unit::Weeks, Some(_)) => AtKind::Daily,
            (Unit::Hours, _) => AtKind::Hourly,
            (Unit::Minutes, _) => AtKind::Minutely,
            (Unit::Seconds | Unit::Weeks, _) => {
                return Err(ScheduleError::AtNotAllowed {
                    unit: unit.plural(),
                });
            }
        };
        at::parse(text, kind).map(Some)
    }

    /// The `until()` deadline, which must not be past.
    fn deadline(
        &self,
        now: Timestamp,
        zone: &TimeZone,
    ) -> Result<Option<Timestamp>, ScheduleError> {
        let Some(until) = &self.until else {
            return Ok(None);
        };
        let deadline = until.resolve(now, zone)?;
        if deadline < now {
            let show = |t: Timestamp| format_time(t, zone);
            return Err(ScheduleError::UntilInPast {
                until: show(deadline),
                now: show(now),
            });
        }
        Ok(Some(deadline))
    }
}

/// `crate::module::job` -> `job`; a closure's `{{closure}}` -> `closure`, also
/// inside a generic function (`app::run::<u8>::{{closure}}`), as `sched` shows it.
fn short_name(type_name: &str) -> String {
    if type_name.ends_with("{{closure}}") {
        return "closure".to_owned();
    }
    // Generic parameters may contain `::` too: keep only what is outside `<...>`.
    let mut depth = 0_u32;
    let outside: String = type_name
        .chars()
        .filter(|&c| {
            match c {
                '<' => depth += 1,
                '>' => depth = depth.saturating_sub(1),
                _ => return depth == 0,
            }
            false
        })
        .collect();
    let last = outside
        .trim_end_matches("::")
        .rsplit("::")
        .next()
        .unwrap_or("");
    if last.is_empty() {
        "closure".to_owned()
    } else {
        last.to_owned()
    }
}

/// `YYYY-MM-DD HH:MM:SS` in `zone`, as Python's `strftime("%Y-%m-%d %H:%M:%S")`.
pub(crate) fn format_time(t: Timestamp, zone: &TimeZone) -> String {
    zone.to_datetime(t)
        .strftime("%Y-%m-%d %H:%M:%S")
        .to_string()
}

/// A scheduled job: a handle that reads the job's live state from its scheduler.
///
/// Displays like Python's `repr(job)`:
/// `Every 10 minutes do job() (last run: [never], next run: 2026-11-23 09:10:00)`.
/// Cloning the handle does not clone the job.
#[derive(Clone)]
pub struct Job {
    pub(crate) id: u64,
    pub(crate) scheduler: Scheduler,
}

impl Job {
    /// The job's next run, in its zone; `None` once it is cancelled.
    pub fn next_run(&self) -> Option<ZonedDateTime> {
        self.scheduler
            .job_times(self.id)
            .map(|(next, _, zone)| next.to_zoned_datetime(zone))
    }

    /// When the job's last run finished, in its zone (Python sets `last_run` after
    /// the job returns); `None` before the first run or once cancelled.
    pub fn last_run(&self) -> Option<ZonedDateTime> {
        self.scheduler
            .job_times(self.id)
            .and_then(|(_, last, zone)| last.map(|t| t.to_zoned_datetime(zone)))
    }

    /// The job's tags, in the order they were given.
    pub fn tags(&self) -> Vec<String> {
        self.scheduler.job_tags(self.id)
    }

    /// Adds a tag after `do_`, as Python's `every().day.do(job).tag("daily")`.
    pub fn tag(self, tag: &str) -> Job {
        self.scheduler.add_tag(self.id, tag);
        self
    }

    /// Whether the job is still in its scheduler.
    pub fn is_scheduled(&self) -> bool {
        self.scheduler.job_times(self.id).is_some()
    }
}

impl PartialEq for Job {
    fn eq(&self, other: &Job) -> bool {
        self.id == other.id && self.scheduler.same_as(&other.scheduler)
    }
}

impl fmt::Display for Job {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.scheduler.describe(self.id))
    }
}

impl fmt::Debug for Job {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Job({})", self)
    }
}

/// The words of Python's repr before `do`: `Every 10 minutes`, `Every 1 day at
/// 10:30:00`, `Every 1 to 5 seconds`. Weekday jobs name their day (Python prints
/// only `Every 1 week`, which loses it).
pub(crate) fn describe_spec(spec: &Spec) -> String {
    let unit = if spec.interval == 1 && spec.latest.is_none() {
        spec.unit.singular()
    } else {
        spec.unit.plural()
    };
    let mut text = format!("Every {}", spec.interval);
    if let Some(latest) = spec.latest {
        text += &format!(" to {latest}");
    }
    text += &format!(" {unit}");
    if let Some(day) = spec.weekday {
        text += &format!(" on {day:?}");
    }
    if let Some(at) = spec.at {
        text += &format!(" at {at}");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::short_name;

    #[test]
    fn short_names() {
        assert_eq!(short_name("clearloop::schedule::job"), "job");
        assert_eq!(short_name("my_app::main::{{closure}}"), "closure");
        assert_eq!(short_name("job"), "job");
        assert_eq!(short_name("app::run::<u8>::{{closure}}"), "closure");
        assert_eq!(short_name("app::Worker<u8>::tick"), "tick");
    }
}
