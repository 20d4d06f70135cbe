//! `sched`: an action that panics. `run` returns `Err(RunError)` naming the event and
//! the message; the rest of the queue stays, and the next `run` carries on. A
//! `Runner` reports the panic (to its hook, or on stderr) and runs the rest.
//!
//! (The panic hook still prints "thread '…' panicked" for each of these: expected.)

use std::sync::{Arc, Mutex};
use std::time::Duration;

use clearloop::clock::Clock;
use clearloop::sched::{EventState, Scheduler};

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn pusher(log: &Arc<Mutex<Vec<&'static str>>>, name: &'static str) -> impl FnOnce() + Send + use<> {
    let log = log.clone();
    move || log.lock().unwrap().push(name)
}

#[test]
fn a_panicking_action_keeps_the_queue_and_a_second_run_carries_on() {
    let s = Scheduler::with_clock(Clock::virtual_clock());
    let ran = Arc::new(Mutex::new(Vec::new()));
    s.enter(secs(1), 1, pusher(&ran, "a"));
    let boom = s.enter_named(secs(2), 1, "boom", (7,), |(x,)| {
        panic!("boom with {x}");
    });
    let c = s.enter(secs(3), 1, pusher(&ran, "c"));
    s.enter(secs(4), 1, pusher(&ran, "d"));

    let error = s.run(true).unwrap_err();
    assert_eq!(*error.event(), boom);
    assert_eq!(error.message(), "boom with 7");
    assert_eq!(boom.state(), EventState::Panicked);
    assert_eq!(
        error.to_string(),
        "the action of Event(time=2.000, priority=1, sequence=1, action=boom, argument=(7,)) \
         panicked: boom with 7; the other events are still queued, call run() again to carry on"
    );
    // run returned right after the panic: nothing later ran, nothing was lost.
    assert_eq!(*ran.lock().unwrap(), ["a"]);
    assert_eq!(s.elapsed(), secs(2));
    assert_eq!(s.queue().len(), 2);
    assert_eq!(s.queue()[0], c);

    assert_eq!(s.run(true).unwrap(), None);
    assert_eq!(*ran.lock().unwrap(), ["a", "c", "d"]);
    assert!(s.empty());
}

#[test]
fn run_nonblocking_reports_a_panic_too() {
    let s = Scheduler::with_clock(Clock::virtual_clock());
    let ran = Arc::new(Mutex::new(Vec::new()));
    s.enter(Duration::ZERO, 1, || {
        panic!("{}", String::from("formatted"))
    });
    s.enter(Duration::ZERO, 2, pusher(&ran, "after"));
    let error = s.run(false).unwrap_err();
    assert_eq!(error.message(), "formatted");
    assert!(ran.lock().unwrap().is_empty());
    assert_eq!(s.run(false).unwrap(), None);
    assert_eq!(*ran.lock().unwrap(), ["after"]);
}

#[test]
fn a_panic_with_a_non_string_payload_is_still_reported() {
    let s = Scheduler::with_clock(Clock::virtual_clock());
    s.enter(Duration::ZERO, 1, || std::panic::panic_any(42_u32));
    let error = s.run(true).unwrap_err();
    assert_eq!(error.message(), "<a panic payload that is not a string>");
}

/// Waits (in real time, bounded) until `done` holds: the runner is another thread.
fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let give_up = std::time::Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(
            std::time::Instant::now() < give_up,
            "timed out waiting: {what}"
        );
        std::thread::yield_now();
    }
}

