//! The three orderings of Python's `schedule` (1.2), on virtual and manual clocks:
//!
//! * jobs due at the same instant run in the order they were added, whatever their
//!   history (`run_pending` sorts the due jobs by `next_run` with a stable sort, so
//!   ties keep the order of `self.jobs`);
//! * `last_run` is when the job finished (`Job.run` sets it after `job_func()`);
//! * `run_all` runs the jobs in the order they were added (`for job in self.jobs`).
//!
//! The expected sequences were checked against Python's `schedule` with a patched
//! `datetime.now`.

mod common;
use common::*;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use clearloop::clock::Clock;
use clearloop::schedule::Scheduler;
use jiff::civil::date;

type Log = Arc<Mutex<Vec<String>>>;

/// A job that logs `name` and the time it ran at.
fn logs(log: &Log, clock: &Clock, name: &'static str) -> impl FnMut() + Send + 'static {
    let (log, clock) = (log.clone(), clock.clone());
    move || {
        let at = clock.zoned_now().strftime("%H:%M:%S").to_string();
        log.lock().unwrap().push(format!("{name}@{at}"));
    }
}

#[test]
fn jobs_due_together_run_in_the_order_they_were_added_whatever_their_history() {
    let (clock, s) = manual_monday();
    let log = Log::default();
    // `a` runs every second, so at 09:00:02 it has just run (at :01) while `b`
    // has not run yet: it still goes first, as it was added first.
    s.every(1)
        .second()
        .do_named("a", logs(&log, &clock, "a"))
        .unwrap();
    s.every(2)
        .seconds()
        .do_named("b", logs(&log, &clock, "b"))
        .unwrap();
    for _ in 0..4 {
        clock.advance(Duration::from_secs(1));
        s.run_pending();
    }
    // Python: [('a', '09:00:01'), ('a', '09:00:02'), ('b', '09:00:02'),
    //          ('a', '09:00:03'), ('a', '09:00:04'), ('b', '09:00:04')]
    assert_eq!(
        *log.lock().unwrap(),
        [
            "a@09:00:01",
            "a@09:00:02",
            "b@09:00:02",
            "a@09:00:03",
            "a@09:00:04",
            "b@09:00:04"
        ]
    );
}

#[test]
fn ties_keep_the_order_added_among_many_jobs_and_after_a_cancel() {
    let (clock, s) = manual_monday();
    let log = Log::default();
    // Five jobs of different periods that all fall due at 09:00:12; the two that
    // run most often were added last and first.
    let names = ["p1", "p4", "p6", "p12", "p3"];
    let periods = [1, 4, 6, 12, 3];
    let jobs: Vec<_> = names
        .iter()
        .zip(periods)
        .map(|(&name, period)| {
            let every = if period == 1 {
                s.every(1).second()
            } else {
                s.every(period).seconds()
            };
            every.do_named(name, logs(&log, &clock, name)).unwrap()
        })
        .collect();
    for _ in 0..11 {
        clock.advance(Duration::from_secs(1));
        s.run_pending();
    }
    log.lock().unwrap().clear();
    assert!(s.cancel_job(&jobs[2])); // p6 goes; the others keep their places
    clock.advance(Duration::from_secs(1));
    s.run_pending();
    assert_eq!(
        *log.lock().unwrap(),
        ["p1@09:00:12", "p4@09:00:12", "p12@09:00:12", "p3@09:00:12"]
    );
}

#[test]
fn last_run_is_when_the_job_finished() {
    let start = date(2026, 11, 23).at(9, 0, 0, 0).in_tz("UTC").unwrap();
    // On an auto-advancing virtual clock, the job's own sleep moves time by 5 s.
    let clock = Clock::virtual_in(&start);
    let s = Scheduler::with_clock(clock.clone());
    let job_clock = clock.clone();
    let job = s
        .every(10)
        .seconds()
        .do_(move || job_clock.sleep(Duration::from_secs(5)))
        .unwrap();
    clock.sleep(Duration::from_secs(10));
    s.run_pending();
    // Started at 09:00:10, returned at 09:00:15: Python's last_run is 09:00:15.
    let last = job.last_run().expect("it ran");
    assert_eq!(last.strftime("%H:%M:%S").to_string(), "09:00:15");
    // The next run stays on the grid (09:00:20), computed from the end of the run.
    let next = job.next_run().unwrap();
    assert_eq!(next.strftime("%H:%M:%S").to_string(), "09:00:20");
}

#[test]
fn run_all_runs_the_jobs_in_the_order_they_were_added() {
    let (clock, s) = manual_monday();
    let log = Log::default();
    // Added first, due last.
    s.every(1)
        .hour()
        .do_named("x", logs(&log, &clock, "x"))
        .unwrap();
    s.every(1)
        .minute()
        .do_named("y", logs(&log, &clock, "y"))
        .unwrap();
    s.every(10)
        .seconds()
        .do_named("z", logs(&log, &clock, "z"))
        .unwrap();
    s.run_all(Duration::ZERO);
    // Python: ['x', 'y', 'z'] (by next run it would be z, y, x).
    assert_eq!(
        *log.lock().unwrap(),
        ["x@09:00:00", "y@09:00:00", "z@09:00:00"]
    );
}
