//! One run of one job, in three phases: take it under the lock, call it outside the
//! lock, file its next run under the lock again. Then the reports go out.
//!
//! Python's `Job.run` is the middle phase only (`ret = self.job_func()`, then
//! `last_run` and `_schedule_next_run()`); it needs no lock because its scheduler
//! belongs to one thread. Here another thread may add, cancel or list jobs while a
//! job runs, and the job itself may do so: the lock is never held while user code
//! runs.
//!
//! ```text
//!   run_due / run_all                     the entry of job #id
//!   ── lock ──────────────────────────────────────────────────────────────────
//!   take(#id)  gone, or taken by another thread   -> nothing to do
//!              past its until()                   -> removed, Report::Cancelled
//!              else: action out of the entry      -> running: head() skips it,
//!                                                    idle_seconds() counts it due
//!   ── unlock ────────────────────────────────────────────────────────────────
//!   call(action)   a sync job: called, its panic caught
//!                  an async job: spawned on the runtime (or not run: Ran::NotRun)
//!   ── lock ──────────────────────────────────────────────────────────────────
//!   file(#id)  action back in the entry, last_run, next slot (DriftPolicy),
//!              filed in the order again, or removed (CancelJob, until, panic)
//!   ── unlock ────────────────────────────────────────────────────────────────
//!   emit(reports)  the report hook, outside the lock; then no longer running
//! ```

use std::sync::MutexGuard;

use jiff::Timestamp;

use super::job::Action;
use super::report::{PanicPolicy, Report};
use super::scheduler::{InFlight, Scheduler, State};
use super::store::Entry;
use crate::panics;
use crate::runtime::Handle;

/// What the call phase did, for the filing phase.
pub(super) enum Ran {
    /// It ran and returned; `true`: it asked to be cancelled ([`CancelJob`]).
    ///
    /// [`CancelJob`]: super::CancelJob
    Returned(bool),
    /// It panicked: the payload, for the one line that names the job.
    Panicked(panics::Payload),
    /// Not run: an async job whose task is still running, or with no runtime.
    NotRun,
}

/// A job taken out of its entry to be called.
struct Taken {
    action: Action,
    /// Whether the job's previous task (async jobs) was still running.
    task_running: bool,
}

impl Scheduler {
    /// Runs job `id`, whose old entry in the order was popped by `run_due` (or
    /// goes stale: `run_all`). `guard` is the lock `run_due` already holds.
    pub(super) fn run_one(
        &self,
        guard: MutexGuard<'_, State>,
        id: u64,
        place: u32,
        now: Timestamp,
        runtime: Option<&Handle>,
    ) {
        let Some(taken) = self.take(guard, id, place, now) else {
            return;
        };
        let Taken {
            mut action,
            task_running,
        } = taken;
        let ran = self.call(&mut action, task_running, id, runtime);
        let after = self.shared.clock.timestamp_now();
        let reports = self.file(id, place, action, ran, task_running, after);
        if !reports.is_empty() {
            self.emit(reports);
            self.lock().done_reporting(id);
        }
    }

    /// Phase 1, under the lock: takes the job's action out of its entry, so that no
    /// other thread runs it meanwhile. Python checks `until` before running: a job
    /// past it is removed unrun.
    fn take(
        &self,
        mut guard: MutexGuard<'_, State>,
        id: u64,
        place: u32,
        now: Timestamp,
    ) -> Option<Taken> {
        let state = &mut *guard;
        let entry = state.store.jobs.at_mut(place, id)?;
        // `None`: another thread is running it right now.
        let action = entry.action.take()?;
        let task_running = entry.task_running;
        if entry.spec.until.is_none_or(|until| now <= until) {
            state.running += 1;
            return Some(Taken {
                action,
                task_running,
            });
        }
        let job = entry.describe();
        let name = entry.name.clone();
        let removed = state.store.remove(id);
        drop(guard);
        drop_caught(&name, (action, removed));
        self.emit(vec![Report::Cancelled {
            job,
            why: "it is past its until()",
        }]);
        None
    }

    /// Phase 2, without the lock: calls the job. A sync job's panic is caught; an
    /// async job is spawned as a task on `runtime`, and its panic is collected
    /// later ([`reap_tasks`](Scheduler::reap_tasks)).
    fn call(
        &self,
        action: &mut Action,
        task_running: bool,
        id: u64,
        runtime: Option<&Handle>,
    ) -> Ran {
        let make = match action {
            Action::Sync(call) => {
                return match panics::catch(call) {
                    Ok(cancel) => Ran::Returned(cancel),
                    Err(payload) => Ran::Panicked(payload),
                };
            }
            Action::Async(make) => make,
        };
        let Some(runtime) = runtime.filter(|_| !task_running) else {
            return Ran::NotRun;
        };
        match panics::catch(make) {
            Ok(future) => {
                let task = runtime.spawn(future);
                self.lock().in_flight.push(InFlight { job: id, task });
                Ran::Returned(false)
            }
            Err(payload) => Ran::Panicked(payload),
        }
    }

