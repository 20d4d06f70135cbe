//! clearloop beside tokio's current-thread runtime, same workload, same criterion
//! group: read each pair as a ratio (clearloop time / tokio time; below 1.0 is
//! faster). Run: `cargo bench --bench runtime`, then `python3 benches/ratios.py`.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};

const SPAWNS: usize = 10_000;
const YIELD_TASKS: usize = 200;
const YIELDS: usize = 1_000;
const PING_PONGS: usize = 10_000;
const CHAIN: usize = 1_000;
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
        b.iter(|| {
            ours.block_on(async {
                let tasks: Vec<_> = (0..SPAWNS)
                    .map(|i| clearloop::spawn(async move { i }))
                    .collect();
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
            tokio.block_on(async {
                let tasks: Vec<_> = (0..SPAWNS)
                    .map(|i| tokio::spawn(async move { i }))
                    .collect();
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

fn yield_many(c: &mut Criterion) {
    let mut group = c.benchmark_group("yield_200x1000");
    let ours = clearloop::Runtime::new();
    group.bench_function("clearloop", |b| {
        b.iter(|| {
            ours.block_on(async {
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

fn ping_pong(c: &mut Criterion) {
    let mut group = c.benchmark_group("ping_pong_10k");
    let ours = clearloop::Runtime::new();
    group.bench_function("clearloop", |b| {
        b.iter(|| {
            ours.block_on(async {
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

fn spawn_chain(c: &mut Criterion) {
    let mut group = c.benchmark_group("chain_of_1000_spawns");
    let ours = clearloop::Runtime::new();
    group.bench_function("clearloop", |b| {
        b.iter(|| assert_eq!(ours.block_on(chain_ours(CHAIN)), CHAIN))
    });
    let tokio = tokio_rt();
    group.bench_function("tokio", |b| {
        b.iter(|| assert_eq!(tokio.block_on(chain_tokio(CHAIN)), CHAIN))
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
