//! The side-by-side workloads of the report: one `Row` per workload, each with a
//! clearloop side and a tokio side that build their runtime once and return one
//! iteration of the workload.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use clearloop_bench::{ports, workloads};

/// How tokio's runtime is built.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Drivers {
    /// `enable_all()`: what `#[tokio::main]` builds (I/O driver and time driver).
    All,
    /// `enable_time()` only: the timer figure without the I/O driver under it.
    TimeOnly,
}

/// One iteration of a workload, on a runtime built beforehand.
pub type Iteration = Box<dyn FnMut()>;

/// Which table a row goes to.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Section {
    /// Our workloads (`benches/runtime.rs`, `together.rs`, `sync.rs`), one thread.
    Ours,
    /// Our workloads on two worker threads (`benches/threads.rs`).
    OursThreads,
    /// The shapes of tokio's own `benches/` files (`clearloop_bench::ports`).
    Tokio,
}

/// One workload, both sides.
pub struct Row {
    pub name: &'static str,
    pub section: Section,
    pub what: &'static str,
    /// 0: a current-thread runtime on each side; n: n worker threads on each side.
    pub workers: usize,
    /// A timer workload: tokio's time-driver-only figure is measured beside it.
    pub timer: bool,
    pub clearloop: fn() -> Iteration,
    pub tokio: fn(Drivers) -> Iteration,
}

fn clearloop_rt(workers: usize) -> clearloop::Runtime {
    if workers == 0 {
        clearloop::Runtime::new()
    } else {
        clearloop::Builder::new().worker_threads(workers).build()
    }
}

/// tokio as its users build it: `new_current_thread()` or `new_multi_thread()`,
/// then `enable_all()` (or `enable_time()` for the time-driver-only figure).
pub fn tokio_rt(workers: usize, drivers: Drivers) -> tokio::runtime::Runtime {
    let mut builder = if workers == 0 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        builder.worker_threads(workers);
        builder
    };
    match drivers {
        Drivers::All => builder.enable_all(),
        Drivers::TimeOnly => builder.enable_time(),
    };
    builder.build().expect("a tokio runtime")
}

fn on_clearloop(workers: usize, mut work: impl FnMut(&clearloop::Runtime) + 'static) -> Iteration {
    let rt = clearloop_rt(workers);
    Box::new(move || work(&rt))
}

fn on_tokio(
    workers: usize,
    drivers: Drivers,
    mut work: impl FnMut(&tokio::runtime::Runtime) + 'static,
) -> Iteration {
    let rt = tokio_rt(workers, drivers);
    Box::new(move || work(&rt))
}

const N: usize = 10_000;
const MT: usize = ports::WORKERS;

