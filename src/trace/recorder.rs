//! The recorder: a list of events that several threads append to, stamped with the
//! loop's clock, then streamed to a file and kept, the newest of them, in memory.
//!
//! Whoever records (the loop, a worker, a lock) holds a [`Tracer`], an
//! `Option<Arc<Recorder>>`. Off, it is `None`, and a recording site costs one
//! test of that `Option`, a branch the CPU predicts right every time, since it
//! never changes during a run. The event (which may clone a task's name) is built
//! inside the branch, so nothing is built when tracing is off:
//!
//! ```text
//!   if let Some(trace) = &self.trace {            // off: one predictable branch
//!       trace.record(EventKind::PollStart { task, worker });
//!   }                                             // on: lock, read clock, push, unlock
//! ```
//!
//! ## Where an event goes
//!
//! ```text
//!   record(kind) ──> pending: Mutex<Vec<Event>>      the hot path: lock, clock, push
//!                       │  a batch at a time: every 100 ms (the flusher thread, or the
//!                       │  loop as it parks: flush_if_due), or when 4,096 wait
//!                       v
//!                    flush ──> JSON lines file  (json:PATH: every event, in order)
//!                          └─> the window       (the last 50,000 events: timeline,
//!                                                SVG, Chrome, events(), dump)
//! ```
//!
//! Recording stays what it always was, a push under a mutex; everything else is
//! done a batch at a time, away from the poll that recorded. The batch is swapped
//! out whole (its buffer comes back empty for the next one, so pushing never
//! reallocates once a batch was full), formatted ([`stream`](super::stream)) and
//! moved into the [window](super::window), which lets the oldest events go.
//!
//! ## Why a `Mutex<Vec<Event>>` is enough
//!
//! Tracing is for looking at a run, not for production. With it on, an event costs
//! a clock read and a push under a mutex: measured at about 140 ns (virtual clock)
//! and 260 ns (real clock) on a shared 2-core machine under heavy load, less on an
//! idle one; the order of a cheap poll, so a traced run of tiny tasks may run
//! twice as slow, which is fine for seeing what it does. With two or four worker
//! threads the lock is rarely contended. The clock is read *inside* the lock, so
//! the vector comes out in time order with no sorting, and every thread sees one
//! total order.
//!
//! tokio-console does it differently: tokio emits `tracing` spans and events; the
//! `console-subscriber` layer keeps per-task counters in atomics (polls, busy time,
//! wakes) and sends updates through a channel to an aggregator thread, which
//! streams them over gRPC to the separate `tokio-console` program, and keeps a
//! bounded history. We keep the last events themselves, because the timeline is
//! drawn from them. If the lock ever shows in a profile, one buffer per worker
//! thread, merged by time at each flush, removes it.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::config::{Output, TraceConfig};
use super::event::{Event, EventKind};
use super::jsonl::push_json_line;
use super::stream::{Bell, FLUSH_EVERY, Stream};
use super::window::Kept;
use crate::clock::Clock;
use crate::panics;

/// How many recorders are alive in the process: [`enabled`] reads it.
static RECORDERS: AtomicUsize = AtomicUsize::new(0);

/// Whether any trace is being recorded in this process: the one branch a sync
/// primitive pays when tracing is off.
#[inline]
pub fn enabled() -> bool {
    RECORDERS.load(Ordering::Relaxed) > 0
}

/// Events recorded between two flushes before the flusher is woken early (a
/// burst); four times this many and the recording thread flushes them itself. A
/// power of two: the hot path tests `len % BATCH` with a mask.
const BATCH: usize = 4096;

/// What a recording site holds: `None` when tracing is off.
pub type Tracer = Option<Arc<Recorder>>;

