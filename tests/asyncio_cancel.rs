//! Cancellation follows the await (issue 12, item 1), on the virtual clock: a task
//! whose await is dropped is cancelled, two levels deep too; `wait_for` on a task
//! cancels it at the deadline; `shield` and a never-awaited handle detach; a
//! cancel message shows in the error.

mod common;
use common::virtual_runtime;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clearloop::task::shield;
use clearloop::time::{now, sleep};
use clearloop::{spawn, wait_for};

/// A log of (milliseconds since the start, event) the tasks write to.
#[derive(Clone)]
struct Log(Arc<Mutex<Vec<(u128, &'static str)>>>, Instant);

impl Log {
    fn new() -> Log {
        Log(Arc::new(Mutex::new(Vec::new())), now())
    }
    fn say(&self, what: &'static str) {
        let at = (now() - self.1).as_millis();
        self.0.lock().unwrap().push((at, what));
    }
    fn lines(&self) -> Vec<(u128, &'static str)> {
        self.0.lock().unwrap().clone()
    }
}

/// Logs "`name` dropped" when the future holding it is dropped.
struct OnDrop(Log, &'static str);
impl Drop for OnDrop {
    fn drop(&mut self) {
        self.0.say(self.1);
    }
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// A task that sleeps `d`, logs, and returns 1; logs `dropped` if dropped first.
fn sleeper(
    log: &Log,
    d: u64,
    done: &'static str,
    dropped: &'static str,
) -> impl Future<Output = u32> + Send + 'static {
    let log = log.clone();
    async move {
        let _guard = OnDrop(log.clone(), dropped);
        sleep(ms(d)).await;
        log.say(done);
        std::mem::forget(_guard);
        1
    }
}

#[test]
fn cancelling_the_awaiter_cancels_the_task_it_awaits() {
    virtual_runtime().block_on(async {
        let log = Log::new();
        let inner = sleeper(&log, 1000, "inner done", "inner dropped");
        let outer = spawn(async move { spawn(inner).await });
        sleep(ms(100)).await;
        assert!(outer.cancel());
        let error = outer.join().await.unwrap_err();
        assert!(error.is_cancelled());
        sleep(ms(2000)).await;
        assert_eq!(log.lines(), vec![(100, "inner dropped")]);
    });
}

#[test]
fn cancellation_goes_through_two_levels_of_awaiting() {
    virtual_runtime().block_on(async {
        let log = Log::new();
        let innermost = sleeper(&log, 1000, "innermost done", "innermost dropped");
        let middle = async move { spawn(innermost).await };
        let outer = spawn(async move { spawn(middle).await });
        sleep(ms(100)).await;
        outer.cancel_with("stop everything");
        let error = outer.join().await.unwrap_err();
        assert_eq!(error.cancel_message(), Some("stop everything"));
        sleep(ms(2000)).await;
        assert_eq!(log.lines(), vec![(100, "innermost dropped")]);
    });
}

#[test]
fn the_cancel_message_reaches_the_awaited_task() {
    virtual_runtime().block_on(async {
        let (tx, rx) = std::sync::mpsc::channel();
        let outer = spawn(async move {
            let inner = spawn(sleep(ms(1000)));
            let watch = inner.add_done_callback(move |inner| {
                tx.send(inner.exception().unwrap().unwrap().to_string())
                    .unwrap();
            });
            let _ = watch;
            inner.await
        });
        sleep(ms(10)).await;
        outer.cancel_with("shutting down");
        sleep(ms(10)).await;
        assert_eq!(
            rx.try_recv().unwrap(),
            "task 'Task-2' was cancelled: shutting down"
        );
    });
}

#[test]
fn wait_for_on_a_task_cancels_it_at_the_deadline() {
    virtual_runtime().block_on(async {
        let log = Log::new();
        let task = spawn(sleeper(&log, 1000, "done", "dropped"));
        let outcome = wait_for(task, ms(300)).await;
        assert!(outcome.is_err());
        log.say("timed out");
        sleep(ms(2000)).await;
        assert_eq!(log.lines(), vec![(300, "timed out"), (300, "dropped")]);
    });
}

#[test]
fn join_in_wait_for_cancels_too() {
    virtual_runtime().block_on(async {
        let log = Log::new();
        let task = spawn(sleeper(&log, 1000, "done", "dropped"));
        assert!(wait_for(task.join(), ms(300)).await.is_err());
        sleep(ms(2000)).await;
        assert_eq!(log.lines(), vec![(300, "dropped")]);
    });
}

#[test]
fn shield_protects_the_task_while_the_awaiter_is_cancelled() {
    virtual_runtime().block_on(async {
        let log = Log::new();
        let inner = sleeper(&log, 1000, "inner done", "inner dropped");
        let outer = spawn(async move { shield(spawn(inner)).await });
        sleep(ms(100)).await;
        outer.cancel();
        assert!(outer.join().await.unwrap_err().is_cancelled());
        sleep(ms(2000)).await;
        assert_eq!(log.lines(), vec![(1000, "inner done")]);
    });
}

#[test]
fn shield_in_wait_for_lets_the_task_finish_after_the_timeout() {
    virtual_runtime().block_on(async {
        let log = Log::new();
        let task = spawn(sleeper(&log, 1000, "done", "dropped"));
        assert!(wait_for(shield(task), ms(300)).await.is_err());
        sleep(ms(2000)).await;
        assert_eq!(log.lines(), vec![(1000, "done")]);
    });
}

#[test]
fn a_handle_dropped_without_being_awaited_still_detaches() {
    virtual_runtime().block_on(async {
        let log = Log::new();
        drop(spawn(sleeper(&log, 1000, "done", "dropped")));
        // Awaited through `&mut`, then explicitly detached: runs on too.
        let mut other = spawn(sleeper(&log, 500, "other done", "other dropped"));
        assert!(wait_for(&mut other, ms(100)).await.is_err());
        drop(other.detach());
        sleep(ms(2000)).await;
        assert_eq!(log.lines(), vec![(500, "other done"), (1000, "done")]);
    });
}

#[test]
fn a_finished_task_is_not_cancelled_by_dropping_its_awaited_handle() {
    virtual_runtime().block_on(async {
        let task = spawn(async {
            sleep(ms(10)).await;
            5
        });
        let mut task = task;
        assert!(wait_for(&mut task, ms(5)).await.is_err());
        sleep(ms(10)).await;
        assert!(task.done());
        drop(task); // awaited, but done: nothing to cancel
    });
}

#[test]
fn cancel_message_is_in_the_display_and_plain_cancel_still_works() {
    virtual_runtime().block_on(async {
        let a = spawn(sleep(ms(100)));
        let b = spawn(sleep(ms(100)));
        assert!(a.cancel_with("no longer needed"));
        assert!(b.cancel());
        let a = a.join().await.unwrap_err();
        let b = b.join().await.unwrap_err();
        assert_eq!(
            a.to_string(),
            "task 'Task-1' was cancelled: no longer needed"
        );
        assert_eq!(a.cancel_message(), Some("no longer needed"));
        assert_eq!(b.to_string(), "task 'Task-2' was cancelled");
        assert_eq!(b.cancel_message(), None);
        let done = spawn(async {});
        clearloop::task::yield_now().await;
        assert!(
            !done.cancel_with("too late"),
            "a finished task refuses, as in asyncio"
        );
    });
}

#[test]
fn wait_with_a_timeout_still_cancels_nothing() {
    virtual_runtime().block_on(async {
        let log = Log::new();
        let task = spawn(sleeper(&log, 1000, "done", "dropped"));
        let (done, pending) = clearloop::wait([task], clearloop::ReturnWhen::AllCompleted)
            .timeout(ms(100))
            .await;
        assert!(done.is_empty());
        drop(pending);
        sleep(ms(2000)).await;
        assert_eq!(log.lines(), vec![(1000, "done")]);
    });
}

#[test]
fn a_cancelled_gather_cancels_its_children() {
    virtual_runtime().block_on(async {
        let log = Log::new();
        let children = vec![spawn(sleeper(&log, 1000, "a", "a dropped"))];
        let outer = spawn(clearloop::gather_tasks(children));
        sleep(ms(100)).await;
        outer.cancel();
        sleep(ms(2000)).await;
        assert_eq!(log.lines(), vec![(100, "a dropped")]);
    });
}
