//! A queue between tasks: producers `put`, consumers `get`, and each side waits when
//! it must (the queue is full, or empty).
//!
//! asyncio: `asyncio.Queue(maxsize)`, with `put`/`get` that wait,
//! `put_nowait`/`get_nowait` that fail with `QueueFull`/`QueueEmpty`, and
//! `task_done`/`join` to wait until every item put has been processed. `maxsize == 0`
//! means no limit, as in asyncio. `asyncio.LifoQueue` and `asyncio.PriorityQueue`
//! are the same queue with another [`QueueOrder`]: [`Queue::lifo`], [`Queue::priority`]
//! (smallest item first, like `heapq`).
//!
//! Two waiter queues, one per side, plus one for `join()`:
//!
//! ```text
//!   putters (queue full)      items (maxsize 3)          getters (queue empty)
//!   [ p1 | p2 ] ──put──►  [ a | b | c ] ──get──► [ g1 | g2 ]
//!        ▲                     │                      ▲
//!        └── served when a get frees a place          │
//!                              └─ served when a put brings an item
//!
//!   (both lists hold waiters at once only briefly, while served waiters have not
//!   run yet: a full queue whose items are all promised to getters)
//!
//!   unfinished = items put - task_done() calls;   join() waits for unfinished == 0
//! ```
//!
//! **Promises, not races.** When a `put` serves a waiting getter, the item stays in
//! the buffer but is *promised* to that getter: `get_nowait` by another task cannot
//! take it, and the getter pops one item when it next runs. If the getter is dropped
//! first, the promise passes to the next getter. A freed place is promised to a
//! waiting putter the same way. This is the semaphore's hand-off with items and
//! places as permits, and it keeps both sides first-come, first-served (asyncio
//! wakes a getter and lets it race for the item, re-queueing it at the back if it
//! loses).
//!
//! ```
//! use clearloop::sync::{Queue, QueueEmpty};
//!
//! let queue = Queue::new(2);
//! queue.put_nowait("a").unwrap();
//! queue.put_nowait("b").unwrap();
//! assert!(queue.full());
//! let refused = queue.put_nowait("c").unwrap_err();
//! assert_eq!(refused.into_inner(), "c"); // the item comes back
//! assert_eq!(queue.get_nowait(), Ok("a")); // first in, first out
//! assert_eq!(queue.get_nowait(), Ok("b"));
//! assert_eq!(queue.get_nowait(), Err(QueueEmpty));
//! ```
//!
//! The three orders ([`QueueOrder`]) live in `order.rs`, the errors of the `_nowait`
//! calls in `error.rs`.

use std::collections::{BinaryHeap, VecDeque};
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::waiters::{Removed, WaitList, WaiterId, WakeList};
use super::{StateLock, lock_state};

mod error;
mod order;

pub use error::{QueueEmpty, QueueFull, TaskDoneError};
pub use order::{Fifo, Lifo, Priority, QueueOrder};

/// A queue of `T`s between tasks (`asyncio.Queue`); `O` decides the order.
pub struct Queue<T, O = Fifo<T>> {
    state: StateLock<State<O>>,
    /// Its name in traces (`Queue-1`, or [`with_name`](Queue::with_name)).
    label: super::semaphore::Label,
    /// The items live in `O`; this only names `T`. `fn() -> T` rather than `T` so that
    /// the marker does not demand `T: Sync` for the queue to be `Sync`: like
    /// `std::sync::Mutex<T>`, the queue only needs `T: Send`.
    _items: PhantomData<fn() -> T>,
}

/// A queue that gives back the last item put first (`asyncio.LifoQueue`).
pub type LifoQueue<T> = Queue<T, Lifo<T>>;

/// A queue that gives back the smallest item first (`asyncio.PriorityQueue`).
pub type PriorityQueue<T> = Queue<T, Priority<T>>;

/// What a queue knows, behind its internal lock.
#[derive(Debug)]
struct State<O> {
    items: O,
    /// Most items the buffer may hold, promised places included; 0: no limit.
    maxsize: usize,
    /// Items in `items` promised to getters that were served and have not come
    /// for them yet. Invariant: `promised_items <= items.len()`.
    promised_items: usize,
    /// Free places promised to putters that were served and have not used them yet.
    promised_slots: usize,
    /// Tasks waiting for an item. Invariant: if not empty, every item is promised.
    getters: WaitList,
    /// Tasks waiting for a free place. Invariant: if not empty, no place is free.
    putters: WaitList,
    /// Items put and not yet marked done with `task_done()`.
    unfinished: usize,
    /// Tasks waiting in `join()` for `unfinished` to reach 0.
    joiners: WaitList,
}

