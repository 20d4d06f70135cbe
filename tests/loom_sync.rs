//! Loom models of the hand-off: a release and a cancellation racing, on the real
//! code (under `--cfg loom` the primitives' internal mutex is loom's, so loom
//! explores every interleaving of their critical sections).
//!
//! Run: `RUSTFLAGS="--cfg loom" cargo test --release --test loom_sync`
//!
//! Each model checks the two promises of the module: nothing is lost (the lock ends
//! free, the permits all come back) and nobody waits forever (a waiter that was
//! left pending was woken).
#![cfg(loom)]

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc as StdArc;
use std::task::{Context, Poll, Wake, Waker};

use clearloop::sync::{Barrier, BrokenBarrierError, Mutex, Semaphore};
use loom::sync::atomic::{AtomicBool, Ordering};
use loom::thread;

/// A waker that records that it was woken, in a loom atomic.
struct Flag(AtomicBool);

impl Wake for Flag {
    fn wake(self: StdArc<Self>) {
        self.0.store(true, Ordering::SeqCst);
    }
}

fn flag_waker() -> (Waker, StdArc<Flag>) {
    let flag = StdArc::new(Flag(AtomicBool::new(false)));
    (Waker::from(flag.clone()), flag)
}

fn poll<F: Future + ?Sized>(future: Pin<&mut F>, waker: &Waker) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(waker))
}

/// Threads need `'static` borrows; one small leak per explored execution is fine.
fn leak<T>(value: T) -> &'static T {
    Box::leak(Box::new(value))
}

/// The holder unlocks while the first waiter is cancelled; a second waiter
/// registers meanwhile. Whatever the order, the second waiter gets the lock (and
/// was woken if it had to wait), and the lock ends free.
#[test]
fn mutex_hand_off_under_concurrent_unlock_and_cancel() {
    loom::model(|| {
        let lock: &'static Mutex<u32> = leak(Mutex::new(0));
        let guard = lock.try_lock().unwrap();
        let (waker1, _) = flag_waker();
        let mut first = Box::pin(lock.lock());
        assert!(poll(first.as_mut(), &waker1).is_pending());

        let unlocker = thread::spawn(move || drop(guard));
        let canceller = thread::spawn(move || drop(first));

        let (waker2, woken2) = flag_waker();
        let mut second = Box::pin(lock.lock());
        let first_poll = poll(second.as_mut(), &waker2);

        unlocker.join().unwrap();
        canceller.join().unwrap();

        let outcome = match first_poll {
            Poll::Ready(guard) => Poll::Ready(guard),
            Poll::Pending => {
                // It had to wait: by now it must have been woken, and own the lock.
                assert!(woken2.0.load(Ordering::SeqCst), "lost wake-up");
                poll(second.as_mut(), &waker2)
            }
        };
        let Poll::Ready(mut guard) = outcome else {
            panic!("the lock was not handed on to the second waiter");
        };
        *guard += 1;
        drop(guard);
        assert!(!lock.locked());
        assert_eq!(lock.waiting(), 0);
    });
}

/// Two permits held; a request for 2 waits at the front, a request for 1 behind it.
/// The holder gives its permits back while the big request is cancelled. The small
/// one must end up served and woken, and every permit must come back.
#[test]
fn semaphore_hand_off_under_concurrent_release_and_cancel() {
    loom::model(|| {
        let sem: &'static Semaphore = leak(Semaphore::new(2));
        let held = sem.try_acquire_many(2).unwrap();
        let (waker1, _) = flag_waker();
        let mut big = Box::pin(sem.acquire_many(2));
        assert!(poll(big.as_mut(), &waker1).is_pending());
        let (waker2, woken2) = flag_waker();
        let mut small = Box::pin(sem.acquire());
        assert!(poll(small.as_mut(), &waker2).is_pending());

        let releaser = thread::spawn(move || drop(held));
        let canceller = thread::spawn(move || drop(big));
        releaser.join().unwrap();
        canceller.join().unwrap();

        assert!(woken2.0.load(Ordering::SeqCst), "lost wake-up");
        let Poll::Ready(permit) = poll(small.as_mut(), &waker2) else {
            panic!("the small request was not served");
        };
        assert_eq!(sem.available_permits(), 1);
        drop(permit);
        assert_eq!(sem.available_permits(), 2);
        assert_eq!(sem.waiting(), 0);
    });
}

/// `release()` (asyncio's explicit form) from one thread while a served waiter is
/// cancelled in another and a newcomer tries to take a permit in a third: the
/// count stays exact.
#[test]
fn semaphore_release_races_a_cancel_and_a_try_acquire() {
    loom::model(|| {
        let sem: &'static Semaphore = leak(Semaphore::new(1));
        sem.try_acquire().unwrap().forget(); // held, asyncio-style
        let (waker, _) = flag_waker();
        let mut waiter = Box::pin(sem.acquire());
        assert!(poll(waiter.as_mut(), &waker).is_pending());

        let releaser = thread::spawn(move || sem.release());
        let canceller = thread::spawn(move || drop(waiter));
        let newcomer = sem.try_acquire().ok();

        releaser.join().unwrap();
        canceller.join().unwrap();
        // Either the newcomer took the one permit, or it is free again.
        let expected_free = if newcomer.is_some() { 0 } else { 1 };
        assert_eq!(sem.available_permits(), expected_free);
        drop(newcomer);
        assert_eq!(sem.available_permits(), 1);
        assert_eq!(sem.waiting(), 0);
    });
}

