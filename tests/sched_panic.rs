//! `sched`: an action that panics. `run` returns `Err(RunError)` naming the event and
//! the message; the rest of the queue stays, and the next `run` carries on.
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
    assert_eq!(error.message(), "<non-string panic payload>");
}

#[test]
fn a_panic_ends_a_runner_and_join_reports_it() {
    let s = Scheduler::with_clock(Clock::virtual_clock());
    let ran = Arc::new(Mutex::new(Vec::new()));
    s.enter(secs(1), 1, || panic!("runner boom"));
    s.enter(secs(2), 1, pusher(&ran, "after"));
    let runner = s.spawn_runner();
    let error = runner.join().unwrap_err();
    assert_eq!(error.message(), "runner boom");
    assert!(ran.lock().unwrap().is_empty());
    assert_eq!(s.queue().len(), 1, "the queue survives the runner");
    s.run(true).unwrap();
    assert_eq!(*ran.lock().unwrap(), ["after"]);
}
