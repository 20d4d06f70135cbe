//! The task state machine: four bits in one atomic byte.
//!
//! A task is polled by the loop and woken by anybody, from any thread, any number of
//! times. The state decides, without a lock, who puts the task back in the ready
//! queue, so that a wake-up is never lost and a task is never queued twice.
//!
//! ```text
//!   spawn: the task is pushed at once, so it starts SCHEDULED
//!     |
//!     v                      wake: nothing (already queued)
//!   +-----------+ <---+
//!   | SCHEDULED | ----+
//!   +-----------+ <------------------------------------------+
//!     | the loop pops it (start_poll)                        |  wake / cancel:
//!     v                        wake: set NOTIFIED            |  AfterWake::Push,
//!   +-----------+ <---+                                      |  the waker pushes it
//!   |  RUNNING  | ----+                                      |
//!   +-----------+                                            |
//!     | poll returned Pending (end_poll_pending)             |
//!     +-- nobody woke it meanwhile: AfterPoll::Idle -----> +------+
//!     |                                                    | IDLE |
//!     +-- NOTIFIED: AfterPoll::Requeue, the loop           +------+
//!     |   pushes it again, back to SCHEDULED
//!     |
//!     | poll returned Ready / panicked / cancelled (complete)
//!     v
//!   +-----------+
//!   |   DONE    |   wake: ignored; cancel: AfterCancel::TooLate
//!   +-----------+
//! ```
//!
//! "NOTIFIED" is simply the SCHEDULED bit set while RUNNING is set: the waker saw the
//! task running and left the re-queueing to the loop. Ten wake-ups before the task
//! runs set a bit that is already set: the task is polled once.
//!
//! Each transition returns a `#[must_use]` enum that says what the caller must do
//! next ([`AfterWake`], [`AfterCancel`], [`Start`], [`AfterPoll`]): the caller cannot
//! forget to push a task it was told to push, and a reader of the caller sees the
//! decision by name, not as a `bool`.
//!
//! **The state is also the future's lock.** RUNNING is held by one thread at a
//! time (`start_poll` and `start_shutdown` win it by compare-and-swap, and skip a
//! task that has it), so that thread alone touches the future, which therefore
//! needs no `Mutex` (`cell/future.rs` draws which transition grants what).
//!
//! CPython needs none of this: its event loop is single-threaded and
//! `call_soon_threadsafe` goes through a lock. Here a `Waker` is `Send + Sync`, so the
//! state is an atomic and every transition is one read-modify-write.

#[cfg(loom)]
use loom::sync::atomic::{AtomicU8, Ordering};
#[cfg(not(loom))]
use std::sync::atomic::{AtomicU8, Ordering};

/// No bit set: not queued, not running, not done. Only a wake-up moves the task on.
const IDLE: u8 = 0;
/// In the ready queue, or about to be put there (or NOTIFIED, if RUNNING too).
const SCHEDULED: u8 = 0b0001;
/// Being polled right now.
const RUNNING: u8 = 0b0010;
/// Finished: value, panic or cancellation stored. Final.
const DONE: u8 = 0b0100;
/// `cancel()` was called: the next poll drops the future instead of polling it.
const CANCEL: u8 = 0b1000;

/// What a waker must do after [`State::wake`].
#[must_use = "a task the waker must push is lost if it is not pushed"]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum AfterWake {
    /// The task was IDLE and is SCHEDULED now: push it to a ready queue.
    Push,
    /// It was queued already, is running (the loop re-queues it), or is done.
    Nothing,
}

/// What [`State::cancel`] found, and what the caller must do.
#[must_use = "a task the canceller must push is lost if it is not pushed"]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum AfterCancel {
    /// The task was IDLE: it is SCHEDULED now, push it; its next turn drops it.
    Push,
    /// It was queued or running: whoever polls it next sees CANCEL.
    Marked,
    /// It had finished already: nothing to cancel (`cancel()` returns false).
    TooLate,
}

