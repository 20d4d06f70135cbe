//! `task_group`: asyncio 3.11's `async with TaskGroup() as tg:`, on the virtual clock.
//!
//! Ported from CPython 3.11's `Lib/test/test_asyncio/test_taskgroups.py` (each test
//! names the case it ports):
//!
//! * `test_taskgroup_01`, `_02`: values of children spawned before and during the
//!   body's sleep.
//! * `_03`: a child cancelled by hand is not a failure; the others finish.
//! * `_04`, `test_cancel_children_on_child_error`: a child's failure cancels its
//!   siblings and the body, and the code after the group never runs.
//! * `test_cancellation`, `_07`, `_22`: the task awaiting the group is cancelled:
//!   every child is cancelled (and the body dropped).
//! * `_09`, `_10`: the body fails (at an await, or before any): the children are
//!   cancelled and the body's failure is in the group.
//! * `_13`, `_14`: nested groups, the outer or the inner child failing first.
//! * `_19`: the body's cleanup fails while it is being cancelled: both failures are
//!   in the group.
//! * `_24`, `_25`: children spawning siblings through the handle (a root that
//!   spawns after a while; the hydra that spawns two each time until hercules fails).
//!
//! The others do not apply, because a cancelled Rust future is dropped, not resumed
//! with an exception: `test_cancellation_in_body`, `_11`, `_12`, `_15`-`_18` test
//! what a body does in its `except CancelledError:` block (awaiting again, raising
//! another exception, the cancel message); `_20`, `_20a`, `_21`, `_21a` are about
//! `KeyboardInterrupt` and `BaseException`, which Rust panics do not distinguish;
//! `_23` reads the private `g._tasks`; `test_taskgroup_task_name` passes `name=` to
//! `create_task`, which `spawn` does not take (a `GroupTask` has `set_name`).

mod common;
use common::{DropFlag, virtual_runtime};

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clearloop::group::{GroupClosed, GroupHandle, task_group};
use clearloop::time::{now, sleep};
use clearloop::{spawn, timeout};

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

/// A child that sleeps `s` seconds, then panics with `message`.
async fn crash_after(s: f64, message: &'static str) {
    sleep(secs(s)).await;
    panic!("{message}");
}

/// The panic messages of a group's errors, in order.
fn messages(error: &clearloop::ExceptionGroup) -> Vec<String> {
    let errors = error.errors().iter();
    errors
        .map(|e| e.panic_message().unwrap_or("?").to_owned())
        .collect()
}

#[test]
fn a_child_failure_interrupts_the_body_at_once_and_cancels_the_siblings() {
    // The case: a child fails at t=1 while the body sleeps until t=5.
    let body_dropped = Arc::new(AtomicBool::new(false));
    let sibling_dropped = Arc::new(AtomicBool::new(false));
    let after_the_await = Arc::new(AtomicBool::new(false));
    let (body_flag, sibling_flag, after) = (
        body_dropped.clone(),
        sibling_dropped.clone(),
        after_the_await.clone(),
    );
    let (took, error, sibling_cancelled) = virtual_runtime().block_on(async move {
        let start = now();
        let mut sibling = None;
        let result = task_group(|tg| {
            let sibling = &mut sibling;
            async move {
                let _flag = DropFlag(body_flag);
                tg.spawn(crash_after(1.0, "the feed is down"));
                *sibling = Some(tg.spawn(async move {
                    let _flag = DropFlag(sibling_flag);
                    sleep(secs(10.0)).await;
                }));
                sleep(secs(5.0)).await;
                after.store(true, Ordering::SeqCst);
            }
        })
        .await;
        let cancelled = sibling.as_ref().is_some_and(|t| t.cancelled());
        (now() - start, result.unwrap_err(), cancelled)
    });
    assert_eq!(
        took,
        secs(1.0),
        "interrupted at the child's failure, not at t=5"
    );
    assert!(body_dropped.load(Ordering::SeqCst), "the body was dropped");
    assert!(
        !after_the_await.load(Ordering::SeqCst),
        "its later code never ran"
    );
    assert!(sibling_dropped.load(Ordering::SeqCst) && sibling_cancelled);
    assert_eq!(messages(&error), ["the feed is down"]);
    assert!(
        error
            .to_string()
            .starts_with("unhandled errors in a TaskGroup (1 sub-exception)\n  - task 'Task-"),
        "{error}"
    );
}

