//! The window: the events a recorder keeps in memory, the newest ones, so that a
//! run traced for hours costs a few MB, not a GB.
//!
//! A ring of the last N events (a `VecDeque`: pushed at the back, dropped from the
//! front), and, when a [`Window::span`] is given, only those of the last T of trace
//! time. Perfetto's own tracing keeps a ring buffer the same way; tokio-console
//! keeps a bounded history of finished tasks.
//!
//! ```text
//!     dropped (counted)          kept: the window (at most N events, the last T)
//!   ─────────────────────────┬──────────────────────────────────────────────────>
//!   e1 e2 e3 ... e1204331    │ e1204332 ...                             newest
//!        │                   └── EventKind::Dropped { count: 1204331 } marks here
//!        └─> carried: for each task still alive, its spawn and its last poll
//! ```
//!
//! Dropping a task's events must not make it vanish: a server's idle connection
//! may have done nothing for an hour, and `Runtime::dump` or a deadlock report must
//! still say it waits on its socket, under its name. So an event that leaves the
//! window goes to the **carried** events of its task when the task is alive: its
//! latest `Spawned` (its name), its `SpawnedAt` (where it was spawned) and the events since its last `PollStart` (which say
//! what it waits on, and since when), a handful per task. A task's `Done` drops
//! them. The carried events come back, in front of the window, whenever the events
//! are read: the snapshot and the timeline see every live task as they would have
//! with the whole trace (only their poll counts start at the window).
//!
//! **What it costs.** In memory: the window's events (64 bytes each), plus the
//! batch that holds the oldest of them (a batch goes when all its events have
//! left), plus a few events per live task: with the default 50,000, about 4 MB at
//! most, and up to 1 MB more waiting in the recorder for the next flush. In time:
//! an event leaving the window costs about 120 instructions (callgrind, 200 tasks
//! yielding: moved to its task's carried events, one hash lookup per run of the
//! same task's events); a run that fits in the window pays nothing of it.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use super::config::Window;
use super::event::{Event, EventKind, TaskId};
use crate::id_hash::IdMap;

/// At most this many events are carried for one task since its last poll began (a
/// poll that set a thousand timers keeps its first event and its last ones).
const CARRIED_PER_TASK: usize = 16;

/// Batches are merged up to this many events.
const MERGED: usize = 1024;

/// The events kept, newest last, and what the window let go of.
///
/// The events stay in the batches the recorder flushed them in: a flush hands a
/// whole batch over (no event is moved), and a batch whose every event left the
/// window is dropped whole, its buffer handed back for a next batch. `skip` says
/// how many events of the oldest batch already left.
pub(crate) struct Kept {
    limit: Window,
    batches: VecDeque<Vec<Event>>,
    /// Events of `batches[0]` that left the window already.
    skip: usize,
    /// Events in the window: all the batches' but the skipped.
    len: usize,
    /// The latest time seen: the window's span is measured back from it.
    newest: Duration,
    /// Events that left the window, for the marker.
    dropped: u64,
    /// What was dropped of each task still alive.
    carried: CarriedMap,
    /// A batch's buffer, emptied, for the recorder's next batch.
    spare: Option<Vec<Event>>,
}

/// The events of a live task that left the window and still say what it does.
#[derive(Default)]
struct Carried {
    /// Its latest `Spawned`: its name.
    spawned: Option<Event>,
    /// Its `SpawnedAt`: where it was spawned (its label when it has no name).
    located: Option<Event>,
    /// Its last `PollStart` and what followed it.
    since_poll: Vec<Event>,
}

impl Kept {
    /// An empty window of `limit`.
    pub(crate) fn new(limit: Window) -> Kept {
        Kept {
            limit,
            batches: VecDeque::new(),
            skip: 0,
            len: 0,
            newest: Duration::ZERO,
            dropped: 0,
            carried: HashMap::default(),
            spare: None,
        }
    }

    /// Keeps at most what `limit` says from now on.
    pub(crate) fn set_limit(&mut self, limit: Window) {
        self.limit = limit;
        self.trim();
    }

    /// Keeps `batch` (events in the order recorded), letting the oldest go if the
    /// window is full.
    pub(crate) fn push_batch(&mut self, mut batch: Vec<Event>) {
        if self.limit.span.is_some() {
            // `record_at` may stamp an event before those recorded ahead of it.
            let latest = batch.iter().map(|event| event.at).max();
            self.newest = self.newest.max(latest.unwrap_or_default());
        }
        self.len += batch.len();
        match self.batches.back_mut() {
            // A small batch (a quiet stretch, flushed every 100 ms) joins the last
            // one: a window of one-event batches would cost a buffer per event.
            Some(last) if last.len() + batch.len() <= MERGED => {
                last.append(&mut batch);
                self.spare = Some(batch);
            }
            _ if batch.is_empty() => self.spare = Some(batch),
            _ => self.batches.push_back(batch),
        }
        self.trim();
    }

