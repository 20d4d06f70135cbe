//! The runtime's side of tracing: the recorder a [`Builder`](crate::Builder) makes,
//! `block_on`'s future traced as task 0, what every task is doing now
//! ([`all_tasks`], [`current_task`](super::current_task), `Runtime::dump`), and the deadlock check of the
//! virtual clock.
//!
//! **Python.** `asyncio.all_tasks()` and `asyncio.current_task()`; asyncio has no
//! deadlock check: a program whose tasks all wait on each other sits at 0 % CPU.
//!
//! ## Deadlocks: reported on the virtual clock, not hung
//!
//! When the single-threaded loop is about to park (step 4 of its turn) on an
//! auto-advance virtual clock, nothing can ever happen again if all of these hold:
//!
//! ```text
//!   ready queue empty, block_on's future not woken      (nothing to poll)
//!   no timer in the wheel                               (time cannot wake anyone)
//!   no blocking-pool job in flight, in the process      (to_thread cannot wake anyone)
//!   no wake-up from another thread for 1 s of real time (the grace below)
//! ```
//!
//! Then `block_on` **panics** with a [`DeadlockReport`]: every live task, with what
//! it waits on when tracing is on (a lock, a semaphore, an event, a queue, a timer).
//! A panic, not an `Err`, because `block_on` returns the future's own output and a
//! deadlock is a bug in the program, like the `RecursionError` Python would give.
//!
//! **The limits.** A thread the runtime does not know (one you started) may hold a
//! [`Waker`](std::task::Waker) or a [`Handle`](crate::Handle) and wake the loop
//! later: the runtime cannot see that. It waits [`DEADLOCK_GRACE`] of real time for
//! such a wake-up before it reports; a thread that takes longer is reported as a
//! deadlock by mistake. On the virtual clock, give such a thread a timer to race, or
//! run it on the real clock. A multi-threaded runtime (`worker_threads`) and a
//! manual clock are not checked: there, another thread moves things on.
//!
//! On the **real** clock, debug mode prints the same snapshot when the loop has been
//! idle with live tasks for [`IDLE_REPORT`] (and nothing is due sooner): a hung
//! program says what it waits on instead of saying nothing.

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use super::TraceConfig;
use super::event::{Outcome, TaskId};
use super::recorder::{Recorder, Tracer};
use super::snapshot::{DeadlockReport, Snapshot, TaskSnapshot, TaskState};
use crate::clock::Clock;
use crate::runtime::scheduler::{Local, Remote, RuntimeCore};

/// How long, in real time, the virtual loop waits for a wake-up from another thread
/// before it reports a deadlock.
pub const DEADLOCK_GRACE: Duration = Duration::from_secs(1);

/// How long the real-clock loop, in debug mode, stays idle with live tasks before it
/// prints what each task waits on.
pub const IDLE_REPORT: Duration = Duration::from_secs(2);

/// The recorder for a runtime built with `config`, or with `CLEARLOOP_TRACE` when the
/// builder was given none (a value the variable cannot hold is reported on stderr,
/// and tracing stays off).
pub(crate) fn recorder(config: Option<TraceConfig>, clock: &Clock) -> Tracer {
    let config = match config {
        Some(config) => Some(config),
        None => TraceConfig::from_env().unwrap_or_else(|error| {
            eprintln!("clearloop: {error}; tracing stays off");
            None
        }),
    };
    config.map(|config| Arc::new(Recorder::new(clock.clone()).with_outputs(config)))
}

/// Polls `block_on`'s future once as task 0, "main" (spawned at its first poll, done
/// when ready).
pub(crate) fn poll_main<F: Future>(
    trace: &Arc<Recorder>,
    future: Pin<&mut F>,
    cx: &mut Context<'_>,
) -> Poll<F::Output> {
    let main = TaskId(0);
    if !trace.main_open.swap(true, Ordering::Relaxed) {
        trace.spawned(main, || "main".to_string());
    }
    let polled = {
        let _poll = trace.poll(main, 0);
        future.poll(cx)
    };
    if polled.is_ready() {
        trace.main_open.store(false, Ordering::Relaxed);
        trace.done(main, Outcome::Value);
    }
    polled
}

