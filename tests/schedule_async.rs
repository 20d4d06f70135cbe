//! Async jobs: spawned as tasks on the runtime given to `run_pending_on`, never
//! twice at once, their panics reported.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clearloop::Builder;
use clearloop::clock::Clock;
use clearloop::schedule::{Report, Scheduler};
use clearloop::time::sleep;
use jiff::civil::date;

fn setup() -> (Clock, Scheduler, Arc<Mutex<Vec<Report>>>) {
    let start = date(2026, 11, 23)
        .at(9, 0, 0, 0)
        .in_tz("Europe/Paris")
        .unwrap();
    let clock = Clock::virtual_in(&start);
    let s = Scheduler::with_clock(clock.clone());
    let reports = Arc::new(Mutex::new(Vec::new()));
    let log = reports.clone();
    s.on_report(move |r: &Report| log.lock().unwrap().push(r.clone()));
    (clock, s, reports)
}

#[test]
fn an_async_job_still_running_is_skipped() {
    let (clock, s, reports) = setup();
    let runtime = Builder::new().clock(clock.clone()).build();
    let starts = Arc::new(Mutex::new(Vec::new()));
    let (log, job_clock) = (starts.clone(), clock.clone());
    // Every 10 s, a job that takes 25 s.
    s.every(10)
        .seconds()
        .do_async(move || {
            let (log, clock) = (log.clone(), job_clock.clone());
            async move {
                log.lock()
                    .unwrap()
                    .push(clock.zoned_now().strftime("%H:%M:%S").to_string());
                sleep(Duration::from_secs(25)).await;
            }
        })
        .unwrap();
    runtime.block_on(async {
        for _ in 0..=45 {
            s.run_pending_on(&runtime);
            sleep(Duration::from_secs(1)).await;
        }
    });
    // Started at 10 s; due at 20 and 30 while running: skipped; free again at 35.
    assert_eq!(*starts.lock().unwrap(), ["09:00:10", "09:00:40"]);
    let skipped: Vec<String> = reports
        .lock()
        .unwrap()
        .iter()
        .filter(|r| matches!(r, Report::Skipped { .. }))
        .map(Report::to_string)
        .collect();
    assert_eq!(skipped.len(), 2, "{skipped:?}");
    assert!(
        skipped[0]
            .starts_with("skipped: Every 10 seconds do closure() (last run: 2026-11-23 09:00:10")
            && skipped[0].ends_with("its previous run is still running, not starting it twice"),
        "{}",
        skipped[0]
    );
}

#[test]
fn an_async_jobs_panic_is_reported() {
    let (clock, s, reports) = setup();
    let runtime = Builder::new().clock(clock.clone()).build();
    async fn fails() {
        sleep(Duration::from_secs(1)).await;
        panic!("the feed is down");
    }
    s.every(1).minute().do_async(fails).unwrap();
    let runs = Arc::new(AtomicUsize::new(0));
    let counter = runs.clone();
    s.every(30)
        .seconds()
        .do_(move || {
            counter.fetch_add(1, Ordering::SeqCst);
        })
        .unwrap();
    runtime.block_on(async {
        for _ in 0..150 {
            s.run_pending_on(&runtime);
            sleep(Duration::from_secs(1)).await;
        }
    });
    let panics: Vec<String> = reports
        .lock()
        .unwrap()
        .iter()
        .filter(|r| matches!(r, Report::Panicked { .. }))
        .map(Report::to_string)
        .collect();
    assert_eq!(panics.len(), 2, "{panics:?}");
    assert!(
        panics[0].contains("do fails()") && panics[0].ends_with("the feed is down"),
        "{}",
        panics[0]
    );
    assert_eq!(runs.load(Ordering::SeqCst), 4, "the sync job went on");
}

#[test]
fn an_async_job_without_a_runtime_says_so() {
    let (clock, s, reports) = setup();
    s.every(1).second().do_async(|| async {}).unwrap();
    clock.advance(Duration::from_secs(1));
    s.run_pending();
    let reports = reports.lock().unwrap();
    assert_eq!(reports.len(), 1);
    assert!(
        reports[0]
            .to_string()
            .contains("an async job needs a runtime; call run_pending_on(&runtime)")
    );
}