/// What the loop should do with a task it popped from the ready queue.
#[must_use = "the loop must poll, cancel or skip the task"]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Start {
    /// Poll the future.
    Poll,
    /// Cancellation was requested: drop the future and record the cancellation.
    Cancel,
    /// The task finished already (it was cancelled at shutdown): nothing to do.
    Skip,
}

/// What the loop must do after a poll that returned `Pending`.
#[must_use = "a task woken during its poll is lost if it is not pushed again"]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum AfterPoll {
    /// Nobody woke it during the poll: it waits, IDLE, for its wakers.
    Idle,
    /// A wake-up came during the poll (NOTIFIED) and left the push to the loop:
    /// push it again.
    Requeue,
}

/// The task's state word.
pub(crate) struct State(AtomicU8);

impl State {
    /// A new task is put in the ready queue by `spawn` itself, so it starts SCHEDULED.
    pub(crate) fn new_scheduled() -> State {
        State(AtomicU8::new(SCHEDULED))
    }

    /// A wake-up. Only the wake that moves IDLE to SCHEDULED must push the task.
    pub(crate) fn wake(&self) -> AfterWake {
        let previous = self.0.fetch_or(SCHEDULED, Ordering::AcqRel);
        if previous & (SCHEDULED | RUNNING | DONE) == IDLE {
            AfterWake::Push
        } else {
            AfterWake::Nothing
        }
    }

    /// A cancellation request: like a wake-up, plus the CANCEL bit.
    pub(crate) fn cancel(&self) -> AfterCancel {
        let previous = self.0.fetch_or(CANCEL | SCHEDULED, Ordering::AcqRel);
        if previous & DONE != 0 {
            AfterCancel::TooLate
        } else if previous & (SCHEDULED | RUNNING) == IDLE {
            AfterCancel::Push
        } else {
            AfterCancel::Marked
        }
    }

