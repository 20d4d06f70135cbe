//! The lock-free fast path of the Semaphore (and so of the Mutex): permits taken and
//! given back by one atomic instruction on the permit word while nobody waits, the
//! internal lock only when somebody does. These tests pin what the fast path must
//! not break: a newcomer never overtakes the queue, the queue's "somebody waits"
//! bit goes away with the last waiter (or the fast path would be closed for good),
//! a waiter cancelled right after its grant passes it on, and a guard or a permit
//! dropped on another thread serves (or frees) as it would on the task's own.
//! The queue's fast path (a put or a get that nobody waits for) is here too.

mod common;

use std::sync::Arc;
use std::sync::Mutex as StdMutex;
use std::task::Poll;

use clearloop::sync::{GetNowaitError, Mutex, Queue, Semaphore};
use common::{counting_waker, eventually, finishes_within, poll_once, virtual_runtime};

/// Every way the last waiter can leave the queue (served, cancelled while it
/// waited, cancelled after its grant) reopens the fast path: the permits are free
/// and a newcomer takes them without waiting.
#[test]
fn the_fast_path_reopens_however_the_last_waiter_leaves() {
    let (waker, _) = counting_waker();
    let sem = Semaphore::new(1);

    // Served, and the permit returned.
    let held = sem.try_acquire().unwrap();
    let mut served = Box::pin(sem.acquire());
    assert!(poll_once(served.as_mut(), &waker).is_pending());
    assert!(sem.locked());
    drop(held);
    let Poll::Ready(permit) = poll_once(served.as_mut(), &waker) else {
        panic!("the waiter was handed the permit");
    };
    drop(permit);
    assert!(!sem.locked(), "served and gone: nobody waits");
    drop(
        sem.try_acquire()
            .expect("fast path open after a served waiter"),
    );

    // Cancelled while it waited.
    let held = sem.try_acquire().unwrap();
    let mut quitter = Box::pin(sem.acquire());
    assert!(poll_once(quitter.as_mut(), &waker).is_pending());
    drop(quitter);
    assert_eq!(sem.waiting(), 0);
    drop(held);
    assert!(!sem.locked());
    drop(
        sem.try_acquire()
            .expect("fast path open after a cancelled waiter"),
    );

    // Cancelled after its grant, before it ran.
    let held = sem.try_acquire().unwrap();
    let mut granted = Box::pin(sem.acquire());
    assert!(poll_once(granted.as_mut(), &waker).is_pending());
    drop(held); // handed to `granted`
    assert!(
        sem.try_acquire().is_err(),
        "the permit is granted, not free"
    );
    drop(granted); // gives it back: nobody left to hand it to
    assert_eq!(sem.available_permits(), 1);
    assert!(!sem.locked());
    drop(
        sem.try_acquire()
            .expect("fast path open after a cancelled grant"),
    );
}

/// A big request at the front holds back a newcomer while too few permits are
/// free (the fast path must not let it pass); granted, then cancelled before it
/// ran, its permits go to the two small requests behind it, both woken; a
/// newcomer finds none free meanwhile, and the fast path reopens once they are back.
#[test]
fn a_grant_cancelled_at_once_goes_to_the_next_in_line() {
    let sem = Semaphore::new(2);
    let (waker, woken) = counting_waker();
    let (held1, held2) = (sem.try_acquire().unwrap(), sem.try_acquire().unwrap());
    let mut big = Box::pin(sem.acquire_many(2));
    let mut small1 = Box::pin(sem.acquire());
    let mut small2 = Box::pin(sem.acquire());
    assert!(poll_once(big.as_mut(), &waker).is_pending());
    assert!(poll_once(small1.as_mut(), &waker).is_pending());
    assert!(poll_once(small2.as_mut(), &waker).is_pending());

    drop(held1); // one free, but `big` at the front wants two
    assert_eq!(sem.available_permits(), 1);
    assert!(
        sem.try_acquire().is_err(),
        "a newcomer cannot pass the big request at the front"
    );
    assert_eq!(woken.count(), 0);
    drop(held2); // both permits to `big`, woken
    assert_eq!(woken.count(), 1);
    assert_eq!(sem.available_permits(), 0);
    drop(big); // cancelled right after its grant: both smalls served
    assert_eq!(woken.count(), 3, "each small request woken once");
    assert!(
        sem.try_acquire().is_err(),
        "a newcomer cannot take what was handed on"
    );
    let Poll::Ready(p1) = poll_once(small1.as_mut(), &waker) else {
        panic!("small1 holds a permit")
    };
    let Poll::Ready(p2) = poll_once(small2.as_mut(), &waker) else {
        panic!("small2 holds a permit")
    };
    drop((p1, p2));
    assert_eq!(sem.available_permits(), 2);
    assert_eq!(sem.waiting(), 0);
    drop(sem.try_acquire_many(2).expect("every permit came back"));
}

