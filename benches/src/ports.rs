//! tokio's own benchmark workloads, written again for both runtimes.
//!
//! The shapes (how many tasks, how many items, which primitive, which runtime
//! flavour) are those of the files in tokio's `benches/` directory:
//! `rt_current_thread.rs`, `rt_multi_threaded.rs`, `sync_rwlock.rs` (tokio has no
//! `sync_mutex.rs`: its lock benchmarks are these, run here on a `Mutex`),
//! `sync_semaphore.rs`, `sync_mpsc.rs` and `time_timeout.rs`. The code is ours.
//! Where the two runtimes differ, each side uses what its users would write:
//!
//! * tokio's `oneshot` channel: clearloop has none, its side uses `sync::Event`
//!   (`asyncio.Event`), set once and awaited once.
//! * tokio's `mpsc` channel: clearloop's side uses `sync::Queue` (`asyncio.Queue`);
//!   `Queue::new(0)` is the unbounded one.
//! * `tokio::join!` polls its futures in place; clearloop's `gather!` spawns them,
//!   so its side uses [`join_in_place`] (below) to keep the same shape.
//! * tokio runs these with 4, 6 or 8 worker threads; this machine has 2 cores, so
//!   both sides use [`WORKERS`].

use std::future::{Future, poll_fn};
use std::hint::black_box;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::mpsc;
use std::task::Poll;
use std::time::Duration;

/// Worker threads of every multi-threaded runtime here (tokio's files use 4 to 8).
pub const WORKERS: usize = 2;

/// Polls every future in place until all are done: `tokio::join!` for a slice of
/// futures of one output type, without spawning and without allocating.
pub async fn join_in_place(futures: &mut [Pin<&mut dyn Future<Output = ()>>]) {
    assert!(futures.len() <= 64, "join_in_place: at most 64 futures");
    let mut done = 0u64;
    poll_fn(|cx| {
        let mut all = true;
        for (i, future) in futures.iter_mut().enumerate() {
            if done & (1 << i) != 0 {
                continue;
            }
            if future.as_mut().poll(cx).is_ready() {
                done |= 1 << i;
            } else {
                all = false;
            }
        }
        if all { Poll::Ready(()) } else { Poll::Pending }
    })
    .await
}

// ---- rt_current_thread.rs ----

/// Tasks spawned per iteration in `rt_current_thread.rs`.
pub const NUM_SPAWN: usize = 1_000;

/// `spawn_many_local`: spawn 1,000 empty tasks from inside, await them all.
pub async fn clearloop_spawn_many_local() {
    let handles: Vec<_> = (0..NUM_SPAWN).map(|_| clearloop::spawn(async {})).collect();
    for handle in handles {
        handle.await;
    }
}

/// `spawn_many_local`, tokio's side.
pub async fn tokio_spawn_many_local() {
    let handles: Vec<_> = (0..NUM_SPAWN).map(|_| tokio::spawn(async {})).collect();
    for handle in handles {
        handle.await.unwrap();
    }
}

/// `spawn_many_remote_*`: spawn 1,000 empty tasks from outside the runtime, then
/// await them in `block_on`.
pub fn clearloop_spawn_many_remote(rt: &clearloop::Runtime) {
    let handles: Vec<_> = (0..NUM_SPAWN).map(|_| rt.spawn(async {})).collect();
    rt.block_on(async {
        for handle in handles {
            handle.await;
        }
    });
}

/// `spawn_many_remote_*`, tokio's side.
pub fn tokio_spawn_many_remote(rt: &tokio::runtime::Runtime) {
    let handles: Vec<_> = (0..NUM_SPAWN).map(|_| rt.spawn(async {})).collect();
    rt.block_on(async {
        for handle in handles {
            handle.await.unwrap();
        }
    });
}

/// `spawn_many_remote_busy`'s background: a task that spawns its successor and
/// ends, forever, so the run queue is never empty.
pub fn clearloop_busy() {
    drop(clearloop::spawn(async { clearloop_busy() }));
}

/// The busy background, tokio's side.
pub fn tokio_busy() {
    drop(tokio::spawn(async { tokio_busy() }));
}

// ---- rt_multi_threaded.rs ----

