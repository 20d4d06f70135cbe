//! The acquire future: a task's place in a semaphore's queue of waiters.
//!
//! Python: the coroutine `await sem.acquire()` (asyncio's `Semaphore.acquire` adds a
//! future to `sem._waiters` and awaits it). Here the future *is* the waiter: its first
//! poll takes the permits or joins the queue, a later poll finds it served, and
//! dropping it (a cancelled task) leaves the queue, or hands on permits it was given.
//!
//! ```text
//!   Start --try_take ok------------------------------> Done (permit returned)
//!     |
//!     +--queue full----> Waiting(id) --served, polled--> Done
//!                            |
//!                            +--dropped: leave the queue, or hand the permits on
//! ```

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::super::lock_state;
use super::super::waiters::{Removed, WaiterId, WakeList};
use super::{Semaphore, SemaphorePermit};
use crate::trace;

/// The future returned by [`Semaphore::acquire`] and [`Semaphore::acquire_many`].
#[must_use = "futures do nothing unless you `.await` or poll them"]
#[derive(Debug)]
pub struct Acquire<'a> {
    pub(super) semaphore: &'a Semaphore,
    pub(super) want: usize,
    pub(super) state: AcquireState,
}

/// Where an [`Acquire`] stands.
#[derive(Debug)]
pub(super) enum AcquireState {
    /// Not polled yet: it has not looked at the semaphore.
    Start,
    /// In the waiter queue under this id (or already served, if the id is gone).
    Waiting(WaiterId),
    /// Returned its permit; polling again is a bug.
    Done,
}

impl<'a> Future for Acquire<'a> {
    type Output = SemaphorePermit<'a>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<SemaphorePermit<'a>> {
        // Out of budget: yield before looking. A permit already handed to us stays
        // ours (served in the wait list), and the next poll takes it.
        std::task::ready!(crate::task::coop::poll_budget(cx));
        let semaphore = self.semaphore;
        let mut state = lock_state(&semaphore.state);
        let served = match self.state {
            AcquireState::Start => {
                if state.try_take(self.want) {
                    true
                } else {
                    // Register under the same lock we checked under: a release
                    // cannot slip in between, so no wake-up is lost.
                    let id = state.waiters.push(self.want, Some(cx.waker()));
                    self.state = AcquireState::Waiting(id);
                    if trace::enabled() {
                        semaphore.label.record(false);
                    }
                    false
                }
            }
            // Served means the permits were already taken off `available` for us.
            AcquireState::Waiting(id) => state.waiters.poll(id, cx.waker()).is_ready(),
            AcquireState::Done => panic!(
                "a semaphore's acquire() future was polled after it returned its permit; \
                 await it once"
            ),
        };
        drop(state);
        if !served {
            return Poll::Pending;
        }
        if trace::enabled() && matches!(self.state, AcquireState::Waiting(_)) {
            semaphore.label.record(true);
        }
        self.state = AcquireState::Done;
        Poll::Ready(SemaphorePermit {
            semaphore,
            count: self.want,
        })
    }
}

impl Drop for Acquire<'_> {
    fn drop(&mut self) {
        let AcquireState::Waiting(id) = self.state else {
            return; // never queued, or already returned its permit
        };
        let mut state = lock_state(&self.semaphore.state);
        let wake = match state.waiters.remove(id) {
            // Leaving can unblock the waiters behind: if we were a big request at
            // the front, a smaller one behind may fit in what is free now.
            Removed::WasWaiting => {
                let mut wake = WakeList::new();
                state.serve(&mut wake);
                wake
            }
            // The permits were handed to us, but nobody will use them: hand on.
            Removed::WasServed => state.give_back(self.want),
        };
        drop(state);
        wake.wake_all();
    }
}
