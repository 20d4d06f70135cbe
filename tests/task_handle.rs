//! Task handles: names, done/result/exception, panics, detach, cancel.

mod common;
use common::{DropFlag, virtual_runtime};

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use clearloop::clock::Clock;
use clearloop::task::yield_now;
use clearloop::time::{now, sleep};
use clearloop::{Builder, run, spawn};

#[test]
fn tasks_are_named_like_asyncio_and_can_be_renamed() {
    virtual_runtime().block_on(async {
        let a = spawn(async {});
        let b = spawn(async {});
        assert_eq!(a.name(), "Task-1");
        assert_eq!(b.name(), "Task-2");
        b.set_name("worker");
        assert_eq!(b.name(), "worker");
        a.await;
        b.await;
    });
}

#[test]
fn a_panic_is_caught_stored_and_the_loop_goes_on() {
    let rt = virtual_runtime();
    let survivor_ran = Arc::new(AtomicBool::new(false));
    let flag = survivor_ran.clone();
    rt.block_on(async move {
        let failing = spawn(async {
            sleep(Duration::from_secs(1)).await;
            panic!("Ceci est une erreur !");
        });
        let survivor = spawn(async move {
            sleep(Duration::from_secs(2)).await;
            flag.store(true, Ordering::SeqCst);
            7
        });
        failing.wait().await;
        assert!(failing.done());
        let error = failing.exception().unwrap().expect("it panicked");
        assert!(error.is_panic());
        assert_eq!(error.panic_message(), Some("Ceci est une erreur !"));
        assert_eq!(
            error.to_string(),
            "task 'Task-1' panicked: Ceci est une erreur !"
        );
        let again = failing.result().unwrap_err();
        assert_eq!(again.panic_message(), Some("Ceci est une erreur !"));
        assert_eq!(survivor.await, 7);
    });
    assert!(survivor_ran.load(Ordering::SeqCst));
}

#[test]
fn awaiting_a_panicked_task_re_raises_the_same_panic() {
    let caught = std::panic::catch_unwind(|| {
        virtual_runtime().block_on(async {
            let task = spawn(async {
                yield_now().await;
                std::panic::panic_any(42_u32);
            });
            task.await
        })
    });
    let payload = caught.expect_err("the await must re-raise");
    assert_eq!(payload.downcast_ref::<u32>(), Some(&42));
}

#[test]
fn join_gives_the_panic_as_an_error_with_its_payload() {
    virtual_runtime().block_on(async {
        let task = spawn(async { panic!("boom") });
        let error = task.join().await.unwrap_err();
        assert!(error.is_panic());
        let payload = error.into_panic().expect("join hands over the payload");
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"boom"));
    });
}

#[test]
fn result_and_exception_before_completion_are_invalid_state_not_a_hang() {
    virtual_runtime().block_on(async {
        let task = spawn(async {
            sleep(Duration::from_secs(5)).await;
            1
        });
        let error = task.result().unwrap_err();
        assert!(error.is_not_done());
        assert!(error.to_string().contains("not done"), "{error}");
        assert!(task.exception().unwrap_err().is_not_done());
        assert_eq!(task.await, 1);
    });
}

#[test]
fn a_successful_task_has_no_exception() {
    virtual_runtime().block_on(async {
        let task = spawn(async { 5 });
        task.wait().await;
        assert!(task.exception().unwrap().is_none());
        assert_eq!(task.result().unwrap(), 5);
    });
}

#[test]
fn dropping_the_handle_detaches_the_task_which_still_runs() {
    let finished = Arc::new(AtomicBool::new(false));
    let flag = finished.clone();
    virtual_runtime().block_on(async move {
        drop(spawn(async move {
            sleep(Duration::from_secs(1)).await;
            flag.store(true, Ordering::SeqCst);
        }));
        sleep(Duration::from_secs(2)).await;
    });
    assert!(finished.load(Ordering::SeqCst));
}

#[test]
// The handle is returned on purpose, to look at the task after shutdown.
#[allow(clippy::async_yields_async)]
fn tasks_pending_when_run_returns_are_cancelled_and_dropped() {
    let dropped = Arc::new(AtomicBool::new(false));
    let reached_end = Arc::new(AtomicBool::new(false));
    let (d, r) = (dropped.clone(), reached_end.clone());
    let rt = virtual_runtime();
    let handle = rt.block_on(async move {
        let handle = spawn(async move {
            let _flag = DropFlag(d);
            sleep(Duration::from_secs(3600)).await;
            r.store(true, Ordering::SeqCst);
        });
        yield_now().await; // the task starts, then waits on its timer
        handle
    });
    assert!(
        !dropped.load(Ordering::SeqCst),
        "still alive while the runtime is"
    );
    assert_eq!(rt.live_tasks(), 1);
    drop(rt);
    assert!(dropped.load(Ordering::SeqCst), "shutdown drops the future");
    assert!(!reached_end.load(Ordering::SeqCst));
    assert!(handle.cancelled());
    assert!(handle.result().unwrap_err().is_cancelled());
}