#[test]
fn a_runner_reports_a_panicking_action_and_runs_the_rest() {
    let s = Scheduler::with_clock(Clock::virtual_clock());
    let ran = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let hook_log = seen.clone();
    s.on_action_panic(move |error| {
        let thread = std::thread::current().name().map(str::to_owned);
        hook_log.lock().unwrap().push((
            error.event().to_string(),
            error.message().to_owned(),
            thread,
        ));
    });
    // Each action notes the thread it ran on.
    let on_thread = |name: &'static str| {
        let ran = ran.clone();
        move || {
            let thread = std::thread::current().name().map(str::to_owned);
            ran.lock().unwrap().push((name, thread));
        }
    };
    s.enter(secs(1), 1, on_thread("first"));
    let bad = s.enter_named(secs(2), 1, "bad", (7,), |(x,)| panic!("bad {x}"));
    let third = s.enter(secs(3), 1, on_thread("third"));

    let runner = s.spawn_runner();
    wait_until("the runner ran everything and waits", || {
        s.empty() && s.is_sleeping()
    });
    assert!(!runner.is_finished(), "the runner lives on after the panic");
    assert_eq!(runner.panics(), 1);
    let runner_thread = Some("clearloop-sched".to_owned());
    assert_eq!(
        *ran.lock().unwrap(),
        [
            ("first", runner_thread.clone()),
            ("third", runner_thread.clone())
        ],
        "the event after the panicking one still ran, on the runner's thread"
    );
    assert_eq!(bad.state(), EventState::Panicked);
    assert_eq!(third.state(), EventState::Done);
    assert_eq!(s.elapsed(), secs(3));
    assert_eq!(
        *seen.lock().unwrap(),
        [(
            "Event(time=2.000, priority=1, sequence=1, action=bad, argument=(7,))".to_owned(),
            "bad 7".to_owned(),
            runner_thread,
        )],
        "the hook saw the failure, with the event's description, on the runner"
    );

    // It still takes new events; stop then join ends it and counts the panics.
    let later = s.enter(secs(1), 1, || {});
    wait_until("the new event ran", || later.state() == EventState::Done);
    runner.stop();
    assert_eq!(runner.join(), 1, "join returns how many actions panicked");
}

#[test]
fn a_panicking_hook_is_reported_and_the_runner_goes_on() {
    let s = Scheduler::with_clock(Clock::virtual_clock());
    let ran = Arc::new(Mutex::new(Vec::new()));
    s.on_action_panic(|_| panic!("the hook fails too"));
    s.enter(secs(1), 1, || panic!("first"));
    s.enter(secs(2), 1, || panic!("second"));
    s.enter(secs(3), 1, pusher(&ran, "after"));
    let runner = s.spawn_runner();
    wait_until("the runner ran everything and waits", || {
        s.empty() && s.is_sleeping()
    });
    assert_eq!(*ran.lock().unwrap(), ["after"]);
    runner.stop();
    assert_eq!(runner.join(), 2);
}

#[test]
fn without_a_hook_a_runner_reports_on_stderr_and_goes_on() {
    // The default report is one line on stderr (see `panics::report`); what this
    // test can check is that the runner survives it.
    let s = Scheduler::with_clock(Clock::virtual_clock());
    let ran = Arc::new(Mutex::new(Vec::new()));
    s.enter(secs(1), 1, || panic!("runner boom"));
    s.enter(secs(2), 1, pusher(&ran, "after"));
    let runner = s.spawn_runner();
    wait_until("the runner ran everything and waits", || {
        s.empty() && s.is_sleeping()
    });
    assert_eq!(*ran.lock().unwrap(), ["after"]);
    assert!(!runner.is_finished());
    runner.stop();
    assert_eq!(runner.join(), 1);
    assert!(s.empty());
}

#[test]
fn run_still_returns_the_error_and_does_not_call_the_runner_hook() {
    let s = Scheduler::with_clock(Clock::virtual_clock());
    let calls = Arc::new(Mutex::new(0));
    let counted = calls.clone();
    s.on_action_panic(move |_| *counted.lock().unwrap() += 1);
    s.enter(secs(1), 1, || panic!("direct"));
    let error = s.run(true).unwrap_err();
    assert_eq!(error.message(), "direct");
    assert_eq!(*calls.lock().unwrap(), 0, "run() returns the error instead");
}

#[test]
fn a_delay_too_long_panics_naming_enter_at_the_callers_line() {
    use std::cell::RefCell;
    thread_local! {
        static AT: RefCell<Option<(String, u32)>> = const { RefCell::new(None) };
    }
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let at = info.location().map(|l| (l.file().to_owned(), l.line()));
            AT.with(|cell| *cell.borrow_mut() = at);
            previous(info);
        }));
    });
    let s = Scheduler::with_clock(Clock::virtual_clock());
    let line = line!() + 1;
    let payload = std::panic::catch_unwind(|| s.enter(Duration::MAX, 1, || {})).unwrap_err();
    let message = clearloop::panics::message(&*payload);
    assert!(
        message.starts_with("clearloop::sched::Scheduler::enter(): now + delay"),
        "{message}"
    );
    let at = AT.with(|cell| cell.borrow_mut().take());
    assert_eq!(at, Some((file!().to_owned(), line)));
}
