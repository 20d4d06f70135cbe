//! Misuse of the tasks-together functions panics with a message that names the
//! function you called, at your line (`#[track_caller]`): `gather!` and `gather()`
//! outside a runtime, `wait` on no task, `TaskGroup::spawn` outside a runtime, and
//! `GroupHandle::spawn` into a group that has finished.

mod common;
use common::virtual_runtime;

use std::cell::RefCell;
use std::panic::{self, Location};
use std::sync::Once;

use clearloop::group::task_group;
use clearloop::{ReturnWhen, Task, TaskGroup, gather, wait};

thread_local! {
    /// Where the last panic on this thread started (recorded by `record_locations`).
    static LAST: RefCell<Option<(String, u32)>> = const { RefCell::new(None) };
}

/// Installs, once, a panic hook that notes each panic's location for its thread,
/// then hands over to the previous hook (tests run on parallel threads).
fn record_locations() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            let at = info.location().map(|l| (l.file().to_owned(), l.line()));
            LAST.with(|last| *last.borrow_mut() = at);
            previous(info);
        }));
    });
}

/// Runs `f`, which must panic; returns the message and where the panic started.
fn panic_of(f: impl FnOnce()) -> (String, (String, u32)) {
    record_locations();
    let payload = panic::catch_unwind(panic::AssertUnwindSafe(f)).unwrap_err();
    let at = LAST
        .with(|last| last.borrow_mut().take())
        .expect("a location");
    (clearloop::panics::message(&*payload), at)
}

/// This file, as `Location` spells it.
fn here() -> String {
    Location::caller().file().to_owned()
}

#[test]
fn gather_macro_outside_a_runtime_names_gather_and_points_here() {
    let line = line!() + 1;
    let (message, at) = panic_of(|| {
        // Built outside a runtime it waits for its first poll (`run(gather!(..))`);
        // polled outside one, it panics.
        let mut both = gather!(async { 1 }, async { 2 });
        let (waker, _) = common::counting_waker();
        let _ = common::poll_once(std::pin::Pin::new(&mut both), &waker);
    });
    assert_eq!(at.0, here(), "{message}");
    assert!(at.1 >= line && at.1 <= line + 3, "{message} at {at:?}");
    assert!(
        message.starts_with("clearloop::gather!() was called outside a clearloop runtime"),
        "{message}"
    );
}

#[test]
fn gather_outside_a_runtime_names_gather_and_points_here() {
    let line = line!() + 1;
    let (message, at) = panic_of(|| drop(clearloop::gather([async { 1 }])));
    assert_eq!(at, (here(), line));
    assert!(
        message.starts_with("clearloop::gather() was called outside a clearloop runtime"),
        "{message}"
    );
}

#[test]
fn wait_on_no_task_is_an_error_that_points_here() {
    let no_tasks = Vec::<Task<()>>::new();
    let line = line!() + 1;
    let (message, at) = panic_of(|| drop(wait(no_tasks, ReturnWhen::AllCompleted)));
    assert_eq!(at, (here(), line));
    assert!(
        message.starts_with("clearloop::wait() was given no tasks"),
        "{message}"
    );
    assert!(message.contains("ValueError"), "{message}");
}

#[test]
fn task_group_spawn_outside_a_runtime_names_it_and_points_here() {
    let mut group = TaskGroup::new();
    let line = line!() + 1;
    let (message, at) = panic_of(|| drop(group.spawn(async {})));
    assert_eq!(at, (here(), line));
    assert!(
        message.starts_with("clearloop::TaskGroup::spawn() was called outside"),
        "{message}"
    );
}

#[test]
fn spawn_into_a_finished_group_names_it_and_points_here() {
    let runtime = virtual_runtime();
    let handle = runtime.block_on(async {
        let mut kept = None;
        task_group(|tg| {
            kept = Some(tg);
            async {}
        })
        .await
        .unwrap();
        kept.unwrap()
    });
    let spawn_late = || drop(handle.spawn(async {}));
    let line = line!() - 1;
    let (message, at) = runtime.block_on(async move { panic_of(spawn_late) });
    assert_eq!(at, (here(), line));
    assert!(
        message.starts_with("GroupHandle::spawn(): this task group is shutting down"),
        "{message}"
    );
}
