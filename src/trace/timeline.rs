//! From events to a chart's rows: for each task, what it was doing from when to when.
//!
//! The renderers (terminal, SVG, Chrome) draw from this one model, and the model is
//! drawn from the events only, so a trace loaded back from JSON lines draws the same.
//! Each task row is a list of [`Segment`]s, built by following its events:
//!
//! ```text
//!   Spawned ─> Ready ─PollStart─> Running ─PollEnd─> Timer  (a TimerRegistered during the poll)
//!                                                 ─> Sync   (a Waiting during the poll)
//!                                                 ─> Io     (an IoWaiting during the poll)
//!                                                 ─> Ready  (woken during the poll)
//!                                                 ─> Idle   (none of these: waits on a task)
//!   Timer / Sync / Io / Idle ─Woken or Granted─> Ready ─PollStart─> Running ... ─Done─> end mark
//! ```
//!
//! A timer set in the same poll as a Sync or Io wait is that wait's timeout
//! (`wait_for(stream.read(..), 5 s)`): the row shows the wait, its detail the
//! timeout (`waiting on I/O: 127.0.0.1:8080, to read; timeout at 5.000s`), not a
//! sleep. A task whose last poll saw a timeout run out ([`EventKind::TimedOut`])
//! ends with [`Outcome::TimedOut`], not a success mark, though it returned a value
//! (its `Err(TimeoutError)`).
//!
//! A task with no name of its own and a known spawn location
//! ([`EventKind::SpawnedAt`]) is labelled by it, `fetch.rs:12` (`fetch.rs:12 #3`
//! when several rows share the line), rather than `Task-3`.
//!
//! On the virtual clock a poll takes no time: its `Running` segment has zero length,
//! and the renderers still show it (a column, a 2-pixel bar).
//!
//! A trace that outgrew the recorder's [window](super::window) holds an
//! [`EventKind::Dropped`] where the window begins: the chart starts there
//! ([`Timeline::start`]), each task alive then (its spawn and last poll were kept)
//! starts at the left edge in the state it was in, and the renderers print what
//! was dropped ([`Timeline::dropped_line`]).

use std::collections::HashMap;
use std::time::Duration;

use super::event::{Event, EventKind, Outcome, TaskId, WakeSource, format_secs};

/// What a task is doing during a [`Segment`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// Being polled by a worker thread.
    Running,
    /// Woken and queued: waiting for its turn on a worker.
    Ready,
    /// Sleeping: waiting for a timer (`sleep`, a timeout).
    Timer,
    /// Waiting on a lock, semaphore, event, condition or queue.
    Sync,
    /// Waiting for a socket, pipe or child process to be ready (the selector).
    Io,
    /// Waiting on something the trace does not name (another task, a hand-written
    /// future).
    Idle,
}

impl State {
    /// Every state, in legend order.
    pub const ALL: [State; 6] = [
        State::Running,
        State::Ready,
        State::Timer,
        State::Sync,
        State::Io,
        State::Idle,
    ];

    /// A short name, for a legend or a hover title.
    pub fn word(self) -> &'static str {
        match self {
            State::Running => "running",
            State::Ready => "ready",
            State::Timer => "sleeping (timer)",
            State::Sync => "waiting on a lock/semaphore/queue",
            State::Io => "waiting on I/O",
            State::Idle => "waiting (a task, other)",
        }
    }
}

/// One stretch of a row in one state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// What the task did.
    pub state: State,
    /// From (trace time).
    pub start: Duration,
    /// To (trace time); equal to `start` for a poll on the virtual clock.
    pub end: Duration,
    /// Why, in words: `sleeping until 2.000s`, `waiting on semaphore 'sem'`.
    pub detail: String,
}

/// One row of the chart: a task, or a `sched` event or `schedule` job by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// The task, for a task's row.
    pub task: Option<TaskId>,
    /// What the chart writes at the left.
    pub label: String,
    /// What the row did, in time order.
    pub segments: Vec<Segment>,
    /// When and how the task finished, if it did within the trace.
    pub end: Option<(Duration, Outcome)>,
}

