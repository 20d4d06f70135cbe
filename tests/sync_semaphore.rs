//! Semaphore and BoundedSemaphore: the three-at-a-time shape, FIFO with
//! `acquire_many`, over-release, a count too large for a usize, and cancellation.

mod common;

use std::sync::Arc;
use std::sync::Mutex as StdMutex;
use std::sync::atomic::{AtomicUsize, Ordering};
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
fn a_count_above_the_maximum_is_an_error_not_a_wrap() {
    let sem = Semaphore::new(Semaphore::MAX_PERMITS);
    let error = sem.try_add_permits(1).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("would exceed Semaphore::MAX_PERMITS"),
        "{error}"
    );
    assert_eq!(sem.available_permits(), Semaphore::MAX_PERMITS, "unchanged");
    let taken = sem.try_acquire_many(10).unwrap();
    assert!(sem.try_add_permits(10).is_err(), "held permits still count");
    drop(taken);
    assert_eq!(sem.available_permits(), Semaphore::MAX_PERMITS);
}

#[test]
#[should_panic(
    expected = "Semaphore::add_permits(1): cannot add 1 permit(s) to a semaphore that counts"
)]
fn add_permits_panics_with_the_message_on_overflow() {
    Semaphore::new(Semaphore::MAX_PERMITS).add_permits(1);
}

#[test]
fn bounded_acquire_many_above_the_bound_is_an_error_at_once() {
    let sem = BoundedSemaphore::new(3);
    let error = sem.acquire_many(5).unwrap_err();
    assert_eq!((error.wanted(), error.most()), (5, 3));
    assert_eq!(
        error.to_string(),
        "BoundedSemaphore::acquire_many(5): this semaphore will never hold more than 3 \
         permit(s), so the request could only wait forever (and hold back every acquire() \
         behind it); ask for at most its bound, or use a Semaphore and add_permits()"
    );
    let error = sem.try_acquire_many(4).unwrap_err();
    assert!(error.can_never_succeed());
    assert!(
        error
            .to_string()
            .starts_with("BoundedSemaphore::try_acquire_many(4)"),
        "{error}"
    );
    // Nothing was queued: a later acquire() is not held back.
    assert_eq!(sem.available_permits(), 3);
    let all = clearloop::run(async { sem.acquire_many(3).unwrap().await.count() });
    assert_eq!(all, 3);
    // Exactly the bound is fine, and an ordinary refusal can succeed later.
    let held = sem.try_acquire_many(3).unwrap();
    assert!(!sem.try_acquire_many(1).unwrap_err().can_never_succeed());
    drop(held);
}

#[test]
fn semaphore_refuses_a_request_no_semaphore_can_serve() {
    let sem = Semaphore::new(3);
    let n = 0usize.wrapping_sub(1); // the subtraction that wrapped
    let error = sem.try_acquire_many(n).unwrap_err();
    assert!(error.can_never_succeed());
    assert!(
        error
            .to_string()
            .contains("Semaphore::MAX_PERMITS is the limit"),
        "{error}"
    );
    // A request a Semaphore might serve one day (it can grow) is not refused: it
    // waits, and holds back the queue, as the head-of-line rule says.
    assert!(!sem.try_acquire_many(4).unwrap_err().can_never_succeed());
    let panic = std::panic::catch_unwind(|| drop(sem.acquire_many(n))).unwrap_err();
    let message = panic.downcast_ref::<String>().unwrap();
    assert!(
        message.starts_with(&format!(
            "Semaphore::acquire_many({n}): this semaphore will never"
        )),
        "{message}"
    );
}

#[test]
fn a_big_request_at_the_front_is_served_once_permits_are_added() {
    // The head-of-line rule: acquire_many(5) on Semaphore(3) waits, and the
    // acquire() behind it waits too, with all 3 permits free, until 2 are added.
    let sem = Semaphore::new(3);
    let (waker, _) = counting_waker();
    let mut big = Box::pin(sem.acquire_many(5));
    let mut small = Box::pin(sem.acquire());
    assert!(poll_once(big.as_mut(), &waker).is_pending());
    assert!(poll_once(small.as_mut(), &waker).is_pending());
    assert_eq!(sem.available_permits(), 3);
    sem.add_permits(2);
    let Poll::Ready(permit) = poll_once(big.as_mut(), &waker) else {
        panic!("the big request was not served after add_permits(2)");
    };
    assert_eq!(permit.count(), 5);
    assert!(poll_once(small.as_mut(), &waker).is_pending());
    drop(permit);
    assert!(poll_once(small.as_mut(), &waker).is_ready());
}

#[test]
fn try_acquire_error_says_what_to_do() {
    let sem = Semaphore::new(0);
    let error = sem.try_acquire().unwrap_err();
    assert!(error.to_string().contains("acquire()"), "{error}");
}

