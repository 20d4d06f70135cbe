//! [`Runner`]: a scheduler's run loop on a thread of its own.
//!
//! In Python you would write `threading.Thread(target=s.run).start()`, and the thread
//! would end as soon as the queue is empty. A `Runner` instead waits for new events
//! when the queue is empty, and ends when told to ([`Runner::stop`]) or when an action
//! panics, like the Python thread when an action raises.

use std::panic;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle, Thread};

use super::{RunError, Scheduler, Until};

/// The handle of a thread running a [`Scheduler`], from
/// [`Scheduler::spawn_runner`].
///
/// Dropping the handle asks the thread to stop (as [`stop`](Runner::stop)) without
/// waiting for it; call [`join`](Runner::join) to wait and to see whether an action
/// panicked.
#[must_use = "dropping a Runner stops its thread; keep it, and call stop() then join()"]
pub struct Runner {
    /// Set by `stop`; the run loop checks it each time it looks at the queue.
    stop: Arc<AtomicBool>,
    /// `None` once joined.
    handle: Option<JoinHandle<Result<(), RunError>>>,
}

impl Runner {
    pub(super) fn spawn(scheduler: Scheduler) -> Runner {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let handle = thread::Builder::new()
            .name("clearloop-sched".to_owned())
            .spawn(move || scheduler.run_until(Until::Stopped(&flag)).map(|_| ()))
            .expect("failed to spawn the scheduler's runner thread");
        Runner {
            stop,
            handle: Some(handle),
        }
    }

    /// Asks the runner to stop: it finishes the action it is running, if any, and
    /// returns without running more. Pending events stay in the queue. Returns at
    /// once; call [`join`](Runner::join) to wait for the thread.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Release);
        // The flag first, then the unpark: a runner about to park finds the token and
        // returns at once, then sees the flag.
        if let Some(handle) = &self.handle {
            handle.thread().unpark();
        }
    }

    /// Whether the thread has ended (stopped, or an action panicked).
    pub fn is_finished(&self) -> bool {
        self.handle.as_ref().is_none_or(JoinHandle::is_finished)
    }

    /// The runner's thread (named `clearloop-sched`).
    pub fn thread(&self) -> &Thread {
        self.handle
            .as_ref()
            .expect("a Runner has its thread until join() consumes it")
            .thread()
    }

    /// Waits for the thread to end. Call [`stop`](Runner::stop) first, or this waits
    /// until an action panics.
    ///
    /// # Errors
    ///
    /// The [`RunError`] of the action whose panic ended the runner. The other events
    /// are still queued: a new runner, or `run`, carries on with them.
    pub fn join(mut self) -> Result<(), RunError> {
        let handle = self
            .handle
            .take()
            .expect("a Runner has its thread until join() consumes it");
        match handle.join() {
            Ok(result) => result,
            // Actions' panics are caught in the run loop; one that gets here is a bug
            // of ours, and it should not be hidden.
            Err(payload) => panic::resume_unwind(payload),
        }
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
            .field("stopping", &self.stop.load(Ordering::Relaxed))
            .field("finished", &self.is_finished())
            .finish()
    }
}