/// The rows of a trace, ready to draw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timeline {
    /// One per task in spawn order, then one per `sched`/`schedule` name.
    pub rows: Vec<Row>,
    /// The left end of the time axis: zero, or where the recorder's window begins
    /// when it dropped the events before.
    pub start: Duration,
    /// The last time in the trace: the right end of the time axis.
    pub end: Duration,
    /// How many events were dropped before [`start`](Timeline::start).
    pub dropped: u64,
}

/// A task's row while the events are read: its current segment, and what it will
/// wait on when the current poll ends.
struct Open {
    row: usize,
    state: State,
    since: Duration,
    detail: String,
    /// The wait announced during the current poll (it begins when the poll ends).
    next: Option<(State, String)>,
    /// Woken while being polled: it goes straight back to the queue.
    woken_in_poll: bool,
    /// A timeout ran out during the current (or last) poll.
    timed_out: bool,
}

/// The model being built, event by event.
#[derive(Default)]
struct Builder {
    rows: Vec<Row>,
    open: HashMap<TaskId, Open>,
    /// Where the window begins and how many events it dropped, if it did.
    dropped: Option<(Duration, u64)>,
    /// The rows labelled by their spawn location (not named by the user).
    located: HashMap<usize, TaskId>,
}

impl Timeline {
    /// Follows each task through `events` (in time order, as
    /// [`Recorder::events`](super::Recorder::events) gives them).
    pub fn from_events(events: &[Event]) -> Timeline {
        let mut builder = Builder::default();
        let mut end = Duration::ZERO;
        for event in events {
            end = end.max(event.at);
            if let EventKind::SchedRun { took, .. } | EventKind::JobRun { took, .. } = &event.kind {
                end = end.max(event.at + *took);
            }
            builder.apply(event);
        }
        let open: Vec<TaskId> = builder.open.keys().copied().collect();
        for task in open {
            builder.close(task, end);
        }
        builder.tell_located_apart();
        let (start, dropped) = builder.dropped.unwrap_or_default();
        let mut timeline = Timeline {
            rows: builder.rows,
            start,
            end,
            dropped,
        };
        if dropped > 0 {
            timeline.clip();
        }
        timeline
    }

    /// `events before 12.400s dropped: 1,204,331`, when the window dropped some.
    pub fn dropped_line(&self) -> Option<String> {
        (self.dropped > 0).then(|| {
            format!(
                "events before {} dropped: {}",
                format_secs(self.start),
                super::scale::thousands(self.dropped)
            )
        })
    }

    /// Cuts what lies before [`start`](Timeline::start): the carried events of the
    /// tasks alive there. A row left with nothing (its task ended before) goes.
    fn clip(&mut self) {
        let start = self.start;
        self.rows.retain_mut(|row| {
            row.segments.retain(|segment| {
                segment.end >= start && (segment.end > start || segment.start >= start)
            });
            for segment in &mut row.segments {
                segment.start = segment.start.max(start);
            }
            if row.end.as_ref().is_some_and(|(at, _)| *at < start) {
                row.end = None;
            }
            !row.segments.is_empty() || row.end.is_some()
        });
    }
}

