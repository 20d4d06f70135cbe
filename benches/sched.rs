//! Benchmarks of `clearloop::sched`, and the same workloads in CPython's `sched`.
//!
//! ```text
//! cargo bench -p clearloop-bench --bench sched -- --warm-up-time 1 --measurement-time 3
//! ```
//!
//! * `enter_run/100000`: enter 100,000 zero-delay events, then `run(true)`.
//! * `enter_cancel/{10000,100000}`: enter n events an hour ahead, then cancel them
//!   all in the order entered.
//! * `structures/*`: the measurement behind the `BTreeMap` choice (see the `sched`
//!   module doc): a `BTreeMap` keyed by (time, priority, sequence) against a
//!   `BinaryHeap` with lazy deletion, on the bare data structures.
//!
//! After criterion, when run by `cargo bench` (not `cargo test`), it prints the
//! memory per pending event (1,000,000 events, from the process's resident size on
//! Linux) and runs `benches/sched_cpython.py` through `python3` to print the ratios,
//! from a best-of-5 timing of ours. Without `python3`, or with
//! `CLEARLOOP_SKIP_CPYTHON=1`, it says so and skips that part.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashSet};
use std::hint::black_box;
use std::process::Command;
use std::time::{Duration, Instant};

use clearloop::clock::Clock;
use clearloop::sched::Scheduler;
use criterion::{BenchmarkId, Criterion};

const N: usize = 100_000;
const HOUR: Duration = Duration::from_secs(3600);

fn enter_run(n: usize) {
    let s = Scheduler::with_clock(Clock::real());
    for _ in 0..n {
        s.enter(Duration::ZERO, 1, || {});
    }
    s.run(true).unwrap();
}

fn enter_cancel(n: usize) {
    let s = Scheduler::with_clock(Clock::real());
    let events: Vec<_> = (0..n).map(|_| s.enter(HOUR, 1, || {})).collect();
    for event in &events {
        s.cancel(event).unwrap();
    }
}

fn bench_sched(c: &mut Criterion) {
    let mut group = c.benchmark_group("enter_run");
    group.sample_size(10);
    group.bench_function(BenchmarkId::from_parameter(N), |b| b.iter(|| enter_run(N)));
    group.finish();

    let mut group = c.benchmark_group("enter_cancel");
    group.sample_size(10);
    for n in [10_000, N] {
        group.bench_function(BenchmarkId::from_parameter(n), |b| {
            b.iter(|| enter_cancel(n))
        });
    }
    group.finish();
}

/// The two candidate queues, bare: key (time, priority, sequence), value a boxed action.
fn bench_structures(c: &mut Criterion) {
    type Key = (Instant, i32, u64);
    type Action = Box<dyn FnOnce() + Send>;
    let t0 = Instant::now();
    let later = t0 + HOUR;
    let mut group = c.benchmark_group("structures");
    group.sample_size(10);
    group.bench_function("btree_fill_drain", |b| {
        b.iter(|| {
            let mut map: BTreeMap<Key, Action> = BTreeMap::new();
            for i in 0..N as u64 {
                map.insert((t0, 1, i), Box::new(|| {}));
            }
            while let Some((_, action)) = map.pop_first() {
                action();
            }
        })
    });
    group.bench_function("heap_fill_drain", |b| {
        b.iter(|| {
            let mut heap: BinaryHeap<Reverse<(Key, usize)>> = BinaryHeap::new();
            let mut actions: Vec<Option<Action>> = Vec::new();
            for i in 0..N as u64 {
                heap.push(Reverse(((t0, 1, i), actions.len())));
                actions.push(Some(Box::new(|| {})));
            }
            while let Some(Reverse((_, slot))) = heap.pop() {
                (actions[slot].take().unwrap())();
            }
        })
    });
    group.bench_function("btree_fill_cancel", |b| {
        b.iter(|| {
            let mut map: BTreeMap<Key, Action> = BTreeMap::new();
            for i in 0..N as u64 {
                map.insert((later, 1, i), Box::new(|| {}));
            }
            for i in 0..N as u64 {
                black_box(map.remove(&(later, 1, i)));
            }
        })
    });
    group.bench_function("heap_fill_lazy_cancel", |b| {
        b.iter(|| {
            // Cancelling only forgets the sequence; the entry stays in the heap.
            let mut heap: BinaryHeap<Reverse<(Key, usize)>> = BinaryHeap::new();
            let mut actions: Vec<Option<Action>> = Vec::new();
            let mut live: HashSet<u64> = HashSet::new();
            for i in 0..N as u64 {
                heap.push(Reverse(((later, 1, i), actions.len())));
                actions.push(Some(Box::new(|| {})));
                live.insert(i);
            }
            for i in 0..N as u64 {
                black_box(live.remove(&i));
            }
            black_box(heap.len());
        })
    });
    group.finish();
}