/// Polls `future` until it is ready, sleeping (spinning on loom's scheduler) between
/// polls until its waker fires. With hand-off, one wake-up must be enough: a woken
/// lock or semaphore waiter already owns what it waited for.
fn block_on_once_woken<F: Future + ?Sized>(mut future: Pin<&mut F>) -> F::Output {
    let (waker, woken) = flag_waker();
    if let Poll::Ready(output) = poll(future.as_mut(), &waker) {
        return output;
    }
    while !woken.0.load(Ordering::SeqCst) {
        thread::yield_now();
    }
    match poll(future.as_mut(), &waker) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("woken but not served: the hand-off failed"),
    }
}

/// Three threads lock, increment, unlock. No increment is lost, every woken waiter
/// owns the lock at once, and the lock ends free.
#[test]
fn three_threads_share_a_mutex() {
    loom::model(|| {
        let lock: &'static Mutex<u32> = leak(Mutex::new(0));
        let threads: Vec<_> = (0..2)
            .map(|_| {
                thread::spawn(move || {
                    let mut guard = block_on_once_woken(Box::pin(lock.lock()).as_mut());
                    *guard += 1;
                })
            })
            .collect();
        {
            let mut guard = block_on_once_woken(Box::pin(lock.lock()).as_mut());
            *guard += 1;
        }
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(*lock.try_lock().unwrap(), 3);
        assert_eq!(lock.waiting(), 0);
    });
}

/// A semaphore of 2: one thread takes 2, another 1, and a third registers for 1 then
/// gives up. The permits all come back and the two that stayed are served.
#[test]
fn semaphore_with_a_big_request_and_a_quitter() {
    loom::model(|| {
        let sem: &'static Semaphore = leak(Semaphore::new(2));
        let big = thread::spawn(move || {
            let permit = block_on_once_woken(Box::pin(sem.acquire_many(2)).as_mut());
            assert_eq!(sem.available_permits(), 0);
            drop(permit);
        });
        let quitter = thread::spawn(move || {
            let (waker, _) = flag_waker();
            let mut acquire = Box::pin(sem.acquire());
            let _ = poll(acquire.as_mut(), &waker); // maybe served, maybe queued: dropped
        });
        let permit = block_on_once_woken(Box::pin(sem.acquire()).as_mut());
        drop(permit);
        big.join().unwrap();
        quitter.join().unwrap();
        assert_eq!(sem.available_permits(), 2);
        assert_eq!(sem.waiting(), 0);
    });
}

/// Barrier(2): A waits; the last arrival B races an `abort()`. Either B releases the
/// round (A gets index 0, B index 1) and the abort breaks nothing pending, or the
/// abort comes first (A and B both get the error). A is woken either way.
#[test]
fn barrier_last_arrival_races_abort() {
    loom::model(|| {
        let barrier: &'static Barrier = leak(Barrier::new(2));
        let (waker_a, woken_a) = flag_waker();
        let mut a = Box::pin(barrier.wait());
        assert!(poll(a.as_mut(), &waker_a).is_pending());

        let aborter = thread::spawn(move || barrier.abort());
        let (waker_b, _) = flag_waker();
        let mut b = Box::pin(barrier.wait());
        let Poll::Ready(b_outcome) = poll(b.as_mut(), &waker_b) else {
            panic!("B is the last party, or finds the barrier broken: it never waits");
        };
        aborter.join().unwrap();

        assert!(woken_a.0.load(Ordering::SeqCst), "lost wake-up");
        let Poll::Ready(a_outcome) = poll(a.as_mut(), &waker_a) else {
            panic!("A was woken but is still waiting");
        };
        match b_outcome {
            Ok(index) => assert_eq!((a_outcome, index), (Ok(0), 1)),
            Err(BrokenBarrierError) => assert_eq!(a_outcome, Err(BrokenBarrierError)),
        }
        assert_eq!(barrier.n_waiting(), 0);
        assert!(barrier.broken());
    });
}

/// Barrier(2): A waits and is cancelled while B arrives. Either B released A (then
/// A's outcome is forgotten with it), or A left first and B waits for a partner; a
/// third arrival C then completes B's round.
#[test]
fn barrier_arrival_races_a_cancelled_waiter() {
    loom::model(|| {
        let barrier: &'static Barrier = leak(Barrier::new(2));
        let (waker_a, _) = flag_waker();
        let mut a = Box::pin(barrier.wait());
        assert!(poll(a.as_mut(), &waker_a).is_pending());

        let canceller = thread::spawn(move || drop(a));
        let (waker_b, woken_b) = flag_waker();
        let mut b = Box::pin(barrier.wait());
        let b_first = poll(b.as_mut(), &waker_b);
        canceller.join().unwrap();

        match b_first {
            Poll::Ready(outcome) => {
                assert_eq!(outcome, Ok(1));
                assert_eq!(barrier.n_waiting(), 0);
            }
            Poll::Pending => {
                assert_eq!(barrier.n_waiting(), 1, "A left; only B waits");
                let (waker_c, _) = flag_waker();
                let mut c = Box::pin(barrier.wait());
                assert_eq!(poll(c.as_mut(), &waker_c), Poll::Ready(Ok(1)));
                assert!(woken_b.0.load(Ordering::SeqCst), "lost wake-up");
                assert_eq!(poll(b.as_mut(), &waker_b), Poll::Ready(Ok(0)));
            }
        }
    });
}
