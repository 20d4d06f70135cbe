//! Loom models of the hand-off: a release and a cancellation racing, on the real
//! code (under `--cfg loom` the primitives' internal mutex and the semaphore's
//! permit word are loom's, so loom explores every interleaving of their critical
//! sections and of the lock-free fast path around them).
//!
//! Run: `RUSTFLAGS="--cfg loom" cargo test --release --target-dir target/loom --test loom_sync`
//! (about 15 s; the three-thread models are bounded, see [`model_three_threads`]).
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

/// Runs a model of three threads that each lock or acquire and release, with at
/// most 4 preemptions per execution (unless `LOOM_MAX_PREEMPTIONS` says otherwise).
/// Since the semaphore's fast path is atomics beside the internal mutex, every one
/// of those is a point where loom may switch threads: explored exhaustively, these
/// two models took 14 minutes; bounded at 4, 7 s (3: 1.5 s). Loom's documentation:
/// most concurrency bugs show with 2 or 3 preemptions; the two-thread models
/// above stay exhaustive.
fn model_three_threads(model: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(4);
    }
    builder.check(model);
}

/// A waker that records that it was woken and unparks the thread that waits for it.
struct Unpark {
    woken: AtomicBool,
    thread: thread::Thread,
}

impl Wake for Unpark {
    fn wake(self: StdArc<Self>) {
        self.woken.store(true, Ordering::SeqCst);
        self.thread.unpark();
    }
}

/// Polls `future` until it is ready, parking the thread between polls until its
/// waker fires. With hand-off, one wake-up must be enough: a woken lock or
/// semaphore waiter already owns what it waited for.
///
/// Parked, not spinning: a thread that spins on `yield_now` gives loom an
/// execution of any length to explore (and, under `LOOM_MAX_PREEMPTIONS`, one it
/// cannot end: "Model exceeded maximum number of branches"); a parked thread is
/// simply not runnable until the wake-up comes. A lost wake-up leaves it parked
/// for good, which loom reports as a deadlock.
fn block_on_once_woken<F: Future + ?Sized>(mut future: Pin<&mut F>) -> F::Output {
    let unpark = StdArc::new(Unpark {
        woken: AtomicBool::new(false),
        thread: thread::current(),
    });
    let waker = Waker::from(unpark.clone());
    if let Poll::Ready(output) = poll(future.as_mut(), &waker) {
        return output;
    }
    while !unpark.woken.load(Ordering::SeqCst) {
        thread::park();
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
    model_three_threads(|| {
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
    model_three_threads(|| {
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

/// The fast path racing a registration: one thread gives a permit back (one atomic
/// add on the permit word, the lock only if it sees the QUEUED bit) while this
/// thread's acquire finds none free and queues. Either the acquire saw the permit
/// (its compare-and-swap to set QUEUED failed, it looked again and took it) or the
/// release saw QUEUED and served it under the lock: never a waiter left asleep
/// with a free permit.
#[test]
fn semaphore_fast_release_races_a_registration() {
    loom::model(|| {
        let sem: &'static Semaphore = leak(Semaphore::new(1));
        let held = sem.try_acquire().unwrap();
        let releaser = thread::spawn(move || drop(held));

        let (waker, woken) = flag_waker();
        let mut acquire = Box::pin(sem.acquire());
        let first = poll(acquire.as_mut(), &waker);
        releaser.join().unwrap();
        let permit = match first {
            Poll::Ready(permit) => permit,
            Poll::Pending => {
                assert!(woken.0.load(Ordering::SeqCst), "lost wake-up");
                let Poll::Ready(permit) = poll(acquire.as_mut(), &waker) else {
                    panic!("woken but not served");
                };
                permit
            }
        };
        assert_eq!(sem.available_permits(), 0);
        drop(permit);
        // The queue is empty again: the fast path must be open.
        assert!(!sem.locked());
        drop(sem.try_acquire().expect("a free permit, nobody queued"));
        assert_eq!(sem.available_permits(), 1);
    });
}

/// A lock taken and given back on the fast path by one thread (a compare-and-swap,
/// then an atomic add) while another's `lock()` looks, maybe queues, and is
/// cancelled; a third `try_lock` looks meanwhile. No lock is lost, two guards never
/// exist at once, and the lock ends free with the fast path open.
#[test]
fn mutex_fast_path_races_a_registration_and_its_cancel() {
    loom::model(|| {
        let lock: &'static Mutex<u32> = leak(Mutex::new(0));
        // Set while a guard exists: a second guard would find it set.
        let inside: &'static AtomicBool = leak(AtomicBool::new(false));
        let critical = |guard: &mut u32| {
            assert!(!inside.swap(true, Ordering::SeqCst), "two guards at once");
            *guard += 1;
            inside.store(false, Ordering::SeqCst);
        };
        let quick = thread::spawn(move || {
            if let Ok(mut guard) = lock.try_lock() {
                critical(&mut guard);
            }
        });
        let (waker, _) = flag_waker();
        let mut waiter = Box::pin(lock.lock());
        if let Poll::Ready(mut guard) = poll(waiter.as_mut(), &waker) {
            critical(&mut guard);
        }
        drop(waiter); // cancelled if it queued; a granted lock is handed back
        quick.join().unwrap();
        assert!(!lock.locked());
        assert_eq!(lock.waiting(), 0);
        let guard = lock.try_lock().expect("the lock ends free");
        assert!((1..=2).contains(&*guard), "at least one of the two got it");
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
