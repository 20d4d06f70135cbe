//! The waiter queue that every primitive in this module shares.
//!
//! A task that has to wait pushes a [`Waiter`] at the back of a [`WaitList`]: an id,
//! how much it wants (permits, for a semaphore; 1 for everything else) and the
//! [`Waker`] of its task. Whoever frees the resource *serves* waiters from the front:
//! it takes the waiter out of the list and keeps its waker to call later, once the
//! primitive's internal lock is released ([`WakeList`]).
//!
//! asyncio keeps the same thing in each primitive's `self._waiters`, a
//! `collections.deque` of futures; serving one is `fut.set_result(True)` and
//! `_wake_up_first` skips the futures already cancelled. Here a cancelled waiter is
//! removed at once, so there is nothing to skip.
//!
//! ```text
//!   front (served first)                              back (registers here)
//!   +---------+   +---------+   +---------+   +---------+
//!   | id 7    |   | id 9    |   | id 10   |   | id 12   |
//!   | want 1  |   | want 3  |   | want 1  |   | want 2  |
//!   | waker   |   | waker   |   | waker   |   | waker   |
//!   +---------+   +---------+   +---------+   +---------+
//!   serve_front()                remove(10)    push(2, waker) -> id 12
//!
//!   ids only grow from front to back, so a waiter is found by binary search.
//! ```
//!
//! **Where a waiter stands is where its id is.** A served waiter leaves the list, so
//! its future needs no flag: on its next poll it looks for its id; still there means
//! still waiting (and it refreshes its waker), gone means served. The same test on
//! drop decides between the two cancellation cases: still queued, just leave; already
//! served, hand what was given on ([`Removed`]).

use std::collections::VecDeque;
use std::task::{Poll, Waker};

/// The ticket of one waiter: its place in a [`WaitList`].
///
/// Ids come from a 64-bit counter that only grows; at one registration per
/// nanosecond it would take 584 years to wrap.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct WaiterId(u64);

/// One task waiting in a [`WaitList`].
#[derive(Debug)]
struct Waiter {
    /// Strictly greater than the id of every waiter before it in the list.
    id: WaiterId,
    /// How many permits (or items, or slots) it waits for.
    want: usize,
    /// How to wake its task. `None` only between registration and the first poll
    /// (a [`Condition`](super::Condition) registers before it has a waker); a
    /// waiter served in that window is found "served" when it is first polled.
    waker: Option<Waker>,
}

/// A first-in, first-out list of waiting tasks.
#[derive(Debug, Default)]
pub(crate) struct WaitList {
    /// Waiters not yet served, oldest first; ids increase from front to back.
    queue: VecDeque<Waiter>,
    /// The id the next registered waiter gets.
    next_id: u64,
}

/// What [`WaitList::remove`] found when a waiter gave up.
#[must_use = "a waiter that was already served must hand on what it was given"]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Removed {
    /// It was still queued; now it is gone and nobody owes anybody anything.
    WasWaiting,
    /// It had already been served: the caller owns what was handed to it and must
    /// hand it on.
    WasServed,
}

impl WaitList {
    /// An empty list.
    pub(crate) fn new() -> WaitList {
        WaitList::default()
    }

    /// Whether nobody is waiting.
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// How many tasks are waiting.
    pub(crate) fn len(&self) -> usize {
        self.queue.len()
    }

    /// How much the waiter at the front wants, if anybody waits.
    pub(crate) fn front_want(&self) -> Option<usize> {
        self.queue.front().map(|w| w.want)
    }

    /// Registers a waiter at the back of the list and returns its ticket.
    pub(crate) fn push(&mut self, want: usize, waker: Option<&Waker>) -> WaiterId {
        let id = WaiterId(self.next_id);
        self.next_id += 1;
        self.queue.push_back(Waiter {
            id,
            want,
            waker: waker.cloned(),
        });
        id
    }

    /// Serves the waiter at the front: takes it out of the list and puts its waker in
    /// `wake`. Returns false if nobody was waiting.
    pub(crate) fn serve_front(&mut self, wake: &mut WakeList) -> bool {
        match self.queue.pop_front() {
            Some(waiter) => {
                wake.push(waiter.waker);
                true
            }
            None => false,
        }
    }

    /// Serves every waiter (`Event::set`, `Condition::notify_all`).
    pub(crate) fn serve_all(&mut self, wake: &mut WakeList) {
        while self.serve_front(wake) {}
    }

