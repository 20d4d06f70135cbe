//! The calls the runtime and the sync primitives make: one per event, one branch
//! when tracing is off.
//!
//! Two kinds of recording sites:
//!
//! * **The runtime** holds a [`Tracer`](super::Tracer) (`Option<Arc<Recorder>>`)
//!   and calls [`Recorder::spawned`], [`Recorder::poll`] (a guard: `PollStart` now,
//!   `PollEnd` when dropped), [`Recorder::woken`], [`Recorder::firing_timers`],
//!   [`Recorder::timer_registered`] and [`Recorder::done`] inside an
//!   `if let Some(trace) = &self.trace`.
//! * **A lock, semaphore, event, condition or queue** holds no tracer: it may be
//!   created before any runtime. It calls [`record_current`] behind [`enabled`],
//!   one relaxed load of a global counter of live recorders. The event goes to the
//!   recorder of the task being polled on this thread, if that runtime traces.
//!
//! While [`Recorder::poll`]'s guard lives, this thread knows which task runs and
//! which recorder it reports to (a thread-local, set only when tracing): that is
//! how a spawn finds its parent, a wake-up its waker, and a semaphore its waiter.
//!
//! ```text
//!   worker thread:  trace.poll(task, worker) ──> HERE = (recorder, task)
//!                     future.poll(cx)
//!                       spawn(..)              ──> Spawned { parent: task }
//!                       sem.acquire() waits    ──> Waiting { task, semaphore }
//!                       other.wake()           ──> Woken { other, by: Task(task) }
//!                   guard dropped              ──> PollEnd, HERE restored
//! ```
//!
//! ## Which way the arrows point
//!
//! The task calls the tracer, never the reverse: `poll_task` takes the task's id,
//! its poll and a closure that says whether it was woken during the poll;
//! `Recorder::task_done` takes anything that converts into an [`Outcome`] (the
//! task's own outcome does, beside its definition). So the tracer names none of
//! the task cell's types, and a change to the cell's layout never touches `trace/`.
//! Inside `trace/` too: this file builds on the [recorder](super::recorder), and
//! the recorder knows nothing of this file (the count of live recorders that
//! [`enabled`] reads is the recorder's own).

use std::cell::RefCell;
use std::panic::Location;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::event::{EventKind, Outcome, TaskId, WakeSource};
use super::recorder::Recorder;
pub use super::recorder::enabled;

/// What this thread is doing, for the recorders; all `None`/`false` when not tracing.
#[derive(Default)]
struct Here {
    /// The recorder of the runtime polling a task on this thread.
    recorder: Option<Arc<Recorder>>,
    /// The task being polled.
    task: Option<TaskId>,
    /// The loop is waking the tasks of fired timers.
    firing_timers: bool,
}