/// `spawn_many`: 10,000 tasks spawned from `block_on`; the last to finish signals
/// a std channel that `block_on`'s thread waits on.
pub fn clearloop_mt_spawn_many(rt: &clearloop::Runtime) {
    const N: usize = 10_000;
    let (tx, rx) = mpsc::sync_channel(1);
    let rem = Arc::new(AtomicUsize::new(N));
    rt.block_on(async {
        for _ in 0..N {
            let (tx, rem) = (tx.clone(), rem.clone());
            drop(clearloop::spawn(async move {
                if rem.fetch_sub(1, Relaxed) == 1 {
                    tx.send(()).unwrap();
                }
            }));
        }
        rx.recv().unwrap();
    });
}

/// `spawn_many`, tokio's side.
pub fn tokio_mt_spawn_many(rt: &tokio::runtime::Runtime) {
    const N: usize = 10_000;
    let (tx, rx) = mpsc::sync_channel(1);
    let rem = Arc::new(AtomicUsize::new(N));
    rt.block_on(async {
        for _ in 0..N {
            let (tx, rem) = (tx.clone(), rem.clone());
            drop(tokio::spawn(async move {
                if rem.fetch_sub(1, Relaxed) == 1 {
                    tx.send(()).unwrap();
                }
            }));
        }
        rx.recv().unwrap();
    });
}

const YIELD_TASKS: usize = 200;
const NUM_YIELD: usize = 1_000;

/// `yield_many`: 200 tasks spawned from outside, each yields 1,000 times, then
/// signals; the calling thread waits on a std channel (no `block_on`).
pub fn clearloop_mt_yield_many(rt: &clearloop::Runtime) {
    let (tx, rx) = mpsc::sync_channel(YIELD_TASKS);
    for _ in 0..YIELD_TASKS {
        let tx = tx.clone();
        drop(rt.spawn(async move {
            for _ in 0..NUM_YIELD {
                clearloop::task::yield_now().await;
            }
            tx.send(()).unwrap();
        }));
    }
    for _ in 0..YIELD_TASKS {
        rx.recv().unwrap();
    }
}

/// `yield_many`, tokio's side.
pub fn tokio_mt_yield_many(rt: &tokio::runtime::Runtime) {
    let (tx, rx) = mpsc::sync_channel(YIELD_TASKS);
    for _ in 0..YIELD_TASKS {
        let tx = tx.clone();
        drop(rt.spawn(async move {
            for _ in 0..NUM_YIELD {
                tokio::task::yield_now().await;
            }
            tx.send(()).unwrap();
        }));
    }
    for _ in 0..YIELD_TASKS {
        rx.recv().unwrap();
    }
}

const NUM_PINGS: usize = 1_000;

/// `ping_pong`: a task spawns 1,000 tasks; each makes two one-shot signals, spawns
/// a partner that waits for the first and sets the second, sets the first and waits
/// for the second. clearloop's one-shot is an `Event`.
pub fn clearloop_mt_ping_pong(rt: &clearloop::Runtime) {
    let (done_tx, done_rx) = mpsc::sync_channel(1);
    let rem = Arc::new(AtomicUsize::new(NUM_PINGS));
    rt.block_on(async {
        drop(clearloop::spawn(async move {
            for _ in 0..NUM_PINGS {
                let (rem, done_tx) = (rem.clone(), done_tx.clone());
                drop(clearloop::spawn(async move {
                    let ping = Arc::new(clearloop::sync::Event::new());
                    let pong = Arc::new(clearloop::sync::Event::new());
                    let (ping2, pong2) = (ping.clone(), pong.clone());
                    drop(clearloop::spawn(async move {
                        ping2.wait().await;
                        pong2.set();
                    }));
                    ping.set();
                    pong.wait().await;
                    if rem.fetch_sub(1, Relaxed) == 1 {
                        done_tx.send(()).unwrap();
                    }
                }));
            }
        }));
        done_rx.recv().unwrap();
    });
}