    /// Wakes every waiter *without* serving it: each stays in the list, so its next
    /// poll finds it still waiting and must look again at why it waits (a queue that
    /// was shut down: nothing will ever serve it, and it leaves with an error).
    pub(crate) fn wake_all_in_place(&self, wake: &mut WakeList) {
        for waiter in &self.queue {
            wake.push(waiter.waker.clone());
        }
    }

    /// Where the waiter `id` stands: `Ready` if it has been served, `Pending` if it
    /// still waits, in which case `waker` replaces the one it registered with (a
    /// future may be polled by a different task than last time).
    pub(crate) fn poll(&mut self, id: WaiterId, waker: &Waker) -> Poll<()> {
        match self.find(id) {
            Ok(index) => {
                let slot = &mut self.queue[index].waker;
                match slot {
                    // Cloning a waker can cost an atomic increment: skip it when the
                    // same task polls again, which is the common case.
                    Some(old) if old.will_wake(waker) => {}
                    _ => *slot = Some(waker.clone()),
                }
                Poll::Pending
            }
            Err(_) => Poll::Ready(()),
        }
    }

    /// Takes the waiter `id` out of the list because its future was dropped.
    pub(crate) fn remove(&mut self, id: WaiterId) -> Removed {
        match self.find(id) {
            Ok(index) => {
                self.queue.remove(index);
                Removed::WasWaiting
            }
            Err(_) => Removed::WasServed,
        }
    }

    /// The index of waiter `id`, found by binary search: ids grow front to back.
    fn find(&self, id: WaiterId) -> Result<usize, usize> {
        self.queue.binary_search_by_key(&id, |w| w.id)
    }
}

/// Wakers collected under a primitive's internal lock, to be called after it.
///
/// Waking a task may run code (a waker of another runtime, or ours pushing into a
/// run queue guarded by its own lock); doing it while holding the state lock would
/// make a woken task on another thread block on that lock at once, or deadlock if the
/// waker re-enters the primitive. So: collect under the lock, drop the lock, then
/// [`wake_all`](WakeList::wake_all).
#[must_use = "call wake_all() once the state lock is released, or the served tasks sleep forever"]
#[derive(Debug, Default)]
pub(crate) struct WakeList {
    /// Most releases wake exactly one task: keep that one out of the heap.
    first: Option<Waker>,
    /// The others (`Event::set`, `notify_all`, a big release).
    rest: Vec<Waker>,
}

impl WakeList {
    /// An empty list; does not allocate.
    pub(crate) fn new() -> WakeList {
        WakeList::default()
    }

    /// Adds a waker; `None` (a waiter never polled yet) needs no wake-up.
    fn push(&mut self, waker: Option<Waker>) {
        let Some(waker) = waker else { return };
        if self.first.is_none() {
            self.first = Some(waker);
        } else {
            self.rest.push(waker);
        }
    }

    /// Wakes every task collected. Call it after dropping the state lock.
    ///
    /// Inlined: most calls find the list empty (a put that no getter waited for),
    /// and then this is one test; the waking itself is out of line.
    #[inline]
    pub(crate) fn wake_all(self) {
        // `rest` fills only once `first` is taken: no first, nobody to wake, and
        // nothing to drop either (an empty `Vec::new()` owns no memory), so skip
        // the drop code too.
        if self.first.is_some() {
            self.wake_slow();
        } else {
            debug_assert!(self.rest.capacity() == 0);
            std::mem::forget(self);
        }
    }

    #[inline(never)]
    fn wake_slow(self) {
        if let Some(first) = self.first {
            first.wake();
        }
        for waker in self.rest {
            waker.wake();
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake;

    struct Counter(AtomicUsize);
    impl Wake for Counter {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn serves_in_order_and_removed_waiters_leave_no_trace() {
        let counter = Arc::new(Counter(AtomicUsize::new(0)));
        let waker = Waker::from(counter.clone());
        let mut list = WaitList::new();
        let a = list.push(1, Some(&waker));
        let b = list.push(3, Some(&waker));
        let c = list.push(2, Some(&waker));
        assert_eq!(list.remove(b), Removed::WasWaiting);
        assert_eq!(list.front_want(), Some(1));

        let mut wake = WakeList::new();
        assert!(list.serve_front(&mut wake));
        assert_eq!(list.poll(a, &waker), Poll::Ready(()), "a was served");
        assert_eq!(list.poll(c, &waker), Poll::Pending, "c still waits");
        assert_eq!(list.front_want(), Some(2), "b's request is gone");
        wake.wake_all();
        assert_eq!(counter.0.load(Ordering::SeqCst), 1);

        assert_eq!(list.remove(a), Removed::WasServed);
        assert_eq!(list.len(), 1);
    }
}
