//! What is every task doing now? A snapshot of the live tasks, as a table, and the
//! report of a deadlock: the tasks that wait and what each waits on.
//!
//! asyncio has `asyncio.all_tasks()` and `task.print_stack()`; tokio-console shows a
//! live task list (id, state, name, busy and idle time, polls). A [`Snapshot`]
//! prints the same list, ours:
//!
//! ```text
//!  ID  NAME    STATE    FOR       POLLS  BUSY      WAITING ON
//!   0  main    waiting  1.000s        1  0.000s    task 2 'worker'
//!   2  worker  waiting  1.000s        1  0.000s    lock 'db'
//! ```
//!
//! The runtime fills one from its tasks (`Runtime::dump`, and the deadlock check of
//! the virtual clock); [`Snapshot::from_events`] rebuilds one from a trace.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use super::event::{Event, EventKind, Resource, TaskId, format_secs};

/// Where a task is in its life at the time of a snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskState {
    /// Being polled right now.
    Running,
    /// Woken, in the run queue.
    Ready,
    /// Suspended until something wakes it (see [`TaskSnapshot::waiting_on`]).
    Waiting,
    /// Not known: the runtime does not trace, and keeps no per-task state for this.
    Unknown,
}

impl TaskState {
    fn word(self) -> &'static str {
        match self {
            TaskState::Running => "running",
            TaskState::Ready => "ready",
            TaskState::Waiting => "waiting",
            TaskState::Unknown => "?",
        }
    }
}

/// What a waiting task waits on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WaitingOn {
    /// A timer (`sleep`, a timeout) due at this trace time.
    Timer {
        /// When it fires.
        due: Duration,
    },
    /// A lock, semaphore, event, condition or queue.
    Resource(Resource),
    /// Another task's end (`task.await`, `gather`).
    Task {
        /// The awaited task.
        id: TaskId,
        /// Its name.
        name: String,
    },
    /// A socket or pipe to become ready.
    Socket {
        /// Which one, in words (`127.0.0.1:8080`, `stdin`).
        what: String,
    },
    /// Something else the runtime can name, in words (`a sleep until 7.000s (in
    /// 2.000s)`, `child process 1234 'sleep' (fd 7, to read)`, `a barrier`).
    Other(String),
}

impl fmt::Display for WaitingOn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WaitingOn::Timer { due } => write!(f, "a timer due at {}", format_secs(*due)),
            WaitingOn::Resource(resource) => write!(f, "{resource}"),
            WaitingOn::Task { id, name } => write!(f, "task {id} '{name}'"),
            WaitingOn::Socket { what } => write!(f, "socket {what}"),
            WaitingOn::Other(what) => f.write_str(what),
        }
    }
}

/// One live task, at the time of a snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskSnapshot {
    /// The task's id.
    pub id: TaskId,
    /// Its name.
    pub name: String,
    /// Where it was spawned (`src/main.rs:12`), when known: the trace's
    /// `spawned_at` event, or the task itself once it keeps its spawn location.
    pub spawned_at: Option<String>,
    /// Running, ready or waiting.
    pub state: TaskState,
    /// Since when (trace time) it has been in that state.
    pub since: Duration,
    /// What it waits on, when known (`None`: not waiting, or on something the
    /// runtime cannot name, like a hand-written future).
    pub waiting_on: Option<WaitingOn>,
    /// How many times it was polled.
    pub polls: u64,
    /// Time spent being polled (zero on the virtual clock).
    pub busy: Duration,
}

/// The live tasks at one moment, printed as a table by `Display`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// When (trace time).
    pub at: Duration,
    /// The tasks alive then, by id.
    pub tasks: Vec<TaskSnapshot>,
}

impl Snapshot {
    /// The live tasks at time `at`, rebuilt from a trace (events after `at` are
    /// ignored). A task awaiting another is seen as `Waiting` with `waiting_on: None`:
    /// the trace does not record `await`s.
    ///
    /// ```
    /// use std::time::Duration;
    /// use clearloop::trace::{Event, EventKind, Snapshot, TaskId, WaitingOn};
    ///
    /// let task = TaskId(1);
    /// let events = [
    ///     Event::new(Duration::ZERO, EventKind::Spawned { task, name: "nap".into(), parent: None }),
    ///     Event::new(Duration::ZERO, EventKind::PollStart { task, worker: 0 }),
    ///     Event::new(Duration::ZERO, EventKind::TimerRegistered { task, due: Duration::from_secs(2) }),
    ///     Event::new(Duration::ZERO, EventKind::PollEnd { task, worker: 0 }),
    /// ];
    /// let snapshot = Snapshot::from_events(&events, Duration::from_secs(1));
    /// let due = Duration::from_secs(2);
    /// assert_eq!(snapshot.tasks[0].waiting_on, Some(WaitingOn::Timer { due }));
    /// assert!(snapshot.to_string().contains("nap"));
    /// ```
    pub fn from_events(events: &[Event], at: Duration) -> Snapshot {
        let mut tasks: BTreeMap<TaskId, TaskSnapshot> = BTreeMap::new();
        let mut wait: BTreeMap<TaskId, Option<WaitingOn>> = BTreeMap::new();
        for event in events.iter().take_while(|event| event.at <= at) {
            let Some(id) = event.kind.task() else {
                continue;
            };
            if let EventKind::Done { .. } = event.kind {
                tasks.remove(&id);
                continue;
            }
            let task = tasks.entry(id).or_insert_with(|| TaskSnapshot {
                id,
                name: if id.0 == 0 {
                    "main".to_string()
                } else {
                    format!("Task-{id}")
                },
                spawned_at: None,
                state: TaskState::Ready,
                since: event.at,
                waiting_on: None,
                polls: 0,
                busy: Duration::ZERO,
            });
            follow(task, wait.entry(id).or_default(), event);
        }
        Snapshot {
            at,
            tasks: tasks.into_values().collect(),
        }
    }
}

