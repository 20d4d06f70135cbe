//! Tasks together, clearloop beside tokio (current-thread runtimes, same group):
//! `gather` of 10,000 ready futures against tokio's `JoinSet`, and 10,000 timeouts
//! that never fire (each inner future is pending once, so the timer is really
//! armed, then finishes: the timer is removed). Run: `cargo bench -p clearloop-bench --bench
//! together`, then `python3 benches/ratios.py`.

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};

const N: usize = 10_000;

fn tokio_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap()
}

fn gather_ready(c: &mut Criterion) {
    let mut group = c.benchmark_group("gather_10k_ready");
    let ours = clearloop::Runtime::new();
    group.bench_function("clearloop", |b| {
        b.iter(|| {
            ours.block_on(async {
                let values = clearloop::gather((0..N).map(|i| async move { i })).await;
                values.into_iter().sum::<usize>()
            })
        })
    });
    let tokio = tokio_rt();
    group.bench_function("tokio", |b| {
        b.iter(|| {
            tokio.block_on(async {
                let mut set = tokio::task::JoinSet::new();
                for i in 0..N {
                    set.spawn(async move { i });
                }
                let mut sum = 0;
                while let Some(value) = set.join_next().await {
                    sum += value.unwrap();
                }
                sum
            })
        })
    });
    group.finish();
}

fn timeouts_that_never_fire(c: &mut Criterion) {
    let mut group = c.benchmark_group("timeout_10k_never_fires");
    let ours = clearloop::Runtime::new();
    group.bench_function("clearloop", |b| {
        b.iter(|| {
            ours.block_on(async {
                for _ in 0..N {
                    let inner = clearloop::task::yield_now();
                    clearloop::timeout(Duration::from_secs(1), inner)
                        .await
                        .unwrap();
                }
            })
        })
    });
    let tokio = tokio_rt();
    group.bench_function("tokio", |b| {
        b.iter(|| {
            tokio.block_on(tokio::task::unconstrained(async {
                for _ in 0..N {
                    let inner = tokio::task::yield_now();
                    tokio::time::timeout(Duration::from_secs(1), inner)
                        .await
                        .unwrap();
                }
            }))
        })
    });
    group.finish();
}

criterion_group!(benches, gather_ready, timeouts_that_never_fire);
criterion_main!(benches);
