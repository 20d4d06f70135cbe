//! Stress with real threads: each thread runs its own clearloop runtime, and tasks
//! on different threads share one lock, one semaphore, one queue. Wake-ups cross
//! threads. These tests count; they never time anything.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

use clearloop::sync::{Mutex, Queue, Semaphore};
use clearloop::task::yield_now;

const THREADS: usize = 4;
const TASKS_PER_THREAD: usize = 4;

/// Runs `make_task(thread, task)` as TASKS_PER_THREAD tasks on each of THREADS
/// threads, each thread with its own runtime, and waits for all of them.
fn on_threads<F, Fut>(make_task: F)
where
    F: Fn(usize, usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let make_task = Arc::new(make_task);
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let make_task = make_task.clone();
            thread::spawn(move || {
                clearloop::run(async move {
                    let tasks: Vec<_> = (0..TASKS_PER_THREAD)
                        .map(|i| clearloop::spawn(make_task(t, i)))
                        .collect();
                    for task in tasks {
                        task.await;
                    }
                })
            })
        })
        .collect();
    for thread in threads {
        thread.join().expect("a stress thread panicked");
    }
}

#[test]
fn no_increment_is_lost_under_the_lock() {
    const INCREMENTS: usize = 2_000;
    let counter = Arc::new(Mutex::new(0usize));
    let shared = counter.clone();
    on_threads(move |_, _| {
        let counter = shared.clone();
        async move {
            for i in 0..INCREMENTS {
                let mut n = counter.lock().await;
                let seen = *n;
                if i % 7 == 0 {
                    yield_now().await; // hold the lock across a suspension
                }
                *n = seen + 1;
            }
        }
    });
    assert_eq!(
        counter.try_lock().map(|n| *n).ok(),
        Some(THREADS * TASKS_PER_THREAD * INCREMENTS)
    );
}

#[test]
fn never_more_holders_than_permits() {
    const ROUNDS: usize = 2_000;
    let sem = Arc::new(Semaphore::new(3));
    let inside = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let (s, i, m) = (sem.clone(), inside.clone(), most.clone());
    on_threads(move |t, task| {
        let (sem, inside, most) = (s.clone(), i.clone(), m.clone());
        async move {
            for round in 0..ROUNDS {
                let n = 1 + (t + task + round) % 2;
                let _permit = sem.acquire_many(n).await;
                let now = inside.fetch_add(n, Ordering::SeqCst) + n;
                most.fetch_max(now, Ordering::SeqCst);
                assert!(now <= 3, "{now} permits held at once");
                yield_now().await;
                inside.fetch_sub(n, Ordering::SeqCst);
            }
        }
    });
    assert_eq!(sem.available_permits(), 3);
    assert_eq!(sem.waiting(), 0);
    assert!(
        most.load(Ordering::SeqCst) >= 2,
        "the semaphore was never shared"
    );
}

#[test]
fn every_item_crosses_the_queue_once() {
    const ITEMS: usize = 5_000;
    let queue = Arc::new(Queue::new(16));
    let sum = Arc::new(AtomicUsize::new(0));
    let (q, s) = (queue.clone(), sum.clone());
    // Threads 0 and 1 produce, threads 2 and 3 consume; the same number of each.
    on_threads(move |t, _| {
        let (queue, sum) = (q.clone(), s.clone());
        async move {
            if t < THREADS / 2 {
                for item in 1..=ITEMS {
                    queue.put(item).await;
                }
            } else {
                for _ in 0..ITEMS {
                    let item = queue.get().await;
                    sum.fetch_add(item, Ordering::SeqCst);
                    queue.task_done().unwrap();
                }
            }
        }
    });
    let producers = THREADS / 2 * TASKS_PER_THREAD;
    assert_eq!(
        sum.load(Ordering::SeqCst),
        producers * ITEMS * (ITEMS + 1) / 2
    );
    assert!(queue.empty());
    assert_eq!(queue.unfinished(), 0);
}
