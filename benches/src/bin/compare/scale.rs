//! Scale: many timers alive at once, many tasks sleeping on the virtual clock,
//! memory per task, and how late a sleep wakes.

use std::fmt::Write as _;
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::process::Command;
use std::sync::atomic::Ordering;
use std::task::Poll;
use std::time::{Duration, Instant};

use crate::measure::{self, Plan};
use crate::report::PlotPoint;
use crate::rows::{Drivers, tokio_rt};

/// A small deterministic generator (xorshift64*), so both runtimes get the same
/// "random" durations.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A duration in `[low, high)`, to the microsecond.
    fn duration(&mut self, low: Duration, high: Duration) -> Duration {
        let span = (high - low).as_micros() as u64;
        low + Duration::from_micros(self.next() % span)
    }
}

fn durations(n: usize, low: Duration, high: Duration) -> Vec<Duration> {
    let mut random = Random(0x9E37_79B9_7F4A_7C15);
    (0..n).map(|_| random.duration(low, high)).collect()
}

/// Registers every sleep (one poll each, all with this task's waker), then awaits
/// them in order: all `n` timers are in the wheel at once before the first fires.
async fn all_alive_then_fired<S: Future<Output = ()>>(mut sleeps: Vec<Pin<Box<S>>>) {
    poll_fn(|cx| {
        for sleep in sleeps.iter_mut() {
            let _ = sleep.as_mut().poll(cx);
        }
        Poll::Ready(())
    })
    .await;
    for sleep in sleeps {
        sleep.await;
    }
}

/// CPU nanoseconds per timer: `n` sleeps of 1 to 100 ms (real clock) created,
/// registered, all alive, then fired. The loop's thread does all the work on both
/// sides (current-thread runtimes), so its CPU time is the cost; the waiting is not.
fn timers_alive_clearloop(n: usize) -> f64 {
    let wanted = durations(n, Duration::from_millis(1), Duration::from_millis(100));
    let rt = clearloop::Runtime::new();
    rt.block_on(async {
        let start = measure::thread_cpu_time().unwrap_or_default();
        let sleeps: Vec<_> = wanted
            .iter()
            .map(|d| Box::pin(clearloop::time::sleep(*d)))
            .collect();
        all_alive_then_fired(sleeps).await;
        let used = measure::thread_cpu_time().unwrap_or_default() - start;
        used.as_nanos() as f64 / n as f64
    })
}

fn timers_alive_tokio(n: usize, drivers: Drivers) -> f64 {
    let wanted = durations(n, Duration::from_millis(1), Duration::from_millis(100));
    let rt = tokio_rt(0, drivers);
    // `unconstrained`: with its budget, tokio would answer "pending" without
    // registering after 128 polls in one task; the timers would not all be alive.
    rt.block_on(tokio::task::unconstrained(async {
        let start = measure::thread_cpu_time().unwrap_or_default();
        let sleeps: Vec<_> = wanted
            .iter()
            .map(|d| Box::pin(tokio::time::sleep(*d)))
            .collect();
        all_alive_then_fired(sleeps).await;
        let used = measure::thread_cpu_time().unwrap_or_default() - start;
        used.as_nanos() as f64 / n as f64
    }))
}

/// Seconds of wall time for `n` tasks that each sleep 1 s to 24 h on clearloop's
/// virtual clock (time jumps to each deadline: no waiting at all).
fn virtual_sleepers(n: usize) -> f64 {
    let wanted = durations(n, Duration::from_secs(1), Duration::from_secs(24 * 3600));
    let rt = clearloop::Builder::new()
        .clock(clearloop::clock::Clock::virtual_clock())
        .build();
    let start = Instant::now();
    rt.block_on(async {
        let tasks: Vec<_> = wanted
            .iter()
            .map(|d| clearloop::spawn(clearloop::time::sleep(*d)))
            .collect();
        for task in tasks {
            task.await;
        }
    });
    start.elapsed().as_secs_f64()
}

