//! Debug mode: the warnings asyncio prints when `PYTHONASYNCIODEBUG=1`.
//!
//! Two classic mistakes go unnoticed in async code, because nothing crashes:
//!
//! * **Blocking the loop.** `std::thread::sleep(1 s)` (Python: `time.sleep(1)`) inside
//!   a task does not suspend the task: it stops the whole thread, and with it every
//!   other task and timer. asyncio's debug mode times each callback and warns when
//!   one takes longer than `loop.slow_callback_duration` (100 ms):
//!   `Executing <Task ...> took 1.002 seconds`.
//! * **A failure nobody looks at.** A task that raised, whose exception was never
//!   retrieved (`await`, `result()`, `exception()`) before its last reference went
//!   away: asyncio logs `Task exception was never retrieved`.
//!
//! Switch it on with [`Builder::debug`](crate::Builder::debug) or the environment
//! variable `CLEARLOOP_DEBUG=1`. Warnings go to standard error unless you pass your
//! own hook ([`Builder::on_warning`](crate::Builder::on_warning)); tests use a hook
//! to collect them.
//!
//! ```text
//!   loop turn:  t0 = now ──poll(task)──> t1 = now
//!                                        t1 - t0 > slow_poll ?  ──> Warning::SlowPoll
//!   task ends with a panic, last handle gone, nobody looked ──> Warning::ExceptionNeverRetrieved
//! ```

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// What debug mode reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Warning {
    /// One poll of a task held the loop for `took` (longer than the threshold):
    /// something in it blocks the thread instead of awaiting.
    SlowPoll {
        /// The task's name.
        task: String,
        /// How long the poll took.
        took: Duration,
    },
    /// A task panicked and nobody retrieved the panic before its last handle went.
    ExceptionNeverRetrieved {
        /// The task's name.
        task: String,
        /// The panic message.
        message: String,
    },
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::SlowPoll { task, took } => write!(
                f,
                "Executing <Task {task}> took {:.3} seconds: something in it blocks the \
                 thread (std::thread::sleep, heavy computation, blocking I/O); await \
                 clearloop::time::sleep instead, or move the work to a thread",
                took.as_secs_f64()
            ),
            Warning::ExceptionNeverRetrieved { task, message } => write!(
                f,
                "Task exception was never retrieved: task '{task}' panicked: {message}"
            ),
        }
    }
}

/// Receives debug-mode warnings.
pub type WarningHook = Arc<dyn Fn(&Warning) + Send + Sync>;

/// Debug-mode settings of a runtime.
#[derive(Clone)]
pub(crate) struct Debug {
    /// A poll longer than this is reported (asyncio's `slow_callback_duration`).
    pub(crate) slow_poll: Duration,
    pub(crate) hook: WarningHook,
}

/// asyncio's default `slow_callback_duration`.
pub(crate) const DEFAULT_SLOW_POLL: Duration = Duration::from_millis(100);

impl Debug {
    /// Hands `warning` to the hook. The hook is user code: a panic in it is reported
    /// on standard error (with the warning it was given) and goes no further, so a
    /// bad hook never kills a worker thread nor escapes `block_on`.
    pub(crate) fn warn(&self, warning: Warning) {
        if let Err(payload) = crate::panics::catch(|| (self.hook)(&warning)) {
            crate::panics::report(
                "the debug-mode warning hook",
                &*payload,
                &format!("the warning it was given: {warning}"),
            );
        }
    }
}

/// The default hook: one line on standard error.
pub(crate) fn print_warning(warning: &Warning) {
    eprintln!("clearloop debug: {warning}");
}

/// Whether `CLEARLOOP_DEBUG` asks for debug mode (`1`, `true` or `yes`).
pub(crate) fn enabled_by_env() -> bool {
    matches!(
        std::env::var("CLEARLOOP_DEBUG").as_deref(),
        Ok("1" | "true" | "yes")
    )
}
