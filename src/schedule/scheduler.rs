//! [`Scheduler`]: the jobs, the clock they run by, and `run_pending`.
//!
//! Python's `Scheduler` keeps a plain list: `run_pending` asks every job "should
//! you run?" and sorts the ones that say yes, so one call costs O(n) even when
//! nothing is due. Here the jobs stay ordered by next run ([`Order`](super::order)),
//! as asyncio keeps its timers: `run_pending` looks at the first one, and stops at
//! the first job that is not due. With 100,000 jobs and none due, that is one
//! comparison.
//!
//! ```text
//!   Scheduler (a handle: clones share it)
//!   └─ Shared { clock, state: Mutex<State> }
//!      State:  store   the jobs by id, and their order       (store.rs, order.rs)
//!              drift, on_panic, report, rng                  the scheduler's settings
//!              in_flight                                     tasks of async jobs
//!              sleepers                                      background runners, run_until
//!
//!   run_pending at 09:10: first in order (09:10, #0): due -> run #0 (run.rs:
//!   take, call, file), filed again at 09:20; first is now 09:20 > now: stop.
//! ```
//!
//! The lock is never held while a job runs: a job may add, cancel or list jobs
//! (even itself), and another thread may do the same meanwhile.
//!
//! ## What `job.rs` calls back
//!
//! [`Every`] and [`Job`] are handles on a scheduler; they reach its state through
//! six crate-private calls, each one short lock:
//!
//! | call                         | by                      | does                                   |
//! |------------------------------|-------------------------|----------------------------------------|
//! | [`add`](Scheduler::add)      | `Every::do_` and kin    | computes the first run, files the job  |
//! | [`job_times`](Scheduler::job_times) | `Job::next_run`, `last_run`, `is_scheduled` | reads the two times and the zone |
//! | [`job_tags`](Scheduler::job_tags) | `Job::tags`        | copies the tags                        |
//! | [`add_tag`](Scheduler::add_tag) | `Job::tag`           | adds a tag, once                       |
//! | [`describe`](Scheduler::describe) | `Job`'s `Display`  | Python's repr, or "job #3 (cancelled)" |
//! | [`same_as`](Scheduler::same_as) | `Job`'s `PartialEq`, `cancel_job` | whether two handles share the jobs |

use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::thread::Thread;
use std::time::Duration;

use jiff::{Timestamp, ZonedDateTime};

use super::error::ScheduleError;
use super::job::{Action, Every, Job};
use super::report::{PanicPolicy, Report, ReportFn, default_sink};
use super::run::drop_caught;
use super::store::{Entry, Store};
use super::timing::{DriftPolicy, Spec};
use super::until::Until;
use crate::clock::Clock;
use crate::runtime::Handle;
use crate::{Runtime, Task, panics};

/// A set of jobs and the clock they run by (Python's `schedule.Scheduler`).
///
/// A handle: clones share the jobs, so one clone can live in a background thread
/// while another adds jobs.
#[derive(Clone)]
pub struct Scheduler {
    pub(super) shared: Arc<Shared>,
}

/// What the clones of a scheduler share.
pub(super) struct Shared {
    pub(super) clock: Clock,
    state: Mutex<State>,
    /// Where each job's run is recorded ([`Scheduler::trace_into`]), if anywhere.
    pub(super) trace: std::sync::OnceLock<Arc<crate::trace::Recorder>>,
}

/// Everything the lock protects; nobody holds it while a job runs.
pub(super) struct State {
    /// The jobs, by id, and the order they run in.
    pub(super) store: Store,
    /// The id of the next job added: ids grow, so they give the order of addition.
    next_id: u64,
    pub(super) drift: DriftPolicy,
    pub(super) on_panic: PanicPolicy,
    report: ReportFn,
    /// Whether anyone listens for routine reports (`Ran`): only after `on_report`.
    /// Describing a job formats two date-times; on the default sink, which drops
    /// `Ran`, that was most of the cost of a run (measured: 1.2 s of the 10,000-job
    /// day in `benches/schedule.rs`).
    pub(super) routine_reports: bool,
    /// The seeded generator of `to()`'s draws.
    rng: crate::random::SplitMix64,
    /// How many jobs are taken to run and not yet filed and reported. They count
    /// as due in `next_run` and `idle_seconds`, at the next run they were taken at,
    /// as Python's running job does (its `next_run` changes only once it returns).
    /// A count, not a list: two instructions a run; `next_timestamp` (cold) finds
    /// the running jobs themselves when it is not zero.
    pub(super) running: usize,
    /// The jobs filed but whose reports are still being sent, with the next run
    /// they were taken at. Only runs that report something come here.
    pub(super) reporting: Vec<(u64, Timestamp)>,
    /// Tasks of async jobs that have not been seen finished yet.
    pub(super) in_flight: Vec<InFlight>,
    /// The threads that sleep until the next run (a background runner, a
    /// `run_until`): unparked by any change to the jobs.
    sleepers: Vec<Thread>,
}