/// The live tasks of `core`: from the trace when it records (with what each waits
/// on), else from the registry (ids and names only).
pub(crate) fn snapshot(core: &RuntimeCore) -> Snapshot {
    let live = core.live_tasks();
    let name = |id: TaskId| {
        let task = live.iter().find(|task| task.header().id == id.0);
        task.map(|task| task.name())
    };
    match &core.trace {
        Some(trace) => {
            let mut snapshot = Snapshot::from_events(&trace.events(), trace.now());
            // A name given after the spawn (`set_name`) is only in the task.
            for task in &mut snapshot.tasks {
                if let Some(name) = name(task.id) {
                    task.name = name;
                }
            }
            snapshot
        }
        None => {
            let mut tasks: Vec<TaskSnapshot> = live
                .iter()
                .map(|task| TaskSnapshot {
                    id: TaskId(task.header().id),
                    name: task.name(),
                    state: TaskState::Unknown,
                    since: Duration::ZERO,
                    waiting_on: None,
                    polls: 0,
                    busy: Duration::ZERO,
                })
                .collect();
            tasks.sort_by_key(|task| task.id);
            Snapshot {
                at: Duration::ZERO,
                tasks,
            }
        }
    }
}

/// asyncio's `all_tasks()`: the live tasks of the runtime running on this thread,
/// with what each waits on when it traces (see `Runtime::dump`).
///
/// # Panics
///
/// Outside a running runtime.
#[track_caller]
pub fn all_tasks() -> Vec<TaskSnapshot> {
    match crate::runtime::scheduler::with_current_scheduler(
        "clearloop::trace::all_tasks()",
        |core| snapshot(core).tasks,
    ) {
        Ok(tasks) => tasks,
        Err(message) => panic!("{message}; call it from inside a task or block_on's future"),
    }
}

/// Step 4 of the loop's turn, before it parks: on an auto-advance virtual clock,
/// reports a deadlock (panics with the [`DeadlockReport`]); on the real clock in debug
/// mode, prints the snapshot after [`IDLE_REPORT`] of idleness. See the module doc.
///
/// `idle_until(at)` is the loop's own step 4 bounded by `at`: the real-clock wait
/// for the report sleeps there (in the selector, once the runtime has one), so that
/// a socket that turns ready meanwhile is heard at once, not after the report's
/// delay.
pub(crate) fn check_deadlock(
    core: &RuntimeCore,
    local: &Rc<Local>,
    remote: &Remote,
    main_woken: &AtomicBool,
    idle_until: impl Fn(Instant),
) {
    let quiet = || {
        !remote.pending.load(Ordering::Acquire)
            && !main_woken.load(Ordering::Acquire)
            && local.ready.borrow().is_empty()
    };
    if core.clock.is_auto_advance() {
        let stuck = || quiet() && core.timers.is_empty() && !crate::blocking::jobs_in_flight();
        if stuck() && !stays(DEADLOCK_GRACE, stuck) {
            let report = DeadlockReport {
                at: core.trace.as_ref().map_or(Duration::ZERO, |t| t.now()),
                tasks: with_main(core, snapshot(core).tasks),
            };
            panic!("{report}");
        }
    } else if core.debug.is_some() && !core.clock.is_virtual() && core.live() > 0 {
        let until = Instant::now() + IDLE_REPORT;
        if core.timers.next_deadline().is_some_and(|due| due <= until) {
            return;
        }
        while quiet() {
            if Instant::now() >= until {
                eprintln!(
                    "clearloop (debug): the loop has been idle for {:?} with {} live task(s); \
                     what each waits on:\n{}",
                    IDLE_REPORT,
                    core.live(),
                    snapshot(core)
                );
                return;
            }
            idle_until(until);
        }
        // Something came: the park that follows must not sleep.
        std::thread::current().unpark();
    }
}

/// Waits up to `grace` of real time while `quiet()` holds; true if it stopped holding
/// (then the park that follows must not sleep: this thread unparks itself).
fn stays(grace: Duration, quiet: impl Fn() -> bool) -> bool {
    let until = Instant::now() + grace;
    while quiet() {
        let now = Instant::now();
        if now >= until {
            return false;
        }
        std::thread::park_timeout(until - now);
    }
    std::thread::current().unpark();
    true
}

/// The report's tasks: `block_on`'s future (task 0) waits too, even when the trace
/// has not seen it.
fn with_main(core: &RuntimeCore, mut tasks: Vec<TaskSnapshot>) -> Vec<TaskSnapshot> {
    if !tasks.iter().any(|task| task.id == TaskId(0)) {
        let state = match core.trace {
            Some(_) => TaskState::Waiting,
            None => TaskState::Unknown,
        };
        tasks.insert(
            0,
            TaskSnapshot {
                id: TaskId(0),
                name: "main".to_string(),
                state,
                since: Duration::ZERO,
                waiting_on: None,
                polls: 0,
                busy: Duration::ZERO,
            },
        );
    }
    tasks
}