/// `ping_pong`, tokio's side (its `oneshot` channels).
pub fn tokio_mt_ping_pong(rt: &tokio::runtime::Runtime) {
    let (done_tx, done_rx) = mpsc::sync_channel(1);
    let rem = Arc::new(AtomicUsize::new(NUM_PINGS));
    rt.block_on(async {
        drop(tokio::spawn(async move {
            for _ in 0..NUM_PINGS {
                let (rem, done_tx) = (rem.clone(), done_tx.clone());
                drop(tokio::spawn(async move {
                    let (tx1, rx1) = tokio::sync::oneshot::channel::<()>();
                    let (tx2, rx2) = tokio::sync::oneshot::channel::<()>();
                    drop(tokio::spawn(async move {
                        rx1.await.unwrap();
                        tx2.send(()).unwrap();
                    }));
                    tx1.send(()).unwrap();
                    rx2.await.unwrap();
                    if rem.fetch_sub(1, Relaxed) == 1 {
                        done_tx.send(()).unwrap();
                    }
                }));
            }
        }));
        done_rx.recv().unwrap();
    });
}

const CHAIN: usize = 1_000;

fn clearloop_chain_step(done: mpsc::SyncSender<()>, n: usize) {
    if n == 0 {
        done.send(()).unwrap();
    } else {
        drop(clearloop::spawn(async move {
            clearloop_chain_step(done, n - 1)
        }));
    }
}

fn tokio_chain_step(done: mpsc::SyncSender<()>, n: usize) {
    if n == 0 {
        done.send(()).unwrap();
    } else {
        drop(tokio::spawn(async move { tokio_chain_step(done, n - 1) }));
    }
}

/// `chained_spawn`: each task spawns the next (without awaiting it), 1,000 deep;
/// the last one signals.
pub fn clearloop_mt_chained_spawn(rt: &clearloop::Runtime) {
    let (tx, rx) = mpsc::sync_channel(1);
    rt.block_on(async {
        drop(clearloop::spawn(
            async move { clearloop_chain_step(tx, CHAIN) },
        ));
        rx.recv().unwrap();
    });
}

/// `chained_spawn`, tokio's side.
pub fn tokio_mt_chained_spawn(rt: &tokio::runtime::Runtime) {
    let (tx, rx) = mpsc::sync_channel(1);
    rt.block_on(async {
        drop(tokio::spawn(async move { tokio_chain_step(tx, CHAIN) }));
        rx.recv().unwrap();
    });
}

// ---- sync_rwlock.rs shapes, on a Mutex ----

async fn clearloop_lock_once(lock: Arc<clearloop::sync::Mutex<()>>) {
    let guard = lock.lock().await;
    black_box(&guard);
}

async fn tokio_lock_once(lock: Arc<tokio::sync::Mutex<()>>) {
    let guard = lock.lock().await;
    black_box(&guard);
}

/// `uncontended`: six lock/unlock in a row in `block_on`.
pub async fn clearloop_mutex_uncontended(lock: Arc<clearloop::sync::Mutex<()>>) {
    for _ in 0..6 {
        let guard = lock.lock().await;
        black_box(&guard);
    }
}

/// `uncontended`, tokio's side.
pub async fn tokio_mutex_uncontended(lock: Arc<tokio::sync::Mutex<()>>) {
    for _ in 0..6 {
        let guard = lock.lock().await;
        black_box(&guard);
    }
}

/// `concurrent` (single thread): six lockers joined in place; with `contended`,
/// the lock is held at the start and released by a seventh future.
pub async fn clearloop_mutex_joined(lock: Arc<clearloop::sync::Mutex<()>>, contended: bool) {
    let held = if contended {
        Some(lock.lock().await)
    } else {
        None
    };
    let releaser = std::pin::pin!(async move { drop(held) });
    let a = std::pin::pin!(clearloop_lock_once(lock.clone()));
    let b = std::pin::pin!(clearloop_lock_once(lock.clone()));
    let c = std::pin::pin!(clearloop_lock_once(lock.clone()));
    let d = std::pin::pin!(clearloop_lock_once(lock.clone()));
    let e = std::pin::pin!(clearloop_lock_once(lock.clone()));
    let f = std::pin::pin!(clearloop_lock_once(lock.clone()));
    join_in_place(&mut [releaser, a, b, c, d, e, f]).await;
}

/// `concurrent` (single thread), tokio's side.
pub async fn tokio_mutex_joined(lock: Arc<tokio::sync::Mutex<()>>, contended: bool) {
    let held = if contended {
        Some(lock.lock().await)
    } else {
        None
    };
    tokio::join!(
        async move { drop(held) },
        tokio_lock_once(lock.clone()),
        tokio_lock_once(lock.clone()),
        tokio_lock_once(lock.clone()),
        tokio_lock_once(lock.clone()),
        tokio_lock_once(lock.clone()),
        tokio_lock_once(lock.clone()),
    );
}