/// The task of an async job, kept until it is seen finished (`reap_tasks`).
pub(super) struct InFlight {
    pub(super) job: u64,
    pub(super) task: Task<()>,
}

impl Scheduler {
    /// A scheduler on the real clock, reading the time in the system's zone.
    pub fn new() -> Scheduler {
        Scheduler::with_clock(Clock::real())
    }

    /// A scheduler on `clock`: a virtual one for tests (see
    /// [`Clock::virtual_in`]), whose zone is the default zone of the jobs.
    pub fn with_clock(clock: Clock) -> Scheduler {
        let seed = std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish();
        Scheduler {
            shared: Arc::new(Shared {
                clock,
                state: Mutex::new(State {
                    store: Store::default(),
                    next_id: 0,
                    drift: DriftPolicy::default(),
                    on_panic: PanicPolicy::default(),
                    report: default_sink(),
                    routine_reports: false,
                    rng: crate::random::SplitMix64::new(seed),
                    running: 0,
                    reporting: Vec::new(),
                    in_flight: Vec::new(),
                    sleepers: Vec::new(),
                }),
                trace: std::sync::OnceLock::new(),
            }),
        }
    }

    /// Records each job run (its name, when, how long) into `recorder`, as a
    /// `job_run` event ([`crate::trace`]); give it a recorder on the scheduler's
    /// clock. The first recorder given stays; later calls return `false`.
    pub fn trace_into(&self, recorder: Arc<crate::trace::Recorder>) -> bool {
        self.shared.trace.set(recorder).is_ok()
    }

    /// The scheduler's clock.
    pub fn clock(&self) -> &Clock {
        &self.shared.clock
    }

    /// Starts describing a job that runs every `interval` units (Python's
    /// `every(interval=1)`); finish the sentence with a unit and [`do_`](Every::do_).
    pub fn every(&self, interval: u32) -> Every {
        Every::new(self.clone(), interval)
    }

    /// How the next run is computed after each run; [`DriftPolicy::Grid`] unless
    /// set. Applies from the next run of each job on.
    pub fn set_drift_policy(&self, policy: DriftPolicy) {
        self.lock().drift = policy;
    }

    /// What happens to a job that panics; [`PanicPolicy::Keep`] unless set.
    pub fn set_panic_policy(&self, policy: PanicPolicy) {
        self.lock().on_panic = policy;
    }

    /// Sends every [`Report`] to `report` instead of the default (problems to
    /// stderr, the rest dropped). It is called outside the scheduler's lock.
    pub fn on_report(&self, report: impl Fn(&Report) + Send + Sync + 'static) {
        let mut state = self.lock();
        state.report = Arc::new(report);
        state.routine_reports = true;
    }

    /// Seeds the random draws of `to()` jobs, to replay them in a test.
    pub fn seed(&self, seed: u64) {
        self.lock().rng = crate::random::SplitMix64::new(seed);
    }

    /// Runs every job that is due, in order of next run, and jobs due at the same
    /// instant in the order they were added (Python's `run_pending`).
    /// A job that is late by several periods runs once. Async jobs are not run
    /// here (they need a runtime): see [`run_pending_on`](Scheduler::run_pending_on).
    pub fn run_pending(&self) {
        self.run_due(None);
    }

    /// [`run_pending`](Scheduler::run_pending), spawning due async jobs as tasks of
    /// `runtime`. Their tasks run when the runtime runs: call this from inside
    /// `runtime.block_on(..)`, or before it.
    pub fn run_pending_on(&self, runtime: &Runtime) {
        self.run_due(Some(&runtime.handle()));
    }

    /// [`run_pending_on`](Scheduler::run_pending_on) through a runtime's
    /// [`Handle`], which works from any thread (the background runner uses it).
    pub fn run_pending_on_handle(&self, handle: &Handle) {
        self.run_due(Some(handle));
    }

