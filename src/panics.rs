//! What happens when user code panics: it is caught, kept or reported, and named.
//!
//! clearloop calls into code it did not write all the time: a task's future, the
//! `Drop` of a task's output, a debug-mode hook, a `sched` action, a `schedule` job
//! or report hook. Any of them may panic. The rule, everywhere in the crate:
//!
//! * **Caught.** Every such call goes through `catch` (a `catch_unwind`): a panic
//!   never unwinds through the runtime's own frames, so a worker thread, a `sched`
//!   runner or a `schedule` background thread never dies of it.
//! * **Kept or reported, never lost.** A task's panic is *kept* on the task, as
//!   asyncio keeps an exception on its `Task` until someone calls `result()`. A
//!   panic that has nowhere to be kept (a hook, a detached output's `Drop`) is
//!   *reported* on standard error, naming what failed and what happens next.
//! * **Never poisoning.** The runtime's own locks are never held while user code
//!   runs, so a panic cannot leave them half-changed: `lock` ignores the poison
//!   flag that `std` sets when a thread panics under a lock.
//!
//! Python has the same two fates: a `Task`'s exception waits on the task, and an
//! exception in a callback goes to `loop.call_exception_handler`, which logs
//! `Exception in callback ...` and lets the loop go on.
//!
//! ```text
//!   runtime ──catch(|| user code)──> Ok(value)      ──> go on
//!                                └─> Err(payload) ──> kept:     on the task (result(), await)
//!                                                 └─> reported: one line on stderr, then go on
//! ```
//!
//! ## One line per panic: [`install_hook`]
//!
//! Rust's default panic hook prints `thread 'main' panicked at src/x.rs:7:9:` and
//! the message the moment a panic starts, before anyone had a chance to catch it:
//! an example that panics on purpose (to show that `gather` collects the panic)
//! reads as a crash. [`install_hook`] is an opt-in hook that stays quiet for the
//! panics clearloop catches, and lets clearloop print one line instead, naming what
//! failed and where the panic now is:
//!
//! ```text
//! task 'Task-2' panicked at examples/exceptions.rs:31:5: boom; stored on the task
//! ```
//!
//! Other panics (in your `main`, on your own threads) still reach the hook that was
//! there before.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::fmt::Display;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, Once, PoisonError};

/// What `panic!` carries: usually a `&str` or a `String`.
pub type Payload = Box<dyn Any + Send + 'static>;

/// The text of a panic payload: `panic!("...")` carries a `&str` or a `String`;
/// anything else (`std::panic::panic_any(42)`) is named as such.
///
/// ```
/// let payload = std::panic::catch_unwind(|| panic!("boom {}", 1)).unwrap_err();
/// assert_eq!(clearloop::panics::message(&*payload), "boom 1");
/// ```
pub fn message(payload: &(dyn Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_string()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "<a panic payload that is not a string>".to_string()
    }
}

