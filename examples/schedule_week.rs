//! Slide "Alternative: le module schedule": the course's six jobs, for a week.
//!
//! ```python
//! schedule.every(10).minutes.do(job)
//! schedule.every().hour.do(job)
//! schedule.every().day.at("10:30").do(job)
//! schedule.every().monday.do(job)
//! schedule.every().wednesday.at("13:15").do(job)
//! schedule.every().minute.at(":17").do(job)
//! while True:
//!     schedule.run_pending()
//!     time.sleep(1)
//! ```
//!
//! Watch the date-times: the week starts on Monday 2026-11-23 at 09:00 in
//! Europe/Paris, on a virtual clock, whatever clock the example is given, so seven
//! days pass in well under a second. The loop sleeps until the next run instead of
//! one second at a time (the same runs; see `tests/schedule_week.rs`, which checks
//! both). The first three runs of each job are printed, then a count per job.
//!
//! Run: `cargo run --example schedule_week` (add `-- --all` to print all 11,265
//! runs). When it is given a virtual clock (the tour, or `-- --virtual`), that
//! clock is moved on by the week it simulated, so the tour's footer counts it.
//! Prints:
//!
//! ```text
//! Mon 2026-11-23 09:00:17  every(1).minute().at(":17")
//! Mon 2026-11-23 09:01:17  every(1).minute().at(":17")
//! Mon 2026-11-23 09:02:17  every(1).minute().at(":17")
//! Mon 2026-11-23 09:10:00  every(10).minutes()
//! ...
//! Mon 2026-11-30 09:00:00  every(1).monday()
//! runs in a week (to Mon 2026-11-30 09:00:00):
//!   every(10).minutes()                1,008
//!   every(1).hour()                      168
//!   every(1).day().at("10:30")             7
//!   every(1).monday()                      1
//!   every(1).wednesday().at("13:15")       1
//!   every(1).minute().at(":17")       10,080
//! simulated: 7 days of virtual time, 11,265 runs, on a virtual clock of its own
//! ```

use std::sync::{Arc, Mutex};
use std::time::Duration;

use clearloop::clock::Clock;
use clearloop::schedule::Scheduler;
use jiff::SignedDuration;
use jiff::civil::date;

const JOBS: [&str; 6] = [
    "every(10).minutes()",
    "every(1).hour()",
    "every(1).day().at(\"10:30\")",
    "every(1).monday()",
    "every(1).wednesday().at(\"13:15\")",
    "every(1).minute().at(\":17\")",
];

/// Runs the example. The week always starts on Monday 2026-11-23 09:00 in Paris, on
/// a virtual clock of its own; a virtual `given` clock is then moved on by that week.
pub fn example(given: Clock) {
    let print_all = std::env::args().any(|arg| arg == "--all");
    let start = date(2026, 11, 23)
        .at(9, 0, 0, 0)
        .in_tz("Europe/Paris")
        .expect("Europe/Paris is in the bundled time-zone database");
    let clock = Clock::virtual_in(&start);
    let schedule = Scheduler::with_clock(clock.clone());

    let counts = Arc::new(Mutex::new([0usize; 6]));
    let job = |index: usize| {
        let (counts, clock) = (counts.clone(), clock.clone());
        move || {
            let mut counts = counts.lock().unwrap();
            counts[index] += 1;
            if print_all || counts[index] <= 3 || index == 3 || index == 4 {
                let now = clock.zoned_now().strftime("%a %Y-%m-%d %H:%M:%S");
                println!("{now}  {}", JOBS[index]);
            }
        }
    };
    let described = [
        schedule.every(10).minutes().do_(job(0)),
        schedule.every(1).hour().do_(job(1)),
        schedule.every(1).day().at("10:30").do_(job(2)),
        schedule.every(1).monday().do_(job(3)),
        schedule.every(1).wednesday().at("13:15").do_(job(4)),
        schedule.every(1).minute().at(":17").do_(job(5)),
    ];
    for result in described {
        if let Err(error) = result {
            println!("could not schedule: {error}");
            return;
        }
    }

    let end = start.timestamp() + SignedDuration::from_hours(7 * 24);
    // `while True: run_pending(); sleep(1)`, sleeping straight to the next run.
    while let Some(next) = schedule.next_run() {
        if next.timestamp() > end {
            break;
        }
        let wait = next.timestamp().duration_since(clock.timestamp_now());
        clock.sleep(Duration::try_from(wait).unwrap_or_default());
        schedule.run_pending();
    }

    let end = end.to_zoned_datetime(clock.time_zone());
    println!(
        "runs in a week (to {}):",
        end.strftime("%a %Y-%m-%d %H:%M:%S")
    );
    let counts = *counts.lock().unwrap();
    for (name, count) in JOBS.iter().zip(counts) {
        println!("  {name:<34}{:>6}", thousands(count));
    }
    let simulated = clock.timestamp_now().duration_since(start.timestamp());
    println!(
        "simulated: {} days of virtual time, {} runs, on a virtual clock of its own",
        simulated.as_hours() / 24,
        thousands(counts.iter().sum())
    );
    if given.is_virtual() {
        given.advance(Duration::try_from(simulated).unwrap_or_default());
    }
}

/// 10080 -> "10,080", as the course would print it.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[allow(dead_code)] // the tour includes this file and has its own main
fn main() {
    example(Clock::from_args());
}