impl<O> State<O> {
    /// Items a newcomer could take now.
    fn free_items<T>(&self) -> usize
    where
        O: QueueOrder<T>,
    {
        self.items.len() - self.promised_items
    }

    /// Places a newcomer could fill now.
    fn free_slots<T>(&self) -> usize
    where
        O: QueueOrder<T>,
    {
        if self.maxsize == 0 {
            return usize::MAX;
        }
        self.maxsize
            .saturating_sub(self.items.len() + self.promised_slots)
    }

    /// Promises free items to waiting getters, oldest first.
    fn serve_getters<T>(&mut self, wake: &mut WakeList)
    where
        O: QueueOrder<T>,
    {
        while self.free_items() > 0 && self.getters.serve_front(wake) {
            self.promised_items += 1;
        }
    }

    /// Promises free places to waiting putters, oldest first.
    fn serve_putters<T>(&mut self, wake: &mut WakeList)
    where
        O: QueueOrder<T>,
    {
        while self.free_slots() > 0 && self.putters.serve_front(wake) {
            self.promised_slots += 1;
        }
    }

    /// Stores an item whose place was free or promised, and serves a getter.
    fn push<T>(&mut self, item: T, wake: &mut WakeList)
    where
        O: QueueOrder<T>,
    {
        self.items.push(item);
        self.unfinished += 1;
        self.serve_getters(wake);
    }

    /// Takes an item that was free or promised, and serves a putter.
    fn pop<T>(&mut self, wake: &mut WakeList) -> T
    where
        O: QueueOrder<T>,
    {
        let item = self
            .items
            .pop()
            .expect("clearloop bug: a free or promised item is missing");
        self.serve_putters(wake);
        item
    }
}

impl<T> Queue<T> {
    /// A first-in, first-out queue holding at most `maxsize` items; 0 means no limit
    /// (`asyncio.Queue(maxsize)`).
    pub fn new(maxsize: usize) -> Queue<T> {
        Queue::with_order(maxsize, Fifo(VecDeque::new()))
    }
}

impl<T> Queue<T, Lifo<T>> {
    /// A last-in, first-out queue (`asyncio.LifoQueue(maxsize)`).
    pub fn lifo(maxsize: usize) -> LifoQueue<T> {
        Queue::with_order(maxsize, Lifo(Vec::new()))
    }
}

impl<T: Ord> Queue<T, Priority<T>> {
    /// A queue that gives back the smallest item first (`asyncio.PriorityQueue(maxsize)`).
    pub fn priority(maxsize: usize) -> PriorityQueue<T> {
        Queue::with_order(maxsize, Priority(BinaryHeap::new()))
    }
}

impl<T, O: QueueOrder<T>> Queue<T, O> {
    /// A queue that stores its items in `order` (which should start empty).
    pub fn with_order(maxsize: usize, order: O) -> Queue<T, O> {
        Queue {
            state: StateLock::new(State {
                items: order,
                maxsize,
                promised_items: 0,
                promised_slots: 0,
                getters: WaitList::new(),
                putters: WaitList::new(),
                unfinished: 0,
                joiners: WaitList::new(),
            }),
            label: super::semaphore::Label::new(crate::trace::ResourceKind::Queue),
            _items: PhantomData,
        }
    }

    /// This queue, named `name` in traces, `Runtime::dump` and deadlock reports;
    /// unnamed, it is `Queue-1`, `Queue-2`, ...
    pub fn with_name(mut self, name: impl Into<String>) -> Queue<T, O> {
        self.label.name(name.into());
        self
    }