/// Resident memory of this process, in bytes, from `/proc/self/status` (Linux only).
fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

fn memory_per_event() -> Option<f64> {
    const EVENTS: usize = 1_000_000;
    let before = resident_bytes()?;
    let s = Scheduler::with_clock(Clock::real());
    let events: Vec<_> = (0..EVENTS).map(|_| s.enter(HOUR, 1, || {})).collect();
    // The returned handles are the caller's; count only what the scheduler holds.
    drop(events);
    let after = resident_bytes()?;
    black_box(&s);
    Some((after.saturating_sub(before)) as f64 / EVENTS as f64)
}

/// Best of `runs` timings: the run the noisy machine disturbed least.
fn best_of(runs: usize, mut work: impl FnMut()) -> f64 {
    (0..runs)
        .map(|_| {
            let start = Instant::now();
            work();
            start.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

fn compare_with_cpython() {
    if std::env::var_os("CLEARLOOP_SKIP_CPYTHON").is_some() {
        println!("CPython comparison skipped: CLEARLOOP_SKIP_CPYTHON is set");
        return;
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/sched_cpython.py");
    println!("running python3 {script} --runs 1 (about 20 s)...");
    let output = match Command::new("python3")
        .args([script, "--runs", "1"])
        .output()
    {
        Ok(output) if output.status.success() => output,
        Ok(output) => {
            println!(
                "CPython comparison skipped: python3 failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            return;
        }
        Err(error) => {
            println!("CPython comparison skipped: python3 not found ({error})");
            return;
        }
    };
    let text = String::from_utf8_lossy(&output.stdout);
    let python = |name: &str| -> Option<f64> {
        text.lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
    };
    let ours = [
        ("enter_run_100000", best_of(5, || enter_run(N))),
        ("enter_cancel_10000", best_of(5, || enter_cancel(10_000))),
        ("enter_cancel_100000", best_of(5, || enter_cancel(N))),
    ];
    println!(
        "\n{:<34} {:>12} {:>12} {:>10}",
        "workload", "CPython s", "clearloop s", "ratio"
    );
    let row = |label: &str, theirs: Option<f64>, ours: f64| match theirs {
        Some(theirs) => println!(
            "{label:<34} {theirs:>12.4} {ours:>12.6} {:>9.0}x",
            theirs / ours
        ),
        None => println!("{label:<34} {:>12} {ours:>12.6}", "n/a"),
    };
    row("enter+run 100,000", python("enter_run_100000"), ours[0].1);
    row(
        "  (CPython without sleep(0))",
        python("enter_run_nosleep_100000"),
        ours[0].1,
    );
    row(
        "enter+cancel 10,000",
        python("enter_cancel_10000"),
        ours[1].1,
    );
    row(
        "enter+cancel 100,000 (CPython n^2 est.)",
        python("enter_cancel_100000_extrapolated"),
        ours[2].1,
    );
    if let Some(bytes) = python("bytes_per_event") {
        println!("CPython bytes per pending event (tracemalloc): {bytes:.0}");
    }
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    bench_sched(&mut criterion);
    bench_structures(&mut criterion);
    criterion.final_summary();

    // `cargo bench` passes --bench; `cargo test --benches` does not: keep that quick.
    if !std::env::args().any(|arg| arg == "--bench") {
        return;
    }
    match memory_per_event() {
        Some(bytes) => {
            println!("clearloop bytes per pending event (1,000,000, resident size): {bytes:.0}")
        }
        None => println!("memory per event skipped: /proc/self/status not readable"),
    }
    compare_with_cpython();
}
