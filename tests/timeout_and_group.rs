//! wait_for / timeout, TaskGroup, and debug mode's warnings, on the virtual clock.

mod common;
use common::{DropFlag, virtual_runtime};

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clearloop::clock::Clock;
use clearloop::debug::Warning;
use clearloop::task::yield_now;
use clearloop::time::{now, sleep};
use clearloop::{Builder, Runtime, TaskGroup, spawn, timeout, wait_for};

#[test]
fn wait_for_times_out_at_exactly_the_deadline_and_drops_the_future() {
    let rt = virtual_runtime();
    let dropped = Arc::new(AtomicBool::new(false));
    let flag = dropped.clone();
    rt.block_on(async move {
        let start = now();
        let slow = async move {
            let _flag = DropFlag(flag);
            sleep(Duration::from_secs(10)).await;
            "too late"
        };
        let error = wait_for(slow, Duration::from_secs(2)).await.unwrap_err();
        assert_eq!(now() - start, Duration::from_secs(2));
        assert_eq!(error.duration(), Duration::from_secs(2));
        assert!(
            error.to_string().contains("timed out after 2.000 s"),
            "{error}"
        );
    });
    assert!(
        dropped.load(Ordering::SeqCst),
        "the slow future was cancelled"
    );
    assert_eq!(
        rt.pending_timers(),
        0,
        "neither its timer nor the timeout's is left"
    );
}

#[test]
fn finishing_in_time_leaves_no_timer_behind() {
    let rt = virtual_runtime();
    rt.block_on(async {
        let start = now();
        let value = timeout(Duration::from_secs(5), async {
            sleep(Duration::from_secs(1)).await;
            7
        })
        .await;
        assert_eq!(value, Ok(7));
        assert_eq!(now() - start, Duration::from_secs(1));
        assert_eq!(rt.pending_timers(), 0);
        // Ready at once: no timer was ever created.
        assert_eq!(timeout(Duration::from_secs(5), async { 8 }).await, Ok(8));
        assert_eq!(rt.pending_timers(), 0);
        // And time does not jump to the 5 s deadline afterwards.
        let later = now();
        sleep(Duration::from_millis(1)).await;
        assert_eq!(now() - later, Duration::from_millis(1));
    });
}

#[test]
fn a_task_that_times_out_is_cancelled_by_its_owner() {
    virtual_runtime().block_on(async {
        let task = spawn(sleep(Duration::from_secs(60)));
        assert!(wait_for(task.wait(), Duration::from_secs(1)).await.is_err());
        assert!(!task.done(), "a handle's timeout does not stop the task");
        assert!(task.cancel());
        task.wait().await;
        assert!(task.cancelled());
    });
}

#[test]
fn task_group_waits_for_all_its_tasks() {
    let took = virtual_runtime().block_on(async {
        let start = now();
        let mut group = TaskGroup::new();
        let a = group.spawn(async {
            sleep(Duration::from_secs(1)).await;
            1
        });
        let b = group.spawn(async {
            sleep(Duration::from_secs(2)).await;
            "two"
        });
        group.wait().await.unwrap();
        assert_eq!((a.result().unwrap(), b.result().unwrap()), (1, "two"));
        now() - start
    });
    assert_eq!(took, Duration::from_secs(2));
}

#[test]
fn task_group_cancels_the_rest_on_first_failure_and_reports_every_panic() {
    let cancelled = Arc::new(AtomicBool::new(false));
    let flag = cancelled.clone();
    virtual_runtime().block_on(async move {
        let start = now();
        let mut group = TaskGroup::new();
        // Handles dropped: the group still watches the tasks.
        drop(group.spawn(async {
            sleep(Duration::from_secs(1)).await;
            panic!("first")
        }));
        drop(group.spawn(async {
            sleep(Duration::from_secs(1)).await;
            panic!("second, at the same time")
        }));
        let long = group.spawn(async move {
            let _flag = DropFlag(flag);
            sleep(Duration::from_secs(100)).await;
        });
        let error = group.wait().await.unwrap_err();
        assert_eq!(
            now() - start,
            Duration::from_secs(1),
            "no wait for the long one"
        );
        assert!(long.cancelled());
        let messages: Vec<_> = error
            .errors()
            .iter()
            .map(|e| e.panic_message().unwrap())
            .collect();
        assert_eq!(messages, ["first", "second, at the same time"]);
        let text = error.to_string();
        assert!(
            text.starts_with("unhandled errors in a TaskGroup (2 sub-exceptions)"),
            "{text}"
        );
    });
    assert!(cancelled.load(Ordering::SeqCst));
}

