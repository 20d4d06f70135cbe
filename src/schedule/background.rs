//! [`Background`]: `run_pending` on a thread of its own, asleep between jobs.
//!
//! Python's answer is a loop in a thread: `while True: run_pending(); sleep(1)`.
//! It wakes 86,400 times a day to find, most of the time, nothing to do; and a job
//! added for "in 0.2 s" waits for the end of the current second. Here the thread
//! sleeps until the next run (`Clock::park_until`), and whoever changes the jobs
//! unparks it, like `sched`'s runner:
//!
//! ```text
//!   runner thread                              another thread
//!   loop:
//!     stop asked? -> return                    every(1).second().do_(job)
//!     run_pending()                              └─ adds the job, then
//!     lock: sleepers += me, next = first key        unparks the sleepers
//!     park_until(next) <────── unpark ─────────
//! ```
//!
//! Registering as a sleeper and reading the next run happen under one lock, so a
//! job added just after is seen: either before the read, or by the unpark it sends
//! (std keeps an unpark sent before the park as a token).
//!
//! A job that panics is reported with its description, and the thread goes on
//! with the other jobs. Async jobs need a runtime: give one's
//! [`Handle`] to [`Scheduler::run_in_background_on`] and
//! they are spawned on it (a multi-threaded runtime runs them at once; a
//! single-threaded one when its thread runs `block_on`). Without one they are
//! reported (`Report::NoRuntime`) when they fall due.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use jiff::Timestamp;

use crate::clock::Clock;
use crate::runtime::Handle;

use super::Scheduler;

/// The handle of a scheduler's background thread, from
/// [`Scheduler::run_in_background`]. Stop it with [`stop`](Background::stop);
/// dropping it stops it too (and waits for the job running, if any).
#[must_use = "dropping the handle stops the background thread at once"]
pub struct Background {
    /// The scheduler, to collect its finished async jobs at stop.
    scheduler: Scheduler,
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl Scheduler {
    /// Starts a thread named `clearloop-schedule` that runs the jobs as they fall
    /// due, sleeping in between, until the handle is stopped or dropped.
    ///
    /// # Panics
    ///
    /// If the operating system refuses to start a thread.
    pub fn run_in_background(&self) -> Background {
        self.start_background(None)
    }

    /// [`run_in_background`](Scheduler::run_in_background), with a runtime for the
    /// async jobs: each is spawned on it through `runtime` when it falls due.
    ///
    /// # Panics
    ///
    /// If the operating system refuses to start a thread.
    pub fn run_in_background_on(&self, runtime: Handle) -> Background {
        self.start_background(Some(runtime))
    }

    fn start_background(&self, runtime: Option<Handle>) -> Background {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let scheduler = self.clone();
        let handle = thread::Builder::new()
            .name("clearloop-schedule".to_owned())
            .spawn(move || run_loop(&scheduler, &flag, runtime.as_ref()))
            .expect("failed to spawn the schedule background thread");
        Background {
            scheduler: self.clone(),
            stop,
            handle: Some(handle),
        }
    }
}

fn run_loop(scheduler: &Scheduler, stop: &AtomicBool, runtime: Option<&Handle>) {
    let clock = scheduler.clock().clone();
    let me = thread::current();
    while !stop.load(Ordering::Acquire) {
        // Jobs' panics are caught inside run_pending and reported there.
        scheduler.run_due(runtime);
        let next = scheduler.register_sleeper(&me);
        if stop.load(Ordering::Acquire) {
            break;
        }
        let deadline = next.map(|next| deadline_of(&clock, next));
        if deadline.is_some_and(|d| d <= clock.now()) {
            continue;
        }
        clock.park_until(deadline);
    }
    scheduler.unregister_sleeper(&me);
}

/// From the wall-clock time `at` (a next run) to a deadline on the monotonic clock,
/// which is what `park_until` waits for.
pub(super) fn deadline_of(clock: &Clock, at: Timestamp) -> Instant {
    // Monotonic first, wall-clock second: if time moves between the two reads, the
    // wait comes out shorter (an early wake-up, checked again by the loop), never
    // longer (a job run late, or never on a manual clock that nobody advances again).
    let now = clock.now();
    let wait = at.duration_since(clock.timestamp_now());
    now + Duration::try_from(wait).unwrap_or(Duration::ZERO)
}

impl Background {
    /// Stops the thread: it finishes the job it is running, if any, and returns.
    /// Waits for it. Jobs stay in the scheduler.
    ///
    /// Then collects the async jobs whose tasks have finished since the runner's
    /// last pass, and reports their panics, so that the last report before `stop`
    /// is not lost. (A task still running is collected by the next `run_pending`.)
    pub fn stop(mut self) {
        self.stop_and_join();
    }

    /// Whether the thread has ended.
    pub fn is_finished(&self) -> bool {
        self.handle.as_ref().is_none_or(JoinHandle::is_finished)
    }

    fn stop_and_join(&mut self) {
        let Some(handle) = self.handle.take() else {
            return;
        };
        self.stop.store(true, Ordering::Release);
        // The flag first, then the unpark: a thread about to park finds the token.
        handle.thread().unpark();
        if let Err(payload) = handle.join() {
            // Jobs' and hooks' panics are caught on the thread and never get here;
            // one that does is a bug of ours: say it, without a second panic.
            crate::panics::report(
                "the schedule background thread",
                &*payload,
                "it has stopped",
            );
        }
        self.scheduler.reap_tasks();
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        self.stop_and_join();
    }
}

impl std::fmt::Debug for Background {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Background")
            .field("finished", &self.is_finished())
            .finish()
    }
}
