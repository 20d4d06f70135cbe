//! `sched`: cancelling events, and actions that change their own scheduler.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use clearloop::clock::Clock;
use clearloop::sched::{CancelError, EventState, Scheduler};

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn log() -> Arc<Mutex<Vec<&'static str>>> {
    Arc::new(Mutex::new(Vec::new()))
}

fn pusher(log: &Arc<Mutex<Vec<&'static str>>>, name: &'static str) -> impl FnOnce() + Send + use<> {
    let log = log.clone();
    move || log.lock().unwrap().push(name)
}

#[test]
fn cancel_removes_a_pending_event() {
    let s = Scheduler::with_clock(Clock::virtual_clock());
    let ran = log();
    s.enter(secs(1), 1, pusher(&ran, "a"));
    let b = s.enter(secs(2), 1, pusher(&ran, "b"));
    s.enter(secs(3), 1, pusher(&ran, "c"));
    assert_eq!(s.cancel(&b), Ok(()));
    assert_eq!(b.state(), EventState::Cancelled);
    assert_eq!(s.queue().len(), 2);
    s.run(true).unwrap();
    assert_eq!(*ran.lock().unwrap(), ["a", "c"]);
}

#[test]
fn cancel_drops_the_action_and_what_it_captured() {
    let s = Scheduler::with_clock(Clock::virtual_clock());
    let captured = Arc::new(());
    let held = captured.clone();
    let event = s.enter(secs(1), 1, move || drop(held));
    assert_eq!(Arc::strong_count(&captured), 2);
    s.cancel(&event).unwrap();
    assert_eq!(Arc::strong_count(&captured), 1);
}

#[test]
fn cancel_twice_is_an_error() {
    let s = Scheduler::with_clock(Clock::virtual_clock());
    let event = s.enter(secs(1), 1, || {});
    s.cancel(&event).unwrap();
    let error = s.cancel(&event).unwrap_err();
    assert_eq!(error, CancelError::AlreadyCancelled(event.clone()));
    assert_eq!(
        error.to_string(),
        "cannot cancel Event(time=1.000, priority=1, sequence=0, action=\
         closure in cancel_twice_is_an_error, argument=()): \
         it was already cancelled"
    );
}

#[test]
fn cancel_after_run_is_an_error() {
    let s = Scheduler::with_clock(Clock::virtual_clock());
    let event = s.enter_named(secs(1), 1, "tick", (), |()| {});
    s.run(true).unwrap();
    let error = s.cancel(&event).unwrap_err();
    assert_eq!(error, CancelError::AlreadyRun(event.clone()));
    assert!(
        error
            .to_string()
            .contains("it already ran; only pending events"),
        "{error}"
    );
    assert!(s.empty());
}

#[test]
fn cancel_from_another_scheduler_is_an_error() {
    let mine = Scheduler::with_clock(Clock::virtual_clock());
    let theirs = Scheduler::with_clock(Clock::virtual_clock());
    // Same time, priority and sequence in both: only the owner may cancel.
    let event = theirs.enter(secs(1), 1, || {});
    let lookalike = mine.enter(secs(1), 1, || {});
    let error = mine.cancel(&event).unwrap_err();
    assert_eq!(error, CancelError::OtherScheduler(event.clone()));
    assert!(error.to_string().contains("belongs to another scheduler"));
    assert_eq!(lookalike.state(), EventState::Pending, "mine is untouched");
    assert_eq!(event.state(), EventState::Pending, "theirs is untouched");
    assert_eq!(theirs.cancel(&event), Ok(()));
}

#[test]
fn an_action_may_enter_and_cancel_events() {
    let s = Scheduler::with_clock(Clock::virtual_clock());
    let ran = log();
    let doomed = s.enter(secs(2), 1, pusher(&ran, "doomed"));
    let later = s.enter(secs(3), 1, pusher(&ran, "later"));
    let (s2, ran2) = (s.clone(), ran.clone());
    s.enter(secs(1), 1, move || {
        ran2.lock().unwrap().push("first");
        // The queue is readable and writable from inside an action: no lock is held.
        assert_eq!(s2.queue().len(), 2);
        s2.cancel(&doomed).unwrap();
        s2.enter(Duration::ZERO, 1, pusher(&ran2, "entered by first"));
        s2.enter(secs(5), 1, pusher(&ran2, "entered for t=6"));
    });
    s.run(true).unwrap();
    assert_eq!(
        *ran.lock().unwrap(),
        ["first", "entered by first", "later", "entered for t=6"]
    );
    assert_eq!(later.state(), EventState::Done);
    assert_eq!(s.elapsed(), secs(6));
}

#[test]
fn an_action_cannot_cancel_itself() {
    let s = Scheduler::with_clock(Clock::virtual_clock());
    let me: Arc<Mutex<Option<clearloop::sched::Event>>> = Arc::default();
    let answer = Arc::new(Mutex::new(String::new()));
    let (s2, me2, answer2) = (s.clone(), me.clone(), answer.clone());
    let event = s.enter(secs(1), 1, move || {
        let me = me2.lock().unwrap().clone().unwrap();
        *answer2.lock().unwrap() = s2.cancel(&me).unwrap_err().to_string();
    });
    *me.lock().unwrap() = Some(event);
    s.run(true).unwrap();
    assert!(
        answer.lock().unwrap().contains("it is running right now"),
        "{}",
        answer.lock().unwrap()
    );
}
