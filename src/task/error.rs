//! Why a task has no value to give: [`TaskError`].
//!
//! asyncio raises a different exception for each case: the task's own exception
//! (from `task.result()` or `await task`), `CancelledError`, and `InvalidStateError`
//! ("Result is not set."). clearloop has one error type whose methods say which,
//! and that carries the task's name so that the message says which task failed.
//!
//! ```text
//!   Panicked(message)   the task's future panicked     (its exception)
//!   Cancelled(message)  cancel() / cancel_with(msg)    (CancelledError)
//!   NotDone             result() before it finished    (InvalidStateError)
//!   Taken               its value was already moved out
//! ```

use std::any::Any;
use std::fmt;
use std::sync::Arc;

/// Why a task has no value to give: it panicked, it was cancelled, it is not done
/// yet, or its value was already moved out.
///
/// asyncio raises a different exception for each (the task's own exception,
/// `CancelledError`, `InvalidStateError`); here one error type says which.
pub struct TaskError {
    task: String,
    kind: Kind,
    payload: Option<Box<dyn Any + Send>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    Panicked(String),
    /// With `cancel_with`'s message, if any.
    Cancelled(Option<Arc<str>>),
    NotDone,
    Taken,
}

impl TaskError {
    pub(crate) fn panicked(
        task: String,
        message: String,
        payload: Option<Box<dyn Any + Send>>,
    ) -> Self {
        TaskError {
            task,
            kind: Kind::Panicked(message),
            payload,
        }
    }

    pub(crate) fn cancelled(task: String) -> Self {
        Self::cancelled_with(task, None)
    }

    pub(crate) fn cancelled_with(task: String, message: Option<Arc<str>>) -> Self {
        TaskError {
            task,
            kind: Kind::Cancelled(message),
            payload: None,
        }
    }

    pub(super) fn not_done(task: String) -> Self {
        TaskError {
            task,
            kind: Kind::NotDone,
            payload: None,
        }
    }

    pub(super) fn taken(task: String) -> Self {
        TaskError {
            task,
            kind: Kind::Taken,
            payload: None,
        }
    }

    /// The name of the task this error is about.
    pub fn task_name(&self) -> &str {
        &self.task
    }

    /// The task panicked (its "exception").
    pub fn is_panic(&self) -> bool {
        matches!(self.kind, Kind::Panicked(_))
    }

    /// The task was cancelled (asyncio's `CancelledError`).
    pub fn is_cancelled(&self) -> bool {
        matches!(self.kind, Kind::Cancelled(_))
    }

    /// The message given to [`Task::cancel_with`](super::Task::cancel_with)
    /// (asyncio's `cancel(msg)`, found in `CancelledError.args`), when the task was
    /// cancelled with one.
    pub fn cancel_message(&self) -> Option<&str> {
        match &self.kind {
            Kind::Cancelled(message) => message.as_deref(),
            _ => None,
        }
    }

    /// The task has not finished yet (asyncio's `InvalidStateError`).
    pub fn is_not_done(&self) -> bool {
        self.kind == Kind::NotDone
    }

    /// The panic message, when the task panicked with a string (most panics do).
    pub fn panic_message(&self) -> Option<&str> {
        match &self.kind {
            Kind::Panicked(message) => Some(message),
            _ => None,
        }
    }

    /// The panic payload, to re-raise with [`std::panic::resume_unwind`]. Only an
    /// error from [`Task::join`](super::Task::join) carries it; one from `result()` /
    /// `exception()` has the message only, since the task keeps the payload for
    /// whoever joins it.
    pub fn into_panic(self) -> Option<Box<dyn Any + Send>> {
        self.payload
    }

    /// Re-raises this error as a panic: the original payload when there is one,
    /// otherwise a panic whose message is this error's `Display` (located at the
    /// caller's line).
    #[track_caller]
    pub fn raise(self) -> ! {
        match self.payload {
            Some(payload) => std::panic::resume_unwind(payload),
            None => panic!("{self}"),
        }
    }
}

impl fmt::Display for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let task = &self.task;
        match &self.kind {
            Kind::Panicked(message) => write!(f, "task '{task}' panicked: {message}"),
            Kind::Cancelled(None) => write!(f, "task '{task}' was cancelled"),
            Kind::Cancelled(Some(message)) => write!(f, "task '{task}' was cancelled: {message}"),
            Kind::NotDone => write!(
                f,
                "task '{task}' is not done: its result is not ready yet \
                 (asyncio's InvalidStateError); await it, or check done() first"
            ),
            Kind::Taken => write!(
                f,
                "task '{task}': its result was already moved out by `.await` or join(); \
                 ask result() before awaiting, or keep the value you awaited"
            ),
        }
    }
}

impl fmt::Debug for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskError")
            .field("task", &self.task)
            .field("kind", &self.kind)
            .finish()
    }
}

impl std::error::Error for TaskError {}