/// Collects the events of one run, timestamped with the run's clock: streams them
/// to the JSON lines files of its [`TraceConfig`], keeps the newest in memory (its
/// [`Window`](super::Window)), and draws the other outputs from those at the end.
pub struct Recorder {
    clock: Clock,
    /// The clock's reading when the trace began: event times are measured from it.
    start: Instant,
    /// What the flusher thread shares.
    shared: Arc<Shared>,
    /// The flusher thread, when there is a file to stream to. In a mutex, which
    /// keeps the recorder `RefUnwindSafe` (a `JoinHandle` is not).
    flusher: Mutex<Option<std::thread::JoinHandle<()>>>,
    /// Where the trace goes ([`Recorder::write_outputs`] draws the drawn ones).
    outputs: TraceConfig,
    /// `block_on`'s future (task 0) was seen spawned and is not done yet.
    pub(crate) main_open: AtomicBool,
}

/// The recorder's state, shared with its flusher thread.
struct Shared {
    /// The hot path: events recorded since the last flush.
    pending: Mutex<Vec<Event>>,
    /// Where flushed events go. Taken before `pending`, never after: a flush holds
    /// it from the swap to the write, so batches reach the file in order.
    sink: Mutex<Sink>,
    /// There are JSON lines files: events must reach them within `FLUSH_EVERY`.
    streaming: bool,
    /// Events wait in `pending` for the files (set by the first push after a
    /// flush, when streaming): what [`Recorder::flush_if_due`] looks at.
    unflushed: AtomicBool,
    /// Wakes the flusher thread.
    bell: Bell,
    /// Real time: when the recorder was made, and the last flush, in ns after it.
    epoch: Instant,
    last_flush: AtomicU64,
}

/// What a flush writes to and fills.
struct Sink {
    /// The events kept in memory.
    window: Kept,
    /// The JSON lines files.
    streams: Vec<Stream>,
    /// The batch's lines, formatted once for every file (its buffer reused).
    lines: Vec<u8>,
    /// An empty buffer (of a batch the window let go of), handed to `pending` at
    /// the swap.
    spare: Vec<Event>,
}

impl Shared {
    /// The state of a recorder writing to `config`'s files, keeping `window`.
    fn new(config: &TraceConfig, window: Kept) -> Shared {
        let streams: Vec<Stream> = config
            .outputs
            .iter()
            .filter_map(|output| match output {
                Output::JsonLines(path) => Stream::create(path.clone()),
                _ => None,
            })
            .collect();
        Shared {
            pending: Mutex::new(Vec::new()),
            streaming: !streams.is_empty(),
            sink: Mutex::new(Sink {
                window,
                streams,
                lines: Vec::new(),
                spare: Vec::new(),
            }),
            unflushed: AtomicBool::new(false),
            bell: Bell::default(),
            epoch: Instant::now(),
            last_flush: AtomicU64::new(0),
        }
    }

    /// A push left `len` events pending, and `len % BATCH` is 0 or 1: if that is
    /// the first event since a flush or a whole number of batches, tell whoever
    /// writes them.
    #[cold]
    #[inline(never)]
    fn pushed(&self, len: usize) {
        if len == 1 {
            if self.streaming {
                self.unflushed.store(true, Ordering::Relaxed);
                self.bell.ring(false);
            }
        } else if !len.is_multiple_of(BATCH) {
            // One past a batch: nothing to do.
        } else if self.streaming && len < 4 * BATCH {
            self.bell.ring(true);
        } else {
            // No file: the batch only moves into the window, cheaply, here. Or the
            // flusher is four batches behind: this thread writes, memory stays bounded.
            self.flush();
        }
    }

    /// Writes the pending events to the files and moves them into the window.
    fn flush(&self) {
        let mut sink = panics::lock(&self.sink);
        let sink = &mut *sink;
        let mut batch = std::mem::take(&mut sink.spare);
        {
            let mut pending = panics::lock(&self.pending);
            std::mem::swap(&mut *pending, &mut batch);
            self.unflushed.store(false, Ordering::Relaxed);
        }
        if !sink.streams.is_empty() && !batch.is_empty() {
            sink.lines.clear();
            for event in &batch {
                push_json_line(&mut sink.lines, event);
            }
            for stream in &mut sink.streams {
                stream.write(&sink.lines);
            }
            if sink.lines.capacity() > 4 << 20 {
                sink.lines = Vec::new(); // a burst's buffer is not kept
            }
            let since = u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX);
            self.last_flush.store(since, Ordering::Relaxed);
        }
        sink.window.push_batch(batch);
        // The next batch's buffer: one the window let go of, or this flush's.
        sink.spare = sink.window.take_spare().unwrap_or_default();
    }

    /// Real time since the last flush that wrote to the files.
    fn since_flush(&self) -> Duration {
        let last = Duration::from_nanos(self.last_flush.load(Ordering::Relaxed));
        self.epoch.elapsed().saturating_sub(last)
    }
}

