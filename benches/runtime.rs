//! clearloop beside tokio's current-thread runtime, same workload, same criterion
//! group: read each pair as a ratio (clearloop time / tokio time; below 1.0 is
//! faster). Run: `cargo bench -p clearloop-bench --bench runtime`, then `python3 benches/ratios.py`.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Waker};
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};

use clearloop_bench::workloads;

use workloads::CHAIN;
const SLEEPS: usize = 10_000;

fn tokio_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap()
}

fn spawn_many(c: &mut Criterion) {
    let mut group = c.benchmark_group("spawn_10k_and_await");
    let ours = clearloop::Runtime::new();
    group.bench_function("clearloop", |b| {
        b.iter(|| ours.block_on(workloads::clearloop_spawn_many()))
    });
    let tokio = tokio_rt();
    group.bench_function("tokio", |b| {
        b.iter(|| tokio.block_on(workloads::tokio_spawn_many()))
    });
    group.finish();
}

fn yield_many(c: &mut Criterion) {
    let mut group = c.benchmark_group("yield_200x1000");
    let ours = clearloop::Runtime::new();
    group.bench_function("clearloop", |b| {
        b.iter(|| ours.block_on(workloads::clearloop_yield_many()))
    });
    let tokio = tokio_rt();
    group.bench_function("tokio", |b| {
        b.iter(|| tokio.block_on(workloads::tokio_yield_many()))
    });
    group.finish();
}

fn ping_pong(c: &mut Criterion) {
    let mut group = c.benchmark_group("ping_pong_10k");
    let ours = clearloop::Runtime::new();
    group.bench_function("clearloop", |b| {
        b.iter(|| ours.block_on(workloads::clearloop_ping_pong()))
    });
    let tokio = tokio_rt();
    group.bench_function("tokio", |b| {
        b.iter(|| tokio.block_on(workloads::tokio_ping_pong()))
    });
    group.finish();
}

fn spawn_chain(c: &mut Criterion) {
    let mut group = c.benchmark_group("chain_of_1000_spawns");
    let ours = clearloop::Runtime::new();
    group.bench_function("clearloop", |b| {
        b.iter(|| assert_eq!(ours.block_on(workloads::clearloop_chain(CHAIN)), CHAIN))
    });
    let tokio = tokio_rt();
    group.bench_function("tokio", |b| {
        b.iter(|| assert_eq!(tokio.block_on(workloads::tokio_chain(CHAIN)), CHAIN))
    });
    group.finish();
}

/// Polls a future once, so that a sleep really registers its timer.
fn poll_once<F: Future>(future: Pin<&mut F>, cx: &mut Context<'_>) {
    assert!(future.poll(cx).is_pending());
}

fn sleeps_created_and_dropped(c: &mut Criterion) {
    let mut group = c.benchmark_group("sleep_10k_insert_cancel");
    let ours = clearloop::Runtime::new();
    group.bench_function("clearloop", |b| {
        b.iter(|| {
            ours.block_on(async {
                let mut cx = Context::from_waker(Waker::noop());
                for i in 0..SLEEPS {
                    let sleep = clearloop::time::sleep(Duration::from_millis(1 + i as u64 % 5_000));
                    let mut sleep = std::pin::pin!(sleep);
                    poll_once(sleep.as_mut(), &mut cx);
                }
            })
        })
    });
    let tokio = tokio_rt();
    group.bench_function("tokio", |b| {
        b.iter(|| {
            // Without `unconstrained`, tokio's cooperative budget would make the
            // sleeps stop registering after 128 polls in one task.
            tokio.block_on(tokio::task::unconstrained(async {
                let mut cx = Context::from_waker(Waker::noop());
                for i in 0..SLEEPS {
                    let sleep = tokio::time::sleep(Duration::from_millis(1 + i as u64 % 5_000));
                    let mut sleep = std::pin::pin!(sleep);
                    poll_once(sleep.as_mut(), &mut cx);
                }
            }))
        })
    });
    group.finish();
}

fn many_sleepers(c: &mut Criterion) {
    let mut group = c.benchmark_group("10k_tasks_sleep_1ms");
    group.sample_size(20);
    let ours = clearloop::Runtime::new();
    group.bench_function("clearloop", |b| {
        b.iter(|| {
            ours.block_on(async {
                let tasks: Vec<_> = (0..SLEEPS)
                    .map(|_| clearloop::spawn(clearloop::time::sleep(Duration::from_millis(1))))
                    .collect();
                for task in tasks {
                    task.await;
                }
            })
        })
    });
    let tokio = tokio_rt();
    group.bench_function("tokio", |b| {
        b.iter(|| {
            tokio.block_on(async {
                let tasks: Vec<_> = (0..SLEEPS)
                    .map(|_| tokio::spawn(tokio::time::sleep(Duration::from_millis(1))))
                    .collect();
                for task in tasks {
                    task.await.unwrap();
                }
            })
        })
    });
    group.finish();
}

criterion_group!(
    benches,
    spawn_many,
    yield_many,
    ping_pong,
    spawn_chain,
    sleeps_created_and_dropped,
    many_sleepers
);
criterion_main!(benches);