/// ns per timer (insert, then fire with one `advance`) and moves per timer, for `n`
/// timers alive at once in a fresh wheel of 1 µs ticks holding `Waker`s, as the
/// runtime's does.
fn wheel_alone(n: usize, low: Duration, high: Duration) -> (f64, f64) {
    let ticks: Vec<u64> = durations(n, low, high)
        .iter()
        .map(|d| d.as_micros() as u64)
        .collect();
    let end = high.as_micros() as u64;
    let mut wheel = clearloop::wheel::TimerWheel::new();
    let start = Instant::now();
    for tick in &ticks {
        wheel.insert(*tick, std::task::Waker::noop().clone());
    }
    let mut fired = 0usize;
    wheel.advance(end, |_, waker| {
        std::hint::black_box(waker);
        fired += 1;
    });
    let seconds = start.elapsed().as_secs_f64();
    assert_eq!(fired, n, "every timer fired");
    (seconds * 1e9 / n as f64, wheel.moves() as f64 / n as f64)
}

/// The timer wheel alone: `--only wheel` selects this table by itself.
pub fn wheel_table(plan: Plan) -> String {
    // A run is short (a million timers take about 0.2 s), so even `--quick` takes 3.
    let runs = if plan.quick { 3 } else { 7 };
    let mut md = String::new();
    let _ = write!(
        md,
        "### The timer wheel alone (clearloop only)\n\n\
         `clearloop::wheel::TimerWheel` with no runtime around it, ticks of 1 µs as the runtime \
         uses them: N timers holding a `Waker` (what the runtime stores) inserted with \
         pseudo-random deadlines into a fresh wheel, all alive at once, then one `advance` past \
         the last fires them all. *ns/timer* is insert + fire, wall time, median [min–max] of \
         {runs} runs; *moves/timer* is `TimerWheel::moves()` / N, how often a timer was refiled \
         from a coarse level to a finer one before firing (the same every run). tokio's wheel is \
         not public, so there is no tokio column. Rerun this table alone with \
         `cargo run --release -p clearloop-bench --bin compare -- --only wheel`.\n\n\
         | timers alive | deadlines 1–100 ms: ns/timer | moves/timer | deadlines 1 s–1 h: ns/timer | moves/timer |\n\
         |---:|---|---:|---|---:|\n"
    );
    let cell = |results: &[(f64, f64)]| {
        let times: Vec<f64> = results.iter().map(|r| r.0).collect();
        let (lo, mid, hi) = measure::min_median_max(&times);
        (format!("{mid:.0} [{lo:.0}–{hi:.0}]"), results[0].1)
    };
    for n in [1_000usize, 10_000, 100_000, 1_000_000] {
        // Alternate the two ranges, so a drift of the machine hits both.
        let (mut short, mut long) = (Vec::new(), Vec::new());
        for _ in 0..runs {
            short.push(wheel_alone(
                n,
                Duration::from_millis(1),
                Duration::from_millis(100),
            ));
            long.push(wheel_alone(
                n,
                Duration::from_secs(1),
                Duration::from_secs(3600),
            ));
        }
        let ((short_ns, short_moves), (long_ns, long_moves)) = (cell(&short), cell(&long));
        let _ = writeln!(
            md,
            "| {n} | {short_ns} | {short_moves:.2} | {long_ns} | {long_moves:.2} |"
        );
    }
    let _ = writeln!(
        md,
        "\nLoad average (1, 5, 15 min) after this table: {}.",
        measure::load_average()
    );
    md
}