    /// Puts `item`, waiting for a free place if the queue is full (`await q.put(item)`).
    ///
    /// Cancel-safe: dropped while waiting, it leaves the queue of putters (and the
    /// item is dropped with it); dropped after a place was promised to it, the place
    /// goes to the next putter.
    pub fn put(&self, item: T) -> Put<'_, T, O> {
        Put {
            queue: self,
            item: Some(item),
            stage: Stage::Start,
        }
    }

    /// Takes the next item, waiting for one if the queue is empty (`await q.get()`).
    ///
    /// Cancel-safe: dropped while waiting, it leaves the queue of getters; dropped
    /// after an item was promised to it, the item goes to the next getter (it is never
    /// lost: it stays in the queue until a getter takes it).
    pub fn get(&self) -> Get<'_, T, O> {
        Get {
            queue: self,
            stage: Stage::Start,
        }
    }

    /// Puts `item` now.
    ///
    /// # Errors
    ///
    /// [`QueueFull`], holding `item`, if there is no free place or putters are queued
    /// before us.
    pub fn put_nowait(&self, item: T) -> Result<(), QueueFull<T>> {
        let mut state = lock_state(&self.state);
        if !can_put_now(&state) {
            return Err(QueueFull(item));
        }
        let mut wake = WakeList::new();
        state.push(item, &mut wake);
        drop(state);
        wake.wake_all();
        Ok(())
    }

    /// Takes the next item now.
    ///
    /// # Errors
    ///
    /// [`QueueEmpty`] if no item is free (none at all, or all promised to getters
    /// that were waiting before us).
    pub fn get_nowait(&self) -> Result<T, QueueEmpty> {
        let mut state = lock_state(&self.state);
        if !can_get_now(&state) {
            return Err(QueueEmpty);
        }
        let mut wake = WakeList::new();
        let item = state.pop(&mut wake);
        drop(state);
        wake.wake_all();
        Ok(item)
    }

    /// Marks one item taken with `get` as processed (`q.task_done()`).
    ///
    /// # Errors
    ///
    /// [`TaskDoneError`] if every item put has already been marked done.
    pub fn task_done(&self) -> Result<(), TaskDoneError> {
        let mut state = lock_state(&self.state);
        if state.unfinished == 0 {
            return Err(TaskDoneError);
        }
        state.unfinished -= 1;
        let mut wake = WakeList::new();
        if state.unfinished == 0 {
            state.joiners.serve_all(&mut wake);
        }
        drop(state);
        wake.wake_all();
        Ok(())
    }

    /// Waits until every item put has been marked done with `task_done()`
    /// (`await q.join()`). Returns at once if there is nothing unfinished.
    pub fn join(&self) -> Join<'_, T, O> {
        Join {
            queue: self,
            stage: Stage::Start,
        }
    }

    /// How many items a `get_nowait` could take now (`q.qsize()`): the items in the
    /// queue, less those already promised to served getters.
    pub fn qsize(&self) -> usize {
        lock_state(&self.state).free_items()
    }

    /// Whether `get_nowait` would fail now (`q.empty()`).
    pub fn empty(&self) -> bool {
        !can_get_now(&lock_state(&self.state))
    }

    /// Whether `put_nowait` would fail now (`q.full()`); never true without a limit.
    pub fn full(&self) -> bool {
        !can_put_now(&lock_state(&self.state))
    }

    /// The limit given at creation; 0 means none (`q.maxsize`).
    pub fn maxsize(&self) -> usize {
        lock_state(&self.state).maxsize
    }

    /// Items put and not yet marked done.
    pub fn unfinished(&self) -> usize {
        lock_state(&self.state).unfinished
    }
}

/// A newcomer may put now: nobody queued before it (fairness) and a place is free.
fn can_put_now<T, O: QueueOrder<T>>(state: &State<O>) -> bool {
    state.putters.is_empty() && state.free_slots() > 0
}

/// A newcomer may get now: nobody queued before it (fairness) and an item is free.
fn can_get_now<T, O: QueueOrder<T>>(state: &State<O>) -> bool {
    state.getters.is_empty() && state.free_items() > 0
}

impl<T, O> fmt::Debug for Queue<T, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock_state(&self.state);
        f.debug_struct("Queue")
            .field("maxsize", &state.maxsize)
            .field("getters", &state.getters.len())
            .field("putters", &state.putters.len())
            .field("unfinished", &state.unfinished)
            .finish_non_exhaustive()
    }
}

/// Where a [`Put`], [`Get`] or [`Join`] stands.
#[derive(Debug)]
enum Stage {
    /// Not polled yet.
    Start,
    /// Queued under this id (or already served, if the id is gone).
    Waiting(WaiterId),
    /// Returned; polling again is a bug.
    Done,
}

/// The future returned by [`Queue::put`].
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Put<'a, T, O: QueueOrder<T> = Fifo<T>> {
    queue: &'a Queue<T, O>,
    /// The item, until it is in the queue.
    item: Option<T>,
    stage: Stage,
}

// `Put` is never structurally pinned: it only ever moves `item` out by value, and no
// `Pin<&mut T>` is ever made, so it may move freely even if `T` may not.
impl<T, O: QueueOrder<T>> Unpin for Put<'_, T, O> {}

