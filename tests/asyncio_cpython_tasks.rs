//! Cases of CPython 3.11's `Lib/test/test_asyncio/test_tasks.py` (and the `wait_for`
//! case now in `test_waitfor.py`) about cancellation, `shield` and `wait_for`,
//! ported to clearloop on the virtual clock. Each test names its CPython original.
//!
//! Ported: `test_cancel`, `test_cancel_yield`, `test_cancel_with_message_then_future_result`,
//! `..._then_future_exception`, `test_cancel_with_message_before_starting_task`,
//! `test_cancel_current_task`, `test_cancel_at_end` (with the difference below),
//! `test_cancel_awaited_task` (bpo-34872), `test_yield_future_passes_cancel`,
//! `test_yield_wait_does_not_shield_cancel`, `test_shield_result`,
//! `test_shield_shortcut`, `test_shield_exception`, `test_shield_cancel_inner`,
//! `test_shield_effect`, `test_shield_gather`, `test_cancel_gather_2`, `test_wait_for`
//! (test_waitfor.py), and the done-callback part of `test_task_repr`.
//!
//! Not ported, and why:
//! * `test_cancel_task_catching`, `test_cancel_task_ignoring`, `test_uncancel`,
//!   `test_cancelling`, `test_baseexception_during_cancel`,
//!   `test_cancellation_exception_context`: a Rust future cannot catch its
//!   cancellation (it is dropped, not resumed with an exception), so there is no
//!   `except CancelledError` to swallow, re-raise or chain.
//! * `test_task_cancel_waiter_future`, `test_cancel_inner_future`,
//!   `test_cancel_both_task_and_inner_future`: there the awaited object is a plain
//!   `asyncio.Future`. clearloop's [`Promise`](clearloop::future::Promise) is shared
//!   by many waiters, and a dropped waiter does not cancel it; only task handles
//!   bind.
//! * `test_gather_shield`: `gather` here takes task handles, not shields.
//! * Tracebacks, `repr`, `contextvars`, `ensure_future`, `get_coro`, `get_stack`,
//!   task factories, C/Python implementation and subclass tests, generator-based
//!   coroutines, `loop.stop()`, GC-driven "Task was destroyed" logging: no
//!   equivalent in the Rust API.

mod common;
use common::{DropFlag, virtual_runtime};

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use clearloop::future::Promise;
use clearloop::task::{shield, yield_now};
use clearloop::time::{now, sleep};
use clearloop::{ReturnWhen, gather_tasks, spawn, wait, wait_for};

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

/// test_cancel: a task sleeping 10 s is cancelled; it is done, cancelled, and a
/// second cancel() returns false.
#[test]
fn test_cancel() {
    virtual_runtime().block_on(async {
        let start = now();
        let t = spawn(async {
            sleep(secs(10.0)).await;
            12
        });
        yield_now().await;
        assert!(t.cancel());
        t.wait().await;
        assert!(t.done() && t.cancelled());
        assert!(!t.cancel());
        assert_eq!(now() - start, Duration::ZERO, "the 10 s sleep was dropped");
    });
}

/// test_cancel_yield: cancelled between two `sleep(0)`s.
#[test]
fn test_cancel_yield() {
    virtual_runtime().block_on(async {
        let t = spawn(async {
            yield_now().await;
            yield_now().await;
            12
        });
        yield_now().await; // start it
        t.cancel();
        assert!(t.join().await.unwrap_err().is_cancelled());
    });
}

/// test_cancel_with_message_then_future_result / _exception: the message travels
/// with the cancellation, through `result()` and `exception()`; no message, none.
#[test]
fn test_cancel_with_message_then_result_and_exception() {
    virtual_runtime().block_on(async {
        for message in [None, Some("my message")] {
            let task = spawn(sleep(secs(10.0)));
            yield_now().await;
            match message {
                Some(message) => assert!(task.cancel_with(message)),
                None => assert!(task.cancel()),
            }
            task.wait().await;
            let error = task.result().unwrap_err();
            assert!(error.is_cancelled());
            assert_eq!(error.cancel_message(), message);
            let error = task.exception().unwrap().unwrap();
            assert_eq!(error.cancel_message(), message);
        }
    });
}

/// test_cancel_with_message_before_starting_task: cancelled before its first poll.
#[test]
fn test_cancel_with_message_before_starting_task() {
    virtual_runtime().block_on(async {
        let task = spawn(sleep(secs(10.0)));
        task.cancel_with("my message");
        task.wait().await;
        let error = task.exception().unwrap().unwrap();
        assert_eq!(error.cancel_message(), Some("my message"));
    });
}

/// test_cancel_current_task: a task cancels itself; its next await does not run.
#[test]
fn test_cancel_current_task() {
    virtual_runtime().block_on(async {
        let start = now();
        let me = Arc::new(std::sync::OnceLock::<clearloop::Task<i32>>::new());
        let handle = me.clone();
        let slept = Arc::new(AtomicBool::new(false));
        let flag = slept.clone();
        let t = spawn(async move {
            yield_now().await;
            handle.get().unwrap().cancel();
            sleep(secs(100.0)).await;
            flag.store(true, Ordering::SeqCst);
            12
        });
        let _ = me.set(t);
        me.get().unwrap().wait().await;
        assert!(me.get().unwrap().cancelled());
        assert!(!me.get().unwrap().cancel());
        assert!(!slept.load(Ordering::SeqCst));
        assert_eq!(now() - start, Duration::ZERO);
    });
}

