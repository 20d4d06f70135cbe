//! `signal::ctrl_c()`: the process sends SIGINT to itself, only while a `CtrlC` is
//! live (the handler is installed), so the signal never reaches its default action.
//! A test binary of its own: no other test sees these signals. The tests take a lock
//! so that one's signal is never counted by another's waiter.

#![cfg(target_os = "linux")]

use std::future::Future;
use std::pin::pin;
use std::sync::Mutex;
use std::task::{Context, Waker};

use clearloop::signal::{self, ctrl_c};
use rustix::process::{Signal, getpid, kill_process};

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

/// Sends SIGINT to this process; callers hold a live `CtrlC`, so it is caught.
fn interrupt() {
    assert!(signal::waiting() > 0, "would kill the test process");
    kill_process(getpid(), Signal::INT).expect("kill(getpid(), SIGINT)");
}

/// SIGINT's bit in a mask of `/proc/self/status` (`SigCgt`: caught, `SigIgn`: ignored).
fn sigint_in(field: &str) -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let mask = status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .map(|m| u64::from_str_radix(m.trim(), 16).unwrap())
        .unwrap();
    mask & (1 << (Signal::INT.as_raw() - 1)) != 0
}

#[test]
fn a_waiter_completes_when_the_process_gets_sigint() {
    let _serial = serial();
    clearloop::run(async {
        let stop = ctrl_c();
        interrupt();
        stop.await.expect("ctrl_c");
    });
    assert_eq!(signal::waiting(), 0);
}

#[test]
fn the_signal_is_caught_from_the_call_not_the_first_poll() {
    let _serial = serial();
    let stop = ctrl_c();
    interrupt(); // before any poll: must be counted, and must not kill us
    clearloop::run(stop).expect("ctrl_c");
}

#[test]
fn every_waiter_wakes_on_one_signal() {
    let _serial = serial();
    clearloop::run(async {
        let tasks: Vec<_> = (0..3)
            .map(|i| {
                let stop = ctrl_c();
                clearloop::spawn(async move {
                    stop.await.expect("ctrl_c");
                    i
                })
            })
            .collect();
        let main = ctrl_c();
        assert_eq!(signal::waiting(), 4);
        // Let the three tasks start waiting in the reactor before the signal.
        clearloop::time::sleep(std::time::Duration::from_millis(1)).await;
        interrupt();
        main.await.expect("ctrl_c");
        let mut done = Vec::new();
        for task in tasks {
            done.push(task.await);
        }
        assert_eq!(done, [0, 1, 2]);
    });
    assert_eq!(signal::waiting(), 0);
}

#[test]
fn handler_is_installed_while_someone_waits_and_removed_after() {
    if !std::path::Path::new("/proc/self/status").exists() {
        return; // the masks below are Linux's
    }
    let _serial = serial();
    assert!(!sigint_in("SigCgt:"), "SIGINT caught before any ctrl_c()");
    let first = ctrl_c();
    let second = ctrl_c();
    assert!(sigint_in("SigCgt:"));
    drop(first);
    assert!(sigint_in("SigCgt:"), "one waiter left: still caught");
    drop(second);
    assert!(
        !sigint_in("SigCgt:"),
        "dropped before the signal: default is back"
    );
    assert!(!sigint_in("SigIgn:"));
    assert_eq!(signal::waiting(), 0);

    // And after a completed wait, too.
    let stop = ctrl_c();
    interrupt();
    clearloop::run(stop).expect("ctrl_c");
    assert!(!sigint_in("SigCgt:"), "completed: default is back");
}

#[test]
fn an_earlier_signal_does_not_complete_a_later_waiter() {
    let _serial = serial();
    let mut cx = Context::from_waker(Waker::noop());
    let early = ctrl_c();
    interrupt();
    // The signal may be handled on another thread, a moment later: wait for it.
    clearloop::run(early).expect("ctrl_c");
    // Made after the signal: it waits for the next one, even though the pipe still
    // holds the first signal's byte (nobody drained it).
    let mut late = pin!(ctrl_c());
    assert!(late.as_mut().poll(&mut cx).is_pending());
    assert!(late.as_mut().poll(&mut cx).is_pending());
    interrupt();
    clearloop::run(late).expect("ctrl_c");
    assert_eq!(signal::waiting(), 0);
}
