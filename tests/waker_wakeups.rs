//! Wakers: from another thread, during the poll, many times; none is lost.

mod common;
use common::virtual_runtime;

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use clearloop::{Runtime, run, spawn};

/// A future that is ready once `flag` is set, and counts its polls.
struct Flagged {
    flag: Arc<AtomicBool>,
    waker: Arc<Mutex<Option<Waker>>>,
    polls: Arc<AtomicUsize>,
}

impl Future for Flagged {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.polls.fetch_add(1, Ordering::SeqCst);
        // Register, then check: a set between the two is seen by the check.
        *self.waker.lock().unwrap() = Some(cx.waker().clone());
        if self.flag.load(Ordering::SeqCst) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

/// The future, its flag, the slot where it leaves its waker, its poll count.
type FlaggedParts = (
    Flagged,
    Arc<AtomicBool>,
    Arc<Mutex<Option<Waker>>>,
    Arc<AtomicUsize>,
);

fn flagged() -> FlaggedParts {
    let flag = Arc::new(AtomicBool::new(false));
    let waker = Arc::new(Mutex::new(None));
    let polls = Arc::new(AtomicUsize::new(0));
    let future = Flagged {
        flag: flag.clone(),
        waker: waker.clone(),
        polls: polls.clone(),
    };
    (future, flag, waker, polls)
}

#[test]
fn a_wake_from_another_thread_unparks_the_loop() {
    let (future, flag, waker, _) = flagged();
    let rt = Runtime::new(); // real clock: the loop really parks, with no timer at all
    let other = std::thread::spawn(move || {
        // Wait until the task has registered its waker, then set and wake.
        let w = loop {
            if let Some(w) = waker.lock().unwrap().clone() {
                break w;
            }
            std::thread::yield_now();
        };
        flag.store(true, Ordering::SeqCst);
        w.wake();
    });
    rt.block_on(async { spawn(future).await });
    other.join().unwrap();
}

#[test]
fn a_task_woken_ten_times_before_it_runs_is_polled_once() {
    let (future, flag, waker, polls) = flagged();
    virtual_runtime().block_on(async move {
        let task = spawn(future);
        clearloop::task::yield_now().await; // first poll: Pending
        assert_eq!(polls.load(Ordering::SeqCst), 1);
        flag.store(true, Ordering::SeqCst);
        let w = waker.lock().unwrap().clone().unwrap();
        for _ in 0..10 {
            w.wake_by_ref();
        }
        task.await;
        assert_eq!(polls.load(Ordering::SeqCst), 2);
    });
}

/// Wakes itself during its own poll, `remaining` times, then completes.
struct WakesItselfDuringPoll {
    remaining: usize,
    polls: Arc<AtomicUsize>,
}

impl Future for WakesItselfDuringPoll {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.polls.fetch_add(1, Ordering::SeqCst);
        if self.remaining == 0 {
            return Poll::Ready(());
        }
        self.remaining -= 1;
        // The waker fires while the task is RUNNING: the loop must poll it again.
        let waker = cx.waker().clone();
        std::thread::spawn(move || waker.wake()).join().unwrap();
        Poll::Pending
    }
}

#[test]
fn a_wake_during_the_poll_is_not_lost() {
    let polls = Arc::new(AtomicUsize::new(0));
    let p = polls.clone();
    run(async move {
        spawn(WakesItselfDuringPoll {
            remaining: 5,
            polls: p,
        })
        .await
    });
    assert_eq!(polls.load(Ordering::SeqCst), 6);
}

#[test]
fn many_threads_waking_many_tasks_lose_no_wake_up() {
    // Smaller under miri, which interprets every instruction.
    const TASKS: usize = if cfg!(miri) { 40 } else { 2_000 };
    const THREADS: usize = 4;
    let rt = Runtime::new();
    let mut wakers = Vec::new();
    let mut tasks = Vec::new();
    for _ in 0..TASKS {
        let (future, flag, waker, _) = flagged();
        wakers.push((flag, waker));
        tasks.push(rt.spawn(future));
    }
    let wakers = Arc::new(wakers);
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let wakers = wakers.clone();
            std::thread::spawn(move || {
                for (i, (flag, waker)) in wakers.iter().enumerate() {
                    // Each task is woken by every thread, once its waker exists;
                    // only thread 0 sets the flag, half-way through its wakes.
                    let w = loop {
                        if let Some(w) = waker.lock().unwrap().clone() {
                            break w;
                        }
                        std::thread::yield_now();
                    };
                    if t == 0 && i % 2 == 0 {
                        flag.store(true, Ordering::SeqCst);
                    }
                    w.wake_by_ref();
                    if t == 0 && i % 2 == 1 {
                        flag.store(true, Ordering::SeqCst);
                        w.wake();
                    }
                }
            })
        })
        .collect();
    rt.block_on(async move {
        for task in tasks {
            task.await;
        }
    });
    for thread in threads {
        thread.join().unwrap();
    }
    assert_eq!(rt.live_tasks(), 0);
}

#[test]
fn block_on_main_future_woken_from_another_thread() {
    let (future, flag, waker, _) = flagged();
    let other = std::thread::spawn(move || {
        let w = loop {
            if let Some(w) = waker.lock().unwrap().clone() {
                break w;
            }
            std::thread::yield_now();
        };
        std::thread::sleep(Duration::from_millis(1));
        flag.store(true, Ordering::SeqCst);
        w.wake();
    });
    Runtime::new().block_on(future); // not a task: block_on's own waker
    other.join().unwrap();
}
