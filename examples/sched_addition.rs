//! The course's first `sched` example: call `addition(10, 20)` in 3 seconds.
//!
//! ```python
//! import sched
//! from datetime import datetime
//! import time
//! def addition(a,b):
//!     print("Inside Addition : ", datetime.now())
//!     print("Time : ", time.monotonic())
//!     print("Result : ", a+b)
//! s = sched.scheduler()
//! print("Start Time : ", datetime.now(), "\n")
//! event1 = s.enter(3, 1, addition, argument=(10, 20))
//! print("Event Created : ", event1)
//! s.run()
//! print("End Time : ", datetime.now())
//! ```
//!
//! What to watch: the two ways to pass `argument=(10, 20)`. `enter_named` keeps
//! CPython's shape (a name, an argument tuple, a function taking it) and the event
//! prints like CPython's; `enter` takes a closure that captured `10` and `20`, and its
//! `action` reads `closure in example`, after the function that wrote it. Both are due at 3 s with priority 1, so
//! they run in the order entered (sequence 0, then 1). `Time` is the scheduler's
//! clock, in seconds since the scheduler was created.
//!
//! Run: `cargo run --example sched_addition` (real clock: it waits 3 s), or
//! `cargo run --example sched_addition -- --virtual` (instant; virtual times, and the
//! date-times start at the moment you run it). It prints, on the virtual clock:
//!
//! ```text
//! Start Time : 2025-01-01 10:00:00.000000
//!
//! Event Created : Event(time=3.000, priority=1, sequence=0, action=addition, argument=(10, 20))
//! Event Created : Event(time=3.000, priority=1, sequence=1, action=closure in example, argument=())
//! Inside Addition : 2025-01-01 10:00:03.000000
//! Time : 3.000
//! Result : 30
//! Inside Addition : 2025-01-01 10:00:03.000000
//! Time : 3.000
//! Result : 30
//! End Time : 2025-01-01 10:00:03.000000
//! ```

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clearloop::clock::Clock;
use clearloop::sched::Scheduler;

/// The course's `addition`, given the scheduler to read the time from.
fn addition(s: &Scheduler, a: i32, b: i32) {
    println!("Inside Addition : {}", datetime(s.clock().wall_now()));
    println!("Time : {:.3}", s.elapsed().as_secs_f64());
    println!("Result : {}", a + b);
}

/// Runs the example on `clock`.
pub fn example(clock: Clock) {
    let s = Scheduler::with_clock(clock);
    println!("Start Time : {}\n", datetime(s.clock().wall_now()));

    // CPython's shape: a name, an argument tuple, a function that takes it.
    let s1 = s.clone();
    let event1 = s.enter_named(
        Duration::from_secs(3),
        1,
        "addition",
        (10, 20),
        move |(a, b)| addition(&s1, a, b),
    );
    println!("Event Created : {event1}");

    // The Rust shape: a closure that captured its values.
    let (s2, a, b) = (s.clone(), 10, 20);
    let event2 = s.enter(Duration::from_secs(3), 1, move || addition(&s2, a, b));
    println!("Event Created : {event2}");

    s.run(true).expect("addition does not panic");
    println!("End Time : {}", datetime(s.clock().wall_now()));
}

/// `datetime.now()`'s format, in UTC: `YYYY-MM-DD hh:mm:ss.micros`.
fn datetime(t: SystemTime) -> String {
    let since = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let (days, secs) = (since.as_secs() / 86_400, since.as_secs() % 86_400);
    // Days since 1970-01-01 to a civil date (Howard Hinnant's `civil_from_days`).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}.{:06}",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60,
        since.subsec_micros()
    )
}

#[allow(dead_code)] // the tour includes this file and has its own main
fn main() {
    example(Clock::from_args());
}