/// asyncio's `Lock.acquire` documentation: "Acquiring a lock is fair: the coroutine
/// that proceeds will be the first coroutine that started waiting on the lock." A
/// task that calls `lock()` just after the release, before the woken waiters ran,
/// finds the lock taken (it was handed on) and queues behind them.
#[test]
fn the_lock_goes_to_the_first_waiter_not_to_a_newcomer() {
    let order = Arc::new(StdMutex::new(Vec::new()));
    virtual_runtime().block_on(async {
        let lock = Arc::new(Mutex::new(()));
        let held = lock.lock().await;
        let mut tasks = Vec::new();
        for name in ["w1", "w2", "w3"] {
            let (lock, order) = (lock.clone(), order.clone());
            tasks.push(clearloop::spawn(async move {
                let _guard = lock.lock().await;
                order.lock().unwrap().push(name);
            }));
            clearloop::task::yield_now().await; // queued in this order
        }
        assert_eq!(lock.waiting(), 3);
        drop(held); // w1 owns it now; it has not run
        assert!(lock.try_lock().is_err(), "a newcomer's try_lock fails");
        // The newcomer's first poll happens before w1's next one.
        let newcomer = lock.lock();
        let guard = newcomer.await;
        order.lock().unwrap().push("newcomer");
        drop(guard);
        for task in tasks {
            task.await;
        }
        assert!(!lock.locked());
    });
    assert_eq!(*order.lock().unwrap(), ["w1", "w2", "w3", "newcomer"]);
}

/// The same rule for a semaphore (CPython 3.12's `Semaphore` is FIFO too): three
/// queued tasks are served in order, and permits returned while they wait never
/// go to a later `try_acquire`.
#[test]
fn semaphore_waiters_are_served_first_come_first_served() {
    let sem = Semaphore::new(2);
    let (waker, _) = counting_waker();
    let held = sem.try_acquire_many(2).unwrap();
    let mut waiters: Vec<_> = (0..3).map(|_| Box::pin(sem.acquire())).collect();
    for waiter in &mut waiters {
        assert!(poll_once(waiter.as_mut(), &waker).is_pending());
    }
    drop(held); // two permits: to waiters 0 and 1
    assert!(sem.try_acquire().is_err(), "waiter 2 is still queued");
    let mut permits = Vec::new();
    for waiter in &mut waiters[..2] {
        let Poll::Ready(permit) = poll_once(waiter.as_mut(), &waker) else {
            panic!("the first two waiters were served");
        };
        permits.push(permit);
    }
    assert!(poll_once(waiters[2].as_mut(), &waker).is_pending());
    permits.pop(); // one back: to waiter 2, not to a newcomer
    assert!(sem.try_acquire().is_err());
    let Poll::Ready(last) = poll_once(waiters[2].as_mut(), &waker) else {
        panic!("the third waiter was served");
    };
    drop((last, permits));
    assert_eq!(sem.available_permits(), 2);
    assert!(!sem.locked());
}

/// A guard dropped on another thread while a task waits for the lock: the thread
/// serves the waiter (and wakes its runtime); dropped with nobody waiting, the lock
/// is simply free, and what that thread wrote under it is seen by the next holder.
#[test]
fn a_guard_dropped_on_another_thread_hands_on_or_frees_the_lock() {
    finishes_within(std::time::Duration::from_secs(20), || {
        let lock = Mutex::new(0u32);
        for _ in 0..200 {
            // Somebody waits: the other thread's drop serves it.
            std::thread::scope(|scope| {
                let mut guard = lock.try_lock().unwrap();
                *guard += 1;
                let lock = &lock;
                scope.spawn(move || {
                    eventually("the task queues for the lock", || lock.waiting() == 1);
                    *guard += 1;
                    drop(guard);
                });
                let seen = clearloop::run(async { *lock.lock().await });
                assert_eq!(seen % 2, 0, "both increments of the other thread seen");
            });
            // Nobody waits: the other thread's drop frees the lock.
            std::thread::scope(|scope| {
                let mut guard = lock.try_lock().unwrap();
                scope.spawn(move || {
                    *guard += 2;
                    drop(guard);
                });
            });
            assert!(!lock.locked());
            assert_eq!(*lock.try_lock().unwrap() % 2, 0);
        }
        assert_eq!(*lock.try_lock().unwrap(), 800);
    });
}

