//! What the trace records: one [`Event`] per thing the loop does, stamped with the
//! loop's clock.
//!
//! An event is a timestamp ([`Event::at`], a `Duration` since the trace began, so a
//! virtual-clock trace is exact to the nanosecond) and what happened
//! ([`EventKind`]). The kinds follow a task through its life:
//!
//! ```text
//!  Spawned (SpawnedAt) ──> PollStart ──> PollEnd ──> (TimerRegistered | Waiting | IoWaiting) ... Woken ──> PollStart ...
//!                                                ... TimerFired / Granted ─────────────────────┘
//!  ... PollStart (TimedOut) ──> Done { Value | Panic(message) | Cancelled }
//! ```
//!
//! `sched` and `schedule` have no tasks: their runs are [`EventKind::SchedRun`] and
//! [`EventKind::JobRun`], each with how long the action took.
//!
//! One kind is not something the loop did: [`EventKind::Dropped`] marks where the
//! recorder's [window](super::Window) begins, and how many events it left out.

use std::fmt;
use std::time::Duration;

/// A task's number in the trace: the runtime's task id (`Task-<id>`); `0` is the
/// future given to `block_on`, which the trace calls `main`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TaskId(pub u64);

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// One recorded event: when, in the loop's clock, and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Time since the trace began, read from the runtime's own clock (virtual or real).
    pub at: Duration,
    /// What happened.
    pub kind: EventKind,
}

impl Event {
    /// An event at `at`.
    pub fn new(at: Duration, kind: EventKind) -> Event {
        Event { at, kind }
    }
}

/// What happened, for one [`Event`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    /// A task was created (`asyncio.create_task`) and queued.
    Spawned {
        /// The new task.
        task: TaskId,
        /// Its name (`Task-3`, or the one given).
        name: String,
        /// The task that spawned it; `None` when spawned from outside any task.
        parent: Option<TaskId>,
    },
    /// A worker thread began polling the task (asyncio: `Task.__step` begins).
    PollStart {
        /// The task.
        task: TaskId,
        /// Which worker thread: 0 on the single-threaded loop.
        worker: usize,
    },
    /// The poll returned (`Pending`, or `Ready` just before [`EventKind::Done`]).
    PollEnd {
        /// The task.
        task: TaskId,
        /// Which worker thread.
        worker: usize,
    },
    /// The task's waker was called: it is queued to run again.
    Woken {
        /// The task woken.
        task: TaskId,
        /// Who woke it.
        by: WakeSource,
    },
    /// The task (while being polled) set a timer: `sleep`, `timeout`, `wait_for`.
    TimerRegistered {
        /// The task that waits.
        task: TaskId,
        /// When the timer is due, in trace time.
        due: Duration,
    },
    /// The timer wheel fired the task's timer (a [`EventKind::Woken`] follows).
    TimerFired {
        /// The task whose timer fired.
        task: TaskId,
    },
    /// The task found a lock, semaphore, event, condition or queue unavailable and
    /// now waits in its line. (Getting it at once records nothing: the common,
    /// uncontended case costs no event.)
    Waiting {
        /// The task that waits.
        task: TaskId,
        /// What it waits on.
        resource: Resource,
    },
    /// The task got what it waited for (the lock, a permit, the event set, an item),
    /// after a [`EventKind::Waiting`]; recorded by the task's own poll that finds it
    /// served (the hand-over itself shows as the [`EventKind::Woken`] before it).
    Granted {
        /// The task served.
        task: TaskId,
        /// What it got.
        resource: Resource,
    },
    /// The task (while being polled) found a socket, pipe or child process not
    /// ready and now waits for the selector to report it (asyncio's `add_reader`,
    /// `add_writer`). A timer set in the same poll is this wait's timeout.
    IoWaiting {
        /// The task that waits.
        task: TaskId,
        /// What it waits on, in words: `127.0.0.1:8080` (a connected socket's
        /// peer), `listening on 127.0.0.1:80`, `child process 1234 'sleep'`, `a pipe`.
        source: String,
        /// Waiting to read (else to write).
        read: bool,
    },
    /// A `timeout` or `wait_for` in the task (while being polled) ran out: what it
    /// awaited was cancelled (dropped) and the task got `Err(TimeoutError)`.
    TimedOut {
        /// The task.
        task: TaskId,
        /// The time the awaited future was given.
        after: Duration,
    },
    /// Where the task was spawned: the line of the `spawn` call (recorded right after
    /// its [`EventKind::Spawned`], when the runtime knows it). A task with no name of
    /// its own is drawn under it (`fetch.rs:12`) rather than as `Task-3`.
    SpawnedAt {
        /// The task.
        task: TaskId,
        /// `file:line`, as [`std::panic::Location`] writes it (`src/fetch.rs:12`).
        location: String,
    },
    /// The task finished.
    Done {
        /// The task.
        task: TaskId,
        /// How it finished.
        outcome: Outcome,
    },
    /// `sched.scheduler.run` ran an event's action; [`Event::at`] is when it began.
    SchedRun {
        /// The event's name (`enter_named`), or its action's description.
        name: String,
        /// How long the action ran.
        took: Duration,
    },
    /// `schedule.run_pending` ran a job; [`Event::at`] is when it began.
    JobRun {
        /// The job's name.
        name: String,
        /// How long the job ran.
        took: Duration,
    },
    /// The recorder's [window](super::Window) begins here: `count` events before
    /// [`Event::at`] were dropped to keep the memory bounded. The events before it
    /// are those kept for the tasks still alive then (each one's spawn and last
    /// poll), so that their rows and their waits are still known. The timeline
    /// starts here and says what was dropped.
    Dropped {
        /// How many events were dropped.
        count: u64,
    },
}

