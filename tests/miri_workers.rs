//! The work-stealing runtime in a few small, bounded scenarios, sized so that miri
//! can run them (`cargo +nightly miri test --test miri_workers` with
//! `MIRIFLAGS=-Zmiri-tree-borrows`: under miri's default borrow model, the
//! `crossbeam-epoch` crate behind `crossbeam-deque` is reported before our code is
//! reached, a known incompatibility of that crate).
//!
//! Each test is also an ordinary test: it asserts what the runtime promises when
//! wakers outlive their runtime, and when several threads wake a task that is being
//! cancelled.

use std::future::Future;
use std::pin::Pin;
use std::sync::mpsc;
use std::task::{Context, Poll, Waker};
use std::thread;

use clearloop::Builder;
use clearloop::clock::Clock;

/// A future that hands its waker out on every poll and never completes.
struct HandsOutWaker(mpsc::Sender<Waker>);

impl Future for HandsOutWaker {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let _ = self.0.send(cx.waker().clone());
        Poll::Pending
    }
}

#[test]
fn a_waker_used_after_the_runtime_is_dropped_does_nothing() {
    let (tx, rx) = mpsc::channel();
    let runtime = Builder::new()
        .worker_threads(2)
        .clock(Clock::virtual_clock())
        .build();
    let task = runtime.spawn(HandsOutWaker(tx));
    let waker = rx
        .recv()
        .expect("a worker polls the task and hands out its waker");
    drop(runtime);
    // The task was cancelled at shutdown; waking it now must neither run it nor crash.
    waker.wake_by_ref();
    waker.wake();
    assert!(task.cancelled(), "shutdown cancels a pending task");
}

#[test]
fn two_threads_waking_a_task_while_it_is_cancelled_leave_it_cancelled() {
    let (tx, rx) = mpsc::channel();
    let runtime = Builder::new()
        .worker_threads(2)
        .clock(Clock::virtual_clock())
        .build();
    let task = runtime.spawn(HandsOutWaker(tx));
    let waker = rx
        .recv()
        .expect("a worker polls the task and hands out its waker");
    let wakers = [waker.clone(), waker];
    let wakers: Vec<_> = wakers
        .into_iter()
        .map(|waker| {
            thread::spawn(move || {
                for _ in 0..3 {
                    waker.wake_by_ref();
                }
            })
        })
        .collect();
    assert!(task.cancel(), "the task was pending, so cancel() succeeds");
    for thread in wakers {
        thread.join().expect("a waking thread panicked");
    }
    // Whatever the wake-ups did, the task ends cancelled and the runtime empties.
    let cancelled = runtime.block_on(async move { task.join().await.is_err() });
    assert!(cancelled);
    assert_eq!(runtime.live_tasks(), 0);
}