impl Recorder {
    /// A recorder whose time zero is `clock`'s present, keeping the default
    /// [`Window`](super::Window) of events and writing nothing (see
    /// [`with_outputs`](Recorder::with_outputs)).
    ///
    /// ```
    /// use clearloop::clock::Clock;
    /// use clearloop::trace::{EventKind, Recorder, TaskId};
    ///
    /// let clock = Clock::manual(std::time::SystemTime::UNIX_EPOCH);
    /// let recorder = Recorder::new(clock.clone());
    /// clock.advance(std::time::Duration::from_secs(2));
    /// recorder.record(EventKind::TimerFired { task: TaskId(1) });
    /// assert_eq!(recorder.events()[0].at.as_secs(), 2);
    /// ```
    pub fn new(clock: Clock) -> Recorder {
        RECORDERS.fetch_add(1, Ordering::Relaxed);
        let start = clock.now();
        let outputs = TraceConfig::default();
        Recorder {
            clock,
            start,
            shared: Arc::new(Shared::new(&outputs, Kept::new(outputs.window))),
            flusher: Mutex::new(None),
            outputs,
            main_open: AtomicBool::new(false),
        }
    }

    /// This recorder, keeping the window of `outputs` and writing its outputs:
    /// the JSON lines files are created now and filled as the run goes (a thread
    /// of the recorder's own writes them at least every 100 ms); the others are
    /// drawn when [`write_outputs`](Recorder::write_outputs) is called (the runtime
    /// calls it when dropped). A file that cannot be created is reported on
    /// stderr, naming it; the program goes on.
    pub fn with_outputs(mut self, outputs: TraceConfig) -> Recorder {
        // The events so far (none, for a new recorder) move to the new window.
        self.stop_flusher();
        self.shared.flush();
        let fresh = Kept::new(outputs.window);
        let mut window = std::mem::replace(&mut panics::lock(&self.shared.sink).window, fresh);
        window.set_limit(outputs.window);
        self.shared = Arc::new(Shared::new(&outputs, window));
        self.outputs = outputs;
        if self.shared.streaming {
            let shared = self.shared.clone();
            let serve = move || {
                shared
                    .bell
                    .serve(|| shared.flush(), || shared.since_flush())
            };
            match std::thread::Builder::new()
                .name("clearloop-trace".to_string())
                .spawn(serve)
            {
                Ok(thread) => *panics::lock(&self.flusher) = Some(thread),
                Err(error) => eprintln!(
                    "clearloop: starting the trace's flusher thread: {error}; the JSON lines \
                     are written when the loop parks and when the runtime is dropped"
                ),
            }
        }
        self
    }

    /// Writes the events that wait to the JSON lines files if the last write is
    /// 100 ms old. For the loop, as it parks: one relaxed load and a branch when
    /// nothing waits (or nothing is streamed). The flusher thread writes them
    /// anyway; this saves it a wake-up when the loop is about to sleep. Its places:
    /// the start of the single-threaded loop's `park` (step 4), and the worker that
    /// drives the timers, before it waits for the next deadline.
    #[inline]
    pub(crate) fn flush_if_due(&self) {
        if self.shared.unflushed.load(Ordering::Relaxed) {
            self.flush_if_late();
        }
    }

    #[cold]
    #[inline(never)]
    fn flush_if_late(&self) {
        if self.shared.since_flush() >= FLUSH_EVERY {
            self.shared.flush();
        }
    }

