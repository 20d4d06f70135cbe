//! [`Runner`]: a scheduler's run loop on a thread of its own.
//!
//! In Python you would write `threading.Thread(target=s.run).start()`, and the thread
//! would end as soon as the queue is empty, or die with the first action that
//! raises, leaving the events after it unrun. A `Runner` instead waits for new
//! events when the queue is empty, ends only when told to ([`Runner::stop`]), and
//! survives a panicking action: the panic is reported (to the hook set with
//! [`Scheduler::on_action_panic`], or as one line on standard error) and the
//! runner goes on with the next event.
//!
//! ```text
//!   runner thread:  loop { next_step }
//!     Run(event)  ── action returns ──> Done, look again
//!                 └─ action panics  ──> Panicked, report (hook or stderr), count, look again
//!     Sleep(t)    ── park until t, or until enter/stop unparks it
//!     stop flag set ──> return; join() gives the number of panics
//! ```

use std::panic;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::{self, JoinHandle, Thread};

use super::{Scheduler, Until};

/// What a runner's thread and its handle share.
#[derive(Default)]
pub(crate) struct Flags {
    /// Set by `stop`; the run loop checks it each time it looks at the queue.
    stop: AtomicBool,
    /// How many actions panicked on this runner.
    panics: AtomicUsize,
}

impl Flags {
    pub(crate) fn stop_requested(&self) -> bool {
        self.stop.load(Ordering::Acquire)
    }

    pub(crate) fn count_panic(&self) {
        self.panics.fetch_add(1, Ordering::Relaxed);
    }
}

/// The handle of a thread running a [`Scheduler`], from
/// [`Scheduler::spawn_runner`].
///
/// Dropping the handle asks the thread to stop (as [`stop`](Runner::stop)) without
/// waiting for it; call [`join`](Runner::join) to wait for it.
#[must_use = "dropping a Runner stops its thread; keep it, and call stop() then join()"]
pub struct Runner {
    flags: Arc<Flags>,
    /// `None` once joined.
    handle: Option<JoinHandle<()>>,
}

impl Runner {
    pub(super) fn spawn(scheduler: Scheduler) -> Runner {
        let flags = Arc::new(Flags::default());
        let shared = flags.clone();
        let handle = thread::Builder::new()
            .name("clearloop-sched".to_owned())
            .spawn(move || {
                // A runner reports panics instead of returning them: never `Err`.
                let _ = scheduler.run_until(Until::Stopped(&shared));
            })
            .expect("failed to spawn the scheduler's runner thread");
        Runner {
            flags,
            handle: Some(handle),
        }
    }

    /// Asks the runner to stop: it finishes the action it is running, if any, and
    /// returns without running more. Pending events stay in the queue. Returns at
    /// once; call [`join`](Runner::join) to wait for the thread.
    pub fn stop(&self) {
        self.flags.stop.store(true, Ordering::Release);
        // The flag first, then the unpark: a runner about to park finds the token and
        // returns at once, then sees the flag.
        if let Some(handle) = &self.handle {
            handle.thread().unpark();
        }
    }

    /// Whether the thread has ended. It ends only after [`stop`](Runner::stop) (or
    /// the handle's drop): a panicking action does not end it.
    pub fn is_finished(&self) -> bool {
        self.handle.as_ref().is_none_or(JoinHandle::is_finished)
    }

    /// How many actions have panicked on this runner so far (each was reported as
    /// it happened).
    pub fn panics(&self) -> usize {
        self.flags.panics.load(Ordering::Relaxed)
    }

    /// The runner's thread (named `clearloop-sched`).
    pub fn thread(&self) -> &Thread {
        self.handle
            .as_ref()
            .expect("a Runner has its thread until join() consumes it")
            .thread()
    }

    /// Waits for the thread to end, and returns how many actions panicked while it
    /// ran. Call [`stop`](Runner::stop) first: a runner waits for new events when
    /// its queue is empty, so without `stop` this waits forever.
    ///
    /// The events still queued stay there: a new runner, or `run`, carries on with
    /// them.
    pub fn join(mut self) -> usize {
        let handle = self
            .handle
            .take()
            .expect("a Runner has its thread until join() consumes it");
        if let Err(payload) = handle.join() {
            // Actions' panics are caught in the run loop; one that gets here is a bug
            // of ours, and it should not be hidden.
            panic::resume_unwind(payload);
        }
        self.panics()
    }
}

impl Drop for Runner {
    fn drop(&mut self) {
        if self.handle.is_some() {
            self.stop();
        }
    }
}

impl std::fmt::Debug for Runner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runner")
            .field("stopping", &self.flags.stop_requested())
            .field("finished", &self.is_finished())
            .field("panics", &self.panics())
            .finish()
    }
}