    /// An empty buffer for the recorder's next batch, if a dropped batch left one.
    pub(crate) fn take_spare(&mut self) -> Option<Vec<Event>> {
        self.spare.take()
    }

    /// Lets the oldest events go until the window holds no more than its count and
    /// its span.
    fn trim(&mut self) {
        let most = self.limit.events.max(1);
        while self.len > most {
            let oldest = &mut self.batches[0];
            let leaving = (self.len - most).min(oldest.len() - self.skip);
            carry_all(
                &mut self.carried,
                &mut oldest[self.skip..self.skip + leaving],
            );
            self.skip += leaving;
            self.len -= leaving;
            self.dropped += leaving as u64;
            self.drop_spent_batch();
        }
        if let Some(span) = self.limit.span {
            let from = self.newest.saturating_sub(span);
            while let Some(oldest) = self.batches.front_mut()
                && let Some(event) = oldest.get_mut(self.skip)
                && event.at < from
            {
                carry_all(&mut self.carried, std::slice::from_mut(event));
                (self.skip, self.len, self.dropped) =
                    (self.skip + 1, self.len - 1, self.dropped + 1);
                self.drop_spent_batch();
            }
        }
    }

    /// Drops the oldest batch if all its events left; keeps its buffer.
    fn drop_spent_batch(&mut self) {
        if self
            .batches
            .front()
            .is_some_and(|oldest| self.skip == oldest.len())
            && let Some(mut spent) = self.batches.pop_front()
        {
            spent.clear();
            self.spare = Some(spent);
            self.skip = 0;
        }
    }

    /// The events in the window, oldest first.
    fn window(&self) -> impl Iterator<Item = &Event> {
        self.batches.iter().flatten().skip(self.skip)
    }

    /// How many events [`to_events`](Kept::to_events) gives: the carried ones, the
    /// marker, the window.
    pub(crate) fn len(&self) -> usize {
        let carried: usize = self
            .carried
            .values()
            .map(|c| {
                usize::from(c.spawned.is_some())
                    + usize::from(c.located.is_some())
                    + c.since_poll.len()
            })
            .sum();
        carried + usize::from(self.dropped > 0) + self.len
    }

    /// Copies of the events, in time order: if the window dropped any, first the
    /// carried events of the live tasks, then an [`EventKind::Dropped`] where the
    /// window begins; then the window.
    pub(crate) fn to_events(&self) -> Vec<Event> {
        let mut events = Vec::with_capacity(self.len());
        if self.dropped > 0 {
            for carried in self.carried.values() {
                events.extend(carried.spawned.iter().cloned());
                events.extend(carried.located.iter().cloned());
                events.extend(carried.since_poll.iter().cloned());
            }
            // Carried events are older than the window's first: after the sort, the
            // marker stands between them and the window (the sort is stable: it
            // stays ahead of the window's events of the same instant).
            let begins = self.window().next().map_or(self.newest, |first| first.at);
            let count = self.dropped;
            events.push(Event::new(begins, EventKind::Dropped { count }));
        }
        events.extend(self.window().cloned());
        events.sort_by_key(|event| event.at);
        events
    }
}

/// The carried events of the live tasks, by task.
type CarriedMap = IdMap<TaskId, Carried>;

/// Keeps what `leaving`, events leaving the window, still say about live tasks:
/// each one's latest spawn (its name), its last poll and what followed; a task's
/// end lets go of it. This runs for every event of a long run, so: one lookup per
/// run of events of the same task (a poll's start, wake-ups and end come
/// together), and each event moved out (a placeholder with nothing to drop takes
/// its place until its batch is dropped), not cloned.
fn carry_all(carried: &mut CarriedMap, leaving: &mut [Event]) {
    let mut rest = leaving;
    while let Some(first) = rest.first() {
        let task = first.kind.task();
        let run = rest.iter().take_while(|e| e.kind.task() == task).count();
        let (events, after) = rest.split_at_mut(run);
        rest = after;
        let Some(task) = task else {
            continue; // sched or schedule runs: nothing lives on
        };
        // The run's last `Done`: what came before it is over.
        let ended = events
            .iter()
            .rposition(|e| matches!(e.kind, EventKind::Done { .. }));
        let events = match ended {
            Some(done) => {
                carried.remove(&task);
                &mut events[done + 1..]
            }
            None => events,
        };
        if events.is_empty() {
            continue;
        }
        let entry = carried.entry(task).or_default();
        for event in events {
            let event = std::mem::replace(event, PLACEHOLDER);
            match event.kind {
                EventKind::Spawned { .. } => entry.spawned = Some(event),
                EventKind::SpawnedAt { .. } => entry.located = Some(event),
                EventKind::PollStart { .. } => {
                    entry.since_poll.clear();
                    entry.since_poll.push(event);
                }
                _ => {
                    if entry.since_poll.len() >= CARRIED_PER_TASK {
                        entry.since_poll.remove(1.min(entry.since_poll.len() - 1));
                    }
                    entry.since_poll.push(event);
                }
            }
        }
    }
}

