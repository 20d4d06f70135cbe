//! How a task ends: cancelled (its future dropped in place) or finished, its outcome
//! stored, its awaiters woken, its done-callbacks queued.
//!
//! asyncio splits the same work between `Task.__step` (which calls
//! `super().set_result(..)`, `set_exception(..)` or `cancel()` on the base `Future`)
//! and `Future.__schedule_callbacks`, which hands every done-callback to
//! `loop.call_soon`. Here the awaiters are wakers, not callbacks, so they are woken at
//! once; the done-callbacks still go through the loop, as in asyncio.
//!
//! ```text
//!   Ready(value) / panic / cancel
//!        |
//!   store_outcome     slot <- Finished(outcome)      (under the task's lock)
//!        |            (no handle left: Taken, the outcome is dropped later)
//!     complete()      state: DONE                    (done() is true from here)
//!     release()       out of the runtime's registry  (live_tasks() counts it gone;
//!                                                      still under the task's lock)
//!   wake_awaiters     every waker of `task.await`    (they find the outcome)
//!   queue_callbacks   done-callbacks, via call_soon  (only if the task has any)
//! ```

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::{
    Awaiters, CANCELLING, Cell, Outcome, Panic, Runnable, Schedule, Slot, call_soon, name_of,
};
use crate::panics::{catch, lock, report};

/// What the first phase of [`Cell::finish`] carries out of the task's lock.
struct Stored<T> {
    /// The tasks awaiting this one, to wake once the lock is released.
    awaiters: Awaiters,
    /// The outcome, when no handle is left to take it: dropped outside the lock.
    detached: Option<Outcome<T>>,
    /// A panic no handle will ever report: the task's name and the panic message.
    unseen_panic: Option<(String, String)>,
    /// Whether the task has extras (done-callbacks may wait in them).
    extras: bool,
}

impl<F, S> Cell<F, S>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    S: Schedule,
{
    /// Cancellation is drop: drops the future in place (its destructors run here, on
    /// the loop) and records the cancellation, or the panic of a destructor. Shared
    /// by `cancel()`'s turn and by runtime shutdown; does nothing for a task whose
    /// future is gone already.
    ///
    /// # Safety
    ///
    /// The caller holds RUNNING: `start_poll` returned `Start::Cancel`, or
    /// `start_shutdown` did.
    pub(super) unsafe fn cancel_now(&self) {
        // Never set for a holder of RUNNING (the future's last holder completes
        // the task, and DONE is never granted again): a load, against a future
        // dropped twice should that ever change.
        if self.header.future_gone.load(Ordering::Relaxed) {
            return;
        }
        // A task it awaits is cancelled by the drop, with our message.
        let message = lock(&self.meta).cancel_message();
        let previous = CANCELLING
            .try_with(|cancelling| cancelling.replace(message))
            .ok()
            .flatten();
        // SAFETY: the caller holds RUNNING, and the future is there (just above).
        let outcome = match catch(|| unsafe { self.drop_future() }) {
            Err(payload) => Outcome::Panicked(Panic::new(payload)),
            Ok(()) => Outcome::Cancelled,
        };
        let _ = CANCELLING.try_with(|cancelling| cancelling.replace(previous));
        self.finish(outcome);
    }

    /// How a task ends, in four phases: store the outcome (under the lock), mark the
    /// task done and let the runtime forget it, wake whoever awaits it, queue its
    /// done-callbacks. The future was dropped before this. The order of the phases is
    /// the contract: each one's comment says who relies on it.
    pub(super) fn finish(&self, outcome: Outcome<F::Output>) {
        // Tracing off: one branch. (An `Option` of the trace's scope held across
        // the phases cost an out-of-line drop call on every task, traced or not.)
        match self.scheduler.trace() {
            None => self.finish_phases(outcome),
            Some(trace) => self.finish_traced(trace, outcome),
        }
    }

    /// `finish` with tracing on: the phases run inside the trace's scope.
    #[cold]
    #[inline(never)]
    fn finish_traced(&self, trace: &Arc<crate::trace::Recorder>, outcome: Outcome<F::Output>) {
        let _scope = trace.task_done(self.header.id, &outcome);
        self.finish_phases(outcome);
    }