/// Moves a task's snapshot on by one event; `next` is the wait announced during the
/// current poll.
fn follow(task: &mut TaskSnapshot, next: &mut Option<WaitingOn>, event: &Event) {
    let become_ = |task: &mut TaskSnapshot, state, waiting_on| {
        (task.state, task.since, task.waiting_on) = (state, event.at, waiting_on);
    };
    match &event.kind {
        EventKind::Spawned { name, .. } => task.name = name.clone(),
        EventKind::SpawnedAt { location, .. } => task.spawned_at = Some(location.clone()),
        EventKind::PollStart { .. } => {
            task.polls += 1;
            *next = None;
            become_(task, TaskState::Running, None);
        }
        EventKind::PollEnd { .. } if task.state == TaskState::Running => {
            task.busy += event.at.saturating_sub(task.since);
            become_(task, TaskState::Waiting, next.take());
        }
        EventKind::Woken { .. } | EventKind::Granted { .. } if task.state == TaskState::Waiting => {
            become_(task, TaskState::Ready, None);
        }
        // A timer beside another wait of the same poll is that wait's timeout: the
        // wait is what the task is for.
        EventKind::TimerRegistered { due, .. } if next.is_none() => {
            *next = Some(WaitingOn::Timer { due: *due });
        }
        EventKind::Waiting { resource, .. } => *next = Some(WaitingOn::Resource(resource.clone())),
        EventKind::IoWaiting { source, read, .. } => {
            // A timer set in the same poll is this wait's timeout: the I/O wins.
            let way = if *read { "to read" } else { "to write" };
            *next = Some(WaitingOn::Socket {
                what: format!("{source}, {way}"),
            });
        }
        _ => {}
    }
}

impl fmt::Display for Snapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name_width = self
            .tasks
            .iter()
            .map(|t| t.name.chars().count())
            .max()
            .unwrap_or(0)
            .max(4);
        writeln!(
            f,
            "{:>3}  {:<name_width$}  {:<7}  {:<8}  {:>5}  {:<8}  WAITING ON",
            "ID", "NAME", "STATE", "FOR", "POLLS", "BUSY"
        )?;
        for task in &self.tasks {
            let waiting = match &task.waiting_on {
                Some(on) => on.to_string(),
                None if task.state == TaskState::Waiting => {
                    "(not named: another task, I/O?)".to_string()
                }
                None => String::new(),
            };
            // Untraced, the runtime counts no time nor polls per task: blank, not 0.
            let (since, polls, busy) = match task.state {
                TaskState::Unknown => (String::new(), String::new(), String::new()),
                _ => (
                    millis(self.at.saturating_sub(task.since)),
                    task.polls.to_string(),
                    millis(task.busy),
                ),
            };
            let line = format!(
                "{:>3}  {:<name_width$}  {:<7}  {:<8}  {:>5}  {:<8}  {waiting}",
                task.id.0,
                task.name,
                task.state.word(),
                since,
                polls,
                busy,
            );
            writeln!(f, "{}", line.trim_end())?;
        }
        Ok(())
    }
}

/// The loop cannot go on: no task is ready, no timer pending, and nothing outside
/// the loop (a thread, I/O, the blocking pool) can wake a task. `Display` names
/// every waiting task and what it waits on, then how such a deadlock usually comes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadlockReport {
    /// When the loop found itself stuck: trace time, or with tracing off the
    /// clock's [`elapsed`](crate::clock::Clock::elapsed) time (the same reading on
    /// a virtual clock).
    pub at: Duration,
    /// The tasks still alive, all waiting.
    pub tasks: Vec<TaskSnapshot>,
}

