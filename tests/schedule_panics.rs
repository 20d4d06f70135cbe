//! Nothing dies silently: a panicking report hook, a panicking job and an async
//! job's panic just before `stop()` are each reported, naming what failed, and the
//! scheduler goes on.
//!
//! What is printed on stderr is checked by running this test binary again on one
//! `#[ignore]`d test (`child_*`), with `SCHEDULE_PANICS_CHILD` set, and reading its
//! stderr.

mod common;
use common::*;

use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clearloop::Builder;
use clearloop::schedule::Report;

/// Runs the ignored test `name` of this binary in a child process; its stderr.
fn stderr_of(name: &str) -> String {
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            name,
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("SCHEDULE_PANICS_CHILD", "1")
        .env_remove("RUST_BACKTRACE")
        .output()
        .expect("the test binary runs again");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "child {name} failed:\n{stdout}\n{stderr}"
    );
    stderr
}

fn in_child() -> bool {
    std::env::var_os("SCHEDULE_PANICS_CHILD").is_some()
}

#[test]
#[ignore = "run by a_panicking_report_hook_is_reported_and_the_runner_goes_on"]
fn child_report_hook_panics() {
    assert!(in_child(), "run by its parent test");
    let (clock, s) = manual_monday();
    let runs = Arc::new(AtomicUsize::new(0));
    let counter = runs.clone();
    s.every(1)
        .second()
        .do_named("tick", move || {
            counter.fetch_add(1, Ordering::SeqCst);
        })
        .unwrap();
    s.on_report(|_: &Report| panic!("the hook is broken"));
    let runner = s.run_in_background();
    for second in 1..=3 {
        clock.advance(Duration::from_secs(1));
        eventually("the runner ran the job and reported it", || {
            runs.load(Ordering::SeqCst) == second && s.idle_seconds() == Some(1.0)
        });
    }
    assert!(!runner.is_finished(), "the runner survived three panics");
    runner.stop(); // does not re-raise
}

#[test]
fn a_panicking_report_hook_is_reported_and_the_runner_goes_on() {
    let stderr = stderr_of("child_report_hook_panics");
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|line| line.contains("the hook is broken"))
        .collect();
    let say = |second: u8| {
        format!(
            "the report hook given to on_report (reporting on job Every 1 second do tick() \
             (last run: 2026-11-23 09:00:0{second}, next run: 2026-11-23 09:00:0{})) panicked",
            second + 1
        )
    };
    assert_eq!(lines.len(), 6, "each panic: Rust's line and ours\n{stderr}");
    for second in 1..=3 {
        let ours = lines.iter().find(|line| line.contains(&say(second)));
        assert!(
            ours.is_some_and(|line| line.ends_with("the hook is broken; the scheduler goes on")),
            "second {second}:\n{stderr}"
        );
    }
}

#[test]
#[ignore = "run by with_the_hook_a_job_panic_is_one_line_naming_the_job"]
fn child_job_panics_under_the_hook() {
    assert!(in_child(), "run by its parent test");
    clearloop::panics::install_hook();
    let (clock, s) = manual_monday();
    fn flaky() {
        panic!("the feed is down");
    }
    s.every(1).second().do_(flaky).unwrap();
    clock.advance(Duration::from_secs(1));
    s.run_pending();
    assert_eq!(s.get_jobs().len(), 1, "kept: PanicPolicy::Keep");
}

#[test]
fn with_the_hook_a_job_panic_is_one_line_naming_the_job() {
    let stderr = stderr_of("child_job_panics_under_the_hook");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(
        lines[0].starts_with("job flaky() (Every 1 second) panicked at tests/schedule_panics.rs:")
            && lines[0].ends_with(": the feed is down; it runs again at 2026-11-23 09:00:02"),
        "{stderr}"
    );
}

#[test]
fn stop_reports_an_async_jobs_panic_that_finished_after_the_last_pass() {
    let (clock, s) = manual_monday();
    let reports = Arc::new(Mutex::new(Vec::new()));
    let log = reports.clone();
    s.on_report(move |r: &Report| log.lock().unwrap().push(r.clone()));
    let started = Arc::new(AtomicUsize::new(0));
    let counter = started.clone();
    s.every(10)
        .minutes()
        .do_async(move || {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                panic!("the feed is down");
            }
        })
        .unwrap();
    // A single-threaded runtime: the task runs only inside `block_on` below.
    let runtime = Builder::new().build();
    let runner = s.run_in_background_on(runtime.handle());
    clock.advance(Duration::from_secs(600));
    eventually("the runner spawned the job's task", || {
        s.idle_seconds().is_some_and(|idle| idle > 0.0)
    });
    runtime.block_on(async {
        for _ in 0..1_000 {
            if started.load(Ordering::SeqCst) == 1 {
                break;
            }
            clearloop::task::yield_now().await;
        }
        clearloop::task::yield_now().await;
    });
    assert_eq!(started.load(Ordering::SeqCst), 1, "the task ran");
    // The runner sleeps until 09:20, which never comes: only stop() can see the
    // finished task.
    runner.stop();
    let panics: Vec<String> = reports
        .lock()
        .unwrap()
        .iter()
        .filter(|r| matches!(r, Report::Panicked { .. }))
        .map(Report::to_string)
        .collect();
    assert_eq!(panics.len(), 1, "{:?}", reports.lock().unwrap());
    assert!(panics[0].ends_with("the feed is down"), "{}", panics[0]);
}