/// Per-timer cost with many timers alive, and the virtual-clock sleepers.
pub fn timers(plan: Plan, plot: &mut Vec<PlotPoint>) -> String {
    let mut md = String::new();
    let runs = if plan.quick { 1 } else { 3 };
    md.push_str(
        "### Timers alive at once\n\n\
         N sleeps of 1 to 100 ms (the same pseudo-random durations on both sides, real clock) \
         are created and polled once, so all N are in the timer wheel together; then all fire. \
         The figure is the CPU time of the loop's thread divided by N (current-thread runtimes, \
         so that thread does all the work; the time spent parked is not counted). tokio runs \
         `unconstrained` here: with its cooperative budget it would stop registering after 128 \
         polls. Median of ",
    );
    let _ = write!(md, "{runs} run(s).\n\n");
    md.push_str("| timers alive | clearloop ns/timer | tokio `enable_all` ns/timer | ratio [min–max] | tokio time only ns/timer | ratio |\n|---:|---:|---:|---|---:|---:|\n");
    for n in [1_000usize, 10_000, 100_000, 1_000_000] {
        let (mut ours, mut theirs, mut time_only) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..runs {
            ours.push(timers_alive_clearloop(n));
            theirs.push(timers_alive_tokio(n, Drivers::All));
            time_only.push(timers_alive_tokio(n, Drivers::TimeOnly));
        }
        let ratios: Vec<f64> = ours.iter().zip(&theirs).map(|(a, b)| a / b).collect();
        let ratios_time: Vec<f64> = ours.iter().zip(&time_only).map(|(a, b)| a / b).collect();
        let (lo, mid, hi) = measure::min_median_max(&ratios);
        let _ = writeln!(
            md,
            "| {n} | {:.0} | {:.0} | {mid:.2} [{lo:.2}–{hi:.2}] | {:.0} | {:.2} |",
            measure::min_median_max(&ours).1,
            measure::min_median_max(&theirs).1,
            measure::min_median_max(&time_only).1,
            measure::min_median_max(&ratios_time).1,
        );
        plot.push(PlotPoint {
            label: format!("timers alive, {n}"),
            min: lo,
            median: mid,
            max: hi,
            instructions: None,
        });
    }

    md.push_str(
        "\nAt small N this figure is mostly wake-ups, not the wheel: N distinct deadlines spread \
         over 100 ms make clearloop (deadlines to the microsecond) park and wake up to N times, \
         tokio (deadlines rounded up to its millisecond tick) at most about 100 times. From \
         100,000 timers on, both wake about once per millisecond and the per-timer work shows.\n",
    );
    md.push('\n');
    md.push_str(&wheel_table(plan));
    md.push_str(
        "\n### Tasks sleeping on the virtual clock (clearloop only)\n\n\
         N tasks each sleep a pseudo-random 1 s to 24 h on `Clock::virtual_clock()`: the loop \
         jumps from deadline to deadline, so this is pure bookkeeping (spawn, timer, wake, \
         finish, await). tokio's paused clock needs its `test-util` feature, which changes \
         `tokio::time::Instant::now` for every other row, so it is not built here.\n\n\
         | tasks | wall time | per task |\n|---:|---:|---:|\n",
    );
    for n in [10_000usize, 100_000, 1_000_000] {
        let seconds = (0..runs)
            .map(|_| virtual_sleepers(n))
            .fold(f64::INFINITY, f64::min);
        let _ = writeln!(
            md,
            "| {n} | {} | {:.0} ns |",
            measure::human(seconds),
            seconds * 1e9 / n as f64
        );
    }
    md
}

// ---- memory ----