    /// Stops the flusher thread (it writes nothing more) and waits for it.
    fn stop_flusher(&mut self) {
        let flusher = self.flusher.get_mut();
        if let Some(thread) = flusher.unwrap_or_else(|e| e.into_inner()).take() {
            self.shared.bell.stop();
            if thread.join().is_err() {
                eprintln!("clearloop: the trace's flusher thread panicked");
            }
        }
    }

    /// Prints this trace's timeline on standard output (ASCII when the terminal is
    /// not UTF-8: [`Charset::from_env`](super::Charset::from_env)), and writes
    /// `DIR/name.svg` too when [`write_svgs_to`] was given a directory (the tour's
    /// `--svg DIR`). On the real clock the times are rounded to 0.1 s first, so that
    /// the chart of a run does not change with the machine's jitter.
    pub fn show(&self, name: &str) {
        let mut events = self.events();
        if !self.clock.is_virtual() {
            let tenth = Duration::from_millis(100).as_nanos();
            for event in &mut events {
                let rounded = (event.at.as_nanos() + tenth / 2) / tenth * tenth;
                event.at = Duration::from_nanos(u64::try_from(rounded).unwrap_or(u64::MAX));
                if let super::EventKind::TimerRegistered { due, .. } = &mut event.kind {
                    let rounded = (due.as_nanos() + tenth / 2) / tenth * tenth;
                    *due = Duration::from_nanos(u64::try_from(rounded).unwrap_or(u64::MAX));
                }
            }
        }
        let timeline = super::Timeline::from_events(&events);
        print!(
            "{}",
            super::render_terminal(&timeline, super::Charset::from_env())
        );
        let dir = panics::lock(&SVG_DIR).clone();
        if let Some(dir) = dir {
            let path = dir.join(format!("{name}.svg"));
            match std::fs::write(&path, super::render_svg(&timeline)) {
                Ok(()) => println!("(timeline written to {})", path.display()),
                Err(error) => eprintln!("clearloop: writing {}: {error}", path.display()),
            }
        }
    }

    /// Writes what is left of the JSON lines, then draws the other outputs from the
    /// window (saying what it dropped); a failure (a file that cannot be written)
    /// is reported on stderr, naming the file: the program goes on.
    pub fn write_outputs(&self) {
        self.shared.flush();
        let drawn = |output: &Output| !matches!(output, Output::JsonLines(_));
        if !self.outputs.outputs.iter().any(drawn) {
            return;
        }
        if let Err(error) = self.outputs.write_outputs(&self.events(), false) {
            eprintln!("clearloop: {error}; the trace is lost");
        }
    }

    /// A recorder ready to share, for a [`Tracer`]: `Some(Arc::new(Recorder::new(clock)))`.
    pub fn tracer(clock: Clock) -> Tracer {
        Some(Arc::new(Recorder::new(clock)))
    }

    /// Appends `kind`, stamped with the clock's present.
    pub fn record(&self, kind: EventKind) {
        let mut pending = panics::lock(&self.shared.pending);
        // Read under the lock: two threads then push in the order of their stamps.
        let at = self.now();
        pending.push(Event { at, kind });
        let len = pending.len();
        drop(pending);
        // One test for both: the first event since a flush, or a full batch
        // (`BATCH` is a power of two; `pushed` sorts out the rare false alarm).
        if len % BATCH <= 1 {
            self.shared.pushed(len);
        }
    }

    /// Appends `kind` stamped `at`: for a `sched` or `schedule` run, recorded when it
    /// ends but stamped with its start. [`events`](Recorder::events) puts it in order;
    /// in the JSON lines it comes when the run ended.
    pub fn record_at(&self, at: Duration, kind: EventKind) {
        let mut pending = panics::lock(&self.shared.pending);
        pending.push(Event { at, kind });
        let len = pending.len();
        drop(pending);
        // One test for both: the first event since a flush, or a full batch
        // (`BATCH` is a power of two; `pushed` sorts out the rare false alarm).
        if len % BATCH <= 1 {
            self.shared.pushed(len);
        }
    }

