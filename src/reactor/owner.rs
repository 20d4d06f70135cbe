//! Whose reactor a wait goes to: the runtime running on this thread lends its own,
//! and a thread with no runtime uses the process's I/O thread.
//!
//! asyncio gives every event loop a selector of its own, made with the loop; a
//! socket is used by one loop. clearloop does the same for a runtime on the real
//! clock, with two twists a course runtime needs:
//!
//! * the reactor is made at the first wait on I/O ([`OwnReactor`]), so that a
//!   runtime that never touches a socket (most of the course) never opens an epoll
//!   instance; the runtime is told when it appears, so that its sleeping thread moves
//!   into the selector at once;
//! * a socket may be made before the runtime that uses it, or waited on from several
//!   runtimes: each wait settles it in the reactor of the runtime running *here*
//!   (`source.rs`, "the home").
//!
//! The runtime lends itself to this module while it runs on a thread, through the
//! [`Owner`] trait (what the reactor needs of it: its reactor and its clock), so
//! the arrows point one way: the runtime knows the reactor, the reactor knows
//! nothing of the runtime.
//!
//! ```text
//!   Registered::poll_*: would block
//!     Source::poll_ready -> with_reactor(f)
//!        OWNER (thread-local) = Some(runtime) -> runtime.reactor()
//!            real clock:    its OwnReactor (created now if it is the first wait)
//!            virtual clock: the process's I/O thread's (the loop sleeps on its clock)
//!        OWNER = None (no runtime on this thread) -> the I/O thread's reactor
//! ```

use std::cell::RefCell;
use std::io;
use std::sync::{Arc, Mutex, OnceLock};

use super::Reactor;
use crate::clock::{Clock, IoWait};
use crate::panics::lock;

/// What a runtime lends the reactor while it runs on a thread (the task module's
/// `Schedule` trait plays the same part for tasks).
pub(crate) trait Owner: Send + Sync {
    /// The reactor this runtime's tasks wait in.
    ///
    /// # Errors
    ///
    /// When it cannot be created (no file descriptor left for an epoll instance).
    fn reactor(&self) -> io::Result<&Arc<Reactor>>;

    /// The runtime's clock: a virtual one counts the tasks waiting on I/O.
    fn clock(&self) -> &Clock;
}

thread_local! {
    /// The runtime running on this thread, as the reactor sees it.
    static OWNER: RefCell<Option<Arc<dyn Owner>>> = const { RefCell::new(None) };
}

/// Lends `owner` to the waits made on this thread until the guard is dropped.
pub(crate) fn lend(owner: Arc<dyn Owner>) -> Lent {
    OWNER.with(|current| *current.borrow_mut() = Some(owner));
    Lent(())
}

/// The runtime lent to this thread's waits; dropping it takes the loan back.
#[must_use = "the runtime is lent only while the guard lives"]
pub(crate) struct Lent(());

impl Drop for Lent {
    fn drop(&mut self) {
        let _gone = OWNER.try_with(|current| current.borrow_mut().take());
    }
}

/// Calls `f` with the reactor a wait made here belongs in.
pub(super) fn with_reactor<R>(f: impl FnOnce(&Arc<Reactor>) -> io::Result<R>) -> io::Result<R> {
    let mut f = Some(f);
    let lent = OWNER.try_with(|current| {
        let current = current.borrow();
        let owner = current.as_ref()?;
        let f = f.take()?;
        Some(owner.reactor().and_then(f))
    });
    match (lent, f) {
        (Ok(Some(done)), _) => done,
        // No runtime here (or the thread is exiting): the process's I/O thread.
        (_, Some(f)) => f(Reactor::shared()?),
        (_, None) => unreachable!("`f` was taken, so it ran"),
    }
}

/// A wait begins: counted by the runtime's clock if it is virtual with auto-advance.
pub(super) fn start_io_wait() -> Option<IoWait> {
    with_clock(Clock::start_io_wait).flatten()
}

/// Something happened on the network (a write, a connect, a close): a virtual
/// clock's quiet period starts again. Elsewhere, one thread-local read.
pub(super) fn note_activity() {
    with_clock(Clock::io_activity);
}

/// Calls `f` with the clock of the runtime lent to this thread, if any.
fn with_clock<R>(f: impl FnOnce(&Clock) -> R) -> Option<R> {
    OWNER
        .try_with(|current| current.borrow().as_ref().map(|owner| f(owner.clock())))
        .ok()
        .flatten()
}

/// A runtime's own reactor, made at the first wait on I/O (see the module doc).
#[derive(Default)]
pub(crate) struct OwnReactor {
    reactor: OnceLock<Arc<Reactor>>,
    /// Taken to create it, so that two first waits make one.
    creating: Mutex<()>,
}

impl OwnReactor {
    /// The reactor, if a wait created it already.
    pub(crate) fn get(&self) -> Option<&Arc<Reactor>> {
        self.reactor.get()
    }

    /// The reactor, created now if need be; `created` runs after a creation (the
    /// runtime moves its sleeping thread into the new selector). An error is not
    /// kept: a later wait, after descriptors were freed, tries again.
    pub(crate) fn get_or_create(&self, created: impl FnOnce()) -> io::Result<&Arc<Reactor>> {
        if let Some(reactor) = self.reactor.get() {
            return Ok(reactor);
        }
        let guard = lock(&self.creating);
        if let Some(reactor) = self.reactor.get() {
            return Ok(reactor);
        }
        let new = Arc::new(Reactor::new()?);
        let reactor = self.reactor.get_or_init(|| new);
        drop(guard);
        // Publish, then look who sleeps (`created` reads the runtime's driver); the
        // driver publishes itself, then looks for the reactor, behind the same
        // fence: one of the two sees the other (`Worker::park`).
        std::sync::atomic::fence(std::sync::atomic::Ordering::SeqCst);
        created();
        Ok(reactor)
    }
}