#[test]
fn a_task_group_dropped_without_wait_cancels_its_tasks() {
    let rt = virtual_runtime();
    rt.block_on(async {
        let handle = {
            let mut group = TaskGroup::new();
            let handle = group.spawn(sleep(Duration::from_secs(5)));
            yield_now().await;
            handle
        };
        handle.wait().await;
        assert!(handle.cancelled());
    });
    assert_eq!(rt.pending_timers(), 0);
}

fn collecting_runtime() -> (Runtime, Arc<Mutex<Vec<Warning>>>) {
    let warnings = Arc::new(Mutex::new(Vec::new()));
    let sink = warnings.clone();
    let rt = Builder::new()
        .clock(Clock::virtual_clock())
        .debug(true)
        .slow_poll_threshold(Duration::from_millis(20))
        .on_warning(move |w| sink.lock().unwrap().push(w.clone()))
        .build();
    (rt, warnings)
}

#[test]
fn debug_mode_reports_a_poll_that_blocks_the_thread() {
    let (rt, warnings) = collecting_runtime();
    rt.block_on(async {
        let blocker = spawn(async {
            // The mistake: a blocking sleep inside async code (real time passes).
            std::thread::sleep(Duration::from_millis(40));
        });
        blocker.set_name("blocker");
        let polite = spawn(sleep(Duration::from_millis(40)));
        blocker.await;
        polite.await;
    });
    let warnings = warnings.lock().unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    match &warnings[0] {
        Warning::SlowPoll { task, took } => {
            assert_eq!(task, "blocker");
            assert!(*took >= Duration::from_millis(40));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(
        warnings[0]
            .to_string()
            .starts_with("Executing <Task blocker> took 0.0")
    );
}

#[test]
fn debug_mode_reports_a_panic_nobody_retrieved() {
    let (rt, warnings) = collecting_runtime();
    rt.block_on(async {
        // Looked at: no warning.
        let seen = spawn(async { panic!("seen") });
        seen.wait().await;
        assert!(seen.exception().unwrap().is_some());
        drop(seen);
        // Handle dropped before the end: reported when the task fails.
        drop(spawn(async {
            yield_now().await;
            panic!("detached and failed")
        }));
        // Handle kept until after the end, never asked: reported at the drop.
        let ignored = spawn(async { panic!("ignored") });
        ignored.wait().await;
        drop(ignored);
        sleep(Duration::from_millis(1)).await;
    });
    // Only the "never retrieved" ones: printing a panic's backtrace may itself make
    // a poll slow enough to be reported.
    let messages: Vec<String> = warnings
        .lock()
        .unwrap()
        .iter()
        .filter(|w| matches!(w, Warning::ExceptionNeverRetrieved { .. }))
        .map(|w| w.to_string())
        .collect();
    assert_eq!(
        messages,
        [
            "Task exception was never retrieved: task 'Task-3' panicked: ignored",
            "Task exception was never retrieved: task 'Task-2' panicked: detached and failed",
        ]
    );
}

#[test]
fn debug_mode_is_off_by_default_here() {
    let warnings = Arc::new(AtomicUsize::new(0));
    let count = warnings.clone();
    let rt = Builder::new()
        .clock(Clock::virtual_clock())
        .debug(false)
        .slow_poll_threshold(Duration::ZERO)
        .on_warning(move |_| {
            count.fetch_add(1, Ordering::SeqCst);
        })
        .build();
    rt.block_on(async { spawn(async { std::thread::sleep(Duration::from_millis(1)) }).await });
    assert_eq!(warnings.load(Ordering::SeqCst), 0);
}

/// The group owns its tasks, so the handle `spawn` returns may be ignored: this
/// test does not compile if ignoring it warns (issue 13, item 7).
#[test]
#[deny(unused_must_use)]
fn a_group_s_task_handle_may_be_ignored_without_a_warning() {
    let ran = Arc::new(AtomicUsize::new(0));
    let count = ran.clone();
    virtual_runtime().block_on(async move {
        let mut group = TaskGroup::new();
        let c = count.clone();
        group.spawn(async move {
            c.fetch_add(1, Ordering::SeqCst);
        });
        group.wait().await.unwrap();
        clearloop::group::task_group(|tg| async move {
            tg.spawn(async move {
                count.fetch_add(1, Ordering::SeqCst);
            });
        })
        .await
        .unwrap();
    });
    assert_eq!(ran.load(Ordering::SeqCst), 2);
}