#[test]
fn taskgroup_01_02_values_of_children_spawned_before_and_during_the_body() {
    let (values, took) = virtual_runtime().block_on(async {
        let start = now();
        let mut handles = Vec::new();
        task_group(|tg| {
            let handles = &mut handles;
            async move {
                handles.push(tg.spawn(async {
                    sleep(secs(0.1)).await;
                    42
                }));
                sleep(secs(0.15)).await;
                handles.push(tg.spawn(async {
                    sleep(secs(0.2)).await;
                    11
                }));
            }
        })
        .await
        .unwrap();
        let values: Vec<i32> = handles.iter().map(|t| t.result().unwrap()).collect();
        (values, now() - start)
    });
    assert_eq!(values, [42, 11]);
    assert_eq!(
        took,
        secs(0.35),
        "the group waits for the child spawned last"
    );
}

#[test]
fn the_body_value_is_returned_when_everything_succeeds() {
    let value = virtual_runtime().block_on(task_group(|tg| async move {
        let child = tg.spawn(async { 6 * 7 });
        child.await + 1
    }));
    assert_eq!(value.unwrap(), 43);
}

#[test]
fn taskgroup_03_a_child_cancelled_by_hand_is_not_a_failure() {
    virtual_runtime().block_on(async {
        let mut handles = Vec::new();
        let result = task_group(|tg| {
            let handles = &mut handles;
            async move {
                let t1 = tg.spawn(async {
                    sleep(secs(1.0)).await;
                    42
                });
                sleep(secs(0.15)).await;
                t1.cancel();
                handles.push(t1);
                handles.push(tg.spawn(async {
                    sleep(secs(0.2)).await;
                    11
                }));
            }
        })
        .await;
        assert!(result.is_ok());
        assert!(handles[0].cancelled());
        assert_eq!(handles[1].result().unwrap(), 11);
    });
}

#[test]
fn taskgroup_04_and_cancel_children_on_child_error() {
    let num = Arc::new(AtomicUsize::new(0));
    let t2_dropped = Arc::new(AtomicBool::new(false));
    let (n, flag) = (num.clone(), t2_dropped.clone());
    let outer = virtual_runtime().block_on(async move {
        // `runner()` as its own task, as CPython does.
        let runner = spawn(async move {
            let n2 = n.clone();
            task_group(|tg| async move {
                for _ in 0..3 {
                    tg.spawn(async {
                        sleep(secs(0.1)).await;
                        panic!("division by zero");
                    });
                }
                tg.spawn(async move {
                    let _flag = DropFlag(flag);
                    sleep(secs(5.0)).await;
                    n2.fetch_add(1, Ordering::SeqCst);
                });
                sleep(secs(10.0)).await;
            })
            .await?;
            n.fetch_add(10, Ordering::SeqCst);
            Ok::<(), clearloop::ExceptionGroup>(())
        });
        runner.await
    });
    let error = outer.unwrap_err();
    // The three fail at the same instant, before the group cancels anything.
    assert_eq!(messages(&error), ["division by zero"; 3]);
    assert_eq!(num.load(Ordering::SeqCst), 0, "nothing after the group ran");
    assert!(t2_dropped.load(Ordering::SeqCst), "foo2 was cancelled");
}

#[test]
fn cancellation_07_22_cancelling_the_awaiting_task_cancels_every_child() {
    let dropped = Arc::new(AtomicUsize::new(0));
    let body_dropped = Arc::new(AtomicBool::new(false));
    let (count, body_flag) = (dropped.clone(), body_dropped.clone());
    virtual_runtime().block_on(async move {
        let runner = spawn(async move {
            let _ = task_group(|tg| async move {
                let _flag = DropFlag(body_flag);
                for _ in 0..5 {
                    let count = count.clone();
                    tg.spawn(async move {
                        struct Count(Arc<AtomicUsize>);
                        impl Drop for Count {
                            fn drop(&mut self) {
                                self.0.fetch_add(1, Ordering::SeqCst);
                            }
                        }
                        let _count = Count(count);
                        sleep(secs(5.0)).await;
                    });
                }
                sleep(secs(10.0)).await;
            })
            .await;
        });
        sleep(secs(0.1)).await;
        assert!(!runner.done());
        runner.cancel();
        assert!(runner.join().await.unwrap_err().is_cancelled());
        // The children's cancellation runs at their next turn.
        sleep(secs(0.0)).await;
        clearloop::task::yield_now().await;
    });
    assert_eq!(dropped.load(Ordering::SeqCst), 5, "NUM == 5 in CPython");
    assert!(
        body_dropped.load(Ordering::SeqCst),
        "the body too (NUM += 10)"
    );
}

