//! [`Scheduler`]: the jobs, kept in order of their next run, and `run_pending`.
//!
//! Python's `Scheduler` keeps a plain list: `run_pending` asks every job "should
//! you run?" and sorts the ones that say yes, so one call costs O(n) even when
//! nothing is due. Here `(next run, id)` pairs sit in a binary heap (a min-heap:
//! the earliest on top), as asyncio keeps its timers: `run_pending` looks at the
//! top, and stops at the first job that is not due. With 100,000 jobs and none
//! due, that is one comparison.
//!
//! ```text
//!   jobs (a slab, by id)             order: min-heap of (next run, id)
//!   #0 Every 10 minutes                        (09:10:00, #0)   <- top: due at 09:10?
//!   #1 Every 1 hour                           /              \
//!   #2 Every 1 day at 10:30          (10:00:00, #1)   (10:30:00, #2)
//!
//!   run_pending at 09:10: pop (09:10, #0), run #0 (lock released),
//!   push (09:20, #0); the top is now 09:20 > now: stop.
//!   cancel_job(#1): remove #1 from the slab only; (10:00, #1) is now stale and
//!   is dropped when it reaches the top (lazy deletion, as asyncio does).
//! ```
//!
//! Why a heap and not a `BTreeSet`, which `sched` uses: a job is popped and
//! pushed back at each run, and `cancel` is rare. On the 10,000-job day of
//! `benches/schedule.rs` the tree's insert and remove were a third of a run's
//! cost; the heap's push of a later time stops near the bottom. What the heap
//! costs: a cancelled job's entry waits to reach the top (or a rebuild, once
//! stale entries outnumber live ones), and every reader must skip stale entries
//! ([`State::head`]).
//!
//! The lock is never held while a job runs: a job may add, cancel or list jobs
//! (even itself), and another thread may do the same meanwhile.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};
use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::thread::Thread;
use std::time::Duration;

use jiff::{Timestamp, ZonedDateTime};

use super::job::{Action, Every, Job, describe_spec, format_time};
use super::timing::{DriftPolicy, Slot, Spec};
use crate::clock::Clock;
use crate::runtime::Handle;
use crate::{Runtime, Task};

/// What happens to a job whose run panics. Either way the panic is reported
/// (with the job's description) and the other jobs go on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PanicPolicy {
    /// Keep the job: it runs again at its next slot. Python's `run_pending` lets the
    /// exception fly and the job stays in the list; this is the closest we get
    /// without stopping the other jobs.
    #[default]
    Keep,
    /// Cancel the job after its first panic.
    Cancel,
}

/// Something a scheduler tells about its jobs, handed to the function given to
/// [`Scheduler::on_report`]. Python's `schedule` logs these with `logging`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Report {
    /// A job ran (or, for an async job, its task was spawned).
    Ran {
        /// The job's description, as it displays after the run.
        job: String,
    },
    /// An async job fell due while its previous task was still running: not
    /// started a second time.
    Skipped {
        /// The job's description.
        job: String,
    },
    /// A job panicked (a sync job in `run_pending`, an async job's task).
    Panicked {
        /// The job's description.
        job: String,
        /// The panic's message.
        message: String,
        /// Whether the job was cancelled for it ([`PanicPolicy::Cancel`]).
        cancelled: bool,
    },
    /// An async job fell due in `run_pending` (or in the background runner), which
    /// has no runtime to spawn it on; use [`Scheduler::run_pending_on`].
    NoRuntime {
        /// The job's description.
        job: String,
    },
    /// A job left the scheduler by itself: it returned [`CancelJob`](super::CancelJob)
    /// or went past its `until`.
    Cancelled {
        /// The job's description.
        job: String,
        /// `"it returned CancelJob"` or `"it is past its until()"`.
        why: &'static str,
    },
}

impl Report {
    /// Whether this is worth a line on stderr when nobody asked for reports:
    /// panics, skips, and async jobs with no runtime.
    pub fn is_problem(&self) -> bool {
        matches!(
            self,
            Report::Skipped { .. } | Report::Panicked { .. } | Report::NoRuntime { .. }
        )
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Report::Ran { job } => write!(f, "ran: {job}"),
            Report::Skipped { job } => write!(
                f,
                "skipped: {job}: its previous run is still running, not starting it twice"
            ),
            Report::Panicked {
                job,
                message,
                cancelled,
            } => {
                write!(f, "job panicked: {job}: {message}")?;
                if *cancelled {
                    f.write_str(" (job cancelled: PanicPolicy::Cancel)")?;
                }
                Ok(())
            }
            Report::NoRuntime { job } => write!(
                f,
                "not run: {job}: an async job needs a runtime; call \
                 run_pending_on(&runtime) instead of run_pending(), or \
                 run_in_background_on(runtime.handle())"
            ),
            Report::Cancelled { job, why } => write!(f, "cancelled: {job}: {why}"),
        }
    }
}

