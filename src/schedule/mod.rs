//! `schedule`: periodic jobs in plain words, "every Monday at 13:15".
//!
//! ## The idea
//!
//! A job is a function, an interval ("every 10 minutes", "every Wednesday at
//! 13:15") and the time of its **next run**. [`run_pending`] runs the jobs whose
//! next run has come, then computes their following one. A program calls it in a
//! loop, or lets a background thread call it ([`Scheduler::run_in_background`]).
//! That is all of the `schedule` library of the course's last slide.
//!
//! ## The Python equivalent: the `schedule` library (1.2), and where we differ
//!
//! | Python `schedule`                              | clearloop                                                   |
//! |------------------------------------------------|-------------------------------------------------------------|
//! | `schedule.every(10).minutes.do(job)`           | [`every(10).minutes().do_(job)`](Every::do_) (`do` is a keyword: `do_`, with Python's trailing underscore) |
//! | `.second`/`.seconds` ... `.week`/`.weeks`      | [`second()`](Every::second), [`seconds()`](Every::seconds), ... [`weeks()`](Every::weeks) |
//! | `.monday` ... `.sunday`                        | [`monday()`](Every::monday) ... [`sunday()`](Every::sunday) |
//! | `.at("10:30")`, `.at("10:30", "Europe/Paris")` | [`at("10:30")`](Every::at), [`.in_zone("Europe/Paris")`](Every::in_zone) |
//! | `.to(m)`                                       | [`to(m)`](Every::to)                                        |
//! | `.until(datetime / time / timedelta / str)`    | [`until(..)`](Every::until): [`Until`] from a jiff date-time, time, `Duration` or `&str` |
//! | `.tag("a", "b")`                               | [`tag("a")`](Every::tag) before `do_`, [`Job::tag`] after   |
//! | `do(job, *args)`                               | `do_(move \|\| job(args))`; [`do_named`](Every::do_named) to name a closure |
//! | an `async def` job (not in `schedule`)         | [`do_async(job)`](Every::do_async) + [`run_pending_on(&runtime)`](Scheduler::run_pending_on) |
//! | `return schedule.CancelJob`                    | `return `[`CancelJob`] (a job returns `()` or `CancelJob`)  |
//! | `schedule.run_pending()`                       | [`run_pending()`]                                           |
//! | `schedule.run_all(delay_seconds=0)`            | [`run_all(Duration::ZERO)`](run_all)                        |
//! | `schedule.get_jobs()`, `get_jobs("tag")`       | [`get_jobs()`], [`get_jobs_tagged("tag")`](get_jobs_tagged) |
//! | `schedule.clear()`, `clear("tag")`             | [`clear()`], [`clear_tagged("tag")`](clear_tagged)          |
//! | `schedule.cancel_job(job)`                     | [`cancel_job(&job)`](cancel_job)                            |
//! | `schedule.idle_seconds()`, `next_run()`        | [`idle_seconds()`], [`next_run()`]: `Option`s, `None` without jobs |
//! | `schedule.Scheduler()`                         | [`Scheduler::new()`], [`Scheduler::with_clock(clock)`](Scheduler::with_clock) |
//! | `repr(job)`                                    | `job.to_string()` ([`Job`]'s `Display`)                     |
//! | `job.next_run`, `job.last_run`, `job.tags`     | [`Job::next_run`], [`Job::last_run`], [`Job::tags`]          |
//! | `IntervalError`, `ScheduleValueError`          | [`ScheduleError`], returned by `do_`                        |
//! | `logging.getLogger("schedule")`                | [`Scheduler::on_report`] with a [`Report`]                  |
//! | `while True: run_pending(); time.sleep(1)` in a thread | [`Scheduler::run_in_background`] → [`Background`]   |
//! | `while now() < end: run_pending(); time.sleep(1)` | [`Scheduler::run_until(end)`](Scheduler::run_until): sleeps until each next run |
//! | monkey-patching `datetime.now` in tests        | [`Scheduler::with_clock`]`(`[`Clock::virtual_in`]`(..))`     |
//!
//! Where clearloop differs, on purpose:
//!
//! * **Mistakes wait for `do_`.** Python raises at the word that is wrong; here
//!   the sentence is built first and `do_` returns the first mistake, so a
//!   description needs one `?`, at its end.
//! * **Next runs on a grid by default** ([`DriftPolicy`]): Python computes the next
//!   run from the end of the previous one, so a 10-minute job slowly drifts;
//!   [`DriftPolicy::FromFinish`] keeps Python's way.
//! * **Ordered jobs.** Python's `run_pending` looks at every job and sorts the
//!   due ones on each call; here they stay ordered by next run, so a call with
//!   nothing due costs the same whether there are 10 jobs or 100,000. The order
//!   is Python's: by next run, then (for jobs due at the same instant) in the
//!   order they were added, whatever each job's history.
//! * **A panicking job does not stop the others**: it is reported, and kept (or
//!   cancelled: [`PanicPolicy`]). In Python the exception leaves `run_pending`.
//! * **Time zones and daylight saving** follow one documented rule (the `timing`
//!   module): days keep their time of day, hours are 3,600 s, a time in the
//!   spring gap runs just after it, a time that happens twice runs once.
//! * **A weekday job displays its day** (`Every 1 week on Monday at ...`); Python
//!   prints only `Every 1 week`.
//! * **The background thread sleeps until the next run** and is woken by changes,
//!   instead of waking every second.
//!
//! ## The jobs, ordered by next run
//!
//! ```text
//!   now = Monday 2026-11-23 09:00 (Europe/Paris)
//!
//!   next run              job
//!   ─────────────────────────────────────────────────────────────
//!   Mon 09:00:17  <─ first    every(1).minute().at(":17")
//!   Mon 09:10:00              every(10).minutes()
//!   Mon 10:00:00              every(1).hour()
//!   Mon 10:30:00              every(1).day().at("10:30")
//!   Wed 13:15:00              every(1).wednesday().at("13:15")
//!   Mon 11-30 09:00           every(1).monday()
//!
//!   run_pending() at 09:10:00 runs the first two, then files them again:
//!   every(1).minute() -> 09:11:17, every(10).minutes() -> 09:20:00
//! ```
//!
//! ## The course's slide, in Rust
//!
//! Dates, times and zones are [jiff](https://docs.rs/jiff)'s, which clearloop
//! re-exports as [`clearloop::jiff`](crate::jiff): no need to add jiff to your own
//! `Cargo.toml` to build a start date or read a [`Job::next_run`].
//!
//! ```
//! use std::time::Duration;
//! use clearloop::clock::Clock;
//! use clearloop::schedule::{Scheduler, ScheduleError};
//! use clearloop::jiff::civil::datetime; // jiff, as clearloop re-exports it
//!
//! fn job() {
//!     println!("I'm working...");
//! }
//!
//! # fn main() -> Result<(), ScheduleError> {
//! // Monday 2026-11-23 09:00 in Paris, on a virtual clock: a week takes no time.
//! let start = datetime(2026, 11, 23, 9, 0, 0, 0).in_tz("Europe/Paris").unwrap();
//! let clock = Clock::virtual_in(&start);
//! let schedule = Scheduler::with_clock(clock.clone());
//!
//! schedule.every(10).minutes().do_(job)?;
//! schedule.every(1).hour().do_(job)?;
//! schedule.every(1).day().at("10:30").do_(job)?;
//! schedule.every(1).monday().do_(job)?;
//! schedule.every(1).wednesday().at("13:15").do_(job)?;
//! let minutely = schedule.every(1).minute().at(":17").do_(job)?;
//!
//! assert_eq!(
//!     minutely.to_string(),
//!     "Every 1 minute at 00:00:17 do job() (last run: [never], next run: 2026-11-23 09:00:17)"
//! );
//! for _ in 0..20 {
//!     schedule.run_pending();
//!     clock.sleep(Duration::from_secs(1)); // time.sleep(1), instant here
//! }
//! assert_eq!(minutely.last_run().unwrap().time().to_string(), "09:00:17");
//! # Ok(())
//! # }
//! ```
//!
//! The module-level functions ([`every`], [`run_pending`], ...) work on a default
//! scheduler on the real clock, as Python's module does.