#[test]
fn taskgroup_09_10_the_body_fails_the_children_are_cancelled() {
    for sleep_first in [true, false] {
        let handles = Arc::new(Mutex::new(Vec::new()));
        let kept = handles.clone();
        let (error, took) = virtual_runtime().block_on(async move {
            let start = now();
            let result = task_group(|tg| async move {
                kept.lock().unwrap().push(tg.spawn(sleep(secs(1.0))));
                kept.lock().unwrap().push(tg.spawn(sleep(secs(2.0))));
                if sleep_first {
                    sleep(secs(0.1)).await;
                }
                panic!("division by zero in the body");
            })
            .await;
            clearloop::task::yield_now().await;
            (result.unwrap_err(), now() - start)
        });
        assert_eq!(messages(&error), ["division by zero in the body"]);
        assert_eq!(error.errors()[0].task_name(), "task_group body");
        assert_eq!(took, secs(if sleep_first { 0.1 } else { 0.0 }));
        let handles = handles.lock().unwrap();
        assert!(
            handles.iter().all(|t| t.cancelled()),
            "sleep_first={sleep_first}"
        );
    }
}

#[test]
fn taskgroup_13_14_nested_groups() {
    // 13: the outer child fails first; the inner group is dropped with the body.
    let error = virtual_runtime().block_on(task_group(|g1| async move {
        g1.spawn(crash_after(0.1, "outer, at 0.1"));
        let _ = task_group(|g2| async move {
            g2.spawn(crash_after(10.0, "inner, at 10"));
        })
        .await;
    }));
    assert_eq!(messages(&error.unwrap_err()), ["outer, at 0.1"]);

    // 14: the inner child fails first; the inner group's error fails the body.
    let (error, took) = virtual_runtime().block_on(async {
        let start = now();
        let result = task_group(|g1| async move {
            g1.spawn(crash_after(10.0, "outer, at 10"));
            if let Err(inner) = task_group(|g2| async move {
                g2.spawn(crash_after(0.1, "inner, at 0.1"));
            })
            .await
            {
                // asyncio nests the ExceptionGroup; a panic carries its text.
                panic!("{inner}");
            }
        })
        .await;
        (result.unwrap_err(), now() - start)
    });
    assert_eq!(took, secs(0.1));
    assert_eq!(error.errors().len(), 1);
    let text = error.errors()[0].panic_message().unwrap();
    assert!(text.contains("inner, at 0.1"), "{text}");
}

#[test]
fn taskgroup_19_a_body_whose_cleanup_fails_adds_its_panic() {
    struct FailsOnDrop;
    impl Drop for FailsOnDrop {
        fn drop(&mut self) {
            panic!("cleanup failed");
        }
    }
    let error = virtual_runtime().block_on(task_group(|tg| async move {
        tg.spawn(crash_after(0.1, "crash soon"));
        let _cleanup = FailsOnDrop;
        sleep(secs(10.0)).await;
    }));
    let error = error.unwrap_err();
    assert_eq!(messages(&error), ["cleanup failed", "crash soon"]);
}

#[test]
fn taskgroup_24_a_child_spawns_siblings_after_a_while() {
    let ran = Arc::new(AtomicUsize::new(0));
    let count = ran.clone();
    let took = virtual_runtime().block_on(async move {
        let start = now();
        task_group(|tg| async move {
            let handle = tg.clone();
            tg.spawn(async move {
                sleep(secs(0.1)).await;
                for delay in [0.1, 0.2] {
                    let count = count.clone();
                    handle.spawn(async move {
                        sleep(secs(delay)).await;
                        count.fetch_add(1, Ordering::SeqCst);
                    });
                }
            });
            // The body ends at once: the group still waits for the grandchildren.
        })
        .await
        .unwrap();
        now() - start
    });
    assert_eq!(ran.load(Ordering::SeqCst), 2);
    assert_eq!(took, secs(0.3));
}