type ReportFn = Arc<dyn Fn(&Report) + Send + Sync>;

/// A set of jobs and the clock they run by (Python's `schedule.Scheduler`).
///
/// A handle: clones share the jobs, so one clone can live in a background thread
/// while another adds jobs.
#[derive(Clone)]
pub struct Scheduler {
    shared: Arc<Shared>,
}

struct Shared {
    clock: Clock,
    state: Mutex<State>,
}

/// Everything the lock protects; nobody holds it while a job runs.
struct State {
    /// Every job of the scheduler, by id (ids grow: sorting them gives insertion
    /// order). See [`Jobs`] for why not a `BTreeMap`.
    jobs: Jobs,
    /// `(next run, id)` of every job that is not running right now, smallest on
    /// top. Entries may be **stale**: a cancelled job, or a job whose next run
    /// changed, leaves its old entry behind (lazy deletion); an entry counts only
    /// while `jobs[id].next_run` equals its time and the job is not running. See
    /// [`State::head`]. Times are kept as nanoseconds (`i128`): comparing two
    /// integers was measured faster than comparing two `Timestamp`s.
    order: Order,
    next_id: u64,
    drift: DriftPolicy,
    on_panic: PanicPolicy,
    report: ReportFn,
    /// Whether anyone listens for routine reports (`Ran`): only after `on_report`.
    /// Describing a job formats two date-times; on the default sink, which drops
    /// `Ran`, that was most of the cost of a run (measured: 1.2 s of the 10,000-job
    /// day in `benches/schedule.rs`).
    routine_reports: bool,
    /// SplitMix64 state, for `to()`.
    rng: u64,
    /// Tasks of async jobs that have not been seen finished yet.
    in_flight: Vec<InFlight>,
    /// The background runner's thread while it sleeps: unparked by any change.
    sleeper: Option<Thread>,
}

struct Entry {
    spec: Spec,
    name: String,
    tags: Vec<String>,
    /// The slot of the next run (an instant, or a civil time in the job's zone).
    slot: Slot,
    next_run: Timestamp,
    last_run: Option<Timestamp>,
    /// `None` while a `run_pending` has taken it to run it.
    action: Option<Action>,
    /// An async job whose task is still running.
    task_running: bool,
}

struct InFlight {
    job: u64,
    task: Task<()>,
}