impl<T, O: QueueOrder<T>> Future for Put<'_, T, O> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // Out of budget: yield first; whatever was handed to us stays ours until the next poll.
        std::task::ready!(crate::task::coop::poll_budget(cx));
        let this = &mut *self;
        let mut state = lock_state(&this.queue.state);
        match this.stage {
            Stage::Start if can_put_now(&state) => {}
            Stage::Start => {
                // Queue up under the lock we checked under: no lost wake-up.
                this.stage = Stage::Waiting(state.putters.push(1, Some(cx.waker())));
                if crate::trace::enabled() {
                    this.queue.label.record(false);
                }
                return Poll::Pending;
            }
            Stage::Waiting(id) => {
                if state.putters.poll(id, cx.waker()).is_pending() {
                    return Poll::Pending;
                }
                if crate::trace::enabled() {
                    this.queue.label.record(true);
                }
                state.promised_slots -= 1; // ours now: we fill it below
            }
            Stage::Done => panic!("`Put` polled after it completed"),
        }
        let item = this.item.take().expect("the item is here until it is put");
        let mut wake = WakeList::new();
        state.push(item, &mut wake);
        drop(state);
        this.stage = Stage::Done;
        wake.wake_all();
        Poll::Ready(())
    }
}

impl<T, O: QueueOrder<T>> Drop for Put<'_, T, O> {
    fn drop(&mut self) {
        let Stage::Waiting(id) = self.stage else {
            return;
        };
        let mut state = lock_state(&self.queue.state);
        let mut wake = WakeList::new();
        if state.putters.remove(id) == Removed::WasServed {
            // A place was promised to us: pass it to the next putter.
            state.promised_slots -= 1;
            state.serve_putters(&mut wake);
        }
        drop(state);
        wake.wake_all();
    }
}

/// The future returned by [`Queue::get`].
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Get<'a, T, O: QueueOrder<T> = Fifo<T>> {
    queue: &'a Queue<T, O>,
    stage: Stage,
}

impl<T, O: QueueOrder<T>> Future for Get<'_, T, O> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        // Out of budget: yield first; whatever was handed to us stays ours until the next poll.
        std::task::ready!(crate::task::coop::poll_budget(cx));
        let queue = self.queue;
        let mut state = lock_state(&queue.state);
        match self.stage {
            Stage::Start if can_get_now(&state) => {}
            Stage::Start => {
                self.stage = Stage::Waiting(state.getters.push(1, Some(cx.waker())));
                if crate::trace::enabled() {
                    queue.label.record(false);
                }
                return Poll::Pending;
            }
            Stage::Waiting(id) => {
                if state.getters.poll(id, cx.waker()).is_pending() {
                    return Poll::Pending;
                }
                if crate::trace::enabled() {
                    queue.label.record(true);
                }
                state.promised_items -= 1; // ours now: we take it below
            }
            Stage::Done => panic!("`Get` polled after it completed"),
        }
        let mut wake = WakeList::new();
        let item = state.pop(&mut wake);
        drop(state);
        self.stage = Stage::Done;
        wake.wake_all();
        Poll::Ready(item)
    }
}

impl<T, O: QueueOrder<T>> Drop for Get<'_, T, O> {
    fn drop(&mut self) {
        let Stage::Waiting(id) = self.stage else {
            return;
        };
        let mut state = lock_state(&self.queue.state);
        let mut wake = WakeList::new();
        if state.getters.remove(id) == Removed::WasServed {
            // An item was promised to us: it is still in the queue; pass the promise on.
            state.promised_items -= 1;
            state.serve_getters(&mut wake);
        }
        drop(state);
        wake.wake_all();
    }
}

/// The future returned by [`Queue::join`].
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Join<'a, T, O: QueueOrder<T> = Fifo<T>> {
    queue: &'a Queue<T, O>,
    stage: Stage,
}

impl<T, O: QueueOrder<T>> Future for Join<'_, T, O> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // Out of budget: yield first; whatever was handed to us stays ours until the next poll.
        std::task::ready!(crate::task::coop::poll_budget(cx));
        let queue = self.queue;
        let mut state = lock_state(&queue.state);
        let poll = match self.stage {
            Stage::Start if state.unfinished == 0 => Poll::Ready(()),
            Stage::Start => {
                self.stage = Stage::Waiting(state.joiners.push(1, Some(cx.waker())));
                if crate::trace::enabled() {
                    queue.label.record(false);
                }
                Poll::Pending
            }
            Stage::Waiting(id) => {
                let poll = state.joiners.poll(id, cx.waker());
                if poll.is_ready() && crate::trace::enabled() {
                    queue.label.record(true);
                }
                poll
            }
            Stage::Done => panic!("`Join` polled after it completed"),
        };
        if poll.is_ready() {
            self.stage = Stage::Done;
        }
        poll
    }
}

impl<T, O: QueueOrder<T>> Drop for Join<'_, T, O> {
    fn drop(&mut self) {
        if let Stage::Waiting(id) = self.stage {
            // Served or not, nothing to hand on: task_done() serves every joiner.
            let _ = lock_state(&self.queue.state).joiners.remove(id);
        }
    }
}
