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
//!
//! Two futures share that logic: [`Acquire`] borrows the semaphore and returns a
//! [`SemaphorePermit`] that borrows it too; [`AcquireOwned`] holds an `Arc` of it and
//! returns an [`OwnedSemaphorePermit`], which a spawned task can own (tokio's
//! `acquire_owned`).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use super::super::lock_state;
use super::super::waiters::{Removed, WaiterId, WakeList};
use super::{OwnedSemaphorePermit, Semaphore, SemaphorePermit};
use crate::trace;

/// The future returned by [`Semaphore::acquire`] and [`Semaphore::acquire_many`].
#[must_use = "futures do nothing unless you `.await` or poll them"]
#[derive(Debug)]
pub struct Acquire<'a> {
    pub(super) semaphore: &'a Semaphore,
    pub(super) want: usize,
    pub(super) state: AcquireState,
}

/// The future returned by [`Semaphore::acquire_owned`] and
/// [`Semaphore::acquire_many_owned`]: [`Acquire`], holding an `Arc` of the
/// semaphore instead of a borrow, so that it (and the permit it returns) is
/// `'static` and can move into a spawned task.
#[must_use = "futures do nothing unless you `.await` or poll them"]
#[derive(Debug)]
pub struct AcquireOwned {
    /// Taken out (not cloned) into the permit when it is ready.
    pub(super) semaphore: Option<Arc<Semaphore>>,
    pub(super) want: usize,
    pub(super) state: AcquireState,
}

/// Where an [`Acquire`] or an [`AcquireOwned`] stands.
#[derive(Debug)]
pub(super) enum AcquireState {
    /// Not polled yet: it has not looked at the semaphore.
    Start,
    /// In the waiter queue under this id (or already served, if the id is gone).
    Waiting(WaiterId),
    /// Returned its permit; polling again is a bug.
    Done,
}

/// One poll of an acquire, borrowed or owned: `Ready` once `want` permits are ours
/// (taken at once, or handed to us while we waited).
// Inlined into each future's `poll`: shared as a function, it was called (not
// inlined) from `Mutex::lock`'s, which cost the uncontended lock 9 % more
// instructions and a third more time (compare --only lock_uncontended_10k).
#[inline(always)]
fn poll_acquire(
    semaphore: &Semaphore,
    want: usize,
    stage: &mut AcquireState,
    cx: &mut Context<'_>,
) -> Poll<()> {
    // Out of budget: yield before looking. A permit already handed to us stays
    // ours (served in the wait list), and the next poll takes it.
    std::task::ready!(crate::task::coop::poll_budget(cx));
    // The fast path: first poll, permits free, nobody queued. One
    // compare-and-swap, no lock.
    if matches!(stage, AcquireState::Start) && semaphore.try_take(want) {
        *stage = AcquireState::Done;
        return Poll::Ready(());
    }
    poll_slow(semaphore, want, stage, cx)
}

/// The rest of a poll, out of line: queue up (first poll, the fast path failed),
/// or look whether we were served (a later poll).
#[inline(never)]
fn poll_slow(
    semaphore: &Semaphore,
    want: usize,
    stage: &mut AcquireState,
    cx: &mut Context<'_>,
) -> Poll<()> {
    let served = match *stage {
        AcquireState::Start => {
            let mut id = None;
            let took = semaphore.take_or_queue(want, |state| {
                id = Some(state.waiters.push(want, Some(cx.waker())));
            });
            if let Some(id) = id {
                *stage = AcquireState::Waiting(id);
                if trace::enabled() {
                    semaphore.label.record(false);
                }
            }
            took
        }
        // Served means the permits were already taken off the word for us.
        AcquireState::Waiting(id) => lock_state(&semaphore.state)
            .waiters
            .poll(id, cx.waker())
            .is_ready(),
        AcquireState::Done => panic!(
            "a semaphore's acquire() future was polled after it returned its permit; \
             await it once"
        ),
    };
    if !served {
        semaphore.label.waiting();
        return Poll::Pending;
    }
    if trace::enabled() && matches!(stage, AcquireState::Waiting(_)) {
        semaphore.label.record(true);
    }
    *stage = AcquireState::Done;
    Poll::Ready(())
}

/// An acquire dropped: nothing to do if it never queued or already returned its
/// permit (the common case: one branch, inlined into each future's `Drop`; shared
/// out of line, that call cost the uncontended lock a tenth of its time); else it
/// leaves the queue ([`leave_queue`]).
#[inline(always)]
fn drop_acquire(semaphore: &Semaphore, want: usize, stage: &AcquireState) {
    if let AcquireState::Waiting(id) = *stage {
        leave_queue(semaphore, want, id);
    }
}

/// A queued acquire dropped (its task cancelled): leaves the queue, or hands on the
/// permits it was given and never returned.
#[cold]
#[inline(never)]
fn leave_queue(semaphore: &Semaphore, want: usize, id: WaiterId) {
    let mut state = lock_state(&semaphore.state);
    let mut wake = WakeList::new();
    match state.waiters.remove(id) {
        // Leaving can unblock the waiters behind: if we were a big request at
        // the front, a smaller one behind may fit in what is free now (and if we
        // were the last, `serve` clears QUEUED for the newcomers).
        Removed::WasWaiting => semaphore.serve(&mut state, &mut wake),
        // The permits were handed to us, but nobody will use them: hand on.
        Removed::WasServed => semaphore.give_back_locked(&mut state, want, &mut wake),
    }
    drop(state);
    wake.wake_all();
}

impl<'a> Future for Acquire<'a> {
    type Output = SemaphorePermit<'a>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<SemaphorePermit<'a>> {
        let this = &mut *self;
        std::task::ready!(poll_acquire(this.semaphore, this.want, &mut this.state, cx));
        Poll::Ready(SemaphorePermit {
            semaphore: this.semaphore,
            count: this.want,
        })
    }
}

impl Drop for Acquire<'_> {
    #[inline]
    fn drop(&mut self) {
        drop_acquire(self.semaphore, self.want, &self.state);
    }
}

impl Future for AcquireOwned {
    type Output = OwnedSemaphorePermit;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<OwnedSemaphorePermit> {
        let this = &mut *self;
        let semaphore = this
            .semaphore
            .as_deref()
            .expect("an acquire_owned() future was polled after it returned its permit");
        std::task::ready!(poll_acquire(semaphore, this.want, &mut this.state, cx));
        // Ours now: the `Arc` moves into the permit, no reference count touched.
        let semaphore = this.semaphore.take().expect("checked above");
        Poll::Ready(OwnedSemaphorePermit {
            semaphore,
            count: this.want,
        })
    }
}

impl Drop for AcquireOwned {
    #[inline]
    fn drop(&mut self) {
        if let Some(semaphore) = &self.semaphore {
            drop_acquire(semaphore, self.want, &self.state);
        }
    }
}
