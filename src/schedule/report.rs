//! [`Report`]: what a scheduler tells about its jobs, and [`PanicPolicy`].
//!
//! Python's `schedule` writes to the `schedule` logger (`logging.getLogger
//! ("schedule")`): "Running job ...", "Cancelling job ...", and lets a job's
//! exception fly out of `run_pending`. Here each of those is a [`Report`], handed
//! to the function given to [`Scheduler::on_report`](super::Scheduler::on_report),
//! outside the scheduler's lock:
//!
//! ```text
//!   run_one ──> Ran | Skipped | Panicked | NoRuntime | Cancelled ──> on_report(f)
//!                                                          default: problems to stderr
//! ```
//!
//! Until `on_report` is called, the default sink prints the problems on stderr
//! ([`Report::is_problem`]) and drops the rest; a sync job's panic is then one
//! line naming the job, where it panicked and what happens next (through
//! `crate::panics`), instead of a `Report::Panicked`:
//!
//! ```text
//! job flaky() (Every 3 seconds) panicked at src/main.rs:9:5: the feed is down; it runs again at 2026-11-23 09:00:06
//! ```
//!
//! A report function is user code: if it panics, the panic is reported on stderr,
//! naming the hook and the job, and the scheduler goes on.

use std::fmt;
use std::sync::Arc;

#[cfg(doc)]
use super::Scheduler;

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
    /// The description of the job this report is about.
    pub fn job(&self) -> &str {
        match self {
            Report::Ran { job }
            | Report::Skipped { job }
            | Report::Panicked { job, .. }
            | Report::NoRuntime { job }
            | Report::Cancelled { job, .. } => job,
        }
    }

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

/// The function reports go to.
pub(crate) type ReportFn = Arc<dyn Fn(&Report) + Send + Sync>;

/// The sink used until `on_report`: problems on stderr, the rest dropped.
pub(crate) fn default_sink() -> ReportFn {
    Arc::new(|report: &Report| {
        if report.is_problem() {
            eprintln!("schedule: {report}");
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_report_reads_as_a_sentence() {
        let job = || "Every 1 second do job() (last run: [never], next run: x)".to_owned();
        let cases = [
            (Report::Ran { job: job() }, "ran: Every 1 second", false),
            (
                Report::Skipped { job: job() },
                "its previous run is still running, not starting it twice",
                true,
            ),
            (
                Report::Panicked {
                    job: job(),
                    message: "boom".to_owned(),
                    cancelled: true,
                },
                "): boom (job cancelled: PanicPolicy::Cancel)",
                true,
            ),
            (
                Report::NoRuntime { job: job() },
                "call run_pending_on(&runtime) instead of run_pending()",
                true,
            ),
            (
                Report::Cancelled {
                    job: job(),
                    why: "it returned CancelJob",
                },
                "cancelled: Every 1 second",
                false,
            ),
        ];
        for (report, words, problem) in cases {
            let text = report.to_string();
            assert!(text.contains(words), "{text:?} lacks {words:?}");
            assert_eq!(report.is_problem(), problem, "{text}");
            assert_eq!(report.job(), job(), "{text}");
        }
    }
}
