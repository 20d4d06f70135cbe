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
use super::snapshot::WaitingOn;
use super::snapshot::{DeadlockReport, Snapshot, TaskSnapshot, TaskState};
use super::{Resource, ResourceKind};
use crate::clock::Clock;
use crate::runtime::scheduler::{Local, Remote, RuntimeCore};
use crate::task::cell::Runnable;
use crate::task::wait::{self, Wait};

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
                    spawned_at: spawned_at(&**task),
                    state: TaskState::Unknown,
                    since: Duration::ZERO,
                    waiting_on: waiting_on(
                        core,
                        wait::decode(task.header().waiting.load(Ordering::Relaxed)),
                        &name,
                    ),
                    polls: 0,
                    busy: Duration::ZERO,
                })
                .collect();
            tasks.sort_by_key(|task| task.id);
            Snapshot {
                at: core.clock.elapsed(),
                tasks,
            }
        }
    }
}

/// `d` rounded up to a whole microsecond.
fn up_to_micros(d: Duration) -> Duration {
    let micros = d.as_nanos().div_ceil(1000);
    Duration::from_micros(u64::try_from(micros).unwrap_or(u64::MAX))
}

/// Where `task` was spawned (`src/main.rs:12`), for the report's
/// "task 3 'Task-3' (spawned at src/main.rs:12) waits on ...".
///
/// Tracing off, nothing is known here: a task does not keep where it was spawned
/// (8 bytes in every task, 129 -> 137 B of heap per idle task, for a report that
/// most runs never print). With tracing on, the trace has it (`SpawnedAt`), and
/// the report made from the trace prints it.
fn spawned_at(_task: &dyn Runnable) -> Option<String> {
    None
}

/// What a task's wait word names, in the report's words (tracing off: the trace
/// would say it otherwise). `name` finds a live task's name by id.
fn waiting_on(
    core: &RuntimeCore,
    wait: Wait,
    name: &dyn Fn(TaskId) -> Option<String>,
) -> Option<WaitingOn> {
    Some(match wait {
        Wait::Unknown => return None,
        Wait::Primitive { kind, id } => {
            let kind = match kind {
                "lock" => ResourceKind::Lock,
                "semaphore" => ResourceKind::Semaphore,
                "event" => ResourceKind::Event,
                "condition" => ResourceKind::Condition,
                "queue" => ResourceKind::Queue,
                other => return Some(WaitingOn::Other(format!("a {other}"))),
            };
            match wait::names::get(id) {
                Some(name) => WaitingOn::Resource(Resource::new(kind, name)),
                None => WaitingOn::Other(format!(
                    "an unnamed {kind} (name it with .with_name(..) to see which)",
                    kind = Resource::new(kind, "").to_string().trim_end_matches(" ''"),
                )),
            }
        }
        Wait::Sleep(None) => WaitingOn::Other("a sleep that never ends".to_string()),
        Wait::Sleep(Some(due)) => {
            // On the clock's own scale, as the report's "deadlock at" is. The word
            // keeps a deadline to 16 ns below it: up to the microsecond it was.
            let due = up_to_micros(core.clock.elapsed_at(due));
            let now = core.clock.elapsed();
            WaitingOn::Other(format!(
                "a sleep until {} (in {})",
                super::event::format_secs(due),
                super::event::format_secs(due.saturating_sub(now))
            ))
        }
        Wait::Task(id) => WaitingOn::Task {
            id: TaskId(id),
            name: name(TaskId(id)).unwrap_or_else(|| format!("Task-{id}")),
        },
        Wait::Simulated(addr) => WaitingOn::Socket {
            what: match addr {
                Some(addr) => format!("{addr} (simulated)"),
                None => "(simulated, IPv6)".to_string(),
            },
        },
        Wait::Descriptor { fd, read } => {
            let way = if read { "to read" } else { "to write" };
            let what = super::fd::describe(fd);
            match what.is_socket() {
                true => WaitingOn::Socket {
                    what: format!("{what} (fd {fd}, {way})"),
                },
                false => WaitingOn::Other(format!("{what} (fd {fd}, {way})")),
            }
        }
    })
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
#[track_caller]
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
                // Trace time when tracing; else the clock's own: 5.000s after a
                // 5 s virtual sleep, the same reading.
                at: core
                    .trace
                    .as_ref()
                    .map_or(core.clock.elapsed(), |t| t.now()),
                tasks: with_main(core, snapshot(core).tasks),
            };
            // The loop's caller: `block_on`'s line once its chain tracks the caller.
            let caller = std::panic::Location::caller();
            if !is_ours(caller.file()) {
                panic!("{report}\nThe loop was run at {caller}.");
            }
            panic!("{report}");
        }
    } else if core.debug.is_some() && !core.clock.is_virtual() && core.live() > 0 {
        let until = Instant::now() + IDLE_REPORT;
        if core.timers.next_deadline().is_some_and(|due| due <= until) {
            return;
        }
        while quiet() {
            if Instant::now() >= until {
                eprintln!("{}", idle_report(core));
                return;
            }
            idle_until(until);
        }
        // Something came: the park that follows must not sleep.
        std::thread::current().unpark();
    }
}

/// What debug mode prints of a loop idle for [`IDLE_REPORT`]: every task it shows,
/// `block_on`'s future (main) among them, and the count of what it shows (it
/// once said "1 live task(s)" above two rows: main was shown, not counted).
fn idle_report(core: &RuntimeCore) -> String {
    let mut snapshot = snapshot(core);
    snapshot.tasks = with_main(core, snapshot.tasks);
    let count = plural(snapshot.tasks.len(), "task", "tasks");
    let hint = match core.trace {
        Some(_) => "",
        None => "To see how they got there, run again with CLEARLOOP_TRACE=timeline.",
    };
    format!(
        "clearloop (debug): the loop has been idle for {} with {count} alive (main, \
         block_on's future, included); what each waits on:\n{snapshot}{hint}",
        super::event::format_secs(IDLE_REPORT),
    )
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
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
        let live: Vec<(TaskId, String)> = tasks.iter().map(|t| (t.id, t.name.clone())).collect();
        let name = |id: TaskId| {
            live.iter()
                .find(|(of, _)| *of == id)
                .map(|(_, n)| n.clone())
        };
        let state = match core.trace {
            Some(_) => TaskState::Waiting,
            None => TaskState::Unknown,
        };
        tasks.insert(
            0,
            TaskSnapshot {
                id: TaskId(0),
                spawned_at: None,
                name: "main".to_string(),
                state,
                since: Duration::ZERO,
                waiting_on: waiting_on(core, wait::main(), &name),
                polls: 0,
                busy: Duration::ZERO,
            },
        );
    }
    tasks
}

/// Whether `file` is one of clearloop's own sources (a caller location that did not
/// reach the user's line): the directory this file is in, one level up.
fn is_ours(file: &str) -> bool {
    let here = std::path::Path::new(file!());
    let src = here.parent().and_then(|trace| trace.parent());
    src.is_some_and(|src| std::path::Path::new(file).starts_with(src))
}