    /// Phase 3, under the lock again: puts the action back, records the run and
    /// files the job under its next run, or removes it. Returns the reports, to be
    /// sent once the lock is released; with none, the job is done running. `after`
    /// is when the job returned. Like Python, `CancelJob` is checked first, then
    /// whether the next run is past `until()`.
    fn file(
        &self,
        id: u64,
        place: u32,
        action: Action,
        ran: Ran,
        task_running: bool,
        after: Timestamp,
    ) -> Vec<Report> {
        let mut state = self.lock();
        let (drift, on_panic, custom_sink) = (state.drift, state.on_panic, state.routine_reports);
        let draw = state.next_random();
        // Cancelled while it ran (by itself or another thread): nothing to put back.
        let Some(entry) = state.store.jobs.at_mut(place, id) else {
            state.running -= 1;
            drop(state);
            drop_caught(&format!("job #{id} (cancelled)"), action);
            return Vec::new();
        };
        let taken_at = entry.next_run;
        entry.record(action, &ran, drift, draw, after);
        let next_run = entry.next_run;
        let cancel = match ran {
            Ran::Returned(true) => Some("it returned CancelJob"),
            _ if entry.spec.until.is_some_and(|until| next_run > until) => {
                Some("it is past its until()")
            }
            _ => None,
        };
        let panicked_cancel = matches!(ran, Ran::Panicked(_)) && on_panic == PanicPolicy::Cancel;
        // A quiet run builds no description (see `State::routine_reports`).
        let quiet = matches!(ran, Ran::Returned(_)) && cancel.is_none() && !custom_sink;
        let job = (!quiet).then(|| entry.describe());
        let panicked = matches!(ran, Ran::Panicked(_)).then(|| entry.panic_line(panicked_cancel));
        let removed = if cancel.is_some() || panicked_cancel {
            state.store.remove(id)
        } else {
            state.store.order.push(next_run.as_nanosecond(), id);
            None
        };
        let mut reports = job.map_or_else(Vec::new, |job| {
            reports_for(job, &ran, task_running, panicked_cancel, cancel)
        });
        if !custom_sink && panicked.is_some() {
            // The panic's line is printed below; the default sink would repeat it.
            reports.retain(|report| !matches!(report, Report::Panicked { .. }));
        }
        if reports.is_empty() {
            state.running -= 1;
        } else {
            // Still due for `idle_seconds` until `run_one` has sent the reports.
            state.reporting.push((id, taken_at));
        }
        drop(state);
        if panicked.is_some() || removed.is_some() {
            after_filing(&ran, panicked, custom_sink, removed);
        }
        reports
    }

    /// Looks at the tasks of async jobs: a finished one frees its job for its next
    /// run, and a panic is reported (the handle is kept until then, so no panic is
    /// lost with a dropped handle).
    pub(super) fn reap_tasks(&self) {
        let mut reports = Vec::new();
        let mut removed = Vec::new();
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
                let Some(entry) = state.store.jobs.get_mut(&finished.job) else {
                    continue;
                };
                entry.task_running = false;
                if let Ok(Some(error)) = finished.task.exception()
                    && error.is_panic()
                {
                    let cancelled = on_panic == PanicPolicy::Cancel;
                    reports.push(Report::Panicked {
                        job: entry.describe(),
                        message: error.panic_message().unwrap_or("").to_owned(),
                        cancelled,
                    });
                    if cancelled {
                        removed.extend(state.store.remove(finished.job));
                    }
                }
            }
        }
        for entry in removed {
            drop_caught(&entry.name.clone(), entry);
        }
        self.emit(reports);
    }
}

/// What `file` does once the lock is released: the line of a panic, and the drop
/// of a removed job (both may run user code: a `Drop`). Rare: kept out of line, so
/// that a quiet run does not move the entry around (measured: 30 instructions a run).
#[cold]
fn after_filing(
    ran: &Ran,
    panicked: Option<(String, String)>,
    custom_sink: bool,
    removed: Option<Entry>,
) {
    if let (Ran::Panicked(payload), Some((what, then))) = (ran, panicked) {
        panic_line(payload, &what, &then, custom_sink);
    }
    if let Some(entry) = removed {
        drop_caught(&entry.name.clone(), entry);
    }
}

/// The reports of one run that was not quiet. A panic goes to a custom sink as
/// [`Report::Panicked`]; for the default sink, `file` has printed it already.
fn reports_for(
    job: String,
    ran: &Ran,
    task_running: bool,
    panicked_cancel: bool,
    cancel: Option<&'static str>,
) -> Vec<Report> {
    let mut reports = Vec::with_capacity(2);
    reports.push(match ran {
        Ran::Returned(_) => Report::Ran { job: job.clone() },
        Ran::Panicked(payload) => Report::Panicked {
            job: job.clone(),
            message: panics::message(&**payload),
            cancelled: panicked_cancel,
        },
        Ran::NotRun if task_running => Report::Skipped { job: job.clone() },
        Ran::NotRun => Report::NoRuntime { job: job.clone() },
    });
    if let Some(why) = cancel {
        reports.push(Report::Cancelled { job, why });
    }
    reports
}

/// The one line of a job's panic, naming the job. A custom sink gets
/// `Report::Panicked`, and the line is printed only under `panics::install_hook`
/// (whose quiet hook held back Rust's own); for the default sink, this line is the
/// report.
fn panic_line(payload: &panics::Payload, what: &str, then: &str, custom_sink: bool) {
    if custom_sink {
        panics::kept(what, &**payload, then);
    } else {
        panics::report(what, &**payload, then);
    }
}

/// Drops what a removed job holds (its action, and what the action captured) with
/// no lock held, catching a panic in a `Drop` of the user's: reported, never lost.
pub(super) fn drop_caught<T>(job: &str, value: T) {
    if let Err(payload) = panics::catch(move || drop(value)) {
        let what = format!("dropping schedule job {job}");
        panics::report(what, &*payload, "the job is removed anyway");
    }
}
