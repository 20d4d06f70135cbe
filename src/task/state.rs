//! The task state machine: four bits in one atomic byte.
//!
//! A task is polled by the loop and woken by anybody, from any thread, any number of
//! times. The state decides, without a lock, who puts the task back in the ready
//! queue, so that a wake-up is never lost and a task is never queued twice.
//!
//! ```text
//!                     wake / cancel (the waker pushes the task)
//!          +--------+ ---------------------------------> +-----------+
//!   spawn  |  IDLE  |                                    | SCHEDULED |---+ wake: nothing
//!  ------> |        | <--------------+                   |           |<--+ (already queued)
//!          +--------+                |                   +-----------+
//!                          poll returned Pending,              | the loop pops it
//!                          nobody woke it meanwhile            v
//!                                    |                   +-----------+
//!                                    +------------------ |  RUNNING  |---+ wake: set
//!                                                        |           |<--+ NOTIFIED
//!          +--------+   poll returned Ready / panicked / +-----------+
//!          |  DONE  | <----------------------------------      |
//!          +--------+   cancelled                              | Pending, but NOTIFIED:
//!        wake: ignored                                         v  the loop queues it again
//!                                                         SCHEDULED
//! ```
//!
//! "NOTIFIED" is simply the SCHEDULED bit set while RUNNING is set: the waker saw the
//! task running and left the re-queueing to the loop. Ten wake-ups before the task
//! runs set a bit that is already set: the task is polled once.
//!
//! CPython needs none of this: its event loop is single-threaded and
//! `call_soon_threadsafe` goes through a lock. Here a `Waker` is `Send + Sync`, so the
//! state is an atomic and every transition is one read-modify-write.

#[cfg(loom)]
use loom::sync::atomic::{AtomicU8, Ordering};
#[cfg(not(loom))]
use std::sync::atomic::{AtomicU8, Ordering};

/// In the ready queue, or about to be put there (or NOTIFIED, if RUNNING too).
const SCHEDULED: u8 = 0b0001;
/// Being polled right now.
const RUNNING: u8 = 0b0010;
/// Finished: value, panic or cancellation stored. Final.
const DONE: u8 = 0b0100;
/// `cancel()` was called: the next poll drops the future instead of polling it.
const CANCEL: u8 = 0b1000;

/// What the loop should do with a task it popped from the ready queue.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Start {
    /// Poll the future.
    Poll,
    /// Cancellation was requested: drop the future and record the cancellation.
    Cancel,
    /// The task finished already (it was cancelled at shutdown): nothing to do.
    Skip,
}

/// The task's state word.
pub(crate) struct State(AtomicU8);

impl State {
    /// A new task is put in the ready queue by `spawn` itself, so it starts SCHEDULED.
    pub(crate) fn new_scheduled() -> State {
        State(AtomicU8::new(SCHEDULED))
    }

    /// A wake-up. Returns true when the caller must push the task to the ready queue:
    /// only the wake that moves IDLE to SCHEDULED does.
    pub(crate) fn wake(&self) -> bool {
        let previous = self.0.fetch_or(SCHEDULED, Ordering::AcqRel);
        previous & (SCHEDULED | RUNNING | DONE) == 0
    }

    /// A cancellation request: like a wake-up, plus the CANCEL bit. Returns
    /// `(requested, must_schedule)`: `requested` is false when the task was done.
    pub(crate) fn cancel(&self) -> (bool, bool) {
        let previous = self.0.fetch_or(CANCEL | SCHEDULED, Ordering::AcqRel);
        let done = previous & DONE != 0;
        (!done, previous & (SCHEDULED | RUNNING | DONE) == 0)
    }

