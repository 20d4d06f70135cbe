//! CPython's `Lib/test/test_sched.py`, ported.
//!
//! | CPython test                  | here                          | what changed                                  |
//! |-------------------------------|-------------------------------|-----------------------------------------------|
//! | `test_enter`                  | `enter`                       | virtual clock instead of `time.time`/`sleep`  |
//! | `test_enterabs`               | `enterabs`                    | times relative to the clock's start           |
//! | `test_enter_concurrent`       | `enter_concurrent`            | its `Timer` class is our `Clock::manual`      |
//! | `test_priority`               | `priority`                    | none                                          |
//! | `test_cancel`                 | `cancel`                      | virtual clock                                 |
//! | `test_cancel_concurrent`      | `cancel_concurrent`           | `Clock::manual`; see the note on the end time |
//! | `test_cancel_correct_event`   | `cancel_correct_event`        | none (bpo-19270: twin events)                 |
//! | `test_empty`                  | `empty`                       | virtual clock                                 |
//! | `test_queue`                  | `queue`                       | virtual clock                                 |
//! | `test_args_kwargs`            | `arguments`                   | positional part only, see below               |
//! | `test_run_non_blocking`       | `run_non_blocking`            | also checks the returned delay                |
//!
//! Not applicable: the keyword-argument half of `test_args_kwargs`, since Rust has no
//! keyword arguments (a closure captures whatever it needs), and the
//! `requires_working_threading` guards, since std threads always work where the crate
//! builds. CPython's real-time tests sleep up to 0.5 s; here every test is instant.

use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, SystemTime};

use clearloop::clock::Clock;
use clearloop::sched::Scheduler;

/// `support.SHORT_TIMEOUT`: only reached when something is broken.
const TIMEOUT: Duration = Duration::from_secs(10);

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

type Log<T> = Arc<Mutex<Vec<T>>>;

fn pusher<T: Send + 'static>(log: &Log<T>, value: T) -> impl FnOnce() + Send + use<T> {
    let log = log.clone();
    move || log.lock().unwrap().push(value)
}

#[test]
fn enter() {
    let s = Scheduler::with_clock(Clock::virtual_clock());
    let log = Log::default();
    for x in [500, 400, 300, 200, 100] {
        s.enter(ms(x), 1, pusher(&log, x));
    }
    s.run(true).unwrap();
    assert_eq!(*log.lock().unwrap(), [100, 200, 300, 400, 500]);
}

#[test]
fn enterabs() {
    let s = Scheduler::with_clock(Clock::virtual_clock());
    let start = s.now();
    let log = Log::default();
    for x in [50, 40, 30, 20, 10] {
        s.enterabs(start + ms(x), 1, pusher(&log, x));
    }
    s.run(true).unwrap();
    assert_eq!(*log.lock().unwrap(), [10, 20, 30, 40, 50]);
}

/// Entering events into a scheduler running on another thread, while a test-driven
/// clock decides when time passes.
#[test]
fn enter_concurrent() {
    let clock = Clock::manual(SystemTime::UNIX_EPOCH);
    let s = Scheduler::with_clock(clock.clone());
    let (tx, rx) = mpsc::channel();
    let put = |x: u64| {
        let tx = tx.clone();
        move || tx.send(x).unwrap()
    };
    s.enter(secs(1), 1, put(1));
    s.enter(secs(3), 1, put(3));
    let runner = {
        let s = s.clone();
        thread::spawn(move || s.run(true))
    };
    clock.advance(secs(1));
    assert_eq!(rx.recv_timeout(TIMEOUT), Ok(1));
    assert_empty(&rx);
    for x in [4, 5, 2] {
        s.enter(secs(x - 1), 1, put(x));
    }
    clock.advance(secs(2));
    assert_eq!(rx.recv_timeout(TIMEOUT), Ok(2));
    assert_eq!(rx.recv_timeout(TIMEOUT), Ok(3));
    assert_empty(&rx);
    clock.advance(secs(1));
    assert_eq!(rx.recv_timeout(TIMEOUT), Ok(4));
    assert_empty(&rx);
    clock.advance(secs(1));
    assert_eq!(rx.recv_timeout(TIMEOUT), Ok(5));
    // CPython advances its Timer by 1000 here so that `run` can finish sleeping; ours
    // returns as soon as the queue is empty, with no sleep left to finish.
    runner.join().unwrap().unwrap();
    assert_empty(&rx);
    assert_eq!(s.elapsed(), secs(5));
}

fn assert_empty<T: std::fmt::Debug + PartialEq>(rx: &Receiver<T>) {
    assert_eq!(rx.try_recv().ok(), None, "nothing else should have run yet");
}

#[test]
fn priority() {
    let s = Scheduler::with_clock(Clock::virtual_clock());
    let cases: [([i32; 5], [i32; 5]); 4] = [
        ([1, 2, 3, 4, 5], [1, 2, 3, 4, 5]),
        ([5, 4, 3, 2, 1], [1, 2, 3, 4, 5]),
        ([2, 5, 3, 1, 4], [1, 2, 3, 4, 5]),
        ([1, 2, 3, 2, 1], [1, 1, 2, 2, 3]),
    ];
    for (priorities, expected) in cases {
        let log = Log::default();
        let at = s.now() + ms(10);
        for priority in priorities {
            s.enterabs(at, priority, pusher(&log, priority));
        }
        s.run(true).unwrap();
        assert_eq!(*log.lock().unwrap(), expected, "priorities {priorities:?}");
        assert!(s.empty());
    }
}

