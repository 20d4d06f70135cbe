//! The runtime records: on the virtual clock, the trace of a small program is exact;
//! `Runtime::dump` says what each task waits on; a deadlock is reported, not hung.

use std::time::Duration;

use clearloop::clock::Clock;
use clearloop::sync::Mutex;
use clearloop::time::sleep;
use clearloop::trace::{
    EventKind, Outcome, ResourceKind, TaskId, TaskState, TraceConfig, WaitingOn, WakeSource,
    to_json_lines,
};
use clearloop::{Builder, Runtime};

fn traced() -> Runtime {
    Builder::new()
        .clock(Clock::virtual_clock())
        .trace(TraceConfig::default())
        .build()
}

/// `create_task` twice, each sleeping 2 s, then both awaited: the course's example.
#[test]
fn two_tasks_of_two_seconds_trace_exactly() {
    let runtime = traced();
    let lines = runtime.block_on(async {
        let (one, one_line) = (clearloop::spawn(sleep(Duration::from_secs(2))), line!());
        let (two, two_line) = (clearloop::spawn(sleep(Duration::from_secs(2))), line!());
        one.await;
        two.await;
        [one_line, two_line]
    });
    // Where each was spawned: the line above, which the trace labels its row with.
    let at = |line: u32| format!("tests/trace_runtime.rs:{line}");
    let events = runtime.trace().unwrap().events();
    let (main, one, two) = (TaskId(0), TaskId(1), TaskId(2));
    let worker = 0;
    let s0 = Duration::ZERO;
    let s2 = Duration::from_secs(2);
    use EventKind::*;
    let expected = vec![
        (
            s0,
            Spawned {
                task: main,
                name: "main".into(),
                parent: None,
            },
        ),
        (s0, PollStart { task: main, worker }),
        (
            s0,
            Spawned {
                task: one,
                name: "Task-1".into(),
                parent: Some(main),
            },
        ),
        (
            s0,
            SpawnedAt {
                task: one,
                location: at(lines[0]),
            },
        ),
        (
            s0,
            Spawned {
                task: two,
                name: "Task-2".into(),
                parent: Some(main),
            },
        ),
        (
            s0,
            SpawnedAt {
                task: two,
                location: at(lines[1]),
            },
        ),
        (s0, PollEnd { task: main, worker }),
        (s0, PollStart { task: one, worker }),
        (s0, TimerRegistered { task: one, due: s2 }),
        (s0, PollEnd { task: one, worker }),
        (s0, PollStart { task: two, worker }),
        (s0, TimerRegistered { task: two, due: s2 }),
        (s0, PollEnd { task: two, worker }),
        (s2, TimerFired { task: one }),
        (
            s2,
            Woken {
                task: one,
                by: WakeSource::Timer,
            },
        ),
        (s2, TimerFired { task: two }),
        (
            s2,
            Woken {
                task: two,
                by: WakeSource::Timer,
            },
        ),
        (s2, PollStart { task: one, worker }),
        (s2, PollEnd { task: one, worker }),
        (
            s2,
            Done {
                task: one,
                outcome: Outcome::Value,
            },
        ),
        (
            s2,
            Woken {
                task: main,
                by: WakeSource::Task(one),
            },
        ),
        (s2, PollStart { task: two, worker }),
        (s2, PollEnd { task: two, worker }),
        (
            s2,
            Done {
                task: two,
                outcome: Outcome::Value,
            },
        ),
        (s2, PollStart { task: main, worker }),
        (s2, PollEnd { task: main, worker }),
        (
            s2,
            Done {
                task: main,
                outcome: Outcome::Value,
            },
        ),
    ];
    let got: Vec<_> = events.iter().map(|e| (e.at, e.kind.clone())).collect();
    assert_eq!(got, expected, "\n{}", to_json_lines(&events));
}

#[test]
fn a_panic_and_a_cancellation_are_recorded_as_such() {
    let runtime = traced();
    runtime.block_on(async {
        let failing = clearloop::spawn(async { panic!("boom") });
        let _ = failing.join().await;
    });
    let forever = runtime.spawn(std::future::pending::<()>());
    drop(forever);
    drop(runtime.trace().cloned());
    let trace = runtime.trace().unwrap().clone();
    drop(runtime);
    let outcomes: Vec<_> = trace
        .events()
        .into_iter()
        .filter_map(|e| match e.kind {
            EventKind::Done { task, outcome } => Some((task, outcome)),
            _ => None,
        })
        .collect();
    assert_eq!(
        outcomes,
        [
            (TaskId(1), Outcome::Panic("boom".into())),
            (TaskId(0), Outcome::Value),
            (TaskId(2), Outcome::Cancelled),
        ]
    );
}

