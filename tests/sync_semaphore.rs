//! Semaphore and BoundedSemaphore: the three-at-a-time shape, FIFO with
//! `acquire_many`, over-release, a count too large for a usize, and cancellation.

mod common;

use std::sync::Arc;
use std::sync::Mutex as StdMutex;
use std::task::Poll;
use std::time::Duration;

use clearloop::sync::{BoundedSemaphore, Semaphore, SemaphorePermit};
use clearloop::time::{now, sleep};
use common::{counting_waker, poll_once, virtual_runtime};

fn assert_send_sync<T: Send + Sync>() {}

#[test]
fn semaphore_types_are_send_and_sync() {
    assert_send_sync::<Semaphore>();
    assert_send_sync::<BoundedSemaphore>();
    assert_send_sync::<SemaphorePermit<'static>>();
    assert_send_sync::<clearloop::sync::Acquire<'static>>();
}

#[test]
fn ten_tasks_run_three_at_a_time() {
    let rt = virtual_runtime();
    let log = Arc::new(StdMutex::new(Vec::new()));
    let took = rt.block_on(async {
        let sem = Arc::new(Semaphore::new(3));
        let start = now();
        let tasks: Vec<_> = (0..10)
            .map(|i| {
                let (sem, log) = (sem.clone(), log.clone());
                clearloop::spawn(async move {
                    let _permit = sem.acquire().await;
                    log.lock().unwrap().push((i, now() - start));
                    sleep(Duration::from_secs(1)).await;
                })
            })
            .collect();
        for task in tasks {
            task.await;
        }
        assert_eq!(sem.available_permits(), 3);
        now() - start
    });
    // 10 jobs of 1 s, 3 at a time: 4 rounds.
    assert_eq!(took, Duration::from_secs(4));
    let log = log.lock().unwrap();
    let entered: Vec<(usize, u64)> = log.iter().map(|&(i, at)| (i, at.as_secs())).collect();
    assert_eq!(
        entered,
        [
            (0, 0),
            (1, 0),
            (2, 0),
            (3, 1),
            (4, 1),
            (5, 1),
            (6, 2),
            (7, 2),
            (8, 2),
            (9, 3)
        ]
    );
}

#[test]
fn a_big_request_is_not_starved_by_small_ones() {
    let sem = Semaphore::new(4);
    let (waker, _) = counting_waker();
    let a = sem.try_acquire_many(2).unwrap();
    let b = sem.try_acquire_many(2).unwrap();
    let mut big = Box::pin(sem.acquire_many(3));
    assert!(poll_once(big.as_mut(), &waker).is_pending());

    drop(a); // 2 free: not enough for big (3)...
    assert_eq!(sem.available_permits(), 2);
    // ...and a newcomer may not take them: big is queued first.
    assert!(sem.try_acquire().is_err());
    assert!(sem.locked());
    let mut small = Box::pin(sem.acquire());
    assert!(poll_once(small.as_mut(), &waker).is_pending());

    drop(b); // 4 free: big gets 3, then small gets 1, in that order
    assert!(matches!(poll_once(big.as_mut(), &waker), Poll::Ready(p) if p.count() == 3));
    assert!(poll_once(small.as_mut(), &waker).is_ready());
    assert_eq!(sem.available_permits(), 4);
}

#[test]
fn cancelling_the_big_request_at_the_front_lets_the_small_ones_through() {
    let sem = Semaphore::new(2);
    let (waker, counter) = counting_waker();
    let held = sem.try_acquire().unwrap();
    let mut big = Box::pin(sem.acquire_many(2));
    let mut small = Box::pin(sem.acquire());
    assert!(poll_once(big.as_mut(), &waker).is_pending());
    assert!(poll_once(small.as_mut(), &waker).is_pending());
    assert_eq!(counter.count(), 0);
    drop(big); // 1 free, and now small is at the front: it is served at once
    assert_eq!(counter.count(), 1);
    assert!(poll_once(small.as_mut(), &waker).is_ready());
    drop(held);
}

#[test]
fn a_waiter_cancelled_after_being_served_hands_its_permits_on() {
    let sem = Semaphore::new(1);
    let (waker, counter) = counting_waker();
    let held = sem.try_acquire().unwrap();
    let mut first = Box::pin(sem.acquire());
    let mut second = Box::pin(sem.acquire());
    assert!(poll_once(first.as_mut(), &waker).is_pending());
    assert!(poll_once(second.as_mut(), &waker).is_pending());
    drop(held);
    assert_eq!(sem.available_permits(), 0, "handed to first, not put back");
    drop(first);
    assert_eq!(counter.count(), 2, "first, then second, were woken");
    assert!(poll_once(second.as_mut(), &waker).is_ready());
    assert_eq!(sem.available_permits(), 1);
}

#[test]
fn the_explicit_acquire_release_form() {
    let sem = Semaphore::new(3);
    sem.try_acquire().unwrap().forget(); // await sem.acquire()
    assert_eq!(sem.available_permits(), 2);
    sem.release(); // sem.release()
    assert_eq!(sem.available_permits(), 3);
    sem.add_permits(2);
    assert_eq!(sem.available_permits(), 5);
}

#[test]
fn bounded_semaphore_refuses_one_release_too_many() {
    let sem = BoundedSemaphore::new(2);
    let permit = sem.try_acquire().unwrap();
    permit.forget();
    assert_eq!(sem.release(), Ok(()));
    let error = sem.release().unwrap_err();
    assert_eq!(
        error.to_string(),
        "BoundedSemaphore released too many times: it counts 2 permit(s), was created with 2, \
         and releasing 1 more would exceed that (is release() called on two paths for one \
         acquire()?)"
    );
    assert_eq!(
        sem.available_permits(),
        2,
        "a refused release changes nothing"
    );
    // A permit held as a guard can never over-release: it gives back what it took.
    drop(sem.try_acquire().unwrap());
    assert_eq!(sem.available_permits(), 2);
}

#[test]
fn a_count_that_does_not_fit_is_an_error_not_a_wrap() {
    let sem = Semaphore::new(usize::MAX);
    let error = sem.try_add_permits(1).unwrap_err();
    assert!(
        error.to_string().contains("would not fit in a usize"),
        "{error}"
    );
    assert_eq!(sem.available_permits(), usize::MAX, "unchanged");
    let taken = sem.try_acquire_many(10).unwrap();
    assert!(sem.try_add_permits(10).is_err(), "held permits still count");
    drop(taken);
    assert_eq!(sem.available_permits(), usize::MAX);
}

#[test]
#[should_panic(expected = "cannot add 1 permit(s) to a semaphore that counts")]
fn add_permits_panics_with_the_message_on_overflow() {
    Semaphore::new(usize::MAX).add_permits(1);
}

#[test]
fn try_acquire_error_says_what_to_do() {
    let sem = Semaphore::new(0);
    let error = sem.try_acquire().unwrap_err();
    assert!(error.to_string().contains("acquire()"), "{error}");
}
