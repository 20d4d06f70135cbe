//! A condition variable: wait, with a lock released, until another task says the
//! shared state changed.
//!
//! A task holding a [`Mutex`] guard finds the state is not what it needs ("the
//! buffer is empty"). `cond.wait(guard).await` releases the lock, sleeps until a
//! `notify`, takes the lock again and returns the guard: the task looks at the state
//! again, in a loop, since somebody else may have got there first.
//! [`wait_for`](Condition::wait_for) is that loop.
//!
//! asyncio: `asyncio.Condition` (`wait`, `wait_for(predicate)`, `notify(n)`,
//! `notify_all`). asyncio's condition owns its lock; here, as with
//! `std::sync::Condvar`, the lock is the [`Mutex`] whose guard you pass in, which keeps
//! the data inside the lock. asyncio's `notify` raises `RuntimeError` if the lock is
//! not held; here it can be called anywhere, and no notification is lost as long as
//! the state it announces was changed under the lock: a waiter joins the queue
//! *before* it lets go of the lock.
//!
//! ```text
//!   task A (holds guard)                         task B
//!   wait(guard): join the queue [ A ]
//!                drop guard ──────────────────►  lock().await, change state
//!                sleep                           notify(1): A served, woken
//!                                                drop guard
//!   lock().await again ◄──────────────────────
//!   return guard, check the state again
//! ```
//!
//! ```
//! use std::sync::Arc;
//! use clearloop::sync::{Condition, Mutex};
//!
//! let got = clearloop::run(async {
//!     let (cond, items) = (Arc::new(Condition::new()), Arc::new(Mutex::new(Vec::new())));
//!     let consumer = {
//!         let (cond, items) = (cond.clone(), items.clone());
//!         clearloop::spawn(async move {
//!             let guard = items.lock().await;
//!             // async with cond: await cond.wait_for(lambda: items)
//!             let mut guard = cond.wait_for(guard, |items| !items.is_empty()).await;
//!             guard.pop()
//!         })
//!     };
//!     clearloop::task::yield_now().await; // the consumer runs, finds nothing, waits
//!     items.lock().await.push("job");
//!     cond.notify(1);
//!     consumer.await
//! });
//! assert_eq!(got, Some("job"));
//! ```
//!
//! A notification reaches only tasks already waiting (unlike [`Event`](super::Event),
//! nothing is remembered). A waiter dropped after it was notified but before it
//! returned passes its notification to the next waiter, as asyncio's `wait` does on
//! cancellation since Python 3.13 (gh-112202), so `notify(1)` is never swallowed by
//! a task that gave up.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::mutex::{Mutex, MutexGuard};
use super::waiters::{Removed, WaitList, WaiterId, WakeList};
use super::{StateLock, lock_state};

/// A queue of tasks waiting to be notified (`asyncio.Condition`).
///
/// ```
/// use clearloop::sync::Condition;
///
/// let cond = Condition::new();
/// // Nobody waits yet: a notification reaches nobody and is not remembered.
/// assert_eq!(cond.notify(1), 0);
/// assert_eq!(cond.waiting(), 0);
/// ```
#[derive(Debug)]
pub struct Condition {
    waiters: StateLock<WaitList>,
    /// Its name in traces (`Condition-1`, or [`with_name`](Condition::with_name)).
    label: super::semaphore::Label,
}

impl Default for Condition {
    fn default() -> Condition {
        Condition::new()
    }
}

impl Condition {
    /// A condition nobody waits on.
    pub fn new() -> Condition {
        Condition {
            waiters: StateLock::new(WaitList::new()),
            label: super::semaphore::Label::new(crate::trace::ResourceKind::Condition),
        }
    }

    /// This condition, named `name` in traces, `Runtime::dump` and deadlock
    /// reports; unnamed, it is `Condition-1`, `Condition-2`, ...
    pub fn with_name(mut self, name: impl Into<String>) -> Condition {
        self.label.name(name.into());
        self
    }

    /// Releases the lock held by `guard`, waits for a notification, locks again and
    /// returns the new guard (asyncio's `await cond.wait()`).
    ///
    /// Wake-ups can be *spurious* from the caller's point of view (another task may
    /// have taken the lock first and changed the state again): check the state in a
    /// loop, or use [`wait_for`](Condition::wait_for).
    ///
    /// Cancel-safe: dropped while waiting, it leaves the queue; dropped after it was
    /// notified, it notifies the next waiter in its place.
    pub async fn wait<'a, T>(&self, guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
        let mutex: &'a Mutex<T> = MutexGuard::mutex(&guard);
        // Join the queue *before* letting go of the lock: a task that changes the state
        // must take the lock first, so its notify() will find us here.
        let id = lock_state(&self.waiters).push(1, None);
        if crate::trace::enabled() {
            self.label.record(false);
        }
        let notified = Notified {
            condition: self,
            id: Some(id),
        };
        drop(guard);
        notified.await;
        // We were notified. If we are dropped while waiting for the lock, nobody
        // would look at the state: let the next waiter do it.
        let pass_on = PassOn(Some(self));
        let guard = mutex.lock().await;
        pass_on.disarm();
        guard
    }

    /// Waits until `predicate` returns true for the data, checking it first and after
    /// every notification (asyncio's `await cond.wait_for(predicate)`).
    pub async fn wait_for<'a, T, F>(
        &self,
        mut guard: MutexGuard<'a, T>,
        mut predicate: F,
    ) -> MutexGuard<'a, T>
    where
        F: FnMut(&mut T) -> bool,
    {
        while !predicate(&mut guard) {
            guard = self.wait(guard).await;
        }
        guard
    }

    /// Wakes up to `n` waiters, oldest first, and returns how many it woke.
    pub fn notify(&self, n: usize) -> usize {
        let mut waiters = lock_state(&self.waiters);
        let mut wake = WakeList::new();
        let mut woken = 0;
        while woken < n && waiters.serve_front(&mut wake) {
            woken += 1;
        }
        drop(waiters);
        wake.wake_all();
        woken
    }

    /// Wakes every waiter and returns how many it woke.
    pub fn notify_all(&self) -> usize {
        self.notify(usize::MAX)
    }

    /// How many tasks are waiting for a notification.
    pub fn waiting(&self) -> usize {
        lock_state(&self.waiters).len()
    }
}

/// Waits to be served by `notify`; the first half of [`Condition::wait`].
struct Notified<'a> {
    condition: &'a Condition,
    /// Our place in the queue; `None` once we returned.
    id: Option<WaiterId>,
}

impl Future for Notified<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // Out of budget: yield first; whatever was handed to us stays ours until the next poll.
        std::task::ready!(crate::task::coop::poll_budget(cx));
        let id = self.id.expect("`Notified` polled after it returned");
        let poll = lock_state(&self.condition.waiters).poll(id, cx.waker());
        if poll.is_pending() {
            self.condition.label.waiting();
        } else {
            self.id = None;
            if crate::trace::enabled() {
                self.condition.label.record(true);
            }
        }
        poll
    }
}

impl Drop for Notified<'_> {
    fn drop(&mut self) {
        if let Some(id) = self.id {
            let removed = lock_state(&self.condition.waiters).remove(id);
            if removed == Removed::WasServed {
                self.condition.notify(1);
            }
        }
    }
}

/// Notifies one waiter when dropped, unless disarmed: covers the window between
/// being notified and holding the lock again.
struct PassOn<'a>(Option<&'a Condition>);

impl PassOn<'_> {
    fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for PassOn<'_> {
    fn drop(&mut self) {
        if let Some(condition) = self.0 {
            condition.notify(1);
        }
    }
}