/// Every side-by-side workload, in report order.
pub fn rows() -> Vec<Row> {
    use Section::*;
    vec![
        // ---- ours, current thread ----
        Row {
            name: "spawn_10k_and_await",
            section: Ours,
            what: "spawn 10,000 tasks that return at once, await each",
            workers: 0,
            timer: false,
            clearloop: || {
                on_clearloop(0, |rt| {
                    black_box(rt.block_on(workloads::clearloop_spawn_many()));
                })
            },
            tokio: |d| {
                on_tokio(0, d, |rt| {
                    black_box(rt.block_on(workloads::tokio_spawn_many()));
                })
            },
        },
        Row {
            name: "yield_200x1000",
            section: Ours,
            what: "200 tasks, each yields 1,000 times",
            workers: 0,
            timer: false,
            clearloop: || on_clearloop(0, |rt| rt.block_on(workloads::clearloop_yield_many())),
            tokio: |d| on_tokio(0, d, |rt| rt.block_on(workloads::tokio_yield_many())),
        },
        Row {
            name: "ping_pong_10k",
            section: Ours,
            what: "two tasks pass a baton 10,000 times each (wakers only)",
            workers: 0,
            timer: false,
            clearloop: || on_clearloop(0, |rt| rt.block_on(workloads::clearloop_ping_pong())),
            tokio: |d| on_tokio(0, d, |rt| rt.block_on(workloads::tokio_ping_pong())),
        },
        Row {
            name: "chain_of_1000_spawns",
            section: Ours,
            what: "each task spawns the next and awaits it, 1,000 deep",
            workers: 0,
            timer: false,
            clearloop: || {
                on_clearloop(0, |rt| {
                    assert_eq!(
                        rt.block_on(workloads::clearloop_chain(workloads::CHAIN)),
                        workloads::CHAIN
                    );
                })
            },
            tokio: |d| {
                on_tokio(0, d, |rt| {
                    assert_eq!(
                        rt.block_on(workloads::tokio_chain(workloads::CHAIN)),
                        workloads::CHAIN
                    );
                })
            },
        },
        Row {
            name: "gather_10k_ready",
            section: Ours,
            what: "gather 10,000 ready futures (tokio: a JoinSet)",
            workers: 0,
            timer: false,
            clearloop: || {
                on_clearloop(0, |rt| {
                    let sum = rt.block_on(async {
                        let values = clearloop::gather((0..N).map(|i| async move { i })).await;
                        values.into_iter().sum::<usize>()
                    });
                    assert_eq!(sum, N * (N - 1) / 2);
                })
            },
            tokio: |d| {
                on_tokio(0, d, |rt| {
                    let sum = rt.block_on(async {
                        let mut set = tokio::task::JoinSet::new();
                        for i in 0..N {
                            set.spawn(async move { i });
                        }
                        let mut sum = 0;
                        while let Some(value) = set.join_next().await {
                            sum += value.unwrap();
                        }
                        sum
                    });
                    assert_eq!(sum, N * (N - 1) / 2);
                })
            },
        },
        Row {
            name: "lock_uncontended_10k",
            section: Ours,
            what: "one task: 10,000 `lock().await` + increment",
            workers: 0,
            timer: false,
            clearloop: || {
                let lock = clearloop::sync::Mutex::new(0u64);
                on_clearloop(0, move |rt| {
                    rt.block_on(async {
                        for _ in 0..N {
                            *lock.lock().await += 1;
                        }
                    })
                })
            },
            tokio: |d| {
                let lock = tokio::sync::Mutex::new(0u64);
                on_tokio(0, d, move |rt| {
                    rt.block_on(async {
                        for _ in 0..N {
                            *lock.lock().await += 1;
                        }
                    })
                })
            },
        },
        Row {
            name: "lock_100x1000",
            section: Ours,
            what: "100 tasks x 1,000 increments, lock held across a yield",
            workers: 0,
            timer: false,
            clearloop: || {
                on_clearloop(0, |rt| {
                    rt.block_on(async {
                        let lock = Arc::new(clearloop::sync::Mutex::new(0u64));
                        let tasks: Vec<_> = (0..100)
                            .map(|_| {
                                let lock = lock.clone();
                                clearloop::spawn(async move {
                                    for _ in 0..1_000 {
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
                        assert_eq!(*lock.lock().await, 100_000);
                    })
                })
            },
            tokio: |d| {
                on_tokio(0, d, |rt| {
                    rt.block_on(async {
                        let lock = Arc::new(tokio::sync::Mutex::new(0u64));
                        let tasks: Vec<_> = (0..100)
                            .map(|_| {
                                let lock = lock.clone();
                                tokio::spawn(async move {
                                    for _ in 0..1_000 {
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
                        assert_eq!(*lock.lock().await, 100_000);
                    })
                })
            },
        },
        Row {
            name: "semaphore_1000_through_10",
            section: Ours,
            what: "1,000 tasks through a semaphore of 10, permit held across a yield",
            workers: 0,
            timer: false,
            clearloop: || {
                on_clearloop(0, |rt| {
                    rt.block_on(async {
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
            },
            tokio: |d| {
                on_tokio(0, d, |rt| {
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
            },
        },
        Row {
            name: "queue_100k_items",
            section: Ours,
            what: "100,000 items, one producer task to one consumer, capacity 1,024 (tokio: mpsc)",
            workers: 0,
            timer: false,
            clearloop: || {
                on_clearloop(0, |rt| {
                    rt.block_on(async {
                        const ITEMS: u64 = 100_000;
                        let queue = Arc::new(clearloop::sync::Queue::<u64>::new(1_024));
                        let producer = {
                            let queue = queue.clone();
                            clearloop::spawn(async move {
                                for i in 0..ITEMS {
                                    queue.put(i).await;
                                }
                            })
                        };
                        let consumer = clearloop::spawn(async move {
                            let mut sum = 0;
                            for _ in 0..ITEMS {
                                sum += queue.get().await;
                            }
                            sum
                        });
                        producer.await;
                        assert_eq!(consumer.await, ITEMS * (ITEMS - 1) / 2);
                    })
                })
            },
            tokio: |d| {
                on_tokio(0, d, |rt| {
                    rt.block_on(async {
                        const ITEMS: u64 = 100_000;
                        let (tx, mut rx) = tokio::sync::mpsc::channel::<u64>(1_024);
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
            },
        },
        Row {
            name: "sleep_10k_insert_cancel",
            section: Ours,
            what: "10,000 sleeps (1 ms to 5 s) polled once, so registered, then dropped",
            workers: 0,
            timer: true,
            clearloop: || {
                on_clearloop(0, |rt| {
                    rt.block_on(async {
                        for i in 0..N as u64 {
                            let sleep =
                                clearloop::time::sleep(Duration::from_millis(1 + i % 5_000));
                            register(std::pin::pin!(sleep)).await;
                        }
                    })
                })
            },
            // `unconstrained`: tokio's budget would otherwise stop registering the
            // sleeps after 128 polls in one task (the workload would then measure
            // something else).
            tokio: |d| {
                on_tokio(0, d, |rt| {
                    rt.block_on(tokio::task::unconstrained(async {
                        for i in 0..N as u64 {
                            let sleep = tokio::time::sleep(Duration::from_millis(1 + i % 5_000));
                            register(std::pin::pin!(sleep)).await;
                        }
                    }))
                })
            },
        },
        Row {
            name: "timeout_10k_never_fires",
            section: Ours,
            what: "10,000 timeouts of 1 s around a future pending once (timer armed, removed)",
            workers: 0,
            timer: true,
            clearloop: || {
                on_clearloop(0, |rt| {
                    rt.block_on(async {
                        for _ in 0..N {
                            clearloop::timeout(
                                Duration::from_secs(1),
                                clearloop::task::yield_now(),
                            )
                            .await
                            .unwrap();
                        }
                    })
                })
            },
            tokio: |d| {
                on_tokio(0, d, |rt| {
                    rt.block_on(tokio::task::unconstrained(async {
                        for _ in 0..N {
                            tokio::time::timeout(Duration::from_secs(1), tokio::task::yield_now())
                                .await
                                .unwrap();
                        }
                    }))
                })
            },
        },
        Row {
            name: "10k_tasks_sleep_1ms",
            section: Ours,
            what: "10,000 tasks each sleep 1 ms on the real clock (includes the wait)",
            workers: 0,
            timer: true,
            clearloop: || {
                on_clearloop(0, |rt| {
                    rt.block_on(async {
                        let tasks: Vec<_> = (0..N)
                            .map(|_| {
                                clearloop::spawn(clearloop::time::sleep(Duration::from_millis(1)))
                            })
                            .collect();
                        for task in tasks {
                            task.await;
                        }
                    })
                })
            },
            tokio: |d| {
                on_tokio(0, d, |rt| {
                    rt.block_on(async {
                        let tasks: Vec<_> = (0..N)
                            .map(|_| tokio::spawn(tokio::time::sleep(Duration::from_millis(1))))
                            .collect();
                        for task in tasks {
                            task.await.unwrap();
                        }
                    })
                })
            },
        },
        // ---- ours, two workers ----
        Row {
            name: "mt_spawn_10k_outside",
            section: OursThreads,
            what: "10,000 tasks spawned by a thread that is not a worker, then awaited",
            workers: MT,
            timer: false,
            clearloop: || {
                on_clearloop(MT, |rt| {
                    let tasks: Vec<_> = (0..N).map(|i| rt.spawn(async move { i })).collect();
                    let sum = rt.block_on(async {
                        let mut sum = 0;
                        for task in tasks {
                            sum += task.await;
                        }
                        sum
                    });
                    assert_eq!(sum, N * (N - 1) / 2);
                })
            },
            tokio: |d| {
                on_tokio(MT, d, |rt| {
                    let tasks: Vec<_> = (0..N).map(|i| rt.spawn(async move { i })).collect();
                    let sum = rt.block_on(async {
                        let mut sum = 0;
                        for task in tasks {
                            sum += task.await.unwrap();
                        }
                        sum
                    });
                    assert_eq!(sum, N * (N - 1) / 2);
                })
            },
        },
        Row {
            name: "mt_spawn_10k_inside",
            section: OursThreads,
            what: "one task on a worker spawns 10,000 and awaits them",
            workers: MT,
            timer: false,
            clearloop: || {
                on_clearloop(MT, |rt| {
                    black_box(rt.block_on(async {
                        clearloop::spawn(workloads::clearloop_spawn_many()).await
                    }));
                })
            },
            tokio: |d| {
                on_tokio(MT, d, |rt| {
                    black_box(rt.block_on(async {
                        tokio::spawn(workloads::tokio_spawn_many()).await.unwrap()
                    }));
                })
            },
        },
        Row {
            name: "mt_yield_200x1000",
            section: OursThreads,
            what: "200 tasks, each yields 1,000 times",
            workers: MT,
            timer: false,
            clearloop: || on_clearloop(MT, |rt| rt.block_on(workloads::clearloop_yield_many())),
            tokio: |d| on_tokio(MT, d, |rt| rt.block_on(workloads::tokio_yield_many())),
        },
        Row {
            name: "mt_ping_pong_10k",
            section: OursThreads,
            what: "two tasks pass a baton 10,000 times each; wake-ups may cross workers",
            workers: MT,
            timer: false,
            clearloop: || on_clearloop(MT, |rt| rt.block_on(workloads::clearloop_ping_pong())),
            tokio: |d| on_tokio(MT, d, |rt| rt.block_on(workloads::tokio_ping_pong())),
        },
        Row {
            name: "mt_chain_1000",
            section: OursThreads,
            what: "each task spawns the next and awaits it, 1,000 deep",
            workers: MT,
            timer: false,
            clearloop: || {
                on_clearloop(MT, |rt| {
                    black_box(rt.block_on(workloads::clearloop_chain(workloads::CHAIN)));
                })
            },
            tokio: |d| {
                on_tokio(MT, d, |rt| {
                    black_box(rt.block_on(workloads::tokio_chain(workloads::CHAIN)));
                })
            },
        },
        // ---- tokio's benches/, rt_current_thread.rs ----
        Row {
            name: "rt_current_thread/spawn_many_local",
            section: Tokio,
            what: "spawn 1,000 empty tasks inside block_on, await them",
            workers: 0,
            timer: false,
            clearloop: || on_clearloop(0, |rt| rt.block_on(ports::clearloop_spawn_many_local())),
            tokio: |d| on_tokio(0, d, |rt| rt.block_on(ports::tokio_spawn_many_local())),
        },
        Row {
            name: "rt_current_thread/spawn_many_remote_idle",
            section: Tokio,
            what: "spawn 1,000 empty tasks from outside, then await them in block_on",
            workers: 0,
            timer: false,
            clearloop: || on_clearloop(0, ports::clearloop_spawn_many_remote),
            tokio: |d| on_tokio(0, d, ports::tokio_spawn_many_remote),
        },
        Row {
            name: "rt_current_thread/spawn_many_remote_busy",
            section: Tokio,
            what: "the same, while a task respawns itself forever in the background",
            workers: 0,
            timer: false,
            clearloop: || {
                let rt = clearloop_rt(0);
                drop(rt.spawn(async { ports::clearloop_busy() }));
                Box::new(move || ports::clearloop_spawn_many_remote(&rt))
            },
            tokio: |d| {
                let rt = tokio_rt(0, d);
                drop(rt.spawn(async { ports::tokio_busy() }));
                Box::new(move || ports::tokio_spawn_many_remote(&rt))
            },
        },
        // ---- rt_multi_threaded.rs ----
        Row {
            name: "rt_multi_threaded/spawn_many",
            section: Tokio,
            what: "10,000 tasks spawned from block_on; the last signals a std channel",
            workers: MT,
            timer: false,
            clearloop: || on_clearloop(MT, ports::clearloop_mt_spawn_many),
            tokio: |d| on_tokio(MT, d, ports::tokio_mt_spawn_many),
        },
        Row {
            name: "rt_multi_threaded/yield_many",
            section: Tokio,
            what: "200 tasks spawned from outside yield 1,000 times each",
            workers: MT,
            timer: false,
            clearloop: || on_clearloop(MT, ports::clearloop_mt_yield_many),
            tokio: |d| on_tokio(MT, d, ports::tokio_mt_yield_many),
        },
        Row {
            name: "rt_multi_threaded/ping_pong",
            section: Tokio,
            what: "1,000 pairs of tasks exchange two one-shot signals (clearloop: Event)",
            workers: MT,
            timer: false,
            clearloop: || on_clearloop(MT, ports::clearloop_mt_ping_pong),
            tokio: |d| on_tokio(MT, d, ports::tokio_mt_ping_pong),
        },
        Row {
            name: "rt_multi_threaded/chained_spawn",
            section: Tokio,
            what: "each task spawns the next without awaiting it, 1,000 deep",
            workers: MT,
            timer: false,
            clearloop: || on_clearloop(MT, ports::clearloop_mt_chained_spawn),
            tokio: |d| on_tokio(MT, d, ports::tokio_mt_chained_spawn),
        },
        // ---- sync_rwlock.rs shapes on a Mutex (tokio has no sync_mutex.rs) ----
        Row {
            name: "sync_mutex/uncontended",
            section: Tokio,
            what: "6 lock/unlock in a row in block_on (multi-threaded runtime)",
            workers: MT,
            timer: false,
            clearloop: || {
                let lock = Arc::new(clearloop::sync::Mutex::new(()));
                on_clearloop(MT, move |rt| {
                    rt.block_on(ports::clearloop_mutex_uncontended(lock.clone()))
                })
            },
            tokio: |d| {
                let lock = Arc::new(tokio::sync::Mutex::new(()));
                on_tokio(MT, d, move |rt| {
                    rt.block_on(ports::tokio_mutex_uncontended(lock.clone()))
                })
            },
        },
        Row {
            name: "sync_mutex/concurrent_single",
            section: Tokio,
            what: "6 lockers joined in place, current thread",
            workers: 0,
            timer: false,
            clearloop: || {
                let lock = Arc::new(clearloop::sync::Mutex::new(()));
                on_clearloop(0, move |rt| {
                    rt.block_on(ports::clearloop_mutex_joined(lock.clone(), false))
                })
            },
            tokio: |d| {
                let lock = Arc::new(tokio::sync::Mutex::new(()));
                on_tokio(0, d, move |rt| {
                    rt.block_on(ports::tokio_mutex_joined(lock.clone(), false))
                })
            },
        },
        Row {
            name: "sync_mutex/contended_single",
            section: Tokio,
            what: "the same with the lock held at the start",
            workers: 0,
            timer: false,
            clearloop: || {
                let lock = Arc::new(clearloop::sync::Mutex::new(()));
                on_clearloop(0, move |rt| {
                    rt.block_on(ports::clearloop_mutex_joined(lock.clone(), true))
                })
            },
            tokio: |d| {
                let lock = Arc::new(tokio::sync::Mutex::new(()));
                on_tokio(0, d, move |rt| {
                    rt.block_on(ports::tokio_mutex_joined(lock.clone(), true))
                })
            },
        },
        Row {
            name: "sync_mutex/concurrent_multi",
            section: Tokio,
            what: "6 lockers spawned on the workers, awaited",
            workers: MT,
            timer: false,
            clearloop: || {
                let lock = Arc::new(clearloop::sync::Mutex::new(()));
                on_clearloop(MT, move |rt| {
                    rt.block_on(ports::clearloop_mutex_spawned(lock.clone(), false))
                })
            },
            tokio: |d| {
                let lock = Arc::new(tokio::sync::Mutex::new(()));
                on_tokio(MT, d, move |rt| {
                    rt.block_on(ports::tokio_mutex_spawned(lock.clone(), false))
                })
            },
        },
        Row {
            name: "sync_mutex/contended_multi",
            section: Tokio,
            what: "the same with the lock held until all 6 are spawned",
            workers: MT,
            timer: false,
            clearloop: || {
                let lock = Arc::new(clearloop::sync::Mutex::new(()));
                on_clearloop(MT, move |rt| {
                    rt.block_on(ports::clearloop_mutex_spawned(lock.clone(), true))
                })
            },
            tokio: |d| {
                let lock = Arc::new(tokio::sync::Mutex::new(()));
                on_tokio(MT, d, move |rt| {
                    rt.block_on(ports::tokio_mutex_spawned(lock.clone(), true))
                })
            },
        },
        // ---- sync_semaphore.rs ----
        Row {
            name: "sync_semaphore/uncontended",
            section: Tokio,
            what: "6 acquire/release in a row in block_on (multi-threaded runtime)",
            workers: MT,
            timer: false,
            clearloop: || {
                let sem = Arc::new(clearloop::sync::Semaphore::new(10));
                on_clearloop(MT, move |rt| {
                    rt.block_on(ports::clearloop_semaphore_uncontended(sem.clone()))
                })
            },
            tokio: |d| {
                let sem = Arc::new(tokio::sync::Semaphore::new(10));
                on_tokio(MT, d, move |rt| {
                    rt.block_on(ports::tokio_semaphore_uncontended(sem.clone()))
                })
            },
        },
        Row {
            name: "sync_semaphore/uncontended_concurrent_single",
            section: Tokio,
            what: "6 acquirers of 10 permits joined in place, current thread",
            workers: 0,
            timer: false,
            clearloop: || {
                let sem = Arc::new(clearloop::sync::Semaphore::new(10));
                on_clearloop(0, move |rt| {
                    rt.block_on(ports::clearloop_semaphore_joined(sem.clone()))
                })
            },
            tokio: |d| {
                let sem = Arc::new(tokio::sync::Semaphore::new(10));
                on_tokio(0, d, move |rt| {
                    rt.block_on(ports::tokio_semaphore_joined(sem.clone()))
                })
            },
        },
        Row {
            name: "sync_semaphore/contended_concurrent_single",
            section: Tokio,
            what: "6 acquirers of 5 permits joined in place, current thread",
            workers: 0,
            timer: false,
            clearloop: || {
                let sem = Arc::new(clearloop::sync::Semaphore::new(5));
                on_clearloop(0, move |rt| {
                    rt.block_on(ports::clearloop_semaphore_joined(sem.clone()))
                })
            },
            tokio: |d| {
                let sem = Arc::new(tokio::sync::Semaphore::new(5));
                on_tokio(0, d, move |rt| {
                    rt.block_on(ports::tokio_semaphore_joined(sem.clone()))
                })
            },
        },
        Row {
            name: "sync_semaphore/uncontended_concurrent_multi",
            section: Tokio,
            what: "6 acquirers of 10 permits spawned on the workers",
            workers: MT,
            timer: false,
            clearloop: || {
                let sem = Arc::new(clearloop::sync::Semaphore::new(10));
                on_clearloop(MT, move |rt| {
                    rt.block_on(ports::clearloop_semaphore_spawned(sem.clone()))
                })
            },
            tokio: |d| {
                let sem = Arc::new(tokio::sync::Semaphore::new(10));
                on_tokio(MT, d, move |rt| {
                    rt.block_on(ports::tokio_semaphore_spawned(sem.clone()))
                })
            },
        },
        Row {
            name: "sync_semaphore/contended_concurrent_multi",
            section: Tokio,
            what: "6 acquirers of 5 permits spawned on the workers",
            workers: MT,
            timer: false,
            clearloop: || {
                let sem = Arc::new(clearloop::sync::Semaphore::new(5));
                on_clearloop(MT, move |rt| {
                    rt.block_on(ports::clearloop_semaphore_spawned(sem.clone()))
                })
            },
            tokio: |d| {
                let sem = Arc::new(tokio::sync::Semaphore::new(5));
                on_tokio(MT, d, move |rt| {
                    rt.block_on(ports::tokio_semaphore_spawned(sem.clone()))
                })
            },
        },
        // ---- sync_mpsc.rs (clearloop: sync::Queue) ----
        Row {
            name: "sync_mpsc/uncontended_bounded",
            section: Tokio,
            what: "send 5,000 then receive them, capacity 1,000,000, in block_on",
            workers: MT,
            timer: false,
            clearloop: || {
                on_clearloop(MT, |rt| {
                    rt.block_on(ports::clearloop_queue_uncontended(1_000_000))
                })
            },
            tokio: |d| {
                on_tokio(MT, d, |rt| {
                    rt.block_on(ports::tokio_mpsc_uncontended(1_000_000))
                })
            },
        },
        Row {
            name: "sync_mpsc/uncontended_unbounded",
            section: Tokio,
            what: "the same, unbounded",
            workers: MT,
            timer: false,
            clearloop: || on_clearloop(MT, |rt| rt.block_on(ports::clearloop_queue_uncontended(0))),
            tokio: |d| on_tokio(MT, d, |rt| rt.block_on(ports::tokio_mpsc_uncontended(0))),
        },
        Row {
            name: "sync_mpsc/contention_bounded",
            section: Tokio,
            what: "5 spawned producers x 1,000 items, capacity 1,000,000",
            workers: MT,
            timer: false,
            clearloop: || {
                on_clearloop(MT, |rt| {
                    rt.block_on(ports::clearloop_queue_contention(1_000_000))
                })
            },
            tokio: |d| {
                on_tokio(MT, d, |rt| {
                    rt.block_on(ports::tokio_mpsc_contention(1_000_000))
                })
            },
        },
        Row {
            name: "sync_mpsc/contention_bounded_full",
            section: Tokio,
            what: "the same, capacity 100 (producers wait for room)",
            workers: MT,
            timer: false,
            clearloop: || {
                on_clearloop(MT, |rt| rt.block_on(ports::clearloop_queue_contention(100)))
            },
            tokio: |d| on_tokio(MT, d, |rt| rt.block_on(ports::tokio_mpsc_contention(100))),
        },
        Row {
            name: "sync_mpsc/contention_unbounded",
            section: Tokio,
            what: "the same, unbounded",
            workers: MT,
            timer: false,
            clearloop: || on_clearloop(MT, |rt| rt.block_on(ports::clearloop_queue_contention(0))),
            tokio: |d| on_tokio(MT, d, |rt| rt.block_on(ports::tokio_mpsc_contention(0))),
        },
        // ---- time_timeout.rs ----
        Row {
            name: "time_timeout/single_thread_timeout",
            section: Tokio,
            what: "10,000 timeouts of 1 s around a ready future, current thread",
            workers: 0,
            timer: true,
            clearloop: || on_clearloop(0, |rt| rt.block_on(ports::clearloop_timeouts(1))),
            tokio: |d| on_tokio(0, d, |rt| rt.block_on(ports::tokio_timeouts(1))),
        },
        Row {
            name: "time_timeout/multi_thread_timeout",
            section: Tokio,
            what: "the same, split over one task per worker",
            workers: MT,
            timer: true,
            clearloop: || on_clearloop(MT, |rt| rt.block_on(ports::clearloop_timeouts(MT))),
            tokio: |d| on_tokio(MT, d, |rt| rt.block_on(ports::tokio_timeouts(MT))),
        },
        Row {
            name: "time_timeout/single_thread_sleep",
            section: Tokio,
            what: "create and drop 10,000 sleeps of 1 s, never polled, current thread",
            workers: 0,
            timer: true,
            clearloop: || on_clearloop(0, |rt| rt.block_on(ports::clearloop_sleeps_unpolled(1))),
            tokio: |d| on_tokio(0, d, |rt| rt.block_on(ports::tokio_sleeps_unpolled(1))),
        },
        Row {
            name: "time_timeout/multi_thread_sleep",
            section: Tokio,
            what: "the same, split over one task per worker",
            workers: MT,
            timer: true,
            clearloop: || on_clearloop(MT, |rt| rt.block_on(ports::clearloop_sleeps_unpolled(MT))),
            tokio: |d| on_tokio(MT, d, |rt| rt.block_on(ports::tokio_sleeps_unpolled(MT))),
        },
    ]
}

/// Polls a sleep once, so that it registers its timer, and checks that it did not
/// fire (its deadline is at least a millisecond away).
async fn register<F: std::future::Future>(mut future: std::pin::Pin<&mut F>) {
    std::future::poll_fn(|cx| {
        assert!(
            future.as_mut().poll(cx).is_pending(),
            "the sleep fired at once"
        );
        std::task::Poll::Ready(())
    })
    .await
}