    pub(crate) fn run_due(&self, runtime: Option<&Handle>) {
        self.run_due_up_to(runtime, Timestamp::MAX);
    }

    /// [`run_due`](Scheduler::run_due), leaving the jobs due after `limit` for later.
    fn run_due_up_to(&self, runtime: Option<&Handle>, limit: Timestamp) {
        self.reap_tasks();
        let now = self.shared.clock.timestamp_now();
        let up_to = now.min(limit);
        loop {
            let mut state = self.lock();
            let (id, place) = match state.store.head() {
                Some((next, id, place)) if next <= up_to => {
                    state.store.order.pop();
                    (id, place)
                }
                // The first entry is in the future: so is every other one.
                _ => break,
            };
            // The same lock goes on to take the job's action: one lock, not two.
            self.run_one(state, id, place, now, runtime);
        }
    }

    /// Runs every job now, whether due or not, in the order they were added, waiting
    /// `delay` after each one, the last included (Python's
    /// `run_all(delay_seconds=0)`, whose loop is `for job in self.jobs[:]:
    /// self._run_job(job); time.sleep(delay_seconds)`): five jobs and a delay of 1 s
    /// take 5 s. A job cancelled meanwhile (by a job that ran before it) is skipped,
    /// with its wait. On a manual clock only a zero delay makes sense: its sleep
    /// waits for someone to advance time.
    pub fn run_all(&self, delay: Duration) {
        let ids = self.lock().store.ids_where(|_| true);
        for id in ids {
            let now = self.shared.clock.timestamp_now();
            let state = self.lock();
            let Some(place) = state.store.jobs.place(id) else {
                continue;
            };
            self.run_one(state, id, place, now, None);
            if !delay.is_zero() {
                self.shared.clock.sleep(delay);
            }
        }
    }

    /// Runs the jobs as they fall due until `end`, sleeping on the scheduler's clock
    /// in between, and returns once the clock reads `end` (the jobs due at `end`
    /// included). On a virtual clock, days take no time: this is how a test or a
    /// simulation runs a scheduler through a week. `end` takes the forms of
    /// [`Every::until`]: a date-time, a time today, a `Duration` from now, a text
    /// such as `"2026-11-26 09:00"`.
    ///
    /// Python's `schedule` has no such call; its idiom is a loop,
    /// `while datetime.now() < end: schedule.run_pending(); time.sleep(1)`. This one
    /// sleeps exactly until the next run (or `end`), as the [background
    /// runner](Scheduler::run_in_background) does, and a job added meanwhile by
    /// another thread wakes it. Async jobs are not run (they need a runtime): see
    /// [`run_pending_on`](Scheduler::run_pending_on). On a manual clock it returns
    /// only once someone has advanced the clock to `end`.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use clearloop::clock::Clock;
    /// use clearloop::jiff::civil::date;
    /// use clearloop::jiff::ToSpan;
    /// use clearloop::schedule::Scheduler;
    ///
    /// # fn main() -> Result<(), clearloop::schedule::ScheduleError> {
    /// // Monday 2026-11-23 09:00 in Paris, on a virtual clock.
    /// let start = date(2026, 11, 23).at(9, 0, 0, 0).in_tz("Europe/Paris").unwrap();
    /// let schedule = Scheduler::with_clock(Clock::virtual_in(&start));
    /// let coffees = Arc::new(AtomicUsize::new(0));
    /// let count = coffees.clone();
    /// schedule.every(1).day().at("10:30").do_named("coffee", move || {
    ///     count.fetch_add(1, Ordering::SeqCst);
    /// })?;
    ///
    /// let thursday = start.checked_add(3.days()).unwrap(); // 09:00, three days later
    /// schedule.run_until(thursday.clone())?; // three days, in no time
    /// assert_eq!(coffees.load(Ordering::SeqCst), 3); // Monday, Tuesday, Wednesday
    /// assert_eq!(schedule.clock().zoned_now(), thursday);
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// [`ScheduleError::UntilFormat`] for a text that is not a date-time or a time of
    /// day; nothing runs then.
    pub fn run_until(&self, end: impl Into<Until>) -> Result<(), ScheduleError> {
        let clock = &self.shared.clock;
        let end = end
            .into()
            .resolve(clock.timestamp_now(), &clock.time_zone())?;
        let me = std::thread::current();
        loop {
            self.run_due_up_to(None, end);
            // Registered before the next run is read, under one lock: a job added
            // after the read unparks us (std keeps the unpark as a token).
            let next = self.register_sleeper(&me);
            if clock.timestamp_now() >= end {
                break;
            }
            let wake_at = next.map_or(end, |next| next.min(end));
            let deadline = super::background::deadline_of(clock, wake_at);
            if deadline > clock.now() {
                clock.park_until(Some(deadline));
            }
        }
        self.unregister_sleeper(&me);
        Ok(())
    }

