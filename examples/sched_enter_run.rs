//! What one `sched` event costs: enter N zero-delay events, then run them all.
//!
//! ```python
//! s = sched.scheduler(time.monotonic, lambda _: None)   # a no-op delayfunc
//! for _ in range(100_000):
//!     s.enter(0, 1, lambda: None)
//! s.run()
//! ```
//!
//! What to watch: the time per event, and, under callgrind, the instructions per
//! event. Each event is one `Event` (a plain value, returned and dropped here; 64
//! events share one allocation for their state bytes, so no allocation per event),
//! one boxed closure (a closure that captures nothing is not allocated), one slot
//! of the queue's slab, one key appended to the queue's sorted run and taken from
//! its front, two turns of the scheduler's lock, and one reading of the clock (in
//! `enter`: the run loop reads it again only when the head of the queue is not
//! due). Naming the closure costs nothing per event: the name is read from the
//! closure's type only when someone displays the event.
//!
//! Run: `cargo run --release --example sched_enter_run -- 100000`. To count
//! instructions, run it twice under callgrind and take the difference, which
//! removes the cost of starting the process:
//!
//! ```text
//! cargo build --release --example sched_enter_run
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null target/release/examples/sched_enter_run 100000
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null target/release/examples/sched_enter_run 200000
//! # (I refs of the second - I refs of the first) / 100000 = instructions per event
//! ```
//!
//! It prints one line, such as (the time depends on the machine and its load):
//!
//! ```text
//! 100000 events entered and run: 101 ns per event (0.0101 s in all)
//! ```
//!
//! The tour runs it once with 100,000 events, on the real clock whatever the tour's
//! (the figure is the real cost of an event), in a few milliseconds (a few tenths
//! of a second in a debug build).
//!
//! Under callgrind, the difference gives about 719 instructions per event (916 when
//! each `Event` was an `Arc` of its own, 2,813 before the closure's name was
//! computed lazily, 1,501 with the `BTreeMap` the queue used before its sorted run,
//! heap and slab; see "What an event costs" in the `sched` module doc). What is
//! left: the clock on `enter`, the lock, the handle's reference count, the boxing
//! and the call.
//!
//! A second argument runs the whole thing that many times in one process and
//! prints the best run, as the benchmark report does (the first run also pays
//! for the first touch of the memory): `sched_enter_run 100000 5`.

use std::time::{Duration, Instant};

use clearloop::clock::Clock;
use clearloop::sched::Scheduler;

/// How many events the tour's stop enters and runs.
const TOUR_EVENTS: usize = 100_000;

/// The tour's stop: [`TOUR_EVENTS`] events, once. `_clock` is not used: the events
/// run on the real clock, since the figure is what an event really costs.
#[allow(dead_code)] // only the tour calls it
pub fn example(_clock: Clock) {
    report(TOUR_EVENTS, enter_run(TOUR_EVENTS));
}

#[allow(dead_code)] // the tour includes this file and has its own main
fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args
        .next()
        .map(|arg| arg.parse().expect("the number of events, such as 100000"))
        .unwrap_or(100_000);
    let runs: usize = args
        .next()
        .map(|arg| arg.parse().expect("the number of runs, such as 5"))
        .unwrap_or(1);
    let took = (0..runs.max(1))
        .map(|_| enter_run(n))
        .min()
        .expect("at least one run");
    report(n, took);
}

fn report(n: usize, took: Duration) {
    println!(
        "{n} events entered and run: {:.0} ns per event ({:.4} s in all)",
        took.as_nanos() as f64 / n.max(1) as f64,
        took.as_secs_f64()
    );
}

/// Enters `n` zero-delay events and runs them; returns how long it took.
fn enter_run(n: usize) -> Duration {
    let start = Instant::now();
    let s = Scheduler::with_clock(Clock::real());
    for _ in 0..n {
        s.enter(Duration::ZERO, 1, || {});
    }
    s.run(true).expect("the actions do nothing, so none panics");
    start.elapsed()
}
