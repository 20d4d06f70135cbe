//! What a newcomer meets first: the tour (`examples/tour.rs`). It announces how long
//! it lasts and which stops `--virtual` cannot make instant; its figures must be the
//! examples' own, and a stop that panics on purpose prints one line per panic, never
//! Rust's raw `thread '...' panicked at` report. On the virtual clock.

#[allow(dead_code)] // the tour's `main` and the stops this file does not run
#[path = "../examples/tour.rs"]
mod tour;

use std::process::Command;
use std::time::{Duration, Instant};

use clearloop::clock::Clock;
use tour::{Stop, Time, about, announce, stops};

/// The stops whose waits are all on the loop's clock: instant on a virtual clock.
fn loop_stops() -> Vec<Stop> {
    stops()
        .into_iter()
        .filter(|stop| matches!(stop.time, Time::Loop { .. }))
        .collect()
}

#[test]
fn every_loop_stop_lasts_exactly_what_the_tour_announces() {
    let stops = loop_stops();
    assert!(stops.len() >= 10, "the asyncio stops are all on the loop");
    for stop in stops {
        let clock = Clock::virtual_clock();
        let (start, real) = (clock.now(), Instant::now());
        (stop.run)(clock.clone());
        assert_eq!(
            clock.now() - start,
            stop.lasts(),
            "stop {} lasts {:?} on the virtual clock, the tour says {:?}",
            stop.name,
            clock.now() - start,
            stop.lasts()
        );
        assert!(
            real.elapsed() < Duration::from_secs(2),
            "stop {} is not instant on the virtual clock: {:?}",
            stop.name,
            real.elapsed()
        );
    }
}

#[test]
fn durations_read_in_seconds_to_a_tenth() {
    assert_eq!(about(Duration::from_secs(31)), "31 s");
    assert_eq!(about(Duration::from_millis(2500)), "2.5 s");
    assert_eq!(about(Duration::from_millis(600)), "0.6 s");
}

#[test]
fn the_announcement_gives_the_stop_count_the_total_and_the_stops_virtual_cannot_speed_up() {
    let stops = stops();
    let total: Duration = stops.iter().map(Stop::lasts).sum();
    let seconds = format!("About {} on the real clock", about(total));
    for all_virtual in [false, true] {
        let text = announce(&stops, all_virtual);
        let words: Vec<&str> = text
            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .collect();
        assert!(
            text.contains(&format!("{} stops", stops.len())),
            "{all_virtual}: {text}"
        );
        for stop in &stops {
            let slow = matches!(stop.time, Time::RealWork { .. } | Time::AlwaysReal { .. });
            assert_eq!(words.contains(&stop.name), slow, "{}: {text}", stop.name);
        }
    }
    assert!(announce(&stops, false).contains(&seconds), "{seconds}");
    // Real threads, real computing, a real block, real sockets and processes: the
    // ones the README names too.
    let slow: Vec<&str> = stops
        .iter()
        .filter(|stop| matches!(stop.time, Time::RealWork { .. } | Time::AlwaysReal { .. }))
        .map(|stop| stop.name)
        .collect();
    assert_eq!(
        slow,
        [
            "threads",
            "gil",
            "blocking_mistake",
            "echo_server",
            "fetch_many",
            "subprocess"
        ]
    );
}

/// Run by the test below in a child process (so that its standard error can be
/// read): every loop stop, on the virtual clock, with the hook the tour installs.
#[test]
#[ignore = "run as a child process by loop_stops_print_one_line_per_panic_and_no_raw_report"]
fn child_runs_the_loop_stops_under_the_hook() {
    clearloop::panics::install_hook();
    for stop in loop_stops() {
        (stop.run)(Clock::virtual_clock());
    }
}

#[test]
fn loop_stops_print_one_line_per_panic_and_no_raw_report() {
    let output = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_runs_the_loop_stops_under_the_hook"])
        .args(["--ignored", "--nocapture", "--test-threads=1"])
        .env("RUST_BACKTRACE", "1") // a raw report would come with a backtrace
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "the child failed:\n{stderr}");
    let panics: Vec<&str> = stderr
        .lines()
        .filter(|line| line.contains("panicked"))
        .collect();
    // Every panic is one line from the hook: what panicked, at the example's own
    // line, and where the panic went. Never Rust's raw report, never a backtrace.
    for line in &panics {
        assert!(!line.starts_with("thread '"), "a raw report: {line}");
        assert!(line.contains(" panicked at "), "{line}");
        // `tests/../examples/...` here, as this file includes the tour by its path.
        assert!(line.contains("examples/"), "points at the example: {line}");
    }
    assert!(!stderr.contains("stack backtrace"), "{stderr}");
    // `exceptions` panics once on purpose, in a task gather keeps the panic on.
    let exceptions: Vec<&&str> = panics
        .iter()
        .filter(|line| line.contains("examples/exceptions.rs:"))
        .collect();
    assert_eq!(exceptions.len(), 1, "{stderr}");
    let line = exceptions[0];
    assert!(line.starts_with("task 'Task-"), "names the task: {line}");
    assert!(
        line.ends_with("Ceci est une erreur !; stored on the task"),
        "{line}"
    );
}