thread_local! {
    /// How many [`catch`] calls this thread is inside: the quiet hook keeps still
    /// for their panics, since the catch site will name them.
    static CATCHING: Cell<u32> = const { Cell::new(0) };
    /// Where the last caught panic started (`file:line:col`), saved by the quiet
    /// hook for the catch site's one line.
    static LOCATION: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Set once [`install_hook`] has run.
static HOOK_INSTALLED: AtomicBool = AtomicBool::new(false);

/// Calls user code, catching a panic instead of letting it unwind through the
/// runtime. `AssertUnwindSafe` is sound here because every caller either drops
/// what the closure touched or keeps it only behind the task's own state, which
/// records the panic.
pub(crate) fn catch<R>(user_code: impl FnOnce() -> R) -> Result<R, Payload> {
    /// Leaves the "catching" count as it was, even if `catch_unwind` itself unwinds
    /// (a panic while a panic payload is dropped aborts, so this is belt and braces).
    struct Leave;
    impl Drop for Leave {
        fn drop(&mut self) {
            let _ = CATCHING.try_with(|depth| depth.set(depth.get().saturating_sub(1)));
        }
    }
    let _ = CATCHING.try_with(|depth| depth.set(depth.get() + 1));
    let _leave = Leave;
    panic::catch_unwind(AssertUnwindSafe(user_code))
}

/// Takes a `std` mutex, ignoring poison: clearloop never runs user code while it
/// holds one of its own locks, so a panic elsewhere cannot leave the data behind it
/// half-changed.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Reports a panic that is *kept* somewhere (on a task, in a `RunError`): with
/// [`install_hook`], one line on standard error; without it, nothing more, since
/// Rust's default hook has already printed the panic.
///
/// `what` names what failed (`task 'Task-2'`), `then` says where the panic went
/// (`stored on the task`).
pub(crate) fn kept(what: impl Display, payload: &(dyn Any + Send), then: &str) {
    if HOOK_INSTALLED.load(Ordering::Relaxed) {
        eprintln!("{}", one_line(&what, payload, then));
    }
}

/// Reports a panic that has nowhere else to go (a hook, an output's `Drop`): one
/// line on standard error, always, naming what failed and what happens next.
#[allow(dead_code)] // the runners' and hooks' reports (issue 11) call it
pub(crate) fn report(what: impl Display, payload: &(dyn Any + Send), then: &str) {
    let line = one_line(&what, payload, then);
    if HOOK_INSTALLED.load(Ordering::Relaxed) {
        eprintln!("{line}");
    } else {
        eprintln!("clearloop: {line}");
    }
}

/// `what panicked at file:line:col: message; then`.
fn one_line(what: &dyn Display, payload: &(dyn Any + Send), then: &str) -> String {
    let location = LOCATION
        .try_with(|location| location.borrow_mut().take())
        .ok()
        .flatten();
    let at = location.map(|l| format!(" at {l}")).unwrap_or_default();
    format!("{what} panicked{at}: {}; {then}", message(payload))
}

/// Installs clearloop's panic hook: panics that clearloop catches (in tasks, jobs,
/// actions, hooks) are printed as one line naming what failed, by the code that
/// caught them; every other panic goes to the hook that was installed before.
///
/// Call it once at the start of `main`; later calls do nothing. Examples that panic
/// on purpose use it so that their output reads as a lesson, not a crash.
///
/// ```
/// clearloop::panics::install_hook();
/// let task_panicked = clearloop::run(async {
///     clearloop::spawn(async { panic!("boom") }).join().await.is_err()
/// });
/// assert!(task_panicked); // stderr: "task 'Task-1' panicked at ...: boom; stored on the task"
/// ```
pub fn install_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            let caught = CATCHING.try_with(Cell::get).unwrap_or(0) > 0;
            if caught {
                let at = info.location().map(|l| l.to_string());
                let _ = LOCATION.try_with(|location| *location.borrow_mut() = at);
            } else {
                previous(info);
            }
        }));
        HOOK_INSTALLED.store(true, Ordering::Relaxed);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_reads_both_string_kinds_and_names_the_rest() {
        let text = |f: fn()| message(&*panic::catch_unwind(f).unwrap_err());
        assert_eq!(text(|| panic!("plain")), "plain");
        assert_eq!(text(|| panic!("formatted {}", 7)), "formatted 7");
        assert_eq!(
            text(|| panic::panic_any(7_u8)),
            "<a panic payload that is not a string>"
        );
    }

    #[test]
    fn catch_returns_the_value_or_the_payload_and_leaves_the_depth_as_it_was() {
        assert_eq!(catch(|| 5).unwrap(), 5);
        let payload = catch(|| -> u8 { panic!("inner") }).unwrap_err();
        assert_eq!(message(&*payload), "inner");
        assert_eq!(CATCHING.with(Cell::get), 0);
    }

    #[test]
    fn a_panic_under_a_lock_does_not_make_lock_fail() {
        let mutex = std::sync::Arc::new(Mutex::new(1));
        let shared = mutex.clone();
        let _ = std::thread::spawn(move || {
            let _guard = shared.lock().unwrap();
            panic!("poisons the std mutex");
        })
        .join();
        assert!(mutex.is_poisoned());
        assert_eq!(*lock(&mutex), 1);
    }
}
