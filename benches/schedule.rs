//! Benchmarks of `clearloop::schedule`, beside `clokwerk` (the Rust peer) and
//! Python's `schedule` (through `benches/schedule_python.py`).
//!
//! ```text
//! cargo bench -p clearloop-bench --bench schedule -- --warm-up-time 1 --measurement-time 3
//! ```
//!
//! * `day_10000/{clearloop,clokwerk}`: 10,000 jobs with mixed intervals (10 min,
//!   30 min, 1 h, 2 h, 6 h, daily at 10:30), then a simulated day, `run_pending`
//!   once per simulated minute (1,440 calls, about 388,000 runs). Fake time in all
//!   three: a manual `Clock` for us, a `TimeProvider` reading a static for
//!   clokwerk, a patched `datetime.now` for Python.
//! * `idle_run_pending/{1000,10000,100000}`: one `run_pending` when no job is due.
//!   Ours looks at the first job of the order and stops, so it must not grow with
//!   the number of jobs; clokwerk and Python look at every job.
//!
//! After criterion, when run by `cargo bench`, it runs the Python script through
//! `python3` and prints the ratios from a best-of-3 timing of each. Without
//! `python3` or the `schedule` package, or with `CLEARLOOP_SKIP_PYTHON=1`, it says
//! so and skips that part.

use std::hint::black_box;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use clearloop_bench::schedule_day::{
    clearloop_day, clearloop_with_jobs, clokwerk_day, clokwerk_with_jobs,
};
use criterion::{BenchmarkId, Criterion};

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("day_10000");
    group.sample_size(10);
    group.bench_function("clearloop", |b| b.iter(|| black_box(clearloop_day())));
    group.bench_function("clokwerk", |b| b.iter(|| black_box(clokwerk_day())));
    group.finish();

    let mut group = c.benchmark_group("idle_run_pending");
    for n in [1_000, 10_000, 100_000] {
        let counter = Arc::new(AtomicUsize::new(0));
        let (_clock, s) = clearloop_with_jobs(n, &counter);
        group.bench_with_input(BenchmarkId::new("clearloop", n), &n, |b, _| {
            b.iter(|| s.run_pending())
        });
        let mut k = clokwerk_with_jobs(n, &counter);
        group.bench_with_input(BenchmarkId::new("clokwerk", n), &n, |b, _| {
            b.iter(|| k.run_pending())
        });
        assert_eq!(counter.load(Ordering::Relaxed), 0, "nothing was due");
    }
    group.finish();
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

/// Seconds per `run_pending` with `n` jobs, none due (mean of many calls).
fn idle_per_call(n: usize) -> f64 {
    let counter = Arc::new(AtomicUsize::new(0));
    let (_clock, s) = clearloop_with_jobs(n, &counter);
    let calls = 100_000;
    let start = Instant::now();
    for _ in 0..calls {
        s.run_pending();
    }
    start.elapsed().as_secs_f64() / f64::from(calls)
}

fn compare_with_python() {
    if std::env::var_os("CLEARLOOP_SKIP_PYTHON").is_some() {
        println!("Python comparison skipped: CLEARLOOP_SKIP_PYTHON is set");
        return;
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/schedule_python.py");
    println!("running python3 {script} (about 10 s)...");
    let output = match Command::new("python3").arg(script).output() {
        Ok(output) if output.status.success() => output,
        Ok(output) => {
            println!(
                "Python comparison skipped: python3 failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            return;
        }
        Err(error) => {
            println!("Python comparison skipped: python3 not found ({error})");
            return;
        }
    };
    let text = String::from_utf8_lossy(&output.stdout);
    if let Some(reason) = text.lines().find_map(|l| l.strip_prefix("skip: ")) {
        println!("Python comparison skipped: {reason}");
        return;
    }
    let python = |name: &str| -> Option<f64> {
        text.lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
    };
    let runs = (clearloop_day(), clokwerk_day());
    println!(
        "runs in the day: clearloop {}, clokwerk {}, Python {}",
        runs.0,
        runs.1,
        python("day_10000_runs").map_or("n/a".to_owned(), |r| r.to_string())
    );
    let ours = best_of(3, clearloop_day);
    let clokwerk = best_of(3, clokwerk_day);
    println!(
        "\n{:<32} {:>12} {:>12} {:>12} {:>12} {:>11}",
        "workload", "Python s", "clokwerk s", "clearloop s", "vs Python", "vs clokwerk"
    );
    let row = |label: &str, theirs: Option<f64>, clokwerk: Option<f64>, ours: f64| {
        let show = |v: Option<f64>| v.map_or("n/a".to_owned(), |v| format!("{v:.6}"));
        let ratio = |v: Option<f64>| v.map_or("n/a".to_owned(), |v| format!("{:.2}x", v / ours));
        println!(
            "{label:<32} {:>12} {:>12} {ours:>12.9} {:>12} {:>11}",
            show(theirs),
            show(clokwerk),
            ratio(theirs),
            ratio(clokwerk)
        );
    };
    row(
        "day, 10,000 jobs",
        python("day_10000"),
        Some(clokwerk),
        ours,
    );
    for n in [1_000usize, 10_000, 100_000] {
        let counter = Arc::new(AtomicUsize::new(0));
        let mut k = clokwerk_with_jobs(n, &counter);
        let calls = 1_000;
        let start = Instant::now();
        for _ in 0..calls {
            k.run_pending();
        }
        let clokwerk = start.elapsed().as_secs_f64() / f64::from(calls);
        row(
            &format!("idle run_pending, {n} jobs"),
            python(&format!("idle_{n}")),
            Some(clokwerk),
            idle_per_call(n),
        );
    }
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    bench(&mut criterion);
    criterion.final_summary();
    // `cargo bench` passes --bench; `cargo test --benches` does not: keep that quick.
    if !std::env::args().any(|arg| arg == "--bench") {
        return;
    }
    compare_with_python();
}