#[test]
fn owned_permits_and_their_futures_are_static_and_send() {
    fn assert_static_send<T: Send + 'static>() {}
    assert_static_send::<clearloop::sync::OwnedSemaphorePermit>();
    assert_static_send::<clearloop::sync::AcquireOwned>();
}

/// The permit is taken by the spawning loop and moved into the task: the loop
/// itself waits when three tasks run, and each task's end (a return, a panic, a
/// cancellation) lets the next one start.
#[test]
fn owned_permits_moved_into_tasks_bound_concurrency_whatever_ends_the_task() {
    let rt = virtual_runtime();
    let running = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let (took, outcomes) = rt.block_on(async {
        let sem = Arc::new(Semaphore::new(3));
        let start = now();
        let mut tasks = Vec::new();
        for i in 0..10 {
            let permit = sem.clone().acquire_owned().await;
            assert_eq!(permit.count(), 1);
            let (running, most) = (running.clone(), most.clone());
            let task = clearloop::spawn(async move {
                let _permit = permit;
                let now_running = running.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now_running, Ordering::SeqCst);
                sleep(Duration::from_secs(1)).await;
                running.fetch_sub(1, Ordering::SeqCst);
                if i == 1 {
                    panic!("task 1 fails while holding its permit");
                }
                if i == 2 {
                    // Cancelled by main below before it ends: never gets here.
                    sleep(Duration::from_secs(1_000)).await;
                }
            });
            if i == 2 {
                task.cancel();
            }
            tasks.push(task);
        }
        let mut outcomes = Vec::new();
        for task in &tasks {
            task.wait().await;
            outcomes.push(match task.exception() {
                Ok(None) => "ok",
                Ok(Some(error)) if error.is_panic() => "panicked",
                _ => "cancelled",
            });
        }
        assert_eq!(sem.available_permits(), 3, "every permit came back");
        (now() - start, outcomes)
    });
    assert_eq!(most.load(Ordering::SeqCst), 3);
    assert_eq!(outcomes[1], "panicked");
    assert_eq!(outcomes[2], "cancelled");
    assert_eq!(outcomes.iter().filter(|o| **o == "ok").count(), 8);
    // Task 2 is cancelled at once (0 s), so its permit frees at once: 9 tasks of 1 s,
    // 3 at a time, end at 3 s.
    assert_eq!(took, Duration::from_secs(3));
}

#[test]
fn an_owned_acquire_cancelled_while_waiting_or_after_being_served_loses_no_permit() {
    let sem = Arc::new(Semaphore::new(1));
    let (waker, _) = counting_waker();
    let held = sem.clone().try_acquire_owned().unwrap();
    let mut served_then_dropped = Box::pin(sem.clone().acquire_owned());
    let mut dropped_while_waiting = Box::pin(sem.clone().acquire_owned());
    let mut last = Box::pin(sem.clone().acquire_owned());
    for waiter in [
        &mut served_then_dropped,
        &mut dropped_while_waiting,
        &mut last,
    ] {
        assert!(poll_once(waiter.as_mut(), &waker).is_pending());
    }
    assert!(sem.clone().try_acquire_owned().is_err(), "no overtaking");
    drop(dropped_while_waiting); // leaves the queue: nothing to hand on
    assert_eq!(sem.waiting(), 2);
    drop(held); // the permit goes to the first waiter...
    assert_eq!(sem.available_permits(), 0);
    drop(served_then_dropped); // ...which is cancelled before it ran: handed on
    let Poll::Ready(permit) = poll_once(last.as_mut(), &waker) else {
        panic!("the permit was lost on the way");
    };
    assert!(Arc::ptr_eq(permit.semaphore(), &sem));
    drop(permit);
    assert_eq!((sem.available_permits(), sem.waiting()), (1, 0));
}

#[test]
fn cancelling_tasks_that_wait_for_an_owned_permit_loses_none() {
    let rt = virtual_runtime();
    rt.block_on(async {
        let sem = Arc::new(Semaphore::new(2));
        let holders: Vec<_> = (0..2)
            .map(|_| {
                let sem = sem.clone();
                clearloop::spawn(async move {
                    let _permit = sem.acquire_owned().await;
                    sleep(Duration::from_secs(1)).await;
                })
            })
            .collect();
        let waiters: Vec<_> = (0..4)
            .map(|_| {
                let sem = sem.clone();
                clearloop::spawn(async move {
                    let _permit = sem.acquire_owned().await;
                    sleep(Duration::from_secs(1)).await;
                })
            })
            .collect();
        sleep(Duration::from_millis(500)).await;
        assert_eq!(sem.waiting(), 4);
        waiters[0].cancel();
        waiters[2].cancel();
        for task in holders.iter().chain(&waiters) {
            task.wait().await;
        }
        assert_eq!(sem.waiting(), 0);
        assert_eq!(sem.available_permits(), 2);
        let both = sem.clone().try_acquire_many_owned(2).unwrap();
        assert_eq!(both.count(), 2);
        both.forget();
        assert_eq!(sem.available_permits(), 0);
    });
}