/// What stands in a batch for an event moved out of it: nothing to drop.
const PLACEHOLDER: Event = Event {
    at: Duration::ZERO,
    kind: EventKind::Dropped { count: 0 },
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{Outcome, Snapshot, TaskState, WaitingOn};

    fn at(ms: u64, kind: EventKind) -> Event {
        Event::new(Duration::from_millis(ms), kind)
    }

    /// Task 1 sleeps until 1 h, while task 2 polls 100 times and ends.
    fn sleeper_and_busy() -> Vec<Event> {
        let (one, two, worker) = (TaskId(1), TaskId(2), 0);
        let mut events = vec![
            at(
                0,
                EventKind::Spawned {
                    task: one,
                    name: "sleeper".into(),
                    parent: None,
                },
            ),
            at(
                0,
                EventKind::Spawned {
                    task: two,
                    name: "busy".into(),
                    parent: None,
                },
            ),
            at(1, EventKind::PollStart { task: one, worker }),
            at(
                1,
                EventKind::TimerRegistered {
                    task: one,
                    due: Duration::from_secs(3600),
                },
            ),
            at(1, EventKind::PollEnd { task: one, worker }),
        ];
        for n in 0..100 {
            events.push(at(2 + n, EventKind::PollStart { task: two, worker }));
            events.push(at(2 + n, EventKind::PollEnd { task: two, worker }));
        }
        events.push(at(
            102,
            EventKind::Done {
                task: two,
                outcome: Outcome::Value,
            },
        ));
        events
    }

    #[test]
    fn the_window_keeps_the_last_n_and_carries_what_live_tasks_wait_on() {
        let limit = Window {
            events: 10,
            span: None,
        };
        let mut kept = Kept::new(limit);
        let mut all = sleeper_and_busy();
        for n in 0..10 {
            let (name, took) = ("backup".to_string(), Duration::ZERO);
            all.push(at(103 + n, EventKind::SchedRun { name, took }));
        }
        for chunk in all.chunks(7) {
            kept.push_batch(chunk.to_vec());
        }
        assert_eq!(kept.len, 10);
        assert_eq!(kept.window().count(), 10);
        assert!(kept.batches.len() <= 3, "spent batches are dropped");
        assert_eq!(kept.dropped, all.len() as u64 - 10);
        // Task 2 ended: nothing of it is carried. Task 1 carries its name and its sleep.
        assert_eq!(kept.carried.len(), 1);
        let events = kept.to_events();
        assert_eq!(events.len(), kept.len());
        let marker = events
            .iter()
            .position(|e| matches!(e.kind, EventKind::Dropped { .. }));
        assert_eq!(
            marker,
            Some(4),
            "spawn, poll start, timer, poll end, then the marker"
        );
        assert!(events.windows(2).all(|pair| pair[0].at <= pair[1].at));
        let snapshot = Snapshot::from_events(&events, Duration::from_secs(1));
        let sleeper = &snapshot.tasks[0];
        assert_eq!(
            (sleeper.name.as_str(), sleeper.state),
            ("sleeper", TaskState::Waiting)
        );
        let due = Duration::from_secs(3600);
        assert_eq!(sleeper.waiting_on, Some(WaitingOn::Timer { due }));
    }

    #[test]
    fn a_span_keeps_the_last_stretch_of_time_only() {
        let limit = Window {
            events: 1000,
            span: Some(Duration::from_millis(10)),
        };
        let mut kept = Kept::new(limit);
        kept.push_batch(sleeper_and_busy());
        let first = kept.window().next().unwrap().at;
        assert_eq!(first, Duration::from_millis(92));
        assert!(kept.dropped > 0);
    }

    #[test]
    fn a_long_poll_carries_a_bounded_number_of_events() {
        let mut kept = Kept::new(Window {
            events: 1,
            span: None,
        });
        let task = TaskId(1);
        kept.push_batch(vec![at(0, EventKind::PollStart { task, worker: 0 })]);
        for n in 0..100 {
            let due = Duration::from_secs(n);
            kept.push_batch(vec![at(0, EventKind::TimerRegistered { task, due })]);
        }
        kept.push_batch(vec![at(0, EventKind::PollEnd { task, worker: 0 })]);
        let carried = &kept.carried[&task].since_poll;
        assert_eq!(carried.len(), CARRIED_PER_TASK);
        assert!(matches!(carried[0].kind, EventKind::PollStart { .. }));
    }
}