    /// All jobs, in the order they were added (Python's `get_jobs()`).
    pub fn get_jobs(&self) -> Vec<Job> {
        let ids = self.lock().store.ids_where(|_| true);
        ids.into_iter().map(|id| self.job(id)).collect()
    }

    /// The jobs with this tag (Python's `get_jobs(tag)`).
    pub fn get_jobs_tagged(&self, tag: &str) -> Vec<Job> {
        let ids = self.lock().store.ids_where(|e| e.has_tag(tag));
        ids.into_iter().map(|id| self.job(id)).collect()
    }

    /// Removes every job (Python's `clear()`).
    pub fn clear(&self) {
        let mut state = self.lock();
        let jobs = std::mem::take(&mut state.store);
        state.wake_sleeper();
        drop(state);
        drop_caught("(all, by clear)", jobs);
    }

    /// Removes the jobs with this tag (Python's `clear(tag)`).
    pub fn clear_tagged(&self, tag: &str) {
        let mut state = self.lock();
        let ids = state.store.ids_where(|e| e.has_tag(tag));
        let removed: Vec<Entry> = ids
            .into_iter()
            .filter_map(|id| state.store.remove(id))
            .collect();
        state.wake_sleeper();
        drop(state);
        for entry in removed {
            drop_caught(&entry.name.clone(), entry);
        }
    }

    /// Removes `job` (Python's `cancel_job(job)`). Returns whether it was still
    /// scheduled; cancelling twice is harmless, as in Python. A job cancelled while
    /// it runs finishes that run and is not rescheduled.
    pub fn cancel_job(&self, job: &Job) -> bool {
        if !self.same_as(&job.scheduler) {
            return false;
        }
        let mut state = self.lock();
        let removed = state.store.remove(job.id);
        state.wake_sleeper();
        drop(state);
        let found = removed.is_some();
        if let Some(entry) = removed {
            drop_caught(&entry.name.clone(), entry);
        }
        found
    }

    /// The earliest next run of all jobs, in the clock's zone (Python's
    /// `next_run`); `None` without jobs.
    pub fn next_run(&self) -> Option<ZonedDateTime> {
        let next = self.next_timestamp()?;
        Some(next.to_zoned_datetime(self.shared.clock.time_zone()))
    }

    /// Seconds until the earliest next run, negative if it is overdue (Python's
    /// `idle_seconds`); `None` without jobs.
    pub fn idle_seconds(&self) -> Option<f64> {
        let next = self.next_timestamp()?;
        let now = self.shared.clock.timestamp_now();
        Some(next.duration_since(now).as_secs_f64())
    }

    /// The earliest next run, counting the jobs running right now at the next run
    /// they were taken at (in the past): while a job runs, or its reports are being
    /// sent, `idle_seconds()` is not positive. Someone who waits for "the next run
    /// is in the future" has waited for the runs to finish, not just to start.
    pub(crate) fn next_timestamp(&self) -> Option<Timestamp> {
        let mut state = self.lock();
        let waiting = state.store.head().map(|(t, _, _)| t);
        if state.running == 0 {
            return waiting;
        }
        // A running job's entry has no action, and still its old next run.
        let jobs = state.store.jobs.iter();
        let running = jobs
            .filter(|(_, e)| e.action.is_none())
            .map(|(_, e)| e.next_run);
        let reporting = state.reporting.iter().map(|&(_, t)| t);
        waiting.into_iter().chain(running).chain(reporting).min()
    }

    // ---- for Every and Job (see the module doc), and the background runner ----

    /// Adds a job described by `spec`, computing its first run from now.
    pub(crate) fn add(&self, spec: Spec, name: String, tags: Vec<String>, action: Action) -> Job {
        let now = self.shared.clock.timestamp_now();
        let slot = spec.first_after(now, spec.interval);
        let next_run = spec.resolve(slot);
        let entry = Entry {
            spec,
            name,
            tags,
            slot,
            next_run,
            last_run: None,
            action: Some(action),
            task_running: false,
        };
        let id = {
            let mut state = self.lock();
            let id = state.next_id;
            state.next_id += 1;
            state.store.insert(id, entry);
            state.wake_sleeper();
            id
        };
        self.job(id)
    }