#[test]
fn cancel() {
    let s = Scheduler::with_clock(Clock::virtual_clock());
    let now = s.now();
    let log = Log::default();
    let events: Vec<_> = [10, 20, 30, 40, 50]
        .into_iter()
        .map(|x| s.enterabs(now + ms(x), 1, pusher(&log, x)))
        .collect();
    s.cancel(&events[0]).unwrap();
    s.cancel(&events[4]).unwrap();
    s.run(true).unwrap();
    assert_eq!(*log.lock().unwrap(), [20, 30, 40]);
}

#[test]
fn cancel_concurrent() {
    let clock = Clock::manual(SystemTime::UNIX_EPOCH);
    let s = Scheduler::with_clock(clock.clone());
    let (tx, rx) = mpsc::channel();
    let now = s.now();
    let enter = |x: u64| {
        let tx = tx.clone();
        s.enterabs(now + secs(x), 1, move || tx.send(x).unwrap())
    };
    let _event1 = enter(1);
    let event2 = enter(2);
    let _event4 = enter(4);
    let event5 = enter(5);
    let _event3 = enter(3);
    let runner = {
        let s = s.clone();
        thread::spawn(move || s.run(true))
    };
    clock.advance(secs(1));
    assert_eq!(rx.recv_timeout(TIMEOUT), Ok(1));
    assert_empty(&rx);
    s.cancel(&event2).unwrap();
    s.cancel(&event5).unwrap();
    clock.advance(secs(1));
    assert_empty(&rx);
    clock.advance(secs(1));
    assert_eq!(rx.recv_timeout(TIMEOUT), Ok(3));
    assert_empty(&rx);
    clock.advance(secs(1));
    assert_eq!(rx.recv_timeout(TIMEOUT), Ok(4));
    runner.join().unwrap().unwrap();
    assert_empty(&rx);
    // As in CPython: the last event ran at 4; the cancelled one at 5 kept nobody waiting.
    assert_eq!(s.elapsed(), secs(4));
}

/// bpo-19270: with three events of equal time and priority, cancel must remove the
/// one it was given, not the first equal one it finds.
#[test]
fn cancel_correct_event() {
    let s = Scheduler::with_clock(Clock::virtual_clock());
    let at = s.now() + secs(1);
    let log = Log::default();
    s.enterabs(at, 1, pusher(&log, "a"));
    let b = s.enterabs(at, 1, pusher(&log, "b"));
    s.enterabs(at, 1, pusher(&log, "c"));
    s.cancel(&b).unwrap();
    s.run(true).unwrap();
    assert_eq!(*log.lock().unwrap(), ["a", "c"]);
}

#[test]
fn empty() {
    let s = Scheduler::with_clock(Clock::virtual_clock());
    let log = Log::default();
    assert!(s.empty());
    for x in [50, 40, 30, 20, 10] {
        s.enterabs(s.now() + ms(x), 1, pusher(&log, x));
    }
    assert!(!s.empty());
    s.run(true).unwrap();
    assert!(s.empty());
}

#[test]
fn queue() {
    let s = Scheduler::with_clock(Clock::virtual_clock());
    let now = s.now();
    let e5 = s.enterabs(now + ms(50), 1, || {});
    let e1 = s.enterabs(now + ms(10), 1, || {});
    let e2 = s.enterabs(now + ms(20), 1, || {});
    let e4 = s.enterabs(now + ms(40), 1, || {});
    let e3 = s.enterabs(now + ms(30), 1, || {});
    assert_eq!(s.queue(), [e1, e2, e3, e4, e5]);
}

/// The positional half of `test_args_kwargs`: the argument reaches the action, and
/// shows in the event.
#[test]
fn arguments() {
    let s = Scheduler::with_clock(Clock::virtual_clock());
    let now = s.now();
    let log: Log<String> = Log::default();
    let l = log.clone();
    let none = s.enterabs_named(now, 1, "fun", (), move |()| {
        l.lock().unwrap().push("()".into())
    });
    let l = log.clone();
    let numbers = s.enterabs_named(now, 1, "fun", (1, 2), move |(a, b)| {
        l.lock().unwrap().push(format!("({a}, {b})"))
    });
    let l = log.clone();
    let letters = s.enterabs_named(now, 1, "fun", ("a", "b"), move |(a, b)| {
        l.lock().unwrap().push(format!("({a:?}, {b:?})"))
    });
    assert_eq!(none.argument(), "()");
    assert_eq!(numbers.argument(), "(1, 2)");
    assert_eq!(letters.argument(), r#"("a", "b")"#);
    s.run(true).unwrap();
    assert_eq!(*log.lock().unwrap(), ["()", "(1, 2)", r#"("a", "b")"#]);
}

#[test]
fn run_non_blocking() {
    let s = Scheduler::with_clock(Clock::virtual_clock());
    let log = Log::default();
    for x in [10, 9, 8, 7, 6] {
        s.enter(secs(x), 1, pusher(&log, x));
    }
    assert_eq!(s.run(false).unwrap(), Some(secs(6)));
    assert!(log.lock().unwrap().is_empty());
}
