//! The course's slide, run for a simulated week: Monday 2026-11-23 09:00 in Paris
//! to the next Monday 09:00, on the virtual clock (instant). Counts and the first
//! three run times of each of the six jobs.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clearloop::clock::Clock;
use clearloop::schedule::Scheduler;
use jiff::civil::date;

type Runs = Arc<Mutex<BTreeMap<&'static str, Vec<String>>>>;

fn week_of(
    drive: impl Fn(&Clock, &Scheduler, jiff::Timestamp),
) -> BTreeMap<&'static str, Vec<String>> {
    let start = date(2026, 11, 23)
        .at(9, 0, 0, 0)
        .in_tz("Europe/Paris")
        .unwrap();
    let clock = Clock::virtual_in(&start);
    let s = Scheduler::with_clock(clock.clone());
    let runs: Runs = Arc::default();
    let job = |name: &'static str| {
        let (runs, clock) = (runs.clone(), clock.clone());
        move || {
            let now = clock
                .zoned_now()
                .strftime("%a %Y-%m-%d %H:%M:%S")
                .to_string();
            runs.lock().unwrap().entry(name).or_default().push(now);
        }
    };
    s.every(10)
        .minutes()
        .do_(job("every(10).minutes()"))
        .unwrap();
    s.every(1).hour().do_(job("every(1).hour()")).unwrap();
    s.every(1)
        .day()
        .at("10:30")
        .do_(job("every(1).day().at(10:30)"))
        .unwrap();
    s.every(1).monday().do_(job("every(1).monday()")).unwrap();
    s.every(1)
        .wednesday()
        .at("13:15")
        .do_(job("every(1).wednesday().at(13:15)"))
        .unwrap();
    s.every(1)
        .minute()
        .at(":17")
        .do_(job("every(1).minute().at(:17)"))
        .unwrap();
    let end = start.timestamp() + jiff::SignedDuration::from_hours(7 * 24);
    drive(&clock, &s, end);
    let runs = runs.lock().unwrap();
    runs.clone()
}

fn check(runs: &BTreeMap<&'static str, Vec<String>>) {
    let expected: [(&str, usize, &[&str]); 6] = [
        (
            "every(10).minutes()",
            1008,
            &[
                "Mon 2026-11-23 09:10:00",
                "Mon 2026-11-23 09:20:00",
                "Mon 2026-11-23 09:30:00",
            ],
        ),
        (
            "every(1).hour()",
            168,
            &[
                "Mon 2026-11-23 10:00:00",
                "Mon 2026-11-23 11:00:00",
                "Mon 2026-11-23 12:00:00",
            ],
        ),
        (
            "every(1).day().at(10:30)",
            7,
            &[
                "Mon 2026-11-23 10:30:00",
                "Tue 2026-11-24 10:30:00",
                "Wed 2026-11-25 10:30:00",
            ],
        ),
        ("every(1).monday()", 1, &["Mon 2026-11-30 09:00:00"]),
        (
            "every(1).wednesday().at(13:15)",
            1,
            &["Wed 2026-11-25 13:15:00"],
        ),
        (
            "every(1).minute().at(:17)",
            10080,
            &[
                "Mon 2026-11-23 09:00:17",
                "Mon 2026-11-23 09:01:17",
                "Mon 2026-11-23 09:02:17",
            ],
        ),
    ];
    for (name, count, first) in expected {
        let times = &runs[name];
        assert_eq!(times.len(), count, "{name}: number of runs");
        assert_eq!(&times[..first.len()], first, "{name}: first runs");
        // Nothing ran after the end of the week (dates compare as text past "Mon ").
        assert!(
            times.iter().all(|t| &t[4..] <= "2026-11-30 09:00:00"),
            "{name}"
        );
    }
}

#[test]
fn the_courses_six_jobs_over_a_week_jumping_to_each_next_run() {
    let runs = week_of(|clock, s, end| {
        // Sleep exactly until the next run (what the background runner does).
        while let Some(next) = s.next_run() {
            if next.timestamp() > end {
                break;
            }
            let wait = next.timestamp().duration_since(clock.timestamp_now());
            clock.sleep(Duration::try_from(wait).unwrap_or_default());
            s.run_pending();
        }
    });
    check(&runs);
}

#[test]
fn the_courses_six_jobs_over_a_week_with_the_slides_loop() {
    let runs = week_of(|clock, s, end| {
        // The slide's loop: run_pending(), sleep(1). 604,800 turns, still instant.
        while clock.timestamp_now() <= end {
            s.run_pending();
            clock.sleep(Duration::from_secs(1));
        }
    });
    check(&runs);
}

#[path = "../examples/schedule_week.rs"]
mod example;

#[test]
fn the_example_moves_a_virtual_clock_by_the_week_it_simulated() {
    // The tour's footer reads "took ... on the virtual clock" from the clock it
    // gave: a week, not 0:00:00.
    let clock = Clock::virtual_clock();
    let before = clock.now();
    example::example(clock.clone());
    assert_eq!(clock.now() - before, Duration::from_secs(7 * 24 * 3600));
}
