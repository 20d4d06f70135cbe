//! A measurement, not a lesson: how late does a sleep wake up?
//!
//! `asyncio.sleep(0.001)` asks for one millisecond; the loop can only promise "not
//! before". This example asks 1,000 times in a row for 1 ms, then 300 times for
//! 10 ms, and prints the lateness (actual − requested) at p50, p99 and max, for
//! clearloop, tokio's current-thread runtime and `std::thread::sleep`, in the same
//! run on the same machine.
//!
//! Run: `cargo run --release -p clearloop-bench --bin sleep_lateness`. clearloop parks for exactly
//! the time left before the deadline (its wheel counts in microseconds); tokio's
//! timer rounds deadlines up to the next millisecond.

use std::time::Duration;

use clearloop_bench::lateness::{self, percentile};

fn report(name: &str, requested: Duration, mut lateness: Vec<Duration>) {
    lateness.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "{name:<20} {:>4} x {:>5.1} ms   late by  p50 {:.3} ms   p99 {:.3} ms   max {:.3} ms",
        lateness.len(),
        ms(requested),
        ms(percentile(&lateness, 0.50)),
        ms(percentile(&lateness, 0.99)),
        ms(*lateness.last().unwrap()),
    );
}

fn tokio_sleeps(requested: Duration, count: usize) -> Vec<Duration> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    lateness::tokio(&runtime, requested, count)
}

fn main() {
    for (requested, count) in [
        (Duration::from_millis(1), 1_000),
        (Duration::from_millis(10), 300),
    ] {
        report(
            "clearloop",
            requested,
            lateness::clearloop(requested, count),
        );
        report("tokio", requested, tokio_sleeps(requested, count));
        report(
            "std::thread::sleep",
            requested,
            lateness::std(requested, count),
        );
    }
}