    /// The loop popped the task: SCHEDULED becomes RUNNING.
    pub(crate) fn start_poll(&self) -> Start {
        let mut current = self.0.load(Ordering::Acquire);
        loop {
            if current & DONE != 0 {
                return Start::Skip;
            }
            let next = (current & !SCHEDULED) | RUNNING;
            match self
                .0
                .compare_exchange_weak(current, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) if current & CANCEL != 0 => return Start::Cancel,
                Ok(_) => return Start::Poll,
                Err(actual) => current = actual,
            }
        }
    }

    /// The poll returned `Pending`. Returns true when a wake-up arrived during the
    /// poll (NOTIFIED): the loop must queue the task again, since that waker did not.
    pub(crate) fn end_poll_pending(&self) -> bool {
        let mut current = self.0.load(Ordering::Acquire);
        loop {
            let notified = current & SCHEDULED != 0;
            // Either way RUNNING ends; SCHEDULED stays set when we re-queue.
            let next = current & !RUNNING;
            match self
                .0
                .compare_exchange_weak(current, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return notified,
                Err(actual) => current = actual,
            }
        }
    }

    /// The task finished. Final: later wake-ups and cancels see DONE and stop there.
    pub(crate) fn complete(&self) {
        self.0.fetch_or(DONE, Ordering::AcqRel);
    }

    /// Whether the task finished (asyncio's `Task.done()`).
    pub(crate) fn is_done(&self) -> bool {
        self.0.load(Ordering::Acquire) & DONE != 0
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn ten_wakes_before_running_queue_the_task_once() {
        let state = State::new_scheduled();
        assert_eq!(state.start_poll(), Start::Poll);
        assert!(!state.end_poll_pending());
        let pushes = (0..10).filter(|_| state.wake()).count();
        assert_eq!(pushes, 1);
    }

    #[test]
    fn a_wake_during_the_poll_makes_the_loop_requeue() {
        let state = State::new_scheduled();
        assert_eq!(state.start_poll(), Start::Poll);
        assert!(!state.wake(), "the waker must not push a running task");
        assert!(state.end_poll_pending(), "the loop must push it instead");
        // It is SCHEDULED now: another wake does not push it a second time.
        assert!(!state.wake());
        assert_eq!(state.start_poll(), Start::Poll);
    }

    #[test]
    fn cancel_schedules_an_idle_task_and_is_refused_once_done() {
        let state = State::new_scheduled();
        assert_eq!(state.start_poll(), Start::Poll);
        assert!(!state.end_poll_pending());
        assert_eq!(state.cancel(), (true, true));
        assert_eq!(state.start_poll(), Start::Cancel);
        state.complete();
        assert!(state.is_done());
        assert_eq!(state.cancel(), (false, false));
        assert!(!state.wake());
        assert_eq!(state.start_poll(), Start::Skip);
    }
}

/// Loom explores every interleaving of a waker on another thread with the loop's
/// poll: whatever the order, the task is polled again after the last wake-up, and
/// it is never in the queue twice. Run with
/// `RUSTFLAGS="--cfg loom" cargo test --release --lib loom`.
#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use loom::sync::Arc;
    use loom::sync::atomic::AtomicUsize;

    #[test]
    fn loom_wake_during_poll_is_never_lost() {
        loom::model(|| {
            let state = Arc::new(State::new_scheduled());
            // How many copies of the task are in the ready queue.
            let queued = Arc::new(AtomicUsize::new(1));
            // What the waker "sends": written before each wake, read by each poll.
            let sent = Arc::new(AtomicUsize::new(0));
            let waker = {
                let (state, queued, sent) = (state.clone(), queued.clone(), sent.clone());
                loom::thread::spawn(move || {
                    for _ in 0..2 {
                        sent.fetch_add(1, Ordering::SeqCst);
                        if state.wake() {
                            queued.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                })
            };
            let mut seen = 0;
            let mut poll_once = |queued: &AtomicUsize| {
                queued.fetch_sub(1, Ordering::SeqCst);
                assert_eq!(state.start_poll(), Start::Poll);
                seen = sent.load(Ordering::SeqCst);
                if state.end_poll_pending() {
                    queued.fetch_add(1, Ordering::SeqCst);
                }
                assert!(queued.load(Ordering::SeqCst) <= 1, "queued twice");
            };
            // The loop runs concurrently with the waker for a while...
            for _ in 0..2 {
                if queued.load(Ordering::SeqCst) > 0 {
                    poll_once(&queued);
                }
            }
            waker.join().unwrap();
            // ...then drains what is left. The last poll must have seen both sends.
            while queued.load(Ordering::SeqCst) > 0 {
                poll_once(&queued);
            }
            assert_eq!(seen, 2, "a wake-up was lost");
        });
    }

    #[test]
    fn loom_cancel_racing_a_wake_schedules_once() {
        loom::model(|| {
            let state = Arc::new(State::new_scheduled());
            assert_eq!(state.start_poll(), Start::Poll);
            assert!(!state.end_poll_pending());
            let pushes = Arc::new(AtomicUsize::new(0));
            let other = {
                let (state, pushes) = (state.clone(), pushes.clone());
                loom::thread::spawn(move || {
                    if state.wake() {
                        pushes.fetch_add(1, Ordering::SeqCst);
                    }
                })
            };
            let (requested, schedule) = state.cancel();
            assert!(requested);
            if schedule {
                pushes.fetch_add(1, Ordering::SeqCst);
            }
            other.join().unwrap();
            assert_eq!(pushes.load(Ordering::SeqCst), 1);
            assert_eq!(state.start_poll(), Start::Cancel);
        });
    }
}
