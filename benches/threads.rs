//! clearloop's multi-threaded runtime beside tokio's, both with 2 worker threads,
//! same workload, same criterion group (`mt_<workload>`, functions `clearloop` and
//! `tokio`). Run: `cargo bench -p clearloop-bench --bench threads -- --warm-up-time 1
//! --measurement-time 3`, then `python3 benches/ratios.py` (below 1.0: clearloop
//! faster).

use criterion::{Criterion, criterion_group, criterion_main};

const WORKERS: usize = 2;
use clearloop_bench::workloads;

use workloads::{CHAIN, SPAWNS};

fn ours() -> clearloop::Runtime {
    clearloop::Builder::new().worker_threads(WORKERS).build()
}

fn tokio_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKERS)
        .build()
        .unwrap()
}

/// 10,000 tasks spawned by a thread that is not a worker, then awaited.
fn spawn_outside(c: &mut Criterion) {
    let mut group = c.benchmark_group("mt_spawn_10k_outside");
    let runtime = ours();
    group.bench_function("clearloop", |b| {
        b.iter(|| {
            let tasks: Vec<_> = (0..SPAWNS)
                .map(|i| runtime.spawn(async move { i }))
                .collect();
            runtime.block_on(async {
                let mut sum = 0;
                for task in tasks {
                    sum += task.await;
                }
                sum
            })
        })
    });
    let tokio = tokio_rt();
    group.bench_function("tokio", |b| {
        b.iter(|| {
            let tasks: Vec<_> = (0..SPAWNS).map(|i| tokio.spawn(async move { i })).collect();
            tokio.block_on(async {
                let mut sum = 0;
                for task in tasks {
                    sum += task.await.unwrap();
                }
                sum
            })
        })
    });
    group.finish();
}

/// One task, on a worker, spawns 10,000 and awaits them.
fn spawn_inside(c: &mut Criterion) {
    let mut group = c.benchmark_group("mt_spawn_10k_inside");
    let runtime = ours();
    group.bench_function("clearloop", |b| {
        b.iter(|| {
            runtime.block_on(async { clearloop::spawn(workloads::clearloop_spawn_many()).await })
        })
    });
    let tokio = tokio_rt();
    group.bench_function("tokio", |b| {
        b.iter(|| {
            tokio.block_on(async { tokio::spawn(workloads::tokio_spawn_many()).await.unwrap() })
        })
    });
    group.finish();
}

fn yield_many(c: &mut Criterion) {
    let mut group = c.benchmark_group("mt_yield_200x1000");
    let runtime = ours();
    group.bench_function("clearloop", |b| {
        b.iter(|| runtime.block_on(workloads::clearloop_yield_many()))
    });
    let tokio = tokio_rt();
    group.bench_function("tokio", |b| {
        b.iter(|| tokio.block_on(workloads::tokio_yield_many()))
    });
    group.finish();
}

/// Two tasks pass a baton 10,000 times each; with two workers, each wake-up may
/// cross to the other worker.
fn ping_pong(c: &mut Criterion) {
    let mut group = c.benchmark_group("mt_ping_pong_10k");
    let runtime = ours();
    group.bench_function("clearloop", |b| {
        b.iter(|| runtime.block_on(workloads::clearloop_ping_pong()))
    });
    let tokio = tokio_rt();
    group.bench_function("tokio", |b| {
        b.iter(|| tokio.block_on(workloads::tokio_ping_pong()))
    });
    group.finish();
}

/// Each task spawns the next and awaits it: 1,000 deep.
fn chain(c: &mut Criterion) {
    let mut group = c.benchmark_group("mt_chain_1000");
    let runtime = ours();
    group.bench_function("clearloop", |b| {
        b.iter(|| runtime.block_on(workloads::clearloop_chain(CHAIN)))
    });
    let tokio = tokio_rt();
    group.bench_function("tokio", |b| {
        b.iter(|| tokio.block_on(workloads::tokio_chain(CHAIN)))
    });
    group.finish();
}

criterion_group!(
    benches,
    spawn_outside,
    spawn_inside,
    yield_many,
    ping_pong,
    chain
);
criterion_main!(benches);
