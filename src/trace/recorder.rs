//! The recorder: a list of events that several threads append to, stamped with the
//! loop's clock.
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
//! streams them over gRPC to the separate `tokio-console` program. No complete log
//! is kept, so it can stay on for hours; we keep the complete log because the
//! timeline is drawn from it. If the lock ever shows in a profile, one buffer per
//! worker thread, merged by time at the end, removes it.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::event::{Event, EventKind};
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

/// What a recording site holds: `None` when tracing is off.
pub type Tracer = Option<Arc<Recorder>>;

/// Collects the events of one run, timestamped with the run's clock.
pub struct Recorder {
    clock: Clock,
    /// The clock's reading when the trace began: event times are measured from it.
    start: Instant,
    events: Mutex<Vec<Event>>,
    /// Where the trace goes when the runtime is dropped ([`Recorder::write_outputs`]).
    outputs: super::TraceConfig,
    /// `block_on`'s future (task 0) was seen spawned and is not done yet.
    pub(crate) main_open: std::sync::atomic::AtomicBool,
}

impl Recorder {
    /// A recorder whose time zero is `clock`'s present.
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
        Recorder {
            clock,
            start,
            events: Mutex::new(Vec::new()),
            outputs: super::TraceConfig::default(),
            main_open: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// This recorder, writing its trace to `outputs` when
    /// [`write_outputs`](Recorder::write_outputs) is called (the runtime calls it when
    /// dropped).
    pub fn with_outputs(mut self, outputs: super::TraceConfig) -> Recorder {
        self.outputs = outputs;
        self
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

    /// Writes the trace to the configured outputs; a failure (a file that cannot be
    /// written) is reported on stderr, naming the file: the program goes on.
    pub fn write_outputs(&self) {
        if self.outputs.outputs.is_empty() {
            return;
        }
        if let Err(error) = self.outputs.write(&self.events()) {
            eprintln!("clearloop: {error}; the trace is lost");
        }
    }

    /// A recorder ready to share, for a [`Tracer`]: `Some(Arc::new(Recorder::new(clock)))`.
    pub fn tracer(clock: Clock) -> Tracer {
        Some(Arc::new(Recorder::new(clock)))
    }

    /// Appends `kind`, stamped with the clock's present.
    pub fn record(&self, kind: EventKind) {
        let mut events = panics::lock(&self.events);
        // Read under the lock: two threads then push in the order of their stamps.
        let at = self.now();
        events.push(Event { at, kind });
    }

    /// Appends `kind` stamped `at`: for a `sched` or `schedule` run, recorded when it
    /// ends but stamped with its start. [`events`](Recorder::events) puts it in order.
    pub fn record_at(&self, at: Duration, kind: EventKind) {
        panics::lock(&self.events).push(Event { at, kind });
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

    /// A copy of the events so far, in time order (stable: same-time events keep the
    /// order in which they were recorded).
    pub fn events(&self) -> Vec<Event> {
        let mut events = panics::lock(&self.events).clone();
        events.sort_by_key(|event| event.at);
        events
    }

    /// The events so far as a chart's rows, for an on-demand
    /// [`render_terminal`](super::render_terminal) or [`render_svg`](super::render_svg).
    pub fn timeline(&self) -> super::Timeline {
        super::Timeline::from_events(&self.events())
    }

    /// How many events were recorded.
    pub fn len(&self) -> usize {
        panics::lock(&self.events).len()
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
    fn drop(&mut self) {
        RECORDERS.fetch_sub(1, Ordering::Relaxed);
    }
}

impl fmt::Debug for Recorder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recorder")
            .field("virtual_clock", &self.clock.is_virtual())
            .field("events", &self.len())
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