/// `concurrent_multi`: six lockers spawned on the workers, awaited; with
/// `contended`, the lock is held until all six are spawned.
pub async fn clearloop_mutex_spawned(lock: Arc<clearloop::sync::Mutex<()>>, contended: bool) {
    let held = if contended {
        Some(lock.lock().await)
    } else {
        None
    };
    let tasks: Vec<_> = (0..6)
        .map(|_| clearloop::spawn(clearloop_lock_once(lock.clone())))
        .collect();
    drop(held);
    for task in tasks {
        task.await;
    }
}

/// `concurrent_multi`, tokio's side.
pub async fn tokio_mutex_spawned(lock: Arc<tokio::sync::Mutex<()>>, contended: bool) {
    let held = if contended {
        Some(lock.lock().await)
    } else {
        None
    };
    let tasks: Vec<_> = (0..6)
        .map(|_| tokio::spawn(tokio_lock_once(lock.clone())))
        .collect();
    drop(held);
    for task in tasks {
        task.await.unwrap();
    }
}

// ---- sync_semaphore.rs ----

async fn clearloop_acquire_once(sem: Arc<clearloop::sync::Semaphore>) {
    let permit = sem.acquire().await;
    drop(permit);
}

async fn tokio_acquire_once(sem: Arc<tokio::sync::Semaphore>) {
    let permit = sem.acquire().await.unwrap();
    drop(permit);
}

/// `uncontended`: six acquire/release in a row in `block_on`.
pub async fn clearloop_semaphore_uncontended(sem: Arc<clearloop::sync::Semaphore>) {
    for _ in 0..6 {
        let permit = sem.acquire().await;
        drop(permit);
    }
}

/// `uncontended`, tokio's side.
pub async fn tokio_semaphore_uncontended(sem: Arc<tokio::sync::Semaphore>) {
    for _ in 0..6 {
        let permit = sem.acquire().await.unwrap();
        drop(permit);
    }
}

/// `concurrent_single`: six acquirers joined in place (permits: 10 uncontended,
/// 5 contended).
pub async fn clearloop_semaphore_joined(sem: Arc<clearloop::sync::Semaphore>) {
    let a = std::pin::pin!(clearloop_acquire_once(sem.clone()));
    let b = std::pin::pin!(clearloop_acquire_once(sem.clone()));
    let c = std::pin::pin!(clearloop_acquire_once(sem.clone()));
    let d = std::pin::pin!(clearloop_acquire_once(sem.clone()));
    let e = std::pin::pin!(clearloop_acquire_once(sem.clone()));
    let f = std::pin::pin!(clearloop_acquire_once(sem));
    join_in_place(&mut [a, b, c, d, e, f]).await;
}

/// `concurrent_single`, tokio's side.
pub async fn tokio_semaphore_joined(sem: Arc<tokio::sync::Semaphore>) {
    tokio::join!(
        tokio_acquire_once(sem.clone()),
        tokio_acquire_once(sem.clone()),
        tokio_acquire_once(sem.clone()),
        tokio_acquire_once(sem.clone()),
        tokio_acquire_once(sem.clone()),
        tokio_acquire_once(sem),
    );
}

/// `concurrent_multi`: six acquirers spawned on the workers, awaited.
pub async fn clearloop_semaphore_spawned(sem: Arc<clearloop::sync::Semaphore>) {
    let tasks: Vec<_> = (0..6)
        .map(|_| clearloop::spawn(clearloop_acquire_once(sem.clone())))
        .collect();
    for task in tasks {
        task.await;
    }
}

/// `concurrent_multi`, tokio's side.
pub async fn tokio_semaphore_spawned(sem: Arc<tokio::sync::Semaphore>) {
    let tasks: Vec<_> = (0..6)
        .map(|_| tokio::spawn(tokio_acquire_once(sem.clone())))
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
}

// ---- sync_mpsc.rs (clearloop: sync::Queue) ----

const ITEMS: usize = 5_000;
const PRODUCERS: usize = 5;

/// `uncontended`: one task sends 5,000 items, then receives them. `capacity` 0 is
/// unbounded; tokio's file uses 1,000,000 for its bounded channel.
pub async fn clearloop_queue_uncontended(capacity: usize) {
    let queue = clearloop::sync::Queue::<usize>::new(capacity);
    for i in 0..ITEMS {
        queue.put(i).await;
    }
    for _ in 0..ITEMS {
        black_box(queue.get().await);
    }
}