/// Runs in a child process (`--memory-child RUNTIME KIND N`): spawns `n` tasks that
/// are idle (`pending()`) or sleeping (one hour), each polled once, and prints
/// "heap_bytes rss_bytes" grown since before the first spawn.
pub fn memory_child(runtime: &str, kind: &str, n: usize) {
    let heap = || crate::REQUESTED.load(Ordering::Relaxed);
    crate::COUNTING.store(true, Ordering::Relaxed);
    let hour = Duration::from_secs(3600);
    let sleeping = kind == "sleeping";
    let (heap_grown, rss_grown);
    match runtime {
        "clearloop" => {
            let rt = clearloop::Runtime::new();
            let (heap0, rss0) = (heap(), measure::resident_bytes());
            rt.block_on(async {
                for _ in 0..n {
                    if sleeping {
                        drop(clearloop::spawn(clearloop::time::sleep(hour)));
                    } else {
                        drop(clearloop::spawn(std::future::pending::<()>()));
                    }
                }
                clearloop::task::yield_now().await;
            });
            assert_eq!(rt.live_tasks(), n, "every task is still alive");
            (heap_grown, rss_grown) = (heap() - heap0, measure::resident_bytes() - rss0);
        }
        _ => {
            let rt = tokio_rt(0, Drivers::All);
            let (heap0, rss0) = (heap(), measure::resident_bytes());
            rt.block_on(async {
                for _ in 0..n {
                    if sleeping {
                        drop(tokio::spawn(tokio::time::sleep(hour)));
                    } else {
                        drop(tokio::spawn(std::future::pending::<()>()));
                    }
                }
                tokio::task::yield_now().await;
            });
            assert_eq!(
                rt.metrics().num_alive_tasks(),
                n,
                "every task is still alive"
            );
            (heap_grown, rss_grown) = (heap() - heap0, measure::resident_bytes() - rss0);
        }
    }
    println!("{heap_grown} {rss_grown}");
}

fn memory_of(runtime: &str, kind: &str, n: usize) -> Result<(f64, f64), String> {
    let me = std::env::current_exe().map_err(|e| e.to_string())?;
    let output = Command::new(me)
        .args(["--memory-child", runtime, kind, &n.to_string()])
        .output()
        .map_err(|e| e.to_string())?;
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).trim().to_owned());
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let mut fields = text.split_whitespace().map(|f| f.parse::<f64>());
    match (fields.next(), fields.next()) {
        (Some(Ok(heap)), Some(Ok(rss))) => Ok((heap / n as f64, rss / n as f64)),
        _ => Err(format!("unexpected output: {text}")),
    }
}

/// Bytes per idle and per sleeping task.
pub fn memory() -> String {
    let mut md = String::from(
        "### Memory per task\n\n\
         Each figure comes from a fresh child process (so no runtime reuses the other's heap): \
         N tasks spawned, each polled once (idle: `pending()`; sleeping: a one-hour sleep, so \
         its timer is registered), handles dropped (detached). *Heap* is the bytes requested \
         from the allocator and not freed, counted by a counting global allocator, divided by N: \
         it includes the run queue and the timer wheel's share. *RSS* is the growth of the \
         resident set, divided by N: it adds the allocator's own rounding and alignment \
         (tokio aligns its task cell to 128 bytes).\n\n\
         | tasks | kind | clearloop heap B/task | tokio heap B/task | clearloop RSS B/task | tokio RSS B/task |\n\
         |---:|---|---:|---:|---:|---:|\n",
    );
    for n in [100_000usize, 1_000_000] {
        for kind in ["idle", "sleeping"] {
            let ours = memory_of("clearloop", kind, n);
            let theirs = memory_of("tokio", kind, n);
            let show = |r: &Result<(f64, f64), String>, heap: bool| match r {
                Ok((h, rss)) => format!("{:.0}", if heap { *h } else { *rss }),
                Err(e) => format!("failed: {e}"),
            };
            let _ = writeln!(
                md,
                "| {n} | {kind} | {} | {} | {} | {} |",
                show(&ours, true),
                show(&theirs, true),
                show(&ours, false),
                show(&theirs, false)
            );
        }
    }
    md
}

// ---- sleep lateness ----

use clearloop_bench::lateness::{self, percentile};

fn lateness_tokio(requested: Duration, count: usize, drivers: Drivers) -> Vec<Duration> {
    lateness::tokio(&tokio_rt(0, drivers), requested, count)
}