    /// The loop popped the task: SCHEDULED becomes RUNNING, and with RUNNING this
    /// thread alone may touch the future (`cell/future.rs`) until
    /// [`end_poll_pending`](State::end_poll_pending) or [`complete`](State::complete).
    /// A task already RUNNING is skipped, never polled twice at once: its queued
    /// copy cannot exist (the SCHEDULED bit keeps one copy), except beside a
    /// shutdown that holds RUNNING to drop the future, and that one ends DONE.
    pub(crate) fn start_poll(&self) -> Start {
        let mut current = self.0.load(Ordering::Acquire);
        loop {
            if current & (DONE | RUNNING) != 0 {
                return Start::Skip;
            }
            let next = (current & !SCHEDULED) | RUNNING;
            match self
                .0
                .compare_exchange_weak(current, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) if current & CANCEL != 0 => return Start::Cancel,
                Ok(_) => return Start::Poll,
                // Another thread changed the word (a wake, a cancel): try again.
                Err(actual) => current = actual,
            }
        }
    }

    /// Runtime shutdown (or a spawn on a runtime that is gone) wants to drop the
    /// future: it wins RUNNING like a poll, unless the task is RUNNING already
    /// (another thread drops it) or DONE. `Start::Cancel` grants the future;
    /// RUNNING is never given back, the task ends DONE.
    pub(crate) fn start_shutdown(&self) -> Start {
        let mut current = self.0.load(Ordering::Acquire);
        loop {
            if current & (DONE | RUNNING) != 0 {
                return Start::Skip;
            }
            match self.0.compare_exchange_weak(
                current,
                current | RUNNING,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return Start::Cancel,
                Err(actual) => current = actual,
            }
        }
    }

    /// The poll returned `Pending`: RUNNING ends, and the loop learns whether a
    /// wake-up arrived during the poll (NOTIFIED), since that waker did not push.
    pub(crate) fn end_poll_pending(&self) -> AfterPoll {
        let mut current = self.0.load(Ordering::Acquire);
        loop {
            let notified = current & SCHEDULED != 0;
            // Either way RUNNING ends; SCHEDULED stays set when we re-queue.
            let next = current & !RUNNING;
            match self
                .0
                .compare_exchange_weak(current, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) if notified => return AfterPoll::Requeue,
                Ok(_) => return AfterPoll::Idle,
                // A wake-up landed between the load and the swap: look again.
                Err(actual) => current = actual,
            }
        }
    }

    /// The task finished. Final: later wake-ups and cancels see DONE and stop there.
    pub(crate) fn complete(&self) {
        self.0.fetch_or(DONE, Ordering::AcqRel);
    }

    /// Whether a wake-up came during the poll in progress (for the trace).
    pub(crate) fn notified_while_running(&self) -> bool {
        self.0.load(Ordering::Acquire) & (SCHEDULED | RUNNING) == SCHEDULED | RUNNING
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
        assert_eq!(state.end_poll_pending(), AfterPoll::Idle);
        let pushes = (0..10).filter(|_| state.wake() == AfterWake::Push).count();
        assert_eq!(pushes, 1);
    }

    #[test]
    fn a_wake_during_the_poll_makes_the_loop_requeue() {
        let state = State::new_scheduled();
        assert_eq!(state.start_poll(), Start::Poll);
        assert_eq!(
            state.wake(),
            AfterWake::Nothing,
            "the waker must not push a running task"
        );
        assert_eq!(
            state.end_poll_pending(),
            AfterPoll::Requeue,
            "the loop must push it instead"
        );
        // It is SCHEDULED now: another wake does not push it a second time.
        assert_eq!(state.wake(), AfterWake::Nothing);
        assert_eq!(state.start_poll(), Start::Poll);
    }

    #[test]
    fn cancel_schedules_an_idle_task_and_is_refused_once_done() {
        let state = State::new_scheduled();
        assert_eq!(state.start_poll(), Start::Poll);
        assert_eq!(state.end_poll_pending(), AfterPoll::Idle);
        assert_eq!(state.cancel(), AfterCancel::Push);
        assert_eq!(state.start_poll(), Start::Cancel);
        state.complete();
        assert!(state.is_done());
        assert_eq!(state.cancel(), AfterCancel::TooLate);
        assert_eq!(state.wake(), AfterWake::Nothing);
        assert_eq!(state.start_poll(), Start::Skip);
    }

    #[test]
    fn shutdown_takes_the_future_only_from_nobody() {
        let state = State::new_scheduled();
        assert_eq!(state.start_poll(), Start::Poll);
        assert_eq!(state.start_shutdown(), Start::Skip, "a poll holds it");
        assert_eq!(state.end_poll_pending(), AfterPoll::Idle);
        assert_eq!(state.start_shutdown(), Start::Cancel);
        assert_eq!(state.start_shutdown(), Start::Skip, "won once");
        assert_eq!(state.wake(), AfterWake::Nothing);
        state.complete();
        assert_eq!(state.start_shutdown(), Start::Skip, "done");
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
                        if state.wake() == AfterWake::Push {
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
                if state.end_poll_pending() == AfterPoll::Requeue {
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
            assert_eq!(state.end_poll_pending(), AfterPoll::Idle);
            let pushes = Arc::new(AtomicUsize::new(0));
            let other = {
                let (state, pushes) = (state.clone(), pushes.clone());
                loom::thread::spawn(move || {
                    if state.wake() == AfterWake::Push {
                        pushes.fetch_add(1, Ordering::SeqCst);
                    }
                })
            };
            let cancel = state.cancel();
            assert_ne!(cancel, AfterCancel::TooLate);
            if cancel == AfterCancel::Push {
                pushes.fetch_add(1, Ordering::SeqCst);
            }
            other.join().unwrap();
            assert_eq!(pushes.load(Ordering::SeqCst), 1);
            assert_eq!(state.start_poll(), Start::Cancel);
        });
    }
}
