//! Nothing the runtime calls into kills it (issue 11, items 1 and 7): a panic in a
//! detached task's output `Drop` or in a debug-mode hook is caught and reported, a
//! worker thread never dies of it, `block_on` never re-raises it, and the task still
//! leaves the registry. Every runtime here is on the virtual clock; the
//! `finishes_within` guard only turns a hang into a failure.

mod common;
use common::{PanicsOnDrop, finishes_within};

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use clearloop::clock::Clock;
use clearloop::debug::Warning;
use clearloop::task::yield_now;
use clearloop::time::sleep;
use clearloop::{Builder, Runtime, spawn, timeout};

const GUARD: Duration = Duration::from_secs(60);

fn builder(workers: Option<usize>) -> Builder {
    let builder = Builder::new().clock(Clock::virtual_clock());
    match workers {
        Some(n) => builder.worker_threads(n),
        None => builder,
    }
}

/// Spawns two detached tasks whose output panics when dropped, waits until both
/// have returned it, then checks that the runtime still runs a task and a timeout.
fn detached_outputs_that_panic_on_drop(runtime: Runtime) {
    let returned = Arc::new(AtomicUsize::new(0));
    for _ in 0..2 {
        let returned = returned.clone();
        drop(runtime.spawn(async move {
            returned.fetch_add(1, Ordering::SeqCst);
            PanicsOnDrop("the output's Drop panics")
        }));
    }
    runtime.block_on(async {
        while returned.load(Ordering::SeqCst) < 2 {
            sleep(Duration::from_millis(1)).await;
        }
    });
    let one = runtime.block_on(async { timeout(Duration::from_secs(5), spawn(async { 1 })).await });
    assert_eq!(one, Ok(1));
    // The tasks whose output panicked were forgotten all the same.
    assert_eq!(runtime.live_tasks(), 0);
}

#[test]
fn a_detached_output_that_panics_on_drop_does_not_kill_the_workers() {
    // The reproduction: before, both workers died and block_on hung.
    finishes_within(GUARD, || {
        detached_outputs_that_panic_on_drop(builder(Some(2)).build())
    });
}

#[test]
fn a_detached_output_that_panics_on_drop_does_not_escape_block_on() {
    // Before, the panic came out of block_on and the task stayed registered.
    finishes_within(GUARD, || {
        detached_outputs_that_panic_on_drop(builder(None).build())
    });
}

#[test]
fn a_handle_dropped_after_the_task_finished_drops_the_output_quietly() {
    finishes_within(GUARD, || {
        for workers in [None, Some(2)] {
            let runtime = builder(workers).build();
            let task = runtime.spawn(async { PanicsOnDrop("dropped with its handle") });
            runtime.block_on(task.wait());
            assert!(task.done());
            drop(task); // the output is dropped here: reported, not raised
            assert_eq!(runtime.block_on(runtime.spawn(async { 2 })), 2);
            assert_eq!(runtime.live_tasks(), 0);
        }
    });
}

#[test]
fn a_panicking_warning_hook_is_reported_and_the_runtime_goes_on() {
    finishes_within(GUARD, || {
        for workers in [None, Some(2)] {
            let warnings = Arc::new(AtomicUsize::new(0));
            let seen = warnings.clone();
            let runtime = builder(workers)
                .debug(true)
                .on_warning(move |warning| {
                    if let Warning::ExceptionNeverRetrieved { .. } = warning {
                        seen.fetch_add(1, Ordering::SeqCst);
                    }
                    panic!("the hook itself panics");
                })
                .build();
            // A detached task that panics: "Task exception was never retrieved",
            // handed to a hook that panics in turn.
            drop(runtime.spawn(async { panic!("nobody looks at this") }));
            runtime.block_on(async {
                while warnings.load(Ordering::SeqCst) == 0 {
                    sleep(Duration::from_millis(1)).await;
                }
            });
            let three = runtime
                .block_on(async { timeout(Duration::from_secs(5), spawn(async { 3 })).await });
            assert_eq!(three, Ok(3));
            assert_eq!(runtime.live_tasks(), 0);
        }
    });
}

#[test]
fn a_panicking_slow_poll_hook_does_not_escape_block_on() {
    finishes_within(GUARD, || {
        let hook_calls = Arc::new(AtomicUsize::new(0));
        let calls = hook_calls.clone();
        let runtime = builder(None)
            .debug(true)
            .slow_poll_threshold(Duration::ZERO) // every poll is "slow"
            .on_warning(move |_| {
                calls.fetch_add(1, Ordering::SeqCst);
                panic!("slow-poll hook panics");
            })
            .build();
        let four = runtime.block_on(runtime.spawn(async {
            yield_now().await;
            4
        }));
        assert_eq!(four, 4);
        assert!(hook_calls.load(Ordering::SeqCst) >= 1);
    });
}

#[test]
fn live_tasks_is_exact_as_soon_as_block_on_returns_on_workers() {
    // Before, a worker woke the awaiter before it let go of the task: block_on could
    // return while live_tasks() still counted one or two finished tasks.
    finishes_within(GUARD, || {
        let runtime = builder(Some(2)).build();
        for round in 0..300 {
            let sum = runtime.block_on(async {
                let tasks: Vec<_> = (0..4)
                    .map(|i| {
                        spawn(async move {
                            yield_now().await;
                            i
                        })
                    })
                    .collect();
                let mut sum = 0;
                for task in tasks {
                    sum += task.await;
                }
                sum
            });
            assert_eq!(sum, 6);
            assert_eq!(runtime.live_tasks(), 0, "round {round}");
        }
    });
}