impl EventKind {
    /// The task this event is about, if it is about a task.
    pub fn task(&self) -> Option<TaskId> {
        match self {
            EventKind::Spawned { task, .. }
            | EventKind::PollStart { task, .. }
            | EventKind::PollEnd { task, .. }
            | EventKind::Woken { task, .. }
            | EventKind::TimerRegistered { task, .. }
            | EventKind::TimerFired { task }
            | EventKind::Waiting { task, .. }
            | EventKind::Granted { task, .. }
            | EventKind::IoWaiting { task, .. }
            | EventKind::TimedOut { task, .. }
            | EventKind::SpawnedAt { task, .. }
            | EventKind::Done { task, .. } => Some(*task),
            EventKind::SchedRun { .. } | EventKind::JobRun { .. } | EventKind::Dropped { .. } => {
                None
            }
        }
    }
}

/// Who called a task's waker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WakeSource {
    /// The timer wheel: a `sleep` or a timeout is due.
    Timer,
    /// Another task of the loop (it released a lock, set an event, put an item...).
    Task(TaskId),
    /// A thread outside the loop (`call_soon_threadsafe`; the blocking pool).
    Thread,
    /// The selector: a socket or pipe became ready.
    Io,
}

/// How a task finished (asyncio: `result()`, `exception()`, `cancelled()`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// It returned a value.
    Value,
    /// It panicked, with this message.
    Panic(String),
    /// It was cancelled before it finished.
    Cancelled,
    /// It returned in the poll where a `timeout` or `wait_for` cut off what it
    /// awaited: a [`EventKind::Done`] with a value after an
    /// [`EventKind::TimedOut`] of the same poll, as the [timeline](super::Timeline)
    /// reads it (the runtime records the value; the chart says the task was cut off,
    /// not that it succeeded).
    TimedOut,
}

/// A synchronisation object a task can wait on, and its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    /// Which kind of object.
    pub kind: ResourceKind,
    /// Its name, as the user gave it (or one the runtime made up, like `Mutex-1`).
    pub name: String,
}

impl Resource {
    /// A resource of `kind` named `name`.
    pub fn new(kind: ResourceKind, name: impl Into<String>) -> Resource {
        Resource {
            kind,
            name: name.into(),
        }
    }
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} '{}'", self.kind.word(), self.name)
    }
}

/// The kinds of [`Resource`]: `asyncio.Lock`, `Semaphore`, `Event`, `Condition`, `Queue`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceKind {
    /// [`crate::sync::Mutex`] (`asyncio.Lock`).
    Lock,
    /// [`crate::sync::Semaphore`].
    Semaphore,
    /// [`crate::sync::Event`].
    Event,
    /// [`crate::sync::Condition`].
    Condition,
    /// [`crate::sync::Queue`].
    Queue,
}

impl ResourceKind {
    /// The lowercase word used in the JSON lines and in messages.
    pub fn word(self) -> &'static str {
        match self {
            ResourceKind::Lock => "lock",
            ResourceKind::Semaphore => "semaphore",
            ResourceKind::Event => "event",
            ResourceKind::Condition => "condition",
            ResourceKind::Queue => "queue",
        }
    }

    /// The kind named by [`word`](ResourceKind::word), if any.
    pub fn from_word(word: &str) -> Option<ResourceKind> {
        [
            ResourceKind::Lock,
            ResourceKind::Semaphore,
            ResourceKind::Event,
            ResourceKind::Condition,
            ResourceKind::Queue,
        ]
        .into_iter()
        .find(|kind| kind.word() == word)
    }
}

/// `1.500s`, `0.000250s`: seconds with as many decimals as the value needs (at least
/// three), so a virtual-clock time reads exactly.
pub fn format_secs(at: Duration) -> String {
    let nanos = at.subsec_nanos();
    let mut frac = format!("{nanos:09}");
    while frac.len() > 3 && frac.ends_with('0') {
        frac.pop();
    }
    format!("{}.{frac}s", at.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_keep_three_decimals_and_drop_trailing_zeros() {
        for (at, text) in [
            (Duration::ZERO, "0.000s"),
            (Duration::from_millis(1500), "1.500s"),
            (Duration::from_micros(250), "0.00025s"),
            (Duration::new(2, 1), "2.000000001s"),
        ] {
            assert_eq!(format_secs(at), text, "{at:?}");
        }
    }

    #[test]
    fn resource_kinds_round_trip_through_their_word() {
        for word in ["lock", "semaphore", "event", "condition", "queue"] {
            assert_eq!(ResourceKind::from_word(word).map(|k| k.word()), Some(word));
        }
        assert_eq!(ResourceKind::from_word("barrier"), None);
    }
}
