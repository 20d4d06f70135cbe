//! What tracing costs: the same workloads on a runtime with tracing off (the default:
//! one predictable branch per hook) and on (`Builder::trace(TraceConfig::default())`:
//! every event recorded in memory). Run: `cargo bench -p clearloop-bench --bench trace`.
//!
//! The cost of tracing *off* against a build with no hooks at all cannot be measured in
//! one binary: it was measured with callgrind on two builds (one before the hooks
//! landed), +1.5 % instructions on spawn-and-await plus 200×1000 yields. This bench
//! keeps an eye on both modes from now on: "off" must stay within noise of the
//! `runtime` bench's clearloop rows, "on" says what a recorded run costs.

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};

use clearloop::trace::TraceConfig;
use clearloop::{Builder, Runtime};
use clearloop_bench::workloads;

fn traced() -> Runtime {
    Builder::new().trace(TraceConfig::default()).build()
}

/// Tracing off: one runtime for every iteration. Tracing on: a fresh runtime per
/// iteration (built outside the measurement), so the recorded events do not pile up
/// across criterion's thousands of iterations.
fn bench_both<F: std::future::Future>(c: &mut Criterion, group: &str, work: fn() -> F) {
    let mut group = c.benchmark_group(group);
    let untraced = Builder::new().build();
    group.bench_function("tracing off", |b| b.iter(|| untraced.block_on(work())));
    group.bench_function("tracing on", |b| {
        b.iter_batched(
            traced,
            |runtime| runtime.block_on(work()),
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

fn spawn_many(c: &mut Criterion) {
    bench_both(
        c,
        "trace/spawn_10k_and_await",
        workloads::clearloop_spawn_many,
    );
}

fn yield_many(c: &mut Criterion) {
    bench_both(c, "trace/yield_200x1000", workloads::clearloop_yield_many);
}

criterion_group!(benches, spawn_many, yield_many);
criterion_main!(benches);
