//! What can go wrong: cancelling an event that is not pending, and an action that
//! panics. CPython raises `ValueError` for the first and lets the action's exception
//! fly out of `run()` for the second; we return these two error types instead.

use std::fmt;

use super::{Event, EventState};

/// Why [`cancel`](super::Scheduler::cancel) refused: only a pending event of this
/// scheduler can be cancelled (CPython raises `ValueError` in all three cases).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CancelError {
    /// The event already left the queue to run: its action is running, returned, or
    /// panicked. Too late to cancel it.
    AlreadyRun(Event),
    /// The event was cancelled before; cancelling twice is a mistake worth hearing
    /// about, as in CPython.
    AlreadyCancelled(Event),
    /// The event was entered in another scheduler: cancel it there.
    OtherScheduler(Event),
}

impl CancelError {
    /// The event that could not be cancelled.
    pub fn event(&self) -> &Event {
        match self {
            CancelError::AlreadyRun(event)
            | CancelError::AlreadyCancelled(event)
            | CancelError::OtherScheduler(event) => event,
        }
    }
}

impl fmt::Display for CancelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CancelError::AlreadyRun(event) => {
                let when = match event.state() {
                    EventState::Running => "is running right now",
                    EventState::Panicked => "already ran (and panicked)",
                    _ => "already ran",
                };
                write!(
                    f,
                    "cannot cancel {event}: it {when}; only pending events can be \
                     cancelled (check event.is_pending() first if this can happen)"
                )
            }
            CancelError::AlreadyCancelled(event) => {
                write!(f, "cannot cancel {event}: it was already cancelled")
            }
            CancelError::OtherScheduler(event) => write!(
                f,
                "cannot cancel {event}: it belongs to another scheduler; \
                 call cancel on the scheduler that returned it"
            ),
        }
    }
}

impl std::error::Error for CancelError {}

/// An action panicked during [`run`](super::Scheduler::run).
///
/// `run` stopped right after that event and returned this error; every other event
/// is still in the queue, and calling `run` again carries on with them. This is
/// CPython's contract ("exceptions are not caught but the scheduler's state remains
/// well-defined so run() may be called again") with the exception turned into a value.
#[derive(Debug, Clone)]
pub struct RunError {
    event: Event,
    message: String,
}

impl RunError {
    pub(super) fn new(event: Event, message: String) -> RunError {
        RunError { event, message }
    }

    /// The event whose action panicked (its state is [`EventState::Panicked`]).
    pub fn event(&self) -> &Event {
        &self.event
    }

    /// The panic message (`"<non-string panic payload>"` when the panic carried
    /// something other than a string).
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the action of {} panicked: {}; the other events are still queued, \
             call run() again to carry on",
            self.event, self.message
        )
    }
}

impl std::error::Error for RunError {}