thread_local! {
    static HERE: RefCell<Here> = RefCell::new(Here::default());
    /// This thread's worker index (0: the single-threaded loop, `block_on`'s thread).
    static WORKER: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Tells the recorders that this thread is worker `index` (called once, when a
/// worker thread starts).
pub(crate) fn set_worker(index: usize) {
    WORKER.with(|worker| worker.set(index));
}

/// asyncio's `current_task()`: the task being polled on this thread, or `None`.
/// Known only when its runtime traces (`Builder::trace`, `CLEARLOOP_TRACE`): keeping
/// it without tracing would cost every poll two thread-local writes. Task 0 is
/// `block_on`'s future.
pub fn current_task() -> Option<TaskId> {
    HERE.with(|here| here.borrow().task)
}

/// Records `make(task, recorder)` for the task being polled on this thread, if its
/// runtime traces; does nothing otherwise. For code that holds no tracer:
///
/// ```text
/// if trace::enabled() {
///     trace::record_current(|task, _| EventKind::Waiting { task, resource: self.resource() });
/// }
/// ```
pub fn record_current(make: impl FnOnce(TaskId, &Recorder) -> EventKind) {
    let here = HERE.with(|here| {
        let here = here.borrow();
        Some((here.recorder.clone()?, here.task?))
    });
    if let Some((recorder, task)) = here {
        recorder.record(make(task, &recorder));
    }
}

/// The task polled on this thread waits for descriptor `fd` to turn readable
/// (`read`) or writable: records an [`EventKind::IoWaiting`] naming what `fd` is
/// (its peer's address, a child process, a pipe), if the task's runtime traces. The
/// reactor calls it behind [`enabled`], where the task registers its waker.
#[cold]
#[inline(never)]
#[cfg(unix)] // names a descriptor (`trace/fd.rs`)
pub(crate) fn io_waiting(fd: i32, read: bool) {
    record_current(|task, _| EventKind::IoWaiting {
        task,
        source: super::fd::describe(fd).to_string(),
        read,
    });
}

/// A `timeout` or `wait_for` in the task polled on this thread ran out after
/// `after`: records an [`EventKind::TimedOut`], if its runtime traces.
#[cold]
#[inline(never)]
pub(crate) fn timed_out(after: Duration) {
    record_current(|task, _| EventKind::TimedOut { task, after });
}

/// Restores what this thread was doing before a [`Recorder::poll`] or a
/// [`Recorder::firing_timers`], when dropped.
#[must_use = "the poll (or the timer firing) ends when this guard is dropped"]
pub struct Scope {
    /// The recorder and task to record `PollEnd` for; `None` for timer firing.
    poll: Option<(Arc<Recorder>, TaskId, usize)>,
    before: Here,
}

impl Drop for Scope {
    fn drop(&mut self) {
        if let Some((recorder, task, worker)) = &self.poll {
            recorder.record(EventKind::PollEnd {
                task: *task,
                worker: *worker,
            });
        }
        let before = std::mem::take(&mut self.before);
        HERE.with(|here| *here.borrow_mut() = before);
    }
}

impl Recorder {
    /// A task was created; its parent is the task being polled on this thread.
    /// `name` is called only here, so the name is built only when tracing.
    #[cold]
    #[inline(never)]
    pub fn spawned(&self, task: TaskId, name: impl FnOnce() -> String) {
        let parent = current_task();
        self.record(EventKind::Spawned {
            task,
            name: name(),
            parent,
        });
    }

    /// Where task `task` was spawned: the `spawn` call's line, recorded right after
    /// its [`spawned`](Recorder::spawned) (the runtime calls it when it knows the
    /// location). A task that keeps its default name is drawn under it
    /// (`fetch.rs:12`), and the snapshot and the deadlock report name it.
    #[cold]
    #[inline(never)]
    pub fn spawned_at(&self, task: TaskId, location: &'static Location<'static>) {
        let location = format!("{}:{}", location.file(), location.line());
        self.record(EventKind::SpawnedAt { task, location });
    }

    /// A worker begins polling `task`: records `PollStart`, and `PollEnd` when the
    /// returned guard is dropped. Meanwhile this thread reports to this recorder.
    pub fn poll(self: &Arc<Self>, task: TaskId, worker: usize) -> Scope {
        self.record(EventKind::PollStart { task, worker });
        let now = Here {
            recorder: Some(self.clone()),
            task: Some(task),
            firing_timers: false,
        };
        let before = HERE.with(|here| std::mem::replace(&mut *here.borrow_mut(), now));
        Scope {
            poll: Some((self.clone(), task, worker)),
            before,
        }
    }

    /// The loop is about to wake the tasks of fired timers: until the guard is
    /// dropped, [`woken`](Recorder::woken) says "by a timer" (and records the
    /// `TimerFired`).
    #[cold]
    #[inline(never)]
    pub fn firing_timers(self: &Arc<Self>) -> Scope {
        let now = Here {
            recorder: Some(self.clone()),
            task: None,
            firing_timers: true,
        };
        let before = HERE.with(|here| std::mem::replace(&mut *here.borrow_mut(), now));
        Scope { poll: None, before }
    }

    /// `task`'s waker was called on this thread: by a timer (inside
    /// [`firing_timers`](Recorder::firing_timers)), by the task being polled here,
    /// or else from a thread outside the loop.
    #[cold]
    #[inline(never)]
    pub fn woken(&self, task: TaskId) {
        let (firing, by_task) = HERE.with(|here| {
            let here = here.borrow();
            (here.firing_timers, here.task)
        });
        let by = match (firing, by_task) {
            (true, _) => {
                self.record(EventKind::TimerFired { task });
                WakeSource::Timer
            }
            (false, Some(waker)) => WakeSource::Task(waker),
            (false, None) => WakeSource::Thread,
        };
        self.record(EventKind::Woken { task, by });
    }

    /// The task being polled here set a timer due at `deadline` (the clock's instant).
    #[cold]
    #[inline(never)]
    pub fn timer_registered(&self, deadline: Instant) {
        if let Some(task) = current_task() {
            let due = self.since_start(deadline);
            self.record(EventKind::TimerRegistered { task, due });
        }
    }

    /// The runtime polls task `id` on this thread: `poll` runs inside
    /// [`Recorder::poll`]'s scope, with this thread's worker index. A wake-up that
    /// came during the poll (the task woke itself, as `yield_now` does, or another
    /// thread woke it meanwhile: `woken_in_poll` says so, read after the poll) is
    /// recorded before `PollEnd`: the waker did not queue the task, the loop does
    /// after the poll. Out of line (and cold): the untraced poll is one branch and
    /// the plain call.
    #[cold]
    #[inline(never)]
    pub(crate) fn poll_task<R>(
        self: &Arc<Self>,
        id: u64,
        poll: impl FnOnce() -> R,
        woken_in_poll: impl FnOnce() -> bool,
    ) -> R {
        let task = TaskId(id);
        let _scope = self.poll(task, WORKER.with(std::cell::Cell::get));
        let polled = poll();
        if woken_in_poll() {
            let by = WakeSource::Task(task);
            self.record(EventKind::Woken { task, by });
        }
        polled
    }
}

/// [`Recorder::poll_task`] for a task whose runtime traces (the task's own flag
/// said so; `trace` is its runtime's recorder). The task calls in with plain
/// values (its id, two closures): the tracer knows nothing of the task's types.
#[cold]
#[inline(never)]
pub(crate) fn poll_task<R>(
    trace: Option<&Arc<Recorder>>,
    id: u64,
    poll: impl FnOnce() -> R,
    woken_in_poll: impl FnOnce() -> bool,
) -> R {
    match trace {
        Some(trace) => trace.poll_task(id, poll, woken_in_poll),
        None => poll(),
    }
}

impl Recorder {
    /// Task `id` finished with `outcome`: anything that says how it ended (the
    /// task's own outcome converts into an [`Outcome`], its value left out), turned
    /// into one here, so only when tracing. Until the returned guard is dropped,
    /// wake-ups on this thread are its (the awaiters it wakes as it ends).
    #[cold]
    #[inline(never)]
    pub(crate) fn task_done(self: &Arc<Self>, id: u64, outcome: impl Into<Outcome>) -> Scope {
        self.done(TaskId(id), outcome.into());
        let now = Here {
            recorder: Some(self.clone()),
            task: Some(TaskId(id)),
            firing_timers: false,
        };
        let before = HERE.with(|here| std::mem::replace(&mut *here.borrow_mut(), now));
        Scope { poll: None, before }
    }

    /// Task `id` was given a name (`Task::set_name`): recorded as a second `Spawned`,
    /// which the timeline and the snapshot read as a new name for the same task.
    #[cold]
    #[inline(never)]
    pub(crate) fn renamed(&self, id: u64, name: &str) {
        let (task, name, parent) = (TaskId(id), name.to_string(), None);
        self.record(EventKind::Spawned { task, name, parent });
    }

    /// `task` finished.
    pub fn done(&self, task: TaskId, outcome: Outcome) {
        self.record(EventKind::Done { task, outcome });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Clock;
    use crate::trace::{Resource, ResourceKind, Timeline};
    use std::time::{Duration, SystemTime};

    /// What a traced loop would do: main spawns a child that waits on a semaphore,
    /// then a timer fires for main; a thread outside the loop wakes the child.
    #[test]
    fn the_hooks_find_parents_wakers_and_waiters_from_the_poll_in_progress() {
        let clock = Clock::manual(SystemTime::UNIX_EPOCH);
        let trace = Arc::new(Recorder::new(clock.clone()));
        assert!(enabled());
        let (main, child) = (TaskId(0), TaskId(1));
        trace.spawned(main, || "main".to_string());
        {
            let _poll = trace.poll(main, 0);
            trace.spawned(child, || "child".to_string());
            trace.timer_registered(clock.now() + Duration::from_secs(1));
        }
        {
            let _poll = trace.poll(child, 1);
            let semaphore = Resource::new(ResourceKind::Semaphore, "sem");
            record_current(|task, _| EventKind::Waiting {
                task,
                resource: semaphore,
            });
        }
        assert_eq!(current_task(), None, "the guard restored the thread");
        clock.advance(Duration::from_secs(1));
        {
            let _firing = trace.firing_timers();
            trace.woken(main);
        }
        trace.woken(child);
        let kinds: Vec<EventKind> = trace.events().into_iter().map(|e| e.kind).collect();
        assert!(kinds.contains(&EventKind::Spawned {
            task: child,
            name: "child".into(),
            parent: Some(main)
        }));
        let due = Duration::from_secs(1);
        assert!(kinds.contains(&EventKind::TimerRegistered { task: main, due }));
        assert!(kinds.contains(&EventKind::PollEnd {
            task: child,
            worker: 1
        }));
        let tail = &kinds[kinds.len() - 3..];
        let expected = [
            EventKind::TimerFired { task: main },
            EventKind::Woken {
                task: main,
                by: WakeSource::Timer,
            },
            EventKind::Woken {
                task: child,
                by: WakeSource::Thread,
            },
        ];
        assert_eq!(tail, expected);
        let rows = Timeline::from_events(&trace.events()).rows;
        assert_eq!(rows[1].segments[1].detail, "waiting on semaphore 'sem'");
    }

    #[test]
    fn without_a_tracing_poll_nothing_is_recorded_here() {
        let trace = Recorder::new(Clock::manual(SystemTime::UNIX_EPOCH));
        record_current(|task, _| EventKind::TimerFired { task });
        trace.timer_registered(Instant::now());
        assert!(trace.is_empty());
    }
}