#[test]
fn dump_lists_each_task_and_what_it_waits_on() {
    let runtime = traced();
    let lock = std::sync::Arc::new(Mutex::new(()).with_name("db"));
    let snapshot = runtime.block_on(async move {
        let guard = lock.lock().await;
        let held = lock.clone();
        let _napper = clearloop::spawn(sleep(Duration::from_secs(5)));
        let _blocked = clearloop::spawn(async move { drop(held.lock().await) });
        sleep(Duration::from_secs(1)).await;
        let snapshot = clearloop::trace::all_tasks();
        drop(guard);
        snapshot
    });
    let waits: Vec<_> = snapshot
        .iter()
        .map(|t| (t.id, t.state, t.waiting_on.clone()))
        .collect();
    let db = clearloop::trace::Resource::new(ResourceKind::Lock, "db");
    assert_eq!(
        waits,
        [
            (TaskId(0), TaskState::Running, None),
            (
                TaskId(1),
                TaskState::Waiting,
                Some(WaitingOn::Timer {
                    due: Duration::from_secs(5)
                })
            ),
            (TaskId(2), TaskState::Waiting, Some(WaitingOn::Resource(db))),
        ]
    );
    let table = runtime.dump().to_string();
    assert!(table.contains("Task-1"), "{table}");
}

/// What `block_on` panicked with, as text.
fn deadlock_of(runtime: Runtime, main: impl Future<Output = ()>) -> String {
    let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| runtime.block_on(main)));
    let payload = panic.expect_err("block_on must report the deadlock");
    clearloop::panics::message(&*payload)
}

#[test]
fn a_task_locking_the_same_mutex_twice_is_a_deadlock_naming_the_lock() {
    let runtime = traced();
    let report = deadlock_of(runtime, async {
        let twice = clearloop::spawn(async {
            let lock = Mutex::new(0).with_name("counter");
            let _first = lock.lock().await;
            let _second = lock.lock().await; // never granted: the task holds it
        });
        twice.set_name("twice");
        twice.await;
    });
    assert!(report.starts_with("deadlock at 0.000s"), "{report}");
    assert!(report.contains("2 tasks are waiting"), "{report}");
    assert!(
        report.contains("task 1 'twice' (spawned at tests/trace_runtime.rs:")
            && report.contains(") waits on lock 'counter'"),
        "{report}"
    );
    assert!(
        report.contains("task 0 'main' waits on something"),
        "{report}"
    );
}

#[test]
fn pending_forever_is_a_deadlock_even_untraced() {
    let runtime = Builder::new().clock(Clock::virtual_clock()).build();
    let report = deadlock_of(runtime, async {
        sleep(Duration::from_secs(3)).await;
        std::future::pending::<()>().await;
    });
    // The clock's time, tracing off: the 3 s slept (it said nothing before, and a
    // false 0.000s before that).
    assert!(report.starts_with("deadlock at 3.000s: "), "{report}");
    assert!(report.contains("1 task is waiting"), "{report}");
    assert!(report.contains("task 0 'main'"), "{report}");
}

#[test]
fn a_wake_from_another_thread_within_the_grace_is_not_a_deadlock() {
    let runtime = Builder::new().clock(Clock::virtual_clock()).build();
    let (tx, rx) = std::sync::mpsc::channel::<std::task::Waker>();
    let thread = std::thread::spawn(move || {
        let waker = rx.recv().unwrap();
        std::thread::sleep(Duration::from_millis(50)); // real time, within the grace
        waker.wake();
    });
    let mut sent = false;
    runtime.block_on(std::future::poll_fn(move |cx| {
        if sent {
            return std::task::Poll::Ready(());
        }
        sent = true;
        tx.send(cx.waker().clone()).unwrap();
        std::task::Poll::Pending
    }));
    thread.join().unwrap();
}

