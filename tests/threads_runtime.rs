//! The multi-threaded runtime: no lost wake-up under many waking threads, spawns
//! from inside tasks reach other workers, timers (real and virtual), and shutdown
//! with tasks still pending (no hang, no leak).

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use clearloop::clock::Clock;
use clearloop::time::sleep;
use clearloop::{Builder, Runtime, spawn};

fn runtime(workers: usize) -> Runtime {
    Builder::new().worker_threads(workers).build()
}

/// A future that needs `needed` wake-ups before it completes; it hands its waker to
/// whoever wakes it, through a shared slot.
struct Countdown {
    slot: Arc<Slot>,
}

#[derive(Default)]
struct Slot {
    waker: Mutex<Option<Waker>>,
    woken: AtomicUsize,
    needed: usize,
}

impl Future for Countdown {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // Store the waker first, then check: a wake-up between the two is not lost.
        *self.slot.waker.lock().unwrap() = Some(cx.waker().clone());
        if self.slot.woken.load(Ordering::SeqCst) >= self.slot.needed {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

/// 8 external threads each wake a set of tasks 100,000 times in all.
///
/// The issue asks for "8 threads each waking 100,000 tasks": 800,000 tasks alive at
/// once would make the test take minutes, so each thread wakes 1,000 tasks, 100
/// times each (100,000 wake-ups per thread, 800,000 in all), and every task needs all
/// 100 of its wake-ups to finish. A lost wake-up leaves a task pending forever: the
/// test then fails on its deadline instead of hanging.
#[test]
fn eight_threads_waking_tasks_lose_no_wake_up() {
    const THREADS: usize = 8;
    const TASKS_PER_THREAD: usize = 1_000;
    const WAKES_PER_TASK: usize = 100;
    let runtime = runtime(4);
    let done = Arc::new(AtomicUsize::new(0));
    let slots: Vec<Arc<Slot>> = (0..THREADS * TASKS_PER_THREAD)
        .map(|_| {
            Arc::new(Slot {
                needed: WAKES_PER_TASK,
                ..Slot::default()
            })
        })
        .collect();
    for slot in &slots {
        let (slot, done) = (slot.clone(), done.clone());
        drop(runtime.spawn(async move {
            Countdown { slot }.await;
            done.fetch_add(1, Ordering::SeqCst);
        }));
    }
    let wakers: Vec<_> = slots
        .chunks(TASKS_PER_THREAD)
        .map(|chunk| {
            let chunk = chunk.to_vec();
            std::thread::spawn(move || {
                for _ in 0..WAKES_PER_TASK {
                    for slot in &chunk {
                        slot.woken.fetch_add(1, Ordering::SeqCst);
                        // The task may not have stored a waker yet: then its first poll
                        // (still to come) sees the count.
                        if let Some(waker) = slot.waker.lock().unwrap().clone() {
                            waker.wake();
                        }
                    }
                }
            })
        })
        .collect();
    for thread in wakers {
        thread.join().unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    // `live_tasks` drops a moment after `done` counts (the task ends after its body).
    while done.load(Ordering::SeqCst) < THREADS * TASKS_PER_THREAD || runtime.live_tasks() > 0 {
        assert!(
            Instant::now() < deadline,
            "only {} of {} tasks finished: a wake-up was lost",
            done.load(Ordering::SeqCst),
            THREADS * TASKS_PER_THREAD
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn tasks_spawned_inside_tasks_run_on_other_workers() {
    let runtime = runtime(2);
    let names = runtime.block_on(async {
        let parent = spawn(async {
            // Each child blocks its worker a little, so the other worker must steal.
            let children: Vec<_> = (0..64)
                .map(|_| {
                    spawn(async {
                        std::thread::sleep(Duration::from_millis(1));
                        std::thread::current().name().unwrap().to_string()
                    })
                })
                .collect();
            let mut names = HashSet::new();
            for child in children {
                names.insert(child.await);
            }
            names
        });
        parent.await
    });
    assert_eq!(
        names,
        HashSet::from(["clearloop-worker-0".into(), "clearloop-worker-1".into()]),
        "both workers should have run children"
    );
}

#[test]
fn tasks_spread_over_workers_run_in_parallel() {
    let runtime = runtime(2);
    let start = Instant::now();
    runtime.block_on(async {
        let a = spawn(async { std::thread::sleep(Duration::from_millis(300)) });
        let b = spawn(async { std::thread::sleep(Duration::from_millis(300)) });
        a.await;
        b.await;
    });
    // One thread would take 600 ms.
    assert!(
        start.elapsed() < Duration::from_millis(550),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn sleeps_work_on_the_real_clock() {
    let runtime = runtime(2);
    let start = Instant::now();
    let total = runtime.block_on(async {
        let tasks: Vec<_> = (1..=10u64)
            .map(|i| {
                spawn(async move {
                    sleep(Duration::from_millis(10 * i)).await;
                    i
                })
            })
            .collect();
        let mut total = 0;
        for task in tasks {
            total += task.await;
        }
        sleep(Duration::from_millis(20)).await; // in the main future too
        total
    });
    assert_eq!(total, 55);
    let took = start.elapsed();
    assert!(took >= Duration::from_millis(120), "{took:?}");
    assert!(took < Duration::from_secs(2), "{took:?}");
}

#[test]
fn virtual_time_jumps_only_when_every_worker_is_idle() {
    let runtime = Builder::new()
        .worker_threads(2)
        .clock(Clock::virtual_clock())
        .build();
    let real = Instant::now();
    let (waited, busy_sleep_saw) = runtime.block_on(async {
        let start = clearloop::time::now();
        // A task that computes (blocks) for 200 ms of real time while another sleeps
        // 10 s of virtual time: the jump must wait for the busy one.
        let busy = spawn(async move {
            let before = clearloop::time::now();
            std::thread::sleep(Duration::from_millis(200));
            clearloop::time::now() - before
        });
        let sleeper = spawn(async { sleep(Duration::from_secs(10)).await });
        sleeper.await;
        let busy_saw = busy.await;
        (clearloop::time::now() - start, busy_saw)
    });
    assert_eq!(waited, Duration::from_secs(10));
    assert_eq!(
        busy_sleep_saw,
        Duration::ZERO,
        "virtual time moved while a worker was busy"
    );
    assert!(real.elapsed() < Duration::from_secs(5));
}

#[test]
fn shutdown_with_pending_tasks_cancels_them_and_joins_the_workers() {
    struct DropCount(Arc<AtomicUsize>);
    impl Drop for DropCount {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let dropped = Arc::new(AtomicUsize::new(0));
    let runtime = runtime(2);
    let handles: Vec<_> = (0..100)
        .map(|i| {
            let guard = DropCount(dropped.clone());
            runtime.spawn(async move {
                let _guard = guard;
                if i % 2 == 0 {
                    std::future::pending::<()>().await; // never wakes
                } else {
                    sleep(Duration::from_secs(3600)).await; // a timer in the wheel
                }
            })
        })
        .collect();
    // Let the workers poll them all once.
    runtime.block_on(async { sleep(Duration::from_millis(50)).await });
    assert_eq!(runtime.live_tasks(), 100);
    let start = Instant::now();
    drop(runtime);
    assert!(start.elapsed() < Duration::from_secs(5), "shutdown hung");
    assert_eq!(dropped.load(Ordering::SeqCst), 100, "a future was leaked");
    for handle in handles {
        assert!(handle.cancelled());
    }
    // No worker thread is left behind.
    if let Ok(tasks) = std::fs::read_dir("/proc/self/task") {
        let workers = tasks
            .flatten()
            .filter_map(|task| std::fs::read_to_string(task.path().join("comm")).ok())
            .filter(|comm| comm.starts_with("clearloop-worke"))
            .count();
        // Other tests of this file may run runtimes at the same time; ours are gone
        // when at most theirs remain. The strict check is the drop count above.
        assert!(workers <= 8, "{workers} worker threads alive");
    }
}

#[test]
fn a_task_can_be_spawned_from_a_plain_thread_through_a_waker_of_the_main_future() {
    // `spawn` from a task running on a worker, awaited from the main thread, and a
    // wake-up coming from a thread that is not a worker at all.
    let runtime = runtime(3);
    let value = runtime.block_on(async {
        let (tx, rx) = std::sync::mpsc::channel::<u32>();
        let waiter = spawn(async move {
            clearloop::to_thread(move || rx.recv().unwrap())
                .await
                .unwrap()
        });
        std::thread::spawn(move || tx.send(7).unwrap());
        waiter.await
    });
    assert_eq!(value, 7);
}

#[test]
fn yield_now_goes_to_the_back_of_the_queue_on_a_worker() {
    // One worker; a parent task spawns three tasks that yield three times each. A
    // yield must let the others run (no letter twice in a row), as on the
    // single-threaded loop; a yield that jumped the queue would give "ccc...".
    let runtime = runtime(1);
    let order = Arc::new(Mutex::new(String::new()));
    let recorded = order.clone();
    runtime.block_on(async move {
        spawn(async move {
            let handles: Vec<_> = ['a', 'b', 'c']
                .into_iter()
                .map(|name| {
                    let order = recorded.clone();
                    spawn(async move {
                        for _ in 0..3 {
                            order.lock().unwrap().push(name);
                            clearloop::task::yield_now().await;
                        }
                    })
                })
                .collect();
            for handle in handles {
                handle.await;
            }
        })
        .await
    });
    let order = order.lock().unwrap().clone();
    assert_eq!(order.len(), 9, "{order}");
    let letters: Vec<char> = order.chars().collect();
    assert!(
        letters.windows(2).all(|pair| pair[0] != pair[1]),
        "a task ran twice in a row although others were ready: {order}"
    );
}

#[test]
fn a_handle_spawns_from_plain_threads_on_both_runtimes_and_cancels_after_shutdown() {
    for workers in [None, Some(2)] {
        let builder = Builder::new();
        let runtime = match workers {
            Some(n) => builder.worker_threads(n).build(),
            None => builder.build(),
        };
        let handle = runtime.handle();
        let tasks: Vec<_> = (0..4u64)
            .map(|i| {
                let handle = handle.clone();
                std::thread::spawn(move || {
                    (0..100u64)
                        .map(|j| handle.spawn(async move { i * 100 + j }))
                        .collect::<Vec<_>>()
                })
            })
            .flat_map(|thread| thread.join().unwrap())
            .collect();
        let sum = runtime.block_on(async move {
            let mut sum = 0;
            for task in tasks {
                sum += task.await;
            }
            sum
        });
        assert_eq!(sum, (0..400u64).sum::<u64>(), "workers: {workers:?}");
        drop(runtime);
        let late = handle.spawn(async { 1 });
        assert!(late.cancelled(), "workers: {workers:?}");
    }
}
