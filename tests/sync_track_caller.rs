//! Misuse panics point at the caller's line, not inside clearloop
//! (`#[track_caller]`), and their messages name the function that was called.

use std::cell::RefCell;
use std::panic::{self, AssertUnwindSafe};
use std::time::Duration;

use clearloop::clock::Clock;
use clearloop::sync::{BoundedSemaphore, Semaphore};

thread_local! {
    /// Where the last panic on this thread happened, and its message.
    static LAST: RefCell<Option<(String, u32, String)>> = const { RefCell::new(None) };
}

/// A misuse to try: what its message starts with, the line it is called on, the call.
type Case = (&'static str, u32, Box<dyn FnOnce()>);

/// Runs `f`, which must panic; returns the panic's file, line and message.
fn panic_site(f: impl FnOnce()) -> (String, u32, String) {
    let outcome = panic::catch_unwind(AssertUnwindSafe(f));
    assert!(outcome.is_err(), "expected a panic");
    LAST.with(|last| last.borrow_mut().take())
        .expect("the hook saw no panic")
}

#[test]
fn misuse_panics_point_at_the_caller() {
    let here = file!();
    let too_many = Semaphore::MAX_PERMITS + 1;

    let cases: Vec<Case> = vec![
        (
            "Semaphore::release()",
            line!() + 1,
            Box::new(|| Semaphore::new(Semaphore::MAX_PERMITS).release()),
        ),
        (
            "Semaphore::add_permits(2)",
            line!() + 1,
            Box::new(|| Semaphore::new(Semaphore::MAX_PERMITS).add_permits(2)),
        ),
        (
            "Semaphore::acquire_many(",
            line!() + 1,
            Box::new(move || drop(Semaphore::new(1).acquire_many(too_many))),
        ),
        (
            "Semaphore::new(",
            line!() + 1,
            Box::new(move || drop(Semaphore::new(too_many))),
        ),
        (
            "BoundedSemaphore::new(",
            line!() + 1,
            Box::new(move || drop(BoundedSemaphore::new(too_many))),
        ),
        (
            "Clock::advance ",
            line!() + 1,
            Box::new(|| Clock::real().advance(Duration::from_secs(1))),
        ),
        (
            "Clock::advance_to ",
            line!() + 1,
            Box::new(|| Clock::real().advance_to(std::time::Instant::now())),
        ),
    ];
    // The hook records the location on this thread; it is removed before asserting,
    // so that a failed assertion prints as usual.
    let results: Vec<_> = {
        panic::set_hook(Box::new(|info| {
            let location = info.location().expect("panics carry a location");
            let message = info
                .payload()
                .downcast_ref::<String>()
                .cloned()
                .unwrap_or_default();
            LAST.with(|last| {
                *last.borrow_mut() = Some((location.file().to_string(), location.line(), message))
            });
        }));
        let results = cases
            .into_iter()
            .map(|(name, line, f)| (name, line, panic_site(f)))
            .collect();
        let _ = panic::take_hook();
        results
    };
    for (name, line, (file, at, message)) in results {
        assert_eq!((file.as_str(), at), (here, line), "{name}: {message}");
        assert!(
            message.starts_with(name),
            "the message names {name}: {message}"
        );
    }
}
