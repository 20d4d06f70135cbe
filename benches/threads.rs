//! clearloop's multi-threaded runtime beside tokio's, both with 2 worker threads,
//! same workload, same criterion group (`mt_<workload>`, functions `clearloop` and
//! `tokio`). Run: `cargo bench --bench threads -- --warm-up-time 1
//! --measurement-time 3`, then `python3 benches/ratios.py` (below 1.0: clearloop
//! faster).

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use criterion::{Criterion, criterion_group, criterion_main};

const WORKERS: usize = 2;
const SPAWNS: usize = 10_000;
const YIELD_TASKS: usize = 200;
const YIELDS: usize = 1_000;
const PING_PONGS: usize = 10_000;
const CHAIN: usize = 1_000;

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
            runtime.block_on(async {
                clearloop::spawn(async {
                    let tasks: Vec<_> = (0..SPAWNS)
                        .map(|i| clearloop::spawn(async move { i }))
                        .collect();
                    let mut sum = 0;
                    for task in tasks {
                        sum += task.await;
                    }
                    sum
                })
                .await
            })
        })
    });
    let tokio = tokio_rt();
    group.bench_function("tokio", |b| {
        b.iter(|| {
            tokio.block_on(async {
                tokio::spawn(async {
                    let tasks: Vec<_> = (0..SPAWNS)
                        .map(|i| tokio::spawn(async move { i }))
                        .collect();
                    let mut sum = 0;
                    for task in tasks {
                        sum += task.await.unwrap();
                    }
                    sum
                })
                .await
                .unwrap()
            })
        })
    });
    group.finish();
}

fn yield_many(c: &mut Criterion) {
    let mut group = c.benchmark_group("mt_yield_200x1000");
    let runtime = ours();
    group.bench_function("clearloop", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let tasks: Vec<_> = (0..YIELD_TASKS)
                    .map(|_| {
                        clearloop::spawn(async {
                            for _ in 0..YIELDS {
                                clearloop::task::yield_now().await;
                            }
                        })
                    })
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
                let tasks: Vec<_> = (0..YIELD_TASKS)
                    .map(|_| {
                        tokio::spawn(async {
                            for _ in 0..YIELDS {
                                tokio::task::yield_now().await;
                            }
                        })
                    })
                    .collect();
                for task in tasks {
                    task.await.unwrap();
                }
            })
        })
    });
    group.finish();
}

/// Two players take turns: each waits for its turn, passes the baton, wakes the
/// other. Only wakers, no channel: the same code runs on both runtimes.
struct Baton {
    turn: AtomicUsize,
    waiting: Mutex<[Option<Waker>; 2]>,
}

struct MyTurn<'a> {
    baton: &'a Baton,
    player: usize,
    round: usize,
}

impl Future for MyTurn<'_> {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let wanted = self.round * 2 + self.player;
        if self.baton.turn.load(Ordering::Acquire) == wanted {
            return Poll::Ready(());
        }
        self.baton.waiting.lock().unwrap()[self.player] = Some(cx.waker().clone());
        if self.baton.turn.load(Ordering::Acquire) == wanted {
            return Poll::Ready(());
        }
        Poll::Pending
    }
}

async fn play(baton: Arc<Baton>, player: usize) {
    for round in 0..PING_PONGS {
        MyTurn {
            baton: &baton,
            player,
            round,
        }
        .await;
        baton.turn.fetch_add(1, Ordering::AcqRel);
        let other = baton.waiting.lock().unwrap()[1 - player].take();
        if let Some(waker) = other {
            waker.wake();
        }
    }
}

fn new_baton() -> Arc<Baton> {
    Arc::new(Baton {
        turn: AtomicUsize::new(0),
        waiting: Mutex::new([None, None]),
    })
}

/// Two tasks pass a baton 10,000 times each; with two workers, each wake-up may
/// cross to the other worker.
fn ping_pong(c: &mut Criterion) {
    let mut group = c.benchmark_group("mt_ping_pong_10k");
    let runtime = ours();
    group.bench_function("clearloop", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let baton = new_baton();
                let a = clearloop::spawn(play(baton.clone(), 0));
                let b = clearloop::spawn(play(baton, 1));
                a.await;
                b.await;
            })
        })
    });
    let tokio = tokio_rt();
    group.bench_function("tokio", |b| {
        b.iter(|| {
            tokio.block_on(async {
                let baton = new_baton();
                let a = tokio::spawn(play(baton.clone(), 0));
                let b = tokio::spawn(play(baton, 1));
                a.await.unwrap();
                b.await.unwrap();
            })
        })
    });
    group.finish();
}

fn chain_ours(left: usize) -> Pin<Box<dyn Future<Output = usize> + Send>> {
    Box::pin(async move {
        if left == 0 {
            0
        } else {
            clearloop::spawn(chain_ours(left - 1)).await + 1
        }
    })
}

fn chain_tokio(left: usize) -> Pin<Box<dyn Future<Output = usize> + Send>> {
    Box::pin(async move {
        if left == 0 {
            0
        } else {
            tokio::spawn(chain_tokio(left - 1)).await.unwrap() + 1
        }
    })
}

/// Each task spawns the next and awaits it: 1,000 deep.
fn chain(c: &mut Criterion) {
    let mut group = c.benchmark_group("mt_chain_1000");
    let runtime = ours();
    group.bench_function("clearloop", |b| {
        b.iter(|| runtime.block_on(chain_ours(CHAIN)))
    });
    let tokio = tokio_rt();
    group.bench_function("tokio", |b| b.iter(|| tokio.block_on(chain_tokio(CHAIN))));
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