    /// The four phases of `finish`.
    #[inline(always)]
    fn finish_phases(&self, outcome: Outcome<F::Output>) {
        // Outcome, DONE and out of the registry, all under the task's lock.
        let stored = self.store_outcome(outcome);
        if let Some((task, message)) = stored.unseen_panic {
            self.scheduler.exception_never_retrieved(task, message);
        }
        if let Some(outcome) = stored.detached {
            self.drop_output(outcome);
        }
        match stored.awaiters {
            // Forgotten, not dropped: `None` holds nothing, and a drop would call
            // `Awaiters`' drop glue (out of line since `Many` is boxed) on every task.
            none @ Awaiters::None => std::mem::forget(none),
            awaiters => self.wake_awaiters(awaiters),
        }
        if stored.extras {
            self.queue_callbacks();
        }
    }

    /// The first phase of `finish`, under the task's lock: puts the outcome in the
    /// slot (or, with no handle left, hands it back to be dropped outside the lock),
    /// marks the task done, takes it out of the registry, and takes out what the
    /// later phases need. Inlined: it runs once per task, on
    /// the hot path, and was part of `finish` before it had a name.
    #[inline(always)]
    fn store_outcome(&self, outcome: Outcome<F::Output>) -> Stored<F::Output> {
        let mut meta = lock(&self.meta);
        // Only a flag here: the callbacks are taken later, under the lock again, so
        // that the common task (no extras) carries nothing more out.
        let extras = meta.extras.is_some();
        if let Outcome::Panicked(payload) = &outcome {
            let name = name_of(&self.header, &meta);
            crate::panics::kept(
                format_args!("task '{name}'"),
                &**payload,
                "stored on the task",
            );
        }
        // No handle left: nobody can ever take the outcome, so it is dropped later,
        // outside the lock, instead of staying in the cell.
        let no_handle = meta.handles == 0;
        // A panic with no handle left to report it: say so now (debug mode).
        let unseen_panic = match &outcome {
            Outcome::Panicked(payload) if no_handle => Some((
                name_of(&self.header, &meta),
                crate::panics::message(&**payload),
            )),
            _ => None,
        };
        let (kept, detached) = if no_handle {
            (Slot::Taken, Some(outcome))
        } else {
            (Slot::Finished(outcome), None)
        };
        let awaiters = match std::mem::replace(&mut meta.slot, kept) {
            Slot::Running(awaiters) => awaiters,
            _ => Awaiters::None,
        };
        // Outcome first, DONE second: whoever sees `done()` finds the outcome there.
        self.header.state.complete();
        // DONE first, out of the registry second: whoever sees `live_tasks()` drop
        // finds the task done (the `schedule` runner checks an async job's last run
        // that way). And still under the lock: an awaiter reads the slot under it, so
        // whoever finds the outcome finds the task gone from `live_tasks()` too, even
        // an awaiter polled for another reason before this task wakes it (then, when
        // `block_on` returns, the counts are exact). The registry's lock is only ever
        // taken after a task's, never before.
        self.scheduler.release(&self.header);
        Stored {
            awaiters,
            detached,
            unseen_panic,
            extras,
        }
    }

    /// Wakes the tasks awaiting this one, after the lock is released. A waker is user
    /// code only under a hand-written executor; a plain `catch_unwind` (not
    /// `panics::catch`, whose quiet-hook bookkeeping costs two thread-local writes on
    /// every finished task) keeps the worker alive.
    fn wake_awaiters(&self, awaiters: Awaiters) {
        if let Err(payload) =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| awaiters.wake_all()))
        {
            let name = self.name();
            report(
                format_args!("a waker of an awaiter of task '{name}'"),
                &*payload,
                "the other awaiters may not have been woken",
            );
        }
    }

    /// Queues the done-callbacks of a finished task (out of line: few tasks have
    /// any). One added since `finish` let go of the lock is in the list too, or
    /// was queued by `add_done_callback` itself, which saw the task finished.
    #[cold]
    #[inline(never)]
    fn queue_callbacks(&self) {
        let callbacks = match &mut lock(&self.meta).extras {
            Some(extras) => std::mem::take(&mut extras.callbacks),
            None => return,
        };
        if !callbacks.is_empty() {
            call_soon(&self.scheduler, self.name(), callbacks);
        }
    }

    /// Drops a detached task's output (no handle will ever take it), catching and
    /// reporting a panic of its `Drop`: it must not unwind through a worker thread
    /// or out of `block_on`.
    fn drop_output(&self, outcome: Outcome<F::Output>) {
        if let Err(payload) = catch(|| drop(outcome)) {
            let name = self.name();
            report(
                format_args!("the output of task '{name}'"),
                &*payload,
                "it panicked when dropped (nobody held the task's handle); the runtime goes on",
            );
        }
    }
}