impl Builder {
    fn apply(&mut self, event: &Event) {
        let at = event.at;
        match &event.kind {
            EventKind::Spawned { task, name, .. } if self.open.contains_key(task) => {
                // A second `spawned`: the task was renamed (`Task::set_name`).
                let row = self.open[task].row;
                self.rows[row].label = name.clone();
                self.located.remove(&row);
            }
            EventKind::SpawnedAt { task, location } => {
                let row = self.task(*task, at).row;
                // Only a default name gives way: a name the user chose stays.
                if self.rows[row].label == format!("Task-{task}") {
                    self.rows[row].label = short_location(location);
                    self.located.insert(row, *task);
                }
            }
            EventKind::Spawned { task, name, parent } => {
                let row = self.new_row(Some(*task), name.clone());
                let detail = match parent {
                    Some(parent) => format!("spawned by task {parent}"),
                    None => "spawned".to_string(),
                };
                self.open.insert(*task, Open::new(row, at, detail));
            }
            EventKind::PollStart { task, worker } => self.poll_start(*task, at, *worker),
            EventKind::PollEnd { task, .. } => self.poll_end(*task, at),
            EventKind::Woken { task, by } => {
                // The selector's wake-ups come from outside any task: for a task
                // waiting on I/O, that is its readiness.
                let by = match (by, self.open.get(task).map(|open| open.state)) {
                    (WakeSource::Thread, Some(State::Io)) => &WakeSource::Io,
                    _ => by,
                };
                self.woken(*task, at, wake_words(by));
            }
            EventKind::TimerRegistered { task, due } => {
                let open = self.task(*task, at);
                match &mut open.next {
                    // Beside a wait announced in the same poll, a timer is that
                    // wait's timeout: the wait is what the row shows.
                    Some((state, detail)) if *state != State::Timer => {
                        detail.push_str(&format!("; timeout at {}", format_secs(*due)));
                    }
                    _ => self.wait(
                        *task,
                        at,
                        State::Timer,
                        format!("sleeping until {}", format_secs(*due)),
                    ),
                }
            }
            EventKind::IoWaiting { task, source, read } => {
                let way = if *read { "to read" } else { "to write" };
                let detail = format!("waiting on I/O: {source}, {way}");
                self.wait(*task, at, State::Io, detail);
            }
            EventKind::TimedOut { task, .. } => self.task(*task, at).timed_out = true,
            EventKind::TimerFired { .. } => {} // the Woken that follows moves the row
            EventKind::Waiting { task, resource } => {
                self.wait(*task, at, State::Sync, format!("waiting on {resource}"));
            }
            EventKind::Granted { task, resource } => {
                let open = self.task(*task, at);
                if open.state == State::Running {
                    open.next = None;
                } else {
                    self.woken(*task, at, format!("granted {resource}"));
                }
            }
            EventKind::Done { task, outcome } => {
                let timed_out = self.task(*task, at).timed_out;
                let outcome = match outcome {
                    // It returned its `Err(TimeoutError)`: cut off, not a success.
                    Outcome::Value if timed_out => Outcome::TimedOut,
                    other => other.clone(),
                };
                if let Some(row) = self.close(*task, at) {
                    self.rows[row].end = Some((at, outcome));
                }
            }
            EventKind::SchedRun { name, took } => self.run(format!("sched: {name}"), at, *took),
            EventKind::JobRun { name, took } => self.run(format!("job: {name}"), at, *took),
            EventKind::Dropped { count } => {
                let (start, dropped) = self.dropped.get_or_insert_default();
                (*start, *dropped) = ((*start).max(at), *dropped + count);
            }
        }
    }

    fn poll_start(&mut self, task: TaskId, at: Duration, worker: usize) {
        let open = self.task(task, at);
        open.next = None;
        open.woken_in_poll = false;
        open.timed_out = false;
        let detail = format!("polled on worker {worker}");
        self.switch(task, at, State::Running, detail);
    }

    /// The poll is over: the task goes on to the wait it announced while polled.
    fn poll_end(&mut self, task: TaskId, at: Duration) {
        let open = self.task(task, at);
        let (state, detail) = if open.woken_in_poll {
            (State::Ready, "woken while running".to_string())
        } else {
            let idle = (State::Idle, "waiting on another task".to_string());
            open.next.take().unwrap_or(idle)
        };
        self.switch(task, at, state, detail);
    }

    fn new_row(&mut self, task: Option<TaskId>, label: String) -> usize {
        self.rows.push(Row {
            task,
            label,
            segments: Vec::new(),
            end: None,
        });
        self.rows.len() - 1
    }

