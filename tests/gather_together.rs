//! gather, return_exceptions, gather!, wait, as_completed, on the virtual clock.

mod common;
use common::virtual_runtime;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clearloop::task::yield_now;
use clearloop::time::{now, sleep};
use clearloop::{ReturnWhen, as_completed, gather, gather_tasks, spawn, wait};

async fn after(ms: u64, value: u32) -> u32 {
    sleep(Duration::from_millis(ms)).await;
    value
}

async fn fail_after(ms: u64, message: &'static str) -> u32 {
    sleep(Duration::from_millis(ms)).await;
    panic!("{message}");
}

#[test]
fn gather_gives_input_order_whatever_the_completion_order() {
    let (values, took) = virtual_runtime().block_on(async {
        let start = now();
        let values = gather(vec![after(30, 1), after(10, 2), after(20, 3)]).await;
        (values, now() - start)
    });
    assert_eq!(values, vec![1, 2, 3]);
    assert_eq!(took, Duration::from_millis(30), "they ran at once");
}

#[test]
fn two_print_message_long_with_gather_take_two_seconds() {
    let took = virtual_runtime().block_on(async {
        let start = now();
        gather(vec![
            sleep(Duration::from_secs(2)),
            sleep(Duration::from_secs(2)),
        ])
        .await;
        now() - start
    });
    assert_eq!(took, Duration::from_secs(2));
}

#[test]
fn the_first_failure_propagates_while_the_siblings_go_on() {
    let rt = virtual_runtime();
    let finished = Arc::new(AtomicUsize::new(0));
    let caught = {
        let finished = finished.clone();
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            rt.block_on(async move {
                let sibling = |ms| {
                    let finished = finished.clone();
                    Box::pin(async move {
                        sleep(Duration::from_millis(ms)).await;
                        finished.fetch_add(1, Ordering::SeqCst);
                        0_u32
                    })
                        as std::pin::Pin<Box<dyn std::future::Future<Output = u32> + Send>>
                };
                let failing = Box::pin(fail_after(10, "Ceci est une erreur !"));
                gather(vec![sibling(50), failing, sibling(100)]).await
            })
        }))
    };
    let payload = caught.expect_err("the failure propagates");
    // The original payload is re-raised (`panic!("{message}")` carries a String).
    assert_eq!(
        payload.downcast_ref::<String>().map(String::as_str),
        Some("Ceci est une erreur !")
    );
    assert_eq!(
        finished.load(Ordering::SeqCst),
        0,
        "raised at 10 ms, before the siblings"
    );
    // The siblings kept running: let the runtime go on and watch them finish.
    let took = rt.block_on(async {
        let start = now();
        sleep(Duration::from_millis(200)).await;
        now() - start
    });
    assert_eq!(took, Duration::from_millis(200));
    assert_eq!(finished.load(Ordering::SeqCst), 2);
}

#[test]
fn return_exceptions_collects_values_and_errors_in_order() {
    virtual_runtime().block_on(async {
        let futures: Vec<std::pin::Pin<Box<dyn std::future::Future<Output = u32> + Send>>> = vec![
            Box::pin(after(20, 1)),
            Box::pin(fail_after(10, "Ceci est une erreur !")),
            Box::pin(async {
                sleep(Duration::from_secs(100)).await;
                7
            }),
            Box::pin(after(20, 3)),
        ];
        let tasks: Vec<_> = futures.into_iter().map(spawn).collect();
        tasks[2].cancel();
        let results = gather_tasks(tasks).return_exceptions().await;
        assert_eq!(results.len(), 4);
        assert_eq!(results[0].as_ref().unwrap(), &1);
        let error = results[1].as_ref().unwrap_err();
        assert_eq!(error.panic_message(), Some("Ceci est une erreur !"));
        assert!(results[2].as_ref().unwrap_err().is_cancelled());
        assert_eq!(results[3].as_ref().unwrap(), &3);
    });
}

#[test]
fn the_course_example_done_false_then_true() {
    virtual_runtime().block_on(async {
        let task = spawn(
            gather(vec![
                Box::pin(async {
                    sleep(Duration::from_secs(2)).await;
                    "Bienvenue en Python".to_string()
                })
                    as std::pin::Pin<Box<dyn std::future::Future<Output = String> + Send>>,
                Box::pin(async {
                    sleep(Duration::from_secs(1)).await;
                    panic!("Ceci est une erreur !")
                }),
                Box::pin(async {
                    sleep(Duration::from_secs(2)).await;
                    "Bienvenue en Python".to_string()
                }),
            ])
            .return_exceptions(),
        );
        assert!(!task.done());
        task.wait().await;
        assert!(task.done());
        let results = task.join().await.unwrap();
        let shown: Vec<String> = results
            .iter()
            .map(|r| match r {
                Ok(text) => format!("'{text}'"),
                Err(e) => format!("Exception('{}')", e.panic_message().unwrap()),
            })
            .collect();
        assert_eq!(
            shown,
            [
                "'Bienvenue en Python'",
                "Exception('Ceci est une erreur !')",
                "'Bienvenue en Python'"
            ]
        );
    });
}

#[test]
fn gather_macro_mixes_types_into_a_tuple() {
    let (n, s, took) = virtual_runtime().block_on(async {
        let start = now();
        let (n, s) = clearloop::gather!(after(20, 42), async {
            sleep(Duration::from_millis(30)).await;
            "text"
        })
        .await;
        (n, s, now() - start)
    });
    assert_eq!((n, s), (42, "text"));
    assert_eq!(took, Duration::from_millis(30));
}

