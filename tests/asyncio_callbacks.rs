//! Done-callbacks (`Task::add_done_callback`, issue 12 item 3), on the virtual
//! clock: order, timing (the loop's next turn, never inside the task's last poll),
//! a callback added after completion, removal, a panicking callback, the workers.

mod common;
use common::virtual_runtime;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use clearloop::clock::Clock;
use clearloop::task::yield_now;
use clearloop::time::sleep;
use clearloop::{Builder, spawn};

type Log = Arc<Mutex<Vec<String>>>;

fn say(log: &Log, what: impl Into<String>) {
    log.lock().unwrap().push(what.into());
}

fn lines(log: &Log) -> Vec<String> {
    log.lock().unwrap().clone()
}

#[test]
fn callbacks_run_in_the_order_they_were_added_with_the_result() {
    virtual_runtime().block_on(async {
        let log: Log = Arc::default();
        let task = spawn(async { 6 * 7 });
        for name in ["a", "b", "c"] {
            let log = log.clone();
            let _ = task.add_done_callback(move |task| {
                say(&log, format!("{name}: {:?}", task.result()));
            });
        }
        task.wait().await;
        yield_now().await;
        assert_eq!(lines(&log), ["a: Ok(42)", "b: Ok(42)", "c: Ok(42)"]);
        assert_eq!(
            task.await,
            42,
            "the callbacks' handles left the value in place"
        );
    });
}

#[test]
fn callbacks_run_at_the_next_turn_never_inside_the_last_poll() {
    virtual_runtime().block_on(async {
        let log: Log = Arc::default();
        let task = spawn({
            let log = log.clone();
            async move {
                sleep(Duration::from_secs(1)).await;
                say(&log, "task returns");
            }
        });
        let _ = task.add_done_callback({
            let log = log.clone();
            move |_| say(&log, "callback")
        });
        // A task that was ready in the same turn as the finishing one runs before
        // the callback: the callback is queued when the task finishes.
        let bystander = spawn({
            let log = log.clone();
            async move {
                sleep(Duration::from_secs(1)).await;
                say(&log, "bystander, same turn");
                yield_now().await;
                say(&log, "bystander, next turn");
            }
        });
        sleep(Duration::from_secs(2)).await;
        assert_eq!(
            lines(&log),
            [
                "task returns",
                "bystander, same turn",
                "callback",
                "bystander, next turn"
            ]
        );
        drop((task, bystander));
    });
}

#[test]
fn a_callback_added_after_completion_runs_soon() {
    virtual_runtime().block_on(async {
        let log: Log = Arc::default();
        let task = spawn(async { "done" });
        task.wait().await;
        let _ = task.add_done_callback({
            let log = log.clone();
            move |task| say(&log, format!("late: {:?}", task.result()))
        });
        assert!(
            lines(&log).is_empty(),
            "not run inline by add_done_callback"
        );
        yield_now().await;
        assert_eq!(lines(&log), [r#"late: Ok("done")"#]);
    });
}

#[test]
fn a_removed_callback_does_not_run() {
    virtual_runtime().block_on(async {
        let log: Log = Arc::default();
        let task = spawn(sleep(Duration::from_secs(1)));
        let keep = task.add_done_callback({
            let log = log.clone();
            move |_| say(&log, "kept")
        });
        let removed = task.add_done_callback({
            let log = log.clone();
            move |_| say(&log, "removed")
        });
        assert!(task.remove_done_callback(removed));
        assert!(!task.remove_done_callback(removed), "removed once only");
        task.wait().await;
        assert!(!task.remove_done_callback(keep), "already queued: too late");
        yield_now().await;
        assert_eq!(lines(&log), ["kept"]);
    });
}

#[test]
fn a_cancelled_task_runs_its_callbacks_which_see_the_cancellation() {
    virtual_runtime().block_on(async {
        let log: Log = Arc::default();
        let task = spawn(sleep(Duration::from_secs(10)));
        let _ = task.add_done_callback({
            let log = log.clone();
            move |task| say(&log, format!("cancelled: {}", task.cancelled()))
        });
        sleep(Duration::from_secs(1)).await;
        task.cancel_with("enough");
        sleep(Duration::from_secs(1)).await;
        assert_eq!(lines(&log), ["cancelled: true"]);
    });
}

#[test]
fn a_panicking_callback_is_reported_and_the_next_ones_still_run() {
    virtual_runtime().block_on(async {
        let log: Log = Arc::default();
        let task = spawn(async {});
        task.set_name("worker");
        let _ = task.add_done_callback(|_| panic!("callback bug"));
        let _ = task.add_done_callback({
            let log = log.clone();
            move |_| say(&log, "second")
        });
        task.wait().await;
        yield_now().await;
        assert_eq!(lines(&log), ["second"]);
    });
}

#[test]
fn callbacks_run_on_the_workers_runtime_after_the_poll() {
    let runtime = Builder::new()
        .clock(Clock::virtual_clock())
        .worker_threads(2)
        .build();
    let (tx, rx) = std::sync::mpsc::channel();
    let task = runtime.spawn(async { 1 });
    let _ = task.add_done_callback(move |task| tx.send(task.done()).unwrap());
    runtime.block_on(task.wait());
    assert_eq!(rx.recv_timeout(Duration::from_secs(10)), Ok(true));
}