#[test]
fn cancel_drops_the_future_at_its_next_turn_and_releases_its_timer() {
    let rt = virtual_runtime();
    let dropped = Arc::new(AtomicBool::new(false));
    let d = dropped.clone();
    rt.block_on(async move {
        let task = spawn(async move {
            let _flag = DropFlag(d);
            sleep(Duration::from_secs(10)).await;
        });
        yield_now().await; // let it start and register its timer
        assert!(task.cancel());
        task.wait().await;
        assert!(task.cancelled());
        assert!(!task.cancel(), "cancel() on a finished task returns false");
        let error = task.join().await.unwrap_err();
        assert!(error.is_cancelled());
        assert_eq!(error.to_string(), "task 'Task-1' was cancelled");
    });
    assert!(dropped.load(Ordering::SeqCst));
    assert_eq!(rt.pending_timers(), 0);
    assert_eq!(rt.live_tasks(), 0);
}

#[test]
fn awaiting_a_cancelled_task_raises_the_cancellation() {
    let caught = std::panic::catch_unwind(|| {
        virtual_runtime().block_on(async {
            let task = spawn(sleep(Duration::from_secs(1)));
            task.cancel();
            task.await
        })
    });
    let payload = caught.unwrap_err();
    let message = payload.downcast_ref::<String>().unwrap();
    assert_eq!(message, "task 'Task-1' was cancelled");
}

#[test]
fn run_inside_a_runtime_panics_with_a_message_naming_the_fix() {
    let caught = std::panic::catch_unwind(|| run(async { run(async {}) }));
    let payload = caught.unwrap_err();
    let message = payload.downcast_ref::<&str>().copied().unwrap_or_default();
    assert!(message.contains("inside a running runtime"), "{message}");
    assert!(message.contains(".await"), "{message}");
    // The thread is usable again afterwards: the context was cleaned up.
    assert_eq!(run(async { 3 }), 3);
}

#[test]
fn spawn_outside_a_runtime_panics_with_a_message_naming_the_fix() {
    let caught = std::panic::catch_unwind(|| drop(spawn(async {})));
    let payload = caught.unwrap_err();
    let message = payload.downcast_ref::<String>().unwrap();
    assert!(message.contains("outside a clearloop runtime"), "{message}");
    assert!(message.contains("clearloop::run"), "{message}");
}

#[test]
fn runtime_spawn_before_block_on_runs_during_it() {
    let rt = virtual_runtime();
    let counter = Arc::new(AtomicUsize::new(0));
    let c = counter.clone();
    let task = rt.spawn(async move {
        c.fetch_add(1, Ordering::SeqCst);
        "early"
    });
    assert_eq!(
        counter.load(Ordering::SeqCst),
        0,
        "nothing runs before block_on"
    );
    assert_eq!(rt.block_on(task), "early");
    assert_eq!(counter.load(Ordering::SeqCst), 1);
}

#[test]
fn a_task_that_always_yields_does_not_starve_timers() {
    // A manual clock: virtual time moves only when somebody moves it. (An
    // auto-advance clock would never move here: it jumps only when every task is
    // idle, and the spinner never is.) The spinner itself moves it, on its 10th turn.
    let clock = Clock::manual(std::time::SystemTime::UNIX_EPOCH);
    let rt = Builder::new().clock(clock.clone()).build();
    rt.block_on(async move {
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        let spinner = spawn(async move {
            let mut turns = 0_u64;
            while !s.load(Ordering::SeqCst) {
                if turns == 10 {
                    clock.advance(Duration::from_millis(1));
                }
                yield_now().await;
                turns += 1;
            }
            turns
        });
        let start = now();
        // Completes only if the loop checks its timers while the spinner spins.
        sleep(Duration::from_millis(1)).await;
        stop.store(true, Ordering::SeqCst);
        assert_eq!(now() - start, Duration::from_millis(1));
        assert!(spinner.await > 10);
    });
}

#[test]
fn block_on_can_run_several_times_on_one_runtime() {
    let rt = virtual_runtime();
    let a = rt.block_on(async { spawn(async { 1 }).await });
    let b = rt.block_on(async { spawn(async { 2 }).await });
    assert_eq!((a, b), (1, 2));
}