/// test_cancel_at_end, with a difference: in asyncio a task that cancels itself
/// and then returns ends cancelled. Here the poll that was running finishes first
/// (a Rust future cannot be interrupted mid-poll), and a task that returned has
/// its value: the cancel request comes too late.
#[test]
fn test_cancel_at_end_differs_the_returned_value_wins() {
    virtual_runtime().block_on(async {
        let me = Arc::new(std::sync::OnceLock::<clearloop::Task<i32>>::new());
        let handle = me.clone();
        let t = spawn(async move {
            yield_now().await;
            handle.get().unwrap().cancel();
            12
        });
        let _ = me.set(t);
        me.get().unwrap().wait().await;
        assert!(!me.get().unwrap().cancelled());
        assert_eq!(me.get().unwrap().result().unwrap(), 12);
    });
}

/// test_cancel_awaited_task (bpo-34872): a task that requested its own
/// cancellation, then awaits a nested task: the nested task is cancelled too.
#[test]
fn test_cancel_awaited_task() {
    virtual_runtime().block_on(async {
        let nested_dropped = Arc::new(AtomicBool::new(false));
        let flag = nested_dropped.clone();
        let me = Arc::new(std::sync::OnceLock::<clearloop::Task<()>>::new());
        let handle = me.clone();
        let nested_done = Arc::new(std::sync::OnceLock::new());
        let nested_seen = nested_done.clone();
        let task = spawn(async move {
            let nested = spawn(async move {
                let _flag = DropFlag(flag);
                Promise::<()>::new().wait().await.ok();
            });
            let _ = nested.add_done_callback(move |nested| {
                let _ = nested_seen.set(nested.cancelled());
            });
            yield_now().await;
            handle.get().unwrap().cancel();
            nested.await;
        });
        let _ = me.set(task);
        me.get().unwrap().wait().await;
        sleep(secs(0.1)).await;
        assert!(me.get().unwrap().cancelled());
        assert_eq!(
            nested_done.get(),
            Some(&true),
            "the nested task was cancelled"
        );
        assert!(nested_dropped.load(Ordering::SeqCst));
    });
}

/// test_yield_future_passes_cancel: cancelling outer() cancels the inner()
/// coroutine it awaits, and what inner() waits on (here: inner() is a task).
#[test]
fn test_yield_future_passes_cancel() {
    virtual_runtime().block_on(async {
        let proof = Arc::new(AtomicUsize::new(0));
        let waiter_dropped = Arc::new(AtomicBool::new(false));
        let (p, flag) = (proof.clone(), waiter_dropped.clone());
        let inner = async move {
            let _flag = DropFlag(flag);
            Promise::<()>::new().wait().await.ok();
            p.fetch_add(10, Ordering::SeqCst); // never: the await is cancelled
        };
        let f = spawn(async move { spawn(inner).await });
        yield_now().await;
        f.cancel();
        assert!(f.join().await.unwrap_err().is_cancelled());
        yield_now().await;
        assert!(waiter_dropped.load(Ordering::SeqCst));
        assert_eq!(proof.load(Ordering::SeqCst), 0);
    });
}

/// test_yield_wait_does_not_shield_cancel: cancelling outer() while it is in
/// `wait()` leaves inner() running: `wait` does not bind the tasks it watches.
#[test]
fn test_yield_wait_does_not_shield_cancel() {
    virtual_runtime().block_on(async {
        let proof = Arc::new(AtomicUsize::new(0));
        let waiter = Promise::<()>::new();
        let (p, w) = (proof.clone(), waiter.clone());
        let (p2, w2) = (proof.clone(), waiter.clone());
        let f = spawn(async move {
            let inner = spawn(async move {
                w.wait().await.ok();
                p.fetch_add(1, Ordering::SeqCst);
            });
            let _ = wait([inner], ReturnWhen::AllCompleted).await;
            let _ = w2;
            p2.fetch_add(100, Ordering::SeqCst);
        });
        yield_now().await;
        f.cancel();
        assert!(f.join().await.unwrap_err().is_cancelled());
        waiter.set_result(()).unwrap();
        yield_now().await;
        yield_now().await;
        assert_eq!(proof.load(Ordering::SeqCst), 1);
    });
}

/// test_shield_result and test_shield_shortcut: a shield gives the task's value,
/// whether the task finished before or after.
#[test]
fn test_shield_result_and_shortcut() {
    virtual_runtime().block_on(async {
        let later = spawn(async {
            sleep(secs(1.0)).await;
            42
        });
        assert_eq!(shield(later).await, 42);
        let already = spawn(async { 42 });
        already.wait().await;
        assert_eq!(shield(already).await, 42);
    });
}

