//! The cooperative budget: after a number of ready polls, a task yields once.
//!
//! A future that is always ready never returns to the loop. A task that takes an
//! uncontended lock three million times in a row (`lock().await` is ready at once
//! each time) holds the loop for all of them: a 1 ms sleep on the same loop wakes
//! tens of milliseconds late, because the loop never gets back to its timers.
//!
//! tokio's answer, copied here in idea: each poll of a task starts with a **budget**
//! (128 by default, [`Builder::cooperative_budget`](crate::Builder::cooperative_budget)).
//! Every resource a task awaits (a lock, a semaphore, a queue, a sleep, a task
//! handle) spends one unit before it answers; when none is left, it answers
//! `Pending` *and wakes the task at once*, so the task goes to the back of the ready
//! queue, as `yield_now` would, and the loop turns: timers fire, other tasks run.
//!
//! ```text
//!   task polled: budget = 128
//!     lock().await       ready   budget 127
//!     lock().await       ready   budget 126
//!     ...
//!     lock().await       budget 0: wake the task, return Pending
//!   <- the poll returns; the task is queued again, behind the others
//!   loop: fire timers, poll the sleeper, ...; the task's next poll: budget = 128
//! ```
//!
//! **asyncio has no such thing.** `await lock.acquire()` on a free `asyncio.Lock`
//! returns without ever yielding to the loop (its fast path does not even create a
//! future), so a coroutine that loops on an uncontended lock starves the loop in
//! Python exactly as it would here without a budget; the Python fix is to write
//! `await asyncio.sleep(0)` in the loop by hand. A runtime that runs on several
//! threads and is measured against tokio cannot leave that to every user.
//!
//! **What it costs.** One thread-local read, decrement and branch per poll of a
//! resource, and two thread-local writes per poll of a task. A task that does more
//! than 128 ready operations in one go takes one more turn of the loop (a push to the
//! back of the queue) every 128 of them. And it changes *when* such a task yields,
//! so an interleaving written for asyncio (no yield without an `await` that waits)
//! may differ; switch it off with `cooperative_budget(None)` to get asyncio's.
//!
//! Outside a runtime (a future polled by hand, or by another executor) the budget
//! is unlimited: [`poll_budget`] is always ready there.
//!
//! ```
//! use std::future::Future;
//! use std::pin::Pin;
//! use std::task::{Context, Poll};
//!
//! /// A resource that is always ready, but lets the loop breathe.
//! struct AlwaysReady;
//!
//! impl Future for AlwaysReady {
//!     type Output = ();
//!     fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
//!         clearloop::task::coop::poll_budget(cx) // Ready, until the budget runs out
//!     }
//! }
//!
//! let yields = clearloop::run(async {
//!     let counter = clearloop::spawn(async {
//!         let mut polls = 0;
//!         for _ in 0..1000 {
//!             AlwaysReady.await;
//!             polls += 1;
//!         }
//!         polls
//!     });
//!     counter.await
//! });
//! assert_eq!(yields, 1000); // it got there, yielding 7 times on the way
//! ```

use std::cell::Cell;
use std::future::poll_fn;
use std::task::{Context, Poll};

/// The budget a task's poll starts with, unless the runtime's builder says
/// otherwise (tokio's number).
pub(crate) const DEFAULT_BUDGET: u32 = 128;

/// "No budget": so large that a poll never spends it all.
pub(crate) const UNLIMITED: u32 = u32::MAX;

thread_local! {
    /// What the task being polled on this thread may still spend.
    static BUDGET: Cell<u32> = const { Cell::new(UNLIMITED) };
}

/// Spends one unit of the current task's budget: `Ready(())` while some is left;
/// when it has run out, wakes the task and returns `Pending`, so that the task
/// yields to the loop once.
///
/// Call it first in the `poll` of a resource that may be ready at once (a lock, a
/// channel); on `Pending`, return `Pending` yourself:
/// `std::task::ready!(clearloop::task::coop::poll_budget(cx));`.
#[inline]
pub fn poll_budget(cx: &mut Context<'_>) -> Poll<()> {
    // One thread-local access and one branch: this runs on every ready resource.
    let spent = BUDGET.with(|budget| {
        let left = budget.get();
        budget.set(left.wrapping_sub(1));
        left == 0
    });
    if spent {
        out_of_budget(cx)
    } else {
        Poll::Ready(())
    }
}

/// The rare path: the task has spent its budget. It stays at zero (the decrement
/// above wrapped it, so put it back) until the task's next poll refills it.
#[cold]
#[inline(never)]
fn out_of_budget(cx: &mut Context<'_>) -> Poll<()> {
    BUDGET.with(|budget| budget.set(0));
    cx.waker().wake_by_ref();
    Poll::Pending
}

/// Spends one unit of the budget, yielding if it has run out: for a loop of work
/// that never awaits anything that could make it wait (tokio's `consume_budget`).
pub async fn consume_budget() {
    poll_fn(poll_budget).await
}

/// Runs one poll of a task (or of `block_on`'s future) with `budget` to spend.
///
/// What is left afterwards stays until the next poll sets its own: only the
/// runtime's own polls run on a loop's or a worker's thread, and [`unlimited`] puts
/// it back when the runtime leaves the thread. (Resetting after every poll cost a
/// tenth of a `yield_now` round trip.)
///
/// This is the entry for `block_on`'s own future, which has no task header: what it
/// waits on is kept for this thread's deadlock report ([`super::wait::polling_main`]).
/// A task's poll calls [`budgeted`] inside [`super::wait::polling`] instead.
#[inline]
pub(crate) fn with_budget<R>(budget: u32, poll: impl FnOnce() -> R) -> R {
    super::wait::polling_main(|| budgeted(budget, poll))
}

/// Starts a poll with `budget` units (see [`with_budget`]).
#[inline]
pub(crate) fn budgeted<R>(budget: u32, poll: impl FnOnce() -> R) -> R {
    BUDGET.with(|left| left.set(budget));
    poll()
}

/// Runs `f` with no budget limit, then puts back what was left: for a resource
/// that must be looked at even after the task spent its budget elsewhere in the
/// same poll (a timeout's own timer, after the future it guards spent it all).
pub(crate) fn unconstrained<R>(f: impl FnOnce() -> R) -> R {
    let left = BUDGET.with(|budget| budget.replace(UNLIMITED));
    let result = f();
    BUDGET.with(|budget| budget.set(left));
    result
}

/// No budget on this thread any more (a runtime stops running on it).
pub(crate) fn unlimited() {
    let _ = BUDGET.try_with(|left| left.set(UNLIMITED));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_runs_out_wakes_once_and_is_unlimited_outside_a_poll() {
        let (waker, woken) = {
            struct Count(std::sync::atomic::AtomicUsize);
            impl std::task::Wake for Count {
                fn wake(self: std::sync::Arc<Self>) {
                    self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                }
            }
            let count = std::sync::Arc::new(Count(Default::default()));
            (std::task::Waker::from(count.clone()), count)
        };
        let mut cx = Context::from_waker(&waker);
        let readies = with_budget(3, || {
            let readies = (0..3).filter(|_| poll_budget(&mut cx).is_ready()).count();
            assert!(poll_budget(&mut cx).is_pending());
            readies
        });
        assert_eq!(readies, 3);
        assert_eq!(woken.0.load(std::sync::atomic::Ordering::SeqCst), 1);
        // Once the runtime leaves the thread: unlimited again.
        unlimited();
        assert!((0..1000).all(|_| poll_budget(&mut cx).is_ready()));
    }
}