mod at;
mod background;
mod error;
mod job;
mod order;
mod report;
mod run;
mod scheduler;
mod store;
mod timing;
mod until;

pub use background::Background;
pub use error::ScheduleError;
pub use job::{CancelJob, Every, Job, JobOutcome};
pub use report::{PanicPolicy, Report};
pub use scheduler::Scheduler;
pub use timing::DriftPolicy;
pub use until::Until;

#[cfg(doc)]
use crate::clock::Clock;

use std::time::Duration;

use jiff::ZonedDateTime;

use scheduler::default_scheduler;

/// `schedule.every(interval)` on the default scheduler (real clock).
pub fn every(interval: u32) -> Every {
    default_scheduler().every(interval)
}

/// `schedule.run_pending()` on the default scheduler.
pub fn run_pending() {
    default_scheduler().run_pending()
}

/// `schedule.run_all(delay_seconds)` on the default scheduler.
pub fn run_all(delay: Duration) {
    default_scheduler().run_all(delay)
}

/// `schedule.get_jobs()` on the default scheduler.
pub fn get_jobs() -> Vec<Job> {
    default_scheduler().get_jobs()
}

/// `schedule.get_jobs(tag)` on the default scheduler.
pub fn get_jobs_tagged(tag: &str) -> Vec<Job> {
    default_scheduler().get_jobs_tagged(tag)
}

/// `schedule.clear()` on the default scheduler.
pub fn clear() {
    default_scheduler().clear()
}

/// `schedule.clear(tag)` on the default scheduler.
pub fn clear_tagged(tag: &str) {
    default_scheduler().clear_tagged(tag)
}

/// `schedule.cancel_job(job)` on the default scheduler.
pub fn cancel_job(job: &Job) -> bool {
    default_scheduler().cancel_job(job)
}

/// `schedule.idle_seconds()` on the default scheduler.
pub fn idle_seconds() -> Option<f64> {
    default_scheduler().idle_seconds()
}

/// `schedule.next_run()` on the default scheduler.
pub fn next_run() -> Option<ZonedDateTime> {
    default_scheduler().next_run()
}

/// The default scheduler itself, e.g. to run it in the background.
pub fn default() -> Scheduler {
    default_scheduler().clone()
}