/// test_shield_exception: a failure of the task reaches whoever awaits the shield.
#[test]
fn test_shield_exception() {
    virtual_runtime().block_on(async {
        let failing = spawn(async { panic!("expected") });
        let outer = spawn(async move { shield(failing).await });
        let error = outer.join().await.unwrap_err();
        assert_eq!(error.panic_message(), Some("expected"));
    });
}

/// test_shield_cancel_inner: the task behind the shield is cancelled, so the
/// shield's awaiter sees a cancellation.
#[test]
fn test_shield_cancel_inner() {
    virtual_runtime().block_on(async {
        let inner = spawn(sleep(secs(10.0)));
        let outer = spawn(async move {
            yield_now().await;
            inner.cancel(); // from inside, before the handle moves into the shield
            shield(inner).await
        });
        let error = outer.join().await.unwrap_err();
        assert!(error.is_panic(), "a cancelled task re-raises when awaited");
        assert!(error.panic_message().unwrap().contains("was cancelled"));
    });
}

/// test_shield_effect: cancelling outer() does not affect inner().
#[test]
fn test_shield_effect() {
    virtual_runtime().block_on(async {
        let proof = Arc::new(AtomicUsize::new(0));
        let waiter = Promise::<()>::new();
        let (p, w) = (proof.clone(), waiter.clone());
        let p2 = proof.clone();
        let f = spawn(async move {
            shield(spawn(async move {
                w.wait().await.ok();
                p.fetch_add(1, Ordering::SeqCst);
            }))
            .await;
            p2.fetch_add(100, Ordering::SeqCst);
        });
        yield_now().await;
        f.cancel();
        assert!(f.join().await.unwrap_err().is_cancelled());
        waiter.set_result(()).unwrap();
        yield_now().await;
        yield_now().await;
        assert_eq!(proof.load(Ordering::SeqCst), 1);
    });
}

/// test_shield_gather: a gather behind a shield finishes although the shield's
/// awaiter was cancelled.
#[test]
fn test_shield_gather() {
    virtual_runtime().block_on(async {
        let child1 = spawn(async {
            sleep(secs(1.0)).await;
            1
        });
        let child2 = spawn(async {
            sleep(secs(2.0)).await;
            2
        });
        let parent = spawn(gather_tasks([child1, child2]));
        let (tx, rx) = std::sync::mpsc::channel();
        let _ = parent.add_done_callback(move |parent| tx.send(parent.result()).unwrap());
        let outer = spawn(async move { shield(parent).await });
        yield_now().await;
        outer.cancel();
        assert!(outer.join().await.unwrap_err().is_cancelled());
        sleep(secs(3.0)).await;
        assert_eq!(rx.try_recv().unwrap().unwrap(), vec![1, 2]);
    });
}

/// test_cancel_gather_2: a task cancelled with a message while it awaits a gather:
/// its awaiter sees the message.
#[test]
fn test_cancel_gather_2() {
    virtual_runtime().block_on(async {
        let qwe = spawn(async {
            loop {
                let ticks = vec![spawn(sleep(secs(0.05)))];
                gather_tasks(ticks).await;
            }
        });
        sleep(secs(0.2)).await;
        qwe.cancel_with("my message");
        let error = qwe.join().await.unwrap_err();
        assert_eq!(error.cancel_message(), Some("my message"));
    });
}

/// test_wait_for (test_waitfor.py): `wait_for(task, 0.1)` on a task that sleeps
/// 0.2 s: the task is cancelled at 0.1, its `finally` (here: `Drop`) ran.
#[test]
fn test_wait_for_cancels_the_task() {
    virtual_runtime().block_on(async {
        let start = now();
        let foo_running = Arc::new(AtomicBool::new(false));
        let running = foo_running.clone();
        struct Finally(Arc<AtomicBool>);
        impl Drop for Finally {
            fn drop(&mut self) {
                self.0.store(false, Ordering::SeqCst);
            }
        }
        let fut = spawn(async move {
            running.store(true, Ordering::SeqCst);
            let _finally = Finally(running);
            sleep(secs(0.2)).await;
            "done"
        });
        let (tx, rx) = std::sync::mpsc::channel();
        let _ = fut.add_done_callback(move |fut| tx.send(fut.cancelled()).unwrap());
        assert!(wait_for(fut, secs(0.1)).await.is_err());
        assert_eq!(now() - start, secs(0.1));
        yield_now().await;
        yield_now().await;
        assert_eq!(rx.try_recv(), Ok(true), "cancelled due to the timeout");
        assert!(!foo_running.load(Ordering::SeqCst));
    });
}

/// From test_task_repr: a task with a done-callback runs it once cancelled.
#[test]
fn test_task_repr_done_callback_after_cancel() {
    virtual_runtime().block_on(async {
        let called = Arc::new(AtomicUsize::new(0));
        let count = called.clone();
        let t = spawn(sleep(secs(10.0)));
        let _ = t.add_done_callback(move |_| {
            count.fetch_add(1, Ordering::SeqCst);
        });
        t.cancel();
        t.wait().await;
        yield_now().await;
        assert_eq!(called.load(Ordering::SeqCst), 1);
    });
}