#[test]
fn cancelling_a_gather_cancels_its_unfinished_children() {
    let rt = virtual_runtime();
    rt.block_on(async {
        let child = spawn(after(1_000, 1));
        let quick = spawn(after(1, 2));
        let outer = spawn(gather_tasks(vec![quick, child]));
        sleep(Duration::from_millis(10)).await;
        assert!(outer.cancel());
        outer.wait().await;
        assert!(outer.cancelled());
        // The slow child was cancelled with the gather: its timer is gone.
        yield_now().await;
        assert_eq!(rt.live_tasks(), 0);
        assert_eq!(rt.pending_timers(), 0);
    });
}

#[test]
fn wait_first_completed_returns_done_and_pending() {
    virtual_runtime().block_on(async {
        let tasks = vec![
            spawn(after(30, 1)),
            spawn(after(10, 2)),
            spawn(after(20, 3)),
        ];
        let start = now();
        let (done, pending) = wait(tasks, ReturnWhen::FirstCompleted).await;
        assert_eq!(now() - start, Duration::from_millis(10));
        assert_eq!(done.len(), 1);
        assert_eq!(done[0].result().unwrap(), 2);
        assert_eq!(pending.len(), 2);
        assert!(
            pending.iter().all(|t| !t.done()),
            "nothing cancelled, still running"
        );
        for task in pending {
            task.await;
        }
    });
}

#[test]
fn wait_first_exception_stops_at_the_failure() {
    virtual_runtime().block_on(async {
        let tasks = vec![
            spawn(after(30, 1)),
            spawn(fail_after(20, "boom")),
            spawn(after(10, 3)),
        ];
        let start = now();
        let (done, pending) = wait(tasks, ReturnWhen::FirstException).await;
        assert_eq!(now() - start, Duration::from_millis(20));
        assert_eq!(done.len(), 2);
        assert_eq!(pending.len(), 1);
        assert!(done.iter().any(|t| t.exception().unwrap().is_some()));
    });
}

#[test]
fn wait_all_completed_waits_for_everything_without_raising() {
    virtual_runtime().block_on(async {
        let tasks = vec![spawn(fail_after(5, "boom")), spawn(after(10, 3))];
        let start = now();
        let (done, pending) = wait(tasks, ReturnWhen::AllCompleted).await;
        assert_eq!(now() - start, Duration::from_millis(10));
        assert_eq!((done.len(), pending.len()), (2, 0));
    });
}

#[test]
fn as_completed_yields_in_completion_order() {
    let order = Arc::new(Mutex::new(Vec::new()));
    virtual_runtime().block_on({
        let order = order.clone();
        async move {
            let tasks = vec![
                spawn(after(30, 1)),
                spawn(fail_after(10, "boom")),
                spawn(after(20, 3)),
            ];
            let mut completed = as_completed(tasks);
            while let Some(outcome) = completed.next().await {
                order
                    .lock()
                    .unwrap()
                    .push(outcome.map_err(|e| e.to_string()));
            }
        }
    });
    assert_eq!(
        *order.lock().unwrap(),
        vec![
            Err("task 'Task-2' panicked: boom".to_string()),
            Ok(3),
            Ok(1)
        ]
    );
}

#[test]
fn gather_of_nothing_is_ready_at_once() {
    let values: Vec<u32> =
        virtual_runtime().block_on(gather(Vec::<std::future::Ready<u32>>::new()));
    assert!(values.is_empty());
}

#[test]
fn wait_with_a_timeout_returns_done_and_pending_when_time_runs_out_and_cancels_nothing() {
    let rt = virtual_runtime();
    rt.block_on(async {
        let tasks = vec![
            spawn(after(30, 1)),
            spawn(after(10, 2)),
            spawn(fail_after(20, "boom")),
        ];
        let start = now();
        let (done, pending) = wait(tasks, ReturnWhen::AllCompleted)
            .timeout(Duration::from_millis(25))
            .await;
        assert_eq!(now() - start, Duration::from_millis(25), "at the timeout");
        let done_values: Vec<_> = done
            .iter()
            .map(|t| t.result().map_err(|e| e.is_panic()))
            .collect();
        assert_eq!(
            done_values,
            [Ok(2), Err(true)],
            "input order, nothing raised"
        );
        assert_eq!(pending.len(), 1);
        assert!(
            !pending[0].done() && !pending[0].cancelled(),
            "still running"
        );
        assert_eq!(pending.into_iter().next().unwrap().await, 1);
        assert_eq!(
            now() - start,
            Duration::from_millis(30),
            "it ran to its end"
        );
    });
    assert_eq!(rt.pending_timers(), 0, "no timer left behind");
}

#[test]
fn wait_with_a_timeout_returns_early_when_its_condition_is_met() {
    let rt = virtual_runtime();
    rt.block_on(async {
        let tasks = vec![spawn(after(30, 1)), spawn(after(10, 2))];
        let start = now();
        let (done, pending) = wait(tasks, ReturnWhen::FirstCompleted)
            .timeout(Duration::from_secs(5))
            .await;
        assert_eq!(now() - start, Duration::from_millis(10));
        assert_eq!((done.len(), pending.len()), (1, 1));
        // The 5 s timer left the wheel when the wait returned.
        for task in pending {
            task.await;
        }
        assert_eq!(now() - start, Duration::from_millis(30), "no 5 s wait");
    });
}

#[test]
fn wait_with_a_timeout_on_tasks_already_done_returns_at_once() {
    virtual_runtime().block_on(async {
        let tasks = vec![spawn(async { 1 })];
        yield_now().await;
        let start = now();
        let (done, pending) = wait(tasks, ReturnWhen::AllCompleted)
            .timeout(Duration::from_secs(1))
            .await;
        assert_eq!(now(), start);
        assert_eq!((done.len(), pending.len()), (1, 0));
    });
}
