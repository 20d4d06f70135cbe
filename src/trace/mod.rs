//! Seeing the loop work: a trace of what every task did, drawn as a timeline in the
//! terminal or in an SVG file, saved as JSON lines, opened in Perfetto.
//!
//! Concurrency is easier to believe when you see it: two tasks of 2 s started with
//! `create_task` overlap and end at 2 s; awaited one after the other they end at
//! 4 s; through a semaphore of 3, three bars at a time. The runtime records an
//! [`Event`] (task spawned, polled, woken, sleeping, waiting on a lock, done) in a
//! [`Recorder`], stamped with the loop's own clock, so a virtual-clock trace is
//! exact; the renderers draw from the recorded events only.
//!
//! **Python.** asyncio has no trace: `PYTHONASYNCIODEBUG=1` (`loop.set_debug`)
//! reports slow callbacks and forgotten exceptions, and `asyncio.all_tasks()` lists
//! tasks. tokio has `tokio-console`, a separate program that connects to a running
//! process (through `console-subscriber`) and shows a live task list. clearloop
//! draws its timeline from inside the program, on the real or the virtual clock.
//!
//! ```text
//!  t1 = create_task(long()); t2 = create_task(long()); await t1; await t2    (2 s)
//!  task   0s        1s        2s
//!         ├─────────┼─────────┤
//!  main   █···················✓   main waits for its tasks (·)
//!  Task-1 █───────────────────✓   polled (█), sleeps 2 s (─), done (✓)
//!  Task-2 █───────────────────✓   ... at the same time
//!
//!  await long(); await long()                                                 (4 s)
//!  task 0s        1s        2s        3s        4s
//!       ├─────────┼─────────┼─────────┼─────────┤
//!  main █───────────────────█───────────────────✓   one sleep after the other
//! ```
//!
//! ```
//! use std::time::Duration;
//! use clearloop::trace::{Charset, Event, EventKind::*, Outcome, TaskId, Timeline};
//! use clearloop::trace::{WakeSource, render_terminal};
//!
//! // Two tasks spawned at 0 s, each sleeping 2 s (all polls at once: virtual clock).
//! let s = Duration::from_secs;
//! let mut events = Vec::new();
//! for (time, step) in [(s(0), 0), (s(2), 1)] {
//!     for task in [TaskId(1), TaskId(2)] {
//!         let mut push = |kind| events.push(Event::new(time, kind));
//!         if step == 0 {
//!             push(Spawned { task, name: format!("Task-{task}"), parent: None });
//!         } else {
//!             push(Woken { task, by: WakeSource::Timer });
//!         }
//!         push(PollStart { task, worker: 0 });
//!         if step == 0 {
//!             push(TimerRegistered { task, due: s(2) });
//!         }
//!         push(PollEnd { task, worker: 0 });
//!         if step == 1 {
//!             push(Done { task, outcome: Outcome::Value });
//!         }
//!     }
//! }
//! let chart = render_terminal(&Timeline::from_events(&events), Charset::Ascii);
//! let row = chart.lines().find(|line| line.starts_with("Task-2")).unwrap();
//! // 81 columns of 25 ms: polled at 0 s, sleeping, done at 2 s; not 4 s.
//! assert_eq!(row, format!("Task-2 #{}v", "-".repeat(79)));
//! ```
//!
//! ## Switching it on
//!
//! `Builder::new().trace(TraceConfig::default())` records and keeps the trace
//! (`Runtime::trace` gives the [`Recorder`]: its events, its timeline, and
//! [`Recorder::show`], which the course's examples call at their end). Without
//! `Builder::trace`, the environment decides: `CLEARLOOP_TRACE=1` prints the
//! terminal chart on stderr at the end, `CLEARLOOP_TRACE=svg:run.svg,json:run.jsonl`
//! writes files (see [`TraceConfig::parse`]).
//!
//! ## A run of hours, and Ctrl-C
//!
//! The JSON lines are **streamed**: written as the run goes, at least every 100 ms
//! ([`stream`]). The timeline, the SVG and the Chrome file are **drawn** when the
//! runtime is dropped, from the events kept in memory: the last 50,000 by default,
//! or the last minute with `svg:run.svg@60s` (a [`Window`]), so that a traced
//! server stays within a few MB however long it runs ([`window`]). The drawing
//! starts at the window and says what it dropped: `events before 12.400s dropped:
//! 1,204,331`.
//!
//! What a stopped program leaves:
//!
//! | how it stops                                   | JSON lines                  | timeline, SVG, Chrome |
//! |------------------------------------------------|-----------------------------|-----------------------|
//! | `block_on` returns, the runtime is dropped     | every event                 | written (the window)  |
//! | Ctrl-C while it awaits `signal::ctrl_c()` and returns | every event          | written (the window)  |
//! | Ctrl-C with no handler (SIGINT's default action: killed), `std::process::exit`, a panic that aborts | every event up to ~100 ms before, each line whole | none |
//!
//! So a server that wants its SVG on Ctrl-C awaits `signal::ctrl_c()` (raced
//! against its accept loop, as the `echo_server` example does) and returns; one
//! that does not still leaves its JSON lines, which [`from_json_lines`],
//! [`Timeline::from_events`] and [`render_svg`] turn into the SVG afterwards.
//!
//! What records where: a spawn (`spawn_on`, with its parent: the task polled on this
//! thread), a poll (`Cell::poll_once`, through [`Recorder::poll`]'s guard, on the
//! loop and on every worker), `block_on`'s future as task 0 "main"
//! ([`live`]`::poll_main`), a wake-up (the task's waker, `block_on`'s waker; inside
//! `fire_timers` it says "by a timer"), a timer set (`Sleep::poll`), a task's end
//! (`Cell::finish`: value, panic or cancellation), a rename (`Task::set_name`, a
//! second `spawned`), and the `waiting` and `granted` of a lock, semaphore, event,
//! condition or queue (in their futures' `poll`, behind [`enabled`]; each is named
//! by its `with_name`, or `Lock-1`, `Queue-2`, ... in the order a trace meets them),
//! a wait on a socket, pipe or child process (where the reactor's source stores the
//! task's waker, `src/reactor/source.rs`, named by its address: [`hooks`]), a
//! `timeout` or `wait_for` that ran out (`src/timeout.rs`), and where a task was
//! spawned ([`Recorder::spawned_at`], when the runtime passes the `spawn` call's
//! location).
//! `sched` and `schedule` have no tasks: `sched::Scheduler::trace_into(recorder)` and
//! `schedule::Scheduler::trace_into(recorder)` record each action's or job's run. [`live`] has `Runtime::dump`, [`all_tasks`], [`current_task`]
//! and the deadlock check.
//!
//! ## Recording costs one branch when off
//!
//! Whoever records holds a [`Tracer`] (`Option<Arc<Recorder>>`), `None` when tracing
//! is off, and builds the event inside the `if`:
//!
//! ```
//! use clearloop::trace::{EventKind, TaskId, Tracer};
//!
//! struct Loop {
//!     trace: Tracer,
//! }
//!
//! impl Loop {
//!     fn poll(&self, task: TaskId, worker: usize) {
//!         if let Some(trace) = &self.trace {
//!             trace.record(EventKind::PollStart { task, worker });
//!         }
//!         // ... poll the task ...
//!     }
//! }
//! Loop { trace: None }.poll(TaskId(1), 0); // off: nothing recorded, nothing built
//! ```
//!
//! The runtime's calls ([`Recorder::spawned`], [`Recorder::poll`], [`Recorder::woken`],
//! [`Recorder::done`], ...) and those of the sync primitives, which hold no tracer
//! ([`enabled`], then [`record_current`]), are in [`hooks`]. `CLEARLOOP_TRACE` says
//! where the trace goes: see [`TraceConfig`].
//!
//! ## JSON lines
//!
//! [`to_json_lines`] writes one event per line, [`from_json_lines`] reads them back.
//! Every line has `t_ns` and `ev`; the other fields depend on `ev`:
//!
//! | field           | in events (`ev`)                              | value                                   |
//! |-----------------|-----------------------------------------------|-----------------------------------------|
//! | `t_ns`          | all                                           | nanoseconds since the trace began       |
//! | `ev`            | all                                           | `spawned`, `spawned_at`, `poll_start`, `poll_end`, `woken`, `timer_registered`, `timer_fired`, `waiting`, `granted`, `io_waiting`, `timed_out`, `done`, `sched_run`, `job_run`, `dropped` |
//! | `task`          | all but `sched_run`, `job_run`, `dropped`     | the task's id (0: `block_on`'s future)  |
//! | `name`          | `spawned`, `sched_run`, `job_run`             | the task's, event's or job's name (a second `spawned` for a task renames it) |
//! | `parent`        | `spawned`                                     | the spawning task's id, or `null`       |
//! | `worker`        | `poll_start`, `poll_end`                      | 0: the loop's (or `block_on`'s) thread; 1..n: the worker threads |
//! | `by`            | `woken`                                       | `timer`, `task`, `thread` or `io`       |
//! | `waker`         | `woken` with `"by":"task"`                    | the waking task's id                    |
//! | `due_ns`        | `timer_registered`                            | when the timer is due, in trace time    |
//! | `resource`      | `waiting`, `granted`                          | `lock`, `semaphore`, `event`, `condition` or `queue` |
//! | `resource_name` | `waiting`, `granted`                          | the resource's name                     |
//! | `location`      | `spawned_at`                                  | the `spawn` call's `file:line`          |
//! | `source`        | `io_waiting`                                  | what the task waits on: `127.0.0.1:8080` (a socket's peer), `listening on ...`, `child process 1234 'sleep'`, `a pipe` |
//! | `direction`     | `io_waiting`                                  | `read` or `write`                       |
//! | `after_ns`      | `timed_out`                                   | the time the `timeout`/`wait_for` gave  |
//! | `outcome`       | `done`                                        | `value`, `panic` or `cancelled` (`timed_out` only in a file written from a timeline's reading) |
//! | `message`       | `done` with `"outcome":"panic"`               | the panic message                       |
//! | `took_ns`       | `sched_run`, `job_run`                        | how long the action ran                 |
//! | `count`         | `dropped`                                     | how many events the window dropped before `t_ns` |
//!
//! A streamed file has its lines in the order recorded, which is time order except
//! for `sched_run` and `job_run`: written when the run ends, stamped with its
//! start. A `dropped` line is never streamed (the stream has every event); it
//! appears in a window saved with `to_json_lines(&recorder.events())`.
//!
//! ## The pieces
//!
//! [`event`] (what is recorded), [`recorder`] and [`hooks`] (recording), [`stream`]
//! (the JSON lines written as the run goes), [`window`] (the events kept in
//! memory), [`timeline`] (events to rows), [`terminal`], [`svg`], [`jsonl`],
//! [`chrome`] (renderers and formats), [`snapshot`] (what every task waits on;
//! deadlock reports), [`config`] (`CLEARLOOP_TRACE`).

pub mod chrome;
pub mod config;
pub mod event;
mod fd;
pub mod hooks;
pub mod jsonl;
pub mod live;
pub mod recorder;
mod scale;
pub mod snapshot;
pub mod stream;
pub mod svg;
pub mod terminal;
pub mod timeline;
pub mod window;

pub use chrome::to_chrome_trace;
pub use config::{Output, TraceConfig, TraceEnvError, Window};
pub use event::{Event, EventKind, Outcome, Resource, ResourceKind, TaskId, WakeSource};
pub use hooks::{Scope, current_task, record_current};
pub use jsonl::{ParseError, from_json_lines, to_json_lines};
pub use live::all_tasks;
pub use recorder::{Recorder, Tracer, enabled, write_svgs_to};
pub use snapshot::{DeadlockReport, Snapshot, TaskSnapshot, TaskState, WaitingOn};
pub use svg::render_svg;
pub use terminal::{Charset, render_terminal};
pub use timeline::{Row, Segment, State, Timeline};
