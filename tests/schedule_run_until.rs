//! `Scheduler::run_until`: three simulated days without a hand-written loop, and
//! jiff used only through `clearloop::jiff` (this file does not name the `jiff`
//! crate: a user's crate that has not added it must be able to do the same).
#![cfg(feature = "schedule")]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use clearloop::clock::Clock;
use clearloop::jiff::civil::date;
use clearloop::jiff::{ToSpan, ZonedDateTime};
use clearloop::schedule::{ScheduleError, Scheduler};

/// Monday 2026-11-23 09:00 in Europe/Paris, a virtual clock and a scheduler on it.
fn monday() -> (ZonedDateTime, Clock, Scheduler) {
    let start = date(2026, 11, 23)
        .at(9, 0, 0, 0)
        .in_tz("Europe/Paris")
        .unwrap();
    let clock = Clock::virtual_in(&start);
    (start, clock.clone(), Scheduler::with_clock(clock))
}

type Log = Arc<Mutex<Vec<String>>>;

/// A job that writes `name` and the time it ran into `log`.
fn logging(clock: &Clock, log: &Log, name: &'static str) -> impl FnMut() + Send + 'static {
    let (clock, log) = (clock.clone(), log.clone());
    move || {
        let at = clock.zoned_now().strftime("%a %H:%M").to_string();
        log.lock().unwrap().push(format!("{at} {name}"));
    }
}

#[test]
fn three_virtual_days_run_every_job_at_its_time_and_stop_at_the_end() {
    let (start, clock, s) = monday();
    let log = Log::default();
    s.every(1)
        .day()
        .at("10:30")
        .do_named("coffee", logging(&clock, &log, "coffee"))
        .unwrap();
    s.every(6)
        .hours()
        .do_named("backup", logging(&clock, &log, "backup"))
        .unwrap();
    s.every(1)
        .wednesday()
        .at("13:15")
        .do_named("meeting", logging(&clock, &log, "meeting"))
        .unwrap();
    let end = start.checked_add(3.days()).unwrap();
    s.run_until(end.clone()).unwrap();
    assert_eq!(
        clock.zoned_now(),
        end,
        "the clock stops at the end, exactly"
    );
    assert_eq!(
        *log.lock().unwrap(),
        [
            "Mon 10:30 coffee",
            "Mon 15:00 backup",
            "Mon 21:00 backup",
            "Tue 03:00 backup",
            "Tue 09:00 backup",
            "Tue 10:30 coffee",
            "Tue 15:00 backup",
            "Tue 21:00 backup",
            "Wed 03:00 backup",
            "Wed 09:00 backup",
            "Wed 10:30 coffee",
            "Wed 13:15 meeting",
            "Wed 15:00 backup",
            "Wed 21:00 backup",
            "Thu 03:00 backup",
            "Thu 09:00 backup", // due at the end itself: run
        ]
    );
    // Nothing ran twice or late: the next runs are all after the end.
    assert_eq!(s.idle_seconds(), Some(90.0 * 60.0)); // Thu 10:30 coffee
}

#[test]
fn run_until_takes_the_forms_of_until() {
    let (start, clock, s) = monday();
    let log = Log::default();
    s.every(1)
        .hour()
        .do_named("tick", logging(&clock, &log, "tick"))
        .unwrap();
    s.run_until(Duration::from_secs(2 * 3600)).unwrap(); // a Duration from now
    assert_eq!(clock.zoned_now(), start.checked_add(2.hours()).unwrap());
    s.run_until("12:30").unwrap(); // a time today
    s.run_until("2026-11-23 14:00").unwrap(); // a date-time, in the clock's zone
    assert_eq!(clock.zoned_now().strftime("%H:%M").to_string(), "14:00");
    assert_eq!(log.lock().unwrap().len(), 5, "10:00 to 14:00");
    let error = s.run_until("next tuesday").unwrap_err();
    assert!(
        matches!(error, ScheduleError::UntilFormat { .. }),
        "{error}"
    );
    assert_eq!(clock.zoned_now().strftime("%H:%M").to_string(), "14:00");
}

#[test]
fn run_until_a_moment_already_past_runs_what_was_due_then_and_returns() {
    let (start, clock, s) = monday();
    let log = Log::default();
    s.every(10)
        .minutes()
        .do_named("poll", logging(&clock, &log, "poll"))
        .unwrap();
    clock.advance(Duration::from_secs(3600)); // 10:00: the job is 50 minutes late
    s.run_until(start.clone()).unwrap();
    assert!(log.lock().unwrap().is_empty(), "not due at 09:00");
    s.run_until(start.checked_add(15.minutes()).unwrap())
        .unwrap();
    assert_eq!(*log.lock().unwrap(), ["Mon 10:00 poll"], "late: runs once");
    assert_eq!(clock.zoned_now().strftime("%H:%M").to_string(), "10:00");
}

/// A job that a job adds is seen by the same `run_until`.
#[test]
fn a_job_added_by_a_job_runs_in_the_same_run_until() {
    let (start, clock, s) = monday();
    let log = Log::default();
    let (adder, inner_log, inner_clock) = (s.clone(), log.clone(), clock.clone());
    s.every(1)
        .day()
        .at("10:00")
        .do_named("add", move || {
            adder
                .every(30)
                .minutes()
                .do_named("added", logging(&inner_clock, &inner_log, "added"))
                .unwrap();
            clearloop::schedule::CancelJob
        })
        .unwrap();
    s.run_until(start.checked_add(2.hours()).unwrap()).unwrap();
    assert_eq!(*log.lock().unwrap(), ["Mon 10:30 added", "Mon 11:00 added"]);
}