#[test]
fn set_name_renames_the_task_in_the_timeline_and_json_lines_read_back_the_same_run() {
    let runtime = traced();
    runtime.block_on(async {
        let worker = clearloop::spawn(sleep(Duration::from_secs(1)));
        worker.set_name("worker");
        worker.await;
    });
    let trace = runtime.trace().unwrap();
    let labels: Vec<String> = trace.timeline().rows.into_iter().map(|r| r.label).collect();
    assert_eq!(labels, ["main", "worker"]);
    let events = trace.events();
    let text = to_json_lines(&events);
    assert_eq!(clearloop::trace::from_json_lines(&text).unwrap(), events);
}

#[test]
fn waiting_on_a_named_semaphore_and_being_granted_are_recorded() {
    let runtime = traced();
    runtime.block_on(async {
        let sem = std::sync::Arc::new(clearloop::sync::Semaphore::new(1).with_name("db"));
        let tasks: Vec<_> = (0..2)
            .map(|_| {
                let sem = sem.clone();
                clearloop::spawn(async move {
                    let _permit = sem.acquire().await;
                    sleep(Duration::from_secs(1)).await;
                })
            })
            .collect();
        for task in tasks {
            task.await;
        }
    });
    let db = clearloop::trace::Resource::new(ResourceKind::Semaphore, "db");
    let waits: Vec<_> = runtime
        .trace()
        .unwrap()
        .events()
        .into_iter()
        .filter(|e| {
            matches!(
                e.kind,
                EventKind::Waiting { .. } | EventKind::Granted { .. }
            )
        })
        .map(|e| (e.at, e.kind))
        .collect();
    let (two, s0, s1) = (TaskId(2), Duration::ZERO, Duration::from_secs(1));
    assert_eq!(
        waits,
        [
            (
                s0,
                EventKind::Waiting {
                    task: two,
                    resource: db.clone()
                }
            ),
            (
                s1,
                EventKind::Granted {
                    task: two,
                    resource: db
                }
            ),
        ]
    );
}

#[test]
fn an_unnamed_lock_gets_a_name_of_its_kind() {
    let runtime = traced();
    let report = deadlock_of(runtime, async {
        let lock = Mutex::new(());
        let _held = lock.lock().await;
        let _again = lock.lock().await;
    });
    assert!(
        report.contains("task 0 'main' waits on lock 'Lock-"),
        "{report}"
    );
}

#[test]
fn a_queue_never_fed_and_an_event_never_set_are_named_in_the_report() {
    let runtime = traced();
    let report = deadlock_of(runtime, async {
        let jobs = std::sync::Arc::new(clearloop::sync::Queue::<u32>::new(0).with_name("jobs"));
        let ready = std::sync::Arc::new(clearloop::sync::Event::new().with_name("ready"));
        let consumer = clearloop::spawn(async move { jobs.get().await });
        consumer.set_name("consumer");
        ready.wait().await;
        consumer.await;
    });
    assert!(
        report.contains("task 0 'main' waits on event 'ready'"),
        "{report}"
    );
    assert!(
        report.contains("task 1 'consumer' (spawned at tests/trace_runtime.rs:")
            && report.contains(") waits on queue 'jobs'"),
        "{report}"
    );
}

#[test]
fn a_notified_condition_is_granted() {
    let runtime = traced();
    runtime.block_on(async {
        let pair = std::sync::Arc::new((
            Mutex::new(false),
            clearloop::sync::Condition::new().with_name("go"),
        ));
        let waiter_pair = pair.clone();
        let waiter = clearloop::spawn(async move {
            let (lock, cond) = &*waiter_pair;
            let guard = lock.lock().await;
            let _guard = cond.wait_for(guard, |ready| *ready).await;
        });
        sleep(Duration::from_secs(1)).await;
        let (lock, cond) = &*pair;
        *lock.lock().await = true;
        cond.notify(1);
        waiter.await;
    });
    let go = clearloop::trace::Resource::new(ResourceKind::Condition, "go");
    let kinds: Vec<_> = runtime
        .trace()
        .unwrap()
        .events()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    let task = TaskId(1);
    assert!(kinds.contains(&EventKind::Waiting {
        task,
        resource: go.clone()
    }));
    assert!(kinds.contains(&EventKind::Granted { task, resource: go }));
}
