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

/// The stops that take seconds of real time (real threads, real computing, real
/// sockets and processes): the test below leaves them out. None of them prints on
/// standard error: their output is on standard output, and the CI's real-clock tour
/// would show a line that reads like a crash.
const SECONDS_OF_REAL_TIME: [&str; 5] =
    ["threads", "gil", "echo_server", "fetch_many", "subprocess"];

/// Run by the test below in a child process: every stop but the slow ones, as the
/// tour runs them with `--virtual` (and its hook), each after a marker line on
/// standard error so that the parent can tell whose lines are whose.
#[test]
#[ignore = "run as a child process by every_stop_that_prints_a_panic_or_a_warning_says_so_first"]
fn child_runs_the_quick_stops_with_markers() {
    clearloop::panics::install_hook();
    for stop in stops() {
        if SECONDS_OF_REAL_TIME.contains(&stop.name) {
            continue;
        }
        let clock = match stop.time {
            Time::AlwaysReal { .. } | Time::Measure { .. } => Clock::real(),
            _ => Clock::virtual_clock(),
        };
        eprintln!("@@ stop {}", stop.name);
        (stop.run)(clock);
    }
}

/// A caught panic's line, or the slow-task warning, looks like a crash to a
/// newcomer: the tour says before such a stop that it is the lesson. Every stop
/// that prints one has that note, and every note is borne out by its stop.
#[test]
fn every_stop_that_prints_a_panic_or_a_warning_says_so_first() {
    let output = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_runs_the_quick_stops_with_markers"])
        .args(["--ignored", "--nocapture", "--test-threads=1"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "the child failed:\n{stderr}");
    let mut alarming: Vec<(&str, Vec<&str>)> = Vec::new();
    for line in stderr.lines() {
        if let Some(name) = line.strip_prefix("@@ stop ") {
            alarming.push((name, Vec::new()));
        } else if line.contains("panicked")
            || line.contains("clearloop debug:")
            || line.contains("warning")
        {
            let (_, lines) = alarming.last_mut().expect("a line before the first stop");
            lines.push(line);
        }
    }
    let stops = stops();
    assert_eq!(
        alarming.len(),
        stops.len() - SECONDS_OF_REAL_TIME.len(),
        "{stderr}"
    );
    for (name, lines) in alarming {
        let stop = stops.iter().find(|stop| stop.name == name).unwrap();
        match stop.on_purpose {
            None => assert!(
                lines.is_empty(),
                "{name} prints, with no word before:\n{lines:#?}"
            ),
            Some(note) => {
                assert!(
                    !lines.is_empty(),
                    "{name} says it alarms, and prints nothing: {note}"
                );
                assert!(note.contains("the lesson, not a failure"), "{name}: {note}");
            }
        }
    }
    for name in [
        "exceptions",
        "task_group_scope",
        "blocking_mistake",
        "schedule_background",
    ] {
        let stop = stops.iter().find(|stop| stop.name == name).unwrap();
        assert!(stop.on_purpose.is_some(), "{name}");
    }
    let flaky = stops
        .iter()
        .find(|stop| stop.name == "schedule_background")
        .unwrap();
    assert!(
        flaky.on_purpose.unwrap().contains("flaky()"),
        "the job the tour never named"
    );
}

/// The gil stop's load line: the load average, and on a busy machine what the
/// speed-up needs. It carries the words "load average", by which the CI drops it
/// before comparing two runs of the tour.
#[test]
fn the_gil_stop_says_what_the_speed_up_needs_on_a_busy_machine() {
    use tour::gil::load_note;
    let busy = load_note(7.0, 2);
    assert!(busy.starts_with("load average 7.0 on 2 cores"), "{busy}");
    assert!(
        busy.contains("needs 2 free cores, and none is free"),
        "{busy}"
    );
    let half = load_note(1.0, 2);
    assert!(
        half.contains("about 1.0 cores free, of the 2 a speed-up of x2 needs"),
        "{half}"
    );
    assert!(!half.contains("busy"), "{half}");
    let most = load_note(1.7, 2);
    assert!(
        most.contains("busy. A speed-up of x2 needs 2 free cores, and about 0.3 are free"),
        "{most}"
    );
    let idle = load_note(0.2, 8);
    assert!(
        idle.contains("about 7.8 cores free, the 2 a speed-up of x2 needs"),
        "{idle}"
    );
    assert!(!idle.contains("busy"), "{idle}");
    for line in [busy, half, most, idle, load_note(0.5, 1)] {
        assert!(
            line.contains("load average") && !line.contains('\n'),
            "{line}"
        );
    }
}
