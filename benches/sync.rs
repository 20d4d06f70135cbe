//! clearloop's sync primitives beside `tokio::sync`, each workload in one criterion
//! group with both sides, each side on its own runtime's current thread (tokio's
//! `new_current_thread`, clearloop's `Runtime`).
//!
//! Run (a shared, noisy machine: keep it short):
//! `cargo bench -p clearloop-bench --bench sync -- --warm-up-time 1 --measurement-time 3`
//!
//! * `lock_uncontended`: one task, `lock().await` then drop, many times.
//! * `lock_100x1000`: 100 tasks × 1,000 increments of one counter; each holds the
//!   lock across one `yield_now()`, so every unlock hands the lock to a waiter.
//! * `semaphore_1000_through_10`: 1,000 tasks through a semaphore of 10, each holding
//!   its permit across one `yield_now()`.
//! * `queue_1m_items`: 1,000,000 items from one producer task to one consumer task
//!   through a bounded queue of 1,024 (tokio: a bounded `mpsc` channel, its nearest
//!   equivalent to `asyncio.Queue`).
//!
//! The contended workloads include each runtime's task switching (`yield_now`,
//! wake-ups), not only the primitive.

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};

fn tokio_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a tokio current-thread runtime")
}

fn lock_uncontended(c: &mut Criterion) {
    let mut group = c.benchmark_group("lock_uncontended");
    let rt = tokio_rt();
    group.bench_function("tokio", |b| {
        let lock = tokio::sync::Mutex::new(0u64);
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    *lock.lock().await += 1;
                }
                start.elapsed()
            })
        })
    });
    let ours = clearloop::Runtime::new();
    group.bench_function("clearloop", |b| {
        let lock = clearloop::sync::Mutex::new(0u64);
        b.iter_custom(|iters| {
            ours.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    *lock.lock().await += 1;
                }
                start.elapsed()
            })
        })
    });
    group.finish();
}

const TASKS: u64 = 100;
const INCREMENTS: u64 = 1_000;

fn lock_contended(c: &mut Criterion) {
    let mut group = c.benchmark_group("lock_100x1000");
    group.sample_size(10);
    let rt = tokio_rt();
    group.bench_function("tokio", |b| {
        b.iter(|| {
            rt.block_on(async {
                let lock = Arc::new(tokio::sync::Mutex::new(0u64));
                let tasks: Vec<_> = (0..TASKS)
                    .map(|_| {
                        let lock = lock.clone();
                        tokio::spawn(async move {
                            for _ in 0..INCREMENTS {
                                let mut n = lock.lock().await;
                                tokio::task::yield_now().await;
                                *n += 1;
                            }
                        })
                    })
                    .collect();
                for task in tasks {
                    task.await.unwrap();
                }
                assert_eq!(*lock.lock().await, TASKS * INCREMENTS);
            })
        })
    });
    let ours = clearloop::Runtime::new();
    group.bench_function("clearloop", |b| {
        b.iter(|| {
            ours.block_on(async {
                let lock = Arc::new(clearloop::sync::Mutex::new(0u64));
                let tasks: Vec<_> = (0..TASKS)
                    .map(|_| {
                        let lock = lock.clone();
                        clearloop::spawn(async move {
                            for _ in 0..INCREMENTS {
                                let mut n = lock.lock().await;
                                clearloop::task::yield_now().await;
                                *n += 1;
                            }
                        })
                    })
                    .collect();
                for task in tasks {
                    task.await;
                }
                assert_eq!(*lock.lock().await, TASKS * INCREMENTS);
            })
        })
    });
    group.finish();
}

fn semaphore(c: &mut Criterion) {
    let mut group = c.benchmark_group("semaphore_1000_through_10");
    let rt = tokio_rt();
    group.bench_function("tokio", |b| {
        b.iter(|| {
            rt.block_on(async {
                let sem = Arc::new(tokio::sync::Semaphore::new(10));
                let tasks: Vec<_> = (0..1_000)
                    .map(|_| {
                        let sem = sem.clone();
                        tokio::spawn(async move {
                            let _permit = sem.acquire().await.unwrap();
                            tokio::task::yield_now().await;
                        })
                    })
                    .collect();
                for task in tasks {
                    task.await.unwrap();
                }
            })
        })
    });
    let ours = clearloop::Runtime::new();
    group.bench_function("clearloop", |b| {
        b.iter(|| {
            ours.block_on(async {
                let sem = Arc::new(clearloop::sync::Semaphore::new(10));
                let tasks: Vec<_> = (0..1_000)
                    .map(|_| {
                        let sem = sem.clone();
                        clearloop::spawn(async move {
                            let _permit = sem.acquire().await;
                            clearloop::task::yield_now().await;
                        })
                    })
                    .collect();
                for task in tasks {
                    task.await;
                }
            })
        })
    });
    group.finish();
}

const ITEMS: u64 = 1_000_000;
const CAPACITY: usize = 1_024;

fn queue(c: &mut Criterion) {
    let mut group = c.benchmark_group("queue_1m_items");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(3));
    let rt = tokio_rt();
    group.bench_function("tokio", |b| {
        b.iter(|| {
            rt.block_on(async {
                let (tx, mut rx) = tokio::sync::mpsc::channel::<u64>(CAPACITY);
                let producer = tokio::spawn(async move {
                    for i in 0..ITEMS {
                        tx.send(i).await.unwrap();
                    }
                });
                let consumer = tokio::spawn(async move {
                    let mut sum = 0;
                    for _ in 0..ITEMS {
                        sum += rx.recv().await.unwrap();
                    }
                    sum
                });
                producer.await.unwrap();
                assert_eq!(consumer.await.unwrap(), ITEMS * (ITEMS - 1) / 2);
            })
        })
    });
    let ours = clearloop::Runtime::new();
    group.bench_function("clearloop", |b| {
        b.iter(|| {
            ours.block_on(async {
                let queue = Arc::new(clearloop::sync::Queue::<u64>::new(CAPACITY));
                let producer = {
                    let queue = queue.clone();
                    clearloop::spawn(async move {
                        for i in 0..ITEMS {
                            queue.put(i).await;
                        }
                    })
                };
                let consumer = {
                    let queue = queue.clone();
                    clearloop::spawn(async move {
                        let mut sum = 0;
                        for _ in 0..ITEMS {
                            sum += queue.get().await;
                        }
                        sum
                    })
                };
                producer.await;
                assert_eq!(consumer.await, ITEMS * (ITEMS - 1) / 2);
            })
        })
    });
    group.finish();
}

criterion_group!(benches, lock_uncontended, lock_contended, semaphore, queue);
criterion_main!(benches);