/// p50, p99 and max of how late a sleep wakes, with the load average beside it.
pub fn lateness(plan: Plan) -> String {
    let mut md = String::from(
        "### Sleep lateness\n\n\
         One task sleeps again and again on the real clock; lateness = actual − requested. \
         clearloop parks for exactly the time left (its wheel counts microseconds); tokio rounds \
         a deadline up to its next millisecond tick. The load average (1 min) is read just \
         before each line: on a loaded machine every figure grows.\n\n\
         | requested | sleeps | runtime | p50 | p99 | max | load avg |\n|---:|---:|---|---:|---:|---:|---:|\n",
    );
    let (short, long) = if plan.quick { (100, 20) } else { (1_000, 300) };
    for (requested, count) in [
        (Duration::from_millis(1), short),
        (Duration::from_millis(10), long),
    ] {
        type Sleeps = Box<dyn Fn() -> Vec<Duration>>;
        let sides: [(&str, Sleeps); 4] = [
            (
                "clearloop",
                Box::new(move || lateness::clearloop(requested, count)),
            ),
            (
                "tokio `enable_all`",
                Box::new(move || lateness_tokio(requested, count, Drivers::All)),
            ),
            (
                "tokio time only",
                Box::new(move || lateness_tokio(requested, count, Drivers::TimeOnly)),
            ),
            (
                "std::thread::sleep",
                Box::new(move || lateness::std(requested, count)),
            ),
        ];
        for (name, run) in sides {
            let load = measure::load_average();
            let mut late = run();
            late.sort();
            let ms = |d: Duration| d.as_secs_f64() * 1e3;
            let _ = writeln!(
                md,
                "| {} ms | {count} | {name} | {:.3} ms | {:.3} ms | {:.3} ms | {} |",
                requested.as_millis(),
                ms(percentile(&late, 0.5)),
                ms(percentile(&late, 0.99)),
                ms(*late.last().unwrap()),
                load.split(' ').next().unwrap_or("?"),
            );
        }
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wheel_alone_fires_every_timer_and_counts_its_moves() {
        // 1-100 ms at 1 µs per tick: levels 1 and 2, so between one and two moves
        // per timer on average (some fire straight from a cascade, with none).
        let (ns, moves) = wheel_alone(1_000, Duration::from_millis(1), Duration::from_millis(100));
        assert!(ns > 0.0);
        assert!((0.5..=2.0).contains(&moves), "{moves} moves per timer");
    }

    /// The wheel table by itself, until `compare --only wheel` selects it:
    /// `cargo test --release -p clearloop-bench --bin compare -- --ignored --nocapture wheel_table`.
    #[test]
    #[ignore = "timing; run in release mode with --nocapture"]
    fn wheel_table_alone() {
        let table = wheel_table(Plan::new(false));
        println!("{table}");
        let rows: Vec<&str> = table.lines().filter(|l| l.starts_with("| 1")).collect();
        assert_eq!(rows.len(), 4, "1k, 10k, 100k, 1M");
        for row in rows {
            assert_eq!(row.matches('[').count(), 2, "median [min–max] twice: {row}");
        }
    }

    /// clearloop's "timers alive" column by itself (no tokio), median [min–max] of
    /// 5 runs: `cargo test --release -p clearloop-bench --bin compare -- --ignored
    /// --nocapture timers_alive`.
    #[test]
    #[ignore = "timing; run in release mode with --nocapture"]
    fn timers_alive_clearloop_alone() {
        for n in [1_000usize, 10_000, 100_000, 1_000_000] {
            let runs: Vec<f64> = (0..5).map(|_| timers_alive_clearloop(n)).collect();
            let (lo, mid, hi) = measure::min_median_max(&runs);
            println!("timers alive {n}: {mid:.0} [{lo:.0}–{hi:.0}] ns/timer");
            assert!(lo > 0.0);
        }
    }
}