#[test]
fn taskgroup_25_the_hydra_spawns_until_hercules_fails() {
    // Not an `async fn`: the future spawns itself, and a recursive `async fn`
    // cannot name its own type.
    #[allow(clippy::manual_async_fn)]
    fn hydra(g: GroupHandle, heads: Arc<AtomicUsize>) -> impl Future<Output = ()> + Send {
        async move {
            heads.fetch_add(1, Ordering::SeqCst);
            sleep(secs(0.01)).await;
            for _ in 0..2 {
                // The group may close while we sleep: then we stop growing.
                let _ = g.try_spawn(hydra(g.clone(), heads.clone()));
            }
        }
    }
    let heads = Arc::new(AtomicUsize::new(0));
    let count = heads.clone();
    let error = virtual_runtime().block_on(task_group(|g| async move {
        g.spawn(hydra(g.clone(), count.clone()));
        g.spawn(async move {
            while count.load(Ordering::SeqCst) < 10 {
                sleep(secs(0.015)).await;
            }
            panic!("hercules: division by zero");
        });
    }));
    assert_eq!(
        messages(&error.unwrap_err()),
        ["hercules: division by zero"]
    );
    assert!(heads.load(Ordering::SeqCst) >= 10);
}

#[test]
fn spawning_into_a_closing_group_is_an_error() {
    let (late, was_closing, after_the_end) = virtual_runtime().block_on(async {
        let mut kept = None;
        let late = Arc::new(Mutex::new(None));
        let seen = late.clone();
        let _ = task_group(|tg| {
            let kept = &mut kept;
            async move {
                *kept = Some(tg.clone());
                // This child outlives its failing sibling by a little: it is
                // cancelled before it can spawn, so spawn from its Drop.
                let handle = tg.clone();
                tg.spawn(async move {
                    struct SpawnOnDrop(GroupHandle, Arc<Mutex<Option<bool>>>);
                    impl Drop for SpawnOnDrop {
                        fn drop(&mut self) {
                            let refused = self.0.try_spawn(async {}).is_err();
                            *self.1.lock().unwrap() = Some(refused);
                        }
                    }
                    let _spawn_on_drop = SpawnOnDrop(handle, seen);
                    sleep(secs(5.0)).await;
                });
                tg.spawn(crash_after(1.0, "boom"));
                sleep(secs(5.0)).await;
            }
        })
        .await;
        let handle = kept.unwrap();
        let after_the_end = handle.try_spawn(async { 1 }).unwrap_err();
        let late = *late.lock().unwrap();
        (late, handle.is_closing(), after_the_end)
    });
    assert_eq!(
        late,
        Some(true),
        "a spawn while the group shuts down is refused"
    );
    assert!(was_closing);
    assert_eq!(after_the_end, GroupClosed);
    assert_eq!(
        after_the_end.to_string(),
        "this task group is shutting down (a child failed, or the group has finished) \
         and takes no new tasks; spawn while the group is running, or use \
         clearloop::spawn for a task outside it"
    );
}

#[test]
fn a_timeout_around_the_group_cancels_it_like_any_future() {
    let dropped = Arc::new(AtomicBool::new(false));
    let flag = dropped.clone();
    let took = virtual_runtime().block_on(async move {
        let start = now();
        let group = task_group(|tg| async move {
            tg.spawn(async move {
                let _flag = DropFlag(flag);
                sleep(secs(10.0)).await;
            });
        });
        assert!(timeout(secs(2.0), group).await.is_err());
        clearloop::task::yield_now().await;
        now() - start
    });
    assert_eq!(took, secs(2.0));
    assert!(dropped.load(Ordering::SeqCst), "the child was cancelled");
}

#[test]
fn on_two_workers_children_spawning_siblings_are_all_waited_for() {
    let runtime = clearloop::Builder::new()
        .clock(clearloop::clock::Clock::virtual_clock())
        .worker_threads(2)
        .build();
    for _ in 0..20 {
        let ran = Arc::new(AtomicUsize::new(0));
        let count = ran.clone();
        runtime
            .block_on(task_group(|tg| async move {
                for _ in 0..50 {
                    let (handle, count) = (tg.clone(), count.clone());
                    tg.spawn(async move {
                        clearloop::task::yield_now().await;
                        let count2 = count.clone();
                        handle.spawn(async move {
                            count2.fetch_add(1, Ordering::SeqCst);
                        });
                        count.fetch_add(1, Ordering::SeqCst);
                    });
                }
            }))
            .unwrap();
        assert_eq!(
            ran.load(Ordering::SeqCst),
            100,
            "every child and grandchild ran"
        );
    }
}