/// `uncontended`, tokio's side (`channel(capacity)`, or `unbounded_channel` for 0).
pub async fn tokio_mpsc_uncontended(capacity: usize) {
    if capacity == 0 {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<usize>();
        for i in 0..ITEMS {
            tx.send(i).unwrap();
        }
        for _ in 0..ITEMS {
            black_box(rx.recv().await);
        }
    } else {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<usize>(capacity);
        for i in 0..ITEMS {
            tx.send(i).await.unwrap();
        }
        for _ in 0..ITEMS {
            black_box(rx.recv().await);
        }
    }
}

/// `contention`: five spawned producers send 1,000 items each; `block_on`
/// receives the 5,000 (`capacity` 0: unbounded; tokio's file: 1,000,000 and 100).
pub async fn clearloop_queue_contention(capacity: usize) {
    let queue = Arc::new(clearloop::sync::Queue::<usize>::new(capacity));
    for _ in 0..PRODUCERS {
        let queue = queue.clone();
        drop(clearloop::spawn(async move {
            for i in 0..ITEMS / PRODUCERS {
                queue.put(i).await;
            }
        }));
    }
    for _ in 0..ITEMS {
        black_box(queue.get().await);
    }
}

/// `contention`, tokio's side.
pub async fn tokio_mpsc_contention(capacity: usize) {
    if capacity == 0 {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<usize>();
        for _ in 0..PRODUCERS {
            let tx = tx.clone();
            drop(tokio::spawn(async move {
                for i in 0..ITEMS / PRODUCERS {
                    tx.send(i).unwrap();
                }
            }));
        }
        for _ in 0..ITEMS {
            black_box(rx.recv().await);
        }
    } else {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<usize>(capacity);
        for _ in 0..PRODUCERS {
            let tx = tx.clone();
            drop(tokio::spawn(async move {
                for i in 0..ITEMS / PRODUCERS {
                    tx.send(i).await.unwrap();
                }
            }));
        }
        for _ in 0..ITEMS {
            black_box(rx.recv().await);
        }
    }
}

// ---- time_timeout.rs ----

/// Timeouts (or sleeps) per iteration of the `time_timeout.rs` shapes.
pub const TIMEOUTS: usize = 10_000;

async fn quick_job() -> usize {
    1
}

/// `timeout`: `procs` tasks share `TIMEOUTS` timeouts of 1 s around a future that is
/// ready at once (the timer is armed, then dropped unfired).
pub async fn clearloop_timeouts(procs: usize) {
    let tasks: Vec<_> = (0..procs)
        .map(|_| {
            clearloop::spawn(async move {
                for _ in 0..TIMEOUTS / procs {
                    let value = clearloop::timeout(Duration::from_secs(1), quick_job()).await;
                    assert_eq!(black_box(value.unwrap()), 1);
                }
            })
        })
        .collect();
    for task in tasks {
        task.await;
    }
}

/// `timeout`, tokio's side.
pub async fn tokio_timeouts(procs: usize) {
    let tasks: Vec<_> = (0..procs)
        .map(|_| {
            tokio::spawn(async move {
                for _ in 0..TIMEOUTS / procs {
                    let value = tokio::time::timeout(Duration::from_secs(1), quick_job()).await;
                    assert_eq!(black_box(value.unwrap()), 1);
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
}

/// `sleep`: `procs` tasks create and drop `TIMEOUTS` sleeps of 1 s, never polled.
pub async fn clearloop_sleeps_unpolled(procs: usize) {
    let tasks: Vec<_> = (0..procs)
        .map(|_| {
            clearloop::spawn(async move {
                for _ in 0..TIMEOUTS / procs {
                    drop(black_box(clearloop::time::sleep(Duration::from_secs(1))));
                }
            })
        })
        .collect();
    for task in tasks {
        task.await;
    }
}

/// `sleep`, tokio's side.
pub async fn tokio_sleeps_unpolled(procs: usize) {
    let tasks: Vec<_> = (0..procs)
        .map(|_| {
            tokio::spawn(async move {
                for _ in 0..TIMEOUTS / procs {
                    drop(black_box(tokio::time::sleep(Duration::from_secs(1))));
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
}
