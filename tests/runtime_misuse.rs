//! Misuse panics point at the user's own line (issue 13 item 4) and name the
//! function the user called: `spawn`, `sleep_until`, `now`, `run` inside `run`,
//! `Builder::worker_threads(0)`. A `sleep` created outside a runtime looks the
//! runtime up when first polled (issue 12 item 7), so its panic cannot point at the
//! poll: its message names the line that created it.
//!
//! A panic hook records where each panic happened, per thread; it is installed once
//! for this test binary, which holds only these tests.

use std::cell::RefCell;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;
use std::time::{Duration, Instant};

use clearloop::Builder;
use clearloop::time::{now, sleep, sleep_until};

thread_local! {
    static LAST: RefCell<Option<(String, u32)>> = const { RefCell::new(None) };
}

/// Runs `f`, which must panic; returns the panic's `(file, line)` and message.
fn panic_of(f: impl FnOnce()) -> ((String, u32), String) {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        panic::set_hook(Box::new(|info| {
            let at = info.location().map(|l| (l.file().to_string(), l.line()));
            LAST.with(|last| *last.borrow_mut() = at);
        }))
    });
    let payload = panic::catch_unwind(AssertUnwindSafe(f)).expect_err("it should panic");
    let message = match payload.downcast::<String>() {
        Ok(message) => *message,
        Err(payload) => payload.downcast::<&str>().map(|m| m.to_string()).unwrap(),
    };
    let at = LAST
        .with(|last| last.borrow_mut().take())
        .expect("the hook saw it");
    (at, message)
}

fn here(line: u32) -> (String, u32) {
    (file!().to_string(), line)
}

#[test]
fn spawn_outside_a_runtime_points_at_the_caller() {
    let (at, message) = panic_of(|| drop(clearloop::spawn(async {})));
    assert_eq!(at, here(line!() - 1));
    assert!(message.contains("clearloop::spawn()"), "{message}");
}

#[test]
fn sleep_until_and_now_outside_a_runtime_point_at_the_caller() {
    let (at, message) = panic_of(|| drop(sleep_until(Instant::now())));
    assert_eq!(at, here(line!() - 1));
    assert!(
        message.contains("clearloop::time::sleep_until()"),
        "{message}"
    );
    let now_line = line!() + 2;
    let (at, message) = panic_of(|| {
        let _ = now();
    });
    assert_eq!(at, here(now_line));
    assert!(message.contains("clearloop::time::now()"), "{message}");
}

#[test]
fn run_inside_run_points_at_the_inner_call() {
    let mut inner_line = 0;
    let (at, message) = panic_of(|| {
        clearloop::run(async {
            inner_line = line!() + 1;
            clearloop::run(async {});
        })
    });
    assert_eq!(at, here(inner_line));
    assert!(message.contains("clearloop::run()"), "{message}");
}

#[test]
fn worker_threads_zero_points_at_the_caller() {
    let (at, message) = panic_of(|| drop(Builder::new().worker_threads(0)));
    assert_eq!(at, here(line!() - 1));
    assert!(message.contains("Builder::worker_threads(0)"), "{message}");
}

#[test]
fn a_sleep_polled_outside_a_runtime_names_its_creating_line() {
    let created = line!() + 1;
    let sleeper = sleep(Duration::from_millis(5)); // fine: no runtime needed yet
    let (_, message) = panic_of(move || {
        let mut sleeper = Box::pin(sleeper);
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        let _ = std::future::Future::poll(sleeper.as_mut(), &mut cx);
    });
    assert!(message.contains("clearloop::time::sleep()"), "{message}");
    let place = format!("{}:{created}", file!());
    assert!(message.contains(&place), "{message} should name {place}");
}

#[test]
fn a_sleep_made_outside_and_awaited_inside_works_like_asyncio_run_sleep() {
    let runtime = Builder::new()
        .clock(clearloop::clock::Clock::virtual_clock())
        .build();
    let start = runtime.clock().now();
    runtime.block_on(sleep(Duration::from_secs(1)));
    assert_eq!(runtime.clock().now() - start, Duration::from_secs(1));
}