    fn job(&self, id: u64) -> Job {
        Job {
            id,
            scheduler: self.clone(),
        }
    }

    /// Whether `other` is a clone of this scheduler (shares its jobs).
    pub(crate) fn same_as(&self, other: &Scheduler) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }

    /// Job `id`'s next run, last run and zone; `None` once it is cancelled.
    pub(crate) fn job_times(
        &self,
        id: u64,
    ) -> Option<(Timestamp, Option<Timestamp>, jiff::tz::TimeZone)> {
        let zone = self.shared.clock.time_zone();
        let state = self.lock();
        state
            .store
            .jobs
            .get(&id)
            .map(|e| (e.next_run, e.last_run, zone))
    }

    /// Job `id`'s tags (none once it is cancelled).
    pub(crate) fn job_tags(&self, id: u64) -> Vec<String> {
        let state = self.lock();
        let entry = state.store.jobs.get(&id);
        entry.map(|e| e.tags.clone()).unwrap_or_default()
    }

    /// Tags job `id` with `tag`, unless it has it already.
    pub(crate) fn add_tag(&self, id: u64, tag: &str) {
        let mut state = self.lock();
        if let Some(entry) = state.store.jobs.get_mut(&id)
            && !entry.tags.iter().any(|t| t == tag)
        {
            entry.tags.push(tag.to_owned());
        }
    }

    /// Python's repr of job `id`, or `job #id (cancelled)`.
    pub(crate) fn describe(&self, id: u64) -> String {
        let state = self.lock();
        match state.store.jobs.get(&id) {
            Some(entry) => entry.describe(),
            None => format!("job #{id} (cancelled)"),
        }
    }

    /// Registers `thread` (once) among the threads unparked by changes to the jobs;
    /// returns the next run, read under the same lock (so no change slips between).
    pub(crate) fn register_sleeper(&self, thread: &Thread) -> Option<Timestamp> {
        let mut state = self.lock();
        if !state.sleepers.iter().any(|t| t.id() == thread.id()) {
            state.sleepers.push(thread.clone());
        }
        state.store.head().map(|(t, _, _)| t)
    }

    /// Takes `thread` out of the threads unparked by changes.
    pub(crate) fn unregister_sleeper(&self, thread: &Thread) {
        self.lock().sleepers.retain(|t| t.id() != thread.id());
    }

    /// Sends `reports` to the report function, outside the lock.
    pub(super) fn emit(&self, reports: Vec<Report>) {
        if reports.is_empty() {
            return;
        }
        let report = self.lock().report.clone();
        for r in &reports {
            // The hook is user code: its panic is reported, and the scheduler (the
            // background runner, the caller's `run_pending`) goes on.
            if let Err(payload) = panics::catch(|| report(r)) {
                let what = format!(
                    "the report hook given to on_report (reporting on job {})",
                    r.job()
                );
                panics::report(what, &*payload, "the scheduler goes on");
            }
        }
    }

    /// The scheduler's lock. A panic never happens under it (jobs and report
    /// functions run outside it), so its poison flag means nothing here.
    pub(super) fn lock(&self) -> MutexGuard<'_, State> {
        panics::lock(&self.shared.state)
    }
}

impl State {
    fn wake_sleeper(&self) {
        for thread in &self.sleepers {
            thread.unpark();
        }
    }

    /// Job `id`'s reports are sent: it no longer counts as running.
    pub(super) fn done_reporting(&mut self, id: u64) {
        self.running -= 1;
        if let Some(i) = self.reporting.iter().position(|&(job, _)| job == id) {
            self.reporting.swap_remove(i);
        }
    }

    /// The next draw of the seeded generator, for `to()` intervals.
    pub(super) fn next_random(&mut self) -> u64 {
        self.rng.next_u64()
    }
}

impl Default for Scheduler {
    fn default() -> Scheduler {
        Scheduler::new()
    }
}

impl fmt::Debug for Scheduler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        f.debug_struct("Scheduler")
            .field("jobs", &state.store.jobs.len())
            .field("clock", &self.shared.clock)
            .finish()
    }
}

/// The scheduler behind the module-level functions, on the real clock.
pub(crate) fn default_scheduler() -> &'static Scheduler {
    static DEFAULT: OnceLock<Scheduler> = OnceLock::new();
    DEFAULT.get_or_init(Scheduler::new)
}
