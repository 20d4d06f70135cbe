//! Cancellation at random points: 10,000 acquires, each dropped after a random
//! number of polls (often before it was served, sometimes after it was served but
//! before it ran). Afterwards nothing may be lost: the semaphore holds its initial
//! permits, the lock is free, nobody is queued.

mod common;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Poll, Waker};
use std::time::Duration;

use clearloop::sync::{Mutex, Semaphore, SemaphorePermit};
use clearloop::time::sleep;
use common::{Counter, Rng, counting_waker, poll_once, virtual_runtime};

const ACQUIRES: usize = 10_000;

/// One acquire in flight: its future, its own waker, and how many more polls it
/// gets before it is dropped.
struct InFlight<F> {
    future: Pin<Box<F>>,
    waker: Waker,
    woken: Arc<Counter>,
    polls_left: usize,
}

/// Counts of what happened, so the test can check it exercised every path.
#[derive(Debug, Default)]
struct Seen {
    served: usize,
    cancelled_waiting: usize,
    cancelled_after_served: usize,
}

/// Drives `ACQUIRES` acquire futures made by `start`, at random: poll one, drop one,
/// release a held guard. `weight` says how many permits a held output counts for.
fn churn<'a, F, G>(
    seed: u64,
    mut start: impl FnMut(&mut Rng) -> F,
    weight: impl Fn(&G) -> usize,
    capacity: usize,
    available: impl Fn() -> usize,
) -> Seen
where
    F: Future<Output = G> + 'a,
{
    let mut rng = Rng::new(seed);
    let mut in_flight: Vec<InFlight<F>> = Vec::new();
    let mut held: Vec<G> = Vec::new();
    let mut started = 0;
    let mut seen = Seen::default();
    while started < ACQUIRES || !in_flight.is_empty() {
        match rng.below(4) {
            // At most 8 in flight, so that each gets polled and served often enough.
            0 if started < ACQUIRES && in_flight.len() < 8 => {
                let (waker, woken) = counting_waker();
                in_flight.push(InFlight {
                    future: Box::pin(start(&mut rng)),
                    waker,
                    woken,
                    polls_left: rng.below(5), // 0: dropped before its first poll
                });
                started += 1;
            }
            1 if !in_flight.is_empty() => {
                let i = rng.below(in_flight.len());
                let f = &mut in_flight[i];
                if f.polls_left == 0 {
                    let f = in_flight.swap_remove(i);
                    if f.woken.count() > 0 {
                        seen.cancelled_after_served += 1;
                    } else {
                        seen.cancelled_waiting += 1;
                    }
                    continue;
                }
                f.polls_left -= 1;
                if let Poll::Ready(guard) = poll_once(f.future.as_mut(), &f.waker) {
                    seen.served += 1;
                    held.push(guard);
                    in_flight.swap_remove(i);
                }
            }
            2 if !held.is_empty() => {
                let i = rng.below(held.len());
                held.swap_remove(i);
            }
            _ => {}
        }
        let held_count: usize = held.iter().map(&weight).sum();
        assert!(
            held_count + available() <= capacity,
            "seed {seed}: {held_count} held + {} free > {capacity}",
            available()
        );
    }
    drop(held);
    seen
}

#[test]
fn semaphore_permits_all_come_back_after_random_cancellations() {
    for seed in [1, 2, 3] {
        let sem = Semaphore::new(3);
        let seen = churn(
            seed,
            |rng| sem.acquire_many(1 + rng.below(3)),
            |permit: &SemaphorePermit<'_>| permit.count(),
            3,
            || sem.available_permits(),
        );
        assert_eq!(sem.available_permits(), 3, "seed {seed}: {seen:?}");
        assert_eq!(sem.waiting(), 0, "seed {seed}");
        println!("seed {seed}: {seen:?}");
        assert!(
            seen.cancelled_after_served > 100,
            "seed {seed}: path not exercised: {seen:?}"
        );
        assert!(
            seen.cancelled_waiting > 100 && seen.served > 1_000,
            "seed {seed}: {seen:?}"
        );
    }
}

#[test]
fn the_lock_is_free_after_random_cancellations() {
    for seed in [4, 5, 6] {
        let lock = Mutex::new(0u32);
        let seen = churn(
            seed,
            |_| lock.lock(),
            |_| 1,
            1,
            || usize::from(!lock.locked()),
        );
        assert!(!lock.locked(), "seed {seed}: {seen:?}");
        assert_eq!(lock.waiting(), 0, "seed {seed}");
        assert!(lock.try_lock().is_ok());
        assert!(
            seen.cancelled_after_served > 100,
            "seed {seed}: path not exercised: {seen:?}"
        );
        println!("seed {seed}: {seen:?}");
    }
}

#[test]
fn tasks_cancelled_at_random_times_on_the_runtime_lose_no_permit() {
    let rt = virtual_runtime();
    rt.block_on(async {
        let sem = Arc::new(Semaphore::new(3));
        let lock = Arc::new(Mutex::new(0u64));
        let mut rng = Rng::new(7);
        let tasks: Vec<_> = (0..1_000)
            .map(|_| {
                let (sem, lock) = (sem.clone(), lock.clone());
                let (n, hold) = (1 + rng.below(3), rng.below(20) as u64);
                clearloop::spawn(async move {
                    let _permit = sem.acquire_many(n).await;
                    let mut guard = lock.lock().await;
                    sleep(Duration::from_millis(hold)).await;
                    *guard += 1;
                })
            })
            .collect();
        let mut cancelled = 0;
        for task in &tasks {
            if rng.below(3) == 0 {
                sleep(Duration::from_millis(rng.below(5) as u64)).await;
                cancelled += usize::from(task.cancel());
            }
        }
        let mut finished = 0;
        for task in tasks {
            finished += usize::from(task.join().await.is_ok());
        }
        assert!(cancelled > 100, "only {cancelled} cancelled");
        assert_eq!(*lock.lock().await as usize, finished);
        assert_eq!(sem.available_permits(), 3);
        assert!(!lock.locked());
    });
}