    /// The task's open row; a task first seen after its spawn (a trace begun late)
    /// gets a row named as the runtime would name it.
    fn task(&mut self, task: TaskId, at: Duration) -> &mut Open {
        if !self.open.contains_key(&task) {
            let label = if task.0 == 0 {
                "main".to_string()
            } else {
                format!("Task-{task}")
            };
            let row = self.new_row(Some(task), label);
            self.open
                .insert(task, Open::new(row, at, "seen first here".to_string()));
        }
        self.open.get_mut(&task).expect("inserted above")
    }

    /// Ends the current segment at `at` and starts one in `state`. Staying in the
    /// same state keeps the segment (a Granted and a Woken make one Ready).
    fn switch(&mut self, task: TaskId, at: Duration, state: State, detail: String) {
        let open = self.task(task, at);
        if open.state == state && state != State::Running {
            return;
        }
        let segment = open.segment(at);
        let row = open.row;
        (open.state, open.since, open.detail) = (state, at, detail);
        if let Some(segment) = segment {
            self.rows[row].segments.push(segment);
        }
    }

    /// A wait announced: it begins when the current poll ends (or now, outside a poll).
    fn wait(&mut self, task: TaskId, at: Duration, state: State, detail: String) {
        let open = self.task(task, at);
        if open.state == State::Running {
            open.next = Some((state, detail));
        } else {
            self.switch(task, at, state, detail);
        }
    }

    fn woken(&mut self, task: TaskId, at: Duration, detail: String) {
        let open = self.task(task, at);
        if open.state == State::Running {
            open.woken_in_poll = true;
        } else {
            self.switch(task, at, State::Ready, detail);
        }
    }

    /// Ends the task's last segment at `at`; returns its row.
    fn close(&mut self, task: TaskId, at: Duration) -> Option<usize> {
        let open = self.open.remove(&task)?;
        if let Some(segment) = open.segment(at) {
            self.rows[open.row].segments.push(segment);
        }
        Some(open.row)
    }

    /// Rows labelled by the same spawn line (tasks spawned in a loop) get their
    /// task's id after it: `fetch.rs:12 #3`, `fetch.rs:12 #4`.
    fn tell_located_apart(&mut self) {
        let mut count: HashMap<&str, usize> = HashMap::new();
        for row in self.located.keys() {
            *count.entry(self.rows[*row].label.as_str()).or_default() += 1;
        }
        let shared: Vec<usize> = self
            .located
            .keys()
            .copied()
            .filter(|row| count[self.rows[*row].label.as_str()] > 1)
            .collect();
        for row in shared {
            let task = self.located[&row];
            self.rows[row].label.push_str(&format!(" #{task}"));
        }
    }

    /// A `sched` or `schedule` run: a Running segment on the row of that name.
    fn run(&mut self, label: String, at: Duration, took: Duration) {
        let found = self
            .rows
            .iter()
            .position(|row| row.task.is_none() && row.label == label);
        let row = found.unwrap_or_else(|| self.new_row(None, label));
        let detail = format!("ran for {}", format_secs(took));
        let segment = Segment {
            state: State::Running,
            start: at,
            end: at + took,
            detail,
        };
        self.rows[row].segments.push(segment);
    }
}

impl Open {
    fn new(row: usize, at: Duration, detail: String) -> Open {
        Open {
            row,
            state: State::Ready,
            since: at,
            detail,
            next: None,
            woken_in_poll: false,
            timed_out: false,
        }
    }

    /// The current segment, ended at `at`; none for an empty wait (a poll is kept
    /// even when it took no time: it is the chart's only sign that the task ran).
    fn segment(&self, at: Duration) -> Option<Segment> {
        (at > self.since || self.state == State::Running).then(|| Segment {
            state: self.state,
            start: self.since,
            end: at,
            detail: self.detail.clone(),
        })
    }
}

/// `src/fetch.rs:12` as a row label: the file's name and the line (`fetch.rs:12`).
pub(crate) fn short_location(location: &str) -> String {
    let file_start = location.rfind(['/', '\\']).map_or(0, |slash| slash + 1);
    location[file_start..].to_string()
}

