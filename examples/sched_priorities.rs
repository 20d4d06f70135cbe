//! Who runs first: time, then priority, then the order entered; and events that
//! arrive from another thread while the runner sleeps.
//!
//! ```python
//! s = sched.scheduler()
//! at = time.monotonic() + 1
//! for priority in (3, 1, 2):
//!     s.enterabs(at, priority, report, argument=(f"priority {priority}",))
//! doomed = s.enterabs(at, 0, report, argument=("cancelled",))
//! s.cancel(doomed)
//! threading.Thread(target=s.run).start()   # and another thread enters more
//! ```
//!
//! What to watch: the three events due at 1 s run by priority (1, 2, 3), whatever
//! order they were entered in; the cancelled one never runs. Then a runner thread
//! sleeps on the empty queue, and a producer thread enters two more events, each
//! while the runner sleeps: each one wakes it. (CPython's `run()` would have returned
//! on the empty queue; the early wake-up for an *earlier* event is shown exactly by
//! `tests/sched_threads.rs` on a manual clock.)
//!
//! Run: `cargo run --example sched_priorities` (real clock, about 2 s) or
//! `cargo run --example sched_priorities -- --virtual` (instant). On the virtual
//! clock it prints:
//!
//! ```text
//! queue before running:
//!   Event(time=1.000, priority=1, sequence=1, action=report, argument=("priority 1",))
//!   Event(time=1.000, priority=2, sequence=2, action=report, argument=("priority 2",))
//!   Event(time=1.000, priority=3, sequence=0, action=report, argument=("priority 3",))
//! t=1.000  priority 1
//! t=1.000  priority 2
//! t=1.000  priority 3
//! producer: runner asleep, entering "from producer, +0.5 s"
//! t=1.500  from producer, +0.5 s
//! producer: runner asleep, entering "from producer, +0.25 s"
//! t=1.750  from producer, +0.25 s
//! order: ["priority 1", "priority 2", "priority 3", "from producer, +0.5 s", "from producer, +0.25 s"]
//! ```
//!
//! On the real clock the times are a few milliseconds later than these.

use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use clearloop::clock::Clock;
use clearloop::sched::Scheduler;

/// Runs the example on `clock`.
pub fn example(clock: Clock) {
    let s = Scheduler::with_clock(clock);
    let order = Arc::new(Mutex::new(Vec::new()));
    // What every event does: say when it ran, and note its name.
    let report = |s: &Scheduler| {
        let (s, order) = (s.clone(), order.clone());
        move |(name,): (String,)| {
            println!("t={:.3}  {name}", s.elapsed().as_secs_f64());
            order.lock().unwrap().push(name);
        }
    };

    // Same time, priorities entered as 3, 1, 2. One absolute time for all: on a real
    // clock, three `enter(1 s)` calls read three different "now"s, and would not tie.
    let at = s.now() + Duration::from_secs(1);
    for priority in [3, 1, 2] {
        let name = format!("priority {priority}");
        s.enterabs_named(at, priority, "report", (name,), report(&s));
    }
    // Priority 0 would run first, but it is cancelled before anything runs.
    let doomed = s.enterabs_named(at, 0, "report", ("cancelled".to_owned(),), report(&s));
    s.cancel(&doomed).expect("doomed is pending");

    println!("queue before running:");
    for event in s.queue() {
        println!("  {event}");
    }

    let runner = s.spawn_runner();
    let producer = {
        let s = s.clone();
        let report = report(&s);
        thread::Builder::new()
            .name("producer".into())
            .spawn(move || {
                for (name, delay_ms) in [
                    ("from producer, +0.5 s", 500),
                    ("from producer, +0.25 s", 250),
                ] {
                    // Wait until the runner has run everything and sleeps on the
                    // empty queue: then this `enter` is what wakes it.
                    while !(s.empty() && s.is_sleeping()) {
                        thread::sleep(Duration::from_millis(1));
                    }
                    println!("producer: runner asleep, entering {name:?}");
                    let report = report.clone();
                    s.enter_named(
                        Duration::from_millis(delay_ms),
                        1,
                        "report",
                        (name.to_owned(),),
                        report,
                    );
                }
            })
            .expect("spawn the producer")
    };
    producer.join().expect("the producer does not panic");
    // Let the runner finish the queue (an action that panicked would have been
    // reported, and the runner would have gone on).
    while !(s.empty() && s.is_sleeping()) {
        thread::sleep(Duration::from_millis(1));
    }
    runner.stop();
    assert_eq!(runner.join(), 0, "no action panicked");
    println!("order: {:?}", order.lock().unwrap());
}

#[allow(dead_code)] // the tour includes this file and has its own main
fn main() {
    example(Clock::from_args());
}