    /// Time since the trace began, on the recorder's clock.
    pub fn now(&self) -> Duration {
        self.since_start(self.clock.now())
    }

    /// An instant of the clock (a timer's deadline, say) in trace time: how long after
    /// the trace began. An instant before the start counts as zero.
    pub fn since_start(&self, instant: Instant) -> Duration {
        instant.saturating_duration_since(self.start)
    }

    /// A copy of the events kept, in time order (stable: same-time events keep the
    /// order in which they were recorded): all of them, unless the run outgrew the
    /// [`Window`](super::Window). Then an [`EventKind::Dropped`] marks where the
    /// window begins, after the events kept for the tasks still alive there.
    pub fn events(&self) -> Vec<Event> {
        self.shared.flush();
        panics::lock(&self.shared.sink).window.to_events()
    }

    /// The events kept as a chart's rows, for an on-demand
    /// [`render_terminal`](super::render_terminal) or [`render_svg`](super::render_svg).
    pub fn timeline(&self) -> super::Timeline {
        super::Timeline::from_events(&self.events())
    }

    /// How many events [`events`](Recorder::events) would give: bounded by the
    /// [`Window`](super::Window) (plus a few for each task still alive before it).
    pub fn len(&self) -> usize {
        self.shared.flush();
        panics::lock(&self.shared.sink).window.len()
    }

    /// Whether nothing was recorded yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Where [`Recorder::show`] writes its SVGs (the tour's `--svg DIR`).
static SVG_DIR: Mutex<Option<std::path::PathBuf>> = Mutex::new(None);

/// From now on, [`Recorder::show`] also writes `DIR/NAME.svg` (`None`: stops).
pub fn write_svgs_to(dir: Option<std::path::PathBuf>) {
    *panics::lock(&SVG_DIR) = dir;
}

impl Drop for Recorder {
    /// Stops the flusher thread and writes the last events to the files.
    fn drop(&mut self) {
        self.stop_flusher();
        self.shared.flush();
        RECORDERS.fetch_sub(1, Ordering::Relaxed);
    }
}

impl fmt::Debug for Recorder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pending = panics::lock(&self.shared.pending).len();
        let kept = panics::lock(&self.shared.sink).window.len();
        f.debug_struct("Recorder")
            .field("virtual_clock", &self.clock.is_virtual())
            .field("events", &(kept + pending))
            .field("window", &self.outputs.window)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::TaskId;
    use std::time::SystemTime;

    #[test]
    fn threads_append_safely_and_the_events_come_out_in_time_order() {
        let clock = Clock::manual(SystemTime::UNIX_EPOCH);
        let recorder = Arc::new(Recorder::new(clock.clone()));
        let threads: Vec<_> = (0..4)
            .map(|worker| {
                let recorder = recorder.clone();
                std::thread::spawn(move || {
                    for n in 0..250 {
                        let task = TaskId(n);
                        recorder.record(EventKind::PollStart { task, worker });
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        assert_eq!(recorder.len(), 1000);
        recorder.record_at(Duration::ZERO, EventKind::TimerFired { task: TaskId(9) });
        clock.advance(Duration::from_secs(1));
        recorder.record(EventKind::TimerFired { task: TaskId(7) });
        let events = recorder.events();
        assert!(events.windows(2).all(|pair| pair[0].at <= pair[1].at));
        assert_eq!(events.last().unwrap().at, Duration::from_secs(1));
    }

    #[test]
    fn an_instant_before_the_start_counts_as_zero() {
        let clock = Clock::manual(SystemTime::UNIX_EPOCH);
        let before = clock.now();
        clock.advance(Duration::from_millis(5));
        let recorder = Recorder::new(clock.clone());
        assert_eq!(recorder.since_start(before), Duration::ZERO);
        clock.advance(Duration::from_millis(7));
        assert_eq!(recorder.since_start(clock.now()), Duration::from_millis(7));
    }
}