/// Who woke a task, in words.
pub(crate) fn wake_words(by: &WakeSource) -> String {
    match by {
        WakeSource::Timer => "woken by its timer".to_string(),
        WakeSource::Task(task) => format!("woken by task {task}"),
        WakeSource::Thread => "woken from another thread".to_string(),
        WakeSource::Io => "woken by I/O readiness".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{Resource, ResourceKind};

    fn at(ms: u64, kind: EventKind) -> Event {
        Event::new(Duration::from_millis(ms), kind)
    }

    /// Task 1 sleeps 1 s, then waits on lock 'db' until 1.5 s, then ends at 1.6 s.
    fn sleep_then_lock() -> Vec<Event> {
        use EventKind::*;
        let (task, worker) = (TaskId(1), 0);
        let name = "worker".to_string();
        let (lock, due) = (
            Resource::new(ResourceKind::Lock, "db"),
            Duration::from_secs(1),
        );
        let resource = || lock.clone();
        let by = WakeSource::Task(TaskId(2));
        vec![
            at(
                0,
                Spawned {
                    task,
                    name,
                    parent: None,
                },
            ),
            at(0, PollStart { task, worker }),
            at(0, TimerRegistered { task, due }),
            at(0, PollEnd { task, worker }),
            at(1000, TimerFired { task }),
            at(
                1000,
                Woken {
                    task,
                    by: WakeSource::Timer,
                },
            ),
            at(1000, PollStart { task, worker }),
            at(
                1000,
                Waiting {
                    task,
                    resource: resource(),
                },
            ),
            at(1000, PollEnd { task, worker }),
            at(
                1500,
                Granted {
                    task,
                    resource: resource(),
                },
            ),
            at(1500, Woken { task, by }),
            at(1600, PollStart { task, worker }),
            at(1600, PollEnd { task, worker }),
            at(
                1600,
                Done {
                    task,
                    outcome: Outcome::Value,
                },
            ),
        ]
    }

    #[test]
    fn a_task_that_sleeps_then_waits_on_a_lock_gets_one_segment_per_state() {
        let events = sleep_then_lock();
        let timeline = Timeline::from_events(&events);
        let row = &timeline.rows[0];
        let states: Vec<_> = row
            .segments
            .iter()
            .map(|s| (s.state, s.start.as_millis()))
            .collect();
        use State::*;
        let expected = [
            (Running, 0),
            (Timer, 0),
            (Running, 1000),
            (Sync, 1000),
            (Ready, 1500),
            (Running, 1600),
        ];
        assert_eq!(states, expected);
        assert_eq!(row.segments[3].detail, "waiting on lock 'db'");
        assert_eq!(row.end, Some((Duration::from_millis(1600), Outcome::Value)));
        assert_eq!(timeline.end, Duration::from_millis(1600));
    }

    #[test]
    fn sched_runs_share_a_row_per_name_and_unknown_tasks_get_one() {
        let events = vec![
            at(
                0,
                EventKind::SchedRun {
                    name: "backup".into(),
                    took: Duration::from_millis(5),
                },
            ),
            at(
                10,
                EventKind::PollStart {
                    task: TaskId(0),
                    worker: 1,
                },
            ),
            at(
                20,
                EventKind::SchedRun {
                    name: "backup".into(),
                    took: Duration::from_millis(5),
                },
            ),
        ];
        let timeline = Timeline::from_events(&events);
        let labels: Vec<_> = timeline.rows.iter().map(|r| r.label.as_str()).collect();
        assert_eq!(labels, ["sched: backup", "main"]);
        assert_eq!(timeline.rows[0].segments.len(), 2);
        assert_eq!(timeline.end, Duration::from_millis(25));
        assert_eq!(
            timeline.rows[1].segments.last().unwrap().end,
            Duration::from_millis(25)
        );
    }
}