impl fmt::Display for DeadlockReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "deadlock at {}: no task can run, no timer is pending and nothing outside the loop \
             can wake a task, so the loop would wait forever. {} waiting:",
            millis(self.at),
            plural(self.tasks.len(), "task is", "tasks are")
        )?;
        for task in &self.tasks {
            let on = match &task.waiting_on {
                Some(on) => on.to_string(),
                None => "something the runtime cannot name (a future never woken, like pending())"
                    .to_string(),
            };
            // Untraced, the runtime keeps no clock of the tasks' states: say
            // nothing rather than a false 0.000s.
            let since = match task.state {
                TaskState::Unknown => String::new(),
                _ => format!(", since {}", millis(task.since)),
            };
            // Where the task was spawned, when known: an unnamed `Task-3` says
            // which `spawn` made it.
            let spawned = match &task.spawned_at {
                Some(at) => format!(" (spawned at {at})"),
                None => String::new(),
            };
            writeln!(
                f,
                "  task {} '{}'{spawned} waits on {on}{since}",
                task.id, task.name
            )?;
        }
        writeln!(
            f,
            "Usual causes: a task locking a mutex it already holds; two tasks each holding what \
             the other waits for (take locks in one order); an event never set or a queue never \
             fed; a future that never calls its waker."
        )?;
        write!(
            f,
            "To see how the tasks got there, run again with CLEARLOOP_TRACE=timeline (the \
             history of every task, drawn in the terminal, and the line that spawned each)."
        )
    }
}

impl std::error::Error for DeadlockReport {}

/// Seconds to the millisecond (`2.006s`): a table of real-clock durations stays
/// aligned and readable.
fn millis(duration: Duration) -> String {
    format!("{}.{:03}s", duration.as_secs(), duration.subsec_millis())
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{ResourceKind, WakeSource};

    fn at(ms: u64, kind: EventKind) -> Event {
        Event::new(Duration::from_millis(ms), kind)
    }

    /// 'holder' (1) runs 10 ms, 'late' (2) then waits on lock 'db'; 1 is woken at
    /// 500 ms and ends at 900 ms.
    fn two_tasks() -> Vec<Event> {
        let (a, b, worker) = (TaskId(1), TaskId(2), 0);
        let lock = Resource::new(ResourceKind::Lock, "db");
        vec![
            at(
                0,
                EventKind::Spawned {
                    task: a,
                    name: "holder".into(),
                    parent: None,
                },
            ),
            at(
                0,
                EventKind::Spawned {
                    task: b,
                    name: "late".into(),
                    parent: Some(a),
                },
            ),
            at(0, EventKind::PollStart { task: a, worker }),
            at(10, EventKind::PollEnd { task: a, worker }),
            at(10, EventKind::PollStart { task: b, worker }),
            at(
                10,
                EventKind::Waiting {
                    task: b,
                    resource: lock.clone(),
                },
            ),
            at(10, EventKind::PollEnd { task: b, worker }),
            at(
                500,
                EventKind::Woken {
                    task: a,
                    by: WakeSource::Thread,
                },
            ),
            at(
                900,
                EventKind::Done {
                    task: a,
                    outcome: crate::trace::Outcome::Value,
                },
            ),
        ]
    }

    #[test]
    fn a_snapshot_follows_polls_waits_and_ends() {
        let (a, b) = (TaskId(1), TaskId(2));
        let lock = Resource::new(ResourceKind::Lock, "db");
        let events = two_tasks();
        let at_600 = Snapshot::from_events(&events, Duration::from_millis(600));
        let states: Vec<_> = at_600
            .tasks
            .iter()
            .map(|t| (t.id, t.state, t.since.as_millis()))
            .collect();
        assert_eq!(
            states,
            [(a, TaskState::Ready, 500), (b, TaskState::Waiting, 10)]
        );
        assert_eq!(at_600.tasks[0].busy, Duration::from_millis(10));
        assert_eq!(at_600.tasks[1].waiting_on, Some(WaitingOn::Resource(lock)));
        let table = at_600.to_string();
        assert!(
            table.starts_with(" ID  NAME    STATE    FOR       POLLS  BUSY      WAITING ON\n"),
            "{table}"
        );
        assert!(
            table.contains("  2  late    waiting  0.590s        1  0.000s    lock 'db'"),
            "{table}"
        );
        let at_end = Snapshot::from_events(&events, Duration::from_secs(1));
        assert_eq!(at_end.tasks.iter().map(|t| t.id).collect::<Vec<_>>(), [b]);
    }

    #[test]
    fn a_deadlock_report_names_each_task_and_what_it_waits_on() {
        let task = |id, name: &str, waiting_on| TaskSnapshot {
            id: TaskId(id),
            name: name.to_string(),
            spawned_at: None,
            state: TaskState::Waiting,
            since: Duration::from_secs(1),
            waiting_on,
            polls: 1,
            busy: Duration::ZERO,
        };
        let lock = WaitingOn::Resource(Resource::new(ResourceKind::Lock, "db"));
        let report = DeadlockReport {
            at: Duration::from_secs(3),
            tasks: vec![task(1, "twice", Some(lock)), task(2, "forever", None)],
        };
        let text = report.to_string();
        assert!(
            text.starts_with("deadlock at 3.000s: no task can run"),
            "{text}"
        );
        assert!(text.contains("2 tasks are waiting:"), "{text}");
        assert!(
            text.contains("  task 1 'twice' waits on lock 'db', since 1.000s\n"),
            "{text}"
        );
        assert!(
            text.contains("  task 2 'forever' waits on something the runtime cannot name"),
            "{text}"
        );
    }
}