/// What to do with a job after running it (or not).
enum Ran {
    /// It ran, and returned; `true`: it asked to be cancelled.
    Returned(bool),
    Panicked(String),
    /// Not run (async: still running, or no runtime).
    NotRun,
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
                    jobs: Jobs::default(),
                    order: Order::default(),
                    next_id: 0,
                    drift: DriftPolicy::default(),
                    on_panic: PanicPolicy::default(),
                    report: Arc::new(|report: &Report| {
                        if report.is_problem() {
                            eprintln!("schedule: {report}");
                        }
                    }),
                    routine_reports: false,
                    rng: seed,
                    in_flight: Vec::new(),
                    sleeper: None,
                }),
            }),
        }
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
        self.lock().rng = seed;
    }

    /// Runs every job that is due, in order of next run (Python's `run_pending`).
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
        self.reap_tasks();
        let now = self.shared.clock.timestamp_now();
        loop {
            let mut state = self.lock();
            let due = match state.head() {
                Some((next, id)) if next <= now => {
                    state.order.pop();
                    id
                }
                // The first entry is in the future: so is every other one.
                _ => break,
            };
            // The same lock goes on to take the job's action: one lock, not two.
            self.run_one(state, due, now, runtime);
        }
    }

    /// Runs every job now, whether due or not, waiting `delay` between two jobs
    /// (Python's `run_all(delay_seconds=0)`). On a manual clock only a zero delay
    /// makes sense: its sleep waits for someone to advance time.
    pub fn run_all(&self, delay: Duration) {
        let mut jobs: Vec<(Timestamp, u64)> = {
            let state = self.lock();
            state.jobs.iter().map(|(id, e)| (e.next_run, id)).collect()
        };
        jobs.sort_unstable();
        let ids = jobs.into_iter().map(|(_, id)| id);
        for (i, id) in ids.into_iter().enumerate() {
            if i > 0 && !delay.is_zero() {
                self.shared.clock.sleep(delay);
            }
            let now = self.shared.clock.timestamp_now();
            self.run_one(self.lock(), id, now, None);
        }
    }

    /// Runs job `id` without the lock, then files its next run. Its old entry in
    /// the order was popped by `run_due`, or goes stale (`run_all`).
    fn run_one(
        &self,
        mut guard: MutexGuard<'_, State>,
        id: u64,
        now: Timestamp,
        runtime: Option<&Handle>,
    ) {
        let mut reports = Vec::new();
        let taken = {
            let state = &mut *guard;
            let Some(entry) = state.jobs.get_mut(&id) else {
                return;
            };
            let Some(action) = entry.action.take() else {
                // Another thread is running it right now.
                return;
            };
            let task_running = entry.task_running;
            // Python checks `until` before running: a job past it is cancelled unrun.
            let overdue = entry.spec.until.is_some_and(|until| now > until);
            if overdue {
                let job = state.describe(id);
                state.jobs.remove(&id);
                reports.push(Report::Cancelled {
                    job,
                    why: "it is past its until()",
                });
                None
            } else {
                Some((action, task_running))
            }
        };
        // Never hold the lock while a job runs: it may add or cancel jobs.
        drop(guard);
        let Some((mut action, task_running)) = taken else {
            self.emit(reports);
            return;
        };
        let ran = match &mut action {
            Action::Sync(call) => match panic::catch_unwind(AssertUnwindSafe(call)) {
                Ok(cancel) => Ran::Returned(cancel),
                Err(payload) => Ran::Panicked(crate::panics::message(&*payload)),
            },
            Action::Async(make) => {
                if task_running {
                    Ran::NotRun
                } else if let Some(runtime) = runtime {
                    match panic::catch_unwind(AssertUnwindSafe(make)) {
                        Ok(future) => {
                            let task = runtime.spawn(future);
                            self.lock().in_flight.push(InFlight { job: id, task });
                            Ran::Returned(false)
                        }
                        Err(payload) => Ran::Panicked(crate::panics::message(&*payload)),
                    }
                } else {
                    Ran::NotRun
                }
            }
        };
        let after = self.shared.clock.timestamp_now();
        {
            let mut state = self.lock();
            let drift = state.drift;
            let on_panic = state.on_panic;
            let draw = state.next_random();
            // Cancelled while it ran (by itself or another thread): nothing to put back.
            let Some(entry) = state.jobs.get_mut(&id) else {
                drop(state);
                self.emit(reports);
                return;
            };
            let is_async = matches!(action, Action::Async(_));
            entry.action = Some(action);
            let mut cancel = None;
            match &ran {
                Ran::Returned(asked) => {
                    entry.last_run = Some(now);
                    // An async job that "returned" had its task spawned.
                    if is_async {
                        entry.task_running = true;
                    }
                    if *asked {
                        cancel = Some("it returned CancelJob");
                    }
                }
                Ran::Panicked(_) => entry.last_run = Some(now),
                Ran::NotRun => {}
            }
            // The next slot: on the grid, or afresh from now (Python).
            let spec = &entry.spec;
            entry.slot = match (drift, spec.latest) {
                (DriftPolicy::Grid, None) => spec.next_on_grid(entry.slot, after),
                (_, latest) => {
                    let interval = match latest {
                        Some(latest) => {
                            let span = u64::from(latest - spec.interval) + 1;
                            spec.interval + (draw % span) as u32
                        }
                        None => spec.interval,
                    };
                    spec.first_after(after, interval)
                }
            };
            entry.next_run = spec.resolve(entry.slot);
            let next_run = entry.next_run;
            if cancel.is_none() && spec.until.is_some_and(|until| entry.next_run > until) {
                cancel = Some("it is past its until()");
            }
            let panicked_cancel =
                matches!(ran, Ran::Panicked(_)) && on_panic == PanicPolicy::Cancel;
            // A quiet run builds no description (see `routine_reports`).
            let quiet =
                matches!(ran, Ran::Returned(_)) && cancel.is_none() && !state.routine_reports;
            let job = if quiet {
                String::new()
            } else {
                state.describe(id)
            };
            match ran {
                Ran::Returned(_) if quiet => {}
                Ran::Returned(_) => reports.push(Report::Ran { job: job.clone() }),
                Ran::Panicked(message) => reports.push(Report::Panicked {
                    job: job.clone(),
                    message,
                    cancelled: panicked_cancel,
                }),
                Ran::NotRun if task_running => reports.push(Report::Skipped { job: job.clone() }),
                Ran::NotRun => reports.push(Report::NoRuntime { job: job.clone() }),
            }
            if let Some(why) = cancel {
                reports.push(Report::Cancelled { job, why });
                state.jobs.remove(&id);
            } else if panicked_cancel {
                state.jobs.remove(&id);
            } else {
                state.order.push(next_run.as_nanosecond(), id);
            }
        }
        self.emit(reports);
    }

    /// Looks at the tasks of async jobs: a finished one frees its job for its next
    /// run, and a panic is reported (the handle is kept until then, so no panic is
    /// lost with a dropped handle).
    fn reap_tasks(&self) {
        let mut reports = Vec::new();
        {
            let mut state = self.lock();
            if state.in_flight.is_empty() {
                return;
            }
            let on_panic = state.on_panic;
            let (done, running): (Vec<InFlight>, Vec<InFlight>) =
                std::mem::take(&mut state.in_flight)
                    .into_iter()
                    .partition(|f| f.task.done());
            state.in_flight = running;
            for finished in done {
                let Some(entry) = state.jobs.get_mut(&finished.job) else {
                    continue;
                };
                entry.task_running = false;
                if let Ok(Some(error)) = finished.task.exception()
                    && error.is_panic()
                {
                    let message = error.panic_message().unwrap_or("").to_owned();
                    let cancelled = on_panic == PanicPolicy::Cancel;
                    reports.push(Report::Panicked {
                        job: state.describe(finished.job),
                        message,
                        cancelled,
                    });
                    if cancelled {
                        state.remove(finished.job);
                    }
                }
            }
        }
        self.emit(reports);
    }

    /// All jobs, in the order they were added (Python's `get_jobs()`).
    pub fn get_jobs(&self) -> Vec<Job> {
        let mut ids: Vec<u64> = self.lock().jobs.iter().map(|(id, _)| id).collect();
        ids.sort_unstable();
        ids.into_iter().map(|id| self.job(id)).collect()
    }

    /// The jobs with this tag (Python's `get_jobs(tag)`).
    pub fn get_jobs_tagged(&self, tag: &str) -> Vec<Job> {
        let mut ids: Vec<u64> = self
            .lock()
            .jobs
            .iter()
            .filter(|(_, e)| e.tags.iter().any(|t| t == tag))
            .map(|(id, _)| id)
            .collect();
        ids.sort_unstable();
        ids.into_iter().map(|id| self.job(id)).collect()
    }

    /// Removes every job (Python's `clear()`).
    pub fn clear(&self) {
        let mut state = self.lock();
        state.jobs.clear();
        state.order.clear();
        state.wake_sleeper();
    }

    /// Removes the jobs with this tag (Python's `clear(tag)`).
    pub fn clear_tagged(&self, tag: &str) {
        let mut state = self.lock();
        let ids: Vec<u64> = state
            .jobs
            .iter()
            .filter(|(_, e)| e.tags.iter().any(|t| t == tag))
            .map(|(id, _)| id)
            .collect();
        for id in ids {
            state.remove(id);
        }
        state.wake_sleeper();
    }

    /// Removes `job` (Python's `cancel_job(job)`). Returns whether it was still
    /// scheduled; cancelling twice is harmless, as in Python. A job cancelled while
    /// it runs finishes that run and is not rescheduled.
    pub fn cancel_job(&self, job: &Job) -> bool {
        if !self.same_as(&job.scheduler) {
            return false;
        }
        let mut state = self.lock();
        let removed = state.remove(job.id);
        state.wake_sleeper();
        removed
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

    pub(crate) fn next_timestamp(&self) -> Option<Timestamp> {
        let mut state = self.lock();
        // A running job is not in `order`; Python would count its old next_run,
        // which is in the past. Its new one is known when it returns.
        state.head().map(|(t, _)| t)
    }

    // ---- for Every, Job and the background runner ----

    pub(crate) fn add(&self, spec: Spec, name: String, tags: Vec<String>, action: Action) -> Job {
        let now = self.shared.clock.timestamp_now();
        let slot = spec.first_after(now, spec.interval);
        let next_run = spec.resolve(slot);
        let id = {
            let mut state = self.lock();
            let id = state.next_id;
            state.next_id += 1;
            state.jobs.insert(
                id,
                Entry {
                    spec,
                    name,
                    tags,
                    slot,
                    next_run,
                    last_run: None,
                    action: Some(action),
                    task_running: false,
                },
            );
            state.order.push(next_run.as_nanosecond(), id);
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

    pub(crate) fn same_as(&self, other: &Scheduler) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }

    pub(crate) fn job_times(
        &self,
        id: u64,
    ) -> Option<(Timestamp, Option<Timestamp>, jiff::tz::TimeZone)> {
        let zone = self.shared.clock.time_zone();
        let state = self.lock();
        state.jobs.get(&id).map(|e| (e.next_run, e.last_run, zone))
    }

    pub(crate) fn job_tags(&self, id: u64) -> Vec<String> {
        let state = self.lock();
        state
            .jobs
            .get(&id)
            .map(|e| e.tags.clone())
            .unwrap_or_default()
    }

    pub(crate) fn add_tag(&self, id: u64, tag: &str) {
        let mut state = self.lock();
        if let Some(entry) = state.jobs.get_mut(&id)
            && !entry.tags.iter().any(|t| t == tag)
        {
            entry.tags.push(tag.to_owned());
        }
    }

    pub(crate) fn describe(&self, id: u64) -> String {
        let state = self.lock();
        if state.jobs.contains_key(&id) {
            state.describe(id)
        } else {
            format!("job #{id} (cancelled)")
        }
    }

    /// Registers `thread` as the background runner's, to be unparked by changes;
    /// returns the next run, read under the same lock (so no change slips between).
    pub(crate) fn register_sleeper(&self, thread: Option<Thread>) -> Option<Timestamp> {
        let mut state = self.lock();
        state.sleeper = thread;
        state.head().map(|(t, _)| t)
    }

    fn emit(&self, reports: Vec<Report>) {
        if reports.is_empty() {
            return;
        }
        let report = self.lock().report.clone();
        for r in &reports {
            report(r);
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic never happens under this lock (jobs run outside it), but a
        // report function could; the state is still consistent then.
        self.shared
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// Job ids by next-run time, in buckets: the jobs due at the same instant share one,
/// in the order they were filed. (Python sorts its list by next run, so its ties
/// run in the order the jobs were added; here, jobs added together keep that
/// order, and a job filed again after a run goes behind those already waiting for
/// the same instant.)
#[derive(Default)]
struct Order {
    buckets: BTreeMap<i128, VecDeque<u64>>,
    len: usize,
}

impl Order {
    fn push(&mut self, time: i128, id: u64) {
        self.buckets.entry(time).or_default().push_back(id);
        self.len += 1;
    }

    /// The first entry: the earliest time, and the first id filed under it.
    fn peek(&self) -> Option<(i128, u64)> {
        let (&time, ids) = self.buckets.first_key_value()?;
        Some((time, *ids.front().expect("empty buckets are removed")))
    }

    /// Removes the first entry.
    fn pop(&mut self) {
        if let Some(mut first) = self.buckets.first_entry() {
            first.get_mut().pop_front();
            self.len -= 1;
            if first.get().is_empty() {
                first.remove();
            }
        }
    }

    fn len(&self) -> usize {
        self.len
    }

    fn clear(&mut self) {
        self.buckets.clear();
        self.len = 0;
    }
}

impl FromIterator<(i128, u64)> for Order {
    fn from_iter<I: IntoIterator<Item = (i128, u64)>>(entries: I) -> Order {
        let mut entries: Vec<(i128, u64)> = entries.into_iter().collect();
        // Ids grow with insertion: sorting keeps insertion order within a time.
        entries.sort_unstable();
        let mut order = Order::default();
        for (time, id) in entries {
            order.push(time, id);
        }
        order
    }
}

impl State {
    fn remove(&mut self, id: u64) -> bool {
        let removed = self.jobs.remove(&id).is_some();
        // Its entry in the order goes stale. When stale entries outnumber live
        // ones, rebuild the heap from the jobs: O(n), once per n cancels.
        if self.order.len() > 2 * self.jobs.len() + 64 {
            self.order = self
                .jobs
                .iter()
                .filter(|(_, e)| e.action.is_some())
                .map(|(id, e)| (e.next_run.as_nanosecond(), id))
                .collect();
        }
        removed
    }

    /// The first entry of the order that is not stale, dropping stale ones found
    /// on top. Amortised O(log n): each stale entry is popped once.
    fn head(&mut self) -> Option<(Timestamp, u64)> {
        while let Some((t, id)) = self.order.peek() {
            if let Some(e) = self.jobs.get(&id)
                && e.next_run.as_nanosecond() == t
                && e.action.is_some()
            {
                return Some((e.next_run, id));
            }
            self.order.pop();
        }
        None
    }

    fn wake_sleeper(&self) {
        if let Some(thread) = &self.sleeper {
            thread.unpark();
        }
    }

    /// Python's repr: `Every 10 minutes do job() (last run: [never], next run: ...)`.
    fn describe(&self, id: u64) -> String {
        let entry = &self.jobs[&id];
        let zone = &entry.spec.zone;
        let last = entry
            .last_run
            .map_or_else(|| "[never]".to_owned(), |t| format_time(t, zone));
        format!(
            "{} do {}() (last run: {last}, next run: {})",
            describe_spec(&entry.spec),
            entry.name,
            format_time(entry.next_run, zone)
        )
    }

    /// SplitMix64: a few lines, good enough to spread `to()` intervals.
    fn next_random(&mut self) -> u64 {
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
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
            .field("jobs", &state.jobs.len())
            .field("clock", &self.shared.clock)
            .finish()
    }
}

/// The jobs: entries packed in a `Vec` (a slab: a removed job's place is reused),
/// and a small map from id to place.
///
/// Measured with `perf` on the 10,000-job day of `benches/schedule.rs`: walking a
/// `BTreeMap<u64, Entry>` to the job was a third of the cost of a run, and a
/// `HashMap<u64, Entry>` still missed the cache twice (its control bytes, then the
/// large bucket). The id-to-place map is 16 bytes a job and stays in cache; the
/// entry itself is the one miss left.
#[derive(Default)]
struct Jobs {
    place: HashMap<u64, u32, BuildHasherDefault<IdHasher>>,
    slots: Vec<Option<(u64, Entry)>>,
    free: Vec<u32>,
}

impl Jobs {
    fn get(&self, id: &u64) -> Option<&Entry> {
        let &place = self.place.get(id)?;
        self.slots[place as usize].as_ref().map(|(_, e)| e)
    }

    fn get_mut(&mut self, id: &u64) -> Option<&mut Entry> {
        let &place = self.place.get(id)?;
        self.slots[place as usize].as_mut().map(|(_, e)| e)
    }

    fn contains_key(&self, id: &u64) -> bool {
        self.place.contains_key(id)
    }

    fn insert(&mut self, id: u64, entry: Entry) {
        let place = match self.free.pop() {
            Some(place) => {
                self.slots[place as usize] = Some((id, entry));
                place
            }
            None => {
                self.slots.push(Some((id, entry)));
                u32::try_from(self.slots.len() - 1).expect("fewer than 4 billion jobs")
            }
        };
        self.place.insert(id, place);
    }

    fn remove(&mut self, id: &u64) -> Option<Entry> {
        let place = self.place.remove(id)?;
        self.free.push(place);
        self.slots[place as usize].take().map(|(_, e)| e)
    }

    fn len(&self) -> usize {
        self.place.len()
    }

    fn clear(&mut self) {
        *self = Jobs::default();
    }

    /// In no particular order: sort the ids for insertion order.
    fn iter(&self) -> impl Iterator<Item = (u64, &Entry)> {
        self.slots.iter().flatten().map(|(id, e)| (*id, e))
    }
}

impl std::ops::Index<&u64> for Jobs {
    type Output = Entry;
    fn index(&self, id: &u64) -> &Entry {
        self.get(id).expect("a job id of this scheduler")
    }
}

/// Hashes a job id (a counter) with one multiplication (Fibonacci hashing): ids
/// are ours, not an attacker's, so std's SipHash protects against nothing here.
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u64(&mut self, id: u64) {
        self.0 = id.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// The scheduler behind the module-level functions, on the real clock.
pub(crate) fn default_scheduler() -> &'static Scheduler {
    static DEFAULT: OnceLock<Scheduler> = OnceLock::new();
    DEFAULT.get_or_init(Scheduler::new)
}