/// Owned permits dropped on plain threads while tasks of a multi-threaded runtime
/// wait for them: every waiter is served, and every permit comes back.
#[test]
fn owned_permits_dropped_on_other_threads_serve_the_waiting_tasks() {
    finishes_within(std::time::Duration::from_secs(20), || {
        let sem = Arc::new(Semaphore::new(3));
        let runtime = clearloop::Builder::new().worker_threads(2).build();
        for _ in 0..50 {
            let held: Vec<_> = (0..3)
                .map(|_| sem.clone().try_acquire_owned().unwrap())
                .collect();
            let tasks: Vec<_> = (0..6)
                .map(|_| {
                    let sem = sem.clone();
                    runtime.spawn(async move {
                        let _permit = sem.acquire_owned().await;
                        clearloop::task::yield_now().await;
                    })
                })
                .collect();
            let droppers: Vec<_> = held
                .into_iter()
                .map(|permit| std::thread::spawn(move || drop(permit)))
                .collect();
            for dropper in droppers {
                dropper.join().unwrap();
            }
            runtime.block_on(async {
                for task in tasks {
                    task.await;
                }
            });
            assert_eq!(sem.available_permits(), 3);
            assert_eq!(sem.waiting(), 0);
        }
    });
}

/// The queue's fast path: a put that no getter waits for, and a get that no putter
/// waits for, take the lock, move the item and wake nobody. When a getter (or a
/// putter) does wait, the same call serves it first, and wakes it once.
#[test]
fn a_put_serves_a_waiting_getter_and_wakes_nobody_else() {
    let queue = Queue::new(0);
    let (waker, woken) = counting_waker();
    let mut put = Box::pin(queue.put(1));
    assert_eq!(poll_once(put.as_mut(), &waker), Poll::Ready(()));
    assert_eq!(woken.count(), 0, "nobody waited: nobody woken");
    let mut get = Box::pin(queue.get());
    assert_eq!(poll_once(get.as_mut(), &waker), Poll::Ready(1));

    // A getter waits: the put's fast path must serve it, not leave the item free.
    let mut getter = Box::pin(queue.get());
    assert!(poll_once(getter.as_mut(), &waker).is_pending());
    let mut put = Box::pin(queue.put(2));
    assert_eq!(poll_once(put.as_mut(), &waker), Poll::Ready(()));
    assert_eq!(woken.count(), 1, "the waiting getter was woken once");
    assert_eq!(
        queue.get_nowait(),
        Err(GetNowaitError::Empty),
        "the item is promised to the getter"
    );
    let mut newcomer = Box::pin(queue.get());
    assert!(poll_once(newcomer.as_mut(), &waker).is_pending());
    assert_eq!(poll_once(getter.as_mut(), &waker), Poll::Ready(2));
    queue.put_nowait(3).unwrap(); // the newcomer's, now
    assert_eq!(woken.count(), 2);
    assert_eq!(poll_once(newcomer.as_mut(), &waker), Poll::Ready(3));
    assert_eq!(queue.unfinished(), 3);
}

/// The other side: a get from a full queue serves the putter waiting for a place,
/// and that place is not a newcomer's.
#[test]
fn a_get_serves_a_waiting_putter_and_wakes_nobody_else() {
    let queue = Queue::new(1);
    let (waker, woken) = counting_waker();
    queue.put_nowait(0).unwrap();
    let mut putter = Box::pin(queue.put(1));
    assert!(poll_once(putter.as_mut(), &waker).is_pending());
    let mut get = Box::pin(queue.get());
    assert_eq!(poll_once(get.as_mut(), &waker), Poll::Ready(0));
    assert_eq!(woken.count(), 1, "the waiting putter was woken once");
    assert!(
        queue.put_nowait(9).is_err(),
        "the place is promised to the putter"
    );
    assert_eq!(poll_once(putter.as_mut(), &waker), Poll::Ready(()));
    let mut get = Box::pin(queue.get());
    assert_eq!(poll_once(get.as_mut(), &waker), Poll::Ready(1));
    assert_eq!(woken.count(), 1, "nobody waited: nobody woken");
    assert!(queue.empty());
}
