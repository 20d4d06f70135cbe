//! `sched` and `schedule` record their runs into a recorder: `sched_run` and
//! `job_run` events, drawn on rows of their own.

use std::sync::Arc;
use std::time::Duration;

use clearloop::clock::Clock;
use clearloop::trace::{EventKind, Recorder};

#[test]
fn sched_records_each_action_with_its_time_and_duration() {
    let clock = Clock::virtual_clock();
    let s = clearloop::sched::Scheduler::with_clock(clock.clone());
    let trace = Arc::new(Recorder::new(clock.clone()));
    assert!(s.trace_into(trace.clone()));
    assert!(
        !s.trace_into(Arc::new(Recorder::new(clock.clone()))),
        "the first stays"
    );
    let in_action = clock.clone();
    s.enter_named(Duration::from_secs(1), 1, "slow", (), move |()| {
        in_action.advance(Duration::from_millis(250));
    });
    s.enter_named(Duration::from_secs(2), 1, "quick", (), |()| {});
    s.run(true).unwrap();
    let runs: Vec<_> = trace.events().into_iter().map(|e| (e.at, e.kind)).collect();
    let ms = Duration::from_millis;
    assert_eq!(
        runs,
        [
            (
                ms(1000),
                EventKind::SchedRun {
                    name: "slow".into(),
                    took: ms(250)
                }
            ),
            (
                ms(2000),
                EventKind::SchedRun {
                    name: "quick".into(),
                    took: ms(0)
                }
            ),
        ]
    );
    let labels: Vec<_> = trace.timeline().rows.into_iter().map(|r| r.label).collect();
    assert_eq!(labels, ["sched: slow", "sched: quick"]);
}

#[test]
fn schedule_records_each_job_run() {
    let start = jiff::civil::date(2026, 11, 23)
        .at(9, 0, 0, 0)
        .in_tz("Europe/Paris")
        .unwrap();
    let clock = Clock::virtual_in(&start);
    let s = clearloop::schedule::Scheduler::with_clock(clock.clone());
    let trace = Arc::new(Recorder::new(clock.clone()));
    assert!(s.trace_into(trace.clone()));
    s.every(10).seconds().do_named("backup", || {}).unwrap();
    for _ in 0..2 {
        clock.advance(Duration::from_secs(10));
        s.run_pending();
    }
    let runs: Vec<_> = trace.events().into_iter().map(|e| (e.at, e.kind)).collect();
    let s10 = Duration::from_secs(10);
    let zero = Duration::ZERO;
    assert_eq!(
        runs,
        [
            (
                s10,
                EventKind::JobRun {
                    name: "backup".into(),
                    took: zero
                }
            ),
            (
                2 * s10,
                EventKind::JobRun {
                    name: "backup".into(),
                    took: zero
                }
            ),
        ]
    );
}
