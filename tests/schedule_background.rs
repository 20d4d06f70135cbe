//! The background runner: it sleeps until the next run, wakes early for a new job,
//! stops promptly, and reports a panicking job while the others go on.

mod common;
use common::*;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use clearloop::schedule::{PanicPolicy, Report, Scheduler};

#[test]
fn wakes_early_for_a_new_job() {
    // Real clock: the runner sleeps until the hourly job, an hour away. A job added
    // for "in one second" must run after about a second, not after the hour.
    let s = Scheduler::new();
    s.every(1).hour().do_(|| ()).unwrap();
    let runner = s.run_in_background();
    thread::sleep(Duration::from_millis(50)); // let it go to sleep
    let (tx, rx) = mpsc::channel();
    let added = Instant::now();
    s.every(1)
        .second()
        .do_(move || tx.send(Instant::now()).unwrap())
        .unwrap();
    let ran = rx
        .recv_timeout(Duration::from_secs(5))
        .expect("the new job ran within 5 s");
    let after = ran - added;
    assert!(after >= Duration::from_millis(990), "ran after {after:?}");
    assert!(after < Duration::from_secs(3), "ran after {after:?}");
    runner.stop();
}

#[test]
fn stop_while_sleeping_returns_promptly() {
    let s = Scheduler::new();
    s.every(1).day().do_(|| ()).unwrap();
    let runner = s.run_in_background();
    thread::sleep(Duration::from_millis(50));
    let asked = Instant::now();
    runner.stop();
    assert!(
        asked.elapsed() < Duration::from_secs(1),
        "stop took {:?}",
        asked.elapsed()
    );
    // The jobs stay in the scheduler.
    assert_eq!(s.get_jobs().len(), 1);
}

#[test]
fn dropping_the_handle_stops_the_thread() {
    let (_clock, s) = manual_monday();
    let runner = s.run_in_background();
    let asked = Instant::now();
    drop(runner);
    assert!(asked.elapsed() < Duration::from_secs(1));
}

#[test]
fn a_panicking_job_is_reported_and_the_others_go_on() {
    for policy in [PanicPolicy::Keep, PanicPolicy::Cancel] {
        let (clock, s) = manual_monday();
        s.set_panic_policy(policy);
        let reports = Arc::new(Mutex::new(Vec::new()));
        let log = reports.clone();
        s.on_report(move |r: &Report| log.lock().unwrap().push(r.clone()));
        let ticks = Arc::new(AtomicUsize::new(0));
        let counter = ticks.clone();
        s.every(1)
            .second()
            .do_(move || {
                counter.fetch_add(1, Ordering::SeqCst);
            })
            .unwrap();
        fn boom() {
            panic!("boom at run time");
        }
        s.every(2).seconds().do_(boom).unwrap();
        let runner = s.run_in_background();
        for second in 1..=6 {
            clock.advance(Duration::from_secs(1));
            // Ran, filed and reported: then the next run is in the future again.
            eventually("the due jobs ran", || {
                ticks.load(Ordering::SeqCst) == second
                    && s.idle_seconds().is_some_and(|idle| idle > 0.0)
            });
        }
        runner.stop();
        let panics: Vec<Report> = reports
            .lock()
            .unwrap()
            .iter()
            .filter(|r| matches!(r, Report::Panicked { .. }))
            .cloned()
            .collect();
        let expected = if policy == PanicPolicy::Keep { 3 } else { 1 };
        assert_eq!(panics.len(), expected, "{policy:?}: {panics:?}");
        let text = panics[0].to_string();
        assert!(
            text.starts_with(
                "job panicked: Every 2 seconds do boom() (last run: 2026-11-23 09:00:02"
            ) && text.contains("boom at run time"),
            "{text}"
        );
        assert_eq!(
            s.get_jobs().len(),
            if policy == PanicPolicy::Keep { 2 } else { 1 }
        );
    }
}

#[test]
fn jobs_added_from_another_thread_while_on_a_manual_clock() {
    let (clock, s) = manual_monday();
    let runner = s.run_in_background();
    let (tx, rx) = mpsc::channel();
    let job_clock = clock.clone();
    // Added after the runner went to sleep on an empty scheduler.
    thread::sleep(Duration::from_millis(20));
    s.every(10)
        .minutes()
        .do_(move || tx.send(job_clock.zoned_now()).unwrap())
        .unwrap();
    clock.advance(Duration::from_secs(600));
    let ran = rx.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(ran.strftime("%H:%M:%S").to_string(), "09:10:00");
    runner.stop();
}

#[test]
fn async_jobs_run_on_a_runtime_handle_from_the_background_thread() {
    let (clock, s) = manual_monday();
    let runtime = clearloop::Builder::new().worker_threads(2).build();
    let runs = Arc::new(AtomicUsize::new(0));
    let counter = runs.clone();
    s.every(10)
        .minutes()
        .do_async(move || {
            let counter = counter.clone();
            async move {
                clearloop::task::yield_now().await;
                counter.fetch_add(1, Ordering::SeqCst);
            }
        })
        .unwrap();
    let runner = s.run_in_background_on(runtime.handle());
    clock.advance(Duration::from_secs(600));
    eventually("the async job ran once", || {
        runs.load(Ordering::SeqCst) == 1
    });
    // The counter moves just before the task ends: wait for the end too, or the
    // 09:20 run may find the 09:10 task still running and (rightly) skip it.
    eventually("its task finished", || runtime.live_tasks() == 0);
    clock.advance(Duration::from_secs(600));
    eventually("and again ten minutes later", || {
        runs.load(Ordering::SeqCst) == 2
    });
    runner.stop();
}

#[test]
fn a_running_job_counts_as_due_until_it_is_filed_and_reported() {
    // The tour's `wait()` advances a manual clock once `idle_seconds()` is positive.
    // It used to be positive as soon as the runner had *taken* the due jobs, so the
    // clock moved while a job still ran (it printed `+3.5 s tick` for a 3.0 s run).
    let (clock, s) = manual_monday();
    let (started_tx, started) = mpsc::channel();
    let (go, go_rx) = mpsc::channel::<()>();
    let go_rx = Mutex::new(go_rx);
    s.every(1)
        .second()
        .do_(move || {
            started_tx.send(()).unwrap();
            go_rx.lock().unwrap().recv().unwrap();
        })
        .unwrap();
    let reported = Arc::new(AtomicUsize::new(0));
    let count = reported.clone();
    s.on_report(move |_: &Report| {
        count.fetch_add(1, Ordering::SeqCst);
    });
    let runner = s.run_in_background();
    clock.advance(Duration::from_secs(1));
    started
        .recv_timeout(Duration::from_secs(5))
        .expect("the job started");
    // Running: its next run (09:00:01) is now, not 09:00:02.
    assert_eq!(s.idle_seconds(), Some(0.0));
    assert_eq!(s.next_run().unwrap().time().to_string(), "09:00:01");
    go.send(()).unwrap();
    eventually("the run was filed and reported", || {
        s.idle_seconds() == Some(1.0)
    });
    // Positive only once its report was sent.
    assert_eq!(reported.load(Ordering::SeqCst), 1);
    runner.stop();
}
