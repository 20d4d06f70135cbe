//! Python, fairly: clearloop's `sched` beside CPython's (with its default
//! `delayfunc` and with a no-op one), and clearloop's `schedule` beside Python's
//! `schedule` and `clokwerk` on a simulated day. Skipped, with a line saying why,
//! when `python3` or the `schedule` package is absent.

use std::fmt::Write as _;
use std::hint::black_box;
use std::process::Command;
use std::time::{Duration, Instant};

use clearloop::clock::Clock;
use clearloop::sched::Scheduler;
use clearloop_bench::schedule_day;

use crate::measure::Plan;

/// Runs a script of `benches/` and returns its `name value` lines, or why not.
pub fn python(script: &str, args: &[&str]) -> Result<Vec<(String, String)>, String> {
    let path = format!("{}/{script}", env!("CARGO_MANIFEST_DIR"));
    let output = Command::new("python3")
        .arg(&path)
        .args(args)
        .output()
        .map_err(|e| format!("python3 not found ({e})"))?;
    if !output.status.success() {
        let err = String::from_utf8_lossy(&output.stderr);
        return Err(format!(
            "python3 {script} failed: {}",
            err.lines().last().unwrap_or("")
        ));
    }
    let text = String::from_utf8_lossy(&output.stdout);
    if let Some(reason) = text.lines().find_map(|l| l.strip_prefix("skip: ")) {
        return Err(reason.to_owned());
    }
    Ok(text
        .lines()
        .filter_map(|l| {
            let (name, value) = l.split_once(' ')?;
            Some((name.to_owned(), value.to_owned()))
        })
        .collect())
}

fn lookup(lines: &[(String, String)], name: &str) -> Option<f64> {
    lines.iter().find(|(n, _)| n == name)?.1.parse().ok()
}

fn best_of<T>(runs: usize, mut work: impl FnMut() -> T) -> f64 {
    (0..runs)
        .map(|_| {
            let start = Instant::now();
            black_box(work());
            start.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

fn enter_run(n: usize) {
    let s = Scheduler::with_clock(Clock::real());
    for _ in 0..n {
        s.enter(Duration::ZERO, 1, || {});
    }
    s.run(true).unwrap();
}

fn enter_cancel(n: usize) {
    let s = Scheduler::with_clock(Clock::real());
    let events: Vec<_> = (0..n)
        .map(|_| s.enter(Duration::from_secs(3600), 1, || {}))
        .collect();
    for event in &events {
        s.cancel(event).unwrap();
    }
}

/// The `sched` and `schedule` tables.
pub fn section(plan: Plan) -> String {
    let runs = if plan.quick { 1 } else { 3 };
    // CPython's default `delayfunc` makes 100,000 events take 10 s or more here, and
    // its `cancel` is quadratic (10,000 cancels: 5 to 7 s): smaller in quick mode.
    let (run_n, cancel_n) = if plan.quick {
        (10_000, 1_000)
    } else {
        (100_000, 10_000)
    };
    let mut md = String::from("## Python, fairly\n\n");
    let _ = write!(
        md,
        "Best of {runs} run(s) on each side (the least disturbed run), real clock for `sched`, \
         simulated time for `schedule`. A ratio is Python's time / clearloop's: above 1, clearloop \
         is faster.\n\n### `sched` against CPython's `sched`\n\n\
         CPython's `scheduler.run()` calls `delayfunc(0)` after every event (\"a questionable hack\" \
         to let other threads run); with the default `time.sleep` that is one system call per event, \
         which dominates. Both are shown.\n\n"
    );
    let cpython = python(
        "sched_cpython.py",
        &[
            "--runs",
            &runs.to_string(),
            "--n",
            &run_n.to_string(),
            "--cancel-n",
            &cancel_n.to_string(),
            "--memory-n",
            "10000",
        ],
    );
    match cpython {
        Err(why) => {
            let _ = writeln!(md, "Skipped: {why}.\n");
        }
        Ok(lines) => {
            let ours_run = best_of(runs, || enter_run(run_n));
            let ours_cancel = best_of(runs, || enter_cancel(cancel_n));
            md.push_str(
                "| workload | CPython | clearloop | CPython / clearloop |\n|---|---:|---:|---:|\n",
            );
            let row = |md: &mut String, label: &str, theirs: Option<f64>, ours: f64| {
                let (t, r) = match theirs {
                    Some(t) => (crate::measure::human(t), format!("{:.1}x", t / ours)),
                    None => ("n/a".to_owned(), "n/a".to_owned()),
                };
                let _ = writeln!(
                    md,
                    "| {label} | {t} | {} | {r} |",
                    crate::measure::human(ours)
                );
            };
            row(
                &mut md,
                &format!(
                    "enter + run {run_n} zero-delay events, default `delayfunc` (`time.sleep`)"
                ),
                lookup(&lines, &format!("enter_run_{run_n}")),
                ours_run,
            );
            row(
                &mut md,
                &format!("enter + run {run_n} zero-delay events, no-op `delayfunc`"),
                lookup(&lines, &format!("enter_run_nosleep_{run_n}")),
                ours_run,
            );
            row(
                &mut md,
                &format!("enter {cancel_n} events an hour ahead, cancel them all"),
                lookup(&lines, &format!("enter_cancel_{cancel_n}")),
                ours_cancel,
            );
            md.push('\n');
        }
    }

    md.push_str(
        "### `schedule` against Python's `schedule` and clokwerk\n\n\
         10,000 jobs (every 10 min, 30 min, 1 h, 2 h, 6 h, daily at 10:30), then a simulated day: \
         `run_pending` once per simulated minute (1,440 calls). Fake time in all three: a manual \
         `Clock` for clearloop, a `TimeProvider` for clokwerk, a patched `datetime.now` for Python.\n\n",
    );
    let ours = best_of(runs, schedule_day::clearloop_day);
    let clokwerk = best_of(runs, schedule_day::clokwerk_day);
    let runs_in_day = (schedule_day::clearloop_day(), schedule_day::clokwerk_day());
    let python_day = python(
        "schedule_python.py",
        &["--runs", &runs.to_string(), "--day-only"],
    );
    md.push_str("| scheduler | simulated day | runs in the day | its time / clearloop's |\n|---|---:|---:|---:|\n");
    let _ = writeln!(
        md,
        "| clearloop `schedule` | {} | {} | 1.0x |",
        crate::measure::human(ours),
        runs_in_day.0
    );
    let _ = writeln!(
        md,
        "| clokwerk | {} | {} | {:.1}x |",
        crate::measure::human(clokwerk),
        runs_in_day.1,
        clokwerk / ours
    );
    match python_day {
        Ok(lines) => match lookup(&lines, "day_10000") {
            Some(seconds) => {
                let _ = writeln!(
                    md,
                    "| Python `schedule` | {} | {} | {:.1}x |",
                    crate::measure::human(seconds),
                    lookup(&lines, "day_10000_runs").map_or("?".to_owned(), |r| r.to_string()),
                    seconds / ours
                );
            }
            None => md.push_str("| Python `schedule` | no figure in the script's output | | |\n"),
        },
        Err(why) => {
            let _ = writeln!(md, "| Python `schedule` | skipped: {why} | | |");
        }
    }
    md.push('\n');
    md
}
